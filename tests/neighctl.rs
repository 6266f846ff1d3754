//! neighctl against the kernel: entries made on each path (`--via ioctl`, `--via netlink`)
//! read back with iproute2 (`ip -d -j neigh`, `ip -j neigh show proxy`) and net-tools (`arp
//! -n`), a VXLAN device's proxy answering ARP from them (real pings between two simulated
//! hosts), flush of permanent entries, and bad input that changes nothing.
//!
//! Every test makes its own sandbox. Twin namespaces take the same device names, so their
//! neighbour tables compare as they are.

mod common;
use common::*;
use std::process::Output;

const VIAS: [&str; 2] = ["ioctl", "netlink"];

/// Namespace `ns` with a veth pair va / vb inside, both up, 198.51.100.1/24 on va.
fn host(sb: &Sandbox, ns: &str) {
    sb.ok(&format!(
        "ip netns add {ns}
         ip -n {ns} link add va type veth peer name vb
         ip -n {ns} link set va up
         ip -n {ns} link set vb up
         ip -n {ns} link set lo up
         ip -n {ns} addr add 198.51.100.1/24 dev va"
    ));
}

/// `neighctl ARGS` (shell words) in namespace `ns`.
fn neighctl(sb: &Sandbox, ns: &str, args: &str) -> Output {
    sb.sh(&format!("ip netns exec {ns} $NEIGHCTL {args}"))
}

/// A step that must succeed silently (nothing on stdout or stderr).
fn ok(sb: &Sandbox, ns: &str, args: &str) {
    let o = neighctl(sb, ns, args);
    assert!(
        o.status.success() && o.stderr.is_empty() && o.stdout.is_empty(),
        "neighctl {args} (in {ns}): {}",
        show_out(&o)
    );
}

/// The whole neighbour state of `ns` as iproute2 reads it: every entry of both families in
/// detail, and the proxy entries, each list sorted (the kernel lists its hash tables' order).
fn table(sb: &Sandbox, ns: &str) -> String {
    let parse = |s: String| {
        let v = Jv::parse(if s.trim().is_empty() { "[]" } else { &s });
        let mut rows: Vec<String> = v.arr().iter().map(Jv::to_json).collect();
        rows.sort();
        format!("[{}]", rows.join(","))
    };
    format!(
        "{}\n{}\n{}",
        parse(sb.ok(&format!("ip -n {ns} -d -j -4 neigh show"))),
        parse(sb.ok(&format!("ip -n {ns} -d -j -6 neigh show"))),
        parse(sb.ok(&format!("ip -n {ns} -j neigh show proxy"))),
    )
}

/// On path `via`, in namespace `via`: 198.51.100.7 at 02:00:00:00:00:07 on va, and a proxy
/// entry for 198.51.100.8 there.
fn permanent_and_proxy(sb: &Sandbox, via: &str) {
    ok(
        sb,
        via,
        &format!("--via {via} add va 198.51.100.7 02:00:00:00:00:07"),
    );
    ok(
        sb,
        via,
        &format!("--via {via} add va 198.51.100.8 02:00:00:00:00:08 --proxy"),
    );
}

