//! VXLAN devices: made, deleted and listed over rtnetlink (`RTM_NEWLINK` kind vxlan,
//! `IFLA_VXLAN_*`). There is no ioctl for them.
//!
//! A VXLAN device's UDP socket lives in the namespace the device was made in, and stays there
//! when the device moves: made here and moved into NS, it carries NS's overlay traffic over
//! this namespace's underlay (Docker's overlay sandbox). [`Vxlans::add`] does that in two
//! requests, and `list` says where each socket is (`IFLA_LINK_NETNSID`).

use crate::error::{Error, Result};
use crate::ifname::IfName;
use crate::kernel::{open_ns, Kernel, OpenNs};
use crate::netlink::rtnl::link::{self, LinkAttr, NewLink, VxlanData, IFF_UP};
use crate::netlink::rtnl::{self, link::Link};
use crate::netns::NsTarget;
use crate::trace::Trace;
use std::collections::HashMap;
use std::net::IpAddr;
use std::os::fd::AsRawFd;

/// The IANA port for VXLAN (RFC 7348). The kernel's own default is Linux's older 8472.
pub const IANA_PORT: u16 = 4789;
/// The largest VNI: 24 bits.
pub const VNI_MAX: u32 = (1 << 24) - 1;
/// What VXLAN adds to each frame on the underlay: outer IPv4 (20) + UDP (8) + VXLAN (8) +
/// inner Ethernet (14); over IPv6, a 40-byte outer header. `VXLAN_HEADROOM`/`VXLAN6_HEADROOM`
/// in <net/vxlan.h>.
pub const HEADROOM_V4: u32 = 50;
pub const HEADROOM_V6: u32 = 70;

/// What `add` makes.
#[derive(Clone, Debug)]
pub struct VxlanSpec {
    pub name: IfName,
    pub vni: u32,
    pub local: Option<IpAddr>,
    /// The underlay device: the MTU is derived from it.
    pub lower: Option<IfName>,
    pub port: u16,
    pub learning: bool,
    pub proxy: bool,
    pub ttl: Option<u8>,
    pub ageing: Option<u32>,
    pub mtu: Option<u32>,
    /// Send an `mtu` above what the lower device allows (the kernel caps it).
    pub force: bool,
    pub master: Option<IfName>,
    /// Made here, then moved there (its socket stays here).
    pub netns: Option<NsTarget>,
    pub up: bool,
}

/// One VXLAN device of this namespace.
#[derive(Clone, Debug)]
pub struct Vxlan {
    pub name: IfName,
    pub index: u32,
    pub vni: u32,
    pub local: Option<IpAddr>,
    /// The lower device's name, when it is in the socket's namespace and can be read.
    pub lower: Option<IfName>,
    pub lower_index: Option<u32>,
    pub port: u16,
    pub learning: bool,
    pub proxy: bool,
    /// 0: inherited from the inner packet's.
    pub ttl: u8,
    pub ageing: u32,
    pub mtu: u32,
    pub master: Option<IfName>,
    pub flags: u32,
    /// Where its UDP socket is.
    pub socket_ns: SocketNs,
}

/// The namespace a VXLAN device's UDP socket is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SocketNs {
    Here,
    /// A namespace named under /run/netns.
    Named(String),
    /// Another namespace, by the id this one gives it.
    Other(i32),
}

/// What `add` did beyond what was asked: the MTU the kernel set when it was not the one asked
/// for (`--force` above the lower device's limit).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Added {
    pub capped_mtu: Option<u32>,
}

/// The VXLAN steps, on the sockets of one [`Kernel`].
pub struct Vxlans {
    k: Kernel,
}

impl Vxlans {
    pub fn new(trace: Trace) -> Vxlans {
        Vxlans {
            k: Kernel::new(trace),
        }
    }

    /// The largest MTU a VXLAN device over `lower` can have, and the words that say why.
    pub fn mtu_limit(lower: &Link, v6: bool) -> (u32, String) {
        let (room, over) = match v6 {
            true => (HEADROOM_V6, "IPv6"),
            false => (HEADROOM_V4, "IPv4"),
        };
        let name = lower.name.map(|n| n.to_string()).unwrap_or_default();
        let max = lower.mtu.saturating_sub(room).max(link::MTU_RANGE.0);
        (
            max,
            format!(
                "{max} ({name}'s mtu {} - {room} of VXLAN over {over})",
                lower.mtu
            ),
        )
    }

