//! veth pairs: made, moved and deleted over rtnetlink (there is no ioctl that makes one), and
//! listed with their peers found either by `IFLA_LINK` + `IFLA_LINK_NETNSID` or by the ethtool
//! ioctl's `peer_ifindex` statistic.

use crate::error::{last_errno, Error, Result};
use crate::ifname::{IfName, Mac};
use crate::kernel::Kernel;
use crate::netlink::rtnl;
use crate::netlink::rtnl::link::{self, LinkAttr, VethEnd};
use crate::netns::{self, NsTarget};
use crate::sysfs;
use crate::trace::Trace;
use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};

/// `ETH_MIN_MTU` / `ETH_MAX_MTU` from <linux/if_ether.h>: what a veth accepts.
pub const MTU_RANGE: (u32, u32) = (68, 65535);

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

/// A namespace opened for a step, and the words to name it in a message.
struct OpenNs {
    fd: OwnedFd,
    shown: String,
}

fn open_ns(t: &NsTarget) -> Result<OpenNs> {
    let fd = t.open().map_err(|e| unknown_ns(t, e))?;
    Ok(OpenNs {
        fd,
        shown: format!("namespace {t}"),
    })
}

/// A target that cannot be opened, said in the user's terms. Like a missing interface, it is
/// the system's state (exit 1), not bad input.
fn unknown_ns(t: &NsTarget, e: Error) -> Error {
    if !e.is(libc::ENOENT) {
        return e;
    }
    let why = match t {
        NsTarget::Name(n) => format!("no namespace named {n} (no {}/{n})", netns::RUN_DIR),
        NsTarget::Pid(p) => format!("no process {p}"),
        NsTarget::Path(p) => format!("no namespace file {p}"),
    };
    Error::state(t.to_string(), why)
}

