// SPDX-License-Identifier: GPL-2.0

//! The system interface layer above the KCS state machine (pure), a port of the event handling of
//! `ipmi_si_intf.c`.
//!
//! C counterpart: `smi_event_handler()`, `handle_transaction_done()`, `handle_flags()`, the
//! `start_*()` helpers, `sender()` and `smi_timeout()` in
//! [`ipmi_si_intf.c`](srctree/drivers/char/ipmi/ipmi_si_intf.c), plus `try_enable_event_buffer()`
//! made asynchronous.
//!
//! [`Si`] owns the [`KcsSm`], one slot for an outbound request that waits for the interface
//! ("waiting"), and the request in flight ("current"). Besides what it is asked to send, it runs
//! the traffic the BMC needs by itself:
//! - SMS_ATN → Get Message Flags (App 0x31), then on the flags: watchdog pre-timeout (0x08) →
//!   Clear Message Flags; message available (0x01) → Get Message (0x33) until the queue is empty
//!   or 11 in a row; event buffer full (0x02) → Read Event Message Buffer (0x35) likewise;
//! - at start-up, the event message buffer is enabled through Get/Set BMC Global Enables
//!   (0x2f/0x2e) and the pre-timeout flag is cleared; with an IRQ, the receive-message and event
//!   interrupts are then enabled the same way, and checked again each time the upper layer asks for
//!   events.
//!
//! # How the kernel glue drives it
//!
//! Everything happens under one spinlock (IRQs off) that guards the [`Si`]; nothing here sleeps
//! or allocates. Results leave through a caller-provided sink, `FnMut(SiOutput<'_>)`, which runs
//! under that lock, so it must only copy the bytes and queue them (C `deliver_recv_msg()` and
//! `ipmi_smi_watchdog_pretimeout()`).
//! - Probe: [`Si::new`] with whether an IRQ is wired; [`Si::detect`]; Get Device ID through
//!   [`Si::enqueue`] and [`Si::event`] in a sleeping loop; then [`Si::start`].
//! - Send (C `sender()`): [`Si::enqueue`]; it fails with 0x82 while the interface is hosed.
//! - IRQ handler (C `ipmi_si_irq_handler()`): [`Si::event`] with `elapsed_us` 0.
//! - Timer (C `smi_timeout()`): [`Si::timeout`] with the microseconds since the timer was last
//!   armed, then re-arm it after [`Si::timer_rearm_us`], or leave it off on `None`. Without an IRQ
//!   the timer (or a thread, C's `kipmid`) is what moves things along, so the glue also starts it
//!   after every [`Si::enqueue`] and [`Si::start`] that did not return [`Next::Idle`].
//! - Upper layer wants events (C `request_events()`): [`Si::request_events`].
//!
//! Differences from C, all deliberate:
//! - Nothing is allocated, so the C paths for allocation failure (`alloc_msg_handle_irq()`
//!   turning the interrupt off) are gone.
//! - One call runs at most [`MAX_EVENTS_PER_CALL`] state machine steps and then returns
//!   [`Next::Now`]; C loops without bound, which a stuck SMS_ATN or an endless response turns into
//!   a hang in interrupt context.
//! - [`Si::enqueue`] refuses a request over 272 bytes with 0xC8 and a second waiting request with
//!   0xC0; C builds the 0xC8 response itself and hits `BUG_ON()`.
//! - When the interface gets hosed while it fetches a message or an event for itself, that fetch
//!   is dropped; C hands it up with 0x82, where it is ignored.
//! - No OEM flag handlers (Dell PowerEdge) and no broken-IRQ quirks (`cannot_disable_irq`,
//!   `irq_enable_broken`), no statistics, no BT interrupt register.

use crate::defs::{
    error_response, netfn_lun, response_netfn, Cc, EVENT_MSG_BUFFER_FULL, IPMI_BMC_EVT_MSG_BUFF,
    IPMI_BMC_EVT_MSG_INTR, IPMI_BMC_RCV_MSG_INTR, IPMI_CLEAR_MSG_FLAGS_CMD,
    IPMI_GET_BMC_GLOBAL_ENABLES_CMD, IPMI_GET_MSG_CMD, IPMI_GET_MSG_FLAGS_CMD, IPMI_MAX_MSG_LENGTH,
    IPMI_NETFN_APP_REQUEST, IPMI_READ_EVENT_MSG_BUFFER_CMD, IPMI_SET_BMC_GLOBAL_ENABLES_CMD,
    RECEIVE_MSG_AVAIL, WDT_PRE_TIMEOUT_INT,
};
use crate::kcs::sm::{KcsRegisters, KcsSm, KcsState, SmResult};
use crate::poll::Wait;

/// The global enables this driver manages (`GLOBAL_ENABLES_MASK`).
const GLOBAL_ENABLES_MASK: u8 =
    IPMI_BMC_EVT_MSG_BUFF | IPMI_BMC_RCV_MSG_INTR | IPMI_BMC_EVT_MSG_INTR;

/// The timer period while busy, or with interrupts (`SI_TIMEOUT_TIME_USEC`).
pub(crate) const SI_TIMEOUT_TIME_USEC: u32 = 10_000;
/// The timer period when the state machine asks for a short delay (`SI_SHORT_TIMEOUT_USEC`); C
/// rounds it up to one jiffy.
pub(crate) const SI_SHORT_TIMEOUT_USEC: u32 = 250;
/// The timer period while hosed (`SI_TIMEOUT_HOSED`, one second).
pub(crate) const SI_TIMEOUT_HOSED_USEC: u32 = 1_000_000;

/// The most state machine steps one call runs before it returns [`Next::Now`].
///
/// A 272-byte request and a 272-byte response take about 550.
pub(crate) const MAX_EVENTS_PER_CALL: u32 = 1024;

/// Get Message or Read Event Message Buffer answers taken in a row before the flags are read
/// again (C stops after `num_requests_in_a_row > 10`).
const MAX_REQUESTS_IN_A_ROW: u32 = 10;

/// The length of a Read Event Message Buffer response carrying an event.
const EVENT_RSP_LEN: usize = 19;

/// The App response network function with LUN 0, as the first response byte.
const APP_RESPONSE: u8 = netfn_lun(response_netfn(IPMI_NETFN_APP_REQUEST), 0);

/// The App request network function with LUN 0, as the first request byte.
const APP_REQUEST: u8 = netfn_lun(IPMI_NETFN_APP_REQUEST, 0);

