// SPDX-License-Identifier: GPL-2.0

//! The smallest RCU-protected pointer ripmi needs: readers follow it under
//! [`rcu::read_lock()`](kernel::sync::rcu::read_lock) only, writers swap in a new boxed value and
//! free the old one only after a grace period.
//!
//! The kernel crate has RCU guards but no RCU container; this file is the whole of ripmi's RCU
//! code and holds all of its `unsafe`. C counterparts: `rcu_dereference()`,
//! `rcu_assign_pointer()` and the `synchronize_rcu()`-then-`kfree()` pattern of
//! `ipmi_unregister_for_cmd()` in
//! [`ipmi_msghandler.c`](srctree/drivers/char/ipmi/ipmi_msghandler.c).
//!
//! - [`RcuBox::read`] is `rcu_dereference()`: an `Acquire` load, the result borrowed for no
//!   longer than the [`Guard`].
//! - [`RcuBox::replace`] is `rcu_assign_pointer()` (a `Release` exchange) and hands back the old
//!   value as [`Retired`], which can only be freed after `synchronize_rcu()`.
//!
//! The container makes no promise about concurrent writers: two writers may both replace, and
//! each frees only what it took out, so memory stays safe, but read-copy-update needs the
//! writers serialised by their user (the receiver table takes a mutex) for updates not to be
//! lost.

use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicPtr, Ordering};

use kernel::{
    bindings,
    prelude::*,
    sync::rcu::{self, Guard},
};

/// A published `KBox<T>`, or nothing, that RCU readers may follow.
///
/// # Invariants
///
/// - `ptr` is null or was returned by `KBox::into_raw()`; this `RcuBox` owns that box.
/// - A box taken out of `ptr` is freed only once every RCU read-side critical section that may
///   have loaded it has ended: by [`Retired`] after `synchronize_rcu()`, or by `drop` (which has
///   `&mut self`, so no reader borrows the value any more).
pub(crate) struct RcuBox<T> {
    ptr: AtomicPtr<T>,
    /// Owns a `KBox<T>`; `*const` opts out of the auto traits, given back below with bounds.
    _owns: PhantomData<*const KBox<T>>,
}

// SAFETY: `RcuBox<T>` owns a `KBox<T>` (type invariants); sending it sends the `T`.
unsafe impl<T: Send> Send for RcuBox<T> {}
// SAFETY: Through `&RcuBox<T>` other threads get `&T` (`read`) and move `T`s in and out
// (`replace`, and `Retired` may drop them elsewhere), so `T` must be `Send + Sync`.
unsafe impl<T: Send + Sync> Sync for RcuBox<T> {}

impl<T> RcuBox<T> {
    /// An empty pointer.
    pub(crate) const fn null() -> Self {
        // INVARIANT: a null pointer owns nothing.
        Self {
            ptr: AtomicPtr::new(ptr::null_mut()),
            _owns: PhantomData,
        }
    }

    /// Follows the pointer under the RCU read lock (C `rcu_dereference()`).
    pub(crate) fn read<'a>(&'a self, _guard: &'a Guard) -> Option<&'a T> {
        // Pairs with the `Release` exchange in `replace`: the pointee's contents are visible.
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: `p` is null or a live box (type invariants). It stays live while `_guard`
        // holds the read lock: a box replaced meanwhile is freed only after a grace period
        // (`Retired`), and `drop` cannot run while `self` is borrowed for `'a`.
        unsafe { p.as_ref() }
    }

    /// Publishes `new` (C `rcu_assign_pointer()`) and returns what it replaces, which readers
    /// may still be using.
    pub(crate) fn replace(&self, new: Option<KBox<T>>) -> Option<Retired<T>> {
        let new = new.map_or(ptr::null_mut(), KBox::into_raw);
        // `Release` publishes the new box's contents to `Acquire` readers; `Acquire` orders our
        // later free of the old box after everything its publisher wrote.
        let old = self.ptr.swap(new, Ordering::AcqRel);
        // INVARIANT: `ptr` now owns `new`; ownership of `old` moves to the `Retired`.
        NonNull::new(old).map(|ptr| Retired { ptr })
    }
}

