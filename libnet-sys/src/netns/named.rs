//! Named network namespaces under [`RUN_DIR`], made and removed the way `ip netns` makes and
//! removes them (so each tool sees the other's): the directory is a shared mount point, set up
//! under a lock on the directory itself; a name is an empty file with the namespace
//! bind-mounted onto it.
//!
//! Nothing outside [`RUN_DIR`] is created or removed, and no symlink in it is followed.

use super::{check_name, NsTarget, RUN_DIR};
use crate::error::{last_errno, Error, Result};
use crate::trace::{Access, Trace};
use std::ffi::CString;
use std::fmt;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

fn cstr(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::invalid(s.to_string(), "a path cannot contain a NUL byte"))
}

/// One system call that changes something: shown under --explain and --dry-run, skipped under
/// --dry-run. `call` returns the syscall's result (negative: errno is set).
pub(crate) fn sys(
    trace: &Trace,
    step: &'static str,
    object: &str,
    shown: fmt::Arguments,
    call: impl FnOnce() -> libc::c_int,
) -> Result<libc::c_int> {
    trace.request(Access::Write, shown);
    if !trace.sends(Access::Write) {
        trace.outcome(Access::Write, Ok(format_args!("0")));
        return Ok(0);
    }
    let r = call();
    if r < 0 {
        let errno = last_errno();
        trace.outcome(Access::Write, Err(errno));
        return Err(Error::errno(step, object.to_string(), errno));
    }
    trace.outcome(Access::Write, Ok(format_args!("{r}")));
    Ok(r)
}

/// `mount(2)`, traced.
pub(crate) fn mount(
    trace: &Trace,
    src: &str,
    target: &str,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    flag_names: &str,
) -> Result<()> {
    let (s, t) = (cstr(src)?, cstr(target)?);
    let f = fstype.map(cstr).transpose()?;
    sys(
        trace,
        "mount",
        target,
        format_args!(
            "mount(\"{src}\", \"{target}\", {}, {flag_names})",
            fstype
                .map(|x| format!("\"{x}\""))
                .unwrap_or_else(|| "NULL".into())
        ),
        || {
            // SAFETY: valid C strings (or NULL) and no data argument.
            unsafe {
                libc::mount(
                    s.as_ptr(),
                    t.as_ptr(),
                    f.as_ref().map_or(std::ptr::null(), |x| x.as_ptr()),
                    flags,
                    std::ptr::null(),
                )
            }
        },
    )
    .map(|_| ())
}

/// `umount2(target, MNT_DETACH)`, traced.
pub(crate) fn umount(trace: &Trace, target: &str) -> Result<()> {
    let t = cstr(target)?;
    sys(
        trace,
        "umount2",
        target,
        format_args!("umount2(\"{target}\", MNT_DETACH)"),
        // SAFETY: a valid C string.
        || unsafe { libc::umount2(t.as_ptr(), libc::MNT_DETACH) },
    )
    .map(|_| ())
}

/// `setns(fd, CLONE_NEWNET)`, traced as a change (it changes where this process is).
pub(crate) fn setns(trace: &Trace, fd: &OwnedFd, what: &str) -> Result<()> {
    sys(
        trace,
        "setns",
        what,
        format_args!("setns({what}, CLONE_NEWNET)"),
        // SAFETY: plain syscall on a namespace fd we hold.
        || unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) },
    )
    .map(|_| ())
}

/// `unshare(flags)`, traced.
pub(crate) fn unshare(trace: &Trace, flags: libc::c_int, names: &str) -> Result<()> {
    sys(
        trace,
        "unshare",
        names,
        format_args!("unshare({names})"),
        // SAFETY: plain syscall.
        || unsafe { libc::unshare(flags) },
    )
    .map(|_| ())
}

/// `/run/netns/NAME`, after checking the name.
pub fn path_of(name: &str) -> Result<String> {
    check_name(name)?;
    Ok(format!("{RUN_DIR}/{name}"))
}

