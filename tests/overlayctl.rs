//! overlayctl against a real 3-member etcd on three hosts (namespaces on an underlay), with
//! `etcdctl get -w json`, `bridge -j fdb`, `ip -j neigh` and ping as the oracles.

mod common;

use common::etcd::{wait_for, Cluster, PKI};
use common::{show_out, text, Jv};
use std::time::Duration;

/// `overlayctl` on host `h` (in its namespace), with the cluster's members.
fn ov(c: &Cluster, h: &str, args: &str) -> std::process::Output {
    c.sb.sh(&format!(
        "ip netns exec {h} $OVERLAYCTL --etcd {} {} --host {h} {args}",
        c.endpoints(),
        c.tls_args()
    ))
}

/// `overlayctl` on host `h` with only the options in `args`.
fn ov_bare(c: &Cluster, h: &str, args: &str) -> std::process::Output {
    c.sb.sh(&format!("ip netns exec {h} $OVERLAYCTL --host {h} {args}"))
}

fn ov_ok(c: &Cluster, h: &str, args: &str) -> String {
    let o = ov(c, h, args);
    assert!(
        o.status.success(),
        "overlayctl {args} on {h}:\n{}",
        show_out(&o)
    );
    text(&o.stdout)
}

/// The agents started by a test, SIGKILLed by PID when it ends (also on failure).
struct Agents<'a> {
    c: &'a Cluster,
    pids: Vec<(String, i32)>,
}

