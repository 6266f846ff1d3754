//! What every program shares: the common options (the design card's, kept outside the repository
//! in ../shared/DESIGN.md; README and each man page describe them), exit statuses, batch files,
//! and a small JSON writer (no serde: a few hundred bytes instead of tens of kilobytes).

use libnet_sys::error::Cause;
use libnet_sys::{Error, Trace};
use std::fmt::Write as _;

/// Exit statuses: 0 done, 1 the operation failed, 2 usage error.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAIL: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

/// The options every program takes before its command.
#[derive(Default, Debug)]
pub struct Common {
    pub via: Option<String>,
    pub explain: bool,
    pub dry_run: bool,
    pub json: bool,
    pub batch: Option<String>,
    pub help: bool,
    pub version: bool,
}

/// A failure on its way to the user: the message (without the program's name) and the status.
pub struct Failure {
    pub message: String,
    pub status: i32,
    /// Printed without the program's name: a message kept byte for byte from the tool this
    /// program replaces, because scripts match it.
    pub bare: bool,
    /// Lines printed after it, as they are (brctl's usage line, an undo's report).
    pub then: Vec<String>,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: EXIT_USAGE,
            bare: false,
            then: Vec::new(),
        }
    }
    pub fn fail(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: EXIT_FAIL,
            bare: false,
            then: Vec::new(),
        }
    }
    pub fn compat(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: EXIT_FAIL,
            bare: true,
            then: Vec::new(),
        }
    }

    /// The line for stderr.
    pub fn line(&self, prog: &str) -> String {
        if self.bare {
            self.message.clone()
        } else {
            format!("{prog}: {}", self.message)
        }
    }

    /// Says it on stderr: its line, then the lines after it.
    pub fn report(&self, prog: &str) {
        say(&self.line(prog));
        self.report_then();
    }

    fn report_then(&self) {
        for l in &self.then {
            say(l);
        }
    }
}

/// Splits the common options from the front of `args`; returns the rest (the command and its
/// arguments). Options end at the first word that is not one, after `--`, or at one of
/// `commands`: a program's commands spelled as options (`ipfwd --print-sysctl`).
pub fn parse_common(args: &[String], commands: &[&str]) -> Result<(Common, Vec<String>), Failure> {
    let mut c = Common::default();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let mut value = |name: &str| -> Result<String, Failure> {
            i += 1;
            args.get(i)
                .cloned()
                .ok_or_else(|| Failure::usage(format!("option {name} needs a value")))
        };
        match a {
            "--" => {
                i += 1;
                break;
            }
            _ if commands.contains(&a) => break,
            "-h" | "--help" => c.help = true,
            "-V" | "--version" => c.version = true,
            "--explain" => c.explain = true,
            "--dry-run" => c.dry_run = true,
            "-j" | "--json" => c.json = true,
            "--via" => c.via = Some(value("--via")?),
            "-b" | "--batch" => c.batch = Some(value("-b")?),
            _ if a.starts_with("--via=") => c.via = Some(a["--via=".len()..].to_string()),
            _ if a.starts_with("--batch=") => c.batch = Some(a["--batch=".len()..].to_string()),
            _ if a.starts_with('-') && a.len() > 1 => {
                return Err(Failure::usage(format!("unknown option '{a}'")))
            }
            _ => break,
        }
        i += 1;
    }
    Ok((c, args[i..].to_vec()))
}

/// A program's fixed facts, for [`drive`].
pub struct Spec {
    pub name: &'static str,
    pub version: &'static str,
    /// The `--via` values its steps accept.
    pub vias: &'static [&'static str],
    pub usage: fn() -> String,
    /// Commands spelled as options, taken where options are.
    pub option_commands: &'static [&'static str],
}

/// A program's state for a run: one command line (without options) at a time.
pub trait Program {
    /// Ok(status) when the command ran (a show may return 1), Err for a failure to report.
    fn run(&mut self, words: &[String]) -> Result<i32, Failure>;

