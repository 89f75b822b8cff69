//! The VM wire protocol spoken between QEMU's `ipmi-bmc-extern` and an external BMC.
//!
//! The protocol (described in OpenIPMI's `lanserv/README.vm`) is a byte stream with two kinds of
//! frames:
//! - a *message* ends with [`MSG_END`] (0xA0). Its last byte is a checksum chosen so that all the
//!   bytes of the frame, checksum included, sum to zero modulo 256. QEMU sends
//!   `seq, netfn<<2|lun, cmd, data..., csum`; the BMC answers
//!   `seq, (netfn|1)<<2|lun, cmd, cc, data..., csum`.
//! - a *control command* ends with [`CMD_END`] (0xA1) and carries no checksum, e.g. `FF 01 A1`
//!   (version 1) or `02 A1` (attention with interrupt).
//!
//! The three special bytes are escaped inside frames: [`ESCAPE`] (0xAA) is sent first and the byte
//! itself follows with bit 4 set, so A0 becomes `AA B0`, A1 `AA B1` and AA `AA BA`.

use crate::ipmi::checksum;
use std::fmt;

/// Ends a message frame.
pub const MSG_END: u8 = 0xA0;
/// Ends a control command frame.
pub const CMD_END: u8 = 0xA1;
/// Escapes the next byte, which is sent with [`ESCAPE_BIT`] set.
pub const ESCAPE: u8 = 0xAA;
/// The bit set on an escaped byte.
pub const ESCAPE_BIT: u8 = 0x10;
/// Longest frame body the decoder accepts (QEMU's own limit is 272 plus a few header bytes).
pub const MAX_FRAME: usize = 1024;

/// Control command codes (the first byte of a control frame).
pub mod ctrl {
    /// BMC → QEMU: clear the ATN status bit.
    pub const NOATTN: u8 = 0x00;
    /// BMC → QEMU: set the ATN status bit without an interrupt.
    pub const ATTN: u8 = 0x01;
    /// BMC → QEMU: set the ATN status bit and raise the interrupt (if enabled).
    pub const ATTN_IRQ: u8 = 0x02;
    /// BMC → QEMU: power the machine off.
    pub const POWEROFF: u8 = 0x03;
    /// Both ways: BMC → QEMU resets the machine; QEMU → BMC reports a machine reset.
    pub const RESET: u8 = 0x04;
    /// BMC → QEMU: allow the interface to raise interrupts.
    pub const ENABLE_IRQ: u8 = 0x05;
    /// BMC → QEMU: stop the interface raising interrupts.
    pub const DISABLE_IRQ: u8 = 0x06;
    /// BMC → QEMU: inject an NMI.
    pub const SEND_NMI: u8 = 0x07;
    /// QEMU → BMC: capability bits follow (see [`super::caps`]).
    pub const CAPABILITIES: u8 = 0x08;
    /// BMC → QEMU: graceful shutdown.
    pub const FORCEOFF: u8 = 0x09;
    /// QEMU → BMC: protocol version byte follows.
    pub const VERSION: u8 = 0xFF;
}

/// Capability bits QEMU announces after [`ctrl::CAPABILITIES`].
pub mod caps {
    /// Power off supported.
    pub const POWER: u8 = 0x01;
    /// Reset supported.
    pub const RESET: u8 = 0x02;
    /// Interrupts supported.
    pub const IRQ: u8 = 0x04;
    /// NMI supported.
    pub const NMI: u8 = 0x08;
    /// Attention supported.
    pub const ATTN: u8 = 0x10;
}

/// Appends `byte` to `out`, escaping it if it is one of the three special bytes.
pub fn push_escaped(out: &mut Vec<u8>, byte: u8) {
    match byte {
        MSG_END | CMD_END | ESCAPE => {
            out.push(ESCAPE);
            out.push(byte | ESCAPE_BIT);
        }
        _ => out.push(byte),
    }
}

/// Encodes a message frame: `body`, then its checksum, escaped, then [`MSG_END`].
pub fn encode_msg(body: &[u8]) -> Vec<u8> {
    encode_msg_with_checksum(body, checksum(body))
}

