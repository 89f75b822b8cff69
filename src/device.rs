// SPDX-License-Identifier: GPL-2.0

//! One bound KCS BMC: its I/O region, IRQ, message handler and `/dev/ipmiN`, brought up at
//! probe and torn down in reverse order on unbind.
//!
//! C counterparts: `try_smi_init()` and `cleanup_one_si()` in
//! [`ipmi_si_intf.c`](srctree/drivers/char/ipmi/ipmi_si_intf.c), `try_get_dev_id()`, and the
//! interface registration of `ipmi_register_smi()`.

use core::fmt::Write;
use core::sync::atomic::{AtomicU64, Ordering};

use kernel::{
    debugfs::{Dir, File},
    device::{Core, Device},
    io::poll::read_poll_timeout,
    prelude::*,
    str::CString,
    sync::{aref::ARef, Arc},
    time::{delay::fsleep, Delta, Instant, Monotonic},
};

use crate::bmc::BmcLink;
use crate::bmc_id::{parse_guid, BufWriter, DeviceId, Guid};
use crate::defs::{
    netfn_lun, IPMI_GET_DEVICE_GUID_CMD, IPMI_GET_DEVICE_ID_CMD, IPMI_NETFN_APP_REQUEST,
};
use crate::devintf::MiscDev;
use crate::handler::{KcsInterface as Interface, KernelClock, ModuleParams, Phase};
use crate::kapi::{Registration, SmiInfo};
use crate::kcs::io::{IoRegion, IrqRegistration, PortIo, SharedRegion};
use crate::panic;
use crate::pm::{self, PmDevice, DPM_FLAG_NO_DIRECT_COMPLETE, DPM_FLAG_SMART_PREPARE};
use crate::si::{Next, Si, SiOutput};
use crate::sysfs::{fmt_err, ClassDevice};

/// How long probe waits for the BMC to answer Get Device ID, and for the channel scan.
const PROBE_TIMEOUT_MS: i64 = 5000;
/// How often probe looks whether the channel scan is over, in ms.
const CHANNEL_SCAN_POLL_MS: i64 = 2;
/// How often probe runs the KCS state machine while it waits for Get Device ID, in ms.
const DEVICE_ID_POLL_MS: i64 = 1;
/// The pause between two Get Device ID attempts, in ms.
const DEVICE_ID_RETRY_MS: i64 = 100;
/// The BMC's slave address the `params` file shows (C's default when no firmware table gives
/// one).
const SI_SLAVE_ADDR: u8 = 0x20;
/// Get Device ID attempts at probe (C `GET_DEVICE_ID_MAX_RETRY`).
const GET_DEVICE_ID_TRIES: u32 = 5;
/// The Get Device ID request.
const GET_DEVICE_ID: [u8; 2] = [netfn_lun(IPMI_NETFN_APP_REQUEST, 0), IPMI_GET_DEVICE_ID_CMD];
/// The Get Device GUID request.
const GET_DEVICE_GUID: [u8; 2] = [
    netfn_lun(IPMI_NETFN_APP_REQUEST, 0),
    IPMI_GET_DEVICE_GUID_CMD,
];

/// The `/dev/ipmiN` numbers in use, one bit each (at most 64 BMCs).
static DEVNUMS: AtomicU64 = AtomicU64::new(0);

/// A `/dev/ipmiN` number held by one bound BMC; given back on drop.
struct DevNum(u32);

impl DevNum {
    /// Takes the lowest free number not below `first` (the `devnum=` parameter), so that every
    /// bound BMC gets its own node, as C numbers its interfaces in order.
    fn take(first: u32) -> Result<Self> {
        let mut used = DEVNUMS.load(Ordering::Relaxed);
        loop {
            let n = (first..64)
                .find(|&n| used & (1u64 << n) == 0)
                .ok_or(ENOSPC)?;
            match DEVNUMS.compare_exchange(
                used,
                used | (1u64 << n),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(DevNum(n)),
                Err(now) => used = now,
            }
        }
    }
}

impl Drop for DevNum {
    fn drop(&mut self) {
        DEVNUMS.fetch_and(!(1u64 << self.0), Ordering::AcqRel);
    }
}

