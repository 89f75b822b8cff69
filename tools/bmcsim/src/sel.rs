//! The System Event Log (IPMI v2.0 sections 31 and 32).
//!
//! `--sel-entries M` fills it with `M` system event records (type 0x02, record IDs 1..=M) in
//! time order, the last one a minute before the simulator started and the others 30 s to 90 min
//! apart before it. Each comes from the BMC (generator ID 0x0020, event message revision 0x04)
//! and names a sensor of the SDR by type and number: threshold sensors log threshold crossings
//! (event data 1 says bytes 2 and 3 hold the trigger reading and the threshold), discrete ones
//! sensor-specific offsets. With no sensors in the SDR the events name the sensors a 12-sensor
//! repository would have. The content is deterministic; only the timestamps follow the clock.

use crate::ipmi::cc;
use crate::sdr::{self, le16, Reservation, Sensor};

/// Size of one SEL record.
pub const RECORD_LEN: usize = 16;
/// SEL version reported by Get SEL Info.
pub const SEL_VERSION: u8 = 0x51;
/// Record type of a system event record.
pub const SYSTEM_EVENT: u8 = 0x02;
/// Generator ID of the events: the BMC (IPMB address 0x20), channel 0, LUN 0.
pub const GENERATOR: u16 = 0x0020;
/// Event message format revision (IPMI 1.5 and later).
pub const EVM_REV: u8 = 0x04;
/// Entries a populated SEL has room for (64 KiB as on many BMCs: 3639 of 18 bytes).
pub const CAPACITY: usize = 3639;
/// Entries the plain simulator's empty SEL has room for (2 KiB free, as before).
pub const PLAIN_CAPACITY: usize = 128;
/// Most entries (record IDs 1..=65534; FFFFh is not a record ID).
pub const MAX_ENTRIES: usize = 0xFFFE;
/// Timestamp meaning "unspecified / never".
pub const NEVER: u32 = 0xFFFF_FFFF;

/// splitmix64: a small deterministic generator, so the same `M` gives the same log.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Sensor-specific event offsets logged for discrete sensors, by sensor type.
fn discrete_offsets(sensor_type: u8) -> &'static [u8] {
    match sensor_type {
        // Presence detected, failure detected, AC lost.
        sdr::stype::POWER_SUPPLY => &[0x00, 0x01, 0x03],
        // IERR, thermal trip, presence detected.
        sdr::stype::PROCESSOR => &[0x00, 0x01, 0x07],
        // General chassis intrusion, drive bay intrusion.
        sdr::stype::PHYSICAL_SECURITY => &[0x00, 0x01],
        // Drive presence, drive fault, rebuild in progress.
        _ => &[0x00, 0x01, 0x07],
    }
}

/// One system event record about `s` with record ID `id` at `timestamp`.
fn event_record(id: u16, timestamp: u32, s: &Sensor, rng: &mut Rng) -> [u8; RECORD_LEN] {
    let deassert = rng.below(4) == 0;
    let (etype, data) = if s.is_threshold() {
        let readable: Vec<usize> = (0..6).filter(|&i| s.readable & (1 << i) != 0).collect();
        let t = readable[rng.below(readable.len() as u64) as usize];
        let threshold = s.thresholds[t];
        let beyond = 1 + rng.below(3) as u8;
        let trigger = if t < sdr::thr::UNC {
            threshold.saturating_sub(beyond)
        } else {
            threshold.saturating_add(beyond)
        };
        // Event data 1: trigger reading in byte 2, trigger threshold in byte 3, the offset.
        let d1 = 0x50 | sdr::THRESHOLD_EVENT_OFFSET[t];
        (sdr::READING_THRESHOLD, [d1, trigger, threshold])
    } else {
        let offsets = discrete_offsets(s.sensor_type);
        let off = offsets[rng.below(offsets.len() as u64) as usize];
        (sdr::READING_SENSOR_SPECIFIC, [off, 0xFF, 0xFF])
    };
    let dir = if deassert { 0x80 } else { 0x00 };
    let mut r = [0u8; RECORD_LEN];
    r[0..2].copy_from_slice(&id.to_le_bytes());
    r[2] = SYSTEM_EVENT;
    r[3..7].copy_from_slice(&timestamp.to_le_bytes());
    r[7..9].copy_from_slice(&GENERATOR.to_le_bytes());
    r[9] = EVM_REV;
    r[10] = s.sensor_type;
    r[11] = s.number;
    r[12] = dir | etype;
    r[13..16].copy_from_slice(&data);
    r
}

