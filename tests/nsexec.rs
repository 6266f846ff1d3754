//! nsexec against the kernel, read back with tools nobody here wrote: `ip netns
//! list/identify/pids/exec/set`, `ip -j link`, `ls /sys/class/net`, bridge-utils `brctl show`,
//! `getent hosts`, `grep Cap /proc/self/status`, `findmnt` and `/proc/self/mountinfo`. Every test
//! works in a sandbox of its own (a private /run/netns and an /etc overlay), and every process
//! it starts there is ended by its PID.

mod common;
use common::*;
use std::process::Output;

/// `nsexec ARGS` (a shell word list).
fn nsx(sb: &Sandbox, args: &str) -> Output {
    sb.sh(&format!("\"$NSEXEC\" {args}"))
}

/// `nsexec ARGS` must succeed, silently on stderr; its stdout.
fn nsx_ok(sb: &Sandbox, args: &str) -> String {
    let o = nsx(sb, args);
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "nsexec {args}: {:?}\nstdout: {}\nstderr: {}",
        o.status,
        text(&o.stdout),
        text(&o.stderr)
    );
    text(&o.stdout)
}

/// `nsexec ARGS` must exit `code` with one line on stderr that starts with `nsexec: ` and
/// contains `needle`; returns that line.
fn nsx_fails(sb: &Sandbox, args: &str, code: i32, needle: &str) -> String {
    let o = nsx(sb, args);
    let err = text(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(code),
        "nsexec {args}: stdout {} stderr {err}",
        text(&o.stdout)
    );
    assert!(
        err.starts_with("nsexec: ") && err.contains(needle) && err.lines().count() == 1,
        "nsexec {args}: expected one line with {needle:?}, got {err:?}"
    );
    err
}