/// Where a KCS interface is and how to drive it.
pub(crate) struct KcsConfig {
    /// The data register's I/O port.
    pub(crate) port: u64,
    /// The distance to the status register.
    pub(crate) spacing: u32,
    /// The IRQ, 0 for none (polled).
    pub(crate) irq: u32,
    /// The lowest N of `/dev/ipmiN` to use (the first free one from here is taken).
    pub(crate) devnum: u32,
    /// Whether to register `/dev/ipmiN` (else the kernel's `ipmi_devintf` may, through the
    /// in-kernel API).
    pub(crate) devintf: bool,
    /// How the interface was found, for `ipmi_get_smi_info()`.
    pub(crate) info: SmiInfo,
    /// `power.driver_flags` to set.
    pub(crate) pm_flags: u32,
    /// `rpm_watch_ms`.
    pub(crate) rpm_watch_ms: u32,
}

/// A bound BMC.
///
/// The fields are torn down in [`Drop`] in this order: the BMC device's links (and the device,
/// if no other interface is on it), the class device, the device node (no new opens), the
/// handler's I/O (`shutdown`), the IRQ, and last the I/O region.
pub(crate) struct KcsDevice {
    /// `ipmi_bmc.N` (shared with other interfaces on the same BMC) and the links to it.
    bmc: Option<BmcLink>,
    /// `/sys/class/ipmi/ipmiN`; removed before `misc`, whose devt it reports.
    class: Option<ClassDevice>,
    /// The interface as the in-kernel API offers it (interface N); withdrawn first.
    kapi: Option<Registration>,
    misc: Option<Pin<KBox<MiscDev>>>,
    /// The I/O port, register spacing and IRQ in use (0: polled), for the `params` file.
    placement: (u64, u32, u32),
    /// `stats` in the debugfs directory: the handler's counters.
    _stats: Option<Pin<KBox<File<Arc<Interface>>>>>,
    /// `channels` in the debugfs directory: per-channel incoming-command counters.
    _channels: Option<Pin<KBox<File<Arc<Interface>>>>>,
    /// `bench_dispatch` in the debugfs directory: a write runs the dispatch benchmark (test
    /// build only).
    #[cfg(ripmi_test)]
    _bench: Option<Pin<KBox<File<()>>>>,
    /// `pm` in the debugfs directory: driver flags, runtime-PM state, callback counters.
    _pm: Option<Pin<KBox<File<Arc<Interface>>>>>,
    /// The bound device, for logging and power management (runtime PM on it is turned on and
    /// off by `platform.rs`).
    dev: ARef<Device>,
    /// `/sys/kernel/debug/ripmi-ipmiN/`: counters and state for debugging; files hang off it.
    debugfs: Dir,
    irq: Option<IrqRegistration<Interface>>,
    iface: Arc<Interface>,
    /// The N of `/dev/ipmiN` and of the debugfs directory; given back after both are gone.
    _devnum: DevNum,
    // Declared last: taken back from the interface, and released, after everything else.
    _region: SharedRegion,
}

