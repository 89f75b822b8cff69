//! Host double of `src/timer.rs` (a kernel `timer_list` and an `hrtimer`).
//!
//! On the host no timer fires by itself: the interfaces under test use a clock whose
//! `ARMS_TIMERS` is false, and the test calls their timer functions when their time comes. A
//! timer armed anyway is a bug in the test set-up, so arming panics.

use core::ffi::{c_ulong, CStr};
use core::pin::Pin;

use kernel::{prelude::*, sync::LockClassKey};

/// A timer that would call `run(owner)`; never armed on the host.
pub(crate) struct Timer<T: Sync> {
    run: fn(&T),
}

impl<T: Sync> Timer<T> {
    /// A stopped timer that would call `run`.
    pub(crate) fn new(
        run: fn(&T),
        _name: &'static CStr,
        _key: Pin<&'static LockClassKey>,
    ) -> impl PinInit<Self> {
        Timer { run }
    }

    /// Arming needs the kernel's timers, which the host does not have.
    pub(crate) fn arm(&self, _owner: &T, _delay_jiffies: c_ulong) {
        panic!("a kernel timer was armed on the host (use a clock with ARMS_TIMERS = false)");
    }

    /// Stops the timer (it never runs on the host).
    pub(crate) fn cancel(&self) {}

    /// Stops the timer for good (it never runs on the host).
    pub(crate) fn shutdown(&self) {}
}

/// Converts microseconds to jiffies, rounding up, at least 1 (as `src/timer.rs`).
pub(crate) fn usecs_to_jiffies(us: u32) -> c_ulong {
    let hz = kernel::bindings::CONFIG_HZ as c_ulong;
    (us as c_ulong * hz).div_ceil(1_000_000).max(1)
}

/// A high-resolution timer that would call `run(owner)`; never armed on the host.
pub(crate) struct FineTimer<T: Sync> {
    run: fn(&T),
}

impl<T: Sync> FineTimer<T> {
    /// A stopped timer that would call `run`.
    pub(crate) fn new(run: fn(&T)) -> impl PinInit<Self> {
        FineTimer { run }
    }

    /// Arming needs the kernel's timers, which the host does not have.
    pub(crate) fn arm(&self, _owner: &T, _us: u32) {
        panic!("a kernel timer was armed on the host (use a clock with ARMS_TIMERS = false)");
    }

    /// Stops the timer (it never runs on the host).
    pub(crate) fn cancel(&self) {}
}
