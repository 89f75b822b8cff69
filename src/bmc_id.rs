// SPDX-License-Identifier: GPL-2.0

//! The BMC's identity: the Get Device ID and Get Device GUID replies, and the text of the
//! `ipmi_bmc.N` sysfs files, byte for byte as C prints them (pure).
//!
//! C counterparts: `ipmi_demangle_device_id()` in
//! [`ipmi_smi.h`](srctree/include/linux/ipmi_smi.h), `guid_handler()` and the `*_show()`
//! functions of the BMC device in [`ipmi_msghandler.c`](srctree/drivers/char/ipmi/ipmi_msghandler.c).

use core::fmt::{self, Write};

/// The fields of a Get Device ID reply (C `struct ipmi_device_id`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DeviceId {
    /// Device ID.
    pub(crate) device_id: u8,
    /// Device revision; bit 7: provides device SDRs.
    pub(crate) device_revision: u8,
    /// Major firmware revision; bit 7 (device available) is kept, as C keeps it.
    pub(crate) firmware_revision_1: u8,
    /// Minor firmware revision (BCD).
    pub(crate) firmware_revision_2: u8,
    /// IPMI version: major in the low nibble, minor in the high one.
    pub(crate) ipmi_version: u8,
    /// Additional device support bits.
    pub(crate) additional_device_support: u8,
    /// The 24-bit IANA manufacturer number (0 if the reply is too short).
    pub(crate) manufacturer_id: u32,
    /// Product ID (0 if the reply is too short).
    pub(crate) product_id: u16,
    /// Auxiliary firmware revision, as received.
    pub(crate) aux_firmware_revision: [u8; 4],
    /// Whether the reply carried the auxiliary firmware revision (15 data bytes).
    pub(crate) aux_firmware_revision_set: bool,
}

/// Whether and how a newly fetched identity differs from the one known (C
/// `__bmc_get_device_id()`, steps 6 and 8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdChange {
    /// Nothing changed.
    Same,
    /// Only bytes that do not name the BMC changed (versions, revision, aux): rescan channels.
    Other,
    /// The device ID, manufacturer, product or GUID changed: register the BMC device again.
    Identity,
}

impl DeviceId {
    /// Parses the data of a Get Device ID response, completion code first (C
    /// `ipmi_demangle_device_id()`): at least 7 bytes with the completion code, which must be 0.
    pub(crate) fn parse(data: &[u8]) -> Option<Self> {
        if data.len() < 7 || data[0] != 0 {
            return None;
        }
        let d = &data[1..];
        let mut id = DeviceId {
            device_id: d[0],
            device_revision: d[1],
            firmware_revision_1: d[2],
            firmware_revision_2: d[3],
            ipmi_version: d[4],
            additional_device_support: d[5],
            ..DeviceId::default()
        };
        if d.len() >= 11 {
            id.manufacturer_id = u32::from_le_bytes([d[6], d[7], d[8], 0]);
            id.product_id = u16::from_le_bytes([d[9], d[10]]);
        }
        if d.len() >= 15 {
            id.aux_firmware_revision.copy_from_slice(&d[11..15]);
            id.aux_firmware_revision_set = true;
        }
        Some(id)
    }

    /// How `new` (with `new_guid`) differs from `self` (with `guid`).
    pub(crate) fn change(
        &self,
        guid: Option<&Guid>,
        new: &DeviceId,
        new_guid: Option<&Guid>,
    ) -> IdChange {
        if guid != new_guid
            || self.device_id != new.device_id
            || self.manufacturer_id != new.manufacturer_id
            || self.product_id != new.product_id
        {
            IdChange::Identity
        } else if self != new {
            IdChange::Other
        } else {
            IdChange::Same
        }
    }
}

/// A BMC's GUID: the 16 bytes of the Get Device GUID reply, as received (C `import_guid()`).
pub(crate) type Guid = [u8; 16];

