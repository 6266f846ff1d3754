//! natctl on nf_tables, against the real kernel: Docker's bridge network with real TCP between
//! namespaces, `nft -j list ruleset` as the oracle for what is in the kernel, and another
//! tool's table that must come through every natctl command unchanged.

mod common;
use common::*;

/// wan (192.0.2.2) — host (wan0 192.0.2.1; br0 10.88.0.1/16; br1 10.89.0.1/16) — c1 on br0
/// (10.88.0.2), c2 on br1 (10.89.0.2). Forwarding on; nothing else.
const NET: &str = r#"
ip link set lo up
for n in wan c1 c2; do ip netns add $n; ip -n $n link set lo up; done
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
attach c2 vc2 br1 10.89.0.2 10.89.0.1
sysctl -qw net.ipv4.ip_forward=1
"#;

/// A TCP server in namespace `ns` on `port` that answers each connection with
/// "NS sees PEER-ADDRESS" and ends by itself after 30 s.
fn server(sb: &Sandbox, ns: &str, port: u16) {
    sb.ok(&format!(
        r#"ip netns exec {ns} timeout 30 python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", {port})); s.listen(8)
while True:
    c, a = s.accept(); c.sendall(("{ns} sees %s\n" % a[0]).encode()); c.close()
' >/dev/null 2>&1 &
        i=0; until ip netns exec {ns} ss -ltn | grep -q ":{port} "; do
          i=$((i+1)); [ $i -lt 200 ] || exit 1; sleep 0.02; done"#
    ));
}

/// What a client in `ns` ("" = the host) hears from ADDR:PORT, or the error.
fn connect(sb: &Sandbox, ns: &str, addr: &str, port: u16) -> String {
    let pre = if ns.is_empty() {
        String::new()
    } else {
        format!("ip netns exec {ns} ")
    };
    let o = sb.sh(&format!(
        r#"{pre}python3 -c '
import socket
try:
    s = socket.create_connection(("{addr}", {port}), timeout=2); print(s.recv(100).decode().strip())
except Exception as e:
    print("failed:", type(e).__name__)
'"#
    ));
    text(&o.stdout).trim().to_string()
}

fn natctl(sb: &Sandbox, args: &str) -> std::process::Output {
    sb.sh(&format!("$NATCTL {args}"))
}

fn natctl_ok(sb: &Sandbox, args: &str) -> String {
    sb.ok(&format!("$NATCTL {args}"))
}

/// Another tool's ruleset: an nf_tables table with a forward chain and a nat rule of its own.
const OTHER: &str = r#"nft -f - <<'EOF'
table ip other {
  chain fw { type filter hook forward priority 10; policy accept; ip saddr 203.0.113.0/24 counter drop; }
  chain pre { type nat hook prerouting priority -90; tcp dport 9999 counter dnat to 10.88.0.9:99; }
}
EOF"#;

fn ruleset(sb: &Sandbox, table: &str) -> String {
    sb.ok(&format!("nft list table ip {table}"))
}

#[test]
fn docker_bridge_with_real_traffic() {
    let sb = Sandbox::new();
    sb.ok(NET);
    sb.ok(OTHER);
    let other = ruleset(&sb, "other");
    server(&sb, "c1", 80);
    server(&sb, "c2", 80);
    server(&sb, "wan", 8000);

    // Nothing yet: wan has no way to the containers, and they none out.
    assert!(connect(&sb, "wan", "192.0.2.1", 8080).starts_with("failed"));
    assert!(connect(&sb, "c1", "192.0.2.2", 8000).starts_with("failed"));

    natctl_ok(&sb, "masquerade add 10.88.0.0/16 --not-out br0");
    natctl_ok(&sb, "masquerade add 10.89.0.0/16 --not-out br1");
    natctl_ok(&sb, "publish add 8080 10.88.0.2:80");
    // The container sees wan's own address (DNAT keeps the client's).
    assert_eq!(connect(&sb, "wan", "192.0.2.1", 8080), "c1 sees 192.0.2.2");
    // On the way out the container is masqueraded behind the host's wan address.
    assert_eq!(connect(&sb, "c1", "192.0.2.2", 8000), "wan sees 192.0.2.1");
    // From the host itself, to its own address (the output hook).
    assert_eq!(connect(&sb, "", "192.0.2.1", 8080), "c1 sees 192.0.2.1");
    // Hairpin: c2 reaches c1's published port through the host's address.
    assert!(connect(&sb, "c2", "192.0.2.1", 8080).starts_with("c1 sees"));

    // Isolation: c2 (br1) reached c1 (br0) before; not after, in either direction.
    assert!(connect(&sb, "c2", "10.88.0.2", 80).starts_with("c1 sees"));
    natctl_ok(&sb, "isolate add br1 br0");
    assert!(connect(&sb, "c2", "10.88.0.2", 80).starts_with("failed"));
    assert!(connect(&sb, "c1", "10.89.0.2", 80).starts_with("failed"));

    // The kernel holds what we meant, in nft's own words.
    let ours = ruleset(&sb, "natctl");
    for want in [
        r#"ip saddr 10.88.0.0/16 oifname != "br0" counter"#,
        "masquerade comment \"natctl:masquerade 10.88.0.0/16 --not-out br0\"",
        "tcp dport 8080 counter",
        "dnat to 10.88.0.2:80",
        r#"iifname "br0" oifname "br1" counter"#,
        r#"iifname "br1" oifname "br0" counter"#,
        "fib daddr type local jump publish",
    ] {
        assert!(ours.contains(want), "missing {want:?} in\n{ours}");
    }
    let j = Jv::parse(&sb.ok("nft -j list ruleset"));
    let tables: Vec<String> = j
        .at("nftables")
        .arr()
        .iter()
        .filter_map(|o| o.get("table").map(|t| t.s("name")))
        .collect();
    assert_eq!(tables, ["other", "natctl"]);

    // list: each rule once, with counters that saw the traffic.
    let l = Jv::parse(&natctl_ok(&sb, "list -j"));
    let specs: Vec<String> = l.arr().iter().map(|r| r.s("spec")).collect();
    assert_eq!(
        specs,
        [
            "masquerade 10.88.0.0/16 --not-out br0",
            "masquerade 10.89.0.0/16 --not-out br1",
            "publish 8080 10.88.0.2:80 --proto tcp",
            "isolate br0 br1",
        ]
    );
    let publish = &l.arr()[2];
    assert!(
        publish.s("packets").parse::<u64>().unwrap() >= 3,
        "{}",
        l.to_json()
    );

    // Unpublish: wan no longer gets in; the other table never changed.
    natctl_ok(&sb, "publish del 8080 10.88.0.2:80");
    assert!(connect(&sb, "wan", "192.0.2.1", 8080).starts_with("failed"));
    let id = l.arr()[3].s("id");
    natctl_ok(&sb, &format!("del {id}"));
    assert!(connect(&sb, "c2", "10.88.0.2", 80).starts_with("c1 sees"));
    assert_eq!(ruleset(&sb, "other"), other);

    natctl_ok(&sb, "flush");
    assert_eq!(sb.ok("nft list tables"), "table ip other\n");
    assert_eq!(ruleset(&sb, "other"), other);
    // A second flush has nothing to do and says nothing.
    assert_eq!(natctl_ok(&sb, "flush"), "");
}

