//! ifctl against the kernel, on both paths (`--via ioctl`, `--via netlink`), read back with
//! iproute2 (`ip -j addr show`, `ip -j -d link show`, `ip -j route show table all`) and
//! checked with real pings between namespaces.
//!
//! Every test makes its own sandbox and its own named namespaces inside it; ifctl runs in
//! them with `ip netns exec NS $IFCTL ...`. Twin devices in two namespaces take the same
//! names (`d0`, its peer `p0`) and the same MACs, so their whole state compares as is.

mod common;
use common::*;
use std::process::Output;

const VIAS: [&str; 2] = ["ioctl", "netlink"];

/// Makes namespace `ns`, IPv6 off (no link-local chatter) or on, before any link is made in it.
fn netns(sb: &Sandbox, ns: &str, ipv6: bool) {
    let off = if ipv6 { 0 } else { 1 };
    sb.ok(&format!(
        "ip netns add {ns}
         ip netns exec {ns} sysctl -qw net.ipv6.conf.all.disable_ipv6={off} net.ipv6.conf.default.disable_ipv6={off}"
    ));
}

/// Namespace `ns` with a veth pair d0 / p0 inside, fixed MACs, both down.
fn twin(sb: &Sandbox, ns: &str, ipv6: bool) {
    netns(sb, ns, ipv6);
    sb.ok(&format!(
        "$VETHCTL add d0 peer p0 --netns {ns} --peer-netns {ns} \
         --mac 02:00:00:00:00:01 --peer-mac 02:00:00:00:00:02"
    ));
}

/// `ifctl --via VIA ARGS` in namespace `ns` (ARGS as shell words).
fn ifctl(sb: &Sandbox, ns: &str, via: &str, args: &str) -> Output {
    sb.sh(&format!("ip netns exec {ns} $IFCTL --via {via} {args}"))
}

/// A changing step must succeed silently.
fn ifctl_ok(sb: &Sandbox, ns: &str, via: &str, args: &str) {
    let o = ifctl(sb, ns, via, args);
    assert!(
        o.status.success() && o.stdout.is_empty() && o.stderr.is_empty(),
        "ifctl --via {via} {args}: {}",
        show_out(&o)
    );
}

/// A step that must fail with `code`, one line on stderr that starts with `ifctl: ` and says
/// each of `says`, nothing on stdout, and the namespace's kernel state untouched.
fn ifctl_err(sb: &Sandbox, ns: &str, via: &str, args: &str, code: i32, says: &[&str]) -> String {
    let before = state(sb, ns);
    let o = ifctl(sb, ns, via, args);
    let err = text(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(code),
        "ifctl --via {via} {args}: {}",
        show_out(&o)
    );
    assert!(o.stdout.is_empty(), "ifctl --via {via} {args}: stdout");
    assert!(
        err.starts_with("ifctl: ") && err.ends_with('\n'),
        "ifctl --via {via} {args}: {err:?}"
    );
    if code == 1 {
        assert_eq!(err.lines().count(), 1, "ifctl --via {via} {args}: {err}");
    }
    for s in says {
        assert!(
            err.contains(s),
            "ifctl --via {via} {args}: stderr should say {s:?}: {err}"
        );
    }
    assert_eq!(
        state(sb, ns),
        before,
        "ifctl --via {via} {args} failed, yet changed the kernel state"
    );
    err
}

/// Drops what changes by itself or with an index (carrier, operstate, timers, lifetimes).
fn clean(v: &Jv) -> Jv {
    const SKIP: [&str; 6] = [
        "ifindex",
        "link_index",
        "operstate",
        "valid_life_time",
        "preferred_life_time",
        "carrier_changes",
    ];
    match v {
        Jv::Obj(kv) => Jv::Obj(
            kv.iter()
                .filter(|(k, _)| !SKIP.contains(&k.as_str()) && !k.contains("timer"))
                .map(|(k, x)| match (k.as_str(), x) {
                    ("flags", Jv::Arr(a)) => (
                        k.clone(),
                        Jv::Arr(
                            a.iter()
                                .filter(|f| !matches!(f.text().as_str(), "LOWER_UP" | "NO-CARRIER"))
                                .cloned()
                                .collect(),
                        ),
                    ),
                    _ => (k.clone(), clean(x)),
                })
                .collect(),
        ),
        Jv::Arr(a) => Jv::Arr(a.iter().map(clean).collect()),
        x => x.clone(),
    }
}

/// The kernel state of a namespace, as iproute2 reads it: links (with details), addresses,
/// and every routing table.
fn state(sb: &Sandbox, ns: &str) -> String {
    const WHAT: [&str; 4] = [
        "-d link show",
        "addr show",
        "route show table all",
        "-6 route show table all",
    ];
    let script: String = WHAT
        .iter()
        .map(|w| format!("ip -n {ns} -j {w}; echo; echo @@\n"))
        .collect();
    let out = sb.ok(&script);
    let parts: Vec<&str> = out.split("@@\n").collect();
    assert_eq!(parts.len(), WHAT.len() + 1, "{out}");
    WHAT.iter()
        .zip(parts)
        .map(|(what, out)| {
            let out = if out.trim().is_empty() { "[]" } else { out };
            format!("{what}: {}\n", clean(&Jv::parse(out)).to_json())
        })
        .collect()
}

