//! The routing table, on the ioctl path (`SIOCADDRT`/`SIOCDELRT`, read back from
//! `/proc/net/route`) or the netlink one (`RTM_NEWROUTE`/`RTM_DELROUTE`/`RTM_GETROUTE`).
//!
//! Both paths leave the same route: netlink is sent the way iproute2 sends it (protocol boot,
//! scope link without a gateway), which is what the kernel makes of an `rtentry`. Where the
//! ioctl path says less, it is an error rather than something else: it has only the main
//! table, IPv4 metrics up to 32766, and no IPv6 metric 0. Its add does not refuse a second
//! route to a destination at the same metric (no `NLM_F_EXCL`), so it is checked against
//! `/proc/net/route` first, as netlink's add refuses it.

use crate::error::{Error, Result};
use crate::ifname::IfName;
use crate::ioctl::route::{RouteV4, RouteV6};
use crate::kernel::{missing, Kernel};
use crate::netlink::rtnl::addr::{AF_INET, AF_INET6};
use crate::netlink::rtnl::route::{self as rt, RouteSpec, RT_TABLE_MAIN};
use crate::sysfs;
use crate::trace::Trace;
use crate::Via;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A route to add or delete, as the user said it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub dst: IpAddr,
    pub prefix: u8,
    pub gateway: Option<IpAddr>,
    pub dev: Option<IfName>,
    pub metric: Option<u32>,
    pub table: Option<u32>,
}

/// One route as shown: what the kernel said, the device by name. The ioctl path's reader
/// (`/proc/net/route`) does not say protocol, scope or preferred source: those are `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown {
    pub route: rt::Route,
    pub dev: Option<String>,
    pub protocol: Option<u8>,
    pub scope: Option<u8>,
    /// The device of each of `route.nexthops`, by name.
    pub nexthop_devs: Vec<Option<String>>,
}

pub struct Routes {
    k: Kernel,
    ioctl: bool,
}

impl Routes {
    /// `via`: ioctl or netlink (the default).
    pub fn new(trace: Trace, via: Option<Via>) -> Result<Routes> {
        let ioctl = Via::is_ioctl(via, "routes have no sysfs path (ioctl or netlink)")?;
        Ok(Routes {
            k: Kernel::new(trace),
            ioctl,
        })
    }

    pub fn trace(&self) -> &Trace {
        &self.k.trace
    }

    /// `route add`.
    pub fn add(&mut self, r: &Request) -> Result<()> {
        self.change(true, r)
    }

    /// `route del`: the first route that matches every field given.
    pub fn del(&mut self, r: &Request) -> Result<()> {
        self.change(false, r)
    }

