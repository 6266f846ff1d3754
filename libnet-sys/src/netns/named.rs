//! Named network namespaces under [`RUN_DIR`], made and removed the way `ip netns` makes and
//! removes them (so each tool sees the other's): the directory is a shared mount point, set up
//! under a lock on the directory itself; a name is an empty file with the namespace
//! bind-mounted onto it.
//!
//! Nothing outside [`RUN_DIR`] is created or removed, and no symlink in it is followed.

use super::walk::Dir;
use super::{check_name, NsTarget, RUN_DIR};
use crate::caps::Cap;
use crate::error::{Error, Result};
use crate::trace::{Access, Trace};
use std::ffi::CString;
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;

fn cstr(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::invalid(s.to_string(), "a path cannot contain a NUL byte"))
}

/// What a traced call returned, as `--explain` shows it after `=`.
pub(crate) trait Returned {
    fn shown(&self) -> i32;
}

impl Returned for () {
    fn shown(&self) -> i32 {
        0
    }
}

impl Returned for OwnedFd {
    fn shown(&self) -> i32 {
        self.as_raw_fd()
    }
}

/// One system call that changes something: shown under --explain and --dry-run, skipped under
/// --dry-run (None).
pub(crate) fn sys<T: Returned>(
    trace: &Trace,
    (step, needs): (&'static str, Cap),
    object: &str,
    shown: fmt::Arguments,
    call: impl FnOnce() -> rustix::io::Result<T>,
) -> Result<Option<T>> {
    trace.request(Access::Write, shown);
    if !trace.sends(Access::Write) {
        trace.outcome(Access::Write, Ok(format_args!("0")));
        return Ok(None);
    }
    match call() {
        Ok(r) => {
            trace.outcome(Access::Write, Ok(format_args!("{}", r.shown())));
            Ok(Some(r))
        }
        Err(e) => {
            trace.outcome(Access::Write, Err(e.raw_os_error()));
            Err(Error::os(step, object.to_string(), e).needing(needs))
        }
    }
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
    mount_as(
        trace,
        (src, src),
        (target, target),
        fstype,
        flags,
        flag_names,
    )
}

/// `mount(2)` on (path, shown) pairs: the path may reach a file through an fd
/// (`/proc/self/fd/N`), the trace and errors show the path a person knows.
pub(crate) fn mount_as(
    trace: &Trace,
    (src, src_shown): (&str, &str),
    (target, shown): (&str, &str),
    fstype: Option<&str>,
    flags: libc::c_ulong,
    flag_names: &str,
) -> Result<()> {
    let (s, t) = (cstr(src)?, cstr(target)?);
    let f = cstr(fstype.unwrap_or(""))?;
    sys(
        trace,
        ("mount", Cap::SysAdmin),
        shown,
        format_args!(
            "mount(\"{src_shown}\", \"{shown}\", {}, {flag_names})",
            fstype
                .map(|x| format!("\"{x}\""))
                .unwrap_or_else(|| "NULL".into())
        ),
        // The flags go to the kernel as given (propagation bits included), as mount(2) takes
        // them.
        || {
            let flags = rustix::mount::MountFlags::from_bits_retain(flags as u32);
            rustix::mount::mount(s.as_c_str(), t.as_c_str(), f.as_c_str(), flags, None)
        },
    )
    .map(|_| ())
}

/// `umount2(target, MNT_DETACH)`, traced.
pub(crate) fn umount(trace: &Trace, target: &str) -> Result<()> {
    umount_as(trace, (target, target), libc::MNT_DETACH, "MNT_DETACH")
}

/// `umount2(2)` on a (path, shown) pair, as [`mount_as`].
fn umount_as(
    trace: &Trace,
    (target, shown): (&str, &str),
    flags: libc::c_int,
    flag_names: &str,
) -> Result<()> {
    let t = cstr(target)?;
    sys(
        trace,
        ("umount2", Cap::SysAdmin),
        shown,
        format_args!("umount2(\"{shown}\", {flag_names})"),
        || {
            let flags = rustix::mount::UnmountFlags::from_bits_retain(flags as u32);
            rustix::mount::unmount(t.as_c_str(), flags)
        },
    )
    .map(|_| ())
}

/// `setns(fd, CLONE_NEWNET)`, traced as a change (it changes where this process is).
pub(crate) fn setns(trace: &Trace, fd: &OwnedFd, what: &str) -> Result<()> {
    sys(
        trace,
        ("setns", Cap::SysAdmin),
        what,
        format_args!("setns({what}, CLONE_NEWNET)"),
        || {
            use rustix::thread::{move_into_link_name_space, LinkNameSpaceType};
            move_into_link_name_space(fd.as_fd(), Some(LinkNameSpaceType::Network))
        },
    )
    .map(|_| ())
}

/// `unshare(flags)`, traced.
pub(crate) fn unshare(trace: &Trace, flags: libc::c_int, names: &str) -> Result<()> {
    sys(
        trace,
        ("unshare", Cap::SysAdmin),
        names,
        format_args!("unshare({names})"),
        || {
            let flags = rustix::thread::UnshareFlags::from_bits_retain(flags as u32);
            // SAFETY: unshare_unsafe is unsafe only for CLONE_FILES (threads sharing a table
            // of descriptors); no caller passes it (CLONE_NEWNET, CLONE_NEWNS) and the programs
            // are single-threaded.
            unsafe { rustix::thread::unshare_unsafe(flags) }
        },
    )
    .map(|_| ())
}

/// `/run/netns/NAME`, after checking the name.
pub fn path_of(name: &str) -> Result<String> {
    check_name(name)?;
    Ok(format!("{RUN_DIR}/{name}"))
}

/// [`RUN_DIR`], walked to without following a symlink.
pub(crate) fn run_dir_open() -> Result<Dir> {
    Dir::open(RUN_DIR)
}

/// The file of a named namespace: present, and a file, not a symlink planted there. Returns
/// the directory it is in (reached without following a symlink) and its metadata.
pub(crate) fn existing(name: &str) -> Result<(Dir, rustix::fs::Stat)> {
    let path = path_of(name)?;
    let missing = || {
        Error::state(
            name.to_string(),
            format!("no namespace named {name} (no {path})"),
        )
    };
    let dir = run_dir_open().map_err(|e| if e.is(libc::ENOENT) { missing() } else { e })?;
    let st = dir
        .stat_at(name)
        .map_err(|e| if e.is(libc::ENOENT) { missing() } else { e })?;
    if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
        return Err(Error::state(
            name.to_string(),
            format!("{path} is a symlink, not a namespace file; it is not followed"),
        ));
    }
    Ok((dir, st))
}

