//! The control protocol: one text command per line on a Unix socket, answered by zero or more
//! data lines and then exactly one status line that starts with `ok` or `err`.
//!
//! Numbers are hex (a `0x` prefix is optional) except channel numbers, counts and milliseconds,
//! which are decimal. See the README for the full command list; [`HELP`] is the short form.

use crate::bmc::{Channel, InjectSpec, CHANNELS};
use crate::fault::Fault;
use crate::frame;
use crate::ipmi::{self, Layout};
use crate::server::Shared;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Short help text, one command per line.
pub const HELP: &str = "\
inject CHAN SRC NETFN CMD [DATA...] [seq=S lun=L rqlun=L priv=P handle=H rsaddr=A layout=ipmb|lan|raw count=N every=MS serial=S]
inject-raw HEX...            queue a Get Message body (after the cc) verbatim
event [16 HEX BYTES]         fill the event message buffer
sent                         Send Messages since last clear: CHAN then the request data
clear                        forget recorded Send Messages
flush                        drop queued messages and the event buffer
queue                        number of queued messages
stats                        counters
count NETFN CMD              how many such requests the host sent
repo                         size of the SDR repository and the SEL: sensors=N sdr_records=R sel_entries=M
media [CHAN MEDIUM [PROTO]]  show or set Get Channel Info answers (MEDIUM: ipmb lan async ... HEX absent unsupported)
set [KEY VALUE]              show or change settings
fault [KIND [ARG] [count=N] [cmd=NF:CMD]] show or set: none silence drop delay MS badsum garbage cc HEX disconnect reset [MS]
ctrl HEX                     send one control command to QEMU (e.g. 02 = ATN+IRQ)
raw HEX...                   send raw bytes to QEMU
wait sent|requests N [MS]    wait until at least N were seen (default 5000 ms)
wait connected|drained|idle [MS]  wait for a QEMU connection / an empty receive queue / no delayed answer pending
hangup                       close the QEMU connection now (QEMU reconnects)
unschedule                   stop 'inject ... every=MS'; answers how many it injected
help
quit";

/// Parses a channel number: decimal, or hex with a `0x` prefix.
pub fn parse_chan(s: &str) -> Result<u8, String> {
    let v = if let Some(h) = s.strip_prefix("0x") {
        u8::from_str_radix(h, 16).ok()
    } else {
        s.parse::<u8>().ok()
    };
    v.filter(|c| usize::from(*c) < CHANNELS)
        .ok_or_else(|| format!("bad channel '{s}' (0-15)"))
}

fn hex_u8(s: &str, what: &str) -> Result<u8, String> {
    ipmi::parse_hex_u8(s).ok_or_else(|| format!("bad {what} '{s}' (hex byte)"))
}

/// Parses the arguments of `inject` (everything after the word `inject`).
pub fn parse_inject(args: &[&str]) -> Result<InjectSpec, String> {
    let (fixed, rest) = match args {
        [a, b, c, d, rest @ ..] => ([*a, *b, *c, *d], rest),
        _ => return Err("usage: inject CHAN SRC NETFN CMD [DATA...] [key=value...]".into()),
    };
    let mut spec = InjectSpec {
        chan: parse_chan(fixed[0])?,
        src: hex_u8(fixed[1], "source address")?,
        netfn: hex_u8(fixed[2], "netfn")?,
        cmd: hex_u8(fixed[3], "command")?,
        ..InjectSpec::default()
    };
    if spec.netfn > 0x3F {
        return Err(format!("netfn 0x{:02x} out of range 0-3f", spec.netfn));
    }
    let mut data_tokens = Vec::new();
    for tok in rest {
        if let Some((k, v)) = tok.split_once('=') {
            match k {
                "seq" => spec.seq = Some(hex_u8(v, "seq")?),
                "lun" => spec.lun = Some(hex_u8(v, "lun")?),
                "rqlun" => spec.rq_lun = Some(hex_u8(v, "rqlun")?),
                "priv" => spec.privilege = Some(hex_u8(v, "priv")?),
                "handle" => spec.handle = Some(hex_u8(v, "handle")?),
                "rsaddr" => spec.rs_addr = Some(hex_u8(v, "rsaddr")?),
                "layout" => {
                    spec.layout = Some(Layout::parse(v).ok_or_else(|| format!("bad layout '{v}'"))?)
                }
                _ => return Err(format!("unknown option '{k}'")),
            }
        } else {
            data_tokens.push(*tok);
        }
    }
    spec.data = ipmi::parse_hex_bytes(data_tokens)?;
    Ok(spec)
}

