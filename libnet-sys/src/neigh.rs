//! Neighbour (ARP/NDP) entries, on the ioctl path (`SIOCSARP`/`SIOCGARP`/`SIOCDARP`, read
//! back from `/proc/net/arp`; IPv4 only) or the netlink one (`RTM_NEWNEIGH`/`RTM_DELNEIGH`/
//! `RTM_GETNEIGH`, `AF_INET` and `AF_INET6`; the default).
//!
//! Both paths leave the same entry: `NUD_PERMANENT` with the given MAC, or a proxy entry
//! (`ATF_PUBL` / `NTF_PROXY`, which the kernel keeps without a MAC). Where the ioctl path
//! behaves otherwise it is made to agree: `SIOCSARP` replaces an entry that is there, so an
//! add first looks it up with `SIOCGARP` and refuses it as netlink's `NLM_F_EXCL` does; an
//! absent entry's `SIOCDARP` is `ENXIO`, said as netlink's `ENOENT`.

use crate::error::{Error, Result};
use crate::ifname::{IfName, Mac};
use crate::ioctl::arp::{self, ATF_COM, ATF_PERM, ATF_PUBL};
use crate::kernel::{missing, Kernel};
use crate::netlink::rtnl::neigh::{self as nd, NeighOp, Neighbour};
use crate::netlink::rtnl::AF_UNSPEC;
use crate::sysfs::arp::proc_net_arp;
use crate::trace::Trace;
use crate::Via;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

/// `IFF_LOOPBACK` (<linux/if.h>).
const IFF_LOOPBACK: u32 = 0x8;

/// An entry's state as its path says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// netlink: `NUD_*` bits.
    Nud(u16),
    /// `/proc/net/arp`: `ATF_*` flags, which say only permanent, complete or neither.
    Atf(i32),
}

/// The `NUD_*` states by name, as `ip neigh` prints them.
const NUD_NAMES: &[(u16, &str)] = &[
    (nd::NUD_INCOMPLETE, "INCOMPLETE"),
    (nd::NUD_REACHABLE, "REACHABLE"),
    (nd::NUD_STALE, "STALE"),
    (nd::NUD_DELAY, "DELAY"),
    (nd::NUD_PROBE, "PROBE"),
    (nd::NUD_FAILED, "FAILED"),
    (nd::NUD_NOARP, "NOARP"),
    (nd::NUD_PERMANENT, "PERMANENT"),
];

impl State {
    /// The state's names: `PERMANENT` on both paths for the entries neighctl makes; the ioctl
    /// path can say no more of the others than `COMPLETE` or `INCOMPLETE`.
    pub fn names(&self) -> Vec<&'static str> {
        match *self {
            State::Nud(0) => vec!["NONE"],
            State::Nud(s) => NUD_NAMES
                .iter()
                .filter(|(bit, _)| s & bit != 0)
                .map(|(_, n)| *n)
                .collect(),
            State::Atf(f) if f & ATF_PERM != 0 => vec!["PERMANENT"],
            State::Atf(f) if f & ATF_COM != 0 => vec!["COMPLETE"],
            State::Atf(_) => vec!["INCOMPLETE"],
        }
    }
}

/// One entry as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The device's name (`*` for a proxy entry on no device).
    pub dev: String,
    pub addr: IpAddr,
    /// `None` for proxy entries and entries still resolving.
    pub mac: Option<[u8; 6]>,
    /// `None` for proxy entries.
    pub state: Option<State>,
    pub proxy: bool,
}

pub struct Neighbours {
    k: Kernel,
    ioctl: bool,
    /// Devices looked up so far, (name, index, flags): a batch of many entries on one device
    /// looks it up once, as `ip -batch` does.
    devs: Vec<(IfName, u32, u32)>,
}

/// The error for an IPv6 address on the ioctl path.
fn no_v6_by_ioctl(addr: &IpAddr) -> Error {
    Error::invalid(
        addr.to_string(),
        "IPv6 neighbours (NDP) have no ioctl: SIOCSARP is IPv4's ARP table; use --via netlink",
    )
}

/// What an entry's address may not be: the kernel keeps neither as a neighbour of its own.
fn check_addr(addr: &IpAddr) -> Result<()> {
    if addr.is_unspecified() || addr.is_multicast() || *addr == IpAddr::V4(Ipv4Addr::BROADCAST) {
        return Err(Error::invalid(
            addr.to_string(),
            "a neighbour entry is for a unicast address (not all-zeros, multicast or broadcast)",
        ));
    }
    Ok(())
}

impl Neighbours {
    /// `via`: ioctl or netlink (the default).
    pub fn new(trace: Trace, via: Option<Via>) -> Result<Neighbours> {
        let ioctl = Via::is_ioctl(via, "neighbours have no sysfs path (ioctl or netlink)")?;
        Ok(Neighbours {
            k: Kernel::new(trace),
            ioctl,
            devs: Vec::new(),
        })
    }