/// What the interface is doing (C `enum si_intf_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SiState {
    /// Idle, or running a request from the upper layer (`SI_NORMAL`).
    Normal,
    /// Get Message Flags is in flight (`SI_GETTING_FLAGS`).
    GettingFlags,
    /// Read Event Message Buffer is in flight (`SI_GETTING_EVENTS`).
    GettingEvents,
    /// Clear Message Flags is in flight (`SI_CLEARING_FLAGS`).
    ClearingFlags,
    /// Get Message is in flight (`SI_GETTING_MESSAGES`).
    GettingMessages,
    /// Get BMC Global Enables is in flight (`SI_CHECKING_ENABLES`).
    CheckingEnables,
    /// Set BMC Global Enables is in flight (`SI_SETTING_ENABLES`).
    SettingEnables,
    /// Start-up: Get BMC Global Enables, to see whether the event buffer is on (the first half of
    /// C `try_enable_event_buffer()`).
    ProbingEventBuffer,
    /// Start-up: Set BMC Global Enables with the event buffer bit (the second half of C
    /// `try_enable_event_buffer()`).
    EnablingEventBuffer,
    /// The state machine failed; only the timer leaves this state (`SI_HOSED`).
    Hosed,
}

/// Something for the upper layer; byte slices are whole responses, `[netfn << 2 | lun, cmd, cc,
/// data...]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SiOutput<'a> {
    /// The response to the request given to [`Si::enqueue`], or an error made up for it (C
    /// `deliver_recv_msg()` of the current message, or `return_hosed_msg()`).
    Response(&'a [u8]),
    /// A Get Message response with completion code 0: a message for a command receiver.
    IncomingMessage(&'a [u8]),
    /// A Read Event Message Buffer response with completion code 0 and an event.
    Event(&'a [u8]),
    /// The watchdog pre-timeout flag was seen (C `ipmi_smi_watchdog_pretimeout()`).
    WatchdogPretimeout,
}

/// When the glue should call again (the C `enum si_sm_result` that `smi_event_handler()` returns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Call again at once: the step budget ran out with work left.
    Now,
    /// Call again after a short delay (`SI_SM_CALL_WITH_DELAY`).
    Delay,
    /// Call again after at least a tick (`SI_SM_CALL_WITH_TICK_DELAY`, or `SI_SM_ATTN` left for
    /// later).
    TickDelay,
    /// Nothing to do until an interrupt or a new request (`SI_SM_IDLE`).
    Idle,
    /// The interface is hosed; [`Si::timeout`] retries it (`SI_SM_HOSED`).
    Hosed,
}

/// The request in flight (C `curr_msg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CurrMsg {
    /// None.
    None,
    /// The upper layer's request; its first two bytes, to make up an error response.
    User([u8; 2]),
    /// A Get Message or Read Event Message Buffer of our own.
    Internal,
}

/// One KCS system interface (the event-handling half of C `struct smi_info`).
pub(crate) struct Si {
    sm: KcsSm,
    si_state: SiState,
    /// The request that waits for the interface (C `waiting_msg`).
    waiting: [u8; IPMI_MAX_MSG_LENGTH],
    waiting_len: usize,
    has_waiting: bool,
    curr: CurrMsg,
    /// Where responses are fetched into before they are handed up.
    rsp: [u8; IPMI_MAX_MSG_LENGTH],
    /// Flags from the last Get Message Flags, kept until all are handled.
    msg_flags: u8,
    num_requests_in_a_row: u32,
    last_was_flag_fetch: bool,
    /// An SMS_ATN came while busy; handle it when back to normal.
    got_attn: bool,
    /// Fetch events (and check the enables) the next time the interface is idle.
    req_events: bool,
    has_irq: bool,
    interrupt_disabled: bool,
    supports_event_msg_buff: bool,
    /// Counts the state machine's steps that did not wait: a look at a waiting interface that
    /// leaves it unchanged leaves the count unchanged ([`crate::poll::PollPacer`]).
    progress: u32,
}

impl Si {
    /// Creates the interface, with interrupts off until [`Si::start`] (C `try_smi_init()`).
    pub(crate) const fn new(has_irq: bool) -> Self {
        Si {
            sm: KcsSm::new(),
            si_state: SiState::Normal,
            waiting: [0; IPMI_MAX_MSG_LENGTH],
            waiting_len: 0,
            has_waiting: false,
            curr: CurrMsg::None,
            rsp: [0; IPMI_MAX_MSG_LENGTH],
            msg_flags: 0,
            num_requests_in_a_row: 0,
            last_was_flag_fetch: false,
            got_attn: false,
            req_events: false,
            has_irq,
            interrupt_disabled: true,
            supports_event_msg_buff: false,
            progress: 0,
        }
    }

    /// The progress count: it changes whenever a run of the state machine got somewhere.
    pub(crate) fn progress(&self) -> u32 {
        self.progress
    }

    /// What the interface waits for after [`Next::Delay`], and whether its timer must pace the
    /// looks: always without an interrupt; with one, only while the request is written (IBF
    /// raises no interrupt; the response does). `None`: the timer's usual period.
    pub(crate) fn paced_wait(&self) -> Option<Wait> {
        if self.si_state == SiState::Hosed || (self.irq_enabled() && !self.sm.is_writing()) {
            return None;
        }
        Some(if self.sm.awaits_response() {
            Wait::Response
        } else {
            Wait::Handshake
        })
    }

    /// What the interface is doing.
    #[cfg(any(test, ripmi_test))]
    pub(crate) fn state(&self) -> SiState {
        self.si_state
    }

    /// Whether nothing is in flight or waiting: the state machine is idle in `SI_NORMAL`, with no
    /// request of the upper layer or of our own (used to quiesce before a system suspend).
    pub(crate) fn is_idle(&self) -> bool {
        self.si_state == SiState::Normal
            && self.curr == CurrMsg::None
            && !self.has_waiting
            && self.sm.state() == KcsState::Idle
    }

    /// Forgets everything, as a freshly created interface, keeping only whether it has an IRQ;
    /// [`Si::start`] brings it up again (after a system resume, when the KCS may have been reset).
    pub(crate) fn reset(&mut self) {
        *self = Self::new(self.has_irq);
    }

    /// Whether the BMC's event message buffer is enabled (C `supports_event_msg_buff`, and
    /// `has_event_buffer`, which starts out the same).
    #[cfg(any(test, ripmi_test))]
    pub(crate) fn supports_event_msg_buff(&self) -> bool {
        self.supports_event_msg_buff
    }

    /// Whether interrupts drive the interface (C `io.irq && !interrupt_disabled`).
    fn irq_enabled(&self) -> bool {
        self.has_irq && !self.interrupt_disabled
    }

    /// Returns false when nothing answers at the registers (C `kcs_detect()`).
    pub(crate) fn detect(&self, regs: &mut impl KcsRegisters) -> bool {
        self.sm.detect(regs)
    }

