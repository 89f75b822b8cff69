/*
 * ext-held: back-pressure on a full receive queue. Registers for netfn 0x30 cmd 0x22 on every
 * channel, lets N commands (data byte 0..N-1) be injected while it reads nothing, then reads
 * everything and prints the data bytes in the order received.
 * usage: ext-held N
 */
#include "ripmi-test.h"

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 8;
	int fd = rt_open();
	if (fd < 0) {
		perror("open");
		return 1;
	}
	struct ipmi_cmdspec spec = { .netfn = 0x30, .cmd = 0x22 };
	if (ioctl(fd, IPMICTL_REGISTER_FOR_CMD, &spec) < 0) {
		perror("register");
		return 1;
	}
	for (int i = 0; i < n; i++) {
		char line[160];
		snprintf(line, sizeof(line), "bmcsim-ctl inject 0 40 30 22 %02x seq=%d >/dev/null", i,
			 i % 64);
		if (system(line) != 0) {
			fprintf(stderr, "inject %d failed\n", i);
			return 1;
		}
	}
	if (system("bmcsim-ctl wait drained 10000 >/dev/null") != 0)
		printf("the BMC's queue did not drain\n");
	printf("got:");
	int got = 0;
	struct rt_recv rv;
	while (rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG, 3000) == 0) {
		printf(" %02x", rv.r.msg.data_len ? rv.data[0] : 0xff);
		got++;
	}
	printf("\ncount: %d\n", got);
	return 0;
}
