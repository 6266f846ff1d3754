//! Overlay networks kept in etcd, made real on each host: the key schema, the values, and the
//! reconcile of this host's kernel against one read of the store.
//!
//! Keys (values are one line of `k=v` words; unknown words are ignored, a value that lacks a
//! needed word or has a bad one is *malformed*: skipped and reported, never read as a delete):
//!
//! ```text
//! /netplumb/v1/networks/NET        vni=N subnet=CIDR mtu=auto|N      no lease
//! /netplumb/v1/vni/N               NET                               no lease (VNI uniqueness)
//! /netplumb/v1/hosts/HOST          vtep=ADDR                         HOST's lease
//! /netplumb/v1/endpoints/NET/ADDR  mac=M vtep=ADDR host=HOST ns=NS [name=NAME]   HOST's lease
//! ```
//!
//! An endpoint key *is* its address's reservation: created by a txn only if absent.
//! On each host a network is a bridge `ob-NET` and a VXLAN device `ov-NET` (VNI, this host's
//! VTEP, nolearning, proxy) in the namespace the program runs in; the VXLAN device holds an
//! all-zeros FDB entry toward every other host's VTEP (flooding), and for every remote
//! endpoint an FDB entry (MAC → VTEP) and a neighbour entry (ADDR → MAC, which the proxy
//! answers ARP from).

use crate::etcd::kv::Kv;
use crate::fdb::{FdbSpec, Fdbs, FLOOD_MAC};
use crate::ifname::{IfName, Mac};
use crate::neigh::Neighbours;
use crate::netlink::rtnl::neigh::NeighOp;
use crate::{Error, Result, Trace};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

pub const ROOT: &str = "/netplumb/v1/";
pub const NETWORKS: &str = "/netplumb/v1/networks/";
pub const VNIS: &str = "/netplumb/v1/vni/";
pub const HOSTS: &str = "/netplumb/v1/hosts/";
pub const ENDPOINTS: &str = "/netplumb/v1/endpoints/";
/// `released/NET/ADDR`: an address `ep rm` gave back, under a lease of [`HOLD_BACK`] seconds;
/// the allocator skips it meanwhile (a peer may still hold its MAC or an open connection).
pub const RELEASED: &str = "/netplumb/v1/released/";
pub const HOLD_BACK: i64 = 60;

/// The key that holds `ip` of network `net` back after `ep rm`.
pub fn released_key(net: &str, ip: Ipv4Addr) -> String {
    format!("{RELEASED}{net}/{ip}")
}
/// Longest network name: `ob-` + it fits IFNAMSIZ.
pub const NAME_MAX: usize = 12;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    pub name: String,
    pub vni: u32,
    pub subnet: Ipv4Addr,
    pub prefix: u8,
    /// None: the underlay's minus the VXLAN headroom.
    pub mtu: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub net: String,
    pub ip: Ipv4Addr,
    pub mac: [u8; 6],
    pub vtep: Ipv4Addr,
    pub host: String,
    pub ns: String,
    pub name: Option<String>,
}

/// Everything under [`ROOT`] at one revision, read into what it means.
#[derive(Clone, Debug, Default)]
pub struct Store {
    pub revision: i64,
    pub networks: BTreeMap<String, Network>,
    /// Host → VTEP.
    pub hosts: BTreeMap<String, Ipv4Addr>,
    /// By key.
    pub endpoints: BTreeMap<String, Endpoint>,
    /// Keys skipped, with why.
    pub malformed: Vec<String>,
    /// The (network, address) of endpoint keys skipped as malformed: what the kernel has for
    /// them is kept, since a value that cannot be read is not a deletion.
    pub unreadable: BTreeSet<(String, Ipv4Addr)>,
}

fn words(value: &str) -> BTreeMap<&str, &str> {
    value
        .split_whitespace()
        .filter_map(|w| w.split_once('='))
        .collect()
}

pub fn check_net_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > NAME_MAX
        || !name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    {
        return Err(Error::invalid(
            name,
            format!("a network name is 1 to {NAME_MAX} letters, digits, '-' or '_'"),
        ));
    }
    Ok(())
}

impl Network {
    pub fn value(&self) -> String {
        let mtu = self.mtu.map_or("auto".to_string(), |m| m.to_string());
        format!(
            "vni={} subnet={}/{} mtu={mtu}",
            self.vni, self.subnet, self.prefix
        )
    }

