//! nf_tables over `NETLINK_NETFILTER` (<linux/netfilter/nf_tables.h>, <linux/netfilter/
//! nfnetlink.h>): tables, chains and rules, built as typed messages and sent as one batch
//! (`NFNL_MSG_BATCH_BEGIN` .. `NFNL_MSG_BATCH_END`) that the kernel commits whole or not at all.
//!
//! Every message carries `struct nfgenmsg` after the netlink header; every attribute integer is
//! big-endian. Register contents follow what loads them: payload data (addresses, ports) in
//! network order, meta and fib results in host order.

mod batch;
pub mod expr;
pub mod set;

use super::attr::{attrs, Attr, MsgRef};
use super::decode::{attributes, hex, pad};
use super::msg::{from_bytes, Msg, Pod};
use super::space::{attr_table, Def};
use super::*;
use crate::error::{Error, Result};

pub const NETLINK_NETFILTER: i32 = 12;

// <linux/netfilter/nfnetlink.h>
pub const NFNL_SUBSYS_CTNETLINK: u16 = 1;
pub const NFNL_SUBSYS_NFTABLES: u16 = 10;
pub const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
pub const NFNL_MSG_BATCH_END: u16 = 0x11;

// <linux/netfilter/nf_tables.h>: enum nf_tables_msg_types
pub const NFT_MSG_NEWTABLE: u16 = 0;
pub const NFT_MSG_GETTABLE: u16 = 1;
pub const NFT_MSG_DELTABLE: u16 = 2;
pub const NFT_MSG_NEWCHAIN: u16 = 3;
pub const NFT_MSG_GETCHAIN: u16 = 4;
pub const NFT_MSG_DELCHAIN: u16 = 5;
pub const NFT_MSG_NEWRULE: u16 = 6;
pub const NFT_MSG_GETRULE: u16 = 7;
pub const NFT_MSG_DELRULE: u16 = 8;
pub const NFT_MSG_NEWGEN: u16 = 15;
pub const NFT_MSG_NEWOBJ: u16 = 18;
pub const NFT_MSG_DELOBJ: u16 = 20;
pub const NFT_MSG_GETGEN: u16 = 16;

// <linux/netfilter.h>
pub const NFPROTO_UNSPEC: u8 = 0;
pub const NFPROTO_INET: u8 = 1;
pub const NFPROTO_IPV4: u8 = 2;
pub const NFPROTO_IPV6: u8 = 10;

/// `enum nft_list_attributes`: each expression of `NFTA_RULE_EXPRESSIONS`.
pub const NFTA_LIST_ELEM: u16 = 1;

// <linux/netfilter.h>: hooks (verdicts: libc::NF_ACCEPT, NF_DROP)
pub const NF_INET_PRE_ROUTING: u32 = 0;
pub const NF_INET_LOCAL_IN: u32 = 1;
pub const NF_INET_FORWARD: u32 = 2;
pub const NF_INET_LOCAL_OUT: u32 = 3;
pub const NF_INET_POST_ROUTING: u32 = 4;

/// `struct nfgenmsg` (<linux/netfilter/nfnetlink.h>).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct NfGenMsg {
    pub family: u8,
    pub version: u8,
    /// Big-endian; the subsystem (`NFNL_SUBSYS_NFTABLES`) on batch messages, else 0.
    pub res_id: u16,
}
// SAFETY: repr(C), 4 bytes, no padding, any bit pattern valid.
unsafe impl Pod for NfGenMsg {}
const _: () = assert!(std::mem::size_of::<NfGenMsg>() == 4);

/// The netlink type of an nf_tables message: subsystem in the high byte.
pub const fn nft_type(msg: u16) -> u16 {
    (NFNL_SUBSYS_NFTABLES << 8) | msg
}

pub(crate) fn nft_msg(msg: u16, flags: u16, family: u8) -> Msg {
    Msg::new(nft_type(msg), NLM_F_REQUEST | flags).header(&NfGenMsg {
        family,
        ..Default::default()
    })
}

