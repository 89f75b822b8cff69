// SPDX-License-Identifier: GPL-2.0

//! A simulated KCS register block with a small BMC behind it (pure), for tests.
//!
//! [`KcsModel`] implements [`KcsRegisters`] and behaves like the BMC side of a KCS interface as
//! IPMI v2.0 section 9.15 describes it (and as QEMU's `isa-ipmi-kcs` does):
//! - a host write to either register sets IBF; the BMC takes the byte when it next gets to it,
//!   which here is a later status read (optionally after [`KcsModel::set_ibf_delay`] more);
//! - writes while IBF is set are lost, as on QEMU;
//! - WRITE_START enters the write state, WRITE_END marks the next data byte as the last, and that
//!   byte switches to the read state with the first response byte in the output register;
//! - each READ byte brings the next response byte, and after the last one the BMC goes idle with
//!   a dummy byte in the output register;
//! - GET_STATUS/ABORT, then a 0x00 data byte, gives a status byte in the read state; one more
//!   READ byte returns to idle;
//! - anything out of order puts the interface in the error state.
//!
//! Behind the registers a small BMC answers the commands the system interface layer sends by
//! itself (message flags, Get Message, Read Event Message Buffer, global enables) and 0xC1 to the
//! rest, unless [`KcsModel::set_response`] gave a canned answer for the next request.
//! [`Fault`] makes it misbehave in the ways the C driver has to survive.
//!
//! C counterpart: the hardware that [`ipmi_kcs_sm.c`](srctree/drivers/char/ipmi/ipmi_kcs_sm.c)
//! drives; there is no C model.

use super::sm::{
    KcsRegisters, KCS_ERROR_STATE, KCS_GET_STATUS_ABORT, KCS_IDLE_STATE, KCS_READ_BYTE,
    KCS_READ_STATE, KCS_WRITE_END, KCS_WRITE_START, KCS_WRITE_STATE, STATUS_ATN, STATUS_IBF,
    STATUS_OBF,
};
use crate::defs::{
    netfn_of, response_header, Cc, EVENT_MSG_BUFFER_FULL, IPMI_BMC_RCV_MSG_INTR,
    IPMI_CLEAR_MSG_FLAGS_CMD, IPMI_GET_BMC_GLOBAL_ENABLES_CMD, IPMI_GET_MSG_CMD,
    IPMI_GET_MSG_FLAGS_CMD, IPMI_MAX_MSG_LENGTH, IPMI_NETFN_APP_REQUEST,
    IPMI_READ_EVENT_MSG_BUFFER_CMD, IPMI_SEND_MSG_CMD, IPMI_SET_BMC_GLOBAL_ENABLES_CMD,
    RECEIVE_MSG_AVAIL, WDT_PRE_TIMEOUT_INT,
};

/// The longest canned response; longer than a message, so truncation can be tested.
pub(crate) const MODEL_RSP_MAX: usize = 300;

/// How many requests the model remembers in its log.
const LOG_LEN: usize = 32;

/// The status code the BMC reports after an abort: "aborted by command" (IPMI v2.0 table 9-5).
pub(crate) const KCS_STATUS_ABORTED: u8 = 0x01;

/// The byte an endless response repeats.
const ENDLESS_BYTE: u8 = 0xaa;

/// The message Get Message hands out: IPMB, channel 0, from 0x40, netfn 0x30 cmd 5, data 01 02.
pub(crate) const MODEL_INCOMING: [u8; 10] =
    [0x00, 0x00, 0xc2, 0x1e, 0x40, 0x1c, 0x05, 0x01, 0x02, 0x9c];

/// The SEL-format event record Read Event Message Buffer hands out (16 bytes).
pub(crate) const MODEL_EVENT: [u8; 16] = [
    0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x04, 0x01, 0x01, 0x01, 0x57, 0xff, 0xff,
];

