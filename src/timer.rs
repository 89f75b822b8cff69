// SPDX-License-Identifier: GPL-2.0

//! Kernel timers embedded in the value they call: [`Timer`] (a `timer_list`, jiffies) and
//! [`FineTimer`] (an `hrtimer` in hard interrupt context).
//!
//! A timer is a field of its owner, which names it with [`impl_has_timer!`]: the owner is fixed
//! by the type, not by a pointer stored when the timer is armed. A timer is armed through its
//! owner ([`Timer::arm`] takes the owner, not the timer), so only a timer that really is the
//! field of a live owner can ever fire, and its callback gets that owner back with
//! `container_of!`.
//!
//! The kernel crate's `HrTimer` ties a timer to a handle whose drop cancels it, which does not
//! fit timers that are re-armed from the IRQ handler, the timer itself and the ioctl path
//! (under an IRQ-safe lock), and shut down once at teardown (see `Documentation/design.rst`).

use core::marker::PhantomData;

use kernel::{bindings, prelude::*, sync::LockClassKey, time::Jiffies, types::Opaque};

/// A type with a timer field of type `Tm` ([`Timer<Self>`] or [`FineTimer<Self>`]), called
/// when that timer fires. Implement it with [`impl_has_timer!`].
///
/// # Safety
///
/// [`HasTimer::raw_timer`] returns the timer field of `this`, [`HasTimer::timer_container_of`]
/// the value whose timer field `timer` is; and while the timer can fire, everything
/// [`HasTimer::timer_fired`] uses is alive (the timer field is declared before those fields,
/// so it is dropped, which stops it, before they are).
pub(crate) unsafe trait HasTimer<Tm>: Sync + Sized {
    /// The timer field of `this`.
    ///
    /// # Safety
    ///
    /// `this` points at a valid `Self`.
    unsafe fn raw_timer(this: *const Self) -> *const Tm;

    /// The value whose timer field is `timer`.
    ///
    /// # Safety
    ///
    /// `timer` points at the timer field of a valid `Self`.
    unsafe fn timer_container_of(timer: *const Tm) -> *const Self;

    /// Called when the timer fires (softirq context for a [`Timer`], hard interrupt context for
    /// a [`FineTimer`]).
    fn timer_fired(&self);
}

/// Implements [`HasTimer`] for a type whose field `$field` is the timer, calling `$fired` when it
/// fires. The field's type is checked by the compiler.
///
/// The invocation says `unsafe impl`, with a comment on why: the timer field is declared before
/// every field `$fired` uses (so dropping the owner stops the timer before those go).
macro_rules! impl_has_timer {
    (
        unsafe impl$({$($generics:tt)*})? HasTimer<$timer:ty> for $owner:ty {
            self.$field:ident => $fired:ident
        }
    ) => {
        // SAFETY: Both functions map between a value and its field `$field`, whose type the
        // compiler checks to be `$timer`; the caller vouches for the declaration order.
        unsafe impl$(<$($generics)*>)? $crate::timer::HasTimer<$timer> for $owner {
            unsafe fn raw_timer(this: *const Self) -> *const $timer {
                // SAFETY: `this` points at a valid `Self` (caller).
                unsafe { &raw const (*this).$field }
            }

            unsafe fn timer_container_of(timer: *const $timer) -> *const Self {
                // SAFETY: `timer` points at the `$field` of a valid `Self` (caller).
                unsafe { ::kernel::container_of!(timer.cast_mut(), Self, $field) }
            }

            fn timer_fired(&self) {
                self.$fired()
            }
        }
    };
}
pub(crate) use impl_has_timer;

/// A `timer_list` that calls its owner's [`HasTimer::timer_fired`] when it fires.
///
/// # Invariants
///
/// `raw` is initialised with [`trampoline::<T>`], and is only ever armed by [`Timer::arm`], as
/// the timer field of a live `T`.
#[pin_data(PinnedDrop)]
pub(crate) struct Timer<T> {
    #[pin]
    raw: Opaque<bindings::timer_list>,
    _owner: PhantomData<fn(&T)>,
}

// SAFETY: The timer is driven through the kernel's timer API, which is thread-safe; it holds no
// `T`.
unsafe impl<T> Sync for Timer<T> {}
// SAFETY: As above.
unsafe impl<T> Send for Timer<T> {}

/// The C callback.
///
/// # Safety
///
/// `t` is the `raw` field of a `Timer<T>` that was armed (the kernel passes the timer it
/// initialised).
unsafe extern "C" fn trampoline<T: HasTimer<Timer<T>>>(t: *mut bindings::timer_list) {
    // SAFETY: `t` is the `raw` field of a `Timer<T>` (caller); `Opaque<X>` is `repr(transparent)`.
    let timer =
        unsafe { kernel::container_of!(t.cast::<Opaque<bindings::timer_list>>(), Timer<T>, raw) };
    // SAFETY: An armed timer is the timer field of a live `T` (type invariants of `Timer`, and
    // the safety requirements of `HasTimer`).
    let owner = unsafe { &*T::timer_container_of(timer) };
    owner.timer_fired();
}

impl<T: HasTimer<Timer<T>>> Timer<T> {
    /// A stopped timer.
    pub(crate) fn new(name: &'static CStr, key: Pin<&'static LockClassKey>) -> impl PinInit<Self> {
        pin_init!(Timer {
            // SAFETY: `timer_init_key` initialises the `timer_list` in place; name and key are
            // static.
            raw <- Opaque::ffi_init(move |slot: *mut bindings::timer_list| unsafe {
                bindings::timer_init_key(slot, Some(trampoline::<T>), 0, name.as_char_ptr(), key.as_ptr())
            }),
            _owner: PhantomData,
        })
    }

