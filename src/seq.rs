// SPDX-License-Identifier: GPL-2.0

//! The sequence table of outgoing IPMB and LAN requests, their timeouts and retries, and the
//! maintenance-mode state aged on the same timer (pure).
//!
//! C counterpart: `struct seq_table`, `intf_next_seq()`, `intf_find_seq()`,
//! `intf_start_seq_timer()`, `intf_err_seq()`, `check_msg_timeout()`, `ipmi_timeout_handler()`,
//! the timing part of `i_ipmi_req_ipmb()`, the sequence-table part of `_ipmi_destroy_user()`,
//! and `ipmi_set_maintenance_mode()` with the maintenance-mode parts of `i_ipmi_request()` and
//! `i_ipmi_req_sysintf()`, in [`ipmi_msghandler.c`](srctree/drivers/char/ipmi/ipmi_msghandler.c).
//!
//! A request to another channel takes one of 64 slots; the slot number is the IPMB/LAN sequence
//! number on the wire. The handler's internal message id packs the slot and a per-slot counter,
//! so a late answer for an earlier use of the slot is not mistaken for the current one. C keeps
//! the table under `seq_lock` and maintenance mode under a separate spinlock; the kernel glue
//! should do the same with one lock per type here.

use crate::addr::Addr;
use crate::defs::IPMI_NETFN_FIRMWARE_REQUEST;
use crate::error::Errno;
use crate::message::is_maintenance_mode_cmd;

/// `IPMI_IPMB_NUM_SEQ`: the number of sequence-table slots.
pub(crate) const IPMI_IPMB_NUM_SEQ: usize = 64;
/// `MAX_MSG_TIMEOUT`: the timeout of a request until its Send Message is acknowledged, in ms.
pub(crate) const MAX_MSG_TIMEOUT_MS: u32 = 60000;
/// `IPMI_TIMEOUT_TIME`: the period of the timer that ages the table, in ms.
pub(crate) const IPMI_TIMEOUT_MS: u32 = 1000;

/// `IPMI_MAINTENANCE_MODE_AUTO`: maintenance mode follows the commands sent.
pub(crate) const IPMI_MAINTENANCE_MODE_AUTO: i32 = 0;
/// `IPMI_MAINTENANCE_MODE_OFF`: maintenance mode forced off.
pub(crate) const IPMI_MAINTENANCE_MODE_OFF: i32 = 1;
/// `IPMI_MAINTENANCE_MODE_ON`: maintenance mode forced on (firmware state).
pub(crate) const IPMI_MAINTENANCE_MODE_ON: i32 = 2;

/// The module parameters that time requests, as C's `ipmi_msghandler` has them: read when a
/// request is sent (the kernel glue passes the values in effect then), since C reads each of
/// these globals at that point and a sysfs write changes them at any time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timing {
    /// `default_retry_ms`: the time between retries of a request that gives 0, in ms.
    pub(crate) retry_ms: u32,
    /// `default_max_retries`: the retries of a request that gives a negative number.
    pub(crate) max_retries: u32,
    /// `default_maintenance_retry_ms`: the same as `retry_ms` while IPMB maintenance mode is
    /// on, in ms.
    pub(crate) maintenance_retry_ms: u32,
    /// `maintenance_mode_timeout_ms`: how long a maintenance command keeps maintenance mode on
    /// (IPMB and automatic), in ms.
    pub(crate) maintenance_timeout_ms: u32,
}

impl Timing {
    /// C's defaults: 2000 ms, 4 retries, 3000 ms in maintenance mode, which lasts 30 s (the
    /// module's own defaults are those of `src/c/params.c`; these are for tests).
    #[cfg(any(test, ripmi_test))]
    pub(crate) const C_DEFAULTS: Timing = Timing {
        retry_ms: 2000,
        max_retries: 4,
        maintenance_retry_ms: 3000,
        maintenance_timeout_ms: 30000,
    };

    /// The timing given by the parameters' values, whose times are C `unsigned long`s.
    ///
    /// A time is clamped where C would cut it down: the maintenance timeout to `i32::MAX` (C
    /// keeps it in an `int`, where a larger value turns negative and never runs out), the
    /// retry times to `u32::MAX` (C passes the maintenance one as an `unsigned int`; 49 days
    /// either way).
    pub(crate) fn from_params(
        retry_ms: u64,
        max_retries: u32,
        maintenance_retry_ms: u64,
        maintenance_timeout_ms: u64,
    ) -> Self {
        let clamp = |v: u64, max: u32| u32::try_from(v).unwrap_or(max).min(max);
        Timing {
            retry_ms: clamp(retry_ms, u32::MAX),
            max_retries,
            maintenance_retry_ms: clamp(maintenance_retry_ms, u32::MAX),
            maintenance_timeout_ms: clamp(maintenance_timeout_ms, i32::MAX.unsigned_abs()),
        }
    }
}

/// The bits of a message id that hold the slot's use counter (`seqid`).
const SEQID_MASK: u32 = 0x3ff_ffff;

/// Packs a slot and its use counter into a message id, as `STORE_SEQ_IN_MSGID()`.
///
/// The result is `(seq & 0x3f) << 26 | (seqid & 0x3ffffff)`; it always fits in 32 bits.
pub(crate) fn store_seq_in_msgid(seq: u8, seqid: u32) -> u32 {
    ((u32::from(seq) & 0x3f) << 26) | (seqid & SEQID_MASK)
}

/// Splits a message id into slot and use counter, as `GET_SEQ_FROM_MSGID()`.
///
/// C stores the id in a `long`; only its low 32 bits matter, so the glue may truncate it.
pub(crate) const fn get_seq_from_msgid(msgid: u32) -> (u8, u32) {
    (msgid.to_be_bytes()[0] >> 2, msgid & SEQID_MASK)
}

/// What an answer must match to be taken for the answer to a request, as `intf_find_seq()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SeqKey {
    /// The address the request went to, as recorded ([`Addr::recorded`]).
    pub(crate) addr: Addr,
    /// The request's netfn (even).
    pub(crate) netfn: u8,
    /// The request's command.
    pub(crate) cmd: u8,
}

