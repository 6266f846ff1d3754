//! vethctl against the kernel, read back with tools nobody here wrote: `ip -j -d link` in each
//! namespace (`ip -n NS`), `ip -o monitor link`, `ip -j netns list`, `ethtool -S` and ping
//! between namespaces. Every test works in a sandbox of its own; extra namespaces are made with
//! `ip netns add` inside it (its /run is private).

mod common;
use common::*;
use std::process::Output;

/// Runs `vethctl ARGS` (a shell word list) inside the sandbox.
fn veth(sb: &Sandbox, args: &str) -> Output {
    sb.sh(&format!("\"$VETHCTL\" {args}"))
}

/// `vethctl ARGS` must succeed, silently on stderr; returns stdout.
fn veth_ok(sb: &Sandbox, args: &str) -> String {
    let o = veth(sb, args);
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "vethctl {args}: {:?}\nstdout: {}\nstderr: {}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

/// Every link of a namespace (`None`: the sandbox's own), as `ip -j -d link show` has it.
fn links(sb: &Sandbox, ns: Option<&str>) -> Vec<Jv> {
    let n = ns.map(|n| format!("-n {n} ")).unwrap_or_default();
    Jv::parse(&sb.ok(&format!("ip {n}-j -d link show")))
        .arr()
        .to_vec()
}

fn find<'a>(links: &'a [Jv], name: &str) -> Option<&'a Jv> {
    links.iter().find(|l| l.s("ifname") == name)
}

/// The one link named `name` in a namespace; it must be there.
fn link_in(sb: &Sandbox, ns: Option<&str>, name: &str) -> Jv {
    let all = links(sb, ns);
    find(&all, name)
        .unwrap_or_else(|| panic!("no {name} in namespace {ns:?}: {all:?}"))
        .clone()
}

fn names(links: &[Jv]) -> Vec<String> {
    links.iter().map(|l| l.s("ifname")).collect()
}

fn flags(l: &Jv) -> Vec<String> {
    l.at("flags").arr().iter().map(|f| f.text()).collect()
}

fn is_up(l: &Jv) -> bool {
    flags(l).iter().any(|f| f == "UP")
}

/// The ids this namespace gives the named namespaces, as `ip -j netns list` says them.
fn netns_ids(sb: &Sandbox) -> Vec<(String, String)> {
    Jv::parse(&sb.ok("ip -j netns list"))
        .arr()
        .iter()
        .filter_map(|n| Some((n.get("id")?.text(), n.s("name"))))
        .collect()
}

fn id_of(sb: &Sandbox, ns: &str) -> String {
    netns_ids(sb)
        .into_iter()
        .find(|(_, n)| n == ns)
        .unwrap_or_else(|| panic!("namespace {ns} has no id here"))
        .0
}

/// Keys of `ip -j -d link` that change by themselves.
fn volatile(k: &str) -> bool {
    k.contains("timer") || k == "operstate"
}

/// The link state of the sandbox and of each named namespace, as one comparable text.
fn state(sb: &Sandbox, nss: &[&str]) -> String {
    let mut s = format!("here: {}\n", sb.links_state());
    for ns in nss {
        let v = Jv::parse(&sb.ok(&format!("ip -n {ns} -j -d link show")));
        s.push_str(&format!("{ns}: {}\n", v.to_json_without(&volatile)));
    }
    s.push_str(&format!("netns: {}\n", sb.ok("ip netns list")));
    s
}

/// Starts `ip -o monitor link` in the background and waits until it is seen listening (a
/// sentinel bridge made and deleted until an event names it).
const MONITOR_START: &str = r#"
ip -o monitor link > /run/mon.txt 2>&1 &
echo $! > /run/mon.pid
i=0
until grep -q sentinel /run/mon.txt; do
  ip link add sentinel type bridge && ip link del sentinel
  i=$((i+1)); [ $i -lt 500 ] || { echo "monitor never heard a thing" >&2; exit 1; }
  sleep 0.01
done
"#;

/// Makes one more event and waits for it (so every earlier one is in the file), then ends the
/// monitor by its PID and prints what it heard.
const MONITOR_STOP: &str = r#"
ip link add sentinel2 type bridge
i=0
until grep -q sentinel2 /run/mon.txt; do
  i=$((i+1)); [ $i -lt 500 ] || { echo "monitor lost" >&2; exit 1; }
  sleep 0.01
done
ip link del sentinel2
kill "$(cat /run/mon.pid)"
cat /run/mon.txt
"#;

/// `sleep` inside named namespace `ns`.
fn pid_in<'a>(sb: &'a Sandbox, ns: &str) -> Sleeper<'a> {
    sb.sleeper(&format!("ip netns exec {ns}"))
}

