//! Every error case of brctl: one line on stderr naming the object, the right exit status
//! (1 the operation failed, 2 usage), nothing on stdout, and no change to any link afterwards
//! (`ip -j -d link show` before and after), on every --via path.

mod common;
use common::*;

const VIAS: [&str; 3] = ["ioctl", "sysfs", "netlink"];

/// br0 with ports v1a and v4a... as the tests need: br0 holds v1a, br1 holds v4a, v2a, v3a
/// and v5a are free.
fn world() -> Sandbox {
    let sb = Sandbox::new();
    sb.ok(
        "for i in 1 2 3 4 5; do ip link add v${i}a type veth peer name v${i}b; done
           brctl addbr br0; brctl addbr br1
           brctl addif br0 v1a; brctl addif br1 v4a",
    );
    sb
}

/// Runs our brctl with `args` (split on spaces): it must fail with `code`, print nothing on
/// stdout, `lines` lines on stderr that contain every one of `needles`, and leave every link
/// as it was. Returns stderr.
fn refused_lines(sb: &Sandbox, args: &str, code: i32, lines: usize, needles: &[&str]) -> String {
    let before = sb.links_state();
    let argv: Vec<&str> = args.split_whitespace().collect();
    let o = sb.brctl(&argv);
    let err = text(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(code),
        "brctl {args}: exit status; stderr: {err}"
    );
    assert_eq!(text(&o.stdout), "", "brctl {args}: stdout must stay empty");
    assert_eq!(
        err.lines().count(),
        lines,
        "brctl {args}: expected {lines} line(s) on stderr, got {err:?}"
    );
    assert!(err.ends_with('\n'), "brctl {args}: {err:?}");
    for n in needles {
        assert!(err.contains(n), "brctl {args}: stderr {err:?} lacks {n:?}");
    }
    assert_eq!(
        sb.links_state(),
        before,
        "brctl {args} failed, yet changed the kernel state"
    );
    err
}

fn refused(sb: &Sandbox, args: &str, code: i32, needles: &[&str]) -> String {
    refused_lines(sb, args, code, 1, needles)
}

fn master(sb: &Sandbox, port: &str) -> String {
    sb.link(port)
        .get("master")
        .map(|m| m.text())
        .unwrap_or("-".into())
}

#[test]
fn unknown_bridge_or_interface() {
    let sb = world();
    for via in VIAS {
        let cases: &[(&str, &[&str])] = &[
            ("addif nosuch v2a", &["bridge nosuch does not exist"]),
            ("addif br0 nosuch", &["interface nosuch does not exist"]),
            ("delif nosuch v1a", &["nosuch"]),
            ("delif br0 nosuch", &["nosuch"]),
            ("delbr nosuch", &["bridge nosuch doesn't exist"]),
            ("setfd nosuch 5", &["bridge nosuch does not exist"]),
            ("sethello nosuch 2", &["nosuch"]),
            ("setmaxage nosuch 12", &["nosuch"]),
            ("setageing nosuch 10", &["nosuch"]),
            ("setbridgeprio nosuch 7", &["nosuch"]),
            ("stp nosuch on", &["nosuch"]),
            (
                "setpathcost br0 nosuch 5",
                &["interface nosuch does not exist"],
            ),
            ("setportprio br0 nosuch 5", &["nosuch"]),
            ("setpathcost nosuch v1a 5", &["nosuch"]),
            ("setportprio nosuch v1a 5", &["nosuch"]),
            // bridge-utils' own words, kept byte for byte.
            ("showstp nosuch", &["bridge nosuch does not exist!"]),
            (
                "showmacs nosuch",
                &["read of forward table failed: No such device"],
            ),
            ("show nosuch", &["bridge nosuch does not exist!"]),
        ];
        for (cmd, needles) in cases {
            refused(&sb, &format!("--via {via} {cmd}"), 1, needles);
        }
        if via != "ioctl" {
            refused(
                &sb,
                &format!("--via {via} hairpin br0 nosuch on"),
                1,
                &["nosuch"],
            );
            refused(
                &sb,
                &format!("--via {via} hairpin nosuch v1a on"),
                1,
                &["nosuch"],
            );
        }
    }
}

#[test]
fn device_that_is_not_a_bridge() {
    let sb = world();
    for via in VIAS {
        for cmd in [
            "setfd v2a 5",
            "stp v2a on",
            "setbridgeprio v2a 9",
            "addif v2a v3a",
            "setpathcost v2a v1a 4",
        ] {
            refused(
                &sb,
                &format!("--via {via} {cmd}"),
                1,
                &["v2a is not a bridge"],
            );
        }
        refused(
            &sb,
            &format!("--via {via} delbr v2a"),
            1,
            &["v2a is not a bridge"],
        );
        refused(
            &sb,
            &format!("--via {via} addif br0 br1"),
            1,
            &["br1 is a bridge device itself"],
        );
        refused(
            &sb,
            &format!("--via {via} addif br0 lo"),
            1,
            &["can't add lo to bridge br0"],
        );
        refused(
            &sb,
            &format!("--via {via} delif br0 v2a"),
            1,
            &["v2a is not a port of br0"],
        );
    }
}