/// A way for the simulated BMC to misbehave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// It behaves.
    None,
    /// From the next host write on, IBF never clears: the BMC stopped reading.
    StuckIbf,
    /// The next `times` WRITE_START commands leave the interface in `state` (bits 7:6 value)
    /// instead of the write state, and it ignores data until aborted.
    WrongState {
        /// The state reported.
        state: u8,
        /// How many WRITE_STARTs are answered this way.
        times: u32,
    },
    /// The BMC goes idle after sending `after` bytes of each response.
    EarlyIdle {
        /// The response bytes sent before going idle.
        after: usize,
    },
    /// Every register read returns this byte and writes are lost, like a port nothing decodes.
    Garbage(u8),
    /// The BMC takes each request and enters the read state, but never sets OBF.
    NeverAnswers,
    /// The BMC goes idle at the end of a response or an abort without the dummy byte.
    NoDummyByte,
    /// After the response the BMC keeps sending 0xAA bytes instead of going idle.
    EndlessResponse,
}

/// Where the BMC is in the KCS protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for WRITE_START.
    Idle,
    /// Taking request bytes.
    Writing,
    /// WRITE_END seen; the next data byte is the last.
    WriteEnd,
    /// Sending response bytes, one per READ byte.
    Reading,
    /// GET_STATUS/ABORT seen; waiting for its 0x00 data byte.
    AbortWaitData,
    /// The status byte is out; waiting for the READ byte.
    AbortStatusSent,
    /// Protocol error, or a misbehaving WRITE_START; only an abort gets out.
    Error,
}

/// A simulated KCS interface and BMC.
pub(crate) struct KcsModel {
    state: u8,
    ibf: bool,
    obf: bool,
    /// The byte the host wrote last and whether it went to the command register.
    idr: u8,
    idr_cmd: bool,
    /// The byte in the output register.
    odr: u8,
    ibf_delay: u32,
    ibf_busy: u32,
    phase: Phase,
    fault: Fault,
    req: [u8; IPMI_MAX_MSG_LENGTH],
    req_len: usize,
    rsp: [u8; MODEL_RSP_MAX],
    rsp_len: usize,
    rsp_pos: usize,
    canned: [u8; MODEL_RSP_MAX],
    canned_len: Option<usize>,
    /// The command the canned response is for, or `None` for any.
    canned_cmd: Option<u8>,
    /// The answer to Get Event Receiver (address, LUN), if the BMC gives one.
    event_receiver: Option<(u8, u8)>,
    messages: u32,
    events: u32,
    pretimeout: bool,
    attn_stuck: bool,
    enables: u8,
    log: [(u8, u8); LOG_LEN],
    log_len: usize,
    requests: u32,
    aborts: u32,
    /// The time as the test's clock says, in µs (see [`KcsModel::set_now_us`]).
    now_us: u64,
    /// How long the BMC takes to answer a request, in µs of that clock.
    answer_delay_us: u64,
    /// When the answer being prepared will be ready.
    answer_at: Option<u64>,
    /// Register accesses by the host.
    accesses: u64,
    /// Send Message requests taken (the 0xC1 answers to incoming commands go that way).
    send_messages: u32,
    /// Whether a Send Message (without a canned answer) is accepted (0x00) rather than refused.
    accept_send_msg: bool,
}

impl KcsModel {
    /// Creates an idle, well-behaved interface with nothing queued and all enables clear.
    pub(crate) const fn new() -> Self {
        KcsModel {
            state: KCS_IDLE_STATE,
            ibf: false,
            obf: false,
            idr: 0,
            idr_cmd: false,
            odr: 0,
            ibf_delay: 0,
            ibf_busy: 0,
            phase: Phase::Idle,
            fault: Fault::None,
            req: [0; IPMI_MAX_MSG_LENGTH],
            req_len: 0,
            rsp: [0; MODEL_RSP_MAX],
            rsp_len: 0,
            rsp_pos: 0,
            canned: [0; MODEL_RSP_MAX],
            canned_len: None,
            canned_cmd: None,
            event_receiver: None,
            messages: 0,
            events: 0,
            pretimeout: false,
            attn_stuck: false,
            enables: 0,
            log: [(0, 0); LOG_LEN],
            log_len: 0,
            requests: 0,
            aborts: 0,
            now_us: 0,
            answer_delay_us: 0,
            answer_at: None,
            accesses: 0,
            send_messages: 0,
            accept_send_msg: false,
        }
    }

    /// Tells the BMC the time, for [`KcsModel::set_answer_delay_us`].
    pub(crate) fn set_now_us(&mut self, now_us: u64) {
        self.now_us = now_us;
    }

