//! Netlink, hand-rolled. The core knows no family: messages and attributes ([`msg`],
//! [`attr`]), acks and errors ([`ack`]), attribute spaces declared once ([`space`]), the socket with acks, extended acks,
//! dumps and multi-message datagrams ([`socket`]), a decoder that prints any message by name
//! ([`decode`]), and what it asks of a family ([`family`]). The families import the core:
//! [`rtnl`] (NETLINK_ROUTE), [`nft`] (nf_tables, with its batches) and [`ctnetlink`]
//! (conntrack), the last two on NETLINK_NETFILTER ([`nfnetlink`]).

pub mod ack;
pub mod attr;
pub mod ctnetlink;
pub mod decode;
pub mod family;
pub mod msg;
pub mod nfnetlink;
pub mod nft;
pub mod rtnl;
pub mod socket;
pub mod space;

pub use attr::{attrs, messages, Attr, MsgRef};
pub use family::{Family, Protocol};
pub use msg::Msg;
pub use socket::NlSocket;

// <linux/netlink.h>
pub const NETLINK_ROUTE: i32 = 0;
pub const SOL_NETLINK: i32 = 270;
pub const NETLINK_EXT_ACK: i32 = 11;
pub const NETLINK_GET_STRICT_CHK: i32 = 12;

pub const NLMSG_HDRLEN: usize = 16;
pub const NLA_ALIGNTO: usize = 4;

pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;

pub const NLM_F_REQUEST: u16 = 0x01;
pub const NLM_F_MULTI: u16 = 0x02;
pub const NLM_F_ACK: u16 = 0x04;
pub const NLM_F_ECHO: u16 = 0x08;
pub const NLM_F_DUMP_INTR: u16 = 0x10;
pub const NLM_F_DUMP_FILTERED: u16 = 0x20;
// GET requests
pub const NLM_F_ROOT: u16 = 0x100;
pub const NLM_F_MATCH: u16 = 0x200;
pub const NLM_F_DUMP: u16 = NLM_F_ROOT | NLM_F_MATCH;
// NEW requests
pub const NLM_F_REPLACE: u16 = 0x100;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;
pub const NLM_F_APPEND: u16 = 0x800;
// acks
pub const NLM_F_CAPPED: u16 = 0x100;
pub const NLM_F_ACK_TLVS: u16 = 0x200;

pub const NLA_F_NESTED: u16 = 1 << 15;
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

pub const NLMSGERR_ATTR_MSG: u16 = 1;
pub const NLMSGERR_ATTR_OFFS: u16 = 2;
