//! fdbctl against the kernel, read back with tools nobody here wrote: `bridge -j fdb show` (the
//! entries fdbctl leaves against the ones `bridge fdb` leaves for the same commands, in twin
//! namespaces), bridge-utils `brctl showmacs`, and ping between two simulated hosts across a
//! VXLAN overlay built with vxlanctl and fdbctl.

mod common;
use common::*;
use std::process::Output;

fn fdb(sb: &Sandbox, args: &str) -> Output {
    sb.sh(&format!("\"$FDBCTL\" {args}"))
}

fn fdb_ok(sb: &Sandbox, args: &str) -> String {
    let o = fdb(sb, args);
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "fdbctl {args}: {}",
        show_out(&o)
    );
    text(&o.stdout)
}

/// A VXLAN device vx0 (VNI 42, on underlay ul0) in bridge br0, and a bridge port v1a, in
/// namespace `ns`; every device's MAC fixed so two namespaces made alike list alike.
fn overlay_host(ns: &str) -> String {
    format!(
        "ip netns add {ns}
         ip -n {ns} link add ul0 type veth peer name ul1
         ip -n {ns} addr add 192.0.2.1/24 dev ul0
         ip -n {ns} link set ul0 up
         ip -n {ns} link add br0 address 02:bb:00:00:00:01 type bridge
         ip -n {ns} link add vx0 address 02:bb:00:00:00:02 type vxlan id 42 local 192.0.2.1 dev ul0 dstport 4789 nolearning
         ip -n {ns} link set vx0 master br0
         ip -n {ns} link add v1a address 02:bb:00:00:00:03 type veth peer name v1b address 02:bb:00:00:00:04
         ip -n {ns} link set v1a master br0
"
    )
}

/// `bridge -j fdb show` of a namespace, as one comparable text, in the kernel's order.
fn bridge_fdb(sb: &Sandbox, ns: &str) -> String {
    Jv::parse(&sb.ok(&format!("bridge -n {ns} -j fdb show"))).to_json()
}

#[test]
fn entries_equal_bridge_fdb_of_the_same_commands() {
    let sb = Sandbox::new();
    sb.ok(&format!("{}{}", overlay_host("ours"), overlay_host("br")));
    assert_eq!(bridge_fdb(&sb, "ours"), bridge_fdb(&sb, "br"));
    // (fdbctl, bridge fdb): the same step both ways.
    let steps = [
        (
            "add vx0 02:00:00:00:00:01 dst 192.0.2.2",
            "add 02:00:00:00:00:01 dev vx0 dst 192.0.2.2",
        ),
        (
            "add vx0 02:00:00:00:00:05 dst 192.0.2.5 port 4790 vni 43",
            "add 02:00:00:00:00:05 dev vx0 dst 192.0.2.5 port 4790 vni 43",
        ),
        // Three destinations of the flooding entry, then one of them deleted.
        (
            "append vx0 00:00:00:00:00:00 dst 192.0.2.2",
            "append 00:00:00:00:00:00 dev vx0 dst 192.0.2.2",
        ),
        (
            "append vx0 00:00:00:00:00:00 dst 192.0.2.3",
            "append 00:00:00:00:00:00 dev vx0 dst 192.0.2.3",
        ),
        (
            "append vx0 00:00:00:00:00:00 dst 192.0.2.4",
            "append 00:00:00:00:00:00 dev vx0 dst 192.0.2.4",
        ),
        (
            "del vx0 00:00:00:00:00:00 dst 192.0.2.3",
            "del 00:00:00:00:00:00 dev vx0 dst 192.0.2.3",
        ),
        // replace moves an entry to another VTEP, and makes one that was not there.
        (
            "replace vx0 02:00:00:00:00:01 dst 192.0.2.9",
            "replace 02:00:00:00:00:01 dev vx0 dst 192.0.2.9",
        ),
        (
            "replace vx0 02:00:00:00:00:06 dst 192.0.2.6",
            "replace 02:00:00:00:00:06 dev vx0 dst 192.0.2.6",
        ),
        // A bridge's static entries on a port.
        (
            "add v1a 02:00:00:00:00:02 --master",
            "add 02:00:00:00:00:02 dev v1a master static",
        ),
        (
            "replace v1a 02:00:00:00:00:03 --master",
            "replace 02:00:00:00:00:03 dev v1a master static",
        ),
        (
            "del v1a 02:00:00:00:00:02 --master",
            "del 02:00:00:00:00:02 dev v1a master",
        ),
        // A whole entry, every destination at once.
        ("del vx0 00:00:00:00:00:00", "del 00:00:00:00:00:00 dev vx0"),
        ("del vx0 02:00:00:00:00:05", "del 02:00:00:00:00:05 dev vx0"),
    ];
    for (ours, theirs) in steps {
        sb.ok(&format!("ip netns exec ours \"$FDBCTL\" {ours}"));
        sb.ok(&format!("bridge -n br fdb {theirs}"));
        assert_eq!(
            bridge_fdb(&sb, "ours"),
            bridge_fdb(&sb, "br"),
            "fdbctl {ours}  vs  bridge fdb {theirs}"
        );
    }
    // And show prints what bridge fdb show prints, line for line.
    let ours = sb.ok("ip netns exec ours \"$FDBCTL\" show");
    let theirs = sb.ok("bridge -n ours fdb show");
    assert_eq!(ours, theirs);
    // bridge fdb show dev DEV leaves the device out of its lines and objects; ours say it.
    for dev in ["vx0", "v1a"] {
        let ours = Jv::parse(&sb.ok(&format!("ip netns exec ours \"$FDBCTL\" show {dev} -j")));
        assert!(
            ours.arr().iter().all(|e| e.s("ifname") == dev),
            "{}",
            ours.to_json()
        );
        assert_eq!(
            ours.to_json_without(&|k| k == "ifname"),
            Jv::parse(&sb.ok(&format!("bridge -n ours -j fdb show dev {dev}"))).to_json(),
            "show {dev} -j"
        );
    }
}

