//! A real 3-member etcd cluster on three simulated hosts, inside a test's sandbox.
//!
//! Hosts h1, h2, h3 are named namespaces with `eth0` 192.0.2.N/24 on an underlay bridge `ul`
//! in the sandbox's own namespace (which has 192.0.2.254 on it, so a test thread that enters
//! the sandbox reaches every member). Each member listens only on its host's address, keeps
//! its data under the sandbox's private /run, and is killed by PID when the cluster is dropped
//! (also when the test fails). A missing `etcd` fails the test: it is the store under test.
//!
//! [`Cluster::with_tls`] starts the members as production runs them: clients on https, a
//! client certificate demanded (`--client-cert-auth`), with a CA and certificates the test
//! makes with openssl (a missing `openssl` fails the test too).

use super::{text, Sandbox};
use std::time::{Duration, Instant};

pub const HOSTS: [&str; 3] = ["h1", "h2", "h3"];

pub struct Cluster {
    pub sb: Sandbox,
    /// Clients speak TLS with a client certificate (see [`PKI`]).
    tls: bool,
    /// The members' election timeout (their heartbeat is a tenth of it).
    election: Duration,
    /// The PID of each host's member, while it runs.
    pids: std::sync::Mutex<Vec<Option<i32>>>,
}

/// Shell lines making the underlay and the three hosts.
const UNDERLAY: &str = "
ip link add ul type bridge
ip link set ul up
ip addr add 192.0.2.254/24 dev ul
i=1
for h in h1 h2 h3; do
  ip netns add $h
  ip netns exec $h sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  ip link add ${h}p type veth peer name eth0 netns $h
  ip link set ${h}p master ul up
  ip -n $h addr add 192.0.2.$i/24 dev eth0
  ip -n $h link set eth0 up
  ip -n $h link set lo up
  i=$((i+1))
done
";

pub fn host_addr(i: usize) -> String {
    format!("192.0.2.{}", i + 1)
}

/// Polls `f` every 100 ms until it is true or `limit` passes; says whether it became true.
pub fn wait_for(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if f() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Where [`Cluster::with_tls`] keeps its certificates, and the script that makes them: a CA,
/// a member certificate naming the three members' addresses (also a client one: etcd 3.4's
/// gateway dials its own gRPC server with it), a client certificate, and a second CA that
/// signed nothing of the cluster's.
pub const PKI: &str = "/run/etcd/pki";
const MAKE_PKI: &str = "
set -e
mkdir -p /run/etcd/pki && cd /run/etcd/pki
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1 2>/dev/null; }
for ca in ca other-ca; do
  key $ca-key.pem
  openssl req -x509 -new -key $ca-key.pem -out $ca.pem -days 2 -subj /CN=netplumb-test-$ca
done
sign() {
  key $1-key.pem
  openssl req -new -key $1-key.pem -out $1.csr -subj /CN=$1
  printf '%s\\n' \"$2\" >$1.ext
  openssl x509 -req -in $1.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
    -extfile $1.ext -out $1.pem 2>/dev/null
}
sign member 'subjectAltName=IP:192.0.2.1,IP:192.0.2.2,IP:192.0.2.3
extendedKeyUsage=serverAuth,clientAuth'
sign client 'extendedKeyUsage=clientAuth'
";

impl Cluster {
    /// Heartbeat and election a little slower than etcd's defaults: the machine is shared and
    /// a loaded member missing heartbeats would make the leader flap under the tests.
    pub fn new() -> Cluster {
        Cluster::start(false, Duration::from_secs(2))
    }

    /// The cluster with clients on TLS and client certificates demanded.
    pub fn with_tls() -> Cluster {
        Cluster::start(true, Duration::from_secs(2))
    }

    /// The cluster with etcd's own timing (heartbeat 100 ms, election 1 s), for a test whose
    /// figure is stated in the election timeout.
    pub fn with_etcd_timing() -> Cluster {
        Cluster::start(false, Duration::from_secs(1))
    }

    pub fn election_timeout(&self) -> Duration {
        self.election
    }

    fn start(tls: bool, election: Duration) -> Cluster {
        let tools: &[&str] = if tls {
            &["etcd", "etcdctl", "openssl"]
        } else {
            &["etcd", "etcdctl"]
        };
        for &tool in tools {
            let found = std::process::Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(
                found,
                "`{tool}` is needed (Debian etcd-server / etcd-client): the overlay tests run a real etcd cluster"
            );
        }
        let sb = Sandbox::new();
        sb.ok(UNDERLAY);
        if tls {
            sb.ok(MAKE_PKI);
        }
        let c = Cluster {
            sb,
            tls,
            election,
            pids: std::sync::Mutex::new(vec![None; HOSTS.len()]),
        };
        for i in 0..HOSTS.len() {
            c.start_member(i);
        }
        c.wait_healthy();
        c
    }