    fn change(&mut self, add: bool, r: &Request) -> Result<()> {
        let object = format!("{}/{}", r.dst, r.prefix);
        if !self.ioctl {
            let oif = match &r.dev {
                Some(d) => Some(self.k.link(d)?.index),
                None => None,
            };
            let spec = RouteSpec {
                dst: r.dst,
                dst_len: r.prefix,
                gateway: r.gateway,
                oif,
                metric: r.metric,
                table: r.table,
            };
            let msg = if add {
                rt::new_route(&spec)
            } else {
                rt::del_route(&spec)
            };
            return self.k.nl()?.request(msg, &object);
        }
        if let Some(t) = r.table.filter(|&t| t != RT_TABLE_MAIN) {
            return Err(Error::invalid(
                format!("table {t}"),
                "SIOCADDRT and SIOCDELRT reach only the main table; use --via netlink",
            ));
        }
        match (r.dst, r.gateway) {
            (IpAddr::V4(dst), gw) => {
                let gateway = match gw {
                    Some(IpAddr::V4(g)) => Some(g),
                    None => None,
                    Some(IpAddr::V6(_)) => return Err(mixed(r)),
                };
                // What the request itself gets wrong is said before what the table holds.
                crate::ioctl::route::v4_metric(r.metric)?;
                if let Some(d) = &r.dev {
                    self.k.ctl()?.ifindex(d).map_err(missing(d))?;
                }
                if add && self.v4_exists(dst, r.prefix, r.metric.unwrap_or(0))? {
                    return Err(Error::errno("SIOCADDRT", object, libc::EEXIST));
                }
                let route = RouteV4 {
                    dst,
                    prefix: r.prefix,
                    gateway,
                    dev: r.dev.as_ref(),
                    metric: r.metric,
                };
                let res = self.k.inet()?.route_v4(add, &route);
                match &r.dev {
                    Some(d) => res.map_err(missing(d)),
                    None => res,
                }
            }
            (IpAddr::V6(dst), gw) => {
                let gateway = match gw {
                    Some(IpAddr::V6(g)) => Some(g),
                    None => None,
                    Some(IpAddr::V4(_)) => return Err(mixed(r)),
                };
                crate::ioctl::route::v6_metric(r.metric)?;
                let ifindex = match &r.dev {
                    Some(d) => Some(self.k.ctl()?.ifindex(d).map_err(missing(d))?),
                    None => None,
                };
                // Without NLM_F_EXCL a second gateway joins the route as another next hop.
                let metric = r.metric.unwrap_or(IP6_RT_PRIO_USER);
                if add && proc_ipv6_route_has(&self.k.trace, dst, r.prefix, metric)? {
                    return Err(Error::errno("SIOCADDRT", object, libc::EEXIST));
                }
                let route = RouteV6 {
                    dst,
                    prefix: r.prefix,
                    gateway,
                    ifindex,
                    metric: r.metric,
                };
                self.k.inet6()?.route_v6(add, &route)
            }
        }
    }

    /// Whether the main table has `dst/prefix` at `metric` (what `NLM_F_EXCL` refuses).
    fn v4_exists(&mut self, dst: Ipv4Addr, prefix: u8, metric: u32) -> Result<bool> {
        Ok(proc_net_route(&self.k.trace)?.iter().any(|s| {
            s.route.dst == Some(IpAddr::V4(dst))
                && s.route.dst_len == prefix
                && s.route.metric.unwrap_or(0) == metric
        }))
    }

    /// `route show`: the routes of `table` (main by default), IPv4 then IPv6 unless `family`
    /// picks one (`AF_INET`, `AF_INET6`).
    pub fn show(&mut self, family: Option<u8>, table: Option<u32>) -> Result<Vec<Shown>> {
        let table = table.unwrap_or(RT_TABLE_MAIN);
        let families: &[u8] = match family {
            Some(f) if f == AF_INET => &[AF_INET],
            Some(_) => &[AF_INET6],
            None => &[AF_INET, AF_INET6],
        };
        if self.ioctl {
            if table != RT_TABLE_MAIN {
                return Err(Error::invalid(
                    format!("table {table}"),
                    "/proc/net/route shows only the main table; use --via netlink",
                ));
            }
            if family == Some(AF_INET6) {
                return Err(Error::invalid(
                    "-6",
                    "the ioctl path has no reader for IPv6 routes (/proc/net/ipv6_route mixes \
                     the main table with the local one); use --via netlink",
                ));
            }
            return proc_net_route(&self.k.trace);
        }
        let names: HashMap<u32, String> = self
            .k
            .links()?
            .into_iter()
            .filter_map(|l| l.name.map(|n| (l.index, n.to_string())))
            .collect();
        let mut out = Vec::new();
        for &f in families {
            let routes = self.k.nl()?.dump(
                || rt::dump_routes(f, table),
                "",
                Vec::new,
                |v: &mut Vec<rt::Route>, m| {
                    let r = rt::parse_route(m)?;
                    // Cached exceptions are not table entries; a dump without strict
                    // checking also returns other tables.
                    if r.flags & rt::RTM_F_CLONED == 0 && r.table == table {
                        v.push(r);
                    }
                    Ok(())
                },
            );
            let routes = match routes {
                Ok(r) => r,
                // A kernel without IPv6 has no such family to dump.
                Err(e) if f == AF_INET6 && family.is_none() && e.is(libc::EAFNOSUPPORT) => continue,
                // A table is made with its first route (IPv4's main one too): none yet is empty.
                Err(e) if e.is(libc::ENOENT) => continue,
                Err(e) => return Err(e),
            };
            out.extend(routes.into_iter().map(|r| {
                Shown {
                    dev: r.oif.and_then(|i| names.get(&i).cloned()),
                    nexthop_devs: r
                        .nexthops
                        .iter()
                        .map(|n| names.get(&n.oif).cloned())
                        .collect(),
                    protocol: Some(r.protocol),
                    scope: Some(r.scope),
                    route: r,
                }
            }));
        }
        Ok(out)
    }
}

