// SPDX-License-Identifier: GPL-2.0

//! Power management of an interface: quiesce and resume around a system sleep, runtime suspend
//! with an attention watch, and the state and counters the PM callbacks keep under the
//! interface's lock. The rest of the handler only consults `HandlerState::pm_hold` and
//! `pm.quiescing`.
//!
//! The `dev_pm_ops` callbacks are the platform driver's (`platform.rs`); they reach these
//! methods through `KcsDevice`, which adds the IRQ. The runtime-PM calls go through
//! [`crate::pm`]. `Documentation/pm.rst` has the rules.

use kernel::{io::poll::read_poll_timeout, prelude::*, time::Delta};

use super::{Clock, HandlerState, IfaceInner, Interface, Regs, Tunables, IDLE_POLL_UNWATCHED_USEC};
use crate::defs::Cc;
use crate::kcs::sm::STATUS_ATN;
use crate::pm::PmDevice;
use crate::si::Si;

/// How long a system suspend waits for the transaction in flight before it gives up on it
/// (answering it 0xC3, never re-sending it), in ms. Longer than any healthy KCS transaction;
/// QEMU itself answers 0xC3 for a silent BMC after 4 s.
pub(crate) const QUIESCE_TIMEOUT_MS: u32 = 2000;

/// How often the quiesce looks whether the transaction in flight is over, in ms.
const QUIESCE_POLL_MS: i64 = 1;

/// The longest period of the runtime-suspended attention watch (`rpm_watch_ms`), in ms.
const WATCH_MS_MAX: u32 = 60_000;

/// How often each callback ran, and how the last system suspend went.
#[derive(Default, Clone, Copy)]
pub(crate) struct PmStats {
    pub(crate) prepare: u64,
    /// `prepare` returned 1 (direct-complete allowed).
    pub(crate) prepare_positive: u64,
    pub(crate) suspend: u64,
    pub(crate) resume: u64,
    pub(crate) freeze: u64,
    pub(crate) thaw: u64,
    pub(crate) poweroff: u64,
    pub(crate) restore: u64,
    pub(crate) complete: u64,
    /// `complete` saw `power.direct_complete` set: suspend and resume were skipped.
    pub(crate) direct_complete: u64,
    pub(crate) last_direct_complete: bool,
    pub(crate) runtime_suspend: u64,
    /// `runtime_suspend` refused with `EBUSY` because work was pending.
    pub(crate) runtime_suspend_busy: u64,
    pub(crate) runtime_resume: u64,
    /// Transactions a system suspend gave up waiting for, answered 0xC3.
    pub(crate) failed_at_suspend: u64,
    /// Attention seen by the runtime-suspended watch, which then asked for a resume.
    pub(crate) watch_wakeups: u64,
}

/// Which system-sleep callback is running, for the counters.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Suspend,
    Freeze,
    Poweroff,
    Resume,
    Thaw,
    Restore,
}

/// The PM state of an interface, kept under [`Interface`]'s lock.
pub(crate) struct PmState {
    /// The bound device, for runtime-PM requests; `None` before probe attaches it and after
    /// remove detaches it.
    dev: Option<PmDevice>,
    /// Runtime-suspended: no transactions; only the attention watch reads the status register.
    pub(crate) rpm_suspended: bool,
    /// A system suspend is waiting for the transaction in flight: no new one starts.
    pub(crate) quiescing: bool,
    /// System-suspended: no I/O, timers and IRQ off, until resume.
    pub(crate) sys_suspended: bool,
    /// Between prepare and complete: the attention watch does not re-arm itself.
    in_system_pm: bool,
    /// Period of the attention watch while runtime-suspended, in µs (set with the device).
    watch_us: u32,
    stats: PmStats,
}

impl PmState {
    /// The state of a running interface with no device attached yet.
    pub(crate) fn new() -> Self {
        PmState {
            dev: None,
            rpm_suspended: false,
            quiescing: false,
            sys_suspended: false,
            in_system_pm: false,
            watch_us: IDLE_POLL_UNWATCHED_USEC,
            stats: PmStats::default(),
        }
    }

    /// Asks for a runtime resume of the device, if one is attached (any context).
    pub(crate) fn request_resume(&self) {
        if let Some(dev) = &self.dev {
            dev.request_resume();
        }
    }

