// SPDX-License-Identifier: GPL-2.0

//! The receive path: routing what the system interface hands up (C `handle_one_recv_msg()`):
//! responses to their users, the channel scan, incoming commands to their receivers (held while
//! a receiver's queue is full), and events.

use kernel::{prelude::*, sync::Arc};

use super::send::channel_info_req;
use super::{
    deliver_error, Clock, HandlerState, Held, IfaceInner, Interface, OutKind, Outbound, Pending,
    Regs, Routing, Tunables, MAX_EVENTS_IN_QUEUE, REPLIES_MAX,
};
use crate::addr::{Addr, IPMI_ADDR_SIZE};
use crate::defs::{
    error_response, lun_of, netfn_of, response_netfn, Cc, IPMI_ASYNC_EVENT_RECV_TYPE,
    IPMI_BMC_SLAVE_ADDR, IPMI_CHANNEL_MEDIUM_IPMB, IPMI_CHANNEL_MEDIUM_MASK, IPMI_MAX_CHANNELS,
    IPMI_RESPONSE_RECV_TYPE, IPMI_RESPONSE_RESPONSE_TYPE,
};
use crate::message::{decode_get_msg, get_msg_channel, send_msg_error, GetMsg};
use crate::rcvr_table::RcvrTable;
use crate::seq::SeqKey;
use crate::si::SiOutput;
use crate::user::{RecvMsg, User};

impl<R: Regs, C: Clock, P: Tunables> Interface<R, C, P> {
    /// Moves the commands held for `user` to its queue, oldest first, while it has room; called
    /// when it has taken a message.
    pub(crate) fn user_took_msg(&self, user: &Arc<User>) {
        let max_msgs = self.tunables.max_msgs_per_user();
        let mut guard = self.inner.lock();
        guard.h.release_held(user, max_msgs);
    }

    /// The command receivers, for (un)registrations (C `ipmi_register_for_cmd()` and
    /// `ipmi_unregister_for_cmd()`); see the module's `# Locking`.
    pub(crate) fn receivers(&self) -> &RcvrTable {
        &self.rcvrs
    }

    /// Turns event delivery on or off for `user`, handing it the events kept meanwhile
    /// (C `ipmi_set_gets_events()`).
    pub(crate) fn set_gets_events(&self, user: &User, on: bool) {
        let max_msgs = self.tunables.max_msgs_per_user();
        let mut guard = self.inner.lock();
        let IfaceInner { si, h, .. } = &mut *guard;
        if let Some(e) = h.users.iter_mut().find(|u| u.user.id == user.id) {
            e.gets_events = on;
        }
        if on {
            for ev in core::mem::take(&mut h.waiting_events) {
                if !user.deliver(ev, max_msgs) {
                    h.stats.dropped += 1;
                }
            }
            // Keep room for later events without allocating in interrupt context.
            let _ = h.waiting_events.reserve(MAX_EVENTS_IN_QUEUE, GFP_ATOMIC);
            si.request_events();
            self.arm_tick(h, self.clock.now_us());
        }
    }
}

/// The system-interface address of a response whose netfn/LUN byte is `netfn_lun` (channel
/// 0xf, the LUN it came from).
fn sysintf_addr(netfn_lun: u8, recv: &mut RecvMsg) {
    let mut abuf = [0u8; IPMI_ADDR_SIZE];
    recv.addr_len = Addr::SystemInterface {
        lun: lun_of(netfn_lun),
    }
    .encode(&mut abuf);
    recv.addr = abuf;
}

impl HandlerState {
    /// Routes one result of the system interface (C `handle_one_recv_msg()` and friends).
    pub(super) fn on_output(&mut self, out: SiOutput<'_>, route: Routing<'_>) {
        match out {
            SiOutput::Response(rsp) => self.on_response(rsp),
            SiOutput::IncomingMessage(rsp) => self.on_get_msg(rsp, route),
            SiOutput::Event(rsp) => self.on_event(rsp, route.max_msgs),
            SiOutput::WatchdogPretimeout => {
                for u in self.users.iter() {
                    u.user.watchdog_pretimeout();
                }
            }
        }
    }