impl<'a> Agents<'a> {
    fn new(c: &'a Cluster) -> Agents<'a> {
        Agents {
            c,
            pids: Vec::new(),
        }
    }

    /// Starts `overlayctl watch` on `h` and waits until it has synced.
    fn start(&mut self, h: &str, ttl: u32) {
        let n = self.pids.len();
        let log = format!("/run/agent-{h}-{n}.log");
        let pid = self.c.sb.ok(&format!(
            "ip netns exec {h} $OVERLAYCTL --etcd {} {} --host {h} --ttl {ttl} watch >{log} 2>&1 </dev/null &
            echo $!",
            self.c.endpoints(),
            self.c.tls_args()
        ));
        self.pids.push((log.clone(), pid.trim().parse().unwrap()));
        let ok = wait_for(Duration::from_secs(60), || {
            self.log(&log).contains("synced at revision")
        });
        assert!(ok, "the agent on {h} did not sync:\n{}", self.log(&log));
    }

    fn log(&self, log: &str) -> String {
        text(&self.c.sb.sh(&format!("cat {log}")).stdout)
    }

    fn logs(&self) -> String {
        self.pids
            .iter()
            .map(|(l, _)| format!("== {l}\n{}", self.log(l)))
            .collect()
    }

    /// SIGKILLs agent `i` (in start order).
    fn kill(&mut self, i: usize) {
        let pid = self.pids[i].1;
        // SAFETY: kill has no memory effects; the PID is an agent this test started.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        self.pids[i].1 = 0;
    }
}

impl Drop for Agents<'_> {
    fn drop(&mut self) {
        for &(_, pid) in &self.pids {
            if pid > 0 {
                // SAFETY: as in kill.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

/// `bridge -j fdb show dev ov-NET` in host `h`: (mac, dst) of the permanent entries.
fn fdb(c: &Cluster, h: &str, net: &str) -> Vec<(String, String)> {
    let o = c.sb.sh(&format!(
        "ip netns exec {h} bridge -j fdb show dev ov-{net}"
    ));
    if !o.status.success() {
        return Vec::new();
    }
    let mut v: Vec<(String, String)> = Jv::parse(&text(&o.stdout))
        .arr()
        .iter()
        .filter(|e| e.get("dst").is_some())
        .map(|e| (e.s("mac"), e.s("dst")))
        .collect();
    v.sort();
    v
}

/// `ip -j neigh show dev ov-NET` in host `h`: (addr, mac).
fn neigh(c: &Cluster, h: &str, net: &str) -> Vec<(String, String)> {
    let o =
        c.sb.sh(&format!("ip netns exec {h} ip -j neigh show dev ov-{net}"));
    if !o.status.success() {
        return Vec::new();
    }
    let mut v: Vec<(String, String)> = Jv::parse(&text(&o.stdout))
        .arr()
        .iter()
        .filter(|e| e.get("lladdr").is_some())
        .map(|e| (e.s("dst"), e.s("lladdr")))
        .collect();
    v.sort();
    v
}

fn container(c: &Cluster, name: &str) {
    c.sb.ok(&format!("ip netns add {name}"));
}

#[test]
fn seed_story_three_hosts_ping_and_names() {
    let c = Cluster::new();
    let mut agents = Agents::new(&c);
    for h in ["h1", "h2", "h3"] {
        agents.start(h, 5);
    }
    ov_ok(&c, "h1", "net create ov1 --vni 42 --subnet 10.20.0.0/24");
    // The store holds the network and its VNI's key (etcdctl's view).
    let j = Jv::parse(&c.etcdctl("get /netplumb/v1/ --prefix -w json"));
    let keys: Vec<String> = j
        .at("kvs")
        .arr()
        .iter()
        .map(|kv| {
            let k = kv.s("key");
            String::from_utf8(libnet_sys_b64(&k)).unwrap()
        })
        .collect();
    assert!(
        keys.contains(&"/netplumb/v1/networks/ov1".to_string()),
        "{keys:?}"
    );
    assert!(
        keys.contains(&"/netplumb/v1/vni/42".to_string()),
        "{keys:?}"
    );
    // Every host's agent makes the network: the VXLAN device with the underlay's MTU - 50.
    for h in ["h1", "h2", "h3"] {
        let made = wait_for(Duration::from_secs(30), || {
            c.sb.sh(&format!("ip netns exec {h} ip link show ov-ov1"))
                .status
                .success()
        });
        assert!(made, "{h} has no ov-ov1:\n{}", agents.logs());
        let l = Jv::parse(
            &c.sb
                .ok(&format!("ip netns exec {h} ip -j -d link show ov-ov1")),
        );
        assert_eq!(l.s("0.mtu"), "1450");
        assert_eq!(l.s("0.linkinfo.info_data.id"), "42");
        assert_eq!(l.s("0.master"), "ob-ov1");
    }
    container(&c, "c1");
    container(&c, "c3");
    let a1 = ov_ok(&c, "h1", "ep add ov1 c1 --name web");
    let a3 = ov_ok(&c, "h3", "ep add ov1 c3 --name db");
    let (ip1, mac1) = a1.trim().split_once(' ').unwrap();
    let (ip3, mac3) = a3.trim().split_once(' ').unwrap();
    assert_ne!(ip1, ip3);
    // The endpoint keys are under the hosts' leases.
    let j = Jv::parse(&c.etcdctl("get /netplumb/v1/endpoints/ --prefix -w json"));
    assert_eq!(j.at("kvs").arr().len(), 2);
    for kv in j.at("kvs").arr() {
        assert_ne!(kv.s("lease"), "0");
    }
    // Each container's end has the address, MAC and MTU.
    let l = Jv::parse(&c.sb.ok("ip netns exec c1 ip -j addr show ov-ov1"));
    assert_eq!(l.s("0.address"), mac1);
    assert_eq!(l.s("0.mtu"), "1450");
    assert_eq!(l.s("0.addr_info.0.local"), ip1);
    // Every other host gets the remote entries: h2 (no endpoint) sees both, h1 sees c3's.
    let want_h2 = {
        let mut v = vec![
            ("00:00:00:00:00:00".to_string(), "192.0.2.1".to_string()),
            ("00:00:00:00:00:00".to_string(), "192.0.2.3".to_string()),
            (mac1.to_string(), "192.0.2.1".to_string()),
            (mac3.to_string(), "192.0.2.3".to_string()),
        ];
        v.sort();
        v
    };
    let ok = wait_for(Duration::from_secs(30), || fdb(&c, "h2", "ov1") == want_h2);
    assert!(
        ok,
        "h2's fdb {:?} != {want_h2:?}\n{}",
        fdb(&c, "h2", "ov1"),
        agents.logs()
    );
    let ok = wait_for(Duration::from_secs(30), || {
        neigh(&c, "h1", "ov1") == vec![(ip3.to_string(), mac3.to_string())]
    });
    assert!(
        ok,
        "h1's neighbours {:?}\n{}",
        neigh(&c, "h1", "ov1"),
        agents.logs()
    );
    // Containers on h1 and h3 reach each other, by address and by name, at the full MTU.
    c.sb.ok(&format!("ip netns exec c1 ping -c 2 -W 5 {ip3}"));
    c.sb.ok("ip netns exec c1 ping -c 1 -W 5 db");
    c.sb.ok("ip netns exec c3 ping -c 1 -W 5 web");
    c.sb.ok(&format!(
        "ip netns exec c3 ping -c 1 -W 5 -M do -s 1422 {ip1}"
    ));
    // status agrees on every host.
    for h in ["h1", "h2", "h3"] {
        let o = ov(&c, h, "status");
        assert!(o.status.success(), "{h}:\n{}", show_out(&o));
    }
    // ls shows what etcdctl holds.
    let ls = ov_ok(&c, "h2", "ep ls ov1");
    assert!(
        ls.contains(ip1) && ls.contains(ip3) && ls.contains("web") && ls.contains("db"),
        "{ls}"
    );
    // A name goes from every hosts file when its endpoint goes (removed on another host);
    // lines outside the network's subnet are the user's and stay.
    c.sb.ok("echo '192.0.2.99\tgw' >> /etc/netns/c1/hosts");
    ov_ok(&c, "h3", "ep rm ov1 c3");
    let hosts = || c.sb.ok("cat /etc/netns/c1/hosts");
    let gone = wait_for(Duration::from_secs(30), || !hosts().contains("db"));
    assert!(
        gone,
        "c1's hosts still names db:\n{}\n{}",
        hosts(),
        agents.logs()
    );
    let h = hosts();
    assert!(h.contains("gw") && h.contains("web"), "{h}");
    // A stale name written while no agent looked is removed by the next sync.
    c.sb.ok("echo '10.20.0.77\tghost' >> /etc/netns/c1/hosts");
    let out = ov_ok(&c, "h1", "sync");
    assert!(out.contains("stale name(s) removed"), "{out}");
    let h = hosts();
    assert!(
        !h.contains("ghost") && h.contains("gw") && h.contains("web"),
        "{h}"
    );
    let resolves = c.sb.sh("ip netns exec c1 getent hosts db").status.success();
    assert!(!resolves, "db still resolves in c1");
}

/// base64 through coreutils' reading is not needed: etcdctl's JSON keys are standard base64.
fn libnet_sys_b64(s: &str) -> Vec<u8> {
    let o = std::process::Command::new("base64")
        .arg("-d")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut ch| {
            use std::io::Write;
            ch.stdin.take().unwrap().write_all(s.as_bytes())?;
            ch.wait_with_output()
        })
        .expect("coreutils base64");
    o.stdout
}

/// Net ov1 made on h1, agents on the given hosts, and one endpoint on h1 (c1).
fn one_endpoint(c: &Cluster, agents: &mut Agents, hosts: &[&str], ttl: u32) -> (String, String) {
    for h in hosts {
        agents.start(h, ttl);
    }
    ov_ok(c, "h1", "net create ov1 --vni 42 --subnet 10.20.0.0/24");
    container(c, "c1");
    let a = ov_ok(c, "h1", "ep add ov1 c1");
    let (ip, mac) = a.trim().split_once(' ').unwrap();
    (ip.to_string(), mac.to_string())
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

/// Members that demand client certificates, as production clusters do: the store written and
/// an agent following it over https (etcdctl, on TLS too, and the kernel as oracles); each way
/// the TLS options can be wrong is one line, nothing written.
#[test]
fn tls_with_client_certificates() {
    let c = Cluster::with_tls();
    let mut agents = Agents::new(&c);
    let (ip, mac) = one_endpoint(&c, &mut agents, &["h1", "h2"], 5);
    let keys = c.etcdctl("get /netplumb/v1/endpoints/ov1/ --prefix --keys-only");
    assert!(keys.contains(&ip), "{keys}");
    let ok = wait_for(Duration::from_secs(30), || {
        fdb(&c, "h2", "ov1").contains(&pair(&mac, "192.0.2.1"))
    });
    assert!(ok, "h2: {:?}\n{}", fdb(&c, "h2", "ov1"), agents.logs());
    let o = ov(&c, "h1", "--explain net ls");
    assert!(
        text(&o.stderr).contains("POST https://192.0.2.1:2379/v3/kv/range")
            || text(&o.stdout).contains("POST https://192.0.2.1:2379/v3/kv/range"),
        "{}",
        show_out(&o)
    );
    let eps = c.endpoints();
    let plain = eps.replace("https://", "http://");
    let client = format!("--cert {PKI}/client.pem --key {PKI}/client-key.pem");
    let create = "net create ov2 --vni 43 --subnet 10.21.0.0/24";
    for (args, status, says) in [
        (format!("--etcd {eps}"), 2, "--cacert: TLS to etcd needs the CA file"),
        (
            format!("--etcd {plain} --cacert {PKI}/ca.pem {client}"),
            2,
            "use https://",
        ),
        (
            format!("--etcd {eps} --cacert {PKI}/ca.pem --cert {PKI}/client.pem"),
            2,
            "--cert: needs --key",
        ),
        (
            format!("--etcd {eps} --cacert {PKI}/nosuch.pem {client}"),
            2,
            "nosuch.pem: not a PEM certificate file",
        ),
        (
            format!("--etcd {eps} --cacert {PKI}/client-key.pem {client}"),
            2,
            "holds no PEM certificate",
        ),
        // The member refuses a client without a certificate; the client refuses a member
        // whose certificate no given CA signed.
        (
            format!("--etcd {eps} --cacert {PKI}/ca.pem"),
            1,
            "the member wants a client certificate: give --cert and --key",
        ),
        (
            format!("--etcd {eps} --cacert {PKI}/other-ca.pem {client}"),
            1,
            "UnknownIssuer: the member's certificate is refused: --cacert must be the CA",
        ),
        // Signed by a CA the members do not trust.
        (
            format!(
                "--etcd {eps} --cacert {PKI}/ca.pem --cert {PKI}/other-ca.pem --key {PKI}/other-ca-key.pem"
            ),
            1,
            "the member refused this client's certificate",
        ),
    ] {
        let args = format!("{args} {create}");
        refused_by(&c, &args, status, says, || ov_bare(&c, "h1", &args));
    }
}

#[test]
fn kernel_drift_is_repaired_by_sync_and_a_second_sync_writes_nothing() {
    let c = Cluster::new();
    let mut agents = Agents::new(&c);
    let (ip, mac) = one_endpoint(&c, &mut agents, &["h1", "h3"], 5);
    let want = vec![
        pair("00:00:00:00:00:00", "192.0.2.1"),
        pair(&mac, "192.0.2.1"),
    ];
    assert!(wait_for(Duration::from_secs(30), || fdb(&c, "h3", "ov1") == want));
    // h3's agent stops; its kernel drifts: an entry deleted, a stray one added, by hand.
    agents.kill(1);
    c.sb.ok(&format!(
        "ip netns exec h3 bridge fdb del {mac} dev ov-ov1 dst 192.0.2.1 self
         ip netns exec h3 bridge fdb append 02:00:00:00:00:99 dev ov-ov1 dst 192.0.2.9 self permanent
         ip netns exec h3 ip neigh del {ip} dev ov-ov1"
    ));
    let o = ov(&c, "h3", "status");
    assert_eq!(o.status.code(), Some(1), "{}", show_out(&o));
    // --dry-run says what it would do and does nothing.
    let dry = ov_ok(&c, "h3", "--dry-run sync");
    assert!(
        dry.contains(&format!("would add fdb {mac} dst 192.0.2.1 dev ov-ov1")),
        "{dry}"
    );
    assert!(fdb(&c, "h3", "ov1").contains(&pair("02:00:00:00:00:99", "192.0.2.9")));
    let out = ov_ok(&c, "h3", "sync");
    for line in [
        format!("add fdb {mac} dst 192.0.2.1 dev ov-ov1"),
        "del fdb 02:00:00:00:00:99 dst 192.0.2.9 dev ov-ov1".to_string(),
        format!("add neigh {ip} lladdr {mac} dev ov-ov1"),
    ] {
        assert!(out.lines().any(|l| l == line), "no {line:?} in:\n{out}");
    }
    assert_eq!(fdb(&c, "h3", "ov1"), want);
    assert_eq!(neigh(&c, "h3", "ov1"), vec![pair(&ip, &mac)]);
    // A second sync finds nothing to do and sends no netlink write.
    let o = ov(&c, "h3", "--explain sync");
    assert!(o.status.success(), "{}", show_out(&o));
    assert_eq!(text(&o.stdout), "");
    let err = text(&o.stderr);
    assert!(err.contains("RTM_GETNEIGH"), "{err}");
    for write in ["RTM_NEWNEIGH", "RTM_DELNEIGH", "RTM_NEWLINK", "RTM_DELLINK"] {
        assert!(!err.contains(write), "a second sync sent {write}:\n{err}");
    }
    assert!(
        err.contains("POST http://"),
        "--explain shows the etcd request:\n{err}"
    );
    assert!(
        err.contains("/netplumb/v1/networks/ov1"),
        "keys decoded:\n{err}"
    );
    let o = ov(&c, "h3", "status");
    assert!(o.status.success(), "{}", show_out(&o));
}

/// One clear line on stderr and exit 1 (2 for usage), and nothing changed in the store.
fn refused(c: &Cluster, h: &str, args: &str, status: i32, says: &str) {
    refused_by(c, args, status, says, || ov(c, h, args));
}

/// [`refused`] of what `run` runs.
fn refused_by(
    c: &Cluster,
    args: &str,
    status: i32,
    says: &str,
    run: impl FnOnce() -> std::process::Output,
) {
    let before = c.etcdctl("get /netplumb/ --prefix");
    let o = run();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(status), "{args}:\n{}", show_out(&o));
    assert_eq!(err.lines().count(), 1, "{args}: not one line:\n{err}");
    assert!(
        err.starts_with("overlayctl: ") && err.contains(says),
        "{args}: {err}"
    );
    assert_eq!(
        c.etcdctl("get /netplumb/ --prefix"),
        before,
        "{args} changed the store"
    );
}

#[test]
fn bad_input_is_one_line_and_nothing_half_made() {
    let c = Cluster::new();
    let mut agents = Agents::new(&c);
    agents.start("h1", 5);
    ov_ok(&c, "h1", "net create ov1 --vni 42 --subnet 10.20.0.0/24");
    ov_ok(&c, "h1", "net create tiny --vni 43 --subnet 10.30.0.0/30");
    container(&c, "c1");
    refused(
        &c,
        "h1",
        "net create ov2 --vni 42 --subnet 10.21.0.0/24",
        1,
        "VNI 42 is taken by network ov1",
    );
    refused(
        &c,
        "h1",
        "net create ov1 --vni 44 --subnet 10.21.0.0/24",
        1,
        "network ov1 exists",
    );
    refused(
        &c,
        "h1",
        "net create ov2 --vni 0 --subnet 10.21.0.0/24",
        2,
        "vni",
    );
    refused(
        &c,
        "h1",
        "net create ov2 --vni 45 --subnet 10.21.0.1/24",
        2,
        "not an IPv4 network",
    );
    refused(
        &c,
        "h1",
        "net create waytoolongname1 --vni 45 --subnet 10.21.0.0/24",
        2,
        "network name",
    );
    refused(&c, "h1", "ep add nope c1", 1, "no network nope");
    refused(&c, "h1", "ep add ov1 nosuchns", 1, "nosuchns");
    refused(
        &c,
        "h1",
        "ep add ov1 c1 --ip 10.99.0.5",
        1,
        "not a host address",
    );
    refused(&c, "h1", "ep rm ov1 10.20.0.77", 1, "no endpoint");
    refused(&c, "h1", "sync nope", 1, "no network nope");
    refused(&c, "h1", "frobnicate", 2, "unknown command");
    refused(&c, "h1", "--cacert /x net ls", 2, "use https://");
    // No agent on h2: no lease to register under.
    refused(&c, "h2", "ep add ov1 c1", 1, "no live lease");
    // A /30 holds two: the third is refused, with no key and no veth left for it.
    container(&c, "c2");
    container(&c, "c3");
    ov_ok(&c, "h1", "ep add tiny c1");
    ov_ok(&c, "h1", "ep add tiny c2");
    refused(&c, "h1", "ep add tiny c3", 1, "subnet 10.30.0.0/30 is full");
    let links = c.sb.ok("ip netns exec c3 ip -o link show");
    assert_eq!(links.lines().count(), 1, "c3 has more than lo:\n{links}");
    // An address that is taken is refused.
    let taken = c.etcdctl("get /netplumb/v1/endpoints/tiny/ --prefix --keys-only");
    let ip = taken
        .lines()
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    refused(
        &c,
        "h1",
        &format!("ep add tiny c3 --ip {ip}"),
        1,
        "is taken",
    );
    // Released, an address is held back from the allocator for a while (its key under a
    // lease, in etcdctl's view), but --ip may take it.
    ov_ok(&c, "h1", &format!("ep rm tiny {ip}"));
    let held = Jv::parse(&c.etcdctl(&format!("get /netplumb/v1/released/tiny/{ip} -w json")));
    assert_ne!(held.s("kvs.0.lease"), "0");
    refused(
        &c,
        "h1",
        "ep add tiny c3",
        1,
        "subnet 10.30.0.0/30 is full (1 released in the last 60 s held back; --ip takes one)",
    );
    let out = ov_ok(&c, "h1", &format!("ep add tiny c3 --ip {ip}"));
    assert!(out.starts_with(&format!("{ip} ")), "{out}");
    refused(&c, "h1", "net rm tiny", 1, "2 endpoints remain");
    // Unreachable etcd: one line, exit 1.
    let o =
        c.sb.sh("ip netns exec h1 $OVERLAYCTL --etcd http://192.0.2.99:2379 --host h1 net ls");
    assert_eq!(o.status.code(), Some(1), "{}", show_out(&o));
    assert_eq!(text(&o.stderr).lines().count(), 1, "{}", show_out(&o));
    assert!(
        text(&o.stderr).contains("192.0.2.99:2379"),
        "{}",
        show_out(&o)
    );
    // --force removes the network, its endpoints' keys and its devices here.
    ov_ok(&c, "h1", "net rm tiny --force");
    for what in ["endpoints", "released"] {
        assert_eq!(
            c.etcdctl(&format!(
                "get /netplumb/v1/{what}/tiny/ --prefix --keys-only"
            ))
            .trim(),
            ""
        );
    }
    // Gone here at once, and h1's agent, which may still be applying the events before the
    // removal, converges on the store without it.
    assert!(
        wait_for(Duration::from_secs(30), || !c
            .sb
            .sh("ip netns exec h1 ip link show ov-tiny")
            .status
            .success()),
        "ov-tiny is still on h1 after net rm --force"
    );
}

#[test]
fn twenty_concurrent_ep_add_from_two_hosts_are_distinct() {
    let c = Cluster::new();
    let mut agents = Agents::new(&c);
    agents.start("h1", 5);
    agents.start("h3", 5);
    ov_ok(&c, "h1", "net create ov1 --vni 42 --subnet 10.20.0.0/24");
    let eps = c.endpoints();
    let out = c.sb.ok(&format!(
        "for i in $(seq 1 10); do ip netns add a$i; ip netns add b$i; done
         for i in $(seq 1 10); do
           ip netns exec h1 $OVERLAYCTL --etcd {eps} --host h1 ep add ov1 a$i >/run/a$i.out 2>&1 &
           ip netns exec h3 $OVERLAYCTL --etcd {eps} --host h3 ep add ov1 b$i >/run/b$i.out 2>&1 &
         done
         wait
         cat /run/a*.out /run/b*.out"
    ));
    let addrs: std::collections::BTreeSet<&str> = out
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(a, _)| a))
        .collect();
    assert_eq!(out.lines().count(), 20, "{out}");
    assert_eq!(addrs.len(), 20, "duplicates:\n{out}");
    let keys = c.etcdctl("get /netplumb/v1/endpoints/ov1/ --prefix --keys-only");
    assert_eq!(keys.lines().filter(|l| !l.is_empty()).count(), 20);
}

#[test]
fn malformed_values_are_skipped_and_remove_nothing() {
    let c = Cluster::new();
    let mut agents = Agents::new(&c);
    let (ip, mac) = one_endpoint(&c, &mut agents, &["h1", "h2"], 5);
    let want = vec![
        pair("00:00:00:00:00:00", "192.0.2.1"),
        pair(&mac, "192.0.2.1"),
    ];
    assert!(wait_for(Duration::from_secs(30), || fdb(&c, "h2", "ov1") == want));
    // A garbage endpoint, and the live endpoint's own value overwritten with garbage.
    c.etcdctl("put /netplumb/v1/endpoints/ov1/10.20.0.250 garbage");
    c.etcdctl(&format!(
        "put /netplumb/v1/endpoints/ov1/{ip} 'not=an endpoint'"
    ));
    let log = &agents.pids[1].0.clone();
    assert!(
        wait_for(Duration::from_secs(30), || agents
            .log(log)
            .matches("skipped malformed")
            .count()
            >= 2),
        "{}",
        agents.logs()
    );
    assert_eq!(
        fdb(&c, "h2", "ov1"),
        want,
        "a malformed value removed an entry"
    );
    assert_eq!(neigh(&c, "h2", "ov1"), vec![pair(&ip, &mac)]);
    // sync (a full read at one revision) reports both and removes nothing either.
    let o = ov(&c, "h2", "sync");
    assert!(o.status.success(), "{}", show_out(&o));
    let err = text(&o.stderr);
    assert!(
        err.contains("skipped malformed /netplumb/v1/endpoints/ov1/10.20.0.250"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "skipped malformed /netplumb/v1/endpoints/ov1/{ip}"
        )),
        "{err}"
    );
    assert_eq!(text(&o.stdout), "", "sync changed something");
    assert_eq!(fdb(&c, "h2", "ov1"), want);
    assert_eq!(neigh(&c, "h2", "ov1"), vec![pair(&ip, &mac)]);
}

