/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bench-stat.h: whole-guest counters for the benchmarks (bench-rt, bench-idle), read before and
 * after a measured interval. Not a test helper: these programs print numbers only.
 *
 * What is counted, over all CPUs:
 *   busy/total  jiffies from the "cpu" line of /proc/stat: total = user + nice + system + idle +
 *               iowait + irq + softirq + steal (guest and guest_nice are already in user/nice),
 *               busy = total - idle - iowait
 *   irqs        every interrupt in /proc/interrupts: the numbered device lines and the per-CPU
 *               architecture lines (LOC, RES, CAL, TLB, IWI, ...), all CPU columns; ERR and MIS
 *               (error counters, not per-CPU) are left out. A CPU idles in HLT in this guest (no
 *               cpuidle driver under TCG) and only an interrupt takes it out, so this is the
 *               number of wake-ups when the CPUs are idle, and an upper bound otherwise
 *   loc         the LOC line alone (local APIC timer: the periodic tick plus every hrtimer that
 *               expires between ticks)
 *   timers      TIMER + HRTIMER lines of /proc/softirqs: timer_list callbacks (and soft
 *               hrtimers) run. On the periodic-tick bench kernel a jiffy timer rides on the tick
 *               and adds no interrupt, so it shows here and not in irqs
 *   ctxt        context switches, the "ctxt" line of /proc/stat (a thread that sleeps and is
 *               woken, like kipmid, costs two)
 */
#ifndef BENCH_STAT_H
#define BENCH_STAT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct bench_snap {
	double t_us;
	unsigned long long busy, total, irqs, loc, timers, ctxt;
	int cpus;
};

static double bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Sums the first NCPU numbers after "LABEL:" of a /proc/interrupts or /proc/softirqs line. */
static unsigned long long bench_sum_cols(const char *p, int ncpu)
{
	unsigned long long sum = 0;
	char *end;
	int i;

	for (i = 0; i < ncpu; i++) {
		unsigned long long v = strtoull(p, &end, 10);

		if (end == p)
			break;
		sum += v;
		p = end;
	}
	return sum;
}

/* Reads a per-CPU table; calls back with the row label and the sum of its CPU columns. */
static int bench_read_table(const char *path, int ncpu,
			    void (*row)(const char *label, unsigned long long sum, void *arg),
			    void *arg)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f)) { /* the CPU0 CPU1 ... header */
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *label = line;

		if (!colon)
			continue;
		*colon = 0;
		while (*label == ' ')
			label++;
		row(label, bench_sum_cols(colon + 1, ncpu), arg);
	}
	fclose(f);
	return 0;
}

static void bench_irq_row(const char *label, unsigned long long sum, void *arg)
{
	struct bench_snap *s = arg;

	if (!strcmp(label, "ERR") || !strcmp(label, "MIS"))
		return;
	s->irqs += sum;
	if (!strcmp(label, "LOC"))
		s->loc += sum;
}

static void bench_softirq_row(const char *label, unsigned long long sum, void *arg)
{
	struct bench_snap *s = arg;

	if (!strcmp(label, "TIMER") || !strcmp(label, "HRTIMER"))
		s->timers += sum;
}

/* Fills S with the counters now; 0 on success, else a short reason in *WHY. */
static int bench_snap(struct bench_snap *s, const char **why)
{
	unsigned long long v[10] = { 0 };
	char line[1024];
	FILE *f;
	int n, i;

	memset(s, 0, sizeof(*s));
	f = fopen("/proc/stat", "r");
	if (!f || !fgets(line, sizeof(line), f)) {
		if (f)
			fclose(f);
		*why = "cannot read /proc/stat";
		return -1;
	}
	n = sscanf(line, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "cpu", 3) && line[3] >= '0' && line[3] <= '9')
			s->cpus++;
		else if (!strncmp(line, "ctxt ", 5))
			s->ctxt = strtoull(line + 5, NULL, 10);
	}
	fclose(f);
	if (n < 5 || s->cpus < 1) {
		*why = "unexpected /proc/stat";
		return -1;
	}
	/* user nice system idle iowait irq softirq steal (guest, guest_nice are in user/nice) */
	for (i = 0; i < 8 && i < n; i++)
		s->total += v[i];
	s->busy = s->total - v[3] - v[4];
	if (bench_read_table("/proc/interrupts", s->cpus, bench_irq_row, s)) {
		*why = "cannot read /proc/interrupts";
		return -1;
	}
	if (bench_read_table("/proc/softirqs", s->cpus, bench_softirq_row, s)) {
		*why = "cannot read /proc/softirqs";
		return -1;
	}
	s->t_us = bench_now_us();
	return 0;
}

/*
 * Prints the counters between A and B as " cpu_pct=.. wake_s=.. loc_s=.. tmr_s=.. ctxt_s=..":
 * busy CPU in % of all CPUs, and interrupts, timer interrupts, timer softirqs and context
 * switches per second of wall time.
 */
static void bench_print_delta(const struct bench_snap *a, const struct bench_snap *b)
{
	double s = (b->t_us - a->t_us) / 1e6;
	unsigned long long total = b->total - a->total;

	if (s <= 0)
		s = 1e-9;
	printf(" cpu_pct=%.1f wake_s=%.0f loc_s=%.0f tmr_s=%.0f ctxt_s=%.0f",
	       total ? 100.0 * (double)(b->busy - a->busy) / (double)total : 0.0,
	       (double)(b->irqs - a->irqs) / s, (double)(b->loc - a->loc) / s,
	       (double)(b->timers - a->timers) / s, (double)(b->ctxt - a->ctxt) / s);
}

#endif
