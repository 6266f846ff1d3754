//! Byte-level tests of libnet-sys against what iproute2 6.1 and the kernel really put on the
//! wire (the captures in `tests/golden/`, format in `tests/golden/README.md`).
//!
//! Pure byte tests: no socket is opened, no file outside the fixtures is read, nothing in the
//! system is changed, and no privilege is needed.
//!
//! - requests: our builders must produce iproute2's bytes, `nlmsg_seq`/`nlmsg_pid` (8..16)
//!   masked;
//! - replies: the decoders must read the recorded kernel answers as `ip -j -d` did;
//! - malformed input: every decoder returns an error, never panics (truncation and byte-flip
//!   loops over a real 1880-byte reply);
//! - `--explain`'s decoder, the sysfs number parser and the `brforward` record.
//!
//! The fixtures are little-endian captures (x86-64) and netlink is host-endian, so the whole
//! file only runs on little-endian hosts.
#![cfg(target_endian = "little")]

use libnet_sys::bridge::BridgeId;
use libnet_sys::error::Cause;
use libnet_sys::ifname::IfName;
use libnet_sys::ioctl::bridge::FdbEntryRaw;
use libnet_sys::netlink::ack::parse_error;
use libnet_sys::netlink::attr::{attrs, messages, Attr, MsgRef};
use libnet_sys::netlink::decode::describe;
use libnet_sys::netlink::msg::Msg;
use libnet_sys::netlink::rtnl::addr::{del_addr, dump_addrs, new_addr, parse_addr, AF_INET};
use libnet_sys::netlink::rtnl::link::{
    del_group, del_link, dump_links, get_link, new_bridge, new_veth, parse_link, set_bridge,
    set_flags, set_link, set_master, set_port, BrAttr, BrPortAttr, LinkAttr, NewLink, IFF_UP,
};
use libnet_sys::netlink::rtnl::link::{new_vxlan, VxlanAttrs, VxlanData};
use libnet_sys::netlink::rtnl::neigh::{
    del_neigh, dump_fdb, dump_fdb_dev, dump_neigh, new_neigh, parse_neigh, NeighAttrs, NeighOp,
    Neighbour, AF_INET6, NTF_MASTER, NTF_PROXY, NTF_SELF, NUD_NOARP, NUD_PERMANENT, NUD_REACHABLE,
};
use libnet_sys::netlink::rtnl::nsid;
use libnet_sys::netlink::rtnl::*;
use libnet_sys::netlink::*;
use libnet_sys::sysfs::parse_num;
use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

// ---------------------------------------------------------------------------------------------
// Fixture loader
// ---------------------------------------------------------------------------------------------

/// One `tests/golden/NAME.hex`: its `#` comment lines and its bytes.
struct Fixture {
    name: String,
    comments: Vec<String>,
    bytes: Vec<u8>,
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/golden")
}

fn fixture(name: &str) -> Fixture {
    let path = golden_dir().join(format!("{name}.hex"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    let mut comments = Vec::new();
    let mut bytes = Vec::new();
    for (no, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(c) = line.strip_prefix('#') {
            comments.push(c.trim().to_string());
            continue;
        }
        for pair in line.split_whitespace() {
            let b = u8::from_str_radix(pair, 16).unwrap_or_else(|_| {
                panic!("{name}.hex line {}: {pair:?} is not a hex byte", no + 1)
            });
            bytes.push(b);
        }
    }
    // README: "nlmsg_len always equals the number of bytes in the file".
    assert!(bytes.len() >= NLMSG_HDRLEN, "{name}: shorter than a header");
    let len = u32::from_ne_bytes(bytes[0..4].try_into().unwrap()) as usize;
    assert_eq!(
        len,
        bytes.len(),
        "{name}: nlmsg_len disagrees with the byte count"
    );
    Fixture {
        name: name.to_string(),
        comments,
        bytes,
    }
}

impl Fixture {
    /// The command on the first comment line.
    fn command(&self) -> &str {
        &self.comments[0]
    }

    /// `dev`'s ifindex from the `# ifindex:` line (the first `dev=N` on it, i.e. "before").
    fn ifindex(&self, dev: &str) -> u32 {
        let line = self
            .comments
            .iter()
            .find_map(|c| c.strip_prefix("ifindex:"))
            .unwrap_or_else(|| panic!("{}: no `# ifindex:` line", self.name));
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(dev)?.strip_prefix('='))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{}: no ifindex for {dev} in {line:?}", self.name))
    }

    /// The single message of the file, split with `attr::messages()`.
    fn msg(&self) -> MsgRef<'_> {
        let mut it = messages(&self.bytes);
        let m = it
            .next()
            .expect("one message")
            .unwrap_or_else(|e| panic!("{}: {e}", self.name));
        assert!(it.next().is_none(), "{}: more than one message", self.name);
        m
    }
}

