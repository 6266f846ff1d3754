//! Reading netlink messages and attributes. Every length is checked against what is left, so a
//! truncated or malformed reply is an error, never a panic or an out-of-bounds read.

use super::msg::align;
use super::{NLA_F_NESTED, NLA_TYPE_MASK, NLMSG_HDRLEN};
use crate::error::{Error, Result};

/// One message inside a datagram, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct MsgRef<'a> {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
    /// Everything after the 16-byte `nlmsghdr`.
    pub payload: &'a [u8],
}

/// Splits a datagram into its messages.
pub fn messages(mut buf: &[u8]) -> impl Iterator<Item = Result<MsgRef<'_>>> {
    std::iter::from_fn(move || {
        if buf.is_empty() {
            return None;
        }
        if buf.len() < NLMSG_HDRLEN {
            buf = &[];
            return Some(Err(Error::malformed(
                "netlink",
                "a message header is cut short",
            )));
        }
        let len = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if len < NLMSG_HDRLEN || len > buf.len() {
            buf = &[];
            return Some(Err(Error::malformed(
                "netlink",
                "a message length runs past the datagram",
            )));
        }
        let m = MsgRef {
            ty: u16::from_ne_bytes([buf[4], buf[5]]),
            flags: u16::from_ne_bytes([buf[6], buf[7]]),
            seq: u32::from_ne_bytes([buf[8], buf[9], buf[10], buf[11]]),
            pid: u32::from_ne_bytes([buf[12], buf[13], buf[14], buf[15]]),
            payload: &buf[NLMSG_HDRLEN..len],
        };
        buf = &buf[align(len).min(buf.len())..];
        Some(Ok(m))
    })
}

/// One attribute, borrowed.
#[derive(Clone, Copy, Debug)]
pub struct Attr<'a> {
    /// The type without the `NLA_F_NESTED` / `NLA_F_NET_BYTEORDER` bits.
    pub ty: u16,
    pub nested: bool,
    pub value: &'a [u8],
}

/// Iterates the attributes in `buf` (a message after its fixed header, or a nest's value).
pub fn attrs(mut buf: &[u8]) -> impl Iterator<Item = Result<Attr<'_>>> {
    std::iter::from_fn(move || {
        if buf.len() < 4 {
            // Up to 3 bytes of trailing padding are allowed; anything else is cut short.
            let ok = buf.iter().all(|&b| b == 0);
            buf = &[];
            return if ok {
                None
            } else {
                Some(Err(Error::malformed(
                    "netlink",
                    "an attribute header is cut short",
                )))
            };
        }
        let len = u16::from_ne_bytes([buf[0], buf[1]]) as usize;
        let raw_ty = u16::from_ne_bytes([buf[2], buf[3]]);
        if len < 4 || len > buf.len() {
            buf = &[];
            return Some(Err(Error::malformed(
                "netlink",
                "an attribute length runs past its message",
            )));
        }
        let a = Attr {
            ty: raw_ty & NLA_TYPE_MASK,
            nested: raw_ty & NLA_F_NESTED != 0,
            value: &buf[4..len],
        };
        buf = &buf[align(len).min(buf.len())..];
        Some(Ok(a))
    })
}

impl<'a> Attr<'a> {
    fn fixed<const N: usize>(&self) -> Result<[u8; N]> {
        match self.value.get(..N).and_then(|s| s.try_into().ok()) {
            Some(v) => Ok(v),
            None => Err(self.wrong_size(N)),
        }
    }
    /// Out of line: every typed read of every parser shares this one error path.
    #[cold]
    #[inline(never)]
    fn wrong_size(&self, expected: usize) -> Error {
        Error::malformed(
            "netlink",
            format!(
                "attribute {} is {} bytes, expected {}",
                self.ty,
                self.value.len(),
                expected
            ),
        )
    }
    pub fn u8(&self) -> Result<u8> {
        Ok(self.fixed::<1>()?[0])
    }
    pub fn u16(&self) -> Result<u16> {
        Ok(u16::from_ne_bytes(self.fixed()?))
    }
    pub fn u32(&self) -> Result<u32> {
        Ok(u32::from_ne_bytes(self.fixed()?))
    }
    pub fn u64(&self) -> Result<u64> {
        Ok(u64::from_ne_bytes(self.fixed()?))
    }
    pub fn be16(&self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.fixed()?))
    }
    pub fn be32(&self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.fixed()?))
    }
    pub fn be64(&self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.fixed()?))
    }
    /// An IPv4 or IPv6 address, by its length (4 or 16 bytes).
    pub fn ip(&self) -> Result<std::net::IpAddr> {
        match self.value.len() {
            4 => Ok(std::net::Ipv4Addr::from(self.fixed::<4>()?).into()),
            _ => Ok(std::net::Ipv6Addr::from(self.fixed::<16>()?).into()),
        }
    }
    pub fn array<const N: usize>(&self) -> Result<[u8; N]> {
        self.fixed()
    }
    /// A string attribute, without its terminating NUL.
    pub fn str_bytes(&self) -> &'a [u8] {
        let v = self.value;
        &v[..v.iter().position(|&c| c == 0).unwrap_or(v.len())]
    }
    pub fn nested_attrs(&self) -> impl Iterator<Item = Result<Attr<'a>>> {
        attrs(self.value)
    }
}
