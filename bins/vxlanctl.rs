//! vxlanctl: VXLAN devices — the overlay's tunnel end on each host: made with their VNI, local
//! address and underlay device (the MTU derived from it), optionally made here and moved into a
//! namespace with their socket left on the underlay; deleted; shown.
//!
//! A VXLAN device is made only through netlink: there is no ioctl for it.

use crate::cli::{self, addr, name, ns_target, number, opt_value, Failure, Json, EXIT_OK};
use libnet_sys::vxlan::{SocketNs, Vxlan, VxlanSpec, Vxlans, IANA_PORT};
use libnet_sys::Error;

const VERSION: &str = concat!("vxlanctl (netplumb) ", env!("CARGO_PKG_VERSION"));

const USAGE: &str = "\
Usage: vxlanctl [options] COMMAND
commands:
\tadd NAME id VNI [local ADDR] [dev LOWER] [port PORT] [learning|nolearning]
\t    [proxy] [ttl N] [ageing SECONDS] [mtu N] [--master BRIDGE] [--netns NS]
\t    [--up] [--force]
\t\t\tmake a VXLAN device in one request (VNI 1 to 16777215, port 4789
\t\t\tunless given); with dev LOWER its mtu is LOWER's minus 50 (70 over
\t\t\tIPv6) and a larger mtu is refused unless --force
\tdel NAME... [--if-exists]
\t\t\tdelete VXLAN devices (several: one kernel batch, by interface group)
\tshow [NAME] [-j]\tVXLAN devices with VNI, local address, lower device, port,
\t\t\t\tlearning, proxy, ttl, ageing, mtu, master, state, and the
\t\t\t\tnamespace their UDP socket is in
NS is a name under /run/netns, a path to a namespace file, or a process ID. With --netns
the device is made here, its UDP socket stays on this namespace's underlay, and it is then
moved into NS, where --master and --up apply.
options (before the command):
\t-h, --help\t\tthis text
\t-V, --version\t\tprogram version
\t--explain\t\tprint every kernel request and its result on stderr
\t--dry-run\t\tprint the requests that would change something; change nothing
\t--via PATH\t\tnetlink, the only path (--via ioctl is refused: VXLAN has none)
\t-j, --json\t\tJSON output for show
\t-b, --batch FILE\tone command a line from FILE (- for stdin), one process, one socket
kernel calls, by path (* = default):
\tadd\t\tnetlink* RTM_NEWLINK kind vxlan, IFLA_VXLAN_ID/LOCAL/LOCAL6/LINK/PORT/LEARNING/PROXY/
\t\t\tTTL/AGEING, IFLA_MTU, IFLA_MASTER; --netns: RTM_NEWLINK IFLA_NET_NS_FD, then
\t\t\tIFLA_MASTER and IFF_UP there
\t\t\tioctl: none exists; a VXLAN device can only be made through netlink
\tdel\t\tnetlink* RTM_DELLINK; several: RTM_NEWLINK IFLA_GROUP each, one RTM_DELLINK IFLA_GROUP
\tshow\t\tnetlink* RTM_GETLINK dump (IFLA_INFO_DATA, IFLA_LINK_NETNSID), RTM_GETNSID per
\t\t\t/run/netns entry
";

fn usage_text() -> String {
    USAGE.to_string()
}

const SPEC: cli::Spec = cli::Spec {
    name: "vxlanctl",
    version: VERSION,
    vias: &["netlink"],
    usage: usage_text,
    option_commands: &[],
};

struct Ctx<'a> {
    vx: Vxlans,
    json: bool,
    out: std::io::StdoutLock<'a>,
}

