//! ipfwd: what turns a host with a bridge into a router for its containers — the forwarding
//! switches under /proc/sys/net, and the routing table on the ioctl path or the netlink one.

use crate::cli::{self, Failure, Json, EXIT_OK};
use ipnetwork::IpNetwork;
use libnet_sys::netlink::rtnl::addr::{AF_INET, AF_INET6};
use libnet_sys::netlink::rtnl::route::{self as rt, RT_TABLE_MAIN};
use libnet_sys::route::{Request, Routes, Shown};
use libnet_sys::sysfs::sysctl::{self, Change, Key};
use libnet_sys::{Error, IfName, Trace, Via};
use std::fmt::Write as _;
use std::net::IpAddr;

const VERSION: &str = concat!("ipfwd (netplumb) ", env!("CARGO_PKG_VERSION"));

const USAGE: &str = "\
Usage: ipfwd [options] COMMAND
forwarding (/proc/sys/net of the namespace ipfwd runs in):
\tshow\t\t\t\tip_forward, IPv6 forwarding, per interface forwarding,
\t\t\t\t\troute_localnet and rp_filter, bridge-nf-call-*
\ton|off [--ipv4] [--ipv6] [--iface IF]\tforwarding: net.ipv4.ip_forward (IPv4, the
\t\t\t\t\tdefault), net.ipv6.conf.all.forwarding (--ipv6), or
\t\t\t\t\tIF's own switch with --iface (for IPv6 that
\t\t\t\t\tmakes IF act as a router, not forward)
\tset IF KNOB VALUE\t\tone IPv4 interface switch: forwarding on|off,
\t\t\t\t\troute_localnet on|off, rp_filter off|strict|loose
\t\t\t\t\t(IF may be all or default)
\t--print-sysctl\t\t\tthe sysctl.conf lines that make the current state
\t\t\t\t\tpersistent
routes (the main table unless table T):
\troute add ROUTE\t\t\tadd a route; ROUTE is
\t\t\t\t\t[-4|-6] default|CIDR [via GW] [dev IF] [metric N] [table T]
\t\t\t\t\twith via GW or dev IF or both
\troute del ROUTE\t\t\tdelete the first route matching what ROUTE gives
\troute show [-4|-6] [table T]\tthe routes of a table, IPv4 then IPv6
options (before the command):
\t-h, --help\t\tthis text
\t-V, --version\t\tprogram version
\t--via PATH\t\troute path: netlink (default) or ioctl
\t--explain\t\tprint every kernel request and its result on stderr
\t--dry-run\t\tprint the requests that would change something; change nothing
\t-j, --json\t\tJSON output for show, route show, on, off and set
\t-b, --batch FILE\tone command a line from FILE (- for stdin), one process
kernel calls, by path (* = default):
\ton, off, set\tread /proc/sys/net/..., write it only when the value differs
\troute add\tnetlink* RTM_NEWROUTE (NLM_F_EXCL)\tioctl SIOCADDRT (after reading
\t\t\t/proc/net/route: the ioctl does not refuse a second route at one metric)
\troute del\tnetlink* RTM_DELROUTE\tioctl SIOCDELRT
\troute show\tnetlink* RTM_GETROUTE + RTM_GETLINK\tioctl path: /proc/net/route (IPv4;
\t\t\tno protocol, scope or source there)
The ioctl path reaches only the main table and carries IPv4 metrics 0 to 32766; asking
it for more is an error, not a silent change. An IPv6 metric of 0 is refused on both
paths (the kernel reads 0 as its default, 1024). A dev is looked up first (SIOCGIFINDEX
or RTM_GETLINK); IPv6 adds on the ioctl path read /proc/net/ipv6_route first.
";

fn usage_text() -> String {
    USAGE.to_string()
}

const SPEC: cli::Spec = cli::Spec {
    name: "ipfwd",
    version: VERSION,
    vias: &["netlink", "ioctl"],
    usage: usage_text,
    option_commands: &["--print-sysctl"],
};

struct Ctx<'a> {
    routes: Routes,
    json: bool,
    out: std::io::StdoutLock<'a>,
}

pub fn main(args: Vec<String>) -> i32 {
    cli::drive(&SPEC, &args, |common, trace| {
        let via = common.via.as_deref().and_then(Via::parse);
        let routes = Routes::new(trace, via).map_err(|e| cli::failure("--via", &e))?;
        Ok(Ctx {
            routes,
            json: common.json,
            out: std::io::stdout().lock(),
        })
    })
}

