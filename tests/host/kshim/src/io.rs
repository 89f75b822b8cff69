//! `kernel::io`: polling.

/// `kernel::io::poll`.
pub mod poll {
    use crate::error::{code::ETIMEDOUT, Result};
    use crate::time::{delay::fsleep, Delta, Instant, Monotonic};

    /// Calls `op` until `cond` holds for its result, sleeping `sleep_delta` in between, for at
    /// most `timeout_delta` (then `ETIMEDOUT`), as the kernel's `read_poll_timeout()`.
    pub fn read_poll_timeout<Op, Cond, T>(
        mut op: Op,
        mut cond: Cond,
        sleep_delta: Delta,
        timeout_delta: Delta,
    ) -> Result<T>
    where
        Op: FnMut() -> Result<T>,
        Cond: FnMut(&T) -> bool,
    {
        let start: Instant<Monotonic> = Instant::now();
        loop {
            let val = op()?;
            if cond(&val) {
                return Ok(val);
            }
            if start.elapsed() > timeout_delta {
                return Err(ETIMEDOUT);
            }
            fsleep(sleep_delta);
        }
    }
}