/// An address as `ip -j addr show` reports it: family, local/prefix, broadcast ("-" for
/// none), label ("-" for none).
type IpAddrRow = (String, String, String, String);

fn ip_addrs(sb: &Sandbox, ns: &str, dev: &str) -> Vec<IpAddrRow> {
    let v = Jv::parse(&sb.ok(&format!("ip -n {ns} -j addr show dev {dev}")));
    v.at("0.addr_info")
        .arr()
        .iter()
        .map(|a| {
            let or_dash = |k: &str| a.get(k).map(|x| x.text()).unwrap_or("-".into());
            (
                a.s("family"),
                format!("{}/{}", a.s("local"), a.s("prefixlen")),
                or_dash("broadcast"),
                or_dash("label"),
            )
        })
        .collect()
}

fn row(fam: &str, cidr: &str, brd: &str, label: &str) -> IpAddrRow {
    (fam.into(), cidr.into(), brd.into(), label.into())
}

/// The link's flags as `ip -j -d link show` lists them.
fn link_flags(sb: &Sandbox, ns: &str, dev: &str) -> Vec<String> {
    let l = Jv::parse(&sb.ok(&format!("ip -n {ns} -j link show dev {dev}")));
    l.at("0.flags").arr().iter().map(Jv::text).collect()
}

fn link(sb: &Sandbox, ns: &str, dev: &str) -> Jv {
    Jv::parse(&sb.ok(&format!("ip -n {ns} -j -d link show dev {dev}")))
        .at("0")
        .clone()
}

/// Waits until the kernel's link watch has set the device's operstate (IFF_RUNNING, which
/// `show` prints, follows it a moment after a link comes up).
fn settle(sb: &Sandbox, ns: &str, dev: &str, operstate: &str) {
    sb.ok(&format!(
        "for i in $(seq 100); do
           ip -n {ns} -j link show dev {dev} | grep -q '\"operstate\":\"{operstate}\"' && exit 0
           sleep 0.05
         done
         echo '{dev} never reached {operstate}' >&2; ip -n {ns} link show dev {dev} >&2; exit 1"
    ));
}

fn has_link(sb: &Sandbox, ns: &str, dev: &str) -> bool {
    sb.sh(&format!("ip -n {ns} link show dev {dev}"))
        .status
        .success()
}

/// The network the seeds build: left and right, a veth between them made by vethctl, the
/// addresses and the links up by ifctl on one path, then pings both ways.
fn two_namespaces(via: &str) {
    let sb = Sandbox::new();
    netns(&sb, "left", false);
    netns(&sb, "right", false);
    sb.ok("$VETHCTL add vl peer vr --netns left --peer-netns right");
    ifctl_ok(&sb, "left", via, "addr add vl 198.51.100.1/24");
    ifctl_ok(&sb, "right", via, "addr add vr 198.51.100.2/24");
    ifctl_ok(&sb, "left", via, "up vl");
    ifctl_ok(&sb, "right", via, "up vr");
    assert_eq!(
        ip_addrs(&sb, "left", "vl"),
        [row("inet", "198.51.100.1/24", "198.51.100.255", "vl")],
        "--via {via}"
    );
    assert_eq!(
        ip_addrs(&sb, "right", "vr"),
        [row("inet", "198.51.100.2/24", "198.51.100.255", "vr")],
        "--via {via}"
    );
    for (ns, dev) in [("left", "vl"), ("right", "vr")] {
        let f = link_flags(&sb, ns, dev);
        assert!(
            f.iter().any(|x| x == "UP") && f.iter().any(|x| x == "LOWER_UP"),
            "--via {via}: {dev} is not up with carrier: {f:?}"
        );
    }
    // The prefix route each address brings, on each side.
    for ns in ["left", "right"] {
        let r = sb.ok(&format!("ip -n {ns} route show 198.51.100.0/24"));
        assert!(
            r.contains("198.51.100.0/24 dev v"),
            "--via {via}: {ns}: {r}"
        );
    }
    sb.ok("ip netns exec left ping -c1 -W2 198.51.100.2");
    sb.ok("ip netns exec right ping -c1 -W2 198.51.100.1");
    // And ifctl down really takes the link down: no more traffic.
    ifctl_ok(&sb, "right", via, "down vr");
    assert!(!link_flags(&sb, "right", "vr").contains(&"UP".to_string()));
    let o = sb.sh("ip netns exec left ping -c1 -W1 198.51.100.2");
    assert!(
        !o.status.success(),
        "--via {via}: ping through a link that is down"
    );
}

#[test]
fn two_namespaces_on_ioctl() {
    two_namespaces("ioctl");
}

#[test]
fn two_namespaces_on_netlink() {
    two_namespaces("netlink");
}

