//! nf_tables expressions (<linux/netfilter/nf_tables.h>): what a rule is made of, each encoded
//! as `NFTA_LIST_ELEM { NFTA_EXPR_NAME "cmp", NFTA_EXPR_DATA { ... } }`, in the order the rule
//! runs them, the way `nft --debug=netlink` prints them.

use crate::netlink::msg::Msg;
use crate::netlink::space::{Def, Kind};
use crate::netlink::NLA_F_NESTED;

pub const NFTA_EXPR_NAME: u16 = 1;
pub const NFTA_EXPR_DATA: u16 = 2;
pub const NFTA_DATA_VALUE: u16 = 1;
pub const NFTA_DATA_VERDICT: u16 = 2;
pub const NFTA_VERDICT_CODE: u16 = 1;
pub const NFTA_VERDICT_CHAIN: u16 = 2;

/// `NFT_REG_VERDICT`, `NFT_REG_1`.. (16-byte registers).
pub const REG_VERDICT: u32 = 0;
pub const REG_1: u32 = 1;
pub const REG_2: u32 = 2;
pub const REG_3: u32 = 3;

// enum nft_payload_bases
pub const PAYLOAD_NETWORK: u32 = 1;
pub const PAYLOAD_TRANSPORT: u32 = 2;
// enum nft_cmp_ops
pub const CMP_EQ: u32 = 0;
pub const CMP_NEQ: u32 = 1;
pub const CMP_LTE: u32 = 3;
pub const CMP_GTE: u32 = 5;
// enum nft_meta_keys
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
}