#[test]
fn interface_already_in_another_bridge() {
    let sb = world();
    for via in VIAS {
        // Another bridge: netlink's IFLA_MASTER would move it; every path must refuse.
        refused(
            &sb,
            &format!("--via {via} addif br1 v1a"),
            1,
            &["v1a is already a member of a bridge", "br1"],
        );
        assert_eq!(master(&sb, "v1a"), "br0", "--via {via} moved v1a");
        // The same bridge again.
        refused(
            &sb,
            &format!("--via {via} addif br0 v1a"),
            1,
            &["v1a is already a member of a bridge"],
        );
        assert_eq!(master(&sb, "v1a"), "br0");
    }
    // bridge-utils sees v1a where it was.
    assert!(sb.ok("brctl show br1").ends_with("\tv4a\n"));
}

#[test]
fn deleting_a_bridge_that_is_up() {
    let sb = world();
    sb.ok("ip link set br1 up");
    for via in VIAS {
        refused(
            &sb,
            &format!("--via {via} delbr br1"),
            1,
            &["br1 is still up", "can't delete it"],
        );
        let flags = sb.link("br1").at("flags").to_json();
        assert!(flags.contains("\"UP\""), "{flags}");
        assert_eq!(master(&sb, "v4a"), "br1");
    }
}

#[test]
fn values_out_of_range_are_usage_errors_naming_the_range() {
    let sb = world();
    let cases: &[(&str, &[&str])] = &[
        ("sethello br0 11", &["br0", "11", "1.00 to 10.00 s"]),
        ("sethello br0 0.99", &["br0", "1.00 to 10.00 s"]),
        ("setmaxage br0 5", &["br0", "5", "6.00 to 40.00 s"]),
        ("setmaxage br0 40.01", &["br0", "6.00 to 40.00 s"]),
        ("setportprio br0 v1a 64", &["v1a", "64", "0 to 63"]),
        ("setportprio br0 v1a 255", &["v1a", "0 to 63"]),
        ("setpathcost br0 v1a 0", &["v1a", "1 to 65535"]),
        ("setpathcost br0 v1a 65536", &["v1a", "65536", "1 to 65535"]),
        ("setbridgeprio br0 65536", &["br0", "65536", "0 to 65535"]),
    ];
    for via in VIAS {
        for (cmd, needles) in cases {
            refused(&sb, &format!("--via {via} {cmd}"), 2, needles);
        }
    }
    // The values at the ends of each range are accepted (and the state checked by ip).
    sb.ok(
        "$BRCTL sethello br0 10; $BRCTL setmaxage br0 6; $BRCTL setportprio br0 v1a 63
           $BRCTL setpathcost br0 v1a 65535; $BRCTL setbridgeprio br0 65535",
    );
    let br = sb.link("br0");
    assert_eq!(br.s("linkinfo.info_data.hello_time"), "1000");
    assert_eq!(br.s("linkinfo.info_data.max_age"), "600");
    assert_eq!(br.s("linkinfo.info_data.priority"), "65535");
    let p = sb.link("v1a");
    assert_eq!(p.s("linkinfo.info_slave_data.priority"), "63");
    assert_eq!(p.s("linkinfo.info_slave_data.cost"), "65535");
}

#[test]
fn forward_delay_out_of_range_while_stp_is_on() {
    let sb = world();
    sb.ok("brctl stp br0 on");
    for via in VIAS {
        for v in ["45", "30.01", "1.5", "0"] {
            refused(
                &sb,
                &format!("--via {via} setfd br0 {v}"),
                1,
                &["br0", "forward delay", "2 to 30"],
            );
        }
        assert_eq!(sb.link("br0").s("linkinfo.info_data.forward_delay"), "1500");
    }
    // With STP off the kernel takes any forward delay.
    sb.ok("$BRCTL setfd br1 45");
    assert_eq!(sb.link("br1").s("linkinfo.info_data.forward_delay"), "4500");
}

#[test]
fn values_that_are_not_numbers() {
    let sb = world();
    let cases: &[(&str, &str)] = &[
        ("setfd br0 abc", "'abc'"),
        ("setfd br0 -1", "'-1'"),
        ("sethello br0 1e3", "'1e3'"),
        ("setmaxage br0 12s", "'12s'"),
        ("setageing br0 x", "'x'"),
        ("setageing br0 4.5.6", "'4.5.6'"),
        ("setbridgeprio br0 12abc", "'12abc'"),
        ("setbridgeprio br0 0x", "'0x'"),
        ("setpathcost br0 v1a 1.9", "'1.9'"),
        ("setportprio br0 v1a -1", "'-1'"),
        ("setportprio br0 v1a 09", "'09'"),
    ];
    for via in VIAS {
        for (cmd, value) in cases {
            let target = cmd.split(' ').nth(1).unwrap();
            refused(&sb, &format!("--via {via} {cmd}"), 2, &[value, target]);
        }
    }
}