    /// The response to the message in flight.
    pub(super) fn on_response(&mut self, rsp: &[u8]) {
        let Some(out) = self.curr.take() else {
            self.stats.dropped += 1;
            return;
        };
        self.stats.responses += 1;
        let sent = out.msg.as_bytes();
        let (n0, n1) = (
            sent.first().copied().unwrap_or(0),
            sent.get(1).copied().unwrap_or(0),
        );
        // A response too short, or for another netfn/cmd, becomes 0xFF (C "return_unspecified").
        let fixed;
        let rsp =
            if rsp.len() < 2 || netfn_of(rsp[0]) != response_netfn(netfn_of(n0)) || rsp[1] != n1 {
                fixed = error_response(sent, Cc::UNSPECIFIED);
                &fixed[..]
            } else {
                rsp
            };
        match out.kind {
            OutKind::Sysintf { user, mut recv } => {
                recv.netfn = netfn_of(rsp[0]);
                recv.cmd = rsp[1];
                recv.set_data(&rsp[2..]);
                sysintf_addr(rsp[0], &mut recv);
                user.deliver_reserved(recv);
            }
            OutKind::SeqRequest { msgid } => {
                // The local answer to Send Message: an error ends the request, otherwise its
                // timer starts (C `handle_one_recv_msg()`, Send Message branch).
                if let Some(cc) = send_msg_error(rsp) {
                    if let Some(p) = self.seq.err_seq(msgid) {
                        deliver_error(p.user, p.recv, cc);
                    }
                } else {
                    self.seq.start_timer(msgid);
                }
            }
            OutKind::ResponseSend { user, mut recv } => {
                recv.recv_type = IPMI_RESPONSE_RESPONSE_TYPE;
                recv.data[0] = rsp.get(2).copied().unwrap_or(Cc::UNSPECIFIED.0);
                recv.data_len = 1;
                user.deliver_reserved(recv);
            }
            OutKind::ChannelInfo(chan) => self.on_channel_info(chan, rsp),
            OutKind::Discard => {}
        }
    }

    /// One step of the channel scan (C `channel_handler()`).
    fn on_channel_info(&mut self, chan: u8, rsp: &[u8]) {
        let cc = Cc(rsp.get(2).copied().unwrap_or(Cc::UNSPECIFIED.0));
        if cc != Cc::OK {
            if cc == Cc::INVALID_CMD && chan == 0 {
                // The BMC has no Get Channel Info: assume channel 0 is IPMB.
                self.medium[0] = Some(IPMI_CHANNEL_MEDIUM_IPMB);
                self.channels_ready = true;
                return;
            }
        } else if rsp.len() >= 6 {
            self.medium[usize::from(chan)] = Some(rsp[4] & IPMI_CHANNEL_MEDIUM_MASK);
        }
        let next = chan + 1;
        if usize::from(next) >= IPMI_MAX_CHANNELS {
            self.channels_ready = true;
            return;
        }
        let queued = channel_info_req(next).and_then(|msg| {
            self.queue(Outbound {
                msg,
                kind: OutKind::ChannelInfo(next),
            })
        });
        if queued.is_err() {
            self.channels_ready = true;
        }
    }

