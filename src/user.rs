// SPDX-License-Identifier: GPL-2.0

//! A user of the message handler: one per open `/dev/ipmiN` file.
//!
//! It owns the queue of received messages, the wait queue `poll` sleeps on, the `fasync` list,
//! and the per-file timing defaults. C counterparts: `struct ipmi_user` in
//! [`ipmi_msghandler.c`](srctree/drivers/char/ipmi/ipmi_msghandler.c) and
//! `struct ipmi_file_private` in [`ipmi_devintf.c`](srctree/drivers/char/ipmi/ipmi_devintf.c).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use kernel::{
    bindings,
    prelude::*,
    sync::{new_spinlock_irq, poll::PollCondVarBox, Arc, SpinLockIrq},
};

use crate::addr::IPMI_ADDR_SIZE;
use crate::defs::IPMI_MAX_MSG_LENGTH;

/// A message waiting in a user's queue (C `struct ipmi_recv_msg`).
pub(crate) struct RecvMsg {
    /// `IPMI_RESPONSE_RECV_TYPE`, `IPMI_ASYNC_EVENT_RECV_TYPE`, `IPMI_CMD_RECV_TYPE`, ...
    pub(crate) recv_type: i32,
    /// The address, in the userspace layout; `addr_len` bytes are meaningful.
    pub(crate) addr: [u8; IPMI_ADDR_SIZE],
    /// How many bytes of `addr` to copy out.
    pub(crate) addr_len: usize,
    /// The requester's msgid (responses), or the IPMB/LAN sequence (commands).
    pub(crate) msgid: i64,
    /// The network function.
    pub(crate) netfn: u8,
    /// The command.
    pub(crate) cmd: u8,
    /// The data; `data_len` bytes are meaningful.
    pub(crate) data: [u8; IPMI_MAX_MSG_LENGTH],
    /// How many bytes of `data` are meaningful.
    pub(crate) data_len: usize,
    /// What an in-kernel user passed with the request this answers (`src/kapi/`).
    pub(crate) ctx: MsgCtx,
}

/// What an in-kernel user (`src/kapi/`) attaches to a request and gets back with its answer:
/// C's `user_msg_data` and the messages of `ipmi_request_supply_msgs()`, as addresses the
/// handler only carries. Zero for `/dev/ipmiN` users and for unsolicited messages.
#[derive(Clone, Copy, Default)]
pub(crate) struct MsgCtx {
    /// `user_msg_data`.
    pub(crate) user_msg_data: usize,
    /// The caller's `struct ipmi_recv_msg` to fill in, or 0 to allocate one.
    pub(crate) supplied_recv: usize,
    /// The caller's `struct ipmi_smi_msg`, whose `done` is called once the answer is handed
    /// over, or 0.
    pub(crate) supplied_smi: usize,
}

/// What a user's messages go to instead of `poll`/`read` (an in-kernel user, `src/kapi/`):
/// `func(arg)` is called, in any context and without the user's locks, whenever the queue goes
/// from empty to non-empty or the interface goes away.
#[derive(Clone, Copy)]
pub(crate) struct Hook {
    /// Called with `arg`; must not sleep.
    pub(crate) func: fn(usize),
    /// The argument.
    pub(crate) arg: usize,
}

impl RecvMsg {
    /// A message with the given header and data (cut at `IPMI_MAX_MSG_LENGTH`).
    pub(crate) fn new(recv_type: i32, msgid: i64, netfn: u8, cmd: u8, data: &[u8]) -> Self {
        let mut msg = RecvMsg {
            recv_type,
            addr: [0; IPMI_ADDR_SIZE],
            addr_len: 0,
            msgid,
            netfn,
            cmd,
            data: [0; IPMI_MAX_MSG_LENGTH],
            data_len: 0,
            ctx: MsgCtx::default(),
        };
        msg.set_data(data);
        msg
    }

