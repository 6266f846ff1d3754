//! The rule model in nf_tables: tables of natctl's own, `ip natctl` for IPv4 and `ip6 natctl`
//! for IPv6 (made when a rule of that family first needs it), and nothing else touched. Its base chains sit one step away from the standard priorities (dstnat - 1,
//! srcnat + 1, filter - 1): at equal priority the hook registered last runs first, so a
//! distinct priority keeps the order fixed whatever started first.
//!
//! ```text
//! table ip natctl {
//!   chain prerouting  { type nat hook prerouting priority -101; fib daddr type local jump publish }
//!   chain output      { type nat hook output priority -101;     fib daddr type local jump publish }
//!   chain publish     { [ip daddr H] [iifname I] meta l4proto P th dport N counter dnat to D:M }
//!   chain postrouting { type nat hook postrouting priority 101;
//!                       ip saddr S [oifname [!=] O] counter masquerade | snat to A
//!                       ip saddr 127.0.0.0/8 ip daddr D meta l4proto P th dport M masquerade
//!                       ip saddr D ip daddr D meta l4proto P th dport M masquerade
//!                       ip daddr D iifname V oifname V meta l4proto P th dport M masquerade }
//!   chain forward     { type filter hook forward priority -1; iifname A oifname B counter drop
//!                       iifname I oifname != I jump isolation }
//!   chain isolation   { oifname I counter drop }   (each bridge I of the isolated set)
//! }
//! ```
//!
//! Each kernel rule carries a comment `natctl:SPEC` (the rule's own) or `natctl+:SPEC` (a
//! helper rule that goes with it: the masquerades that make a published port work from the
//! host and from its own container).
//!
//! Docker's usual publish, `-p PORT:CPORT` (every address, every interface), is not a rule but
//! an element of a map, as kube-proxy keeps its services: adding or deleting one is an element
//! change, which the kernel makes without validating the whole table again, so it costs the
//! same at 10,000 publishes as at none. The maps hold an element per host port (the kernel
//! keeps them in a hash, and refuses a port that is there already, so a publish overlapping
//! another is refused whole), and the helpers are elements too, of two sets that mark a
//! connection to be masqueraded before its DNAT (kube-proxy's mark, 0x4000), with fixed rules:
//!
//! ```text
//!   map publish-tcp, publish-udp { type inet_service : ADDR . inet_service; counter;
//!                                  elements = { PORT comment "natctl:SPEC" : D . M } }
//!   set hairpin    { type ADDR . inet_proto . inet_service;
//!                    elements = { D . tcp . PORT comment "natctl+:SPEC" } }
//!   set neighbours { type ifname . inet_proto . inet_service;
//!                    elements = { BR . tcp . PORT comment "natctl+:SPEC" } }
//!   chain publish     { ip saddr . meta l4proto . th dport @hairpin meta mark set meta mark | 0x4000
//!                       iifname . meta l4proto . th dport @neighbours meta mark set meta mark | 0x4000
//!                       dnat ip to tcp dport map @publish-tcp   (and udp) ... }
//!   chain postrouting { ip saddr 127.0.0.0/8 ct status dnat masquerade
//!                       meta mark & 0x4000 == 0x4000 meta mark set meta mark & ~0x4000 masquerade ... }
//! ```
//!
//! A helper element is its publish's own (the host port is in its key), so it goes with it.

use super::spec::{tag, untag, BASE_TAG};
use super::{octets, Action, Family, Lowered, Out, Place, Ports, Proto, Rule, Subnet, LOOPBACK};
use crate::ifname::IfName;
use crate::netlink::nft::expr::*;
use crate::netlink::nft::set::{self, Elem, SetDef};
use crate::netlink::nft::{self, Hook, NFPROTO_IPV4, NFPROTO_IPV6};
use crate::netlink::Msg;
use std::net::{IpAddr, Ipv6Addr};

pub const TABLE: &str = "natctl";

/// Both families, in the order their tables are read and listed.
pub const FAMILIES: [Family; 2] = [Family::V4, Family::V6];

/// `NFPROTO_*` of a family's table.
pub fn nfproto(f: Family) -> u8 {
    match f {
        Family::V4 => NFPROTO_IPV4,
        Family::V6 => NFPROTO_IPV6,
    }
}

