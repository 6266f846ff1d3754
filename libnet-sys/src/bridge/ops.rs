//! Every bridge step on each of its kernel paths. The paths are made to agree: the same kernel
//! state afterwards, the same data read, and the same errno for the same failure (the netlink
//! path checks first what the ioctls refuse by themselves, such as adding a port that is
//! already in a bridge, which `IFLA_MASTER` would silently move).
//!
//! An `ENODEV` error always names the missing device as its object.

use super::{Bridge, BridgeSetting, Detail, FdbEntry, PortSetting};
use crate::error::{Error, Result};
use crate::ifname::IfName;
use crate::kernel::{missing, Kernel};
use crate::netlink::rtnl::link::{self, BrAttr, BrPortAttr, Link, IFF_UP};
use crate::netlink::rtnl::{self as rtnl, neigh};
use crate::sysfs;
use crate::trace::{Access, Trace};

pub use crate::Via;

/// The bridge steps, on the sockets of one [`Kernel`].
pub struct Bridges {
    k: Kernel,
    via: Option<Via>,
}

impl Bridges {
    /// `via`: the path the user chose, or `None` for each step's default (ioctl to create and
    /// delete bridges and ports, netlink for settings and for reading).
    pub fn new(trace: Trace, via: Option<Via>) -> Bridges {
        Bridges {
            k: Kernel::new(trace),
            via,
        }
    }

    fn path(&self, default: Via) -> Via {
        self.via.unwrap_or(default)
    }

    /// A link that must be a bridge: `ENODEV` if absent, `EOPNOTSUPP` if not a bridge.
    fn bridge_link(&mut self, name: &IfName) -> Result<Link> {
        let l = self.k.link(name)?;
        if l.bridge.is_none() {
            return Err(Error::errno(
                "RTM_GETLINK",
                name.to_string(),
                libc::EOPNOTSUPP,
            ));
        }
        Ok(l)
    }

    /// With sysfs, first make sure /sys is this namespace's view of `name`.
    fn sysfs_checked(&mut self, name: &IfName) -> Result<Trace> {
        let ctl = self.k.ctl()?;
        sysfs::check_view(ctl, name)?;
        Ok(ctl.trace)
    }

    /// `addbr`: `SIOCBRADDBR`, or `RTM_NEWLINK` kind bridge.
    pub fn add_bridge(&mut self, name: &IfName) -> Result<()> {
        match self.path(Via::Ioctl) {
            // sysfs cannot create a bridge; bridge-utils uses the ioctl for it too.
            Via::Ioctl | Via::Sysfs => self.k.ctl()?.add_bridge(name),
            Via::Netlink => self.k.nl()?.request(link::new_bridge(name), name.as_str()),
        }
    }

    /// `delbr`: `SIOCBRDELBR`, or `RTM_DELLINK` after the checks the ioctl makes itself
    /// (`ENXIO` none, `EPERM` not a bridge, `EBUSY` still up).
    pub fn del_bridge(&mut self, name: &IfName) -> Result<()> {
        match self.path(Via::Ioctl) {
            Via::Ioctl | Via::Sysfs => self.k.ctl()?.del_bridge(name),
            Via::Netlink => {
                let l = self.k.link(name).map_err(|e| {
                    if e.is(libc::ENODEV) {
                        Error::errno("RTM_GETLINK", name.to_string(), libc::ENXIO)
                    } else {
                        e
                    }
                })?;
                let refuse = if l.bridge.is_none() {
                    Some(libc::EPERM)
                } else if l.flags & IFF_UP != 0 {
                    Some(libc::EBUSY)
                } else {
                    None
                };
                if let Some(errno) = refuse {
                    return Err(Error::errno("RTM_DELLINK", name.to_string(), errno));
                }
                self.k.nl()?.request(link::del_link(l.index), name.as_str())
            }
        }
    }

