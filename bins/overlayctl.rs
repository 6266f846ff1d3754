//! overlayctl: overlay networks across hosts kept in etcd, and the agent that keeps this
//! host's kernel equal to the store. The key schema and the reconcile are libnet-sys's
//! `overlay`; the etcd client is libnet-sys's `etcd`.

use crate::cli::{self, Failure, Json, EXIT_FAIL, EXIT_OK, EXIT_USAGE};
use libnet_sys::etcd::kv::{prefix_end, Compare, Op};
use libnet_sys::etcd::watch::{EventKind, WatchMsg, WatchSpec};
use libnet_sys::etcd::{parse_endpoints, tls, Client};
use libnet_sys::overlay::{
    apply, check_net_name, diff, host, mac_of, parse_cidr, present, released_key, wanted, Endpoint,
    Network, Store, ENDPOINTS, HOLD_BACK, HOSTS, NETWORKS, RELEASED, ROOT, VNIS,
};
use libnet_sys::{Error, Trace};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const PROG: &str = "overlayctl";

/// `println!` that fails (exit 1, one line) instead of panicking when stdout cannot be written.
macro_rules! outln {
    ($($a:tt)*) => {
        cli::emit(&mut std::io::stdout().lock(), &format!("{}\n", format_args!($($a)*)))?
    };
}
const VERSION: &str = concat!("overlayctl (netplumb) ", env!("CARGO_PKG_VERSION"));

const USAGE: &str = "\
Usage: overlayctl [options] COMMAND
commands:
\tnet create NAME --vni N --subnet CIDR [--mtu N]
\t\t\tcreate a network: its key and its VNI's key in one etcd txn
\tnet rm NAME [--force]\tremove a network (refused while it has endpoints, unless --force)
\tnet ls [-j]\t\tthe networks
\tep add NET NS [--ip ADDR] [--name NAME]
\t\t\treserve an address (etcd txn, create-if-absent) under this host's lease,
\t\t\tand put a veth into NS with it; prints \"ADDR MAC\"
\tep rm NET NS|ADDR\tremove one of this host's endpoints (its address held back 60 s)
\tep ls [NET] [-j]\tevery host's endpoints
\tsync [NET]\t\tread the store at one revision, make this host's kernel match, exit
\twatch [--ttl S]\t\tthe agent: register this host, sync, then follow the store
\tstatus [-j]\t\tstore vs kernel, and the last applied revision; exit 1 on a difference
options (before the command):
\t--etcd URL[,URL...]\tetcd members (http[s]://ADDRESS:PORT; also NETPLUMB_ETCD)
\t--host NAME\t\tthis host's name (default: the hostname)
\t--vtep ADDR\t\tthis host's VXLAN address (default: the source address toward
\t\t\t\tthe first etcd member)
\t--cacert F\t\tTLS to etcd: the CA that signed the members' certificates
\t--cert F --key F\tthis client's certificate and key (PEM), for --client-cert-auth
\t-h, --help\t\tthis text
\t-V, --version\t\tprogram version
\t--explain\t\tprint every etcd request and answer, and every kernel request
\t--dry-run\t\tsync: print the kernel changes it would make; make none
\t-j, --json\t\tJSON output for ls and status
\t-b, --batch FILE\tone command a line from FILE (- for stdin), one process
kernel calls and etcd requests:
\tnet create\tetcd POST /v3/kv/txn (both keys CREATE_REVISION == 0)
\tep add\t\tetcd POST /v3/kv/txn; netlink RTM_NEWLINK kind veth (VETH_INFO_PEER,
\t\t\tIFLA_NET_NS_FD, IFLA_MASTER, IFLA_MTU), RTM_NEWADDR in NS
\tsync, watch\tetcd POST /v3/kv/range, /v3/watch, /v3/lease/grant|keepalive|timetolive;
\t\t\tnetlink RTM_NEWLINK kind bridge and kind vxlan (IFLA_VXLAN_ID/LOCAL/LINK/
\t\t\tPORT/LEARNING/PROXY), RTM_GETNEIGH dumps (AF_BRIDGE, AF_INET),
\t\t\tRTM_NEWNEIGH (NTF_SELF NLM_F_REPLACE, NLM_F_APPEND for flooding), RTM_DELNEIGH
";

/// Where this host's agent keeps what must survive it: its lease, the last revision it
/// applied, the endpoints made here (for re-registration after a lost lease), conflicts.
const STATE_DIR: &str = "/run/netplumb/overlay";

struct Ctx {
    client: Client,
    trace: Trace,
    host: String,
    vtep: Option<Ipv4Addr>,
    json: bool,
    force: bool,
}

fn fail(head: &str, e: &Error) -> Failure {
    cli::failure(head, e)
}

fn ipv4(head: &str, what: &str, v: &str) -> Result<Ipv4Addr, Failure> {
    v.parse()
        .map_err(|_| Failure::usage(format!("{head}: {what} '{v}' is not an IPv4 address")))
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// The source address this host uses toward `to`: a UDP socket connected there (nothing is
/// sent) says which address the routing picked.
fn source_toward(to: SocketAddr) -> Option<Ipv4Addr> {
    let s = std::net::UdpSocket::bind(SocketAddr::from(([0, 0, 0, 0], 0))).ok()?;
    s.connect(to).ok()?;
    match s.local_addr().ok()?.ip() {
        IpAddr::V4(a) if !a.is_unspecified() => Some(a),
        _ => None,
    }
}

fn state_path(host: &str, rest: &str) -> String {
    format!("{STATE_DIR}/{host}/{rest}")
}

fn write_state(host: &str, rest: &str, text: &str) -> Result<(), Failure> {
    let p = state_path(host, rest);
    if let Some(dir) = std::path::Path::new(&p).parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::fail(format!("write {}: {e}", dir.display())))?;
    }
    std::fs::write(&p, text).map_err(|e| Failure::fail(format!("write {p}: {e}")))
}

