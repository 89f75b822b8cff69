// SPDX-License-Identifier: GPL-2.0

//! One bound KCS BMC: its I/O region, IRQ, message handler and `/dev/ipmiN`, brought up at
//! probe and torn down in reverse order on unbind.
//!
//! C counterparts: `try_smi_init()` and `cleanup_one_si()` in
//! [`ipmi_si_intf.c`](srctree/drivers/char/ipmi/ipmi_si_intf.c), `try_get_dev_id()`, and the
//! interface registration of `ipmi_register_smi()`.

use core::sync::atomic::{AtomicU64, Ordering};

use kernel::{
    debugfs::{Dir, File},
    prelude::*,
    str::CString,
    sync::Arc,
    time::{delay::fsleep, Delta},
};

use crate::defs::{netfn_lun, Cc, IPMI_GET_DEVICE_ID_CMD, IPMI_NETFN_APP_REQUEST};
use crate::devintf::MiscDev;
use crate::handler::{KcsInterface as Interface, KernelClock};
use crate::kcs::io::{IoRegion, IrqRegistration, PortIo};
use crate::pm::{self, Phase, RawDev};
use crate::si::{Next, Si, SiOutput};

/// How long probe waits for the BMC to answer Get Device ID, and for the channel scan.
const PROBE_TIMEOUT_MS: u32 = 5000;
/// Get Device ID attempts at probe (C `GET_DEVICE_ID_MAX_RETRY`).
const GET_DEVICE_ID_TRIES: u32 = 5;
/// The Get Device ID request.
const GET_DEVICE_ID: [u8; 2] = [netfn_lun(IPMI_NETFN_APP_REQUEST, 0), IPMI_GET_DEVICE_ID_CMD];

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
    /// `max_users`.
    pub(crate) max_users: usize,
    /// `max_msgs_per_user`.
    pub(crate) max_msgs: usize,
    /// The device being bound, for power management.
    pub(crate) dev: RawDev,
    /// `power.driver_flags` to set.
    pub(crate) pm_flags: u32,
    /// `rpm_watch_ms`.
    pub(crate) rpm_watch_ms: u32,
    /// `poll_max_busy_us`.
    pub(crate) poll_max_busy_us: u32,
}

/// A bound BMC.
///
/// The fields are torn down in [`Drop`] in this order: the device node (no new opens), the
/// handler's I/O (`shutdown`), the IRQ, and last the I/O region.
pub(crate) struct KcsDevice {
    misc: Option<Pin<KBox<MiscDev>>>,
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
    /// The bound device (runtime PM on it is turned on and off by `src/platform.rs`).
    dev: RawDev,
    /// `/sys/kernel/debug/ripmi-ipmiN/`: counters and state for debugging; files hang off it.
    debugfs: Dir,
    irq: Option<IrqRegistration<Interface>>,
    iface: Arc<Interface>,
    /// The N of `/dev/ipmiN` and of the debugfs directory; given back after both are gone.
    _devnum: DevNum,
    // Declared last: released after everything that uses the ports.
    _region: IoRegion,
}

