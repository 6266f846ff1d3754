//! The NAT rule model: what Docker's bridge driver asks of the firewall — masquerade (and
//! fixed-address SNAT) for a subnet on its way out, published ports in, isolation between
//! bridges — and its encoder for nf_tables ([`nft`]).
//!
//! A rule is known by its spec, the words that made it (`publish 8080 10.88.0.2:80 --proto
//! tcp`): the spec is written into each kernel rule's comment, so list and delete find exactly
//! natctl's rules, and a spec given twice is the same rule.

pub mod host;
pub mod nft;
pub mod ops;
pub mod xt;

use crate::error::{Error, Result};
use crate::ifname::IfName;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `ADDR:PORT` or `[V6ADDR]:PORT` split into its address and port; `None` without an address
/// (or an IPv6 one without brackets, whose colons cannot be told from the port's).
fn addr_port(s: &str) -> Option<(&str, &str)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (a, p) = rest.split_once("]:")?;
        return Some((a, p));
    }
    let (a, p) = s.rsplit_once(':')?;
    (!a.contains(':')).then_some((a, p))
}

/// The comment of a kernel rule natctl made for a rule of its own: `natctl:SPEC`.
const TAG: &str = "natctl:";
/// ... for a helper that goes with one: `natctl+:SPEC`.
const HELPER_TAG: &str = "natctl+:";
/// ... for the jumps into natctl's chains.
pub const BASE_TAG: &str = "natctl:base";

/// The comment of a kernel rule of `spec`.
pub fn tag(spec: &str, helper: bool) -> String {
    format!("{}{spec}", if helper { HELPER_TAG } else { TAG })
}