    /// After every line of a batch ran: a program that gathers a batch into one transaction
    /// (natctl) makes it here.
    fn finish(&mut self) -> Result<(), Failure> {
        Ok(())
    }
}

/// Everything a program's `main` does around its commands: the common options, `--help`,
/// `--version`, `--via` checked against the program's paths, then one command or a batch.
pub fn drive<P: Program>(
    spec: &Spec,
    args: &[String],
    make: impl FnOnce(&Common, Trace) -> Result<P, Failure>,
) -> i32 {
    let prog = spec.name;
    let (common, rest) = match parse_common(args, spec.option_commands) {
        Ok(v) => v,
        Err(f) => {
            say(&format!("{prog}: {}", f.message));
            say_text(&(spec.usage)());
            return f.status;
        }
    };
    if common.help || common.version {
        let text = if common.help {
            (spec.usage)()
        } else {
            format!("{}\n", spec.version)
        };
        return match print(&text) {
            Ok(()) => EXIT_OK,
            Err(f) => {
                f.report(prog);
                f.status
            }
        };
    }
    if let Some(v) = &common.via {
        if spec.vias.is_empty() {
            say(&format!(
                "{prog}: --via {v}: {prog}'s steps have one kernel path each; --via does not apply"
            ));
            return EXIT_USAGE;
        }
        if !spec.vias.contains(&v.as_str()) {
            say(&format!(
                "{prog}: --via {v}: expected {}",
                spec.vias.join(" or ")
            ));
            return EXIT_USAGE;
        }
    }
    let trace = Trace {
        explain: common.explain,
        dry_run: common.dry_run,
        prog,
    };
    let mut p = match make(&common, trace) {
        Ok(p) => p,
        Err(f) => {
            f.report(prog);
            return f.status;
        }
    };
    match &common.batch {
        Some(path) => batch(prog, &mut p, path, &rest),
        None if rest.is_empty() => {
            say(&format!("{prog}: no command given"));
            say_text(&(spec.usage)());
            EXIT_USAGE
        }
        None => match p.run(&rest) {
            Ok(status) => status,
            Err(f) => {
                f.report(prog);
                f.status
            }
        },
    }
}

fn batch<P: Program>(prog: &str, p: &mut P, path: &str, rest: &[String]) -> i32 {
    if !rest.is_empty() {
        say(&format!(
            "{prog}: -b takes its commands from the file; unexpected '{}'",
            rest[0]
        ));
        return EXIT_USAGE;
    }
    let lines = match read_batch(path) {
        Ok(l) => l,
        Err(f) => {
            say(&format!("{prog}: {}", f.message));
            return f.status;
        }
    };
    for (n, words) in lines {
        match p.run(&words) {
            Ok(EXIT_OK) => {}
            Ok(status) => {
                say(&format!(
                    "{prog}: {path}: line {n}: stopped here (earlier lines are done)"
                ));
                return status;
            }
            Err(f) => {
                say(&format!("{prog}: {path}: line {n}: {}", f.message));
                f.report_then();
                return f.status;
            }
        }
    }
    match p.finish() {
        Ok(()) => EXIT_OK,
        Err(f) => {
            say(&format!("{prog}: {path}: {}", f.message));
            f.report_then();
            f.status
        }
    }
}

