//! nsexec: named network namespaces, interoperable with `ip netns`, and commands run inside
//! one (by name, by a process's PID, or in a fresh one) the way `ip netns exec` runs them:
//! own mount namespace, a sysfs of this namespace, `/etc/netns/NAME/*` over `/etc/*`, exec in
//! place.

use crate::cli::{self, Failure, Json, EXIT_FAIL, EXIT_OK};
use libnet_sys::netns::exec::{self, Target};
use libnet_sys::netns::{hosts, named};
use libnet_sys::{Error, Trace};

const VERSION: &str = concat!("nsexec (netplumb) ", env!("CARGO_PKG_VERSION"));

const USAGE: &str = "\
Usage: nsexec [options] COMMAND
commands:
\tadd NAME [--lo-up]\ta named namespace, as ip netns add makes one (--lo-up: loopback up)
\tdel NAME [NAME...] [--if-exists]
\t\t\t\tremove names (processes inside keep their namespace);
\t\t\t\twith --if-exists a name gone already is a note, exit 0
\tlist\t\t\tnamed namespaces: name, nsid, number of processes (or placeholder)
\tidentify [PID]\t\tthe names of PID's namespace (default: this process's)
\tpids NAME\t\tthe processes in a named namespace
\tattach NAME PID\t\tname the namespace a running process is in
\texec NAME [--user UID[:GID]] [--] CMD [ARGS...]
\texec --pid PID [--user UID[:GID]] [--] CMD [ARGS...]
\texec --new [--user UID[:GID]] [--] CMD [ARGS...]
\t\t\t\trun CMD in place, in that namespace (--pid: a running process's;
\t\t\t\t--new: a fresh one with loopback up), with a mount namespace of its
\t\t\t\town, /sys showing the namespace, /etc/netns/NAME/* bound over /etc/*;
\t\t\t\tits exit status is CMD's (127 not found, 126 not executable)
\thosts NAME add IP HOSTNAME...\tadd a line to /etc/netns/NAME/hosts
\thosts NAME del HOSTNAME\tremove a name from it
\thosts NAME show\t\tprint it
NAME: a name under /run/netns, at most 255 bytes, no '/', not . or ..
Run by a user who is not root (nsexec holding file capabilities), or with --user, exec drops
every capability (bounding, ambient, effective, permitted, inheritable) before CMD runs; the
bounding set needs CAP_SETPCAP to empty, without it no_new_privs is set instead, and always
for a user who is not root (who gets only root's files of /etc/netns/NAME bound).
options (before the command):
\t-h, --help\t\tthis text
\t-V, --version\t\tprogram version
\t--explain\t\tprint every mount, unshare, setns and netlink request on stderr
\t--dry-run\t\tprint what would change; change nothing (exec runs nothing)
\t-j, --json\t\tJSON output for list, identify, pids
\t-b, --batch FILE\tone command a line from FILE (- for stdin); exec cannot be batched
kernel calls:
\tadd\t\tmkdir, flock, mount MS_SHARED (a bind mount first), open O_EXCL,
\t\t\tunshare(CLONE_NEWNET), mount MS_BIND /proc/thread-self/ns/net, setns back
\tattach\t\tthe same, mount MS_BIND /proc/PID/ns/net instead of unshare
\tdel\t\tumount2 MNT_DETACH|UMOUNT_NOFOLLOW, unlinkat
\tlist\t\tRTM_GETNSID NETNSA_FD per name; stat of /proc/*/ns/net
\texec\t\tsetns(CLONE_NEWNET) or unshare, unshare(CLONE_NEWNS), mount MS_REC|MS_SLAVE /,
\t\t\tumount2 /sys, mount sysfs, mount MS_BIND per /etc/netns/NAME entry, execvp
";

fn usage_text() -> String {
    USAGE.to_string()
}

const SPEC: cli::Spec = cli::Spec {
    name: "nsexec",
    version: VERSION,
    vias: &[],
    usage: usage_text,
    option_commands: &[],
};

struct Ctx<'a> {
    trace: Trace,
    json: bool,
    batch: bool,
    out: std::io::StdoutLock<'a>,
}

pub fn main(args: Vec<String>) -> i32 {
    cli::drive(&SPEC, &args, |common, trace| {
        Ok(Ctx {
            trace,
            json: common.json,
            batch: common.batch.is_some(),
            out: std::io::stdout().lock(),
        })
    })
}

