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
}
