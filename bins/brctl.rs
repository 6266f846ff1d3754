//! brctl: bridge-utils' brctl, command for command, on any of three kernel paths.
//!
//! `show`, `showmacs` and `showstp` print the bytes bridge-utils 1.7.1 prints (their errors
//! included). The other commands keep bridge-utils' syntax and fix its weak spots: names are
//! never truncated, port commands check the bridge they are given, values the kernel would
//! reject are refused with their range, and `addif` of several interfaces is all or nothing.

use crate::cli::{self, Failure, Json, EXIT_FAIL, EXIT_OK, EXIT_USAGE};
use libnet_sys::bridge::ops::{Bridges, Via};
use libnet_sys::bridge::{port_state_name, Bridge, BridgeSetting, Detail, FdbEntry, PortSetting};
use libnet_sys::error::strerror;
use libnet_sys::ifname::mac;
use libnet_sys::Error;
use std::io::Write;

/// One command, as bridge-utils' `struct command`: its name, its argument count, its help and
/// its handler. The name is looked up once; the handler knows what it is for.
struct Cmd {
    name: &'static str,
    /// bridge-utils' help text: arguments, tabs, description.
    help: &'static str,
    min: usize,
    max: usize,
    run: Handler,
}

/// A command line as its handler gets it: the command's name, its arguments and the whole line
/// (`head`, what bad values are reported against).
struct Call<'a> {
    c: &'static str,
    a: &'a [&'a str],
    head: &'a str,
    /// `--if-exists` (delbr, delif): a bridge or port already gone is a note, not a failure.
    if_exists: bool,
}

