//! nf_tables expressions (<linux/netfilter/nf_tables.h>): what a rule is made of, each encoded
//! as `NFTA_LIST_ELEM { NFTA_EXPR_NAME "cmp", NFTA_EXPR_DATA { ... } }`, in the order the rule
//! runs them, the way `nft --debug=netlink` prints them.

use crate::netlink::msg::Msg;
use crate::netlink::space::{attr_table, Def};
use crate::netlink::NLA_F_NESTED;

pub const NFTA_EXPR_NAME: u16 = 1;
pub const NFTA_EXPR_DATA: u16 = 2;

/// `NFT_REG_VERDICT`, `NFT_REG_1`.. (16-byte registers).
pub const REG_VERDICT: u32 = 0;
pub const REG_1: u32 = 1;
pub const REG_2: u32 = 2;
pub const REG_3: u32 = 3;
/// The first 32-bit register, `NFT_REG32_00`: a 128-bit register is four of them.
pub const NFT_REG32_00: u32 = 8;

// enum nft_payload_bases
pub const PAYLOAD_NETWORK: u32 = 1;
pub const PAYLOAD_TRANSPORT: u32 = 2;
// enum nft_cmp_ops
pub const CMP_EQ: u32 = 0;
pub const CMP_NEQ: u32 = 1;
pub const CMP_LTE: u32 = 3;
pub const CMP_GTE: u32 = 5;
// enum nft_meta_keys
pub const META_MARK: u32 = 3;
pub const META_IIF: u32 = 4;
pub const META_IIFNAME: u32 = 6;
pub const META_OIFNAME: u32 = 7;
pub const META_L4PROTO: u32 = 16;
// enum nft_fib_result, enum nft_fib_flags
pub const FIB_RESULT_ADDRTYPE: u32 = 3;
pub const FIB_F_SADDR: u32 = 1;
pub const FIB_F_DADDR: u32 = 2;
// enum nft_nat_types, NF_NAT_RANGE_* (<linux/netfilter/nf_nat.h>)
pub const NAT_SNAT: u32 = 0;
pub const NAT_DNAT: u32 = 1;
pub const NF_NAT_RANGE_MAP_IPS: u32 = 1;
pub const NF_NAT_RANGE_PROTO_SPECIFIED: u32 = 2;
// enum nft_ct_keys
pub const CT_STATUS: u32 = 2;
/// `IPS_DST_NAT` (<linux/netfilter/nf_conntrack_common.h>).
pub const IPS_DST_NAT: u32 = 0x20;
// verdicts (<linux/netfilter/nf_tables.h>; NF_ACCEPT and NF_DROP from libc)
pub const NFT_JUMP: i32 = -3;

/// What an immediate puts in its register: bytes, or a verdict (with the chain of a jump).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Data {
    Value(Vec<u8>),
    Verdict(i32, Option<String>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// Loads `len` bytes at `offset` of a header into `dreg`.
    Payload {
        base: u32,
        offset: u32,
        len: u32,
        dreg: u32,
    },
    Meta {
        key: u32,
        dreg: u32,
    },
    /// Sets a meta key (the packet's mark) from `sreg`.
    MetaSet {
        key: u32,
        sreg: u32,
    },
    /// `hton` of `len` bytes of `size`-byte numbers (nft writes one for `meta l4proto` in a
    /// concatenation: one byte, so it changes nothing).
    Hton {
        reg: u32,
        len: u32,
        size: u32,
    },
    Cmp {
        sreg: u32,
        op: u32,
        data: Vec<u8>,
    },
    /// `dreg = (sreg & mask) ^ xor`
    Bitwise {
        sreg: u32,
        dreg: u32,
        mask: Vec<u8>,
        xor: Vec<u8>,
    },
    Immediate {
        dreg: u32,
        data: Data,
    },
    Fib {
        flags: u32,
        result: u32,
        dreg: u32,
    },
    Ct {
        key: u32,
        dreg: u32,
    },
    Counter,
    /// Source or destination NAT to the address (and port range) in the registers given.
    Nat {
        ty: u32,
        family: u32,
        reg_addr: u32,
        reg_proto: Option<(u32, u32)>,
    },
    Masq,
    /// Looks the key in `sreg` up in a set: no match ends the rule; a map's data goes to `dreg`.
    Lookup {
        set: String,
        sreg: u32,
        dreg: Option<u32>,
    },
}

