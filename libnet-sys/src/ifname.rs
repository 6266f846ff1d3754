//! Interface names, checked the way the kernel's `dev_valid_name()` checks them, but before
//! anything is sent: a name that is too long is an error here, never silently cut to 15 bytes
//! (the ioctl path copies only `IFNAMSIZ - 1` bytes, so `brctl delbr` of a 16-byte name would
//! delete the bridge named by its first 15).

use crate::error::{Error, Result};
use std::fmt;

/// `IFNAMSIZ` from <linux/if.h>, the terminating NUL included.
pub const IFNAMSIZ: usize = libc::IFNAMSIZ;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IfName {
    len: u8,
    bytes: [u8; IFNAMSIZ],
}

impl IfName {
    pub fn new(name: &str) -> Result<IfName> {
        Self::from_bytes(name.as_bytes())
    }

    pub fn from_bytes(name: &[u8]) -> Result<IfName> {
        let shown = || String::from_utf8_lossy(name).into_owned();
        if name.is_empty() {
            return Err(Error::invalid("\"\"", "an interface name cannot be empty"));
        }
        if name.len() > IFNAMSIZ - 1 {
            return Err(Error::invalid(
                shown(),
                format!(
                    "name is {} bytes; interface names are at most {} bytes",
                    name.len(),
                    IFNAMSIZ - 1
                ),
            ));
        }
        if name == b"." || name == b".." {
            return Err(Error::invalid(
                shown(),
                "\".\" and \"..\" are not interface names",
            ));
        }
        if let Some(&c) = name
            .iter()
            .find(|&&c| c == b'/' || c == b':' || c == b'%' || c == 0 || c.is_ascii_whitespace())
        {
            let what = match c {
                b'/' => "'/'",
                b':' => "':'",
                // The kernel takes a name with '%' as a template (dev_alloc_name: br%d makes
                // br0), so the interface made or renamed would not be the one named.
                b'%' => "'%' (the kernel would take it as a template such as br%d)",
                0 => "a NUL byte",
                _ => "white space",
            };
            return Err(Error::invalid(
                shown(),
                format!("an interface name cannot contain {what}"),
            ));
        }
        let mut bytes = [0u8; IFNAMSIZ];
        bytes[..name.len()].copy_from_slice(name);
        Ok(IfName {
            len: name.len() as u8,
            bytes,
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// NUL-terminated and padded to `IFNAMSIZ`, as `ifr_name` wants it.
    pub fn as_ifr_name(&self) -> &[u8; IFNAMSIZ] {
        &self.bytes
    }

    pub fn as_str(&self) -> &str {
        // Built from &str or checked bytes that the kernel handed us; fall back rather than panic.
        std::str::from_utf8(self.as_bytes()).unwrap_or("?")
    }
}

/// Byte order of the names, as `alphasort` sorts them in the C locale.
impl Ord for IfName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl PartialOrd for IfName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

impl fmt::Debug for IfName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IfName({self})")
    }
}

/// An Ethernet address a device may take: six bytes, not multicast (the low bit of the first
/// byte, which also covers broadcast) and not all zero, as the kernel's `is_valid_ether_addr()`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    /// `02:00:00:00:00:01` (one or two hex digits a byte, `:` or `-` between them).
    pub fn parse(s: &str) -> Result<Mac> {
        let m = Mac::parse_any(s)?;
        let bad =
            |why: &str| Error::invalid(s.to_string(), format!("bad MAC address '{s}': {why}"));
        if m[0] & 1 != 0 {
            return Err(bad(
                "it is a multicast address (the first byte is odd); a device needs a unicast one",
            ));
        }
        if m == [0; 6] {
            return Err(bad("all zero is not a device address"));
        }
        Ok(Mac(m))
    }

    /// Six bytes written as [`Mac::parse`] reads them, any address (all zeros, multicast):
    /// for the places that take those, such as a VXLAN device's flooding entry.
    pub fn parse_any(s: &str) -> Result<[u8; 6]> {
        let bad =
            |why: &str| Error::invalid(s.to_string(), format!("bad MAC address '{s}': {why}"));
        let parts: Vec<&str> = s.split([':', '-']).collect();
        if parts.len() != 6 {
            return Err(bad("expected six bytes, as 02:00:00:00:00:01"));
        }
        let mut m = [0u8; 6];
        for (b, p) in m.iter_mut().zip(&parts) {
            if p.is_empty() || p.len() > 2 || !p.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad(&format!("'{p}' is not a hex byte")));
            }
            *b = u8::from_str_radix(p, 16).map_err(|_| bad("not hex"))?;
        }
        Ok(m)
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mac(&self.0))
    }
}

/// A link-layer address of any length as text, `0a:6f:ba:97:54:6d`: the one formatter of MAC
/// addresses (a bridge id's is [`crate::bridge::BridgeId`]'s `Display`).
pub fn mac(m: &[u8]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_unicast_six_bytes() {
        assert_eq!(
            Mac::parse("02:00:00:00:00:0a").unwrap().to_string(),
            "02:00:00:00:00:0a"
        );
        assert_eq!(Mac::parse("2-0-0-0-0-A").unwrap().0, [2, 0, 0, 0, 0, 0xa]);
        for bad in [
            "",
            "02:00:00:00:00",
            "02:00:00:00:00:00:00",
            "01:00:5e:00:00:01",
            "ff:ff:ff:ff:ff:ff",
            "00:00:00:00:00:00",
            "02:00:00:00:00:0g",
            "02:00:00:00:00:100",
        ] {
            assert!(Mac::parse(bad).unwrap_err().is_invalid(), "{bad:?}");
        }
    }

    #[test]
    fn accepts_what_the_kernel_accepts() {
        for ok in ["br0", "averyveryverylo", "x*", "-x", "é", "Bz"] {
            assert_eq!(IfName::new(ok).unwrap().as_str(), ok);
        }
        assert_eq!(IfName::new("br0").unwrap().as_ifr_name()[3], 0);
        let mut v: Vec<IfName> = ["br2", "br10", "Bz", "averyveryverylo", "br0"]
            .iter()
            .map(|n| IfName::new(n).unwrap())
            .collect();
        v.sort();
        let sorted: Vec<&str> = v.iter().map(|n| n.as_str()).collect();
        assert_eq!(sorted, ["Bz", "averyveryverylo", "br0", "br10", "br2"]);
    }

    #[test]
    fn rejects_rather_than_truncates() {
        let e = IfName::new("0123456789abcdefXYZ").unwrap_err();
        assert_eq!(
            e.to_string(),
            "0123456789abcdefXYZ: name is 19 bytes; interface names are at most 15 bytes"
        );
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "ab:c",
            "a b",
            "a\tb",
            "a\0b",
            "0123456789abcdef",
        ] {
            assert!(IfName::new(bad).unwrap_err().is_invalid(), "{bad:?}");
        }
    }
}