/// The family of an `NFPROTO_*`, when it is one of natctl's.
pub fn family_of(nfproto: u8) -> Option<Family> {
    FAMILIES.into_iter().find(|f| self::nfproto(*f) == nfproto)
}

/// The table's name as nft writes it: `ip natctl`, `ip6 natctl`.
pub fn table_name(f: Family) -> String {
    format!("{} {TABLE}", f.name())
}
pub const PUBLISH: &str = "publish";
/// The isolated set's second stage, made with the first rule that jumps to it.
pub const ISOLATION: &str = "isolation";

/// The base chains, in the order they are made.
pub const CHAINS: [(&str, Hook); 4] = [
    (
        "prerouting",
        Hook {
            ty: "nat",
            hooknum: nft::NF_INET_PRE_ROUTING,
            priority: -101,
        },
    ),
    (
        "output",
        Hook {
            ty: "nat",
            hooknum: nft::NF_INET_LOCAL_OUT,
            priority: -101,
        },
    ),
    (
        "postrouting",
        Hook {
            ty: "nat",
            hooknum: nft::NF_INET_POST_ROUTING,
            priority: 101,
        },
    ),
    (
        "forward",
        Hook {
            ty: "filter",
            hooknum: nft::NF_INET_FORWARD,
            priority: -1,
        },
    ),
];

/// The messages that make a family's table, its chains and the jumps to `publish`. IPv6's
/// output jump leaves ::1 alone: the kernel would DNAT it and then never route it off the
/// host, so a client is told "connection refused" at once instead of waiting.
pub fn setup(f: Family) -> Vec<(Msg, String)> {
    let fam = nfproto(f);
    let mut v = vec![(
        nft::new_table(fam, TABLE),
        format!("table {}", table_name(f)),
    )];
    for (name, hook) in CHAINS {
        v.push((
            nft::new_chain(fam, TABLE, name, Some(hook)),
            format!("chain {name}"),
        ));
    }
    v.push((
        nft::new_chain(fam, TABLE, PUBLISH, None),
        format!("chain {PUBLISH}"),
    ));
    let jump = [
        Expr::Fib {
            flags: FIB_F_DADDR,
            result: FIB_RESULT_ADDRTYPE,
            dreg: REG_1,
        },
        // fib results are host order: RTN_LOCAL (2) as a native u32.
        Expr::Cmp {
            sreg: REG_1,
            op: CMP_EQ,
            data: 2u32.to_ne_bytes().to_vec(),
        },
        Expr::Immediate {
            dreg: REG_VERDICT,
            data: Data::Verdict(NFT_JUMP, Some(PUBLISH.into())),
        },
    ];
    for chain in ["prerouting", "output"] {
        let mut e = Vec::new();
        if f == Family::V6 && chain == "output" {
            e.extend(ip_field(
                CMP_NEQ,
                24,
                Subnet::host(IpAddr::V6(Ipv6Addr::LOCALHOST)),
            ));
        }
        e.extend(jump.iter().cloned());
        v.push((
            nft::new_rule(fam, TABLE, chain, &e, &nft::comment_udata(BASE_TAG)),
            format!("jump from {chain}"),
        ));
    }
    v.extend(maps(f));
    v
}