/// The answer to one command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Data lines, then the status line.
    pub lines: Vec<String>,
    /// The command asked the simulator to exit.
    pub quit: bool,
}

impl Response {
    fn ok(status: impl Into<String>) -> Response {
        let s = status.into();
        Response {
            lines: vec![if s.is_empty() {
                "ok".into()
            } else {
                format!("ok {s}")
            }],
            quit: false,
        }
    }

    fn data(mut lines: Vec<String>, status: impl Into<String>) -> Response {
        let s = status.into();
        lines.push(if s.is_empty() {
            "ok".into()
        } else {
            format!("ok {s}")
        });
        Response { lines, quit: false }
    }

    fn err(msg: impl Into<String>) -> Response {
        Response {
            lines: vec![format!("err {}", msg.into())],
            quit: false,
        }
    }
}

fn result(r: Result<Response, String>) -> Response {
    r.unwrap_or_else(Response::err)
}

/// Executes one command line against the shared state.
pub fn execute(shared: &Shared, line: &str) -> Response {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some((&cmd, args)) = words.split_first() else {
        return Response::err("empty command");
    };
    shared.log.line(format!("control: {}", words.join(" ")));
    match cmd {
        "help" => Response::data(HELP.lines().map(String::from).collect(), ""),
        "inject" => result(inject(shared, args)),
        "inject-raw" => result(inject_raw(shared, args)),
        "event" => result(event(shared, args)),
        "sent" => {
            let st = shared.lock();
            let lines: Vec<String> = st
                .bmc
                .sent()
                .iter()
                .map(|s| format!("{} {}", s.chan, frame::hex(&s.data)))
                .collect();
            let n = lines.len();
            Response::data(lines, n.to_string())
        }
        "clear" => Response::ok(shared.lock().bmc.clear_sent().to_string()),
        "flush" => {
            let mut st = shared.lock();
            let (n, codes) = st.bmc.flush();
            st.send_ctrl(&codes, &shared.log);
            Response::ok(n.to_string())
        }
        "queue" => Response::ok(shared.lock().bmc.queue_len().to_string()),
        "stats" => Response::ok(stats(shared)),
        "count" => result(count(shared, args)),
        "repo" => {
            let st = shared.lock();
            Response::ok(format!(
                "sensors={} sdr_records={} sel_entries={}",
                st.bmc.sdr.sensors().len(),
                st.bmc.sdr.records().len(),
                st.bmc.sel.entries().len()
            ))
        }
        "media" => result(media(shared, args)),
        "set" => result(set(shared, args)),
        "fault" => result(fault(shared, args)),
        "ctrl" => result(send_ctrl(shared, args)),
        "raw" => result(send_raw(shared, args)),
        "hangup" => result(hangup(shared)),
        "unschedule" => Response::ok(shared.lock().stop_schedule().to_string()),
        "wait" => result(wait(shared, args)),
        "quit" | "exit" => Response {
            lines: vec!["ok bye".into()],
            quit: true,
        },
        other => Response::err(format!("unknown command '{other}' (try help)")),
    }
}

