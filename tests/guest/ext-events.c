/*
 * ext-events: checks asynchronous event delivery through /dev/ipmi0, printing every field so the
 * C stack and ripmi can be compared. Two events are put in the BMC's event buffer before any
 * user asks for events (the handler must keep them), then the user turns events on and must get
 * both, then one more event arrives while it listens.
 * usage: ext-events
 */
#include <fcntl.h>
#include <linux/ipmi.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int receive_one(int fd, int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, wait_ms) != 1) {
		printf("no event\n");
		return -1;
	}
	struct ipmi_addr addr;
	unsigned char data[IPMI_MAX_MSG_LENGTH];
	struct ipmi_recv rv = { .addr = (unsigned char *)&addr, .addr_len = sizeof(addr),
				.msg = { .data = data, .data_len = sizeof(data) } };
	if (ioctl(fd, IPMICTL_RECEIVE_MSG, &rv) < 0) {
		perror("receive");
		return -1;
	}
	printf("recv_type=%d addr_len=%u msgid=%ld netfn=%02x cmd=%02x data=", rv.recv_type,
	       rv.addr_len, rv.msgid, rv.msg.netfn, rv.msg.cmd);
	for (int i = 0; i < rv.msg.data_len; i++)
		printf("%02x", data[i]);
	printf(" addr=");
	for (unsigned i = 0; i < rv.addr_len; i++)
		printf("%02x", ((unsigned char *)&addr)[i]);
	printf("\n");
	return 0;
}

static int event(const char *bytes)
{
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "bmcsim-ctl event %s >/dev/null", bytes);
	return system(cmd);
}

int main(void)
{
	int fd = open(getenv("IPMI_DEV") ? getenv("IPMI_DEV") : "/dev/ipmi0", O_RDWR);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	/* Before anyone wants events: the handler fetches them and keeps them. The simulator's
	 * buffer holds one event, so wait for the first to be fetched before the second. */
	if (event("01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10") != 0)
		return 1;
	if (system("bmcsim-ctl wait drained 5000 >/dev/null") != 0)
		printf("first event not fetched\n");
	if (event("11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20") != 0)
		return 1;
	if (system("bmcsim-ctl wait drained 5000 >/dev/null") != 0)
		printf("second event not fetched\n");
	int on = 1;
	if (ioctl(fd, IPMICTL_SET_GETS_EVENTS_CMD, &on) < 0) {
		perror("set gets events");
		return 1;
	}
	int rc = receive_one(fd, 5000) | receive_one(fd, 5000);
	if (event("21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30") != 0)
		return 1;
	rc |= receive_one(fd, 5000);
	return rc ? 1 : 0;
}