impl SeqKey {
    /// Whether an answer described by `other` matches this request.
    fn matches(&self, other: &SeqKey) -> bool {
        self.addr.channel() == other.addr.channel()
            && self.cmd == other.cmd
            && self.netfn == other.netfn
            && other.addr.matches(&self.addr)
    }
}

/// A slot handed out by [`SeqTable::next_seq`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    /// The sequence number to put on the wire (the slot index, 0 to 63).
    pub(crate) seq: u8,
    /// The slot's use counter, 26 bits.
    pub(crate) seqid: u32,
}

impl Slot {
    /// The internal message id of the Send Message that carries this request.
    pub(crate) fn msgid(&self) -> u32 {
        store_seq_in_msgid(self.seq, self.seqid)
    }
}

/// A slot in use (C's `seq_table` entry with `inuse` set).
struct Entry<T> {
    /// What an answer must match.
    key: SeqKey,
    /// The kernel's message, given back on answer, error or timeout.
    payload: T,
    /// Milliseconds left before the next retry or the timeout.
    timeout_ms: u32,
    /// The time between retries, once a send is acknowledged.
    orig_timeout_ms: u32,
    /// Retries left before the request times out.
    retries_left: u32,
    /// Whether the request is an IPMB broadcast.
    broadcast: bool,
}

/// What the timer found for one expired slot.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Expired<'a, T> {
    /// Send the request again, under internal message id `msgid` (slot and counter unchanged).
    ///
    /// If the send fails, call [`SeqTable::start_timer`] with `msgid`, as C does.
    Resend {
        /// The internal message id of the new Send Message.
        msgid: u32,
        /// The address (for statistics: LAN or IPMB).
        addr: Addr,
        /// The stored message, which holds the formatted bytes to send again.
        payload: &'a T,
    },
    /// Retries are used up: the slot is free, deliver completion code 0xC3 to the owner.
    TimedOut {
        /// The address (for statistics: LAN or IPMB).
        addr: Addr,
        /// Whether it was a broadcast (for statistics).
        broadcast: bool,
        /// The message to answer.
        payload: T,
    },
}

/// The 64-slot sequence table of an interface, with its IPMB maintenance-mode timer.
///
/// `T` is the kernel's handle on the waiting message; the table never looks inside it.
pub(crate) struct SeqTable<T> {
    /// The slots; `None` is a free one.
    entries: [Option<Entry<T>>; IPMI_IPMB_NUM_SEQ],
    /// The use counter of each slot, kept while the slot is free (C's `seqid`).
    seqids: [u32; IPMI_IPMB_NUM_SEQ],
    /// Where the search for a free slot starts (C's `curr_seq`).
    curr_seq: usize,
    /// Milliseconds left of IPMB maintenance mode (C's `ipmb_maintenance_mode_timeout`).
    ipmb_maintenance_ms: u32,
}

impl<T> SeqTable<T> {
    /// An empty table, as `ipmi_add_smi()` sets it up.
    pub(crate) const fn new() -> Self {
        Self {
            entries: [const { None }; IPMI_IPMB_NUM_SEQ],
            seqids: [0; IPMI_IPMB_NUM_SEQ],
            curr_seq: 0,
            ipmb_maintenance_ms: 0,
        }
    }

    /// The slot [`next_seq`](Self::next_seq) would take now, if one is free (the panic path
    /// sends its one IPMB request with it, without taking it).
    pub(crate) fn peek_seq(&self) -> Option<u8> {
        (0..IPMI_IPMB_NUM_SEQ)
            .map(|k| (self.curr_seq + k) % IPMI_IPMB_NUM_SEQ)
            .find(|i| self.entries[*i].is_none())
            .and_then(|i| u8::try_from(i).ok())
    }

    /// The number of slots in use.
    pub(crate) fn in_use(&self) -> usize {
        self.entries.iter().filter(|e| e.is_some()).count()
    }

    /// Milliseconds left of IPMB maintenance mode (0 when it is off).
    #[cfg(any(test, ripmi_test))]
    pub(crate) const fn ipmb_maintenance_ms(&self) -> u32 {
        self.ipmb_maintenance_ms
    }

    /// The retries and retry time of an IPMB request, as `i_ipmi_req_ipmb()` chooses them.
    ///
    /// A broadcast is never retried. A maintenance command (see
    /// [`is_maintenance_mode_cmd`]) turns IPMB maintenance mode on for
    /// `timing.maintenance_timeout_ms` (30 s; 0 turns it off, as in C); while it is on, a retry
    /// time of 0 becomes `timing.maintenance_retry_ms` (3000 ms). Call this for IPMB requests
    /// only (not responses, not LAN), after [`check_request`](crate::message::check_request)
    /// succeeded, then pass the result to [`next_seq`](Self::next_seq).
    pub(crate) fn ipmb_timing(
        &mut self,
        netfn: u8,
        cmd: u8,
        broadcast: bool,
        retries: i32,
        retry_ms: u32,
        timing: &Timing,
    ) -> (i32, u32) {
        let retries = if broadcast { 0 } else { retries };
        if is_maintenance_mode_cmd(netfn, cmd) {
            self.ipmb_maintenance_ms = timing.maintenance_timeout_ms;
        }
        if self.ipmb_maintenance_ms != 0 && retry_ms == 0 {
            (retries, timing.maintenance_retry_ms)
        } else {
            (retries, retry_ms)
        }
    }

