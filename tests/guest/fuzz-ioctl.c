// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-ioctl: a structure-aware fuzzer for the /dev/ipmiN file interface (not a t-* test:
 * t-ext-fuzz.sh and `make fuzz` run it; run-guest-tests only runs t-* programs).
 *
 * THREADS threads share a table of open files and each draws operations from its own PRNG
 * (seeded from SEED and the thread number): open/close/dup/dup2/dup3 of the device, poll,
 * select, epoll, fork (the child works on the inherited files and exits without closing them),
 * O_ASYNC on/off, read/write/mmap/lseek, "send then close at once", and every one of the 21
 * IPMICTL_* ioctls, plus unknown numbers in the 'i' space and the other ABI's sizes of the four
 * translated commands, with valid, borderline and hostile arguments: NULL, unmapped, kernel and
 * non-canonical pointers, structures that run into a PROT_NONE page, read-only and misaligned
 * buffers, a page that another thread keeps unmapping, addr_len/data_len up to 0xffff and
 * "negative", every address type with bad channels and LUNs, random netfn/cmd registrations with
 * random channel masks, SET_TIMING with extreme values, random maintenance modes, receives into
 * small buffers (with canaries behind what the kernel was allowed to write).
 *
 * Checks: every call returns 0 or an errno from the set that call may plausibly give (per ioctl,
 * after ipmi_devintf.c/ipmi_msghandler.c); for arguments whose outcome is certain (an argument
 * pointer that cannot be read, addr_len over 40, data_len over 272 with a valid address, a
 * channel of 16 or more, an unknown ioctl number) the exact errno; received messages must be
 * plausible and the kernel must not write past the lengths it was given; poll/select/epoll only
 * report POLLIN/POLLRDNORM (POLLNVAL for a closed file); and no signal but SIGIO may reach the
 * process or a forked child. Anything else is printed (the first 40) and counted.
 *
 * The same file built with -m32 (fuzz-ioctl32.c includes it) drives the compat_ioctl paths.
 *
 * usage: fuzz-ioctl [-n OPS] [-j THREADS] [-s SEED] [-d DEVICE] [-t SECONDS] [-S] [-q]
 *   -n OPS      operations in all (default 1000000)      -j THREADS  (default 8)
 *   -s SEED     PRNG seed (default: from the clock; printed, so a run can be repeated; with
 *               -j 1 the sequence of operations is exactly the same, with more threads each
 *               thread's is, but not their interleaving)
 *   -d DEVICE   default $IPMI_DEV or /dev/ipmi0           -t SECONDS  stop after that long
 *   -S          also send the BMC commands that change its state (resets, Set Global Enables,
 *               watchdog, firmware netfn), which are left out by default
 *   -q          no progress lines
 * Ends with "fuzz: N operations, M errors-unexpected, ..." and exits 1 if M > 0 (or a signal
 * arrived), 2 on usage or setup errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/ipmi.h>

#define IS32 (sizeof(void *) == 4)
#define NSLOTS 24
#define MAX_THREADS 64
#define MAX_REPORTS 40
#define PAGE 4096

/* ---- PRNG (splitmix64 seeding, xorshift64*) ------------------------------------------------ */

struct rng {
	uint64_t s;
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, n). */
static uint32_t below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)((rnd(r) >> 32) % n) : 0;
}

/* True with probability pct/100. */
static int chance(struct rng *r, unsigned pct)
{
	return below(r, 100) < pct;
}

/* ---- global state --------------------------------------------------------------------------- */

static const char *dev_path;
static long max_ops = 1000000, time_limit_s;
static int nthreads = 8, quiet, state_changing;
static uint64_t seed;
static long t_start;
static int is_child; /* in a forked child: no locks (another thread may have held one) */
static _Atomic long ops_taken, ops_done;
static _Atomic long n_unexpected, n_badresult, n_ok, n_expected_err, n_forks, n_sigio;
static _Atomic long n_reports;
static _Atomic int fatal_signal;
static _Atomic int slots[NSLOTS];
/* Shared hostile memory: a PROT_NONE page, and a page that flap_page() maps in and out. */
static unsigned char *none_page, *flap_page;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* printf to stdout, whole lines, from any thread. */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
__attribute__((format(printf, 1, 2))) static void out(const char *fmt, ...)
{
	va_list ap;

	if (is_child) {
		char buf[512];
		int n;

		va_start(ap, fmt);
		n = vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		if (n > (int)sizeof(buf) - 1)
			n = sizeof(buf) - 1;
		if (write(1, buf, n) < 0)
			_exit(4);
		return;
	}
	pthread_mutex_lock(&out_lock);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static const char *ename(int e)
{
	static const struct {
		int e;
		const char *n;
	} t[] = { { 0, "0" },
		  { EPERM, "EPERM" },
		  { ENOENT, "ENOENT" },
		  { EINTR, "EINTR" },
		  { EIO, "EIO" },
		  { ENXIO, "ENXIO" },
		  { EBADF, "EBADF" },
		  { EAGAIN, "EAGAIN" },
		  { ENOMEM, "ENOMEM" },
		  { EACCES, "EACCES" },
		  { EFAULT, "EFAULT" },
		  { EBUSY, "EBUSY" },
		  { ENODEV, "ENODEV" },
		  { EINVAL, "EINVAL" },
		  { EMFILE, "EMFILE" },
		  { ENOTTY, "ENOTTY" },
		  { ESPIPE, "ESPIPE" },
		  { ERANGE, "ERANGE" },
		  { ENOSYS, "ENOSYS" },
		  { EMSGSIZE, "EMSGSIZE" },
		  { EOPNOTSUPP, "EOPNOTSUPP" },
		  { EAFNOSUPPORT, "EAFNOSUPPORT" },
		  { ETIMEDOUT, "ETIMEDOUT" },
		  { EOVERFLOW, "EOVERFLOW" } };

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == e)
			return t[i].n;
	return strerror(e);
}

/* ---- operations and their plausible errno values -------------------------------------------- */

/* Operation kinds (statistics index). The first 21 are the ioctls, in uapi order of number. */
enum {
	K_RECV_TRUNC, K_RECV, K_SEND, K_REG, K_UNREG, K_EVENTS, K_SET_ADDR, K_GET_ADDR, K_SET_LUN,
	K_GET_LUN, K_SETTIME, K_SET_TIMING, K_GET_TIMING, K_SET_CH_ADDR, K_GET_CH_ADDR, K_SET_CH_LUN,
	K_GET_CH_LUN, K_REG_CHANS, K_UNREG_CHANS, K_GET_MAINT, K_SET_MAINT,
	N_IOCTLS,
	K_ALT_SEND = N_IOCTLS, /* the other ABI's size of SEND_COMMAND(_SETTIME)/RECEIVE_MSG(_TRUNC) */
	K_ALT_RECV, K_UNKNOWN, K_OPEN, K_CLOSE, K_DUP, K_POLL, K_SELECT, K_EPOLL, K_FORK, K_ASYNC,
	K_FILEOPS, K_SEND_CLOSE, K_FLAP,
	N_KINDS
};

static const char *const kname[N_KINDS] = {
	"RECEIVE_MSG_TRUNC", "RECEIVE_MSG", "SEND_COMMAND", "REGISTER_FOR_CMD",
	"UNREGISTER_FOR_CMD", "SET_GETS_EVENTS_CMD", "SET_MY_ADDRESS_CMD", "GET_MY_ADDRESS_CMD",
	"SET_MY_LUN_CMD", "GET_MY_LUN_CMD", "SEND_COMMAND_SETTIME", "SET_TIMING_PARMS_CMD",
	"GET_TIMING_PARMS_CMD", "SET_MY_CHANNEL_ADDRESS_CMD", "GET_MY_CHANNEL_ADDRESS_CMD",
	"SET_MY_CHANNEL_LUN_CMD", "GET_MY_CHANNEL_LUN_CMD", "REGISTER_FOR_CMD_CHANS",
	"UNREGISTER_FOR_CMD_CHANS", "GET_MAINTENANCE_MODE_CMD", "SET_MAINTENANCE_MODE_CMD",
	IS32 ? "native64-size-send" : "compat32-size-send",
	IS32 ? "native64-size-receive" : "compat32-size-receive", "unknown-ioctl", "open",
	"close", "dup", "poll", "select", "epoll", "fork", "O_ASYNC", "read/write/mmap/lseek",
	"send-then-close", "flap-page",
};