fn pid(head: &str, s: &str) -> Result<u32, Failure> {
    s.parse::<u32>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| Failure::usage(format!("{head}: '{s}' is not a process ID")))
}

impl cli::Program for Ctx<'_> {
    fn run(&mut self, words: &[String]) -> Result<i32, Failure> {
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let head = w.iter().take(3).copied().collect::<Vec<_>>().join(" ");
        let t = &self.trace;
        let fail = |e: Error| cli::failure(&head, &e);
        match w.as_slice() {
            ["add", n, rest @ ..] => {
                let lo_up = match rest {
                    [] => false,
                    ["--lo-up"] => true,
                    _ => return Err(Failure::usage(format!("{head}: expected only --lo-up"))),
                };
                named::add(t, n, lo_up).map_err(fail)?;
            }
            ["del", names @ ..] if !names.is_empty() => {
                let (if_exists, mut names) = cli::take_if_exists(names);
                // With --if-exists a name gone already is a note; the others are deleted.
                while let Err(e) = named::del(t, &names) {
                    let gone = if_exists
                        && names.contains(&e.object)
                        && !named::list(t)
                            .map_err(fail)?
                            .iter()
                            .any(|x| x.name == e.object);
                    if !gone {
                        return Err(fail(e));
                    }
                    cli::gone("nsexec", &fail(e.clone()));
                    names.retain(|n| n != &e.object);
                    if names.is_empty() {
                        break;
                    }
                }
            }
            ["list"] => {
                let v = named::list(t).map_err(fail)?;
                let text = if self.json {
                    let mut j = Json::new();
                    j.array(|j| {
                        for x in &v {
                            j.object(|j| {
                                j.key("name").str(&x.name);
                                j.key("nsid");
                                match x.nsid {
                                    Some(id) => j.raw(id),
                                    None => j.raw("null"),
                                };
                                j.key("pids").raw(x.pids);
                                j.key("placeholder").raw(x.placeholder);
                            });
                        }
                    });
                    j.out + "\n"
                } else if v.is_empty() {
                    String::new()
                } else {
                    let mut rows = vec![["name", "nsid", "pids"].map(String::from)];
                    for x in &v {
                        rows.push([
                            x.name.clone(),
                            x.nsid.map(|i| i.to_string()).unwrap_or_else(|| "-".into()),
                            if x.placeholder {
                                "placeholder".into()
                            } else {
                                x.pids.to_string()
                            },
                        ]);
                    }
                    cli::table(&rows)
                };
                cli::emit(&mut self.out, &text)?;
            }
            ["identify", rest @ ..] if rest.len() <= 1 => {
                let p = rest.first().map(|s| pid(&head, s)).transpose()?;
                let names = named::identify(p).map_err(fail)?;
                // As ip netns identify: one name a line, an empty line when there is none.
                let text = if self.json {
                    json_strings(&names)
                } else {
                    names.join("\n") + "\n"
                };
                cli::emit(&mut self.out, &text)?;
            }
            ["pids", n] => {
                let v = named::pids(n).map_err(fail)?;
                let text = if self.json {
                    let mut j = Json::new();
                    j.array(|j| {
                        for p in &v {
                            j.raw(p);
                        }
                    });
                    j.out + "\n"
                } else {
                    v.iter().map(|p| format!("{p}\n")).collect()
                };
                cli::emit(&mut self.out, &text)?;
            }
            ["attach", n, p] => {
                let p = pid(&head, p)?;
                named::attach(t, n, p).map_err(fail)?;
            }
            ["exec", rest @ ..] => return self.exec(rest),
            ["hosts", n, "add", ip, names @ ..] if !names.is_empty() => {
                let ip = ip
                    .parse()
                    .map_err(|_| Failure::usage(format!("{head}: bad IP address '{ip}'")))?;
                let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
                hosts::add(t, n, ip, &names).map_err(fail)?;
            }
            ["hosts", n, "del", h] => hosts::del(t, n, h).map_err(fail)?,
            ["hosts", n, "show"] => {
                let text = hosts::read(n).map_err(fail)?;
                cli::emit(&mut self.out, &text)?;
            }
            [] => return Err(Failure::usage("no command given")),
            [c, ..]
                if ["add", "del", "list", "identify", "pids", "attach", "hosts"].contains(c) =>
            {
                return Err(Failure::usage(format!(
                    "{head}: wrong arguments; see nsexec --help"
                )))
            }
            [c, ..] => {
                return Err(Failure::usage(format!(
                    "unknown command '{c}'; see nsexec --help"
                )))
            }
        }
        Ok(EXIT_OK)
    }
}

