// SPDX-License-Identifier: GPL-2.0

//! The KCS byte-level state machine (pure), a port of `ipmi_kcs_sm.c`.
//!
//! C counterpart: [`ipmi_kcs_sm.c`](srctree/drivers/char/ipmi/ipmi_kcs_sm.c), with the result
//! codes of [`ipmi_si_sm.h`](srctree/drivers/char/ipmi/ipmi_si_sm.h).
//!
//! This is the host-side flow chart of IPMI v2.0 section 9.15, divided into sections delimited by
//! "wait for IBF", exactly as the C code does it. [`KcsSm::event`] is called from an interrupt, a
//! timer or a polling loop with the time that passed since the previous call; it does one step of
//! register I/O and says when it wants to be called again ([`SmResult`]).
//!
//! The registers are reached through [`KcsRegisters`], so the same code drives the real port I/O in
//! the kernel and the simulated BMC of [`super::model`] in tests.
//!
//! Differences from C, all deliberate:
//! - Time is only what the caller passes in `elapsed_us`: the ERROR0 wait (`error0_timeout`, two
//!   seconds of jiffies in C) is measured on a clock advanced by those calls, so a caller that
//!   passes 0 forever never ends that wait. The kernel glue must pass real elapsed time from its
//!   timer.
//! - [`KcsSm::get_result`] never writes outside the caller's buffer; C writes `data[2]` for a
//!   truncated result even when the buffer is shorter than 3 bytes.
//! - There is no `kcs_debug` logging.

use crate::defs::{Cc, IPMI_MAX_MSG_LENGTH};

/// The largest response the state machine keeps (`MAX_KCS_READ_SIZE`).
const MAX_KCS_READ_SIZE: usize = IPMI_MAX_MSG_LENGTH;

/// The largest request the state machine sends (`MAX_KCS_WRITE_SIZE`).
const MAX_KCS_WRITE_SIZE: usize = IPMI_MAX_MSG_LENGTH;

/// Microseconds in a second (`USEC_PER_SEC`).
const USEC_PER_SEC: i64 = 1_000_000;

/// How long to wait for IBF to clear, in microseconds (`IBF_RETRY_TIMEOUT`).
pub(crate) const IBF_RETRY_TIMEOUT: i64 = 5 * USEC_PER_SEC;

/// How long to wait for OBF to be set, in microseconds (`OBF_RETRY_TIMEOUT`).
pub(crate) const OBF_RETRY_TIMEOUT: i64 = 5 * USEC_PER_SEC;

/// Error recoveries allowed in one transaction before the interface is hosed (`MAX_ERROR_RETRIES`).
pub(crate) const MAX_ERROR_RETRIES: u32 = 2;

/// How long ERROR0 waits for a stuck OBF, in microseconds (`ERROR0_OBF_WAIT_JIFFIES`, `2*HZ`).
pub(crate) const ERROR0_OBF_WAIT_US: u64 = 2_000_000;

/// Control code: get status, or abort the transfer in progress (`KCS_GET_STATUS_ABORT`).
pub(crate) const KCS_GET_STATUS_ABORT: u8 = 0x60;
/// Control code: the first byte of a write transfer follows (`KCS_WRITE_START`).
pub(crate) const KCS_WRITE_START: u8 = 0x61;
/// Control code: the next data byte is the last of the write transfer (`KCS_WRITE_END`).
pub(crate) const KCS_WRITE_END: u8 = 0x62;
/// Data byte the host writes to ask for the next response byte (`KCS_READ_BYTE`).
pub(crate) const KCS_READ_BYTE: u8 = 0x68;

/// Status bits 7:6: the interface is idle (`KCS_IDLE_STATE`).
pub(crate) const KCS_IDLE_STATE: u8 = 0;
/// Status bits 7:6: the BMC is sending a response (`KCS_READ_STATE`).
pub(crate) const KCS_READ_STATE: u8 = 1;
/// Status bits 7:6: the BMC is taking a request (`KCS_WRITE_STATE`).
pub(crate) const KCS_WRITE_STATE: u8 = 2;
/// Status bits 7:6: the BMC saw a protocol error (`KCS_ERROR_STATE`).
#[cfg(any(test, ripmi_test))]
pub(crate) const KCS_ERROR_STATE: u8 = 3;

/// Status bit: the BMC has something for system software, SMS_ATN (`GET_STATUS_ATN`).
pub(crate) const STATUS_ATN: u8 = 0x04;
/// Status bit: input buffer full, the BMC has not yet taken the last write (`GET_STATUS_IBF`).
pub(crate) const STATUS_IBF: u8 = 0x02;
/// Status bit: output buffer full, a byte waits in the data register (`GET_STATUS_OBF`).
pub(crate) const STATUS_OBF: u8 = 0x01;

