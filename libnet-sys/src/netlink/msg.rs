//! Building netlink messages: a header, a fixed family header, then attributes, written top to
//! bottom in the order `--explain` prints them:
//!
//! ```text
//!   Msg::new(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE)
//!       .header(&IfInfoMsg::default())          // struct ifinfomsg
//!       .str(IFLA_IFNAME, "br0")                 // rtattr {len, type} "br0\0" + pad
//!       .nest(IFLA_LINKINFO, |m| m.str(IFLA_INFO_KIND, "bridge"))
//! ```
//!
//! Every attribute is padded to 4 bytes (`NLA_ALIGNTO`); a nest's length is patched when its
//! closure returns, so a nest can't be left open. Numbers are host order unless written with a
//! `be*` method (nf_tables wants network order).

use super::{NLA_ALIGNTO, NLA_TYPE_MASK, NLMSG_HDRLEN};

/// A netlink message under construction. The sequence number and port id are filled in by
/// the socket that sends it.
#[derive(Clone, Debug)]
pub struct Msg {
    buf: Vec<u8>,
    /// The first attribute too long for its 16-bit length (type, bytes): the message is
    /// refused by [`Msg::check`] before it is sent, never sent with a wrapped length.
    oversized: Option<(u16, usize)>,
}

/// Plain-old-data headers that go on the wire as they lie in memory (`ifinfomsg`, `ndmsg`...).
///
/// # Safety
/// Implementors must be `#[repr(C)]`, without padding bytes, valid for any bit pattern.
pub unsafe trait Pod: Copy {}

pub fn as_bytes<T: Pod>(v: &T) -> &[u8] {
    // SAFETY: Pod types are repr(C) without padding, so every byte is initialised.
    unsafe { std::slice::from_raw_parts((v as *const T).cast::<u8>(), std::mem::size_of::<T>()) }
}

/// Reads a Pod header from the start of `b`, if it is long enough.
pub fn from_bytes<T: Pod>(b: &[u8]) -> Option<T> {
    if b.len() < std::mem::size_of::<T>() {
        return None;
    }
    // SAFETY: length checked; Pod types are valid for any bit pattern; read_unaligned copes
    // with any alignment.
    Some(unsafe { std::ptr::read_unaligned(b.as_ptr().cast::<T>()) })
}

pub const fn align(n: usize) -> usize {
    (n + NLA_ALIGNTO - 1) & !(NLA_ALIGNTO - 1)
}

impl Msg {
    pub fn new(ty: u16, flags: u16) -> Msg {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&(NLMSG_HDRLEN as u32).to_ne_bytes());
        buf.extend_from_slice(&ty.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&[0; 8]); // nlmsg_seq, nlmsg_pid: set by the socket
        Msg {
            buf,
            oversized: None,
        }
    }

    /// An attribute's `nla_len`, or a note that it does not fit (see [`Msg::check`]).
    fn attr_len(&mut self, ty: u16, len: usize) -> u16 {
        u16::try_from(len).unwrap_or_else(|_| {
            self.oversized.get_or_insert((ty & NLA_TYPE_MASK, len));
            0
        })
    }

    /// Refuses a message with an attribute longer than `nla_len` can say (65535 bytes).
    pub fn check(&self) -> crate::error::Result<()> {
        match self.oversized {
            Some((ty, len)) => Err(crate::error::Error::invalid(
                format!("netlink attribute type {ty}"),
                format!("{len} bytes is more than a netlink attribute holds (65535)"),
            )),
            None => Ok(()),
        }
    }

    /// The family header (`struct ifinfomsg`, `struct ndmsg`, `struct nfgenmsg`...).
    pub fn header<T: Pod>(mut self, h: &T) -> Msg {
        self.put(as_bytes(h));
        self
    }

    pub fn bytes(mut self, ty: u16, v: &[u8]) -> Msg {
        let len = self.attr_len(ty, 4 + v.len());
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.put(v);
        self
    }

    pub fn u8(self, ty: u16, v: u8) -> Msg {
        self.bytes(ty, &[v])
    }
    pub fn u16(self, ty: u16, v: u16) -> Msg {
        self.bytes(ty, &v.to_ne_bytes())
    }
    pub fn u32(self, ty: u16, v: u32) -> Msg {
        self.bytes(ty, &v.to_ne_bytes())
    }
    pub fn u64(self, ty: u16, v: u64) -> Msg {
        self.bytes(ty, &v.to_ne_bytes())
    }
    pub fn be16(self, ty: u16, v: u16) -> Msg {
        self.bytes(ty, &v.to_be_bytes())
    }
    pub fn be32(self, ty: u16, v: u32) -> Msg {
        self.bytes(ty, &v.to_be_bytes())
    }
    pub fn be64(self, ty: u16, v: u64) -> Msg {
        self.bytes(ty, &v.to_be_bytes())
    }
    /// A NUL-terminated string (`NLA_NUL_STRING` / `NLA_STRING` both accept it).
    pub fn str(mut self, ty: u16, v: &str) -> Msg {
        let len = self.attr_len(ty, 4 + v.len() + 1);
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(v.as_bytes());
        self.put(&[0]);
        self
    }
    pub fn flag(self, ty: u16) -> Msg {
        self.bytes(ty, &[])
    }

    /// A nested attribute. `ty` carries `NLA_F_NESTED` when the family wants it (nf_tables,
    /// `IFLA_PROTINFO` on AF_BRIDGE); rtnetlink's older nests go without, as iproute2 sends them.
    pub fn nest(mut self, ty: u16, f: impl FnOnce(Msg) -> Msg) -> Msg {
        let start = self.buf.len();
        self.buf.extend_from_slice(&[0, 0]);
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        let mut m = f(self);
        let len = m.attr_len(ty, m.buf.len() - start);
        m.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        m
    }

    fn put(&mut self, v: &[u8]) {
        self.buf.extend_from_slice(v);
        self.buf.resize(align(self.buf.len()), 0);
    }

    /// The finished bytes, `nlmsg_len` set, with this sequence number and port id.
    pub fn finish(mut self, seq: u32, pid: u32) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.buf[12..16].copy_from_slice(&pid.to_ne_bytes());
        self.buf
    }

    pub fn flags(&self) -> u16 {
        u16::from_ne_bytes([self.buf[6], self.buf[7]])
    }

    pub fn msg_type(&self) -> u16 {
        u16::from_ne_bytes([self.buf[4], self.buf[5]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attribute_past_65535_bytes_is_refused_not_wrapped() {
        assert!(Msg::new(16, 0).bytes(1, &[0; 65531]).check().is_ok());
        let e = Msg::new(16, 0).bytes(3, &[0; 65532]).check().unwrap_err();
        assert!(e.to_string().contains("attribute type 3"), "{e}");
        let long = "x".repeat(70_000);
        assert!(Msg::new(16, 0).str(3, &long).check().is_err());
        // A nest whose contents push it past the limit, each attribute within it fine.
        let nest = Msg::new(16, 0).nest(18 | super::super::NLA_F_NESTED, |m| {
            m.bytes(1, &[0; 40_000]).bytes(2, &[0; 40_000])
        });
        let e = nest.check().unwrap_err();
        assert!(e.to_string().contains("attribute type 18"), "{e}");
    }
}
