//! The worked scripts in scripts/, run as a reader would run them: each in its default
//! sandbox mode (it re-runs itself under `unshare --net --mount`, or with a user namespace
//! when not root), with NETPLUMB_BIN pointing at the programs this test build made. A script
//! must exit 0, print its steps as command lines, and print the proof lines that show real
//! traffic went where it should (the wan server saw the host's address, the container behind
//! the published port saw the client's own); a proof that fails must make it exit 1.
//!
//! teardown.sh is tested where a kept run (`--here --keep`) leaves its things: in a test
//! sandbox (tests/common), with things of others beside them, and read back with iproute2
//! (`ip -j link`, `ip netns list`), `nft -j list ruleset`, `/proc/sys` and `/etc/netns`.

mod common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts");

/// The directory that holds the programs of this build (target/debug).
fn bin_dir() -> PathBuf {
    Path::new(NATCTL)
        .parent()
        .expect("a directory")
        .to_path_buf()
}

/// Runs `scripts/NAME ARGS` on this machine (the script makes its own sandbox), bounded by
/// `timeout`, with the programs taken from `bin`.
fn run_in(bin: &Path, name: &str, args: &[&str]) -> Output {
    Command::new("timeout")
        .args(["120", "bash"])
        .arg(Path::new(SCRIPTS).join(name))
        .args(args)
        .env("NETPLUMB_BIN", bin)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .expect("run a script (bash and coreutils timeout are needed)")
}

fn run(name: &str, args: &[&str]) -> Output {
    run_in(&bin_dir(), name, args)
}

/// The run must exit 0 and print every line of `lines` (whole lines), and no failed proof;
/// returns its stdout.
fn ok_with(o: &Output, lines: &[&str]) -> String {
    let out = text(&o.stdout);
    assert!(o.status.success(), "script failed: {}", show_out(o));
    for want in lines {
        assert!(
            out.lines().any(|l| l == *want),
            "no line {want:?} in the output: {}",
            show_out(o)
        );
    }
    assert!(
        !out.contains("proof FAILED"),
        "a proof failed: {}",
        show_out(o)
    );
    out
}

#[test]
fn two_namespaces_pings_across_one_veth_pair() {
    let o = run("two-namespaces.sh", &[]);
    ok_with(
        &o,
        &[
            "+ nsexec add left --lo-up",
            "+ vethctl add vl peer vr --netns left --peer-netns right --up",
            "+ nsexec exec left ifctl addr add vl 198.51.100.1/24",
            "proof ok: left reaches right over the veth pair (198.51.100.2)",
            "proof ok: right reaches left over the veth pair (198.51.100.1)",
            "== two-namespaces: 2 proofs held, 0 failed",
            "+ nsexec del left",
        ],
    );
}

#[test]
fn bridge_net_pings_and_connects_across_the_bridge() {
    let o = run("bridge-net.sh", &[]);
    ok_with(
        &o,
        &[
            "+ brctl addbr br0",
            "+ vethctl add veth-h1 peer eth0 --peer-netns h1 --master br0 --up",
            "proof ok: h1 reaches h2 across br0 (10.0.0.2)",
            "proof ok: h2 reaches h1 across br0 (10.0.0.1)",
            "h2 sees 10.0.0.1",
            "== bridge-net: 3 proofs held, 0 failed",
            "+ brctl delbr br0",
        ],
    );
}