#[test]
fn append_and_replace_of_present_entries_are_fine_del_of_absent_ones_is_not() {
    let sb = Sandbox::new();
    sb.ok(&overlay_host("h"));
    let run = |args: &str| sb.sh(&format!("ip netns exec h \"$FDBCTL\" {args}"));
    let ok = |args: &str| {
        let o = run(args);
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "{args}: {}",
            show_out(&o)
        );
    };
    ok("append vx0 00:00:00:00:00:00 dst 192.0.2.2");
    ok("append vx0 00:00:00:00:00:00 dst 192.0.2.2");
    ok("add vx0 02:00:00:00:00:01 dst 192.0.2.2");
    ok("replace vx0 02:00:00:00:00:01 dst 192.0.2.2");
    ok("replace vx0 02:00:00:00:00:01 dst 192.0.2.2");
    ok("add v1a 02:00:00:00:00:02 --master");
    ok("replace v1a 02:00:00:00:00:02 --master");
    let before = bridge_fdb(&sb, "h");
    // add of an entry that is there: exit 1, saying so.
    for args in [
        "add vx0 02:00:00:00:00:01 dst 192.0.2.7",
        "add v1a 02:00:00:00:00:02 --master",
    ] {
        let o = run(args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args}: {err}");
        assert!(err.contains("the entry exists"), "{args}: {err}");
    }
    // del of an entry (or a destination) that is not there: exit 1, saying so; with
    // --if-exists exit 0 and a note.
    for args in [
        "del vx0 02:00:00:00:00:09",
        "del vx0 00:00:00:00:00:00 dst 192.0.2.9",
        "del vx0 02:00:00:00:00:01 dst 192.0.2.3",
        "del v1a 02:00:00:00:00:09 --master",
    ] {
        let o = run(args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("no such entry"), "{args}: {err}");
        let o = run(&format!("{args} --if-exists"));
        let err = text(&o.stderr);
        assert!(o.status.success(), "{args} --if-exists: {err}");
        assert!(
            err.contains("no such entry") && err.contains("--if-exists"),
            "{args}: {err}"
        );
    }
    assert_eq!(bridge_fdb(&sb, "h"), before);
}