/// The SEL.
#[derive(Debug, Clone)]
pub struct Sel {
    /// Records in record-ID order.
    entries: Vec<[u8; RECORD_LEN]>,
    capacity: usize,
    /// Most recent addition timestamp.
    added: u32,
    /// Most recent erase timestamp.
    erased: u32,
    /// Whether Get SEL Allocation Info is announced in Get SEL Info (a populated SEL).
    alloc_info: bool,
    /// Reserve SEL state.
    pub reservation: Reservation,
}

impl Default for Sel {
    fn default() -> Self {
        Sel {
            entries: Vec::new(),
            capacity: PLAIN_CAPACITY,
            added: NEVER,
            erased: NEVER,
            alloc_info: false,
            reservation: Reservation::default(),
        }
    }
}

impl Sel {
    /// A SEL of `m` events about `sensors` (or a default catalog if there are none), the last
    /// one a minute before `now` (seconds since 1970). `m == 0` gives the plain simulator's
    /// empty SEL.
    pub fn populate(m: usize, sensors: &[Sensor], now: u32) -> Result<Sel, String> {
        if m > MAX_ENTRIES {
            return Err(format!("at most {MAX_ENTRIES} SEL entries, not {m}"));
        }
        if m == 0 {
            return Ok(Sel::default());
        }
        let fallback;
        let sensors = if sensors.is_empty() {
            fallback = Sensor::catalog(12);
            &fallback
        } else {
            sensors
        };
        let mut rng = Rng(0x5E1_0000 + m as u64);
        // Gaps between consecutive events, then timestamps counted back from the last one.
        let gaps: Vec<u32> = (1..m).map(|_| 30 + rng.below(5370) as u32).collect();
        let span: u64 = gaps.iter().map(|&g| u64::from(g)).sum();
        let last = now.saturating_sub(60);
        let mut t = u64::from(last).saturating_sub(span) as u32;
        let mut entries = Vec::with_capacity(m);
        for i in 0..m {
            if i > 0 {
                t += gaps[i - 1];
            }
            let s = &sensors[rng.below(sensors.len() as u64) as usize];
            entries.push(event_record((i + 1) as u16, t, s, &mut rng));
        }
        Ok(Sel {
            added: u32::from_le_bytes(entries[m - 1][3..7].try_into().unwrap_or([0xFF; 4])),
            entries,
            capacity: CAPACITY.max(m),
            erased: NEVER,
            alloc_info: true,
            reservation: Reservation::default(),
        })
    }

    /// The records, in record-ID order.
    pub fn entries(&self) -> &[[u8; RECORD_LEN]] {
        &self.entries
    }

    fn free_bytes(&self) -> u16 {
        ((self.capacity - self.entries.len()) * RECORD_LEN).min(0xFFFF) as u16
    }

    /// Get SEL Info response data: version, entries, free bytes, last addition and erase
    /// timestamps, operation support (Reserve SEL; Get SEL Allocation Info when populated).
    pub fn info(&self) -> Vec<u8> {
        let mut d = vec![SEL_VERSION];
        d.extend((self.entries.len() as u16).to_le_bytes());
        d.extend(self.free_bytes().to_le_bytes());
        d.extend(self.added.to_le_bytes());
        d.extend(self.erased.to_le_bytes());
        d.push(if self.alloc_info { 0x03 } else { 0x02 });
        d
    }