/// The file of a named namespace: present, and a file, not a symlink planted there.
pub(crate) fn existing(name: &str) -> Result<(String, std::fs::Metadata)> {
    let path = path_of(name)?;
    let md = std::fs::symlink_metadata(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::state(
                name.to_string(),
                format!("no namespace named {name} (no {path})"),
            )
        } else {
            Error::errno("lstat", path.clone(), e.raw_os_error().unwrap_or(libc::EIO))
        }
    })?;
    if md.file_type().is_symlink() {
        return Err(Error::state(
            name.to_string(),
            format!("{path} is a symlink, not a namespace file; it is not followed"),
        ));
    }
    Ok((path, md))
}

/// `/run/netns` as `ip netns add` leaves it: a directory (never a symlink), made a shared mount
/// point (a bind mount onto itself the first time), all under `flock` on the directory so two
/// runs at once cannot stack bind mounts. The lock goes with the returned fd.
fn run_dir(trace: &Trace) -> Result<OwnedFd> {
    match std::fs::symlink_metadata(RUN_DIR) {
        Ok(md) if md.file_type().is_symlink() || !md.is_dir() => {
            return Err(Error::state(
                RUN_DIR,
                format!("{RUN_DIR} is not a directory (a symlink is not followed)"),
            ))
        }
        Ok(_) => {}
        Err(_) => {
            let d = cstr(RUN_DIR)?;
            match sys(
                trace,
                "mkdir",
                RUN_DIR,
                format_args!("mkdir(\"{RUN_DIR}\", 0755)"),
                // SAFETY: a valid C string.
                || unsafe { libc::mkdir(d.as_ptr(), 0o755) },
            ) {
                Err(e) if !e.is(libc::EEXIST) => return Err(e),
                _ => {}
            }
        }
    }
    if !trace.sends(Access::Write) && std::fs::metadata(RUN_DIR).is_err() {
        // A dry run did not make it: there is nothing to lock or mount.
        return NsTarget::Path("/proc/self/ns/net".into()).open();
    }
    let d = cstr(RUN_DIR)?;
    // SAFETY: a valid C string; the result is checked.
    let fd = unsafe {
        libc::open(
            d.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(Error::last_os("open", RUN_DIR));
    }
    // SAFETY: fd is fresh and ours.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: flock on our fd.
    if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX) } < 0 {
        return Err(Error::last_os("flock", RUN_DIR));
    }
    let shared = libc::MS_REC | libc::MS_SHARED;
    match mount(trace, "", RUN_DIR, Some("none"), shared, "MS_REC|MS_SHARED") {
        Ok(()) => {}
        // Not a mount point yet: make it one, then shared.
        Err(e) if e.is(libc::EINVAL) => {
            mount(
                trace,
                RUN_DIR,
                RUN_DIR,
                Some("none"),
                libc::MS_BIND | libc::MS_REC,
                "MS_BIND|MS_REC",
            )?;
            mount(trace, "", RUN_DIR, Some("none"), shared, "MS_REC|MS_SHARED")?;
        }
        Err(e) => return Err(e),
    }
    Ok(fd)
}

/// Creates the empty file a namespace is bound onto; `EEXIST` says the name is taken.
fn placeholder(trace: &Trace, name: &str, path: &str) -> Result<()> {
    let p = cstr(path)?;
    let fd = sys(
        trace,
        "open",
        path,
        format_args!("open(\"{path}\", O_RDONLY|O_CREAT|O_EXCL|O_NOFOLLOW, 0)"),
        // SAFETY: a valid C string; the fd is closed below.
        || unsafe {
            libc::open(
                p.as_ptr(),
                libc::O_RDONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                0,
            )
        },
    )
    .map_err(|e| {
        if e.is(libc::EEXIST) {
            Error::state(
                name.to_string(),
                format!("a namespace named {name} exists ({path})"),
            )
        } else {
            e
        }
    })?;
    if trace.sends(Access::Write) {
        // SAFETY: the fd open() just returned.
        unsafe { libc::close(fd) };
    }
    Ok(())
}