fn inject(shared: &Shared, args: &[&str]) -> Result<Response, String> {
    // `count=N` (a flood of N messages), `every=MS` (one every MS ms instead, on a timer) and
    // `serial=S` (number them) are not part of the message itself.
    let mut count = None;
    let mut every = None;
    let mut serial = None;
    let mut rest = Vec::with_capacity(args.len());
    for a in args {
        if let Some(v) = a.strip_prefix("count=") {
            let n: usize = v.parse().map_err(|_| format!("bad count '{v}'"))?;
            if n == 0 {
                return Err("count must be at least 1".into());
            }
            count = Some(n);
        } else if let Some(v) = a.strip_prefix("every=") {
            let ms: u64 = v.parse().map_err(|_| format!("bad period '{v}' (ms)"))?;
            if ms == 0 {
                return Err("every= must be at least 1 ms".into());
            }
            every = Some(Duration::from_millis(ms));
        } else if let Some(v) = a.strip_prefix("serial=") {
            serial = Some(v.parse::<u16>().map_err(|_| format!("bad serial '{v}'"))?);
        } else {
            rest.push(*a);
        }
    }
    let spec = parse_inject(&rest)?;
    let mut st = shared.lock();
    if let Some(period) = every {
        let left = count.map_or(u64::MAX, |n| n as u64);
        st.start_schedule(crate::server::Schedule {
            spec,
            left,
            every: period,
            next: Instant::now(),
            serial,
        });
        return Ok(Response::ok(format!(
            "scheduled every={} count={}",
            period.as_millis(),
            count.map_or("unlimited".to_string(), |n| n.to_string())
        )));
    }
    if serial.is_some() {
        return Err("serial= needs every=".into());
    }
    let Some(n) = count else {
        let inj = st.bmc.inject(&spec)?;
        shared.log.line(format!(
            "   queued #{} chan {}: {}",
            inj.id,
            spec.chan,
            frame::hex(&inj.body)
        ));
        st.send_ctrl(&inj.ctrl, &shared.log);
        return Ok(Response::ok(format!(
            "id={} seq={:02x} queued={}",
            inj.id,
            inj.seq,
            st.bmc.queue_len()
        )));
    };
    let (first, last) = st.bmc.inject_many(&spec, n)?;
    shared.log.line(format!(
        "   queued #{}..#{} ({n} messages) chan {}: first {}",
        first.id,
        last,
        spec.chan,
        frame::hex(&first.body)
    ));
    st.send_ctrl(&first.ctrl, &shared.log);
    Ok(Response::ok(format!(
        "id={} seq={:02x} queued={} last={last} count={n}",
        first.id,
        first.seq,
        st.bmc.queue_len()
    )))
}

fn inject_raw(shared: &Shared, args: &[&str]) -> Result<Response, String> {
    let body = ipmi::parse_hex_bytes(args.iter().copied())?;
    if body.is_empty() {
        return Err("usage: inject-raw HEX...".into());
    }
    let mut st = shared.lock();
    let (id, codes) = st.bmc.inject_raw(body)?;
    st.send_ctrl(&codes, &shared.log);
    Ok(Response::ok(format!(
        "id={id} queued={}",
        st.bmc.queue_len()
    )))
}

/// Event used by `event` without arguments: a system event record from the BMC (generator
/// 0x20), watchdog 2 sensor 1, "timer expired" (offset 0).
pub const SAMPLE_EVENT: [u8; 16] = [
    0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x04, 0x23, 0x01, 0x6f, 0x00, 0xff, 0xff,
];

fn event(shared: &Shared, args: &[&str]) -> Result<Response, String> {
    let ev: [u8; 16] = if args.is_empty() {
        SAMPLE_EVENT
    } else {
        ipmi::parse_hex_bytes(args.iter().copied())?
            .try_into()
            .map_err(|_| "an event is exactly 16 bytes".to_string())?
    };
    let mut st = shared.lock();
    let codes = st.bmc.set_event(ev);
    st.send_ctrl(&codes, &shared.log);
    Ok(Response::ok(""))
}

