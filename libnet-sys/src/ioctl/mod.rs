//! The ioctl path: `struct ifreq` and the `SIOC*` calls, made on one control socket that the
//! caller owns (no global socket, unlike bridge-utils' `br_socket_fd`).
//!
//! ioctls on a socket act in the network namespace of the socket, which is the caller's: unlike
//! sysfs, this path is always namespace-correct.

pub mod arp;
pub mod bridge;
pub mod ethtool;
pub mod iface;
pub mod route;

use crate::error::{last_errno, Error, Result};
use crate::ifname::IfName;
use crate::trace::{Access, Trace};
use std::fmt;
use std::os::fd::{AsRawFd, OwnedFd};

// The kernel's `struct ifreq` is 40 bytes on 64-bit targets: IFNAMSIZ + the 24-byte union.
const _: () = assert!(std::mem::size_of::<libc::ifreq>() == 40);

/// An `AF_UNIX` datagram socket, the cheapest socket the kernel routes `SIOC*` ioctls through.
pub struct CtlSocket {
    fd: OwnedFd,
    pub trace: Trace,
}

impl CtlSocket {
    pub fn open(trace: Trace) -> Result<CtlSocket> {
        Self::open_family(libc::AF_UNIX, "socket(AF_UNIX)", trace)
    }

    /// An `AF_INET` datagram socket: the IPv4 address ioctls (`SIOC[GS]IFADDR`, `NETMASK`,
    /// `BRDADDR`) are the inet family's own, so they reach the kernel only through one.
    pub fn open_inet(trace: Trace) -> Result<CtlSocket> {
        Self::open_family(libc::AF_INET, "socket(AF_INET)", trace)
    }

    /// An `AF_INET6` datagram socket: IPv6 routes (`SIOCADDRT` with `struct in6_rtmsg`) reach
    /// the kernel only through one.
    pub fn open_inet6(trace: Trace) -> Result<CtlSocket> {
        Self::open_family(libc::AF_INET6, "socket(AF_INET6)", trace)
    }

    fn open_family(family: i32, step: &'static str, trace: Trace) -> Result<CtlSocket> {
        let family = rustix::net::AddressFamily::from_raw(family as u16);
        let fd = rustix::net::socket_with(
            family,
            rustix::net::SocketType::DGRAM,
            rustix::net::SocketFlags::CLOEXEC,
            None,
        )
        .map_err(|e| Error::os(step, "", e))?;
        Ok(CtlSocket { fd, trace })
    }

    /// One ioctl, shown under --explain and skipped under --dry-run when it writes.
    ///
    /// # Safety
    /// `arg` must point to what the kernel expects for `req`, valid for the whole call.
    pub(crate) unsafe fn call(
        &self,
        req: (libc::c_ulong, &'static str),
        arg: *mut libc::c_void,
        access: Access,
        object: &dyn fmt::Display,
        args: fmt::Arguments,
    ) -> Result<libc::c_int> {
        let (code, name) = req;
        self.trace
            .request(access, format_args!("ioctl {name} {args}"));
        if !self.trace.sends(access) {
            self.trace.outcome(access, Ok(format_args!("0")));
            return Ok(0);
        }
        let ret = libc::ioctl(self.fd.as_raw_fd(), code as _, arg);
        if ret < 0 {
            let errno = last_errno();
            self.trace.outcome(access, Err(errno));
            return Err(Error::errno(name, object.to_string(), errno));
        }
        self.trace.outcome(access, Ok(format_args!("{ret}")));
        Ok(ret)
    }
}

impl CtlSocket {
    /// One `ifreq` ioctl on interface `name`, shown as `{ifr_name="NAME"<shown>}`.
    pub(crate) fn ifr(
        &self,
        req: (libc::c_ulong, &'static str),
        ifr: &mut libc::ifreq,
        access: Access,
        name: &IfName,
        shown: fmt::Arguments,
    ) -> Result<()> {
        // SAFETY: every request routed here reads and writes only the ifreq it is given (or
        // memory ifr_data points at, which the caller keeps alive for the call).
        unsafe {
            self.call(
                req,
                (ifr as *mut libc::ifreq).cast(),
                access,
                name,
                format_args!("{{ifr_name=\"{name}\"{shown}}}"),
            )
        }
        .map(|_| ())
    }
}

/// The ioctl structs, which start all-zero as the C code that fills them does (`memset`).
///
/// # Safety
/// Only for plain C structs of integers, arrays and unions of them, and pointers (null when
/// zero), for which all-zero bytes are a valid value.
pub(crate) unsafe trait Zeroed: Sized {
    fn zeroed() -> Self {
        // SAFETY: the trait's contract: all-zero bytes are a valid Self.
        unsafe { std::mem::zeroed() }
    }
}

// SAFETY: each is a C struct of integers, byte arrays and unions of them (ifconf: a length and
// a pointer, null when zero).
unsafe impl Zeroed for libc::ifreq {}
// SAFETY: as above.
unsafe impl Zeroed for libc::ifconf {}
// SAFETY: as above.
unsafe impl Zeroed for libc::sockaddr {}
// SAFETY: as above.
unsafe impl Zeroed for libc::arpreq {}

/// A zeroed `ifreq` naming `name`.
pub(crate) fn ifreq(name: &IfName) -> libc::ifreq {
    let mut ifr = libc::ifreq::zeroed();
    for (dst, src) in ifr.ifr_name.iter_mut().zip(name.as_ifr_name()) {
        *dst = *src as libc::c_char;
    }
    ifr
}