fn hex_line(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------------
// 2. Golden request bytes
// ---------------------------------------------------------------------------------------------

const SEQ: u32 = 0x1122_3344;
const PID: u32 = 0x5566_7788;

/// Builds `msg`, checks that the fixture was captured from `command`, and compares the bytes
/// with seq and pid (8..16) masked.
fn assert_golden(name: &str, command: &str, msg: Msg) {
    let fx = fixture(name);
    assert_eq!(
        fx.command(),
        command,
        "{name}: fixture is of another command"
    );
    let ours = msg.finish(SEQ, PID);
    assert_eq!(&ours[8..12], &SEQ.to_ne_bytes(), "{name}: finish() seq");
    assert_eq!(&ours[12..16], &PID.to_ne_bytes(), "{name}: finish() pid");
    let mask = |b: &[u8]| {
        let mut b = b.to_vec();
        if b.len() >= 16 {
            b[8..16].fill(0);
        }
        b
    };
    let (ours_m, theirs_m) = (mask(&ours), mask(&fx.bytes));
    if ours_m != theirs_m {
        let mut diff = String::new();
        for i in 0..ours_m.len().max(theirs_m.len()) {
            let (a, b) = (ours_m.get(i), theirs_m.get(i));
            if a != b {
                diff.push_str(&format!("  @{i}: ours {a:02x?} iproute2 {b:02x?}\n"));
            }
        }
        panic!(
            "{name} ({command}): bytes differ (ours {} bytes, iproute2 {} bytes)\n{diff}\
             ours:     {}\niproute2: {}",
            ours.len(),
            fx.bytes.len(),
            hex_line(&ours_m),
            hex_line(&theirs_m)
        );
    }
}

fn name(s: &str) -> IfName {
    IfName::new(s).unwrap()
}

#[test]
fn golden_link_add_bridge() {
    // ip link add br0 type bridge
    assert_golden(
        "link_add_bridge",
        "ip link add br0 type bridge",
        new_bridge(&name("br0")),
    );
}

#[test]
fn golden_link_del() {
    // ip link del br0
    let br0 = fixture("link_del").ifindex("br0");
    assert_eq!(br0, 2);
    assert_golden("link_del", "ip link del br0", del_link(br0));
}

#[test]
fn golden_link_set_master() {
    // ip link set v1a master br0
    let fx = fixture("link_set_master");
    let (v1a, br0) = (fx.ifindex("v1a"), fx.ifindex("br0"));
    assert_eq!((v1a, br0), (4, 2));
    assert_golden(
        "link_set_master",
        "ip link set v1a master br0",
        set_master(v1a, br0),
    );
}

#[test]
fn golden_link_set_nomaster() {
    // ip link set v1a nomaster
    let v1a = fixture("link_set_nomaster").ifindex("v1a");
    assert_golden(
        "link_set_nomaster",
        "ip link set v1a nomaster",
        set_master(v1a, 0),
    );
}

fn golden_bridge(fixture_name: &str, command: &str, attr: BrAttr) {
    let br0 = fixture(fixture_name).ifindex("br0");
    assert_eq!(br0, 2);
    assert_golden(fixture_name, command, set_bridge(br0, attr));
}

#[test]
fn golden_br_forward_delay() {
    // ip link set br0 type bridge forward_delay 500
    golden_bridge(
        "br_forward_delay",
        "ip link set br0 type bridge forward_delay 500",
        BrAttr::U32(IFLA_BR_FORWARD_DELAY, 500),
    );
}

#[test]
fn golden_br_hello_time() {
    // ip link set br0 type bridge hello_time 300
    golden_bridge(
        "br_hello_time",
        "ip link set br0 type bridge hello_time 300",
        BrAttr::U32(IFLA_BR_HELLO_TIME, 300),
    );
}

#[test]
fn golden_br_max_age() {
    // ip link set br0 type bridge max_age 1000
    golden_bridge(
        "br_max_age",
        "ip link set br0 type bridge max_age 1000",
        BrAttr::U32(IFLA_BR_MAX_AGE, 1000),
    );
}

#[test]
fn golden_br_ageing_time() {
    // ip link set br0 type bridge ageing_time 6000
    golden_bridge(
        "br_ageing_time",
        "ip link set br0 type bridge ageing_time 6000",
        BrAttr::U32(IFLA_BR_AGEING_TIME, 6000),
    );
}

#[test]
fn golden_br_stp_state() {
    // ip link set br0 type bridge stp_state 1
    golden_bridge(
        "br_stp_state",
        "ip link set br0 type bridge stp_state 1",
        BrAttr::U32(IFLA_BR_STP_STATE, 1),
    );
}

#[test]
fn golden_br_priority() {
    // ip link set br0 type bridge priority 4096   (IFLA_BR_PRIORITY is a u16: nla_len 6 + 2 pad)
    golden_bridge(
        "br_priority",
        "ip link set br0 type bridge priority 4096",
        BrAttr::U16(IFLA_BR_PRIORITY, 4096),
    );
}

fn golden_port(fixture_name: &str, command: &str, attr: BrPortAttr) {
    let v1a = fixture(fixture_name).ifindex("v1a");
    assert_eq!(v1a, 4);
    assert_golden(fixture_name, command, set_port(v1a, attr));
}

#[test]
fn golden_brport_cost() {
    // bridge link set dev v1a cost 77
    golden_port(
        "brport_cost",
        "bridge link set dev v1a cost 77",
        BrPortAttr::U32(IFLA_BRPORT_COST, 77),
    );
}

#[test]
fn golden_brport_priority() {
    // bridge link set dev v1a priority 5
    golden_port(
        "brport_priority",
        "bridge link set dev v1a priority 5",
        BrPortAttr::U16(IFLA_BRPORT_PRIORITY, 5),
    );
}

#[test]
fn golden_brport_hairpin_on() {
    // bridge link set dev v1a hairpin on   (IFLA_BRPORT_MODE u8 1)
    golden_port(
        "brport_hairpin_on",
        "bridge link set dev v1a hairpin on",
        BrPortAttr::U8(IFLA_BRPORT_MODE, 1),
    );
}

#[test]
fn golden_link_dump_request() {
    // ip link show   (AF_PACKET, NLM_F_DUMP, IFLA_EXT_MASK = RTEXT_FILTER_VF)
    assert_eq!(RTEXT_FILTER_VF, 1);
    assert_golden(
        "link_dump_request",
        "ip link show",
        dump_links(RTEXT_FILTER_VF),
    );
}

#[test]
fn golden_link_get_request() {
    // ip -d link show dev br0   (AF_PACKET, IFLA_IFNAME then IFLA_EXT_MASK = RTEXT_FILTER_VF)
    assert_golden(
        "link_get_request",
        "ip -d link show dev br0",
        get_link(&name("br0"), RTEXT_FILTER_VF),
    );
}

#[test]
fn golden_neigh_dump_bridge_request() {
    // bridge fdb show br br0   (only the 36-byte message; iproute2 send()s 248 zero bytes after it)
    let br0 = fixture("neigh_dump_bridge_request").ifindex("br0");
    assert_golden(
        "neigh_dump_bridge_request",
        "bridge fdb show br br0",
        dump_fdb(br0),
    );
}

#[test]
fn golden_link_set_up_and_down() {
    // ip link set br0 up   /   ip link set va down
    assert_golden(
        "link_set_up",
        "ip link set br0 up",
        set_flags(2, IFF_UP, IFF_UP),
    );
    assert_golden(
        "link_set_down",
        "ip link set va down",
        set_flags(3, 0, IFF_UP),
    );
}

fn end(n: &str, netns_fd: Option<i32>, mtu: Option<u32>, address: Option<[u8; 6]>) -> NewLink {
    NewLink {
        name: name(n),
        netns_fd,
        mtu,
        address,
        up: false,
    }
}

#[test]
fn golden_veth() {
    // The IFLA_NET_NS_FD values are the fds iproute2 had open on /run/netns/h1 (4) and h2 (5).
    // ip link add va type veth peer name vb
    assert_golden(
        "veth_add",
        "ip link add va type veth peer name vb",
        new_veth(
            &end("va", None, None, None),
            &end("vb", None, None, None),
            None,
        ),
    );
    // ip link add va type veth peer name vb netns h1
    assert_golden(
        "veth_add_peer_netns",
        "ip link add va type veth peer name vb netns h1",
        new_veth(
            &end("va", None, None, None),
            &end("vb", Some(4), None, None),
            None,
        ),
    );
    // ip link add va netns h1 type veth peer name vb netns h2
    assert_golden(
        "veth_add_both_netns",
        "ip link add va netns h1 type veth peer name vb netns h2",
        new_veth(
            &end("va", Some(4), None, None),
            &end("vb", Some(5), None, None),
            None,
        ),
    );
    // ip link add va mtu 1400 address 02:00:00:00:00:01 type veth peer name vb address 02:00:00:00:00:02
    assert_golden(
        "veth_add_mtu_mac",
        "ip link add va mtu 1400 address 02:00:00:00:00:01 type veth peer name vb address 02:00:00:00:00:02",
        new_veth(&end("va", None, Some(1400), Some([2, 0, 0, 0, 0, 1])), &end("vb", None, None, Some([2, 0, 0, 0, 0, 2])), None),
    );
}

#[test]
fn golden_vxlan() {
    // ip link add vx1 mtu 1400 master br0 up type vxlan ... (everything in one request)
    let fx = fixture("vxlan_add");
    let (ul0, br0) = (fx.ifindex("ul0"), fx.ifindex("br0"));
    let mut dev = end("vx1", None, Some(1400), None);
    dev.up = true;
    let vx = VxlanData {
        vni: 4242,
        local: Some("192.0.2.1".parse().unwrap()),
        lower: Some(ul0),
        port: 4789,
        learning: false,
        proxy: true,
        ttl: Some(64),
        ageing: Some(300),
    };
    assert_golden(
        "vxlan_add",
        "ip link add vx1 mtu 1400 master br0 up type vxlan id 4242 dev ul0 proxy ttl 64 ageing 300 local 192.0.2.1 nolearning dstport 4789",
        new_vxlan(&dev, Some(br0), &vx),
    );
    // An IPv6 local address is IFLA_VXLAN_LOCAL6; learning (the default) is said anyway.
    let vx6 = VxlanData {
        vni: 7,
        local: Some("2001:db8::1".parse().unwrap()),
        lower: None,
        port: 4789,
        learning: true,
        proxy: false,
        ttl: None,
        ageing: None,
    };
    assert_golden(
        "vxlan_add_v6",
        "ip link add vx6 type vxlan id 7 local 2001:db8::1 dstport 4789",
        new_vxlan(&end("vx6", None, None, None), None, &vx6),
    );
    // The request reads back through the one declaration of IFLA_VXLAN_*.
    let m = fx.msg();
    let text = describe(&ROUTE, &fx.bytes);
    for want in [
        "    IFLA_VXLAN_LINK 6",
        "    IFLA_VXLAN_PROXY 1",
        "    IFLA_VXLAN_ID 4242",
        "    IFLA_VXLAN_LOCAL 192.0.2.1",
        "    IFLA_VXLAN_LEARNING 0",
        "    IFLA_VXLAN_PORT 4789 (network order)",
    ] {
        assert!(text.lines().any(|l| l == want), "no {want:?} in:\n{text}");
    }
    let data = attrs(&m.payload[16..])
        .flatten()
        .find(|a| a.ty == IFLA_LINKINFO)
        .and_then(|li| li.nested_attrs().flatten().find(|a| a.ty == IFLA_INFO_DATA))
        .expect("IFLA_INFO_DATA");
    let parsed = VxlanAttrs::parse(data.value).unwrap();
    assert_eq!(
        (
            parsed.id,
            parsed.link,
            parsed.port,
            parsed.learning,
            parsed.proxy,
            parsed.ttl,
            parsed.ageing
        ),
        (
            Some(4242),
            Some(6),
            Some(4789),
            Some(0),
            Some(1),
            Some(64),
            Some(300)
        )
    );
    assert_eq!(parsed.local, Some("192.0.2.1".parse().unwrap()));
}

/// An `AF_BRIDGE` entry on `dev` as `bridge fdb` writes one.
fn fdb(dev: u32, state: u16, flags: u8, mac: [u8; 6], dst: Option<&str>) -> Neighbour {
    let mut n = Neighbour::header(AF_BRIDGE, dev, state, flags);
    n.attrs = NeighAttrs {
        lladdr: Some(mac.to_vec()),
        dst: dst.map(|d| d.parse().unwrap()),
        ..Default::default()
    };
    n
}

#[test]
fn golden_fdb() {
    const PERM: u16 = NUD_PERMANENT | NUD_NOARP;
    let vx0 = fixture("fdb_add").ifindex("vx0");
    let v1a = fixture("fdb_add_master").ifindex("v1a");
    let one = [2, 0, 0, 0, 0, 1];
    assert_golden(
        "fdb_add",
        "bridge fdb add 02:00:00:00:00:01 dev vx0 dst 192.0.2.2",
        new_neigh(
            NeighOp::Add,
            &fdb(vx0, PERM, NTF_SELF, one, Some("192.0.2.2")),
        ),
    );
    let mut n = fdb(vx0, PERM, NTF_SELF, [2, 0, 0, 0, 0, 5], Some("192.0.2.5"));
    n.attrs.port = Some(4790);
    n.attrs.vni = Some(43);
    assert_golden(
        "fdb_add_port_vni",
        "bridge fdb add 02:00:00:00:00:05 dev vx0 dst 192.0.2.5 port 4790 vni 43",
        new_neigh(NeighOp::Add, &n),
    );
    assert_golden(
        "fdb_append",
        "bridge fdb append 00:00:00:00:00:00 dev vx0 dst 192.0.2.3",
        new_neigh(
            NeighOp::Append,
            &fdb(vx0, PERM, NTF_SELF, [0; 6], Some("192.0.2.3")),
        ),
    );
    assert_golden(
        "fdb_replace",
        "bridge fdb replace 02:00:00:00:00:01 dev vx0 dst 192.0.2.4",
        new_neigh(
            NeighOp::Replace,
            &fdb(vx0, PERM, NTF_SELF, one, Some("192.0.2.4")),
        ),
    );
    assert_golden(
        "fdb_del",
        "bridge fdb del 00:00:00:00:00:00 dev vx0 dst 192.0.2.3",
        del_neigh(&fdb(vx0, PERM, NTF_SELF, [0; 6], Some("192.0.2.3"))),
    );
    assert_golden(
        "fdb_add_master",
        "bridge fdb add 02:00:00:00:00:02 dev v1a master static",
        new_neigh(
            NeighOp::Add,
            &fdb(
                v1a,
                NUD_NOARP | NUD_REACHABLE,
                NTF_MASTER,
                [2, 0, 0, 0, 0, 2],
                None,
            ),
        ),
    );
    assert_golden("fdb_dump", "bridge fdb show", dump_fdb_dev(None));
    assert_golden(
        "fdb_dump_dev",
        "bridge fdb show dev vx0",
        dump_fdb_dev(Some(vx0)),
    );
    // What we send reads back as it was meant, and --explain names the flags.
    let fx = fixture("fdb_add_port_vni");
    assert_eq!(parse_neigh(&fx.msg()).unwrap(), n);
    let text = describe(&ROUTE, &fx.bytes);
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "ndmsg{family=AF_BRIDGE, ifindex=7, state=NUD_NOARP|NUD_PERMANENT, flags=NTF_SELF, type=0}",
            "NDA_LLADDR 02:00:00:00:00:05",
            "NDA_DST 192.0.2.5",
            "NDA_PORT 4790 (network order)",
            "NDA_VNI 43",
        ]
    );
}

