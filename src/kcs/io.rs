// SPDX-License-Identifier: GPL-2.0

//! KCS port I/O, I/O-region reservation and IRQ wiring: the hardware edge of the KCS driver.
//!
//! The kernel crate has no `inb`/`outb` (they are static inline C), so they are `asm!` here.
//! C counterparts: `port_inb()`/`port_outb()` and `port_setup()` in
//! [`ipmi_si_port_io.c`](srctree/drivers/char/ipmi/ipmi_si_port_io.c), and the IRQ handling of
//! [`ipmi_si_intf.c`](srctree/drivers/char/ipmi/ipmi_si_intf.c).

use core::arch::asm;

use kernel::{bindings, prelude::*, revocable::Revocable, sync::Arc};

use super::sm::KcsRegisters;

/// The value a read of an I/O port gives when nothing drives the bus, and what [`PortIo`]
/// reads once its region is taken back.
const FLOATING_BUS: u8 = 0xff;

/// The largest distance between the data and status registers that `regspacing=` accepts.
const MAX_REGSPACING: u16 = 16;

/// The two KCS registers of a reserved I/O region, for an interface to drive.
///
/// It reaches the region through a [`Revocable`]: when the device goes away, [`SharedRegion`]
/// takes the region back (and releases the ports) even if the interface lives on in open
/// files; from then on reads give [`FLOATING_BUS`] and writes go nowhere. So a `PortIo` can
/// never touch a port the driver no longer holds.
pub(crate) struct PortIo(Arc<Revocable<IoRegion>>);

impl KcsRegisters for PortIo {
    fn read_status(&mut self) -> u8 {
        self.0
            .try_access_with(|r| r.read(r.status()))
            .unwrap_or(FLOATING_BUS)
    }
    fn read_data(&mut self) -> u8 {
        self.0
            .try_access_with(|r| r.read(r.start))
            .unwrap_or(FLOATING_BUS)
    }
    fn write_cmd(&mut self, v: u8) {
        self.0.try_access_with(|r| r.write(r.status(), v));
    }
    fn write_data(&mut self, v: u8) {
        self.0.try_access_with(|r| r.write(r.start, v));
    }
}

/// An [`IoRegion`] shared with the [`PortIo`]s that drive it; taken back on drop.
pub(crate) struct SharedRegion {
    region: Arc<Revocable<IoRegion>>,
    start: u16,
}

impl SharedRegion {
    /// Shares `region`.
    pub(crate) fn new(region: IoRegion) -> Result<Self> {
        let start = region.start;
        Ok(SharedRegion {
            region: Arc::pin_init(Revocable::new(region), GFP_KERNEL)?,
            start,
        })
    }

    /// The KCS registers of the region.
    pub(crate) fn ports(&self) -> PortIo {
        PortIo(self.region.clone())
    }

    /// The data register's port.
    pub(crate) fn start(&self) -> u16 {
        self.start
    }
}

impl Drop for SharedRegion {
    /// Takes the region back from every [`PortIo`]: waits for the accesses under way (an RCU
    /// grace period), then releases the ports. Process context.
    fn drop(&mut self) {
        self.region.revoke();
    }
}

/// Reads one byte from an I/O port.
///
/// # Safety
///
/// `port` must belong to a region this driver reserved.
unsafe fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: `in` has no memory effects; the port is ours (caller).
    unsafe {
        asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack, preserves_flags))
    };
    v
}

/// Writes one byte to an I/O port.
///
/// # Safety
///
/// `port` must belong to a region this driver reserved.
unsafe fn outb(port: u16, v: u8) {
    // SAFETY: `out` has no memory effects; the port is ours (caller).
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags))
    };
}

/// The two reserved KCS register ports (data and status/command); released on drop.
///
/// Each register is reserved on its own, one byte, as C `port_setup()` does: firmware often
/// describes each register as its own resource, and one request spanning both would not nest.
///
/// # Invariants
///
/// `start` and `start + spacing` are each reserved in `ioport_resource` by this value.
pub(crate) struct IoRegion {
    start: u16,
    spacing: u16,
}

/// Reserves one I/O port, or returns false if it is taken.
fn request_port(port: u16) -> bool {
    // SAFETY: `ioport_resource` is the kernel's root I/O resource, valid for the whole kernel
    // lifetime; the name is a static C string.
    let res = unsafe {
        bindings::__request_region(
            &raw mut bindings::ioport_resource,
            port.into(),
            1,
            c"ripmi".as_char_ptr(),
            0,
        )
    };
    !res.is_null()
}

/// Releases one I/O port reserved by [`request_port`].
fn release_port(port: u16) {
    // SAFETY: The caller reserved the port with `request_port`.
    unsafe { bindings::__release_region(&raw mut bindings::ioport_resource, port.into(), 1) };
}

