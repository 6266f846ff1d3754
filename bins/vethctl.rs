//! vethctl: veth pairs — made with either end born straight into its namespace, deleted many
//! at a time as one kernel batch, moved, and shown with their peers across namespaces.
//!
//! veth pairs are made only through netlink: the kernel has no ioctl for them. The ethtool
//! ioctl can still find a veth's peer (`--via ethtool` for show), by index only.

use crate::cli::{self, name, ns_target, opt_value, Failure, Json, EXIT_OK};
use libnet_sys::ifname::Mac;
use libnet_sys::veth::{PeerLookup, PeerNs, Veth, VethSpec, Veths};
use libnet_sys::Error;

const VERSION: &str = concat!("vethctl (netplumb) ", env!("CARGO_PKG_VERSION"));

const USAGE: &str = "\
Usage: vethctl [options] COMMAND
commands:
\tadd NAME peer PEER [--netns NS] [--peer-netns NS] [--mtu N] [--mac MAC]
\t    [--peer-mac MAC] [--master BRIDGE] [--up]
\t\t\tmake a veth pair in one request, each end born in its namespace
\t\t\t(with --up the peer comes up in a second request, just after)
\tdel NAME [NAME...] [--if-exists]
\t\t\t\tdelete pairs (several: one kernel batch, by interface group);
\t\t\t\twith --if-exists a name gone already is a note, exit 0
\tnetns NAME NS\t\tmove one end into a namespace
\tshow [NAME]\t\tveths with their peer, the peer's namespace, master, state,
\t\t\t\tmtu and mac
NS is a name under /run/netns, a path to a namespace file, or a process ID.
--up brings both ends up; --mtu sets both ends (68 to 65535); --master enslaves NAME.
options (before the command):
\t-h, --help\t\tthis text
\t-V, --version\t\tprogram version
\t--via PATH\t\tshow: how peers are found, netlink (default) or ethtool
\t--explain\t\tprint every kernel request and its result on stderr
\t--dry-run\t\tprint the requests that would change something; change nothing
\t-j, --json\t\tJSON output for show
\t-b, --batch FILE\tone command a line from FILE (- for stdin), one process, one socket
kernel calls, by path (* = default):
\tadd\t\tnetlink* RTM_NEWLINK kind veth, VETH_INFO_PEER, IFLA_NET_NS_FD, IFLA_MASTER
\t\t\tioctl: none exists; a veth pair can only be made through netlink
\tdel\t\tnetlink* RTM_DELLINK; several: RTM_NEWLINK IFLA_GROUP each, one RTM_DELLINK IFLA_GROUP
\tnetns\t\tnetlink* RTM_NEWLINK IFLA_NET_NS_FD
\tshow\t\tnetlink* RTM_GETLINK dump (IFLA_LINK, IFLA_LINK_NETNSID), RTM_GETNSID per /run/netns entry,
\t\t\tRTM_GETLINK IFLA_TARGET_NETNSID for a peer's name in another namespace
\t\t\tethtool: /proc/net/dev for the names, SIOCETHTOOL ETHTOOL_GDRVINFO (driver veth),
\t\t\tETHTOOL_GSTRINGS + ETHTOOL_GSTATS peer_ifindex, SIOCGIFINDEX/FLAGS/MTU/HWADDR,
\t\t\tSIOCGIFBR + BRCTL_GET_PORT_LIST for masters; a peer index only, no namespace
";

fn usage_text() -> String {
    USAGE.to_string()
}

const SPEC: cli::Spec = cli::Spec {
    name: "vethctl",
    version: VERSION,
    vias: &["netlink", "ethtool"],
    usage: usage_text,
    option_commands: &[],
};

struct Ctx<'a> {
    veths: Veths,
    lookup: PeerLookup,
    json: bool,
    out: std::io::StdoutLock<'a>,
}

