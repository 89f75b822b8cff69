//! The simulated BMC: command handling, the receive queue, the event buffer and attention.
//!
//! [`Bmc`] does no I/O. [`Bmc::handle`] takes one request from the host and returns a [`Reply`]:
//! the completion code, the response data and the control commands (ATN, IRQ enable) that must
//! reach QEMU *before* the response. The control socket queues incoming messages with
//! [`Bmc::inject`], which likewise returns the control commands to send.
//!
//! Attention follows the message flags (bit 0 receive queue non-empty, bit 1 event buffer full,
//! bit 3 watchdog pre-timeout): every newly queued message or event sends `ATTN_IRQ` (02) when the
//! matching interrupt is enabled in the BMC Global Enables and `ATTN` (01) otherwise; when the
//! flags drop to zero `NOATTN` (00) is sent. Set BMC Global Enables sends `ENABLE_IRQ` (05) when
//! bit 0 or bit 1 is set and `DISABLE_IRQ` (06) otherwise, because QEMU's KCS model only raises
//! interrupts after an external BMC has enabled them.

use crate::frame::ctrl;
use crate::ipmi::{
    self, app, cc, chassis, medium, netfn, protocol, sensor, storage, Incoming, Layout,
};
use crate::sdr::{self, Repository};
use crate::sel::Sel;
use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Number of IPMI channels.
pub const CHANNELS: usize = 16;
/// Channel number meaning "the channel this request arrived on".
pub const THIS_CHANNEL: u8 = 0x0E;
/// Channel number of the system interface.
pub const SYSTEM_CHANNEL: u8 = 0x0F;
/// Global Enables after power-on and reset: only system event logging (as QEMU's sim).
pub const DEFAULT_GLOBAL_ENABLES: u8 = 0x08;
/// Global Enables bits the simulator accepts.
pub const SUPPORTED_GLOBAL_ENABLES: u8 = 0x0F;
/// Most messages the receive queue holds; injecting more fails. Large enough for flood tests
/// (`inject ... count=N`); the bodies are small.
pub const MAX_QUEUE: usize = 65536;
/// The GUID reported unless changed (the ASCII of "ripmi-bmcsim" followed by 00 00 00 01).
pub const DEFAULT_GUID: [u8; 16] = *b"ripmi-bmcsim\0\0\0\x01";

/// Message flag: receive message queue non-empty.
pub const FLAG_RECV_QUEUE: u8 = 0x01;
/// Message flag: event message buffer full.
pub const FLAG_EVENT_BUF: u8 = 0x02;
/// Message flag: watchdog pre-timeout interrupt occurred.
pub const FLAG_PRETIMEOUT: u8 = 0x08;

/// What Get Channel Info reports for one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The channel exists with this medium and protocol.
    Present {
        /// Medium type number (see [`crate::ipmi::medium`]).
        medium: u8,
        /// Protocol type number (see [`crate::ipmi::protocol`]).
        protocol: u8,
    },
    /// No such channel: Get Channel Info answers 0xCC (invalid data field).
    Absent,
    /// Get Channel Info answers 0xC1, as a BMC without the command would.
    Unsupported,
}

impl Channel {
    /// A present channel with the usual protocol for `medium`.
    pub fn with_medium(medium: u8) -> Channel {
        Channel::Present {
            medium,
            protocol: protocol::default_for(medium),
        }
    }

    /// Parses `absent`/`none`, `unsupported`/`c1`, or a medium name or hex number with an
    /// optional protocol (hex).
    pub fn parse(medium_arg: &str, protocol_arg: Option<&str>) -> Result<Channel, String> {
        match medium_arg.to_ascii_lowercase().as_str() {
            "absent" | "none" => return Ok(Channel::Absent),
            "unsupported" | "c1" => return Ok(Channel::Unsupported),
            _ => {}
        }
        let m = medium::parse(medium_arg).ok_or_else(|| format!("bad medium '{medium_arg}'"))?;
        let protocol = match protocol_arg {
            Some(p) => ipmi::parse_hex_u8(p)
                .filter(|v| *v < 0x20)
                .ok_or_else(|| format!("bad protocol '{p}'"))?,
            None => protocol::default_for(m),
        };
        Ok(Channel::Present {
            medium: m,
            protocol,
        })
    }

    /// The Get Message layout for messages injected on this channel (IPMB if not present).
    pub fn layout(&self) -> Layout {
        match self {
            Channel::Present { medium, .. } => Layout::for_medium(*medium),
            _ => Layout::Ipmb,
        }
    }

    /// One-line description for the `media` control command.
    pub fn describe(&self) -> String {
        match self {
            Channel::Present { medium, protocol } => {
                format!("{} protocol=0x{protocol:02x}", medium::name(*medium))
            }
            Channel::Absent => "absent".to_string(),
            Channel::Unsupported => "unsupported".to_string(),
        }
    }
}

/// The default channel table: 0 IPMB, 1 802.3 LAN, 2 IPMB, 3-13 absent, 15 system interface
/// (14 is "this channel" and is answered with channel 15's entry).
pub fn default_channels() -> [Channel; CHANNELS] {
    let mut c = [Channel::Absent; CHANNELS];
    c[0] = Channel::with_medium(medium::IPMB);
    c[1] = Channel::with_medium(medium::LAN8023);
    c[2] = Channel::with_medium(medium::IPMB);
    c[SYSTEM_CHANNEL as usize] = Channel::with_medium(medium::SYSTEM);
    c
}

/// Fields of the Get Device ID response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceId {
    /// Device ID (QEMU's sim: 0x20).
    pub device_id: u8,
    /// Device revision byte (bit 7: provides device SDRs).
    pub device_rev: u8,
    /// Firmware major revision (7 bits).
    pub fw_major: u8,
    /// Firmware minor revision (BCD).
    pub fw_minor: u8,
    /// IPMI version, minor in bits 7:4 and major in 3:0 (0x02 is 2.0, 0x51 is 1.5).
    pub ipmi_version: u8,
    /// Additional device support bits (0x07: sensor, SDR repository, SEL).
    pub additional_support: u8,
    /// IANA manufacturer ID (20 bits).
    pub mfg_id: u32,
    /// Product ID.
    pub product_id: u16,
}

impl Default for DeviceId {
    fn default() -> Self {
        DeviceId {
            device_id: 0x20,
            device_rev: 0x00,
            fw_major: 0x00,
            fw_minor: 0x00,
            ipmi_version: 0x02,
            additional_support: 0x07,
            mfg_id: 0,
            product_id: 0,
        }
    }
}

/// Behaviour switches, changed with `set KEY VALUE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The BMC's own IPMB address (responder address in IPMB layouts, rsSWID in LAN ones).
    pub bmc_addr: u8,
    /// Answer IPMB requests sent on channel 0 to `loopback_addr` (as QEMU's sim does).
    pub loopback: bool,
    /// Address of the fake controller that answers looped-back requests.
    pub loopback_addr: u8,
    /// Completion code for Send Message when it is not looped back (`None`: 0x00).
    pub sendmsg_cc: Option<u8>,
    /// Device/System GUID (`None`: both commands answer 0xC1).
    pub guid: Option<[u8; 16]>,
    /// Interrupt number reported in the system interface's Get Channel Info.
    pub sys_irq: u8,
    /// A stuck attention line: `Some(code)` re-asserts ATN (`01`, or `02` with the interrupt)
    /// after every response and at once when set, whether or not anything is pending.
    pub stuck_atn: Option<u8>,
    /// Most record bytes one Get SDR returns; asking for more gets 0xCA.
    pub sdr_max_read: u8,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bmc_addr: 0x20,
            loopback: true,
            loopback_addr: 0x40,
            sendmsg_cc: None,
            guid: Some(DEFAULT_GUID),
            sys_irq: 0x05,
            stuck_atn: None,
            sdr_max_read: sdr::DEFAULT_MAX_READ,
        }
    }
}

/// One Send Message the host issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Target channel (low nibble of the first data byte).
    pub chan: u8,
    /// The whole request data, starting with the channel byte as the host sent it.
    pub data: Vec<u8>,
}

/// Counters reported by `stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BmcStats {
    /// Requests handled.
    pub requests: u64,
    /// Requests per (netfn, cmd).
    pub by_cmd: BTreeMap<(u8, u8), u64>,
    /// Messages queued by `inject` (and loopback responses).
    pub injected: u64,
    /// Messages handed to the host by Get Message.
    pub delivered: u64,
    /// Send Message requests recorded.
    pub sent: u64,
    /// Events put in the event buffer.
    pub events: u64,
    /// Queued messages thrown away (Clear Message Flags bit 0, cold reset, `flush`).
    pub flushed: u64,
    /// Machine resets reported by QEMU (`04 A1`).
    pub host_resets: u64,
    /// BMC-side cold resets (the `reset` fault).
    pub bmc_resets: u64,
    /// Chassis Control requests carried out, indexed by their code (`chassis::CTL_*`: power
    /// down, power up, power cycle, hard reset, diagnostic interrupt, soft shutdown).
    pub chassis_controls: [u64; 6],
}

/// Parameters of an injected message; `None` fields take the defaults documented in the README.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InjectSpec {
    /// Channel the message arrives on.
    pub chan: u8,
    /// Requester address (IPMB slave address or LAN software ID).
    pub src: u8,
    /// Network function.
    pub netfn: u8,
    /// Command.
    pub cmd: u8,
    /// Data bytes.
    pub data: Vec<u8>,
    /// rqSeq (default: the injection id modulo 64).
    pub seq: Option<u8>,
    /// LUN in the netFn byte (default 2, SMS).
    pub lun: Option<u8>,
    /// Requester LUN (default 0).
    pub rq_lun: Option<u8>,
    /// Privilege nibble (default 0, or 4 on LAN layouts).
    pub privilege: Option<u8>,
    /// LAN session handle (default 1).
    pub handle: Option<u8>,
    /// Responder address / rsSWID (default the BMC address).
    pub rs_addr: Option<u8>,
    /// Layout override (default from the channel's medium).
    pub layout: Option<Layout>,
}

