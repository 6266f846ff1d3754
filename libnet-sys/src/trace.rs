//! `--explain` and `--dry-run`: every kernel request printed on stderr as it is made, with its
//! result. A mutating request under `--dry-run` is printed and not made.
//!
//! Every layer (ioctl, sysfs, netlink) goes through [`Trace`], so a request cannot reach the
//! kernel without being shown when the user asked to see it.

use crate::error::{errno_name, strerror};
use std::fmt;
use std::io::Write;

#[derive(Clone, Copy, Debug, Default)]
pub struct Trace {
    /// Print every request and its result.
    pub explain: bool,
    /// Print mutating requests and do not make them.
    pub dry_run: bool,
    /// Prefix of each line: the program's name.
    pub prog: &'static str,
}

/// Whether a request changes kernel state (and so is skipped under `--dry-run`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Access {
    Read,
    Write,
}

impl Trace {
    pub fn quiet(prog: &'static str) -> Trace {
        Trace {
            explain: false,
            dry_run: false,
            prog,
        }
    }

    /// Whether a request of this kind is printed.
    pub fn shows(&self, access: Access) -> bool {
        self.explain || (self.dry_run && access == Access::Write)
    }

    /// Whether a request of this kind is really made.
    pub fn sends(&self, access: Access) -> bool {
        !(self.dry_run && access == Access::Write)
    }

    /// One request line: `prog: <what>`.
    pub fn request(&self, access: Access, what: fmt::Arguments) {
        if self.shows(access) {
            self.emit(format_args!("{what}"));
        }
    }

    /// Continuation lines (a decoded message), indented under the request.
    pub fn detail(&self, access: Access, text: &str) {
        if self.shows(access) && !text.is_empty() {
            let mut err = std::io::stderr().lock();
            for line in text.lines() {
                let _ = writeln!(err, "    {line}");
            }
        }
    }

    /// The result of the request just printed.
    pub fn outcome(&self, access: Access, result: std::result::Result<fmt::Arguments, i32>) {
        if !self.shows(access) {
            return;
        }
        if !self.sends(access) {
            self.emit(format_args!("  = not sent (--dry-run)"));
            return;
        }
        match result {
            Ok(what) => self.emit(format_args!("  = {what}")),
            Err(errno) => self.emit(format_args!(
                "  = -1 {} ({})",
                errno_name(errno),
                strerror(errno)
            )),
        }
    }

    fn emit(&self, line: fmt::Arguments) {
        // One write(2) a line: runs in parallel do not interleave inside a line.
        let _ = std::io::stderr()
            .lock()
            .write_all(format!("{}: {}\n", self.prog, line).as_bytes());
    }
}