    /// Arms (or re-arms) `owner`'s timer to fire `delay` jiffies from now.
    pub(crate) fn arm(owner: &T, delay: Jiffies) {
        // SAFETY: `owner` is a valid `T`.
        let timer = unsafe { &*T::raw_timer(owner) };
        // SAFETY: Reading `jiffies` is always allowed; it is only ever written by the kernel.
        let now = unsafe { core::ptr::read_volatile(&raw const bindings::jiffies) };
        // INVARIANT: armed as the timer field of `owner`.
        // SAFETY: `raw` is an initialised timer (type invariants).
        unsafe { bindings::mod_timer(timer.raw.get(), now.wrapping_add(delay)) };
    }

    /// Stops the timer and waits for a running callback to finish; [`Timer::arm`] may start it
    /// again (system suspend).
    pub(crate) fn cancel(&self) {
        // SAFETY: `raw` is an initialised timer (type invariants).
        unsafe { bindings::timer_delete_sync(self.raw.get()) };
    }

    /// Stops the timer for good and waits for a running callback to finish.
    pub(crate) fn shutdown(&self) {
        // SAFETY: `raw` is an initialised timer (type invariants).
        unsafe { bindings::timer_shutdown_sync(self.raw.get()) };
    }
}

#[pinned_drop]
impl<T> PinnedDrop for Timer<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: `raw` is an initialised timer (type invariants).
        unsafe { bindings::timer_shutdown_sync(self.raw.get()) };
    }
}

/// An `hrtimer` on the monotonic clock that calls its owner's [`HasTimer::timer_fired`] in hard
/// interrupt context.
///
/// # Invariants
///
/// `raw` is initialised with [`fine_trampoline::<T>`], and is only ever armed by
/// [`FineTimer::arm`], as the timer field of a live `T`.
#[pin_data(PinnedDrop)]
pub(crate) struct FineTimer<T> {
    #[pin]
    raw: Opaque<bindings::hrtimer>,
    _owner: PhantomData<fn(&T)>,
}

// SAFETY: The timer is driven through the kernel's hrtimer API, which is thread-safe; it holds no
// `T`.
unsafe impl<T> Sync for FineTimer<T> {}
// SAFETY: As above.
unsafe impl<T> Send for FineTimer<T> {}

/// The C callback of a [`FineTimer`].
///
/// # Safety
///
/// `t` is the `raw` field of a `FineTimer<T>` that was armed (the kernel passes the timer it
/// initialised).
unsafe extern "C" fn fine_trampoline<T: HasTimer<FineTimer<T>>>(
    t: *mut bindings::hrtimer,
) -> bindings::hrtimer_restart {
    // SAFETY: `t` is the `raw` field of a `FineTimer<T>` (caller); `Opaque<X>` is
    // `repr(transparent)`.
    let timer =
        unsafe { kernel::container_of!(t.cast::<Opaque<bindings::hrtimer>>(), FineTimer<T>, raw) };
    // SAFETY: An armed timer is the timer field of a live `T` (type invariants of `FineTimer`,
    // and the safety requirements of `HasTimer`).
    let owner = unsafe { &*T::timer_container_of(timer) };
    owner.timer_fired();
    bindings::hrtimer_restart::HRTIMER_NORESTART
}

impl<T: HasTimer<FineTimer<T>>> FineTimer<T> {
    /// A stopped timer.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(FineTimer {
            // SAFETY: `hrtimer_setup` initialises the `hrtimer` in place.
            raw <- Opaque::ffi_init(move |slot: *mut bindings::hrtimer| unsafe {
                bindings::hrtimer_setup(
                    slot,
                    Some(fine_trampoline::<T>),
                    bindings::CLOCK_MONOTONIC as kernel::ffi::c_int,
                    bindings::hrtimer_mode_HRTIMER_MODE_REL,
                )
            }),
            _owner: PhantomData,
        })
    }

    /// Arms (or re-arms) `owner`'s timer to fire `us` microseconds from now, allowing it an
    /// eighth of that late so that the kernel can batch expiries.
    pub(crate) fn arm(owner: &T, us: u32) {
        // SAFETY: `owner` is a valid `T`.
        let timer = unsafe { &*T::raw_timer(owner) };
        let ns = i64::from(us) * kernel::time::NSEC_PER_USEC;
        // INVARIANT: armed as the timer field of `owner`.
        // SAFETY: `raw` is an initialised timer (type invariants).
        unsafe {
            bindings::hrtimer_start_range_ns(
                timer.raw.get(),
                ns,
                (ns / 8) as u64,
                bindings::hrtimer_mode_HRTIMER_MODE_REL,
            )
        };
    }

    /// Stops the timer and waits for a running callback to finish; [`FineTimer::arm`] may start
    /// it again.
    pub(crate) fn cancel(&self) {
        // SAFETY: `raw` is an initialised timer (type invariants).
        unsafe { bindings::hrtimer_cancel(self.raw.get()) };
    }
}

#[pinned_drop]
impl<T> PinnedDrop for FineTimer<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: `raw` is an initialised timer (type invariants).
        unsafe { bindings::hrtimer_cancel(self.raw.get()) };
    }
}
