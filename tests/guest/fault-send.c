/*
 * fault-send: sends N requests to the BMC through /dev/ipmi0 and waits for their answers,
 * reporting each answer's completion code and delay, and any answer that comes twice; for the
 * misbehaving-BMC and suspend tests (t-ext-fault-*), which check that every request ends exactly
 * once and in bounded time.
 * usage: fault-send [-e] [-n N] [-w WAIT_MS] [-x EXTRA_MS] [-r RESCUE_CMD] [-R RESCUE_MS]
 *                   NETFN CMD [DATA...]
 *   -e  turn events on (IPMICTL_SET_GETS_EVENTS_CMD) before sending; events are counted apart
 *   -n  requests to send at once (msgids 1..N; default 1)
 *   -w  how long to wait for all answers (default 20000 ms)
 *   -x  then how long to keep listening for a duplicate answer (default 1000 ms)
 *   -r  if not all answered within -w: run this shell command (e.g. re-enable the IRQ) and keep
 *       waiting up to -R ms (default 15000) before closing, so that no request is left in flight
 *       when the file closes (that is a test of its own)
 *   -a  afterwards, send a normal Get Device ID on the same file and wait for it as above (-w
 *       10000 then -r), printing "after cc=XX ms=T rescued=0|1" or "after none"
 *   -b  with -a: run this shell command first (e.g. wait for the BMC link to come back)
 * Prints "sent at=MS" (CLOCK_MONOTONIC, ms) once the requests are sent (and logs
 * "fault-send: N request(s) sent" in the kernel log), "answer msgid=K cc=XX
 * ms=T" per answer and a last line
 * "summary sent=N answered=A dup=D unknown=U events=E rescued=R maxms=M ccs=XX,..." and exits 0
 * only if every request got exactly one answer within -w.
 */
#include "ripmi-test.h"