/// `NFNL_MSG_BATCH_BEGIN` (with the generation the batch was built against, so the kernel
/// refuses it with `ERESTART` when someone committed in between) or `_END`.
pub fn batch_marker(ty: u16, flags: u16, genid: Option<u32>) -> Msg {
    let m = Msg::new(ty, NLM_F_REQUEST | flags).header(&NfGenMsg {
        family: NFPROTO_UNSPEC,
        version: 0,
        res_id: NFNL_SUBSYS_NFTABLES.to_be(),
    });
    match genid {
        Some(g) => m.be32(NFNL_BATCH_GENID, g),
        None => m,
    }
}

/// `NFT_MSG_GETGEN`: the ruleset generation, bumped by every commit.
pub fn get_gen() -> Msg {
    nft_msg(NFT_MSG_GETGEN, 0, NFPROTO_UNSPEC)
}

/// `add table`: no `NLM_F_EXCL`, so an existing table is left as it is.
pub fn new_table(family: u8, name: &str) -> Msg {
    nft_msg(NFT_MSG_NEWTABLE, NLM_F_CREATE, family)
        .str(NFTA_TABLE_NAME, name)
        .be32(NFTA_TABLE_FLAGS, 0)
}

pub fn del_table(family: u8, name: &str) -> Msg {
    nft_msg(NFT_MSG_DELTABLE, 0, family).str(NFTA_TABLE_NAME, name)
}

/// `delete chain` (a regular one, empty by the time the batch reaches it).
pub fn del_chain(family: u8, table: &str, name: &str) -> Msg {
    nft_msg(NFT_MSG_DELCHAIN, 0, family)
        .str(NFTA_CHAIN_TABLE, table)
        .str(NFTA_CHAIN_NAME, name)
}

/// A base chain's place: `type T hook H priority P policy accept`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hook {
    pub ty: &'static str,
    pub hooknum: u32,
    pub priority: i32,
}

/// `add chain`: a base chain with `hook`, a regular one without.
pub fn new_chain(family: u8, table: &str, name: &str, hook: Option<Hook>) -> Msg {
    let m = nft_msg(NFT_MSG_NEWCHAIN, NLM_F_CREATE, family)
        .str(NFTA_CHAIN_TABLE, table)
        .str(NFTA_CHAIN_NAME, name);
    match hook {
        None => m,
        Some(h) => m
            .nest(NFTA_CHAIN_HOOK | NLA_F_NESTED, |m| {
                m.be32(NFTA_HOOK_HOOKNUM, h.hooknum)
                    .be32(NFTA_HOOK_PRIORITY, h.priority as u32)
            })
            .be32(NFTA_CHAIN_POLICY, libc::NF_ACCEPT as u32)
            .str(NFTA_CHAIN_TYPE, h.ty),
    }
}

/// `add rule`: appended to the chain, with its expressions and user data (the tag natctl
/// finds its rules by).
pub fn new_rule(
    family: u8,
    table: &str,
    chain: &str,
    exprs: &[expr::Expr],
    userdata: &[u8],
) -> Msg {
    let m = nft_msg(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, family)
        .str(NFTA_RULE_TABLE, table)
        .str(NFTA_RULE_CHAIN, chain)
        .nest(NFTA_RULE_EXPRESSIONS | NLA_F_NESTED, |mut m| {
            for e in exprs {
                m = e.encode(m);
            }
            m
        });
    if userdata.is_empty() {
        m
    } else {
        m.bytes(NFTA_RULE_USERDATA, userdata)
    }
}

/// `NFT_OBJECT_COUNTER` (<linux/netfilter/nf_tables.h>), an object's `NFTA_OBJ_TYPE`.
pub const NFT_OBJECT_COUNTER: u32 = 1;

