//! ifctl: one interface, the ifconfig steps — up, down, addresses, mtu, mac, rename, show — on
//! the ioctl path or the netlink one, leaving the same state on both.

use crate::cli::{self, name, Failure, Json, EXIT_OK};
use ipnetwork::IpNetwork;
use libnet_sys::iface::{link_type_name, Iface, Ifaces};
use libnet_sys::ifname::Mac;
use libnet_sys::{Error, IfName, Via};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

const VERSION: &str = concat!("ifctl (netplumb) ", env!("CARGO_PKG_VERSION"));

const USAGE: &str = "\
Usage: ifctl [options] COMMAND
commands:
\tshow [IF]\t\t\tflags, mtu, mac and every IPv4 and IPv6 address
\tup IF\t\t\t\tbring IF up
\tdown IF\t\t\t\ttake IF down
\taddr add IF CIDR [--broadcast ADDR]\tadd an address (broadcast derived from
\t\t\t\t\tthe prefix unless given)
\taddr del IF CIDR\t\tdelete an address
\taddr flush IF\t\t\tdelete every address of IF
\tmtu IF N\t\t\tset the MTU
\tmac IF MAC\t\t\tset the hardware address
\trename IF NEW\t\t\trename IF (only a link that is down)
options (before the command):
\t-h, --help\t\tthis text
\t-V, --version\t\tprogram version
\t--via PATH\t\tkernel path: netlink (default) or ioctl
\t--explain\t\tprint every kernel request and its result on stderr
\t--dry-run\t\tprint the requests that would change something; change nothing
\t-j, --json\t\tJSON output for show
\t-b, --batch FILE\tone command a line from FILE (- for stdin), one process, one socket
kernel calls, by path (* = default):
\tup, down\tnetlink* RTM_NEWLINK ifi_flags IFF_UP\tioctl SIOCGIFFLAGS + SIOCSIFFLAGS
\taddr add\tnetlink* RTM_NEWADDR\tioctl SIOCSIFADDR + SIOCSIFNETMASK (+ SIOCSIFBRDADDR)
\taddr del\tnetlink* RTM_DELADDR\tioctl SIOCSIFADDR 0.0.0.0 on the address's label
\taddr flush\tnetlink* RTM_GETADDR + RTM_DELADDR each\tioctl SIOCGIFCONF + SIOCSIFADDR 0.0.0.0 each
\tmtu\t\tnetlink* RTM_NEWLINK IFLA_MTU\tioctl SIOCSIFMTU
\tmac\t\tnetlink* RTM_NEWLINK IFLA_ADDRESS\tioctl SIOCSIFHWADDR
\trename\t\tnetlink* RTM_NEWLINK IFLA_IFNAME\tioctl SIOCSIFNAME
\tshow\t\tnetlink* RTM_GETLINK + RTM_GETADDR\tioctl SIOCGIFFLAGS/MTU/HWADDR, SIOCGIFCONF,
\t\t\tSIOCGIFNETMASK/BRDADDR per label; IPv6 from /proc/net/if_inet6
The ioctl path holds one IPv4 address per label and no IPv6 at all: adding a second
IPv4 address or any IPv6 address there is an error, not a silent fallback. Netlink holds
many addresses of both families.
";

fn usage_text() -> String {
    USAGE.to_string()
}

const SPEC: cli::Spec = cli::Spec {
    name: "ifctl",
    version: VERSION,
    vias: &["netlink", "ioctl"],
    usage: usage_text,
    option_commands: &[],
};

struct Ctx<'a> {
    ifs: Ifaces,
    json: bool,
    out: std::io::StdoutLock<'a>,
}

pub fn main(args: Vec<String>) -> i32 {
    cli::drive(&SPEC, &args, |common, trace| {
        let via = common.via.as_deref().and_then(Via::parse);
        let ifs = Ifaces::new(trace, via).map_err(|e| cli::failure("--via", &e))?;
        Ok(Ctx {
            ifs,
            json: common.json,
            out: std::io::stdout().lock(),
        })
    })
}

/// `198.51.100.1/24` (a bare address is a /32 or /128, as ip reads it).
fn cidr(head: &str, s: &str) -> Result<(IpAddr, u8), Failure> {
    let n: IpNetwork = s.parse().map_err(|e| {
        Failure::usage(format!(
            "{head}: bad address '{s}': {e} (expected ADDRESS/PREFIX, e.g. 198.51.100.1/24)"
        ))
    })?;
    Ok((n.ip(), n.prefix()))
}

