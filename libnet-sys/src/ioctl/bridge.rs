//! Bridge ioctls: `SIOCBRADDBR`/`SIOCBRDELBR`/`SIOCBRADDIF`/`SIOCBRDELIF`, and the legacy
//! `SIOCGIFBR` / `SIOCDEVPRIVATE` + `BRCTL_*` calls that read and set bridge and port
//! parameters without sysfs (net/bridge/br_ioctl.c).

use super::{ifreq, CtlSocket};
use crate::bridge::{Bridge, BridgeId, BridgeSetting, FdbEntry, Port, PortSetting};
use crate::error::{Error, Result};
use crate::ifname::IfName;
use crate::trace::Access;

// <linux/sockios.h>
pub const SIOCGIFBR: (libc::c_ulong, &str) = (0x8940, "SIOCGIFBR");
pub const SIOCBRADDBR: (libc::c_ulong, &str) = (0x89a0, "SIOCBRADDBR");
pub const SIOCBRDELBR: (libc::c_ulong, &str) = (0x89a1, "SIOCBRDELBR");
pub const SIOCBRADDIF: (libc::c_ulong, &str) = (0x89a2, "SIOCBRADDIF");
pub const SIOCBRDELIF: (libc::c_ulong, &str) = (0x89a3, "SIOCBRDELIF");
pub const SIOCDEVPRIVATE: (libc::c_ulong, &str) = (0x89f0, "SIOCDEVPRIVATE");

// <linux/if_bridge.h>
pub const BRCTL_GET_BRIDGES: (libc::c_ulong, &str) = (1, "BRCTL_GET_BRIDGES");
pub const BRCTL_GET_BRIDGE_INFO: (libc::c_ulong, &str) = (6, "BRCTL_GET_BRIDGE_INFO");
pub const BRCTL_GET_PORT_LIST: (libc::c_ulong, &str) = (7, "BRCTL_GET_PORT_LIST");
pub const BRCTL_SET_BRIDGE_FORWARD_DELAY: (libc::c_ulong, &str) =
    (8, "BRCTL_SET_BRIDGE_FORWARD_DELAY");
pub const BRCTL_SET_BRIDGE_HELLO_TIME: (libc::c_ulong, &str) = (9, "BRCTL_SET_BRIDGE_HELLO_TIME");
pub const BRCTL_SET_BRIDGE_MAX_AGE: (libc::c_ulong, &str) = (10, "BRCTL_SET_BRIDGE_MAX_AGE");
pub const BRCTL_SET_AGEING_TIME: (libc::c_ulong, &str) = (11, "BRCTL_SET_AGEING_TIME");
pub const BRCTL_GET_PORT_INFO: (libc::c_ulong, &str) = (13, "BRCTL_GET_PORT_INFO");
pub const BRCTL_SET_BRIDGE_STP_STATE: (libc::c_ulong, &str) = (14, "BRCTL_SET_BRIDGE_STP_STATE");
pub const BRCTL_SET_BRIDGE_PRIORITY: (libc::c_ulong, &str) = (15, "BRCTL_SET_BRIDGE_PRIORITY");
pub const BRCTL_SET_PORT_PRIORITY: (libc::c_ulong, &str) = (16, "BRCTL_SET_PORT_PRIORITY");
pub const BRCTL_SET_PATH_COST: (libc::c_ulong, &str) = (17, "BRCTL_SET_PATH_COST");
pub const BRCTL_GET_FDB_ENTRIES: (libc::c_ulong, &str) = (18, "BRCTL_GET_FDB_ENTRIES");

/// `BR_MAX_PORTS` (net/bridge/br_private.h): the size of the port table GET_PORT_LIST fills.
const BR_MAX_PORTS: usize = 1 << 10;
/// The most bridges BRCTL_GET_BRIDGES can report: the kernel refuses a table of 2048 or more
/// (br_ioctl.c, old_deviceless) and has no offset to page with.
const MAX_BRIDGES: usize = 2047;