/// The named namespaces as the sandbox holds them: the entries of /run/netns, every mount at or
/// under it (mountinfo lines: a stacked or leftover mount shows), and `ip netns list`.
fn netns_state(sb: &Sandbox) -> String {
    sb.ok("echo entries:; ls -A /run/netns 2>&1
           echo mounts:; grep -F ' /run/netns' /proc/self/mountinfo || true
           echo ip:; ip netns list")
}

/// `ip netns list` names, sorted (ids left out).
fn ip_names(sb: &Sandbox) -> Vec<String> {
    let mut v: Vec<String> = Jv::parse(&sb.ok("ip -j netns list"))
        .arr()
        .iter()
        .map(|n| n.s("name"))
        .collect();
    v.sort();
    v
}

/// Our `-j list`, parsed by python3: `name:nsid:pids` per namespace, in our order.
fn our_list_py(sb: &Sandbox) -> Vec<String> {
    sb.ok(r#""$NSEXEC" -j list | python3 -c '
import json, sys
for x in json.load(sys.stdin):
    print("%s:%s:%s" % (x["name"], x["nsid"], x["pids"]))'"#)
        .lines()
        .map(String::from)
        .collect()
}

/// The nsfs inode of a namespace file or `/proc/PID/ns/net`.
fn ino(sb: &Sandbox, path: &str) -> String {
    sb.ok(&format!("stat -L -c %i {path}")).trim().to_string()
}

fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(String::from).collect();
    v.sort();
    v
}

/// A PID no process has: pid_max itself (PIDs are below it).
fn no_such_pid(sb: &Sandbox) -> String {
    sb.ok("cat /proc/sys/kernel/pid_max").trim().to_string()
}

#[test]
fn add_is_seen_by_ip_netns_and_run_netns_becomes_one_shared_mount() {
    let sb = Sandbox::new();
    // The harness leaves /run/netns a plain directory: nsexec makes it a mount point.
    assert!(!sb.sh("findmnt --mountpoint /run/netns").status.success());
    nsx_ok(&sb, "add left");
    assert_eq!(ip_names(&sb), ["left"]);
    // Works for ip: a fresh namespace with only lo, DOWN (as ip netns add leaves it).
    let links = Jv::parse(&sb.ok("ip netns exec left ip -j link show"));
    assert_eq!(links.arr().len(), 1, "{}", links.to_json());
    assert_eq!(links.s("0.ifname"), "lo");
    assert!(!links.at("0.flags").to_json().contains("\"UP\""));
    // The file is the namespace ip netns exec enters.
    let inside = sb.ok("ip netns exec left readlink /proc/self/ns/net");
    assert_eq!(
        inside.trim(),
        format!("net:[{}]", ino(&sb, "/run/netns/left"))
    );
    assert_ne!(ino(&sb, "/run/netns/left"), ino(&sb, "/proc/self/ns/net"));

    // /run/netns: one mount, shared, and the name an nsfs bind mount under it.
    let mi = sb.ok("cat /proc/self/mountinfo");
    let dir: Vec<&str> = mi
        .lines()
        .filter(|l| l.split(' ').nth(4) == Some("/run/netns"))
        .collect();
    assert_eq!(dir.len(), 1, "{mi}");
    assert!(dir[0].contains(" shared:"), "{}", dir[0]);
    let file: Vec<&str> = mi
        .lines()
        .filter(|l| l.split(' ').nth(4) == Some("/run/netns/left"))
        .collect();
    assert_eq!(file.len(), 1, "{mi}");
    assert!(file[0].contains(" - nsfs "), "{}", file[0]);
    assert_eq!(
        sb.ok("findmnt -n -o PROPAGATION --mountpoint /run/netns")
            .trim(),
        "shared"
    );

    // More names, some at once: still one mount at /run/netns (the flock), one per name.
    sb.ok(r#"for i in 1 2 3 4 5 6 7 8; do "$NSEXEC" add p$i & done; wait"#);
    let mi = sb.ok("cat /proc/self/mountinfo");
    let at = |p: &str| {
        mi.lines()
            .filter(|l| l.split(' ').nth(4) == Some(p))
            .count()
    };
    assert_eq!(at("/run/netns"), 1, "{mi}");
    for i in 1..=8 {
        assert_eq!(at(&format!("/run/netns/p{i}")), 1, "p{i}: {mi}");
    }
    assert_eq!(ip_names(&sb).len(), 9);
    // Eight different namespaces.
    let inos = sb.ok("for i in 1 2 3 4 5 6 7 8; do stat -L -c %i /run/netns/p$i; done | sort -u");
    assert_eq!(inos.lines().count(), 8, "{inos}");

    // --lo-up: lo is up in there, and only there.
    nsx_ok(&sb, "add up --lo-up");
    let lo = Jv::parse(&sb.ok("ip -n up -j link show lo"));
    assert!(lo.at("0.flags").to_json().contains("\"UP\""), "{lo:?}");
    let lo_left = Jv::parse(&sb.ok("ip -n left -j link show lo"));
    assert!(!lo_left.at("0.flags").to_json().contains("\"UP\""));
    let here = Jv::parse(&sb.ok("ip -j link show lo"));
    assert!(!here.at("0.flags").to_json().contains("\"UP\""), "{here:?}");
    nsx_fails(&sb, "add up2 --lo-upp", 2, "--lo-up");
    assert!(!ip_names(&sb).contains(&"up2".to_string()));
}

#[test]
fn ip_netns_add_is_seen_by_nsexec_and_each_deletes_the_others() {
    let sb = Sandbox::new();
    sb.ok("ip netns add right");
    assert_eq!(our_list_py(&sb), ["right:None:0"]);
    let table = nsx_ok(&sb, "list");
    assert_eq!(
        table
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .collect::<Vec<_>>(),
        [vec!["name", "nsid", "pids"], vec!["right", "-", "0"]]
    );
    // exec enters it: ip inside sees its lo only, and /proc/self/ns/net is its inode.
    let inside = nsx_ok(&sb, "exec right ip -j link show");
    let v = Jv::parse(&inside);
    assert_eq!(v.arr().len(), 1, "{inside}");
    assert_eq!(v.s("0.ifname"), "lo");
    assert_eq!(
        nsx_ok(&sb, "exec right readlink /proc/self/ns/net").trim(),
        format!("net:[{}]", ino(&sb, "/run/netns/right"))
    );
    // A link made through our exec is seen by ip in that namespace.
    nsx_ok(&sb, "exec right ip link add brr type bridge");
    assert!(sb.ok("ip -n right -br link").contains("brr"));
    assert!(!sb.has_link("brr"));

    // Each tool deletes the other's, several names in one del.
    nsx_ok(&sb, "add a");
    nsx_ok(&sb, "add b");
    nsx_ok(&sb, "add c");
    sb.ok("ip netns add d; ip netns add e");
    sb.ok("ip netns del a");
    nsx_ok(&sb, "del right");
    assert_eq!(ip_names(&sb), ["b", "c", "d", "e"]);
    // A name that is not there: nothing is deleted (every name is checked first).
    nsx_fails(&sb, "del b nosuch c", 1, "no namespace named nosuch");
    assert_eq!(ip_names(&sb), ["b", "c", "d", "e"]);
    nsx_ok(&sb, "del b c d e");
    assert!(ip_names(&sb).is_empty());
    assert_eq!(nsx_ok(&sb, "list"), "");
    assert_eq!(nsx_ok(&sb, "-j list").trim(), "[]");
    assert_eq!(sb.ok("ls -A /run/netns"), "");
    // The directory mount stays (as with ip), no name mount does.
    let mounts = sb.ok("grep -F ' /run/netns' /proc/self/mountinfo | cut -d' ' -f5");
    assert_eq!(mounts, "/run/netns\n");
    // Deleted twice: exit 1, said.
    nsx_fails(&sb, "del b", 1, "no namespace named b");
}

#[test]
fn list_counts_processes_pids_agrees_and_nsid_is_ips() {
    let sb = Sandbox::new();
    nsx_ok(&sb, "add x");
    sb.ok("ip netns add y");
    let s1 = sb.sleeper("ip netns exec x");
    let s2 = sb.sleeper("ip netns exec x");
    // Both in x, as ip sees them.
    for s in [&s1, &s2] {
        assert_eq!(
            ino(&sb, &format!("/proc/{}/ns/net", s.pid)),
            ino(&sb, "/run/netns/x")
        );
    }
    assert_eq!(our_list_py(&sb), ["x:None:2", "y:None:0"]);
    let ours = sorted_lines(&nsx_ok(&sb, "pids x"));
    let ips = sorted_lines(&sb.ok("ip netns pids x"));
    assert_eq!(ours, ips);
    let mut want = vec![s1.pid.clone(), s2.pid.clone()];
    want.sort();
    assert_eq!(ours, want);
    assert_eq!(nsx_ok(&sb, "pids y"), "");
    assert_eq!(sb.ok("ip netns pids y"), "");
    let j = Jv::parse(&nsx_ok(&sb, "-j pids x"));
    let mut jp: Vec<String> = j.arr().iter().map(|p| p.text()).collect();
    jp.sort();
    assert_eq!(jp, want);
    nsx_fails(&sb, "pids nosuch", 1, "no namespace named nosuch");

    // nsids: x set to 5 by ip, y given one by a veth peer there.
    sb.ok("ip netns set x 5
           ip link add vy type veth peer name vy1 netns y");
    let ip_ids: Vec<(String, String)> = Jv::parse(&sb.ok("ip -j netns list"))
        .arr()
        .iter()
        .map(|n| {
            (
                n.s("name"),
                n.get("id").map(|i| i.text()).unwrap_or_default(),
            )
        })
        .collect();
    let y_id = ip_ids
        .iter()
        .find(|(n, _)| n == "y")
        .map(|(_, i)| i.clone())
        .expect("y in ip netns list");
    assert!(!y_id.is_empty(), "{ip_ids:?}");
    assert!(ip_ids.contains(&("x".into(), "5".into())), "{ip_ids:?}");
    assert_eq!(
        our_list_py(&sb),
        ["x:5:2".to_string(), format!("y:{y_id}:0")]
    );
    let table = nsx_ok(&sb, "list");
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["name", "nsid", "pids"],
            vec!["x", "5", "2"],
            vec!["y", y_id.as_str(), "0"]
        ]
    );

    // del with processes inside: the name goes, the namespace stays theirs.
    let before = ino(&sb, "/run/netns/x");
    nsx_ok(&sb, "del x");
    assert_eq!(ip_names(&sb), ["y"]);
    assert_eq!(ino(&sb, &format!("/proc/{}/ns/net", s1.pid)), before);
    assert_eq!(
        nsx_ok(
            &sb,
            &format!("exec --pid {} readlink /proc/self/ns/net", s2.pid)
        )
        .trim(),
        format!("net:[{before}]")
    );
    assert_eq!(our_list_py(&sb), [format!("y:{y_id}:0")]);
}

#[test]
fn identify_agrees_with_ip_netns_identify() {
    let sb = Sandbox::new();
    nsx_ok(&sb, "add x");
    sb.ok("ip netns add z");
    // Self, inside exec (either tool's), and the sandbox itself (in no named namespace).
    let ours = nsx_ok(&sb, "exec x \"$NSEXEC\" identify");
    assert_eq!(ours, "x\n");
    assert_eq!(ours, sb.ok("ip netns exec x ip netns identify"));
    assert_eq!(
        sb.ok("ip netns exec z \"$NSEXEC\" identify"),
        sb.ok("ip netns exec z ip netns identify")
    );
    assert_eq!(nsx_ok(&sb, "identify"), "\n");
    assert_eq!(sb.ok("ip netns identify"), "\n");
    // By PID.
    let sx = sb.sleeper("ip netns exec x");
    let ours = nsx_ok(&sb, &format!("identify {}", sx.pid));
    assert_eq!(ours, "x\n");
    assert_eq!(ours, sb.ok(&format!("ip netns identify {}", sx.pid)));
    assert_eq!(
        Jv::parse(&nsx_ok(&sb, &format!("-j identify {}", sx.pid))).to_json(),
        "[\"x\"]"
    );
    // A PID in no named namespace: both print an empty line.
    let free = sb.sleeper("unshare --net");
    let ours = nsx_ok(&sb, &format!("identify {}", free.pid));
    assert_eq!(ours, "\n");
    assert_eq!(ours, sb.ok(&format!("ip netns identify {}", free.pid)));
    assert_eq!(
        nsx_ok(&sb, &format!("-j identify {}", free.pid)).trim(),
        "[]"
    );
    // Two names for one namespace: ours prints both (sorted), ip the last it reads of them.
    nsx_ok(&sb, &format!("attach x2 {}", sx.pid));
    let ours = nsx_ok(&sb, &format!("identify {}", sx.pid));
    assert_eq!(ours, "x\nx2\n");
    let theirs = sb.ok(&format!("ip netns identify {}", sx.pid));
    assert!(
        theirs == "x\n" || theirs == "x2\n",
        "ip netns identify: {theirs:?}"
    );
    // Bad PIDs.
    let gone = no_such_pid(&sb);
    nsx_fails(
        &sb,
        &format!("identify {gone}"),
        1,
        &format!("no process {gone}"),
    );
    nsx_fails(&sb, "identify abc", 2, "not a process ID");
    nsx_fails(&sb, "identify 1 2", 2, "wrong arguments");
}

#[test]
fn attach_names_a_running_process_namespace() {
    let sb = Sandbox::new();
    let free = sb.sleeper("unshare --net");
    let before = netns_state(&sb);
    nsx_ok(&sb, &format!("attach held {}", free.pid));
    assert_eq!(ip_names(&sb), ["held"]);
    assert_eq!(sb.ok(&format!("ip netns identify {}", free.pid)), "held\n");
    assert_eq!(
        sb.ok("ip netns exec held readlink /proc/self/ns/net"),
        sb.ok(&format!("readlink /proc/{}/ns/net", free.pid))
    );
    assert_eq!(
        sorted_lines(&sb.ok("ip netns pids held")),
        vec![free.pid.clone()]
    );
    // The name outlives the process.
    let id = ino(&sb, "/run/netns/held");
    drop(free);
    assert_eq!(ino(&sb, "/run/netns/held"), id);
    assert_eq!(sb.ok("ip netns pids held"), "");
    sb.ok("ip netns exec held true");
    nsx_ok(&sb, "del held");
    assert_eq!(sb.ok("ls -A /run/netns"), "");

    // A PID that does not exist, or a name taken: exit 1, nothing left.
    let state = netns_state(&sb);
    let gone = no_such_pid(&sb);
    nsx_fails(
        &sb,
        &format!("attach ghost {gone}"),
        1,
        &format!("no process {gone}"),
    );
    assert_eq!(netns_state(&sb), state);
    nsx_ok(&sb, "add taken");
    let state = netns_state(&sb);
    let id = ino(&sb, "/run/netns/taken");
    nsx_fails(&sb, "attach taken $$", 1, "exists");
    assert_eq!(netns_state(&sb), state);
    assert_eq!(ino(&sb, "/run/netns/taken"), id);
    nsx_fails(&sb, "attach x notapid", 2, "not a process ID");
    nsx_fails(&sb, "attach x 0", 2, "not a process ID");
    assert_eq!(netns_state(&sb), state);
    assert_ne!(before, state);
}

#[test]
fn exec_sysfs_shows_the_namespace_links_only() {
    let sb = Sandbox::new();
    nsx_ok(&sb, "add a");
    nsx_ok(&sb, "add b");
    sb.ok("ip link add brout type bridge");
    let sys = sb.ok("grep ' /sys ' /proc/self/mountinfo");
    nsx_ok(&sb, "exec a ip link add br0 type bridge");
    nsx_ok(&sb, "exec a ip link add v0 type veth peer name v1");
    nsx_ok(&sb, "exec a ip link set v0 master br0");
    assert_eq!(nsx_ok(&sb, "exec a ls /sys/class/net"), "br0\nlo\nv0\nv1\n");
    assert_eq!(nsx_ok(&sb, "exec b ls /sys/class/net"), "lo\n");
    assert_eq!(nsx_ok(&sb, "exec --new ls /sys/class/net"), "lo\n");
    let outside = sb.ok("ls /sys/class/net");
    assert!(
        outside.contains("brout") && !outside.contains("br0"),
        "{outside}"
    );
    // Our brctl inside prints what bridge-utils prints inside, and only this namespace's bridges.
    let ours = nsx_ok(&sb, "exec a \"$BRCTL\" show");
    let theirs = nsx_ok(&sb, "exec a brctl show");
    assert_eq!(ours, theirs);
    assert_eq!(theirs, sb.ok("ip netns exec a brctl show"));
    assert!(
        ours.contains("br0") && ours.contains("v0") && !ours.contains("brout"),
        "{ours}"
    );
    assert_eq!(
        nsx_ok(&sb, "exec b brctl show"),
        nsx_ok(&sb, "exec b \"$BRCTL\" show")
    );
    // The sysfs on top of /sys inside is a fresh one, tagged with the namespace's name, and the
    // stack under it is what ip netns exec leaves.
    let m = nsx_ok(&sb, "exec a findmnt -n -o SOURCE,FSTYPE --mountpoint /sys");
    assert_eq!(
        m.lines()
            .last()
            .map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["a", "sysfs"]),
        "{m}"
    );
    assert_eq!(
        m,
        sb.ok("ip netns exec a findmnt -n -o SOURCE,FSTYPE --mountpoint /sys")
    );

    // Mounts made inside stay inside: /run/netns is shared here, the exec's view is a slave.
    let state = netns_state(&sb);
    let inside = nsx_ok(
        &sb,
        "exec a sh -c 'mount -t tmpfs tmpfs /run/netns && ls -A /run/netns && echo done'",
    );
    assert_eq!(inside, "done\n");
    assert_eq!(netns_state(&sb), state);
    assert_eq!(ip_names(&sb), ["a", "b"]);
    // Nor did any remount of /sys inside reach ours.
    assert_eq!(sb.ok("grep ' /sys ' /proc/self/mountinfo"), sys);
}

