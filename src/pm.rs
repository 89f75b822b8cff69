// SPDX-License-Identifier: GPL-2.0

//! Power management: the `dev_pm_ops` of the platform driver and runtime PM of the bound device
//! (the state the message handler keeps for both is in `src/pm_state.rs`).
//!
//! The C IPMI stack has no PM code. The kernel crate has no `dev_pm_ops` and no runtime-PM API,
//! so the ops table and the runtime-PM calls go through bindings here, as thin trampolines that
//! pass on to safe methods of [`KcsDevice`] and [`crate::handler::Interface`]. See
//! `Documentation/pm.rst` for what each flag and state means for a KCS interface, and
//! [`devices.rst`](srctree/Documentation/driver-api/pm/devices.rst) for the PM core's rules.

use kernel::bindings;

use crate::device::KcsDevice;

/// `DPM_FLAG_NO_DIRECT_COMPLETE` (`include/linux/pm.h`; a macro, so not in the bindings).
pub(crate) const DPM_FLAG_NO_DIRECT_COMPLETE: u32 = 1 << 0;
/// `DPM_FLAG_SMART_PREPARE`.
pub(crate) const DPM_FLAG_SMART_PREPARE: u32 = 1 << 1;

/// Idle time before the device runtime-suspends, in ms.
pub(crate) const AUTOSUSPEND_MS: i32 = 200;

/// The bound device, as runtime PM needs it.
///
/// # Invariants
///
/// The pointer is null or points at the `struct device` this driver is bound to. It is set at
/// probe and cleared (under [`crate::handler::Interface`]'s lock) before the device is unbound.
#[derive(Clone, Copy)]
pub(crate) struct RawDev(*mut bindings::device);

// SAFETY: A `struct device` may be used from any thread; the runtime-PM calls made through this
// pointer are the ones the PM core allows from any context (see each method).
unsafe impl Send for RawDev {}
// SAFETY: As above.
unsafe impl Sync for RawDev {}

impl RawDev {
    /// No device (before probe, after teardown).
    pub(crate) const NONE: RawDev = RawDev(core::ptr::null_mut());

    /// Wraps the bound device.
    ///
    /// # Safety
    ///
    /// `dev` is bound to this driver until [`RawDev::NONE`] replaces this value.
    pub(crate) unsafe fn new(dev: *mut bindings::device) -> Self {
        // INVARIANT: bound until cleared (caller).
        RawDev(dev)
    }

    fn get(&self) -> Option<*mut bindings::device> {
        (!self.0.is_null()).then_some(self.0)
    }

    /// `pm_runtime_mark_last_busy()`: pushes the autosuspend expiry back. A plain store, so
    /// callable in any context.
    pub(crate) fn mark_last_busy(&self) {
        let Some(dev) = self.get() else { return };
        // SAFETY: `ktime_get_mono_fast_ns` is NMI-safe.
        let now = unsafe { bindings::ktime_get_mono_fast_ns() };
        // SAFETY: `dev` is bound (type invariants); the C inline does this `WRITE_ONCE`.
        unsafe { core::ptr::write_volatile(&raw mut (*dev).power.last_busy, now) };
    }

    /// `pm_request_resume()`: queues a runtime resume. `RPM_ASYNC` takes only
    /// `power.lock` (IRQ-safe), so this is callable in atomic context.
    pub(crate) fn request_resume(&self) {
        let Some(dev) = self.get() else { return };
        // SAFETY: `dev` is bound (type invariants); an asynchronous request never sleeps.
        unsafe { bindings::__pm_runtime_resume(dev, bindings::RPM_ASYNC as i32) };
    }

    /// The runtime-PM status (`RPM_*`), read without the lock (a snapshot).
    pub(crate) fn runtime_status(&self) -> i32 {
        let Some(dev) = self.get() else {
            return bindings::rpm_status_RPM_INVALID;
        };
        // SAFETY: `dev` is bound (type invariants).
        unsafe { core::ptr::read_volatile(&raw const (*dev).power.runtime_status) }
    }

