//! `RTM_NEWLINK` / `RTM_DELLINK` / `RTM_GETLINK` / `RTM_SETLINK`: the requests, and a reader
//! that turns a link message into the bridge model (bridge data from `IFLA_INFO_DATA`, port data
//! from `IFLA_INFO_SLAVE_DATA`) and a VXLAN device's `IFLA_VXLAN_*`.

use super::*;
use crate::bridge::{Bridge, BridgeId, Port};
use crate::error::{Error, Result};
use crate::ifname::IfName;
use crate::netlink::attr::{attrs, Attr, MsgRef};
use crate::netlink::msg::Msg;
use crate::netlink::space::attr_space;
use crate::netlink::*;

/// `ETH_MIN_MTU` / `ETH_MAX_MTU` (<linux/if_ether.h>): what an Ethernet-like link (a veth, a
/// VXLAN device) accepts.
pub const MTU_RANGE: (u32, u32) = (68, 65535);

/// An MTU such a link would refuse, refused before anything is sent; `what` names the link
/// ("a veth", "a VXLAN device").
pub fn check_mtu(object: &str, mtu: u32, what: &str) -> Result<()> {
    if (MTU_RANGE.0..=MTU_RANGE.1).contains(&mtu) {
        return Ok(());
    }
    Err(Error::invalid(
        object.to_string(),
        format!(
            "mtu {mtu} is out of range: {what} accepts {} to {}",
            MTU_RANGE.0, MTU_RANGE.1
        ),
    ))
}

/// `ip link add NAME type bridge`
pub fn new_bridge(name: &IfName) -> Msg {
    Msg::new(
        RTM_NEWLINK,
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE,
    )
    .header(&IfInfoMsg::default())
    .str(IFLA_IFNAME, name.as_str())
    .nest(IFLA_LINKINFO, |m| m.bytes(IFLA_INFO_KIND, b"bridge"))
}

/// A new link's own attributes (one end of a veth pair, a VXLAN device): its name, and
/// optionally the namespace it is born in (an open namespace fd), its MTU and its address, and
/// whether it comes up at once.
#[derive(Clone, Debug)]
pub struct NewLink {
    pub name: IfName,
    pub netns_fd: Option<i32>,
    pub mtu: Option<u32>,
    pub address: Option<[u8; 6]>,
    pub up: bool,
}

impl NewLink {
    pub fn named(name: IfName) -> NewLink {
        NewLink {
            name,
            netns_fd: None,
            mtu: None,
            address: None,
            up: false,
        }
    }

    /// The end's `ifinfomsg`: `IFF_UP` set and changed when it comes up at once.
    fn header(&self) -> IfInfoMsg {
        let up = if self.up { IFF_UP } else { 0 };
        IfInfoMsg {
            flags: up,
            change: up,
            ..Default::default()
        }
    }

    /// The end's own attributes, in the order iproute2 sends them: namespace, MTU, address,
    /// (master,) then the name.
    fn attrs(&self, m: Msg, master: Option<u32>) -> Msg {
        let m = match self.netns_fd {
            Some(fd) => m.u32(IFLA_NET_NS_FD, fd as u32),
            None => m,
        };
        let m = match self.mtu {
            Some(mtu) => m.u32(IFLA_MTU, mtu),
            None => m,
        };
        let m = match self.address {
            Some(a) => m.bytes(IFLA_ADDRESS, &a),
            None => m,
        };
        let m = match master {
            Some(ix) => m.u32(IFLA_MASTER, ix),
            None => m,
        };
        m.str(IFLA_IFNAME, self.name.as_str())
    }
}

/// `ip link add A [up] [master B] type veth peer name B [up]`: one message makes both ends, each
/// born straight into its namespace (the peer is an `ifinfomsg` and attributes nested in
/// `VETH_INFO_PEER`). The kernel brings each end up and enslaves the first to `master` in the
/// same request, and unregisters both if any of it fails.
pub fn new_veth(end: &NewLink, peer: &NewLink, master: Option<u32>) -> Msg {
    let m = Msg::new(
        RTM_NEWLINK,
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE,
    )
    .header(&end.header());
    end.attrs(m, master).nest(IFLA_LINKINFO, |m| {
        m.bytes(IFLA_INFO_KIND, b"veth").nest(IFLA_INFO_DATA, |m| {
            m.nest(VETH_INFO_PEER, |m| {
                peer.attrs(m.header(&peer.header()), None)
            })
        })
    })
}

