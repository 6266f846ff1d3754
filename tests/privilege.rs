//! Without CAP_NET_ADMIN, vethctl and ifctl say so in one line, exit 1 and change nothing, on
//! every path; reading needs no privilege.

mod common;
use common::*;

#[test]
fn vethctl_and_ifctl_name_the_missing_capability() {
    let sb = Sandbox::new();
    sb.ok("ip netns add left
        ip link add br0 type bridge
        $VETHCTL add va peer vb
        $IFCTL addr add va 198.51.100.1/24");
    let who = sb.unprivileged();
    let cmds = [
        "$VETHCTL add vx peer vy",
        "$VETHCTL add vx peer vy --peer-netns left",
        "$VETHCTL del va",
        "$VETHCTL del va vb",
        "$VETHCTL netns va left",
        "$IFCTL up va",
        "$IFCTL --via ioctl up va",
        "$IFCTL addr add va 198.51.100.9/24",
        "$IFCTL --via ioctl addr add vb 198.51.100.9/24",
        "$IFCTL addr del va 198.51.100.1/24",
        "$IFCTL --via ioctl addr del va 198.51.100.1/24",
        "$IFCTL mtu va 1400",
        "$IFCTL --via ioctl mtu va 1400",
        "$IFCTL mac va 02:00:00:00:00:09",
        "$IFCTL --via ioctl mac va 02:00:00:00:00:09",
        "$IFCTL rename vb vz",
        "$IFCTL --via ioctl rename vb vz",
    ];
    let addrs = || sb.ok("ip -j addr show");
    let ns = || sb.ok("ip -n left -j link show");
    for cmd in cmds {
        let (links, a, n) = (sb.links_state(), addrs(), ns());
        let o = sb.sh(&format!("{who} {cmd}"));
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {err}");
        assert_eq!(err.lines().count(), 1, "{cmd}: {err}");
        let prog = if cmd.starts_with("$VETHCTL") {
            "vethctl: "
        } else {
            "ifctl: "
        };
        assert!(
            err.starts_with(prog) && err.contains("needs CAP_NET_ADMIN"),
            "{cmd}: {err}"
        );
        assert_eq!(sb.links_state(), links, "{cmd}");
        assert_eq!(addrs(), a, "{cmd}");
        assert_eq!(ns(), n, "{cmd}");
    }
    // Reading needs no privilege, and reads the same as root does.
    for cmd in [
        "$VETHCTL show",
        "$VETHCTL --via ethtool show",
        "$IFCTL show",
        "$IFCTL --via ioctl show",
    ] {
        assert_eq!(sb.ok(&format!("{who} {cmd}")), sb.ok(cmd), "{cmd}");
    }
}