/// Whether a name is only the empty file an `add` or `attach` makes before its mount: left
/// by one that was killed part-way (no namespace is mounted on it: it is on the directory's
/// own file system).
fn is_placeholder(dir: &Dir, st: &rustix::fs::Stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFREG
        && st.st_size == 0
        && dir.stat().is_ok_and(|d| d.st_dev == st.st_dev)
}

/// [`RUN_DIR`] locked, and its top mount to work in.
struct RunDir {
    /// The `flock`, on the directory as first opened.
    _lock: Dir,
    /// The directory as reached after it became a mount point (None: a dry run did not make
    /// it).
    dir: Option<Dir>,
}

/// `/run/netns` as `ip netns add` leaves it: a directory (never a symlink), made a shared mount
/// point (a bind mount onto itself the first time), all under `flock` on the directory so two
/// runs at once cannot stack bind mounts. The lock goes with the returned value.
fn run_dir(trace: &Trace) -> Result<Option<RunDir>> {
    let Some(first) = Dir::open_or_make(trace, RUN_DIR)? else {
        return Ok(None);
    };
    rustix::fs::flock(first.fd(), rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| Error::os("flock", RUN_DIR, e).needing(Cap::DacOverride))?;
    let shared = libc::MS_REC | libc::MS_SHARED;
    let here = first.proc_path();
    match mount_as(
        trace,
        ("", ""),
        (&here, RUN_DIR),
        Some("none"),
        shared,
        "MS_REC|MS_SHARED",
    ) {
        Ok(()) => {}
        // Not a mount point yet: make it one, then shared (the mount on top is reached by
        // walking to it again).
        Err(e) if e.is(libc::EINVAL) => {
            let bind = libc::MS_BIND | libc::MS_REC;
            mount_as(
                trace,
                (&here, RUN_DIR),
                (&here, RUN_DIR),
                Some("none"),
                bind,
                "MS_BIND|MS_REC",
            )?;
            let top = run_dir_open()?;
            let top_path = top.proc_path();
            mount_as(
                trace,
                ("", ""),
                (&top_path, RUN_DIR),
                Some("none"),
                shared,
                "MS_REC|MS_SHARED",
            )?;
        }
        Err(e) => return Err(e),
    }
    Ok(Some(RunDir {
        dir: Some(run_dir_open()?),
        _lock: first,
    }))
}