/// Undoes a half-made name: the bind mount if there is one, then the file.
fn remove(trace: &Trace, path: &str) -> Result<()> {
    // Not mounted (EINVAL) is fine: the file may be only a placeholder.
    match umount(trace, path) {
        Err(e) if !e.is(libc::EINVAL) => return Err(e),
        _ => {}
    }
    let p = cstr(path)?;
    sys(
        trace,
        "unlink",
        path,
        format_args!("unlink(\"{path}\")"),
        // SAFETY: a valid C string.
        || unsafe { libc::unlink(p.as_ptr()) },
    )
    .map(|_| ())
}

/// Binds the namespace at `source` (a `/proc/.../ns/net`) onto a new `/run/netns/NAME`, with
/// `inside` run in the namespace when it is a fresh one. Any failure removes the name again.
fn bind_name(
    trace: &Trace,
    name: &str,
    source: &str,
    inside: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let path = path_of(name)?;
    let _lock = run_dir(trace)?;
    placeholder(trace, name, &path)?;
    let res =
        mount(trace, source, &path, Some("none"), libc::MS_BIND, "MS_BIND").and_then(|()| inside());
    if res.is_err() {
        let _ = remove(trace, &path);
    }
    res
}

/// `nsexec add NAME`: a new namespace, named. With `lo_up`, its loopback comes up (a Docker
/// "none" container's one link).
pub fn add(trace: &Trace, name: &str, lo_up: bool) -> Result<()> {
    let path = path_of(name)?;
    // A taken name is said before a namespace is made for nothing (O_EXCL still decides).
    if std::fs::symlink_metadata(&path).is_ok() {
        return Err(Error::state(
            name.to_string(),
            format!("a namespace named {name} exists ({path})"),
        ));
    }
    let home = NsTarget::Path("/proc/thread-self/ns/net".into()).open()?;
    unshare(trace, libc::CLONE_NEWNET, "CLONE_NEWNET")?;
    let made = bind_name(trace, name, "/proc/thread-self/ns/net", || {
        if lo_up {
            loopback_up(trace)
        } else {
            Ok(())
        }
    });
    // Back home however it went: every later step (and batch line) belongs there.
    if trace.sends(Access::Write) {
        setns(trace, &home, "our own namespace")?;
    }
    made
}

/// Loopback up, in the namespace this thread is in.
pub(crate) fn loopback_up(trace: &Trace) -> Result<()> {
    use crate::netlink::rtnl::link;
    let lo = crate::IfName::new("lo")?;
    crate::kernel::Kernel::new(*trace)
        .nl()?
        .request(link::set_flags_named(&lo, link::IFF_UP, link::IFF_UP), "lo")
}

/// `nsexec attach NAME PID`: names the namespace a running process is in.
pub fn attach(trace: &Trace, name: &str, pid: u32) -> Result<()> {
    // A bad name is bad input whatever the PID: said first (exit 2), as add says it.
    path_of(name)?;
    let source = format!("/proc/{pid}/ns/net");
    // Open it first: a gone PID is said as such, before anything is made.
    NsTarget::Pid(pid).open().map_err(|e| {
        if e.is(libc::ENOENT) {
            Error::state(pid.to_string(), format!("no process {pid}"))
        } else {
            e
        }
    })?;
    bind_name(trace, name, &source, || Ok(()))
}

