//! rtnetlink (`NETLINK_ROUTE`): message types, family headers and attribute spaces from
//! <linux/rtnetlink.h>, <linux/if_link.h> and <linux/neighbour.h>. [`link`] builds and reads
//! `RTM_*LINK`, [`addr`] `RTM_*ADDR`, [`route`] `RTM_*ROUTE`, [`neigh`] `RTM_*NEIGH` (neighbour
//! entries of every family, forwarding-database entries among them).

pub mod addr;
pub mod link;
pub mod neigh;
pub mod nsid;
pub mod route;

use super::attr::{attrs, Attr};
use super::decode::{attributes, pad};
use super::msg::{from_bytes, Pod};
use super::space::{attr_table, Def, Kind};
use super::{Family, Protocol, NETLINK_ROUTE};
use crate::bridge::BridgeId;
use std::fmt::Write;

// <linux/rtnetlink.h>
pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_SETLINK: u16 = 19;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_DELADDR: u16 = 21;
pub const RTM_GETADDR: u16 = 22;
pub const RTM_NEWROUTE: u16 = 24;
pub const RTM_DELROUTE: u16 = 25;
pub const RTM_GETROUTE: u16 = 26;
pub const RTM_NEWNEIGH: u16 = 28;
pub const RTM_DELNEIGH: u16 = 29;
pub const RTM_GETNEIGH: u16 = 30;
pub const RTM_NEWNSID: u16 = 88;
pub const RTM_GETNSID: u16 = 90;

/// rtnetlink, the one family of `NETLINK_ROUTE`.
pub struct Rtnl;

impl Family for Rtnl {
    fn owns(&self, _: u16) -> bool {
        true
    }
    fn msg_type_name(&self, ty: u16) -> &'static str {
        match ty {
            RTM_NEWLINK => "RTM_NEWLINK",
            RTM_DELLINK => "RTM_DELLINK",
            RTM_GETLINK => "RTM_GETLINK",
            RTM_SETLINK => "RTM_SETLINK",
            RTM_NEWADDR => "RTM_NEWADDR",
            RTM_DELADDR => "RTM_DELADDR",
            RTM_GETADDR => "RTM_GETADDR",
            RTM_NEWROUTE => "RTM_NEWROUTE",
            RTM_DELROUTE => "RTM_DELROUTE",
            RTM_GETROUTE => "RTM_GETROUTE",
            RTM_NEWNEIGH => "RTM_NEWNEIGH",
            RTM_DELNEIGH => "RTM_DELNEIGH",
            RTM_GETNEIGH => "RTM_GETNEIGH",
            RTM_NEWNSID => "RTM_NEWNSID",
            RTM_GETNSID => "RTM_GETNSID",
            _ => "RTM_(unknown)",
        }
    }
    /// GET requests read the 0x100.. flags as ROOT/MATCH rather than REPLACE/EXCL.
    fn is_get(&self, ty: u16) -> bool {
        ty >= 16 && ty % 4 == 2
    }
    /// The family header of message type `ty`, shown, with its length; and the attribute space
    /// that follows it.
    fn layout(&self, ty: u16, payload: &[u8]) -> (Option<(String, usize)>, &'static [Def]) {
        match ty {
            RTM_NEWLINK | RTM_DELLINK | RTM_GETLINK | RTM_SETLINK => {
                let Some(h) = from_bytes::<IfInfoMsg>(payload) else {
                    return (None, &[]);
                };
                let text = format!(
                    "ifinfomsg{{family={}, type={}, index={}, flags={:#x}, change={:#x}}}",
                    family_name(h.family),
                    h.ty,
                    h.index,
                    h.flags,
                    h.change
                );
                let schema = if h.family == AF_BRIDGE {
                    BRIDGE_LINK_ATTRS
                } else {
                    LINK_ATTRS
                };
                (Some((text, 16)), schema)
            }
            RTM_NEWADDR | RTM_DELADDR | RTM_GETADDR => {
                let Some(h) = from_bytes::<addr::IfAddrMsg>(payload) else {
                    return (None, &[]);
                };
                let text = format!(
                    "ifaddrmsg{{family={}, prefixlen={}, flags={:#x}, scope={}, index={}}}",
                    family_name(h.family),
                    h.prefixlen,
                    h.flags,
                    h.scope,
                    h.index
                );
                (Some((text, 8)), addr::ADDR_ATTRS)
            }
            RTM_NEWROUTE | RTM_DELROUTE | RTM_GETROUTE => {
                let Some(h) = from_bytes::<route::RtMsg>(payload) else {
                    return (None, &[]);
                };
                let text = format!(
                    "rtmsg{{family={}, dst_len={}, src_len={}, tos={}, table={}, protocol={}, \
                     scope={}, type={}, flags={:#x}}}",
                    family_name(h.family),
                    h.dst_len,
                    h.src_len,
                    h.tos,
                    h.table,
                    h.protocol,
                    h.scope,
                    h.ty,
                    h.flags
                );
                (Some((text, 12)), route::ROUTE_ATTRS)
            }
            RTM_NEWNSID | RTM_GETNSID => {
                let Some(&family) = payload.first() else {
                    return (None, &[]);
                };
                let text = format!("rtgenmsg{{family={}}}", family_name(family));
                (Some((text, 4)), nsid::NETNSA_ATTRS)
            }
            RTM_NEWNEIGH | RTM_DELNEIGH | RTM_GETNEIGH => {
                let Some(h) = from_bytes::<NdMsg>(payload) else {
                    return (None, &[]);
                };
                let text = format!(
                    "ndmsg{{family={}, ifindex={}, state={}, flags={}, type={}}}",
                    family_name(h.family),
                    h.ifindex,
                    neigh::state_names(h.state),
                    neigh::flag_names(h.flags),
                    h.ty
                );
                (Some((text, 12)), neigh::NEIGH_ATTRS)
            }
            _ => (None, &[]),
        }
    }
}

