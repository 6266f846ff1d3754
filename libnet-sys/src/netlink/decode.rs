//! Prints any netlink message by name, nested, for `--explain`: a table per attribute space
//! says each attribute's name and how to show its value. Unknown attributes are shown as hex,
//! malformed ones say so; decoding never fails.

use super::attr::{attrs, messages, Attr};
use super::{ctnetlink, nft, rtnl, NETLINK_ROUTE};
use crate::bridge::BridgeId;
use std::fmt::Write;

#[derive(Clone, Copy)]
pub enum Kind {
    U8,
    U16,
    U32,
    U64,
    Be16,
    Be32,
    Be64,
    /// A signed big-endian 32-bit number (nf_tables priorities and verdicts).
    BeI32,
    Str,
    Mac,
    /// A link-layer address of any length (`NDA_LLADDR`: 6 bytes on Ethernet, 4 on an IPv4
    /// tunnel), shown as `Mac` is.
    HwAddr,
    /// An IPv4 or IPv6 address, by its length.
    Ip,
    BridgeId,
    Bytes,
    Flag,
    Nest(&'static [Def]),
    /// A nested `struct ifinfomsg` and its attributes (`VETH_INFO_PEER`).
    IfInfo(&'static [Def]),
    /// `IFLA_LINKINFO`: the data nests are decoded by the kind named inside it.
    LinkInfo,
    /// `NFTA_RULE_EXPRESSIONS`: each expression's data decoded by its name.
    Exprs,
    /// `NFTA_RULE_USERDATA`: libnftnl's TLVs, the comment shown.
    Comment,
}

/// One attribute of an attribute space: its number, its name in the kernel headers, its shape.
#[derive(Clone, Copy)]
pub struct Def(pub u16, pub &'static str, pub Kind);

/// The whole datagram, one message after another (header line excluded: the socket prints it).
pub fn describe(protocol: i32, bytes: &[u8]) -> String {
    let mut out = String::new();
    for m in messages(bytes) {
        let Ok(m) = m else {
            out.push_str("(malformed message)\n");
            break;
        };
        if m.ty == super::NLMSG_ERROR || m.ty == super::NLMSG_DONE {
            match super::socket::parse_error(&m) {
                Ok((errno, ext_ack, offset)) => {
                    let _ = write!(out, "error {errno}");
                    if errno != 0 {
                        let _ = write!(out, " ({})", crate::error::errno_name(errno));
                    }
                    if let Some(msg) = ext_ack {
                        let _ = write!(out, " \"{msg}\"");
                    }
                    if let Some(o) = offset {
                        let _ = write!(out, " at byte {o}");
                    }
                    out.push('\n');
                }
                Err(_) => out.push_str("(malformed error message)\n"),
            }
            continue;
        }
        let (header, schema) = match protocol {
            NETLINK_ROUTE => rtnl::layout(m.ty, m.payload),
            nft::NETLINK_NETFILTER if ctnetlink::is_ct(m.ty) => ctnetlink::layout(m.ty, m.payload),
            nft::NETLINK_NETFILTER => nft::layout(m.ty, m.payload),
            _ => (None, &[][..]),
        };
        let body = match header {
            Some((text, len)) => {
                out.push_str(&text);
                out.push('\n');
                m.payload.get(super::msg::align(len)..).unwrap_or(&[])
            }
            None => m.payload,
        };
        attributes(&mut out, body, schema, 0);
    }
    out
}

pub fn attributes(out: &mut String, buf: &[u8], schema: &[Def], depth: usize) {
    let pad = "  ".repeat(depth);
    for a in attrs(buf) {
        let a = match a {
            Ok(a) => a,
            Err(_) => {
                let _ = writeln!(out, "{pad}(malformed attribute)");
                return;
            }
        };
        let def = schema.iter().find(|d| d.0 == a.ty);
        let name = def
            .map(|d| d.1.to_string())
            .unwrap_or_else(|| format!("attr {}", a.ty));
        let nested = if a.nested { " (NLA_F_NESTED)" } else { "" };
        match def.map(|d| d.2) {
            Some(Kind::Nest(inner)) => {
                let _ = writeln!(out, "{pad}{name}{nested}");
                attributes(out, a.value, inner, depth + 1);
            }
            Some(Kind::IfInfo(inner)) => {
                let _ = writeln!(out, "{pad}{name}{nested}");
                match rtnl::layout(rtnl::RTM_NEWLINK, a.value) {
                    (Some((text, len)), _) if a.value.len() >= len => {
                        let _ = writeln!(out, "{pad}  {text}");
                        attributes(out, &a.value[len..], inner, depth + 1);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}  (malformed ifinfomsg)");
                    }
                }
            }
            Some(Kind::LinkInfo) => {
                let _ = writeln!(out, "{pad}{name}{nested}");
                link_info(out, a.value, depth + 1);
            }
            Some(Kind::Exprs) => {
                let _ = writeln!(out, "{pad}{name}{nested}");
                expressions(out, a.value, depth + 1);
            }
            Some(kind) => {
                let _ = writeln!(out, "{pad}{name} {}", value(&a, kind));
            }
            None if a.nested => {
                let _ = writeln!(out, "{pad}{name}{nested}");
                attributes(out, a.value, &[], depth + 1);
            }
            None => {
                let _ = writeln!(out, "{pad}{name} {}", value(&a, Kind::Bytes));
            }
        }
    }
}

/// `NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA }` each, shown as `[ name ]` and the data
/// by the schema of that name.
fn expressions(out: &mut String, buf: &[u8], depth: usize) {
    let pad = "  ".repeat(depth);
    for elem in attrs(buf) {
        let Ok(elem) = elem else {
            let _ = writeln!(out, "{pad}(malformed expression)");
            return;
        };
        let mut name = &b""[..];
        for a in attrs(elem.value).flatten() {
            if a.ty == nft::expr::NFTA_EXPR_NAME {
                name = a.str_bytes();
            }
        }
        let _ = writeln!(out, "{pad}[ {} ]", String::from_utf8_lossy(name));
        for a in attrs(elem.value).flatten() {
            if a.ty == nft::expr::NFTA_EXPR_DATA {
                attributes(out, a.value, nft::expr::schema(name), depth + 1);
            }
        }
    }
}

fn link_info(out: &mut String, buf: &[u8], depth: usize) {
    let mut kind = &b""[..];
    let mut slave_kind = &b""[..];
    for a in attrs(buf).flatten() {
        match a.ty {
            rtnl::IFLA_INFO_KIND => kind = a.str_bytes(),
            rtnl::IFLA_INFO_SLAVE_KIND => slave_kind = a.str_bytes(),
            _ => {}
        }
    }
    let data = rtnl::info_data_schema(kind);
    let slave = rtnl::info_data_schema_slave(slave_kind);
    let schema = [
        Def(rtnl::IFLA_INFO_KIND, "IFLA_INFO_KIND", Kind::Str),
        Def(rtnl::IFLA_INFO_DATA, "IFLA_INFO_DATA", Kind::Nest(data)),
        Def(rtnl::IFLA_INFO_XSTATS, "IFLA_INFO_XSTATS", Kind::Bytes),
        Def(
            rtnl::IFLA_INFO_SLAVE_KIND,
            "IFLA_INFO_SLAVE_KIND",
            Kind::Str,
        ),
        Def(
            rtnl::IFLA_INFO_SLAVE_DATA,
            "IFLA_INFO_SLAVE_DATA",
            Kind::Nest(slave),
        ),
    ];
    attributes(out, buf, &schema, depth);
}

fn value(a: &Attr, kind: Kind) -> String {
    let shown = match kind {
        Kind::U8 => a.u8().map(|v| v.to_string()),
        Kind::U16 => a.u16().map(|v| v.to_string()),
        Kind::U32 => a.u32().map(|v| v.to_string()),
        Kind::U64 => a.u64().map(|v| v.to_string()),
        Kind::Be16 => a.be16().map(|v| format!("{v} (network order)")),
        Kind::Be32 => a.be32().map(|v| format!("{v:#x} (network order)")),
        Kind::Be64 => a.be64().map(|v| v.to_string()),
        Kind::BeI32 => a.be32().map(|v| (v as i32).to_string()),
        Kind::Comment => Ok(match nft::udata_comment(a.value) {
            Some(c) => format!("comment \"{}\"", c.escape_default()),
            None => hex(a.value),
        }),
        Kind::Str => Ok(format!(
            "\"{}\"",
            String::from_utf8_lossy(a.str_bytes()).escape_default()
        )),
        Kind::Mac => a.array::<6>().map(|m| mac(&m)),
        Kind::HwAddr => Ok(mac(a.value)),
        Kind::Ip => a.ip().map(|ip| ip.to_string()),
        Kind::BridgeId => a.array::<8>().map(|b| BridgeId::from_bytes(&b).to_string()),
        Kind::Flag => Ok(String::new()),
        Kind::Bytes | Kind::Nest(_) | Kind::IfInfo(_) | Kind::LinkInfo | Kind::Exprs => {
            Ok(hex(a.value))
        }
    };
    shown.unwrap_or_else(|_| format!("(malformed: {} bytes) {}", a.value.len(), hex(a.value)))
}

pub fn mac(m: &[u8]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn hex(b: &[u8]) -> String {
    const MAX: usize = 32;
    let mut s: String = b
        .iter()
        .take(MAX)
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ");
    if b.len() > MAX {
        let _ = write!(s, " ... ({} bytes)", b.len());
    }
    if s.is_empty() {
        s.push_str("(empty)");
    }
    s
}
