//! Netlink, hand-rolled: messages and attributes ([`msg`], [`attr`]), the socket with acks,
//! extended acks and dumps ([`socket`]), a decoder that prints any message by name
//! ([`decode`]), attribute spaces declared once ([`space`]), and one module per kernel family: [`rtnl`] (NETLINK_ROUTE), [`nft`]
//! (NETLINK_NETFILTER, nf_tables), [`ctnetlink`] (NETLINK_NETFILTER, conntrack).

pub mod attr;
pub mod ctnetlink;
pub mod decode;
pub mod msg;
pub mod nft;
pub mod rtnl;
pub mod socket;
pub mod space;

pub use attr::{attrs, messages, Attr, MsgRef};
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

/// The name of a message type, as the kernel headers spell it.
pub fn msg_type_name(protocol: i32, ty: u16) -> &'static str {
    match ty {
        NLMSG_NOOP => return "NLMSG_NOOP",
        NLMSG_ERROR => return "NLMSG_ERROR",
        NLMSG_DONE => return "NLMSG_DONE",
        _ => {}
    }
    match protocol {
        NETLINK_ROUTE => rtnl::msg_type_name(ty),
        nft::NETLINK_NETFILTER if ctnetlink::is_ct(ty) => ctnetlink::msg_type_name(ty),
        nft::NETLINK_NETFILTER => nft::msg_type_name(ty),
        _ => "netlink message",
    }
}

/// `REQUEST|ACK|EXCL|CREATE`: the flags, named for the kind of request they are on.
pub fn flag_names(protocol: i32, ty: u16, flags: u16) -> String {
    let mut names: Vec<&str> = Vec::new();
    let common = [
        (NLM_F_REQUEST, "REQUEST"),
        (NLM_F_MULTI, "MULTI"),
        (NLM_F_ACK, "ACK"),
        (NLM_F_ECHO, "ECHO"),
        (NLM_F_DUMP_INTR, "DUMP_INTR"),
        (NLM_F_DUMP_FILTERED, "DUMP_FILTERED"),
    ];
    // The 0x100..0x800 bits mean different things on GET, NEW/SET and ack messages.
    let high: &[(u16, &str)] = match ty {
        NLMSG_ERROR => &[(NLM_F_CAPPED, "CAPPED"), (NLM_F_ACK_TLVS, "ACK_TLVS")],
        _ if (protocol == NETLINK_ROUTE && rtnl::is_get(ty))
            || (protocol == nft::NETLINK_NETFILTER
                && (nft::is_get(ty) || ctnetlink::is_get(ty))) =>
        {
            &[
                (NLM_F_ROOT, "ROOT"),
                (NLM_F_MATCH, "MATCH"),
                (0x400, "ATOMIC"),
            ]
        }
        _ => &[
            (NLM_F_REPLACE, "REPLACE"),
            (NLM_F_EXCL, "EXCL"),
            (NLM_F_CREATE, "CREATE"),
            (NLM_F_APPEND, "APPEND"),
        ],
    };
    let mut rest = flags;
    for &(bit, name) in common.iter().chain(high) {
        if flags & bit != 0 {
            names.push(name);
            rest &= !bit;
        }
    }
    let mut s = names.join("|");
    if rest != 0 {
        if !s.is_empty() {
            s.push('|');
        }
        s.push_str(&format!("{rest:#x}"));
    }
    if s.is_empty() {
        s.push('0');
    }
    s
}