impl Expr {
    pub fn name(&self) -> &'static str {
        match self {
            Expr::Payload { .. } => "payload",
            Expr::Meta { .. } | Expr::MetaSet { .. } => "meta",
            Expr::Hton { .. } => "byteorder",
            Expr::Cmp { .. } => "cmp",
            Expr::Bitwise { .. } => "bitwise",
            Expr::Immediate { .. } => "immediate",
            Expr::Fib { .. } => "fib",
            Expr::Ct { .. } => "ct",
            Expr::Counter => "counter",
            Expr::Nat { .. } => "nat",
            Expr::Masq => "masq",
            Expr::Lookup { .. } => "lookup",
        }
    }

    /// One `NFTA_LIST_ELEM` of `NFTA_RULE_EXPRESSIONS`.
    pub fn encode(&self, m: Msg) -> Msg {
        m.nest(super::NFTA_LIST_ELEM | NLA_F_NESTED, |m| {
            m.str(NFTA_EXPR_NAME, self.name())
                .nest(NFTA_EXPR_DATA | NLA_F_NESTED, |m| self.data(m))
        })
    }

    fn data(&self, m: Msg) -> Msg {
        let value =
            |m: Msg, ty: u16, v: &[u8]| m.nest(ty | NLA_F_NESTED, |m| m.bytes(NFTA_DATA_VALUE, v));
        match self {
            Expr::Payload {
                base,
                offset,
                len,
                dreg,
            } => m
                .be32(NFTA_PAYLOAD_DREG, *dreg)
                .be32(NFTA_PAYLOAD_BASE, *base)
                .be32(NFTA_PAYLOAD_OFFSET, *offset)
                .be32(NFTA_PAYLOAD_LEN, *len),
            Expr::Meta { key, dreg } => m.be32(NFTA_META_KEY, *key).be32(NFTA_META_DREG, *dreg),
            Expr::MetaSet { key, sreg } => m.be32(NFTA_META_KEY, *key).be32(NFTA_META_SREG, *sreg),
            Expr::Hton { reg, len, size } => m
                .be32(NFTA_BYTEORDER_SREG, *reg)
                .be32(NFTA_BYTEORDER_DREG, *reg)
                .be32(NFTA_BYTEORDER_OP, NFT_BYTEORDER_HTON)
                .be32(NFTA_BYTEORDER_LEN, *len)
                .be32(NFTA_BYTEORDER_SIZE, *size),
            Expr::Cmp { sreg, op, data } => value(
                m.be32(NFTA_CMP_SREG, *sreg).be32(NFTA_CMP_OP, *op),
                NFTA_CMP_DATA,
                data,
            ),
            Expr::Bitwise {
                sreg,
                dreg,
                mask,
                xor,
            } => {
                let m = m
                    .be32(NFTA_BITWISE_SREG, *sreg)
                    .be32(NFTA_BITWISE_DREG, *dreg)
                    .be32(NFTA_BITWISE_LEN, mask.len() as u32);
                value(value(m, NFTA_BITWISE_MASK, mask), NFTA_BITWISE_XOR, xor)
            }
            Expr::Immediate { dreg, data } => {
                let m = m.be32(NFTA_IMMEDIATE_DREG, *dreg);
                match data {
                    Data::Value(v) => value(m, NFTA_IMMEDIATE_DATA, v),
                    Data::Verdict(code, chain) => m.nest(NFTA_IMMEDIATE_DATA | NLA_F_NESTED, |m| {
                        m.nest(NFTA_DATA_VERDICT | NLA_F_NESTED, |m| {
                            let m = m.be32(NFTA_VERDICT_CODE, *code as u32);
                            match chain {
                                Some(c) => m.str(NFTA_VERDICT_CHAIN, c),
                                None => m,
                            }
                        })
                    }),
                }
            }
            Expr::Fib {
                flags,
                result,
                dreg,
            } => m
                .be32(NFTA_FIB_DREG, *dreg)
                .be32(NFTA_FIB_RESULT, *result)
                .be32(NFTA_FIB_FLAGS, *flags),
            Expr::Ct { key, dreg } => m.be32(NFTA_CT_KEY, *key).be32(NFTA_CT_DREG, *dreg),
            Expr::Counter => m.be64(NFTA_COUNTER_BYTES, 0).be64(NFTA_COUNTER_PACKETS, 0),
            Expr::Nat {
                ty,
                family,
                reg_addr,
                reg_proto,
            } => {
                let m = m
                    .be32(NFTA_NAT_TYPE, *ty)
                    .be32(NFTA_NAT_FAMILY, *family)
                    .be32(NFTA_NAT_REG_ADDR_MIN, *reg_addr);
                match reg_proto {
                    Some((min, max)) => m
                        .be32(NFTA_NAT_REG_PROTO_MIN, *min)
                        .be32(NFTA_NAT_REG_PROTO_MAX, *max)
                        .be32(
                            NFTA_NAT_FLAGS,
                            NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED,
                        ),
                    None => m.be32(NFTA_NAT_FLAGS, NF_NAT_RANGE_MAP_IPS),
                }
            }
            Expr::Masq => m,
            Expr::Lookup { set, sreg, dreg } => {
                let m = m.str(NFTA_LOOKUP_SET, set).be32(NFTA_LOOKUP_SREG, *sreg);
                match dreg {
                    Some(d) => m.be32(NFTA_LOOKUP_DREG, *d),
                    None => m,
                }
            }
        }
    }
}