impl Ctx {
    fn vtep(&self, head: &str) -> Result<Ipv4Addr, Failure> {
        self.vtep
            .or_else(|| source_toward(self.client.endpoints()[0]))
            .ok_or_else(|| {
                Failure::fail(format!(
                    "{head}: no route toward {}: give --vtep ADDR",
                    self.client.endpoints()[0]
                ))
            })
    }

    fn read(&self, head: &str) -> Result<Store, Failure> {
        let r = self
            .client
            .get_prefix(ROOT.as_bytes())
            .map_err(|e| fail(head, &e))?;
        let s = Store::from_kvs(r.revision, &r.kvs);
        for m in &s.malformed {
            cli::say(&format!("{PROG}: {head}: skipped malformed {m}"));
        }
        Ok(s)
    }

    fn network(&self, head: &str, name: &str) -> Result<Network, Failure> {
        check_net_name(name).map_err(|e| fail(head, &e))?;
        let kv = self
            .client
            .get(format!("{NETWORKS}{name}").as_bytes())
            .map_err(|e| fail(head, &e))?
            .ok_or_else(|| Failure::fail(format!("{head}: no network {name}")))?;
        Network::parse(name, &String::from_utf8_lossy(&kv.value))
            .map_err(|why| Failure::fail(format!("{head}: network {name} is malformed: {why}")))
    }

    /// This host's lease, as the agent keeps it: refused when there is none alive.
    fn live_lease(&self, head: &str) -> Result<i64, Failure> {
        let id = std::fs::read_to_string(state_path(&self.host, "lease"))
            .ok()
            .and_then(|s| s.trim().parse().ok());
        let alive = match id {
            Some(id) => self
                .client
                .time_to_live(id)
                .map_err(|e| fail(head, &e))?
                .map(|_| id),
            None => None,
        };
        alive.ok_or_else(|| {
            Failure::fail(format!(
                "{head}: host {} has no live lease: run `overlayctl watch` on this host (the agent holds it)",
                self.host
            ))
        })
    }
}