/// The maps of published ports and the hairpin set, and the fixed rules that use them: made
/// with the table, or added to a table an older natctl made without them.
pub fn maps(f: Family) -> Vec<(Msg, String)> {
    let fam = nfproto(f);
    let base = |chain: &str, e: &[Expr], what: String| {
        (
            nft::new_rule(fam, TABLE, chain, e, &nft::comment_udata(BASE_TAG)),
            what,
        )
    };
    let mut v = Vec::new();
    for p in PROTOS {
        v.push((
            set::new_set(fam, TABLE, &map_def(f, p)),
            format!("map {}", map_name(p)),
        ));
    }
    for def in [hairpin_def(f), neighbours_def()] {
        let what = format!("set {}", def.name);
        v.push((set::new_set(fam, TABLE, &def), what));
    }
    // Marked to be masqueraded: a container to its own published port (its source is the
    // destination), and a neighbour on the destination's bridge (in by that bridge). Each key
    // is three fields in 32-bit registers from REG_1's: an address takes one or four, a name
    // four.
    let addr = f.bits() as u32 / 8;
    let src = Expr::Payload {
        base: PAYLOAD_NETWORK,
        offset: if f == Family::V4 { 12 } else { 8 },
        len: addr,
        dreg: REG_1,
    };
    let iif = Expr::Meta {
        key: META_IIFNAME,
        dreg: REG_1,
    };
    for (first, len, name, bit) in [
        (src, addr, HAIRPIN, MASQ_MARK),
        (iif, 16, NEIGHBOURS, NEIGHBOUR_MARK),
    ] {
        let l4 = NFT_REG32_00 + len / 4;
        let e = [
            first,
            Expr::Meta {
                key: META_L4PROTO,
                dreg: l4,
            },
            Expr::Hton {
                reg: l4,
                len: 1,
                size: 2,
            },
            th_dport(l4 + 1),
            Expr::Lookup {
                set: name.into(),
                sreg: REG_1,
                dreg: None,
            },
        ];
        let mut e = e.to_vec();
        e.extend(mark(!bit, bit));
        e.push(Expr::MetaSet {
            key: META_MARK,
            sreg: REG_1,
        });
        v.push(base(PUBLISH, &e, format!("mark by set {name}")));
    }
    // The map's data is the address then the port, each in 32-bit registers from REG_1's:
    // the port is in the one after the address.
    let port_reg = NFT_REG32_00 + addr / 4;
    for p in PROTOS {
        let mut e = l4proto(p.number());
        e.extend([
            th_dport(REG_1),
            Expr::Lookup {
                set: map_name(p).into(),
                sreg: REG_1,
                dreg: Some(REG_1),
            },
            Expr::Nat {
                ty: NAT_DNAT,
                family: fam as u32,
                reg_addr: REG_1,
                reg_proto: Some((port_reg, port_reg)),
            },
        ]);
        v.push(base(PUBLISH, &e, format!("dnat by map {}", map_name(p))));
    }
    // From the host's 127.0.0.0/8 (IPv4 only: the kernel never routes ::1 off the host), and
    // what the chain of published ports marked, the mark taken off again.
    if f == Family::V4 {
        let mut e = saddr(LOOPBACK);
        e.extend(dnatted());
        e.push(Expr::Masq);
        v.push(base("postrouting", &e, "masquerade from loopback".into()));
    }
    // Marked for itself, masqueraded; marked as a neighbour's, masqueraded when routed (it
    // came in by an interface: bridged by br_netfilter it has none here, and keeps its source
    // as on the other path); both marks taken off again.
    let both = MASQ_MARK | NEIGHBOUR_MARK;
    let has_iif = [
        Expr::Meta {
            key: META_IIF,
            dreg: REG_1,
        },
        Expr::Cmp {
            sreg: REG_1,
            op: CMP_NEQ,
            data: vec![0; 4],
        },
    ];
    for (bit, routed, masq) in [
        (MASQ_MARK, false, true),
        (NEIGHBOUR_MARK, true, true),
        (NEIGHBOUR_MARK, false, false),
    ] {
        let mut e = mark(bit, 0).to_vec();
        e.push(Expr::Cmp {
            sreg: REG_1,
            op: CMP_EQ,
            data: bit.to_ne_bytes().to_vec(),
        });
        if routed {
            e.extend(has_iif.iter().cloned());
        }
        e.extend(mark(!both, 0));
        e.push(Expr::MetaSet {
            key: META_MARK,
            sreg: REG_1,
        });
        if masq {
            e.push(Expr::Masq);
        }
        v.push(base("postrouting", &e, "masquerade what is marked".into()));
    }
    v
}

/// The packet's mark, `(mark & mask) ^ xor`, in `REG_1`.
fn mark(mask: u32, xor: u32) -> [Expr; 2] {
    [
        Expr::Meta {
            key: META_MARK,
            dreg: REG_1,
        },
        Expr::Bitwise {
            sreg: REG_1,
            dreg: REG_1,
            mask: mask.to_ne_bytes().to_vec(),
            xor: xor.to_ne_bytes().to_vec(),
        },
    ]
}

/// `th dport` (network order) into `dreg`.
fn th_dport(dreg: u32) -> Expr {
    Expr::Payload {
        base: PAYLOAD_TRANSPORT,
        offset: 2,
        len: 2,
        dreg,
    }
}

