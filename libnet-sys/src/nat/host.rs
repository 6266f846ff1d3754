//! What a published port needs of the host besides rules (nat-anchors 2.3, 2.4):
//! `route_localnet` on the interface toward the container, so that `127.0.0.1:PORT` may be
//! routed out of the host at all, and hairpin mode on the container's bridge port, so that
//! with br_netfilter a container's connection to its own published port can be bridged back
//! out the port it came in on. Both are switches natctl turns on and reports; `undo` turns
//! back what it turned when the rules that needed them could not be made.
//!
//! Hairpin is needed only while br_netfilter hands bridged packets to iptables
//! (`net.bridge.bridge-nf-call-iptables=1`): it DNATs a container's packet on the bridge and,
//! the destination being on the same bridge, bridges it on instead of routing it. Without
//! br_netfilter the packet is routed out of the bridge device, which may send it to any port.
//! The container's port is the one its address was last seen behind; before it has sent
//! anything (the usual order: ports are published as a container starts) that is not known,
//! so every port of the bridge then gets hairpin, as Docker does for all its ports when it
//! runs without its userland proxy. A port attached later is not covered: natctl says so.

use crate::bridge::ops::Bridges;
use crate::bridge::{Detail, PortSetting};
use crate::error::{Error, Result};
use crate::ifname::IfName;
use crate::kernel::Kernel;
use crate::netlink::rtnl::route;
use crate::sysfs::sysctl::{self, Key};
use crate::trace::{Access, Trace};
use std::net::{IpAddr, Ipv4Addr};

/// A switch natctl turned on, to turn back off.
enum Turned {
    Sysctl(Key, i64),
    Hairpin(IfName, IfName),
}

/// What was done for a set of destinations: a line for each switch turned, hints for what
/// natctl could not do itself, and what to undo.
pub struct Prepared {
    pub notes: Vec<String>,
    pub hints: Vec<String>,
    turned: Vec<Turned>,
}

/// Where the kernel routes a destination.
enum Way {
    /// Out of this interface.
    Out(u32),
    /// Nowhere yet: no route.
    Unreachable,
    /// Not out of the host (one of its own addresses, a blackhole).
    Stays,
}

fn route_out(k: &mut Kernel, dst: IpAddr) -> Result<Way> {
    let mut way = Way::Stays;
    let asked = k.nl()?.transact(
        route::get_route(dst),
        &dst.to_string(),
        Access::Read,
        &mut |m| {
            let r = route::parse_route(m)?;
            if let (Some(oif), route::RTN_UNICAST) = (r.oif, r.ty) {
                way = Way::Out(oif);
            }
            Ok(())
        },
    );
    match asked {
        Err(e) if e.is(libc::ENETUNREACH) || e.is(libc::EHOSTUNREACH) => Ok(Way::Unreachable),
        other => other.map(|_| way),
    }
}

/// The link-layer address the neighbour table has for `dst` on `dev`, from `/proc/net/arp`
/// (complete entries only).
fn neighbour(trace: &Trace, dst: Ipv4Addr, dev: &str) -> Option<[u8; 6]> {
    trace.request(Access::Read, format_args!("read /proc/net/arp"));
    let text = std::fs::read_to_string("/proc/net/arp").ok()?;
    let ip = dst.to_string();
    let found = text.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        // IP address, HW type, Flags (0x2 ATF_COM: resolved), HW address, Mask, Device
        (f.len() == 6 && f[0] == ip && f[2] == "0x2" && f[5] == dev).then(|| f[3].to_string())
    });
    trace.outcome(
        Access::Read,
        Ok(format_args!("{}", found.as_deref().unwrap_or("no entry"))),
    );
    let mut mac = [0u8; 6];
    let parts: Vec<u8> = found?
        .split(':')
        .map(|h| u8::from_str_radix(h, 16))
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    (parts.len() == 6).then(|| mac.copy_from_slice(&parts))?;
    Some(mac)
}

/// The interface each destination is routed out of (those that are routed out of one), for
/// the rules that name it.
pub fn ways(trace: Trace, dests: &[IpAddr]) -> Result<Vec<(IpAddr, IfName)>> {
    let mut k = Kernel::new(trace);
    let mut v = Vec::new();
    for &dst in dests {
        if let Way::Out(oif) = route_out(&mut k, dst)? {
            let link = k.get_link(
                crate::netlink::rtnl::link::get_link_by_index(oif, None, 0),
                &oif,
            )?;
            if let Some(dev) = link.name {
                v.push((dst, dev));
            }
        }
    }
    Ok(v)
}

/// Turns on what published ports to `dests` need; a destination not behind a local interface
/// needs nothing. When a step fails, what the steps before it turned on is turned back.
pub fn prepare(trace: Trace, dests: &[IpAddr]) -> Result<Prepared> {
    let mut p = Prepared {
        notes: Vec::new(),
        hints: Vec::new(),
        turned: Vec::new(),
    };
    match prepare_into(&mut p, trace, dests) {
        Ok(()) => Ok(p),
        Err(e) => Err(match p.undo(trace).as_slice() {
            [] => e,
            left => Error::state(
                e.object.clone(),
                format!("{}; {}", e.reason(), left.join("; ")),
            ),
        }),
    }
}

