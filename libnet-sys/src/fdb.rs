//! Forwarding-database entries: a VXLAN device's own (MAC → remote VTEP, `NTF_SELF`; the
//! all-zeros MAC's destinations are where broadcast and unknown traffic floods) and static
//! entries in a bridge's table (`NTF_MASTER` on the port).
//!
//! Entries are written only through `RTM_NEWNEIGH`/`RTM_DELNEIGH` `AF_BRIDGE`: no ioctl writes
//! one. A bridge's table is read on three paths, as brctl's showmacs reads it (the
//! `BRCTL_GET_FDB_ENTRIES` ioctl, sysfs `brforward`, or a netlink dump), into the same rows; a
//! VXLAN device's own entries are seen only by the netlink dump.

use crate::bridge::ops::Bridges;
use crate::bridge::Detail;
use crate::error::{Error, Result};
use crate::ifname::{IfName, Mac};
use crate::kernel::Kernel;
use crate::netlink::rtnl::link::Link;
use crate::netlink::rtnl::neigh::{
    self, NeighAttrs, NeighOp, Neighbour, NTF_MASTER, NTF_SELF, NUD_NOARP, NUD_PERMANENT,
    NUD_REACHABLE,
};
use crate::netlink::rtnl::AF_BRIDGE;
use crate::trace::Trace;
use crate::Via;
use std::collections::HashMap;
use std::net::IpAddr;

/// An entry to write or delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdbSpec {
    /// The VXLAN device, or with `master` the bridge port.
    pub dev: IfName,
    pub mac: [u8; 6],
    /// The remote VTEP (VXLAN entries; on delete, one destination among several).
    pub dst: Option<IpAddr>,
    /// UDP destination port, when not the device's.
    pub port: Option<u16>,
    /// VNI, when not the device's.
    pub vni: Option<u32>,
    /// A static entry in the bridge's table (`NTF_MASTER`), on port `dev`.
    pub master: bool,
}

/// One entry as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdbRow {
    pub mac: [u8; 6],
    /// The device the entry is on (a VXLAN device, a bridge port, a bridge).
    pub dev: Option<IfName>,
    /// The bridge the entry is in (entries of a bridge's table).
    pub master: Option<IfName>,
    pub dst: Option<IpAddr>,
    pub port: Option<u16>,
    pub vni: Option<u32>,
    /// `NUD_*`: `NUD_PERMANENT` a local (or a VXLAN device's permanent) entry, `NUD_NOARP` a
    /// static one, else learnt.
    pub state: u16,
    /// `NTF_SELF` or `NTF_MASTER`.
    pub flags: u8,
}

/// The all-zeros MAC: a VXLAN device's entry for broadcast and unknown destinations.
pub const FLOOD_MAC: [u8; 6] = [0; 6];

/// VNIs are 24 bits; 0 is not one a device or entry may name.
pub const VNI_MAX: u32 = (1 << 24) - 1;

/// The FDB steps, on the sockets of one [`Kernel`] (and brctl's readers for a bridge's table).
pub struct Fdbs {
    k: Kernel,
    bridges: Bridges,
    via: Option<Via>,
    /// Devices written to so far: a batch of many entries on one device looks it up once, as
    /// `bridge -batch` does (fdbctl makes and removes no device, so what it read stays true).
    seen: Vec<(IfName, Link)>,
}

impl Fdbs {
    /// `via`: how `show` reads a bridge's table (netlink by default); writes are netlink only.
    pub fn new(trace: Trace, via: Option<Via>) -> Fdbs {
        Fdbs {
            k: Kernel::new(trace),
            bridges: Bridges::new(trace, via),
            via,
            seen: Vec::new(),
        }
    }

