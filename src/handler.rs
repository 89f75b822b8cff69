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
    time::{delay::fsleep, Delta, Instant, Monotonic},
};

use crate::addr::{Addr, IPMI_ADDR_SIZE};
use crate::defs::{
    error_response, is_response_netfn, lun_of, netfn_of, response_netfn, Cc,
    IPMI_ASYNC_EVENT_RECV_TYPE, IPMI_BMC_SLAVE_ADDR, IPMI_BMC_SMS_LUN, IPMI_CHANNEL_MEDIUM_IPMB,
    IPMI_CHANNEL_MEDIUM_MASK, IPMI_GET_CHANNEL_INFO_CMD, IPMI_MAX_CHANNELS, IPMI_MAX_LUN,
    IPMI_MAX_MSG_LENGTH, IPMI_NETFN_APP_REQUEST, IPMI_RESPONSE_RECV_TYPE,
    IPMI_RESPONSE_RESPONSE_TYPE,
};
use crate::error::Errno;
use crate::kcs::io::{IrqHandler, PortIo};
use crate::kcs::sm::{KcsRegisters, STATUS_ATN};
use crate::message::{
    check_request, decode_get_msg, format_ipmb_msg, format_lan_msg, format_sysintf_req,
    get_msg_channel, send_msg_error, seq_of_user_msgid, GetMsg, Msg, SmiMsg,
};
use crate::pm::RawDev;
use crate::pm_state::{PmState, PmStats, QUIESCE_TIMEOUT_MS};
use crate::poll::PollPacer;
use crate::rcvr_table::RcvrTable;
use crate::seq::{Expired, Maintenance, SeqKey, SeqTable, IPMI_TIMEOUT_MS};
use crate::si::{Next, Si, SiOutput};
use crate::timer::{usecs_to_jiffies, FineTimer, Timer};
use crate::user::{RecvMsg, User};

/// `max_events_in_queue`: events kept while no user takes them.
const MAX_EVENTS_IN_QUEUE: usize = 25;
/// How often an idle interface without an IRQ is polled for attention while a user watches for
/// events or commands, in µs. C's idle `kipmid` then sleeps 100 jiffies between looks; ripmi
/// polls from a timer (see `Documentation/admin-guide.rst`).
const IDLE_POLL_USEC: u32 = 100_000;
/// The same while nobody watches, in µs (and the least period of the runtime-suspended watch
/// then). C does not look at all then; ripmi looks once a second, so that a command nobody
/// registered for still gets its 0xC1 answer and the BMC's queue drains.
const IDLE_POLL_UNWATCHED_USEC: u32 = 1_000_000;
/// Messages that can wait for the interface before `SEND_COMMAND` allocates more room.
const OUTQ_RESERVE: usize = 64;
/// Incoming commands held back, interface-wide, for users whose queue is full (see
/// [`HandlerState::held`]); beyond it a command is dropped and counted.
pub(crate) const HELD_MAX: usize = 256;
/// 0xC1 answers to unregistered commands that may wait in the outbound queue; beyond it an
/// answer is dropped and counted (`unhandled_dropped`), so a BMC flooding commands neither
/// grows the queue nor delays user requests by more than this many transactions.
pub(crate) const REPLIES_MAX: usize = 16;
/// The longest unload waits for the transaction in flight and for the BMC's interrupts to be
/// turned off: two KCS timeouts (C `shutdown_smi()` waits without a bound).
const SHUTDOWN_WAIT_MS: u32 = 12_000;
/// The longest gap counted as elapsed time between two calls into the SI; a longer one (a
/// system sleep) counts as this, so a transaction is not failed for time the machine slept.
const MAX_ELAPSED_US: u64 = 1_000_000;

/// The registers an interface can drive: KCS register access that can live under its lock.
pub(crate) trait Regs: KcsRegisters + Send + Unpin + 'static {}

impl<T: KcsRegisters + Send + Unpin + 'static> Regs for T {}

/// The time source of an interface, and whether its timers are the kernel's.
///
/// The kernel build uses [`KernelClock`]; the KUnit harness uses a virtual clock that it
/// advances itself, firing the interface's timers (through [`Interface::si_deadline`] and
/// [`Interface::tick_deadline`]) when their time comes.
pub(crate) trait Clock: Send + Sync + 'static {
    /// Whether the interface arms kernel timers (true), or leaves its deadlines to the caller.
    const ARMS_TIMERS: bool;
    /// Monotonic time in µs.
    fn now_us(&self) -> u64;
}

/// The kernel's monotonic clock, counted from the interface's creation.
pub(crate) struct KernelClock {
    start: Instant<Monotonic>,
}

impl KernelClock {
    /// A clock starting now.
    pub(crate) fn new() -> Self {
        KernelClock {
            start: Instant::now(),
        }
    }
}

impl Clock for KernelClock {
    const ARMS_TIMERS: bool = true;
    fn now_us(&self) -> u64 {
        u64::try_from((Instant::<Monotonic>::now() - self.start).as_nanos() / 1000).unwrap_or(0)
    }
}

/// The interface the kernel drives: port I/O and the monotonic clock.
pub(crate) type KcsInterface = Interface<PortIo, KernelClock>;

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
    /// 0xC1 answers not sent because [`REPLIES_MAX`] were waiting already.
    pub(crate) unhandled_dropped: u64,
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
    /// How many of `outq` are 0xC1 answers (at most [`REPLIES_MAX`]).
    replies: usize,
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
    /// When the SI timer is due (µs of the interface's clock), if armed. It is only ever moved
    /// earlier, and only the timer itself clears it, so no path can leave a busy interface
    /// without a pending timer, and a hosed interface's one-second retry is never pushed out.
    si_deadline: Option<u64>,
    /// When the one-second handler tick is due, if armed.
    tick_deadline: Option<u64>,
    /// When the tick last ran, for the elapsed time it ages requests by.
    last_tick_us: u64,
    /// When the SI was last run, and whether it was busy then: the next call passes the time
    /// since, so KCS timeouts count elapsed time whatever drives the interface.
    si_last_us: u64,
    si_busy: bool,
    /// Set by [`Interface::start`]; before it, interrupts are not ours to handle.
    started: bool,
    /// Unload has begun: nothing new starts, the transaction in flight finishes.
    stopping: bool,
    /// Set at teardown; afterwards the ports are never touched again.
    shutting_down: bool,
    stats: Stats,
    /// Runtime and system PM state (`src/pm.rs`; methods at the end of this file).
    pm: PmState,
    /// When to look again at a waiting interface (`src/poll.rs`).
    pacer: PollPacer,
}