/// The lines of `log` that say `add neigh ADDR`, counted per address.
fn neigh_adds(log: &str) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for l in log.lines() {
        if let Some(rest) = l.strip_prefix("add neigh ") {
            *m.entry(rest.split(' ').next().unwrap().to_string())
                .or_insert(0) += 1;
        }
    }
    m
}

#[test]
fn member_killed_under_the_watch_every_event_once() {
    let c = Cluster::new();
    let mut agents = Agents::new(&c);
    let _ = one_endpoint(&c, &mut agents, &["h1", "h2"], 5);
    let log2 = agents.pids[1].0.clone();
    let eps_left = "http://192.0.2.2:2379,http://192.0.2.3:2379";
    let add = |i: usize| {
        let out = c.sb.ok(&format!(
            "ip netns add k{i}
             ip netns exec h1 $OVERLAYCTL --etcd {eps_left} --host h1 ep add ov1 k{i}"
        ));
        out.split(' ').next().unwrap().to_string()
    };
    let ips: Vec<String> = (0..10).map(add).collect();
    // h2's agent watches on the first member (h1's): that is the one SIGKILLed.
    c.kill_member(0);
    let eps_left = "http://192.0.2.2:2379,http://192.0.2.3:2379";
    let more: Vec<String> = (10..25).map(add).collect();
    // Every endpoint made after the kill reaches h2 exactly once, and h2's kernel equals the
    // store.
    let ok = wait_for(Duration::from_secs(60), || {
        let adds = neigh_adds(&agents.log(&log2));
        ips.iter().chain(&more).all(|ip| adds.get(ip) == Some(&1))
    });
    assert!(ok, "{}", agents.logs());
    let adds = neigh_adds(&agents.log(&log2));
    assert!(
        adds.values().all(|&n| n == 1),
        "an event applied twice: {adds:?}"
    );
    assert_eq!(neigh(&c, "h2", "ov1").len(), 1 + ips.len() + more.len());
    let o = c.sb.sh(&format!(
        "ip netns exec h2 $OVERLAYCTL --etcd {eps_left} --host h2 status"
    ));
    assert!(o.status.success(), "{}", show_out(&o));
}

