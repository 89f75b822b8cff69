//! Optional log of everything that crosses the QEMU link, in hex, with timestamps.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::sync::Mutex;
use std::time::Instant;

/// A line-oriented log. When disabled, [`HexLog::line`] does nothing.
pub struct HexLog {
    out: Mutex<Option<Box<dyn Write + Send>>>,
    start: Instant,
}

impl HexLog {
    /// A log that discards everything.
    pub fn disabled() -> HexLog {
        HexLog {
            out: Mutex::new(None),
            start: Instant::now(),
        }
    }

    /// A log appending to `path`, or writing to standard error when `path` is `-`.
    pub fn open(path: &str) -> io::Result<HexLog> {
        let out: Box<dyn Write + Send> = if path == "-" {
            Box::new(io::stderr())
        } else {
            Box::new(OpenOptions::new().create(true).append(true).open(path)?)
        };
        Ok(HexLog {
            out: Mutex::new(Some(out)),
            start: Instant::now(),
        })
    }

    /// Whether lines are written anywhere.
    pub fn enabled(&self) -> bool {
        self.out.lock().map(|g| g.is_some()).unwrap_or(false)
    }

    /// Writes one line prefixed with the seconds since start. Write errors disable the log.
    pub fn line(&self, text: impl AsRef<str>) {
        let Ok(mut guard) = self.out.lock() else {
            return;
        };
        if let Some(w) = guard.as_mut() {
            let t = self.start.elapsed().as_secs_f64();
            let ok = writeln!(w, "[{t:10.3}] {}", text.as_ref()).and_then(|_| w.flush());
            if let Err(e) = ok {
                eprintln!("ripmi-bmcsim: log write failed, logging stops: {e}");
                *guard = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_lines_to_a_file() {
        let path = std::env::temp_dir().join(format!("bmcsim-log-{}.txt", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let log = HexLog::open(path.to_str().unwrap()).unwrap();
        assert!(log.enabled());
        log.line("<- 01 18 01");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.trim_end().ends_with("] <- 01 18 01"), "{text}");
        let _ = std::fs::remove_file(&path);
        assert!(!HexLog::disabled().enabled());
        HexLog::disabled().line("ignored");
    }
}