/// What [`Interface::inner`] protects.
struct IfaceInner<R> {
    si: Si,
    h: HandlerState,
    /// The KCS registers; only touched under the lock.
    regs: R,
}

/// One IPMI interface: a KCS system interface and its message handler, over the registers `R`
/// and the clock `C` (the kernel's are [`KcsInterface`]; tests use a register model and a
/// virtual clock).
///
/// # Invariants
///
/// `inner.regs` is used only while `shutting_down` is false; the owner of the I/O region sets
/// `shutting_down` (through [`Interface::shutdown`]) before releasing it.
#[pin_data]
pub(crate) struct Interface<R: Regs, C: Clock> {
    // The timers come first: dropping them shuts them down before anything they use goes.
    /// Runs the SI: a high-resolution timer, since a polled wait lasts microseconds.
    #[pin]
    si_timer: FineTimer<Interface<R, C>>,
    #[pin]
    tick_timer: Timer<Interface<R, C>>,
    #[pin]
    inner: SpinLockIrq<IfaceInner<R>>,
    /// The command receivers; see the module's `# Locking`.
    #[pin]
    rcvrs: RcvrTable,
    clock: C,
    has_irq: bool,
    max_users: usize,
    max_msgs: usize,
}

impl<R: Regs, C: Clock> Interface<R, C> {
    /// Creates the handler for the interface at `regs` (whose BMC has answered).
    ///
    /// The locked state is several KiB, so it is initialised in place rather than built on the
    /// stack and moved.
    pub(crate) fn new(
        regs: R,
        clock: C,
        has_irq: bool,
        max_users: usize,
        max_msgs: usize,
        poll_max_busy_us: u32,
    ) -> Result<Arc<Self>> {
        let outq = KVec::with_capacity(OUTQ_RESERVE, GFP_KERNEL)?;
        let users = KVec::with_capacity(max_users, GFP_KERNEL)?;
        let waiting_events = KVec::with_capacity(MAX_EVENTS_IN_QUEUE, GFP_KERNEL)?;
        let held = KVec::with_capacity(HELD_MAX, GFP_KERNEL)?;
        let rcvrs = RcvrTable::new()?;
        let now = clock.now_us();
        let h = init!(HandlerState {
            outq,
            replies: 0,
            curr: None,
            seq: SeqTable::new(),
            maint: Maintenance::new(),
            medium: [None; IPMI_MAX_CHANNELS],
            channels_ready: false,
            addrinfo: [AddrInfo {
                address: IPMI_BMC_SLAVE_ADDR,
                lun: IPMI_BMC_SMS_LUN,
            }; IPMI_MAX_CHANNELS],
            users,
            next_user_id: 1,
            held,
            chan_stats: [ChanStats::default(); IPMI_MAX_CHANNELS],
            waiting_events,
            si_deadline: None,
            tick_deadline: None,
            last_tick_us: now,
            si_last_us: now,
            si_busy: false,
            started: false,
            stopping: false,
            shutting_down: false,
            stats: Stats::default(),
            pm: PmState::new(),
            pacer: PollPacer::new(poll_max_busy_us),
        });
        let inner = init!(IfaceInner { si: Si::new(has_irq), h <- h, regs });
        Arc::pin_init(
            try_pin_init!(Interface {
                si_timer <- FineTimer::new(Self::si_timer_fired),
                tick_timer <- Timer::new(Self::tick_fired, c"Interface::tick_timer", kernel::static_lock_class!()),
                inner <- new_spinlock_irq!(inner, "Interface::inner"),
                rcvrs <- rcvrs,
                clock,
                has_irq,
                max_users,
                max_msgs,
            }),
            GFP_KERNEL,
        )
    }

    /// Starts the interface (enables, event buffer) and the channel scan (C `try_smi_init()`'s
    /// tail and `__scan_channels()`). Interrupts are handled from here on.
    pub(crate) fn start(&self) -> Result {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h, regs } = &mut *guard;
        h.started = true;
        let next = si
            .start(regs, &mut |out| h.on_output(out, &self.rcvrs))
            .map_err(|_| EIO)?;
        h.queue(Outbound {
            msg: channel_info_req(0)?,
            kind: OutKind::ChannelInfo(0),
        })?;
        self.after_event(si, h, regs, next);
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

    /// Messages waiting for the interface (not counting the one in flight).
    #[cfg(any(test, ripmi_test))]
    pub(crate) fn queued(&self) -> usize {
        self.inner.lock().h.outq.len()
    }

