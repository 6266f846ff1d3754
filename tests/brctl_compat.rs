//! Output compatibility: our brctl against bridge-utils' brctl on the same kernel state, on
//! every --via path. Each test builds its topology in a sandbox of its own.

mod common;
use common::*;

const VIAS: [&str; 3] = ["netlink", "ioctl", "sysfs"];

/// Runs `cmd` with bridge-utils and with ours on each path; the outputs (stdout, stderr, exit
/// status) must be identical, running timers masked.
fn same_as_bridge_utils(sb: &Sandbox, cmd: &str) {
    let reference = sb.sh(&format!("brctl {cmd}"));
    for via in VIAS {
        let ours = sb.sh(&format!("$BRCTL --via {via} {cmd}"));
        assert_eq!(
            (
                mask_timers(&text(&ours.stdout)),
                text(&ours.stderr),
                ours.status.code()
            ),
            (
                mask_timers(&text(&reference.stdout)),
                text(&reference.stderr),
                reference.status.code()
            ),
            "brctl {cmd} --via {via} differs from bridge-utils"
        );
    }
}

#[test]
fn no_bridges_prints_nothing() {
    let sb = Sandbox::new();
    same_as_bridge_utils(&sb, "show");
    assert_eq!(sb.ok("$BRCTL show"), "");
}