/// `ct status dnat`: the connection's destination was translated.
fn dnatted() -> Vec<Expr> {
    vec![
        Expr::Ct {
            key: CT_STATUS,
            dreg: REG_1,
        },
        Expr::Bitwise {
            sreg: REG_1,
            dreg: REG_1,
            mask: IPS_DST_NAT.to_ne_bytes().to_vec(),
            xor: vec![0; 4],
        },
        Expr::Cmp {
            sreg: REG_1,
            op: CMP_NEQ,
            data: vec![0; 4],
        },
    ]
}

const PROTOS: [Proto; 2] = [Proto::Tcp, Proto::Udp];

/// A mapped publish's host ports from its own destination (a container to its own port).
pub const HAIRPIN: &str = "hairpin";
/// A mapped publish's host ports from the interface its destination is on (a neighbour).
pub const NEIGHBOURS: &str = "neighbours";

/// How many sets [`maps`] makes in a table: with its chains, what a table holds besides one
/// key object per natctl rule.
pub const SETS: u32 = 4;

/// The packet mark bits of a connection to masquerade (kube-proxy's), and of one from a
/// neighbour of its destination (masqueraded when routed).
const MASQ_MARK: u32 = 0x4000;
const NEIGHBOUR_MARK: u32 = 0x2000;

/// A set of three fields, each 32-bit aligned: the first field's type and length, a protocol,
/// a port. One key to the kernel, which keeps it in a hash: an element add or delete costs the
/// same however many it holds (an interval set of several fields, pipapo, copies its whole
/// lookup data on every commit).
fn helper_def(name: &'static str, first: (u32, u32)) -> SetDef<'static> {
    SetDef {
        name,
        flags: 0,
        key_type: set::concat_type(&[first.0, set::TYPE_INET_PROTOCOL, set::TYPE_INET_SERVICE]),
        key_len: first.1 + 8,
        data: None,
        counter: false,
    }
}

fn hairpin_def(f: Family) -> SetDef<'static> {
    let addr = match f {
        Family::V4 => set::TYPE_IPADDR,
        Family::V6 => set::TYPE_IP6ADDR,
    };
    helper_def(HAIRPIN, (addr, f.bits() as u32 / 8))
}

fn neighbours_def() -> SetDef<'static> {
    helper_def(NEIGHBOURS, (set::TYPE_IFNAME, 16))
}

/// The helper elements of a mapped publish whose destination is routed out of `via`: each of
/// its host ports from its destination, and from that interface.
pub fn helper_elems(r: &Rule, via: Option<&IfName>) -> Vec<(&'static str, Vec<Elem>)> {
    let Rule::Publish {
        ports, dest, proto, ..
    } = r
    else {
        return Vec::new();
    };
    let userdata = nft::comment_udata(&tag(&r.spec(), true));
    let elems = |first: Vec<u8>| -> Vec<Elem> {
        (ports.first..=ports.last)
            .map(|p| {
                let mut key = first.clone();
                key.extend([proto.number(), 0, 0, 0]);
                key.extend(p.to_be_bytes());
                key.extend([0, 0]);
                Elem {
                    key,
                    userdata: userdata.clone(),
                    ..Elem::default()
                }
            })
            .collect()
    };
    let mut v = vec![(HAIRPIN, elems(octets(*dest)))];
    if let Some(br) = via {
        v.push((NEIGHBOURS, elems(ifname_bytes(br.as_str()))));
    }
    v
}

/// Elements per message: an element list is one attribute, at most 64 KiB.
const CHUNK: usize = 256;

/// The messages that add `elems` to `set` (with `NLM_F_EXCL`), or delete them.
pub fn elem_msgs(f: Family, set: &str, elems: &[Elem], add: bool) -> Vec<Msg> {
    let fam = nfproto(f);
    elems
        .chunks(CHUNK)
        .map(|c| match add {
            true => set::new_elems(fam, TABLE, set, c, true),
            false => set::del_elems(fam, TABLE, set, c),
        })
        .collect()
}

/// The map a mapped publish of protocol `p` is an element of.
pub fn map_name(p: Proto) -> &'static str {
    match p {
        Proto::Tcp => "publish-tcp",
        Proto::Udp => "publish-udp",
    }
}