    pub fn trace(&self) -> &Trace {
        &self.k.trace
    }

    /// Checks what both paths need of a request before anything is sent: an address the path
    /// carries, and a device that is there and not the loopback (where the kernel would file
    /// the entry under 0.0.0.0). Returns the device's index.
    fn check(&mut self, dev: &IfName, addr: &IpAddr) -> Result<u32> {
        if self.ioctl && addr.is_ipv6() {
            return Err(no_v6_by_ioctl(addr));
        }
        check_addr(addr)?;
        let (index, flags) = self.dev(dev)?;
        if flags & IFF_LOOPBACK != 0 {
            return Err(Error::state(
                dev.to_string(),
                "is the loopback device, which has no neighbours (the kernel files every \
                 address there under 0.0.0.0)",
            ));
        }
        Ok(index)
    }

    /// `dev`'s index and flags: `SIOCGIFINDEX` and `SIOCGIFFLAGS`, or `RTM_GETLINK`, once.
    fn dev(&mut self, dev: &IfName) -> Result<(u32, u32)> {
        if let Some(&(_, index, flags)) = self.devs.iter().find(|(n, ..)| n == dev) {
            return Ok((index, flags));
        }
        let found = if self.ioctl {
            let ctl = self.k.inet()?;
            let index = ctl.ifindex(dev).map_err(missing(dev))?;
            (index, ctl.flags(dev).map_err(missing(dev))?)
        } else {
            let l = self.k.link(dev)?;
            (l.index, l.flags)
        };
        self.devs.push((*dev, found.0, found.1));
        Ok(found)
    }

    /// `add`: a permanent entry for `addr` on `dev` at `mac`, or with `proxy` a proxy entry
    /// (the kernel keeps no MAC for it: it answers with `dev`'s own). An entry already there
    /// is `EEXIST` on both paths; a proxy entry already there is kept, on both.
    pub fn add(&mut self, dev: &IfName, addr: IpAddr, mac: Mac, proxy: bool) -> Result<()> {
        let index = self.check(dev, &addr)?;
        let object = format!("{addr} dev {dev}");
        match addr {
            IpAddr::V4(a) if self.ioctl => {
                let ctl = self.k.inet()?;
                if !proxy {
                    match ctl.arp_get(a, dev) {
                        Ok(_) => return Err(Error::errno("SIOCSARP", object, libc::EEXIST)),
                        Err(e) if e.is(libc::ENXIO) => {}
                        Err(e) => return Err(e),
                    }
                }
                let flags = ATF_COM | ATF_PERM | if proxy { ATF_PUBL } else { 0 };
                ctl.arp(true, &arp::arpreq(a, Some(mac.0), flags, dev))
            }
            _ => self.nl_add(index, addr, mac, proxy, &object),
        }
    }

    /// `del`: the entry (with `proxy`, the proxy entry) for `addr` on `dev`; `ENOENT` on both
    /// paths when there is none.
    pub fn del(&mut self, dev: &IfName, addr: IpAddr, proxy: bool) -> Result<()> {
        let index = self.check(dev, &addr)?;
        let object = format!("{addr} dev {dev}");
        match addr {
            IpAddr::V4(a) if self.ioctl => self.ioctl_del(a, dev, proxy, &object),
            _ => self.nl_del(index, addr, proxy, &object),
        }
    }

    fn ioctl_del(&mut self, a: Ipv4Addr, dev: &IfName, proxy: bool, object: &str) -> Result<()> {
        // As net-tools' `arp -d`: ATF_PERM, which the kernel ignores, and ATF_PUBL for a proxy.
        let flags = ATF_PERM | if proxy { ATF_PUBL } else { 0 };
        match self.k.inet()?.arp(false, &arp::arpreq(a, None, flags, dev)) {
            Err(e) if e.is(libc::ENXIO) || e.is(libc::ENOENT) => {
                Err(Error::errno("SIOCDARP", object, libc::ENOENT))
            }
            r => r,
        }
    }

    /// `flush`: every entry on `dev`, permanent and proxy ones included (`ip neigh flush`
    /// leaves permanent ones); IPv4 only on the ioctl path. Returns how many were removed.
    pub fn flush(&mut self, dev: &IfName) -> Result<usize> {
        let index = self.dev(dev)?.0;
        if self.ioctl {
            let rows = proc_net_arp(&self.k.trace)?;
            let mut n = 0;
            for r in rows.iter().filter(|r| r.dev == dev.as_str()) {
                let object = format!("{} dev {dev}", r.addr);
                match self.ioctl_del(r.addr, dev, r.flags & ATF_PUBL != 0, &object) {
                    Ok(()) => n += 1,
                    // Gone since the file was read (it expired): nothing left to do.
                    Err(e) if e.is(libc::ENOENT) => {}
                    Err(e) => return Err(e),
                }
            }
            return Ok(n);
        }
        self.nl_flush(index, dev)
    }