/// `sleep` in a new network namespace that has no name under /run/netns.
fn pid_in_unnamed(sb: &Sandbox) -> Sleeper<'_> {
    sb.sleeper("unshare --net")
}

/// The pair is made with `peer` born in `ns` (named `ns_arg` on the command line), with `up`
/// or without: `peer` is in `ns`, linked back to `end`, and no link event here ever names it.
fn born_there(sb: &Sandbox, end: &str, peer: &str, ns: &str, ns_arg: &str, up: bool) {
    let opt = if up { "--up" } else { "" };
    let heard = sb.ok(&format!(
        "{MONITOR_START}\"$VETHCTL\" add {end} peer {peer} --peer-netns {ns_arg} {opt} || exit 1\n{MONITOR_STOP}"
    ));
    assert!(
        heard.lines().any(|l| l.contains(&format!(": {end}@"))),
        "the monitor heard {end} being made: {heard}"
    );
    assert!(
        !heard.contains(peer),
        "{peer} was seen in the creating namespace:\n{heard}"
    );
    let here = links(sb, None);
    assert!(find(&here, peer).is_none(), "{peer} is here: {here:?}");
    let a = link_in(sb, None, end);
    let b = link_in(sb, Some(ns), peer);
    assert_eq!(b.s("linkinfo.info_kind"), "veth");
    // Each end points at the other, across namespaces.
    assert_eq!(a.s("link_index"), b.s("ifindex"));
    assert_eq!(b.s("link_index"), a.s("ifindex"));
    assert_eq!(
        a.s("link_netnsid"),
        id_of(sb, ns),
        "{end} is linked into {ns}"
    );
    assert!(b.get("link_netnsid").is_some(), "{peer}: {}", b.to_json());
    assert!(a.get("link").is_none() && b.get("link").is_none());
    assert_eq!((is_up(&a), is_up(&b)), (up, up), "{end} {peer}");
}

