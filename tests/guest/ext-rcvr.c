/*
 * ext-rcvr: per-channel command receivers, driven against ripmi's BMC simulator; prints
 * results as text so that runs on the C stack and on ripmi can be compared (t-ext-rcvr.sh).
 *   ext-rcvr rules    the registration rules (EBUSY, partial unregister, ENOENT, legacy ~0,
 *                     the zombie quirk, chans 0, cleanup on close) with routing checks
 *   ext-rcvr route    a routing matrix: several users on different channel sets, a command
 *                     injected on each of the 16 channels; prints who got what
 *   ext-rcvr stress SECONDS THREADS   one process of the stress run: THREADS threads, each
 *                     with its own file, register and unregister random (cmd, mask) of netfn
 *                     0x30 and drain what they receive; prints "got ID CHAN CMD" per command
 *                     and "bad ..." for a command it was not registered for
 * Injection uses bmcsim-ctl; all channels must be IPMB or LAN (t-ext-rcvr.sh sets the media).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/ipmi.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static const char *dev(void)
{
	return getenv("IPMI_DEV") ? getenv("IPMI_DEV") : "/dev/ipmi0";
}

static int xopen(void)
{
	int fd = open(dev(), O_RDWR);
	if (fd < 0) {
		perror("open");
		exit(1);
	}
	return fd;
}

static const char *err(int rc)
{
	return rc == 0 ? "0" : errno == EBUSY ? "EBUSY" : errno == ENOENT ? "ENOENT" : strerror(errno);
}

static int reg(int fd, int netfn, int cmd, unsigned chans)
{
	struct ipmi_cmdspec_chans s = { .netfn = netfn, .cmd = cmd, .chans = chans };
	return ioctl(fd, IPMICTL_REGISTER_FOR_CMD_CHANS, &s);
}

static int unreg(int fd, int netfn, int cmd, unsigned chans)
{
	struct ipmi_cmdspec_chans s = { .netfn = netfn, .cmd = cmd, .chans = chans };
	return ioctl(fd, IPMICTL_UNREGISTER_FOR_CMD_CHANS, &s);
}

static int reg_legacy(int fd, int netfn, int cmd)
{
	struct ipmi_cmdspec s = { .netfn = netfn, .cmd = cmd };
	return ioctl(fd, IPMICTL_REGISTER_FOR_CMD, &s);
}

static int unreg_legacy(int fd, int netfn, int cmd)
{
	struct ipmi_cmdspec s = { .netfn = netfn, .cmd = cmd };
	return ioctl(fd, IPMICTL_UNREGISTER_FOR_CMD, &s);
}

/* Injects netfn/cmd on chan with two data bytes (the channel and a tag). */
static void inject(int chan, int netfn, int cmd, int tag)
{
	char line[160];
	snprintf(line, sizeof(line), "bmcsim-ctl inject %d %s %x %x %02x %02x seq=%d >/dev/null",
		 chan, chan & 1 ? "81" : "40", netfn, cmd, chan, tag & 0xff, tag % 64);
	if (system(line) != 0)
		fprintf(stderr, "inject failed: %s\n", line);
}

/* Receives everything fd has within ms; prints "NAME chan=C netfn cmd data" per command. */
static int drain(int fd, const char *name, int ms)
{
	int n = 0;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, ms) != 1)
			return n;
		struct ipmi_addr addr;
		unsigned char data[IPMI_MAX_MSG_LENGTH];
		struct ipmi_recv rv = { .addr = (unsigned char *)&addr, .addr_len = sizeof(addr),
					.msg = { .data = data, .data_len = sizeof(data) } };
		if (ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, &rv) < 0)
			return n;
		printf("%s type=%d chan=%d netfn=%02x cmd=%02x data=", name, rv.recv_type,
		       addr.channel, rv.msg.netfn, rv.msg.cmd);
		for (int i = 0; i < rv.msg.data_len; i++)
			printf("%02x", data[i]);
		printf("\n");
		n++;
	}
}

#define R(label, expr) printf("%-44s %s\n", label, err(expr))

/* Sends one request so that the C stack's kipmid (no IRQ) catches up on its receive queue. */
static void nudge(void)
{
	if (system("ext-send 06 01 5000 >/dev/null 2>&1 || true") < 0)
		perror("system");
}