    pub fn parse(name: &str, value: &str) -> std::result::Result<Network, String> {
        let w = words(value);
        let vni = w
            .get("vni")
            .and_then(|v| v.parse().ok())
            .filter(|&v| v > 0 && v <= crate::fdb::VNI_MAX)
            .ok_or("no vni=1..16777215")?;
        let (subnet, prefix) = w
            .get("subnet")
            .and_then(|s| parse_cidr(s))
            .ok_or("no subnet=A.B.C.D/N")?;
        let mtu = match w.get("mtu") {
            None | Some(&"auto") => None,
            Some(m) => Some(m.parse().map_err(|_| "mtu is neither auto nor a number")?),
        };
        Ok(Network {
            name: name.to_string(),
            vni,
            subnet,
            prefix,
            mtu,
        })
    }

    pub fn bridge(&self) -> IfName {
        dev_name("ob-", &self.name)
    }

    pub fn vxlan(&self) -> IfName {
        dev_name("ov-", &self.name)
    }

    /// Whether `ip` is a host address of the subnet (not its network or broadcast address).
    pub fn holds(&self, ip: Ipv4Addr) -> bool {
        let mask = mask(self.prefix);
        let host = u32::from(ip) & !mask;
        u32::from(ip) & mask == u32::from(self.subnet) && host != 0 && host != !mask
    }

    /// How many host addresses the subnet has.
    pub fn size(&self) -> u32 {
        (!mask(self.prefix)).saturating_sub(1)
    }

    /// The `n`th host address (0-based).
    pub fn nth(&self, n: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.subnet) + 1 + n)
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

pub fn parse_cidr(s: &str) -> Option<(Ipv4Addr, u8)> {
    let (a, p) = s.split_once('/')?;
    let a: Ipv4Addr = a.parse().ok()?;
    let p: u8 = p.parse().ok().filter(|&p| (8..=30).contains(&p))?;
    (u32::from(a) & !mask(p) == 0).then_some((a, p))
}

pub fn dev_name(prefix: &str, net: &str) -> IfName {
    IfName::new(&format!("{prefix}{net}")).expect("network names are checked to fit")
}

/// Docker's derivation: 02:42 and the four address bytes (unique within a network).
pub fn mac_of(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

impl Endpoint {
    pub fn key(&self) -> String {
        format!("{ENDPOINTS}{}/{}", self.net, self.ip)
    }

    pub fn value(&self) -> String {
        let mut v = format!(
            "mac={} vtep={} host={} ns={}",
            Mac(self.mac),
            self.vtep,
            self.host,
            self.ns
        );
        if let Some(n) = &self.name {
            v.push_str(&format!(" name={n}"));
        }
        v
    }

    pub fn parse(net: &str, ip: &str, value: &str) -> std::result::Result<Endpoint, String> {
        let w = words(value);
        let ip = ip.parse().map_err(|_| "the key's address is not IPv4")?;
        let get = |k: &str| w.get(k).copied().ok_or(format!("no {k}="));
        Ok(Endpoint {
            net: net.to_string(),
            ip,
            mac: Mac::parse(get("mac")?).map_err(|_| "mac= is not a MAC")?.0,
            vtep: get("vtep")?.parse().map_err(|_| "vtep= is not IPv4")?,
            host: get("host")?.to_string(),
            ns: get("ns")?.to_string(),
            name: w.get("name").map(|s| s.to_string()),
        })
    }
}

/// What one key means, or why it was skipped.
pub enum Entry {
    Network(Network),
    Host(String, Ipv4Addr),
    Endpoint(Endpoint),
    /// The VNI index, or a key of a later schema: nothing to apply.
    Other,
}

pub fn decode(key: &[u8], value: &[u8]) -> std::result::Result<Entry, String> {
    let key = std::str::from_utf8(key).map_err(|_| "a key that is not UTF-8".to_string())?;
    let value =
        std::str::from_utf8(value).map_err(|_| format!("{key}: a value that is not UTF-8"))?;
    let bad = |why: String| format!("{key}: {why} in {value:?}");
    if let Some(name) = key.strip_prefix(NETWORKS) {
        check_net_name(name).map_err(|e| bad(e.reason()))?;
        return Network::parse(name, value).map(Entry::Network).map_err(bad);
    }
    if let Some(host) = key.strip_prefix(HOSTS) {
        let vtep = words(value)
            .get("vtep")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| bad("no vtep=A.B.C.D".into()))?;
        return Ok(Entry::Host(host.to_string(), vtep));
    }
    if let Some(rest) = key.strip_prefix(ENDPOINTS) {
        let (net, ip) = rest
            .split_once('/')
            .ok_or_else(|| bad("no NET/ADDR".into()))?;
        return Endpoint::parse(net, ip, value)
            .map(Entry::Endpoint)
            .map_err(bad);
    }
    Ok(Entry::Other)
}