    /// `power.driver_flags`, as the PM core sees them.
    pub(crate) fn driver_flags(&self) -> u32 {
        let Some(dev) = self.get() else { return 0 };
        // SAFETY: `dev` is bound (type invariants).
        unsafe { core::ptr::read_volatile(&raw const (*dev).power.driver_flags) }
    }
}

/// Turns runtime PM on for a bound, working device: active now, autosuspend after
/// [`AUTOSUSPEND_MS`] of idleness.
pub(crate) fn runtime_enable(dev: RawDev) {
    let Some(dev) = dev.get() else { return };
    // SAFETY: `dev` is bound (type invariants of `RawDev`); probe runs in process context with
    // runtime PM of the device still disabled, as `__pm_runtime_set_status` requires.
    unsafe {
        bindings::pm_runtime_set_autosuspend_delay(dev, AUTOSUSPEND_MS);
        bindings::__pm_runtime_use_autosuspend(dev, true);
        bindings::__pm_runtime_set_status(dev, bindings::rpm_status_RPM_ACTIVE as u32);
        bindings::pm_runtime_enable(dev);
        // `pm_request_autosuspend()`.
        bindings::__pm_runtime_suspend(dev, (bindings::RPM_ASYNC | bindings::RPM_AUTO) as i32);
    }
}

/// Resumes the device if runtime-suspended (`pm_runtime_resume()`); process context.
pub(crate) fn runtime_resume_sync(dev: RawDev) {
    let Some(dev) = dev.get() else { return };
    // SAFETY: `dev` is bound (type invariants of `RawDev`); callers are in process context.
    unsafe { bindings::__pm_runtime_resume(dev, 0) };
}

/// Resumes the device and turns runtime PM off again, before teardown (the reverse of
/// [`runtime_enable`]; the driver core resets the rest on unbind).
pub(crate) fn runtime_disable(dev: RawDev) {
    let Some(dev) = dev.get() else { return };
    // SAFETY: `dev` is bound (type invariants of `RawDev`); remove runs in process context.
    unsafe {
        // `pm_runtime_get_sync()`: the callbacks have restored the IRQ and timers.
        bindings::__pm_runtime_resume(dev, bindings::RPM_GET_PUT as i32);
        bindings::__pm_runtime_disable(dev, false);
        bindings::__pm_runtime_use_autosuspend(dev, false);
        bindings::__pm_runtime_set_status(dev, bindings::rpm_status_RPM_SUSPENDED as u32);
        // `pm_runtime_put_noidle()`: runtime PM is disabled, so this only drops the count.
        bindings::__pm_runtime_idle(dev, bindings::RPM_GET_PUT as i32);
    }
}

/// Sets `power.driver_flags` (`dev_pm_set_driver_flags()`, a static inline); probe only. The
/// driver core clears them on unbind.
pub(crate) fn set_driver_flags(dev: RawDev, flags: u32) {
    let Some(dev) = dev.get() else { return };
    // SAFETY: `dev` is being bound (probe, device lock held), so nothing else writes the field.
    unsafe { core::ptr::write_volatile(&raw mut (*dev).power.driver_flags, flags) };
}

/// Reads `power.direct_complete` (a bitfield); valid in `->complete`.
pub(crate) fn direct_complete(dev: RawDev) -> bool {
    let Some(dev) = dev.get() else { return false };
    // SAFETY: `dev` is bound (type invariants of `RawDev`); the PM core does not change the bit
    // between resume and complete.
    unsafe { (*dev).power.direct_complete() }
}

/// Which system-sleep callback is running, for the counters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Suspend,
    Freeze,
    Poweroff,
    Resume,
    Thaw,
    Restore,
}

/// The bound [`KcsDevice`] of `dev`.
///
/// # Safety
///
/// `dev` is a device bound to this driver: its `driver_data` was set by probe from
/// `KBox::into_raw` and stays valid until remove, which the PM core never runs concurrently
/// with a PM callback (it holds the device lock, or runtime PM is disabled before remove).
unsafe fn kcs<'a>(dev: *mut bindings::device) -> &'a KcsDevice {
    // SAFETY: See the function's safety section.
    unsafe { &*(*dev).driver_data.cast::<KcsDevice>() }
}

