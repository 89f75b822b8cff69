//! The sensors and the SDR repository (IPMI v2.0 sections 33, 35 and 43).
//!
//! `--sdr-sensors N` fills the repository with a BMC Management Controller Device Locator record
//! (type 0x12, record ID 1) and `N` sensor records (IDs 2..=N+1): mostly Full Sensor Records
//! (type 0x01) for threshold sensors with linear conversion factors, units, thresholds and
//! hysteresis, and, one in twelve, Compact Sensor Records (type 0x02) for discrete sensors. The
//! sensors are numbered 1..=N on LUN 0 of the BMC (owner 0x20), so at most [`MAX_SENSORS`].
//! Everything is deterministic: the same `N` always gives the same records.
//!
//! Readings are a slow sine around each sensor's nominal value (periods of 10 to 20 minutes,
//! a few raw counts of amplitude) that never reaches a threshold, so every sensor reads "ok"
//! and a tool's output changes only in the reading column between two runs.

use crate::ipmi::cc;
use std::f64::consts::TAU;

/// Most sensors: numbers 1..=254 on LUN 0 (0xFF is reserved by the spec).
pub const MAX_SENSORS: usize = 254;
/// SDR version reported by Get SDR Repository Info and in every record header (1.5 / 2.0).
pub const SDR_VERSION: u8 = 0x51;
/// Size of a record header: record ID, version, type, length.
pub const HEADER_LEN: usize = 5;
/// The repository's size in bytes once populated (free space = this minus the records).
pub const REPO_BYTES: usize = 32768;
/// Allocation unit of Get SDR Repository Allocation Info.
pub const ALLOC_UNIT: usize = 16;
/// Most record bytes one Get SDR answers unless changed (`set sdr_max_read`); asking for more
/// (0xFF included, when the rest of the record is longer) gets 0xCA, as on many real BMCs.
pub const DEFAULT_MAX_READ: u8 = 0x20;
/// ID string of the BMC's Management Controller Device Locator record.
pub const BMC_NAME: &str = "ripmi-bmcsim";
/// The BMC's IPMB address: sensor owner and locator slave address.
pub const OWNER: u8 = 0x20;

/// SDR record types.
pub mod rec {
    /// Full Sensor Record.
    pub const FULL: u8 = 0x01;
    /// Compact Sensor Record.
    pub const COMPACT: u8 = 0x02;
    /// Management Controller Device Locator Record.
    pub const MC_LOCATOR: u8 = 0x12;
}

/// Sensor types (IPMI v2.0 table 42-3) used here.
pub mod stype {
    /// Temperature.
    pub const TEMPERATURE: u8 = 0x01;
    /// Voltage.
    pub const VOLTAGE: u8 = 0x02;
    /// Current.
    pub const CURRENT: u8 = 0x03;
    /// Fan.
    pub const FAN: u8 = 0x04;
    /// Physical security (chassis intrusion).
    pub const PHYSICAL_SECURITY: u8 = 0x05;
    /// Processor.
    pub const PROCESSOR: u8 = 0x07;
    /// Power supply.
    pub const POWER_SUPPLY: u8 = 0x08;
    /// Power unit (used for the power meters; the threshold type carries the meaning).
    pub const POWER_UNIT: u8 = 0x09;
    /// Drive slot (bay).
    pub const DRIVE_SLOT: u8 = 0x0D;
}

/// Event/reading type code of threshold sensors.
pub const READING_THRESHOLD: u8 = 0x01;
/// Event/reading type code of sensor-specific discrete sensors.
pub const READING_SENSOR_SPECIFIC: u8 = 0x6F;

/// Threshold indices in the order of Get Sensor Thresholds and of the readable mask bits.
pub mod thr {
    /// Lower non-critical.
    pub const LNC: usize = 0;
    /// Lower critical.
    pub const LC: usize = 1;
    /// Lower non-recoverable.
    pub const LNR: usize = 2;
    /// Upper non-critical.
    pub const UNC: usize = 3;
    /// Upper critical.
    pub const UC: usize = 4;
    /// Upper non-recoverable.
    pub const UNR: usize = 5;
}

/// What a sensor measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Degrees C, full record.
    Temp,
    /// Volts, full record.
    Volt,
    /// RPM, full record, lower thresholds only.
    Fan,
    /// Amps, full record, upper thresholds only.
    Current,
    /// Watts, full record, upper thresholds only, with a B offset.
    Power,
    /// A discrete (sensor-specific) sensor in a compact record.
    Discrete,
}

/// The kinds of sensors 1, 2, 3... repeat with this period.
const CYCLE: [Kind; 12] = [
    Kind::Temp,
    Kind::Volt,
    Kind::Fan,
    Kind::Temp,
    Kind::Volt,
    Kind::Discrete,
    Kind::Temp,
    Kind::Fan,
    Kind::Volt,
    Kind::Current,
    Kind::Temp,
    Kind::Power,
];

/// Voltage rails, cycled: (M in 10 mV units, nominal raw). 12 V, 5 V, 3.3 V, 1.8 V, 1.05 V.
const RAILS: [(i16, u8); 5] = [(6, 200), (3, 167), (2, 165), (1, 180), (1, 105)];

