//! The harness every kernel test runs in: a throwaway sandbox of its own.
//!
//! A sandbox is a holder process started by util-linux `unshare` in a new network and mount
//! namespace (plus a user namespace when not root), with a fresh sysfs on `/sys` and a tmpfs
//! on `/run` (so `/run/netns` is private). Commands run inside it through `nsenter`, so tests
//! can use the real tools (`ip -j`, bridge-utils `brctl`, ping) beside ours. The holder waits
//! on its stdin: when the test ends, or dies, the pipe closes and the namespaces go with it.
//! Nothing here ever runs in the host's network namespace: the holder checks, and refuses.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Output, Stdio};

pub const BRCTL: &str = env!("CARGO_BIN_EXE_brctl");
pub const NETPLUMB: &str = env!("CARGO_BIN_EXE_netplumb");

pub struct Sandbox {
    holder: Child,
    stdin: Option<ChildStdin>,
    pid: u32,
    userns: bool,
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

const SETUP: &str = r#"
set -e
[ "$(readlink /proc/self/ns/net)" != "$HOST_NETNS" ] || { echo "refusing: still in the host network namespace" >&2; exit 97; }
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /run
mkdir -p /run/netns
# No IPv6 autoconfiguration chatter: the forwarding database then holds only what tests send.
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
echo ready
read _
"#;

impl Sandbox {
    pub fn new() -> Sandbox {
        let userns = !is_root();
        let host_netns = std::fs::read_link("/proc/self/ns/net")
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let mut cmd = Command::new("unshare");
        if userns {
            cmd.args(["--user", "--map-root-user"]);
        }
        cmd.args([
            "--net",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            SETUP,
        ])
        .env("HOST_NETNS", host_netns)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
        let mut holder = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start a sandbox: `unshare` from util-linux is needed ({e}); kernel tests run in throwaway namespaces and cannot run without one")
        });
        let mut line = String::new();
        BufReader::new(holder.stdout.take().expect("piped"))
            .read_line(&mut line)
            .ok();
        if line.trim() != "ready" {
            let status = holder.wait().ok();
            panic!(
                "cannot make a throwaway network + mount namespace{} (unshare exited {status:?}); \
                 run the tests as root, or where unprivileged user namespaces are allowed",
                if userns {
                    " inside a user namespace"
                } else {
                    ""
                }
            );
        }
        let pid = holder.id();
        let stdin = holder.stdin.take();
        Sandbox {
            holder,
            stdin,
            pid,
            userns,
        }
    }

    /// The command line that runs `prog` inside the sandbox.
    fn enter(&self) -> Command {
        let mut c = Command::new("nsenter");
        c.arg("-t").arg(self.pid.to_string());
        if self.userns {
            c.args(["-U", "--preserve-credentials"]);
        }
        c.args(["-n", "-m", "--"]);
        c
    }

    /// Runs a shell script inside the sandbox; `$BRCTL` and `$NETPLUMB` name our programs.
    pub fn sh(&self, script: &str) -> Output {
        self.sh_input(script, None)
    }

    pub fn sh_input(&self, script: &str, input: Option<&str>) -> Output {
        let mut c = self.enter();
        c.args(["sh", "-c", script])
            .env("BRCTL", BRCTL)
            .env("NETPLUMB", NETPLUMB)
            .env("LC_ALL", "C");
        c.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = c
            .spawn()
            .expect("nsenter from util-linux is needed to run commands in the sandbox");
        if let (Some(text), Some(mut sin)) = (input, child.stdin.take()) {
            sin.write_all(text.as_bytes()).expect("write stdin");
        }
        child.wait_with_output().expect("wait for sandbox command")
    }

    /// Runs a script that must succeed; returns its stdout.
    pub fn ok(&self, script: &str) -> String {
        let o = self.sh(script);
        assert!(
            o.status.success(),
            "script failed ({:?}):\n{script}\nstdout:\n{}\nstderr:\n{}",
            o.status,
            text(&o.stdout),
            text(&o.stderr)
        );
        text(&o.stdout)
    }

    /// Runs our brctl with these arguments inside the sandbox.
    pub fn brctl(&self, args: &[&str]) -> Output {
        let mut c = self.enter();
        c.arg(BRCTL)
            .args(args)
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        c.output().expect("run brctl in the sandbox")
    }

    /// `ip -j -d link show` of one device, parsed just enough to pick fields by name.
    pub fn ip_link(&self, dev: &str) -> String {
        self.ok(&format!("ip -j -d link show dev {dev}"))
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Closing stdin ends the holder's `read`; kill it too in case it is stuck, by its PID.
        self.stdin.take();
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The value of `"key":` in a flat JSON text (first occurrence), as written: enough to read
/// `ip -j` fields without a JSON dependency.
pub fn json_field(json: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":");
    let start = json.find(&pat)? + pat.len();
    let rest = &json[start..];
    let end = if rest.starts_with('"') {
        1 + rest[1..].find('"')? + 1
    } else {
        rest.find([',', '}', ']']).unwrap_or(rest.len())
    };
    Some(rest[..end].trim_matches('"').to_string())
}

/// Replaces the running timers in `showstp` / `showmacs` output (they tick between two runs)
/// with `#`, leaving every tab, space and other byte in place.
pub fn mask_timers(s: &str) -> String {
    s.lines()
        .map(|l| {
            let fdb_row = l.split('\t').next().is_some_and(|p| {
                !p.trim().is_empty() && p.trim().bytes().all(|c| c.is_ascii_digit())
            });
            if l.contains("timer") || fdb_row {
                mask_decimals(l)
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect()
}

/// Masks every `N.NN` number in the line.
fn mask_decimals(l: &str) -> String {
    let b = l.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let mut j = i;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let decimal = j + 2 < b.len()
                && b[j] == b'.'
                && b[j + 1].is_ascii_digit()
                && b[j + 2].is_ascii_digit();
            if decimal && (j + 3 == b.len() || !b[j + 3].is_ascii_digit()) {
                out.push_str(&"#".repeat(j + 3 - i));
                i = j + 3;
                continue;
            }
            out.push_str(&l[i..j]);
            i = j;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}