    /// Makes the BMC take `us` (of the time given to [`KcsModel::set_now_us`]) to answer each
    /// request: the interface is in the read state, without OBF, meanwhile.
    pub(crate) fn set_answer_delay_us(&mut self, us: u64) {
        self.answer_delay_us = us;
    }

    /// Whether the interface would raise its interrupt now: OBF set with the receive-message
    /// interrupt enabled (as QEMU's KCS does). Reads nothing.
    pub(crate) fn irq_pending(&self) -> bool {
        self.obf && self.enables & IPMI_BMC_RCV_MSG_INTR != 0
    }

    /// How many Send Message requests the BMC took.
    pub(crate) fn send_messages(&self) -> u32 {
        self.send_messages
    }

    /// How many register accesses the host made.
    pub(crate) fn accesses(&self) -> u64 {
        self.accesses
    }

    /// How many of the logged requests were (`netfn`, `cmd`).
    pub(crate) fn count(&self, netfn: u8, cmd: u8) -> usize {
        self.log().iter().filter(|&&e| e == (netfn, cmd)).count()
    }

    /// Answers the next request with `rsp` (cut to [`MODEL_RSP_MAX`] bytes), whatever it is.
    pub(crate) fn set_response(&mut self, rsp: &[u8]) {
        let len = rsp.len().min(MODEL_RSP_MAX);
        if let (Some(dst), Some(src)) = (self.canned.get_mut(..len), rsp.get(..len)) {
            dst.copy_from_slice(src);
        }
        self.canned_len = Some(len);
        self.canned_cmd = None;
    }

    /// Answers the next request with command `cmd` (any netfn) with `rsp`.
    pub(crate) fn set_response_for(&mut self, cmd: u8, rsp: &[u8]) {
        self.set_response(rsp);
        self.canned_cmd = Some(cmd);
    }

    /// Makes the BMC answer Get Event Receiver (Sensor/Event 0x01) with `addr` and `lun` (0xC1
    /// by default, as to any command it does not know).
    pub(crate) fn set_event_receiver(&mut self, addr: u8, lun: u8) {
        self.event_receiver = Some((addr, lun));
    }

    /// Makes the BMC accept every Send Message (0x00: the message went out) that has no canned
    /// answer, or refuse it (0xC1, the default). Nothing ever answers from the other side: a
    /// controller that does not respond.
    pub(crate) fn set_accept_send_msg(&mut self, accept: bool) {
        self.accept_send_msg = accept;
    }

    /// Makes the BMC misbehave from now on (or behave again, with [`Fault::None`]).
    pub(crate) fn set_fault(&mut self, fault: Fault) {
        self.fault = fault;
    }

    /// Keeps IBF set for `reads` status reads after every host write.
    pub(crate) fn set_ibf_delay(&mut self, reads: u32) {
        self.ibf_delay = reads;
    }

    /// Queues `n` incoming messages for Get Message (message flag 0x01, SMS_ATN).
    pub(crate) fn queue_messages(&mut self, n: u32) {
        self.messages = self.messages.saturating_add(n);
    }

    /// Queues `n` events for Read Event Message Buffer (message flag 0x02, SMS_ATN).
    pub(crate) fn queue_events(&mut self, n: u32) {
        self.events = self.events.saturating_add(n);
    }

    /// Raises the watchdog pre-timeout flag (message flag 0x08, SMS_ATN).
    pub(crate) fn set_pretimeout(&mut self) {
        self.pretimeout = true;
    }

    /// Holds SMS_ATN up even with no message flag set.
    pub(crate) fn set_attn_stuck(&mut self, stuck: bool) {
        self.attn_stuck = stuck;
    }

    /// Sets the BMC global enables as if written before.
    pub(crate) fn set_enables(&mut self, enables: u8) {
        self.enables = enables;
    }

    /// Puts a byte in the output register, as a BMC confused about the protocol might.
    pub(crate) fn put_stray_byte(&mut self, byte: u8) {
        self.odr = byte;
        self.obf = true;
    }

    /// The current BMC global enables.
    pub(crate) fn enables(&self) -> u8 {
        self.enables
    }

