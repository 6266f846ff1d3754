//! The NAT rule model: what Docker's bridge driver asks of the firewall — masquerade (and
//! fixed-address SNAT) for a subnet on its way out, published ports in, isolation between
//! bridges — and its encoder for nf_tables ([`nft`]).
//!
//! A rule is known by its spec, the words that made it (`publish 8080 10.88.0.2:80 --proto
//! tcp`): the spec is written into each kernel rule's comment, so list and delete find exactly
//! natctl's rules, and a spec given twice is the same rule.

pub mod change;
pub mod host;
pub mod nft;
pub mod ops;
pub mod spec;
pub mod xt;

use crate::error::{Error, Result};
use crate::ifname::IfName;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The address family of a rule: IPv4 rules live in table `ip natctl`, IPv6 ones in
/// `ip6 natctl`; isolation (interfaces only) in both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn of(a: IpAddr) -> Family {
        if a.is_ipv6() {
            Family::V6
        } else {
            Family::V4
        }
    }

    /// The address length in bits.
    pub fn bits(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    /// nft's word for its addresses: `ip` or `ip6`.
    pub fn name(self) -> &'static str {
        match self {
            Family::V4 => "ip",
            Family::V6 => "ip6",
        }
    }
}

/// An IPv4 or IPv6 prefix with its host bits clear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subnet {
    pub addr: IpAddr,
    pub prefix: u8,
}

/// An address as a 128-bit number (an IPv4 one in the low 32 bits).
fn bits_of(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(a) => u32::from(a) as u128,
        IpAddr::V6(a) => u128::from(a),
    }
}

impl Subnet {
    pub fn parse(s: &str) -> Result<Subnet> {
        let bad = |why: String| Error::invalid(s.to_string(), why);
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| {
            bad(format!(
                "bad subnet '{s}' (expected e.g. 10.88.0.0/16 or fd00:88::/64)"
            ))
        })?;
        let max = Family::of(addr).bits();
        let prefix: u8 = match p {
            None => max,
            Some(p) => p
                .parse()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| bad(format!("bad prefix length in '{s}' (0 to {max})")))?,
        };
        let sub = Subnet { addr, prefix };
        let host = bits_of(addr) & !sub.mask_bits();
        if host != 0 {
            let net = Subnet {
                addr: sub.addr_of(bits_of(addr) & sub.mask_bits()),
                prefix,
            };
            return Err(bad(format!("{s} has host bits set; the subnet is {net}")));
        }
        Ok(sub)
    }

    pub fn host(addr: IpAddr) -> Subnet {
        Subnet {
            addr,
            prefix: Family::of(addr).bits(),
        }
    }

    pub fn family(&self) -> Family {
        Family::of(self.addr)
    }

    fn mask_bits(&self) -> u128 {
        let bits = self.family().bits() as u32;
        let all = if bits == 32 {
            u32::MAX as u128
        } else {
            u128::MAX
        };
        all & (all.checked_shl(bits - self.prefix as u32).unwrap_or(0))
    }

    fn addr_of(&self, b: u128) -> IpAddr {
        match self.family() {
            Family::V4 => IpAddr::V4(Ipv4Addr::from(b as u32)),
            Family::V6 => IpAddr::V6(Ipv6Addr::from(b)),
        }
    }

    /// The mask, in network order, as long as the address.
    pub fn mask(&self) -> Vec<u8> {
        octets(self.addr_of(self.mask_bits()))
    }
}

