//! The harness every kernel test runs in: a throwaway sandbox of its own.
//!
//! A sandbox is a holder process started by util-linux `unshare` in a new network and mount
//! namespace (plus a user namespace when not root), with a fresh sysfs on `/sys` and a tmpfs
//! on `/run` (so `/run/netns` is private), and `/etc` under a private overlay (so
//! `/etc/netns` is writable without touching the host's). Commands run inside it through `nsenter`, so tests
//! can use the real tools (`ip -j`, bridge-utils `brctl`, ping) beside ours. The holder waits
//! on its stdin: when the test ends, or dies, the pipe closes and the namespaces go with it.
//! Nothing here ever runs in the host's network namespace: the holder checks, and refuses.
//! Only /sys and /run are the sandbox's own: /tmp is the host's, shared by tests running in
//! parallel, so scratch files a test writes inside the sandbox belong under /run.
#![allow(dead_code)]

pub mod etcd;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Output, Stdio};

pub const BRCTL: &str = env!("CARGO_BIN_EXE_brctl");
pub const NETPLUMB: &str = env!("CARGO_BIN_EXE_netplumb");
pub const VETHCTL: &str = env!("CARGO_BIN_EXE_vethctl");
pub const IFCTL: &str = env!("CARGO_BIN_EXE_ifctl");
pub const NSEXEC: &str = env!("CARGO_BIN_EXE_nsexec");
pub const IPFWD: &str = env!("CARGO_BIN_EXE_ipfwd");
pub const NATCTL: &str = env!("CARGO_BIN_EXE_natctl");
pub const NEIGHCTL: &str = env!("CARGO_BIN_EXE_neighctl");
pub const VXLANCTL: &str = env!("CARGO_BIN_EXE_vxlanctl");
pub const OVERLAYCTL: &str = env!("CARGO_BIN_EXE_overlayctl");
pub const FDBCTL: &str = env!("CARGO_BIN_EXE_fdbctl");

/// Shell lines that make hosts h1 and h2 (named namespaces, quiet: no IPv6), each with a veth
/// `<h>e` inside and its peer `<h>p` up outside, ready to be put on a bridge.
pub const TWO_HOSTS: &str = "ip netns add h1; ip netns add h2
    for h in h1 h2; do
      ip netns exec $h sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
      ip link add ${h}e netns $h type veth peer name ${h}p
      ip link set ${h}p up
    done