    /// Pushes the device's autosuspend expiry back, if one is attached (any context).
    fn mark_last_busy(&self) {
        if let Some(dev) = &self.dev {
            dev.mark_last_busy();
        }
    }
}

impl<R: Regs, C: Clock, P: Tunables> Interface<R, C, P> {
    /// Attaches the bound device, for the runtime-PM requests the handler makes, and the
    /// period of the attention watch while runtime-suspended (`rpm_watch_ms`).
    pub(crate) fn pm_attach(&self, dev: PmDevice, watch_ms: u32) {
        let mut guard = self.inner.lock();
        guard.h.pm.dev = Some(dev);
        guard.h.pm.watch_us = watch_ms.clamp(1, WATCH_MS_MAX) * 1000;
    }

    /// Detaches the device before it is unbound; afterwards the handler makes no PM request.
    pub(crate) fn pm_detach(&self) {
        let dev = self.inner.lock().h.pm.dev.take();
        // Its reference is dropped here, outside the IRQ-safe lock.
        drop(dev);
    }

    /// A snapshot of the PM counters, whether runtime-suspended, and the device.
    pub(crate) fn pm_stats(&self) -> (PmStats, bool, Option<PmDevice>) {
        let guard = self.inner.lock();
        let pm = &guard.h.pm;
        (pm.stats, pm.rpm_suspended, pm.dev.clone())
    }

    /// Counts a system-sleep callback.
    pub(crate) fn pm_count(&self, phase: Phase) {
        let mut guard = self.inner.lock();
        let s = &mut guard.h.pm.stats;
        let count = match phase {
            Phase::Suspend => &mut s.suspend,
            Phase::Freeze => &mut s.freeze,
            Phase::Poweroff => &mut s.poweroff,
            Phase::Resume => &mut s.resume,
            Phase::Thaw => &mut s.thaw,
            Phase::Restore => &mut s.restore,
        };
        *count += 1;
    }

    /// Whether nothing is in flight, queued or waiting for a remote answer, and the one-second
    /// tick has nothing to do.
    pub(crate) fn is_idle(&self) -> bool {
        let guard = self.inner.lock();
        guard.h.pm_idle(&guard.si)
    }

