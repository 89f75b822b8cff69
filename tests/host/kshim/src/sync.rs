//! `kernel::sync`: reference counting, locks, set-once cells, RCU, and poll wait queues.

use core::cell::UnsafeCell;
use core::ffi::CStr;
use core::ops::{Deref, DerefMut};
use core::pin::Pin;

use pinned_init::PinInit;

use crate::alloc::{AllocError, Flags};
use crate::error::{Error, Result};

pub use crate::{new_mutex, new_spinlock_irq};

/// A lock class (lockdep's; nothing on the host).
pub struct LockClassKey(());

impl LockClassKey {
    /// A key for static memory.
    ///
    /// # Safety
    ///
    /// Stored in a `static` and never moved (as the kernel's).
    pub const unsafe fn new_static() -> Self {
        LockClassKey(())
    }
}

/// A reference-counted pointer whose value is pinned (`kernel::sync::Arc`).
pub struct Arc<T: ?Sized>(std::sync::Arc<T>);

impl<T> Arc<T> {
    /// A new reference-counted `contents`.
    pub fn new(contents: T, _flags: Flags) -> Result<Self, AllocError> {
        Ok(Arc(std::sync::Arc::new(contents)))
    }

    /// Initialises a value in place (the kernel's `InPlaceInit::pin_init` for `Arc`).
    pub fn pin_init<E>(init: impl PinInit<T, E>, _flags: Flags) -> Result<Self>
    where
        Error: From<E>,
    {
        let mut uninit = std::sync::Arc::<T>::new_uninit();
        let slot = std::sync::Arc::get_mut(&mut uninit)
            .expect("a new Arc is unique")
            .as_mut_ptr();
        // SAFETY: `slot` is valid for writes and never moves (the `Arc` owns it until it is
        // dropped, and hands out only shared references); on error the initialiser has cleaned
        // up, and the uninitialised allocation is freed without dropping a `T`.
        unsafe { init.__pinned_init(slot) }?;
        // SAFETY: `__pinned_init` succeeded, so the value is initialised.
        Ok(Arc(unsafe { uninit.assume_init() }))
    }
}

impl<T: ?Sized> Arc<T> {
    /// Whether both point at the same value.
    pub fn ptr_eq(this: &Self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&this.0, &other.0)
    }
}

impl<T: ?Sized> Clone for Arc<T> {
    fn clone(&self) -> Self {
        Arc(self.0.clone())
    }
}

impl<T: ?Sized> Deref for Arc<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A lock over `T`: a `std` mutex beside the data, so the data can be initialised in place as
/// the kernel's locks allow. Taking it twice on one thread deadlocks, as in the kernel.
pub struct Lock<T> {
    mutex: std::sync::Mutex<()>,
    data: UnsafeCell<T>,
}

// SAFETY: The data is only reached through a `Guard`, which holds the mutex.
unsafe impl<T: Send> Send for Lock<T> {}
// SAFETY: As above: one thread at a time gets `&mut T`.
unsafe impl<T: Send> Sync for Lock<T> {}

impl<T> Lock<T> {
    /// An initialiser of a lock over what `t` initialises (the kernel's `Lock::new`).
    pub fn new(
        t: impl PinInit<T>,
        _name: &'static CStr,
        _key: Pin<&'static LockClassKey>,
    ) -> impl PinInit<Self> {
        // SAFETY: On success both fields are initialised; `t` is infallible. The data is
        // initialised where it stays (`UnsafeCell<T>` has the layout of `T`).
        unsafe {
            pinned_init::pin_init_from_closure(move |slot: *mut Self| {
                t.__pinned_init(UnsafeCell::raw_get(core::ptr::addr_of_mut!((*slot).data)))?;
                core::ptr::addr_of_mut!((*slot).mutex).write(std::sync::Mutex::new(()));
                Ok(())
            })
        }
    }

