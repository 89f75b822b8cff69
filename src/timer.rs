// SPDX-License-Identifier: GPL-2.0

//! Timers embedded in a pinned owner, calling `fn(&Owner)`: [`Timer`], a jiffies `timer_list`
//! (softirq context), and [`FineTimer`], a high-resolution timer (hard interrupt context) for
//! waits shorter than a jiffy.
//!
//! The kernel crate's `HrTimer` ties a timer to a handle whose drop cancels it, which does not
//! fit a timer that re-arms itself from several places (under a spinlock, in interrupt context)
//! and is shut down once at teardown; these are the plain C timers with the same rules.

use core::sync::atomic::{AtomicPtr, Ordering};

use kernel::{bindings, prelude::*, sync::LockClassKey, types::Opaque};

/// A `timer_list` that calls `run(owner)` when it fires.
///
/// # Invariants
///
/// `raw` is initialised with [`trampoline::<T>`]. While the timer can fire, `owner` is null or
/// points at the live `T` that contains this timer; [`PinnedDrop`] shuts the timer down, so a
/// `T` that declares its timers before the fields they use cannot be used after those are gone.
#[pin_data(PinnedDrop)]
pub(crate) struct Timer<T: Sync> {
    #[pin]
    raw: Opaque<bindings::timer_list>,
    owner: AtomicPtr<T>,
    run: fn(&T),
}

// SAFETY: The timer is driven through the kernel's timer API, which is thread-safe; `owner` is
// atomic and `T: Sync`.
unsafe impl<T: Sync> Sync for Timer<T> {}
// SAFETY: As above.
unsafe impl<T: Sync> Send for Timer<T> {}

/// The C callback.
///
/// # Safety
///
/// `t` is the `raw` field of a live `Timer<T>` (the kernel passes the timer it initialised).
unsafe extern "C" fn trampoline<T: Sync>(t: *mut bindings::timer_list) {
    // SAFETY: `t` is the `raw` field of a `Timer<T>` (caller); `Opaque<X>` is `repr(transparent)`.
    let timer =
        unsafe { &*kernel::container_of!(t.cast::<Opaque<bindings::timer_list>>(), Timer<T>, raw) };
    let owner = timer.owner.load(Ordering::Acquire);
    if !owner.is_null() {
        // SAFETY: A non-null owner is alive while the timer can fire (type invariants).
        (timer.run)(unsafe { &*owner });
    }
}

impl<T: Sync> Timer<T> {
    /// A stopped timer that will call `run`.
    pub(crate) fn new(
        run: fn(&T),
        name: &'static CStr,
        key: Pin<&'static LockClassKey>,
    ) -> impl PinInit<Self> {
        pin_init!(Timer {
            // SAFETY: `timer_init_key` initialises the `timer_list` in place; name and key are
            // static.
            raw <- Opaque::ffi_init(move |slot: *mut bindings::timer_list| unsafe {
                bindings::timer_init_key(slot, Some(trampoline::<T>), 0, name.as_char_ptr(), key.as_ptr())
            }),
            owner: AtomicPtr::new(core::ptr::null_mut()),
            run,
        })
    }

    /// Arms (or re-arms) the timer to fire `delay_jiffies` from now, for `owner`.
    ///
    /// `owner` must be the value that contains this timer.
    pub(crate) fn arm(&self, owner: &T, delay_jiffies: kernel::ffi::c_ulong) {
        self.owner
            .store(core::ptr::from_ref(owner).cast_mut(), Ordering::Release);
        // SAFETY: Reading `jiffies` is always allowed; it is only ever written by the kernel.
        let now = unsafe { core::ptr::read_volatile(&raw const bindings::jiffies) };
        // SAFETY: `raw` is an initialised timer (type invariants).
        unsafe { bindings::mod_timer(self.raw.get(), now.wrapping_add(delay_jiffies)) };
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
impl<T: Sync> PinnedDrop for Timer<T> {
    fn drop(self: Pin<&mut Self>) {
        self.shutdown();
    }
}

/// An `hrtimer` on the monotonic clock that calls `run(owner)` in hard interrupt context.
///
/// # Invariants
///
/// `raw` is initialised with [`fine_trampoline::<T>`]. While the timer can fire, `owner` is null
/// or points at the live `T` that contains this timer; [`PinnedDrop`] cancels the timer, so a `T`
/// that declares its timers before the fields they use cannot be used after those are gone.
#[pin_data(PinnedDrop)]
pub(crate) struct FineTimer<T: Sync> {
    #[pin]
    raw: Opaque<bindings::hrtimer>,
    owner: AtomicPtr<T>,
    run: fn(&T),
}

// SAFETY: The timer is driven through the kernel's hrtimer API, which is thread-safe; `owner` is
// atomic and `T: Sync`.
unsafe impl<T: Sync> Sync for FineTimer<T> {}
// SAFETY: As above.
unsafe impl<T: Sync> Send for FineTimer<T> {}

/// The C callback of a [`FineTimer`].
///
/// # Safety
///
/// `t` is the `raw` field of a live `FineTimer<T>` (the kernel passes the timer it initialised).
unsafe extern "C" fn fine_trampoline<T: Sync>(
    t: *mut bindings::hrtimer,
) -> bindings::hrtimer_restart {
    // SAFETY: `t` is the `raw` field of a `FineTimer<T>` (caller); `Opaque<X>` is
    // `repr(transparent)`.
    let timer = unsafe {
        &*kernel::container_of!(t.cast::<Opaque<bindings::hrtimer>>(), FineTimer<T>, raw)
    };
    let owner = timer.owner.load(Ordering::Acquire);
    if !owner.is_null() {
        // SAFETY: A non-null owner is alive while the timer can fire (type invariants).
        (timer.run)(unsafe { &*owner });
    }
    bindings::hrtimer_restart::HRTIMER_NORESTART
}

impl<T: Sync> FineTimer<T> {
    /// A stopped timer that will call `run`.
    pub(crate) fn new(run: fn(&T)) -> impl PinInit<Self> {
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
            owner: AtomicPtr::new(core::ptr::null_mut()),
            run,
        })
    }

    /// Arms (or re-arms) the timer to fire `us` microseconds from now, for `owner`, allowing it
    /// an eighth of that late so that the kernel can batch expiries.
    ///
    /// `owner` must be the value that contains this timer.
    pub(crate) fn arm(&self, owner: &T, us: u32) {
        self.owner
            .store(core::ptr::from_ref(owner).cast_mut(), Ordering::Release);
        let ns = i64::from(us) * 1000;
        // SAFETY: `raw` is an initialised timer (type invariants).
        unsafe {
            bindings::hrtimer_start_range_ns(
                self.raw.get(),
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
impl<T: Sync> PinnedDrop for FineTimer<T> {
    fn drop(self: Pin<&mut Self>) {
        self.cancel();
    }
}

/// Converts microseconds to jiffies, rounding up, at least 1.
pub(crate) fn usecs_to_jiffies(us: u32) -> kernel::ffi::c_ulong {
    let hz = bindings::CONFIG_HZ as kernel::ffi::c_ulong;
    (us as kernel::ffi::c_ulong * hz).div_ceil(1_000_000).max(1)
}