/// `add counter TABLE NAME`, with `NLM_F_EXCL`: refused (`EEXIST`) when one of that name is
/// there, which makes a named object a key the kernel keeps unique inside a transaction.
pub fn new_counter(family: u8, table: &str, name: &str) -> Msg {
    nft_msg(NFT_MSG_NEWOBJ, NLM_F_CREATE | NLM_F_EXCL, family)
        .str(NFTA_OBJ_TABLE, table)
        .str(NFTA_OBJ_NAME, name)
        .be32(NFTA_OBJ_TYPE, NFT_OBJECT_COUNTER)
        .nest(NFTA_OBJ_DATA | NLA_F_NESTED, |m| m)
}

/// `delete counter TABLE NAME`.
pub fn del_counter(family: u8, table: &str, name: &str) -> Msg {
    nft_msg(NFT_MSG_DELOBJ, 0, family)
        .str(NFTA_OBJ_TABLE, table)
        .str(NFTA_OBJ_NAME, name)
        .be32(NFTA_OBJ_TYPE, NFT_OBJECT_COUNTER)
}

/// `delete rule ... handle H`.
pub fn del_rule(family: u8, table: &str, chain: &str, handle: u64) -> Msg {
    nft_msg(NFT_MSG_DELRULE, 0, family)
        .str(NFTA_RULE_TABLE, table)
        .str(NFTA_RULE_CHAIN, chain)
        .be64(NFTA_RULE_HANDLE, handle)
}

/// A dump of the rules of `table` (every table when empty), of one chain when given.
pub fn dump_rules(family: u8, table: &str, chain: Option<&str>) -> Msg {
    let m = nft_msg(NFT_MSG_GETRULE, NLM_F_DUMP, family);
    let m = if table.is_empty() {
        m
    } else {
        m.str(NFTA_RULE_TABLE, table)
    };
    match chain {
        Some(c) => m.str(NFTA_RULE_CHAIN, c),
        None => m,
    }
}

/// A dump of every chain of `family` (0: all families).
pub fn dump_chains(family: u8) -> Msg {
    nft_msg(NFT_MSG_GETCHAIN, NLM_F_DUMP, family)
}

/// A base chain as a chain dump shows it: where it hooks in, and its policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseChain {
    /// `NFPROTO_*` of its table.
    pub family: u8,
    pub table: String,
    pub name: String,
    /// `NF_INET_*` (`NF_NETDEV_INGRESS`.. for netdev tables).
    pub hooknum: u32,
    pub priority: i32,
    /// `NF_ACCEPT` or `NF_DROP`; `None` if the kernel sent none.
    pub policy: Option<u32>,
    /// `filter`, `nat` or `route`.
    pub ty: String,
}

/// Reads one `NFT_MSG_NEWCHAIN` of a dump; `None` for a regular chain (no hook).
pub fn parse_chain(m: &MsgRef) -> Result<Option<BaseChain>> {
    const STEP: &str = "NFT_MSG_NEWCHAIN";
    if m.ty != nft_type(NFT_MSG_NEWCHAIN) {
        return Err(Error::malformed(
            "NFT_MSG_GETCHAIN",
            format!("unexpected message type {:#x}", m.ty),
        ));
    }
    let h: NfGenMsg =
        from_bytes(m.payload).ok_or_else(|| Error::malformed(STEP, "nfgenmsg is cut short"))?;
    let text = |a: &Attr| String::from_utf8_lossy(a.str_bytes()).into_owned();
    let (mut table, mut name, mut ty) = (None, None, String::new());
    let (mut hook, mut policy) = (None, None);
    for a in attrs(&m.payload[4..]) {
        let a = a?;
        match a.ty {
            NFTA_CHAIN_TABLE => table = Some(text(&a)),
            NFTA_CHAIN_NAME => name = Some(text(&a)),
            NFTA_CHAIN_TYPE => ty = text(&a),
            NFTA_CHAIN_POLICY => policy = Some(a.be32()?),
            NFTA_CHAIN_HOOK => {
                let (mut num, mut prio) = (None, 0);
                for a in a.nested_attrs() {
                    let a = a?;
                    match a.ty {
                        NFTA_HOOK_HOOKNUM => num = Some(a.be32()?),
                        NFTA_HOOK_PRIORITY => prio = a.be32()? as i32,
                        _ => {}
                    }
                }
                hook = Some((
                    num.ok_or_else(|| Error::malformed(STEP, "a hook without NFTA_HOOK_HOOKNUM"))?,
                    prio,
                ));
            }
            _ => {}
        }
    }
    let Some((hooknum, priority)) = hook else {
        return Ok(None);
    };
    let (Some(table), Some(name)) = (table, name) else {
        return Err(Error::malformed(STEP, "a chain without its table or name"));
    };
    Ok(Some(BaseChain {
        family: h.family,
        table,
        name,
        hooknum,
        priority,
        policy,
        ty,
    }))
}