#[test]
fn both_paths_leave_the_same_entry() {
    let sb = Sandbox::new();
    for via in VIAS {
        host(&sb, via);
        permanent_and_proxy(&sb, via);
    }
    let ioctl = table(&sb, "ioctl");
    assert_eq!(ioctl, table(&sb, "netlink"), "the paths differ");
    let entries = Jv::parse(&sb.ok("ip -n ioctl -d -j -4 neigh show"));
    assert_eq!(entries.arr().len(), 1, "{ioctl}");
    assert_eq!(entries.s("0.dst"), "198.51.100.7");
    assert_eq!(entries.s("0.lladdr"), "02:00:00:00:00:07");
    assert_eq!(entries.at("0.state").to_json(), r#"["PERMANENT"]"#);
    let proxies = Jv::parse(&sb.ok("ip -n ioctl -j neigh show proxy"));
    assert_eq!(proxies.s("0.dst"), "198.51.100.8");
    assert_eq!(proxies.s("0.dev"), "va");
    // net-tools reads them as it reads its own: permanent, and published.
    let arp = sb.ok("ip netns exec netlink arp -n -i va");
    assert!(
        arp.contains("02:00:00:00:00:07") && arp.contains("CM"),
        "arp -n: {arp}"
    );
    // Each path's show reads each path's entries alike.
    for (made, shown) in [("ioctl", "netlink"), ("netlink", "ioctl")] {
        // -j before the command (as every program takes it) or after it (show's own syntax).
        let json = if made == "ioctl" {
            "-j show va"
        } else {
            "show va -j"
        };
        let o = neighctl(&sb, made, &format!("--via {shown} {json}"));
        assert!(o.status.success(), "{}", show_out(&o));
        assert_eq!(
            text(&o.stdout),
            "[{\"dst\":\"198.51.100.7\",\"dev\":\"va\",\"lladdr\":\"02:00:00:00:00:07\",\
             \"state\":[\"PERMANENT\"],\"proxy\":false},{\"dst\":\"198.51.100.8\",\"dev\":\"va\",\
             \"lladdr\":null,\"state\":[],\"proxy\":true}]\n",
            "made on {made}, shown on {shown}"
        );
    }
    // A second add of either is refused on both paths, and the entry is as it was.
    for via in VIAS {
        let o = neighctl(
            &sb,
            via,
            &format!("--via {via} add va 198.51.100.7 02:00:00:00:00:99"),
        );
        assert_eq!(o.status.code(), Some(1), "{}", show_out(&o));
        assert!(
            text(&o.stderr).contains("an entry is already there"),
            "{}",
            show_out(&o)
        );
        assert_eq!(table(&sb, via), ioctl);
    }
    // del on each path takes either path's entry away.
    for (made, via) in [("ioctl", "netlink"), ("netlink", "ioctl")] {
        ok(&sb, made, &format!("--via {via} del va 198.51.100.7"));
        ok(
            &sb,
            made,
            &format!("--via {via} del va 198.51.100.8 --proxy"),
        );
        assert_eq!(table(&sb, made), "[]\n[]\n[]", "after del on {made}");
        let o = neighctl(&sb, made, &format!("--via {via} del va 198.51.100.7"));
        assert_eq!(o.status.code(), Some(1), "{}", show_out(&o));
        assert_eq!(
            text(&o.stderr),
            "neighctl: del va 198.51.100.7: no such entry\n"
        );
        let o = neighctl(
            &sb,
            made,
            &format!("--via {via} del va 198.51.100.7 --if-exists"),
        );
        assert!(o.status.success(), "{}", show_out(&o));
        assert_eq!(
            text(&o.stderr),
            "neighctl: del va 198.51.100.7: no such entry; nothing to do (--if-exists)\n"
        );
    }
}

#[test]
fn ipv6_entries_are_made_on_netlink_and_refused_on_ioctl() {
    let sb = Sandbox::new();
    host(&sb, "h");
    sb.ok("ip netns exec h sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.va.disable_ipv6=0");
    ok(&sb, "h", "add va 2001:db8::7 02:00:00:00:00:07");
    let v6 = Jv::parse(&sb.ok("ip -n h -j -6 neigh show dev va"));
    let mine: Vec<&Jv> = v6
        .arr()
        .iter()
        .filter(|e| e.s("dst") == "2001:db8::7")
        .collect();
    assert_eq!(mine.len(), 1, "{}", v6.to_json());
    assert_eq!(mine[0].s("lladdr"), "02:00:00:00:00:07");
    assert_eq!(mine[0].at("state").to_json(), r#"["PERMANENT"]"#);
    let shown = text(&neighctl(&sb, "h", "show va").stdout);
    assert!(
        shown.contains("2001:db8::7") && shown.contains("PERMANENT"),
        "{shown}"
    );
    let before = table(&sb, "h");
    let o = neighctl(&sb, "h", "--via ioctl add va 2001:db8::8 02:00:00:00:00:08");
    assert_eq!(o.status.code(), Some(2), "{}", show_out(&o));
    assert!(
        text(&o.stderr).contains("--via netlink"),
        "{}",
        show_out(&o)
    );
    assert_eq!(table(&sb, "h"), before);
    ok(&sb, "h", "del va 2001:db8::7");
    assert!(!table(&sb, "h").contains("2001:db8::7"));
}

#[test]
fn flush_removes_permanent_and_proxy_entries_that_ip_neigh_flush_leaves() {
    let sb = Sandbox::new();
    for via in VIAS {
        host(&sb, via);
        sb.ok(&format!(
            "ip -n {via} neigh add 198.51.100.9 lladdr 02:00:00:00:00:09 dev va nud stale
             ip -n {via} neigh add 198.51.100.10 lladdr 02:00:00:00:00:0a dev va nud reachable
             ip -n {via} neigh add 198.51.100.11 lladdr 02:00:00:00:00:0b dev vb nud permanent"
        ));
        permanent_and_proxy(&sb, via);
        // iproute2's flush leaves the permanent one: the contrast neighctl's flush makes.
        sb.ok(&format!("ip -n {via} neigh flush dev va"));
        let left = sb.ok(&format!("ip -n {via} -j neigh show dev va"));
        assert!(left.contains("198.51.100.7"), "ip neigh flush left: {left}");
        ok(&sb, via, &format!("--via {via} flush va"));
        let t = table(&sb, via);
        assert!(
            !t.contains("198.51.100.7") && !t.contains("198.51.100.8") && !t.contains("\"va\""),
            "after flush on {via}: {t}"
        );
        // Another device's entries stay.
        assert!(t.contains("198.51.100.11"), "flush va took vb's entry: {t}");
        let o = neighctl(&sb, via, &format!("--via {via} show va"));
        assert!(
            o.status.success() && o.stdout.is_empty(),
            "{}",
            show_out(&o)
        );
    }
}

#[test]
fn every_bad_input_is_one_line_and_changes_nothing() {
    let sb = Sandbox::new();
    host(&sb, "h");
    ok(&sb, "h", "add va 198.51.100.7 02:00:00:00:00:07");
    let before = table(&sb, "h");
    let cases: &[(&str, i32, &str)] = &[
        ("add va 198.51.100.9 01:00:5e:00:00:01", 2, "multicast"),
        ("add va 198.51.100.9 ff:ff:ff:ff:ff:ff", 2, "multicast"),
        ("add va 198.51.100.9 00:00:00:00:00:00", 2, "all zero"),
        ("add va 198.51.100.9 02:00:00:00:00", 2, "six bytes"),
        ("add lo 198.51.100.9 02:00:00:00:00:09", 1, "loopback"),
        (
            "add abcdefghijklmnop 198.51.100.9 02:00:00:00:00:09",
            2,
            "at most 15 bytes",
        ),
        ("del abcdefghijklmnop 198.51.100.7", 2, "at most 15 bytes"),
        ("flush abcdefghijklmnop", 2, "at most 15 bytes"),
        (
            "add nosuch0 198.51.100.9 02:00:00:00:00:09",
            1,
            "no interface named nosuch0",
        ),
        ("add va 198.51.100.999 02:00:00:00:00:09", 2, "bad address"),
        ("add va 224.0.0.5 02:00:00:00:00:09", 2, "unicast"),
        ("add va 0.0.0.0 02:00:00:00:00:09", 2, "unicast"),
        ("add va 198.51.100.9", 2, "usage"),
        (
            "add va 198.51.100.9 02:00:00:00:00:09 --bogus",
            2,
            "not an option",
        ),
        (
            "add va 198.51.100.9 02:00:00:00:00:09 --if-exists",
            2,
            "does not apply",
        ),
        ("del va 198.51.100.9", 1, "no such entry"),
        ("del va 198.51.100.7 extra", 2, "usage"),
        ("frob va", 2, "unknown command"),
        ("flush nosuch0", 1, "no interface named nosuch0"),
        ("show nosuch0", 1, "no interface named nosuch0"),
    ];
    for via in VIAS {
        for (args, code, says) in cases {
            let o = neighctl(&sb, "h", &format!("--via {via} {args}"));
            let err = text(&o.stderr);
            assert_eq!(
                o.status.code(),
                Some(*code),
                "--via {via} {args}: {}",
                show_out(&o)
            );
            assert!(
                err.starts_with("neighctl: ") && err.lines().count() == 1 && err.contains(says),
                "--via {via} {args}: expected one line saying {says:?}: {}",
                show_out(&o)
            );
            assert!(o.stdout.is_empty(), "--via {via} {args}: {}", show_out(&o));
            assert_eq!(
                table(&sb, "h"),
                before,
                "--via {via} {args} changed the table"
            );
        }
    }
    let o = neighctl(&sb, "h", "--via ioctl add va 2001:db8::9 02:00:00:00:00:09");
    assert_eq!(o.status.code(), Some(2), "{}", show_out(&o));
    assert!(text(&o.stderr).contains("use --via netlink"));
    let o = neighctl(&sb, "h", "--via sysfs show");
    assert_eq!(o.status.code(), Some(2), "{}", show_out(&o));
    // --dry-run sends nothing that changes, on both paths.
    for via in VIAS {
        let o = neighctl(
            &sb,
            "h",
            &format!("--via {via} --dry-run add va 198.51.100.9 02:00:00:00:00:09"),
        );
        assert!(o.status.success(), "{}", show_out(&o));
        assert!(
            text(&o.stderr).contains("not sent (--dry-run)"),
            "{}",
            show_out(&o)
        );
        let o = neighctl(&sb, "h", &format!("--via {via} --dry-run flush va"));
        assert!(o.status.success(), "{}", show_out(&o));
        assert_eq!(
            table(&sb, "h"),
            before,
            "--dry-run on {via} changed the table"
        );
    }
    // --explain names each path's request.
    for (via, req, addr) in [
        ("ioctl", "SIOCSARP", "198.51.100.20"),
        ("netlink", "RTM_NEWNEIGH", "198.51.100.21"),
    ] {
        let o = neighctl(
            &sb,
            "h",
            &format!("--via {via} --explain add va {addr} 02:00:00:00:00:20"),
        );
        assert!(o.status.success(), "{}", show_out(&o));
        assert!(text(&o.stderr).contains(req), "{}", show_out(&o));
    }
}

#[test]
fn a_batch_makes_many_entries_in_one_process_on_either_path() {
    let sb = Sandbox::new();
    let mut lines = String::new();
    for i in 1..=200u32 {
        lines.push_str(&format!(
            "add va 10.9.{}.{} 02:00:00:00:{:02x}:{:02x}\n",
            i / 250,
            i % 250 + 1,
            i / 256,
            i % 256
        ));
    }
    sb.ok(&format!("cat > /run/neigh.batch <<'EOF'\n{lines}EOF"));
    for via in VIAS {
        host(&sb, via);
        ok(&sb, via, &format!("--via {via} -b /run/neigh.batch"));
    }
    let t = table(&sb, "ioctl");
    assert_eq!(t, table(&sb, "netlink"));
    assert_eq!(
        Jv::parse(&sb.ok("ip -n ioctl -j -4 neigh show dev va"))
            .arr()
            .len(),
        200
    );
    // A failing line stops the batch, names the line, and what came before stays.
    sb.ok("printf 'del va 10.9.0.2\\ndel va 10.9.0.2\\ndel va 10.9.0.3\\n' > /run/bad.batch");
    for via in VIAS {
        let o = neighctl(&sb, via, &format!("--via {via} -b /run/bad.batch"));
        assert_eq!(o.status.code(), Some(1), "{}", show_out(&o));
        assert!(text(&o.stderr).contains("line 2"), "{}", show_out(&o));
        let left = Jv::parse(&sb.ok(&format!("ip -n {via} -j -4 neigh show dev va")));
        assert_eq!(left.arr().len(), 199, "on {via}");
    }
}

/// Two hosts (namespaces h1, h2) on an underlay bridge, each with a VXLAN device made by
/// vxlanctl (VNI 42, `nolearning proxy`, no flooding entry) on a bridge with one container
/// (c1, c2) behind it, and the FDB entry (fdbctl) for the other container's MAC: everything
/// an overlay needs except the neighbour entries. ARP requests stop at the VXLAN device,
/// which answers them from its neighbour entries or not at all.
fn overlay(sb: &Sandbox) {
    sb.ok("ip link add ul type bridge; ip link set ul up
         for i in 1 2; do
           ip netns add h$i; ip netns add c$i
           ip link add ul$i type veth peer name eth0 netns h$i
           ip link set ul$i master ul up
           ip -n h$i addr add 192.0.2.$i/24 dev eth0
           ip -n h$i link set eth0 up
           ip netns exec h$i $VXLANCTL add vx0 id 42 local 192.0.2.$i dev eth0 nolearning proxy
           ip -n h$i link add br0 type bridge
           ip -n h$i link set vx0 master br0
           ip -n h$i link add veth$i type veth peer name eth0 netns c$i
           ip -n h$i link set veth$i master br0
           ip -n c$i link set eth0 address 02:42:0a:14:00:0$i mtu 1450
           ip -n c$i addr add 10.20.0.$i/24 dev eth0
           for d in vx0 br0 veth$i; do ip -n h$i link set $d up; done
           ip -n c$i link set eth0 up; ip -n c$i link set lo up
         done
         ip netns exec h1 $FDBCTL add vx0 02:42:0a:14:00:02 dst 192.0.2.2
         ip netns exec h2 $FDBCTL add vx0 02:42:0a:14:00:01 dst 192.0.2.1");
}

fn ping(sb: &Sandbox, from: &str, to: &str) -> bool {
    sb.sh(&format!("ip netns exec {from} ping -c 2 -W 2 -i 0.2 {to}"))
        .status
        .success()
}

#[test]
fn a_vxlan_proxy_answers_arp_from_an_entry_made_on_either_path() {
    let sb = Sandbox::new();
    overlay(&sb);
    // No neighbour entries: the VXLAN device drops the ARP requests, nothing crosses.
    assert!(
        !ping(&sb, "c1", "10.20.0.2"),
        "ping worked with no neighbour entry"
    );
    // h1 by ioctl, h2 by netlink: each host's device now answers its container's ARP.
    ok(&sb, "h1", "--via ioctl add vx0 10.20.0.2 02:42:0a:14:00:02");
    ok(
        &sb,
        "h2",
        "--via netlink add vx0 10.20.0.1 02:42:0a:14:00:01",
    );
    let mut pinged = false;
    for _ in 0..5 {
        if ping(&sb, "c1", "10.20.0.2") {
            pinged = true;
            break;
        }
    }
    assert!(pinged, "c1 cannot ping c2 across the overlay");
    assert!(ping(&sb, "c2", "10.20.0.1"), "c2 cannot ping c1");
    // Each container learned the other's MAC from its own host's VXLAN device.
    let n1 = sb.ok("ip -n c1 -j neigh show 10.20.0.2");
    assert!(n1.contains("02:42:0a:14:00:02"), "{n1}");
    // Removing the entry on either path stops the answers again.
    ok(&sb, "h1", "--via netlink del vx0 10.20.0.2");
    sb.ok("ip -n c1 neigh flush dev eth0");
    assert!(
        !ping(&sb, "c1", "10.20.0.2"),
        "ping worked after the entry went"
    );
}
