//! Bridge attributes in sysfs (net/bridge/br_sysfs_br.c, br_sysfs_if.c): `BR/bridge/*`,
//! `BR/brif/`, `PORT/brport/*`, and the binary `BR/brforward` table.

use super::{list_dir, read, read_num, write, CLASS_NET};
use crate::bridge::{Bridge, BridgeId, BridgeSetting, Detail, FdbEntry, Port, PortSetting};
use crate::error::{Error, Result};
use crate::ifname::IfName;
use crate::ioctl::bridge::FdbEntryRaw;
use crate::trace::{Access, Trace};

pub fn bridge_file(what: BridgeSetting) -> &'static str {
    match what {
        BridgeSetting::AgeingTime => "ageing_time",
        BridgeSetting::ForwardDelay => "forward_delay",
        BridgeSetting::HelloTime => "hello_time",
        BridgeSetting::MaxAge => "max_age",
        BridgeSetting::Priority => "priority",
        BridgeSetting::StpState => "stp_state",
    }
}

pub fn port_file(what: PortSetting) -> &'static str {
    match what {
        PortSetting::PathCost => "path_cost",
        PortSetting::Priority => "priority",
        PortSetting::Hairpin => "hairpin_mode",
    }
}

/// A device is a bridge exactly when `/sys/class/net/NAME/bridge` is a directory.
pub fn is_bridge(trace: &Trace, name: &[u8]) -> bool {
    let path = format!("{CLASS_NET}/{}/bridge", String::from_utf8_lossy(name));
    trace.request(Access::Read, format_args!("stat {path}"));
    let yes = std::fs::metadata(&path)
        .map(|m| m.is_dir())
        .unwrap_or(false);
    trace.outcome(
        Access::Read,
        Ok(format_args!("{}", if yes { "directory" } else { "absent" })),
    );
    yes
}

pub fn set_bridge(trace: &Trace, bridge: &IfName, what: BridgeSetting, value: u64) -> Result<()> {
    write(
        trace,
        &format!("{CLASS_NET}/{bridge}/bridge/{}", bridge_file(what)),
        value,
    )
}

pub fn set_port(trace: &Trace, port: &IfName, what: PortSetting, value: u64) -> Result<()> {
    write(
        trace,
        &format!("{CLASS_NET}/{port}/brport/{}", port_file(what)),
        value,
    )
}