static const unsigned long ioctl_nr[N_IOCTLS] = {
	IPMICTL_RECEIVE_MSG_TRUNC, IPMICTL_RECEIVE_MSG, IPMICTL_SEND_COMMAND,
	IPMICTL_REGISTER_FOR_CMD, IPMICTL_UNREGISTER_FOR_CMD, IPMICTL_SET_GETS_EVENTS_CMD,
	IPMICTL_SET_MY_ADDRESS_CMD, IPMICTL_GET_MY_ADDRESS_CMD, IPMICTL_SET_MY_LUN_CMD,
	IPMICTL_GET_MY_LUN_CMD, IPMICTL_SEND_COMMAND_SETTIME, IPMICTL_SET_TIMING_PARMS_CMD,
	IPMICTL_GET_TIMING_PARMS_CMD, IPMICTL_SET_MY_CHANNEL_ADDRESS_CMD,
	IPMICTL_GET_MY_CHANNEL_ADDRESS_CMD, IPMICTL_SET_MY_CHANNEL_LUN_CMD,
	IPMICTL_GET_MY_CHANNEL_LUN_CMD, IPMICTL_REGISTER_FOR_CMD_CHANS,
	IPMICTL_UNREGISTER_FOR_CMD_CHANS, IPMICTL_GET_MAINTENANCE_MODE_CMD,
	IPMICTL_SET_MAINTENANCE_MODE_CMD,
};

/*
 * errno values each kind may give besides 0, after the C code: handle_send_req/i_ipmi_request
 * (EINVAL, EFAULT, EMSGSIZE, EBUSY for max_msgs_per_user or a BMC in reset, EAGAIN for a full
 * sequence table, EAFNOSUPPORT for IPMB-direct, ENOMEM, ENODEV while the interface goes away,
 * EIO when smi_send refuses); handle_recv (EAGAIN empty, EINVAL addr_len, EMSGSIZE, EFAULT);
 * ipmi_register_for_cmd (EBUSY, ENOMEM, ENODEV); ipmi_unregister_for_cmd (ENOENT, ENODEV); the
 * address/LUN calls (EINVAL for channel >= 16); SET_MAINTENANCE_MODE (EINVAL). EBADF is added
 * for calls on a shared slot (another thread may have closed it just before).
 */
#define E_END 0
static const int es_send[] = { EFAULT, EINVAL, EMSGSIZE, EBUSY, EAGAIN, EAFNOSUPPORT, ENOMEM,
			       ENODEV, EIO, E_END };
static const int es_recv[] = { EFAULT, EINVAL, EMSGSIZE, EAGAIN, E_END };
static const int es_reg[] = { EFAULT, EBUSY, ENOMEM, ENODEV, E_END };
static const int es_unreg[] = { EFAULT, ENOENT, ENODEV, E_END };
static const int es_chan[] = { EFAULT, EINVAL, ENODEV, E_END };
static const int es_fault[] = { EFAULT, ENODEV, E_END };
static const int es_maint[] = { EFAULT, EINVAL, ENODEV, E_END };
static const int es_notty[] = { ENOTTY, E_END };
static const int es_open[] = { EBUSY, ENOMEM, ENODEV, ENXIO, EMFILE, E_END };
static const int es_none[] = { E_END };
/* read/write: EINVAL (no such file operation); mmap: ENODEV, or EACCES on an O_WRONLY file. */
static const int es_fileops[] = { EINVAL, ENODEV, EACCES, E_END };

static const int *const errset[N_KINDS] = {
	[K_RECV_TRUNC] = es_recv, [K_RECV] = es_recv, [K_SEND] = es_send, [K_REG] = es_reg,
	[K_UNREG] = es_unreg, [K_EVENTS] = es_fault, [K_SET_ADDR] = es_chan,
	[K_GET_ADDR] = es_chan, [K_SET_LUN] = es_chan, [K_GET_LUN] = es_chan,
	[K_SETTIME] = es_send, [K_SET_TIMING] = es_fault, [K_GET_TIMING] = es_fault,
	[K_SET_CH_ADDR] = es_chan, [K_GET_CH_ADDR] = es_chan, [K_SET_CH_LUN] = es_chan,
	[K_GET_CH_LUN] = es_chan, [K_REG_CHANS] = es_reg, [K_UNREG_CHANS] = es_unreg,
	[K_GET_MAINT] = es_fault, [K_SET_MAINT] = es_maint,
	/* From a 64-bit process the compat numbers are unknown; from a 32-bit one the native
	 * numbers go to ipmi_ioctl() unchanged (compat_ipmi_ioctl's default case). */
	[K_ALT_SEND] = IS32 ? es_send : es_notty, [K_ALT_RECV] = IS32 ? es_recv : es_notty,
	[K_UNKNOWN] = es_notty, [K_OPEN] = es_open, [K_CLOSE] = es_none, [K_DUP] = es_none,
	[K_POLL] = es_none, [K_SELECT] = es_none, [K_EPOLL] = es_none, [K_FORK] = es_none,
	[K_ASYNC] = es_none, [K_FILEOPS] = es_fileops, [K_SEND_CLOSE] = es_send, [K_FLAP] = es_none,
};

/* Per-kind statistics: calls, successes, and a small errno histogram. */
#define NHIST 8
static struct kstat {
	_Atomic long calls, ok;
	_Atomic int herr[NHIST];
	_Atomic long hcnt[NHIST];
} kstats[N_KINDS];

static void hist_add(int kind, int e)
{
	struct kstat *k = &kstats[kind];

	for (int i = 0; i < NHIST; i++) {
		int cur = atomic_load(&k->herr[i]);

		if (cur == 0) {
			int zero = 0;

			if (atomic_compare_exchange_strong(&k->herr[i], &zero, e) || k->herr[i] == e) {
				atomic_fetch_add(&k->hcnt[i], 1);
				return;
			}
			cur = k->herr[i];
		}
		if (cur == e) {
			atomic_fetch_add(&k->hcnt[i], 1);
			return;
		}
	}
}

/* One thread's working state. */
struct thr {
	int id;
	struct rng r;
	int own_fd; /* this thread's own file, never closed by anyone else */
	int epfd;
	/* Arena: pages 0-1 read/write, page 2 PROT_NONE (structures placed at the end of page 1
	 * run into it), page 3 read-only (refilled with mprotect when used). */
	unsigned char *arena;
	char desc[200]; /* what the current call was, for reports */
	long long t0; /* when the current operation started (per-kind time in the summary) */
	long long kns[N_KINDS]; /* time spent per kind */
};

#define ARENA_RW(t) ((t)->arena)
#define ARENA_GUARD(t) ((t)->arena + 2 * PAGE)
#define ARENA_RO(t) ((t)->arena + 3 * PAGE)

__attribute__((format(printf, 2, 3))) static void describe(struct thr *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->desc, sizeof(t->desc), fmt, ap);
	va_end(ap);
}