/// The metric the kernel gives an IPv6 route that names none (<net/ip6_route.h>).
const IP6_RT_PRIO_USER: u32 = 1024;

/// Whether `/proc/net/ipv6_route` has `dst/prefix` at `metric`. It lists every table, so a
/// local-table route of the same destination and metric (rare: those have metric 0, or 256 for
/// ff00::/8) reads as present too.
fn proc_ipv6_route_has(trace: &Trace, dst: Ipv6Addr, prefix: u8, metric: u32) -> Result<bool> {
    let raw = sysfs::read(trace, "/proc/net/ipv6_route")?;
    Ok(ipv6_route_has(&raw, dst, prefix, metric))
}

/// Whether the text of `/proc/net/ipv6_route` has `dst/prefix` at `metric` (apart from the
/// read, for the fuzzer).
pub fn ipv6_route_has(raw: &[u8], dst: Ipv6Addr, prefix: u8, metric: u32) -> bool {
    let want = (
        format!("{:032x}", u128::from(dst)),
        format!("{prefix:02x}"),
        format!("{metric:08x}"),
    );
    String::from_utf8_lossy(raw).lines().any(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        f.len() >= 6 && (f[0], f[1], f[5]) == (&want.0, &want.1, &want.2)
    })
}

fn mixed(r: &Request) -> Error {
    Error::invalid(
        format!("{}/{}", r.dst, r.prefix),
        "the gateway's address family differs from the destination's",
    )
}

/// The main table's IPv4 routes as `/proc/net/route` lists them (what `route -n` reads).
/// Addresses are hex of the in-memory (network order) 32-bit word.
pub fn proc_net_route(trace: &Trace) -> Result<Vec<Shown>> {
    parse_proc_net_route(&sysfs::read(trace, "/proc/net/route")?)
}

/// The text of `/proc/net/route` read (apart from the read, for the fuzzer).
pub fn parse_proc_net_route(raw: &[u8]) -> Result<Vec<Shown>> {
    const PATH: &str = "/proc/net/route";
    let text = String::from_utf8_lossy(raw);
    let bad = |line: &str| Error::malformed(format!("read {PATH}"), format!("line {line:?}"));
    let hex = |s: &str| u32::from_str_radix(s, 16);
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            return Err(bad(line));
        }
        let (Ok(dst), Ok(gw), Ok(flags), Ok(metric), Ok(mask)) = (
            hex(f[1]),
            hex(f[2]),
            hex(f[3]),
            f[6].parse::<u32>(),
            hex(f[7]),
        ) else {
            return Err(bad(line));
        };
        let v4 = |w: u32| IpAddr::V4(Ipv4Addr::from(w.to_ne_bytes()));
        let gateway = (flags & crate::ioctl::route::RTF_GATEWAY as u32 != 0).then(|| v4(gw));
        let dst_len = u32::from_be_bytes(mask.to_ne_bytes()).count_ones() as u8;
        let route = rt::Route {
            family: AF_INET,
            // As netlink says it: a default route has no destination.
            dst: (dst_len > 0).then(|| v4(dst)),
            dst_len,
            table: RT_TABLE_MAIN,
            protocol: 0,
            scope: 0,
            ty: rt::RTN_UNICAST,
            flags: 0,
            gateway,
            oif: None,
            prefsrc: None,
            metric: (metric != 0).then_some(metric),
            pref: None,
            nexthops: Vec::new(),
        };
        out.push(Shown {
            route,
            dev: (f[0] != "*").then(|| f[0].to_string()),
            protocol: None,
            scope: None,
            nexthop_devs: Vec::new(),
        });
    }
    Ok(out)
}
