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
use std::net::Ipv4Addr;

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

/// An IPv4 prefix with its host bits clear.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subnet {
    pub addr: Ipv4Addr,
    pub prefix: u8,
}

impl Subnet {
    pub fn parse(s: &str) -> Result<Subnet> {
        let bad = |why: String| Error::invalid(s.to_string(), why);
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, p),
            None => (s, "32"),
        };
        let addr: Ipv4Addr = a
            .parse()
            .map_err(|_| bad(format!("bad subnet '{s}' (expected e.g. 10.88.0.0/16)")))?;
        let prefix: u8 = p
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| bad(format!("bad prefix length in '{s}' (0 to 32)")))?;
        let mask = Self::mask_of(prefix);
        if u32::from(addr) & !mask != 0 {
            return Err(bad(format!(
                "{s} has host bits set; the subnet is {}/{prefix}",
                Ipv4Addr::from(u32::from(addr) & mask)
            )));
        }
        Ok(Subnet { addr, prefix })
    }

    pub fn host(addr: Ipv4Addr) -> Subnet {
        Subnet { addr, prefix: 32 }
    }

    fn mask_of(prefix: u8) -> u32 {
        u32::MAX.checked_shl(32 - prefix as u32).unwrap_or(0)
    }

    pub fn mask(&self) -> Ipv4Addr {
        Ipv4Addr::from(Self::mask_of(self.prefix))
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
        to: Ipv4Addr,
        out: Out,
    },
    /// Docker's `-p [HOSTIP:]PORT:CPORT`: `-d HOSTIP -p PROTO --dport PORT -j DNAT --to DEST:CPORT`.
    Publish {
        host: Option<Ipv4Addr>,
        ports: Ports,
        dest: Ipv4Addr,
        dports: Ports,
        proto: Proto,
        in_if: Option<IfName>,
    },
    /// No forwarding between two bridges, either way.
    Isolate { a: IfName, b: IfName },
}

impl Rule {
    /// The kind, as the commands name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::Masquerade { .. } => "masquerade",
            Rule::Snat { .. } => "snat",
            Rule::Publish { .. } => "publish",
            Rule::Isolate { .. } => "isolate",
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
                Ok(Rule::Snat {
                    subnet: Subnet::parse(pos[0])?,
                    to: to
                        .parse()
                        .map_err(|_| usage(format!("bad address '{to}' for --to")))?,
                    out: out()?,
                })
            }
            "publish" => {
                want(
                    2,
                    "[HOSTIP:]PORT[-PORT] DEST:PORT[-PORT] [--proto tcp|udp] [--in IF]",
                )?;
                let (host, ports) = match pos[0].rsplit_once(':') {
                    Some((h, p)) => (
                        Some(h.parse::<Ipv4Addr>().map_err(|_| {
                            usage(format!("bad host address '{h}' in '{}'", pos[0]))
                        })?),
                        p,
                    ),
                    None => (None, pos[0]),
                };
                let ports = Ports::parse(ports)?;
                let (dest, dports) = pos[1].rsplit_once(':').ok_or_else(|| {
                    usage(format!(
                        "expected DEST:PORT, e.g. 10.88.0.2:80, not '{}'",
                        pos[1]
                    ))
                })?;
                let dest: Ipv4Addr = dest
                    .parse()
                    .map_err(|_| usage(format!("bad destination address '{dest}'")))?;
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
                want(2, "BRIDGE1 BRIDGE2")?;
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
                let host = host.map(|h| format!("{h}:")).unwrap_or_default();
                let in_if = in_if.map(|i| format!(" --in {i}")).unwrap_or_default();
                format!(
                    "publish {host}{ports} {dest}:{dports} --proto {}{in_if}",
                    proto.name()
                )
            }
            Rule::Isolate { a, b } => format!("isolate {a} {b}"),
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Masquerade,
    Snat(Ipv4Addr),
    Dnat(Ipv4Addr, u16),
    Drop,
}

/// One kernel rule of a natctl rule, the same on either path: where it goes, what it matches
/// (each part optional) and what it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lowered {
    pub place: Place,
    pub src: Option<Subnet>,
    pub dst: Option<Ipv4Addr>,
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
    /// The kernel rules that make this rule.
    pub fn lower(&self) -> Vec<Lowered> {
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
                for src in [LOOPBACK, Subnet::host(*dest)] {
                    v.push(Lowered {
                        src: Some(src),
                        dst: Some(*dest),
                        l4: Some((*proto, *dports)),
                        helper: true,
                        ..Lowered::new(Place::Postrouting, Action::Masquerade)
                    });
                }
                v
            }
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
    addr: Ipv4Addr::new(127, 0, 0, 0),
    prefix: 8,
};