impl KcsDevice {
    /// Probes the BMC at `cfg` for the device `core` being bound, and brings the interface up.
    pub(crate) fn probe(core: &Device<Core<'_>>, cfg: &KcsConfig) -> Result<Self> {
        let dev: &Device = core;
        let region = SharedRegion::new(IoRegion::request(cfg.port, cfg.spacing)?)?;
        let mut regs = region.ports();
        if !Si::new(false).detect(&mut regs) {
            dev_err!(dev, "no KCS interface answers at {:#x}\n", region.start());
            return Err(ENODEV);
        }
        let Some(id) = si_command(
            &mut regs,
            &GET_DEVICE_ID,
            GET_DEVICE_ID_TRIES,
            DeviceId::parse,
        ) else {
            dev_err!(dev, "the BMC did not answer Get Device ID\n");
            return Err(ENODEV);
        };
        // Without a GUID (no answer, or an error), BMC devices are told apart by product and
        // device ID, as in C.
        let guid: Option<Guid> = si_command(&mut regs, &GET_DEVICE_GUID, 1, parse_guid);
        dev_info!(
            dev,
            "KCS BMC at {:#x}, irq {}: device id {:#x}, revision {}, firmware {}.{:02x}, IPMI {}.{}, manufacturer {:#08x}, product {:#06x}\n",
            region.start(),
            cfg.irq,
            id.device_id,
            id.device_revision & 0xf,
            id.firmware_revision_1 & 0x7f,
            id.firmware_revision_2,
            id.ipmi_version & 0xf,
            id.ipmi_version >> 4,
            id.manufacturer_id,
            id.product_id
        );

        // With an IRQ: if the line cannot be had, run polled, as C does.
        // The run-time parameters (`max_users`, ...) are read by the interface as it uses them.
        let new_iface =
            |regs, has_irq| Interface::new(regs, KernelClock::new(), has_irq, ModuleParams);
        let (iface, irq) = if cfg.irq != 0 {
            let iface = new_iface(regs, true)?;
            match IrqRegistration::request(cfg.irq, iface.clone()) {
                Ok(reg) => (iface, Some(reg)),
                Err(e) => {
                    dev_warn!(
                        dev,
                        "cannot claim irq {} ({:?}), running polled\n",
                        cfg.irq,
                        e
                    );
                    drop(iface);
                    (new_iface(region.ports(), false)?, None)
                }
            }
        } else {
            (new_iface(regs, false)?, None)
        };
        let devnum = DevNum::take(cfg.devnum)?;
        let dir_name = CString::try_from_fmt(fmt!("ripmi-ipmi{}", devnum.0))?;
        let placement = (
            u64::from(region.start()),
            cfg.spacing,
            if irq.is_some() { cfg.irq } else { 0 },
        );
        let mut kdev = KcsDevice {
            bmc: None,
            class: None,
            kapi: None,
            misc: None,
            placement,
            _stats: None,
            _channels: None,
            #[cfg(ripmi_test)]
            _bench: None,
            _pm: None,
            dev: dev.into(),
            debugfs: Dir::new(&dir_name),
            irq,
            iface,
            _devnum: devnum,
            _region: region,
        };
        kdev.iface.start()?;
        let iface = &kdev.iface;
        read_poll_timeout(
            || Ok(iface.channels_ready()),
            |ready| *ready,
            Delta::from_millis(CHANNEL_SCAN_POLL_MS),
            Delta::from_millis(PROBE_TIMEOUT_MS),
        )
        .inspect_err(|_| dev_err!(dev, "the channel scan did not finish\n"))?;
        log_channels(dev, &kdev.iface);
        kdev._stats = Some(KBox::pin_init(
            kdev.debugfs.read_callback_file(
                c"stats",
                kdev.iface.clone(),
                &|iface: &Arc<Interface>, f| {
                    let s = iface.stats();
                    writeln!(
                        f,
                        "sent {}\nresponses {}\ntimeouts {}\nevents {}",
                        s.sent, s.responses, s.timeouts, s.events
                    )?;
                    writeln!(
                        f,
                        "commands {}\nunhandled_commands {}\nunhandled_dropped {}\ndropped {}",
                        s.commands, s.unhandled_commands, s.unhandled_dropped, s.dropped
                    )
                },
            ),
            GFP_KERNEL,
        )?);
        kdev._channels = Some(KBox::pin_init(
            kdev.debugfs.read_callback_file(
                c"channels",
                kdev.iface.clone(),
                &|iface: &Arc<Interface>, f| {
                    let (chans, held, rcvrs) = iface.channel_stats();
                    writeln!(f, "registrations {rcvrs}\nheld {held}")?;
                    writeln!(f, "chan medium received delivered unhandled dropped held")?;
                    let media = iface.media();
                    for (i, c) in chans.iter().enumerate() {
                        let m = media.get(i).copied().flatten().map_or(-1, i32::from);
                        writeln!(
                            f,
                            "{i} {m} {} {} {} {} {}",
                            c.received, c.delivered, c.unhandled, c.dropped, c.held
                        )?;
                    }
                    Ok(())
                },
            ),
            GFP_KERNEL,
        )?);
        #[cfg(ripmi_test)]
        {
            kdev._bench = Some(KBox::pin_init(
                kdev.debugfs.write_callback_file(
                    c"bench_dispatch",
                    (),
                    &|(): &(), _reader: &mut kernel::uaccess::UserSliceReader| {
                        crate::bench::dispatch()
                    },
                ),
                GFP_KERNEL,
            )?);
        }
        let mode = if kdev.irq.is_some() {
            "interrupt driven"
        } else {
            "polled"
        };
        if cfg.devintf {
            let misc = MiscDev::register(kdev.iface.clone(), kdev._devnum.0)?;
            dev_info!(
                dev,
                "/dev/{} ready ({})\n",
                misc.name().to_str().unwrap_or("ipmi?"),
                mode
            );
            kdev.class = ClassDevice::create(dev, misc.device(), kdev._devnum.0)?;
            kdev.misc = Some(misc);
        } else {
            dev_info!(
                dev,
                "interface {} ready ({}), no /dev node (devintf=0)\n",
                kdev._devnum.0,
                mode
            );
        }
        kdev.bmc = Some(BmcLink::register(
            dev,
            kdev.iface.clone(),
            kdev._devnum.0,
            id,
            guid,
        )?);
        kdev._pm = Some(KBox::pin_init(
            kdev.debugfs
                .read_callback_file(c"pm", kdev.iface.clone(), &write_pm_file),
            GFP_KERNEL,
        )?);
        pm::set_driver_flags(core, cfg.pm_flags);
        kdev.iface.pm_attach(PmDevice::new(dev), cfg.rpm_watch_ms);
        // From here on a panic tells this BMC (`panic_op`).
        panic::add(&kdev.iface);
        kdev.kapi = Some(Registration::new(
            kdev._devnum.0,
            kdev.iface.clone(),
            dev,
            cfg.info,
            id.ipmi_version,
        )?);
        Ok(kdev)
    }
}

