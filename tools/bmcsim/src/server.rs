//! The TCP side: QEMU's `ipmi-bmc-extern` connects here, and the state shared with the control
//! socket.
//!
//! QEMU is the client (`-chardev socket,host=127.0.0.1,port=N,reconnect-ms=...` without
//! `server=on`), so the simulator listens and serves one connection at a time; when QEMU goes
//! away it waits for the next one. Requests are handled strictly in arrival order, one at a time,
//! and every write to QEMU happens under the state lock, so control commands injected from the
//! control socket (ATN) never split a response frame.

use crate::bmc::{Bmc, InjectSpec};
use crate::fault::{Action, Corruption, Fault};
use crate::frame::{self, ctrl, Decoder, Frame};
use crate::hexlog::HexLog;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// Link-level counters reported by `stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WireStats {
    /// Connections accepted.
    pub connections: u64,
    /// Request frames received.
    pub requests: u64,
    /// Response frames sent (damaged ones included).
    pub replies: u64,
    /// Control commands received.
    pub ctrl_in: u64,
    /// Control commands sent.
    pub ctrl_out: u64,
    /// Frames rejected (checksum, escape, length).
    pub bad_frames: u64,
    /// Requests a fault swallowed (silence, drop).
    pub ignored: u64,
    /// Error answers sent in QEMU's place because QEMU would misroute its own (see
    /// [`qemu_misroutes`]).
    pub stand_ins: u64,
}

/// The request QEMU forwarded last, while it has no valid answer: QEMU is waiting for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unanswered {
    /// QEMU's sequence number (its KCS message ID).
    pub seq: u8,
    /// `netFn << 2 | LUN` of the request.
    pub nf_lun: u8,
    /// The command.
    pub cmd: u8,
    /// When it arrived.
    pub since: Instant,
}

/// Whether QEMU would get its own error answer to `u` wrong.
///
/// QEMU (10.0.2, `hw/ipmi/ipmi_bmc_extern.c`) builds the 0xC3 of its 4 s timeout and the 0xD2
/// of a closed link from `outbuf[0..3]`, the *escaped* bytes it sent. When the sequence number,
/// netFn/LUN or command is a framing byte (A0, A1, AA), those are an escape pair, not the
/// request's header: the answer carries the wrong sequence number, the KCS drops it, keeps IBF
/// set and ignores every write (ABORT too) for the rest of the boot, and the BMC is gone for the
/// C stack and ripmi alike (or, for a sequence number of AA, the answer carries the wrong netFn
/// and command). So for such a request the simulator sends the error answer itself, just before
/// QEMU's timer fires and before it closes the link, and QEMU's own is never made or dropped.
pub fn qemu_misroutes(u: &Unanswered) -> bool {
    [u.seq, u.nf_lun, u.cmd]
        .iter()
        .any(|b| matches!(*b, frame::MSG_END | frame::CMD_END | frame::ESCAPE))
}

/// When the simulator answers 0xC3 in QEMU's place: just before QEMU's 4 s timer (virtual time,
/// which never runs ahead of the host's) would fire.
pub const STAND_IN_TIMEOUT: Duration = Duration::from_millis(3900);

/// Everything the QEMU link and the control socket share.
pub struct State {
    /// The simulated BMC.
    pub bmc: Bmc,
    /// Active fault.
    pub fault: Fault,
    /// Write half of the current QEMU connection.
    pub conn: Option<TcpStream>,
    /// Link counters.
    pub wire: WireStats,
    /// Protocol version QEMU announced (`FF vv A1`).
    pub qemu_version: Option<u8>,
    /// Capabilities QEMU announced (`08 cc A1`).
    pub qemu_caps: Option<u8>,
    /// After a `reset` fault, requests arriving before this instant are ignored (booting).
    pub booting_until: Option<Instant>,
    /// A request is being delayed by a `delay` fault right now (see `wait idle`).
    pub in_delay: bool,
    /// Injections on a timer (`inject ... every=MS`), if any are running.
    pub schedule: Option<Schedule>,
    /// Messages the current or last schedule injected.
    pub scheduled: u64,
    /// The request QEMU waits for an answer to, if any.
    pub unanswered: Option<Unanswered>,
    /// The sequence number of the last request from QEMU (`stats`).
    pub last_seq: Option<u8>,
    /// Whether the simulator answers in QEMU's place ([`qemu_misroutes`]); off with
    /// `BMCSIM_NO_STANDIN` in the environment, to show what QEMU does alone.
    pub stand_in_enabled: bool,
}