#[test]
fn docker_bridge_masquerades_the_way_out_and_publishes_the_way_in() {
    let o = run("docker-bridge.sh", &[]);
    ok_with(
        &o,
        &[
            "+ brctl addbr docker0",
            "+ ifctl addr add docker0 172.17.0.1/16",
            "+ vethctl add veth-c2 peer eth0 --peer-netns c2 --master docker0 --up",
            "+ nsexec exec c2 ipfwd route add default via 172.17.0.1",
            "+ ipfwd on",
            "+ natctl masquerade add 172.17.0.0/16 --not-out docker0",
            "+ natctl publish add 8080 172.17.0.2:80",
            "proof ok: c1 reaches c2 (172.17.0.3)",
            "proof ok: c2 reaches c1 (172.17.0.2)",
            // The wan server saw the host's outside address, not the container's.
            "wan sees 203.0.113.1",
            "proof ok: c1 connects to wan (203.0.113.2:9000), masqueraded: wan sees 203.0.113.1",
            // The container behind the published port saw the outside client's own address.
            "c1 sees 203.0.113.2",
            "proof ok: wan connects to the host's published port (203.0.113.1:8080), served by c1: c1 sees 203.0.113.2",
            "== docker-bridge: 5 proofs held, 0 failed",
            "+ natctl masquerade del 172.17.0.0/16 --not-out docker0",
            "+ brctl delbr docker0",
        ],
    );
}

#[test]
fn docker_bridge_ipv6_proves_both_families() {
    let o = run("docker-bridge.sh", &["--ipv6"]);
    let out = ok_with(
        &o,
        &[
            "+ ifctl addr add wan0 2001:db8:ff::1/64",
            "+ ifctl addr add docker0 fd00:17::1/64",
            "+ nsexec exec c1 ifctl addr add eth0 fd00:17::2/64",
            "+ nsexec exec c2 ipfwd route add -6 default via fd00:17::1",
            "+ ipfwd on --ipv6",
            "+ natctl masquerade add fd00:17::/64 --not-out docker0",
            "+ natctl publish add 8080 '[fd00:17::2]:80'",
            "proof ok: c1 connects to wan (203.0.113.2:9000), masqueraded: wan sees 203.0.113.1",
            "proof ok: IPv6: c1 reaches c2 (fd00:17::3)",
            "proof ok: IPv6: c2 reaches c1 (fd00:17::2)",
            "proof ok: IPv6: c1 reaches its gateway, docker0 (fd00:17::1)",
            // The outside sees the host's IPv6 address (masquerade), and the container behind
            // the published port the outside client's own.
            "proof ok: IPv6: c1 connects to wan ([2001:db8:ff::2]:9000), masqueraded: wan sees 2001:db8:ff::1",
            "proof ok: IPv6: wan connects to the host's published port ([2001:db8:ff::1]:8080), served by c1: c1 sees 2001:db8:ff::2",
            "== docker-bridge: 10 proofs held, 0 failed",
            "+ natctl publish del 8080 '[fd00:17::2]:80'",
            "+ ipfwd off --ipv6",
            "+ brctl delbr docker0",
        ],
    );
    // Both families' rules, side by side in natctl's list.
    for want in [
        "dnat to 172.17.0.2:80",
        "dnat to [fd00:17::2]:80",
        "ip6 saddr fd00:17::/64",
    ] {
        assert!(out.contains(want), "no {want:?} in {out}");
    }
}

#[test]
fn docker_bridge_takes_a_container_count_and_a_subnet() {
    let o = run(
        "docker-bridge.sh",
        &["--containers", "3", "--subnet", "10.99.7.0/24"],
    );
    ok_with(
        &o,
        &[
            "+ ifctl addr add docker0 10.99.7.1/24",
            "+ nsexec exec c3 ifctl addr add eth0 10.99.7.4/24",
            "+ natctl masquerade add 10.99.7.0/24 --not-out docker0",
            "+ natctl publish add 8080 10.99.7.2:80",
            "proof ok: c1 reaches c3 (10.99.7.4)",
            "proof ok: c3 reaches c1 (10.99.7.2)",
            "wan sees 203.0.113.1",
            "c1 sees 203.0.113.2",
            "== docker-bridge: 6 proofs held, 0 failed",
        ],
    );
}

