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

use super::spec::{tag, untag, BASE_TAG};
use super::{octets, Action, Family, Lowered, Out, Place, Ports, Rule, Subnet};
use crate::netlink::nft::expr::*;
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
    v
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
    let mut data = name.as_bytes().to_vec();
    data.resize(16, 0);
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

/// `meta l4proto P th dport N[-M]` (ports in network order, so a range is two memcmps).
fn dport(proto: u8, p: Ports) -> Vec<Expr> {
    let mut v = vec![
        Expr::Meta {
            key: META_L4PROTO,
            dreg: REG_1,
        },
        Expr::Cmp {
            sreg: REG_1,
            op: CMP_EQ,
            data: vec![proto],
        },
        Expr::Payload {
            base: PAYLOAD_TRANSPORT,
            offset: 2,
            len: 2,
            dreg: REG_1,
        },
    ];
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
/// rules (`lowered`), each tagged with its spec.
pub fn add(r: &Rule, lowered: &[Lowered], f: Family, object: &str) -> Vec<(Msg, String)> {
    let spec = r.spec();
    let fam = nfproto(f);
    let keyed = (
        nft::new_counter(fam, TABLE, &key(&spec)),
        object.to_string(),
    );
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
