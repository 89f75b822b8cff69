//! `kernel::error`: an errno, and `Result` defaulting to it.

use core::convert::Infallible;
use core::fmt;

use crate::alloc::AllocError;

/// A negative errno, as the kernel's `Error`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Error(i32);

/// The kernel's `Result`.
pub type Result<T = (), E = Error> = core::result::Result<T, E>;

impl Error {
    /// The errno, negative.
    pub fn to_errno(self) -> i32 {
        self.0
    }

    /// An error from a negative errno.
    pub fn from_errno(errno: i32) -> Error {
        Error(errno)
    }

    fn name(self) -> Option<&'static str> {
        code::NAMES
            .iter()
            .find(|(e, _)| *e == self)
            .map(|(_, n)| *n)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "Error({})", self.0),
        }
    }
}

impl From<AllocError> for Error {
    fn from(_: AllocError) -> Error {
        code::ENOMEM
    }
}

impl From<Infallible> for Error {
    fn from(e: Infallible) -> Error {
        match e {}
    }
}

/// The errno constants.
pub mod code {
    use super::Error;

    macro_rules! codes {
        ($($name:ident = $n:literal,)*) => {
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                pub const $name: Error = Error(-$n);
            )*
            pub(super) const NAMES: &[(Error, &str)] = &[$(($name, stringify!($name)),)*];
        };
    }

    codes! {
        EPERM = 1,
        ENOENT = 2,
        EINTR = 4,
        EIO = 5,
        ENXIO = 6,
        E2BIG = 7,
        EBADF = 9,
        EAGAIN = 11,
        ENOMEM = 12,
        EFAULT = 14,
        EBUSY = 16,
        EEXIST = 17,
        ENODEV = 19,
        EINVAL = 22,
        ENOSPC = 28,
        ERANGE = 34,
        ENOMSG = 42,
        ENOTTY = 25,
        EMSGSIZE = 90,
        EOPNOTSUPP = 95,
        EAFNOSUPPORT = 97,
        ETIMEDOUT = 110,
    }
}