/// Discrete sensors, cycled: name, sensor type, entity ID, asserted states, state mask.
const DISCRETE: [(&str, u8, u8, u16, u16); 4] = [
    // Power supply: presence detected (offset 0).
    ("PS Status", stype::POWER_SUPPLY, 0x0A, 0x0001, 0x007F),
    // Processor: processor presence detected (offset 7).
    ("CPU Status", stype::PROCESSOR, 0x03, 0x0080, 0x07FF),
    // Physical security: nothing asserted (no intrusion).
    ("Intrusion", stype::PHYSICAL_SECURITY, 0x17, 0x0000, 0x007F),
    // Drive slot: drive presence (offset 0).
    ("Drive", stype::DRIVE_SLOT, 0x04, 0x0001, 0x01FF),
];

/// One simulated sensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Sensor {
    /// Sensor number (owner 0x20, LUN 0).
    pub number: u8,
    /// What it measures.
    pub kind: Kind,
    /// ID string, e.g. "Temp 12".
    pub name: String,
    /// Sensor type code.
    pub sensor_type: u8,
    /// Event/reading type code (0x01 threshold, 0x6F sensor-specific).
    pub reading_type: u8,
    /// Entity ID.
    pub entity_id: u8,
    /// Entity instance (physical, 1-based per kind).
    pub entity_instance: u8,
    /// Units 2 (base unit): 1 degrees C, 4 Volts, 5 Amps, 6 Watts, 18 RPM; 0 for discrete.
    pub base_unit: u8,
    /// Conversion `y = (M x + B 10^Bexp) 10^Rexp`: M (10-bit signed).
    pub m: i16,
    /// B (10-bit signed).
    pub b: i16,
    /// B exponent (4-bit signed).
    pub b_exp: i8,
    /// Result exponent (4-bit signed).
    pub r_exp: i8,
    /// Nominal raw reading (the centre of the sine).
    pub nominal: u8,
    /// Amplitude of the sine in raw counts.
    pub amplitude: f64,
    /// Period of the sine in seconds.
    pub period_s: f64,
    /// Phase of the sine in radians.
    pub phase: f64,
    /// Raw thresholds in [`thr`] order; unreadable ones are 0.
    pub thresholds: [u8; 6],
    /// Readable (and event-generating) thresholds: bit `i` for `thresholds[i]`.
    pub readable: u8,
    /// Positive- and negative-going hysteresis (raw counts).
    pub hysteresis: [u8; 2],
    /// Discrete sensors: the asserted states (bit = offset).
    pub states: u16,
    /// Discrete sensors: the states the sensor can assert (event masks).
    pub state_mask: u16,
}

/// Threshold event offsets (table 42-2) for an assertion at each threshold in [`thr`] order:
/// lower thresholds going low, upper thresholds going high.
pub const THRESHOLD_EVENT_OFFSET: [u8; 6] = [0x00, 0x02, 0x04, 0x07, 0x09, 0x0B];

/// 4-bit two's complement.
fn nibble(v: i8) -> u8 {
    (v as u8) & 0x0F
}

