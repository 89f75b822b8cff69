// SPDX-License-Identifier: GPL-2.0

//! The message handler of one interface: users, outgoing requests, the sequence table, incoming
//! commands and events, maintenance mode, the channel table; and the KCS system interface it
//! drives from interrupts and timers.
//!
//! C counterparts: the per-interface half of
//! [`ipmi_msghandler.c`](srctree/drivers/char/ipmi/ipmi_msghandler.c) (`i_ipmi_request()`,
//! `handle_one_recv_msg()`, `ipmi_timeout_handler()`, the channel scan) and the `smi_info`
//! glue of [`ipmi_si_intf.c`](srctree/drivers/char/ipmi/ipmi_si_intf.c) (`sender()`,
//! `si_irq_handler()`, `smi_timeout()`).
//!
//! # Locking
//!
//! One IRQ-safe spinlock, [`Interface::inner`], covers the SI state machine and the handler
//! state, because the IRQ handler completes transactions and must route their results at once.
//! C splits them (`si_lock`, `seq_lock`, `xmit_msgs_lock`, `waiting_rcv_msgs_lock`, ...) and
//! hands every completion to a work item; here a response reaches its user's queue in the same
//! interrupt, with no work-queue hop. Lock order: `Interface::inner`, then `User::inner`.
//! Nothing under the lock sleeps or touches user memory; allocations under it are `GFP_ATOMIC`
//! and only for unsolicited messages (incoming commands, events), as in C.
//!
//! The command receivers are not under it: [`RcvrTable`] is read under the RCU read lock only
//! (from inside `Interface::inner`, by the dispatch of an incoming command) and written under its
//! own mutex, which is never taken with `Interface::inner` held (registration runs in process
//! context and may sleep). Lock order: `RcvrTable::writer`, then `Interface::inner`, then
//! `User::inner`.

use kernel::{
    prelude::*,
    sync::{new_spinlock_irq, Arc, SpinLockIrq},
    time::{delay::fsleep, Delta},
};

use crate::rcvr_table::RcvrTable;

use crate::addr::{Addr, Errno, IpmbAddr, IPMI_ADDR_SIZE, IPMI_BMC_CHANNEL};
use crate::kcs::io::{IrqHandler, PortIo};
use crate::kcs::sm::{KcsRegisters, STATUS_ATN};
use crate::message::{
    check_request, decode_get_msg, format_ipmb_msg, format_lan_msg, format_sysintf_req,
    get_msg_channel, is_response_netfn, send_msg_error, seq_of_user_msgid, GetMsg, Msg, SmiMsg,
    IPMI_CHANNEL_MEDIUM_IPMB, IPMI_INVALID_CMD_COMPLETION_CODE, IPMI_MAX_MSG_LENGTH,
    IPMI_NETFN_APP_REQUEST, IPMI_RESPONSE_RECV_TYPE, IPMI_TIMEOUT_COMPLETION_CODE,
};
use crate::pm::{PmState, PmStats, RawDev, QUIESCE_TIMEOUT_MS};
use crate::seq::{Expired, Maintenance, SeqKey, SeqTable, IPMI_TIMEOUT_MS};
use crate::si::{Next, Si, SiOutput};
use crate::timer::{usecs_to_jiffies, Timer};
use crate::user::{RecvMsg, User};

/// `IPMI_ASYNC_EVENT_RECV_TYPE`.
const IPMI_ASYNC_EVENT_RECV_TYPE: i32 = 2;
/// `IPMI_RESPONSE_RESPONSE_TYPE`: the answer to a response a user sent.
const IPMI_RESPONSE_RESPONSE_TYPE: i32 = 4;
/// `IPMI_MAX_CHANNELS`.
const IPMI_MAX_CHANNELS: usize = 16;
/// `IPMI_BMC_SLAVE_ADDR`: our default IPMB address on every channel.
const IPMI_BMC_SLAVE_ADDR: u8 = 0x20;
/// `IPMI_GET_CHANNEL_INFO_CMD`.
const IPMI_GET_CHANNEL_INFO_CMD: u8 = 0x42;
/// `max_events_in_queue`: events kept while no user takes them.
const MAX_EVENTS_IN_QUEUE: usize = 25;
/// How often the interface is polled for attention when it has no IRQ, in µs. C busy-polls in
/// `kipmid`; ripmi polls from a timer instead (see `Documentation/admin-guide.rst`).
const IDLE_POLL_USEC: u32 = 100_000;
/// Messages that can wait for the interface before `SEND_COMMAND` allocates more room.
const OUTQ_RESERVE: usize = 64;
/// Incoming commands held back, interface-wide, for users whose queue is full (see
/// [`HandlerState::held`]); beyond it a command is dropped and counted.
pub(crate) const HELD_MAX: usize = 256;

/// Maps a pure-code errno to the kernel's.
pub(crate) fn to_error(e: Errno) -> Error {
    match e {
        Errno::Inval => EINVAL,
        Errno::MsgSize => EMSGSIZE,
        Errno::AfNoSupport => EAFNOSUPPORT,
        Errno::Again => EAGAIN,
        Errno::Busy => EBUSY,
        Errno::NoEnt => ENOENT,
    }
}

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
}

