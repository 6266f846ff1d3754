//! One error type for every kernel path: the step that failed, the object it was about, and
//! why (an errno with the kernel's extended-ack text, or a reason of our own).

use crate::caps::Cap;
use std::borrow::Cow;
use std::ffi::CStr;
use std::fmt;

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The kernel refused: errno, the netlink extended-ack message when it sent one, and the
    /// capability whose absence an `EPERM` or `EACCES` here means, set where the step is made
    /// (the network's CAP_NET_ADMIN unless said otherwise): what the CLI names in its hint,
    /// whatever the step is called.
    Errno {
        errno: i32,
        ext_ack: Option<String>,
        needs: Cap,
    },
    /// Bad input caught before anything was sent (a name too long, a value out of range).
    Invalid(Cow<'static, str>),
    /// The system's state does not allow the step, found before asking the kernel (a port
    /// that belongs to another bridge, a sysfs view of another namespace).
    State(Cow<'static, str>),
    /// The kernel (or a sysfs file) answered something we could not decode.
    Malformed(Cow<'static, str>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The kernel request or step, named as the kernel names it: `SIOCBRADDBR`, `RTM_NEWLINK`,
    /// `write /sys/class/net/br0/bridge/forward_delay`.
    pub step: Cow<'static, str>,
    /// What it was about: a bridge, a port, a path.
    pub object: String,
    pub cause: Cause,
}

impl Error {
    pub fn errno(
        step: impl Into<Cow<'static, str>>,
        object: impl Into<String>,
        errno: i32,
    ) -> Self {
        Error {
            step: step.into(),
            object: object.into(),
            cause: Cause::Errno {
                errno,
                ext_ack: None,
                needs: Cap::NetAdmin,
            },
        }
    }

    /// A refusal reported by a rustix call.
    pub fn os(
        step: impl Into<Cow<'static, str>>,
        object: impl Into<String>,
        e: rustix::io::Errno,
    ) -> Self {
        Self::errno(step, object, e.raw_os_error())
    }

    /// The errno of the calling thread's last failed syscall.
    pub fn last_os(step: impl Into<Cow<'static, str>>, object: impl Into<String>) -> Self {
        Self::errno(step, object, last_errno())
    }

    pub fn invalid(object: impl Into<String>, why: impl Into<Cow<'static, str>>) -> Self {
        Error {
            step: Cow::Borrowed("check"),
            object: object.into(),
            cause: Cause::Invalid(why.into()),
        }
    }

    pub fn state(object: impl Into<String>, why: impl Into<Cow<'static, str>>) -> Self {
        Error {
            step: Cow::Borrowed("check"),
            object: object.into(),
            cause: Cause::State(why.into()),
        }
    }

    pub fn malformed(
        step: impl Into<Cow<'static, str>>,
        why: impl Into<Cow<'static, str>>,
    ) -> Self {
        Error {
            step: step.into(),
            object: String::new(),
            cause: Cause::Malformed(why.into()),
        }
    }

    /// This error, with the capability its refusal means (see [`Cause::Errno`]).
    pub fn needing(mut self, cap: Cap) -> Self {
        if let Cause::Errno { needs, .. } = &mut self.cause {
            *needs = cap;
        }
        self
    }

    /// The capability an `EPERM` or `EACCES` here means; None when the kernel did not refuse.
    pub fn needs(&self) -> Option<Cap> {
        match self.cause {
            Cause::Errno { needs, .. } => Some(needs),
            _ => None,
        }
    }

    /// The errno, when the kernel refused.
    pub fn os_errno(&self) -> Option<i32> {
        match self.cause {
            Cause::Errno { errno, .. } => Some(errno),
            _ => None,
        }
    }

    pub fn is(&self, errno: i32) -> bool {
        self.os_errno() == Some(errno)
    }

    pub fn ext_ack(&self) -> Option<&str> {
        match &self.cause {
            Cause::Errno { ext_ack, .. } => ext_ack.as_deref(),
            _ => None,
        }
    }

    pub fn is_invalid(&self) -> bool {
        matches!(self.cause, Cause::Invalid(_))
    }

    /// The reason alone, as a person reads it: the kernel's own words when it sent some,
    /// else strerror, else our reason.
    pub fn reason(&self) -> String {
        match &self.cause {
            Cause::Errno {
                errno,
                ext_ack: Some(msg),
                ..
            } => format!("{} ({})", msg, strerror(*errno)),
            Cause::Errno {
                errno,
                ext_ack: None,
                ..
            } => strerror(*errno),
            Cause::Invalid(why) | Cause::State(why) | Cause::Malformed(why) => why.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.cause, self.object.is_empty()) {
            (Cause::Invalid(_) | Cause::State(_), _) => {
                write!(f, "{}: {}", self.object, self.reason())
            }
            (_, true) => write!(f, "{}: {}", self.step, self.reason()),
            (_, false) => write!(f, "{} {}: {}", self.step, self.object, self.reason()),
        }
    }
}

impl std::error::Error for Error {}

pub fn last_errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// The C library's text for an errno, exactly as bridge-utils and iproute2 print it.
pub fn strerror(errno: i32) -> String {
    // SAFETY: strerror returns a pointer to a NUL-terminated string that stays valid until the
    // next strerror call on this thread; it is copied out at once.
    unsafe { CStr::from_ptr(libc::strerror(errno)) }
        .to_string_lossy()
        .into_owned()
}

/// The name the kernel headers give an errno, for --explain (`EEXIST`), or its number.
pub fn errno_name(errno: i32) -> Cow<'static, str> {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::ENXIO => "ENXIO",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EFAULT => "EFAULT",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENOSPC => "ENOSPC",
        libc::ERANGE => "ERANGE",
        libc::ELOOP => "ELOOP",
        libc::ENOBUFS => "ENOBUFS",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EPROTO => "EPROTO",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::EADDRNOTAVAIL => "EADDRNOTAVAIL",
        libc::ENOTTY => "ENOTTY",
        _ => return Cow::Owned(format!("errno {errno}")),
    };
    Cow::Borrowed(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_step_object_and_reason() {
        let e = Error::errno("SIOCBRADDBR", "br0", libc::EEXIST);
        assert_eq!(e.to_string(), "SIOCBRADDBR br0: File exists");
        let e = Error {
            step: "RTM_NEWLINK".into(),
            object: "br0".into(),
            cause: Cause::Errno {
                errno: libc::EINVAL,
                ext_ack: Some("Attribute failed policy validation".into()),
                needs: Cap::NetAdmin,
            },
        };
        assert_eq!(
            e.to_string(),
            "RTM_NEWLINK br0: Attribute failed policy validation (Invalid argument)"
        );
        assert!(e.is(libc::EINVAL));
        assert_eq!(errno_name(libc::ERANGE), "ERANGE");
    }
}
