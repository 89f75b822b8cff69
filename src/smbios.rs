// SPDX-License-Identifier: GPL-2.0

//! SMBIOS type 38 ("IPMI Device Information") records, decoded exactly as the kernel's C
//! `dmi_decode_ipmi()` and `dmi_add_platform_ipmi()` do (pure).
//!
//! C counterpart: [`ipmi_dmi.c`](srctree/drivers/char/ipmi/ipmi_dmi.c). A record shorter than
//! 0x10 bytes is ignored; one shorter than 0x12 is in the old format (always I/O, spacing 1, no
//! IRQ). In the new format bit 0 of the base address says I/O (set, and the address is masked
//! with 0xfffe) or memory (clear, kept whole); bit 4 of the modifier byte is the address LSB,
//! bits 7:6 the register spacing (1, 4, 16, or invalid); byte 0x11 the IRQ. SSIF records carry
//! an I2C address instead. `discovery.rs` walks the firmware table and uses these records.

/// SMBIOS structure type of an IPMI Device Information record.
pub(crate) const SMBIOS_TYPE_IPMI: u8 = 38;

/// Offset of the interface type byte.
const TYPE: usize = 0x04;
/// Offset of the BMC's I2C slave address.
const SLAVEADDR: usize = 0x06;
/// Offset of the base address (C copies `sizeof(unsigned long)`, 8 bytes on 64-bit).
const ADDR: usize = 0x08;
/// Offset of the base address modifier.
const ACCESS: usize = 0x10;
/// Offset of the interrupt number.
const IRQ: usize = 0x11;
/// Shortest record C looks at (`DMI_IPMI_MIN_LENGTH`).
const MIN_LENGTH: usize = 0x10;
/// Shortest record in the new format (`DMI_IPMI_VER2_LENGTH`).
const VER2_LENGTH: usize = 0x12;
/// An I/O base address keeps these bits (`DMI_IPMI_IO_MASK`).
const IO_MASK: u64 = 0xfffe;

/// The interface type of a record (`IPMI_DMI_TYPE_*`; C's `si_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Interface {
    /// Keyboard Controller Style, the one ripmi drives.
    Kcs,
    /// Server Management Interface Chip.
    Smic,
    /// Block Transfer.
    Bt,
    /// SMBus System Interface.
    Ssif,
}

impl Interface {
    /// The name C logs for it (`si_to_str[]`, "ssif" for SSIF).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Interface::Kcs => "kcs",
            Interface::Smic => "smic",
            Interface::Bt => "bt",
            Interface::Ssif => "ssif",
        }
    }
}

/// Where the interface's registers are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Space {
    /// I/O ports (`IPMI_IO_ADDR_SPACE`).
    Io,
    /// Memory-mapped (`IPMI_MEM_ADDR_SPACE`).
    Mem,
    /// An SSIF's I2C adapter (C: space 0, "match I2C interface 0").
    I2c,
}

/// One decoded record: what C hands to `dmi_add_platform_ipmi()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Record {
    /// The interface type.
    pub(crate) interface: Interface,
    /// Where the registers are.
    pub(crate) space: Space,
    /// First register's address (for SSIF, the I2C address).
    pub(crate) base: u64,
    /// Distance between registers in bytes (0 for SSIF, as in C).
    pub(crate) spacing: u32,
    /// Interrupt number; 0 means none.
    pub(crate) irq: u32,
    /// The BMC's I2C slave address, as the record gives it (0: none).
    pub(crate) slave_addr: u8,
}

/// Why a record gives no interface; each is a case C drops (with its log line, if any).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Skip {
    /// Shorter than 0x10 bytes (C: silently).
    Short,
    /// Base address 0 (C: "Base address is zero, assuming no IPMI interface").
    ZeroBase,
    /// Spacing bits 3 (C: "Invalid offset: 0").
    InvalidSpacing,
    /// Interface type other than 1-4 (C: "Invalid IPMI type: N").
    InvalidType(u8),
}