fn map_def(f: Family, p: Proto) -> SetDef<'static> {
    let addr = match f {
        Family::V4 => set::TYPE_IPADDR,
        Family::V6 => set::TYPE_IP6ADDR,
    };
    SetDef {
        name: map_name(p),
        flags: set::NFT_SET_MAP,
        key_type: set::TYPE_INET_SERVICE,
        key_len: 2,
        data: Some((
            set::concat_type(&[addr, set::TYPE_INET_SERVICE]),
            f.bits() as u32 / 8 + 4,
        )),
        counter: true,
    }
}

/// Whether a rule is kept as map elements: a publish on every address and every interface.
pub fn mapped(r: &Rule) -> bool {
    matches!(
        r,
        Rule::Publish {
            host: None,
            in_if: None,
            ..
        }
    )
}

/// The map and elements of a mapped publish: one per host port (to the port it maps to, as
/// its rules would map a range to a range or to one port). Any two publishes that overlap
/// share a port, so the kernel refuses the second's element (`EEXIST`).
pub fn map_elems(r: &Rule) -> Option<(&'static str, Vec<Elem>)> {
    let Rule::Publish {
        ports,
        dest,
        dports,
        proto,
        ..
    } = r
    else {
        return None;
    };
    if !mapped(r) {
        return None;
    }
    let userdata = nft::comment_udata(&tag(&r.spec(), false));
    let v = (ports.first..=ports.last)
        .map(|p| {
            let to = if dports.is_range() {
                dports.first + (p - ports.first)
            } else {
                dports.first
            };
            let mut data = octets(*dest);
            data.extend(to.to_be_bytes());
            data.extend([0, 0]);
            Elem {
                key: p.to_be_bytes().to_vec(),
                data: Some(data),
                userdata: userdata.clone(),
            }
        })
        .collect();
    Some((map_name(*proto), v))
}

fn ifname_bytes(name: &str) -> Vec<u8> {
    let mut data = name.as_bytes().to_vec();
    data.resize(16, 0);
    data
}

/// Deleting both tables whether or not they are there: `NEWTABLE` (no `EXCL`) then `DELTABLE`.
pub fn flush() -> Vec<(Msg, String)> {
    FAMILIES
        .into_iter()
        .flat_map(|f| {
            let name = format!("table {}", table_name(f));
            [
                (nft::new_table(nfproto(f), TABLE), name.clone()),
                (nft::del_table(nfproto(f), TABLE), name),
            ]
        })
        .collect()
}

/// An address field of the network header compared with `op` to a subnet (IPv4 saddr at 12,
/// daddr at 16; IPv6 at 8 and 24).
fn ip_field(op: u32, offset: u32, subnet: Subnet) -> Vec<Expr> {
    if subnet.prefix == 0 {
        return Vec::new();
    }
    let bits = subnet.family().bits();
    let len = bits as u32 / 8;
    let mut v = vec![Expr::Payload {
        base: PAYLOAD_NETWORK,
        offset,
        len,
        dreg: REG_1,
    }];
    if subnet.prefix < bits {
        v.push(Expr::Bitwise {
            sreg: REG_1,
            dreg: REG_1,
            mask: subnet.mask(),
            xor: vec![0; len as usize],
        });
    }
    v.push(Expr::Cmp {
        sreg: REG_1,
        op,
        data: octets(subnet.addr),
    });
    v
}

fn saddr(s: Subnet) -> Vec<Expr> {
    ip_field(CMP_EQ, if s.addr.is_ipv6() { 8 } else { 12 }, s)
}

fn daddr(a: IpAddr) -> Vec<Expr> {
    ip_field(CMP_EQ, if a.is_ipv6() { 24 } else { 16 }, Subnet::host(a))
}

/// `iifname`/`oifname` compared whole: 16 bytes, NUL-padded.
fn ifname(key: u32, op: u32, name: &str) -> Vec<Expr> {
    let data = ifname_bytes(name);
    vec![
        Expr::Meta { key, dreg: REG_1 },
        Expr::Cmp {
            sreg: REG_1,
            op,
            data,
        },
    ]
}

fn out(o: &Out) -> Vec<Expr> {
    match o {
        Out::Any => Vec::new(),
        Out::Is(i) => ifname(META_OIFNAME, CMP_EQ, i.as_str()),
        Out::IsNot(i) => ifname(META_OIFNAME, CMP_NEQ, i.as_str()),
    }
}