    /// Takes the lock if it is free.
    pub fn try_lock(&self) -> Option<Guard<'_, T>> {
        let held = match self.mutex.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return None,
        };
        Some(Guard {
            lock: self,
            _held: held,
        })
    }

    /// Takes the lock.
    pub fn lock(&self) -> Guard<'_, T> {
        // A test that panicked with the lock held poisons it; the data is still consistent
        // enough for the other tests, which use their own locks anyway.
        let held = self.mutex.lock().unwrap_or_else(|e| e.into_inner());
        Guard {
            lock: self,
            _held: held,
        }
    }
}

/// The guard of a [`Lock`]: the lock is held while it lives.
pub struct Guard<'a, T> {
    lock: &'a Lock<T>,
    _held: std::sync::MutexGuard<'a, ()>,
}

impl<T> Deref for Guard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: The mutex is held while the guard lives.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: The mutex is held while the guard lives, and `&mut self` is unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

/// `SpinLockIrq<T>`.
pub type SpinLockIrq<T> = Lock<T>;
/// `Mutex<T>`.
pub type Mutex<T> = Lock<T>;

/// A value set at most once, then read without locking (`kernel::sync::SetOnce`).
pub struct SetOnce<T>(std::sync::OnceLock<T>);

impl<T> SetOnce<T> {
    /// An empty cell.
    pub const fn new() -> Self {
        SetOnce(std::sync::OnceLock::new())
    }

    /// The value, if set.
    pub fn as_ref(&self) -> Option<&T> {
        self.0.get()
    }

    /// Sets the value unless it is set; returns whether it was set by this call.
    pub fn populate(&self, value: T) -> bool {
        self.0.set(value).is_ok()
    }
}

impl<T> Default for SetOnce<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// RCU on the host: the read lock is a per-thread nesting depth.
///
/// The host tests drive each object from one thread, so every reader of what a writer retires
/// is on the writer's thread, and a grace period has passed once that thread is outside any
/// read-side critical section. Waiting for one inside a critical section (which would never
/// end in the kernel) panics.
pub mod rcu {
    use core::cell::Cell;
    use core::marker::PhantomData;

    std::thread_local! {
        static DEPTH: Cell<usize> = const { Cell::new(0) };
    }

    /// Whether the calling thread holds the RCU read lock.
    pub fn in_read_side() -> bool {
        DEPTH.with(|d| d.get() > 0)
    }

    /// The RCU read lock is held while this lives; it cannot move to another thread.
    pub struct Guard(PhantomData<*mut ()>);

    impl Guard {
        /// Takes the RCU read lock.
        pub fn new() -> Self {
            DEPTH.with(|d| d.set(d.get() + 1));
            Guard(PhantomData)
        }

        /// Releases it.
        pub fn unlock(self) {}
    }

    impl Default for Guard {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Drop for Guard {
        fn drop(&mut self) {
            DEPTH.with(|d| d.set(d.get() - 1));
        }
    }

    /// Takes the RCU read lock.
    pub fn read_lock() -> Guard {
        Guard::new()
    }

    /// Waits for a grace period.
    pub fn synchronize_rcu() {
        assert!(
            !in_read_side(),
            "synchronize_rcu() inside an RCU read-side critical section"
        );
    }
}

/// `kernel::sync::poll`.
pub mod poll {
    use super::LockClassKey;
    use crate::alloc::AllocError;
    use core::ffi::CStr;
    use core::ops::Deref;
    use core::pin::Pin;

    /// A wait queue that `poll` registers on; nobody polls on the host.
    pub struct PollCondVar(std::sync::Condvar);

    impl PollCondVar {
        /// Wakes every waiter.
        pub fn notify_all(&self) {
            self.0.notify_all()
        }
    }

    /// A boxed [`PollCondVar`] (freed with `kfree_rcu` in the kernel).
    pub struct PollCondVarBox(Box<PollCondVar>);

    impl PollCondVarBox {
        /// A new wait queue.
        pub fn new(
            _name: &'static CStr,
            _key: Pin<&'static LockClassKey>,
        ) -> Result<Self, AllocError> {
            Ok(PollCondVarBox(Box::new(PollCondVar(
                std::sync::Condvar::new(),
            ))))
        }
    }

    impl Deref for PollCondVarBox {
        type Target = PollCondVar;
        fn deref(&self) -> &PollCondVar {
            &self.0
        }
    }
}