    /// Starts the asynchronous start-up: enable the event buffer, clear the pre-timeout flag and,
    /// with an IRQ, turn the BMC interrupts on; then runs [`Si::event`].
    ///
    /// This is the tail of C `try_smi_init()`. Fails with 0xD5 unless the interface is idle.
    pub(crate) fn start(
        &mut self,
        regs: &mut impl KcsRegisters,
        sink: &mut impl FnMut(SiOutput<'_>),
    ) -> Result<Next, Cc> {
        if self.si_state != SiState::Normal || self.curr != CurrMsg::None {
            return Err(Cc::NOT_IN_MY_STATE);
        }
        // IRQ is defined to be set when non-zero. `req_events` will cause a global flags check
        // that will enable interrupts, once the start-up requests are done.
        if self.has_irq {
            self.interrupt_disabled = false;
            self.req_events = true;
        }
        self.start_new_msg(&[APP_REQUEST, IPMI_GET_BMC_GLOBAL_ENABLES_CMD]);
        self.si_state = SiState::ProbingEventBuffer;
        Ok(self.event(regs, 0, sink))
    }

    /// Hands a request, `[netfn << 2 | lun, cmd, data...]`, to the interface (C `sender()`).
    ///
    /// Fails with 0x82 while hosed, 0xC0 when a request already waits and 0xC8 over 272 bytes.
    /// Other length errors come back as a [`SiOutput::Response`] with the state machine's
    /// completion code, as in C. Then runs [`Si::event`].
    pub(crate) fn enqueue(
        &mut self,
        regs: &mut impl KcsRegisters,
        data: &[u8],
        sink: &mut impl FnMut(SiOutput<'_>),
    ) -> Result<Next, Cc> {
        if self.si_state == SiState::Hosed {
            return Err(Cc::BUS_ERR);
        }
        if self.has_waiting {
            return Err(Cc::NODE_BUSY);
        }
        let Some(dst) = self.waiting.get_mut(..data.len()) else {
            return Err(Cc::REQ_LEN_EXCEEDED);
        };
        dst.copy_from_slice(data);
        self.waiting_len = data.len();
        self.has_waiting = true;
        // C `check_start_timer_thread()`.
        if self.si_state == SiState::Normal && self.curr == CurrMsg::None {
            self.start_next_msg(sink);
        }
        Ok(self.event(regs, 0, sink))
    }

    /// Turns the BMC's interrupts off (C `disable_si_irq()`, at unload) or back on; the enables
    /// are written the next time the interface is idle. Does nothing without an IRQ.
    pub(crate) fn set_irq_enabled(&mut self, on: bool) {
        if !self.has_irq {
            return;
        }
        self.interrupt_disabled = !on;
        self.req_events = true;
    }

    /// Asks for the event buffer to be read (and the enables checked) when next idle
    /// (C `request_events()`); does nothing without an event buffer.
    pub(crate) fn request_events(&mut self) {
        if !self.supports_event_msg_buff {
            return;
        }
        self.req_events = true;
    }

    /// The timer body (C `smi_timeout()`): retries a hosed interface with Get Message Flags, then
    /// runs [`Si::event`] with the time since the timer was armed.
    pub(crate) fn timeout(
        &mut self,
        regs: &mut impl KcsRegisters,
        elapsed_us: u32,
        sink: &mut impl FnMut(SiOutput<'_>),
    ) -> Next {
        if self.si_state == SiState::Hosed {
            // Try something to see if the BMC is now operational.
            self.start_get_flags();
        }
        self.event(regs, elapsed_us, sink)
    }

    /// How long until the timer should run again after `next`, or `None` to leave it off (the
    /// re-arm policy of C `smi_timeout()`).
    pub(crate) fn timer_rearm_us(&self, next: Next) -> Option<u32> {
        if self.si_state == SiState::Hosed {
            return Some(SI_TIMEOUT_HOSED_USEC);
        }
        match next {
            Next::Idle => None,
            Next::Now => Some(SI_SHORT_TIMEOUT_USEC),
            // Running with interrupts, only do long timeouts.
            _ if self.irq_enabled() => Some(SI_TIMEOUT_TIME_USEC),
            Next::Delay => Some(SI_SHORT_TIMEOUT_USEC),
            Next::TickDelay | Next::Hosed => Some(SI_TIMEOUT_TIME_USEC),
        }
    }

    /// Runs the state machine as far as it goes without waiting (C `smi_event_handler()`);
    /// `elapsed_us` is 0 from an interrupt, the time since the last call from a timer.
    pub(crate) fn event(
        &mut self,
        regs: &mut impl KcsRegisters,
        elapsed_us: u32,
        sink: &mut impl FnMut(SiOutput<'_>),
    ) -> Next {
        let mut time = elapsed_us;
        let mut budget = MAX_EVENTS_PER_CALL;
        loop {
            // restart:
            if self.si_state == SiState::Hosed {
                // Just in case, hosed state is only left from the timeout.
                return Next::Hosed;
            }

            let mut result = loop {
                let Some(left) = budget.checked_sub(1) else {
                    return Next::Now;
                };
                budget = left;
                let r = self.sm.event(regs, time);
                time = 0;
                if r != SmResult::CallWithDelay {
                    self.progress = self.progress.wrapping_add(1);
                }
                if r != SmResult::CallWithoutDelay {
                    break r;
                }
            };

            match result {
                SmResult::TransactionComplete => {
                    self.handle_transaction_done(sink);
                    continue;
                }
                SmResult::Hosed => {
                    self.hosed(sink);
                    return Next::Hosed;
                }
                _ => {}
            }

            // If we are currently idle, or if the last thing that was done was a flag fetch and
            // there is a message pending, try to start the next message. We do the waiting
            // message check to avoid a stuck flag completely wedging the driver. Let a message
            // through in between flag operations if that happens.
            if result == SmResult::Idle
                || (result == SmResult::Attn && self.has_waiting && self.last_was_flag_fetch)
            {
                self.last_was_flag_fetch = false;
                result = self.start_next_msg(sink);
                if result != SmResult::Idle {
                    continue;
                }
            }

            // We prefer handling attn over new messages. (Here the state machine is only idle in
            // SI_NORMAL, so `got_attn` is a guard kept from C rather than a path that is taken.)
            if result == SmResult::Attn || self.got_attn {
                if self.si_state != SiState::Normal {
                    // We got an ATTN, but we are doing something else. Handle the ATTN later.
                    self.got_attn = true;
                } else {
                    self.got_attn = false;
                    self.start_get_flags();
                    continue;
                }
            }

            if result == SmResult::Idle && self.req_events {
                // We are idle and the upper layer requested that we fetch events, so do so. Take
                // this opportunity to check the interrupt and message enable state for the BMC.
                // The BMC can be asynchronously reset, and may thus get interrupts disabled and
                // messages disabled.
                self.req_events = false;
                if self.supports_event_msg_buff || self.has_irq {
                    self.start_check_enables();
                } else {
                    self.curr = CurrMsg::Internal;
                    self.start_getting_events();
                }
                continue;
            }

            return match result {
                SmResult::CallWithDelay => Next::Delay,
                SmResult::CallWithTickDelay | SmResult::Attn => Next::TickDelay,
                SmResult::Idle => Next::Idle,
                SmResult::Hosed => Next::Hosed,
                SmResult::CallWithoutDelay | SmResult::TransactionComplete => Next::Now,
            };
        }
    }

    /// Starts a request of our own; as in C the result is ignored, the state machine being idle
    /// whenever this is called (C `start_new_msg()`).
    fn start_new_msg(&mut self, msg: &[u8]) {
        let _ = self.sm.start_transaction(msg);
    }

    /// Sends Get BMC Global Enables (C `start_check_enables()`).
    fn start_check_enables(&mut self) {
        self.start_new_msg(&[APP_REQUEST, IPMI_GET_BMC_GLOBAL_ENABLES_CMD]);
        self.si_state = SiState::CheckingEnables;
    }

    /// Sends Clear Message Flags for the watchdog pre-timeout (C `start_clear_flags()`).
    fn start_clear_flags(&mut self) {
        self.start_new_msg(&[APP_REQUEST, IPMI_CLEAR_MSG_FLAGS_CMD, WDT_PRE_TIMEOUT_INT]);
        self.si_state = SiState::ClearingFlags;
    }

    /// Sends Get Message Flags (C `start_get_flags()`).
    fn start_get_flags(&mut self) {
        self.start_new_msg(&[APP_REQUEST, IPMI_GET_MSG_FLAGS_CMD]);
        self.si_state = SiState::GettingFlags;
    }

    /// Sends Get Message (C `start_getting_msg_queue()`).
    fn start_getting_msg_queue(&mut self) {
        self.start_new_msg(&[APP_REQUEST, IPMI_GET_MSG_CMD]);
        if self.si_state != SiState::GettingMessages {
            self.num_requests_in_a_row = 0;
            self.si_state = SiState::GettingMessages;
        }
    }

    /// Sends Read Event Message Buffer (C `start_getting_events()`).
    fn start_getting_events(&mut self) {
        self.start_new_msg(&[APP_REQUEST, IPMI_READ_EVENT_MSG_BUFFER_CMD]);
        if self.si_state != SiState::GettingEvents {
            self.num_requests_in_a_row = 0;
            self.si_state = SiState::GettingEvents;
        }
    }

    /// Answers the current request with `cc` (C `return_hosed_msg()`).
    fn return_hosed_msg(&mut self, cc: Cc, sink: &mut impl FnMut(SiOutput<'_>)) {
        if let CurrMsg::User(req) = self.curr {
            sink(SiOutput::Response(&error_response(&req, cc)));
        }
        self.curr = CurrMsg::None;
    }

    /// Moves the waiting request to the state machine (C `start_next_msg()`).
    fn start_next_msg(&mut self, sink: &mut impl FnMut(SiOutput<'_>)) -> SmResult {
        if !self.has_waiting {
            self.curr = CurrMsg::None;
            return SmResult::Idle;
        }
        self.take_waiting();
        let data = self.waiting.get(..self.waiting_len).unwrap_or(&[]);
        if let Err(cc) = self.sm.start_transaction(data) {
            self.return_hosed_msg(cc, sink);
        }
        SmResult::CallWithoutDelay
    }

    /// Makes the waiting request the current one.
    fn take_waiting(&mut self) {
        let data = self.waiting.get(..self.waiting_len).unwrap_or(&[]);
        let header = [
            data.first().copied().unwrap_or(0),
            data.get(1).copied().unwrap_or(0),
        ];
        self.curr = CurrMsg::User(header);
        self.has_waiting = false;
    }

    /// The state machine gave up: fail what is in flight and what waits with 0x82 (the
    /// `SI_SM_HOSED` branch of C `smi_event_handler()`).
    fn hosed(&mut self, sink: &mut impl FnMut(SiOutput<'_>)) {
        self.si_state = SiState::Hosed;
        // If we were handling a user message, format a response to send to the upper layer to
        // tell it about the error.
        self.return_hosed_msg(Cc::BUS_ERR, sink);
        // Also handle if there was a message waiting.
        if self.has_waiting {
            self.take_waiting();
            self.return_hosed_msg(Cc::BUS_ERR, sink);
        }
    }

    /// Acts on `msg_flags`, most urgent first (C `handle_flags()`).
    fn handle_flags(&mut self, sink: &mut impl FnMut(SiOutput<'_>)) {
        if self.msg_flags & WDT_PRE_TIMEOUT_INT != 0 {
            // Watchdog pre-timeout.
            self.start_clear_flags();
            self.msg_flags &= !WDT_PRE_TIMEOUT_INT;
            sink(SiOutput::WatchdogPretimeout);
        } else if self.msg_flags & RECEIVE_MSG_AVAIL != 0 {
            // Messages available.
            self.curr = CurrMsg::Internal;
            self.start_getting_msg_queue();
        } else if self.msg_flags & EVENT_MSG_BUFFER_FULL != 0 {
            // Events available.
            self.curr = CurrMsg::Internal;
            self.start_getting_events();
        } else {
            self.si_state = SiState::Normal;
        }
    }

    /// The enables this driver wants (C `current_global_enables()`).
    fn current_global_enables(&self) -> u8 {
        let mut enables = 0;
        if self.supports_event_msg_buff {
            enables |= IPMI_BMC_EVT_MSG_BUFF;
        }
        if self.irq_enabled() {
            enables |= IPMI_BMC_RCV_MSG_INTR;
            if self.supports_event_msg_buff {
                enables |= IPMI_BMC_EVT_MSG_INTR;
            }
        }
        enables
    }

    /// Reads the event buffer after the enables, if there is one.
    fn enables_done(&mut self) {
        if self.supports_event_msg_buff {
            self.curr = CurrMsg::Internal;
            self.start_getting_events();
        } else {
            self.si_state = SiState::Normal;
        }
    }

    /// Handles the response of the finished transaction (C `handle_transaction_done()`).
    fn handle_transaction_done(&mut self, sink: &mut impl FnMut(SiOutput<'_>)) {
        match self.si_state {
            SiState::Normal => {
                if let CurrMsg::User(_) = self.curr {
                    let len = self.sm.get_result(&mut self.rsp);
                    self.curr = CurrMsg::None;
                    sink(SiOutput::Response(self.rsp.get(..len).unwrap_or(&[])));
                }
            }
            SiState::GettingFlags => {
                // We got the flags from the SMI, now handle them.
                let mut msg = [0u8; 4];
                let len = self.sm.get_result(&mut msg);
                if msg[2] != 0 || len < 4 {
                    // Error fetching flags, or no flags (technically illegal): just give up for
                    // now.
                    self.si_state = SiState::Normal;
                } else {
                    self.msg_flags = msg[3];
                    self.last_was_flag_fetch = true;
                    self.handle_flags(sink);
                }
            }
            SiState::ClearingFlags => {
                // We cleared the flags; C only warns about an error.
                let mut msg = [0u8; 3];
                self.sm.get_result(&mut msg);
                self.si_state = SiState::Normal;
            }
            SiState::GettingEvents => {
                let len = self.sm.get_result(&mut self.rsp);
                self.curr = CurrMsg::None;
                // It appears some BMCs, with no event data, return no data in the message and
                // not a 0x80 error as the spec says they should. Shut down processing if the
                // data is not the right length.
                if self.rsp[2] != 0 || len != EVENT_RSP_LEN {
                    // Error getting event, probably done. Take off the event flag.
                    self.msg_flags &= !EVENT_MSG_BUFFER_FULL;
                    self.handle_flags(sink);
                } else {
                    self.num_requests_in_a_row = self.num_requests_in_a_row.saturating_add(1);
                    if self.num_requests_in_a_row > MAX_REQUESTS_IN_A_ROW {
                        // Stop if we do this too many times.
                        self.msg_flags &= !EVENT_MSG_BUFFER_FULL;
                    }
                    // The next request only fills the state machine's buffer, so `rsp` still
                    // holds the event afterwards; C also starts it before delivering.
                    self.handle_flags(sink);
                    sink(SiOutput::Event(self.rsp.get(..len).unwrap_or(&[])));
                }
            }
            SiState::GettingMessages => {
                let len = self.sm.get_result(&mut self.rsp);
                self.curr = CurrMsg::None;
                if self.rsp[2] != 0 {
                    // Error getting message, probably done. Take off the message flag.
                    self.msg_flags &= !RECEIVE_MSG_AVAIL;
                    self.handle_flags(sink);
                } else {
                    self.num_requests_in_a_row = self.num_requests_in_a_row.saturating_add(1);
                    if self.num_requests_in_a_row > MAX_REQUESTS_IN_A_ROW {
                        // Stop if we do this too many times.
                        self.msg_flags &= !RECEIVE_MSG_AVAIL;
                    }
                    self.handle_flags(sink);
                    sink(SiOutput::IncomingMessage(
                        self.rsp.get(..len).unwrap_or(&[]),
                    ));
                }
            }
            SiState::CheckingEnables => {
                let mut msg = [0u8; 4];
                self.sm.get_result(&mut msg);
                if msg[2] != 0 {
                    // Couldn't get irq info. Maybe ok, but ipmi might run very slowly.
                    self.si_state = SiState::Normal;
                    return;
                }
                let enables = self.current_global_enables();
                if enables != msg[3] & GLOBAL_ENABLES_MASK {
                    // Enables are not correct, fix them.
                    self.start_new_msg(&[
                        APP_REQUEST,
                        IPMI_SET_BMC_GLOBAL_ENABLES_CMD,
                        enables | (msg[3] & !GLOBAL_ENABLES_MASK),
                    ]);
                    self.si_state = SiState::SettingEnables;
                } else {
                    self.enables_done();
                }
            }
            SiState::SettingEnables => {
                // C only warns when the BMC refuses.
                let mut msg = [0u8; 4];
                self.sm.get_result(&mut msg);
                self.enables_done();
            }
            SiState::ProbingEventBuffer => {
                let len = self.sm.get_result(&mut self.rsp);
                let current = self.rsp[3];
                if len < 4
                    || self.rsp[0] != APP_RESPONSE
                    || self.rsp[1] != IPMI_GET_BMC_GLOBAL_ENABLES_CMD
                    || self.rsp[2] != 0
                {
                    // Invalid return from get global enables: no event buffer.
                    self.start_clear_flags();
                } else if current & IPMI_BMC_EVT_MSG_BUFF != 0 {
                    // The buffer is already enabled, nothing to do.
                    self.supports_event_msg_buff = true;
                    self.start_clear_flags();
                } else {
                    self.start_new_msg(&[
                        APP_REQUEST,
                        IPMI_SET_BMC_GLOBAL_ENABLES_CMD,
                        current | IPMI_BMC_EVT_MSG_BUFF,
                    ]);
                    self.si_state = SiState::EnablingEventBuffer;
                }
            }
            SiState::EnablingEventBuffer => {
                let len = self.sm.get_result(&mut self.rsp);
                // An error when setting the event buffer bit means that the event buffer is not
                // supported.
                self.supports_event_msg_buff = len >= 3
                    && self.rsp[0] == APP_RESPONSE
                    && self.rsp[1] == IPMI_SET_BMC_GLOBAL_ENABLES_CMD
                    && self.rsp[2] == 0;
                // Start clearing the flags, as C does once the probing is over.
                self.start_clear_flags();
            }
            SiState::Hosed => {}
        }
    }
}

#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_si))]
mod tests {
    use super::*;
    use crate::kcs::model::{Fault, KcsModel, MODEL_EVENT, MODEL_INCOMING};
    use crate::kcs::sm::KCS_READ_BYTE;

    /// Get Device ID.
    const GET_DEVICE_ID: [u8; 2] = [0x18, 0x01];
    /// A short Get Device ID answer.
    const DEVICE_ID_RSP: [u8; 5] = [0x1c, 0x01, 0x00, 0x20, 0x81];

    const APP: u8 = IPMI_NETFN_APP_REQUEST;
    const FLAGS: (u8, u8) = (APP, IPMI_GET_MSG_FLAGS_CMD);
    const CLEAR: (u8, u8) = (APP, IPMI_CLEAR_MSG_FLAGS_CMD);
    const GET_MSG: (u8, u8) = (APP, IPMI_GET_MSG_CMD);
    const READ_EVT: (u8, u8) = (APP, IPMI_READ_EVENT_MSG_BUFFER_CMD);
    const GET_EN: (u8, u8) = (APP, IPMI_GET_BMC_GLOBAL_ENABLES_CMD);
    const SET_EN: (u8, u8) = (APP, IPMI_SET_BMC_GLOBAL_ENABLES_CMD);

    /// Collects what the interface hands up.
    struct Rec {
        /// One letter per output, in order: R(esponse), M(essage), E(vent), W(atchdog).
        order: [u8; 64],
        order_len: usize,
        last: [u8; IPMI_MAX_MSG_LENGTH],
        last_len: usize,
    }

    impl Rec {
        fn new() -> Self {
            Rec {
                order: [0; 64],
                order_len: 0,
                last: [0; IPMI_MAX_MSG_LENGTH],
                last_len: 0,
            }
        }

        fn take(&mut self, out: SiOutput<'_>) {
            let (kind, bytes): (u8, &[u8]) = match out {
                SiOutput::Response(b) => (b'R', b),
                SiOutput::IncomingMessage(b) => (b'M', b),
                SiOutput::Event(b) => (b'E', b),
                SiOutput::WatchdogPretimeout => (b'W', &[]),
            };
            if let Some(slot) = self.order.get_mut(self.order_len) {
                *slot = kind;
                self.order_len += 1;
            }
            if !bytes.is_empty() {
                let n = bytes.len().min(self.last.len());
                self.last[..n].copy_from_slice(&bytes[..n]);
                self.last_len = n;
            }
        }

        fn order(&self) -> &[u8] {
            &self.order[..self.order_len]
        }

        fn last(&self) -> &[u8] {
            &self.last[..self.last_len]
        }
    }

    /// Calls the timer until the interface settles, passing `step_us` each time; returns the last
    /// result.
    fn run_timer(si: &mut Si, bmc: &mut KcsModel, rec: &mut Rec, step_us: u32) -> Next {
        let mut next = Next::Now;
        for _ in 0..10_000 {
            next = si.timeout(bmc, step_us, &mut |o| rec.take(o));
            if next == Next::Idle || next == Next::Hosed {
                break;
            }
        }
        next
    }

    #[test]
    fn user_request_round_trip() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        assert!(si.detect(&mut bmc));
        bmc.set_response(&DEVICE_ID_RSP);
        let next = si.enqueue(&mut bmc, &GET_DEVICE_ID, &mut |o| rec.take(o));
        assert_eq!(next, Ok(Next::Idle));
        assert_eq!(rec.order(), b"R");
        assert_eq!(rec.last(), &DEVICE_ID_RSP[..]);
        assert_eq!(si.state(), SiState::Normal);
        assert_eq!(bmc.last_request(), &GET_DEVICE_ID[..]);
        assert_eq!(si.timer_rearm_us(Next::Idle), None);
    }

    #[test]
    fn bad_lengths_are_refused() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        // Too short: the state machine's 0xC7 comes back as the response, as in C.
        let next = si.enqueue(&mut bmc, &[0x18], &mut |o| rec.take(o));
        assert_eq!(next, Ok(Next::Idle));
        assert_eq!(rec.order(), b"R");
        assert_eq!(rec.last(), &[0x1c, 0x00, 0xc7][..]);
        // Too long for the slot.
        let long = [0x18u8; IPMI_MAX_MSG_LENGTH + 1];
        let r = si.enqueue(&mut bmc, &long, &mut |o| rec.take(o));
        assert_eq!(r, Err(Cc::REQ_LEN_EXCEEDED));
        assert_eq!(bmc.requests(), 0);
    }

    #[test]
    fn second_request_waits_for_the_first() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.set_ibf_delay(1);
        let first = si.enqueue(&mut bmc, &GET_DEVICE_ID, &mut |o| rec.take(o));
        assert_eq!(first, Ok(Next::Delay));
        assert_eq!(si.timer_rearm_us(Next::Delay), Some(SI_SHORT_TIMEOUT_USEC));
        let second = si.enqueue(&mut bmc, &[0x18, 0x02], &mut |o| rec.take(o));
        assert_eq!(second, Ok(Next::Delay));
        // One slot only.
        let third = si.enqueue(&mut bmc, &[0x18, 0x03], &mut |o| rec.take(o));
        assert_eq!(third, Err(Cc::NODE_BUSY));
        assert_eq!(run_timer(&mut si, &mut bmc, &mut rec, 100), Next::Idle);
        assert_eq!(rec.order(), b"RR");
        assert_eq!(rec.last(), &[0x1c, 0x02, 0xc1][..]);
        assert_eq!(bmc.log(), &[(APP, 0x01), (APP, 0x02)][..]);
    }

    #[test]
    fn waiting_request_goes_before_attention() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.queue_messages(1);
        // As C `sender()` does, an idle interface starts the request before it looks at SMS_ATN.
        let r = si.enqueue(&mut bmc, &GET_DEVICE_ID, &mut |o| rec.take(o));
        assert_eq!(r, Ok(Next::Idle));
        assert_eq!(rec.order(), b"RM");
        assert_eq!(bmc.log(), &[(APP, 0x01), FLAGS, GET_MSG, GET_MSG][..]);
    }

    #[test]
    fn request_during_recovery_gets_d5() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        // A stray command the BMC sits on: after 5 s the idle state machine runs an abort.
        bmc.set_fault(Fault::StuckIbf);
        bmc.write_cmd(KCS_READ_BYTE);
        assert_eq!(si.event(&mut bmc, 0, &mut |o| rec.take(o)), Next::Delay);
        assert_eq!(
            si.event(&mut bmc, 5_000_001, &mut |o| rec.take(o)),
            Next::Delay
        );
        // The state machine is busy, so the request fails as in C, with 0xD5 as its response.
        let r = si.enqueue(&mut bmc, &GET_DEVICE_ID, &mut |o| rec.take(o));
        assert_eq!(r, Ok(Next::Delay));
        assert_eq!(rec.order(), b"R");
        assert_eq!(rec.last(), &[0x1c, 0x01, 0xd5][..]);
        bmc.set_fault(Fault::None);
        assert_eq!(run_timer(&mut si, &mut bmc, &mut rec, 100), Next::Idle);
        assert_eq!(rec.order(), b"R");
        assert_eq!(bmc.aborts(), 1);
        assert_eq!(bmc.requests(), 0);
    }

    #[test]
    fn attention_fetches_messages() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.queue_messages(2);
        assert_eq!(si.event(&mut bmc, 0, &mut |o| rec.take(o)), Next::Idle);
        assert_eq!(rec.order(), b"MM");
        assert_eq!(&rec.last()[..3], &[0x1c, 0x33, 0x00][..]);
        assert_eq!(&rec.last()[2..], &MODEL_INCOMING[..]);
        // C keeps asking until the queue says 0x80, without reading the flags again.
        assert_eq!(bmc.log(), &[FLAGS, GET_MSG, GET_MSG, GET_MSG][..]);
        assert_eq!(bmc.pending_messages(), 0);
        assert_eq!(si.state(), SiState::Normal);
    }

    #[test]
    fn attention_fetches_an_event() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.queue_events(1);
        assert_eq!(si.event(&mut bmc, 0, &mut |o| rec.take(o)), Next::Idle);
        assert_eq!(rec.order(), b"E");
        assert_eq!(rec.last().len(), 19);
        assert_eq!(&rec.last()[3..], &MODEL_EVENT[..]);
        assert_eq!(bmc.log(), &[FLAGS, READ_EVT, READ_EVT][..]);
    }

    #[test]
    fn attention_reports_watchdog_pretimeout() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.set_pretimeout();
        assert_eq!(si.event(&mut bmc, 0, &mut |o| rec.take(o)), Next::Idle);
        assert_eq!(rec.order(), b"W");
        assert_eq!(bmc.log(), &[FLAGS, CLEAR][..]);
        assert_eq!(bmc.last_request(), &[0x18, 0x30, 0x08][..]);
        assert!(!bmc.pretimeout());
    }

    #[test]
    fn pretimeout_comes_before_messages() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.set_pretimeout();
        bmc.queue_messages(1);
        bmc.queue_events(1);
        assert_eq!(si.event(&mut bmc, 0, &mut |o| rec.take(o)), Next::Idle);
        // Clearing the flags ends the round; SMS_ATN is still up, so the flags are read again.
        assert_eq!(rec.order(), b"WME");
        assert_eq!(
            bmc.log(),
            &[FLAGS, CLEAR, FLAGS, GET_MSG, GET_MSG, READ_EVT, READ_EVT][..]
        );
    }

