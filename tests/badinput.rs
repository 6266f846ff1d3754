//! Bad input and hostile surroundings, from a table (tests/badinput.tsv): every row is one run
//! of one program (or of the multicall `netplumb`) in a sandbox, checked for its exact exit
//! status, one clear line on stderr that names the program (a command's usage may follow it),
//! no panic, no hang, and no change to the namespace.
//!
//! Rows run by group: one sandbox per group, set up once (the group's surroundings: a small
//! world of links, addresses, routes, a named namespace and other tools' rules, then what the
//! group takes away), its state snapshot before and after the whole group. When the snapshots
//! differ, the group is run again one row at a time in fresh sandboxes to name the rows that
//! changed something. A new program joins with rows only: a row's program is found beside
//! the others by its name.
//!
//! Columns (tab-separated): group, exit status, expected text of stderr's first line, stdin,
//! argv (program name first). In stdin and argv, `\t` `\n` `\\` `\xHH` are escapes, `''` is
//! the empty word, `-` as stdin is /dev/null. Expected text `!TEXT`: a message kept byte for
//! byte from bridge-utils, which does not name the program; `-`: nothing on stderr.
//! `BADINPUT_RECORD=FILE` appends each row's outcome (line, status, signal, stderr) to FILE,
//! to review what new rows do before writing their expectations.

mod common;
use common::*;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

const TABLE: &str = include_str!("badinput.tsv");

/// What every group but `empty` starts from: a bridge with a port, a veth pair with an address and a
/// route, a named namespace with a hosts file, another tool's nf_tables and xtables rules,
/// natctl's own rule on both paths.
const WORLD: &str = r#"set -e
ip link add br0 type bridge
ip link add p0 type veth peer name p0x
ip link set p0 master br0
ip link add v0 type veth peer name v1
ip link set v0 up
ip link set br0 up
ip addr add 198.51.100.1/24 dev v0
ip route add 203.0.113.0/24 dev v0
ip netns add ns1
mkdir -p /etc/netns/ns1
echo "192.0.2.5 known" > /etc/netns/ns1/hosts
nft add table inet other
nft add chain inet other c '{ type filter hook forward priority 0; }'
nft add rule inet other c counter accept
iptables-legacy -t filter -L -n >/dev/null
iptables-legacy -t nat -A POSTROUTING -s 10.9.0.0/16 -j MASQUERADE
$NATCTL masquerade add 10.1.0.0/16
$NATCTL --via iptables masquerade add 10.1.0.0/16
"#;

/// A group: its name in the table, what is done to the sandbox after WORLD, and the words
/// every row's command runs under.
struct Group {
    name: &'static str,
    setup: &'static str,
    wrap: &'static [&'static str],
}

const GROUPS: &[Group] = &[
    Group {
        name: "empty",
        setup: "",
        wrap: &[],
    },
    Group {
        name: "world",
        setup: "",
        wrap: &[],
    },
    Group {
        name: "nofile4",
        setup: "",
        wrap: &["prlimit", "--nofile=4:4", "--"],
    },
    Group {
        name: "nosys",
        // Nothing on /sys: an empty read-only tmpfs over it (the mounts under the sandbox's
        // sysfs are the host's, locked together in a user namespace, so not unmounted).
        setup: "mount -t tmpfs -o ro,size=4k tmpfs /sys",
        wrap: &[],
    },
    Group {
        name: "rorun",
        // The file system itself read-only, not one mount of it (a bind of /run/netns would be
        // writable again); said as tmpfs, so that a user namespace may too.
        setup: "mount -t tmpfs -o remount,ro tmpfs /run",
        wrap: &[],
    },
    Group {
        name: "fullrun",
        // A 4 KiB /run with its one page and its inodes used up; /run/netns holds ns1 again.
        setup: concat!(
            "set -e\n",
            "mount -t tmpfs -o size=4k,nr_inodes=8 tmpfs /run\n",
            "mkdir /run/netns\n",
            "ip netns add ns1\n",
            "dd if=/dev/zero of=/run/fill bs=4k count=2 2>/dev/null || true\n",
            "i=0; while touch /run/f$i 2>/dev/null; do i=$((i+1)); done\n"
        ),
        wrap: &[],
    },
    Group {
        name: "nocaps",
        setup: "",
        wrap: &["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--"],
    },
    Group {
        name: "userns",
        setup: "",
        wrap: &["unshare", "--user", "--map-root-user", "--"],
    },
];

/// One row of the table.
#[derive(Clone)]
struct Row {
    line: usize,
    group: String,
    exit: i32,
    expect: String,
    stdin: Option<Vec<u8>>,
    argv: Vec<Vec<u8>>,
}