/// What a `NETLINK_ROUTE` socket speaks.
pub static ROUTE: Protocol = Protocol {
    number: NETLINK_ROUTE,
    families: &[&Rtnl],
};

/// `struct ifinfomsg` (<linux/rtnetlink.h>).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct IfInfoMsg {
    pub family: u8,
    pub pad: u8,
    pub ty: u16,
    pub index: i32,
    pub flags: u32,
    pub change: u32,
}
// SAFETY: repr(C), 16 bytes, no padding, any bit pattern valid.
unsafe impl Pod for IfInfoMsg {}
const _: () = assert!(std::mem::size_of::<IfInfoMsg>() == 16);

/// `struct ndmsg` (<linux/neighbour.h>).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct NdMsg {
    pub family: u8,
    pub pad1: u8,
    pub pad2: u16,
    pub ifindex: i32,
    pub state: u16,
    pub flags: u8,
    pub ty: u8,
}
// SAFETY: repr(C), 12 bytes, no padding, any bit pattern valid.
unsafe impl Pod for NdMsg {}
const _: () = assert!(std::mem::size_of::<NdMsg>() == 12);

attr_table! {
    /// `IFLA_LINKINFO`'s attributes; the two data nests' spaces depend on the kinds named
    /// beside them ([`link_info`]).
    LINKINFO_ATTRS {
        IFLA_INFO_KIND = 1: Str,
        IFLA_INFO_DATA = 2: Bytes,
        IFLA_INFO_XSTATS = 3: Bytes,
        IFLA_INFO_SLAVE_KIND = 4: Str,
        IFLA_INFO_SLAVE_DATA = 5: Bytes,
    }
}

attr_table! {
    /// `IFLA_INFO_DATA` of kind "veth" (<linux/veth.h>).
    VETH_INFO_ATTRS {
        VETH_INFO_PEER = 1: Printed(veth_peer),
    }
}

/// `RTEXT_FILTER_VF` / `RTEXT_FILTER_SKIP_STATS` for `IFLA_EXT_MASK`.
pub const RTEXT_FILTER_VF: u32 = 1 << 0;
pub const RTEXT_FILTER_SKIP_STATS: u32 = 1 << 3;

pub const AF_UNSPEC: u8 = libc::AF_UNSPEC as u8;
pub const AF_BRIDGE: u8 = libc::AF_BRIDGE as u8;
/// iproute2 asks for links with AF_PACKET; the kernel treats it as "all families".
pub const AF_PACKET: u8 = libc::AF_PACKET as u8;

