//! The library's word parsers: interface names, MACs, namespace targets and names, host
//! names, NAT subnets, port ranges and whole rules. The input is split on NUL into words.
#![no_main]
use libfuzzer_sys::fuzz_target;
use libnet_sys::ifname::{IfName, Mac};
use libnet_sys::nat::{Ports, Rule, Subnet};
use libnet_sys::netns::{self, hosts, NsTarget};

fuzz_target!(|data: &[u8]| {
    let _ = IfName::from_bytes(data);
    let text = String::from_utf8_lossy(data);
    let words: Vec<&str> = text.split('\0').collect();
    for w in &words {
        let _ = IfName::new(w);
        let _ = Mac::parse(w);
        let _ = NsTarget::parse(w);
        let _ = netns::check_name(w);
        let _ = hosts::check_hostname(w);
        let _ = hosts::path_of(w);
        let _ = Subnet::parse(w);
        let _ = Ports::parse(w);
        let _ = libnet_sys::Via::parse(w);
    }
    // The rule's kind by the first byte, so every kind's options are reached.
    let kind =
        ["masquerade", "snat", "publish", "isolate"][data.first().map_or(0, |b| *b as usize % 4)];
    if let Ok(r) = Rule::parse(kind, &words) {
        let _ = r.kind();
    }
});