/// The interface state in bits 7:6 of a status byte (`GET_STATUS_STATE`).
pub(crate) const fn get_status_state(status: u8) -> u8 {
    (status >> 6) & 0x03
}

/// Access to the two KCS registers: data at base, status/command at base plus the spacing.
pub(crate) trait KcsRegisters {
    /// Reads the status register (C `read_status()`).
    fn read_status(&mut self) -> u8;
    /// Reads the data-out register, which clears OBF (C `read_data()`).
    fn read_data(&mut self) -> u8;
    /// Writes a control code to the command register, which sets IBF (C `write_cmd()`).
    fn write_cmd(&mut self, v: u8);
    /// Writes the data-in register, which sets IBF (C `write_data()`).
    fn write_data(&mut self, v: u8);
}

/// What the caller should do after an event, mirroring C `enum si_sm_result`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SmResult {
    /// Call again at once (`SI_SM_CALL_WITHOUT_DELAY`).
    CallWithoutDelay,
    /// Wait a little before calling again (`SI_SM_CALL_WITH_DELAY`).
    CallWithDelay,
    /// Wait at least one tick before calling again (`SI_SM_CALL_WITH_TICK_DELAY`).
    CallWithTickDelay,
    /// A transaction finished; fetch it with [`KcsSm::get_result`] (`SI_SM_TRANSACTION_COMPLETE`).
    TransactionComplete,
    /// Nothing is going on (`SI_SM_IDLE`).
    Idle,
    /// The hardware broke the protocol too often; the machine reset itself (`SI_SM_HOSED`).
    Hosed,
    /// The machine is idle and the BMC asserts SMS_ATN (`SI_SM_ATTN`).
    Attn,
}

/// The states of the host-side KCS flow chart (C `enum kcs_states`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KcsState {
    /// Doing nothing (`KCS_IDLE`).
    Idle,
    /// The request is buffered; nothing has touched the interface yet, wait for the initial IBF
    /// (`KCS_START_OP`).
    StartOp,
    /// WRITE_START has been written (`KCS_WAIT_WRITE_START`).
    WaitWriteStart,
    /// Request bytes are being written (`KCS_WAIT_WRITE`).
    WaitWrite,
    /// WRITE_END has been written and the last byte is still to go (`KCS_WAIT_WRITE_END`).
    WaitWriteEnd,
    /// Waiting for response bytes (`KCS_WAIT_READ`).
    WaitRead,
    /// Entering error recovery; wait for OBF to clear (`KCS_ERROR0`).
    Error0,
    /// GET_STATUS/ABORT has been written (`KCS_ERROR1`).
    Error1,
    /// The 0x00 data byte of the abort has been written; wait for read state (`KCS_ERROR2`).
    Error2,
    /// The status byte has been read; wait for idle (`KCS_ERROR3`).
    Error3,
    /// The hardware failed to follow the state machine (`KCS_HOSED`).
    Hosed,
}

/// The KCS state machine of one interface (C `struct si_sm_data`).
///
/// # Invariants
///
/// `write_pos + write_count <= orig_write_count <= MAX_KCS_WRITE_SIZE` and
/// `read_pos <= MAX_KCS_READ_SIZE`.
pub(crate) struct KcsSm {
    state: KcsState,
    write_data: [u8; MAX_KCS_WRITE_SIZE],
    write_pos: usize,
    write_count: usize,
    orig_write_count: usize,
    read_data: [u8; MAX_KCS_READ_SIZE],
    read_pos: usize,
    truncated: bool,
    error_retries: u32,
    ibf_timeout: i64,
    obf_timeout: i64,
    /// The clock of this machine: the sum of every `elapsed_us` passed to [`KcsSm::event`]. It
    /// stands in for `jiffies`.
    clock_us: u64,
    /// When ERROR0 stops waiting for OBF, on `clock_us` (`error0_timeout`).
    error0_timeout: u64,
}

impl KcsSm {
    /// Creates an idle state machine (C `init_kcs_data()`).
    pub(crate) const fn new() -> Self {
        KcsSm {
            state: KcsState::Idle,
            write_data: [0; MAX_KCS_WRITE_SIZE],
            write_pos: 0,
            write_count: 0,
            orig_write_count: 0,
            read_data: [0; MAX_KCS_READ_SIZE],
            read_pos: 0,
            truncated: false,
            error_retries: 0,
            ibf_timeout: IBF_RETRY_TIMEOUT,
            obf_timeout: OBF_RETRY_TIMEOUT,
            clock_us: 0,
            error0_timeout: 0,
        }
    }

    /// Resets the bookkeeping to idle, keeping the buffers (C `init_kcs_data()`).
    fn init_kcs_data(&mut self) {
        self.state = KcsState::Idle;
        self.write_pos = 0;
        self.write_count = 0;
        self.orig_write_count = 0;
        self.read_pos = 0;
        self.error_retries = 0;
        self.truncated = false;
        self.ibf_timeout = IBF_RETRY_TIMEOUT;
        self.obf_timeout = OBF_RETRY_TIMEOUT;
    }