    /// Replaces the data (cut at `IPMI_MAX_MSG_LENGTH`).
    pub(crate) fn set_data(&mut self, data: &[u8]) {
        let len = data.len().min(IPMI_MAX_MSG_LENGTH);
        self.data[..len].copy_from_slice(&data[..len]);
        self.data_len = len;
    }

    /// The meaningful bytes of the data.
    pub(crate) fn data(&self) -> &[u8] {
        &self.data[..self.data_len]
    }
}

/// The timing defaults `IPMICTL_SET_TIMING_PARMS_CMD` sets for `IPMICTL_SEND_COMMAND`.
#[derive(Clone, Copy)]
pub(crate) struct TimingParms {
    /// Retries; negative means the handler's default.
    pub(crate) retries: i32,
    /// Time between retries in ms; 0 means the handler's default.
    pub(crate) retry_time_ms: u32,
}

/// Room reserved in a new user's queue at most, in messages: a `max_msgs_per_user` beyond it
/// is allowed, and the queue grows when a reservation needs it.
const QUEUE_PREALLOC_MAX: usize = 1024;

/// What [`User::inner`] protects.
///
/// # Invariants
///
/// `queue.len() <= nr_msgs <= queue.capacity()`: every reserved message has room in the queue,
/// so queueing one never allocates.
pub(crate) struct UserInner {
    /// Received messages, oldest first.
    queue: KVec<KBox<RecvMsg>>,
    /// Messages allocated for this user and not yet freed: queued ones plus responses still
    /// owed to outstanding requests (C `nr_msgs`); bounded by `max_msgs_per_user` as it was at
    /// each reservation (a lowered limit lets the count drain, as in C).
    nr_msgs: usize,
    /// The timing defaults of this file.
    pub(crate) timing: TimingParms,
}

/// One user (one open file).
///
/// # Invariants
///
/// `fasync` is only written by `fasync_helper()` (through [`User::fasync`]), which serialises
/// writers itself, and only read by `kill_fasync()`, which is RCU-safe against it.
#[pin_data]
pub(crate) struct User {
    /// The handler-wide id; receivers record their owner by it.
    pub(crate) id: u64,
    /// How many command registrations the user holds in the receiver table (kept by the
    /// table's writers, under its mutex), so closing a file without any skips the table scan.
    pub(crate) registrations: AtomicUsize,
    /// Set when the interface went away (unbind, unload): nothing more will arrive.
    gone: AtomicBool,
    /// A watchdog pre-timeout waits to be handed to an in-kernel user (C
    /// `watchdog_pretimeouts_to_deliver`, per interface there; several coalesce into one).
    pretimeout: AtomicBool,
    /// The queue and counters; taken from interrupt context, so IRQ-safe.
    #[pin]
    pub(crate) inner: SpinLockIrq<UserInner>,
    /// Woken when the queue goes from empty to non-empty; `poll` registers on it.
    ///
    /// Boxed, because its drop must not sleep: the last reference to a user can go in the IRQ
    /// handler or the timer, under the interface's IRQ-safe lock (a client that closed its file
    /// while its request was at the BMC). `PollCondVar`'s drop waits for an RCU grace period;
    /// `PollCondVarBox` frees it with `kfree_rcu` instead.
    pub(crate) wait: PollCondVarBox,
    /// The `fasync` list for SIGIO.
    fasync: UnsafeCell<*mut bindings::fasync_struct>,
    /// An in-kernel user's delivery hook; taken at each wake-up, so that once
    /// [`User::set_hook`] has cleared it no call is running or will start.
    #[pin]
    hook: SpinLockIrq<Option<Hook>>,
}

// SAFETY: `fasync` is only touched through `fasync_helper()`/`kill_fasync()`, which synchronise
// internally (see the type invariants); every other field is `Sync`.
unsafe impl Sync for User {}
// SAFETY: As above; nothing in `User` is tied to a thread.
unsafe impl Send for User {}