#[test]
fn exec_binds_etc_netns_hosts_and_hosts_edits_it() {
    let sb = Sandbox::new();
    nsx_ok(&sb, "add a");
    nsx_ok(&sb, "add b");
    let etc_hosts = sb.ok("cat /etc/hosts");
    nsx_ok(&sb, "hosts a add 198.51.100.7 web db");
    let file = sb.ok("cat /etc/netns/a/hosts");
    assert_eq!(nsx_ok(&sb, "hosts a show"), file);
    assert!(file.ends_with("198.51.100.7\tweb db\n"), "{file}");
    assert!(file.contains("127.0.0.1\tlocalhost"), "{file}");
    let web = nsx_ok(&sb, "exec a getent hosts web");
    assert_eq!(
        web.split_whitespace().collect::<Vec<_>>(),
        ["198.51.100.7", "web", "db"]
    );
    // ip netns exec binds the same file.
    assert_eq!(sb.ok("ip netns exec a getent hosts db"), web);
    assert!(nsx_ok(&sb, "exec a getent hosts localhost").contains("localhost"));
    // Not outside, not in b; /etc/hosts itself untouched.
    assert_eq!(sb.sh("getent hosts web").status.code(), Some(2));
    assert_eq!(nsx(&sb, "exec b getent hosts web").status.code(), Some(2));
    assert_eq!(sb.ok("cat /etc/hosts"), etc_hosts);

    // IPv6, and a taken name refused.
    nsx_ok(&sb, "hosts a add 2001:db8::5 six");
    let six = nsx_ok(&sb, "exec a getent hosts six");
    assert_eq!(
        six.split_whitespace().collect::<Vec<_>>(),
        ["2001:db8::5", "six"]
    );
    let before = sb.ok("cat /etc/netns/a/hosts");
    nsx_fails(&sb, "hosts a add 198.51.100.9 db", 1, "db is already in");
    nsx_fails(&sb, "hosts a add 198.51.100.x other", 2, "bad IP address");
    nsx_fails(&sb, "hosts a add 198.51.100.9 -bad", 2, "bad host name");
    nsx_fails(&sb, "hosts a add 198.51.100.9", 2, "wrong arguments");
    assert_eq!(sb.ok("cat /etc/netns/a/hosts"), before);

    // Edited in place: a command already running with the file bound sees a new line.
    let held = sb.sleeper("\"$NSEXEC\" exec a");
    nsx_ok(&sb, "hosts a add 198.51.100.8 late");
    let late = sb.ok(&format!("nsenter -t {} -m getent hosts late", held.pid));
    assert_eq!(
        late.split_whitespace().collect::<Vec<_>>(),
        ["198.51.100.8", "late"]
    );
    drop(held);

    // del: the name goes, the rest of its line stays; a line with no name left goes.
    nsx_ok(&sb, "hosts a del web");
    assert_eq!(nsx(&sb, "exec a getent hosts web").status.code(), Some(2));
    assert_eq!(
        nsx_ok(&sb, "exec a getent hosts db")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["198.51.100.7", "db"]
    );
    nsx_ok(&sb, "hosts a del db");
    let shown = nsx_ok(&sb, "hosts a show");
    assert!(!shown.contains("198.51.100.7"), "{shown}");
    assert!(shown.contains("198.51.100.8\tlate"), "{shown}");
    nsx_fails(&sb, "hosts a del db", 1, "db is not in /etc/netns/a/hosts");
    // b has none: show prints nothing.
    assert_eq!(nsx_ok(&sb, "hosts b show"), "");

    // An entry with no /etc counterpart is skipped with a warning (as ip does); a symlink in
    // there is not followed. The command still runs.
    sb.ok("echo secret > /run/secret
           echo x > /etc/netns/a/brandnewfile
           ln -s /run/secret /etc/netns/a/resolv.conf");
    let o = nsx(
        &sb,
        "exec a sh -c 'getent hosts late; cat /etc/resolv.conf 2>/dev/null; true'",
    );
    assert_eq!(o.status.code(), Some(0));
    let out = text(&o.stdout);
    assert!(
        out.contains("198.51.100.8") && !out.contains("secret"),
        "{out}"
    );
    let err = text(&o.stderr);
    assert!(err.contains("brandnewfile not bound"), "{err}");
    assert!(err.contains("resolv.conf is a symlink"), "{err}");
    assert_eq!(sb.ok("cat /run/secret"), "secret\n");
}

#[test]
fn exec_status_is_the_commands_own() {
    let sb = Sandbox::new();
    nsx_ok(&sb, "add a");
    assert_eq!(nsx(&sb, "exec a sh -c 'exit 7'").status.code(), Some(7));
    assert_eq!(nsx(&sb, "exec a -- false").status.code(), Some(1));
    // Killed by a signal: the shell sees what it sees for the command itself (no parent).
    let sig = sb.ok("\"$NSEXEC\" exec a sh -c 'kill -TERM $$'; echo $?");
    assert_eq!(sig, sb.ok("ip netns exec a sh -c 'kill -TERM $$'; echo $?"));
    assert_eq!(sig, "143\n");
    let e = nsx_fails(
        &sb,
        "exec a nosuchcmd-xyz",
        127,
        "nosuchcmd-xyz: command not found",
    );
    assert!(e.starts_with("nsexec: exec a: "), "{e}");
    sb.ok("printf '#!/bin/sh\\necho ran\\n' > /run/notexec; chmod 644 /run/notexec");
    let o = nsx(&sb, "exec a /run/notexec");
    assert_eq!(o.status.code(), Some(126), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("/run/notexec: cannot run it: Permission denied"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(text(&o.stdout), "");
    assert_eq!(nsx(&sb, "exec a /run").status.code(), Some(126));
    // Errors before the command: exit 1 (the namespace) or 2 (the command line).
    nsx_fails(&sb, "exec nosuch true", 1, "no namespace named nosuch");
    nsx_fails(&sb, "exec a", 2, "no command given");
    nsx_fails(&sb, "exec", 2, "which namespace");
    nsx_fails(&sb, "exec a --bogus true", 2, "unknown option '--bogus'");
    nsx_fails(&sb, "exec a --user x true", 2, "bad --user");
    nsx_fails(&sb, "exec --pid abc true", 2, "not a process ID");
    let gone = no_such_pid(&sb);
    nsx_fails(
        &sb,
        &format!("exec --pid {gone} true"),
        1,
        &format!("no process {gone}"),
    );
}

#[test]
fn exec_pid_joins_that_process_namespace() {
    let sb = Sandbox::new();
    let free = sb.sleeper("unshare --net");
    sb.ok(&format!(
        "nsenter -t {} -n ip link add brp type bridge",
        free.pid
    ));
    let theirs = sb.ok(&format!("readlink /proc/{}/ns/net", free.pid));
    let ours = nsx_ok(
        &sb,
        &format!("exec --pid {} readlink /proc/self/ns/net", free.pid),
    );
    assert_eq!(ours, theirs);
    assert_ne!(ours, sb.ok("readlink /proc/self/ns/net"));
    assert_eq!(
        nsx_ok(&sb, &format!("exec --pid {} ls /sys/class/net", free.pid)),
        "brp\nlo\n"
    );
    assert_eq!(
        nsx_ok(&sb, &format!("exec --pid {} \"$BRCTL\" show", free.pid)),
        nsx_ok(&sb, &format!("exec --pid {} brctl show", free.pid))
    );
    // A named namespace's process, too: the same namespace as its name.
    nsx_ok(&sb, "add n");
    let inn = sb.sleeper("ip netns exec n");
    assert_eq!(
        nsx_ok(&sb, &format!("exec --pid {} \"$NSEXEC\" identify", inn.pid)),
        "n\n"
    );
}

#[test]
fn exec_new_has_only_loopback_up_and_leaves_nothing() {
    let sb = Sandbox::new();
    nsx_ok(&sb, "add a");
    let state = netns_state(&sb);
    let v = Jv::parse(&nsx_ok(&sb, "exec --new ip -j link show"));
    assert_eq!(v.arr().len(), 1, "{}", v.to_json());
    assert_eq!(v.s("0.ifname"), "lo");
    assert!(
        v.at("0.flags").to_json().contains("\"UP\""),
        "{}",
        v.to_json()
    );
    let addrs = nsx_ok(&sb, "exec --new ip -4 -o addr show");
    assert!(addrs.contains("127.0.0.1/8"), "{addrs}");
    // Loopback works in there.
    nsx_ok(&sb, "exec --new ping -c 1 -W 2 127.0.0.1");
    // A namespace of its own each time: not ours, not a's, not the previous one.
    let one = nsx_ok(&sb, "exec --new readlink /proc/self/ns/net");
    assert_ne!(one, sb.ok("readlink /proc/self/ns/net"));
    assert_ne!(one.trim(), format!("net:[{}]", ino(&sb, "/run/netns/a")));
    assert_eq!(nsx_ok(&sb, "exec --new \"$NSEXEC\" identify"), "\n");
    assert_eq!(netns_state(&sb), state);
    // Our own lo is untouched.
    let here = Jv::parse(&sb.ok("ip -j link show lo"));
    assert!(!here.at("0.flags").to_json().contains("\"UP\""));
}

#[test]
fn exec_becomes_the_command_no_process_left_behind() {
    let sb = Sandbox::new();
    nsx_ok(&sb, "add a");
    let out = sb.ok(r#""$NSEXEC" exec a sh -c 'echo $$ > /run/inner; exec sleep 30' >/dev/null 2>&1 </dev/null &
        p=$!
        i=0
        until [ -s /run/inner ] && [ "$(cat /proc/$p/comm 2>/dev/null)" = sleep ]; do
          i=$((i+1)); [ $i -lt 1000 ] || { kill $p; exit 1; }
          sleep 0.01
        done
        echo "$p $(cat /run/inner) $(cat /proc/$p/comm) $(stat -L -c %i /proc/$p/ns/net) $(ps -o pid= --ppid $p | wc -l)""#,
    );
    let w: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(w.len(), 5, "{out}");
    let _held = Sleeper {
        sb: &sb,
        pid: w[0].to_string(),
    };
    // The shell nsexec ran had nsexec's own PID, and that PID is now sleep: nothing forked.
    assert_eq!(w[1], w[0], "{out}");
    assert_eq!(w[2], "sleep");
    assert_eq!(w[3], ino(&sb, "/run/netns/a"));
    assert_eq!(w[4], "0", "children of {}: {out}", w[0]);
    // ip netns pids agrees: the one process in a is that PID.
    assert_eq!(sb.ok("ip netns pids a").trim(), w[0]);
}

#[test]
fn bad_unknown_and_taken_names() {
    let sb = Sandbox::new();
    let state = netns_state(&sb);
    let long = "x".repeat(256);
    let gone = no_such_pid(&sb);
    for (bad, why) in [
        ("a/b", "cannot contain '/'"),
        (".", "are not namespace names"),
        ("..", "are not namespace names"),
        ("''", "cannot be empty"),
        (long.as_str(), "at most 255 bytes"),
    ] {
        for cmd in [
            format!("add {bad}"),
            format!("add {bad} --lo-up"),
            format!("del {bad}"),
            format!("pids {bad}"),
            format!("attach {bad} $$"),
            // The name is bad input whatever the PID.
            format!("attach {bad} {gone}"),
            format!("hosts {bad} add 198.51.100.1 h"),
            format!("hosts {bad} show"),
        ] {
            nsx_fails(&sb, &cmd, 2, why);
        }
        // exec NAME: names with '/' are refused as names, never taken for paths.
        nsx_fails(&sb, &format!("exec {bad} true"), 2, why);
        assert_eq!(netns_state(&sb), state, "{bad}");
        assert_eq!(sb.ok("ls -A /etc/netns 2>/dev/null || true"), "");
    }
    // ip refuses the same names.
    for bad in ["a/b", ".", ".."] {
        assert!(!sb.sh(&format!("ip netns add {bad}")).status.success());
    }
    // 255 bytes is a name; ip sees it and works with it.
    let max = "y".repeat(255);
    nsx_ok(&sb, &format!("add {max}"));
    assert_eq!(ip_names(&sb), vec![max.clone()]);
    sb.ok(&format!("ip netns exec {max} true"));
    assert_eq!(
        nsx_ok(&sb, &format!("exec {max} \"$NSEXEC\" identify")),
        format!("{max}\n")
    );
    nsx_ok(&sb, &format!("del {max}"));
    assert!(!netns_state(&sb).contains(&max));

    // Unknown names: exit 1, said.
    for cmd in [
        "del nosuch",
        "pids nosuch",
        "exec nosuch true",
        "exec nosuch -- true",
    ] {
        nsx_fails(
            &sb,
            cmd,
            1,
            "no namespace named nosuch (no /run/netns/nosuch)",
        );
    }
    // Taken: by us or by ip, either way round; the namespace there is untouched.
    nsx_ok(&sb, "add mine");
    sb.ok("ip netns add theirs");
    let state = netns_state(&sb);
    let (m, t) = (ino(&sb, "/run/netns/mine"), ino(&sb, "/run/netns/theirs"));
    nsx_fails(&sb, "add mine", 1, "a namespace named mine exists");
    nsx_fails(
        &sb,
        "add theirs --lo-up",
        1,
        "a namespace named theirs exists",
    );
    let o = sb.sh("ip netns add mine");
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stderr).contains("File exists"));
    assert_eq!(netns_state(&sb), state);
    assert_eq!(
        (ino(&sb, "/run/netns/mine"), ino(&sb, "/run/netns/theirs")),
        (m, t)
    );
    let lo = Jv::parse(&sb.ok("ip -n theirs -j link show lo"));
    assert!(!lo.at("0.flags").to_json().contains("\"UP\""));
    // Usage errors: exit 2.
    nsx_fails(&sb, "frob", 2, "unknown command 'frob'");
    nsx_fails(&sb, "del", 2, "wrong arguments");
    nsx_fails(&sb, "list extra", 2, "wrong arguments");
    // One namespace per exec: a second target is refused, not a silent override.
    nsx_fails(&sb, "exec mine --new true", 2, "give one namespace");
    nsx_fails(&sb, "exec --new --pid 1 true", 2, "give one namespace");
    nsx_fails(&sb, "exec true", 2, "no command given");
    let o = nsx(&sb, "--frob list");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).starts_with("nsexec: unknown option '--frob'\n"));
    assert_eq!(netns_state(&sb), state);
}

