//! The environment a command runs in inside a network namespace, as `ip netns exec` builds it:
//! join (or make) the namespace, a mount namespace of its own that does not propagate back,
//! a sysfs that shows this namespace, and `/etc/netns/NAME/*` bound over `/etc/*`. Then the
//! caller drops privileges and execs in place: no parent lingers.

use super::named::{loopback_up, mount, mount_as, setns, umount, unshare};
use super::walk::{fstat, Dir};
use super::NsTarget;
use crate::caps::caller_is_root;
use crate::error::{last_errno, Error, Result};
use crate::trace::Trace;
use std::ffi::CString;
use std::os::fd::AsRawFd;

/// Where per-namespace files for `/etc` live, as iproute2 keeps them.
pub const ETC_DIR: &str = "/etc/netns";

/// Which namespace a command runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A name under /run/netns.
    Name(String),
    /// The namespace of a running process (Docker's container mode).
    Pid(u32),
    /// A fresh namespace with loopback up and nothing else (Docker's none mode).
    New,
}

/// Joins the target's network namespace and builds the mount view for it. Returns the
/// warnings a person should see (an `/etc/netns` entry that could not be bound), which do not
/// stop the command, as with `ip netns exec`.
pub fn enter(trace: &Trace, target: &Target) -> Result<Vec<String>> {
    let sys_tag = match target {
        Target::Name(n) => {
            // Present, and not a symlink planted in /run/netns.
            super::named::existing(n)?;
            let fd = NsTarget::Name(n.clone()).open()?;
            setns(trace, &fd, n)?;
            n.clone()
        }
        Target::Pid(p) => {
            let fd = NsTarget::Pid(*p).open().map_err(|e| {
                if e.is(libc::ENOENT) {
                    Error::state(p.to_string(), format!("no process {p}"))
                } else {
                    e
                }
            })?;
            setns(trace, &fd, &format!("/proc/{p}/ns/net"))?;
            "none".to_string()
        }
        Target::New => {
            unshare(trace, libc::CLONE_NEWNET, "CLONE_NEWNET")?;
            loopback_up(trace)?;
            "none".to_string()
        }
    };
    unshare(trace, libc::CLONE_NEWNS, "CLONE_NEWNS")?;
    // Nothing mounted from here on reaches the namespace we came from.
    mount(
        trace,
        "",
        "/",
        Some("none"),
        libc::MS_REC | libc::MS_SLAVE,
        "MS_REC|MS_SLAVE",
    )?;
    // /sys shows the namespace of whoever mounted it: a fresh one shows this namespace.
    let _ = umount(trace, "/sys");
    if let Err(e) = mount(trace, &sys_tag, "/sys", Some("sysfs"), 0, "0") {
        mount(
            trace,
            &sys_tag,
            "/sys",
            Some("sysfs"),
            libc::MS_RDONLY,
            "MS_RDONLY",
        )
        .map_err(|_| e)?;
    }
    let mut warnings = Vec::new();
    if let Target::Name(n) = target {
        bind_etc(trace, n, &mut warnings)?;
    }
    Ok(warnings)
}