/// `meta l4proto P`
fn l4proto(proto: u8) -> Vec<Expr> {
    vec![
        Expr::Meta {
            key: META_L4PROTO,
            dreg: REG_1,
        },
        Expr::Cmp {
            sreg: REG_1,
            op: CMP_EQ,
            data: vec![proto],
        },
    ]
}

/// `meta l4proto P th dport N[-M]` (ports in network order, so a range is two memcmps).
fn dport(proto: u8, p: Ports) -> Vec<Expr> {
    let mut v = l4proto(proto);
    v.push(th_dport(REG_1));
    if p.is_range() {
        v.push(Expr::Cmp {
            sreg: REG_1,
            op: CMP_GTE,
            data: p.first.to_be_bytes().to_vec(),
        });
        v.push(Expr::Cmp {
            sreg: REG_1,
            op: CMP_LTE,
            data: p.last.to_be_bytes().to_vec(),
        });
    } else {
        v.push(Expr::Cmp {
            sreg: REG_1,
            op: CMP_EQ,
            data: p.first.to_be_bytes().to_vec(),
        });
    }
    v
}

/// The chain and expressions of one kernel rule in a table of family `f`. natctl's own rules
/// count their packets; helpers do not.
pub fn encode(l: &Lowered, f: Family) -> (&'static str, Vec<Expr>) {
    let mut e = Vec::new();
    if let Some(s) = l.src {
        e.extend(saddr(s));
    }
    if let Some(d) = l.dst {
        e.extend(daddr(d));
    }
    if let Some(i) = &l.iif {
        e.extend(ifname(META_IIFNAME, CMP_EQ, i.as_str()));
    }
    e.extend(out(&l.oif));
    if let Some((proto, ports)) = l.l4 {
        e.extend(dport(proto.number(), ports));
    }
    if !l.helper {
        e.push(Expr::Counter);
    }
    let addr = |a: IpAddr| Expr::Immediate {
        dreg: REG_1,
        data: Data::Value(octets(a)),
    };
    let family = nfproto(f) as u32;
    match l.action {
        Action::Masquerade => e.push(Expr::Masq),
        Action::Snat(to) => e.extend([
            addr(to),
            Expr::Nat {
                ty: NAT_SNAT,
                family,
                reg_addr: REG_1,
                reg_proto: None,
            },
        ]),
        Action::Dnat(to, port) => e.extend([
            addr(to),
            Expr::Immediate {
                dreg: REG_2,
                data: Data::Value(port.to_be_bytes().to_vec()),
            },
            Expr::Nat {
                ty: NAT_DNAT,
                family,
                reg_addr: REG_1,
                reg_proto: Some((REG_2, REG_2)),
            },
        ]),
        Action::Drop => e.push(Expr::Immediate {
            dreg: REG_VERDICT,
            data: Data::Verdict(libc::NF_DROP, None),
        }),
        Action::Isolation => e.push(Expr::Immediate {
            dreg: REG_VERDICT,
            data: Data::Verdict(NFT_JUMP, Some(ISOLATION.into())),
        }),
    }
    let chain = match l.place {
        Place::Publish => PUBLISH,
        Place::Postrouting => "postrouting",
        Place::Forward => "forward",
        Place::Isolation => ISOLATION,
    };
    (chain, e)
}

/// The name of a rule's key: a counter object `natctl-HASH` (FNV-1a of the spec). Made with
/// `NLM_F_EXCL` in the same transaction as the rule, it has the kernel refuse a rule that is
/// already there, so an add need not read the whole table to find out: its cost stays flat
/// as the table grows.
pub fn key(spec: &str) -> String {
    let h = spec.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("natctl-{h:016x}")
}