/// `struct __bridge_info` from <linux/if_bridge.h>.
#[repr(C, align(8))]
#[derive(Default)]
struct BridgeInfoRaw {
    designated_root: [u8; 8],
    bridge_id: [u8; 8],
    root_path_cost: u32,
    max_age: u32,
    hello_time: u32,
    forward_delay: u32,
    bridge_max_age: u32,
    bridge_hello_time: u32,
    bridge_forward_delay: u32,
    topology_change: u8,
    topology_change_detected: u8,
    root_port: u8,
    stp_enabled: u8,
    ageing_time: u32,
    gc_interval: u32,
    hello_timer_value: u32,
    tcn_timer_value: u32,
    topology_change_timer_value: u32,
    gc_timer_value: u32,
}

/// `struct __port_info` from <linux/if_bridge.h>.
#[repr(C, align(8))]
#[derive(Default)]
struct PortInfoRaw {
    designated_root: [u8; 8],
    designated_bridge: [u8; 8],
    port_id: u16,
    designated_port: u16,
    path_cost: u32,
    designated_cost: u32,
    state: u8,
    top_change_ack: u8,
    config_pending: u8,
    unused0: u8,
    message_age_timer_value: u32,
    forward_delay_timer_value: u32,
    hold_timer_value: u32,
}

/// `struct __fdb_entry` from <linux/if_bridge.h>; also the record layout of `brforward`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct FdbEntryRaw {
    pub mac_addr: [u8; 6],
    pub port_no: u8,
    pub is_local: u8,
    pub ageing_timer_value: u32,
    pub port_hi: u8,
    pub pad0: u8,
    pub unused: u16,
}

// The kernel copies these structs whole; their layout must match its own exactly. The u64
// ids of the C structs are byte arrays here (the kernel memcpy()s a struct bridge_id into
// them: bytes, not numbers), so align(8) restores the C struct's tail padding.
const _: () = assert!(std::mem::size_of::<BridgeInfoRaw>() == 72);
const _: () = assert!(std::mem::offset_of!(BridgeInfoRaw, ageing_time) == 48);
const _: () = assert!(std::mem::offset_of!(BridgeInfoRaw, gc_timer_value) == 68);
const _: () = assert!(std::mem::size_of::<PortInfoRaw>() == 48);
const _: () = assert!(std::mem::offset_of!(PortInfoRaw, state) == 28);
const _: () = assert!(std::mem::offset_of!(PortInfoRaw, hold_timer_value) == 40);
const _: () = assert!(std::mem::size_of::<FdbEntryRaw>() == 16);

impl FdbEntryRaw {
    /// One record as `brforward` and `BRCTL_GET_FDB_ENTRIES` lay it out (host byte order).
    pub fn from_record(r: &[u8; 16]) -> FdbEntryRaw {
        FdbEntryRaw {
            mac_addr: [r[0], r[1], r[2], r[3], r[4], r[5]],
            port_no: r[6],
            is_local: r[7],
            ageing_timer_value: u32::from_ne_bytes([r[8], r[9], r[10], r[11]]),
            port_hi: r[12],
            pad0: r[13],
            unused: u16::from_ne_bytes([r[14], r[15]]),
        }
    }

    pub fn entry(&self) -> FdbEntry {
        FdbEntry {
            mac: self.mac_addr,
            port_no: self.port_no as u16 | (self.port_hi as u16) << 8,
            is_local: self.is_local != 0,
            ageing_timer: self.ageing_timer_value,
        }
    }
}

impl CtlSocket {
    /// `SIOCBRADDBR`: create bridge `name`.
    pub fn add_bridge(&self, name: &IfName) -> Result<()> {
        let mut buf = *name.as_ifr_name();
        // SAFETY: SIOCBRADDBR reads a NUL-terminated name of at most IFNAMSIZ bytes.
        unsafe {
            self.call(
                SIOCBRADDBR,
                buf.as_mut_ptr().cast(),
                Access::Write,
                name,
                format_args!("\"{name}\""),
            )?
        };
        Ok(())
    }

