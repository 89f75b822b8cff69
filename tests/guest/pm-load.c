/*
 * pm-load: keeps requests in flight on /dev/ipmi0 and receives injected commands, across
 * system suspends, and checks that nothing is lost or doubled.
 * usage: pm-load OUTSTANDING STOPFILE [NETFN CMD]
 *  - keeps OUTSTANDING requests (each with its own msgid) in flight: Get Device ID, or NETFN/CMD
 *    (hex, no data), so the BMC's per-command counter (bmcsim "count NETFN CMD") tells how often
 *    it executed them (t-ext-fault-pm);
 *  - registers for netfn 0x30 cmd 0x05 on channel 0 and counts each command by its 16-bit serial
 *    (the two data bytes);
 *  - when STOPFILE exists it stops sending, waits for the outstanding answers, reads the number
 *    of injected commands N from STOPFILE, waits for serials 1..N, and prints one summary line:
 *    "sent S answered A bad_cc B dup D unknown U missing M cmds C cmd_dup X cmd_missing Y".
 * Exits 0 only if every request got exactly one answer with cc 0 and every serial arrived once.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/ipmi.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAXREQ 4096
#define MAXSER 4096

static int fd;
static unsigned char inflight[MAXREQ];
static unsigned char seen[MAXSER];
static long sent, answers, bad_cc, dups, unknown, cmds, cmd_dup;
static unsigned char req_netfn = 6, req_cmd = 1;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int send_one(long id)
{
	struct ipmi_system_interface_addr si = { .addr_type = IPMI_SYSTEM_INTERFACE_ADDR_TYPE,
						 .channel = IPMI_BMC_CHANNEL };
	/* msgids go round a ring much larger than the few requests in flight */
	inflight[id % MAXREQ] = 1;
	struct ipmi_req req = { .addr = (unsigned char *)&si, .addr_len = sizeof(si),
				.msgid = id % MAXREQ,
				.msg = { .netfn = req_netfn, .cmd = req_cmd, .data_len = 0 } };
	if (ioctl(fd, IPMICTL_SEND_COMMAND, &req) < 0) {
		perror("send");
		return -1;
	}
	sent++;
	return 0;
}

/* Reads one message if one comes within ms; returns 1 for an answer to a request. */
static int recv_one(int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, ms) != 1)
		return -1;
	struct ipmi_addr addr;
	unsigned char data[IPMI_MAX_MSG_LENGTH];
	struct ipmi_recv rv = { .addr = (unsigned char *)&addr, .addr_len = sizeof(addr),
				.msg = { .data = data, .data_len = sizeof(data) } };
	if (ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, &rv) < 0) {
		perror("receive");
		return -1;
	}
	if (rv.recv_type == IPMI_CMD_RECV_TYPE) {
		cmds++;
		unsigned s = rv.msg.data_len >= 2 ? (data[0] << 8 | data[1]) : 0;
		if (s < MAXSER && seen[s]++)
			cmd_dup++;
		return 0;
	}
	if (rv.recv_type != IPMI_RESPONSE_RECV_TYPE) {
		unknown++;
		return 0;
	}
	if (rv.msgid < 0 || rv.msgid >= MAXREQ) {
		unknown++;
		return 1;
	}
	if (!inflight[rv.msgid]) {
		dups++; /* answered already (or never sent) */
		return 1;
	}
	inflight[rv.msgid] = 0;
	answers++;
	if (rv.msg.data_len < 1 || data[0] != 0)
		bad_cc++;
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 5) {
		fprintf(stderr, "usage: pm-load OUTSTANDING STOPFILE [NETFN CMD]\n");
		return 2;
	}
	if (argc == 5) {
		req_netfn = strtoul(argv[3], NULL, 16);
		req_cmd = strtoul(argv[4], NULL, 16);
	}
	int outstanding = atoi(argv[1]);
	fd = open("/dev/ipmi0", O_RDWR);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	struct ipmi_cmdspec_chans spec = { .netfn = 0x30, .cmd = 0x05, .chans = 1 };
	if (ioctl(fd, IPMICTL_REGISTER_FOR_CMD_CHANS, &spec) < 0) {
		perror("register");
		return 1;
	}
	for (int i = 0; i < outstanding; i++)
		if (send_one(sent))
			return 1;
	while (access(argv[2], F_OK) != 0) {
		if (recv_one(100) == 1 && send_one(sent))
			return 1;
	}
	/* Drain: the outstanding answers, then the commands still on their way. */
	double end = now() + 15;
	while (answers + dups < sent && now() < end)
		recv_one(100);
	long n = 0;
	FILE *f = fopen(argv[2], "r");
	if (!f || fscanf(f, "%ld", &n) != 1)
		n = 0;
	if (f)
		fclose(f);
	long missing_cmds;
	do {
		missing_cmds = 0;
		for (long s = 1; s <= n && s < MAXSER; s++)
			missing_cmds += !seen[s];
	} while (missing_cmds && now() < end && recv_one(200) != -2);
	recv_one(500); /* a late duplicate would show here */
	long missing = 0;
	for (long i = 0; i < MAXREQ; i++)
		missing += inflight[i];
	printf("sent %ld answered %ld bad_cc %ld dup %ld unknown %ld missing %ld cmds %ld cmd_dup %ld cmd_missing %ld\n",
	       sent, answers, bad_cc, dups, unknown, missing, cmds, cmd_dup, missing_cmds);
	return (missing || dups || unknown || bad_cc || cmd_dup || missing_cmds || sent < 2) ? 1 : 0;
}
