//! ctnetlink replies: conntrack flows, and the match natctl deletes them by.
#![no_main]
use libfuzzer_sys::fuzz_target;
use libnet_sys::netlink::ctnetlink::{self, ct_type, IPCTNL_MSG_CT_NEW};
use libnet_sys::netlink::{messages, MsgRef};

fuzz_target!(|data: &[u8]| {
    for m in messages(data).flatten() {
        if let Ok(Some(f)) = ctnetlink::parse_flow(&MsgRef {
            ty: ct_type(IPCTNL_MSG_CT_NEW),
            ..m
        }) {
            let _ = ctnetlink::matches(&f.orig, 6, None, 1, u16::MAX);
            let _ = ctnetlink::del_flow(&f);
        }
    }
});
