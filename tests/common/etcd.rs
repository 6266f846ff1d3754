//! A real 3-member etcd cluster on three simulated hosts, inside a test's sandbox.
//!
//! Hosts h1, h2, h3 are named namespaces with `eth0` 192.0.2.N/24 on an underlay bridge `ul`
//! in the sandbox's own namespace (which has 192.0.2.254 on it, so a test thread that enters
//! the sandbox reaches every member). Each member listens only on its host's address, keeps
//! its data under the sandbox's private /run, and is killed by PID when the cluster is dropped
//! (also when the test fails). A missing `etcd` fails the test: it is the store under test.

use super::{text, Sandbox};
use std::time::{Duration, Instant};

pub const HOSTS: [&str; 3] = ["h1", "h2", "h3"];

pub struct Cluster {
    pub sb: Sandbox,
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

impl Cluster {
    pub fn new() -> Cluster {
        for tool in ["etcd", "etcdctl"] {
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
        let c = Cluster {
            sb,
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
            .map(|i| format!("http://{}:2379", host_addr(i)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Starts (or restarts, on its data) host `i`'s member.
    pub fn start_member(&self, i: usize) {
        let cluster = (0..HOSTS.len())
            .map(|j| format!("{}=http://{}:2380", HOSTS[j], host_addr(j)))
            .collect::<Vec<_>>()
            .join(",");
        let (h, a) = (HOSTS[i], host_addr(i));
        // Heartbeat and election a little slower than etcd's defaults: the machine is shared
        // and a loaded member missing heartbeats would make the leader flap under the tests.
        let pid = self.sb.ok(&format!(
            "mkdir -p /run/etcd
            ip netns exec {h} etcd --name {h} --data-dir /run/etcd/{h} \
              --listen-client-urls http://{a}:2379 --advertise-client-urls http://{a}:2379 \
              --listen-peer-urls http://{a}:2380 --initial-advertise-peer-urls http://{a}:2380 \
              --initial-cluster {cluster} --initial-cluster-state new \
              --initial-cluster-token netplumb-test \
              --heartbeat-interval 200 --election-timeout 2000 \
              --experimental-watch-progress-notify-interval 2s \
              >/run/etcd/{h}.log 2>&1 </dev/null &
            echo $!"
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
            .map(|i| format!("http://{}:2379", host_addr(i)))
            .collect();
        let ok = wait_for(Duration::from_secs(90), || {
            self.sb
                .sh(&format!(
                    "ETCDCTL_API=3 etcdctl --endpoints={} --command-timeout=3s endpoint health",
                    eps.join(",")
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
            "ETCDCTL_API=3 etcdctl --endpoints={} --command-timeout=10s {args}",
            self.endpoints()
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
