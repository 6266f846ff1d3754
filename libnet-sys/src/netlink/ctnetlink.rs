//! Conntrack over `NETLINK_NETFILTER`, subsystem `NFNL_SUBSYS_CTNETLINK`
//! (<linux/netfilter/nfnetlink_conntrack.h>): reading the connection tracking table and
//! deleting entries from it, as `conntrack -L` / `conntrack -D` do.
//!
//! NAT is decided on a connection's first packet and kept in its conntrack entry, so a
//! changed or removed DNAT rule does not move flows that already exist; for UDP, where a
//! flow lives as long as packets keep coming, the old entries have to be deleted.
//!
//! ```text
//!   -> IPCTNL_MSG_CT_GET  REQUEST|DUMP  nfgenmsg{family=AF_INET}
//!   <- IPCTNL_MSG_CT_NEW  MULTI         nfgenmsg{family=AF_INET}
//!        CTA_TUPLE_ORIG { CTA_TUPLE_IP { CTA_IP_V4_SRC, CTA_IP_V4_DST },
//!                         CTA_TUPLE_PROTO { CTA_PROTO_NUM u8, CTA_PROTO_SRC_PORT be16,
//!                                           CTA_PROTO_DST_PORT be16 } }
//!        CTA_TUPLE_REPLY {...} CTA_ZONE be16 (not the default zone only) CTA_ID be32 ...
//!   -> IPCTNL_MSG_CT_DELETE  REQUEST|ACK  CTA_TUPLE_ORIG {...} [CTA_ZONE] CTA_ID
//! ```
//!
//! Every attribute integer is big-endian, as in nf_tables.

use super::attr::{attrs, Attr, MsgRef};
use super::msg::Msg;
use super::nft::{show_nfgenmsg, NfGenMsg, NETLINK_NETFILTER, NFNL_SUBSYS_CTNETLINK};
use super::socket::NlSocket;
use super::space::{attr_table, Def};
use super::*;
use crate::error::{Error, Result};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

// <linux/netfilter/nfnetlink_conntrack.h>: enum cntl_msg_types
pub const IPCTNL_MSG_CT_NEW: u16 = 0;
pub const IPCTNL_MSG_CT_GET: u16 = 1;
pub const IPCTNL_MSG_CT_DELETE: u16 = 2;
pub const IPCTNL_MSG_CT_GET_CTRZERO: u16 = 3;
pub const IPCTNL_MSG_CT_GET_STATS_CPU: u16 = 4;
pub const IPCTNL_MSG_CT_GET_STATS: u16 = 5;
pub const IPCTNL_MSG_CT_GET_DYING: u16 = 6;
pub const IPCTNL_MSG_CT_GET_UNCONFIRMED: u16 = 7;

/// The netlink type of a conntrack message: subsystem in the high byte.
pub const fn ct_type(msg: u16) -> u16 {
    (NFNL_SUBSYS_CTNETLINK << 8) | msg
}

fn ct_msg(msg: u16, flags: u16, family: u8) -> Msg {
    Msg::new(ct_type(msg), NLM_F_REQUEST | flags).header(&NfGenMsg {
        family,
        ..Default::default()
    })
}

/// An original-direction IPv4 tuple, as `conntrack -L` prints its first half. Ports are
/// there for protocols that have them (TCP, UDP, UDP-Lite, SCTP, DCCP), else `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuple {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub proto: u8,
    pub sport: Option<u16>,
    pub dport: Option<u16>,
    /// `CTA_TUPLE_ZONE`: a zone that applies to this direction only.
    pub zone: Option<u16>,
}

/// One conntrack entry, as much of it as finding and deleting it takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flow {
    pub orig: Tuple,
    /// The reply direction: its source is where NAT sent the flow (a DNAT target).
    pub reply: Option<Tuple>,
    /// `CTA_ZONE`; the kernel sends it only for a zone other than the default 0.
    pub zone: Option<u16>,
    /// `CTA_ID`: with it, a delete finds `ENOENT` rather than another entry that took the
    /// same tuple since (one that reuses the freed entry's memory gets the same id, though).
    pub id: Option<u32>,
}

