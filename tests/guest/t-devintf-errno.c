// SPDX-License-Identifier: GPL-2.0
/*
 * t-devintf-errno: the /dev/ipmiN ioctl ABI, checked against what the C stack
 * (drivers/char/ipmi/ipmi_devintf.c + ipmi_msghandler.c, Linux 7.3) does.
 *
 * Every expectation names the C function whose code path produces it. Each one was observed on
 * the C stack in the test VM (scripts/vm --no-load -- sh -c 'load-c-ipmi && t-devintf-errno').
 * The device is $IPMI_DEV (default /dev/ipmi0), so this tests whichever stack owns it.
 *
 * Assumes the test VM's BMC (QEMU ipmi-bmc-sim on isa-ipmi-kcs): Device ID 0x20, channel 0
 * assumed IPMB (Get Channel Info answers C1), a loopback MC at IPMB 0x40, and no other user of
 * the interface while it runs (the max_users check counts every open).
 */
#include "ripmi-test.h"

#include <signal.h>

static int fd;

/* ----- SEND_COMMAND argument and address validation -------------------------------------- */
static void send_errors(void)
{
	struct ipmi_req req;
	struct ipmi_ipmb_addr ipmb;
	struct ipmi_addr big;
	unsigned char data[IPMI_MAX_MSG_LENGTH + 8];
	void *bad = rt_bad_page();

	memset(data, 0, sizeof(data));

	/* ipmi_ioctl, IPMICTL_SEND_COMMAND: copy_from_user(&req, arg) fails -> EFAULT. */
	rt_expect_errno("send-arg-efault", ioctl(fd, IPMICTL_SEND_COMMAND, bad), EFAULT);
	/* Same for SEND_COMMAND_SETTIME (ipmi_ioctl). */
	rt_expect_errno("settime-arg-efault", ioctl(fd, IPMICTL_SEND_COMMAND_SETTIME, bad), EFAULT);
	/* ...and a NULL argument. */
	rt_expect_errno("send-arg-null-efault", ioctl(fd, IPMICTL_SEND_COMMAND, NULL), EFAULT);

	/* handle_send_req: req->addr_len > sizeof(struct ipmi_addr) (40) -> EINVAL. */
	memset(&big, 0, sizeof(big));
	memcpy(&big, &rt_si_addr, sizeof(rt_si_addr));
	rt_si_req(&req, 1, 6, 1, NULL, 0);
	req.addr = (unsigned char *)&big;
	req.addr_len = sizeof(struct ipmi_addr) + 1;
	rt_expect_errno("send-addr-len-41-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EINVAL);
	/* handle_send_req checks addr_len before copying the address: bad pointer + 41 -> EINVAL. */
	req.addr = bad;
	rt_expect_errno("send-addr-len-41-before-efault", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
			EINVAL);
	/* addr_len 40 is accepted (a valid sysintf address followed by zeros). */
	req.addr = (unsigned char *)&big;
	req.addr_len = sizeof(struct ipmi_addr);
	if (rt_expect_errno("send-addr-len-40-ok", ioctl(fd, IPMICTL_SEND_COMMAND, &req), 0)) {
		struct rt_recv rv;

		rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG, 10000);
	}

	/* handle_send_req: copy_from_user(&addr, req->addr, addr_len) fails -> EFAULT. */
	rt_si_req(&req, 1, 6, 1, NULL, 0);
	req.addr = bad;
	rt_expect_errno("send-addr-ptr-efault", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EFAULT);
	req.addr = NULL;
	rt_expect_errno("send-addr-null-efault", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EFAULT);

	/* ipmi_validate_addr: len < sizeof(struct ipmi_system_interface_addr) (8) -> EINVAL. */
	rt_si_req(&req, 1, 6, 1, NULL, 0);
	req.addr_len = 7;
	rt_expect_errno("send-addr-len-7-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EINVAL);
	/* addr_len 0 copies nothing, so even a NULL address reaches ipmi_validate_addr -> EINVAL. */
	req.addr_len = 0;
	req.addr = NULL;
	rt_expect_errno("send-addr-len-0-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EINVAL);

	/* ipmi_validate_addr: system-interface address with channel != IPMI_BMC_CHANNEL -> EINVAL. */
	{
		struct ipmi_system_interface_addr si = rt_si_addr;

		si.channel = 0;
		rt_si_req(&req, 1, 6, 1, NULL, 0);
		req.addr = (unsigned char *)&si;
		rt_expect_errno("send-si-chan0-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
				EINVAL);
		/* i_ipmi_req_sysintf: lun > 3 -> EINVAL. */
		si.channel = IPMI_BMC_CHANNEL;
		si.lun = 4;
		rt_expect_errno("send-si-lun4-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
				EINVAL);
	}

	/* ipmi_validate_addr: unknown addr_type (falls through every test) -> EINVAL. */
	memset(&big, 0, sizeof(big));
	big.addr_type = 0x55;
	big.channel = 0;
	rt_si_req(&req, 1, 6, 1, NULL, 0);
	req.addr = (unsigned char *)&big;
	req.addr_len = sizeof(big);
	rt_expect_errno("send-bad-addr-type-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EINVAL);

	/* ipmi_validate_addr: IPMB channel >= IPMI_MAX_CHANNELS (16) -> EINVAL. */
	memset(&ipmb, 0, sizeof(ipmb));
	ipmb.addr_type = IPMI_IPMB_ADDR_TYPE;
	ipmb.channel = 16;
	ipmb.slave_addr = 0x40;
	rt_si_req(&req, 1, 6, 1, NULL, 0);
	req.addr = (unsigned char *)&ipmb;
	req.addr_len = sizeof(ipmb);
	rt_expect_errno("send-ipmb-chan16-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EINVAL);
	/* ipmi_validate_addr: non-sysintf address on IPMI_BMC_CHANNEL (15) -> EINVAL. */
	ipmb.channel = IPMI_BMC_CHANNEL;
	rt_expect_errno("send-ipmb-chan15-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EINVAL);
	/* ipmi_validate_addr: channel < 0 (short -1) -> EINVAL. */
	ipmb.channel = -1;
	rt_expect_errno("send-ipmb-chan-neg-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EINVAL);
	/* (An IPMB address is only 8 bytes, so it cannot be too short once len >= 8.) */

	/* LAN addresses: ipmi_validate_addr wants len >= sizeof(struct ipmi_lan_addr) (12), then
	 * i_ipmi_req_lan wants an 802.3 LAN or async channel; channel 0 is IPMB here -> EINVAL. */
	{
		struct ipmi_lan_addr lan = { .addr_type = IPMI_LAN_ADDR_TYPE, .channel = 0,
					     .privilege = 4, .remote_SWID = 0x81,
					     .local_SWID = 0x81 };

		rt_si_req(&req, 1, 6, 1, NULL, 0);
		req.addr = (unsigned char *)&lan;
		req.addr_len = 8;
		rt_expect_errno("send-lan-len8-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
				EINVAL);
		req.addr_len = sizeof(lan);
		rt_expect_errno("send-lan-on-ipmb-chan-einval",
				ioctl(fd, IPMICTL_SEND_COMMAND, &req), EINVAL);
	}
	/* IPMB direct addresses: ipmi_validate_addr wants channel 0, len >= 12 (sizeof struct
	 * ipmi_ipmb_direct_addr), an even slave address and LUNs < 4; then i_ipmi_req_ipmb_direct
	 * refuses interfaces without IPMI_SMI_CAN_HANDLE_IPMB_DIRECT (KCS) -> EAFNOSUPPORT. */
	{
		struct ipmi_ipmb_direct_addr d = { .addr_type = IPMI_IPMB_DIRECT_ADDR_TYPE,
						   .channel = 0, .slave_addr = 0x40 };

		rt_si_req(&req, 1, 6, 1, NULL, 0);
		req.addr = (unsigned char *)&d;
		req.addr_len = 8;
		rt_expect_errno("send-direct-len8-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
				EINVAL);
		req.addr_len = sizeof(d);
		d.channel = 1;
		rt_expect_errno("send-direct-chan1-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
				EINVAL);
		d.channel = 0;
		d.slave_addr = 0x41;
		rt_expect_errno("send-direct-odd-sa-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
				EINVAL);
		d.slave_addr = 0x40;
		d.rs_lun = 4;
		rt_expect_errno("send-direct-lun4-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
				EINVAL);
		d.rs_lun = 0;
		rt_expect_errno("send-direct-on-kcs-eafnosupport",
				ioctl(fd, IPMICTL_SEND_COMMAND, &req), EAFNOSUPPORT);
	}
	rt_si_req(&req, 1, 6, 1, NULL, 0);
	req.addr = (unsigned char *)&ipmb;
	req.addr_len = sizeof(ipmb);
	/* i_ipmi_req_ipmb: the channel's medium is not IPMB -> EINVAL. QEMU's sim answers Get
	 * Channel Info with C1, so only channel 0 is (assumed) IPMB and channel 1 has no medium. */
	ipmb.channel = 1;
	req.addr_len = sizeof(ipmb);
	rt_expect_errno("send-ipmb-chan1-not-ipmb-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
			EINVAL);
	/* i_ipmi_req_ipmb: lun > 3 -> EINVAL. */
	ipmb.channel = 0;
	ipmb.lun = 4;
	rt_expect_errno("send-ipmb-lun4-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EINVAL);

	/* handle_send_req: msg.data_len > IPMI_MAX_MSG_LENGTH (272) with data -> EMSGSIZE. */
	rt_si_req(&req, 1, 6, 1, data, IPMI_MAX_MSG_LENGTH + 1);
	rt_expect_errno("send-data-len-273-emsgsize", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
			EMSGSIZE);
	/* handle_send_req checks the address before the data: bad address + 273 -> EINVAL. */
	{
		struct ipmi_system_interface_addr si = rt_si_addr;

		si.channel = 3;
		req.addr = (unsigned char *)&si;
		rt_expect_errno("send-bad-addr-before-emsgsize",
				ioctl(fd, IPMICTL_SEND_COMMAND, &req), EINVAL);
	}
	/* i_ipmi_req_sysintf: data_len + 2 > IPMI_MAX_MSG_LENGTH -> EMSGSIZE (271 and 272). */
	rt_si_req(&req, 1, 6, 1, data, IPMI_MAX_MSG_LENGTH - 1);
	rt_expect_errno("send-si-data-len-271-emsgsize", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
			EMSGSIZE);
	rt_si_req(&req, 1, 6, 1, data, IPMI_MAX_MSG_LENGTH);
	rt_expect_errno("send-si-data-len-272-emsgsize", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
			EMSGSIZE);
	/* i_ipmi_req_ipmb: data_len + 10 > IPMI_MAX_MSG_LENGTH -> EMSGSIZE (263). */
	ipmb.lun = 0;
	rt_si_req(&req, 1, 6, 1, data, IPMI_MAX_MSG_LENGTH - 9);
	req.addr = (unsigned char *)&ipmb;
	req.addr_len = sizeof(ipmb);
	rt_expect_errno("send-ipmb-data-len-263-emsgsize", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
			EMSGSIZE);

	/* handle_send_req: copy_from_user(msg.data, req->msg.data) fails -> EFAULT. */
	rt_si_req(&req, 1, 6, 1, bad, 2);
	rt_expect_errno("send-data-ptr-efault", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EFAULT);
	/* The address is validated before the data is copied: bad addr + bad data -> EINVAL. */
	req.addr_len = 4;
	rt_expect_errno("send-bad-addr-before-data-efault", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
			EINVAL);

	/* i_ipmi_req_sysintf: a response netfn (odd) to the system interface -> EINVAL. */
	rt_si_req(&req, 1, 7, 1, NULL, 0);
	rt_expect_errno("send-si-response-netfn-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
			EINVAL);
	/* i_ipmi_req_sysintf: Send Message / Get Message / Read Event Message Buffer -> EINVAL. */
	rt_si_req(&req, 1, 6, IPMI_SEND_MSG_CMD, NULL, 0);
	rt_expect_errno("send-si-send-msg-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EINVAL);
	rt_si_req(&req, 1, 6, IPMI_GET_MSG_CMD, NULL, 0);
	rt_expect_errno("send-si-get-msg-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EINVAL);
	rt_si_req(&req, 1, 6, IPMI_READ_EVENT_MSG_BUFFER_CMD, NULL, 0);
	rt_expect_errno("send-si-read-event-einval", ioctl(fd, IPMICTL_SEND_COMMAND, &req), EINVAL);

	/* None of the failed sends may have queued anything. */
	{
		struct rt_recv rv;

		usleep(200000);
		rt_expect_errno("send-errors-queue-nothing",
				rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG), EAGAIN);
	}
}

/* ----- positive paths ---------------------------------------------------------------------- */
static void get_device_id(void)
{
	struct rt_recv rv;
	char why[160];
	long msgid = 0x1234567;
	int ev;

	/* ipmi_poll: no message queued -> no POLLIN. */
	ev = rt_wait_in(fd, 0);
	rt_check(ev == 0, "poll-empty-no-pollin", "revents 0x%x before any request", ev);

	if (!rt_expect_errno("gdi-send", rt_send_get_device_id(fd, msgid), 0))
		return;
	ev = rt_wait_in(fd, 10000);
	/* ipmi_poll: EPOLLIN | EPOLLRDNORM exactly, while the queue is non-empty. */
	rt_check(ev == (POLLIN | POLLRDNORM), "poll-queued-pollin-rdnorm",
		 "revents 0x%x, want 0x%x", ev, POLLIN | POLLRDNORM);
	/* Still set on a second poll: poll does not consume. */
	ev = rt_wait_in(fd, 0);
	rt_check(ev == (POLLIN | POLLRDNORM), "poll-repeat-pollin", "revents 0x%x", ev);
	if (!rt_expect_errno("gdi-receive", rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG), 0))
		return;
	rt_check(rt_is_device_id_rsp(&rv, msgid, why, sizeof(why)), "gdi-response-fields", "%s", why);
	/* handle_recv: the data buffer beyond data_len is untouched. */
	rt_check(rv.data[rv.r.msg.data_len] == 0xa5, "gdi-no-overwrite-past-data-len",
		 "byte after data_len is 0x%02x", rv.data[rv.r.msg.data_len]);
	ev = rt_wait_in(fd, 0);
	rt_check(ev == 0, "poll-drained-no-pollin", "revents 0x%x after receive", ev);

	/* A negative and a large msgid are echoed unchanged (stored as long). */
	rt_send_get_device_id(fd, -2);
	rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG, 10000);
	rt_check(rv.r.msgid == -2, "gdi-msgid-negative-echo", "msgid %ld", (long)rv.r.msgid);

	/* handle_send_req: data == NULL means data_len is ignored (set to 0), even if > 272. */
	{
		struct ipmi_req req;

		rt_si_req(&req, 77, 6, 1, NULL, 1000);
		if (rt_expect_errno("send-null-data-ignores-len", ioctl(fd, IPMICTL_SEND_COMMAND, &req),
				    0)) {
			int rc = rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG, 10000);

			rt_check(rc == 0 && rt_is_device_id_rsp(&rv, 77, why, sizeof(why)),
				 "send-null-data-response", "rc %d: %s", rc, rc ? "no response" : why);
		}
	}

	/* SEND_COMMAND_SETTIME: same request with explicit retries / retry time. */
	{
		struct ipmi_req_settime st;

		memset(&st, 0, sizeof(st));
		rt_si_req(&st.req, 4242, 6, 1, NULL, 0);
		st.retries = 0;
		st.retry_time_ms = 1000;
		if (rt_expect_errno("settime-send", ioctl(fd, IPMICTL_SEND_COMMAND_SETTIME, &st), 0)) {
			int rc = rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG, 10000);

			rt_check(rc == 0 && rt_is_device_id_rsp(&rv, 4242, why, sizeof(why)),
				 "settime-response", "rc %d errno %s: %s", rc, rt_errname(errno),
				 rc ? "no response" : why);
		}
	}
}

/* IPMB request to QEMU's loopback MC at 0x40 on channel 0 (Send Message bridging). */
static void ipmb_loopback(void)
{
	struct ipmi_ipmb_addr a = { .addr_type = IPMI_IPMB_ADDR_TYPE, .channel = 0,
				    .slave_addr = 0x40, .lun = 0 };
	const struct ipmi_ipmb_addr *ra;
	struct ipmi_req req;
	struct rt_recv rv;
	int rc;

	rt_si_req(&req, 0x4040, 6, 1, NULL, 0);
	req.addr = (unsigned char *)&a;
	req.addr_len = sizeof(a);
	if (!rt_expect_errno("ipmb-0x40-send", ioctl(fd, IPMICTL_SEND_COMMAND, &req), 0))
		return;
	rc = rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG, 15000);
	if (!rt_check(rc == 0, "ipmb-0x40-answered", "no response (%s)", rt_errname(errno)))
		return;
	ra = (const void *)&rv.addr;
	/* handle_ipmb_get_msg_rsp: IPMB address of the responder, channel from the response. */
	rt_check(rv.r.recv_type == IPMI_RESPONSE_RECV_TYPE && rv.r.addr_len == sizeof(a) &&
			 ra->addr_type == IPMI_IPMB_ADDR_TYPE && ra->channel == 0 &&
			 ra->slave_addr == 0x40 && ra->lun == 0 && rv.r.msgid == 0x4040 &&
			 rv.r.msg.netfn == 7 && rv.r.msg.cmd == 1 && rv.r.msg.data_len >= 1 &&
			 rv.data[0] == 0,
		 "ipmb-0x40-response-fields",
		 "recv_type %d addr_len %u type 0x%x chan %d sa 0x%x lun %u msgid %ld netfn 0x%x cmd "
		 "0x%x len %u cc 0x%02x",
		 rv.r.recv_type, rv.r.addr_len, ra->addr_type, ra->channel, ra->slave_addr, ra->lun,
		 (long)rv.r.msgid, rv.r.msg.netfn, rv.r.msg.cmd, rv.r.msg.data_len, rv.data[0]);

	/*
	 * An address nobody answers (the sim NAKs with 0x83) with retries 0: after the retry time
	 * the message handler reports a timeout response, data = [0xC3] (check_msg_timeout /
	 * ipmi_timeout_handler -> deliver_err_response(IPMI_TIMEOUT_ERR)).
	 */
	{
		struct ipmi_req_settime st;
		long t0, dt;

		a.slave_addr = 0x42;
		memset(&st, 0, sizeof(st));
		rt_si_req(&st.req, 0x4242, 6, 1, NULL, 0);
		st.req.addr = (unsigned char *)&a;
		st.req.addr_len = sizeof(a);
		st.retries = 0;
		st.retry_time_ms = 1000;
		t0 = rt_now_ms();
		if (!rt_expect_errno("ipmb-nak-settime-send",
				     ioctl(fd, IPMICTL_SEND_COMMAND_SETTIME, &st), 0))
			return;
		rc = rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG, 20000);
		dt = rt_now_ms() - t0;
		rt_check(rc == 0 && rv.r.recv_type == IPMI_RESPONSE_RECV_TYPE &&
				 rv.r.msgid == 0x4242 && rv.r.msg.netfn == 7 && rv.r.msg.cmd == 1 &&
				 rv.r.msg.data_len == 1 && rv.data[0] == IPMI_TIMEOUT_ERR,
			 "ipmb-nak-timeout-c3",
			 "rc %d after %ld ms: recv_type %d msgid %ld netfn 0x%x len %u cc 0x%02x", rc,
			 dt, rv.r.recv_type, (long)rv.r.msgid, rv.r.msg.netfn, rv.r.msg.data_len,
			 rv.data[0]);
		printf("# ipmb NAK with retries 0 / 1000 ms answered C3 after %ld ms\n", dt);
	}
}

/* ----- receive errors ------------------------------------------------------------------------ */
static void recv_errors(void)
{
	struct rt_recv rv;
	char why[160];
	void *bad = rt_bad_page();
	int rc, ev;

	rt_drain(fd);
	/* handle_recv: empty queue -> EAGAIN, for both receive ioctls. */
	rt_expect_errno("recv-empty-eagain", rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG), EAGAIN);
	rt_expect_errno("recv-trunc-empty-eagain", rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG_TRUNC),
			EAGAIN);
	/* ipmi_ioctl: copy_from_user(&rsp, arg) fails -> EFAULT (before the queue is looked at). */
	rt_expect_errno("recv-arg-efault", ioctl(fd, IPMICTL_RECEIVE_MSG, bad), EFAULT);
	rt_expect_errno("recv-trunc-arg-efault", ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, bad), EFAULT);

	/* Queue one Get Device ID response. */
	if (!rt_expect_errno("recv-setup-send", rt_send_get_device_id(fd, 555), 0))
		return;
	ev = rt_wait_in(fd, 10000);
	if (!rt_check(ev > 0, "recv-setup-response", "no response within 10 s"))
		return;

	/* handle_recv: rsp->addr_len < ipmi_addr_length(type) (8) -> EINVAL, message put back. */
	rt_recv_init(&rv, 7, IPMI_MAX_MSG_LENGTH);
	rt_expect_errno("recv-addr-len-7-einval", ioctl(fd, IPMICTL_RECEIVE_MSG, &rv.r), EINVAL);
	rt_recv_init(&rv, 0, IPMI_MAX_MSG_LENGTH);
	rt_expect_errno("recv-trunc-addr-len-0-einval", ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, &rv.r),
			EINVAL);
	/* handle_recv: copy_to_user(rsp->addr) fails -> EFAULT, message put back. */
	rt_recv_init(&rv, sizeof(rv.addr), IPMI_MAX_MSG_LENGTH);
	rv.r.addr = bad;
	rt_expect_errno("recv-addr-ptr-efault", ioctl(fd, IPMICTL_RECEIVE_MSG, &rv.r), EFAULT);
	rv.r.addr = NULL;
	rt_expect_errno("recv-trunc-addr-null-efault", ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, &rv.r),
			EFAULT);
	/* handle_recv: copy_to_user(rsp->msg.data) fails -> EFAULT, message put back. */
	rt_recv_init(&rv, sizeof(rv.addr), IPMI_MAX_MSG_LENGTH);
	rv.r.msg.data = bad;
	rt_expect_errno("recv-data-ptr-efault", ioctl(fd, IPMICTL_RECEIVE_MSG, &rv.r), EFAULT);
	rt_expect_errno("recv-trunc-data-ptr-efault", ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, &rv.r),
			EFAULT);
	/* copyout_recv: the struct itself is readable but not writable -> EFAULT, put back. */
	{
		struct ipmi_recv *ro;

		rt_recv_init(&rv, sizeof(rv.addr), IPMI_MAX_MSG_LENGTH);
		ro = rt_ro_page(&rv.r, sizeof(rv.r));
		rt_expect_errno("recv-struct-readonly-efault", ioctl(fd, IPMICTL_RECEIVE_MSG, ro),
				EFAULT);
		munmap(ro, 4096);
	}
	/* handle_recv, !trunc: data buffer too small -> EMSGSIZE, message put back. */
	rt_recv_init(&rv, sizeof(rv.addr), 2);
	rt_expect_errno("recv-small-buffer-emsgsize", ioctl(fd, IPMICTL_RECEIVE_MSG, &rv.r),
			EMSGSIZE);
	rt_check(rv.data[0] == 0xa5 && rv.r.msg.data_len == 2, "recv-small-buffer-copies-nothing",
		 "data[0] 0x%02x data_len %u", rv.data[0], rv.r.msg.data_len);
	rt_recv_init(&rv, sizeof(rv.addr), 0);
	rt_expect_errno("recv-zero-buffer-emsgsize", ioctl(fd, IPMICTL_RECEIVE_MSG, &rv.r),
			EMSGSIZE);
	ev = rt_wait_in(fd, 0);
	rt_check(ev == (POLLIN | POLLRDNORM), "recv-errors-keep-pollin", "revents 0x%x", ev);
	/* After all those failures the same message is still there, intact. */
	rc = rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG);
	rt_check(rc == 0 && rt_is_device_id_rsp(&rv, 555, why, sizeof(why)),
		 "recv-after-errors-message-kept", "rc %d (%s): %s", rc, rt_errname(rc ? errno : 0),
		 rc ? "" : why);
	rt_expect_errno("recv-after-errors-queue-empty", rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG),
			EAGAIN);

	/* handle_recv, trunc: too small -> EMSGSIZE, but the truncated message is copied out
	 * (copyout_recv runs, rv2 = -EMSGSIZE) and dropped. */
	if (!rt_expect_errno("trunc-setup-send", rt_send_get_device_id(fd, 556), 0))
		return;
	if (!rt_check(rt_wait_in(fd, 10000) > 0, "trunc-setup-response", "no response"))
		return;
	rt_recv_init(&rv, sizeof(rv.addr), 3);
	rt_expect_errno("recv-trunc-small-emsgsize", ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, &rv.r),
			EMSGSIZE);
	rt_check(rv.r.msg.data_len == 3 && rv.data[0] == 0 && rv.data[1] == 0x20 &&
			 rv.data[3] == 0xa5 && rv.r.msgid == 556 &&
			 rv.r.recv_type == IPMI_RESPONSE_RECV_TYPE && rv.r.addr_len == 8 &&
			 rv.r.msg.netfn == 7 && rv.r.msg.cmd == 1,
		 "recv-trunc-copies-truncated",
		 "data_len %u data %02x %02x [3]=%02x msgid %ld recv_type %d addr_len %u netfn 0x%x",
		 rv.r.msg.data_len, rv.data[0], rv.data[1], rv.data[3], (long)rv.r.msgid,
		 rv.r.recv_type, rv.r.addr_len, rv.r.msg.netfn);
	rt_expect_errno("recv-trunc-message-dropped", rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG),
			EAGAIN);
	ev = rt_wait_in(fd, 0);
	rt_check(ev == 0, "recv-trunc-dropped-no-pollin", "revents 0x%x", ev);

	/* _TRUNC with a big enough buffer behaves like RECEIVE_MSG (returns 0). */
	rt_send_get_device_id(fd, 557);
	rc = rt_wait_recv(fd, &rv, IPMICTL_RECEIVE_MSG_TRUNC, 10000);
	rt_check(rc == 0 && rt_is_device_id_rsp(&rv, 557, why, sizeof(why)), "recv-trunc-full-ok",
		 "rc %d: %s", rc, rc ? rt_errname(errno) : why);
	/* _TRUNC with an exact-size buffer is not truncation: returns 0. */
	{
		unsigned short len = rv.r.msg.data_len;

		rt_send_get_device_id(fd, 558);
		rt_wait_in(fd, 10000);
		rt_recv_init(&rv, sizeof(rv.addr), len);
		rt_expect_errno("recv-trunc-exact-size-ok", ioctl(fd, IPMICTL_RECEIVE_MSG_TRUNC, &rv.r),
				0);
		rt_recv_init(&rv, sizeof(rv.addr), len);
	}

	/* Two queued messages come out in order; POLLIN stays until both are gone. */
	rt_send_get_device_id(fd, 601);
	rt_wait_in(fd, 10000);
	rt_send_get_device_id(fd, 602);
	usleep(300000);
	rc = rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG);
	rt_check(rc == 0 && rv.r.msgid == 601, "recv-fifo-first", "rc %d msgid %ld", rc,
		 (long)rv.r.msgid);
	ev = rt_wait_in(fd, 5000);
	rt_check(ev == (POLLIN | POLLRDNORM), "poll-second-queued-pollin", "revents 0x%x", ev);
	rc = rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG);
	rt_check(rc == 0 && rv.r.msgid == 602, "recv-fifo-second", "rc %d msgid %ld", rc,
		 (long)rv.r.msgid);
	ev = rt_wait_in(fd, 0);
	rt_check(ev == 0, "poll-both-drained", "revents 0x%x", ev);
}