impl KcsDevice {
    /// Probes the BMC at `cfg` and brings the interface up.
    pub(crate) fn probe(cfg: &KcsConfig) -> Result<Self> {
        let region = IoRegion::request(cfg.port, cfg.spacing)?;
        let mut regs = region.ports();
        if !Si::new(false).detect(&mut regs) {
            pr_err!("no KCS interface answers at {:#x}\n", region.start());
            return Err(ENODEV);
        }
        let id = get_device_id(&mut regs)?;
        pr_info!(
            "KCS BMC at {:#x}, irq {}: device id {:#x}, revision {}, firmware {}.{:02x}, IPMI {}.{}, manufacturer {:#08x}, product {:#06x}\n",
            region.start(),
            cfg.irq,
            id.device_id,
            id.revision,
            id.fw_major,
            id.fw_minor,
            id.ipmi_version & 0xf,
            id.ipmi_version >> 4,
            id.manufacturer,
            id.product
        );

        // With an IRQ: if the line cannot be had, run polled, as C does.
        let new_iface = |has_irq| {
            Interface::new(
                regs,
                KernelClock::new(),
                has_irq,
                cfg.max_users,
                cfg.max_msgs,
                cfg.poll_max_busy_us,
            )
        };
        let (iface, irq) = if cfg.irq != 0 {
            let iface = new_iface(true)?;
            // SAFETY: `iface` is kept alive by `KcsDevice::iface`, which is dropped after `irq`.
            match unsafe { IrqRegistration::request(cfg.irq, &*iface) } {
                Ok(reg) => (iface, Some(reg)),
                Err(e) => {
                    pr_warn!("cannot claim irq {} ({:?}), running polled\n", cfg.irq, e);
                    (new_iface(false)?, None)
                }
            }
        } else {
            (new_iface(false)?, None)
        };
        let devnum = DevNum::take(cfg.devnum)?;
        let dir_name = CString::try_from_fmt(fmt!("ripmi-ipmi{}", devnum.0))?;
        let mut dev = KcsDevice {
            misc: None,
            _stats: None,
            _channels: None,
            #[cfg(ripmi_test)]
            _bench: None,
            _pm: None,
            dev: cfg.dev,
            debugfs: Dir::new(&dir_name),
            irq,
            iface,
            _devnum: devnum,
            _region: region,
        };
        dev.iface.start()?;
        let mut waited = 0;
        while !dev.iface.channels_ready() {
            if waited >= PROBE_TIMEOUT_MS {
                pr_err!("the channel scan did not finish\n");
                return Err(ETIMEDOUT);
            }
            fsleep(Delta::from_millis(2));
            waited += 2;
        }
        log_channels(&dev.iface);
        dev._stats = Some(KBox::pin_init(
            dev.debugfs.read_callback_file(
                c"stats",
                dev.iface.clone(),
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
        dev._channels = Some(KBox::pin_init(
            dev.debugfs.read_callback_file(
                c"channels",
                dev.iface.clone(),
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
            dev._bench = Some(KBox::pin_init(
                dev.debugfs.write_callback_file(
                    c"bench_dispatch",
                    (),
                    &|(): &(), _reader: &mut kernel::uaccess::UserSliceReader| {
                        crate::bench::dispatch()
                    },
                ),
                GFP_KERNEL,
            )?);
        }
        let misc = MiscDev::register(dev.iface.clone(), dev._devnum.0)?;
        pr_info!(
            "/dev/{} ready ({})\n",
            misc.name().to_str().unwrap_or("ipmi?"),
            if dev.irq.is_some() {
                "interrupt driven"
            } else {
                "polled"
            }
        );
        dev.misc = Some(misc);
        dev._pm = Some(KBox::pin_init(
            dev.debugfs
                .read_callback_file(c"pm", dev.iface.clone(), &write_pm_file),
            GFP_KERNEL,
        )?);
        pm::set_driver_flags(cfg.dev, cfg.pm_flags);
        dev.iface.pm_attach(cfg.dev, cfg.rpm_watch_ms);
        Ok(dev)
    }
}

impl Drop for KcsDevice {
    fn drop(&mut self) {
        self.misc.take();
        // Runtime PM is off already (`remove_trampoline`), the interface resumed.
        self.iface.pm_detach();
        self.iface.shutdown();
        self.irq.take();
        let s = self.iface.stats();
        pr_info!(
            "removed: sent {}, responses {}, timeouts {}, events {}, commands {} ({} unhandled), dropped {}\n",
            s.sent, s.responses, s.timeouts, s.events, s.commands, s.unhandled_commands, s.dropped
        );
    }
}

/// Power management: what the `dev_pm_ops` trampolines of `src/pm.rs` call. The handler does
/// the work; this adds the IRQ, which it does not own.
impl KcsDevice {
    /// `->prepare`: true when direct-complete may be used (idle and runtime-suspended).
    pub(crate) fn pm_prepare(&self) -> bool {
        self.iface.prepare()
    }

    /// `->complete`: records whether suspend and resume were skipped.
    pub(crate) fn pm_complete(&self) {
        self.iface.complete(pm::direct_complete(self.dev));
    }

    /// `->suspend`, `->freeze`, `->poweroff`: quiesce, then mask the IRQ.
    pub(crate) fn pm_suspend(&self, phase: Phase) -> Result {
        self.iface.pm_count(|s| match phase {
            Phase::Freeze => s.freeze += 1,
            Phase::Poweroff => s.poweroff += 1,
            _ => s.suspend += 1,
        });
        // The ACPI PM domain resumes a runtime-suspended device before this; the platform bus
        // (a `ports=` device) does not, so do it here: the quiesce starts from a running state.
        pm::runtime_resume_sync(self.dev);
        self.iface.suspend();
        if let Some(irq) = &self.irq {
            irq.disable();
        }
        Ok(())
    }

    /// `->resume`, `->thaw`, `->restore`: unmask the IRQ, then re-initialise the interface.
    pub(crate) fn pm_resume(&self, phase: Phase) -> Result {
        self.iface.pm_count(|s| match phase {
            Phase::Thaw => s.thaw += 1,
            Phase::Restore => s.restore += 1,
            _ => s.resume += 1,
        });
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
    let flags = dev.driver_flags();
    let status = match dev.runtime_status() {
        kernel::bindings::rpm_status_RPM_ACTIVE => "active",
        kernel::bindings::rpm_status_RPM_RESUMING => "resuming",
        kernel::bindings::rpm_status_RPM_SUSPENDED => "suspended",
        kernel::bindings::rpm_status_RPM_SUSPENDING => "suspending",
        _ => "unknown",
    };
    writeln!(
        f,
        "driver_flags {:#x}\nno_direct_complete {}\nsmart_prepare {}",
        flags,
        u8::from(flags & pm::DPM_FLAG_NO_DIRECT_COMPLETE != 0),
        u8::from(flags & pm::DPM_FLAG_SMART_PREPARE != 0)
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

/// The fields of a Get Device ID response that probe logs.
struct DeviceId {
    device_id: u8,
    revision: u8,
    fw_major: u8,
    fw_minor: u8,
    ipmi_version: u8,
    manufacturer: u32,
    product: u16,
}

/// Asks the BMC for its Device ID, polling the SI from process context (C `try_get_dev_id()`).
///
/// Each try starts from a fresh state machine, so an interface left hosed (or with a request
/// still waiting) by a failed try does not stop the next one: the first step of a new try is
/// the KCS error recovery that clears whatever the hardware was left in.
fn get_device_id(regs: &mut PortIo) -> Result<DeviceId> {
    for attempt in 0..GET_DEVICE_ID_TRIES {
        if attempt > 0 {
            fsleep(Delta::from_millis(100));
        }
        let mut si = Si::new(false);
        let mut rsp = [0u8; 20];
        let mut rsp_len = 0;
        let mut sink = |out: SiOutput<'_>| {
            if let SiOutput::Response(r) = out {
                let n = r.len().min(rsp.len());
                rsp[..n].copy_from_slice(&r[..n]);
                rsp_len = n;
            }
        };
        let Ok(mut next) = si.enqueue(regs, &GET_DEVICE_ID, &mut sink) else {
            continue;
        };
        let mut waited_us = 0u32;
        while waited_us < PROBE_TIMEOUT_MS * 1000 && !matches!(next, Next::Idle | Next::Hosed) {
            let step = if next == Next::Now { 0 } else { 1000 };
            if step > 0 {
                fsleep(Delta::from_micros(step.into()));
            }
            waited_us += step.max(1);
            next = si.event(regs, step, &mut sink);
        }
        // [netfn, cmd, cc, device id, revision, fw1, fw2, ipmi version, support, mfg(3), prod(2)]
        if rsp_len >= 14 && Cc(rsp[2]) == Cc::OK {
            return Ok(DeviceId {
                device_id: rsp[3],
                revision: rsp[4] & 0xf,
                fw_major: rsp[5] & 0x7f,
                fw_minor: rsp[6],
                ipmi_version: rsp[7],
                manufacturer: u32::from_le_bytes([rsp[9], rsp[10], rsp[11], 0]),
                product: u16::from_le_bytes([rsp[12], rsp[13]]),
            });
        }
    }
    pr_err!("the BMC did not answer Get Device ID\n");
    Err(ENODEV)
}

/// Logs what the channel scan found.
fn log_channels(iface: &Interface) {
    for (chan, medium) in iface.media().iter().enumerate() {
        if let Some(m) = medium {
            pr_info!("channel {}: medium {:#x}\n", chan, m);
        }
    }
}