#[test]
fn planted_symlinks_are_refused_or_skipped_never_followed() {
    let sb = Sandbox::new();
    nsx_ok(&sb, "add real");
    sb.ok("echo target > /run/target
           ln -s /run/target /run/netns/evil
           ln -s /run/netns/real /run/netns/alias
           ln -s /proc/self/ns/net /run/netns/self");
    let state = netns_state(&sb);
    let real = ino(&sb, "/run/netns/real");
    for name in ["evil", "alias", "self"] {
        let why = format!("/run/netns/{name} is a symlink");
        nsx_fails(&sb, &format!("del {name}"), 1, &why);
        nsx_fails(&sb, &format!("exec {name} true"), 1, &why);
        nsx_fails(&sb, &format!("pids {name}"), 1, &why);
        nsx_fails(&sb, &format!("add {name}"), 1, "exists");
        nsx_fails(&sb, &format!("attach {name} $$"), 1, "exists");
        // Several names, one a symlink: nothing is deleted.
        nsx_fails(&sb, &format!("del real {name}"), 1, &why);
        assert_eq!(netns_state(&sb), state, "{name}");
    }
    // list and identify skip them (following "self" would name whatever namespace reads it).
    assert_eq!(nsx_ok(&sb, "identify"), "\n");
    assert_eq!(our_list_py(&sb), ["real:None:0"]);
    assert_eq!(nsx_ok(&sb, "exec real \"$NSEXEC\" identify"), "real\n");
    // The targets are untouched: the file's text, not a mount point, the real name still bound.
    assert_eq!(sb.ok("cat /run/target"), "target\n");
    assert!(!sb.sh("findmnt --mountpoint /run/target").status.success());
    assert_eq!(ino(&sb, "/run/netns/real"), real);
    assert_eq!(
        sb.ok("findmnt -n -o FSTYPE --mountpoint /run/netns/real")
            .trim(),
        "nsfs"
    );
    assert_eq!(netns_state(&sb), state);
    // The real one still deletes; the links stay what they were.
    nsx_ok(&sb, "del real");
    assert_eq!(sb.ok("ls -A /run/netns"), "alias\nevil\nself\n");
    assert_eq!(sb.ok("readlink /run/netns/evil"), "/run/target\n");

    // /etc/netns symlinks: hosts refuses to write through them, and the targets stay.
    sb.ok("mkdir -p /run/elsewhere /etc/netns/t
           echo keep > /run/hosts-target
           ln -s /run/elsewhere /etc/netns/s
           ln -s /run/hosts-target /etc/netns/t/hosts");
    nsx_fails(
        &sb,
        "hosts s add 198.51.100.1 h",
        1,
        "/etc/netns/s is a symlink",
    );
    nsx_fails(
        &sb,
        "hosts t add 198.51.100.1 h",
        1,
        "/etc/netns/t/hosts is a symlink",
    );
    nsx_fails(&sb, "hosts t show", 1, "is a symlink");
    nsx_fails(&sb, "hosts t del h", 1, "is a symlink");
    assert_eq!(sb.ok("ls -A /run/elsewhere"), "");
    assert_eq!(sb.ok("cat /run/hosts-target"), "keep\n");
}

#[test]
fn read_only_run_netns_add_and_del_fail_and_change_nothing() {
    // Made by us first, then remounted read-only.
    let sb = Sandbox::new();
    nsx_ok(&sb, "add a");
    nsx_ok(&sb, "add z");
    sb.ok("mount -o remount,ro,bind /run/netns");
    let state = netns_state(&sb);
    // del cannot unlink: it says so before it unmounts anything, so the names still work.
    for args in ["del a", "del z a", "--dry-run del a"] {
        nsx_fails(&sb, args, 1, "Read-only file system");
        assert_eq!(netns_state(&sb), state, "{args}");
    }
    sb.ok("ip netns exec a true; ip netns exec z true");
    for args in ["add b", "add b --lo-up"] {
        nsx_fails(&sb, args, 1, "Read-only file system");
        assert_eq!(netns_state(&sb), state, "{args}");
    }
    nsx_fails(&sb, "attach b $$", 1, "Read-only file system");
    assert_eq!(netns_state(&sb), state);
    assert_eq!(our_list_py(&sb), ["a:None:0", "z:None:0"]);
    // ip fails alike.
    assert_eq!(sb.sh("ip netns add c").status.code(), Some(1));

    // A read-only bind over a /run/netns no one set up yet.
    let sb = Sandbox::new();
    sb.ok("mount --bind /run/netns /run/netns; mount -o remount,ro,bind /run/netns");
    let mounts =
        |sb: &Sandbox| sb.ok("grep -F ' /run/netns' /proc/self/mountinfo | cut -d' ' -f1,5");
    let before = (mounts(&sb), sb.ok("ls -A /run/netns"));
    nsx_fails(&sb, "add b", 1, "Read-only file system");
    assert_eq!((mounts(&sb), sb.ok("ls -A /run/netns")), before);
    assert_eq!(ip_names(&sb), Vec::<String>::new());
}

/// The five capability sets of the command's `/proc/self/status`, with their values.
fn cap_lines(s: &str) -> Vec<(String, String)> {
    s.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(':')?;
            Some((k.trim().to_string(), v.trim().to_string()))
        })
        .filter(|(k, _)| k.starts_with("Cap"))
        .collect()
}

