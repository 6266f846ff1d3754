//! `SIOCETHTOOL` (<linux/ethtool.h>): the driver's name and its statistics, which is how the
//! ioctl path tells a veth (driver "veth") and finds its peer (the stat "peer_ifindex").
//!
//! The peer index is only an index: ethtool cannot say which namespace it is in.

use super::{ifreq, CtlSocket};
use crate::error::{Error, Result};
use crate::ifname::IfName;
use crate::trace::Access;

pub const SIOCETHTOOL: (libc::c_ulong, &str) = (0x8946, "SIOCETHTOOL");

const ETHTOOL_GDRVINFO: u32 = 0x03;
const ETHTOOL_GSTRINGS: u32 = 0x1b;
const ETHTOOL_GSTATS: u32 = 0x1d;
const ETH_SS_STATS: u32 = 1;
const ETH_GSTRING_LEN: usize = 32;

/// `struct ethtool_drvinfo`
#[repr(C)]
struct DrvInfo {
    cmd: u32,
    driver: [u8; 32],
    version: [u8; 32],
    fw_version: [u8; 32],
    bus_info: [u8; 32],
    erom_version: [u8; 32],
    reserved2: [u8; 12],
    n_priv_flags: u32,
    n_stats: u32,
    testinfo_len: u32,
    eedump_len: u32,
    regdump_len: u32,
}
const _: () = assert!(std::mem::size_of::<DrvInfo>() == 196);

/// What `ETHTOOL_GDRVINFO` says of a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Driver {
    pub name: String,
    pub n_stats: u32,
}

/// The most stats a driver may report here; a veth has about ten per queue.
const MAX_STATS: u32 = 1 << 16;

impl CtlSocket {
    /// One `SIOCETHTOOL` with `ifr_data` pointing at `data`, whose first u32 is the command.
    fn ethtool(&self, name: &IfName, data: &mut [u8], what: &str) -> Result<()> {
        let mut ifr = ifreq(name);
        ifr.ifr_ifru.ifru_data = data.as_mut_ptr().cast();
        self.ifr(
            SIOCETHTOOL,
            &mut ifr,
            Access::Read,
            name,
            format_args!(", ifr_data={{{what}, {} bytes}}", data.len()),
        )
    }

    /// `ETHTOOL_GDRVINFO`: the driver's name and how many statistics it keeps.
    pub fn driver(&self, name: &IfName) -> Result<Driver> {
        let mut buf = vec![0u8; std::mem::size_of::<DrvInfo>()];
        buf[..4].copy_from_slice(&ETHTOOL_GDRVINFO.to_ne_bytes());
        self.ethtool(name, &mut buf, "ETHTOOL_GDRVINFO")?;
        // SAFETY: DrvInfo is repr(C) plain old data of exactly buf's length.
        let info: DrvInfo = unsafe { std::ptr::read_unaligned(buf.as_ptr().cast()) };
        Ok(Driver {
            name: cstr(&info.driver),
            n_stats: info.n_stats,
        })
    }

    /// The value of the statistic called `stat` (`ETHTOOL_GSTRINGS` for the names, then
    /// `ETHTOOL_GSTATS`, same index), or `None` when the driver keeps none by that name.
    pub fn stat(&self, name: &IfName, n_stats: u32, stat: &str) -> Result<Option<u64>> {
        if n_stats == 0 {
            return Ok(None);
        }
        if n_stats > MAX_STATS {
            return Err(Error::malformed(
                "ETHTOOL_GDRVINFO",
                format!("{name} reports {n_stats} statistics"),
            ));
        }
        let n = n_stats as usize;
        let mut strings = vec![0u8; 12 + n * ETH_GSTRING_LEN];
        strings[..4].copy_from_slice(&ETHTOOL_GSTRINGS.to_ne_bytes());
        strings[4..8].copy_from_slice(&ETH_SS_STATS.to_ne_bytes());
        strings[8..12].copy_from_slice(&n_stats.to_ne_bytes());
        self.ethtool(name, &mut strings, "ETHTOOL_GSTRINGS ETH_SS_STATS")?;
        // The kernel says how many it wrote; it may be fewer if the set shrank meanwhile.
        let got = (u32::from_ne_bytes([strings[8], strings[9], strings[10], strings[11]]) as usize)
            .min(n);
        let Some(i) = strings[12..]
            .chunks(ETH_GSTRING_LEN)
            .take(got)
            .position(|s| cstr(s) == stat)
        else {
            return Ok(None);
        };
        let mut stats = vec![0u8; 8 + n * 8];
        stats[..4].copy_from_slice(&ETHTOOL_GSTATS.to_ne_bytes());
        stats[4..8].copy_from_slice(&n_stats.to_ne_bytes());
        self.ethtool(name, &mut stats, "ETHTOOL_GSTATS")?;
        let at = 8 + i * 8;
        let v = stats[at..at + 8]
            .try_into()
            .map(u64::from_ne_bytes)
            .map_err(|_| Error::malformed("ETHTOOL_GSTATS", "short reply"))?;
        Ok(Some(v))
    }
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}