    /// Takes the next free slot for a request, as `intf_next_seq()`.
    ///
    /// The search starts after the slot handed out last. `timeout_ms` 0 means
    /// `timing.retry_ms` (2000 ms) and a negative `retries` means `timing.max_retries` (4). The
    /// slot starts with the 60 s timeout; the retry time applies once
    /// [`start_timer`](Self::start_timer) is called. When all 64 slots are in use, the payload
    /// comes back with `EAGAIN`.
    pub(crate) fn next_seq(
        &mut self,
        key: SeqKey,
        timeout_ms: u32,
        retries: i32,
        broadcast: bool,
        payload: T,
        timing: &Timing,
    ) -> Result<Slot, (Errno, T)> {
        let timeout_ms = if timeout_ms == 0 {
            timing.retry_ms
        } else {
            timeout_ms
        };
        let retries = u32::try_from(retries).unwrap_or(timing.max_retries);
        let free = (0..IPMI_IPMB_NUM_SEQ)
            .map(|k| (self.curr_seq + k) % IPMI_IPMB_NUM_SEQ)
            .find(|i| self.entries[*i].is_none())
            .and_then(|i| Some((i, u8::try_from(i).ok()?)));
        let Some((i, seq)) = free else {
            return Err((Errno::Again, payload));
        };
        self.entries[i] = Some(Entry {
            key,
            payload,
            timeout_ms: MAX_MSG_TIMEOUT_MS,
            orig_timeout_ms: timeout_ms,
            retries_left: retries,
            broadcast,
        });
        let seqid = self.seqids[i].wrapping_add(1) & SEQID_MASK;
        self.seqids[i] = seqid;
        self.curr_seq = (i + 1) % IPMI_IPMB_NUM_SEQ;
        Ok(Slot { seq, seqid })
    }

    /// The stored message of slot `seq`, if it is in use.
    pub(crate) fn payload_mut(&mut self, seq: u8) -> Option<&mut T> {
        self.entries
            .get_mut(usize::from(seq))?
            .as_mut()
            .map(|e| &mut e.payload)
    }

    /// Frees slot `seq` and returns its message if it is in use for a request matching `key`.
    ///
    /// As `intf_find_seq()`: `key` is built from the answer (its address, and its netfn with the
    /// response bit cleared); the channel, command, netfn and address must all match.
    pub(crate) fn find_seq(&mut self, seq: u8, key: &SeqKey) -> Option<T> {
        let slot = self.entries.get_mut(usize::from(seq))?;
        if slot.as_ref().is_some_and(|e| e.key.matches(key)) {
            slot.take().map(|e| e.payload)
        } else {
            None
        }
    }

    /// The slot that `msgid` names, if it is still in use by that request.
    fn slot_of(&mut self, msgid: u32) -> Option<&mut Option<Entry<T>>> {
        let (seq, seqid) = get_seq_from_msgid(msgid);
        let i = usize::from(seq);
        if self.seqids.get(i) != Some(&seqid) {
            return None;
        }
        self.entries.get_mut(i).filter(|e| e.is_some())
    }

    /// Starts the retry timer once the BMC took the Send Message, as `intf_start_seq_timer()`.
    ///
    /// Returns whether `msgid` still named a request in the table.
    pub(crate) fn start_timer(&mut self, msgid: u32) -> bool {
        match self.slot_of(msgid) {
            Some(Some(e)) => {
                e.timeout_ms = e.orig_timeout_ms;
                true
            }
            _ => false,
        }
    }

    /// Frees the slot of a request whose Send Message failed for good, as `intf_err_seq()`.
    ///
    /// Returns the message, to be answered with the completion code (C's
    /// `deliver_err_response()`: `data = [cc]`, `netfn | 1`), or `None` if `msgid` is stale.
    pub(crate) fn err_seq(&mut self, msgid: u32) -> Option<T> {
        self.slot_of(msgid)?.take().map(|e| e.payload)
    }

    /// Frees every slot whose message `pred` selects, passing each to `removed`.
    ///
    /// This is the sequence-table part of `_ipmi_destroy_user()`.
    pub(crate) fn remove_if(
        &mut self,
        mut pred: impl FnMut(&T) -> bool,
        mut removed: impl FnMut(T),
    ) {
        for slot in self.entries.iter_mut() {
            if slot.as_ref().is_some_and(|e| pred(&e.payload)) {
                if let Some(e) = slot.take() {
                    removed(e.payload);
                }
            }
        }
    }

    /// Ages the table by `period_ms`, as `ipmi_timeout_handler()` and `check_msg_timeout()`.
    ///
    /// IPMB maintenance mode counts down first. Then each slot in use, in slot order: if more
    /// than `period_ms` is left, it is decremented; otherwise, with retries left, one retry is
    /// used, the timeout goes back to 60 s and `expired` gets [`Expired::Resend`]; without, the
    /// slot is freed and `expired` gets [`Expired::TimedOut`]. Returns whether the timer is still
    /// needed for the table (C's `need_timer`).
    pub(crate) fn tick(&mut self, period_ms: u32, mut expired: impl FnMut(Expired<'_, T>)) -> bool {
        self.ipmb_maintenance_ms = self.ipmb_maintenance_ms.saturating_sub(period_ms);
        let mut need_timer = false;
        for (i, slot) in self.entries.iter_mut().enumerate() {
            let Some(e) = slot.as_mut() else {
                continue;
            };
            if period_ms < e.timeout_ms {
                e.timeout_ms = e.timeout_ms.saturating_sub(period_ms);
                need_timer = true;
            } else if e.retries_left > 0 {
                need_timer = true;
                e.timeout_ms = MAX_MSG_TIMEOUT_MS;
                e.retries_left = e.retries_left.saturating_sub(1);
                let seq = u8::try_from(i).unwrap_or(0);
                expired(Expired::Resend {
                    msgid: store_seq_in_msgid(seq, self.seqids[i]),
                    addr: e.key.addr,
                    payload: &e.payload,
                });
            } else if let Some(e) = slot.take() {
                expired(Expired::TimedOut {
                    addr: e.key.addr,
                    broadcast: e.broadcast,
                    payload: e.payload,
                });
            }
        }
        need_timer
    }
}

/// The maintenance-mode state of an interface (C's `maintenance_mode_state`), in C's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum MaintenanceState {
    /// Normal operation.
    Off,
    /// Firmware is being updated: the system interface should use long timeouts.
    Firmware,
    /// The BMC is being reset: requests fail with `EBUSY`.
    Reset,
}