    /// `show`: the entries of `dev`, or of every device; IPv4 then IPv6 on netlink, IPv4 only
    /// on the ioctl path. Entries the kernel keeps for itself (`NUD_NOARP`: loopback,
    /// multicast) are left out on both, as `/proc/net/arp` and `ip neigh` leave them out.
    pub fn show(&mut self, dev: Option<&IfName>) -> Result<Vec<Entry>> {
        let index = match dev {
            Some(d) => Some(self.dev(d)?.0),
            None => None,
        };
        if self.ioctl {
            let rows = proc_net_arp(&self.k.trace)?;
            return Ok(rows
                .into_iter()
                .filter(|r| dev.map_or(true, |d| r.dev == d.as_str()))
                .map(|r| {
                    let proxy = r.flags & ATF_PUBL != 0;
                    Entry {
                        dev: r.dev,
                        addr: IpAddr::V4(r.addr),
                        mac: r.mac.filter(|_| !proxy && r.flags & ATF_COM != 0),
                        state: (!proxy).then_some(State::Atf(r.flags)),
                        proxy,
                    }
                })
                .collect());
        }
        self.nl_show(index)
    }
}

/// The request that names one entry, as `ip neigh` sends it: `add|del ADDR [lladdr MAC] dev
/// DEV nud permanent`, or with `proxy` `add|del proxy ADDR dev DEV` (no MAC: the kernel keeps
/// none for a proxy entry).
pub fn entry(index: u32, addr: IpAddr, mac: Option<Mac>, proxy: bool) -> Neighbour {
    let family = if addr.is_ipv4() {
        nd::AF_INET
    } else {
        nd::AF_INET6
    };
    let flags = if proxy { nd::NTF_PROXY } else { 0 };
    let mut n = Neighbour::header(family, index, nd::NUD_PERMANENT, flags);
    n.attrs.dst = Some(addr);
    n.attrs.lladdr = mac.filter(|_| !proxy).map(|m| m.0.to_vec());
    n
}

// The netlink path.
impl Neighbours {
    fn nl_add(&mut self, index: u32, addr: IpAddr, mac: Mac, proxy: bool, o: &str) -> Result<()> {
        let n = entry(index, addr, Some(mac), proxy);
        self.k.neigh_request(Some(NeighOp::Add), &n, o)
    }

    fn nl_del(&mut self, index: u32, addr: IpAddr, proxy: bool, o: &str) -> Result<()> {
        self.k
            .neigh_request(None, &entry(index, addr, None, proxy), o)
    }

    fn nl_flush(&mut self, index: u32, dev: &IfName) -> Result<usize> {
        let mut n = 0;
        for e in self.nl_entries(Some(index))? {
            let Some(addr) = e.attrs.dst else { continue };
            let object = format!("{addr} dev {dev}");
            match self.nl_del(index, addr, e.flags & nd::NTF_PROXY != 0, &object) {
                Ok(()) => n += 1,
                // Gone since the dump (it expired): nothing left to do.
                Err(err) if err.is(libc::ENOENT) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(n)
    }

    fn nl_show(&mut self, index: Option<u32>) -> Result<Vec<Entry>> {
        let entries = self.nl_entries(index)?;
        let names: HashMap<u32, String> = self
            .k
            .links()?
            .into_iter()
            .filter_map(|l| l.name.map(|n| (l.index, n.to_string())))
            .collect();
        Ok(entries
            .into_iter()
            .filter_map(|n| {
                let proxy = n.flags & nd::NTF_PROXY != 0;
                let mac = n.attrs.lladdr.as_deref().and_then(|l| l.try_into().ok());
                Some(Entry {
                    dev: match n.ifindex {
                        0 => "*".to_string(),
                        i => names.get(&i).cloned().unwrap_or_else(|| i.to_string()),
                    },
                    addr: n.attrs.dst?,
                    mac: mac.filter(|_| !proxy),
                    state: (!proxy).then_some(State::Nud(n.state)),
                    proxy,
                })
            })
            .collect())
    }

    /// The entries of device `index` (or of every device), IPv4 then IPv6 (one `AF_UNSPEC`
    /// dump, as `ip neigh show`), then the proxy entries; `NUD_NOARP` ones left out.
    fn nl_entries(&mut self, index: Option<u32>) -> Result<Vec<Neighbour>> {
        let mut out = Vec::new();
        for flags in [0, nd::NTF_PROXY] {
            let got = self
                .k
                .neighbours(|| nd::dump_neigh(AF_UNSPEC, flags, index), "")?;
            out.extend(got.into_iter().filter(|n| {
                index.map_or(true, |i| n.ifindex == i)
                    && (flags == nd::NTF_PROXY || n.state & nd::NUD_NOARP == 0)
            }));
        }
        Ok(out)
    }
}
