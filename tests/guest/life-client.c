/*
 * life-client: a /dev/ipmiN client that goes away at a chosen moment, for the lifecycle tests
 * (t-ext-life-*.sh). It prints one line per event so a shell script can check what happened.
 *
 *   life-client send KIND N THEN [MS]
 *       opens $IPMI_DEV, sends N requests of KIND (msgid 1..N), prints "sent N", then THEN:
 *         close        close() the file at once; prints "closed ms=T" (how long close took)
 *         exit         _exit(0) with the file open (the kernel releases it)
 *         hang         prints "ready" and sleeps until killed (SIGKILL from the script)
 *         wait MS      receives the N answers, at most MS in all; one "ans ..." line each, then
 *                      "done answered=A of N max_ms=M"; exits 1 unless all were answered
 *         pollwait MS  one poll() of up to MS, then "woke revents=0x.. ms=T", receives until
 *                      one fails ("recv ..." lines), one send and a close, each printing its rc
 *                      and errno (for device removal); with LIFE_AFTER_FILE=PATH the
 *                      receive, send and close wait until PATH exists
 *         waitfile MS PATH   the same without poll(): waits until PATH exists (an idle file)
 *       KIND: si (Get Device ID to the BMC), ipmb (Get Device ID through Send Message on
 *       channel 0 to the simulator's loopback controller 0x40), ipmb-lost (the same to 0x42,
 *       which never answers), lan (Get Device ID on channel 1, LAN, to SWID 0x81, never
 *       answered), none (sends nothing).
 *       KIND may be a comma list (si,ipmb,lan): request i has the ((i-1) mod n)-th kind.
 *       LIFE_RETRIES / LIFE_TIMEOUT_MS in the environment: send with SEND_COMMAND_SETTIME;
 *       LIFE_HOLD_MS: wait that long after sending, before THEN.
 *   life-client recv CHAN NETFN CMD THEN ['INJECT COMMAND']
 *       registers for NETFN/CMD on channel CHAN, prints "registered", runs the shell command
 *       (e.g. a bmcsim-ctl inject), then THEN:
 *         exit-unread      waits (8 s at most) until the command is queued, exits unread
 *         exit-unanswered  receives it, prints "cmd addr=HEX msgid=N ...", exits unanswered
 *         answer-close     receives it, sends the response, closes at once (its Send Message
 *                          completion still on the way)
 *         answer           receives it, answers, waits for the completion ("rsp: ...")
 *   life-client respond ADDRHEX MSGID NETFN CMD
 *       from a new file, sends the response (cc 0, one byte 0x5a) for a command another process
 *       received (address bytes and msgid as "recv ... exit-unanswered" printed them) and waits
 *       for the completion; prints "rsp: ..."
 *   life-client loop STOPFILE [TIMEOUT_MS]
 *       Get Device ID round trips one after another until STOPFILE exists; prints
 *       "loop n=N fail=F max_ms=M avg_us=A" (F: no answer within TIMEOUT_MS, default 10000,
 *       or a completion code other than 0)
 */
#include "ripmi-test.h"
#include <signal.h>
#include <sys/stat.h>

static int xopen(void)
{
	int fd = rt_open();

	if (fd < 0) {
		printf("open-error %s\n", rt_errname(errno));
		exit(1);
	}
	return fd;
}

/* Sends one request of `kind` with `msgid`; returns the ioctl's rc. */
static int send_kind(int fd, const char *kind, long msgid)
{
	struct ipmi_req req;
	struct ipmi_ipmb_addr ipmb = { .addr_type = IPMI_IPMB_ADDR_TYPE, .channel = 0,
				       .slave_addr = 0x40, .lun = 0 };
	struct ipmi_lan_addr lan = { .addr_type = IPMI_LAN_ADDR_TYPE, .channel = 1,
				     .privilege = 4, .session_handle = 1, .remote_SWID = 0x81,
				     .local_SWID = 0x20, .lun = 0 };

	rt_si_req(&req, msgid, IPMI_NETFN_APP_REQUEST, IPMI_GET_DEVICE_ID_CMD, NULL, 0);
	if (!strcmp(kind, "ipmb") || !strcmp(kind, "ipmb-lost")) {
		if (!strcmp(kind, "ipmb-lost"))
			ipmb.slave_addr = 0x42;
		req.addr = (unsigned char *)&ipmb;
		req.addr_len = sizeof(ipmb);
	} else if (!strcmp(kind, "lan")) {
		req.addr = (unsigned char *)&lan;
		req.addr_len = sizeof(lan);
	} else if (strcmp(kind, "si")) {
		fprintf(stderr, "unknown kind %s\n", kind);
		exit(2);
	}
	if (getenv("LIFE_RETRIES") || getenv("LIFE_TIMEOUT_MS")) {
		struct ipmi_req_settime st = { .req = req,
					       .retries = atoi(getenv("LIFE_RETRIES") ?: "-1"),
					       .retry_time_ms = atoi(getenv("LIFE_TIMEOUT_MS") ?: "0") };
		return ioctl(fd, IPMICTL_SEND_COMMAND_SETTIME, &st);
	}
	return ioctl(fd, IPMICTL_SEND_COMMAND, &req);
}

