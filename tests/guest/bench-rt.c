// SPDX-License-Identifier: GPL-2.0
/*
 * bench-rt: Get Device ID round-trip benchmark for /dev/ipmiN (a measurement, not a test).
 *
 * usage: bench-rt DEVICE ITERATIONS WARMUP [LABEL [MAX_SECONDS]]
 *
 * Each round trip is SEND_COMMAND (App 0x06/0x01 to the system interface), poll() for POLLIN,
 * RECEIVE_MSG_TRUNC: what ipmitool does per request. WARMUP round trips run first and are not
 * measured. With MAX_SECONDS > 0 the warm-up and the measured run each stop after that many
 * seconds even if they have not reached their count (for slow, polled stacks); n then says how
 * many were measured. Prints exactly one line:
 *   BENCH-RT ok label=L dev=D n=N rate=R p50_us=A p99_us=B mean_us=M cpu_us_per_rt=C
 *            cpus=K wall_s=W cpu_pct=P wake_s=I loc_s=T tmr_s=S ctxt_s=X
 * where rate is round trips per second over the measured run, p50/p99 are per-round-trip
 * latencies, and cpu_us_per_rt is the guest's busy CPU time (all CPUs, from /proc/stat:
 * busy = total - idle - iowait, guest/guest_nice excluded as they are already in user/nice)
 * over the run, divided by N. cpu_pct .. ctxt_s are the whole guest's counters over the run
 * (bench-stat.h): busy CPU in % of all CPUs, interrupts (wake-ups), local timer interrupts,
 * timer softirqs and context switches per second. On any failure it prints
 *   BENCH-RT error label=L dev=D what=WORD: detail
 * and exits 1; scripts/bench recognises both forms.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/ipmi.h>

#include "bench-stat.h"

static const char *label = "-", *dev;

static void die(const char *what, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
static void die(const char *what, const char *fmt, ...)
{
	va_list ap;

	printf("BENCH-RT error label=%s dev=%s what=%s: ", label, dev, what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void round_trip(int fd, long id)
{
	static struct ipmi_system_interface_addr si = {
		.addr_type = IPMI_SYSTEM_INTERFACE_ADDR_TYPE, .channel = IPMI_BMC_CHANNEL, .lun = 0 };
	struct ipmi_addr addr;
	unsigned char data[IPMI_MAX_MSG_LENGTH];
	struct ipmi_req req;
	struct ipmi_recv rv;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int rc;

	memset(&req, 0, sizeof(req));
	req.addr = (unsigned char *)&si;
	req.addr_len = sizeof(si);
	req.msgid = id;
	req.msg.netfn = IPMI_NETFN_APP_REQUEST;
	req.msg.cmd = IPMI_GET_DEVICE_ID_CMD;
	if (ioctl(fd, IPMICTL_SEND_COMMAND, &req) < 0)
		die("send", "round trip %ld: %s", id, strerror(errno));
	do
		rc = poll(&p, 1, 10000);
	while (rc < 0 && errno == EINTR);
	if (rc <= 0)
		die("poll", "round trip %ld: %s", id, rc == 0 ? "no response within 10 s" : strerror(errno));
	memset(&rv, 0, sizeof(rv));
	rv.addr = (unsigned char *)&addr;
	rv.addr_len = sizeof(addr);
	rv.msg.data = data;
	rv.msg.data_len = sizeof(data);
	if (ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, &rv) < 0)
		die("receive", "round trip %ld: %s", id, strerror(errno));
	if (rv.msgid != id || rv.msg.netfn != IPMI_NETFN_APP_RESPONSE || rv.msg.data_len < 1 || data[0])
		die("response", "round trip %ld: msgid %ld netfn 0x%x len %u cc 0x%02x", id,
		    (long)rv.msgid, rv.msg.netfn, rv.msg.data_len, rv.msg.data_len ? data[0] : 0);
}

int main(int argc, char **argv)
{
	struct bench_snap s0, s1;
	const char *why;
	double *lat, t0, t1, sum = 0, max_us = 0;
	long n, warm, i;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 4 || argc > 6) {
		fprintf(stderr, "usage: bench-rt DEVICE ITERATIONS WARMUP [LABEL [MAX_SECONDS]]\n");
		return 2;
	}
	dev = argv[1];
	n = atol(argv[2]);
	warm = atol(argv[3]);
	if (argc >= 5)
		label = argv[4];
	if (argc == 6)
		max_us = atof(argv[5]) * 1e6;
	if (n < 1 || warm < 0 || max_us < 0)
		die("usage", "ITERATIONS must be >= 1, WARMUP and MAX_SECONDS >= 0");
	lat = calloc(n, sizeof(*lat));
	if (!lat)
		die("alloc", "out of memory");
	fd = open(dev, O_RDWR);
	if (fd < 0)
		die("open", "%s", strerror(errno));
	t0 = bench_now_us();
	for (i = 0; i < warm; i++) {
		round_trip(fd, i);
		if (max_us && bench_now_us() - t0 > max_us)
			break;
	}
	warm = i;
	if (bench_snap(&s0, &why))
		die("proc", "%s", why);
	t0 = s0.t_us;
	for (i = 0; i < n; i++) {
		double s = bench_now_us();

		round_trip(fd, warm + i);
		lat[i] = bench_now_us() - s;
		sum += lat[i];
		if (max_us && lat[i] + s - t0 > max_us) {
			i++;
			break;
		}
	}
	n = i;
	if (bench_snap(&s1, &why))
		die("proc", "%s", why);
	t1 = s1.t_us;
	close(fd);
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("BENCH-RT ok label=%s dev=%s n=%ld rate=%.1f p50_us=%.1f p99_us=%.1f mean_us=%.1f "
	       "cpu_us_per_rt=%.2f cpus=%d wall_s=%.3f",
	       label, dev, n, n / ((t1 - t0) / 1e6), lat[(n - 1) / 2], lat[(long)((n - 1) * 0.99)],
	       sum / n, (double)(s1.busy - s0.busy) * (1e6 / sysconf(_SC_CLK_TCK)) / n, s1.cpus,
	       (t1 - t0) / 1e6);
	bench_print_delta(&s0, &s1);
	printf("\n");
	return 0;
}
