// SPDX-License-Identifier: GPL-2.0
/*
 * bench-rt: Get Device ID round-trip benchmark for /dev/ipmiN (a measurement, not a test).
 *
 * usage: bench-rt DEVICE ITERATIONS WARMUP [LABEL]
 *
 * Each round trip is SEND_COMMAND (App 0x06/0x01 to the system interface), poll() for POLLIN,
 * RECEIVE_MSG_TRUNC: what ipmitool does per request. WARMUP round trips run first and are not
 * measured. Prints exactly one line:
 *   BENCH-RT ok label=L dev=D n=N rate=R p50_us=A p99_us=B mean_us=M cpu_us_per_rt=C
 *            cpus=K wall_s=W
 * where rate is round trips per second over the measured run, p50/p99 are per-round-trip
 * latencies, and cpu_us_per_rt is the guest's busy CPU time (all CPUs, from /proc/stat:
 * busy = total - idle - iowait, guest/guest_nice excluded as they are already in user/nice)
 * over the run, divided by N. On any failure it prints
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

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Busy and total jiffies over all CPUs (the "cpu" line of /proc/stat). */
static int read_stat(unsigned long long *busy, int *ncpu)
{
	unsigned long long v[10] = { 0 }, total = 0;
	char line[512];
	FILE *f = fopen("/proc/stat", "r");
	int n, i, cpus = 0;

	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -1;
	}
	n = sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "cpu", 3) && line[3] >= '0' && line[3] <= '9')
			cpus++;
	fclose(f);
	if (n < 5)
		return -1;
	/* user nice system idle iowait irq softirq steal (guest, guest_nice are in user/nice) */
	for (i = 0; i < 8 && i < n; i++)
		total += v[i];
	*busy = total - v[3] - v[4];
	*ncpu = cpus;
	return 0;
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
	unsigned long long busy0, busy1;
	double *lat, t0, t1, sum = 0;
	long n, warm, i;
	int fd, cpus;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: bench-rt DEVICE ITERATIONS WARMUP [LABEL]\n");
		return 2;
	}
	dev = argv[1];
	n = atol(argv[2]);
	warm = atol(argv[3]);
	if (argc == 5)
		label = argv[4];
	if (n < 1 || warm < 0)
		die("usage", "ITERATIONS must be >= 1 and WARMUP >= 0");
	lat = calloc(n, sizeof(*lat));
	if (!lat)
		die("alloc", "out of memory");
	fd = open(dev, O_RDWR);
	if (fd < 0)
		die("open", "%s", strerror(errno));
	for (i = 0; i < warm; i++)
		round_trip(fd, i);
	if (read_stat(&busy0, &cpus))
		die("proc-stat", "cannot read /proc/stat");
	t0 = now_us();
	for (i = 0; i < n; i++) {
		double s = now_us();

		round_trip(fd, warm + i);
		lat[i] = now_us() - s;
		sum += lat[i];
	}
	t1 = now_us();
	if (read_stat(&busy1, &cpus))
		die("proc-stat", "cannot read /proc/stat");
	close(fd);
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("BENCH-RT ok label=%s dev=%s n=%ld rate=%.1f p50_us=%.1f p99_us=%.1f mean_us=%.1f "
	       "cpu_us_per_rt=%.2f cpus=%d wall_s=%.3f\n",
	       label, dev, n, n / ((t1 - t0) / 1e6), lat[(n - 1) / 2], lat[(long)((n - 1) * 0.99)],
	       sum / n, (double)(busy1 - busy0) * (1e6 / sysconf(_SC_CLK_TCK)) / n, cpus,
	       (t1 - t0) / 1e6);
	return 0;
}