fn prepare_into(p: &mut Prepared, trace: Trace, dests: &[IpAddr]) -> Result<()> {
    let mut k = Kernel::new(trace);
    let mut bridges = Bridges::new(trace, None);
    for &dst in dests {
        let oif = match route_out(&mut k, dst)? {
            Way::Out(oif) => oif,
            Way::Stays => continue,
            Way::Unreachable if dst.is_ipv6() => continue,
            Way::Unreachable => {
                p.hints.push(format!(
                    "no route leads to {dst} yet: for 127.0.0.1 to reach it, turn \
                     route_localnet on for its bridge once it has one (ipfwd set BRIDGE \
                     route_localnet on)"
                ));
                continue;
            }
        };
        let link = k.get_link(
            crate::netlink::rtnl::link::get_link_by_index(oif, None, 0),
            &oif,
        )?;
        let Some(dev) = link.name else { continue };
        // IPv6 has no route_localnet: ::1 is never published (see Rule::parse).
        if let IpAddr::V4(v4) = dst {
            let key = Key::conf(false, dev.as_str(), "route_localnet");
            let c = sysctl::set(&trace, &key, 1)?;
            if c.changed() {
                p.notes.push(format!(
                    "set {key}=1 (so 127.0.0.1 may be routed to {v4} on {dev})"
                ));
                p.turned.push(Turned::Sysctl(key, c.old));
            }
        }
        if link.kind != "bridge" || !bridged_back(&trace, dst)? {
            continue;
        }
        // Where an IPv4 destination was last seen; an IPv6 one is looked for nowhere (no
        // /proc/net/arp for it), so every port gets hairpin.
        let known = match dst {
            IpAddr::V4(v4) => port_of(&mut bridges, &trace, &dev, v4)?,
            IpAddr::V6(_) => None,
        };
        let b = bridges.bridge(&dev, Detail::Full)?;
        let off: Vec<IfName> = b
            .ports
            .iter()
            .filter(|x| !x.hairpin && (known.is_none() || x.name == known))
            .filter_map(|x| x.name)
            .collect();
        for port in off {
            bridges.set_port(&dev, &port, PortSetting::Hairpin, 1)?;
            p.notes.push(match known {
                Some(_) => format!(
                    "set hairpin on {port} of {dev} (so {dst} may reach its own published port)"
                ),
                None => format!(
                    "set hairpin on {port} of {dev} ({dst} is not yet known on {dev}: so it may \
                     reach its own published port from whichever port it is behind)"
                ),
            });
            p.turned.push(Turned::Hairpin(dev, port));
        }
        let later = format!(
            "a port attached to {dev} later needs hairpin for its container to reach its \
             own published port through br_netfilter (brctl hairpin {dev} PORT on)"
        );
        // Once per bridge, however many of the call's destinations are behind it.
        if known.is_none() && !p.hints.contains(&later) {
            p.hints.push(later);
        }
    }
    Ok(())
}

/// Isolating an interface that does not exist is a mistake (nft would match its name should
/// it come): refused, naming it.
pub fn check_isolated(trace: Trace, names: &[&IfName]) -> Result<()> {
    let mut k = Kernel::new(trace);
    for n in names {
        match k.link(n) {
            Err(e) if e.is(libc::ENODEV) => {
                return Err(Error::state(
                    n.to_string(),
                    format!("no bridge (no interface) named {n}"),
                ))
            }
            other => other?,
        };
    }
    Ok(())
}

/// Whether br_netfilter hands bridged packets of `dst`'s family to the netfilter hooks here,
/// so that a packet DNATed back to its own bridge is bridged, not routed.
fn bridged_back(trace: &Trace, dst: IpAddr) -> Result<bool> {
    let key = sysctl::bridge_nf(if dst.is_ipv6() {
        "bridge-nf-call-ip6tables"
    } else {
        "bridge-nf-call-iptables"
    });
    if !sysctl::exists(&key) {
        return Ok(false);
    }
    Ok(sysctl::get(trace, &key)? == 1)
}

/// The bridge port behind which `dst` was last seen: its address from the neighbour table, its
/// port from the bridge's forwarding database.
fn port_of(
    bridges: &mut Bridges,
    trace: &Trace,
    bridge: &IfName,
    dst: Ipv4Addr,
) -> Result<Option<IfName>> {
    let Some(mac) = neighbour(trace, dst, bridge.as_str()) else {
        return Ok(None);
    };
    let Some(no) = bridges
        .fdb(bridge)?
        .into_iter()
        .find(|e| e.mac == mac && !e.is_local)
        .map(|e| e.port_no)
    else {
        return Ok(None);
    };
    let b = bridges.bridge(bridge, Detail::Full)?;
    Ok(b.ports
        .into_iter()
        .find(|x| x.port_no == no)
        .and_then(|x| x.name))
}

impl Prepared {
    /// Turns back what was turned, last first, as it runs after a failure: every switch is
    /// tried, and what could not be turned back is returned, in words.
    pub fn undo(&mut self, trace: Trace) -> Vec<String> {
        let mut bridges = Bridges::new(trace, None);
        let mut left = Vec::new();
        for t in self.turned.drain(..).rev() {
            let (what, done) = match t {
                Turned::Sysctl(key, old) => (
                    format!("{key} is still 1 (was {old})"),
                    sysctl::set(&trace, &key, old).map(|_| ()),
                ),
                Turned::Hairpin(b, port) => (
                    format!("hairpin is still on for {port} of {b}"),
                    bridges.set_port(&b, &port, PortSetting::Hairpin, 0),
                ),
            };
            if let Err(e) = done {
                left.push(format!("{what}: {}", e.reason()));
            }
        }
        left
    }
}
