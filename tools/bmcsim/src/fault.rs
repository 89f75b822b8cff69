//! Fault injection on the QEMU link.
//!
//! A [`Fault`] is consulted once for every request QEMU sends and turns into an [`Action`]: answer
//! normally, answer late, answer with a damaged frame, don't answer at all, or drop the TCP
//! connection. A fault applies to every following request, or only to the next `count=N` of them,
//! after which the link returns to normal. New kinds go into [`FaultKind`], [`Fault::parse`] and
//! [`Fault::next_action`].

use crate::ipmi;
use std::fmt;

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Normal operation.
    None,
    /// Read requests but never answer them (QEMU answers 0xC3 itself after 4 s).
    Silence,
    /// Answer each request after this many milliseconds.
    Delay(u64),
    /// Answer with the checksum off by one (QEMU drops the frame, then times out).
    BadChecksum,
    /// Answer with a frame of junk bytes instead of the response.
    Garbage,
    /// Answer every request with this completion code and no data.
    CompletionCode(u8),
    /// Close the TCP connection when the next request arrives (QEMU then answers 0xD2 and
    /// reconnects after its `reconnect-ms`).
    Disconnect,
    /// The BMC resets itself when the next request arrives: that request is dropped unanswered
    /// (QEMU answers 0xC3 after 4 s), volatile state is lost ([`crate::bmc::Bmc::bmc_reset`]),
    /// and requests arriving in the next `boot_ms` milliseconds are ignored too (booting).
    Reset(u64),
}

/// The active fault and how many more requests it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// The fault.
    pub kind: FaultKind,
    /// Requests left before it turns back into [`FaultKind::None`] (`None`: forever).
    pub remaining: Option<u32>,
    /// Only requests with this (netfn, cmd) are affected (and counted); others are answered
    /// normally. `None`: every request.
    pub only: Option<(u8, u8)>,
}

impl Default for Fault {
    fn default() -> Self {
        Fault {
            kind: FaultKind::None,
            remaining: None,
            only: None,
        }
    }
}

/// How the damaged response is put on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corruption {
    /// Sent as built.
    None,
    /// Checksum byte incremented.
    BadChecksum,
    /// Replaced by junk.
    Garbage,
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Handle it and answer.
    Answer {
        /// Wait this long first (milliseconds).
        delay_ms: u64,
        /// Damage to apply to the frame.
        corruption: Corruption,
        /// Replace the completion code (and drop the data).
        force_cc: Option<u8>,
    },
    /// Neither handle nor answer it.
    Ignore,
    /// Close the connection without handling it.
    Disconnect,
    /// Drop the request, reset the BMC, and ignore requests for this many milliseconds.
    Reset(u64),
}

impl Action {
    /// A normal answer.
    pub const NORMAL: Action = Action::Answer {
        delay_ms: 0,
        corruption: Corruption::None,
        force_cc: None,
    };
}

