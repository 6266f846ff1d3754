//! What a bridge, a bridge port and a forwarding-database entry are, whichever kernel path
//! reported them. The ioctl, sysfs and netlink readers all fill these same structs, so the
//! programs print the same thing on every path.
//!
//! Times and timers are in centiseconds (`clock_t` at USER_HZ = 100), as all three paths
//! report them.

use crate::ifname::IfName;
use std::fmt;

pub mod ops;

/// A bridge identifier (`struct bridge_id` / `struct ifla_bridge_id`): priority and address.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct BridgeId {
    pub prio: [u8; 2],
    pub addr: [u8; 6],
}

impl BridgeId {
    pub fn from_bytes(b: &[u8; 8]) -> BridgeId {
        BridgeId {
            prio: [b[0], b[1]],
            addr: [b[2], b[3], b[4], b[5], b[6], b[7]],
        }
    }
}

/// `8000.0a6fba97546d`, as sysfs `bridge_id` and bridge-utils print it.
impl fmt::Display for BridgeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [p0, p1] = self.prio;
        let [a, b, c, d, e, g] = self.addr;
        write!(
            f,
            "{p0:02x}{p1:02x}.{a:02x}{b:02x}{c:02x}{d:02x}{e:02x}{g:02x}"
        )
    }
}

/// How much a reader fetches: `show` needs only the names, id and STP state; `showstp` all.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Detail {
    Summary,
    Full,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bridge {
    pub name: Option<IfName>,
    pub ifindex: u32,
    pub bridge_id: BridgeId,
    pub designated_root: BridgeId,
    pub root_port: u16,
    pub root_path_cost: u32,
    pub max_age: u32,
    pub hello_time: u32,
    pub forward_delay: u32,
    pub ageing_time: u32,
    pub hello_timer: u64,
    pub tcn_timer: u64,
    pub topology_change_timer: u64,
    pub gc_timer: u64,
    pub stp_state: u32,
    pub topology_change: bool,
    pub topology_change_detected: bool,
    /// Sorted by name, byte order (bridge-utils' `alphasort` in the C locale).
    pub ports: Vec<Port>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Port {
    pub name: Option<IfName>,
    pub ifindex: u32,
    pub port_no: u16,
    pub port_id: u16,
    pub priority: u16,
    /// `BR_STATE_*` from <linux/if_bridge.h>.
    pub state: u8,
    pub path_cost: u32,
    pub designated_root: BridgeId,
    pub designated_bridge: BridgeId,
    pub designated_port: u16,
    pub designated_cost: u32,
    pub message_age_timer: u64,
    pub forward_delay_timer: u64,
    pub hold_timer: u64,
    pub hairpin: bool,
    pub config_pending: bool,
    pub topology_change_ack: bool,
}

/// One forwarding-database entry as `brforward` records it (`struct __fdb_entry`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FdbEntry {
    pub mac: [u8; 6],
    /// Full port number: `port_no | port_hi << 8` (bridge-utils drops `port_hi`).
    pub port_no: u16,
    pub is_local: bool,
    /// Centiseconds since last seen; 0 for static and local entries.
    pub ageing_timer: u32,
}

impl Bridge {
    pub fn name_str(&self) -> String {
        self.name.map(|n| n.to_string()).unwrap_or_default()
    }

    pub fn sort_ports(&mut self) {
        self.ports.sort_by_key(|p| p.name);
    }
}

/// Port states, as `BR_STATE_*` number them.
pub fn port_state_name(state: u8) -> Option<&'static str> {
    [
        "disabled",
        "listening",
        "learning",
        "forwarding",
        "blocking",
    ]
    .get(state as usize)
    .copied()
}

/// Bridge settings brctl can change, with the kernel's accepted range (observed on 6.18 and in
/// net/bridge/br_stp.c) so that a bad value is refused before anything is sent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BridgeSetting {
    /// Centiseconds.
    AgeingTime,
    /// Centiseconds; 2..30 s only while STP is on (the kernel says ERANGE).
    ForwardDelay,
    /// Centiseconds, 1..10 s.
    HelloTime,
    /// Centiseconds, 6..40 s.
    MaxAge,
    /// 0..65535 (the kernel keeps a u16 and would wrap 65536 to 0 through sysfs).
    Priority,
    /// 0 off, 1 on (kernel STP).
    StpState,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PortSetting {
    /// 1..65535.
    PathCost,
    /// 0..63 (`BR_MAX_PORT_PRIORITY`).
    Priority,
    /// 0 or 1.
    Hairpin,
}

impl BridgeSetting {
    /// The accepted range in the unit the kernel takes (centiseconds for times).
    pub fn range(self) -> (u64, u64) {
        match self {
            BridgeSetting::AgeingTime | BridgeSetting::ForwardDelay => (0, u32::MAX as u64),
            BridgeSetting::HelloTime => (100, 1000),
            BridgeSetting::MaxAge => (600, 4000),
            BridgeSetting::Priority => (0, 65535),
            BridgeSetting::StpState => (0, 1),
        }
    }
}

impl PortSetting {
    pub fn range(self) -> (u64, u64) {
        match self {
            PortSetting::PathCost => (1, 65535),
            PortSetting::Priority => (0, 63),
            PortSetting::Hairpin => (0, 1),
        }
    }
}