impl cli::Program for Ctx<'_> {
    fn run(&mut self, words: &[String]) -> Result<i32, Failure> {
        let w: Vec<&str> = words.iter().map(String::as_str).collect();
        let head = w.join(" ");
        match w.as_slice() {
            ["show"] => self.show(),
            ["--print-sysctl"] | ["show", "--print-sysctl"] => self.print_sysctl(&head),
            [c @ ("on" | "off"), rest @ ..] => {
                let keys = switch_keys(&head, rest)?;
                let value = i64::from(*c == "on");
                self.set_all(&head, &keys, value)
            }
            ["set", iface, knob, value] => {
                let iface = conf_iface(&head, iface)?;
                let (key, value) = knob_value(&head, &iface, knob, value)?;
                self.set_all(&head, &[key], value)
            }
            ["route", "add", rest @ ..] => {
                let r = route_request(&head, rest, true)?;
                let res = self.routes.add(&r);
                res.map_err(|e| route_failure(&head, &r, true, &e))
            }
            ["route", "del", rest @ ..] => {
                let r = route_request(&head, rest, false)?;
                let res = self.routes.del(&r);
                res.map_err(|e| route_failure(&head, &r, false, &e))
            }
            ["route", "show", rest @ ..] => self.route_show(&head, rest),
            ["route", ..] => Err(Failure::usage(format!(
                "{head}: expected route add, route del or route show; see ipfwd --help"
            ))),
            [] => Err(Failure::usage("no command given")),
            [c, ..] if ["show", "set", "--print-sysctl"].contains(c) => Err(Failure::usage(
                format!("{head}: wrong arguments; see ipfwd --help"),
            )),
            [c, ..] => Err(Failure::usage(format!(
                "unknown command '{c}'; see ipfwd --help"
            ))),
        }
        .map(|_| EXIT_OK)
    }
}

/// `on|off [--ipv4] [--ipv6] [--iface IF]`: the switches to write.
fn switch_keys(head: &str, rest: &[&str]) -> Result<Vec<Key>, Failure> {
    let (mut v4, mut v6, mut iface) = (false, false, None);
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            "--ipv4" | "-4" => v4 = true,
            "--ipv6" | "-6" => v6 = true,
            "--iface" => {
                i += 1;
                let Some(n) = rest.get(i) else {
                    return Err(Failure::usage(format!(
                        "{head}: --iface needs an interface"
                    )));
                };
                iface = Some(conf_iface(head, n)?);
            }
            w => {
                return Err(Failure::usage(format!(
                    "{head}: unexpected '{w}' (expected --ipv4, --ipv6 or --iface IF)"
                )))
            }
        }
        i += 1;
    }
    if !v6 {
        v4 = true;
    }
    let mut keys = Vec::new();
    for (on, is_v6) in [(v4, false), (v6, true)] {
        if !on {
            continue;
        }
        keys.push(match (&iface, is_v6) {
            (Some(n), _) => Key::conf(is_v6, n, "forwarding"),
            (None, false) => Key::ip_forward(),
            (None, true) => Key::conf(true, "all", "forwarding"),
        });
    }
    Ok(keys)
}

/// An interface name for a conf switch: a device, `all` or `default`.
fn conf_iface(head: &str, s: &str) -> Result<String, Failure> {
    let n = IfName::new(s).map_err(|e| cli::failure(head, &e))?;
    Ok(n.to_string())
}

/// `set IF KNOB VALUE`: the key and the number the kernel takes.
fn knob_value(head: &str, iface: &str, knob: &str, value: &str) -> Result<(Key, i64), Failure> {
    let v = match (knob, value) {
        ("forwarding" | "route_localnet", "on" | "1") => 1,
        ("forwarding" | "route_localnet", "off" | "0") => 0,
        ("rp_filter", "off" | "0") => 0,
        ("rp_filter", "strict" | "1") => 1,
        ("rp_filter", "loose" | "2") => 2,
        ("forwarding" | "route_localnet", _) => {
            return Err(Failure::usage(format!(
                "{head}: bad value '{value}' for {knob} (on or off)"
            )))
        }
        ("rp_filter", _) => {
            return Err(Failure::usage(format!(
                "{head}: bad value '{value}' for rp_filter (off, strict or loose)"
            )))
        }
        _ => {
            return Err(Failure::usage(format!(
                "{head}: unknown switch '{knob}' (forwarding, route_localnet or rp_filter)"
            )))
        }
    };
    Ok((Key::conf(false, iface, knob), v))
}