    /// Stops all I/O for good; afterwards the I/O region and IRQ may be released (C
    /// `shutdown_smi()`): nothing new starts, the BMC's interrupts are turned off, and the
    /// transaction in flight is waited for (at most [`SHUTDOWN_WAIT_MS`]). Sleeps.
    pub(crate) fn shutdown(&self) {
        {
            let mut guard = self.inner.lock();
            let IfaceInner { si, h, .. } = &mut *guard;
            h.stopping = true;
            si.set_irq_enabled(false);
        }
        // Drive the interface from here until it is idle, the enables written (the timers and
        // the IRQ may also run meanwhile).
        let mut waited = 0;
        while waited < SHUTDOWN_WAIT_MS {
            {
                let mut guard = self.inner.lock();
                let IfaceInner { si, h, regs } = &mut *guard;
                if h.shutting_down || !h.started || h.pm.sys_suspended || si.is_idle() {
                    break;
                }
                let next = h.run_si(si, regs, &self.clock, &self.rcvrs);
                self.after_event(si, h, regs, next);
            }
            fsleep(Delta::from_millis(1));
            waited += 1;
        }
        // Every request still open ends now with 0xFF, as C `cleanup_smi_msgs()` answers them
        // (the one in flight, those queued, and those waiting for a remote answer); then every
        // user learns that the interface is gone.
        let mut users = KVec::new();
        {
            let mut guard = self.inner.lock();
            let h = &mut guard.h;
            h.shutting_down = true;
            h.si_deadline = None;
            h.tick_deadline = None;
            h.answer_current(Cc::UNSPECIFIED);
            for out in core::mem::take(&mut h.outq) {
                h.curr = Some(out);
                h.answer_current(Cc::UNSPECIFIED);
            }
            h.seq
                .remove_if(|_| true, |p| deliver_error(p.user, p.recv, Cc::UNSPECIFIED));
            for u in h.users.iter() {
                // A user left out by a failed allocation is still refused new requests (ENODEV).
                let _ = users.push(u.user.clone(), GFP_ATOMIC);
            }
        }
        self.si_timer.cancel();
        self.tick_timer.shutdown();
        for user in users {
            user.disconnect();
        }
    }

    /// Feeds the interface the next waiting message, then (re)arms the timers the state needs.
    /// Called with the lock held after every call into the SI; `next` is what that call said.
    ///
    /// It never loops on [`Next::Now`]: the SI's step budget ran out, so the rest runs from the
    /// timer, and one interrupt or timer does a bounded amount of work.
    fn after_event(&self, si: &mut Si, h: &mut HandlerState, regs: &mut R, mut next: Next) {
        if h.shutting_down || h.pm_hold(si) {
            return;
        }
        // Feed the interface while it has no message of ours (C `start_next_msg()`). Each
        // turn either starts a transaction (and ends the loop) or answers a refused message, so
        // the loop is bounded by the queue, which is bounded.
        while h.curr.is_none() && !h.outq.is_empty() && !h.pm.quiescing && !h.stopping {
            let Ok(out) = h.outq.remove(0) else { break };
            if matches!(out.kind, OutKind::Discard) {
                h.replies = h.replies.saturating_sub(1);
            }
            let mut bytes = [0u8; IPMI_MAX_MSG_LENGTH];
            let len = out.msg.as_bytes().len();
            bytes[..len].copy_from_slice(out.msg.as_bytes());
            h.curr = Some(out);
            h.stats.sent += 1;
            match si.enqueue(regs, &bytes[..len], &mut |o| h.on_output(o, &self.rcvrs)) {
                Ok(n) => next = n,
                Err(cc) => {
                    // The interface refused it: answer it with that completion code.
                    let rsp = error_response(&bytes[..len], cc);
                    h.on_output(SiOutput::Response(&rsp), &self.rcvrs);
                }
            }
        }
        let now = self.clock.now_us();
        if !h.si_busy && next != Next::Idle {
            // The SI goes busy now: its elapsed time counts from here.
            h.si_last_us = now;
        }
        h.si_busy = next != Next::Idle;
        // A wait the interrupt does not end is paced by the pacer; every other state re-arms as
        // C's `smi_timeout()` does.
        let paced = match (next, si.paced_wait()) {
            (Next::Delay, Some(what)) => Some(h.pacer.next_look_us(now, what, si.progress())),
            _ => {
                h.pacer.end_wait(now);
                None
            }
        };
        let rearm = paced.or(si.timer_rearm_us(next)).or(if self.has_irq {
            None
        } else if h.watched() {
            Some(IDLE_POLL_USEC)
        } else {
            Some(IDLE_POLL_UNWATCHED_USEC)
        });
        if let Some(us) = rearm {
            self.arm_si_timer(h, now, us);
        }
        if h.needs_tick() {
            self.arm_tick(h, now);
        }
    }

    /// Arms the one-second handler tick unless it is armed; the requests it ages count their
    /// time from here.
    fn arm_tick(&self, h: &mut HandlerState, now: u64) {
        if h.tick_deadline.is_some() || h.shutting_down {
            return;
        }
        h.tick_deadline = Some(now + u64::from(IPMI_TIMEOUT_MS) * 1000);
        h.last_tick_us = now;
        if C::ARMS_TIMERS {
            self.tick_timer
                .arm(self, usecs_to_jiffies(IPMI_TIMEOUT_MS * 1000));
        }
    }

    /// Arms the SI timer to fire `us` after `now`, unless it is due sooner already.
    fn arm_si_timer(&self, h: &mut HandlerState, now: u64, us: u32) {
        let at = now + u64::from(us);
        if h.si_deadline.is_some_and(|d| d <= at) {
            return;
        }
        h.si_deadline = Some(at);
        if C::ARMS_TIMERS {
            self.si_timer.arm(self, us);
        }
    }

    /// When the SI timer is due, if armed (for a caller that drives the timers itself).
    #[cfg(any(test, ripmi_test))]
    pub(crate) fn si_deadline(&self) -> Option<u64> {
        self.inner.lock().h.si_deadline
    }

    /// When the handler tick is due, if armed (for a caller that drives the timers itself).
    #[cfg(any(test, ripmi_test))]
    pub(crate) fn tick_deadline(&self) -> Option<u64> {
        self.inner.lock().h.tick_deadline
    }