pub fn main(args: Vec<String>) -> i32 {
    cli::drive(&SPEC, &args, |common, trace| {
        Ok(Ctx {
            veths: Veths::new(trace),
            lookup: match common.via.as_deref() {
                Some("ethtool") => PeerLookup::Ethtool,
                _ => PeerLookup::Netlink,
            },
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
        if self.lookup == PeerLookup::Ethtool && matches!(c, "add" | "del" | "netns") {
            return Err(Failure::usage(format!(
                "{c}: --via ethtool only reads peers (show); veth pairs are made, moved and \
                 deleted only through netlink"
            )));
        }
        match c {
            "add" => self.add(&a)?,
            "del" => self.del(&a)?,
            "netns" => self.netns(&a)?,
            "show" => self.show(&a)?,
            _ => {
                return Err(Failure::usage(format!(
                    "unknown command '{c}'; see vethctl --help"
                )))
            }
        }
        Ok(EXIT_OK)
    }
}

fn mac(head: &str, s: &str) -> Result<Mac, Failure> {
    Mac::parse(s).map_err(|e| cli::failure(head, &e))
}

/// One line for a failed step: the command and its object, then why.
fn failure(head: &str, e: &Error) -> Failure {
    let why = match e.os_errno() {
        Some(libc::ENODEV) => format!("no interface named {}", e.object),
        Some(libc::EEXIST) => format!("{}: a link by that name already exists", e.object),
        Some(libc::EADDRNOTAVAIL) => format!("the kernel refuses the address: {}", e.reason()),
        _ => return cli::failure(head, e),
    };
    cli::failure_because(head, e, why)
}

impl Ctx<'_> {
    fn add(&mut self, a: &[&str]) -> Result<(), Failure> {
        let c = "add";
        let usage = || Failure::usage("add: usage: add NAME peer PEER [options]; see --help");
        let (&first, rest) = a.split_first().ok_or_else(usage)?;
        let head = format!("add {first}");
        let mut spec = VethSpec {
            name: name(c, first)?,
            peer: name(c, first)?,
            netns: None,
            peer_netns: None,
            mtu: None,
            mac: None,
            peer_mac: None,
            master: None,
            up: false,
        };
        let mut peer = None;
        let mut i = 0;
        while i < rest.len() {
            let w = rest[i];
            if w == "peer" {
                if peer.is_some() {
                    return Err(Failure::usage(format!("{head}: peer given twice")));
                }
                i += 1;
                // `peer name PEER`, as ip writes it, is accepted too.
                if rest.get(i) == Some(&"name") && rest.len() > i + 1 {
                    i += 1;
                }
                let p = rest
                    .get(i)
                    .ok_or_else(|| Failure::usage("add: peer needs a name"))?;
                peer = Some(name(c, p)?);
            } else if w == "--up" {
                spec.up = true;
            } else if let Some(v) = opt_value(c, rest, &mut i, "--netns")? {
                spec.netns = Some(ns_target(c, v)?);
            } else if let Some(v) = opt_value(c, rest, &mut i, "--peer-netns")? {
                spec.peer_netns = Some(ns_target(c, v)?);
            } else if let Some(v) = opt_value(c, rest, &mut i, "--mtu")? {
                let n: u32 = v.parse().map_err(|_| {
                    Failure::usage(format!("{head}: bad mtu '{v}': expected a whole number"))
                })?;
                spec.mtu = Some(n);
            } else if let Some(v) = opt_value(c, rest, &mut i, "--mac")? {
                spec.mac = Some(mac(&head, v)?);
            } else if let Some(v) = opt_value(c, rest, &mut i, "--peer-mac")? {
                spec.peer_mac = Some(mac(&head, v)?);
            } else if let Some(v) = opt_value(c, rest, &mut i, "--master")? {
                spec.master = Some(name(c, v)?);
            } else {
                return Err(Failure::usage(format!(
                    "{head}: unexpected '{w}'; see --help"
                )));
            }
            i += 1;
        }
        spec.peer = peer
            .ok_or_else(|| Failure::usage(format!("{head}: a pair needs its peer: peer PEER")))?;
        self.veths.add(&spec).map_err(|e| failure(&head, &e))
    }

    fn del(&mut self, a: &[&str]) -> Result<(), Failure> {
        let (if_exists, a) = cli::take_if_exists(a);
        if a.is_empty() {
            return Err(Failure::usage("del: which pairs? del NAME [NAME...]"));
        }
        let mut names = a
            .iter()
            .map(|n| name("del", n))
            .collect::<Result<Vec<_>, _>>()?;
        let head = format!("del {}", a.join(" "));
        loop {
            match self.veths.del(&names) {
                Ok(notes) => {
                    for note in notes {
                        cli::say(&format!("vethctl: note: {note}"));
                    }
                    return Ok(());
                }
                // With --if-exists a name that is gone is a note; the others are deleted.
                Err(e) if if_exists && e.is(libc::ENODEV) => {
                    cli::gone("vethctl", &failure(&head, &e));
                    names.retain(|n| n.as_str() != e.object);
                    if names.is_empty() {
                        return Ok(());
                    }
                }
                Err(e) => return Err(failure(&head, &e)),
            }
        }
    }

    fn netns(&mut self, a: &[&str]) -> Result<(), Failure> {
        let [n, ns] = a else {
            return Err(Failure::usage("netns: usage: netns NAME NS"));
        };
        let end = name("netns", n)?;
        let target = ns_target("netns", ns)?;
        self.veths
            .move_to(&end, &target)
            .map_err(|e| failure(&format!("netns {n} {ns}"), &e))
    }

    fn show(&mut self, a: &[&str]) -> Result<(), Failure> {
        let only = match a {
            [] => None,
            [n] => Some(name("show", n)?),
            _ => return Err(Failure::usage("show: usage: show [NAME]")),
        };
        let head = match a {
            [n] => format!("show {n}"),
            _ => "show".to_string(),
        };
        let v = self
            .veths
            .list(only.as_ref(), self.lookup)
            .map_err(|e| failure(&head, &e))?;
        let text = if self.json { json(&v) } else { text(&v) };
        cli::emit(&mut self.out, &text)
    }
}

fn peer_ns(v: &Veth) -> Option<String> {
    match &v.peer_ns {
        PeerNs::Here => None,
        PeerNs::Named(n) => Some(n.clone()),
        PeerNs::Other => Some("other".into()),
    }
}

fn text(v: &[Veth]) -> String {
    let mut rows = vec![[
        "name",
        "index",
        "peer",
        "peer-index",
        "peer-netns",
        "master",
        "state",
        "mtu",
        "mac",
    ]
    .map(String::from)];
    for x in v {
        rows.push([
            x.name.to_string(),
            x.index.to_string(),
            x.peer.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
            x.peer_index.to_string(),
            peer_ns(x).unwrap_or_else(|| "-".into()),
            x.master
                .map(|m| m.to_string())
                .unwrap_or_else(|| "-".into()),
            cli::link_state(x.flags).to_string(),
            x.mtu.to_string(),
            Mac(x.mac).to_string(),
        ]);
    }
    if v.is_empty() {
        return String::new();
    }
    cli::table(&rows)
}

fn json(v: &[Veth]) -> String {
    let mut j = Json::new();
    j.array(|j| {
        for x in v {
            j.object(|j| {
                j.key("ifname").str(x.name.as_str());
                j.key("ifindex").raw(x.index);
                j.key("peer").opt_str(x.peer.as_ref().map(|p| p.as_str()));
                j.key("peer_ifindex").raw(x.peer_index);
                j.key("peer_netns").opt_str(peer_ns(x).as_deref());
                j.key("master")
                    .opt_str(x.master.as_ref().map(|m| m.as_str()));
                j.key("state").str(cli::link_state(x.flags));
                j.key("mtu").raw(x.mtu);
                j.key("address").str(&Mac(x.mac).to_string());
            });
        }
    });
    j.out.push('\n');
    j.out
}
