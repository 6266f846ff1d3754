//! Capabilities. Nothing is refused up front: the kernel's errno is the final word (a user
//! namespace may grant CAP_NET_ADMIN to a user who is not root). After an EPERM, this tells
//! whether the capability was missing, so the message can say so.

/// `CAP_NET_ADMIN` from <linux/capability.h>.
pub const CAP_NET_ADMIN: u32 = 12;

/// `CAP_NET_RAW` from <linux/capability.h>: raw sockets, such as the one xtables calls go
/// through.
pub const CAP_NET_RAW: u32 = 13;

/// `CAP_CHOWN` from <linux/capability.h>.
pub const CAP_CHOWN: u32 = 0;

/// `CAP_DAC_OVERRIDE` from <linux/capability.h>.
pub const CAP_DAC_OVERRIDE: u32 = 1;

/// `CAP_SETGID` and `CAP_SETUID` from <linux/capability.h>.
pub const CAP_SETGID: u32 = 6;
pub const CAP_SETUID: u32 = 7;

/// `CAP_SYS_PTRACE` from <linux/capability.h>.
pub const CAP_SYS_PTRACE: u32 = 19;

/// `CAP_SYS_ADMIN` from <linux/capability.h>.
pub const CAP_SYS_ADMIN: u32 = 21;

use rustix::thread::{CapabilitySet, CapabilitySets};

/// A capability a step needs, as errors carry it ([`crate::Error::needs`]): the kernel's
/// number and name for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    NetAdmin,
    NetRaw,
    Chown,
    DacOverride,
    Setgid,
    Setuid,
    SysPtrace,
    SysAdmin,
}

impl Cap {
    /// Its number in <linux/capability.h>.
    pub fn number(self) -> u32 {
        match self {
            Cap::NetAdmin => CAP_NET_ADMIN,
            Cap::NetRaw => CAP_NET_RAW,
            Cap::Chown => CAP_CHOWN,
            Cap::DacOverride => CAP_DAC_OVERRIDE,
            Cap::Setgid => CAP_SETGID,
            Cap::Setuid => CAP_SETUID,
            Cap::SysPtrace => CAP_SYS_PTRACE,
            Cap::SysAdmin => CAP_SYS_ADMIN,
        }
    }

    /// Its name in <linux/capability.h>.
    pub fn name(self) -> &'static str {
        match self {
            Cap::NetAdmin => "CAP_NET_ADMIN",
            Cap::NetRaw => "CAP_NET_RAW",
            Cap::Chown => "CAP_CHOWN",
            Cap::DacOverride => "CAP_DAC_OVERRIDE",
            Cap::Setgid => "CAP_SETGID",
            Cap::Setuid => "CAP_SETUID",
            Cap::SysPtrace => "CAP_SYS_PTRACE",
            Cap::SysAdmin => "CAP_SYS_ADMIN",
        }
    }
}

/// Whether the calling thread holds `cap` in its effective set.
pub fn has_effective(cap: u32) -> bool {
    get().is_ok_and(|d| d.effective.bits() & (1 << cap) != 0)
}

/// Whether the user who ran this program is root (real uid 0). A user who is not, running an
/// nsexec given file capabilities (or set-user-ID), is an unprivileged caller: what they name
/// is opened with their rights, what is made for them is root's, what runs for them has no
/// capability and `no_new_privs`.
pub fn caller_is_root() -> bool {
    rustix::process::getuid().is_root()
}

/// `capget`: this thread's sets (capabilities are per thread; the programs have one).
fn get() -> crate::Result<CapabilitySets> {
    rustix::thread::capabilities(None).map_err(|e| crate::error::Error::os("capget", "", e))
}

/// `capset` on this thread.
fn set(d: CapabilitySets, what: &'static str) -> crate::Result<()> {
    rustix::thread::set_capabilities(None, d)
        .map_err(|e| crate::error::Error::os("capset", what, e))
}

/// `setfsuid` and `setfsgid` (no rustix call for them), the user first when `user_first`.
/// They cannot fail when given the real or the effective id, which is all this passes.
fn set_fs_ids(uid: u32, gid: u32, user_first: bool) {
    // SAFETY: plain syscalls with integer arguments; they return the old id, never an error.
    unsafe {
        if user_first {
            libc::setfsuid(uid);
            libc::setfsgid(gid);
        } else {
            libc::setfsgid(gid);
            libc::setfsuid(uid);
        }
    }
}

/// Runs `f` (an open of a file the user named) with the caller's own rights: for a caller who
/// is not root, the file-system ids are the real ones and no capability is effective while `f`
/// runs, so a file the user could not read is refused as it would be to them. Root keeps its
/// rights.
pub fn as_caller<T>(f: impl FnOnce() -> T) -> crate::Result<T> {
    if caller_is_root() {
        return Ok(f());
    }
    let saved = get()?;
    let none = CapabilitySets {
        effective: CapabilitySet::empty(),
        ..saved
    };
    use rustix::process::{getegid, geteuid, getgid, getuid};
    set_fs_ids(getuid().as_raw(), getgid().as_raw(), false);
    let r = set(none, "no effective capability").map(|()| f());
    set_fs_ids(geteuid().as_raw(), getegid().as_raw(), true);
    // Back to what it was (the permitted set still holds it all).
    set(saved, "the effective capabilities back")?;
    r
}

/// Before an exec that must start with nothing: empties the bounding set (when CAP_SETPCAP
/// allows) and the ambient set, and sets no_new_privs (so no exec can gain a capability or a
/// set-user-ID back) when the bounding set could not be emptied or the caller is not root:
/// a user given nsexec's capabilities must not reach euid 0 through a set-user-ID program.
/// The effective set is left for what still needs it (changing user), before [`clear`].
pub fn limit_future() -> crate::Result<()> {
    use crate::error::Error;
    // The bounding set by number, every bit the kernel has (rustix names only the capabilities
    // it knows).
    let capbset = |op: libc::c_int, cap: libc::c_ulong| {
        // SAFETY: prctl with integer arguments only.
        unsafe { libc::prctl(op, cap, 0, 0, 0) }
    };
    let mut bounding_dropped = capbset(libc::PR_CAPBSET_READ, 0) >= 0;
    for cap in 0..64 {
        if capbset(libc::PR_CAPBSET_READ, cap) <= 0 {
            continue;
        }
        if capbset(libc::PR_CAPBSET_DROP, cap) < 0 {
            bounding_dropped = false;
            break;
        }
    }
    if !bounding_dropped || !caller_is_root() {
        rustix::thread::set_no_new_privs(true)
            .map_err(|e| Error::os("prctl(PR_SET_NO_NEW_PRIVS)", "", e))?;
    }
    // EINVAL means a kernel without ambient capabilities: nothing to clear.
    match rustix::thread::clear_ambient_capability_set() {
        Err(e) if e != rustix::io::Errno::INVAL => {
            Err(Error::os("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", "", e))
        }
        _ => Ok(()),
    }
}

/// Empties the effective, permitted and inheritable sets.
pub fn clear() -> crate::Result<()> {
    let none = CapabilitySet::empty();
    let sets = CapabilitySets {
        effective: none,
        permitted: none,
        inheritable: none,
    };
    set(sets, "every capability")
}