    /// The current state of the flow chart.
    pub(crate) fn state(&self) -> KcsState {
        self.state
    }

    /// Whether the request went out and no response byte came yet: the BMC is working on it.
    pub(crate) fn awaits_response(&self) -> bool {
        self.state == KcsState::WaitRead && self.read_pos == 0
    }

    /// Whether the request is being written: a KCS interrupt comes only with OBF, so these waits
    /// (for IBF to clear) raise none.
    pub(crate) fn is_writing(&self) -> bool {
        matches!(
            self.state,
            KcsState::StartOp
                | KcsState::WaitWriteStart
                | KcsState::WaitWrite
                | KcsState::WaitWriteEnd
        )
    }

    /// Writes the next request byte (C `write_next_byte()`).
    fn write_next_byte(&mut self, regs: &mut impl KcsRegisters) {
        // The invariant keeps `write_pos` in bounds; `get` only avoids a panic path.
        let byte = self.write_data.get(self.write_pos).copied().unwrap_or(0);
        regs.write_data(byte);
        self.write_pos = self.write_pos.saturating_add(1);
        self.write_count = self.write_count.saturating_sub(1);
    }

    /// Counts an error and enters ERROR0, or HOSED past the limit (C `start_error_recovery()`).
    fn start_error_recovery(&mut self) {
        self.error_retries = self.error_retries.saturating_add(1);
        if self.error_retries > MAX_ERROR_RETRIES {
            self.state = KcsState::Hosed;
        } else {
            self.error0_timeout = self.clock_us.saturating_add(ERROR0_OBF_WAIT_US);
            self.state = KcsState::Error0;
        }
    }

    /// Reads one response byte and asks for the next (C `read_next_byte()`).
    fn read_next_byte(&mut self, regs: &mut impl KcsRegisters) {
        let byte = regs.read_data();
        match self.read_data.get_mut(self.read_pos) {
            Some(slot) => {
                *slot = byte;
                self.read_pos = self.read_pos.saturating_add(1);
            }
            // Throw the data away and mark it truncated.
            None => self.truncated = true,
        }
        regs.write_data(KCS_READ_BYTE);
    }

    /// Returns true when IBF is clear, or when waiting for it timed out and recovery started
    /// (C `check_ibf()`).
    fn check_ibf(&mut self, status: u8, time: i64) -> bool {
        if status & STATUS_IBF != 0 {
            self.ibf_timeout = self.ibf_timeout.saturating_sub(time);
            if self.ibf_timeout < 0 {
                self.start_error_recovery();
                self.ibf_timeout = IBF_RETRY_TIMEOUT;
                return true;
            }
            return false;
        }
        self.ibf_timeout = IBF_RETRY_TIMEOUT;
        true
    }

    /// Returns true when OBF is set, or when waiting for it timed out and recovery started
    /// (C `check_obf()`).
    fn check_obf(&mut self, status: u8, time: i64) -> bool {
        if status & STATUS_OBF == 0 {
            self.obf_timeout = self.obf_timeout.saturating_sub(time);
            if self.obf_timeout < 0 {
                self.obf_timeout = OBF_RETRY_TIMEOUT;
                self.start_error_recovery();
                return true;
            }
            return false;
        }
        self.obf_timeout = OBF_RETRY_TIMEOUT;
        true
    }

    /// Starts the buffered request again from WRITE_START (C `restart_kcs_transaction()`).
    fn restart_kcs_transaction(&mut self, regs: &mut impl KcsRegisters) {
        self.write_count = self.orig_write_count;
        self.write_pos = 0;
        self.read_pos = 0;
        self.state = KcsState::WaitWriteStart;
        self.ibf_timeout = IBF_RETRY_TIMEOUT;
        self.obf_timeout = OBF_RETRY_TIMEOUT;
        regs.write_cmd(KCS_WRITE_START);
    }

    /// Buffers a request, `[netfn << 2 | lun, cmd, data...]`, to be sent by the next events
    /// (C `start_kcs_transaction()`).
    ///
    /// Fails with 0xC7 for fewer than 2 bytes, 0xC8 for more than 272, and 0xD5 while another
    /// transaction is in progress. A hosed machine takes new requests.
    pub(crate) fn start_transaction(&mut self, data: &[u8]) -> Result<(), Cc> {
        if data.len() < 2 {
            return Err(Cc::REQ_LEN_INVALID);
        }
        let Some(dst) = self.write_data.get_mut(..data.len()) else {
            return Err(Cc::REQ_LEN_EXCEEDED);
        };
        if self.state != KcsState::Idle && self.state != KcsState::Hosed {
            return Err(Cc::NOT_IN_MY_STATE);
        }
        dst.copy_from_slice(data);
        self.error_retries = 0;
        self.write_count = data.len();
        self.orig_write_count = data.len();
        self.write_pos = 0;
        self.read_pos = 0;
        self.state = KcsState::StartOp;
        self.ibf_timeout = IBF_RETRY_TIMEOUT;
        self.obf_timeout = OBF_RETRY_TIMEOUT;
        Ok(())
    }