    /// `addif` / `delif`: `SIOCBRADDIF`/`SIOCBRDELIF`, or `IFLA_MASTER` after the ioctl's own
    /// checks (`EBUSY` already a port, `ELOOP` a bridge into a bridge, `EOPNOTSUPP` not a bridge,
    /// `EINVAL` not a port of this bridge).
    pub fn set_port_of(&mut self, bridge: &IfName, port: &IfName, add: bool) -> Result<()> {
        match self.path(Via::Ioctl) {
            Via::Ioctl | Via::Sysfs => {
                let ctl = self.k.ctl()?;
                let index = ctl.ifindex(port).map_err(missing(port))?;
                ctl.bridge_port(bridge, index, add).map_err(missing(bridge))
            }
            Via::Netlink => {
                let p = self.k.link(port)?;
                let b = self.k.link(bridge)?;
                let step = "RTM_NEWLINK";
                let object = format!("{bridge} {port}");
                if b.bridge.is_none() {
                    return Err(Error::errno(step, object, libc::EOPNOTSUPP));
                }
                if add && p.master != 0 {
                    return Err(Error::errno(step, object, libc::EBUSY));
                }
                if add && p.bridge.is_some() {
                    return Err(Error::errno(step, object, libc::ELOOP));
                }
                if !add && p.master != b.index {
                    return Err(Error::errno(step, object, libc::EINVAL));
                }
                self.k.nl()?.request(
                    link::set_master(p.index, if add { b.index } else { 0 }),
                    &object,
                )
            }
        }
    }

    /// A bridge setting: sysfs `bridge/<file>`, `BRCTL_SET_*`, or `IFLA_BR_*`.
    pub fn set_bridge(&mut self, bridge: &IfName, what: BridgeSetting, value: u64) -> Result<()> {
        match self.path(Via::Netlink) {
            Via::Sysfs => {
                let trace = self.sysfs_checked(bridge)?;
                require_bridge_sysfs(&trace, bridge)?;
                sysfs::bridge::set_bridge(&trace, bridge, what, value)
                    .map_err(|e| missing_as_enodev(e, bridge))
            }
            Via::Ioctl => self
                .k
                .ctl()?
                .set_bridge(bridge, what, value)
                .map_err(missing(bridge)),
            Via::Netlink => {
                let b = self.bridge_link(bridge)?;
                let v = value as u32;
                let attr = match what {
                    BridgeSetting::AgeingTime => BrAttr::U32(rtnl::IFLA_BR_AGEING_TIME, v),
                    BridgeSetting::ForwardDelay => BrAttr::U32(rtnl::IFLA_BR_FORWARD_DELAY, v),
                    BridgeSetting::HelloTime => BrAttr::U32(rtnl::IFLA_BR_HELLO_TIME, v),
                    BridgeSetting::MaxAge => BrAttr::U32(rtnl::IFLA_BR_MAX_AGE, v),
                    BridgeSetting::Priority => BrAttr::U16(rtnl::IFLA_BR_PRIORITY, value as u16),
                    BridgeSetting::StpState => BrAttr::U32(rtnl::IFLA_BR_STP_STATE, v),
                };
                self.k
                    .nl()?
                    .request(link::set_bridge(b.index, attr), bridge.as_str())
            }
        }
    }

    /// A port setting, after checking that `port` is a port of `bridge` (bridge-utils ignores
    /// the bridge argument): sysfs `brport/<file>`, `BRCTL_SET_*`, or `IFLA_BRPORT_*`.
    pub fn set_port(
        &mut self,
        bridge: &IfName,
        port: &IfName,
        what: PortSetting,
        value: u64,
    ) -> Result<()> {
        match self.path(Via::Netlink) {
            Via::Sysfs => {
                self.sysfs_checked(bridge)?;
                let trace = self.sysfs_checked(port)?;
                self.check_member_sysfs(&trace, bridge, port)?;
                sysfs::bridge::set_port(&trace, port, what, value)
            }
            Via::Ioctl => {
                let ctl = self.k.ctl()?;
                let index = ctl.ifindex(port).map_err(missing(port))?;
                let ports = ctl.port_list(bridge).map_err(missing(bridge))?;
                let Some(&(port_no, _)) = ports.iter().find(|(_, ix)| *ix == index) else {
                    return Err(not_a_port(bridge, port));
                };
                ctl.set_port(bridge, port, port_no, what, value)
            }
            Via::Netlink => {
                let b = self.bridge_link(bridge)?;
                let p = self.k.link(port)?;
                if p.master != b.index || p.port.is_none() {
                    return Err(not_a_port(bridge, port));
                }
                let attr = match what {
                    PortSetting::PathCost => BrPortAttr::U32(rtnl::IFLA_BRPORT_COST, value as u32),
                    PortSetting::Priority => {
                        BrPortAttr::U16(rtnl::IFLA_BRPORT_PRIORITY, value as u16)
                    }
                    PortSetting::Hairpin => BrPortAttr::U8(rtnl::IFLA_BRPORT_MODE, value as u8),
                };
                self.k
                    .nl()?
                    .request(link::set_port(p.index, attr), &format!("{bridge} {port}"))
            }
        }
    }