fn assert_no_caps(s: &str, what: &str) {
    assert_no_caps_because(s, what, "")
}

fn assert_no_caps_because(s: &str, what: &str, why: &str) {
    let caps = cap_lines(s);
    let names: Vec<&str> = caps.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"],
        "{what}: {s}"
    );
    for (k, v) in &caps {
        assert_eq!(v, "0000000000000000", "{what}: {k} is not empty{why}:\n{s}");
    }
}

#[test]
fn user_drops_every_capability_as_root() {
    let sb = Sandbox::new();
    nsx_ok(&sb, "add a");
    let caps = nsx_ok(&sb, "exec a --user 65534 -- grep Cap /proc/self/status");
    assert_no_caps(&caps, "--user 65534");
    let caps = nsx_ok(&sb, "exec a --user 65534:65534 grep Cap /proc/self/status");
    assert_no_caps(&caps, "--user 65534:65534");
    let ids = nsx_ok(
        &sb,
        "exec a --user 65534:65533 -- sh -c 'id -u; id -g; id -G'",
    );
    assert_eq!(ids, "65534\n65533\n65533\n");
    // Still in a, with a's sysfs.
    assert_eq!(
        nsx_ok(&sb, "exec a --user 65534 -- readlink /proc/self/ns/net").trim(),
        format!("net:[{}]", ino(&sb, "/run/netns/a"))
    );
    // Without --user, root keeps what it has, as with ip netns exec.
    assert_eq!(
        nsx_ok(&sb, "exec a grep -E 'Cap(Eff|Bnd)' /proc/self/status"),
        sb.ok("ip netns exec a grep -E 'Cap(Eff|Bnd)' /proc/self/status")
    );
}

