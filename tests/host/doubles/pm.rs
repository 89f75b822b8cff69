//! Host double of the part of `src/pm.rs` the handler uses: a bound device that is never there
//! (the PM core and `struct device` are the kernel's). The PM state and counters are the real
//! `src/pm_state.rs`.

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