impl User {
    /// Creates a user whose queue has room for `max_msgs` messages (`max_msgs_per_user` now, up
    /// to [`QUEUE_PREALLOC_MAX`]), so that delivering up to that many never allocates.
    pub(crate) fn new(id: u64, max_msgs: usize) -> Result<Arc<Self>> {
        let queue = KVec::with_capacity(max_msgs.min(QUEUE_PREALLOC_MAX), GFP_KERNEL)?;
        let wait = PollCondVarBox::new(c"User::wait", kernel::static_lock_class!())?;
        Arc::pin_init(
            // INVARIANT: no message is reserved or queued.
            try_pin_init!(User {
                id,
                registrations: AtomicUsize::new(0),
                gone: AtomicBool::new(false),
                pretimeout: AtomicBool::new(false),
                inner <- new_spinlock_irq!(
                    UserInner {
                        queue,
                        nr_msgs: 0,
                        timing: TimingParms { retries: -1, retry_time_ms: 0 },
                    },
                    "User::inner"
                ),
                wait,
                fasync: UnsafeCell::new(core::ptr::null_mut()),
                hook <- new_spinlock_irq!(None, "User::hook"),
            }),
            GFP_KERNEL,
        )
    }

    /// Reserves room for one message, or fails with `EBUSY` when the user holds `max_msgs`
    /// already: the `max_msgs_per_user` in effect now (C `ipmi_alloc_recv_msg()` reads it at
    /// each message). If the limit was raised since the user was created, the queue may have to
    /// grow first: an atomic allocation, as C's message is, whose failure gives `ENOMEM`.
    pub(crate) fn reserve_msg(&self, max_msgs: usize) -> Result {
        let mut guard = self.inner.lock();
        let inner = &mut *guard;
        if inner.nr_msgs >= max_msgs {
            return Err(EBUSY);
        }
        let want = inner.nr_msgs + 1;
        if inner.queue.capacity() < want {
            inner.queue.reserve(want - inner.queue.len(), GFP_ATOMIC)?;
        }
        // INVARIANT: the capacity is at least `want` now.
        inner.nr_msgs = want;
        Ok(())
    }

    /// How many messages the user holds or has reserved (C `user->nr_msgs`).
    pub(crate) fn nr_msgs(&self) -> usize {
        self.inner.lock().nr_msgs
    }

    /// Gives back a reservation that will not be delivered.
    pub(crate) fn unreserve_msg(&self) {
        let mut inner = self.inner.lock();
        inner.nr_msgs = inner.nr_msgs.saturating_sub(1);
    }

    /// Queues a message for which [`User::reserve_msg`] succeeded, waking pollers and sending
    /// SIGIO if the queue was empty (C `file_receive_handler()`).
    pub(crate) fn deliver_reserved(&self, msg: KBox<RecvMsg>) {
        let was_empty = {
            let mut inner = self.inner.lock();
            let was_empty = inner.queue.is_empty();
            // Cannot fail: the capacity covers every reservation (`UserInner` invariants).
            if inner.queue.push_within_capacity(msg).is_err() {
                inner.nr_msgs = inner.nr_msgs.saturating_sub(1);
                return;
            }
            was_empty
        };
        if was_empty {
            self.wake(bindings::POLL_IN);
        }
    }

    /// Reserves and queues a message in one step; the message is dropped (and `false` returned)
    /// when the user holds `max_msgs` already (see [`User::reserve_msg`]).
    pub(crate) fn deliver(&self, msg: KBox<RecvMsg>, max_msgs: usize) -> bool {
        self.try_deliver(msg, max_msgs).is_ok()
    }

    /// Reserves and queues a message in one step, or gives it back when the user holds
    /// `max_msgs` already (see [`User::reserve_msg`]).
    pub(crate) fn try_deliver(
        &self,
        msg: KBox<RecvMsg>,
        max_msgs: usize,
    ) -> Result<(), KBox<RecvMsg>> {
        if self.reserve_msg(max_msgs).is_err() {
            return Err(msg);
        }
        self.deliver_reserved(msg);
        Ok(())
    }

