// SPDX-License-Identifier: GPL-2.0

//! The panic path of an interface: run-to-completion mode and the `panic_op` messages.
//!
//! C counterparts: `panic_event()`, `send_panic_events()` and `_ipmi_panic_request_and_wait()`
//! in [`ipmi_msghandler.c`](srctree/drivers/char/ipmi/ipmi_msghandler.c), and
//! `set_run_to_completion()`, `flush_messages()` and `poll()` in
//! [`ipmi_si_intf.c`](srctree/drivers/char/ipmi/ipmi_si_intf.c).
//!
//! In a panic nothing may sleep, the IRQs are off and the other CPUs are stopped, maybe with
//! the interface's lock held. So [`Interface::panic_enter`] and the sends after it only try the lock (C resets its
//! queues when a `trylock` fails and goes on; ripmi skips that interface, as it cannot use
//! state another CPU may have left half-changed) and keeps it to the end. Under it, the SI
//! state machine of the normal paths ([`Si::event`]) is stepped by a loop that busy-waits
//! [`Clock::PANIC_POLL_US`] (10 µs) between looks ([`Clock::delay_us`], `udelay()` in the
//! kernel) and passes that time on, so the KCS timeouts (5 s a byte, then error recovery, then
//! hosed) count it and end every transaction with a BMC that stopped answering. Each wait is also bounded by
//! [`REQUEST_WAIT_US`]; once a bound is hit, nothing more is sent on that interface.
//!
//! Responses go nowhere but to this path, as C's run-to-completion mode ignores events, Get
//! Message results and Send Message answers; the handler's own queue and sequence table are
//! left as they are (the messages waiting there are not sent; C sends them first).

use kernel::prelude::*;

use super::send::format_remote;
use super::{Clock, HandlerState, IfaceInner, Interface, Regs, Tunables};
use crate::addr::Addr;
use crate::addr::IpmbAddr;
use crate::defs::{IPMI_MAX_MSG_LENGTH, IPMI_SEND_MSG_CMD};
use crate::message::{format_ipmb_msg, format_sysintf_req, Msg};
use crate::panic_msg::{
    add_sel_local, device_caps, event_receiver, platform_event, sel_destination, sel_records,
    PanicOp, SelDest, GET_DEVICE_ID, GET_EVENT_RECEIVER, IPMI_ADD_SEL_ENTRY_CMD,
    IPMI_NETFN_STORAGE_REQUEST,
};
use crate::si::{Next, Si, SiOutput};

/// The longest one request (or the flush before the first) is waited for, in µs: two KCS
/// timeouts. The KCS state machine ends a transaction with a silent BMC well before.
pub(crate) const REQUEST_WAIT_US: u32 = 12_000_000;
/// How long the IPMB answer to the first OEM record is polled for, in µs (C waits for it
/// forever, see `Documentation/panic.rst`, trap T18).
pub(crate) const IPMB_ANSWER_WAIT_US: u32 = 1_000_000;

/// The response caught for the request in flight.
struct Catch {
    buf: [u8; IPMI_MAX_MSG_LENGTH],
    len: Option<usize>,
}

impl Catch {
    fn take(&mut self, out: SiOutput<'_>) {
        if let SiOutput::Response(r) = out {
            let n = r.len().min(self.buf.len());
            self.buf[..n].copy_from_slice(&r[..n]);
            self.len = Some(n);
        }
    }

    fn rsp(&self) -> Option<&[u8]> {
        self.buf.get(..self.len?)
    }
}

/// The SI in run-to-completion mode: the state machine, its registers and the clock that
/// busy-waits.
struct Rc<'a, R: Regs, C: Clock> {
    si: &'a mut Si,
    regs: &'a mut R,
    clock: &'a C,
    catch: Catch,
}

