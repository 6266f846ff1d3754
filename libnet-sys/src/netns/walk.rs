//! Directories under `/run/netns` and `/etc/netns`, reached without following any symlink: a
//! path is walked from `/` one component at a time, each opened from the one before with
//! `O_NOFOLLOW`, and every file in it is then reached from the directory's fd. A symlink
//! swapped in anywhere on the way (`renameat2(RENAME_EXCHANGE)` between a check and an open)
//! is refused, never followed.
//!
//! For a caller who is not root (nsexec given file capabilities), every directory on the way
//! must be root's, and what is made for them is given to root.

use super::named::sys;
use crate::caps::caller_is_root;
use crate::error::{last_errno, Error, Result};
use crate::trace::{Access, Trace};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

fn cstr(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::invalid(s.to_string(), "a path cannot contain a NUL byte"))
}

/// `fstat` of an open file.
pub(crate) fn fstat(fd: RawFd, path: &str) -> Result<libc::stat> {
    // SAFETY: stat is plain old data; fstat fills it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a valid buffer; a bad fd is an error.
    if unsafe { libc::fstat(fd, &mut st) } < 0 {
        return Err(Error::last_os("fstat", path));
    }
    Ok(st)
}

/// An open directory and the path it was reached by.
pub struct Dir {
    fd: OwnedFd,
    pub path: String,
}

impl Dir {
    /// Walks to `path` (absolute). A missing directory is `ENOENT` (an `open` error on the
    /// first missing path); a symlink or a file on the way is refused.
    pub fn open(path: &str) -> Result<Dir> {
        // Only a dry run that would make something stops short; this one makes nothing.
        Dir::walk(None, path)?.ok_or_else(|| Error::errno("open", path, libc::ENOENT))
    }

    /// As [`Dir::open`], making what is missing (`mkdir`, mode 0755, traced; given to root for
    /// a caller who is not root). None under --dry-run when something was missing (the rest
    /// of the `mkdir`s are shown, not made).
    pub fn open_or_make(trace: &Trace, path: &str) -> Result<Option<Dir>> {
        Dir::walk(Some(trace), path)
    }

    fn walk(make: Option<&Trace>, path: &str) -> Result<Option<Dir>> {
        let root = caller_is_root();
        let mut dir = Dir {
            fd: open_at(
                libc::AT_FDCWD,
                "/",
                "/",
                libc::O_PATH | libc::O_DIRECTORY,
                0,
            )?,
            path: String::new(),
        };
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        for (i, part) in parts.iter().enumerate() {
            let here = format!("{}/{part}", dir.path);
            let flags = libc::O_RDONLY | libc::O_DIRECTORY;
            let fd = match (dir.open_at(part, flags), make) {
                (Err(e), Some(trace)) if e.is(libc::ENOENT) => {
                    let made = mkdir_at(trace, &dir, part, &here);
                    match made {
                        Err(e) if !e.is(libc::EEXIST) => return Err(e),
                        _ => {}
                    }
                    if !trace.sends(Access::Write) {
                        // A dry run made nothing: the rest is shown, not walked.
                        for j in i + 1..parts.len() {
                            let p = format!("/{}", parts[..=j].join("/"));
                            mkdir_at(trace, &dir, parts[j], &p)?;
                        }
                        return Ok(None);
                    }
                    let fd = dir.open_at(part, flags)?;
                    dir.keep_made(part, &fd)?;
                    fd
                }
                (r, _) => r?,
            };
            if !root && fstat(fd.as_raw_fd(), &here)?.st_uid != 0 {
                return Err(Error::state(
                    here.clone(),
                    format!("{here} is not owned by root; not used for a user who is not root"),
                ));
            }
            dir = Dir { fd, path: here };
        }
        if dir.path.is_empty() {
            dir.path = "/".into();
        }
        Ok(Some(dir))
    }

    /// `openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC)`: a symlink is refused.
    pub fn open_at(&self, name: &str, flags: libc::c_int) -> Result<OwnedFd> {
        self.create_at(name, flags, 0)
    }

    /// As [`Dir::open_at`], with a mode for `O_CREAT`.
    pub fn create_at(&self, name: &str, flags: libc::c_int, mode: libc::mode_t) -> Result<OwnedFd> {
        open_at(self.fd.as_raw_fd(), name, &self.child(name), flags, mode)
    }

    /// `dir/name`, as a person reads it.
    pub fn child(&self, name: &str) -> String {
        format!("{}/{name}", self.path.trim_end_matches('/'))
    }

    /// A path that reaches the directory through this fd, for the calls that take only paths
    /// (`mount`, `umount2`): `/proc/self/fd/N`.
    pub fn proc_path(&self) -> String {
        format!("/proc/self/fd/{}", self.fd.as_raw_fd())
    }

