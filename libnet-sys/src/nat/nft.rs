//! The rule model in nf_tables: one table of natctl's own, `ip natctl`, and nothing else
//! touched. Its base chains sit one step away from the standard priorities (dstnat - 1,
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

use super::{Action, Lowered, Out, Place, Ports, Rule, Subnet, BASE_TAG};
use crate::netlink::nft::expr::*;
use crate::netlink::nft::{self, Hook, NFPROTO_IPV4};
use crate::netlink::Msg;
use std::net::Ipv4Addr;

pub const TABLE: &str = "natctl";
pub const FAMILY: u8 = NFPROTO_IPV4;
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

/// The messages that make the table, its chains and the jumps to `publish`.
pub fn setup() -> Vec<(Msg, String)> {
    let mut v = vec![(nft::new_table(FAMILY, TABLE), format!("table ip {TABLE}"))];
    for (name, hook) in CHAINS {
        v.push((
            nft::new_chain(FAMILY, TABLE, name, Some(hook)),
            format!("chain {name}"),
        ));
    }
    v.push((
        nft::new_chain(FAMILY, TABLE, PUBLISH, None),
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
        v.push((
            nft::new_rule(FAMILY, TABLE, chain, &jump, &nft::comment_udata(BASE_TAG)),
            format!("jump from {chain}"),
        ));
    }
    v
}

/// Deleting the table whether or not it is there: `NEWTABLE` (no `EXCL`) then `DELTABLE`.
pub fn flush() -> Vec<(Msg, String)> {
    vec![
        (nft::new_table(FAMILY, TABLE), format!("table ip {TABLE}")),
        (nft::del_table(FAMILY, TABLE), format!("table ip {TABLE}")),
    ]
}

fn ip_field(offset: u32, subnet: Subnet) -> Vec<Expr> {
    if subnet.prefix == 0 {
        return Vec::new();
    }
    let mut v = vec![Expr::Payload {
        base: PAYLOAD_NETWORK,
        offset,
        len: 4,
        dreg: REG_1,
    }];
    if subnet.prefix < 32 {
        v.push(Expr::Bitwise {
            sreg: REG_1,
            dreg: REG_1,
            mask: subnet.mask().octets().to_vec(),
            xor: vec![0; 4],
        });
    }
    v.push(Expr::Cmp {
        sreg: REG_1,
        op: CMP_EQ,
        data: subnet.addr.octets().to_vec(),
    });
    v
}

fn saddr(s: Subnet) -> Vec<Expr> {
    ip_field(12, s)
}

fn daddr(a: Ipv4Addr) -> Vec<Expr> {
    ip_field(
        16,
        Subnet {
            addr: a,
            prefix: 32,
        },
    )
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

/// The chain and expressions of one kernel rule. natctl's own rules count their packets;
/// helpers do not.
pub fn encode(l: &Lowered) -> (&'static str, Vec<Expr>) {
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
    let addr = |a: Ipv4Addr| Expr::Immediate {
        dreg: REG_1,
        data: Data::Value(a.octets().to_vec()),
    };
    match l.action {
        Action::Masquerade => e.push(Expr::Masq),
        Action::Snat(to) => e.extend([
            addr(to),
            Expr::Nat {
                ty: NAT_SNAT,
                family: FAMILY as u32,
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
                family: FAMILY as u32,
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

/// The messages that add one natctl rule: its key, then its kernel rules (`lowered`), each
/// tagged with its spec.
pub fn add(r: &Rule, lowered: &[Lowered], object: &str) -> Vec<(Msg, String)> {
    let spec = r.spec();
    let keyed = (
        nft::new_counter(FAMILY, TABLE, &key(&spec)),
        object.to_string(),
    );
    // The isolation chain is made when first needed (no EXCL: there already is fine).
    let isolation = lowered
        .iter()
        .any(|l| l.place == Place::Isolation)
        .then(|| {
            let m = nft::new_chain(FAMILY, TABLE, ISOLATION, None);
            (m, format!("chain {ISOLATION}"))
        });
    std::iter::once(keyed)
        .chain(isolation)
        .chain(lowered.iter().map(|l| {
            let (chain, exprs) = encode(l);
            let tag = super::tag(&spec, l.helper);
            (
                nft::new_rule(FAMILY, TABLE, chain, &exprs, &nft::comment_udata(&tag)),
                object.to_string(),
            )
        }))
        .collect()
}

/// One of natctl's kernel rules, read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub chain: String,
    pub handle: u64,
    /// The natctl spec from its comment; `None` for the table's own jumps.
    pub spec: Option<String>,
    pub helper: bool,
    pub packets: u64,
    pub bytes: u64,
}

/// Reads one `NFT_MSG_NEWRULE` of a dump of natctl's table.
pub fn parse_rule(m: &crate::netlink::MsgRef) -> crate::Result<Found> {
    use crate::netlink::attr::attrs;
    let mut f = Found {
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
                if let Some((spec, helper)) = super::untag(&c) {
                    (f.spec, f.helper) = (Some(spec.to_string()), helper);
                }
            }
            _ => {}
        }
    }
    Ok(f)
}
