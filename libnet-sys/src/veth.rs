//! veth pairs: made, moved and deleted over rtnetlink (there is no ioctl that makes one), and
//! listed with their peers found either by `IFLA_LINK` + `IFLA_LINK_NETNSID` or by the ethtool
//! ioctl's `peer_ifindex` statistic.

use crate::error::{Error, Result};
use crate::ifname::{IfName, Mac};
use crate::kernel::{open_ns, Kernel, OpenNs};
use crate::netlink::rtnl;
use crate::netlink::rtnl::link::{self, LinkAttr, NewLink};
use crate::netns::{self, NsTarget};
use crate::sysfs;
use crate::trace::Trace;
use std::collections::HashMap;
use std::os::fd::AsRawFd;

/// What `add` makes.
#[derive(Clone, Debug)]
pub struct VethSpec {
    pub name: IfName,
    pub peer: IfName,
    pub netns: Option<NsTarget>,
    pub peer_netns: Option<NsTarget>,
    pub mtu: Option<u32>,
    pub mac: Option<Mac>,
    pub peer_mac: Option<Mac>,
    pub master: Option<IfName>,
    pub up: bool,
}

/// How `list` finds each end's peer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PeerLookup {
    /// `IFLA_LINK` and `IFLA_LINK_NETNSID` in one `RTM_GETLINK` dump; the namespace is named
    /// by asking each /run/netns entry its id (`RTM_GETNSID`).
    Netlink,
    /// `SIOCETHTOOL`: the driver's name says veth, the stat `peer_ifindex` gives an index,
    /// and nothing says in which namespace.
    Ethtool,
}

/// Where a peer is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PeerNs {
    /// In this namespace.
    Here,
    /// In a namespace named under /run/netns.
    Named(String),
    /// Elsewhere, in a namespace without a name (or, on the ethtool path, anywhere else).
    Other,
}

/// One veth end of this namespace.
#[derive(Clone, Debug)]
pub struct Veth {
    pub name: IfName,
    pub index: u32,
    /// The peer's name, when it can be known.
    pub peer: Option<IfName>,
    pub peer_index: u32,
    pub peer_ns: PeerNs,
    pub master: Option<IfName>,
    /// `IFF_*` (the low 16 bits, as both paths see them).
    pub flags: u32,
    pub mtu: u32,
    pub mac: [u8; 6],
}

/// The veth steps, on the sockets of one [`Kernel`].
pub struct Veths {
    k: Kernel,
}

impl Veths {
    pub fn new(trace: Trace) -> Veths {
        Veths {
            k: Kernel::new(trace),
        }
    }

    /// Makes the pair in one `RTM_NEWLINK`: both ends born in their namespaces, brought up and
    /// enslaved in the same request, which the kernel undoes whole if any part fails.
    pub fn add(&mut self, spec: &VethSpec) -> Result<()> {
        if let Some(mtu) = spec.mtu {
            link::check_mtu(&mtu.to_string(), mtu, "a veth")?;
        }
        let ns = spec.netns.as_ref().map(open_ns).transpose()?;
        let peer_ns = spec.peer_netns.as_ref().map(open_ns).transpose()?;
        if spec.name == spec.peer && self.same_ns(ns.as_ref(), peer_ns.as_ref())? {
            return Err(Error::invalid(
                spec.peer.to_string(),
                "the peer's name is the name of the first end, and both ends would be in one namespace",
            ));
        }
        let master = match &spec.master {
            Some(br) => Some(self.k.bridge_index(br, ns.as_ref())?),
            None => None,
        };
        let end = |name: IfName, ns: &Option<OpenNs>, mac: Option<Mac>, up: bool| NewLink {
            name,
            netns_fd: ns.as_ref().map(|n| n.fd.as_raw_fd()),
            mtu: spec.mtu,
            address: mac.map(|m| m.0),
            up,
        };
        // The kernel configures the peer before the pair is joined, so a peer asked up in the
        // same message fails (ENOTCONN): the first end comes up in the request, the peer just
        // after it.
        let msg = link::new_veth(
            &end(spec.name, &ns, spec.mac, spec.up),
            &end(spec.peer, &peer_ns, spec.peer_mac, false),
            master,
        );
        match self.k.nl()?.request(msg, spec.name.as_str()) {
            Err(e) if e.is(libc::EEXIST) => return Err(self.which_exists(spec, &ns, &peer_ns, e)),
            other => other?,
        }
        if !spec.up {
            return Ok(());
        }
        let up = link::set_flags_named(&spec.peer, link::IFF_UP, link::IFF_UP);
        let res = self.k.in_ns(peer_ns.as_ref(), |k| {
            k.nl()?.request(up, spec.peer.as_str())
        });
        if res.is_err() {
            // Not half made: the pair goes again (deleting one end deletes both).
            let _ = self.k.in_ns(ns.as_ref(), |k| {
                let index = k.link(&spec.name)?.index;
                k.nl()?.request(link::del_link(index), spec.name.as_str())
            });
        }
        res
    }