    /// Incoming messages not yet fetched.
    pub(crate) fn pending_messages(&self) -> u32 {
        self.messages
    }

    /// Events not yet fetched.
    pub(crate) fn pending_events(&self) -> u32 {
        self.events
    }

    /// Whether the watchdog pre-timeout flag is still set.
    pub(crate) fn pretimeout(&self) -> bool {
        self.pretimeout
    }

    /// The last complete request the BMC took.
    pub(crate) fn last_request(&self) -> &[u8] {
        self.req.get(..self.req_len).unwrap_or(&[])
    }

    /// `(netfn, cmd)` of the first requests taken, in order (up to 32).
    pub(crate) fn log(&self) -> &[(u8, u8)] {
        self.log.get(..self.log_len).unwrap_or(&[])
    }

    /// How many complete requests the BMC took.
    pub(crate) fn requests(&self) -> u32 {
        self.requests
    }

    /// How many GET_STATUS/ABORT commands the BMC took.
    pub(crate) fn aborts(&self) -> u32 {
        self.aborts
    }

    /// The message flags as Get Message Flags reports them.
    fn msg_flags(&self) -> u8 {
        let mut flags = 0;
        if self.messages > 0 {
            flags |= RECEIVE_MSG_AVAIL;
        }
        if self.events > 0 {
            flags |= EVENT_MSG_BUFFER_FULL;
        }
        if self.pretimeout {
            flags |= WDT_PRE_TIMEOUT_INT;
        }
        flags
    }

    /// Latches a host write, unless one is still pending.
    fn host_write(&mut self, byte: u8, cmd: bool) {
        if matches!(self.fault, Fault::Garbage(_)) || self.ibf {
            return;
        }
        self.idr = byte;
        self.idr_cmd = cmd;
        self.ibf = true;
        self.ibf_busy = self.ibf_delay;
    }

    /// Enters the error state.
    fn error(&mut self) {
        self.state = KCS_ERROR_STATE;
        self.phase = Phase::Error;
    }

    /// Goes idle, with the dummy byte unless told not to.
    fn go_idle(&mut self) {
        self.state = KCS_IDLE_STATE;
        self.phase = Phase::Idle;
        if self.fault != Fault::NoDummyByte {
            self.odr = 0;
            self.obf = true;
        }
    }

    /// Puts the next response byte out, or goes idle after the last.
    fn send_next(&mut self) {
        if self.fault == Fault::NeverAnswers {
            return;
        }
        let early = match self.fault {
            Fault::EarlyIdle { after } => self.rsp_pos >= after,
            _ => false,
        };
        let next = if early || self.rsp_pos >= self.rsp_len {
            None
        } else {
            self.rsp.get(self.rsp_pos).copied()
        };
        if let Some(byte) = next {
            self.odr = byte;
            self.obf = true;
            self.rsp_pos = self.rsp_pos.saturating_add(1);
        } else if self.fault == Fault::EndlessResponse {
            self.odr = ENDLESS_BYTE;
            self.obf = true;
        } else {
            self.go_idle();
        }
    }

    /// Sets the response to `[response netfn/LUN, req[1], body...]`.
    fn reply(&mut self, body: &[u8]) {
        let netfn_lun = response_header(self.req.first().copied().unwrap_or(0));
        let cmd = self.req.get(1).copied().unwrap_or(0);
        self.rsp[0] = netfn_lun;
        self.rsp[1] = cmd;
        let len = body.len().min(MODEL_RSP_MAX - 2);
        if let (Some(dst), Some(src)) = (self.rsp.get_mut(2..2 + len), body.get(..len)) {
            dst.copy_from_slice(src);
        }
        self.rsp_len = 2 + len;
    }

