//! Building entries: the fixed `struct ipt_ip` (`struct ip6t_ip6`) match and the match and
//! target records natctl uses, laid out as iptables 1.8 lays them out, so that
//! `iptables-legacy-save` and `ip6tables-legacy-save` print them back as `-p tcp -m tcp
//! --dport 8080`, `-j DNAT --to-destination 10.88.0.2:80`.

use super::{record, Abi, Entry, Ip6tIp6, IptIp, Target};
use crate::error::{Error, Result};
use crate::ifname::IFNAMSIZ;
use crate::netlink::nft::expr::{NF_NAT_RANGE_MAP_IPS, NF_NAT_RANGE_PROTO_SPECIFIED};
use std::mem::offset_of;
use std::net::{IpAddr, Ipv4Addr};

// linux/netfilter_ipv4/ip_tables.h: ipt_ip.invflags (ip6_tables.h: IP6T_INV_*, the same)
const IPT_INV_VIA_OUT: u8 = 0x02;
const IPT_INV_DSTIP: u8 = 0x10;
// linux/netfilter_ipv6/ip6_tables.h: ip6t_ip6.flags; without it the protocol is not looked at.
const IP6T_F_PROTO: u8 = 0x01;

/// `linux/netfilter/xt_comment.h`: XT_MAX_COMMENT_LEN, the terminating NUL included.
pub const XT_MAX_COMMENT_LEN: usize = 256;

/// What a rule matches in its `struct ipt_ip` (`struct ip6t_ip6`): addresses with prefix lengths,
/// interfaces (the out one possibly negated, Docker's `! -o docker0`), protocol. The addresses
/// are of the ABI's family.
pub struct IpMatch<'a> {
    pub abi: Abi,
    pub src: Option<(IpAddr, u8)>,
    pub dst: Option<(IpAddr, u8)>,
    /// `! -d`: every destination but `dst`.
    pub not_dst: bool,
    pub iniface: Option<&'a str>,
    pub outiface: Option<(&'a str, bool)>,
    pub proto: u8,
}

impl IpMatch<'_> {
    /// Nothing matched, in `abi`.
    pub fn any(abi: Abi) -> IpMatch<'static> {
        IpMatch {
            abi,
            src: None,
            dst: None,
            not_dst: false,
            iniface: None,
            outiface: None,
            proto: 0,
        }
    }
}

/// An address and its prefix's mask, in network order.
fn addr_mask(a: IpAddr, prefix: u8) -> (Vec<u8>, Vec<u8>) {
    match a {
        IpAddr::V4(a) => {
            let m = u32::MAX.checked_shl(32 - prefix as u32).unwrap_or(0);
            (a.octets().to_vec(), m.to_be_bytes().to_vec())
        }
        IpAddr::V6(a) => {
            let m = u128::MAX.checked_shl(128 - prefix as u32).unwrap_or(0);
            (a.octets().to_vec(), m.to_be_bytes().to_vec())
        }
    }
}

/// Where `struct ipt_ip`'s (`struct ip6t_ip6`'s) fields after the addresses are.
struct Fields {
    iniface: usize,
    outiface: usize,
    iniface_mask: usize,
    outiface_mask: usize,
    proto: usize,
    flags: usize,
    invflags: usize,
}

/// The two kernel structs' offsets, by their field names.
macro_rules! fields_of {
    ($t:ty) => {
        Fields {
            iniface: offset_of!($t, iniface),
            outiface: offset_of!($t, outiface),
            iniface_mask: offset_of!($t, iniface_mask),
            outiface_mask: offset_of!($t, outiface_mask),
            proto: offset_of!($t, proto),
            flags: offset_of!($t, flags),
            invflags: offset_of!($t, invflags),
        }
    };
}

/// `v` in a fixed-size field, zero-padded (or cut to the field).
fn field<const N: usize>(v: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    let n = v.len().min(N);
    a[..n].copy_from_slice(&v[..n]);
    a
}

/// An interface name and its mask: the match is on the name and its NUL, so the mask covers
/// strlen + 1 bytes.
fn iface(name: Option<&str>) -> ([u8; IFNAMSIZ], [u8; IFNAMSIZ]) {
    let name = name.unwrap_or_default();
    let mut mask = [0u8; IFNAMSIZ];
    if !name.is_empty() {
        mask[..(name.len() + 1).min(IFNAMSIZ)].fill(0xff);
    }
    (field(name.as_bytes()), mask)
}

