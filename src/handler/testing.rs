// SPDX-License-Identifier: GPL-2.0

//! The harness of the handler's tests (test build and host tests only): the whole interface
//! (SI, handler, timers, interrupt path, PM and teardown) over a KCS register model that can
//! misbehave and a virtual clock, with the kernel's real locks, `Arc`s and allocations, so the
//! context rules (nothing that sleeps under the IRQ-safe lock) are checked by the debug kernel's
//! lockdep and atomic-sleep checks. The host runs the same tests under `cargo test`
//! (`tests/host`), over std stand-ins of the kernel crate.
//!
//! [`run`] fires the SI timer (an `hrtimer`) at its deadline and the tick (a `timer_list`) at the
//! first jiffy at or after its deadline, as the kernel does, and stands in for the interrupt
//! line ([`Irq`]).

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use kernel::{prelude::*, sync::Arc};

use super::{Clock, Interface, Request, Tunables};
use crate::addr::{Addr, IpmbAddr};
use crate::defs::{IPMI_GET_DEVICE_ID_CMD, IPMI_NETFN_APP_REQUEST};
use crate::kcs::io::IrqHandler;
use crate::kcs::model::KcsModel;
use crate::seq::Timing;
use crate::user::{RecvMsg, User};

/// A clock the test moves; the interface leaves its timers to [`run`].
pub(crate) struct VirtClock(AtomicU64);

impl Clock for VirtClock {
    const ARMS_TIMERS: bool = false;
    // Coarser than the kernel's, so a test of a silent BMC takes thousands of steps, not a
    // million, with the interface's IRQ-off lock held.
    const PANIC_POLL_US: u32 = 1_000;
    fn now_us(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    fn delay_us(&self, us: u32) {
        self.0.fetch_add(us.into(), Ordering::Relaxed);
    }
}

/// Module parameters a test sets, at any time, as a sysfs write would; C's defaults at first.
pub(crate) struct TestParams {
    pub(crate) max_users: AtomicU32,
    pub(crate) max_msgs_per_user: AtomicU32,
    pub(crate) poll_max_busy_us: AtomicU32,
    pub(crate) default_retry_ms: AtomicU32,
    pub(crate) default_max_retries: AtomicU32,
    pub(crate) default_maintenance_retry_ms: AtomicU32,
    pub(crate) maintenance_mode_timeout_ms: AtomicU32,
}

impl TestParams {
    /// C's defaults: 30 users, 100 messages each, no busy limit, C's timing.
    fn new() -> Self {
        let t = Timing::C_DEFAULTS;
        TestParams {
            max_users: AtomicU32::new(30),
            max_msgs_per_user: AtomicU32::new(100),
            poll_max_busy_us: AtomicU32::new(0),
            default_retry_ms: AtomicU32::new(t.retry_ms),
            default_max_retries: AtomicU32::new(t.max_retries),
            default_maintenance_retry_ms: AtomicU32::new(t.maintenance_retry_ms),
            maintenance_mode_timeout_ms: AtomicU32::new(t.maintenance_timeout_ms),
        }
    }
}

impl Tunables for TestParams {
    fn max_users(&self) -> usize {
        self.max_users.load(Ordering::Relaxed) as usize
    }

    fn max_msgs_per_user(&self) -> usize {
        self.max_msgs_per_user.load(Ordering::Relaxed) as usize
    }

    fn poll_max_busy_us(&self) -> u32 {
        self.poll_max_busy_us.load(Ordering::Relaxed)
    }