    /// Get SEL Allocation Info response data: units, unit size, free units, largest free block
    /// (units), largest record (units).
    pub fn alloc_info(&self) -> Vec<u8> {
        let free = (self.capacity - self.entries.len()) as u16;
        let mut d = (self.capacity as u16).to_le_bytes().to_vec();
        d.extend((RECORD_LEN as u16).to_le_bytes());
        d.extend(free.to_le_bytes());
        d.extend(free.to_le_bytes());
        d.push(1);
        d
    }

    /// Index of the entry a record ID names: 0000h the first, FFFFh the last.
    fn index_of(&self, id: u16) -> Option<usize> {
        match id {
            _ if self.entries.is_empty() => None,
            0x0000 => Some(0),
            0xFFFF => Some(self.entries.len() - 1),
            _ => self.entries.binary_search_by_key(&id, |e| le16(e, 0)).ok(),
        }
    }

    /// Get SEL Entry: `data` is reservation ID, record ID, offset, bytes to read (0xFF: the
    /// whole record). Answers the next record ID (FFFFh after the last) and the bytes, or
    /// 0xC7 short request, 0xC5 bad reservation (needed for a non-zero offset, checked whenever
    /// given), 0xCB no such entry (or an empty SEL), 0xC9 offset past the record.
    pub fn get(&self, data: &[u8]) -> Result<Vec<u8>, u8> {
        if data.len() < 6 {
            return Err(cc::REQ_LEN_INVALID);
        }
        let (res, id, offset, count) = (le16(data, 0), le16(data, 2), data[4], data[5]);
        self.reservation.check(res, offset != 0)?;
        let i = self.index_of(id).ok_or(cc::NOT_PRESENT)?;
        let offset = usize::from(offset);
        if offset >= RECORD_LEN {
            return Err(cc::PARAM_OUT_OF_RANGE);
        }
        let end = if count == 0xFF {
            RECORD_LEN
        } else {
            (offset + usize::from(count)).min(RECORD_LEN)
        };
        let next = self.entries.get(i + 1).map_or(0xFFFF, |e| le16(e, 0));
        let mut d = next.to_le_bytes().to_vec();
        d.extend(&self.entries[i][offset..end]);
        Ok(d)
    }

