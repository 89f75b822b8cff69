//! Host double of `src/kcs/io.rs` (port I/O and IRQ wiring, `cfg(MODULE)` only).

use crate::kcs::sm::KcsRegisters;

/// Something that services an interrupt (as `src/kcs/io.rs`).
pub(crate) trait IrqHandler: Send + Sync {
    /// Handles the interrupt; returns whether it was ours.
    fn handle_irq(&self) -> bool;
}

/// The KCS I/O ports: there are none on the host, so no value of this type exists.
pub(crate) enum PortIo {}

impl KcsRegisters for PortIo {
    fn read_status(&mut self) -> u8 {
        match *self {}
    }
    fn read_data(&mut self) -> u8 {
        match *self {}
    }
    fn write_data(&mut self, _v: u8) {
        match *self {}
    }
    fn write_cmd(&mut self, _v: u8) {
        match *self {}
    }
}