    /// Works out the answer to the request just taken.
    fn respond(&mut self) {
        let netfn = netfn_of(self.req.first().copied().unwrap_or(0));
        let cmd = self.req.get(1).copied().unwrap_or(0);
        if let Some(len) = self.canned_len {
            if self.canned_cmd.is_none_or(|c| c == cmd) {
                self.canned_len = None;
                self.rsp = self.canned;
                self.rsp_len = len;
                return;
            }
        }
        let arg = if self.req_len > 2 {
            self.req.get(2).copied()
        } else {
            None
        };
        if let (0x04, 0x01, Some((addr, lun))) = (netfn, cmd, self.event_receiver) {
            self.reply(&[0x00, addr, lun]);
            return;
        }
        if netfn != IPMI_NETFN_APP_REQUEST {
            self.reply(&[Cc::INVALID_CMD.0]);
            return;
        }
        match (cmd, arg) {
            (IPMI_GET_MSG_FLAGS_CMD, _) => self.reply(&[0x00, self.msg_flags()]),
            (IPMI_CLEAR_MSG_FLAGS_CMD, Some(clear)) => {
                if clear & RECEIVE_MSG_AVAIL != 0 {
                    self.messages = 0;
                }
                if clear & EVENT_MSG_BUFFER_FULL != 0 {
                    self.events = 0;
                }
                if clear & WDT_PRE_TIMEOUT_INT != 0 {
                    self.pretimeout = false;
                }
                self.reply(&[0x00]);
            }
            (IPMI_GET_MSG_CMD, _) if self.messages > 0 => {
                self.messages -= 1;
                self.reply(&MODEL_INCOMING);
            }
            (IPMI_READ_EVENT_MSG_BUFFER_CMD, _) if self.events > 0 => {
                self.events -= 1;
                let mut body = [0u8; 17];
                body[1..].copy_from_slice(&MODEL_EVENT);
                self.reply(&body);
            }
            // Message queue or event buffer empty.
            (IPMI_GET_MSG_CMD | IPMI_READ_EVENT_MSG_BUFFER_CMD, _) => self.reply(&[0x80]),
            (IPMI_GET_BMC_GLOBAL_ENABLES_CMD, _) => self.reply(&[0x00, self.enables]),
            (IPMI_SEND_MSG_CMD, _) if self.accept_send_msg => self.reply(&[0x00]),
            (IPMI_SET_BMC_GLOBAL_ENABLES_CMD, Some(enables)) => {
                self.enables = enables;
                self.reply(&[0x00]);
            }
            // Request data length invalid.
            (IPMI_CLEAR_MSG_FLAGS_CMD | IPMI_SET_BMC_GLOBAL_ENABLES_CMD, None) => {
                self.reply(&[Cc::REQ_LEN_INVALID.0])
            }
            _ => self.reply(&[Cc::INVALID_CMD.0]),
        }
    }

    /// The request is complete: log it and start the response.
    fn take_request(&mut self) {
        self.requests = self.requests.saturating_add(1);
        if self.req.get(1) == Some(&IPMI_SEND_MSG_CMD) {
            self.send_messages = self.send_messages.saturating_add(1);
        }
        let entry = (
            netfn_of(self.req.first().copied().unwrap_or(0)),
            self.req.get(1).copied().unwrap_or(0),
        );
        if let Some(slot) = self.log.get_mut(self.log_len) {
            *slot = entry;
            self.log_len += 1;
        }
        self.respond();
        self.state = KCS_READ_STATE;
        self.phase = Phase::Reading;
        self.rsp_pos = 0;
        if self.answer_delay_us > 0 {
            self.answer_at = Some(self.now_us.saturating_add(self.answer_delay_us));
            return;
        }
        self.send_next();
    }

    /// The BMC side: handles the byte the host wrote.
    fn take_input(&mut self) {
        let byte = self.idr;
        if self.idr_cmd {
            match byte {
                KCS_WRITE_START => {
                    if let Fault::WrongState { state, times } = self.fault {
                        self.fault = match times {
                            0 | 1 => Fault::None,
                            _ => Fault::WrongState {
                                state,
                                times: times - 1,
                            },
                        };
                        if times > 0 {
                            self.state = state & 0x03;
                            self.phase = Phase::Error;
                            return;
                        }
                    }
                    self.state = KCS_WRITE_STATE;
                    self.phase = Phase::Writing;
                    self.req_len = 0;
                }
                KCS_WRITE_END if self.phase == Phase::Writing => self.phase = Phase::WriteEnd,
                KCS_GET_STATUS_ABORT => {
                    self.aborts = self.aborts.saturating_add(1);
                    self.answer_at = None;
                    self.state = KCS_WRITE_STATE;
                    self.phase = Phase::AbortWaitData;
                }
                _ => self.error(),
            }
            return;
        }
        match self.phase {
            Phase::Writing | Phase::WriteEnd => {
                if let Some(slot) = self.req.get_mut(self.req_len) {
                    *slot = byte;
                    self.req_len += 1;
                }
                if self.phase == Phase::WriteEnd {
                    self.take_request();
                }
            }
            Phase::Reading if byte == KCS_READ_BYTE => self.send_next(),
            Phase::AbortWaitData => {
                self.state = KCS_READ_STATE;
                self.odr = KCS_STATUS_ABORTED;
                self.obf = true;
                self.phase = Phase::AbortStatusSent;
            }
            Phase::AbortStatusSent if byte == KCS_READ_BYTE => self.go_idle(),
            _ => self.error(),
        }
    }
}

