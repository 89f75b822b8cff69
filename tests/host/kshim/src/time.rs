//! `kernel::time`: monotonic instants, durations, and sleeping.

use core::marker::PhantomData;
use core::ops;

/// The time unit of the kernel's timers (`unsigned long` jiffies).
pub type Jiffies = core::ffi::c_ulong;

/// Nanoseconds per microsecond.
pub const NSEC_PER_USEC: i64 = 1_000;

/// Converts milliseconds to jiffies, rounding up (the kernel's `msecs_to_jiffies()`).
pub fn msecs_to_jiffies(msecs: u32) -> Jiffies {
    let hz = crate::bindings::CONFIG_HZ as Jiffies;
    (Jiffies::from(msecs) * hz).div_ceil(1_000)
}

/// A clock (`ClockSource`).
pub trait ClockSource {}

/// `CLOCK_MONOTONIC`.
pub struct Monotonic;

impl ClockSource for Monotonic {}

/// A point in time of the clock `C`.
pub struct Instant<C: ClockSource> {
    t: std::time::Instant,
    _c: PhantomData<C>,
}

impl<C: ClockSource> Clone for Instant<C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<C: ClockSource> Copy for Instant<C> {}

impl<C: ClockSource> Instant<C> {
    /// Now.
    pub fn now() -> Self {
        Instant {
            t: std::time::Instant::now(),
            _c: PhantomData,
        }
    }

    /// The time since this instant.
    pub fn elapsed(&self) -> Delta {
        Self::now() - *self
    }
}

impl<C: ClockSource> ops::Sub for Instant<C> {
    type Output = Delta;
    fn sub(self, other: Self) -> Delta {
        let nanos = if self.t >= other.t {
            i64::try_from((self.t - other.t).as_nanos()).unwrap_or(i64::MAX)
        } else {
            -i64::try_from((other.t - self.t).as_nanos()).unwrap_or(i64::MAX)
        };
        Delta { nanos }
    }
}

/// A signed span of time, in ns.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Delta {
    nanos: i64,
}

impl Delta {
    /// `micros` µs.
    pub const fn from_micros(micros: i64) -> Self {
        Delta {
            nanos: micros.saturating_mul(1_000),
        }
    }

    /// `millis` ms.
    pub const fn from_millis(millis: i64) -> Self {
        Delta {
            nanos: millis.saturating_mul(1_000_000),
        }
    }

    /// In ns.
    pub const fn as_nanos(self) -> i64 {
        self.nanos
    }

    /// In µs (rounded up).
    pub const fn as_micros_ceil(self) -> i64 {
        self.nanos.saturating_add(999) / 1_000
    }

    /// In ms (rounded down).
    pub const fn as_millis(self) -> i64 {
        self.nanos / 1_000_000
    }
}

/// `kernel::time::delay`.
pub mod delay {
    use super::Delta;

    /// Sleeps for at least `delta` (`fsleep()`).
    pub fn fsleep(delta: Delta) {
        let ns = u64::try_from(delta.as_nanos()).unwrap_or(0);
        std::thread::sleep(std::time::Duration::from_nanos(ns));
    }

    /// Busy-waits for `delta` (`udelay()`); the host does nothing.
    pub fn udelay(_delta: Delta) {}
}