static int rules(void)
{
	int a = xopen(), b = xopen();
	R("A reg 30/1 0x6", reg(a, 0x30, 1, 0x6));
	R("B reg 30/1 0x4 (overlap other)", reg(b, 0x30, 1, 0x4));
	R("A reg 30/1 0x2 (overlap own)", reg(a, 0x30, 1, 0x2));
	R("A reg 30/1 0x8 (adjacent)", reg(a, 0x30, 1, 0x8));
	R("B reg 30/1 0x10000 (high bit)", reg(b, 0x30, 1, 0x10000));
	R("B reg 30/1 0x10001 (high bit overlap)", reg(b, 0x30, 1, 0x10001));
	R("A legacy reg 30/1", reg_legacy(a, 0x30, 1));
	R("B unreg 30/1 0x2 (not B's)", unreg(b, 0x30, 1, 0x2));
	R("A unreg 30/1 0x2 (partial)", unreg(a, 0x30, 1, 0x2));
	R("A unreg 30/1 0x2 (again)", unreg(a, 0x30, 1, 0x2));
	R("A unreg 30/1 0x1 (never)", unreg(a, 0x30, 1, 0x1));
	R("B reg 30/1 0x2 (freed by partial)", reg(b, 0x30, 1, 0x2));
	R("A unreg 30/99 0x1 (nothing)", unreg(a, 0x30, 0x99, 0x1));
	R("A legacy reg 30/2", reg_legacy(a, 0x30, 2));
	R("B reg 30/2 0x1 (legacy covers all)", reg(b, 0x30, 2, 0x1));
	R("A unreg 30/2 0xffff (zombie)", unreg(a, 0x30, 2, 0xffff));
	R("A legacy reg 30/2 (zombie busy)", reg_legacy(a, 0x30, 2));
	R("B reg 30/2 0x1 (zombie frees chans)", reg(b, 0x30, 2, 0x1));
	R("A legacy unreg 30/2 (zombie unreachable)", unreg_legacy(a, 0x30, 2));
	R("B reg 30/2 0x80000000 (zombie bits)", reg(b, 0x30, 2, 0x80000000));
	R("A reg 30/3 0 (empty mask)", reg(a, 0x30, 3, 0));
	R("A reg 30/3 0 (empty mask again)", reg(a, 0x30, 3, 0));
	R("A unreg 30/3 0x1 (empty mask)", unreg(a, 0x30, 3, 0x1));
	R("A unreg 30/3 0 (empty unreg)", unreg(a, 0x30, 3, 0));
	R("B reg 30/3 0xffff", reg(b, 0x30, 3, 0xffff));
	R("A reg 0xc0/1 0x1 (netfn > 63)", reg(a, 0xc0, 1, 0x1));
	R("B reg 0xc0/1 0x1 (netfn > 63)", reg(b, 0xc0, 1, 0x1));
	R("A unreg 0xc0/1 0x1 (netfn > 63)", unreg(a, 0xc0, 1, 0x1));
	/* Routing of what is left: 30/1 A{2,3} B{1}; 30/2 B{0}; 30/3 B{0-15}. */
	for (int chan = 0; chan < 4; chan++)
		inject(chan, 0x30, 1, 0x10 + chan);
	inject(0, 0x30, 2, 0x20);
	inject(1, 0x30, 2, 0x21);
	inject(7, 0x30, 3, 0x30);
	nudge();
	drain(a, "A", 1500);
	drain(b, "B", 300);
	/* Close A: its receivers go, zombie included. */
	close(a);
	int c = xopen();
	R("C legacy reg 30/2 after close (B has 0x1)", reg_legacy(c, 0x30, 2));
	R("C reg 30/2 0xfffe0000 after close", reg(c, 0x30, 2, 0xfffe0000));
	R("C reg 30/1 0xc after close", reg(c, 0x30, 1, 0xc));
	inject(3, 0x30, 1, 0x40);
	nudge();
	drain(c, "C", 1500);
	drain(b, "B", 300);
	return 0;
}

