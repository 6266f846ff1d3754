//! The sockets a run of steps needs, opened on first use and kept for the next step (batch mode
//! runs every line on the same ones), and the link lookups every facade starts with.

use crate::error::{Error, Result};
use crate::ifname::IfName;
use crate::ioctl::CtlSocket;
use crate::netlink::rtnl::link::{Link, LinkAttr};
use crate::netlink::rtnl::neigh::{self, NeighOp, Neighbour};
use crate::netlink::rtnl::{self, link};
use crate::netlink::{Msg, NlSocket};
use crate::netns::{self, NsTarget};
use crate::trace::{Access, Trace};
use std::collections::HashMap;
use std::os::fd::OwnedFd;

pub struct Kernel {
    pub trace: Trace,
    ctl: Option<CtlSocket>,
    inet: Option<CtlSocket>,
    inet6: Option<CtlSocket>,
    nl: Option<NlSocket>,
}

impl Kernel {
    pub fn new(trace: Trace) -> Kernel {
        Kernel {
            trace,
            ctl: None,
            inet: None,
            inet6: None,
            nl: None,
        }
    }

    /// The `AF_UNIX` control socket for device ioctls.
    pub fn ctl(&mut self) -> Result<&CtlSocket> {
        if self.ctl.is_none() {
            self.ctl = Some(CtlSocket::open(self.trace)?);
        }
        Ok(self.ctl.as_ref().expect("just opened"))
    }

    /// The `AF_INET` socket, for the IPv4 address ioctls (it serves device ioctls too).
    pub fn inet(&mut self) -> Result<&CtlSocket> {
        if self.inet.is_none() {
            self.inet = Some(CtlSocket::open_inet(self.trace)?);
        }
        Ok(self.inet.as_ref().expect("just opened"))
    }

    /// The `AF_INET6` socket, for IPv6 route ioctls.
    pub fn inet6(&mut self) -> Result<&CtlSocket> {
        if self.inet6.is_none() {
            self.inet6 = Some(CtlSocket::open_inet6(self.trace)?);
        }
        Ok(self.inet6.as_ref().expect("just opened"))
    }

    pub fn nl(&mut self) -> Result<&mut NlSocket> {
        if self.nl.is_none() {
            self.nl = Some(NlSocket::open(&crate::netlink::rtnl::ROUTE, self.trace)?);
        }
        Ok(self.nl.as_mut().expect("just opened"))
    }

    /// One link by name over netlink; `ENODEV` (naming it) if there is none.
    pub fn link(&mut self, name: &IfName) -> Result<Link> {
        self.get_link(link::get_link(name, rtnl::RTEXT_FILTER_SKIP_STATS), name)
    }

    /// One link by name that must be of `kind` (`IFLA_INFO_KIND`: "veth", "vxlan"); otherwise
    /// an error saying it is not `what` and what it is.
    pub fn link_of_kind(&mut self, name: &IfName, kind: &str, what: &str) -> Result<Link> {
        let l = self.link(name)?;
        if l.kind != kind {
            let is = match l.kind.as_str() {
                "" => "a device without a kind",
                k => k,
            };
            return Err(Error::state(
                name.to_string(),
                format!("{name} is not {what} ({is})"),
            ));
        }
        Ok(l)
    }

    /// The one link a single-reply `RTM_GETLINK` names.
    pub fn get_link(
        &mut self,
        msg: crate::netlink::Msg,
        name: &dyn std::fmt::Display,
    ) -> Result<Link> {
        let object = name.to_string();
        let mut found = None;
        self.nl()?.transact(msg, &object, Access::Read, &mut |m| {
            found = Some(link::parse_link(m)?);
            Ok(())
        })?;
        found.ok_or_else(|| Error::errno("RTM_GETLINK", object, libc::ENODEV))
    }

    /// The id this namespace gives the namespace open on `fd` (`RTM_GETNSID`); `None` when it
    /// has given it none.
    pub fn nsid(&mut self, fd: &std::os::fd::OwnedFd, name: &str) -> Result<Option<i32>> {
        use crate::netlink::rtnl::nsid;
        use std::os::fd::AsRawFd;
        let mut id = None;
        self.nl()?.transact(
            nsid::get_nsid(fd.as_raw_fd()),
            name,
            Access::Read,
            &mut |m| {
                id = nsid::parse_nsid(m)?;
                Ok(())
            },
        )?;
        Ok(id)
    }

    /// The neighbour messages a `RTM_GETNEIGH` dump returns (`make` builds the request: it is
    /// sent again if the table changes while it is read): neighbour entries of any family
    /// ([`neigh::dump_neigh`]) or forwarding-database entries ([`neigh::dump_fdb_dev`]).
    pub fn neighbours(&mut self, make: impl Fn() -> Msg, object: &str) -> Result<Vec<Neighbour>> {
        self.nl()?
            .dump(make, object, Vec::new, |v: &mut Vec<Neighbour>, m| {
                v.push(neigh::parse_neigh(m)?);
                Ok(())
            })
    }

    /// One `RTM_NEWNEIGH` (`op`: add, replace or append) or, with `op` `None`, `RTM_DELNEIGH`.
    pub fn neigh_request(
        &mut self,
        op: Option<NeighOp>,
        n: &Neighbour,
        object: &str,
    ) -> Result<()> {
        let msg = match op {
            Some(op) => neigh::new_neigh(op, n),
            None => neigh::del_neigh(n),
        };
        self.nl()?.request(msg, object)
    }