/// The same steps on both paths, twins `ni` (ioctl) and `nn` (netlink): after each step both
/// namespaces are the same as iproute2 reads them, and the addresses are what they should be.
#[test]
fn both_paths_leave_the_same_state() {
    let sb = Sandbox::new();
    twin(&sb, "ni", false);
    twin(&sb, "nn", false);
    // The peers up, so that d0 has a carrier when it comes up.
    sb.ok("ip -n ni link set p0 up; ip -n nn link set p0 up");
    assert_eq!(state(&sb, "ni"), state(&sb, "nn"), "twins differ at birth");

    let step = |args: &str| {
        ifctl_ok(&sb, "ni", "ioctl", args);
        ifctl_ok(&sb, "nn", "netlink", args);
        let (si, sn) = (state(&sb, "ni"), state(&sb, "nn"));
        assert_eq!(
            si, sn,
            "after `{args}` the ioctl (left) and netlink (right) paths differ"
        );
    };
    let addrs = |dev: &str| {
        let a = ip_addrs(&sb, "ni", dev);
        assert_eq!(a, ip_addrs(&sb, "nn", dev));
        a
    };

    step("up d0");
    assert!(link_flags(&sb, "nn", "d0").contains(&"UP".to_string()));

    // The broadcast each prefix derives: addr|hostmask under /31, none on /31 and /32 (the
    // ioctl path clears the classful one SIOCSIFADDR set), whatever the address's class.
    let cases = [
        ("198.51.100.1/24", "198.51.100.255"),
        ("10.1.2.3/16", "10.1.255.255"),
        ("10.1.2.3/8", "10.255.255.255"),
        ("172.16.5.4/8", "172.255.255.255"),
        ("192.0.2.1/16", "192.0.255.255"),
        ("198.51.100.1/30", "198.51.100.3"),
        ("203.0.113.9/29", "203.0.113.15"),
        ("198.51.100.1/31", "-"),
        ("198.51.100.1/32", "-"),
        ("10.1.2.3/31", "-"),
        ("10.1.2.3/32", "-"),
        ("203.0.113.7/8", "203.255.255.255"),
    ];
    for (cidr, brd) in cases {
        step(&format!("addr add d0 {cidr}"));
        assert_eq!(
            addrs("d0"),
            [row("inet", cidr, brd, "d0")],
            "addr add {cidr}"
        );
        step(&format!("addr del d0 {cidr}"));
        assert_eq!(addrs("d0"), [], "addr del {cidr}");
    }

    // A broadcast given is kept as given, on any prefix.
    step("addr add d0 198.51.100.1/24 --broadcast 198.51.100.128");
    assert_eq!(
        addrs("d0"),
        [row("inet", "198.51.100.1/24", "198.51.100.128", "d0")]
    );
    step("addr flush d0");
    assert_eq!(addrs("d0"), []);
    step("addr add d0 203.0.113.9/32 --broadcast 203.0.113.255");
    assert_eq!(
        addrs("d0"),
        [row("inet", "203.0.113.9/32", "203.0.113.255", "d0")]
    );

    step("mtu d0 1400");
    assert_eq!(link(&sb, "ni", "d0").s("mtu"), "1400");
    step("mac d0 02:aa:bb:cc:dd:ee");
    assert_eq!(link(&sb, "ni", "d0").s("address"), "02:aa:bb:cc:dd:ee");
    step("down d0");
    assert!(!link_flags(&sb, "ni", "d0").contains(&"UP".to_string()));
    step("rename d0 e0");
    for ns in ["ni", "nn"] {
        assert!(has_link(&sb, ns, "e0") && !has_link(&sb, ns, "d0"), "{ns}");
    }
    // The address moved with the link, and its label with the name.
    assert_eq!(
        addrs("e0"),
        [row("inet", "203.0.113.9/32", "203.0.113.255", "e0")]
    );
    step("addr del e0 203.0.113.9/32");
    step("addr add e0 10.0.0.1/8");
    step("up e0");
    step("addr flush e0");
    assert_eq!(addrs("e0"), []);
    step("mtu e0 65535");
    step("mtu e0 68");
    assert_eq!(link(&sb, "nn", "e0").s("mtu"), "68");
    step("down e0");
    step("rename e0 d0");
    step("down p0");
    step("rename p0 q0");
    assert!(has_link(&sb, "ni", "d0") && has_link(&sb, "nn", "q0"));
}

