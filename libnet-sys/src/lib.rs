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
pub mod ifname;
pub mod ioctl;
pub mod netlink;
pub mod netns;
pub mod sysfs;
pub mod trace;

pub use error::{Error, Result};
pub use ifname::IfName;
pub use trace::Trace;