/* ----- fasync / SIGIO ----------------------------------------------------------------------- */
static volatile sig_atomic_t sigio_count;
static void on_sigio(int sig)
{
	(void)sig;
	sigio_count++;
}

static void fasync_sigio(void)
{
	struct sigaction sa;
	struct rt_recv rv;
	int fl, rc1, rc2;
	long t0;

	rt_drain(fd);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigio;
	sigaction(SIGIO, &sa, NULL);
	if (!rt_expect_errno("fasync-setown", fcntl(fd, F_SETOWN, getpid()), 0))
		return;
	fl = fcntl(fd, F_GETFL);
	/* ipmi_fasync -> fasync_helper: O_ASYNC is accepted. */
	if (!rt_expect_errno("fasync-set-o-async", fcntl(fd, F_SETFL, fl | O_ASYNC), 0))
		return;

	/* file_receive_handler: kill_fasync(SIGIO) when the queue goes empty -> non-empty. */
	sigio_count = 0;
	rt_send_get_device_id(fd, 701);
	t0 = rt_now_ms();
	while (sigio_count == 0 && rt_now_ms() - t0 < 10000)
		usleep(1000);
	rt_check(sigio_count == 1, "fasync-sigio-on-first-message", "SIGIO count %d",
		 (int)sigio_count);

	/* A second message joining a non-empty queue raises no SIGIO. */
	rt_send_get_device_id(fd, 702);
	rt_sleep_ms(1500);
	rc1 = rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG);
	rc2 = rt_recv_full(fd, &rv, IPMICTL_RECEIVE_MSG);
	if (rt_check(rc1 == 0 && rc2 == 0, "fasync-setup-two-queued",
		     "second response not back within 1.5 s (rc %d %d)", rc1, rc2))
		rt_check(sigio_count == 1, "fasync-no-sigio-when-nonempty", "SIGIO count %d, want 1",
			 (int)sigio_count);

	/* Empty again -> the next message signals again. */
	rt_send_get_device_id(fd, 703);
	t0 = rt_now_ms();
	while (sigio_count < 2 && rt_now_ms() - t0 < 10000)
		usleep(1000);
	rt_check(sigio_count == 2, "fasync-sigio-again-after-drain", "SIGIO count %d, want 2",
		 (int)sigio_count);
	rt_drain(fd);

	/* O_ASYNC off: no more SIGIO. */
	fcntl(fd, F_SETFL, fl);
	rt_send_get_device_id(fd, 704);
	rt_wait_in(fd, 10000);
	rt_sleep_ms(100);
	rt_check(sigio_count == 2, "fasync-off-no-sigio", "SIGIO count %d, want 2",
		 (int)sigio_count);
	rt_drain(fd);
	signal(SIGIO, SIG_IGN);
}

