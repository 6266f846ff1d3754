//! nf_tables sets and maps (<linux/netfilter/nf_tables.h>): made once, then changed element
//! by element. An element add or delete is the cheap change the kernel has: unlike a rule, it
//! does not have the commit validate the whole table again, so its cost does not grow with
//! what the set holds. Elements are read back with their user data (a comment) and counters.

use super::super::attr::{attrs, MsgRef};
use super::super::msg::Msg;
use super::super::space::attr_table;
use super::super::*;
use super::expr::{counters, DATA_ATTRS, NFTA_DATA_VALUE};
use super::{comment, expressions, nft_msg, nft_type, udata_comment, NFTA_LIST_ELEM};
use crate::error::{Error, Result};

pub const NFT_MSG_NEWSET: u16 = 9;
pub const NFT_MSG_GETSET: u16 = 10;
pub const NFT_MSG_NEWSETELEM: u16 = 12;
pub const NFT_MSG_GETSETELEM: u16 = 13;
pub const NFT_MSG_DELSETELEM: u16 = 14;
pub const NFT_MSG_GETOBJ: u16 = 19;

// enum nft_set_flags
pub const NFT_SET_MAP: u32 = 0x8;

/// nft's own numbers for the types of a set's keys and data (nftables' `enum datatypes`),
/// kept by the kernel for `nft list` to print the elements with; a concatenation is its
/// fields' numbers, `TYPE_BITS` apart.
pub const TYPE_IPADDR: u32 = 7;
pub const TYPE_IP6ADDR: u32 = 8;
pub const TYPE_INET_PROTOCOL: u32 = 12;
pub const TYPE_INET_SERVICE: u32 = 13;
pub const TYPE_IFNAME: u32 = 41;
pub const TYPE_BITS: u32 = 6;

pub fn concat_type(types: &[u32]) -> u32 {
    types.iter().fold(0, |t, x| (t << TYPE_BITS) | x)
}

/// A set as `nft add set|map` makes it.
pub struct SetDef<'a> {
    pub name: &'a str,
    pub flags: u32,
    pub key_type: u32,
    pub key_len: u32,
    /// A map's data: its type and length.
    pub data: Option<(u32, u32)>,
    /// Every element counts its packets (`counter` in the set's declaration).
    pub counter: bool,
}

/// `add set|map`: no `NLM_F_EXCL`, so one that is there is left as it is.
pub fn new_set(family: u8, table: &str, d: &SetDef) -> Msg {
    let mut m = nft_msg(NFT_MSG_NEWSET, NLM_F_CREATE, family)
        .str(NFTA_SET_TABLE, table)
        .str(NFTA_SET_NAME, d.name)
        .be32(NFTA_SET_FLAGS, d.flags)
        .be32(NFTA_SET_KEY_TYPE, d.key_type)
        .be32(NFTA_SET_KEY_LEN, d.key_len);
    if let Some((ty, len)) = d.data {
        m = m.be32(NFTA_SET_DATA_TYPE, ty).be32(NFTA_SET_DATA_LEN, len);
    }
    // A unique id inside the transaction; the name is what later messages use.
    m = m.be32(NFTA_SET_ID, 1);
    if d.counter {
        m = m.nest(NFTA_SET_EXPR | NLA_F_NESTED, |m| {
            m.str(super::expr::NFTA_EXPR_NAME, "counter")
                .nest(super::expr::NFTA_EXPR_DATA | NLA_F_NESTED, |m| m)
        });
    }
    m
}

/// One element: its key, a map's data, and user data (libnftnl's TLVs: a comment).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Elem {
    pub key: Vec<u8>,
    pub data: Option<Vec<u8>>,
    pub userdata: Vec<u8>,
}