    fn timing(&self) -> Timing {
        Timing {
            retry_ms: self.default_retry_ms.load(Ordering::Relaxed),
            max_retries: self.default_max_retries.load(Ordering::Relaxed),
            maintenance_retry_ms: self.default_maintenance_retry_ms.load(Ordering::Relaxed),
            maintenance_timeout_ms: self.maintenance_mode_timeout_ms.load(Ordering::Relaxed),
        }
    }
}

/// The interface under test.
pub(crate) type TestIface = Interface<KcsModel, VirtClock, TestParams>;

/// A jiffy in µs: a kernel timer fires on the first jiffy at or after its deadline.
pub(crate) const JIFFY_US: u64 = 1_000_000 / bindings_hz();

const fn bindings_hz() -> u64 {
    kernel::bindings::CONFIG_HZ as u64
}

/// A short Get Device ID answer.
pub(crate) const DEVICE_ID_RSP: [u8; 5] = [0x1c, 0x01, 0x00, 0x20, 0x81];

/// A new interface over a fresh model and a clock at 0, with C's default parameters (30 users,
/// 100 messages each); a test changes them through [`params`].
pub(crate) fn iface(has_irq: bool) -> Result<Arc<TestIface>> {
    TestIface::new(
        KcsModel::new(),
        VirtClock(AtomicU64::new(0)),
        has_irq,
        TestParams::new(),
    )
}

/// The parameters of `i`, to change as a write to `/sys/module/ripmi/parameters/` would.
pub(crate) fn params(i: &TestIface) -> &TestParams {
    &i.tunables
}

/// The virtual time, in µs.
pub(crate) fn now(i: &TestIface) -> u64 {
    i.clock.now_us()
}

/// Moves the virtual time (the interface's clock and the model's) to `t` µs.
pub(crate) fn set_now(i: &TestIface, t: u64) {
    i.clock.0.store(t, Ordering::Relaxed);
    i.inner.lock().regs.set_now_us(t);
}

/// Runs `f` on the register model, under the interface's lock.
pub(crate) fn model<T>(i: &TestIface, f: impl FnOnce(&mut KcsModel) -> T) -> T {
    f(&mut i.inner.lock().regs)
}

/// How the test stands in for the interrupt line.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Irq {
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
pub(crate) fn run(i: &TestIface, until: u64, irq: Irq) -> usize {
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
pub(crate) fn bring_up(i: &TestIface, irq: Irq) -> Result {
    i.start()?;
    let t = now(i);
    run(i, t + 100_000, irq);
    if i.channels_ready() {
        Ok(())
    } else {
        Err(ETIMEDOUT)
    }
}

/// Sends Get Device ID to the BMC for `user`, as `SEND_COMMAND` does.
pub(crate) fn send_get_device_id(i: &TestIface, user: &Arc<User>, msgid: i64) -> Result {
    i.send(
        user,
        &Request {
            addr: Addr::SystemInterface { lun: 0 },
            msgid,
            netfn: IPMI_NETFN_APP_REQUEST,
            cmd: IPMI_GET_DEVICE_ID_CMD,
            data: &[],
            retries: -1,
            retry_ms: 0,
            ctx: Default::default(),
        },
    )
}

/// Runs until `user` has a message (or `limit` µs from now); returns it and when it came.
pub(crate) fn wait_answer(
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
pub(crate) fn round_trip_closely(
    i: &TestIface,
    user: &Arc<User>,
    msgid: i64,
) -> Option<(KBox<RecvMsg>, u64, u64)> {
    let start = now(i);
    let accesses = model(i, |m| m.accesses());
    model(i, |m| {
        m.set_response_for(IPMI_GET_DEVICE_ID_CMD, &DEVICE_ID_RSP)
    });
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

/// A Get Device ID for the controller at 0x40 on IPMB channel 0, tried once, with a minute to
/// answer.
pub(crate) fn ipmb_get_device_id(msgid: i64) -> Request<'static> {
    Request {
        addr: Addr::Ipmb(IpmbAddr {
            channel: 0,
            slave_addr: 0x40,
            lun: 0,
        }),
        msgid,
        netfn: IPMI_NETFN_APP_REQUEST,
        cmd: IPMI_GET_DEVICE_ID_CMD,
        data: &[],
        retries: 0,
        retry_ms: 60_000,
        ctx: Default::default(),
    }
}

/// A Get Device ID for the controller at 0x42 on IPMB channel 0 (which never answers in these
/// tests), with the default retries and retry time, as `SEND_COMMAND` gives them: the module
/// parameters decide.
pub(crate) fn ipmb_default_timing(msgid: i64) -> Request<'static> {
    Request {
        addr: Addr::Ipmb(IpmbAddr {
            channel: 0,
            slave_addr: 0x42,
            lun: 0,
        }),
        retries: -1,
        retry_ms: 0,
        ..ipmb_get_device_id(msgid)
    }
}
