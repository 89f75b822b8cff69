// SPDX-License-Identifier: GPL-2.0

//! Runtime PM and driver flags of a device: thin safe wrappers over the PM core's C API, which
//! the 7.3 kernel crate does not have. Knows no ripmi type.
//!
//! The `dev_pm_ops` table and its callbacks belong to the platform driver (`platform.rs`); the
//! PM state the message handler keeps is in `handler/pm.rs`. See `Documentation/pm.rst` for
//! what each flag and state means for a KCS interface, and
//! [`devices.rst`](srctree/Documentation/driver-api/pm/devices.rst) and
//! [`runtime_pm.rst`](srctree/Documentation/power/runtime_pm.rst) for the PM core's rules.

use kernel::{
    bindings,
    device::{Core, Device},
    sync::aref::ARef,
};

/// `DPM_FLAG_NO_DIRECT_COMPLETE` (`include/linux/pm.h`; a macro, so not in the bindings).
pub(crate) const DPM_FLAG_NO_DIRECT_COMPLETE: u32 = 1 << 0;
/// `DPM_FLAG_SMART_PREPARE`.
pub(crate) const DPM_FLAG_SMART_PREPARE: u32 = 1 << 1;

/// Idle time before the device runtime-suspends, in ms.
pub(crate) const AUTOSUSPEND_MS: i32 = 200;

/// The `struct device` behind `dev`.
pub(crate) fn raw(dev: &Device) -> *mut bindings::device {
    // CAST: `Device` is a `#[repr(transparent)]` wrapper of `Opaque<bindings::device>`, itself
    // `#[repr(transparent)]`, so both have the address of the C structure (the kernel crate's own
    // `as_raw()` is not public).
    core::ptr::from_ref(dev)
        .cast::<bindings::device>()
        .cast_mut()
}

/// A runtime-PM status (`enum rpm_status`), as read without the PM core's lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RuntimeStatus {
    /// `RPM_ACTIVE`.
    Active,
    /// `RPM_RESUMING`.
    Resuming,
    /// `RPM_SUSPENDED`.
    Suspended,
    /// `RPM_SUSPENDING`.
    Suspending,
    /// `RPM_INVALID`, or a value this driver does not know.
    Unknown,
}

impl RuntimeStatus {
    /// The name the debugfs `pm` file shows.
    pub(crate) fn name(self) -> &'static str {
        match self {
            RuntimeStatus::Active => "active",
            RuntimeStatus::Resuming => "resuming",
            RuntimeStatus::Suspended => "suspended",
            RuntimeStatus::Suspending => "suspending",
            RuntimeStatus::Unknown => "unknown",
        }
    }
}

/// A device, for the runtime-PM requests that may be made in any context (the message handler
/// makes them under its IRQ-safe lock, from the interrupt handler and the timers).
///
/// The reference keeps the `struct device` alive; the requests are harmless once the device is
/// unbound (runtime PM is then disabled, so the PM core refuses them), and the handler drops its
/// copy when the device is removed anyway.
#[derive(Clone)]
pub(crate) struct PmDevice(ARef<Device>);

impl PmDevice {
    /// Takes a reference to `dev`.
    pub(crate) fn new(dev: &Device) -> Self {
        PmDevice(dev.into())
    }

    /// `pm_runtime_mark_last_busy()`: pushes the autosuspend expiry back. A plain store, so
    /// callable in any context.
    pub(crate) fn mark_last_busy(&self) {
        let dev = raw(&self.0);
        // SAFETY: `ktime_get_mono_fast_ns` is NMI-safe.
        let now = unsafe { bindings::ktime_get_mono_fast_ns() };
        // SAFETY: `dev` is valid while `self.0` holds its reference; the C inline does this
        // `WRITE_ONCE`.
        unsafe { core::ptr::write_volatile(&raw mut (*dev).power.last_busy, now) };
    }

    /// `pm_request_resume()`: queues a runtime resume. `RPM_ASYNC` takes only `power.lock`
    /// (IRQ-safe), so this is callable in atomic context.
    pub(crate) fn request_resume(&self) {
        // SAFETY: The device is valid while `self.0` holds its reference; an asynchronous
        // request never sleeps.
        unsafe { bindings::__pm_runtime_resume(raw(&self.0), bindings::RPM_ASYNC as i32) };
    }

