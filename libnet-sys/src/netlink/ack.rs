//! The kernel's answer to a request: `NLMSG_ERROR` (an ack when its error is 0) or
//! `NLMSG_DONE`, with the extended-ack TLVs (<linux/netlink.h>: `NLMSGERR_ATTR_*`).

use super::attr::{attrs, MsgRef};
use super::{
    NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS, NLMSG_DONE, NLMSG_HDRLEN, NLM_F_ACK_TLVS, NLM_F_CAPPED,
};
use crate::error::{Error, Result};

/// The errno (positive, 0 for an ack), the extended-ack message and the offset of the offending
/// attribute in our request, from an `NLMSG_ERROR` or `NLMSG_DONE` payload.
pub fn parse_error(m: &MsgRef) -> Result<(i32, Option<String>, Option<u32>)> {
    let code = match m.payload.get(..4) {
        Some(b) => i32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
        // An old-style NLMSG_DONE may carry nothing at all.
        None if m.ty == NLMSG_DONE => return Ok((0, None, None)),
        None => {
            return Err(Error::malformed(
                "NLMSG_ERROR",
                "the error code is cut short",
            ))
        }
    };
    let mut tlvs: &[u8] = &[];
    if m.flags & NLM_F_ACK_TLVS != 0 {
        tlvs = if m.ty == NLMSG_DONE {
            &m.payload[4..]
        } else {
            // The request's own header follows; its payload too unless the kernel capped it.
            let inner = m.payload.get(4..).unwrap_or(&[]);
            let skip = if m.flags & NLM_F_CAPPED != 0 {
                NLMSG_HDRLEN
            } else {
                inner
                    .get(..4)
                    .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize)
                    .unwrap_or(0)
            };
            inner
                .get(super::msg::align(skip)..)
                .ok_or_else(|| Error::malformed("NLMSG_ERROR", "the echoed request is cut short"))?
        };
    }
    let (mut msg, mut offs) = (None, None);
    for a in attrs(tlvs) {
        let a = a?;
        match a.ty {
            NLMSGERR_ATTR_MSG => msg = Some(String::from_utf8_lossy(a.str_bytes()).into_owned()),
            NLMSGERR_ATTR_OFFS => offs = Some(a.u32()?),
            _ => {}
        }
    }
    if code > 0 {
        return Err(Error::malformed(
            "NLMSG_ERROR",
            format!("a positive error code ({code})"),
        ));
    }
    Ok((
        code.checked_neg().unwrap_or(libc::EINVAL),
        msg.filter(|s| !s.is_empty()),
        offs,
    ))
}