/// Maintenance mode of an interface: the user's setting and the automatic state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Maintenance {
    /// The mode set by `IPMICTL_SET_MAINTENANCE_MODE_CMD` (0 auto, 1 off, 2 on).
    mode: i32,
    /// The current state.
    state: MaintenanceState,
    /// Milliseconds left of automatic maintenance mode; may go negative, as C's `int`.
    auto_timeout_ms: i64,
}

impl Maintenance {
    /// Automatic mode, off, as a new interface starts.
    pub(crate) const fn new() -> Self {
        Self {
            mode: IPMI_MAINTENANCE_MODE_AUTO,
            state: MaintenanceState::Off,
            auto_timeout_ms: 0,
        }
    }

    /// The mode `IPMICTL_GET_MAINTENANCE_MODE_CMD` reports, as `ipmi_get_maintenance_mode()`.
    pub(crate) const fn mode(&self) -> i32 {
        self.mode
    }

    /// The current state.
    #[cfg(any(test, ripmi_test))]
    pub(crate) const fn state(&self) -> MaintenanceState {
        self.state
    }

    /// Whether the system interface should be in firmware (long-timeout) mode.
    ///
    /// This is the argument of C's `set_maintenance_mode` handler call.
    #[cfg(any(test, ripmi_test))]
    pub(crate) fn in_firmware(&self) -> bool {
        self.state == MaintenanceState::Firmware
    }

    /// The state as C numbers it (0 off, 1 firmware, 2 reset) and the auto timeout in ms, as
    /// the `maintenance_mode` file shows them.
    pub(crate) fn sysfs(&self) -> (u32, i64) {
        (self.state as u32, self.auto_timeout_ms)
    }

    /// Whether any maintenance state is on: the timer must run and no events are requested.
    pub(crate) fn is_active(&self) -> bool {
        self.state != MaintenanceState::Off
    }

    /// Fails with `EBUSY` while the BMC is being reset, as `i_ipmi_request()`.
    pub(crate) fn check_request(&self) -> Result<(), Errno> {
        if self.state == MaintenanceState::Reset {
            Err(Errno::Busy)
        } else {
            Ok(())
        }
    }

    /// Sets the mode, as `ipmi_set_maintenance_mode()`.
    ///
    /// Auto keeps the state, off clears it, on sets the firmware state; any other value gives
    /// `EINVAL` (unless it equals the current mode, which is a no-op in C). Returns whether the
    /// system interface must be told [`in_firmware`](Self::in_firmware) again.
    pub(crate) fn set_mode(&mut self, mode: i32) -> Result<bool, Errno> {
        if self.mode == mode {
            return Ok(false);
        }
        match mode {
            IPMI_MAINTENANCE_MODE_AUTO => {}
            IPMI_MAINTENANCE_MODE_OFF => self.state = MaintenanceState::Off,
            IPMI_MAINTENANCE_MODE_ON => self.state = MaintenanceState::Firmware,
            _ => return Err(Errno::Inval),
        }
        self.mode = mode;
        Ok(true)
    }

    /// Notes a request to the system interface, as `i_ipmi_req_sysintf()`.
    ///
    /// Call it once [`check_request`](crate::message::check_request) accepted the request and
    /// before [`format_sysintf_req`](crate::message::format_sysintf_req), as C updates the state
    /// even when the message then proves too long. A maintenance command restarts the countdown
    /// at `timing.maintenance_timeout_ms` (30 s); in auto mode it raises the state to firmware
    /// (firmware netfn) or reset (Cold or Warm Reset). With a timeout of 0 the state, once
    /// raised, stays until the mode is set by hand, as in C (its timer only counts down a
    /// positive timeout). Returns whether the state changed: then tell the system interface
    /// [`in_firmware`](Self::in_firmware) and make sure the timer runs.
    pub(crate) fn note_sysintf_cmd(&mut self, netfn: u8, cmd: u8, timing: &Timing) -> bool {
        if !is_maintenance_mode_cmd(netfn, cmd) {
            return false;
        }
        let new_state = if netfn == IPMI_NETFN_FIRMWARE_REQUEST {
            MaintenanceState::Firmware
        } else {
            MaintenanceState::Reset
        };
        self.auto_timeout_ms = i64::from(timing.maintenance_timeout_ms);
        if self.mode == IPMI_MAINTENANCE_MODE_AUTO && self.state < new_state {
            self.state = new_state;
            return true;
        }
        false
    }

    /// Ages automatic maintenance mode by `period_ms`, as the end of `ipmi_timeout_handler()`.
    ///
    /// When the countdown runs out in auto mode the state goes back to off. Returns whether it
    /// did (then tell the system interface).
    pub(crate) fn tick(&mut self, period_ms: u32) -> bool {
        if self.auto_timeout_ms <= 0 {
            return false;
        }
        self.auto_timeout_ms = self.auto_timeout_ms.saturating_sub(i64::from(period_ms));
        if self.mode == IPMI_MAINTENANCE_MODE_AUTO && self.auto_timeout_ms <= 0 {
            self.state = MaintenanceState::Off;
            self.auto_timeout_ms = 0;
            return true;
        }
        false
    }
}

#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_seq))]
mod tests {
    use super::*;
    use crate::addr::{IpmbAddr, LanAddr, TEST_LAN};

    /// The key of a request to IPMB 0x40 LUN 0 on channel 0.
    fn key(netfn: u8, cmd: u8) -> SeqKey {
        SeqKey {
            addr: Addr::Ipmb(IpmbAddr {
                channel: 0,
                slave_addr: 0x40,
                lun: 0,
            }),
            netfn,
            cmd,
        }
    }

    /// Counts of what one tick reported: (resends, timed-out payload, its broadcast flag).
    fn tick(t: &mut SeqTable<u32>) -> (u32, Option<u32>, bool) {
        let mut resends = 0;
        let mut timed_out = None;
        let mut broadcast = false;
        t.tick(IPMI_TIMEOUT_MS, |e| match e {
            Expired::Resend { .. } => resends += 1,
            Expired::TimedOut {
                payload,
                broadcast: b,
                ..
            } => {
                timed_out = Some(payload);
                broadcast = b;
            }
        });
        (resends, timed_out, broadcast)
    }