/// Periodic injection of one message (`inject ... every=MS [count=N] [serial=S]`).
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The message; with `serial`, its data is the 16-bit serial (big-endian) then this data.
    pub spec: InjectSpec,
    /// Injections left.
    pub left: u64,
    /// Period.
    pub every: Duration,
    /// When the next one is due.
    pub next: Instant,
    /// The serial of the next message, if numbered.
    pub serial: Option<u16>,
}

impl State {
    /// Starts a schedule (replacing any running one); the first message is due at once.
    pub fn start_schedule(&mut self, sched: Schedule) {
        self.scheduled = 0;
        self.schedule = Some(sched);
    }

    /// Stops the schedule; returns how many messages it injected.
    pub fn stop_schedule(&mut self) -> u64 {
        self.schedule = None;
        self.scheduled
    }

    /// Injects the scheduled message if it is due at `now` (at most one per call, so a late
    /// ticker does not burst). A full queue skips that injection (logged).
    pub fn schedule_tick(&mut self, now: Instant, log: &HexLog) {
        let Some(sc) = self.schedule.as_mut() else {
            return;
        };
        if now < sc.next {
            return;
        }
        let mut spec = sc.spec.clone();
        if let Some(v) = sc.serial {
            let mut d = v.to_be_bytes().to_vec();
            d.extend(&spec.data);
            spec.data = d;
            sc.serial = Some(v.wrapping_add(1));
        }
        sc.left -= 1;
        sc.next += sc.every;
        if sc.left == 0 {
            self.schedule = None;
        }
        match self.bmc.inject(&spec) {
            Ok(inj) => {
                self.scheduled += 1;
                log.line(format!(
                    "   scheduled #{} chan {}: {}",
                    inj.id,
                    spec.chan,
                    frame::hex(&inj.body)
                ));
                self.send_ctrl(&inj.ctrl, log);
            }
            Err(e) => log.line(format!("   scheduled injection skipped: {e}")),
        }
    }
}

/// Runs the injection schedule until shutdown. Runs on its own thread.
pub fn run_schedules(shared: Arc<Shared>) {
    while !shared.shutting_down() {
        let mut st = shared.lock();
        st.schedule_tick(Instant::now(), &shared.log);
        st.stand_in_timeout_tick(Instant::now(), &shared.log);
        drop(st);
        thread::sleep(Duration::from_millis(2));
    }
}

impl State {
    /// Sends raw bytes to QEMU. Without a connection this is a no-op that returns `false`; a
    /// write error drops the connection (the reader notices and waits for a new one).
    pub fn send_bytes(&mut self, bytes: &[u8], log: &HexLog) -> bool {
        let Some(conn) = self.conn.as_mut() else {
            return false;
        };
        match conn.write_all(bytes).and_then(|_| conn.flush()) {
            Ok(()) => true,
            Err(e) => {
                log.line(format!("write to QEMU failed, dropping connection: {e}"));
                eprintln!("ripmi-bmcsim: write to QEMU failed, dropping connection: {e}");
                if let Some(c) = self.conn.take() {
                    let _ = c.shutdown(Shutdown::Both);
                }
                false
            }
        }
    }

    /// Sends each byte of `codes` as one control command (`xx A1`).
    pub fn send_ctrl(&mut self, codes: &[u8], log: &HexLog) {
        for &c in codes {
            if self.conn.is_none() {
                log.line(format!("-> ctrl {c:02x} (not connected, dropped)"));
                continue;
            }
            log.line(format!("-> ctrl {c:02x} ({})", ctrl_name(c)));
            if self.send_bytes(&frame::encode_ctrl(&[c]), log) {
                self.wire.ctrl_out += 1;
            }
        }
    }
}

