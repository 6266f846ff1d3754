//! `SIOCADDRT` / `SIOCDELRT`: routes the way `route(8)` makes them, `struct rtentry` on an
//! `AF_INET` socket and `struct in6_rtmsg` on an `AF_INET6` one.
//!
//! What the kernel makes of them (net/ipv4/fib_frontend.c, net/ipv6/route.c): the main table
//! only, protocol boot, type unicast, scope universe with a gateway and link without; the
//! metric is `rt_metric - 1` on IPv4 (a `short`, so 0..32766 can be said) and `rtmsg_metric`
//! on IPv6 (where 0 means the default, 1024). The add is `NLM_F_CREATE` without `NLM_F_EXCL`.

use super::{CtlSocket, Zeroed};
use crate::error::{Error, Result};
use crate::ifname::IfName;
use crate::trace::Access;
use std::net::{Ipv4Addr, Ipv6Addr};

pub const SIOCADDRT: (libc::c_ulong, &str) = (0x890b, "SIOCADDRT");
pub const SIOCDELRT: (libc::c_ulong, &str) = (0x890c, "SIOCDELRT");

// <linux/route.h>
pub const RTF_UP: u16 = 0x0001;
pub const RTF_GATEWAY: u16 = 0x0002;
pub const RTF_HOST: u16 = 0x0004;
/// The largest IPv4 metric `rt_metric` (a `short`, minus one) can carry.
pub const MAX_V4_METRIC: u32 = i16::MAX as u32 - 1;

/// `struct rtentry` (<linux/route.h>); 120 bytes on 64-bit targets.
#[repr(C)]
pub struct RtEntry {
    pub rt_pad1: libc::c_ulong,
    pub rt_dst: libc::sockaddr,
    pub rt_gateway: libc::sockaddr,
    pub rt_genmask: libc::sockaddr,
    pub rt_flags: u16,
    pub rt_pad2: i16,
    pub rt_pad3: libc::c_ulong,
    pub rt_pad4: *mut libc::c_void,
    pub rt_metric: i16,
    pub rt_dev: *mut libc::c_char,
    pub rt_mtu: libc::c_ulong,
    pub rt_window: libc::c_ulong,
    pub rt_irtt: u16,
}
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<RtEntry>() == 120);

/// `struct in6_rtmsg` (<linux/ipv6_route.h>); 80 bytes on 64-bit targets.
#[repr(C)]
pub struct In6RtMsg {
    pub rtmsg_dst: [u8; 16],
    pub rtmsg_src: [u8; 16],
    pub rtmsg_gateway: [u8; 16],
    pub rtmsg_type: u32,
    pub rtmsg_dst_len: u16,
    pub rtmsg_src_len: u16,
    pub rtmsg_metric: u32,
    pub rtmsg_info: libc::c_ulong,
    pub rtmsg_flags: u32,
    pub rtmsg_ifindex: i32,
}
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<In6RtMsg>() == 80);

/// A route as `route(8)` says it: destination and prefix, optional gateway, device, metric.
pub struct RouteV4<'a> {
    pub dst: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Option<Ipv4Addr>,
    pub dev: Option<&'a IfName>,
    pub metric: Option<u32>,
}

pub struct RouteV6 {
    pub dst: Ipv6Addr,
    pub prefix: u8,
    pub gateway: Option<Ipv6Addr>,
    pub ifindex: Option<u32>,
    pub metric: Option<u32>,
}

/// `rt_metric` for a metric (0 = none given, else metric + 1), or the error for one a `short`
/// cannot carry.
pub fn v4_metric(metric: Option<u32>) -> Result<i16> {
    match metric {
        Some(m) if m > MAX_V4_METRIC => Err(Error::invalid(
            format!("metric {m}"),
            format!(
                "SIOCADDRT carries IPv4 metrics 0 to {MAX_V4_METRIC} (struct rtentry's \
                 rt_metric is a short); use --via netlink"
            ),
        )),
        Some(m) => Ok(m as i16 + 1),
        None => Ok(0),
    }
}

/// `rtmsg_metric` for a metric (0 = none given), or the error for metric 0, which it cannot say.
pub fn v6_metric(metric: Option<u32>) -> Result<u32> {
    match metric {
        Some(0) => Err(Error::invalid(
            "metric 0",
            "the kernel reads an IPv6 metric of 0 as its default, 1024, on every path; give \
             1 or more",
        )),
        m => Ok(m.unwrap_or(0)),
    }
}

fn request(add: bool) -> (libc::c_ulong, &'static str) {
    if add {
        SIOCADDRT
    } else {
        SIOCDELRT
    }
}