impl Row {
    fn show(&self) -> String {
        let words: Vec<String> = self
            .argv
            .iter()
            .map(|w| format!("{:?}", String::from_utf8_lossy(w)))
            .collect();
        format!(
            "badinput.tsv:{} [{}] {}",
            self.line,
            self.group,
            words.join(" ")
        )
    }

    /// The program the row runs, and the name its errors must start with.
    fn program(&self) -> (String, String) {
        let prog = text(&self.argv[0]);
        let named = match (prog.as_str(), self.argv.get(1)) {
            ("netplumb", Some(p)) if netplumb::PROGRAMS.iter().any(|(n, _)| n.as_bytes() == p) => {
                text(p)
            }
            _ => prog.clone(),
        };
        (prog, named)
    }
}

fn unescape(field: &str) -> Vec<u8> {
    if field == "''" {
        return Vec::new();
    }
    let b = field.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            match b[i + 1] {
                b't' => out.push(b'\t'),
                b'n' => out.push(b'\n'),
                b'\\' => out.push(b'\\'),
                b'x' => {
                    let hex = std::str::from_utf8(&b[i + 2..i + 4]).expect("\\xHH");
                    out.push(u8::from_str_radix(hex, 16).expect("\\xHH"));
                    i += 2;
                }
                c => panic!("unknown escape \\{} in {field:?}", c as char),
            }
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

fn rows() -> Vec<Row> {
    TABLE
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(n, l)| {
            let f: Vec<&str> = l.split('\t').collect();
            assert!(f.len() >= 5, "badinput.tsv:{}: too few columns", n + 1);
            Row {
                line: n + 1,
                group: f[0].to_string(),
                exit: f[1]
                    .parse()
                    .unwrap_or_else(|_| panic!("badinput.tsv:{}: exit {:?}", n + 1, f[1])),
                expect: f[2].to_string(),
                stdin: (f[3] != "-").then(|| unescape(f[3])),
                argv: f[4..].iter().map(|a| unescape(a)).collect(),
            }
        })
        .collect()
}

/// The namespace as the oracle tools see it (see [`Sandbox::state`]).
fn snapshot(sb: &Sandbox) -> String {
    sb.state(&|_| false)
}

/// A fresh sandbox set up for the group: WORLD (but for the empty group), then the group's own.
fn sandbox(g: &Group) -> Sandbox {
    let sb = Sandbox::new();
    if g.name != "empty" {
        sb.ok(WORLD);
    }
    if !g.setup.is_empty() {
        sb.ok(g.setup);
    }
    sb
}

/// The usage text the program prints with --help (lines of it may follow an error).
fn usage(prog: &str) -> String {
    let o = Command::new(program_path(prog))
        .arg("--help")
        .output()
        .expect("run --help");
    text(&o.stdout)
}

fn program_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(NETPLUMB).with_file_name(name)
}