    fn check(spec: &VxlanSpec) -> Result<()> {
        let name = spec.name.to_string();
        if spec.vni == 0 || spec.vni > VNI_MAX {
            return Err(Error::invalid(
                name,
                format!("id {} is out of range: a VNI is 1 to {VNI_MAX}", spec.vni),
            ));
        }
        if spec.port == 0 {
            return Err(Error::invalid(name, "port 0 is not a UDP port: 1 to 65535"));
        }
        if let Some(mtu) = spec.mtu {
            link::check_mtu(&name, mtu, "a VXLAN device")?;
        }
        if let Some(a) = spec.local {
            if a.is_unspecified() || a.is_multicast() {
                return Err(Error::invalid(
                    name,
                    format!("local {a}: the local address is a unicast one of this host"),
                ));
            }
        }
        Ok(())
    }

    /// Makes the device in one `RTM_NEWLINK` (with MTU, master and `IFF_UP` in it), or with
    /// `netns` here first, then moved (`IFLA_NET_NS_FD`), then enslaved and brought up there.
    /// A failure part-way deletes what was made.
    pub fn add(&mut self, spec: &VxlanSpec) -> Result<Added> {
        Self::check(spec)?;
        let lower = match &spec.lower {
            Some(l) => Some(self.k.link(l).map_err(|e| lower_missing(l, e))?),
            None => None,
        };
        let v6 = spec.local.is_some_and(|a| a.is_ipv6());
        if let (Some(l), Some(mtu)) = (&lower, spec.mtu) {
            let (max, why) = Self::mtu_limit(l, v6);
            if mtu > max && !spec.force {
                return Err(Error::state(
                    spec.name.to_string(),
                    format!("mtu {mtu} is more than the underlay carries: at most {why}; --force sends it anyway"),
                ));
            }
        }
        let ns = spec.netns.as_ref().map(open_ns).transpose()?;
        if let Some(ns) = &ns {
            // Checked first, so the move cannot fail on it after the device is made.
            if self.k.in_ns(Some(ns), |k| k.link(&spec.name)).is_ok() {
                return Err(Error::state(
                    spec.name.to_string(),
                    format!("the name {} is taken in {}", spec.name, ns.shown),
                ));
            }
        }
        let master = match &spec.master {
            Some(br) => Some(self.k.bridge_index(br, ns.as_ref())?),
            None => None,
        };
        let data = VxlanData {
            vni: spec.vni,
            local: spec.local,
            lower: lower.as_ref().map(|l| l.index),
            port: spec.port,
            learning: spec.learning,
            proxy: spec.proxy,
            ttl: spec.ttl,
            ageing: spec.ageing,
        };
        let here = ns.is_none();
        let dev = NewLink {
            name: spec.name,
            netns_fd: None,
            mtu: spec.mtu,
            address: None,
            up: spec.up && here,
        };
        let msg = link::new_vxlan(&dev, master.filter(|_| here), &data);
        match self.k.nl()?.request(msg, spec.name.as_str()) {
            Err(e) if e.is(libc::EEXIST) && e.ext_ack().is_none() => {
                return Err(Error::state(
                    spec.name.to_string(),
                    format!("the name {} is taken in this namespace", spec.name),
                ))
            }
            other => other?,
        }
        if !self.k.trace.sends(crate::trace::Access::Write) {
            return Ok(Added::default());
        }
        let res = match &ns {
            None if spec.mtu.is_none() => return Ok(Added::default()),
            // Read back: the kernel caps an MTU above the lower device's limit silently.
            None => self.k.link(&spec.name),
            Some(ns) => self.move_in(spec, ns, master),
        };
        let made = match res {
            Ok(l) => l,
            Err(e) => {
                // Not half made: wherever it is now, it goes.
                let _ = self.k.link(&spec.name).and_then(|l| {
                    self.k
                        .nl()?
                        .request(link::del_link(l.index), spec.name.as_str())
                });
                let _ = ns.as_ref().map(|ns| {
                    self.k.in_ns(Some(ns), |k| {
                        let l = k.link(&spec.name)?;
                        k.nl()?.request(link::del_link(l.index), spec.name.as_str())
                    })
                });
                return Err(e);
            }
        };
        Ok(Added {
            capped_mtu: spec.mtu.filter(|&m| m != made.mtu).map(|_| made.mtu),
        })
    }