/// One line for a failed step, in the words of the step.
fn failure(head: &str, c: &str, e: &Error) -> Failure {
    let obj = e.object.as_str();
    let why = match (c, e.os_errno()) {
        (_, Some(libc::ENODEV)) => format!("no interface named {obj}"),
        ("addr add", Some(libc::EEXIST)) => format!("{obj} is already there"),
        ("addr del", Some(libc::EADDRNOTAVAIL)) => format!("there is no address {obj} here"),
        ("rename", Some(libc::EEXIST)) => "that name is taken".to_string(),
        ("rename", Some(libc::EBUSY)) => {
            "the link is up, and the kernel renames only a link that is down (ifctl down it first)"
                .to_string()
        }
        // A value the device does not take is bad input, as on netlink (which checks the
        // device's range first): exit 2 on both paths.
        ("mtu", Some(libc::EINVAL)) if e.ext_ack().is_none() => {
            return Failure::usage(format!(
                "{head}: the device refuses this mtu (outside the range it accepts)"
            ))
        }
        ("mac", Some(libc::EADDRNOTAVAIL)) => {
            "the kernel refuses this address for the device".to_string()
        }
        (_, Some(libc::EACCES)) if e.ext_ack().is_some() => e.reason(),
        _ => return cli::failure(head, e),
    };
    cli::failure_because(head, e, why)
}

impl cli::Program for Ctx<'_> {
    fn run(&mut self, words: &[String]) -> Result<i32, Failure> {
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let head = w.join(" ");
        let res = match w.as_slice() {
            ["show"] => return self.show(None).map(|_| EXIT_OK),
            ["show", n] => {
                let n = name("show", n)?;
                return self.show(Some(&n)).map(|_| EXIT_OK);
            }
            [c @ ("up" | "down"), n] => {
                let n = name(c, n)?;
                self.ifs
                    .set_up(&n, *c == "up")
                    .map_err(|e| failure(&head, c, &e))
            }
            ["mtu", n, v] => {
                let n = name("mtu", n)?;
                let mtu: u32 = v.parse().map_err(|_| {
                    Failure::usage(format!("{head}: bad mtu '{v}': expected a whole number"))
                })?;
                self.ifs
                    .set_mtu(&n, mtu)
                    .map_err(|e| failure(&head, "mtu", &e))
            }
            ["mac", n, m] => {
                let n = name("mac", n)?;
                let mac = Mac::parse(m).map_err(|e| cli::failure(&head, &e))?;
                self.ifs
                    .set_mac(&n, mac)
                    .map_err(|e| failure(&head, "mac", &e))
            }
            ["rename", n, new] => {
                let (n, new) = (name("rename", n)?, name("rename", new)?);
                self.ifs
                    .rename(&n, &new)
                    .map_err(|e| failure(&head, "rename", &e))
            }
            ["addr", "add", n, a, rest @ ..] => {
                let n = name("addr add", n)?;
                let (ip, prefix) = cidr(&head, a)?;
                let brd = broadcast(&head, ip, rest)?;
                self.ifs
                    .add_addr(&n, ip, prefix, brd)
                    .map_err(|e| failure(&head, "addr add", &e))
            }
            ["addr", "del", n, a] => {
                let n = name("addr del", n)?;
                let (ip, prefix) = cidr(&head, a)?;
                self.ifs
                    .del_addr(&n, ip, prefix)
                    .map_err(|e| failure(&head, "addr del", &e))
            }
            ["addr", "flush", n] => {
                let n = name("addr flush", n)?;
                self.ifs
                    .flush(&n)
                    .map(|_| ())
                    .map_err(|e| failure(&head, "addr flush", &e))
            }
            [] => Err(Failure::usage("no command given")),
            [c, ..] if KNOWN.contains(c) || *c == "addr" => Err(Failure::usage(format!(
                "{head}: wrong arguments; see ifctl --help"
            ))),
            [c, ..] => Err(Failure::usage(format!(
                "unknown command '{c}'; see ifctl --help"
            ))),
        };
        res.map(|_| EXIT_OK)
    }
}

const KNOWN: &[&str] = &["show", "up", "down", "mtu", "mac", "rename"];