fn net_cmd(c: &Ctx, args: &[String]) -> Result<(), Failure> {
    match args.first().map(String::as_str) {
        Some("create") => {
            let name = args
                .get(1)
                .ok_or_else(|| Failure::usage("net create needs NAME"))?;
            let head = format!("net create {name}");
            check_net_name(name).map_err(|e| Failure::usage(format!("{head}: {e}")))?;
            let (mut vni, mut subnet, mut mtu) = (None, None, None);
            let mut i = 2;
            while i < args.len() {
                let v = args
                    .get(i + 1)
                    .ok_or_else(|| Failure::usage(format!("{head}: {} needs a value", args[i])))?;
                match args[i].as_str() {
                    "--vni" => vni = Some(cli::number::<u32>(&head, "vni", v, 1, 16_777_215)?),
                    "--subnet" => {
                        subnet = Some(parse_cidr(v).ok_or_else(|| {
                            Failure::usage(format!(
                                "{head}: subnet '{v}' is not an IPv4 network A.B.C.D/8..30 (host bits zero)"
                            ))
                        })?)
                    }
                    "--mtu" => mtu = Some(cli::number::<u32>(&head, "mtu", v, 68, 65535)?),
                    o => return Err(Failure::usage(format!("{head}: unknown option '{o}'"))),
                }
                i += 2;
            }
            let vni = vni.ok_or_else(|| Failure::usage(format!("{head}: --vni N is needed")))?;
            let (subnet, prefix) =
                subnet.ok_or_else(|| Failure::usage(format!("{head}: --subnet CIDR is needed")))?;
            let net = Network {
                name: name.clone(),
                vni,
                subnet,
                prefix,
                mtu,
            };
            let (nk, vk) = (format!("{NETWORKS}{name}"), format!("{VNIS}{vni}"));
            let r = c
                .client
                .txn(
                    &[
                        Compare::Absent(nk.clone().into_bytes()),
                        Compare::Absent(vk.clone().into_bytes()),
                    ],
                    &[
                        Op::Put {
                            key: nk.clone().into_bytes(),
                            value: net.value().into_bytes(),
                            lease: 0,
                        },
                        Op::Put {
                            key: vk.clone().into_bytes(),
                            value: name.clone().into_bytes(),
                            lease: 0,
                        },
                    ],
                    &[
                        Op::Get {
                            key: nk.into_bytes(),
                            range_end: None,
                        },
                        Op::Get {
                            key: vk.into_bytes(),
                            range_end: None,
                        },
                    ],
                )
                .map_err(|e| fail(&head, &e))?;
            if !r.succeeded {
                if r.ranges.first().is_some_and(|g| !g.kvs.is_empty()) {
                    return Err(Failure::fail(format!("{head}: network {name} exists")));
                }
                let owner = r
                    .ranges
                    .get(1)
                    .and_then(|g| g.kvs.first())
                    .map(|kv| String::from_utf8_lossy(&kv.value).into_owned())
                    .unwrap_or_default();
                return Err(Failure::fail(format!(
                    "{head}: VNI {vni} is taken by network {owner}"
                )));
            }
            Ok(())
        }
        Some("rm") => {
            let name = args
                .get(1)
                .ok_or_else(|| Failure::usage("net rm needs NAME"))?;
            let head = format!("net rm {name}");
            let force = c.force || args.iter().any(|a| a == "--force");
            let net = c.network(&head, name)?;
            let eps = format!("{ENDPOINTS}{name}/");
            let mut del = vec![
                Op::Delete {
                    key: format!("{NETWORKS}{name}").into_bytes(),
                    range_end: None,
                },
                Op::Delete {
                    key: format!("{VNIS}{}", net.vni).into_bytes(),
                    range_end: None,
                },
            ];
            let r = c
                .client
                .get_prefix(eps.as_bytes())
                .map_err(|e| fail(&head, &e))?;
            if !r.kvs.is_empty() && !force {
                return Err(Failure::fail(format!(
                    "{head}: {} endpoints remain (ep rm them, or --force)",
                    r.kvs.len()
                )));
            }
            let held = format!("{RELEASED}{name}/");
            for prefix in [&eps, &held] {
                del.push(Op::Delete {
                    key: prefix.clone().into_bytes(),
                    range_end: Some(prefix_end(prefix.as_bytes())),
                });
            }
            c.client.txn(&[], &del, &[]).map_err(|e| fail(&head, &e))?;
            host::teardown(c.trace, name).map_err(|e| fail(&head, &e))
        }
        Some("ls") => {
            let s = c.read("net ls")?;
            let count = |n: &str| s.endpoints.values().filter(|e| e.net == n).count();
            if c.json {
                let mut j = Json::new();
                j.array(|j| {
                    for n in s.networks.values() {
                        j.object(|j| {
                            j.key("name").str(&n.name);
                            j.key("vni").raw(n.vni);
                            j.key("subnet").str(&format!("{}/{}", n.subnet, n.prefix));
                            match n.mtu {
                                Some(m) => j.key("mtu").raw(m),
                                None => j.key("mtu").str("auto"),
                            };
                            j.key("endpoints").raw(count(&n.name));
                        });
                    }
                });
                outln!("{}", j.out);
            } else {
                let mut rows = vec![["NAME", "VNI", "SUBNET", "MTU", "ENDPOINTS"]
                    .map(String::from)
                    .to_vec()];
                for n in s.networks.values() {
                    rows.push(vec![
                        n.name.clone(),
                        n.vni.to_string(),
                        format!("{}/{}", n.subnet, n.prefix),
                        n.mtu.map_or("auto".into(), |m| m.to_string()),
                        count(&n.name).to_string(),
                    ]);
                }
                cli::emit(&mut std::io::stdout().lock(), &cli::table(&rows))?;
            }
            Ok(())
        }
        o => Err(subcommands("net", o)),
    }
}

/// A start for the search for a free address: different on each call and each host, so that
/// concurrent allocators rarely try the same one (lowest-free cost up to 32 tries each, M7).
fn random_start(n: u32) -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let x = (t ^ (u64::from(std::process::id()) << 20)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    ((x >> 32) as u32) % n.max(1)
}