/// What a message sent to the interface is for, so its response can be routed.
enum OutKind {
    /// A user's request to the BMC itself; the response goes to `user` in `recv`.
    Sysintf {
        user: Arc<User>,
        recv: KBox<RecvMsg>,
    },
    /// A Send Message carrying a tracked IPMB/LAN request (sequence-table `msgid`).
    SeqRequest { msgid: u32 },
    /// A Send Message carrying a user's response; its completion code goes back to `user`.
    ResponseSend {
        user: Arc<User>,
        recv: KBox<RecvMsg>,
    },
    /// Get Channel Info for one channel of the start-up scan.
    ChannelInfo(u8),
    /// A message of our own whose response is not needed (the 0xC1 answer).
    Discard,
}

/// A message waiting for, or handed to, the system interface.
struct Outbound {
    msg: SmiMsg,
    kind: OutKind,
}

/// The payload of a sequence-table entry: who asked, and the bytes to resend.
///
/// The bytes are boxed so the 64-entry table stays small: it is built in place, but every byte
/// of it is still on the probe path's stack budget.
struct Pending {
    user: Arc<User>,
    recv: KBox<RecvMsg>,
    msg: KBox<SmiMsg>,
}

/// A user as the handler sees it.
struct UserEntry {
    user: Arc<User>,
    gets_events: bool,
}

/// Our address and LUN on one channel (C `struct ipmi_my_addrinfo`).
#[derive(Clone, Copy)]
struct AddrInfo {
    address: u8,
    lun: u8,
}

/// Counters, for the log and debugging.
#[derive(Default, Clone, Copy)]
pub(crate) struct Stats {
    pub(crate) sent: u64,
    pub(crate) responses: u64,
    pub(crate) timeouts: u64,
    pub(crate) events: u64,
    pub(crate) commands: u64,
    pub(crate) unhandled_commands: u64,
    pub(crate) dropped: u64,
}

/// Incoming-command counters of one channel.
#[derive(Default, Clone, Copy)]
pub(crate) struct ChanStats {
    /// Commands received on the channel (decoded Get Message requests).
    pub(crate) received: u64,
    /// Commands placed in their receiver's queue (at once or after being held).
    pub(crate) delivered: u64,
    /// Commands with no receiver, answered 0xC1 (none on OEM channels).
    pub(crate) unhandled: u64,
    /// Commands lost: no memory, the held queue full, or the receiver closed while held.
    pub(crate) dropped: u64,
    /// Commands held back because their receiver's queue was full (each counted once).
    pub(crate) held: u64,
}

/// An incoming command waiting for room in its receiver's queue.
struct Held {
    /// The receiver, as registered when the command arrived.
    user: Arc<User>,
    recv: KBox<RecvMsg>,
    chan: u8,
}

/// Everything behind [`Interface::inner`] except the SI state machine.
struct HandlerState {
    /// Messages waiting for the interface, oldest first.
    outq: KVec<Outbound>,
    /// The message the interface is working on (C `curr_msg`).
    curr: Option<Outbound>,
    seq: SeqTable<Pending>,
    maint: Maintenance,
    /// Channel media from the scan; `None` until known.
    medium: [Option<u8>; IPMI_MAX_CHANNELS],
    channels_ready: bool,
    addrinfo: [AddrInfo; IPMI_MAX_CHANNELS],
    users: KVec<UserEntry>,
    next_user_id: u64,
    /// Incoming commands whose receiver's queue was full, oldest first, at most [`HELD_MAX`]
    /// (capacity reserved at creation). A receiver with commands here gets its new commands
    /// appended behind them, so each receiver sees its commands in arrival order; the entries of
    /// a receiver move to its queue when it takes a message (C requeues the message and stops
    /// all incoming processing instead).
    held: KVec<Held>,
    /// Per-channel incoming-command counters.
    chan_stats: [ChanStats; IPMI_MAX_CHANNELS],
    /// Events kept while no user takes them (C `waiting_events`).
    waiting_events: KVec<KBox<RecvMsg>>,
    /// Whether the SI timer is armed, and for how long (to tell the SI the elapsed time).
    si_timer_us: Option<u32>,
    tick_armed: bool,
    /// Set at teardown; afterwards the ports are never touched again.
    shutting_down: bool,
    stats: Stats,
    /// Runtime and system PM state (`src/pm.rs`; methods at the end of this file).
    pm: PmState,
}

/// What [`Interface::inner`] protects.
struct IfaceInner {
    si: Si,
    h: HandlerState,
}

/// One IPMI interface: a KCS system interface and its message handler.
///
/// # Invariants
///
/// `regs` is used only under `inner` and only while `shutting_down` is false; the owner of the
/// I/O region sets `shutting_down` (through [`Interface::shutdown`]) before releasing it.
#[pin_data]
pub(crate) struct Interface {
    // The timers come first: dropping them shuts them down before anything they use goes.
    #[pin]
    si_timer: Timer<Interface>,
    #[pin]
    tick_timer: Timer<Interface>,
    #[pin]
    inner: SpinLockIrq<IfaceInner>,
    /// The command receivers; see the module's `# Locking`.
    #[pin]
    rcvrs: RcvrTable,
    regs: PortIo,
    has_irq: bool,
    max_users: usize,
    max_msgs: usize,
}