/// Creates the empty file a namespace is bound onto; `EEXIST` says the name is taken. One left
/// by a killed run (nothing mounted on it) is taken back. None under --dry-run.
fn placeholder(
    trace: &Trace,
    dir: Option<&Dir>,
    name: &str,
    path: &str,
) -> Result<Option<OwnedFd>> {
    let p = cstr(name)?;
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let create = || {
        sys(
            trace,
            ("open", Cap::DacOverride),
            path,
            format_args!("open(\"{path}\", O_RDONLY|O_CREAT|O_EXCL|O_NOFOLLOW, 0)"),
            // There is always a directory when the call is sent (none only under --dry-run).
            || match dir {
                Some(d) => rustix::fs::openat(d.fd(), p.as_c_str(), flags, Mode::empty()),
                None => Err(rustix::io::Errno::NOENT),
            },
        )
    };
    let fd = match (create(), dir) {
        (Err(e), Some(d)) if e.is(libc::EEXIST) => {
            // Under the lock no other add is between its placeholder and its mount: an empty
            // file with nothing mounted is a killed run's, and is taken back.
            if d.stat_at(name).is_ok_and(|st| is_placeholder(d, &st)) {
                unlink_at(trace, d, name, path)?;
                create()
            } else {
                Err(e)
            }
        }
        (r, _) => r,
    }
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
    let Some(fd) = fd else {
        return Ok(None);
    };
    if let Some(d) = dir {
        d.keep_made(name, &fd)?;
    }
    Ok(Some(fd))
}

/// `unlinkat(dir, name)`, traced as `unlink("path")`.
fn unlink_at(trace: &Trace, dir: &Dir, name: &str, path: &str) -> Result<()> {
    let p = cstr(name)?;
    sys(
        trace,
        ("unlink", Cap::DacOverride),
        path,
        format_args!("unlink(\"{path}\")"),
        || rustix::fs::unlinkat(dir.fd(), p.as_c_str(), rustix::fs::AtFlags::empty()),
    )
    .map(|_| ())
}

/// Undoes a half-made name: the bind mount if there is one, then the file. The unmount does
/// not follow a symlink (`UMOUNT_NOFOLLOW`), and both reach the name from the directory's fd.
fn remove(trace: &Trace, dir: &Dir, name: &str) -> Result<()> {
    let path = dir.child(name);
    // Not mounted (EINVAL) is fine: the file may be only a placeholder.
    match umount_as(
        trace,
        (&dir.via_fd(name), &path),
        libc::MNT_DETACH | libc::UMOUNT_NOFOLLOW,
        "MNT_DETACH|UMOUNT_NOFOLLOW",
    ) {
        Err(e) if !e.is(libc::EINVAL) => return Err(e),
        _ => {}
    }
    unlink_at(trace, dir, name, &path)
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
    let run = run_dir(trace)?;
    let dir = run.as_ref().and_then(|r| r.dir.as_ref());
    let file = placeholder(trace, dir, name, &path)?;
    let target = file
        .as_ref()
        .map(|f| format!("/proc/self/fd/{}", f.as_raw_fd()))
        .unwrap_or_else(|| path.clone());
    let res = mount_as(
        trace,
        (source, source),
        (&target, &path),
        Some("none"),
        libc::MS_BIND,
        "MS_BIND",
    )
    .and_then(|()| inside());
    if let (Err(_), Some(d)) = (&res, dir) {
        let _ = remove(trace, d, name);
    }
    res
}