type Handler = fn(&mut Ctx<'_>, &Call) -> Result<i32, Failure>;

const MANY: usize = usize::MAX;

/// The 16 commands of bridge-utils 1.7.1, in its order, with its help strings.
const COMMANDS: &[Cmd] = &[
    Cmd {
        name: "addbr",
        help: "<bridge>\t\tadd bridge",
        min: 1,
        max: 1,
        run: |x, k| x.addbr(k),
    },
    Cmd {
        name: "delbr",
        help: "<bridge>\t\tdelete bridge",
        min: 1,
        max: 1,
        run: |x, k| x.delbr(k),
    },
    Cmd {
        name: "addif",
        help: "<bridge> <device>\tadd interface to bridge",
        min: 2,
        max: MANY,
        run: |x, k| x.ports(k, true),
    },
    Cmd {
        name: "delif",
        help: "<bridge> <device>\tdelete interface from bridge",
        min: 2,
        max: MANY,
        run: |x, k| x.ports(k, false),
    },
    Cmd {
        name: "hairpin",
        help: "<bridge> <port> {on|off}\tturn hairpin on/off",
        min: 3,
        max: 3,
        run: |x, k| x.set_port(k, PortSetting::Hairpin, "hairpin"),
    },
    Cmd {
        name: "setageing",
        help: "<bridge> <time>\t\tset ageing time",
        min: 2,
        max: 2,
        run: |x, k| x.set_bridge(k, BridgeSetting::AgeingTime),
    },
    Cmd {
        name: "setbridgeprio",
        help: "<bridge> <prio>\t\tset bridge priority",
        min: 2,
        max: 2,
        run: |x, k| x.set_bridge(k, BridgeSetting::Priority),
    },
    Cmd {
        name: "setfd",
        help: "<bridge> <time>\t\tset bridge forward delay",
        min: 2,
        max: 2,
        run: |x, k| x.set_bridge(k, BridgeSetting::ForwardDelay),
    },
    Cmd {
        name: "sethello",
        help: "<bridge> <time>\t\tset hello time",
        min: 2,
        max: 2,
        run: |x, k| x.set_bridge(k, BridgeSetting::HelloTime),
    },
    Cmd {
        name: "setmaxage",
        help: "<bridge> <time>\t\tset max message age",
        min: 2,
        max: 2,
        run: |x, k| x.set_bridge(k, BridgeSetting::MaxAge),
    },
    Cmd {
        name: "setpathcost",
        help: "<bridge> <port> <cost>\tset path cost",
        min: 3,
        max: 3,
        run: |x, k| x.set_port(k, PortSetting::PathCost, "path cost"),
    },
    Cmd {
        name: "setportprio",
        help: "<bridge> <port> <prio>\tset port priority",
        min: 3,
        max: 3,
        run: |x, k| x.set_port(k, PortSetting::Priority, "port priority"),
    },
    Cmd {
        name: "show",
        help: "[ <bridge> ]\t\tshow a list of bridges",
        min: 0,
        max: MANY,
        run: |x, k| x.show(k.a),
    },
    Cmd {
        name: "showmacs",
        help: "<bridge>\t\tshow a list of mac addrs",
        min: 1,
        max: 1,
        run: |x, k| x.showmacs(k.a[0]),
    },
    Cmd {
        name: "showstp",
        help: "<bridge>\t\tshow bridge stp info",
        min: 1,
        max: 1,
        run: |x, k| x.showstp(k.a[0]),
    },
    Cmd {
        name: "stp",
        help: "<bridge> {on|off}\tturn stp on/off",
        min: 2,
        max: 2,
        run: |x, k| x.set_bridge(k, BridgeSetting::StpState),
    },
];

const VERSION: &str = concat!(
    "brctl (netplumb) ",
    env!("CARGO_PKG_VERSION"),
    ", bridge-utils 1.7.1 compatible"
);

const OPTIONS_HELP: &str = "\
options (before the command):
\t-h, --help\t\tthis text
\t-V, --version\t\tprogram version
\t--via PATH\t\tkernel path: ioctl, sysfs or netlink (default: per command, below)
\t--explain\t\tprint every kernel request and its result on stderr
\t--dry-run\t\tprint the requests that would change something; change nothing
\t-j, --json\t\tJSON output for show, showmacs, showstp
\t-b, --batch FILE\tone command a line from FILE (- for stdin), one process, one socket
delbr and delif take --if-exists anywhere after the command: a bridge or port gone already
is then a note on stderr, exit 0
kernel calls, by path (* = default):
\taddbr\t\tioctl* SIOCBRADDBR\t\tnetlink RTM_NEWLINK kind bridge\tsysfs: uses the ioctl
\tdelbr\t\tioctl* SIOCBRDELBR\t\tnetlink RTM_DELLINK\t\tsysfs: uses the ioctl
\taddif, delif\tioctl* SIOCBRADDIF/SIOCBRDELIF\tnetlink RTM_NEWLINK IFLA_MASTER\tsysfs: uses the ioctl
\tset*, stp\tnetlink* RTM_NEWLINK IFLA_BR_*\tioctl SIOCDEVPRIVATE BRCTL_SET_*\tsysfs BR/bridge/*
\tport set*\tnetlink* RTM_SETLINK AF_BRIDGE IFLA_PROTINFO IFLA_BRPORT_*\tioctl BRCTL_SET_PATH_COST/PORT_PRIORITY\tsysfs PORT/brport/*
\thairpin\t\tnetlink* IFLA_BRPORT_MODE\tsysfs PORT/brport/hairpin_mode\tioctl: none exists
\tshow\t\tioctl* SIOCGIFBR BRCTL_GET_BRIDGES + BRCTL_GET_BRIDGE_INFO/PORT_LIST (netlink past 2047 bridges)\tnetlink RTM_GETLINK dumps: bridges by kind, ports by AF_BRIDGE\tsysfs BR/bridge/*, brif/
\tshowstp\tnetlink* RTM_GETLINK + dump by IFLA_MASTER\tioctl BRCTL_GET_BRIDGE_INFO/PORT_LIST/PORT_INFO\tsysfs BR/bridge/*, brif/, brport/*
\tshowmacs\tnetlink* RTM_GETNEIGH AF_BRIDGE dump\tioctl BRCTL_GET_FDB_ENTRIES\tsysfs BR/brforward
";

fn usage_text() -> String {
    let mut s = String::from("Usage: brctl [options] [commands]\ncommands:\n");
    for c in COMMANDS {
        s.push_str(&format!("\t{:<10}\t{}\n", c.name, c.help));
    }
    s.push_str(OPTIONS_HELP);
    s
}

fn command_usage(c: &Cmd) -> String {
    format!("Usage: brctl {} {}", c.name, c.help)
}

const SPEC: cli::Spec = cli::Spec {
    name: "brctl",
    version: VERSION,
    vias: &["ioctl", "sysfs", "netlink"],
    usage: usage_text,
    option_commands: &[],
};

/// The program: arguments without `argv[0]`; returns the exit status.
pub fn main(args: Vec<String>) -> i32 {
    cli::drive(&SPEC, &args, |common, trace| {
        Ok(Ctx {
            br: Bridges::new(trace, common.via.as_deref().and_then(Via::parse)),
            json: common.json,
            out: std::io::stdout().lock(),
        })
    })
}

struct Ctx<'a> {
    br: Bridges,
    json: bool,
    out: std::io::StdoutLock<'a>,
}

use cli::name;

/// On/off as bridge-utils accepts it: exactly on, yes, 1, off, no, 0.
fn on_off(cmd: &str, s: &str) -> Result<u64, Failure> {
    match s {
        "on" | "yes" | "1" => Ok(1),
        "off" | "no" | "0" => Ok(0),
        _ => Err(Failure::usage(format!(
            "{cmd}: expected on or off (or yes/no, 1/0), got '{s}'"
        ))),
    }
}

/// Seconds as a decimal number (`4.5`, `15`) to centiseconds, truncated as bridge-utils does
/// (`4.567` → 456); no sign, no junk after the number.
fn seconds(cmd: &str, what: &str, s: &str) -> Result<u64, Failure> {
    let bad = || {
        Failure::usage(format!(
            "{cmd}: bad {what} value '{s}': expected seconds, e.g. 15 or 4.5"
        ))
    };
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|c| c.is_ascii_digit())
        || !frac.bytes().all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: u64 = if int.is_empty() {
        0
    } else {
        int.parse().map_err(|_| bad())?
    };
    let mut cs = whole.checked_mul(100).ok_or_else(bad)?;
    let digits: Vec<u64> = frac.bytes().take(2).map(|c| (c - b'0') as u64).collect();
    cs += digits.first().copied().unwrap_or(0) * 10 + digits.get(1).copied().unwrap_or(0);
    Ok(cs)
}

/// An integer as C's `%i` reads it (`0x10` hex, `010` octal, else decimal), but whole: junk
/// after the number is an error rather than ignored.
fn integer(cmd: &str, what: &str, s: &str) -> Result<u64, Failure> {
    let parsed = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        u64::from_str_radix(&s[1..], 8)
    } else {
        s.parse::<u64>()
    };
    parsed.map_err(|_| Failure::usage(format!("{cmd}: bad {what} '{s}': expected a whole number")))
}

fn check_range(
    cmd: &str,
    what: &str,
    shown: &str,
    v: u64,
    range: (u64, u64),
    unit: &str,
    scale: u64,
) -> Result<(), Failure> {
    if v < range.0 || v > range.1 {
        let fmt = |x: u64| {
            if scale == 1 {
                x.to_string()
            } else {
                fmt_cs(x).trim().to_string()
            }
        };
        return Err(Failure::usage(format!(
            "{cmd}: {what} {shown} is out of range: the kernel accepts {} to {}{unit}",
            fmt(range.0),
            fmt(range.1)
        )));
    }
    Ok(())
}

/// Centiseconds as bridge-utils prints a timer: `%4i.%.2i`.
fn fmt_cs(cs: u64) -> String {
    format!("{:4}.{:02}", cs / 100, cs % 100)
}

impl cli::Program for Ctx<'_> {
    /// One command line (without options); show may return 1 for a missing bridge.
    fn run(&mut self, words: &[String]) -> Result<i32, Failure> {
        let (word, args) = words
            .split_first()
            .ok_or_else(|| Failure::usage("no command given"))?;
        let Some(cmd) = COMMANDS.iter().find(|c| c.name == word) else {
            return Err(Failure::usage(format!(
                "never heard of command [{word}]; see brctl --help"
            )));
        };
        let mut if_exists = false;
        let taken;
        let args = if matches!(cmd.name, "delbr" | "delif") {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            (if_exists, taken) = cli::take_if_exists(&a);
            &taken[..]
        } else {
            args
        };
        if args.len() < cmd.min || args.len() > cmd.max {
            let n = args.len();
            let which = if n < cmd.min { "too few" } else { "too many" };
            let mut f = Failure::usage(format!("{}: {which} arguments ({n})", cmd.name));
            f.then.push(command_usage(cmd));
            return Err(f);
        }
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        // Bad values are reported against the whole command line, as failures are.
        let head = format!("{} {}", cmd.name, a.join(" "));
        (cmd.run)(
            self,
            &Call {
                c: cmd.name,
                a: &a,
                head: &head,
                if_exists,
            },
        )
    }
}

impl Ctx<'_> {
    fn addbr(&mut self, k: &Call) -> Result<i32, Failure> {
        let br = name(k.c, k.a[0])?;
        self.br
            .add_bridge(&br)
            .map_err(|e| mutate_error(k.c, k.a, &e))?;
        Ok(EXIT_OK)
    }

    fn delbr(&mut self, k: &Call) -> Result<i32, Failure> {
        let (c, a) = (k.c, k.a);
        let br = name(c, a[0])?;
        if let Err(e) = self.br.del_bridge(&br) {
            // SIOCBRDELBR's EPERM means "not a bridge" and "not allowed" alike (in a user
            // namespace that does not own the network namespace): asked which.
            let found = e
                .is(libc::EPERM)
                .then(|| self.br.bridge(&br, Detail::Summary));
            let gone = |x: &Error| x.is(libc::ENXIO) || x.is(libc::ENODEV);
            let (failed, missing) = match found {
                Some(Ok(_)) => (cli::failure(k.head, &e), false),
                // Not there at all: said as such.
                Some(Err(x)) if !x.is(libc::EOPNOTSUPP) => (mutate_error(c, a, &x), gone(&x)),
                _ => (mutate_error(c, a, &e), gone(&e)),
            };
            // With --if-exists, a bridge that is not there is a note.
            if !(k.if_exists && missing) {
                return Err(failed);
            }
            cli::gone("brctl", &failed);
        }
        Ok(EXIT_OK)
    }

    /// addif/delif of one or more interfaces: all or nothing. If one fails, the ones done
    /// before it are undone.
    /// With `--if-exists`, a delif of a port (or bridge) that is gone is a note.
    fn ports(&mut self, k: &Call, add: bool) -> Result<i32, Failure> {
        let (c, a, if_exists) = (k.c, k.a, k.if_exists);
        let br = name(c, a[0])?;
        let ports = a[1..]
            .iter()
            .map(|p| name(c, p))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, p) in ports.iter().enumerate() {
            if let Err(e) = self.br.set_port_of(&br, p, add) {
                let mut f = mutate_error(c, &[a[0], a[1 + i]], &e);
                if if_exists && (e.is(libc::ENODEV) || e.is(libc::EINVAL)) {
                    cli::gone("brctl", &f);
                    continue;
                }
                let done = &ports[..i];
                let undone: Vec<String> = done
                    .iter()
                    .filter(|q| self.br.set_port_of(&br, q, !add).is_ok())
                    .map(|q| q.to_string())
                    .collect();
                if !done.is_empty() {
                    f.then.push(format!(
                        "brctl: {c} {br}: undone for {} (all or nothing)",
                        undone.join(" ")
                    ));
                }
                return Err(f);
            }
        }
        Ok(EXIT_OK)
    }

    /// A bridge setting: the value parsed and range-checked first, then sent.
    fn set_bridge(&mut self, k: &Call, what: BridgeSetting) -> Result<i32, Failure> {
        let (c, a, head) = (k.c, k.a, k.head);
        let br = name(c, a[0])?;
        let (label, unit, scale) = setting_label(what);
        let v = match what {
            BridgeSetting::StpState => on_off(head, a[1])?,
            BridgeSetting::Priority => integer(head, "priority", a[1])?,
            _ => seconds(head, label, a[1])?,
        };
        if what != BridgeSetting::StpState {
            check_range(
                head,
                label,
                &format!("{}{unit}", a[1]),
                v,
                what.range(),
                unit,
                scale,
            )?;
        }
        self.br.set_bridge(&br, what, v).map_err(|e| {
            if e.is(libc::ERANGE) && what == BridgeSetting::ForwardDelay {
                return Failure::fail(format!("{c} {}: forward delay {} s is out of range while STP is on: the kernel accepts 2 to 30 s", a[0], a[1]));
            }
            mutate_error(c, a, &e)
        })?;
        Ok(EXIT_OK)
    }

    /// A port setting: the value parsed and range-checked first, then sent.
    fn set_port(&mut self, k: &Call, what: PortSetting, label: &str) -> Result<i32, Failure> {
        let (c, a, head) = (k.c, k.a, k.head);
        let v = if what == PortSetting::Hairpin {
            on_off(head, a[2])?
        } else {
            let v = integer(head, label, a[2])?;
            check_range(head, label, a[2], v, what.range(), "", 1)?;
            v
        };
        let br = name(c, a[0])?;
        let port = name(c, a[1])?;
        self.br
            .set_port(&br, &port, what, v)
            .map_err(|e| mutate_error(c, a, &e))?;
        Ok(EXIT_OK)
    }

    fn show(&mut self, names: &[&str]) -> Result<i32, Failure> {
        let detail = Detail::Summary;
        let mut status = EXIT_OK;
        let bridges = if names.is_empty() {
            self.br
                .bridges(detail)
                .map_err(|e| read_error("show", &e))?
        } else {
            let mut v = Vec::new();
            for n in names {
                match name("show", n).and_then(|b| {
                    self.br
                        .bridge(&b, detail)
                        .map_err(|e| show_lookup_error("show", n, &e))
                }) {
                    Ok(b) => v.push(b),
                    Err(f) => {
                        // bridge-utils reports each missing bridge and goes on with the rest.
                        let _ = self.out.flush();
                        f.report("brctl");
                        // A bad name is a usage error (2) whatever the other names do.
                        status = status.max(f.status);
                    }
                }
            }
            v
        };
        let text = if self.json {
            json_show(&bridges)
        } else {
            text_show(&bridges)
        };
        self.emit(&text)?;
        Ok(status)
    }

    fn showmacs(&mut self, n: &str) -> Result<i32, Failure> {
        let br = name("showmacs", n)?;
        let fdb = self.br.fdb(&br).map_err(|e| match e.os_errno() {
            Some(errno) if e.object == br.as_str() => {
                Failure::compat(format!("read of forward table failed: {}", strerror(errno)))
            }
            _ => read_error("showmacs", &e),
        })?;
        let text = if self.json {
            json_fdb(&fdb)
        } else {
            text_fdb(&fdb)
        };
        self.emit(&text)?;
        Ok(EXIT_OK)
    }

    fn showstp(&mut self, n: &str) -> Result<i32, Failure> {
        let br = name("showstp", n)?;
        let b = self
            .br
            .bridge(&br, Detail::Full)
            .map_err(|e| show_lookup_error("showstp", n, &e))?;
        let text = if self.json {
            json_stp(&b)
        } else {
            text_stp(&b)
        };
        self.emit(&text)?;
        Ok(EXIT_OK)
    }

    fn emit(&mut self, text: &str) -> Result<(), Failure> {
        cli::emit(&mut self.out, text)
    }
}

fn setting_label(what: BridgeSetting) -> (&'static str, &'static str, u64) {
    match what {
        BridgeSetting::AgeingTime => ("ageing time", " s", 100),
        BridgeSetting::ForwardDelay => ("forward delay", " s", 100),
        BridgeSetting::HelloTime => ("hello time", " s", 100),
        BridgeSetting::MaxAge => ("max age", " s", 100),
        BridgeSetting::Priority => ("bridge priority", "", 1),
        BridgeSetting::StpState => ("stp state", "", 1),
    }
}

/// bridge-utils' words for `show`/`showstp` of a name that is not a bridge, byte for byte.
fn show_lookup_error(c: &str, n: &str, e: &Error) -> Failure {
    match e.os_errno() {
        Some(libc::ENODEV) | Some(libc::ENXIO) => {
            Failure::compat(format!("bridge {n} does not exist!"))
        }
        Some(libc::EOPNOTSUPP) => Failure::compat(format!("device {n} is not a bridge!")),
        _ => read_error(c, e),
    }
}

fn read_error(c: &str, e: &Error) -> Failure {
    let status = if e.is_invalid() {
        EXIT_USAGE
    } else {
        EXIT_FAIL
    };
    Failure {
        message: format!("{c}: {e}"),
        status,
        bare: false,
        then: Vec::new(),
    }
}

/// The sentence for a failed change: `addif br0 eth9: interface eth9 does not exist`.
fn mutate_error(c: &str, a: &[&str], e: &Error) -> Failure {
    let head = format!("{c} {}", a.join(" "));
    let obj = e.object.as_str();
    let br = a.first().copied().unwrap_or("");
    let port = a.get(1).copied().unwrap_or("");
    if let Some(why) = cli::permission_reason(e) {
        return Failure::fail(format!("{head}: {why}"));
    }
    let why = match (c, e.os_errno()) {
        (_, None) => e.reason(),
        ("addbr", Some(libc::EEXIST)) => format!("device {br} already exists; can't create bridge with the same name"),
        ("addbr", Some(libc::EINVAL)) => format!("the kernel refuses the name {br}: {}", e.reason()),
        ("delbr", Some(libc::ENXIO) | Some(libc::ENODEV)) => format!("bridge {br} doesn't exist; can't delete it"),
        ("delbr", Some(libc::EBUSY)) => format!("bridge {br} is still up; can't delete it (bring it down first)"),
        ("delbr", Some(libc::EPERM)) => format!("{br} is not a bridge; can't delete it with delbr"),
        (_, Some(libc::ENODEV)) if obj == port && !port.is_empty() => format!("interface {port} does not exist!"),
        (_, Some(libc::ENODEV)) => format!("bridge {br} does not exist!"),
        (_, Some(libc::EOPNOTSUPP)) if c != "hairpin" => format!("{br} is not a bridge"),
        ("addif", Some(libc::EBUSY)) => format!("device {port} is already a member of a bridge; can't add it to bridge {br}."),
        ("addif", Some(libc::ELOOP)) => format!("device {port} is a bridge device itself; can't add a bridge device to a bridge device."),
        ("addif", Some(_)) => format!("can't add {port} to bridge {br}: {}", e.reason()),
        ("delif", Some(libc::EINVAL)) => format!("device {port} is not a port of {br}"),
        ("delif", Some(_)) => format!("can't delete {port} from {br}: {}", e.reason()),
        ("hairpin", Some(_)) => format!("can't set {port} to hairpin on bridge {br}: {}", e.reason()),
        (_, Some(libc::ERANGE)) => format!("the kernel refuses this value: {}", e.reason()),
        (_, Some(_)) => match set_thing(c) {
            Some(what) => format!("set {what} failed: {}", e.reason()),
            // No fixed sentence for it: the kernel's step and words.
            None => e.to_string(),
        },
    };
    let status = if e.is_invalid() {
        EXIT_USAGE
    } else {
        EXIT_FAIL
    };
    Failure {
        message: format!("{head}: {why}"),
        status,
        bare: false,
        then: Vec::new(),
    }
}

/// bridge-utils' name for what a set command sets, as in `set forward delay failed: ...`.
fn set_thing(c: &str) -> Option<&'static str> {
    Some(match c {
        "setageing" => "ageing time",
        "setbridgeprio" => "bridge priority",
        "setfd" => "forward delay",
        "sethello" => "hello timer",
        "setmaxage" => "max age",
        "setpathcost" => "path cost",
        "setportprio" => "port priority",
        "stp" => "stp status",
        _ => return None,
    })
}

fn text_show(bridges: &[Bridge]) -> String {
    if bridges.is_empty() {
        return String::new();
    }
    let mut s = String::from("bridge name\tbridge id\t\tSTP enabled\tinterfaces\n");
    for b in bridges {
        s.push_str(&format!(
            "{}\t\t{}\t{}\t\t",
            b.name_str(),
            b.bridge_id,
            if b.stp_state != 0 { "yes" } else { "no" }
        ));
        let ports: Vec<String> = b
            .ports
            .iter()
            .map(|p| p.name.map(|n| n.to_string()).unwrap_or_default())
            .collect();
        s.push_str(&ports.join("\n\t\t\t\t\t\t\t"));
        s.push('\n');
    }
    s
}

fn json_show(bridges: &[Bridge]) -> String {
    let mut j = Json::new();
    j.array(|j| {
        for b in bridges {
            j.object(|j| {
                j.key("bridge").str(&b.name_str());
                j.key("bridge_id").str(&b.bridge_id.to_string());
                j.key("stp_enabled").raw(b.stp_state != 0);
                j.key("interfaces").array(|j| {
                    for p in &b.ports {
                        j.str(&p.name.map(|n| n.to_string()).unwrap_or_default());
                    }
                });
            });
        }
    });
    j.out.push('\n');
    j.out
}

fn text_fdb(fdb: &[FdbEntry]) -> String {
    let mut s = String::from("port no\tmac addr\t\tis local?\tageing timer\n");
    for e in fdb {
        s.push_str(&format!(
            "{:3}\t{}\t{}\t\t{}\n",
            e.port_no,
            mac(&e.mac),
            if e.is_local { "yes" } else { "no" },
            fmt_cs(e.ageing_timer as u64)
        ));
    }
    s
}

fn json_fdb(fdb: &[FdbEntry]) -> String {
    let mut j = Json::new();
    j.array(|j| {
        for e in fdb {
            j.object(|j| {
                j.key("port_no").raw(e.port_no);
                j.key("mac").str(&mac(&e.mac));
                j.key("is_local").raw(e.is_local);
                j.key("ageing_timer")
                    .raw(fmt_cs(e.ageing_timer as u64).trim());
            });
        }
    });
    j.out.push('\n');
    j.out
}

fn text_stp(b: &Bridge) -> String {
    let mut s = String::new();
    let t = |cs: u64| fmt_cs(cs);
    s.push_str(&format!("{}\n", b.name_str()));
    s.push_str(&format!(" bridge id\t\t{}\n", b.bridge_id));
    s.push_str(&format!(" designated root\t{}\n", b.designated_root));
    s.push_str(&format!(
        " root port\t\t{:4}\t\t\tpath cost\t\t{:4}\n",
        b.root_port, b.root_path_cost
    ));
    s.push_str(&format!(
        " max age\t\t{}\t\t\tbridge max age\t\t{}\n",
        t(b.max_age as u64),
        t(b.max_age as u64)
    ));
    s.push_str(&format!(
        " hello time\t\t{}\t\t\tbridge hello time\t{}\n",
        t(b.hello_time as u64),
        t(b.hello_time as u64)
    ));
    s.push_str(&format!(
        " forward delay\t\t{}\t\t\tbridge forward delay\t{}\n",
        t(b.forward_delay as u64),
        t(b.forward_delay as u64)
    ));
    s.push_str(&format!(" ageing time\t\t{}\n", t(b.ageing_time as u64)));
    s.push_str(&format!(
        " hello timer\t\t{}\t\t\ttcn timer\t\t{}\n",
        t(b.hello_timer),
        t(b.tcn_timer)
    ));
    s.push_str(&format!(
        " topology change timer\t{}\t\t\tgc timer\t\t{}\n",
        t(b.topology_change_timer),
        t(b.gc_timer)
    ));
    s.push_str(" flags\t\t\t");
    if b.topology_change {
        s.push_str("TOPOLOGY_CHANGE ");
    }
    if b.topology_change_detected {
        s.push_str("TOPOLOGY_CHANGE_DETECTED ");
    }
    s.push_str("\n\n\n");
    for p in &b.ports {
        let state = port_state_name(p.state).unwrap_or("<INVALID STATE>");
        s.push_str(&format!(
            "{} ({})\n",
            p.name.map(|n| n.to_string()).unwrap_or_default(),
            p.port_no
        ));
        s.push_str(&format!(
            " port id\t\t{:04x}\t\t\tstate\t\t{:>15}\n",
            p.port_id, state
        ));
        s.push_str(&format!(
            " designated root\t{}\tpath cost\t\t{:4}\n",
            p.designated_root, p.path_cost
        ));
        s.push_str(&format!(
            " designated bridge\t{}\tmessage age timer\t{}\n",
            p.designated_bridge,
            t(p.message_age_timer)
        ));
        s.push_str(&format!(
            " designated port\t{:04x}\t\t\tforward delay timer\t{}\n",
            p.designated_port,
            t(p.forward_delay_timer)
        ));
        s.push_str(&format!(
            " designated cost\t{:4}\t\t\thold timer\t\t{}\n",
            p.designated_cost,
            t(p.hold_timer)
        ));
        s.push_str(" flags\t\t\t");
        if p.config_pending {
            s.push_str("CONFIG_PENDING ");
        }
        if p.topology_change_ack {
            s.push_str("TOPOLOGY_CHANGE_ACK ");
        }
        s.push('\n');
        if p.hairpin {
            s.push_str(&format!(" hairpin mode\t\t{:4}\n", 1));
        }
        s.push('\n');
    }
    s
}

fn json_stp(b: &Bridge) -> String {
    let t = |cs: u64| fmt_cs(cs).trim().to_string();
    let mut j = Json::new();
    j.object(|j| {
        j.key("bridge").str(&b.name_str());
        j.key("bridge_id").str(&b.bridge_id.to_string());
        j.key("designated_root").str(&b.designated_root.to_string());
        j.key("root_port").raw(b.root_port);
        j.key("path_cost").raw(b.root_path_cost);
        j.key("max_age").raw(t(b.max_age as u64));
        j.key("hello_time").raw(t(b.hello_time as u64));
        j.key("forward_delay").raw(t(b.forward_delay as u64));
        j.key("ageing_time").raw(t(b.ageing_time as u64));
        j.key("hello_timer").raw(t(b.hello_timer));
        j.key("tcn_timer").raw(t(b.tcn_timer));
        j.key("topology_change_timer")
            .raw(t(b.topology_change_timer));
        j.key("gc_timer").raw(t(b.gc_timer));
        j.key("stp_state").raw(b.stp_state);
        j.key("topology_change").raw(b.topology_change);
        j.key("topology_change_detected")
            .raw(b.topology_change_detected);
        j.key("ports").array(|j| {
            for p in &b.ports {
                j.object(|j| {
                    j.key("port")
                        .str(&p.name.map(|n| n.to_string()).unwrap_or_default());
                    j.key("port_no").raw(p.port_no);
                    j.key("port_id").str(&format!("{:04x}", p.port_id));
                    j.key("state")
                        .str(port_state_name(p.state).unwrap_or("invalid"));
                    j.key("path_cost").raw(p.path_cost);
                    j.key("designated_root").str(&p.designated_root.to_string());
                    j.key("designated_bridge")
                        .str(&p.designated_bridge.to_string());
                    j.key("designated_port")
                        .str(&format!("{:04x}", p.designated_port));
                    j.key("designated_cost").raw(p.designated_cost);
                    j.key("message_age_timer").raw(t(p.message_age_timer));
                    j.key("forward_delay_timer").raw(t(p.forward_delay_timer));
                    j.key("hold_timer").raw(t(p.hold_timer));
                    j.key("config_pending").raw(p.config_pending);
                    j.key("topology_change_ack").raw(p.topology_change_ack);
                    j.key("hairpin").raw(p.hairpin);
                });
            }
        });
    });
    j.out.push('\n');
    j.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_exact_centiseconds() {
        assert_eq!(seconds("x", "t", "4.5").ok(), Some(450));
        assert_eq!(seconds("x", "t", "4.567").ok(), Some(456));
        assert_eq!(seconds("x", "t", "4.56").ok(), Some(456));
        assert_eq!(seconds("x", "t", "10.01").ok(), Some(1001));
        assert_eq!(seconds("x", "t", "15").ok(), Some(1500));
        assert_eq!(seconds("x", "t", ".5").ok(), Some(50));
        for bad in ["", ".", "-1", "abc", "1e3", "4.5s", " 4"] {
            assert!(seconds("x", "t", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn integers_read_like_percent_i_but_whole() {
        assert_eq!(integer("x", "n", "010").ok(), Some(8));
        assert_eq!(integer("x", "n", "0x10").ok(), Some(16));
        assert_eq!(integer("x", "n", "0").ok(), Some(0));
        for bad in ["12abc", "1.9", "-1", ""] {
            assert!(integer("x", "n", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usage_matches_bridge_utils_command_lines() {
        let u = usage_text();
        assert!(u.contains("\taddbr     \t<bridge>\t\tadd bridge\n"));
        assert!(u.contains("\tsetbridgeprio\t<bridge> <prio>\t\tset bridge priority\n"));
        assert!(u.contains("\tstp       \t<bridge> {on|off}\tturn stp on/off\n"));
    }
}
