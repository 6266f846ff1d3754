//! `/proc/net/arp`: the IPv4 neighbour table as net-tools' `arp -n` reads it, the ioctl path's
//! only listing (`SIOCGARP` looks up one address at a time).
//!
//! Like every file under `/proc/net`, it shows the reader's network namespace. The kernel
//! (net/ipv4/arp.c, `arp_seq_show`) writes one line per entry, neighbours first, then proxy
//! entries, and skips `NUD_NOARP` ones:
//!
//! ```text
//! IP address       HW type     Flags       HW address            Mask     Device
//! 198.51.100.7     0x1         0x6         02:00:00:00:00:07     *        va
//! 198.51.100.8     0x1         0xc         00:00:00:00:00:00     *        va
//! ```
//!
//! `Flags` are `ATF_COM` (a valid address: any `NUD_VALID` state), `ATF_PERM`
//! (`NUD_PERMANENT`) and `ATF_PUBL` (a proxy entry, always shown with `ATF_PERM`).

use super::read;
use crate::error::{Error, Result};
use crate::trace::Trace;
use std::net::Ipv4Addr;

pub const PROC_NET_ARP: &str = "/proc/net/arp";

/// One line of `/proc/net/arp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArpRow {
    pub addr: Ipv4Addr,
    /// `ARPHRD_*` of the device (1 = Ethernet).
    pub hw_type: u16,
    /// `ATF_*`
    pub flags: i32,
    /// The hardware address; `None` when it is not six bytes (not Ethernet).
    pub mac: Option<[u8; 6]>,
    /// `*` for a proxy entry that names no device.
    pub dev: String,
}

/// Every entry of the file's text. A line that does not parse is an error naming it, never
/// skipped: a listing that quietly leaves an entry out would make `flush` leave it behind.
pub fn parse_proc_net_arp(raw: &[u8]) -> Result<Vec<ArpRow>> {
    let text = std::str::from_utf8(raw)
        .map_err(|_| Error::malformed(format!("read {PROC_NET_ARP}"), "not UTF-8"))?;
    // The kernel ends every line with a newline: a last line without one was cut short.
    if !text.is_empty() && !text.ends_with('\n') {
        return Err(Error::malformed(
            format!("read {PROC_NET_ARP}"),
            "the last line is cut short",
        ));
    }
    let mut lines = text.lines();
    match lines.next() {
        Some(h) if h.starts_with("IP address") => {}
        None => return Ok(Vec::new()),
        Some(h) => {
            return Err(Error::malformed(
                format!("read {PROC_NET_ARP}"),
                format!("unexpected header {h:?}"),
            ))
        }
    }
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            parse_row(line).ok_or_else(|| {
                Error::malformed(format!("read {PROC_NET_ARP}"), format!("line {line:?}"))
            })
        })
        .collect()
}

fn parse_row(line: &str) -> Option<ArpRow> {
    let f: Vec<&str> = line.split_whitespace().collect();
    // A device without a hardware address prints an empty (all-space) field there.
    let (addr, hw, flags, mac, dev) = match f.as_slice() {
        [addr, hw, flags, mac, _mask, dev] => (addr, hw, flags, *mac, dev),
        [addr, hw, flags, mask, dev] if *mask == "*" => (addr, hw, flags, "", dev),
        _ => return None,
    };
    let hex = |s: &str| {
        s.strip_prefix("0x")
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    let bytes: Vec<u8> = mac
        .split(':')
        .filter(|b| !mac.is_empty() || !b.is_empty())
        .map(|b| u8::from_str_radix(b, 16).ok().filter(|_| b.len() == 2))
        .collect::<Option<_>>()?;
    Some(ArpRow {
        addr: addr.parse().ok()?,
        hw_type: u16::try_from(hex(hw)?).ok()?,
        flags: i32::try_from(hex(flags)?).ok()?,
        mac: bytes.try_into().ok(),
        dev: dev.to_string(),
    })
}

/// `/proc/net/arp`, read and parsed (shown under --explain).
pub fn proc_net_arp(trace: &Trace) -> Result<Vec<ArpRow>> {
    parse_proc_net_arp(&read(trace, PROC_NET_ARP)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_kernel_writes() {
        let text =
            b"IP address       HW type     Flags       HW address            Mask     Device\n\
198.51.100.7     0x1         0x6         02:00:00:00:00:07     *        va\n\
198.51.100.20    0x1         0xc         00:00:00:00:00:00     *        *\n";
        let rows = parse_proc_net_arp(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].addr, Ipv4Addr::new(198, 51, 100, 7));
        assert_eq!((rows[0].hw_type, rows[0].flags), (1, 0x6));
        assert_eq!(rows[0].mac, Some([2, 0, 0, 0, 0, 7]));
        assert_eq!((rows[1].flags, rows[1].dev.as_str()), (0xc, "*"));
        assert_eq!(parse_proc_net_arp(b"").unwrap(), Vec::new());
        for bad in [
            &b"IP address\n198.51.100.7 0x1 0x6 02:00:00:00:00:07 *\n"[..],
            b"IP address\n198.51.100.777 0x1 0x6 02:00:00:00:00:07 * va\n",
            b"IP address\n198.51.100.7 1 0x6 02:00:00:00:00:07 * va\n",
            b"IP address\n198.51.100.7 0x1 0x6 02:00:00:00:00:0 * va\n",
            b"garbage\n",
        ] {
            assert!(
                parse_proc_net_arp(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
