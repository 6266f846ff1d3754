//! ipfwd against the kernel: the forwarding switches read back with procps `sysctl -n`, routes
//! on both paths (`--via ioctl`, `--via netlink`) read back with iproute2 (`ip -j route`), and
//! real pings through a namespace that ipfwd made a router.
//!
//! Every test makes its own sandbox and its own named namespaces inside it; ipfwd runs in them
//! with `ip netns exec NS $IPFWD ...` (NS "" is the sandbox's own namespace). Twin namespaces
//! take the same device names and MACs, so their routing tables compare as is.

mod common;
use common::*;
use std::process::Output;

const VIAS: [&str; 2] = ["ioctl", "netlink"];

/// Makes namespace `ns`, IPv6 off (the sandbox's default) or on, before any link is made in it;
/// with IPv6, no duplicate address detection, so link-local addresses (and their routes) are
/// there at once rather than some moments later.
fn netns(sb: &Sandbox, ns: &str, ipv6: bool) {
    let off = if ipv6 { 0 } else { 1 };
    sb.ok(&format!(
        "ip netns add {ns}
         ip netns exec {ns} sysctl -qw net.ipv6.conf.all.disable_ipv6={off} net.ipv6.conf.default.disable_ipv6={off}
         ip netns exec {ns} sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0"
    ));
}

/// The prefix that runs a command in `ns` ("" for the sandbox's own namespace).
fn exec_in(ns: &str) -> String {
    if ns.is_empty() {
        String::new()
    } else {
        format!("ip netns exec {ns} ")
    }
}

/// Namespace `ns` with a veth pair d0 / p0 inside, fixed MACs, both up, 192.0.2.2/24 on d0
/// (and 2001:db8::2/64 with IPv6).
fn host(sb: &Sandbox, ns: &str, ipv6: bool) {
    netns(sb, ns, ipv6);
    sb.ok(&format!(
        "$VETHCTL add d0 peer p0 --netns {ns} --peer-netns {ns} \
           --mac 02:00:00:00:00:01 --peer-mac 02:00:00:00:00:02
         ip -n {ns} addr add 192.0.2.2/24 dev d0
         ip -n {ns} link set p0 up
         ip -n {ns} link set d0 up"
    ));
    if ipv6 {
        sb.ok(&format!("ip -n {ns} addr add 2001:db8::2/64 dev d0 nodad"));
    }
}

/// `ipfwd ARGS` (ARGS as shell words) in namespace `ns`.
fn ipfwd(sb: &Sandbox, ns: &str, args: &str) -> Output {
    sb.sh(&format!("{}$IPFWD {args}", exec_in(ns)))
}

/// A step that must succeed with nothing on stderr; returns its stdout.
fn ipfwd_ok(sb: &Sandbox, ns: &str, args: &str) -> String {
    let o = ipfwd(sb, ns, args);
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "ipfwd {args} (in {ns:?}): {}",
        show_out(&o)
    );
    text(&o.stdout)
}

/// A route step: succeeds silently.
fn route_ok(sb: &Sandbox, ns: &str, args: &str) {
    let out = ipfwd_ok(sb, ns, args);
    assert_eq!(out, "", "ipfwd {args} (in {ns:?}) printed something");
}

/// JSON from iproute2, `[]` when it printed nothing (a family with no routes at all).
fn parse_ip(out: &str) -> Jv {
    Jv::parse(if out.trim().is_empty() { "[]" } else { out })
}

/// Every routing table of `ns`, both families, as `ip -j -d route show table all` reads them.
fn routes(sb: &Sandbox, ns: &str) -> String {
    let ip = if ns.is_empty() {
        "ip".to_string()
    } else {
        format!("ip -n {ns}")
    };
    let out = sb.ok(&format!(
        "{ip} -4 -j -d route show table all; echo; echo @@; {ip} -6 -j -d route show table all"
    ));
    let (v4, v6) = out.split_once("@@").expect("two parts");
    // An interface's link-local address (and its local route) arrives by itself, a moment
    // after the link comes up: not something a step made or failed to undo.
    let v6: Vec<String> = parse_ip(v6)
        .arr()
        .iter()
        .filter(|r| !r.s("dst").starts_with("fe80:"))
        .map(Jv::to_json)
        .collect();
    format!(
        "ipv4: {}\nipv6: [{}]\n",
        parse_ip(v4).to_json(),
        v6.join(",")
    )
}

/// Every forwarding switch of `ns` as procps `sysctl` lists them.
fn switches(sb: &Sandbox, ns: &str) -> String {
    sb.ok(&format!(
        "{}sysctl -a -r '\\.(ip_forward|forwarding|rp_filter|route_localnet)$'",
        exec_in(ns)
    ))
}

/// What a failed step must leave as it was: routes and switches.
fn state(sb: &Sandbox, ns: &str) -> String {
    routes(sb, ns) + &switches(sb, ns)
}

/// `sysctl -n KEY` in `ns`.
fn sysctl_n(sb: &Sandbox, ns: &str, key: &str) -> String {
    sb.ok(&format!("{}sysctl -n {key}", exec_in(ns)))
        .trim_end()
        .to_string()
}

/// A step run as `prefix $IPFWD ARGS` that must fail with `code`: nothing on stdout, one line
/// on stderr that starts with `ipfwd: ` and says each of `says`, and `ns` untouched.
fn fails(sb: &Sandbox, ns: &str, prefix: &str, args: &str, code: i32, says: &[&str]) {
    let before = state(sb, ns);
    let o = sb.sh(&format!("{}{prefix}$IPFWD {args}", exec_in(ns)));
    let err = text(&o.stderr);
    let what = format!("{prefix}ipfwd {args}");
    assert_eq!(o.status.code(), Some(code), "{what}: {}", show_out(&o));
    assert!(o.stdout.is_empty(), "{what}: stdout: {}", show_out(&o));
    assert!(
        err.starts_with("ipfwd: ") && err.ends_with('\n') && err.lines().count() == 1,
        "{what}: not one line on stderr: {err:?}"
    );
    for s in says {
        assert!(err.contains(s), "{what}: stderr should say {s:?}: {err}");
    }
    assert_eq!(
        state(sb, ns),
        before,
        "{what} failed, yet changed the kernel state"
    );
}

/// The main table's routes of one family in `ns`, as `ip -j route show` reads them.
fn ip_routes(sb: &Sandbox, ns: &str, v6: bool) -> Vec<Jv> {
    let fam = if v6 { "-6" } else { "-4" };
    parse_ip(&sb.ok(&format!("ip -n {ns} {fam} -j route show")))
        .arr()
        .to_vec()
}

