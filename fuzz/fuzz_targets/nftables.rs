//! nf_tables replies: chains, natctl's rules (matched back from their expressions and comment),
//! rule counters, set elements and objects.
#![no_main]
use libfuzzer_sys::fuzz_target;
use libnet_sys::nat;
use libnet_sys::netlink::nft::{self, expr, set};
use libnet_sys::netlink::{messages, MsgRef};

fuzz_target!(|data: &[u8]| {
    for m in messages(data).flatten() {
        let as_ty = |ty| MsgRef { ty, ..m };
        let _ = nft::parse_chain(&as_ty(nft::nft_type(nft::NFT_MSG_NEWCHAIN)));
        let _ = nat::nft::parse_rule(&as_ty(nft::nft_type(nft::NFT_MSG_NEWRULE)));
        let _ = set::parse_elems(&as_ty(nft::nft_type(set::NFT_MSG_NEWSETELEM)));
        let _ = set::parse_obj(&m);
        let _ = expr::counters(m.payload);
    }
    let _ = expr::counters(data);
});
