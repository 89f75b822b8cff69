// SPDX-License-Identifier: GPL-2.0
/*
 * t-compat32: the 32-bit (compat_ioctl) side of /dev/ipmiN, run as a 32-bit process.
 *
 * tests/guest/Makefile builds every *32.c with -m32 only (the %32 pattern rule wins over %), so
 * the /ripmi/tests/t-compat32 binary is an i386 program. Built that way, <linux/ipmi.h> gives the
 * 32-bit struct layouts, so the IPMICTL_* numbers are the four that compat_ipmi_ioctl in
 * ipmi_devintf.c translates (SEND_COMMAND 0x8014690d, SEND_COMMAND_SETTIME 0x801c6915,
 * RECEIVE_MSG 0xc018690c, RECEIVE_MSG_TRUNC 0xc018690b); every other ioctl is passed to
 * ipmi_ioctl unchanged (their argument layouts are the same in both ABIs).
 *
 * Expected errno values are those of the 64-bit paths (handle_send_req / handle_recv are
 * shared), each observed on the C stack in the test VM.
 */
#include "ripmi-test.h"

static int fd;

static void abi(void)
{
	/* If this was not built with -m32 nothing below tests the compat path: fail loudly. */
	rt_check(sizeof(void *) == 4, "built-32-bit", "sizeof(void *) = %u", (unsigned)sizeof(void *));
	rt_check(IPMICTL_SEND_COMMAND == 0x8014690d && IPMICTL_SEND_COMMAND_SETTIME == 0x801c6915 &&
			 IPMICTL_RECEIVE_MSG == 0xc018690c && IPMICTL_RECEIVE_MSG_TRUNC == 0xc018690b,
		 "compat-ioctl-numbers", "send 0x%x settime 0x%x recv 0x%x trunc 0x%x",
		 (unsigned)IPMICTL_SEND_COMMAND, (unsigned)IPMICTL_SEND_COMMAND_SETTIME,
		 (unsigned)IPMICTL_RECEIVE_MSG, (unsigned)IPMICTL_RECEIVE_MSG_TRUNC);
	rt_check(sizeof(struct ipmi_req) == 20 && sizeof(struct ipmi_recv) == 24 &&
			 sizeof(struct ipmi_req_settime) == 28,
		 "compat-struct-sizes", "req %u recv %u settime %u",
		 (unsigned)sizeof(struct ipmi_req), (unsigned)sizeof(struct ipmi_recv),
		 (unsigned)sizeof(struct ipmi_req_settime));
}

static void round_trips(void)
{
	struct rt_recv rv;
	char why[160];
	int rc, ev;

	/* COMPAT_IPMICTL_SEND_COMMAND + poll + COMPAT_IPMICTL_RECEIVE_MSG (copyout_recv32). */
	if (rt_expect_errno("send", rt_send_get_device_id(fd, 0x7abc), 0)) {
		ev = rt_wait_in(fd, 10000);
		rt_check(ev == (POLLIN | POLLRDNORM), "poll-pollin", "revents 0x%x", ev);
		rc = rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG);
		rt_check(rc == 0 && rt_is_device_id_rsp(&rv, 0x7abc, why, sizeof(why)),
			 "receive-device-id", "rc %d: %s", rc, rc ? rt_errname(errno) : why);
		/* copyout_recv32 writes back the 32-bit pointers unchanged. */
		rt_check(rv.r.addr == (unsigned char *)&rv.addr && rv.r.msg.data == rv.data,
			 "receive-pointers-preserved", "addr %p data %p", (void *)rv.r.addr,
			 (void *)rv.r.msg.data);
	}
	/* compat_long_t msgid: a negative value survives compat_ptr/sign extension both ways. */
	rt_send_get_device_id(fd, -5);
	rc = rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG, 10000);
	rt_check(rc == 0 && rv.r.msgid == -5, "msgid-negative-echo", "rc %d msgid %ld", rc,
		 (long)rv.r.msgid);

	/* COMPAT_IPMICTL_SEND_COMMAND_SETTIME (get_compat_ipmi_req_settime). */
	{
		struct ipmi_req_settime st;

		memset(&st, 0, sizeof(st));
		rt_si_req(&st.req, 31, 6, 1, NULL, 0);
		st.retries = 1;
		st.retry_time_ms = 500;
		if (rt_expect_errno("settime-send", ioctl(fd, IPMICTL_SEND_COMMAND_SETTIME, &st), 0)) {
			rc = rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG, 10000);
			rt_check(rc == 0 && rt_is_device_id_rsp(&rv, 31, why, sizeof(why)),
				 "settime-response", "rc %d: %s", rc, rc ? rt_errname(errno) : why);
		}
	}

	/* COMPAT_IPMICTL_RECEIVE_MSG_TRUNC, big enough buffer. */
	rt_send_get_device_id(fd, 32);
	rc = rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG_TRUNC, 10000);
	rt_check(rc == 0 && rt_is_device_id_rsp(&rv, 32, why, sizeof(why)), "trunc-receive",
		 "rc %d: %s", rc, rc ? rt_errname(errno) : why);
}