static void report(struct thr *t, const char *what, int kind, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void report(struct thr *t, const char *what, int kind, const char *fmt, ...)
{
	char buf[300];
	va_list ap;

	if (atomic_fetch_add(&n_reports, 1) >= MAX_REPORTS)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out("fuzz: %s: thread %d op %ld %s: %s [%s]\n", what, t->id, atomic_load(&ops_done),
	    kname[kind], buf, t->desc);
}

/*
 * Records the outcome of one call of kind `kind`: rc < 0 means it failed with err.
 * want: -1 if only the errno set applies, else the exact errno (0: success) expected.
 * shared: the call used a shared slot, so EBADF is possible.
 */
static void outcome(struct thr *t, int kind, long rc, int err, int want, int shared)
{
	int e = rc < 0 ? err : 0;

	atomic_fetch_add(&kstats[kind].calls, 1);
	t->kns[kind] += now_ns() - t->t0;
	if (e == 0)
		atomic_fetch_add(&kstats[kind].ok, 1);
	else
		hist_add(kind, e);
	if (e == EBADF && shared) {
		atomic_fetch_add(&n_expected_err, 1);
		return;
	}
	if (want >= 0) {
		if (e == want) {
			atomic_fetch_add(e ? &n_expected_err : &n_ok, 1);
			return;
		}
		atomic_fetch_add(&n_unexpected, 1);
		report(t, "UNEXPECTED", kind, "got %s, want %s", ename(e), ename(want));
		return;
	}
	if (e == 0) {
		atomic_fetch_add(&n_ok, 1);
		return;
	}
	for (const int *p = errset[kind]; *p != E_END; p++) {
		if (*p == e) {
			atomic_fetch_add(&n_expected_err, 1);
			return;
		}
	}
	atomic_fetch_add(&n_unexpected, 1);
	report(t, "UNEXPECTED", kind, "errno %s (%d) is not in this call's set", ename(e), e);
}

static void bad_result(struct thr *t, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void bad_result(struct thr *t, int kind, const char *fmt, ...)
{
	char buf[250];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	atomic_fetch_add(&n_badresult, 1);
	report(t, "BAD-RESULT", kind, "%s", buf);
}

/* ---- file descriptors ------------------------------------------------------------------------ */

/* A file to work on: the thread's own (never closed under it) or a shared slot. */
static int pick_fd(struct thr *t, int *shared)
{
	if (chance(&t->r, 30)) {
		*shared = 0;
		return t->own_fd;
	}
	*shared = 1;
	int fd = atomic_load(&slots[below(&t->r, NSLOTS)]);
	return fd >= 0 ? fd : t->own_fd;
}

static int open_flags(struct rng *r)
{
	static const int acc[] = { O_RDWR, O_RDWR, O_RDONLY, O_WRONLY };
	int f = acc[below(r, 4)];

	if (chance(r, 20))
		f |= O_NONBLOCK;
	if (chance(r, 20))
		f |= O_CLOEXEC;
	return f;
}

/* Puts fd into a random slot; the file it replaces is closed (maybe with requests in flight). */
static void slot_put(struct thr *t, int fd)
{
	int old = atomic_exchange(&slots[below(&t->r, NSLOTS)], fd);

	if (old >= 0)
		close(old);
}

/* ---- argument placement ------------------------------------------------------------------------ */

enum place { P_VALID, P_MISALIGNED, P_FAULT, P_RO, P_FLAP };

/*
 * Returns where the ioctl argument (or an inner buffer) of len bytes, built in src, is passed:
 * src itself, a misaligned copy, a read-only copy, the flapping page, or a pointer that cannot
 * be accessed (NULL, low, kernel, non-canonical, unmapped, or a copy running into the guard
 * page): *how says which. hostile_pct is the chance of anything but src.
 */
static void *place(struct thr *t, const void *src, size_t len, unsigned hostile_pct,
		   enum place *how, int slot)
{
	struct rng *r = &t->r;
	unsigned char *p;

	*how = P_VALID;
	if (!chance(r, hostile_pct) || len > PAGE / 4)
		return (void *)src;
	switch (below(r, 10)) {
	case 0:
	case 1: /* misaligned copy in the arena (slot keeps separate buffers apart) */
		p = ARENA_RW(t) + PAGE / 2 + slot * (PAGE / 4) + 1 + below(r, 7);
		if (p + len > ARENA_RW(t) + 2 * PAGE)
			return (void *)src;
		memmove(p, src, len);
		*how = P_MISALIGNED;
		return p;
	case 2: /* read-only copy */
		if (mprotect(ARENA_RO(t), PAGE, PROT_READ | PROT_WRITE) == 0) {
			p = ARENA_RO(t) + slot * (PAGE / 4);
			memcpy(p, src, len);
			mprotect(ARENA_RO(t), PAGE, PROT_READ);
			*how = P_RO;
			return p;
		}
		return (void *)src;
	case 3: /* the page another thread maps in and out */
		*how = P_FLAP;
		return flap_page + below(r, PAGE - len + 1);
	case 4: { /* running into the guard page by 1..len bytes */
		size_t in = 1 + below(r, len ? len : 1);
		size_t head = len > in ? len - in : 0;

		p = ARENA_GUARD(t) - head;
		memcpy(p, src, head);
		*how = len ? P_FAULT : P_VALID;
		return len ? p : (void *)src;
	}
	default: { /* a constant bad pointer */
		static const uint64_t bad64[] = { 0,
						  1,
						  0xfff,
						  0xffff888000000000ULL,
						  0xffffffff81000000ULL,
						  0xffffffffff600000ULL,
						  0x8000000000000000ULL,
						  0x0000800000000000ULL,
						  0xfffffffffffff000ULL,
						  0xdead000000000000ULL };
		static const uint32_t bad32[] = { 0, 1, 0xfff, 0xffffe000, 0xfffff000, 0xffffff00 };
		*how = P_FAULT;
		if (chance(r, 20))
			return none_page + below(r, PAGE - len + 1);
		if (IS32)
			return (void *)(uintptr_t)bad32[below(r, sizeof(bad32) / 4)];
		return (void *)(uintptr_t)bad64[below(r, sizeof(bad64) / 8)];
	}
	}
}

/* ---- value generators -------------------------------------------------------------------------- */

static uint32_t rnd_len32(struct rng *r)
{
	static const uint32_t edge[] = { 0, 1, 2, 7, 8, 11, 12, 16, 39, 40, 41, 255, 272, 273,
					 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
					 0xfffffff8, 0xffffffff };

	if (chance(r, 70))
		return edge[below(r, sizeof(edge) / 4)];
	return (uint32_t)rnd(r);
}

static uint16_t rnd_dlen(struct rng *r)
{
	static const uint16_t edge[] = { 0, 1, 2, 3, 16, 31, 32, 35, 36, 255, 256, 262, 267, 268,
					 269, 271, 272, 273, 274, 300, 0x7fff, 0x8000, 0xfffe,
					 0xffff };

	if (chance(r, 50))
		return (uint16_t)below(r, 40);
	if (chance(r, 70))
		return edge[below(r, sizeof(edge) / 2)];
	return (uint16_t)rnd(r);
}

static int rnd_chan(struct rng *r)
{
	static const int edge[] = { 0, 1, 2, 7, 14, 15, 16, 17, 255, 256, 0x7fff, -1, -16, 0x8000 };

	if (chance(r, 60))
		return (int)below(r, 16);
	return edge[below(r, sizeof(edge) / sizeof(edge[0]))];
}

static uint32_t rnd_chans(struct rng *r)
{
	switch (below(r, 8)) {
	case 0: return 0;
	case 1: return IPMI_CHAN_ALL;
	case 2: return 1u << below(r, 32);
	case 3: return 1u << below(r, 16);
	case 4: return (uint32_t)rnd(r) & 0xffff;
	case 5: return (uint32_t)rnd(r) | 0x10000u;
	default: return (uint32_t)rnd(r);
	}
}

/* Commands to the BMC itself that change its state; left out unless -S. */
static int state_changing_cmd(unsigned netfn, unsigned cmd)
{
	netfn &= 0x3f;
	if (netfn == 0x08 || netfn == 0x09) /* firmware */
		return 1;
	if (netfn == IPMI_NETFN_APP_REQUEST)
		return cmd == 0x02 || cmd == 0x03 || cmd == 0x22 || cmd == 0x24 || cmd == 0x2e ||
		       cmd == 0x30 || cmd == 0x32 || cmd == 0x36;
	if (netfn == 0x00) /* chassis control, reset, power */
		return cmd == 0x02 || cmd == 0x04 || cmd == 0x08 || cmd == 0x0f;
	return 0;
}

/*
 * Fills addr with a random address; returns its natural length. *valid_sure is set when the
 * address is certainly accepted by ipmi_validate_addr() at that length (so later checks are
 * reached); *to_bmc when it goes to the system interface.
 */
static unsigned rnd_addr(struct rng *r, struct ipmi_addr *a, int *valid_sure, int *to_bmc)
{
	memset(a, 0, sizeof(*a));
	*valid_sure = 0;
	*to_bmc = 0;
	switch (below(r, 10)) {
	case 0:
	case 1:
	case 2:
	case 3: { /* system interface */
		struct ipmi_system_interface_addr *s = (void *)a;

		s->addr_type = IPMI_SYSTEM_INTERFACE_ADDR_TYPE;
		s->channel = chance(r, 85) ? IPMI_BMC_CHANNEL : rnd_chan(r);
		s->lun = chance(r, 85) ? 0 : (unsigned char)below(r, 256);
		*valid_sure = s->channel == IPMI_BMC_CHANNEL && s->lun <= 3;
		*to_bmc = 1;
		return sizeof(*s);
	}
	case 4:
	case 5:
	case 6: { /* IPMB or IPMB broadcast; 0x40 LUN 2 on channel 0 is the simulator's loopback */
		struct ipmi_ipmb_addr *i = (void *)a;

		i->addr_type = chance(r, 80) ? IPMI_IPMB_ADDR_TYPE : IPMI_IPMB_BROADCAST_ADDR_TYPE;
		i->channel = chance(r, 70) ? (short)below(r, 3) : rnd_chan(r);
		i->slave_addr = chance(r, 50) ? 0x40 : (unsigned char)rnd(r);
		i->lun = chance(r, 70) ? (unsigned char)below(r, 4) : (unsigned char)rnd(r);
		*valid_sure = i->channel >= 0 && i->channel < 16 && i->channel != 15;
		return sizeof(*i);
	}
	case 7:
	case 8: { /* LAN */
		struct ipmi_lan_addr *l = (void *)a;

		l->addr_type = IPMI_LAN_ADDR_TYPE;
		l->channel = chance(r, 70) ? (short)below(r, 3) : rnd_chan(r);
		l->privilege = (unsigned char)rnd(r);
		l->session_handle = (unsigned char)rnd(r);
		l->remote_SWID = (unsigned char)rnd(r);
		l->local_SWID = (unsigned char)rnd(r);
		l->lun = chance(r, 70) ? (unsigned char)below(r, 4) : (unsigned char)rnd(r);
		*valid_sure = l->channel >= 0 && l->channel < 16 && l->channel != 15;
		return sizeof(*l);
	}
	default: /* IPMB direct, unused, or random type and bytes */
		for (size_t k = 0; k < sizeof(*a); k++)
			((unsigned char *)a)[k] = (unsigned char)rnd(r);
		switch (below(r, 3)) {
		case 0: a->addr_type = 0x81; break; /* IPMB direct: EAFNOSUPPORT over KCS */
		case 1: a->addr_type = 0; break;
		default: break;
		}
		return 4 + below(r, sizeof(*a) - 3);
	}
}

/* A netfn/cmd pair for a request. */
static void rnd_cmd(struct rng *r, int to_bmc, unsigned char *netfn, unsigned char *cmd)
{
	static const unsigned char safe[][2] = {
		{ 0x06, 0x01 }, { 0x06, 0x01 }, { 0x06, 0x01 }, { 0x06, 0x04 }, { 0x06, 0x08 },
		{ 0x06, 0x37 }, { 0x06, 0x42 }, { 0x06, 0x2f }, { 0x06, 0x31 }, { 0x06, 0x25 },
		{ 0x00, 0x01 }, { 0x00, 0x00 }, { 0x0a, 0x40 }, { 0x0a, 0x20 }, { 0x0a, 0x48 },
		{ 0x06, 0x33 }, { 0x06, 0x34 }, { 0x06, 0x35 }, /* refused by the handler */
		{ 0x07, 0x01 }, /* a response netfn */
		{ 0x30, 0x01 }, { 0x2e, 0x10 }, { 0x2c, 0x01 },
	};

	do {
		if (chance(r, 70)) {
			int k = below(r, sizeof(safe) / 2);

			*netfn = safe[k][0];
			*cmd = safe[k][1];
		} else {
			*netfn = chance(r, 80) ? (unsigned char)below(r, 0x40) : (unsigned char)rnd(r);
			*cmd = (unsigned char)rnd(r);
		}
	} while (to_bmc && !state_changing && state_changing_cmd(*netfn, *cmd));
}

/* ---- the ioctls ------------------------------------------------------------------------------ */

/* Buffers a send or receive points into, with canaries after them. */
#define DATA_BUF 600
#define CANARY 0x5c

struct bufs {
	struct ipmi_addr addr;
	unsigned char addr_canary[24];
	unsigned char data[DATA_BUF];
};

static long do_ioctl(int fd, unsigned long nr, void *arg)
{
	return ioctl(fd, nr, arg);
}

/* Fills a send request; returns the exact errno expected, or -1 if only the set applies. */
static int build_req(struct thr *t, struct ipmi_req *req, struct bufs *b, int hostile)
{
	struct rng *r = &t->r;
	int valid_sure, to_bmc, want = -1;
	unsigned natural = rnd_addr(r, &b->addr, &valid_sure, &to_bmc);
	enum place ahow, dhow;
	unsigned dlen;

	memset(req, 0, sizeof(*req));
	req->addr_len = natural;
	if (chance(r, hostile ? 40 : 8))
		req->addr_len = chance(r, 50) ? rnd_len32(r) : natural - 1 - below(r, natural);
	req->addr = place(t, &b->addr, sizeof(b->addr), hostile ? 25 : 3, &ahow, 0);
	req->msgid = (long)rnd(r);
	rnd_cmd(r, to_bmc, &req->msg.netfn, &req->msg.cmd);
	dlen = chance(r, 60) ? below(r, 8) : rnd_dlen(r);
	if (!hostile && dlen > IPMI_MAX_MSG_LENGTH)
		dlen = below(r, 30);
	for (unsigned k = 0; k < dlen && k < DATA_BUF; k++)
		b->data[k] = (unsigned char)rnd(r);
	req->msg.data_len = (unsigned short)dlen;
	if (chance(r, 25)) {
		req->msg.data = NULL; /* the length is then taken as 0 */
		dhow = P_VALID;
	} else {
		req->msg.data = place(t, b->data, dlen < DATA_BUF ? dlen : DATA_BUF,
				      hostile ? 25 : 3, &dhow, 1);
		if (dlen >= DATA_BUF && dhow != P_FAULT) {
			/* Only bad pointers may claim more than the buffer holds (the kernel stops
			 * at 272 anyway, and refuses more with EMSGSIZE before copying). */
			dhow = P_FAULT;
			req->msg.data = (void *)(uintptr_t)(IS32 ? 0xffffe000u : 0xffff888000000000ULL);
		}
	}
	/* The order of handle_send_req(): addr_len, copy of the address, validation, data. */
	if (req->addr_len > sizeof(struct ipmi_addr))
		want = EINVAL;
	else if (ahow == P_FAULT && req->addr_len > 0 &&
		 !((uintptr_t)req->addr + req->addr_len <= (uintptr_t)ARENA_GUARD(t) &&
		   (uintptr_t)req->addr >= (uintptr_t)ARENA_RW(t)))
		want = EFAULT;
	else if (valid_sure && req->addr_len == natural && (ahow == P_VALID || ahow == P_MISALIGNED ||
							     ahow == P_RO) && req->msg.data) {
		if (dlen > IPMI_MAX_MSG_LENGTH)
			want = EMSGSIZE;
		else if (dhow == P_FAULT && dlen > 0)
			want = EFAULT;
	}
	describe(t, "addr_type 0x%x chan %d addr_len %u (natural %u, place %d) netfn 0x%02x cmd "
		    "0x%02x data %s len %u (place %d)",
		 b->addr.addr_type, b->addr.channel, req->addr_len, natural, ahow, req->msg.netfn,
		 req->msg.cmd, req->msg.data ? "set" : "NULL", dlen, dhow);
	return want;
}

/*
 * A place()d pointer whose first byte is in a readable place but runs into the guard page is
 * P_FAULT only if the struct is longer than what is in front of the guard; place() ensured that.
 */

static void check_recv_result(struct thr *t, int kind, const struct ipmi_recv *rv,
			      const struct bufs *b, unsigned given_alen, unsigned given_dlen,
			      int data_checked)
{
	if (rv->recv_type < 1 || rv->recv_type > 5)
		bad_result(t, kind, "recv_type %d", rv->recv_type);
	if (rv->addr_len > sizeof(struct ipmi_addr) || rv->addr_len > given_alen)
		bad_result(t, kind, "addr_len %u (gave %u)", rv->addr_len, given_alen);
	if (rv->msg.data_len > given_dlen || rv->msg.data_len > IPMI_MAX_MSG_LENGTH)
		bad_result(t, kind, "data_len %u (gave %u)", rv->msg.data_len, given_dlen);
	if (!data_checked)
		return;
	/* Nothing may be written past what was allowed. */
	for (unsigned k = given_alen; k < sizeof(b->addr) + sizeof(b->addr_canary); k++)
		if (((const unsigned char *)&b->addr)[k] != CANARY) {
			bad_result(t, kind, "address buffer written at byte %u (addr_len %u)", k,
				   given_alen);
			break;
		}
	for (unsigned k = given_dlen; k < DATA_BUF; k++)
		if (b->data[k] != CANARY) {
			bad_result(t, kind, "data buffer written at byte %u (data_len %u)", k,
				   given_dlen);
			break;
		}
}

static void op_recv(struct thr *t, int trunc)
{
	struct rng *r = &t->r;
	int kind = trunc ? K_RECV_TRUNC : K_RECV, shared, want = -1;
	int fd = pick_fd(t, &shared);
	struct ipmi_recv rv;
	struct bufs b;
	enum place how, ahow = P_VALID, dhow = P_VALID;
	int hostile = chance(r, 30);
	unsigned alen, dlen;

	memset(&b, CANARY, sizeof(b));
	memset(&rv, 0, sizeof(rv));
	rv.recv_type = -1;
	alen = chance(r, 80) ? sizeof(b.addr) : rnd_len32(r);
	dlen = chance(r, 60) ? IPMI_MAX_MSG_LENGTH : rnd_dlen(r);
	rv.addr_len = alen;
	rv.msg.data_len = (unsigned short)dlen;
	dlen = rv.msg.data_len;
	/* A large addr_len only with a bad pointer: the kernel writes at most the address's size,
	 * but the canary check needs the real buffer to cover what was claimed. */
	rv.addr = (unsigned char *)place(t, &b.addr, sizeof(b.addr), hostile ? 25 : 2, &ahow, 0);
	rv.msg.data = place(t, b.data, DATA_BUF / 2, hostile ? 25 : 2, &dhow, 1);
	if (dlen > DATA_BUF / 2 && dhow != P_VALID) {
		dhow = P_FAULT;
		rv.msg.data = (void *)(uintptr_t)(IS32 ? 0xfffff000u : 0xffffffff81000000ULL);
	}
	void *arg = place(t, &rv, sizeof(rv), hostile ? 30 : 2, &how, 2);
	if (how == P_FAULT)
		want = EFAULT;
	describe(t, "fd %d addr_len %u (place %d) data_len %u (place %d) arg place %d", fd, alen,
		 ahow, dlen, dhow, how);
	long rc = do_ioctl(fd, ioctl_nr[kind], arg);
	int e = errno;

	outcome(t, kind, rc, e, want, shared);
	if (rc < 0 && !(trunc && e == EMSGSIZE))
		return;
	if (how != P_VALID && how != P_MISALIGNED)
		return;
	if (how == P_MISALIGNED)
		memcpy(&rv, arg, sizeof(rv));
	check_recv_result(t, kind, &rv, &b, alen > sizeof(b.addr) ? sizeof(b.addr) : alen,
			  dlen > DATA_BUF ? DATA_BUF : dlen,
			  ahow == P_VALID && dhow == P_VALID && alen <= sizeof(b.addr));
}

static void op_send(struct thr *t, int settime, int fd, int shared)
{
	struct rng *r = &t->r;
	int kind = settime ? K_SETTIME : K_SEND;
	int hostile = chance(r, 30);
	struct ipmi_req_settime st;
	struct bufs b;
	enum place how;
	int want;

	memset(&b, 0, sizeof(b));
	memset(&st, 0, sizeof(st));
	want = build_req(t, &st.req, &b, hostile);
	if (settime) {
		static const int rt[] = { -1, 0, 1, 2, 3, 10, 100, 0x7fffffff, -2, (int)0x80000000 };
		static const unsigned tm[] = { 0, 1, 5, 50, 100, 500, 1000, 5000, 60000,
					       0x7fffffff, 0xffffffff };

		/* Long retries mostly with few retries, or the KCS is kept busy retransmitting. */
		st.retries = chance(r, 97) ? (int)below(r, 3) - 1 : rt[below(r, 10)];
		st.retry_time_ms = chance(r, 95) ? below(r, 2000) : tm[below(r, 11)];
	}
	void *arg = place(t, &st, settime ? sizeof(st) : sizeof(st.req), hostile ? 20 : 2, &how, 2);
	if (how == P_FAULT)
		want = EFAULT;
	else if (how == P_FLAP) /* not a copy of st, and maybe unmapped just now */
		want = -1;
	long rc = do_ioctl(fd, ioctl_nr[kind], arg);
	outcome(t, kind, rc, errno, want, shared);
}

/* The other ABI's layouts of the four translated commands. */
struct req_other {
#if defined(__LP64__)
	uint32_t addr, addr_len;
	int32_t msgid;
	uint8_t netfn, cmd;
	uint16_t data_len;
	uint32_t data;
#else
	uint64_t addr;
	uint32_t addr_len, pad;
	int64_t msgid;
	uint8_t netfn, cmd;
	uint16_t data_len;
	uint32_t pad2;
	uint64_t data;
#endif
	int32_t retries;
	uint32_t retry_time_ms;
};

struct recv_other {
#if defined(__LP64__)
	int32_t recv_type;
	uint32_t addr, addr_len;
	int32_t msgid;
	uint8_t netfn, cmd;
	uint16_t data_len;
	uint32_t data;
#else
	int32_t recv_type, pad;
	uint64_t addr;
	uint32_t addr_len, pad2;
	int64_t msgid;
	uint8_t netfn, cmd;
	uint16_t data_len;
	uint32_t pad3;
	uint64_t data;
#endif
};

static void op_alt(struct thr *t, int recv)
{
	struct rng *r = &t->r;
	int shared, fd = pick_fd(t, &shared);
	const size_t req_sz = offsetof(struct req_other, retries);
	struct bufs b;
	unsigned long nr;
	long rc;
	enum place how;
	void *arg;

	memset(&b, CANARY, sizeof(b));
	if (recv) {
		struct recv_other o;

		memset(&o, 0, sizeof(o));
		o.addr = (uintptr_t)&b.addr;
		o.addr_len = chance(r, 80) ? sizeof(b.addr) : rnd_len32(r);
		o.data = (uintptr_t)b.data;
		o.data_len = chance(r, 80) ? IPMI_MAX_MSG_LENGTH : (uint16_t)below(r, IPMI_MAX_MSG_LENGTH);
		if (o.addr_len > sizeof(b.addr))
			o.addr_len = sizeof(b.addr);
		nr = _IOC(_IOC_READ | _IOC_WRITE, IPMI_IOC_MAGIC, chance(r, 50) ? 11 : 12, sizeof(o));
		arg = place(t, &o, sizeof(o), 20, &how, 2);
		describe(t, "other-ABI receive nr 0x%lx place %d", nr, how);
		rc = do_ioctl(fd, nr, arg);
		outcome(t, K_ALT_RECV, rc, errno, IS32 && how == P_FAULT ? EFAULT : IS32 ? -1 : ENOTTY,
			shared);
	} else {
		struct req_other o;
		int valid_sure, to_bmc;
		int settime = chance(r, 50);

		memset(&o, 0, sizeof(o));
		o.addr_len = rnd_addr(r, &b.addr, &valid_sure, &to_bmc);
		o.addr = (uintptr_t)&b.addr;
		o.msgid = (int32_t)rnd(r);
		rnd_cmd(r, to_bmc, &o.netfn, &o.cmd);
		o.data_len = (uint16_t)below(r, 8);
		o.data = chance(r, 50) ? (uintptr_t)b.data : 0;
		o.retries = (int)below(r, 3) - 1;
		o.retry_time_ms = below(r, 1000);
		if (chance(r, 20))
			o.addr = (uint32_t)rnd(r);
		nr = _IOC(_IOC_READ, IPMI_IOC_MAGIC, settime ? 21 : 13,
			  settime ? sizeof(o) : req_sz);
		arg = place(t, &o, settime ? sizeof(o) : req_sz, 20, &how, 2);
		describe(t, "other-ABI send nr 0x%lx place %d", nr, how);
		rc = do_ioctl(fd, nr, arg);
		outcome(t, K_ALT_SEND, rc, errno, IS32 && how == P_FAULT ? EFAULT : IS32 ? -1 : ENOTTY,
			shared);
	}
}

static void op_unknown(struct thr *t)
{
	struct rng *r = &t->r;
	int shared, fd = pick_fd(t, &shared);
	unsigned long nr;
	unsigned char buf[64];
	int known;

	do {
		unsigned dir = below(r, 4), n = chance(r, 70) ? below(r, 40) : below(r, 256);
		unsigned size = chance(r, 50) ? below(r, 64) : below(r, 1 << 14);

		nr = _IOC(dir, IPMI_IOC_MAGIC, n, size);
		known = 0;
		for (int k = 0; k < N_IOCTLS; k++)
			known |= ioctl_nr[k] == nr;
		if (IS32) /* the native numbers are handled (see errset) */
			known |= (n == 11 || n == 12 || n == 13 || n == 21) &&
				 (size == sizeof(struct req_other) ||
				  size == offsetof(struct req_other, retries) ||
				  size == sizeof(struct recv_other));
	} while (known);
	memset(buf, 0, sizeof(buf));
	describe(t, "nr 0x%lx", nr);
	long rc = do_ioctl(fd, nr, chance(r, 50) ? (void *)buf : (void *)(uintptr_t)rnd(r));
	outcome(t, K_UNKNOWN, rc, errno, ENOTTY, shared);
}

static void op_cmdspec(struct thr *t, int kind)
{
	struct rng *r = &t->r;
	int shared, fd = pick_fd(t, &shared), want = -1;
	enum place how;
	void *arg;
	union {
		struct ipmi_cmdspec c;
		struct ipmi_cmdspec_chans cc;
	} u;

	memset(&u, 0, sizeof(u));
	/* Mostly netfn 0x30 cmd 0-7 (what t-ext-fuzz.sh injects), sometimes anything. */
	if (chance(r, 70)) {
		u.cc.netfn = 0x30;
		u.cc.cmd = below(r, 8);
	} else {
		u.cc.netfn = chance(r, 50) ? (int)below(r, 0x40) : (int)rnd(r);
		u.cc.cmd = chance(r, 50) ? (int)below(r, 256) : (int)rnd(r);
	}
	u.cc.chans = rnd_chans(r);
	if (kind == K_REG || kind == K_UNREG) {
		struct ipmi_cmdspec c = { (unsigned char)u.cc.netfn, (unsigned char)u.cc.cmd };

		u.c = c;
		arg = place(t, &u, sizeof(u.c), 10, &how, 2);
	} else {
		arg = place(t, &u, sizeof(u.cc), 10, &how, 2);
	}
	if (how == P_FAULT)
		want = EFAULT;
	describe(t, "fd %d netfn 0x%x cmd 0x%x chans 0x%x place %d", fd, u.cc.netfn, u.cc.cmd,
		 u.cc.chans, how);
	long rc = do_ioctl(fd, ioctl_nr[kind], arg);
	outcome(t, kind, rc, errno, want, shared);
}

/* The int/unsigned-int and channel/value ioctls. */
static void op_small(struct thr *t, int kind)
{
	struct rng *r = &t->r;
	int shared, fd = pick_fd(t, &shared), want = -1;
	enum place how;
	union {
		int i;
		unsigned int u;
		struct ipmi_channel_lun_address_set cl;
		struct ipmi_timing_parms tp;
	} u, before;
	size_t len = sizeof(int);
	int is_get = 0;

	memset(&u, 0, sizeof(u));
	switch (kind) {
	case K_EVENTS:
		u.i = chance(r, 50) ? (int)below(r, 2) : (int)rnd(r);
		break;
	case K_SET_ADDR:
		u.u = chance(r, 60) ? 0x20 + 2 * below(r, 8) : (unsigned)rnd(r);
		break;
	case K_SET_LUN:
		u.u = chance(r, 60) ? below(r, 4) : (unsigned)rnd(r);
		break;
	case K_GET_ADDR:
	case K_GET_LUN:
	case K_GET_MAINT:
		is_get = 1;
		memset(&u, 0xa5, sizeof(u));
		break;
	case K_SET_CH_ADDR:
	case K_GET_CH_ADDR:
	case K_SET_CH_LUN:
	case K_GET_CH_LUN:
		len = sizeof(u.cl);
		u.cl.channel = (unsigned short)rnd_chan(r);
		u.cl.value = kind == K_SET_CH_LUN && chance(r, 60) ? below(r, 4) :
			     chance(r, 60) ? 0x20 + 2 * below(r, 8) : (unsigned char)rnd(r);
		is_get = kind == K_GET_CH_ADDR || kind == K_GET_CH_LUN;
		break;
	case K_SET_TIMING: {
		static const int rt[] = { -1, 0, 1, 2, 5, 0x7fffffff, (int)0x80000000, -100 };
		static const unsigned tm[] = { 0, 1, 10, 100, 1000, 4000, 0x7fffffff, 0xffffffff };

		len = sizeof(u.tp);
		/* Extreme values sometimes; mostly sane, so that later sends finish in time. */
		u.tp.retries = chance(r, 95) ? (int)below(r, 3) - 1 : rt[below(r, 8)];
		u.tp.retry_time_ms = chance(r, 95) ? below(r, 1500) : tm[below(r, 8)];
		break;
	}
	case K_GET_TIMING:
		len = sizeof(u.tp);
		is_get = 1;
		memset(&u, 0xa5, sizeof(u));
		break;
	case K_SET_MAINT:
		u.i = chance(r, 60) ? (int)below(r, 4) - (chance(r, 20) ? 1 : 0) : (int)rnd(r);
		break;
	}
	before = u;
	void *arg = place(t, &u, len, 10, &how, 2);
	int per_chan = kind == K_SET_CH_ADDR || kind == K_GET_CH_ADDR || kind == K_SET_CH_LUN ||
		       kind == K_GET_CH_LUN;

	/* A GET copies its result out last: a read-only argument fails there, unless the
	 * channel was refused before (ipmi_get_my_address() and ipmi_get_my_LUN()). */
	if (how == P_FAULT)
		want = EFAULT;
	else if (per_chan && u.cl.channel >= 16 /* IPMI_MAX_CHANNELS */ && how != P_FLAP)
		want = EINVAL;
	else if (is_get && how == P_RO)
		want = EFAULT;
	else if (kind == K_SET_MAINT && (u.i < 0 || u.i > 2) && how != P_FLAP)
		want = EINVAL;
	describe(t, "fd %d value 0x%x/0x%x place %d", fd, before.u, (unsigned)before.tp.retry_time_ms,
		 how);
	long rc = do_ioctl(fd, ioctl_nr[kind], arg);
	outcome(t, kind, rc, errno, want, shared);
	if (rc < 0 || (how != P_VALID && how != P_MISALIGNED))
		return;
	if (how == P_MISALIGNED)
		memcpy(&u, arg, len);
	switch (kind) {
	case K_GET_ADDR:
		if (u.u > 0xff)
			bad_result(t, kind, "address 0x%x", u.u);
		break;
	case K_GET_LUN:
		if (u.u > 3)
			bad_result(t, kind, "LUN 0x%x", u.u);
		break;
	case K_GET_CH_LUN:
		if (u.cl.value > 3)
			bad_result(t, kind, "LUN 0x%x", u.cl.value);
		/* fallthrough */
	case K_GET_CH_ADDR:
		if (u.cl.channel != before.cl.channel)
			bad_result(t, kind, "channel changed %u -> %u", before.cl.channel,
				   u.cl.channel);
		break;
	case K_GET_MAINT:
		if (u.i < 0 || u.i > 2)
			bad_result(t, kind, "mode %d", u.i);
		break;
	}
}

/* ---- other operations ----------------------------------------------------------------------- */

static void op_poll(struct thr *t)
{
	struct rng *r = &t->r;
	struct pollfd p[4];
	int n = 1 + below(r, 4), shared, rc;

	for (int k = 0; k < n; k++) {
		p[k].fd = pick_fd(t, &shared);
		p[k].events = chance(r, 80) ? POLLIN | POLLRDNORM : (short)rnd(r);
		p[k].revents = 0;
	}
	rc = poll(p, n, chance(r, 80) ? 0 : (int)below(r, 5));
	if (rc < 0 && errno == EINTR)
		rc = 0;
	outcome(t, K_POLL, rc, errno, -1, 1);
	for (int k = 0; rc > 0 && k < n; k++)
		if (p[k].revents & ~(POLLIN | POLLRDNORM | POLLNVAL))
			bad_result(t, K_POLL, "revents 0x%x", p[k].revents);
}

static void op_select(struct thr *t)
{
	struct rng *r = &t->r;
	fd_set rd, wr;
	int shared, maxfd = -1, rc;
	struct timeval tv = { 0, chance(r, 80) ? 0 : (long)below(r, 3000) };

	FD_ZERO(&rd);
	FD_ZERO(&wr);
	for (int k = 1 + below(r, 4); k > 0; k--) {
		int fd = pick_fd(t, &shared);

		if (fd >= FD_SETSIZE)
			continue;
		FD_SET(fd, chance(r, 80) ? &rd : &wr);
		if (fd > maxfd)
			maxfd = fd;
	}
#if defined(__LP64__)
	rc = select(maxfd + 1, &rd, &wr, NULL, &tv);
#else
	/* i386 glibc's select() falls back to _newselect, which needs CONFIG_COMPAT_32BIT_TIME
	 * (off in the debug kernel): call the time64 one directly. */
	struct {
		int64_t sec, nsec;
	} ts64 = { 0, tv.tv_usec * 1000LL };
	rc = syscall(SYS_pselect6_time64, maxfd + 1, &rd, &wr, NULL, &ts64, NULL);
#endif
	if (rc < 0 && errno == EINTR)
		rc = 0;
	outcome(t, K_SELECT, rc, errno, -1, 1);
}

static void op_epoll(struct thr *t)
{
	struct rng *r = &t->r;
	int shared, fd = pick_fd(t, &shared);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd }, got[4];
	int rc;

	switch (below(r, 3)) {
	case 0:
		rc = epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev);
		/* EEXIST: already there (the number may now be another file; fine) */
		if (rc < 0 && (errno == EEXIST || errno == EBADF || errno == ENOENT))
			rc = 0;
		break;
	case 1:
		rc = epoll_ctl(t->epfd, EPOLL_CTL_DEL, fd, &ev);
		if (rc < 0 && (errno == ENOENT || errno == EBADF))
			rc = 0;
		break;
	default:
		rc = epoll_wait(t->epfd, got, 4, chance(r, 80) ? 0 : (int)below(r, 3));
		if (rc < 0 && errno == EINTR)
			rc = 0;
		for (int k = 0; k < rc; k++)
			if (got[k].events & ~(EPOLLIN | EPOLLRDNORM))
				bad_result(t, K_EPOLL, "events 0x%x", got[k].events);
		break;
	}
	outcome(t, K_EPOLL, rc, errno, -1, 1);
}