    /// Takes the oldest message, if any.
    pub(crate) fn pop(&self) -> Option<KBox<RecvMsg>> {
        let mut inner = self.inner.lock();
        if inner.queue.is_empty() {
            return None;
        }
        inner.queue.remove(0).ok()
    }

    /// Puts a message taken by [`User::pop`] back at the head of the queue.
    pub(crate) fn put_back(&self, msg: KBox<RecvMsg>) {
        let mut inner = self.inner.lock();
        // Cannot fail: the message came out of this queue, so its slot is free.
        let _ = inner.queue.insert_within_capacity(0, msg);
    }

    /// Frees the reservation of a message taken by [`User::pop`] and consumed.
    pub(crate) fn consumed(&self) {
        self.unreserve_msg();
    }

    /// Marks the user's interface as gone and wakes its pollers (and SIGIO users), so they see
    /// the hang-up instead of waiting for messages that will never come.
    pub(crate) fn disconnect(&self) {
        self.gone.store(true, Ordering::Release);
        self.wake(bindings::POLL_HUP);
    }

    /// Sets or clears the delivery hook of an in-kernel user. When this returns `None`, no call
    /// of the old hook is running, and none will start.
    pub(crate) fn set_hook(&self, hook: Option<Hook>) {
        *self.hook.lock() = hook;
    }

    /// Tells an in-kernel user that the BMC's watchdog pre-timeout went off (C
    /// `ipmi_smi_watchdog_pretimeout()`): marks it and calls its hook, whose delivery hands it
    /// over ([`User::take_pretimeout`]). `/dev/ipmiN` users get nothing, as with C.
    pub(crate) fn watchdog_pretimeout(&self) {
        let hook = self.hook.lock();
        if let Some(h) = *hook {
            self.pretimeout.store(true, Ordering::Release);
            (h.func)(h.arg);
        }
    }

    /// Whether a watchdog pre-timeout waits to be handed over; clears it.
    pub(crate) fn take_pretimeout(&self) -> bool {
        self.pretimeout.swap(false, Ordering::AcqRel)
    }

    /// Wakes the pollers and sends SIGIO with `band` (`POLL_IN`, `POLL_HUP`) to fasync owners,
    /// and calls the hook of an in-kernel user.
    fn wake(&self, band: u32) {
        {
            let hook = self.hook.lock();
            if let Some(h) = *hook {
                (h.func)(h.arg);
            }
        }
        self.wait.notify_all();
        // SAFETY: `fasync` is a valid (possibly null) fasync list head, see the invariants.
        unsafe { bindings::kill_fasync(self.fasync.get(), bindings::SIGIO as i32, band as i32) };
    }

    /// Whether the interface went away ([`User::disconnect`]).
    pub(crate) fn is_gone(&self) -> bool {
        self.gone.load(Ordering::Acquire)
    }

    /// Whether a message is waiting.
    pub(crate) fn has_msgs(&self) -> bool {
        !self.inner.lock().queue.is_empty()
    }

    /// The timing defaults.
    pub(crate) fn timing(&self) -> TimingParms {
        self.inner.lock().timing
    }

    /// Sets the timing defaults.
    pub(crate) fn set_timing(&self, timing: TimingParms) {
        self.inner.lock().timing = timing;
    }

    /// Adds or removes `filp` from the SIGIO list (the body of `fasync`).
    ///
    /// # Safety
    ///
    /// `filp` must be the valid file this user belongs to.
    pub(crate) unsafe fn fasync(&self, fd: i32, filp: *mut bindings::file, on: i32) -> i32 {
        // SAFETY: `filp` is valid (caller); `fasync` is only written here (invariants), and
        // `fasync_helper` serialises concurrent writers.
        unsafe { bindings::fasync_helper(fd, filp, on, self.fasync.get()) }
    }
}