    /// The message for `spec`, after what the kernel would refuse or take wrongly is refused:
    /// the device must be a VXLAN device (or, with `master`, a bridge port), a VXLAN entry
    /// names its VTEP, a bridge entry is for a unicast MAC.
    fn entry(&mut self, spec: &FdbSpec, writing: bool) -> Result<Neighbour> {
        let dev = spec.dev;
        let shown = Mac(spec.mac);
        if spec.vni.is_some_and(|v| v == 0 || v > VNI_MAX) {
            return Err(Error::invalid(
                dev.to_string(),
                format!(
                    "vni {} is out of range: 1 to {VNI_MAX}",
                    spec.vni.unwrap_or(0)
                ),
            ));
        }
        if spec.port == Some(0) {
            return Err(Error::invalid(
                dev.to_string(),
                "port 0 is not a UDP port: 1 to 65535",
            ));
        }
        if spec.mac[0] & 1 != 0 {
            return Err(Error::invalid(
                shown.to_string(),
                format!("{shown} is a multicast address (the first byte is odd): an entry is for a unicast MAC"),
            ));
        }
        let l = match self.seen.iter().find(|(n, _)| *n == dev) {
            Some((_, l)) => l.clone(),
            None => {
                let l = self.k.link(&dev)?;
                self.seen.push((dev, l.clone()));
                l
            }
        };
        let mut n = Neighbour::header(AF_BRIDGE, l.index, NUD_PERMANENT | NUD_NOARP, NTF_SELF);
        n.attrs = NeighAttrs {
            lladdr: Some(spec.mac.to_vec()),
            dst: spec.dst,
            port: spec.port,
            vni: spec.vni,
            ..Default::default()
        };
        if spec.master {
            if l.port.is_none() {
                return Err(Error::state(
                    dev.to_string(),
                    format!("{dev} is not a bridge port: --master puts an entry in the bridge of the port it names"),
                ));
            }
            if spec.dst.is_some() || spec.port.is_some() || spec.vni.is_some() {
                return Err(Error::invalid(
                    dev.to_string(),
                    "a bridge's entry has no dst, port or vni: those are a VXLAN device's",
                ));
            }
            if spec.mac == FLOOD_MAC {
                return Err(Error::invalid(
                    shown.to_string(),
                    "all zero is not a MAC a bridge forwards to: an entry is for a unicast MAC",
                ));
            }
            // A static entry, as iproute2's `static` writes it: NUD_PERMANENT in a bridge's
            // table would make it local (delivered to the host).
            n.state = if writing {
                NUD_NOARP | NUD_REACHABLE
            } else {
                NUD_PERMANENT | NUD_NOARP
            };
            n.flags = NTF_MASTER;
            return Ok(n);
        }
        if l.vxlan.is_none() {
            return Err(Error::state(dev.to_string(), not_vxlan(&dev, &l)));
        }
        if writing && spec.dst.is_none() {
            return Err(Error::invalid(
                dev.to_string(),
                "a VXLAN entry needs dst ADDR: the VTEP that holds the MAC",
            ));
        }
        Ok(n)
    }

    /// `add` (`EEXIST` when there), `replace` (made or moved) or `append` (one more
    /// destination; one that is there already is kept).
    pub fn write(&mut self, op: NeighOp, spec: &FdbSpec) -> Result<()> {
        let n = self.entry(spec, true)?;
        self.k.neigh_request(Some(op), &n, &object(spec))
    }

    /// `del`: the entry, or with `dst` that one destination of it; `ENOENT` when not there.
    pub fn del(&mut self, spec: &FdbSpec) -> Result<()> {
        let n = self.entry(spec, false)?;
        if spec.dst.is_some() {
            // The kernel acks the delete of a destination the MAC does not have, doing
            // nothing: look first, so that an absent one is said.
            let index = n.ifindex;
            let there = self
                .k
                .neighbours(move || neigh::dump_fdb_dev(Some(index)), spec.dev.as_str())?
                .iter()
                .any(|e| {
                    e.ifindex == index
                        && e.flags & NTF_SELF != 0
                        && e.attrs.lladdr.as_deref() == Some(&spec.mac[..])
                        && e.attrs.dst == spec.dst
                        && spec
                            .port
                            .map_or(true, |p| e.attrs.port.map_or(true, |q| q == p))
                        && spec
                            .vni
                            .map_or(true, |v| e.attrs.vni.map_or(true, |w| w == v))
                });
            if !there {
                return Err(Error::errno("RTM_DELNEIGH", object(spec), libc::ENOENT));
            }
        }
        self.k.neigh_request(None, &n, &object(spec))
    }