/// A sysctl step's failure in words: which of the kernel's files is missing, and why.
fn sysctl_failure(head: &str, key: &Key, e: &Error) -> Failure {
    let why = match e.os_errno() {
        Some(libc::ENOENT) => {
            let no_v6 =
                key.name().contains("ipv6") && !std::path::Path::new("/proc/sys/net/ipv6").exists();
            match key.iface() {
                _ if no_v6 => "this kernel has no IPv6 (no /proc/sys/net/ipv6)".to_string(),
                Some(i) => format!("no interface named {i}"),
                None => format!("the kernel has no {key}"),
            }
        }
        Some(libc::EROFS) => {
            "/proc/sys is mounted read-only here (inside a container?); the switch cannot be \
             changed from here"
                .to_string()
        }
        _ => return cli::failure(head, e),
    };
    cli::failure_because(head, e, why)
}

impl Ctx<'_> {
    fn trace(&self) -> Trace {
        *self.routes.trace()
    }

    /// Writes each switch that differs, and reports each one's old and new value.
    fn set_all(&mut self, head: &str, keys: &[Key], value: i64) -> Result<(), Failure> {
        let trace = self.trace();
        let mut changes = Vec::new();
        for k in keys {
            match sysctl::set(&trace, k, value) {
                Ok(c) => changes.push(c),
                Err(e) => {
                    // All or nothing: put back the switches this command already wrote.
                    let undone = changes
                        .iter()
                        .rev()
                        .filter(|c: &&Change| c.changed())
                        .all(|c| sysctl::set(&trace, &c.key, c.old).is_ok());
                    let f = sysctl_failure(head, k, &e);
                    return Err(if undone {
                        f
                    } else {
                        Failure {
                            message: format!(
                                "{} (and putting back the switches written before it failed \
                                 too: see ipfwd show)",
                                f.message
                            ),
                            ..f
                        }
                    });
                }
            }
        }
        let text = if self.json {
            changes_json(&changes)
        } else {
            let mut s = String::new();
            for c in &changes {
                if c.changed() && !trace.sends(libnet_sys::trace::Access::Write) {
                    let _ = writeln!(
                        s,
                        "{}: {} -> {} (dry run: not written)",
                        c.key, c.old, c.new
                    );
                } else if c.changed() {
                    let _ = writeln!(s, "{}: {} -> {}", c.key, c.old, c.new);
                } else {
                    let _ = writeln!(s, "{}: {} (unchanged)", c.key, c.old);
                }
            }
            s
        };
        cli::emit(&mut self.out, &text)
    }

    fn show(&mut self) -> Result<(), Failure> {
        let state = State::read(&self.trace()).map_err(|(k, e)| sysctl_failure("show", &k, &e))?;
        let text = if self.json {
            state.json()
        } else {
            let mut s = String::new();
            for (k, v) in state.all() {
                let _ = writeln!(s, "{k} = {v}");
            }
            s
        };
        cli::emit(&mut self.out, &text)
    }

    fn print_sysctl(&mut self, head: &str) -> Result<(), Failure> {
        let state = State::read(&self.trace()).map_err(|(k, e)| sysctl_failure(head, &k, &e))?;
        let mut s = String::from(
            "# Written by ipfwd --print-sysctl: the forwarding state of this network namespace.\n\
             # Put it in /etc/sysctl.d/ (e.g. 60-ipfwd.conf); `sysctl --system` applies it.\n\
             # Interface lines apply only once the interface exists (a udev rule or the tool\n\
             # that makes it must re-apply them for interfaces made later).\n",
        );
        for (k, v) in state.persistent() {
            let _ = writeln!(s, "{k} = {v}");
        }
        cli::emit(&mut self.out, &s)
    }

    fn route_show(&mut self, head: &str, rest: &[&str]) -> Result<(), Failure> {
        let (mut family, mut table) = (None, None);
        let mut i = 0;
        while i < rest.len() {
            match rest[i] {
                "-4" => family = Some(AF_INET),
                "-6" => family = Some(AF_INET6),
                "table" => {
                    i += 1;
                    table = Some(table_id(head, rest.get(i).copied())?);
                }
                w => {
                    return Err(Failure::usage(format!(
                        "{head}: unexpected '{w}' (expected -4, -6 or table T)"
                    )))
                }
            }
            i += 1;
        }
        let routes = self
            .routes
            .show(family, table)
            .map_err(|e| cli::failure(head, &e))?;
        let text = if self.json {
            routes_json(&routes)
        } else {
            routes_text(&routes)
        };
        cli::emit(&mut self.out, &text)
    }
}