#[test]
fn bad_input_and_conflicts_change_nothing() {
    let sb = Sandbox::new();
    sb.ok(NET);
    sb.ok(OTHER);
    natctl_ok(&sb, "masquerade add 10.88.0.0/16 --not-out br0");
    let before = sb.ok("nft list ruleset");
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
        ("del 12345", 1, "no such natctl rule"),
        ("del x", 2, "bad id"),
        ("frobnicate", 2, "unknown command"),
    ] {
        let o = natctl(&sb, args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "natctl {args}: {err}");
        assert!(
            err.starts_with("natctl: ") && err.contains(says) && err.lines().count() == 1,
            "natctl {args}: {err}"
        );
        assert_eq!(
            sb.ok("nft list ruleset"),
            before,
            "natctl {args} changed the ruleset"
        );
    }

    // A batch is one transaction: one bad line, and nothing of the file happens.
    let o = sb.sh(
        "printf 'publish add 8081 10.88.0.2:81\\nmasquerade add 10.88.0.0/16 --not-out br0\\n' | $NATCTL -b -",
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("nothing in the file was applied"));
    assert_eq!(sb.ok("nft list ruleset"), before);
    // The same file without the bad line: all of it.
    natctl_ok(
        &sb,
        "-b - <<'EOF'\npublish add 8081 10.88.0.2:81\n# a comment\nisolate add br0 br1\nEOF",
    );
    let l = Jv::parse(&natctl_ok(&sb, "list -j"));
    assert_eq!(l.arr().len(), 3);

    // --dry-run sends nothing; --explain decodes each message.
    let now = sb.ok("nft list ruleset");
    let o = natctl(&sb, "--dry-run publish add 9000 10.88.0.3:90");
    assert!(o.status.success());
    assert!(text(&o.stderr).contains("NFT_MSG_NEWRULE"));
    assert_eq!(sb.ok("nft list ruleset"), now);
    let o = natctl(&sb, "--explain publish add 9000 10.88.0.3:90");
    let err = text(&o.stderr);
    for want in [
        "NFNL_MSG_BATCH_BEGIN",
        "[ nat ]",
        "NFTA_NAT_TYPE",
        "ACK: committed",
    ] {
        assert!(err.contains(want), "missing {want:?} in\n{err}");
    }
}

#[test]
fn fifty_at_once_leave_fifty_rules() {
    let sb = Sandbox::new();
    sb.ok(NET);
    sb.ok("for i in $(seq 1 50); do $NATCTL publish add $((9000 + i)) 10.88.0.2:80 & done; wait");
    let l = Jv::parse(&natctl_ok(&sb, "list -j"));
    assert_eq!(l.arr().len(), 50);
    // One table, one jump in each of prerouting and output: nobody made them twice.
    let ours = ruleset(&sb, "natctl");
    assert_eq!(ours.matches("jump publish").count(), 2, "{ours}");
    assert_eq!(ours.matches("dnat to 10.88.0.2:80").count(), 50);
}

#[test]
fn a_batch_that_adds_and_deletes_a_rule_leaves_none() {
    let sb = Sandbox::new();
    sb.ok(NET);
    natctl_ok(&sb, "masquerade add 10.88.0.0/16");
    natctl_ok(
        &sb,
        "-b - <<'EOF'\npublish add 8082 10.88.0.2:82\nisolate add br0 br1\npublish del 8082 10.88.0.2:82\nEOF",
    );
    let specs: Vec<String> = Jv::parse(&natctl_ok(&sb, "list -j"))
        .arr()
        .iter()
        .map(|r| r.s("spec"))
        .collect();
    assert_eq!(specs, ["masquerade 10.88.0.0/16", "isolate br0 br1"]);
    assert!(!ruleset(&sb, "natctl").contains("8082"));
}