    /// Copies the response of the finished transaction into `out` and returns its length
    /// (C `get_kcs_result()`).
    ///
    /// As in C: a result cut to fit `out` has 0xC6 in byte 2; with room for 3 bytes, a response
    /// shorter than 3 is padded to 3 with 0xFF in byte 2 (bytes 0 and 1 of `out` are then left as
    /// they were, where the BMC sent nothing).
    pub(crate) fn get_result(&mut self, out: &mut [u8]) -> usize {
        if out.len() < self.read_pos {
            self.read_pos = out.len();
            self.truncated = true;
        }
        let n = self.read_pos;
        if let (Some(dst), Some(src)) = (out.get_mut(..n), self.read_data.get(..n)) {
            dst.copy_from_slice(src);
        }
        if out.len() >= 3 && self.read_pos < 3 {
            // Guarantee that we return at least 3 bytes, with an error in the third byte if it is
            // too short.
            if let Some(cc) = out.get_mut(2) {
                *cc = Cc::UNSPECIFIED.0;
            }
            self.read_pos = 3;
        }
        if self.truncated {
            // Report a truncated error. We might overwrite another error, but that's too bad,
            // the user needs to know it was truncated.
            if let Some(cc) = out.get_mut(2) {
                *cc = Cc::MSG_TRUNCATED.0;
            }
            self.truncated = false;
        }
        self.read_pos
    }

    /// Runs one step of the flow chart; `elapsed_us` is the time since the previous call
    /// (C `kcs_event()`).
    pub(crate) fn event(&mut self, regs: &mut impl KcsRegisters, elapsed_us: u32) -> SmResult {
        let time = i64::from(elapsed_us);
        self.clock_us = self.clock_us.saturating_add(u64::from(elapsed_us));

        let mut status = regs.read_status();

        // All states wait for IBF, so just do it here.
        if !self.check_ibf(status, time) {
            return SmResult::CallWithDelay;
        }

        // Just about everything looks at the KCS state, so grab that, too.
        let state = get_status_state(status);

        match self.state {
            KcsState::Idle => {
                // If there's an interrupt source, turn it off.
                clear_obf(regs, status);
                return if status & STATUS_ATN != 0 {
                    SmResult::Attn
                } else {
                    SmResult::Idle
                };
            }
            KcsState::StartOp => {
                if state != KCS_IDLE_STATE {
                    // State machine not idle at start.
                    self.start_error_recovery();
                } else {
                    clear_obf(regs, status);
                    regs.write_cmd(KCS_WRITE_START);
                    self.state = KcsState::WaitWriteStart;
                }
            }
            KcsState::WaitWriteStart => {
                if state != KCS_WRITE_STATE {
                    // Not in write state at write start.
                    self.start_error_recovery();
                } else {
                    regs.read_data();
                    if self.write_count == 1 {
                        regs.write_cmd(KCS_WRITE_END);
                        self.state = KcsState::WaitWriteEnd;
                    } else {
                        self.write_next_byte(regs);
                        self.state = KcsState::WaitWrite;
                    }
                }
            }
            KcsState::WaitWrite => {
                if state != KCS_WRITE_STATE {
                    // Not in write state for write.
                    self.start_error_recovery();
                } else {
                    clear_obf(regs, status);
                    if self.write_count == 1 {
                        regs.write_cmd(KCS_WRITE_END);
                        self.state = KcsState::WaitWriteEnd;
                    } else {
                        self.write_next_byte(regs);
                    }
                }
            }
            KcsState::WaitWriteEnd => {
                if state != KCS_WRITE_STATE {
                    // Not in write state for write end.
                    self.start_error_recovery();
                } else {
                    clear_obf(regs, status);
                    self.write_next_byte(regs);
                    self.state = KcsState::WaitRead;
                }
            }
            KcsState::WaitRead => {
                if state != KCS_READ_STATE && state != KCS_IDLE_STATE {
                    // Not in read or idle in read state.
                    self.start_error_recovery();
                } else if state == KCS_READ_STATE {
                    if !self.check_obf(status, time) {
                        return SmResult::CallWithDelay;
                    }
                    self.read_next_byte(regs);
                } else {
                    // We don't implement this exactly like the state machine in the spec. Some
                    // broken hardware does not write the final dummy byte to the read register.
                    // Thus OBF will never go high here. We just go straight to idle, and we
                    // handle clearing out OBF in idle state if it happens to come in.
                    clear_obf(regs, status);
                    self.orig_write_count = 0;
                    self.state = KcsState::Idle;
                    return SmResult::TransactionComplete;
                }
            }
            KcsState::Error0 => {
                clear_obf(regs, status);
                status = regs.read_status();
                // The controller isn't responding: give it until `error0_timeout`.
                if status & STATUS_OBF != 0 && self.clock_us < self.error0_timeout {
                    return SmResult::CallWithTickDelay;
                }
                regs.write_cmd(KCS_GET_STATUS_ABORT);
                self.state = KcsState::Error1;
            }
            KcsState::Error1 => {
                clear_obf(regs, status);
                regs.write_data(0);
                self.state = KcsState::Error2;
            }
            KcsState::Error2 => {
                if state != KCS_READ_STATE {
                    // Not in read state for error2.
                    self.start_error_recovery();
                } else {
                    if !self.check_obf(status, time) {
                        return SmResult::CallWithDelay;
                    }
                    // As in C, this runs even when `check_obf()` just timed out and started a
                    // new recovery: the state set there is overwritten.
                    clear_obf(regs, status);
                    regs.write_data(KCS_READ_BYTE);
                    self.state = KcsState::Error3;
                }
            }
            KcsState::Error3 => {
                if state != KCS_IDLE_STATE {
                    // Not in idle state for error3.
                    self.start_error_recovery();
                } else {
                    if !self.check_obf(status, time) {
                        return SmResult::CallWithDelay;
                    }
                    clear_obf(regs, status);
                    if self.orig_write_count != 0 {
                        self.restart_kcs_transaction(regs);
                    } else {
                        self.state = KcsState::Idle;
                        return SmResult::TransactionComplete;
                    }
                }
            }
            KcsState::Hosed => {}
        }

        if self.state == KcsState::Hosed {
            self.init_kcs_data();
            return SmResult::Hosed;
        }

        SmResult::CallWithoutDelay
    }

