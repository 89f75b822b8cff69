// SPDX-License-Identifier: GPL-2.0

//! When to look at the KCS registers again while a transaction waits on the BMC.
//!
//! Without an interrupt, nothing tells the host that the BMC took a byte (IBF clear) or has the
//! response ready (OBF set): the driver has to look. C starts `kipmid`, a thread that sleeps
//! 100-200 µs between looks while a transaction runs (`usleep_range(100, 200)`); ripmi used the
//! 250 µs SI timer, a `timer_list` that rounds up to a jiffy (4 ms at HZ=250), so every wait cost
//! at least 4 ms. [`PollPacer`] paces the looks of a high-resolution timer instead:
//!
//! - a wait is first looked at after [`FIRST_POLL_US`]: a BMC takes a byte of the handshake in
//!   microseconds (FreeBSD's KCS driver starts at 4 µs and backs off);
//! - the wait for the response (the KCS in its read phase, before OBF) jumps to 3/4 of the
//!   response time learned from earlier transactions: a BMC answers in much the same time from
//!   one request to the next, and the jump skips the looks that would find nothing;
//! - after that, each look follows the last by a quarter of the time waited so far, within
//!   [`FIRST_POLL_US`]..[`POLL_CAP_US`]: a response is seen at most 25% (or 150 µs) late, and a
//!   wait of `t` costs about `log(t) / log(1.25)` looks at first, then one per 150 µs;
//! - past `max_busy_us` of one wait (module parameter `poll_max_busy_us`, 0 = no limit, as C's
//!   `kipmid_max_busy_us`), looks drop to one per [`SLOW_POLL_US`]. The limit is passed in at
//!   each look, so a value written to the parameter applies from the next look on, as C's
//!   `ipmi_thread_busy_wait()` reads its parameter on each pass.
//!
//! The learned time is a lower envelope: it follows a quicker response at once (halfway per
//! transaction) and a slower one slowly (1/8 per transaction), so a quick command after slow ones
//! is not held back by a jump far past its answer. Timeouts do not depend on any of this: they
//! count the elapsed time of the clock (`src/handler/mod.rs`).

/// The first look at a new wait, in µs.
pub(crate) const FIRST_POLL_US: u32 = 4;
/// The longest gap between two looks during a wait, in µs (kipmid sleeps 100-200 µs).
pub(crate) const POLL_CAP_US: u32 = 150;
/// The gap between looks past `max_busy_us` of one wait, in µs: a jiffy at HZ=250, which is what
/// kipmid sleeps past `kipmid_max_busy_us`.
pub(crate) const SLOW_POLL_US: u32 = 4_000;

/// What the state machine waits for (it returned "call with delay").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// A byte of the handshake (IBF to clear, or OBF of a status byte).
    Handshake,
    /// The response: the request went out and the BMC is working on it.
    Response,
}

/// Paces the looks at a waiting KCS interface (see the module documentation).
pub(crate) struct PollPacer {
    /// The wait being paced: when it began, what it is, and the state machine's progress count
    /// then (a different count means the wait ended and another began).
    wait: Option<(u64, Wait, u32)>,
    /// The learned response time in µs (0: none yet).
    response_us: u32,
}

impl PollPacer {
    /// A pacer that has seen no wait yet.
    pub(crate) const fn new() -> Self {
        PollPacer {
            wait: None,
            response_us: 0,
        }
    }

    /// The learned response time in µs (0 until a response was waited for).
    #[cfg(any(test, ripmi_test))]
    pub(crate) fn response_us(&self) -> u32 {
        self.response_us
    }

    /// After a run of the state machine at `now` (µs) that left it waiting for `what`, with its
    /// progress count at `progress`: how long until the next look, in µs. Past `max_busy_us` of
    /// the wait (0: never), looks slow down to [`SLOW_POLL_US`].
    pub(crate) fn next_look_us(
        &mut self,
        now: u64,
        what: Wait,
        progress: u32,
        max_busy_us: u32,
    ) -> u32 {
        let start = match self.wait {
            Some((start, kind, p)) if p == progress && kind == what => start,
            _ => {
                self.end_wait(now);
                self.wait = Some((now, what, progress));
                now
            }
        };
        let waited = u32::try_from(now.saturating_sub(start)).unwrap_or(u32::MAX);
        if max_busy_us != 0 && waited >= max_busy_us {
            return SLOW_POLL_US;
        }
        if waited == 0 {
            return FIRST_POLL_US;
        }
        let jump_to = self.response_us / 4 * 3;
        if what == Wait::Response && waited < jump_to {
            return jump_to - waited;
        }
        (waited / 4).clamp(FIRST_POLL_US, POLL_CAP_US)
    }