impl Store {
    pub fn from_kvs(revision: i64, kvs: &[Kv]) -> Store {
        let mut s = Store {
            revision,
            ..Store::default()
        };
        for kv in kvs {
            if let Err(why) = s.put(&kv.key, &kv.value) {
                s.malformed.push(why);
                let key = String::from_utf8_lossy(&kv.key);
                if let Some((net, ip)) = key.strip_prefix(ENDPOINTS).and_then(|r| r.split_once('/'))
                {
                    if let Ok(ip) = ip.parse() {
                        s.unreadable.insert((net.to_string(), ip));
                    }
                }
            }
        }
        s
    }

    /// A key put: what it means replaces what was there. A malformed value changes nothing.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> std::result::Result<(), String> {
        match decode(key, value)? {
            Entry::Network(n) => {
                self.networks.insert(n.name.clone(), n);
            }
            Entry::Host(h, v) => {
                self.hosts.insert(h, v);
            }
            Entry::Endpoint(e) => {
                self.endpoints.insert(e.key(), e);
            }
            Entry::Other => {}
        }
        Ok(())
    }

    /// A key deleted.
    pub fn delete(&mut self, key: &[u8]) {
        let key = String::from_utf8_lossy(key);
        if let Some(n) = key.strip_prefix(NETWORKS) {
            self.networks.remove(n);
        } else if let Some(h) = key.strip_prefix(HOSTS) {
            self.hosts.remove(h);
        } else {
            self.endpoints.remove(key.as_ref());
        }
    }
}

/// One kernel entry of a network's VXLAN device.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum KEntry {
    /// FDB: MAC → VTEP (the all-zeros MAC: a flooding destination).
    Fdb([u8; 6], Ipv4Addr),
    /// Neighbour: address → MAC.
    Neigh(Ipv4Addr, [u8; 6]),
}

impl std::fmt::Display for KEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            KEntry::Fdb(m, d) => write!(f, "fdb {} dst {d}", Mac(*m)),
            KEntry::Neigh(a, m) => write!(f, "neigh {a} lladdr {}", Mac(*m)),
        }
    }
}

/// What this host's kernel should hold for `net`: flooding to every other host's VTEP, and
/// the entries of every endpoint on another host; and of what it `has`, the entries of
/// endpoints whose value could not be read (kept, not removed).
pub fn wanted(
    store: &Store,
    net: &Network,
    me: Ipv4Addr,
    has: Option<&BTreeSet<KEntry>>,
) -> BTreeSet<KEntry> {
    let mut w = BTreeSet::new();
    for e in has.into_iter().flatten() {
        if let KEntry::Neigh(ip, mac) = e {
            if store.unreadable.contains(&(net.name.clone(), *ip)) {
                w.insert(e.clone());
                for f in has.into_iter().flatten() {
                    if matches!(f, KEntry::Fdb(m, _) if m == mac) {
                        w.insert(f.clone());
                    }
                }
            }
        }
    }
    for &vtep in store.hosts.values().filter(|&&v| v != me) {
        w.insert(KEntry::Fdb(FLOOD_MAC, vtep));
    }
    for e in store
        .endpoints
        .values()
        .filter(|e| e.net == net.name && e.vtep != me)
    {
        w.insert(KEntry::Fdb(e.mac, e.vtep));
        w.insert(KEntry::Neigh(e.ip, e.mac));
    }
    w
}

/// The permanent entries the kernel holds on `vx` (the overlay's own device: anything there
/// is netplumb's).
pub fn present(trace: Trace, vx: &IfName) -> Result<BTreeSet<KEntry>> {
    let mut have = BTreeSet::new();
    for r in Fdbs::new(trace, None).show(Some(vx))? {
        if let (Some(IpAddr::V4(d)), true) = (r.dst, r.flags & 0x02 != 0) {
            have.insert(KEntry::Fdb(r.mac, d));
        }
    }
    for n in Neighbours::new(trace, None)?.show(Some(vx))? {
        if let (IpAddr::V4(a), Some(m), false) = (n.addr, n.mac, n.proxy) {
            if n.state
                .as_ref()
                .is_some_and(|s| s.names().contains(&"PERMANENT"))
            {
                have.insert(KEntry::Neigh(a, m));
            }
        }
    }
    Ok(have)
}