#[test]
fn golden_neigh() {
    let vx0 = fixture("neigh_add_v4").ifindex("vx0");
    let entry = |family, addr: &str, mac: Option<[u8; 6]>, flags| {
        let mut n = Neighbour::header(family, vx0, NUD_PERMANENT, flags);
        n.attrs.dst = Some(addr.parse().unwrap());
        n.attrs.lladdr = mac.map(|m| m.to_vec());
        n
    };
    let v4 = libc::AF_INET as u8;
    let two = Some([2, 0, 0, 0, 0, 2]);
    assert_golden(
        "neigh_add_v4",
        "ip neigh add 10.20.0.2 lladdr 02:00:00:00:00:02 dev vx0 nud permanent",
        new_neigh(NeighOp::Add, &entry(v4, "10.20.0.2", two, 0)),
    );
    assert_golden(
        "neigh_add_v6",
        "ip neigh add 2001:db8::2 lladdr 02:00:00:00:00:02 dev vx0 nud permanent",
        new_neigh(NeighOp::Add, &entry(AF_INET6, "2001:db8::2", two, 0)),
    );
    assert_golden(
        "neigh_replace_v4",
        "ip neigh replace 10.20.0.2 lladdr 02:00:00:00:00:03 dev vx0 nud permanent",
        new_neigh(
            NeighOp::Replace,
            &entry(v4, "10.20.0.2", Some([2, 0, 0, 0, 0, 3]), 0),
        ),
    );
    assert_golden(
        "neigh_add_proxy",
        "ip neigh add proxy 10.20.0.9 dev vx0",
        new_neigh(NeighOp::Add, &entry(v4, "10.20.0.9", None, NTF_PROXY)),
    );
    assert_golden(
        "neigh_del_v4",
        "ip neigh del 10.20.0.2 dev vx0",
        del_neigh(&entry(v4, "10.20.0.2", None, 0)),
    );
    assert_golden(
        "neigh_dump",
        "ip neigh show",
        dump_neigh(AF_UNSPEC, 0, None),
    );
    assert_golden(
        "neigh_dump_v4",
        "ip -4 neigh show dev vx0",
        dump_neigh(v4, 0, Some(vx0)),
    );
}

#[test]
fn veth_up_and_master_ride_in_the_creating_message() {
    // `--up` sets IFF_UP in the first end's ifinfomsg only (the kernel configures the peer before
    // the pair is joined, so a peer asked up there fails with ENOTCONN), and `--master` is an
    // IFLA_MASTER before the name: otherwise the bytes are iproute2's.
    let mut va = end("va", None, None, None);
    va.up = true;
    let ours = new_veth(&va, &end("vb", None, None, None), None).finish(SEQ, PID);
    let mut want = fixture("veth_add").bytes;
    want[8..16].copy_from_slice(&ours[8..16]);
    want[24..28].copy_from_slice(&IFF_UP.to_ne_bytes());
    want[28..32].copy_from_slice(&IFF_UP.to_ne_bytes());
    assert_eq!(ours, want);
    let m = new_veth(
        &end("va", None, None, None),
        &end("vb", None, None, None),
        Some(7),
    )
    .finish(SEQ, PID);
    let m = messages(&m).next().unwrap().unwrap();
    let tys: Vec<u16> = attrs(&m.payload[16..]).map(|a| a.unwrap().ty).collect();
    assert_eq!(tys, [IFLA_MASTER, IFLA_IFNAME, IFLA_LINKINFO]);
    let master = attrs(&m.payload[16..]).next().unwrap().unwrap();
    assert_eq!(master.u32().unwrap(), 7);
}

#[test]
fn golden_nsid() {
    // ip netns list: the id of the namespace open on fd 6
    assert_golden("netns_getnsid", "ip netns list", nsid::get_nsid(6));
    let fx = fixture("reply_newnsid");
    assert_eq!(nsid::parse_nsid(&fx.msg()).unwrap(), Some(0));
    // -1: the kernel has given that namespace no id.
    let mut none = fx.bytes.clone();
    none[24..28].copy_from_slice(&(-1i32).to_ne_bytes());
    let m = messages(&none).next().unwrap().unwrap();
    assert_eq!(nsid::parse_nsid(&m).unwrap(), None);
    // Anything else is an error, not a guess.
    let ack = fixture("reply_ack");
    assert!(nsid::parse_nsid(&ack.msg()).is_err());
    let mut no_attr = fx.bytes[..20].to_vec();
    no_attr[0..4].copy_from_slice(&20u32.to_ne_bytes());
    let m = messages(&no_attr).next().unwrap().unwrap();
    assert!(nsid::parse_nsid(&m).is_err());
}

#[test]
fn golden_link_settings() {
    // ip link set va mtu 1400 / address 02:00:00:00:00:09 / name vz / netns h1 / group 7
    assert_golden(
        "link_set_mtu",
        "ip link set va mtu 1400",
        set_link(3, LinkAttr::Mtu(1400)),
    );
    assert_golden(
        "link_set_address",
        "ip link set va address 02:00:00:00:00:09",
        set_link(3, LinkAttr::Address([2, 0, 0, 0, 0, 9])),
    );
    assert_golden(
        "link_set_name",
        "ip link set va name vz",
        set_link(3, LinkAttr::Name(name("vz"))),
    );
    assert_golden(
        "link_set_netns",
        "ip link set va netns h1",
        set_link(3, LinkAttr::NetNsFd(4)),
    );
    assert_golden(
        "link_set_group",
        "ip link set va group 7",
        set_link(3, LinkAttr::Group(7)),
    );
    // ip link del group 7
    assert_golden("link_del_group", "ip link del group 7", del_group(7));
}

#[test]
fn golden_addresses() {
    let v4: IpAddr = "198.51.100.1".parse().unwrap();
    let v6: IpAddr = "2001:db8::1".parse().unwrap();
    // ip addr add 198.51.100.1/24 dev va
    assert_golden(
        "addr_add_v4",
        "ip addr add 198.51.100.1/24 dev va",
        new_addr(3, &v4, 24, None),
    );
    // ip addr add 198.51.100.1/24 broadcast 198.51.100.255 dev va
    assert_golden(
        "addr_add_v4_brd",
        "ip addr add 198.51.100.1/24 broadcast 198.51.100.255 dev va",
        new_addr(3, &v4, 24, Some("198.51.100.255".parse().unwrap())),
    );
    // ip addr add 2001:db8::1/64 dev va
    assert_golden(
        "addr_add_v6",
        "ip addr add 2001:db8::1/64 dev va",
        new_addr(3, &v6, 64, None),
    );
    // ip addr del 198.51.100.1/24 dev va
    assert_golden(
        "addr_del_v4",
        "ip addr del 198.51.100.1/24 dev va",
        del_addr(3, &v4, 24),
    );
    // ip addr show / ip -4 addr show dev va / the dump ip addr flush dev va starts with
    assert_golden("addr_dump_request", "ip addr show", dump_addrs(0, 0));
    assert_golden(
        "addr_dump_v4_dev_request",
        "ip -4 addr show dev va",
        dump_addrs(AF_INET, 3),
    );
    assert_golden("addr_flush_dump", "ip addr flush dev va", dump_addrs(0, 3));
}