impl<T> Drop for RcuBox<T> {
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        if !p.is_null() {
            // SAFETY: `p` came from `KBox::into_raw()` and is owned by us (type invariants);
            // `&mut self` means no reader borrows it any more.
            drop(unsafe { KBox::from_raw(p) });
        }
    }
}

/// A value taken out of an [`RcuBox`], freed only after an RCU grace period.
///
/// # Invariants
///
/// `ptr` came from `KBox::into_raw()`, is owned by this `Retired`, and is no longer reachable
/// from any `RcuBox`; RCU readers that loaded it before it was unpublished may still use it.
pub(crate) struct Retired<T> {
    ptr: NonNull<T>,
}

// SAFETY: A `Retired<T>` owns a `T` that nobody can reach through it; dropping it elsewhere
// needs `T: Send`.
unsafe impl<T: Send> Send for Retired<T> {}

impl<T> Retired<T> {
    /// Frees the value; the caller has waited for a grace period since it was unpublished.
    fn free_after_grace_period(self) {
        let p = self.ptr.as_ptr();
        core::mem::forget(self);
        // SAFETY: `p` came from `KBox::into_raw()` and is owned by us (type invariants); a grace
        // period has passed since it was unpublished (caller), so no reader holds it.
        drop(unsafe { KBox::from_raw(p) });
    }
}

impl<T> Drop for Retired<T> {
    /// Waits for a grace period (may sleep), then frees the value.
    fn drop(&mut self) {
        rcu::synchronize_rcu();
        // SAFETY: owned and unpublished (type invariants), and the grace period just waited for
        // covers every reader that could have loaded it.
        drop(unsafe { KBox::from_raw(self.ptr.as_ptr()) });
    }
}

/// Retired values waiting for a grace period, freed without blocking once one has passed.
///
/// Writers that must not wait a grace period per update (C's register path does not wait at
/// all) park what they retire here; [`Garbage::collect`] frees it once the grace period that
/// started after the last [`Garbage::defer`] has ended, and [`Garbage::flush`] waits for it.
///
/// # Invariants
///
/// If `list` is not empty, `cookie` was taken by `start_poll_synchronize_rcu()` after every
/// value in `list` was unpublished.
pub(crate) struct Garbage<T> {
    list: KVec<Retired<T>>,
    cookie: kernel::ffi::c_ulong,
}

impl<T> Garbage<T> {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        // INVARIANT: `list` is empty.
        Self {
            list: KVec::new(),
            cookie: 0,
        }
    }

    /// How many values wait.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// Parks `r` until a grace period has passed; if there is no memory for that, waits for one
    /// and frees it now.
    pub(crate) fn defer(&mut self, r: Retired<T>) {
        if self.list.push(r, GFP_KERNEL).is_err() {
            // `push` dropped `r`, and dropping a `Retired` waits for a grace period first.
            return;
        }
        // SAFETY: An FFI call with no requirements; it returns a cookie for a grace period that
        // starts after now.
        // INVARIANT: taken after `r`, the newest value, was unpublished.
        self.cookie = unsafe { bindings::start_poll_synchronize_rcu() };
    }

    /// Frees everything if the grace period of the last [`Garbage::defer`] has ended (never
    /// blocks).
    pub(crate) fn collect(&mut self) {
        if self.list.is_empty() {
            return;
        }
        // SAFETY: An FFI call with no requirements on a cookie from `start_poll_synchronize_rcu()`.
        if unsafe { bindings::poll_state_synchronize_rcu(self.cookie) } {
            // The grace period of `cookie` covers every value (type invariants).
            for r in core::mem::take(&mut self.list) {
                r.free_after_grace_period();
            }
        }
    }

    /// Waits until the grace period of the last [`Garbage::defer`] has ended (may sleep), then
    /// frees everything.
    pub(crate) fn flush(&mut self) {
        if self.list.is_empty() {
            return;
        }
        // SAFETY: An FFI call that may sleep (we are in process context, see `# Sleeps` of the
        // callers) on a cookie from `start_poll_synchronize_rcu()`.
        unsafe { bindings::cond_synchronize_rcu(self.cookie) };
        // The grace period of `cookie` has ended and covers every value (type invariants).
        for r in core::mem::take(&mut self.list) {
            r.free_after_grace_period();
        }
    }
}

impl<T> Drop for Garbage<T> {
    fn drop(&mut self) {
        self.flush();
    }
}
