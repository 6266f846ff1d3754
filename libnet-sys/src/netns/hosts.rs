//! `/etc/netns/NAME/hosts`: the names a namespace resolves (how Docker's `--link` names
//! resolve), which `exec` binds over `/etc/hosts`. Edited in place, so a command already
//! running with it bound sees the change; never through a symlink.

use super::check_name;
use super::exec::ETC_DIR;
use super::walk::{fstat, Dir};
use crate::caps::caller_is_root;
use crate::error::{Error, Result};
use crate::trace::{Access, Trace};
use std::io::{Read, Write};
use std::net::IpAddr;
use std::os::fd::OwnedFd;

/// What a new hosts file starts with, so the namespace keeps resolving localhost once it is
/// bound over /etc/hosts.
const SEED: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";

pub fn path_of(name: &str) -> Result<String> {
    check_name(name)?;
    Ok(format!("{ETC_DIR}/{name}/hosts"))
}

/// A host name as resolv(5) reads one: letters, digits, `-`, `.`, `_`, 1 to 253 bytes.
pub fn check_hostname(h: &str) -> Result<()> {
    let ok = !h.is_empty()
        && h.len() <= 253
        && !h.starts_with('-')
        && h.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-._".contains(&c));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            h.to_string(),
            format!("bad host name '{h}': letters, digits, '-', '.', '_', at most 253 bytes"),
        ))
    }
}

/// `/etc/netns/NAME`, walked to without following a symlink; None when it is not there.
fn dir_of(name: &str) -> Result<Option<Dir>> {
    check_name(name)?;
    match Dir::open(&format!("{ETC_DIR}/{name}")) {
        Err(e) if e.is(libc::ENOENT) => Ok(None),
        r => r.map(Some),
    }
}

/// A hosts file opened from its directory: a regular file, never a symlink (refused), a FIFO
/// (not waited on) or a device.
fn open_hosts(
    dir: &Dir,
    flags: libc::c_int,
    mode: libc::mode_t,
) -> Result<(OwnedFd, rustix::fs::Stat)> {
    let path = dir.child("hosts");
    let fd = dir.create_at("hosts", flags | libc::O_NONBLOCK, mode)?;
    let st = fstat(&fd, &path)?;
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return Err(Error::state(
            path.clone(),
            format!("{path} is not a regular file"),
        ));
    }
    Ok((fd, st))
}

/// The file's text ("" when there is none yet).
pub fn read(name: &str) -> Result<String> {
    let Some(dir) = dir_of(name)? else {
        return Ok(String::new());
    };
    let fd = match open_hosts(&dir, libc::O_RDONLY, 0) {
        Err(e) if e.is(libc::ENOENT) => return Ok(String::new()),
        r => r?.0,
    };
    let mut text = String::new();
    std::fs::File::from(fd)
        .read_to_string(&mut text)
        .map_err(|e| {
            Error::errno(
                "read",
                dir.child("hosts"),
                e.raw_os_error().unwrap_or(libc::EIO),
            )
        })?;
    Ok(text)
}

/// Writes the whole text in place (same inode: bind mounts of it see the change), making the
/// directories first when they are missing.
fn write(trace: &Trace, name: &str, text: &str) -> Result<()> {
    let path = path_of(name)?;
    let dir = Dir::open_or_make(trace, &format!("{ETC_DIR}/{name}"))?;
    trace.request(
        Access::Write,
        format_args!("write \"{path}\" ({} bytes, in place)", text.len()),
    );
    let Some(dir) = dir.filter(|_| trace.sends(Access::Write)) else {
        trace.outcome(Access::Write, Ok(format_args!("0")));
        return Ok(());
    };
    // Made new (O_EXCL says so) it is the caller's to give to root, or to remove again.
    let opened = match open_hosts(&dir, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o644) {
        Err(e) if e.is(libc::EEXIST) => {
            open_hosts(&dir, libc::O_WRONLY, 0).map(|(fd, st)| (fd, st.st_uid))
        }
        Ok((fd, _)) => dir.keep_made("hosts", &fd).map(|()| (fd, 0)),
        Err(e) => Err(e),
    };
    let res = opened.and_then(|(fd, owner)| {
        if !caller_is_root() && owner != 0 {
            return Err(Error::state(
                path.clone(),
                format!("{path} is not owned by root; not used for a user who is not root"),
            ));
        }
        let mut f = std::fs::File::from(fd);
        f.set_len(0)
            .and_then(|()| f.write_all(text.as_bytes()))
            .map_err(|e| {
                Error::errno("write", path.clone(), e.raw_os_error().unwrap_or(libc::EIO))
                    .needing(crate::caps::Cap::DacOverride)
            })
    });
    match &res {
        Ok(()) => trace.outcome(Access::Write, Ok(format_args!("{}", text.len()))),
        Err(e) => trace.outcome(Access::Write, Err(e.os_errno().unwrap_or(libc::EIO))),
    }
    res
}