impl<R: Regs, C: Clock> Rc<'_, R, C> {
    /// Steps the SI every [`Clock::PANIC_POLL_US`] until `done` says so, the interface is
    /// hosed, or `limit_us` passed.
    fn poll_until(
        &mut self,
        mut next: Next,
        limit_us: u32,
        done: impl Fn(&Self, Next) -> bool,
    ) -> Polled {
        let mut waited = 0u32;
        loop {
            if done(self, next) {
                return Polled::Done;
            }
            if next == Next::Hosed {
                return Polled::Hosed;
            }
            if waited >= limit_us {
                return Polled::TimedOut;
            }
            self.clock.delay_us(C::PANIC_POLL_US);
            waited = waited.saturating_add(C::PANIC_POLL_US);
            let catch = &mut self.catch;
            next = self
                .si
                .event(self.regs, C::PANIC_POLL_US, &mut |o| catch.take(o));
        }
    }

    /// Finishes what the interface is doing (C `set_run_to_completion()`'s `flush_messages()`);
    /// false if the bound passed.
    fn flush(&mut self) -> bool {
        let catch = &mut self.catch;
        let next = self.si.event(self.regs, 0, &mut |o| catch.take(o));
        self.poll_until(next, REQUEST_WAIT_US, |rc, n| {
            n == Next::Idle && rc.si.is_idle()
        }) != Polled::TimedOut
    }

    /// Sends `req` and polls until its response (C `_ipmi_panic_request_and_wait()`): `None`
    /// when the interface refused it or is hosed, `Err` when the bound passed.
    fn request(&mut self, req: &[u8]) -> Result<Option<&[u8]>, ()> {
        self.catch.len = None;
        let catch = &mut self.catch;
        let Ok(next) = self.si.enqueue(self.regs, req, &mut |o| catch.take(o)) else {
            return Ok(None);
        };
        match self.poll_until(next, REQUEST_WAIT_US, |rc, _| rc.catch.len.is_some()) {
            Polled::Done => Ok(self.catch.rsp()),
            Polled::Hosed => Ok(None),
            Polled::TimedOut => Err(()),
        }
    }
}

/// How a [`Rc::poll_until`] ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Polled {
    Done,
    Hosed,
    TimedOut,
}

impl<R: Regs, C: Clock, P: Tunables> Interface<R, C, P> {
    /// Enters run-to-completion mode for a panic (C `panic_event()`'s first half for one
    /// interface): finishes what the interface is doing and stops its normal operation. Never
    /// sleeps, takes no lock it could wait for, and returns within a bounded time whatever the
    /// BMC does. Leaves the interface stopped, as unbind's shutdown does: call it only from the
    /// panic notifier (and tests). [`Interface::panic_events`] and
    /// [`Interface::panic_request`] then send, if no bound was hit.
    pub(crate) fn panic_enter(&self) {
        let Some(mut guard) = self.inner.try_lock() else {
            return;
        };
        let h = &mut guard.h;
        if h.shutting_down || !h.started || h.pm.sys_suspended {
            return;
        }
        // The timers and the interrupt must not touch the SI again: it may be in the middle of
        // a transaction of ours (in a panic nothing runs after this anyway; a test calls this
        // too).
        h.shutting_down = true;
        h.panicked = true;
        drop(guard);
        self.run_to_completion(|rc, _| rc.flush());
    }

    /// Sends what `op` asks for about a panic whose message is `msg` (without its NUL): C
    /// `send_panic_events()`.
    pub(crate) fn panic_events(&self, op: PanicOp, msg: Option<&[u8]>) {
        self.run_to_completion(|rc, h| {
            op == PanicOp::None
                || send_panic_events(
                    rc,
                    op,
                    msg,
                    h.addrinfo[0].address,
                    h.addrinfo[0].lun(),
                    h.seq.peek_seq().unwrap_or(0),
                )
                .is_ok()
        });
    }

    /// [`Interface::panic_enter`], then [`Interface::panic_events`].
    #[cfg(any(test, ripmi_test))]
    pub(crate) fn panic_send(&self, op: PanicOp, msg: Option<&[u8]>) {
        self.panic_enter();
        self.panic_events(op, msg);
    }

    /// Sends one request to `addr` and polls for its answer, which goes nowhere (C
    /// `_ipmi_panic_request_and_wait()`, which `ipmi_watchdog`'s panic handler calls to give
    /// the crash dump time). Only in a panic, after [`Interface::panic_enter`].
    pub(crate) fn panic_request(&self, addr: &Addr, msg: &Msg<'_>) {
        self.run_to_completion(|rc, h| {
            let req = match addr {
                Addr::SystemInterface { lun } => format_sysintf_req(*lun, msg).map_err(Error::from),
                _ => format_remote(addr, msg, h.seq.peek_seq().unwrap_or(0), h.addrinfo[0]),
            };
            // A request C would refuse is not sent; the interface stays usable.
            req.map_or(true, |req| rc.request(req.as_bytes()).is_ok())
        });
    }