/// The route `add ROUTE` words describe: (dst as ip shows it, gateway, dev, metric as ip shows
/// it: none for IPv4 metric 0, 1024 for an IPv6 route that names none).
fn expected(route: &str) -> (String, Option<String>, Option<String>, Option<String>) {
    let w: Vec<&str> = route.split_whitespace().filter(|w| *w != "-6").collect();
    let v6 = route.contains(':');
    let val = |k: &str| w.iter().position(|x| *x == k).map(|i| w[i + 1].to_string());
    let metric = match val("metric") {
        Some(m) if m == "0" && !v6 => None,
        Some(m) => Some(m),
        None if v6 => Some("1024".to_string()),
        None => None,
    };
    (w[0].to_string(), val("via"), val("dev"), metric)
}

/// Whether `ip -j route show` in `ns` has the route `add ROUTE` described, on d0.
fn has_route(sb: &Sandbox, ns: &str, route: &str) -> bool {
    let (dst, gw, dev, metric) = expected(route);
    ip_routes(sb, ns, route.contains(':')).iter().any(|r| {
        r.s("dst") == dst
            && r.get("gateway").map(Jv::text) == gw
            && r.s("dev") == dev.clone().unwrap_or("d0".into())
            && r.get("metric").map(Jv::text) == metric
    })
}

