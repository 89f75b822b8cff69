/*
 * ext-send: sends one request to the BMC through /dev/ipmi0 and waits for its answer, printing
 * the completion code and how long it took; for checking that no request outlives its timeout.
 * usage: ext-send NETFN CMD [WAIT_MS]
 */
#include <fcntl.h>
#include <linux/ipmi.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: ext-send NETFN CMD [WAIT_MS]\n");
		return 2;
	}
	int wait_ms = argc > 3 ? atoi(argv[3]) : 60000;
	int fd = open(getenv("IPMI_DEV") ? getenv("IPMI_DEV") : "/dev/ipmi0", O_RDWR);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	struct ipmi_system_interface_addr si = { .addr_type = IPMI_SYSTEM_INTERFACE_ADDR_TYPE,
						 .channel = IPMI_BMC_CHANNEL };
	struct ipmi_req req = { .addr = (unsigned char *)&si, .addr_len = sizeof(si), .msgid = 1,
				.msg = { .netfn = strtoul(argv[1], NULL, 16),
					 .cmd = strtoul(argv[2], NULL, 16) } };
	long start = now_ms();
	if (ioctl(fd, IPMICTL_SEND_COMMAND, &req) < 0) {
		perror("send");
		return 1;
	}
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, wait_ms) != 1) {
		printf("no answer after %ld ms\n", now_ms() - start);
		return 1;
	}
	struct ipmi_addr addr;
	unsigned char data[IPMI_MAX_MSG_LENGTH];
	struct ipmi_recv rv = { .addr = (unsigned char *)&addr, .addr_len = sizeof(addr),
				.msg = { .data = data, .data_len = sizeof(data) } };
	if (ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, &rv) < 0) {
		perror("receive");
		return 1;
	}
	printf("cc=%02x ms=%ld\n", rv.msg.data_len ? data[0] : 0xff, now_ms() - start);
	return 0;
}