    /// The runtime-PM status, read without the lock (a snapshot).
    pub(crate) fn runtime_status(&self) -> RuntimeStatus {
        let dev = raw(&self.0);
        // SAFETY: `dev` is valid while `self.0` holds its reference.
        let status = unsafe { core::ptr::read_volatile(&raw const (*dev).power.runtime_status) };
        match status {
            bindings::rpm_status_RPM_ACTIVE => RuntimeStatus::Active,
            bindings::rpm_status_RPM_RESUMING => RuntimeStatus::Resuming,
            bindings::rpm_status_RPM_SUSPENDED => RuntimeStatus::Suspended,
            bindings::rpm_status_RPM_SUSPENDING => RuntimeStatus::Suspending,
            _ => RuntimeStatus::Unknown,
        }
    }

    /// Whether the PM core has the device runtime-suspended.
    pub(crate) fn runtime_suspended(&self) -> bool {
        self.runtime_status() == RuntimeStatus::Suspended
    }

    /// `power.driver_flags`, as the PM core sees them.
    pub(crate) fn driver_flags(&self) -> u32 {
        let dev = raw(&self.0);
        // SAFETY: `dev` is valid while `self.0` holds its reference.
        unsafe { core::ptr::read_volatile(&raw const (*dev).power.driver_flags) }
    }
}

/// Turns runtime PM on for a device being bound: active now, autosuspend after
/// [`AUTOSUSPEND_MS`] of idleness. From probe, once the driver data is in place.
pub(crate) fn runtime_enable(dev: &Device<Core<'_>>) {
    let dev = raw(dev);
    // SAFETY: `dev` is valid; a `Device<Core>` exists only inside a bus callback (probe), in
    // process context with runtime PM of the device still disabled, as
    // `__pm_runtime_set_status` requires.
    unsafe {
        bindings::pm_runtime_set_autosuspend_delay(dev, AUTOSUSPEND_MS);
        bindings::__pm_runtime_use_autosuspend(dev, true);
        bindings::__pm_runtime_set_status(dev, bindings::rpm_status_RPM_ACTIVE as u32);
        bindings::pm_runtime_enable(dev);
        // `pm_request_autosuspend()`.
        bindings::__pm_runtime_suspend(dev, (bindings::RPM_ASYNC | bindings::RPM_AUTO) as i32);
    }
}

/// Resumes the device and turns runtime PM off again, before teardown (the reverse of
/// [`runtime_enable`]; the driver core resets the rest on unbind). From remove.
pub(crate) fn runtime_disable(dev: &Device<Core<'_>>) {
    let dev = raw(dev);
    // SAFETY: `dev` is valid; a `Device<Core>` exists only inside a bus callback (remove), in
    // process context.
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

/// Sets `power.driver_flags` (`dev_pm_set_driver_flags()`, a static inline). From probe; the
/// driver core clears them on unbind.
pub(crate) fn set_driver_flags(dev: &Device<Core<'_>>, flags: u32) {
    let dev = raw(dev);
    // SAFETY: `dev` is valid and being bound (a `Device<Core>` exists only inside a bus
    // callback, under the device lock), so nothing else writes the field.
    unsafe { core::ptr::write_volatile(&raw mut (*dev).power.driver_flags, flags) };
}

/// Resumes the device if runtime-suspended (`pm_runtime_resume()`). Process context: a system
/// sleep callback.
pub(crate) fn runtime_resume_sync(dev: &Device) {
    // SAFETY: The device is valid (a reference); the callers are system-sleep callbacks, which
    // run in process context.
    unsafe { bindings::__pm_runtime_resume(raw(dev), 0) };
}

/// Reads `power.direct_complete` (a bitfield); meaningful in `->complete`, where the PM core no
/// longer changes it.
pub(crate) fn direct_complete(dev: &Device) -> bool {
    let dev = raw(dev);
    // SAFETY: `dev` is valid (a reference); in `->complete` the PM core does not change the bit.
    unsafe { (*dev).power.direct_complete() }
}