/// `show` and `show -j` print the same on both paths for the same state, and what they say
/// is what iproute2 says.
#[test]
fn show_is_the_same_on_both_paths_and_agrees_with_ip() {
    let sb = Sandbox::new();
    twin(&sb, "n", false);
    // Addresses made by iproute2: several on one label (which the ioctl getters reach by
    // address), one on an alias label, a secondary with its own broadcast, and none derived;
    // and a tun, which has no hardware address.
    sb.ok("ip -n n link set lo up
        ip -n n addr add 198.51.100.1/24 brd + dev d0
        ip -n n addr add 203.0.113.5/28 dev d0
        ip -n n addr add 10.9.9.9/8 brd + dev d0 label d0:x
        ip -n n addr add 198.51.100.2/24 brd 198.51.100.77 dev d0
        ip -n n link set d0 mtu 1400 up
        ip -n n addr add 192.0.2.1/32 dev p0
        ip netns exec n ip tuntap add t0 mode tun");
    settle(&sb, "n", "d0", "LOWERLAYERDOWN");

    let run = |via: &str, args: &str| {
        let o = ifctl(&sb, "n", via, args);
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "{via} {args}: {}",
            show_out(&o)
        );
        text(&o.stdout)
    };
    for args in [
        "show",
        "show d0",
        "show p0",
        "show lo",
        "show t0",
        "-j show",
        "-j show d0",
    ] {
        assert_eq!(
            run("ioctl", args),
            run("netlink", args),
            "`ifctl {args}` differs between the ioctl (left) and netlink (right) paths"
        );
    }
    // Without --via: netlink.
    assert_eq!(
        text(&sb.sh("ip netns exec n $IFCTL show d0").stdout),
        run("netlink", "show d0")
    );

    let t = run("ioctl", "show d0");
    let mac = link(&sb, "n", "d0").s("address");
    let ifindex = link(&sb, "n", "d0").s("ifindex");
    assert_eq!(
        t,
        format!(
            "{ifindex}: d0: <UP,BROADCAST,MULTICAST> mtu 1400 state NO-CARRIER\n    \
             link/ether {mac}\n    \
             inet 198.51.100.1/24 brd 198.51.100.255\n    \
             inet 203.0.113.5/28\n    \
             inet 10.9.9.9/8 brd 10.255.255.255 label d0:x\n    \
             inet 198.51.100.2/24 brd 198.51.100.77\n"
        )
    );
    assert!(run("netlink", "show lo").contains("<UP,LOOPBACK,RUNNING> mtu 65536 state UP"));
    let tun = run("ioctl", "show t0");
    assert!(
        tun.ends_with(": t0: <POINTOPOINT,NOARP,MULTICAST> mtu 1500 state DOWN\n    link/none\n"),
        "{tun}"
    );

    // -j is JSON a strict parser takes, and says what ip -j says.
    sb.ok("ip netns exec n $IFCTL --via ioctl -j show | python3 -m json.tool > /dev/null");
    let ours = Jv::parse(&run("ioctl", "-j show"));
    let ip = Jv::parse(&sb.ok("ip -n n -j addr show"));
    assert_eq!(ours.arr().len(), ip.arr().len(), "{}", ours.to_json());
    for (o, i) in ours.arr().iter().zip(ip.arr()) {
        let name = i.s("ifname");
        for k in ["ifindex", "ifname", "mtu", "address", "link_type"] {
            // No hardware address (a tun): null in ours, left out by ip.
            let theirs = i.get(k).map(Jv::text).unwrap_or("null".into());
            assert_eq!(o.s(k), theirs, "{name}: {k}");
        }
        // The IFF_* flags ip names, less the ones it adds from elsewhere (LOWER_UP, ...).
        let mut ipf: Vec<String> = i
            .at("flags")
            .arr()
            .iter()
            .map(Jv::text)
            .filter(|f| !matches!(f.as_str(), "LOWER_UP" | "NO-CARRIER" | "M-DOWN"))
            .collect();
        let mut of: Vec<String> = o
            .at("flags")
            .arr()
            .iter()
            .map(Jv::text)
            .filter(|f| f != "RUNNING")
            .collect();
        ipf.sort();
        of.sort();
        assert_eq!(of, ipf, "{name}: flags");
        let want_state = if !ipf.contains(&"UP".to_string()) {
            "DOWN"
        } else if i.at("flags").arr().contains(&Jv::Str("LOWER_UP".into())) {
            "UP"
        } else {
            "NO-CARRIER"
        };
        assert_eq!(o.s("state"), want_state, "{name}: state");
        let fields = |a: &Jv| {
            (
                a.s("family"),
                a.s("local"),
                a.s("prefixlen"),
                a.get("broadcast").map(Jv::text),
                a.get("label").map(Jv::text),
            )
        };
        let oa: Vec<_> = o.at("addr_info").arr().iter().map(fields).collect();
        let ia: Vec<_> = i.at("addr_info").arr().iter().map(fields).collect();
        assert_eq!(oa, ia, "{name}: addresses");
    }
    let d0 = ours
        .arr()
        .iter()
        .find(|i| i.s("ifname") == "d0")
        .expect("d0 in show -j");
    assert_eq!(d0.s("addr_info.2.label"), "d0:x");
    assert_eq!(d0.s("addr_info.3.broadcast"), "198.51.100.77");
    assert!(d0.get("addr_info.1.broadcast").is_none());

    // show of a missing device fails the same on both paths.
    for via in VIAS {
        ifctl_err(
            &sb,
            "n",
            via,
            "show nosuch",
            1,
            &["no interface named nosuch"],
        );
    }
}