fn stats(shared: &Shared) -> String {
    let st = shared.lock();
    let b = &st.bmc.stats;
    let w = &st.wire;
    let opt = |v: Option<u8>| v.map_or("-".to_string(), |x| format!("{x:02x}"));
    format!(
        "connected={} connections={} requests={} replies={} ignored={} bad_frames={} \
         ctrl_in={} ctrl_out={} qemu_version={} qemu_caps={} host_resets={} injected={} \
         delivered={} queued={} sent={} events={} flushed={} flags={:02x} enables={:02x} \
         bmc_resets={} scheduled={} stand_ins={} power_downs={} power_ups={} power_cycles={} \
         hard_resets={} diag_interrupts={} soft_shutdowns={} last_seq={} fault={}",
        u8::from(st.conn.is_some()),
        w.connections,
        w.requests,
        w.replies,
        w.ignored,
        w.bad_frames,
        w.ctrl_in,
        w.ctrl_out,
        opt(st.qemu_version),
        opt(st.qemu_caps),
        b.host_resets,
        b.injected,
        b.delivered,
        st.bmc.queue_len(),
        b.sent,
        b.events,
        b.flushed,
        st.bmc.flags(),
        st.bmc.global_enables(),
        b.bmc_resets,
        st.scheduled,
        w.stand_ins,
        b.chassis_controls[0],
        b.chassis_controls[1],
        b.chassis_controls[2],
        b.chassis_controls[3],
        b.chassis_controls[4],
        b.chassis_controls[5],
        opt(st.last_seq),
        st.fault.to_string().replace(' ', ","),
    )
}

fn count(shared: &Shared, args: &[&str]) -> Result<Response, String> {
    let [nf, cmd] = args else {
        return Err("usage: count NETFN CMD".into());
    };
    let key = (hex_u8(nf, "netfn")?, hex_u8(cmd, "command")?);
    let n = shared
        .lock()
        .bmc
        .stats
        .by_cmd
        .get(&key)
        .copied()
        .unwrap_or(0);
    Ok(Response::ok(n.to_string()))
}

fn media(shared: &Shared, args: &[&str]) -> Result<Response, String> {
    let mut st = shared.lock();
    match args {
        [] => {
            let lines = st
                .bmc
                .channels
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    if i == usize::from(crate::bmc::THIS_CHANNEL) {
                        format!("{i} this-channel (answered as 15)")
                    } else {
                        format!("{i} {}", c.describe())
                    }
                })
                .collect();
            Ok(Response::data(lines, ""))
        }
        [chan, m] | [chan, m, _] => {
            let c = parse_chan(chan)?;
            let channel = Channel::parse(m, args.get(2).copied())?;
            st.bmc.set_channel(c, channel)?;
            Ok(Response::ok(format!("{c} {}", channel.describe())))
        }
        _ => Err("usage: media [CHAN MEDIUM [PROTOCOL]]".into()),
    }
}

fn set(shared: &Shared, args: &[&str]) -> Result<Response, String> {
    let mut st = shared.lock();
    let (k, v) = match args {
        [] => return Ok(Response::data(st.bmc.settings_list(), "")),
        [kv] if kv.contains('=') => kv.split_once('=').unwrap_or((kv, "")),
        [k, v] => (*k, *v),
        _ => return Err("usage: set [KEY VALUE]".into()),
    };
    st.bmc.set(k, v)?;
    if k == "stuck_atn" {
        // Asserted at once, then again after every response.
        if let Some(code) = st.bmc.stuck_atn_ctrl() {
            st.send_ctrl(&[code], &shared.log);
        }
    }
    Ok(Response::ok(""))
}

fn fault(shared: &Shared, args: &[&str]) -> Result<Response, String> {
    let mut st = shared.lock();
    if !args.is_empty() {
        st.fault = Fault::parse(args)?;
    }
    Ok(Response::ok(st.fault.to_string()))
}

fn send_ctrl(shared: &Shared, args: &[&str]) -> Result<Response, String> {
    let [code] = args else {
        return Err("usage: ctrl HEX".into());
    };
    let c = hex_u8(code, "control code")?;
    let mut st = shared.lock();
    if st.conn.is_none() {
        return Err("QEMU is not connected".into());
    }
    st.send_ctrl(&[c], &shared.log);
    Ok(Response::ok(""))
}