#[test]
fn peer_is_born_in_its_namespace_and_never_seen_here() {
    let sb = Sandbox::new();
    sb.ok("ip netns add right; ip netns add bypath; ip netns add bypid; ip netns add left");
    // NS by name, by path, by PID.
    born_there(&sb, "va", "peerb", "right", "right", false);
    born_there(&sb, "pa", "pathb", "bypath", "/run/netns/bypath", true);
    let sleeper = pid_in(&sb, "bypid");
    born_there(&sb, "ia", "pidb", "bypid", &sleeper.pid, true);
    drop(sleeper);

    // Both ends elsewhere: nothing at all happens here.
    let before = links(&sb, None);
    let heard = sb.ok(&format!(
        "{MONITOR_START}\"$VETHCTL\" add la peer lb --netns left --peer-netns right --up || exit 1\n{MONITOR_STOP}"
    ));
    let foreign: Vec<&str> = heard.lines().filter(|l| !l.contains("sentinel")).collect();
    assert!(foreign.is_empty(), "events here: {foreign:?}");
    assert_eq!(names(&links(&sb, None)), names(&before));
    let la = link_in(&sb, Some("left"), "la");
    let lb = link_in(&sb, Some("right"), "lb");
    assert_eq!(la.s("link_index"), lb.s("ifindex"));
    assert_eq!(lb.s("link_index"), la.s("ifindex"));
    assert!(is_up(&la) && is_up(&lb), "{la:?} {lb:?}");
    // left's id for right, as `ip -n left netns list-id` gives it.
    let ids = Jv::parse(&sb.ok("ip -n left -j netns list-id"));
    let right_from_left: Vec<String> = ids
        .arr()
        .iter()
        .filter(|x| x.get("name").map(|n| n.text()) == Some("right".into()))
        .map(|x| x.s("nsid"))
        .collect();
    assert_eq!(right_from_left, vec![la.s("link_netnsid")]);

    // A real packet crosses the pair from left to right.
    sb.ok("ip -n left addr add 10.9.0.1/24 dev la
           ip -n right addr add 10.9.0.2/24 dev lb
           ip netns exec left ping -c 1 -W 5 10.9.0.2 >/dev/null");
}

#[test]
fn both_ends_local_mtu_mac_up_and_master() {
    let sb = Sandbox::new();
    sb.ok("ip link add br0 type bridge; ip netns add right");
    veth_ok(
        &sb,
        "add xa peer xb --mtu 9000 --mac 02:00:00:00:00:0a --peer-mac 02:00:00:00:00:0b --master br0 --up",
    );
    let a = sb.link("xa");
    let b = sb.link("xb");
    assert_eq!(a.s("link"), "xb");
    assert_eq!(b.s("link"), "xa");
    assert!(a.get("link_netnsid").is_none() && b.get("link_netnsid").is_none());
    for (l, mac) in [(&a, "02:00:00:00:00:0a"), (&b, "02:00:00:00:00:0b")] {
        assert_eq!(l.s("mtu"), "9000");
        assert_eq!(l.s("address"), mac);
        assert!(is_up(l), "{}", l.to_json());
        assert_eq!(l.s("linkinfo.info_kind"), "veth");
    }
    assert_eq!(a.s("master"), "br0");
    assert_eq!(a.s("linkinfo.info_slave_kind"), "bridge");
    assert!(b.get("master").is_none(), "only NAME is enslaved");

    // Across namespaces, with the same settings on each end.
    veth_ok(
        &sb,
        "add ya peer yb --peer-netns right --mtu 1280 --mac=02:00:00:00:01:0a --peer-mac=02:00:00:00:01:0b --master=br0 --up",
    );
    let a = sb.link("ya");
    let b = link_in(&sb, Some("right"), "yb");
    assert_eq!((a.s("mtu"), b.s("mtu")), ("1280".into(), "1280".into()));
    assert_eq!(a.s("address"), "02:00:00:00:01:0a");
    assert_eq!(b.s("address"), "02:00:00:00:01:0b");
    assert_eq!(a.s("master"), "br0");
    assert!(is_up(&a) && is_up(&b));
    assert_eq!(a.s("link_netnsid"), id_of(&sb, "right"));

    // Without --up both ends stay down; the kernel picks addresses; default MTU.
    veth_ok(&sb, "add za peer name zb");
    for n in ["za", "zb"] {
        let l = sb.link(n);
        assert!(!is_up(&l), "{}", l.to_json());
        assert_eq!(l.s("mtu"), "1500");
        assert!(l.get("master").is_none());
    }
    assert_eq!(sb.link("za").s("link"), "zb");

    // --master names a bridge of NAME's namespace: br0 of left, not ours.
    sb.ok("ip netns add left; ip -n left link add br0 type bridge");
    veth_ok(&sb, "add la peer lb --netns left --master br0 --up");
    let la = link_in(&sb, Some("left"), "la");
    assert_eq!(la.s("master"), "br0");
    assert!(is_up(&la) && is_up(&sb.link("lb")));
    assert!(sb.link("lb").get("master").is_none());
    assert_eq!(
        names(Jv::parse(&sb.ok("ip -j link show master br0")).arr()),
        ["xa", "ya"]
    );

    // The same name for both ends is fine when they are in two namespaces.
    veth_ok(&sb, "add twin peer twin --peer-netns right");
    assert_eq!(
        sb.link("twin").s("link_index"),
        link_in(&sb, Some("right"), "twin").s("ifindex")
    );
}

/// The state vethctl reports, from what ip says.
fn ip_state(l: &Jv) -> &'static str {
    let f = flags(l);
    if !f.iter().any(|x| x == "UP") {
        "DOWN"
    } else if l.s("operstate") == "UP" {
        "UP"
    } else {
        "NO-CARRIER"
    }
}