/// `nsexec add NAME`: a new namespace, named. With `lo_up`, its loopback comes up (a Docker
/// "none" container's one link).
pub fn add(trace: &Trace, name: &str, lo_up: bool) -> Result<()> {
    let path = path_of(name)?;
    // A taken name is said before a namespace is made for nothing (O_EXCL still decides; a
    // killed run's placeholder is taken back there).
    let taken = run_dir_open()
        .ok()
        .and_then(|d| Some(!is_placeholder(&d, &d.stat_at(name).ok()?)));
    if taken == Some(true) {
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
    // Back home however it went: every later step (and batch line) belongs there. When the
    // add failed, its error is the one to tell (in a user namespace a mount's EPERM is the
    // cause, and the setns back fails for the same reason).
    let back = if trace.sends(Access::Write) {
        setns(trace, &home, "our own namespace")
    } else {
        Ok(())
    };
    // (A failed add stops a batch there, so nothing runs in the wrong namespace after it.)
    made.and(back)
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
    for n in names {
        existing(n)?;
    }
    let dir = run_dir_open()?;
    // The unlink must be able to follow the unmount: a name unmounted and then left behind (a
    // read-only /run/netns, no write permission on it) is a namespace lost. Asked of the kernel
    // as the unlink will be judged (effective ids and capabilities), before anything changes.
    if let Some(first) = names.first() {
        let d = cstr(&dir.proc_path())?;
        use rustix::fs::{Access as Perm, AtFlags, CWD};
        rustix::fs::accessat(
            CWD,
            d.as_c_str(),
            Perm::WRITE_OK | Perm::EXEC_OK,
            AtFlags::EACCESS,
        )
        .map_err(|e| Error::os("unlink", dir.child(first), e).needing(Cap::DacOverride))?;
    }
    for n in names {
        remove(trace, &dir, n)?;
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
    /// Only the empty file of an `add` or `attach` killed part-way: no namespace. `add` of the
    /// same name takes it back.
    pub placeholder: bool,
}

/// A namespace's nsfs identity: (device, inode).
type NsId = (u64, u64);

fn id_of(st: &rustix::fs::Stat) -> NsId {
    (st.st_dev, st.st_ino)
}

/// The names under /run/netns that are namespace files (symlinks and other strays skipped),
/// with their identities (None: a killed run's placeholder), sorted by name. No /run/netns is
/// no names; one that cannot be read is an error.
fn entries() -> Result<Vec<(String, Option<NsId>)>> {
    let dir = match run_dir_open() {
        Err(e) if e.is(libc::ENOENT) => return Ok(Vec::new()),
        r => r?,
    };
    let mut v = Vec::new();
    for n in dir.entries()? {
        // One removed while this reads is not listed.
        let Ok(st) = dir.stat_at(&n) else { continue };
        if st.st_mode & libc::S_IFMT != libc::S_IFREG {
            continue;
        }
        let id = (!is_placeholder(&dir, &st)).then(|| id_of(&st));
        v.push((n, id));
    }
    Ok(v)
}

/// Every process's namespace identity: (pid, (dev, ino)), by PID. Processes that end while
/// this reads, or that are not ours to read, are left out; a /proc that cannot be read is an
/// error.
fn process_namespaces() -> Result<Vec<(u32, (u64, u64))>> {
    let d = std::fs::read_dir("/proc").map_err(|e| {
        Error::errno("open", "/proc", e.raw_os_error().unwrap_or(libc::EIO))
            .needing(Cap::DacOverride)
    })?;
    let mut v: Vec<(u32, (u64, u64))> = d
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, ns_id(&format!("/proc/{pid}/ns/net")).ok()?)))
        .collect();
    v.sort();
    Ok(v)
}

/// `nsexec list`
pub fn list(trace: &Trace) -> Result<Vec<Named>> {
    let procs = process_namespaces()?;
    let mut k = crate::kernel::Kernel::new(*trace);
    let mut out = Vec::new();
    for (name, id) in entries()? {
        let nsid = match (id, NsTarget::Name(name.clone()).open()) {
            (Some(_), Ok(fd)) => k.nsid(&fd, &name)?,
            _ => None,
        };
        out.push(Named {
            pids: procs.iter().filter(|(_, p)| Some(*p) == id).count(),
            name,
            nsid,
            placeholder: id.is_none(),
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
    Ok(entries()?
        .into_iter()
        .filter(|(_, x)| *x == Some(id))
        .map(|(n, _)| n)
        .collect())
}

/// `nsexec pids NAME`: the processes in a named namespace, by PID.
pub fn pids(name: &str) -> Result<Vec<u32>> {
    let (dir, st) = existing(name)?;
    if is_placeholder(&dir, &st) {
        return Err(unfinished(name));
    }
    let id = id_of(&st);
    Ok(process_namespaces()?
        .into_iter()
        .filter(|(_, x)| *x == id)
        .map(|(p, _)| p)
        .collect())
}

fn unfinished(name: &str) -> Error {
    Error::state(
        name.to_string(),
        format!(
            "{RUN_DIR}/{name} is only the placeholder of an add that was stopped part-way \
             (no namespace); nsexec add {name} takes it back"
        ),
    )
}