attr_table! {
    /// <linux/if_link.h>: `IFLA_INFO_DATA` of kind "bridge"
    BR_ATTRS {
        IFLA_BR_FORWARD_DELAY = 1: U32,
        IFLA_BR_HELLO_TIME = 2: U32,
        IFLA_BR_MAX_AGE = 3: U32,
        IFLA_BR_AGEING_TIME = 4: U32,
        IFLA_BR_STP_STATE = 5: U32,
        IFLA_BR_PRIORITY = 6: U16,
        IFLA_BR_VLAN_FILTERING = 7: U8,
        IFLA_BR_VLAN_PROTOCOL = 8: Be16,
        IFLA_BR_GROUP_FWD_MASK = 9: U16,
        IFLA_BR_ROOT_ID = 10: Shown(bridge_id),
        IFLA_BR_BRIDGE_ID = 11: Shown(bridge_id),
        IFLA_BR_ROOT_PORT = 12: U16,
        IFLA_BR_ROOT_PATH_COST = 13: U32,
        IFLA_BR_TOPOLOGY_CHANGE = 14: U8,
        IFLA_BR_TOPOLOGY_CHANGE_DETECTED = 15: U8,
        IFLA_BR_HELLO_TIMER = 16: U64,
        IFLA_BR_TCN_TIMER = 17: U64,
        IFLA_BR_TOPOLOGY_CHANGE_TIMER = 18: U64,
        IFLA_BR_GC_TIMER = 19: U64,
        IFLA_BR_GROUP_ADDR = 20: Mac,
        IFLA_BR_FDB_FLUSH = 21: Flag,
        IFLA_BR_MCAST_ROUTER = 22: U8,
        IFLA_BR_MCAST_SNOOPING = 23: U8,
        IFLA_BR_NF_CALL_IPTABLES = 36: U8,
        IFLA_BR_NF_CALL_IP6TABLES = 37: U8,
        IFLA_BR_NF_CALL_ARPTABLES = 38: U8,
        IFLA_BR_VLAN_DEFAULT_PVID = 39: U16,
    }
}

attr_table! {
    /// <linux/if_link.h>: `IFLA_INFO_SLAVE_DATA` of a bridge port, and `AF_BRIDGE` `IFLA_PROTINFO`
    BRPORT_ATTRS {
        IFLA_BRPORT_STATE = 1: U8,
        IFLA_BRPORT_PRIORITY = 2: U16,
        IFLA_BRPORT_COST = 3: U32,
        IFLA_BRPORT_MODE = 4: U8,
        IFLA_BRPORT_GUARD = 5: U8,
        IFLA_BRPORT_PROTECT = 6: U8,
        IFLA_BRPORT_FAST_LEAVE = 7: U8,
        IFLA_BRPORT_LEARNING = 8: U8,
        IFLA_BRPORT_UNICAST_FLOOD = 9: U8,
        IFLA_BRPORT_PROXYARP = 10: U8,
        IFLA_BRPORT_ROOT_ID = 13: Shown(bridge_id),
        IFLA_BRPORT_BRIDGE_ID = 14: Shown(bridge_id),
        IFLA_BRPORT_DESIGNATED_PORT = 15: U16,
        IFLA_BRPORT_DESIGNATED_COST = 16: U16,
        IFLA_BRPORT_ID = 17: U16,
        IFLA_BRPORT_NO = 18: U16,
        IFLA_BRPORT_TOPOLOGY_CHANGE_ACK = 19: U8,
        IFLA_BRPORT_CONFIG_PENDING = 20: U8,
        IFLA_BRPORT_MESSAGE_AGE_TIMER = 21: U64,
        IFLA_BRPORT_FORWARD_DELAY_TIMER = 22: U64,
        IFLA_BRPORT_HOLD_TIMER = 23: U64,
        IFLA_BRPORT_FLUSH = 24: Flag,
    }
}