/// An address in network order: 4 or 16 bytes.
pub fn octets(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// An address as a spec and nft write it beside a port: `10.88.0.2`, `[fd00::2]`.
pub fn with_port(a: IpAddr) -> String {
    match a {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    /// `IPPROTO_TCP`, `IPPROTO_UDP`
    pub fn number(self) -> u8 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// A port or an inclusive range of ports, 1..=65535.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ports {
    pub first: u16,
    pub last: u16,
}

impl Ports {
    pub fn parse(s: &str) -> Result<Ports> {
        let bad = |why: String| Error::invalid(s.to_string(), why);
        let one = |p: &str| -> Result<u16> {
            match p.parse::<u32>() {
                Ok(0) => Err(bad("port 0 cannot be published (1 to 65535)".into())),
                Ok(n) if n <= 65535 => Ok(n as u16),
                Ok(n) => Err(bad(format!("port {n} is over 65535"))),
                // The whole word is named: in `-1` the bad part is the empty one before '-'.
                Err(_) => Err(bad(format!("bad port '{s}' (1 to 65535)"))),
            }
        };
        let (first, last) = match s.split_once('-') {
            Some((a, b)) => (one(a)?, one(b)?),
            None => {
                let p = one(s)?;
                (p, p)
            }
        };
        if last < first {
            return Err(bad(format!(
                "reversed port range {s} (write {last}-{first})"
            )));
        }
        Ok(Ports { first, last })
    }

    pub fn count(&self) -> u32 {
        (self.last - self.first) as u32 + 1
    }

    pub fn is_range(&self) -> bool {
        self.first != self.last
    }
}

impl fmt::Display for Ports {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.is_range() {
            write!(f, "{}-{}", self.first, self.last)
        } else {
            write!(f, "{}", self.first)
        }
    }
}

/// Which way out a source-NAT rule applies: any interface, one (`--out`), or all but one
/// (`--not-out`, Docker's `! -o docker0`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Out {
    Any,
    Is(IfName),
    IsNot(IfName),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// `-s SUBNET [! -o IF] -j MASQUERADE`
    Masquerade { subnet: Subnet, out: Out },
    /// `-s SUBNET [! -o IF] -j SNAT --to-source ADDR`
    Snat {
        subnet: Subnet,
        to: IpAddr,
        out: Out,
    },
    /// Docker's `-p [HOSTIP:]PORT:CPORT`: `-d HOSTIP -p PROTO --dport PORT -j DNAT --to DEST:CPORT`.
    Publish {
        host: Option<IpAddr>,
        ports: Ports,
        dest: IpAddr,
        dports: Ports,
        proto: Proto,
        in_if: Option<IfName>,
    },
    /// No forwarding between two bridges, either way.
    Isolate { a: IfName, b: IfName },
    /// Docker's isolated set: a bridge joins it, and traffic entering from one bridge of the
    /// set may not leave by another (DOCKER-ISOLATION-STAGE-1/2): one rule per bridge, not
    /// one per pair.
    Isolated { br: IfName },
}

impl Rule {
    /// The kind, as the commands name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::Masquerade { .. } => "masquerade",
            Rule::Snat { .. } => "snat",
            Rule::Publish { .. } => "publish",
            Rule::Isolate { .. } | Rule::Isolated { .. } => "isolate",
        }
    }

    /// Whether two publishes claim a host port in common: the same protocol, overlapping
    /// port ranges, the same host address or either on every address (none), and the same
    /// incoming interface or either on every one. Only one of them could ever match.
    pub fn overlaps(&self, other: &Rule) -> bool {
        let (
            Rule::Publish {
                host,
                ports,
                dest,
                proto,
                in_if,
                ..
            },
            Rule::Publish {
                host: h2,
                ports: p2,
                dest: d2,
                proto: pr2,
                in_if: i2,
                ..
            },
        ) = (self, other)
        else {
            return false;
        };
        fn either<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
            a.is_none() || b.is_none() || a == b
        }
        // IPv4 and IPv6 publishes are different packets, in different tables.
        proto == pr2
            && Family::of(*dest) == Family::of(*d2)
            && ports.first <= p2.last
            && p2.first <= ports.last
            && either(host, h2)
            && either(in_if, i2)
    }

    /// The families the rule has kernel rules in: its addresses', or both for isolation.
    pub fn families(&self) -> &'static [Family] {
        let one = |a: IpAddr| match Family::of(a) {
            Family::V4 => &[Family::V4][..],
            Family::V6 => &[Family::V6][..],
        };
        match self {
            Rule::Masquerade { subnet, .. } | Rule::Snat { subnet, .. } => one(subnet.addr),
            Rule::Publish { dest, .. } => one(*dest),
            Rule::Isolate { .. } | Rule::Isolated { .. } => &[Family::V4, Family::V6],
        }
    }
}

/// Where a kernel rule of natctl's goes: the chain of published ports (entered from
/// prerouting and output for local destinations), source NAT on the way out, or the forward
/// filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Publish,
    Postrouting,
    Forward,
    /// The second stage of the isolated set, jumped to from the forward filter.
    Isolation,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Masquerade,
    Snat(IpAddr),
    Dnat(IpAddr, u16),
    Drop,
    /// Jump to the isolation chain.
    Isolation,
}

