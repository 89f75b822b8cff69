/*
 * ext-recv: receives one incoming command through /dev/ipmi0 and answers it, printing every
 * field so that runs on the C stack and on ripmi can be compared byte for byte.
 * usage: ext-recv CHAN NETFN CMD SRC SEQ      (injects the command with bmcsim-ctl itself)
 * Registers with IPMICTL_REGISTER_FOR_CMD_CHANS for channel CHAN only.
 */
#include "ripmi-test.h"

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: ext-recv CHAN NETFN CMD SRC SEQ\n");
		return 2;
	}
	int fd = rt_open();
	if (fd < 0) {
		perror("open");
		return 1;
	}
	struct ipmi_cmdspec_chans spec = { .netfn = strtoul(argv[2], NULL, 16),
					   .cmd = strtoul(argv[3], NULL, 16),
					   .chans = 1u << strtoul(argv[1], NULL, 0) };
	if (ioctl(fd, IPMICTL_REGISTER_FOR_CMD_CHANS, &spec) < 0) {
		perror("register");
		return 1;
	}
	char line[256];
	snprintf(line, sizeof(line), "bmcsim-ctl inject %s %s %s %s aa bb seq=%s >/dev/null",
		 argv[1], argv[4], argv[2], argv[3], argv[5]);
	if (system(line) != 0) {
		fprintf(stderr, "inject failed\n");
		return 1;
	}
	struct rt_recv rv;
	if (rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG, 8000) < 0) {
		printf("no command received (%s)\n", strerror(errno));
		return 1;
	}
	rt_print_recv("cmd:", &rv, 1);

	/* Answer it: the response netfn, the received address and msgid, cc 0 and one byte. */
	unsigned char rsp[2] = { 0x00, 0x5a };
	struct ipmi_req req = { .addr = (unsigned char *)&rv.addr, .addr_len = rv.r.addr_len,
				.msgid = rv.r.msgid,
				.msg = { .netfn = rv.r.msg.netfn | 1, .cmd = rv.r.msg.cmd, .data = rsp,
					 .data_len = 2 } };
	if (ioctl(fd, IPMICTL_SEND_COMMAND, &req) < 0) {
		perror("send response");
		return 1;
	}
	struct rt_recv ans;
	if (rt_wait_recv(fd, &ans, IPMICTL_RECEIVE_MSG, 8000) < 0) {
		printf("no answer to the response (%s)\n", strerror(errno));
		return 1;
	}
	rt_print_recv("rsp:", &ans, 0);
	return 0;
}
