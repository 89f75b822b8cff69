//! Host double of the part of `src/pm.rs` the handler uses: a device whose runtime PM the
//! handler could ask for. The host has no `struct device`, so no value of it exists and the
//! handler's `Option<PmDevice>` is always `None` (as before probe in the kernel).

/// A device with runtime PM: none on the host.
#[derive(Clone)]
pub(crate) enum PmDevice {}

impl PmDevice {
    /// `pm_runtime_mark_last_busy()`.
    pub(crate) fn mark_last_busy(&self) {
        match *self {}
    }

    /// `pm_request_resume()`.
    pub(crate) fn request_resume(&self) {
        match *self {}
    }

    /// Whether the PM core has the device runtime-suspended.
    pub(crate) fn runtime_suspended(&self) -> bool {
        match *self {}
    }
}