impl State {
    /// Sends `cc` for the unanswered request in QEMU's place if QEMU would misroute its own
    /// ([`qemu_misroutes`]); the request is answered either way afterwards.
    fn stand_in(&mut self, cc: u8, log: &HexLog) {
        let Some(u) = self.unanswered.take() else {
            return;
        };
        if !self.stand_in_enabled || !qemu_misroutes(&u) || self.conn.is_none() {
            return;
        }
        log.line(format!(
            "-> rsp seq={:02x} cc={cc:02x} (in QEMU's place: its own would be misrouted)",
            u.seq
        ));
        if self.send_bytes(&frame::encode_msg(&[u.seq, u.nf_lun | 4, u.cmd, cc]), log) {
            self.wire.stand_ins += 1;
        }
    }

    /// QEMU's 4 s timeout, for a request QEMU would misroute its own 0xC3 for (run every few
    /// milliseconds).
    pub fn stand_in_timeout_tick(&mut self, now: Instant, log: &HexLog) {
        if self
            .unanswered
            .is_some_and(|u| qemu_misroutes(&u) && now >= u.since + STAND_IN_TIMEOUT)
        {
            self.stand_in(IPMI_CC_TIMEOUT, log);
        }
    }

    /// Before the simulator closes the link: QEMU's 0xD2 for the request in flight.
    pub fn stand_in_before_close(&mut self, log: &HexLog) {
        self.stand_in(IPMI_CC_BMC_INIT_IN_PROGRESS, log);
    }
}

/// QEMU's completion code for a request not answered within 4 s.
const IPMI_CC_TIMEOUT: u8 = 0xC3;
/// QEMU's completion code for a request in flight when the link closes.
const IPMI_CC_BMC_INIT_IN_PROGRESS: u8 = 0xD2;

/// A readable name for a control command code.
pub fn ctrl_name(c: u8) -> &'static str {
    match c {
        ctrl::NOATTN => "clear ATN",
        ctrl::ATTN => "ATN",
        ctrl::ATTN_IRQ => "ATN+IRQ",
        ctrl::POWEROFF => "power off",
        ctrl::RESET => "reset",
        ctrl::ENABLE_IRQ => "enable IRQ",
        ctrl::DISABLE_IRQ => "disable IRQ",
        ctrl::SEND_NMI => "NMI",
        ctrl::CAPABILITIES => "capabilities",
        ctrl::FORCEOFF => "graceful shutdown",
        ctrl::VERSION => "version",
        _ => "unknown",
    }
}

/// State plus the things that never change after start-up.
pub struct Shared {
    state: Mutex<State>,
    /// Set by `quit` or a signal; `main` polls it.
    pub shutdown: AtomicBool,
    /// The request/response log.
    pub log: HexLog,
    /// The TCP port actually bound.
    pub port: u16,
}

impl Shared {
    /// Shared state around `bmc`.
    pub fn new(bmc: Bmc, log: HexLog, port: u16) -> Shared {
        Shared {
            state: Mutex::new(State {
                bmc,
                fault: Fault::default(),
                conn: None,
                wire: WireStats::default(),
                qemu_version: None,
                qemu_caps: None,
                booting_until: None,
                in_delay: false,
                schedule: None,
                scheduled: 0,
                unanswered: None,
                last_seq: None,
                stand_in_enabled: std::env::var_os("BMCSIM_NO_STANDIN").is_none(),
            }),
            shutdown: AtomicBool::new(false),
            log,
            port,
        }
    }

    /// Locks the state. A panic in another thread does not make the state unusable.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks the process to exit.
    pub fn request_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
    }

    /// Whether an exit was requested.
    pub fn shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }
}