static void op_send_close(struct thr *t)
{
	struct rng *r = &t->r;
	int fd = open(dev_path, O_RDWR);

	if (fd < 0) {
		outcome(t, K_OPEN, -1, errno, -1, 0);
		return;
	}
	/* A few requests to the (possibly slow) BMC, maybe a registration, then close at once
	 * or after a moment: the answers arrive for a file that is gone. */
	int n = 1 + below(r, 4);
	for (int k = 0; k < n; k++) {
		struct ipmi_req req;
		struct ipmi_ipmb_addr ipmb = { IPMI_IPMB_ADDR_TYPE, 0, 0x40, 2 };
		struct ipmi_system_interface_addr si = { IPMI_SYSTEM_INTERFACE_ADDR_TYPE,
							 IPMI_BMC_CHANNEL, 0 };

		memset(&req, 0, sizeof(req));
		if (chance(r, 70)) {
			req.addr = (unsigned char *)&si;
			req.addr_len = sizeof(si);
		} else {
			req.addr = (unsigned char *)&ipmb;
			req.addr_len = sizeof(ipmb);
		}
		req.msgid = k;
		req.msg.netfn = IPMI_NETFN_APP_REQUEST;
		req.msg.cmd = IPMI_GET_DEVICE_ID_CMD;
		describe(t, "fd %d request %d of %d", fd, k, n);
		long rc = ioctl(fd, IPMICTL_SEND_COMMAND, &req);
		outcome(t, K_SEND_CLOSE, rc, errno, -1, 0);
	}
	if (chance(r, 30)) {
		struct ipmi_cmdspec_chans c = { 0x30, (int)below(r, 8), rnd_chans(r) };

		ioctl(fd, IPMICTL_REGISTER_FOR_CMD_CHANS, &c);
	}
	if (chance(r, 20)) {
		int on = 1;

		ioctl(fd, IPMICTL_SET_GETS_EVENTS_CMD, &on);
	}
	if (chance(r, 30))
		usleep(below(r, 30000));
	if (chance(r, 30))
		slot_put(t, fd); /* leave it to be closed by whoever replaces it */
	else
		close(fd);
}

