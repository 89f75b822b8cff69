// SPDX-License-Identifier: GPL-2.0

//! The errno values of ripmi's pure code, and their conversion into the kernel's [`Error`].
//!
//! The pure files (`addr.rs`, `message.rs`, `seq.rs`, `receivers.rs`) call no kernel API, so
//! they fail with an [`Errno`]; the kernel glue turns it into an [`Error`] with `?`. As in Rust
//! Binder's `error.rs`, the two layers are kept apart: errno values for failed system calls
//! here, IPMI completion codes (`defs::Cc`) inside messages.

use kernel::error::{code::*, Error};

/// An errno value produced by ripmi's pure code.
///
/// Each variant is the `kernel::error::code` of the same name (see the [`From`] impl); they are
/// the values C returns in the same cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Errno {
    /// `EINVAL`: a bad address, LUN, network function or command.
    Inval,
    /// `EMSGSIZE`: the message does not fit in `IPMI_MAX_MSG_LENGTH` once formatted.
    MsgSize,
    /// `EAFNOSUPPORT`: an IPMB direct address, which the KCS interface cannot carry.
    AfNoSupport,
    /// `EAGAIN`: all 64 sequence numbers are in use.
    Again,
    /// `EBUSY`: the BMC is being reset (maintenance mode), so no request may be sent; or a
    /// command registration overlaps another.
    Busy,
    /// `ENOENT`: a command unregistration matched nothing of the caller's.
    NoEnt,
}

impl From<Errno> for Error {
    fn from(e: Errno) -> Error {
        match e {
            Errno::Inval => EINVAL,
            Errno::MsgSize => EMSGSIZE,
            Errno::AfNoSupport => EAFNOSUPPORT,
            Errno::Again => EAGAIN,
            Errno::Busy => EBUSY,
            Errno::NoEnt => ENOENT,
        }
    }
}