/// The switches of one namespace, read once.
struct State {
    ip_forward: i64,
    v6_forwarding: Option<i64>,
    /// (interface, forwarding, route_localnet, rp_filter, IPv6 forwarding)
    ifaces: Vec<(String, i64, i64, i64, Option<i64>)>,
    bridge_nf: Vec<(&'static str, i64)>,
}

const CONF_KNOBS: [&str; 3] = ["forwarding", "route_localnet", "rp_filter"];

impl State {
    fn read(trace: &Trace) -> Result<State, (Key, Error)> {
        let get = |k: Key| sysctl::get(trace, &k).map_err(|e| (k, e));
        let ip_forward = get(Key::ip_forward())?;
        let v6_all = Key::conf(true, "all", "forwarding");
        let has_v6 = sysctl::exists(&v6_all);
        let v6_forwarding = if has_v6 { Some(get(v6_all)?) } else { None };
        let names = sysctl::conf_ifaces(trace, false)
            .map_err(|e| (Key::conf(false, "all", "forwarding"), e))?;
        let mut ifaces = Vec::new();
        for n in names {
            let mut v = [0; 3];
            for (slot, knob) in v.iter_mut().zip(CONF_KNOBS) {
                *slot = get(Key::conf(false, &n, knob))?;
            }
            let k6 = Key::conf(true, &n, "forwarding");
            let v6 = if has_v6 && sysctl::exists(&k6) {
                Some(get(k6)?)
            } else {
                None
            };
            ifaces.push((n, v[0], v[1], v[2], v6));
        }
        let mut bridge_nf = Vec::new();
        for knob in sysctl::BRIDGE_NF {
            let k = sysctl::bridge_nf(knob);
            if sysctl::exists(&k) {
                bridge_nf.push((knob, get(k)?));
            }
        }
        Ok(State {
            ip_forward,
            v6_forwarding,
            ifaces,
            bridge_nf,
        })
    }

    /// Every switch, as `sysctl` names it.
    fn all(&self) -> Vec<(Key, i64)> {
        self.lines(|_, _, _| true)
    }

    /// The lines that make this state persistent: the global switches, and an interface's
    /// switch where it differs from what a new interface gets (`conf.default`).
    fn persistent(&self) -> Vec<(Key, i64)> {
        self.lines(|iface, knob, v| match iface {
            "all" | "default" => true,
            _ => self.default_of(knob) != Some(v),
        })
    }

    fn default_of(&self, knob: &str) -> Option<i64> {
        let d = self.ifaces.iter().find(|i| i.0 == "default")?;
        Some(match knob {
            "forwarding" => d.1,
            "route_localnet" => d.2,
            "rp_filter" => d.3,
            _ => d.4?,
        })
    }

    /// The switches `keep(interface, knob, value)` selects, globals first.
    fn lines(&self, keep: impl Fn(&str, &str, i64) -> bool) -> Vec<(Key, i64)> {
        let mut out = vec![(Key::ip_forward(), self.ip_forward)];
        if let Some(v) = self.v6_forwarding {
            out.push((Key::conf(true, "all", "forwarding"), v));
        }
        for (n, fwd, rl, rp, v6) in &self.ifaces {
            // conf.all.forwarding is ip_forward itself (the kernel keeps them equal).
            for (knob, v) in CONF_KNOBS.iter().zip([fwd, rl, rp]) {
                if !(n == "all" && *knob == "forwarding") && keep(n, knob, *v) {
                    out.push((Key::conf(false, n, knob), *v));
                }
            }
            if let Some(v) = v6.filter(|_| n != "all") {
                if keep(n, "ipv6_forwarding", v) {
                    out.push((Key::conf(true, n, "forwarding"), v));
                }
            }
        }
        for (knob, v) in &self.bridge_nf {
            out.push((sysctl::bridge_nf(knob), *v));
        }
        out
    }

