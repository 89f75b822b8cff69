/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for ripmi's guest test programs (static, no external libraries).
 *
 * Every program reports one line per check:
 *   RIPMI-RESULT pass GROUP/NAME
 *   RIPMI-RESULT fail GROUP/NAME: detail
 * and exits non-zero if any check failed. The device is $IPMI_DEV (default /dev/ipmi0), so the
 * same binary tests whichever stack (C or ripmi) owns the node.
 *
 * The helpers compile both as 64-bit and as 32-bit (-m32) code: with -m32 the uapi structs and
 * the IPMICTL_* numbers of <linux/ipmi.h> take their 32-bit layout, which is exactly what the
 * kernel's compat_ioctl path has to translate.
 */
#ifndef RIPMI_TEST_H
#define RIPMI_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/ipmi.h>

/* Not every program uses every helper. */
#define RT_FN static __attribute__((unused))

static const char *rt_group __attribute__((unused)) = "test";
static int rt_passed __attribute__((unused)), rt_failed __attribute__((unused));

RT_FN void rt_pass(const char *name)
{
	printf("RIPMI-RESULT pass %s/%s\n", rt_group, name);
	fflush(stdout);
	rt_passed++;
}

__attribute__((format(printf, 2, 3)))
RT_FN void rt_fail(const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("RIPMI-RESULT fail %s/%s: ", rt_group, name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	rt_failed++;
}

/* Reports NAME as passed if ok, else as failed with the formatted detail. */
__attribute__((format(printf, 3, 4)))
RT_FN int rt_check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	if (ok) {
		rt_pass(name);
		return 1;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rt_fail(name, "%s", buf);
	return 0;
}

RT_FN const char *rt_errname(int e)
{
	switch (e) {
	case 0: return "success";
	case EFAULT: return "EFAULT";
	case EINVAL: return "EINVAL";
	case EMSGSIZE: return "EMSGSIZE";
	case EAGAIN: return "EAGAIN";
	case ENOTTY: return "ENOTTY";
	case EBUSY: return "EBUSY";
	case ENOENT: return "ENOENT";
	case ENODEV: return "ENODEV";
	case ENOMEM: return "ENOMEM";
	case EIO: return "EIO";
	case ENXIO: return "ENXIO";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case ETIMEDOUT: return "ETIMEDOUT (no message)";
	default: return strerror(e);
	}
}

/*
 * Checks that a syscall that returned rc (with errno) failed with exactly `want`
 * (want 0: it must have succeeded).
 */
RT_FN int rt_expect_errno(const char *name, long rc, int want)
{
	int got = rc < 0 ? errno : 0;

	if (want == 0)
		return rt_check(rc >= 0, name, "expected success, got %s (rc %ld)",
				rt_errname(got), rc);
	return rt_check(rc == -1 && got == want, name, "expected %s, got %s (rc %ld)",
			rt_errname(want), rc == -1 ? rt_errname(got) : "success", rc);
}

RT_FN const char *rt_dev(void)
{
	const char *d = getenv("IPMI_DEV");

	return d && *d ? d : "/dev/ipmi0";
}

RT_FN int rt_open(void)
{
	return open(rt_dev(), O_RDWR);
}

/* One page the process cannot touch: copy_{from,to}_user on it must fault. */
RT_FN void *rt_bad_page(void)
{
	static void *p;

	if (!p) {
		p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			exit(2);
		}
	}
	return p;
}

/* A page that can be read but not written (copy_from_user works, copy_to_user faults). */
RT_FN void *rt_ro_page(const void *content, size_t len)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	memcpy(p, content, len);
	if (mprotect(p, 4096, PROT_READ)) {
		perror("mprotect");
		exit(2);
	}
	return p;
}

RT_FN long rt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Sleeps ms milliseconds even if signals arrive meanwhile. */
RT_FN void rt_sleep_ms(long ms)
{
	long end = rt_now_ms() + ms;
	long left;

	while ((left = end - rt_now_ms()) > 0)
		usleep(left * 1000);
}

/* poll() for POLLIN with a timeout; returns revents (0 on timeout, -1 on error). */
RT_FN int rt_wait_in(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDNORM };
	int rc;

	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -1;
	return rc == 0 ? 0 : p.revents;
}

static struct ipmi_system_interface_addr rt_si_addr __attribute__((unused)) = {
	.addr_type = IPMI_SYSTEM_INTERFACE_ADDR_TYPE,
	.channel = IPMI_BMC_CHANNEL,
	.lun = 0,
};

/* Fills req for a system-interface request netfn/cmd with the given data. */
RT_FN void rt_si_req(struct ipmi_req *req, long msgid, unsigned char netfn, unsigned char cmd,
		      unsigned char *data, unsigned short data_len)
{
	memset(req, 0, sizeof(*req));
	req->addr = (unsigned char *)&rt_si_addr;
	req->addr_len = sizeof(rt_si_addr);
	req->msgid = msgid;
	req->msg.netfn = netfn;
	req->msg.cmd = cmd;
	req->msg.data = data;
	req->msg.data_len = data_len;
}

/* Sends Get Device ID (App 0x06/0x01) to the BMC through SEND_COMMAND. */
RT_FN int rt_send_get_device_id(int fd, long msgid)
{
	struct ipmi_req req;

	rt_si_req(&req, msgid, IPMI_NETFN_APP_REQUEST, IPMI_GET_DEVICE_ID_CMD, NULL, 0);
	return ioctl(fd, IPMICTL_SEND_COMMAND, &req);
}