    /// Returns false when nothing answers at the registers (C `kcs_detect()`, which returns
    /// nonzero on failure).
    ///
    /// It's impossible for the KCS status register to be all 1's (assuming a properly
    /// functioning, self-initialized BMC), but that's what you get from reading a bogus address.
    pub(crate) fn detect(&self, regs: &mut impl KcsRegisters) -> bool {
        regs.read_status() != 0xff
    }
}

/// Reads the data register if OBF is set, to empty it (C `clear_obf()`).
fn clear_obf(regs: &mut impl KcsRegisters, status: u8) {
    if status & STATUS_OBF != 0 {
        regs.read_data();
    }
}

#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_kcs_sm))]
mod tests {
    use super::*;
    use crate::kcs::model::{Fault, KcsModel};

    /// Get Device ID, as sent by the C driver at start-up.
    const GET_DEVICE_ID: [u8; 2] = [0x18, 0x01];
    /// A Get Device ID answer as QEMU's `ipmi-bmc-sim` gives it.
    const DEVICE_ID_RSP: [u8; 15] = [
        0x1c, 0x01, 0x00, 0x20, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    /// How a run of events ended.
    struct Run {
        /// The first result other than a request to be called again.
        result: SmResult,
        /// The time passed to `event` in total, in microseconds.
        elapsed_us: u64,
        /// How many `CallWithDelay` results were seen.
        delays: u32,
        /// How many `CallWithTickDelay` results were seen.
        tick_delays: u32,
    }

    /// Calls `event` until it stops asking to be called again, passing `step_us` after a delay.
    fn run(sm: &mut KcsSm, bmc: &mut KcsModel, step_us: u32) -> Run {
        let mut r = Run {
            result: SmResult::CallWithoutDelay,
            elapsed_us: 0,
            delays: 0,
            tick_delays: 0,
        };
        let mut time = 0;
        for _ in 0..100_000 {
            r.elapsed_us = r.elapsed_us.saturating_add(u64::from(time));
            r.result = sm.event(bmc, time);
            time = match r.result {
                SmResult::CallWithoutDelay => 0,
                SmResult::CallWithDelay => {
                    r.delays = r.delays.saturating_add(1);
                    step_us
                }
                SmResult::CallWithTickDelay => {
                    r.tick_delays = r.tick_delays.saturating_add(1);
                    step_us
                }
                _ => return r,
            };
        }
        r
    }

    #[test]
    fn write_then_read_round_trip() {
        let mut sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        bmc.set_response(&DEVICE_ID_RSP);
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
        assert_eq!(sm.state(), KcsState::StartOp);
        let r = run(&mut sm, &mut bmc, 100);
        assert_eq!(r.result, SmResult::TransactionComplete);
        assert_eq!(r.delays, 0);
        assert_eq!(sm.state(), KcsState::Idle);
        assert_eq!(bmc.last_request(), &GET_DEVICE_ID[..]);
        let mut out = [0u8; IPMI_MAX_MSG_LENGTH];
        let n = sm.get_result(&mut out);
        assert_eq!(n, DEVICE_ID_RSP.len());
        assert_eq!(&out[..n], &DEVICE_ID_RSP[..]);
        // The dummy byte the BMC leaves after the response is already drained.
        assert_eq!(bmc.read_status(), 0);
        assert_eq!(sm.event(&mut bmc, 0), SmResult::Idle);
        assert_eq!(bmc.aborts(), 0);
    }

    #[test]
    fn long_request_round_trip() {
        let mut sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        let mut req = [0u8; IPMI_MAX_MSG_LENGTH];
        for (i, b) in req.iter_mut().enumerate() {
            *b = (i % 251) as u8;
        }
        req[0] = 0x2c;
        bmc.set_response(&[0x2d, 0x01, 0x00, 0x42]);
        assert_eq!(sm.start_transaction(&req), Ok(()));
        assert_eq!(
            run(&mut sm, &mut bmc, 100).result,
            SmResult::TransactionComplete
        );
        assert_eq!(bmc.last_request(), &req[..]);
        let mut out = [0u8; 8];
        assert_eq!(sm.get_result(&mut out), 4);
        assert_eq!(out[..4], [0x2d, 0x01, 0x00, 0x42]);
    }

    #[test]
    fn request_under_two_bytes_is_c7() {
        let mut sm = KcsSm::new();
        assert_eq!(sm.start_transaction(&[]), Err(Cc(0xc7)));
        assert_eq!(sm.start_transaction(&[0x18]), Err(Cc::REQ_LEN_INVALID));
        assert_eq!(sm.state(), KcsState::Idle);
    }

    #[test]
    fn request_over_272_bytes_is_c8() {
        let mut sm = KcsSm::new();
        let req = [0x18u8; IPMI_MAX_MSG_LENGTH + 1];
        assert_eq!(sm.start_transaction(&req), Err(Cc(0xc8)));
        assert_eq!(sm.state(), KcsState::Idle);
        assert_eq!(sm.start_transaction(&req[..IPMI_MAX_MSG_LENGTH]), Ok(()));
    }

    #[test]
    fn request_while_busy_is_d5() {
        let mut sm = KcsSm::new();
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Err(Cc(0xd5)));
        let mut bmc = KcsModel::new();
        assert_eq!(sm.event(&mut bmc, 0), SmResult::CallWithoutDelay);
        assert_eq!(sm.state(), KcsState::WaitWriteStart);
        assert_eq!(
            sm.start_transaction(&GET_DEVICE_ID),
            Err(Cc::NOT_IN_MY_STATE)
        );
    }

