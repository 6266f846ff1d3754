//! sysfs attribute files, read and written strictly: a missing file or a value that does not
//! parse is an error, never a plausible 0 (bridge-utils' `fetch_int` returns 0 for a missing
//! file).
//!
//! sysfs shows the network namespace of whoever *mounted* it, not the caller's: after a bare
//! `setns()` (nsenter) `/sys/class/net` still lists the old namespace's devices, and writing
//! there changes them. [`check_view`] and [`check_listing`] catch that before anything is read
//! or written.

pub mod arp;
pub mod bridge;
pub mod sysctl;

use crate::error::{Error, Result};
use crate::ifname::IfName;
use crate::ioctl::CtlSocket;
use crate::trace::{Access, Trace};
use std::io::{Read, Write};

pub const CLASS_NET: &str = "/sys/class/net";

/// Reads a whole attribute file, shown under --explain.
pub fn read(trace: &Trace, path: &str) -> Result<Vec<u8>> {
    trace.request(Access::Read, format_args!("read {path}"));
    let mut buf = Vec::with_capacity(64);
    let res = std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut buf));
    match res {
        Ok(_) => {
            trace.outcome(
                Access::Read,
                Ok(format_args!(
                    "{:?}",
                    String::from_utf8_lossy(&buf).trim_end()
                )),
            );
            Ok(buf)
        }
        Err(e) => {
            let errno = e.raw_os_error().unwrap_or(libc::EIO);
            trace.outcome(Access::Read, Err(errno));
            Err(Error::errno(format!("read {path}"), "", errno))
        }
    }
}

/// Writes `value` and a newline in one write(2), as the kernel's store functions expect.
pub fn write(trace: &Trace, path: &str, value: u64) -> Result<()> {
    trace.request(Access::Write, format_args!("write {path} \"{value}\\n\""));
    if !trace.sends(Access::Write) {
        trace.outcome(Access::Write, Ok(format_args!("")));
        return Ok(());
    }
    let res = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|mut f| f.write_all(format!("{value}\n").as_bytes()));
    match res {
        Ok(()) => {
            trace.outcome(Access::Write, Ok(format_args!("ok")));
            Ok(())
        }
        Err(e) => {
            let errno = e.raw_os_error().unwrap_or(libc::EIO);
            trace.outcome(Access::Write, Err(errno));
            Err(Error::errno(format!("write {path}"), "", errno))
        }
    }
}

/// A number as the kernel prints it in sysfs: decimal, or hex with `0x` (`port_no`, `port_id`).
pub fn parse_num(path: &str, raw: &[u8]) -> Result<u64> {
    let text = std::str::from_utf8(raw)
        .unwrap_or("")
        .trim_end_matches('\n');
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse::<u64>(),
    };
    parsed
        .map_err(|_| Error::malformed(format!("read {path}"), format!("{text:?} is not a number")))
}

pub fn read_num(trace: &Trace, path: &str) -> Result<u64> {
    parse_num(path, &read(trace, path)?)
}

/// The entries of a directory, sorted by name in byte order (bridge-utils' `alphasort` in the
/// C locale), dot entries left out.
pub fn list_dir(trace: &Trace, path: &str) -> Result<Vec<Vec<u8>>> {
    use std::os::unix::ffi::OsStrExt;
    trace.request(Access::Read, format_args!("readdir {path}"));
    let rd = std::fs::read_dir(path).map_err(|e| {
        let errno = e.raw_os_error().unwrap_or(libc::EIO);
        trace.outcome(Access::Read, Err(errno));
        Error::errno(format!("readdir {path}"), "", errno)
    })?;
    let mut names: Vec<Vec<u8>> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().as_bytes().to_vec())
        .filter(|n| !n.starts_with(b"."))
        .collect();
    names.sort();
    trace.outcome(Access::Read, Ok(format_args!("{} entries", names.len())));
    Ok(names)
}

/// The error for a sysfs view that belongs to another network namespace.
fn stale(what: &str) -> Error {
    Error::state(
        what.to_string(),
        "/sys shows another network namespace's devices (was it mounted before a setns?); \
         remount sysfs in this namespace, or use --via netlink or --via ioctl",
    )
}

/// Checks that `/sys/class/net/NAME` is the caller's `NAME`: same ifindex and same address as
/// the (always namespace-correct) ioctls report. Absent in sysfs is left to the caller, unless
/// the caller's namespace has that device: then /sys is another namespace's view too.
pub fn check_view(ctl: &CtlSocket, name: &IfName) -> Result<()> {
    let base = format!("{CLASS_NET}/{name}");
    let raw = match read(&ctl.trace, &format!("{base}/ifindex")) {
        Ok(raw) => raw,
        // Absent: a stale view if the device is ours, no view at all if nothing is mounted.
        Err(e) if e.is(libc::ENOENT) => {
            return match ctl.ifindex(name) {
                Ok(_) if !std::path::Path::new(CLASS_NET).exists() => Err(Error::state(
                    CLASS_NET.to_string(),
                    "no sysfs on /sys (mount -t sysfs sysfs /sys), or use --via netlink or \
                     --via ioctl",
                )),
                Ok(_) => Err(stale(name.as_str())),
                Err(_) => Ok(()),
            };
        }
        // Anything else (EMFILE, EACCES) is said as it is, not as a stale view.
        Err(e) => return Err(e),
    };
    let sys_index = parse_num(&base, &raw)?;
    let real_index = match ctl.ifindex(name) {
        Ok(i) => i as u64,
        Err(e) if e.is(libc::ENODEV) => return Err(stale(name.as_str())),
        Err(e) => return Err(e),
    };
    let sys_addr = read(&ctl.trace, &format!("{base}/address"))?;
    let real_addr = crate::ifname::mac(&ctl.hwaddr(name)?);
    if sys_index != real_index || String::from_utf8_lossy(&sys_addr).trim_end() != real_addr {
        return Err(stale(name.as_str()));
    }
    Ok(())
}

/// The interfaces of the caller's namespace, as `/proc/net/dev` lists them (procfs follows the
/// reading task's namespace, sysfs does not); the one listing that needs neither netlink nor
/// a trustworthy /sys.
pub fn proc_net_dev(trace: &Trace) -> Result<Vec<Vec<u8>>> {
    Ok(parse_proc_net_dev(&read(trace, "/proc/net/dev")?))
}

/// The interface names in the text of `/proc/net/dev` (apart from the read, for the fuzzer).
pub fn parse_proc_net_dev(dev: &[u8]) -> Vec<Vec<u8>> {
    dev.split(|&c| c == b'\n')
        .skip(2)
        .filter_map(|line| {
            line.iter()
                .position(|&c| c == b':')
                .map(|i| line[..i].trim_ascii().to_vec())
        })
        .collect()
}

/// Checks that the names under `/sys/class/net` are exactly the caller's interfaces.
pub fn check_listing(trace: &Trace, names: &[Vec<u8>]) -> Result<()> {
    let mut real = proc_net_dev(trace)?;
    real.sort();
    if real != names {
        return Err(stale(CLASS_NET));
    }
    Ok(())
}