/// Parses the data of a Get Device GUID response, completion code first (C `guid_handler()`):
/// completion code 0 and at least 17 bytes.
pub(crate) fn parse_guid(data: &[u8]) -> Option<Guid> {
    match data {
        [0, guid @ ..] if guid.len() >= 16 => guid[..16].try_into().ok(),
        _ => None,
    }
}

/// One file of the BMC device, in C's `bmc_dev_attrs[]` order (the index the C side passes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BmcAttr {
    /// `device_id`.
    DeviceId,
    /// `provides_device_sdrs`.
    ProvidesDeviceSdrs,
    /// `revision`.
    Revision,
    /// `firmware_revision`.
    FirmwareRevision,
    /// `ipmi_version`.
    IpmiVersion,
    /// `additional_device_support`.
    AdditionalDeviceSupport,
    /// `manufacturer_id`.
    ManufacturerId,
    /// `product_id`.
    ProductId,
    /// `aux_firmware_revision`: visible only when the reply carried it.
    AuxFirmwareRevision,
    /// `guid`: visible only when a GUID is known.
    Guid,
}

impl BmcAttr {
    /// The file at `index` of the C attribute array.
    pub(crate) fn from_index(index: u32) -> Option<Self> {
        use BmcAttr::*;
        [
            DeviceId,
            ProvidesDeviceSdrs,
            Revision,
            FirmwareRevision,
            IpmiVersion,
            AdditionalDeviceSupport,
            ManufacturerId,
            ProductId,
            AuxFirmwareRevision,
            Guid,
        ]
        .get(index as usize)
        .copied()
    }

    /// Whether the file is shown (C `bmc_dev_attr_is_visible()`).
    pub(crate) fn visible(self, id: &DeviceId, guid: Option<&Guid>) -> bool {
        match self {
            BmcAttr::AuxFirmwareRevision => id.aux_firmware_revision_set,
            BmcAttr::Guid => guid.is_some(),
            _ => true,
        }
    }

    /// Writes the file's text. `Err` only for `guid` without a GUID (C returns `-ENOENT`) or a
    /// full buffer.
    pub(crate) fn write(
        self,
        w: &mut impl Write,
        id: &DeviceId,
        guid: Option<&Guid>,
    ) -> fmt::Result {
        match self {
            BmcAttr::DeviceId => writeln!(w, "{}", id.device_id),
            BmcAttr::ProvidesDeviceSdrs => writeln!(w, "{}", (id.device_revision & 0x80) >> 7),
            BmcAttr::Revision => writeln!(w, "{}", id.device_revision & 0x0f),
            // "%u.%x": bit 7 of the major revision is not masked.
            BmcAttr::FirmwareRevision => {
                writeln!(w, "{}.{:x}", id.firmware_revision_1, id.firmware_revision_2)
            }
            BmcAttr::IpmiVersion => {
                writeln!(w, "{}.{}", id.ipmi_version & 0xf, id.ipmi_version >> 4)
            }
            BmcAttr::AdditionalDeviceSupport => {
                writeln!(w, "0x{:02x}", id.additional_device_support)
            }
            BmcAttr::ManufacturerId => writeln!(w, "0x{:06x}", id.manufacturer_id),
            BmcAttr::ProductId => writeln!(w, "0x{:04x}", id.product_id),
            // Reversed, as C prints them.
            BmcAttr::AuxFirmwareRevision => {
                let a = id.aux_firmware_revision;
                writeln!(
                    w,
                    "0x{:02x} 0x{:02x} 0x{:02x} 0x{:02x}",
                    a[3], a[2], a[1], a[0]
                )
            }
            BmcAttr::Guid => {
                let g = guid.ok_or(fmt::Error)?;
                write_guid_le(w, g)?;
                w.write_char('\n')
            }
        }
    }
}

/// Writes `g` as `%pUl` does: a UUID whose first three groups are little-endian, lower case.
pub(crate) fn write_guid_le(w: &mut impl Write, g: &Guid) -> fmt::Result {
    const ORDER: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    for (i, &b) in ORDER.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            w.write_char('-')?;
        }
        write!(w, "{:02x}", g[b])?;
    }
    Ok(())
}

