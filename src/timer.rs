// SPDX-License-Identifier: GPL-2.0

//! A jiffies timer embedded in a pinned owner, calling `fn(&Owner)` in softirq context.
//!
//! The kernel crate's `HrTimer` ties a timer to a handle whose drop cancels it, which does not
//! fit a timer that re-arms itself from several places and is shut down once at teardown; this
//! is the plain `timer_list` the C driver uses.

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

/// Converts microseconds to jiffies, rounding up, at least 1.
pub(crate) fn usecs_to_jiffies(us: u32) -> kernel::ffi::c_ulong {
    let hz = bindings::CONFIG_HZ as kernel::ffi::c_ulong;
    (us as kernel::ffi::c_ulong * hz).div_ceil(1_000_000).max(1)
}