/// Every base chain of every table, of every family, in the kernel's order: to see what else
/// sits on a hook (a `policy drop` forward chain of another table drops what natctl's own
/// chain accepted).
pub fn base_chains(nl: &mut NlSocket) -> Result<Vec<BaseChain>> {
    nl.dump(
        || dump_chains(NFPROTO_UNSPEC),
        "",
        Vec::new,
        |v: &mut Vec<BaseChain>, m| {
            v.extend(parse_chain(m)?);
            Ok(())
        },
    )
}

/// One table, answered by `NFT_MSG_NEWTABLE` or `ENOENT`.
pub fn get_table(family: u8, name: &str) -> Msg {
    nft_msg(NFT_MSG_GETTABLE, NLM_F_ACK, family).str(NFTA_TABLE_NAME, name)
}

/// A dump of every table of `family` (0: all families).
pub fn dump_tables(family: u8) -> Msg {
    nft_msg(NFT_MSG_GETTABLE, NLM_F_DUMP, family)
}

/// libnftnl's user-data TLV for a comment (`NFTNL_UDATA_RULE_COMMENT` = 0): type, length
/// with the NUL, the text and a NUL. `nft list` shows it as `comment "..."`.
pub fn comment_udata(text: &str) -> Vec<u8> {
    let mut v = vec![0, (text.len() + 1) as u8];
    v.extend_from_slice(text.as_bytes());
    v.push(0);
    v
}