/// `nsexec del NAME...`: every name checked first, then each unmounted and removed. Processes
/// still inside keep their namespace alive.
pub fn del(trace: &Trace, names: &[String]) -> Result<()> {
    let paths = names
        .iter()
        .map(|n| existing(n).map(|(p, _)| p))
        .collect::<Result<Vec<_>>>()?;
    // The unlink must be able to follow the unmount: a name unmounted and then left behind (a
    // read-only /run/netns, no write permission on it) is a namespace lost. Asked of the kernel
    // as the unlink will be judged (effective ids and capabilities), before anything changes.
    if let Some(first) = paths.first() {
        let d = cstr(RUN_DIR)?;
        // SAFETY: a valid C string; faccessat only reads it.
        let r = unsafe {
            libc::faccessat(
                libc::AT_FDCWD,
                d.as_ptr(),
                libc::W_OK | libc::X_OK,
                libc::AT_EACCESS,
            )
        };
        if r < 0 {
            return Err(Error::last_os("unlink", first.clone()));
        }
    }
    for p in paths {
        remove(trace, &p)?;
    }
    Ok(())
}

/// The nsfs identity (device, inode) of a namespace file or `/proc/PID/ns/net`.
fn ns_id(path: &str) -> Result<(u64, u64)> {
    let md = std::fs::metadata(path).map_err(|e| {
        Error::errno(
            "stat",
            path.to_string(),
            e.raw_os_error().unwrap_or(libc::EIO),
        )
    })?;
    Ok((md.dev(), md.ino()))
}

/// One named namespace as `list` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Named {
    pub name: String,
    /// The id this namespace gives it (`RTM_GETNSID`), when it has one.
    pub nsid: Option<i32>,
    /// How many processes are in it.
    pub pids: usize,
}

/// The names under /run/netns that are namespace files (symlinks and other strays skipped),
/// with their identities, sorted by name.
fn entries() -> Vec<(String, (u64, u64))> {
    super::names()
        .into_iter()
        .filter(|n| existing(n).is_ok_and(|(_, md)| md.is_file()))
        .filter_map(|n| {
            let id = ns_id(&format!("{RUN_DIR}/{n}")).ok()?;
            Some((n, id))
        })
        .collect()
}

/// Every process's namespace identity: (pid, (dev, ino)), by PID. Processes that end while
/// this reads, or that are not ours to read, are left out.
fn process_namespaces() -> Vec<(u32, (u64, u64))> {
    let mut v: Vec<(u32, (u64, u64))> = std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter_map(|pid| Some((pid, ns_id(&format!("/proc/{pid}/ns/net")).ok()?)))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `nsexec list`
pub fn list(trace: &Trace) -> Result<Vec<Named>> {
    let procs = process_namespaces();
    let mut k = crate::kernel::Kernel::new(*trace);
    let mut out = Vec::new();
    for (name, id) in entries() {
        let nsid = match NsTarget::Name(name.clone()).open() {
            Ok(fd) => k.nsid(&fd, &name)?,
            Err(_) => None,
        };
        out.push(Named {
            pids: procs.iter().filter(|(_, p)| *p == id).count(),
            name,
            nsid,
        });
    }
    Ok(out)
}

/// `nsexec identify [PID]`: the names of the namespace PID (or this process) is in.
pub fn identify(pid: Option<u32>) -> Result<Vec<String>> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/ns/net"),
        None => "/proc/self/ns/net".to_string(),
    };
    let id = ns_id(&path).map_err(|e| match (e.os_errno(), pid) {
        (Some(libc::ENOENT), Some(p)) => Error::state(p.to_string(), format!("no process {p}")),
        _ => e,
    })?;
    Ok(entries()
        .into_iter()
        .filter(|(_, x)| *x == id)
        .map(|(n, _)| n)
        .collect())
}

/// `nsexec pids NAME`: the processes in a named namespace, by PID.
pub fn pids(name: &str) -> Result<Vec<u32>> {
    let (path, _) = existing(name)?;
    let id = ns_id(&path)?;
    Ok(process_namespaces()
        .into_iter()
        .filter(|(_, x)| *x == id)
        .map(|(p, _)| p)
        .collect())
}