fn ep_cmd(c: &Ctx, args: &[String]) -> Result<(), Failure> {
    match args.first().map(String::as_str) {
        Some("add") => {
            let (Some(net_name), Some(ns)) = (args.get(1), args.get(2)) else {
                return Err(Failure::usage("ep add needs NET NS"));
            };
            let head = format!("ep add {net_name} {ns}");
            let (mut want_ip, mut name) = (None, None);
            let mut i = 3;
            while i < args.len() {
                let v = args
                    .get(i + 1)
                    .ok_or_else(|| Failure::usage(format!("{head}: {} needs a value", args[i])))?;
                match args[i].as_str() {
                    "--ip" => want_ip = Some(ipv4(&head, "address", v)?),
                    "--name" => {
                        libnet_sys::netns::hosts::check_hostname(v)
                            .map_err(|e| Failure::usage(format!("{head}: {e}")))?;
                        name = Some(v.clone())
                    }
                    o => return Err(Failure::usage(format!("{head}: unknown option '{o}'"))),
                }
                i += 2;
            }
            libnet_sys::netns::NsTarget::parse(ns)
                .and_then(|t| t.open())
                .map_err(|e| fail(&head, &e))?;
            let net = c.network(&head, net_name)?;
            if let Some(ip) = want_ip {
                if !net.holds(ip) {
                    return Err(Failure::fail(format!(
                        "{head}: {ip} is not a host address of {}/{}",
                        net.subnet, net.prefix
                    )));
                }
            }
            let vtep = c.vtep(&head)?;
            let lease = c.live_lease(&head)?;
            let (mtu, _) = host::ensure(c.trace, &net, vtep).map_err(|e| fail(&head, &e))?;
            let addrs = |prefix: &str| -> Result<std::collections::BTreeSet<Ipv4Addr>, Failure> {
                Ok(c.client
                    .get_prefix(format!("{prefix}{net_name}/").as_bytes())
                    .map_err(|e| fail(&head, &e))?
                    .kvs
                    .iter()
                    .filter_map(|kv| {
                        let k = String::from_utf8_lossy(&kv.key);
                        k.rsplit('/').next().and_then(|a| a.parse().ok())
                    })
                    .collect())
            };
            let (used, held) = (addrs(ENDPOINTS)?, addrs(RELEASED)?);
            // An address asked for by --ip is the user's to reuse; one chosen here is not an
            // address released in the last HOLD_BACK seconds.
            let candidates: Vec<Ipv4Addr> = match want_ip {
                Some(ip) => vec![ip],
                None => {
                    let n = net.size();
                    let start = random_start(n);
                    (0..n)
                        .map(|k| net.nth((start + k) % n))
                        .filter(|a| !used.contains(a) && !held.contains(a))
                        .collect()
                }
            };
            let mut got = None;
            for ip in candidates {
                let ep = Endpoint {
                    net: net_name.clone(),
                    ip,
                    mac: mac_of(ip),
                    vtep,
                    host: c.host.clone(),
                    ns: ns.clone(),
                    name: name.clone(),
                };
                let key = ep.key().into_bytes();
                let mut absent = vec![Compare::Absent(key.clone())];
                if want_ip.is_none() {
                    absent.push(Compare::Absent(released_key(net_name, ip).into_bytes()));
                }
                let r = c
                    .client
                    .txn(
                        &absent,
                        &[Op::Put {
                            key,
                            value: ep.value().into_bytes(),
                            lease,
                        }],
                        &[],
                    )
                    .map_err(|e| fail(&head, &e))?;
                if r.succeeded {
                    got = Some(ep);
                    break;
                }
                if want_ip.is_some() {
                    return Err(Failure::fail(format!("{head}: {ip} is taken")));
                }
            }
            let ep = got.ok_or_else(|| {
                let why = match held.len() {
                    0 => String::new(),
                    n => format!(
                        " ({n} released in the last {HOLD_BACK} s held back; --ip takes one)"
                    ),
                };
                Failure::fail(format!(
                    "{head}: subnet {}/{} is full{why}",
                    net.subnet, net.prefix
                ))
            })?;
            if let Err(e) = host::add_endpoint(c.trace, &net, ns, ep.ip, ep.mac, mtu) {
                // Not half made: the reservation goes too.
                let _ = c.client.delete(ep.key().as_bytes(), None);
                return Err(fail(&head, &e));
            }
            write_state(
                &c.host,
                &format!("endpoints/{net_name}/{}", ep.ip),
                &ep.value(),
            )?;
            outln!("{} {}", ep.ip, libnet_sys::ifname::Mac(ep.mac));
            Ok(())
        }
        Some("rm") => {
            let (Some(net_name), Some(what)) = (args.get(1), args.get(2)) else {
                return Err(Failure::usage("ep rm needs NET NS|ADDR"));
            };
            let head = format!("ep rm {net_name} {what}");
            let net = c.network(&head, net_name)?;
            let s = c.read(&head)?;
            let ep = s
                .endpoints
                .values()
                .find(|e| {
                    e.net == *net_name
                        && e.host == c.host
                        && (e.ip.to_string() == *what || e.ns == *what)
                })
                .ok_or_else(|| {
                    Failure::fail(format!("{head}: no endpoint of host {} is {what}", c.host))
                })?;
            // Gone, and held back from the allocator for HOLD_BACK seconds, in one txn.
            let (hold, _) = c.client.grant(HOLD_BACK).map_err(|e| fail(&head, &e))?;
            c.client
                .txn(
                    &[],
                    &[
                        Op::Delete {
                            key: ep.key().into_bytes(),
                            range_end: None,
                        },
                        Op::Put {
                            key: released_key(net_name, ep.ip).into_bytes(),
                            value: format!("host={}", c.host).into_bytes(),
                            lease: hold,
                        },
                    ],
                    &[],
                )
                .map_err(|e| fail(&head, &e))?;
            let _ = std::fs::remove_file(state_path(
                &c.host,
                &format!("endpoints/{net_name}/{}", ep.ip),
            ));
            host::del_endpoint(c.trace, &net, ep.ip).map_err(|e| fail(&head, &e))
        }
        Some("ls") => {
            let only = args.get(1).filter(|a| !a.starts_with('-'));
            let s = c.read("ep ls")?;
            let eps: Vec<&Endpoint> = s
                .endpoints
                .values()
                .filter(|e| only.map_or(true, |n| e.net == *n))
                .collect();
            if c.json {
                let mut j = Json::new();
                j.array(|j| {
                    for e in &eps {
                        j.object(|j| {
                            j.key("net").str(&e.net);
                            j.key("addr").str(&e.ip.to_string());
                            j.key("mac")
                                .str(&libnet_sys::ifname::Mac(e.mac).to_string());
                            j.key("host").str(&e.host);
                            j.key("vtep").str(&e.vtep.to_string());
                            j.key("ns").str(&e.ns);
                            j.key("name").opt_str(e.name.as_deref());
                        });
                    }
                });
                outln!("{}", j.out);
            } else {
                let mut rows = vec![["NET", "ADDR", "MAC", "HOST", "VTEP", "NS", "NAME"]
                    .map(String::from)
                    .to_vec()];
                for e in eps {
                    rows.push(vec![
                        e.net.clone(),
                        e.ip.to_string(),
                        libnet_sys::ifname::Mac(e.mac).to_string(),
                        e.host.clone(),
                        e.vtep.to_string(),
                        e.ns.clone(),
                        e.name.clone().unwrap_or_else(|| "-".into()),
                    ]);
                }
                cli::emit(&mut std::io::stdout().lock(), &cli::table(&rows))?;
            }
            Ok(())
        }
        o => Err(subcommands("ep", o)),
    }
}