/// Writes into a fixed buffer (a sysfs page); fails rather than cut the text.
pub(crate) struct BufWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> BufWriter<'a> {
    /// An empty writer over `buf`.
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        BufWriter { buf, len: 0 }
    }

    /// The bytes written.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The text written.
    #[cfg(any(test, ripmi_test))]
    pub(crate) fn text(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Write for BufWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(any(test, ripmi_test))]
#[cfg_attr(MODULE, kernel::prelude::kunit_tests(ripmi_bmc_id))]
mod tests {
    use super::*;

    /// A full reply (cc first): device 0x20, revision 0x81, firmware 0x82.0x5a, IPMI 2.0,
    /// support 0xbf, manufacturer 0x0002a2, product 0x1234, aux 01 02 03 04.
    const FULL: [u8; 16] = [
        0, 0x20, 0x81, 0x82, 0x5a, 0x02, 0xbf, 0xa2, 0x02, 0x00, 0x34, 0x12, 1, 2, 3, 4,
    ];

    /// The text of `attr`, or `None` when writing fails.
    fn text(
        attr: BmcAttr,
        id: &DeviceId,
        guid: Option<&Guid>,
        out: &mut [u8; 64],
    ) -> Option<usize> {
        let mut w = BufWriter::new(out);
        attr.write(&mut w, id, guid).ok()?;
        Some(w.len())
    }

    /// Checks that `attr` reads as `want`.
    fn check(attr: BmcAttr, id: &DeviceId, guid: Option<&Guid>, want: &[u8]) {
        let mut out = [0u8; 64];
        let n = text(attr, id, guid, &mut out).expect("written");
        assert_eq!(&out[..n], want);
    }

    #[test]
    fn parses_as_ipmi_demangle_device_id() {
        let id = DeviceId::parse(&FULL).expect("parsed");
        assert_eq!(id.device_id, 0x20);
        assert_eq!(id.manufacturer_id, 0x0002a2);
        assert_eq!(id.product_id, 0x1234);
        assert!(id.aux_firmware_revision_set);
        // 14 bytes: no aux; 11: no manufacturer or product either; under 7 or cc != 0: none.
        assert!(
            !DeviceId::parse(&FULL[..15])
                .expect("parsed")
                .aux_firmware_revision_set
        );
        let short = DeviceId::parse(&FULL[..11]).expect("parsed");
        assert_eq!((short.manufacturer_id, short.product_id), (0, 0));
        assert_eq!(
            DeviceId::parse(&FULL[..7]).map(|i| i.additional_device_support),
            Some(0xbf)
        );
        assert_eq!(DeviceId::parse(&FULL[..6]), None);
        let mut bad = FULL;
        bad[0] = 0xc1;
        assert_eq!(DeviceId::parse(&bad), None);
    }

    #[test]
    fn files_read_as_c_formats_them() {
        let id = DeviceId::parse(&FULL).expect("parsed");
        check(BmcAttr::DeviceId, &id, None, b"32\n");
        check(BmcAttr::ProvidesDeviceSdrs, &id, None, b"1\n");
        check(BmcAttr::Revision, &id, None, b"1\n");
        // "%u.%x": bit 7 kept, minor in hex without padding.
        check(BmcAttr::FirmwareRevision, &id, None, b"130.5a\n");
        check(BmcAttr::IpmiVersion, &id, None, b"2.0\n");
        check(BmcAttr::AdditionalDeviceSupport, &id, None, b"0xbf\n");
        check(BmcAttr::ManufacturerId, &id, None, b"0x0002a2\n");
        check(BmcAttr::ProductId, &id, None, b"0x1234\n");
        check(
            BmcAttr::AuxFirmwareRevision,
            &id,
            None,
            b"0x04 0x03 0x02 0x01\n",
        );
    }