    /// A Get Message response: an answer to one of our requests, or a command for a receiver.
    fn on_get_msg(&mut self, rsp: &[u8], route: Routing<'_>) {
        if !self.channels_ready {
            self.stats.dropped += 1;
            return;
        }
        let chan = usize::from(get_msg_channel(rsp));
        let medium = self.medium.get(chan).copied().flatten().unwrap_or(0);
        match decode_get_msg(rsp, medium) {
            Ok(GetMsg::Response(r)) => {
                let key = SeqKey {
                    addr: r.addr,
                    netfn: r.request_netfn(),
                    cmd: r.cmd,
                };
                let Some(p) = self.seq.find_seq(r.seq, &key) else {
                    self.stats.dropped += 1;
                    return;
                };
                let Pending { user, mut recv, .. } = p;
                recv.recv_type = IPMI_RESPONSE_RECV_TYPE;
                let mut abuf = [0u8; IPMI_ADDR_SIZE];
                recv.addr_len = r.addr.encode(&mut abuf);
                recv.addr = abuf;
                recv.netfn = r.netfn;
                recv.cmd = r.cmd;
                recv.set_data(r.data);
                user.deliver_reserved(recv);
            }
            Ok(GetMsg::Command(c)) => {
                self.stats.commands += 1;
                let ci = usize::from(c.chan) % IPMI_MAX_CHANNELS;
                self.chan_stats[ci].received += 1;
                if let Some(user) = route.rcvrs.find(c.netfn, c.cmd, c.chan) {
                    let mut recv = match KBox::new(
                        RecvMsg::new(c.recv_type(), i64::from(c.msgid), c.netfn, c.cmd, c.data),
                        GFP_ATOMIC,
                    ) {
                        Ok(r) => r,
                        Err(_) => {
                            self.stats.dropped += 1;
                            self.chan_stats[ci].dropped += 1;
                            return;
                        }
                    };
                    let mut abuf = [0u8; IPMI_ADDR_SIZE];
                    recv.addr_len = c.addr.encode(&mut abuf);
                    recv.addr = abuf;
                    self.deliver_cmd(user, recv, c.chan, route.max_msgs);
                } else {
                    self.stats.unhandled_commands += 1;
                    self.chan_stats[ci].unhandled += 1;
                    let our = self
                        .addrinfo
                        .get(usize::from(c.chan))
                        .map_or(IPMI_BMC_SLAVE_ADDR, |a| a.address);
                    if let Some(msg) = c.no_receiver_answer(our) {
                        // Bounded, so a flood of commands cannot grow the queue or keep user
                        // requests waiting (C answers each one from its own allocation).
                        let queued = self.replies < REPLIES_MAX
                            && !self.stopping
                            && self
                                .queue(Outbound {
                                    msg,
                                    kind: OutKind::Discard,
                                })
                                .is_ok();
                        if queued {
                            self.replies += 1;
                        } else {
                            self.stats.unhandled_dropped += 1;
                        }
                    }
                }
            }
            Err(_) => self.stats.dropped += 1,
        }
    }

    /// Delivers an incoming command to its receiver, or holds it behind the receiver's earlier
    /// held commands, so that every receiver gets its commands in arrival order; a receiver
    /// holding `max_msgs` messages is full.
    fn deliver_cmd(&mut self, user: Arc<User>, recv: KBox<RecvMsg>, chan: u8, max_msgs: usize) {
        let ci = usize::from(chan) % IPMI_MAX_CHANNELS;
        self.release_held(&user, max_msgs);
        let recv = if self.held.iter().any(|e| Arc::ptr_eq(&e.user, &user)) {
            recv
        } else {
            match user.try_deliver(recv, max_msgs) {
                Ok(()) => {
                    self.chan_stats[ci].delivered += 1;
                    return;
                }
                Err(recv) => recv,
            }
        };
        // The capacity is reserved at creation, so this never allocates; beyond it, drop.
        if self
            .held
            .push_within_capacity(Held { user, recv, chan })
            .is_err()
        {
            self.stats.dropped += 1;
            self.chan_stats[ci].dropped += 1;
        } else {
            self.chan_stats[ci].held += 1;
        }
    }

    /// Moves `user`'s held commands to its queue, oldest first, until it holds `max_msgs`.
    fn release_held(&mut self, user: &Arc<User>, max_msgs: usize) {
        let mut i = 0;
        while i < self.held.len() {
            if !Arc::ptr_eq(&self.held[i].user, user) {
                i += 1;
                continue;
            }
            let Ok(e) = self.held.remove(i) else { return };
            match user.try_deliver(e.recv, max_msgs) {
                Ok(()) => {
                    if let Some(c) = self.chan_stats.get_mut(usize::from(e.chan)) {
                        c.delivered += 1;
                    }
                }
                Err(recv) => {
                    // Still full: put it back where it was (cannot fail, its slot is free).
                    let _ = self.held.insert_within_capacity(
                        i,
                        Held {
                            user: e.user,
                            recv,
                            chan: e.chan,
                        },
                    );
                    return;
                }
            }
        }
    }