/// A deterministic value in `0..1` for `(a, b)`, for phases and periods.
fn unit_hash(a: u64, b: u64) -> f64 {
    let mut z = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

impl Sensor {
    /// The sensors of a repository with `n` of them (at most [`MAX_SENSORS`]).
    pub fn catalog(n: usize) -> Vec<Sensor> {
        let mut counts = [0u8; 6];
        let mut discrete_counts = [0u8; DISCRETE.len()];
        (0..n.min(MAX_SENSORS))
            .map(|i| {
                let kind = CYCLE[i % CYCLE.len()];
                let k = kind as usize;
                counts[k] += 1;
                let inst = counts[k];
                let number = (i + 1) as u8;
                let mut s = Sensor::threshold(number, kind, inst);
                if kind == Kind::Discrete {
                    let d = usize::from(inst - 1) % DISCRETE.len();
                    discrete_counts[d] += 1;
                    let (name, st, entity, states, mask) = DISCRETE[d];
                    s.name = format!("{name} {}", discrete_counts[d]);
                    s.sensor_type = st;
                    s.entity_id = entity;
                    s.entity_instance = discrete_counts[d];
                    s.states = states;
                    s.state_mask = mask;
                }
                s
            })
            .collect()
    }

    /// A sensor of `kind`, the `inst`th of its kind (1-based).
    fn threshold(number: u8, kind: Kind, inst: u8) -> Sensor {
        let i = usize::from(inst);
        let mut s = Sensor {
            number,
            kind,
            name: String::new(),
            sensor_type: 0,
            reading_type: READING_THRESHOLD,
            entity_id: 0x07,
            entity_instance: inst,
            base_unit: 0,
            m: 1,
            b: 0,
            b_exp: 0,
            r_exp: 0,
            nominal: 0,
            amplitude: 0.0,
            period_s: 600.0 + 600.0 * unit_hash(u64::from(number), 1),
            phase: TAU * unit_hash(u64::from(number), 2),
            thresholds: [0; 6],
            readable: 0,
            hysteresis: [2, 2],
            states: 0,
            state_mask: 0,
        };
        match kind {
            Kind::Temp => {
                s.name = format!("Temp {inst}");
                s.sensor_type = stype::TEMPERATURE;
                // Processor, system board, memory device in turn.
                s.entity_id = [0x03, 0x07, 0x20][(i - 1) % 3];
                s.base_unit = 1;
                s.nominal = 30 + ((i * 7) % 25) as u8;
                s.amplitude = 2.0 + (i % 3) as f64;
                s.thresholds = [10, 5, 3, 80, 90, 100];
                s.readable = 0x3F;
            }
            Kind::Volt => {
                s.name = format!("Volt {inst}");
                s.sensor_type = stype::VOLTAGE;
                s.base_unit = 4;
                let (m, nominal) = RAILS[(i - 1) % RAILS.len()];
                s.m = m;
                s.r_exp = -2;
                s.nominal = nominal;
                s.amplitude = 1.0;
                let at = |f: f64| (f64::from(nominal) * f).round() as u8;
                s.thresholds = [at(0.95), at(0.92), at(0.90), at(1.05), at(1.08), at(1.10)];
                s.readable = 0x3F;
                s.hysteresis = [1, 1];
            }
            Kind::Fan => {
                s.name = format!("Fan {inst}");
                s.sensor_type = stype::FAN;
                s.entity_id = 0x1D;
                s.base_unit = 18;
                s.m = 40;
                s.nominal = 100 + ((i * 13) % 40) as u8;
                s.amplitude = 3.0;
                s.thresholds = [30, 22, 15, 0, 0, 0];
                s.readable = 0x07;
            }
            Kind::Current => {
                s.name = format!("Current {inst}");
                s.sensor_type = stype::CURRENT;
                s.entity_id = 0x0A;
                s.base_unit = 5;
                s.r_exp = -1;
                s.nominal = 40 + ((i * 11) % 60) as u8;
                s.amplitude = 2.0;
                s.thresholds = [0, 0, 0, 160, 180, 200];
                s.readable = 0x38;
            }
            Kind::Power => {
                s.name = format!("Power {inst}");
                s.sensor_type = stype::POWER_UNIT;
                s.entity_id = 0x15;
                s.base_unit = 6;
                // y = 2x + 100 W.
                s.m = 2;
                s.b = 10;
                s.b_exp = 1;
                s.nominal = 40 + ((i * 17) % 60) as u8;
                s.amplitude = 4.0;
                s.thresholds = [0, 0, 0, 150, 170, 190];
                s.readable = 0x38;
            }
            Kind::Discrete => {
                s.reading_type = READING_SENSOR_SPECIFIC;
                s.hysteresis = [0, 0];
            }
        }
        s
    }

    /// Whether this is a threshold sensor (full record) rather than a discrete one.
    pub fn is_threshold(&self) -> bool {
        self.reading_type == READING_THRESHOLD
    }

    /// The raw reading `elapsed_s` seconds after the simulator started.
    pub fn raw(&self, elapsed_s: f64) -> u8 {
        if !self.is_threshold() {
            return 0;
        }
        let v = f64::from(self.nominal)
            + self.amplitude * (TAU * elapsed_s / self.period_s + self.phase).sin();
        v.round().clamp(0.0, 255.0) as u8
    }

    /// The converted value of a raw reading (the same formula the tools apply).
    pub fn convert(&self, raw: u8) -> f64 {
        (f64::from(self.m) * f64::from(raw) + f64::from(self.b) * 10f64.powi(self.b_exp.into()))
            * 10f64.powi(self.r_exp.into())
    }

    /// Threshold comparison status bits (0 LNC, 1 LC, 2 LNR: at or below; 3 UNC, 4 UC, 5 UNR:
    /// at or above) of a raw reading, readable thresholds only.
    pub fn threshold_status(&self, raw: u8) -> u8 {
        (0..6)
            .filter(|&i| self.readable & (1 << i) != 0)
            .filter(|&i| {
                if i < thr::UNC {
                    raw <= self.thresholds[i]
                } else {
                    raw >= self.thresholds[i]
                }
            })
            .fold(0, |acc, i| acc | (1 << i))
    }

    /// Get Sensor Reading response data: reading, flags (event messages and scanning enabled),
    /// threshold status or discrete states 0-7, then 0x80 or discrete states 8-14.
    pub fn reading(&self, elapsed_s: f64) -> Vec<u8> {
        if self.is_threshold() {
            let raw = self.raw(elapsed_s);
            vec![raw, 0xC0, 0xC0 | self.threshold_status(raw), 0x80]
        } else {
            let [lo, hi] = self.states.to_le_bytes();
            vec![0x00, 0xC0, lo, 0x80 | (hi & 0x7F)]
        }
    }

    /// Event masks of the record: assertion (with the lower threshold reading mask in bits
    /// 12-14), deassertion (with the upper one), and the readable/settable threshold masks.
    fn masks(&self) -> (u16, u16, u16) {
        if !self.is_threshold() {
            return (self.state_mask, self.state_mask, self.state_mask);
        }
        let events = self.event_mask();
        let lower = u16::from(self.readable & 0x07) << 12;
        let upper = u16::from((self.readable >> 3) & 0x07) << 12;
        (events | lower, events | upper, u16::from(self.readable))
    }

    /// The threshold events the sensor generates (the 12 event offsets of table 42-2): one
    /// assertion per readable threshold (lower going low, upper going high).
    pub fn event_mask(&self) -> u16 {
        if !self.is_threshold() {
            return self.state_mask;
        }
        (0..6)
            .filter(|&i| self.readable & (1 << i) != 0)
            .fold(0, |acc, i| acc | (1 << THRESHOLD_EVENT_OFFSET[i]))
    }

    /// The SDR of this sensor with record ID `id`: a Full Sensor Record for a threshold sensor,
    /// a Compact one for a discrete sensor.
    pub fn record(&self, id: u16) -> Vec<u8> {
        let name = self.name.as_bytes();
        let (assert, deassert, thresholds) = self.masks();
        let mut r = id.to_le_bytes().to_vec();
        let rtype = if self.is_threshold() {
            rec::FULL
        } else {
            rec::COMPACT
        };
        r.extend([SDR_VERSION, rtype, 0]);
        // Record key: owner, channel 0 / LUN 0, number.
        r.extend([OWNER, 0x00, self.number]);
        r.extend([self.entity_id, self.entity_instance]);
        if self.is_threshold() {
            // Init: scanning, events, thresholds, hysteresis, sensor type; event generation
            // and scanning enabled. Capabilities: auto re-arm, hysteresis and thresholds
            // readable, per-threshold event message control.
            r.extend([0x7F, 0x54]);
        } else {
            // Init: scanning, events, sensor type; enabled. Capabilities: auto re-arm only.
            r.extend([0x67, 0x40]);
        }
        r.extend([self.sensor_type, self.reading_type]);
        r.extend(assert.to_le_bytes());
        r.extend(deassert.to_le_bytes());
        r.extend(thresholds.to_le_bytes());
        if self.is_threshold() {
            // Units 1: unsigned analog; base unit; no modifier unit; linear.
            r.extend([0x00, self.base_unit, 0x00, 0x00]);
            let m = (self.m as u16) & 0x3FF;
            let b = (self.b as u16) & 0x3FF;
            r.extend([
                (m & 0xFF) as u8,
                ((m >> 8) as u8) << 6, // tolerance 0
                (b & 0xFF) as u8,
                ((b >> 8) as u8) << 6, // accuracy 0
                0x00,                  // accuracy, exponent, direction unspecified
                (nibble(self.r_exp) << 4) | nibble(self.b_exp),
            ]);
            // Analog characteristics: nominal, normal max and normal min given.
            let spread = self.amplitude.ceil() as u8;
            r.extend([
                0x07,
                self.nominal,
                self.nominal.saturating_add(spread),
                self.nominal.saturating_sub(spread),
                0xFF, // sensor maximum reading
                0x00, // sensor minimum reading
            ]);
            let t = &self.thresholds;
            r.extend([
                t[thr::UNR],
                t[thr::UC],
                t[thr::UNC],
                t[thr::LNR],
                t[thr::LC],
                t[thr::LNC],
            ]);
            r.extend(self.hysteresis);
            r.extend([0x00, 0x00, 0x00]); // reserved, reserved, OEM
        } else {
            // Units: no analog reading. Record sharing: a single sensor.
            r.extend([0xC0, 0x00, 0x00, 0x01, 0x00]);
            r.extend(self.hysteresis);
            r.extend([0x00, 0x00, 0x00, 0x00]); // 3 reserved, OEM
        }
        r.push(0xC0 | name.len() as u8); // 8-bit ASCII + Latin 1
        r.extend(name);
        r[4] = (r.len() - HEADER_LEN) as u8;
        r
    }
}

/// The BMC's Management Controller Device Locator record with record ID `id`.
pub fn mc_locator(id: u16) -> Vec<u8> {
    let mut r = id.to_le_bytes().to_vec();
    r.extend([SDR_VERSION, rec::MC_LOCATOR, 0]);
    // Slave address, channel 0, dynamic controller with event generation enabled, capabilities
    // (IPMB event generator and receiver, SEL, SDR repository, sensor device), 3 reserved,
    // entity (system management module 1), OEM.
    r.extend([OWNER, 0x00, 0x00, 0x37, 0x00, 0x00, 0x00, 0x06, 0x01, 0x00]);
    r.push(0xC0 | BMC_NAME.len() as u8);
    r.extend(BMC_NAME.as_bytes());
    r[4] = (r.len() - HEADER_LEN) as u8;
    r
}

/// Reads the 16-bit little-endian value at `data[i..i + 2]`.
pub fn le16(data: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([data[i], data[i + 1]])
}

/// A reservation as Reserve SDR Repository / Reserve SEL hand them out: each one replaces the
/// last, IDs count up from 1 (never 0) and some events cancel the current one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reservation {
    last: u16,
    valid: bool,
}