impl CtlSocket {
    /// `SIOCADDRT` (add) or `SIOCDELRT` with a `struct rtentry`; needs an `AF_INET` socket.
    pub fn route_v4(&self, add: bool, r: &RouteV4) -> Result<()> {
        let metric = v4_metric(r.metric)?;
        let mut dev: Vec<libc::c_char> = match r.dev {
            Some(d) => d
                .as_str()
                .bytes()
                .map(|b| b as libc::c_char)
                .chain([0])
                .collect(),
            None => Vec::new(),
        };
        let mut flags = RTF_UP;
        if r.prefix == 32 {
            flags |= RTF_HOST;
        }
        if r.gateway.is_some() {
            flags |= RTF_GATEWAY;
        }
        let mask = Ipv4Addr::from(u32::MAX.checked_shl(32 - r.prefix as u32).unwrap_or(0));
        let rt = RtEntry {
            rt_pad1: 0,
            rt_dst: super::iface::sockaddr_in(r.dst),
            rt_gateway: match r.gateway {
                Some(g) => super::iface::sockaddr_in(g),
                None => libc::sockaddr::zeroed(),
            },
            rt_genmask: super::iface::sockaddr_in(mask),
            rt_flags: flags,
            rt_pad2: 0,
            rt_pad3: 0,
            rt_pad4: std::ptr::null_mut(),
            rt_metric: metric,
            rt_dev: if dev.is_empty() {
                std::ptr::null_mut()
            } else {
                dev.as_mut_ptr()
            },
            rt_mtu: 0,
            rt_window: 0,
            rt_irtt: 0,
        };
        let shown = format_args!(
            "{{rt_dst={}, rt_genmask={mask}, rt_gateway={}, rt_flags={}, rt_metric={metric}, \
             rt_dev={}}}",
            r.dst,
            r.gateway.map_or("0.0.0.0".to_string(), |g| g.to_string()),
            flag_names(flags),
            r.dev.map_or("NULL".to_string(), |d| format!("\"{d}\"")),
        );
        let object = format!("{}/{}", r.dst, r.prefix);
        // SAFETY: rt is a complete struct rtentry; rt_dev points into `dev`, alive and
        // NUL-terminated for the whole call.
        unsafe {
            self.call(
                request(add),
                (&rt as *const RtEntry).cast_mut().cast(),
                Access::Write,
                &object,
                shown,
            )
        }
        .map(|_| ())
    }

    /// `SIOCADDRT` (add) or `SIOCDELRT` with a `struct in6_rtmsg`; needs an `AF_INET6` socket.
    pub fn route_v6(&self, add: bool, r: &RouteV6) -> Result<()> {
        let metric = v6_metric(r.metric)?;
        let mut flags = RTF_UP as u32;
        if r.gateway.is_some() {
            flags |= RTF_GATEWAY as u32;
        }
        let rt = In6RtMsg {
            rtmsg_dst: r.dst.octets(),
            rtmsg_src: [0; 16],
            rtmsg_gateway: r.gateway.map_or([0; 16], |g| g.octets()),
            // RTN_UNICAST
            rtmsg_type: 1,
            rtmsg_dst_len: r.prefix as u16,
            rtmsg_src_len: 0,
            rtmsg_metric: metric,
            rtmsg_info: 0,
            rtmsg_flags: flags,
            rtmsg_ifindex: r.ifindex.unwrap_or(0) as i32,
        };
        let shown = format_args!(
            "{{rtmsg_dst={}, rtmsg_dst_len={}, rtmsg_gateway={}, rtmsg_flags={}, \
             rtmsg_metric={metric}, rtmsg_ifindex={}}}",
            r.dst,
            r.prefix,
            r.gateway.unwrap_or(Ipv6Addr::UNSPECIFIED),
            flag_names(flags as u16),
            r.ifindex.unwrap_or(0)
        );
        let object = format!("{}/{}", r.dst, r.prefix);
        // SAFETY: rt is a complete struct in6_rtmsg, alive for the whole call.
        unsafe {
            self.call(
                request(add),
                (&rt as *const In6RtMsg).cast_mut().cast(),
                Access::Write,
                &object,
                shown,
            )
        }
        .map(|_| ())
    }
}

fn flag_names(flags: u16) -> String {
    let names: Vec<&str> = [
        (RTF_UP, "RTF_UP"),
        (RTF_GATEWAY, "RTF_GATEWAY"),
        (RTF_HOST, "RTF_HOST"),
    ]
    .iter()
    .filter(|(f, _)| flags & f != 0)
    .map(|(_, n)| *n)
    .collect();
    names.join("|")
}