/// The names every local endpoint's namespace should resolve: each named endpoint of its
/// network, on every host, in /etc/netns/NS/hosts.
fn keep_hosts_files(c: &Ctx, s: &Store) {
    for local in s.endpoints.values().filter(|e| e.host == c.host) {
        // The lines of the network's own addresses are the agent's: a name no endpoint of the
        // store has at that address any more (removed anywhere, or while the agent was down)
        // goes; other lines are left alone.
        if let Some(net) = s.networks.get(&local.net) {
            let current = |ip: IpAddr, name: &str| match ip {
                IpAddr::V4(v4) if net.holds(v4) => s
                    .endpoints
                    .values()
                    .any(|e| e.net == net.name && e.ip == v4 && e.name.as_deref() == Some(name)),
                _ => true,
            };
            match libnet_sys::netns::hosts::retain(&c.trace, &local.ns, current) {
                Ok(0) => {}
                Ok(n) => {
                    let line = format!("hosts {}: {n} stale name(s) removed\n", local.ns);
                    let _ = cli::emit(&mut std::io::stdout().lock(), &line);
                }
                Err(err) => cli::say(&format!("{PROG}: hosts {}: {err}", local.ns)),
            }
        }
        let file = libnet_sys::netns::hosts::read(&local.ns).unwrap_or_default();
        for e in s.endpoints.values().filter(|e| e.net == local.net) {
            let Some(name) = &e.name else { continue };
            let line_ok = file.lines().any(|l| {
                let mut w = l.split_whitespace();
                w.next() == Some(&e.ip.to_string()) && w.any(|n| n == name)
            });
            if !line_ok {
                let _ = libnet_sys::netns::hosts::del(&c.trace, &local.ns, name);
                if let Err(err) = libnet_sys::netns::hosts::add(
                    &c.trace,
                    &local.ns,
                    IpAddr::V4(e.ip),
                    std::slice::from_ref(name),
                ) {
                    cli::say(&format!("{PROG}: hosts {} {name}: {err}", local.ns));
                }
            }
        }
    }
}

/// Makes the kernel equal to `s` for every network (or `only`); returns the changes, each
/// printed as it is made (or, under --dry-run, would be).
fn reconcile(
    c: &Ctx,
    s: &Store,
    only: Option<&str>,
    vtep: Ipv4Addr,
    apply_it: bool,
) -> Result<Vec<String>, Failure> {
    let mut changes = Vec::new();
    for net in s
        .networks
        .values()
        .filter(|n| only.map_or(true, |o| n.name == o))
    {
        let head = format!("sync {}", net.name);
        let vx = net.vxlan();
        let here = libnet_sys::kernel::Kernel::new(c.trace).link(&vx).is_ok();
        if !here {
            changes.push(format!(
                "make network {} (ob-{0}, ov-{0} vni {})",
                net.name, net.vni
            ));
            if !apply_it {
                continue;
            }
            host::ensure(c.trace, net, vtep).map_err(|e| fail(&head, &e))?;
        }
        let have = present(c.trace, &vx).map_err(|e| fail(&head, &e))?;
        for (add, e) in diff(&have, &wanted(s, net, vtep, Some(&have))) {
            let line = format!("{} {e} dev {vx}", if add { "add" } else { "del" });
            if apply_it {
                apply(c.trace, &vx, add, &e)
                    .map_err(|err| fail(&format!("{head}: {line}"), &err))?;
            }
            changes.push(line);
        }
    }
    if only.is_none() {
        for gone in host::present_networks(c.trace).map_err(|e| fail("sync", &e))? {
            if !s.networks.contains_key(&gone) {
                changes.push(format!("remove network {gone}"));
                if apply_it {
                    host::teardown(c.trace, &gone).map_err(|e| fail("sync", &e))?;
                }
            }
        }
    }
    if apply_it {
        keep_hosts_files(c, s);
    }
    Ok(changes)
}

fn sync_cmd(c: &Ctx, only: Option<&str>, dry_run: bool) -> Result<i64, Failure> {
    let vtep = c.vtep("sync")?;
    let s = c.read("sync")?;
    if let Some(o) = only {
        if !s.networks.contains_key(o) {
            return Err(Failure::fail(format!("sync {o}: no network {o}")));
        }
    }
    for line in reconcile(c, &s, only, vtep, !dry_run)? {
        outln!("{}{line}", if dry_run { "would " } else { "" });
    }
    Ok(s.revision)
}