attr_space! {
    /// A VXLAN device's `IFLA_INFO_DATA` (<linux/if_link.h>; 31 to 33 are newer than its 6.1
    /// copy, and this kernel sends them).
    pub struct VxlanAttrs, schema VXLAN_ATTRS {
        IFLA_VXLAN_ID = 1: U32 => id,
        /// The multicast group, or the one remote VTEP (IPv4).
        IFLA_VXLAN_GROUP = 2: Ip => group,
        /// The lower (underlay) device's ifindex.
        IFLA_VXLAN_LINK = 3: U32 => link,
        IFLA_VXLAN_LOCAL = 4: Ip => local,
        IFLA_VXLAN_TTL = 5: U8 => ttl,
        IFLA_VXLAN_TOS = 6: U8 => tos,
        IFLA_VXLAN_LEARNING = 7: U8 => learning,
        /// Seconds a learnt entry lives.
        IFLA_VXLAN_AGEING = 8: U32 => ageing,
        IFLA_VXLAN_LIMIT = 9: U32 => limit,
        /// `struct ifla_vxlan_port_range { __be16 low, high; }`: UDP source ports.
        IFLA_VXLAN_PORT_RANGE = 10: Bytes => port_range,
        /// Answer ARP/NDP from the neighbour table instead of flooding it to the VTEPs.
        IFLA_VXLAN_PROXY = 11: U8 => proxy,
        IFLA_VXLAN_RSC = 12: U8 => rsc,
        IFLA_VXLAN_L2MISS = 13: U8 => l2miss,
        IFLA_VXLAN_L3MISS = 14: U8 => l3miss,
        /// The UDP destination port.
        IFLA_VXLAN_PORT = 15: Be16 => port,
        IFLA_VXLAN_GROUP6 = 16: Ip => group6,
        IFLA_VXLAN_LOCAL6 = 17: Ip => local6,
        IFLA_VXLAN_UDP_CSUM = 18: U8 => udp_csum,
        IFLA_VXLAN_UDP_ZERO_CSUM6_TX = 19: U8 => udp_zero_csum6_tx,
        IFLA_VXLAN_UDP_ZERO_CSUM6_RX = 20: U8 => udp_zero_csum6_rx,
        IFLA_VXLAN_REMCSUM_TX = 21: U8 => remcsum_tx,
        IFLA_VXLAN_REMCSUM_RX = 22: U8 => remcsum_rx,
        IFLA_VXLAN_GBP = 23: Flag => gbp,
        IFLA_VXLAN_REMCSUM_NOPARTIAL = 24: Flag => remcsum_nopartial,
        IFLA_VXLAN_COLLECT_METADATA = 25: U8 => collect_metadata,
        IFLA_VXLAN_LABEL = 26: Be32 => label,
        IFLA_VXLAN_GPE = 27: Flag => gpe,
        IFLA_VXLAN_TTL_INHERIT = 28: Flag => ttl_inherit,
        IFLA_VXLAN_DF = 29: U8 => df,
        IFLA_VXLAN_VNIFILTER = 30: U8 => vnifilter,
        IFLA_VXLAN_LOCALBYPASS = 31: U8 => localbypass,
        IFLA_VXLAN_LABEL_POLICY = 32: U32 => label_policy,
        IFLA_VXLAN_RESERVED_BITS = 33: Bytes => reserved_bits,
    }
}

/// What a new VXLAN device's `IFLA_INFO_DATA` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VxlanData {
    pub vni: u32,
    /// The address its UDP socket binds to and sends from (IPv6: `IFLA_VXLAN_LOCAL6`).
    pub local: Option<std::net::IpAddr>,
    /// The underlay device's ifindex.
    pub lower: Option<u32>,
    /// UDP destination port.
    pub port: u16,
    pub learning: bool,
    pub proxy: bool,
    pub ttl: Option<u8>,
    pub ageing: Option<u32>,
}