/// The lines of a batch file (`-` for stdin): each one a command, split on white space; blank
/// lines and `#` comments skipped. Returns (line number, words).
pub fn read_batch(path: &str) -> Result<Vec<(usize, Vec<String>)>, Failure> {
    use std::io::Read;
    let mut text = String::new();
    let res = if path == "-" {
        std::io::stdin().read_to_string(&mut text)
    } else {
        // A file the user names is opened with the user's rights, even by a program given
        // capabilities: its first line would come back in an error.
        libnet_sys::caps::as_caller(|| std::fs::File::open(path))
            .map_err(|e| Failure::fail(format!("batch file {path}: {e}")))?
            .and_then(|mut f| f.read_to_string(&mut text))
    };
    res.map_err(|e| {
        let why = e
            .raw_os_error()
            .map(libnet_sys::error::strerror)
            .unwrap_or_else(|| e.to_string());
        Failure::fail(format!("batch file {path}: {why}"))
    })?;
    Ok(text
        .lines()
        .enumerate()
        .map(|(n, l)| {
            (
                n + 1,
                l.split('#')
                    .next()
                    .unwrap_or("")
                    .split_whitespace()
                    .map(String::from)
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, w)| !w.is_empty())
        .collect())
}

/// One line on stderr (the newline added), in one `write(2)` so that lines of runs in
/// parallel do not interleave; what it quotes is made printable (see [`printable`]). A stderr
/// that cannot take it (full, closed) is ignored: there is nowhere left to say so.
pub fn say(line: &str) {
    let mut s = printable(line);
    s.push('\n');
    let _ = write_fd(std::io::stderr(), s.as_bytes());
}

/// Text (a usage text, several lines) on stderr as it is; a failure to write is ignored.
pub fn say_text(text: &str) {
    let _ = write_fd(std::io::stderr(), text.as_bytes());
}

/// Text on stdout, written now and whole; a failure to write is the command's failure.
pub fn print(text: &str) -> Result<(), Failure> {
    write_fd(std::io::stdout(), text.as_bytes()).map_err(|errno| {
        Failure::fail(format!(
            "writing output: {}",
            libnet_sys::error::strerror(errno)
        ))
    })
}

/// `write(2)` until all of `b` is written (as few calls as the kernel allows: one for a line).
fn write_fd(fd: impl std::os::fd::AsFd, mut b: &[u8]) -> Result<(), i32> {
    while !b.is_empty() {
        let n = match rustix::io::write(&fd, b) {
            Ok(n) => n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.raw_os_error()),
        };
        if n == 0 {
            return Err(libc::EIO);
        }
        b = &b[n..];
    }
    Ok(())
}

/// The longest word an error quotes whole; a longer one is cut, its length said.
const WORD_MAX: usize = 128;

/// A line made safe to print: control characters but tab escaped (a newline in an argument
/// would split the one line into two), and a huge word (a 1 MB argument) cut to its start.
pub fn printable(line: &str) -> String {
    let mut out = String::with_capacity(line.len().min(4096));
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let shown: String = if word.len() > WORD_MAX {
            let mut cut = WORD_MAX;
            while !word.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}... ({} bytes)", &word[..cut], word.len())
        } else {
            word.to_string()
        };
        for c in shown.chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() && c != '\t' => {
                    let _ = write!(out, "\\x{:02x}", c as u32);
                }
                c => out.push(c),
            }
        }
    }
    out
}

/// `show [DEV] [-j]`'s words: whether JSON is asked (by `-j` anywhere, or the global
/// option), the one device named if any, and the command as errors quote it. `usage` is the
/// line for more than one name.
pub fn show_args(
    a: &[&str],
    json: bool,
    usage: &str,
) -> Result<(bool, Option<libnet_sys::IfName>, String), Failure> {
    let json = json || a.iter().any(|w| *w == "-j" || *w == "--json");
    let rest: Vec<&str> = a
        .iter()
        .copied()
        .filter(|w| *w != "-j" && *w != "--json")
        .collect();
    let only = match rest.as_slice() {
        [] => None,
        [n] => Some(name("show", n)?),
        _ => return Err(Failure::usage(format!("show: usage: {usage}"))),
    };
    let head = match &only {
        Some(n) => format!("show {n}"),
        None => "show".to_string(),
    };
    Ok((json, only, head))
}

/// A name from the command line: checked, never truncated.
pub fn name(cmd: &str, s: &str) -> Result<libnet_sys::IfName, Failure> {
    libnet_sys::IfName::new(s).map_err(|e| Failure::usage(format!("{cmd} {e}")))
}