static void op_open(struct thr *t)
{
	int fd = open(dev_path, open_flags(&t->r));

	outcome(t, K_OPEN, fd, errno, -1, 0);
	if (fd >= 0)
		slot_put(t, fd);
}

static void op_close(struct thr *t)
{
	int fd = atomic_exchange(&slots[below(&t->r, NSLOTS)], -1);

	if (fd >= 0) {
		long rc = close(fd);

		/* A forked child's slots are a snapshot taken while other threads of the parent
		 * were opening and closing: a slot may name an fd that was already closed there. */
		if (is_child && rc < 0 && errno == EBADF)
			return;
		describe(t, "fd %d%s", fd, is_child ? " (in a forked child)" : "");
		outcome(t, K_CLOSE, rc, errno, 0, 0);
	}
}

static void op_dup(struct thr *t)
{
	struct rng *r = &t->r;
	int shared, src = pick_fd(t, &shared), fd;

	switch (below(r, 3)) {
	case 0:
		fd = dup(src);
		break;
	case 1: /* onto a file we own: replaces (closes) it */
		fd = atomic_exchange(&slots[below(r, NSLOTS)], -1);
		if (fd < 0)
			fd = dup(src);
		else if (dup2(src, fd) < 0) {
			int e = errno;

			close(fd);
			fd = -1;
			errno = e;
		}
		break;
	default:
		fd = fcntl(src, chance(r, 50) ? F_DUPFD : F_DUPFD_CLOEXEC, (int)below(r, 64));
		break;
	}
	outcome(t, K_DUP, fd, errno, -1, 1);
	if (fd >= 0)
		slot_put(t, fd);
}