static int route(void)
{
	int u[4];
	for (int i = 0; i < 4; i++)
		u[i] = xopen();
	R("u0 reg 30/10 0x000f", reg(u[0], 0x30, 0x10, 0x000f));
	R("u1 reg 30/10 0x00f0", reg(u[1], 0x30, 0x10, 0x00f0));
	R("u2 reg 30/10 0x1f00", reg(u[2], 0x30, 0x10, 0x1f00));
	R("u2 unreg 30/10 0x1000", unreg(u[2], 0x30, 0x10, 0x1000));
	R("u0 reg 30/10 0x2000", reg(u[0], 0x30, 0x10, 0x2000));
	R("u3 legacy reg 30/11", reg_legacy(u[3], 0x30, 0x11));
	R("u1 reg 30/12 0x5555", reg(u[1], 0x30, 0x12, 0x5555));
	R("u2 reg 30/12 0xaaaa", reg(u[2], 0x30, 0x12, 0xaaaa));
	R("u3 reg 2e/10 0x8001", reg(u[3], 0x2e, 0x10, 0x8001));
	for (int chan = 0; chan < 16; chan++) {
		inject(chan, 0x30, 0x10, 1);
		inject(chan, 0x30, 0x11, 2);
		inject(chan, 0x30, 0x12, 3);
		inject(chan, 0x2e, 0x10, 4);
	}
	nudge();
	const char *names[] = { "u0", "u1", "u2", "u3" };
	for (int i = 0; i < 4; i++)
		drain(u[i], names[i], i == 0 ? 2000 : 300);
	return 0;
}

/* The stress worker. */
static int stress_secs;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static long bad_count;

struct held {
	unsigned masks[8]; /* every channel bit this file ever held, per cmd */
};

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(long)arg * 7919u + (unsigned)getpid();
	int fd = xopen();
	struct held h;
	memset(&h, 0, sizeof(h));
	time_t end = time(NULL) + stress_secs;
	unsigned cur_mask = 0;
	int cur_cmd = -1;
	char buf[64 * 1024];
	size_t len = 0;
	while (1) {
		int done = time(NULL) >= end || access("/tmp/ext-rcvr-stop", F_OK) == 0;
		if (!done && cur_cmd < 0) {
			int cmd = rand_r(&seed) % 8;
			unsigned mask = (unsigned)rand_r(&seed) & 0xffff;
			mask &= (unsigned)rand_r(&seed); /* fewer bits: more successes */
			if (reg(fd, 0x30, cmd, mask) == 0 && mask) {
				cur_cmd = cmd;
				cur_mask = mask;
				h.masks[cmd] |= mask;
			} else if (errno != EBUSY && mask) {
				fprintf(stderr, "register: %s\n", strerror(errno));
			}
		} else if (cur_cmd >= 0 && (done || rand_r(&seed) % 16 == 0)) {
			/* Sometimes partially first. */
			unsigned part = cur_mask & (unsigned)rand_r(&seed);
			if (part && part != cur_mask) {
				if (unreg(fd, 0x30, cur_cmd, part) != 0)
					fprintf(stderr, "partial unregister: %s\n", strerror(errno));
				cur_mask &= ~part;
			}
			if (unreg(fd, 0x30, cur_cmd, cur_mask) != 0)
				fprintf(stderr, "unregister: %s\n", strerror(errno));
			cur_cmd = -1;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int wait = done ? 1500 : rand_r(&seed) % 5;
		while (poll(&p, 1, wait) == 1) {
			struct ipmi_addr addr;
			unsigned char data[IPMI_MAX_MSG_LENGTH];
			struct ipmi_recv rv = { .addr = (unsigned char *)&addr,
						.addr_len = sizeof(addr),
						.msg = { .data = data, .data_len = sizeof(data) } };
			if (ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, &rv) < 0)
				break;
			int id = rv.msg.data_len >= 2 ? data[0] << 8 | data[1] : -1;
			int ok = rv.recv_type == IPMI_CMD_RECV_TYPE && rv.msg.netfn == 0x30 &&
				 rv.msg.cmd < 8 && (h.masks[rv.msg.cmd] >> addr.channel & 1);
			if (len + 64 < sizeof(buf))
				len += snprintf(buf + len, sizeof(buf) - len, "%s %d %d %d\n",
						ok ? "got" : "bad", id, addr.channel, rv.msg.cmd);
			if (!ok) {
				pthread_mutex_lock(&out_lock);
				bad_count++;
				pthread_mutex_unlock(&out_lock);
			}
			wait = done ? 300 : 0;
		}
		if (done && cur_cmd < 0)
			break;
	}
	pthread_mutex_lock(&out_lock);
	fwrite(buf, 1, len, stdout);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
	close(fd);
	return NULL;
}

static int stress(int secs, int threads)
{
	pthread_t t[64];
	stress_secs = secs;
	if (threads > 64)
		threads = 64;
	for (long i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return bad_count != 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "rules"))
		return rules();
	if (argc >= 2 && !strcmp(argv[1], "route"))
		return route();
	if (argc == 4 && !strcmp(argv[1], "stress"))
		return stress(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: ext-rcvr rules|route|stress SECONDS THREADS\n");
	return 2;
}