    /// The entries of `dev`, or of every device. A bridge's table is read on the path chosen
    /// (into the same rows on each); anything else, and everything at once, by netlink only.
    pub fn show(&mut self, dev: Option<&IfName>) -> Result<Vec<FdbRow>> {
        let netlink = matches!(self.via, None | Some(Via::Netlink));
        let Some(dev) = dev else {
            if netlink {
                return self.dump(None);
            }
            let mut rows = Vec::new();
            for b in self.bridges.bridges(Detail::Summary)? {
                if let Some(name) = b.name {
                    rows.extend(self.bridge_table(&name)?);
                }
            }
            return Ok(rows);
        };
        if netlink {
            let l = self.k.link(dev)?;
            return match l.bridge {
                Some(_) => self.bridge_table(dev),
                None => self.dump(Some(&l)),
            };
        }
        match self.bridge_table(dev) {
            Err(e) if e.is(libc::EOPNOTSUPP) => {
                // Said in terms of what the device is: a VXLAN device's entries are its own,
                // which only netlink reports.
                let why = match self.k.link(dev) {
                    Ok(l) if l.vxlan.is_some() => format!(
                        "{dev} is a VXLAN device: its entries are seen only through netlink \
                         (--via netlink); ioctl and sysfs read a bridge's table"
                    ),
                    _ => format!("{dev} is not a bridge: ioctl and sysfs read a bridge's table"),
                };
                Err(Error::state(dev.to_string(), why))
            }
            r => r,
        }
    }

    /// A bridge's table as `brforward` records it, on the path chosen, with port names: what
    /// all three paths can say (local or not; no static flag, no ageing, which tick).
    fn bridge_table(&mut self, bridge: &IfName) -> Result<Vec<FdbRow>> {
        let entries = self.bridges.fdb(bridge)?;
        // sysfs gives port numbers only with the ports' full details.
        let detail = match self.via {
            Some(Via::Sysfs) => Detail::Full,
            _ => Detail::Summary,
        };
        let ports = self.bridges.bridge(bridge, detail)?.ports;
        // In the kernel's order (its fdb_list), which all three paths walk alike.
        Ok(entries
            .iter()
            .map(|e| FdbRow {
                mac: e.mac,
                dev: ports
                    .iter()
                    .find(|p| p.port_no == e.port_no)
                    .and_then(|p| p.name),
                master: Some(*bridge),
                dst: None,
                port: None,
                vni: None,
                state: if e.is_local { NUD_PERMANENT } else { 0 },
                flags: NTF_MASTER,
            })
            .collect())
    }

    /// Every `AF_BRIDGE` entry (or `only`'s), as `bridge fdb show` lists them.
    fn dump(&mut self, only: Option<&Link>) -> Result<Vec<FdbRow>> {
        let index = only.map(|l| l.index);
        let object = only
            .and_then(|l| l.name)
            .map(|n| n.to_string())
            .unwrap_or_default();
        let all = self
            .k
            .neighbours(move || neigh::dump_fdb_dev(index), &object)?;
        let names: HashMap<u32, IfName> = self
            .k
            .links()?
            .iter()
            .filter_map(|l| Some((l.index, l.name?)))
            .collect();
        Ok(all
            .into_iter()
            .filter(|n| index.map_or(true, |i| n.ifindex == i))
            .filter_map(|n| {
                let mac = <[u8; 6]>::try_from(n.attrs.lladdr.as_deref()?).ok()?;
                Some(FdbRow {
                    mac,
                    dev: names.get(&n.ifindex).copied(),
                    master: n.attrs.master.and_then(|m| names.get(&m).copied()),
                    dst: n.attrs.dst,
                    port: n.attrs.port,
                    vni: n.attrs.vni,
                    state: n.state,
                    flags: n.flags,
                })
            })
            .collect())
    }
}

/// `02:00:00:00:00:01 dst 192.0.2.2 dev vx0`: an entry, for messages.
fn object(spec: &FdbSpec) -> String {
    let mut s = Mac(spec.mac).to_string();
    if let Some(d) = spec.dst {
        s.push_str(&format!(" dst {d}"));
    }
    s.push_str(&format!(" dev {}", spec.dev));
    s
}

/// Why `dev` takes no VXLAN entry.
fn not_vxlan(dev: &IfName, l: &Link) -> String {
    if l.port.is_some() {
        format!(
            "{dev} is a bridge port, not a VXLAN device: its entries are the bridge's (--master)"
        )
    } else {
        format!("{dev} is neither a VXLAN device nor a bridge port")
    }
}