impl Drop for KcsDevice {
    fn drop(&mut self) {
        self.kapi.take();
        panic::remove(&self.iface);
        self.bmc.take();
        self.class.take();
        self.misc.take();
        // Runtime PM is off already (`remove_trampoline`), the interface resumed.
        self.iface.pm_detach();
        self.iface.shutdown();
        self.irq.take();
        let s = self.iface.stats();
        dev_info!(
            self.dev,
            "removed: sent {}, responses {}, timeouts {}, events {}, commands {} ({} unhandled), dropped {}\n",
            s.sent, s.responses, s.timeouts, s.events, s.commands, s.unhandled_commands, s.dropped
        );
    }
}

/// The SI device's files, in the order of `ripmi_si_attrs[]` in `src/c/sysfs.c`.
impl KcsDevice {
    /// Writes file `idx`: the handler's `nr_users`, `nr_msgs`, `maintenance_mode`, then
    /// ipmi_si's `type`, `interrupts_enabled` and `params`, in C's formats.
    pub(crate) fn sysfs_show(&self, idx: u32, w: &mut BufWriter<'_>) -> Result {
        let (users, msgs, maint, maint_ms) = self.iface.sysfs_counts();
        let (port, spacing, irq) = self.placement;
        match idx {
            0 => writeln!(w, "{users}"),
            1 => writeln!(w, "{msgs}"),
            2 => writeln!(w, "{maint} {maint_ms}"),
            3 => writeln!(w, "kcs"),
            4 => writeln!(w, "{}", u8::from(self.irq.is_some())),
            // "type,space,address,rsp=,rsi=,rsh=,irq=,ipmb=" (the hotmod syntax): one-byte
            // registers, no shift, and the BMC at C's default slave address 0x20.
            5 => writeln!(
                w,
                "kcs,i/o,{port:#x},rsp={spacing},rsi=1,rsh=0,irq={irq},ipmb={}",
                SI_SLAVE_ADDR
            ),
            _ => return Err(EINVAL),
        }
        .map_err(fmt_err)
    }
}

/// Power management: what the `dev_pm_ops` trampolines of `platform.rs` call. The handler does
/// the work; this adds the IRQ, which it does not own.
impl KcsDevice {
    /// `->prepare`: true when direct-complete may be used (idle and runtime-suspended).
    pub(crate) fn pm_prepare(&self) -> bool {
        self.iface.prepare()
    }

    /// `->complete`: records whether suspend and resume were skipped.
    pub(crate) fn pm_complete(&self) {
        self.iface.complete(pm::direct_complete(&self.dev));
    }

    /// `->suspend`, `->freeze`, `->poweroff`: quiesce, then mask the IRQ.
    pub(crate) fn pm_suspend(&self, phase: Phase) -> Result {
        self.iface.pm_count(phase);
        // The ACPI PM domain resumes a runtime-suspended device before this; the platform bus
        // (a `ports=` device) does not, so do it here: the quiesce starts from a running state.
        pm::runtime_resume_sync(&self.dev);
        self.iface.suspend();
        if let Some(irq) = &self.irq {
            irq.disable();
        }
        Ok(())
    }

    /// `->resume`, `->thaw`, `->restore`: unmask the IRQ, then re-initialise the interface.
    pub(crate) fn pm_resume(&self, phase: Phase) -> Result {
        self.iface.pm_count(phase);
        if let Some(irq) = &self.irq {
            irq.enable();
        }
        self.iface.resume()
    }

    /// `->runtime_suspend`: `EBUSY` while busy; otherwise the watch replaces I/O. The IRQ is
    /// not masked: the line may be shared (`IRQF_SHARED`), and masking it would silence every
    /// other device on it; the handler serves an interrupt meanwhile and asks for a resume.
    pub(crate) fn pm_runtime_suspend(&self) -> Result {
        self.iface.runtime_suspend()
    }