impl Interface {
    /// Creates the handler for the interface at `regs` (whose BMC has answered).
    ///
    /// The locked state is several KiB, so it is initialised in place rather than built on the
    /// stack and moved.
    pub(crate) fn new(
        regs: PortIo,
        has_irq: bool,
        max_users: usize,
        max_msgs: usize,
    ) -> Result<Arc<Self>> {
        let outq = KVec::with_capacity(OUTQ_RESERVE, GFP_KERNEL)?;
        let users = KVec::with_capacity(max_users, GFP_KERNEL)?;
        let waiting_events = KVec::with_capacity(MAX_EVENTS_IN_QUEUE, GFP_KERNEL)?;
        let held = KVec::with_capacity(HELD_MAX, GFP_KERNEL)?;
        let rcvrs = RcvrTable::new()?;
        let h = init!(HandlerState {
            outq,
            curr: None,
            seq: SeqTable::new(),
            maint: Maintenance::new(),
            medium: [None; IPMI_MAX_CHANNELS],
            channels_ready: false,
            addrinfo: [AddrInfo {
                address: IPMI_BMC_SLAVE_ADDR,
                lun: 2
            }; IPMI_MAX_CHANNELS],
            users,
            next_user_id: 1,
            held,
            chan_stats: [ChanStats::default(); IPMI_MAX_CHANNELS],
            waiting_events,
            si_timer_us: None,
            tick_armed: false,
            shutting_down: false,
            stats: Stats::default(),
            pm: PmState::new(),
        });
        let inner = init!(IfaceInner { si: Si::new(has_irq), h <- h });
        Arc::pin_init(
            try_pin_init!(Interface {
                si_timer <- Timer::new(Self::si_timer_fired, c"Interface::si_timer", kernel::static_lock_class!()),
                tick_timer <- Timer::new(Self::tick_fired, c"Interface::tick_timer", kernel::static_lock_class!()),
                inner <- new_spinlock_irq!(inner, "Interface::inner"),
                rcvrs <- rcvrs,
                regs,
                has_irq,
                max_users,
                max_msgs,
            }),
            GFP_KERNEL,
        )
    }