    fn json(&self) -> String {
        let mut j = Json::new();
        j.object(|j| {
            j.key("ip_forward").raw(self.ip_forward);
            match self.v6_forwarding {
                Some(v) => j.key("ipv6_forwarding").raw(v),
                None => j.key("ipv6_forwarding").raw("null"),
            };
            j.key("interfaces").array(|j| {
                for (n, fwd, rl, rp, v6) in &self.ifaces {
                    j.object(|j| {
                        j.key("ifname").str(n);
                        j.key("forwarding").raw(fwd);
                        j.key("route_localnet").raw(rl);
                        j.key("rp_filter").raw(rp);
                        if let Some(v) = v6 {
                            j.key("ipv6_forwarding").raw(v);
                        }
                    });
                }
            });
            j.key("bridge_nf").object(|j| {
                for (knob, v) in &self.bridge_nf {
                    j.key(knob).raw(v);
                }
            });
        });
        j.out.push('\n');
        j.out
    }
}

fn changes_json(changes: &[Change]) -> String {
    let mut j = Json::new();
    j.array(|j| {
        for c in changes {
            j.object(|j| {
                j.key("key").str(&c.key.name());
                j.key("old").raw(c.old);
                j.key("new").raw(c.new);
                j.key("changed").raw(c.changed());
            });
        }
    });
    j.out.push('\n');
    j.out
}

/// `main`, `local`, `default` or a number 1..=2^32-1.
fn table_id(head: &str, s: Option<&str>) -> Result<u32, Failure> {
    match s {
        Some("main") => Ok(RT_TABLE_MAIN),
        Some("local") => Ok(rt::RT_TABLE_LOCAL),
        Some("default") => Ok(rt::RT_TABLE_DEFAULT),
        Some(n) => match n.parse::<u32>() {
            Ok(t) if t > 0 => Ok(t),
            _ => Err(Failure::usage(format!(
                "{head}: bad table '{n}' (main, local, default or a number from 1)"
            ))),
        },
        None => Err(Failure::usage(format!("{head}: table needs a value"))),
    }
}

/// `[-4|-6] default|CIDR [via GW] [dev IF] [metric N] [table T]`
fn route_request(head: &str, w: &[&str], add: bool) -> Result<Request, Failure> {
    let usage = |why: String| Failure::usage(format!("{head}: {why}"));
    let (family, w) = match w.first() {
        Some(&"-4") => (Some(AF_INET), &w[1..]),
        Some(&"-6") => (Some(AF_INET6), &w[1..]),
        _ => (None, w),
    };
    let Some((&dst, mut rest)) = w.split_first() else {
        return Err(usage(
            "expected a destination: default or CIDR (e.g. 198.51.100.0/24)".into(),
        ));
    };
    let (mut gateway, mut dev, mut metric, mut table) = (None, None, None, None);
    const KEYS: &str = "via GW, dev IF, metric N or table T";
    while let [k, tail @ ..] = rest {
        if !matches!(*k, "via" | "dev" | "metric" | "table") {
            return Err(usage(format!("unexpected '{k}' (expected {KEYS})")));
        }
        let Some((&v, tail)) = tail.split_first() else {
            return Err(usage(format!("{k} needs a value")));
        };
        match *k {
            "via" => {
                gateway = Some(v.parse::<IpAddr>().map_err(|_| {
                    usage(format!(
                        "bad gateway '{v}' (expected an IPv4 or IPv6 address)"
                    ))
                })?)
            }
            "dev" => dev = Some(cli::name("route", v)?),
            "metric" => {
                metric =
                    Some(v.parse::<u32>().map_err(|_| {
                        usage(format!("bad metric '{v}' (expected 0 to 4294967295)"))
                    })?)
            }
            _ => table = Some(table_id(head, Some(v))?),
        }
        rest = tail;
    }
    let (dst, prefix) = if dst == "default" {
        let v6 = match (family, gateway) {
            (Some(f), _) => f == AF_INET6,
            (None, Some(g)) => g.is_ipv6(),
            (None, None) => false,
        };
        if v6 {
            (IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED), 0)
        } else {
            (IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0)
        }
    } else {
        destination(dst).map_err(usage)?
    };
    if family.is_some_and(|f| (f == AF_INET6) != dst.is_ipv6()) {
        return Err(usage(format!("{dst} is not of the family asked for")));
    }
    if gateway.is_some_and(|g| g.is_ipv6() != dst.is_ipv6()) {
        return Err(usage(
            "the gateway's address family differs from the destination's".into(),
        ));
    }
    if dst.is_ipv6() && metric == Some(0) {
        // Netlink would store 1024 without a word; the ioctl path cannot say 0 either.
        return Err(usage(
            "the kernel reads an IPv6 metric of 0 as its default, 1024; give 1 or more".into(),
        ));
    }
    if add && gateway.is_none() && dev.is_none() {
        return Err(usage("a route needs via GW, dev IF, or both".into()));
    }
    Ok(Request {
        dst,
        prefix,
        gateway,
        dev,
        metric,
        table,
    })
}

