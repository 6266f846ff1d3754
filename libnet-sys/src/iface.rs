//! One interface, the ifconfig steps, on the ioctl path (`SIOCSIFFLAGS`, `SIOCSIFADDR` +
//! `SIOCSIFNETMASK` + `SIOCSIFBRDADDR`, `SIOCSIFMTU`, `SIOCSIFHWADDR`, `SIOCSIFNAME`,
//! `SIOCGIFCONF`) or the netlink one (`RTM_NEWLINK`, `RTM_NEWADDR`, `RTM_DELADDR`,
//! `RTM_GETADDR`).
//!
//! The paths are made to leave the same state: an IPv4 address gets the broadcast the ioctl
//! path derives (prefix under 31 on a broadcast device) on netlink too, and the ioctl path
//! clears the classful broadcast `SIOCSIFADDR` leaves on a /31 or /32. Where they cannot agree
//! they say so: the ioctl path holds one IPv4 address per label and no IPv6.

use crate::error::{Error, Result};
use crate::ifname::{IfName, Mac};
use crate::ioctl::iface::{label_device, V4};
use crate::kernel::{missing, Kernel};
use crate::netlink::rtnl::addr::{self, Addr};
use crate::netlink::rtnl::link::{self, LinkAttr, IFF_BROADCAST, IFF_UP};
use crate::sysfs;
use crate::trace::Trace;
use crate::Via;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address of an interface, as both paths can read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfAddr {
    pub local: IpAddr,
    pub prefix: u8,
    pub broadcast: Option<Ipv4Addr>,
    /// IPv4: the label (`veth0`, `veth0:1`).
    pub label: Option<String>,
    /// IPv6: global, link, host or site.
    pub scope: Option<&'static str>,
}

/// One interface.
#[derive(Clone, Debug)]
pub struct Iface {
    pub index: u32,
    pub name: IfName,
    /// `IFF_*`, the low 16 bits (what `SIOCGIFFLAGS` holds), on both paths.
    pub flags: u32,
    pub mtu: u32,
    /// `ARPHRD_*`
    pub link_type: u16,
    pub mac: Option<[u8; 6]>,
    pub addrs: Vec<IfAddr>,
}

/// The host part of an IPv4 prefix set: the broadcast the kernel's ioctl path derives.
pub fn derived_broadcast(a: Ipv4Addr, prefix: u8, flags: u32) -> Option<Ipv4Addr> {
    if prefix >= 31 || flags & IFF_BROADCAST == 0 {
        return None;
    }
    Some(Ipv4Addr::from(u32::from(a) | (u32::MAX >> prefix)))
}

fn netmask(prefix: u8) -> Ipv4Addr {
    Ipv4Addr::from(u32::MAX.checked_shl(32 - prefix as u32).unwrap_or(0))
}

fn no_v6_by_ioctl(a: &IpAddr) -> Error {
    Error::invalid(
        a.to_string(),
        "the ioctl path has no IPv6 addresses; use --via netlink",
    )
}

fn up_rename(name: &IfName) -> Error {
    Error::state(
        name.to_string(),
        "the link is up, and ifctl renames only a link that is down (ifctl down it first)",
    )
}

/// The device types whose hardware address is 6 bytes (`dev->addr_len`): `ARPHRD_ETHER`,
/// `ARPHRD_IEEE802`, `ARPHRD_LOOPBACK`, `ARPHRD_IEEE80211` (and `_PRISM`, `_RADIOTAP`) from
/// <linux/if_arp.h>.
fn six_byte_hw(t: u16) -> bool {
    matches!(t, 1 | 6 | 772 | 801..=803)
}

/// `ARPHRD_ETHER`, `ARPHRD_LOOPBACK` and `ARPHRD_NONE` from <linux/if_arp.h>.
pub fn link_type_name(t: u16) -> String {
    match t {
        1 => "ether".into(),
        772 => "loopback".into(),
        65534 => "none".into(),
        t => format!("type {t}"),
    }
}

pub struct Ifaces {
    k: Kernel,
    ioctl: bool,
}