    /// Starts the interface (enables, event buffer) and the channel scan (C `try_smi_init()`'s
    /// tail and `__scan_channels()`).
    pub(crate) fn start(&self) -> Result {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h } = &mut *guard;
        let mut regs = self.regs;
        let next = si
            .start(&mut regs, &mut |out| h.on_output(out, self))
            .map_err(|_| EIO)?;
        h.queue(Outbound {
            msg: channel_info_req(0)?,
            kind: OutKind::ChannelInfo(0),
        })?;
        self.after_event(si, h, next);
        Ok(())
    }

    /// Whether the channel scan has finished.
    pub(crate) fn channels_ready(&self) -> bool {
        self.inner.lock().h.channels_ready
    }

    /// The channel media found by the scan, for the log.
    pub(crate) fn media(&self) -> [Option<u8>; IPMI_MAX_CHANNELS] {
        self.inner.lock().h.medium
    }

    /// A snapshot of the counters.
    pub(crate) fn stats(&self) -> Stats {
        self.inner.lock().h.stats
    }

    /// A snapshot of the per-channel counters, how many commands are held, and how many
    /// registrations the receiver table has.
    pub(crate) fn channel_stats(&self) -> ([ChanStats; IPMI_MAX_CHANNELS], usize, usize) {
        let (c, held) = {
            let g = self.inner.lock();
            (g.h.chan_stats, g.h.held.len())
        };
        (c, held, self.rcvrs.count())
    }

    /// Stops all I/O for good; afterwards the I/O region and IRQ may be released.
    pub(crate) fn shutdown(&self) {
        {
            let mut guard = self.inner.lock();
            guard.h.shutting_down = true;
            guard.h.si_timer_us = None;
        }
        self.si_timer.shutdown();
        self.tick_timer.shutdown();
        // Fail what is still waiting, as C `cleanup_smi_msgs()` does; the users get no answer
        // from a gone interface, so drop the queued messages and release their reservations.
        let (outq, curr) = {
            let mut guard = self.inner.lock();
            let h = &mut guard.h;
            (core::mem::take(&mut h.outq), h.curr.take())
        };
        for out in outq {
            out.kind.release();
        }
        if let Some(out) = curr {
            out.kind.release();
        }
    }

    /// Runs the state machine after an interrupt, timer or new message, then feeds the next
    /// waiting message and re-arms the timer. Called with the lock held.
    fn after_event(&self, si: &mut Si, h: &mut HandlerState, mut next: Next) {
        let mut regs = self.regs;
        loop {
            if h.shutting_down || h.pm_hold(si) {
                return;
            }
            // Feed the interface while it has no message of ours (C `start_next_msg()`).
            while h.curr.is_none() && !h.outq.is_empty() && !h.pm.quiescing {
                let Ok(out) = h.outq.remove(0) else { break };
                let mut bytes = [0u8; IPMI_MAX_MSG_LENGTH];
                let len = out.msg.as_bytes().len();
                bytes[..len].copy_from_slice(out.msg.as_bytes());
                h.curr = Some(out);
                h.stats.sent += 1;
                match si.enqueue(&mut regs, &bytes[..len], &mut |o| h.on_output(o, self)) {
                    Ok(n) => next = n,
                    Err(cc) => {
                        // The interface refused it: answer it with that completion code.
                        let rsp = [bytes[0] | 4, bytes[1], cc.0];
                        h.on_output(SiOutput::Response(&rsp), self);
                    }
                }
            }
            if next != Next::Now {
                break;
            }
            next = si.event(&mut regs, 0, &mut |o| h.on_output(o, self));
        }
        let rearm = si.timer_rearm_us(next).or(if self.has_irq {
            None
        } else {
            Some(IDLE_POLL_USEC)
        });
        if let Some(us) = rearm {
            h.si_timer_us = Some(us);
            self.si_timer.arm(self, usecs_to_jiffies(us));
        } else {
            h.si_timer_us = None;
        }
        if h.needs_tick() && !h.tick_armed {
            h.tick_armed = true;
            self.tick_timer
                .arm(self, usecs_to_jiffies(IPMI_TIMEOUT_MS * 1000));
        }
    }

    /// The SI timer (C `smi_timeout()`).
    fn si_timer_fired(&self) {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h } = &mut *guard;
        let Some(elapsed) = h.si_timer_us.take() else {
            return;
        };
        if h.shutting_down {
            return;
        }
        if h.pm.rpm_suspended || h.pm.sys_suspended {
            self.pm_watch(h);
            return;
        }
        let mut regs = self.regs;
        let next = si.timeout(&mut regs, elapsed, &mut |o| h.on_output(o, self));
        self.after_event(si, h, next);
    }

    /// The one-second handler tick (C `ipmi_timeout_handler()`): ages requests, resends or
    /// times them out, ages maintenance mode, and asks for events for users that want them.
    fn tick_fired(&self) {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h } = &mut *guard;
        h.tick_armed = false;
        if h.shutting_down || h.pm_hold(si) {
            return;
        }
        let HandlerState {
            seq, outq, stats, ..
        } = h;
        seq.tick(IPMI_TIMEOUT_MS, |exp| match exp {
            Expired::Resend { msgid, payload, .. } => {
                let out = Outbound {
                    msg: (*payload.msg).clone(),
                    kind: OutKind::SeqRequest { msgid },
                };
                if outq.push(out, GFP_ATOMIC).is_err() {
                    stats.dropped += 1;
                }
            }
            Expired::TimedOut { payload, .. } => {
                stats.timeouts += 1;
                deliver_error(payload.user, payload.recv, IPMI_TIMEOUT_COMPLETION_CODE);
            }
        });
        h.maint.tick(IPMI_TIMEOUT_MS);
        if h.users.iter().any(|u| u.gets_events) {
            si.request_events();
        }
        let mut regs = self.regs;
        let next = if h.curr.is_none() {
            si.event(&mut regs, 0, &mut |o| h.on_output(o, self))
        } else {
            Next::Idle
        };
        self.after_event(si, h, next);
    }

    /// Adds a user, or fails with `EBUSY` beyond `max_users` (C `ipmi_create_user()`).
    pub(crate) fn create_user(&self) -> Result<Arc<User>> {
        let id = {
            let mut guard = self.inner.lock();
            let h = &mut guard.h;
            if h.shutting_down {
                return Err(ENODEV);
            }
            if h.users.len() >= self.max_users {
                return Err(EBUSY);
            }
            let id = h.next_user_id;
            h.next_user_id += 1;
            id
        };
        let user = User::new(id, self.max_msgs)?;
        let mut guard = self.inner.lock();
        let h = &mut guard.h;
        if h.users.len() >= self.max_users {
            return Err(EBUSY);
        }
        // Cannot fail: the capacity is `max_users`.
        h.users
            .push_within_capacity(UserEntry {
                user: user.clone(),
                gets_events: false,
            })
            .map_err(|_| EBUSY)?;
        Ok(user)
    }

    /// Removes a user and everything it registered (C `_ipmi_destroy_user()`).
    ///
    /// # Sleeps
    ///
    /// Waits for an RCU grace period.
    pub(crate) fn destroy_user(&self, user: &Arc<User>) {
        // First the receivers: afterwards no dispatch can find `user`, so nothing is added to
        // `held` for it once the entries below are gone.
        self.rcvrs.remove_user(user);
        let mut dropped_pending = KVec::new();
        let mut dropped_held = KVec::new();
        let mut guard = self.inner.lock();
        let h = &mut guard.h;
        h.users.retain(|u| u.user.id != user.id);
        let HandlerState {
            held, chan_stats, ..
        } = h;
        let mut i = 0;
        while i < held.len() {
            if Arc::ptr_eq(&held[i].user, user) {
                if let Ok(e) = held.remove(i) {
                    if let Some(c) = chan_stats.get_mut(usize::from(e.chan)) {
                        c.dropped += 1;
                    }
                    // Freed after the lock is dropped (an allocation failure frees it here).
                    let _ = dropped_held.push(e, GFP_ATOMIC);
                }
            } else {
                i += 1;
            }
        }
        h.seq.remove_if(
            |p| p.user.id == user.id,
            |p| {
                // Freed after the lock is dropped (an allocation failure just frees it here).
                let _ = dropped_pending.push(p, GFP_ATOMIC);
            },
        );
        drop(guard);
        drop(dropped_pending);
        drop(dropped_held);
    }

    /// Moves the commands held for `user` to its queue, oldest first, while it has room; called
    /// when it has taken a message.
    pub(crate) fn user_took_msg(&self, user: &Arc<User>) {
        let mut guard = self.inner.lock();
        guard.h.release_held(user);
    }

    /// Sends a message for a user (C `i_ipmi_request()`): `addr` is the validated address,
    /// `data` the copied data. The response (or an error completion) is queued for `user`.
    pub(crate) fn send(&self, user: &Arc<User>, req: &Request<'_>) -> Result {
        user.reserve_msg()?;
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
        // The answer's header is known now; allocate it before taking the lock, as C does.
        let mut recv = KBox::new(
            RecvMsg::new(IPMI_RESPONSE_RECV_TYPE, msgid, netfn, cmd, &[]),
            GFP_KERNEL,
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
                )
                .map_err(to_error)?,
                GFP_KERNEL,
            )?)
        } else {
            None
        };
        let mut abuf = [0u8; IPMI_ADDR_SIZE];
        recv.addr_len = addr.recorded().encode(&mut abuf);
        recv.addr = abuf;
        let msg = Msg { netfn, cmd, data };
        let mut guard = self.inner.lock();
        let IfaceInner { si, h } = &mut *guard;
        if h.shutting_down {
            return Err(ENODEV);
        }
        h.maint.check_request().map_err(to_error)?;
        let out = match addr {
            Addr::SystemInterface { lun } => {
                check_request(addr, 0, &msg).map_err(to_error)?;
                h.maint.note_sysintf_cmd(netfn, cmd);
                let smi = format_sysintf_req(*lun, &msg).map_err(to_error)?;
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
                check_request(addr, medium, &msg).map_err(to_error)?;
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
                        h.seq.ipmb_timing(netfn, cmd, broadcast, retries, retry_ms)
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
                        .next_seq(key, retry_ms, retries, broadcast, pending)
                        .map_err(|(e, _)| to_error(e))?;
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
        let next = if h.curr.is_none() {
            Next::Idle
        } else {
            Next::TickDelay
        };
        self.after_event(si, h, next);
        Ok(())
    }

    /// Registers `user` for (`netfn`, `cmd`) on `chans` (C `ipmi_register_for_cmd()`).
    pub(crate) fn register_for_cmd(
        &self,
        user: &Arc<User>,
        netfn: u8,
        cmd: u8,
        chans: u32,
    ) -> Result {
        self.rcvrs.register(user, netfn, cmd, chans)
    }

    /// Unregisters `user` from (`netfn`, `cmd`) on `chans` (C `ipmi_unregister_for_cmd()`).
    pub(crate) fn unregister_for_cmd(
        &self,
        user: &Arc<User>,
        netfn: u8,
        cmd: u8,
        chans: u32,
    ) -> Result {
        self.rcvrs.unregister(user, netfn, cmd, chans)
    }

    /// Turns event delivery on or off for `user`, handing it the events kept meanwhile
    /// (C `ipmi_set_gets_events()`).
    pub(crate) fn set_gets_events(&self, user: &User, on: bool) {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h } = &mut *guard;
        if let Some(e) = h.users.iter_mut().find(|u| u.user.id == user.id) {
            e.gets_events = on;
        }
        if on {
            for ev in core::mem::take(&mut h.waiting_events) {
                if !user.deliver(ev) {
                    h.stats.dropped += 1;
                }
            }
            // Keep room for later events without allocating in interrupt context.
            let _ = h.waiting_events.reserve(MAX_EVENTS_IN_QUEUE, GFP_ATOMIC);
            si.request_events();
            if !h.tick_armed && !h.shutting_down {
                h.tick_armed = true;
                self.tick_timer
                    .arm(self, usecs_to_jiffies(IPMI_TIMEOUT_MS * 1000));
            }
        }
    }

    /// Sets our IPMB address on `chan` (C `ipmi_set_my_address()`).
    pub(crate) fn set_my_address(&self, chan: u32, address: u8) -> Result {
        let mut guard = self.inner.lock();
        let info = guard.h.addrinfo.get_mut(chan as usize).ok_or(EINVAL)?;
        info.address = address;
        Ok(())
    }

    /// Our IPMB address on `chan` (C `ipmi_get_my_address()`).
    pub(crate) fn my_address(&self, chan: u32) -> Result<u8> {
        Ok(self
            .inner
            .lock()
            .h
            .addrinfo
            .get(chan as usize)
            .ok_or(EINVAL)?
            .address)
    }

    /// Sets our LUN on `chan` (C `ipmi_set_my_LUN()`).
    pub(crate) fn set_my_lun(&self, chan: u32, lun: u8) -> Result {
        let mut guard = self.inner.lock();
        let info = guard.h.addrinfo.get_mut(chan as usize).ok_or(EINVAL)?;
        info.lun = lun & 3;
        Ok(())
    }

    /// Our LUN on `chan` (C `ipmi_get_my_LUN()`).
    pub(crate) fn my_lun(&self, chan: u32) -> Result<u8> {
        Ok(self
            .inner
            .lock()
            .h
            .addrinfo
            .get(chan as usize)
            .ok_or(EINVAL)?
            .lun)
    }

    /// The maintenance mode (C `ipmi_get_maintenance_mode()`).
    pub(crate) fn maintenance_mode(&self) -> i32 {
        self.inner.lock().h.maint.mode()
    }

    /// Sets the maintenance mode: 0 auto, 1 off, 2 on (C `ipmi_set_maintenance_mode()`).
    pub(crate) fn set_maintenance_mode(&self, mode: i32) -> Result {
        let mut guard = self.inner.lock();
        guard.h.maint.set_mode(mode).map_err(to_error)?;
        Ok(())
    }
}