fn status_cmd(c: &Ctx) -> Result<i32, Failure> {
    let vtep = c.vtep("status")?;
    let s = c.read("status")?;
    let diffs = reconcile(c, &s, None, vtep, false)?;
    let applied = std::fs::read_to_string(state_path(&c.host, "revision"))
        .ok()
        .and_then(|t| t.trim().parse::<i64>().ok());
    let conflicts = std::fs::read_to_string(state_path(&c.host, "conflicts")).unwrap_or_default();
    let conflicts: Vec<&str> = conflicts.lines().filter(|l| !l.is_empty()).collect();
    if c.json {
        let mut j = Json::new();
        j.object(|j| {
            j.key("host").str(&c.host);
            j.key("store_revision").raw(s.revision);
            match applied {
                Some(r) => j.key("applied_revision").raw(r),
                None => j.key("applied_revision").raw("null"),
            };
            j.key("differences").array(|j| {
                for d in &diffs {
                    j.str(d);
                }
            });
            j.key("conflicts").array(|j| {
                for d in &conflicts {
                    j.str(d);
                }
            });
            j.key("malformed").array(|j| {
                for d in &s.malformed {
                    j.str(d);
                }
            });
        });
        outln!("{}", j.out);
    } else {
        outln!("host {} vtep {vtep}", c.host);
        outln!("store revision {}", s.revision);
        outln!(
            "applied revision {}",
            applied.map_or("none".to_string(), |r| r.to_string())
        );
        for d in &diffs {
            outln!("differs: kernel needs {d}");
        }
        for d in &conflicts {
            outln!("conflict: {d}");
        }
    }
    Ok(if diffs.is_empty() && conflicts.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAIL
    })
}

/// Takes this host's lease back when the saved one is alive, else grants a new one and
/// registers the host and its endpoints again (create-if-absent: an address taken meanwhile
/// is reported, not overwritten). Returns the lease.
fn register(
    client: &Client,
    host: &str,
    vtep: Ipv4Addr,
    ttl: i64,
    force_new: bool,
) -> Result<i64, Failure> {
    let saved = std::fs::read_to_string(state_path(host, "lease"))
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok());
    if let (Some(id), false) = (saved, force_new) {
        if client
            .time_to_live(id)
            .map_err(|e| fail("watch", &e))?
            .is_some()
        {
            client
                .put(
                    format!("{HOSTS}{host}").as_bytes(),
                    format!("vtep={vtep}").as_bytes(),
                    id,
                )
                .map_err(|e| fail("watch", &e))?;
            return Ok(id);
        }
    }
    let (id, _) = client
        .grant(ttl)
        .map_err(|e| fail("watch: lease grant", &e))?;
    write_state(host, "lease", &id.to_string())?;
    client
        .put(
            format!("{HOSTS}{host}").as_bytes(),
            format!("vtep={vtep}").as_bytes(),
            id,
        )
        .map_err(|e| fail("watch", &e))?;
    let mut conflicts = String::new();
    let dir = state_path(host, "endpoints");
    for net in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        for ep in std::fs::read_dir(net.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let (n, ip) = (
                net.file_name().to_string_lossy().into_owned(),
                ep.file_name().to_string_lossy().into_owned(),
            );
            let value = std::fs::read_to_string(ep.path()).unwrap_or_default();
            let key = format!("{ENDPOINTS}{n}/{ip}").into_bytes();
            let r = client
                .txn(
                    &[Compare::Absent(key.clone())],
                    &[Op::Put {
                        key: key.clone(),
                        value: value.trim().as_bytes().to_vec(),
                        lease: id,
                    }],
                    &[Op::Get {
                        key,
                        range_end: None,
                    }],
                )
                .map_err(|e| fail("watch: re-register", &e))?;
            if !r.succeeded {
                let other = r
                    .ranges
                    .first()
                    .and_then(|g| g.kvs.first())
                    .map(|kv| String::from_utf8_lossy(&kv.value).into_owned())
                    .unwrap_or_default();
                let line = format!("{n} {ip}: taken meanwhile ({other}); not overwritten");
                cli::say(&format!("{PROG}: re-register {line}"));
                conflicts.push_str(&line);
                conflicts.push('\n');
            }
        }
    }
    write_state(host, "conflicts", &conflicts)?;
    Ok(id)
}

