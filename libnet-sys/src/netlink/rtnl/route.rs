//! `RTM_NEWROUTE` / `RTM_DELROUTE` / `RTM_GETROUTE` (<linux/rtnetlink.h>): the routing tables,
//! both families, any table.

use super::*;
use crate::error::{Error, Result};
use crate::netlink::attr::{attrs, MsgRef};
use crate::netlink::msg::{from_bytes, Msg, Pod};
use crate::netlink::space::attr_table;
use crate::netlink::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `struct rtmsg` (<linux/rtnetlink.h>).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct RtMsg {
    pub family: u8,
    pub dst_len: u8,
    pub src_len: u8,
    pub tos: u8,
    pub table: u8,
    pub protocol: u8,
    pub scope: u8,
    pub ty: u8,
    pub flags: u32,
}
// SAFETY: repr(C), 12 bytes, no padding, any bit pattern valid.
unsafe impl Pod for RtMsg {}
const _: () = assert!(std::mem::size_of::<RtMsg>() == 12);

// <linux/rtnetlink.h>: rtm_table, rtm_protocol, rtm_scope, rtm_type
pub const RT_TABLE_UNSPEC: u32 = 0;
pub const RT_TABLE_DEFAULT: u32 = 253;
pub const RT_TABLE_MAIN: u32 = 254;
pub const RT_TABLE_LOCAL: u32 = 255;
pub const RTPROT_UNSPEC: u8 = 0;
pub const RTPROT_KERNEL: u8 = 2;
pub const RTPROT_BOOT: u8 = 3;
pub const RT_SCOPE_UNIVERSE: u8 = 0;
pub const RT_SCOPE_LINK: u8 = 253;
pub const RT_SCOPE_NOWHERE: u8 = 255;
pub const RTN_UNSPEC: u8 = 0;
pub const RTN_UNICAST: u8 = 1;
/// `RTNH_F_ONLINK`, `RTNH_F_LINKDOWN` (<linux/rtnetlink.h>): next-hop flags in `rtm_flags`.
pub const RTNH_F_DEAD: u32 = 1;
pub const RTNH_F_ONLINK: u32 = 4;
pub const RTNH_F_LINKDOWN: u32 = 16;
/// `RTM_F_CLONED`: a cached (exception) route, not a table entry.
pub const RTM_F_CLONED: u32 = 0x200;

/// What a route request says: the destination, and as much of the next hop and placement as
/// the user gave. Unset fields match anything on delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    pub dst: IpAddr,
    pub dst_len: u8,
    pub gateway: Option<IpAddr>,
    pub oif: Option<u32>,
    pub metric: Option<u32>,
    pub table: Option<u32>,
}

impl RouteSpec {
    pub fn family(&self) -> u8 {
        family_of(&self.dst)
    }
}

/// One route of a dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub family: u8,
    pub dst: Option<IpAddr>,
    pub dst_len: u8,
    pub table: u32,
    pub protocol: u8,
    pub scope: u8,
    pub ty: u8,
    pub flags: u32,
    pub gateway: Option<IpAddr>,
    pub oif: Option<u32>,
    pub prefsrc: Option<IpAddr>,
    pub metric: Option<u32>,
    /// `RTA_PREF`, IPv6 router preference (0 medium, 1 high, 3 low).
    pub pref: Option<u8>,
    /// `RTA_MULTIPATH`: the next hops of a multipath route (gateway and oif are unset then).
    pub nexthops: Vec<Nexthop>,
}

/// One `struct rtnexthop` of `RTA_MULTIPATH` and its gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nexthop {
    pub gateway: Option<IpAddr>,
    pub oif: u32,
    /// `rtnh_hops + 1`, as iproute2 prints it.
    pub weight: u32,
    pub flags: u32,
}

/// `RTA_MULTIPATH`: `struct rtnexthop {len: u16, flags: u8, hops: u8, ifindex: i32}`, each
/// followed by its own attributes, `rtnh_len` bytes in all.
fn parse_multipath(family: u8, mut b: &[u8]) -> Result<Vec<Nexthop>> {
    let bad = || Error::malformed("RTM_NEWROUTE", "RTA_MULTIPATH is cut short");
    let mut out = Vec::new();
    while b.len() >= 8 {
        let len = u16::from_ne_bytes([b[0], b[1]]) as usize;
        if len < 8 || len > b.len() {
            return Err(bad());
        }
        let mut nh = Nexthop {
            gateway: None,
            oif: u32::from_ne_bytes([b[4], b[5], b[6], b[7]]),
            weight: b[3] as u32 + 1,
            flags: b[2] as u32,
        };
        for a in attrs(&b[8..len]) {
            let a = a?;
            if a.ty == RTA_GATEWAY {
                nh.gateway = Some(ip_from(family, a.value)?);
            }
        }
        out.push(nh);
        b = &b[crate::netlink::msg::align(len).min(b.len())..];
    }
    Ok(out)
}

fn family_of(a: &IpAddr) -> u8 {
    match a {
        IpAddr::V4(_) => addr::AF_INET,
        IpAddr::V6(_) => addr::AF_INET6,
    }
}

fn ip_bytes(a: &IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v) => v.octets().to_vec(),
        IpAddr::V6(v) => v.octets().to_vec(),
    }
}