    /// `->prepare`: true (direct-complete may be used) only when runtime-suspended, idle, and
    /// the BMC flags no attention (an incoming message or event waiting to be fetched).
    pub(crate) fn prepare(&self) -> bool {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h, regs } = &mut *guard;
        h.pm.in_system_pm = true;
        h.pm.stats.prepare += 1;
        let direct = !h.shutting_down
            && h.pm.rpm_suspended
            && h.pm.dev.as_ref().is_some_and(|d| d.runtime_suspended())
            && h.pm_idle(si)
            && regs.read_status() & STATUS_ATN == 0;
        if direct {
            h.pm.stats.prepare_positive += 1;
        }
        direct
    }

    /// `->complete`: `direct` says whether the PM core skipped suspend and resume. A
    /// runtime-suspended interface looks for attention at once, for what the BMC queued meanwhile.
    pub(crate) fn complete(&self, direct: bool) {
        let mut guard = self.inner.lock();
        let h = &mut guard.h;
        h.pm.in_system_pm = false;
        h.pm.stats.complete += 1;
        h.pm.stats.last_direct_complete = direct;
        if direct {
            h.pm.stats.direct_complete += 1;
        }
        if h.pm.rpm_suspended && !h.shutting_down {
            self.arm_si_timer(h, self.clock.now_us(), 1);
        }
    }

    /// The attention watch of a runtime-suspended interface (run by the SI timer): reads only the
    /// status register, and asks for a runtime resume when the BMC has something for us.
    pub(super) fn pm_watch(&self, h: &mut HandlerState, regs: &mut R) {
        if !h.pm.rpm_suspended || h.pm.sys_suspended {
            return;
        }
        if regs.read_status() & STATUS_ATN != 0 {
            h.pm.stats.watch_wakeups += 1;
            h.pm.request_resume();
        }
        // Between prepare and complete nothing should run across the system sleep; complete
        // restarts the watch.
        if !h.pm.in_system_pm {
            let us = h.pm_watch_us();
            self.arm_si_timer(h, self.clock.now_us(), us);
        }
    }

    /// `->runtime_suspend`: with work pending, refuses with `EBUSY` and pushes the autosuspend
    /// expiry back (so the PM core tries again later); otherwise stops transactions and polling
    /// and starts the attention watch. The IRQ stays unmasked (the line may be shared): an
    /// interrupt meanwhile is served and asks for a runtime resume.
    pub(crate) fn runtime_suspend(&self) -> Result {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h, regs } = &mut *guard;
        if h.shutting_down || !h.pm_idle(si) || regs.read_status() & STATUS_ATN != 0 {
            h.pm.stats.runtime_suspend_busy += 1;
            h.pm.mark_last_busy();
            return Err(EBUSY);
        }
        h.pm.rpm_suspended = true;
        h.pm.stats.runtime_suspend += 1;
        let now = self.clock.now_us();
        let us = h.pm_watch_us();
        self.arm_si_timer(h, now, us);
        Ok(())
    }

    /// `->runtime_resume`: leaves the watch and runs the state machine, which fetches what the
    /// BMC flagged and starts the queued requests.
    pub(crate) fn runtime_resume(&self) {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h, regs } = &mut *guard;
        h.pm.rpm_suspended = false;
        h.pm.stats.runtime_resume += 1;
        h.pm.mark_last_busy();
        if h.shutting_down || h.pm.sys_suspended {
            return;
        }
        let next = h.run_si(si, regs, &self.clock, self.routing());
        self.after_event(si, h, regs, next);
    }

    /// Quiesces for a system suspend (or hibernation): no new transaction starts (new requests
    /// queue and wait), the one in flight finishes, or after [`QUIESCE_TIMEOUT_MS`] is answered
    /// with 0xC3 (timeout) and abandoned, never sent again (the BMC may have executed it); then
    /// I/O and both timers stop. Process context; the caller masks the IRQ afterwards.
    pub(crate) fn suspend(&self) {
        self.inner.lock().h.pm.quiescing = true;
        let quiesced = read_poll_timeout(
            || Ok(self.try_quiesce(false)),
            |done| *done,
            Delta::from_millis(QUIESCE_POLL_MS),
            Delta::from_millis(QUIESCE_TIMEOUT_MS.into()),
        );
        if quiesced.is_err() {
            self.try_quiesce(true);
        }
        // Callbacks that still run see `sys_suspended` and neither do I/O nor re-arm.
        self.si_timer.cancel();
        self.tick_timer.cancel();
    }

    /// Stops I/O for a system suspend if nothing is in flight, or if `give_up`, answering the
    /// transaction in flight with 0xC3; returns whether it stopped.
    fn try_quiesce(&self, give_up: bool) -> bool {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h, .. } = &mut *guard;
        let idle = h.curr.is_none() && si.is_idle();
        if !idle && !give_up && !h.shutting_down {
            return false;
        }
        if !idle {
            h.fail_current(Cc::TIMEOUT);
            si.reset();
        }
        h.pm.sys_suspended = true;
        h.si_deadline = None;
        h.tick_deadline = None;
        true
    }

    /// Brings the interface back after a system resume (or thaw/restore): re-initialises the
    /// KCS state machine, re-enables the BMC global enables (`Si::start`), restarts the tick if
    /// needed and the waiting requests; attention raised meanwhile is then handled. The caller
    /// unmasks the IRQ first.
    pub(crate) fn resume(&self) -> Result {
        let mut guard = self.inner.lock();
        let IfaceInner { si, h, regs } = &mut *guard;
        h.pm.sys_suspended = false;
        h.pm.quiescing = false;
        if h.shutting_down {
            return Ok(());
        }
        si.reset();
        h.si_busy = false;
        let next = si
            .start(regs, &mut |out| h.on_output(out, self.routing()))
            .map_err(|_| EIO)?;
        self.after_event(si, h, regs, next);
        h.pm.mark_last_busy();
        Ok(())
    }
}

impl HandlerState {
    /// The period of the runtime-suspended attention watch, in µs (`rpm_watch_ms`, or once a
    /// second while nobody watches).
    fn pm_watch_us(&self) -> u32 {
        if self.watched() {
            self.pm.watch_us
        } else {
            self.pm.watch_us.max(IDLE_POLL_UNWATCHED_USEC)
        }
    }