impl Ifaces {
    /// `via`: ioctl or netlink (the default); there is no sysfs path for these steps.
    pub fn new(trace: Trace, via: Option<Via>) -> Result<Ifaces> {
        let ioctl = Via::is_ioctl(via, "ifctl's steps have no sysfs path (ioctl or netlink)")?;
        Ok(Ifaces {
            k: Kernel::new(trace),
            ioctl,
        })
    }

    /// `up` / `down`: `SIOCGIFFLAGS` + `SIOCSIFFLAGS`, or one `RTM_NEWLINK` by name.
    pub fn set_up(&mut self, name: &IfName, up: bool) -> Result<()> {
        if self.ioctl {
            let ctl = self.k.inet()?;
            let flags = ctl.flags(name)?;
            let want = if up { flags | IFF_UP } else { flags & !IFF_UP };
            return ctl.set_flags(name, want);
        }
        let msg = link::set_flags_named(name, if up { IFF_UP } else { 0 }, IFF_UP);
        self.k.nl()?.request(msg, name.as_str())
    }

    /// `mtu`: `SIOCSIFMTU`, or `IFLA_MTU` after checking the device's own range.
    pub fn set_mtu(&mut self, name: &IfName, mtu: u32) -> Result<()> {
        if self.ioctl {
            return self.k.inet()?.set_mtu(name, mtu);
        }
        let l = self.k.link(name)?;
        if l.max_mtu != 0 && (mtu < l.min_mtu || mtu > l.max_mtu) {
            return Err(Error::invalid(
                name.to_string(),
                format!(
                    "mtu {mtu} is out of range: {name} accepts {} to {}",
                    l.min_mtu, l.max_mtu
                ),
            ));
        }
        self.k
            .nl()?
            .request(link::set_link(l.index, LinkAttr::Mtu(mtu)), name.as_str())
    }

    /// `mac`: `SIOCSIFHWADDR`, or `IFLA_ADDRESS`.
    pub fn set_mac(&mut self, name: &IfName, mac: Mac) -> Result<()> {
        if self.ioctl {
            return self.k.inet()?.set_hwaddr(name, mac.0);
        }
        let msg = link::set_address_named(name, mac.0);
        self.k.nl()?.request(msg, name.as_str())
    }

    /// `rename`: `SIOCSIFNAME`, or `IFLA_IFNAME` on the link's index. A link that is up is
    /// refused on both paths, on every kernel: before 6.2 the kernel refused it (`EBUSY`),
    /// since then it renames a running link, under the feet of whatever knows it by name.
    pub fn rename(&mut self, name: &IfName, new: &IfName) -> Result<()> {
        if self.ioctl {
            let ctl = self.k.inet()?;
            if ctl.flags(name)? & IFF_UP != 0 {
                return Err(up_rename(name));
            }
            return ctl.rename(name, new);
        }
        let l = self.k.link(name)?;
        if l.flags & IFF_UP != 0 {
            return Err(up_rename(name));
        }
        self.k
            .nl()?
            .request(link::set_link(l.index, LinkAttr::Name(*new)), name.as_str())
    }