    /// C's default timing.
    const C: &Timing = &Timing::C_DEFAULTS;

    /// Takes a slot for `payload` with the given timing, or `None` if the table is full.
    fn take(t: &mut SeqTable<u32>, timeout_ms: u32, retries: i32, payload: u32) -> Option<Slot> {
        t.next_seq(key(0x06, 0x01), timeout_ms, retries, false, payload, C)
            .ok()
    }

    #[test]
    fn msgid_round_trip() {
        assert_eq!(store_seq_in_msgid(5, 1), (5 << 26) | 1);
        assert_eq!(get_seq_from_msgid((5 << 26) | 1), (5, 1));
        assert_eq!(store_seq_in_msgid(63, 0x3ff_ffff), 0xffff_ffff);
        assert_eq!(get_seq_from_msgid(0xffff_ffff), (63, 0x3ff_ffff));
        // Out-of-range parts are masked as in C.
        assert_eq!(store_seq_in_msgid(64, 0x400_0001), 1);
        let slot = Slot {
            seq: 17,
            seqid: 0x12345,
        };
        assert_eq!(get_seq_from_msgid(slot.msgid()), (17, 0x12345));
    }

    #[test]
    fn slots_rotate() {
        let mut t = SeqTable::<u32>::new();
        let a = take(&mut t, 0, -1, 100);
        assert_eq!(a, Some(Slot { seq: 0, seqid: 1 }));
        assert_eq!(take(&mut t, 0, -1, 101), Some(Slot { seq: 1, seqid: 1 }));
        // Freeing slot 0 does not make it the next one: the search goes on from slot 2.
        assert_eq!(t.err_seq(store_seq_in_msgid(0, 1)), Some(100));
        assert_eq!(take(&mut t, 0, -1, 102), Some(Slot { seq: 2, seqid: 1 }));
        assert_eq!(t.in_use(), 2);
    }

    #[test]
    fn slots_wrap_and_count_uses() {
        let mut t = SeqTable::<u32>::new();
        let mut n = 0;
        while n < 64 && take(&mut t, 0, -1, n).is_some() {
            n += 1;
        }
        assert_eq!(t.in_use(), 64);
        // Free slot 10; the search wraps past 63 and finds it, on its second use.
        assert_eq!(t.find_seq(10, &key(0x06, 0x01)), Some(10));
        let s = take(&mut t, 0, -1, 99);
        assert_eq!(s, Some(Slot { seq: 10, seqid: 2 }));
        assert_eq!(s.map(|s| s.msgid()), Some((10 << 26) | 2));
        // The one after it is now the first candidate.
        assert_eq!(t.find_seq(5, &key(0x06, 0x01)), Some(5));
        assert_eq!(t.find_seq(11, &key(0x06, 0x01)), Some(11));
        assert_eq!(take(&mut t, 0, -1, 98), Some(Slot { seq: 11, seqid: 2 }));
    }

    #[test]
    fn full_table_is_eagain() {
        let mut t = SeqTable::<u32>::new();
        let mut n = 0;
        while n < 100 && take(&mut t, 0, -1, n).is_some() {
            n += 1;
        }
        assert_eq!(n, 64);
        // The payload comes back with the error, so the caller can free it.
        let r = t.next_seq(key(0x06, 0x01), 0, -1, false, 777, C);
        assert_eq!(r, Err((Errno::Again, 777)));
        assert_eq!(t.in_use(), 64);
    }

    #[test]
    fn find_matches_like_c() {
        let mut t = SeqTable::<u32>::new();
        let s = take(&mut t, 0, -1, 42);
        assert_eq!(s.map(|s| s.seq), Some(0));
        // Wrong command, netfn, slave address, LUN, channel or slot: not found, still in use.
        assert_eq!(t.find_seq(0, &key(0x06, 0x02)), None);
        assert_eq!(t.find_seq(0, &key(0x0a, 0x01)), None);
        let mut other = key(0x06, 0x01);
        other.addr = Addr::Ipmb(IpmbAddr {
            channel: 0,
            slave_addr: 0x42,
            lun: 0,
        });
        assert_eq!(t.find_seq(0, &other), None);
        other.addr = Addr::Ipmb(IpmbAddr {
            channel: 0,
            slave_addr: 0x40,
            lun: 1,
        });
        assert_eq!(t.find_seq(0, &other), None);
        other.addr = Addr::Ipmb(IpmbAddr {
            channel: 1,
            slave_addr: 0x40,
            lun: 0,
        });
        assert_eq!(t.find_seq(0, &other), None);
        assert_eq!(t.find_seq(1, &key(0x06, 0x01)), None);
        assert_eq!(t.find_seq(64, &key(0x06, 0x01)), None);
        assert_eq!(t.find_seq(255, &key(0x06, 0x01)), None);
        assert_eq!(t.in_use(), 1);
        // The match frees the slot; a duplicate answer finds nothing.
        assert_eq!(t.find_seq(0, &key(0x06, 0x01)), Some(42));
        assert_eq!(t.find_seq(0, &key(0x06, 0x01)), None);
        assert_eq!(t.in_use(), 0);
    }

    #[test]
    fn find_lan_ignores_privilege() {
        let mut t = SeqTable::<u32>::new();
        let lan = TEST_LAN;
        let sent = SeqKey {
            addr: Addr::Lan(lan),
            netfn: 0x0a,
            cmd: 0x10,
        };
        let s = t.next_seq(sent, 0, -1, false, 7, C).ok();
        assert_eq!(s.map(|s| s.seq), Some(0));
        let answer = SeqKey {
            addr: Addr::Lan(LanAddr {
                privilege: 0,
                ..lan
            }),
            ..sent
        };
        assert_eq!(t.find_seq(0, &answer), Some(7));
    }

