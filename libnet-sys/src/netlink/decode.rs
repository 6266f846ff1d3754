//! Prints any netlink message by name, nested, for `--explain`: a table per attribute space
//! says each attribute's name and how to show its value. Unknown attributes are shown as hex,
//! malformed ones say so; decoding never fails.

use super::ack::parse_error;
use super::attr::{attrs, messages, Attr};
use super::family::Protocol;
use super::space::{Def, Kind};
use crate::ifname::mac;
use std::fmt::Write;

/// The whole datagram, one message after another (header line excluded: the socket prints it).
pub fn describe(protocol: &Protocol, bytes: &[u8]) -> String {
    let mut out = String::new();
    for m in messages(bytes) {
        let Ok(m) = m else {
            out.push_str("(malformed message)\n");
            break;
        };
        if m.ty == super::NLMSG_ERROR || m.ty == super::NLMSG_DONE {
            match parse_error(&m) {
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
        let (header, schema) = protocol.layout(m.ty, m.payload);
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

/// The indent of a line at `depth`.
pub fn pad(depth: usize) -> String {
    "  ".repeat(depth)
}

/// The attributes in `buf`, one line each at `depth`, nests below their line.
pub fn attributes(out: &mut String, buf: &[u8], schema: &[Def], depth: usize) {
    let pad = pad(depth);
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
            Some(Kind::Printed(print)) => {
                let _ = writeln!(out, "{pad}{name}{nested}");
                print(out, a.value, depth + 1);
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

fn value(a: &Attr, kind: Kind) -> String {
    let shown = match kind {
        Kind::U8 => a.u8().ok().map(|v| v.to_string()),
        Kind::U16 => a.u16().ok().map(|v| v.to_string()),
        Kind::U32 => a.u32().ok().map(|v| v.to_string()),
        Kind::U64 => a.u64().ok().map(|v| v.to_string()),
        Kind::Be16 => a.be16().ok().map(|v| format!("{v} (network order)")),
        Kind::Be32 => a.be32().ok().map(|v| format!("{v:#x} (network order)")),
        Kind::Be64 => a.be64().ok().map(|v| v.to_string()),
        Kind::BeI32 => a.be32().ok().map(|v| (v as i32).to_string()),
        Kind::Shown(show) => show(a),
        Kind::Str => Some(format!(
            "\"{}\"",
            String::from_utf8_lossy(a.str_bytes()).escape_default()
        )),
        Kind::Mac => a.array::<6>().ok().map(|m| mac(&m)),
        Kind::HwAddr => Some(mac(a.value)),
        Kind::Ip => a.ip().ok().map(|ip| ip.to_string()),
        Kind::Flag => Some(String::new()),
        Kind::Bytes | Kind::Nest(_) | Kind::Printed(_) => Some(hex(a.value)),
    };
    shown.unwrap_or_else(|| format!("(malformed: {} bytes) {}", a.value.len(), hex(a.value)))
}

/// Bytes as `--explain` shows what it has no shape for: hex, the first 32 bytes.
pub fn hex(b: &[u8]) -> String {
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