pub fn main(args: Vec<String>) -> i32 {
    // The path people look for first, answered in VXLAN's terms rather than as a bad word.
    if let Ok((c, _)) = cli::parse_common(&args, &[]) {
        if c.via.as_deref() == Some("ioctl") {
            eprintln!(
                "vxlanctl: --via ioctl: a VXLAN device has no ioctl path; it is made, deleted \
                 and read only through netlink"
            );
            return cli::EXIT_USAGE;
        }
    }
    cli::drive(&SPEC, &args, |common, trace| {
        Ok(Ctx {
            vx: Vxlans::new(trace),
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
        match word.as_str() {
            "add" => self.add(&a)?,
            "del" => self.del(&a)?,
            "show" => self.show(&a)?,
            c => {
                return Err(Failure::usage(format!(
                    "unknown command '{c}'; see vxlanctl --help"
                )))
            }
        }
        Ok(EXIT_OK)
    }
}

/// One line for a failed step: the command and its object, then why.
fn failure(head: &str, e: &Error) -> Failure {
    let why = match (e.os_errno(), e.ext_ack()) {
        (Some(libc::ENODEV), _) => format!("no interface named {}", e.object),
        // The kernel says which (a VNI in use on that port); without words, it is the name.
        (Some(libc::EEXIST), None) => format!("{}: a link by that name already exists", e.object),
        _ => return cli::failure(head, e),
    };
    cli::failure_because(head, e, why)
}

impl Ctx<'_> {
    fn add(&mut self, a: &[&str]) -> Result<(), Failure> {
        let c = "add";
        let usage = || Failure::usage("add: usage: add NAME id VNI [options]; see --help");
        let (&first, rest) = a.split_first().ok_or_else(usage)?;
        let head = format!("add {first}");
        let mut spec = VxlanSpec {
            name: name(c, first)?,
            vni: 0,
            local: None,
            lower: None,
            port: IANA_PORT,
            learning: true,
            proxy: false,
            ttl: None,
            ageing: None,
            mtu: None,
            force: false,
            master: None,
            netns: None,
            up: false,
        };
        let mut vni = None;
        let mut i = 0;
        while i < rest.len() {
            let w = rest[i];
            // Keywords with a value, as ip writes them.
            let value = |i: usize| {
                rest.get(i + 1)
                    .copied()
                    .ok_or_else(|| Failure::usage(format!("{head}: {w} needs a value")))
            };
            match w {
                "id" | "vni" => {
                    let v = value(i)?;
                    vni = Some(number(
                        &head,
                        "id",
                        v,
                        1,
                        libnet_sys::vxlan::VNI_MAX as u64,
                    )?);
                    i += 1;
                }
                "local" => {
                    spec.local = Some(addr(&head, "local address", value(i)?)?);
                    i += 1;
                }
                "dev" => {
                    spec.lower = Some(name(c, value(i)?)?);
                    i += 1;
                }
                "port" | "dstport" => {
                    spec.port = number(&head, "port", value(i)?, 1, 65535)?;
                    i += 1;
                }
                "ttl" => {
                    spec.ttl = Some(number(&head, "ttl", value(i)?, 0, 255)?);
                    i += 1;
                }
                "ageing" => {
                    spec.ageing = Some(number(&head, "ageing", value(i)?, 0, u32::MAX as u64)?);
                    i += 1;
                }
                "mtu" => {
                    spec.mtu = Some(number(&head, "mtu", value(i)?, 68, 65535)?);
                    i += 1;
                }
                "learning" => spec.learning = true,
                "nolearning" => spec.learning = false,
                "proxy" => spec.proxy = true,
                "--up" => spec.up = true,
                "--force" => spec.force = true,
                _ => {
                    if let Some(v) = opt_value(c, rest, &mut i, "--master")? {
                        spec.master = Some(name(c, v)?);
                    } else if let Some(v) = opt_value(c, rest, &mut i, "--netns")? {
                        spec.netns = Some(ns_target(c, v)?);
                    } else {
                        return Err(Failure::usage(format!(
                            "{head}: unexpected '{w}'; see --help"
                        )));
                    }
                }
            }
            i += 1;
        }
        spec.vni = vni.ok_or_else(|| {
            Failure::usage(format!("{head}: a VXLAN device needs its VNI: id VNI"))
        })?;
        let added = self.vx.add(&spec).map_err(|e| failure(&head, &e))?;
        if let Some(mtu) = added.capped_mtu {
            cli::say(&format!(
                "vxlanctl: {head}: note: the kernel set mtu {mtu}, not the {} asked for (--force)",
                spec.mtu.unwrap_or(0)
            ));
        }
        Ok(())
    }

    fn del(&mut self, a: &[&str]) -> Result<(), Failure> {
        let if_exists = a.contains(&"--if-exists");
        let names: Vec<&str> = a.iter().copied().filter(|w| *w != "--if-exists").collect();
        if names.is_empty() {
            return Err(Failure::usage(
                "del: which devices? del NAME... [--if-exists]",
            ));
        }
        let names = names
            .iter()
            .map(|n| name("del", n))
            .collect::<Result<Vec<_>, _>>()?;
        let head = format!(
            "del {}",
            names
                .iter()
                .map(|n| n.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        );
        let (absent, notes) = self
            .vx
            .del(&names, if_exists)
            .map_err(|e| failure(&head, &e))?;
        for n in absent {
            cli::say(&format!(
                "vxlanctl: del {n}: no interface named {n}; nothing to do (--if-exists)"
            ));
        }
        for note in notes {
            cli::say(&format!("vxlanctl: note: {note}"));
        }
        Ok(())
    }

    fn show(&mut self, a: &[&str]) -> Result<(), Failure> {
        let (json, only, head) = cli::show_args(a, self.json, "show [NAME] [-j]")?;
        let v = self
            .vx
            .list(only.as_ref())
            .map_err(|e| failure(&head, &e))?;
        let text = if json { json_rows(&v) } else { text(&v) };
        cli::emit(&mut self.out, &text)
    }
}

fn socket_ns(v: &Vxlan) -> Option<String> {
    match &v.socket_ns {
        SocketNs::Here => None,
        SocketNs::Named(n) => Some(n.clone()),
        SocketNs::Other(id) => Some(format!("nsid {id}")),
    }
}

fn lower(v: &Vxlan) -> Option<String> {
    match (v.lower, v.lower_index) {
        (Some(n), _) => Some(n.to_string()),
        (None, Some(i)) => Some(format!("ifindex {i}")),
        (None, None) => None,
    }
}

fn on_off(b: bool) -> String {
    if b { "on" } else { "off" }.to_string()
}

fn text(v: &[Vxlan]) -> String {
    if v.is_empty() {
        return String::new();
    }
    let mut rows = vec![[
        "name", "vni", "local", "dev", "port", "learning", "proxy", "ttl", "ageing", "mtu",
        "master", "state", "socket",
    ]
    .map(String::from)];
    let dash = || "-".to_string();
    for x in v {
        rows.push([
            x.name.to_string(),
            x.vni.to_string(),
            x.local.map(|a| a.to_string()).unwrap_or_else(dash),
            lower(x).unwrap_or_else(dash),
            x.port.to_string(),
            on_off(x.learning),
            on_off(x.proxy),
            match x.ttl {
                0 => "auto".to_string(),
                t => t.to_string(),
            },
            x.ageing.to_string(),
            x.mtu.to_string(),
            x.master.map(|m| m.to_string()).unwrap_or_else(dash),
            cli::link_state(x.flags).to_string(),
            socket_ns(x).unwrap_or_else(|| "here".to_string()),
        ]);
    }
    cli::table(&rows)
}

fn json_rows(v: &[Vxlan]) -> String {
    let mut j = Json::new();
    j.array(|j| {
        for x in v {
            j.object(|j| {
                j.key("ifname").str(x.name.as_str());
                j.key("ifindex").raw(x.index);
                j.key("vni").raw(x.vni);
                j.key("local")
                    .opt_str(x.local.map(|a| a.to_string()).as_deref());
                j.key("dev").opt_str(lower(x).as_deref());
                j.key("port").raw(x.port);
                j.key("learning").raw(x.learning);
                j.key("proxy").raw(x.proxy);
                j.key("ttl").raw(x.ttl);
                j.key("ageing").raw(x.ageing);
                j.key("mtu").raw(x.mtu);
                j.key("master")
                    .opt_str(x.master.as_ref().map(|m| m.as_str()));
                j.key("state").str(cli::link_state(x.flags));
                j.key("socket_netns").opt_str(socket_ns(x).as_deref());
            });
        }
    });
    j.out.push('\n');
    j.out
}
