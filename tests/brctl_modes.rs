//! brctl's modes beside the plain command: batch files (-b), --dry-run, --explain, -j JSON,
//! the multicall binary, and refusing a stale sysfs view (a /sys of another namespace).

mod common;
use common::*;

const VIAS: [&str; 3] = ["ioctl", "sysfs", "netlink"];

/// br0 (down) with port v1a; v2a free.
fn world() -> Sandbox {
    let sb = Sandbox::new();
    sb.ok(
        "ip link add v1a type veth peer name v1b; ip link add v2a type veth peer name v2b
           brctl addbr br0; brctl addif br0 v1a",
    );
    sb
}

fn fd(sb: &Sandbox, br: &str) -> String {
    sb.link(br).s("linkinfo.info_data.forward_delay")
}

#[test]
fn batch_file_runs_every_line_on_each_path() {
    let sb = world();
    for via in VIAS {
        let c = &via[..1];
        let file = format!(
            "# bridges for --via {via}\n\
             addbr x{c}1\n\
             \n\
             addbr x{c}2   # trailing comment\n\
             \taddif x{c}1 v2a\n\
             setfd x{c}1 4\n\
             stp x{c}2 on\n\
             setpathcost x{c}1 v2a 33\n\
             delif x{c}1 v2a\n"
        );
        sb.ok(&format!("cat > /run/batch-{via} <<'EOF'\n{file}EOF"));
        let o = sb.brctl(&["--via", via, "-b", &format!("/run/batch-{via}")]);
        assert!(
            o.status.success() && o.stdout.is_empty() && o.stderr.is_empty(),
            "--via {via}: {:?} {}",
            o.status,
            text(&o.stderr)
        );
        assert_eq!(fd(&sb, &format!("x{c}1")), "400");
        assert_eq!(
            sb.link(&format!("x{c}2")).s("linkinfo.info_data.stp_state"),
            "1"
        );
        // v2a went in (its cost was set there) and out again.
        assert!(sb.link("v2a").get("master").is_none(), "--via {via}");
    }
    // Lines that print: stdout carries exactly what the commands print, here bridge-utils'
    // bytes for the same state.
    sb.ok("printf 'show\\nshowmacs br0\\n' > /run/show");
    let ours = sb.ok("$BRCTL -b /run/show");
    let reference = sb.ok("brctl show; brctl showmacs br0");
    assert_eq!(ours, reference);
}

#[test]
fn batch_uses_one_process_and_one_socket() {
    let sb = world();
    // (path, prefix of its bridges, the one socket it opens)
    let runs = [
        ("--via netlink", "n", "AF_NETLINK"),
        ("--via ioctl", "i", "AF_UNIX"),
        ("--via sysfs", "s", "AF_UNIX"),
        // The default paths (ioctl to create, netlink to set): one socket of each kind.
        ("", "d", "AF_UNIX AF_NETLINK"),
    ];
    for (via, m, families) in runs {
        let mut lines = String::new();
        for i in 0..10 {
            lines.push_str(&format!("addbr {m}{i}\nsetfd {m}{i} 3\nstp {m}{i} on\n"));
        }
        let trace = sb.ok(&format!(
            "cat > /run/many <<'EOF'\n{lines}EOF
             strace -f -qq -e trace=socket,execve -o /run/st $BRCTL {via} -b /run/many && cat /run/st"
        ));
        let sockets: Vec<&str> = trace.lines().filter(|l| l.contains("socket(")).collect();
        let families: Vec<&str> = families.split(' ').collect();
        assert_eq!(sockets.len(), families.len(), "{via}: {trace}");
        for f in families {
            assert!(sockets.iter().any(|s| s.contains(f)), "{via}: {trace}");
        }
        assert_eq!(trace.matches("execve(").count(), 1, "one process: {trace}");
        for i in 0..10 {
            let d = sb.link(&format!("{m}{i}"));
            assert_eq!(d.s("linkinfo.info_data.forward_delay"), "300", "{via}");
            assert_eq!(d.s("linkinfo.info_data.stp_state"), "1", "{via}");
        }
    }
}