    /// `addr add`. Netlink: one `RTM_NEWADDR` (broadcast given, or derived as the ioctl path
    /// derives it). ioctl: `SIOCSIFADDR`, `SIOCSIFNETMASK`, then `SIOCSIFBRDADDR` when a
    /// broadcast is given or the classful one must go; undone if a later step fails.
    pub fn add_addr(
        &mut self,
        name: &IfName,
        local: IpAddr,
        prefix: u8,
        broadcast: Option<Ipv4Addr>,
    ) -> Result<()> {
        if !self.ioctl {
            let l = self.k.link(name)?;
            let brd = match local {
                IpAddr::V4(a) => broadcast.or_else(|| derived_broadcast(a, prefix, l.flags)),
                IpAddr::V6(_) => None,
            };
            let msg = addr::new_addr(l.index, &local, prefix, brd);
            return self.k.nl()?.request(msg, &format!("{local}/{prefix}"));
        }
        let IpAddr::V4(a) = local else {
            return Err(no_v6_by_ioctl(&local));
        };
        let ctl = self.k.inet()?;
        let label = name.as_str();
        // Fail on a missing device before anything else, with the device named.
        let flags = ctl.flags(name)?;
        if let Some(cur) = ctl.v4(label, V4::Addr)? {
            let mask = ctl.v4(label, V4::Netmask)?.unwrap_or(Ipv4Addr::UNSPECIFIED);
            let have_prefix = u32::from(mask).count_ones() as u8;
            let have = format!("{cur}/{have_prefix}");
            // The same address with another prefix is another address (netlink adds it).
            if cur == a && have_prefix == prefix {
                return Err(Error::errno(
                    "SIOCSIFADDR",
                    format!("{a}/{prefix}"),
                    libc::EEXIST,
                ));
            }
            // SIOCSIFADDR would silently replace it.
            return Err(Error::state(
                format!("{a}/{prefix}"),
                format!(
                    "the ioctl path holds one IPv4 address per label, and {name} has {have}; \
                     use --via netlink to add more"
                ),
            ));
        }
        ctl.set_v4(label, V4::Addr, a)?;
        let rest = (|| {
            ctl.set_v4(label, V4::Netmask, netmask(prefix))?;
            match broadcast {
                Some(b) => ctl.set_v4(label, V4::Broadcast, b),
                // After SIOCSIFNETMASK the classful broadcast stays on a /31 or /32.
                None if derived_broadcast(a, prefix, flags).is_none() => {
                    match ctl.v4(label, V4::Broadcast)? {
                        Some(b) if !b.is_unspecified() => {
                            ctl.set_v4(label, V4::Broadcast, Ipv4Addr::UNSPECIFIED)
                        }
                        _ => Ok(()),
                    }
                }
                None => Ok(()),
            }
        })();
        if rest.is_err() {
            let _ = ctl.set_v4(label, V4::Addr, Ipv4Addr::UNSPECIFIED);
        }
        rest
    }

    /// `addr del`. Netlink: `RTM_DELADDR`. ioctl: `SIOCSIFADDR` 0.0.0.0 on the label that
    /// holds it (the kernel deletes a label's address when it is set to 0.0.0.0).
    pub fn del_addr(&mut self, name: &IfName, local: IpAddr, prefix: u8) -> Result<()> {
        let shown = format!("{local}/{prefix}");
        if !self.ioctl {
            let l = self.k.link(name)?;
            let msg = addr::del_addr(l.index, &local, prefix);
            return self.k.nl()?.request(msg, &shown);
        }
        let IpAddr::V4(a) = local else {
            return Err(no_v6_by_ioctl(&local));
        };
        let ctl = self.k.inet()?;
        ctl.flags(name)?;
        let label = ctl
            .ifconf()?
            .into_iter()
            .find(|c| c.addr == a && label_device(&c.label) == name.as_str())
            .map(|c| c.label)
            .ok_or_else(|| Error::errno("SIOCGIFCONF", shown.clone(), libc::EADDRNOTAVAIL))?;
        let mask = ctl.v4_of(&label, V4::Netmask, a)?;
        let have = mask.map(|m| u32::from(m).count_ones() as u8);
        if have != Some(prefix) {
            return Err(Error::errno("SIOCGIFNETMASK", shown, libc::EADDRNOTAVAIL));
        }
        // SIOCGIFADDR of the label must be this address: SIOCSIFADDR reaches a label's first
        // address only (the getters match an address too, the setters do not).
        if ctl.v4(&label, V4::Addr)? != Some(a) {
            return Err(Error::state(
                shown,
                format!(
                    "the ioctl path reaches only the first address of label {label}; \
                     use --via netlink"
                ),
            ));
        }
        ctl.set_v4(&label, V4::Addr, Ipv4Addr::UNSPECIFIED)
    }

