//! `ripmi-bmcsim`: command-line entry point.
//!
//! ```text
//! ripmi-bmcsim --port N --control PATH [--log FILE|-] [--bind ADDR] [--set KEY=VALUE]...
//!              [--media CHAN=MEDIUM]... [--sdr-sensors N] [--sel-entries M] [--exit-on-eof]
//! ripmi-bmcsim ctl PATH [COMMAND...]
//! ```
//!
//! The server prints one line, `ripmi-bmcsim: listening on ADDR:PORT control PATH`, on standard
//! output once both sockets are bound (with `--port 0` this is how the chosen port is learnt),
//! then runs until `quit` on the control socket, SIGTERM/SIGINT, or (with `--exit-on-eof`) the end
//! of standard input.

use ripmi_bmcsim::bmc::{self, Bmc, Channel};
use ripmi_bmcsim::control;
use ripmi_bmcsim::hexlog::HexLog;
use ripmi_bmcsim::server::{self, Shared};
use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::FileTypeExt;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

const USAGE: &str = "\
usage: ripmi-bmcsim --port N --control PATH [options]
       ripmi-bmcsim ctl PATH [COMMAND...]

options:
  --port N             TCP port QEMU connects to (0: pick one; the banner line shows it)
  --bind ADDR          address to listen on (default 127.0.0.1)
  --control PATH       Unix socket for the control protocol (replaced if it exists)
  --log FILE           log every request, response and control command in hex ('-': stderr)
  --set KEY=VALUE      change a setting at start-up (same keys as the 'set' command)
  --media CHAN=MEDIUM  change a channel at start-up (same values as the 'media' command)
  --sdr-sensors N      an SDR repository with the BMC's locator record and N sensors (0-254,
                       default 0: empty), answering the sensor commands
  --sel-entries M      a SEL with M system events about those sensors (0-65534, default 0)
  --exit-on-eof        exit when standard input reaches end of file
  -h, --help           this text

QEMU side: -chardev socket,id=ipmi0,host=127.0.0.1,port=N,reconnect-ms=1000
           -device ipmi-bmc-extern,id=bmc0,chardev=ipmi0 -device isa-ipmi-kcs,bmc=bmc0,irq=5
";

/// Set from the signal handler.
static TERMINATE: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_sig: i32) {
    TERMINATE.store(true, Ordering::SeqCst);
}

extern "C" {
    /// `signal(2)` from the C library std already links.
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
}

const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

fn install_signal_handlers() {
    // SAFETY: `on_signal` only stores to an atomic, which is async-signal-safe, and `signal`
    // has this C signature on every Linux libc.
    unsafe {
        signal(SIGTERM, on_signal);
        signal(SIGINT, on_signal);
    }
}

/// Parsed server options.
struct Options {
    port: u16,
    bind: String,
    control: String,
    log: Option<String>,
    settings: Vec<(String, String)>,
    media: Vec<(String, String)>,
    sdr_sensors: usize,
    sel_entries: usize,
    exit_on_eof: bool,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut port = None;
    let mut control = None;
    let mut opts = Options {
        port: 0,
        bind: "127.0.0.1".into(),
        control: String::new(),
        log: None,
        settings: Vec::new(),
        media: Vec::new(),
        sdr_sensors: 0,
        sel_entries: 0,
        exit_on_eof: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--port" => {
                let v = value("--port")?;
                port = Some(v.parse::<u16>().map_err(|_| format!("bad port '{v}'"))?);
            }
            "--bind" => opts.bind = value("--bind")?,
            "--control" => control = Some(value("--control")?),
            "--log" => opts.log = Some(value("--log")?),
            "--set" => {
                let v = value("--set")?;
                let (k, val) = v.split_once('=').ok_or("--set takes KEY=VALUE")?;
                opts.settings.push((k.into(), val.into()));
            }
            "--media" => {
                let v = value("--media")?;
                let (c, m) = v.split_once('=').ok_or("--media takes CHAN=MEDIUM")?;
                opts.media.push((c.into(), m.into()));
            }
            "--sdr-sensors" => {
                let v = value("--sdr-sensors")?;
                opts.sdr_sensors = v
                    .parse()
                    .map_err(|_| format!("bad --sdr-sensors count '{v}'"))?;
            }
            "--sel-entries" => {
                let v = value("--sel-entries")?;
                opts.sel_entries = v
                    .parse()
                    .map_err(|_| format!("bad --sel-entries count '{v}'"))?;
            }
            "--exit-on-eof" => opts.exit_on_eof = true,
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    opts.port = port.ok_or("--port is required")?;
    opts.control = control.ok_or("--control is required")?;
    Ok(opts)
}

