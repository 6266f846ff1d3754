//! Per-interface ioctls from <linux/sockios.h>: name ↔ index, flags, MTU, hardware address,
//! name, and the IPv4 address of a label (`SIOC[GS]IFADDR`, `NETMASK`, `BRDADDR`, which need an
//! `AF_INET` socket: [`CtlSocket::open_inet`]).
//!
//! The IPv4 ioctls see one address per label (`veth0`, `veth0:1`); the label is the name in
//! `ifr_name`. IPv6 has no place here.

use super::{ifreq, CtlSocket, Zeroed};
use crate::error::{Error, Result};
use crate::ifname::{IfName, IFNAMSIZ};
use crate::trace::Access;
use std::net::Ipv4Addr;

pub const SIOCGIFNAME: (libc::c_ulong, &str) = (0x8910, "SIOCGIFNAME");
pub const SIOCGIFCONF: (libc::c_ulong, &str) = (0x8912, "SIOCGIFCONF");
pub const SIOCGIFFLAGS: (libc::c_ulong, &str) = (0x8913, "SIOCGIFFLAGS");
pub const SIOCSIFFLAGS: (libc::c_ulong, &str) = (0x8914, "SIOCSIFFLAGS");
pub const SIOCGIFADDR: (libc::c_ulong, &str) = (0x8915, "SIOCGIFADDR");
pub const SIOCSIFADDR: (libc::c_ulong, &str) = (0x8916, "SIOCSIFADDR");
pub const SIOCGIFBRDADDR: (libc::c_ulong, &str) = (0x8919, "SIOCGIFBRDADDR");
pub const SIOCSIFBRDADDR: (libc::c_ulong, &str) = (0x891a, "SIOCSIFBRDADDR");
pub const SIOCGIFNETMASK: (libc::c_ulong, &str) = (0x891b, "SIOCGIFNETMASK");
pub const SIOCSIFNETMASK: (libc::c_ulong, &str) = (0x891c, "SIOCSIFNETMASK");
pub const SIOCGIFMTU: (libc::c_ulong, &str) = (0x8921, "SIOCGIFMTU");
pub const SIOCSIFMTU: (libc::c_ulong, &str) = (0x8922, "SIOCSIFMTU");
pub const SIOCSIFNAME: (libc::c_ulong, &str) = (0x8923, "SIOCSIFNAME");
pub const SIOCSIFHWADDR: (libc::c_ulong, &str) = (0x8924, "SIOCSIFHWADDR");
pub const SIOCGIFHWADDR: (libc::c_ulong, &str) = (0x8927, "SIOCGIFHWADDR");
pub const SIOCGIFINDEX: (libc::c_ulong, &str) = (0x8933, "SIOCGIFINDEX");

/// Which IPv4 value of a label an address ioctl reads or writes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum V4 {
    /// `SIOC[GS]IFADDR`. Setting it gives the label the classful prefix and, on a broadcast
    /// device, the broadcast derived from it; setting 0.0.0.0 deletes the label's address.
    Addr,
    /// `SIOC[GS]IFNETMASK`: the prefix (the broadcast follows when it was the derived one).
    Netmask,
    /// `SIOC[GS]IFBRDADDR`
    Broadcast,
}

impl V4 {
    fn requests(self) -> [(libc::c_ulong, &'static str); 2] {
        match self {
            V4::Addr => [SIOCGIFADDR, SIOCSIFADDR],
            V4::Netmask => [SIOCGIFNETMASK, SIOCSIFNETMASK],
            V4::Broadcast => [SIOCGIFBRDADDR, SIOCSIFBRDADDR],
        }
    }
}

/// One entry of `SIOCGIFCONF`: an IPv4 address and the label it is held under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfConf {
    pub label: String,
    pub addr: Ipv4Addr,
}

/// The interface a label belongs to: `veth0:1` → `veth0`.
pub fn label_device(label: &str) -> &str {
    label.split(':').next().unwrap_or(label)
}

