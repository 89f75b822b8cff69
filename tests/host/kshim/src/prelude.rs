//! The `kernel` prelude, as far as ripmi's host-built files use it.

pub use core::ffi::CStr;
pub use core::pin::Pin;

pub use pinned_init::{init, pin_data, pin_init, pinned_drop, Init, PinInit, PinnedDrop, Zeroable};

pub use crate::alloc::{flags::*, KBox, KVec};
pub use crate::error::{code::*, Error, Result};
pub use crate::{try_init, try_pin_init};