    fn check_member_sysfs(&self, trace: &Trace, bridge: &IfName, port: &IfName) -> Result<()> {
        require_bridge_sysfs(trace, bridge)?;
        if !std::path::Path::new(&format!("{}/{port}", sysfs::CLASS_NET)).exists() {
            return Err(Error::errno("stat", port.to_string(), libc::ENODEV));
        }
        let member = format!("{}/{bridge}/brif/{port}", sysfs::CLASS_NET);
        trace.request(Access::Read, format_args!("stat {member}"));
        let ok = std::path::Path::new(&member).exists();
        trace.outcome(
            Access::Read,
            Ok(format_args!("{}", if ok { "present" } else { "absent" })),
        );
        if ok {
            Ok(())
        } else {
            Err(not_a_port(bridge, port))
        }
    }

    /// Every bridge in the namespace, sorted by name.
    pub fn bridges(&mut self, detail: Detail) -> Result<Vec<Bridge>> {
        // The listing defaults to the ioctls: measured fastest at every size (one
        // BRCTL_GET_BRIDGES and a few ioctls a bridge, against a kernel fill of every link
        // message for a dump), and namespace-correct. Where they cannot list everything (over
        // 2047 bridges, or no legacy ioctls in the kernel) the netlink dumps take over.
        let default = if detail == Detail::Summary {
            Via::Ioctl
        } else {
            Via::Netlink
        };
        let mut out = match self.path(default) {
            Via::Netlink => self.dump_bridges(None)?,
            Via::Ioctl => match self.ioctl_bridges(detail) {
                Err(e) if self.via.is_none() && ioctl_cannot(&e) => self.dump_bridges(None)?,
                r => r?,
            },
            Via::Sysfs => {
                let trace = self.k.trace;
                let names = sysfs::list_dir(&trace, sysfs::CLASS_NET)?;
                sysfs::check_listing(&trace, &names)?;
                let mut v = Vec::new();
                for n in names.iter().filter(|n| sysfs::bridge::is_bridge(&trace, n)) {
                    let name = IfName::from_bytes(n).map_err(|_| {
                        Error::malformed(
                            "readdir /sys/class/net",
                            "a name is not an interface name",
                        )
                    })?;
                    let trace = self.sysfs_checked(&name)?;
                    v.push(sysfs::bridge::bridge_info(&trace, &name, detail)?);
                }
                v
            }
        };
        out.sort_by_key(|b| b.name);
        Ok(out)
    }

    /// Every bridge through the legacy ioctls. A bridge deleted between the list and its
    /// details is left out, as a dump taken a moment later would leave it out.
    fn ioctl_bridges(&mut self, detail: Detail) -> Result<Vec<Bridge>> {
        let ctl = self.k.ctl()?;
        let mut v = Vec::new();
        for index in ctl.bridge_indexes()? {
            match ctl
                .ifname(index)
                .and_then(|name| ctl.bridge_info(&name, detail == Detail::Full))
            {
                Ok(mut b) => {
                    b.ifindex = index;
                    v.push(b);
                }
                Err(e) if e.is(libc::ENODEV) || e.is(libc::ENXIO) => {}
                Err(e) => return Err(e),
            }
        }
        if detail == Detail::Full {
            for b in v.iter_mut() {
                self.fill_hairpin(b)?;
            }
        }
        Ok(v)
    }