";

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
mkdir -p /run/netns /run/.etc-upper /run/.etc-work
# /etc is the host's: a private overlay takes the sandbox's writes (/etc/netns/NAME/hosts).
mount -t overlay overlay -o lowerdir=/etc,upperdir=/run/.etc-upper,workdir=/run/.etc-work /etc
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

    /// The holder's PID: its namespaces are the sandbox's.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The command line that runs `prog` inside the sandbox.
    pub fn enter(&self) -> Command {
        let mut c = Command::new("nsenter");
        c.arg("-t").arg(self.pid.to_string());
        if self.userns {
            c.args(["-U", "--preserve-credentials"]);
        }
        c.args(["-n", "-m", "--"]);
        c
    }

    /// Runs a shell script inside the sandbox; `$BRCTL`, `$VETHCTL`, `$IFCTL`, `$NSEXEC` and
    /// `$NETPLUMB`
    /// name our programs.
    pub fn sh(&self, script: &str) -> Output {
        self.sh_input(script, None)
    }

    pub fn sh_input(&self, script: &str, input: Option<&str>) -> Output {
        let mut c = self.enter();
        c.args(["sh", "-c", script])
            .env("BRCTL", BRCTL)
            .env("NETPLUMB", NETPLUMB)
            .env("VETHCTL", VETHCTL)
            .env("IFCTL", IFCTL)
            .env("NSEXEC", NSEXEC)
            .env("IPFWD", IPFWD)
            .env("NATCTL", NATCTL)
            .env("OVERLAYCTL", OVERLAYCTL)
            .env("NEIGHCTL", NEIGHCTL)
            .env("VXLANCTL", VXLANCTL)
            .env("FDBCTL", FDBCTL)
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

/// A run's exit status and both outputs, for an assertion's message.
pub fn show_out(o: &std::process::Output) -> String {
    format!(
        "{:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// Replaces the running timers in `showstp` / `showmacs` output (they tick between two runs)
/// with `#` over their whole padded field (`%4i.%.2i`, so the width is still compared), leaving
/// every tab and other byte in place.
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

/// Masks every `N.NN` number in the line, with the spaces that pad it.
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
                // The padding is part of the field (`%4i.%.2i`): `   0.05` and ` 299.97` are
                // the same width, and mask alike.
                let pad = out.len() - out.trim_end_matches(' ').len();
                out.truncate(out.len() - pad);
                out.push_str(&"#".repeat(pad + j + 3 - i));
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

/// A parsed JSON value: enough of JSON to read `ip -j` and our own `-j` output without a
/// dependency. Numbers keep the text they were written as (`0.01`, `32768`).
#[derive(Clone, Debug, PartialEq)]
pub enum Jv {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Jv>),
    Obj(Vec<(String, Jv)>),
}

impl Jv {
    /// Parses a whole JSON text; panics (naming the place) on anything malformed.
    pub fn parse(s: &str) -> Jv {
        let mut p = JsonParser {
            b: s.as_bytes(),
            i: 0,
        };
        let v = p.value();
        p.ws();
        assert_eq!(p.i, p.b.len(), "trailing bytes after JSON value in {s:?}");
        v
    }

    /// The value at a dotted path: object keys, or array indexes (`linkinfo.info_data.priority`,
    /// `0.ports.1.state`).
    pub fn get(&self, path: &str) -> Option<&Jv> {
        let mut v = self;
        for seg in path.split('.').filter(|s| !s.is_empty()) {
            v = match v {
                Jv::Obj(kv) => kv.iter().find(|(k, _)| k == seg).map(|(_, x)| x)?,
                Jv::Arr(a) => a.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(v)
    }

    /// Like `get`, but the value must be there.
    pub fn at(&self, path: &str) -> &Jv {
        self.get(path)
            .unwrap_or_else(|| panic!("no {path:?} in {}", self.to_json()))
    }

    /// A scalar as text: a string's contents, a number as written, `true`/`false`, `null`.
    pub fn text(&self) -> String {
        match self {
            Jv::Null => "null".into(),
            Jv::Bool(b) => b.to_string(),
            Jv::Num(n) => n.clone(),
            Jv::Str(s) => s.clone(),
            _ => self.to_json(),
        }
    }

    /// The text of the scalar at `path`.
    pub fn s(&self, path: &str) -> String {
        self.at(path).text()
    }

    pub fn arr(&self) -> &[Jv] {
        match self {
            Jv::Arr(a) => a,
            _ => panic!("not an array: {}", self.to_json()),
        }
    }

    /// Written back as compact JSON, object keys in their order, keys for which `skip` says
    /// true left out (at any depth).
    pub fn to_json_without(&self, skip: &dyn Fn(&str) -> bool) -> String {
        match self {
            Jv::Str(s) => format!("{s:?}"),
            Jv::Arr(a) => {
                let items: Vec<String> = a.iter().map(|x| x.to_json_without(skip)).collect();
                format!("[{}]", items.join(","))
            }
            Jv::Obj(kv) => {
                let items: Vec<String> = kv
                    .iter()
                    .filter(|(k, _)| !skip(k))
                    .map(|(k, x)| format!("{k:?}:{}", x.to_json_without(skip)))
                    .collect();
                format!("{{{}}}", items.join(","))
            }
            _ => self.text(),
        }
    }

    pub fn to_json(&self) -> String {
        self.to_json_without(&|_| false)
    }
}

struct JsonParser<'a> {
    b: &'a [u8],
    i: usize,
}

impl JsonParser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn fail(&self, what: &str) -> ! {
        panic!(
            "malformed JSON at byte {}: {what}: {:?}",
            self.i,
            String::from_utf8_lossy(self.b)
        )
    }

    fn eat(&mut self, c: u8) {
        self.ws();
        if self.b.get(self.i) != Some(&c) {
            self.fail(&format!("expected {:?}", c as char));
        }
        self.i += 1;
    }

    fn value(&mut self) -> Jv {
        self.ws();
        match self.b.get(self.i) {
            Some(b'{') => {
                self.i += 1;
                let mut kv = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Jv::Obj(kv);
                }
                loop {
                    self.ws();
                    let k = self.string();
                    self.eat(b':');
                    kv.push((k, self.value()));
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Jv::Obj(kv);
                        }
                        _ => self.fail("expected , or }"),
                    }
                }
            }
            Some(b'[') => {
                self.i += 1;
                let mut a = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Jv::Arr(a);
                }
                loop {
                    a.push(self.value());
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Jv::Arr(a);
                        }
                        _ => self.fail("expected , or ]"),
                    }
                }
            }
            Some(b'"') => Jv::Str(self.string()),
            Some(b't') if self.b[self.i..].starts_with(b"true") => {
                self.i += 4;
                Jv::Bool(true)
            }
            Some(b'f') if self.b[self.i..].starts_with(b"false") => {
                self.i += 5;
                Jv::Bool(false)
            }
            Some(b'n') if self.b[self.i..].starts_with(b"null") => {
                self.i += 4;
                Jv::Null
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => {
                let start = self.i;
                self.i += 1;
                while self.i < self.b.len()
                    && (self.b[self.i].is_ascii_digit() || b".eE+-".contains(&self.b[self.i]))
                {
                    self.i += 1;
                }
                let n = std::str::from_utf8(&self.b[start..self.i]).expect("ascii");
                if n.parse::<f64>().is_err() {
                    self.fail("bad number");
                }
                Jv::Num(n.to_string())
            }
            _ => self.fail("expected a value"),
        }
    }

    fn string(&mut self) -> String {
        if self.b.get(self.i) != Some(&b'"') {
            self.fail("expected a string");
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.b.get(self.i) {
                None => self.fail("unterminated string"),
                Some(b'"') => {
                    self.i += 1;
                    return String::from_utf8(out).unwrap_or_else(|_| self.fail("not UTF-8"));
                }
                Some(b'\\') => {
                    let e = *self.b.get(self.i + 1).unwrap_or(&0);
                    self.i += 2;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex =
                                std::str::from_utf8(self.b.get(self.i..self.i + 4).unwrap_or(b""))
                                    .ok()
                                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                                    .unwrap_or_else(|| self.fail("bad \\u escape"));
                            self.i += 4;
                            let c = char::from_u32(hex).unwrap_or('\u{fffd}');
                            out.extend_from_slice(c.to_string().as_bytes());
                        }
                        _ => self.fail("bad escape"),
                    }
                }
                Some(&c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }
}