impl Fault {
    /// Parses `KIND [ARG] [count=N]`: `none`, `silence`, `drop` (silence for one request unless a
    /// count is given), `delay MS`, `badsum`, `garbage`, `cc HEX`, `disconnect` and `reset [MS]`
    /// (both always once).
    pub fn parse(args: &[&str]) -> Result<Fault, String> {
        let mut count = None;
        let mut only = None;
        let mut words = Vec::new();
        for a in args {
            if let Some(v) = a.strip_prefix("cmd=") {
                let bad = || format!("bad cmd= '{v}' (NETFN:CMD in hex)");
                let (nf, cmd) = v.split_once(':').ok_or_else(bad)?;
                let nf = ipmi::parse_hex_u8(nf)
                    .filter(|n| *n <= 0x3F)
                    .ok_or_else(bad)?;
                let cmd = ipmi::parse_hex_u8(cmd).ok_or_else(bad)?;
                only = Some((nf, cmd));
            } else if let Some(v) = a.strip_prefix("count=") {
                let n: u32 = v.parse().map_err(|_| format!("bad count '{v}'"))?;
                if n == 0 {
                    return Err("count must be at least 1".into());
                }
                count = Some(n);
            } else {
                words.push(*a);
            }
        }
        let (kind, default_count) = match words.as_slice() {
            ["none"] => (FaultKind::None, None),
            ["silence"] => (FaultKind::Silence, None),
            ["drop"] => (FaultKind::Silence, Some(1)),
            ["delay", ms] => {
                let ms: u64 = ms
                    .parse()
                    .map_err(|_| format!("bad delay '{ms}' (milliseconds)"))?;
                (FaultKind::Delay(ms), None)
            }
            ["badsum"] => (FaultKind::BadChecksum, None),
            ["garbage"] => (FaultKind::Garbage, None),
            ["cc", code] => {
                let c = ipmi::parse_hex_u8(code).ok_or_else(|| format!("bad code '{code}'"))?;
                (FaultKind::CompletionCode(c), None)
            }
            ["disconnect"] => (FaultKind::Disconnect, Some(1)),
            ["reset"] => (FaultKind::Reset(0), Some(1)),
            ["reset", ms] => {
                let ms: u64 = ms
                    .parse()
                    .map_err(|_| format!("bad boot time '{ms}' (milliseconds)"))?;
                (FaultKind::Reset(ms), Some(1))
            }
            [] => return Err("fault needs a kind".into()),
            _ => return Err(format!("unknown fault '{}'", words.join(" "))),
        };
        let remaining = if kind == FaultKind::None {
            None
        } else if matches!(kind, FaultKind::Disconnect | FaultKind::Reset(_)) {
            Some(1)
        } else {
            count.or(default_count)
        };
        let only = if kind == FaultKind::None { None } else { only };
        Ok(Fault {
            kind,
            remaining,
            only,
        })
    }

