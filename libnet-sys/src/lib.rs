//! libnet-sys: everything netplumb says to the Linux kernel, one module per kernel interface.
//!
//! ```text
//!   programs (bins/)         argument parsing, printing
//!        │
//!   bridge::ops::Bridges     one step, on the path chosen: ioctl | sysfs | netlink
//!        │            │                 │
//!   ioctl (SIOC*)   sysfs (/sys/...)   netlink (socket, msg, attr, decode) → rtnl
//!        └────────────┴──── trace (--explain, --dry-run) ────┘
//! ```
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