#[test]
fn compaction_while_the_agent_is_stopped_means_a_full_resync() {
    let c = Cluster::new();
    let mut agents = Agents::new(&c);
    let (ip, _) = one_endpoint(&c, &mut agents, &["h1", "h2"], 10);
    assert!(wait_for(Duration::from_secs(30), || neigh(&c, "h2", "ov1")
        .len()
        == 1));
    // h2's agent is stopped with its watch open on member h1, which is then killed: when it
    // goes on, it must reconnect from its last revision + 1, which is compacted away.
    let pid = agents.pids[1].1;
    // SAFETY: signals to an agent this test started.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    c.kill_member(0);
    let eps_left = "http://192.0.2.2:2379,http://192.0.2.3:2379";
    let mut made = Vec::new();
    for i in 0..3 {
        made.push(c.sb.ok(&format!(
            "ip netns add m{i}
             ip netns exec h1 $OVERLAYCTL --etcd {eps_left} --host h1 ep add ov1 m{i}"
        )));
    }
    c.sb.ok(&format!(
        "ip netns exec h1 $OVERLAYCTL --etcd {eps_left} --host h1 ep rm ov1 {ip}"
    ));
    let head = Jv::parse(&c.sb.ok(&format!(
        "ETCDCTL_API=3 etcdctl --endpoints={eps_left} endpoint status -w json"
    )))
    .s("0.Status.header.revision");
    c.sb.ok(&format!(
        "ETCDCTL_API=3 etcdctl --endpoints={eps_left} compact {head} --physical"
    ));
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    let log = agents.pids[1].0.clone();
    let ok = wait_for(Duration::from_secs(60), || {
        agents.log(&log).contains("history compacted") && neigh(&c, "h2", "ov1").len() == 3
    });
    assert!(ok, "{:?}\n{}", neigh(&c, "h2", "ov1"), agents.logs());
    assert!(!neigh(&c, "h2", "ov1").iter().any(|(a, _)| *a == ip));
    let o = c.sb.sh(&format!(
        "ip netns exec h2 $OVERLAYCTL --etcd {eps_left} --host h2 status"
    ));
    assert!(o.status.success(), "{}", show_out(&o));
}