    /// Runs `f` on the SI in run-to-completion mode if the panic path left it usable (the lock
    /// only tried, see the module's doc); `f` says whether it still is (no bound was hit).
    fn run_to_completion(&self, f: impl FnOnce(&mut Rc<'_, R, C>, &HandlerState) -> bool) {
        let Some(mut guard) = self.inner.try_lock() else {
            return;
        };
        let IfaceInner { si, h, regs } = &mut *guard;
        if !h.panicked {
            return;
        }
        let mut rc = Rc {
            si,
            regs,
            clock: &self.clock,
            catch: Catch {
                buf: [0; IPMI_MAX_MSG_LENGTH],
                len: None,
            },
        };
        h.panicked = f(&mut rc, h);
    }
}

/// `send_panic_events()`: the event, then for [`PanicOp::String`] the records. `Err` when a
/// bound was hit (nothing more is sent).
fn send_panic_events<R: Regs, C: Clock>(
    rc: &mut Rc<'_, R, C>,
    op: PanicOp,
    msg: Option<&[u8]>,
    our_addr: u8,
    our_lun: u8,
    ipmb_seq: u8,
) -> Result<(), ()> {
    rc.request(&platform_event(msg))?;
    let Some(msg) = msg.filter(|_| op == PanicOp::String) else {
        return Ok(());
    };
    let (local_sel, generator) = rc
        .request(&GET_DEVICE_ID)?
        .map_or((false, false), device_caps);
    let receiver = if generator {
        rc.request(&GET_EVENT_RECEIVER)?.and_then(event_receiver)
    } else {
        None
    };
    match sel_destination(receiver, our_addr, local_sel) {
        SelDest::Local => {
            for record in sel_records(msg, our_addr) {
                rc.request(&add_sel_local(&record))?;
            }
        }
        SelDest::Ipmb(slave_addr, lun) => {
            // Only the first record: C's Send Message gets its answer, but the IPMB answer it
            // then waits for is ignored in run-to-completion mode, so C never gets past it.
            let Some(record) = sel_records(msg, our_addr).next() else {
                return Ok(());
            };
            let addr = IpmbAddr {
                channel: 0,
                slave_addr,
                lun,
            };
            let m = Msg {
                netfn: IPMI_NETFN_STORAGE_REQUEST,
                cmd: IPMI_ADD_SEL_ENTRY_CMD,
                data: &record,
            };
            let Ok(req) = format_ipmb_msg(&m, &addr, false, ipmb_seq, our_addr, our_lun) else {
                return Ok(());
            };
            debug_assert_eq!(req.as_bytes().get(1), Some(&IPMI_SEND_MSG_CMD));
            rc.request(req.as_bytes())?;
            // Keep polling a while, as C's endless wait does (attention, Get Message), then
            // give up.
            rc.poll_until(Next::Delay, IPMB_ANSWER_WAIT_US, |_, _| false);
        }
        SelDest::Nowhere => {}
    }
    Ok(())
}

/// The panic path over the KCS model.
#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_handler_panic))]
mod tests {
    use super::*;
    use crate::handler::testing::{bring_up, iface, model, now, Irq};
    use crate::kcs::model::Fault;

    const MSG: &[u8] = b"sysrq triggered crash\n";

    /// Whether the last request the model took is `want`.
    fn last_is(i: &crate::handler::testing::TestIface, want: &[u8]) -> bool {
        model(i, |m| m.last_request() == want)
    }

    #[test]
    fn event_only() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        i.panic_send(PanicOp::Event, Some(MSG));
        assert_eq!(model(&i, |m| m.count(0x04, 0x02)), 1);
        assert!(last_is(
            &i,
            &[0x10, 0x02, 0x41, 0x03, 0x20, b's', 0x6f, 0xa1, b'y', b's']
        ));
        assert_eq!(model(&i, |m| m.count(0x06, 0x01)), 0);
        Ok(())
    }