/// `NFTA_COUNTER_PACKETS` and `_BYTES` of the first counter among a dumped rule's expressions.
pub fn counters(exprs: &[u8]) -> Option<(u64, u64)> {
    use crate::netlink::attr::attrs;
    for elem in attrs(exprs).flatten() {
        let (mut name, mut data) = (&b""[..], &b""[..]);
        for a in attrs(elem.value).flatten() {
            match a.ty {
                NFTA_EXPR_NAME => name = a.str_bytes(),
                NFTA_EXPR_DATA => data = a.value,
                _ => {}
            }
        }
        if name == b"counter" {
            let (mut bytes, mut packets) = (0, 0);
            for a in attrs(data).flatten() {
                match a.ty {
                    NFTA_COUNTER_BYTES => bytes = a.be64().unwrap_or(0),
                    NFTA_COUNTER_PACKETS => packets = a.be64().unwrap_or(0),
                    _ => {}
                }
            }
            return Some((packets, bytes));
        }
    }
    None
}

attr_table! {
    /// `enum nft_data_attributes`
    pub(crate) DATA_ATTRS {
        NFTA_DATA_VALUE = 1: Bytes,
        NFTA_DATA_VERDICT = 2: Nest(VERDICT_ATTRS),
    }
}

attr_table! {
    /// `enum nft_verdict_attributes`
    VERDICT_ATTRS {
        NFTA_VERDICT_CODE = 1: BeI32,
        NFTA_VERDICT_CHAIN = 2: Str,
    }
}

attr_table! {
    /// `enum nft_payload_attributes`
    PAYLOAD_ATTRS {
        NFTA_PAYLOAD_DREG = 1: Be32,
        NFTA_PAYLOAD_BASE = 2: Be32,
        NFTA_PAYLOAD_OFFSET = 3: Be32,
        NFTA_PAYLOAD_LEN = 4: Be32,
    }
}

attr_table! {
    /// `enum nft_meta_attributes`
    META_ATTRS {
        NFTA_META_DREG = 1: Be32,
        NFTA_META_KEY = 2: Be32,
        NFTA_META_SREG = 3: Be32,
    }
}

/// `NFT_BYTEORDER_HTON` (`enum nft_byteorder_ops`)
pub const NFT_BYTEORDER_HTON: u32 = 1;