/// Decodes the type 38 record `rec`, whose formatted area is `rec[..rec[1]]` (the header's
/// length byte; `rec` may be longer, never shorter). C order: length, base address, spacing,
/// then interface type (checked last, in `dmi_add_platform_ipmi()`).
pub(crate) fn decode(rec: &[u8]) -> Result<Record, Skip> {
    let len = usize::from(*rec.get(1).ok_or(Skip::Short)?);
    let rec = rec.get(..len).ok_or(Skip::Short)?;
    if len < MIN_LENGTH {
        return Err(Skip::Short);
    }
    let kind = rec[TYPE];
    let mut slave_addr = rec[SLAVEADDR];
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&rec[ADDR..ADDR + 8]);
    let mut base = u64::from_le_bytes(raw);
    if base == 0 {
        return Err(Skip::ZeroBase);
    }
    let (mut space, mut spacing, mut irq) = (Space::Io, 0, 0);
    if len >= VER2_LENGTH {
        if kind == 4 {
            space = Space::I2c;
            base = u64::from(rec[ADDR] >> 1);
            if base == 0 {
                // Broken firmware puts the I2C address in the slave address field.
                base = u64::from(rec[SLAVEADDR] >> 1);
                slave_addr = 0;
            }
        } else {
            if base & 1 != 0 {
                base &= IO_MASK;
            } else {
                space = Space::Mem;
            }
            base |= u64::from((rec[ACCESS] >> 4) & 1);
            irq = u32::from(rec[IRQ]);
            spacing = match (rec[ACCESS] >> 6) & 3 {
                0 => 1,
                1 => 4,
                2 => 16,
                _ => return Err(Skip::InvalidSpacing),
            };
        }
    } else {
        // Old format: the I/O bit is unreliable in practice, so always I/O.
        base &= IO_MASK;
        spacing = 1;
    }
    let interface = match kind {
        1 => Interface::Kcs,
        2 => Interface::Smic,
        3 => Interface::Bt,
        4 => Interface::Ssif,
        t => return Err(Skip::InvalidType(t)),
    };
    Ok(Record {
        interface,
        space,
        base,
        spacing,
        irq,
        slave_addr,
    })
}

#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_smbios))]
mod tests {
    use super::*;

    /// A record of `len` bytes: type 38, the given interface type, slave address, base
    /// address, modifier and IRQ (those past `len` are cut off).
    fn rec(len: u8, kind: u8, slave: u8, base: u64, modifier: u8, irq: u8) -> [u8; 0x12] {
        let mut r = [0u8; 0x12];
        r[0] = SMBIOS_TYPE_IPMI;
        r[1] = len;
        r[TYPE] = kind;
        r[5] = 0x20; // IPMI 2.0
        r[SLAVEADDR] = slave;
        r[ADDR..ADDR + 8].copy_from_slice(&base.to_le_bytes());
        r[ACCESS] = modifier;
        r[IRQ] = irq;
        r
    }

    /// QEMU's isa-ipmi-kcs record: KCS at I/O 0xca2 (bit 0 set), spacing 1, IRQ 5.
    #[test]
    fn new_format_kcs_io() {
        let r = decode(&rec(0x12, 1, 0x20, 0xca3, 0x08, 5));
        let want = Record {
            interface: Interface::Kcs,
            space: Space::Io,
            base: 0xca2,
            spacing: 1,
            irq: 5,
            slave_addr: 0x20,
        };
        assert_eq!(r, Ok(want));
    }