    #[test]
    fn stale_msgids_are_ignored() {
        let mut t = SeqTable::<u32>::new();
        let first = take(&mut t, 0, -1, 1).map(|s| s.msgid()).unwrap_or(0);
        assert_eq!(t.err_seq(first), Some(1));
        // Free slot: nothing to start or fail.
        assert!(!t.start_timer(first));
        assert_eq!(t.err_seq(first), None);
        // Walk the table round to slot 0 again: its counter moved on, so the old id is stale.
        let mut n = 0;
        let mut again = None;
        while n < 64 {
            let s = take(&mut t, 0, -1, 2);
            if s.map(|s| s.seq) == Some(0) {
                again = s;
            }
            n += 1;
        }
        assert_eq!(again, Some(Slot { seq: 0, seqid: 2 }));
        assert!(!t.start_timer(first));
        assert_eq!(t.err_seq(first), None);
        let current = again.map(|s| s.msgid()).unwrap_or(0);
        assert!(t.start_timer(current));
        assert_eq!(t.err_seq(current), Some(2));
    }

    #[test]
    fn default_timeout_retries_then_c3() {
        // Defaults: 2000 ms, 4 retries, so five sends in all and 0xC3 after the last.
        let mut t = SeqTable::<u32>::new();
        let msgid = take(&mut t, 0, -1, 9).map(|s| s.msgid()).unwrap_or(0);
        let mut resends = 0;
        while resends < 4 {
            assert!(t.start_timer(msgid));
            assert_eq!(tick(&mut t), (0, None, false));
            assert_eq!(tick(&mut t), (1, None, false));
            resends += 1;
        }
        assert!(t.start_timer(msgid));
        assert_eq!(tick(&mut t), (0, None, false));
        assert_eq!(tick(&mut t), (0, Some(9), false));
        assert_eq!(t.in_use(), 0);
        assert!(!t.tick(IPMI_TIMEOUT_MS, |_| {}));
    }

    #[test]
    fn resend_reports_slot_msgid() {
        let mut t = SeqTable::<u32>::new();
        let _ = take(&mut t, 0, -1, 1);
        let msgid = take(&mut t, 1000, 1, 2).map(|s| s.msgid()).unwrap_or(0);
        assert!(t.start_timer(msgid));
        let mut seen = None;
        // 1000 ms is not less than the 1000 ms period, so one tick expires it.
        let need = t.tick(IPMI_TIMEOUT_MS, |e| {
            if let Expired::Resend { msgid, payload, .. } = e {
                seen = Some((msgid, *payload));
            }
        });
        assert!(need);
        assert_eq!(seen, Some((msgid, 2)));
    }

    #[test]
    fn unacknowledged_send_waits_60s() {
        // Until the BMC takes the Send Message the slot has the 60 s timeout.
        let mut t = SeqTable::<u32>::new();
        let _ = take(&mut t, 0, -1, 3);
        let mut ticks = 0;
        while ticks < 59 && tick(&mut t) == (0, None, false) {
            ticks += 1;
        }
        assert_eq!(ticks, 59);
        assert_eq!(tick(&mut t), (1, None, false));
    }

    #[test]
    fn settime_overrides_defaults() {
        // SEND_COMMAND_SETTIME with 0 retries and 5000 ms: one send, 0xC3 after five ticks.
        let mut t = SeqTable::<u32>::new();
        let msgid = take(&mut t, 5000, 0, 4).map(|s| s.msgid()).unwrap_or(0);
        assert!(t.start_timer(msgid));
        let mut ticks = 0;
        while ticks < 4 && tick(&mut t) == (0, None, false) {
            ticks += 1;
        }
        assert_eq!(ticks, 4);
        assert_eq!(tick(&mut t), (0, Some(4), false));
    }

    #[test]
    fn broadcast_is_not_retried() {
        let mut t = SeqTable::<u32>::new();
        let (retries, retry_ms) = t.ipmb_timing(0x06, 0x01, true, 3, 0, C);
        assert_eq!((retries, retry_ms), (0, 0));
        let s = t.next_seq(key(0x06, 0x01), retry_ms, retries, true, 5, C);
        let msgid = s.map(|s| s.msgid()).unwrap_or(0);
        assert!(t.start_timer(msgid));
        assert_eq!(tick(&mut t), (0, None, false));
        assert_eq!(tick(&mut t), (0, Some(5), true));
    }

    #[test]
    fn ipmb_maintenance_timing() {
        let mut t = SeqTable::<u32>::new();
        assert_eq!(t.ipmb_timing(0x06, 0x01, false, -1, 0, C), (-1, 0));
        // A Cold Reset over IPMB switches to the 3000 ms default for 30 s.
        assert_eq!(t.ipmb_timing(0x06, 0x02, false, -1, 0, C), (-1, 3000));
        assert_eq!(t.ipmb_maintenance_ms(), 30000);
        assert_eq!(t.ipmb_timing(0x06, 0x01, false, 2, 0, C), (2, 3000));
        // An explicit retry time wins.
        assert_eq!(t.ipmb_timing(0x06, 0x01, false, -1, 1500, C), (-1, 1500));
        let mut ticks = 0;
        while ticks < 29 {
            let _ = t.tick(IPMI_TIMEOUT_MS, |_| {});
            ticks += 1;
        }
        assert_eq!(t.ipmb_maintenance_ms(), 1000);
        assert_eq!(t.ipmb_timing(0x06, 0x01, false, -1, 0, C), (-1, 3000));
        let _ = t.tick(IPMI_TIMEOUT_MS, |_| {});
        assert_eq!(t.ipmb_maintenance_ms(), 0);
        assert_eq!(t.ipmb_timing(0x06, 0x01, false, -1, 0, C), (-1, 0));
        // Firmware netfn counts too.
        assert_eq!(t.ipmb_timing(0x08, 0x20, false, -1, 0, C), (-1, 3000));
    }