/// Encodes a message frame with an explicit checksum byte (used to inject bad checksums).
pub fn encode_msg_with_checksum(body: &[u8], csum: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() * 2 + 3);
    for &b in body {
        push_escaped(&mut out, b);
    }
    push_escaped(&mut out, csum);
    out.push(MSG_END);
    out
}

/// Encodes one control command frame: `bytes`, escaped, then [`CMD_END`].
pub fn encode_ctrl(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 2 + 1);
    for &b in bytes {
        push_escaped(&mut out, b);
    }
    out.push(CMD_END);
    out
}

/// A complete frame taken off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A message whose checksum was correct; the checksum byte is removed.
    Msg(Vec<u8>),
    /// A non-empty control command.
    Ctrl(Vec<u8>),
}

/// Why a frame was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The bytes of the message did not sum to zero (the raw bytes, checksum included).
    BadChecksum(Vec<u8>),
    /// A message with fewer than two bytes (nothing besides a checksum).
    TooShort(Vec<u8>),
    /// A frame ended right after an escape byte.
    DanglingEscape,
    /// A frame was longer than [`MAX_FRAME`]; it was discarded.
    TooLong,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::BadChecksum(b) => write!(f, "message checksum mismatch: {}", hex(b)),
            FrameError::TooShort(b) => write!(f, "message too short: [{}]", hex(b)),
            FrameError::DanglingEscape => write!(f, "frame ended inside an escape"),
            FrameError::TooLong => write!(f, "frame longer than {MAX_FRAME} bytes"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Streaming decoder: feed it bytes as they arrive, get frames out.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    in_escape: bool,
    too_long: bool,
}

impl Decoder {
    /// A decoder with an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets any partial frame (used when a connection is replaced).
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Bytes of the partial frame received so far.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Feeds one byte; returns a result when the byte completed a frame.
    ///
    /// An empty control frame (a lone A1) is ignored, as QEMU does.
    pub fn push(&mut self, byte: u8) -> Option<Result<Frame, FrameError>> {
        match byte {
            MSG_END | CMD_END => {
                let escape = std::mem::take(&mut self.in_escape);
                let too_long = std::mem::take(&mut self.too_long);
                let bytes = std::mem::take(&mut self.buf);
                if too_long {
                    return Some(Err(FrameError::TooLong));
                }
                if escape {
                    return Some(Err(FrameError::DanglingEscape));
                }
                if byte == CMD_END {
                    return (!bytes.is_empty()).then_some(Ok(Frame::Ctrl(bytes)));
                }
                if bytes.len() < 2 {
                    return Some(Err(FrameError::TooShort(bytes)));
                }
                if checksum(&bytes) != 0 {
                    return Some(Err(FrameError::BadChecksum(bytes)));
                }
                let mut body = bytes;
                body.pop();
                Some(Ok(Frame::Msg(body)))
            }
            ESCAPE => {
                self.in_escape = true;
                None
            }
            _ => {
                let b = if std::mem::take(&mut self.in_escape) {
                    byte & !ESCAPE_BIT
                } else {
                    byte
                };
                if self.buf.len() >= MAX_FRAME {
                    self.too_long = true;
                } else if !self.too_long {
                    self.buf.push(b);
                }
                None
            }
        }
    }

    /// Feeds a chunk of bytes; returns every frame (or error) it completed, in order.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Result<Frame, FrameError>> {
        bytes.iter().filter_map(|&b| self.push(b)).collect()
    }
}