/// Runs one row in the sandbox; returns what is wrong with its outcome, if anything.
fn run_row(
    sb: &Sandbox,
    g: &Group,
    row: &Row,
    usages: &mut Vec<(String, String)>,
) -> Option<String> {
    let (prog, named) = row.program();
    let mut c = sb.enter();
    c.args(["timeout", "-k", "5", "60"])
        .args(g.wrap)
        .arg(program_path(&prog))
        .args(row.argv[1..].iter().map(|a| OsString::from_vec(a.clone())))
        .env("LC_ALL", "C")
        .stdin(if row.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("nsenter from util-linux");
    if let (Some(input), Some(mut sin)) = (&row.stdin, child.stdin.take()) {
        use std::io::Write;
        let _ = sin.write_all(input);
    }
    let o = child.wait_with_output().expect("wait");
    let err = text(&o.stderr);
    let first = err.lines().next().unwrap_or("");
    if let Ok(path) = std::env::var("BADINPUT_RECORD") {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("record file");
        // One write: groups run in parallel.
        let line = format!(
            "{}\t{:?}\t{}\t{}\n",
            row.line,
            o.status.code(),
            o.status.signal().unwrap_or(0),
            err.replace('\\', "\\\\")
                .replace('\n', "\\n")
                .replace('\t', "\\t")
        );
        let _ = f.write_all(line.as_bytes());
    }
    let why = if let Some(sig) = o.status.signal() {
        format!("killed by signal {sig}")
    } else if o.status.code() == Some(124) {
        "hung (killed after 60 s)".to_string()
    } else if err.contains("panicked") || err.contains("RUST_BACKTRACE") {
        "panicked".to_string()
    } else if o.status.code() != Some(row.exit) {
        format!("exit {:?}, expected {}", o.status.code(), row.exit)
    } else if row.expect == "-" {
        if err.is_empty() {
            return None;
        }
        "something on stderr, expected nothing".to_string()
    } else if let Some(compat) = row.expect.strip_prefix('!') {
        if first.contains(compat) {
            return None;
        }
        format!("stderr's first line does not say {compat:?}")
    } else if !first.starts_with(&format!("{named}: ")) {
        format!("stderr's first line does not start with '{named}: '")
    } else if !first.contains(row.expect.as_str()) {
        format!("stderr's first line does not say {:?}", row.expect)
    } else {
        // After the one line, only the program's usage (a command's, or the whole text).
        let help = match usages.iter().find(|(p, _)| *p == named) {
            Some((_, h)) => h.clone(),
            None => {
                let h = usage(&named);
                usages.push((named.clone(), h.clone()));
                h
            }
        };
        let stray: Vec<&str> = err
            .lines()
            .skip(1)
            .filter(|l| !l.starts_with("Usage: ") && !help.lines().any(|h| h == *l))
            .collect();
        if stray.is_empty() {
            return None;
        }
        format!("more than one line on stderr: {stray:?}")
    };
    Some(format!("{}: {why}\n{}", row.show(), show_out(&o)))
}

fn run_group(name: &str) {
    let g = GROUPS.iter().find(|g| g.name == name).expect("group");
    let rows: Vec<Row> = rows().into_iter().filter(|r| r.group == name).collect();
    assert!(!rows.is_empty(), "group {name} has no rows");
    let mut usages = Vec::new();
    let mut failures = Vec::new();
    let sb = sandbox(g);
    let before = snapshot(&sb);
    for row in &rows {
        failures.extend(run_row(&sb, g, row, &mut usages));
    }
    let after = snapshot(&sb);
    drop(sb);
    if before != after {
        failures.extend(culprits(g, &rows, &mut usages));
    }
    println!("{name}: {} inputs, {} failures", rows.len(), failures.len());
    assert!(
        failures.is_empty(),
        "{} of {} inputs in group {name} misbehaved:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

/// The rows that changed the namespace: run again one at a time, a snapshot after each, in
/// a fresh sandbox after each culprit.
fn culprits(g: &Group, rows: &[Row], usages: &mut Vec<(String, String)>) -> Vec<String> {
    let mut found = Vec::new();
    let mut sb = sandbox(g);
    let mut before = snapshot(&sb);
    for row in rows {
        let _ = run_row(&sb, g, row, usages);
        let after = snapshot(&sb);
        if after != before {
            found.push(format!(
                "{}: changed the namespace:\n{}",
                row.show(),
                diff_lines(&before, &after)
            ));
            sb = sandbox(g);
            before = snapshot(&sb);
        }
    }
    if found.is_empty() {
        found.push("the namespace changed during the group, but no single row changes it".into());
    }
    found
}

#[test]
fn the_table_is_whole() {
    let rows = rows();
    assert!(rows.len() >= 500, "only {} bad inputs", rows.len());
    for r in &rows {
        assert!(
            GROUPS.iter().any(|g| g.name == r.group),
            "{}: no group {:?}",
            r.show(),
            r.group
        );
        assert!(
            program_path(&text(&r.argv[0])).exists(),
            "{}: no program {:?}",
            r.show(),
            text(&r.argv[0])
        );
    }
    // Every program of the multicall, and the multicall itself, has rows in the plain groups;
    // every group has rows.
    let names = netplumb::PROGRAMS.iter().map(|(n, _)| *n);
    for p in names.chain(["netplumb"]) {
        for g in ["empty", "world"] {
            assert!(
                rows.iter()
                    .any(|r| r.group == g && r.argv[0] == p.as_bytes()),
                "group {g} has no row for {p}"
            );
        }
    }
    for g in GROUPS {
        assert!(
            rows.iter().any(|r| r.group == g.name),
            "group {} has no rows",
            g.name
        );
    }
    println!("{} bad inputs in {} groups", rows.len(), GROUPS.len());
}

#[test]
fn empty() {
    run_group("empty");
}

#[test]
fn world() {
    run_group("world");
}

#[test]
fn nofile4() {
    run_group("nofile4");
}

#[test]
fn nosys() {
    run_group("nosys");
}

#[test]
fn rorun() {
    run_group("rorun");
}

#[test]
fn fullrun() {
    run_group("fullrun");
}

#[test]
fn nocaps() {
    run_group("nocaps");
}

#[test]
fn userns() {
    run_group("userns");
}