impl Expr {
    pub fn name(&self) -> &'static str {
        match self {
            Expr::Payload { .. } => "payload",
            Expr::Meta { .. } => "meta",
            Expr::Cmp { .. } => "cmp",
            Expr::Bitwise { .. } => "bitwise",
            Expr::Immediate { .. } => "immediate",
            Expr::Fib { .. } => "fib",
            Expr::Ct { .. } => "ct",
            Expr::Counter => "counter",
            Expr::Nat { .. } => "nat",
            Expr::Masq => "masq",
        }
    }

    /// One `NFTA_LIST_ELEM` of `NFTA_RULE_EXPRESSIONS`.
    pub fn encode(&self, m: Msg) -> Msg {
        m.nest(1 | NLA_F_NESTED, |m| {
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
                .be32(1, *dreg)
                .be32(2, *base)
                .be32(3, *offset)
                .be32(4, *len),
            Expr::Meta { key, dreg } => m.be32(2, *key).be32(1, *dreg),
            Expr::Cmp { sreg, op, data } => value(m.be32(1, *sreg).be32(2, *op), 3, data),
            Expr::Bitwise {
                sreg,
                dreg,
                mask,
                xor,
            } => {
                let m = m.be32(1, *sreg).be32(2, *dreg).be32(3, mask.len() as u32);
                value(value(m, 4, mask), 5, xor)
            }
            Expr::Immediate { dreg, data } => {
                let m = m.be32(1, *dreg);
                match data {
                    Data::Value(v) => value(m, 2, v),
                    Data::Verdict(code, chain) => m.nest(2 | NLA_F_NESTED, |m| {
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
            } => m.be32(1, *dreg).be32(2, *result).be32(3, *flags),
            Expr::Ct { key, dreg } => m.be32(2, *key).be32(1, *dreg),
            Expr::Counter => m.be64(1, 0).be64(2, 0),
            Expr::Nat {
                ty,
                family,
                reg_addr,
                reg_proto,
            } => {
                let m = m.be32(1, *ty).be32(2, *family).be32(3, *reg_addr);
                match reg_proto {
                    Some((min, max)) => m
                        .be32(5, *min)
                        .be32(6, *max)
                        .be32(7, NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED),
                    None => m.be32(7, NF_NAT_RANGE_MAP_IPS),
                }
            }
            Expr::Masq => m,
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
                    1 => bytes = a.be64().unwrap_or(0),
                    2 => packets = a.be64().unwrap_or(0),
                    _ => {}
                }
            }
            return Some((packets, bytes));
        }
    }
    None
}

const DATA_ATTRS: &[Def] = &[
    Def(NFTA_DATA_VALUE, "NFTA_DATA_VALUE", Kind::Bytes),
    Def(
        NFTA_DATA_VERDICT,
        "NFTA_DATA_VERDICT",
        Kind::Nest(VERDICT_ATTRS),
    ),
];
const VERDICT_ATTRS: &[Def] = &[
    Def(NFTA_VERDICT_CODE, "NFTA_VERDICT_CODE", Kind::BeI32),
    Def(NFTA_VERDICT_CHAIN, "NFTA_VERDICT_CHAIN", Kind::Str),
];

/// The attributes of an expression's `NFTA_EXPR_DATA`, by its name.
pub fn schema(name: &[u8]) -> &'static [Def] {
    match name {
        b"payload" => &[
            Def(1, "NFTA_PAYLOAD_DREG", Kind::Be32),
            Def(2, "NFTA_PAYLOAD_BASE", Kind::Be32),
            Def(3, "NFTA_PAYLOAD_OFFSET", Kind::Be32),
            Def(4, "NFTA_PAYLOAD_LEN", Kind::Be32),
        ],
        b"meta" => &[
            Def(1, "NFTA_META_DREG", Kind::Be32),
            Def(2, "NFTA_META_KEY", Kind::Be32),
        ],
        b"cmp" => &[
            Def(1, "NFTA_CMP_SREG", Kind::Be32),
            Def(2, "NFTA_CMP_OP", Kind::Be32),
            Def(3, "NFTA_CMP_DATA", Kind::Nest(DATA_ATTRS)),
        ],
        b"bitwise" => &[
            Def(1, "NFTA_BITWISE_SREG", Kind::Be32),
            Def(2, "NFTA_BITWISE_DREG", Kind::Be32),
            Def(3, "NFTA_BITWISE_LEN", Kind::Be32),
            Def(4, "NFTA_BITWISE_MASK", Kind::Nest(DATA_ATTRS)),
            Def(5, "NFTA_BITWISE_XOR", Kind::Nest(DATA_ATTRS)),
        ],
        b"immediate" => &[
            Def(1, "NFTA_IMMEDIATE_DREG", Kind::Be32),
            Def(2, "NFTA_IMMEDIATE_DATA", Kind::Nest(DATA_ATTRS)),
        ],
        b"fib" => &[
            Def(1, "NFTA_FIB_DREG", Kind::Be32),
            Def(2, "NFTA_FIB_RESULT", Kind::Be32),
            Def(3, "NFTA_FIB_FLAGS", Kind::Be32),
        ],
        b"ct" => &[
            Def(1, "NFTA_CT_DREG", Kind::Be32),
            Def(2, "NFTA_CT_KEY", Kind::Be32),
            Def(3, "NFTA_CT_DIRECTION", Kind::U8),
        ],
        b"counter" => &[
            Def(1, "NFTA_COUNTER_BYTES", Kind::Be64),
            Def(2, "NFTA_COUNTER_PACKETS", Kind::Be64),
        ],
        b"nat" => &[
            Def(1, "NFTA_NAT_TYPE", Kind::Be32),
            Def(2, "NFTA_NAT_FAMILY", Kind::Be32),
            Def(3, "NFTA_NAT_REG_ADDR_MIN", Kind::Be32),
            Def(4, "NFTA_NAT_REG_ADDR_MAX", Kind::Be32),
            Def(5, "NFTA_NAT_REG_PROTO_MIN", Kind::Be32),
            Def(6, "NFTA_NAT_REG_PROTO_MAX", Kind::Be32),
            Def(7, "NFTA_NAT_FLAGS", Kind::Be32),
        ],
        b"masq" => &[
            Def(1, "NFTA_MASQ_FLAGS", Kind::Be32),
            Def(2, "NFTA_MASQ_REG_PROTO_MIN", Kind::Be32),
            Def(3, "NFTA_MASQ_REG_PROTO_MAX", Kind::Be32),
        ],
        _ => &[],
    }
}
