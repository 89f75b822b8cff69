// SPDX-License-Identifier: GPL-2.0
/*
 * bench-stat: whole-guest CPU and wake-up counters over an interval (a measurement, not a test).
 *
 * usage: bench-stat idle SECONDS LABEL
 *        bench-stat run LABEL TIMEOUT OUTFILE COMMAND [ARG...]
 *
 * idle: sleeps SECONDS and prints
 *   BENCH-IDLE ok label=L seconds=S cpu_pct=P wake_s=I loc_s=T tmr_s=S ctxt_s=X
 * run: runs COMMAND with stdout and stderr into OUTFILE, killing it after TIMEOUT seconds, and
 * prints
 *   BENCH-RUN label=L rc=RC wall_s=W lines=N cpu_pct=P wake_s=I loc_s=T tmr_s=S ctxt_s=X
 * where RC is the command's exit status (128+signal if killed, 124 on timeout, 127 if it could
 * not be started) and N the number of lines in OUTFILE.
 * The counters are described in bench-stat.h; this process itself sleeps in one system call
 * during the interval, so it adds no wake-ups of its own. On failure it prints
 *   BENCH-IDLE error label=L what=WORD: detail   (or BENCH-RUN error ...)
 * and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-stat.h"

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

static int idle(double secs, const char *label)
{
	struct bench_snap a, b;
	struct timespec ts = { .tv_sec = (time_t)secs,
			       .tv_nsec = (long)((secs - (time_t)secs) * 1e9) };
	const char *why;

	if (bench_snap(&a, &why)) {
		printf("BENCH-IDLE error label=%s what=proc: %s\n", label, why);
		return 1;
	}
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	if (bench_snap(&b, &why)) {
		printf("BENCH-IDLE error label=%s what=proc: %s\n", label, why);
		return 1;
	}
	printf("BENCH-IDLE ok label=%s seconds=%.3f", label, (b.t_us - a.t_us) / 1e6);
	bench_print_delta(&a, &b);
	printf("\n");
	return 0;
}

static long count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	long n = 0;
	int c, last = '\n';

	if (!f)
		return -1;
	while ((c = getc(f)) != EOF) {
		if (c == '\n')
			n++;
		last = c;
	}
	fclose(f);
	return last == '\n' ? n : n + 1;
}

static int run(const char *label, unsigned int timeout, const char *outfile, char **argv)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct bench_snap a, b;
	const char *why;
	int status, rc, fd;
	pid_t pid, w;

	fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		printf("BENCH-RUN error label=%s what=outfile: %s: %s\n", label, outfile,
		       strerror(errno));
		return 1;
	}
	sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART: waitpid returns EINTR */
	if (bench_snap(&a, &why)) {
		printf("BENCH-RUN error label=%s what=proc: %s\n", label, why);
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		printf("BENCH-RUN error label=%s what=fork: %s\n", label, strerror(errno));
		return 1;
	}
	if (!pid) {
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		execvp(argv[0], argv);
		fprintf(stderr, "bench-stat: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fd);
	alarm(timeout);
	while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		if (timed_out)
			kill(pid, SIGKILL);
	alarm(0);
	if (bench_snap(&b, &why)) {
		printf("BENCH-RUN error label=%s what=proc: %s\n", label, why);
		return 1;
	}
	if (w < 0)
		rc = 125;
	else if (timed_out)
		rc = 124;
	else if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else
		rc = 128 + WTERMSIG(status);
	printf("BENCH-RUN label=%s rc=%d wall_s=%.3f lines=%ld", label, rc, (b.t_us - a.t_us) / 1e6,
	       count_lines(outfile));
	bench_print_delta(&a, &b);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "idle") && atof(argv[2]) > 0)
		return idle(atof(argv[2]), argv[3]);
	if (argc >= 6 && !strcmp(argv[1], "run") && atoi(argv[3]) > 0)
		return run(argv[2], atoi(argv[3]), argv[4], argv + 5);
	fprintf(stderr, "usage: bench-stat idle SECONDS LABEL\n"
			"       bench-stat run LABEL TIMEOUT OUTFILE COMMAND [ARG...]\n");
	return 2;
}
