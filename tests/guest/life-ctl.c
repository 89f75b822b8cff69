/*
 * life-ctl: talks to ripmi's BMC simulator over its control port ($BMCSIM_TTY, default
 * /dev/ttyS2) for the lifecycle tests (t-ext-life-*.sh), in one process where bmcsim-ctl would
 * need several (process creation is slow in the debug VM):
 *   life-ctl counts    prints "gdi=A sm=B ch0=C ch1=D": the Get Device ID and Send Message
 *                      counts, and the Send Messages recorded per channel since the last clear
 *   life-ctl stats     prints the key=value words of the simulator's 'stats' answer
 *   life-ctl flood N [CHAN] [SRC] [NETFN] [CMD]   (default: channel 0, from 0x40, 30/05)
 * flood injects N incoming commands as fast as the control link allows: it keeps the port open
 * and pipelines WINDOW commands, retrying those refused because the simulator's receive queue is
 * full (1024 messages). Every STATS_EVERY commands it also asks for the simulator's counters
 * and reads ripmi's debugfs drop counters (if ripmi is loaded) and follows
 * backlog = delivered - sent - dropped since the start: commands the host fetched with Get
 * Message and neither answered through Send Message nor counted as dropped yet, i.e. what the
 * driver holds. Prints
 *   "flood injected=N refused=R secs=S max_queued=Q max_backlog=B"
 * Nobody else may use the control port meanwhile (answers are matched in order).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define WINDOW 16
/* A stats sample every this many inject lines (of FLOOD_BATCH messages each). */
#define STATS_EVERY 4
#define FLOOD_BATCH 50

static int fd;
static char buf[4096];
static size_t have;

/* Reads one line (without the newline) into out; returns 0, or -1 on EOF/error. */
static int read_line(char *out, size_t len)
{
	for (;;) {
		char *nl = memchr(buf, '\n', have);

		if (nl) {
			size_t n = nl - buf;

			if (n >= len)
				n = len - 1;
			memcpy(out, buf, n);
			out[n] = 0;
			if (n && out[n - 1] == '\r')
				out[n - 1] = 0;
			have -= nl + 1 - buf;
			memmove(buf, nl + 1, have);
			return 0;
		}
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);

		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		have += r;
	}
}