    #[test]
    fn short_response_is_padded_with_ff() {
        let mut sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        bmc.set_response(&DEVICE_ID_RSP);
        bmc.set_fault(Fault::EarlyIdle { after: 2 });
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
        assert_eq!(
            run(&mut sm, &mut bmc, 100).result,
            SmResult::TransactionComplete
        );
        let mut out = [0u8; 16];
        assert_eq!(sm.get_result(&mut out), 3);
        assert_eq!(out[..3], [0x1c, 0x01, 0xff]);
    }

    #[test]
    fn idle_at_once_gives_unspecified_error() {
        let mut sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        bmc.set_fault(Fault::EarlyIdle { after: 0 });
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
        assert_eq!(
            run(&mut sm, &mut bmc, 100).result,
            SmResult::TransactionComplete
        );
        let mut out = [0x55u8; 4];
        assert_eq!(sm.get_result(&mut out), 3);
        // Nothing arrived, so only the completion code is written.
        assert_eq!(out, [0x55, 0x55, 0xff, 0x55]);
        // With no room for a completion code, nothing is made up.
        let mut tiny = [0u8; 2];
        assert_eq!(sm.get_result(&mut tiny), 2);
    }

    #[test]
    fn response_over_272_bytes_is_truncated_with_c6() {
        let mut sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        let mut rsp = [0x77u8; 280];
        rsp[..3].copy_from_slice(&[0x1c, 0x01, 0x00]);
        bmc.set_response(&rsp);
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
        assert_eq!(
            run(&mut sm, &mut bmc, 100).result,
            SmResult::TransactionComplete
        );
        let mut out = [0u8; IPMI_MAX_MSG_LENGTH];
        assert_eq!(sm.get_result(&mut out), IPMI_MAX_MSG_LENGTH);
        assert_eq!(out[..3], [0x1c, 0x01, 0xc6]);
        assert_eq!(out[IPMI_MAX_MSG_LENGTH - 1], 0x77);
        // The flag is reported once.
        assert_eq!(sm.get_result(&mut out), IPMI_MAX_MSG_LENGTH);
        assert_eq!(out[2], 0x00);
    }