/* A receive buffer: the struct plus its address and data buffers. */
struct rt_recv {
	struct ipmi_recv r;
	struct ipmi_addr addr;
	unsigned char data[IPMI_MAX_MSG_LENGTH + 16];
};

RT_FN void rt_recv_init(struct rt_recv *rv, unsigned int addr_len, unsigned short data_len)
{
	memset(rv, 0, sizeof(*rv));
	memset(rv->data, 0xa5, sizeof(rv->data));
	memset(&rv->addr, 0xa5, sizeof(rv->addr));
	rv->r.recv_type = -1;
	rv->r.msgid = -1;
	rv->r.addr = (unsigned char *)&rv->addr;
	rv->r.addr_len = addr_len;
	rv->r.msg.data = rv->data;
	rv->r.msg.data_len = data_len;
}

/* Receives one message with a full-size buffer; returns the ioctl's rc. */
RT_FN int rt_recv_full(int fd, struct rt_recv *rv, unsigned long cmd)
{
	rt_recv_init(rv, sizeof(rv->addr), IPMI_MAX_MSG_LENGTH);
	return ioctl(fd, cmd, &rv->r);
}

/*
 * Checks a received Get Device ID response against what the C stack delivers
 * (handle_recv in ipmi_devintf.c + deliver_response in ipmi_msghandler.c): recv_type
 * IPMI_RESPONSE_RECV_TYPE, the system-interface address (8 bytes, channel 0xf, lun 0), the
 * request's msgid, netfn 7 (App response), cmd 1, cc 0, Device ID 0x20 (QEMU's ipmi-bmc-sim
 * default). Returns 1 if everything matched, else 0 with a description in why.
 */
RT_FN int rt_is_device_id_rsp(const struct rt_recv *rv, long msgid, char *why, size_t whylen)
{
	const struct ipmi_system_interface_addr *a = (const void *)&rv->addr;

	if (rv->r.recv_type != IPMI_RESPONSE_RECV_TYPE)
		snprintf(why, whylen, "recv_type %d, want 1", rv->r.recv_type);
	else if (rv->r.addr_len != sizeof(struct ipmi_system_interface_addr))
		snprintf(why, whylen, "addr_len %u, want 8", rv->r.addr_len);
	else if (a->addr_type != IPMI_SYSTEM_INTERFACE_ADDR_TYPE || a->channel != IPMI_BMC_CHANNEL ||
		 a->lun != 0)
		snprintf(why, whylen, "addr type 0x%x chan 0x%x lun %u, want 0xc 0xf 0", a->addr_type,
			 a->channel, a->lun);
	else if (rv->r.msgid != msgid)
		snprintf(why, whylen, "msgid %ld, want %ld", (long)rv->r.msgid, msgid);
	else if (rv->r.msg.netfn != (IPMI_NETFN_APP_REQUEST | 1) ||
		 rv->r.msg.cmd != IPMI_GET_DEVICE_ID_CMD)
		snprintf(why, whylen, "netfn 0x%x cmd 0x%x, want 0x7 0x1", rv->r.msg.netfn,
			 rv->r.msg.cmd);
	else if (rv->r.msg.data_len < 12)
		snprintf(why, whylen, "data_len %u, want >= 12", rv->r.msg.data_len);
	else if (rv->data[0] != 0 || rv->data[1] != 0x20)
		snprintf(why, whylen, "cc 0x%02x device id 0x%02x, want 0x00 0x20", rv->data[0],
			 rv->data[1]);
	else
		return 1;
	return 0;
}

/* Waits up to timeout_ms for a message, then receives it with a full buffer. */
RT_FN int rt_wait_recv(int fd, struct rt_recv *rv, unsigned long cmd, int timeout_ms)
{
	int ev = rt_wait_in(fd, timeout_ms);

	if (ev <= 0) {
		errno = ev == 0 ? ETIMEDOUT : errno;
		return -1;
	}
	return rt_recv_full(fd, rv, cmd);
}

/* Prints every field of a received message on one line, for comparing stacks byte for byte. */
RT_FN void rt_print_recv(const char *prefix, const struct rt_recv *rv, int with_addr)
{
	printf("%s recv_type=%d addr_len=%u msgid=%ld netfn=%02x cmd=%02x data=", prefix,
	       rv->r.recv_type, rv->r.addr_len, rv->r.msgid, rv->r.msg.netfn, rv->r.msg.cmd);
	for (int i = 0; i < rv->r.msg.data_len; i++)
		printf("%02x", rv->data[i]);
	if (with_addr) {
		printf(" addr=");
		for (unsigned int i = 0; i < rv->r.addr_len; i++)
			printf("%02x", ((const unsigned char *)&rv->addr)[i]);
	}
	printf("\n");
}

/* Receives and drops everything queued (no waiting). */
RT_FN void rt_drain(int fd)
{
	struct rt_recv rv;

	while (rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG_TRUNC) == 0 || errno == EMSGSIZE)
		;
}

RT_FN int rt_finish(void)
{
	printf("# %s: %d passed, %d failed\n", rt_group, rt_passed, rt_failed);
	return rt_failed ? 1 : 0;
}

#endif