/// Each file of `/etc/netns/NAME/` bound over its `/etc` counterpart. A symlink there is not
/// followed, and an entry without a counterpart is skipped with a warning. For a caller who is
/// not root, only root's files in root's directories are bound: a user's own file over `/etc`
/// would be read by every set-user-ID program the command runs.
fn bind_etc(trace: &Trace, name: &str, warnings: &mut Vec<String>) -> Result<()> {
    let dir = match Dir::open(&format!("{ETC_DIR}/{name}")) {
        Ok(d) => d,
        Err(e) if e.is(libc::ENOENT) => return Ok(()),
        Err(e) => {
            warnings.push(format!(
                "nothing bound from {ETC_DIR}/{name}: {}",
                e.reason()
            ));
            return Ok(());
        }
    };
    let root = caller_is_root();
    for e in dir.entries()? {
        let src = dir.child(&e);
        let dst = format!("/etc/{e}");
        // O_PATH: the entry itself, whatever it is; the bind is from this fd, so what was
        // checked is what is bound.
        let fd = match dir.open_at(&e, libc::O_PATH) {
            Ok(fd) => fd,
            Err(err) => {
                warnings.push(format!("{src} not bound: {}", err.reason()));
                continue;
            }
        };
        let st = fstat(&fd, &src)?;
        if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
            warnings.push(format!("{src} is a symlink; not followed, not bound"));
            continue;
        }
        if !root && st.st_uid != 0 {
            warnings.push(format!(
                "{src} not bound: not owned by root (a user who is not root gets root's files only)"
            ));
            continue;
        }
        if std::fs::symlink_metadata(&dst).is_err() {
            warnings.push(format!(
                "{src} not bound: there is no {dst} to bind it over"
            ));
            continue;
        }
        let from = format!("/proc/self/fd/{}", fd.as_raw_fd());
        if let Err(err) = mount_as(
            trace,
            (&from, &src),
            (&dst, &dst),
            Some("none"),
            libc::MS_BIND,
            "MS_BIND",
        ) {
            warnings.push(format!("{src} not bound over {dst}: {}", err.reason()));
        }
    }
    Ok(())
}

/// `--user UID[:GID]`: supplementary groups cleared, then the group, then the user.
pub fn become_user(trace: &Trace, uid: u32, gid: u32) -> Result<()> {
    use super::named::sys;
    use crate::caps::Cap;
    let who = format!("{uid}:{gid}");
    // rustix's set_thread_* change the calling thread's ids only (the raw syscalls, not
    // glibc's all-threads setxid broadcast); nsexec is single-threaded here, so the thread is
    // the process.
    sys(
        trace,
        ("setgroups", Cap::Setgid),
        &who,
        format_args!("setgroups(0, [])"),
        || rustix::thread::set_thread_groups(&[]),
    )?;
    sys(
        trace,
        ("setgid", Cap::Setgid),
        &who,
        format_args!("setgid({gid})"),
        // Unchecked: a --user of 4294967295 (-1) goes to the kernel, which refuses it
        // (EINVAL), as it did through libc.
        || rustix::thread::set_thread_gid(rustix::fs::Gid::from_raw_unchecked(gid)),
    )?;
    sys(
        trace,
        ("setuid", Cap::Setuid),
        &who,
        format_args!("setuid({uid})"),
        || rustix::thread::set_thread_uid(rustix::fs::Uid::from_raw_unchecked(uid)),
    )?;
    Ok(())
}

/// `execvp`: returns only when it failed (the command's errno: ENOENT not found, EACCES or
/// ENOEXEC not executable).
pub fn exec(trace: &Trace, argv: &[String]) -> Error {
    let shown = argv.join(" ");
    let c: std::result::Result<Vec<CString>, _> =
        argv.iter().map(|a| CString::new(a.as_str())).collect();
    let Ok(c) = c else {
        return Error::invalid(shown, "an argument cannot contain a NUL byte");
    };
    if c.is_empty() {
        return Error::invalid("", "no command given");
    }
    trace.request(
        crate::trace::Access::Write,
        format_args!("execvp(\"{}\", [{shown}])", argv[0]),
    );
    if !trace.sends(crate::trace::Access::Write) {
        trace.outcome(crate::trace::Access::Write, Ok(format_args!("0")));
        return Error::state(shown, "not run (--dry-run)");
    }
    let mut ptrs: Vec<*const libc::c_char> = c.iter().map(|a| a.as_ptr()).collect();
    ptrs.push(std::ptr::null());
    // SAFETY: a NULL-terminated array of valid C strings that outlive the call.
    unsafe { libc::execvp(ptrs[0], ptrs.as_ptr()) };
    let errno = last_errno();
    trace.outcome(crate::trace::Access::Write, Err(errno));
    Error::errno("execvp", argv[0].clone(), errno)
}
