//! The /proc and sysfs readers: /proc/net/route, /proc/net/ipv6_route, /proc/net/dev,
//! /proc/net/arp, a
//! bridge's brforward records, a sysfs number.
#![no_main]
use libfuzzer_sys::fuzz_target;
use libnet_sys::ioctl::bridge::FdbEntryRaw;
use libnet_sys::{route, sysfs};

fuzz_target!(|data: &[u8]| {
    let _ = route::parse_proc_net_route(data);
    let _ = route::ipv6_route_has(data, "2001:db8::".parse().expect("addr"), 64, 1024);
    let _ = sysfs::parse_proc_net_dev(data);
    let _ = sysfs::arp::parse_proc_net_arp(data);
    let _ = sysfs::parse_num("/sys/class/net/x/brport/port_no", data);
    for r in data.chunks_exact(16) {
        let _ = FdbEntryRaw::from_record(r.try_into().expect("16 bytes")).entry();
    }
});