/// Waits until every up veth here has its carrier state settled (linkwatch is asynchronous).
fn settle(sb: &Sandbox) {
    sb.ok(r#"i=0
        while ip -o link show up type veth | grep -v 'state UP' | grep -q 'LOWER_UP'; do
          i=$((i+1)); [ $i -lt 500 ] || exit 1; sleep 0.01
        done"#);
}

/// Checks one `show -j` row against ip's record of the same link (`here`), the peer found by
/// name here, or by `link_netnsid` in the named namespace of that id (`ids`), or "other".
fn check_row(sb: &Sandbox, r: &Jv, here: &[Jv], ids: &[(String, String)]) {
    let name = r.s("ifname");
    let l = find(here, &name).unwrap_or_else(|| panic!("{name} listed, not in ip"));
    assert_eq!(r.s("ifindex"), l.s("ifindex"), "{name}");
    assert_eq!(r.s("mtu"), l.s("mtu"), "{name}");
    assert_eq!(r.s("address"), l.s("address"), "{name}");
    assert_eq!(
        r.at("master"),
        l.get("master").unwrap_or(&Jv::Null),
        "{name} master"
    );
    assert_eq!(r.s("state"), ip_state(l), "{name}: {}", l.to_json());
    match l.get("link_netnsid") {
        None => {
            let peer = l.s("link");
            assert_eq!(r.s("peer"), peer, "{name}");
            assert_eq!(r.s("peer_ifindex"), find(here, &peer).unwrap().s("ifindex"));
            assert_eq!(r.at("peer_netns"), &Jv::Null, "{name}: peer is here");
        }
        Some(id) => {
            assert_eq!(r.s("peer_ifindex"), l.s("link_index"), "{name}");
            match ids.iter().find(|(i, _)| *i == id.text()) {
                Some((_, ns)) => {
                    assert_eq!(r.s("peer_netns"), *ns, "{name}");
                    let there = links(sb, Some(ns));
                    let p = there
                        .iter()
                        .find(|p| p.s("ifindex") == l.s("link_index"))
                        .expect("peer in its namespace");
                    assert_eq!(r.s("peer"), p.s("ifname"), "{name}");
                }
                None => assert_eq!(r.s("peer_netns"), "other", "{name}: unnamed namespace"),
            }
        }
    }
}

#[test]
fn show_agrees_with_ip_and_ethtool() {
    let sb = Sandbox::new();
    sb.ok(
        "ip link add br0 type bridge; ip link set br0 up; ip netns add right; ip netns add left
           ip link add br1 type bridge",
    );
    let other = pid_in_unnamed(&sb);
    veth_ok(&sb, "add xa peer xb --up --master br0 --mtu 1400");
    veth_ok(
        &sb,
        "add ya peer yb --peer-netns right --mac 02:00:00:00:00:0a",
    );
    veth_ok(
        &sb,
        &format!("add oa peer ob --peer-netns {} --up", other.pid),
    );
    veth_ok(&sb, "add za peer zb");
    veth_ok(&sb, "add half peer down --up");
    sb.ok("ip link set dev down down");
    // A pair of which this namespace holds the peer, made in left.
    veth_ok(
        &sb,
        "add la peer lb --netns left --peer-netns /proc/self/ns/net",
    );
    settle(&sb);

    let here = links(&sb, None);
    let ids = netns_ids(&sb);
    let rows = Jv::parse(&veth_ok(&sb, "-j show"));
    for via in ["netlink", "ethtool"] {
        sb.ok(&format!(
            "\"$VETHCTL\" --via {via} -j show | python3 -c 'import json,sys; json.load(sys.stdin)'"
        ));
    }
    let veths: Vec<String> = here
        .iter()
        .filter(|l| l.get("linkinfo.info_kind").map(|k| k.text()) == Some("veth".into()))
        .map(|l| l.s("ifname"))
        .collect();
    let listed: Vec<String> = rows.arr().iter().map(|r| r.s("ifname")).collect();
    assert_eq!(
        listed, veths,
        "every veth here, in index order, nothing else"
    );
    for r in rows.arr() {
        check_row(&sb, r, &here, &ids);
        let keys: Vec<&str> = match r {
            Jv::Obj(kv) => kv.iter().map(|(k, _)| k.as_str()).collect(),
            _ => panic!("row is not an object"),
        };
        assert_eq!(
            keys,
            [
                "ifname",
                "ifindex",
                "peer",
                "peer_ifindex",
                "peer_netns",
                "master",
                "state",
                "mtu",
                "address"
            ]
        );
    }
    let row = |n: &str| {
        rows.arr()
            .iter()
            .find(|r| r.s("ifname") == n)
            .unwrap()
            .clone()
    };
    // The cases by name, so none of them silently went missing.
    assert_eq!(row("xa").s("master"), "br0");
    assert_eq!(row("xa").s("state"), "UP");
    assert_eq!(row("xb").s("mtu"), "1400");
    assert_eq!(row("ya").s("peer_netns"), "right");
    assert_eq!(row("ya").s("peer"), "yb");
    assert_eq!(row("oa").s("peer_netns"), "other");
    assert_eq!(row("oa").s("peer"), "ob", "named by asking its namespace");
    let ob = sb.ok(&format!("nsenter -t {} -n ip -j link show ob", other.pid));
    assert_eq!(
        row("oa").s("peer_ifindex"),
        Jv::parse(&ob).s("0.ifindex"),
        "ob's index in its own namespace"
    );
    assert_eq!(row("za").at("peer_netns"), &Jv::Null);
    assert_eq!(row("half").s("state"), "NO-CARRIER");
    assert_eq!(row("down").s("state"), "DOWN");
    assert_eq!(row("lb").s("peer_netns"), "left");
    assert_eq!(row("lb").s("peer"), "la");

    // One by name: the same row.
    for n in ["xa", "ya", "oa", "zb", "lb"] {
        let one = Jv::parse(&veth_ok(&sb, &format!("-j show {n}")));
        assert_eq!(one.arr(), [row(n)], "show {n}");
    }

    // The table: a header, then one row a veth, the same values.
    let table = veth_ok(&sb, "show");
    let mut lines = table.lines();
    let head: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        head,
        [
            "name",
            "index",
            "peer",
            "peer-index",
            "peer-netns",
            "master",
            "state",
            "mtu",
            "mac"
        ]
    );
    let body: Vec<Vec<String>> = lines
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect();
    assert_eq!(body.len(), rows.arr().len());
    for (cells, r) in body.iter().zip(rows.arr()) {
        let or_dash = |k: &str| match r.at(k) {
            Jv::Null => "-".to_string(),
            v => v.text(),
        };
        let want = [
            r.s("ifname"),
            r.s("ifindex"),
            r.s("peer"),
            r.s("peer_ifindex"),
            or_dash("peer_netns"),
            or_dash("master"),
            r.s("state"),
            r.s("mtu"),
            r.s("address"),
        ];
        assert_eq!(cells.as_slice(), want.as_slice());
    }

    // --via ethtool: the same peer index (as `ethtool -S` has it); the same row for pairs with
    // both ends here; for a peer elsewhere, no name and "other".
    let eth = Jv::parse(&veth_ok(&sb, "--via ethtool -j show"));
    let listed: Vec<String> = eth.arr().iter().map(|r| r.s("ifname")).collect();
    assert_eq!(listed, veths);
    for (e, n) in eth.arr().iter().zip(rows.arr()) {
        let name = e.s("ifname");
        let stat = sb.ok(&format!("ethtool -S {name}"));
        let peer_ifindex = stat
            .lines()
            .find_map(|l| l.trim().strip_prefix("peer_ifindex: "))
            .unwrap_or_else(|| panic!("no peer_ifindex in ethtool -S {name}: {stat}"));
        assert_eq!(e.s("peer_ifindex"), peer_ifindex, "{name}");
        assert_eq!(e.s("peer_ifindex"), n.s("peer_ifindex"), "{name}");
        if n.at("peer_netns") == &Jv::Null {
            assert_eq!(e, n, "{name}: the same row on both paths");
        } else {
            for k in ["ifindex", "master", "state", "mtu", "address"] {
                assert_eq!(e.at(k), n.at(k), "{name} {k}");
            }
            assert_eq!(e.at("peer"), &Jv::Null, "{name}");
            assert_eq!(e.s("peer_netns"), "other", "{name}");
        }
        let one = Jv::parse(&veth_ok(&sb, &format!("--via ethtool -j show {name}")));
        assert_eq!(
            one.arr(),
            std::slice::from_ref(e),
            "--via ethtool show {name}"
        );
    }

    // From inside right: ya's peer yb, whose peer is in a namespace without a name there.
    let inside = Jv::parse(&sb.ok("ip netns exec right \"$VETHCTL\" -j show yb"));
    assert_eq!(inside.s("0.peer"), "ya");
    assert_eq!(inside.s("0.peer_ifindex"), row("ya").s("ifindex"));
    assert_eq!(
        inside.s("0.peer_netns"),
        "other",
        "the sandbox's namespace has no name"
    );
    let yb = link_in(&sb, Some("right"), "yb");
    assert_eq!(inside.s("0.ifindex"), yb.s("ifindex"));
    assert_eq!(inside.s("0.address"), yb.s("address"));
    drop(other);
}