static void print_ans(const struct rt_recv *rv, long start)
{
	printf("ans msgid=%ld type=%d netfn=%02x cmd=%02x cc=%02x id=%02x len=%u ms=%ld\n",
	       rv->r.msgid, rv->r.recv_type, rv->r.msg.netfn, rv->r.msg.cmd,
	       rv->r.msg.data_len ? rv->data[0] : 0xff, rv->r.msg.data_len > 1 ? rv->data[1] : 0,
	       rv->r.msg.data_len, rt_now_ms() - start);
}

static int do_send(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	const char *kind = argv[2], *then = argv[4];
	int n = atoi(argv[3]);
	long ms = argc > 5 ? atol(argv[5]) : 10000;
	int fd = xopen();
	long start = rt_now_ms();
	int sent = 0;

	char kinds[8][16];
	int nkinds = 0;

	for (const char *k = kind; *k && nkinds < 8; nkinds++) {
		size_t l = strcspn(k, ",");

		snprintf(kinds[nkinds], sizeof(kinds[0]), "%.*s", (int)l, k);
		k += l + (k[l] == ',');
	}
	if (strcmp(kind, "none")) {
		for (int i = 1; i <= n; i++) {
			if (send_kind(fd, kinds[(i - 1) % nkinds], i) < 0) {
				printf("send-error msgid=%d %s\n", i, rt_errname(errno));
				continue;
			}
			sent++;
		}
	}
	printf("sent %d\n", sent);
	fflush(stdout);
	if (getenv("LIFE_HOLD_MS"))
		rt_sleep_ms(atol(getenv("LIFE_HOLD_MS")));

	if (!strcmp(then, "close")) {
		long t = rt_now_ms();
		int rc = close(fd);

		printf("closed rc=%d ms=%ld\n", rc, rt_now_ms() - t);
		return rc ? 1 : 0;
	}
	if (!strcmp(then, "exit"))
		_exit(0);
	if (!strcmp(then, "hang")) {
		printf("ready\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	if (!strcmp(then, "wait")) {
		int answered = 0;
		long max = 0;

		while (answered < sent) {
			long left = start + ms - rt_now_ms();
			struct rt_recv rv;

			if (left <= 0 || rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG_TRUNC, left) < 0) {
				if (errno == ETIMEDOUT || left <= 0)
					break;
				printf("recv-error %s\n", rt_errname(errno));
				break;
			}
			print_ans(&rv, start);
			answered++;
			if (rt_now_ms() - start > max)
				max = rt_now_ms() - start;
		}
		printf("done answered=%d of %d max_ms=%ld\n", answered, sent, max);
		return answered == sent ? 0 : 1;
	}
	if (!strcmp(then, "pollwait") || !strcmp(then, "waitfile")) {
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDNORM };
		struct rt_recv rv;
		int rc;

		printf("polling\n");
		fflush(stdout);
		if (!strcmp(then, "waitfile")) {
			/* An idle file: wait until the file argv[6] exists, without polling the fd. */
			while (argc > 6 && access(argv[6], F_OK) != 0)
				rt_sleep_ms(50);
			rc = poll(&p, 1, 0);
		} else {
			do
				rc = poll(&p, 1, ms);
			while (rc < 0 && errno == EINTR);
		}
		printf("woke rc=%d revents=0x%x ms=%ld\n", rc, rc > 0 ? p.revents : 0,
		       rt_now_ms() - start);
		/*
		 * Whatever is queued; with LIFE_AFTER_FILE, wait until that file exists (the device
		 * is gone) and take what came meanwhile; then the errno of an empty or dead file.
		 */
		const char *after = getenv("LIFE_AFTER_FILE");

		for (int pass = 0; pass < (after ? 2 : 1); pass++) {
			if (pass) {
				for (int i = 0; i < 400 && access(after, F_OK) != 0; i++)
					rt_sleep_ms(50);
			}
			for (int i = 0; i < 8; i++) {
				rc = rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG_TRUNC);
				if (rc < 0)
					break;
				printf("recv rc=0 type=%d msgid=%ld cc=%02x\n", rv.r.recv_type,
				       rv.r.msgid, rv.r.msg.data_len ? rv.data[0] : 0xff);
			}
		}
		if (rc < 0)
			printf("recv rc=%d errno=%s\n", rc, rt_errname(errno));
		rc = send_kind(fd, "si", 99);
		printf("send rc=%d errno=%s\n", rc, rc < 0 ? rt_errname(errno) : "0");
		long t = rt_now_ms();
		rc = close(fd);
		printf("closed rc=%d ms=%ld\n", rc, rt_now_ms() - t);
		return 0;
	}
	fprintf(stderr, "unknown THEN %s\n", then);
	return 2;
}

static void print_cmd(const struct rt_recv *rv)
{
	printf("cmd addr=");
	for (unsigned int i = 0; i < rv->r.addr_len; i++)
		printf("%02x", ((const unsigned char *)&rv->addr)[i]);
	printf(" msgid=%ld type=%d netfn=%02x cmd=%02x data=", rv->r.msgid, rv->r.recv_type,
	       rv->r.msg.netfn, rv->r.msg.cmd);
	for (int i = 0; i < rv->r.msg.data_len; i++)
		printf("%02x", rv->data[i]);
	printf("\n");
	fflush(stdout);
}

