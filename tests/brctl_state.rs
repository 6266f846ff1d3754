//! Kernel state after each mutating command, on every --via path, read back with iproute2
//! (`ip -j -d link show`). The three paths must leave the same state.
//!
//! Each path works on objects of its own in the same sandbox: bridge `br` + the path's letter
//! (`bri`, `brs`, `brn`) and ports `{letter}p1`, `{letter}p2` (peers `{letter}q1`, ...).

mod common;
use common::*;

const VIAS: [&str; 3] = ["ioctl", "sysfs", "netlink"];

fn letter(via: &str) -> char {
    via.chars().next().unwrap()
}

/// The bridge-level settings brctl changes, as `ip -j -d` reports them (times in cs).
const BRIDGE_KEYS: [&str; 6] = [
    "forward_delay",
    "hello_time",
    "max_age",
    "ageing_time",
    "stp_state",
    "priority",
];

/// Keys that differ between two otherwise identical bridges or ports: names, indexes,
/// random addresses, and running timers.
fn incidental(k: &str) -> bool {
    k.contains("timer")
        || matches!(
            k,
            "ifindex" | "ifname" | "link" | "master" | "address" | "bridge_id" | "root_id"
        )
        || k == "operstate"
}

fn bridge_settings(sb: &Sandbox, br: &str) -> Vec<(String, String)> {
    let l = sb.link(br);
    assert_eq!(l.s("linkinfo.info_kind"), "bridge", "{br} is not a bridge");
    BRIDGE_KEYS
        .iter()
        .map(|k| (k.to_string(), l.s(&format!("linkinfo.info_data.{k}"))))
        .collect()
}

fn with(base: &[(String, String)], key: &str, value: &str) -> Vec<(String, String)> {
    let mut v = base.to_vec();
    let slot = v.iter_mut().find(|(k, _)| k == key).expect("known key");
    slot.1 = value.to_string();
    v
}