    /// `SIOCBRDELBR`: delete bridge `name` (`EBUSY` while it is up, `ENXIO` if there is none).
    pub fn del_bridge(&self, name: &IfName) -> Result<()> {
        let mut buf = *name.as_ifr_name();
        // SAFETY: as for SIOCBRADDBR.
        unsafe {
            self.call(
                SIOCBRDELBR,
                buf.as_mut_ptr().cast(),
                Access::Write,
                name,
                format_args!("\"{name}\""),
            )?
        };
        Ok(())
    }

    /// `SIOCBRADDIF` / `SIOCBRDELIF`: attach or detach interface `port` (an ifindex).
    pub fn bridge_port(&self, bridge: &IfName, port: u32, add: bool) -> Result<()> {
        let req = if add { SIOCBRADDIF } else { SIOCBRDELIF };
        let mut ifr = ifreq(bridge);
        ifr.ifr_ifru.ifru_ifindex = port as libc::c_int;
        // SAFETY: these ioctls read ifr_name and ifr_ifindex.
        unsafe {
            self.call(
                req,
                (&mut ifr as *mut libc::ifreq).cast(),
                Access::Write,
                bridge,
                format_args!("{{ifr_name=\"{bridge}\", ifr_ifindex={port}}}"),
            )?
        };
        Ok(())
    }