/// `ip link add NAME [mtu N] [master B] [up] type vxlan id VNI [dev LOWER] [proxy] [ttl N]
/// [ageing S] [local ADDR] [nolearning] dstport PORT`: one message, in iproute2's order (the
/// options it writes as it reads them, then id, local, learning and port).
pub fn new_vxlan(dev: &NewLink, master: Option<u32>, vx: &VxlanData) -> Msg {
    let m = Msg::new(
        RTM_NEWLINK,
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE,
    )
    .header(&dev.header());
    dev.attrs(m, master).nest(IFLA_LINKINFO, |m| {
        m.bytes(IFLA_INFO_KIND, b"vxlan").nest(IFLA_INFO_DATA, |m| {
            let m = match vx.lower {
                Some(ix) => m.u32(IFLA_VXLAN_LINK, ix),
                None => m,
            };
            let m = if vx.proxy {
                m.u8(IFLA_VXLAN_PROXY, 1)
            } else {
                m
            };
            let m = match vx.ttl {
                Some(t) => m.u8(IFLA_VXLAN_TTL, t),
                None => m,
            };
            let m = match vx.ageing {
                Some(a) => m.u32(IFLA_VXLAN_AGEING, a),
                None => m,
            };
            let m = m.u32(IFLA_VXLAN_ID, vx.vni);
            let m = match vx.local {
                Some(std::net::IpAddr::V4(a)) => m.bytes(IFLA_VXLAN_LOCAL, &a.octets()),
                Some(std::net::IpAddr::V6(a)) => m.bytes(IFLA_VXLAN_LOCAL6, &a.octets()),
                None => m,
            };
            m.u8(IFLA_VXLAN_LEARNING, vx.learning as u8)
                .be16(IFLA_VXLAN_PORT, vx.port)
        })
    })
}

/// A link setting `ip link set` changes with one attribute.
#[derive(Clone, Copy, Debug)]
pub enum LinkAttr {
    Mtu(u32),
    Address([u8; 6]),
    /// A new name for the link.
    Name(IfName),
    /// Move it into the namespace open on this fd.
    NetNsFd(i32),
    Group(u32),
}

/// `ip link set dev INDEX mtu|address|name|netns|group ...`
pub fn set_link(index: u32, attr: LinkAttr) -> Msg {
    let m = Msg::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK).header(&IfInfoMsg {
        index: index as i32,
        ..Default::default()
    });
    match attr {
        LinkAttr::Mtu(v) => m.u32(IFLA_MTU, v),
        LinkAttr::Address(a) => m.bytes(IFLA_ADDRESS, &a),
        LinkAttr::Name(n) => m.str(IFLA_IFNAME, n.as_str()),
        LinkAttr::NetNsFd(fd) => m.u32(IFLA_NET_NS_FD, fd as u32),
        LinkAttr::Group(g) => m.u32(IFLA_GROUP, g),
    }
}

/// `ip link set dev NAME address MAC` addressed by name: with `ifi_index` 0 the kernel finds
/// the link by its `IFLA_IFNAME`, so no lookup goes first.
pub fn set_address_named(name: &IfName, mac: [u8; 6]) -> Msg {
    Msg::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK)
        .header(&IfInfoMsg::default())
        .bytes(IFLA_ADDRESS, &mac)
        .str(IFLA_IFNAME, name.as_str())
}

/// `ip link set dev NAME up|down` in one message, addressed by name.
pub fn set_flags_named(name: &IfName, flags: u32, change: u32) -> Msg {
    Msg::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK)
        .header(&IfInfoMsg {
            flags,
            change,
            ..Default::default()
        })
        .str(IFLA_IFNAME, name.as_str())
}

/// `IFF_UP` from <linux/if.h>.
pub const IFF_UP: u32 = 1;
/// `IFF_BROADCAST` from <linux/if.h>.
pub const IFF_BROADCAST: u32 = 2;

/// `ip link set dev INDEX up|down`: the flags in `ifi_change` are set to those in `ifi_flags`.
pub fn set_flags(index: u32, flags: u32, change: u32) -> Msg {
    Msg::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK).header(&IfInfoMsg {
        index: index as i32,
        flags,
        change,
        ..Default::default()
    })
}