#[test]
fn golden_route_add() {
    // ip route add 198.51.100.0/24 via 192.0.2.1 dev va metric 7
    let fx = fixture("route_add_v4_via_dev_metric");
    let va = fx.ifindex("va");
    assert_eq!(va, 3);
    let spec = route::RouteSpec {
        dst: "198.51.100.0".parse().unwrap(),
        dst_len: 24,
        gateway: Some("192.0.2.1".parse().unwrap()),
        oif: Some(va),
        metric: Some(7),
        table: None,
    };
    assert_golden(
        "route_add_v4_via_dev_metric",
        "ip route add 198.51.100.0/24 via 192.0.2.1 dev va metric 7",
        route::new_route(&spec),
    );
}

#[test]
fn address_replies_decode() {
    let a = parse_addr(&fixture("reply_addr_v4").msg()).unwrap();
    assert_eq!(
        (
            a.index,
            a.prefix,
            a.local.to_string(),
            a.label.as_deref(),
            a.flags
        ),
        (3, 24, "198.51.100.1".into(), Some("va"), 0x80)
    );
    assert_eq!(
        a.broadcast, None,
        "ip addr add without broadcast gets none from the kernel"
    );
    let a = parse_addr(&fixture("reply_addr_v6").msg()).unwrap();
    assert_eq!(
        (a.prefix, a.local.to_string(), a.address.to_string()),
        (64, "2001:db8::1".into(), "2001:db8::1".into())
    );
    let l = parse_link(&fixture("reply_link_veth_peer_netns").msg()).unwrap();
    assert_eq!(l.name.map(|n| n.to_string()).as_deref(), Some("va"));
}

#[test]
fn link_and_address_errors_decode() {
    let e = |n: &str| parse_error(&fixture(n).msg()).unwrap();
    assert_eq!(
        e("reply_error_veth_peer_exists"),
        (libc::EEXIST, None, None)
    );
    assert_eq!(
        e("reply_error_mtu_range"),
        (
            libc::EINVAL,
            Some("mtu greater than device maximum".into()),
            None
        )
    );
    assert_eq!(
        e("reply_error_addr_exists"),
        (
            libc::EEXIST,
            Some("ipv4: Address already assigned".into()),
            None
        )
    );
}

/// Request fixtures with no builder: `ip addr flush` sends each dumped address back verbatim
/// as its RTM_DELADDR (kernel's attributes, pid and all); a flush of ours sends del_addr().
const NOT_COVERED: &[&str] = &["addr_flush_del"];

const REQUESTS: &[&str] = &[
    "netns_getnsid",
    "link_add_bridge",
    "link_del",
    "link_set_master",
    "link_set_nomaster",
    "br_forward_delay",
    "br_hello_time",
    "br_max_age",
    "br_ageing_time",
    "br_stp_state",
    "br_priority",
    "brport_cost",
    "brport_priority",
    "brport_hairpin_on",
    "link_dump_request",
    "link_get_request",
    "neigh_dump_bridge_request",
    "link_set_up",
    "link_set_down",
    "veth_add",
    "veth_add_peer_netns",
    "veth_add_both_netns",
    "veth_add_mtu_mac",
    "link_set_mtu",
    "link_set_address",
    "link_set_name",
    "link_set_netns",
    "link_set_group",
    "link_del_group",
    "addr_add_v4",
    "addr_add_v4_brd",
    "addr_add_v6",
    "addr_del_v4",
    "addr_dump_request",
    "addr_dump_v4_dev_request",
    "addr_flush_dump",
    "route_add_v4_via_dev_metric",
    "vxlan_add",
    "vxlan_add_v6",
    "fdb_add",
    "fdb_add_port_vni",
    "fdb_append",
    "fdb_replace",
    "fdb_del",
    "fdb_add_master",
    "fdb_dump",
    "fdb_dump_dev",
    "neigh_add_v4",
    "neigh_add_v6",
    "neigh_replace_v4",
    "neigh_add_proxy",
    "neigh_del_v4",
    "neigh_dump",
    "neigh_dump_v4",
];

const REPLIES: &[&str] = &[
    "reply_newnsid",
    "reply_ack",
    "reply_done",
    "reply_error_eexist",
    "reply_error_extack_name_too_long",
    "reply_link_bridge",
    "reply_link_port",
    "reply_addr_v4",
    "reply_addr_v6",
    "reply_link_veth_peer_netns",
    "reply_error_veth_peer_exists",
    "reply_error_mtu_range",
    "reply_error_addr_exists",
];