/// `--broadcast ADDR` (IPv4 only) after `addr add IF CIDR`.
fn broadcast(head: &str, ip: IpAddr, rest: &[&str]) -> Result<Option<Ipv4Addr>, Failure> {
    let v = match rest {
        [] => return Ok(None),
        ["--broadcast", v] => *v,
        [w] if w.starts_with("--broadcast=") => &w["--broadcast=".len()..],
        _ => {
            return Err(Failure::usage(format!(
                "{head}: expected only --broadcast ADDR after the address"
            )))
        }
    };
    if ip.is_ipv6() {
        return Err(Failure::usage(format!(
            "{head}: IPv6 has no broadcast addresses"
        )));
    }
    v.parse()
        .map(Some)
        .map_err(|_| Failure::usage(format!("{head}: bad broadcast address '{v}'")))
}

/// `IFF_*` names from <linux/if.h>, bit by bit (the 16 that `SIOCGIFFLAGS` holds).
const FLAG_NAMES: [&str; 16] = [
    "UP",
    "BROADCAST",
    "DEBUG",
    "LOOPBACK",
    "POINTOPOINT",
    "NOTRAILERS",
    "RUNNING",
    "NOARP",
    "PROMISC",
    "ALLMULTI",
    "MASTER",
    "SLAVE",
    "MULTICAST",
    "PORTSEL",
    "AUTOMEDIA",
    "DYNAMIC",
];

fn flag_names(flags: u32) -> Vec<&'static str> {
    FLAG_NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| flags & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect()
}

impl Ctx<'_> {
    fn show(&mut self, only: Option<&IfName>) -> Result<(), Failure> {
        let head = match only {
            Some(n) => format!("show {n}"),
            None => "show".into(),
        };
        let v = self
            .ifs
            .show(only)
            .map_err(|e| failure(&head, "show", &e))?;
        let text = if self.json { json(&v) } else { text(&v) };
        cli::emit(&mut self.out, &text)
    }
}

fn text(v: &[Iface]) -> String {
    let mut s = String::new();
    for i in v {
        let _ = writeln!(
            s,
            "{}: {}: <{}> mtu {} state {}",
            i.index,
            i.name,
            flag_names(i.flags).join(","),
            i.mtu,
            cli::link_state(i.flags)
        );
        let _ = write!(s, "    link/{}", link_type_name(i.link_type));
        if let Some(m) = i.mac {
            let _ = write!(s, " {}", Mac(m));
        }
        s.push('\n');
        for a in &i.addrs {
            let fam = if a.local.is_ipv4() { "inet" } else { "inet6" };
            let _ = write!(s, "    {fam} {}/{}", a.local, a.prefix);
            if let Some(b) = a.broadcast {
                let _ = write!(s, " brd {b}");
            }
            if let Some(sc) = a.scope {
                let _ = write!(s, " scope {sc}");
            }
            if let Some(l) = a.label.as_deref().filter(|l| *l != i.name.as_str()) {
                let _ = write!(s, " label {l}");
            }
            s.push('\n');
        }
    }
    s
}

fn json(v: &[Iface]) -> String {
    let mut j = Json::new();
    j.array(|j| {
        for i in v {
            j.object(|j| {
                j.key("ifindex").raw(i.index);
                j.key("ifname").str(i.name.as_str());
                j.key("flags").array(|j| {
                    for f in flag_names(i.flags) {
                        j.str(f);
                    }
                });
                j.key("state").str(cli::link_state(i.flags));
                j.key("mtu").raw(i.mtu);
                j.key("link_type").str(&link_type_name(i.link_type));
                j.key("address")
                    .opt_str(i.mac.map(|m| Mac(m).to_string()).as_deref());
                j.key("addr_info").array(|j| {
                    for a in &i.addrs {
                        j.object(|j| {
                            j.key("family")
                                .str(if a.local.is_ipv4() { "inet" } else { "inet6" });
                            j.key("local").str(&a.local.to_string());
                            j.key("prefixlen").raw(a.prefix);
                            if let Some(b) = a.broadcast {
                                j.key("broadcast").str(&b.to_string());
                            }
                            if let Some(sc) = a.scope {
                                j.key("scope").str(sc);
                            }
                            if let Some(l) = &a.label {
                                j.key("label").str(l);
                            }
                        });
                    }
                });
            });
        }
    });
    j.out.push('\n');
    j.out
}