/// `--if-exists`, anywhere among a delete's words: whether it is there, and the words without
/// it. With it, deleting what is gone already is a note and exit 0 (a runtime's teardown, as
/// CNI's DEL, may run twice).
pub fn take_if_exists(words: &[&str]) -> (bool, Vec<String>) {
    let rest: Vec<String> = words
        .iter()
        .filter(|w| **w != "--if-exists")
        .map(|w| w.to_string())
        .collect();
    (rest.len() != words.len(), rest)
}

/// Says on stderr that a delete with `--if-exists` found its object gone: the failure it
/// would have been, as a note.
pub fn gone(prog: &str, f: &Failure) {
    say(&format!(
        "{prog}: note: {} (--if-exists: nothing to delete)",
        f.message
    ));
}

/// The value after an option: `--opt VALUE` or `--opt=VALUE`.
pub fn opt_value<'a>(
    c: &str,
    a: &[&'a str],
    i: &mut usize,
    opt: &str,
) -> Result<Option<&'a str>, Failure> {
    let w = a[*i];
    if let Some(v) = w.strip_prefix(opt).and_then(|r| r.strip_prefix('=')) {
        return Ok(Some(v));
    }
    if w != opt {
        return Ok(None);
    }
    *i += 1;
    a.get(*i)
        .copied()
        .map(Some)
        .ok_or_else(|| Failure::usage(format!("{c}: {opt} needs a value")))
}

/// A namespace from the command line: a name under /run/netns, a path, or a process ID.
pub fn ns_target(c: &str, s: &str) -> Result<libnet_sys::netns::NsTarget, Failure> {
    libnet_sys::netns::NsTarget::parse(s).map_err(|e| failure(&format!("{c}: namespace"), &e))
}

/// A number from the command line, in `lo..=hi`.
pub fn number<T>(head: &str, what: &str, v: &str, lo: u64, hi: u64) -> Result<T, Failure>
where
    T: TryFrom<u64>,
{
    v.parse::<u64>()
        .ok()
        .filter(|n| (lo..=hi).contains(n))
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| {
            Failure::usage(format!(
                "{head}: bad {what} '{v}': expected a whole number, {lo} to {hi}"
            ))
        })
}

/// An address from the command line.
pub fn addr(head: &str, what: &str, v: &str) -> Result<std::net::IpAddr, Failure> {
    v.parse().map_err(|_| {
        Failure::usage(format!(
            "{head}: bad {what} '{v}': expected an IPv4 or IPv6 address"
        ))
    })
}

/// Writes a result to stdout now (so it comes before any later error on stderr).
pub fn emit(out: &mut impl std::io::Write, text: &str) -> Result<(), Failure> {
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| write_failure(e.raw_os_error().unwrap_or(libc::EIO)))
}

fn write_failure(errno: i32) -> Failure {
    Failure::fail(format!(
        "writing output: {}",
        libnet_sys::error::strerror(errno)
    ))
}

/// The sentence for a kernel refusal that is about permission, naming the capability the
/// library says the step needs ([`Error::needs`]): namespaces and mounts CAP_SYS_ADMIN, files
/// under root's directories CAP_DAC_OVERRIDE, changing user CAP_SETGID and CAP_SETUID, the
/// network CAP_NET_ADMIN.
pub fn permission_reason(e: &Error) -> Option<String> {
    if !(e.is(libc::EPERM) || e.is(libc::EACCES)) {
        return None;
    }
    let cap = e.needs()?;
    if libnet_sys::caps::has_effective(cap.number()) {
        return None;
    }
    Some(format!(
        "needs {} (run as root or grant the capability): {}",
        cap.name(),
        e.reason()
    ))
}

/// A library error as the one line a person reads: `{head}: {why}`, with the kernel's step
/// and words when it refused, our reason when we did.
pub fn failure(head: &str, e: &Error) -> Failure {
    let why = match &e.cause {
        Cause::Invalid(_) | Cause::State(_)
            if e.object.is_empty()
                || head.split(' ').any(|w| w == e.object)
                || e.reason().contains(e.object.as_str()) =>
        {
            e.reason()
        }
        _ => e.to_string(),
    };
    failure_because(head, e, why)
}