/// Closes the QEMU connection now; QEMU reconnects after its `reconnect-ms`.
fn hangup(shared: &Shared) -> Result<Response, String> {
    let mut st = shared.lock();
    if st.conn.is_none() {
        return Err("QEMU is not connected".into());
    }
    shared.log.line("hangup: closing the QEMU connection");
    st.stand_in_before_close(&shared.log);
    if let Some(c) = st.conn.take() {
        let _ = c.shutdown(std::net::Shutdown::Both);
    }
    Ok(Response::ok(""))
}

fn send_raw(shared: &Shared, args: &[&str]) -> Result<Response, String> {
    let bytes = ipmi::parse_hex_bytes(args.iter().copied())?;
    let mut st = shared.lock();
    if st.conn.is_none() {
        return Err("QEMU is not connected".into());
    }
    shared.log.line(format!("-> raw {}", frame::hex(&bytes)));
    if st.send_bytes(&bytes, &shared.log) {
        Ok(Response::ok(bytes.len().to_string()))
    } else {
        Err("write failed".into())
    }
}

fn parse_ms(s: Option<&&str>) -> Result<Duration, String> {
    match s {
        None => Ok(Duration::from_millis(5000)),
        Some(v) => v
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("bad timeout '{v}' (milliseconds)")),
    }
}