static void op_async(struct thr *t)
{
	struct rng *r = &t->r;
	int shared, fd = pick_fd(t, &shared), fl, rc = 0;

	if (fd == t->own_fd && chance(r, 80))
		return; /* mostly on shared files */
	if (chance(r, 50))
		rc = fcntl(fd, F_SETOWN, getpid());
	fl = fcntl(fd, F_GETFL);
	if (rc == 0 && fl >= 0)
		rc = fcntl(fd, F_SETFL, chance(r, 50) ? fl | O_ASYNC : fl & ~O_ASYNC);
	else if (fl < 0)
		rc = fl;
	outcome(t, K_ASYNC, rc, errno, -1, 1);
}

static void op_fileops(struct thr *t)
{
	struct rng *r = &t->r;
	int shared, fd = pick_fd(t, &shared);
	char buf[64];
	long rc;
	int want;

	/* ipmi_devintf has no read, write or mmap (EINVAL, EINVAL, ENODEV) and noop_llseek. */
	switch (below(r, 4)) {
	case 0:
		rc = read(fd, buf, below(r, sizeof(buf)));
		want = EINVAL;
		break;
	case 1:
		rc = write(fd, buf, below(r, sizeof(buf)));
		want = EINVAL;
		break;
	case 2: {
		void *m = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);

		rc = m == MAP_FAILED ? -1 : 0;
		if (m != MAP_FAILED)
			munmap(m, PAGE);
		want = ENODEV;
		break;
	}
	default:
		rc = lseek(fd, (off_t)below(r, 100), SEEK_SET);
		if (rc > 0)
			rc = 0;
		want = -1;
		break;
	}
	/* Reading or writing a file opened O_WRONLY/O_RDONLY is EBADF before the driver is asked. */
	if (rc < 0 && errno == EBADF)
		want = -1;
	describe(t, "fd %d", fd);
	outcome(t, K_FILEOPS, rc, errno, shared ? -1 : want, shared);
}

