//! `RTM_NEWADDR` / `RTM_DELADDR` / `RTM_GETADDR` (<linux/if_addr.h>): interface addresses, both
//! families, as many per interface as wanted (the ioctl path holds one IPv4 address a label).

use super::*;
use crate::error::{Error, Result};
use crate::netlink::attr::{attrs, MsgRef};
use crate::netlink::msg::{from_bytes, Msg, Pod};
use crate::netlink::space::attr_table;
use crate::netlink::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `struct ifaddrmsg` (<linux/if_addr.h>).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct IfAddrMsg {
    pub family: u8,
    pub prefixlen: u8,
    pub flags: u8,
    pub scope: u8,
    pub index: u32,
}
// SAFETY: repr(C), 8 bytes, no padding, any bit pattern valid.
unsafe impl Pod for IfAddrMsg {}
const _: () = assert!(std::mem::size_of::<IfAddrMsg>() == 8);

attr_table! {
    /// `enum ifa_attributes` (<linux/if_addr.h>)
    pub(super) ADDR_ATTRS {
        IFA_ADDRESS = 1: Ip,
        IFA_LOCAL = 2: Ip,
        IFA_LABEL = 3: Str,
        IFA_BROADCAST = 4: Ip,
        IFA_CACHEINFO = 6: Bytes,
        IFA_FLAGS = 8: U32,
    }
}

pub const AF_INET: u8 = libc::AF_INET as u8;
pub const AF_INET6: u8 = libc::AF_INET6 as u8;

/// One address of an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Addr {
    pub index: u32,
    pub prefix: u8,
    /// The interface's own address (`IFA_LOCAL`, or `IFA_ADDRESS` where there is no local).
    pub local: IpAddr,
    /// `IFA_ADDRESS`: the same as local, or the peer on a point-to-point link.
    pub address: IpAddr,
    pub broadcast: Option<Ipv4Addr>,
    pub label: Option<String>,
    pub scope: u8,
    /// `IFA_FLAGS` when present (it supersedes the 8-bit `ifa_flags`).
    pub flags: u32,
}

fn family_of(a: &IpAddr) -> u8 {
    match a {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}

fn ip_bytes(a: &IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v) => v.octets().to_vec(),
        IpAddr::V6(v) => v.octets().to_vec(),
    }
}

/// `RT_SCOPE_HOST` from <linux/rtnetlink.h>.
pub const RT_SCOPE_HOST: u8 = 254;

fn addr_msg(ty: u16, flags: u16, index: u32, local: &IpAddr, prefix: u8) -> Msg {
    // iproute2 gives 127.0.0.0/8 host scope, as the ioctl path's kernel code does.
    let scope = match local {
        IpAddr::V4(a) if a.is_loopback() && ty == RTM_NEWADDR => RT_SCOPE_HOST,
        _ => 0,
    };
    Msg::new(ty, flags).header(&IfAddrMsg {
        family: family_of(local),
        prefixlen: prefix,
        scope,
        index,
        ..Default::default()
    })
}

/// `ip addr add LOCAL/PREFIX [broadcast BRD] dev INDEX`. iproute2 sends `IFA_LOCAL` and
/// `IFA_ADDRESS` both (the same, on a link that is not point-to-point), the broadcast between
/// them; without one the kernel derives none (the ioctl path does).
pub fn new_addr(index: u32, local: &IpAddr, prefix: u8, broadcast: Option<Ipv4Addr>) -> Msg {
    let bytes = ip_bytes(local);
    let m = addr_msg(
        RTM_NEWADDR,
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE,
        index,
        local,
        prefix,
    )
    .bytes(IFA_LOCAL, &bytes);
    let m = match broadcast {
        Some(b) => m.bytes(IFA_BROADCAST, &b.octets()),
        None => m,
    };
    m.bytes(IFA_ADDRESS, &bytes)
}

/// `ip addr del LOCAL/PREFIX dev INDEX`
pub fn del_addr(index: u32, local: &IpAddr, prefix: u8) -> Msg {
    let bytes = ip_bytes(local);
    addr_msg(RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, index, local, prefix)
        .bytes(IFA_LOCAL, &bytes)
        .bytes(IFA_ADDRESS, &bytes)
}

/// `ip addr show`: every address of `family` (0 for both) in the namespace; with strict
/// checking the kernel filters by `index` itself when it is not 0.
pub fn dump_addrs(family: u8, index: u32) -> Msg {
    Msg::new(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP).header(&IfAddrMsg {
        family,
        index,
        ..Default::default()
    })
}

fn ip_from(family: u8, b: &[u8]) -> Result<IpAddr> {
    match (family, b.len()) {
        (AF_INET, 4) => Ok(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        (AF_INET6, 16) => {
            let mut o = [0u8; 16];
            o.copy_from_slice(b);
            Ok(IpAddr::V6(Ipv6Addr::from(o)))
        }
        _ => Err(Error::malformed(
            "RTM_NEWADDR",
            format!("a {}-byte address for family {family}", b.len()),
        )),
    }
}

/// Reads one `RTM_NEWADDR`.
pub fn parse_addr(m: &MsgRef) -> Result<Addr> {
    if m.ty != RTM_NEWADDR {
        return Err(Error::malformed(
            "RTM_GETADDR",
            format!("unexpected message type {}", m.ty),
        ));
    }
    let h: IfAddrMsg = from_bytes(m.payload)
        .ok_or_else(|| Error::malformed("RTM_NEWADDR", "ifaddrmsg is cut short"))?;
    let (mut local, mut address, mut broadcast, mut label, mut flags) =
        (None, None, None, None, h.flags as u32);
    for a in attrs(m.payload.get(8..).unwrap_or(&[])) {
        let a = a?;
        match a.ty {
            IFA_LOCAL => local = Some(ip_from(h.family, a.value)?),
            IFA_ADDRESS => address = Some(ip_from(h.family, a.value)?),
            IFA_BROADCAST => {
                if let IpAddr::V4(b) = ip_from(AF_INET, a.value)? {
                    broadcast = Some(b);
                }
            }
            IFA_LABEL => label = Some(String::from_utf8_lossy(a.str_bytes()).into_owned()),
            IFA_FLAGS => flags = a.u32()?,
            _ => {}
        }
    }
    let address = address
        .or(local)
        .ok_or_else(|| Error::malformed("RTM_NEWADDR", "no IFA_ADDRESS or IFA_LOCAL"))?;
    Ok(Addr {
        index: h.index,
        prefix: h.prefixlen,
        local: local.unwrap_or(address),
        address,
        broadcast,
        label,
        scope: h.scope,
        flags,
    })
}