#[test]
fn agent_restart_within_and_after_the_ttl_and_a_dead_host() {
    let c = Cluster::new();
    let mut agents = Agents::new(&c);
    let ttl = 4;
    let (ip, mac) = one_endpoint(&c, &mut agents, &["h1", "h2"], ttl);
    assert!(wait_for(Duration::from_secs(30), || neigh(&c, "h2", "ov1")
        == vec![pair(&ip, &mac)]));
    let lease_of = || {
        Jv::parse(&c.etcdctl(&format!("get /netplumb/v1/endpoints/ov1/{ip} -w json")))
            .s("kvs.0.lease")
    };
    let lease = lease_of();
    // Restarted within the TTL: the same lease, and h2 never sees the endpoint go.
    agents.kill(0);
    std::thread::sleep(Duration::from_millis(500));
    agents.start("h1", ttl);
    std::thread::sleep(Duration::from_secs(u64::from(ttl) + 2));
    assert_eq!(
        lease_of(),
        lease,
        "the restarted agent did not take its lease back"
    );
    let h2log = agents.log(&agents.pids[1].0);
    assert!(
        !h2log.contains("del neigh"),
        "the endpoint flapped on h2:\n{h2log}"
    );
    // A dead host: its agent killed and not restarted; its endpoint leaves h2 within TTL + 1 s.
    agents.kill(2);
    let t0 = std::time::Instant::now();
    assert!(wait_for(Duration::from_secs(60), || neigh(&c, "h2", "ov1")
        .is_empty()));
    let gone = t0.elapsed();
    eprintln!("dead host's endpoint gone on h2 after {gone:?} (TTL {ttl} s)");
    assert!(gone <= Duration::from_secs(u64::from(ttl) + 1), "{gone:?}");
    assert!(!fdb(&c, "h2", "ov1").iter().any(|(m, _)| *m == mac));
    // Meanwhile h3 takes the address; h1's agent, back after its lease is gone, re-registers
    // what it can, reports the conflict and overwrites nothing; status exits 1.
    agents.start("h3", ttl);
    container(&c, "c3");
    ov_ok(&c, "h3", &format!("ep add ov1 c3 --ip {ip}"));
    agents.start("h1", ttl);
    let log = agents.pids[4].0.clone();
    assert!(
        wait_for(Duration::from_secs(30), || agents
            .log(&log)
            .contains("taken meanwhile")),
        "{}",
        agents.logs()
    );
    let v = c.etcdctl(&format!(
        "get /netplumb/v1/endpoints/ov1/{ip} --print-value-only"
    ));
    assert!(v.contains("host=h3"), "{v}");
    let o = ov(&c, "h1", "status");
    assert_eq!(o.status.code(), Some(1), "{}", show_out(&o));
    assert!(text(&o.stdout).contains("conflict:"), "{}", show_out(&o));
}