#[test]
fn every_fixture_is_accounted_for() {
    let mut names: Vec<String> = std::fs::read_dir(golden_dir())
        .expect("tests/golden")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".hex").map(str::to_string)
        })
        .collect();
    names.sort();
    for n in &names {
        assert!(
            REQUESTS.contains(&n.as_str())
                || REPLIES.contains(&n.as_str())
                || NOT_COVERED.contains(&n.as_str()),
            "tests/golden/{n}.hex is new: add a case for it to libnet-sys/tests/golden.rs"
        );
        // Every fixture loads and holds exactly one well-formed message.
        let fx = fixture(n);
        fx.msg();
        assert!(!fx.command().is_empty(), "{n}: no command line");
    }
    for n in REQUESTS.iter().chain(REPLIES).chain(NOT_COVERED) {
        assert!(
            names.iter().any(|x| x == n),
            "tests/golden/{n}.hex is missing"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Decoders against recorded replies
// ---------------------------------------------------------------------------------------------

#[test]
fn reply_error_extack_name_too_long() {
    // ip link add averyveryverylongname type bridge -> -ERANGE, NLM_F_ACK_TLVS, request echoed
    let fx = fixture("reply_error_extack_name_too_long");
    let m = fx.msg();
    assert_eq!(m.ty, NLMSG_ERROR);
    assert_eq!(m.flags, NLM_F_ACK_TLVS);
    let (errno, msg, offs) = parse_error(&m).unwrap();
    assert_eq!(errno, libc::ERANGE);
    assert_eq!(errno, 34);
    assert_eq!(msg.as_deref(), Some("Attribute failed policy validation"));
    assert_eq!(offs, Some(32));
    // The offset points into the echoed request, at its IFLA_IFNAME.
    let echoed = &m.payload[4..];
    let at = &echoed[offs.unwrap() as usize..];
    let a = attrs(at).next().unwrap().unwrap();
    assert_eq!(a.ty, IFLA_IFNAME);
    assert_eq!(a.str_bytes(), b"averyveryverylongname");
}

#[test]
fn reply_error_eexist() {
    // ip link add br0 type bridge (second time) -> -EEXIST, whole request echoed, no TLVs
    let fx = fixture("reply_error_eexist");
    let m = fx.msg();
    assert_eq!(m.ty, NLMSG_ERROR);
    assert_eq!(m.flags, 0);
    assert_eq!(parse_error(&m).unwrap(), (libc::EEXIST, None, None));
}

#[test]
fn reply_ack() {
    // ip link add br0 type bridge -> ACK (error 0, NLM_F_CAPPED)
    let fx = fixture("reply_ack");
    let m = fx.msg();
    assert_eq!(m.ty, NLMSG_ERROR);
    assert_eq!(m.flags, NLM_F_CAPPED);
    assert_eq!(parse_error(&m).unwrap(), (0, None, None));
}

#[test]
fn reply_done() {
    // ip link show -> NLMSG_DONE (NLM_F_MULTI, int 0)
    let fx = fixture("reply_done");
    let m = fx.msg();
    assert_eq!(m.ty, NLMSG_DONE);
    assert_eq!(m.flags, NLM_F_MULTI);
    assert_eq!(parse_error(&m).unwrap(), (0, None, None));
}

/// An NLMSG_DONE that ends a dump with an error and an extended ack (what the kernel sends when
/// a dump fails with extack, e.g. a strict-checking dump filter it does not support).
fn done_with_extack() -> Vec<u8> {
    let text = b"not supported\0";
    let mut b = Vec::new();
    b.extend_from_slice(&0u32.to_ne_bytes()); // nlmsg_len, patched below
    b.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
    b.extend_from_slice(&(NLM_F_MULTI | NLM_F_ACK_TLVS).to_ne_bytes());
    b.extend_from_slice(&7u32.to_ne_bytes()); // seq
    b.extend_from_slice(&1234u32.to_ne_bytes()); // pid
    b.extend_from_slice(&(-libc::EOPNOTSUPP).to_ne_bytes());
    b.extend_from_slice(&((4 + text.len()) as u16).to_ne_bytes());
    b.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
    b.extend_from_slice(text);
    while b.len() % 4 != 0 {
        b.push(0);
    }
    let len = b.len() as u32;
    b[0..4].copy_from_slice(&len.to_ne_bytes());
    b
}

#[test]
fn done_carrying_an_error_with_extack() {
    let bytes = done_with_extack();
    assert_eq!(bytes.len(), 40);
    assert_eq!(-libc::EOPNOTSUPP, -95);
    let m = messages(&bytes).next().unwrap().unwrap();
    assert_eq!(m.ty, NLMSG_DONE);
    assert_eq!((m.seq, m.pid), (7, 1234));
    assert_eq!(
        parse_error(&m).unwrap(),
        (libc::EOPNOTSUPP, Some("not supported".to_string()), None)
    );
}

const MAC: [u8; 6] = [0x16, 0xde, 0x29, 0xa5, 0x2f, 0xf0];
const ID_8000: BridgeId = BridgeId {
    prio: [0x80, 0x00],
    addr: MAC,
};

#[test]
fn parse_link_reply_link_bridge() {
    // ip -d link show dev br0 -> RTM_NEWLINK for br0 (values from `ip -j -d link show dev br0`)
    let fx = fixture("reply_link_bridge");
    let m = fx.msg();
    assert_eq!(m.ty, RTM_NEWLINK);
    let link = parse_link(&m).unwrap();
    assert_eq!(link.index, fx.ifindex("br0"));
    assert_eq!(link.index, 2);
    assert_eq!(link.flags, 0x11043);
    assert_eq!(link.name, Some(name("br0")));
    assert_eq!(link.address, Some(MAC));
    assert_eq!(link.master, 0);
    assert!(link.port.is_none());
    let br = link.bridge.expect("IFLA_INFO_KIND bridge");
    assert_eq!(br.name, Some(name("br0")));
    assert_eq!(br.ifindex, 2);
    assert_eq!(br.forward_delay, 1500);
    assert_eq!(br.hello_time, 200);
    assert_eq!(br.max_age, 2000);
    assert_eq!(br.ageing_time, 30000);
    assert_eq!(br.stp_state, 0);
    assert_eq!(br.bridge_id, ID_8000);
    assert_eq!(br.bridge_id.to_string(), "8000.16de29a52ff0");
    assert_eq!(br.designated_root, ID_8000);
    assert_eq!(br.root_port, 0);
    assert_eq!(br.root_path_cost, 0);
    assert!(!br.topology_change);
    assert!(!br.topology_change_detected);
    assert_eq!(br.hello_timer, 0);
    assert_eq!(br.tcn_timer, 0);
    assert_eq!(br.topology_change_timer, 0);
    assert_eq!(br.gc_timer, 29898);
    assert!(br.ports.is_empty());
}

#[test]
fn parse_link_reply_link_port() {
    // ip -d link show dev v1a -> RTM_NEWLINK for v1a, a veth enslaved to br0
    let fx = fixture("reply_link_port");
    let m = fx.msg();
    let link = parse_link(&m).unwrap();
    assert_eq!(link.index, fx.ifindex("v1a"));
    assert_eq!(link.index, 4);
    assert_eq!(link.name, Some(name("v1a")));
    assert_eq!(link.address, Some(MAC));
    assert_eq!(link.master, fx.ifindex("br0"));
    assert_eq!(link.master, 2);
    assert!(link.bridge.is_none(), "kind is veth, not bridge");
    let p = link.port.expect("IFLA_INFO_SLAVE_KIND bridge");
    assert_eq!(p.name, Some(name("v1a")));
    assert_eq!(p.ifindex, 4);
    assert_eq!(p.state, 3, "forwarding");
    assert_eq!(p.priority, 32);
    assert_eq!(p.path_cost, 2);
    assert_eq!(p.port_no, 1);
    assert_eq!(p.port_id, 0x8001);
    assert!(!p.hairpin);
    assert_eq!(p.designated_root, ID_8000);
    assert_eq!(p.designated_bridge, ID_8000);
    assert_eq!(p.designated_port, 32769);
    assert_eq!(p.designated_cost, 0);
    assert_eq!(p.message_age_timer, 0);
    assert_eq!(p.forward_delay_timer, 1396);
    assert_eq!(p.hold_timer, 0);
    assert!(!p.topology_change_ack);
    assert!(!p.config_pending);
}

#[test]
fn replies_split_into_one_message_each() {
    for n in REPLIES {
        let fx = fixture(n);
        let all: Vec<_> = messages(&fx.bytes).collect();
        assert_eq!(all.len(), 1, "{n}");
        let m = all[0].as_ref().unwrap();
        assert_eq!(m.payload.len(), fx.bytes.len() - NLMSG_HDRLEN, "{n}");
    }
    // Two messages in one datagram, as a dump delivers them.
    let mut dgram = fixture("reply_link_port").bytes;
    dgram.extend_from_slice(&fixture("reply_done").bytes);
    let tys: Vec<u16> = messages(&dgram).map(|m| m.unwrap().ty).collect();
    assert_eq!(tys, [RTM_NEWLINK, NLMSG_DONE]);
}

// ---------------------------------------------------------------------------------------------
// 4. Malformed input: an error, never a panic
// ---------------------------------------------------------------------------------------------

fn is_malformed(e: &libnet_sys::Error) -> bool {
    matches!(e.cause, Cause::Malformed(_))
}

/// At most this many items from an iterator that must end (a zero length must not loop).
const BOUND: usize = 10_000;

#[test]
fn messages_rejects_truncated_headers() {
    let bytes = fixture("reply_ack").bytes;
    assert!(messages(&[]).next().is_none());
    for n in 1..NLMSG_HDRLEN {
        let all: Vec<_> = messages(&bytes[..n]).take(BOUND).collect();
        assert_eq!(all.len(), 1, "{n} bytes");
        assert!(is_malformed(all[0].as_ref().unwrap_err()), "{n} bytes");
    }
    // A good message followed by a cut header: the first is read, then an error, then the end.
    let mut dgram = bytes.clone();
    dgram.extend_from_slice(&bytes[..10]);
    let all: Vec<_> = messages(&dgram).take(BOUND).collect();
    assert_eq!(all.len(), 2);
    assert!(all[0].is_ok());
    assert!(all[1].is_err());
}

#[test]
fn messages_rejects_bad_nlmsg_len() {
    let bytes = fixture("reply_ack").bytes;
    for len in [
        0u32,
        1,
        15,
        bytes.len() as u32 + 1,
        bytes.len() as u32 + 4,
        u32::MAX,
    ] {
        let mut b = bytes.clone();
        b[0..4].copy_from_slice(&len.to_ne_bytes());
        let all: Vec<_> = messages(&b).take(BOUND).collect();
        assert_eq!(all.len(), 1, "nlmsg_len {len}");
        assert!(
            is_malformed(all[0].as_ref().unwrap_err()),
            "nlmsg_len {len}"
        );
    }
    // nlmsg_len 16 (a bare header) is well-formed: an empty payload.
    let mut b = bytes[..16].to_vec();
    b[0..4].copy_from_slice(&16u32.to_ne_bytes());
    let m = messages(&b).next().unwrap().unwrap();
    assert!(m.payload.is_empty());
}

#[test]
fn attrs_rejects_lengths_past_the_end() {
    // nla_len 16 with only 8 bytes there
    let buf = [16, 0, 3, 0, b'b', b'r', b'0', 0];
    let all: Vec<_> = attrs(&buf).take(BOUND).collect();
    assert_eq!(all.len(), 1);
    assert!(is_malformed(all[0].as_ref().unwrap_err()));
    // nla_len below the 4-byte header (0 would loop forever if accepted)
    for len in [0u8, 1, 2, 3] {
        let buf = [len, 0, 3, 0, 0, 0, 0, 0];
        let all: Vec<_> = attrs(&buf).take(BOUND).collect();
        assert_eq!(all.len(), 1, "nla_len {len}");
        assert!(all[0].is_err(), "nla_len {len}");
    }
    // a good attribute, then one that runs past the end
    let buf = [8, 0, 10, 0, 2, 0, 0, 0, 12, 0, 1, 0, 0, 0];
    let all: Vec<_> = attrs(&buf).take(BOUND).collect();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].as_ref().unwrap().u32().unwrap(), 2);
    assert!(all[1].is_err());
    // 1..3 trailing bytes: zero padding is accepted, anything else is a cut-short header
    assert!(attrs(&[0, 0, 0]).next().is_none());
    assert!(attrs(&[5, 0, 1]).next().unwrap().is_err());
    // a nest whose inner attribute runs past the nest (but not past the message)
    let buf = [12, 0, 18, 0, 12, 0, 1, 0, 0, 0, 0, 0, 4, 0, 3, 0];
    let outer = attrs(&buf).next().unwrap().unwrap();
    assert_eq!(outer.value.len(), 8);
    assert!(outer.nested_attrs().next().unwrap().is_err());
}

/// An RTM_NEWLINK with `ifinfomsg{index 4}` and the given attributes.
fn link_msg(f: impl FnOnce(Msg) -> Msg) -> Vec<u8> {
    f(Msg::new(RTM_NEWLINK, 0).header(&IfInfoMsg {
        index: 4,
        ..Default::default()
    }))
    .finish(1, 1)
}

fn parse_link_bytes(b: &[u8]) -> libnet_sys::Result<libnet_sys::netlink::rtnl::link::Link> {
    let m = messages(b).next().unwrap()?;
    parse_link(&m)
}