#[test]
fn show_of_a_bridge_on_every_path_and_of_a_vxlan_device() {
    let sb = Sandbox::new();
    sb.ok(&overlay_host("h"));
    // No learning on v1a: a frame v1b sends on its own (IPv6 DAD in namespace h) would add a
    // dynamic entry between one path's read and the next.
    sb.ok("ip -n h link set v1a type bridge_slave learning off
           ip -n h link set br0 up; ip -n h link set v1a up; ip -n h link set v1b up");
    let run = |args: &str| sb.sh(&format!("ip netns exec h \"$FDBCTL\" {args}"));
    for args in [
        "add v1a 02:00:00:00:00:02 --master",
        "add vx0 02:00:00:00:00:01 dst 192.0.2.2",
    ] {
        assert!(run(args).status.success(), "{args}");
    }
    // The same lines and the same JSON on all three paths.
    let netlink = text(&run("--via netlink show br0").stdout);
    for via in ["ioctl", "sysfs"] {
        let o = run(&format!("--via {via} show br0"));
        assert!(o.status.success(), "{via}: {}", show_out(&o));
        assert_eq!(text(&o.stdout), netlink, "--via {via} show br0");
        assert_eq!(
            text(&run(&format!("--via {via} -j show br0")).stdout),
            text(&run("-j show br0").stdout),
            "--via {via} -j show br0"
        );
    }
    // What brctl (bridge-utils) lists: the same MACs, the same local ones.
    let showmacs = sb.ok("ip netns exec h brctl showmacs br0");
    let mut macs: Vec<(String, bool)> = showmacs
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[1].to_string(), f[2] == "yes")
        })
        .collect();
    macs.sort();
    let mut ours: Vec<(String, bool)> = netlink
        .lines()
        .map(|l| {
            (
                l.split(' ').next().unwrap().to_string(),
                l.ends_with(" permanent"),
            )
        })
        .collect();
    ours.sort();
    assert_eq!(
        ours, macs,
        "fdbctl show br0:\n{netlink}brctl showmacs:\n{showmacs}"
    );
    assert!(
        netlink.contains("02:00:00:00:00:02 dev v1a master br0\n"),
        "{netlink}"
    );
    // Only netlink sees a VXLAN device's own entries; the other paths say so.
    for via in ["ioctl", "sysfs"] {
        let o = run(&format!("--via {via} show vx0"));
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{via}: {err}");
        assert!(o.stdout.is_empty());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains("VXLAN device") && err.contains("only through netlink"),
            "{via}: {err}"
        );
    }
    let vx0 = text(&run("show vx0").stdout);
    assert!(
        vx0.contains("02:00:00:00:00:01 dev vx0 dst 192.0.2.2 self permanent"),
        "{vx0}"
    );
    // Writes have no ioctl or sysfs path.
    for via in ["ioctl", "sysfs"] {
        let o = run(&format!(
            "--via {via} add vx0 02:00:00:00:00:07 dst 192.0.2.7"
        ));
        assert_eq!(o.status.code(), Some(2), "{}", show_out(&o));
        assert!(text(&o.stderr).contains("only through netlink"));
    }
}

const BAD: &[(&str, i32, &[&str])] = &[
    ("add vx0 02:00:00:00:00:09", 2, &["dst"]),
    ("add vx0 01:00:5e:00:00:01 dst 192.0.2.2", 2, &["multicast"]),
    ("add vx0 ff:ff:ff:ff:ff:ff dst 192.0.2.2", 2, &["multicast"]),
    ("add vx0 02:00:00:00:00 dst 192.0.2.2", 2, &["MAC"]),
    ("add vx0 02:00:00:00:00:09 dst nowhere", 2, &["dst"]),
    ("add vx0 02:00:00:00:00:09 dst 192.0.2.2 vni 0", 2, &["vni"]),
    (
        "add vx0 02:00:00:00:00:09 dst 192.0.2.2 vni 16777216",
        2,
        &["vni"],
    ),
    (
        "add vx0 02:00:00:00:00:09 dst 192.0.2.2 port 0",
        2,
        &["port"],
    ),
    (
        "add vx0 02:00:00:00:00:09 dst 192.0.2.2 port 65536",
        2,
        &["port"],
    ),
    ("add vx0 02:00:00:00:00:09 dst 192.0.2.2 frob", 2, &["frob"]),
    ("add v1a 00:00:00:00:00:00 --master", 2, &["all zero"]),
    (
        "add v1a 02:00:00:00:00:09 dst 192.0.2.2 --master",
        2,
        &["dst"],
    ),
    ("append v1a 02:00:00:00:00:09 --master", 2, &["append"]),
    (
        "add averyveryverylongname 02:00:00:00:00:09 dst 192.0.2.2",
        2,
        &["15 bytes"],
    ),
    (
        "add v1b 02:00:00:00:00:09 dst 192.0.2.2",
        1,
        &["neither a VXLAN device nor a bridge port"],
    ),
    (
        "add v1a 02:00:00:00:00:09 dst 192.0.2.2",
        1,
        &["bridge port", "--master"],
    ),
    (
        "add v1b 02:00:00:00:00:09 --master",
        1,
        &["not a bridge port"],
    ),
    (
        "add br0 02:00:00:00:00:09 --master",
        1,
        &["not a bridge port"],
    ),
    ("add nosuch 02:00:00:00:00:09 dst 192.0.2.2", 1, &["nosuch"]),
    ("del vx0 02:00:00:00:00:09", 1, &["no such entry"]),
    ("del vx0", 2, &["del DEV MAC"]),
    ("show nosuch", 1, &["nosuch"]),
    ("--via ioctl show v1a", 1, &["not a bridge"]),
    ("frob", 2, &["unknown command"]),
    ("--via ioctl del vx0 02:00:00:00:00:09", 2, &["netlink"]),
    ("-b /run/nonexistent", 1, &["/run/nonexistent"]),
];