#[test]
fn multi_delete_removes_exactly_the_named_pairs() {
    let sb = Sandbox::new();
    sb.ok("ip netns add right
           ip link add br0 type bridge
           for i in 1 2 3 4 5; do ip link add p$i type veth peer name q$i; done
           ip link add p6 type veth peer name q6 netns right
           ip link add g1 type veth peer name g2
           ip link set dev g1 group 5
           ip link set dev p5 group 7
           ip link set dev p1 master br0");
    let before = links(&sb, None);
    let right_before = links(&sb, Some("right"));
    // First ends and peer ends, one with its peer in another namespace.
    let o = veth(&sb, "--explain del p2 q4 p6 p5");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(o.stdout.is_empty());
    let err = text(&o.stderr);
    let dels: Vec<&str> = err.lines().filter(|l| l.contains("RTM_DELLINK")).collect();
    assert_eq!(dels.len(), 1, "one RTM_DELLINK for all:\n{err}");
    let after_del = err.split("RTM_DELLINK").nth(1).unwrap();
    let del_msg: Vec<&str> = after_del.lines().skip(1).take(2).collect();
    assert!(
        del_msg[0].contains("index=0") && del_msg[1].trim().starts_with("IFLA_GROUP"),
        "RTM_DELLINK by group:\n{err}"
    );
    let group = del_msg[1].split_whitespace().nth(1).unwrap();
    assert_eq!(
        err.matches(&format!("IFLA_GROUP {group}")).count(),
        5,
        "four RTM_NEWLINK into the group, then the delete:\n{err}"
    );

    let gone = ["p2", "q2", "q4", "p4", "p6", "p5", "q5"];
    let after = links(&sb, None);
    for n in gone {
        assert!(find(&after, n).is_none(), "{n} is still here");
    }
    let right_after = links(&sb, Some("right"));
    assert!(find(&right_after, "q6").is_none(), "q6 went with p6");
    assert_eq!(names(&right_after), ["lo"]);
    assert_eq!(right_before.len(), 2);
    // Everything else is there, exactly as it was (group included).
    let kept: Vec<&Jv> = before
        .iter()
        .filter(|l| !gone.contains(&l.s("ifname").as_str()))
        .collect();
    assert_eq!(
        names(&after),
        kept.iter().map(|l| l.s("ifname")).collect::<Vec<_>>()
    );
    for (a, b) in after.iter().zip(kept) {
        assert_eq!(a.to_json_without(&volatile), b.to_json_without(&volatile));
    }
    assert_eq!(sb.link("g1").s("group"), "5");
    assert_eq!(sb.link("g2").s("group"), "default");
    assert_eq!(sb.link("p1").s("master"), "br0");

    // One name: one RTM_DELLINK by index, no group at all.
    let o = veth(&sb, "--explain del q3");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert_eq!(err.matches("RTM_DELLINK").count(), 1, "{err}");
    assert!(!err.contains("IFLA_GROUP"), "{err}");
    assert!(!sb.has_link("p3") && !sb.has_link("q3"));
    // Both ends of one pair named: the pair goes.
    veth_ok(&sb, "del p1 q1");
    assert!(!sb.has_link("p1") && !sb.has_link("q1"));
    assert_eq!(names(&links(&sb, None)), ["lo", "br0", "g2", "g1"]);
    veth_ok(&sb, "del g1");
    assert_eq!(names(&links(&sb, None)), ["lo", "br0"]);
}

#[test]
fn netns_moves_one_end() {
    let sb = Sandbox::new();
    sb.ok("ip netns add right; ip netns add left; ip netns add third");
    veth_ok(&sb, "add va peer vb");
    veth_ok(&sb, "netns vb right");
    assert!(!sb.has_link("vb"));
    let vb = link_in(&sb, Some("right"), "vb");
    let va = sb.link("va");
    assert_eq!(va.s("link_index"), vb.s("ifindex"));
    assert_eq!(va.s("link_netnsid"), id_of(&sb, "right"));
    // By path, and by PID.
    veth_ok(&sb, "netns va /run/netns/left");
    assert!(!sb.has_link("va"));
    let va = link_in(&sb, Some("left"), "va");
    assert_eq!(va.s("link_index"), vb.s("ifindex"));
    veth_ok(&sb, "add wa peer wb");
    let sleeper = pid_in(&sb, "third");
    veth_ok(&sb, &format!("netns wa {}", sleeper.pid));
    drop(sleeper);
    assert!(!sb.has_link("wa"));
    assert_eq!(
        link_in(&sb, Some("third"), "wa").s("link_index"),
        sb.link("wb").s("ifindex")
    );

    // A name clash in the target: exit 1, a message naming the namespace, nothing changed.
    sb.ok("ip -n right link add wb type bridge");
    let nss = ["right", "left", "third"];
    let before = state(&sb, &nss);
    let o = veth(&sb, "netns wb right");
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("vethctl: ") && err.contains("right") && err.contains("wb"),
        "{err}"
    );
    assert_eq!(state(&sb, &nss), before);
}