/* ----- max_users ---------------------------------------------------------------------------- */
static void max_users(void)
{
	int fds[40], n = 0, i, extra, err;

	/* ipmi_create_user: atomic_add_return(nr_users) > max_users (30) -> EBUSY.
	 * This process already holds one user (fd). */
	for (i = 0; i < 40; i++) {
		fds[i] = rt_open();
		if (fds[i] < 0)
			break;
		n++;
	}
	err = errno;
	rt_check(n + 1 == 30 && err == EBUSY, "open-31st-ebusy",
		 "opened %d users in total, then %s (want 30 then EBUSY)", n + 1,
		 n == 40 ? "no failure" : rt_errname(err));
	if (n > 0) {
		close(fds[n - 1]);
		/* The failed open released its count (out_kfree: atomic_dec), and so did close. */
		extra = rt_open();
		err = errno;
		rt_check(extra >= 0, "open-after-close-ok", "reopen failed: %s", rt_errname(err));
		if (extra >= 0) {
			int again = rt_open();

			err = errno;
			rt_check(again < 0 && err == EBUSY, "open-31st-ebusy-again", "%s",
				 again < 0 ? rt_errname(err) : "opened");
			if (again >= 0)
				close(again);
			close(extra);
		}
		n--;
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	/* Everyone gone: a new user works and can talk to the BMC. */
	i = rt_open();
	if (rt_check(i >= 0, "open-after-close-all-ok", "%s", rt_errname(errno))) {
		struct rt_recv rv;
		char why[160];
		int rc;

		rt_send_get_device_id(i, 9);
		rc = rt_wait_recv(i, &rv, IPMICTL_RECEIVE_MSG, 10000);
		rt_check(rc == 0 && rt_is_device_id_rsp(&rv, 9, why, sizeof(why)),
			 "new-user-round-trip", "rc %d: %s", rc, rc ? rt_errname(errno) : why);
		close(i);
	}
}

/* ----- simple ioctls ------------------------------------------------------------------------ */
static void misc_ioctls(void)
{
	void *bad = rt_bad_page();
	int mode = -1, val;
	unsigned int u, orig_addr = 0, orig_lun = 0;
	struct ipmi_timing_parms tp;
	struct ipmi_channel_lun_address_set cl;

	/* ipmi_ioctl default -> ENOTTY, including a known number with the wrong size. */
	rt_expect_errno("unknown-ioctl-enotty", ioctl(fd, _IO(IPMI_IOC_MAGIC, 99), 0), ENOTTY);
	rt_expect_errno("wrong-size-ioctl-enotty",
			ioctl(fd, _IOR(IPMI_IOC_MAGIC, 13, char[7]), 0), ENOTTY);
	rt_expect_errno("other-magic-enotty", ioctl(fd, _IOR('j', 13, struct ipmi_req), 0), ENOTTY);

	/* ipmi_get_maintenance_mode: starts at IPMI_MAINTENANCE_MODE_AUTO (0). */
	rt_expect_errno("maint-get", ioctl(fd, IPMICTL_GET_MAINTENANCE_MODE_CMD, &mode), 0);
	rt_check(mode == IPMI_MAINTENANCE_MODE_AUTO, "maint-default-auto", "mode %d", mode);
	/* ipmi_set_maintenance_mode: modes other than 0/1/2 -> EINVAL. */
	val = 3;
	rt_expect_errno("maint-set-3-einval", ioctl(fd, IPMICTL_SET_MAINTENANCE_MODE_CMD, &val),
			EINVAL);
	val = -1;
	rt_expect_errno("maint-set-neg-einval", ioctl(fd, IPMICTL_SET_MAINTENANCE_MODE_CMD, &val),
			EINVAL);
	val = IPMI_MAINTENANCE_MODE_ON;
	rt_expect_errno("maint-set-on", ioctl(fd, IPMICTL_SET_MAINTENANCE_MODE_CMD, &val), 0);
	mode = -1;
	ioctl(fd, IPMICTL_GET_MAINTENANCE_MODE_CMD, &mode);
	rt_check(mode == IPMI_MAINTENANCE_MODE_ON, "maint-get-on", "mode %d", mode);
	val = IPMI_MAINTENANCE_MODE_OFF;
	rt_expect_errno("maint-set-off", ioctl(fd, IPMICTL_SET_MAINTENANCE_MODE_CMD, &val), 0);
	mode = -1;
	ioctl(fd, IPMICTL_GET_MAINTENANCE_MODE_CMD, &mode);
	rt_check(mode == IPMI_MAINTENANCE_MODE_OFF, "maint-get-off", "mode %d", mode);
	val = IPMI_MAINTENANCE_MODE_AUTO;
	rt_expect_errno("maint-set-auto", ioctl(fd, IPMICTL_SET_MAINTENANCE_MODE_CMD, &val), 0);
	/* ipmi_ioctl: copy_{from,to}_user on a bad pointer -> EFAULT. */
	rt_expect_errno("maint-set-efault", ioctl(fd, IPMICTL_SET_MAINTENANCE_MODE_CMD, bad),
			EFAULT);
	rt_expect_errno("maint-get-efault", ioctl(fd, IPMICTL_GET_MAINTENANCE_MODE_CMD, bad),
			EFAULT);

	/* ipmi_open: default_retries -1, default_retry_time_ms 0 (GET_TIMING_PARMS). */
	memset(&tp, 0x5a, sizeof(tp));
	rt_expect_errno("timing-get", ioctl(fd, IPMICTL_GET_TIMING_PARMS_CMD, &tp), 0);
	rt_check(tp.retries == -1 && tp.retry_time_ms == 0, "timing-defaults",
		 "retries %d retry_time_ms %u, want -1 0", tp.retries, tp.retry_time_ms);
	tp.retries = 3;
	tp.retry_time_ms = 1500;
	rt_expect_errno("timing-set", ioctl(fd, IPMICTL_SET_TIMING_PARMS_CMD, &tp), 0);
	memset(&tp, 0, sizeof(tp));
	ioctl(fd, IPMICTL_GET_TIMING_PARMS_CMD, &tp);
	rt_check(tp.retries == 3 && tp.retry_time_ms == 1500, "timing-round-trip",
		 "got %d %u, want 3 1500", tp.retries, tp.retry_time_ms);
	/* No validation at all in SET_TIMING_PARMS (ipmi_ioctl stores as given). */
	tp.retries = -7;
	tp.retry_time_ms = 0xffffffffu;
	rt_expect_errno("timing-set-anything", ioctl(fd, IPMICTL_SET_TIMING_PARMS_CMD, &tp), 0);
	memset(&tp, 0, sizeof(tp));
	ioctl(fd, IPMICTL_GET_TIMING_PARMS_CMD, &tp);
	rt_check(tp.retries == -7 && tp.retry_time_ms == 0xffffffffu, "timing-round-trip-odd",
		 "got %d %u", tp.retries, tp.retry_time_ms);
	tp.retries = -1;
	tp.retry_time_ms = 0;
	ioctl(fd, IPMICTL_SET_TIMING_PARMS_CMD, &tp);
	/* Per-file state: a second open still has the defaults. */
	{
		int fd2 = rt_open();

		tp.retries = 3;
		tp.retry_time_ms = 1500;
		ioctl(fd, IPMICTL_SET_TIMING_PARMS_CMD, &tp);
		memset(&tp, 0, sizeof(tp));
		ioctl(fd2, IPMICTL_GET_TIMING_PARMS_CMD, &tp);
		rt_check(tp.retries == -1 && tp.retry_time_ms == 0, "timing-per-file",
			 "second file sees %d %u", tp.retries, tp.retry_time_ms);
		close(fd2);
		tp.retries = -1;
		tp.retry_time_ms = 0;
		ioctl(fd, IPMICTL_SET_TIMING_PARMS_CMD, &tp);
	}
	rt_expect_errno("timing-set-efault", ioctl(fd, IPMICTL_SET_TIMING_PARMS_CMD, bad), EFAULT);
	rt_expect_errno("timing-get-efault", ioctl(fd, IPMICTL_GET_TIMING_PARMS_CMD, bad), EFAULT);

	/* ipmi_set_gets_events: any int (as bool), returns 0. */
	val = 1;
	rt_expect_errno("gets-events-on", ioctl(fd, IPMICTL_SET_GETS_EVENTS_CMD, &val), 0);
	val = 1;
	rt_expect_errno("gets-events-on-again", ioctl(fd, IPMICTL_SET_GETS_EVENTS_CMD, &val), 0);
	val = 0;
	rt_expect_errno("gets-events-off", ioctl(fd, IPMICTL_SET_GETS_EVENTS_CMD, &val), 0);
	val = 5;
	rt_expect_errno("gets-events-5", ioctl(fd, IPMICTL_SET_GETS_EVENTS_CMD, &val), 0);
	val = 0;
	ioctl(fd, IPMICTL_SET_GETS_EVENTS_CMD, &val);
	rt_expect_errno("gets-events-efault", ioctl(fd, IPMICTL_SET_GETS_EVENTS_CMD, bad), EFAULT);

	/* Legacy my-address / my-LUN (channel 0). Defaults from ipmi_add_smi: address
	 * IPMI_BMC_SLAVE_ADDR (0x20), LUN 2. These are per-interface, so restore them. */
	rt_expect_errno("my-address-get", ioctl(fd, IPMICTL_GET_MY_ADDRESS_CMD, &orig_addr), 0);
	rt_check(orig_addr == 0x20, "my-address-default-0x20", "address 0x%x", orig_addr);
	rt_expect_errno("my-lun-get", ioctl(fd, IPMICTL_GET_MY_LUN_CMD, &orig_lun), 0);
	rt_check(orig_lun == 2, "my-lun-default-2", "lun %u", orig_lun);
	u = 0x22;
	rt_expect_errno("my-address-set", ioctl(fd, IPMICTL_SET_MY_ADDRESS_CMD, &u), 0);
	u = 0;
	ioctl(fd, IPMICTL_GET_MY_ADDRESS_CMD, &u);
	rt_check(u == 0x22, "my-address-round-trip", "got 0x%x", u);
	/* ipmi_set_my_address takes an unsigned char: 0x1ab stores 0xab. */
	u = 0x1ab;
	ioctl(fd, IPMICTL_SET_MY_ADDRESS_CMD, &u);
	u = 0;
	ioctl(fd, IPMICTL_GET_MY_ADDRESS_CMD, &u);
	rt_check(u == 0xab, "my-address-truncated-to-u8", "got 0x%x", u);
	/* Interface-wide: another open sees it. */
	{
		int fd2 = rt_open();

		u = 0;
		ioctl(fd2, IPMICTL_GET_MY_ADDRESS_CMD, &u);
		rt_check(u == 0xab, "my-address-per-interface", "second file sees 0x%x", u);
		close(fd2);
	}
	ioctl(fd, IPMICTL_SET_MY_ADDRESS_CMD, &orig_addr);
	/* ipmi_set_my_LUN: LUN & 3. */
	u = 7;
	rt_expect_errno("my-lun-set", ioctl(fd, IPMICTL_SET_MY_LUN_CMD, &u), 0);
	u = 0;
	ioctl(fd, IPMICTL_GET_MY_LUN_CMD, &u);
	rt_check(u == 3, "my-lun-masked", "set 7, got %u, want 3", u);
	ioctl(fd, IPMICTL_SET_MY_LUN_CMD, &orig_lun);
	rt_expect_errno("my-address-set-efault", ioctl(fd, IPMICTL_SET_MY_ADDRESS_CMD, bad), EFAULT);
	rt_expect_errno("my-address-get-efault", ioctl(fd, IPMICTL_GET_MY_ADDRESS_CMD, bad), EFAULT);
	rt_expect_errno("my-lun-get-efault", ioctl(fd, IPMICTL_GET_MY_LUN_CMD, bad), EFAULT);

	/* Per-channel variants: ipmi_{set,get}_my_{address,LUN}: channel >= 16 -> EINVAL. */
	memset(&cl, 0, sizeof(cl));
	cl.channel = 16;
	cl.value = 0x30;
	rt_expect_errno("chan-address-set-16-einval",
			ioctl(fd, IPMICTL_SET_MY_CHANNEL_ADDRESS_CMD, &cl), EINVAL);
	rt_expect_errno("chan-address-get-16-einval",
			ioctl(fd, IPMICTL_GET_MY_CHANNEL_ADDRESS_CMD, &cl), EINVAL);
	rt_expect_errno("chan-lun-set-16-einval", ioctl(fd, IPMICTL_SET_MY_CHANNEL_LUN_CMD, &cl),
			EINVAL);
	rt_expect_errno("chan-lun-get-16-einval", ioctl(fd, IPMICTL_GET_MY_CHANNEL_LUN_CMD, &cl),
			EINVAL);
	cl.channel = 0xffff;
	rt_expect_errno("chan-address-get-ffff-einval",
			ioctl(fd, IPMICTL_GET_MY_CHANNEL_ADDRESS_CMD, &cl), EINVAL);
	/* Channel 15 (the BMC channel) is a valid index. */
	cl.channel = 15;
	cl.value = 0;
	rt_expect_errno("chan-address-get-15", ioctl(fd, IPMICTL_GET_MY_CHANNEL_ADDRESS_CMD, &cl), 0);
	rt_check(cl.channel == 15 && cl.value == 0x20, "chan-address-default-0x20",
		 "channel %u value 0x%x", cl.channel, cl.value);
	cl.channel = 3;
	cl.value = 0x44;
	rt_expect_errno("chan-address-set-3", ioctl(fd, IPMICTL_SET_MY_CHANNEL_ADDRESS_CMD, &cl), 0);
	cl.value = 0;
	ioctl(fd, IPMICTL_GET_MY_CHANNEL_ADDRESS_CMD, &cl);
	rt_check(cl.value == 0x44, "chan-address-round-trip", "got 0x%x", cl.value);
	/* Channel 0 of the per-channel call is the legacy address. */
	cl.channel = 0;
	cl.value = 0;
	ioctl(fd, IPMICTL_GET_MY_CHANNEL_ADDRESS_CMD, &cl);
	u = 0;
	ioctl(fd, IPMICTL_GET_MY_ADDRESS_CMD, &u);
	rt_check(cl.value == u, "chan0-address-is-legacy", "channel 0 0x%x, legacy 0x%x", cl.value,
		 u);
	cl.channel = 3;
	cl.value = 0x20;
	ioctl(fd, IPMICTL_SET_MY_CHANNEL_ADDRESS_CMD, &cl);
	cl.channel = 5;
	cl.value = 0xff;
	rt_expect_errno("chan-lun-set-5", ioctl(fd, IPMICTL_SET_MY_CHANNEL_LUN_CMD, &cl), 0);
	cl.value = 0;
	ioctl(fd, IPMICTL_GET_MY_CHANNEL_LUN_CMD, &cl);
	rt_check(cl.value == 3, "chan-lun-masked", "got %u, want 3", cl.value);
	cl.value = 2;
	ioctl(fd, IPMICTL_SET_MY_CHANNEL_LUN_CMD, &cl);
	rt_expect_errno("chan-address-set-efault",
			ioctl(fd, IPMICTL_SET_MY_CHANNEL_ADDRESS_CMD, bad), EFAULT);
	rt_expect_errno("chan-lun-get-efault", ioctl(fd, IPMICTL_GET_MY_CHANNEL_LUN_CMD, bad),
			EFAULT);
}

/* ----- command receivers -------------------------------------------------------------------- */
static void cmd_receivers(void)
{
	struct ipmi_cmdspec cs = { .netfn = 0x30, .cmd = 5 };
	struct ipmi_cmdspec_chans cc;
	void *bad = rt_bad_page();
	int fd2 = rt_open(), fd3;

	if (!rt_check(fd2 >= 0, "rcvr-open-second", "%s", rt_errname(errno)))
		return;
	/* ipmi_register_for_cmd. */
	rt_expect_errno("rcvr-register", ioctl(fd, IPMICTL_REGISTER_FOR_CMD, &cs), 0);
	/* is_cmd_rcvr_exclusive: same netfn/cmd with overlapping chans -> EBUSY, whoever owns it. */
	rt_expect_errno("rcvr-register-twice-ebusy", ioctl(fd, IPMICTL_REGISTER_FOR_CMD, &cs), EBUSY);
	rt_expect_errno("rcvr-register-other-user-ebusy", ioctl(fd2, IPMICTL_REGISTER_FOR_CMD, &cs),
			EBUSY);
	/* A different cmd is independent. */
	cs.cmd = 6;
	rt_expect_errno("rcvr-register-other-cmd", ioctl(fd2, IPMICTL_REGISTER_FOR_CMD, &cs), 0);
	/* ipmi_unregister_for_cmd skips receivers owned by others -> ENOENT. */
	cs.cmd = 5;
	rt_expect_errno("rcvr-unregister-not-owner-enoent",
			ioctl(fd2, IPMICTL_UNREGISTER_FOR_CMD, &cs), ENOENT);
	rt_expect_errno("rcvr-unregister", ioctl(fd, IPMICTL_UNREGISTER_FOR_CMD, &cs), 0);
	rt_expect_errno("rcvr-unregister-again-enoent", ioctl(fd, IPMICTL_UNREGISTER_FOR_CMD, &cs),
			ENOENT);
	cs.netfn = 0x3e;
	cs.cmd = 0x77;
	rt_expect_errno("rcvr-unregister-unknown-enoent",
			ioctl(fd, IPMICTL_UNREGISTER_FOR_CMD, &cs), ENOENT);
	rt_expect_errno("rcvr-register-efault", ioctl(fd, IPMICTL_REGISTER_FOR_CMD, bad), EFAULT);
	rt_expect_errno("rcvr-unregister-efault", ioctl(fd, IPMICTL_UNREGISTER_FOR_CMD, bad), EFAULT);
	rt_expect_errno("rcvr-chans-register-efault",
			ioctl(fd, IPMICTL_REGISTER_FOR_CMD_CHANS, bad), EFAULT);
	rt_expect_errno("rcvr-chans-unregister-efault",
			ioctl(fd, IPMICTL_UNREGISTER_FOR_CMD_CHANS, bad), EFAULT);

	/* Closing a file removes its receivers (ipmi_destroy_user): fd2 held 0x30/6. */
	close(fd2);
	cs.netfn = 0x30;
	cs.cmd = 6;
	rt_expect_errno("rcvr-freed-on-close", ioctl(fd, IPMICTL_REGISTER_FOR_CMD, &cs), 0);
	ioctl(fd, IPMICTL_UNREGISTER_FOR_CMD, &cs);

	/* Per-channel registration (ipmi_register_for_cmd with chans). */
	cc.netfn = 0x32;
	cc.cmd = 9;
	cc.chans = 0x6;
	rt_expect_errno("chans-register-0b110", ioctl(fd, IPMICTL_REGISTER_FOR_CMD_CHANS, &cc), 0);
	cc.chans = 0x4;
	rt_expect_errno("chans-overlap-ebusy", ioctl(fd, IPMICTL_REGISTER_FOR_CMD_CHANS, &cc), EBUSY);
	cc.chans = 0x1;
	rt_expect_errno("chans-disjoint-ok", ioctl(fd, IPMICTL_REGISTER_FOR_CMD_CHANS, &cc), 0);
	/* Legacy register = IPMI_CHAN_ALL overlaps everything. */
	cs.netfn = 0x32;
	cs.cmd = 9;
	rt_expect_errno("chans-legacy-overlap-ebusy", ioctl(fd, IPMICTL_REGISTER_FOR_CMD, &cs),
			EBUSY);
	/* Partial unregister: 0b110 minus 0b010 leaves 0b100. */
	cc.chans = 0x2;
	rt_expect_errno("chans-partial-unregister", ioctl(fd, IPMICTL_UNREGISTER_FOR_CMD_CHANS, &cc),
			0);
	rt_expect_errno("chans-freed-bit-registers", ioctl(fd, IPMICTL_REGISTER_FOR_CMD_CHANS, &cc),
			0);
	cc.chans = 0x4;
	rt_expect_errno("chans-kept-bit-still-ebusy", ioctl(fd, IPMICTL_REGISTER_FOR_CMD_CHANS, &cc),
			EBUSY);
	/* Bits 16-31 count in the overlap test (chans stored as given). */
	cc.chans = 0x10000;
	rt_expect_errno("chans-high-bit-register", ioctl(fd, IPMICTL_REGISTER_FOR_CMD_CHANS, &cc), 0);
	rt_expect_errno("chans-high-bit-overlap-ebusy",
			ioctl(fd, IPMICTL_REGISTER_FOR_CMD_CHANS, &cc), EBUSY);
	/* Unregister only walks channels 0..15: a high-bit-only mask finds nothing -> ENOENT. */
	rt_expect_errno("chans-high-bit-unregister-enoent",
			ioctl(fd, IPMICTL_UNREGISTER_FOR_CMD_CHANS, &cc), ENOENT);
	/* chans == 0 registers (and never matches anything). */
	cc.chans = 0;
	rt_expect_errno("chans-zero-register-ok", ioctl(fd, IPMICTL_REGISTER_FOR_CMD_CHANS, &cc), 0);
	rt_expect_errno("chans-zero-register-again-ok",
			ioctl(fd, IPMICTL_REGISTER_FOR_CMD_CHANS, &cc), 0);
	cc.chans = 0x7;
	rt_expect_errno("chans-unregister-all-low", ioctl(fd, IPMICTL_UNREGISTER_FOR_CMD_CHANS, &cc),
			0);
	rt_expect_errno("chans-unregister-again-enoent",
			ioctl(fd, IPMICTL_UNREGISTER_FOR_CMD_CHANS, &cc), ENOENT);

	/* Quirk (see IPMI-REFERENCE.md): legacy ~0 register, unregister 0xffff, leaves a
	 * 0xffff0000 entry, and a later legacy register still gets EBUSY. Done on a scratch file
	 * so close() cleans it up. */
	fd3 = rt_open();
	if (fd3 >= 0) {
		cs.netfn = 0x34;
		cs.cmd = 0x11;
		rt_expect_errno("quirk-legacy-register", ioctl(fd3, IPMICTL_REGISTER_FOR_CMD, &cs), 0);
		cc.netfn = 0x34;
		cc.cmd = 0x11;
		cc.chans = 0xffff;
		rt_expect_errno("quirk-unregister-ffff",
				ioctl(fd3, IPMICTL_UNREGISTER_FOR_CMD_CHANS, &cc), 0);
		rt_expect_errno("quirk-legacy-register-again-ebusy",
				ioctl(fd3, IPMICTL_REGISTER_FOR_CMD, &cs), EBUSY);
		rt_expect_errno("quirk-low-chans-free", ioctl(fd3, IPMICTL_REGISTER_FOR_CMD_CHANS, &cc),
				0);
		close(fd3);
		/* Gone after close: another file can take the legacy registration. */
		rt_expect_errno("quirk-cleared-on-close", ioctl(fd, IPMICTL_REGISTER_FOR_CMD, &cs), 0);
		ioctl(fd, IPMICTL_UNREGISTER_FOR_CMD, &cs);
	}
}

int main(void)
{
	rt_group = "devintf";
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = rt_open();
	if (fd < 0) {
		rt_fail("open", "%s: %s", rt_dev(), strerror(errno));
		return 1;
	}
	rt_pass("open");
	send_errors();
	get_device_id();
	ipmb_loopback();
	recv_errors();
	fasync_sigio();
	misc_ioctls();
	cmd_receivers();
	max_users();
	close(fd);
	return rt_finish();
}