attr_table! {
    /// <linux/if_link.h>: `struct ifinfomsg` attributes (`IFLA_*`)
    LINK_ATTRS {
        IFLA_ADDRESS = 1: Mac,
        IFLA_BROADCAST = 2: Mac,
        IFLA_IFNAME = 3: Str,
        IFLA_MTU = 4: U32,
        IFLA_LINK = 5: U32,
        IFLA_MASTER = 10: U32,
        IFLA_TXQLEN = 13: U32,
        IFLA_OPERSTATE = 16: U8,
        IFLA_LINKMODE = 17: U8,
        IFLA_LINKINFO = 18: Printed(link_info),
        IFLA_NET_NS_PID = 19: U32,
        IFLA_IFALIAS = 20: Str,
        IFLA_GROUP = 27: U32,
        IFLA_NET_NS_FD = 28: U32,
        IFLA_EXT_MASK = 29: U32,
        IFLA_PROMISCUITY = 30: U32,
        IFLA_NUM_TX_QUEUES = 31: U32,
        IFLA_NUM_RX_QUEUES = 32: U32,
        IFLA_CARRIER = 33: U8,
        IFLA_LINK_NETNSID = 37: U32,
        IFLA_TARGET_NETNSID = 46: U32,
        IFLA_MIN_MTU = 50: U32,
        IFLA_MAX_MTU = 51: U32,
    }
}

attr_table! {
    /// On `AF_BRIDGE` link messages `IFLA_PROTINFO` holds the port's `IFLA_BRPORT_*`.
    BRIDGE_LINK_ATTRS {
        IFLA_IFNAME: Str,
        IFLA_MASTER: U32,
        IFLA_MTU: U32,
        IFLA_OPERSTATE: U8,
        IFLA_ADDRESS: Mac,
        IFLA_PROTINFO = 12: Nest(BRPORT_ATTRS),
        IFLA_EXT_MASK: U32,
    }
}

attr_table! {
    VETH_PEER_ATTRS {
        IFLA_ADDRESS: Mac,
        IFLA_IFNAME: Str,
        IFLA_MTU: U32,
        IFLA_NET_NS_FD: U32,
        IFLA_NET_NS_PID: U32,
    }
}

pub fn info_data_schema(kind: &[u8]) -> &'static [Def] {
    match kind {
        b"bridge" => BR_ATTRS,
        b"vxlan" => link::VXLAN_ATTRS,
        b"veth" => VETH_INFO_ATTRS,
        _ => &[],
    }
}

pub fn info_data_schema_slave(kind: &[u8]) -> &'static [Def] {
    match kind {
        b"bridge" => BRPORT_ATTRS,
        _ => &[],
    }
}

/// `IFLA_LINKINFO`: the data nests decoded by the kind named inside it.
fn link_info(out: &mut String, buf: &[u8], depth: usize) {
    let mut kind = &b""[..];
    let mut slave_kind = &b""[..];
    for a in attrs(buf).flatten() {
        match a.ty {
            IFLA_INFO_KIND => kind = a.str_bytes(),
            IFLA_INFO_SLAVE_KIND => slave_kind = a.str_bytes(),
            _ => {}
        }
    }
    let (data, slave) = (info_data_schema(kind), info_data_schema_slave(slave_kind));
    let schema: Vec<Def> = LINKINFO_ATTRS
        .iter()
        .map(|d| match d.0 {
            IFLA_INFO_DATA => Def(d.0, d.1, Kind::Nest(data)),
            IFLA_INFO_SLAVE_DATA => Def(d.0, d.1, Kind::Nest(slave)),
            _ => *d,
        })
        .collect();
    attributes(out, buf, &schema, depth);
}

/// `VETH_INFO_PEER`: the peer's `struct ifinfomsg` and its attributes.
fn veth_peer(out: &mut String, buf: &[u8], depth: usize) {
    let pad = pad(depth);
    match Rtnl.layout(RTM_NEWLINK, buf) {
        (Some((text, len)), _) if buf.len() >= len => {
            let _ = writeln!(out, "{pad}{text}");
            attributes(out, &buf[len..], VETH_PEER_ATTRS, depth);
        }
        _ => {
            let _ = writeln!(out, "{pad}(malformed ifinfomsg)");
        }
    }
}

/// A `struct ifla_bridge_id`, as sysfs and bridge-utils print it.
fn bridge_id(a: &Attr) -> Option<String> {
    a.array::<8>()
        .ok()
        .map(|b| BridgeId::from_bytes(&b).to_string())
}

fn family_name(f: u8) -> String {
    match f as i32 {
        libc::AF_UNSPEC => "AF_UNSPEC".into(),
        libc::AF_BRIDGE => "AF_BRIDGE".into(),
        libc::AF_INET => "AF_INET".into(),
        libc::AF_INET6 => "AF_INET6".into(),
        libc::AF_PACKET => "AF_PACKET".into(),
        _ => f.to_string(),
    }
}