impl Reservation {
    /// A new reservation ID; the previous one is cancelled.
    pub fn reserve(&mut self) -> u16 {
        self.last = self.last.wrapping_add(1).max(1);
        self.valid = true;
        self.last
    }

    /// Cancels the current reservation (the next one still gets a new ID).
    pub fn cancel(&mut self) {
        self.valid = false;
    }

    /// Whether `id` is the current reservation.
    pub fn holds(&self, id: u16) -> bool {
        self.valid && id == self.last && id != 0
    }

    /// The check of a read: a reservation ID of 0 is accepted when none is `required` (a read
    /// from offset 0); any other ID must be the current one. Else 0xC5.
    pub fn check(&self, id: u16, required: bool) -> Result<(), u8> {
        if (id == 0 && !required) || self.holds(id) {
            Ok(())
        } else {
            Err(cc::RESERVATION_CANCELLED)
        }
    }
}

/// The SDR repository.
#[derive(Debug, Clone, Default)]
pub struct Repository {
    sensors: Vec<Sensor>,
    /// Records in record-ID order.
    records: Vec<Vec<u8>>,
    /// Most recent addition timestamp (seconds since 1970), when populated.
    added: Option<u32>,
    /// Reserve SDR Repository state.
    pub reservation: Reservation,
}