fn build_bmc(opts: &Options) -> Result<Bmc, String> {
    let mut bmc = Bmc::new();
    bmc.populate(opts.sdr_sensors, opts.sel_entries, bmc::wall_clock())?;
    for (k, v) in &opts.settings {
        bmc.set(k, v).map_err(|e| format!("--set {k}={v}: {e}"))?;
    }
    for (c, m) in &opts.media {
        let chan = control::parse_chan(c)?;
        let mut parts = m.splitn(2, ',');
        let medium = parts.next().unwrap_or("");
        let channel = Channel::parse(medium, parts.next())?;
        bmc.set_channel(chan, channel)
            .map_err(|e| format!("--media {c}={m}: {e}"))?;
    }
    Ok(bmc)
}

/// Removes a stale control socket; refuses to remove anything that is not a socket.
fn remove_stale_socket(path: &str) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Ok(md) if md.file_type().is_socket() => std::fs::remove_file(path)
            .map_err(|e| format!("cannot remove old control socket {path}: {e}")),
        Ok(_) => Err(format!(
            "{path} exists and is not a socket; not replacing it"
        )),
        Err(_) => Ok(()),
    }
}

fn run_server(opts: Options) -> Result<(), String> {
    let bmc = build_bmc(&opts)?;
    let log = match &opts.log {
        Some(p) => HexLog::open(p).map_err(|e| format!("cannot open log {p}: {e}"))?,
        None => HexLog::disabled(),
    };
    let listener = TcpListener::bind((opts.bind.as_str(), opts.port))
        .map_err(|e| format!("cannot listen on {}:{}: {e}", opts.bind, opts.port))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    remove_stale_socket(&opts.control)?;
    let control = UnixListener::bind(&opts.control)
        .map_err(|e| format!("cannot create control socket {}: {e}", opts.control))?;

    let shared = Arc::new(Shared::new(bmc, log, addr.port()));
    install_signal_handlers();
    {
        let sh = Arc::clone(&shared);
        thread::spawn(move || server::serve_tcp(listener, sh));
    }
    {
        let sh = Arc::clone(&shared);
        thread::spawn(move || control::serve_control(control, sh));
    }
    {
        let sh = Arc::clone(&shared);
        thread::spawn(move || server::run_schedules(sh));
    }
    if opts.exit_on_eof {
        let sh = Arc::clone(&shared);
        thread::spawn(move || {
            let mut sink = [0u8; 256];
            let mut stdin = io::stdin().lock();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
            sh.request_shutdown();
        });
    }

    println!("ripmi-bmcsim: listening on {addr} control {}", opts.control);
    let _ = io::stdout().flush();
    shared
        .log
        .line(format!("listening on {addr}, control {}", opts.control));

    while !shared.shutting_down() && !TERMINATE.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(20));
    }
    // Let a `quit` reply reach its client before the process goes away.
    thread::sleep(Duration::from_millis(20));
    shared.log.line("exiting");
    if Path::new(&opts.control).exists() {
        let _ = std::fs::remove_file(&opts.control);
    }
    if let Some(c) = shared.lock().conn.take() {
        let _ = c.shutdown(std::net::Shutdown::Both);
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args.first().map(String::as_str) == Some("ctl") {
        let Some(path) = args.get(1) else {
            eprintln!("usage: ripmi-bmcsim ctl PATH [COMMAND...]");
            return ExitCode::from(2);
        };
        return match control::client(path, &args[2..]) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("ripmi-bmcsim: {e}");
                ExitCode::from(2)
            }
        };
    }
    let opts = match parse_args(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("ripmi-bmcsim: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run_server(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ripmi-bmcsim: {e}");
            ExitCode::FAILURE
        }
    }
}