    /// `->runtime_resume`: run the interface again.
    pub(crate) fn pm_runtime_resume(&self) {
        self.iface.runtime_resume();
    }
}

/// Writes the debugfs `pm` file.
fn write_pm_file(iface: &Arc<Interface>, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    let (s, rpm_suspended, dev) = iface.pm_stats();
    let flags = dev.as_ref().map_or(0, PmDevice::driver_flags);
    let status = dev
        .as_ref()
        .map_or("unknown", |d| d.runtime_status().name());
    writeln!(
        f,
        "driver_flags {:#x}\nno_direct_complete {}\nsmart_prepare {}",
        flags,
        u8::from(flags & DPM_FLAG_NO_DIRECT_COMPLETE != 0),
        u8::from(flags & DPM_FLAG_SMART_PREPARE != 0)
    )?;
    writeln!(
        f,
        "runtime_status {}\nrpm_suspended {}\nidle {}",
        status,
        u8::from(rpm_suspended),
        u8::from(iface.is_idle())
    )?;
    writeln!(
        f,
        "prepare {}\nprepare_positive {}\nsuspend {}\nresume {}\nfreeze {}\nthaw {}\npoweroff {}\nrestore {}",
        s.prepare, s.prepare_positive, s.suspend, s.resume, s.freeze, s.thaw, s.poweroff, s.restore
    )?;
    writeln!(
        f,
        "complete {}\ndirect_complete {}\nlast_direct_complete {}",
        s.complete,
        s.direct_complete,
        u8::from(s.last_direct_complete)
    )?;
    writeln!(
        f,
        "runtime_suspend {}\nruntime_suspend_busy {}\nruntime_resume {}\nfailed_at_suspend {}\nwatch_wakeups {}",
        s.runtime_suspend, s.runtime_suspend_busy, s.runtime_resume, s.failed_at_suspend, s.watch_wakeups
    )
}

/// Sends `req` to the BMC, polling the SI from process context, up to `tries` times until
/// `parse` accepts the answer's data (completion code first) (C `try_get_dev_id()`).
///
/// Each try starts from a fresh state machine, so an interface left hosed (or with a request
/// still waiting) by a failed try does not stop the next one: the first step of a new try is
/// the KCS error recovery that clears whatever the hardware was left in.
fn si_command<T>(
    regs: &mut PortIo,
    req: &[u8],
    tries: u32,
    parse: impl Fn(&[u8]) -> Option<T>,
) -> Option<T> {
    for attempt in 0..tries {
        if attempt > 0 {
            fsleep(Delta::from_millis(DEVICE_ID_RETRY_MS));
        }
        let mut si = Si::new(false);
        let mut rsp = [0u8; 24];
        let mut rsp_len = 0;
        let mut sink = |out: SiOutput<'_>| {
            if let SiOutput::Response(r) = out {
                let n = r.len().min(rsp.len());
                rsp[..n].copy_from_slice(&r[..n]);
                rsp_len = n;
            }
        };
        let Ok(mut next) = si.enqueue(regs, req, &mut sink) else {
            continue;
        };
        // Run the state machine with the time that really passed until the transaction ends
        // (or the BMC gave up on it); a timeout leaves `rsp` empty.
        let mut last = Instant::<Monotonic>::now();
        let done = |n: &Next| matches!(n, Next::Idle | Next::Hosed);
        let _ = read_poll_timeout(
            || {
                if !done(&next) {
                    let now = Instant::<Monotonic>::now();
                    let elapsed = u32::try_from((now - last).as_micros_ceil()).unwrap_or(u32::MAX);
                    last = now;
                    next = si.event(regs, elapsed, &mut sink);
                }
                Ok(next)
            },
            done,
            Delta::from_millis(DEVICE_ID_POLL_MS),
            Delta::from_millis(PROBE_TIMEOUT_MS),
        );
        // [netfn, cmd, cc, data...]
        if rsp_len >= 3 && rsp[1] == req[1] {
            if let Some(v) = parse(&rsp[2..rsp_len]) {
                return Some(v);
            }
        }
    }
    None
}

/// Logs what the channel scan found.
fn log_channels(dev: &Device, iface: &Interface) {
    for (chan, medium) in iface.media().iter().enumerate() {
        if let Some(m) = medium {
            dev_info!(dev, "channel {}: medium {:#x}\n", chan, m);
        }
    }
}
