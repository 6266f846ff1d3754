//! The --explain decoder: any datagram, as rtnetlink and as netfilter (nf_tables and
//! ctnetlink); it must describe anything without failing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use libnet_sys::netlink::decode::describe;
use libnet_sys::netlink::{nfnetlink::NETFILTER, rtnl::ROUTE};

fuzz_target!(|data: &[u8]| {
    let _ = describe(&ROUTE, data);
    let _ = describe(&NETFILTER, data);
});
