//! `kernel::bindings`: the constants ripmi's host-built files read, and host doubles of the
//! few C functions they call.
#![allow(non_upper_case_globals, non_camel_case_types)]

use core::ffi::{c_int, c_ulong};

use crate::sync::rcu;

/// `CONFIG_HZ` of the debug kernel ripmi is tested on.
pub const CONFIG_HZ: u32 = 250;

/// `enum rpm_status`.
pub type rpm_status = c_int;
/// `RPM_INVALID`.
pub const rpm_status_RPM_INVALID: rpm_status = -1;
/// `RPM_ACTIVE`.
pub const rpm_status_RPM_ACTIVE: rpm_status = 0;
/// `RPM_RESUMING`.
pub const rpm_status_RPM_RESUMING: rpm_status = 1;
/// `RPM_SUSPENDED`.
pub const rpm_status_RPM_SUSPENDED: rpm_status = 2;
/// `RPM_SUSPENDING`.
pub const rpm_status_RPM_SUSPENDING: rpm_status = 3;

/// `SIGIO`.
pub const SIGIO: u32 = 29;
/// `POLL_IN`.
pub const POLL_IN: u32 = 1;
/// `POLL_HUP`.
pub const POLL_HUP: u32 = 6;

/// `struct fasync_struct` (opaque).
#[repr(C)]
pub struct fasync_struct {
    _opaque: [u8; 0],
}

/// `struct file` (opaque).
#[repr(C)]
pub struct file {
    _opaque: [u8; 0],
}

/// `kill_fasync()`: there are no files on the host, so the list is always empty and, as in the
/// kernel, nothing is signalled.
///
/// # Safety
///
/// `fp` points at a list head.
pub unsafe fn kill_fasync(fp: *mut *mut fasync_struct, _sig: c_int, _band: c_int) {
    // SAFETY: `fp` points at a list head (caller).
    assert!(unsafe { *fp }.is_null(), "no fasync list on the host");
}

/// `fasync_helper()`: there are no files on the host.
///
/// # Safety
///
/// Never callable on the host.
pub unsafe fn fasync_helper(
    _fd: c_int,
    _filp: *mut file,
    _on: c_int,
    _fapp: *mut *mut fasync_struct,
) -> c_int {
    unimplemented!("fasync_helper: no files on the host")
}

/// `start_poll_synchronize_rcu()`: a cookie (see [`rcu`] for the host's grace periods).
///
/// # Safety
///
/// None (an FFI signature).
pub unsafe fn start_poll_synchronize_rcu() -> c_ulong {
    0
}

/// `poll_state_synchronize_rcu()`: the grace period is over when the calling thread (the only
/// one that reads) is outside any read-side critical section.
///
/// # Safety
///
/// None (an FFI signature).
pub unsafe fn poll_state_synchronize_rcu(_cookie: c_ulong) -> bool {
    !rcu::in_read_side()
}

/// `cond_synchronize_rcu()`: waits for a grace period (see [`rcu::synchronize_rcu`]).
///
/// # Safety
///
/// None (an FFI signature).
pub unsafe fn cond_synchronize_rcu(_cookie: c_ulong) {
    rcu::synchronize_rcu();
}
