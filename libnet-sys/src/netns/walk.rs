//! Directories under `/run/netns` and `/etc/netns`, reached without following any symlink: a
//! path is walked from `/` one component at a time, each opened from the one before with
//! `O_NOFOLLOW`, and every file in it is then reached from the directory's fd. A symlink
//! swapped in anywhere on the way (`renameat2(RENAME_EXCHANGE)` between a check and an open)
//! is refused, never followed.
//!
//! For a caller who is not root (nsexec given file capabilities), every directory on the way
//! must be root's, and what is made for them is given to root.

use super::named::sys;
use crate::caps::{caller_is_root, Cap};
use crate::error::{Error, Result};
use crate::trace::{Access, Trace};
use rustix::fs::{AtFlags, Mode, OFlags, Stat};
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

fn cstr(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::invalid(s.to_string(), "a path cannot contain a NUL byte"))
}

/// `fstat` of an open file.
pub(crate) fn fstat(fd: impl AsFd, path: &str) -> Result<Stat> {
    rustix::fs::fstat(fd).map_err(|e| Error::os("fstat", path, e))
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
        Dir::walk(None, path)?
            .ok_or_else(|| Error::errno("open", path, libc::ENOENT).needing(Cap::DacOverride))
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
                rustix::fs::CWD,
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
            if !root && fstat(&fd, &here)?.st_uid != 0 {
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
        open_at(&self.fd, name, &self.child(name), flags, mode)
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
            use rustix::fs::AtFlags;
            let dir = fstat(fd, &path).is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR);
            let flags = if dir {
                AtFlags::REMOVEDIR
            } else {
                AtFlags::empty()
            };
            let _ = rustix::fs::unlinkat(&self.fd, name, flags);
        })
    }

    /// The directory's own metadata.
    pub fn stat(&self) -> Result<Stat> {
        fstat(&self.fd, &self.path)
    }

    /// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`: a symlink is described, not followed; a mount
    /// on `name` is crossed (its root is described).
    pub fn stat_at(&self, name: &str) -> Result<Stat> {
        let c = cstr(name)?;
        rustix::fs::statat(&self.fd, c.as_c_str(), AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| Error::os("lstat", self.child(name), e))
    }

    /// The names in it, sorted.
    pub fn entries(&self) -> Result<Vec<String>> {
        let d = std::fs::read_dir(self.proc_path()).map_err(|e| {
            Error::errno("open", self.path.clone(), os(&e)).needing(Cap::DacOverride)
        })?;
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
fn mkdir_at(trace: &Trace, dir: &Dir, name: &str, shown: &str) -> Result<()> {
    let c = cstr(name)?;
    sys(
        trace,
        ("mkdir", Cap::DacOverride),
        shown,
        format_args!("mkdir(\"{shown}\", 0755)"),
        || rustix::fs::mkdirat(&dir.fd, c.as_c_str(), Mode::from_raw_mode(0o755)),
    )
    .map(|_| ())
}

/// `openat` with `O_NOFOLLOW | O_CLOEXEC`; a symlink is said as such.
fn open_at(
    dir: impl AsFd,
    name: &str,
    shown: &str,
    flags: libc::c_int,
    mode: libc::mode_t,
) -> Result<OwnedFd> {
    let c = cstr(name)?;
    let oflags = OFlags::from_bits_retain(flags as u32) | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let errno = match rustix::fs::openat(&dir, c.as_c_str(), oflags, Mode::from_raw_mode(mode)) {
        Ok(fd) => return Ok(fd),
        Err(e) => e.raw_os_error(),
    };
    // O_NOFOLLOW|O_DIRECTORY on a symlink is ENOTDIR: said as the symlink it is.
    let link = errno == libc::ENOTDIR
        && rustix::fs::statat(&dir, c.as_c_str(), AtFlags::SYMLINK_NOFOLLOW)
            .is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFLNK);
    Err(match if link { libc::ELOOP } else { errno } {
        libc::ELOOP => Error::state(
            shown.to_string(),
            format!("{shown} is a symlink; it is not followed"),
        ),
        libc::ENOTDIR if flags & libc::O_DIRECTORY != 0 => {
            Error::state(shown.to_string(), format!("{shown} is not a directory"))
        }
        errno => Error::errno("open", shown.to_string(), errno).needing(Cap::DacOverride),
    })
}

/// `fchown(fd, 0, 0)`: what nsexec makes for a user who is not root is root's (needs
/// CAP_CHOWN), so that user cannot put files of their own where `exec` binds them.
fn give_to_root(fd: &OwnedFd, path: &str) -> Result<()> {
    let root = (Some(rustix::fs::Uid::ROOT), Some(rustix::fs::Gid::ROOT));
    rustix::fs::fchown(fd, root.0, root.1)
        .map_err(|e| Error::os("chown", path, e).needing(Cap::Chown))
}