    /// The modifier's bit 4 is the address LSB; bits 7:6 the spacing; 3 is invalid.
    #[test]
    fn modifier_lsb_and_spacing() {
        let d = |m| decode(&rec(0x12, 1, 0x20, 0xca9, m, 0));
        assert_eq!(d(0x10).map(|r| (r.base, r.spacing)), Ok((0xca9, 1)));
        assert_eq!(d(0x40).map(|r| (r.base, r.spacing)), Ok((0xca8, 4)));
        assert_eq!(d(0x90).map(|r| (r.base, r.spacing)), Ok((0xca9, 16)));
        assert_eq!(d(0xc0), Err(Skip::InvalidSpacing));
        // Bits 3, 1 and 0 (IRQ info, polarity, trigger) are not used.
        assert_eq!(d(0x0b).map(|r| r.spacing), Ok(1));
    }

    /// I/O drops every bit above 15; memory keeps the whole address (bit 0 clear).
    #[test]
    fn io_masks_memory_keeps() {
        let io = decode(&rec(0x12, 1, 0x20, 0x1_0000_0ca3, 0, 0)).map(|r| (r.space, r.base));
        assert_eq!(io, Ok((Space::Io, 0xca2)));
        let mem = decode(&rec(0x12, 1, 0x20, 0xfe00_1000, 0x10, 0)).map(|r| (r.space, r.base));
        assert_eq!(mem, Ok((Space::Mem, 0xfe00_1001)));
    }

    /// Old format (0x10, 0x11 bytes): I/O, masked, spacing 1, no IRQ, the modifier ignored.
    #[test]
    fn old_format() {
        for len in [0x10, 0x11] {
            let r = decode(&rec(len, 1, 0x20, 0xca2, 0xd0, 9));
            assert_eq!(
                r.map(|r| (r.space, r.base, r.spacing, r.irq)),
                Ok((Space::Io, 0xca2, 1, 0))
            );
        }
        // Even with bit 0 clear (memory in the new format).
        let r = decode(&rec(0x10, 1, 0x20, 0xca4, 0, 0)).map(|r| (r.space, r.base));
        assert_eq!(r, Ok((Space::Io, 0xca4)));
    }

    /// Under 0x10 bytes, or a base address of 0 (checked before the type), gives nothing.
    #[test]
    fn short_or_zero_base() {
        assert_eq!(decode(&rec(0x0f, 1, 0x20, 0xca3, 0, 0)), Err(Skip::Short));
        assert_eq!(decode(&rec(0x12, 9, 0x20, 0, 0, 0)), Err(Skip::ZeroBase));
        assert_eq!(decode(&[38]), Err(Skip::Short));
        // A length byte larger than the bytes at hand.
        assert_eq!(
            decode(&rec(0x12, 1, 0x20, 0xca3, 0, 0)[..0x11]),
            Err(Skip::Short)
        );
    }

    /// Types 1-4 are KCS, SMIC, BT, SSIF; others are invalid (after the spacing check).
    #[test]
    fn interface_types() {
        let t = |k| decode(&rec(0x12, k, 0x20, 0xe5, 0, 0)).map(|r| r.interface);
        assert_eq!(t(2), Ok(Interface::Smic));
        assert_eq!(t(3), Ok(Interface::Bt));
        assert_eq!(t(0), Err(Skip::InvalidType(0)));
        assert_eq!(t(5), Err(Skip::InvalidType(5)));
        assert_eq!(
            decode(&rec(0x12, 7, 0x20, 0xe5, 0xc0, 0)),
            Err(Skip::InvalidSpacing)
        );
    }

    /// SSIF: the I2C address is byte 8 >> 1, else byte 6 >> 1 with the slave address cleared.
    #[test]
    fn ssif_address() {
        let r = decode(&rec(0x12, 4, 0x20, 0x1_0000_0020, 0xd0, 7));
        let want = Record {
            interface: Interface::Ssif,
            space: Space::I2c,
            base: 0x10,
            spacing: 0,
            irq: 0,
            slave_addr: 0x20,
        };
        assert_eq!(r, Ok(want));
        let r = decode(&rec(0x12, 4, 0x24, 0x100, 0, 0)).map(|r| (r.base, r.slave_addr));
        assert_eq!(r, Ok((0x12, 0)));
    }
}