impl Repository {
    /// A repository with the BMC locator and `sensors` sensor records, "added" at `now` (wall
    /// clock seconds). `sensors == 0` gives the empty repository of the plain simulator.
    pub fn populate(sensors: usize, now: u32) -> Result<Repository, String> {
        if sensors > MAX_SENSORS {
            return Err(format!(
                "at most {MAX_SENSORS} sensors (numbers 1-254 on LUN 0), not {sensors}"
            ));
        }
        if sensors == 0 {
            return Ok(Repository::default());
        }
        let sensors = Sensor::catalog(sensors);
        let mut records = vec![mc_locator(1)];
        records.extend(
            sensors
                .iter()
                .enumerate()
                .map(|(i, s)| s.record((i + 2) as u16)),
        );
        Ok(Repository {
            sensors,
            records,
            added: Some(now),
            reservation: Reservation::default(),
        })
    }

    /// The sensors.
    pub fn sensors(&self) -> &[Sensor] {
        &self.sensors
    }

    /// The records, in record-ID order.
    pub fn records(&self) -> &[Vec<u8>] {
        &self.records
    }

    /// The sensor with this number.
    pub fn sensor(&self, number: u8) -> Option<&Sensor> {
        // Sensors are numbered 1..=N in order.
        self.sensors
            .get(usize::from(number).wrapping_sub(1))
            .filter(|s| s.number == number)
    }

    fn used_bytes(&self) -> usize {
        self.records.iter().map(Vec::len).sum()
    }

    /// Get SDR Repository Info response data. Empty: the plain simulator's answer (v1.5, no
    /// records, 16 KiB free, no timestamps, operation support 0x22: non-modal update (bits 6:5
    /// = 01), Reserve SDR Repository supported).
    pub fn info(&self) -> Vec<u8> {
        let Some(added) = self.added else {
            let mut d = vec![SDR_VERSION, 0x00, 0x00, 0x00, 0x40];
            d.extend([0xFF; 8]);
            d.push(0x22);
            return d;
        };
        let mut d = vec![SDR_VERSION];
        d.extend((self.records.len() as u16).to_le_bytes());
        d.extend(((REPO_BYTES - self.used_bytes()) as u16).to_le_bytes());
        d.extend(added.to_le_bytes());
        d.extend([0xFF; 4]); // never erased
                             // Non-modal update, Reserve SDR Repository and Get Allocation Info supported.
        d.push(0x23);
        d
    }

    /// Get SDR Repository Allocation Info response data: units, unit size, free units, largest
    /// free block (units), largest record (units).
    pub fn alloc_info(&self) -> Vec<u8> {
        let total = REPO_BYTES / ALLOC_UNIT;
        let used: usize = self
            .records
            .iter()
            .map(|r| r.len().div_ceil(ALLOC_UNIT))
            .sum();
        let mut d = Vec::new();
        d.extend((total as u16).to_le_bytes());
        d.extend((ALLOC_UNIT as u16).to_le_bytes());
        d.extend(((total - used) as u16).to_le_bytes());
        d.extend(((total - used) as u16).to_le_bytes());
        d.push(4); // 64 bytes
        d
    }

    /// Index of the record a Get SDR record ID names: 0000h the first, FFFFh the last.
    fn index_of(&self, id: u16) -> Option<usize> {
        match id {
            _ if self.records.is_empty() => None,
            0x0000 => Some(0),
            0xFFFF => Some(self.records.len() - 1),
            _ => self.records.iter().position(|r| le16(r, 0) == id),
        }
    }