#[test]
fn docker_bridge_refuses_bad_options_before_making_anything() {
    for args in [
        &["--containers", "1"][..],
        &["--containers", "many"],
        &["--subnet", "203.0.0.0/16"],
        &["--subnet", "10.0.0.0/30"],
        &["--subnet"],
        &["--bogus"],
    ] {
        let o = run("docker-bridge.sh", args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", show_out(&o));
        assert!(
            o.stdout.is_empty() && text(&o.stderr).starts_with("docker-bridge: "),
            "{args:?}: {}",
            show_out(&o)
        );
    }
}

/// The etcd data directory a run of overlay-net.sh printed in its steps.
fn etcd_data_dir(out: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.starts_with("+ nsexec exec h1 etcd --name h1 --data-dir "))
        .unwrap_or_else(|| panic!("no etcd step in the output: {out}"));
    let dir = line.split_whitespace().nth(8).expect("the data dir");
    dir.trim_end_matches("/h1").to_string()
}

/// No process on this machine runs with `dir` in its command line (the run's etcd members
/// are stopped), and the directory is gone.
fn etcd_gone(dir: &str) {
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&cmdline).contains(dir),
            "process {:?} still runs with {dir}",
            e.file_name()
        );
    }
    assert!(!Path::new(dir).exists(), "{dir} is still there");
}

#[test]
fn overlay_net_two_hosts_by_hand_with_etcd() {
    let o = run("overlay-net.sh", &[]);
    let out = ok_with(
        &o,
        &[
            "+ nsexec exec h1 etcdctl --endpoints http://192.0.2.1:2379 put /netplumb/v1/networks/ov1 'vni=4097 subnet=10.20.0.0/24'",
            "+ nsexec exec h2 etcdctl --endpoints http://192.0.2.2:2379 get --print-value-only /netplumb/v1/networks/ov1",
            "+ nsexec exec h2 brctl addbr ov1",
            "+ nsexec exec h2 vxlanctl add vx-ov1 id 4097 local 192.0.2.2 dev eth0 nolearning proxy --master ov1 --up",
            "+ nsexec exec h2 fdbctl append vx-ov1 00:00:00:00:00:00 dst 192.0.2.1",
            "+ nsexec exec h1 vethctl add veth-c1 peer eth0 --peer-netns c1 --master ov1 --mtu 1450 --peer-mac 02:42:0a:14:00:02 --up",
            "+ nsexec exec h1 fdbctl add vx-ov1 02:42:0a:14:00:03 dst 192.0.2.2",
            // Both neighbour paths, one on each host.
            "+ nsexec exec h1 neighctl --via ioctl add vx-ov1 10.20.0.3 02:42:0a:14:00:03",
            "+ nsexec exec h2 neighctl --via netlink add vx-ov1 10.20.0.2 02:42:0a:14:00:02",
            "proof ok: c1 on h1 reaches c2 on h2 (10.20.0.3)",
            "proof ok: c2 on h2 reaches c1 on h1 (10.20.0.2)",
            "proof ok: c1 reaches c2 with 1450-byte packets, don't-fragment set",
            "proof ok: a 1451-byte packet with don't-fragment set does not pass",
            "proof ok: no ARP request crossed the underlay (the VXLAN devices answered every one)",
            "== overlay-net: 6 proofs held, 0 failed",
            "+ nsexec del h1",
        ],
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("proof ok: h2 received c1's pings as VXLAN on UDP 4789 (")),
        "{}",
        show_out(&o)
    );
    etcd_gone(&etcd_data_dir(&out));
}

#[test]
fn overlay_net_three_hosts() {
    let o = run("overlay-net.sh", &["--hosts", "3"]);
    let out = ok_with(
        &o,
        &[
            "+ nsexec exec h3 fdbctl append vx-ov1 00:00:00:00:00:00 dst 192.0.2.1",
            "+ nsexec exec h3 fdbctl append vx-ov1 00:00:00:00:00:00 dst 192.0.2.2",
            "+ nsexec exec h1 neighctl --via ioctl add vx-ov1 10.20.0.4 02:42:0a:14:00:04",
            "proof ok: c3 on h3 reaches c1 on h1 (10.20.0.2)",
            "proof ok: c2 on h2 reaches c3 on h3 (10.20.0.4)",
            "== overlay-net: 10 proofs held, 0 failed",
        ],
    );
    etcd_gone(&etcd_data_dir(&out));
}