    /// The state machine is no longer waiting (it went idle or moved on) at `now`: a response
    /// wait that ends here teaches the pacer how long the BMC takes.
    pub(crate) fn end_wait(&mut self, now: u64) {
        let Some((start, what, _)) = self.wait.take() else {
            return;
        };
        if what != Wait::Response {
            return;
        }
        let took = u32::try_from(now.saturating_sub(start)).unwrap_or(u32::MAX);
        self.response_us = match self.response_us {
            0 => took,
            // Quicker: follow at once (halfway).
            learned if took < learned => learned - (learned - took) / 2,
            // Slower: follow slowly.
            learned => learned + (took - learned) / 8,
        };
    }
}

#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_poll))]
mod tests {
    use super::*;

    /// Looks at a wait that ends at `ends` µs after `start` (progress 1 during it), from the
    /// pacer's first look on; returns the looks taken and when the end was seen.
    fn wait_for(p: &mut PollPacer, start: u64, ends: u64, what: Wait) -> (u32, u64) {
        let mut t = start;
        let mut looks = 0;
        while t < start + ends {
            t += u64::from(p.next_look_us(t, what, 1, 0));
            looks += 1;
            assert!(looks < 10_000);
        }
        p.end_wait(t);
        (looks, t - start)
    }

    #[test]
    fn a_new_wait_is_looked_at_after_a_few_microseconds() {
        let mut p = PollPacer::new();
        assert_eq!(p.next_look_us(1_000, Wait::Handshake, 7, 0), FIRST_POLL_US);
        // Progress: another wait, looked at as soon again.
        assert_eq!(p.next_look_us(1_004, Wait::Handshake, 8, 0), FIRST_POLL_US);
    }

    #[test]
    fn looks_back_off_to_a_quarter_of_the_wait_and_the_cap() {
        let mut p = PollPacer::new();
        p.next_look_us(0, Wait::Handshake, 1, 0);
        assert_eq!(p.next_look_us(4, Wait::Handshake, 1, 0), FIRST_POLL_US);
        assert_eq!(p.next_look_us(100, Wait::Handshake, 1, 0), 25);
        assert_eq!(p.next_look_us(10_000, Wait::Handshake, 1, 0), POLL_CAP_US);
    }

    #[test]
    fn a_response_is_seen_at_most_a_quarter_late() {
        let mut p = PollPacer::new();
        for ends in [40u64, 465, 900, 3_000] {
            let (_, seen) = wait_for(&mut p, 10_000 * ends, ends, Wait::Response);
            let late = seen - ends;
            assert!(late <= (ends / 4).max(u64::from(FIRST_POLL_US)) + 1);
        }
    }

    #[test]
    fn the_learned_response_time_saves_looks() {
        let mut p = PollPacer::new();
        let (first, _) = wait_for(&mut p, 0, 465, Wait::Response);
        let (later, seen) = wait_for(&mut p, 10_000, 465, Wait::Response);
        assert!(later <= 4 && later < first);
        assert!(seen - 465 <= 465 / 4);
        // Handshakes do not use (or change) it.
        let learned = p.response_us();
        assert_eq!(p.next_look_us(20_000, Wait::Handshake, 2, 0), FIRST_POLL_US);
        p.end_wait(20_100);
        assert_eq!(p.response_us(), learned);
    }

    #[test]
    fn the_learned_time_follows_quicker_answers_at_once_and_slower_ones_slowly() {
        let mut p = PollPacer::new();
        p.next_look_us(0, Wait::Response, 1, 0);
        p.end_wait(800);
        assert_eq!(p.response_us(), 800);
        p.next_look_us(1_000, Wait::Response, 2, 0);
        p.end_wait(1_200);
        assert_eq!(p.response_us(), 500);
        p.next_look_us(2_000, Wait::Response, 3, 0);
        p.end_wait(3_300);
        assert_eq!(p.response_us(), 600);
    }

    #[test]
    fn past_max_busy_looks_slow_down() {
        let mut p = PollPacer::new();
        p.next_look_us(0, Wait::Response, 1, 1_000);
        assert_eq!(p.next_look_us(999, Wait::Response, 1, 1_000), POLL_CAP_US);
        assert_eq!(
            p.next_look_us(1_000, Wait::Response, 1, 1_000),
            SLOW_POLL_US
        );
        // A new wait is fast again.
        assert_eq!(
            p.next_look_us(5_000, Wait::Response, 2, 1_000),
            FIRST_POLL_US
        );
    }

    /// The limit is read at each look (the module parameter may be written at any time): set
    /// during a wait it applies at once, and 0 again lifts it.
    #[test]
    fn a_changed_max_busy_applies_from_the_next_look() {
        let mut p = PollPacer::new();
        p.next_look_us(0, Wait::Handshake, 1, 0);
        assert_eq!(p.next_look_us(2_000, Wait::Handshake, 1, 0), POLL_CAP_US);
        assert_eq!(p.next_look_us(2_150, Wait::Handshake, 1, 500), SLOW_POLL_US);
        assert_eq!(p.next_look_us(6_150, Wait::Handshake, 1, 0), POLL_CAP_US);
        assert_eq!(
            p.next_look_us(6_300, Wait::Handshake, 1, 10_000),
            POLL_CAP_US
        );
    }
}