/// `ip link del group GROUP`: every link of the group in one request, so the kernel
/// unregisters them as one batch (one RCU wait for all, not one each).
pub fn del_group(group: u32) -> Msg {
    Msg::new(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK)
        .header(&IfInfoMsg::default())
        .u32(IFLA_GROUP, group)
}

/// `ip link del dev NAME`
pub fn del_link(index: u32) -> Msg {
    Msg::new(RTM_DELLINK, NLM_F_REQUEST | NLM_F_ACK).header(&IfInfoMsg {
        index: index as i32,
        ..Default::default()
    })
}

/// `ip link set dev PORT master BRIDGE` (`master` 0: `nomaster`)
pub fn set_master(index: u32, master: u32) -> Msg {
    Msg::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK)
        .header(&IfInfoMsg {
            index: index as i32,
            ..Default::default()
        })
        .u32(IFLA_MASTER, master)
}

/// An `IFLA_BR_*` value, sized as the kernel's policy wants it.
#[derive(Clone, Copy, Debug)]
pub enum BrAttr {
    U32(u16, u32),
    U16(u16, u16),
}

/// `ip link set dev BRIDGE type bridge <setting>`
pub fn set_bridge(index: u32, attr: BrAttr) -> Msg {
    Msg::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK)
        .header(&IfInfoMsg {
            index: index as i32,
            ..Default::default()
        })
        .nest(IFLA_LINKINFO, |m| {
            m.bytes(IFLA_INFO_KIND, b"bridge")
                .nest(IFLA_INFO_DATA, |m| match attr {
                    BrAttr::U32(ty, v) => m.u32(ty, v),
                    BrAttr::U16(ty, v) => m.u16(ty, v),
                })
        })
}

/// An `IFLA_BRPORT_*` value for `AF_BRIDGE` `IFLA_PROTINFO`.
#[derive(Clone, Copy, Debug)]
pub enum BrPortAttr {
    U32(u16, u32),
    U16(u16, u16),
    U8(u16, u8),
}

/// `bridge link set dev PORT <setting>`
pub fn set_port(index: u32, attr: BrPortAttr) -> Msg {
    Msg::new(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK)
        .header(&IfInfoMsg {
            family: AF_BRIDGE,
            index: index as i32,
            ..Default::default()
        })
        .nest(IFLA_PROTINFO | NLA_F_NESTED, |m| match attr {
            BrPortAttr::U32(ty, v) => m.u32(ty, v),
            BrPortAttr::U16(ty, v) => m.u16(ty, v),
            BrPortAttr::U8(ty, v) => m.u8(ty, v),
        })
}

/// `ip link show dev NAME`: one link, by name. Without `NLM_F_ACK` the kernel answers with the
/// link alone, or an error.
pub fn get_link(name: &IfName, ext_mask: u32) -> Msg {
    Msg::new(RTM_GETLINK, NLM_F_REQUEST)
        .header(&IfInfoMsg {
            family: AF_PACKET,
            ..Default::default()
        })
        .str(IFLA_IFNAME, name.as_str())
        .u32(IFLA_EXT_MASK, ext_mask)
}

/// `ip -n NS link show dev INDEX` without entering NS: one link by index, in the namespace this
/// one knows as `nsid` (`IFLA_TARGET_NETNSID`), or here when `nsid` is `None`.
pub fn get_link_by_index(index: u32, nsid: Option<i32>, ext_mask: u32) -> Msg {
    let m = Msg::new(RTM_GETLINK, NLM_F_REQUEST).header(&IfInfoMsg {
        family: AF_PACKET,
        index: index as i32,
        ..Default::default()
    });
    let m = match nsid {
        Some(id) => m.u32(IFLA_TARGET_NETNSID, id as u32),
        None => m,
    };
    m.u32(IFLA_EXT_MASK, ext_mask)
}

/// `ip link show`: every link in the namespace.
pub fn dump_links(ext_mask: u32) -> Msg {
    Msg::new(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP)
        .header(&IfInfoMsg {
            family: AF_PACKET,
            ..Default::default()
        })
        .u32(IFLA_EXT_MASK, ext_mask)
}