impl KcsRegisters for KcsModel {
    fn read_status(&mut self) -> u8 {
        self.accesses += 1;
        if let Fault::Garbage(v) = self.fault {
            return v;
        }
        if self.answer_at.is_some_and(|at| self.now_us >= at) {
            self.answer_at = None;
            self.send_next();
        }
        if self.ibf && self.fault != Fault::StuckIbf {
            if self.ibf_busy > 0 {
                self.ibf_busy -= 1;
            } else {
                self.ibf = false;
                self.take_input();
            }
        }
        let mut status = self.state << 6;
        if self.attn_stuck || self.msg_flags() != 0 {
            status |= STATUS_ATN;
        }
        if self.ibf {
            status |= STATUS_IBF;
        }
        if self.obf {
            status |= STATUS_OBF;
        }
        status
    }

    fn read_data(&mut self) -> u8 {
        self.accesses += 1;
        if let Fault::Garbage(v) = self.fault {
            return v;
        }
        self.obf = false;
        self.odr
    }

    fn write_cmd(&mut self, v: u8) {
        self.accesses += 1;
        self.host_write(v, true);
    }

    fn write_data(&mut self, v: u8) {
        self.accesses += 1;
        self.host_write(v, false);
    }
}

#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_kcs_model))]
mod tests {
    use super::*;
    use crate::kcs::sm::get_status_state;

    /// Writes a request by hand, step by step, as the host flow chart does; returns the status
    /// after the last byte.
    fn write_request(bmc: &mut KcsModel, req: &[u8]) -> u8 {
        bmc.write_cmd(KCS_WRITE_START);
        bmc.read_status();
        bmc.read_data();
        let last = req.len().saturating_sub(1);
        for (i, b) in req.iter().enumerate() {
            if i == last {
                bmc.write_cmd(KCS_WRITE_END);
                bmc.read_status();
            }
            bmc.write_data(*b);
            bmc.read_status();
        }
        bmc.read_status()
    }

    /// Reads a response by hand into `out`; returns its length.
    fn read_response(bmc: &mut KcsModel, out: &mut [u8]) -> usize {
        let mut n = 0;
        while get_status_state(bmc.read_status()) == KCS_READ_STATE && n < out.len() {
            out[n] = bmc.read_data();
            n += 1;
            bmc.write_data(KCS_READ_BYTE);
        }
        n
    }

    #[test]
    fn starts_idle_and_quiet() {
        let mut bmc = KcsModel::new();
        assert_eq!(bmc.read_status(), 0x00);
        assert_eq!(bmc.requests(), 0);
        assert_eq!(bmc.log().len(), 0);
    }

    #[test]
    fn write_sets_ibf_until_the_bmc_reads_it() {
        let mut bmc = KcsModel::new();
        bmc.set_ibf_delay(2);
        bmc.write_cmd(KCS_WRITE_START);
        assert_eq!(bmc.read_status(), STATUS_IBF);
        assert_eq!(bmc.read_status(), STATUS_IBF);
        assert_eq!(bmc.read_status(), KCS_WRITE_STATE << 6);
    }