    /// An event from the event message buffer (C `handle_read_event_rsp()`), for each user
    /// that wants events and holds fewer than `max_msgs` messages.
    fn on_event(&mut self, rsp: &[u8], max_msgs: usize) {
        self.stats.events += 1;
        let Some(data) = rsp.get(3..) else { return };
        let make = || -> Option<KBox<RecvMsg>> {
            let mut recv = KBox::new(
                RecvMsg::new(
                    IPMI_ASYNC_EVENT_RECV_TYPE,
                    0,
                    netfn_of(rsp[0]),
                    rsp[1],
                    data,
                ),
                GFP_ATOMIC,
            )
            .ok()?;
            sysintf_addr(rsp[0], &mut recv);
            Some(recv)
        };
        let mut delivered = false;
        for entry in self.users.iter().filter(|u| u.gets_events) {
            delivered = true;
            if !make().is_some_and(|recv| entry.user.deliver(recv, max_msgs)) {
                self.stats.dropped += 1;
            }
        }
        if !delivered {
            match make() {
                Some(recv) if self.waiting_events.len() < MAX_EVENTS_IN_QUEUE => {
                    if self.waiting_events.push_within_capacity(recv).is_err() {
                        self.stats.dropped += 1;
                    }
                }
                _ => self.stats.dropped += 1,
            }
        }
    }
}

/// Routing under test.
#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_handler_recv))]
mod tests {
    use super::*;
    use crate::defs::{IPMI_ASYNC_EVENT_RECV_TYPE, IPMI_GET_DEVICE_ID_CMD};
    use crate::handler::testing::*;

    /// Events that come while no user wants them wait, at most 25 of them (C `waiting_events`),
    /// and go to the first user that turns events on.
    #[test]
    fn events_wait_until_a_user_wants_them() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        let user = i.create_user()?;
        model(&i, |m| m.queue_events(30));
        run(&i, now(&i) + 5_000_000, Irq::Lost);
        assert_eq!(model(&i, |m| m.pending_events()), 0);
        assert!(user.pop().is_none());
        i.set_gets_events(&user, true);
        let mut n = 0;
        while let Some(m) = user.pop() {
            assert_eq!(m.recv_type, IPMI_ASYNC_EVENT_RECV_TYPE);
            n += 1;
        }
        assert_eq!(n, MAX_EVENTS_IN_QUEUE);
        assert_eq!(i.stats().events, 30);
        i.destroy_user(&user);
        Ok(())
    }

    /// A BMC flooding commands nobody registered for: the 0xC1 answers waiting for the
    /// interface stay bounded, a user's request still gets through in bounded time, and every
    /// command is either answered or counted as dropped.
    #[test]
    fn command_flood_is_bounded() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        model(&i, |m| m.queue_messages(2000));
        let user = i.create_user()?;
        let t = now(&i);
        let max_q = run(&i, t + 200_000, Irq::Lost);
        assert!(max_q <= REPLIES_MAX + 1);
        model(&i, |m| {
            m.set_response_for(IPMI_GET_DEVICE_ID_CMD, &DEVICE_ID_RSP)
        });
        send_get_device_id(&i, &user, 4)?;
        let (m, after) = wait_answer(&i, &user, 30_000_000, Irq::Lost).ok_or(ETIMEDOUT)?;
        assert_eq!(m.data(), &DEVICE_ID_RSP[2..]);
        assert!(after < 2_000_000);
        run(&i, now(&i) + 60_000_000, Irq::Lost);
        let s = i.stats();
        assert_eq!(model(&i, |m| m.pending_messages()), 0);
        assert_eq!(s.unhandled_commands, 2000);
        assert!(s.unhandled_dropped > 0);
        let answered = model(&i, |m| m.send_messages());
        assert_eq!(u64::from(answered) + s.unhandled_dropped, 2000);
        i.destroy_user(&user);
        Ok(())
    }
}
