//! Neighbour messages (`RTM_NEWNEIGH` / `RTM_DELNEIGH` / `RTM_GETNEIGH`, <linux/neighbour.h>)
//! of every family: `AF_INET`/`AF_INET6` neighbour (ARP/NDP) entries and `AF_BRIDGE`
//! forwarding-database entries (a VXLAN device's own, `NTF_SELF`, or a bridge's, `NTF_MASTER`).
//! The builders send what `ip neigh` and `bridge fdb` send, byte for byte; [`parse_neigh`]
//! reads any of them back; [`fdb_entry`] turns a bridge's entry into the record `brforward`
//! would hold for it.
//!
//! ```text
//!   ndmsg{family, ifindex, state=NUD_*, flags=NTF_*, type}  NDA_* attributes
//! ```

use super::*;
use crate::bridge::FdbEntry;
use crate::error::{Error, Result};
use crate::netlink::attr::MsgRef;
use crate::netlink::msg::{from_bytes, Msg};
use crate::netlink::space::attr_space;
use crate::netlink::*;
use std::net::IpAddr;

attr_space! {
    /// The attributes of a neighbour message.
    pub struct NeighAttrs, schema NEIGH_ATTRS {
        /// The neighbour's network address; on `AF_BRIDGE`, the remote VTEP's.
        NDA_DST = 1: Ip => dst,
        NDA_LLADDR = 2: HwAddr => lladdr,
        /// `struct nda_cacheinfo { confirmed, used, updated, refcnt }` (u32 each, centiseconds).
        NDA_CACHEINFO = 3: Bytes => cacheinfo,
        NDA_PROBES = 4: U32 => probes,
        NDA_VLAN = 5: U16 => vlan,
        /// A VXLAN entry's UDP destination port.
        NDA_PORT = 6: Be16 => port,
        /// A VXLAN entry's VNI, when it is not the device's.
        NDA_VNI = 7: U32 => vni,
        /// A VXLAN entry's outgoing device toward the VTEP.
        NDA_IFINDEX = 8: U32 => ifindex,
        /// A bridge entry's bridge; in a dump request, only that bridge's entries.
        NDA_MASTER = 9: U32 => master,
        NDA_LINK_NETNSID = 10: U32 => link_netnsid,
        NDA_SRC_VNI = 11: U32 => src_vni,
        NDA_PROTOCOL = 12: U8 => protocol,
        NDA_NH_ID = 13: U32 => nh_id,
        NDA_FDB_EXT_ATTRS = 14: Bytes => fdb_ext_attrs,
        NDA_FLAGS_EXT = 15: U32 => flags_ext,
        NDA_NDM_STATE_MASK = 16: U16 => ndm_state_mask,
        NDA_NDM_FLAGS_MASK = 17: U8 => ndm_flags_mask,
    }
}

// <linux/neighbour.h>: ndm_flags
pub const NTF_USE: u8 = 0x01;
/// The entry is the device's own (a VXLAN device's remote list), not its master's.
pub const NTF_SELF: u8 = 0x02;
/// The entry is in the device's master (the bridge the port is in).
pub const NTF_MASTER: u8 = 0x04;
/// A proxy entry (`pneigh`): answer for this address. `== ATF_PUBL`.
pub const NTF_PROXY: u8 = 0x08;
pub const NTF_EXT_LEARNED: u8 = 0x10;
pub const NTF_OFFLOADED: u8 = 0x20;
pub const NTF_STICKY: u8 = 0x40;
pub const NTF_ROUTER: u8 = 0x80;

// <linux/neighbour.h>: ndm_state
pub const NUD_INCOMPLETE: u16 = 0x01;
pub const NUD_REACHABLE: u16 = 0x02;
pub const NUD_STALE: u16 = 0x04;
pub const NUD_DELAY: u16 = 0x08;
pub const NUD_PROBE: u16 = 0x10;
pub const NUD_FAILED: u16 = 0x20;
/// No resolution needed; in a bridge's table, a static entry.
pub const NUD_NOARP: u16 = 0x40;
/// Never expires, never deleted by the kernel; in a bridge's table, a local entry.
pub const NUD_PERMANENT: u16 = 0x80;

/// `NUD_NOARP|NUD_PERMANENT`, as `--explain` shows an `ndm_state`.
pub fn state_names(state: u16) -> String {
    names(
        state as u32,
        &[
            (NUD_INCOMPLETE as u32, "NUD_INCOMPLETE"),
            (NUD_REACHABLE as u32, "NUD_REACHABLE"),
            (NUD_STALE as u32, "NUD_STALE"),
            (NUD_DELAY as u32, "NUD_DELAY"),
            (NUD_PROBE as u32, "NUD_PROBE"),
            (NUD_FAILED as u32, "NUD_FAILED"),
            (NUD_NOARP as u32, "NUD_NOARP"),
            (NUD_PERMANENT as u32, "NUD_PERMANENT"),
        ],
    )
}