    #[test]
    fn writes_while_ibf_is_set_are_lost() {
        let mut bmc = KcsModel::new();
        bmc.set_fault(Fault::StuckIbf);
        bmc.write_cmd(KCS_WRITE_START);
        bmc.write_cmd(KCS_GET_STATUS_ABORT);
        assert_eq!(bmc.read_status(), STATUS_IBF);
        bmc.set_fault(Fault::None);
        assert_eq!(bmc.read_status(), KCS_WRITE_STATE << 6);
        assert_eq!(bmc.aborts(), 0);
    }

    #[test]
    fn request_and_response_by_hand() {
        let mut bmc = KcsModel::new();
        bmc.set_response(&[0x1c, 0x01, 0x00, 0x20]);
        let status = write_request(&mut bmc, &[0x18, 0x01]);
        assert_eq!(status, (KCS_READ_STATE << 6) | STATUS_OBF);
        assert_eq!(bmc.last_request(), &[0x18u8, 0x01][..]);
        let mut out = [0u8; 8];
        assert_eq!(read_response(&mut bmc, &mut out), 4);
        assert_eq!(out[..4], [0x1c, 0x01, 0x00, 0x20]);
        // Idle, with the dummy byte waiting.
        assert_eq!(bmc.read_status(), STATUS_OBF);
        assert_eq!(bmc.read_data(), 0);
        assert_eq!(bmc.read_status(), 0);
        assert_eq!(bmc.log(), &[(0x06u8, 0x01u8)][..]);
    }

    #[test]
    fn unknown_command_gets_c1() {
        let mut bmc = KcsModel::new();
        write_request(&mut bmc, &[0x28, 0x40]);
        let mut out = [0u8; 8];
        assert_eq!(read_response(&mut bmc, &mut out), 3);
        assert_eq!(out[..3], [0x2c, 0x40, 0xc1]);
    }

    #[test]
    fn abort_reports_status_and_returns_to_idle() {
        let mut bmc = KcsModel::new();
        bmc.write_cmd(KCS_WRITE_START);
        bmc.read_status();
        bmc.write_cmd(KCS_GET_STATUS_ABORT);
        assert_eq!(bmc.read_status(), KCS_WRITE_STATE << 6);
        bmc.write_data(0);
        assert_eq!(bmc.read_status(), (KCS_READ_STATE << 6) | STATUS_OBF);
        assert_eq!(bmc.read_data(), KCS_STATUS_ABORTED);
        bmc.write_data(KCS_READ_BYTE);
        assert_eq!(bmc.read_status(), STATUS_OBF);
        assert_eq!(bmc.aborts(), 1);
        assert_eq!(bmc.requests(), 0);
    }

    #[test]
    fn out_of_order_bytes_give_error_state() {
        let mut bmc = KcsModel::new();
        bmc.write_data(0x18);
        assert_eq!(get_status_state(bmc.read_status()), KCS_ERROR_STATE);
        let mut bmc = KcsModel::new();
        bmc.write_cmd(KCS_WRITE_END);
        assert_eq!(get_status_state(bmc.read_status()), KCS_ERROR_STATE);
    }

    #[test]
    fn flags_raise_attention_and_drain() {
        let mut bmc = KcsModel::new();
        bmc.queue_messages(1);
        bmc.queue_events(1);
        bmc.set_pretimeout();
        assert_eq!(bmc.read_status(), STATUS_ATN);
        write_request(&mut bmc, &[0x18, IPMI_GET_MSG_FLAGS_CMD]);
        let mut out = [0u8; 24];
        assert_eq!(read_response(&mut bmc, &mut out), 4);
        assert_eq!(out[3], 0x0b);
        write_request(&mut bmc, &[0x18, IPMI_GET_MSG_CMD]);
        assert_eq!(read_response(&mut bmc, &mut out), 2 + MODEL_INCOMING.len());
        assert_eq!(out[2..12], MODEL_INCOMING);
        assert_eq!(bmc.pending_messages(), 0);
        write_request(&mut bmc, &[0x18, IPMI_GET_MSG_CMD]);
        assert_eq!(read_response(&mut bmc, &mut out), 3);
        assert_eq!(out[2], 0x80);
        write_request(&mut bmc, &[0x18, IPMI_READ_EVENT_MSG_BUFFER_CMD]);
        assert_eq!(read_response(&mut bmc, &mut out), 19);
        assert_eq!(out[3..19], MODEL_EVENT);
        assert_eq!(bmc.pending_events(), 0);
        write_request(
            &mut bmc,
            &[0x18, IPMI_CLEAR_MSG_FLAGS_CMD, WDT_PRE_TIMEOUT_INT],
        );
        assert_eq!(read_response(&mut bmc, &mut out), 3);
        assert!(!bmc.pretimeout());
        bmc.read_data();
        assert_eq!(bmc.read_status(), 0);
        bmc.set_attn_stuck(true);
        assert_eq!(bmc.read_status(), STATUS_ATN);
    }