    /// Whether the interface must be left alone for power management; called before any I/O
    /// from an event. Runtime-suspended with work waiting, it asks for a runtime resume (an
    /// `RPM_ASYNC` request, fine in IRQ context). Otherwise notes activity for autosuspend.
    pub(super) fn pm_hold(&mut self, si: &Si) -> bool {
        if self.pm.sys_suspended {
            return true;
        }
        if self.pm.rpm_suspended {
            if !self.outq.is_empty() || self.needs_tick() {
                self.pm.request_resume();
            }
            return true;
        }
        if !self.pm_idle(si) {
            self.pm.mark_last_busy();
        }
        false
    }

    /// Whether there is no work: nothing in flight or queued, no request waiting for a remote
    /// answer, nothing for the tick, and no system transition under way.
    pub(super) fn pm_idle(&self, si: &Si) -> bool {
        self.curr.is_none()
            && self.outq.is_empty()
            && !self.needs_tick()
            && !self.pm.quiescing
            && !self.pm.sys_suspended
            && si.is_idle()
    }

    /// Answers the transaction in flight with `cc` at a system suspend (counted).
    fn fail_current(&mut self, cc: Cc) {
        if self.curr.is_some() {
            self.pm.stats.failed_at_suspend += 1;
        }
        self.answer_current(cc);
    }
}

/// Power management under test.
#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_handler_pm))]
mod tests {
    use super::*;
    use crate::defs::{IPMI_GET_DEVICE_ID_CMD, IPMI_NETFN_APP_REQUEST};
    use crate::handler::testing::*;

    /// Runtime suspend is refused (`EBUSY`, counted) while a request is in flight and taken once
    /// the interface is idle; a request sent while runtime-suspended waits, and goes out after
    /// the runtime resume.
    #[test]
    fn runtime_suspend_waits_for_idle() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        let user = i.create_user()?;
        model(&i, |m| m.set_answer_delay_us(50_000));
        model(&i, |m| {
            m.set_response_for(IPMI_GET_DEVICE_ID_CMD, &DEVICE_ID_RSP)
        });
        send_get_device_id(&i, &user, 1)?;
        assert_eq!(i.runtime_suspend(), Err(EBUSY));
        let (m, _) = wait_answer(&i, &user, 1_000_000, Irq::Lost).ok_or(ETIMEDOUT)?;
        assert_eq!(m.msgid, 1);
        i.runtime_suspend()?;
        model(&i, |m| {
            m.set_response_for(IPMI_GET_DEVICE_ID_CMD, &DEVICE_ID_RSP)
        });
        send_get_device_id(&i, &user, 2)?;
        run(&i, now(&i) + 3_000_000, Irq::Lost);
        assert!(user.pop().is_none());
        i.runtime_resume();
        let (m, _) = wait_answer(&i, &user, 1_000_000, Irq::Lost).ok_or(ETIMEDOUT)?;
        assert_eq!((m.msgid, m.data()), (2, &DEVICE_ID_RSP[2..]));
        let (s, suspended, _) = i.pm_stats();
        assert!(!suspended);
        assert_eq!(
            (s.runtime_suspend, s.runtime_suspend_busy, s.runtime_resume),
            (1, 1, 1)
        );
        i.destroy_user(&user);
        Ok(())
    }

    /// A request still at the BMC when a system suspend gives up waiting is answered once
    /// (0xC3) and never sent again after resume: the BMC executes it at most once.
    #[test]
    fn suspend_never_sends_a_request_twice() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        let user = i.create_user()?;
        model(&i, |m| m.set_answer_delay_us(10_000_000));
        send_get_device_id(&i, &user, 9)?;
        run(&i, now(&i) + 100_000, Irq::Lost);
        let sent = model(&i, |m| {
            m.count(IPMI_NETFN_APP_REQUEST, IPMI_GET_DEVICE_ID_CMD)
        });
        assert_eq!(sent, 1);
        // The virtual clock stands still meanwhile, so the quiesce times out.
        i.suspend();
        i.resume()?;
        model(&i, |m| m.set_answer_delay_us(0));
        run(&i, now(&i) + 20_000_000, Irq::Lost);
        assert_eq!(
            model(&i, |m| m
                .count(IPMI_NETFN_APP_REQUEST, IPMI_GET_DEVICE_ID_CMD)),
            1
        );
        let m = user.pop().ok_or(ENOMSG)?;
        assert_eq!(m.data(), &[Cc::TIMEOUT.0][..]);
        assert!(user.pop().is_none());
        i.destroy_user(&user);
        Ok(())
    }
}