    /// Whether two optional namespaces (`None`: ours) are one.
    fn same_ns(&self, a: Option<&OpenNs>, b: Option<&OpenNs>) -> Result<bool> {
        let here;
        let (a, b) = match (a, b) {
            (None, None) => return Ok(true),
            (Some(a), Some(b)) => (&a.fd, &b.fd),
            (Some(x), None) | (None, Some(x)) => {
                here = NsTarget::Path("/proc/thread-self/ns/net".into()).open()?;
                (&x.fd, &here)
            }
        };
        netns::same(a, b)
    }

    /// The kernel's `EEXIST` does not say which end's name is taken: look in each end's
    /// namespace (only now, on the failure path) and say it.
    fn which_exists(
        &mut self,
        spec: &VethSpec,
        ns: &Option<OpenNs>,
        peer_ns: &Option<OpenNs>,
        e: Error,
    ) -> Error {
        let mut taken = |name: &IfName, ns: &Option<OpenNs>| {
            self.k.in_ns(ns.as_ref(), |k| k.link(name)).is_ok()
        };
        let place = |ns: &Option<OpenNs>| {
            ns.as_ref()
                .map(|n| n.shown.clone())
                .unwrap_or_else(|| "this namespace".into())
        };
        if taken(&spec.name, ns) {
            return Error::state(
                spec.name.to_string(),
                format!("the name {} is taken in {}", spec.name, place(ns)),
            );
        }
        if taken(&spec.peer, peer_ns) {
            return Error::state(
                spec.peer.to_string(),
                format!(
                    "the peer's name {} is taken in {}",
                    spec.peer,
                    place(peer_ns)
                ),
            );
        }
        e
    }

    /// A link of this namespace that must be a veth.
    fn veth_link(&mut self, name: &IfName) -> Result<link::Link> {
        self.k.link_of_kind(name, "veth", "a veth")
    }

    /// Deletes the pairs of the named ends (deleting one end deletes both), every name checked
    /// first: [`Kernel::del_links`].
    pub fn del(&mut self, names: &[IfName]) -> Result<Vec<String>> {
        let links = names
            .iter()
            .map(|n| self.veth_link(n))
            .collect::<Result<Vec<_>>>()?;
        self.k.del_links(links)
    }

    /// Moves one end into a namespace (`IFLA_NET_NS_FD`).
    pub fn move_to(&mut self, name: &IfName, target: &NsTarget) -> Result<()> {
        let l = self.veth_link(name)?;
        let ns = open_ns(target)?;
        let msg = link::set_link(l.index, LinkAttr::NetNsFd(ns.fd.as_raw_fd()));
        match self.k.nl()?.request(msg, name.as_str()) {
            Err(e) if e.is(libc::EEXIST) => Err(Error::state(
                name.to_string(),
                format!("the name {name} is taken in {}", ns.shown),
            )),
            other => other,
        }
    }

    /// Every veth end of this namespace (or the one named), in index order.
    pub fn list(&mut self, only: Option<&IfName>, how: PeerLookup) -> Result<Vec<Veth>> {
        let mut v = match how {
            PeerLookup::Netlink => self.list_netlink(only)?,
            PeerLookup::Ethtool => self.list_ethtool(only)?,
        };
        v.sort_by_key(|x| x.index);
        Ok(v)
    }