    #[test]
    fn maintenance_retry_time_applies() {
        // In IPMB maintenance mode a request is retried every 3 s instead of 2 s.
        let mut t = SeqTable::<u32>::new();
        let (retries, retry_ms) = t.ipmb_timing(0x08, 0x01, false, -1, 0, C);
        let s = t.next_seq(key(0x08, 0x01), retry_ms, retries, false, 6, C);
        let msgid = s.map(|s| s.msgid()).unwrap_or(0);
        assert!(t.start_timer(msgid));
        assert_eq!(tick(&mut t), (0, None, false));
        assert_eq!(tick(&mut t), (0, None, false));
        assert_eq!(tick(&mut t), (1, None, false));
    }

    #[test]
    fn payload_access_and_user_teardown() {
        let mut t = SeqTable::<u32>::new();
        let mut n = 0;
        while n < 6 {
            let _ = take(&mut t, 0, -1, n);
            n += 1;
        }
        if let Some(p) = t.payload_mut(2) {
            *p = 1002;
        }
        assert_eq!(t.payload_mut(2).copied(), Some(1002));
        assert_eq!(t.payload_mut(6).copied(), None);
        assert_eq!(t.payload_mut(200).copied(), None);
        // Remove the odd payloads, as when their user closes the device.
        let mut removed = 0;
        let mut sum = 0;
        t.remove_if(
            |p| p % 2 == 1,
            |p| {
                removed += 1;
                sum += p;
            },
        );
        assert_eq!((removed, sum), (3, 1 + 3 + 5));
        assert_eq!(t.in_use(), 3);
        assert_eq!(t.find_seq(2, &key(0x06, 0x01)), Some(1002));
        assert_eq!(t.find_seq(1, &key(0x06, 0x01)), None);
    }

    #[test]
    fn auto_maintenance_reset() {
        let mut m = Maintenance::new();
        assert_eq!(m.mode(), IPMI_MAINTENANCE_MODE_AUTO);
        assert!(!m.is_active());
        assert_eq!(m.check_request(), Ok(()));
        assert!(!m.note_sysintf_cmd(0x06, 0x01, C));
        // A Cold Reset to the BMC blocks requests for 30 s.
        assert!(m.note_sysintf_cmd(0x06, 0x02, C));
        assert_eq!(m.state(), MaintenanceState::Reset);
        assert!(m.is_active());
        assert!(!m.in_firmware());
        assert_eq!(m.check_request(), Err(Errno::Busy));
        // A firmware command does not lower the state.
        assert!(!m.note_sysintf_cmd(0x08, 0x01, C));
        assert_eq!(m.state(), MaintenanceState::Reset);
        let mut ticks = 0;
        while ticks < 29 && !m.tick(IPMI_TIMEOUT_MS) {
            ticks += 1;
        }
        assert_eq!(ticks, 29);
        assert_eq!(m.check_request(), Err(Errno::Busy));
        assert!(m.tick(IPMI_TIMEOUT_MS));
        assert_eq!(m.state(), MaintenanceState::Off);
        assert_eq!(m.check_request(), Ok(()));
        assert!(!m.tick(IPMI_TIMEOUT_MS));
    }

    #[test]
    fn auto_maintenance_firmware_then_reset() {
        let mut m = Maintenance::new();
        assert!(m.note_sysintf_cmd(0x08, 0x01, C));
        assert_eq!(m.state(), MaintenanceState::Firmware);
        assert!(m.in_firmware());
        assert_eq!(m.check_request(), Ok(()));
        // Each maintenance command restarts the 30 s countdown.
        let mut ticks = 0;
        while ticks < 20 {
            assert!(!m.tick(IPMI_TIMEOUT_MS));
            ticks += 1;
        }
        assert!(m.note_sysintf_cmd(0x06, 0x03, C));
        assert_eq!(m.state(), MaintenanceState::Reset);
        ticks = 0;
        while ticks < 29 && !m.tick(IPMI_TIMEOUT_MS) {
            ticks += 1;
        }
        assert_eq!(ticks, 29);
        assert!(m.tick(IPMI_TIMEOUT_MS));
        assert!(!m.is_active());
    }

    #[test]
    fn maintenance_mode_ioctl() {
        let mut m = Maintenance::new();
        // Only 0, 1 and 2 are accepted.
        assert_eq!(m.set_mode(3), Err(Errno::Inval));
        assert_eq!(m.set_mode(-1), Err(Errno::Inval));
        assert_eq!(m.mode(), IPMI_MAINTENANCE_MODE_AUTO);
        assert_eq!(m.set_mode(IPMI_MAINTENANCE_MODE_AUTO), Ok(false));
        assert_eq!(m.set_mode(IPMI_MAINTENANCE_MODE_ON), Ok(true));
        assert_eq!(m.mode(), 2);
        assert!(m.in_firmware());
        // Forced on: a reset command neither changes the state nor ends it on timeout.
        assert!(!m.note_sysintf_cmd(0x06, 0x02, C));
        let mut ticks = 0;
        while ticks < 40 {
            assert!(!m.tick(IPMI_TIMEOUT_MS));
            ticks += 1;
        }
        assert_eq!(m.state(), MaintenanceState::Firmware);
        assert_eq!(m.set_mode(IPMI_MAINTENANCE_MODE_ON), Ok(false));
        assert_eq!(m.set_mode(IPMI_MAINTENANCE_MODE_OFF), Ok(true));
        assert_eq!(m.state(), MaintenanceState::Off);
        // Back to auto: the state stays as it is.
        assert_eq!(m.set_mode(IPMI_MAINTENANCE_MODE_AUTO), Ok(true));
        assert_eq!(m.state(), MaintenanceState::Off);
        // Forcing off ends a reset at once.
        assert!(m.note_sysintf_cmd(0x06, 0x02, C));
        assert_eq!(m.check_request(), Err(Errno::Busy));
        assert_eq!(m.set_mode(IPMI_MAINTENANCE_MODE_OFF), Ok(true));
        assert_eq!(m.check_request(), Ok(()));
    }

