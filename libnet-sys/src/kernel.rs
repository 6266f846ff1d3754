//! The sockets a run of steps needs, opened on first use and kept for the next step (batch mode
//! runs every line on the same ones), and the link lookups every facade starts with.

use crate::error::{Error, Result};
use crate::ifname::IfName;
use crate::ioctl::CtlSocket;
use crate::netlink::rtnl::neigh::{self, NeighOp, Neighbour};
use crate::netlink::rtnl::{self, link, link::Link};
use crate::netlink::{Msg, NlSocket, NETLINK_ROUTE};
use crate::trace::{Access, Trace};

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
            self.nl = Some(NlSocket::open(NETLINK_ROUTE, self.trace)?);
        }
        Ok(self.nl.as_mut().expect("just opened"))
    }

    /// One link by name over netlink; `ENODEV` (naming it) if there is none.
    pub fn link(&mut self, name: &IfName) -> Result<Link> {
        self.get_link(link::get_link(name, rtnl::RTEXT_FILTER_SKIP_STATS), name)
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
}

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