    /// The action for the next request, a `netfn`/`cmd` request; counts it against `remaining`
    /// if the fault applies to it.
    pub fn next_action(&mut self, netfn: u8, cmd: u8) -> Action {
        if self.only.is_some_and(|o| o != (netfn, cmd)) {
            return Action::NORMAL;
        }
        let action = match self.kind {
            FaultKind::None => return Action::NORMAL,
            FaultKind::Silence => Action::Ignore,
            FaultKind::Delay(ms) => Action::Answer {
                delay_ms: ms,
                corruption: Corruption::None,
                force_cc: None,
            },
            FaultKind::BadChecksum => Action::Answer {
                delay_ms: 0,
                corruption: Corruption::BadChecksum,
                force_cc: None,
            },
            FaultKind::Garbage => Action::Answer {
                delay_ms: 0,
                corruption: Corruption::Garbage,
                force_cc: None,
            },
            FaultKind::CompletionCode(c) => Action::Answer {
                delay_ms: 0,
                corruption: Corruption::None,
                force_cc: Some(c),
            },
            FaultKind::Disconnect => Action::Disconnect,
            FaultKind::Reset(ms) => Action::Reset(ms),
        };
        if let Some(n) = self.remaining.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                *self = Fault::default();
            }
        }
        action
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            FaultKind::None => write!(f, "none")?,
            FaultKind::Silence => write!(f, "silence")?,
            FaultKind::Delay(ms) => write!(f, "delay {ms}")?,
            FaultKind::BadChecksum => write!(f, "badsum")?,
            FaultKind::Garbage => write!(f, "garbage")?,
            FaultKind::CompletionCode(c) => write!(f, "cc {c:02x}")?,
            FaultKind::Disconnect => write!(f, "disconnect")?,
            FaultKind::Reset(ms) => write!(f, "reset {ms}")?,
        }
        if let Some(n) = self.remaining {
            write!(f, " count={n}")?;
        }
        if let Some((nf, cmd)) = self.only {
            write!(f, " cmd={nf:02x}:{cmd:02x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        assert_eq!(Fault::parse(&["none"]), Ok(Fault::default()));
        assert_eq!(Fault::parse(&["silence"]).unwrap().kind, FaultKind::Silence);
        assert_eq!(
            Fault::parse(&["delay", "250"]).unwrap().kind,
            FaultKind::Delay(250)
        );
        assert_eq!(
            Fault::parse(&["badsum"]).unwrap().kind,
            FaultKind::BadChecksum
        );
        assert_eq!(Fault::parse(&["garbage"]).unwrap().kind, FaultKind::Garbage);
        assert_eq!(
            Fault::parse(&["cc", "c0"]).unwrap().kind,
            FaultKind::CompletionCode(0xc0)
        );
        let d = Fault::parse(&["drop"]).unwrap();
        assert_eq!((d.kind, d.remaining), (FaultKind::Silence, Some(1)));
        let d = Fault::parse(&["disconnect", "count=5"]).unwrap();
        assert_eq!(d.remaining, Some(1), "disconnect happens once");
        assert!(Fault::parse(&[]).is_err());
        assert!(Fault::parse(&["delay"]).is_err());
        assert!(Fault::parse(&["delay", "x"]).is_err());
        assert!(Fault::parse(&["silence", "count=0"]).is_err());
        assert!(Fault::parse(&["explode"]).is_err());
    }

    #[test]
    fn counts_down_then_returns_to_normal() {
        let mut f = Fault::parse(&["silence", "count=2"]).unwrap();
        assert_eq!(f.to_string(), "silence count=2");
        assert_eq!(f.next_action(6, 1), Action::Ignore);
        assert_eq!(f.next_action(6, 1), Action::Ignore);
        assert_eq!(f.next_action(6, 1), Action::NORMAL);
        assert_eq!(f.to_string(), "none");
    }

    #[test]
    fn cmd_filter_spares_other_requests() {
        let mut f = Fault::parse(&["delay", "300", "count=1", "cmd=00:01"]).unwrap();
        assert_eq!(f.to_string(), "delay 300 count=1 cmd=00:01");
        assert_eq!(f.next_action(6, 0x31), Action::NORMAL, "not counted either");
        assert_eq!(
            f.next_action(0, 1),
            Action::Answer {
                delay_ms: 300,
                corruption: Corruption::None,
                force_cc: None
            }
        );
        assert_eq!(f.next_action(0, 1), Action::NORMAL);
        assert!(Fault::parse(&["drop", "cmd=0001"]).is_err());
        assert!(Fault::parse(&["drop", "cmd=40:01"]).is_err());
        assert_eq!(Fault::parse(&["none", "cmd=00:01"]), Ok(Fault::default()));
    }

    #[test]
    fn permanent_faults_stay() {
        let mut f = Fault::parse(&["cc", "c3"]).unwrap();
        for _ in 0..5 {
            assert_eq!(
                f.next_action(6, 1),
                Action::Answer {
                    delay_ms: 0,
                    corruption: Corruption::None,
                    force_cc: Some(0xc3)
                }
            );
        }
        assert_eq!(f.to_string(), "cc c3");
        let mut f = Fault::parse(&["disconnect"]).unwrap();
        assert_eq!(f.next_action(6, 1), Action::Disconnect);
        assert_eq!(f.next_action(6, 1), Action::NORMAL);
        let mut f = Fault::parse(&["reset", "1500", "count=3"]).unwrap();
        assert_eq!(f.to_string(), "reset 1500 count=1", "a reset happens once");
        assert_eq!(f.next_action(6, 1), Action::Reset(1500));
        assert_eq!(f.next_action(6, 1), Action::NORMAL);
        assert_eq!(Fault::parse(&["reset"]).unwrap().kind, FaultKind::Reset(0));
        assert!(Fault::parse(&["reset", "soon"]).is_err());
    }
}