/// IPv6 shows the same on both paths too (the ioctl path reads /proc/net/if_inet6), in one
/// order, and as ip has them.
#[test]
fn show_ipv6_on_both_paths() {
    let sb = Sandbox::new();
    twin(&sb, "n", true);
    sb.ok("ip -n n addr add 2001:db8::1/64 dev d0 nodad
        ip -n n addr add 2001:db8:1::2/64 dev d0 nodad
        ip -n n addr add 2001:db8::3/64 dev d0 nodad
        ip -n n addr add 198.51.100.1/24 brd + dev d0
        ip -n n link set d0 up; ip -n n link set p0 up; ip -n n link set lo up");
    settle(&sb, "n", "d0", "UP");
    settle(&sb, "n", "p0", "UP");
    // Wait for the link-local addresses (made when the links come up).
    sb.ok("for i in $(seq 50); do [ $(ip -n n -6 addr show scope link | grep -c inet6) -ge 2 ] && exit 0; sleep 0.1; done; exit 1");
    let show = |via: &str, args: &str| {
        let o = ifctl(&sb, "n", via, args);
        assert!(o.status.success(), "{}", show_out(&o));
        text(&o.stdout)
    };
    for args in ["show", "-j show d0"] {
        assert_eq!(show("ioctl", args), show("netlink", args), "ifctl {args}");
    }
    let ours = Jv::parse(&show("netlink", "-j show d0"));
    let mut ov: Vec<(String, String, String)> = ours
        .at("0.addr_info")
        .arr()
        .iter()
        .filter(|a| a.s("family") == "inet6")
        .map(|a| (a.s("local"), a.s("prefixlen"), a.s("scope")))
        .collect();
    // Global before link, as the kernel keeps them.
    assert_eq!(ov[0].2, "global");
    assert_eq!(ov.last().unwrap().2, "link");
    let ip = Jv::parse(&sb.ok("ip -n n -j -6 addr show dev d0"));
    let mut iv: Vec<(String, String, String)> = ip
        .at("0.addr_info")
        .arr()
        .iter()
        .map(|a| (a.s("local"), a.s("prefixlen"), a.s("scope")))
        .collect();
    ov.sort();
    iv.sort();
    assert_eq!(ov, iv);
    assert_eq!(iv.len(), 4, "three global and one link-local: {iv:?}");
    assert!(show("ioctl", "show lo").contains("inet6 ::1/128 scope host\n"));
}

/// Netlink holds many addresses of both families; the ioctl path holds one IPv4 address a
/// label and no IPv6, and says so rather than replace or drop one.
#[test]
fn many_addresses_on_netlink_one_on_ioctl() {
    let sb = Sandbox::new();
    twin(&sb, "n", true);
    let all = [
        row("inet", "198.51.100.1/24", "198.51.100.255", "d0"),
        row("inet", "203.0.113.1/24", "203.0.113.255", "d0"),
        row("inet", "198.51.100.2/24", "198.51.100.255", "d0"),
        row("inet6", "2001:db8::1/64", "-", "-"),
    ];
    for a in [
        "198.51.100.1/24",
        "198.51.100.2/24",
        "203.0.113.1/24",
        "2001:db8::1/64",
    ] {
        ifctl_ok(&sb, "n", "netlink", &format!("addr add d0 {a}"));
    }
    assert_eq!(ip_addrs(&sb, "n", "d0"), all);

    // The ioctl path refuses a second IPv4 address (SIOCSIFADDR would replace the first).
    let err = ifctl_err(
        &sb,
        "n",
        "ioctl",
        "addr add d0 192.0.2.1/24",
        1,
        &["one IPv4 address per label", "use --via netlink"],
    );
    assert!(
        err.contains("198.51.100.1/24"),
        "names the one there: {err}"
    );
    // The same address with another prefix is a second address too, not "already there".
    ifctl_err(
        &sb,
        "n",
        "ioctl",
        "addr add d0 198.51.100.1/25",
        1,
        &["one IPv4 address per label", "use --via netlink"],
    );
    // And no IPv6 at all, either way.
    for args in ["addr add d0 2001:db8::2/64", "addr del d0 2001:db8::1/64"] {
        ifctl_err(
            &sb,
            "n",
            "ioctl",
            args,
            2,
            &["the ioctl path has no IPv6 addresses", "use --via netlink"],
        );
    }
    // A second address of a label is out of the ioctls' reach.
    ifctl_err(
        &sb,
        "n",
        "ioctl",
        "addr del d0 198.51.100.2/24",
        1,
        &[
            "reaches only the first address of label d0",
            "use --via netlink",
        ],
    );
    assert_eq!(ip_addrs(&sb, "n", "d0"), all);

    // ioctl flush: every IPv4 address (a label's first, each time), IPv6 left alone.
    ifctl_ok(&sb, "n", "ioctl", "addr flush d0");
    assert_eq!(
        ip_addrs(&sb, "n", "d0"),
        [row("inet6", "2001:db8::1/64", "-", "-")]
    );
    // netlink flush: everything.
    for a in ["198.51.100.1/24", "203.0.113.1/24", "2001:db8::2/64"] {
        ifctl_ok(&sb, "n", "netlink", &format!("addr add d0 {a}"));
    }
    ifctl_ok(&sb, "n", "netlink", "addr del d0 2001:db8::2/64");
    assert_eq!(ip_addrs(&sb, "n", "d0").len(), 3);
    ifctl_ok(&sb, "n", "netlink", "addr flush d0");
    assert_eq!(ip_addrs(&sb, "n", "d0"), []);
    // A flush of nothing is fine on both.
    for via in VIAS {
        ifctl_ok(&sb, "n", via, "addr flush d0");
    }

    // On a bare device the ioctl path adds one address, then refuses the next.
    ifctl_ok(&sb, "n", "ioctl", "addr add d0 192.0.2.1/24");
    ifctl_err(
        &sb,
        "n",
        "ioctl",
        "addr add d0 192.0.2.2/24",
        1,
        &["one IPv4 address per label", "192.0.2.1/24"],
    );
    ifctl_ok(&sb, "n", "netlink", "addr add d0 192.0.2.2/24");
    assert_eq!(
        ip_addrs(&sb, "n", "d0"),
        [
            row("inet", "192.0.2.1/24", "192.0.2.255", "d0"),
            row("inet", "192.0.2.2/24", "192.0.2.255", "d0"),
        ]
    );
    // An alias label (made by ip) is a label of its own: the ioctl path deletes there.
    sb.ok("ip -n n addr add 10.7.7.7/8 brd + dev d0 label d0:7");
    ifctl_ok(&sb, "n", "ioctl", "addr del d0 10.7.7.7/8");
    assert_eq!(ip_addrs(&sb, "n", "d0").len(), 2);
}

/// Every way a step can fail, on both paths: the status, a message that names the trouble,
/// and nothing changed.
#[test]
fn errors_change_nothing() {
    let sb = Sandbox::new();
    twin(&sb, "n", false);
    sb.ok("ip -n n addr add 198.51.100.1/24 brd + dev d0; ip -n n link set d0 up");
    let long = "abcdefghijklmnop"; // 16 bytes
    for via in VIAS {
        let e = |args: &str, code: i32, says: &[&str]| {
            ifctl_err(&sb, "n", via, args, code, says);
        };
        for cmd in [
            "up nosuch",
            "down nosuch",
            "mtu nosuch 1400",
            "mac nosuch 02:00:00:00:00:09",
            "rename nosuch other",
            "addr add nosuch 198.51.100.9/24",
            "addr del nosuch 198.51.100.9/24",
            "addr flush nosuch",
            "show nosuch",
        ] {
            e(cmd, 1, &["no interface named nosuch"]);
        }
        for cmd in [
            format!("up {long}"),
            format!("show {long}"),
            format!("addr add {long} 198.51.100.9/24"),
            format!("rename p0 {long}"),
        ] {
            e(&cmd, 2, &["interface names are at most 15 bytes"]);
        }
        for a in [
            "198.51.100.300/24",
            "198.51.100.1/33",
            "banana",
            "198.51.100/24",
            "2001:db8::1/129",
        ] {
            e(&format!("addr add d0 {a}"), 2, &["bad address", a]);
        }
        e(
            "addr add d0 198.51.100.3/24 --broadcast 1.2.3",
            2,
            &["bad broadcast address '1.2.3'"],
        );
        e(
            "addr add d0 198.51.100.3/24 --brd 1.2.3.4",
            2,
            &["expected only --broadcast ADDR"],
        );
        e(
            "addr add d0 198.51.100.1/24",
            1,
            &["198.51.100.1/24 is already there"],
        );
        e(
            "addr del d0 198.51.100.7/24",
            1,
            &["there is no address 198.51.100.7/24 here"],
        );
        e(
            "addr del d0 198.51.100.1/25",
            1,
            &["there is no address 198.51.100.1/25 here"],
        );
        // The device's range (veth: 68 to 65535): netlink names it, ioctl has only EINVAL.
        let range: &[&str] = if via == "netlink" {
            &["out of range", "68 to 65535"]
        } else {
            &["the device refuses this mtu"]
        };
        for mtu in ["67", "65536", "70000"] {
            e(&format!("mtu d0 {mtu}"), 2, range);
        }
        e("mtu d0 abc", 2, &["bad mtu 'abc'"]);
        e("mtu d0 -5", 2, &["bad mtu '-5'"]);
        e("mac d0 01:00:00:00:00:01", 2, &["multicast"]);
        e("mac d0 02:00:00:00:00", 2, &["six bytes"]);
        e("mac d0 02:00:00:00:00:01:03", 2, &["six bytes"]);
        e("mac d0 00:00:00:00:00:00", 2, &["all zero"]);
        e("mac d0 zz:00:00:00:00:01", 2, &["'zz' is not a hex byte"]);
        e("rename d0 e0", 1, &["the link is up", "down it first"]);
        e("rename p0 d0", 1, &["that name is taken"]);
        e("frob d0", 2, &["unknown command 'frob'"]);
        e("addr frob d0", 2, &["wrong arguments"]);
        e("addr add d0", 2, &["wrong arguments"]);
        e("mtu d0", 2, &["wrong arguments"]);
        e("up", 2, &["wrong arguments"]);
        e("", 2, &["no command given"]);
        e("--bogus show", 2, &["unknown option '--bogus'"]);
    }
    for via in ["sysfs", "bogus"] {
        ifctl_err(
            &sb,
            "n",
            via,
            "show",
            2,
            &[&format!("--via {via}: expected netlink or ioctl")],
        );
    }
    // Still as made: one address, up, mtu 1500.
    assert_eq!(
        ip_addrs(&sb, "n", "d0"),
        [row("inet", "198.51.100.1/24", "198.51.100.255", "d0")]
    );
    assert_eq!(link(&sb, "n", "d0").s("mtu"), "1500");
    assert!(link_flags(&sb, "n", "d0").contains(&"UP".to_string()));
}

/// --dry-run changes nothing and prints the requests that would; --explain prints each
/// request of the path chosen, by its kernel name, on stderr only.
#[test]
fn dry_run_and_explain() {
    let sb = Sandbox::new();
    twin(&sb, "n", false);
    sb.ok("ip -n n addr add 203.0.113.1/24 brd + dev p0");
    let steps: [(&str, &[&str], &[&str]); 8] = [
        ("up d0", &["SIOCSIFFLAGS"], &["RTM_NEWLINK"]),
        (
            "addr add d0 198.51.100.1/24",
            &["SIOCSIFADDR", "SIOCSIFNETMASK"],
            &["RTM_NEWADDR", "IFA_BROADCAST 198.51.100.255"],
        ),
        (
            "addr add d0 198.51.100.1/24 --broadcast 198.51.100.128",
            &["SIOCSIFADDR", "SIOCSIFNETMASK", "SIOCSIFBRDADDR"],
            &["RTM_NEWADDR", "IFA_BROADCAST 198.51.100.128"],
        ),
        (
            "mtu d0 1400",
            &["SIOCSIFMTU"],
            &["RTM_NEWLINK", "IFLA_MTU 1400"],
        ),
        (
            "mac d0 02:00:00:00:00:99",
            &["SIOCSIFHWADDR"],
            &["RTM_NEWLINK", "IFLA_ADDRESS"],
        ),
        (
            "rename d0 e0",
            &["SIOCSIFNAME"],
            &["RTM_NEWLINK", "IFLA_IFNAME \"e0\""],
        ),
        ("addr flush p0", &["SIOCSIFADDR"], &["RTM_DELADDR"]),
        (
            "addr del p0 203.0.113.1/24",
            &["SIOCSIFADDR"],
            &["RTM_DELADDR"],
        ),
    ];
    let before = state(&sb, "n");
    for via in VIAS {
        for (args, ioctl, netlink) in steps {
            let names = if via == "ioctl" { ioctl } else { netlink };
            let o = ifctl(&sb, "n", via, &format!("--dry-run {args}"));
            let err = text(&o.stderr);
            assert!(
                o.status.success() && o.stdout.is_empty(),
                "--via {via} --dry-run {args}: {}",
                show_out(&o)
            );
            for n in names {
                assert!(
                    err.contains(n),
                    "--via {via} --dry-run {args}: no {n}: {err}"
                );
            }
            assert!(err.contains("not sent (--dry-run)"), "{err}");
            assert_eq!(
                state(&sb, "n"),
                before,
                "--via {via} --dry-run {args} changed something"
            );
        }
    }
    // --explain: the path's own requests, each with its result; stdout stays clean.
    for (via, own, other) in [("ioctl", "SIOC", "RTM_"), ("netlink", "RTM_", "SIOC")] {
        for (args, ioctl, netlink) in &steps[..4] {
            let o = ifctl(&sb, "n", via, &format!("--explain {args}"));
            let err = text(&o.stderr);
            assert!(
                o.status.success() && o.stdout.is_empty(),
                "--via {via} --explain {args}: {}",
                show_out(&o)
            );
            let names = if via == "ioctl" { ioctl } else { netlink };
            for n in names.iter() {
                assert!(
                    err.contains(n),
                    "--via {via} --explain {args}: no {n}: {err}"
                );
            }
            assert!(
                err.contains(own) && !err.contains(other),
                "--via {via}: {err}"
            );
            assert!(err
                .lines()
                .all(|l| l.starts_with("ifctl: ") || l.starts_with("    ")));
            ifctl_ok(&sb, "n", via, "addr flush d0");
            ifctl_ok(&sb, "n", via, "down d0");
        }
        // The mtu step really ran.
        assert_eq!(link(&sb, "n", "d0").s("mtu"), "1400");
        ifctl_ok(&sb, "n", via, "mtu d0 1500");
        // A refusal is explained too, on the path's own requests.
        let o = ifctl(&sb, "n", via, "--explain addr del d0 198.51.100.9/24");
        assert_eq!(o.status.code(), Some(1));
        let err = text(&o.stderr);
        assert!(err.contains(own), "{err}");
        // Show explained: reads only.
        let o = ifctl(&sb, "n", via, "--explain show d0");
        let err = text(&o.stderr);
        let want = if via == "ioctl" {
            "SIOCGIFCONF"
        } else {
            "RTM_GETADDR"
        };
        assert!(o.status.success() && err.contains(want), "{err}");
        assert!(text(&o.stdout).contains(": d0: <BROADCAST,MULTICAST> mtu 1500"));
    }
    // The explained dry run of a /31 on ioctl clears the classful broadcast (after reading it).
    let o = ifctl(
        &sb,
        "n",
        "ioctl",
        "--explain --dry-run addr add d0 10.1.2.3/31",
    );
    let err = text(&o.stderr);
    assert!(
        o.status.success() && err.contains("255.255.255.254"),
        "{err}"
    );
    assert_eq!(ip_addrs(&sb, "n", "d0"), []);
}

/// -b: one process runs every line; a failing line stops the run, with its number.
#[test]
fn batch() {
    let sb = Sandbox::new();
    twin(&sb, "n", false);
    for via in VIAS {
        let script = "# set d0 up\nup d0\n\naddr add d0 198.51.100.1/24\nmtu d0 1400  # comment\nmac d0 02:00:00:00:00:42\nshow d0\n";
        let o = sb.sh_input(
            &format!("ip netns exec n $IFCTL --via {via} -b -"),
            Some(script),
        );
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "{via}: {}",
            show_out(&o)
        );
        // The last line, show, sees the steps before it (RUNNING may or may not be set yet).
        let out = text(&o.stdout);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{via}: {out}");
        assert!(
            lines[0].contains(": d0: <UP,BROADCAST,") && lines[0].contains("> mtu 1400 state "),
            "{via}: {out}"
        );
        assert_eq!(
            lines[1..],
            [
                "    link/ether 02:00:00:00:00:42",
                "    inet 198.51.100.1/24 brd 198.51.100.255"
            ],
            "{via}"
        );
        assert_eq!(
            ip_addrs(&sb, "n", "d0"),
            [row("inet", "198.51.100.1/24", "198.51.100.255", "d0")]
        );
        let l = link(&sb, "n", "d0");
        assert_eq!(
            (l.s("mtu"), l.s("address")),
            ("1400".into(), "02:00:00:00:00:42".into())
        );

        // Line 3 fails: line 2 is done, line 4 is not.
        let o = sb.sh_input(
            &format!("ip netns exec n $IFCTL --via {via} -b -"),
            Some("mtu d0 1300\n\naddr add d0 198.51.100.1/24\nmtu d0 1200\n"),
        );
        assert_eq!(o.status.code(), Some(1), "{via}: {}", show_out(&o));
        assert!(
            text(&o.stderr).contains(
                "ifctl: -: line 3: addr add d0 198.51.100.1/24: 198.51.100.1/24 is already there"
            ),
            "{via}: {}",
            show_out(&o)
        );
        assert_eq!(link(&sb, "n", "d0").s("mtu"), "1300");

        // A bad line is a usage error, also named by its number.
        let o = sb.sh_input(
            &format!("ip netns exec n $IFCTL --via {via} -b -"),
            Some("down d0\nfrob\nup d0\n"),
        );
        assert_eq!(o.status.code(), Some(2), "{via}: {}", show_out(&o));
        assert!(text(&o.stderr).contains("-: line 2: unknown command 'frob'"));
        assert!(!link_flags(&sb, "n", "d0").contains(&"UP".to_string()));

        // From a file.
        sb.ok(&format!(
            "printf 'addr flush d0\\nmtu d0 1500\\n' > /run/ifctl-{via}.batch
             ip netns exec n $IFCTL --via {via} -b /run/ifctl-{via}.batch"
        ));
        assert_eq!(ip_addrs(&sb, "n", "d0"), []);
        assert_eq!(link(&sb, "n", "d0").s("mtu"), "1500");
        ifctl_ok(&sb, "n", via, "mac d0 02:00:00:00:00:01");
    }
    ifctl_err(
        &sb,
        "n",
        "netlink",
        "-b /run/nope",
        1,
        &["batch file /run/nope"],
    );
    ifctl_err(
        &sb,
        "n",
        "netlink",
        "-b - up d0",
        2,
        &["-b takes its commands from the file"],
    );
}