/// Result of a successful injection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injected {
    /// Running injection number, starting at 1.
    pub id: u64,
    /// The rqSeq used.
    pub seq: u8,
    /// The Get Message body queued.
    pub body: Vec<u8>,
    /// Control commands to send to QEMU.
    pub ctrl: Vec<u8>,
}

/// The response to one host request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Completion code.
    pub cc: u8,
    /// Response data after the completion code.
    pub data: Vec<u8>,
    /// Control commands for QEMU, to be sent before the response.
    pub ctrl: Vec<u8>,
    /// Control commands for QEMU, to be sent after the response: hardware operations (Chassis
    /// Control), which a real BMC carries out once it has answered.
    pub after: Vec<u8>,
}

impl From<Result<Vec<u8>, u8>> for Reply {
    /// `Ok(data)` succeeds with the data; `Err(code)` is that completion code alone.
    fn from(r: Result<Vec<u8>, u8>) -> Reply {
        match r {
            Ok(d) => Reply::ok(d),
            Err(code) => Reply::cc(code),
        }
    }
}

/// Seconds since 1970 on the host's clock (SEL time, erase timestamps).
pub fn wall_clock() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0)
}

impl Reply {
    /// A successful reply with `data`.
    pub fn ok(data: Vec<u8>) -> Reply {
        Reply {
            cc: cc::OK,
            data,
            ctrl: Vec::new(),
            after: Vec::new(),
        }
    }

    /// An error reply carrying only a completion code.
    pub fn cc(code: u8) -> Reply {
        Reply {
            cc: code,
            data: Vec::new(),
            ctrl: Vec::new(),
            after: Vec::new(),
        }
    }

    fn with_ctrl(mut self, ctrl: Vec<u8>) -> Reply {
        self.ctrl = ctrl;
        self
    }
}

/// Basic watchdog state (no actions are taken on expiry besides the expiration flag).
#[derive(Debug, Clone, Default)]
struct Watchdog {
    initialized: bool,
    timer_use: u8,
    action: u8,
    pretimeout: u8,
    expired: u8,
    initial: u16,
    deadline: Option<Instant>,
}

impl Watchdog {
    /// Stops a timer whose deadline passed and records the expiration flag.
    fn tick(&mut self, now: Instant) {
        if let Some(d) = self.deadline {
            if now >= d {
                self.deadline = None;
                self.expired |= 1 << (self.timer_use & 7);
            }
        }
    }

    fn start(&mut self, now: Instant) {
        self.deadline = Some(now + Duration::from_millis(u64::from(self.initial) * 100));
    }

    /// Present countdown in 100 ms units, rounded up.
    fn present(&self, now: Instant) -> u16 {
        match self.deadline {
            Some(d) => {
                let left = d.saturating_duration_since(now).as_millis();
                u16::try_from(left.div_ceil(100)).unwrap_or(u16::MAX)
            }
            None => 0,
        }
    }
}

/// The simulated BMC.
#[derive(Debug)]
pub struct Bmc {
    /// Get Device ID fields.
    pub device: DeviceId,
    /// Behaviour switches.
    pub settings: Settings,
    /// Get Channel Info answers, indexed by channel.
    pub channels: [Channel; CHANNELS],
    /// Counters.
    pub stats: BmcStats,
    global_enables: u8,
    queue: VecDeque<Vec<u8>>,
    event: Option<[u8; 16]>,
    pretimeout: bool,
    attn: bool,
    watchdog: Watchdog,
    sent: Vec<Sent>,
    next_id: u64,
    /// The SDR repository and its sensors (empty unless populated).
    pub sdr: Repository,
    /// The System Event Log (empty unless populated).
    pub sel: Sel,
    /// When the BMC started: sensor readings are a function of the time since.
    epoch: Instant,
}

impl Default for Bmc {
    fn default() -> Self {
        Self::new()
    }
}

impl Bmc {
    /// A BMC with the default identity, settings and channel table.
    pub fn new() -> Bmc {
        Bmc {
            device: DeviceId::default(),
            settings: Settings::default(),
            channels: default_channels(),
            stats: BmcStats::default(),
            global_enables: DEFAULT_GLOBAL_ENABLES,
            queue: VecDeque::new(),
            event: None,
            pretimeout: false,
            attn: false,
            watchdog: Watchdog::default(),
            sent: Vec::new(),
            next_id: 1,
            sdr: Repository::default(),
            sel: Sel::default(),
            epoch: Instant::now(),
        }
    }

    /// Fills the SDR repository with `sensors` sensors (and the BMC's locator record) and the
    /// SEL with `sel_entries` events about them, as of `wall_now` (seconds since 1970). Zero
    /// leaves that store empty, as the plain simulator has it.
    pub fn populate(
        &mut self,
        sensors: usize,
        sel_entries: usize,
        wall_now: u32,
    ) -> Result<(), String> {
        let sdr = Repository::populate(sensors, wall_now)?;
        let sel = Sel::populate(sel_entries, sdr.sensors(), wall_now)?;
        self.sdr = sdr;
        self.sel = sel;
        Ok(())
    }

    /// Sets the instant sensor readings count from (for tests).
    pub fn set_epoch(&mut self, epoch: Instant) {
        self.epoch = epoch;
    }

    /// Current message flags (Get Message Flags response).
    pub fn flags(&self) -> u8 {
        let mut f = 0;
        if !self.queue.is_empty() {
            f |= FLAG_RECV_QUEUE;
        }
        if self.event.is_some() {
            f |= FLAG_EVENT_BUF;
        }
        if self.pretimeout {
            f |= FLAG_PRETIMEOUT;
        }
        f
    }

    /// Current BMC Global Enables.
    pub fn global_enables(&self) -> u8 {
        self.global_enables
    }

    /// Messages waiting for Get Message.
    pub fn queue_len(&self) -> usize {
        self.queue.len()
    }

    /// Every Send Message recorded since the last [`Bmc::clear_sent`].
    pub fn sent(&self) -> &[Sent] {
        &self.sent
    }

    /// Forgets the recorded Send Messages; returns how many there were.
    pub fn clear_sent(&mut self) -> usize {
        std::mem::take(&mut self.sent).len()
    }

    /// Whether the attention bit is currently asserted towards QEMU.
    pub fn attention(&self) -> bool {
        self.attn
    }

    fn irq_wanted(&self) -> bool {
        let f = self.flags();
        let ge = self.global_enables;
        (f & (FLAG_RECV_QUEUE | FLAG_PRETIMEOUT) != 0 && ge & 0x01 != 0)
            || (f & FLAG_EVENT_BUF != 0 && ge & 0x02 != 0)
    }

    /// Brings the ATN line in line with the flags. `fresh` re-sends ATN even if already set (a
    /// new message arrived), so that the interface raises a new interrupt.
    fn attn_update(&mut self, fresh: bool) -> Vec<u8> {
        if self.flags() != 0 {
            if fresh || !self.attn {
                self.attn = true;
                let code = if self.irq_wanted() {
                    ctrl::ATTN_IRQ
                } else {
                    ctrl::ATTN
                };
                return vec![code];
            }
        } else if self.attn {
            self.attn = false;
            return vec![ctrl::NOATTN];
        }
        Vec::new()
    }

    fn irq_enable_ctrl(&self) -> u8 {
        if self.global_enables & 0x03 != 0 {
            ctrl::ENABLE_IRQ
        } else {
            ctrl::DISABLE_IRQ
        }
    }

    /// Control commands to send when QEMU (re)connects: re-enable interrupts if the host had
    /// enabled them, and re-assert attention if anything is pending.
    pub fn on_connect(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.global_enables & 0x03 != 0 {
            out.push(ctrl::ENABLE_IRQ);
        }
        if self.flags() != 0 {
            out.extend(self.attn_update(true));
        } else {
            self.attn = false;
        }
        out
    }

    /// QEMU reported a machine reset (`04 A1`): Global Enables return to their default (so
    /// interrupts are disabled), the watchdog stops; queued messages and events are kept.
    pub fn host_reset(&mut self) -> Vec<u8> {
        self.stats.host_resets += 1;
        self.global_enables = DEFAULT_GLOBAL_ENABLES;
        self.watchdog.deadline = None;
        self.pretimeout = false;
        let mut out = vec![ctrl::DISABLE_IRQ];
        if self.flags() != 0 {
            out.extend(self.attn_update(true));
        } else {
            out.extend(self.attn_update(false));
        }
        out
    }

    /// Queues a message for the host. Fails if the channel number is out of range or the queue
    /// is full.
    pub fn inject(&mut self, spec: &InjectSpec) -> Result<Injected, String> {
        let seq = spec.seq.unwrap_or((self.next_id % 64) as u8) & 0x3F;
        let id = self.next_id;
        let mut one = spec.clone();
        one.seq = Some(seq);
        let body = self.build_body(&one)?;
        let ctrl = self.enqueue(body.clone())?;
        Ok(Injected {
            id,
            seq,
            body,
            ctrl,
        })
    }

    /// The Get Message body for `spec` (whose `seq` must be set by the caller, else 0).
    fn build_body(&self, spec: &InjectSpec) -> Result<Vec<u8>, String> {
        if usize::from(spec.chan) >= CHANNELS {
            return Err(format!("channel {} out of range 0-15", spec.chan));
        }
        if spec.netfn > 0x3F {
            return Err(format!("netfn 0x{:02x} out of range 0-3f", spec.netfn));
        }
        let layout = spec
            .layout
            .unwrap_or_else(|| self.channels[usize::from(spec.chan)].layout());
        let incoming = Incoming {
            chan: spec.chan,
            privilege: spec
                .privilege
                .unwrap_or(if layout == Layout::Lan { 4 } else { 0 })
                & 0x0F,
            netfn: spec.netfn,
            rs_lun: spec.lun.unwrap_or(2) & 3,
            rs_addr: spec.rs_addr.unwrap_or(self.settings.bmc_addr),
            rq_addr: spec.src,
            rq_seq: spec.seq.unwrap_or(0) & 0x3F,
            rq_lun: spec.rq_lun.unwrap_or(0) & 3,
            cmd: spec.cmd,
            data: spec.data.clone(),
            session_handle: spec.handle.unwrap_or(1),
        };
        Ok(incoming.get_msg_body(layout))
    }