    /// One bridge: `ENODEV` if there is no such device, `EOPNOTSUPP` if it is not a bridge.
    pub fn bridge(&mut self, name: &IfName, detail: Detail) -> Result<Bridge> {
        match self.path(Via::Netlink) {
            Via::Netlink => {
                let b = self.bridge_link(name)?;
                let mut v = self.dump_bridges(Some(b))?;
                v.pop()
                    .ok_or_else(|| Error::errno("RTM_GETLINK", name.to_string(), libc::ENODEV))
            }
            Via::Ioctl => {
                let ctl = self.k.ctl()?;
                let index = ctl.ifindex(name)?;
                let mut b = ctl.bridge_info(name, detail == Detail::Full).map_err(|e| {
                    // old_dev_ioctl() on a device that is not a bridge: EOPNOTSUPP.
                    if e.is(libc::EOPNOTSUPP) || e.is(libc::EINVAL) {
                        Error::errno(e.step, name.to_string(), libc::EOPNOTSUPP)
                    } else {
                        e
                    }
                })?;
                b.ifindex = index;
                if detail == Detail::Full {
                    self.fill_hairpin(&mut b)?;
                }
                Ok(b)
            }
            Via::Sysfs => {
                let trace = self.sysfs_checked(name)?;
                require_bridge_sysfs(&trace, name)?;
                sysfs::bridge::bridge_info(&trace, name, detail)
            }
        }
    }

    /// No ioctl reports hairpin mode: the ioctl path asks netlink for that one field, with one
    /// dump of the bridge's ports.
    fn fill_hairpin(&mut self, b: &mut Bridge) -> Result<()> {
        if b.ports.is_empty() {
            return Ok(());
        }
        let ports = self.dump_ports(b.ifindex)?;
        for p in b.ports.iter_mut() {
            p.hairpin = ports
                .iter()
                .any(|l| l.index == p.ifindex && l.port.as_ref().is_some_and(|x| x.hairpin));
        }
        Ok(())
    }

    fn dump_ports(&mut self, master: u32) -> Result<Vec<Link>> {
        let msg =
            move || link::dump_links(rtnl::RTEXT_FILTER_SKIP_STATS).u32(rtnl::IFLA_MASTER, master);
        self.k
            .nl()?
            .dump(msg, "", Vec::new, |v: &mut Vec<Link>, m| {
                let l = link::parse_link(m)?;
                if l.master == master && l.port.is_some() {
                    v.push(l);
                }
                Ok(())
            })
    }

    /// Every bridge with its ports, in two dumps that keep the kernel's work small: the
    /// bridges alone (`RTM_GETLINK` filtered by kind in the kernel), then every port at once
    /// (the `AF_BRIDGE` dump: short messages, ports only). With `only`, its ports come from a
    /// dump filtered by `IFLA_MASTER`. Ports go straight into their bridge: nothing else is
    /// kept, so memory stays flat at thousands of links.
    fn dump_bridges(&mut self, only: Option<Link>) -> Result<Vec<Bridge>> {
        let master = only.as_ref().map(|l| l.index);
        let mut bridges: Vec<Bridge> = match only {
            Some(l) => l.bridge.into_iter().collect(),
            None => {
                let msg = || {
                    link::dump_links(rtnl::RTEXT_FILTER_SKIP_STATS).nest(rtnl::IFLA_LINKINFO, |m| {
                        m.bytes(rtnl::IFLA_INFO_KIND, b"bridge")
                    })
                };
                self.k
                    .nl()?
                    .dump(msg, "", Vec::new, |v: &mut Vec<Bridge>, m| {
                        v.extend(link::parse_link(m)?.bridge);
                        Ok(())
                    })?
            }
        };
        bridges.sort_by_key(|b| b.ifindex);
        let cell = std::cell::RefCell::new(bridges);
        let msg = move || match master {
            Some(m) => link::dump_links(rtnl::RTEXT_FILTER_SKIP_STATS).u32(rtnl::IFLA_MASTER, m),
            None => link::dump_bridge_ports(),
        };
        let restart = || cell.borrow_mut().iter_mut().for_each(|b| b.ports.clear());
        self.k.nl()?.dump(msg, "", restart, |_, m| {
            let l = link::parse_link(m)?;
            let mut bridges = cell.borrow_mut();
            if let (Ok(i), Some(p)) = (
                bridges.binary_search_by_key(&l.master, |b| b.ifindex),
                l.port,
            ) {
                bridges[i].ports.push(p);
            }
            Ok(())
        })?;
        let mut bridges = cell.into_inner();
        bridges.iter_mut().for_each(Bridge::sort_ports);
        Ok(bridges)
    }