    #[test]
    fn none_sends_nothing() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        let before = model(&i, |m| m.requests());
        i.panic_send(PanicOp::None, Some(MSG));
        assert_eq!(model(&i, |m| m.requests()), before);
        Ok(())
    }

    #[test]
    fn string_goes_to_the_local_sel() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        // Additional Device Support 0x07: a SEL device, not an event generator.
        model(&i, |m| {
            m.set_response_for(
                0x01,
                &[0x1c, 0x01, 0, 0x20, 0, 0, 0, 0x02, 0x07, 0, 0, 0, 0, 0],
            )
        });
        i.panic_send(PanicOp::String, Some(MSG));
        assert_eq!(model(&i, |m| m.count(0x04, 0x02)), 1);
        assert_eq!(model(&i, |m| m.count(0x06, 0x01)), 1);
        assert_eq!(model(&i, |m| m.count(0x04, 0x01)), 0);
        assert_eq!(model(&i, |m| m.count(0x0a, 0x44)), 2);
        let mut want = [
            0x28, 0x44, 0, 0, 0xf0, 0x20, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        want[7..].copy_from_slice(b"ered crash\n");
        assert!(last_is(&i, &want));
        Ok(())
    }

    #[test]
    fn string_without_a_sel_stops_after_device_id() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        i.panic_send(PanicOp::String, Some(MSG));
        assert_eq!(model(&i, |m| m.count(0x06, 0x01)), 1);
        assert_eq!(model(&i, |m| m.count(0x0a, 0x44)), 0);
        Ok(())
    }

    #[test]
    fn string_to_an_ipmb_event_receiver_sends_one_record() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        // An event generator (0x24) whose event receiver is 0x40, LUN 1; Send Message is
        // accepted, but the IPMB answer never comes (trap T18).
        model(&i, |m| {
            m.set_response_for(
                0x01,
                &[0x1c, 0x01, 0, 0x20, 0, 0, 0, 0x02, 0x24, 0, 0, 0, 0, 0],
            );
            m.set_event_receiver(0x40, 0x01);
            m.set_accept_send_msg(true);
        });
        let t0 = now(&i);
        i.panic_send(PanicOp::String, Some(MSG));
        assert_eq!(model(&i, |m| m.count(0x04, 0x01)), 1);
        assert_eq!(model(&i, |m| m.send_messages()), 1);
        // Send Message on channel 0 to 0x40: Add SEL Entry (0x0a, LUN 1) from 0x20, seq 0,
        // LUN 2, the first record.
        let mut want = [0u8; 26];
        want[..9].copy_from_slice(&[0x18, 0x34, 0x00, 0x40, 0x29, 0x97, 0x20, 0x02, 0x44]);
        want[9..14].copy_from_slice(&[0, 0, 0xf0, 0x20, 0]);
        want[14..25].copy_from_slice(b"sysrq trigg");
        want[25] = crate::message::ipmb_checksum(&want[6..25]);
        assert!(last_is(&i, &want));
        // It polled for the answer a bounded while, then stopped.
        assert!(now(&i) - t0 >= u64::from(IPMB_ANSWER_WAIT_US));
        assert!(now(&i) - t0 < u64::from(IPMB_ANSWER_WAIT_US) + 1_000_000);
        Ok(())
    }

    #[test]
    fn a_silent_bmc_does_not_hang_the_panic() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        let t0 = now(&i);
        model(&i, |m| m.set_fault(Fault::NeverAnswers));
        i.panic_send(PanicOp::String, Some(MSG));
        // The KCS timeouts end it; nothing after the event is tried.
        let waited = now(&i) - t0;
        assert!(waited <= u64::from(REQUEST_WAIT_US));
        // It did wait for the answer, as the KCS timeouts allow.
        assert!(waited >= 5_000_000);
        assert_eq!(model(&i, |m| m.count(0x06, 0x01)), 0);
        Ok(())
    }

    #[test]
    fn a_held_lock_skips_the_interface() -> Result {
        let i = iface(false)?;
        bring_up(&i, Irq::Lost)?;
        let before = model(&i, |m| m.requests());
        {
            let _held = i.inner.lock();
            i.panic_send(PanicOp::Event, Some(MSG));
        }
        assert_eq!(model(&i, |m| m.requests()), before);
        Ok(())
    }
}