    /// Queues `n` copies of the message described by `spec` at once (a flood), each with its own
    /// injection id and, unless `spec.seq` is given, its own rqSeq (id modulo 64), exactly as `n`
    /// separate [`Bmc::inject`] calls would, but raising ATN once at the end. Nothing is queued
    /// if the `n` messages do not fit. Returns the first injection and the id of the last.
    pub fn inject_many(&mut self, spec: &InjectSpec, n: usize) -> Result<(Injected, u64), String> {
        if n == 0 {
            return Err("count must be at least 1".into());
        }
        if self.queue.len() + n > MAX_QUEUE {
            return Err(format!(
                "receive queue full ({} queued, {n} more do not fit in {MAX_QUEUE})",
                self.queue.len()
            ));
        }
        let mut first = self.inject(spec)?;
        for _ in 1..n {
            let id = self.next_id;
            let mut one = spec.clone();
            one.seq = Some(spec.seq.unwrap_or((id % 64) as u8));
            let body = self.build_body(&one)?;
            self.next_id += 1;
            self.stats.injected += 1;
            self.queue.push_back(body);
        }
        let last = self.next_id - 1;
        if n > 1 {
            // One fresh ATN for the whole batch (the first message's ATN was already taken).
            first.ctrl = self.attn_update(true);
        }
        Ok((first, last))
    }

    /// Queues a Get Message body exactly as given (everything after the completion code).
    /// Returns the injection id and the control commands to send.
    pub fn inject_raw(&mut self, body: Vec<u8>) -> Result<(u64, Vec<u8>), String> {
        let id = self.next_id;
        let ctrl = self.enqueue(body)?;
        Ok((id, ctrl))
    }

    fn enqueue(&mut self, body: Vec<u8>) -> Result<Vec<u8>, String> {
        if self.queue.len() >= MAX_QUEUE {
            return Err(format!("receive queue full ({MAX_QUEUE} messages)"));
        }
        self.next_id += 1;
        self.stats.injected += 1;
        self.queue.push_back(body);
        Ok(self.attn_update(true))
    }

    /// Fills the event message buffer (replacing an unread event).
    pub fn set_event(&mut self, event: [u8; 16]) -> Vec<u8> {
        self.event = Some(event);
        self.stats.events += 1;
        self.attn_update(true)
    }

    /// Drops every queued message and the event buffer; returns how many messages were dropped
    /// and the control commands to send.
    pub fn flush(&mut self) -> (usize, Vec<u8>) {
        let n = self.queue.len();
        self.queue.clear();
        self.event = None;
        self.stats.flushed += n as u64;
        (n, self.attn_update(false))
    }

    /// Handles one request from the host.
    pub fn handle(&mut self, nf: u8, lun: u8, cmd: u8, data: &[u8], now: Instant) -> Reply {
        self.stats.requests += 1;
        *self.stats.by_cmd.entry((nf, cmd)).or_default() += 1;
        if lun != 0 {
            return Reply::cc(cc::INVALID_FOR_LUN);
        }
        match (nf, cmd) {
            (netfn::APP, app::GET_DEVICE_ID) => self.get_device_id(),
            (netfn::APP, app::COLD_RESET) => self.cold_reset(),
            (netfn::APP, app::WARM_RESET) => Reply::ok(Vec::new()),
            (netfn::APP, app::GET_DEVICE_GUID) | (netfn::APP, app::GET_SYSTEM_GUID) => {
                match self.settings.guid {
                    Some(g) => Reply::ok(g.to_vec()),
                    None => Reply::cc(cc::INVALID_CMD),
                }
            }
            (netfn::APP, app::RESET_WATCHDOG) => self.reset_watchdog(now),
            (netfn::APP, app::SET_WATCHDOG) => self.set_watchdog(data, now),
            (netfn::APP, app::GET_WATCHDOG) => self.get_watchdog(now),
            (netfn::APP, app::SET_GLOBAL_ENABLES) => self.set_global_enables(data),
            (netfn::APP, app::GET_GLOBAL_ENABLES) => Reply::ok(vec![self.global_enables]),
            (netfn::APP, app::CLEAR_MSG_FLAGS) => self.clear_msg_flags(data),
            (netfn::APP, app::GET_MSG_FLAGS) => Reply::ok(vec![self.flags()]),
            (netfn::APP, app::GET_MSG) => self.get_msg(),
            (netfn::APP, app::SEND_MSG) => self.send_msg(data),
            (netfn::APP, app::READ_EVENT_BUF) => self.read_event_buf(),
            (netfn::APP, app::GET_CHANNEL_INFO) => self.get_channel_info(data),
            (netfn::CHASSIS, chassis::GET_CAPABILITIES) => {
                let a = self.settings.bmc_addr;
                Reply::ok(vec![0x00, a, a, a, a])
            }
            // Power on, last power event none, no front panel info; restore policy unknown.
            (netfn::CHASSIS, chassis::GET_STATUS) => Reply::ok(vec![0x61, 0x00, 0x00, 0x00]),
            (netfn::CHASSIS, chassis::CONTROL) => self.chassis_control(data),
            (netfn::STORAGE, storage::GET_SEL_INFO) => Reply::ok(self.sel.info()),
            (netfn::STORAGE, storage::GET_SEL_ALLOC_INFO) => Reply::ok(self.sel.alloc_info()),
            (netfn::STORAGE, storage::RESERVE_SEL) => {
                Reply::ok(self.sel.reservation.reserve().to_le_bytes().to_vec())
            }
            (netfn::STORAGE, storage::GET_SEL_ENTRY) => Reply::from(self.sel.get(data)),
            (netfn::STORAGE, storage::CLEAR_SEL) => Reply::from(self.sel.clear(data, wall_clock())),
            (netfn::STORAGE, storage::GET_SEL_TIME) => {
                Reply::ok(wall_clock().to_le_bytes().to_vec())
            }
            (netfn::STORAGE, storage::GET_SDR_REPO_INFO) => Reply::ok(self.sdr.info()),
            (netfn::STORAGE, storage::GET_SDR_REPO_ALLOC_INFO) => Reply::ok(self.sdr.alloc_info()),
            (netfn::STORAGE, storage::RESERVE_SDR_REPO) => {
                Reply::ok(self.sdr.reservation.reserve().to_le_bytes().to_vec())
            }
            (netfn::STORAGE, storage::GET_SDR) => {
                Reply::from(self.sdr.get(data, self.settings.sdr_max_read))
            }
            (netfn::SENSOR_EVENT, cmd) => self.sensor_cmd(cmd, data, now),
            _ => Reply::cc(cc::INVALID_CMD),
        }
    }

    /// Sensor/Event netfn commands about the sensors of the SDR. The Device SDR commands
    /// (20h-22h) answer 0xC1, so tools read the SDR repository instead.
    fn sensor_cmd(&self, cmd: u8, data: &[u8], now: Instant) -> Reply {
        let known = matches!(
            cmd,
            sensor::GET_SENSOR_HYSTERESIS
                | sensor::GET_SENSOR_THRESHOLDS
                | sensor::GET_SENSOR_EVENT_ENABLE
                | sensor::GET_SENSOR_EVENT_STATUS
                | sensor::GET_SENSOR_READING
                | sensor::GET_SENSOR_TYPE
        );
        if !known {
            return Reply::cc(cc::INVALID_CMD);
        }
        let Some(&number) = data.first() else {
            return Reply::cc(cc::REQ_LEN_INVALID);
        };
        let Some(s) = self.sdr.sensor(number) else {
            return Reply::cc(cc::NOT_PRESENT);
        };
        let elapsed = now.saturating_duration_since(self.epoch).as_secs_f64();
        match cmd {
            sensor::GET_SENSOR_READING => Reply::ok(s.reading(elapsed)),
            sensor::GET_SENSOR_TYPE => Reply::ok(vec![s.sensor_type, s.reading_type]),
            sensor::GET_SENSOR_THRESHOLDS if s.is_threshold() => {
                let mut d = vec![s.readable];
                d.extend(s.thresholds);
                Reply::ok(d)
            }
            sensor::GET_SENSOR_HYSTERESIS if s.is_threshold() => Reply::ok(s.hysteresis.to_vec()),
            sensor::GET_SENSOR_EVENT_ENABLE => {
                // All event messages and scanning enabled; every event the sensor has.
                let m = s.event_mask().to_le_bytes();
                Reply::ok(vec![0xC0, m[0], m[1], m[0], m[1]])
            }
            sensor::GET_SENSOR_EVENT_STATUS => {
                // Asserted events: the thresholds the reading is beyond, or the discrete states.
                let asserted = if s.is_threshold() {
                    let status = s.threshold_status(s.raw(elapsed));
                    (0..6)
                        .filter(|&i| status & (1 << i) != 0)
                        .fold(0u16, |acc, i| acc | (1 << sdr::THRESHOLD_EVENT_OFFSET[i]))
                } else {
                    s.states
                };
                let a = asserted.to_le_bytes();
                Reply::ok(vec![0xC0, a[0], a[1], 0x00, 0x00])
            }
            _ => Reply::cc(cc::ILLEGAL_FOR_SENSOR),
        }
    }

    fn get_device_id(&self) -> Reply {
        let d = &self.device;
        let mfg = d.mfg_id.to_le_bytes();
        let prod = d.product_id.to_le_bytes();
        Reply::ok(vec![
            d.device_id,
            d.device_rev,
            d.fw_major & 0x7F,
            d.fw_minor,
            d.ipmi_version,
            d.additional_support,
            mfg[0],
            mfg[1],
            mfg[2] & 0x0F,
            prod[0],
            prod[1],
        ])
    }

