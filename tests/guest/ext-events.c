/*
 * ext-events: checks asynchronous event delivery through /dev/ipmi0, printing every field so the
 * C stack and ripmi can be compared. Two events are put in the BMC's event buffer before any
 * user asks for events (the handler must keep them), then the user turns events on and must get
 * both, then one more event arrives while it listens.
 * usage: ext-events
 */
#include "ripmi-test.h"

static int receive_one(int fd, int wait_ms)
{
	struct rt_recv rv;

	if (rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG, wait_ms) < 0) {
		printf("no event (%s)\n", strerror(errno));
		return -1;
	}
	rt_print_recv("event:", &rv, 1);
	return 0;
}

/*
 * Waits (up to 5 s) until the driver has fetched the event from the BMC's one-entry buffer
 * (the simulator's flags lose bit 1), so the next event does not overwrite it. An idle,
 * runtime-suspended ripmi notices the event from its attention watch (250 ms) rather than an
 * interrupt.
 */
static int event_fetched(void)
{
	for (int i = 0; i < 100; i++) {
		FILE *p = popen("bmcsim-ctl stats", "r");
		char buf[512] = "";
		if (p) {
			if (!fgets(buf, sizeof(buf), p))
				buf[0] = 0;
			pclose(p);
		}
		char *f = strstr(buf, " flags=");
		if (f && !(strtoul(f + 7, NULL, 16) & 0x02))
			return 1;
		rt_sleep_ms(50);
	}
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
	int fd = rt_open();
	if (fd < 0) {
		perror("open");
		return 1;
	}
	/* Before anyone wants events: the handler fetches them and keeps them. The simulator's
	 * buffer holds one event, so wait for the first to be fetched before the second. */
	if (event("01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10") != 0)
		return 1;
	if (!event_fetched())
		printf("first event not fetched\n");
	if (event("11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20") != 0)
		return 1;
	if (!event_fetched())
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