fn wait(shared: &Shared, args: &[&str]) -> Result<Response, String> {
    type Probe = Box<dyn Fn(&Shared) -> (bool, String)>;
    let (probe, timeout): (Probe, Duration) = match args {
        [what @ ("sent" | "requests"), n, rest @ ..] => {
            let n: u64 = n.parse().map_err(|_| format!("bad count '{n}'"))?;
            let sent = *what == "sent";
            let probe: Probe = Box::new(move |sh: &Shared| {
                let st = sh.lock();
                let v = if sent {
                    st.bmc.sent().len() as u64
                } else {
                    st.wire.requests
                };
                (v >= n, v.to_string())
            });
            (probe, parse_ms(rest.first())?)
        }
        ["connected", rest @ ..] => {
            let probe: Probe = Box::new(|sh: &Shared| (sh.lock().conn.is_some(), String::new()));
            (probe, parse_ms(rest.first())?)
        }
        ["idle", rest @ ..] => {
            let probe: Probe = Box::new(|sh: &Shared| (!sh.lock().in_delay, String::new()));
            (probe, parse_ms(rest.first())?)
        }
        ["drained", rest @ ..] => {
            let probe: Probe = Box::new(|sh: &Shared| {
                let n = sh.lock().bmc.queue_len();
                (n == 0, n.to_string())
            });
            (probe, parse_ms(rest.first())?)
        }
        _ => {
            return Err(
                "usage: wait sent|requests N [MS] | wait connected|drained|idle [MS]".into(),
            )
        }
    };
    let deadline = Instant::now() + timeout;
    loop {
        let (done, value) = probe(shared);
        if done {
            return Ok(Response::ok(value));
        }
        if Instant::now() >= deadline || shared.shutting_down() {
            return Err(format!("timeout ({value})").replace(" ()", ""));
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Accepts control connections forever; each gets its own thread.
pub fn serve_control(listener: UnixListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        match stream {
            Ok(s) => {
                let sh = Arc::clone(&shared);
                thread::spawn(move || {
                    if let Err(e) = handle_client(s, &sh) {
                        eprintln!("ripmi-bmcsim: control connection failed: {e}");
                    }
                });
            }
            Err(e) => {
                eprintln!("ripmi-bmcsim: accept on the control socket failed: {e}");
                thread::sleep(Duration::from_millis(100));
            }
        }
        if shared.shutting_down() {
            return;
        }
    }
}

fn handle_client(stream: UnixStream, shared: &Shared) -> io::Result<()> {
    let mut out = stream.try_clone()?;
    for line in BufReader::new(stream).lines() {
        let line = line?;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let resp = execute(shared, trimmed);
        for l in &resp.lines {
            writeln!(out, "{l}")?;
        }
        out.flush()?;
        if resp.quit {
            shared.request_shutdown();
            return Ok(());
        }
    }
    Ok(())
}

/// Client side (`ripmi-bmcsim ctl PATH CMD...`): sends one command and prints the answer, or,
/// with no command, forwards standard input line by line. Returns whether every status was `ok`.
pub fn client(path: &str, command: &[String]) -> io::Result<bool> {
    let stream = UnixStream::connect(path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot connect to control socket {path}: {e}"),
        )
    })?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut all_ok = true;
    let mut run = |line: &str| -> io::Result<()> {
        writeln!(writer, "{line}")?;
        writer.flush()?;
        let mut stdout = io::stdout().lock();
        loop {
            let mut reply = String::new();
            if reader.read_line(&mut reply)? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "simulator closed the control connection",
                ));
            }
            stdout.write_all(reply.as_bytes())?;
            if reply.starts_with("ok") || reply.starts_with("err") {
                all_ok &= reply.starts_with("ok");
                return Ok(());
            }
        }
    };
    if command.is_empty() {
        for line in io::stdin().lock().lines() {
            let line = line?;
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            run(t)?;
            if t == "quit" || t == "exit" {
                break;
            }
        }
    } else {
        run(&command.join(" "))?;
    }
    Ok(all_ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bmc::Bmc;
    use crate::hexlog::HexLog;

    fn shared() -> Shared {
        Shared::new(Bmc::new(), HexLog::disabled(), 0)
    }

    fn run(sh: &Shared, line: &str) -> Vec<String> {
        execute(sh, line).lines
    }

    #[test]
    fn repo_reports_the_stores() {
        let sh = shared();
        assert_eq!(
            run(&sh, "repo"),
            ["ok sensors=0 sdr_records=0 sel_entries=0"]
        );
        let mut bmc = Bmc::new();
        bmc.populate(7, 9, 1_795_000_000).unwrap();
        let sh = Shared::new(bmc, HexLog::disabled(), 0);
        assert_eq!(
            run(&sh, "repo"),
            ["ok sensors=7 sdr_records=8 sel_entries=9"]
        );
    }

    #[test]
    fn parses_inject_arguments() {
        let s = parse_inject(&["0", "0x40", "30", "5", "01", "02", "seq=7"]).unwrap();
        assert_eq!((s.chan, s.src, s.netfn, s.cmd), (0, 0x40, 0x30, 5));
        assert_eq!((s.data.clone(), s.seq), (vec![1, 2], Some(7)));
        let s = parse_inject(&["15", "81", "30", "5", "0102", "layout=lan", "handle=3"]).unwrap();
        assert_eq!(
            (s.chan, s.layout, s.handle),
            (15, Some(Layout::Lan), Some(3))
        );
        assert_eq!(s.data, [1, 2]);
        assert!(parse_inject(&["16", "40", "30", "5"]).is_err());
        assert!(
            parse_inject(&["0", "40", "40", "5"]).is_err(),
            "netfn is 6 bits"
        );
        assert!(parse_inject(&["0", "40", "30"]).is_err());
        assert!(parse_inject(&["0", "40", "30", "5", "bogus=1"]).is_err());
        assert!(parse_inject(&["0", "40", "30", "5", "xyz"]).is_err());
        assert_eq!(parse_chan("0xf"), Ok(15));
        assert!(parse_chan("f").is_err());
    }

    #[test]
    fn inject_queue_flush() {
        let sh = shared();
        assert_eq!(run(&sh, "queue"), ["ok 0"]);
        assert_eq!(
            run(&sh, "inject 0 40 30 5 01 02 seq=7"),
            ["ok id=1 seq=07 queued=1"]
        );
        assert_eq!(run(&sh, "inject 1 81 30 5"), ["ok id=2 seq=02 queued=2"]);
        assert_eq!(run(&sh, "inject-raw 03 c2 05"), ["ok id=3 queued=3"]);
        assert_eq!(run(&sh, "queue"), ["ok 3"]);
        assert_eq!(run(&sh, "flush"), ["ok 3"]);
        assert_eq!(run(&sh, "queue"), ["ok 0"]);
        assert!(run(&sh, "inject 0 40")[0].starts_with("err "));
    }

    #[test]
    fn bulk_inject_queues_n_messages_fast() {
        let sh = shared();
        let t = Instant::now();
        assert_eq!(
            run(&sh, "inject 0 40 30 7 aa count=20000"),
            ["ok id=1 seq=01 queued=20000 last=20000 count=20000"]
        );
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        assert_eq!(run(&sh, "queue"), ["ok 20000"]);
        let s = run(&sh, "stats");
        assert!(s[0].contains(" injected=20000 "), "{s:?}");
        // Each message has its own sequence number, like separate injects.
        let mut st = sh.lock();
        let a = st.bmc.handle(6, 0, 0x33, &[], Instant::now()).data;
        let b = st.bmc.handle(6, 0, 0x33, &[], Instant::now()).data;
        assert_eq!(a[4], 1 << 2, "rqSeq 1");
        assert_eq!(b[4], 2 << 2, "rqSeq 2");
        drop(st);
        assert_eq!(
            run(&sh, "inject 0 40 30 7 seq=5 count=2"),
            ["ok id=20001 seq=05 queued=20000 last=20002 count=2"]
        );
        assert!(run(&sh, "inject 0 40 30 7 count=0")[0].starts_with("err"));
        assert!(run(&sh, "inject 0 40 30 7 count=x")[0].starts_with("err"));
        assert!(run(&sh, "inject 0 40 30 7 count=60000")[0].starts_with("err receive queue full"));
        assert_eq!(
            run(&sh, "queue"),
            ["ok 20000"],
            "a batch that does not fit queues nothing"
        );
    }

    #[test]
    fn scheduled_injection_numbers_messages_and_stops() {
        let sh = shared();
        assert_eq!(
            run(&sh, "inject 0 40 30 5 ee every=100 count=3 serial=7"),
            ["ok scheduled every=100 count=3"]
        );
        let t0 = Instant::now();
        let log = HexLog::disabled();
        sh.lock().schedule_tick(t0, &log);
        sh.lock().schedule_tick(t0, &log);
        assert_eq!(run(&sh, "queue"), ["ok 1"], "one per period");
        sh.lock()
            .schedule_tick(t0 + Duration::from_millis(100), &log);
        sh.lock()
            .schedule_tick(t0 + Duration::from_millis(200), &log);
        sh.lock()
            .schedule_tick(t0 + Duration::from_millis(300), &log);
        assert_eq!(run(&sh, "queue"), ["ok 3"], "count reached");
        assert!(run(&sh, "stats")[0].contains(" scheduled=3 "));
        let mut st = sh.lock();
        for serial in 7..10u8 {
            let d = st.bmc.handle(6, 0, 0x33, &[], Instant::now()).data;
            // IPMB layout: chan, netfn, chk1, rqSA, seq, cmd, then the data.
            assert_eq!(&d[6..9], &[0, serial, 0xee]);
        }
        drop(st);
        assert_eq!(run(&sh, "unschedule"), ["ok 3"]);
        run(&sh, "inject 0 40 30 5 every=10");
        sh.lock().schedule_tick(Instant::now(), &log);
        assert_eq!(run(&sh, "unschedule"), ["ok 1"]);
        sh.lock()
            .schedule_tick(Instant::now() + Duration::from_secs(1), &log);
        assert_eq!(run(&sh, "queue"), ["ok 1"], "stopped");
        assert!(run(&sh, "inject 0 40 30 5 serial=1")[0].starts_with("err"));
        assert!(run(&sh, "inject 0 40 30 5 every=0")[0].starts_with("err"));
    }

    #[test]
    fn sent_and_clear() {
        let sh = shared();
        assert_eq!(run(&sh, "sent"), ["ok 0"]);
        let answer = [0x00, 0x40, 0xc4, 0xfc, 0x20, 0x22, 0x06, 0xc1, 0xf7];
        sh.lock().bmc.handle(6, 0, 0x34, &answer, Instant::now());
        sh.lock()
            .bmc
            .handle(6, 0, 0x34, &[0x01, 0x81], Instant::now());
        assert_eq!(
            run(&sh, "sent"),
            ["0 00 40 c4 fc 20 22 06 c1 f7", "1 01 81", "ok 2"]
        );
        assert_eq!(run(&sh, "clear"), ["ok 2"]);
        assert_eq!(run(&sh, "sent"), ["ok 0"]);
        assert_eq!(run(&sh, "count 06 34"), ["ok 2"]);
        assert_eq!(run(&sh, "count 06 01"), ["ok 0"]);
    }

    #[test]
    fn media_set_fault_commands() {
        let sh = shared();
        let lines = run(&sh, "media");
        assert_eq!(lines.len(), 17);
        assert_eq!(lines[0], "0 ipmb protocol=0x01");
        assert_eq!(lines[1], "1 lan protocol=0x01");
        assert_eq!(lines[3], "3 absent");
        assert_eq!(lines[15], "15 system protocol=0x05");
        assert_eq!(run(&sh, "media 3 lan"), ["ok 3 lan protocol=0x01"]);
        assert_eq!(run(&sh, "media 4 unsupported"), ["ok 4 unsupported"]);
        assert!(run(&sh, "media 14 ipmb")[0].starts_with("err"));
        assert!(run(&sh, "media 3 moon")[0].starts_with("err"));
        assert_eq!(run(&sh, "set device_id 21"), ["ok"]);
        assert_eq!(run(&sh, "set loopback=off"), ["ok"]);
        let settings = run(&sh, "set");
        assert!(settings.contains(&"device_id=21".to_string()));
        assert!(settings.contains(&"loopback=off".to_string()));
        assert!(run(&sh, "set colour blue")[0].starts_with("err"));
        assert_eq!(run(&sh, "fault"), ["ok none"]);
        assert_eq!(
            run(&sh, "fault delay 100 count=2"),
            ["ok delay 100 count=2"]
        );
        assert!(run(&sh, "fault sideways")[0].starts_with("err"));
        assert_eq!(run(&sh, "fault none"), ["ok none"]);
        assert_eq!(run(&sh, "fault reset 2000"), ["ok reset 2000 count=1"]);
        assert_eq!(run(&sh, "set stuck_atn on"), ["ok"]);
        assert!(run(&sh, "set").contains(&"stuck_atn=on".to_string()));
        assert!(run(&sh, "hangup")[0].starts_with("err QEMU is not connected"));
        assert_eq!(run(&sh, "wait idle 10"), ["ok"]);
        assert!(run(&sh, "stats")[0].contains(" bmc_resets=0 "));
    }

    #[test]
    fn stats_events_and_misc() {
        let sh = shared();
        assert_eq!(run(&sh, "event"), ["ok"]);
        assert!(run(&sh, "event 01 02")[0].starts_with("err"));
        let s = run(&sh, "stats");
        assert!(s[0].starts_with("ok connected=0 "), "{s:?}");
        assert!(s[0].contains(" events=1 "), "{s:?}");
        assert!(s[0].contains(" flags=02 "), "{s:?}");
        assert!(s[0].ends_with(" fault=none"), "{s:?}");
        assert!(run(&sh, "ctrl 02")[0].starts_with("err QEMU is not connected"));
        assert!(run(&sh, "bogus")[0].starts_with("err unknown command"));
        assert!(run(&sh, "")[0].starts_with("err"));
        assert!(run(&sh, "help").last().unwrap() == "ok");
        let q = execute(&sh, "quit");
        assert!(q.quit);
        assert_eq!(q.lines, ["ok bye"]);
    }

    #[test]
    fn wait_times_out_and_succeeds() {
        let sh = shared();
        assert_eq!(run(&sh, "wait drained 10"), ["ok 0"]);
        assert_eq!(run(&sh, "wait sent 1 20"), ["err timeout (0)"]);
        assert_eq!(run(&sh, "wait connected 20"), ["err timeout"]);
        sh.lock().bmc.handle(6, 0, 0x34, &[0x00], Instant::now());
        assert_eq!(run(&sh, "wait sent 1 20"), ["ok 1"]);
        assert!(run(&sh, "wait sent x")[0].starts_with("err"));
        assert!(run(&sh, "wait forever")[0].starts_with("err"));
    }
}