/// The line's host names (words after the address), comments cut.
fn names_of(line: &str) -> Vec<&str> {
    line.split('#')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .collect()
}

/// `hosts NAME add IP HOSTNAME...`: one line. A host name the file already has is refused
/// (it would resolve to whichever line comes first).
pub fn add(trace: &Trace, name: &str, ip: IpAddr, hostnames: &[String]) -> Result<()> {
    for h in hostnames {
        check_hostname(h)?;
    }
    let current = read(name)?;
    for line in current.lines() {
        if let Some(h) = names_of(line)
            .into_iter()
            .find(|n| hostnames.iter().any(|h| h == n))
        {
            return Err(Error::state(
                h.to_string(),
                format!("{h} is already in {}: {}", path_of(name)?, line.trim()),
            ));
        }
    }
    let mut text = if current.is_empty() {
        SEED.to_string()
    } else {
        current
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&format!("{ip}\t{}\n", hostnames.join(" ")));
    write(trace, name, &text)
}

/// `hosts NAME del HOSTNAME`: the name goes from every line; a line left with no name goes.
pub fn del(trace: &Trace, name: &str, hostname: &str) -> Result<()> {
    check_hostname(hostname)?;
    let current = read(name)?;
    let mut found = false;
    let mut text = String::new();
    for line in current.lines() {
        let names = names_of(line);
        if !names.contains(&hostname) {
            text.push_str(line);
            text.push('\n');
            continue;
        }
        found = true;
        let rest: Vec<&str> = names.into_iter().filter(|n| *n != hostname).collect();
        if !rest.is_empty() {
            let ip = line.split_whitespace().next().unwrap_or("");
            text.push_str(&format!("{ip}\t{}\n", rest.join(" ")));
        }
    }
    if !found {
        return Err(Error::state(
            hostname.to_string(),
            format!("{hostname} is not in {}", path_of(name)?),
        ));
    }
    write(trace, name, &text)
}

/// Keeps only the names `keep` says yes to (given the line's address and the name); a line
/// left with no name goes, and lines without an address (comments) stay. Writes only when
/// something went; returns how many names went.
pub fn retain(trace: &Trace, name: &str, keep: impl Fn(IpAddr, &str) -> bool) -> Result<usize> {
    let current = read(name)?;
    let (mut text, mut gone) = (String::new(), 0);
    for line in current.lines() {
        let addr = line.split_whitespace().next().and_then(|a| a.parse().ok());
        let Some(ip) = addr else {
            text.push_str(line);
            text.push('\n');
            continue;
        };
        let names = names_of(line);
        let kept: Vec<&str> = names.iter().copied().filter(|n| keep(ip, n)).collect();
        if kept.len() == names.len() {
            text.push_str(line);
            text.push('\n');
            continue;
        }
        gone += names.len() - kept.len();
        if !kept.is_empty() {
            text.push_str(&format!("{ip}\t{}\n", kept.join(" ")));
        }
    }
    if gone > 0 {
        write(trace, name, &text)?;
    }
    Ok(gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_checked() {
        for ok in ["web", "db.example", "a_b", "x-1"] {
            assert!(check_hostname(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-x", "a b", "a/b", "a\tb", &"x".repeat(254)] {
            assert!(check_hostname(bad).is_err(), "{bad:?}");
        }
        assert_eq!(names_of("10.0.0.2\tweb db # comment"), ["web", "db"]);
        assert!(names_of("# only a comment").is_empty());
    }
}