    /// The SI timer (C `smi_timeout()`).
    pub(crate) fn si_timer_fired(&self) {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h, regs } = &mut *guard;
        if h.si_deadline.take().is_none() || h.shutting_down {
            return;
        }
        if h.pm.rpm_suspended || h.pm.sys_suspended {
            self.pm_watch(h, regs);
            return;
        }
        let now = self.clock.now_us();
        let elapsed = h.si_elapsed(now);
        let next = si.timeout(regs, elapsed, &mut |o| h.on_output(o, &self.rcvrs));
        self.after_event(si, h, regs, next);
    }

    /// The one-second handler tick (C `ipmi_timeout_handler()`): ages requests by the time
    /// that really passed, resends or times them out, ages maintenance mode, and asks for events
    /// for users that want them. It runs the SI only when it is idle, and never touches the SI
    /// timer of a transaction in flight.
    pub(crate) fn tick_fired(&self) {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h, regs } = &mut *guard;
        if h.tick_deadline.take().is_none() || h.shutting_down || h.pm_hold(si) {
            return;
        }
        let now = self.clock.now_us();
        let elapsed_ms =
            u32::try_from(now.saturating_sub(h.last_tick_us) / 1000).unwrap_or(u32::MAX);
        h.last_tick_us = now;
        let HandlerState {
            seq, outq, stats, ..
        } = h;
        seq.tick(elapsed_ms, |exp| match exp {
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
                deliver_error(payload.user, payload.recv, Cc::TIMEOUT);
            }
        });
        h.maint.tick(elapsed_ms);
        if h.users.iter().any(|u| u.gets_events) {
            si.request_events();
        }
        let next = if h.curr.is_none() && !h.si_busy {
            h.run_si(si, regs, &self.clock, &self.rcvrs)
        } else {
            Next::Idle
        };
        self.after_event(si, h, regs, next);
    }

    /// Adds a user, or fails with `EBUSY` beyond `max_users` (C `ipmi_create_user()`).
    pub(crate) fn create_user(&self) -> Result<Arc<User>> {
        let id = {
            let mut guard = self.inner.lock();
            let h = &mut guard.h;
            if h.shutting_down || h.stopping {
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
                )?,
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
        let IfaceInner { si, h, regs } = &mut *guard;
        if h.shutting_down || h.stopping {
            return Err(ENODEV);
        }
        h.maint.check_request()?;
        let out = match addr {
            Addr::SystemInterface { lun } => {
                check_request(addr, 0, &msg)?;
                h.maint.note_sysintf_cmd(netfn, cmd);
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
        let IfaceInner { si, h, .. } = &mut *guard;
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
            self.arm_tick(h, self.clock.now_us());
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
        info.lun = lun & IPMI_MAX_LUN;
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
        guard.h.maint.set_mode(mode)?;
        Ok(())
    }
}

impl<R: Regs, C: Clock> IrqHandler for Interface<R, C> {
    /// The interrupt (C `si_irq_handler()`).
    ///
    /// Before [`Interface::start`] and after teardown the interrupt is not ours. Runtime-
    /// suspended, the interrupt is still served (reading the KCS clears it, so a shared line is
    /// never left asserted or masked) and a runtime resume is requested to carry on.
    fn handle_irq(&self) -> bool {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h, regs } = &mut *guard;
        if h.shutting_down || !h.started {
            return false;
        }
        if h.pm.sys_suspended {
            return true;
        }
        if h.pm.rpm_suspended {
            h.pm.dev.request_resume();
        }
        let next = h.run_si(si, regs, &self.clock, &self.rcvrs);
        self.after_event(si, h, regs, next);
        true
    }
}

/// Delivers `[cc]` as the answer to a request (C `deliver_err_response()`).
fn deliver_error(user: Arc<User>, mut recv: KBox<RecvMsg>, cc: Cc) {
    recv.recv_type = IPMI_RESPONSE_RECV_TYPE;
    recv.netfn = response_netfn(recv.netfn);
    recv.data[0] = cc.0;
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
    .map_err(Error::from)
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
    .map_err(Error::from)
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
    /// Queues a message for the interface.
    fn queue(&mut self, out: Outbound) -> Result {
        self.outq.push(out, GFP_ATOMIC)?;
        Ok(())
    }

    /// The time to pass to the SI now: since its last call if it was busy then (at most
    /// [`MAX_ELAPSED_US`]), else 0. Marks the call.
    fn si_elapsed(&mut self, now: u64) -> u32 {
        let elapsed = if self.si_busy {
            now.saturating_sub(self.si_last_us).min(MAX_ELAPSED_US)
        } else {
            0
        };
        self.si_last_us = now;
        u32::try_from(elapsed).unwrap_or(u32::MAX)
    }

    /// Runs the SI's state machine with the time elapsed since its last call.
    fn run_si<R: KcsRegisters, C: Clock>(
        &mut self,
        si: &mut Si,
        regs: &mut R,
        clock: &C,
        rcvrs: &RcvrTable,
    ) -> Next {
        let elapsed = self.si_elapsed(clock.now_us());
        si.event(regs, elapsed, &mut |o| self.on_output(o, rcvrs))
    }

    /// Whether a user watches for what the BMC may flag unasked: events, or commands it
    /// registered for (C `need_watch`). Idle interfaces look for attention more often then.
    fn watched(&self) -> bool {
        self.users.iter().any(|u| {
            u.gets_events
                || u.user
                    .registrations
                    .load(core::sync::atomic::Ordering::Relaxed)
                    > 0
        })
    }

    /// The period of the runtime-suspended attention watch, in µs (`rpm_watch_ms`, or once a
    /// second while nobody watches).
    fn pm_watch_us(&self) -> u32 {
        if self.watched() {
            self.pm.watch_us
        } else {
            self.pm.watch_us.max(IDLE_POLL_UNWATCHED_USEC)
        }
    }

    /// Whether the one-second tick has work (C `need_timer` in `ipmi_timeout_handler()`).
    fn needs_tick(&self) -> bool {
        self.seq.in_use() > 0 || self.maint.is_active() || self.users.iter().any(|u| u.gets_events)
    }

    /// Routes one result of the system interface (C `handle_one_recv_msg()` and friends).
    fn on_output(&mut self, out: SiOutput<'_>, rcvrs: &RcvrTable) {
        match out {
            SiOutput::Response(rsp) => self.on_response(rsp),
            SiOutput::IncomingMessage(rsp) => self.on_get_msg(rsp, rcvrs),
            SiOutput::Event(rsp) => self.on_event(rsp),
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
    fn on_get_msg(&mut self, rsp: &[u8], rcvrs: &RcvrTable) {
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
                if let Some(user) = rcvrs.find(c.netfn, c.cmd, c.chan) {
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
    fn on_event(&mut self, rsp: &[u8]) {
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

// Power management (`src/pm.rs`, `Documentation/pm.rst`). Kept in its own blocks at the end of
// the file: the rest of the handler only consults `HandlerState::pm_hold` and `pm.quiescing`.

impl<R: Regs, C: Clock> Interface<R, C> {
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
        let IfaceInner { si, h, regs } = &mut *guard;
        h.pm.in_system_pm = true;
        h.pm.stats.prepare += 1;
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
            self.arm_si_timer(h, self.clock.now_us(), 1);
        }
    }

    /// The attention watch of a runtime-suspended interface (run by the SI timer): reads only the
    /// status register, and asks for a runtime resume when the BMC has something for us.
    fn pm_watch(&self, h: &mut HandlerState, regs: &mut R) {
        if !h.pm.rpm_suspended || h.pm.sys_suspended {
            return;
        }
        if regs.read_status() & STATUS_ATN != 0 {
            h.pm.stats.watch_wakeups += 1;
            h.pm.dev.request_resume();
        }
        // Between prepare and complete nothing should run across the system sleep; complete
        // restarts the watch.
        if !h.pm.in_system_pm {
            let us = h.pm_watch_us();
            self.arm_si_timer(h, self.clock.now_us(), us);
        }
    }

    /// `->runtime_suspend`: with work pending, refuses with `EBUSY` and pushes the autosuspend
    /// expiry back (so the PM core tries again later); otherwise stops transactions and polling
    /// and starts the attention watch. The IRQ stays unmasked (the line may be shared): an
    /// interrupt meanwhile is served and asks for a runtime resume.
    pub(crate) fn runtime_suspend(&self) -> Result {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h, regs } = &mut *guard;
        if h.shutting_down || !h.pm_idle(si) || regs.read_status() & STATUS_ATN != 0 {
            h.pm.stats.runtime_suspend_busy += 1;
            h.pm.dev.mark_last_busy();
            return Err(EBUSY);
        }
        h.pm.rpm_suspended = true;
        h.pm.stats.runtime_suspend += 1;
        let now = self.clock.now_us();
        let us = h.pm_watch_us();
        self.arm_si_timer(h, now, us);
        Ok(())
    }

    /// `->runtime_resume`: leaves the watch and runs the state machine, which fetches what the
    /// BMC flagged and starts the queued requests.
    pub(crate) fn runtime_resume(&self) {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h, regs } = &mut *guard;
        h.pm.rpm_suspended = false;
        h.pm.stats.runtime_resume += 1;
        h.pm.dev.mark_last_busy();
        if h.shutting_down || h.pm.sys_suspended {
            return;
        }
        let next = h.run_si(si, regs, &self.clock, &self.rcvrs);
        self.after_event(si, h, regs, next);
    }

    /// Quiesces for a system suspend (or hibernation): no new transaction starts (new requests
    /// queue and wait), the one in flight finishes, or after [`QUIESCE_TIMEOUT_MS`] is answered
    /// with 0xC3 (timeout) and abandoned, never sent again (the BMC may have executed it); then
    /// I/O and both timers stop. Process context; the caller masks the IRQ afterwards.
    pub(crate) fn suspend(&self) {
        self.inner.lock().h.pm.quiescing = true;
        let mut waited = 0;
        loop {
            {
                let mut guard = self.inner.lock();
                let IfaceInner { si, h, .. } = &mut *guard;
                let idle = h.curr.is_none() && si.is_idle();
                if idle || waited >= QUIESCE_TIMEOUT_MS || h.shutting_down {
                    if !idle {
                        h.fail_current(Cc::TIMEOUT);
                        si.reset();
                    }
                    h.pm.sys_suspended = true;
                    h.si_deadline = None;
                    h.tick_deadline = None;
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
        let IfaceInner { si, h, regs } = &mut *guard;
        h.pm.sys_suspended = false;
        h.pm.quiescing = false;
        if h.shutting_down {
            return Ok(());
        }
        si.reset();
        h.si_busy = false;
        let next = si
            .start(regs, &mut |out| h.on_output(out, &self.rcvrs))
            .map_err(|_| EIO)?;
        self.after_event(si, h, regs, next);
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

    /// Answers the transaction in flight with `cc` at a system suspend (counted).
    fn fail_current(&mut self, cc: Cc) {
        if self.curr.is_some() {
            self.pm.stats.failed_at_suspend += 1;
        }
        self.answer_current(cc);
    }

    /// Answers the message in flight with `cc` and forgets it: it is never sent again, so the
    /// BMC executes each request at most once.
    fn answer_current(&mut self, cc: Cc) {
        let Some(out) = self.curr.as_ref() else {
            return;
        };
        let rsp = error_response(out.msg.as_bytes(), cc);
        self.on_response(&rsp);
    }
}

/// The handler glue under test: the whole interface (SI, handler, timers, interrupt path, PM
/// and teardown) over a KCS register model that can misbehave and a virtual clock, with the
/// kernel's real locks, `Arc`s and allocations, so the context rules (nothing that sleeps under
/// the IRQ-safe lock) are checked by the debug kernel's lockdep and atomic-sleep checks. The host
/// runs the same tests under `cargo test` (`tests/host`), over std stand-ins of the kernel crate.
#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_handler))]
mod tests {
    use super::*;
    use crate::addr::IpmbAddr;
    use crate::kcs::model::{Fault, KcsModel};
    use core::sync::atomic::{AtomicU64, Ordering};

    /// A clock the test moves; the interface leaves its timers to [`run`].
    struct VirtClock(AtomicU64);

    impl Clock for VirtClock {
        const ARMS_TIMERS: bool = false;
        fn now_us(&self) -> u64 {
            self.0.load(Ordering::Relaxed)
        }
    }

    type TestIface = Interface<KcsModel, VirtClock>;

    /// A jiffy in µs: a kernel timer fires on the first jiffy at or after its deadline.
    const JIFFY_US: u64 = 1_000_000 / bindings_hz();

    const fn bindings_hz() -> u64 {
        kernel::bindings::CONFIG_HZ as u64
    }

    /// A short Get Device ID answer.
    const DEVICE_ID_RSP: [u8; 5] = [0x1c, 0x01, 0x00, 0x20, 0x81];

    fn iface(has_irq: bool) -> Result<Arc<TestIface>> {
        TestIface::new(
            KcsModel::new(),
            VirtClock(AtomicU64::new(0)),
            has_irq,
            30,
            100,
            0,
        )
    }

    fn now(i: &TestIface) -> u64 {
        i.clock.now_us()
    }

    fn set_now(i: &TestIface, t: u64) {
        i.clock.0.store(t, Ordering::Relaxed);
        i.inner.lock().regs.set_now_us(t);
    }

    fn model<T>(i: &TestIface, f: impl FnOnce(&mut KcsModel) -> T) -> T {
        f(&mut i.inner.lock().regs)
    }

    /// How the test stands in for the interrupt line.
    #[derive(Clone, Copy, PartialEq)]
    enum Irq {
        /// Raised whenever the model has OBF with the interrupt enabled.
        Delivered,
        /// Never delivered (lost, or an interface without one).
        Lost,
        /// Delivered, plus a spurious call every jiffy (a busy shared line).
        Shared,
    }

    /// Runs the interface's timers (the SI's, a high-resolution timer, at its deadline; the
    /// tick at the first jiffy at or after its deadline) and the interrupt until `until` µs;
    /// returns the longest outbound queue seen.
    fn run(i: &TestIface, until: u64, irq: Irq) -> usize {
        let mut max_q = 0;
        loop {
            max_q = max_q.max(i.queued());
            let due = |d: Option<u64>| d.map(|d| d.div_ceil(JIFFY_US) * JIFFY_US);
            let si = i.si_deadline();
            let tick = due(i.tick_deadline());
            let mut next = match (si, tick) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => until,
            };
            if irq == Irq::Shared {
                next = next.min(now(i) + JIFFY_US);
            }
            if next > until {
                set_now(i, until);
                return max_q;
            }
            set_now(i, next.max(now(i)));
            if tick == Some(next) {
                i.tick_fired();
            } else if si == Some(next) {
                i.si_timer_fired();
            }
            if irq == Irq::Shared {
                i.handle_irq();
            }
            if irq != Irq::Lost && model(i, |m| m.irq_pending()) {
                i.handle_irq();
            }
            if next == until {
                return max_q;
            }
        }
    }

    /// Starts the interface and runs it until the channel scan is over.
    fn bring_up(i: &TestIface, irq: Irq) -> Result {
        i.start()?;
        let t = now(i);
        run(i, t + 100_000, irq);
        assert!(i.channels_ready());
        Ok(())
    }

    /// Sends Get Device ID to the BMC for `user`, as `SEND_COMMAND` does.
    fn send_get_device_id(i: &TestIface, user: &Arc<User>, msgid: i64) -> Result {
        i.send(
            user,
            &Request {
                addr: Addr::SystemInterface { lun: 0 },
                msgid,
                netfn: IPMI_NETFN_APP_REQUEST,
                cmd: 0x01,
                data: &[],
                retries: -1,
                retry_ms: 0,
            },
        )
    }

    /// Runs until `user` has a message (or `limit` µs from now); returns it and when it came.
    fn wait_answer(
        i: &TestIface,
        user: &User,
        limit: u64,
        irq: Irq,
    ) -> Option<(KBox<RecvMsg>, u64)> {
        let start = now(i);
        while now(i) < start + limit {
            if let Some(m) = user.pop() {
                return Some((m, now(i) - start));
            }
            let t = now(i);
            run(i, t + JIFFY_US, irq);
        }
        user.pop().map(|m| (m, limit))
    }

    /// Sends Get Device ID and runs until `user` has a message, in steps of 5 µs (or 100 ms);
    /// returns it, when it came, and how many register accesses the transaction took.
    fn round_trip_closely(
        i: &TestIface,
        user: &Arc<User>,
        msgid: i64,
    ) -> Option<(KBox<RecvMsg>, u64, u64)> {
        let start = now(i);
        let accesses = model(i, |m| m.accesses());
        model(i, |m| m.set_response_for(0x01, &DEVICE_ID_RSP));
        send_get_device_id(i, user, msgid).ok()?;
        while now(i) < start + 100_000 {
            if let Some(m) = user.pop() {
                return Some((m, now(i) - start, model(i, |m| m.accesses()) - accesses));
            }
            let t = now(i);
            run(i, t + 5, Irq::Lost);
        }
        None
    }

    /// Without an IRQ, a BMC that answers after 100 µs, 465 µs (the median of the project's
    /// simulator) or 3 ms is seen at most a quarter late (150 µs for long waits), and once the
    /// pacer has learned that time, with few looks more than a BMC that answers at once: four,
    /// or eight for 3 ms. (The jiffies timer looked once per 4 ms jiffy; a fixed 250 µs timer
    /// is 150% late at 100 µs and takes twelve looks at 3 ms.)
    #[test]
    fn polled_answers_are_seen_promptly_with_few_looks() -> Result {
        for (delay, extra_looks) in [(100u64, 4u64), (465, 4), (3_000, 8)] {
            let i = iface(false)?;
            bring_up(&i, Irq::Lost)?;
            let user = i.create_user()?;
            let (_, _, at_once) = round_trip_closely(&i, &user, 1).ok_or(ETIMEDOUT)?;
            model(&i, |m| m.set_answer_delay_us(delay));
            for id in 2..8 {
                let (m, took, accesses) = round_trip_closely(&i, &user, id).ok_or(ETIMEDOUT)?;
                assert_eq!(m.msgid, id);
                assert_eq!(m.data(), &DEVICE_ID_RSP[2..]);
                assert!(took >= delay && took <= delay + (delay / 4).min(150) + 10);
                if id > 3 {
                    assert!(accesses <= at_once + extra_looks);
                }
            }
            i.destroy_user(&user);
        }
        Ok(())
    }

    /// A client closes its file while its request is at the BMC; the answer then drops the
    /// last reference to the user in the interrupt handler, under the IRQ-safe lock (this hung
    /// the kernel when the drop slept: `synchronize_rcu()` of the user's poll wait queue).
    #[test]
    fn answer_to_a_closed_user_in_the_irq() -> Result {
        let i = iface(true)?;
        bring_up(&i, Irq::Delivered)?;
        model(&i, |m| {
            m.set_answer_delay_us(1_000_000);
            m.set_response_for(0x01, &DEVICE_ID_RSP);
        });
        let user = i.create_user()?;
        send_get_device_id(&i, &user, 1)?;
        i.destroy_user(&user);
        drop(user);
        let responses = i.stats().responses;
        run(&i, now(&i) + 2_000_000, Irq::Delivered);
        assert_eq!(i.stats().responses, responses + 1);
        Ok(())
    }

    /// The same, with the answer taken by the polling timer (softirq).
    #[test]
    fn answer_to_a_closed_user_in_the_timer() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        model(&i, |m| m.set_answer_delay_us(1_000_000));
        let user = i.create_user()?;
        send_get_device_id(&i, &user, 1)?;
        i.destroy_user(&user);
        drop(user);
        let responses = i.stats().responses;
        run(&i, now(&i) + 2_000_000, Irq::Lost);
        assert_eq!(i.stats().responses, responses + 1);
        Ok(())
    }

    /// With an IRQ that is never delivered, a user that wants events (so the one-second tick
    /// runs) and a BMC that answers after 2.5 s, the answer still comes, from the SI timer
    /// (the tick used to stop it). C answers after about 3 s.
    #[test]
    fn late_answer_with_the_irq_lost() -> Result {
        let i = iface(true)?;
        bring_up(&i, Irq::Delivered)?;
        let user = i.create_user()?;
        i.set_gets_events(&user, true);
        model(&i, |m| {
            m.set_answer_delay_us(2_500_000);
            m.set_response_for(0x01, &DEVICE_ID_RSP);
        });
        send_get_device_id(&i, &user, 7)?;
        let (m, after) = wait_answer(&i, &user, 20_000_000, Irq::Lost).ok_or(ETIMEDOUT)?;
        assert_eq!(m.msgid, 7);
        assert_eq!(m.data(), &DEVICE_ID_RSP[2..]);
        assert!(after < 3_000_000);
        i.destroy_user(&user);
        Ok(())
    }

    /// The interface gets hosed; while a client keeps sending (each refused with 0x82) and the
    /// tick runs, the one-second retry must still happen, so once the BMC is back a request
    /// succeeds within a few seconds (each send used to push the retry a second out).
    #[test]
    fn hosed_interface_recovers_under_load() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        let user = i.create_user()?;
        i.set_gets_events(&user, true);
        model(&i, |m| m.set_fault(Fault::StuckIbf));
        send_get_device_id(&i, &user, 1)?;
        let (m, _) = wait_answer(&i, &user, 60_000_000, Irq::Lost).ok_or(ETIMEDOUT)?;
        assert_eq!(m.data(), &[Cc::BUS_ERR.0][..]);
        model(&i, |m| m.set_fault(Fault::None));
        let back = now(&i);
        let mut ok = false;
        for id in 2..40 {
            model(&i, |m| m.set_response_for(0x01, &DEVICE_ID_RSP));
            send_get_device_id(&i, &user, id)?;
            let (m, _) = wait_answer(&i, &user, 500_000, Irq::Lost).ok_or(ETIMEDOUT)?;
            if m.data().first() == Some(&0) {
                ok = true;
                break;
            }
            // The client tries again a quarter of a second later.
            let t = now(&i);
            run(&i, t + 250_000, Irq::Lost);
        }
        assert!(ok);
        assert!(now(&i) - back < 5_000_000);
        i.destroy_user(&user);
        Ok(())
    }

    /// A BMC that never takes a byte fails the request with an error after the KCS timeouts of
    /// elapsed time (5 s per try), however the waits round up to jiffies: polled (each short
    /// wait is a whole jiffy) and with a busy shared interrupt line (calls with no time).
    #[test]
    fn kcs_timeouts_count_elapsed_time() -> Result {
        for (has_irq, irq) in [(false, Irq::Lost), (true, Irq::Shared)] {
            let i = iface(has_irq)?;
            bring_up(&i, Irq::Delivered)?;
            let user = i.create_user()?;
            model(&i, |m| m.set_fault(Fault::StuckIbf));
            send_get_device_id(&i, &user, 1)?;
            let (m, after) = wait_answer(&i, &user, 200_000_000, irq).ok_or(ETIMEDOUT)?;
            assert_eq!(m.data().len(), 1);
            assert_ne!(m.data()[0], 0);
            // Two tries of 5 s each, plus the recovery steps: well under 20 s.
            assert!(after < 20_000_000);
            i.destroy_user(&user);
        }
        Ok(())
    }

    /// An attention that never goes away (the flags say nothing) costs one interrupt a bounded
    /// amount of register I/O; the rest is left to the timer, and requests still get through.
    #[test]
    fn stuck_attention_is_bounded_per_interrupt() -> Result {
        let i = iface(true)?;
        bring_up(&i, Irq::Delivered)?;
        model(&i, |m| m.set_attn_stuck(true));
        let before = model(&i, |m| m.accesses());
        i.handle_irq();
        let used = model(&i, |m| m.accesses()) - before;
        assert!(used < 16 * u64::from(crate::si::MAX_EVENTS_PER_CALL));
        let user = i.create_user()?;
        model(&i, |m| m.set_response_for(0x01, &DEVICE_ID_RSP));
        send_get_device_id(&i, &user, 3)?;
        let (m, _) = wait_answer(&i, &user, 5_000_000, Irq::Delivered).ok_or(ETIMEDOUT)?;
        assert_eq!(m.data(), &DEVICE_ID_RSP[2..]);
        model(&i, |m| m.set_attn_stuck(false));
        i.destroy_user(&user);
        Ok(())
    }

    /// A request still at the BMC when a system suspend gives up waiting is answered once
    /// (0xC3) and never sent again after resume: the BMC executes it at most once.
    #[test]
    fn suspend_never_sends_a_request_twice() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        let user = i.create_user()?;
        model(&i, |m| m.set_answer_delay_us(10_000_000));
        send_get_device_id(&i, &user, 9)?;
        run(&i, now(&i) + 100_000, Irq::Lost);
        let sent = model(&i, |m| m.count(IPMI_NETFN_APP_REQUEST, 0x01));
        assert_eq!(sent, 1);
        // The virtual clock stands still meanwhile, so the quiesce times out.
        i.suspend();
        i.resume()?;
        model(&i, |m| m.set_answer_delay_us(0));
        run(&i, now(&i) + 20_000_000, Irq::Lost);
        assert_eq!(model(&i, |m| m.count(IPMI_NETFN_APP_REQUEST, 0x01)), 1);
        let m = user.pop().ok_or(ENOMSG)?;
        assert_eq!(m.data(), &[Cc::TIMEOUT.0][..]);
        assert!(user.pop().is_none());
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
        model(&i, |m| m.set_response_for(0x01, &DEVICE_ID_RSP));
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

    /// An interrupt before the interface is started is not ours (a pending attention used to
    /// start a transaction and fail probe); start then works.
    #[test]
    fn irq_before_start_is_not_handled() -> Result {
        let i = iface(true)?;
        model(&i, |m| m.queue_messages(1));
        assert!(!i.handle_irq());
        assert_eq!(model(&i, |m| m.accesses()), 0);
        bring_up(&i, Irq::Delivered)?;
        Ok(())
    }

    /// At teardown every request still open is answered with 0xFF, as C does: one queued
    /// behind the one in flight, and one waiting for a remote (IPMB) answer; then the user is
    /// hung up, and new requests fail with ENODEV.
    #[test]
    fn shutdown_answers_open_requests_and_hangs_up() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        let user = i.create_user()?;
        // The BMC accepts the Send Message; the remote controller never answers.
        model(&i, |m| m.set_response_for(0x34, &[0x1c, 0x34, 0x00]));
        let ipmb = Request {
            addr: Addr::Ipmb(IpmbAddr {
                channel: 0,
                slave_addr: 0x40,
                lun: 0,
            }),
            msgid: 1,
            netfn: IPMI_NETFN_APP_REQUEST,
            cmd: 0x01,
            data: &[],
            retries: 0,
            retry_ms: 60_000,
        };
        i.send(&user, &ipmb)?;
        run(&i, now(&i) + 100_000, Irq::Lost);
        assert!(user.pop().is_none());
        // One in flight (slow to take its bytes), one queued behind it.
        model(&i, |m| {
            m.set_ibf_delay(20);
            m.set_response_for(0x01, &DEVICE_ID_RSP);
        });
        send_get_device_id(&i, &user, 2)?;
        send_get_device_id(&i, &user, 3)?;
        assert!(!user.is_gone());
        i.shutdown();
        let mut answers = [0u8; 4];
        let mut n = 0;
        while let Some(m) = user.pop() {
            if let Some(slot) = answers.get_mut(usize::try_from(m.msgid).unwrap_or(0)) {
                *slot = m.data().first().copied().unwrap_or(0xee);
            }
            n += 1;
        }
        assert_eq!(n, 3);
        // The IPMB request and the queued one get 0xFF; the one in flight was waited for.
        assert_eq!(answers, [0, 0xff, 0x00, 0xff]);
        assert!(user.is_gone());
        assert_eq!(send_get_device_id(&i, &user, 4), Err(ENODEV));
        Ok(())
    }

    /// Unload waits for the transaction in flight (its user gets the answer) and turns the
    /// BMC's interrupts off, as C `shutdown_smi()` does; afterwards requests fail with ENODEV.
    #[test]
    fn shutdown_waits_and_turns_interrupts_off() -> Result {
        let i = iface(true)?;
        bring_up(&i, Irq::Delivered)?;
        assert_ne!(model(&i, |m| m.enables()) & 0x01, 0);
        let user = i.create_user()?;
        model(&i, |m| {
            m.set_ibf_delay(20);
            m.set_response_for(0x01, &DEVICE_ID_RSP);
        });
        send_get_device_id(&i, &user, 5)?;
        i.shutdown();
        let m = user.pop().ok_or(ENOMSG)?;
        assert_eq!(m.data(), &DEVICE_ID_RSP[2..]);
        assert_eq!(model(&i, |m| m.enables()) & 0x03, 0);
        assert_eq!(send_get_device_id(&i, &user, 6), Err(ENODEV));
        Ok(())
    }
}