/// As [`failure`], with the program's own sentence for the reason; a permission refusal is
/// said as such, and bad input exits 2.
pub fn failure_because(head: &str, e: &Error, why: String) -> Failure {
    if let Some(p) = permission_reason(e) {
        return Failure::fail(format!("{head}: {p}"));
    }
    Failure {
        message: format!("{head}: {why}"),
        status: if e.is_invalid() {
            EXIT_USAGE
        } else {
            EXIT_FAIL
        },
        bare: false,
        then: Vec::new(),
    }
}

/// `IFF_RUNNING` from <linux/if.h>.
const IFF_RUNNING: u32 = 0x40;

/// A link's state from its flags, the same on every path: DOWN (not up), UP (up and running),
/// NO-CARRIER (up, not running: a veth whose peer is down).
pub fn link_state(flags: u32) -> &'static str {
    match (
        flags & libnet_sys::netlink::rtnl::link::IFF_UP != 0,
        flags & IFF_RUNNING != 0,
    ) {
        (false, _) => "DOWN",
        (true, true) => "UP",
        (true, false) => "NO-CARRIER",
    }
}

/// Rows as columns padded to their widest cell, two spaces apart.
pub fn table(rows: &[impl AsRef<[String]>]) -> String {
    let mut width: Vec<usize> = Vec::new();
    for r in rows {
        for (i, c) in r.as_ref().iter().enumerate() {
            if width.len() <= i {
                width.push(0);
            }
            width[i] = width[i].max(c.chars().count());
        }
    }
    let mut s = String::new();
    for r in rows {
        let cells = r.as_ref();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                let _ = write!(s, "{c:<w$}  ", w = width[i]);
            }
        }
        s.push('\n');
    }
    s
}

/// A JSON value writer: objects and arrays built with closures, strings escaped.
pub struct Json {
    pub out: String,
    first: Vec<bool>,
}

impl Json {
    pub fn new() -> Json {
        Json {
            out: String::new(),
            first: vec![true],
        }
    }
    fn sep(&mut self) {
        if let Some(f) = self.first.last_mut() {
            if !*f {
                self.out.push(',');
            }
            *f = false;
        }
    }
    pub fn array(&mut self, f: impl FnOnce(&mut Json)) -> &mut Json {
        self.sep();
        self.out.push('[');
        self.first.push(true);
        f(self);
        self.first.pop();
        self.out.push(']');
        self
    }
    pub fn object(&mut self, f: impl FnOnce(&mut Json)) -> &mut Json {
        self.sep();
        self.out.push('{');
        self.first.push(true);
        f(self);
        self.first.pop();
        self.out.push('}');
        self
    }
    pub fn key(&mut self, k: &str) -> &mut Json {
        self.sep();
        self.string_raw(k);
        self.out.push(':');
        // The value that follows needs no separator.
        if let Some(f) = self.first.last_mut() {
            *f = true;
        }
        self
    }
    pub fn str(&mut self, v: &str) -> &mut Json {
        self.sep();
        self.string_raw(v);
        self
    }
    /// A string, or null.
    pub fn opt_str(&mut self, v: Option<&str>) -> &mut Json {
        match v {
            Some(s) => self.str(s),
            None => self.raw("null"),
        }
    }
    pub fn raw(&mut self, v: impl std::fmt::Display) -> &mut Json {
        self.sep();
        let _ = write!(self.out, "{v}");
        self
    }
    fn string_raw(&mut self, v: &str) {
        self.out.push('"');
        for c in v.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(self.out, "\\u{:04x}", c as u32);
                }
                c => self.out.push(c),
            }
        }
        self.out.push('"');
    }
}

impl Default for Json {
    fn default() -> Self {
        Json::new()
    }
}
