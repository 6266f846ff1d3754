//! Network namespaces as a target: a name under `/run/netns` (as iproute2 keeps them), a path
//! to any namespace file, or a process ID. Opened, a target is a file descriptor the kernel
//! takes in `IFLA_NET_NS_FD` or `setns(2)`.

pub mod exec;
pub mod hosts;
pub mod named;
pub mod walk;

use crate::caps::Cap;
use crate::error::{last_errno, Error, Result};
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

/// Where iproute2 (and so nsexec) keeps named namespaces.
pub const RUN_DIR: &str = "/run/netns";

/// `NS_GET_NSTYPE` from <linux/nsfs.h>: `_IO(0xb7, 0x3)`.
const NS_GET_NSTYPE: libc::c_ulong = 0xb703;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NsTarget {
    Name(String),
    Path(String),
    Pid(u32),
}

impl NsTarget {
    /// `ns1` is a name, `/proc/1/ns/net` or `./x` a path, `1234` a PID.
    pub fn parse(s: &str) -> Result<NsTarget> {
        if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
            return s
                .parse()
                .map(NsTarget::Pid)
                .map_err(|_| Error::invalid(s.to_string(), "not a process ID"));
        }
        if s.contains('/') {
            return Ok(NsTarget::Path(s.to_string()));
        }
        check_name(s)?;
        Ok(NsTarget::Name(s.to_string()))
    }

    pub fn path(&self) -> String {
        match self {
            NsTarget::Name(n) => format!("{RUN_DIR}/{n}"),
            NsTarget::Path(p) => p.clone(),
            NsTarget::Pid(p) => format!("/proc/{p}/ns/net"),
        }
    }

    /// Opens the namespace and checks it is a network namespace.
    pub fn open(&self) -> Result<OwnedFd> {
        let path = self.path();
        let shown = self.to_string();
        let fd = match self {
            // A name is a file under RUN_DIR, reached without following a symlink.
            NsTarget::Name(n) => walk::Dir::open(RUN_DIR)
                .and_then(|d| d.open_at(n, libc::O_RDONLY))
                .map_err(|e| match e.os_errno() {
                    Some(errno) => {
                        Error::errno("open", path.clone(), errno).needing(Cap::DacOverride)
                    }
                    None => e,
                })?,
            _ => {
                let c = CString::new(path.clone()).map_err(|_| {
                    Error::invalid(shown.clone(), "a path cannot contain a NUL byte")
                })?;
                use rustix::fs::{Mode, OFlags};
                rustix::fs::open(
                    c.as_c_str(),
                    OFlags::RDONLY | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| {
                    // Another user's /proc/PID/ns/net is theirs to give.
                    let cap = if path.starts_with("/proc/") {
                        Cap::SysPtrace
                    } else {
                        Cap::DacOverride
                    };
                    Error::os("open", path.clone(), e).needing(cap)
                })?
            }
        };
        // SAFETY: NS_GET_NSTYPE takes no argument and returns the CLONE_NEW* type.
        let ty = unsafe { libc::ioctl(fd.as_raw_fd(), NS_GET_NSTYPE as _) };
        if ty < 0 {
            let errno = last_errno();
            return Err(Error::state(
                shown,
                format!(
                    "{path} is not a namespace ({})",
                    crate::error::strerror(errno)
                ),
            ));
        }
        if ty != libc::CLONE_NEWNET {
            return Err(Error::state(
                shown,
                format!("{path} is a namespace, but not a network namespace"),
            ));
        }
        Ok(fd)
    }
}

impl std::fmt::Display for NsTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NsTarget::Name(n) | NsTarget::Path(n) => f.write_str(n),
            NsTarget::Pid(p) => write!(f, "{p}"),
        }
    }
}

/// Runs `f` with this thread in the network namespace open on `fd`, then comes back. Sockets
/// made inside keep that namespace for their whole life, so this is how a request reaches a
/// namespace that rtnetlink cannot address by id (a name lookup there, before it has an id).
pub fn within<T>(fd: &OwnedFd, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let home = NsTarget::Path("/proc/thread-self/ns/net".into()).open()?;
    setns(fd, "setns(CLONE_NEWNET)")?;
    let res = f();
    // Not getting back would leave every later step in the wrong namespace: that is an error
    // however `f` went.
    setns(&home, "setns back to our own namespace")?;
    res
}

fn setns(fd: &OwnedFd, step: &'static str) -> Result<()> {
    use rustix::thread::{move_into_link_name_space, LinkNameSpaceType};
    move_into_link_name_space(fd.as_fd(), Some(LinkNameSpaceType::Network))
        .map_err(|e| Error::os(step, "", e))
}

/// The names under [`RUN_DIR`], sorted; none when it does not exist or cannot be read.
pub fn names() -> Vec<String> {
    walk::Dir::open(RUN_DIR)
        .and_then(|d| d.entries())
        .unwrap_or_default()
}

/// Whether two open namespaces are the same one (same nsfs inode).
pub fn same(a: &OwnedFd, b: &OwnedFd) -> Result<bool> {
    let id = |fd: &OwnedFd| -> Result<(u64, u64)> {
        let st = rustix::fs::fstat(fd).map_err(|e| Error::os("fstat", "namespace", e))?;
        Ok((st.st_dev as u64, st.st_ino as u64))
    };
    Ok(id(a)? == id(b)?)
}

/// A namespace name as iproute2 accepts it: not empty, not `.` or `..`, no `/` or NUL, at most
/// `NAME_MAX` (255) bytes.
pub fn check_name(s: &str) -> Result<()> {
    let why = if s.is_empty() {
        "a namespace name cannot be empty"
    } else if s == "." || s == ".." {
        "\".\" and \"..\" are not namespace names"
    } else if s.contains('/') || s.contains('\0') {
        "a namespace name cannot contain '/' or a NUL byte"
    } else if s.len() > 255 {
        "a namespace name is at most 255 bytes"
    } else {
        return Ok(());
    };
    Err(Error::invalid(s.to_string(), why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_as_name_path_or_pid() {
        assert_eq!(
            NsTarget::parse("left").unwrap(),
            NsTarget::Name("left".into())
        );
        assert_eq!(NsTarget::parse("1234").unwrap(), NsTarget::Pid(1234));
        assert_eq!(
            NsTarget::parse("/proc/1/ns/net").unwrap().path(),
            "/proc/1/ns/net"
        );
        assert_eq!(NsTarget::parse("left").unwrap().path(), "/run/netns/left");
        for bad in ["", ".", ".."] {
            assert!(NsTarget::parse(bad).unwrap_err().is_invalid(), "{bad:?}");
        }
        assert!(NsTarget::parse(&"x".repeat(256)).is_err());
        assert!(NsTarget::parse(&"x".repeat(255)).is_ok());
    }

    #[test]
    fn a_file_that_is_not_a_namespace_is_refused() {
        let e = NsTarget::Path("/proc/self/status".into())
            .open()
            .unwrap_err();
        assert!(e.reason().contains("is not a namespace"), "{e}");
        // Our own network namespace opens (read-only: nothing is changed).
        assert!(NsTarget::Path("/proc/self/ns/net".into()).open().is_ok());
        assert!(NsTarget::Path("/proc/self/ns/mnt".into())
            .open()
            .unwrap_err()
            .reason()
            .contains("not a network namespace"));
    }
}