    /// Ticks until `msgid`'s slot is answered or freed, restarting its timer after each resend
    /// as the BMC's Send Message answer would; returns the sends (the first one included) and
    /// the ticks it took until the 0xC3.
    fn sends_until_timeout(t: &mut SeqTable<u32>, msgid: u32) -> (u32, u32) {
        let (mut sends, mut ticks) = (1, 0);
        assert!(t.start_timer(msgid));
        while ticks < 1000 {
            ticks += 1;
            match tick(t) {
                (1, None, _) => {
                    sends += 1;
                    assert!(t.start_timer(msgid));
                }
                (0, Some(_), _) => return (sends, ticks),
                _ => {}
            }
        }
        (sends, ticks)
    }

    /// `default_max_retries` 0: a request that gives no number of retries is sent once, and
    /// times out after `default_retry_ms`; a request that gives its own numbers keeps them.
    #[test]
    fn timing_defaults_come_from_the_parameters() {
        let mut t = SeqTable::<u32>::new();
        let once = Timing {
            max_retries: 0,
            ..Timing::C_DEFAULTS
        };
        let msgid = t.next_seq(key(0x06, 0x01), 0, -1, false, 1, &once);
        let msgid = msgid.map(|s| s.msgid()).unwrap_or(0);
        assert_eq!(sends_until_timeout(&mut t, msgid), (1, 2));
        // The C defaults: five sends, 2 s apart.
        let msgid = take(&mut t, 0, -1, 2).map(|s| s.msgid()).unwrap_or(0);
        assert_eq!(sends_until_timeout(&mut t, msgid), (5, 10));
        // A 1 s retry time and 2 retries: three sends, each timed out at the next tick.
        let quick = Timing {
            retry_ms: 1000,
            max_retries: 2,
            ..Timing::C_DEFAULTS
        };
        let msgid = t.next_seq(key(0x06, 0x01), 0, -1, false, 3, &quick);
        let msgid = msgid.map(|s| s.msgid()).unwrap_or(0);
        assert_eq!(sends_until_timeout(&mut t, msgid), (3, 3));
        // Given numbers win over the parameters.
        let msgid = t.next_seq(key(0x06, 0x01), 3000, 1, false, 4, &once);
        let msgid = msgid.map(|s| s.msgid()).unwrap_or(0);
        assert_eq!(sends_until_timeout(&mut t, msgid), (2, 6));
        assert_eq!(t.in_use(), 0);
    }

    /// `maintenance_mode_timeout_ms` sets how long IPMB maintenance mode lasts, and
    /// `default_maintenance_retry_ms` the retry time meanwhile; a timeout of 0 never turns it on.
    #[test]
    fn maintenance_timing_comes_from_the_parameters() {
        let mut t = SeqTable::<u32>::new();
        let short = Timing {
            maintenance_retry_ms: 4000,
            maintenance_timeout_ms: 5000,
            ..Timing::C_DEFAULTS
        };
        assert_eq!(t.ipmb_timing(0x06, 0x02, false, -1, 0, &short), (-1, 4000));
        assert_eq!(t.ipmb_maintenance_ms(), 5000);
        let mut ticks = 0;
        while ticks < 5 {
            assert_eq!(t.ipmb_timing(0x06, 0x01, false, -1, 0, &short), (-1, 4000));
            let _ = t.tick(IPMI_TIMEOUT_MS, |_| {});
            ticks += 1;
        }
        assert_eq!(t.ipmb_timing(0x06, 0x01, false, -1, 0, &short), (-1, 0));
        let never = Timing {
            maintenance_timeout_ms: 0,
            ..Timing::C_DEFAULTS
        };
        assert_eq!(t.ipmb_timing(0x06, 0x02, false, -1, 0, &never), (-1, 0));
        assert_eq!(t.ipmb_maintenance_ms(), 0);
    }

    /// Automatic maintenance mode lasts `maintenance_mode_timeout_ms` as it was when the
    /// maintenance command went out; with 0 it never ends by itself, as in C.
    #[test]
    fn auto_maintenance_timeout_comes_from_the_parameter() {
        let mut m = Maintenance::new();
        let short = Timing {
            maintenance_timeout_ms: 3000,
            ..Timing::C_DEFAULTS
        };
        assert!(m.note_sysintf_cmd(0x06, 0x02, &short));
        assert!(!m.tick(IPMI_TIMEOUT_MS));
        assert!(!m.tick(IPMI_TIMEOUT_MS));
        assert!(m.tick(IPMI_TIMEOUT_MS));
        assert_eq!(m.check_request(), Ok(()));
        let zero = Timing {
            maintenance_timeout_ms: 0,
            ..Timing::C_DEFAULTS
        };
        assert!(m.note_sysintf_cmd(0x06, 0x02, &zero));
        let mut ticks = 0;
        while ticks < 100 {
            assert!(!m.tick(IPMI_TIMEOUT_MS));
            ticks += 1;
        }
        assert_eq!(m.check_request(), Err(Errno::Busy));
        assert_eq!(m.set_mode(IPMI_MAINTENANCE_MODE_OFF), Ok(true));
        assert_eq!(m.check_request(), Ok(()));
    }

    /// The parameters' `unsigned long` times are kept as they are up to what the fields hold,
    /// and clamped beyond.
    #[test]
    fn timing_from_parameter_values() {
        assert_eq!(
            Timing::from_params(2000, 4, 3000, 30000),
            Timing::C_DEFAULTS
        );
        let big = Timing::from_params(u64::MAX, u32::MAX, 1 << 32, 1 << 31);
        assert_eq!(big.retry_ms, u32::MAX);
        assert_eq!(big.max_retries, u32::MAX);
        assert_eq!(big.maintenance_retry_ms, u32::MAX);
        assert_eq!(big.maintenance_timeout_ms, 0x7fff_ffff);
        assert_eq!(
            Timing::from_params(0, 0, 0, 0x7fff_ffff).maintenance_timeout_ms,
            0x7fff_ffff
        );
    }
}