    #[test]
    fn global_enables_are_kept() {
        let mut bmc = KcsModel::new();
        bmc.set_enables(0x01);
        write_request(&mut bmc, &[0x18, IPMI_SET_BMC_GLOBAL_ENABLES_CMD, 0x07]);
        let mut out = [0u8; 8];
        assert_eq!(read_response(&mut bmc, &mut out), 3);
        assert_eq!(bmc.enables(), 0x07);
        write_request(&mut bmc, &[0x18, IPMI_GET_BMC_GLOBAL_ENABLES_CMD]);
        assert_eq!(read_response(&mut bmc, &mut out), 4);
        assert_eq!(out[..4], [0x1c, 0x2f, 0x00, 0x07]);
    }

    #[test]
    fn canned_response_can_wait_for_its_command() {
        let mut bmc = KcsModel::new();
        let mut out = [0u8; 8];
        bmc.set_response_for(0x02, &[0x1c, 0x02, 0x00, 0x99]);
        write_request(&mut bmc, &[0x18, 0x01]);
        assert_eq!(read_response(&mut bmc, &mut out), 3);
        assert_eq!(out[2], 0xc1);
        write_request(&mut bmc, &[0x18, 0x02]);
        assert_eq!(read_response(&mut bmc, &mut out), 4);
        assert_eq!(out[3], 0x99);
        // Used up.
        write_request(&mut bmc, &[0x18, 0x02]);
        assert_eq!(read_response(&mut bmc, &mut out), 3);
    }

    #[test]
    fn garbage_reads_back_constant() {
        let mut bmc = KcsModel::new();
        bmc.set_fault(Fault::Garbage(0xff));
        bmc.write_cmd(KCS_WRITE_START);
        assert_eq!(bmc.read_status(), 0xff);
        assert_eq!(bmc.read_data(), 0xff);
        bmc.set_fault(Fault::None);
        assert_eq!(bmc.read_status(), 0x00);
    }

    #[test]
    fn misbehaviours_shape_the_response() {
        let mut out = [0u8; 8];
        let mut bmc = KcsModel::new();
        bmc.set_fault(Fault::WrongState {
            state: KCS_READ_STATE,
            times: 1,
        });
        bmc.write_cmd(KCS_WRITE_START);
        assert_eq!(bmc.read_status(), KCS_READ_STATE << 6);
        // One time only.
        bmc.write_cmd(KCS_WRITE_START);
        assert_eq!(bmc.read_status(), KCS_WRITE_STATE << 6);

        let mut bmc = KcsModel::new();
        bmc.set_fault(Fault::NeverAnswers);
        assert_eq!(write_request(&mut bmc, &[0x18, 0x01]), KCS_READ_STATE << 6);

        let mut bmc = KcsModel::new();
        bmc.set_fault(Fault::EarlyIdle { after: 1 });
        write_request(&mut bmc, &[0x18, 0x01]);
        assert_eq!(read_response(&mut bmc, &mut out), 1);

        let mut bmc = KcsModel::new();
        bmc.set_fault(Fault::NoDummyByte);
        write_request(&mut bmc, &[0x18, 0x01]);
        assert_eq!(read_response(&mut bmc, &mut out), 3);
        assert_eq!(bmc.read_status(), 0);

        let mut bmc = KcsModel::new();
        bmc.set_fault(Fault::EndlessResponse);
        write_request(&mut bmc, &[0x18, 0x01]);
        assert_eq!(read_response(&mut bmc, &mut out), 8);
        assert_eq!(out[3..], [ENDLESS_BYTE; 5]);
        bmc.put_stray_byte(0x12);
        assert_eq!(bmc.read_data(), 0x12);
    }
}
