// SPDX-License-Identifier: GPL-2.0

//! The send path: a user's request formatted for the system interface (C `i_ipmi_request()`),
//! and what requests carry: our address and LUN per channel, and maintenance mode.

use kernel::{prelude::*, sync::Arc};

use super::{AddrInfo, Clock, IfaceInner, Interface, OutKind, Outbound, Pending, Regs, Tunables};
use crate::addr::{Addr, IPMI_ADDR_SIZE};
use crate::defs::{
    is_response_netfn, IPMI_GET_CHANNEL_INFO_CMD, IPMI_NETFN_APP_REQUEST, IPMI_RESPONSE_RECV_TYPE,
};
use crate::error::Errno;
use crate::message::{
    check_request, format_ipmb_msg, format_lan_msg, format_sysintf_req, seq_of_user_msgid, Msg,
    SmiMsg,
};
use crate::seq::SeqKey;
use crate::si::Next;
use crate::user::{MsgCtx, RecvMsg, User};

/// A user's request as `SEND_COMMAND[_SETTIME]` gives it, after the address and data were
/// copied and the address validated (the arguments of C `i_ipmi_request()`).
pub(crate) struct Request<'a> {
    /// Where it goes.
    pub(crate) addr: Addr,
    /// The user's message id, returned with the answer.
    pub(crate) msgid: i64,
    /// The network function.
    pub(crate) netfn: u8,
    /// The command.
    pub(crate) cmd: u8,
    /// The data bytes.
    pub(crate) data: &'a [u8],
    /// Retries for an IPMB/LAN request; negative means the default.
    pub(crate) retries: i32,
    /// Time between retries in ms; 0 means the default.
    pub(crate) retry_ms: u32,
    /// What an in-kernel user attaches; returned with the answer.
    pub(crate) ctx: MsgCtx,
}

impl<R: Regs, C: Clock, P: Tunables> Interface<R, C, P> {
    /// Sends a message for a user (C `i_ipmi_request()`): `addr` is the validated address,
    /// `data` the copied data. The response (or an error completion) is queued for `user`. The
    /// parameters in effect now apply: `max_msgs_per_user` and the timing of IPMB and LAN
    /// requests.
    pub(crate) fn send(&self, user: &Arc<User>, req: &Request<'_>) -> Result {
        user.reserve_msg(self.tunables.max_msgs_per_user())?;
        let result = self.send_reserved(user, req);
        if result.is_err() {
            user.unreserve_msg();
        }
        result
    }

    /// [`Interface::send`] once the user's message reservation is taken.
    fn send_reserved(&self, user: &Arc<User>, req: &Request<'_>) -> Result {
        let addr = &req.addr;
        let &Request {
            msgid,
            netfn,
            cmd,
            data,
            retries,
            retry_ms,
            ..
        } = req;
        // The answer's header is known now; allocate it before taking the lock, as C does, and
        // atomically, as C's ipmi_alloc_recv_msg() and ipmi_alloc_smi_msg() do: in-kernel users
        // send where they may not sleep (`ipmi_poweroff` from the atomic power-off notifier
        // chain, with the IRQs off).
        let mut recv = KBox::new(
            RecvMsg::new(IPMI_RESPONSE_RECV_TYPE, msgid, netfn, cmd, &[]),
            GFP_ATOMIC,
        )?;
        // Room for the bytes a tracked (IPMB/LAN) request may have to resend.
        let tracked = !matches!(addr, Addr::SystemInterface { .. }) && !is_response_netfn(netfn);
        let resend = if tracked {
            Some(KBox::new(
                format_sysintf_req(
                    0,
                    &Msg {
                        netfn,
                        cmd,
                        data: &[],
                    },
                )?,
                GFP_ATOMIC,
            )?)
        } else {
            None
        };
        recv.ctx = req.ctx;
        let mut abuf = [0u8; IPMI_ADDR_SIZE];
        recv.addr_len = addr.recorded().encode(&mut abuf);
        recv.addr = abuf;
        let msg = Msg { netfn, cmd, data };
        let timing = self.tunables.timing();
        let mut guard = self.inner.lock();
        let IfaceInner { si, h, regs } = &mut *guard;
        if h.shutting_down || h.stopping {
            return Err(ENODEV);
        }
        h.maint.check_request()?;
        let out = match addr {
            Addr::SystemInterface { lun } => {
                check_request(addr, 0, &msg)?;
                h.maint.note_sysintf_cmd(netfn, cmd, &timing);
                let smi = format_sysintf_req(*lun, &msg)?;
                Outbound {
                    msg: smi,
                    kind: OutKind::Sysintf {
                        user: user.clone(),
                        recv,
                    },
                }
            }
            _ => {
                let chan = usize::from(addr.channel());
                let medium = h.medium.get(chan).copied().flatten().unwrap_or(0);
                check_request(addr, medium, &msg)?;
                let info = h.addrinfo.get(chan).copied().ok_or(EINVAL)?;
                if is_response_netfn(netfn) {
                    let seq = seq_of_user_msgid(msgid);
                    let smi = format_remote(addr, &msg, seq, info)?;
                    Outbound {
                        msg: smi,
                        kind: OutKind::ResponseSend {
                            user: user.clone(),
                            recv,
                        },
                    }
                } else {
                    let broadcast = matches!(addr, Addr::IpmbBroadcast(_));
                    let (retries, retry_ms) = if matches!(addr, Addr::Lan(_)) {
                        (retries, retry_ms)
                    } else {
                        h.seq
                            .ipmb_timing(netfn, cmd, broadcast, retries, retry_ms, &timing)
                    };
                    let key = SeqKey {
                        addr: addr.recorded(),
                        netfn,
                        cmd,
                    };
                    // The bytes depend on the slot, so the entry takes a placeholder first.
                    let pending = Pending {
                        user: user.clone(),
                        recv,
                        msg: resend.ok_or(EINVAL)?,
                    };
                    let slot = h
                        .seq
                        .next_seq(key, retry_ms, retries, broadcast, pending, &timing)
                        .map_err(|(e, _)| Error::from(e))?;
                    let smi = match format_remote(addr, &msg, slot.seq, info) {
                        Ok(smi) => smi,
                        Err(e) => {
                            let _ = h.seq.err_seq(slot.msgid());
                            return Err(e);
                        }
                    };
                    if let Some(p) = h.seq.payload_mut(slot.seq) {
                        *p.msg = smi.clone();
                    }
                    Outbound {
                        msg: smi,
                        kind: OutKind::SeqRequest {
                            msgid: slot.msgid(),
                        },
                    }
                }
            }
        };
        h.queue(out)?;
        // Starts it if the interface is free; otherwise the timers already armed stay as they are.
        self.after_event(si, h, regs, Next::Idle);
        Ok(())
    }

