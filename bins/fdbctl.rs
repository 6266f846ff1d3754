//! fdbctl: forwarding-database entries — a VXLAN device's own (which VTEP holds a MAC, and the
//! all-zeros MAC's list of VTEPs that broadcast and unknown traffic floods to) and static
//! entries in a bridge's table; shown on the three paths a bridge's table can be read.
//!
//! Entries are written only through netlink (`RTM_NEWNEIGH`/`RTM_DELNEIGH` `AF_BRIDGE`): no
//! ioctl writes one.

use crate::cli::{self, addr, name, number, Failure, Json, EXIT_OK};
use libnet_sys::fdb::{FdbRow, FdbSpec, Fdbs, VNI_MAX};
use libnet_sys::ifname::Mac;
use libnet_sys::netlink::rtnl::neigh::{NeighOp, NTF_SELF, NUD_NOARP, NUD_PERMANENT, NUD_STALE};
use libnet_sys::{Error, Via};

const VERSION: &str = concat!("fdbctl (netplumb) ", env!("CARGO_PKG_VERSION"));

const USAGE: &str = "\
Usage: fdbctl [options] COMMAND
commands:
\tadd DEV MAC dst ADDR [port PORT] [vni VNI]
\t\t\ta permanent entry on VXLAN device DEV: MAC is behind VTEP ADDR
\tappend DEV MAC dst ADDR [port PORT] [vni VNI]
\t\t\tone more destination; 00:00:00:00:00:00 floods to every VTEP on it
\treplace DEV MAC dst ADDR [port PORT] [vni VNI]
\t\t\tadd, or move the entry there (idempotent)
\tdel DEV MAC [dst ADDR] [--if-exists]
\t\t\tdelete the entry, or with dst that one destination of it
\tadd PORT MAC --master\ta static entry in the bridge's table, on bridge port PORT
\t\t\t(replace and del take --master too)
\tshow [DEV] [-j]\t\tentries: every one, one device's, or a bridge's table
options (before the command):
\t-h, --help\t\tthis text
\t-V, --version\t\tprogram version
\t--via PATH\t\tshow of a bridge's table: netlink (default), ioctl or sysfs
\t--explain\t\tprint every kernel request and its result on stderr
\t--dry-run\t\tprint the requests that would change something; change nothing
\t-j, --json\t\tJSON output for show
\t-b, --batch FILE\tone command a line from FILE (- for stdin), one process, one socket
kernel calls, by path (* = default):
\tadd/append/replace\tnetlink* RTM_NEWNEIGH AF_BRIDGE NTF_SELF (--master: NTF_MASTER),
\t\t\tNDA_LLADDR, NDA_DST, NDA_PORT, NDA_VNI; NLM_F_EXCL / REPLACE / APPEND
\t\t\tioctl: none exists; an FDB entry can only be written through netlink
\tdel\t\tnetlink* RTM_DELNEIGH AF_BRIDGE NDA_LLADDR [NDA_DST]
\tshow\t\tnetlink* RTM_GETNEIGH AF_BRIDGE dump (a bridge: NDA_MASTER)
\t\t\tioctl: a bridge's table: BRCTL_GET_FDB_ENTRIES, BRCTL_GET_PORT_LIST
\t\t\tsysfs: a bridge's table: BR/brforward, BR/brif/*/brport/port_no
\t\t\ta VXLAN device's own entries: netlink only
";

fn usage_text() -> String {
    USAGE.to_string()
}

const SPEC: cli::Spec = cli::Spec {
    name: "fdbctl",
    version: VERSION,
    vias: &["netlink", "ioctl", "sysfs"],
    usage: usage_text,
    option_commands: &[],
};

struct Ctx<'a> {
    fdb: Fdbs,
    via: Option<Via>,
    json: bool,
    out: std::io::StdoutLock<'a>,
}

pub fn main(args: Vec<String>) -> i32 {
    cli::drive(&SPEC, &args, |common, trace| {
        let via = common.via.as_deref().and_then(Via::parse);
        Ok(Ctx {
            fdb: Fdbs::new(trace, via),
            via,
            json: common.json,
            out: std::io::stdout().lock(),
        })
    })
}

impl cli::Program for Ctx<'_> {
    fn run(&mut self, words: &[String]) -> Result<i32, Failure> {
        let (word, args) = words
            .split_first()
            .ok_or_else(|| Failure::usage("no command given"))?;
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let c = word.as_str();
        let op = match c {
            "add" => Some(NeighOp::Add),
            "append" => Some(NeighOp::Append),
            "replace" => Some(NeighOp::Replace),
            "del" | "show" => None,
            _ => {
                return Err(Failure::usage(format!(
                    "unknown command '{c}'; see fdbctl --help"
                )))
            }
        };
        if c != "show" && matches!(self.via, Some(Via::Ioctl | Via::Sysfs)) {
            return Err(Failure::usage(format!(
                "{c}: --via {}: no ioctl or sysfs file writes an FDB entry; entries are \
                 written only through netlink (--via applies to show)",
                self.via
                    .map_or("", |v| if v == Via::Ioctl { "ioctl" } else { "sysfs" })
            )));
        }
        match (c, op) {
            ("show", _) => self.show(&a)?,
            (_, Some(op)) => self.write(c, Some(op), &a)?,
            _ => self.write(c, None, &a)?,
        }
        Ok(EXIT_OK)
    }
}

/// One line for a failed step: the command and its entry, then why.
fn failure(head: &str, e: &Error, op: Option<NeighOp>) -> Failure {
    let why = match e.os_errno() {
        Some(libc::ENODEV) => format!("no interface named {}", e.object),
        Some(libc::ENOENT) if op.is_none() => "no such entry".to_string(),
        Some(libc::EEXIST) => {
            "the entry exists (replace moves it, append adds a destination)".to_string()
        }
        _ => return cli::failure(head, e),
    };
    cli::failure_because(head, e, why)
}