    #[test]
    fn edge_values() {
        let id = DeviceId {
            device_id: 255,
            device_revision: 0x7f,
            firmware_revision_1: 0,
            firmware_revision_2: 0x05,
            ipmi_version: 0x51,
            additional_device_support: 0,
            manufacturer_id: 0xff_ffff,
            product_id: 0,
            ..DeviceId::default()
        };
        check(BmcAttr::DeviceId, &id, None, b"255\n");
        check(BmcAttr::ProvidesDeviceSdrs, &id, None, b"0\n");
        check(BmcAttr::Revision, &id, None, b"15\n");
        check(BmcAttr::FirmwareRevision, &id, None, b"0.5\n");
        check(BmcAttr::IpmiVersion, &id, None, b"1.5\n");
        check(BmcAttr::AdditionalDeviceSupport, &id, None, b"0x00\n");
        check(BmcAttr::ManufacturerId, &id, None, b"0xffffff\n");
        check(BmcAttr::ProductId, &id, None, b"0x0000\n");
    }

    #[test]
    fn guid_reads_as_pul() {
        let mut rsp = [0u8; 17];
        for (i, b) in rsp[1..].iter_mut().enumerate() {
            *b = i as u8 | 0xa0;
        }
        let g = parse_guid(&rsp).expect("parsed");
        check(
            BmcAttr::Guid,
            &DeviceId::default(),
            Some(&g),
            b"a3a2a1a0-a5a4-a7a6-a8a9-aaabacadaeaf\n",
        );
        let mut out = [0u8; 64];
        assert_eq!(
            text(BmcAttr::Guid, &DeviceId::default(), None, &mut out),
            None
        );
        assert_eq!(parse_guid(&rsp[..16]), None);
        rsp[0] = 0xc1;
        assert_eq!(parse_guid(&rsp), None);
    }

    #[test]
    fn visibility_and_indices() {
        let id = DeviceId::parse(&FULL).expect("parsed");
        let no_aux = DeviceId::parse(&FULL[..12]).expect("parsed");
        assert!(BmcAttr::AuxFirmwareRevision.visible(&id, None));
        assert!(!BmcAttr::AuxFirmwareRevision.visible(&no_aux, None));
        assert!(!BmcAttr::Guid.visible(&id, None));
        assert!(BmcAttr::Guid.visible(&id, Some(&[0; 16])));
        assert_eq!(BmcAttr::from_index(0), Some(BmcAttr::DeviceId));
        assert_eq!(BmcAttr::from_index(9), Some(BmcAttr::Guid));
        assert_eq!(BmcAttr::from_index(10), None);
    }

    #[test]
    fn changes_are_classified_as_c_does() {
        let id = DeviceId::parse(&FULL).expect("parsed");
        let g = [1u8; 16];
        assert_eq!(id.change(Some(&g), &id, Some(&g)), IdChange::Same);
        let mut fw = id;
        fw.firmware_revision_2 = 0x5b;
        assert_eq!(id.change(Some(&g), &fw, Some(&g)), IdChange::Other);
        let mut dev = id;
        dev.device_id = 21;
        assert_eq!(id.change(Some(&g), &dev, Some(&g)), IdChange::Identity);
        assert_eq!(id.change(Some(&g), &id, Some(&[2; 16])), IdChange::Identity);
        assert_eq!(id.change(None, &id, Some(&g)), IdChange::Identity);
    }

    #[test]
    fn a_full_buffer_fails_rather_than_cuts() {
        let mut out = [0u8; 3];
        let mut w = BufWriter::new(&mut out);
        assert!(BmcAttr::DeviceId
            .write(
                &mut w,
                &DeviceId {
                    device_id: 100,
                    ..DeviceId::default()
                },
                None
            )
            .is_err());
        let mut w = BufWriter::new(&mut out);
        assert!(BmcAttr::DeviceId
            .write(&mut w, &DeviceId::default(), None)
            .is_ok());
        assert_eq!(w.text(), b"0\n");
    }
}