    /// As [`Dir::proc_path`], for `name` in the directory.
    pub fn via_fd(&self, name: &str) -> String {
        format!("{}/{name}", self.proc_path())
    }

    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// `name`, just made in it and open on `fd`, given to root for a caller who is not root;
    /// when that is refused it is removed again (nothing of the user's is left behind) and the
    /// refusal returned.
    pub fn keep_made(&self, name: &str, fd: &OwnedFd) -> Result<()> {
        if caller_is_root() {
            return Ok(());
        }
        let path = self.child(name);
        give_to_root(fd, &path).inspect_err(|_| {
            let dir = fstat(fd.as_raw_fd(), &path)
                .is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR);
            if let Ok(c) = cstr(name) {
                // SAFETY: a valid C string and an open directory fd.
                unsafe {
                    libc::unlinkat(
                        self.fd.as_raw_fd(),
                        c.as_ptr(),
                        if dir { libc::AT_REMOVEDIR } else { 0 },
                    )
                };
            }
        })
    }

    /// The directory's own metadata.
    pub fn stat(&self) -> Result<libc::stat> {
        fstat(self.fd.as_raw_fd(), &self.path)
    }

    /// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`: a symlink is described, not followed; a mount
    /// on `name` is crossed (its root is described).
    pub fn stat_at(&self, name: &str) -> Result<libc::stat> {
        let c = cstr(name)?;
        // SAFETY: stat is plain old data; fstatat fills it.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: a valid C string, an open fd and a valid buffer.
        let r = unsafe {
            libc::fstatat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if r < 0 {
            return Err(Error::last_os("lstat", self.child(name)));
        }
        Ok(st)
    }

    /// The names in it, sorted.
    pub fn entries(&self) -> Result<Vec<String>> {
        let d = std::fs::read_dir(self.proc_path())
            .map_err(|e| Error::errno("open", self.path.clone(), os(&e)))?;
        let mut v = Vec::new();
        for e in d {
            let e = e.map_err(|e| Error::errno("getdents", self.path.clone(), os(&e)))?;
            v.push(e.file_name().to_string_lossy().into_owned());
        }
        v.sort();
        Ok(v)
    }
}

fn os(e: &std::io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EIO)
}

/// `mkdirat(dir, name, 0755)`, traced as `mkdir("path", 0755)`.
fn mkdir_at(trace: &Trace, dir: &Dir, name: &str, shown: &str) -> Result<libc::c_int> {
    let c = cstr(name)?;
    sys(
        trace,
        "mkdir",
        shown,
        format_args!("mkdir(\"{shown}\", 0755)"),
        // SAFETY: a valid C string and an open directory fd.
        || unsafe { libc::mkdirat(dir.fd.as_raw_fd(), c.as_ptr(), 0o755) },
    )
}

/// `openat` with `O_NOFOLLOW | O_CLOEXEC`; a symlink is said as such.
fn open_at(
    dirfd: RawFd,
    name: &str,
    shown: &str,
    flags: libc::c_int,
    mode: libc::mode_t,
) -> Result<OwnedFd> {
    let c = cstr(name)?;
    // SAFETY: a valid C string; the result is checked.
    let fd = unsafe {
        libc::openat(
            dirfd,
            c.as_ptr(),
            flags | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    };
    if fd < 0 {
        let errno = last_errno();
        // O_NOFOLLOW|O_DIRECTORY on a symlink is ENOTDIR: said as the symlink it is.
        // SAFETY: stat is plain old data; fstatat fills it.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: a valid C string, an fd and a buffer.
        let link = errno == libc::ENOTDIR
            && unsafe { libc::fstatat(dirfd, c.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) } == 0
            && st.st_mode & libc::S_IFMT == libc::S_IFLNK;
        return Err(match if link { libc::ELOOP } else { errno } {
            libc::ELOOP => Error::state(
                shown.to_string(),
                format!("{shown} is a symlink; it is not followed"),
            ),
            libc::ENOTDIR if flags & libc::O_DIRECTORY != 0 => {
                Error::state(shown.to_string(), format!("{shown} is not a directory"))
            }
            errno => Error::errno("open", shown.to_string(), errno),
        });
    }
    // SAFETY: fd is fresh and ours.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `fchown(fd, 0, 0)`: what nsexec makes for a user who is not root is root's (needs
/// CAP_CHOWN), so that user cannot put files of their own where `exec` binds them.
fn give_to_root(fd: &OwnedFd, path: &str) -> Result<()> {
    // SAFETY: an open fd.
    if unsafe { libc::fchown(fd.as_raw_fd(), 0, 0) } < 0 {
        return Err(Error::last_os("chown", path));
    }
    Ok(())
}
