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
//!                       ip saddr D ip daddr D meta l4proto P th dport M masquerade }
//!   chain forward     { type filter hook forward priority -1; iifname A oifname B counter drop }
//! }
//! ```
//!
//! Each kernel rule carries a comment `natctl:SPEC` (the rule's own) or `natctl+:SPEC` (a
//! helper rule that goes with it: the masquerades that make a published port work from the
//! host and from its own container).

use super::{Out, Ports, Rule, Subnet};
use crate::netlink::nft::expr::*;
use crate::netlink::nft::{self, Hook, NFPROTO_IPV4};
use crate::netlink::Msg;
use std::net::Ipv4Addr;

pub const TABLE: &str = "natctl";
pub const FAMILY: u8 = NFPROTO_IPV4;
pub const PUBLISH: &str = "publish";

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

pub const TAG: &str = "natctl:";
pub const HELPER_TAG: &str = "natctl+:";
const BASE_TAG: &str = "natctl:base";

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

fn host(a: Ipv4Addr) -> Subnet {
    Subnet {
        addr: a,
        prefix: 32,
    }
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

fn one(p: u16) -> Ports {
    Ports { first: p, last: p }
}

/// The kernel rules of one natctl rule: (chain, expressions, helper?).
pub fn rules(r: &Rule) -> Vec<(&'static str, Vec<Expr>, bool)> {
    match r {
        Rule::Masquerade { subnet, out: o } => {
            let mut e = saddr(*subnet);
            e.extend(out(o));
            e.extend([Expr::Counter, Expr::Masq]);
            vec![("postrouting", e, false)]
        }
        Rule::Snat { subnet, to, out: o } => {
            let mut e = saddr(*subnet);
            e.extend(out(o));
            e.extend([
                Expr::Counter,
                Expr::Immediate {
                    dreg: REG_1,
                    data: Data::Value(to.octets().to_vec()),
                },
                Expr::Nat {
                    ty: NAT_SNAT,
                    family: FAMILY as u32,
                    reg_addr: REG_1,
                    reg_proto: None,
                },
            ]);
            vec![("postrouting", e, false)]
        }
        Rule::Publish {
            host: h,
            ports,
            dest,
            dports,
            proto,
            in_if,
        } => {
            let p = proto.number();
            // A range to a range is mapped port to port (one rule each, as Docker does); a
            // range to one port is one rule. The kernel's own range NAT would pick any port
            // of the range.
            let pairs: Vec<(Ports, u16)> = if dports.is_range() {
                (0..ports.count() as u16)
                    .map(|i| (one(ports.first + i), dports.first + i))
                    .collect()
            } else {
                vec![(*ports, dports.first)]
            };
            let mut v = Vec::new();
            for (match_ports, to_port) in pairs {
                let mut e = Vec::new();
                if let Some(h) = h {
                    e.extend(daddr(*h));
                }
                if let Some(i) = in_if {
                    e.extend(ifname(META_IIFNAME, CMP_EQ, i.as_str()));
                }
                e.extend(dport(p, match_ports));
                e.extend([
                    Expr::Counter,
                    Expr::Immediate {
                        dreg: REG_1,
                        data: Data::Value(dest.octets().to_vec()),
                    },
                    Expr::Immediate {
                        dreg: REG_2,
                        data: Data::Value(to_port.to_be_bytes().to_vec()),
                    },
                    Expr::Nat {
                        ty: NAT_DNAT,
                        family: FAMILY as u32,
                        reg_addr: REG_1,
                        reg_proto: Some((REG_2, REG_2)),
                    },
                ]);
                v.push((PUBLISH, e, false));
            }
            // From the host's own 127.0.0.1 (the reply must not come back to the container's
            // loopback), and hairpin: a container to its own published port.
            for src in [
                Subnet {
                    addr: Ipv4Addr::new(127, 0, 0, 0),
                    prefix: 8,
                },
                host(*dest),
            ] {
                let mut e = saddr(src);
                e.extend(daddr(*dest));
                e.extend(dport(p, *dports));
                e.push(Expr::Masq);
                v.push(("postrouting", e, true));
            }
            v
        }
        Rule::Isolate { a, b } => [(a, b), (b, a)]
            .into_iter()
            .map(|(i, o)| {
                let mut e = ifname(META_IIFNAME, CMP_EQ, i.as_str());
                e.extend(ifname(META_OIFNAME, CMP_EQ, o.as_str()));
                e.extend([
                    Expr::Counter,
                    Expr::Immediate {
                        dreg: REG_VERDICT,
                        data: Data::Verdict(NF_DROP, None),
                    },
                ]);
                ("forward", e, false)
            })
            .collect(),
    }
}

/// The `NFT_MSG_NEWRULE` messages of one natctl rule, each tagged with its spec.
pub fn add(r: &Rule, object: &str) -> Vec<(Msg, String)> {
    let spec = r.spec();
    rules(r)
        .into_iter()
        .map(|(chain, exprs, helper)| {
            let tag = format!("{}{spec}", if helper { HELPER_TAG } else { TAG });
            (
                nft::new_rule(FAMILY, TABLE, chain, &exprs, &nft::comment_udata(&tag)),
                object.to_string(),
            )
        })
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
                if let Some(s) = c.strip_prefix(HELPER_TAG) {
                    (f.spec, f.helper) = (Some(s.to_string()), true);
                } else if c != BASE_TAG {
                    f.spec = c.strip_prefix(TAG).map(str::to_string);
                }
            }
            _ => {}
        }
    }
    Ok(f)
}