/// The comment in a rule's user data, if it has one.
pub fn udata_comment(b: &[u8]) -> Option<String> {
    let mut b = b;
    while b.len() >= 2 {
        let (ty, len) = (b[0], b[1] as usize);
        let v = b.get(2..2 + len)?;
        if ty == 0 {
            let text = v.strip_suffix(&[0]).unwrap_or(v);
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        b = &b[2 + len..];
    }
    None
}

/// nf_tables, and the batch markers of NETLINK_NETFILTER.
pub struct NfTables;

impl Family for NfTables {
    /// Asked after conntrack ([`super::nfnetlink::NETFILTER`]), it takes the rest: the batch
    /// markers and what no other subsystem claims are named here.
    fn owns(&self, _: u16) -> bool {
        true
    }
    fn msg_type_name(&self, ty: u16) -> &'static str {
        match ty {
            NFNL_MSG_BATCH_BEGIN => return "NFNL_MSG_BATCH_BEGIN",
            NFNL_MSG_BATCH_END => return "NFNL_MSG_BATCH_END",
            _ => {}
        }
        if ty >> 8 != NFNL_SUBSYS_NFTABLES {
            return "NFNL message";
        }
        match ty & 0xff {
            NFT_MSG_NEWTABLE => "NFT_MSG_NEWTABLE",
            NFT_MSG_GETTABLE => "NFT_MSG_GETTABLE",
            NFT_MSG_DELTABLE => "NFT_MSG_DELTABLE",
            NFT_MSG_NEWCHAIN => "NFT_MSG_NEWCHAIN",
            NFT_MSG_GETCHAIN => "NFT_MSG_GETCHAIN",
            NFT_MSG_DELCHAIN => "NFT_MSG_DELCHAIN",
            NFT_MSG_NEWRULE => "NFT_MSG_NEWRULE",
            NFT_MSG_GETRULE => "NFT_MSG_GETRULE",
            NFT_MSG_DELRULE => "NFT_MSG_DELRULE",
            NFT_MSG_NEWGEN => "NFT_MSG_NEWGEN",
            NFT_MSG_GETGEN => "NFT_MSG_GETGEN",
            NFT_MSG_NEWOBJ => "NFT_MSG_NEWOBJ",
            NFT_MSG_DELOBJ => "NFT_MSG_DELOBJ",
            set::NFT_MSG_GETOBJ => "NFT_MSG_GETOBJ",
            set::NFT_MSG_NEWSET => "NFT_MSG_NEWSET",
            set::NFT_MSG_GETSET => "NFT_MSG_GETSET",
            set::NFT_MSG_NEWSETELEM => "NFT_MSG_NEWSETELEM",
            set::NFT_MSG_GETSETELEM => "NFT_MSG_GETSETELEM",
            set::NFT_MSG_DELSETELEM => "NFT_MSG_DELSETELEM",
            _ => "NFT_MSG_(unknown)",
        }
    }
    /// GET requests read the 0x100.. flags as ROOT/MATCH.
    fn is_get(&self, ty: u16) -> bool {
        ty >> 8 == NFNL_SUBSYS_NFTABLES
            && matches!(
                ty & 0xff,
                NFT_MSG_GETTABLE
                    | NFT_MSG_GETCHAIN
                    | NFT_MSG_GETRULE
                    | NFT_MSG_GETGEN
                    | set::NFT_MSG_GETSET
                    | set::NFT_MSG_GETSETELEM
                    | set::NFT_MSG_GETOBJ
            )
    }
    /// The `nfgenmsg` of a message, shown, and the attribute space that follows it.
    fn layout(&self, ty: u16, payload: &[u8]) -> (Option<(String, usize)>, &'static [Def]) {
        let Some(header) = show_nfgenmsg(payload, family_name) else {
            return (None, &[]);
        };
        let schema = match ty {
            NFNL_MSG_BATCH_BEGIN | NFNL_MSG_BATCH_END => BATCH_ATTRS,
            _ if ty >> 8 != NFNL_SUBSYS_NFTABLES => &[],
            _ => match ty & 0xff {
                NFT_MSG_NEWTABLE | NFT_MSG_GETTABLE | NFT_MSG_DELTABLE => TABLE_ATTRS,
                NFT_MSG_NEWCHAIN | NFT_MSG_GETCHAIN | NFT_MSG_DELCHAIN => CHAIN_ATTRS,
                NFT_MSG_NEWRULE | NFT_MSG_GETRULE | NFT_MSG_DELRULE => RULE_ATTRS,
                NFT_MSG_NEWGEN | NFT_MSG_GETGEN => GEN_ATTRS,
                NFT_MSG_NEWOBJ | NFT_MSG_DELOBJ | set::NFT_MSG_GETOBJ => OBJ_ATTRS,
                set::NFT_MSG_NEWSET | set::NFT_MSG_GETSET => set::SET_ATTRS,
                set::NFT_MSG_NEWSETELEM | set::NFT_MSG_GETSETELEM | set::NFT_MSG_DELSETELEM => {
                    set::ELEM_LIST_ATTRS
                }
                _ => &[],
            },
        };
        (Some(header), schema)
    }
}

/// `NFTA_RULE_EXPRESSIONS`: `NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA }` each, shown as
/// `[ name ]` and the data by the schema of that name.
pub(crate) fn expressions(out: &mut String, buf: &[u8], depth: usize) {
    use std::fmt::Write;
    let pad = pad(depth);
    for elem in attrs(buf) {
        let Ok(elem) = elem else {
            let _ = writeln!(out, "{pad}(malformed expression)");
            return;
        };
        let mut name = &b""[..];
        for a in attrs(elem.value).flatten() {
            if a.ty == expr::NFTA_EXPR_NAME {
                name = a.str_bytes();
            }
        }
        let _ = writeln!(out, "{pad}[ {} ]", String::from_utf8_lossy(name));
        for a in attrs(elem.value).flatten() {
            if a.ty == expr::NFTA_EXPR_DATA {
                attributes(out, a.value, expr::schema(name), depth + 1);
            }
        }
    }
}

