//! vxlanctl against the kernel, read back with tools nobody here wrote: `ip -d -j link` (key by
//! key against the device `ip link add ... type vxlan` makes with the same options), `ss -uan`
//! in each namespace for where the UDP socket is, `ip -j netns list`. Every test works in a
//! sandbox of its own; extra namespaces are made with `ip netns add` inside it.

mod common;
use common::*;
use std::process::Output;

fn vx(sb: &Sandbox, args: &str) -> Output {
    sb.sh(&format!("\"$VXLANCTL\" {args}"))
}

/// `vxlanctl ARGS` must succeed, silently on stderr; returns stdout.
fn vx_ok(sb: &Sandbox, args: &str) -> String {
    let o = vx(sb, args);
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "vxlanctl {args}: {}",
        show_out(&o)
    );
    text(&o.stdout)
}

/// One link as `ip [-n NS] -d -j link show` has it.
fn link_in(sb: &Sandbox, ns: Option<&str>, dev: &str) -> Jv {
    let n = ns.map(|n| format!("-n {n} ")).unwrap_or_default();
    Jv::parse(&sb.ok(&format!("ip {n}-d -j link show dev {dev}")))
        .at("0")
        .clone()
}

/// Keys that differ between two devices made alike: the index, the random MAC (and the bridge
/// ids made of it), running timers and carrier-dependent state.
fn made_alike(k: &str) -> bool {
    matches!(
        k,
        "ifindex" | "address" | "operstate" | "bridge_id" | "root_id"
    ) || k.contains("timer")
        || k.starts_with("designated")
}

/// An underlay veth `ul0` (192.0.2.1/24, and 2001:db8::1/64, up) and a bridge `br0` in
/// namespace `ns`, IPv6 on.
fn host(ns: &str) -> String {
    format!(
        "ip netns add {ns}
         ip netns exec {ns} sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
         ip -n {ns} link add ul0 type veth peer name ul1
         ip -n {ns} addr add 192.0.2.1/24 dev ul0
         ip -n {ns} addr add 2001:db8::1/64 dev ul0 nodad
         ip -n {ns} link set ul0 up
         ip -n {ns} link add br0 type bridge
"
    )
}

#[test]
fn add_with_every_option_equals_ip_link_add() {
    let sb = Sandbox::new();
    sb.ok(&format!("{}{}", host("ours"), host("ip")));
    // (vxlanctl add ..., ip link add ...): the same device asked for both ways.
    let cases = [
        (
            "vx0 id 42 local 192.0.2.1 dev ul0 port 4790 nolearning proxy ttl 64 ageing 600 mtu 1400 --master br0 --up",
            "vx0 mtu 1400 master br0 up type vxlan id 42 local 192.0.2.1 dev ul0 dstport 4790 nolearning proxy ttl 64 ageing 600",
        ),
        // Defaults: learning on, port 4789, MTU derived from ul0 (1500 - 50).
        ("vx1 id 43 dev ul0", "vx1 type vxlan id 43 dev ul0 dstport 4789"),
        // An IPv6 underlay: LOCAL6, the MTU 1500 - 70.
        (
            "vx2 id 44 local 2001:db8::1 dev ul0 learning",
            "vx2 type vxlan id 44 local 2001:db8::1 dev ul0 dstport 4789 learning",
        ),
        // No lower device: no MTU derivation, the kernel's 1500.
        ("vx3 id 16777215 port 8472", "vx3 type vxlan id 16777215 dstport 8472"),
    ];
    for (ours, theirs) in cases {
        sb.ok(&format!("ip netns exec ours \"$VXLANCTL\" add {ours}"));
        sb.ok(&format!("ip -n ip link add {theirs}"));
        let dev = ours.split(' ').next().unwrap();
        let (a, b) = (
            link_in(&sb, Some("ours"), dev),
            link_in(&sb, Some("ip"), dev),
        );
        assert_eq!(
            a.to_json_without(&made_alike),
            b.to_json_without(&made_alike),
            "vxlanctl add {ours}\n  vs ip link add {theirs}"
        );
        assert_eq!(a.s("linkinfo.info_kind"), "vxlan");
    }
    let mtu = |d: &str| link_in(&sb, Some("ours"), d).s("mtu");
    assert_eq!(
        (mtu("vx0"), mtu("vx1"), mtu("vx2"), mtu("vx3")),
        ("1400".into(), "1450".into(), "1430".into(), "1500".into())
    );
    let vx0 = link_in(&sb, Some("ours"), "vx0");
    assert_eq!(vx0.s("master"), "br0");
    assert!(vx0.at("flags").to_json().contains("\"UP\""));
    assert_eq!(vx0.s("linkinfo.info_data.port"), "4790");
    assert_eq!(vx0.s("linkinfo.info_data.learning"), "false");

    // show says what ip says.
    let rows = Jv::parse(&sb.ok("ip netns exec ours \"$VXLANCTL\" -j show"));
    let row = |d: &str| {
        rows.arr()
            .iter()
            .find(|r| r.s("ifname") == d)
            .unwrap_or_else(|| panic!("no {d} in {}", rows.to_json()))
            .clone()
    };
    let r = row("vx0");
    for (k, want) in [
        ("vni", "42"),
        ("local", "192.0.2.1"),
        ("dev", "ul0"),
        ("port", "4790"),
        ("learning", "false"),
        ("proxy", "true"),
        ("ttl", "64"),
        ("ageing", "600"),
        ("mtu", "1400"),
        ("master", "br0"),
        ("socket_netns", "null"),
    ] {
        assert_eq!(r.s(k), want, "show -j vx0 {k}: {}", r.to_json());
    }
    assert_eq!(row("vx2").s("local"), "2001:db8::1");
    assert_eq!(row("vx3").s("dev"), "null");
    assert_eq!(
        row("vx1").s("ifindex"),
        link_in(&sb, Some("ours"), "vx1").s("ifindex")
    );
    let table = sb.ok("ip netns exec ours \"$VXLANCTL\" show vx0");
    assert_eq!(table.lines().count(), 2, "{table}");
    assert!(
        table
            .lines()
            .nth(1)
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>()
            == [
                "vx0",
                "42",
                "192.0.2.1",
                "ul0",
                "4790",
                "off",
                "on",
                "64",
                "600",
                "1400",
                "br0",
                "UP",
                "here"
            ],
        "{table}"
    );
}