impl IrqHandler for Interface {
    /// The interrupt (C `si_irq_handler()`).
    fn handle_irq(&self) -> bool {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h } = &mut *guard;
        if h.shutting_down {
            return false;
        }
        if h.pm_hold(si) {
            return true;
        }
        let mut regs = self.regs;
        let next = si.event(&mut regs, 0, &mut |o| h.on_output(o, self));
        self.after_event(si, h, next);
        true
    }
}

impl OutKind {
    /// Gives back what a message that will never be answered holds.
    fn release(self) {
        match self {
            OutKind::Sysintf { user, .. } | OutKind::ResponseSend { user, .. } => {
                user.unreserve_msg()
            }
            OutKind::SeqRequest { .. } | OutKind::ChannelInfo(_) | OutKind::Discard => {}
        }
    }
}

/// Delivers `[cc]` as the answer to a request (C `deliver_err_response()`).
fn deliver_error(user: Arc<User>, mut recv: KBox<RecvMsg>, cc: u8) {
    recv.recv_type = IPMI_RESPONSE_RECV_TYPE;
    recv.netfn |= 1;
    recv.data[0] = cc;
    recv.data_len = 1;
    user.deliver_reserved(recv);
}

/// Formats an IPMB or LAN message (request or response) in a Send Message.
fn format_remote(addr: &Addr, msg: &Msg<'_>, seq: u8, info: AddrInfo) -> Result<SmiMsg> {
    match addr {
        Addr::Ipmb(a) => format_ipmb_msg(msg, a, false, seq, info.address, info.lun),
        Addr::IpmbBroadcast(a) => format_ipmb_msg(msg, a, true, seq, info.address, info.lun),
        Addr::Lan(a) => format_lan_msg(msg, a, seq, info.lun),
        Addr::SystemInterface { .. } | Addr::IpmbDirect(_) => Err(Errno::AfNoSupport),
    }
    .map_err(to_error)
}

