//! Host double of the part of `src/pm.rs` the handler uses: its state and counters, and a
//! bound device that is never there (the PM core and `struct device` are the kernel's).
//!
//! `PmStats` and `PmState` mirror `src/pm.rs` field for field; the handler names every field it
//! uses, so a field missing here fails to compile.

/// How long a system suspend waits for the transaction in flight, in ms (as `src/pm.rs`).
pub(crate) const QUIESCE_TIMEOUT_MS: u32 = 2000;

/// The bound device: none on the host, so runtime-PM requests do nothing (as for
/// `RawDev::NONE` in the kernel).
#[derive(Clone, Copy)]
pub(crate) struct RawDev(());

impl RawDev {
    /// No device.
    pub(crate) const NONE: RawDev = RawDev(());

    /// `pm_runtime_mark_last_busy()` of no device: nothing.
    pub(crate) fn mark_last_busy(&self) {}

    /// `pm_request_resume()` of no device: nothing.
    pub(crate) fn request_resume(&self) {}

    /// The runtime-PM status of no device.
    pub(crate) fn runtime_status(&self) -> i32 {
        kernel::bindings::rpm_status_RPM_INVALID
    }
}

/// How often each callback ran (as `src/pm.rs`).
#[derive(Default, Clone, Copy)]
pub(crate) struct PmStats {
    pub(crate) prepare: u64,
    pub(crate) prepare_positive: u64,
    pub(crate) suspend: u64,
    pub(crate) resume: u64,
    pub(crate) freeze: u64,
    pub(crate) thaw: u64,
    pub(crate) poweroff: u64,
    pub(crate) restore: u64,
    pub(crate) complete: u64,
    pub(crate) direct_complete: u64,
    pub(crate) last_direct_complete: bool,
    pub(crate) runtime_suspend: u64,
    pub(crate) runtime_suspend_busy: u64,
    pub(crate) runtime_resume: u64,
    pub(crate) failed_at_suspend: u64,
    pub(crate) watch_wakeups: u64,
}

/// The PM state of an interface (as `src/pm.rs`).
pub(crate) struct PmState {
    pub(crate) dev: RawDev,
    pub(crate) rpm_suspended: bool,
    pub(crate) quiescing: bool,
    pub(crate) sys_suspended: bool,
    pub(crate) in_system_pm: bool,
    pub(crate) watch_us: u32,
    pub(crate) stats: PmStats,
}

impl PmState {
    /// The state of a running interface with no device attached (as `src/pm.rs`).
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
