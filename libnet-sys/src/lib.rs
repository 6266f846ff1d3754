//! libnet-sys: everything netplumb says to the Linux kernel (or to a store), one module per
//! kernel interface. The programs (`bins/`) parse arguments and print; every system call is
//! made here, and each kind is made in one place:
//!
//! ```text
//!   programs (bins/)            argument parsing, printing, exit codes
//!        │
//!   steps on a path             bridge::ops, iface, route, neigh, fdb, veth, vxlan,
//!   (--via where there are two)  nat::ops, netns, overlay, kernel (sockets kept for -b)
//!        │               │                 │                    │              │
//!   ioctl/ (SIOC*)   sysfs/ (/sys, /proc)  netlink/             xtables/      etcd/
//!   ctl socket       strict reads/writes   rtnl/, nft/,         IPT_SO_*      HTTP to the
//!                                          ctnetlink → core     sockopts      JSON gateway
//!        └────────────────┴────── trace (--explain, --dry-run) ─────┘
//!   rustix makes the sockets, files, namespaces, mounts, ids and capabilities; libc is left
//!   for what rustix cannot do safely (the SIOC* ioctls and their structs, xtables socket
//!   options, NETLINK_EXT_ACK, strerror).
//! ```
//!
//! Where each kernel interface lives:
//!
//! | module | kernel interface |
//! |---|---|
//! | [`ioctl`] | the `SIOC*` ioctls on one control socket: [`ioctl::iface`] (`SIOC[GS]IF*`, `SIOCGIFCONF`), [`ioctl::bridge`] (`SIOCBR*`, `SIOCDEVPRIVATE BRCTL_*`), [`ioctl::route`] (`SIOCADDRT`/`SIOCDELRT`), [`ioctl::arp`] (`SIOC[SGD]ARP`), [`ioctl::ethtool`] (`SIOCETHTOOL`) |
//! | [`sysfs`] | files under `/sys` and `/proc`: [`sysfs::bridge`] (`/sys/class/net/BR/bridge/*`, `brport/*`, `brforward`), [`sysfs::sysctl`] (`/proc/sys/net` switches), [`sysfs::arp`] (`/proc/net/arp`) |
//! | [`netlink`] | netlink sockets. The core, which knows no family: [`netlink::socket`] (requests, dumps, multi-message datagrams), [`netlink::ack`] (acks, extended acks), [`netlink::msg`] and [`netlink::attr`] (build, read), [`netlink::space`] (attribute spaces and tables, each attribute declared once), [`netlink::decode`] (`--explain`), [`netlink::family`] (what a family provides). The families: [`netlink::rtnl`] (`NETLINK_ROUTE`: link, addr, route, neigh, nsid), [`netlink::nft`] (nf_tables and its batches) and [`netlink::ctnetlink`] (conntrack), both on `NETLINK_NETFILTER` ([`netlink::nfnetlink`]) |
//! | [`xtables`] | legacy iptables: `IPT_SO_GET_INFO`/`GET_ENTRIES`/`SET_REPLACE` on a raw socket, the xtables lock |
//! | [`netns`] | namespaces: `setns`, `unshare`, bind mounts on `/run/netns` ([`netns::named`]), the walk that follows no symlink ([`netns::walk`]), `ip netns exec`'s environment ([`netns::exec`]), `/etc/netns` hosts ([`netns::hosts`]) |
//! | [`caps`] | `capget`/`capset`, the bounding and ambient sets, file-system ids |
//! | [`etcd`] | etcd v3 over its JSON gateway (HTTP/1.1 on a TCP socket): kv, lease, watch |
//! | [`bridge`] | bridges and ports on the ioctl, sysfs or netlink path ([`bridge::ops`]) |
//! | [`iface`], [`route`], [`neigh`] | an interface's flags, addresses, MTU, MAC, name; routes; ARP/NDP entries: each on the ioctl or the netlink path |
//! | [`veth`], [`vxlan`], [`fdb`] | veth pairs, VXLAN devices, FDB entries: rtnetlink only (the bridge FDB also read by ioctl and sysfs) |
//! | [`nat`] | the NAT rule model and its words ([`nat::spec`]), checked once for both paths ([`nat::change`]), made in nf_tables ([`nat::nft`], [`nat::ops`]) or xtables ([`nat::xt`]); host switches ([`nat::host`]) |
//! | [`overlay`] | the overlay's keys in etcd, made real with vxlan, fdb and neigh |
//! | [`kernel`] | the sockets a run of steps opens once and keeps (batch mode), across namespaces |
//! | [`trace`], [`error`], [`ifname`] | `--explain`/`--dry-run` output; the one error type; checked interface names |
//!
//! The library never prints except through [`trace`] when asked to, never exits, and keeps no
//! global state: sockets are values the caller owns.

pub mod bridge;
pub mod caps;
pub mod error;
pub mod etcd;
pub mod fdb;
pub mod iface;
pub mod ifname;
pub mod ioctl;
pub mod kernel;
pub mod nat;
pub mod neigh;
pub mod netlink;
pub mod netns;
pub mod overlay;
pub mod route;
pub mod sysfs;
pub mod trace;
pub mod veth;
pub mod vxlan;
pub mod xtables;

pub use error::{Error, Result};

/// The kernel path a step takes, where there is more than one (`--via`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Via {
    Ioctl,
    Sysfs,
    Netlink,
}

impl Via {
    /// For steps with an ioctl and a netlink path (netlink the default): whether `via` picks
    /// the ioctl one. `what` names the steps in the refusal of sysfs.
    pub fn is_ioctl(via: Option<Via>, what: &'static str) -> Result<bool> {
        match via {
            None | Some(Via::Netlink) => Ok(false),
            Some(Via::Ioctl) => Ok(true),
            Some(Via::Sysfs) => Err(Error::invalid("sysfs", what)),
        }
    }

    pub fn parse(s: &str) -> Option<Via> {
        match s {
            "ioctl" => Some(Via::Ioctl),
            "sysfs" => Some(Via::Sysfs),
            "netlink" => Some(Via::Netlink),
            _ => None,
        }
    }
}
pub use ifname::IfName;
pub use trace::Trace;