/// Accepts QEMU connections forever, serving one at a time. Runs on its own thread.
pub fn serve_tcp(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.shutting_down() {
            return;
        }
        match stream {
            Ok(s) => {
                let peer = s
                    .peer_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_else(|_| "?".into());
                shared.log.line(format!("QEMU connected from {peer}"));
                if let Err(e) = handle_conn(s, &shared) {
                    eprintln!("ripmi-bmcsim: QEMU connection from {peer} failed: {e}");
                    shared.log.line(format!("connection error: {e}"));
                }
                shared.log.line(format!("QEMU {peer} disconnected"));
            }
            Err(e) => {
                eprintln!("ripmi-bmcsim: accept on the QEMU port failed: {e}");
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Serves one QEMU connection until EOF, an error, or a `disconnect` fault.
fn handle_conn(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let writer = stream.try_clone()?;
    {
        let mut st = shared.lock();
        if let Some(old) = st.conn.replace(writer) {
            let _ = old.shutdown(Shutdown::Both);
        }
        st.wire.connections += 1;
        let mut codes = st.bmc.on_connect();
        codes.extend(st.bmc.stuck_atn_ctrl());
        st.send_ctrl(&codes, &shared.log);
    }
    let result = read_loop(&stream, shared);
    let mut st = shared.lock();
    st.unanswered = None;
    if let Some(c) = st.conn.take() {
        let _ = c.shutdown(Shutdown::Both);
    }
    result
}

fn read_loop(mut stream: &TcpStream, shared: &Shared) -> io::Result<()> {
    let mut dec = Decoder::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for item in dec.feed(&buf[..n]) {
            match item {
                Ok(Frame::Ctrl(bytes)) => handle_qemu_ctrl(shared, &bytes),
                Ok(Frame::Msg(body)) => {
                    if !handle_request(shared, &body) {
                        shared.log.line("fault: closing the QEMU connection");
                        shared.lock().stand_in_before_close(&shared.log);
                        return Ok(());
                    }
                }
                Err(e) => {
                    shared.lock().wire.bad_frames += 1;
                    shared.log.line(format!("<- bad frame: {e}"));
                }
            }
        }
    }
}

/// Handles a control command from QEMU (version, capabilities, machine reset).
fn handle_qemu_ctrl(shared: &Shared, bytes: &[u8]) {
    let mut st = shared.lock();
    st.wire.ctrl_in += 1;
    let arg = bytes.get(1).copied();
    shared.log.line(format!(
        "<- ctrl {} ({})",
        frame::hex(bytes),
        ctrl_name(bytes[0])
    ));
    match bytes[0] {
        ctrl::VERSION => st.qemu_version = arg,
        ctrl::CAPABILITIES => st.qemu_caps = arg,
        ctrl::RESET => {
            let codes = st.bmc.host_reset();
            st.send_ctrl(&codes, &shared.log);
        }
        _ => {}
    }
}

/// Junk sent in place of a response by the `garbage` fault: no valid frame can be decoded from
/// it (its checksum is wrong), so QEMU discards it.
const GARBAGE: [u8; 6] = [0x55, 0xAA, 0xBA, 0x13, 0x37, frame::MSG_END];

/// Handles one request frame body (`seq, netfn<<2|lun, cmd, data...`). Returns `false` when the
/// connection must be closed.
fn handle_request(shared: &Shared, body: &[u8]) -> bool {
    let log = &shared.log;
    if body.len() < 3 {
        shared.lock().wire.bad_frames += 1;
        log.line(format!("<- request too short: {}", frame::hex(body)));
        return true;
    }
    let (seq, nf, lun, cmd, data) = (body[0], body[1] >> 2, body[1] & 3, body[2], &body[3..]);
    log.line(format!(
        "<- req seq={seq:02x} netfn={nf:02x} lun={lun} cmd={cmd:02x} data=[{}]",
        frame::hex(data)
    ));
    let (action, generation) = {
        let mut st = shared.lock();
        st.wire.requests += 1;
        let now = Instant::now();
        st.last_seq = Some(seq);
        st.unanswered = Some(Unanswered {
            seq,
            nf_lun: body[1],
            cmd,
            since: now,
        });
        if st.booting_until.is_some_and(|t| now < t) {
            st.wire.ignored += 1;
            log.line("   BMC booting after a reset: not answered");
            return true;
        }
        st.booting_until = None;
        (st.fault.next_action(nf, cmd), st.wire.connections)
    };
    let (delay_ms, corruption, force_cc) = match action {
        Action::Ignore => {
            shared.lock().wire.ignored += 1;
            log.line("   fault: not answered");
            return true;
        }
        Action::Disconnect => return false,
        Action::Reset(boot_ms) => {
            let mut st = shared.lock();
            st.wire.ignored += 1;
            let codes = st.bmc.bmc_reset();
            log.line(format!(
                "   fault: BMC cold reset, request dropped, booting for {boot_ms} ms"
            ));
            st.send_ctrl(&codes, log);
            if boot_ms > 0 {
                st.booting_until = Some(Instant::now() + Duration::from_millis(boot_ms));
            }
            return true;
        }
        Action::Answer {
            delay_ms,
            corruption,
            force_cc,
        } => (delay_ms, corruption, force_cc),
    };
    if delay_ms > 0 {
        log.line(format!("   fault: answering in {delay_ms} ms"));
        shared.lock().in_delay = true;
        thread::sleep(Duration::from_millis(delay_ms));
    }
    let mut st = shared.lock();
    st.in_delay = false;
    let mut reply = st.bmc.handle(nf, lun, cmd, data, Instant::now());
    if let Some(c) = force_cc {
        reply.cc = c;
        reply.data.clear();
    }
    st.send_ctrl(&reply.ctrl, log);
    let mut rsp = vec![seq, ((nf | 1) << 2) | lun, cmd, reply.cc];
    rsp.extend(&reply.data);
    let wire = match corruption {
        Corruption::None => frame::encode_msg(&rsp),
        Corruption::BadChecksum => {
            frame::encode_msg_with_checksum(&rsp, crate::ipmi::checksum(&rsp).wrapping_add(1))
        }
        Corruption::Garbage => GARBAGE.to_vec(),
    };
    let note = match corruption {
        Corruption::None => "",
        Corruption::BadChecksum => " (fault: bad checksum)",
        Corruption::Garbage => " (fault: replaced by garbage)",
    };
    log.line(format!(
        "-> rsp seq={seq:02x} cc={:02x} data=[{}]{note}",
        reply.cc,
        frame::hex(&reply.data)
    ));
    if st.wire.connections != generation || st.conn.is_none() {
        // The link this request came on is gone (hangup during a delay): a response written to
        // a new connection would reach QEMU as a stray answer.
        st.wire.ignored += 1;
        log.line("   the connection it came on is gone: response dropped");
        return true;
    }
    if st.send_bytes(&wire, log) {
        st.wire.replies += 1;
        if corruption == Corruption::None {
            st.unanswered = None;
        }
    }
    if nf == crate::ipmi::netfn::CHASSIS && cmd == crate::ipmi::chassis::CONTROL && reply.cc == 0 {
        let code = data[0] & 0x0F;
        log.line(format!(
            "   chassis control {code:02x} ({}) carried out",
            chassis_control_name(code)
        ));
    }
    // Hardware operations after the answer, as a real BMC powers the machine off once it has
    // answered (the guest may or may not read the answer before QEMU stops it).
    st.send_ctrl(&reply.after, log);
    if let Some(code) = st.bmc.stuck_atn_ctrl() {
        st.send_ctrl(&[code], log);
    }
    true
}

/// A readable name for a Chassis Control code (data\[0\] bits 3:0).
pub fn chassis_control_name(code: u8) -> &'static str {
    use crate::ipmi::chassis;
    match code {
        chassis::CTL_POWER_DOWN => "power down",
        chassis::CTL_POWER_UP => "power up",
        chassis::CTL_POWER_CYCLE => "power cycle",
        chassis::CTL_HARD_RESET => "hard reset",
        chassis::CTL_DIAG_INTERRUPT => "diagnostic interrupt",
        chassis::CTL_SOFT_SHUTDOWN => "soft shutdown",
        _ => "invalid",
    }
}