#[test]
fn on_or_off_expected() {
    let sb = world();
    for via in VIAS {
        for v in ["maybe", "ON", "true", "2"] {
            refused(
                &sb,
                &format!("--via {via} stp br0 {v}"),
                2,
                &["br0", "expected on or off", v],
            );
            refused(
                &sb,
                &format!("--via {via} hairpin br0 v1a {v}"),
                2,
                &["v1a", "expected on or off", v],
            );
        }
    }
}

/// bridge-utils' usage line for a command (it prints it on stdout after
/// `Incorrect number of arguments for command`).
fn reference_usage(sb: &Sandbox, cmd: &str) -> String {
    let o = sb.sh(&format!("brctl {cmd}"));
    let out = text(&o.stdout);
    let line = out
        .lines()
        .find(|l| l.starts_with("Usage: brctl "))
        .unwrap_or_else(|| panic!("brctl {cmd}: no usage line in {out:?}"));
    line.to_string()
}

#[test]
fn too_many_or_too_few_arguments() {
    let sb = world();
    // (command, arguments it needs, whether it takes more)
    let commands: &[(&str, usize, bool)] = &[
        ("addbr", 1, false),
        ("delbr", 1, false),
        ("addif", 2, true),
        ("delif", 2, true),
        ("hairpin", 3, false),
        ("setageing", 2, false),
        ("setbridgeprio", 2, false),
        ("setfd", 2, false),
        ("sethello", 2, false),
        ("setmaxage", 2, false),
        ("setpathcost", 3, false),
        ("setportprio", 3, false),
        ("showmacs", 1, false),
        ("showstp", 1, false),
        ("stp", 2, false),
    ];
    let words = ["br0", "v1a", "1", "on", "x"];
    for (cmd, n, more) in commands {
        let usage = reference_usage(&sb, cmd);
        let few = format!("{cmd} {}", words[..n - 1].join(" "));
        let err = refused_lines(&sb, &few, 2, 2, &[cmd, "too few arguments"]);
        assert_eq!(err.lines().nth(1), Some(usage.as_str()), "brctl {few}");
        if !more {
            let many = format!("{cmd} {}", words[..n + 1].join(" "));
            let err = refused_lines(&sb, &many, 2, 2, &[cmd, "too many arguments"]);
            assert_eq!(err.lines().nth(1), Some(usage.as_str()), "brctl {many}");
        }
    }
    // No command at all: the whole usage, on stderr, status 2.
    let before = sb.links_state();
    for args in [&[][..], &["--via", "netlink"][..]] {
        let o = sb.brctl(args);
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(text(&o.stdout), "");
        let err = text(&o.stderr);
        assert!(
            err.contains("no command given") && err.contains("Usage: brctl"),
            "{err}"
        );
        assert!(
            err.contains("\taddbr     \t<bridge>\t\tadd bridge\n"),
            "{err}"
        );
    }
    assert_eq!(sb.links_state(), before);
}