fn watch_cmd(c: &Ctx, ttl: i64) -> Result<(), Failure> {
    let vtep = c.vtep("watch")?;
    host::underlay(c.trace, vtep).map_err(|e| fail("watch", &e))?;
    let lease = Arc::new(AtomicI64::new(register(
        &c.client, &c.host, vtep, ttl, false,
    )?));
    // The keepalive: its own thread and client, never waiting on the kernel.
    {
        let (client, host, lease) = (c.client.clone(), c.host.clone(), lease.clone());
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis((ttl as u64 * 1000 / 3).max(300)));
            let id = lease.load(Ordering::Relaxed);
            match client.keepalive(id) {
                Ok(Some(_)) => {}
                Ok(None) => {
                    cli::say(&format!(
                        "{PROG}: watch: lease {id:x} was lost; registering again"
                    ));
                    match register(&client, &host, vtep, ttl, true) {
                        Ok(new) => lease.store(new, Ordering::Relaxed),
                        Err(f) => f.report(PROG),
                    }
                }
                Err(e) => cli::say(&format!("{PROG}: watch: keepalive: {e}")),
            }
        });
    }
    let mut store = c.read("watch")?;
    for line in reconcile(c, &store, None, vtep, true)? {
        outln!("{line}");
    }
    let mut last = store.revision;
    write_state(&c.host, "revision", &last.to_string())?;
    outln!("synced at revision {last}");
    loop {
        let spec = WatchSpec {
            key: ROOT.as_bytes(),
            range_end: Some(&prefix_end(ROOT.as_bytes())),
            start_revision: last + 1,
            prev_kv: false,
            progress_notify: true,
        };
        let mut w = match c.client.watch(&spec, Some(Duration::from_secs(30))) {
            Ok(w) => w,
            Err(e) => {
                cli::say(&format!("{PROG}: watch: {e}; trying again"));
                std::thread::sleep(Duration::from_millis(500));
                continue;
            }
        };
        loop {
            match w.next_msg() {
                Ok(WatchMsg::Created { .. } | WatchMsg::Progress { .. }) => {}
                Ok(WatchMsg::Canceled {
                    compact_revision,
                    reason,
                }) => {
                    if compact_revision > 0 {
                        cli::say(&format!(
                            "{PROG}: watch: history compacted at {compact_revision}: full resync"
                        ));
                        store = c.read("watch")?;
                        for line in reconcile(c, &store, None, vtep, true)? {
                            outln!("{line}");
                        }
                        last = store.revision;
                    } else {
                        cli::say(&format!(
                            "{PROG}: watch: cancelled by {} ({reason}); next member",
                            w.addr
                        ));
                        c.client.skip_member();
                    }
                    break;
                }
                Ok(WatchMsg::Events { events, .. }) => {
                    let before = store.clone();
                    for e in &events {
                        match e.kind {
                            EventKind::Put => {
                                if let Err(why) = store.put(&e.kv.key, &e.kv.value) {
                                    cli::say(&format!("{PROG}: watch: skipped malformed {why}"));
                                }
                            }
                            EventKind::Delete => store.delete(&e.kv.key),
                        }
                        last = last.max(e.kv.mod_revision);
                    }
                    store.revision = last;
                    apply_change(c, &before, &store, vtep)?;
                    write_state(&c.host, "revision", &last.to_string())?;
                }
                // Nothing for 30 s: an idle store (etcd sends progress only every 10 minutes
                // by default) or a member cut off. A linearizable read tells them apart: it
                // needs a leader, and fails over to another member if this one has none. If it
                // is answered, the watch is opened again from the same revision, quietly.
                Err(e) if e.is(libc::ETIMEDOUT) && c.client.get(ROOT.as_bytes()).is_ok() => break,
                Err(e) => {
                    cli::say(&format!(
                        "{PROG}: watch: {e}; resuming from revision {}",
                        last + 1
                    ));
                    c.client.skip_member();
                    std::thread::sleep(Duration::from_millis(100));
                    break;
                }
            }
        }
    }
}

/// Applies what changed between two states of the store: only the entries that differ, from
/// what the previous state wanted (no kernel dump: the kernel was made equal to it).
fn apply_change(c: &Ctx, before: &Store, after: &Store, vtep: Ipv4Addr) -> Result<(), Failure> {
    for net in after.networks.values() {
        let vx = net.vxlan();
        let had = before.networks.get(&net.name).filter(|n| *n == net);
        let old = match had {
            Some(n) => wanted(before, n, vtep, None),
            None => {
                if host::ensure(c.trace, net, vtep)
                    .map_err(|e| fail("watch", &e))?
                    .1
                {
                    outln!("make network {}", net.name);
                }
                present(c.trace, &vx).map_err(|e| fail("watch", &e))?
            }
        };
        for (add, e) in diff(&old, &wanted(after, net, vtep, None)) {
            let line = format!("{} {e} dev {vx}", if add { "add" } else { "del" });
            apply(c.trace, &vx, add, &e).map_err(|err| fail(&format!("watch: {line}"), &err))?;
            outln!("{line}");
        }
    }
    for gone in before
        .networks
        .keys()
        .filter(|n| !after.networks.contains_key(*n))
    {
        host::teardown(c.trace, gone).map_err(|e| fail("watch", &e))?;
        outln!("remove network {gone}");
    }
    keep_hosts_files(c, after);
    Ok(())
}

pub fn main(args: Vec<String>) -> i32 {
    match run(args) {
        Ok(status) => status,
        Err(f) => {
            f.report(PROG);
            f.status
        }
    }
}

