//! What the core asks of a netlink family, and the protocols a socket speaks. The core
//! (socket, msg, attr, space, decode) knows no family: a family (rtnetlink, nf_tables,
//! conntrack) implements [`Family`], a [`Protocol`] lists the families one socket protocol
//! carries, and the socket and `--explain` ask the protocol. Families import the core, never
//! the other way.

use super::space::Def;
use super::{
    NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_APPEND, NLM_F_CAPPED,
    NLM_F_CREATE, NLM_F_DUMP_FILTERED, NLM_F_DUMP_INTR, NLM_F_ECHO, NLM_F_EXCL, NLM_F_MATCH,
    NLM_F_MULTI, NLM_F_REPLACE, NLM_F_REQUEST, NLM_F_ROOT,
};

/// A netlink family: its message types, by name, and how each is laid out.
pub trait Family: Sync {
    /// Whether message type `ty` is this family's (one protocol may carry several:
    /// NETLINK_NETFILTER's subsystems).
    fn owns(&self, ty: u16) -> bool;
    /// The type's name, as the kernel headers spell it.
    fn msg_type_name(&self, ty: u16) -> &'static str;
    /// Whether the type is a GET, whose 0x100.. flags read as ROOT/MATCH/ATOMIC.
    fn is_get(&self, ty: u16) -> bool;
    /// The family header of a message of type `ty`, shown, with its length; and the attribute
    /// space that follows it.
    fn layout(&self, ty: u16, payload: &[u8]) -> (Option<(String, usize)>, &'static [Def]);
}

/// A socket protocol (`NETLINK_ROUTE`, `NETLINK_NETFILTER`) and the families it carries, asked
/// in order.
pub struct Protocol {
    pub number: i32,
    pub families: &'static [&'static dyn Family],
}

impl Protocol {
    fn family(&self, ty: u16) -> Option<&'static dyn Family> {
        self.families.iter().find(|f| f.owns(ty)).copied()
    }

    /// The name of a message type, as the kernel headers spell it.
    pub fn msg_type_name(&self, ty: u16) -> &'static str {
        match ty {
            NLMSG_NOOP => "NLMSG_NOOP",
            NLMSG_ERROR => "NLMSG_ERROR",
            NLMSG_DONE => "NLMSG_DONE",
            _ => self
                .family(ty)
                .map_or("netlink message", |f| f.msg_type_name(ty)),
        }
    }

    /// The family header and attribute space of a message (none for a type no family owns).
    pub fn layout(&self, ty: u16, payload: &[u8]) -> (Option<(String, usize)>, &'static [Def]) {
        self.family(ty)
            .map_or((None, &[][..]), |f| f.layout(ty, payload))
    }

    /// `REQUEST|ACK|EXCL|CREATE`: the flags, named for the kind of request they are on.
    pub fn flag_names(&self, ty: u16, flags: u16) -> String {
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
            _ if self.family(ty).is_some_and(|f| f.is_get(ty)) => &[
                (NLM_F_ROOT, "ROOT"),
                (NLM_F_MATCH, "MATCH"),
                (0x400, "ATOMIC"),
            ],
            _ => &[
                (NLM_F_REPLACE, "REPLACE"),
                (NLM_F_EXCL, "EXCL"),
                (NLM_F_CREATE, "CREATE"),
                (NLM_F_APPEND, "APPEND"),
            ],
        };
        let mut names: Vec<&str> = Vec::new();
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
}