/// The multicall binary runs ifctl as itself; --help and --version answer.
#[test]
fn multicall_help_and_version() {
    let sb = Sandbox::new();
    twin(&sb, "n", false);
    sb.ok("ip netns exec n $NETPLUMB ifctl up d0");
    assert!(link_flags(&sb, "n", "d0").contains(&"UP".to_string()));
    settle(&sb, "n", "d0", "LOWERLAYERDOWN");
    let a = sb.ok("ip netns exec n $NETPLUMB ifctl show");
    let b = sb.ok("ip netns exec n $IFCTL show");
    assert_eq!(a, b);
    assert!(a.contains(": d0: <UP,BROADCAST,MULTICAST> mtu 1500"), "{a}");
    let j = Jv::parse(&sb.ok("ip netns exec n $NETPLUMB ifctl --via ioctl -j show d0"));
    assert_eq!(j.s("0.ifname"), "d0");
    assert_eq!(j.s("0.address"), "02:00:00:00:00:01");
    sb.ok("ip netns exec n $NETPLUMB ifctl --via ioctl addr add d0 198.51.100.1/24");
    assert_eq!(
        ip_addrs(&sb, "n", "d0"),
        [row("inet", "198.51.100.1/24", "198.51.100.255", "d0")]
    );
    let o = sb.sh("ip netns exec n $NETPLUMB ifctl show nosuch");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).starts_with("ifctl: show nosuch: no interface named nosuch"));

    let help = sb.ok("$IFCTL --help");
    for w in [
        "show [IF]",
        "addr add IF CIDR",
        "rename IF NEW",
        "--via PATH",
        "--dry-run",
    ] {
        assert!(help.contains(w), "--help: {w}");
    }
    assert_eq!(sb.ok("$NETPLUMB ifctl --help"), help);
    let v = sb.ok("$IFCTL --version");
    assert!(v.starts_with("ifctl (netplumb) "), "{v}");
}