    /// Clear SEL: `data` is reservation ID, 'C' 'L' 'R', then AAh (initiate erase) or 00h (get
    /// erasure status). Both need the current reservation (0xC5), as the spec says; an erase
    /// happens at once, records `now` as the erase time and cancels the reservation (as
    /// OpenBMC does). Answers the erasure progress: 1, completed.
    pub fn clear(&mut self, data: &[u8], now: u32) -> Result<Vec<u8>, u8> {
        if data.len() < 6 {
            return Err(cc::REQ_LEN_INVALID);
        }
        if &data[2..5] != b"CLR" || !matches!(data[5], 0x00 | 0xAA) {
            return Err(cc::INVALID_DATA);
        }
        self.reservation.check(le16(data, 0), true)?;
        if data[5] == 0xAA {
            self.entries.clear();
            self.erased = now;
            self.reservation.cancel();
        }
        Ok(vec![0x01])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u32 = 1_795_000_000; // 2026-11-18

    fn req(res: u16, id: u16, offset: u8, count: u8) -> Vec<u8> {
        let mut d = res.to_le_bytes().to_vec();
        d.extend(id.to_le_bytes());
        d.extend([offset, count]);
        d
    }

    fn clr(res: u16, op: u8) -> Vec<u8> {
        let mut d = res.to_le_bytes().to_vec();
        d.extend(b"CLR");
        d.push(op);
        d
    }

    #[test]
    fn plain_sel_is_empty_as_before() {
        let sel = Sel::populate(0, &[], NOW).unwrap();
        let mut want = vec![0x51, 0, 0, 0x00, 0x08];
        want.extend([0xFF; 8]);
        want.push(0x02);
        assert_eq!(sel.info(), want);
        assert_eq!(sel.get(&req(0, 0, 0, 0xFF)), Err(0xCB));
        assert!(Sel::populate(MAX_ENTRIES + 1, &[], NOW).is_err());
    }

    #[test]
    fn populated_sel_records_match_the_sdr() {
        let sensors = Sensor::catalog(40);
        let sel = Sel::populate(500, &sensors, NOW).unwrap();
        let e = sel.entries();
        assert_eq!(e.len(), 500);
        let mut last_ts = 0;
        for (i, r) in e.iter().enumerate() {
            assert_eq!(usize::from(le16(r, 0)), i + 1);
            assert_eq!(r[2], SYSTEM_EVENT);
            let ts = u32::from_le_bytes(r[3..7].try_into().unwrap());
            assert!(ts >= last_ts + 30 || i == 0, "entry {i} in time order");
            assert!(ts <= NOW - 60);
            last_ts = ts;
            assert_eq!(&r[7..10], &[0x20, 0x00, 0x04]);
            let s = &sensors[usize::from(r[11]) - 1];
            assert_eq!(r[10], s.sensor_type, "entry {i}: sensor type of #{}", r[11]);
            if s.is_threshold() {
                assert_eq!(r[12] & 0x7F, 0x01);
                assert_eq!(r[13] & 0xF0, 0x50);
                let t = sdr::THRESHOLD_EVENT_OFFSET
                    .iter()
                    .position(|&o| o == r[13] & 0x0F)
                    .unwrap();
                assert!(s.readable & (1 << t) != 0, "a readable threshold");
                assert_eq!(r[15], s.thresholds[t]);
                if t < sdr::thr::UNC {
                    assert!(r[14] < r[15]);
                } else {
                    assert!(r[14] > r[15]);
                }
            } else {
                assert_eq!(r[12] & 0x7F, 0x6F);
                assert_eq!(&r[14..], &[0xFF, 0xFF]);
            }
        }
        assert_eq!(
            u32::from_le_bytes(e[499][3..7].try_into().unwrap()),
            NOW - 60
        );
        assert!(e.iter().any(|r| r[12] & 0x80 != 0), "some deassertions");
        assert!(e.iter().any(|r| r[12] == 0x6F), "some discrete events");
        // Deterministic apart from the clock.
        assert_eq!(
            Sel::populate(500, &sensors, NOW).unwrap().entries(),
            sel.entries()
        );
        // Without sensors the events still name plausible ones.
        let alone = Sel::populate(20, &[], NOW).unwrap();
        assert!(alone.entries().iter().all(|r| (1..=12).contains(&r[11])));
    }

    #[test]
    fn info_and_alloc_info() {
        let sel = Sel::populate(100, &Sensor::catalog(10), NOW).unwrap();
        let d = sel.info();
        assert_eq!(d.len(), 14);
        assert_eq!((d[0], le16(&d, 1)), (0x51, 100));
        assert_eq!(usize::from(le16(&d, 3)), (CAPACITY - 100) * 16);
        assert_eq!(&d[5..9], &(NOW - 60).to_le_bytes());
        assert_eq!(&d[9..13], &[0xFF; 4]);
        assert_eq!(d[13], 0x03);
        let a = sel.alloc_info();
        assert_eq!(a.len(), 9);
        assert_eq!(
            (le16(&a, 0), le16(&a, 2), le16(&a, 4), le16(&a, 6), a[8]),
            (
                CAPACITY as u16,
                16,
                (CAPACITY - 100) as u16,
                (CAPACITY - 100) as u16,
                1
            )
        );
        // A SEL larger than the usual capacity is full.
        let big = Sel::populate(5000, &[], NOW).unwrap();
        assert_eq!(le16(&big.info(), 1), 5000);
        assert_eq!(le16(&big.info(), 3), 0);
    }

    #[test]
    fn get_entry_chains_through_all_entries() {
        let sel = Sel::populate(300, &Sensor::catalog(20), NOW).unwrap();
        let mut id = 0;
        let mut n = 0;
        while id != 0xFFFF {
            // As ipmitool: no reservation, offset 0, the whole record.
            let d = sel.get(&req(0, id, 0, 0xFF)).unwrap();
            assert_eq!(d.len(), 18);
            assert_eq!(&d[2..], &sel.entries()[n]);
            n += 1;
            id = le16(&d, 0);
        }
        assert_eq!(n, 300);
        let d = sel.get(&req(0, 0xFFFF, 0, 0xFF)).unwrap();
        assert_eq!((le16(&d, 0), le16(&d, 2)), (0xFFFF, 300));
        assert_eq!(sel.get(&req(0, 301, 0, 0xFF)), Err(0xCB));
        assert_eq!(sel.get(&req(0, 0x8000, 0, 0xFF)), Err(0xCB));
        assert_eq!(sel.get(&[0, 0, 1, 0, 0]), Err(0xC7));
    }

    #[test]
    fn partial_reads_need_the_reservation() {
        let mut sel = Sel::populate(5, &[], NOW).unwrap();
        assert_eq!(sel.get(&req(0, 3, 8, 4)), Err(0xC5));
        let r = sel.reservation.reserve();
        let d = sel.get(&req(r, 3, 8, 4)).unwrap();
        assert_eq!((le16(&d, 0), &d[2..]), (4, &sel.entries()[2][8..12]));
        let d = sel.get(&req(r, 3, 0, 5)).unwrap();
        assert_eq!(&d[2..], &sel.entries()[2][..5]);
        // To the end of the record, however many are asked for.
        let d = sel.get(&req(r, 3, 10, 0xFF)).unwrap();
        assert_eq!(&d[2..], &sel.entries()[2][10..]);
        assert_eq!(sel.get(&req(r, 3, 10, 200)).unwrap().len(), 2 + 6);
        assert_eq!(sel.get(&req(r, 3, 16, 1)), Err(0xC9));
        // A stale reservation is refused even for a whole read.
        let r2 = sel.reservation.reserve();
        assert_eq!(sel.get(&req(r, 3, 0, 0xFF)), Err(0xC5));
        assert!(sel.get(&req(r2, 3, 0, 0xFF)).is_ok());
    }

    #[test]
    fn clear_sel_with_reservation() {
        let mut sel = Sel::populate(50, &[], NOW).unwrap();
        assert_eq!(sel.clear(&clr(0, 0xAA), NOW), Err(0xC5));
        let r = sel.reservation.reserve();
        assert_eq!(sel.clear(&clr(r.wrapping_add(1), 0xAA), NOW), Err(0xC5));
        let mut bad = clr(r, 0xAA);
        bad[3] = b'X';
        assert_eq!(sel.clear(&bad, NOW), Err(0xCC));
        assert_eq!(sel.clear(&clr(r, 0x55), NOW), Err(0xCC));
        assert_eq!(sel.clear(&clr(r, 0xAA)[..5], NOW), Err(0xC7));
        assert_eq!(sel.clear(&clr(r, 0x00), NOW), Ok(vec![1]), "status");
        assert_eq!(sel.entries().len(), 50);
        assert_eq!(sel.clear(&clr(r, 0xAA), NOW + 5), Ok(vec![1]));
        assert!(sel.entries().is_empty());
        let d = sel.info();
        assert_eq!(le16(&d, 1), 0);
        assert_eq!(usize::from(le16(&d, 3)), CAPACITY * 16);
        assert_eq!(&d[9..13], &(NOW + 5).to_le_bytes());
        assert_eq!(sel.get(&req(0, 0, 0, 0xFF)), Err(0xCB));
        // The erase cancelled the reservation.
        assert_eq!(sel.clear(&clr(r, 0x00), NOW), Err(0xC5));
        let r2 = sel.reservation.reserve();
        assert_eq!(sel.clear(&clr(r2, 0xAA), NOW), Ok(vec![1]));
    }
}