/// `conntrack -L -f ipv4`: every entry of `family` (`AF_INET`; 0 for all); the kernel
/// filters by family itself.
pub fn dump_flows(family: u8) -> Msg {
    ct_msg(IPCTNL_MSG_CT_GET, NLM_F_DUMP, family)
}

/// `conntrack -D` of one entry, by its original tuple (with its zone and id).
pub fn del_flow(f: &Flow) -> Msg {
    let t = f.orig;
    let family = if t.src.is_ipv6() {
        libc::AF_INET6
    } else {
        libc::AF_INET
    };
    // A DELETE without a tuple flushes the whole table: the tuple is always written.
    let m = ct_msg(IPCTNL_MSG_CT_DELETE, NLM_F_ACK, family as u8).nest(
        CTA_TUPLE_ORIG | NLA_F_NESTED,
        |m| {
            let m = m
                .nest(CTA_TUPLE_IP | NLA_F_NESTED, |m| match (t.src, t.dst) {
                    (IpAddr::V4(s), IpAddr::V4(d)) => m
                        .bytes(CTA_IP_V4_SRC, &s.octets())
                        .bytes(CTA_IP_V4_DST, &d.octets()),
                    (s, d) => m
                        .bytes(CTA_IP_V6_SRC, &v6(s).octets())
                        .bytes(CTA_IP_V6_DST, &v6(d).octets()),
                })
                .nest(CTA_TUPLE_PROTO | NLA_F_NESTED, |m| {
                    let m = m.u8(CTA_PROTO_NUM, t.proto);
                    match (t.sport, t.dport) {
                        (Some(s), Some(d)) => {
                            m.be16(CTA_PROTO_SRC_PORT, s).be16(CTA_PROTO_DST_PORT, d)
                        }
                        _ => m,
                    }
                });
            match t.zone {
                Some(z) => m.be16(CTA_TUPLE_ZONE, z),
                None => m,
            }
        },
    );
    let m = match f.zone {
        Some(z) => m.be16(CTA_ZONE, z),
        None => m,
    };
    match f.id {
        Some(id) => m.be32(CTA_ID, id),
        None => m,
    }
}

/// An address of an IPv6 tuple (an IPv4 one mapped, which no tuple mixes).
fn v6(a: IpAddr) -> Ipv6Addr {
    match a {
        IpAddr::V6(a) => a,
        IpAddr::V4(a) => a.to_ipv6_mapped(),
    }
}

fn parse_tuple(t: &Attr) -> Result<Option<Tuple>> {
    let (mut src, mut dst, mut proto) = (None, None, None);
    let (mut sport, mut dport, mut zone) = (None, None, None);
    for a in t.nested_attrs() {
        let a = a?;
        match a.ty {
            CTA_TUPLE_IP => {
                for a in a.nested_attrs() {
                    let a = a?;
                    match a.ty {
                        CTA_IP_V4_SRC => src = Some(Ipv4Addr::from(a.array::<4>()?).into()),
                        CTA_IP_V4_DST => dst = Some(Ipv4Addr::from(a.array::<4>()?).into()),
                        CTA_IP_V6_SRC => src = Some(Ipv6Addr::from(a.array::<16>()?).into()),
                        CTA_IP_V6_DST => dst = Some(Ipv6Addr::from(a.array::<16>()?).into()),
                        _ => {}
                    }
                }
            }
            CTA_TUPLE_PROTO => {
                for a in a.nested_attrs() {
                    let a = a?;
                    match a.ty {
                        CTA_PROTO_NUM => proto = Some(a.u8()?),
                        CTA_PROTO_SRC_PORT => sport = Some(a.be16()?),
                        CTA_PROTO_DST_PORT => dport = Some(a.be16()?),
                        _ => {}
                    }
                }
            }
            CTA_TUPLE_ZONE => zone = Some(a.be16()?),
            _ => {}
        }
    }
    Ok(match (src, dst, proto) {
        (Some(src), Some(dst), Some(proto)) => Some(Tuple {
            src,
            dst,
            proto,
            sport,
            dport,
            zone,
        }),
        // An IPv6 entry (in a dump of every family) is not for us.
        _ => None,
    })
}