/// A destination prefix: `198.51.100.0/24`, or a bare address (a host route). Host bits set
/// are refused, with the network named, rather than cleared silently.
fn destination(s: &str) -> Result<(IpAddr, u8), String> {
    let n: IpNetwork = s.parse().map_err(|e| {
        format!("bad destination '{s}': {e} (expected default or CIDR, e.g. 198.51.100.0/24)")
    })?;
    if n.ip() != n.network() {
        return Err(format!(
            "{s} has host bits set; the network is {}/{}",
            n.network(),
            n.prefix()
        ));
    }
    Ok((n.ip(), n.prefix()))
}

/// A route step's failure in words a person can act on.
fn route_failure(head: &str, r: &Request, add: bool, e: &Error) -> Failure {
    let on = match &r.dev {
        Some(d) => format!("through {d}"),
        None => "through any interface".to_string(),
    };
    let dst = dst_text(r.dst, r.prefix);
    let why = match e.os_errno() {
        Some(libc::ENODEV) => format!("no interface named {}", e.object),
        Some(libc::ENETUNREACH | libc::EHOSTUNREACH) if add => match r.gateway {
            Some(gw) => format!("{gw} is not reachable {on}; add an address on its subnet first"),
            None => format!("{dst} cannot be reached {on}"),
        },
        Some(libc::ENETDOWN) => match &r.dev {
            Some(d) => format!("{d} is down; bring it up first (ifctl up {d})"),
            None => "the interface is down; bring it up first".to_string(),
        },
        Some(libc::EEXIST) if add => format!(
            "a route to {dst} at metric {} is already there (route del it first, or give \
             another metric)",
            // IPv6 routes that name no metric get 1024.
            r.metric.unwrap_or(if r.dst.is_ipv6() { 1024 } else { 0 })
        ),
        Some(libc::ESRCH | libc::ENOENT) if !add => format!("no route to {dst} matches"),
        _ => return cli::failure(head, e),
    };
    cli::failure_because(head, e, why)
}

fn dst_text(dst: IpAddr, prefix: u8) -> String {
    let full = if dst.is_ipv4() { 32 } else { 128 };
    match prefix {
        0 => "default".to_string(),
        p if p == full => dst.to_string(),
        p => format!("{dst}/{p}"),
    }
}

/// `rtm_protocol` names from /etc/iproute2/rt_protos (all of iproute2's: routing daemons tag
/// their routes with theirs, and `ip route show` names them).
fn protocol_name(p: u8) -> String {
    match p {
        0 => "unspec".into(),
        1 => "redirect".into(),
        2 => "kernel".into(),
        3 => "boot".into(),
        4 => "static".into(),
        8 => "gated".into(),
        9 => "ra".into(),
        10 => "mrt".into(),
        11 => "zebra".into(),
        12 => "bird".into(),
        13 => "dnrouted".into(),
        14 => "xorp".into(),
        15 => "ntk".into(),
        16 => "dhcp".into(),
        18 => "keepalived".into(),
        42 => "babel".into(),
        99 => "openr".into(),
        186 => "bgp".into(),
        187 => "isis".into(),
        188 => "ospf".into(),
        189 => "rip".into(),
        192 => "eigrp".into(),
        p => p.to_string(),
    }
}

fn scope_name(s: u8) -> String {
    match s {
        0 => "global".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        255 => "nowhere".into(),
        s => s.to_string(),
    }
}

/// `rtm_type` names (<linux/rtnetlink.h>).
fn type_name(t: u8) -> String {
    const NAMES: [&str; 12] = [
        "unspec",
        "unicast",
        "local",
        "broadcast",
        "anycast",
        "multicast",
        "blackhole",
        "unreachable",
        "prohibit",
        "throw",
        "nat",
        "xresolve",
    ];
    NAMES
        .get(t as usize)
        .map_or_else(|| t.to_string(), |n| n.to_string())
}