#[test]
fn overlay_net_driven_by_overlayctl_and_its_agents() {
    let o = run("overlay-net.sh", &["--agent", "--hosts", "3"]);
    let etcd = |h: u8| {
        let mut m = vec![h];
        m.extend((1..=3).filter(|&o| o != h));
        m.iter()
            .map(|o| format!("http://192.0.2.{o}:2379"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let out = ok_with(
        &o,
        &[
            &format!(
                "+ nsexec exec h1 overlayctl --etcd {} --host h1 net create ov1 --vni 4097 --subnet 10.20.0.0/24",
                etcd(1)
            ),
            &format!("+ nsexec exec h3 overlayctl --etcd {} --host h3 watch &", etcd(3)),
            &format!(
                "+ nsexec exec h2 overlayctl --etcd {} --host h2 ep add ov1 c2 --name c2",
                etcd(2)
            ),
            "proof ok: c1 on h1 reaches c3 by its name",
            "proof ok: c3 on h3 reaches c2 by its name",
            "proof ok: c1 reaches c2 with 1450-byte packets, don't-fragment set",
            "proof ok: a 1451-byte packet with don't-fragment set does not pass",
            "proof ok: no ARP request crossed the underlay (the VXLAN devices answered every one)",
            "proof ok: h3: overlayctl status finds the kernel equal to the store",
            // 6 pairs by address and by name, the MTU both ways, VXLAN, no ARP, 3 statuses.
            "== overlay-net: 19 proofs held, 0 failed",
            "+ rm -r /run/netplumb/overlay/h1",
            "+ nsexec del h1",
        ],
    );
    // Each ep add printed "ADDR MAC": three distinct addresses of the subnet.
    let lines: Vec<&str> = out.lines().collect();
    let mut addrs: Vec<&str> = lines
        .windows(2)
        .filter(|w| w[0].contains(" ep add ov1 c"))
        .map(|w| w[1].split(' ').next().unwrap())
        .collect();
    assert_eq!(addrs.len(), 3, "{out}");
    assert!(addrs.iter().all(|a| a.starts_with("10.20.0.")), "{addrs:?}");
    addrs.sort();
    addrs.dedup();
    assert_eq!(addrs.len(), 3, "{out}");
    // The agents (their PIDs printed) are stopped, and so are the etcd members.
    let pids: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split_once("'s agent is PID "))
        .map(|(_, r)| r.split(' ').next().unwrap())
        .collect();
    assert_eq!(pids.len(), 3, "{out}");
    for pid in pids {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&cmdline).contains("overlayctl"),
            "agent {pid} still runs"
        );
    }
    etcd_gone(&etcd_data_dir(&out));
}