impl Sandbox {
    /// `ip -j -d link show dev DEV`, parsed: the one link object.
    pub fn link(&self, dev: &str) -> Jv {
        let v = Jv::parse(&self.ip_link(dev));
        v.at("0").clone()
    }

    /// The prefix that runs a command without CAP_NET_ADMIN inside the sandbox: as nobody when
    /// the sandbox is the initial user namespace (uid 65534 exists there), else as root with every
    /// capability dropped (only root is mapped in a user-namespace sandbox).
    pub fn unprivileged(&self) -> &'static str {
        let map = self.ok("cat /proc/self/uid_map");
        if map.split_whitespace().collect::<Vec<_>>() == ["0", "0", "4294967295"] {
            "setpriv --reuid 65534 --regid 65534 --clear-groups"
        } else {
            "setpriv --bounding-set -all --inh-caps -all"
        }
    }

    /// Runs `PREFIX sleep 60` in the background (PREFIX execs in place: `ip netns exec X`,
    /// `unshare --net`, `$NSEXEC exec X`) and returns once the process has become `sleep`,
    /// so it is in its namespace. It is ended by its PID when dropped, also when a test fails.
    pub fn sleeper(&self, prefix: &str) -> Sleeper<'_> {
        let pid = self.ok(&format!(
            r#"{prefix} sleep 60 >/dev/null 2>&1 </dev/null &
            p=$!
            i=0
            until [ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ]; do
              i=$((i+1)); [ $i -lt 1000 ] || {{ echo "$p never became sleep" >&2; exit 1; }}
              sleep 0.01
            done
            echo $p"#
        ));
        Sleeper {
            sb: self,
            pid: pid.trim().to_string(),
        }
    }

    /// True when the sandbox has a device of this name (as `ip link` sees it).
    pub fn has_link(&self, dev: &str) -> bool {
        self.sh(&format!("ip link show dev {dev}")).status.success()
    }

    /// Every link's kernel state as `ip -j -d link show` reports it, as one comparable text:
    /// the running timers and carrier-dependent fields (which change by themselves) left out.
    pub fn links_state(&self) -> String {
        let v = Jv::parse(&self.ok("ip -j -d link show"));
        v.to_json_without(&|k| k.contains("timer") || k == "operstate")
    }
}