#[test]
fn batch_error_names_its_line_and_stops_there() {
    let sb = world();
    // A usage error on line 5: lines 1..4 are done, line 6 is not; status 2.
    sb.ok("printf 'addbr b1\\n# comment\\n\\naddbr b2\\nsetfd b2 abc\\naddbr b3\\n' > /run/b");
    let before = fd(&sb, "br0");
    let o = sb.brctl(&["-b", "/run/b"]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(
        err,
        "brctl: /run/b: line 5: setfd b2 abc: bad forward delay value 'abc': expected seconds, e.g. 15 or 4.5\n"
    );
    assert!(sb.has_link("b1") && sb.has_link("b2") && !sb.has_link("b3"));
    assert_eq!(fd(&sb, "br0"), before);

    // From stdin, an operation that fails on line 2: status 1.
    for via in VIAS {
        let c = &via[..1];
        let o = sb.sh_input(
            &format!("$BRCTL --via {via} -b -"),
            Some(&format!("addbr s{c}1\naddif s{c}1 nosuch\naddbr s{c}3\n")),
        );
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert_eq!(
            err,
            format!("brctl: -: line 2: addif s{c}1 nosuch: interface nosuch does not exist!\n")
        );
        assert!(sb.has_link(&format!("s{c}1")) && !sb.has_link(&format!("s{c}3")));
    }

    // A show of a missing bridge fails its line as it would alone (bridge-utils' message),
    // and the batch stops there.
    let o = sb.sh_input("$BRCTL -b -", Some("show br0\nshow nosuch\naddbr e2\n"));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(text(&o.stdout), sb.ok("brctl show br0"));
    assert_eq!(
        text(&o.stderr),
        "bridge nosuch does not exist!\nbrctl: -: line 2: stopped here (earlier lines are done)\n"
    );
    assert!(!sb.has_link("e2"));

    // No such file; a command after -b FILE.
    let o = sb.brctl(&["-b", "/nonexistent"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("/nonexistent"));
    let o = sb.brctl(&["-b", "/run/b", "addbr", "z"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!sb.has_link("z"));
}

/// (command, what --explain/--dry-run must show on ioctl, on sysfs, on netlink)
const MUTATIONS: &[(&str, &str, &str, &str)] = &[
    (
        "addbr newbr",
        "ioctl SIOCBRADDBR \"newbr\"",
        "ioctl SIOCBRADDBR \"newbr\"",
        "IFLA_IFNAME \"newbr\"",
    ),
    (
        "delbr br0",
        "ioctl SIOCBRDELBR \"br0\"",
        "ioctl SIOCBRDELBR \"br0\"",
        "RTM_DELLINK",
    ),
    (
        "addif br0 v2a",
        "ioctl SIOCBRADDIF {ifr_name=\"br0\"",
        "ioctl SIOCBRADDIF",
        "IFLA_MASTER",
    ),
    (
        "delif br0 v1a",
        "ioctl SIOCBRDELIF {ifr_name=\"br0\"",
        "ioctl SIOCBRDELIF",
        "IFLA_MASTER 0",
    ),
    (
        "setfd br0 5",
        "BRCTL_SET_BRIDGE_FORWARD_DELAY, 500}",
        "write /sys/class/net/br0/bridge/forward_delay \"500\\n\"",
        "IFLA_BR_FORWARD_DELAY 500",
    ),
    (
        "sethello br0 3",
        "BRCTL_SET_BRIDGE_HELLO_TIME, 300}",
        "write /sys/class/net/br0/bridge/hello_time \"300\\n\"",
        "IFLA_BR_HELLO_TIME 300",
    ),
    (
        "setmaxage br0 12",
        "BRCTL_SET_BRIDGE_MAX_AGE, 1200}",
        "write /sys/class/net/br0/bridge/max_age \"1200\\n\"",
        "IFLA_BR_MAX_AGE 1200",
    ),
    (
        "setageing br0 10",
        "BRCTL_SET_AGEING_TIME, 1000}",
        "write /sys/class/net/br0/bridge/ageing_time \"1000\\n\"",
        "IFLA_BR_AGEING_TIME 1000",
    ),
    (
        "setbridgeprio br0 7",
        "BRCTL_SET_BRIDGE_PRIORITY, 7}",
        "write /sys/class/net/br0/bridge/priority \"7\\n\"",
        "IFLA_BR_PRIORITY 7",
    ),
    (
        "stp br0 on",
        "BRCTL_SET_BRIDGE_STP_STATE, 1}",
        "write /sys/class/net/br0/bridge/stp_state \"1\\n\"",
        "IFLA_BR_STP_STATE 1",
    ),
    (
        "setpathcost br0 v1a 9",
        "BRCTL_SET_PATH_COST, 1, 9}",
        "write /sys/class/net/v1a/brport/path_cost \"9\\n\"",
        "IFLA_BRPORT_COST 9",
    ),
    (
        "setportprio br0 v1a 3",
        "BRCTL_SET_PORT_PRIORITY, 1, 3}",
        "write /sys/class/net/v1a/brport/priority \"3\\n\"",
        "IFLA_BRPORT_PRIORITY 3",
    ),
    (
        "hairpin br0 v1a on",
        "",
        "write /sys/class/net/v1a/brport/hairpin_mode \"1\\n\"",
        "IFLA_BRPORT_MODE 1",
    ),
];

fn shown(via: &str, m: &(&str, &'static str, &'static str, &'static str)) -> &'static str {
    match via {
        "ioctl" => m.1,
        "sysfs" => m.2,
        _ => m.3,
    }
}

#[test]
fn dry_run_changes_nothing_and_prints_the_requests() {
    let sb = world();
    let before = sb.links_state();
    for via in VIAS {
        for m in MUTATIONS {
            let want = shown(via, m);
            if want.is_empty() {
                continue; // no ioctl sets hairpin mode
            }
            let argv: Vec<&str> = ["--via", via, "--dry-run"]
                .into_iter()
                .chain(m.0.split(' '))
                .collect();
            let o = sb.brctl(&argv);
            let err = text(&o.stderr);
            assert!(o.status.success(), "--via {via} --dry-run {}: {err}", m.0);
            assert_eq!(text(&o.stdout), "", "--dry-run {}", m.0);
            assert!(
                err.contains(want) && err.contains("= not sent (--dry-run)"),
                "--via {via} --dry-run {}: {err:?} lacks {want:?}",
                m.0
            );
            // Only what would change something is printed: reads are made, not shown.
            assert!(!err.contains("RTM_GETLINK"), "{err}");
            assert_eq!(sb.links_state(), before, "--via {via} --dry-run {}", m.0);
        }
    }
    // Bad input is still refused under --dry-run.
    let o = sb.brctl(&["--dry-run", "sethello", "br0", "11"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn explain_shows_each_request_on_stderr_and_leaves_stdout_alone() {
    let sb = world();
    for via in VIAS {
        let c = &via[..1];
        // Reading: the same stdout with and without --explain.
        for cmd in ["show", "show br0", "showstp br0", "showmacs br0"] {
            let plain = sb.ok(&format!("$BRCTL --via {via} {cmd}"));
            let o = sb.sh(&format!("$BRCTL --via {via} --explain {cmd}"));
            assert!(o.status.success());
            assert_eq!(
                mask_timers(&text(&o.stdout)),
                mask_timers(&plain),
                "--via {via} --explain {cmd}"
            );
            let err = text(&o.stderr);
            let want = match via {
                "ioctl" => "ioctl SIOC",
                "sysfs" => "read /sys/class/net/",
                _ => "netlink RTM_GETLINK",
            };
            assert!(err.contains(want), "--via {via} --explain {cmd}: {err}");
        }
        // Changing: each request, then its result, and the change made.
        let o = sb.sh(&format!("$BRCTL --via {via} --explain addbr e{c}"));
        let err = text(&o.stderr);
        assert!(o.status.success() && o.stdout.is_empty(), "{err}");
        let want = if via == "netlink" {
            "RTM_NEWLINK flags=REQUEST|ACK|EXCL|CREATE".to_string()
        } else {
            format!("brctl: ioctl SIOCBRADDBR \"e{c}\"\nbrctl:   = 0\n")
        };
        assert!(err.contains(&want), "--via {via}: {err:?} lacks {want:?}");
        if via == "netlink" {
            assert!(
                err.contains(&format!("IFLA_IFNAME \"e{c}\""))
                    && err.contains("IFLA_INFO_KIND \"bridge\""),
                "{err}"
            );
            assert!(err.contains("= ACK"), "{err}");
        }
        assert_eq!(sb.link(&format!("e{c}")).s("linkinfo.info_kind"), "bridge");

        let o = sb.sh(&format!("$BRCTL --via {via} --explain setfd e{c} 5"));
        let err = text(&o.stderr);
        assert!(o.status.success() && o.stdout.is_empty(), "{err}");
        let want = match via {
            "ioctl" => format!("ioctl SIOCDEVPRIVATE {{ifr_name=\"e{c}\", ifr_data={{BRCTL_SET_BRIDGE_FORWARD_DELAY, 500}}}}"),
            "sysfs" => format!("write /sys/class/net/e{c}/bridge/forward_delay \"500\\n\"\nbrctl:   = ok"),
            _ => "IFLA_LINKINFO\n      IFLA_INFO_KIND \"bridge\"\n      IFLA_INFO_DATA\n        IFLA_BR_FORWARD_DELAY 500\nbrctl:   = ACK".into(),
        };
        assert!(err.contains(&want), "--via {via}: {err:?} lacks {want:?}");
        assert_eq!(fd(&sb, &format!("e{c}")), "500");
    }
    // A refusal is explained too: the kernel's errno after the request.
    let o = sb.sh("$BRCTL --via netlink --explain addbr br0");
    assert_eq!(o.status.code(), Some(1));
    let err = text(&o.stderr);
    assert!(err.contains("= -1 EEXIST (File exists)"), "{err}");
    assert!(
        err.ends_with(
            "brctl: addbr br0: device br0 already exists; can't create bridge with the same name\n"
        ),
        "{err}"
    );
}

/// Our JSON outputs, checked by python3's json module in one run at the end (each output is
/// one line), and parsed here as they come.
struct JsonSeen(Vec<String>);

impl JsonSeen {
    fn parse(&mut self, out: &str) -> Jv {
        assert_eq!(out.lines().count(), 1, "one line of JSON: {out:?}");
        self.0.push(out.to_string());
        Jv::parse(out)
    }

    fn check_with_python(&self, sb: &Sandbox) {
        let all: String = self.0.concat();
        let o = sb.sh_input(
            "python3 -c 'import json,sys
n = 0
for line in sys.stdin:
    json.loads(line); n += 1
print(n)'",
            Some(&all),
        );
        assert!(
            o.status.success(),
            "python3 rejects our JSON: {}",
            text(&o.stderr)
        );
        assert_eq!(text(&o.stdout).trim(), self.0.len().to_string());
    }
}

/// A `N.NN` timer as centiseconds.
fn cs(s: &str) -> i64 {
    let (a, b) = s.trim().split_once('.').expect("N.NN");
    a.parse::<i64>().unwrap() * 100 + b.parse::<i64>().unwrap()
}

#[test]
fn json_output_parses_and_agrees_with_the_text() {
    let sb = Sandbox::new();
    sb.ok(&format!(
        "{TWO_HOSTS}           ip link add v1a type veth peer name v1b
           $BRCTL addbr br0; $BRCTL addif br0 h1p h2p v1a; $BRCTL addbr br1; $BRCTL stp br1 on
           $BRCTL hairpin br0 v1a on; $BRCTL setpathcost br0 h2p 40
           ip link set br0 up
           ip -n h1 addr add 10.0.0.1/24 dev h1e; ip -n h1 link set h1e up
           ip -n h2 addr add 10.0.0.2/24 dev h2e; ip -n h2 link set h2e up
           ip netns exec h1 ping -c1 -W2 10.0.0.2"
    ));
    let mut seen = JsonSeen(Vec::new());
    // Compact, and exactly what a JSON writer would write back.
    assert_eq!(
        sb.ok("$BRCTL -j show").trim(),
        seen.parse(&sb.ok("$BRCTL -j show")).to_json()
    );
    for via in VIAS {
        // show: the rows of the text, field for field.
        let j = seen.parse(&sb.ok(&format!("$BRCTL --via {via} -j show")));
        let txt = sb.ok(&format!("$BRCTL --via {via} show"));
        let mut rows: Vec<(String, String, String, Vec<String>)> = Vec::new();
        for l in txt.lines().skip(1) {
            let f: Vec<&str> = l.split('\t').collect();
            if f[0].is_empty() {
                rows.last_mut()
                    .unwrap()
                    .3
                    .push(f.last().unwrap().to_string());
            } else {
                let ports = if f[5].is_empty() {
                    vec![]
                } else {
                    vec![f[5].to_string()]
                };
                rows.push((f[0].into(), f[2].into(), f[3].into(), ports));
            }
        }
        let from_json: Vec<(String, String, String, Vec<String>)> = j
            .arr()
            .iter()
            .map(|b| {
                (
                    b.s("bridge"),
                    b.s("bridge_id"),
                    if b.s("stp_enabled") == "true" {
                        "yes".into()
                    } else {
                        "no".into()
                    },
                    b.at("interfaces").arr().iter().map(|p| p.text()).collect(),
                )
            })
            .collect();
        assert_eq!(from_json, rows, "--via {via}");
        assert_eq!(rows.len(), 2);

        // showmacs: the same entries in the same order; timers within a second.
        let j = seen.parse(&sb.ok(&format!("$BRCTL --via {via} -j showmacs br0")));
        let txt = sb.ok(&format!("$BRCTL --via {via} showmacs br0"));
        let entries = j.arr();
        let lines: Vec<&str> = txt.lines().skip(1).collect();
        assert_eq!(entries.len(), lines.len(), "{txt}");
        assert!(
            entries.iter().any(|e| e.s("is_local") == "false"),
            "learnt entries: {txt}"
        );
        for (e, l) in entries.iter().zip(&lines) {
            let f: Vec<&str> = l.split('\t').filter(|f| !f.is_empty()).collect();
            assert_eq!(e.s("port_no"), f[0].trim(), "{l}");
            assert_eq!(e.s("mac"), f[1], "{l}");
            assert_eq!(
                e.s("is_local"),
                if f[2] == "yes" { "true" } else { "false" },
                "{l}"
            );
            assert!((cs(&e.s("ageing_timer")) - cs(f[3])).abs() <= 100, "{l}");
        }

        // showstp: every field of the bridge and of each port.
        for br in ["br0", "br1"] {
            let j = seen.parse(&sb.ok(&format!("$BRCTL --via {via} -j showstp {br}")));
            let txt = sb.ok(&format!("$BRCTL --via {via} showstp {br}"));
            assert_eq!(txt.lines().next(), Some(j.s("bridge").as_str()));
            let line = |label: &str| -> String {
                txt.lines()
                    .find(|l| l.starts_with(&format!(" {label}\t")))
                    .unwrap_or_else(|| panic!("{label} in {txt}"))
                    .to_string()
            };
            let field = |label: &str| -> String {
                line(label)
                    .split('\t')
                    .filter(|f| !f.is_empty())
                    .nth(1)
                    .unwrap()
                    .trim()
                    .to_string()
            };
            assert_eq!(j.s("bridge_id"), field("bridge id"));
            assert_eq!(j.s("designated_root"), field("designated root"));
            assert_eq!(j.s("root_port"), field("root port"));
            assert_eq!(j.s("max_age"), field("max age"));
            assert_eq!(j.s("hello_time"), field("hello time"));
            assert_eq!(j.s("forward_delay"), field("forward delay"));
            assert_eq!(j.s("ageing_time"), field("ageing time"));
            assert_eq!(j.s("stp_state") != "0", br == "br1");
            let ports = j.at("ports").arr();
            // Port blocks: each starts with a line `NAME (N)`.
            let blocks: Vec<&str> = txt
                .split("\n\n")
                .map(|b| b.trim_start_matches('\n'))
                .filter(|b| {
                    let first = b.lines().next().unwrap_or("");
                    first.ends_with(')') && first.contains(" (") && !first.starts_with(' ')
                })
                .collect();
            assert_eq!(ports.len(), blocks.len(), "{txt}");
            for (p, b) in ports.iter().zip(&blocks) {
                assert!(
                    b.starts_with(&format!("{} ({})\n", p.s("port"), p.s("port_no"))),
                    "{b}"
                );
                assert!(
                    b.contains(&format!(" port id\t\t{}\t", p.s("port_id"))),
                    "{b}"
                );
                assert!(
                    b.contains(&format!("state\t\t{:>15}\n", p.s("state"))),
                    "{b}"
                );
                assert!(
                    b.contains(&format!(
                        "\tpath cost\t\t{:4}\n",
                        p.s("path_cost").parse::<u32>().unwrap()
                    )),
                    "{b}"
                );
                assert!(
                    b.contains(&format!(
                        " designated bridge\t{}\t",
                        p.s("designated_bridge")
                    )),
                    "{b}"
                );
                assert_eq!(
                    b.contains(" hairpin mode\t\t   1"),
                    p.s("hairpin") == "true",
                    "{b}"
                );
            }
            if br == "br0" {
                assert_eq!(ports.len(), 3);
            }
        }
    }
    seen.check_with_python(&sb);
    // Errors stay bridge-utils' words, on stderr, with -j too.
    let o = sb.brctl(&["-j", "showstp", "nosuch"]);
    assert_eq!(
        (o.status.code(), text(&o.stdout), text(&o.stderr)),
        (Some(1), "".into(), "bridge nosuch does not exist!\n".into())
    );
}

#[test]
fn multicall_binary_gives_the_same_bytes() {
    let sb = world();
    sb.ok(
        "$BRCTL stp br0 on; $BRCTL setfd br0 30; ip link set br0 up; ip link set v1a up; ip link set v1b up
           mkdir -p /run/mc && ln -s $NETPLUMB /run/mc/brctl",
    );
    for args in [
        "show",
        "show br0",
        "show br0 nosuch",
        "showstp br0",
        "showmacs br0",
        "--via ioctl show",
        "--via sysfs showstp br0",
        "-j show",
        "--help",
        "--version",
        "frob",
        "addbr",
        "showstp nosuch",
    ] {
        let run = |prog: &str| {
            let o = sb.sh(&format!("{prog} {args}"));
            (
                mask_timers(&text(&o.stdout)),
                text(&o.stderr),
                o.status.code(),
            )
        };
        let ours = run("$BRCTL");
        assert_eq!(run("$NETPLUMB brctl"), ours, "netplumb brctl {args}");
        assert_eq!(
            run("/run/mc/brctl"),
            ours,
            "brctl (link to netplumb) {args}"
        );
    }
    // And they change the kernel the same way.
    sb.ok("$NETPLUMB brctl addbr mc1; /run/mc/brctl addbr mc2; /run/mc/brctl setfd mc2 7");
    assert_eq!(sb.link("mc1").s("linkinfo.info_kind"), "bridge");
    assert_eq!(fd(&sb, "mc2"), "700");
    let o = sb.sh("$NETPLUMB");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("brctl"));
}

#[test]
fn a_stale_sysfs_view_is_refused() {
    let sb = Sandbox::new();
    // outerbr lives in the sandbox's namespace, whose sysfs is on /sys; h1 has no bridge of
    // its own until later. nsenter --net does not remount /sys, so inside h1 /sys is stale.
    sb.ok("$BRCTL addbr outerbr; ip netns add h1");
    let in_h1 = "nsenter --net=/run/netns/h1";

    let o = sb.sh(&format!("{in_h1} $BRCTL --via sysfs setfd outerbr 5"));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("outerbr") && err.contains("/sys shows another network namespace"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1);
    assert_eq!(fd(&sb, "outerbr"), "1500");
    // bridge-utils, for contrast, writes through the stale /sys into the outer namespace.
    sb.ok(&format!("{in_h1} brctl setfd outerbr 5"));
    assert_eq!(fd(&sb, "outerbr"), "500");

    // The default path (netlink) shows h1 as it is: no bridges, so nothing at all.
    let o = sb.sh(&format!("{in_h1} $BRCTL show"));
    assert_eq!(
        (o.status.code(), text(&o.stdout), text(&o.stderr)),
        (Some(0), "".into(), "".into())
    );
    assert_eq!(sb.ok(&format!("{in_h1} $BRCTL --via ioctl show")), "");
    // bridge-utils lists the outer bridge there.
    assert!(sb.ok(&format!("{in_h1} brctl show")).contains("outerbr"));
    // Through sysfs: refused, never the outer bridge.
    for cmd in [
        "show",
        "showstp outerbr",
        "showmacs outerbr",
        "show outerbr",
        "stp outerbr on",
    ] {
        let o = sb.sh(&format!("{in_h1} $BRCTL --via sysfs {cmd}"));
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {err}");
        assert!(!text(&o.stdout).contains("outerbr"), "{cmd}");
        assert!(
            err.contains("/sys shows another network namespace"),
            "{cmd}: {err}"
        );
    }
    assert_eq!(sb.link("outerbr").s("linkinfo.info_data.stp_state"), "0");

    // A bridge that only h1 has: sysfs cannot see it, and says why rather than "no such bridge".
    sb.ok("ip -n h1 link add innerbr type bridge");
    for cmd in ["setfd innerbr 5", "showstp innerbr", "showmacs innerbr"] {
        let o = sb.sh(&format!("{in_h1} $BRCTL --via sysfs {cmd}"));
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{cmd}: {err}");
        assert!(
            err.contains("innerbr") && err.contains("/sys shows another network namespace"),
            "{cmd}: {err}"
        );
    }
    let inner = Jv::parse(&sb.ok("ip -n h1 -j -d link show innerbr"));
    assert_eq!(inner.s("0.linkinfo.info_data.forward_delay"), "1500");
    // netlink and ioctl follow the caller's namespace: they find innerbr and change it.
    sb.ok(&format!(
        "{in_h1} $BRCTL setfd innerbr 6; {in_h1} $BRCTL --via ioctl sethello innerbr 3"
    ));
    let inner = Jv::parse(&sb.ok("ip -n h1 -j -d link show innerbr"));
    assert_eq!(inner.s("0.linkinfo.info_data.forward_delay"), "600");
    assert_eq!(inner.s("0.linkinfo.info_data.hello_time"), "300");
    assert!(sb.ok(&format!("{in_h1} $BRCTL show")).contains("innerbr"));
    assert!(!sb.ok(&format!("{in_h1} $BRCTL show")).contains("outerbr"));
}
