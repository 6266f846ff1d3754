//! Per-interface ioctls from <linux/sockios.h>: name ↔ index, flags, hardware address.

use super::{ifreq, CtlSocket};
use crate::error::{Error, Result};
use crate::ifname::IfName;
use crate::trace::Access;

pub const SIOCGIFNAME: (libc::c_ulong, &str) = (0x8910, "SIOCGIFNAME");
pub const SIOCGIFFLAGS: (libc::c_ulong, &str) = (0x8913, "SIOCGIFFLAGS");
pub const SIOCGIFHWADDR: (libc::c_ulong, &str) = (0x8927, "SIOCGIFHWADDR");
pub const SIOCGIFINDEX: (libc::c_ulong, &str) = (0x8933, "SIOCGIFINDEX");

impl CtlSocket {
    /// `SIOCGIFINDEX`: the index of `name` in the caller's namespace (`ENODEV` if none).
    pub fn ifindex(&self, name: &IfName) -> Result<u32> {
        let mut ifr = ifreq(name);
        // SAFETY: SIOCGIFINDEX reads ifr_name and writes ifr_ifindex of this ifreq.
        unsafe {
            self.call(
                SIOCGIFINDEX,
                (&mut ifr as *mut libc::ifreq).cast(),
                Access::Read,
                name,
                format_args!("{{ifr_name=\"{name}\"}}"),
            )?
        };
        // SAFETY: the kernel filled the ifindex member of the union.
        Ok(unsafe { ifr.ifr_ifru.ifru_ifindex } as u32)
    }

    /// `SIOCGIFNAME`: the name of interface `index`.
    pub fn ifname(&self, index: u32) -> Result<IfName> {
        // SAFETY: ifreq is plain old data.
        let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
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

    /// `SIOCGIFFLAGS`: the `IFF_*` flags of `name`.
    pub fn flags(&self, name: &IfName) -> Result<u32> {
        let mut ifr = ifreq(name);
        // SAFETY: SIOCGIFFLAGS reads ifr_name and writes ifr_flags.
        unsafe {
            self.call(
                SIOCGIFFLAGS,
                (&mut ifr as *mut libc::ifreq).cast(),
                Access::Read,
                name,
                format_args!("{{ifr_name=\"{name}\"}}"),
            )?
        };
        // SAFETY: the kernel filled the flags member (a short) of the union.
        Ok(unsafe { ifr.ifr_ifru.ifru_flags } as u16 as u32)
    }

    /// `SIOCGIFHWADDR`: the hardware address of `name` (first 6 bytes).
    pub fn hwaddr(&self, name: &IfName) -> Result<[u8; 6]> {
        let mut ifr = ifreq(name);
        // SAFETY: SIOCGIFHWADDR reads ifr_name and writes ifr_hwaddr.
        unsafe {
            self.call(
                SIOCGIFHWADDR,
                (&mut ifr as *mut libc::ifreq).cast(),
                Access::Read,
                name,
                format_args!("{{ifr_name=\"{name}\"}}"),
            )?
        };
        let mut mac = [0u8; 6];
        // SAFETY: the kernel filled the hwaddr member of the union.
        let data = unsafe { ifr.ifr_ifru.ifru_hwaddr.sa_data };
        for (m, d) in mac.iter_mut().zip(data.iter()) {
            *m = *d as u8;
        }
        Ok(mac)
    }
}
