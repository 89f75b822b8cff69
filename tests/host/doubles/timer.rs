//! Host double of `src/timer.rs` (a kernel `timer_list` and an `hrtimer`).
//!
//! On the host no timer fires by itself: the interfaces under test use a clock whose
//! `ARMS_TIMERS` is false, and the test calls their timer functions when their time comes. A
//! timer armed anyway is a bug in the test set-up, so arming panics.

use core::ffi::{c_ulong, CStr};
use core::marker::PhantomData;
use core::pin::Pin;

use kernel::{prelude::*, sync::LockClassKey};

/// A type with a timer field of type `Tm` (as `src/timer.rs`; nothing fires on the host).
pub(crate) trait HasTimer<Tm> {
    /// Called when the timer fires.
    fn timer_fired(&self);
}

/// Implements [`HasTimer`] (as `src/timer.rs`).
macro_rules! impl_has_timer {
    (
        unsafe impl$({$($generics:tt)*})? HasTimer<$timer:ty> for $owner:ty {
            self.$field:ident => $fired:ident
        }
    ) => {
        impl$(<$($generics)*>)? $crate::timer::HasTimer<$timer> for $owner {
            fn timer_fired(&self) {
                self.$fired()
            }
        }
    };
}
pub(crate) use impl_has_timer;

/// A timer of `T`; never armed on the host.
pub(crate) struct Timer<T>(PhantomData<fn(&T)>);

impl<T> Timer<T> {
    /// A stopped timer.
    pub(crate) fn new(
        _name: &'static CStr,
        _key: Pin<&'static LockClassKey>,
    ) -> impl PinInit<Self> {
        Timer(PhantomData)
    }

    /// Arming needs the kernel's timers, which the host does not have.
    pub(crate) fn arm(_owner: &T, _delay: c_ulong) {
        panic!("a kernel timer was armed on the host (use a clock with ARMS_TIMERS = false)");
    }

    /// Stops the timer (it never runs on the host).
    pub(crate) fn cancel(&self) {}

    /// Stops the timer for good (it never runs on the host).
    pub(crate) fn shutdown(&self) {}
}

/// A high-resolution timer of `T`; never armed on the host.
pub(crate) struct FineTimer<T>(PhantomData<fn(&T)>);

impl<T> FineTimer<T> {
    /// A stopped timer.
    pub(crate) fn new() -> impl PinInit<Self> {
        FineTimer(PhantomData)
    }

    /// Arming needs the kernel's timers, which the host does not have.
    pub(crate) fn arm(_owner: &T, _us: u32) {
        panic!("a kernel timer was armed on the host (use a clock with ARMS_TIMERS = false)");
    }

    /// Stops the timer (it never runs on the host).
    pub(crate) fn cancel(&self) {}
}
