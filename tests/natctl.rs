//! natctl on both of its kernel paths, nf_tables (`--via nftables`, the default) and legacy
//! xtables (`--via iptables`), against the real kernel: Docker's bridge network with real TCP
//! between namespaces; `nft -j list ruleset` and `iptables-legacy-save` as the oracles for what
//! is in the kernel; and someone else's nf_tables table and legacy iptables ruleset that must
//! come through every natctl command unchanged, their counters never reset.

mod common;
use common::*;
use std::process::Output;

/// The two kernel paths.
const VIAS: [&str; 2] = ["nftables", "iptables"];

/// wan (192.0.2.2) — host (wan0 192.0.2.1; br0 10.88.0.1/16; br1 10.89.0.1/16) — c1 (10.88.0.2)
/// and c3 (10.88.0.3) on br0, c2 on br1 (10.89.0.2). Forwarding on; nothing else.
const NET: &str = r#"
ip link set lo up
for n in wan c1 c2 c3; do ip netns add $n; ip -n $n link set lo up; done
ip link add wan0 type veth peer name eth0 netns wan
ip addr add 192.0.2.1/24 dev wan0; ip link set wan0 up
ip -n wan addr add 192.0.2.2/24 dev eth0; ip -n wan link set eth0 up
ip link add br0 type bridge; ip addr add 10.88.0.1/16 dev br0; ip link set br0 up
ip link add br1 type bridge; ip addr add 10.89.0.1/16 dev br1; ip link set br1 up
attach() {
  ip link add $2 type veth peer name eth0 netns $1; ip link set $2 master $3 up
  ip -n $1 addr add $4/16 dev eth0; ip -n $1 link set eth0 up; ip -n $1 route add default via $5
}
attach c1 vc1 br0 10.88.0.2 10.88.0.1
attach c3 vc3 br0 10.88.0.3 10.88.0.1
attach c2 vc2 br1 10.89.0.2 10.89.0.1
sysctl -qw net.ipv4.ip_forward=1
"#;

/// A server in namespace `ns` on `proto` ("tcp" or "udp") `port` that answers each connection
/// (each datagram) with "NS sees PEER-ADDRESS" and ends by itself after 30 s.
fn server(sb: &Sandbox, proto: &str, ns: &str, port: u16) {
    server_on(sb, 4, proto, ns, port)
}