/// Each case: arguments, exit status, words the one line must hold.
const BAD: &[(&str, i32, &[&str])] = &[
    (
        "add abcdefghijklmnop peer vb",
        2,
        &["abcdefghijklmnop", "15 bytes"],
    ),
    (
        "add va peer abcdefghijklmnop",
        2,
        &["abcdefghijklmnop", "15 bytes"],
    ),
    (
        "add va peer vb --peer-netns right --master abcdefghijklmnop",
        2,
        &["abcdefghijklmnop"],
    ),
    ("add 'a b' peer vb", 2, &["white space"]),
    ("add va peer va", 2, &["va", "one namespace"]),
    (
        "add va peer va --netns right --peer-netns /run/netns/right",
        2,
        &["one namespace"],
    ),
    (
        "add va peer va --peer-netns /proc/self/ns/net",
        2,
        &["one namespace"],
    ),
    ("add p1 peer zz", 1, &["p1", "taken", "this namespace"]),
    (
        "add zz peer q1",
        1,
        &["peer", "q1", "taken", "this namespace"],
    ),
    (
        "add busy peer zz --netns right",
        1,
        &["busy", "taken", "namespace right"],
    ),
    (
        "add zz peer busy --peer-netns right",
        1,
        &["peer", "busy", "taken", "namespace right"],
    ),
    (
        "add zz peer wb --peer-netns right",
        1,
        &["peer", "wb", "taken", "namespace right"],
    ),
    (
        "add va peer vb --netns nosuch",
        1,
        &["nosuch", "no namespace"],
    ),
    (
        "add va peer vb --peer-netns nosuch",
        1,
        &["nosuch", "no namespace"],
    ),
    (
        "add va peer vb --peer-netns 99999999",
        1,
        &["99999999", "no process"],
    ),
    (
        "add va peer vb --peer-netns /run/plain",
        1,
        &["/run/plain", "not a namespace"],
    ),
    (
        "add va peer vb --netns /run/nonexistent",
        1,
        &["/run/nonexistent"],
    ),
    (
        "add va peer vb --peer-netns /proc/self/ns/mnt",
        1,
        &["not a network namespace"],
    ),
    ("add va peer vb --netns ''", 2, &["empty"]),
    (
        "add va peer vb --mac 01:00:00:00:00:01",
        2,
        &["01:00:00:00:00:01", "multicast"],
    ),
    (
        "add va peer vb --peer-mac ff:ff:ff:ff:ff:ff",
        2,
        &["multicast"],
    ),
    (
        "add va peer vb --mac 02:00:00:00:01",
        2,
        &["02:00:00:00:01", "six bytes"],
    ),
    (
        "add va peer vb --mac 02:00:00:00:00:01:02",
        2,
        &["six bytes"],
    ),
    (
        "add va peer vb --peer-mac 00:00:00:00:00:00",
        2,
        &["all zero"],
    ),
    ("add va peer vb --mac 02:00:00:00:00:0g", 2, &["0g"]),
    ("add va peer vb --mtu 67", 2, &["67", "68 to 65535"]),
    ("add va peer vb --mtu 65536", 2, &["65536", "68 to 65535"]),
    ("add va peer vb --mtu 0", 2, &["68 to 65535"]),
    ("add va peer vb --mtu abc", 2, &["abc", "mtu"]),
    ("add va peer vb --mtu -1", 2, &["mtu"]),
    ("add va peer vb --mtu=", 2, &["mtu"]),
    ("add va peer vb --mtu", 2, &["--mtu needs a value"]),
    (
        "add va peer vb --master nosuch",
        1,
        &["master nosuch", "this namespace"],
    ),
    ("add va peer vb --master p1", 1, &["p1", "not a bridge"]),
    (
        "add va peer vb --netns right --master br0",
        1,
        &["master br0", "namespace right"],
    ),
    ("add va peer vb --up --frob", 2, &["--frob"]),
    ("add va", 2, &["peer"]),
    ("add va peer vb peer vc", 2, &["peer given twice"]),
    ("add va peer", 2, &["peer"]),
    ("add", 2, &["add"]),
    ("del br0", 1, &["br0", "not a veth"]),
    ("del lo", 1, &["lo", "not a veth"]),
    ("del nosuch", 1, &["nosuch"]),
    ("del p1 p2 nosuch", 1, &["nosuch"]),
    ("del p1 br0 p2", 1, &["br0", "not a veth"]),
    ("del p1 abcdefghijklmnop", 2, &["abcdefghijklmnop"]),
    ("del", 2, &["del"]),
    ("netns nosuch right", 1, &["nosuch"]),
    ("netns br0 right", 1, &["br0", "not a veth"]),
    ("netns p1 nosuch", 1, &["nosuch"]),
    ("netns p1", 2, &["netns"]),
    ("netns p1 right extra", 2, &["netns"]),
    ("show nosuch", 1, &["nosuch"]),
    ("show br0", 1, &["br0", "not a veth"]),
    ("show p1 p2", 2, &["show"]),
    ("--via ethtool show br0", 1, &["br0", "not a veth"]),
    ("--via ethtool show nosuch", 1, &["nosuch"]),
    ("frobnicate", 2, &["frobnicate", "unknown command"]),
    (
        "--via ethtool frobnicate",
        2,
        &["unknown command 'frobnicate'"],
    ),
    ("--via ethtool add va peer vb", 2, &["ethtool", "netlink"]),
    ("--via ethtool del p1", 2, &["ethtool"]),
    ("--via ethtool netns p1 right", 2, &["ethtool"]),
    ("--via ioctl show", 2, &["ioctl"]),
    ("--via ioctl add va peer vb", 2, &["ioctl"]),
    ("-b /run/nonexistent", 1, &["/run/nonexistent"]),
];

