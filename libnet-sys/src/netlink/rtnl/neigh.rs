//! `RTM_GETNEIGH` on `AF_BRIDGE`: the bridge forwarding database, read as the records
//! `brforward` would give (see [`fdb_entry`]).

use super::*;
use crate::bridge::FdbEntry;
use crate::error::{Error, Result};
use crate::netlink::attr::{attrs, MsgRef};
use crate::netlink::msg::{from_bytes, Msg};
use crate::netlink::*;

/// `bridge fdb show br BRIDGE`
pub fn dump_fdb(bridge: u32) -> Msg {
    Msg::new(RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP)
        .header(&NdMsg {
            family: AF_BRIDGE,
            ..Default::default()
        })
        .u32(NDA_MASTER, bridge)
}

/// One entry of the dump, turned into the record `brforward` would hold for it, or `None` for
/// what `brforward` leaves out: entries a port device reports about itself (`NTF_SELF`),
/// entries of the bridge device itself (no port), and expired ones (`NUD_STALE`).
/// `port_no` maps a port's ifindex to its bridge port number.
pub fn fdb_entry(
    m: &MsgRef,
    bridge: u32,
    port_no: &dyn Fn(u32) -> Option<u16>,
) -> Result<Option<FdbEntry>> {
    let h: NdMsg = from_bytes(m.payload)
        .ok_or_else(|| Error::malformed("RTM_GETNEIGH", "ndmsg is cut short"))?;
    if m.ty != RTM_NEWNEIGH
        || h.flags & NTF_SELF != 0
        || h.state & NUD_STALE != 0
        || h.ifindex as u32 == bridge
    {
        return Ok(None);
    }
    let (mut mac, mut master, mut updated) = (None, 0, 0u32);
    for a in attrs(m.payload.get(12..).unwrap_or(&[])) {
        let a = a?;
        match a.ty {
            NDA_LLADDR => mac = Some(a.array::<6>()?),
            NDA_MASTER => master = a.u32()?,
            // struct nda_cacheinfo { ndm_confirmed, ndm_used, ndm_updated, ndm_refcnt }
            NDA_CACHEINFO => {
                updated = u32::from_ne_bytes(
                    a.value
                        .get(8..12)
                        .and_then(|s| s.try_into().ok())
                        .ok_or_else(|| {
                            Error::malformed("RTM_GETNEIGH", "NDA_CACHEINFO is cut short")
                        })?,
                )
            }
            _ => {}
        }
    }
    let (Some(mac), Some(port_no)) = (mac, port_no(h.ifindex as u32)) else {
        return Ok(None);
    };
    if master != bridge {
        return Ok(None);
    }
    // Local and static entries never age: brforward reports 0 for them.
    let is_local = h.state & NUD_PERMANENT != 0;
    let ageing = if is_local || h.state & NUD_NOARP != 0 {
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