/// As [`server`], on IPv4 (`ip` 4) or IPv6 (6) only.
fn server_on(sb: &Sandbox, ip: u8, proto: &str, ns: &str, port: u16) {
    let listening = if proto == "udp" { "-lun" } else { "-ltn" };
    let (fam, any) = if ip == 6 {
        ("AF_INET6", "::")
    } else {
        ("AF_INET", "0.0.0.0")
    };
    sb.ok(&format!(
        r#"ip netns exec {ns} timeout 30 python3 -c '
import socket
udp = "{proto}" == "udp"
s = socket.socket(socket.{fam}, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
"{fam}" == "AF_INET6" and s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s.bind(("{any}", {port}))
udp or s.listen(8)
while True:
    if udp:
        d, a = s.recvfrom(100); s.sendto(("{ns} sees %s\n" % a[0]).encode(), a)
    else:
        c, a = s.accept(); c.sendall(("{ns} sees %s\n" % a[0]).encode()); c.close()
' >/dev/null 2>&1 &
        i=0; until ip netns exec {ns} ss -{ip} {listening} | grep -q ":{port} "; do
          i=$((i+1)); [ $i -lt 200 ] || exit 1; sleep 0.02; done"#
    ));
}

/// What a TCP client in `ns` ("" = the host) hears from ADDR:PORT, or the error.
fn connect(sb: &Sandbox, ns: &str, addr: &str, port: u16) -> String {
    ask(sb, ns, "tcp", 0, addr, port)
}

/// What a client in `ns` ("" = the host) hears from ADDR:PORT over `proto` ("tcp", or "udp":
/// one datagram out, the answer back), from source port `sport` (0: any), or the error.
fn ask(sb: &Sandbox, ns: &str, proto: &str, sport: u16, addr: &str, port: u16) -> String {
    let pre = if ns.is_empty() {
        String::new()
    } else {
        format!("ip netns exec {ns} ")
    };
    // An IPv6 address (a colon in it) is asked over IPv6.
    let (fam, any) = if addr.contains(':') {
        ("AF_INET6", "::")
    } else {
        ("AF_INET", "0.0.0.0")
    };
    let o = sb.sh(&format!(
        r#"{pre}timeout 10 python3 -c '
import socket
udp = "{proto}" == "udp"
try:
    s = socket.socket(socket.{fam}, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
    s.settimeout(2)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    {sport} and s.bind(("{any}", {sport}))
    s.connect(("{addr}", {port}))
    udp and s.send(b"?")
    print(s.recv(100).decode().strip())
except Exception as e:
    print("failed:", type(e).__name__)
'"#
    ));
    text(&o.stdout).trim().to_string()
}

/// natctl on kernel path `via`, bounded in time.
fn natctl(sb: &Sandbox, via: &str, args: &str) -> Output {
    sb.sh(&format!("timeout 20 $NATCTL --via {via} {args}"))
}

/// natctl on kernel path `via`, which must succeed.
fn natctl_ok(sb: &Sandbox, via: &str, args: &str) -> Output {
    let o = natctl(sb, via, args);
    assert!(
        o.status.success(),
        "natctl --via {via} {args} failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    o
}

/// natctl's rules as `list -j` shows them.
fn listed(sb: &Sandbox, via: &str) -> Vec<Jv> {
    Jv::parse(&text(&natctl_ok(sb, via, "list -j").stdout))
        .arr()
        .to_vec()
}

fn specs(l: &[Jv]) -> Vec<String> {
    l.iter().map(|r| r.s("spec")).collect()
}

/// Another tool's ruleset: an nf_tables table with a forward chain and a nat rule of its own.
const OTHER: &str = r#"nft -f - <<'EOF'
table ip other {
  chain fw { type filter hook forward priority 10; policy accept; ip saddr 203.0.113.0/24 counter drop; }
  chain pre { type nat hook prerouting priority -90; tcp dport 9999 counter dnat to 10.88.0.9:99; }
}
EOF"#;

/// Someone else's legacy iptables ruleset: rules in nat POSTROUTING, a user chain with a rule
/// and a jump to it from PREROUTING, rules in filter FORWARD. Pings from wan to the host count
/// in the nat ones, pings between c1 and c2 in the FORWARD one.
const OTHER_XT: &str = r#"iptables-legacy-restore <<'EOF'
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:OTHER-PRE - [0:0]
-A PREROUTING -p icmp -m comment --comment "another tool" -j OTHER-PRE
-A OTHER-PRE -s 192.0.2.2/32 -j RETURN
-A POSTROUTING -s 198.51.100.0/24 -o wan0 -j MASQUERADE
-A POSTROUTING -s 198.51.100.0/24 -o wan0 -p tcp -m tcp --dport 443 -j SNAT --to-source 192.0.2.1
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -s 203.0.113.0/24 -j DROP
-A FORWARD -p icmp -j ACCEPT
COMMIT
EOF"#;

/// Traffic through the other legacy ruleset's rules (and ARP entries on br0 for c1 and c3, which
/// natctl needs to find their bridge ports for hairpin). Every ping bounded.
const PINGS: &str = "ip netns exec c1 ping -c1 -W2 10.88.0.1 >/dev/null
ip netns exec c3 ping -c1 -W2 10.88.0.1 >/dev/null
ip netns exec wan ping -c1 -W2 192.0.2.1 >/dev/null
ip netns exec c1 ping -c1 -W2 10.89.0.2 >/dev/null";

fn ruleset(sb: &Sandbox, table: &str) -> String {
    sb.ok(&format!("nft list table ip {table}"))
}

/// `iptables-legacy-save -c`, without its `#` lines (they carry the time).
fn xt_save(sb: &Sandbox) -> Vec<String> {
    sb.ok("iptables-legacy-save -c")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(String::from)
        .collect()
}

/// The lines of `save` (iptables-legacy-save output) that are not natctl's: its chains, its rules,
/// its helper rules and its jumps all carry a `natctl` comment.
fn not_natctl(save: &[String]) -> Vec<String> {
    save.iter()
        .filter(|l| {
            !(l.starts_with(":NATCTL")
                || l.contains("--comment \"natctl:")
                || l.contains("--comment \"natctl+:"))
        })
        .cloned()
        .collect()
}

/// A save line with its `[packets:bytes]` counters taken out: the text with `[-]` in their
/// place, and the numbers.
fn uncount(line: &str) -> (String, Vec<u64>) {
    let mut out = String::new();
    let mut nums = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find('[') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let counted = tail.split_once(']').and_then(|(inner, after)| {
            let (p, b) = inner.split_once(':')?;
            Some((p.parse::<u64>().ok()?, b.parse::<u64>().ok()?, after))
        });
        match counted {
            Some((p, b, after)) => {
                out.push_str("[-]");
                nums.extend([p, b]);
                rest = after;
            }
            None => {
                out.push('[');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    (out, nums)
}

/// The save lines with their counters masked, as one text to compare.
fn masked(save: &[String]) -> String {
    save.iter().map(|l| uncount(l).0 + "\n").collect()
}

/// The packet counter of the one save line that contains `rule`.
fn packets(save: &[String], rule: &str) -> u64 {
    let hits: Vec<&String> = save.iter().filter(|l| l.contains(rule)).collect();
    assert_eq!(hits.len(), 1, "{rule:?} in\n{}", save.join("\n"));
    uncount(hits[0]).1[0]
}

/// `now` holds the same rules and chains as `before`, byte for byte, and not one counter lower.
fn assert_kept(before: &[String], now: &[String], what: &str) {
    assert_eq!(
        masked(now),
        masked(before),
        "{what} changed someone else's iptables rules"
    );
    for (b, n) in before.iter().zip(now) {
        let (bn, nn) = (uncount(b).1, uncount(n).1);
        assert!(
            bn.iter().zip(&nn).all(|(b, n)| n >= b),
            "{what} lowered the counters of someone else's iptables rule:\nbefore: {b}\nafter:  {n}"
        );
    }
}

/// Everything natctl could touch in the tables, counters masked (traffic of its own, such as
/// IGMP reports, moves them): the whole nf_tables ruleset and the whole legacy one.
fn state(sb: &Sandbox) -> String {
    let nft: String = sb
        .ok("nft list ruleset")
        .lines()
        .map(|l| match l.find("packets ") {
            Some(i) => {
                let rest = &l[i..];
                let end = rest
                    .find(" bytes ")
                    .and_then(|b| {
                        rest[b + 7..]
                            .find(|c: char| !c.is_ascii_digit())
                            .map(|e| b + 7 + e)
                    })
                    .unwrap_or(rest.len());
                format!("{}packets - bytes -{}\n", &l[..i], &rest[end..])
            }
            None => format!("{l}\n"),
        })
        .collect();
    nft + &masked(&xt_save(sb))
}

/// The lines of `save` (plain `iptables-legacy-save`) in `table` that append to `chain`.
fn chain_rules<'a>(save: &'a str, table: &str, chain: &str) -> Vec<&'a str> {
    let head = format!("-A {chain} ");
    save.split(&format!("*{table}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("no table {table} in\n{save}"))
        .lines()
        .take_while(|l| *l != "COMMIT")
        .filter(|l| l.starts_with(&head))
        .collect()
}

/// natctl's jumps into its chains on the iptables path, as iptables-legacy-save prints them.
const JUMP_PREROUTING: &str =
    r#"-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment "natctl:base" -j NATCTL"#;
const JUMP_OUTPUT: &str =
    r#"-A OUTPUT -m addrtype --dst-type LOCAL -m comment --comment "natctl:base" -j NATCTL"#;
const JUMP_POSTROUTING: &str =
    r#"-A POSTROUTING -m comment --comment "natctl:base" -j NATCTL-POSTROUTING"#;
const JUMP_FORWARD: &str = r#"-A FORWARD -m comment --comment "natctl:base" -j NATCTL-FORWARD"#;

#[test]
fn docker_bridge_with_real_traffic_nftables() {
    docker_bridge_with_real_traffic("nftables");
}

#[test]
fn docker_bridge_with_real_traffic_iptables() {
    docker_bridge_with_real_traffic("iptables");
}

fn docker_bridge_with_real_traffic(via: &str) {
    let sb = Sandbox::new();
    sb.ok(NET);
    sb.ok(OTHER);
    sb.ok(OTHER_XT);
    let other = ruleset(&sb, "other");
    server(&sb, "tcp", "c1", 80);
    server(&sb, "tcp", "c2", 80);
    server(&sb, "tcp", "wan", 8000);
    // The containers' addresses become known on br0 (hairpin needs their ports), and the
    // other ruleset's rules count packets.
    sb.ok(PINGS);
    let xt_before = xt_save(&sb);
    let other_jump = r#"-A PREROUTING -p icmp -m comment --comment "another tool" -j OTHER-PRE"#;
    let other_pre = "-A OTHER-PRE -s 192.0.2.2/32 -j RETURN";
    let other_fwd = "-A FORWARD -p icmp -j ACCEPT";
    for r in [other_jump, other_pre, other_fwd] {
        assert!(packets(&xt_before, r) > 0, "{r}: no packets counted yet");
    }
    // Every natctl command must succeed and leave the other table and the other legacy
    // ruleset as they were (on the iptables path, natctl's own lines aside); their counters
    // may only grow.
    let mut xt_last = xt_before.clone();
    let mut run = |args: &str| -> Output {
        let o = natctl_ok(&sb, via, args);
        let what = format!("natctl --via {via} {args}");
        assert_eq!(ruleset(&sb, "other"), other, "{what} changed table other");
        let mut now = xt_save(&sb);
        if via == "iptables" {
            now = not_natctl(&now);
        }
        assert_kept(&xt_last, &now, &what);
        xt_last = now;
        o
    };

    // Nothing yet: wan has no way to the containers, and they none out.
    assert!(connect(&sb, "wan", "192.0.2.1", 8080).starts_with("failed"));
    assert!(connect(&sb, "c1", "192.0.2.2", 8000).starts_with("failed"));
    let localnet = "sysctl -n net.ipv4.conf.br0.route_localnet";
    let hairpin = |port: &str| sb.link(port).s("linkinfo.info_slave_data.hairpin");
    assert_eq!(sb.ok(localnet), "0\n");
    assert_eq!(hairpin("vc1"), "false");

    run("masquerade add 10.88.0.0/16 --not-out br0");
    run("masquerade add 10.89.0.0/16 --not-out br1");
    let o = run("publish add 8080 10.88.0.2:80");
    // natctl turned on what 127.0.0.1 and hairpin need, and said so.
    let err = text(&o.stderr);
    let said: Vec<&str> = err.lines().collect();
    assert_eq!(said.len(), 2, "publish add said:\n{err}");
    assert!(
        said[0].starts_with("natctl: set net.ipv4.conf.br0.route_localnet=1 ("),
        "{err}"
    );
    assert!(
        said[1].starts_with("natctl: set hairpin on vc1 of br0 ("),
        "{err}"
    );
    assert_eq!(sb.ok(localnet), "1\n");
    assert_eq!(hairpin("vc1"), "true");
    assert_eq!(hairpin("vc3"), "false");

    // The container sees wan's own address (DNAT keeps the client's).
    assert_eq!(connect(&sb, "wan", "192.0.2.1", 8080), "c1 sees 192.0.2.2");
    // On the way out the container is masqueraded behind the host's wan address.
    assert_eq!(connect(&sb, "c1", "192.0.2.2", 8000), "wan sees 192.0.2.1");
    // From the host itself, to its own address (the output hook).
    assert_eq!(connect(&sb, "", "192.0.2.1", 8080), "c1 sees 192.0.2.1");
    // From the host to 127.0.0.1 (route_localnet, and loopback sources masqueraded).
    assert_eq!(connect(&sb, "", "127.0.0.1", 8080), "c1 sees 10.88.0.1");
    // Hairpin to its own published port: out the port it came in (masqueraded, or its own
    // address would answer itself).
    assert_eq!(connect(&sb, "c1", "192.0.2.1", 8080), "c1 sees 10.88.0.1");
    // Hairpin from a neighbour on the same bridge, and from a container on another bridge.
    assert_eq!(connect(&sb, "c3", "192.0.2.1", 8080), "c1 sees 10.88.0.3");
    assert!(connect(&sb, "c2", "192.0.2.1", 8080).starts_with("c1 sees"));

    // Isolation: c2 (br1) reached c1 (br0) before; not after, in either direction.
    assert!(connect(&sb, "c2", "10.88.0.2", 80).starts_with("c1 sees"));
    run("isolate add br1 br0");
    assert!(connect(&sb, "c2", "10.88.0.2", 80).starts_with("failed"));
    assert!(connect(&sb, "c1", "10.89.0.2", 80).starts_with("failed"));

    // The kernel holds what we meant, in the words of nft or of iptables.
    let j = Jv::parse(&sb.ok("nft -j list ruleset"));
    let tables: Vec<String> = j
        .at("nftables")
        .arr()
        .iter()
        .filter_map(|o| {
            o.get("table")
                .map(|t| format!("{} {}", t.s("family"), t.s("name")))
        })
        .collect();
    if via == "nftables" {
        let ours = ruleset(&sb, "natctl");
        for want in [
            r#"ip saddr 10.88.0.0/16 oifname != "br0" counter"#,
            "masquerade comment \"natctl:masquerade 10.88.0.0/16 --not-out br0\"",
            // Docker's usual publish is an element of a map, with its own counter.
            "dnat ip to tcp dport map @publish-tcp",
            "8080 counter packets ",
            "comment \"natctl:publish 8080 10.88.0.2:80 --proto tcp\" : 10.88.0.2 . 80",
            r#"iifname "br0" oifname "br1" counter"#,
            r#"iifname "br1" oifname "br0" counter"#,
            "fib daddr type local jump publish",
        ] {
            assert!(ours.contains(want), "missing {want:?} in\n{ours}");
        }
        // Isolation holds for IPv6 too: its rules are in ip6 natctl as well.
        assert_eq!(tables, ["ip other", "ip natctl", "ip6 natctl"]);
        let ours6 = sb.ok("nft list table ip6 natctl");
        assert!(
            ours6.contains(r#"iifname "br1" oifname "br0" counter"#),
            "{ours6}"
        );
    } else {
        check_iptables_rules(&sb.ok("iptables-legacy-save"));
        // The iptables path makes nothing in nf_tables.
        assert_eq!(tables, ["ip other"]);
    }

    // list: each rule once, with counters that saw the traffic; on the iptables path in the
    // order of natctl's chains (nat NATCTL, NATCTL-POSTROUTING, filter NATCTL-FORWARD), with
    // ids 1..n.
    let l = listed(&sb, via);
    let (masq88, masq89, publish, isolate) = (
        "masquerade 10.88.0.0/16 --not-out br0",
        "masquerade 10.89.0.0/16 --not-out br1",
        "publish 8080 10.88.0.2:80 --proto tcp",
        "isolate br0 br1",
    );
    if via == "nftables" {
        assert_eq!(specs(&l), [masq88, masq89, publish, isolate]);
    } else {
        assert_eq!(specs(&l), [publish, masq88, masq89, isolate]);
        let ids: Vec<String> = l.iter().map(|r| r.s("id")).collect();
        assert_eq!(ids, ["1", "2", "3", "4"]);
    }
    let p = l.iter().find(|r| r.s("spec") == publish).unwrap();
    assert!(
        p.s("packets").parse::<u64>().unwrap() >= 3,
        "{}",
        p.to_json()
    );
    run("list");

    // Unpublish: wan no longer gets in. Delete isolation by the id list shows now.
    run("publish del 8080 10.88.0.2:80");
    assert!(connect(&sb, "wan", "192.0.2.1", 8080).starts_with("failed"));
    let l = listed(&sb, via);
    assert_eq!(specs(&l), [masq88, masq89, isolate]);
    let id = l.iter().find(|r| r.s("spec") == isolate).unwrap().s("id");
    run(&format!("del {id}"));
    assert!(connect(&sb, "c2", "10.88.0.2", 80).starts_with("c1 sees"));
    assert_eq!(specs(&listed(&sb, via)), [masq88, masq89]);

    // The other legacy rules still work, and count on from where they were.
    sb.ok("ip netns exec wan ping -c1 -W2 192.0.2.1 >/dev/null");
    let now = xt_save(&sb);
    assert!(packets(&now, other_pre) > packets(&xt_before, other_pre));

    run("flush");
    assert_eq!(sb.ok("nft list tables"), "table ip other\n");
    // Exactly the other legacy ruleset is left: natctl's chains and jumps are gone.
    assert_kept(
        &xt_before,
        &xt_save(&sb),
        &format!("natctl --via {via} flush"),
    );
    // A second flush has nothing to do and says nothing.
    let o = run("flush");
    assert_eq!(text(&o.stdout), "");
    assert_eq!(text(&o.stderr), "");
    assert_kept(&xt_before, &xt_save(&sb), "a second flush");
    assert_eq!(ruleset(&sb, "other"), other);
}

/// The rules of the Docker bridge scenario (`--via iptables`), as iptables-legacy-save prints
/// them, and the jumps to natctl's chains where they belong among the other ruleset's rules.
fn check_iptables_rules(save: &str) {
    assert_eq!(
        chain_rules(save, "nat", "PREROUTING"),
        [
            JUMP_PREROUTING,
            r#"-A PREROUTING -p icmp -m comment --comment "another tool" -j OTHER-PRE"#,
        ],
        "{save}"
    );
    assert_eq!(chain_rules(save, "nat", "OUTPUT"), [JUMP_OUTPUT], "{save}");
    assert_eq!(
        chain_rules(save, "nat", "POSTROUTING"),
        [
            "-A POSTROUTING -s 198.51.100.0/24 -o wan0 -j MASQUERADE",
            "-A POSTROUTING -s 198.51.100.0/24 -o wan0 -p tcp -m tcp --dport 443 -j SNAT --to-source 192.0.2.1",
            JUMP_POSTROUTING,
        ],
        "{save}"
    );
    assert_eq!(
        chain_rules(save, "nat", "NATCTL"),
        [
            r#"-A NATCTL -p tcp -m tcp --dport 8080 -m comment --comment "natctl:publish 8080 10.88.0.2:80 --proto tcp" -j DNAT --to-destination 10.88.0.2:80"#
        ],
        "{save}"
    );
    let post = chain_rules(save, "nat", "NATCTL-POSTROUTING");
    for want in [
        r#"-A NATCTL-POSTROUTING -s 10.88.0.0/16 ! -o br0 -m comment --comment "natctl:masquerade 10.88.0.0/16 --not-out br0" -j MASQUERADE"#,
        r#"-A NATCTL-POSTROUTING -s 10.89.0.0/16 ! -o br1 -m comment --comment "natctl:masquerade 10.89.0.0/16 --not-out br1" -j MASQUERADE"#,
        r#"-A NATCTL-POSTROUTING -s 127.0.0.0/8 -d 10.88.0.2/32 -p tcp -m tcp --dport 80 -m comment --comment "natctl+:publish 8080 10.88.0.2:80 --proto tcp" -j MASQUERADE"#,
    ] {
        assert!(post.contains(&want), "missing {want:?} in\n{save}");
    }
    assert_eq!(
        chain_rules(save, "filter", "FORWARD"),
        [
            JUMP_FORWARD,
            "-A FORWARD -s 203.0.113.0/24 -j DROP",
            "-A FORWARD -p icmp -j ACCEPT",
        ],
        "{save}"
    );
    assert_eq!(
        chain_rules(save, "filter", "NATCTL-FORWARD"),
        [
            r#"-A NATCTL-FORWARD -i br0 -o br1 -m comment --comment "natctl:isolate br0 br1" -j DROP"#,
            r#"-A NATCTL-FORWARD -i br1 -o br0 -m comment --comment "natctl:isolate br0 br1" -j DROP"#,
        ],
        "{save}"
    );
}

#[test]
fn bad_input_and_conflicts_change_nothing_on_either_path() {
    let sb = Sandbox::new();
    sb.ok(NET);
    sb.ok(OTHER);
    sb.ok(OTHER_XT);
    for via in VIAS {
        natctl_ok(&sb, via, "masquerade add 10.88.0.0/16 --not-out br0");
    }
    let before = state(&sb);
    for (args, code, says) in [
        ("masquerade add 10.88.0.1/16", 2, "host bits set"),
        ("masquerade add 10.88.0.0/33", 2, "bad prefix length"),
        ("masquerade add nonsense", 2, "bad subnet"),
        (
            "masquerade add 10.88.0.0/16 --not-out br0",
            1,
            "already there",
        ),
        ("masquerade del 10.99.0.0/16", 1, "no such natctl rule"),
        (
            "masquerade add 10.90.0.0/16 --out a --not-out b",
            2,
            "exclude each other",
        ),
        ("publish add 0 10.88.0.2:80", 2, "port 0"),
        ("publish add 65536 10.88.0.2:80", 2, "over 65535"),
        (
            "publish add 8010-8000 10.88.0.2:80",
            2,
            "reversed port range",
        ),
        (
            "publish add 8000-8010 10.88.0.2:80-85",
            2,
            "differ in length",
        ),
        (
            "publish add 8080 10.88.0.2:80 --proto sctp",
            2,
            "unknown protocol",
        ),
        ("publish add 8080 10.88.0.2", 2, "DEST:PORT"),
        ("snat add 10.88.0.0/16", 2, "--to ADDR"),
        ("isolate add br0 br0", 2, "from itself"),
        (
            "isolate add br0 nosuch",
            1,
            "isolate add br0 nosuch: no bridge (no interface) named nosuch",
        ),
        ("del 12345", 1, "no such natctl rule"),
        ("del x", 2, "bad id"),
        ("frobnicate", 2, "unknown command"),
    ] {
        // Each path refuses in the same words, and changes nothing on either.
        let said: Vec<String> = VIAS
            .iter()
            .map(|via| {
                let o = natctl(&sb, via, args);
                let err = text(&o.stderr);
                assert_eq!(
                    o.status.code(),
                    Some(code),
                    "natctl --via {via} {args}: {err}"
                );
                assert!(
                    err.starts_with("natctl: ") && err.contains(says) && err.lines().count() == 1,
                    "natctl --via {via} {args}: {err}"
                );
                assert_eq!(
                    state(&sb),
                    before,
                    "natctl --via {via} {args} changed the rules"
                );
                err
            })
            .collect();
        assert_eq!(
            said[0], said[1],
            "natctl {args}: the paths say different things"
        );
    }

    // A batch is one transaction: one bad line, and nothing of the file happens, though its
    // other lines touch both legacy tables (nat and filter).
    for via in VIAS {
        let o = natctl(
            &sb,
            via,
            "-b - <<'EOF'\npublish add 8081 10.88.0.2:81\nisolate add br0 br1\nmasquerade add 10.88.0.0/16 --not-out br0\nEOF",
        );
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "--via {via}: {err}");
        assert!(err.contains("already there"), "--via {via}: {err}");
        assert!(
            err.contains("nothing in the file was applied"),
            "--via {via}: {err}"
        );
        assert_eq!(
            state(&sb),
            before,
            "--via {via}: the bad batch changed the rules"
        );
    }
    // The same file without the bad line: all of it.
    for via in VIAS {
        natctl_ok(
            &sb,
            via,
            "-b - <<'EOF'\npublish add 8081 10.88.0.2:81\n# a comment\nisolate add br0 br1\nEOF",
        );
        assert_eq!(listed(&sb, via).len(), 3, "--via {via}");
    }
    let save = sb.ok("iptables-legacy-save");
    for want in [
        r#"-A NATCTL -p tcp -m tcp --dport 8081 -m comment --comment "natctl:publish 8081 10.88.0.2:81 --proto tcp" -j DNAT --to-destination 10.88.0.2:81"#,
        r#"-A NATCTL-FORWARD -i br0 -o br1 -m comment --comment "natctl:isolate br0 br1" -j DROP"#,
    ] {
        assert!(
            save.lines().any(|l| l == want),
            "missing {want:?} in\n{save}"
        );
    }

    // --dry-run sends nothing and turns nothing on (route_localnet toward 10.89.0.2 on br1
    // stays off), but says what it would do.
    let now = state(&sb);
    let localnet = "sysctl -n net.ipv4.conf.br1.route_localnet";
    for (via, says) in [
        ("nftables", vec!["NFT_MSG_NEWSETELEM"]),
        (
            "iptables",
            vec![
                "setsockopt SOL_IP IPT_SO_SET_REPLACE \"nat\"",
                "= not sent (--dry-run)",
            ],
        ),
    ] {
        let o = natctl(&sb, via, "--dry-run publish add 9000 10.89.0.2:90");
        let err = text(&o.stderr);
        assert!(o.status.success(), "--via {via}: {err}");
        for want in says {
            assert!(
                err.contains(want),
                "--via {via}: missing {want:?} in\n{err}"
            );
        }
        assert!(
            err.contains("natctl: would set net.ipv4.conf.br1.route_localnet=1"),
            "--via {via}: {err}"
        );
        assert_eq!(state(&sb), now, "--via {via} --dry-run changed the rules");
        assert_eq!(sb.ok(localnet), "0\n", "--via {via} --dry-run");
    }

    // --explain shows each request: nf_tables messages decoded; on the iptables path the lock,
    // the reads and the whole-table replace summarised. Neither path writes to the other's
    // tables (reading them, for warnings, is fine).
    for (via, says, never) in [
        (
            "nftables",
            vec![
                "NFNL_MSG_BATCH_BEGIN",
                // Docker's usual publish is an element of the map of published ports.
                "NFT_MSG_NEWSETELEM flags=REQUEST|EXCL|CREATE",
                "NFTA_SET_ELEM_LIST_SET \"publish-tcp\"",
                "NFTA_SET_ELEM_USERDATA comment \"natctl:publish 9000 10.88.0.3:90 --proto tcp\"",
                "ACK: committed",
            ],
            "IPT_SO_SET_",
        ),
        (
            "iptables",
            vec![
                "flock /run/xtables.lock LOCK_EX",
                "getsockopt SOL_IP IPT_SO_GET_ENTRIES \"nat\"",
                "setsockopt SOL_IP IPT_SO_SET_REPLACE \"nat\"",
                "num_counters",
                "NATCTL: ",
                "1 new",
                "+ -j DNAT (comment \"natctl:publish 9000 10.88.0.3:90 --proto tcp\")",
                "IPT_SO_SET_ADD_COUNTERS \"nat\"",
            ],
            "NFNL_MSG_BATCH",
        ),
    ] {
        let o = natctl(&sb, via, "--explain publish add 9000 10.88.0.3:90");
        let err = text(&o.stderr);
        assert!(o.status.success(), "--via {via}: {err}");
        for want in says {
            assert!(
                err.contains(want),
                "--via {via}: missing {want:?} in\n{err}"
            );
        }
        assert!(!err.contains(never), "--via {via}: {never:?} in\n{err}");
        assert!(
            specs(&listed(&sb, via)).contains(&"publish 9000 10.88.0.3:90 --proto tcp".into()),
            "--via {via}"
        );
    }
}

#[test]
fn fifty_at_once_leave_fifty_rules_nftables() {
    fifty_at_once_leave_fifty_rules("nftables");
}

#[test]
fn fifty_at_once_leave_fifty_rules_iptables() {
    fifty_at_once_leave_fifty_rules("iptables");
}

fn fifty_at_once_leave_fifty_rules(via: &str) {
    let sb = Sandbox::new();
    sb.ok(NET);
    let failed = sb.ok(&format!(
        "for i in $(seq 1 50); do
           {{ err=$(timeout 30 $NATCTL --via {via} publish add $((9000 + i)) 10.88.0.2:80 2>&1 >/dev/null) ||
              echo \"publish add $((9000 + i)) failed: $?: $err\"; }} &
         done; wait"
    ));
    assert_eq!(failed, "");
    let mut got = specs(&listed(&sb, via));
    got.sort();
    let want: Vec<String> = (9001..=9050)
        .map(|p| format!("publish {p} 10.88.0.2:80 --proto tcp"))
        .collect();
    assert_eq!(got, want);
    if via == "nftables" {
        // One table, one jump in each of prerouting and output: nobody made them twice.
        let ours = ruleset(&sb, "natctl");
        assert_eq!(ours.matches("jump publish").count(), 2, "{ours}");
        assert_eq!(ours.matches(": 10.88.0.2 . 80").count(), 50, "{ours}");
    } else {
        // One set of chains and jumps; 50 DNAT rules: no update lost under the lock.
        let save = sb.ok("iptables-legacy-save");
        let dnat = chain_rules(&save, "nat", "NATCTL");
        assert_eq!(dnat.len(), 50, "{save}");
        assert!(dnat
            .iter()
            .all(|l| l.ends_with("-j DNAT --to-destination 10.88.0.2:80")));
        for (chain, jump) in [
            ("PREROUTING", JUMP_PREROUTING),
            ("OUTPUT", JUMP_OUTPUT),
            ("POSTROUTING", JUMP_POSTROUTING),
        ] {
            assert_eq!(chain_rules(&save, "nat", chain), [jump], "{save}");
        }
        for chain in [":NATCTL ", ":NATCTL-POSTROUTING "] {
            assert_eq!(
                save.lines().filter(|l| l.starts_with(chain)).count(),
                1,
                "{save}"
            );
        }
        assert!(!save.contains("NATCTL-FORWARD"), "{save}");
    }
}

#[test]
fn iptables_path_waits_for_the_xtables_lock() {
    let sb = Sandbox::new();
    sb.ok(NET);
    // Someone holds the lock for a second, as iptables does while it changes a table; natctl
    // waits for it, then does its work.
    let ms = sb.ok("flock /run/xtables.lock sleep 1 &
         i=0; while flock -n /run/xtables.lock true; do
           i=$((i+1)); [ $i -lt 500 ] || { echo 'the lock was never taken' >&2; exit 1; }
           sleep 0.01
         done
         t0=$(date +%s%N)
         timeout 20 $NATCTL --via iptables publish add 8080 10.88.0.2:80 2>/dev/null || exit
         t1=$(date +%s%N)
         wait
         echo $(( (t1 - t0) / 1000000 ))");
    let ms: u64 = ms.trim().parse().unwrap();
    assert!(
        ms >= 700,
        "natctl did not wait for the lock: done in {ms} ms"
    );
    assert_eq!(
        specs(&listed(&sb, "iptables")),
        ["publish 8080 10.88.0.2:80 --proto tcp"]
    );
}

#[test]
fn a_batch_that_adds_and_deletes_a_rule_leaves_none() {
    let sb = Sandbox::new();
    sb.ok(NET);
    for via in VIAS {
        natctl_ok(&sb, via, "masquerade add 10.88.0.0/16");
        natctl_ok(
            &sb,
            via,
            "-b - <<'EOF'\npublish add 8082 10.88.0.2:82\nisolate add br0 br1\npublish del 8082 10.88.0.2:82\nEOF",
        );
        assert_eq!(
            specs(&listed(&sb, via)),
            ["masquerade 10.88.0.0/16", "isolate br0 br1"],
            "--via {via}"
        );
    }
    assert!(!ruleset(&sb, "natctl").contains("8082"));
    assert!(!sb.ok("iptables-legacy-save").contains("8082"));
}

/// The UDP flows conntrack holds whose original direction matches `filter` (`conntrack -L`
/// options), one line each.
fn flows(sb: &Sandbox, filter: &str) -> Vec<String> {
    sb.ok(&format!("conntrack -L -p udp {filter}"))
        .lines()
        .map(String::from)
        .collect()
}

/// wan's UDP flow from port 40000 to the host's port 5353 as `conntrack -L` shows it once
/// `dest` has answered: the original tuple, then the reply tuple, from `dest`.
fn flow_to(dest: &str) -> String {
    format!(
        "src=192.0.2.2 dst=192.0.2.1 sport=40000 dport=5353 \
         src={dest} dst=192.0.2.2 sport=5353 dport=40000 "
    )
}

#[test]
fn udp_unpublish_forgets_the_flows_it_sent_nftables() {
    udp_unpublish_forgets_the_flows_it_sent("nftables");
}

#[test]
fn udp_unpublish_forgets_the_flows_it_sent_iptables() {
    udp_unpublish_forgets_the_flows_it_sent("iptables");
}

fn udp_unpublish_forgets_the_flows_it_sent(via: &str) {
    let sb = Sandbox::new();
    sb.ok(NET);
    server(&sb, "udp", "c1", 5353);
    server(&sb, "udp", "c3", 5353);
    let to_c1 = "publish 5353 10.88.0.2:5353 --proto udp";
    natctl_ok(&sb, via, "publish add 5353 10.88.0.2:5353 --proto udp");
    // wan's client, always from the same port: one flow, sent to c1 on its first packet.
    let client = || ask(&sb, "wan", "udp", 40000, "192.0.2.1", 5353);
    assert_eq!(client(), "c1 sees 192.0.2.2");
    let sent_to = |dest: &str| {
        let all = flows(&sb, "");
        let n = all.iter().filter(|l| l.contains(&flow_to(dest))).count();
        (n, all.join("\n"))
    };
    let (n, all) = sent_to("10.88.0.2");
    assert_eq!(n, 1, "the flow to c1 is not in conntrack:\n{all}");
    // A flow to the same port that natctl did not send anywhere: its reply comes from the host.
    sb.ok(
        "conntrack -I -p udp -s 192.0.2.2 -d 192.0.2.1 --sport 41000 --dport 5353 \
           -r 192.0.2.1 -q 192.0.2.2 --reply-port-src 5353 --reply-port-dst 41000 -t 60",
    );
    let other = "src=192.0.2.2 dst=192.0.2.1 sport=41000 dport=5353 [UNREPLIED] \
                 src=192.0.2.1 dst=192.0.2.2 sport=5353 dport=41000 ";

    // --dry-run counts the flows it would forget, and forgets none (nor deletes the rule).
    let o = natctl_ok(
        &sb,
        via,
        "--dry-run publish del 5353 10.88.0.2:5353 --proto udp",
    );
    let err = text(&o.stderr);
    let would =
        format!("natctl: would have removed 1 conntrack entries of {to_c1} (flows it sent)");
    assert!(err.lines().any(|l| l == would), "--via {via}: {err}");
    let (n, all) = sent_to("10.88.0.2");
    assert_eq!(n, 1, "--via {via} --dry-run deleted the flow:\n{all}");
    assert_eq!(specs(&listed(&sb, via)), [to_c1]);

    let o = natctl_ok(&sb, via, "publish del 5353 10.88.0.2:5353 --proto udp");
    assert_eq!(
        text(&o.stderr),
        format!("natctl: removed 1 conntrack entries of {to_c1} (flows it sent)\n"),
        "--via {via}"
    );
    let left = flows(&sb, "--orig-port-dst 5353");
    assert!(
        !left.iter().any(|l| l.contains(" src=10.88.0.2 ")),
        "--via {via}: a flow sent to c1 is left:\n{}",
        left.join("\n")
    );
    assert!(
        left.iter().any(|l| l.contains(other)),
        "--via {via}: the flow natctl did not map is gone:\n{}",
        left.join("\n")
    );
    assert!(listed(&sb, via).is_empty());

    // Published anew to c3, the same client 5-tuple reaches c3: no stale flow sends it to c1.
    natctl_ok(&sb, via, "publish add 5353 10.88.0.3:5353 --proto udp");
    assert_eq!(client(), "c3 sees 192.0.2.2", "--via {via}");
    let (n, all) = sent_to("10.88.0.3");
    assert_eq!(
        n, 1,
        "--via {via}: the flow to c3 is not in conntrack:\n{all}"
    );
}

#[test]
fn drop_policies_on_the_forward_hook_are_warned_about_nftables() {
    drop_policies_on_the_forward_hook_are_warned_about("nftables");
}

#[test]
fn drop_policies_on_the_forward_hook_are_warned_about_iptables() {
    drop_policies_on_the_forward_hook_are_warned_about("iptables");
}

fn drop_policies_on_the_forward_hook_are_warned_about(via: &str) {
    let sb = Sandbox::new();
    sb.ok(NET);
    // What a natctl command said on stderr, and the chains its warnings name (each warning's
    // text up to its explanation).
    let run = |args: &str| -> (String, Vec<String>) {
        let err = text(&natctl_ok(&sb, via, args).stderr);
        let warned = err
            .lines()
            .filter_map(|l| l.strip_prefix("natctl: warning: "))
            .map(|w| w.split(": forwarded traffic").next().unwrap().to_string())
            .collect();
        (err, warned)
    };
    let nft_drop = "table inet fw, chain fw1 (hook forward, priority 0) has policy drop";
    let xt_drop = "iptables (legacy) table filter, chain FORWARD has policy DROP";

    // No drop policy anywhere: not a word, though on nftables natctl's own forward chain now
    // exists (policy accept).
    let (err, _) = run("masquerade add 10.88.0.0/16");
    assert_eq!(err, "", "--via {via}");
    if via == "nftables" {
        assert!(ruleset(&sb, "natctl").contains("hook forward priority filter - 1; policy accept;"));
    }

    // Another table's forward chain drops by policy. Its accepting forward chain and its
    // dropping input chain are no matter.
    sb.ok("nft add table inet fw
           nft add chain inet fw fw1 '{ type filter hook forward priority 0; policy drop; }'
           nft add chain inet fw fw2 '{ type filter hook forward priority 10; policy accept; }'
           nft add chain inet fw in1 '{ type filter hook input priority 0; policy drop; }'");
    let (err, warned) = run("masquerade add 10.89.0.0/16");
    assert_eq!(warned, [nft_drop], "--via {via}: {err}");
    assert_eq!(err.lines().count(), 1, "--via {via}: {err}");
    // Isolation forwards nothing: no warning.
    assert_eq!(run("isolate add br0 br1").0, "", "--via {via}");

    sb.ok("iptables-legacy -P FORWARD DROP");
    let (err, warned) = run("snat add 10.90.0.0/16 --to 192.0.2.1");
    assert_eq!(warned, [nft_drop, xt_drop], "--via {via}: {err}");
    assert_eq!(err.lines().count(), 2, "--via {via}: {err}");
    sb.ok("ip link add br2 type bridge");
    assert_eq!(run("isolate add br0 br2").0, "", "--via {via}");

    sb.ok("nft delete table inet fw");
    let (err, warned) = run("publish add 8080 10.88.0.2:80");
    assert_eq!(warned, [xt_drop], "--via {via}: {err}");

    sb.ok("iptables-legacy -P FORWARD ACCEPT");
    assert_eq!(run("masquerade add 10.91.0.0/16").0, "", "--via {via}");
}

/// A saved ruleset (`iptables-legacy-save` or `nft list ruleset`) as one text to compare: its
/// `#` and blank lines left out, each line trimmed, `[packets:bytes]` counters masked.
fn tidy(save: &str) -> String {
    save.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| uncount(l).0 + "\n")
        .collect()
}

/// The rules of the round trip below, as each path's save tool prints them (see [`tidy`]): on
/// nftables the chains of table ip natctl (named objects of natctl's own may come before them)
/// and table ip6 natctl (isolation holds for IPv6 too), which end the listing; on iptables the
/// whole of it.
const SAVED_NFT: &str = r#"map publish-tcp {
type inet_service : ipv4_addr . inet_service
counter
elements = { 8080 counter packets 0 bytes 0 comment "natctl:publish 8080 10.88.0.2:80 --proto tcp" : 10.88.0.2 . 80 }
}
map publish-udp {
type inet_service : ipv4_addr . inet_service
counter
}
set hairpin {
type ipv4_addr . inet_proto . inet_service
elements = { 10.88.0.2 . tcp . 8080 comment "natctl+:publish 8080 10.88.0.2:80 --proto tcp" }
}
set neighbours {
type ifname . inet_proto . inet_service
elements = { "br0" . tcp . 8080 comment "natctl+:publish 8080 10.88.0.2:80 --proto tcp" }
}
chain prerouting {
type nat hook prerouting priority dstnat - 1; policy accept;
fib daddr type local jump publish comment "natctl:base"
}
chain output {
type nat hook output priority -101; policy accept;
fib daddr type local jump publish comment "natctl:base"
}
chain postrouting {
type nat hook postrouting priority srcnat + 1; policy accept;
ip saddr 127.0.0.0/8 ct status dnat masquerade comment "natctl:base"
meta mark & 0x00004000 == 0x00004000 meta mark set meta mark & 0xffff9fff masquerade comment "natctl:base"
meta mark & 0x00002000 == 0x00002000 iif != 0 meta mark set meta mark & 0xffff9fff masquerade comment "natctl:base"
meta mark & 0x00002000 == 0x00002000 meta mark set meta mark & 0xffff9fff comment "natctl:base"
ip saddr 10.88.0.0/16 oifname != "br0" counter packets 0 bytes 0 masquerade comment "natctl:masquerade 10.88.0.0/16 --not-out br0"
ip saddr 10.90.0.0/16 counter packets 0 bytes 0 snat to 192.0.2.1 comment "natctl:snat 10.90.0.0/16 --to 192.0.2.1"
ip saddr 127.0.0.0/8 ip daddr 10.88.0.3 udp dport 6000-6002 masquerade comment "natctl+:publish 5000-5002 10.88.0.3:6000-6002 --proto udp --in wan0"
ip saddr 10.88.0.3 ip daddr 10.88.0.3 udp dport 6000-6002 masquerade comment "natctl+:publish 5000-5002 10.88.0.3:6000-6002 --proto udp --in wan0"
ip daddr 10.88.0.3 iifname "br0" oifname "br0" udp dport 6000-6002 masquerade comment "natctl+:publish 5000-5002 10.88.0.3:6000-6002 --proto udp --in wan0"
ip saddr 127.0.0.0/8 ip daddr 10.88.0.2 tcp dport 443 masquerade comment "natctl+:publish 192.0.2.1:8443 10.88.0.2:443 --proto tcp"
ip saddr 10.88.0.2 ip daddr 10.88.0.2 tcp dport 443 masquerade comment "natctl+:publish 192.0.2.1:8443 10.88.0.2:443 --proto tcp"
ip daddr 10.88.0.2 iifname "br0" oifname "br0" tcp dport 443 masquerade comment "natctl+:publish 192.0.2.1:8443 10.88.0.2:443 --proto tcp"
}
chain forward {
type filter hook forward priority filter - 1; policy accept;
iifname "br0" oifname "br1" counter packets 0 bytes 0 drop comment "natctl:isolate br0 br1"
iifname "br1" oifname "br0" counter packets 0 bytes 0 drop comment "natctl:isolate br0 br1"
}
chain publish {
ip saddr . meta l4proto . th dport @hairpin meta mark set meta mark | 0x00004000 comment "natctl:base"
iifname . meta l4proto . th dport @neighbours meta mark set meta mark | 0x00002000 comment "natctl:base"
dnat ip to tcp dport map @publish-tcp comment "natctl:base"
dnat ip to udp dport map @publish-udp comment "natctl:base"
iifname "wan0" udp dport 5000 counter packets 0 bytes 0 dnat to 10.88.0.3:6000 comment "natctl:publish 5000-5002 10.88.0.3:6000-6002 --proto udp --in wan0"
iifname "wan0" udp dport 5001 counter packets 0 bytes 0 dnat to 10.88.0.3:6001 comment "natctl:publish 5000-5002 10.88.0.3:6000-6002 --proto udp --in wan0"
iifname "wan0" udp dport 5002 counter packets 0 bytes 0 dnat to 10.88.0.3:6002 comment "natctl:publish 5000-5002 10.88.0.3:6000-6002 --proto udp --in wan0"
ip daddr 192.0.2.1 tcp dport 8443 counter packets 0 bytes 0 dnat to 10.88.0.2:443 comment "natctl:publish 192.0.2.1:8443 10.88.0.2:443 --proto tcp"
}
}
table ip6 natctl {
counter natctl-b0e97f85e6df4b1d {
packets 0 bytes 0
}
map publish-tcp {
type inet_service : ipv6_addr . inet_service
counter
}
map publish-udp {
type inet_service : ipv6_addr . inet_service
counter
}
set hairpin {
type ipv6_addr . inet_proto . inet_service
}
set neighbours {
type ifname . inet_proto . inet_service
}
chain prerouting {
type nat hook prerouting priority dstnat - 1; policy accept;
fib daddr type local jump publish comment "natctl:base"
}
chain output {
type nat hook output priority -101; policy accept;
ip6 daddr != ::1 fib daddr type local jump publish comment "natctl:base"
}
chain postrouting {
type nat hook postrouting priority srcnat + 1; policy accept;
meta mark & 0x00004000 == 0x00004000 meta mark set meta mark & 0xffff9fff masquerade comment "natctl:base"
meta mark & 0x00002000 == 0x00002000 iif != 0 meta mark set meta mark & 0xffff9fff masquerade comment "natctl:base"
meta mark & 0x00002000 == 0x00002000 meta mark set meta mark & 0xffff9fff comment "natctl:base"
}
chain forward {
type filter hook forward priority filter - 1; policy accept;
iifname "br0" oifname "br1" counter packets 0 bytes 0 drop comment "natctl:isolate br0 br1"
iifname "br1" oifname "br0" counter packets 0 bytes 0 drop comment "natctl:isolate br0 br1"
}
chain publish {
ip6 saddr . meta l4proto . th dport @hairpin meta mark set meta mark | 0x00004000 comment "natctl:base"
iifname . meta l4proto . th dport @neighbours meta mark set meta mark | 0x00002000 comment "natctl:base"
dnat ip6 to tcp dport map @publish-tcp comment "natctl:base"
dnat ip6 to udp dport map @publish-udp comment "natctl:base"
}
}
"#;

const SAVED_XT: &str = r#"*filter
:INPUT ACCEPT [-]
:FORWARD ACCEPT [-]
:OUTPUT ACCEPT [-]
:NATCTL-FORWARD - [-]
-A FORWARD -m comment --comment "natctl:base" -j NATCTL-FORWARD
-A NATCTL-FORWARD -i br0 -o br1 -m comment --comment "natctl:isolate br0 br1" -j DROP
-A NATCTL-FORWARD -i br1 -o br0 -m comment --comment "natctl:isolate br0 br1" -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [-]
:INPUT ACCEPT [-]
:OUTPUT ACCEPT [-]
:POSTROUTING ACCEPT [-]
:NATCTL - [-]
:NATCTL-POSTROUTING - [-]
-A PREROUTING -m addrtype --dst-type LOCAL -m comment --comment "natctl:base" -j NATCTL
-A OUTPUT -m addrtype --dst-type LOCAL -m comment --comment "natctl:base" -j NATCTL
-A POSTROUTING -m comment --comment "natctl:base" -j NATCTL-POSTROUTING
-A NATCTL -p tcp -m tcp --dport 8080 -m comment --comment "natctl:publish 8080 10.88.0.2:80 --proto tcp" -j DNAT --to-destination 10.88.0.2:80
-A NATCTL -i wan0 -p udp -m udp --dport 5000 -m comment --comment "natctl:publish 5000-5002 10.88.0.3:6000-6002 --proto udp --in wan0" -j DNAT --to-destination 10.88.0.3:6000
-A NATCTL -i wan0 -p udp -m udp --dport 5001 -m comment --comment "natctl:publish 5000-5002 10.88.0.3:6000-6002 --proto udp --in wan0" -j DNAT --to-destination 10.88.0.3:6001
-A NATCTL -i wan0 -p udp -m udp --dport 5002 -m comment --comment "natctl:publish 5000-5002 10.88.0.3:6000-6002 --proto udp --in wan0" -j DNAT --to-destination 10.88.0.3:6002
-A NATCTL -d 192.0.2.1/32 -p tcp -m tcp --dport 8443 -m comment --comment "natctl:publish 192.0.2.1:8443 10.88.0.2:443 --proto tcp" -j DNAT --to-destination 10.88.0.2:443
-A NATCTL-POSTROUTING -s 10.88.0.0/16 ! -o br0 -m comment --comment "natctl:masquerade 10.88.0.0/16 --not-out br0" -j MASQUERADE
-A NATCTL-POSTROUTING -s 10.90.0.0/16 -m comment --comment "natctl:snat 10.90.0.0/16 --to 192.0.2.1" -j SNAT --to-source 192.0.2.1
-A NATCTL-POSTROUTING -s 127.0.0.0/8 -d 10.88.0.2/32 -p tcp -m tcp --dport 80 -m comment --comment "natctl+:publish 8080 10.88.0.2:80 --proto tcp" -j MASQUERADE
-A NATCTL-POSTROUTING -s 10.88.0.2/32 -d 10.88.0.2/32 -p tcp -m tcp --dport 80 -m comment --comment "natctl+:publish 8080 10.88.0.2:80 --proto tcp" -j MASQUERADE
-A NATCTL-POSTROUTING -d 10.88.0.2/32 -i br0 -o br0 -p tcp -m tcp --dport 80 -m comment --comment "natctl+:publish 8080 10.88.0.2:80 --proto tcp" -j MASQUERADE
-A NATCTL-POSTROUTING -s 127.0.0.0/8 -d 10.88.0.3/32 -p udp -m udp --dport 6000:6002 -m comment --comment "natctl+:publish 5000-5002 10.88.0.3:6000-6002 --proto udp --in wan0" -j MASQUERADE
-A NATCTL-POSTROUTING -s 10.88.0.3/32 -d 10.88.0.3/32 -p udp -m udp --dport 6000:6002 -m comment --comment "natctl+:publish 5000-5002 10.88.0.3:6000-6002 --proto udp --in wan0" -j MASQUERADE
-A NATCTL-POSTROUTING -d 10.88.0.3/32 -i br0 -o br0 -p udp -m udp --dport 6000:6002 -m comment --comment "natctl+:publish 5000-5002 10.88.0.3:6000-6002 --proto udp --in wan0" -j MASQUERADE
-A NATCTL-POSTROUTING -s 127.0.0.0/8 -d 10.88.0.2/32 -p tcp -m tcp --dport 443 -m comment --comment "natctl+:publish 192.0.2.1:8443 10.88.0.2:443 --proto tcp" -j MASQUERADE
-A NATCTL-POSTROUTING -s 10.88.0.2/32 -d 10.88.0.2/32 -p tcp -m tcp --dport 443 -m comment --comment "natctl+:publish 192.0.2.1:8443 10.88.0.2:443 --proto tcp" -j MASQUERADE
-A NATCTL-POSTROUTING -d 10.88.0.2/32 -i br0 -o br0 -p tcp -m tcp --dport 443 -m comment --comment "natctl+:publish 192.0.2.1:8443 10.88.0.2:443 --proto tcp" -j MASQUERADE
COMMIT
"#;

#[test]
fn what_natctl_wrote_saves_and_restores_unchanged_nftables() {
    what_natctl_wrote_saves_and_restores_unchanged("nftables");
}

#[test]
fn what_natctl_wrote_saves_and_restores_unchanged_iptables() {
    what_natctl_wrote_saves_and_restores_unchanged("iptables");
}

/// Every kind of rule natctl writes, printed by the path's own save tool exactly as that tool
/// writes such rules, fed back to its restore tool, and saved again unchanged: the kernel
/// holds nothing the tool does not fully understand. natctl then reads what the tool wrote.
fn what_natctl_wrote_saves_and_restores_unchanged(via: &str) {
    let sb = Sandbox::new();
    sb.ok(NET);
    let (save, restore, want) = if via == "nftables" {
        (
            "nft list ruleset",
            "{ echo 'flush ruleset'; cat; } | nft -f -",
            SAVED_NFT,
        )
    } else {
        ("iptables-legacy-save", "iptables-legacy-restore", SAVED_XT)
    };
    let mut specs_want = vec![
        "masquerade 10.88.0.0/16 --not-out br0",
        "snat 10.90.0.0/16 --to 192.0.2.1",
        "publish 8080 10.88.0.2:80 --proto tcp",
        "publish 5000-5002 10.88.0.3:6000-6002 --proto udp --in wan0",
        "publish 192.0.2.1:8443 10.88.0.2:443 --proto tcp",
        "isolate br0 br1",
    ];
    for spec in &specs_want {
        let (kind, rest) = spec.split_once(' ').unwrap();
        natctl_ok(&sb, via, &format!("{kind} add {rest}"));
    }
    specs_want.sort();
    let sorted_specs = |what: &str| {
        let mut got = specs(&listed(&sb, via));
        got.sort();
        assert_eq!(got, specs_want, "--via {via} {what}");
    };
    sorted_specs("before the round trip");

    let saved = sb.ok(save);
    for bad in ["unsupported", "unknown", "invalid"] {
        assert!(!saved.contains(bad), "--via {via}: {bad:?} in\n{saved}");
    }
    let check = |saved: &str, want: &str, what: &str| {
        let got = tidy(saved);
        if via == "nftables" {
            assert!(
                got.starts_with("table ip natctl {\n") && got.ends_with(want),
                "--via {via} {what}: {save} printed\n{got}\nnot ending in\n{want}"
            );
        } else {
            assert_eq!(got, want, "--via {via} {what}: {save}");
        }
    };
    check(&saved, want, "as natctl wrote it");
    let o = sb.sh_input(restore, Some(&saved));
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "--via {via}: {restore} refused what {save} printed ({:?}):\n{}",
        o.status,
        text(&o.stderr)
    );
    let again = sb.ok(save);
    assert_eq!(
        tidy(&again),
        tidy(&saved),
        "--via {via}: {save} after {restore}"
    );
    check(&again, want, "after the round trip");
    sorted_specs("after the round trip");

    // natctl changes what the tool wrote: one rule and its helpers go, nothing else.
    natctl_ok(&sb, via, "publish del 192.0.2.1:8443 10.88.0.2:443");
    let rest: String = want
        .lines()
        .filter(|l| !l.contains("192.0.2.1:8443"))
        .map(|l| l.to_string() + "\n")
        .collect();
    check(&sb.ok(save), &rest, "after publish del");
    natctl_ok(&sb, via, "publish add 192.0.2.1:8443 10.88.0.2:443");
    sorted_specs("after the rule was deleted and added again");
}

#[test]
fn hairpin_and_neighbours_in_the_normal_order_nftables() {
    hairpin_and_neighbours_in_the_normal_order("nftables");
}

#[test]
fn hairpin_and_neighbours_in_the_normal_order_iptables() {
    hairpin_and_neighbours_in_the_normal_order("iptables");
}

/// Docker's order: the port is published as the container starts, before it has sent anything
/// (its address is in no neighbour table, its MAC in no FDB). Still the container reaches its
/// own published port through the host's address, and so does its neighbour on the same
/// bridge, whether br_netfilter hands bridged packets to the firewall or not; publishing again
/// is no error.
fn hairpin_and_neighbours_in_the_normal_order(via: &str) {
    for call in [1, 0] {
        let sb = Sandbox::new();
        sb.ok(NET);
        sb.ok(&format!(
            "sysctl -qw net.bridge.bridge-nf-call-iptables={call}"
        ));
        server(&sb, "tcp", "c1", 80);
        // Two publishes behind br0 in one call: what br0 needs is said once.
        let o = natctl_ok(
            &sb,
            via,
            "-b - <<'EOF'\npublish add 8080 10.88.0.2:80\npublish add 8081 10.88.0.3:81\nEOF",
        );
        let err = text(&o.stderr);
        let hairpin = |port: &str| sb.link(port).s("linkinfo.info_slave_data.hairpin");
        if call == 1 {
            // c1 is not known yet: every port of br0 gets hairpin, and natctl says so.
            assert!(
                err.contains("natctl: set hairpin on vc1 of br0 (10.88.0.2 is not yet known"),
                "--via {via}: {err}"
            );
            assert_eq!(hairpin("vc1"), "true");
            assert_eq!(hairpin("vc3"), "true");
            assert_eq!(
                err.matches("a port attached to br0 later needs hairpin")
                    .count(),
                1,
                "--via {via}: {err}"
            );
            assert_eq!(err.matches("set hairpin on vc1 of br0").count(), 1, "{err}");
        } else {
            // Routed, not bridged: no port needs hairpin.
            assert!(!err.contains("hairpin"), "--via {via}: {err}");
            assert_eq!(hairpin("vc1"), "false");
        }
        let what = format!("--via {via}, bridge-nf-call-iptables={call}");
        assert_eq!(
            connect(&sb, "c1", "192.0.2.1", 8080),
            "c1 sees 10.88.0.1",
            "{what}"
        );
        // The neighbour: with br_netfilter the answer is bridged back through conntrack
        // and c1 may see c3's own address; routed, natctl masquerades it.
        let seen = connect(&sb, "c3", "192.0.2.1", 8080);
        let want = if call == 1 {
            "c1 sees 10.88.0.3"
        } else {
            "c1 sees 10.88.0.1"
        };
        assert_eq!(seen, want, "{what}");
        assert_eq!(
            connect(&sb, "wan", "192.0.2.1", 8080),
            "c1 sees 192.0.2.2",
            "{what}"
        );
        // The same publish again (0.0.0.0 is every address, as without one) is done already.
        let before = state(&sb);
        for again in [
            "publish add 8080 10.88.0.2:80",
            "publish add 0.0.0.0:8080 10.88.0.2:80",
        ] {
            let o = natctl_ok(&sb, via, again);
            assert_eq!(
                text(&o.stderr),
                "natctl: note: publish 8080 10.88.0.2:80 --proto tcp is there already: nothing added\n",
                "{what}: {again}"
            );
            assert_eq!(state(&sb), before, "{what}: {again}");
        }
    }
}

#[test]
fn a_host_port_is_published_once_nftables() {
    a_host_port_is_published_once("nftables");
}

#[test]
fn a_host_port_is_published_once_iptables() {
    a_host_port_is_published_once("iptables");
}

/// A second publish of a host port held already can never match: refused, naming the holder
/// (per protocol and host address; every address overlaps each one), nothing changed.
fn a_host_port_is_published_once(via: &str) {
    let sb = Sandbox::new();
    sb.ok(NET);
    natctl_ok(&sb, via, "publish add 8080 10.88.0.2:80");
    natctl_ok(
        &sb,
        via,
        "publish add 192.0.2.1:9000-9010 10.88.0.2:9000-9010",
    );
    let before = state(&sb);
    for (args, holder) in [
        (
            "publish add 8080 10.88.0.3:80",
            "publish 8080 10.88.0.2:80 --proto tcp",
        ),
        (
            "publish add 8000-8090 10.88.0.3:80",
            "publish 8080 10.88.0.2:80 --proto tcp",
        ),
        (
            "publish add 192.0.2.1:8080 10.88.0.3:80",
            "publish 8080 10.88.0.2:80 --proto tcp",
        ),
        (
            "publish add 9010 10.88.0.3:80",
            "publish 192.0.2.1:9000-9010 10.88.0.2:9000-9010 --proto tcp",
        ),
        (
            "publish add 192.0.2.1:9005 10.88.0.3:80",
            "publish 192.0.2.1:9000-9010 10.88.0.2:9000-9010 --proto tcp",
        ),
    ] {
        let o = natctl(&sb, via, args);
        assert_eq!(o.status.code(), Some(1), "--via {via} {args}");
        assert_eq!(
            text(&o.stderr),
            format!(
                "natctl: {args}: its host port is already published by {holder} (see natctl list)\n"
            ),
            "--via {via} {args}"
        );
        assert_eq!(state(&sb), before, "--via {via} {args} changed the rules");
    }
    // Another protocol, another host address, ports beside the range: all free.
    for args in [
        "publish add 8080 10.88.0.3:80 --proto udp",
        "publish add 127.0.0.1:9005 10.88.0.3:80",
        "publish add 9011 10.88.0.3:80",
    ] {
        natctl_ok(&sb, via, args);
    }
    assert_eq!(listed(&sb, via).len(), 5, "--via {via}");
}

#[test]
fn nothing_is_left_once_nothing_is_held() {
    let sb = Sandbox::new();
    sb.ok(NET);
    sb.ok(OTHER_XT);
    let xt_before = masked(&xt_save(&sb));
    for via in VIAS {
        natctl_ok(
            &sb,
            via,
            "-b - <<'EOF'\nmasquerade add 10.88.0.0/16 --not-out br0\npublish add 8080 10.88.0.2:80\nisolate add br0 br1\nEOF",
        );
        let l = listed(&sb, via);
        let publish = l.iter().find(|r| r.s("kind") == "publish").unwrap();
        let id = publish.s("id");
        natctl_ok(&sb, via, "isolate del br0 br1");
        natctl_ok(&sb, via, "masquerade del 10.88.0.0/16 --not-out br0");
        if via == "iptables" {
            // filter holds nothing of natctl's any more: NATCTL-FORWARD and its jump went.
            let save = sb.ok("iptables-legacy-save");
            assert!(!save.contains("NATCTL-FORWARD"), "{save}");
            assert!(save.contains(":NATCTL "), "{save}");
        }
        natctl_ok(&sb, via, &format!("del {id}"));
        assert_eq!(listed(&sb, via).len(), 0);
        // The table went in the transaction of the last delete; the legacy chains and jumps too.
        assert_eq!(sb.ok("nft list tables"), "", "--via {via}");
        assert_eq!(masked(&xt_save(&sb)), xt_before, "--via {via}");
    }
}

#[test]
fn if_exists_deletes_of_what_is_gone_are_notes_nftables() {
    if_exists_deletes_of_what_is_gone_are_notes("nftables");
}

#[test]
fn if_exists_deletes_of_what_is_gone_are_notes_iptables() {
    if_exists_deletes_of_what_is_gone_are_notes("iptables");
}

/// A teardown run twice (CNI's DEL): `--if-exists` makes deleting what is gone a note, exit 0,
/// nothing changed; without it, it is the error it always was.
fn if_exists_deletes_of_what_is_gone_are_notes(via: &str) {
    let sb = Sandbox::new();
    sb.ok(NET);
    natctl_ok(&sb, via, "masquerade add 10.88.0.0/16");
    let before = state(&sb);
    for (args, note) in [
        (
            "publish del 8080 10.88.0.2:80 --if-exists",
            "publish 8080 10.88.0.2:80 --proto tcp is not there: nothing deleted",
        ),
        (
            "masquerade del --if-exists 10.99.0.0/16",
            "masquerade 10.99.0.0/16 is not there: nothing deleted",
        ),
        (
            "isolate del br0 br1 --if-exists",
            "isolate br0 br1 is not there: nothing deleted",
        ),
        (
            "del 12345 --if-exists",
            "no rule has id 12345: nothing deleted",
        ),
    ] {
        let o = natctl_ok(&sb, via, args);
        assert_eq!(
            text(&o.stderr),
            format!("natctl: note: {note}\n"),
            "--via {via} {args}"
        );
        assert_eq!(state(&sb), before, "--via {via} {args}");
        let without = args.replace(" --if-exists", "");
        let o = natctl(&sb, via, &without);
        assert_eq!(o.status.code(), Some(1), "--via {via} {without}");
        assert!(
            text(&o.stderr).contains("no such natctl rule"),
            "--via {via} {without}"
        );
    }
    // What is there is deleted as ever; a batch may mix both.
    natctl_ok(
        &sb,
        via,
        "-b - <<'EOF'\nmasquerade del 10.88.0.0/16 --if-exists\npublish del 8080 10.88.0.2:80 --if-exists\nEOF",
    );
    assert_eq!(listed(&sb, via).len(), 0);
    let o = natctl(&sb, via, "publish add 8080 10.88.0.2:80 --if-exists");
    assert_eq!(o.status.code(), Some(2), "--via {via}");
}

#[test]
fn an_isolated_set_of_bridges_nftables() {
    an_isolated_set_of_bridges("nftables");
}

#[test]
fn an_isolated_set_of_bridges_iptables() {
    an_isolated_set_of_bridges("iptables");
}

/// Docker's isolation: bridges join an isolated set one at a time (one rule each); what enters
/// from one bridge of the set may not leave by another, while a bridge outside the set and the
/// way out stay open. Real pings both ways, and the rules in nft's and iptables' own words.
fn an_isolated_set_of_bridges(via: &str) {
    let sb = Sandbox::new();
    sb.ok(NET);
    sb.ok("ip netns add c4; ip -n c4 link set lo up
           ip link add br2 type bridge; ip addr add 10.90.0.1/16 dev br2; ip link set br2 up
           ip link add vc4 type veth peer name eth0 netns c4; ip link set vc4 master br2 up
           ip -n c4 addr add 10.90.0.2/16 dev eth0; ip -n c4 link set eth0 up
           ip -n c4 route add default via 10.90.0.1");
    natctl_ok(&sb, via, "masquerade add 10.88.0.0/16 --not-out br0");
    let reach = |from: &str, to: &str| {
        sb.sh(&format!("ip netns exec {from} ping -c1 -W1 {to}"))
            .status
            .success()
    };
    let (c1, c2, c4, wan) = ("10.88.0.2", "10.89.0.2", "10.90.0.2", "192.0.2.2");
    let check = |want: &[(&str, &str, bool)], what: &str| {
        for (from, to, ok) in want {
            assert_eq!(reach(from, to), *ok, "--via {via} {what}: {from} -> {to}");
        }
    };
    check(&[("c1", c2, true), ("c2", c1, true)], "no isolation yet");
    natctl_ok(&sb, via, "isolate add br0");
    // One bridge alone isolates nothing.
    check(&[("c1", c2, true)], "br0 alone in the set");
    natctl_ok(&sb, via, "isolate add br1");
    check(
        &[
            ("c1", c2, false),
            ("c2", c1, false),
            ("c1", c4, true),
            ("c4", c2, true),
            ("c1", wan, true),
        ],
        "br0 and br1 in the set",
    );
    natctl_ok(&sb, via, "isolate add br2");
    check(
        &[("c1", c4, false), ("c4", c2, false), ("c1", wan, true)],
        "br0, br1 and br2 in the set",
    );
    // The rules: one jump and one drop per bridge, in the path's own words.
    if via == "nftables" {
        let ours = ruleset(&sb, "natctl");
        for br in ["br0", "br1", "br2"] {
            for want in [
                format!(
                    "iifname \"{br}\" oifname != \"{br}\" jump isolation comment \"natctl+:isolate {br}\""
                ),
                format!("oifname \"{br}\" counter packets"),
            ] {
                assert!(ours.contains(&want), "missing {want:?} in\n{ours}");
            }
        }
        let j = Jv::parse(&sb.ok("nft -j list chain ip natctl isolation"));
        let drops = j
            .at("nftables")
            .arr()
            .iter()
            .filter(|o| o.get("rule").is_some())
            .count();
        assert_eq!(drops, 3, "{}", j.to_json());
    } else {
        let save = sb.ok("iptables-legacy-save");
        let rule = |br: &str| {
            [
                format!("-A NATCTL-FORWARD -i {br} ! -o {br} -m comment --comment \"natctl+:isolate {br}\" -j NATCTL-ISOLATION"),
                format!("-A NATCTL-ISOLATION -o {br} -m comment --comment \"natctl:isolate {br}\" -j DROP"),
            ]
        };
        let (fwd, iso): (Vec<String>, Vec<String>) = ["br0", "br1", "br2"]
            .iter()
            .map(|b| rule(b))
            .map(|[a, b]| (a, b))
            .unzip();
        assert_eq!(
            chain_rules(&save, "filter", "NATCTL-FORWARD"),
            fwd,
            "{save}"
        );
        assert_eq!(
            chain_rules(&save, "filter", "NATCTL-ISOLATION"),
            iso,
            "{save}"
        );
    }
    let l = listed(&sb, via);
    let isolated: Vec<String> = specs(&l)
        .into_iter()
        .filter(|s| s.starts_with("isolate"))
        .collect();
    assert_eq!(isolated, ["isolate br0", "isolate br1", "isolate br2"]);
    let br1 = l.iter().find(|r| r.s("spec") == "isolate br1").unwrap();
    assert!(
        br1.s("packets").parse::<u64>().unwrap() >= 1,
        "{}",
        br1.to_json()
    );
    // Leaving the set: br0 reaches everyone again, br1 and br2 stay apart.
    natctl_ok(&sb, via, "isolate del br0");
    check(
        &[("c1", c2, true), ("c4", c1, true), ("c2", c4, false)],
        "br0 left the set",
    );
    let o = natctl(&sb, via, "isolate add nosuch");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        text(&o.stderr),
        "natctl: isolate add nosuch: no bridge (no interface) named nosuch\n"
    );
    // The last ones deleted: nothing of natctl's isolation is left.
    natctl_ok(&sb, via, "isolate add br0 br2");
    natctl_ok(&sb, via, "isolate del br1");
    natctl_ok(&sb, via, "isolate del br2");
    check(&[("c2", c4, true), ("c1", c4, false)], "the set emptied");
    assert!(!sb.ok("nft list ruleset").contains("isolation"));
    assert!(!sb.ok("iptables-legacy-save").contains("NATCTL-ISOLATION"));
}

/// The Docker bridge network of [`NET`] in IPv6 (IPv6 on, no DAD waits): wan
/// (2001:db8:ff::2) — host (wan0 2001:db8:ff::1; br0 fd00:88::1/64; br1 fd00:89::1/64) — c1
/// (fd00:88::2) and c3 (fd00:88::3) on br0, c2 (fd00:89::2) on br1. IPv4 as in [`NET`] too.
const NET6: &str = r#"
sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0
sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
sysctl -qw net.ipv6.conf.all.forwarding=1
ip link set lo up
for n in wan c1 c2 c3; do
  ip netns add $n; ip -n $n link set lo up
  ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
    net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
ip link add wan0 type veth peer name eth0 netns wan
ip addr add 192.0.2.1/24 dev wan0; ip addr add 2001:db8:ff::1/64 dev wan0 nodad; ip link set wan0 up
ip -n wan addr add 192.0.2.2/24 dev eth0; ip -n wan addr add 2001:db8:ff::2/64 dev eth0 nodad
ip -n wan link set eth0 up
for b in 0 1; do
  ip link add br$b type bridge; ip addr add 10.8$((8 + b)).0.1/16 dev br$b
  ip addr add fd00:8$((8 + b))::1/64 dev br$b nodad; ip link set br$b up
done
attach() {
  ip link add $2 type veth peer name eth0 netns $1; ip link set $2 master $3 up
  ip -n $1 addr add $4/16 dev eth0; ip -n $1 addr add $6/64 dev eth0 nodad
  ip -n $1 link set eth0 up; ip -n $1 route add default via $5; ip -n $1 -6 route add default via $7
}
attach c1 vc1 br0 10.88.0.2 10.88.0.1 fd00:88::2 fd00:88::1
attach c3 vc3 br0 10.88.0.3 10.88.0.1 fd00:88::3 fd00:88::1
attach c2 vc2 br1 10.89.0.2 10.89.0.1 fd00:89::2 fd00:89::1
sysctl -qw net.ipv4.ip_forward=1
"#;

#[test]
fn docker_bridge_in_ipv6_with_real_traffic_nftables() {
    for call in [1, 0] {
        docker_bridge_in_ipv6("nftables", call);
    }
}

#[test]
fn docker_bridge_in_ipv6_with_real_traffic_iptables() {
    for call in [1, 0] {
        docker_bridge_in_ipv6("iptables", call);
    }
}

/// natctl's IPv6 publishes of the scenario below as `ip6tables-legacy-save` prints them.
const SAVED_XT6_NATCTL: &str = r#"-A NATCTL -p tcp -m tcp --dport 8080 -m comment --comment "natctl:publish 8080 [fd00:88::2]:80 --proto tcp" -j DNAT --to-destination [fd00:88::2]:80
-A NATCTL -d 2001:db8:ff::1/128 -p tcp -m tcp --dport 8081 -m comment --comment "natctl:publish [2001:db8:ff::1]:8081 [fd00:88::2]:80 --proto tcp" -j DNAT --to-destination [fd00:88::2]:80
-A NATCTL -p udp -m udp --dport 5353 -m comment --comment "natctl:publish 5353 [fd00:88::2]:5353 --proto udp" -j DNAT --to-destination [fd00:88::2]:5353"#;

/// The IPv6 Docker scenario on kernel path `via`, with br_netfilter's bridge-nf-call-ip6tables
/// `call`:
/// outside to a published port (the client's own address seen), the way out masqueraded,
/// from the host (its own address; ::1 is not published and is refused at once), hairpin and
/// a neighbour in Docker's order, UDP flows forgotten on unpublish, isolation, a drop policy
/// in another ip6 table warned about; the rules read back with `nft -j list table ip6 natctl`
/// or `ip6tables-legacy-save` (exact lines, and restorable).
fn docker_bridge_in_ipv6(via: &str, call: u8) {
    let what = format!("--via {via}, bridge-nf-call-ip6tables={call}");
    let sb = Sandbox::new();
    sb.ok(NET6);
    sb.ok(&format!(
        "sysctl -qw net.bridge.bridge-nf-call-ip6tables={call}"
    ));
    server_on(&sb, 6, "tcp", "c1", 80);
    server_on(&sb, 6, "udp", "c1", 5353);
    server_on(&sb, 6, "tcp", "wan", 8000);
    server_on(&sb, 6, "tcp", "c2", 80);
    // Nothing yet.
    assert!(connect(&sb, "wan", "2001:db8:ff::1", 8080).starts_with("failed"));
    assert!(connect(&sb, "c1", "2001:db8:ff::2", 8000).starts_with("failed"));

    natctl_ok(&sb, via, "masquerade add fd00:88::/64 --not-out br0");
    let o = natctl_ok(&sb, via, "publish add 8080 [fd00:88::2]:80");
    let err = text(&o.stderr);
    if call == 1 {
        assert!(
            err.contains("natctl: set hairpin on vc1 of br0"),
            "{what}: {err}"
        );
    } else {
        assert!(!err.contains("hairpin"), "{what}: {err}");
    }
    // No route_localnet for IPv6: nothing of it is said or done.
    assert!(!err.contains("route_localnet"), "{what}: {err}");
    natctl_ok(
        &sb,
        via,
        "publish add [2001:db8:ff::1]:8081 [fd00:88::2]:80",
    );
    natctl_ok(
        &sb,
        via,
        "publish add [::]:5353 [fd00:88::2]:5353 --proto udp",
    );

    // Outside in: the container sees the client's own address.
    assert_eq!(
        connect(&sb, "wan", "2001:db8:ff::1", 8080),
        "c1 sees 2001:db8:ff::2",
        "{what}"
    );
    assert_eq!(
        connect(&sb, "wan", "2001:db8:ff::1", 8081),
        "c1 sees 2001:db8:ff::2",
        "{what}"
    );
    // Out: masqueraded behind the host's wan address.
    assert_eq!(
        connect(&sb, "c1", "2001:db8:ff::2", 8000),
        "wan sees 2001:db8:ff::1",
        "{what}"
    );
    // From the host to its own address; ::1 is not DNATed, so refused at once.
    assert_eq!(
        connect(&sb, "", "2001:db8:ff::1", 8080),
        "c1 sees 2001:db8:ff::1",
        "{what}"
    );
    assert_eq!(
        connect(&sb, "", "::1", 8080),
        "failed: ConnectionRefusedError",
        "{what}"
    );
    // Hairpin, and the neighbour (masqueraded when routed, its own address when bridged).
    assert_eq!(
        connect(&sb, "c1", "2001:db8:ff::1", 8080),
        "c1 sees fd00:88::1",
        "{what}"
    );
    let want = if call == 1 {
        "c1 sees fd00:88::3"
    } else {
        "c1 sees fd00:88::1"
    };
    assert_eq!(connect(&sb, "c3", "2001:db8:ff::1", 8080), want, "{what}");
    // A container of another bridge.
    assert!(
        connect(&sb, "c2", "2001:db8:ff::1", 8080).starts_with("c1 sees"),
        "{what}"
    );

    // UDP: a flow from a fixed port reaches c1; unpublishing forgets it.
    assert_eq!(
        ask(&sb, "wan", "udp", 40000, "2001:db8:ff::1", 5353),
        "c1 sees 2001:db8:ff::2",
        "{what}"
    );
    let flows = |sb: &Sandbox| {
        sb.ok("conntrack -L -f ipv6 -p udp --dport 5353 2>/dev/null")
            .lines()
            .count()
    };
    assert_eq!(flows(&sb), 1, "{what}");

    if via == "iptables" {
        // The rules, in ip6tables' own words; what it saved it restores, unchanged.
        let save = sb.ok("ip6tables-legacy-save");
        assert_eq!(
            chain_rules(&save, "nat", "NATCTL").join("\n"),
            SAVED_XT6_NATCTL,
            "{what}"
        );
        assert_eq!(
            chain_rules(&save, "nat", "OUTPUT"),
            [
                r#"-A OUTPUT ! -d ::1/128 -m addrtype --dst-type LOCAL -m comment --comment "natctl:base" -j NATCTL"#
            ],
            "{what}"
        );
        let post = chain_rules(&save, "nat", "NATCTL-POSTROUTING");
        for want in [
            r#"-A NATCTL-POSTROUTING -s fd00:88::/64 ! -o br0 -m comment --comment "natctl:masquerade fd00:88::/64 --not-out br0" -j MASQUERADE"#,
            r#"-A NATCTL-POSTROUTING -d fd00:88::2/128 -i br0 -o br0 -p tcp -m tcp --dport 80 -m comment --comment "natctl+:publish 8080 [fd00:88::2]:80 --proto tcp" -j MASQUERADE"#,
        ] {
            assert!(post.contains(&want), "{what}: missing {want:?} in\n{save}");
        }
        // With its counters (-c), so the counts list shows below survive the round trip.
        let counted = sb.ok("ip6tables-legacy-save -c");
        let o = sb.sh_input("ip6tables-legacy-restore -c", Some(&counted));
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "{what}: {}",
            text(&o.stderr)
        );
        let tidy_save = |s: &str| -> Vec<String> {
            s.lines()
                .filter(|l| !l.starts_with('#'))
                .map(|l| uncount(l).0)
                .collect()
        };
        assert_eq!(
            tidy_save(&sb.ok("ip6tables-legacy-save -c")),
            tidy_save(&counted),
            "{what}"
        );
        assert!(!sb.ok("nft list tables").contains("natctl"), "{what}");
    }
    // The rules, in nft's own JSON: the ip6 table holds the DNAT to [fd00:88::2]:80.
    let j = Jv::parse(&if via == "nftables" {
        sb.ok("nft -j list table ip6 natctl")
    } else {
        r#"{"nftables": []}"#.to_string()
    });
    let rules: Vec<String> = j
        .at("nftables")
        .arr()
        .iter()
        .filter_map(|o| o.get("rule").map(|r| r.to_json()))
        .collect();
    let dnat = rules
        .iter()
        .find(|r| r.contains("\"dnat\"") && r.contains("8081"))
        .cloned()
        .unwrap_or_else(|| {
            // Checked in ip6tables' words above.
            assert_eq!(via, "iptables", "{what}: no dnat of 8081 in {rules:?}");
            r#""dnat":{"addr":"fd00:88::2","port":80}, "right":"2001:db8:ff::1""#.into()
        });
    for want in [
        r#""dnat":{"addr":"fd00:88::2","port":80}"#,
        r#""right":"2001:db8:ff::1""#,
    ] {
        assert!(dnat.contains(want), "{what}: {want} not in {dnat}");
    }
    let l = listed(&sb, via);
    let p = l
        .iter()
        .find(|r| r.s("spec") == "publish 8080 [fd00:88::2]:80 --proto tcp")
        .unwrap_or_else(|| panic!("{what}: {:?}", specs(&l)));
    assert!(
        p.s("packets").parse::<u64>().unwrap() >= 3,
        "{}",
        p.to_json()
    );
    // IPv6 ids are apart from IPv4 ones (handles count per table).
    if via == "nftables" {
        assert!(
            p.s("id").parse::<u64>().unwrap() > 1_000_000_000,
            "{}",
            p.to_json()
        );
    }
    assert_eq!(p.s("match"), "tcp dport 8080");
    assert_eq!(p.s("target"), "dnat to [fd00:88::2]:80");

    let o = natctl_ok(&sb, via, "publish del 5353 [fd00:88::2]:5353 --proto udp");
    assert!(
        text(&o.stderr).contains(
            "natctl: removed 1 conntrack entries of publish 5353 [fd00:88::2]:5353 --proto udp"
        ),
        "{what}: {}",
        text(&o.stderr)
    );
    assert_eq!(flows(&sb), 0, "{what}");

    // Isolation holds for IPv6: c2 on br1 reached c1 before, not after.
    assert!(
        connect(&sb, "c2", "fd00:88::2", 80).starts_with("c1 sees"),
        "{what}"
    );
    natctl_ok(&sb, via, "isolate add br0 br1");
    assert!(
        connect(&sb, "c2", "fd00:88::2", 80).starts_with("failed"),
        "{what}"
    );
    assert!(
        connect(&sb, "c1", "fd00:89::2", 80).starts_with("failed"),
        "{what}"
    );
    natctl_ok(&sb, via, "isolate del br0 br1");
    natctl_ok(&sb, via, "isolate add br0");
    natctl_ok(&sb, via, "isolate add br1");
    assert!(
        connect(&sb, "c2", "fd00:88::2", 80).starts_with("failed"),
        "{what}"
    );

    // A drop policy in another ip6 table's forward chain is warned about.
    sb.ok("nft add table ip6 fw
           nft add chain ip6 fw fw1 '{ type filter hook forward priority 0; policy drop; }'");
    let o = natctl_ok(&sb, via, "snat add fd00:89::/64 --to 2001:db8:ff::1");
    assert!(
        text(&o.stderr).contains(
            "natctl: warning: table ip6 fw, chain fw1 (hook forward, priority 0) has policy drop"
        ),
        "{what}: {}",
        text(&o.stderr)
    );
    sb.ok("nft delete table ip6 fw");

    // Deleting every rule leaves neither table.
    natctl_ok(
        &sb,
        via,
        "-b - <<'EOF'
masquerade del fd00:88::/64 --not-out br0
snat del fd00:89::/64 --to 2001:db8:ff::1
publish del 8080 [fd00:88::2]:80
publish del [2001:db8:ff::1]:8081 [fd00:88::2]:80
isolate del br0
isolate del br1
EOF",
    );
    assert_eq!(sb.ok("nft list tables"), "", "{what}");
    for save in ["iptables-legacy-save", "ip6tables-legacy-save"] {
        let s = sb.ok(save);
        assert!(
            !s.contains("natctl") && !s.contains("NATCTL"),
            "{what}: {save}:\n{s}"
        );
    }
}

#[test]
fn ipv6_input_is_checked_on_both_paths() {
    let sb = Sandbox::new();
    sb.ok(NET);
    for via in VIAS {
        for (args, code, says) in [
            (
                "publish add [::1]:8080 [fd00:88::2]:80",
                2,
                "[::1] cannot be published",
            ),
            (
                "publish add 192.0.2.1:8080 [fd00:88::2]:80",
                2,
                "different address families",
            ),
            ("publish add 8080 fd00:88::2:80", 2, "expected DEST:PORT"),
            ("publish add fd00::1:8080 [fd00:88::2]:80", 2, "in brackets"),
            (
                "snat add fd00:88::/64 --to 192.0.2.1",
                2,
                "different address families",
            ),
            (
                "masquerade add fd00:88::1/64",
                2,
                "host bits set; the subnet is fd00:88::/64",
            ),
            ("masquerade add fd00:88::/129", 2, "(0 to 128)"),
        ] {
            let o = natctl(&sb, via, args);
            let err = text(&o.stderr);
            assert_eq!(o.status.code(), Some(code), "--via {via} {args}: {err}");
            assert!(
                err.contains(says) && err.lines().count() == 1,
                "--via {via} {args}: {err}"
            );
        }
    }
    assert_eq!(sb.ok("nft list tables"), "");
}

#[test]
fn ipv4_and_ipv6_rules_live_side_by_side() {
    let sb = Sandbox::new();
    sb.ok(NET);
    for via in VIAS {
        // Adds that read no rules (masquerade, snat, isolate) must not touch the other
        // family's table; deletes take only their own.
        for args in [
            "masquerade add 10.88.0.0/16 --not-out br0",
            "masquerade add fd00:88::/64 --not-out br0",
            "snat add fd00:89::/64 --to 2001:db8:ff::1",
            "isolate add br0 br1",
            "masquerade add 10.89.0.0/16 --not-out br1",
        ] {
            natctl_ok(&sb, via, args);
        }
        let mut got = specs(&listed(&sb, via));
        got.sort();
        assert_eq!(
            got,
            [
                "isolate br0 br1",
                "masquerade 10.88.0.0/16 --not-out br0",
                "masquerade 10.89.0.0/16 --not-out br1",
                "masquerade fd00:88::/64 --not-out br0",
                "snat fd00:89::/64 --to 2001:db8:ff::1",
            ],
            "--via {via}"
        );
        natctl_ok(&sb, via, "masquerade del fd00:88::/64 --not-out br0");
        natctl_ok(&sb, via, "snat del fd00:89::/64 --to 2001:db8:ff::1");
        natctl_ok(&sb, via, "isolate del br0 br1");
        let mut got = specs(&listed(&sb, via));
        got.sort();
        assert_eq!(
            got,
            [
                "masquerade 10.88.0.0/16 --not-out br0",
                "masquerade 10.89.0.0/16 --not-out br1"
            ],
            "--via {via}"
        );
        if via == "nftables" {
            assert_eq!(sb.ok("nft list tables"), "table ip natctl\n");
        } else {
            let s = sb.ok("ip6tables-legacy-save");
            assert!(!s.contains("NATCTL"), "{s}");
        }
        natctl_ok(&sb, via, "-b - <<'EOF'\nmasquerade del 10.88.0.0/16 --not-out br0\nmasquerade del 10.89.0.0/16 --not-out br1\nEOF");
        assert_eq!(listed(&sb, via).len(), 0, "--via {via}");
    }
    assert_eq!(sb.ok("nft list tables"), "");
}

#[test]
fn ten_thousand_publishes_listed_and_deleted_nftables() {
    ten_thousand_publishes_listed_and_deleted("nftables");
}

#[test]
fn ten_thousand_publishes_listed_and_deleted_iptables() {
    ten_thousand_publishes_listed_and_deleted("iptables");
}

/// 10,000 publishes in one batch: each listed once with its own counters and id, a port
/// among them refused to another, traffic to one of them counted on it alone, half deleted
/// by spec and one by id, and the rest in a second batch, after which nothing is left.
fn ten_thousand_publishes_listed_and_deleted(via: &str) {
    let sb = Sandbox::new();
    sb.ok(NET);
    server(&sb, "tcp", "c1", 80);
    let spec = |i: u32| format!("{} 10.88.{}.{}:80", 10000 + i, i / 250, i % 250 + 2);
    sb.ok(
        "for i in $(seq 0 9999); do echo \"publish add $((10000 + i)) 10.88.$((i / 250)).$((i % 250 + 2)):80\"; done >/run/add
         for i in $(seq 0 2 9999); do echo \"publish del $((10000 + i)) 10.88.$((i / 250)).$((i % 250 + 2)):80\"; done >/run/del-even
         for i in $(seq 1 2 9999); do echo \"publish del $((10000 + i)) 10.88.$((i / 250)).$((i % 250 + 2)):80\"; done >/run/del-odd",
    );
    let o = sb.sh(&format!("timeout 120 $NATCTL --via {via} -b /run/add"));
    assert!(o.status.success(), "--via {via}: {}", text(&o.stderr));
    let l = listed(&sb, via);
    assert_eq!(l.len(), 10000, "--via {via}");
    let mut got = specs(&l);
    got.sort();
    let mut want: Vec<String> = (0..10000)
        .map(|i| format!("publish {} --proto tcp", spec(i)))
        .collect();
    want.sort();
    assert_eq!(got, want, "--via {via}");
    let mut ids: Vec<String> = l.iter().map(|r| r.s("id")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10000, "--via {via}: ids are not distinct");
    if via == "nftables" {
        let j = Jv::parse(&sb.ok("nft -j list map ip natctl publish-tcp"));
        let elems = j.at("nftables").arr()[1].at("map").at("elem").arr().len();
        assert_eq!(elems, 10000, "--via {via}");
    } else {
        let save = sb.ok("iptables-legacy-save -t nat");
        assert_eq!(chain_rules(&save, "nat", "NATCTL").len(), 10000);
    }

    // A held port is refused to another publish, naming its holder.
    let o = natctl(&sb, via, "publish add 12345-12346 10.88.9.9:80");
    assert_eq!(o.status.code(), Some(1), "--via {via}");
    let err = text(&o.stderr);
    assert!(
        [2345, 2346].iter().any(|&i| err.contains(&format!(
            "already published by publish {} --proto tcp (see natctl list)",
            spec(i)
        ))),
        "--via {via}: {err}"
    );

    // Traffic to one publish counts on it alone (10000 goes to c1, 10.88.0.2:80).
    assert_eq!(connect(&sb, "wan", "192.0.2.1", 10000), "c1 sees 192.0.2.2");
    let l = listed(&sb, via);
    let counted: Vec<&Jv> = l
        .iter()
        .filter(|r| r.s("packets").parse::<u64>().unwrap() > 0)
        .collect();
    assert_eq!(counted.len(), 1, "--via {via}");
    assert_eq!(
        counted[0].s("spec"),
        format!("publish {} --proto tcp", spec(0))
    );

    // Half by spec in one batch, one by id, the rest in another batch.
    let o = sb.sh(&format!("timeout 120 $NATCTL --via {via} -b /run/del-even"));
    assert!(o.status.success(), "--via {via}: {}", text(&o.stderr));
    let l = listed(&sb, via);
    assert_eq!(l.len(), 5000, "--via {via}");
    let one = l
        .iter()
        .find(|r| r.s("spec") == format!("publish {} --proto tcp", spec(1)))
        .unwrap();
    natctl_ok(&sb, via, &format!("del {}", one.s("id")));
    let l = listed(&sb, via);
    assert_eq!(l.len(), 4999, "--via {via}");
    assert!(l
        .iter()
        .all(|r| r.s("spec") != format!("publish {} --proto tcp", spec(1))));
    let o = sb.sh(&format!(
        "grep -v ' {} ' /run/del-odd >/run/del-rest && timeout 120 $NATCTL --via {via} -b /run/del-rest",
        10001
    ));
    assert!(o.status.success(), "--via {via}: {}", text(&o.stderr));
    assert_eq!(listed(&sb, via).len(), 0, "--via {via}");
    assert_eq!(sb.ok("nft list tables"), "", "--via {via}");
    assert!(
        !sb.ok("iptables-legacy-save").contains("NATCTL"),
        "--via {via}"
    );
}