    /// Every link of the namespace, in the kernel's (ifindex) order.
    pub fn links(&mut self) -> Result<Vec<Link>> {
        self.nl()?.dump(
            || link::dump_links(rtnl::RTEXT_FILTER_SKIP_STATS),
            "",
            Vec::new,
            |v: &mut Vec<Link>, m| {
                v.push(link::parse_link(m)?);
                Ok(())
            },
        )
    }

    /// Runs `f` on this namespace's sockets, or on fresh ones made inside `ns`.
    pub fn in_ns<T>(
        &mut self,
        ns: Option<&OpenNs>,
        f: impl FnOnce(&mut Kernel) -> Result<T>,
    ) -> Result<T> {
        match ns {
            None => f(self),
            Some(ns) => {
                let trace = self.trace;
                netns::within(&ns.fd, || f(&mut Kernel::new(trace)))
            }
        }
    }

    /// The index of bridge `br` in `ns` (here when `None`), to enslave a new link to: said as
    /// its master when it is missing or not a bridge.
    pub fn bridge_index(&mut self, br: &IfName, ns: Option<&OpenNs>) -> Result<u32> {
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

    /// Deletes links. One: one `RTM_DELLINK`. Several: they are put in an interface group no
    /// other link of the namespace uses and deleted by one `RTM_DELLINK` of that group, which
    /// the kernel unregisters as one batch (one set of RCU waits for all of them instead of
    /// one each). A failure part-way puts the groups back.
    pub fn del_links(&mut self, named: Vec<Link>) -> Result<Vec<String>> {
        let mut links: Vec<Link> = Vec::new();
        for l in named {
            if !links.iter().any(|x| x.index == l.index) {
                links.push(l);
            }
        }
        if let [one] = links.as_slice() {
            let name = one.name.map(|n| n.to_string()).unwrap_or_default();
            self.nl()?.request(link::del_link(one.index), &name)?;
            return Ok(Vec::new());
        }
        let (group, notes) = self.own_group()?;
        for (i, l) in links.iter().enumerate() {
            let name = l.name.map(|n| n.to_string()).unwrap_or_default();
            if let Err(e) = self
                .nl()?
                .request(link::set_link(l.index, LinkAttr::Group(group)), &name)
            {
                self.restore_groups(&links[..i]);
                return Err(e);
            }
        }
        let res = self
            .nl()?
            .request(link::del_group(group), &format!("group {group:#x}"));
        if res.is_err() {
            self.restore_groups(&links);
        }
        res.map(|()| notes)
    }

    fn restore_groups(&mut self, links: &[Link]) {
        for l in links {
            if let Ok(nl) = self.nl() {
                let _ = nl.request(link::set_link(l.index, LinkAttr::Group(l.group)), "");
            }
        }
    }

    /// This run's interface group (see [`GROUP_TAG`]), after putting back in group 0 the links
    /// that runs no longer alive left parked (with a note for each).
    fn own_group(&mut self) -> Result<(u32, Vec<String>)> {
        let all = self.links()?;
        let mut notes = Vec::new();
        for l in all.iter().filter(|l| l.group & !GROUP_LOW == GROUP_TAG) {
            let pid = (l.group & GROUP_LOW) % PID_SPAN;
            // Signal 0 only asks whether the process exists.
            let alive = rustix::process::Pid::from_raw(pid as i32).is_some_and(|p| {
                matches!(
                    rustix::process::test_kill_process(p),
                    Ok(()) | Err(rustix::io::Errno::PERM)
                )
            });
            if alive {
                continue;
            }
            let name = l.name.map(|n| n.to_string()).unwrap_or_default();
            self.nl()?
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

    /// The ids this namespace gives the named namespaces that have one.
    pub fn nsid_names(&mut self) -> HashMap<i32, String> {
        let mut m = HashMap::new();
        for name in netns::names() {
            let Ok(fd) = NsTarget::Name(name.clone()).open() else {
                continue;
            };
            if let Ok(Some(id)) = self.nsid(&fd, &name) {
                m.insert(id, name);
            }
        }
        m
    }
}

/// A namespace opened for a step, and the words to name it in a message.
pub struct OpenNs {
    pub fd: OwnedFd,
    pub shown: String,
}

pub fn open_ns(t: &NsTarget) -> Result<OpenNs> {
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

/// `del_links` of several parks the links in an interface group of its own run: this tag in the
/// top byte ('v'), its process ID (plus a multiple of [`PID_SPAN`] when that group is taken)
/// below, so runs in parallel never share one. A link left in such a group by a run that was
/// killed (its process is gone) is recognisable, and the next `del_links` puts it back in group
/// 0, the default.
const GROUP_TAG: u32 = 0x7600_0000;
const GROUP_LOW: u32 = 0x00ff_ffff;
/// PIDs are below `pid_max`, at most 2^22.
const PID_SPAN: u32 = 0x40_0000;

/// `ENODEV` errors name the missing device as their object, whichever step found it missing.
pub fn missing(dev: &IfName) -> impl Fn(Error) -> Error + '_ {
    move |e| {
        if e.is(libc::ENODEV) {
            Error {
                object: dev.to_string(),
                ..e
            }
        } else {
            e
        }
    }
}