fn flag_words(f: u32) -> Vec<&'static str> {
    [
        (rt::RTNH_F_DEAD, "dead"),
        (rt::RTNH_F_ONLINK, "onlink"),
        (rt::RTNH_F_LINKDOWN, "linkdown"),
    ]
    .iter()
    .filter(|(b, _)| f & b != 0)
    .map(|(_, n)| *n)
    .collect()
}

fn pref_name(p: u8) -> String {
    match p {
        0 => "medium".into(),
        1 => "high".into(),
        3 => "low".into(),
        p => p.to_string(),
    }
}

/// The fields of a route as `ip route show` prints them, in its order; a field iproute2 leaves
/// out by default (type unicast, protocol boot, scope global) is left out here, and so is the
/// table: a show is of one table, and `ip route show table T` leaves it out too.
fn fields(s: &Shown) -> Vec<(&'static str, String)> {
    let r = &s.route;
    let mut f = Vec::new();
    if r.ty != rt::RTN_UNICAST {
        f.push(("type", type_name(r.ty)));
    }
    let dst = match r.dst {
        Some(d) => dst_text(d, r.dst_len),
        None => "default".to_string(),
    };
    f.push(("dst", dst));
    if let Some(g) = r.gateway {
        f.push(("gateway", g.to_string()));
    }
    if let Some(d) = &s.dev {
        f.push(("dev", d.clone()));
    }
    if let Some(p) = s.protocol.filter(|&p| p != rt::RTPROT_BOOT) {
        f.push(("protocol", protocol_name(p)));
    }
    if let Some(sc) = s.scope.filter(|&sc| sc != rt::RT_SCOPE_UNIVERSE) {
        f.push(("scope", scope_name(sc)));
    }
    if let Some(p) = r.prefsrc {
        f.push(("prefsrc", p.to_string()));
    }
    if let Some(m) = r.metric {
        f.push(("metric", m.to_string()));
    }
    f
}

fn routes_text(routes: &[Shown]) -> String {
    let mut s = String::new();
    for r in routes {
        let mut words: Vec<String> = Vec::new();
        for (k, v) in fields(r) {
            let word = match k {
                "type" | "dst" => "",
                "gateway" => "via",
                "protocol" => "proto",
                "prefsrc" => "src",
                k => k,
            };
            if !word.is_empty() {
                words.push(word.to_string());
            }
            words.push(v);
        }
        words.extend(flag_words(r.route.flags).iter().map(|w| w.to_string()));
        if let Some(p) = r.route.pref {
            words.push("pref".into());
            words.push(pref_name(p));
        }
        s.push_str(&words.join(" "));
        s.push('\n');
        for (nh, dev) in r.route.nexthops.iter().zip(&r.nexthop_devs) {
            s.push_str("\tnexthop");
            if let Some(g) = nh.gateway {
                let _ = write!(s, " via {g}");
            }
            if let Some(d) = dev {
                let _ = write!(s, " dev {d}");
            }
            let _ = write!(s, " weight {}", nh.weight);
            for w in flag_words(nh.flags) {
                let _ = write!(s, " {w}");
            }
            s.push('\n');
        }
    }
    s
}

fn routes_json(routes: &[Shown]) -> String {
    let mut j = Json::new();
    j.array(|j| {
        for r in routes {
            j.object(|j| {
                for (k, v) in fields(r) {
                    match k {
                        "metric" => j.key(k).raw(v),
                        _ => j.key(k).str(&v),
                    };
                }
                j.key("flags").array(|j| {
                    for w in flag_words(r.route.flags) {
                        j.str(w);
                    }
                });
                if let Some(p) = r.route.pref {
                    j.key("pref").str(&pref_name(p));
                }
                if !r.route.nexthops.is_empty() {
                    j.key("nexthops").array(|j| {
                        for (nh, dev) in r.route.nexthops.iter().zip(&r.nexthop_devs) {
                            j.object(|j| {
                                if let Some(g) = nh.gateway {
                                    j.key("gateway").str(&g.to_string());
                                }
                                if let Some(d) = dev {
                                    j.key("dev").str(d);
                                }
                                j.key("weight").raw(nh.weight);
                                j.key("flags").array(|j| {
                                    for w in flag_words(nh.flags) {
                                        j.str(w);
                                    }
                                });
                            });
                        }
                    });
                }
            });
        }
    });
    j.out.push('\n');
    j.out
}