    /// Our IPMB address and LUN on `chan` (C `ipmi_get_my_address()`, `ipmi_get_my_LUN()`);
    /// `EINVAL` for a channel over 15.
    pub(crate) fn my_addrinfo(&self, chan: u32) -> Result<AddrInfo> {
        let guard = self.inner.lock();
        guard.h.addrinfo.get(chan as usize).copied().ok_or(EINVAL)
    }

    /// Changes our IPMB address or LUN on `chan` with `set` (C `ipmi_set_my_address()`,
    /// `ipmi_set_my_LUN()`); `EINVAL` for a channel over 15.
    pub(crate) fn set_my_addrinfo(&self, chan: u32, set: impl FnOnce(&mut AddrInfo)) -> Result {
        let mut guard = self.inner.lock();
        set(guard.h.addrinfo.get_mut(chan as usize).ok_or(EINVAL)?);
        Ok(())
    }

    /// The maintenance mode (C `ipmi_get_maintenance_mode()`).
    pub(crate) fn maintenance_mode(&self) -> i32 {
        self.inner.lock().h.maint.mode()
    }

    /// Sets the maintenance mode: 0 auto, 1 off, 2 on (C `ipmi_set_maintenance_mode()`).
    pub(crate) fn set_maintenance_mode(&self, mode: i32) -> Result {
        let mut guard = self.inner.lock();
        guard.h.maint.set_mode(mode)?;
        Ok(())
    }
}

/// Formats an IPMB or LAN message (request or response) in a Send Message.
pub(super) fn format_remote(addr: &Addr, msg: &Msg<'_>, seq: u8, info: AddrInfo) -> Result<SmiMsg> {
    match addr {
        Addr::Ipmb(a) => format_ipmb_msg(msg, a, false, seq, info.address, info.lun),
        Addr::IpmbBroadcast(a) => format_ipmb_msg(msg, a, true, seq, info.address, info.lun),
        Addr::Lan(a) => format_lan_msg(msg, a, seq, info.lun),
        Addr::SystemInterface { .. } | Addr::IpmbDirect(_) => Err(Errno::AfNoSupport),
    }
    .map_err(Error::from)
}

/// A Get Channel Info request for `chan`.
pub(super) fn channel_info_req(chan: u8) -> Result<SmiMsg> {
    format_sysintf_req(
        0,
        &Msg {
            netfn: IPMI_NETFN_APP_REQUEST,
            cmd: IPMI_GET_CHANNEL_INFO_CMD,
            data: &[chan],
        },
    )
    .map_err(Error::from)
}

/// The send path under test.
#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_handler_send))]
mod tests {
    use super::*;
    use crate::defs::{Cc, IPMI_MAX_CHANNELS, IPMI_SEND_MSG_CMD};
    use crate::handler::testing::*;
    use core::sync::atomic::Ordering::Relaxed;