    /// `addr flush`: every address of the interface, both families on netlink (as `ip addr
    /// flush`), IPv4 on the ioctl path. Returns how many were deleted.
    pub fn flush(&mut self, name: &IfName) -> Result<usize> {
        let mut deleted = 0;
        // Deleting a primary address may take its secondaries with it, or promote one: read
        // again until nothing is left.
        for _ in 0..64 {
            let ioctl = self.ioctl;
            let left: Vec<IfAddr> = self
                .read_addrs(name)?
                .into_iter()
                .filter(|a| !ioctl || a.local.is_ipv4())
                .collect();
            if left.is_empty() {
                return Ok(deleted);
            }
            for a in left {
                let res = match &a.label {
                    Some(label) if ioctl => {
                        self.k
                            .inet()?
                            .set_v4(label, V4::Addr, Ipv4Addr::UNSPECIFIED)
                    }
                    _ => self.del_addr(name, a.local, a.prefix),
                };
                match res {
                    Ok(()) => deleted += 1,
                    Err(e) if e.is(libc::EADDRNOTAVAIL) => {}
                    Err(e) => return Err(e),
                }
            }
            if self.k.trace.dry_run {
                // Nothing changed, so there is nothing to read back.
                return Ok(deleted);
            }
        }
        Err(Error::state(
            name.to_string(),
            "addresses kept appearing while they were flushed",
        ))
    }

    /// The addresses of one interface, as this path reads them.
    fn read_addrs(&mut self, name: &IfName) -> Result<Vec<IfAddr>> {
        Ok(self
            .show(Some(name))?
            .pop()
            .map(|i| i.addrs)
            .unwrap_or_default())
    }

    /// `show`: one interface, or all of them in index order.
    pub fn show(&mut self, only: Option<&IfName>) -> Result<Vec<Iface>> {
        let mut v = if self.ioctl {
            self.show_ioctl(only)?
        } else {
            self.show_netlink(only)?
        };
        v.sort_by_key(|i| i.index);
        // IPv4 in the kernel's order (the same on both paths); IPv6 by scope, then address:
        // /proc/net/if_inet6 lists them in hash order, netlink newest first.
        for i in &mut v {
            i.addrs.sort_by_key(|a| match a.local {
                IpAddr::V4(_) => None,
                IpAddr::V6(x) => {
                    let rank = ["global", "site", "link", "host"]
                        .iter()
                        .position(|s| Some(*s) == a.scope);
                    Some((rank, x))
                }
            });
        }
        Ok(v)
    }

    fn show_netlink(&mut self, only: Option<&IfName>) -> Result<Vec<Iface>> {
        let links = match only {
            Some(n) => vec![self.k.link(n)?],
            None => self.k.links()?,
        };
        let index = match only {
            Some(_) => links[0].index,
            None => 0,
        };
        let addrs = self.k.nl()?.dump(
            || addr::dump_addrs(0, index),
            "",
            Vec::new,
            |v: &mut Vec<Addr>, m| {
                v.push(addr::parse_addr(m)?);
                Ok(())
            },
        )?;
        Ok(links
            .iter()
            .filter_map(|l| {
                Some(Iface {
                    index: l.index,
                    name: l.name?,
                    flags: l.flags & 0xffff,
                    mtu: l.mtu,
                    link_type: l.ty,
                    mac: l.address,
                    addrs: addrs
                        .iter()
                        .filter(|a| a.index == l.index)
                        .map(|a| IfAddr {
                            local: a.local,
                            prefix: a.prefix,
                            broadcast: a.broadcast,
                            label: a.label.clone().filter(|_| a.local.is_ipv4()),
                            scope: a.local.is_ipv6().then_some(match a.scope {
                                0 => "global",
                                200 => "site",
                                253 => "link",
                                _ => "host",
                            }),
                        })
                        .collect(),
                })
            })
            .collect())
    }