/// Reads one `IPCTNL_MSG_CT_NEW` of a dump; `None` for an entry without an IPv4 tuple.
pub fn parse_flow(m: &MsgRef) -> Result<Option<Flow>> {
    if m.ty != ct_type(IPCTNL_MSG_CT_NEW) {
        return Err(Error::malformed(
            "IPCTNL_MSG_CT_GET",
            format!("unexpected message type {:#x}", m.ty),
        ));
    }
    let body = m
        .payload
        .get(4..)
        .ok_or_else(|| Error::malformed("IPCTNL_MSG_CT_NEW", "nfgenmsg is cut short"))?;
    let (mut orig, mut reply, mut zone, mut id) = (None, None, None, None);
    for a in attrs(body) {
        let a = a?;
        match a.ty {
            CTA_TUPLE_ORIG => orig = parse_tuple(&a)?,
            CTA_TUPLE_REPLY => reply = parse_tuple(&a)?,
            CTA_ZONE => zone = Some(a.be16()?),
            CTA_ID => id = Some(a.be32()?),
            _ => {}
        }
    }
    Ok(orig.map(|orig| Flow {
        orig,
        reply,
        zone,
        id,
    }))
}

/// Whether `t` is a flow to `dst` (any address when `None`), protocol `proto`, destination
/// port in `first..=last`.
pub fn matches(t: &Tuple, proto: u8, dst: Option<IpAddr>, first: u16, last: u16) -> bool {
    t.proto == proto
        && dst.map_or(true, |d| d == t.dst)
        && t.dport.is_some_and(|p| (first..=last).contains(&p))
}

fn proto_name(p: u8) -> String {
    match p as i32 {
        libc::IPPROTO_TCP => "tcp".into(),
        libc::IPPROTO_UDP => "udp".into(),
        libc::IPPROTO_SCTP => "sctp".into(),
        p => format!("proto {p}"),
    }
}