#[test]
fn bad_input_fails_cleanly_and_changes_nothing() {
    let sb = Sandbox::new();
    sb.ok("ip netns add right; ip netns add left
           ip link add br0 type bridge
           ip link add p1 type veth peer name q1
           ip link add p2 type veth peer name q2
           ip link add wa type veth peer name wb netns right
           ip -n right link add busy type bridge
           echo hello > /run/plain");
    let nss = ["right", "left"];
    let before = state(&sb, &nss);
    for (args, status, words) in BAD {
        let o = veth(&sb, args);
        let err = text(&o.stderr);
        assert_eq!(
            o.status.code(),
            Some(*status),
            "vethctl {args}: stderr: {err}"
        );
        assert!(o.stdout.is_empty(), "vethctl {args}: {}", text(&o.stdout));
        assert_eq!(err.lines().count(), 1, "vethctl {args}: one line:\n{err}");
        assert!(err.starts_with("vethctl: "), "vethctl {args}: {err}");
        for w in *words {
            assert!(err.contains(w), "vethctl {args}: {w:?} not in {err}");
        }
        assert_eq!(state(&sb, &nss), before, "vethctl {args} changed something");
    }
}

#[test]
fn dry_run_changes_nothing_and_batch_says_the_line() {
    let sb = Sandbox::new();
    sb.ok("ip netns add right; ip link add br0 type bridge
           ip link add p1 type veth peer name q1
           ip link add p2 type veth peer name q2");
    let before = state(&sb, &["right"]);
    for args in [
        "add va peer vb --peer-netns right --up --master br0 --mtu 2000 --mac 02:00:00:00:00:01",
        "add va peer vb --up",
        "del p1",
        "del p1 p2",
        "netns p1 right",
    ] {
        let o = veth(&sb, &format!("--dry-run {args}"));
        let err = text(&o.stderr);
        assert!(o.status.success(), "--dry-run {args}: {err}");
        assert!(err.contains("not sent (--dry-run)"), "{args}: {err}");
        assert!(!err.contains("= ACK"), "{args}: nothing sent: {err}");
        assert_eq!(state(&sb, &["right"]), before, "--dry-run {args}");
    }

    // Batch from stdin: lines run in order until the bad one, which is named by number.
    let input = "# pairs\nadd b1 peer c1\nadd b2 peer c2 --peer-netns right\n\nadd b3 peer c3 --up\nadd b4 peer c4 --mtu 5\nadd b5 peer c5\n";
    let o = sb.sh_input("\"$VETHCTL\" -b -", Some(input));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("vethctl: -: line 6: ") && err.contains("mtu 5"),
        "{err}"
    );
    assert_eq!(sb.link("b1").s("link"), "c1");
    assert_eq!(
        sb.link("b2").s("link_index"),
        link_in(&sb, Some("right"), "c2").s("ifindex")
    );
    assert!(is_up(&sb.link("b3")) && is_up(&sb.link("c3")));
    assert!(!sb.has_link("b4") && !sb.has_link("b5"));

    // A batch file, with a failure from the kernel's side.
    sb.ok("printf 'del b1\\nshow b3\\nadd b3 peer c9\\ndel b3\\n' > /run/batch");
    let o = veth(&sb, "-b /run/batch");
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.starts_with("vethctl: /run/batch: line 3: "), "{err}");
    assert!(err.contains("b3") && err.contains("taken"), "{err}");
    assert_eq!(
        text(&o.stdout).lines().count(),
        2,
        "show ran: header and b3"
    );
    assert!(!sb.has_link("b1") && sb.has_link("b3"));
}