    /// An IPMB request goes to the BMC as one Send Message carrying our address and LUN on its
    /// channel (as set), and waits in the sequence table for the remote answer; a channel over
    /// 15 has no address.
    #[test]
    fn ipmb_request_is_wrapped_in_send_message() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        i.set_my_addrinfo(0, |a| {
            a.address = 0x30;
            a.set_lun(6);
        })?;
        assert_eq!(i.my_addrinfo(0)?.lun(), 2);
        let past = u32::try_from(IPMI_MAX_CHANNELS).map_err(|_| EINVAL)?;
        assert!(i.set_my_addrinfo(past, |_| ()).is_err());
        let user = i.create_user()?;
        model(&i, |m| {
            m.set_response_for(IPMI_SEND_MSG_CMD, &[0x1c, 0x34, 0x00])
        });
        i.send(&user, &ipmb_get_device_id(1))?;
        run(&i, now(&i) + 100_000, Irq::Lost);
        assert_eq!(model(&i, |m| m.send_messages()), 1);
        let (sent, len) = model(&i, |m| {
            let mut b = [0u8; 16];
            let r = m.last_request();
            let n = r.len().min(b.len());
            b[..n].copy_from_slice(&r[..n]);
            (b, r.len())
        });
        // Send Message on channel 0 to 0x40, Get Device ID, from 0x30 LUN 2 with sequence 0.
        assert_eq!(
            &sent[..len],
            &[0x18, 0x34, 0x00, 0x40, 0x18, 0xa8, 0x30, 0x02, 0x01, 0xcd][..]
        );
        assert!(user.pop().is_none());
        i.destroy_user(&user);
        Ok(())
    }

    /// `default_max_retries` 0: an IPMB request that gives no number of retries is sent once
    /// and ends with 0xC3 after `default_retry_ms` (2 s, counted by the one-second tick), where
    /// C's defaults send it five times.
    #[test]
    fn no_default_retries_sends_once() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        let user = i.create_user()?;
        model(&i, |m| m.set_accept_send_msg(true));
        params(&i).default_max_retries.store(0, Relaxed);
        i.send(&user, &ipmb_default_timing(1))?;
        let (m, after) = wait_answer(&i, &user, 20_000_000, Irq::Lost).ok_or(ETIMEDOUT)?;
        assert_eq!(m.data(), &[Cc::TIMEOUT.0][..]);
        assert_eq!(model(&i, |m| m.send_messages()), 1);
        assert!((1_900_000..=3_100_000).contains(&after));
        i.destroy_user(&user);
        Ok(())
    }

    /// The timing parameters are read as each request is sent, and a request keeps the timing it
    /// was sent with: with `default_retry_ms` 1000 one gets five tries a second apart; the
    /// parameter set to no retries right after it, the next gets one, and the first still five.
    #[test]
    fn timing_parameters_apply_per_request() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        let user = i.create_user()?;
        model(&i, |m| m.set_accept_send_msg(true));
        params(&i).default_retry_ms.store(1000, Relaxed);
        i.send(&user, &ipmb_default_timing(1))?;
        run(&i, now(&i) + 100_000, Irq::Lost);
        params(&i).default_max_retries.store(0, Relaxed);
        i.send(&user, &ipmb_default_timing(2))?;
        let (m, after) = wait_answer(&i, &user, 20_000_000, Irq::Lost).ok_or(ETIMEDOUT)?;
        assert_eq!((m.msgid, m.data()), (2, &[Cc::TIMEOUT.0][..]));
        assert!(after <= 2_100_000);
        let (m, after) = wait_answer(&i, &user, 20_000_000, Irq::Lost).ok_or(ETIMEDOUT)?;
        assert_eq!((m.msgid, m.data()), (1, &[Cc::TIMEOUT.0][..]));
        assert!((2_500_000..=5_100_000).contains(&after));
        assert_eq!(model(&i, |m| m.send_messages()), 6);
        i.destroy_user(&user);
        Ok(())
    }

    /// `max_msgs_per_user` is read at each message: raised after the user opened (its queue
    /// then grows), it lets more answers wait; lowered below what the user holds, it refuses
    /// new requests until the user has read enough.
    #[test]
    fn max_msgs_per_user_is_read_at_each_message() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        params(&i).max_msgs_per_user.store(2, Relaxed);
        let user = i.create_user()?;
        params(&i).max_msgs_per_user.store(5, Relaxed);
        for id in 1..=5 {
            send_get_device_id(&i, &user, id)?;
        }
        assert_eq!(send_get_device_id(&i, &user, 6), Err(EBUSY));
        run(&i, now(&i) + 1_000_000, Irq::Lost);
        params(&i).max_msgs_per_user.store(1, Relaxed);
        let mut got = 0;
        while let Some(m) = user.pop() {
            got += 1;
            assert_eq!(m.msgid, got);
            user.consumed();
            if got < 5 {
                assert_eq!(send_get_device_id(&i, &user, 7), Err(EBUSY));
            }
        }
        assert_eq!(got, 5);
        send_get_device_id(&i, &user, 7)?;
        assert_eq!(send_get_device_id(&i, &user, 8), Err(EBUSY));
        i.destroy_user(&user);
        Ok(())
    }
}