fn elems(m: Msg, table: &str, set: &str, list: &[Elem]) -> Msg {
    let value =
        |m: Msg, ty: u16, v: &[u8]| m.nest(ty | NLA_F_NESTED, |m| m.bytes(NFTA_DATA_VALUE, v));
    m.str(NFTA_SET_ELEM_LIST_TABLE, table)
        .str(NFTA_SET_ELEM_LIST_SET, set)
        .nest(NFTA_SET_ELEM_LIST_ELEMENTS | NLA_F_NESTED, |mut m| {
            for e in list {
                m = m.nest(NFTA_LIST_ELEM | NLA_F_NESTED, |mut m| {
                    m = value(m, NFTA_SET_ELEM_KEY, &e.key);
                    if let Some(d) = &e.data {
                        m = value(m, NFTA_SET_ELEM_DATA, d);
                    }
                    if !e.userdata.is_empty() {
                        m = m.bytes(NFTA_SET_ELEM_USERDATA, &e.userdata);
                    }
                    m
                });
            }
            m
        })
}

/// `add element`; with `excl` the kernel refuses one that is there (`EEXIST`) or, in an
/// interval set, one that overlaps another (`ENOTEMPTY`), and the whole transaction with it.
pub fn new_elems(family: u8, table: &str, set: &str, list: &[Elem], excl: bool) -> Msg {
    let flags = NLM_F_CREATE | if excl { NLM_F_EXCL } else { 0 };
    elems(nft_msg(NFT_MSG_NEWSETELEM, flags, family), table, set, list)
}

/// `delete element`: `ENOENT` when one is not there.
pub fn del_elems(family: u8, table: &str, set: &str, list: &[Elem]) -> Msg {
    elems(nft_msg(NFT_MSG_DELSETELEM, 0, family), table, set, list)
}

/// A dump of a set's elements.
pub fn dump_elems(family: u8, table: &str, set: &str) -> Msg {
    nft_msg(NFT_MSG_GETSETELEM, NLM_F_DUMP, family)
        .str(NFTA_SET_ELEM_LIST_TABLE, table)
        .str(NFTA_SET_ELEM_LIST_SET, set)
}

/// An element as a dump shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Found {
    pub key: Vec<u8>,
    pub data: Option<Vec<u8>>,
    pub comment: Option<String>,
    pub packets: u64,
    pub bytes: u64,
}

/// The elements of one `NFT_MSG_NEWSETELEM` of a dump.
pub fn parse_elems(m: &MsgRef) -> Result<Vec<Found>> {
    if m.ty != nft_type(NFT_MSG_NEWSETELEM) {
        return Err(Error::malformed(
            "NFT_MSG_GETSETELEM",
            format!("unexpected message type {:#x}", m.ty),
        ));
    }
    let value = |v: &[u8]| -> Result<Vec<u8>> {
        for a in attrs(v) {
            let a = a?;
            if a.ty == NFTA_DATA_VALUE {
                return Ok(a.value.to_vec());
            }
        }
        Ok(Vec::new())
    };
    let mut out = Vec::new();
    for a in attrs(m.payload.get(4..).unwrap_or(&[])) {
        let a = a?;
        if a.ty != NFTA_SET_ELEM_LIST_ELEMENTS {
            continue;
        }
        for e in attrs(a.value) {
            let mut f = Found::default();
            for x in attrs(e?.value) {
                let x = x?;
                match x.ty {
                    NFTA_SET_ELEM_KEY => f.key = value(x.value)?,
                    NFTA_SET_ELEM_DATA => f.data = Some(value(x.value)?),
                    NFTA_SET_ELEM_USERDATA => f.comment = udata_comment(x.value),
                    // One expression (`NFTA_SET_ELEM_EXPR`) or a list of them.
                    NFTA_SET_ELEM_EXPR => {
                        if let Some((p, b)) = counters(&nested_as_list(x.value)) {
                            (f.packets, f.bytes) = (p, b);
                        }
                    }
                    NFTA_SET_ELEM_EXPRESSIONS => {
                        if let Some((p, b)) = counters(x.value) {
                            (f.packets, f.bytes) = (p, b);
                        }
                    }
                    _ => {}
                }
            }
            out.push(f);
        }
    }
    Ok(out)
}

/// One expression's attributes wrapped as the one element of an expression list.
fn nested_as_list(expr: &[u8]) -> Vec<u8> {
    let len = 4 + expr.len();
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&(len as u16).to_ne_bytes());
    v.extend_from_slice(&(NFTA_LIST_ELEM | NLA_F_NESTED).to_ne_bytes());
    v.extend_from_slice(expr);
    v
}