impl IoRegion {
    /// Reserves the KCS data register at `start` and the status register `spacing` bytes
    /// further, or fails with `EBUSY` if another driver (such as `ipmi_si`) holds them; the
    /// caller says so (platform probe names the holder).
    pub(crate) fn request(start: u64, spacing: u32) -> Result<Self> {
        let start = u16::try_from(start).map_err(|_| EINVAL)?;
        let spacing = u16::try_from(spacing)
            .ok()
            .filter(|s| (1..=MAX_REGSPACING).contains(s))
            .ok_or(EINVAL)?;
        let status = start.checked_add(spacing).ok_or(EINVAL)?;
        if !request_port(start) {
            return Err(EBUSY);
        }
        if !request_port(status) {
            release_port(start);
            return Err(EBUSY);
        }
        // INVARIANT: both ports were just reserved.
        Ok(IoRegion { start, spacing })
    }

    /// The status/command register's port.
    fn status(&self) -> u16 {
        self.start + self.spacing
    }

    /// Reads the register at `port`, one of this region's two.
    fn read(&self, port: u16) -> u8 {
        // SAFETY: `port` is `start` or `status()`, reserved by this region (type invariants).
        unsafe { inb(port) }
    }

    /// Writes `v` to the register at `port`, one of this region's two.
    fn write(&self, port: u16, v: u8) {
        // SAFETY: As in `read`.
        unsafe { outb(port, v) }
    }
}

impl Drop for IoRegion {
    fn drop(&mut self) {
        // Both were reserved by this value (type invariants).
        release_port(self.status());
        release_port(self.start);
    }
}

/// Something that services an interrupt.
pub(crate) trait IrqHandler: Send + Sync {
    /// Handles the interrupt; returns whether it was ours.
    fn handle_irq(&self) -> bool;
}

/// A requested interrupt line, freed on drop; it keeps its handler alive until then.
///
/// # Invariants
///
/// `irq` was requested with `dev_id` `Arc::as_ptr(&handler)`.
pub(crate) struct IrqRegistration<T: IrqHandler> {
    irq: u32,
    handler: Arc<T>,
}

/// The C entry point of the interrupt.
///
/// # Safety
///
/// `dev_id` is the pointer given to `request_threaded_irq` by [`IrqRegistration::request`].
unsafe extern "C" fn irq_trampoline<T: IrqHandler>(
    _irq: kernel::ffi::c_int,
    dev_id: *mut kernel::ffi::c_void,
) -> bindings::irqreturn_t {
    // SAFETY: `dev_id` points at the `T` that the registration's `Arc` keeps alive until
    // `free_irq` returns (type invariants).
    let handler = unsafe { &*dev_id.cast::<T>() };
    if handler.handle_irq() {
        bindings::irqreturn::IRQ_HANDLED
    } else {
        bindings::irqreturn::IRQ_NONE
    }
}

impl<T: IrqHandler> IrqRegistration<T> {
    /// Requests `irq` (shared, as C `ipmi_si` does) for `handler`.
    pub(crate) fn request(irq: u32, handler: Arc<T>) -> Result<Self> {
        let dev_id = Arc::as_ptr(&handler);
        // SAFETY: The trampoline matches the C signature; `dev_id` stays valid until `free_irq`,
        // since `handler` is kept in the registration; the name is a static C string.
        let ret = unsafe {
            bindings::request_threaded_irq(
                irq,
                Some(irq_trampoline::<T>),
                None,
                bindings::IRQF_SHARED as kernel::ffi::c_ulong,
                c"ripmi".as_char_ptr(),
                dev_id.cast_mut().cast(),
            )
        };
        kernel::error::to_result(ret)?;
        // INVARIANT: requested with `Arc::as_ptr(&handler)`.
        Ok(IrqRegistration { irq, handler })
    }

    /// Masks the line and waits for a running handler to finish (`disable_irq()`); calls nest.
    pub(crate) fn disable(&self) {
        // SAFETY: The line is requested while `self` exists (type invariants).
        unsafe { bindings::disable_irq(self.irq) };
    }

    /// Undoes one [`IrqRegistration::disable`] (`enable_irq()`).
    pub(crate) fn enable(&self) {
        // SAFETY: As above.
        unsafe { bindings::enable_irq(self.irq) };
    }
}

impl<T: IrqHandler> Drop for IrqRegistration<T> {
    fn drop(&mut self) {
        // SAFETY: The line was requested with this `dev_id` (type invariants); `free_irq` waits
        // for a running handler to finish, and `handler` is dropped only after it.
        unsafe { bindings::free_irq(self.irq, Arc::as_ptr(&self.handler).cast_mut().cast()) };
    }
}