    fn show_ioctl(&mut self, only: Option<&IfName>) -> Result<Vec<Iface>> {
        let trace = self.k.trace;
        let names: Vec<IfName> = match only {
            Some(n) => vec![*n],
            None => sysfs::proc_net_dev(&trace)?
                .iter()
                .filter_map(|n| IfName::from_bytes(n).ok())
                .collect(),
        };
        let v6 = if_inet6(&trace)?;
        let ctl = self.k.inet()?;
        let conf = ctl.ifconf()?;
        let mut out = Vec::new();
        for name in names {
            let index = ctl.ifindex(&name).map_err(missing(&name))?;
            let (link_type, mac) = ctl.hw(&name)?;
            let mut addrs = Vec::new();
            for c in conf
                .iter()
                .filter(|c| label_device(&c.label) == name.as_str())
            {
                let prefix = ctl
                    .v4_of(&c.label, V4::Netmask, c.addr)?
                    .map(|m| u32::from(m).count_ones() as u8)
                    .unwrap_or(32);
                let broadcast = ctl
                    .v4_of(&c.label, V4::Broadcast, c.addr)?
                    .filter(|b| !b.is_unspecified());
                addrs.push(IfAddr {
                    local: IpAddr::V4(c.addr),
                    prefix,
                    broadcast,
                    label: Some(c.label.clone()),
                    scope: None,
                });
            }
            addrs.extend(
                v6.iter()
                    .filter(|(ix, _)| *ix == index)
                    .map(|(_, a)| a.clone()),
            );
            out.push(Iface {
                index,
                name,
                flags: ctl.flags(&name)?,
                mtu: ctl.mtu(&name)?,
                link_type,
                // SIOCGIFHWADDR gives no length: only the 6-byte kinds have a MAC to show, as
                // netlink's IFLA_ADDRESS tells (a tun has none, a tunnel a 4-byte one).
                mac: six_byte_hw(link_type).then_some(mac),
                addrs,
            });
        }
        Ok(out)
    }
}

/// `/proc/net/if_inet6`, where ifconfig reads IPv6 addresses (no ioctl lists them):
/// `address ifindex prefix scope flags name`, hex. Absent when IPv6 is off.
fn if_inet6(trace: &Trace) -> Result<Vec<(u32, IfAddr)>> {
    const PATH: &str = "/proc/net/if_inet6";
    let raw = match sysfs::read(trace, PATH) {
        Ok(r) => r,
        Err(e) if e.is(libc::ENOENT) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let bad = || {
        Error::malformed(
            PATH,
            "a line is not 'address ifindex prefix scope flags name'",
        )
    };
    let mut v = Vec::new();
    for line in String::from_utf8_lossy(&raw).lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 6 || f[0].len() != 32 {
            return Err(bad());
        }
        let bits = u128::from_str_radix(f[0], 16).map_err(|_| bad())?;
        let index = u32::from_str_radix(f[1], 16).map_err(|_| bad())?;
        let prefix = u8::from_str_radix(f[2], 16).map_err(|_| bad())?;
        let scope = match u32::from_str_radix(f[3], 16).map_err(|_| bad())? & 0xf0 {
            0x00 => "global",
            0x10 => "host",
            0x20 => "link",
            _ => "site",
        };
        v.push((
            index,
            IfAddr {
                local: IpAddr::V6(Ipv6Addr::from(bits)),
                prefix,
                broadcast: None,
                label: None,
                scope: Some(scope),
            },
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_is_derived_as_the_ioctl_path_derives_it() {
        let a = Ipv4Addr::new(198, 51, 100, 1);
        assert_eq!(
            derived_broadcast(a, 24, IFF_BROADCAST),
            Some(Ipv4Addr::new(198, 51, 100, 255))
        );
        assert_eq!(
            derived_broadcast(Ipv4Addr::new(10, 1, 2, 3), 8, IFF_BROADCAST),
            Some(Ipv4Addr::new(10, 255, 255, 255))
        );
        assert_eq!(
            derived_broadcast(a, 0, IFF_BROADCAST),
            Some(Ipv4Addr::BROADCAST)
        );
        assert_eq!(derived_broadcast(a, 31, IFF_BROADCAST), None);
        assert_eq!(derived_broadcast(a, 32, IFF_BROADCAST), None);
        assert_eq!(derived_broadcast(a, 24, 0), None);
        assert_eq!(netmask(24), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(netmask(0), Ipv4Addr::UNSPECIFIED);
        assert_eq!(netmask(32), Ipv4Addr::BROADCAST);
    }
}