/// A member cut off from its peers inside its host's namespace (its client port still open):
/// the agent watching through it must not stay deaf. etcd cancels a watch that requires a
/// leader once its member has none; the agent goes on from the next member, and every event
/// of the partition reaches it once.
#[test]
fn member_partitioned_under_the_watch_is_left() {
    let c = Cluster::new();
    let mut agents = Agents::new(&c);
    // A TTL that outlasts an election: h1's agent renews through the cut-off member too.
    let _ = one_endpoint(&c, &mut agents, &["h1", "h2"], 10);
    let log2 = agents.pids[1].0.clone();
    // h2's agent watches on the first member, h1's: cut it from the other two (peer port,
    // both directions) in h1's namespace only.
    c.sb.ok("ip netns exec h1 nft -f - <<'EOF'
table inet partition {
  chain in { type filter hook input priority 0; tcp dport 2380 drop; tcp sport 2380 drop; }
}
EOF");
    let t0 = std::time::Instant::now();
    let eps_left = "http://192.0.2.2:2379,http://192.0.2.3:2379";
    let ips: Vec<String> = (0..5)
        .map(|i| {
            let out = c.sb.ok(&format!(
                "ip netns add p{i}
                 ip netns exec h1 $OVERLAYCTL --etcd {eps_left} --host h1 ep add ov1 p{i}"
            ));
            out.split(' ').next().unwrap().to_string()
        })
        .collect();
    let ok = wait_for(Duration::from_secs(60), || {
        let adds = neigh_adds(&agents.log(&log2));
        ips.iter().all(|ip| adds.get(ip) == Some(&1))
    });
    assert!(ok, "h2's agent stayed deaf:\n{}", agents.logs());
    let took = t0.elapsed();
    eprintln!("partitioned: h2's agent had every event {took:?} after the cut");
    // etcd cancels a watch that requires a leader after its member has had none for three
    // checks an election timeout apart; the member notices the loss after one.
    let limit = c.election_timeout() * 5 + Duration::from_secs(3);
    assert!(took <= limit, "{took:?} > {limit:?}");
    let log = agents.log(&log2);
    assert!(
        log.contains("192.0.2.1:2379") && log.contains("no leader"),
        "the agent did not say why it left h1's member:\n{log}"
    );
    assert!(
        neigh_adds(&log).values().all(|&n| n == 1),
        "an event applied twice:\n{log}"
    );
    // Healed, the store and h2's kernel agree.
    c.sb.ok("ip netns exec h1 nft delete table inet partition");
    let o = c.sb.sh(&format!(
        "ip netns exec h2 $OVERLAYCTL --etcd {eps_left} --host h2 status"
    ));
    assert!(o.status.success(), "{}", show_out(&o));
}

/// The dead host held the etcd leadership: its lease outlives it by the election (a new
/// leader renews every lease by an election timeout), so etcd deletes its keys after TTL + up
/// to three election timeouts; every other host's entries follow within 1 s of that.
#[test]
fn a_dead_host_that_led_etcd_is_forgotten() {
    let c = Cluster::with_etcd_timing();
    let mut agents = Agents::new(&c);
    let ttl = 4;
    let l = c.leader();
    let (lh, others): (&str, Vec<&str>) = {
        let hosts = ["h1", "h2", "h3"];
        (
            hosts[l],
            hosts.iter().copied().filter(|&h| h != hosts[l]).collect(),
        )
    };
    for h in ["h1", "h2", "h3"] {
        agents.start(h, ttl);
    }
    ov_ok(
        &c,
        others[0],
        "net create ov1 --vni 42 --subnet 10.20.0.0/24",
    );
    container(&c, "cl");
    let out = ov_ok(&c, lh, "ep add ov1 cl");
    let (ip, mac) = out.trim().split_once(' ').unwrap();
    for h in &others {
        let ok = wait_for(Duration::from_secs(30), || {
            neigh(&c, h, "ov1") == vec![pair(ip, mac)]
        });
        assert!(ok, "{h}: {:?}\n{}", neigh(&c, h, "ov1"), agents.logs());
    }
    // The host dies: its agent and its etcd member at once.
    let i = ["h1", "h2", "h3"].iter().position(|h| *h == lh).unwrap();
    agents.kill(i);
    c.kill_member(l);
    let t0 = std::time::Instant::now();
    let survivors: Vec<String> = (0..3).filter(|&j| j != l).map(|j| c.url(j)).collect();
    let key_gone = wait_for(Duration::from_secs(60), || {
        c.sb.ok(&format!(
            "ETCDCTL_API=3 etcdctl --endpoints={} get --prefix /netplumb/v1/endpoints/ --keys-only",
            survivors.join(",")
        ))
        .trim()
        .is_empty()
    });
    let etcd_took = t0.elapsed();
    let gone = wait_for(Duration::from_secs(60), || {
        others.iter().all(|h| {
            neigh(&c, h, "ov1").is_empty() && fdb(&c, h, "ov1").iter().all(|(m, _)| m != mac)
        })
    });
    let took = t0.elapsed();
    assert!(key_gone && gone, "{}", agents.logs());
    eprintln!(
        "the dead leader's endpoint: its key deleted by etcd after {etcd_took:?}, its entries \
         gone from the other hosts after {took:?}"
    );
    // etcd's part: followers notice the leader gone after one to two election timeouts
    // (randomized), the new leader renews every lease by one more, and its expiry tick runs
    // every 500 ms.
    let et = c.election_timeout();
    let etcd_limit = Duration::from_secs(u64::from(ttl)) + et * 3 + Duration::from_millis(500);
    assert!(etcd_took <= etcd_limit, "{etcd_took:?} > {etcd_limit:?}");
    // The agents' part, from the deletion to every other host's kernel.
    assert!(
        took - etcd_took <= Duration::from_secs(1),
        "{took:?} after {etcd_took:?}\n{}",
        agents.logs()
    );
}