static void op_flap(struct thr *t)
{
	/* Unmap or map back the page place() sometimes points arguments into. */
	int prot = chance(&t->r, 50) ? PROT_NONE : PROT_READ | PROT_WRITE;

	long rc = mprotect(flap_page, PAGE, prot);

	outcome(t, K_FLAP, rc, errno, 0, 0);
}

static void one_op(struct thr *t, int in_child);

static void op_fork(struct thr *t)
{
	int n = 1 + below(&t->r, 8);
	uint64_t child_seed = rnd(&t->r);
	pid_t pid = fork();

	if (pid == 0) {
		/* Another thread may have held a lock at fork(): out() takes none in the child,
		 * and an alarm ends a child that hangs anyway (reported as a signal). */
		long before = atomic_load(&n_unexpected) + atomic_load(&n_badresult);

		is_child = 1;
		signal(SIGALRM, SIG_DFL);
		alarm(60);
		t->r.s = child_seed | 1;
		for (int k = 0; k < n; k++)
			one_op(t, 1);
		_exit(atomic_load(&n_unexpected) + atomic_load(&n_badresult) != before ? 1 : 0);
	}
	int status = 0;

	if (pid > 0) {
		atomic_fetch_add(&n_forks, 1);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFSIGNALED(status)) {
			atomic_fetch_add(&n_badresult, 1);
			report(t, "SIGNAL", K_FORK, "the forked child died of signal %d",
			       WTERMSIG(status));
		} else if (WEXITSTATUS(status) != 0) {
			atomic_fetch_add(&n_unexpected, 1);
			report(t, "UNEXPECTED", K_FORK, "the forked child found unexpected results");
		}
	}
	outcome(t, K_FORK, pid < 0 ? -1 : 0, errno, -1, 0);
}

/* ---- the loop -------------------------------------------------------------------------------- */