/// `->prepare`.
///
/// # Safety
///
/// Called by the PM core with a device bound to this driver.
unsafe extern "C" fn prepare(dev: *mut bindings::device) -> kernel::ffi::c_int {
    // SAFETY: `dev` is bound (caller).
    i32::from(unsafe { kcs(dev) }.pm_prepare())
}

/// `->complete`.
///
/// # Safety
///
/// As [`prepare`].
unsafe extern "C" fn complete(dev: *mut bindings::device) {
    // SAFETY: `dev` is bound (caller).
    unsafe { kcs(dev) }.pm_complete();
}

/// Generates a system-sleep trampoline that calls `$method(Phase::$phase)`.
macro_rules! sleep_trampoline {
    ($name:ident, $method:ident, $phase:ident) => {
        /// A system-sleep callback of the ops table.
        ///
        /// # Safety
        ///
        /// Called by the PM core with a device bound to this driver.
        unsafe extern "C" fn $name(dev: *mut bindings::device) -> kernel::ffi::c_int {
            // SAFETY: `dev` is bound (caller).
            match unsafe { kcs(dev) }.$method(Phase::$phase) {
                Ok(()) => 0,
                Err(e) => e.to_errno(),
            }
        }
    };
}

sleep_trampoline!(suspend, pm_suspend, Suspend);
sleep_trampoline!(freeze, pm_suspend, Freeze);
sleep_trampoline!(poweroff, pm_suspend, Poweroff);
sleep_trampoline!(resume, pm_resume, Resume);
sleep_trampoline!(thaw, pm_resume, Thaw);
sleep_trampoline!(restore, pm_resume, Restore);

/// `->runtime_suspend`: `EBUSY` while work is pending.
///
/// # Safety
///
/// As [`prepare`].
unsafe extern "C" fn runtime_suspend(dev: *mut bindings::device) -> kernel::ffi::c_int {
    // SAFETY: `dev` is bound (caller).
    match unsafe { kcs(dev) }.pm_runtime_suspend() {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `->runtime_resume`.
///
/// # Safety
///
/// As [`prepare`].
unsafe extern "C" fn runtime_resume(dev: *mut bindings::device) -> kernel::ffi::c_int {
    // SAFETY: `dev` is bound (caller).
    unsafe { kcs(dev) }.pm_runtime_resume();
    0
}

/// Makes the ops table usable as a `static`.
#[repr(transparent)]
pub(crate) struct PmOps(bindings::dev_pm_ops);
// SAFETY: The table is never written after initialisation; the PM core only reads it.
unsafe impl Sync for PmOps {}

impl PmOps {
    /// The table, for `driver.pm`.
    pub(crate) fn as_ptr(&'static self) -> *const bindings::dev_pm_ops {
        &self.0
    }
}

/// The driver's `dev_pm_ops`. Hibernation maps onto the same two operations: freeze and
/// poweroff quiesce like suspend; thaw and restore re-initialise like resume.
pub(crate) static PM_OPS: PmOps = PmOps(bindings::dev_pm_ops {
    prepare: Some(prepare),
    complete: Some(complete),
    suspend: Some(suspend),
    resume: Some(resume),
    freeze: Some(freeze),
    thaw: Some(thaw),
    poweroff: Some(poweroff),
    restore: Some(restore),
    suspend_late: None,
    resume_early: None,
    freeze_late: None,
    thaw_early: None,
    poweroff_late: None,
    restore_early: None,
    suspend_noirq: None,
    resume_noirq: None,
    freeze_noirq: None,
    thaw_noirq: None,
    poweroff_noirq: None,
    restore_noirq: None,
    runtime_suspend: Some(runtime_suspend),
    runtime_resume: Some(runtime_resume),
    runtime_idle: None,
});