pub(crate) fn sockaddr_in(a: Ipv4Addr) -> libc::sockaddr {
    let mut sa = libc::sockaddr::zeroed();
    sa.sa_family = libc::AF_INET as libc::sa_family_t;
    // sockaddr_in: family (2), port (2), then the address in network order at sa_data[2..6].
    for (d, s) in sa.sa_data[2..6].iter_mut().zip(a.octets()) {
        *d = s as libc::c_char;
    }
    sa
}

fn sockaddr_ipv4(sa: &libc::sockaddr) -> Ipv4Addr {
    let b: Vec<u8> = sa.sa_data[2..6].iter().map(|&c| c as u8).collect();
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

/// An `ifreq` for an address label: an interface name, or `name:alias`.
fn label_ifreq(label: &str) -> Result<libc::ifreq> {
    if label.is_empty() || label.len() >= IFNAMSIZ || label.contains('\0') {
        return Err(Error::invalid(
            label.to_string(),
            "an address label is 1 to 15 bytes",
        ));
    }
    let mut ifr = libc::ifreq::zeroed();
    for (d, s) in ifr.ifr_name.iter_mut().zip(label.bytes()) {
        *d = s as libc::c_char;
    }
    Ok(ifr)
}

impl CtlSocket {
    /// `SIOCGIFINDEX`: the index of `name` in the caller's namespace (`ENODEV` if none).
    pub fn ifindex(&self, name: &IfName) -> Result<u32> {
        let mut ifr = ifreq(name);
        self.ifr(SIOCGIFINDEX, &mut ifr, Access::Read, name, format_args!(""))?;
        // SAFETY: the kernel filled the ifindex member of the union.
        Ok(unsafe { ifr.ifr_ifru.ifru_ifindex } as u32)
    }

    /// `SIOCGIFNAME`: the name of interface `index`.
    pub fn ifname(&self, index: u32) -> Result<IfName> {
        let mut ifr = libc::ifreq::zeroed();
        ifr.ifr_ifru.ifru_ifindex = index as libc::c_int;
        // SAFETY: SIOCGIFNAME reads ifr_ifindex and writes ifr_name.
        unsafe {
            self.call(
                SIOCGIFNAME,
                (&mut ifr as *mut libc::ifreq).cast(),
                Access::Read,
                &index,
                format_args!("{{ifr_ifindex={index}}}"),
            )?
        };
        let raw: Vec<u8> = ifr
            .ifr_name
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        IfName::from_bytes(&raw)
            .map_err(|_| Error::malformed("SIOCGIFNAME", "the kernel returned an unusable name"))
    }

    /// `SIOCGIFFLAGS`: the `IFF_*` flags of `name` (the low 16 bits: `ifr_flags` is a short).
    pub fn flags(&self, name: &IfName) -> Result<u32> {
        let mut ifr = ifreq(name);
        self.ifr(SIOCGIFFLAGS, &mut ifr, Access::Read, name, format_args!(""))?;
        // SAFETY: the kernel filled the flags member (a short) of the union.
        Ok(unsafe { ifr.ifr_ifru.ifru_flags } as u16 as u32)
    }

    /// `SIOCSIFFLAGS`: sets the flags of `name` to `flags` (read them first: this is not a mask).
    pub fn set_flags(&self, name: &IfName, flags: u32) -> Result<()> {
        let mut ifr = ifreq(name);
        ifr.ifr_ifru.ifru_flags = flags as u16 as libc::c_short;
        self.ifr(
            SIOCSIFFLAGS,
            &mut ifr,
            Access::Write,
            name,
            format_args!(", ifr_flags={flags:#x}"),
        )
    }

    /// `SIOCGIFHWADDR`: the hardware address of `name` (first 6 bytes).
    pub fn hwaddr(&self, name: &IfName) -> Result<[u8; 6]> {
        Ok(self.hw(name)?.1)
    }

    /// `SIOCGIFHWADDR`: the device type (`ARPHRD_*`, in `sa_family`) and its first 6 bytes.
    pub fn hw(&self, name: &IfName) -> Result<(u16, [u8; 6])> {
        let mut ifr = ifreq(name);
        self.ifr(
            SIOCGIFHWADDR,
            &mut ifr,
            Access::Read,
            name,
            format_args!(""),
        )?;
        let mut mac = [0u8; 6];
        // SAFETY: the kernel filled the hwaddr member of the union.
        let sa = unsafe { ifr.ifr_ifru.ifru_hwaddr };
        for (m, d) in mac.iter_mut().zip(sa.sa_data.iter()) {
            *m = *d as u8;
        }
        Ok((sa.sa_family, mac))
    }

    /// `SIOCSIFHWADDR`. The kernel wants the device's own type in `sa_family`, so it is read
    /// first with `SIOCGIFHWADDR`.
    pub fn set_hwaddr(&self, name: &IfName, mac: [u8; 6]) -> Result<()> {
        let (ty, _) = self.hw(name)?;
        let mut ifr = ifreq(name);
        // SAFETY: writing the hwaddr member of the union, plain old data.
        unsafe {
            ifr.ifr_ifru.ifru_hwaddr.sa_family = ty;
            for (d, s) in ifr.ifr_ifru.ifru_hwaddr.sa_data.iter_mut().zip(mac) {
                *d = s as libc::c_char;
            }
        }
        self.ifr(
            SIOCSIFHWADDR,
            &mut ifr,
            Access::Write,
            name,
            format_args!(
                ", ifr_hwaddr={{sa_family={ty}, {}}}",
                crate::ifname::mac(&mac)
            ),
        )
    }

    /// `SIOCGIFMTU`
    pub fn mtu(&self, name: &IfName) -> Result<u32> {
        let mut ifr = ifreq(name);
        self.ifr(SIOCGIFMTU, &mut ifr, Access::Read, name, format_args!(""))?;
        // SAFETY: the kernel filled the mtu member of the union.
        Ok(unsafe { ifr.ifr_ifru.ifru_mtu } as u32)
    }

    /// `SIOCSIFMTU`
    pub fn set_mtu(&self, name: &IfName, mtu: u32) -> Result<()> {
        let mut ifr = ifreq(name);
        ifr.ifr_ifru.ifru_mtu = mtu as libc::c_int;
        self.ifr(
            SIOCSIFMTU,
            &mut ifr,
            Access::Write,
            name,
            format_args!(", ifr_mtu={mtu}"),
        )
    }

    /// `SIOCSIFNAME`: `name` becomes `new` (kernels before 6.2 rename only a link that is down).
    pub fn rename(&self, name: &IfName, new: &IfName) -> Result<()> {
        let mut ifr = ifreq(name);
        // SAFETY: writing the newname member of the union, plain old data.
        unsafe {
            for (d, s) in ifr.ifr_ifru.ifru_newname.iter_mut().zip(new.as_ifr_name()) {
                *d = *s as libc::c_char;
            }
        }
        self.ifr(
            SIOCSIFNAME,
            &mut ifr,
            Access::Write,
            name,
            format_args!(", ifr_newname=\"{new}\""),
        )
    }

    /// `SIOCGIFADDR`/`NETMASK`/`BRDADDR` of a label; `None` when the label holds no IPv4
    /// address (`EADDRNOTAVAIL`).
    pub fn v4(&self, label: &str, what: V4) -> Result<Option<Ipv4Addr>> {
        self.v4_get(label, what, None)
    }

    /// As [`v4`](Self::v4), for the address `local` of the label rather than its first: the
    /// kernel matches label and address when `ifr_addr` holds an `AF_INET` address (4.4BSD
    /// style), and falls back to the label's first address when none matches.
    pub fn v4_of(&self, label: &str, what: V4, local: Ipv4Addr) -> Result<Option<Ipv4Addr>> {
        self.v4_get(label, what, Some(local))
    }

    fn v4_get(&self, label: &str, what: V4, local: Option<Ipv4Addr>) -> Result<Option<Ipv4Addr>> {
        let mut ifr = label_ifreq(label)?;
        if let Some(a) = local {
            ifr.ifr_ifru.ifru_addr = sockaddr_in(a);
        }
        let req = what.requests()[0];
        let shown = match local {
            Some(a) => format!(", ifr_addr={{AF_INET, {a}}}"),
            None => String::new(),
        };
        // SAFETY: these requests read ifr_name and ifr_addr, and write ifr_addr (a sockaddr).
        let res = unsafe {
            self.call(
                req,
                (&mut ifr as *mut libc::ifreq).cast(),
                Access::Read,
                &label,
                format_args!("{{ifr_name=\"{label}\"{shown}}}"),
            )
        };
        match res {
            Ok(_) => {
                // SAFETY: the kernel filled the addr member of the union.
                Ok(Some(sockaddr_ipv4(unsafe { &ifr.ifr_ifru.ifru_addr })))
            }
            Err(e) if e.is(libc::EADDRNOTAVAIL) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `SIOCSIFADDR`/`NETMASK`/`BRDADDR` of a label.
    pub fn set_v4(&self, label: &str, what: V4, addr: Ipv4Addr) -> Result<()> {
        let mut ifr = label_ifreq(label)?;
        ifr.ifr_ifru.ifru_addr = sockaddr_in(addr);
        let req = what.requests()[1];
        // SAFETY: these requests read ifr_name and ifr_addr.
        unsafe {
            self.call(
                req,
                (&mut ifr as *mut libc::ifreq).cast(),
                Access::Write,
                &label,
                format_args!("{{ifr_name=\"{label}\", ifr_addr={{AF_INET, {addr}}}}}"),
            )
        }
        .map(|_| ())
    }

    /// `SIOCGIFCONF`: every IPv4 address in the namespace with its label, in the kernel's order
    /// (per device, primary addresses first). Asked once for the size, then for the entries.
    pub fn ifconf(&self) -> Result<Vec<IfConf>> {
        const ENTRY: usize = std::mem::size_of::<libc::ifreq>();
        let mut buf: Vec<libc::ifreq> = Vec::new();
        for _ in 0..4 {
            let mut ifc = libc::ifconf::zeroed();
            ifc.ifc_len = (buf.len() * ENTRY) as libc::c_int;
            ifc.ifc_ifcu.ifcu_req = if buf.is_empty() {
                std::ptr::null_mut()
            } else {
                buf.as_mut_ptr()
            };
            let cap = buf.len();
            // SAFETY: with a NULL buffer the kernel only writes ifc_len (the size it needs);
            // otherwise it writes at most ifc_len bytes of entries into buf.
            unsafe {
                self.call(
                    SIOCGIFCONF,
                    (&mut ifc as *mut libc::ifconf).cast(),
                    Access::Read,
                    &"",
                    format_args!("{{ifc_len={}}}", cap * ENTRY),
                )?
            };
            let len = ifc.ifc_len.max(0) as usize;
            if cap == 0 {
                if len == 0 {
                    return Ok(Vec::new());
                }
                // Room for one more entry tells a full buffer from an address added meanwhile.
                buf = vec![libc::ifreq::zeroed(); len / ENTRY + 1];
                continue;
            }
            if len >= cap * ENTRY {
                buf = vec![libc::ifreq::zeroed(); cap * 2];
                continue;
            }
            return Ok(buf[..len / ENTRY]
                .iter()
                .map(|r| IfConf {
                    label: r
                        .ifr_name
                        .iter()
                        .take_while(|&&c| c != 0)
                        .map(|&c| c as u8 as char)
                        .collect(),
                    // SAFETY: SIOCGIFCONF fills ifr_addr of each entry.
                    addr: sockaddr_ipv4(unsafe { &r.ifr_ifru.ifru_addr }),
                })
                .collect());
        }
        Err(Error::malformed(
            "SIOCGIFCONF",
            "the address list kept growing while it was read",
        ))
    }
}