/// Whether `ss -uan` (in namespace `ns`, or the sandbox's own) shows a UDP socket on `port`.
fn udp_socket(sb: &Sandbox, ns: Option<&str>, port: u16) -> bool {
    let pre = ns
        .map(|n| format!("ip netns exec {n} "))
        .unwrap_or_default();
    sb.ok(&format!("{pre}ss -uan")).lines().any(|l| {
        l.split_whitespace()
            .any(|w| w.ends_with(&format!(":{port}")))
    })
}

#[test]
fn netns_leaves_the_socket_on_the_underlay() {
    let sb = Sandbox::new();
    sb.ok(&host("u"));
    sb.ok("ip netns add ov; ip -n ov link add br0 type bridge");
    // Made in u (the underlay host), moved into ov, enslaved and up there.
    sb.ok("ip netns exec u \"$VXLANCTL\" add vx0 id 42 local 192.0.2.1 dev ul0 nolearning proxy --netns ov --master br0 --up");
    assert!(!sb.has_link("vx0"));
    assert!(sb.sh("ip -n u link show vx0").status.code() != Some(0));
    let l = link_in(&sb, Some("ov"), "vx0");
    assert_eq!(l.s("master"), "br0");
    assert!(
        l.at("flags").to_json().contains("\"UP\""),
        "{}",
        l.to_json()
    );
    assert!(l.get("link_netnsid").is_some(), "{}", l.to_json());
    assert_eq!(l.s("mtu"), "1450", "derived from ul0 in u");
    // The socket is on the underlay, in u; none in ov.
    assert!(udp_socket(&sb, Some("u"), 4789), "no :4789 socket in u");
    assert!(!udp_socket(&sb, Some("ov"), 4789), "a :4789 socket in ov");
    // show in ov names u as the socket's namespace, and the lower device there.
    let rows = Jv::parse(&sb.ok("ip netns exec ov \"$VXLANCTL\" -j show"));
    assert_eq!(rows.arr().len(), 1);
    assert_eq!(rows.s("0.socket_netns"), "u", "{}", rows.to_json());
    assert_eq!(rows.s("0.dev"), "ul0", "{}", rows.to_json());
    assert_eq!(rows.s("0.master"), "br0");

    // A name taken in the target: refused before anything is made, here or there.
    sb.ok("ip -n ov link add taken type bridge");
    let before = (links_of(&sb, "u"), links_of(&sb, "ov"));
    let o = sb.sh("ip netns exec u \"$VXLANCTL\" add taken id 50 dev ul0 --netns ov");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("taken") && err.contains("ov"), "{err}");
    // A master missing there, a namespace that is not there: the same.
    for args in [
        "add vx9 id 51 dev ul0 --netns ov --master nobr",
        "add vx9 id 51 dev ul0 --netns nons",
    ] {
        let o = sb.sh(&format!("ip netns exec u \"$VXLANCTL\" {args}"));
        assert_eq!(o.status.code(), Some(1), "{args}: {}", show_out(&o));
        assert_eq!(text(&o.stderr).lines().count(), 1, "{}", show_out(&o));
    }
    assert_eq!((links_of(&sb, "u"), links_of(&sb, "ov")), before);
}