/// `bridge_id` and friends: `8000.0a6fba97546d`.
fn read_id(trace: &Trace, path: &str) -> Result<BridgeId> {
    let raw = read(trace, path)?;
    let text = std::str::from_utf8(&raw).unwrap_or("").trim_end();
    let bad = || {
        Error::malformed(
            format!("read {path}"),
            format!("{text:?} is not a bridge id"),
        )
    };
    let (prio, addr) = text.split_once('.').ok_or_else(bad)?;
    let byte = |s: &str, i: usize| {
        s.get(i..i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or_else(bad)
    };
    if prio.len() != 4 || addr.len() != 12 {
        return Err(bad());
    }
    let mut id = BridgeId {
        prio: [byte(prio, 0)?, byte(prio, 2)?],
        addr: [0; 6],
    };
    for (i, a) in id.addr.iter_mut().enumerate() {
        *a = byte(addr, 2 * i)?;
    }
    Ok(id)
}

/// The bridge's settings and, per port, its `brport/` attributes (with `Detail::Full`), or
/// only the bridge id, STP state and port names (with `Detail::Summary`, all `show` needs).
pub fn bridge_info(trace: &Trace, name: &IfName, detail: Detail) -> Result<Bridge> {
    let dir = format!("{CLASS_NET}/{name}/bridge");
    let num = |f: &str| read_num(trace, &format!("{dir}/{f}"));
    let mut br = Bridge {
        name: Some(*name),
        bridge_id: read_id(trace, &format!("{dir}/bridge_id"))?,
        stp_state: num("stp_state")? as u32,
        ..Bridge::default()
    };
    if detail == Detail::Full {
        br.designated_root = read_id(trace, &format!("{dir}/root_id"))?;
        br.root_port = num("root_port")? as u16;
        br.root_path_cost = num("root_path_cost")? as u32;
        br.max_age = num("max_age")? as u32;
        br.hello_time = num("hello_time")? as u32;
        br.forward_delay = num("forward_delay")? as u32;
        br.ageing_time = num("ageing_time")? as u32;
        br.hello_timer = num("hello_timer")?;
        br.tcn_timer = num("tcn_timer")?;
        br.topology_change_timer = num("topology_change_timer")?;
        br.gc_timer = num("gc_timer")?;
        br.topology_change = num("topology_change")? != 0;
        br.topology_change_detected = num("topology_change_detected")? != 0;
    }
    for port in list_dir(trace, &format!("{CLASS_NET}/{name}/brif"))? {
        let pname = IfName::from_bytes(&port).map_err(|_| {
            Error::malformed(
                format!("readdir {CLASS_NET}/{name}/brif"),
                "a port name is not an interface name",
            )
        })?;
        let mut p = Port {
            name: Some(pname),
            ..Port::default()
        };
        if detail == Detail::Full {
            port_info(trace, &pname, &mut p)?;
        }
        br.ports.push(p);
    }
    Ok(br)
}

fn port_info(trace: &Trace, name: &IfName, p: &mut Port) -> Result<()> {
    let dir = format!("{CLASS_NET}/{name}/brport");
    let num = |f: &str| read_num(trace, &format!("{dir}/{f}"));
    p.port_no = num("port_no")? as u16;
    p.port_id = num("port_id")? as u16;
    p.priority = num("priority")? as u16;
    p.state = num("state")? as u8;
    p.path_cost = num("path_cost")? as u32;
    p.designated_root = read_id(trace, &format!("{dir}/designated_root"))?;
    p.designated_bridge = read_id(trace, &format!("{dir}/designated_bridge"))?;
    p.designated_port = num("designated_port")? as u16;
    p.designated_cost = num("designated_cost")? as u32;
    p.message_age_timer = num("message_age_timer")?;
    p.forward_delay_timer = num("forward_delay_timer")?;
    p.hold_timer = num("hold_timer")?;
    p.hairpin = num("hairpin_mode")? != 0;
    p.config_pending = num("config_pending")? != 0;
    p.topology_change_ack = num("change_ack")? != 0;
    Ok(())
}

/// `BR/brforward`: whole 16-byte records, read until the kernel returns none. The file is
/// re-read from offset 0 in one pass of large reads; each read returns whole records only.
pub fn fdb_entries(trace: &Trace, bridge: &IfName) -> Result<Vec<FdbEntry>> {
    use std::io::Read;
    const REC: usize = std::mem::size_of::<FdbEntryRaw>();
    let path = format!("{CLASS_NET}/{bridge}/brforward");
    trace.request(Access::Read, format_args!("read {path}"));
    let fail = |e: std::io::Error| {
        let errno = e.raw_os_error().unwrap_or(libc::EIO);
        trace.outcome(Access::Read, Err(errno));
        Error::errno(format!("read {path}"), "", errno)
    };
    let mut f = std::fs::File::open(&path).map_err(fail)?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 256 * REC];
    loop {
        let n = f.read(&mut buf).map_err(fail)?;
        if n == 0 {
            break;
        }
        if n % REC != 0 {
            return Err(Error::malformed(
                format!("read {path}"),
                format!("{n} bytes is not a whole number of {REC}-byte records"),
            ));
        }
        out.extend(
            buf[..n]
                .chunks_exact(REC)
                .filter_map(|r| r.try_into().ok())
                .map(|r| FdbEntryRaw::from_record(r).entry()),
        );
    }
    trace.outcome(Access::Read, Ok(format_args!("{} records", out.len())));
    Ok(out)
}