    #[test]
    fn small_result_buffer_truncates_with_c6() {
        let mut sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        bmc.set_response(&DEVICE_ID_RSP);
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
        assert_eq!(
            run(&mut sm, &mut bmc, 100).result,
            SmResult::TransactionComplete
        );
        let mut out = [0u8; 4];
        assert_eq!(sm.get_result(&mut out), 4);
        assert_eq!(out, [0x1c, 0x01, Cc::MSG_TRUNCATED.0, 0x20]);
    }

    #[test]
    fn busy_ibf_is_waited_for() {
        let mut sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        bmc.set_ibf_delay(3);
        bmc.set_response(&DEVICE_ID_RSP);
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
        let r = run(&mut sm, &mut bmc, 1_000_000);
        assert_eq!(r.result, SmResult::TransactionComplete);
        // Each write keeps IBF up for three status reads: far more than 5 s in total, but every
        // wait on its own is short, so no timeout fires.
        assert!(r.delays >= 3 * 5);
        assert!(r.elapsed_us > 5_000_000);
        assert_eq!(bmc.aborts(), 0);
        let mut out = [0u8; 20];
        assert_eq!(sm.get_result(&mut out), DEVICE_ID_RSP.len());
    }

    #[test]
    fn stuck_ibf_times_out_after_5s() {
        let mut sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
        bmc.set_fault(Fault::StuckIbf);
        assert_eq!(sm.event(&mut bmc, 0), SmResult::CallWithoutDelay);
        assert_eq!(sm.state(), KcsState::WaitWriteStart);
        // Exactly 5 s of IBF is still waited for.
        for _ in 0..5 {
            assert_eq!(sm.event(&mut bmc, 1_000_000), SmResult::CallWithDelay);
        }
        assert_eq!(sm.state(), KcsState::WaitWriteStart);
        // Past 5 s the machine starts recovery: ERROR0 writes ABORT (lost, IBF is stuck).
        assert_eq!(sm.event(&mut bmc, 1), SmResult::CallWithoutDelay);
        assert_eq!(sm.state(), KcsState::Error1);
        assert_eq!(bmc.aborts(), 0);
    }

    #[test]
    fn stuck_ibf_hoses_after_retries() {
        let mut sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        bmc.set_fault(Fault::StuckIbf);
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
        let r = run(&mut sm, &mut bmc, 100_000);
        assert_eq!(r.result, SmResult::Hosed);
        // Three IBF waits of 5 s: the first error and MAX_ERROR_RETRIES more.
        assert!(r.elapsed_us > 15_000_000);
        assert!(r.elapsed_us < 15_500_000);
        // Hosed resets the machine, which then takes a new request.
        assert_eq!(sm.state(), KcsState::Idle);
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
    }

    #[test]
    fn wrong_state_recovers_with_abort() {
        let mut sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        bmc.set_response(&DEVICE_ID_RSP);
        bmc.set_fault(Fault::WrongState {
            state: KCS_READ_STATE,
            times: 1,
        });
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
        assert_eq!(sm.event(&mut bmc, 0), SmResult::CallWithoutDelay);
        assert_eq!(sm.event(&mut bmc, 0), SmResult::CallWithoutDelay);
        assert_eq!(sm.state(), KcsState::Error0);
        let r = run(&mut sm, &mut bmc, 100);
        assert_eq!(r.result, SmResult::TransactionComplete);
        assert_eq!(bmc.aborts(), 1);
        // The request went out again after the abort.
        assert_eq!(bmc.requests(), 1);
        assert_eq!(bmc.last_request(), &GET_DEVICE_ID[..]);
        let mut out = [0u8; 20];
        assert_eq!(sm.get_result(&mut out), DEVICE_ID_RSP.len());
        assert_eq!(&out[..DEVICE_ID_RSP.len()], &DEVICE_ID_RSP[..]);
    }

    #[test]
    fn error_state_bits_hose_after_three_failures() {
        let mut sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        bmc.set_fault(Fault::WrongState {
            state: KCS_ERROR_STATE,
            times: 3,
        });
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
        let r = run(&mut sm, &mut bmc, 100);
        assert_eq!(r.result, SmResult::Hosed);
        assert_eq!(bmc.aborts(), 2);
        assert_eq!(bmc.requests(), 0);
        assert_eq!(sm.state(), KcsState::Idle);
        // The fault is gone now: the next transaction works.
        bmc.set_response(&DEVICE_ID_RSP);
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
        assert_eq!(
            run(&mut sm, &mut bmc, 100).result,
            SmResult::TransactionComplete
        );
        assert_eq!(bmc.requests(), 1);
    }

    #[test]
    fn obf_never_set_hoses_after_retries() {
        let mut sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        bmc.set_fault(Fault::NeverAnswers);
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
        let r = run(&mut sm, &mut bmc, 250_000);
        assert_eq!(r.result, SmResult::Hosed);
        // Three OBF waits of 5 s; the two aborts in between recover the interface.
        assert!(r.elapsed_us > 15_000_000);
        assert!(r.elapsed_us < 16_000_000);
        assert_eq!(bmc.aborts(), 2);
        assert_eq!(bmc.requests(), 3);
    }