    /// The forwarding database as `brforward` has it: sysfs, `BRCTL_GET_FDB_ENTRIES`, or an
    /// `AF_BRIDGE` `RTM_GETNEIGH` dump; sorted by MAC, as bridge-utils shows it (the paths
    /// walk the table in different orders).
    pub fn fdb(&mut self, bridge: &IfName) -> Result<Vec<FdbEntry>> {
        let mut v = self.fdb_unsorted(bridge)?;
        v.sort_by_key(|e| e.mac);
        Ok(v)
    }

    fn fdb_unsorted(&mut self, bridge: &IfName) -> Result<Vec<FdbEntry>> {
        match self.path(Via::Netlink) {
            Via::Sysfs => {
                let trace = self.sysfs_checked(bridge)?;
                require_bridge_sysfs(&trace, bridge)?;
                sysfs::bridge::fdb_entries(&trace, bridge).map_err(|e| missing_as_enodev(e, bridge))
            }
            Via::Ioctl => self.k.ctl()?.fdb_entries(bridge).map_err(missing(bridge)),
            Via::Netlink => {
                let b = self.bridge_link(bridge)?;
                let ports: Vec<(u32, u16)> = self
                    .dump_ports(b.index)?
                    .iter()
                    .map(|l| (l.index, l.port.as_ref().map_or(0, |p| p.port_no)))
                    .collect();
                let port_no = |ix: u32| ports.iter().find(|(i, _)| *i == ix).map(|(_, n)| *n);
                let msg = move || neigh::dump_fdb(b.index);
                self.k.nl()?.dump(
                    msg,
                    bridge.as_str(),
                    Vec::new,
                    |v: &mut Vec<FdbEntry>, m| {
                        if let Some(e) = neigh::fdb_entry(m, b.index, &port_no)? {
                            v.push(e);
                        }
                        Ok(())
                    },
                )
            }
        }
    }
}

/// Through sysfs, `name` must be a bridge: `ENODEV` if there is no such device, `EOPNOTSUPP`
/// if it is not a bridge (as the ioctl and netlink paths say), not a missing file's `ENOENT`.
fn require_bridge_sysfs(trace: &Trace, name: &IfName) -> Result<()> {
    if sysfs::bridge::is_bridge(trace, name.as_bytes()) {
        return Ok(());
    }
    let exists = std::path::Path::new(&format!("{}/{name}", sysfs::CLASS_NET)).exists();
    Err(Error::errno(
        "stat",
        name.to_string(),
        if exists {
            libc::EOPNOTSUPP
        } else {
            libc::ENODEV
        },
    ))
}

/// The ioctls cannot give the whole list: more bridges than BRCTL_GET_BRIDGES reports, or a
/// kernel without the legacy bridge ioctls.
fn ioctl_cannot(e: &Error) -> bool {
    matches!(e.cause, crate::error::Cause::State(_))
        || [libc::EOPNOTSUPP, libc::ENOTTY, libc::EINVAL, libc::ENOPKG]
            .iter()
            .any(|&n| e.is(n))
}

/// Names `dev` as the device an `ENODEV` is about, so the message can say which one is missing.
fn not_a_port(bridge: &IfName, port: &IfName) -> Error {
    Error::state(
        format!("{bridge} {port}"),
        format!("{port} is not a port of bridge {bridge}"),
    )
}

/// A sysfs file of a device that does not exist reads as ENOENT; say ENODEV as the other paths do.
fn missing_as_enodev(e: Error, name: &IfName) -> Error {
    if e.is(libc::ENOENT) && !std::path::Path::new(&format!("{}/{name}", sysfs::CLASS_NET)).exists()
    {
        Error::errno(e.step, name.to_string(), libc::ENODEV)
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_falls_back_to_netlink_only_where_the_ioctl_cannot_list() {
        let full = Error::state("BRCTL_GET_BRIDGES", "the ioctl lists at most 2047 bridges");
        assert!(ioctl_cannot(&full));
        for errno in [libc::EOPNOTSUPP, libc::ENOTTY, libc::EINVAL, libc::ENOPKG] {
            assert!(
                ioctl_cannot(&Error::errno("SIOCGIFBR", "", errno)),
                "{errno}"
            );
        }
        // A refusal or a failure of the namespace is the answer, not a reason to try again.
        for errno in [libc::EPERM, libc::EACCES, libc::ENOMEM, libc::EFAULT] {
            assert!(
                !ioctl_cannot(&Error::errno("SIOCGIFBR", "", errno)),
                "{errno}"
            );
        }
    }
}