/// Formats bytes as lower-case hex separated by spaces (`"00 c2 1e"`).
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_the_three_special_bytes() {
        let mut out = Vec::new();
        for b in [0x00, 0xA0, 0xA1, 0xAA, 0xB0, 0xFF] {
            push_escaped(&mut out, b);
        }
        assert_eq!(out, [0x00, 0xAA, 0xB0, 0xAA, 0xB1, 0xAA, 0xBA, 0xB0, 0xFF]);
    }

    #[test]
    fn encodes_a_get_device_id_request_like_qemu() {
        // seq 0x10, netfn 6 lun 0, cmd 1: checksum = -(0x10 + 0x18 + 0x01) = 0xd7.
        assert_eq!(
            encode_msg(&[0x10, 0x18, 0x01]),
            [0x10, 0x18, 0x01, 0xd7, 0xA0]
        );
    }

    #[test]
    fn escapes_the_checksum_too() {
        // -(0x60) = 0xa0: the checksum itself needs escaping.
        let body = [0x60];
        assert_eq!(checksum(&body), 0xa0);
        assert_eq!(encode_msg(&body), [0x60, 0xAA, 0xB0, 0xA0]);
    }

    #[test]
    fn encodes_control_commands() {
        assert_eq!(encode_ctrl(&[ctrl::ATTN_IRQ]), [0x02, 0xA1]);
        assert_eq!(encode_ctrl(&[ctrl::VERSION, 0x01]), [0xFF, 0x01, 0xA1]);
        assert_eq!(
            encode_ctrl(&[ctrl::CAPABILITIES, 0xA0]),
            [0x08, 0xAA, 0xB0, 0xA1]
        );
    }

    #[test]
    fn decodes_qemu_handshake() {
        let mut d = Decoder::new();
        let frames = d.feed(&[0xFF, 0x01, 0xA1, 0x08, 0x1f, 0xA1]);
        assert_eq!(
            frames,
            vec![
                Ok(Frame::Ctrl(vec![0xFF, 0x01])),
                Ok(Frame::Ctrl(vec![0x08, 0x1f]))
            ]
        );
    }

    #[test]
    fn roundtrips_every_byte_value() {
        let body: Vec<u8> = (0..=255u8).collect();
        let mut d = Decoder::new();
        let frames = d.feed(&encode_msg(&body));
        assert_eq!(frames, vec![Ok(Frame::Msg(body))]);
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn decodes_across_chunk_boundaries() {
        let wire = encode_msg(&[0x01, 0x1c, 0x01, 0x00, 0xA0, 0xAA]);
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for chunk in wire.chunks(1) {
            got.extend(d.feed(chunk));
        }
        assert_eq!(
            got,
            vec![Ok(Frame::Msg(vec![0x01, 0x1c, 0x01, 0x00, 0xA0, 0xAA]))]
        );
    }

    #[test]
    fn rejects_bad_checksum_and_recovers() {
        let mut wire = encode_msg_with_checksum(&[0x01, 0x18, 0x01], 0x00);
        wire.extend(encode_msg(&[0x02, 0x18, 0x01]));
        let mut d = Decoder::new();
        let frames = d.feed(&wire);
        assert_eq!(frames.len(), 2);
        assert_eq!(
            frames[0],
            Err(FrameError::BadChecksum(vec![0x01, 0x18, 0x01, 0x00]))
        );
        assert_eq!(frames[1], Ok(Frame::Msg(vec![0x02, 0x18, 0x01])));
    }

    #[test]
    fn rejects_short_messages_dangling_escapes_and_ignores_empty_ctrl() {
        let mut d = Decoder::new();
        assert_eq!(d.feed(&[0xA0]), vec![Err(FrameError::TooShort(vec![]))]);
        assert_eq!(
            d.feed(&[0x00, 0xA0]),
            vec![Err(FrameError::TooShort(vec![0]))]
        );
        assert_eq!(
            d.feed(&[0x01, 0xAA, 0xA0]),
            vec![Err(FrameError::DanglingEscape)]
        );
        assert_eq!(d.feed(&[0xAA, 0xA1]), vec![Err(FrameError::DanglingEscape)]);
        assert!(d.feed(&[0xA1]).is_empty());
    }

    #[test]
    fn discards_over_long_frames() {
        let mut d = Decoder::new();
        let junk = vec![0x11; MAX_FRAME + 10];
        assert!(d.feed(&junk).is_empty());
        assert_eq!(d.feed(&[0xA0]), vec![Err(FrameError::TooLong)]);
        assert_eq!(
            d.feed(&encode_msg(&[1, 2])),
            vec![Ok(Frame::Msg(vec![1, 2]))]
        );
    }

    #[test]
    fn hex_formats() {
        assert_eq!(hex(&[0x00, 0xc2, 0x1e]), "00 c2 1e");
        assert_eq!(hex(&[]), "");
    }
}