impl IpMatch<'_> {
    /// The `struct ipt_ip` (`struct ip6t_ip6`) bytes of the match.
    pub fn bytes(&self) -> Vec<u8> {
        let am = |f: Option<(IpAddr, u8)>| f.map(|(a, p)| addr_mask(a, p)).unwrap_or_default();
        let ((src, smsk), (dst, dmsk)) = (am(self.src), am(self.dst));
        let (iniface, iniface_mask) = iface(self.iniface);
        let (outiface, outiface_mask) = iface(self.outiface.map(|(o, _)| o));
        let mut invflags = 0;
        if self.outiface.is_some_and(|(_, negated)| negated) {
            invflags |= IPT_INV_VIA_OUT;
        }
        if self.not_dst {
            invflags |= IPT_INV_DSTIP;
        }
        // The two structs differ in their addresses' length and IPv6's `tos` byte: the same
        // fields, placed by the struct of the ABI.
        let (alen, at) = match self.abi {
            Abi::V4 => (4, fields_of!(IptIp)),
            Abi::V6 => (16, fields_of!(Ip6tIp6)),
        };
        let mut b = vec![0u8; self.abi.ip_len()];
        for (i, v) in [src, dst, smsk, dmsk].iter().enumerate() {
            b[i * alen..(i + 1) * alen].copy_from_slice(&field::<16>(v)[..alen]);
        }
        for (off, v) in [
            (at.iniface, iniface),
            (at.outiface, outiface),
            (at.iniface_mask, iniface_mask),
            (at.outiface_mask, outiface_mask),
        ] {
            b[off..off + IFNAMSIZ].copy_from_slice(&v);
        }
        b[at.proto..at.proto + 2].copy_from_slice(&u16::from(self.proto).to_ne_bytes());
        if self.abi == Abi::V6 && self.proto != 0 {
            b[at.flags] = IP6T_F_PROTO;
        }
        b[at.invflags] = invflags;
        b
    }
}

/// `-m tcp --dport A[:B]` or `-m udp ...` (`struct xt_tcp` / `xt_udp`; ports in host order).
pub fn dport(proto: u8, first: u16, last: u16) -> Vec<u8> {
    let mut d = Vec::with_capacity(12);
    for p in [0, u16::MAX, first, last] {
        d.extend_from_slice(&p.to_ne_bytes());
    }
    // tcp: option, flg_mask, flg_cmp, invflags; udp: invflags (and padding).
    d.extend_from_slice(if proto == 6 { &[0; 4] } else { &[0; 2] });
    record(if proto == 6 { "tcp" } else { "udp" }, 0, &d)
}

/// `-m addrtype --dst-type LOCAL` (`struct xt_addrtype_info_v1`: dest = 1 << RTN_LOCAL).
pub fn dst_type_local() -> Vec<u8> {
    let mut d = [0u8; 8];
    d[2..4].copy_from_slice(&(1u16 << libc::RTN_LOCAL).to_ne_bytes());
    record("addrtype", 1, &d)
}

/// `-m comment --comment TEXT`; longer than the kernel keeps is refused, not cut.
pub fn comment(text: &str) -> Result<Vec<u8>> {
    if text.len() >= XT_MAX_COMMENT_LEN || text.contains('\0') {
        return Err(Error::invalid(
            text.to_string(),
            format!(
                "an xtables comment holds at most {} bytes",
                XT_MAX_COMMENT_LEN - 1
            ),
        ));
    }
    let mut d = [0u8; XT_MAX_COMMENT_LEN];
    d[..text.len()].copy_from_slice(text.as_bytes());
    Ok(record("comment", 0, &d))
}

/// `struct nf_nat_ipv4_multi_range_compat` with one range: MASQUERADE's and SNAT's revision 0.
fn compat_range(flags: u32, addr: Ipv4Addr) -> [u8; 24] {
    let mut d = [0u8; 24];
    d[..4].copy_from_slice(&1u32.to_ne_bytes());
    d[4..8].copy_from_slice(&flags.to_ne_bytes());
    d[8..12].copy_from_slice(&addr.octets());
    d[12..16].copy_from_slice(&addr.octets());
    d
}