attr_table! {
    /// `enum nft_byteorder_attributes`
    BYTEORDER_ATTRS {
        NFTA_BYTEORDER_SREG = 1: Be32,
        NFTA_BYTEORDER_DREG = 2: Be32,
        NFTA_BYTEORDER_OP = 3: Be32,
        NFTA_BYTEORDER_LEN = 4: Be32,
        NFTA_BYTEORDER_SIZE = 5: Be32,
    }
}

attr_table! {
    /// `enum nft_cmp_attributes`
    CMP_ATTRS {
        NFTA_CMP_SREG = 1: Be32,
        NFTA_CMP_OP = 2: Be32,
        NFTA_CMP_DATA = 3: Nest(DATA_ATTRS),
    }
}

attr_table! {
    /// `enum nft_bitwise_attributes`
    BITWISE_ATTRS {
        NFTA_BITWISE_SREG = 1: Be32,
        NFTA_BITWISE_DREG = 2: Be32,
        NFTA_BITWISE_LEN = 3: Be32,
        NFTA_BITWISE_MASK = 4: Nest(DATA_ATTRS),
        NFTA_BITWISE_XOR = 5: Nest(DATA_ATTRS),
    }
}

attr_table! {
    /// `enum nft_immediate_attributes`
    IMMEDIATE_ATTRS {
        NFTA_IMMEDIATE_DREG = 1: Be32,
        NFTA_IMMEDIATE_DATA = 2: Nest(DATA_ATTRS),
    }
}

attr_table! {
    /// `enum nft_fib_attributes`
    FIB_ATTRS {
        NFTA_FIB_DREG = 1: Be32,
        NFTA_FIB_RESULT = 2: Be32,
        NFTA_FIB_FLAGS = 3: Be32,
    }
}

attr_table! {
    /// `enum nft_ct_attributes`
    CT_ATTRS {
        NFTA_CT_DREG = 1: Be32,
        NFTA_CT_KEY = 2: Be32,
        NFTA_CT_DIRECTION = 3: U8,
    }
}

attr_table! {
    /// `enum nft_counter_attributes`
    COUNTER_ATTRS {
        NFTA_COUNTER_BYTES = 1: Be64,
        NFTA_COUNTER_PACKETS = 2: Be64,
    }
}

attr_table! {
    /// `enum nft_nat_attributes`
    NAT_ATTRS {
        NFTA_NAT_TYPE = 1: Be32,
        NFTA_NAT_FAMILY = 2: Be32,
        NFTA_NAT_REG_ADDR_MIN = 3: Be32,
        NFTA_NAT_REG_ADDR_MAX = 4: Be32,
        NFTA_NAT_REG_PROTO_MIN = 5: Be32,
        NFTA_NAT_REG_PROTO_MAX = 6: Be32,
        NFTA_NAT_FLAGS = 7: Be32,
    }
}

attr_table! {
    /// `enum nft_masq_attributes`
    MASQ_ATTRS {
        NFTA_MASQ_FLAGS = 1: Be32,
        NFTA_MASQ_REG_PROTO_MIN = 2: Be32,
        NFTA_MASQ_REG_PROTO_MAX = 3: Be32,
    }
}

attr_table! {
    /// `enum nft_lookup_attributes`
    LOOKUP_ATTRS {
        NFTA_LOOKUP_SET = 1: Str,
        NFTA_LOOKUP_SREG = 2: Be32,
        NFTA_LOOKUP_DREG = 3: Be32,
    }
}

/// The attributes of an expression's `NFTA_EXPR_DATA`, by its name.
pub fn schema(name: &[u8]) -> &'static [Def] {
    match name {
        b"payload" => PAYLOAD_ATTRS,
        b"meta" => META_ATTRS,
        b"cmp" => CMP_ATTRS,
        b"bitwise" => BITWISE_ATTRS,
        b"immediate" => IMMEDIATE_ATTRS,
        b"fib" => FIB_ATTRS,
        b"ct" => CT_ATTRS,
        b"counter" => COUNTER_ATTRS,
        b"nat" => NAT_ATTRS,
        b"masq" => MASQ_ATTRS,
        b"lookup" => LOOKUP_ATTRS,
        b"byteorder" => BYTEORDER_ATTRS,
        _ => &[],
    }
}