/// `NTF_SELF|NTF_MASTER`, as `--explain` shows an `ndm_flags`.
pub fn flag_names(flags: u8) -> String {
    names(
        flags as u32,
        &[
            (NTF_USE as u32, "NTF_USE"),
            (NTF_SELF as u32, "NTF_SELF"),
            (NTF_MASTER as u32, "NTF_MASTER"),
            (NTF_PROXY as u32, "NTF_PROXY"),
            (NTF_EXT_LEARNED as u32, "NTF_EXT_LEARNED"),
            (NTF_OFFLOADED as u32, "NTF_OFFLOADED"),
            (NTF_STICKY as u32, "NTF_STICKY"),
            (NTF_ROUTER as u32, "NTF_ROUTER"),
        ],
    )
}

pub(crate) fn names(v: u32, table: &[(u32, &str)]) -> String {
    let set: Vec<&str> = table
        .iter()
        .filter(|(bit, _)| v & bit != 0)
        .map(|(_, n)| *n)
        .collect();
    match set.is_empty() {
        true => "0".into(),
        false => set.join("|"),
    }
}

pub const AF_INET: u8 = libc::AF_INET as u8;
pub const AF_INET6: u8 = libc::AF_INET6 as u8;

/// How a new entry meets one already there.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum NeighOp {
    /// `NLM_F_CREATE|NLM_F_EXCL`: an entry already there is an error (`EEXIST`).
    Add,
    /// `NLM_F_CREATE|NLM_F_REPLACE`: made or changed (idempotent).
    Replace,
    /// `NLM_F_CREATE|NLM_F_APPEND`: one more destination of a VXLAN entry (the all-zeros MAC's
    /// list floods to every VTEP on it).
    Append,
}

impl NeighOp {
    pub fn flags(self) -> u16 {
        NLM_F_REQUEST
            | NLM_F_ACK
            | NLM_F_CREATE
            | match self {
                NeighOp::Add => NLM_F_EXCL,
                NeighOp::Replace => NLM_F_REPLACE,
                NeighOp::Append => NLM_F_APPEND,
            }
    }
}

/// One neighbour message: its `ndmsg` and attributes. What a request says, and what a reply
/// reads as.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Neighbour {
    pub family: u8,
    pub ifindex: u32,
    /// `NUD_*`
    pub state: u16,
    /// `NTF_*`
    pub flags: u8,
    /// `ndm_type`: `RTN_*` (0 in requests).
    pub ty: u8,
    pub attrs: NeighAttrs,
}

impl Neighbour {
    /// A request's `ndmsg`, with no attributes yet.
    pub fn header(family: u8, ifindex: u32, state: u16, flags: u8) -> Neighbour {
        Neighbour {
            family,
            ifindex,
            state,
            flags,
            ..Default::default()
        }
    }

    fn ndmsg(&self) -> NdMsg {
        NdMsg {
            family: self.family,
            ifindex: self.ifindex as i32,
            state: self.state,
            flags: self.flags,
            ty: self.ty,
            ..Default::default()
        }
    }

    /// The attributes in the order iproute2 writes them: `bridge fdb` says the MAC first, then
    /// where it lives (`dst port vni via`); `ip neigh` says the address first, then its MAC.
    fn put(&self, m: Msg) -> Msg {
        let a = &self.attrs;
        let lladdr = |m: Msg| match &a.lladdr {
            Some(l) => m.bytes(NDA_LLADDR, l),
            None => m,
        };
        let dst = |m: Msg| match a.dst {
            Some(IpAddr::V4(v)) => m.bytes(NDA_DST, &v.octets()),
            Some(IpAddr::V6(v)) => m.bytes(NDA_DST, &v.octets()),
            None => m,
        };
        let m = if self.family == AF_BRIDGE {
            dst(lladdr(m))
        } else {
            lladdr(dst(m))
        };
        let m = match a.port {
            Some(p) => m.be16(NDA_PORT, p),
            None => m,
        };
        let m = match a.vni {
            Some(v) => m.u32(NDA_VNI, v),
            None => m,
        };
        let m = match a.ifindex {
            Some(i) => m.u32(NDA_IFINDEX, i),
            None => m,
        };
        match a.master {
            Some(i) => m.u32(NDA_MASTER, i),
            None => m,
        }
    }
}

/// `ip neigh add|replace ADDR lladdr MAC dev DEV nud permanent`, `ip neigh add proxy ADDR dev
/// DEV`, `bridge fdb add|replace|append MAC dev DEV [dst ADDR] [port P] [vni V] self|master`.
pub fn new_neigh(op: NeighOp, n: &Neighbour) -> Msg {
    n.put(Msg::new(RTM_NEWNEIGH, op.flags()).header(&n.ndmsg()))
}

