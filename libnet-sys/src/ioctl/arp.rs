//! `SIOCSARP` / `SIOCGARP` / `SIOCDARP`: IPv4 neighbour (ARP) entries the way net-tools'
//! `arp -s` / `arp -d` make them, a `struct arpreq` on an `AF_INET` socket.
//!
//! What the kernel makes of them (net/ipv4/arp.c): `SIOCSARP` with `ATF_PERM` is a
//! `NUD_PERMANENT` neighbour, the same entry `RTM_NEWNEIGH` makes, but it replaces one that is
//! there (no `NLM_F_EXCL`); with `ATF_PUBL` it is a proxy (pneigh) entry, which keeps no MAC.
//! `SIOCDARP` of an absent entry is `ENXIO` (a proxy one `ENOENT`). IPv6 has no such ioctl.

use super::{CtlSocket, Zeroed};
use crate::error::Result;
use crate::ifname::IfName;
use crate::trace::Access;
use std::net::Ipv4Addr;

// <linux/sockios.h>
pub const SIOCDARP: (libc::c_ulong, &str) = (0x8953, "SIOCDARP");
pub const SIOCGARP: (libc::c_ulong, &str) = (0x8954, "SIOCGARP");
pub const SIOCSARP: (libc::c_ulong, &str) = (0x8955, "SIOCSARP");

// <linux/if_arp.h>: arp_flags
pub const ATF_COM: i32 = 0x02;
pub const ATF_PERM: i32 = 0x04;
pub const ATF_PUBL: i32 = 0x08;

// `struct arpreq` (<linux/if_arp.h>), as libc declares it: 68 bytes, these offsets.
const _: () = assert!(std::mem::size_of::<libc::arpreq>() == 68);
const _: () = assert!(std::mem::offset_of!(libc::arpreq, arp_ha) == 16);
const _: () = assert!(std::mem::offset_of!(libc::arpreq, arp_flags) == 32);
const _: () = assert!(std::mem::offset_of!(libc::arpreq, arp_netmask) == 36);
const _: () = assert!(std::mem::offset_of!(libc::arpreq, arp_dev) == 52);

/// A `struct arpreq`: `addr` on `dev`, the Ethernet address `mac` (`ARPHRD_ETHER`, or nothing
/// when `None`), `flags` (`ATF_*`); every other byte zero.
pub fn arpreq(addr: Ipv4Addr, mac: Option<[u8; 6]>, flags: i32, dev: &IfName) -> libc::arpreq {
    let mut r = libc::arpreq::zeroed();
    r.arp_pa = super::iface::sockaddr_in(addr);
    if let Some(m) = mac {
        r.arp_ha.sa_family = libc::ARPHRD_ETHER;
        for (d, s) in r.arp_ha.sa_data.iter_mut().zip(m) {
            *d = s as libc::c_char;
        }
    }
    r.arp_flags = flags;
    for (d, s) in r.arp_dev.iter_mut().zip(dev.as_ifr_name()) {
        *d = *s as libc::c_char;
    }
    r
}

/// The bytes of an `arpreq`, as the kernel reads them.
pub fn arpreq_bytes(r: &libc::arpreq) -> &[u8] {
    // SAFETY: arpreq is repr(C) of byte arrays, shorts and an int with no padding (size checked
    // above), fully initialised.
    unsafe {
        std::slice::from_raw_parts(
            (r as *const libc::arpreq).cast::<u8>(),
            std::mem::size_of::<libc::arpreq>(),
        )
    }
}

/// `ATF_COM|ATF_PERM`, named for --explain.
pub fn flag_names(flags: i32) -> String {
    let named = [
        (ATF_COM, "ATF_COM"),
        (ATF_PERM, "ATF_PERM"),
        (ATF_PUBL, "ATF_PUBL"),
    ];
    crate::netlink::rtnl::neigh::names(flags as u32, &named.map(|(f, n)| (f as u32, n)))
}

impl CtlSocket {
    /// `SIOCSARP` (set) or `SIOCDARP` with an `arpreq`; needs an `AF_INET` socket.
    pub fn arp(&self, set: bool, r: &libc::arpreq) -> Result<()> {
        let req = if set { SIOCSARP } else { SIOCDARP };
        self.arp_call(req, r, Access::Write).map(|_| ())
    }

    /// `SIOCGARP`: the entry for `addr` on `dev`, as (`ATF_*` flags, MAC); `ENXIO` when there
    /// is none.
    pub fn arp_get(&self, addr: Ipv4Addr, dev: &IfName) -> Result<(i32, [u8; 6])> {
        let r = self.arp_call(SIOCGARP, &arpreq(addr, None, 0, dev), Access::Read)?;
        let mut mac = [0u8; 6];
        for (d, s) in mac.iter_mut().zip(r.arp_ha.sa_data) {
            *d = s as u8;
        }
        Ok((r.arp_flags, mac))
    }

    fn arp_call(
        &self,
        req: (libc::c_ulong, &'static str),
        r: &libc::arpreq,
        access: Access,
    ) -> Result<libc::arpreq> {
        let mut r = *r;
        let dev: Vec<u8> = r
            .arp_dev
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        let dev = String::from_utf8_lossy(&dev).into_owned();
        let addr = Ipv4Addr::from(std::array::from_fn::<u8, 4, _>(|i| {
            r.arp_pa.sa_data[2 + i] as u8
        }));
        let mac: Vec<u8> = r.arp_ha.sa_data[..6].iter().map(|&c| c as u8).collect();
        let shown = format_args!(
            "{{arp_pa={addr}, arp_ha={{sa_family={}, {}}}, arp_flags={}, arp_dev=\"{dev}\"}}",
            if r.arp_ha.sa_family == libc::ARPHRD_ETHER {
                "ARPHRD_ETHER"
            } else {
                "0"
            },
            crate::ifname::mac(&mac),
            flag_names(r.arp_flags),
        );
        let object = format!("{addr} dev {dev}");
        // SAFETY: r is a complete struct arpreq owned by this frame for the whole call; the
        // kernel reads it (and for SIOCGARP writes it back in place).
        unsafe {
            self.call(
                req,
                (&mut r as *mut libc::arpreq).cast(),
                access,
                &object,
                shown,
            )
        }?;
        Ok(r)
    }
}