/* Sends the response (cc 0, 0x5a) to a command received at addr/msgid. */
static int send_response(int fd, const void *addr, unsigned int addr_len, long msgid, int netfn,
			 int cmd)
{
	unsigned char rsp[2] = { 0x00, 0x5a };
	struct ipmi_req req = { .addr = (unsigned char *)addr, .addr_len = addr_len,
				.msgid = msgid,
				.msg = { .netfn = netfn | 1, .cmd = cmd, .data = rsp,
					 .data_len = 2 } };
	int rc = ioctl(fd, IPMICTL_SEND_COMMAND, &req);

	printf("response rc=%d errno=%s\n", rc, rc < 0 ? rt_errname(errno) : "0");
	fflush(stdout);
	return rc;
}

static int wait_completion(int fd)
{
	struct rt_recv ans;

	if (rt_wait_recv(fd, &ans, IPMICTL_RECEIVE_MSG, 8000) < 0) {
		printf("no completion (%s)\n", rt_errname(errno));
		return 1;
	}
	rt_print_recv("rsp:", &ans, 0);
	return 0;
}

static int do_recv(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	int fd = xopen();
	struct ipmi_cmdspec_chans spec = { .netfn = strtoul(argv[3], NULL, 16),
					   .cmd = strtoul(argv[4], NULL, 16),
					   .chans = 1u << atoi(argv[2]) };
	const char *then = argv[5];
	struct rt_recv rv;

	if (ioctl(fd, IPMICTL_REGISTER_FOR_CMD_CHANS, &spec) < 0) {
		printf("register-error %s\n", rt_errname(errno));
		return 1;
	}
	printf("registered\n");
	fflush(stdout);
	if (argc > 6 && system(argv[6]) != 0)
		printf("inject command failed\n");
	if (!strcmp(then, "exit-unread")) {
		int ev = rt_wait_in(fd, 8000);

		printf("queued revents=0x%x\n", ev);
		fflush(stdout);
		_exit(ev > 0 ? 0 : 1);
	}
	if (rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG, 8000) < 0) {
		printf("no command received (%s)\n", rt_errname(errno));
		return 1;
	}
	print_cmd(&rv);
	if (!strcmp(then, "exit-unanswered"))
		_exit(0);
	if (send_response(fd, &rv.addr, rv.r.addr_len, rv.r.msgid, rv.r.msg.netfn,
			  rv.r.msg.cmd) < 0)
		return 1;
	if (!strcmp(then, "answer-close")) {
		long t = rt_now_ms();
		int rc = close(fd);

		printf("closed rc=%d ms=%ld\n", rc, rt_now_ms() - t);
		return 0;
	}
	return wait_completion(fd);
}

static int do_respond(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	unsigned char addr[sizeof(struct ipmi_addr)];
	const char *hex = argv[2];
	unsigned int len = 0;

	while (hex[0] && hex[1] && len < sizeof(addr)) {
		sscanf(hex, "%2hhx", &addr[len++]);
		hex += 2;
	}
	int fd = xopen();
	if (send_response(fd, addr, len, atol(argv[3]), strtoul(argv[4], NULL, 16),
			  strtoul(argv[5], NULL, 16)) < 0)
		return 1;
	return wait_completion(fd);
}

static int do_loop(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *stop = argv[2];
	int timeout = argc > 3 ? atoi(argv[3]) : 10000;
	int fd = xopen();
	long n = 0, fail = 0, max = 0, total_us = 0;
	struct stat st;

	while (stat(stop, &st) != 0) {
		struct timespec a, b;
		struct rt_recv rv;

		clock_gettime(CLOCK_MONOTONIC, &a);
		if (rt_send_get_device_id(fd, n) < 0) {
			printf("send-error %s\n", rt_errname(errno));
			fail++;
			rt_sleep_ms(100);
			continue;
		}
		int rc = rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG_TRUNC, timeout);
		clock_gettime(CLOCK_MONOTONIC, &b);
		long us = (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000;
		if (rc < 0 || rv.r.msg.data_len < 1 || rv.data[0] != 0) {
			fail++;
			printf("fail n=%ld %s cc=%02x ms=%ld\n", n, rc < 0 ? rt_errname(errno) : "",
			       rc == 0 && rv.r.msg.data_len ? rv.data[0] : 0xff, us / 1000);
			if (rc < 0)
				rt_drain(fd);
		}
		n++;
		total_us += us;
		if (us / 1000 > max)
			max = us / 1000;
	}
	printf("loop n=%ld fail=%ld max_ms=%ld avg_us=%ld\n", n, fail, max, n ? total_us / n : 0);
	return fail ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "send"))
		return do_send(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "recv"))
		return do_recv(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "respond"))
		return do_respond(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "loop"))
		return do_loop(argc, argv);
	fprintf(stderr, "usage: see the comment at the top of life-client.c\n");
	return 2;
}
