//! neighctl: neighbour (ARP/NDP) entries — the static entries an overlay needs so that ARP
//! never crosses the underlay — on the ioctl path (net-tools' `arp -s`) or the netlink one
//! (`ip neigh`), the same permanent entry either way.

use crate::cli::{self, name, Failure, Json, EXIT_OK};
use libnet_sys::ifname::Mac;
use libnet_sys::neigh::{Entry, Neighbours};
use libnet_sys::{Error, IfName, Via};
use std::net::IpAddr;

const VERSION: &str = concat!("neighctl (netplumb) ", env!("CARGO_PKG_VERSION"));

const USAGE: &str = "\
Usage: neighctl [options] COMMAND
commands:
\tadd DEV ADDR MAC [--proxy]\ta permanent entry: ADDR (IPv4 or IPv6) is at MAC on DEV;
\t\t\t\twith --proxy a proxy entry instead: DEV answers for ADDR
\t\t\t\twith its own MAC (the kernel keeps no MAC for it)
\tdel DEV ADDR [--proxy] [--if-exists]\tremove one entry (--proxy: the proxy entry)
\tflush DEV\t\t\tremove every entry on DEV, permanent and proxy ones
\t\t\t\tincluded (ip neigh flush leaves permanent ones)
\tshow [DEV] [-j]\t\t\tthe entries: address, device, MAC, state
MAC is a unicast Ethernet address (not multicast, not all zeros). DEV may not be lo.
--if-exists: an entry that is not there is a note on stderr and exit 0, not a failure.
options (before the command):
\t-h, --help\t\tthis text
\t-V, --version\t\tprogram version
\t--via PATH\t\tnetlink (default) or ioctl (IPv4 only)
\t--explain\t\tprint every kernel request and its result on stderr
\t--dry-run\t\tprint the requests that would change something; change nothing
\t-j, --json\t\tJSON output for show
\t-b, --batch FILE\tone command a line from FILE (- for stdin), one process, one socket
kernel calls, by path (* = default):
\tadd\tnetlink* RTM_NEWNEIGH (NLM_F_EXCL) NUD_PERMANENT NDA_DST NDA_LLADDR, NTF_PROXY
\t\tioctl SIOCGARP (an entry there is refused, as NLM_F_EXCL does), then SIOCSARP
\t\tATF_COM|ATF_PERM, ATF_PUBL for --proxy
\tdel\tnetlink* RTM_DELNEIGH\tioctl SIOCDARP
\tflush\tnetlink* RTM_GETNEIGH dump, RTM_DELNEIGH each\tioctl /proc/net/arp, SIOCDARP each
\tshow\tnetlink* RTM_GETNEIGH dumps: AF_UNSPEC (NDA_IFINDEX for DEV), NTF_PROXY; RTM_GETLINK
\t\tioctl /proc/net/arp (IPv4; states PERMANENT, COMPLETE or INCOMPLETE only)
Every command checks DEV first (RTM_GETLINK, or SIOCGIFINDEX + SIOCGIFFLAGS).
IPv6 has no ioctl: asking the ioctl path for an IPv6 address is an error.
";

fn usage_text() -> String {
    USAGE.to_string()
}

const SPEC: cli::Spec = cli::Spec {
    name: "neighctl",
    version: VERSION,
    vias: &["netlink", "ioctl"],
    usage: usage_text,
    option_commands: &[],
};

struct Ctx<'a> {
    neigh: Neighbours,
    json: bool,
    out: std::io::StdoutLock<'a>,
}

pub fn main(args: Vec<String>) -> i32 {
    cli::drive(&SPEC, &args, |common, trace| {
        let via = common.via.as_deref().and_then(Via::parse);
        let neigh = Neighbours::new(trace, via).map_err(|e| cli::failure("--via", &e))?;
        Ok(Ctx {
            neigh,
            json: common.json,
            out: std::io::stdout().lock(),
        })
    })
}