/// `del` of several parks the named ends in an interface group of its own run: this tag in
/// the top byte ('v'), its process ID (plus a multiple of [`PID_SPAN`] when that group is
/// taken) below, so runs in parallel never share one. A link left in such a group by a run
/// that was killed (its process is gone) is recognisable, and the next `del` puts it back in
/// group 0, the default.
const GROUP_TAG: u32 = 0x7600_0000;
const GROUP_LOW: u32 = 0x00ff_ffff;
/// PIDs are below `pid_max`, at most 2^22.
const PID_SPAN: u32 = 0x40_0000;

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
            if mtu < MTU_RANGE.0 || mtu > MTU_RANGE.1 {
                return Err(Error::invalid(
                    mtu.to_string(),
                    format!(
                        "mtu {mtu} is out of range: a veth accepts {} to {}",
                        MTU_RANGE.0, MTU_RANGE.1
                    ),
                ));
            }
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
            Some(br) => Some(self.bridge_index(br, ns.as_ref())?),
            None => None,
        };
        let end = |name: IfName, ns: &Option<OpenNs>, mac: Option<Mac>, up: bool| VethEnd {
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
        let res = self.in_ns(peer_ns.as_ref(), |k| {
            k.nl()?.request(up, spec.peer.as_str())
        });
        if res.is_err() {
            // Not half made: the pair goes again (deleting one end deletes both).
            let _ = self.in_ns(ns.as_ref(), |k| {
                let index = k.link(&spec.name)?.index;
                k.nl()?.request(link::del_link(index), spec.name.as_str())
            });
        }
        res
    }

    /// Runs `f` on this namespace's sockets, or on fresh ones made inside `ns`.
    fn in_ns<T>(
        &mut self,
        ns: Option<&OpenNs>,
        f: impl FnOnce(&mut Kernel) -> Result<T>,
    ) -> Result<T> {
        match ns {
            None => f(&mut self.k),
            Some(ns) => {
                let trace = self.k.trace;
                netns::within(&ns.fd, || f(&mut Kernel::new(trace)))
            }
        }
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

    /// The index of bridge `br` in the namespace the first end is born in.
    fn bridge_index(&mut self, br: &IfName, ns: Option<&OpenNs>) -> Result<u32> {
        let l = match self.in_ns(ns, |k| k.link(br)) {
            // Said as the master, and where it was looked for (NAME's namespace, not ours).
            Err(e) if e.is(libc::ENODEV) => {
                let place = ns.map(|n| n.shown.as_str()).unwrap_or("this namespace");
                return Err(Error::state(
                    br.to_string(),
                    format!("master {br}: no such device in {place}"),
                ));
            }
            other => other?,
        };
        if l.bridge.is_none() {
            return Err(Error::state(
                br.to_string(),
                format!("master {br} is not a bridge"),
            ));
        }
        Ok(l.index)
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
        let mut taken =
            |name: &IfName, ns: &Option<OpenNs>| self.in_ns(ns.as_ref(), |k| k.link(name)).is_ok();
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
        let l = self.k.link(name)?;
        if l.kind != "veth" {
            let kind = if l.kind.is_empty() {
                "a device without a kind"
            } else {
                &l.kind
            };
            return Err(Error::state(
                name.to_string(),
                format!("{name} is not a veth ({kind})"),
            ));
        }
        Ok(l)
    }

    /// Deletes the pairs of the named ends. One name: one `RTM_DELLINK`. Several: they are put
    /// in an interface group of this run's own (see [`GROUP_TAG`]) and deleted by one
    /// `RTM_DELLINK` of that group, which the kernel unregisters as one batch (one set of RCU
    /// waits for all of them instead of one each). Every name is checked before anything
    /// changes; a failure part-way puts the groups back. Returns notes: links a killed run
    /// left parked, put back in group 0.
    pub fn del(&mut self, names: &[IfName]) -> Result<Vec<String>> {
        let mut links: Vec<link::Link> = Vec::new();
        for n in names {
            let l = self.veth_link(n)?;
            if !links.iter().any(|x| x.index == l.index) {
                links.push(l);
            }
        }
        if let [one] = links.as_slice() {
            let name = one.name.map(|n| n.to_string()).unwrap_or_default();
            self.k.nl()?.request(link::del_link(one.index), &name)?;
            return Ok(Vec::new());
        }
        let (group, notes) = self.own_group()?;
        for (i, l) in links.iter().enumerate() {
            let name = l.name.map(|n| n.to_string()).unwrap_or_default();
            if let Err(e) = self
                .k
                .nl()?
                .request(link::set_link(l.index, LinkAttr::Group(group)), &name)
            {
                self.restore_groups(&links[..i]);
                return Err(e);
            }
        }
        let res = self
            .k
            .nl()?
            .request(link::del_group(group), &format!("group {group:#x}"));
        if res.is_err() {
            self.restore_groups(&links);
        }
        res.map(|()| notes)
    }

    fn restore_groups(&mut self, links: &[link::Link]) {
        for l in links {
            if let Ok(nl) = self.k.nl() {
                let _ = nl.request(link::set_link(l.index, LinkAttr::Group(l.group)), "");
            }
        }
    }

    /// This run's interface group, after putting back in group 0 the links that runs no longer
    /// alive left parked (with a note for each).
    fn own_group(&mut self) -> Result<(u32, Vec<String>)> {
        let all = self.k.links()?;
        let mut notes = Vec::new();
        for l in all.iter().filter(|l| l.group & !GROUP_LOW == GROUP_TAG) {
            let pid = (l.group & GROUP_LOW) % PID_SPAN;
            // SAFETY: signal 0 only asks whether the process exists.
            let alive = pid != 0
                && (unsafe { libc::kill(pid as i32, 0) } == 0 || last_errno() == libc::EPERM);
            if alive {
                continue;
            }
            let name = l.name.map(|n| n.to_string()).unwrap_or_default();
            self.k
                .nl()?
                .request(link::set_link(l.index, LinkAttr::Group(0)), &name)?;
            notes.push(format!(
                "{name} was left in group {:#x} by a del that was stopped part-way (process {pid} \
                 is gone): put back in group 0",
                l.group
            ));
        }
        let used: Vec<u32> = all.iter().map(|l| l.group).collect();
        let pid = std::process::id();
        let group = (0..=GROUP_LOW / PID_SPAN)
            .map(|i| GROUP_TAG | (pid.wrapping_add(i * PID_SPAN) & GROUP_LOW))
            .find(|g| !used.contains(g))
            .ok_or_else(|| Error::state("group", "no free interface group to delete by"))?;
        Ok((group, notes))
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
                        None => ids.insert(self.nsid_names()),
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

    /// The ids this namespace gives the named namespaces that have one.
    fn nsid_names(&mut self) -> HashMap<i32, String> {
        let mut m = HashMap::new();
        for name in netns::names() {
            let Ok(fd) = NsTarget::Name(name.clone()).open() else {
                continue;
            };
            if let Ok(Some(id)) = self.k.nsid(&fd, &name) {
                m.insert(id, name);
            }
        }
        m
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
