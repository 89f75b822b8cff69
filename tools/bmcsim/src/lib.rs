//! `ripmi-bmcsim`: a host-side BMC simulator that QEMU's `ipmi-bmc-extern` device connects to.
//!
//! The crate is split by concern:
//! - [`frame`]: the VM wire protocol (escaping, checksums, message and control frames);
//! - [`ipmi`]: IPMI constants, checksums and the Get Message body layouts;
//! - [`bmc`]: the simulated BMC itself (pure state machine, no I/O);
//! - [`sdr`]: the sensors and the SDR repository (`--sdr-sensors`);
//! - [`sel`]: the System Event Log (`--sel-entries`);
//! - [`fault`]: fault injection settings for the QEMU link;
//! - [`server`]: the TCP side QEMU connects to, and the shared state;
//! - [`control`]: the line-based control protocol and its Unix socket;
//! - [`hexlog`]: the optional request/response log.

pub mod bmc;
pub mod control;
pub mod fault;
pub mod frame;
pub mod hexlog;
pub mod ipmi;
pub mod sdr;
pub mod sel;
pub mod server;