/// The link names of a namespace, sorted.
fn links_of(sb: &Sandbox, ns: &str) -> Vec<String> {
    let mut v: Vec<String> = Jv::parse(&sb.ok(&format!("ip -n {ns} -j link show")))
        .arr()
        .iter()
        .map(|l| l.s("ifname"))
        .collect();
    v.sort();
    v
}

#[test]
fn mtu_is_derived_and_a_larger_one_refused_with_the_figure() {
    let sb = Sandbox::new();
    sb.ok(
        "sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
           ip link add ul0 type veth peer name ul1
           ip link add jumbo type veth peer name jumbo1
           ip link set jumbo mtu 9000",
    );
    vx_ok(&sb, "add a id 1 dev ul0");
    assert_eq!(sb.link("a").s("mtu"), "1450");
    vx_ok(&sb, "add b id 2 dev ul0 mtu 1450");
    assert_eq!(sb.link("b").s("mtu"), "1450");
    vx_ok(&sb, "add c id 3 dev ul0 local 2001:db8::1");
    assert_eq!(sb.link("c").s("mtu"), "1430");
    vx_ok(&sb, "add d id 4 dev jumbo mtu 8950");
    assert_eq!(sb.link("d").s("mtu"), "8950");

    let before = sb.links_state();
    for (args, figure) in [
        ("add e id 5 dev ul0 mtu 1451", "1450"),
        ("add e id 5 dev ul0 mtu 1500", "1450"),
        ("add e id 5 dev ul0 local 2001:db8::1 mtu 1431", "1430"),
        ("add e id 5 dev jumbo mtu 9000", "8950"),
    ] {
        let o = vx(&sb, args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("vxlanctl: add e: ") && err.contains(&format!("at most {figure}")),
            "{args}: {err}"
        );
        assert_eq!(sb.links_state(), before, "{args} changed something");
    }
    // --force sends it; this kernel caps it at the same figure, and vxlanctl says so.
    let o = vx(&sb, "add e id 5 dev ul0 mtu 1500 --force");
    assert!(o.status.success(), "{}", show_out(&o));
    assert!(
        text(&o.stderr).contains("note: the kernel set mtu 1450"),
        "{}",
        show_out(&o)
    );
    assert_eq!(sb.link("e").s("mtu"), "1450");
}

const BAD: &[(&str, i32, &[&str])] = &[
    ("add vx9 id 0", 2, &["id", "1 to 16777215"]),
    ("add vx9 id 16777216", 2, &["16777216"]),
    ("add vx9 id x", 2, &["id"]),
    ("add vx9", 2, &["id VNI"]),
    ("add vx9 id 5 port 0", 2, &["port"]),
    ("add vx9 id 5 port 65536", 2, &["port"]),
    ("add vx9 id 5 mtu 67", 2, &["mtu"]),
    ("add vx9 id 5 ttl 256", 2, &["ttl"]),
    ("add vx9 id 5 local nowhere", 2, &["local"]),
    ("add vx9 id 5 local 224.0.0.1", 2, &["unicast"]),
    ("add vx9 id 5 frob", 2, &["frob"]),
    ("add averyveryverylongname id 5", 2, &["15 bytes"]),
    ("add vx9 id 5 dev averyveryverylongname", 2, &["15 bytes"]),
    ("add vx9 id 5 dev nosuch", 1, &["nosuch"]),
    ("add vx9 id 5 --master p1", 1, &["not a bridge"]),
    ("add vx9 id 5 --master nobr", 1, &["nobr"]),
    ("add vx0 id 77", 1, &["vx0", "taken"]),
    ("add vx9 id 42", 1, &["VNI"]),
    ("del p1", 1, &["not a VXLAN device"]),
    ("del vx0 nosuch", 1, &["nosuch"]),
    ("del", 2, &["del NAME"]),
    ("show nosuch", 1, &["nosuch"]),
    ("show vx0 vx0", 2, &["show"]),
    ("frob", 2, &["unknown command"]),
    ("--via ioctl add vx9 id 5", 2, &["ioctl", "netlink"]),
    ("--via ioctl show", 2, &["no ioctl path"]),
    ("--via sysfs show", 2, &["sysfs"]),
    ("-b /run/nonexistent", 1, &["/run/nonexistent"]),
];