fn defaults() -> Vec<(String, String)> {
    [
        ("forward_delay", "1500"),
        ("hello_time", "200"),
        ("max_age", "2000"),
        ("ageing_time", "30000"),
        ("stp_state", "0"),
        ("priority", "32768"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// (master, cost, priority, hairpin) of a port, `master` "-" when it has none.
fn port_settings(sb: &Sandbox, port: &str) -> (String, String, String, String) {
    let l = sb.link(port);
    let master = l.get("master").map(|m| m.text()).unwrap_or("-".into());
    if master == "-" {
        assert!(
            l.get("linkinfo.info_slave_kind").is_none(),
            "{port} has no master yet is a bridge port: {}",
            l.to_json()
        );
        return (master, "-".into(), "-".into(), "-".into());
    }
    assert_eq!(l.s("linkinfo.info_slave_kind"), "bridge");
    let d = |k: &str| l.s(&format!("linkinfo.info_slave_data.{k}"));
    (master, d("cost"), d("priority"), d("hairpin"))
}

/// Runs our brctl on one path; it must succeed silently.
fn brctl_ok(sb: &Sandbox, via: &str, cmd: &str) {
    let args: Vec<&str> = ["--via", via].into_iter().chain(cmd.split(' ')).collect();
    let o = sb.brctl(&args);
    assert!(
        o.status.success() && o.stdout.is_empty() && o.stderr.is_empty(),
        "brctl --via {via} {cmd}: {:?}\nstdout: {}\nstderr: {}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
}

/// The whole `ip -j -d` record of each device, without what is incidental; all must agree.
fn same_everywhere(sb: &Sandbox, devs: &[String], what: &str) {
    let records: Vec<String> = devs
        .iter()
        .map(|d| sb.link(d).to_json_without(&incidental))
        .collect();
    for (d, r) in devs.iter().zip(&records).skip(1) {
        assert_eq!(
            r, &records[0],
            "{what}: {d} and {} differ as `ip -j -d link` shows them",
            devs[0]
        );
    }
}

/// iproute2 prints a bridge id's address bytes without leading zeros (`8000.6:b7:...`):
/// back to two digits each.
fn bridge_id(ip: &str) -> String {
    let (prio, addr) = ip.split_once('.').expect("PRIO.ADDR");
    let bytes: Vec<String> = addr.split(':').map(|b| format!("{b:0>2}")).collect();
    format!("{prio}.{}", bytes.join(":"))
}

fn bridges() -> Vec<String> {
    VIAS.iter().map(|v| format!("br{}", letter(v))).collect()
}

fn make_veths(sb: &Sandbox, n: usize) {
    let mut s = String::new();
    for via in VIAS {
        let c = letter(via);
        for i in 1..=n {
            s.push_str(&format!(
                "ip link add {c}p{i} type veth peer name {c}q{i}\n"
            ));
        }
    }
    sb.ok(&s);
}

#[test]
fn addbr_and_delbr() {
    let sb = Sandbox::new();
    for via in VIAS {
        let br = format!("br{}", letter(via));
        assert!(!sb.has_link(&br));
        brctl_ok(&sb, via, &format!("addbr {br}"));
        assert_eq!(bridge_settings(&sb, &br), defaults(), "--via {via}");
        assert_eq!(
            sb.link(&br).at("flags").arr().len(),
            2,
            "down: BROADCAST,MULTICAST"
        );
    }
    same_everywhere(&sb, &bridges(), "addbr");
    for via in VIAS {
        let br = format!("br{}", letter(via));
        brctl_ok(&sb, via, &format!("delbr {br}"));
        assert!(
            !sb.has_link(&br),
            "--via {via}: {br} still there after delbr"
        );
    }
    assert_eq!(sb.ok("ip -j link show type bridge").trim(), "[]");

    // A bridge that is down but has ports: delbr releases them.
    make_veths(&sb, 2);
    for via in VIAS {
        let c = letter(via);
        let br = format!("br{c}");
        sb.ok(&format!("$BRCTL addbr {br}; $BRCTL addif {br} {c}p1 {c}p2"));
        assert_eq!(port_settings(&sb, &format!("{c}p1")).0, br);
        brctl_ok(&sb, via, &format!("delbr {br}"));
        assert!(!sb.has_link(&br));
        for p in [format!("{c}p1"), format!("{c}p2")] {
            assert_eq!(port_settings(&sb, &p).0, "-", "--via {via}: {p} released");
        }
    }
}

#[test]
fn addif_and_delif() {
    let sb = Sandbox::new();
    make_veths(&sb, 3);
    for via in VIAS {
        let c = letter(via);
        sb.ok(&format!("$BRCTL addbr br{c}"));
    }
    for via in VIAS {
        let c = letter(via);
        let br = format!("br{c}");
        brctl_ok(&sb, via, &format!("addif {br} {c}p1"));
        assert_eq!(
            port_settings(&sb, &format!("{c}p1")),
            (br.clone(), "2".into(), "32".into(), "false".into()),
            "--via {via}"
        );
        assert_eq!(
            sb.link(&format!("{c}p1")).s("linkinfo.info_slave_data.no"),
            "0x1"
        );
        // Several at once.
        brctl_ok(&sb, via, &format!("addif {br} {c}p2 {c}p3"));
        for i in [2, 3] {
            let p = format!("{c}p{i}");
            assert_eq!(port_settings(&sb, &p).0, br, "--via {via}: {p}");
            assert_eq!(
                sb.link(&p).s("linkinfo.info_slave_data.no"),
                format!("0x{i}")
            );
        }
        // The bridge takes the lowest port address as its id, whichever path added them.
        let mut macs: Vec<String> = (1..=3)
            .map(|i| sb.link(&format!("{c}p{i}")).s("address"))
            .collect();
        macs.sort();
        let id = sb.link(&br).s("linkinfo.info_data.bridge_id");
        assert_eq!(bridge_id(&id), format!("8000.{}", macs[0]), "--via {via}");
    }
    let ports =
        |i: usize| -> Vec<String> { VIAS.iter().map(|v| format!("{}p{i}", letter(v))).collect() };
    same_everywhere(&sb, &bridges(), "addif: bridges");
    for i in 1..=3 {
        same_everywhere(&sb, &ports(i), "addif: ports");
    }
    for via in VIAS {
        let c = letter(via);
        let br = format!("br{c}");
        brctl_ok(&sb, via, &format!("delif {br} {c}p2"));
        assert_eq!(port_settings(&sb, &format!("{c}p2")).0, "-", "--via {via}");
        assert_eq!(port_settings(&sb, &format!("{c}p1")).0, br, "--via {via}");
        assert_eq!(port_settings(&sb, &format!("{c}p3")).0, br, "--via {via}");
        brctl_ok(&sb, via, &format!("delif {br} {c}p1 {c}p3"));
        for i in 1..=3 {
            assert_eq!(
                port_settings(&sb, &format!("{c}p{i}")).0,
                "-",
                "--via {via}"
            );
        }
        assert_eq!(sb.ok(&format!("ip -j link show master {br}")).trim(), "[]");
    }
    same_everywhere(&sb, &bridges(), "delif: bridges");
    for i in 1..=3 {
        same_everywhere(&sb, &ports(i), "delif: ports");
    }
}

#[test]
fn bridge_settings_on_every_path() {
    let sb = Sandbox::new();
    make_veths(&sb, 1);
    for via in VIAS {
        let c = letter(via);
        sb.ok(&format!("$BRCTL addbr br{c}; $BRCTL addif br{c} {c}p1"));
    }
    // Each step: the command (BR stands for the bridge) and the fields it changes.
    let steps: &[(&str, &[(&str, &str)])] = &[
        ("stp BR on", &[("stp_state", "1")]),
        ("setfd BR 4.5", &[("forward_delay", "450")]),
        ("setfd BR 4.567", &[("forward_delay", "456")]),
        ("sethello BR 3", &[("hello_time", "300")]),
        ("sethello BR 10", &[("hello_time", "1000")]),
        ("setmaxage BR 12", &[("max_age", "1200")]),
        ("setageing BR 100.5", &[("ageing_time", "10050")]),
        ("setageing BR 0", &[("ageing_time", "0")]),
        ("setbridgeprio BR 4096", &[("priority", "4096")]),
        ("setbridgeprio BR 0x10", &[("priority", "16")]),
        ("stp BR yes", &[("stp_state", "1")]),
        ("stp BR off", &[("stp_state", "0")]),
        ("setfd BR 0", &[("forward_delay", "0")]),
        // STP on clamps a forward delay under 2 s to 2 s (the kernel's br_stp_start).
        ("stp BR 1", &[("stp_state", "1"), ("forward_delay", "200")]),
        ("setfd BR 30", &[("forward_delay", "3000")]),
        ("setmaxage BR 40", &[("max_age", "4000")]),
        ("sethello BR 1", &[("hello_time", "100")]),
        ("setbridgeprio BR 65535", &[("priority", "65535")]),
        ("stp BR no", &[("stp_state", "0")]),
    ];
    let mut expected = defaults();
    for (cmd, changes) in steps {
        for (key, value) in changes.iter() {
            expected = with(&expected, key, value);
        }
        for via in VIAS {
            let br = format!("br{}", letter(via));
            brctl_ok(&sb, via, &cmd.replace("BR", &br));
            assert_eq!(
                bridge_settings(&sb, &br),
                expected,
                "after `brctl --via {via} {cmd}`"
            );
        }
        same_everywhere(&sb, &bridges(), cmd);
    }
    // bridge-utils reads the same values back (sysfs, written by whichever path).
    let stp = sb.ok("brctl showstp brn");
    assert!(stp.contains(" forward delay\t\t  30.00\t"), "{stp}");
    assert!(stp.contains(" ageing time\t\t   0.00\n"), "{stp}");
    assert!(stp.contains(" bridge id\t\tffff."), "{stp}");
}

#[test]
fn port_settings_on_every_path() {
    let sb = Sandbox::new();
    make_veths(&sb, 2);
    for via in VIAS {
        let c = letter(via);
        sb.ok(&format!(
            "$BRCTL addbr br{c}; $BRCTL addif br{c} {c}p1 {c}p2"
        ));
    }
    let ports =
        |i: usize| -> Vec<String> { VIAS.iter().map(|v| format!("{}p{i}", letter(v))).collect() };
    // (command with BR/P for the bridge and the second port, cost, priority, hairpin of P)
    let steps: &[(&str, &str, &str, &str)] = &[
        ("setpathcost BR P 77", "77", "32", "false"),
        ("setportprio BR P 7", "77", "7", "false"),
        ("setpathcost BR P 65535", "65535", "7", "false"),
        ("setportprio BR P 63", "65535", "63", "false"),
        ("setpathcost BR P 1", "1", "63", "false"),
        ("setportprio BR P 0x10", "1", "16", "false"),
        ("setportprio BR P 0", "1", "0", "false"),
        ("hairpin BR P on", "1", "0", "true"),
        ("hairpin BR P off", "1", "0", "false"),
        ("hairpin BR P yes", "1", "0", "true"),
    ];
    for (cmd, cost, prio, hairpin) in steps {
        for via in VIAS {
            let c = letter(via);
            let (br, p) = (format!("br{c}"), format!("{c}p2"));
            let line = cmd.replace("BR", &br).replace('P', &p);
            if via == "ioctl" && cmd.starts_with("hairpin") {
                // No ioctl sets hairpin mode: refused, saying which paths can, nothing changed.
                let before = port_settings(&sb, &p);
                let o = sb.brctl(&["--via", via, "hairpin", &br, &p, "on"]);
                let err = text(&o.stderr);
                assert_eq!(o.status.code(), Some(2), "{err}");
                assert!(
                    err.contains("ioctl") && err.contains("--via sysfs") && err.contains(&p),
                    "{err}"
                );
                assert_eq!(port_settings(&sb, &p), before);
                // Bring it to the same state as the others through netlink.
                brctl_ok(&sb, "netlink", &line);
            } else {
                brctl_ok(&sb, via, &line);
            }
            assert_eq!(
                port_settings(&sb, &p),
                (
                    br.clone(),
                    cost.to_string(),
                    prio.to_string(),
                    hairpin.to_string()
                ),
                "after `brctl --via {via} {line}`"
            );
            // The other port keeps its defaults.
            assert_eq!(
                port_settings(&sb, &format!("{c}p1")),
                (br.clone(), "2".into(), "32".into(), "false".into()),
                "after `brctl --via {via} {line}`: {c}p1 changed"
            );
        }
        same_everywhere(&sb, &ports(2), cmd);
    }
    // The port id carries the priority: 16 << 10 | port 2 before the last priority change;
    // with priority 0 it is just the port number.
    assert_eq!(sb.link("np2").s("linkinfo.info_slave_data.id"), "0x2");
    sb.ok("$BRCTL setportprio brn np2 16");
    assert_eq!(sb.link("np2").s("linkinfo.info_slave_data.id"), "0x4002");
    // bridge-utils sees what we set.
    let stp = sb.ok("brctl showstp bri");
    assert!(stp.contains("ip2 (2)\n port id\t\t0002\t"), "{stp}");
    assert!(stp.contains("path cost\t\t   1\n"), "{stp}");
    assert!(stp.contains(" hairpin mode\t\t   1\n"), "{stp}");
}