/// The changes that make `have` into `want`: removals first (a moved MAC or address is
/// removed, then added), each `(add, entry)`.
pub fn diff(have: &BTreeSet<KEntry>, want: &BTreeSet<KEntry>) -> Vec<(bool, KEntry)> {
    let mut out: Vec<(bool, KEntry)> = have.difference(want).map(|e| (false, e.clone())).collect();
    out.extend(want.difference(have).map(|e| (true, e.clone())));
    out
}

/// Sends one change to `vx`. Deleting what is gone and adding what is there are successes:
/// the kernel is being made equal to the store, not checked.
pub fn apply(trace: Trace, vx: &IfName, add: bool, e: &KEntry) -> Result<()> {
    let r = match e {
        KEntry::Fdb(mac, dst) => {
            let spec = FdbSpec {
                dev: *vx,
                mac: *mac,
                dst: Some(IpAddr::V4(*dst)),
                port: None,
                vni: None,
                master: false,
            };
            let mut f = Fdbs::new(trace, None);
            match (add, *mac == FLOOD_MAC) {
                (true, true) => f.write(NeighOp::Append, &spec),
                (true, false) => f.write(NeighOp::Replace, &spec),
                (false, _) => f.del(&spec),
            }
        }
        KEntry::Neigh(ip, mac) => {
            let mut n = Neighbours::new(trace, None)?;
            if add {
                // An entry for the address with another MAC goes first.
                let _ = n.del(vx, IpAddr::V4(*ip), false);
                n.add(vx, IpAddr::V4(*ip), Mac(*mac), false)
            } else {
                n.del(vx, IpAddr::V4(*ip), false)
            }
        }
    };
    match r {
        Err(err) if (!add && err.is(libc::ENOENT)) || (add && err.is(libc::EEXIST)) => Ok(()),
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_bad_ones_are_reasons() {
        let n = Network::parse("ov1", "vni=42 subnet=10.20.0.0/24 mtu=auto future=x").unwrap();
        assert_eq!(n.value(), "vni=42 subnet=10.20.0.0/24 mtu=auto");
        assert!(n.holds("10.20.0.1".parse().unwrap()));
        assert!(!n.holds("10.20.0.255".parse().unwrap()));
        assert_eq!(n.size(), 254);
        let e = Endpoint::parse(
            "ov1",
            "10.20.0.5",
            "mac=02:42:0a:14:00:05 vtep=192.0.2.1 host=h1 ns=c1 name=web",
        )
        .unwrap();
        assert_eq!(Endpoint::parse("ov1", "10.20.0.5", &e.value()).unwrap(), e);
        assert!(decode(b"/netplumb/v1/networks/ov1", b"vni=x subnet=10.20.0.0/24").is_err());
        assert!(decode(b"/netplumb/v1/endpoints/ov1/10.20.0.5", b"garbage").is_err());
        assert!(parse_cidr("10.20.0.1/24").is_none());
    }
}

/// This host's side of the kernel: each network's devices and each local endpoint's veth.
pub mod host {
    use super::{dev_name, Network};
    use crate::bridge::ops::Bridges;
    use crate::iface::Ifaces;
    use crate::ifname::{IfName, Mac};
    use crate::netns::NsTarget;
    use crate::veth::{VethSpec, Veths};
    use crate::vxlan::{VxlanSpec, Vxlans, IANA_PORT};
    use crate::{Error, Result, Trace, Via};
    use std::net::{IpAddr, Ipv4Addr};

    /// The device that holds `vtep`, and its MTU.
    pub fn underlay(trace: Trace, vtep: Ipv4Addr) -> Result<(IfName, u32)> {
        Ifaces::new(trace, None)?
            .show(None)?
            .into_iter()
            .find(|i| i.addrs.iter().any(|a| a.local == IpAddr::V4(vtep)))
            .map(|i| (i.name, i.mtu))
            .ok_or_else(|| {
                Error::state(
                    vtep.to_string(),
                    format!("no device here has {vtep}: --vtep must be an address of this host"),
                )
            })
    }

    /// The names of the overlay networks whose VXLAN device is here.
    pub fn present_networks(trace: Trace) -> Result<Vec<String>> {
        Ok(Vxlans::new(trace)
            .list(None)?
            .into_iter()
            .filter_map(|v| v.name.as_str().strip_prefix("ov-").map(str::to_string))
            .collect())
    }

    /// Makes `net`'s bridge and VXLAN device when they are not here; returns the network's MTU
    /// on this host (the VXLAN device's), and whether anything was made.
    pub fn ensure(trace: Trace, net: &Network, vtep: Ipv4Addr) -> Result<(u32, bool)> {
        let (br, vx) = (net.bridge(), net.vxlan());
        let mut k = crate::kernel::Kernel::new(trace);
        if let Ok(l) = k.link(&vx) {
            return Ok((l.mtu, false));
        }
        let (lower, _) = underlay(trace, vtep)?;
        let mut bridges = Bridges::new(trace, Some(Via::Netlink));
        if k.link(&br).is_err() {
            bridges.add_bridge(&br)?;
        }
        let made = Ifaces::new(trace, Some(Via::Netlink))?
            .set_up(&br, true)
            .and_then(|()| {
                Vxlans::new(trace).add(&VxlanSpec {
                    name: vx,
                    vni: net.vni,
                    local: Some(IpAddr::V4(vtep)),
                    lower: Some(lower),
                    port: IANA_PORT,
                    learning: false,
                    proxy: true,
                    ttl: None,
                    ageing: None,
                    mtu: net.mtu,
                    force: false,
                    master: Some(br),
                    netns: None,
                    up: true,
                })
            });
        if let Err(e) = made {
            let _ = bridges.del_bridge(&br);
            return Err(e);
        }
        Ok((k.link(&vx)?.mtu, true))
    }

    /// Removes `net`'s devices and the host ends of its endpoints' veths (their other ends go
    /// with them): one batch of `RTM_DELLINK`. What is not there is not an error.
    pub fn teardown(trace: Trace, name: &str) -> Result<()> {
        let mut k = crate::kernel::Kernel::new(trace);
        let (br, vx) = (dev_name("ob-", name), dev_name("ov-", name));
        let links = k.links()?;
        let bridge = links.iter().find(|l| l.name == Some(br)).map(|l| l.index);
        let doomed: Vec<_> = links
            .into_iter()
            .filter(|l| l.name == Some(br) || l.name == Some(vx) || bridge == Some(l.master))
            .collect();
        // One at a time, each gone meanwhile skipped: this host's agent and `net rm` may both
        // be removing the network, and stopping at the first one gone would leave the rest.
        for l in doomed {
            if let Err(e) = k.del_links(vec![l]) {
                if !e.is(libc::ENODEV) {
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// The host end of an endpoint's veth: unique per network and address.
    pub fn host_end(net: &Network, ip: Ipv4Addr) -> IfName {
        IfName::new(&format!("oe{:x}{:08x}", net.vni & 0xfff, u32::from(ip)))
            .expect("13 characters")
    }

    /// An endpoint's veth: the host end on the network's bridge, the other end (named like
    /// the network's VXLAN device) in `ns` with the address, the MAC and the MTU; both up.
    /// Nothing is left when a step fails.
    pub fn add_endpoint(
        trace: Trace,
        net: &Network,
        ns: &str,
        ip: Ipv4Addr,
        mac: [u8; 6],
        mtu: u32,
    ) -> Result<()> {
        let (end, inner) = (host_end(net, ip), net.vxlan());
        let target = NsTarget::parse(ns)?;
        let fd = target.open()?;
        Veths::new(trace).add(&VethSpec {
            name: end,
            peer: inner,
            netns: None,
            peer_netns: Some(target),
            mtu: Some(mtu),
            mac: None,
            peer_mac: Some(Mac(mac)),
            master: Some(net.bridge()),
            up: true,
        })?;
        let inside = crate::netns::within(&fd, || {
            let mut i = Ifaces::new(trace, Some(Via::Netlink))?;
            i.set_up(&IfName::new("lo")?, true)?;
            i.set_up(&inner, true)?;
            i.add_addr(&inner, IpAddr::V4(ip), net.prefix, None)
        });
        if let Err(e) = inside {
            let _ = Veths::new(trace).del(&[end]);
            return Err(e);
        }
        Ok(())
    }

    /// Removes an endpoint's veth (both ends go with the host end); gone already is fine.
    pub fn del_endpoint(trace: Trace, net: &Network, ip: Ipv4Addr) -> Result<()> {
        match Veths::new(trace).del(&[host_end(net, ip)]) {
            Err(e) if e.is(libc::ENODEV) => Ok(()),
            r => r.map(drop),
        }
    }
}