/// `bridge link show`: every bridge port, as `AF_BRIDGE` describes them (`IFLA_MASTER` and the
/// port's `IFLA_BRPORT_*` in `IFLA_PROTINFO`; bridges themselves are not listed).
pub fn dump_bridge_ports() -> Msg {
    Msg::new(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP).header(&IfInfoMsg {
        family: AF_BRIDGE,
        ..Default::default()
    })
}

/// What one `RTM_NEWLINK` says about a link.
#[derive(Clone, Debug, Default)]
pub struct Link {
    pub index: u32,
    /// `ifi_type`: `ARPHRD_*`.
    pub ty: u16,
    pub flags: u32,
    pub name: Option<IfName>,
    pub address: Option<[u8; 6]>,
    pub master: u32,
    pub mtu: u32,
    /// `IFLA_MIN_MTU` / `IFLA_MAX_MTU`: what the device accepts (0 when not said).
    pub min_mtu: u32,
    pub max_mtu: u32,
    /// `IFLA_OPERSTATE` (RFC 2863: 2 down, 6 up, ...).
    pub operstate: u8,
    pub group: u32,
    /// `IFLA_INFO_KIND`: "veth", "bridge", ... (empty for a device without one, such as lo).
    pub kind: String,
    /// `IFLA_LINK`: for a veth, the peer's index, in the peer's namespace.
    pub link: Option<u32>,
    /// `IFLA_LINK_NETNSID`: present when the peer is in another namespace, by the id this
    /// namespace gives it.
    pub link_netnsid: Option<i32>,
    /// `IFLA_INFO_KIND` is "bridge": `bridge` holds its `IFLA_BR_*` data.
    pub bridge: Option<Bridge>,
    /// `IFLA_INFO_SLAVE_KIND` is "bridge" (or `IFLA_PROTINFO` on AF_BRIDGE): a bridge port.
    pub port: Option<Port>,
    /// `IFLA_INFO_KIND` is "vxlan": its `IFLA_VXLAN_*`.
    pub vxlan: Option<VxlanAttrs>,
}

pub fn parse_link(m: &MsgRef) -> Result<Link> {
    if m.ty != RTM_NEWLINK {
        return Err(Error::malformed(
            "RTM_GETLINK",
            format!("unexpected message type {}", m.ty),
        ));
    }
    let h: IfInfoMsg = crate::netlink::msg::from_bytes(m.payload)
        .ok_or_else(|| Error::malformed("RTM_NEWLINK", "ifinfomsg is cut short"))?;
    let mut link = Link {
        index: h.index as u32,
        ty: h.ty,
        flags: h.flags,
        ..Default::default()
    };
    for a in attrs(&m.payload[16..]) {
        let a = a?;
        match a.ty {
            IFLA_IFNAME => link.name = IfName::from_bytes(a.str_bytes()).ok(),
            IFLA_ADDRESS if a.value.len() == 6 => link.address = Some(a.array()?),
            IFLA_MASTER => link.master = a.u32()?,
            IFLA_MTU => link.mtu = a.u32()?,
            IFLA_MIN_MTU => link.min_mtu = a.u32()?,
            IFLA_MAX_MTU => link.max_mtu = a.u32()?,
            IFLA_OPERSTATE => link.operstate = a.u8()?,
            IFLA_GROUP => link.group = a.u32()?,
            IFLA_LINK => link.link = Some(a.u32()?),
            IFLA_LINK_NETNSID => link.link_netnsid = Some(a.u32()? as i32),
            IFLA_LINKINFO => parse_link_info(&a, &mut link)?,
            IFLA_PROTINFO if h.family == AF_BRIDGE => link.port = Some(parse_port(&a)?),
            _ => {}
        }
    }
    if let Some(b) = link.bridge.as_mut() {
        b.name = link.name;
        b.ifindex = link.index;
    }
    if let Some(p) = link.port.as_mut() {
        p.name = link.name;
        p.ifindex = link.index;
    }
    Ok(link)
}