static void one_op(struct thr *t, int in_child)
{
	struct rng *r = &t->r;
	unsigned w = below(r, 1000);
	int shared, fd;

	t->desc[0] = 0;
	t->t0 = now_ns();
	if (w < 170) { /* sends */
		fd = pick_fd(t, &shared);
		op_send(t, chance(r, 35), fd, shared);
	} else if (w < 300) {
		op_recv(t, chance(r, 50));
	} else if (w < 340) {
		/* 4%: on ripmi each (un)registration waits for an RCU grace period, about 0.3 s
		 * on the debug kernel under TCG, which would otherwise take most of the time. */
		static const int k[] = { K_REG, K_UNREG, K_REG_CHANS, K_UNREG_CHANS, K_REG_CHANS,
					 K_UNREG_CHANS };
		op_cmdspec(t, k[below(r, 6)]);
	} else if (w < 640) { /* 30% */
		static const int k[] = { K_EVENTS, K_SET_ADDR, K_GET_ADDR, K_SET_LUN, K_GET_LUN,
					 K_SET_TIMING, K_GET_TIMING, K_SET_CH_ADDR, K_GET_CH_ADDR,
					 K_SET_CH_LUN, K_GET_CH_LUN, K_GET_MAINT, K_SET_MAINT };
		op_small(t, k[below(r, 13)]);
	} else if (w < 660) {
		op_alt(t, chance(r, 50));
	} else if (w < 690) {
		op_unknown(t);
	} else if (w < 740) {
		op_open(t);
	} else if (w < 790) {
		op_close(t);
	} else if (w < 810) {
		op_dup(t);
	} else if (w < 840) {
		op_poll(t);
	} else if (w < 855) {
		op_select(t);
	} else if (w < 875) {
		op_epoll(t);
	} else if (w < 930) {
		op_send_close(t);
	} else if (w < 945) {
		op_async(t);
	} else if (w < 965) {
		op_fileops(t);
	} else if (w < 970) {
		op_flap(t);
	} else if (w < 973 && !in_child) {
		op_fork(t);
	} else {
		fd = pick_fd(t, &shared);
		op_send(t, 0, fd, shared);
	}
}

static void *worker(void *arg)
{
	struct thr *t = arg;
	long next_report = max_ops / 10;

	for (;;) {
		long n = atomic_fetch_add(&ops_taken, 1);

		if (n >= max_ops || atomic_load(&fatal_signal))
			break;
		if (time_limit_s && (n & 63) == 0 && now_ms() - t_start > time_limit_s * 1000) {
			atomic_store(&ops_taken, max_ops);
			break;
		}
		one_op(t, 0);
		long d = atomic_fetch_add(&ops_done, 1) + 1;

		if (!quiet && t->id == 0 && d >= next_report) {
			out("fuzz: progress %ld operations, %ld unexpected, %.1f s\n", d,
			    atomic_load(&n_unexpected), (now_ms() - t_start) / 1000.0);
			next_report = d + max_ops / 10;
		}
	}
	return NULL;
}

/* ---- signals ------------------------------------------------------------------------------- */

static void on_sigio(int sig)
{
	(void)sig;
	atomic_fetch_add(&n_sigio, 1);
}

static void on_fatal(int sig)
{
	char msg[80];
	int n = snprintf(msg, sizeof(msg), "fuzz: SIGNAL %d received: failing\n", sig);

	atomic_store(&fatal_signal, sig);
	if (write(1, msg, n) < 0)
		_exit(3);
	if (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE) {
		n = snprintf(msg, sizeof(msg), "fuzz: 0 operations, 1 errors-unexpected (signal %d)\n",
			     sig);
		if (write(1, msg, n) < 0)
			_exit(3);
		_exit(3);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: fuzz-ioctl [-n OPS] [-j THREADS] [-s SEED] [-d DEVICE] "
			"[-t SECONDS] [-S] [-q]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int c;
	struct thr thr[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	int have_seed = 0;

	dev_path = getenv("IPMI_DEV") && *getenv("IPMI_DEV") ? getenv("IPMI_DEV") : "/dev/ipmi0";
	while ((c = getopt(argc, argv, "n:j:s:d:t:Sqh")) != -1) {
		switch (c) {
		case 'n': max_ops = strtol(optarg, NULL, 0); break;
		case 'j': nthreads = atoi(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 0); have_seed = 1; break;
		case 'd': dev_path = optarg; break;
		case 't': time_limit_s = strtol(optarg, NULL, 0); break;
		case 'S': state_changing = 1; break;
		case 'q': quiet = 1; break;
		default: usage();
		}
	}
	if (optind != argc || max_ops < 0 || nthreads < 1 || nthreads > MAX_THREADS)
		usage();
	if (IS32 && nthreads > 1) {
		/* A contended futex wait in i386 glibc uses futex(2) with 32-bit time, which the
		 * kernel only has with CONFIG_COMPAT_32BIT_TIME (the debug kernel has not): glibc
		 * then aborts. One thread (and forks) it is. */
		out("fuzz: 32-bit: one thread instead of %d (i386 glibc's futex waits need "
		    "CONFIG_COMPAT_32BIT_TIME)\n", nthreads);
		nthreads = 1;
	}
	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32;
	}
	out("fuzz: seed %" PRIu64 " (repeat: fuzz-ioctl -s %" PRIu64 " -j %d -n %ld%s), %s, %s\n",
	    seed, seed, nthreads, max_ops, state_changing ? " -S" : "", dev_path,
	    IS32 ? "32-bit (compat_ioctl)" : "64-bit");

	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigio;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGIO, &sa, NULL);
	sa.sa_handler = on_fatal;
	for (int s = 1; s < 32; s++)
		if (s != SIGIO && s != SIGCHLD && s != SIGKILL && s != SIGSTOP && s != SIGWINCH &&
		    s != SIGURG && s != SIGCONT)
			sigaction(s, &sa, NULL);

	none_page = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	flap_page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (none_page == MAP_FAILED || flap_page == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	for (int k = 0; k < NSLOTS; k++)
		slots[k] = -1;
	/* Everything that is not the device is opened before the threads start, so a stale
	 * slot number can only ever name a file of the device. */
	uint64_t sm = seed;
	for (int i = 0; i < nthreads; i++) {
		struct thr *t = &thr[i];

		memset(t, 0, sizeof(*t));
		t->id = i;
		t->r.s = splitmix(&sm) | 1;
		t->own_fd = open(dev_path, O_RDWR);
		t->epfd = epoll_create1(0);
		t->arena = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				-1, 0);
		if (t->own_fd < 0 || t->epfd < 0 || t->arena == MAP_FAILED) {
			fprintf(stderr, "fuzz: setup of thread %d: %s\n", i, strerror(errno));
			return 2;
		}
		if (mprotect(ARENA_GUARD(t), PAGE, PROT_NONE) || mprotect(ARENA_RO(t), PAGE, PROT_READ)) {
			perror("mprotect");
			return 2;
		}
	}
	t_start = now_ms();
	if (nthreads == 1) {
		worker(&thr[0]);
	} else {
		for (int i = 0; i < nthreads; i++)
			if (pthread_create(&tid[i], NULL, worker, &thr[i])) {
				fprintf(stderr, "fuzz: pthread_create failed\n");
				return 2;
			}
		for (int i = 0; i < nthreads; i++)
			pthread_join(tid[i], NULL);
	}
	long ms = now_ms() - t_start;

	/* Close everything: whatever is still in flight is answered to files that are gone. */
	for (int k = 0; k < NSLOTS; k++)
		if (slots[k] >= 0)
			close(slots[k]);
	for (int i = 0; i < nthreads; i++) {
		close(thr[i].own_fd);
		close(thr[i].epfd);
	}

	for (int k = 0; k < N_KINDS; k++) {
		struct kstat *s = &kstats[k];
		char h[200] = "";
		size_t o = 0;

		long long ns = 0;

		if (!s->calls)
			continue;
		for (int i = 0; i < nthreads; i++)
			ns += thr[i].kns[k];
		for (int i = 0; i < NHIST && s->herr[i]; i++)
			o += snprintf(h + o, sizeof(h) - o, " %s=%ld", ename(s->herr[i]), s->hcnt[i]);
		out("fuzz: %-28s %8ld calls %8ld ok %6.0f us/call%s\n", kname[k], s->calls, s->ok,
		    ns / 1000.0 / s->calls, h);
	}
	long bad = n_unexpected + n_badresult + (fatal_signal ? 1 : 0);
	out("fuzz: %ld operations, %ld errors-unexpected, %ld bad-results, %ld expected-errors, "
	    "%ld ok, %ld forks, %ld SIGIO, signal %d, %.1f s (%.0f ops/s), seed %" PRIu64 "\n",
	    atomic_load(&ops_done), atomic_load(&n_unexpected), atomic_load(&n_badresult),
	    atomic_load(&n_expected_err), atomic_load(&n_ok), atomic_load(&n_forks),
	    atomic_load(&n_sigio), atomic_load(&fatal_signal), ms / 1000.0,
	    ms ? atomic_load(&ops_done) * 1000.0 / ms : 0.0, seed);
	return bad ? 1 : 0;
}