static void errors(void)
{
	struct rt_recv rv;
	struct ipmi_req req;
	char why[160];
	unsigned char data[IPMI_MAX_MSG_LENGTH + 8];
	void *bad = rt_bad_page();
	int rc;

	memset(data, 0, sizeof(data));
	rt_drain(fd);
	/* handle_recv: empty -> EAGAIN. */
	rt_expect_errno("recv-empty-eagain", rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG), EAGAIN);
	rt_expect_errno("recv-trunc-empty-eagain", rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG_TRUNC),
			EAGAIN);
	/* compat_ipmi_ioctl: copy_from_user of the 32-bit struct fails -> EFAULT. */
	rt_expect_errno("send-arg-efault", ioctl(fd, IPMICTL_SEND_COMMAND, bad), EFAULT);
	rt_expect_errno("settime-arg-efault", ioctl(fd, IPMICTL_SEND_COMMAND_SETTIME, bad), EFAULT);
	rt_expect_errno("recv-arg-efault", ioctl(fd, IPMICTL_RECEIVE_MSG, bad), EFAULT);
	rt_expect_errno("recv-trunc-arg-efault", ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, bad), EFAULT);
	/* handle_send_req via compat: bad addr pointer -> EFAULT, addr_len 41 -> EINVAL,
	 * data_len 273 -> EMSGSIZE, bad data pointer -> EFAULT. */
	rt_si_req(&req, 1, 6, 1, NULL, 0);
	req.addr = bad;
	rt_expect_errno("send-addr-ptr-efault", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EFAULT);
	req.addr_len = 41;
	rt_expect_errno("send-addr-len-41-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EINVAL);
	rt_si_req(&req, 1, 6, 1, NULL, 0);
	req.addr_len = 7;
	rt_expect_errno("send-addr-len-7-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EINVAL);
	rt_si_req(&req, 1, 6, 1, data, IPMI_MAX_MSG_LENGTH + 1);
	rt_expect_errno("send-data-len-273-emsgsize", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
			EMSGSIZE);
	rt_si_req(&req, 1, 6, 1, bad, 2);
	rt_expect_errno("send-data-ptr-efault", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EFAULT);
	{
		struct ipmi_req_settime st;

		memset(&st, 0, sizeof(st));
		rt_si_req(&st.req, 1, 6, 1, data, IPMI_MAX_MSG_LENGTH + 1);
		rt_expect_errno("settime-data-len-273-emsgsize",
				ioctl(fd, IPMICTL_SEND_COMMAND_SETTIME, &st), EMSGSIZE);
	}

	/* Receive errors on a queued message (handle_recv via copyout_recv32). */
	if (!rt_expect_errno("recv-setup-send", rt_send_get_device_id(fd, 40), 0))
		return;
	if (!rt_check(rt_wait_in(fd, 10000) > 0, "recv-setup-response", "no response"))
		return;
	rt_recv_init(&rv, 4, IPMI_MAX_MSG_LENGTH);
	rt_expect_errno("recv-addr-len-4-einval", ioctl(fd, IPMICTL_RECEIVE_MSG, &rv.r), EINVAL);
	rt_recv_init(&rv, sizeof(rv.addr), IPMI_MAX_MSG_LENGTH);
	rv.r.addr = bad;
	rt_expect_errno("recv-addr-ptr-efault", ioctl(fd, IPMICTL_RECEIVE_MSG, &rv.r), EFAULT);
	rt_recv_init(&rv, sizeof(rv.addr), IPMI_MAX_MSG_LENGTH);
	rv.r.msg.data = bad;
	rt_expect_errno("recv-data-ptr-efault", ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, &rv.r), EFAULT);
	/* copyout_recv32 fails on a read-only struct -> EFAULT. */
	{
		struct ipmi_recv *ro;

		rt_recv_init(&rv, sizeof(rv.addr), IPMI_MAX_MSG_LENGTH);
		ro = rt_ro_page(&rv.r, sizeof(rv.r));
		rt_expect_errno("recv-struct-readonly-efault", ioctl(fd, IPMICTL_RECEIVE_MSG, ro),
				EFAULT);
		munmap(ro, 4096);
	}
	rt_recv_init(&rv, sizeof(rv.addr), 2);
	rt_expect_errno("recv-small-emsgsize", ioctl(fd, IPMICTL_RECEIVE_MSG, &rv.r), EMSGSIZE);
	rc = rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG);
	rt_check(rc == 0 && rt_is_device_id_rsp(&rv, 40, why, sizeof(why)), "recv-small-kept",
		 "rc %d: %s", rc, rc ? rt_errname(errno) : why);

	/* RECEIVE_MSG_TRUNC too small: EMSGSIZE, truncated copy, message dropped. */
	rt_send_get_device_id(fd, 41);
	rt_wait_in(fd, 10000);
	rt_recv_init(&rv, sizeof(rv.addr), 2);
	rt_expect_errno("recv-trunc-small-emsgsize", ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, &rv.r),
			EMSGSIZE);
	rt_check(rv.r.msg.data_len == 2 && rv.data[0] == 0 && rv.data[1] == 0x20 &&
			 rv.data[2] == 0xa5 && rv.r.msgid == 41 && rv.r.addr_len == 8,
		 "recv-trunc-copies-truncated", "data_len %u data %02x %02x %02x msgid %ld addr_len %u",
		 rv.r.msg.data_len, rv.data[0], rv.data[1], rv.data[2], (long)rv.r.msgid,
		 rv.r.addr_len);
	rt_expect_errno("recv-trunc-dropped", rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG), EAGAIN);
}