int main(int argc, char **argv)
{
	int events = 0, n = 1, wait_ms = 20000, extra_ms = 1000, rescue_ms = 15000, after = 0, opt;
	const char *rescue = NULL, *before_after = NULL;

	while ((opt = getopt(argc, argv, "ab:en:w:x:r:R:")) != -1) {
		switch (opt) {
		case 'a': after = 1; break;
		case 'b': before_after = optarg; break;
		case 'e': events = 1; break;
		case 'n': n = atoi(optarg); break;
		case 'w': wait_ms = atoi(optarg); break;
		case 'x': extra_ms = atoi(optarg); break;
		case 'r': rescue = optarg; break;
		case 'R': rescue_ms = atoi(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind < 2 || n < 1 || n > 60) {
		fprintf(stderr, "usage: fault-send [-e] [-n N] [-w MS] [-x MS] [-r CMD] [-R MS] NETFN CMD [DATA...]\n");
		return 2;
	}
	unsigned char netfn = strtoul(argv[optind], NULL, 16), cmd = strtoul(argv[optind + 1], NULL, 16);
	unsigned char data[IPMI_MAX_MSG_LENGTH];
	unsigned short len = 0;
	for (int i = optind + 2; i < argc && len < sizeof(data); i++)
		data[len++] = strtoul(argv[i], NULL, 16);
	int fd = rt_open();
	if (fd < 0) {
		perror("open");
		return 1;
	}
	if (events) {
		int on = 1;
		if (ioctl(fd, IPMICTL_SET_GETS_EVENTS_CMD, &on) < 0) {
			perror("set gets events");
			return 1;
		}
	}
	int got[61] = { 0 };
	int answered = 0, dup = 0, unknown = 0, nevents = 0, rescued = 0, rescue_ran = 0;
	long maxms = 0, start = rt_now_ms();
	char ccs[61 * 3 + 1] = "";
	for (int i = 1; i <= n; i++) {
		struct ipmi_req req;
		rt_si_req(&req, i, netfn, cmd, data, len);
		if (ioctl(fd, IPMICTL_SEND_COMMAND, &req) < 0) {
			perror("send");
			return 1;
		}
	}
	printf("sent at=%ld\n", start);
	fflush(stdout);
	/* The same moment in the kernel log, to time it against PM callbacks. */
	int kmsg = open("/dev/kmsg", O_WRONLY);
	if (kmsg >= 0) {
		char line[64];
		int l = snprintf(line, sizeof(line), "fault-send: %d request(s) sent\n", n);
		if (write(kmsg, line, l) < 0)
			perror("kmsg");
		close(kmsg);
	}
	long deadline = start + wait_ms, listen_until = 0;
	for (;;) {
		long now = rt_now_ms();
		if (answered == n && !listen_until)
			listen_until = now + extra_ms;
		long until = listen_until ? listen_until : deadline;
		if (now >= until) {
			if (listen_until)
				break;
			/* Not all answered in time. */
			printf("timeout: %d of %d answered after %ld ms\n", answered, n, now - start);
			if (!rescue || rescue_ran)
				break;
			printf("rescue: %s\n", rescue);
			fflush(stdout);
			if (system(rescue) != 0)
				printf("rescue command failed\n");
			rescue_ran = 1;
			deadline = rt_now_ms() + rescue_ms;
			continue;
		}
		struct rt_recv rv;
		if (rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG_TRUNC, until - now) < 0) {
			if (errno != ETIMEDOUT && errno != EMSGSIZE) {
				perror("receive");
				return 1;
			}
			continue;
		}
		if (rv.r.recv_type == IPMI_ASYNC_EVENT_RECV_TYPE) {
			nevents++;
			continue;
		}
		long ms = rt_now_ms() - start;
		if (rv.r.recv_type != IPMI_RESPONSE_RECV_TYPE || rv.r.msgid < 1 || rv.r.msgid > n) {
			printf("unexpected recv_type=%d msgid=%ld ms=%ld\n", rv.r.recv_type,
			       (long)rv.r.msgid, ms);
			unknown++;
			continue;
		}
		unsigned cc = rv.r.msg.data_len ? rv.data[0] : 0x100;
		printf("answer msgid=%ld cc=%02x ms=%ld%s\n", (long)rv.r.msgid, cc, ms,
		       got[rv.r.msgid] ? " DUPLICATE" : "");
		if (got[rv.r.msgid]++) {
			dup++;
			continue;
		}
		answered++;
		if (rescue_ran)
			rescued++;
		if (ms > maxms)
			maxms = ms;
		snprintf(ccs + strlen(ccs), sizeof(ccs) - strlen(ccs), "%s%02x", *ccs ? "," : "", cc);
	}
	printf("summary sent=%d answered=%d dup=%d unknown=%d events=%d rescued=%d maxms=%ld ccs=%s\n",
	       n, answered, dup, unknown, nevents, rescued, maxms, *ccs ? ccs : "-");
	fflush(stdout);
	int ok = answered == n && !rescued && !dup && !unknown;
	if (after) {
		/* The driver recovered: a normal request on the same file succeeds. */
		struct rt_recv rv;
		long t = rt_now_ms();
		int late = 0, rc = -1;
		if (before_after && system(before_after) != 0)
			printf("command before the Get Device ID failed: %s\n", before_after);
		if (rt_send_get_device_id(fd, 100) < 0) {
			perror("send after");
			return 1;
		}
		for (int round = 0; round < 2 && rc < 0; round++) {
			long end = rt_now_ms() + (round ? rescue_ms : 10000);
			while (rt_now_ms() < end) {
				rc = rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG_TRUNC, end - rt_now_ms());
				if (rc == 0 && rv.r.recv_type == IPMI_RESPONSE_RECV_TYPE && rv.r.msgid == 100)
					break;
				rc = -1;
			}
			if (rc < 0 && !round && rescue) {
				printf("after: no answer in 10000 ms; rescue: %s\n", rescue);
				fflush(stdout);
				if (system(rescue) != 0)
					printf("rescue command failed\n");
				late = 1;
			} else if (rc < 0) {
				break;
			}
		}
		if (rc == 0)
			printf("after cc=%02x ms=%ld rescued=%d\n", rv.r.msg.data_len ? rv.data[0] : 0x100,
			       rt_now_ms() - t, late);
		else
			printf("after none\n");
		ok = ok && rc == 0 && !late && rv.data[0] == 0;
	}
	return ok ? 0 : 1;
}
