//! `--if-exists` on every delete of every program (CNI's DEL may run twice): deleting what is
//! there is as ever; deleting what is gone is a one-line note on stderr, exit 0, and nothing
//! changed; without the option it is the error it always was. Checked with `ip -j`, bridge-utils'
//! `brctl` and `ls /run/netns`. natctl's own `--if-exists` is tested on both paths in
//! tests/natctl.rs.

mod common;
use common::*;

/// Runs `cmd` in the sandbox: its exit status and stderr.
fn run(sb: &Sandbox, cmd: &str) -> (Option<i32>, String) {
    let o = sb.sh(&format!("timeout 20 {cmd}"));
    (o.status.code(), text(&o.stderr))
}

/// `cmd` with `--if-exists` once the object is gone: exit 0, a note that is the error `cmd`
/// without the option gives, and nothing changed (`state` before and after).
fn gone(sb: &Sandbox, cmd: &str, prog: &str, state: &dyn Fn() -> String) {
    let before = state();
    let without = cmd.replace(" --if-exists", "");
    let (code, err) = run(sb, &without);
    assert_eq!(code, Some(1), "{without}: {err}");
    let why = err
        .strip_prefix(&format!("{prog}: "))
        .unwrap_or_else(|| panic!("{without}: {err}"))
        .trim_end()
        .to_string();
    assert_eq!(state(), before, "{without} changed something");
    let (code, err) = run(sb, cmd);
    assert_eq!(code, Some(0), "{cmd}: {err}");
    let why = why.replace(
        &without.replacen(&format!("${} ", prog.to_uppercase()), "", 1),
        "",
    );
    assert!(
        err.starts_with(&format!("{prog}: note: "))
            && err.ends_with("(--if-exists: nothing to delete)\n")
            && err.lines().count() == 1
            && err.contains(&why),
        "{cmd}: {err:?} (without it: {why:?})"
    );
    assert_eq!(state(), before, "{cmd} changed something");
}

#[test]
fn deletes_of_what_is_gone_are_notes_with_if_exists() {
    let sb = Sandbox::new();
    let links = || sb.links_state();
    let netns = || sb.ok("ls /run/netns");
    let routes = || sb.ok("ip -j route show table main");

    // brctl delbr: there, then gone.
    sb.ok("ip link add br0 type bridge; ip link add br1 type bridge");
    let (code, err) = run(&sb, "$BRCTL delbr br0 --if-exists");
    assert_eq!((code, err.as_str()), (Some(0), ""));
    assert!(!sb.has_link("br0"));
    gone(&sb, "$BRCTL delbr --if-exists br0", "brctl", &links);

    // brctl delif: a port of br1 and one that is not (of no bridge, or no such device).
    sb.ok("ip link add d1 type veth peer name d1p; ip link add d2 type veth peer name d2p; ip link set d1 master br1");
    let (code, err) = run(&sb, "$BRCTL delif br1 d2 d1 --if-exists");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(err, "brctl: note: delif br1 d2: device d2 is not a port of br1 (--if-exists: nothing to delete)\n");
    assert_eq!(
        sb.ok("brctl show br1 | tail -n +2 | awk '{print $4}'")
            .trim(),
        ""
    );
    gone(&sb, "$BRCTL delif br1 d1 --if-exists", "brctl", &links);
    gone(&sb, "$BRCTL delif br1 nosuch --if-exists", "brctl", &links);
    // Not a delete: the option is not taken.
    let (code, _) = run(&sb, "$BRCTL addbr br2 --if-exists");
    assert_ne!(code, Some(0));

    // vethctl del: of two names one gone; then both gone.
    sb.ok("ip link add va type veth peer name vb; ip link add vc type veth peer name vd");
    let (code, err) = run(&sb, "$VETHCTL del va nosuch --if-exists");
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.starts_with("vethctl: note: ") && err.contains("nosuch"),
        "{err}"
    );
    assert!(!sb.has_link("va") && !sb.has_link("vb"));
    assert!(sb.has_link("vc"));
    gone(&sb, "$VETHCTL del va --if-exists", "vethctl", &links);

    // nsexec del.
    sb.ok("ip netns add n1; ip netns add n2");
    let (code, err) = run(&sb, "$NSEXEC del --if-exists n1 n9");
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(err, "nsexec: note: del --if-exists n1: no namespace named n9 (no /run/netns/n9) (--if-exists: nothing to delete)\n");
    assert_eq!(netns().trim(), "n2");
    gone(&sb, "$NSEXEC del n1 --if-exists", "nsexec", &netns);

    // ipfwd route del: the route, then no route; a route through an interface gone.
    sb.ok("ip link set d2p up; ip link set d2 up; ip addr add 192.0.2.1/24 dev d2; ip route add 198.51.100.0/24 via 192.0.2.2");
    let (code, err) = run(&sb, "$IPFWD route del 198.51.100.0/24 --if-exists");
    assert_eq!((code, err.as_str()), (Some(0), ""));
    assert!(!routes().contains("198.51.100.0"));
    gone(
        &sb,
        "$IPFWD route del 198.51.100.0/24 --if-exists",
        "ipfwd",
        &routes,
    );
    gone(
        &sb,
        "$IPFWD route del 203.0.113.0/24 dev nosuch --if-exists",
        "ipfwd",
        &routes,
    );
}