fn json_strings(v: &[String]) -> String {
    let mut j = Json::new();
    j.array(|j| {
        for s in v {
            j.str(s);
        }
    });
    j.out + "\n"
}

/// `UID[:GID]` (the group defaults to the user's number).
fn user(head: &str, s: &str) -> Result<(u32, u32), Failure> {
    let bad = || {
        Failure::usage(format!(
            "{head}: bad --user '{s}': expected UID[:GID], numbers"
        ))
    };
    let (u, g) = s.split_once(':').unwrap_or((s, s));
    Ok((u.parse().map_err(|_| bad())?, g.parse().map_err(|_| bad())?))
}

impl Ctx<'_> {
    /// `exec TARGET [--user U[:G]] [--] CMD...`: only returns when something failed.
    fn exec(&mut self, a: &[&str]) -> Result<i32, Failure> {
        let head = "exec".to_string();
        if self.batch {
            return Err(Failure::usage(
                "exec: not in a batch (exec becomes the command; the lines after it would never run)",
            ));
        }
        let mut i = 0;
        let mut target = None;
        let mut who = None;
        // One namespace only: a second target is a usage error, not a silent override.
        let set = |t: Target, target: &mut Option<Target>| {
            if target.is_some() {
                return Err(Failure::usage(
                    "exec: give one namespace: NAME, --pid PID or --new",
                ));
            }
            *target = Some(t);
            Ok(())
        };
        while i < a.len() {
            match a[i] {
                "--pid" => {
                    i += 1;
                    let p = a
                        .get(i)
                        .ok_or_else(|| Failure::usage("exec: --pid needs a PID"))?;
                    set(Target::Pid(pid(&head, p)?), &mut target)?;
                }
                "--new" => set(Target::New, &mut target)?,
                "--user" => {
                    i += 1;
                    let u = a
                        .get(i)
                        .ok_or_else(|| Failure::usage("exec: --user needs UID[:GID]"))?;
                    who = Some(user(&head, u)?);
                }
                "--" => {
                    i += 1;
                    break;
                }
                w if target.is_none() && !w.starts_with('-') => {
                    set(Target::Name(w.into()), &mut target)?
                }
                w if w.starts_with('-') => {
                    return Err(Failure::usage(format!("exec: unknown option '{w}'")))
                }
                _ => break,
            }
            i += 1;
        }
        let target = target.ok_or_else(|| {
            Failure::usage("exec: which namespace? exec NAME | --pid PID | --new, then the command")
        })?;
        let argv: Vec<String> = a[i..].iter().map(|s| s.to_string()).collect();
        if argv.is_empty() {
            return Err(Failure::usage("exec: no command given"));
        }
        let head = match &target {
            Target::Name(n) => format!("exec {n}"),
            Target::Pid(p) => format!("exec --pid {p}"),
            Target::New => "exec --new".to_string(),
        };
        let t = self.trace;
        let warnings = exec::enter(&t, &target).map_err(|e| cli::failure(&head, &e))?;
        for w in warnings {
            cli::say(&format!("nsexec: {head}: {w}"));
        }
        if who.is_some() || !libnet_sys::caps::caller_is_root() {
            libnet_sys::caps::limit_future().map_err(|e| cli::failure(&head, &e))?;
            if let Some((uid, gid)) = who {
                exec::become_user(&t, uid, gid).map_err(|e| cli::failure(&head, &e))?;
            }
            libnet_sys::caps::clear().map_err(|e| cli::failure(&head, &e))?;
        }
        let e = exec::exec(&t, &argv);
        if t.dry_run {
            return Ok(EXIT_OK);
        }
        let status = match e.os_errno() {
            Some(libc::ENOENT) => 127,
            Some(_) => 126,
            None => EXIT_FAIL,
        };
        let why = match e.os_errno() {
            Some(libc::ENOENT) => format!("{}: command not found", argv[0]),
            Some(_) => format!("{}: cannot run it: {}", argv[0], e.reason()),
            None => e.reason(),
        };
        Err(Failure {
            message: format!("{head}: {why}"),
            status,
            bare: false,
            then: Vec::new(),
        })
    }
}