/// `NFTA_RULE_USERDATA`: libnftnl's TLVs, the comment shown (the bytes when there is none).
pub(crate) fn comment(a: &Attr) -> Option<String> {
    Some(match udata_comment(a.value) {
        Some(c) => format!("comment \"{}\"", c.escape_default()),
        None => hex(a.value),
    })
}

/// A message's `struct nfgenmsg`, shown with its family named by `family` (each subsystem
/// names them its own way), and its length.
pub fn show_nfgenmsg(payload: &[u8], family: fn(u8) -> String) -> Option<(String, usize)> {
    let h = from_bytes::<NfGenMsg>(payload)?;
    let text = format!(
        "nfgenmsg{{family={}, version={}, res_id={}}}",
        family(h.family),
        h.version,
        u16::from_be(h.res_id)
    );
    Some((text, std::mem::size_of::<NfGenMsg>()))
}

fn family_name(f: u8) -> String {
    match f {
        NFPROTO_UNSPEC => "NFPROTO_UNSPEC".into(),
        NFPROTO_INET => "NFPROTO_INET".into(),
        NFPROTO_IPV4 => "NFPROTO_IPV4".into(),
        NFPROTO_IPV6 => "NFPROTO_IPV6".into(),
        f => f.to_string(),
    }
}

attr_table! {
    /// `enum nft_table_attributes`
    TABLE_ATTRS {
        NFTA_TABLE_NAME = 1: Str,
        NFTA_TABLE_FLAGS = 2: Be32,
        NFTA_TABLE_USE = 3: Be32,
        NFTA_TABLE_HANDLE = 4: Be64,
        NFTA_TABLE_USERDATA = 6: Bytes,
        NFTA_TABLE_OWNER = 7: Be32,
    }
}

attr_table! {
    /// `enum nft_hook_attributes`
    HOOK_ATTRS {
        NFTA_HOOK_HOOKNUM = 1: Be32,
        NFTA_HOOK_PRIORITY = 2: BeI32,
        NFTA_HOOK_DEV = 3: Str,
    }
}

attr_table! {
    /// `enum nft_chain_attributes`
    CHAIN_ATTRS {
        NFTA_CHAIN_TABLE = 1: Str,
        NFTA_CHAIN_HANDLE = 2: Be64,
        NFTA_CHAIN_NAME = 3: Str,
        NFTA_CHAIN_HOOK = 4: Nest(HOOK_ATTRS),
        NFTA_CHAIN_POLICY = 5: BeI32,
        NFTA_CHAIN_USE = 6: Be32,
        NFTA_CHAIN_TYPE = 7: Str,
        NFTA_CHAIN_COUNTERS = 8: Bytes,
        NFTA_CHAIN_FLAGS = 10: Be32,
    }
}

attr_table! {
    /// `enum nft_rule_attributes`
    RULE_ATTRS {
        NFTA_RULE_TABLE = 1: Str,
        NFTA_RULE_CHAIN = 2: Str,
        NFTA_RULE_HANDLE = 3: Be64,
        NFTA_RULE_EXPRESSIONS = 4: Printed(expressions),
        NFTA_RULE_POSITION = 6: Be64,
        NFTA_RULE_USERDATA = 7: Shown(comment),
    }
}

attr_table! {
    /// `enum nft_gen_attributes`
    GEN_ATTRS {
        NFTA_GEN_ID = 1: Be32,
        NFTA_GEN_PROC_PID = 2: Be32,
        NFTA_GEN_PROC_NAME = 3: Str,
    }
}

attr_table! {
    /// `enum nft_object_attributes`
    OBJ_ATTRS {
        NFTA_OBJ_TABLE = 1: Str,
        NFTA_OBJ_NAME = 2: Str,
        NFTA_OBJ_TYPE = 3: Be32,
        NFTA_OBJ_DATA = 4: Bytes,
        NFTA_OBJ_USE = 5: Be32,
        NFTA_OBJ_HANDLE = 6: Be64,
    }
}