impl Ctx<'_> {
    /// `add`/`append`/`replace` (`op`), or `del` (`None`).
    fn write(&mut self, c: &str, op: Option<NeighOp>, a: &[&str]) -> Result<(), Failure> {
        let usage = || match op {
            Some(_) => Failure::usage(format!(
                "{c}: usage: {c} DEV MAC dst ADDR [port PORT] [vni VNI], or {c} PORT MAC --master"
            )),
            None => Failure::usage("del: usage: del DEV MAC [dst ADDR] [--if-exists]"),
        };
        let [dev, mac, rest @ ..] = a else {
            return Err(usage());
        };
        let head = format!("{c} {dev} {mac}");
        let mut spec = FdbSpec {
            dev: name(c, dev)?,
            mac: Mac::parse_any(mac).map_err(|e| cli::failure(&head, &e))?,
            dst: None,
            port: None,
            vni: None,
            master: false,
        };
        let mut if_exists = false;
        let mut i = 0;
        while i < rest.len() {
            let w = rest[i];
            let value = || {
                rest.get(i + 1)
                    .copied()
                    .ok_or_else(|| Failure::usage(format!("{head}: {w} needs a value")))
            };
            match w {
                "dst" => spec.dst = Some(addr(&head, "dst", value()?)?),
                "port" => spec.port = Some(number(&head, "port", value()?, 1, 65535)?),
                "vni" => spec.vni = Some(number(&head, "vni", value()?, 1, VNI_MAX as u64)?),
                "--master" => {
                    spec.master = true;
                    i += 1;
                    continue;
                }
                "--if-exists" if op.is_none() => {
                    if_exists = true;
                    i += 1;
                    continue;
                }
                _ => {
                    return Err(Failure::usage(format!(
                        "{head}: unexpected '{w}'; see --help"
                    )))
                }
            }
            i += 2;
        }
        if op == Some(NeighOp::Append) && spec.master {
            return Err(Failure::usage(format!(
                "{head}: append is for a VXLAN device's destinations; a bridge's entry has one port"
            )));
        }
        if op.is_some() && !spec.master && spec.dst.is_none() {
            return Err(Failure::usage(format!(
                "{head}: a VXLAN entry needs dst ADDR (the VTEP that holds {mac}), or --master \
                 for a bridge port's entry"
            )));
        }
        let res = match op {
            Some(op) => self.fdb.write(op, &spec),
            None => self.fdb.del(&spec),
        };
        match res {
            Err(e) if if_exists && e.is(libc::ENOENT) => {
                cli::say(&format!(
                    "fdbctl: {head}: no such entry; nothing to do (--if-exists)"
                ));
                Ok(())
            }
            r => r.map_err(|e| failure(&head, &e, op)),
        }
    }

    fn show(&mut self, a: &[&str]) -> Result<(), Failure> {
        let (json, only, head) = cli::show_args(a, self.json, "show [DEV] [-j]")?;
        let rows = self
            .fdb
            .show(only.as_ref())
            .map_err(|e| failure(&head, &e, None))?;
        let text = if json { json_rows(&rows) } else { text(&rows) };
        cli::emit(&mut self.out, &text)
    }
}

/// `permanent`, `static`, `stale` or nothing, as `bridge fdb show` says an entry's state.
fn state(r: &FdbRow) -> Option<&'static str> {
    if r.state & NUD_PERMANENT != 0 {
        Some("permanent")
    } else if r.state & NUD_NOARP != 0 {
        Some("static")
    } else if r.state & NUD_STALE != 0 {
        Some("stale")
    } else {
        None
    }
}

/// One line an entry, in `bridge fdb show`'s words and order:
/// `MAC dev DEV [dst ADDR] [port P] [vni V] [self] [master BR] [permanent|static]`.
fn text(rows: &[FdbRow]) -> String {
    let mut s = String::new();
    for r in rows {
        s.push_str(&Mac(r.mac).to_string());
        if let Some(d) = r.dev {
            s.push_str(&format!(" dev {d}"));
        }
        if let Some(d) = r.dst {
            s.push_str(&format!(" dst {d}"));
        }
        if let Some(p) = r.port {
            s.push_str(&format!(" port {p}"));
        }
        if let Some(v) = r.vni {
            s.push_str(&format!(" vni {v}"));
        }
        if r.flags & NTF_SELF != 0 {
            s.push_str(" self");
        }
        if let Some(m) = r.master {
            s.push_str(&format!(" master {m}"));
        }
        if let Some(st) = state(r) {
            s.push(' ');
            s.push_str(st);
        }
        s.push('\n');
    }
    s
}

/// `bridge -j fdb show`'s keys.
fn json_rows(rows: &[FdbRow]) -> String {
    let mut j = Json::new();
    j.array(|j| {
        for r in rows {
            j.object(|j| {
                j.key("mac").str(&Mac(r.mac).to_string());
                j.key("ifname").opt_str(r.dev.as_ref().map(|d| d.as_str()));
                if let Some(d) = r.dst {
                    j.key("dst").str(&d.to_string());
                }
                if let Some(p) = r.port {
                    j.key("port").raw(p);
                }
                if let Some(v) = r.vni {
                    j.key("vni").raw(v);
                }
                j.key("flags").array(|j| {
                    if r.flags & NTF_SELF != 0 {
                        j.str("self");
                    }
                });
                if let Some(m) = r.master {
                    j.key("master").str(m.as_str());
                }
                j.key("state").str(state(r).unwrap_or(""));
            });
        }
    });
    j.out.push('\n');
    j.out
}