    /// Chassis Control: answers 0 and then asks QEMU to carry it out, as QEMU's own
    /// ipmi-bmc-sim does (`hw/ipmi/ipmi_bmc_sim.c`, chassis_control): power down is a machine
    /// power-off (`03 A1`: QEMU ends the run), power cycle and hard reset a machine reset
    /// (`04 A1`; the test VMs run with `-no-reboot`, so that ends the run too), the diagnostic
    /// interrupt an NMI (`07 A1`); power up is a no-op (the machine is on) and soft shutdown
    /// QEMU's shutdown request (`09 A1`). Bits 7:4 of the data byte are reserved and ignored;
    /// codes above 5 are invalid data (0xCC).
    fn chassis_control(&mut self, data: &[u8]) -> Reply {
        let Some(&b) = data.first() else {
            return Reply::cc(cc::REQ_LEN_INVALID);
        };
        let code = b & 0x0F;
        let op = match code {
            chassis::CTL_POWER_DOWN => Some(ctrl::POWEROFF),
            chassis::CTL_POWER_UP => None,
            chassis::CTL_POWER_CYCLE | chassis::CTL_HARD_RESET => Some(ctrl::RESET),
            chassis::CTL_DIAG_INTERRUPT => Some(ctrl::SEND_NMI),
            chassis::CTL_SOFT_SHUTDOWN => Some(ctrl::FORCEOFF),
            _ => return Reply::cc(cc::INVALID_DATA),
        };
        self.stats.chassis_controls[code as usize] += 1;
        let mut r = Reply::ok(Vec::new());
        r.after.extend(op);
        r
    }

    fn cold_reset(&mut self) -> Reply {
        self.global_enables = DEFAULT_GLOBAL_ENABLES;
        self.sdr.reservation.cancel();
        self.sel.reservation.cancel();
        self.watchdog = Watchdog::default();
        self.pretimeout = false;
        let mut ctrl = vec![ctrl::DISABLE_IRQ];
        let (_, more) = self.flush();
        ctrl.extend(more);
        Reply::ok(Vec::new()).with_ctrl(ctrl)
    }

    /// The BMC resets itself (a firmware crash or watchdog, not a host request): Global Enables
    /// back to their default (interrupts off, `06 A1`), the watchdog stopped, the receive queue
    /// and the event buffer lost, ATN dropped (`00 A1`, always, in case it was raised by hand).
    /// Returns the control commands to send.
    pub fn bmc_reset(&mut self) -> Vec<u8> {
        self.stats.bmc_resets += 1;
        self.global_enables = DEFAULT_GLOBAL_ENABLES;
        self.sdr.reservation.cancel();
        self.sel.reservation.cancel();
        self.watchdog = Watchdog::default();
        self.pretimeout = false;
        let n = self.queue.len();
        self.queue.clear();
        self.event = None;
        self.stats.flushed += n as u64;
        self.attn = false;
        vec![ctrl::DISABLE_IRQ, ctrl::NOATTN]
    }

    /// The control command a stuck ATN line sends after every response, if any.
    pub fn stuck_atn_ctrl(&self) -> Option<u8> {
        self.settings.stuck_atn
    }

    fn set_global_enables(&mut self, data: &[u8]) -> Reply {
        let Some(&v) = data.first() else {
            return Reply::cc(cc::REQ_LEN_INVALID);
        };
        if v & !SUPPORTED_GLOBAL_ENABLES != 0 {
            return Reply::cc(cc::INVALID_DATA);
        }
        self.global_enables = v;
        let mut ctrl = vec![self.irq_enable_ctrl()];
        if self.flags() != 0 && self.irq_wanted() {
            ctrl.extend(self.attn_update(true));
        }
        Reply::ok(Vec::new()).with_ctrl(ctrl)
    }

    fn clear_msg_flags(&mut self, data: &[u8]) -> Reply {
        let Some(&v) = data.first() else {
            return Reply::cc(cc::REQ_LEN_INVALID);
        };
        if v & FLAG_RECV_QUEUE != 0 {
            self.stats.flushed += self.queue.len() as u64;
            self.queue.clear();
        }
        if v & FLAG_EVENT_BUF != 0 {
            self.event = None;
        }
        if v & FLAG_PRETIMEOUT != 0 {
            self.pretimeout = false;
        }
        let ctrl = self.attn_update(false);
        Reply::ok(Vec::new()).with_ctrl(ctrl)
    }

    fn get_msg(&mut self) -> Reply {
        let Some(body) = self.queue.pop_front() else {
            return Reply::cc(cc::EMPTY);
        };
        self.stats.delivered += 1;
        let ctrl = self.attn_update(false);
        Reply::ok(body).with_ctrl(ctrl)
    }

    fn read_event_buf(&mut self) -> Reply {
        let Some(ev) = self.event.take() else {
            return Reply::cc(cc::EMPTY);
        };
        let ctrl = self.attn_update(false);
        Reply::ok(ev.to_vec()).with_ctrl(ctrl)
    }

    fn get_channel_info(&self, data: &[u8]) -> Reply {
        let Some(&b) = data.first() else {
            return Reply::cc(cc::REQ_LEN_INVALID);
        };
        let mut ch = b & 0x0F;
        if ch == THIS_CHANNEL {
            ch = SYSTEM_CHANNEL;
        }
        match self.channels[usize::from(ch)] {
            Channel::Absent => Reply::cc(cc::INVALID_DATA),
            Channel::Unsupported => Reply::cc(cc::INVALID_CMD),
            Channel::Present { medium, protocol } => {
                let session = match medium {
                    medium::LAN8023 | medium::OTHER_LAN => 0x80,
                    medium::ASYNC => 0x40,
                    _ => 0x00,
                };
                let aux = if ch == SYSTEM_CHANNEL {
                    [self.settings.sys_irq; 2]
                } else {
                    [0, 0]
                };
                // Vendor ID: the IPMI enterprise number 7154 (0x001BF2).
                Reply::ok(vec![
                    ch,
                    medium & 0x7F,
                    protocol & 0x1F,
                    session,
                    0xF2,
                    0x1B,
                    0x00,
                    aux[0],
                    aux[1],
                ])
            }
        }
    }

    fn send_msg(&mut self, data: &[u8]) -> Reply {
        let Some(&chan_byte) = data.first() else {
            return Reply::cc(cc::REQ_LEN_INVALID);
        };
        let chan = chan_byte & 0x0F;
        self.sent.push(Sent {
            chan,
            data: data.to_vec(),
        });
        self.stats.sent += 1;
        if let Some(ctrl) = self.loopback(chan, data) {
            return Reply::ok(Vec::new()).with_ctrl(ctrl);
        }
        Reply::cc(self.settings.sendmsg_cc.unwrap_or(cc::OK))
    }

    /// Answers an IPMB request on channel 0 to the loopback address, like QEMU's sim: App Get
    /// Device ID gets a device ID, anything else 0xC1. Returns `None` when the message is not
    /// for the loopback controller; `Some` (possibly with no control commands, when the
    /// checksums are bad or the requester LUN is not 2 and so no response is queued) otherwise.
    fn loopback(&mut self, chan: u8, d: &[u8]) -> Option<Vec<u8>> {
        if !self.settings.loopback || chan != 0 || d.len() < 8 {
            return None;
        }
        let (rs_sa, nf_lun, rq_sa, seq_lun, cmd) = (d[1], d[2], d[4], d[5], d[6]);
        if rs_sa != self.settings.loopback_addr || nf_lun & 0x04 != 0 {
            return None;
        }
        if ipmi::checksum(&d[1..4]) != 0 || ipmi::checksum(&d[4..]) != 0 || seq_lun & 3 != 2 {
            return Some(Vec::new());
        }
        let req_netfn = nf_lun >> 2;
        let mut rsp = vec![cc::OK];
        if req_netfn == netfn::APP && cmd == app::GET_DEVICE_ID {
            rsp.extend([
                0x00, 0x00, 0x00, 0x00, 0x51, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            ]);
        } else {
            rsp[0] = cc::INVALID_CMD;
        }
        let answer = Incoming {
            chan: 0,
            privilege: 0,
            netfn: req_netfn | 1,
            rs_lun: seq_lun & 3,
            rs_addr: rq_sa,
            rq_addr: rs_sa,
            rq_seq: seq_lun >> 2,
            rq_lun: nf_lun & 3,
            cmd,
            data: rsp,
            session_handle: 0,
        };
        self.enqueue(answer.get_msg_body(Layout::Ipmb)).ok()
    }

    fn reset_watchdog(&mut self, now: Instant) -> Reply {
        self.watchdog.tick(now);
        if !self.watchdog.initialized {
            return Reply::cc(cc::EMPTY);
        }
        self.watchdog.start(now);
        Reply::ok(Vec::new())
    }

    fn set_watchdog(&mut self, data: &[u8], now: Instant) -> Reply {
        if data.len() < 6 {
            return Reply::cc(cc::REQ_LEN_INVALID);
        }
        let timer_use = data[0] & 0x07;
        if timer_use == 0 || timer_use > 5 || data[1] & 0x07 > 3 || (data[1] >> 4) & 0x07 > 3 {
            return Reply::cc(cc::INVALID_DATA);
        }
        let wd = &mut self.watchdog;
        wd.tick(now);
        let dont_stop = data[0] & 0x40 != 0;
        let was_running = wd.deadline.is_some();
        wd.initialized = true;
        wd.timer_use = data[0] & 0x87;
        wd.action = data[1] & 0x77;
        wd.pretimeout = data[2];
        wd.expired &= !data[3];
        wd.initial = u16::from_le_bytes([data[4], data[5]]);
        if was_running && dont_stop {
            wd.start(now);
        } else {
            wd.deadline = None;
        }
        Reply::ok(Vec::new())
    }

    fn get_watchdog(&mut self, now: Instant) -> Reply {
        self.watchdog.tick(now);
        let wd = &self.watchdog;
        let running = if wd.deadline.is_some() { 0x40 } else { 0 };
        let initial = wd.initial.to_le_bytes();
        let present = wd.present(now).to_le_bytes();
        Reply::ok(vec![
            wd.timer_use | running,
            wd.action,
            wd.pretimeout,
            wd.expired,
            initial[0],
            initial[1],
            present[0],
            present[1],
        ])
    }

