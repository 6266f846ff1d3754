//! Attribute spaces declared once. One table row per attribute, with its kernel name, number,
//! shape and a field name, gives everything else written about that attribute:
//!
//! ```text
//!   attr_space! {
//!       /// The attributes of a neighbour message.
//!       pub struct NeighAttrs, schema NEIGH_ATTRS {
//!           NDA_DST = 1: Ip => dst,
//!           NDA_LLADDR = 2: HwAddr => lladdr,
//!       }
//!   }
//!
//!   pub const NDA_DST: u16 = 1;                           the constant, for builders
//!   pub const NEIGH_ATTRS: &[Def] = &[Def(NDA_DST, "NDA_DST", Kind::Ip), ..];   --explain's table
//!   pub struct NeighAttrs { pub dst: Option<IpAddr>, pub lladdr: Option<Vec<u8>> }
//!   impl NeighAttrs { pub fn parse(buf) -> Result<NeighAttrs> }   one parser arm per row
//! ```
//!
//! The shapes are [`Kind`]'s flat ones, each read into one Rust type:
//! `U8` u8, `U16` u16, `U32` u32, `U64` u64, `Be16` u16, `Be32` u32, `Be64` u64 (network order
//! on the wire, host order in the field), `Ip` `IpAddr` (4 or 16 bytes), `Mac` `[u8; 6]`,
//! `HwAddr` `Vec<u8>` (a link-layer address of any length), `Str` `String`, `Bytes` `Vec<u8>`,
//! `Flag` `()`. Nests are not rows: a nest is its own space, parsed by its owner.
//!
//! A parsed struct holds `Some` for each attribute present. Unknown attributes are skipped
//! (newer kernels add them); a known one of the wrong size is an error, as everywhere else.

use super::attr::Attr;

/// How an attribute's value is read and shown.
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
    Bytes,
    Flag,
    Nest(&'static [Def]),
    /// A nest its family prints (`out`, the nest's bytes, the depth of its lines): one whose
    /// schema depends on what is inside it (`IFLA_LINKINFO`, `NFTA_RULE_EXPRESSIONS`) or that
    /// starts with a family header (`VETH_INFO_PEER`).
    Printed(fn(&mut String, &[u8], usize)),
    /// A value its family shows (a bridge id, an nf_tables comment); `None` when malformed.
    Shown(fn(&Attr) -> Option<String>),
}

/// One attribute of an attribute space: its number, its name in the kernel headers, its shape.
#[derive(Clone, Copy)]
pub struct Def(pub u16, pub &'static str, pub Kind);

/// The Rust type a [`Kind`] is read into (see the module text).
macro_rules! attr_type {
    (U8) => { u8 };
    (U16) => { u16 };
    (U32) => { u32 };
    (U64) => { u64 };
    (Be16) => { u16 };
    (Be32) => { u32 };
    (Be64) => { u64 };
    (Ip) => { std::net::IpAddr };
    (Mac) => { [u8; 6] };
    (HwAddr) => { Vec<u8> };
    (Str) => { String };
    (Bytes) => { Vec<u8> };
    (Flag) => { () };
}

/// Reads attribute `$a` as `Kind::$kind` (an expression that may return its error with `?`).
macro_rules! attr_read {
    (U8, $a:ident) => {
        $a.u8()?
    };
    (U16, $a:ident) => {
        $a.u16()?
    };
    (U32, $a:ident) => {
        $a.u32()?
    };
    (U64, $a:ident) => {
        $a.u64()?
    };
    (Be16, $a:ident) => {
        $a.be16()?
    };
    (Be32, $a:ident) => {
        $a.be32()?
    };
    (Be64, $a:ident) => {
        $a.be64()?
    };
    (Ip, $a:ident) => {
        $a.ip()?
    };
    (Mac, $a:ident) => {
        $a.array::<6>()?
    };
    (HwAddr, $a:ident) => {
        $a.value.to_vec()
    };
    (Str, $a:ident) => {
        String::from_utf8_lossy($a.str_bytes()).into_owned()
    };
    (Bytes, $a:ident) => {
        $a.value.to_vec()
    };
    (Flag, $a:ident) => {
        ()
    };
}

/// Declares an attribute space: constants, `--explain` table, typed struct and its parser, from
/// one row per attribute (see the module text).
macro_rules! attr_space {
    (
        $(#[$doc:meta])*
        pub struct $Struct:ident, schema $SCHEMA:ident {
            $( $(#[$adoc:meta])* $ATTR:ident = $num:literal : $kind:ident => $field:ident, )*
        }
    ) => {
        $( $(#[$adoc])* pub const $ATTR: u16 = $num; )*

        #[doc = concat!("The `--explain` table of [`", stringify!($Struct), "`]'s attributes.")]
        pub const $SCHEMA: &[$crate::netlink::space::Def] = &[
            $( $crate::netlink::space::Def(
                $ATTR,
                stringify!($ATTR),
                $crate::netlink::space::Kind::$kind,
            ), )*
        ];

        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct $Struct {
            $( #[doc = concat!("`", stringify!($ATTR), "`")]
               pub $field: Option<$crate::netlink::space::attr_type!($kind)>, )*
        }

        impl $Struct {
            /// Reads the attributes in `buf`: unknown ones skipped, a known one of the wrong
            /// size an error.
            pub fn parse(buf: &[u8]) -> $crate::error::Result<$Struct> {
                let mut s = $Struct::default();
                for a in $crate::netlink::attr::attrs(buf) {
                    let a = a?;
                    match a.ty {
                        $( $ATTR => s.$field = Some($crate::netlink::space::attr_read!($kind, a)), )*
                        _ => {}
                    }
                }
                Ok(s)
            }
        }
    };
}

/// Declares an attribute table for `--explain` and the constants of its attributes, one row
/// each: `NAME = NUMBER: Kind` declares the constant `NAME`; `NAME: Kind` lists one declared in
/// another table (a space that reuses another's attributes, as a bridge link message reuses
/// the link's). The kind is written as a [`Kind`] variant, with its argument if it has one:
///
/// ```text
///   attr_table! {
///       /// `NFTA_CHAIN_*`
///       CHAIN_ATTRS {
///           NFTA_CHAIN_TABLE = 1: Str,
///           NFTA_CHAIN_HOOK = 4: Nest(HOOK_ATTRS),
///       }
///   }
/// ```
macro_rules! attr_table {
    (
        $(#[$doc:meta])*
        $vis:vis $TABLE:ident {
            $( $ATTR:ident $(= $num:literal)? : $kind:ident $(($($arg:tt)*))?, )*
        }
    ) => {
        $( $( pub const $ATTR: u16 = $num; )? )*

        $(#[$doc])*
        $vis const $TABLE: &[$crate::netlink::space::Def] = &[
            $( $crate::netlink::space::Def(
                $ATTR,
                stringify!($ATTR),
                $crate::netlink::space::Kind::$kind $(($($arg)*))?,
            ), )*
        ];
    };
}

pub(crate) use {attr_read, attr_space, attr_table, attr_type};