#[test]
fn bad_input_fails_cleanly_and_changes_nothing() {
    let sb = Sandbox::new();
    sb.ok("ip link add ul0 type veth peer name ul1
           ip link add p1 type veth peer name q1
           ip link add br0 type bridge
           ip link add vx0 type vxlan id 42 dev ul0 dstport 4789");
    let before = sb.links_state();
    for (args, status, words) in BAD {
        let o = vx(&sb, args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(*status), "vxlanctl {args}: {err}");
        assert!(o.stdout.is_empty(), "vxlanctl {args}: {}", text(&o.stdout));
        assert_eq!(err.lines().count(), 1, "vxlanctl {args}: one line:\n{err}");
        assert!(err.starts_with("vxlanctl: "), "vxlanctl {args}: {err}");
        for w in *words {
            assert!(err.contains(w), "vxlanctl {args}: {w:?} not in {err}");
        }
        assert_eq!(
            sb.links_state(),
            before,
            "vxlanctl {args} changed something"
        );
    }
}

#[test]
fn del_several_if_exists_dry_run_batch_and_multicall() {
    let sb = Sandbox::new();
    sb.ok("ip link add ul0 type veth peer name ul1; ip link add br0 type bridge");
    // A batch: lines in order until the bad one, named by number.
    let input = "add a id 1 dev ul0\nadd b id 2 dev ul0 --master br0\n# c\nadd c id 3\nadd d id 0\nadd e id 5\n";
    let o = sb.sh_input("\"$VXLANCTL\" -b -", Some(input));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("vxlanctl: -: line 5: "), "{err}");
    assert!(sb.has_link("a") && sb.has_link("b") && sb.has_link("c"));
    assert!(!sb.has_link("d") && !sb.has_link("e"));
    assert_eq!(sb.link("b").s("master"), "br0");

    // --dry-run: printed, not sent.
    let before = sb.links_state();
    for args in ["add x id 9 dev ul0 --up --master br0", "del a", "del a b"] {
        let o = vx(&sb, &format!("--dry-run {args}"));
        let err = text(&o.stderr);
        assert!(o.status.success(), "--dry-run {args}: {err}");
        assert!(err.contains("not sent (--dry-run)"), "{args}: {err}");
        assert_eq!(sb.links_state(), before, "--dry-run {args}");
    }
    // --explain shows the request by its attributes' names.
    let o = vx(&sb, "--explain add x id 9 dev ul0 proxy nolearning");
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    for want in [
        "IFLA_INFO_KIND \"vxlan\"",
        "IFLA_VXLAN_ID 9",
        "IFLA_VXLAN_PROXY 1",
        "IFLA_VXLAN_LEARNING 0",
        "IFLA_VXLAN_PORT 4789 (network order)",
    ] {
        assert!(err.contains(want), "{want:?} not in {err}");
    }

    // Several at once (one group delete); then --if-exists for the ones already gone.
    vx_ok(&sb, "del a b");
    assert!(!sb.has_link("a") && !sb.has_link("b") && sb.has_link("c"));
    let o = vx(&sb, "del a c --if-exists");
    assert!(o.status.success(), "{}", show_out(&o));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("del a:") && err.contains("--if-exists"),
        "{err}"
    );
    assert!(!sb.has_link("c"));

    // The multicall binary runs the same program.
    sb.ok("\"$NETPLUMB\" vxlanctl add m id 7 dev ul0");
    assert_eq!(sb.link("m").s("linkinfo.info_data.id"), "7");
    for args in ["show", "-j show", "show m"] {
        assert_eq!(
            sb.ok(&format!("\"$NETPLUMB\" vxlanctl {args}")),
            vx_ok(&sb, args),
            "netplumb vxlanctl {args}"
        );
    }
    assert!(vx_ok(&sb, "--help").contains("add NAME id VNI"));
    assert!(vx_ok(&sb, "--version").starts_with("vxlanctl (netplumb) "));
    let empty = Sandbox::new();
    assert_eq!(vx_ok(&empty, "show"), "");
    assert_eq!(vx_ok(&empty, "-j show").trim(), "[]");
}