#[test]
fn multicall_binary_and_common_options() {
    let sb = Sandbox::new();
    sb.ok("ip netns add right");
    veth_ok(&sb, "add va peer vb --peer-netns right");
    veth_ok(&sb, "add xa peer xb --up");
    settle(&sb);
    for args in ["show", "-j show", "show va", "--via ethtool show"] {
        let ours = veth_ok(&sb, args);
        let multi = sb.ok(&format!("\"$NETPLUMB\" vethctl {args}"));
        assert_eq!(multi, ours, "netplumb vethctl {args}");
    }
    let rows = Jv::parse(&sb.ok("\"$NETPLUMB\" vethctl -j show"));
    assert_eq!(rows.arr().len(), 3);
    assert_eq!(rows.s("0.peer"), "vb");
    // Made through the multicall binary too.
    sb.ok("\"$NETPLUMB\" vethctl add ma peer mb --peer-netns right");
    assert_eq!(
        sb.link("ma").s("link_index"),
        link_in(&sb, Some("right"), "mb").s("ifindex")
    );
    assert!(veth_ok(&sb, "--help").contains("add NAME peer PEER"));
    assert!(veth_ok(&sb, "--version").starts_with("vethctl (netplumb) "));
    // Nothing listed: no output.
    let empty = Sandbox::new();
    assert_eq!(veth_ok(&empty, "show"), "");
    assert_eq!(veth_ok(&empty, "-j show").trim(), "[]");
}