#[test]
fn parse_link_rejects_wrong_sizes() {
    // Sanity: the well-formed version parses.
    let ok = link_msg(|m| m.u32(IFLA_MASTER, 2));
    assert_eq!(parse_link_bytes(&ok).unwrap().master, 2);

    // IFLA_MASTER of 2 bytes
    let bad = link_msg(|m| m.bytes(IFLA_MASTER, &[2, 0]));
    assert!(is_malformed(&parse_link_bytes(&bad).unwrap_err()));
    // IFLA_MASTER of 0 bytes
    let bad = link_msg(|m| m.flag(IFLA_MASTER));
    assert!(is_malformed(&parse_link_bytes(&bad).unwrap_err()));
    // IFLA_BR_FORWARD_DELAY of 2 bytes inside a bridge's IFLA_INFO_DATA
    let bad = link_msg(|m| {
        m.nest(IFLA_LINKINFO, |m| {
            m.str(IFLA_INFO_KIND, "bridge")
                .nest(IFLA_INFO_DATA, |m| m.u16(IFLA_BR_FORWARD_DELAY, 1500))
        })
    });
    assert!(is_malformed(&parse_link_bytes(&bad).unwrap_err()));
    // IFLA_BR_BRIDGE_ID of 6 bytes
    let bad = link_msg(|m| {
        m.nest(IFLA_LINKINFO, |m| {
            m.str(IFLA_INFO_KIND, "bridge")
                .nest(IFLA_INFO_DATA, |m| m.bytes(IFLA_BR_BRIDGE_ID, &MAC))
        })
    });
    assert!(is_malformed(&parse_link_bytes(&bad).unwrap_err()));
    // IFLA_BRPORT_STATE of 0 bytes inside a port's IFLA_INFO_SLAVE_DATA
    let bad = link_msg(|m| {
        m.nest(IFLA_LINKINFO, |m| {
            m.str(IFLA_INFO_SLAVE_KIND, "bridge")
                .nest(IFLA_INFO_SLAVE_DATA, |m| m.flag(IFLA_BRPORT_STATE))
        })
    });
    assert!(is_malformed(&parse_link_bytes(&bad).unwrap_err()));
    // IFLA_BRPORT_COST of 1 byte inside AF_BRIDGE IFLA_PROTINFO
    let bad = Msg::new(RTM_NEWLINK, 0)
        .header(&IfInfoMsg {
            family: AF_BRIDGE,
            index: 4,
            ..Default::default()
        })
        .nest(IFLA_PROTINFO | NLA_F_NESTED, |m| m.u8(IFLA_BRPORT_COST, 7))
        .finish(1, 1);
    assert!(is_malformed(&parse_link_bytes(&bad).unwrap_err()));
    // An IFLA_ADDRESS that is not 6 bytes (e.g. an IPv4 tunnel's 4) is skipped, not an error.
    let tun = link_msg(|m| m.bytes(IFLA_ADDRESS, &[10, 0, 0, 1]));
    assert_eq!(parse_link_bytes(&tun).unwrap().address, None);
}

#[test]
fn empty_payloads_are_errors() {
    let empty = |ty| MsgRef {
        ty,
        flags: 0,
        seq: 0,
        pid: 0,
        payload: &[],
    };
    assert!(is_malformed(&parse_link(&empty(RTM_NEWLINK)).unwrap_err()));
    // ifinfomsg cut short
    let short = MsgRef {
        payload: &[0; 15],
        ..empty(RTM_NEWLINK)
    };
    assert!(parse_link(&short).is_err());
    // not an RTM_NEWLINK at all
    let ack = fixture("reply_ack");
    assert!(parse_link(&ack.msg()).is_err());
    // NLMSG_ERROR without its error code
    assert!(is_malformed(&parse_error(&empty(NLMSG_ERROR)).unwrap_err()));
    assert!(parse_error(&MsgRef {
        payload: &[0, 0],
        ..empty(NLMSG_ERROR)
    })
    .is_err());
    // An old-style NLMSG_DONE with nothing after the header is a plain end of dump.
    assert_eq!(parse_error(&empty(NLMSG_DONE)).unwrap(), (0, None, None));
    // Empty input everywhere else: nothing, quietly.
    assert!(messages(&[]).next().is_none());
    assert!(attrs(&[]).next().is_none());
    assert_eq!(describe(&ROUTE, &[]), "");
}

#[test]
fn parse_error_rejects_cut_echoes_and_tlvs() {
    let fx = fixture("reply_error_extack_name_too_long");
    let good = fx.msg();
    // The echoed request claims to be longer than what follows it.
    let mut b = fx.bytes.clone();
    b[20..24].copy_from_slice(&4000u32.to_ne_bytes());
    let m = messages(&b).next().unwrap().unwrap();
    assert!(parse_error(&m).is_err());
    // The TLVs cut at every length: errors or fewer TLVs, never a panic.
    let tlv_start = 4 + 76;
    for n in 0..good.payload.len() {
        let m = MsgRef {
            payload: &good.payload[..n],
            ..good
        };
        let r = catch_unwind(|| parse_error(&m));
        let r = r.unwrap_or_else(|_| panic!("parse_error panicked on a {n}-byte payload"));
        if n < 4 || (n > 4 && n < tlv_start) {
            assert!(r.is_err(), "{n}-byte payload: {r:?}");
        }
    }
    // NLMSGERR_ATTR_OFFS of 2 bytes
    let mut b = fx.bytes.clone();
    let offs_at = 136; // file offset of NLMSGERR_ATTR_OFFS (see the fixture's decode)
    assert_eq!(&b[offs_at..offs_at + 4], &[8, 0, 2, 0]);
    b[offs_at] = 6;
    let m = messages(&b).next().unwrap().unwrap();
    assert!(is_malformed(&parse_error(&m).unwrap_err()));
}

/// Walks every attribute as if it were nested, and reads it every way an attribute can be
/// read; returns how many it saw.
fn walk(buf: &[u8], depth: usize) -> usize {
    let mut n = 0;
    for a in attrs(buf).take(BOUND) {
        let Ok(a) = a else { break };
        n += 1;
        touch(&a);
        if depth < 8 {
            n += walk(a.value, depth + 1);
        }
    }
    n
}

fn touch(a: &Attr) {
    let _ = (a.u8(), a.u16(), a.u32(), a.u64());
    let _ = (a.be16(), a.be32(), a.be64());
    let _ = (a.array::<6>(), a.array::<8>(), a.str_bytes());
    let _ = a.nested_attrs().take(BOUND).count();
}

/// Everything a reply goes through, on any bytes. Panics propagate.
fn exercise(bytes: &[u8]) {
    for m in messages(bytes).take(BOUND) {
        let Ok(m) = m else { continue };
        let _ = parse_link(&m);
        let _ = parse_addr(&m);
        let _ = nsid::parse_nsid(&m);
        let _ = parse_neigh(&m);
        let _ = VxlanAttrs::parse(m.payload.get(16..).unwrap_or(&[]));
        let _ = NeighAttrs::parse(m.payload.get(12..).unwrap_or(&[]));
        let _ = parse_error(&m);
        walk(m.payload, 0);
        walk(m.payload.get(16..).unwrap_or(&[]), 0);
    }
    walk(bytes, 0);
    let _ = describe(&ROUTE, bytes);
}

fn no_panic(what: &str, bytes: &[u8]) {
    if catch_unwind(AssertUnwindSafe(|| exercise(bytes))).is_err() {
        panic!("{what}: a decoder panicked on {}", hex_line(bytes));
    }
}

fn set_len(b: &mut [u8]) {
    let len = b.len() as u32;
    if b.len() >= 4 {
        b[0..4].copy_from_slice(&len.to_ne_bytes());
    }
}

#[test]
fn fuzz_truncation_never_panics() {
    for name in ["reply_link_bridge", "reply_link_port"] {
        let full = fixture(name).bytes;
        for n in 0..=full.len() {
            let cut = &full[..n];
            // As received: nlmsg_len now runs past the datagram, which is an error.
            if n > 0 && n < full.len() {
                let first = messages(cut).next().unwrap();
                assert!(first.is_err(), "{name} cut at {n}: accepted");
            }
            no_panic(&format!("{name} cut at {n}"), cut);
            // With nlmsg_len patched to fit, so the cut reaches the attribute parsers.
            let mut fixed = cut.to_vec();
            set_len(&mut fixed);
            no_panic(&format!("{name} cut at {n}, nlmsg_len patched"), &fixed);
            if n >= NLMSG_HDRLEN + 16 {
                // A cut in the middle of an attribute is an error from parse_link, or at
                // worst a link with less in it; a cut on an attribute boundary is fine.
                let m = messages(&fixed).next().unwrap().unwrap();
                let _ = parse_link(&m);
            }
        }
    }
}

#[test]
fn fuzz_byte_flips_never_panic() {
    let masks = [0xffu8, 0x01, 0x80, 0x10];
    for name in [
        "reply_link_bridge",
        "reply_link_port",
        "reply_error_extack_name_too_long",
    ] {
        let full = fixture(name).bytes;
        for at in 0..full.len() {
            for &x in &masks {
                let mut b = full.clone();
                b[at] ^= x;
                no_panic(&format!("{name} byte {at} ^ {x:#04x}"), &b);
            }
        }
    }
}

