//! The forwarding switches under `/proc/sys/net`: `ipv4/ip_forward`, `ipv{4,6}/conf/IF/...`,
//! `bridge/bridge-nf-call-*`.
//!
//! Unlike sysfs, a file under `/proc/sys/net` is the *opener's* network namespace's (the kernel
//! picks the namespace at open), so these reads and writes always act where the caller runs.
//! Writing one needs CAP_NET_ADMIN in the user namespace that owns that network namespace, or
//! to be that user namespace's root: the kernel lets its uid 0 write most switches without the
//! capability (net_ctl_permissions), but not IPv4 forwarding, which checks CAP_NET_ADMIN itself.

use super::{read, write};
use crate::error::{Error, Result};
use crate::trace::Trace;

pub const PROC_SYS_NET: &str = "/proc/sys/net";

/// A sysctl under `net.`, by its dotted name (`net.ipv4.conf.eth0.forwarding`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// The components after `net`: `["ipv4", "conf", "eth0.100", "forwarding"]`.
    parts: Vec<String>,
}

impl Key {
    pub fn new(parts: &[&str]) -> Key {
        Key {
            parts: parts.iter().map(|p| p.to_string()).collect(),
        }
    }

    /// `net.ipv4.ip_forward`
    pub fn ip_forward() -> Key {
        Key::new(&["ipv4", "ip_forward"])
    }

    /// `net.ipv4.conf.IF.KNOB` (`ipv6` with `v6`); IF may be `all` or `default`.
    pub fn conf(v6: bool, iface: &str, knob: &str) -> Key {
        Key::new(&[if v6 { "ipv6" } else { "ipv4" }, "conf", iface, knob])
    }

    pub fn path(&self) -> String {
        format!("{PROC_SYS_NET}/{}", self.parts.join("/"))
    }

    /// The name as `sysctl` and `sysctl.conf` take it: dots between components, or slashes
    /// throughout when a component holds a dot (an interface `eth0.100`), which procps reads
    /// as the separator then.
    pub fn name(&self) -> String {
        let sep = if self.parts.iter().any(|p| p.contains('.')) {
            "/"
        } else {
            "."
        };
        format!("net{sep}{}", self.parts.join(sep))
    }

    /// The interface a `conf` key is about.
    pub fn iface(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [_, conf, i, _] if conf == "conf" => Some(i),
            _ => None,
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// One switch written: its value before and after (the same when nothing was written).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub key: Key,
    pub old: i64,
    pub new: i64,
}

impl Change {
    pub fn changed(&self) -> bool {
        self.old != self.new
    }
}

/// Reads one switch as the number the kernel prints; `ENOENT` (object = the key) when the
/// kernel has no such file: no such interface, or no IPv6 or br_netfilter in this kernel.
pub fn get(trace: &Trace, key: &Key) -> Result<i64> {
    let path = key.path();
    let raw = read(trace, &path).map_err(|e| Error {
        object: key.name(),
        ..e
    })?;
    let text = String::from_utf8_lossy(&raw);
    text.trim_end().parse::<i64>().map_err(|_| {
        Error::malformed(
            format!("read {path}"),
            format!("{:?} is not a number", text.trim_end()),
        )
    })
}

/// Reads, compares, and writes only when the value differs.
pub fn set(trace: &Trace, key: &Key, value: i64) -> Result<Change> {
    let old = get(trace, key)?;
    if old != value {
        write(trace, &key.path(), value as u64).map_err(|e| Error {
            object: key.name(),
            ..e
        })?;
    }
    Ok(Change {
        key: key.clone(),
        old,
        new: value,
    })
}

/// Whether the kernel has this switch (IPv6 and br_netfilter may be absent).
pub fn exists(key: &Key) -> bool {
    std::path::Path::new(&key.path()).exists()
}

/// The interfaces under `net.ipv4.conf` (or ipv6): `all`, `default`, then every device, in
/// byte order.
pub fn conf_ifaces(trace: &Trace, v6: bool) -> Result<Vec<String>> {
    let dir = format!("{PROC_SYS_NET}/{}/conf", if v6 { "ipv6" } else { "ipv4" });
    let mut names: Vec<String> = super::list_dir(trace, &dir)?
        .into_iter()
        .map(|n| String::from_utf8_lossy(&n).into_owned())
        .filter(|n| n != "all" && n != "default")
        .collect();
    names.insert(0, "default".into());
    names.insert(0, "all".into());
    Ok(names)
}

/// The bridge netfilter switches, present once `br_netfilter` is loaded.
pub const BRIDGE_NF: [&str; 3] = [
    "bridge-nf-call-arptables",
    "bridge-nf-call-iptables",
    "bridge-nf-call-ip6tables",
];

pub fn bridge_nf(knob: &str) -> Key {
    Key::new(&["bridge", knob])
}