#[test]
fn overlay_net_fails_a_proof_without_neighbour_entries_and_still_stops_etcd() {
    // neighctl says yes to add and makes nothing: the VXLAN devices cannot answer ARP.
    let bin = Doctored::new("neighctl", "'--via ioctl'|'--via netlink'");
    let o = run_in(&bin.0, "overlay-net.sh", &[]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{}", show_out(&o));
    assert!(
        out.contains("proof FAILED: c1 on h1 reaches c2 on h2 (10.20.0.3)"),
        "{}",
        show_out(&o)
    );
    assert!(out.contains("\n+ nsexec del h1\n"), "{}", show_out(&o));
    etcd_gone(&etcd_data_dir(&out));
    for args in [&["--hosts", "4"][..], &["--hosts"], &["--bogus"]] {
        let o = run("overlay-net.sh", args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", show_out(&o));
        assert!(
            o.stdout.is_empty() && text(&o.stderr).starts_with("overlay-net: "),
            "{args:?}: {}",
            show_out(&o)
        );
    }
}

#[test]
fn docker_modes_each_mode_by_hand() {
    let o = run("docker-modes.sh", &[]);
    ok_with(
        &o,
        &[
            "proof ok: bridge: c1 reaches c2 across docker0",
            "proof ok: bridge: c1 reaches the outside (wan, 203.0.113.2), masqueraded",
            // host: a server run without any namespace is the host's.
            "+ timeout 20 python3 /run/netplumb-scripts/docker-modes/peer-echo.py server host 8000 &",
            "host sees 203.0.113.2",
            // none: loopback only.
            "+ nsexec exec --new ifctl show",
            "proof ok: none: the namespace has one interface, lo, up",
            "proof ok: none: its loopback answers",
            "proof ok: none: nothing else is reachable (not even docker0's 172.17.0.1)",
            // container: a second process joins c1's namespace by PID.
            "c1",
            "c1-too sees 172.17.0.3",
            // user-defined networks: routed, then isolated, then connected, then linked.
            "proof ok: networks: before isolation, the host routes a1 to b1 (172.19.0.2)",
            "+ natctl isolate add br-net1",
            "+ natctl isolate add br-net2",
            "proof ok: networks: isolated, a1 no longer reaches b1 through the host",
            "proof ok: networks: isolated, b1 no longer reaches a1 through the host",
            "+ vethctl add veth-a1-net2 peer eth1 --peer-netns a1 --master br-net2 --up",
            "proof ok: connect: a1, now on net2 too, reaches b1 directly across br-net2",
            "+ nsexec hosts a1 add 172.19.0.2 b1",
            "proof ok: link: in a1, b1 resolves to 172.19.0.2",
            "proof ok: link: a1 reaches b1 by name",
            "== docker-modes: 13 proofs held, 0 failed",
        ],
    );
    let out = text(&o.stdout);
    assert!(
        out.lines()
            .any(|l| l.starts_with("+ timeout 20 nsexec exec --pid ")
                && l.ends_with(
                    " python3 /run/netplumb-scripts/docker-modes/peer-echo.py server c1-too 8001 &"
                )),
        "the second process is not started by PID: {out}"
    );
}

#[test]
fn demo_runs_docker_bridge_in_a_sandbox() {
    // NETPLUMB_BIN names built programs, so the demo does not build (cargo is not run).
    let o = run("demo.sh", &[]);
    let out = ok_with(
        &o,
        &[
            "wan sees 203.0.113.1",
            "c1 sees 203.0.113.2",
            "== docker-bridge: 5 proofs held, 0 failed",
        ],
    );
    assert!(out.starts_with("== netplumb demo:"), "{out}");
    assert!(out.contains("\n== sandbox: unshare "), "{out}");
    assert!(!out.contains("cargo build"), "{out}");
    assert!(
        out.trim_end().ends_with("Next: scripts/docker-modes.sh"),
        "{out}"
    );
    let o = run("demo.sh", &["--host"]);
    assert_eq!(o.status.code(), Some(2), "{}", show_out(&o));
}

#[test]
fn explain_shows_the_kernel_requests() {
    let o = run("two-namespaces.sh", &["--explain"]);
    ok_with(
        &o,
        &[
            "+ vethctl --explain add vl peer vr --netns left --peer-netns right --up",
            "+ nsexec --explain exec left ifctl --explain addr add vl 198.51.100.1/24",
            "== two-namespaces: 2 proofs held, 0 failed",
        ],
    );
    let err = text(&o.stderr);
    for want in [
        "vethctl: netlink RTM_NEWLINK",
        "ifctl: netlink RTM_NEWADDR",
        "nsexec: setns(",
    ] {
        assert!(
            err.contains(want),
            "no {want:?} on stderr: {}",
            show_out(&o)
        );
    }
}

#[test]
fn every_script_has_help() {
    for name in [
        "two-namespaces.sh",
        "bridge-net.sh",
        "docker-bridge.sh",
        "docker-modes.sh",
        "overlay-net.sh",
        "teardown.sh",
        "demo.sh",
    ] {
        let o = run(name, &["--help"]);
        let out = text(&o.stdout);
        assert!(
            o.status.success() && out.starts_with("Usage: scripts/") && out.contains("--explain"),
            "{name} --help: {}",
            show_out(&o)
        );
        if name != "demo.sh" {
            for opt in ["--sandbox", "--host", "--here"] {
                assert!(out.contains(opt), "{name} --help lacks {opt}: {out}");
            }
        }
    }
}

/// The programs the scripts use (lib-demo.sh's NP_PROGRAMS).
const PROGRAMS: &[&str] = &[
    "brctl", "vethctl", "ifctl", "nsexec", "ipfwd", "natctl", "neighctl", "vxlanctl", "fdbctl",
];

/// A program directory where one program takes no step of one kind (it says yes and does
/// nothing), the other programs this build's.
struct Doctored(PathBuf);

impl Doctored {
    /// `prog` exits 0 at once when its first two words match the shell pattern `words`.
    fn new(prog: &str, words: &str) -> Doctored {
        let dir = std::env::temp_dir().join(format!(
            "netplumb-scripts-test-{prog}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        for p in PROGRAMS.iter().filter(|p| **p != prog) {
            std::os::unix::fs::symlink(bin_dir().join(p), dir.join(p)).expect("symlink");
        }
        let path = dir.join(prog);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\ncase \"$1 $2\" in {words}) exit 0 ;; esac\nexec '{}' \"$@\"\n",
                bin_dir().join(prog).display()
            ),
        )
        .expect("write the doctored program");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Doctored(dir)
    }
}

impl Drop for Doctored {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn a_failed_proof_fails_the_script() {
    // Without masquerade, the way out fails its proof.
    let bin = Doctored::new("natctl", "'masquerade add'|'masquerade del'");
    let o = run_in(&bin.0, "docker-bridge.sh", &[]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{}", show_out(&o));
    // Without masquerade, wan answers 172.17.0.2, which it has no route to.
    assert!(
        out.lines().any(|l| l.starts_with(
            "proof FAILED: c1 connects to wan (203.0.113.2:9000), masqueraded: heard \"no answer"
        )),
        "{}",
        show_out(&o)
    );
    assert!(
        out.contains("== docker-bridge: 4 proofs held, 1 failed"),
        "{}",
        show_out(&o)
    );
    // It still cleaned up after itself.
    assert!(
        out.contains("\n+ brctl delbr docker0\n"),
        "{}",
        show_out(&o)
    );
}

// ---- teardown.sh ----

/// What a run may change, in a test sandbox: links (name, flags, master), named namespaces,
/// the whole nf_tables ruleset, the forwarding switch, /etc/netns and the scripts' run
/// directory.
fn state(sb: &Sandbox) -> String {
    let links: Vec<String> = Jv::parse(&sb.ok("ip -j link show"))
        .arr()
        .iter()
        .map(|l| {
            let master = l.get("master").map(Jv::text).unwrap_or_default();
            format!("{} {} {master}", l.s("ifname"), l.at("flags").to_json())
        })
        .collect();
    format!(
        "links: {links:?}\nnetns: {:?}\n{}",
        netns_names(sb),
        sb.ok("echo ruleset:; nft -j list ruleset
               echo; echo forward: $(cat /proc/sys/net/ipv4/ip_forward)
               echo etc:; ls -R /etc/netns 2>&1 || true
               echo run:; ls -R /run/netplumb-scripts 2>&1 || true")
    )
}

/// The named namespaces, as `ip -j netns list` has them, sorted.
fn netns_names(sb: &Sandbox) -> Vec<String> {
    let out = sb.ok("ip -j netns list");
    let mut v: Vec<String> = Jv::parse(if out.trim().is_empty() { "[]" } else { &out })
        .arr()
        .iter()
        .map(|n| n.s("name"))
        .collect();
    v.sort();
    v
}

/// Runs `scripts/NAME ARGS` inside the test sandbox (`--here`).
fn run_here(sb: &Sandbox, name: &str, args: &str) -> Output {
    sb.sh(&format!(
        "NETPLUMB_BIN='{}' timeout 120 bash '{SCRIPTS}/{name}' {args}",
        bin_dir().display()
    ))
}

/// What a kept run must leave, and what its teardown must print.
struct Kept<'a> {
    script: &'a str,
    /// Lines the kept run prints.
    lines: &'a [&'a str],
    /// Links that stay, each with its master ("" for none).
    links: &'a [(&'a str, &'a str)],
    netns: &'a [&'a str],
    /// Text the rest of the state holds while the run is kept (rules, switch, files).
    holds: &'a [&'a str],
    teardown_args: &'a str,
    teardown_lines: &'a [&'a str],
}