/// Three namespaces in a row, left - router - right, each side's default route set by ipfwd
/// (one on each path): pings cross the router only once `ipfwd on` has turned forwarding on.
#[test]
fn a_router_forwards_once_ipfwd_turns_forwarding_on() {
    let sb = Sandbox::new();
    for ns in ["left", "router", "right"] {
        netns(&sb, ns, false);
    }
    sb.ok("$VETHCTL add l0 peer rl --netns left --peer-netns router
        $VETHCTL add rr peer r0 --netns router --peer-netns right
        ip netns exec left $IFCTL addr add l0 192.0.2.2/24
        ip netns exec router $IFCTL addr add rl 192.0.2.1/24
        ip netns exec router $IFCTL addr add rr 198.51.100.1/24
        ip netns exec right $IFCTL addr add r0 198.51.100.2/24
        ip netns exec left $IFCTL up l0
        ip netns exec router $IFCTL up rl
        ip netns exec router $IFCTL up rr
        ip netns exec right $IFCTL up r0");
    route_ok(&sb, "left", "--via ioctl route add default via 192.0.2.1");
    route_ok(
        &sb,
        "right",
        "--via netlink route add default via 198.51.100.1",
    );
    for (ns, gw, dev) in [("left", "192.0.2.1", "l0"), ("right", "198.51.100.1", "r0")] {
        let all = ip_routes(&sb, ns, false);
        let defaults: Vec<&Jv> = all.iter().filter(|r| r.s("dst") == "default").collect();
        assert_eq!(defaults.len(), 1, "{ns}: {all:?}");
        let d = defaults[0];
        assert_eq!(
            (d.s("gateway"), d.s("dev")),
            (gw.into(), dev.into()),
            "{ns}"
        );
        // protocol boot and no metric: what `route add default gw` and `ip route add` leave.
        assert!(
            d.get("protocol").is_none() && d.get("metric").is_none(),
            "{ns}: {d:?}"
        );
    }

    // Each side reaches the router: the links work, only forwarding is missing.
    sb.ok("ip netns exec left ping -c1 -W2 192.0.2.1
        ip netns exec right ping -c1 -W2 198.51.100.1");
    assert_eq!(sysctl_n(&sb, "router", "net.ipv4.ip_forward"), "0");
    let o = sb.sh("ip netns exec left ping -c1 -W1 198.51.100.2");
    assert!(
        !o.status.success(),
        "a ping crossed a router with forwarding off: {}",
        show_out(&o)
    );

    let out = ipfwd_ok(&sb, "router", "on");
    assert_eq!(out, "net.ipv4.ip_forward: 0 -> 1\n");
    assert_eq!(sysctl_n(&sb, "router", "net.ipv4.ip_forward"), "1");
    sb.ok("ip netns exec left ping -c1 -W2 198.51.100.2
        ip netns exec right ping -c1 -W2 192.0.2.2");
    // Only the router changed.
    for ns in ["left", "right", ""] {
        assert_eq!(sysctl_n(&sb, ns, "net.ipv4.ip_forward"), "0", "{ns:?}");
    }
}

/// Runs `route add` of each route, then `route del` of each (last first), in twin namespaces
/// `tioctl` and `tnetlink`, one path each: after every step both have the same tables, as
/// `ip -j -d route show table all` reads them in both families, and the route is there (or
/// gone) as `ip -j route show` reads it.
fn twins_agree(ipv6: bool, steps: &[&str]) {
    let sb = Sandbox::new();
    for via in VIAS {
        host(&sb, &format!("t{via}"), ipv6);
    }
    let twins = || (routes(&sb, "tioctl"), routes(&sb, "tnetlink"));
    let (i, n) = twins();
    assert_eq!(i, n, "the twins differ at birth");
    let count = |ns: &str| ip_routes(&sb, ns, ipv6).len();
    let start = count("tnetlink");
    for (k, route) in steps.iter().enumerate() {
        for via in VIAS {
            route_ok(
                &sb,
                &format!("t{via}"),
                &format!("--via {via} route add {route}"),
            );
            assert!(
                has_route(&sb, &format!("t{via}"), route),
                "--via {via} route add {route}: not in ip route show:\n{:?}",
                ip_routes(&sb, &format!("t{via}"), ipv6)
            );
        }
        let (i, n) = twins();
        assert_eq!(
            i, n,
            "after `route add {route}` the ioctl (left) and netlink (right) paths differ"
        );
        assert_eq!(count("tnetlink"), start + k + 1, "route add {route}");
    }
    for (k, route) in steps.iter().enumerate().rev() {
        for via in VIAS {
            route_ok(
                &sb,
                &format!("t{via}"),
                &format!("--via {via} route del {route}"),
            );
            assert!(
                !has_route(&sb, &format!("t{via}"), route),
                "--via {via} route del {route}: still there"
            );
        }
        let (i, n) = twins();
        assert_eq!(
            i, n,
            "after `route del {route}` the ioctl (left) and netlink (right) paths differ"
        );
        assert_eq!(count("tnetlink"), start + k, "route del {route}");
    }
}

#[test]
fn both_paths_leave_the_same_ipv4_routes() {
    twins_agree(
        false,
        &[
            "default via 192.0.2.1",
            "default via 192.0.2.1 dev d0 metric 10",
            "198.51.100.0/24 via 192.0.2.1",
            "203.0.113.0/24 dev d0",
            "10.1.0.0/16 via 192.0.2.1 dev d0 metric 7",
            "10.2.0.0/16 via 192.0.2.1 metric 32766",
            // Host routes: a bare address.
            "203.0.113.9 via 192.0.2.1",
            "10.3.0.5 dev d0 metric 3",
        ],
    );
}

#[test]
fn both_paths_leave_the_same_ipv6_routes() {
    twins_agree(
        true,
        &[
            "-6 default via 2001:db8::1",
            "default via 2001:db8::1 dev d0 metric 10",
            "2001:db8:1::/48 via 2001:db8::1",
            "2001:db8:2::/64 dev d0",
            "2001:db8:3::/64 via 2001:db8::1 dev d0 metric 7",
            "2001:db8:4::9 via 2001:db8::1",
            "2001:db8:5::5 dev d0 metric 3",
        ],
    );
}

/// `ip route show` lines with the trailing space iproute2 prints taken off.
fn trimmed(s: &str) -> Vec<String> {
    s.lines().map(|l| l.trim_end().to_string()).collect()
}

/// Two JSON route lists, route by route and field by field.
fn same_routes(ours: &Jv, ip: &Jv, what: &str) {
    let (o, i) = (ours.arr(), ip.arr());
    assert_eq!(o.len(), i.len(), "{what}: ours {ours:?}\nip {ip:?}");
    for (a, b) in o.iter().zip(i) {
        let keys = |v: &Jv| match v {
            Jv::Obj(kv) => kv.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
            _ => panic!("{what}: not an object: {v:?}"),
        };
        assert_eq!(keys(a), keys(b), "{what}: fields of {}", b.to_json());
        for k in keys(b) {
            assert_eq!(a.at(&k), b.at(&k), "{what}: {k} of {}", b.to_json());
        }
    }
}

/// `v` without the fields /proc/net/route does not have.
fn without_proc_fields(v: &Jv) -> Jv {
    match v {
        Jv::Obj(kv) => Jv::Obj(
            kv.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "protocol" | "scope" | "prefsrc"))
                .cloned()
                .collect(),
        ),
        Jv::Arr(a) => Jv::Arr(a.iter().map(without_proc_fields).collect()),
        x => x.clone(),
    }
}

/// An `ip route show` line without the words /proc/net/route does not have.
fn without_proc_words(line: &str) -> String {
    let w: Vec<&str> = line.split_whitespace().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < w.len() {
        if matches!(w[i], "proto" | "scope" | "src") {
            i += 2;
            continue;
        }
        out.push(w[i]);
        i += 1;
    }
    out.join(" ")
}

/// `route show` prints what `ip route show` prints, text and JSON, both families, for the
/// main table and others, routes of every kind iproute2 names (types, protocols, flags,
/// multipath, preferences); the ioctl path the same routes with fewer fields.
#[test]
fn route_show_reads_like_ip_route_show() {
    let sb = Sandbox::new();
    // An empty namespace: the main table is not even made yet. Nothing, as ip says; and no
    // table 100 yet is no routes in it (where ip says the table does not exist).
    netns(&sb, "empty", false);
    assert_eq!(sb.ok("ip -n empty route show"), "");
    assert_eq!(
        parse_ip(&sb.ok("ip -n empty -j route show")),
        Jv::Arr(vec![])
    );
    for args in [
        "route show",
        "route show -4",
        "route show table 100",
        "--via ioctl route show",
    ] {
        assert_eq!(
            ipfwd_ok(&sb, "empty", args),
            "",
            "ipfwd {args} in an empty namespace"
        );
    }
    for args in ["-j route show -4", "-j route show -4 table 100"] {
        assert_eq!(
            ipfwd_ok(&sb, "empty", args),
            "[]\n",
            "ipfwd {args} in an empty namespace"
        );
    }

    host(&sb, "s", true);
    sb.ok("ip -n s link set lo up
        ip -n s link add x0 type veth peer name x1
        ip -n s link set x0 up
        ip -n s route add 198.51.100.0/24 via 192.0.2.1 metric 7
        ip -n s route add 10.1.0.0/16 dev d0 src 192.0.2.2
        ip -n s route add default via 192.0.2.1
        ip -n s route add 203.0.113.5 via 192.0.2.1
        ip -n s route add 10.4.0.0/16 via 192.0.2.1 proto static
        ip -n s route add 10.5.0.0/16 via 192.0.2.1 proto 99
        ip -n s route add 10.6.0.0/16 via 192.0.2.1 proto 201 metric 4000000000
        ip -n s -6 route add 2001:db8:1::/48 via 2001:db8::1
        ip -n s -6 route add 2001:db8:2::/64 dev d0 metric 5
        ip -n s -6 route add 2001:db8:4::/64 via 2001:db8::1 pref high
        ip -n s -6 route add 2001:db8:6::/64 via 2001:db8::1 proto dhcp
        ip -n s route add blackhole 10.9.0.0/16 table 100
        ip -n s route add unreachable 10.10.0.0/16 table 100
        ip -n s route add prohibit 10.11.0.0/16 table 100
        ip -n s route add 10.8.0.0/16 table 100 nexthop via 192.0.2.1 nexthop via 192.0.2.3 weight 3
        ip -n s route add 10.13.0.0/16 dev x0 table 100
        ip -n s route add 10.12.0.0/16 via 198.51.100.1 dev d0 onlink table 100
        ip -n s route add 10.7.0.0/16 via 192.0.2.1 table 1000
        ip -n s -6 route add 2001:db8:8::/64 table 100 nexthop via 2001:db8::1 nexthop via 2001:db8::3
        ip -n s -6 route add blackhole 2001:db8:9::/64 table 100");

    let cases = [
        ("-4", "-4", ""),
        ("-6", "-6", ""),
        ("-4 table 100", "-4", " table 100"),
        ("-6 table 100", "-6", " table 100"),
        ("-4 table local", "-4", " table local"),
        ("-6 table local", "-6", " table local"),
        ("-4 table main", "-4", " table main"),
        ("-4 table 1000", "-4", " table 1000"),
    ];
    for (ours, fam, table) in cases {
        let text_ours = ipfwd_ok(&sb, "s", &format!("route show {ours}"));
        let text_ip = sb.ok(&format!("ip -n s {fam} route show{table}"));
        assert!(!text_ip.is_empty(), "ip {fam} route show{table} is empty");
        assert_eq!(trimmed(&text_ours), trimmed(&text_ip), "route show {ours}");
        let j_ours = Jv::parse(&ipfwd_ok(&sb, "s", &format!("-j route show {ours}")));
        let j_ip = Jv::parse(&sb.ok(&format!("ip -n s {fam} -j route show{table}")));
        same_routes(&j_ours, &j_ip, &format!("-j route show {ours}"));
    }
    // Without -4 or -6: IPv4, then IPv6.
    assert_eq!(
        ipfwd_ok(&sb, "s", "route show"),
        ipfwd_ok(&sb, "s", "route show -4") + &ipfwd_ok(&sb, "s", "route show -6")
    );

    // The ioctl path reads /proc/net/route: the same IPv4 main-table routes, in the same
    // order, without protocol, scope and preferred source.
    let text_ioctl = ipfwd_ok(&sb, "s", "--via ioctl route show -4");
    let text_ip = sb.ok("ip -n s route show");
    let want: Vec<String> = text_ip.lines().map(without_proc_words).collect();
    assert_eq!(trimmed(&text_ioctl), want, "--via ioctl route show -4");
    assert_eq!(text_ioctl, ipfwd_ok(&sb, "s", "--via ioctl route show"));
    let j_ioctl = Jv::parse(&ipfwd_ok(&sb, "s", "--via ioctl -j route show -4"));
    let j_ip = Jv::parse(&sb.ok("ip -n s -j route show"));
    same_routes(
        &j_ioctl,
        &without_proc_fields(&j_ip),
        "--via ioctl -j route show -4",
    );
    // What it cannot read is an error, not a silent empty list.
    fails(
        &sb,
        "s",
        "",
        "--via ioctl route show -6",
        2,
        &["--via netlink"],
    );
    fails(
        &sb,
        "s",
        "",
        "--via ioctl route show table 100",
        2,
        &["--via netlink"],
    );
}

/// `table T` puts the route in table T on netlink (a byte of rtmsg up to 255, `RTA_TABLE`
/// above); the ioctl path has only the main table, and says so rather than using it.
#[test]
fn table_reaches_other_tables_on_netlink_only() {
    let sb = Sandbox::new();
    host(&sb, "t", true);
    let table = |fam: &str, t: &str| {
        parse_ip(&sb.ok(&format!("ip -n t {fam} -j route show table {t}")))
            .to_json_without(&|k| k == "flags")
    };
    let main = (table("-4", "main"), table("-6", "main"));
    route_ok(
        &sb,
        "t",
        "route add 198.51.100.0/24 via 192.0.2.1 table 100",
    );
    route_ok(
        &sb,
        "t",
        "route add 203.0.113.0/24 dev d0 metric 9 table 1000",
    );
    route_ok(
        &sb,
        "t",
        "route add 2001:db8:1::/64 via 2001:db8::1 table 100",
    );
    assert_eq!(
        table("-4", "100"),
        r#"[{"dst":"198.51.100.0/24","gateway":"192.0.2.1","dev":"d0"}]"#
    );
    assert_eq!(
        table("-4", "1000"),
        r#"[{"dst":"203.0.113.0/24","dev":"d0","scope":"link","metric":9}]"#
    );
    assert_eq!(
        table("-6", "100"),
        r#"[{"dst":"2001:db8:1::/64","gateway":"2001:db8::1","dev":"d0","metric":1024,"pref":"medium"}]"#
    );
    assert_eq!((table("-4", "main"), table("-6", "main")), main);
    // The same again is refused there too.
    fails(
        &sb,
        "t",
        "",
        "route add 198.51.100.0/24 via 192.0.2.1 table 100",
        1,
        &["already there"],
    );
    for args in [
        "route add 10.9.0.0/16 via 192.0.2.1 table 100",
        "route add 2001:db8:2::/64 via 2001:db8::1 table 100",
        "route del 198.51.100.0/24 table 100",
        "route del 198.51.100.0/24 via 192.0.2.1 table 100",
        "route add 10.9.0.0/16 via 192.0.2.1 table 1000",
    ] {
        fails(
            &sb,
            "t",
            "",
            &format!("--via ioctl {args}"),
            2,
            &["reach only the main table", "--via netlink"],
        );
    }
    // table main is what the ioctl path does anyway.
    route_ok(
        &sb,
        "t",
        "--via ioctl route add 10.9.0.0/16 via 192.0.2.1 table main",
    );
    assert!(has_route(&sb, "t", "10.9.0.0/16 via 192.0.2.1"));
    route_ok(
        &sb,
        "t",
        "route del 198.51.100.0/24 via 192.0.2.1 table 100",
    );
    route_ok(&sb, "t", "route del 203.0.113.0/24 table 1000");
    route_ok(&sb, "t", "route del 2001:db8:1::/64 table 100");
    assert_eq!(table("-4", "100"), "[]");
    assert_eq!(table("-4", "1000"), "[]");
    assert_eq!(table("-6", "100"), "[]");
}

/// The sandbox's own namespace and `b` have devices of the same names as `a`; ipfwd in `a`
/// changes `a`'s switches and no one else's, and says each change as `KEY: OLD -> NEW`.
#[test]
fn switches_change_only_in_the_namespace_ipfwd_runs_in() {
    let sb = Sandbox::new();
    netns(&sb, "a", false);
    netns(&sb, "b", false);
    for ns in ["a", "b", ""] {
        sb.ok(&format!(
            "{}ip link add v.1 type veth peer name w1",
            exec_in(ns)
        ));
    }
    let others = || (switches(&sb, "b"), switches(&sb, ""));
    let untouched = others();
    let keys = [
        "net.ipv4.ip_forward",
        "net.ipv6.conf.all.forwarding",
        "net/ipv4/conf/v.1/forwarding",
        "net/ipv4/conf/v.1/route_localnet",
        "net.ipv4.conf.w1.rp_filter",
        "net.ipv4.conf.w1.forwarding",
    ];
    for ns in ["a", "b", ""] {
        for k in keys {
            assert_eq!(sysctl_n(&sb, ns, k), "0", "{k} in {ns:?} at birth");
        }
    }
    // (arguments, what ipfwd prints, the switch and its value after, as sysctl reads it)
    let steps = [
        (
            "on --iface v.1",
            "net/ipv4/conf/v.1/forwarding: 0 -> 1\n",
            "net/ipv4/conf/v.1/forwarding",
            "1",
        ),
        (
            "set v.1 route_localnet on",
            "net/ipv4/conf/v.1/route_localnet: 0 -> 1\n",
            "net/ipv4/conf/v.1/route_localnet",
            "1",
        ),
        (
            "set w1 rp_filter loose",
            "net.ipv4.conf.w1.rp_filter: 0 -> 2\n",
            "net.ipv4.conf.w1.rp_filter",
            "2",
        ),
        (
            "on --ipv6",
            "net.ipv6.conf.all.forwarding: 0 -> 1\n",
            "net.ipv6.conf.all.forwarding",
            "1",
        ),
        (
            "on",
            "net.ipv4.ip_forward: 0 -> 1\n",
            "net.ipv4.ip_forward",
            "1",
        ),
        (
            "on",
            "net.ipv4.ip_forward: 1 (unchanged)\n",
            "net.ipv4.ip_forward",
            "1",
        ),
        (
            "on --ipv4 --ipv6",
            "net.ipv4.ip_forward: 1 (unchanged)\nnet.ipv6.conf.all.forwarding: 1 (unchanged)\n",
            "net.ipv6.conf.all.forwarding",
            "1",
        ),
        (
            "set w1 rp_filter loose",
            "net.ipv4.conf.w1.rp_filter: 2 (unchanged)\n",
            "net.ipv4.conf.w1.rp_filter",
            "2",
        ),
        (
            "set v.1 route_localnet off",
            "net/ipv4/conf/v.1/route_localnet: 1 -> 0\n",
            "net/ipv4/conf/v.1/route_localnet",
            "0",
        ),
        (
            "set v.1 route_localnet 1",
            "net/ipv4/conf/v.1/route_localnet: 0 -> 1\n",
            "net/ipv4/conf/v.1/route_localnet",
            "1",
        ),
    ];
    for (args, says, key, value) in steps {
        assert_eq!(ipfwd_ok(&sb, "a", args), says, "ipfwd {args}");
        assert_eq!(sysctl_n(&sb, "a", key), value, "ipfwd {args}: {key}");
        assert_eq!(
            others(),
            untouched,
            "ipfwd {args} in a changed another namespace"
        );
    }
    // ip_forward on turned every interface's forwarding on, as the kernel does.
    assert_eq!(sysctl_n(&sb, "a", "net.ipv4.conf.w1.forwarding"), "1");

    // -j: one object a switch.
    let j = Jv::parse(&ipfwd_ok(&sb, "a", "-j off --iface w1"));
    assert_eq!(
        j.to_json(),
        r#"[{"key":"net.ipv4.conf.w1.forwarding","old":1,"new":0,"changed":true}]"#
    );
    assert_eq!(sysctl_n(&sb, "a", "net.ipv4.conf.w1.forwarding"), "0");
    let j = Jv::parse(&ipfwd_ok(&sb, "a", "-j on --ipv4 --ipv6"));
    assert_eq!(
        j.to_json(),
        r#"[{"key":"net.ipv4.ip_forward","old":1,"new":1,"changed":false},{"key":"net.ipv6.conf.all.forwarding","old":1,"new":1,"changed":false}]"#
    );

    // --dry-run: says the change and the write it would make, writes nothing.
    let o = ipfwd(&sb, "a", "--dry-run set w1 rp_filter strict");
    assert!(o.status.success(), "{}", show_out(&o));
    assert_eq!(
        text(&o.stdout),
        "net.ipv4.conf.w1.rp_filter: 2 -> 1 (dry run: not written)\n"
    );
    let err = text(&o.stderr);
    assert!(
        err.contains(r#"write /proc/sys/net/ipv4/conf/w1/rp_filter "1\n""#)
            && err.contains("not sent"),
        "{err}"
    );
    assert_eq!(sysctl_n(&sb, "a", "net.ipv4.conf.w1.rp_filter"), "2");
    let o = ipfwd(&sb, "a", "--dry-run off");
    assert_eq!(
        text(&o.stdout),
        "net.ipv4.ip_forward: 1 -> 0 (dry run: not written)\n"
    );
    assert_eq!(sysctl_n(&sb, "a", "net.ipv4.ip_forward"), "1");

    // --explain: the read, then the write, each with its result.
    let o = ipfwd(&sb, "a", "--explain set w1 rp_filter off");
    assert!(o.status.success(), "{}", show_out(&o));
    assert_eq!(text(&o.stdout), "net.ipv4.conf.w1.rp_filter: 2 -> 0\n");
    let err = text(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            "ipfwd: read /proc/sys/net/ipv4/conf/w1/rp_filter",
            "ipfwd:   = \"2\"",
            "ipfwd: write /proc/sys/net/ipv4/conf/w1/rp_filter \"0\\n\"",
            "ipfwd:   = ok",
        ],
        "{err}"
    );
    assert_eq!(sysctl_n(&sb, "a", "net.ipv4.conf.w1.rp_filter"), "0");
    // Nothing to change: read, no write.
    let o = ipfwd(&sb, "a", "--explain set w1 rp_filter off");
    let err = text(&o.stderr);
    assert!(
        err.contains("read /proc/sys/net/ipv4/conf/w1/rp_filter"),
        "{err}"
    );
    assert!(!err.contains("write"), "{err}");
    assert_eq!(
        text(&o.stdout),
        "net.ipv4.conf.w1.rp_filter: 0 (unchanged)\n"
    );

    assert_eq!(others(), untouched);
    for ns in ["b", ""] {
        for k in keys {
            assert_eq!(sysctl_n(&sb, ns, k), "0", "{k} in {ns:?}");
        }
    }
}

/// `show`'s lines as (KEY, VALUE).
fn show_lines(out: &str) -> Vec<(String, String)> {
    out.lines()
        .map(|l| {
            let (k, v) = l
                .split_once(" = ")
                .unwrap_or_else(|| panic!("not KEY = VALUE: {l:?}"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// `sysctl -n` of each key, in one run.
fn sysctl_values(sb: &Sandbox, ns: &str, keys: &[String]) -> Vec<String> {
    let script: String = keys
        .iter()
        .map(|k| format!("{}sysctl -n {k}\n", exec_in(ns)))
        .collect();
    trimmed(&sb.ok(&script))
}

/// Every line of `show` is what `sysctl -n` reads for its key, an interface with a dot in its
/// name included (its key is slash-separated, as sysctl takes it); `show -j` has the same.
#[test]
fn show_reads_what_sysctl_reads() {
    let sb = Sandbox::new();
    netns(&sb, "a", false);
    sb.ok("ip -n a link add v.1 type veth peer name w1
        ip netns exec a $IPFWD on --iface v.1
        ip netns exec a $IPFWD set v.1 route_localnet on
        ip netns exec a $IPFWD set w1 rp_filter loose
        ip netns exec a $IPFWD set default rp_filter strict
        ip netns exec a $IPFWD on --ipv6");
    let lines = show_lines(&ipfwd_ok(&sb, "a", "show"));
    let keys: Vec<String> = lines.iter().map(|(k, _)| k.clone()).collect();
    let values: Vec<String> = lines.iter().map(|(_, v)| v.clone()).collect();
    assert_eq!(values, sysctl_values(&sb, "a", &keys), "{keys:?}");
    // Every interface, its three IPv4 switches and its IPv6 forwarding (all.forwarding is
    // ip_forward itself, shown once).
    let ifaces = trimmed(&sb.ok("ip netns exec a ls /proc/sys/net/ipv4/conf"));
    assert_eq!(ifaces.len(), 5, "{ifaces:?}");
    for i in &ifaces {
        let key = |v: &str, knob: &str| {
            if i.contains('.') {
                format!("net/{v}/conf/{i}/{knob}")
            } else {
                format!("net.{v}.conf.{i}.{knob}")
            }
        };
        let mut want = vec![key("ipv4", "route_localnet"), key("ipv4", "rp_filter")];
        if i != "all" {
            want.push(key("ipv4", "forwarding"));
            want.push(key("ipv6", "forwarding"));
        }
        for w in want {
            assert!(keys.contains(&w), "show has no {w}: {keys:?}");
        }
    }
    assert!(keys.contains(&"net.ipv4.ip_forward".to_string()));
    let get = |k: &str| lines.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str());
    assert_eq!(get("net/ipv4/conf/v.1/forwarding"), Some("1"));
    assert_eq!(get("net/ipv4/conf/v.1/route_localnet"), Some("1"));
    assert_eq!(get("net.ipv4.conf.w1.rp_filter"), Some("2"));
    assert_eq!(get("net.ipv4.conf.default.rp_filter"), Some("1"));
    assert_eq!(get("net.ipv6.conf.all.forwarding"), Some("1"));

    // -j: the same switches, by name.
    let j = Jv::parse(&ipfwd_ok(&sb, "a", "-j show"));
    let mut jkeys = vec!["net.ipv4.ip_forward".to_string()];
    let mut jvals = vec![j.s("ip_forward")];
    jkeys.push("net.ipv6.conf.all.forwarding".into());
    jvals.push(j.s("ipv6_forwarding"));
    let names: Vec<String> = j
        .at("interfaces")
        .arr()
        .iter()
        .map(|i| i.s("ifname"))
        .collect();
    assert_eq!(names, ifaces, "-j show interfaces");
    for i in j.at("interfaces").arr() {
        let n = i.s("ifname");
        let sep = |v: &str, knob: &str| format!("net/{v}/conf/{n}/{knob}");
        for (field, key) in [
            ("forwarding", sep("ipv4", "forwarding")),
            ("route_localnet", sep("ipv4", "route_localnet")),
            ("rp_filter", sep("ipv4", "rp_filter")),
            ("ipv6_forwarding", sep("ipv6", "forwarding")),
        ] {
            jkeys.push(key);
            jvals.push(i.s(field));
        }
    }
    if let Jv::Obj(kv) = j.at("bridge_nf") {
        for (k, v) in kv {
            jkeys.push(format!("net.bridge.{k}"));
            jvals.push(v.text());
        }
    }
    assert_eq!(jvals, sysctl_values(&sb, "a", &jkeys), "{jkeys:?}");
}

/// `--print-sysctl` in `a`, applied with `sysctl -p` in a fresh `b` with the same interfaces,
/// makes `b` show what `a` shows.
#[test]
fn print_sysctl_rebuilds_the_state_elsewhere() {
    let sb = Sandbox::new();
    for ns in ["a", "b"] {
        netns(&sb, ns, false);
        sb.ok(&format!(
            "ip -n {ns} link add v.1 type veth peer name w1
             ip -n {ns} link add d0 type veth peer name d1"
        ));
    }
    sb.ok("ip netns exec a $IPFWD on
        ip netns exec a $IPFWD set v.1 route_localnet on
        ip netns exec a $IPFWD set d0 rp_filter loose
        ip netns exec a $IPFWD set w1 forwarding off");
    let conf = ipfwd_ok(&sb, "a", "--print-sysctl");
    assert!(
        conf.lines().any(|l| l == "net.ipv4.ip_forward = 1"),
        "{conf}"
    );
    assert!(
        conf.lines()
            .any(|l| l == "net/ipv4/conf/v.1/route_localnet = 1"),
        "{conf}"
    );
    assert_eq!(conf, ipfwd_ok(&sb, "a", "show --print-sysctl"));
    let show_a = ipfwd_ok(&sb, "a", "show");
    let show_b = ipfwd_ok(&sb, "b", "show");
    assert_ne!(show_a, show_b, "nothing to rebuild");
    sb.ok(&format!(
        "cat > /run/ipfwd.conf <<'EOF'\n{conf}EOF\nip netns exec b sysctl -q -p /run/ipfwd.conf"
    ));
    assert_eq!(ipfwd_ok(&sb, "b", "show"), show_a);
    assert_eq!(ipfwd_ok(&sb, "b", "-j show"), ipfwd_ok(&sb, "a", "-j show"));
}

/// Each bad step exits 2 (usage) or 1 (failed), says why in one line, and changes nothing:
/// the same on both paths and in both families.
#[test]
fn bad_input_fails_cleanly_and_changes_nothing() {
    let sb = Sandbox::new();
    host(&sb, "e", true);
    sb.ok("ip -n e route add 198.51.100.0/24 via 192.0.2.1 metric 5
        ip -n e -6 route add 2001:db8:1::/64 via 2001:db8::1 metric 5");
    let unreachable = "add an address on its subnet first";
    let exists = "is already there";
    // (arguments, status, what stderr says), on either path
    let both: &[(&str, i32, &[&str])] = &[
        // The gateway is on no connected network.
        (
            "route add 10.9.0.0/16 via 203.0.113.1",
            1,
            &[
                "203.0.113.1 is not reachable through any interface",
                unreachable,
            ],
        ),
        (
            "route add 10.9.0.0/16 via 203.0.113.1 dev d0",
            1,
            &["203.0.113.1 is not reachable through d0", unreachable],
        ),
        (
            "route add default via 203.0.113.1",
            1,
            &["203.0.113.1 is not reachable", unreachable],
        ),
        (
            "route add 2001:db8:9::/64 via 2001:db8:77::1",
            1,
            &[
                "2001:db8:77::1 is not reachable through any interface",
                unreachable,
            ],
        ),
        (
            "route add 2001:db8:9::/64 via 2001:db8:77::1 dev d0",
            1,
            &["2001:db8:77::1 is not reachable through d0", unreachable],
        ),
        // A route to that destination at that metric is there: with the same gateway, another
        // one, or none.
        (
            "route add 198.51.100.0/24 via 192.0.2.1 metric 5",
            1,
            &["a route to 198.51.100.0/24 at metric 5", exists],
        ),
        (
            "route add 198.51.100.0/24 via 192.0.2.3 metric 5",
            1,
            &["a route to 198.51.100.0/24 at metric 5", exists],
        ),
        (
            "route add 198.51.100.0/24 dev d0 metric 5",
            1,
            &["a route to 198.51.100.0/24 at metric 5", exists],
        ),
        (
            "route add 2001:db8:1::/64 via 2001:db8::1 metric 5",
            1,
            &["a route to 2001:db8:1::/64 at metric 5", exists],
        ),
        (
            "route add 2001:db8:1::/64 via 2001:db8::3 metric 5",
            1,
            &["a route to 2001:db8:1::/64 at metric 5", exists],
        ),
        (
            "route add 2001:db8:1::/64 dev d0 metric 5",
            1,
            &["a route to 2001:db8:1::/64 at metric 5", exists],
        ),
        // No such route.
        (
            "route del 10.9.0.0/16",
            1,
            &["no route to 10.9.0.0/16 matches"],
        ),
        (
            "route del 198.51.100.0/24 via 192.0.2.9",
            1,
            &["no route to 198.51.100.0/24 matches"],
        ),
        (
            "route del 198.51.100.0/24 metric 6",
            1,
            &["no route to 198.51.100.0/24 matches"],
        ),
        ("route del default", 1, &["no route to default matches"]),
        (
            "route del 2001:db8:9::/64",
            1,
            &["no route to 2001:db8:9::/64 matches"],
        ),
        (
            "route del 2001:db8:1::/64 via 2001:db8::9",
            1,
            &["no route to 2001:db8:1::/64 matches"],
        ),
        // No such interface.
        (
            "route add 10.9.0.0/16 dev nosuch",
            1,
            &["no interface named nosuch"],
        ),
        (
            "route add 198.51.100.0/24 dev nosuch metric 5",
            1,
            &["no interface named nosuch"],
        ),
        (
            "route add 2001:db8:9::/64 dev nosuch",
            1,
            &["no interface named nosuch"],
        ),
        (
            "route del 198.51.100.0/24 dev nosuch",
            1,
            &["no interface named nosuch"],
        ),
        // Bad destinations.
        (
            "route add 198.51.100.1/24 dev d0",
            2,
            &["198.51.100.1/24 has host bits set; the network is 198.51.100.0/24"],
        ),
        (
            "route add 2001:db8:9::1/64 dev d0",
            2,
            &["has host bits set; the network is 2001:db8:9::/64"],
        ),
        (
            "route add 198.51.100.0/33 dev d0",
            2,
            &["bad destination '198.51.100.0/33'"],
        ),
        (
            "route add 2001:db8:9::/129 dev d0",
            2,
            &["bad destination '2001:db8:9::/129'"],
        ),
        (
            "route add garbage dev d0",
            2,
            &["bad destination 'garbage'"],
        ),
        (
            "route add 10.9.0.0/16 via 10.9.x dev d0",
            2,
            &["bad gateway '10.9.x'"],
        ),
        // Bad metrics.
        (
            "route add 10.9.0.0/16 dev d0 metric x",
            2,
            &["bad metric 'x'"],
        ),
        (
            "route add 10.9.0.0/16 dev d0 metric -1",
            2,
            &["bad metric '-1'"],
        ),
        (
            "route add 10.9.0.0/16 dev d0 metric 4294967296",
            2,
            &["bad metric '4294967296'"],
        ),
        (
            "route add 10.9.0.0/16 dev d0 metric",
            2,
            &["metric needs a value"],
        ),
        // Mixed families.
        (
            "route add 10.9.0.0/16 via 2001:db8::1",
            2,
            &["the gateway's address family differs from the destination's"],
        ),
        (
            "route add 2001:db8:9::/64 via 192.0.2.1",
            2,
            &["the gateway's address family differs from the destination's"],
        ),
        (
            "route add -4 2001:db8:9::/64 dev d0",
            2,
            &["not of the family asked for"],
        ),
        (
            "route add -6 10.9.0.0/16 dev d0",
            2,
            &["not of the family asked for"],
        ),
        // Missing or unknown words.
        (
            "route add 10.9.0.0/16",
            2,
            &["a route needs via GW, dev IF, or both"],
        ),
        ("route add", 2, &["expected a destination"]),
        (
            "route add 10.9.0.0/16 dev d0 frob 1",
            2,
            &["unexpected 'frob'"],
        ),
        (
            "route add 10.9.0.0/16 dev d0 table 0",
            2,
            &["bad table '0'"],
        ),
        ("route show -5", 2, &["unexpected '-5'"]),
        (
            "route frob",
            2,
            &["expected route add, route del or route show"],
        ),
    ];
    for via in VIAS {
        for (args, code, says) in both {
            fails(&sb, "e", "", &format!("--via {via} {args}"), *code, says);
        }
    }
    // What struct rtentry and in6_rtmsg cannot say is a usage error on the ioctl path.
    for (args, says) in [
        (
            "route add 10.9.0.0/16 via 192.0.2.1 metric 40000",
            &["metric 40000", "0 to 32766", "--via netlink"],
        ),
        (
            "route add 10.9.0.0/16 via 192.0.2.1 metric 32767",
            &["metric 32767", "0 to 32766", "--via netlink"],
        ),
        (
            "route add 2001:db8:9::/64 via 2001:db8::1 metric 0",
            &["metric 0", "1024", "1 or more"],
        ),
        (
            "route del 2001:db8:1::/64 metric 0",
            &["metric 0", "1024", "1 or more"],
        ),
    ] {
        fails(&sb, "e", "", &format!("--via ioctl {args}"), 2, says);
    }
    // ...which netlink carries.
    route_ok(&sb, "e", "route add 10.9.0.0/16 via 192.0.2.1 metric 40000");
    assert!(has_route(
        &sb,
        "e",
        "10.9.0.0/16 via 192.0.2.1 metric 40000"
    ));
    // A metric the ioctl path refuses is refused before anything is compared with the table.
    fails(
        &sb,
        "e",
        "",
        "--via ioctl route add 10.9.0.0/16 via 192.0.2.1 metric 40000",
        2,
        &["0 to 32766"],
    );
    route_ok(&sb, "e", "route del 10.9.0.0/16 metric 40000");

    // The switches.
    for (args, code, says) in [
        ("set d0 bogus on", 2, "unknown switch 'bogus'"),
        (
            "set d0 rp_filter maybe",
            2,
            "bad value 'maybe' for rp_filter",
        ),
        (
            "set d0 forwarding maybe",
            2,
            "bad value 'maybe' for forwarding",
        ),
        (
            "set d0 route_localnet 2",
            2,
            "bad value '2' for route_localnet",
        ),
        ("set d0 rp_filter", 2, "wrong arguments"),
        ("on --iface nosuch", 1, "no interface named nosuch"),
        ("off --ipv6 --iface nosuch", 1, "no interface named nosuch"),
        ("set nosuch rp_filter loose", 1, "no interface named nosuch"),
        ("on --iface", 2, "--iface needs an interface"),
        ("on --bogus", 2, "unexpected '--bogus'"),
        ("show extra", 2, "wrong arguments"),
        ("frob", 2, "unknown command 'frob'"),
        ("--via bogus route show", 2, "--via bogus"),
    ] {
        fails(&sb, "e", "", args, code, &[says]);
    }
}

/// Without CAP_NET_ADMIN every change says so in one line, exits 1 and changes nothing, on
/// both paths; reading needs no privilege, and reads the same as root does.
#[test]
fn changes_name_the_missing_capability() {
    let sb = Sandbox::new();
    sb.ok(
        "sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
        ip link add d0 type veth peer name p0
        ip addr add 192.0.2.2/24 dev d0
        ip addr add 2001:db8::2/64 dev d0 nodad
        ip link set p0 up
        ip link set d0 up
        ip route add 198.51.100.0/24 via 192.0.2.1",
    );
    let who = sb.unprivileged();
    let mut cmds = vec![
        "on".to_string(),
        "on --ipv4".into(),
        "on --iface d0".into(),
        "set d0 forwarding on".into(),
        "set all forwarding on".into(),
    ];
    // A user namespace's root (capabilities dropped) may still write the switches the kernel
    // does not guard with CAP_NET_ADMIN itself (rp_filter, route_localnet, IPv6 forwarding:
    // net_ctl_permissions lets the namespace's root uid write them); anyone else may not.
    if who.contains("--reuid") {
        cmds.extend([
            "set d0 rp_filter loose".into(),
            "set d0 route_localnet on".into(),
            "on --ipv6".into(),
        ]);
    }
    for via in VIAS {
        for r in [
            "route add 203.0.113.0/24 via 192.0.2.1",
            "route add default via 192.0.2.1 dev d0",
            "route add 2001:db8:1::/64 via 2001:db8::1",
            "route del 198.51.100.0/24",
            "route del 192.0.2.0/24 dev d0",
        ] {
            cmds.push(format!("--via {via} {r}"));
        }
    }
    for cmd in &cmds {
        fails(
            &sb,
            "",
            &format!("{who} "),
            cmd,
            1,
            &["needs CAP_NET_ADMIN"],
        );
    }
    for cmd in [
        "show",
        "-j show",
        "--print-sysctl",
        "route show",
        "-j route show",
        "--via ioctl route show",
        "--via ioctl -j route show",
    ] {
        let root = ipfwd_ok(&sb, "", cmd);
        assert!(!root.is_empty(), "{cmd}");
        let o = sb.sh(&format!("{who} $IPFWD {cmd}"));
        assert!(o.status.success(), "{who} ipfwd {cmd}: {}", show_out(&o));
        assert_eq!(text(&o.stdout), root, "{who} ipfwd {cmd}");
    }
}

/// `-b FILE`: one command a line, all applied; a bad line is named by its number and stops
/// the batch there, the lines before it staying done. The multicall binary is ipfwd too.
#[test]
fn batch_applies_each_line_and_names_a_bad_one() {
    let sb = Sandbox::new();
    let good = "# the lab's routes\n\
                route add 198.51.100.0/24 via 192.0.2.1\n\
                \n\
                route add 203.0.113.0/24 dev d0   # on the link\n\
                route add default via 192.0.2.1 metric 5\n";
    let bad_route = "route add 10.1.0.0/16 via 192.0.2.1\n\
                     route add 10.2.0.0/16 dev d0\n\
                     route add 10.3.0.0/16 via 10.99.0.1\n\
                     route add 10.4.0.0/16 dev d0\n";
    let bad_usage = "route add 10.5.0.0/16 dev d0\n\
                     route add 10.6.0.1/16 dev d0\n\
                     route add 10.7.0.0/16 dev d0\n";
    for via in VIAS {
        let ns = format!("b{via}");
        host(&sb, &ns, false);
        sb.ok(&format!(
            "cat > /run/good-{via} <<'EOF'\n{good}EOF\n\
             cat > /run/bad-{via} <<'EOF'\n{bad_route}EOF\n\
             cat > /run/usage-{via} <<'EOF'\n{bad_usage}EOF"
        ));
        route_ok(&sb, &ns, &format!("--via {via} -b /run/good-{via}"));
        for r in [
            "198.51.100.0/24 via 192.0.2.1",
            "203.0.113.0/24 dev d0",
            "default via 192.0.2.1 metric 5",
        ] {
            assert!(has_route(&sb, &ns, r), "--via {via} -b: {r} is missing");
        }

        let o = ipfwd(&sb, &ns, &format!("--via {via} -b /run/bad-{via}"));
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{}", show_out(&o));
        assert!(o.stdout.is_empty());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!(
                "ipfwd: /run/bad-{via}: line 3: route add 10.3.0.0/16 via 10.99.0.1: "
            )) && err.contains("10.99.0.1 is not reachable"),
            "{err}"
        );
        assert!(
            has_route(&sb, &ns, "10.1.0.0/16 via 192.0.2.1"),
            "--via {via}"
        );
        assert!(has_route(&sb, &ns, "10.2.0.0/16 dev d0"), "--via {via}");
        assert!(
            !has_route(&sb, &ns, "10.3.0.0/16 via 10.99.0.1"),
            "--via {via}"
        );
        assert!(!has_route(&sb, &ns, "10.4.0.0/16 dev d0"), "--via {via}");

        let o = ipfwd(&sb, &ns, &format!("--via {via} -b /run/usage-{via}"));
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{}", show_out(&o));
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("ipfwd: /run/usage-{via}: line 2: "))
                && err.contains("host bits set"),
            "{err}"
        );
        assert!(has_route(&sb, &ns, "10.5.0.0/16 dev d0"), "--via {via}");
        assert!(!has_route(&sb, &ns, "10.7.0.0/16 dev d0"), "--via {via}");

        // From stdin.
        let o = sb.sh_input(
            &format!("ip netns exec {ns} $IPFWD --via {via} -b -"),
            Some("route add 10.8.0.0/16 via 192.0.2.1\nroute del 10.5.0.0/16 dev d0\n"),
        );
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "{}",
            show_out(&o)
        );
        assert!(has_route(&sb, &ns, "10.8.0.0/16 via 192.0.2.1"));
        assert!(!has_route(&sb, &ns, "10.5.0.0/16 dev d0"));
    }
    // Both paths made the same tables.
    assert_eq!(routes(&sb, "bioctl"), routes(&sb, "bnetlink"));

    // The multicall binary: netplumb ipfwd is ipfwd.
    let ns = "bnetlink";
    for args in [
        "route show",
        "-j route show -4",
        "show",
        "-j show",
        "--via ioctl route show",
    ] {
        let ours = ipfwd_ok(&sb, ns, args);
        assert!(!ours.is_empty(), "{args}");
        let multi = sb.ok(&format!("ip netns exec {ns} $NETPLUMB ipfwd {args}"));
        assert_eq!(multi, ours, "netplumb ipfwd {args}");
    }
    sb.ok(&format!(
        "ip netns exec {ns} $NETPLUMB ipfwd route add 10.9.0.0/16 via 192.0.2.1 metric 9"
    ));
    assert!(has_route(&sb, ns, "10.9.0.0/16 via 192.0.2.1 metric 9"));
    let o = sb.sh(&format!(
        "ip netns exec {ns} $NETPLUMB ipfwd route add 10.9.0.0/16 via 192.0.2.1 metric 9"
    ));
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).starts_with("ipfwd: "), "{}", show_out(&o));
}