    /// The second half of `add --netns`: the move, then master and up in the namespace.
    /// Returns the device as it is there.
    fn move_in(&mut self, spec: &VxlanSpec, ns: &OpenNs, master: Option<u32>) -> Result<Link> {
        let l = self.k.link(&spec.name)?;
        let msg = link::set_link(l.index, LinkAttr::NetNsFd(ns.fd.as_raw_fd()));
        self.k.nl()?.request(msg, spec.name.as_str())?;
        self.k.in_ns(Some(ns), |k| {
            let l = k.link(&spec.name)?;
            if let Some(m) = master {
                k.nl()?
                    .request(link::set_master(l.index, m), spec.name.as_str())?;
            }
            if spec.up {
                k.nl()?
                    .request(link::set_flags(l.index, IFF_UP, IFF_UP), spec.name.as_str())?;
            }
            Ok(l)
        })
    }

    /// A link of this namespace that must be a VXLAN device.
    fn vxlan_link(&mut self, name: &IfName) -> Result<Link> {
        self.k.link_of_kind(name, "vxlan", "a VXLAN device")
    }

    /// Deletes the named devices, every name checked first ([`Kernel::del_links`]). With
    /// `if_exists`, names of no device are left out and returned instead of failing. The notes
    /// are [`Kernel::del_links`]'s.
    pub fn del(&mut self, names: &[IfName], if_exists: bool) -> Result<(Vec<IfName>, Vec<String>)> {
        let (mut links, mut absent) = (Vec::new(), Vec::new());
        for n in names {
            match self.vxlan_link(n) {
                Err(e) if if_exists && e.is(libc::ENODEV) => absent.push(*n),
                r => links.push(r?),
            }
        }
        let notes = match links.is_empty() {
            true => Vec::new(),
            false => self.k.del_links(links)?,
        };
        Ok((absent, notes))
    }

    /// Every VXLAN device of this namespace (or the one named), in index order.
    pub fn list(&mut self, only: Option<&IfName>) -> Result<Vec<Vxlan>> {
        let links = match only {
            Some(n) => vec![self.vxlan_link(n)?],
            None => self.k.links()?,
        };
        let mut names: HashMap<u32, IfName> = links
            .iter()
            .filter_map(|l| Some((l.index, l.name?)))
            .collect();
        let mut ids: Option<HashMap<i32, String>> = None;
        let mut out = Vec::new();
        for l in &links {
            let Some(vx) = &l.vxlan else { continue };
            let lower_index = vx.link.filter(|&i| i != 0);
            let (socket_ns, lower) = match l.link_netnsid {
                None => (
                    SocketNs::Here,
                    lower_index.and_then(|i| self.name(&mut names, i, None)),
                ),
                Some(id) => {
                    let ids = match &mut ids {
                        Some(m) => m,
                        None => ids.insert(self.k.nsid_names()),
                    };
                    let ns = ids
                        .get(&id)
                        .map(|n| SocketNs::Named(n.clone()))
                        .unwrap_or(SocketNs::Other(id));
                    let lower =
                        lower_index.and_then(|i| self.name(&mut HashMap::new(), i, Some(id)));
                    (ns, lower)
                }
            };
            let master = match l.master {
                0 => None,
                m => self.name(&mut names, m, None),
            };
            out.push(Vxlan {
                name: l.name.unwrap_or_else(|| IfName::new("?").expect("valid")),
                index: l.index,
                vni: vx.id.unwrap_or(0),
                local: vx.local.or(vx.local6),
                lower,
                lower_index,
                port: vx.port.unwrap_or(0),
                learning: vx.learning.unwrap_or(0) != 0,
                proxy: vx.proxy.unwrap_or(0) != 0,
                ttl: vx.ttl.unwrap_or(0),
                ageing: vx.ageing.unwrap_or(0),
                mtu: l.mtu,
                master,
                flags: l.flags,
                socket_ns,
            });
        }
        Ok(out)
    }

    /// A link's name by index: from `names` when there, else asked (in the namespace this one
    /// calls `nsid`, when given).
    fn name(
        &mut self,
        names: &mut HashMap<u32, IfName>,
        index: u32,
        nsid: Option<i32>,
    ) -> Option<IfName> {
        if let Some(n) = names.get(&index) {
            return Some(*n);
        }
        let msg = link::get_link_by_index(index, nsid, rtnl::RTEXT_FILTER_SKIP_STATS);
        let name = self.k.get_link(msg, &index).ok()?.name?;
        names.insert(index, name);
        Some(name)
    }
}

/// A lower device that is not there, said as the lower device.
fn lower_missing(l: &IfName, e: Error) -> Error {
    if e.is(libc::ENODEV) {
        Error::state(l.to_string(), format!("dev {l}: no such device"))
    } else {
        e
    }
}