/// Runs the script with `--here --keep` in the sandbox, checks what it left, that a second
/// run is refused while it is kept, then runs teardown.sh and checks the sandbox is exactly
/// as it was before. Returns teardown's output.
fn keep_then_teardown(sb: &Sandbox, k: &Kept) -> Output {
    let before = state(sb);
    let o = run_here(sb, k.script, "--here --keep");
    ok_with(&o, k.lines);

    let kept = state(sb);
    for (link, master) in k.links {
        let l = sb.link(link);
        assert_eq!(
            l.get("master").map(Jv::text).unwrap_or_default(),
            *master,
            "{link}"
        );
    }
    let names = netns_names(sb);
    for ns in k.netns {
        assert!(
            names.iter().any(|n| n == ns),
            "no netns {ns} kept: {names:?}"
        );
    }
    for want in k.holds {
        assert!(kept.contains(want), "kept state lacks {want}: {kept}");
    }
    let again = run_here(sb, k.script, "--here");
    assert_eq!(again.status.code(), Some(1), "{}", show_out(&again));
    let name = k.script.trim_end_matches(".sh");
    assert!(
        text(&again.stderr).contains(&format!("remove it first with scripts/teardown.sh {name}")),
        "{}",
        show_out(&again)
    );
    assert_eq!(state(sb), kept, "the refused run changed something");

    let o = run_here(sb, "teardown.sh", k.teardown_args);
    let out = ok_with(&o, k.teardown_lines);
    assert_eq!(state(sb), before, "teardown left a difference: {out}");
    o
}