impl cli::Program for Ctx<'_> {
    fn run(&mut self, words: &[String]) -> Result<i32, Failure> {
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let head = w.join(" ");
        // The options of a command may come anywhere after it.
        let flag = |f: &str| w.iter().skip(1).any(|&x| x == f);
        let option = |x: &&str| x.starts_with("--") || *x == "-j";
        let args: Vec<&str> = w.iter().copied().filter(|x| !option(x)).collect();
        let allowed: &[&str] = match w.first() {
            Some(&"add") => &["--proxy"],
            Some(&"del") => &["--proxy", "--if-exists"],
            Some(&"show") => &["-j", "--json"],
            _ => &[],
        };
        if let Some(bad) = w.iter().find(|x| option(x) && !allowed.contains(x)) {
            let why = match *bad {
                "--proxy" | "--if-exists" | "-j" | "--json" => "does not apply here",
                _ => "is not an option of neighctl",
            };
            return Err(Failure::usage(format!(
                "{head}: {bad} {why}; see neighctl --help"
            )));
        }
        match args.as_slice() {
            ["add", dev, addr, mac] => {
                let (dev, addr) = (name("add", dev)?, address(&head, addr)?);
                let mac = Mac::parse(mac).map_err(|e| cli::failure(&head, &e))?;
                let res = self.neigh.add(&dev, addr, mac, flag("--proxy"));
                res.map_err(|e| failure(&head, &e))
            }
            ["del", dev, addr] => {
                let (dev, addr) = (name("del", dev)?, address(&head, addr)?);
                match self.neigh.del(&dev, addr, flag("--proxy")) {
                    Err(e) if e.is(libc::ENOENT) && flag("--if-exists") => {
                        cli::say(&format!(
                            "neighctl: del {dev} {addr}: no such entry; nothing to do (--if-exists)"
                        ));
                        Ok(())
                    }
                    r => r.map_err(|e| failure(&head, &e)),
                }
            }
            ["flush", dev] => {
                let dev = name("flush", dev)?;
                self.neigh
                    .flush(&dev)
                    .map(|_| ())
                    .map_err(|e| failure(&head, &e))
            }
            ["show"] => self.show(&head, None, flag("-j") || flag("--json")),
            ["show", dev] => {
                let dev = name("show", dev)?;
                self.show(&head, Some(&dev), flag("-j") || flag("--json"))
            }
            [c @ ("add" | "del" | "flush" | "show"), ..] => {
                let syntax = match *c {
                    "add" => "add DEV ADDR MAC [--proxy]",
                    "del" => "del DEV ADDR [--proxy] [--if-exists]",
                    "flush" => "flush DEV",
                    _ => "show [DEV] [-j]",
                };
                Err(Failure::usage(format!("{head}: usage: {syntax}")))
            }
            [] => Err(Failure::usage("no command given")),
            [c, ..] => Err(Failure::usage(format!(
                "unknown command '{c}'; see neighctl --help"
            ))),
        }
        .map(|_| EXIT_OK)
    }
}

fn address(head: &str, s: &str) -> Result<IpAddr, Failure> {
    s.parse().map_err(|_| {
        Failure::usage(format!(
            "{head}: bad address '{s}': expected an IPv4 or IPv6 address"
        ))
    })
}

/// One line for a failed step: the command, then why, in the user's terms.
fn failure(head: &str, e: &Error) -> Failure {
    let why = match e.os_errno() {
        Some(libc::ENODEV) => format!("no interface named {}", e.object),
        Some(libc::EEXIST) => "an entry is already there (neighctl del it first)".into(),
        Some(libc::ENOENT) => "no such entry".into(),
        _ => return cli::failure(head, e),
    };
    cli::failure_because(head, e, why)
}

impl Ctx<'_> {
    fn show(&mut self, head: &str, dev: Option<&IfName>, as_json: bool) -> Result<(), Failure> {
        let entries = self.neigh.show(dev).map_err(|e| failure(head, &e))?;
        let text = if self.json || as_json {
            json(&entries)
        } else {
            text(&entries)
        };
        cli::emit(&mut self.out, &text)
    }
}

fn lladdr(e: &Entry) -> Option<String> {
    e.mac.map(|m| Mac(m).to_string())
}

fn state(e: &Entry) -> Vec<&'static str> {
    e.state.map(|s| s.names()).unwrap_or_default()
}

fn text(v: &[Entry]) -> String {
    if v.is_empty() {
        return String::new();
    }
    let mut rows = vec![["address", "dev", "lladdr", "state"].map(String::from)];
    for e in v {
        rows.push([
            e.addr.to_string(),
            e.dev.clone(),
            lladdr(e).unwrap_or_else(|| "-".into()),
            if e.proxy {
                "proxy".into()
            } else {
                state(e).join(",")
            },
        ]);
    }
    cli::table(&rows)
}

fn json(v: &[Entry]) -> String {
    let mut j = Json::new();
    j.array(|j| {
        for e in v {
            j.object(|j| {
                j.key("dst").str(&e.addr.to_string());
                j.key("dev").str(&e.dev);
                j.key("lladdr").opt_str(lladdr(e).as_deref());
                j.key("state").array(|j| {
                    for s in state(e) {
                        j.str(s);
                    }
                });
                j.key("proxy").raw(e.proxy);
            });
        }
    });
    j.out.push('\n');
    j.out
}