#[test]
fn bad_input_fails_cleanly_and_changes_nothing() {
    let sb = Sandbox::new();
    sb.ok(&overlay_host("h"));
    sb.ok("ip netns exec h \"$FDBCTL\" append vx0 00:00:00:00:00:00 dst 192.0.2.2");
    let state = || {
        format!(
            "{}\n{}",
            bridge_fdb(&sb, "h"),
            sb.ok("ip -n h -d -j link show")
        )
    };
    let before = state();
    for (args, status, words) in BAD {
        let o = sb.sh(&format!("ip netns exec h \"$FDBCTL\" {args}"));
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(*status), "fdbctl {args}: {err}");
        assert!(o.stdout.is_empty(), "fdbctl {args}: {}", text(&o.stdout));
        assert_eq!(err.lines().count(), 1, "fdbctl {args}: one line:\n{err}");
        assert!(err.starts_with("fdbctl: "), "fdbctl {args}: {err}");
        for w in *words {
            assert!(err.contains(w), "fdbctl {args}: {w:?} not in {err}");
        }
        assert_eq!(state(), before, "fdbctl {args} changed something");
    }
}

#[test]
fn batch_dry_run_explain_and_multicall() {
    let sb = Sandbox::new();
    sb.ok(&overlay_host("h"));
    let input = "append vx0 00:00:00:00:00:00 dst 192.0.2.2\nadd vx0 02:00:00:00:00:01 dst 192.0.2.2\n\nadd vx0 02:00:00:00:00:02\nadd vx0 02:00:00:00:00:03 dst 192.0.2.2\n";
    let o = sb.sh_input("ip netns exec h \"$FDBCTL\" -b -", Some(input));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.starts_with("fdbctl: -: line 4: "), "{err}");
    let shown = sb.ok("bridge -n h fdb show dev vx0");
    assert!(shown.contains("02:00:00:00:00:01 dst 192.0.2.2"), "{shown}");
    assert!(!shown.contains("02:00:00:00:00:03"), "{shown}");

    let before = bridge_fdb(&sb, "h");
    for args in [
        "add vx0 02:00:00:00:00:04 dst 192.0.2.4",
        "del vx0 02:00:00:00:00:01",
        "del vx0 00:00:00:00:00:00 dst 192.0.2.2",
        "add v1a 02:00:00:00:00:05 --master",
    ] {
        let o = sb.sh(&format!("ip netns exec h \"$FDBCTL\" --dry-run {args}"));
        let err = text(&o.stderr);
        assert!(o.status.success(), "--dry-run {args}: {err}");
        assert!(err.contains("not sent (--dry-run)"), "{args}: {err}");
        assert_eq!(bridge_fdb(&sb, "h"), before, "--dry-run {args}");
    }
    let o = sb.sh("ip netns exec h \"$FDBCTL\" --explain append vx0 00:00:00:00:00:00 dst 192.0.2.3 port 4790 vni 42");
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    for want in [
        "RTM_NEWNEIGH flags=REQUEST|ACK|CREATE|APPEND",
        "ndmsg{family=AF_BRIDGE, ifindex=",
        "state=NUD_NOARP|NUD_PERMANENT, flags=NTF_SELF, type=0}",
        "NDA_LLADDR 00:00:00:00:00:00",
        "NDA_DST 192.0.2.3",
        "NDA_PORT 4790 (network order)",
        "NDA_VNI 42",
    ] {
        assert!(err.contains(want), "{want:?} not in {err}");
    }
    for args in ["show", "-j show", "show vx0", "show br0"] {
        assert_eq!(
            sb.ok(&format!("ip netns exec h \"$NETPLUMB\" fdbctl {args}")),
            sb.ok(&format!("ip netns exec h \"$FDBCTL\" {args}")),
            "netplumb fdbctl {args}"
        );
    }
    assert!(fdb_ok(&sb, "--help").contains("add DEV MAC dst ADDR"));
    assert!(fdb_ok(&sb, "--version").starts_with("fdbctl (netplumb) "));
}