#[test]
fn fuzz_random_mutations_never_panic() {
    // xorshift64*, fixed seed: the same inputs on every run.
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        s.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let full = fixture("reply_link_bridge").bytes;
    for i in 0..3000 {
        let mut b = full.clone();
        let cut = NLMSG_HDRLEN + (rnd() as usize) % (full.len() - NLMSG_HDRLEN + 1);
        b.truncate(cut);
        for _ in 0..1 + rnd() % 6 {
            let at = (rnd() as usize) % b.len();
            b[at] = rnd() as u8;
        }
        // Keep the header length honest half of the time so attribute parsing is reached.
        if i % 2 == 0 {
            set_len(&mut b);
        }
        no_panic(&format!("random mutation #{i}"), &b);
    }
}

// ---------------------------------------------------------------------------------------------
// 5. decode::describe (what --explain prints)
// ---------------------------------------------------------------------------------------------

/// describe()'s lines after the family header line.
fn described(name: &str) -> Vec<String> {
    let fx = fixture(name);
    let text = describe(&ROUTE, &fx.bytes);
    let mut lines = text.lines();
    let header = lines.next().expect("a header line");
    assert!(header.starts_with("ifinfomsg{"), "{name}: {header}");
    lines.map(str::to_string).collect()
}

#[test]
fn describe_link_add_bridge() {
    // ip link add br0 type bridge
    assert_eq!(
        described("link_add_bridge"),
        [
            "IFLA_IFNAME \"br0\"",
            "IFLA_LINKINFO",
            "  IFLA_INFO_KIND \"bridge\"",
        ]
    );
}

#[test]
fn describe_br_forward_delay() {
    // ip link set br0 type bridge forward_delay 500
    assert_eq!(
        described("br_forward_delay"),
        [
            "IFLA_LINKINFO",
            "  IFLA_INFO_KIND \"bridge\"",
            "  IFLA_INFO_DATA",
            "    IFLA_BR_FORWARD_DELAY 500",
        ]
    );
    let header = describe(&ROUTE, &fixture("br_forward_delay").bytes);
    assert!(
        header.starts_with("ifinfomsg{family=AF_UNSPEC, type=0, index=2, "),
        "{header}"
    );
}

#[test]
fn describe_brport_cost() {
    // bridge link set dev v1a cost 77
    assert_eq!(
        described("brport_cost"),
        ["IFLA_PROTINFO (NLA_F_NESTED)", "  IFLA_BRPORT_COST 77"]
    );
}