/// `ip neigh del ADDR dev DEV`, `bridge fdb del MAC dev DEV [dst ADDR]`: the entry is found by
/// the same header and attributes that made it.
pub fn del_neigh(n: &Neighbour) -> Msg {
    n.put(Msg::new(RTM_DELNEIGH, NLM_F_REQUEST | NLM_F_ACK).header(&n.ndmsg()))
}

/// `ip [-4|-6] neigh show [proxy] [dev DEV]` (`family` `AF_UNSPEC` for both): a dump of the
/// neighbour table, or with `flags` `NTF_PROXY` of the proxy entries, filtered by the kernel to
/// one device with `NDA_IFINDEX`.
pub fn dump_neigh(family: u8, flags: u8, ifindex: Option<u32>) -> Msg {
    let m = Msg::new(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP).header(&NdMsg {
        family,
        flags,
        ..Default::default()
    });
    match ifindex {
        Some(i) => m.u32(NDA_IFINDEX, i),
        None => m,
    }
}

/// `bridge fdb show [dev DEV]`: every `AF_BRIDGE` entry, or one device's (by `ndm_ifindex`,
/// which the kernel's strict check reads as "this port or VXLAN device").
pub fn dump_fdb_dev(ifindex: Option<u32>) -> Msg {
    Msg::new(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP).header(&NdMsg {
        family: AF_BRIDGE,
        ifindex: ifindex.unwrap_or(0) as i32,
        ..Default::default()
    })
}

/// `bridge fdb show br BRIDGE`
pub fn dump_fdb(bridge: u32) -> Msg {
    Msg::new(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP)
        .header(&NdMsg {
            family: AF_BRIDGE,
            ..Default::default()
        })
        .u32(NDA_MASTER, bridge)
}

/// Reads one `RTM_NEWNEIGH` (a dump's entry, or an event).
pub fn parse_neigh(m: &MsgRef) -> Result<Neighbour> {
    if m.ty != RTM_NEWNEIGH && m.ty != RTM_DELNEIGH {
        return Err(Error::malformed(
            "RTM_GETNEIGH",
            format!("unexpected message type {}", m.ty),
        ));
    }
    let h: NdMsg = from_bytes(m.payload)
        .ok_or_else(|| Error::malformed("RTM_GETNEIGH", "ndmsg is cut short"))?;
    Ok(Neighbour {
        family: h.family,
        ifindex: h.ifindex as u32,
        state: h.state,
        flags: h.flags,
        ty: h.ty,
        attrs: NeighAttrs::parse(&m.payload[std::mem::size_of::<NdMsg>()..])?,
    })
}

/// One entry of a bridge's dump, turned into the record `brforward` would hold for it, or
/// `None` for what `brforward` leaves out: entries a port device reports about itself
/// (`NTF_SELF`), entries of the bridge device itself (no port), and expired ones (`NUD_STALE`).
/// `port_no` maps a port's ifindex to its bridge port number.
pub fn fdb_entry(
    m: &MsgRef,
    bridge: u32,
    port_no: &dyn Fn(u32) -> Option<u16>,
) -> Result<Option<FdbEntry>> {
    let n = parse_neigh(m)?;
    if m.ty != RTM_NEWNEIGH
        || n.flags & NTF_SELF != 0
        || n.state & NUD_STALE != 0
        || n.ifindex == bridge
    {
        return Ok(None);
    }
    let mac = match n.attrs.lladdr.as_deref().map(<[u8; 6]>::try_from) {
        Some(Ok(mac)) => mac,
        Some(Err(_)) => {
            return Err(Error::malformed(
                "RTM_GETNEIGH",
                "NDA_LLADDR is not 6 bytes",
            ))
        }
        None => return Ok(None),
    };
    let Some(port_no) = port_no(n.ifindex) else {
        return Ok(None);
    };
    if n.attrs.master.unwrap_or(0) != bridge {
        return Ok(None);
    }
    // struct nda_cacheinfo { ndm_confirmed, ndm_used, ndm_updated, ndm_refcnt }
    let updated = match &n.attrs.cacheinfo {
        Some(c) => u32::from_ne_bytes(
            c.get(8..12)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| Error::malformed("RTM_GETNEIGH", "NDA_CACHEINFO is cut short"))?,
        ),
        None => 0,
    };
    // Local and static entries never age: brforward reports 0 for them.
    let is_local = n.state & NUD_PERMANENT != 0;
    let ageing = if is_local || n.state & NUD_NOARP != 0 {
        0
    } else {
        updated
    };
    Ok(Some(FdbEntry {
        mac,
        port_no,
        is_local,
        ageing_timer: ageing,
    }))
}
