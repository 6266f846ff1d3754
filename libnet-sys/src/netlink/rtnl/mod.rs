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
use super::space::{Def, Kind};
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

pub fn msg_type_name(ty: u16) -> &'static str {
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
pub fn is_get(ty: u16) -> bool {
    ty >= 16 && ty % 4 == 2
}

/// rtnetlink, the one family of `NETLINK_ROUTE`.
pub struct Rtnl;

impl Family for Rtnl {
    fn owns(&self, _: u16) -> bool {
        true
    }
    fn msg_type_name(&self, ty: u16) -> &'static str {
        msg_type_name(ty)
    }
    fn is_get(&self, ty: u16) -> bool {
        is_get(ty)
    }
    fn layout(&self, ty: u16, payload: &[u8]) -> (Option<(String, usize)>, &'static [Def]) {
        layout(ty, payload)
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

// <linux/if_link.h>: struct ifinfomsg attributes
pub const IFLA_ADDRESS: u16 = 1;
pub const IFLA_BROADCAST: u16 = 2;
pub const IFLA_IFNAME: u16 = 3;
pub const IFLA_MTU: u16 = 4;
pub const IFLA_LINK: u16 = 5;
pub const IFLA_MASTER: u16 = 10;
pub const IFLA_PROTINFO: u16 = 12;
pub const IFLA_TXQLEN: u16 = 13;
pub const IFLA_OPERSTATE: u16 = 16;
pub const IFLA_LINKMODE: u16 = 17;
pub const IFLA_LINKINFO: u16 = 18;
pub const IFLA_NET_NS_PID: u16 = 19;
pub const IFLA_IFALIAS: u16 = 20;
pub const IFLA_GROUP: u16 = 27;
pub const IFLA_NET_NS_FD: u16 = 28;
pub const IFLA_EXT_MASK: u16 = 29;
pub const IFLA_PROMISCUITY: u16 = 30;
pub const IFLA_NUM_TX_QUEUES: u16 = 31;
pub const IFLA_NUM_RX_QUEUES: u16 = 32;
pub const IFLA_CARRIER: u16 = 33;
pub const IFLA_LINK_NETNSID: u16 = 37;
pub const IFLA_TARGET_NETNSID: u16 = 46;
pub const IFLA_MIN_MTU: u16 = 50;
pub const IFLA_MAX_MTU: u16 = 51;

pub const IFLA_INFO_KIND: u16 = 1;
pub const IFLA_INFO_DATA: u16 = 2;
pub const IFLA_INFO_XSTATS: u16 = 3;
pub const IFLA_INFO_SLAVE_KIND: u16 = 4;
pub const IFLA_INFO_SLAVE_DATA: u16 = 5;

/// `RTEXT_FILTER_VF` / `RTEXT_FILTER_SKIP_STATS` for `IFLA_EXT_MASK`.
pub const RTEXT_FILTER_VF: u32 = 1 << 0;
pub const RTEXT_FILTER_SKIP_STATS: u32 = 1 << 3;

// <linux/if_link.h>: IFLA_INFO_DATA of kind "bridge"
pub const IFLA_BR_FORWARD_DELAY: u16 = 1;
pub const IFLA_BR_HELLO_TIME: u16 = 2;
pub const IFLA_BR_MAX_AGE: u16 = 3;
pub const IFLA_BR_AGEING_TIME: u16 = 4;
pub const IFLA_BR_STP_STATE: u16 = 5;
pub const IFLA_BR_PRIORITY: u16 = 6;
pub const IFLA_BR_ROOT_ID: u16 = 10;
pub const IFLA_BR_BRIDGE_ID: u16 = 11;
pub const IFLA_BR_ROOT_PORT: u16 = 12;
pub const IFLA_BR_ROOT_PATH_COST: u16 = 13;
pub const IFLA_BR_TOPOLOGY_CHANGE: u16 = 14;
pub const IFLA_BR_TOPOLOGY_CHANGE_DETECTED: u16 = 15;
pub const IFLA_BR_HELLO_TIMER: u16 = 16;
pub const IFLA_BR_TCN_TIMER: u16 = 17;
pub const IFLA_BR_TOPOLOGY_CHANGE_TIMER: u16 = 18;
pub const IFLA_BR_GC_TIMER: u16 = 19;

// <linux/if_link.h>: IFLA_INFO_SLAVE_DATA of a bridge port, and AF_BRIDGE IFLA_PROTINFO
pub const IFLA_BRPORT_STATE: u16 = 1;
pub const IFLA_BRPORT_PRIORITY: u16 = 2;
pub const IFLA_BRPORT_COST: u16 = 3;
pub const IFLA_BRPORT_MODE: u16 = 4;
pub const IFLA_BRPORT_ROOT_ID: u16 = 13;
pub const IFLA_BRPORT_BRIDGE_ID: u16 = 14;
pub const IFLA_BRPORT_DESIGNATED_PORT: u16 = 15;
pub const IFLA_BRPORT_DESIGNATED_COST: u16 = 16;
pub const IFLA_BRPORT_ID: u16 = 17;
pub const IFLA_BRPORT_NO: u16 = 18;
pub const IFLA_BRPORT_TOPOLOGY_CHANGE_ACK: u16 = 19;
pub const IFLA_BRPORT_CONFIG_PENDING: u16 = 20;
pub const IFLA_BRPORT_MESSAGE_AGE_TIMER: u16 = 21;
pub const IFLA_BRPORT_FORWARD_DELAY_TIMER: u16 = 22;
pub const IFLA_BRPORT_HOLD_TIMER: u16 = 23;

pub const AF_UNSPEC: u8 = libc::AF_UNSPEC as u8;
pub const AF_BRIDGE: u8 = libc::AF_BRIDGE as u8;
/// iproute2 asks for links with AF_PACKET; the kernel treats it as "all families".
pub const AF_PACKET: u8 = libc::AF_PACKET as u8;

const BR_ATTRS: &[Def] = &[
    Def(IFLA_BR_FORWARD_DELAY, "IFLA_BR_FORWARD_DELAY", Kind::U32),
    Def(IFLA_BR_HELLO_TIME, "IFLA_BR_HELLO_TIME", Kind::U32),
    Def(IFLA_BR_MAX_AGE, "IFLA_BR_MAX_AGE", Kind::U32),
    Def(IFLA_BR_AGEING_TIME, "IFLA_BR_AGEING_TIME", Kind::U32),
    Def(IFLA_BR_STP_STATE, "IFLA_BR_STP_STATE", Kind::U32),
    Def(IFLA_BR_PRIORITY, "IFLA_BR_PRIORITY", Kind::U16),
    Def(7, "IFLA_BR_VLAN_FILTERING", Kind::U8),
    Def(8, "IFLA_BR_VLAN_PROTOCOL", Kind::Be16),
    Def(9, "IFLA_BR_GROUP_FWD_MASK", Kind::U16),
    Def(IFLA_BR_ROOT_ID, "IFLA_BR_ROOT_ID", Kind::Shown(bridge_id)),
    Def(
        IFLA_BR_BRIDGE_ID,
        "IFLA_BR_BRIDGE_ID",
        Kind::Shown(bridge_id),
    ),
    Def(IFLA_BR_ROOT_PORT, "IFLA_BR_ROOT_PORT", Kind::U16),
    Def(IFLA_BR_ROOT_PATH_COST, "IFLA_BR_ROOT_PATH_COST", Kind::U32),
    Def(IFLA_BR_TOPOLOGY_CHANGE, "IFLA_BR_TOPOLOGY_CHANGE", Kind::U8),
    Def(
        IFLA_BR_TOPOLOGY_CHANGE_DETECTED,
        "IFLA_BR_TOPOLOGY_CHANGE_DETECTED",
        Kind::U8,
    ),
    Def(IFLA_BR_HELLO_TIMER, "IFLA_BR_HELLO_TIMER", Kind::U64),
    Def(IFLA_BR_TCN_TIMER, "IFLA_BR_TCN_TIMER", Kind::U64),
    Def(
        IFLA_BR_TOPOLOGY_CHANGE_TIMER,
        "IFLA_BR_TOPOLOGY_CHANGE_TIMER",
        Kind::U64,
    ),
    Def(IFLA_BR_GC_TIMER, "IFLA_BR_GC_TIMER", Kind::U64),
    Def(20, "IFLA_BR_GROUP_ADDR", Kind::Mac),
    Def(21, "IFLA_BR_FDB_FLUSH", Kind::Flag),
    Def(22, "IFLA_BR_MCAST_ROUTER", Kind::U8),
    Def(23, "IFLA_BR_MCAST_SNOOPING", Kind::U8),
    Def(36, "IFLA_BR_NF_CALL_IPTABLES", Kind::U8),
    Def(37, "IFLA_BR_NF_CALL_IP6TABLES", Kind::U8),
    Def(38, "IFLA_BR_NF_CALL_ARPTABLES", Kind::U8),
    Def(39, "IFLA_BR_VLAN_DEFAULT_PVID", Kind::U16),
];

const BRPORT_ATTRS: &[Def] = &[
    Def(IFLA_BRPORT_STATE, "IFLA_BRPORT_STATE", Kind::U8),
    Def(IFLA_BRPORT_PRIORITY, "IFLA_BRPORT_PRIORITY", Kind::U16),
    Def(IFLA_BRPORT_COST, "IFLA_BRPORT_COST", Kind::U32),
    Def(IFLA_BRPORT_MODE, "IFLA_BRPORT_MODE", Kind::U8),
    Def(5, "IFLA_BRPORT_GUARD", Kind::U8),
    Def(6, "IFLA_BRPORT_PROTECT", Kind::U8),
    Def(7, "IFLA_BRPORT_FAST_LEAVE", Kind::U8),
    Def(8, "IFLA_BRPORT_LEARNING", Kind::U8),
    Def(9, "IFLA_BRPORT_UNICAST_FLOOD", Kind::U8),
    Def(10, "IFLA_BRPORT_PROXYARP", Kind::U8),
    Def(
        IFLA_BRPORT_ROOT_ID,
        "IFLA_BRPORT_ROOT_ID",
        Kind::Shown(bridge_id),
    ),
    Def(
        IFLA_BRPORT_BRIDGE_ID,
        "IFLA_BRPORT_BRIDGE_ID",
        Kind::Shown(bridge_id),
    ),
    Def(
        IFLA_BRPORT_DESIGNATED_PORT,
        "IFLA_BRPORT_DESIGNATED_PORT",
        Kind::U16,
    ),
    Def(
        IFLA_BRPORT_DESIGNATED_COST,
        "IFLA_BRPORT_DESIGNATED_COST",
        Kind::U16,
    ),
    Def(IFLA_BRPORT_ID, "IFLA_BRPORT_ID", Kind::U16),
    Def(IFLA_BRPORT_NO, "IFLA_BRPORT_NO", Kind::U16),
    Def(
        IFLA_BRPORT_TOPOLOGY_CHANGE_ACK,
        "IFLA_BRPORT_TOPOLOGY_CHANGE_ACK",
        Kind::U8,
    ),
    Def(
        IFLA_BRPORT_CONFIG_PENDING,
        "IFLA_BRPORT_CONFIG_PENDING",
        Kind::U8,
    ),
    Def(
        IFLA_BRPORT_MESSAGE_AGE_TIMER,
        "IFLA_BRPORT_MESSAGE_AGE_TIMER",
        Kind::U64,
    ),
    Def(
        IFLA_BRPORT_FORWARD_DELAY_TIMER,
        "IFLA_BRPORT_FORWARD_DELAY_TIMER",
        Kind::U64,
    ),
    Def(IFLA_BRPORT_HOLD_TIMER, "IFLA_BRPORT_HOLD_TIMER", Kind::U64),
    Def(24, "IFLA_BRPORT_FLUSH", Kind::Flag),
];

const LINK_ATTRS: &[Def] = &[
    Def(IFLA_ADDRESS, "IFLA_ADDRESS", Kind::Mac),
    Def(IFLA_BROADCAST, "IFLA_BROADCAST", Kind::Mac),
    Def(IFLA_IFNAME, "IFLA_IFNAME", Kind::Str),
    Def(IFLA_MTU, "IFLA_MTU", Kind::U32),
    Def(IFLA_LINK, "IFLA_LINK", Kind::U32),
    Def(IFLA_MASTER, "IFLA_MASTER", Kind::U32),
    Def(IFLA_TXQLEN, "IFLA_TXQLEN", Kind::U32),
    Def(IFLA_OPERSTATE, "IFLA_OPERSTATE", Kind::U8),
    Def(IFLA_LINKMODE, "IFLA_LINKMODE", Kind::U8),
    Def(IFLA_LINKINFO, "IFLA_LINKINFO", Kind::Printed(link_info)),
    Def(IFLA_NET_NS_PID, "IFLA_NET_NS_PID", Kind::U32),
    Def(IFLA_IFALIAS, "IFLA_IFALIAS", Kind::Str),
    Def(IFLA_GROUP, "IFLA_GROUP", Kind::U32),
    Def(IFLA_NET_NS_FD, "IFLA_NET_NS_FD", Kind::U32),
    Def(IFLA_EXT_MASK, "IFLA_EXT_MASK", Kind::U32),
    Def(IFLA_PROMISCUITY, "IFLA_PROMISCUITY", Kind::U32),
    Def(IFLA_NUM_TX_QUEUES, "IFLA_NUM_TX_QUEUES", Kind::U32),
    Def(IFLA_NUM_RX_QUEUES, "IFLA_NUM_RX_QUEUES", Kind::U32),
    Def(IFLA_CARRIER, "IFLA_CARRIER", Kind::U8),
    Def(IFLA_LINK_NETNSID, "IFLA_LINK_NETNSID", Kind::U32),
    Def(IFLA_TARGET_NETNSID, "IFLA_TARGET_NETNSID", Kind::U32),
    Def(IFLA_MIN_MTU, "IFLA_MIN_MTU", Kind::U32),
    Def(IFLA_MAX_MTU, "IFLA_MAX_MTU", Kind::U32),
];

/// On `AF_BRIDGE` link messages `IFLA_PROTINFO` holds the port's `IFLA_BRPORT_*`.
const BRIDGE_LINK_ATTRS: &[Def] = &[
    Def(IFLA_IFNAME, "IFLA_IFNAME", Kind::Str),
    Def(IFLA_MASTER, "IFLA_MASTER", Kind::U32),
    Def(IFLA_MTU, "IFLA_MTU", Kind::U32),
    Def(IFLA_OPERSTATE, "IFLA_OPERSTATE", Kind::U8),
    Def(IFLA_ADDRESS, "IFLA_ADDRESS", Kind::Mac),
    Def(IFLA_PROTINFO, "IFLA_PROTINFO", Kind::Nest(BRPORT_ATTRS)),
    Def(IFLA_EXT_MASK, "IFLA_EXT_MASK", Kind::U32),
];

const ADDR_ATTRS: &[Def] = &[
    Def(addr::IFA_ADDRESS, "IFA_ADDRESS", Kind::Ip),
    Def(addr::IFA_LOCAL, "IFA_LOCAL", Kind::Ip),
    Def(addr::IFA_LABEL, "IFA_LABEL", Kind::Str),
    Def(addr::IFA_BROADCAST, "IFA_BROADCAST", Kind::Ip),
    Def(addr::IFA_CACHEINFO, "IFA_CACHEINFO", Kind::Bytes),
    Def(addr::IFA_FLAGS, "IFA_FLAGS", Kind::U32),
];

const VETH_PEER_ATTRS: &[Def] = &[
    Def(IFLA_ADDRESS, "IFLA_ADDRESS", Kind::Mac),
    Def(IFLA_IFNAME, "IFLA_IFNAME", Kind::Str),
    Def(IFLA_MTU, "IFLA_MTU", Kind::U32),
    Def(IFLA_NET_NS_FD, "IFLA_NET_NS_FD", Kind::U32),
    Def(IFLA_NET_NS_PID, "IFLA_NET_NS_PID", Kind::U32),
];

pub fn info_data_schema(kind: &[u8]) -> &'static [Def] {
    match kind {
        b"bridge" => BR_ATTRS,
        b"vxlan" => link::VXLAN_ATTRS,
        b"veth" => &[Def(
            link::VETH_INFO_PEER,
            "VETH_INFO_PEER",
            Kind::Printed(veth_peer),
        )],
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
    let schema = [
        Def(IFLA_INFO_KIND, "IFLA_INFO_KIND", Kind::Str),
        Def(
            IFLA_INFO_DATA,
            "IFLA_INFO_DATA",
            Kind::Nest(info_data_schema(kind)),
        ),
        Def(IFLA_INFO_XSTATS, "IFLA_INFO_XSTATS", Kind::Bytes),
        Def(IFLA_INFO_SLAVE_KIND, "IFLA_INFO_SLAVE_KIND", Kind::Str),
        Def(
            IFLA_INFO_SLAVE_DATA,
            "IFLA_INFO_SLAVE_DATA",
            Kind::Nest(info_data_schema_slave(slave_kind)),
        ),
    ];
    attributes(out, buf, &schema, depth);
}

/// `VETH_INFO_PEER`: the peer's `struct ifinfomsg` and its attributes.
fn veth_peer(out: &mut String, buf: &[u8], depth: usize) {
    let pad = pad(depth);
    match layout(RTM_NEWLINK, buf) {
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

/// The family header of message type `ty`, shown, with its length; and the attribute space
/// that follows it.
pub fn layout(ty: u16, payload: &[u8]) -> (Option<(String, usize)>, &'static [Def]) {
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
            (Some((text, 8)), ADDR_ATTRS)
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