#[test]
fn describe_reads_every_fixture_without_complaint() {
    // describe() is for what we send (and link replies); NLMSG_ERROR/DONE payloads are not
    // attributes, so the reply_error/ack/done fixtures are left out here.
    let links = [
        "reply_link_bridge",
        "reply_link_port",
        "reply_link_veth_peer_netns",
        "reply_addr_v4",
        "reply_addr_v6",
    ];
    for n in REQUESTS.iter().chain(&links).chain(NOT_COVERED) {
        let text = describe(&ROUTE, &fixture(n).bytes);
        assert!(!text.contains("malformed"), "{n}:\n{text}");
    }
    // Named values in the kernel's bridge reply.
    let text = describe(&ROUTE, &fixture("reply_link_bridge").bytes);
    for want in [
        "IFLA_IFNAME \"br0\"",
        "IFLA_ADDRESS 16:de:29:a5:2f:f0",
        "    IFLA_BR_FORWARD_DELAY 1500",
        "    IFLA_BR_BRIDGE_ID 8000.16de29a52ff0",
    ] {
        assert!(text.lines().any(|l| l == want), "no {want:?} in:\n{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// 6. sysfs numbers and brforward records
// ---------------------------------------------------------------------------------------------

#[test]
fn sysfs_parse_num() {
    let p = "/sys/class/net/v1a/brport/port_no";
    assert_eq!(parse_num(p, b"0x1\n").unwrap(), 1);
    assert_eq!(parse_num(p, b"0x8001\n").unwrap(), 0x8001);
    assert_eq!(parse_num(p, b"32769\n").unwrap(), 32769);
    assert_eq!(parse_num(p, b"0\n").unwrap(), 0);
    for bad in [
        &b"abc"[..],
        b"",
        b"\n",
        b"-1\n",
        b"0x\n",
        b"12 \n",
        b"\xff\n",
    ] {
        let e = parse_num(p, bad).unwrap_err();
        assert!(is_malformed(&e), "{bad:?}: {e:?}");
    }
    let e = parse_num(p, b"abc").unwrap_err();
    assert!(e.to_string().contains("\"abc\" is not a number"), "{e}");
}

/// A `brforward` record as the kernel writes it, read into `FdbEntryRaw` (whose layout must be
/// the kernel's `struct __fdb_entry`).
fn fdb_record(bytes: [u8; 16]) -> FdbEntryRaw {
    assert_eq!(std::mem::size_of::<FdbEntryRaw>(), 16);
    // SAFETY: FdbEntryRaw is repr(C), 16 bytes of integers: any bit pattern is valid.
    unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<FdbEntryRaw>()) }
}

#[test]
fn brforward_record() {
    let raw = [
        0xe2, 0x20, 0x70, 0xcc, 0xa6, 0x64, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00,
    ];
    let r = fdb_record(raw);
    assert_eq!(r.mac_addr, [0xe2, 0x20, 0x70, 0xcc, 0xa6, 0x64]);
    assert_eq!((r.port_no, r.is_local, r.port_hi), (1, 0, 0));
    let e = r.entry();
    assert_eq!(e.mac, [0xe2, 0x20, 0x70, 0xcc, 0xa6, 0x64]);
    assert_eq!(e.port_no, 1);
    assert!(!e.is_local);
    assert_eq!(e.ageing_timer, 1, "centiseconds");

    // port_hi = 1: port 257 (bridge-utils drops port_hi and would say 1)
    let mut raw_hi = raw;
    raw_hi[12] = 1;
    let e = fdb_record(raw_hi).entry();
    assert_eq!(e.port_no, 257);
    assert_eq!(e.mac, [0xe2, 0x20, 0x70, 0xcc, 0xa6, 0x64]);

    // a local entry
    let mut raw_local = raw;
    raw_local[7] = 1;
    raw_local[8] = 0;
    let e = fdb_record(raw_local).entry();
    assert!(e.is_local);
    assert_eq!(e.ageing_timer, 0);
}

// ---------------------------------------------------------------------------------------------
// The etcd gateway's hand-written decoders (HTTP framing, JSON, watch and range messages), fed
// the same cuts, flips and random mutations as the netlink ones: an error, never a panic.
// ---------------------------------------------------------------------------------------------

mod etcd_fuzz {
    use libnet_sys::etcd::{describe_text, http, json, kv::Range, lease, watch};
    use std::panic::{catch_unwind, AssertUnwindSafe};

    /// Answers as etcd 3.4.23's gateway sends them.
    const SEEDS: [&[u8]; 4] = [
        br#"{"result":{"header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"8","raft_term":"2"},"events":[{"kv":{"key":"L25ldHBsdW1iL3YxL2E=","create_revision":"8","mod_revision":"8","version":"1","value":"bWFjPTAyOjQyOjBhOjE0OjAwOjA1","lease":"7587869960823473412"}},{"type":"DELETE","kv":{"key":"L2I=","mod_revision":"8"},"prev_kv":{"key":"L2I=","create_revision":"3","mod_revision":"3","version":"1","value":"eQ=="}}]}}"#,
        br#"{"result":{"header":{"revision":"20"},"canceled":true,"compact_revision":"15","cancel_reason":"mvcc: required revision has been compacted"}}"#,
        br#"{"header":{"revision":"9"},"kvs":[{"key":"L2EvMQ==","create_revision":"5","mod_revision":"5","version":"1","value":"eA=="}],"more":false,"count":"1"}"#,
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2d\r\n{\"result\":{\"header\":{\"revision\":\"4\"},\"TTL\":\"5\"}}\r\n0\r\n\r\n",
    ];

    fn exercise(b: &[u8]) {
        if let Some(v) = json::parse(b) {
            let _ = Range::parse(&v);
            let _ = lease::parse_keepalive(&v);
            let _ = json::write(&v);
        }
        let _ = watch::parse_msg(b);
        let _ = describe_text(b);
        if let Ok((_, body)) = http::parse_response(b) {
            let _ = watch::parse_msg(&body);
        }
    }

    fn no_panic(what: &str, b: &[u8]) {
        if catch_unwind(AssertUnwindSafe(|| exercise(b))).is_err() {
            panic!(
                "{what}: an etcd decoder panicked on {:?}",
                String::from_utf8_lossy(b)
            );
        }
    }

    #[test]
    fn fuzz_etcd_cuts_and_flips_never_panic() {
        for (i, seed) in SEEDS.iter().enumerate() {
            for n in 0..=seed.len() {
                no_panic(&format!("seed {i} cut at {n}"), &seed[..n]);
            }
            for at in 0..seed.len() {
                for x in [0xffu8, 0x01, 0x20, 0x80] {
                    let mut b = seed.to_vec();
                    b[at] ^= x;
                    no_panic(&format!("seed {i} byte {at} ^ {x:#04x}"), &b);
                }
            }
        }
    }

    #[test]
    fn fuzz_etcd_random_mutations_never_panic() {
        let mut s: u64 = 0x2545_f491_4f6c_dd1d;
        let mut rnd = move || {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            s.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        // Bytes JSON and HTTP care about, so mutations reach deep paths.
        let alphabet = b"{}[]\",:\\0123456789-+.eEtrufalsn \r\n;uU";
        for i in 0..4000 {
            let seed = SEEDS[i % SEEDS.len()];
            let mut b = seed.to_vec();
            for _ in 0..1 + rnd() % 5 {
                let at = (rnd() as usize) % b.len();
                match rnd() % 3 {
                    0 => b[at] = alphabet[(rnd() as usize) % alphabet.len()],
                    1 => {
                        b.remove(at);
                    }
                    _ => b.insert(at, alphabet[(rnd() as usize) % alphabet.len()]),
                }
                if b.is_empty() {
                    break;
                }
            }
            no_panic(&format!("random mutation #{i}"), &b);
        }
        // Deep nesting and huge numbers are refused, not recursed into or overflowed.
        no_panic("deep", "[".repeat(100_000).as_bytes());
        assert!(
            watch::parse_msg(br#"{"result":{"header":{"revision":"99999999999999999999"}}}"#)
                .is_err()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 7. The ARP ioctl path: struct arpreq against net-tools' arp, and the /proc/net/arp reader
// ---------------------------------------------------------------------------------------------

/// A text fixture's lines after its `#` comments.
fn text_fixture(name: &str) -> Vec<String> {
    let path = golden_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// `ioctl_arp.txt`: each `== command` with its request's name and the 68 bytes it passed.
fn arp_captures() -> Vec<(String, String, Vec<u8>)> {
    let mut out: Vec<(String, String, Vec<u8>)> = Vec::new();
    for line in text_fixture("ioctl_arp.txt") {
        if let Some(cmd) = line.strip_prefix("== ") {
            out.push((cmd.to_string(), String::new(), Vec::new()));
        } else if let Some(last) = out.last_mut() {
            if line.starts_with("SIOC") {
                last.1 = line.split_whitespace().next().unwrap().to_string();
            } else if !line.starts_with('=') {
                last.2.extend(
                    line.split_whitespace()
                        .map(|p| u8::from_str_radix(p, 16).expect("a hex byte")),
                );
            }
        }
    }
    out
}

#[test]
fn golden_arpreq_is_net_tools_arp() {
    use libnet_sys::ioctl::arp::{arpreq, arpreq_bytes, ATF_COM, ATF_PERM, ATF_PUBL};
    use std::net::Ipv4Addr;
    let va = name("va");
    let ours = [
        (
            "arp -i va -s 198.51.100.7 02:00:00:00:00:07",
            "SIOCSARP",
            arpreq(
                Ipv4Addr::new(198, 51, 100, 7),
                Some([2, 0, 0, 0, 0, 7]),
                ATF_COM | ATF_PERM,
                &va,
            ),
        ),
        (
            "arp -i va -s 198.51.100.8 02:00:00:00:00:08 pub",
            "SIOCSARP",
            arpreq(
                Ipv4Addr::new(198, 51, 100, 8),
                Some([2, 0, 0, 0, 0, 8]),
                ATF_COM | ATF_PERM | ATF_PUBL,
                &va,
            ),
        ),
        (
            "arp -i va -d 198.51.100.7",
            "SIOCDARP",
            arpreq(Ipv4Addr::new(198, 51, 100, 7), None, ATF_PERM, &va),
        ),
        (
            "arp -i va -d 198.51.100.8 pub",
            "SIOCDARP",
            arpreq(
                Ipv4Addr::new(198, 51, 100, 8),
                None,
                ATF_PERM | ATF_PUBL,
                &va,
            ),
        ),
    ];
    let caps = arp_captures();
    assert_eq!(caps.len(), ours.len(), "one case per capture");
    for ((cmd, req, theirs), (want_cmd, want_req, r)) in caps.iter().zip(&ours) {
        assert_eq!((cmd.as_str(), req.as_str()), (*want_cmd, *want_req));
        assert_eq!(theirs.len(), 68, "{cmd}: struct arpreq is 68 bytes");
        // The README's masks: net-tools leaves stack bytes in sin_zero and after the MAC.
        let masked = |b: &[u8]| -> Vec<u8> {
            b.iter()
                .enumerate()
                .map(|(i, &x)| {
                    if (8..16).contains(&i) || (24..32).contains(&i) {
                        0
                    } else {
                        x
                    }
                })
                .collect()
        };
        let mine = arpreq_bytes(r);
        assert_eq!(
            hex_line(&masked(mine)),
            hex_line(&masked(theirs)),
            "{cmd}: our struct arpreq differs from net-tools'"
        );
        assert!(
            mine[8..16].iter().chain(&mine[24..32]).all(|&b| b == 0),
            "{cmd}: ours is zeroed"
        );
    }
}

fn proc_net_arp_fixture() -> Vec<u8> {
    let mut text = text_fixture("proc_net_arp.txt").join("\n");
    text.push('\n');
    text.into_bytes()
}

#[test]
fn proc_net_arp_reads_what_the_kernel_wrote() {
    use libnet_sys::sysfs::arp::parse_proc_net_arp;
    let rows = parse_proc_net_arp(&proc_net_arp_fixture()).unwrap();
    let got: Vec<(String, i32, Option<[u8; 6]>, &str)> = rows
        .iter()
        .map(|r| (r.addr.to_string(), r.flags, r.mac, r.dev.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "198.51.100.10".into(),
                0x2,
                Some([2, 0, 0, 0, 0, 0xa]),
                "va"
            ),
            ("198.51.100.7".into(), 0x6, Some([2, 0, 0, 0, 0, 7]), "va"),
            ("198.51.100.9".into(), 0x2, Some([2, 0, 0, 0, 0, 9]), "va"),
            ("198.51.100.11".into(), 0x0, Some([0; 6]), "va"),
            ("198.51.100.8".into(), 0xc, Some([0; 6]), "va"),
        ]
    );
    assert!(rows.iter().all(|r| r.hw_type == 1));
}

#[test]
fn fuzz_proc_net_arp_never_panics() {
    use libnet_sys::sysfs::arp::parse_proc_net_arp;
    let full = proc_net_arp_fixture();
    let run = |what: &str, b: &[u8]| {
        if catch_unwind(AssertUnwindSafe(|| parse_proc_net_arp(b))).is_err() {
            panic!(
                "{what}: the /proc/net/arp reader panicked on {:?}",
                String::from_utf8_lossy(b)
            );
        }
    };
    for n in 0..=full.len() {
        run(&format!("cut at {n}"), &full[..n]);
    }
    for at in 0..full.len() {
        for x in [0xffu8, 0x01, 0x20, 0x80] {
            let mut b = full.clone();
            b[at] ^= x;
            run(&format!("byte {at} ^ {x:#04x}"), &b);
        }
    }
    // A cut inside a row is an error, never a shorter row read as whole.
    let second_row_end = full
        .iter()
        .enumerate()
        .filter(|(_, &c)| c == b'\n')
        .nth(1)
        .unwrap()
        .0;
    assert!(parse_proc_net_arp(&full[..second_row_end - 3]).is_err());
    assert!(
        parse_proc_net_arp(&full[..second_row_end - 1]).is_err(),
        "no newline: cut"
    );
    assert!(parse_proc_net_arp(&full[..second_row_end + 1]).is_ok());
}

#[test]
fn golden_neighctl_sends_what_ip_neigh_sends() {
    use libnet_sys::ifname::Mac;
    use libnet_sys::neigh::entry;
    use libnet_sys::netlink::rtnl::neigh::{del_neigh, new_neigh, NeighOp};
    let vx0 = fixture("neigh_add_v4").ifindex("vx0");
    let two = Some(Mac([2, 0, 0, 0, 0, 2]));
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    for (name, command, msg) in [
        (
            "neigh_add_v4",
            "ip neigh add 10.20.0.2 lladdr 02:00:00:00:00:02 dev vx0 nud permanent",
            new_neigh(NeighOp::Add, &entry(vx0, ip("10.20.0.2"), two, false)),
        ),
        (
            "neigh_add_v6",
            "ip neigh add 2001:db8::2 lladdr 02:00:00:00:00:02 dev vx0 nud permanent",
            new_neigh(NeighOp::Add, &entry(vx0, ip("2001:db8::2"), two, false)),
        ),
        (
            // neighctl add --proxy takes a MAC; the kernel keeps none, and neither is sent.
            "neigh_add_proxy",
            "ip neigh add proxy 10.20.0.9 dev vx0",
            new_neigh(NeighOp::Add, &entry(vx0, ip("10.20.0.9"), two, true)),
        ),
        (
            "neigh_del_v4",
            "ip neigh del 10.20.0.2 dev vx0",
            del_neigh(&entry(vx0, ip("10.20.0.2"), None, false)),
        ),
    ] {
        assert_golden(name, command, msg);
    }
}