fn run(args: Vec<String>) -> Result<i32, Failure> {
    let (mut etcd, mut host, mut vtep) = (std::env::var("NETPLUMB_ETCD").ok(), None, None);
    let (mut explain, mut dry_run, mut json, mut force, mut ttl) =
        (false, false, false, false, 10i64);
    let mut batch = None;
    let mut files = tls::Files::default();
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let mut value = || {
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| Failure::usage(format!("option {a} needs a value")))
        };
        match a {
            "-h" | "--help" => {
                cli::emit(&mut std::io::stdout().lock(), USAGE)?;
                return Ok(EXIT_OK);
            }
            "-V" | "--version" => {
                outln!("{VERSION}");
                return Ok(EXIT_OK);
            }
            "--etcd" => etcd = Some(value()?),
            "--host" => match value()? {
                h if h.is_empty() || h.contains(['/', '\n']) => {
                    return Err(Failure::usage(
                        "--host: a host name is a non-empty word without '/' (it is a key's last part)",
                    ))
                }
                h => host = Some(h),
            },
            "--vtep" => vtep = Some(ipv4("--vtep", "address", &value()?)?),
            "--ttl" => ttl = cli::number::<i64>("--ttl", "seconds", &value()?, 2, 3600)?,
            "--via" => {
                return Err(Failure::usage(
                    "--via does not apply: overlayctl's store is etcd's JSON gateway and its kernel steps are netlink's",
                ))
            }
            "--cacert" => files.cacert = Some(value()?),
            "--cert" => files.cert = Some(value()?),
            "--key" => files.key = Some(value()?),
            "--explain" => explain = true,
            "--dry-run" => dry_run = true,
            "-j" | "--json" => json = true,
            "--force" => force = true,
            "-b" | "--batch" => batch = Some(value()?),
            // A command's own options go to it with their values (which may start with '-').
            _ if COMMAND_OPTIONS.contains(&a) => {
                rest.push(args[i].clone());
                if let Some(v) = args.get(i + 1) {
                    rest.push(v.clone());
                    i += 1;
                }
            }
            _ if a.starts_with('-') && a.len() > 1 => {
                return Err(Failure::usage(format!("unknown option '{a}'")))
            }
            _ => rest.push(args[i].clone()),
        }
        i += 1;
    }
    // The words are checked before anything else is needed: a mistyped command is a usage
    // error whether or not etcd is given or reachable.
    let lines = match &batch {
        None => vec![(0, rest)],
        Some(file) if rest.is_empty() => cli::read_batch(file)?,
        Some(_) => {
            return Err(Failure::usage(format!(
                "-b takes its commands from the file; unexpected '{}'",
                rest[0]
            )))
        }
    };
    for (line, words) in &lines {
        check_words(words).map_err(|f| match &batch {
            Some(file) => Failure {
                message: format!("{file}:{line}: {}", f.message),
                ..f
            },
            None => f,
        })?;
    }
    let etcd = etcd.ok_or_else(|| Failure::usage("--etcd URL (or NETPLUMB_ETCD) is needed"))?;
    let (endpoints, https) = parse_endpoints(&etcd).map_err(|e| Failure::usage(e.to_string()))?;
    let tls = tls::choose(https, &files).map_err(|e| Failure::usage(e.to_string()))?;
    let trace = Trace {
        explain,
        dry_run: false,
        prog: PROG,
    };
    let c = Ctx {
        client: Client::new(endpoints, tls, trace),
        trace,
        host: host.unwrap_or_else(hostname),
        vtep,
        json,
        force,
    };
    let Some(file) = batch else {
        return dispatch(&c, &lines[0].1, dry_run, ttl);
    };
    for (line, words) in lines {
        match dispatch(&c, &words, dry_run, ttl) {
            Ok(EXIT_OK) => {}
            Ok(status) => return Ok(status),
            Err(f) => {
                return Err(Failure {
                    message: format!("{file}:{line}: {}", f.message),
                    ..f
                })
            }
        }
    }
    Ok(EXIT_OK)
}

/// `net` or `ep` without one of its subcommands.
fn subcommands(cmd: &str, got: Option<&str>) -> Failure {
    let subs = if cmd == "net" {
        "create, rm or ls"
    } else {
        "add, rm or ls"
    };
    Failure::usage(match got {
        Some(g) => format!("{cmd}: {subs}, not '{g}'"),
        None => format!("{cmd}: {subs}"),
    })
}

/// The options that belong to a command rather than to overlayctl, each with a value.
const COMMAND_OPTIONS: [&str; 5] = ["--vni", "--subnet", "--mtu", "--ip", "--name"];

/// A command line's words, checked before the store is asked: the command and its
/// subcommand known, nothing after a command that takes nothing more. (Each command checks its
/// own arguments' values.)
fn check_words(words: &[String]) -> Result<(), Failure> {
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let unexpected = |cmd: &str, x: &str| {
        Err(Failure::usage(format!(
            "{cmd}: unexpected '{x}' (overlayctl --help)"
        )))
    };
    match w.as_slice() {
        [] => Err(Failure::usage("a command is needed (overlayctl --help)")),
        ["net", "create" | "rm" | "ls", ..] | ["ep", "add" | "rm" | "ls", ..] => Ok(()),
        [c @ ("net" | "ep")] => Err(subcommands(c, None)),
        [c @ ("net" | "ep"), sub, ..] => Err(subcommands(c, Some(sub))),
        ["sync", _, x, ..] => unexpected("sync", x),
        [c @ ("watch" | "status"), x, ..] => unexpected(c, x),
        ["sync" | "watch" | "status", ..] => Ok(()),
        [o, ..] => Err(Failure::usage(format!(
            "unknown command '{o}' (overlayctl --help)"
        ))),
    }
}

/// One command line (without the options).
fn dispatch(c: &Ctx, words: &[String], dry_run: bool, ttl: i64) -> Result<i32, Failure> {
    let (cmd, args) = (words[0].as_str(), &words[1..]);
    match cmd {
        "net" => net_cmd(c, args).map(|()| EXIT_OK),
        "ep" => ep_cmd(c, args).map(|()| EXIT_OK),
        "sync" => sync_cmd(c, args.first().map(String::as_str), dry_run).map(|_| EXIT_OK),
        "watch" => watch_cmd(c, ttl).map(|()| EXIT_OK),
        "status" => status_cmd(c),
        o => Err(Failure {
            status: EXIT_USAGE,
            ..Failure::usage(format!("unknown command '{o}' (overlayctl --help)"))
        }),
    }
}