/// A dump of a table's stateful objects (its named counters).
pub fn dump_objs(family: u8, table: &str) -> Msg {
    nft_msg(NFT_MSG_GETOBJ, NLM_F_DUMP, family).str(super::NFTA_OBJ_TABLE, table)
}

/// An object's name and handle, from one `NFT_MSG_NEWOBJ` of a dump.
pub fn parse_obj(m: &MsgRef) -> Result<(String, u64)> {
    let (mut name, mut handle) = (String::new(), 0);
    for a in attrs(m.payload.get(4..).unwrap_or(&[])) {
        let a = a?;
        match a.ty {
            super::NFTA_OBJ_NAME => name = String::from_utf8_lossy(a.str_bytes()).into(),
            super::NFTA_OBJ_HANDLE => handle = a.be64()?,
            _ => {}
        }
    }
    Ok((name, handle))
}

attr_table! {
    /// `enum nft_set_attributes`
    pub(super) SET_ATTRS {
        NFTA_SET_TABLE = 1: Str,
        NFTA_SET_NAME = 2: Str,
        NFTA_SET_FLAGS = 3: Be32,
        NFTA_SET_KEY_TYPE = 4: Be32,
        NFTA_SET_KEY_LEN = 5: Be32,
        NFTA_SET_DATA_TYPE = 6: Be32,
        NFTA_SET_DATA_LEN = 7: Be32,
        NFTA_SET_ID = 10: Be32,
        NFTA_SET_USERDATA = 13: Bytes,
        NFTA_SET_HANDLE = 16: Be64,
        NFTA_SET_EXPR = 17: Printed(one_expression),
    }
}

attr_table! {
    /// `enum nft_set_elem_attributes`
    ELEM_ATTRS {
        NFTA_SET_ELEM_KEY = 1: Nest(DATA_ATTRS),
        NFTA_SET_ELEM_DATA = 2: Nest(DATA_ATTRS),
        NFTA_SET_ELEM_FLAGS = 3: Be32,
        NFTA_SET_ELEM_USERDATA = 6: Shown(comment),
        NFTA_SET_ELEM_EXPR = 7: Printed(one_expression),
        NFTA_SET_ELEM_KEY_END = 10: Nest(DATA_ATTRS),
        NFTA_SET_ELEM_EXPRESSIONS = 11: Printed(expressions),
    }
}

attr_table! {
    /// The elements of a set-element message.
    ELEMS {
        NFTA_LIST_ELEM: Nest(ELEM_ATTRS),
    }
}

attr_table! {
    /// `enum nft_set_elem_list_attributes`
    pub(super) ELEM_LIST_ATTRS {
        NFTA_SET_ELEM_LIST_TABLE = 1: Str,
        NFTA_SET_ELEM_LIST_SET = 2: Str,
        NFTA_SET_ELEM_LIST_ELEMENTS = 3: Nest(ELEMS),
    }
}

/// A single expression (`NFTA_SET_EXPR`), shown as a list of one.
fn one_expression(out: &mut String, buf: &[u8], depth: usize) {
    expressions(out, &nested_as_list(buf), depth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_element_reads_back_as_it_was_made() {
        let e = Elem {
            key: vec![0x1f, 0x90],
            data: Some(vec![10, 88, 0, 2, 0, 80, 0, 0]),
            userdata: super::super::comment_udata("natctl:x"),
            ..Elem::default()
        };
        let b = new_elems(super::super::NFPROTO_IPV4, "t", "m", &[e.clone()], true).finish(1, 0);
        let m = crate::netlink::attr::messages(&b).next().unwrap().unwrap();
        let got = parse_elems(&m).unwrap();
        assert_eq!(
            got,
            vec![Found {
                key: e.key,
                data: e.data,
                comment: Some("natctl:x".into()),
                ..Found::default()
            }]
        );
        for cut in 0..m.payload.len() {
            let cut = MsgRef {
                ty: m.ty,
                flags: m.flags,
                seq: m.seq,
                pid: m.pid,
                payload: &m.payload[..cut],
            };
            let _ = parse_elems(&cut);
        }
    }
}