/// `struct nf_nat_range` (40 bytes) or `nf_nat_range2` (44): flags, min and max address (16
/// bytes each, an IPv4 one in the first 4), min and max port in network order.
fn range(len: usize, flags: u32, addr: IpAddr, port: Option<u16>) -> Vec<u8> {
    let mut d = vec![0u8; len];
    d[..4].copy_from_slice(&flags.to_ne_bytes());
    let a = match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    d[4..4 + a.len()].copy_from_slice(&a);
    d[20..20 + a.len()].copy_from_slice(&a);
    if let Some(p) = port {
        d[36..38].copy_from_slice(&p.to_be_bytes());
        d[38..40].copy_from_slice(&p.to_be_bytes());
    }
    d
}

/// `-j MASQUERADE`: IPv4's revision 0 (one empty compat range), IPv6's revision 0 (an empty
/// `nf_nat_range`).
pub fn masquerade(abi: Abi) -> Target {
    Target::Ext(match abi {
        Abi::V4 => record("MASQUERADE", 0, &compat_range(0, Ipv4Addr::UNSPECIFIED)),
        Abi::V6 => record("MASQUERADE", 0, &[0u8; 40]),
    })
}

/// `-j SNAT --to-source ADDR`: for IPv4 revision 0, the one iptables 1.8 uses (it prints a
/// later one as "unsupported revision", and cannot restore it); for IPv6 revision 1
/// (`nf_nat_range`), ip6tables' own.
pub fn snat(addr: IpAddr) -> Target {
    Target::Ext(match addr {
        IpAddr::V4(a) => record("SNAT", 0, &compat_range(NF_NAT_RANGE_MAP_IPS, a)),
        IpAddr::V6(_) => record("SNAT", 1, &range(40, NF_NAT_RANGE_MAP_IPS, addr, None)),
    })
}

/// `-j DNAT --to-destination ADDR:PORT` (revision 2: `struct nf_nat_range2`, ports in network
/// order), either family.
pub fn dnat(addr: IpAddr, port: u16) -> Target {
    let flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED;
    Target::Ext(record("DNAT", 2, &range(44, flags, addr, Some(port))))
}

/// A new entry (no counters, no place in any table read).
pub fn entry(ip: &IpMatch, matches: Vec<u8>, target: Target) -> Entry {
    Entry {
        ip: ip.bytes(),
        matches,
        target,
        counters: [0; 2],
        origin: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_iptables() {
        // nat-anchors.md 3.3: tcp 48, addrtype 40, comment 288, MASQUERADE 56, DNAT 80.
        assert_eq!(dport(6, 8080, 8080).len(), 48);
        assert_eq!(dport(17, 53, 53).len(), 48);
        assert_eq!(dst_type_local().len(), 40);
        assert_eq!(comment("x").unwrap().len(), 288);
        let size = |t: Target| match t {
            Target::Ext(b) => b.len(),
            _ => 0,
        };
        assert_eq!(size(masquerade(Abi::V4)), 56);
        assert_eq!(size(masquerade(Abi::V6)), 72);
        assert_eq!(size(dnat(Ipv4Addr::new(10, 88, 0, 2).into(), 80)), 80);
        assert_eq!(size(dnat("fd00::2".parse().unwrap(), 80)), 80);
        assert_eq!(size(snat(Ipv4Addr::new(192, 0, 2, 1).into())), 56);
        assert_eq!(size(snat("fd00::1".parse().unwrap())), 72);
        assert!(comment(&"x".repeat(256)).is_err());
    }

    #[test]
    fn interface_mask_covers_the_nul() {
        let b = IpMatch {
            outiface: Some(("br0", true)),
            ..IpMatch::any(Abi::V4)
        }
        .bytes();
        assert_eq!(&b[32..36], b"br0\0");
        assert_eq!(&b[64..69], &[0xff, 0xff, 0xff, 0xff, 0]);
        assert_eq!(b[83], IPT_INV_VIA_OUT);
        let b = IpMatch {
            outiface: Some(("br0", true)),
            proto: 6,
            ..IpMatch::any(Abi::V6)
        }
        .bytes();
        assert_eq!(b.len(), 136);
        assert_eq!(&b[80..84], b"br0\0");
        assert_eq!(&b[112..117], &[0xff, 0xff, 0xff, 0xff, 0]);
        assert_eq!((b[128], b[131], b[132]), (6, IP6T_F_PROTO, IPT_INV_VIA_OUT));
    }
}