/// The messages that add one natctl rule to the table of family `f`: its key, then its kernel
/// rules (`lowered`), each tagged with its spec; or, for a mapped publish, its elements.
pub fn add(r: &Rule, lowered: &[Lowered], f: Family, object: &str) -> Vec<(Msg, String)> {
    let spec = r.spec();
    let fam = nfproto(f);
    let keyed = (
        nft::new_counter(fam, TABLE, &key(&spec)),
        object.to_string(),
    );
    if let Some((map, elems)) = map_elems(r) {
        let via = lowered.iter().find_map(|l| match (l.helper, &l.oif) {
            (true, Out::Is(dev)) => Some(dev),
            _ => None,
        });
        let msgs = std::iter::once((map, elems))
            .chain(helper_elems(r, via))
            .flat_map(|(set, elems)| elem_msgs(f, set, &elems, true));
        return std::iter::once(keyed)
            .chain(msgs.map(|m| (m, object.to_string())))
            .collect();
    }
    // The isolation chain is made when first needed (no EXCL: there already is fine).
    let isolation = lowered
        .iter()
        .any(|l| l.place == Place::Isolation)
        .then(|| {
            let m = nft::new_chain(fam, TABLE, ISOLATION, None);
            (m, format!("chain {ISOLATION}"))
        });
    std::iter::once(keyed)
        .chain(isolation)
        .chain(lowered.iter().map(|l| {
            let (chain, exprs) = encode(l, f);
            let tag = tag(&spec, l.helper);
            (
                nft::new_rule(fam, TABLE, chain, &exprs, &nft::comment_udata(&tag)),
                object.to_string(),
            )
        }))
        .collect()
}

/// One of natctl's kernel rules, read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub family: Family,
    pub chain: String,
    pub handle: u64,
    /// The natctl spec from its comment; `None` for the table's own jumps.
    pub spec: Option<String>,
    pub helper: bool,
    pub packets: u64,
    pub bytes: u64,
    /// An element of a map or set (its handle that of the rule's key object), not a rule:
    /// as read, to be deleted by.
    pub element: Option<Elem>,
}

/// How far IPv6 ids are from IPv4 ones: handles count per table, so the two tables' handles
/// meet; an IPv6 rule's id is this plus its handle.
pub const V6_IDS: u64 = 1_000_000_000;

impl Found {
    /// The id `list` shows and `del` takes: the handle in `ip natctl`, [`V6_IDS`] + the handle
    /// in `ip6 natctl`.
    pub fn id(&self) -> u64 {
        match self.family {
            Family::V4 => self.handle,
            Family::V6 => V6_IDS + self.handle,
        }
    }
}

/// Reads one `NFT_MSG_NEWRULE` of a dump of natctl's table.
pub fn parse_rule(m: &crate::netlink::MsgRef) -> crate::Result<Found> {
    use crate::netlink::attr::attrs;
    let nfproto = m.payload.first().copied().unwrap_or(0);
    let family = family_of(nfproto).ok_or_else(|| {
        crate::Error::malformed(
            "NFT_MSG_NEWRULE",
            format!("a rule of family {nfproto} in natctl's dump"),
        )
    })?;
    let mut f = Found {
        family,
        chain: String::new(),
        handle: 0,
        spec: None,
        helper: false,
        packets: 0,
        bytes: 0,
        element: None,
    };
    for a in attrs(m.payload.get(4..).unwrap_or(&[])) {
        let a = a?;
        match a.ty {
            nft::NFTA_RULE_CHAIN => f.chain = String::from_utf8_lossy(a.str_bytes()).into(),
            nft::NFTA_RULE_HANDLE => f.handle = a.be64()?,
            nft::NFTA_RULE_EXPRESSIONS => {
                if let Some((p, b)) = counters(a.value) {
                    (f.packets, f.bytes) = (p, b);
                }
            }
            nft::NFTA_RULE_USERDATA => {
                let c = nft::udata_comment(a.value).unwrap_or_default();
                if let Some((spec, helper)) = untag(&c) {
                    (f.spec, f.helper) = (Some(spec.to_string()), helper);
                }
            }
            _ => {}
        }
    }
    Ok(f)
}

/// A mapped publish's element of `set`, read back (its handle filled in later from its key
/// object); `None` for an end element and for one that is not natctl's.
pub fn elem_found(family: Family, set: &str, e: &set::Found) -> Option<Found> {
    let (spec, helper) = untag(e.comment.as_deref()?)?;
    Some(Found {
        family,
        chain: set.to_string(),
        handle: 0,
        spec: Some(spec.to_string()),
        helper,
        packets: e.packets,
        bytes: e.bytes,
        element: Some(Elem {
            key: e.key.clone(),
            ..Elem::default()
        }),
    })
}

/// The messages that delete the elements of a mapped publish's map from the table of `f`.
pub fn del_map_elems(r: &Rule, f: Family) -> Vec<Msg> {
    map_elems(r).map_or_else(Vec::new, |(map, elems)| elem_msgs(f, map, &elems, false))
}