#[test]
fn unknown_command_or_option() {
    let sb = world();
    for via in VIAS {
        refused(&sb, &format!("--via {via} frob br0"), 2, &["[frob]"]);
        // Documented in brctl(8) of bridge-utils, yet never implemented there.
        refused(
            &sb,
            &format!("--via {via} setgcint br0 4"),
            2,
            &["[setgcint]"],
        );
    }
    refused(&sb, "--via carrier-pigeon addbr x", 2, &["carrier-pigeon"]);
    // An unknown option: named on the first line, then the usage; nothing created.
    let o = sb.brctl(&["--frob", "addbr", "x"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(text(&o.stdout), "");
    assert_eq!(err.lines().next(), Some("brctl: unknown option '--frob'"));
    assert_eq!(
        err.lines().nth(1),
        Some("Usage: brctl [options] [commands]")
    );
    assert!(!sb.has_link("x"));
}

#[test]
fn names_of_sixteen_characters_or_more_are_refused_not_truncated() {
    let sb = world();
    let long = "averyveryverylongbridgename";
    let sixteen = "0123456789abcdef";
    for via in VIAS {
        refused(&sb, &format!("--via {via} addbr {long}"), 2, &[long, "15"]);
        refused(
            &sb,
            &format!("--via {via} addbr {sixteen}"),
            2,
            &[sixteen, "16 bytes", "15"],
        );
    }
    assert!(!sb.has_link("averyveryverylo") && !sb.has_link("0123456789abcde"));
    // The bridges named by the first 15 characters survive delbr of the long names.
    sb.ok("$BRCTL addbr averyveryverylo; $BRCTL addbr 0123456789abcde");
    for via in VIAS {
        refused(&sb, &format!("--via {via} delbr {long}"), 2, &[long]);
        refused(&sb, &format!("--via {via} delbr {sixteen}"), 2, &[sixteen]);
        refused(&sb, &format!("--via {via} setfd {long} 5"), 2, &[long]);
        refused(
            &sb,
            &format!("--via {via} addif averyveryverylo v2averyveryveryl"),
            2,
            &["v2averyveryveryl"],
        );
    }
    assert_eq!(sb.link("averyveryverylo").s("linkinfo.info_kind"), "bridge");
    assert_eq!(sb.link("0123456789abcde").s("linkinfo.info_kind"), "bridge");
}

#[test]
fn port_commands_check_their_bridge() {
    let sb = world();
    for via in VIAS {
        let mut cmds = vec!["setpathcost br1 v1a 77", "setportprio br1 v1a 5"];
        if via != "ioctl" {
            cmds.push("hairpin br1 v1a on");
        }
        for cmd in cmds {
            refused(
                &sb,
                &format!("--via {via} {cmd}"),
                1,
                &["v1a is not a port of bridge br1"],
            );
        }
        // A port of no bridge at all.
        refused(
            &sb,
            &format!("--via {via} setpathcost br0 v2a 77"),
            1,
            &["v2a is not a port of bridge br0"],
        );
    }
    let d = sb.link("v1a");
    assert_eq!(d.s("linkinfo.info_slave_data.cost"), "2");
    assert_eq!(d.s("linkinfo.info_slave_data.priority"), "32");
    assert_eq!(d.s("linkinfo.info_slave_data.hairpin"), "false");
    // bridge-utils, for contrast, ignores the bridge and changes v1a: the fix is deliberate.
    sb.ok("brctl setpathcost br1 v1a 77");
    assert_eq!(sb.link("v1a").s("linkinfo.info_slave_data.cost"), "77");
}

#[test]
fn addif_and_delif_of_several_are_all_or_nothing() {
    let sb = world();
    for via in VIAS {
        // The last one is in another bridge.
        let err = refused_lines(
            &sb,
            &format!("--via {via} addif br0 v2a v3a v4a"),
            1,
            2,
            &["v4a is already a member of a bridge"],
        );
        assert!(
            err.lines().nth(1).unwrap().contains("undone for v2a v3a"),
            "{err}"
        );
        assert_eq!(
            (master(&sb, "v2a"), master(&sb, "v3a"), master(&sb, "v4a")),
            ("-".into(), "-".into(), "br1".into()),
            "--via {via}"
        );
        // The last one does not exist.
        refused_lines(
            &sb,
            &format!("--via {via} addif br0 v2a v3a nosuch"),
            1,
            2,
            &["interface nosuch does not exist"],
        );
        assert_eq!(
            (master(&sb, "v2a"), master(&sb, "v3a")),
            ("-".into(), "-".into())
        );
        // delif: the last one is not a port of br0; v1a stays.
        refused_lines(
            &sb,
            &format!("--via {via} delif br0 v1a v5a"),
            1,
            2,
            &["v5a is not a port of br0"],
        );
        assert_eq!(master(&sb, "v1a"), "br0", "--via {via}");
    }
}

#[test]
fn missing_capability() {
    let sb = world();
    let who = sb.unprivileged();
    assert!(
        sb.ok(&format!("{who} grep CapEff /proc/self/status"))
            .contains("0000000000000000"),
        "{who} keeps capabilities"
    );
    let show = sb.ok("brctl show");
    for via in VIAS {
        let mut cmds = vec![
            "addbr x",
            "delbr br1",
            "addif br0 v2a",
            "delif br0 v1a",
            "setfd br0 5",
            "stp br0 on",
            "setpathcost br0 v1a 5",
        ];
        if via != "ioctl" {
            cmds.push("hairpin br0 v1a on");
        }
        for cmd in cmds {
            let before = sb.links_state();
            let o = sb.sh(&format!("{who} $BRCTL --via {via} {cmd}"));
            let err = text(&o.stderr);
            assert_eq!(o.status.code(), Some(1), "--via {via} {cmd}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(
                err.contains("CAP_NET_ADMIN") && err.contains(&format!("{cmd}:")),
                "--via {via} {cmd}: {err}"
            );
            assert_eq!(sb.links_state(), before, "--via {via} {cmd}");
        }
        // Reading needs no privilege.
        assert_eq!(sb.ok(&format!("{who} $BRCTL --via {via} show")), show);
    }
    assert!(!sb.has_link("x"));
}