#[test]
fn teardown_removes_what_a_kept_run_made_and_nothing_else() {
    let sb = Sandbox::new();
    // Things of others: a bridge, a named namespace, a table of another tool, and a natctl
    // rule (so natctl's table was there before the run, and must stay).
    sb.ok("ip link add other0 type bridge
           ip netns add other
           nft add table inet other
           nft add chain inet other input '{ type filter hook input priority 0; }'
           nft add rule inet other input tcp dport 22 counter accept
           \"$NATCTL\" masquerade add 10.200.0.0/16");
    let o = keep_then_teardown(
        &sb,
        &Kept {
            script: "docker-bridge.sh",
            lines: &[
                "wan sees 203.0.113.1",
                "c1 sees 203.0.113.2",
                "== kept (--keep): what this run made stays, recorded in /run/netplumb-scripts/docker-bridge/made",
                "   remove it with: scripts/teardown.sh docker-bridge",
            ],
            links: &[("docker0", ""), ("veth-c1", "docker0"), ("veth-c2", "docker0"), ("wan0", "")],
            netns: &["c1", "c2", "wan"],
            holds: &["natctl:masquerade 172.17.0.0/16", "forward: 1", "/run/netplumb-scripts:"],
            teardown_args: "docker-bridge",
            teardown_lines: &[
                "+ natctl publish del 8080 172.17.0.2:80",
                "+ natctl masquerade del 172.17.0.0/16 --not-out docker0",
                "+ ipfwd off",
                "+ brctl delbr docker0",
                "+ nsexec del wan",
            ],
        },
    );
    // natctl's table held a rule of someone else: it stays, with that rule.
    assert!(
        !text(&o.stdout).contains("natctl flush"),
        "{}",
        show_out(&o)
    );
    assert!(sb.ok("\"$NATCTL\" list").contains("10.200.0.0/16"));
    assert!(sb.has_link("other0"));
    assert_eq!(netns_names(&sb), ["other"]);

    // Nothing left to remove: nothing done, exit 0.
    let before = state(&sb);
    let o = run_here(&sb, "teardown.sh", "");
    ok_with(
        &o,
        &["== teardown: no kept run recorded under /run/netplumb-scripts"],
    );
    assert_eq!(state(&sb), before);
}