fn parse_link_info(info: &Attr, link: &mut Link) -> Result<()> {
    let (mut kind, mut slave_kind) = (&b""[..], &b""[..]);
    let (mut data, mut slave_data) = (None, None);
    for a in info.nested_attrs() {
        let a = a?;
        match a.ty {
            IFLA_INFO_KIND => kind = a.str_bytes(),
            IFLA_INFO_SLAVE_KIND => slave_kind = a.str_bytes(),
            IFLA_INFO_DATA => data = Some(a),
            IFLA_INFO_SLAVE_DATA => slave_data = Some(a),
            _ => {}
        }
    }
    link.kind = String::from_utf8_lossy(kind).into_owned();
    if kind == b"bridge" {
        link.bridge = Some(match data {
            Some(d) => parse_bridge(&d)?,
            None => Bridge::default(),
        });
    }
    if kind == b"vxlan" {
        link.vxlan = Some(match data {
            Some(d) => VxlanAttrs::parse(d.value)?,
            None => VxlanAttrs::default(),
        });
    }
    if slave_kind == b"bridge" {
        link.port = Some(match slave_data {
            Some(d) => parse_port(&d)?,
            None => Port::default(),
        });
    }
    Ok(())
}

fn parse_bridge(data: &Attr) -> Result<Bridge> {
    let mut b = Bridge::default();
    for a in data.nested_attrs() {
        let a = a?;
        match a.ty {
            IFLA_BR_FORWARD_DELAY => b.forward_delay = a.u32()?,
            IFLA_BR_HELLO_TIME => b.hello_time = a.u32()?,
            IFLA_BR_MAX_AGE => b.max_age = a.u32()?,
            IFLA_BR_AGEING_TIME => b.ageing_time = a.u32()?,
            IFLA_BR_STP_STATE => b.stp_state = a.u32()?,
            IFLA_BR_ROOT_ID => b.designated_root = BridgeId::from_bytes(&a.array()?),
            IFLA_BR_BRIDGE_ID => b.bridge_id = BridgeId::from_bytes(&a.array()?),
            IFLA_BR_ROOT_PORT => b.root_port = a.u16()?,
            IFLA_BR_ROOT_PATH_COST => b.root_path_cost = a.u32()?,
            IFLA_BR_TOPOLOGY_CHANGE => b.topology_change = a.u8()? != 0,
            IFLA_BR_TOPOLOGY_CHANGE_DETECTED => b.topology_change_detected = a.u8()? != 0,
            IFLA_BR_HELLO_TIMER => b.hello_timer = a.u64()?,
            IFLA_BR_TCN_TIMER => b.tcn_timer = a.u64()?,
            IFLA_BR_TOPOLOGY_CHANGE_TIMER => b.topology_change_timer = a.u64()?,
            IFLA_BR_GC_TIMER => b.gc_timer = a.u64()?,
            _ => {}
        }
    }
    Ok(b)
}

fn parse_port(data: &Attr) -> Result<Port> {
    let mut p = Port::default();
    for a in data.nested_attrs() {
        let a = a?;
        match a.ty {
            IFLA_BRPORT_STATE => p.state = a.u8()?,
            IFLA_BRPORT_PRIORITY => p.priority = a.u16()?,
            IFLA_BRPORT_COST => p.path_cost = a.u32()?,
            IFLA_BRPORT_MODE => p.hairpin = a.u8()? != 0,
            IFLA_BRPORT_ROOT_ID => p.designated_root = BridgeId::from_bytes(&a.array()?),
            IFLA_BRPORT_BRIDGE_ID => p.designated_bridge = BridgeId::from_bytes(&a.array()?),
            IFLA_BRPORT_DESIGNATED_PORT => p.designated_port = a.u16()?,
            // The kernel puts a u32 cost in a u16 attribute here.
            IFLA_BRPORT_DESIGNATED_COST => p.designated_cost = a.u16()? as u32,
            IFLA_BRPORT_ID => p.port_id = a.u16()?,
            IFLA_BRPORT_NO => p.port_no = a.u16()?,
            IFLA_BRPORT_TOPOLOGY_CHANGE_ACK => p.topology_change_ack = a.u8()? != 0,
            IFLA_BRPORT_CONFIG_PENDING => p.config_pending = a.u8()? != 0,
            IFLA_BRPORT_MESSAGE_AGE_TIMER => p.message_age_timer = a.u64()?,
            IFLA_BRPORT_FORWARD_DELAY_TIMER => p.forward_delay_timer = a.u64()?,
            IFLA_BRPORT_HOLD_TIMER => p.hold_timer = a.u64()?,
            _ => {}
        }
    }
    Ok(p)
}
