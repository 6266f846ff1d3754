//! Building entries: the fixed `struct ipt_ip` match and the match and target records natctl
//! uses, laid out as iptables 1.8 lays them out, so that `iptables-legacy-save` prints them
//! back as `-p tcp -m tcp --dport 8080`, `-j DNAT --to-destination 10.88.0.2:80`.

use super::{record, Entry, Target, IPT_IP};
use crate::error::{Error, Result};
use crate::netlink::nft::expr::{NF_NAT_RANGE_MAP_IPS, NF_NAT_RANGE_PROTO_SPECIFIED};
use std::net::Ipv4Addr;

// linux/netfilter_ipv4/ip_tables.h: ipt_ip.invflags
const IPT_INV_VIA_OUT: u8 = 0x02;

/// `linux/netfilter/xt_comment.h`: XT_MAX_COMMENT_LEN, the terminating NUL included.
pub const XT_MAX_COMMENT_LEN: usize = 256;

/// The `struct ipt_ip` part of a rule: addresses with prefix lengths, interfaces (the out one
/// possibly negated, Docker's `! -o docker0`), protocol.
#[derive(Default)]
pub struct IptIp<'a> {
    pub src: Option<(Ipv4Addr, u8)>,
    pub dst: Option<(Ipv4Addr, u8)>,
    pub iniface: Option<&'a str>,
    pub outiface: Option<(&'a str, bool)>,
    pub proto: u8,
}

fn mask(prefix: u8) -> [u8; 4] {
    u32::MAX
        .checked_shl(32 - prefix as u32)
        .unwrap_or(0)
        .to_be_bytes()
}

impl IptIp<'_> {
    pub fn bytes(&self) -> [u8; IPT_IP] {
        let mut b = [0u8; IPT_IP];
        if let Some((a, p)) = self.src {
            b[0..4].copy_from_slice(&a.octets());
            b[8..12].copy_from_slice(&mask(p));
        }
        if let Some((a, p)) = self.dst {
            b[4..8].copy_from_slice(&a.octets());
            b[12..16].copy_from_slice(&mask(p));
        }
        // An interface matches on its name and NUL: the mask covers strlen + 1 bytes.
        let iface = |b: &mut [u8; IPT_IP], at: usize, name: &str| {
            b[at..at + name.len()].copy_from_slice(name.as_bytes());
            b[at + 32..at + 33 + name.len()].fill(0xff);
        };
        if let Some(i) = self.iniface {
            iface(&mut b, 16, i);
        }
        if let Some((o, negated)) = self.outiface {
            iface(&mut b, 32, o);
            if negated {
                b[83] |= IPT_INV_VIA_OUT;
            }
        }
        b[80..82].copy_from_slice(&(self.proto as u16).to_ne_bytes());
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

/// `-j MASQUERADE` (revision 0, one empty range).
pub fn masquerade() -> Target {
    Target::Ext(record(
        "MASQUERADE",
        0,
        &compat_range(0, Ipv4Addr::UNSPECIFIED),
    ))
}

/// `-j SNAT --to-source ADDR`: revision 0, the one iptables 1.8 uses for IPv4 (it prints a
/// later one as "unsupported revision", and cannot restore it).
pub fn snat(addr: Ipv4Addr) -> Target {
    Target::Ext(record("SNAT", 0, &compat_range(NF_NAT_RANGE_MAP_IPS, addr)))
}

/// `-j DNAT --to-destination ADDR:PORT` (revision 2: `struct nf_nat_range2`, ports in network
/// order).
pub fn dnat(addr: Ipv4Addr, port: u16) -> Target {
    let mut d = [0u8; 44];
    let flags = NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED;
    d[..4].copy_from_slice(&flags.to_ne_bytes());
    d[4..8].copy_from_slice(&addr.octets());
    d[20..24].copy_from_slice(&addr.octets());
    d[36..38].copy_from_slice(&port.to_be_bytes());
    d[38..40].copy_from_slice(&port.to_be_bytes());
    Target::Ext(record("DNAT", 2, &d))
}

/// A new entry (no counters, no place in any table read).
pub fn entry(ip: &IptIp, matches: Vec<u8>, target: Target) -> Entry {
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
        assert_eq!(size(masquerade()), 56);
        assert_eq!(size(dnat(Ipv4Addr::new(10, 88, 0, 2), 80)), 80);
        assert_eq!(size(snat(Ipv4Addr::new(192, 0, 2, 1))), 56);
        assert!(comment(&"x".repeat(256)).is_err());
    }

    #[test]
    fn interface_mask_covers_the_nul() {
        let b = IptIp {
            outiface: Some(("br0", true)),
            ..Default::default()
        }
        .bytes();
        assert_eq!(&b[32..36], b"br0\0");
        assert_eq!(&b[64..69], &[0xff, 0xff, 0xff, 0xff, 0]);
        assert_eq!(b[83], IPT_INV_VIA_OUT);
    }
}