impl Sandbox {
    /// The namespace as tools nobody here wrote see it, one line per link, address, route or
    /// rule (so that a difference reads as one): `ip -d -j link`, `ip -j addr`, routes of every
    /// table (4 and 6), `nft -j list ruleset`, `iptables-legacy-save`, /run/netns and
    /// /etc/netns, the forwarding switches. What changes by itself is left out (timers,
    /// operstate, packet counters), and the JSON keys `skip` names.
    pub fn state(&self, skip: &dyn Fn(&str) -> bool) -> String {
        let json = |cmd: &str| {
            let v = Jv::parse(&self.ok(cmd));
            let items = match v.get("nftables") {
                Some(n) => n.arr().to_vec(),
                None => v.arr().to_vec(),
            };
            items
                .iter()
                .map(|i| {
                    i.to_json_without(&|k| {
                        k.contains("timer")
                            || ["operstate", "packets", "bytes"].contains(&k)
                            || skip(k)
                    })
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let rest = self.ok(
            "iptables-legacy-save | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//'
             find /run/netns /etc/netns -printf '%p %y %m %u\\n' 2>/dev/null | sort
             grep -r . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/*/forwarding \
                /proc/sys/net/ipv4/conf/*/route_localnet /proc/sys/net/ipv4/conf/*/rp_filter \
                /proc/sys/net/ipv6/conf/*/forwarding 2>/dev/null || true",
        );
        [
            json("ip -d -j link show"),
            json("ip -j addr show"),
            json("ip -j route show table all"),
            json("ip -6 -j route show table all"),
            json("nft -j list ruleset"),
            rest,
        ]
        .join("\n")
    }
}

/// The lines of `b` that are not in `a` (`+`) and the other way round (`-`).
pub fn diff_lines(a: &str, b: &str) -> String {
    let gone = a.lines().filter(|l| !b.lines().any(|m| m == *l));
    let new = b.lines().filter(|l| !a.lines().any(|m| m == *l));
    gone.map(|l| format!("- {l}"))
        .chain(new.map(|l| format!("+ {l}")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A `sleep` started in the sandbox to hold a namespace by PID (see [`Sandbox::sleeper`]).
pub struct Sleeper<'a> {
    pub sb: &'a Sandbox,
    pub pid: String,
}

impl Drop for Sleeper<'_> {
    fn drop(&mut self) {
        let _ = self.sb.sh(&format!("kill {}", self.pid));
    }
}
