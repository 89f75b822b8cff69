/*
 * ext-recv: receives one incoming command through /dev/ipmi0 and answers it, printing every
 * field so that runs on the C stack and on ripmi can be compared byte for byte.
 * usage: ext-recv CHAN NETFN CMD SRC SEQ      (injects the command with bmcsim-ctl itself)
 * Registers with IPMICTL_REGISTER_FOR_CMD_CHANS for channel CHAN only.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/ipmi.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int wait_msg(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 8000) == 1;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: ext-recv CHAN NETFN CMD SRC SEQ\n");
		return 2;
	}
	unsigned chan = strtoul(argv[1], NULL, 0), netfn = strtoul(argv[2], NULL, 16),
		 cmd = strtoul(argv[3], NULL, 16);
	int fd = open(getenv("IPMI_DEV") ? getenv("IPMI_DEV") : "/dev/ipmi0", O_RDWR);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	struct ipmi_cmdspec_chans spec = { .netfn = netfn, .cmd = cmd, .chans = 1u << chan };
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
	if (!wait_msg(fd)) {
		printf("no command received\n");
		return 1;
	}
	struct ipmi_addr addr;
	unsigned char data[IPMI_MAX_MSG_LENGTH];
	struct ipmi_recv rv = { .addr = (unsigned char *)&addr, .addr_len = sizeof(addr),
				.msg = { .data = data, .data_len = sizeof(data) } };
	memset(&addr, 0xee, sizeof(addr));
	if (ioctl(fd, IPMICTL_RECEIVE_MSG, &rv) < 0) {
		perror("receive");
		return 1;
	}
	printf("cmd: recv_type=%d addr_len=%u msgid=%ld netfn=%02x cmd=%02x data=", rv.recv_type,
	       rv.addr_len, rv.msgid, rv.msg.netfn, rv.msg.cmd);
	for (int i = 0; i < rv.msg.data_len; i++)
		printf("%02x", data[i]);
	printf(" addr=");
	for (unsigned i = 0; i < rv.addr_len; i++)
		printf("%02x", ((unsigned char *)&addr)[i]);
	printf("\n");

	/* Answer it: the response netfn, the received address and msgid, cc 0 and one byte. */
	unsigned char rsp[2] = { 0x00, 0x5a };
	struct ipmi_req req = { .addr = (unsigned char *)&addr, .addr_len = rv.addr_len,
				.msgid = rv.msgid,
				.msg = { .netfn = rv.msg.netfn | 1, .cmd = rv.msg.cmd, .data = rsp,
					 .data_len = 2 } };
	if (ioctl(fd, IPMICTL_SEND_COMMAND, &req) < 0) {
		perror("send response");
		return 1;
	}
	if (!wait_msg(fd)) {
		printf("no answer to the response\n");
		return 1;
	}
	rv.addr_len = sizeof(addr);
	rv.msg.data_len = sizeof(data);
	if (ioctl(fd, IPMICTL_RECEIVE_MSG, &rv) < 0) {
		perror("receive answer");
		return 1;
	}
	printf("rsp: recv_type=%d msgid=%ld netfn=%02x cmd=%02x data=", rv.recv_type, rv.msgid,
	       rv.msg.netfn, rv.msg.cmd);
	for (int i = 0; i < rv.msg.data_len; i++)
		printf("%02x", data[i]);
	printf("\n");
	return 0;
}
