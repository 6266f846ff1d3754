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

// <linux/capability.h>: struct __user_cap_header_struct, _LINUX_CAPABILITY_VERSION_3
#[repr(C)]
struct Header {
    version: u32,
    pid: i32,
}
const VERSION_3: u32 = 0x2008_0522;

// struct __user_cap_data_struct
#[repr(C)]
#[derive(Default, Clone, Copy)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Whether the calling thread holds `cap` in its effective set.
pub fn has_effective(cap: u32) -> bool {
    get().is_ok_and(|d| d[(cap / 32) as usize].effective & (1 << (cap % 32)) != 0)
}

/// Whether the user who ran this program is root (real uid 0). A user who is not, running an
/// nsexec given file capabilities (or set-user-ID), is an unprivileged caller: what they name
/// is opened with their rights, what is made for them is root's, what runs for them has no
/// capability and `no_new_privs`.
pub fn caller_is_root() -> bool {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() == 0 }
}

fn get() -> crate::Result<[Data; 2]> {
    let mut h = Header {
        version: VERSION_3,
        pid: 0,
    };
    let mut d = [Data::default(); 2];
    // SAFETY: capget with version 3 writes exactly two Data structs.
    if unsafe { libc::syscall(libc::SYS_capget, &mut h as *mut Header, d.as_mut_ptr()) } < 0 {
        return Err(crate::error::Error::last_os("capget", ""));
    }
    Ok(d)
}

fn set(d: &[Data; 2], what: &'static str) -> crate::Result<()> {
    let mut h = Header {
        version: VERSION_3,
        pid: 0,
    };
    // SAFETY: capset with version 3 reads exactly two Data structs.
    if unsafe { libc::syscall(libc::SYS_capset, &mut h as *mut Header, d.as_ptr()) } < 0 {
        return Err(crate::error::Error::last_os("capset", what));
    }
    Ok(())
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
    let mut none = saved;
    for d in &mut none {
        d.effective = 0;
    }
    // SAFETY: getuid/getgid/geteuid/getegid have no preconditions; setfsuid/setfsgid to the
    // real or the effective id is always allowed.
    let (ruid, rgid, euid, egid) = unsafe {
        (
            libc::getuid(),
            libc::getgid(),
            libc::geteuid(),
            libc::getegid(),
        )
    };
    // SAFETY: as above.
    unsafe {
        libc::setfsgid(rgid);
        libc::setfsuid(ruid);
    }
    let r = set(&none, "no effective capability").map(|()| f());
    // SAFETY: as above.
    unsafe {
        libc::setfsuid(euid);
        libc::setfsgid(egid);
    }
    // Back to what it was (the permitted set still holds it all).
    set(&saved, "the effective capabilities back")?;
    r
}

/// Before an exec that must start with nothing: empties the bounding set (when CAP_SETPCAP
/// allows) and the ambient set, and sets no_new_privs (so no exec can gain a capability or a
/// set-user-ID back) when the bounding set could not be emptied or the caller is not root:
/// a user given nsexec's capabilities must not reach euid 0 through a set-user-ID program.
/// The effective set is left for what still needs it (changing user), before [`clear`].
pub fn limit_future() -> crate::Result<()> {
    use crate::error::Error;
    // SAFETY: prctl with integer arguments only.
    let last = unsafe { libc::prctl(libc::PR_CAPBSET_READ, 0, 0, 0, 0) };
    let mut bounding_dropped = last >= 0;
    for cap in 0..64 {
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_CAPBSET_READ, cap, 0, 0, 0) } <= 0 {
            continue;
        }
        // SAFETY: as above.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) } < 0 {
            bounding_dropped = false;
            break;
        }
    }
    if !bounding_dropped || !caller_is_root() {
        // SAFETY: as above.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } < 0 {
            return Err(Error::last_os("prctl(PR_SET_NO_NEW_PRIVS)", ""));
        }
    }
    // SAFETY: as above. EINVAL means a kernel without ambient capabilities: nothing to clear.
    if unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        )
    } < 0
        && crate::error::last_errno() != libc::EINVAL
    {
        return Err(Error::last_os("prctl(PR_CAP_AMBIENT_CLEAR_ALL)", ""));
    }
    Ok(())
}

/// Empties the effective, permitted and inheritable sets.
pub fn clear() -> crate::Result<()> {
    set(&[Data::default(); 2], "every capability")
}
