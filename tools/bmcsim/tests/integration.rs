//! End-to-end tests of the `ripmi-bmcsim` binary: a TCP client plays QEMU's `ipmi-bmc-extern`
//! (framed requests, control commands) while the control socket drives the simulator.

use ripmi_bmcsim::frame::{self, Decoder, Frame};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running simulator, killed on drop.
struct Sim {
    child: Child,
    port: u16,
    control: PathBuf,
}

impl Sim {
    fn start(name: &str, extra: &[&str]) -> Sim {
        let control =
            std::env::temp_dir().join(format!("bmcsim-{}-{}.sock", name, std::process::id()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_ripmi-bmcsim"))
            .args(["--port", "0", "--control"])
            .arg(&control)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn ripmi-bmcsim");
        let mut banner = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut banner)
            .expect("banner");
        // "ripmi-bmcsim: listening on 127.0.0.1:PORT control PATH"
        let port = banner
            .split_whitespace()
            .find_map(|w| w.strip_prefix("127.0.0.1:"))
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in banner {banner:?}"));
        Sim {
            child,
            port,
            control,
        }
    }

    fn ctl(&self) -> Ctl {
        let s = UnixStream::connect(&self.control).expect("connect control socket");
        Ctl {
            w: s.try_clone().unwrap(),
            r: BufReader::new(s),
        }
    }

    fn qemu(&self) -> Qemu {
        let s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect as QEMU");
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let mut q = Qemu {
            s,
            dec: Decoder::new(),
            pending: Vec::new(),
            bad: 0,
        };
        // What QEMU sends on connect: version 1, capabilities IRQ|ATTN|power|reset|NMI.
        q.s.write_all(&[0xFF, 0x01, 0xA1, 0x08, 0x1F, 0xA1])
            .unwrap();
        q
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.control);
    }
}

/// A control socket connection.
struct Ctl {
    w: UnixStream,
    r: BufReader<UnixStream>,
}

impl Ctl {
    /// Sends a command, returns all lines including the final status line.
    fn cmd(&mut self, line: &str) -> Vec<String> {
        writeln!(self.w, "{line}").unwrap();
        let mut out = Vec::new();
        loop {
            let mut l = String::new();
            assert!(
                self.r.read_line(&mut l).unwrap() > 0,
                "control EOF after {line}"
            );
            let l = l.trim_end().to_string();
            let done = l.starts_with("ok") || l.starts_with("err");
            out.push(l);
            if done {
                return out;
            }
        }
    }

    fn ok(&mut self, line: &str) -> String {
        let lines = self.cmd(line);
        let last = lines.last().unwrap();
        assert!(last.starts_with("ok"), "{line}: {lines:?}");
        last.clone()
    }
}

/// The QEMU side of the link.
struct Qemu {
    s: TcpStream,
    dec: Decoder,
    pending: Vec<Frame>,
    /// Damaged frames received.
    bad: usize,
}

impl Qemu {
    fn send(&mut self, seq: u8, netfn: u8, cmd: u8, data: &[u8]) {
        let mut body = vec![seq, netfn << 2, cmd];
        body.extend(data);
        self.s.write_all(&frame::encode_msg(&body)).unwrap();
    }