/// Two hosts (namespaces h1, h2 on an underlay bridge in the sandbox, 192.0.2.1 and .2), each
/// with a bridge, a VXLAN device (nolearning proxy) on it and a container (c1, c2) on a veth
/// into the bridge; the overlay's entries written with vxlanctl and fdbctl, the neighbour
/// entries with ip neigh: the containers ping each other across the hosts, over UDP 4789.
#[test]
fn two_hosts_ping_across_the_overlay() {
    let sb = Sandbox::new();
    sb.ok("ip link add ul type bridge; ip link set ul up");
    for (h, n) in [("h1", 1), ("h2", 2)] {
        sb.ok(&format!(
            "ip netns add {h}; ip netns add c{n}
             ip link add {h}p type veth peer name eth0 netns {h}
             ip link set {h}p master ul up
             ip -n {h} addr add 192.0.2.{n}/24 dev eth0
             ip -n {h} link set eth0 up
             ip -n {h} link set lo up
             ip netns exec {h} \"$BRCTL\" addbr br0
             ip -n {h} link set br0 up
             ip netns exec {h} \"$VXLANCTL\" add vx0 id 42 local 192.0.2.{n} dev eth0 nolearning proxy --master br0 --up
             ip -n {h} link add v{n} type veth peer name eth0 netns c{n} address 02:00:00:00:01:0{n}
             ip -n {h} link set v{n} master br0 up
             ip -n c{n} link set eth0 mtu 1450
             ip -n c{n} addr add 10.20.0.{n}/24 dev eth0
             ip -n c{n} link set eth0 up"
        ));
    }
    // Each host learns the other's VTEP and container: flooding entry, FDB entry, neighbour.
    for (h, other) in [("h1", 2), ("h2", 1)] {
        sb.ok(&format!(
            "ip netns exec {h} \"$FDBCTL\" append vx0 00:00:00:00:00:00 dst 192.0.2.{other}
             ip netns exec {h} \"$FDBCTL\" add vx0 02:00:00:00:01:0{other} dst 192.0.2.{other}
             ip -n {h} neigh add 10.20.0.{other} lladdr 02:00:00:00:01:0{other} dev vx0 nud permanent"
        ));
    }
    let rx = |h: &str| -> u64 {
        Jv::parse(&sb.ok(&format!("ip -n {h} -s -j link show eth0")))
            .s("0.stats64.rx.packets")
            .parse()
            .unwrap()
    };
    let before = rx("h2");
    let o = sb.sh("ip netns exec c1 ping -c 3 -i 0.2 -W 5 10.20.0.2");
    assert!(o.status.success(), "ping c1 -> c2: {}", show_out(&o));
    let o = sb.sh("ip netns exec c2 ping -c 2 -i 0.2 -W 5 10.20.0.1");
    assert!(o.status.success(), "ping c2 -> c1: {}", show_out(&o));
    assert!(
        rx("h2") >= before + 3,
        "the pings crossed h2's underlay device"
    );
    // Full-size at the overlay's MTU passes with DF; one byte over is refused.
    let o = sb.sh("ip netns exec c1 ping -c 1 -W 5 -M do -s 1422 10.20.0.2");
    assert!(o.status.success(), "1450-byte packet: {}", show_out(&o));
    let o = sb.sh("ip netns exec c1 ping -c 1 -W 2 -M do -s 1423 10.20.0.2");
    assert!(!o.status.success(), "1451 bytes passed a 1450 overlay");
    // The UDP socket is on each host's underlay.
    for h in ["h1", "h2"] {
        let ss = sb.ok(&format!("ip netns exec {h} ss -uan"));
        assert!(ss.contains(":4789"), "{h}: {ss}");
    }
}