#[test]
fn teardown_of_docker_modes_removes_its_table_hosts_files_and_switch() {
    let sb = Sandbox::new();
    assert!(state(&sb).contains("forward: 0"));
    let o = keep_then_teardown(
        &sb,
        &Kept {
            script: "docker-modes.sh",
            lines: &["== docker-modes: 13 proofs held, 0 failed"],
            links: &[
                ("br-net1", ""),
                ("br-net2", ""),
                ("veth-a1", "br-net1"),
                ("veth-a1-net2", "br-net2"),
                ("veth-b1", "br-net2"),
            ],
            netns: &["a1", "b1", "c1", "c2", "wan"],
            holds: &[
                "\"name\": \"natctl\"",
                "natctl:isolate",
                "forward: 1",
                "/etc/netns/a1:\nhosts",
            ],
            // Every kept run (no name given), with the kernel requests shown.
            teardown_args: "--explain",
            teardown_lines: &[
                "+ nsexec --explain hosts a1 del b1",
                "+ rm /etc/netns/a1/hosts",
                "+ rmdir /etc/netns",
                "+ natctl --explain isolate del br-net2",
                "+ natctl --explain isolate del br-net1",
                // natctl's table was made by this run: it goes too.
                "+ natctl --explain flush",
                "+ ipfwd --explain off",
            ],
        },
    );
    assert!(
        text(&o.stderr).contains("NFT_MSG_DELRULE"),
        "{}",
        show_out(&o)
    );
}

#[test]
fn teardown_of_a_kept_overlay_net_stops_its_etcd_members_and_removes_their_data() {
    let sb = Sandbox::new();
    let o = keep_then_teardown(
        &sb,
        &Kept {
            script: "overlay-net.sh",
            lines: &[
                "== overlay-net: 6 proofs held, 0 failed",
                "== kept (--keep): what this run made stays, recorded in /run/netplumb-scripts/overlay-net/made",
                "   remove it with: scripts/teardown.sh overlay-net",
            ],
            links: &[("ul", ""), ("ul1", "ul"), ("ul2", "ul")],
            netns: &["h1", "h2", "c1", "c2"],
            holds: &["/run/netplumb-scripts:"],
            teardown_args: "overlay-net",
            teardown_lines: &["+ nsexec del h1", "+ nsexec del c2", "+ brctl delbr ul"],
        },
    );
    let out = text(&o.stdout);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("+ kill ")).count(),
        2,
        "one kill per etcd member: {out}"
    );
    let data = out
        .lines()
        .find_map(|l| l.strip_prefix("+ rm -r "))
        .unwrap_or_else(|| panic!("no data dir removed: {out}"));
    assert!(
        data.starts_with("/run/netplumb-scripts/overlay-net/etcd."),
        "{data}"
    );
    // The members ran while kept (keep_then_teardown saw the run refused again); now none
    // runs with that data dir, and the dir is gone from the sandbox's /run.
    etcd_gone(data);
    assert!(!sb
        .ok(&format!("ls -d {data} 2>/dev/null || true"))
        .contains(data));
}

#[test]
fn teardown_takes_no_sandbox() {
    let o = run("teardown.sh", &["--sandbox"]);
    assert_eq!(o.status.code(), Some(2), "{}", show_out(&o));
}