    /// Next frame within `ms` milliseconds.
    fn next(&mut self, ms: u64) -> Option<Frame> {
        let deadline = Instant::now() + Duration::from_millis(ms);
        loop {
            if !self.pending.is_empty() {
                return Some(self.pending.remove(0));
            }
            if Instant::now() >= deadline {
                return None;
            }
            let mut buf = [0u8; 512];
            match self.s.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => {
                    // Damaged frames (the badsum and garbage faults) are dropped, as QEMU does.
                    for f in self.dec.feed(&buf[..n]) {
                        match f {
                            Ok(f) => self.pending.push(f),
                            Err(_) => self.bad += 1,
                        }
                    }
                }
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    /// Control commands and then the response to the request with `seq`.
    fn reply(&mut self, seq: u8) -> (Vec<u8>, Vec<u8>) {
        self.reply_within(seq, 2000)
    }

    /// The same, waiting up to `ms` milliseconds for each frame.
    fn reply_within(&mut self, seq: u8, ms: u64) -> (Vec<u8>, Vec<u8>) {
        let mut ctrls = Vec::new();
        loop {
            match self.next(ms).expect("reply") {
                Frame::Ctrl(c) => ctrls.extend(c),
                Frame::Msg(m) => {
                    assert_eq!(m[0], seq, "sequence echoed");
                    return (ctrls, m);
                }
            }
        }
    }

    fn request(&mut self, seq: u8, netfn: u8, cmd: u8, data: &[u8]) -> (Vec<u8>, Vec<u8>) {
        self.send(seq, netfn, cmd, data);
        self.reply(seq)
    }
}

#[test]
fn qemu_link_and_control_socket_end_to_end() {
    let sim = Sim::start("e2e", &[]);
    let mut ctl = sim.ctl();
    let mut q = sim.qemu();
    assert_eq!(ctl.ok("wait connected 2000"), "ok");

    // Get Device ID: seq echoed, netfn 7, cmd 1, cc 0, QEMU-sim fields.
    let (c, m) = q.request(0x01, 0x06, 0x01, &[]);
    assert!(c.is_empty());
    assert_eq!(
        m,
        [0x01, 0x1c, 0x01, 0x00, 0x20, 0x00, 0x00, 0x00, 0x02, 0x07, 0, 0, 0, 0, 0]
    );

    // The handshake was seen.
    let stats = ctl.ok("stats");
    assert!(stats.contains("qemu_version=01"), "{stats}");
    assert!(stats.contains("qemu_caps=1f"), "{stats}");

    // Set Global Enables 07: the IRQ enable control command precedes the response.
    let (c, m) = q.request(0x02, 0x06, 0x2e, &[0x07]);
    assert_eq!(c, [0x05]);
    assert_eq!(m, [0x02, 0x1c, 0x2e, 0x00]);

    // A sequence byte that needs escaping (0xA0) is echoed.
    let (_, m) = q.request(0xA0, 0x06, 0x31, &[]);
    assert_eq!(m, [0xA0, 0x1c, 0x31, 0x00, 0x00]);

    // Inject from the control socket: ATN+IRQ arrives unsolicited.
    assert_eq!(
        ctl.ok("inject 0 40 30 5 01 02 seq=7"),
        "ok id=1 seq=07 queued=1"
    );
    assert_eq!(q.next(2000), Some(Frame::Ctrl(vec![0x02])));
    let (_, m) = q.request(0x03, 0x06, 0x31, &[]);
    assert_eq!(m, [0x03, 0x1c, 0x31, 0x00, 0x01]);

    // Get Message: the reference layout, and ATN cleared as the queue drains.
    let (c, m) = q.request(0x04, 0x06, 0x33, &[]);
    assert_eq!(c, [0x00]);
    assert_eq!(
        m,
        [0x04, 0x1c, 0x33, 0x00, 0x00, 0xc2, 0x1e, 0x40, 0x1c, 0x05, 0x01, 0x02, 0x9c]
    );
    let (_, m) = q.request(0x05, 0x06, 0x33, &[]);
    assert_eq!(m, [0x05, 0x1c, 0x33, 0x80]);
    assert_eq!(ctl.ok("wait drained 100"), "ok 0");

    // LAN channel 1.
    ctl.ok("inject 1 81 30 7 aa seq=5 rqlun=1 handle=11");
    assert_eq!(q.next(2000), Some(Frame::Ctrl(vec![0x02])));
    let (_, m) = q.request(0x06, 0x06, 0x33, &[]);
    assert_eq!(
        &m[3..],
        [0x00, 0x41, 0x11, 0x20, 0xc2, 0x1e, 0x81, 0x15, 0x07, 0xaa, 0xb9]
    );

    // Send Message from the host is recorded with its channel.
    let answer = [0x00, 0x40, 0xc4, 0xfc, 0x20, 0x22, 0x06, 0xc1, 0xf7];
    let (_, m) = q.request(0x07, 0x06, 0x34, &answer);
    assert_eq!(m, [0x07, 0x1c, 0x34, 0x00]);
    assert_eq!(ctl.ok("wait sent 1 1000"), "ok 1");
    assert_eq!(
        ctl.cmd("sent"),
        [
            "0 00 40 c4 fc 20 22 06 c1 f7".to_string(),
            "ok 1".to_string()
        ]
    );
    assert_eq!(ctl.ok("clear"), "ok 1");
    assert_eq!(ctl.ok("count 06 34"), "ok 1");

    // Get Channel Info for the channel scan.
    let (_, m) = q.request(0x08, 0x06, 0x42, &[0x01]);
    assert_eq!(
        &m[3..],
        [0x00, 0x01, 0x04, 0x01, 0x80, 0xf2, 0x1b, 0x00, 0x00, 0x00]
    );
    ctl.ok("media 1 ipmb");
    let (_, m) = q.request(0x09, 0x06, 0x42, &[0x01]);
    assert_eq!(m[5], 0x01);
    let (_, m) = q.request(0x0a, 0x06, 0x42, &[0x05]);
    assert_eq!(&m[3..], [0xCC]);

    // Unknown command.
    let (_, m) = q.request(0x0b, 0x2c, 0x01, &[0x00]);
    assert_eq!(m, [0x0b, 0xb4, 0x01, 0xC1]);

    // QEMU reports a machine reset: interrupts are disabled again.
    q.s.write_all(&[0x04, 0xA1]).unwrap();
    assert_eq!(q.next(2000), Some(Frame::Ctrl(vec![0x06])));

    // Faults: silence, then a forced completion code, then a delay.
    ctl.ok("fault drop");
    q.send(0x0c, 0x06, 0x01, &[]);
    assert_eq!(q.next(300), None, "dropped request is not answered");
    let (_, m) = q.request(0x0d, 0x06, 0x01, &[]);
    assert_eq!(m[3], 0x00, "back to normal after one");
    ctl.ok("fault cc c0 count=1");
    let (_, m) = q.request(0x0e, 0x06, 0x01, &[]);
    assert_eq!(m, [0x0e, 0x1c, 0x01, 0xc0]);
    ctl.ok("fault delay 300 count=1");
    let t = Instant::now();
    let (_, m) = q.request(0x0f, 0x06, 0x01, &[]);
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(m[3], 0x00);

    // A bad checksum from "QEMU" is counted and ignored.
    q.s.write_all(&frame::encode_msg_with_checksum(&[0x10, 0x18, 0x01], 0x00))
        .unwrap();
    assert_eq!(q.next(200), None);
    assert!(ctl.ok("stats").contains("bad_frames=1"));

    // The ctl subcommand of the binary talks to the same socket.
    let out = Command::new(env!("CARGO_BIN_EXE_ripmi-bmcsim"))
        .arg("ctl")
        .arg(&sim.control)
        .args(["queue"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok 0\n");
    let out = Command::new(env!("CARGO_BIN_EXE_ripmi-bmcsim"))
        .arg("ctl")
        .arg(&sim.control)
        .args(["media", "99", "lan"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "err status exits 1");

    // quit: the process exits and removes its socket.
    assert_eq!(ctl.cmd("quit"), ["ok bye"]);
    let mut sim = sim;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = sim.child.try_wait().unwrap() {
            assert!(status.success());
            break;
        }
        assert!(Instant::now() < deadline, "simulator did not exit on quit");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!sim.control.exists());
}

#[test]
fn reconnect_resynchronises_and_disconnect_fault_closes() {
    let sim = Sim::start("reconnect", &["--media", "3=lan", "--set", "device_id=21"]);
    let mut ctl = sim.ctl();
    {
        let mut q = sim.qemu();
        let (c, m) = q.request(0x01, 0x06, 0x2e, &[0x01]);
        assert_eq!((c, m[3]), (vec![0x05], 0x00));
        let (_, m) = q.request(0x02, 0x06, 0x01, &[]);
        assert_eq!(m[4], 0x21, "--set applied");
        let (_, m) = q.request(0x03, 0x06, 0x42, &[0x03]);
        assert_eq!(m[5], 0x04, "--media applied");
        ctl.ok("fault disconnect");
        q.send(0x04, 0x06, 0x01, &[]);
        assert_eq!(q.next(1000), None, "connection closed");
    }
    // A message queued while QEMU is away is announced when it comes back, after the IRQ enable.
    ctl.ok("inject 0 40 30 5");
    let mut q = sim.qemu();
    assert_eq!(q.next(2000), Some(Frame::Ctrl(vec![0x05])));
    assert_eq!(q.next(2000), Some(Frame::Ctrl(vec![0x02])));
    let (_, m) = q.request(0x05, 0x06, 0x33, &[]);
    assert_eq!(m[3], 0x00);
    assert!(ctl.ok("stats").contains("connections=2"));
}

#[test]
fn sigterm_exits_cleanly() {
    let mut sim = Sim::start("sigterm", &[]);
    let pid = sim.child.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = sim.child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "simulator ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!sim.control.exists());
}

#[test]
fn bmc_reset_drops_the_request_and_boots() {
    let sim = Sim::start("bmcreset", &[]);
    let mut ctl = sim.ctl();
    let mut q = sim.qemu();
    let (c, m) = q.request(0x01, 0x06, 0x2e, &[0x0f]);
    assert_eq!((c, m[3]), (vec![0x05], 0x00));
    ctl.ok("inject 0 40 30 5");
    assert_eq!(q.next(2000), Some(Frame::Ctrl(vec![0x02])));
    ctl.ok("fault reset 300");
    // The request in flight is dropped; interrupts go off, ATN drops, the queue is lost.
    q.send(0x02, 0x06, 0x01, &[]);
    assert_eq!(q.next(1000), Some(Frame::Ctrl(vec![0x06])));
    assert_eq!(q.next(1000), Some(Frame::Ctrl(vec![0x00])));
    assert_eq!(
        q.next(300),
        None,
        "no answer to the request cut by the reset"
    );
    // Booting: ignored (300 ms from the reset; about 300 ms have passed, so send at once).
    let stats = ctl.ok("stats");
    assert!(stats.contains("bmc_resets=1 "), "{stats}");
    assert!(
        stats.contains("queued=0 ") && stats.contains("enables=08 "),
        "{stats}"
    );
    std::thread::sleep(Duration::from_millis(100));
    let (_, m) = q.request(0x04, 0x06, 0x01, &[]);
    assert_eq!(m[3], 0x00, "answers again after booting");
    assert_eq!(
        ctl.ok("count 06 01"),
        "ok 1",
        "the dropped request was never executed"
    );
}

#[test]
fn stuck_atn_reasserts_after_every_response() {
    let sim = Sim::start("stuckatn", &[]);
    let mut ctl = sim.ctl();
    let mut q = sim.qemu();
    let _ = q.request(0x01, 0x06, 0x01, &[]);
    ctl.ok("set stuck_atn on");
    assert_eq!(
        q.next(1000),
        Some(Frame::Ctrl(vec![0x01])),
        "asserted at once"
    );
    let (_, m) = q.request(0x02, 0x06, 0x31, &[]);
    assert_eq!(m[4], 0x00, "Get Message Flags: nothing pending");
    assert_eq!(q.next(1000), Some(Frame::Ctrl(vec![0x01])), "re-asserted");
    ctl.ok("set stuck_atn off");
    let _ = q.request(0x03, 0x06, 0x01, &[]);
    assert_eq!(q.next(300), None);
}

#[test]
fn hangup_drops_a_delayed_answer_and_qemu_can_come_back() {
    let sim = Sim::start("hangup", &[]);
    let mut ctl = sim.ctl();
    let mut q = sim.qemu();
    ctl.ok("fault delay 400 count=1");
    q.send(0x01, 0x06, 0x01, &[]);
    std::thread::sleep(Duration::from_millis(100));
    assert!(ctl
        .cmd("wait idle 50")
        .last()
        .unwrap()
        .starts_with("err timeout"));
    ctl.ok("hangup");
    assert_eq!(q.next(300), None, "connection closed");
    let mut q2 = sim.qemu();
    ctl.ok("wait idle 2000");
    // The delayed answer must not reach the new connection.
    assert_eq!(q2.next(300), None);
    let (_, m) = q2.request(0x02, 0x06, 0x01, &[]);
    assert_eq!(m[3], 0x00);
    assert!(ctl.ok("stats").contains("ignored=1 "));
}

#[test]
fn populated_repository_and_sel_over_the_link() {
    let sim = Sim::start(
        "repo",
        &[
            "--sdr-sensors",
            "30",
            "--sel-entries",
            "200",
            "--set",
            "sdr_max_read=12",
        ],
    );
    let mut ctl = sim.ctl();
    let mut q = sim.qemu();
    assert_eq!(
        ctl.ok("repo"),
        "ok sensors=30 sdr_records=31 sel_entries=200"
    );

    // Reserve, then walk the SDR as `ipmitool -I open` does (the header, then pieces of 33
    // bytes, one byte fewer after each 0xCA) and count the records.
    let (_, m) = q.request(1, 0x0A, 0x22, &[]);
    let (r0, r1) = (m[4], m[5]);
    let (mut id, mut records, mut cas, mut seq) = (0u16, 0, 0, 2u8);
    let mut max = 33u8;
    while id != 0xFFFF {
        let [lo, hi] = id.to_le_bytes();
        let (_, h) = q.request(seq, 0x0A, 0x23, &[r0, r1, lo, hi, 0, 5]);
        seq = seq.wrapping_add(1);
        assert_eq!(h[3], 0, "Get SDR header of {id:04x}");
        let next = u16::from_le_bytes([h[4], h[5]]);
        let len = usize::from(h[10]) + 5;
        let mut got = 5;
        while got < len {
            let n = max.min((len - got) as u8);
            let (_, p) = q.request(seq, 0x0A, 0x23, &[r0, r1, h[6], h[7], got as u8, n]);
            seq = seq.wrapping_add(1);
            if p[3] == 0xCA {
                cas += 1;
                max -= 1;
                continue;
            }
            assert_eq!(p[3], 0);
            assert_eq!(p.len(), 4 + 2 + usize::from(n));
            got += usize::from(n);
        }
        records += 1;
        id = next;
    }
    assert_eq!(records, 31);
    assert_eq!(
        (cas, max),
        (15, 18),
        "0xCA until the limit of 0x12 (18) bytes"
    );

    // Every sensor reads; one past the last does not.
    for n in 1..=30u8 {
        let (_, m) = q.request(seq, 0x04, 0x2D, &[n]);
        seq = seq.wrapping_add(1);
        assert_eq!((m[3], m.len()), (0, 4 + 4), "sensor {n}");
    }
    let (_, m) = q.request(seq, 0x04, 0x2D, &[31]);
    seq = seq.wrapping_add(1);
    assert_eq!(m[3], 0xCB);

    // The SEL, as ipmitool lists it.
    let (_, m) = q.request(seq, 0x0A, 0x40, &[]);
    seq = seq.wrapping_add(1);
    assert_eq!((m[3], m[5], m[6]), (0, 200, 0));
    let (mut id, mut n) = (0u16, 0);
    while id != 0xFFFF {
        let [lo, hi] = id.to_le_bytes();
        let (_, e) = q.request(seq, 0x0A, 0x43, &[0, 0, lo, hi, 0, 0xFF]);
        seq = seq.wrapping_add(1);
        assert_eq!((e[3], e.len()), (0, 4 + 2 + 16));
        assert_eq!(e[8], 0x02, "system event record");
        id = u16::from_le_bytes([e[4], e[5]]);
        n += 1;
    }
    assert_eq!(n, 200);
    assert_eq!(ctl.ok("count 0a 43"), "ok 200");
}

#[test]
fn bad_repository_sizes_are_refused() {
    // A count out of range fails at start-up (1), one that is not a number as a usage error (2).
    for (args, code) in [(["--sdr-sensors", "255"], 1), (["--sel-entries", "x"], 2)] {
        let out = Command::new(env!("CARGO_BIN_EXE_ripmi-bmcsim"))
            .args(["--port", "0", "--control", "/nonexistent/never.sock"])
            .args(args)
            .output()
            .expect("run ripmi-bmcsim");
        assert_eq!(out.status.code(), Some(code), "{args:?}");
        assert!(!out.stderr.is_empty());
    }
}

/// QEMU builds its own 0xC3 (4 s timeout) and 0xD2 (link closed) from the escaped bytes it sent,
/// so for a sequence number, netFn or command that is a framing byte it would misroute them and
/// wedge its KCS: the simulator answers those requests in QEMU's place, and no others.
#[test]
fn stands_in_for_qemus_misrouted_error_answers() {
    let sim = Sim::start("standin", &[]);
    let mut ctl = sim.ctl();
    let mut q = sim.qemu();
    // An ordinary request left unanswered: QEMU answers it itself, the simulator stays silent.
    ctl.ok("fault drop count=1");
    q.send(0x9F, 0x00, 0x01, &[]);
    assert_eq!(q.next(4300), None, "no stand-in for sequence number 9F");
    // Sequence number A0, dropped: 0xC3 in QEMU's place, just before QEMU's 4 s.
    ctl.ok("fault drop count=1");
    let t0 = Instant::now();
    q.send(0xA0, 0x00, 0x01, &[]);
    let (_, m) = q.reply_within(0xA0, 4500);
    let waited = t0.elapsed();
    assert_eq!(m, [0xA0, 0x04, 0x01, 0xC3]);
    assert!(
        waited >= Duration::from_millis(3800) && waited < Duration::from_millis(4000),
        "answered after {waited:?}"
    );
    // A bad checksum is not an answer either (command A1, an escaped byte too).
    ctl.ok("fault badsum count=1");
    q.send(0x10, 0x06, 0xA1, &[]);
    let (_, m) = q.reply_within(0x10, 4500);
    assert_eq!(m[..4], [0x10, 0x1C, 0xA1, 0xC3]);
    assert_eq!(q.bad, 1, "the damaged answer came first");
    // The link closed by a fault with sequence number A1 in flight: 0xD2 first.
    ctl.ok("fault disconnect");
    q.send(0xA1, 0x06, 0x01, &[]);
    let (_, m) = q.reply(0xA1);
    assert_eq!(m, [0xA1, 0x1C, 0x01, 0xD2]);
    assert_eq!(q.next(500), None, "connection closed");
    // A hang-up while sequence number AA is being delayed: 0xD2 first, and the late answer is
    // dropped.
    let mut q = sim.qemu();
    ctl.ok("wait connected 2000");
    ctl.ok("fault delay 500 count=1");
    q.send(0xAA, 0x06, 0x01, &[]);
    std::thread::sleep(Duration::from_millis(100));
    ctl.ok("hangup");
    let (_, m) = q.reply(0xAA);
    assert_eq!(m, [0xAA, 0x1C, 0x01, 0xD2]);
    let stats = ctl.ok("stats");
    assert!(stats.contains(" stand_ins=4 "), "{stats}");
    assert!(stats.contains(" last_seq=aa "), "{stats}");
}

#[test]
fn chassis_control_answers_then_powers_the_machine_off() {
    let log = std::env::temp_dir().join(format!("bmcsim-chassis-{}.log", std::process::id()));
    let sim = Sim::start("chassis", &["--log", log.to_str().unwrap()]);
    let mut ctl = sim.ctl();
    let mut q = sim.qemu();
    // Power down: the answer (cc 0) first, then the machine power-off (03 A1).
    let (ctrls, m) = q.request(0x05, 0x00, 0x02, &[0x00]);
    assert!(ctrls.is_empty(), "nothing before the answer: {ctrls:02x?}");
    assert_eq!(m, [0x05, 0x01 << 2, 0x02, 0x00]);
    assert_eq!(
        q.next(1000),
        Some(Frame::Ctrl(vec![0x03])),
        "power off after it"
    );
    // Power cycle and hard reset: a machine reset (04 A1).
    for (seq, code) in [(0x06, 0x02), (0x07, 0x03)] {
        let (_, m) = q.request(seq, 0x00, 0x02, &[code]);
        assert_eq!(m[3], 0x00);
        assert_eq!(
            q.next(1000),
            Some(Frame::Ctrl(vec![0x04])),
            "reset for {code}"
        );
    }
    // An invalid code: 0xCC and no hardware operation.
    let (_, m) = q.request(0x08, 0x00, 0x02, &[0x0F]);
    assert_eq!(m[3], 0xCC);
    assert_eq!(q.next(300), None);
    let stats = ctl.ok("stats");
    assert!(
        stats.contains(" power_downs=1 power_ups=0 power_cycles=1 hard_resets=1 "),
        "{stats}"
    );
    assert_eq!(ctl.ok("count 00 02"), "ok 4");
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(
        text.contains("chassis control 00 (power down) carried out"),
        "{text}"
    );
    assert!(text.contains("-> ctrl 03 (power off)"), "{text}");
}