#[test]
fn empty_bridge_and_several_bridges() {
    let sb = Sandbox::new();
    sb.ok("$BRCTL addbr br0");
    same_as_bridge_utils(&sb, "show");
    same_as_bridge_utils(&sb, "show br0");
    sb.ok("ip link add v1a type veth peer name v1b; ip link add v2a type veth peer name v2b; ip link add v3a type veth peer name v3b
           $BRCTL addif br0 v3a v1a v2a; $BRCTL addbr br10; $BRCTL addbr br2; $BRCTL addbr Bz; $BRCTL addbr averyveryverylo
           $BRCTL stp br2 on; $BRCTL addif br2 v1b");
    same_as_bridge_utils(&sb, "show");
    same_as_bridge_utils(&sb, "show br2 br0");
    same_as_bridge_utils(&sb, "show br0 nosuch br2");
    same_as_bridge_utils(&sb, "show lo");
    same_as_bridge_utils(&sb, "showstp br0");
    same_as_bridge_utils(&sb, "showstp br2");
    same_as_bridge_utils(&sb, "showstp nosuch");
    same_as_bridge_utils(&sb, "showstp v1a");
    same_as_bridge_utils(&sb, "showmacs br0");
    same_as_bridge_utils(&sb, "showmacs nosuch");
    same_as_bridge_utils(&sb, "showmacs v1a");
    same_as_bridge_utils(&sb, "showmacs lo");
}

/// Makes veth pairs `{a}{i}`/`{b}{i}` for `i` in 1..=n.
fn veths(sb: &Sandbox, a: &str, b: &str, n: usize) {
    let mut s = String::new();
    for i in 1..=n {
        s.push_str(&format!("ip link add {a}{i} type veth peer name {b}{i}\n"));
    }
    sb.ok(&s);
}

#[test]
fn one_bridge_with_many_ports() {
    let sb = Sandbox::new();
    veths(&sb, "p", "q", 12);
    sb.ok("$BRCTL addbr br0
           $BRCTL addif br0 p7 p1 p12 p3 p10 p2 p11 p4 p9 p5 p8 p6
           for i in 1 2 3 4 5 6; do ip link set q$i up; ip link set p$i up; done
           ip link set br0 up");
    // bridge-utils sorts the ports by name (p1 p10 p11 p12 p2 ...): 12 rows, one per port.
    let reference = sb.ok("brctl show br0");
    assert_eq!(reference.lines().count(), 13, "{reference}");
    assert!(
        reference.contains("\tp1\n\t\t\t\t\t\t\tp10\n"),
        "{reference}"
    );
    same_as_bridge_utils(&sb, "show");
    same_as_bridge_utils(&sb, "show br0");
    same_as_bridge_utils(&sb, "showstp br0");
    same_as_bridge_utils(&sb, "showmacs br0");
    // The ports up are forwarding (STP off), the others disabled, in both outputs.
    let stp = sb.ok("brctl showstp br0");
    assert_eq!(stp.matches("     forwarding\n").count(), 6, "{stp}");
    assert_eq!(stp.matches("       disabled\n").count(), 6, "{stp}");
    // Every port's local address is in the table: 12 rows and the header.
    assert_eq!(sb.ok("brctl showmacs br0").lines().count(), 13);
}

#[test]
fn fifteen_character_bridge_and_port_names() {
    let sb = Sandbox::new();
    sb.ok(
        "ip link add port-name-15-abc type veth peer name peer-name-15-xy
           ip link add z0123456789abcd type veth peer name z0123456789abce
           $BRCTL addbr bridge-name-15c; $BRCTL addbr a23456789012345
           $BRCTL addif bridge-name-15c port-name-15-abc z0123456789abcd
           $BRCTL addif a23456789012345 peer-name-15-xy
           $BRCTL stp a23456789012345 on",
    );
    let names = sb.ok("ip -br link show type bridge");
    assert!(
        names.contains("bridge-name-15c ") && names.contains("a23456789012345 "),
        "{names}"
    );
    same_as_bridge_utils(&sb, "show");
    same_as_bridge_utils(&sb, "show bridge-name-15c a23456789012345");
    same_as_bridge_utils(&sb, "showstp bridge-name-15c");
    same_as_bridge_utils(&sb, "showstp a23456789012345");
    same_as_bridge_utils(&sb, "showmacs bridge-name-15c");
    same_as_bridge_utils(&sb, "showmacs a23456789012345");
}

#[test]
fn stp_on() {
    let sb = Sandbox::new();
    veths(&sb, "v", "w", 3);
    sb.ok(
        "$BRCTL addbr br0; $BRCTL addbr br1; $BRCTL stp br0 on; $BRCTL stp br1 on
         $BRCTL setfd br0 30; $BRCTL setfd br1 30
         $BRCTL setbridgeprio br1 4096; $BRCTL sethello br1 1
         $BRCTL addif br0 v1 v2; $BRCTL addif br1 w1 w2 v3
         ip link set br0 up; ip link set br1 up
         ip link set v1 up; ip link set w1 up",
    );
    // br0 and br1 are linked by the pair v1-w1: br0 takes br1 (priority 4096) as its root
    // when br1's first hello arrives (within 1 s). Wait for that, as ip sees it, so that STP
    // has settled for the next 30 s (the forward delay) while the outputs are compared.
    sb.ok("for i in $(seq 200); do
             ip -j -d link show dev br0 | grep -q '\"root_port\":1,' && exit 0; sleep 0.05
           done; exit 1");
    // (iproute2 6.1 prints the bridge's own id as its root_id: read the port's instead.)
    assert_eq!(
        sb.link("v1").s("linkinfo.info_slave_data.root_id"),
        sb.link("br1").s("linkinfo.info_data.bridge_id")
    );
    let show = sb.ok("brctl show");
    assert_eq!(show.matches("\tyes\t\t").count(), 2, "{show}");
    same_as_bridge_utils(&sb, "show");
    same_as_bridge_utils(&sb, "showstp br0");
    same_as_bridge_utils(&sb, "showstp br1");
    same_as_bridge_utils(&sb, "showmacs br1");
    let stp = sb.ok("brctl showstp br1");
    assert!(stp.contains(" bridge id\t\t1000."), "{stp}");
    let stp = sb.ok("brctl showstp br0");
    assert!(stp.contains(" designated root\t1000."), "{stp}");
    assert!(stp.contains(" root port\t\t   1\t"), "{stp}");
}

/// `showmacs` rows as (port, mac, local) and the ageing timer in centiseconds.
fn fdb_rows(out: &str) -> Vec<((String, String, String), i64)> {
    out.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').filter(|f| !f.is_empty()).collect();
            assert_eq!(f.len(), 4, "showmacs row {l:?}");
            let (s, cs) = f[3].trim().split_once('.').expect("timer N.NN");
            let t = s.parse::<i64>().unwrap() * 100 + cs.parse::<i64>().unwrap();
            ((f[0].trim().into(), f[1].into(), f[2].into()), t)
        })
        .collect()
}

#[test]
fn showmacs_with_entries_from_real_traffic() {
    let sb = Sandbox::new();
    sb.ok(&format!(
        "{TWO_HOSTS}           $BRCTL addbr br0; $BRCTL addif br0 h1p h2p; ip link set br0 up
           ip -n h1 addr add 10.0.0.1/24 dev h1e; ip -n h1 link set h1e up
           ip -n h2 addr add 10.0.0.2/24 dev h2e; ip -n h2 link set h2e up
           ip netns exec h1 ping -c1 -W2 10.0.0.2"
    ));
    // Let the learnt entries age a little so that the timers are not all 0.00.
    sb.ok("sleep 0.3");
    let h1mac = sb.link("h1p").s("address");
    let (e1, e2) = (
        Jv::parse(&sb.ok("ip -n h1 -j link show h1e")).s("0.address"),
        Jv::parse(&sb.ok("ip -n h2 -j link show h2e")).s("0.address"),
    );
    let reference = sb.ok("brctl showmacs br0");
    let rows = fdb_rows(&reference);
    // The two hosts' addresses were learnt (not local) on ports 1 and 2, beside the local ones.
    let has = |port: &str, mac: &str, local: &str| {
        rows.iter()
            .any(|((p, m, l), _)| p == port && m == mac && l == local)
    };
    assert!(has("1", &e1, "no"), "{reference}");
    assert!(has("2", &e2, "no"), "{reference}");
    assert!(has("1", &h1mac, "yes"), "{reference}");
    assert_eq!(rows.len(), 4, "{reference}");
    assert!(
        rows.iter().any(|((_, _, l), t)| l == "no" && *t > 0),
        "{reference}"
    );
    same_as_bridge_utils(&sb, "showmacs br0");
    same_as_bridge_utils(&sb, "show br0");
    for via in VIAS {
        // bridge-utils reads the table just before and just after ours, in one script, so a
        // stall of the machine between two reads cannot pass for a wrong timer.
        let out = sb.ok(&format!(
            "brctl showmacs br0; echo --; $BRCTL --via {via} showmacs br0; echo --; brctl showmacs br0"
        ));
        let parts: Vec<&str> = out.split("--\n").collect();
        let (before, ours, after) = (fdb_rows(parts[0]), fdb_rows(parts[1]), fdb_rows(parts[2]));
        assert_eq!(ours.len(), before.len());
        for (((key, t), (bkey, bt)), (akey, at)) in ours.iter().zip(&before).zip(&after) {
            assert_eq!((key, key), (bkey, akey), "--via {via}");
            assert!(
                *bt - 100 <= *t && *t <= *at + 100,
                "--via {via}: ageing timer of {key:?} is {t} cs; bridge-utils says {bt} cs \
                 before and {at} cs after"
            );
        }
    }
}

#[test]
fn showstp_with_ports_in_different_states() {
    let sb = Sandbox::new();
    veths(&sb, "v", "w", 3);
    // A forward delay of 30 s (the most STP allows) keeps v1 listening while the outputs are
    // compared, even on a loaded machine.
    sb.ok("$BRCTL addbr br0; $BRCTL stp br0 on; $BRCTL setfd br0 30
           $BRCTL addif br0 v1 v2 v3
           $BRCTL hairpin br0 v3 on
           ip link set br0 up
           ip link set w1 up; ip link set v1 up
           ip link set v3 up");
    // v1: just came up with STP on, so listening; v2: down; v3: up but its peer is down, so
    // no carrier: disabled, with hairpin on.
    let reference = sb.ok("brctl showstp br0");
    let block = |port: &str| {
        reference
            .split("\n\n")
            .find(|b| b.trim_start().starts_with(&format!("{port} (")))
            .unwrap_or_else(|| panic!("no {port} in {reference}"))
            .to_string()
    };
    assert!(
        block("v1").contains("state\t\t      listening"),
        "{reference}"
    );
    assert!(
        block("v2").contains("state\t\t       disabled"),
        "{reference}"
    );
    assert!(
        block("v3").contains("state\t\t       disabled"),
        "{reference}"
    );
    assert!(
        block("v3").contains("\n hairpin mode\t\t   1"),
        "{reference}"
    );
    assert!(!block("v1").contains("hairpin"), "{reference}");
    same_as_bridge_utils(&sb, "showstp br0");
    same_as_bridge_utils(&sb, "show br0");
    // The same states with a port costed and prioritised differently.
    sb.ok("$BRCTL setpathcost br0 v2 250; $BRCTL setportprio br0 v1 3");
    same_as_bridge_utils(&sb, "showstp br0");
}