    #[test]
    fn messages_stop_after_eleven_in_a_row() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.queue_messages(13);
        assert_eq!(si.event(&mut bmc, 0, &mut |o| rec.take(o)), Next::Idle);
        assert_eq!(rec.order(), b"MMMMMMMMMMMMM");
        let log = bmc.log();
        // Eleven Get Messages, then the flags again for the last two (and the 0x80).
        assert_eq!(log.len(), 1 + 11 + 1 + 3);
        assert_eq!(log[0], FLAGS);
        assert_eq!(log[11], GET_MSG);
        assert_eq!(log[12], FLAGS);
        assert_eq!(log[15], GET_MSG);
    }

    #[test]
    fn flag_fetch_error_gives_up_for_now() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.queue_messages(1);
        bmc.set_response(&[0x1c, 0x31, 0xc0]);
        assert_eq!(si.event(&mut bmc, 0, &mut |o| rec.take(o)), Next::Idle);
        // The failed fetch drops back to normal; SMS_ATN is still up, so it is tried again.
        assert_eq!(rec.order(), b"M");
        assert_eq!(bmc.log(), &[FLAGS, FLAGS, GET_MSG, GET_MSG][..]);
    }

    #[test]
    fn short_event_answer_ends_fetching() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.queue_events(1);
        // Some BMCs answer an empty buffer with cc 0 and no data: that is no event, and ends the
        // round. SMS_ATN is still up, so the flags are read again and the event comes then.
        bmc.set_response_for(IPMI_READ_EVENT_MSG_BUFFER_CMD, &[0x1c, 0x35, 0x00]);
        assert_eq!(si.event(&mut bmc, 0, &mut |o| rec.take(o)), Next::Idle);
        assert_eq!(rec.order(), b"E");
        assert_eq!(&rec.last()[3..], &MODEL_EVENT[..]);
        assert_eq!(bmc.log(), &[FLAGS, READ_EVT, FLAGS, READ_EVT, READ_EVT][..]);
    }

    #[test]
    fn startup_with_irq_enables_interrupts() {
        let mut si = Si::new(true);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.set_enables(IPMI_BMC_RCV_MSG_INTR);
        assert_eq!(si.start(&mut bmc, &mut |o| rec.take(o)), Ok(Next::Idle));
        // 01 -> 05 (event buffer), clear the pre-timeout flag, then 05 -> 07 (interrupts) and a
        // first look at the event buffer.
        assert_eq!(
            bmc.log(),
            &[GET_EN, SET_EN, CLEAR, GET_EN, SET_EN, READ_EVT][..]
        );
        assert_eq!(bmc.enables(), 0x07);
        assert!(si.supports_event_msg_buff());
        assert_eq!(si.state(), SiState::Normal);
        assert_eq!(rec.order(), b"");
        // With interrupts the timer only runs long periods.
        assert_eq!(si.timer_rearm_us(Next::Delay), Some(SI_TIMEOUT_TIME_USEC));
        // Asking for events checks the enables again; they are right, so just the buffer is read.
        si.request_events();
        assert_eq!(si.event(&mut bmc, 0, &mut |o| rec.take(o)), Next::Idle);
        assert_eq!(bmc.log().len(), 8);
        assert_eq!(bmc.log()[6], GET_EN);
        assert_eq!(bmc.log()[7], READ_EVT);
    }

    #[test]
    fn startup_without_irq_leaves_interrupts_off() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.set_enables(IPMI_BMC_RCV_MSG_INTR);
        assert_eq!(si.start(&mut bmc, &mut |o| rec.take(o)), Ok(Next::Idle));
        assert_eq!(bmc.log(), &[GET_EN, SET_EN, CLEAR][..]);
        assert_eq!(bmc.enables(), 0x05);
        // The first request for events fixes the enables: no receive interrupt without an IRQ.
        si.request_events();
        assert_eq!(si.event(&mut bmc, 0, &mut |o| rec.take(o)), Next::Idle);
        assert_eq!(&bmc.log()[3..], &[GET_EN, SET_EN, READ_EVT][..]);
        assert_eq!(bmc.enables(), IPMI_BMC_EVT_MSG_BUFF);
        assert_eq!(
            si.timer_rearm_us(Next::TickDelay),
            Some(SI_TIMEOUT_TIME_USEC)
        );
    }

    #[test]
    fn startup_keeps_an_enabled_event_buffer() {
        let mut si = Si::new(true);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        // Event buffer and system event logging on, interrupts off.
        bmc.set_enables(0x0c);
        assert_eq!(si.start(&mut bmc, &mut |o| rec.take(o)), Ok(Next::Idle));
        assert_eq!(bmc.log(), &[GET_EN, CLEAR, GET_EN, SET_EN, READ_EVT][..]);
        // The bit this driver does not manage is kept.
        assert_eq!(bmc.enables(), 0x0f);
    }

    #[test]
    fn startup_without_event_buffer() {
        let mut si = Si::new(true);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.set_response(&[0x1c, 0x2f, 0xc1]);
        assert_eq!(si.start(&mut bmc, &mut |o| rec.take(o)), Ok(Next::Idle));
        assert!(!si.supports_event_msg_buff());
        // Only the receive interrupt, and no event buffer to read.
        assert_eq!(bmc.log(), &[GET_EN, CLEAR, GET_EN, SET_EN][..]);
        assert_eq!(bmc.enables(), IPMI_BMC_RCV_MSG_INTR);
        // Without a buffer, asking for events does nothing.
        si.request_events();
        assert_eq!(si.event(&mut bmc, 0, &mut |o| rec.take(o)), Next::Idle);
        assert_eq!(bmc.log().len(), 4);
    }

    #[test]
    fn startup_when_the_bmc_refuses_the_event_buffer() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.set_ibf_delay(1);
        assert_eq!(si.start(&mut bmc, &mut |o| rec.take(o)), Ok(Next::Delay));
        assert_eq!(si.state(), SiState::ProbingEventBuffer);
        // Only idle interfaces start.
        let again = si.start(&mut bmc, &mut |o| rec.take(o));
        assert_eq!(again, Err(Cc::NOT_IN_MY_STATE));
        for _ in 0..100 {
            if si.state() != SiState::ProbingEventBuffer {
                break;
            }
            si.timeout(&mut bmc, 100, &mut |o| rec.take(o));
        }
        assert_eq!(si.state(), SiState::EnablingEventBuffer);
        bmc.set_response(&[0x1c, 0x2e, 0xcc]);
        assert_eq!(run_timer(&mut si, &mut bmc, &mut rec, 100), Next::Idle);
        assert!(!si.supports_event_msg_buff());
        assert_eq!(bmc.log(), &[GET_EN, SET_EN, CLEAR][..]);
    }

    #[test]
    fn hosed_fails_current_and_waiting_with_82() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.set_fault(Fault::StuckIbf);
        let r = si.enqueue(&mut bmc, &GET_DEVICE_ID, &mut |o| rec.take(o));
        assert_eq!(r, Ok(Next::Delay));
        let r = si.enqueue(&mut bmc, &[0x28, 0x40], &mut |o| rec.take(o));
        assert_eq!(r, Ok(Next::Delay));
        assert_eq!(run_timer(&mut si, &mut bmc, &mut rec, 100_000), Next::Hosed);
        assert_eq!(si.state(), SiState::Hosed);
        assert_eq!(rec.order(), b"RR");
        assert_eq!(rec.last(), &[0x2c, 0x40, 0x82][..]);
        // While hosed, requests fail at once and interrupts change nothing.
        let r = si.enqueue(&mut bmc, &GET_DEVICE_ID, &mut |o| rec.take(o));
        assert_eq!(r, Err(Cc::BUS_ERR));
        assert_eq!(si.event(&mut bmc, 0, &mut |o| rec.take(o)), Next::Hosed);
        assert_eq!(si.timer_rearm_us(Next::Hosed), Some(SI_TIMEOUT_HOSED_USEC));
    }

    #[test]
    fn timer_recovers_a_hosed_interface() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.set_fault(Fault::NeverAnswers);
        let r = si.enqueue(&mut bmc, &GET_DEVICE_ID, &mut |o| rec.take(o));
        assert_eq!(r, Ok(Next::Delay));
        assert_eq!(run_timer(&mut si, &mut bmc, &mut rec, 500_000), Next::Hosed);
        assert_eq!(rec.last(), &[0x1c, 0x01, 0x82][..]);
        // Still broken: the retry (Get Message Flags) hoses again.
        assert_eq!(run_timer(&mut si, &mut bmc, &mut rec, 500_000), Next::Hosed);
        // Fixed: the next timer run gets the flags and the interface is back.
        bmc.set_fault(Fault::None);
        assert_eq!(
            si.timeout(&mut bmc, 1_000_000, &mut |o| rec.take(o)),
            Next::Idle
        );
        assert_eq!(si.state(), SiState::Normal);
        bmc.set_response(&DEVICE_ID_RSP);
        let r = si.enqueue(&mut bmc, &GET_DEVICE_ID, &mut |o| rec.take(o));
        assert_eq!(r, Ok(Next::Idle));
        assert_eq!(rec.order(), b"RR");
        assert_eq!(rec.last(), &DEVICE_ID_RSP[..]);
    }

    #[test]
    fn stuck_attention_does_not_wedge_requests() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.set_attn_stuck(true);
        // Flags come back empty, SMS_ATN stays: the budget ends the call.
        assert_eq!(si.event(&mut bmc, 0, &mut |o| rec.take(o)), Next::Now);
        assert_eq!(si.timer_rearm_us(Next::Now), Some(SI_SHORT_TIMEOUT_USEC));
        let flag_fetches = bmc.requests();
        assert!(flag_fetches > 50);
        // A request gets through between two flag fetches.
        let r = si.enqueue(&mut bmc, &[0x18, 0x40], &mut |o| rec.take(o));
        assert_eq!(r, Ok(Next::Now));
        assert_eq!(rec.order(), b"R");
        assert_eq!(rec.last(), &[0x1c, 0x40, 0xc1][..]);
        bmc.set_attn_stuck(false);
        assert_eq!(si.event(&mut bmc, 0, &mut |o| rec.take(o)), Next::Idle);
    }

    #[test]
    fn attention_during_a_request_is_handled_after_it() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.set_response(&DEVICE_ID_RSP);
        bmc.set_ibf_delay(1);
        let r = si.enqueue(&mut bmc, &GET_DEVICE_ID, &mut |o| rec.take(o));
        assert_eq!(r, Ok(Next::Delay));
        bmc.queue_messages(1);
        bmc.set_ibf_delay(0);
        assert_eq!(run_timer(&mut si, &mut bmc, &mut rec, 100), Next::Idle);
        assert_eq!(rec.order(), b"RM");
        assert_eq!(bmc.log(), &[(APP, 0x01), FLAGS, GET_MSG, GET_MSG][..]);
    }

    #[test]
    fn endless_response_is_cut_and_truncated() {
        let mut si = Si::new(false);
        let mut bmc = KcsModel::new();
        let mut rec = Rec::new();
        bmc.set_fault(Fault::EndlessResponse);
        let r = si.enqueue(&mut bmc, &GET_DEVICE_ID, &mut |o| rec.take(o));
        assert_eq!(r, Ok(Next::Now));
        assert_eq!(si.event(&mut bmc, 0, &mut |o| rec.take(o)), Next::Now);
        assert_eq!(rec.order(), b"");
        bmc.set_fault(Fault::None);
        assert_eq!(si.event(&mut bmc, 0, &mut |o| rec.take(o)), Next::Idle);
        assert_eq!(rec.order(), b"R");
        assert_eq!(rec.last().len(), IPMI_MAX_MSG_LENGTH);
        assert_eq!(&rec.last()[..3], &[0x1c, 0x01, 0xc6][..]);
    }
}
