//! `RTM_GETNSID` (<linux/net_namespace.h>): the id by which this namespace knows another one.
//! A link whose peer lives elsewhere reports that namespace as `IFLA_LINK_NETNSID`; asking the
//! id of each named namespace (by an open fd) tells which one it is.

use super::*;
use crate::error::{Error, Result};
use crate::netlink::attr::{attrs, MsgRef};
use crate::netlink::msg::Msg;
use crate::netlink::space::attr_table;
use crate::netlink::*;

attr_table! {
    pub(super) NETNSA_ATTRS {
        NETNSA_NSID = 1: U32,
        NETNSA_PID = 2: U32,
        NETNSA_FD = 3: U32,
    }
}

/// `struct rtgenmsg`: one byte of family, padded to four on the wire.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct RtGenMsg {
    pub family: u8,
}
// SAFETY: repr(C), 1 byte, any bit pattern valid.
unsafe impl Pod for RtGenMsg {}

/// `ip netns list-id` for one namespace: the id of the namespace open on `fd`. Answered by one
/// `RTM_NEWNSID` (no ack asked).
pub fn get_nsid(fd: i32) -> Msg {
    Msg::new(RTM_GETNSID, NLM_F_REQUEST)
        .header(&RtGenMsg::default())
        .u32(NETNSA_FD, fd as u32)
}

/// The id in an `RTM_NEWNSID`; `None` when the kernel has given the namespace none (-1).
pub fn parse_nsid(m: &MsgRef) -> Result<Option<i32>> {
    if m.ty != RTM_NEWNSID {
        return Err(Error::malformed(
            "RTM_GETNSID",
            format!("unexpected message type {}", m.ty),
        ));
    }
    for a in attrs(m.payload.get(4..).unwrap_or(&[])) {
        let a = a?;
        if a.ty == NETNSA_NSID {
            let id = a.u32()? as i32;
            return Ok((id >= 0).then_some(id));
        }
    }
    Err(Error::malformed("RTM_NEWNSID", "no NETNSA_NSID"))
}