    /// Every member's client URL, comma-separated (what `--etcd` and `etcdctl` take).
    pub fn endpoints(&self) -> String {
        (0..HOSTS.len())
            .map(|i| self.url(i))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Host `i`'s member's client URL.
    pub fn url(&self, i: usize) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}:2379", host_addr(i))
    }

    /// The TLS options a client needs (etcdctl and overlayctl spell them alike), or "".
    pub fn tls_args(&self) -> String {
        if self.tls {
            format!("--cacert {PKI}/ca.pem --cert {PKI}/client.pem --key {PKI}/client-key.pem")
        } else {
            String::new()
        }
    }

    /// Starts (or restarts, on its data) host `i`'s member.
    pub fn start_member(&self, i: usize) {
        let cluster = (0..HOSTS.len())
            .map(|j| format!("{}=http://{}:2380", HOSTS[j], host_addr(j)))
            .collect::<Vec<_>>()
            .join(",");
        let (h, a) = (HOSTS[i], host_addr(i));
        let client = if self.tls {
            format!(
                "--listen-client-urls https://{a}:2379 --advertise-client-urls https://{a}:2379 \
                 --client-cert-auth --trusted-ca-file {PKI}/ca.pem \
                 --cert-file {PKI}/member.pem --key-file {PKI}/member-key.pem"
            )
        } else {
            format!("--listen-client-urls http://{a}:2379 --advertise-client-urls http://{a}:2379")
        };
        let pid = self.sb.ok(&format!(
            "mkdir -p /run/etcd
            ip netns exec {h} etcd --name {h} --data-dir /run/etcd/{h} \
              {client} \
              --listen-peer-urls http://{a}:2380 --initial-advertise-peer-urls http://{a}:2380 \
              --initial-cluster {cluster} --initial-cluster-state new \
              --initial-cluster-token netplumb-test \
              --heartbeat-interval {} --election-timeout {} \
              --experimental-watch-progress-notify-interval 2s \
              >/run/etcd/{h}.log 2>&1 </dev/null &
            echo $!",
            self.election.as_millis() / 10,
            self.election.as_millis()
        ));
        self.pids.lock().unwrap()[i] = Some(pid.trim().parse().expect("etcd's PID"));
    }

    /// SIGKILLs host `i`'s member (by its PID).
    pub fn kill_member(&self, i: usize) {
        let pid = self.pids.lock().unwrap()[i].take();
        if let Some(pid) = pid {
            // SAFETY: kill has no memory effects; the PID is a child of our sandbox shell.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            // Reaped by init (its parent shell is gone); wait until it is no longer running.
            wait_for(Duration::from_secs(10), || {
                std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .map_or(true, |s| s.contains(") Z "))
            });
        }
    }

    /// The host whose member leads, as the members' `endpoint status` says.
    pub fn leader(&self) -> usize {
        let j = super::Jv::parse(&self.etcdctl("endpoint status -w json"));
        let leader = j.s("0.Status.leader");
        (0..HOSTS.len())
            .find(|&i| j.s(&format!("{i}.Status.header.member_id")) == leader)
            .map(|i| {
                let ep = j.s(&format!("{i}.Endpoint"));
                (0..HOSTS.len())
                    .find(|&h| ep.contains(&host_addr(h)))
                    .expect("an endpoint of ours")
            })
            .expect("a leader among the members")
    }

    pub fn member_log(&self, i: usize) -> String {
        text(
            &self
                .sb
                .sh(&format!("tail -20 /run/etcd/{}.log", HOSTS[i]))
                .stdout,
        )
    }

    /// Waits until every running member answers as healthy (generous: the machine is loaded).
    pub fn wait_healthy(&self) {
        let eps: Vec<String> = (0..HOSTS.len())
            .filter(|&i| self.pids.lock().unwrap()[i].is_some())
            .map(|i| self.url(i))
            .collect();
        let ok = wait_for(Duration::from_secs(90), || {
            self.sb
                .sh(&format!(
                    "ETCDCTL_API=3 etcdctl --endpoints={} {} --command-timeout=3s endpoint health",
                    eps.join(","),
                    self.tls_args()
                ))
                .status
                .success()
        });
        assert!(
            ok,
            "the etcd cluster did not become healthy in 90 s:\n{}",
            (0..HOSTS.len())
                .map(|i| self.member_log(i))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    /// Runs `etcdctl` (API v3, every member) in the sandbox; returns stdout, panics on failure.
    pub fn etcdctl(&self, args: &str) -> String {
        self.sb.ok(&format!(
            "ETCDCTL_API=3 etcdctl --endpoints={} {} --command-timeout=10s {args}",
            self.endpoints(),
            self.tls_args()
        ))
    }

    /// Runs `f` on a thread inside the sandbox's network namespace, where the members are
    /// reachable (a netns switch is per thread: the test's own thread stays where it is).
    pub fn in_net<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/proc/{}/ns/net", self.sb.pid());
        std::thread::scope(|s| {
            s.spawn(move || {
                let ns = std::fs::File::open(&path).expect("the sandbox's netns");
                use std::os::fd::AsRawFd;
                // SAFETY: setns on a namespace fd we hold open; it changes only this thread.
                let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(
                    rc,
                    0,
                    "setns into the sandbox: {}",
                    std::io::Error::last_os_error()
                );
                f()
            })
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
        })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 0..HOSTS.len() {
            self.kill_member(i);
        }
    }
}