    /// One `SIOCDEVPRIVATE` call on `bridge` with `args` = `{BRCTL_*, a1, a2, a3}`.
    fn devprivate(
        &self,
        bridge: &IfName,
        cmd: (libc::c_ulong, &'static str),
        a: [libc::c_ulong; 3],
        access: Access,
        shown: &str,
    ) -> Result<()> {
        let mut args: [libc::c_ulong; 4] = [cmd.0, a[0], a[1], a[2]];
        let mut ifr = ifreq(bridge);
        ifr.ifr_ifru.ifru_data = args.as_mut_ptr().cast();
        // SAFETY: old_dev_ioctl() copies 4 unsigned longs from ifr_data; the pointers in them
        // (when cmd reads or writes memory) point to buffers that outlive the call.
        unsafe {
            self.call(
                SIOCDEVPRIVATE,
                (&mut ifr as *mut libc::ifreq).cast(),
                access,
                bridge,
                format_args!("{{ifr_name=\"{bridge}\", ifr_data={{{}, {shown}}}}}", cmd.1),
            )
        }
        .map(|_| ())
        .map_err(|e| Error {
            step: cmd.1.into(),
            ..e
        })
    }

    /// `SIOCGIFBR {BRCTL_GET_BRIDGES}`: the ifindexes of every bridge in the caller's namespace.
    pub fn bridge_indexes(&self) -> Result<Vec<u32>> {
        let mut idx = vec![0 as libc::c_int; MAX_BRIDGES];
        let mut args: [libc::c_ulong; 3] = [
            BRCTL_GET_BRIDGES.0,
            idx.as_mut_ptr() as libc::c_ulong,
            MAX_BRIDGES as libc::c_ulong,
        ];
        // SAFETY: old_deviceless() reads 3 unsigned longs and writes up to args[2] ints to args[1].
        let n = unsafe {
            self.call(
                SIOCGIFBR,
                args.as_mut_ptr().cast(),
                Access::Read,
                &"",
                format_args!("{{BRCTL_GET_BRIDGES, buf, {MAX_BRIDGES}}}"),
            )?
        };
        if n as usize >= MAX_BRIDGES {
            return Err(Error::state(
                "BRCTL_GET_BRIDGES",
                format!("the ioctl lists at most {MAX_BRIDGES} bridges and may have cut the list; use --via netlink"),
            ));
        }
        idx.truncate(n.max(0) as usize);
        Ok(idx.into_iter().map(|i| i as u32).collect())
    }

    /// `BRCTL_GET_BRIDGE_INFO`, and with `ports`, `BRCTL_GET_PORT_LIST` and `BRCTL_GET_PORT_INFO`
    /// for each port. Port names come from `SIOCGIFNAME`. No ioctl reports hairpin mode or
    /// port priority; the caller fills those from another path if it needs them.
    pub fn bridge_info(&self, name: &IfName, full: bool) -> Result<Bridge> {
        let mut raw = BridgeInfoRaw::default();
        self.devprivate(
            name,
            BRCTL_GET_BRIDGE_INFO,
            [(&mut raw as *mut BridgeInfoRaw) as libc::c_ulong, 0, 0],
            Access::Read,
            "&info",
        )?;
        let mut br = Bridge {
            name: Some(*name),
            bridge_id: BridgeId::from_bytes(&raw.bridge_id),
            designated_root: BridgeId::from_bytes(&raw.designated_root),
            root_port: raw.root_port as u16,
            root_path_cost: raw.root_path_cost,
            max_age: raw.max_age,
            hello_time: raw.hello_time,
            // The kernel copies forward_delay in jiffies, unconverted (br_ioctl.c), unlike its
            // neighbours; the configured value is in centiseconds and equal to it on a root
            // bridge.
            forward_delay: raw.bridge_forward_delay,
            ageing_time: raw.ageing_time,
            hello_timer: raw.hello_timer_value as u64,
            tcn_timer: raw.tcn_timer_value as u64,
            topology_change_timer: raw.topology_change_timer_value as u64,
            gc_timer: raw.gc_timer_value as u64,
            stp_state: raw.stp_enabled as u32,
            topology_change: raw.topology_change != 0,
            topology_change_detected: raw.topology_change_detected != 0,
            ..Bridge::default()
        };
        for (port_no, ifindex) in self.port_list(name)? {
            // A port deleted since the port list was taken is left out.
            let pname = match self.ifname(ifindex) {
                Err(e) if e.is(libc::ENODEV) => continue,
                r => r?,
            };
            let mut port = Port {
                name: Some(pname),
                ifindex,
                port_no,
                ..Port::default()
            };
            if full {
                self.port_info(name, &mut port)?;
            }
            br.ports.push(port);
        }
        br.sort_ports();
        Ok(br)
    }

    /// `BRCTL_GET_PORT_LIST`: (port number, ifindex) of every port of `bridge`.
    pub fn port_list(&self, bridge: &IfName) -> Result<Vec<(u16, u32)>> {
        let mut table = vec![0 as libc::c_int; BR_MAX_PORTS];
        self.devprivate(
            bridge,
            BRCTL_GET_PORT_LIST,
            [
                table.as_mut_ptr() as libc::c_ulong,
                BR_MAX_PORTS as libc::c_ulong,
                0,
            ],
            Access::Read,
            "buf, 1024",
        )?;
        Ok(table
            .iter()
            .enumerate()
            .filter(|(_, &ix)| ix > 0)
            .map(|(no, &ix)| (no as u16, ix as u32))
            .collect())
    }

    fn port_info(&self, bridge: &IfName, port: &mut Port) -> Result<()> {
        let mut raw = PortInfoRaw::default();
        self.devprivate(
            bridge,
            BRCTL_GET_PORT_INFO,
            [
                (&mut raw as *mut PortInfoRaw) as libc::c_ulong,
                port.port_no as libc::c_ulong,
                0,
            ],
            Access::Read,
            &format!("&info, {}", port.port_no),
        )?;
        port.port_id = raw.port_id;
        port.priority = raw.port_id >> 10;
        port.state = raw.state;
        port.path_cost = raw.path_cost;
        port.designated_root = BridgeId::from_bytes(&raw.designated_root);
        port.designated_bridge = BridgeId::from_bytes(&raw.designated_bridge);
        port.designated_port = raw.designated_port;
        port.designated_cost = raw.designated_cost;
        port.message_age_timer = raw.message_age_timer_value as u64;
        port.forward_delay_timer = raw.forward_delay_timer_value as u64;
        port.hold_timer = raw.hold_timer_value as u64;
        port.topology_change_ack = raw.top_change_ack != 0;
        port.config_pending = raw.config_pending != 0;
        Ok(())
    }

    /// The legacy `BRCTL_SET_*` call for a bridge setting.
    pub fn set_bridge(&self, bridge: &IfName, what: BridgeSetting, value: u64) -> Result<()> {
        let cmd = match what {
            BridgeSetting::AgeingTime => BRCTL_SET_AGEING_TIME,
            BridgeSetting::ForwardDelay => BRCTL_SET_BRIDGE_FORWARD_DELAY,
            BridgeSetting::HelloTime => BRCTL_SET_BRIDGE_HELLO_TIME,
            BridgeSetting::MaxAge => BRCTL_SET_BRIDGE_MAX_AGE,
            BridgeSetting::Priority => BRCTL_SET_BRIDGE_PRIORITY,
            BridgeSetting::StpState => BRCTL_SET_BRIDGE_STP_STATE,
        };
        self.devprivate(
            bridge,
            cmd,
            [value as libc::c_ulong, 0, 0],
            Access::Write,
            &value.to_string(),
        )
    }

    /// The legacy `BRCTL_SET_*` call for a port setting; `port_no` from [`Self::port_list`].
    /// Hairpin mode has no ioctl at all.
    pub fn set_port(
        &self,
        bridge: &IfName,
        port: &IfName,
        port_no: u16,
        what: PortSetting,
        value: u64,
    ) -> Result<()> {
        let cmd =
            match what {
                PortSetting::PathCost => BRCTL_SET_PATH_COST,
                PortSetting::Priority => BRCTL_SET_PORT_PRIORITY,
                PortSetting::Hairpin => return Err(Error::invalid(
                    format!("hairpin {port}"),
                    "the kernel has no ioctl for hairpin mode; use --via sysfs or --via netlink",
                )),
            };
        self.devprivate(
            bridge,
            cmd,
            [port_no as libc::c_ulong, value as libc::c_ulong, 0],
            Access::Write,
            &format!("{port_no}, {value}"),
        )
    }

    /// `BRCTL_GET_FDB_ENTRIES`, 128 records at a time (the same records `brforward` holds).
    pub fn fdb_entries(&self, bridge: &IfName) -> Result<Vec<FdbEntry>> {
        const CHUNK: usize = 128;
        let mut out = Vec::new();
        let mut buf = [FdbEntryRaw::default(); CHUNK];
        loop {
            let offset = out.len();
            let mut args: [libc::c_ulong; 4] = [
                BRCTL_GET_FDB_ENTRIES.0,
                buf.as_mut_ptr() as libc::c_ulong,
                CHUNK as libc::c_ulong,
                offset as libc::c_ulong,
            ];
            let mut ifr = ifreq(bridge);
            ifr.ifr_ifru.ifru_data = args.as_mut_ptr().cast();
            // SAFETY: the kernel writes at most CHUNK records into buf.
            let n = unsafe {
                self.call(SIOCDEVPRIVATE, (&mut ifr as *mut libc::ifreq).cast(), Access::Read, bridge, format_args!("{{ifr_name=\"{bridge}\", ifr_data={{BRCTL_GET_FDB_ENTRIES, buf, {CHUNK}, {offset}}}}}"))
            }
            .map_err(|e| Error { step: BRCTL_GET_FDB_ENTRIES.1.into(), ..e })? as usize;
            out.extend(buf[..n.min(CHUNK)].iter().map(FdbEntryRaw::entry));
            if n < CHUNK {
                return Ok(out);
            }
        }
    }
}