/// A Get Channel Info request for `chan`.
fn channel_info_req(chan: u8) -> Result<SmiMsg> {
    format_sysintf_req(
        0,
        &Msg {
            netfn: IPMI_NETFN_APP_REQUEST,
            cmd: IPMI_GET_CHANNEL_INFO_CMD,
            data: &[chan],
        },
    )
    .map_err(to_error)
}

/// The system-interface address of a response (channel 0xf, the LUN it came from).
fn sysintf_addr(lun: u8, recv: &mut RecvMsg) {
    let mut abuf = [0u8; IPMI_ADDR_SIZE];
    recv.addr_len = Addr::SystemInterface { lun: lun & 3 }.encode(&mut abuf);
    recv.addr = abuf;
}

impl HandlerState {
    /// Queues a message for the interface.
    fn queue(&mut self, out: Outbound) -> Result {
        self.outq.push(out, GFP_ATOMIC)?;
        Ok(())
    }

    /// Whether the one-second tick has work (C `need_timer` in `ipmi_timeout_handler()`).
    fn needs_tick(&self) -> bool {
        self.seq.in_use() > 0 || self.maint.is_active() || self.users.iter().any(|u| u.gets_events)
    }

    /// Routes one result of the system interface (C `handle_one_recv_msg()` and friends).
    fn on_output(&mut self, out: SiOutput<'_>, iface: &Interface) {
        match out {
            SiOutput::Response(rsp) => self.on_response(rsp),
            SiOutput::IncomingMessage(rsp) => self.on_get_msg(rsp, iface),
            SiOutput::Event(rsp) => self.on_event(rsp, iface),
            SiOutput::WatchdogPretimeout => {}
        }
    }

    /// The response to the message in flight.
    fn on_response(&mut self, rsp: &[u8]) {
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
        let rsp = if rsp.len() < 2 || rsp[0] >> 2 != (n0 >> 2) | 1 || rsp[1] != n1 {
            fixed = [n0 | 4, n1, 0xff];
            &fixed[..]
        } else {
            rsp
        };
        match out.kind {
            OutKind::Sysintf { user, mut recv } => {
                recv.netfn = rsp[0] >> 2;
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
                recv.data[0] = rsp.get(2).copied().unwrap_or(0xff);
                recv.data_len = 1;
                user.deliver_reserved(recv);
            }
            OutKind::ChannelInfo(chan) => self.on_channel_info(chan, rsp),
            OutKind::Discard => {}
        }
    }

    /// One step of the channel scan (C `channel_handler()`).
    fn on_channel_info(&mut self, chan: u8, rsp: &[u8]) {
        let cc = rsp.get(2).copied().unwrap_or(0xff);
        if cc != 0 {
            if cc == IPMI_INVALID_CMD_COMPLETION_CODE && chan == 0 {
                // The BMC has no Get Channel Info: assume channel 0 is IPMB.
                self.medium[0] = Some(IPMI_CHANNEL_MEDIUM_IPMB);
                self.channels_ready = true;
                return;
            }
        } else if rsp.len() >= 6 {
            self.medium[usize::from(chan)] = Some(rsp[4] & 0x7f);
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
    fn on_get_msg(&mut self, rsp: &[u8], iface: &Interface) {
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
                if let Some(user) = iface.rcvrs.find(c.netfn, c.cmd, c.chan) {
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
                    self.deliver_cmd(user, recv, c.chan);
                } else {
                    self.stats.unhandled_commands += 1;
                    self.chan_stats[ci].unhandled += 1;
                    let our = self
                        .addrinfo
                        .get(usize::from(c.chan))
                        .map_or(IPMI_BMC_SLAVE_ADDR, |a| a.address);
                    if let Some(msg) = c.no_receiver_answer(our) {
                        if self
                            .queue(Outbound {
                                msg,
                                kind: OutKind::Discard,
                            })
                            .is_err()
                        {
                            self.stats.dropped += 1;
                        }
                    }
                }
            }
            Err(_) => self.stats.dropped += 1,
        }
    }