#[test]
fn file_capabilities_for_nobody_drop_every_capability() {
    let sb = Sandbox::new();
    nsx_ok(&sb, "add a");
    sb.ok("cp \"$NSEXEC\" /run/nsexec-fc
         cp \"$NSEXEC\" /run/nsexec-plain
         cp \"$NSEXEC\" /run/nsexec-nopcap
         setcap cap_setpcap,cap_net_admin,cap_sys_admin+ep /run/nsexec-fc
         setcap cap_net_admin,cap_sys_admin+ep /run/nsexec-nopcap");
    assert!(sb
        .ok("getcap /run/nsexec-fc")
        .contains("cap_setpcap,cap_net_admin,cap_sys_admin=ep"));
    let nobody = "setpriv --reuid 65534 --regid 65534 --clear-groups";
    let o = sb.sh(&format!(
        "{nobody} /run/nsexec-fc exec a -- sh -c 'id -u; readlink /proc/self/ns/net; grep -E \"^(Cap|NoNewPrivs)\" /proc/self/status'"
    ));
    let out = text(&o.stdout);
    assert!(
        o.status.success(),
        "nobody with file capabilities: {:?}\nstdout: {out}\nstderr: {}",
        o.status,
        text(&o.stderr)
    );
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("65534"));
    assert_eq!(
        lines.next().map(String::from),
        Some(format!("net:[{}]", ino(&sb, "/run/netns/a")))
    );
    // Without the file capabilities: refused, the capability named, nothing made.
    let state = netns_state(&sb);
    let o = sb.sh(&format!("{nobody} /run/nsexec-plain exec a -- true"));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("needs CAP_SYS_ADMIN"),
        "{}",
        text(&o.stderr)
    );
    let o = sb.sh(&format!("{nobody} /run/nsexec-plain add b"));
    assert_eq!(o.status.code(), Some(1));
    // With them, add still cannot write root's /run/netns: refused, nothing left behind.
    let o = sb.sh(&format!("{nobody} /run/nsexec-fc add b"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("needs CAP_DAC_OVERRIDE"),
        "{}",
        text(&o.stderr)
    );
    // del likewise, before it unmounts anything (which CAP_SYS_ADMIN would allow): a still works.
    let o = sb.sh(&format!("{nobody} /run/nsexec-fc del a"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("needs CAP_DAC_OVERRIDE"),
        "{}",
        text(&o.stderr)
    );
    sb.ok("ip netns exec a true");
    assert_eq!(netns_state(&sb), state);
    // Reading needs nothing.
    assert_eq!(
        sb.ok(&format!("{nobody} /run/nsexec-plain list")),
        nsx_ok(&sb, "list")
    );

    // All five sets are empty in the command.
    assert_no_caps_because(
        &out,
        "nobody running nsexec with cap_setpcap,cap_net_admin,cap_sys_admin+ep",
        "",
    );
    // Without CAP_SETPCAP the bounding set cannot be emptied (PR_CAPBSET_DROP is EPERM): the
    // other four are, and no_new_privs keeps any exec from gaining a capability back.
    let o = sb.sh(&format!(
        "{nobody} /run/nsexec-nopcap exec a -- grep -E \"^(Cap|NoNewPrivs)\" /proc/self/status"
    ));
    let out = text(&o.stdout);
    assert!(o.status.success(), "{}", text(&o.stderr));
    for (k, v) in cap_lines(&out) {
        if k != "CapBnd" {
            assert_eq!(v, "0000000000000000", "{k} without CAP_SETPCAP:\n{out}");
        }
    }
    assert!(out.contains("NoNewPrivs:\t1"), "{out}");
}

#[test]
fn dry_run_and_explain() {
    let sb = Sandbox::new();
    // Nothing there yet, not even /run/netns: a dry run leaves it so.
    sb.ok("rmdir /run/netns");
    let o = nsx(&sb, "--dry-run add a --lo-up");
    assert_eq!(o.status.code(), Some(0));
    let err = text(&o.stderr);
    for want in [
        "unshare(CLONE_NEWNET)",
        "mkdir(\"/run/netns\"",
        "open(\"/run/netns/a\"",
        "not sent (--dry-run)",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    assert!(!sb.sh("test -e /run/netns").status.success());
    assert!(!sb
        .sh("grep -F /run/netns /proc/self/mountinfo")
        .status
        .success());
    sb.ok("mkdir /run/netns");

    nsx_ok(&sb, "add b");
    let state = netns_state(&sb);
    for args in [
        "--dry-run add a",
        "--dry-run del b",
        "--dry-run attach c $$",
        "--dry-run hosts b add 198.51.100.1 h",
        "--dry-run exec b touch /run/made",
        "--dry-run exec --new touch /run/made",
    ] {
        let o = nsx(&sb, args);
        assert_eq!(o.status.code(), Some(0), "{args}: {}", text(&o.stderr));
        assert!(text(&o.stderr).contains("not sent (--dry-run)"), "{args}");
        assert_eq!(netns_state(&sb), state, "{args}");
    }
    assert!(!sb.sh("test -e /run/made").status.success());
    assert!(!sb.sh("test -e /etc/netns").status.success());
    // A dry run that would fail says so as the real one would.
    nsx_fails(&sb, "--dry-run add b", 1, "exists");
    nsx_fails(&sb, "--dry-run del nosuch", 1, "no namespace named nosuch");

    // --explain: every unshare, mount and setns, and the change made.
    let o = nsx(&sb, "--explain add c --lo-up");
    assert_eq!(o.status.code(), Some(0));
    let err = text(&o.stderr);
    for want in [
        "nsexec: unshare(CLONE_NEWNET)",
        "nsexec: mount(\"\", \"/run/netns\", \"none\", MS_REC|MS_SHARED)",
        "nsexec: mount(\"/proc/thread-self/ns/net\", \"/run/netns/c\", \"none\", MS_BIND)",
        "IFLA_IFNAME \"lo\"",
        "nsexec: setns(",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    assert!(!err.contains("not sent"), "{err}");
    assert!(ip_names(&sb).contains(&"c".to_string()));
    let o = nsx(&sb, "--explain exec c true");
    assert_eq!(o.status.code(), Some(0));
    let err = text(&o.stderr);
    for want in [
        "nsexec: setns(c, CLONE_NEWNET)",
        "nsexec: unshare(CLONE_NEWNS)",
        "nsexec: mount(\"\", \"/\", \"none\", MS_REC|MS_SLAVE)",
        "nsexec: umount2(\"/sys\", MNT_DETACH)",
        "nsexec: mount(\"c\", \"/sys\", \"sysfs\", 0)",
        "nsexec: execvp(\"true\"",
    ] {
        assert!(err.contains(want), "{want}: {err}");
    }
    let o = nsx(&sb, "--explain del c");
    let err = text(&o.stderr);
    assert!(
        err.contains("umount2(\"/run/netns/c\", MNT_DETACH|UMOUNT_NOFOLLOW)")
            && err.contains("unlink(\"/run/netns/c\")"),
        "{err}"
    );
    assert!(!ip_names(&sb).contains(&"c".to_string()));
}

#[test]
fn batch_adds_and_refuses_exec_and_multicall() {
    let sb = Sandbox::new();
    // y has id 7 here, and none from inside a new namespace: list after each add shows 7 only
    // if every add came back home before the next line.
    sb.ok("ip netns add y; ip netns set y 7");
    let o = sb.sh_input(
        "\"$NSEXEC\" -b -",
        Some("add d\nlist\nadd e --lo-up\n# a comment\n\n  add f   \nlist\n"),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let rows: Vec<Vec<String>> = text(&o.stdout)
        .lines()
        .map(|l| l.split_whitespace().map(String::from).collect())
        .filter(|r: &Vec<String>| r[0] == "y")
        .collect();
    assert_eq!(
        rows,
        [["y", "7", "0"], ["y", "7", "0"]],
        "{}",
        text(&o.stdout)
    );
    sb.ok("ip netns del y");
    assert_eq!(ip_names(&sb), ["d", "e", "f"]);
    // Three namespaces, each its own; only e's lo is up, and ours still is not.
    let inos = sb.ok("for n in d e f; do stat -L -c %i /run/netns/$n; done | sort -u");
    assert_eq!(inos.lines().count(), 3);
    let up = |ns: &str| {
        let n = if ns.is_empty() {
            String::new()
        } else {
            format!("-n {ns} ")
        };
        Jv::parse(&sb.ok(&format!("ip {n}-j link show lo")))
            .at("0.flags")
            .to_json()
            .contains("\"UP\"")
    };
    assert_eq!(
        (up("d"), up("e"), up("f"), up("")),
        (false, true, false, false)
    );

    // exec in a batch: refused at its line; the lines before are done, none after.
    let o = sb.sh_input("\"$NSEXEC\" -b -", Some("add g\nexec g true\nadd h\n"));
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("line 2") && err.contains("not in a batch"),
        "{err}"
    );
    assert_eq!(ip_names(&sb), ["d", "e", "f", "g"]);
    // A failing line stops the batch there, with its status.
    sb.ok("printf 'del g\\ndel nosuch\\ndel f\\n' > /run/batch");
    let o = nsx(&sb, "-b /run/batch");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("/run/batch: line 2"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(ip_names(&sb), ["d", "e", "f"]);
    // list in a batch reads what the lines before it made.
    let o = sb.sh_input("\"$NSEXEC\" -b -", Some("add k\nlist\n"));
    assert!(o.status.success());
    assert!(
        text(&o.stdout).lines().any(|l| l.starts_with("k ")),
        "{}",
        text(&o.stdout)
    );

    // The multicall binary is the same program.
    assert_eq!(sb.ok("$NETPLUMB nsexec list"), nsx_ok(&sb, "list"));
    sb.ok("$NETPLUMB nsexec add m");
    assert!(ip_names(&sb).contains(&"m".to_string()));
    assert_eq!(sb.ok("$NETPLUMB nsexec exec m ip netns identify"), "m\n");
    assert_eq!(sb.ok("$NETPLUMB nsexec -j pids m").trim(), "[]");
}