/* ripmi's counted drops of incoming commands (unhandled_dropped + dropped), 0 without ripmi. */
static long ripmi_dropped(void)
{
	FILE *f = fopen("/sys/kernel/debug/ripmi-ipmi0/stats", "r");
	char l[128];
	long n = 0;

	if (!f)
		return 0;
	while (fgets(l, sizeof(l), f)) {
		if (!strncmp(l, "unhandled_dropped ", 18))
			n += atol(l + 18);
		else if (!strncmp(l, "dropped ", 8))
			n += atol(l + 8);
	}
	fclose(f);
	return n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void xwrite(const char *s, size_t len)
{
	if (write(fd, s, len) != (ssize_t)len) {
		perror("write");
		exit(1);
	}
}

/* Data lines of the last command, counted by their first number (the channel, for 'sent'). */
static long per_chan[16];

/* Sends one command; returns 0 (ok) or 1 (err) with the status line in ans, -1 on EOF. */
static int command(const char *cmd, char *ans, size_t len)
{
	char l[128];
	int n = snprintf(l, sizeof(l), "%s\n", cmd);

	xwrite(l, n);
	memset(per_chan, 0, sizeof(per_chan));
	for (;;) {
		if (read_line(ans, len) < 0)
			return -1;
		if (!strncmp(ans, "ok", 2))
			return 0;
		if (!strncmp(ans, "err", 3))
			return 1;
		unsigned long c = strtoul(ans, NULL, 10);

		if (c < 16)
			per_chan[c]++;
	}
}

static int counts(void)
{
	char a[512];
	long gdi, sm;

	if (command("count 6 1", a, sizeof(a)))
		return 1;
	gdi = atol(a + 2);
	if (command("count 6 34", a, sizeof(a)))
		return 1;
	sm = atol(a + 2);
	if (command("sent", a, sizeof(a)))
		return 1;
	printf("gdi=%ld sm=%ld ch0=%ld ch1=%ld\n", gdi, sm, per_chan[0], per_chan[1]);
	return 0;
}

static int flood(int argc, char **argv);

int main(int argc, char **argv)
{
	const char *tty = getenv("BMCSIM_TTY") ? getenv("BMCSIM_TTY") : "/dev/ttyS2";
	struct termios t;

	if (argc < 2) {
		fprintf(stderr, "usage: life-ctl counts | stats | flood N [CHAN] [SRC] [NETFN] [CMD]\n");
		return 2;
	}
	fd = open(tty, O_RDWR | O_NOCTTY);
	if (fd < 0 || tcgetattr(fd, &t) < 0) {
		perror(tty);
		return 2;
	}
	cfmakeraw(&t);
	cfsetspeed(&t, B115200);
	if (tcsetattr(fd, TCSANOW, &t) < 0) {
		perror("tcsetattr");
		return 2;
	}
	if (!strcmp(argv[1], "counts"))
		return counts();
	if (!strcmp(argv[1], "stats")) {
		char a[512];

		if (command("stats", a, sizeof(a)))
			return 1;
		printf("%s\n", a + 3);
		return 0;
	}
	if (!strcmp(argv[1], "flood") && argc > 2)
		return flood(argc - 1, argv + 1);
	fprintf(stderr, "life-ctl: unknown command %s\n", argv[1]);
	return 2;
}

static int flood(int argc, char **argv)
{
	long n = atol(argv[1]);
	const char *chan = argc > 2 ? argv[2] : "0", *src = argc > 3 ? argv[3] : "40";
	const char *netfn = argc > 4 ? argv[4] : "30", *cmd = argc > 5 ? argv[5] : "5";
	char line[160], ans[512];
	long ok = 0, refused = 0, max_queued = 0, base = 0, max_backlog = 0;
	long injects_out = 0, since_stats = STATS_EVERY;
	/* Messages per inject line (the simulator's count=), so 20,000 take seconds. */
	long batch[WINDOW + 1];
	int have_base = 0;
	/* What each outstanding line was, oldest first: 'i' inject, 's' stats. */
	char kinds[WINDOW + 1];
	int head = 0, tail = 0, outstanding = 0;
	double start = now();

	for (;;) {
		while (outstanding < WINDOW) {
			if (since_stats >= STATS_EVERY) {
				xwrite("stats\n", 6);
				since_stats = 0;
				kinds[tail] = 's';
			} else if (ok + injects_out < n) {
				long c = n - ok - injects_out < FLOOD_BATCH ? n - ok - injects_out : FLOOD_BATCH;
				int len = snprintf(line, sizeof(line), "inject %s %s %s %s 01 02 count=%ld\n",
						   chan, src, netfn, cmd, c);

				xwrite(line, len);
				since_stats++;
				injects_out += c;
				batch[tail] = c;
				kinds[tail] = 'i';
			} else {
				break;
			}
			tail = (tail + 1) % (WINDOW + 1);
			outstanding++;
		}
		if (!outstanding)
			break;
		if (read_line(ans, sizeof(ans)) < 0) {
			fprintf(stderr, "control port closed\n");
			return 1;
		}
		int is_ok = !strncmp(ans, "ok", 2), is_err = !strncmp(ans, "err", 3);

		if (!is_ok && !is_err)
			continue; /* a data line: none of our commands prints any */
		char kind = kinds[head];
		long c = batch[head];

		head = (head + 1) % (WINDOW + 1);
		outstanding--;
		if (kind == 's') {
			char *d = strstr(ans, " delivered="), *s = strstr(ans, " sent=");
			long v = d && s ? atol(d + 11) - atol(s + 6) - ripmi_dropped() : 0;

			if (!have_base) {
				base = v;
				have_base = 1;
			} else if (v - base > max_backlog) {
				max_backlog = v - base;
			}
			continue;
		}
		injects_out -= c;
		if (is_ok) {
			char *q = strstr(ans, "queued=");
			long v = q ? atol(q + 7) : 0;

			if (v > max_queued)
				max_queued = v;
			ok += c;
			if (ok == n)
				since_stats = STATS_EVERY; /* one last sample */
		} else {
			if (!strstr(ans, "full")) {
				fprintf(stderr, "inject refused: %s\n", ans);
				return 1;
			}
			refused += c;
			usleep(2000);
		}
	}
	printf("flood injected=%ld refused=%ld secs=%.1f max_queued=%ld max_backlog=%ld\n", ok,
	       refused, now() - start, max_queued, max_backlog);
	return 0;
}