/// One kernel rule of a natctl rule, the same on either path: where it goes, what it matches
/// (each part optional) and what it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lowered {
    pub place: Place,
    pub src: Option<Subnet>,
    pub dst: Option<IpAddr>,
    pub iif: Option<IfName>,
    pub oif: Out,
    pub l4: Option<(Proto, Ports)>,
    pub action: Action,
    /// A rule that goes with another to make it work (not listed, not counted).
    pub helper: bool,
}

impl Lowered {
    fn new(place: Place, action: Action) -> Lowered {
        Lowered {
            place,
            src: None,
            dst: None,
            iif: None,
            oif: Out::Any,
            l4: None,
            action,
            helper: false,
        }
    }
}

impl Rule {
    /// The kernel rules that make this rule; `via` is the interface a published port's
    /// destination is routed out of, when it has one.
    pub fn lower(&self, via: Option<&IfName>) -> Vec<Lowered> {
        match self {
            Rule::Masquerade { subnet, out } | Rule::Snat { subnet, out, .. } => {
                let action = match self {
                    Rule::Snat { to, .. } => Action::Snat(*to),
                    _ => Action::Masquerade,
                };
                vec![Lowered {
                    src: Some(*subnet),
                    oif: out.clone(),
                    ..Lowered::new(Place::Postrouting, action)
                }]
            }
            Rule::Publish {
                host,
                ports,
                dest,
                dports,
                proto,
                in_if,
            } => {
                // A range to a range is mapped port to port (one rule each, as Docker does); a
                // range to one port is one rule. The kernel's own range NAT would pick any
                // port of the range.
                let pairs: Vec<(Ports, u16)> = if dports.is_range() {
                    (0..ports.count() as u16)
                        .map(|i| {
                            let p = ports.first + i;
                            (Ports { first: p, last: p }, dports.first + i)
                        })
                        .collect()
                } else {
                    vec![(*ports, dports.first)]
                };
                let mut v: Vec<Lowered> = pairs
                    .into_iter()
                    .map(|(m, to)| Lowered {
                        dst: *host,
                        iif: *in_if,
                        l4: Some((*proto, m)),
                        ..Lowered::new(Place::Publish, Action::Dnat(*dest, to))
                    })
                    .collect();
                // From the host's own 127.0.0.1 (the reply must not come back to the
                // container's loopback), and hairpin: a container to its own published port.
                // IPv6 has no loopback to publish: the kernel never routes ::1 off the host.
                let from_lo = dest.is_ipv4().then_some(LOOPBACK);
                for src in from_lo.into_iter().chain([Subnet::host(*dest)]) {
                    v.push(Lowered {
                        src: Some(src),
                        dst: Some(*dest),
                        l4: Some((*proto, *dports)),
                        helper: true,
                        ..Lowered::new(Place::Postrouting, Action::Masquerade)
                    });
                }
                // Sent back into the network it came from (a neighbour of the destination to
                // its published port): routed, the answer would go straight back on the
                // bridge, past the conntrack that undoes the DNAT, unless masqueraded. With
                // br_netfilter the packet is bridged instead and has no in-interface here.
                if let Some(dev) = via {
                    v.push(Lowered {
                        dst: Some(*dest),
                        iif: Some(*dev),
                        oif: Out::Is(*dev),
                        l4: Some((*proto, *dports)),
                        helper: true,
                        ..Lowered::new(Place::Postrouting, Action::Masquerade)
                    });
                }
                v
            }
            // Leaving an isolated bridge by another interface: is that another isolated bridge?
            // The jump is the helper; the drop counts.
            Rule::Isolated { br } => vec![
                Lowered {
                    iif: Some(*br),
                    oif: Out::IsNot(*br),
                    helper: true,
                    ..Lowered::new(Place::Forward, Action::Isolation)
                },
                Lowered {
                    oif: Out::Is(*br),
                    ..Lowered::new(Place::Isolation, Action::Drop)
                },
            ],
            Rule::Isolate { a, b } => [(a, b), (b, a)]
                .into_iter()
                .map(|(i, o)| Lowered {
                    iif: Some(*i),
                    oif: Out::Is(*o),
                    ..Lowered::new(Place::Forward, Action::Drop)
                })
                .collect(),
        }
    }
}

/// 127.0.0.0/8
pub const LOOPBACK: Subnet = Subnet {
    addr: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)),
    prefix: 8,
};
