//! `kernel::alloc`: boxes and vectors whose allocations take flags and may fail.
//!
//! On the host an allocation never fails (`std` aborts instead); the flags are carried for
//! the signatures only.

use core::fmt;
use core::ops::{Deref, DerefMut};

/// Allocation flags (`gfp_t`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Flags(u32);

/// The allocation flags.
pub mod flags {
    use super::Flags;

    /// `GFP_KERNEL`: may sleep.
    pub const GFP_KERNEL: Flags = Flags(0);
    /// `GFP_ATOMIC`: must not sleep.
    pub const GFP_ATOMIC: Flags = Flags(1);
    /// `GFP_NOWAIT`.
    pub const GFP_NOWAIT: Flags = Flags(2);
}

/// An allocation failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AllocError;

/// `KBox<T>`: a heap value.
pub struct KBox<T: ?Sized>(Box<T>);

impl<T> KBox<T> {
    /// Moves `x` to the heap.
    pub fn new(x: T, _flags: Flags) -> Result<Self, AllocError> {
        Ok(KBox(Box::new(x)))
    }

    /// Initialises a value in place on the heap (the kernel's `InPlaceInit::init` for `KBox`).
    pub fn init<E>(init: impl pinned_init::Init<T, E>, _flags: Flags) -> crate::error::Result<Self>
    where
        crate::error::Error: From<E>,
    {
        let mut uninit = Box::<T>::new_uninit();
        // SAFETY: `uninit` is valid for writes and is not moved while `__init` runs; on error
        // the initialiser has cleaned up, and the uninitialised box is freed without dropping
        // a `T`.
        unsafe { init.__init(uninit.as_mut_ptr()) }?;
        // SAFETY: `__init` succeeded, so the value is initialised.
        Ok(KBox(unsafe { uninit.assume_init() }))
    }
}

impl<T: ?Sized> KBox<T> {
    /// Gives up the box, returning its pointer.
    pub fn into_raw(b: Self) -> *mut T {
        Box::into_raw(b.0)
    }

    /// Takes back a box given up by [`KBox::into_raw`].
    ///
    /// # Safety
    ///
    /// `p` came from [`KBox::into_raw`] and is not owned by anything else.
    pub unsafe fn from_raw(p: *mut T) -> Self {
        // SAFETY: `p` came from `Box::into_raw` (caller).
        KBox(unsafe { Box::from_raw(p) })
    }
}

impl<T: ?Sized> Deref for KBox<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: ?Sized> DerefMut for KBox<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for KBox<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

pub use kvec::KVec;

/// `kernel::alloc::kvec`.
pub mod kvec {
    use super::{AllocError, Flags};
    use core::fmt;
    use core::ops::{Deref, DerefMut};

    /// `push_within_capacity` found no room; the value is given back.
    pub struct PushError<T>(pub T);

    impl<T> fmt::Debug for PushError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "Not enough capacity")
        }
    }

    /// `remove` was given an index out of bounds.
    #[derive(Debug)]
    pub struct RemoveError;

    /// `insert_within_capacity` failed; the value is given back.
    pub enum InsertError<T> {
        /// The index is out of bounds.
        IndexOutOfBounds(T),
        /// The vector is full.
        OutOfCapacity(T),
    }

    impl<T> fmt::Debug for InsertError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                InsertError::IndexOutOfBounds(_) => write!(f, "Index out of bounds"),
                InsertError::OutOfCapacity(_) => write!(f, "Not enough capacity"),
            }
        }
    }

    /// `KVec<T>`: a vector that grows only through calls that take allocation flags.
    ///
    /// The capacity is `std`'s, which is exactly what was asked for by `with_capacity` (for
    /// non-zero-sized `T`), so the `*_within_capacity` calls fail where the kernel's do.
    pub struct KVec<T>(Vec<T>);

    impl<T> KVec<T> {
        /// An empty vector; allocates nothing.
        pub const fn new() -> Self {
            KVec(Vec::new())
        }

        /// An empty vector with room for `n`.
        pub fn with_capacity(n: usize, _flags: Flags) -> Result<Self, AllocError> {
            Ok(KVec(Vec::with_capacity(n)))
        }

        /// How many elements fit without allocating.
        pub fn capacity(&self) -> usize {
            self.0.capacity()
        }

        /// Appends `v`, allocating if needed.
        pub fn push(&mut self, v: T, _flags: Flags) -> Result<(), AllocError> {
            self.0.push(v);
            Ok(())
        }

        /// Appends `v` if there is room, never allocating.
        pub fn push_within_capacity(&mut self, v: T) -> Result<(), PushError<T>> {
            if self.0.len() < self.0.capacity() {
                self.0.push(v);
                Ok(())
            } else {
                Err(PushError(v))
            }
        }

        /// Inserts `v` at `i` if there is room, never allocating.
        pub fn insert_within_capacity(&mut self, i: usize, v: T) -> Result<(), InsertError<T>> {
            if i > self.0.len() {
                Err(InsertError::IndexOutOfBounds(v))
            } else if self.0.len() >= self.0.capacity() {
                Err(InsertError::OutOfCapacity(v))
            } else {
                self.0.insert(i, v);
                Ok(())
            }
        }

        /// Removes the last element.
        pub fn pop(&mut self) -> Option<T> {
            self.0.pop()
        }

        /// Removes the element at `i`, shifting the rest down.
        pub fn remove(&mut self, i: usize) -> Result<T, RemoveError> {
            if i < self.0.len() {
                Ok(self.0.remove(i))
            } else {
                Err(RemoveError)
            }
        }

        /// Makes room for `additional` more.
        pub fn reserve(&mut self, additional: usize, _flags: Flags) -> Result<(), AllocError> {
            self.0.reserve(additional);
            Ok(())
        }

        /// Keeps the elements for which `f` is true.
        pub fn retain(&mut self, f: impl FnMut(&mut T) -> bool) {
            self.0.retain_mut(f)
        }

        /// Drops every element.
        pub fn clear(&mut self) {
            self.0.clear()
        }

        /// Shortens to `len`.
        pub fn truncate(&mut self, len: usize) {
            self.0.truncate(len)
        }
    }

    impl<T> Default for KVec<T> {
        fn default() -> Self {
            KVec::new()
        }
    }

    impl<T> Deref for KVec<T> {
        type Target = [T];
        fn deref(&self) -> &[T] {
            &self.0
        }
    }

    impl<T> DerefMut for KVec<T> {
        fn deref_mut(&mut self) -> &mut [T] {
            &mut self.0
        }
    }

    impl<T> IntoIterator for KVec<T> {
        type Item = T;
        type IntoIter = std::vec::IntoIter<T>;
        fn into_iter(self) -> Self::IntoIter {
            self.0.into_iter()
        }
    }

    impl<'a, T> IntoIterator for &'a KVec<T> {
        type Item = &'a T;
        type IntoIter = core::slice::Iter<'a, T>;
        fn into_iter(self) -> Self::IntoIter {
            self.0.iter()
        }
    }

    impl<'a, T> IntoIterator for &'a mut KVec<T> {
        type Item = &'a mut T;
        type IntoIter = core::slice::IterMut<'a, T>;
        fn into_iter(self) -> Self::IntoIter {
            self.0.iter_mut()
        }
    }

    impl<T: fmt::Debug> fmt::Debug for KVec<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.fmt(f)
        }
    }
}