/// Deletes the conntrack entries whose original tuple is IPv4, protocol `proto`, to `dst`
/// (any address when `None`), destination port in `first..=last`, and, with `to`, that NAT
/// sent to `to` (the reply comes from it): the flows a removed port mapping would otherwise
/// keep sending to its old target, and no flow it did not map. Returns how many were
/// deleted. `nl` is a `NETLINK_NETFILTER` socket (the one nf_tables uses will do).
///
/// The table is read whole first and the entries deleted after, one request each: the
/// socket carries one conversation at a time. An entry gone by then (expired, or deleted by
/// someone else) is not an error, nor counted.
pub fn delete_flows(
    nl: &mut NlSocket,
    proto: u8,
    dst: Option<IpAddr>,
    first: u16,
    last: u16,
    to: Option<IpAddr>,
) -> Result<usize> {
    let what = match dst {
        Some(d) => format!("{} {d} dport {first}-{last}", proto_name(proto)),
        None => format!("{} dport {first}-{last}", proto_name(proto)),
    };
    if nl.protocol() != NETLINK_NETFILTER {
        return Err(Error::invalid(
            what,
            "conntrack needs a NETLINK_NETFILTER socket",
        ));
    }
    // The family of the flows: the addresses', IPv4 without one.
    let family = match dst.or(to) {
        Some(IpAddr::V6(_)) => libc::AF_INET6,
        _ => libc::AF_INET,
    };
    if first > last {
        return Err(Error::invalid(
            what,
            format!("port range {first}-{last} is empty"),
        ));
    }
    let found = nl.dump(
        || dump_flows(family as u8),
        &what,
        Vec::new,
        |v: &mut Vec<Flow>, m| {
            if let Some(f) = parse_flow(m)? {
                let sent_to = |a| f.reply.is_some_and(|r| r.src == a);
                if matches(&f.orig, proto, dst, first, last) && to.map_or(true, sent_to) {
                    v.push(f);
                }
            }
            Ok(())
        },
    )?;
    let mut deleted = 0;
    for f in &found {
        let t = f.orig;
        let object = format!(
            "{} {}:{} -> {}:{}",
            proto_name(t.proto),
            t.src,
            t.sport.unwrap_or(0),
            t.dst,
            t.dport.unwrap_or(0)
        );
        match nl.request(del_flow(f), &object) {
            Ok(()) => deleted += 1,
            Err(e) if e.is(libc::ENOENT) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(deleted)
}

/// Whether `ty` (a `NETLINK_NETFILTER` type) is a conntrack message.
pub fn is_ct(ty: u16) -> bool {
    ty >> 8 == NFNL_SUBSYS_CTNETLINK
}

/// Conntrack, one subsystem of NETLINK_NETFILTER.
pub struct Conntrack;

impl Family for Conntrack {
    fn owns(&self, ty: u16) -> bool {
        is_ct(ty)
    }
    fn msg_type_name(&self, ty: u16) -> &'static str {
        match ty & 0xff {
            IPCTNL_MSG_CT_NEW => "IPCTNL_MSG_CT_NEW",
            IPCTNL_MSG_CT_GET => "IPCTNL_MSG_CT_GET",
            IPCTNL_MSG_CT_DELETE => "IPCTNL_MSG_CT_DELETE",
            IPCTNL_MSG_CT_GET_CTRZERO => "IPCTNL_MSG_CT_GET_CTRZERO",
            IPCTNL_MSG_CT_GET_STATS_CPU => "IPCTNL_MSG_CT_GET_STATS_CPU",
            IPCTNL_MSG_CT_GET_STATS => "IPCTNL_MSG_CT_GET_STATS",
            IPCTNL_MSG_CT_GET_DYING => "IPCTNL_MSG_CT_GET_DYING",
            IPCTNL_MSG_CT_GET_UNCONFIRMED => "IPCTNL_MSG_CT_GET_UNCONFIRMED",
            _ => "IPCTNL_MSG_(unknown)",
        }
    }
    /// GET requests read the 0x100.. flags as ROOT/MATCH.
    fn is_get(&self, ty: u16) -> bool {
        is_ct(ty)
            && matches!(
                ty & 0xff,
                IPCTNL_MSG_CT_GET
                    | IPCTNL_MSG_CT_GET_CTRZERO
                    | IPCTNL_MSG_CT_GET_STATS_CPU
                    | IPCTNL_MSG_CT_GET_STATS
                    | IPCTNL_MSG_CT_GET_DYING
                    | IPCTNL_MSG_CT_GET_UNCONFIRMED
            )
    }
    /// The `nfgenmsg` of a conntrack message, shown, and the attribute space that follows it.
    fn layout(&self, ty: u16, payload: &[u8]) -> (Option<(String, usize)>, &'static [Def]) {
        let Some(header) = show_nfgenmsg(payload, family_name) else {
            return (None, &[]);
        };
        let schema = match ty & 0xff {
            IPCTNL_MSG_CT_NEW
            | IPCTNL_MSG_CT_GET
            | IPCTNL_MSG_CT_DELETE
            | IPCTNL_MSG_CT_GET_CTRZERO => CT_ATTRS,
            _ => &[],
        };
        (Some(header), schema)
    }
}

attr_table! {
    /// `enum ctattr_ip`
    IP_ATTRS {
        CTA_IP_V4_SRC = 1: Ip,
        CTA_IP_V4_DST = 2: Ip,
        CTA_IP_V6_SRC = 3: Ip,
        CTA_IP_V6_DST = 4: Ip,
    }
}

attr_table! {
    /// `enum ctattr_l4proto`
    PROTO_ATTRS {
        CTA_PROTO_NUM = 1: U8,
        CTA_PROTO_SRC_PORT = 2: Be16,
        CTA_PROTO_DST_PORT = 3: Be16,
        CTA_PROTO_ICMP_ID = 4: Be16,
        CTA_PROTO_ICMP_TYPE = 5: U8,
        CTA_PROTO_ICMP_CODE = 6: U8,
    }
}

attr_table! {
    /// `enum ctattr_tuple`
    TUPLE_ATTRS {
        CTA_TUPLE_IP = 1: Nest(IP_ATTRS),
        CTA_TUPLE_PROTO = 2: Nest(PROTO_ATTRS),
        CTA_TUPLE_ZONE = 3: Be16,
    }
}

attr_table! {
    /// `enum ctattr_protoinfo_tcp`
    PROTOINFO_TCP_ATTRS {
        CTA_PROTOINFO_TCP_STATE = 1: U8,
        CTA_PROTOINFO_TCP_WSCALE_ORIGINAL = 2: U8,
        CTA_PROTOINFO_TCP_WSCALE_REPLY = 3: U8,
        CTA_PROTOINFO_TCP_FLAGS_ORIGINAL = 4: Bytes,
        CTA_PROTOINFO_TCP_FLAGS_REPLY = 5: Bytes,
    }
}

attr_table! {
    /// `enum ctattr_protoinfo`
    PROTOINFO_ATTRS {
        CTA_PROTOINFO_TCP = 1: Nest(PROTOINFO_TCP_ATTRS),
    }
}

attr_table! {
    /// `enum ctattr_counters`
    COUNTERS_ATTRS {
        CTA_COUNTERS_PACKETS = 1: Be64,
        CTA_COUNTERS_BYTES = 2: Be64,
    }
}

attr_table! {
    /// `enum ctattr_tstamp`
    TIMESTAMP_ATTRS {
        CTA_TIMESTAMP_START = 1: Be64,
        CTA_TIMESTAMP_STOP = 2: Be64,
    }
}

attr_table! {
    /// `enum ctattr_synproxy`
    SYNPROXY_ATTRS {
        CTA_SYNPROXY_ISN = 1: Be32,
        CTA_SYNPROXY_ITS = 2: Be32,
        CTA_SYNPROXY_TSOFF = 3: Be32,
    }
}

attr_table! {
    /// `enum ctattr_type`
    CT_ATTRS {
        CTA_TUPLE_ORIG = 1: Nest(TUPLE_ATTRS),
        CTA_TUPLE_REPLY = 2: Nest(TUPLE_ATTRS),
        CTA_STATUS = 3: Be32,
        CTA_PROTOINFO = 4: Nest(PROTOINFO_ATTRS),
        CTA_HELP = 5: Bytes,
        CTA_NAT_SRC = 6: Bytes,
        CTA_TIMEOUT = 7: Be32,
        CTA_MARK = 8: Be32,
        CTA_COUNTERS_ORIG = 9: Nest(COUNTERS_ATTRS),
        CTA_COUNTERS_REPLY = 10: Nest(COUNTERS_ATTRS),
        CTA_USE = 11: Be32,
        CTA_ID = 12: Be32,
        CTA_NAT_DST = 13: Bytes,
        CTA_TUPLE_MASTER = 14: Nest(TUPLE_ATTRS),
        CTA_SEQ_ADJ_ORIG = 15: Bytes,
        CTA_SEQ_ADJ_REPLY = 16: Bytes,
        CTA_ZONE = 18: Be16,
        CTA_SECCTX = 19: Bytes,
        CTA_TIMESTAMP = 20: Nest(TIMESTAMP_ATTRS),
        CTA_MARK_MASK = 21: Be32,
        CTA_LABELS = 22: Bytes,
        CTA_LABELS_MASK = 23: Bytes,
        CTA_SYNPROXY = 24: Nest(SYNPROXY_ATTRS),
        CTA_FILTER = 25: Bytes,
        CTA_STATUS_MASK = 26: Be32,
    }
}

fn family_name(f: u8) -> String {
    match f as i32 {
        libc::AF_UNSPEC => "AF_UNSPEC".into(),
        libc::AF_INET => "AF_INET".into(),
        libc::AF_INET6 => "AF_INET6".into(),
        f => f.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(len: u32, ty: u16, flags: u16) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&len.to_ne_bytes());
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&7u32.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v
    }

    /// An attribute header, host order.
    fn nla(len: u16, ty: u16) -> [u8; 4] {
        let (l, t) = (len.to_ne_bytes(), ty.to_ne_bytes());
        [l[0], l[1], t[0], t[1]]
    }

    fn flow() -> Flow {
        Flow {
            orig: Tuple {
                src: Ipv4Addr::new(192, 0, 2, 2).into(),
                dst: Ipv4Addr::new(192, 0, 2, 1).into(),
                proto: 17,
                sport: Some(40000),
                dport: Some(5353),
                zone: None,
            },
            reply: None,
            zone: None,
            id: None,
        }
    }

    /// `CTA_TUPLE_ORIG` for 192.0.2.2:40000 -> 192.0.2.1:5353 udp, exactly as the kernel
    /// dumps it and conntrack-tools sends it back (52 bytes).
    fn tuple_bytes() -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&nla(52, CTA_TUPLE_ORIG | NLA_F_NESTED));
        v.extend_from_slice(&nla(20, CTA_TUPLE_IP | NLA_F_NESTED));
        v.extend_from_slice(&nla(8, CTA_IP_V4_SRC));
        v.extend_from_slice(&[192, 0, 2, 2]);
        v.extend_from_slice(&nla(8, CTA_IP_V4_DST));
        v.extend_from_slice(&[192, 0, 2, 1]);
        v.extend_from_slice(&nla(28, CTA_TUPLE_PROTO | NLA_F_NESTED));
        v.extend_from_slice(&nla(5, CTA_PROTO_NUM));
        v.extend_from_slice(&[17, 0, 0, 0]);
        v.extend_from_slice(&nla(6, CTA_PROTO_SRC_PORT));
        v.extend_from_slice(&[0x9c, 0x40, 0, 0]);
        v.extend_from_slice(&nla(6, CTA_PROTO_DST_PORT));
        v.extend_from_slice(&[0x14, 0xe9, 0, 0]);
        v
    }

    #[test]
    fn dump_request_bytes() {
        let b = dump_flows(libc::AF_INET as u8).finish(7, 0);
        let mut want = hdr(20, 0x0101, NLM_F_REQUEST | NLM_F_DUMP);
        want.extend_from_slice(&[2, 0, 0, 0]);
        assert_eq!(b, want);
    }

    #[test]
    fn delete_request_bytes() {
        // The bytes conntrack -D sends for this entry, up to its tuple; then zone and id.
        let mut f = flow();
        let b = del_flow(&f).finish(7, 0);
        let mut want = hdr(20 + 52, 0x0102, NLM_F_REQUEST | NLM_F_ACK);
        want.extend_from_slice(&[2, 0, 0, 0]);
        want.extend_from_slice(&tuple_bytes());
        assert_eq!(b, want);

        f.zone = Some(7);
        f.id = Some(0x5890_81cd);
        let b = del_flow(&f).finish(7, 0);
        let mut want = hdr(20 + 52 + 8 + 8, 0x0102, NLM_F_REQUEST | NLM_F_ACK);
        want.extend_from_slice(&[2, 0, 0, 0]);
        want.extend_from_slice(&tuple_bytes());
        want.extend_from_slice(&nla(6, CTA_ZONE));
        want.extend_from_slice(&[0, 7, 0, 0]);
        want.extend_from_slice(&nla(8, CTA_ID));
        want.extend_from_slice(&[0x58, 0x90, 0x81, 0xcd]);
        assert_eq!(b, want);
    }

    /// A real kernel reply (6.18, `conntrack -I -p udp -s 192.0.2.2 -d 192.0.2.1 --sport
    /// 40000 --dport 5353 --zone 7`, then a dump), little-endian headers.
    #[cfg(target_endian = "little")]
    const KERNEL_ENTRY: &str = "
        c8 00 00 00 00 01 02 00  b9 93 04 6b f0 29 00 00
        02 00 00 00 34 00 01 80  14 00 01 80 08 00 01 00
        c0 00 02 02 08 00 02 00  c0 00 02 01 1c 00 02 80
        05 00 01 00 11 00 00 00  06 00 02 00 9c 40 00 00
        06 00 03 00 14 e9 00 00  34 00 02 80 14 00 01 80
        08 00 01 00 c0 00 02 01  08 00 02 00 c0 00 02 02
        1c 00 02 80 05 00 01 00  11 00 00 00 06 00 02 00
        14 e9 00 00 06 00 03 00  9c 40 00 00 06 00 12 00
        00 07 00 00 08 00 03 00  00 00 00 08 08 00 08 00
        00 00 00 00 08 00 0c 00  cf c9 a1 3e 08 00 0b 00
        00 00 00 01 08 00 07 00  00 00 00 1d 1c 00 18 80
        08 00 01 00 00 00 00 00  08 00 02 00 00 00 00 00
        08 00 03 00 00 00 00 00";

    #[cfg(target_endian = "little")]
    fn unhex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn parses_a_kernel_entry_and_deletes_it_by_the_same_tuple() {
        let bytes = unhex(KERNEL_ENTRY);
        let m = messages(&bytes).next().unwrap().unwrap();
        let f = parse_flow(&m).unwrap().unwrap();
        let mut want = flow();
        want.zone = Some(7);
        want.id = Some(0xcfc9_a13e);
        want.reply = Some(Tuple {
            src: want.orig.dst,
            dst: want.orig.src,
            sport: want.orig.dport,
            dport: want.orig.sport,
            ..want.orig
        });
        assert_eq!(f, want);
        // The delete carries the dumped CTA_TUPLE_ORIG byte for byte.
        let del = del_flow(&f).finish(7, 0);
        assert_eq!(del[20..72], bytes[20..72]);
        assert!(matches(&f.orig, 17, None, 5353, 5353));
        assert!(matches(
            &f.orig,
            17,
            Some(Ipv4Addr::new(192, 0, 2, 1).into()),
            5000,
            6000
        ));
        assert!(!matches(&f.orig, 6, None, 5353, 5353));
        assert!(!matches(
            &f.orig,
            17,
            Some(Ipv4Addr::new(192, 0, 2, 9).into()),
            5353,
            5353
        ));
        assert!(!matches(&f.orig, 17, None, 5354, 6000));
    }

    #[cfg(target_endian = "little")]
    #[test]
    fn truncated_entries_are_errors_not_panics() {
        let bytes = unhex(KERNEL_ENTRY);
        for cut in 16..bytes.len() {
            let mut b = bytes[..cut].to_vec();
            b[0..4].copy_from_slice(&(cut as u32).to_ne_bytes());
            let m = messages(&b).next().unwrap().unwrap();
            let _ = parse_flow(&m);
        }
    }

    #[test]
    fn explain_names_every_attribute() {
        let mut f = flow();
        f.id = Some(1);
        let ct = Protocol {
            number: NETLINK_NETFILTER,
            families: &[&Conntrack],
        };
        let text = super::super::decode::describe(&ct, &del_flow(&f).finish(1, 0));
        let want = "nfgenmsg{family=AF_INET, version=0, res_id=0}
CTA_TUPLE_ORIG (NLA_F_NESTED)
  CTA_TUPLE_IP (NLA_F_NESTED)
    CTA_IP_V4_SRC 192.0.2.2
    CTA_IP_V4_DST 192.0.2.1
  CTA_TUPLE_PROTO (NLA_F_NESTED)
    CTA_PROTO_NUM 17
    CTA_PROTO_SRC_PORT 40000 (network order)
    CTA_PROTO_DST_PORT 5353 (network order)
CTA_ID 0x1 (network order)
";
        assert_eq!(text, want);
        assert_eq!(
            ct.msg_type_name(ct_type(IPCTNL_MSG_CT_DELETE)),
            "IPCTNL_MSG_CT_DELETE"
        );
        assert_eq!(
            ct.flag_names(ct_type(IPCTNL_MSG_CT_GET), NLM_F_REQUEST | NLM_F_DUMP),
            "REQUEST|ROOT|MATCH"
        );
    }
}
