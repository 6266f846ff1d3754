//! The words of a NAT rule, its spec: the grammar of natctl's `KIND add|del WORDS` and of the
//! tag each kernel rule carries (`natctl:SPEC` in its comment or user data). Both are one
//! grammar on purpose: what `list` prints can be typed back, and a rule read from the kernel
//! is the rule that made it. It lives in the library because the tag is read back here.

use super::{with_port, Family, Out, Ports, Proto, Rule, Subnet};
use crate::error::{Error, Result};
use crate::ifname::IfName;
use std::net::{IpAddr, Ipv6Addr};

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

impl Rule {
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

    /// Reads a spec back (from a rule's comment).
    pub fn from_spec(spec: &str) -> Result<Rule> {
        let words: Vec<&str> = spec.split_whitespace().collect();
        match words.split_first() {
            Some((kind, rest)) => Rule::parse(kind, rest),
            None => Err(Error::invalid(spec.to_string(), "an empty rule spec")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every form `spec` writes, and each reads back to the same rule and the same words.
    #[test]
    fn every_printed_spec_parses_back_to_its_rule() {
        for spec in [
            "masquerade 10.88.0.0/16",
            "masquerade 10.88.0.0/16 --out eth0",
            "masquerade 10.88.0.0/16 --not-out br0",
            "masquerade fd00:88::/64 --not-out br0",
            "snat 10.88.0.0/16 --to 192.0.2.1",
            "snat 10.88.0.0/16 --to 192.0.2.1 --not-out br0",
            "snat fd00:88::/64 --to 2001:db8::1 --out eth0",
            "publish 8080 10.88.0.2:80 --proto tcp",
            "publish 8080-8089 10.88.0.2:80-89 --proto udp",
            "publish 5000-5009 10.88.0.2:53 --proto udp",
            "publish 192.0.2.1:8080 10.88.0.2:80 --proto tcp --in eth0",
            "publish [2001:db8::1]:8080 [fd00:88::2]:80 --proto tcp",
            "publish 8443 [fd00:88::2]:443 --proto udp --in eth0",
            "isolate br0 br1",
            "isolate br0",
        ] {
            let rule = Rule::from_spec(spec).unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert_eq!(rule.spec(), spec);
            assert_eq!(Rule::from_spec(&rule.spec()).unwrap(), rule);
        }
    }

    /// Other ways to write a rule read as the canonical one.
    #[test]
    fn other_spellings_read_as_the_canonical_spec() {
        for (given, canonical) in [
            (
                "publish 0.0.0.0:8080 10.88.0.2:80",
                "publish 8080 10.88.0.2:80 --proto tcp",
            ),
            (
                "publish [::]:8080 [fd00:88::2]:80 --proto=udp",
                "publish 8080 [fd00:88::2]:80 --proto udp",
            ),
            ("isolate br1 br0", "isolate br0 br1"),
            (
                "masquerade 10.88.0.0/16 --out=eth0",
                "masquerade 10.88.0.0/16 --out eth0",
            ),
        ] {
            assert_eq!(Rule::from_spec(given).unwrap().spec(), canonical, "{given}");
        }
    }

    #[test]
    fn bad_specs_are_refused() {
        for spec in [
            "",
            "frob 1",
            "masquerade",
            "masquerade 10.88.0.0/16 --out eth0 --not-out br0",
            "snat 10.88.0.0/16",
            "snat 10.88.0.0/16 --to 2001:db8::1",
            "publish 8080",
            "publish [::1]:8080 [fd00:88::2]:80",
            "publish 2001:db8::1:8080 [fd00:88::2]:80",
            "publish 192.0.2.1:8080 [fd00:88::2]:80",
            "publish 8080-8089 10.88.0.2:80-81",
            "publish 8080 10.88.0.2:80 --proto sctp",
            "publish 8080 10.88.0.2:80 --proto tcp --proto udp",
            "isolate br0 br0",
            "isolate br0 --out eth0",
        ] {
            assert!(Rule::from_spec(spec).is_err(), "{spec} was taken");
        }
    }
}
