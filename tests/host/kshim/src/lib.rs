//! A host stand-in for the parts of the kernel crate that ripmi's handler glue uses.
//!
//! Only what `src/handler/` and the files it pulls in (`user.rs`, `rcvr_table.rs`, `rcu.rs`)
//! name, with the kernel's signatures (fallible allocation with flags, `Arc::pin_init`, lock
//! constructors taking a name and a lock class, ...), implemented over `std`. Locks are
//! `std::sync::Mutex`es, so taking one twice deadlocks as it would in the kernel; the RCU read
//! lock is a per-thread depth, and waiting for a grace period inside it panics. The host tests
//! drive each interface from a single thread, so a grace period is over as soon as that thread
//! has left its read-side critical sections.

pub mod alloc;
pub mod bindings;
pub mod error;
pub mod io;
pub mod prelude;
pub mod sync;
pub mod time;

/// C types (`kernel::ffi`).
pub mod ffi {
    pub use core::ffi::*;
}

/// [`pinned_init::pin_init!`] with the error defaulting to [`error::Error`], as the kernel's.
#[macro_export]
macro_rules! try_pin_init {
    ($t:ident $(::<$($generics:ty),* $(,)?>)? { $($fields:tt)* }? $err:ty) => {
        ::pinned_init::try_pin_init!($t $(::<$($generics),*>)? { $($fields)* }? $err)
    };
    ($t:ident $(::<$($generics:ty),* $(,)?>)? { $($fields:tt)* }) => {
        ::pinned_init::try_pin_init!($t $(::<$($generics),*>)? { $($fields)* }? $crate::error::Error)
    };
}

/// [`pinned_init::init!`] with the error defaulting to [`error::Error`], as the kernel's.
#[macro_export]
macro_rules! try_init {
    ($t:ident $(::<$($generics:ty),* $(,)?>)? { $($fields:tt)* }? $err:ty) => {
        ::pinned_init::try_init!($t $(::<$($generics),*>)? { $($fields)* }? $err)
    };
    ($t:ident $(::<$($generics:ty),* $(,)?>)? { $($fields:tt)* }) => {
        ::pinned_init::try_init!($t $(::<$($generics),*>)? { $($fields)* }? $crate::error::Error)
    };
}

/// A static lock class key, pinned (as the kernel's).
#[macro_export]
macro_rules! static_lock_class {
    () => {{
        static CLASS: $crate::sync::LockClassKey =
            // SAFETY: stored in static memory and pinned; never dropped.
            unsafe { $crate::sync::LockClassKey::new_static() };
        $crate::prelude::Pin::static_ref(&CLASS)
    }};
}

/// The lock name given, or the source location, as a C string (the kernel's `optional_name!`).
#[doc(hidden)]
#[macro_export]
macro_rules! optional_name {
    () => {
        $crate::optional_name!(::core::concat!(::core::file!(), ":", ::core::line!()))
    };
    ($name:expr) => {
        const {
            match ::core::ffi::CStr::from_bytes_with_nul(::core::concat!($name, "\0").as_bytes()) {
                Ok(s) => s,
                Err(_) => panic!("lock name with a NUL byte"),
            }
        }
    };
}

/// An initialiser of a [`sync::SpinLockIrq`].
#[macro_export]
macro_rules! new_spinlock_irq {
    ($inner:expr $(, $name:literal)? $(,)?) => {
        $crate::sync::SpinLockIrq::new(
            $inner, $crate::optional_name!($($name)?), $crate::static_lock_class!())
    };
}

/// An initialiser of a [`sync::Mutex`].
#[macro_export]
macro_rules! new_mutex {
    ($inner:expr $(, $name:literal)? $(,)?) => {
        $crate::sync::Mutex::new(
            $inner, $crate::optional_name!($($name)?), $crate::static_lock_class!())
    };
}