/// The spec a comment tags, and whether it tags a helper; `None` for the jumps and for
/// comments that are not natctl's.
pub fn untag(comment: &str) -> Option<(&str, bool)> {
    if comment == BASE_TAG {
        return None;
    }
    match comment.strip_prefix(HELPER_TAG) {
        Some(s) => Some((s, true)),
        None => comment.strip_prefix(TAG).map(|s| (s, false)),
    }
}

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

    /// Reads the words after `KIND add|del` (and a rule's spec back from its comment).
    pub fn parse(kind: &str, words: &[&str]) -> Result<Rule> {
        let usage = |why: String| Error::invalid(kind.to_string(), why);
        let mut pos = Vec::new();
        let mut opts: Vec<(&str, &str)> = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let w = words[i];
            if let Some(name) = w.strip_prefix("--") {
                let (name, value) = match name.split_once('=') {
                    Some((n, v)) => (n, v),
                    None => {
                        i += 1;
                        let v = words
                            .get(i)
                            .ok_or_else(|| usage(format!("--{name} needs a value")))?;
                        (name, *v)
                    }
                };
                if opts.iter().any(|(n, _)| *n == name) {
                    return Err(usage(format!("--{name} given twice")));
                }
                opts.push((name, value));
            } else {
                pos.push(w);
            }
            i += 1;
        }
        let allowed: &[&str] = match kind {
            "masquerade" => &["out", "not-out"],
            "snat" => &["to", "out", "not-out"],
            "publish" => &["proto", "in"],
            "isolate" => &[],
            _ => return Err(usage(format!("unknown rule kind '{kind}'"))),
        };
        if let Some((n, _)) = opts.iter().find(|(n, _)| !allowed.contains(n)) {
            return Err(usage(format!("{kind} takes no --{n}")));
        }
        let opt = |n: &str| opts.iter().find(|(k, _)| *k == n).map(|(_, v)| *v);
        let ifname = |v: &str| IfName::new(v);
        let out = || -> Result<Out> {
            match (opt("out"), opt("not-out")) {
                (Some(_), Some(_)) => Err(usage("--out and --not-out exclude each other".into())),
                (Some(o), None) => Ok(Out::Is(ifname(o)?)),
                (None, Some(o)) => Ok(Out::IsNot(ifname(o)?)),
                (None, None) => Ok(Out::Any),
            }
        };
        let want = |n: usize, what: &str| -> Result<()> {
            if pos.len() == n {
                Ok(())
            } else {
                Err(usage(format!("expected {what}")))
            }
        };
        match kind {
            "masquerade" => {
                want(1, "SUBNET [--out IF | --not-out IF]")?;
                Ok(Rule::Masquerade {
                    subnet: Subnet::parse(pos[0])?,
                    out: out()?,
                })
            }
            "snat" => {
                want(1, "SUBNET --to ADDR [--out IF | --not-out IF]")?;
                let to = opt("to").ok_or_else(|| usage("snat needs --to ADDR".into()))?;
                let subnet = Subnet::parse(pos[0])?;
                let to: IpAddr = to
                    .parse()
                    .map_err(|_| usage(format!("bad address '{to}' for --to")))?;
                if Family::of(to) != subnet.family() {
                    return Err(usage(format!(
                        "--to {to} and {subnet} are of different address families"
                    )));
                }
                Ok(Rule::Snat {
                    subnet,
                    to,
                    out: out()?,
                })
            }
            "publish" => {
                want(
                    2,
                    "[HOSTIP:]PORT[-PORT] DEST:PORT[-PORT] [--proto tcp|udp] [--in IF]",
                )?;
                let (host, ports) = match addr_port(pos[0]) {
                    Some((h, p)) => (
                        Some(h.parse::<IpAddr>().map_err(|_| {
                            usage(format!("bad host address '{h}' in '{}'", pos[0]))
                        })?),
                        p,
                    ),
                    None if pos[0].contains(':') => {
                        return Err(usage(format!(
                            "write an IPv6 host address in brackets: [2001:db8::1]:8080, not '{}'",
                            pos[0]
                        )))
                    }
                    None => (None, pos[0]),
                };
                if host == Some(IpAddr::V6(Ipv6Addr::LOCALHOST)) {
                    return Err(usage(
                        "[::1] cannot be published: the kernel never routes ::1 off the host \
                         (IPv6 has no route_localnet), so a DNAT of it cannot leave; publish on \
                         [::] or the host's own address"
                            .into(),
                    ));
                }
                let ports = Ports::parse(ports)?;
                let (dest, dports) = addr_port(pos[1]).ok_or_else(|| {
                    usage(format!(
                        "expected DEST:PORT, e.g. 10.88.0.2:80 or [fd00:88::2]:80, not '{}'",
                        pos[1]
                    ))
                })?;
                let dest: IpAddr = dest
                    .parse()
                    .map_err(|_| usage(format!("bad destination address '{dest}'")))?;
                if let Some(h) = host.filter(|h| Family::of(*h) != Family::of(dest)) {
                    return Err(usage(format!(
                        "host address {h} and destination {dest} are of different address \
                         families"
                    )));
                }
                // 0.0.0.0:PORT and [::]:PORT are Docker's way to say every address: the same
                // publish as PORT.
                let host = host.filter(|h| !h.is_unspecified());
                let dports = Ports::parse(dports)?;
                if dports.count() != ports.count() && dports.is_range() {
                    return Err(usage(format!(
                        "port ranges differ in length: {ports} has {} ports, {dports} has {}",
                        ports.count(),
                        dports.count()
                    )));
                }
                let proto = match opt("proto") {
                    None | Some("tcp") => Proto::Tcp,
                    Some("udp") => Proto::Udp,
                    Some(p) => return Err(usage(format!("unknown protocol '{p}' (tcp or udp)"))),
                };
                Ok(Rule::Publish {
                    host,
                    ports,
                    dest,
                    dports,
                    proto,
                    in_if: opt("in").map(ifname).transpose()?,
                })
            }
            _ => {
                if pos.len() == 1 {
                    return Ok(Rule::Isolated {
                        br: ifname(pos[0])?,
                    });
                }
                want(2, "BRIDGE (into the isolated set) or BRIDGE1 BRIDGE2")?;
                let (a, b) = (ifname(pos[0])?, ifname(pos[1])?);
                if a == b {
                    return Err(usage(format!("{a} cannot be isolated from itself")));
                }
                // One rule either way: the pair's order does not make another rule.
                let (a, b) = if a.as_str() <= b.as_str() {
                    (a, b)
                } else {
                    (b, a)
                };
                Ok(Rule::Isolate { a, b })
            }
        }
    }

    /// The canonical words of the rule: what `list` shows and what its comment holds.
    pub fn spec(&self) -> String {
        let out = |o: &Out| match o {
            Out::Any => String::new(),
            Out::Is(i) => format!(" --out {i}"),
            Out::IsNot(i) => format!(" --not-out {i}"),
        };
        match self {
            Rule::Masquerade { subnet, out: o } => format!("masquerade {subnet}{}", out(o)),
            Rule::Snat { subnet, to, out: o } => format!("snat {subnet} --to {to}{}", out(o)),
            Rule::Publish {
                host,
                ports,
                dest,
                dports,
                proto,
                in_if,
            } => {
                let host = host
                    .map(|h| format!("{}:", with_port(h)))
                    .unwrap_or_default();
                let in_if = in_if.map(|i| format!(" --in {i}")).unwrap_or_default();
                format!(
                    "publish {host}{ports} {}:{dports} --proto {}{in_if}",
                    with_port(*dest),
                    proto.name()
                )
            }
            Rule::Isolate { a, b } => format!("isolate {a} {b}"),
            Rule::Isolated { br } => format!("isolate {br}"),
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

    /// Reads a spec back (from a rule's comment).
    pub fn from_spec(spec: &str) -> Result<Rule> {
        let words: Vec<&str> = spec.split_whitespace().collect();
        match words.split_first() {
            Some((kind, rest)) => Rule::parse(kind, rest),
            None => Err(Error::invalid(spec.to_string(), "an empty rule spec")),
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