/// `ip route add|del`: iproute2's header (main table; on add protocol boot, type unicast,
/// scope link without a gateway and universe with one; on delete scope nowhere and protocol
/// and type unset, so they match anything), then dst, gateway, priority, oif. A table above
/// 255 goes in `RTA_TABLE` (the header's byte then says `RT_TABLE_UNSPEC`).
fn route_msg(ty: u16, flags: u16, r: &RouteSpec) -> Msg {
    let add = ty == RTM_NEWROUTE;
    let table = r.table.unwrap_or(RT_TABLE_MAIN);
    let (protocol, rtype, scope) = match (add, r.gateway) {
        (false, _) => (RTPROT_UNSPEC, RTN_UNSPEC, RT_SCOPE_NOWHERE),
        (true, Some(_)) => (RTPROT_BOOT, RTN_UNICAST, RT_SCOPE_UNIVERSE),
        (true, None) => (RTPROT_BOOT, RTN_UNICAST, RT_SCOPE_LINK),
    };
    let mut m = Msg::new(ty, flags).header(&RtMsg {
        family: r.family(),
        dst_len: r.dst_len,
        table: if table < 256 { table as u8 } else { 0 },
        protocol,
        scope,
        ty: rtype,
        ..Default::default()
    });
    if table >= 256 {
        m = m.u32(RTA_TABLE, table);
    }
    if r.dst_len > 0 {
        m = m.bytes(RTA_DST, &ip_bytes(&r.dst));
    }
    if let Some(gw) = &r.gateway {
        m = m.bytes(RTA_GATEWAY, &ip_bytes(gw));
    }
    if let Some(p) = r.metric {
        m = m.u32(RTA_PRIORITY, p);
    }
    // Last, as iproute2 puts it: it resolves the device once the whole command line is read.
    if let Some(oif) = r.oif {
        m = m.u32(RTA_OIF, oif);
    }
    m
}

/// `ip route add`: refused when the table has this destination at this metric already.
pub fn new_route(r: &RouteSpec) -> Msg {
    route_msg(
        RTM_NEWROUTE,
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE,
        r,
    )
}

/// `ip route del`: the first route that matches every field given.
pub fn del_route(r: &RouteSpec) -> Msg {
    route_msg(RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK, r)
}

/// `ip route get DST`: the route the kernel would take to `dst`, as one `RTM_NEWROUTE`.
pub fn get_route(dst: IpAddr) -> Msg {
    let full = if dst.is_ipv4() { 32 } else { 128 };
    Msg::new(RTM_GETROUTE, NLM_F_REQUEST)
        .header(&RtMsg {
            family: family_of(&dst),
            dst_len: full,
            ..Default::default()
        })
        .bytes(RTA_DST, &ip_bytes(&dst))
}

/// Every route of `family` in `table` (with strict checking the kernel filters by table).
pub fn dump_routes(family: u8, table: u32) -> Msg {
    let m = Msg::new(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP).header(&RtMsg {
        family,
        table: if table < 256 { table as u8 } else { 0 },
        ..Default::default()
    });
    if table >= 256 {
        m.u32(RTA_TABLE, table)
    } else {
        m
    }
}

fn ip_from(family: u8, b: &[u8]) -> Result<IpAddr> {
    match (family, b.len()) {
        (addr::AF_INET, 4) => Ok(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        (addr::AF_INET6, 16) => {
            let mut o = [0u8; 16];
            o.copy_from_slice(b);
            Ok(IpAddr::V6(Ipv6Addr::from(o)))
        }
        _ => Err(Error::malformed(
            "RTM_NEWROUTE",
            format!("a {}-byte address for family {family}", b.len()),
        )),
    }
}

/// Reads one `RTM_NEWROUTE` of a dump.
pub fn parse_route(m: &MsgRef) -> Result<Route> {
    if m.ty != RTM_NEWROUTE {
        return Err(Error::malformed(
            "RTM_GETROUTE",
            format!("unexpected message type {}", m.ty),
        ));
    }
    let h: RtMsg = from_bytes(m.payload)
        .ok_or_else(|| Error::malformed("RTM_NEWROUTE", "rtmsg is cut short"))?;
    let mut r = Route {
        family: h.family,
        dst: None,
        dst_len: h.dst_len,
        table: h.table as u32,
        protocol: h.protocol,
        scope: h.scope,
        ty: h.ty,
        flags: h.flags,
        gateway: None,
        oif: None,
        prefsrc: None,
        metric: None,
        pref: None,
        nexthops: Vec::new(),
    };
    for a in attrs(m.payload.get(12..).unwrap_or(&[])) {
        let a = a?;
        match a.ty {
            RTA_DST => r.dst = Some(ip_from(h.family, a.value)?),
            RTA_GATEWAY => r.gateway = Some(ip_from(h.family, a.value)?),
            RTA_PREFSRC => r.prefsrc = Some(ip_from(h.family, a.value)?),
            RTA_OIF => r.oif = Some(a.u32()?),
            RTA_PRIORITY => r.metric = Some(a.u32()?),
            RTA_TABLE => r.table = a.u32()?,
            RTA_PREF => r.pref = Some(a.u8()?),
            RTA_MULTIPATH => r.nexthops = parse_multipath(h.family, a.value)?,
            _ => {}
        }
    }
    Ok(r)
}

attr_table! {
    /// <linux/rtnetlink.h>: `enum rtattr_type_t`
    pub(super) ROUTE_ATTRS {
        RTA_DST = 1: Ip,
        RTA_SRC = 2: Ip,
        RTA_IIF = 3: U32,
        RTA_OIF = 4: U32,
        RTA_GATEWAY = 5: Ip,
        RTA_PRIORITY = 6: U32,
        RTA_PREFSRC = 7: Ip,
        RTA_METRICS = 8: Bytes,
        RTA_MULTIPATH = 9: Bytes,
        RTA_CACHEINFO = 12: Bytes,
        RTA_TABLE = 15: U32,
        RTA_PREF = 20: U8,
        RTA_EXPIRES = 23: U64,
    }
}
