// SPDX-License-Identifier: GPL-2.0

//! The power-management state the message handler keeps under its lock, and its counters
//! (`src/pm.rs` has the callbacks and the runtime-PM calls; `Documentation/pm.rst` the rules).
//!
//! Pure apart from [`RawDev`], the bound device, which the host build replaces with a double.

use crate::pm::RawDev;

/// How long a system suspend waits for the transaction in flight before it gives up on it
/// (answering it 0xC3, never re-sending it), in ms. Longer than any healthy KCS transaction;
/// QEMU itself answers 0xC3 for a silent BMC after 4 s.
pub(crate) const QUIESCE_TIMEOUT_MS: u32 = 2000;

/// How often each callback ran, and how the last system suspend went.
#[derive(Default, Clone, Copy)]
pub(crate) struct PmStats {
    pub(crate) prepare: u64,
    /// `prepare` returned 1 (direct-complete allowed).
    pub(crate) prepare_positive: u64,
    pub(crate) suspend: u64,
    pub(crate) resume: u64,
    pub(crate) freeze: u64,
    pub(crate) thaw: u64,
    pub(crate) poweroff: u64,
    pub(crate) restore: u64,
    pub(crate) complete: u64,
    /// `complete` saw `power.direct_complete` set: suspend and resume were skipped.
    pub(crate) direct_complete: u64,
    pub(crate) last_direct_complete: bool,
    pub(crate) runtime_suspend: u64,
    /// `runtime_suspend` refused with `EBUSY` because work was pending.
    pub(crate) runtime_suspend_busy: u64,
    pub(crate) runtime_resume: u64,
    /// Transactions a system suspend gave up waiting for, answered 0xC3.
    pub(crate) failed_at_suspend: u64,
    /// Attention seen by the runtime-suspended watch, which then asked for a resume.
    pub(crate) watch_wakeups: u64,
}

/// The PM state of an interface, kept under [`crate::handler::Interface`]'s lock.
pub(crate) struct PmState {
    pub(crate) dev: RawDev,
    /// Runtime-suspended: no transactions; only the attention watch reads the status register.
    pub(crate) rpm_suspended: bool,
    /// A system suspend is waiting for the transaction in flight: no new one starts.
    pub(crate) quiescing: bool,
    /// System-suspended: no I/O, timers and IRQ off, until resume.
    pub(crate) sys_suspended: bool,
    /// Between prepare and complete: the attention watch does not re-arm itself.
    pub(crate) in_system_pm: bool,
    /// Period of the attention watch while runtime-suspended, in µs.
    pub(crate) watch_us: u32,
    pub(crate) stats: PmStats,
}

impl PmState {
    /// The state of a running interface with no device attached yet.
    pub(crate) fn new() -> Self {
        PmState {
            dev: RawDev::NONE,
            rpm_suspended: false,
            quiescing: false,
            sys_suspended: false,
            in_system_pm: false,
            watch_us: 250_000,
            stats: PmStats::default(),
        }
    }
}
