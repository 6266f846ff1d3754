//! rtnetlink replies: every message of a datagram through each parser, also with its type
//! forced to the one that parser takes (so the attributes are reached without the fuzzer
//! having to find the type first). Errors are fine; a panic is a finding.
#![no_main]
use libfuzzer_sys::fuzz_target;
use libnet_sys::netlink::rtnl::{self, addr, link, neigh, nsid, route};
use libnet_sys::netlink::{ack, messages, MsgRef};

fuzz_target!(|data: &[u8]| {
    for m in messages(data).flatten() {
        let as_ty = |ty| MsgRef { ty, ..m };
        let _ = link::parse_link(&as_ty(rtnl::RTM_NEWLINK));
        let _ = addr::parse_addr(&as_ty(rtnl::RTM_NEWADDR));
        let _ = route::parse_route(&as_ty(rtnl::RTM_NEWROUTE));
        let _ = nsid::parse_nsid(&as_ty(rtnl::RTM_NEWNSID));
        let _ = neigh::parse_neigh(&as_ty(rtnl::RTM_NEWNEIGH));
        let _ = ack::parse_error(&m);
    }
});