    /// Get SDR: `data` is reservation ID, record ID, offset, bytes to read (0xFF: the rest of
    /// the record). Answers the next record ID (FFFFh after the last) and the bytes, or a
    /// completion code: 0xC7 short request, 0xC5 bad reservation (needed for a non-zero
    /// offset, checked whenever given), 0xCB no such record, 0xC9 offset past the record,
    /// 0xCA more bytes than `max_read`.
    pub fn get(&self, data: &[u8], max_read: u8) -> Result<Vec<u8>, u8> {
        if data.len() < 6 {
            return Err(cc::REQ_LEN_INVALID);
        }
        let (res, id, offset, count) = (le16(data, 0), le16(data, 2), data[4], data[5]);
        self.reservation.check(res, offset != 0)?;
        let i = self.index_of(id).ok_or(cc::NOT_PRESENT)?;
        let r = &self.records[i];
        let offset = usize::from(offset);
        if offset >= r.len() {
            return Err(cc::PARAM_OUT_OF_RANGE);
        }
        let rest = r.len() - offset;
        let n = if count == 0xFF {
            rest
        } else {
            usize::from(count)
        };
        if n > usize::from(max_read) {
            return Err(cc::CANNOT_RETURN_BYTES);
        }
        let next = self.records.get(i + 1).map_or(0xFFFF, |r| le16(r, 0));
        let mut d = next.to_le_bytes().to_vec();
        d.extend(&r[offset..offset + n.min(rest)]);
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Get SDR request bytes.
    fn req(res: u16, id: u16, offset: u8, count: u8) -> Vec<u8> {
        let mut d = res.to_le_bytes().to_vec();
        d.extend(id.to_le_bytes());
        d.extend([offset, count]);
        d
    }

    #[test]
    fn catalog_kinds_names_and_numbers() {
        let s = Sensor::catalog(24);
        assert_eq!(s.len(), 24);
        let names: Vec<&str> = s.iter().take(12).map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Temp 1",
                "Volt 1",
                "Fan 1",
                "Temp 2",
                "Volt 2",
                "PS Status 1",
                "Temp 3",
                "Fan 2",
                "Volt 3",
                "Current 1",
                "Temp 4",
                "Power 1"
            ]
        );
        assert_eq!(s[17].name, "CPU Status 1");
        assert!(s
            .iter()
            .enumerate()
            .all(|(i, s)| usize::from(s.number) == i + 1));
        let all = Sensor::catalog(1000);
        assert_eq!(all.len(), MAX_SENSORS);
        let mut names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
        assert!(names.iter().all(|n| n.len() <= 16));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), MAX_SENSORS, "names are unique");
        assert!(all.iter().all(|s| s.entity_instance < 0x80));
        assert_eq!(Sensor::catalog(24), s, "deterministic");
    }

    #[test]
    fn full_record_layout() {
        let s = &Sensor::catalog(2)[1]; // Volt 1: the 12 V rail
        let r = s.record(0x0003);
        // Header: ID 3, version 0x51, type 1, length.
        assert_eq!(&r[..4], &[0x03, 0x00, 0x51, 0x01]);
        assert_eq!(usize::from(r[4]), r.len() - 5);
        assert_eq!(r.len(), 48 + "Volt 1".len());
        // Key and body.
        assert_eq!(&r[5..8], &[0x20, 0x00, 0x02]);
        assert_eq!(&r[8..14], &[0x07, 0x01, 0x7F, 0x54, 0x02, 0x01]);
        // Assertion: LNC/LC/LNR low, UNC/UC/UNR high, with the lower reading mask.
        assert_eq!(le16(&r, 14), 0x7A95);
        assert_eq!(le16(&r, 16), 0x7A95);
        assert_eq!(le16(&r, 18), 0x003F);
        assert_eq!(&r[20..24], &[0x00, 0x04, 0x00, 0x00]);
        // M = 6, B = 0, R = -2, Bexp = 0.
        assert_eq!(&r[24..30], &[0x06, 0x00, 0x00, 0x00, 0x00, 0xE0]);
        assert_eq!(&r[30..36], &[0x07, 200, 201, 199, 0xFF, 0x00]);
        // UNR UC UNC LNR LC LNC, hysteresis.
        assert_eq!(&r[36..44], &[220, 216, 210, 180, 184, 190, 1, 1]);
        assert_eq!(r[47], 0xC6);
        assert_eq!(&r[48..], b"Volt 1");
        assert!((s.convert(200) - 12.0).abs() < 1e-9);
    }

    #[test]
    fn power_uses_b_and_its_exponent() {
        let p = Sensor::catalog(12).pop().unwrap();
        assert_eq!(p.name, "Power 1");
        let r = p.record(13);
        // M = 2, B = 10, Bexp = 1, R = 0: y = 2x + 100.
        assert_eq!(&r[24..30], &[0x02, 0x00, 0x0A, 0x00, 0x00, 0x01]);
        assert!((p.convert(150) - 400.0).abs() < 1e-9);
        // Upper thresholds only: UNC/UC/UNR going high; the upper reading mask.
        assert_eq!(le16(&r, 14), 0x0A80);
        assert_eq!(le16(&r, 16), 0x7A80);
        assert_eq!(le16(&r, 18), 0x0038);
    }

    #[test]
    fn negative_m_and_exponents_encode_in_twos_complement() {
        let mut s = Sensor::catalog(1).pop().unwrap();
        s.m = -3;
        s.b = -100;
        s.b_exp = -1;
        s.r_exp = -3;
        let r = s.record(2);
        assert_eq!(&r[24..30], &[0xFD, 0xC0, 0x9C, 0xC0, 0x00, 0xDF]);
    }

    #[test]
    fn compact_record_layout() {
        let s = &Sensor::catalog(6)[5]; // PS Status 1
        assert!(!s.is_threshold());
        let r = s.record(7);
        assert_eq!(&r[..4], &[0x07, 0x00, 0x51, 0x02]);
        assert_eq!(r.len(), 32 + "PS Status 1".len());
        assert_eq!(usize::from(r[4]), r.len() - 5);
        assert_eq!(
            &r[5..14],
            &[0x20, 0x00, 0x06, 0x0A, 0x01, 0x67, 0x40, 0x08, 0x6F]
        );
        assert_eq!(le16(&r, 14), 0x007F);
        assert_eq!(&r[20..23], &[0xC0, 0x00, 0x00]);
        assert_eq!(r[31], 0xC0 | 11);
        assert_eq!(&r[32..], b"PS Status 1");
        assert_eq!(s.reading(0.0), [0x00, 0xC0, 0x01, 0x80]);
        let cpu = &Sensor::catalog(18)[17];
        assert_eq!(cpu.reading(5.0), [0x00, 0xC0, 0x80, 0x80]);
    }

    #[test]
    fn mc_locator_layout() {
        let r = mc_locator(1);
        assert_eq!(&r[..4], &[0x01, 0x00, 0x51, 0x12]);
        assert_eq!(usize::from(r[4]), r.len() - 5);
        assert_eq!(&r[5..9], &[0x20, 0x00, 0x00, 0x37]);
        assert_eq!(&r[12..14], &[0x06, 0x01]);
        assert_eq!(r[15], 0xC0 | 12);
        assert_eq!(&r[16..], b"ripmi-bmcsim");
        assert!(
            r.len() <= usize::from(DEFAULT_MAX_READ),
            "read whole by 0xFF"
        );
    }

    #[test]
    fn readings_move_slowly_and_stay_between_thresholds() {
        for s in Sensor::catalog(MAX_SENSORS)
            .iter()
            .filter(|s| s.is_threshold())
        {
            let mut seen = std::collections::BTreeSet::new();
            let mut last = s.raw(0.0);
            for t in 0..2400 {
                let raw = s.raw(f64::from(t));
                assert!(raw.abs_diff(last) <= 1, "{} jumps at {t} s", s.name);
                assert_eq!(s.threshold_status(raw), 0, "{} at {t} s: {raw}", s.name);
                let r = s.reading(f64::from(t));
                assert_eq!(r, [raw, 0xC0, 0xC0, 0x80]);
                seen.insert(raw);
                last = raw;
            }
            assert!(seen.len() >= 2, "{} never changes", s.name);
            let max = f64::from(s.nominal) + s.amplitude;
            assert!(seen.iter().all(|&r| f64::from(r) <= max + 0.5));
        }
    }

    #[test]
    fn threshold_status_bits() {
        let t = Sensor::catalog(1).pop().unwrap(); // Temp 1: 10 5 3 / 80 90 100
        assert_eq!(t.threshold_status(50), 0);
        assert_eq!(t.threshold_status(80), 0x08);
        assert_eq!(t.threshold_status(95), 0x18);
        assert_eq!(t.threshold_status(255), 0x38);
        assert_eq!(t.threshold_status(10), 0x01);
        assert_eq!(t.threshold_status(0), 0x07);
        let fan = &Sensor::catalog(3)[2];
        assert_eq!(fan.threshold_status(255), 0, "no upper thresholds");
        assert_eq!(fan.threshold_status(25), 0x01);
        assert_eq!(fan.threshold_status(20), 0x03);
    }

    #[test]
    fn repository_info_and_alloc() {
        let empty = Repository::populate(0, 0).unwrap();
        let d = empty.info();
        assert_eq!(d.len(), 14);
        assert_eq!(&d[..5], &[0x51, 0, 0, 0x00, 0x40]);
        assert_eq!(d[13], 0x22);
        let repo = Repository::populate(100, 0x6543_2100).unwrap();
        let d = repo.info();
        assert_eq!(d.len(), 14);
        assert_eq!(le16(&d, 1), 101);
        let used: usize = repo.records().iter().map(Vec::len).sum();
        assert_eq!(usize::from(le16(&d, 3)), REPO_BYTES - used);
        assert_eq!(&d[5..9], &[0x00, 0x21, 0x43, 0x65]);
        assert_eq!(&d[9..13], &[0xFF; 4]);
        assert_eq!(d[13], 0x23);
        let a = repo.alloc_info();
        assert_eq!(a.len(), 9);
        assert_eq!(le16(&a, 0), 2048);
        assert_eq!(le16(&a, 2), 16);
        assert!(le16(&a, 4) < 2048 && le16(&a, 4) == le16(&a, 6));
        assert!(Repository::populate(255, 0).is_err());
        assert!(Repository::populate(254, 0).is_ok());
    }

    #[test]
    fn get_sdr_chains_through_every_record() {
        let mut repo = Repository::populate(30, 0).unwrap();
        let res = repo.reservation.reserve();
        let mut id = 0;
        let mut got = Vec::new();
        while id != 0xFFFF {
            // The header first, then the rest in 16-byte pieces, as FreeIPMI does.
            let h = repo.get(&req(res, id, 0, 5), 0x20).unwrap();
            let next = le16(&h, 0);
            let len = usize::from(h[6]) + 5;
            let mut rec = h[2..].to_vec();
            while rec.len() < len {
                let n = (len - rec.len()).min(16) as u8;
                let d = repo.get(&req(res, id, rec.len() as u8, n), 0x20).unwrap();
                assert_eq!(le16(&d, 0), next);
                rec.extend(&d[2..]);
            }
            got.push(rec);
            id = next;
        }
        assert_eq!(got.len(), 31);
        assert_eq!(got, repo.records());
        assert_eq!(got[0][3], rec::MC_LOCATOR);
        let ids: Vec<u16> = got.iter().map(|r| le16(r, 0)).collect();
        assert_eq!(ids, (1..=31).collect::<Vec<u16>>());
        // Last: FFFFh names the last record, whose next is FFFFh.
        let d = repo.get(&req(0, 0xFFFF, 0, 5), 0x20).unwrap();
        assert_eq!((le16(&d, 0), le16(&d, 2)), (0xFFFF, 31));
    }

    #[test]
    fn get_sdr_whole_records_and_cannot_return() {
        let repo = Repository::populate(3, 0).unwrap();
        // The locator fits in 32 bytes: 0xFF reads it whole.
        let d = repo.get(&req(0, 1, 0, 0xFF), 0x20).unwrap();
        assert_eq!((le16(&d, 0), &d[2..]), (2, repo.records()[0].as_slice()));
        // A full record does not: 0xCA, for 0xFF and for an explicit length.
        assert_eq!(repo.get(&req(0, 2, 0, 0xFF), 0x20), Err(0xCA));
        assert_eq!(repo.get(&req(0, 2, 0, 33), 0x20), Err(0xCA));
        assert!(repo.get(&req(0, 2, 0, 32), 0x20).is_ok());
        // With a larger limit the whole record comes back.
        let d = repo.get(&req(0, 2, 0, 0xFF), 0xFF).unwrap();
        assert_eq!(&d[2..], repo.records()[1].as_slice());
        // More than the rest of the record: the rest.
        let len = repo.records()[1].len();
        let d = repo.get(&req(0, 2, 0, 64), 0xFF).unwrap();
        assert_eq!(d.len(), 2 + len);
    }

    #[test]
    fn get_sdr_errors() {
        let mut repo = Repository::populate(3, 0).unwrap();
        assert_eq!(repo.get(&[0; 5], 0x20), Err(0xC7));
        // A partial read from a non-zero offset needs the reservation.
        assert_eq!(repo.get(&req(0, 2, 5, 10), 0x20), Err(0xC5));
        let r1 = repo.reservation.reserve();
        assert!(repo.get(&req(r1, 2, 5, 10), 0x20).is_ok());
        // A newer reservation cancels the old one, even for offset 0.
        let r2 = repo.reservation.reserve();
        assert_ne!(r1, r2);
        assert_eq!(repo.get(&req(r1, 2, 0, 5), 0x20), Err(0xC5));
        assert_eq!(repo.get(&req(r1, 2, 5, 10), 0x20), Err(0xC5));
        assert!(repo.get(&req(r2, 2, 5, 10), 0x20).is_ok());
        // Out-of-range record IDs and offsets.
        assert_eq!(repo.get(&req(r2, 5, 0, 5), 0x20), Err(0xCB));
        assert_eq!(repo.get(&req(r2, 0x1234, 0, 5), 0x20), Err(0xCB));
        let len = repo.records()[1].len() as u8;
        assert_eq!(repo.get(&req(r2, 2, len, 1), 0x20), Err(0xC9));
        // An empty repository has no first record.
        let empty = Repository::populate(0, 0).unwrap();
        assert_eq!(empty.get(&req(0, 0, 0, 5), 0x20), Err(0xCB));
        // Reservation IDs skip 0 when they wrap.
        let mut r = Reservation {
            last: 0xFFFF,
            valid: true,
        };
        assert_eq!(r.reserve(), 1);
        r.cancel();
        assert_eq!(r.check(1, false), Err(0xC5));
        assert_eq!(r.check(0, false), Ok(()));
    }

    #[test]
    fn sensor_lookup() {
        let repo = Repository::populate(10, 0).unwrap();
        assert_eq!(repo.sensor(1).map(|s| s.name.as_str()), Some("Temp 1"));
        assert_eq!(repo.sensor(10).map(|s| s.name.as_str()), Some("Current 1"));
        assert!(repo.sensor(0).is_none());
        assert!(repo.sensor(11).is_none());
    }
}