    #[test]
    fn missing_dummy_byte_still_completes() {
        let mut sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        bmc.set_fault(Fault::NoDummyByte);
        bmc.set_response(&DEVICE_ID_RSP);
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
        let r = run(&mut sm, &mut bmc, 100);
        assert_eq!(r.result, SmResult::TransactionComplete);
        assert_eq!(r.delays, 0);
        let mut out = [0u8; 20];
        assert_eq!(sm.get_result(&mut out), DEVICE_ID_RSP.len());
    }

    #[test]
    fn garbage_status_waits_in_error0_then_hoses() {
        let mut sm = KcsSm::new();
        // Error state with OBF that never empties: ERROR0 waits a tick at a time, 2 s each.
        let mut bmc = KcsModel::new();
        bmc.set_fault(Fault::Garbage(0xc1));
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
        let r = run(&mut sm, &mut bmc, 10_000);
        assert_eq!(r.result, SmResult::Hosed);
        assert!(r.tick_delays >= 2 * 200);
        assert!(r.elapsed_us >= 2 * ERROR0_OBF_WAIT_US);
        assert!(r.elapsed_us < 2 * ERROR0_OBF_WAIT_US + 100_000);
    }

    #[test]
    fn endless_response_is_truncated() {
        let mut sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        bmc.set_response(&[0x1c, 0x01, 0x00]);
        bmc.set_fault(Fault::EndlessResponse);
        assert_eq!(sm.start_transaction(&GET_DEVICE_ID), Ok(()));
        for _ in 0..1000 {
            assert_eq!(sm.event(&mut bmc, 0), SmResult::CallWithoutDelay);
        }
        assert_eq!(sm.state(), KcsState::WaitRead);
        bmc.set_fault(Fault::None);
        let r = run(&mut sm, &mut bmc, 100);
        assert_eq!(r.result, SmResult::TransactionComplete);
        let mut out = [0u8; IPMI_MAX_MSG_LENGTH];
        assert_eq!(sm.get_result(&mut out), IPMI_MAX_MSG_LENGTH);
        assert_eq!(out[..4], [0x1c, 0x01, 0xc6, 0xaa]);
    }

    #[test]
    fn idle_reports_attention_and_drains_obf() {
        let mut sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        assert_eq!(sm.event(&mut bmc, 0), SmResult::Idle);
        bmc.queue_messages(1);
        assert_eq!(sm.event(&mut bmc, 0), SmResult::Attn);
        // A stray byte in the output buffer is read away in idle.
        bmc.put_stray_byte(0x12);
        assert_eq!(bmc.read_status() & STATUS_OBF, STATUS_OBF);
        assert_eq!(sm.event(&mut bmc, 0), SmResult::Attn);
        assert_eq!(bmc.read_status() & STATUS_OBF, 0);
    }

    #[test]
    fn ibf_timeout_in_idle_runs_abort_and_completes() {
        let mut sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        // Something else wrote the command register and the BMC sits on it.
        bmc.set_fault(Fault::StuckIbf);
        bmc.write_cmd(KCS_READ_BYTE);
        assert_eq!(sm.event(&mut bmc, 0), SmResult::CallWithDelay);
        assert_eq!(sm.event(&mut bmc, 5_000_000), SmResult::CallWithDelay);
        assert_eq!(sm.event(&mut bmc, 1), SmResult::CallWithoutDelay);
        assert_eq!(sm.state(), KcsState::Error1);
        // The BMC wakes up, takes the illegal control code and goes to its error state.
        bmc.set_fault(Fault::None);
        let r = run(&mut sm, &mut bmc, 100);
        // As in C, with no request to restart, the abort sequence ends as a transaction.
        assert_eq!(r.result, SmResult::TransactionComplete);
        assert_eq!(bmc.aborts(), 1);
        assert_eq!(sm.state(), KcsState::Idle);
        let mut out = [0u8; 3];
        assert_eq!(sm.get_result(&mut out), 3);
        assert_eq!(out[2], 0xff);
    }

    #[test]
    fn detect_rejects_floating_bus() {
        let sm = KcsSm::new();
        let mut bmc = KcsModel::new();
        assert!(sm.detect(&mut bmc));
        bmc.set_fault(Fault::Garbage(0xff));
        assert!(!sm.detect(&mut bmc));
    }

    #[test]
    fn status_state_bits() {
        assert_eq!(get_status_state(0x00), KCS_IDLE_STATE);
        assert_eq!(get_status_state(0x41), KCS_READ_STATE);
        assert_eq!(get_status_state(0x86), KCS_WRITE_STATE);
        assert_eq!(get_status_state(0xc7), KCS_ERROR_STATE);
    }
}