    /// Delivers an incoming command to its receiver, or holds it behind the receiver's earlier
    /// held commands, so that every receiver gets its commands in arrival order.
    fn deliver_cmd(&mut self, user: Arc<User>, recv: KBox<RecvMsg>, chan: u8) {
        let ci = usize::from(chan) % IPMI_MAX_CHANNELS;
        self.release_held(&user);
        let recv = if self.held.iter().any(|e| Arc::ptr_eq(&e.user, &user)) {
            recv
        } else {
            match user.try_deliver(recv) {
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

    /// Moves `user`'s held commands to its queue, oldest first, until it is full.
    fn release_held(&mut self, user: &Arc<User>) {
        let mut i = 0;
        while i < self.held.len() {
            if !Arc::ptr_eq(&self.held[i].user, user) {
                i += 1;
                continue;
            }
            let Ok(e) = self.held.remove(i) else { return };
            match user.try_deliver(e.recv) {
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

    /// An event from the event message buffer (C `handle_read_event_rsp()`).
    fn on_event(&mut self, rsp: &[u8], _iface: &Interface) {
        self.stats.events += 1;
        let Some(data) = rsp.get(3..) else { return };
        let make = || -> Option<KBox<RecvMsg>> {
            let mut recv = KBox::new(
                RecvMsg::new(IPMI_ASYNC_EVENT_RECV_TYPE, 0, rsp[0] >> 2, rsp[1], data),
                GFP_ATOMIC,
            )
            .ok()?;
            sysintf_addr(rsp[0], &mut recv);
            Some(recv)
        };
        let mut delivered = false;
        for entry in self.users.iter().filter(|u| u.gets_events) {
            delivered = true;
            if !make().is_some_and(|recv| entry.user.deliver(recv)) {
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

// `IPMI_BMC_CHANNEL` is where system-interface answers come from; keep the import honest.
const _: () = assert!(IPMI_BMC_CHANNEL == 0xf);
const _: Option<IpmbAddr> = None;

// Power management (`src/pm.rs`, `Documentation/pm.rst`). Kept in its own blocks at the end of
// the file: the rest of the handler only consults `HandlerState::pm_hold` and `pm.quiescing`.

impl Interface {
    /// Attaches the bound device, for the runtime-PM requests the handler makes, and the
    /// period of the attention watch while runtime-suspended.
    pub(crate) fn pm_attach(&self, dev: RawDev, watch_ms: u32) {
        let mut guard = self.inner.lock();
        guard.h.pm.dev = dev;
        guard.h.pm.watch_us = watch_ms.clamp(1, 60_000) * 1000;
    }

    /// Detaches the device before it is unbound; afterwards the handler makes no PM request.
    pub(crate) fn pm_detach(&self) {
        self.inner.lock().h.pm.dev = RawDev::NONE;
    }

    /// A snapshot of the PM counters, whether runtime-suspended, and the device.
    pub(crate) fn pm_stats(&self) -> (PmStats, bool, RawDev) {
        let guard = self.inner.lock();
        (guard.h.pm.stats, guard.h.pm.rpm_suspended, guard.h.pm.dev)
    }

    /// Counts a callback.
    pub(crate) fn pm_count(&self, f: impl FnOnce(&mut PmStats)) {
        f(&mut self.inner.lock().h.pm.stats);
    }

    /// Whether nothing is in flight, queued or waiting for a remote answer, and the one-second
    /// tick has nothing to do.
    pub(crate) fn is_idle(&self) -> bool {
        let guard = self.inner.lock();
        guard.h.pm_idle(&guard.si)
    }

    /// `->prepare`: true (direct-complete may be used) only when runtime-suspended, idle, and
    /// the BMC flags no attention (an incoming message or event waiting to be fetched).
    pub(crate) fn prepare(&self) -> bool {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h } = &mut *guard;
        h.pm.in_system_pm = true;
        h.pm.stats.prepare += 1;
        let mut regs = self.regs;
        let direct = !h.shutting_down
            && h.pm.rpm_suspended
            && h.pm.dev.runtime_status() == kernel::bindings::rpm_status_RPM_SUSPENDED
            && h.pm_idle(si)
            && regs.read_status() & STATUS_ATN == 0;
        if direct {
            h.pm.stats.prepare_positive += 1;
        }
        direct
    }

    /// `->complete`: `direct` says whether the PM core skipped suspend and resume. A
    /// runtime-suspended interface looks for attention at once, for what the BMC queued meanwhile.
    pub(crate) fn complete(&self, direct: bool) {
        let mut guard = self.inner.lock();
        let h = &mut guard.h;
        h.pm.in_system_pm = false;
        h.pm.stats.complete += 1;
        h.pm.stats.last_direct_complete = direct;
        if direct {
            h.pm.stats.direct_complete += 1;
        }
        if h.pm.rpm_suspended && !h.shutting_down {
            h.si_timer_us = Some(h.pm.watch_us);
            self.si_timer.arm(self, 1);
        }
    }

    /// The attention watch of a runtime-suspended interface (run by the SI timer): reads only the
    /// status register, and asks for a runtime resume when the BMC has something for us.
    fn pm_watch(&self, h: &mut HandlerState) {
        if !h.pm.rpm_suspended || h.pm.sys_suspended {
            return;
        }
        let mut regs = self.regs;
        if regs.read_status() & STATUS_ATN != 0 {
            h.pm.stats.watch_wakeups += 1;
            h.pm.dev.request_resume();
        }
        // Between prepare and complete nothing should run across the system sleep; complete
        // restarts the watch.
        if !h.pm.in_system_pm {
            h.si_timer_us = Some(h.pm.watch_us);
            self.si_timer.arm(self, usecs_to_jiffies(h.pm.watch_us));
        }
    }

    /// `->runtime_suspend`: with work pending, refuses with `EBUSY` and pushes the autosuspend
    /// expiry back (so the PM core tries again later); otherwise stops transactions and polling
    /// and starts the attention watch. The caller masks the IRQ afterwards.
    pub(crate) fn runtime_suspend(&self) -> Result {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h } = &mut *guard;
        let mut regs = self.regs;
        if h.shutting_down || !h.pm_idle(si) || regs.read_status() & STATUS_ATN != 0 {
            h.pm.stats.runtime_suspend_busy += 1;
            h.pm.dev.mark_last_busy();
            return Err(EBUSY);
        }
        h.pm.rpm_suspended = true;
        h.pm.stats.runtime_suspend += 1;
        h.si_timer_us = Some(h.pm.watch_us);
        self.si_timer.arm(self, usecs_to_jiffies(h.pm.watch_us));
        Ok(())
    }

    /// `->runtime_resume`: leaves the watch and runs the state machine, which fetches what the
    /// BMC flagged and starts the queued requests. The caller unmasks the IRQ first.
    pub(crate) fn runtime_resume(&self) {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h } = &mut *guard;
        h.pm.rpm_suspended = false;
        h.pm.stats.runtime_resume += 1;
        h.si_timer_us = None;
        h.pm.dev.mark_last_busy();
        if h.shutting_down || h.pm.sys_suspended {
            return;
        }
        let mut regs = self.regs;
        let next = si.event(&mut regs, 0, &mut |o| h.on_output(o, self));
        self.after_event(si, h, next);
    }

    /// Quiesces for a system suspend (or hibernation): no new transaction starts (new requests
    /// queue and wait), the one in flight finishes, or after [`QUIESCE_TIMEOUT_MS`] is aborted
    /// and queued again at the head; then I/O and both timers stop. Process context; the
    /// caller masks the IRQ afterwards.
    pub(crate) fn suspend(&self) {
        self.inner.lock().h.pm.quiescing = true;
        let mut waited = 0;
        loop {
            {
                let mut guard = self.inner.lock();
                let IfaceInner { si, h } = &mut *guard;
                let idle = h.curr.is_none() && si.is_idle();
                if idle || waited >= QUIESCE_TIMEOUT_MS || h.shutting_down {
                    if !idle {
                        h.requeue_current();
                        si.reset();
                    }
                    h.pm.sys_suspended = true;
                    h.si_timer_us = None;
                    h.tick_armed = false;
                    break;
                }
            }
            fsleep(Delta::from_millis(1));
            waited += 1;
        }
        // Callbacks that still run see `sys_suspended` and neither do I/O nor re-arm.
        self.si_timer.cancel();
        self.tick_timer.cancel();
    }

    /// Brings the interface back after a system resume (or thaw/restore): re-initialises the
    /// KCS state machine, re-enables the BMC global enables (`Si::start`), restarts the tick if
    /// needed and the waiting requests; attention raised meanwhile is then handled. The caller
    /// unmasks the IRQ first.
    pub(crate) fn resume(&self) -> Result {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h } = &mut *guard;
        h.pm.sys_suspended = false;
        h.pm.quiescing = false;
        if h.shutting_down {
            return Ok(());
        }
        si.reset();
        let mut regs = self.regs;
        let next = si
            .start(&mut regs, &mut |out| h.on_output(out, self))
            .map_err(|_| EIO)?;
        self.after_event(si, h, next);
        h.pm.dev.mark_last_busy();
        Ok(())
    }
}

impl HandlerState {
    /// Whether the interface must be left alone for power management; called before any I/O
    /// from an event. Runtime-suspended with work waiting, it asks for a runtime resume (an
    /// `RPM_ASYNC` request, fine in IRQ context). Otherwise notes activity for autosuspend.
    fn pm_hold(&mut self, si: &Si) -> bool {
        if self.pm.sys_suspended {
            return true;
        }
        if self.pm.rpm_suspended {
            if !self.outq.is_empty() || self.needs_tick() {
                self.pm.dev.request_resume();
            }
            return true;
        }
        if !self.pm_idle(si) {
            self.pm.dev.mark_last_busy();
        }
        false
    }

    /// Whether there is no work: nothing in flight or queued, no request waiting for a remote
    /// answer, nothing for the tick, and no system transition under way.
    fn pm_idle(&self, si: &Si) -> bool {
        self.curr.is_none()
            && self.outq.is_empty()
            && !self.needs_tick()
            && !self.pm.quiescing
            && !self.pm.sys_suspended
            && si.is_idle()
    }

    /// Puts the transaction in flight back at the head of the queue, to be sent again after
    /// resume; if there is no room it is answered with 0xFF instead, so it is never lost.
    fn requeue_current(&mut self) {
        let Some(out) = self.curr.take() else { return };
        let (n0, n1) = {
            let b = out.msg.as_bytes();
            (
                b.first().copied().unwrap_or(0),
                b.get(1).copied().unwrap_or(0),
            )
        };
        let _ = self.outq.reserve(1, GFP_ATOMIC);
        match self.outq.push_within_capacity(out) {
            Ok(()) => {
                self.outq.rotate_right(1);
                self.pm.stats.requeued += 1;
            }
            Err(e) => {
                self.curr = Some(e.0);
                self.on_response(&[n0 | 4, n1, 0xff]);
            }
        }
    }
}