/* ioctls compat_ipmi_ioctl passes straight to ipmi_ioctl. */
static void passthrough(void)
{
	struct ipmi_timing_parms tp;
	unsigned int u = 0;
	int mode = -1;

	memset(&tp, 0, sizeof(tp));
	rt_expect_errno("timing-get", ioctl(fd, IPMICTL_GET_TIMING_PARMS_CMD, &tp), 0);
	rt_check(tp.retries == -1 && tp.retry_time_ms == 0, "timing-defaults", "got %d %u",
		 tp.retries, tp.retry_time_ms);
	tp.retries = 2;
	tp.retry_time_ms = 700;
	rt_expect_errno("timing-set", ioctl(fd, IPMICTL_SET_TIMING_PARMS_CMD, &tp), 0);
	memset(&tp, 0, sizeof(tp));
	ioctl(fd, IPMICTL_GET_TIMING_PARMS_CMD, &tp);
	rt_check(tp.retries == 2 && tp.retry_time_ms == 700, "timing-round-trip", "got %d %u",
		 tp.retries, tp.retry_time_ms);
	/* SEND_COMMAND uses the file's timing defaults: still answered. */
	{
		struct rt_recv rv;
		char why[160];
		int rc;

		rt_send_get_device_id(fd, 50);
		rc = rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG, 10000);
		rt_check(rc == 0 && rt_is_device_id_rsp(&rv, 50, why, sizeof(why)),
			 "send-with-timing-parms", "rc %d: %s", rc, rc ? rt_errname(errno) : why);
	}
	rt_expect_errno("my-address-get", ioctl(fd, IPMICTL_GET_MY_ADDRESS_CMD, &u), 0);
	rt_check(u == 0x20, "my-address-0x20", "got 0x%x", u);
	rt_expect_errno("my-address-set", ioctl(fd, IPMICTL_SET_MY_ADDRESS_CMD, &u), 0);
	rt_expect_errno("maint-get", ioctl(fd, IPMICTL_GET_MAINTENANCE_MODE_CMD, &mode), 0);
	rt_check(mode == 0, "maint-auto", "mode %d", mode);
	mode = 3;
	rt_expect_errno("maint-set-3-einval", ioctl(fd, IPMICTL_SET_MAINTENANCE_MODE_CMD, &mode),
			EINVAL);
	rt_expect_errno("unknown-ioctl-enotty", ioctl(fd, _IO(IPMI_IOC_MAGIC, 99), 0), ENOTTY);
	/* The 64-bit SEND_COMMAND number is not translated: from a 32-bit process it reaches
	 * ipmi_ioctl's switch, where it is a known command reading a 40-byte struct; a bad
	 * pointer therefore gives EFAULT (not ENOTTY). */
	rt_expect_errno("native64-send-number-efault", ioctl(fd, 0x8028690d, rt_bad_page()), EFAULT);
	{
		struct ipmi_cmdspec cs = { .netfn = 0x30, .cmd = 0x21 };

		rt_expect_errno("register-for-cmd", ioctl(fd, IPMICTL_REGISTER_FOR_CMD, &cs), 0);
		rt_expect_errno("register-for-cmd-twice-ebusy", ioctl(fd, IPMICTL_REGISTER_FOR_CMD, &cs),
				EBUSY);
		rt_expect_errno("unregister-for-cmd", ioctl(fd, IPMICTL_UNREGISTER_FOR_CMD, &cs), 0);
	}
}

int main(void)
{
	rt_group = "compat32";
	setvbuf(stdout, NULL, _IOLBF, 0);
	abi();
	fd = rt_open();
	if (fd < 0) {
		rt_fail("open", "%s: %s", rt_dev(), strerror(errno));
		return 1;
	}
	rt_pass("open");
	round_trips();
	errors();
	passthrough();
	close(fd);
	return rt_finish();
}