attr_table! {
    /// `NFNL_BATCH_*` (<linux/netfilter/nfnetlink.h>)
    BATCH_ATTRS {
        NFNL_BATCH_GENID = 1: Be32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(payload: &[u8]) -> MsgRef<'_> {
        MsgRef {
            ty: nft_type(NFT_MSG_NEWCHAIN),
            flags: NLM_F_MULTI,
            seq: 0,
            pid: 0,
            payload,
        }
    }

    #[test]
    fn chain_dump_request_bytes() {
        let b = dump_chains(NFPROTO_UNSPEC).finish(1, 0);
        let mut want = Vec::new();
        want.extend_from_slice(&20u32.to_ne_bytes());
        want.extend_from_slice(&0x0a04u16.to_ne_bytes());
        want.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
        want.extend_from_slice(&1u32.to_ne_bytes());
        want.extend_from_slice(&[0; 4]);
        want.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(b, want);
    }

    #[test]
    fn base_chains_read_back_as_they_are_made_and_regular_ones_are_skipped() {
        let hook = Hook {
            ty: "nat",
            hooknum: NF_INET_PRE_ROUTING,
            priority: -101,
        };
        let b = new_chain(NFPROTO_IPV4, "natctl", "prerouting", Some(hook)).finish(1, 0);
        let m = messages(&b).next().unwrap().unwrap();
        let c = parse_chain(&reply(m.payload)).unwrap().unwrap();
        assert_eq!(
            c,
            BaseChain {
                family: NFPROTO_IPV4,
                table: "natctl".into(),
                name: "prerouting".into(),
                hooknum: NF_INET_PRE_ROUTING,
                priority: -101,
                policy: Some(libc::NF_ACCEPT as u32),
                ty: "nat".into(),
            }
        );
        let b = new_chain(NFPROTO_IPV4, "natctl", "publish", None).finish(1, 0);
        let m = messages(&b).next().unwrap().unwrap();
        assert_eq!(parse_chain(&reply(m.payload)).unwrap(), None);
        let wrong = MsgRef {
            ty: nft_type(NFT_MSG_NEWTABLE),
            ..reply(m.payload)
        };
        assert!(parse_chain(&wrong).is_err());
    }

    /// A real kernel reply (6.18) to the chain dump after
    /// `nft add chain ip other f1 '{ type filter hook forward priority 10; policy drop; }'`:
    /// the payload after the netlink header, little-endian attribute headers.
    #[cfg(target_endian = "little")]
    const KERNEL_F1: [u8; 92] = [
        0x02, 0x00, 0x00, 0x0d, 0x0a, 0x00, 0x01, 0x00, 0x6f, 0x74, 0x68, 0x65, 0x72, 0x00, 0x00,
        0x00, 0x07, 0x00, 0x03, 0x00, 0x66, 0x31, 0x00, 0x00, 0x0c, 0x00, 0x02, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x14, 0x00, 0x04, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x00, 0x02, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x08, 0x00, 0x05, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x07, 0x00, 0x66, 0x69, 0x6c, 0x74, 0x65, 0x72, 0x00,
        0x00, 0x08, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x06, 0x00, 0x00, 0x00,
        0x00, 0x00,
    ];

    #[cfg(target_endian = "little")]
    #[test]
    fn a_kernel_drop_policy_forward_chain() {
        let c = parse_chain(&reply(&KERNEL_F1)).unwrap().unwrap();
        assert_eq!(
            c,
            BaseChain {
                family: NFPROTO_IPV4,
                table: "other".into(),
                name: "f1".into(),
                hooknum: NF_INET_FORWARD,
                priority: 10,
                policy: Some(libc::NF_DROP as u32),
                ty: "filter".into(),
            }
        );
        // Cut anywhere: an error or a partial read, never a panic.
        for cut in 0..KERNEL_F1.len() {
            let _ = parse_chain(&reply(&KERNEL_F1[..cut]));
        }
    }
}