    /// Changes one setting (`set KEY VALUE`). Numbers are hex.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let byte = || ipmi::parse_hex_u8(value).ok_or_else(|| format!("bad hex byte '{value}'"));
        match key {
            "device_id" => self.device.device_id = byte()?,
            "device_rev" => self.device.device_rev = byte()?,
            "fw_major" => self.device.fw_major = byte()?,
            "fw_minor" => self.device.fw_minor = byte()?,
            "ipmi_version" => self.device.ipmi_version = byte()?,
            "additional_support" => self.device.additional_support = byte()?,
            "mfg_id" => {
                self.device.mfg_id = ipmi::parse_hex_u32(value)
                    .filter(|v| *v < 0x10_0000)
                    .ok_or_else(|| format!("bad manufacturer id '{value}'"))?
            }
            "product_id" => {
                self.device.product_id = ipmi::parse_hex_u32(value)
                    .and_then(|v| u16::try_from(v).ok())
                    .ok_or_else(|| format!("bad product id '{value}'"))?
            }
            "guid" => {
                self.settings.guid = if value == "none" {
                    None
                } else {
                    let hexdigits: String = value.chars().filter(|c| *c != '-').collect();
                    let v = ipmi::parse_hex_bytes([hexdigits.as_str()])?;
                    Some(v.try_into().map_err(|_| "a GUID is 16 bytes".to_string())?)
                }
            }
            "bmc_addr" => self.settings.bmc_addr = byte()?,
            "loopback" => {
                self.settings.loopback = match value {
                    "on" | "1" | "true" => true,
                    "off" | "0" | "false" => false,
                    _ => return Err(format!("loopback takes on or off, not '{value}'")),
                }
            }
            "loopback_addr" => self.settings.loopback_addr = byte()?,
            "sendmsg_cc" => {
                self.settings.sendmsg_cc = if value == "none" { None } else { Some(byte()?) }
            }
            "sys_irq" => self.settings.sys_irq = byte()?,
            "sdr_max_read" => {
                self.settings.sdr_max_read = byte()
                    .ok()
                    .filter(|v| *v > 0)
                    .ok_or_else(|| format!("sdr_max_read takes a hex byte 1-ff, not '{value}'"))?
            }
            "stuck_atn" => {
                self.settings.stuck_atn = match value {
                    "off" | "0" => None,
                    "on" | "1" => Some(ctrl::ATTN),
                    "irq" | "2" => Some(ctrl::ATTN_IRQ),
                    _ => return Err(format!("stuck_atn takes off, on or irq, not '{value}'")),
                }
            }
            _ => return Err(format!("unknown setting '{key}'")),
        }
        Ok(())
    }

    /// Every setting as `KEY=VALUE`, in the form [`Bmc::set`] accepts.
    pub fn settings_list(&self) -> Vec<String> {
        let d = &self.device;
        let s = &self.settings;
        vec![
            format!("device_id={:02x}", d.device_id),
            format!("device_rev={:02x}", d.device_rev),
            format!("fw_major={:02x}", d.fw_major),
            format!("fw_minor={:02x}", d.fw_minor),
            format!("ipmi_version={:02x}", d.ipmi_version),
            format!("additional_support={:02x}", d.additional_support),
            format!("mfg_id={:x}", d.mfg_id),
            format!("product_id={:x}", d.product_id),
            format!(
                "guid={}",
                s.guid.map_or("none".to_string(), |g| crate::frame::hex(&g)
                    .replace(' ', ""))
            ),
            format!("bmc_addr={:02x}", s.bmc_addr),
            format!("loopback={}", if s.loopback { "on" } else { "off" }),
            format!("loopback_addr={:02x}", s.loopback_addr),
            format!(
                "sendmsg_cc={}",
                s.sendmsg_cc
                    .map_or("none".to_string(), |c| format!("{c:02x}"))
            ),
            format!("sys_irq={:02x}", s.sys_irq),
            format!(
                "stuck_atn={}",
                match s.stuck_atn {
                    None => "off",
                    Some(ctrl::ATTN_IRQ) => "irq",
                    Some(_) => "on",
                }
            ),
            format!("sdr_max_read={:02x}", s.sdr_max_read),
        ]
    }

    /// Sets the Get Channel Info answer for `chan` (channel 14 cannot be changed).
    pub fn set_channel(&mut self, chan: u8, channel: Channel) -> Result<(), String> {
        if chan == THIS_CHANNEL {
            return Err("channel 14 means 'this channel' and is answered with channel 15".into());
        }
        let slot = self
            .channels
            .get_mut(usize::from(chan))
            .ok_or_else(|| format!("channel {chan} out of range 0-15"))?;
        *slot = channel;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Instant {
        Instant::now()
    }

    fn app(bmc: &mut Bmc, cmd: u8, data: &[u8]) -> Reply {
        bmc.handle(netfn::APP, 0, cmd, data, now())
    }

    fn ipmb_example() -> InjectSpec {
        InjectSpec {
            chan: 0,
            src: 0x40,
            netfn: 0x30,
            cmd: 0x05,
            data: vec![0x01, 0x02],
            seq: Some(7),
            ..InjectSpec::default()
        }
    }

    #[test]
    fn get_device_id_matches_qemus_sim_defaults() {
        let mut bmc = Bmc::new();
        let r = app(&mut bmc, app::GET_DEVICE_ID, &[]);
        assert_eq!(r.cc, 0);
        assert_eq!(r.data, [0x20, 0x00, 0x00, 0x00, 0x02, 0x07, 0, 0, 0, 0, 0]);
        assert!(r.ctrl.is_empty());
    }

    #[test]
    fn device_id_is_configurable() {
        let mut bmc = Bmc::new();
        bmc.set("device_id", "0x21").unwrap();
        bmc.set("fw_major", "1").unwrap();
        bmc.set("fw_minor", "23").unwrap();
        bmc.set("mfg_id", "1bf2").unwrap();
        bmc.set("product_id", "0x1234").unwrap();
        let r = app(&mut bmc, app::GET_DEVICE_ID, &[]);
        assert_eq!(
            r.data,
            [0x21, 0x00, 0x01, 0x23, 0x02, 0x07, 0xf2, 0x1b, 0x00, 0x34, 0x12]
        );
        assert!(bmc.set("mfg_id", "100000").is_err());
        assert!(bmc.set("nonsense", "1").is_err());
        assert!(bmc.settings_list().contains(&"mfg_id=1bf2".to_string()));
    }

    #[test]
    fn non_zero_lun_gets_c2_and_unknown_commands_c1() {
        let mut bmc = Bmc::new();
        assert_eq!(
            bmc.handle(netfn::APP, 1, app::GET_DEVICE_ID, &[], now()).cc,
            0xC2
        );
        assert_eq!(app(&mut bmc, 0x99, &[]).cc, 0xC1);
        assert_eq!(
            bmc.handle(netfn::TRANSPORT, 0, 0x02, &[1, 2], now()).cc,
            0xC1
        );
        assert_eq!(bmc.handle(0x2c, 0, 0x01, &[0], now()).cc, 0xC1);
        assert_eq!(bmc.stats.requests, 4);
        assert_eq!(bmc.stats.by_cmd[&(0x2c, 0x01)], 1);
    }

    #[test]
    fn global_enables_drive_the_qemu_irq_enable() {
        let mut bmc = Bmc::new();
        assert_eq!(app(&mut bmc, app::GET_GLOBAL_ENABLES, &[]).data, [0x08]);
        let r = app(&mut bmc, app::SET_GLOBAL_ENABLES, &[0x0d]);
        assert_eq!((r.cc, r.ctrl.clone()), (0, vec![ctrl::ENABLE_IRQ]));
        assert_eq!(app(&mut bmc, app::GET_GLOBAL_ENABLES, &[]).data, [0x0d]);
        let r = app(&mut bmc, app::SET_GLOBAL_ENABLES, &[0x0c]);
        assert_eq!(r.ctrl, [ctrl::DISABLE_IRQ]);
        let r = app(&mut bmc, app::SET_GLOBAL_ENABLES, &[0x02]);
        assert_eq!(
            r.ctrl,
            [ctrl::ENABLE_IRQ],
            "event buffer interrupt alone enables too"
        );
        assert_eq!(app(&mut bmc, app::SET_GLOBAL_ENABLES, &[0x10]).cc, 0xCC);
        assert_eq!(app(&mut bmc, app::SET_GLOBAL_ENABLES, &[]).cc, 0xC7);
    }

    #[test]
    fn get_message_delivers_the_reference_ipmb_layout_and_drives_atn() {
        let mut bmc = Bmc::new();
        app(&mut bmc, app::SET_GLOBAL_ENABLES, &[0x07]);
        assert_eq!(app(&mut bmc, app::GET_MSG, &[]).cc, 0x80);
        assert_eq!(app(&mut bmc, app::GET_MSG_FLAGS, &[]).data, [0x00]);

        let inj = bmc.inject(&ipmb_example()).unwrap();
        assert_eq!(inj.ctrl, [ctrl::ATTN_IRQ]);
        assert_eq!(inj.seq, 7);
        assert_eq!(inj.id, 1);
        assert_eq!(app(&mut bmc, app::GET_MSG_FLAGS, &[]).data, [0x01]);
        let second = bmc.inject(&ipmb_example()).unwrap();
        assert_eq!(
            second.ctrl,
            [ctrl::ATTN_IRQ],
            "every new message re-raises ATN"
        );
        assert_eq!(second.id, 2);

        let r = app(&mut bmc, app::GET_MSG, &[]);
        assert_eq!(r.cc, 0);
        assert_eq!(
            r.data,
            [0x00, 0xc2, 0x1e, 0x40, 0x1c, 0x05, 0x01, 0x02, 0x9c]
        );
        assert!(r.ctrl.is_empty(), "queue not drained yet");
        let r = app(&mut bmc, app::GET_MSG, &[]);
        assert_eq!(r.ctrl, [ctrl::NOATTN], "queue drained");
        assert_eq!(app(&mut bmc, app::GET_MSG_FLAGS, &[]).data, [0x00]);
        assert_eq!(app(&mut bmc, app::GET_MSG, &[]).cc, 0x80);
        assert_eq!(bmc.stats.delivered, 2);
    }

    #[test]
    fn atn_without_irq_until_interrupts_are_enabled() {
        let mut bmc = Bmc::new();
        let inj = bmc.inject(&ipmb_example()).unwrap();
        assert_eq!(inj.ctrl, [ctrl::ATTN]);
        let r = app(&mut bmc, app::SET_GLOBAL_ENABLES, &[0x01]);
        assert_eq!(r.ctrl, [ctrl::ENABLE_IRQ, ctrl::ATTN_IRQ]);
    }

    #[test]
    fn lan_channel_uses_the_lan_layout() {
        let mut bmc = Bmc::new();
        let inj = bmc
            .inject(&InjectSpec {
                chan: 1,
                src: 0x81,
                netfn: 0x30,
                cmd: 0x07,
                data: vec![0xAA],
                seq: Some(5),
                rq_lun: Some(1),
                handle: Some(0x11),
                ..InjectSpec::default()
            })
            .unwrap();
        assert_eq!(
            inj.body,
            [0x41, 0x11, 0x20, 0xc2, 0x1e, 0x81, 0x15, 0x07, 0xaa, 0xb9]
        );
        let r = app(&mut bmc, app::GET_MSG, &[]);
        assert_eq!(r.data, inj.body);
    }

    #[test]
    fn injection_follows_media_changes_and_overrides() {
        let mut bmc = Bmc::new();
        bmc.set_channel(2, Channel::with_medium(medium::LAN8023))
            .unwrap();
        let mut spec = ipmb_example();
        spec.chan = 2;
        assert_eq!(
            bmc.inject(&spec).unwrap().body.len(),
            11,
            "LAN layout on channel 2"
        );
        spec.layout = Some(Layout::Raw);
        assert_eq!(
            bmc.inject(&spec).unwrap().body,
            [0x02, 0xc2, 0x05, 0x01, 0x02]
        );
        spec.layout = None;
        spec.chan = 7;
        assert_eq!(
            bmc.inject(&spec).unwrap().body[1],
            0xc2,
            "absent channel: IPMB layout"
        );
        spec.chan = 16;
        assert!(bmc.inject(&spec).is_err());
        assert!(bmc.set_channel(14, Channel::Absent).is_err());
        assert!(bmc.set_channel(16, Channel::Absent).is_err());
    }

    #[test]
    fn default_sequence_numbers_follow_the_id() {
        let mut bmc = Bmc::new();
        let mut spec = ipmb_example();
        spec.seq = None;
        let a = bmc.inject(&spec).unwrap();
        let b = bmc.inject(&spec).unwrap();
        assert_eq!((a.id, a.seq, b.id, b.seq), (1, 1, 2, 2));
        assert_eq!(a.body[4], 1 << 2);
    }

    #[test]
    fn channel_info_for_every_channel() {
        let mut bmc = Bmc::new();
        let info = |bmc: &mut Bmc, ch: u8| app(bmc, app::GET_CHANNEL_INFO, &[ch]);
        let r = info(&mut bmc, 0);
        assert_eq!(
            r.data,
            [0x00, 0x01, 0x01, 0x00, 0xf2, 0x1b, 0x00, 0x00, 0x00]
        );
        let r = info(&mut bmc, 1);
        assert_eq!(
            r.data,
            [0x01, 0x04, 0x01, 0x80, 0xf2, 0x1b, 0x00, 0x00, 0x00]
        );
        let r = info(&mut bmc, 2);
        assert_eq!(
            r.data,
            [0x02, 0x01, 0x01, 0x00, 0xf2, 0x1b, 0x00, 0x00, 0x00]
        );
        for ch in 3..=13 {
            assert_eq!(info(&mut bmc, ch).cc, 0xCC, "channel {ch}");
        }
        let r = info(&mut bmc, 14);
        assert_eq!(
            r.data,
            [0x0f, 0x0c, 0x05, 0x00, 0xf2, 0x1b, 0x00, 0x05, 0x05]
        );
        assert_eq!(info(&mut bmc, 15).data, r.data);
        bmc.set_channel(3, Channel::Unsupported).unwrap();
        assert_eq!(info(&mut bmc, 3).cc, 0xC1);
        bmc.set_channel(4, Channel::parse("serial", None).unwrap())
            .unwrap();
        assert_eq!(info(&mut bmc, 4).data[..4], [0x04, 0x05, 0x01, 0x40]);
        bmc.set_channel(5, Channel::parse("0x60", Some("1c")).unwrap())
            .unwrap();
        assert_eq!(info(&mut bmc, 5).data[..3], [0x05, 0x60, 0x1c]);
        assert_eq!(app(&mut bmc, app::GET_CHANNEL_INFO, &[]).cc, 0xC7);
    }

    #[test]
    fn channel_parsing() {
        assert_eq!(Channel::parse("absent", None), Ok(Channel::Absent));
        assert_eq!(Channel::parse("c1", None), Ok(Channel::Unsupported));
        assert_eq!(
            Channel::parse("ipmb", None),
            Ok(Channel::Present {
                medium: 1,
                protocol: 1
            })
        );
        assert!(Channel::parse("lan", Some("40")).is_err());
        assert!(Channel::parse("what", None).is_err());
        assert_eq!(Channel::with_medium(4).describe(), "lan protocol=0x01");
    }

    #[test]
    fn send_message_is_recorded_and_answered() {
        let mut bmc = Bmc::new();
        // The C kernel's answer to an unregistered IPMB command (reference document).
        let answer = [0x00, 0x40, 0xc4, 0xfc, 0x20, 0x22, 0x06, 0xc1, 0xf7];
        let r = app(&mut bmc, app::SEND_MSG, &answer);
        assert_eq!(
            (r.cc, r.ctrl.len()),
            (0, 0),
            "a response is never looped back"
        );
        let lan = [0x01, 0x81, 0xc4, 0xbb, 0x20, 0x22, 0x06, 0xc1, 0x00, 0x11];
        assert_eq!(app(&mut bmc, app::SEND_MSG, &lan).cc, 0);
        assert_eq!(
            bmc.sent(),
            [
                Sent {
                    chan: 0,
                    data: answer.to_vec()
                },
                Sent {
                    chan: 1,
                    data: lan.to_vec()
                }
            ]
        );
        bmc.set("sendmsg_cc", "83").unwrap();
        assert_eq!(app(&mut bmc, app::SEND_MSG, &[0x00, 0x52]).cc, 0x83);
        assert_eq!(app(&mut bmc, app::SEND_MSG, &[]).cc, 0xC7);
        assert_eq!(bmc.clear_sent(), 3);
        assert!(bmc.sent().is_empty());
        assert_eq!(bmc.stats.sent, 3);
    }

    #[test]
    fn loopback_answers_get_device_id_from_the_fake_mc() {
        let mut bmc = Bmc::new();
        app(&mut bmc, app::SET_GLOBAL_ENABLES, &[0x01]);
        // Get Device ID to 0x40 from 0x20 LUN 2, seq 3.
        let mut req = vec![0x00, 0x40, 0x18];
        req.push(ipmi::checksum(&req[1..3]));
        req.extend([0x20, 0x0e, 0x01]);
        req.push(ipmi::checksum(&req[4..]));
        let r = app(&mut bmc, app::SEND_MSG, &req);
        assert_eq!((r.cc, r.ctrl.clone()), (0, vec![ctrl::ATTN_IRQ]));
        let m = app(&mut bmc, app::GET_MSG, &[]);
        // chan 0; netfn 7 LUN 2 (0x1e); chk1 over 0x20,0x1e; rqSA 0x40; seq 3 LUN 0; cmd 1; cc 0.
        assert_eq!(
            &m.data[..8],
            &[0x00, 0x1e, 0xc2, 0x40, 0x0c, 0x01, 0x00, 0x00]
        );
        assert_eq!(m.data.len(), 8 + 10 + 1);
        assert_eq!(ipmi::checksum(&m.data[3..]), 0);

        // Another command: C1 from the fake MC.
        let mut req = vec![0x00, 0x40, 0x18, 0xa8, 0x20, 0x0e, 0x99];
        req.push(ipmi::checksum(&req[4..]));
        app(&mut bmc, app::SEND_MSG, &req);
        let m = app(&mut bmc, app::GET_MSG, &[]);
        assert_eq!(m.data[6], 0xC1);

        // Loopback off: recorded, nothing queued.
        bmc.set("loopback", "off").unwrap();
        let r = app(&mut bmc, app::SEND_MSG, &req);
        assert!(r.ctrl.is_empty());
        assert_eq!(bmc.queue_len(), 0);
    }

    #[test]
    fn clear_message_flags_flushes_what_it_names() {
        let mut bmc = Bmc::new();
        bmc.inject(&ipmb_example()).unwrap();
        bmc.set_event([0x11; 16]);
        assert_eq!(app(&mut bmc, app::GET_MSG_FLAGS, &[]).data, [0x03]);
        let r = app(&mut bmc, app::CLEAR_MSG_FLAGS, &[0x08]);
        assert!(r.ctrl.is_empty());
        assert_eq!(
            bmc.queue_len(),
            1,
            "the Linux init value 08 keeps the queue"
        );
        app(&mut bmc, app::CLEAR_MSG_FLAGS, &[0x01]);
        assert_eq!(bmc.queue_len(), 0);
        let r = app(&mut bmc, app::CLEAR_MSG_FLAGS, &[0x02]);
        assert_eq!(r.ctrl, [ctrl::NOATTN]);
        assert_eq!(app(&mut bmc, app::GET_MSG_FLAGS, &[]).data, [0x00]);
        assert_eq!(app(&mut bmc, app::CLEAR_MSG_FLAGS, &[]).cc, 0xC7);
    }

    #[test]
    fn event_buffer() {
        let mut bmc = Bmc::new();
        assert_eq!(app(&mut bmc, app::READ_EVENT_BUF, &[]).cc, 0x80);
        assert_eq!(bmc.set_event([0x22; 16]), [ctrl::ATTN]);
        app(&mut bmc, app::SET_GLOBAL_ENABLES, &[0x02]);
        assert_eq!(app(&mut bmc, app::GET_MSG_FLAGS, &[]).data, [0x02]);
        let r = app(&mut bmc, app::READ_EVENT_BUF, &[]);
        assert_eq!(
            (r.cc, r.data, r.ctrl),
            (0, vec![0x22; 16], vec![ctrl::NOATTN])
        );
        assert_eq!(app(&mut bmc, app::READ_EVENT_BUF, &[]).cc, 0x80);
    }

    #[test]
    fn guid_commands() {
        let mut bmc = Bmc::new();
        assert_eq!(app(&mut bmc, app::GET_DEVICE_GUID, &[]).data, DEFAULT_GUID);
        assert_eq!(app(&mut bmc, app::GET_SYSTEM_GUID, &[]).data, DEFAULT_GUID);
        bmc.set("guid", "00112233-4455-6677-8899-aabbccddeeff")
            .unwrap();
        assert_eq!(app(&mut bmc, app::GET_DEVICE_GUID, &[]).data[15], 0xff);
        bmc.set("guid", "none").unwrap();
        assert_eq!(app(&mut bmc, app::GET_DEVICE_GUID, &[]).cc, 0xC1);
        assert!(bmc.set("guid", "0011").is_err());
    }

    #[test]
    fn watchdog_basics() {
        let mut bmc = Bmc::new();
        let t0 = Instant::now();
        assert_eq!(
            bmc.handle(netfn::APP, 0, app::RESET_WATCHDOG, &[], t0).cc,
            0x80
        );
        let r = bmc.handle(netfn::APP, 0, app::GET_WATCHDOG, &[], t0);
        assert_eq!(r.data, [0; 8]);
        // SMS/OS use, no action, no pretimeout, clear nothing, 10.0 s.
        let set = [0x04, 0x00, 0x00, 0x00, 0x64, 0x00];
        assert_eq!(bmc.handle(netfn::APP, 0, app::SET_WATCHDOG, &set, t0).cc, 0);
        let r = bmc.handle(netfn::APP, 0, app::GET_WATCHDOG, &[], t0);
        assert_eq!(r.data, [0x04, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00]);
        assert_eq!(
            bmc.handle(netfn::APP, 0, app::RESET_WATCHDOG, &[], t0).cc,
            0
        );
        let t1 = t0 + Duration::from_millis(2_050);
        let r = bmc.handle(netfn::APP, 0, app::GET_WATCHDOG, &[], t1);
        assert_eq!(r.data, [0x44, 0x00, 0x00, 0x00, 0x64, 0x00, 80, 0x00]);
        let t2 = t0 + Duration::from_secs(11);
        let r = bmc.handle(netfn::APP, 0, app::GET_WATCHDOG, &[], t2);
        assert_eq!(
            r.data,
            [0x04, 0x00, 0x00, 0x10, 0x64, 0x00, 0x00, 0x00],
            "expired"
        );
        assert_eq!(
            bmc.handle(netfn::APP, 0, app::SET_WATCHDOG, &[4, 0], t2).cc,
            0xC7
        );
        let bad_use = [0x00, 0x00, 0x00, 0x00, 0x64, 0x00];
        assert_eq!(
            bmc.handle(netfn::APP, 0, app::SET_WATCHDOG, &bad_use, t2)
                .cc,
            0xCC
        );
    }

    #[test]
    fn chassis_control_answers_then_asks_qemu() {
        let mut bmc = Bmc::new();
        let ctl =
            |bmc: &mut Bmc, d: &[u8]| bmc.handle(netfn::CHASSIS, 0, chassis::CONTROL, d, now());
        let r = ctl(&mut bmc, &[chassis::CTL_POWER_DOWN]);
        assert_eq!((r.cc, r.data.len(), r.ctrl.len()), (0, 0, 0));
        assert_eq!(r.after, [ctrl::POWEROFF]);
        assert_eq!(bmc.stats.chassis_controls, [1, 0, 0, 0, 0, 0]);
        let r = ctl(&mut bmc, &[chassis::CTL_POWER_CYCLE]);
        assert_eq!((r.cc, r.after), (0, vec![ctrl::RESET]));
        let r = ctl(&mut bmc, &[chassis::CTL_HARD_RESET | 0xF0]);
        assert_eq!(
            (r.cc, r.after),
            (0, vec![ctrl::RESET]),
            "bits 7:4 are reserved"
        );
        let r = ctl(&mut bmc, &[chassis::CTL_POWER_UP]);
        assert_eq!((r.cc, r.after.len()), (0, 0));
        let r = ctl(&mut bmc, &[chassis::CTL_DIAG_INTERRUPT]);
        assert_eq!((r.cc, r.after), (0, vec![ctrl::SEND_NMI]));
        let r = ctl(&mut bmc, &[chassis::CTL_SOFT_SHUTDOWN]);
        assert_eq!((r.cc, r.after), (0, vec![ctrl::FORCEOFF]));
        assert_eq!(bmc.stats.chassis_controls, [1, 1, 1, 1, 1, 1]);
        let r = ctl(&mut bmc, &[0x06]);
        assert_eq!((r.cc, r.after.len()), (cc::INVALID_DATA, 0));
        let r = ctl(&mut bmc, &[]);
        assert_eq!((r.cc, r.after.len()), (cc::REQ_LEN_INVALID, 0));
        assert_eq!(
            bmc.stats.chassis_controls,
            [1, 1, 1, 1, 1, 1],
            "errors are not counted"
        );
        assert_eq!(bmc.stats.by_cmd[&(netfn::CHASSIS, chassis::CONTROL)], 8);
    }

    #[test]
    fn chassis_and_storage_minimal_answers() {
        let mut bmc = Bmc::new();
        let r = bmc.handle(netfn::CHASSIS, 0, chassis::GET_STATUS, &[], now());
        assert_eq!(r.data, [0x61, 0, 0, 0]);
        let r = bmc.handle(netfn::CHASSIS, 0, chassis::GET_CAPABILITIES, &[], now());
        assert_eq!(r.data, [0x00, 0x20, 0x20, 0x20, 0x20]);
        let r = bmc.handle(netfn::STORAGE, 0, storage::GET_SEL_INFO, &[], now());
        assert_eq!(r.data.len(), 14);
        assert_eq!(r.data[0], 0x51);
        let r = bmc.handle(netfn::STORAGE, 0, storage::GET_SDR_REPO_INFO, &[], now());
        assert_eq!(r.data.len(), 14);
        assert_eq!(r.data[13], 0x22);
        let r = bmc.handle(netfn::STORAGE, 0, storage::RESERVE_SEL, &[], now());
        assert_eq!(r.data, [1, 0]);
        let r = bmc.handle(netfn::STORAGE, 0, storage::GET_SDR, &[0; 6], now());
        assert_eq!(r.cc, 0xCB);
        let r = bmc.handle(netfn::STORAGE, 0, storage::GET_SEL_TIME, &[], now());
        assert_eq!(r.data.len(), 4);
    }

    #[test]
    fn resets() {
        let mut bmc = Bmc::new();
        app(&mut bmc, app::SET_GLOBAL_ENABLES, &[0x0f]);
        bmc.inject(&ipmb_example()).unwrap();
        let r = app(&mut bmc, app::COLD_RESET, &[]);
        assert_eq!((r.cc, r.ctrl), (0, vec![ctrl::DISABLE_IRQ, ctrl::NOATTN]));
        assert_eq!(bmc.global_enables(), DEFAULT_GLOBAL_ENABLES);
        assert_eq!(bmc.queue_len(), 0);
        assert_eq!(app(&mut bmc, app::WARM_RESET, &[]).cc, 0);

        app(&mut bmc, app::SET_GLOBAL_ENABLES, &[0x0f]);
        bmc.inject(&ipmb_example()).unwrap();
        assert_eq!(bmc.host_reset(), [ctrl::DISABLE_IRQ, ctrl::ATTN]);
        assert_eq!(bmc.queue_len(), 1, "host reset keeps the queue");
        assert_eq!(bmc.stats.host_resets, 1);
    }

    #[test]
    fn on_connect_resynchronises_qemu() {
        let mut bmc = Bmc::new();
        assert!(bmc.on_connect().is_empty());
        app(&mut bmc, app::SET_GLOBAL_ENABLES, &[0x07]);
        bmc.inject(&ipmb_example()).unwrap();
        assert_eq!(bmc.on_connect(), [ctrl::ENABLE_IRQ, ctrl::ATTN_IRQ]);
    }

    #[test]
    fn flush_and_raw_injection() {
        let mut bmc = Bmc::new();
        let (id, ctrl) = bmc.inject_raw(vec![0x03, 0xde, 0xad]).unwrap();
        assert_eq!((id, ctrl), (1, vec![ctrl::ATTN]));
        assert_eq!(app(&mut bmc, app::GET_MSG, &[]).data, [0x03, 0xde, 0xad]);
        bmc.inject(&ipmb_example()).unwrap();
        bmc.inject(&ipmb_example()).unwrap();
        assert_eq!(bmc.flush(), (2, vec![ctrl::NOATTN]));
        assert_eq!(bmc.stats.flushed, 2);
        assert!(!bmc.attention());
    }

    #[test]
    fn bmc_reset_loses_volatile_state() {
        let mut bmc = Bmc::new();
        app(&mut bmc, app::SET_GLOBAL_ENABLES, &[0x0f]);
        bmc.inject(&ipmb_example()).unwrap();
        bmc.set_event([1; 16]);
        assert_eq!(bmc.bmc_reset(), [ctrl::DISABLE_IRQ, ctrl::NOATTN]);
        assert_eq!(bmc.global_enables(), DEFAULT_GLOBAL_ENABLES);
        assert_eq!(
            (bmc.queue_len(), bmc.flags(), bmc.attention()),
            (0, 0, false)
        );
        assert_eq!(bmc.stats.bmc_resets, 1);
        assert_eq!(
            app(&mut bmc, app::GET_DEVICE_ID, &[]).cc,
            0,
            "answers again"
        );
    }

    #[test]
    fn stuck_atn_setting() {
        let mut bmc = Bmc::new();
        assert_eq!(bmc.stuck_atn_ctrl(), None);
        bmc.set("stuck_atn", "on").unwrap();
        assert_eq!(bmc.stuck_atn_ctrl(), Some(ctrl::ATTN));
        assert!(bmc.settings_list().contains(&"stuck_atn=on".to_string()));
        bmc.set("stuck_atn", "irq").unwrap();
        assert_eq!(bmc.stuck_atn_ctrl(), Some(ctrl::ATTN_IRQ));
        bmc.set("stuck_atn", "off").unwrap();
        assert_eq!(bmc.stuck_atn_ctrl(), None);
        assert!(bmc.set("stuck_atn", "sideways").is_err());
    }

    /// A BMC with `n` sensors and `m` SEL entries whose readings start at `t0`.
    fn populated(n: usize, m: usize, t0: Instant) -> Bmc {
        let mut bmc = Bmc::new();
        bmc.populate(n, m, 1_795_000_000).unwrap();
        bmc.set_epoch(t0);
        bmc
    }

    fn storage_cmd(bmc: &mut Bmc, cmd: u8, data: &[u8]) -> Reply {
        bmc.handle(netfn::STORAGE, 0, cmd, data, now())
    }

    fn sensor_at(bmc: &mut Bmc, cmd: u8, data: &[u8], t: Instant) -> Reply {
        bmc.handle(netfn::SENSOR_EVENT, 0, cmd, data, t)
    }

    #[test]
    fn populate_defaults_change_nothing() {
        let mut plain = Bmc::new();
        let mut zero = Bmc::new();
        zero.populate(0, 0, 1_795_000_000).unwrap();
        for cmd in [
            storage::GET_SDR_REPO_INFO,
            storage::GET_SEL_INFO,
            storage::RESERVE_SDR_REPO,
            storage::RESERVE_SEL,
        ] {
            assert_eq!(
                storage_cmd(&mut plain, cmd, &[]),
                storage_cmd(&mut zero, cmd, &[]),
                "cmd {cmd:02x}"
            );
        }
        let r = zero.handle(
            netfn::SENSOR_EVENT,
            0,
            sensor::GET_SENSOR_READING,
            &[1],
            now(),
        );
        assert_eq!(r.cc, 0xCB, "no sensors");
        assert!(zero.populate(255, 0, 0).is_err());
        assert!(zero.populate(0, 70_000, 0).is_err());
    }

    #[test]
    fn sdr_commands_through_the_bmc() {
        let mut bmc = populated(20, 0, now());
        let info = storage_cmd(&mut bmc, storage::GET_SDR_REPO_INFO, &[]);
        assert_eq!((info.cc, info.data[1], info.data[13]), (0, 21, 0x23));
        let alloc = storage_cmd(&mut bmc, storage::GET_SDR_REPO_ALLOC_INFO, &[]);
        assert_eq!((alloc.cc, alloc.data.len()), (0, 9));
        let res = storage_cmd(&mut bmc, storage::RESERVE_SDR_REPO, &[]).data;
        // Whole record 0xFF: the locator fits, a full sensor record gets 0xCA ...
        let get = |bmc: &mut Bmc, id: u8, off: u8, n: u8| {
            storage_cmd(bmc, storage::GET_SDR, &[res[0], res[1], id, 0, off, n])
        };
        assert_eq!(get(&mut bmc, 0, 0, 0xFF).cc, 0);
        assert_eq!(get(&mut bmc, 2, 0, 0xFF).cc, 0xCA);
        // ... until the limit is raised.
        bmc.set("sdr_max_read", "ff").unwrap();
        let r = get(&mut bmc, 2, 0, 0xFF);
        assert_eq!((r.cc, &r.data[2..]), (0, bmc.sdr.records()[1].as_slice()));
        assert!(bmc.set("sdr_max_read", "0").is_err());
        assert!(bmc.settings_list().contains(&"sdr_max_read=ff".to_string()));
        assert_eq!(get(&mut bmc, 22, 0, 5).cc, 0xCB);
        // A cold reset cancels the reservation.
        app(&mut bmc, app::COLD_RESET, &[]);
        assert_eq!(get(&mut bmc, 2, 5, 5).cc, 0xC5);
        // Device SDR commands are not there: tools fall back to the repository.
        for cmd in [
            sensor::GET_DEVICE_SDR_INFO,
            sensor::GET_DEVICE_SDR,
            sensor::RESERVE_DEVICE_SDR_REPO,
        ] {
            let r = bmc.handle(netfn::SENSOR_EVENT, 0, cmd, &[0; 6], now());
            assert_eq!(r.cc, 0xC1);
        }
    }

    #[test]
    fn sensor_readings_thresholds_and_events() {
        let t0 = now();
        let mut bmc = populated(12, 0, t0);
        let temp = bmc.sdr.sensor(1).unwrap().clone();
        // Readings follow the sensor's curve over time and change slowly.
        let mut values = Vec::new();
        for secs in (0..1200).step_by(60) {
            let t = t0 + Duration::from_secs(secs);
            let r = sensor_at(&mut bmc, sensor::GET_SENSOR_READING, &[1], t);
            assert_eq!(r.cc, 0);
            assert_eq!(r.data, temp.reading(secs as f64));
            assert_eq!(&r.data[1..], &[0xC0, 0xC0, 0x80], "ok, scanning");
            values.push(r.data[0]);
        }
        assert!(values.iter().any(|&v| v != values[0]), "it moves");
        assert!(values
            .windows(2)
            .all(|w| w[0].abs_diff(w[1]) <= temp.amplitude.ceil() as u8));
        let r = sensor_at(&mut bmc, sensor::GET_SENSOR_THRESHOLDS, &[1], t0);
        assert_eq!(r.data, [0x3F, 10, 5, 3, 80, 90, 100]);
        let r = sensor_at(&mut bmc, sensor::GET_SENSOR_HYSTERESIS, &[1, 0xFF], t0);
        assert_eq!(r.data, [2, 2]);
        let r = sensor_at(&mut bmc, sensor::GET_SENSOR_EVENT_ENABLE, &[1], t0);
        assert_eq!(r.data, [0xC0, 0x95, 0x0A, 0x95, 0x0A]);
        let r = sensor_at(&mut bmc, sensor::GET_SENSOR_EVENT_STATUS, &[1], t0);
        assert_eq!(r.data, [0xC0, 0, 0, 0, 0]);
        let r = sensor_at(&mut bmc, sensor::GET_SENSOR_TYPE, &[3], t0);
        assert_eq!(r.data, [0x04, 0x01], "Fan 1: fan, threshold");
        // Sensor 6 is discrete (PS Status 1): states, no thresholds or hysteresis.
        let r = sensor_at(&mut bmc, sensor::GET_SENSOR_READING, &[6], t0);
        assert_eq!(r.data, [0x00, 0xC0, 0x01, 0x80]);
        let r = sensor_at(&mut bmc, sensor::GET_SENSOR_EVENT_STATUS, &[6], t0);
        assert_eq!(r.data, [0xC0, 0x01, 0x00, 0, 0]);
        assert_eq!(
            sensor_at(&mut bmc, sensor::GET_SENSOR_THRESHOLDS, &[6], t0).cc,
            0xCD
        );
        assert_eq!(
            sensor_at(&mut bmc, sensor::GET_SENSOR_HYSTERESIS, &[6], t0).cc,
            0xCD
        );
        // Unknown sensors, missing data, other commands.
        assert_eq!(
            sensor_at(&mut bmc, sensor::GET_SENSOR_READING, &[13], t0).cc,
            0xCB
        );
        assert_eq!(
            sensor_at(&mut bmc, sensor::GET_SENSOR_READING, &[0], t0).cc,
            0xCB
        );
        assert_eq!(
            sensor_at(&mut bmc, sensor::GET_SENSOR_READING, &[], t0).cc,
            0xC7
        );
        assert_eq!(sensor_at(&mut bmc, 0x02, &[1], t0).cc, 0xC1);
        assert_eq!(
            bmc.handle(netfn::SENSOR_EVENT, 1, sensor::GET_SENSOR_READING, &[1], t0)
                .cc,
            0xC2,
            "LUN 1"
        );
    }

    #[test]
    fn sel_commands_through_the_bmc() {
        let mut bmc = populated(10, 40, now());
        let info = storage_cmd(&mut bmc, storage::GET_SEL_INFO, &[]);
        assert_eq!((info.cc, info.data[1], info.data[13]), (0, 40, 0x03));
        let alloc = storage_cmd(&mut bmc, storage::GET_SEL_ALLOC_INFO, &[]);
        assert_eq!((alloc.cc, alloc.data.len()), (0, 9));
        let mut id = [0u8, 0u8];
        let mut n = 0;
        while id != [0xFF, 0xFF] {
            let r = storage_cmd(
                &mut bmc,
                storage::GET_SEL_ENTRY,
                &[0, 0, id[0], id[1], 0, 0xFF],
            );
            assert_eq!((r.cc, r.data.len()), (0, 18));
            id = [r.data[0], r.data[1]];
            n += 1;
        }
        assert_eq!(n, 40);
        let t = storage_cmd(&mut bmc, storage::GET_SEL_TIME, &[]);
        assert!(u32::from_le_bytes(t.data.try_into().unwrap()) > 1_700_000_000);
        // Clear SEL needs the reservation, which a reset cancels.
        let res = storage_cmd(&mut bmc, storage::RESERVE_SEL, &[]).data;
        let clear = [res[0], res[1], b'C', b'L', b'R', 0xAA];
        app(&mut bmc, app::COLD_RESET, &[]);
        assert_eq!(storage_cmd(&mut bmc, storage::CLEAR_SEL, &clear).cc, 0xC5);
        let res = storage_cmd(&mut bmc, storage::RESERVE_SEL, &[]).data;
        let clear = [res[0], res[1], b'C', b'L', b'R', 0xAA];
        let r = storage_cmd(&mut bmc, storage::CLEAR_SEL, &clear);
        assert_eq!((r.cc, r.data), (0, vec![0x01]));
        let info = storage_cmd(&mut bmc, storage::GET_SEL_INFO, &[]);
        assert_eq!(info.data[1], 0);
        let r = storage_cmd(&mut bmc, storage::GET_SEL_ENTRY, &[0, 0, 0, 0, 0, 0xFF]);
        assert_eq!(r.cc, 0xCB);
    }
}