    fn list_netlink(&mut self, only: Option<&IfName>) -> Result<Vec<Veth>> {
        let links = match only {
            Some(n) => vec![self.veth_link(n)?],
            None => self.k.links()?,
        };
        let names: HashMap<u32, IfName> = if only.is_some() {
            HashMap::new()
        } else {
            links
                .iter()
                .filter_map(|l| Some((l.index, l.name?)))
                .collect()
        };
        let mut ids: Option<HashMap<i32, String>> = None;
        let mut out = Vec::new();
        for l in links.iter().filter(|l| l.kind == "veth") {
            let peer_index = l.link.unwrap_or(0);
            let (peer, peer_ns) = match l.link_netnsid {
                None => (self.local_name(&names, peer_index), PeerNs::Here),
                Some(id) => {
                    let ids = match &mut ids {
                        Some(m) => m,
                        None => ids.insert(self.k.nsid_names()),
                    };
                    let ns = ids
                        .get(&id)
                        .map(|n| PeerNs::Named(n.clone()))
                        .unwrap_or(PeerNs::Other);
                    let msg = link::get_link_by_index(
                        peer_index,
                        Some(id),
                        rtnl::RTEXT_FILTER_SKIP_STATS,
                    );
                    // Reading another namespace needs CAP_NET_ADMIN there; without it the
                    // index and namespace are still known.
                    let peer = self.k.get_link(msg, &peer_index).ok().and_then(|p| p.name);
                    (peer, ns)
                }
            };
            let master = match l.master {
                0 => None,
                m => self.local_name(&names, m),
            };
            out.push(Veth {
                name: l.name.unwrap_or_else(|| IfName::new("?").expect("valid")),
                index: l.index,
                peer,
                peer_index,
                peer_ns,
                master,
                flags: l.flags & 0xffff,
                mtu: l.mtu,
                mac: l.address.unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// A local index's name: from the dump when there was one, else asked.
    fn local_name(&mut self, names: &HashMap<u32, IfName>, index: u32) -> Option<IfName> {
        if let Some(n) = names.get(&index) {
            return Some(*n);
        }
        let msg = link::get_link_by_index(index, None, rtnl::RTEXT_FILTER_SKIP_STATS);
        self.k.get_link(msg, &index).ok().and_then(|l| l.name)
    }

    fn list_ethtool(&mut self, only: Option<&IfName>) -> Result<Vec<Veth>> {
        let names: Vec<IfName> = match only {
            Some(n) => vec![*n],
            None => sysfs::proc_net_dev(&self.k.trace)?
                .iter()
                .filter_map(|n| IfName::from_bytes(n).ok())
                .collect(),
        };
        let ctl = self.k.ctl()?;
        // Masters by port index, from the bridge ioctls (none when there are no bridges).
        let mut masters: HashMap<u32, IfName> = HashMap::new();
        for bi in ctl.bridge_indexes().unwrap_or_default() {
            let Ok(br) = ctl.ifname(bi) else { continue };
            for (_, port) in ctl.port_list(&br).unwrap_or_default() {
                masters.insert(port, br);
            }
        }
        // (name, index, peer index) of every veth here.
        let mut ends = Vec::new();
        let mut out = Vec::new();
        for name in &names {
            let driver = match ctl.driver(name) {
                Ok(d) => d,
                // Devices without ethtool support (lo) are not veths.
                Err(e) if only.is_none() && (e.is(libc::EOPNOTSUPP) || e.is(libc::ENODEV)) => {
                    continue
                }
                Err(e) if e.is(libc::EOPNOTSUPP) => {
                    return Err(Error::state(
                        name.to_string(),
                        format!("{name} is not a veth (its driver answers no ethtool requests)"),
                    ))
                }
                Err(e) => return Err(e),
            };
            if driver.name != "veth" {
                if only.is_some() {
                    return Err(Error::state(
                        name.to_string(),
                        format!("{name} is not a veth (driver {})", driver.name),
                    ));
                }
                continue;
            }
            let peer_index = ctl
                .stat(name, driver.n_stats, "peer_ifindex")?
                .ok_or_else(|| {
                    Error::malformed("ETHTOOL_GSTATS", format!("{name}: no peer_ifindex"))
                })? as u32;
            let index = ctl.ifindex(name)?;
            ends.push((*name, index, peer_index));
            out.push(Veth {
                name: *name,
                index,
                peer: None,
                peer_index,
                peer_ns: PeerNs::Other,
                master: masters.get(&index).copied(),
                flags: ctl.flags(name)?,
                mtu: ctl.mtu(name)?,
                mac: ctl.hwaddr(name)?,
            });
        }
        // A peer is here when the index names a local veth that names us back. (An index alone
        // cannot prove it: two namespaces could hold such a crossing by chance.)
        for v in out.iter_mut() {
            // A veth is never its own peer: an index equal to ours is a peer elsewhere.
            let back = match ends.iter().find(|(_, ix, _)| *ix == v.peer_index) {
                _ if v.peer_index == v.index => None,
                Some(&(n, _, p)) => Some((n, p)),
                None if only.is_some() => ctl.ifname(v.peer_index).ok().and_then(|n| {
                    let d = ctl.driver(&n).ok()?;
                    let p = ctl.stat(&n, d.n_stats, "peer_ifindex").ok()??;
                    (d.name == "veth").then_some((n, p as u32))
                }),
                None => None,
            };
            if let Some((n, p)) = back {
                if p == v.index {
                    v.peer = Some(n);
                    v.peer_ns = PeerNs::Here;
                }
            }
        }
        Ok(out)
    }
}
