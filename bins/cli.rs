//! What every program shares: the common options of DESIGN.md, exit statuses, batch files,
//! and a small JSON writer (no serde: a few hundred bytes instead of tens of kilobytes).

use libnet_sys::Error;
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
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: EXIT_USAGE,
            bare: false,
        }
    }
    pub fn fail(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: EXIT_FAIL,
            bare: false,
        }
    }
    pub fn compat(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            status: EXIT_FAIL,
            bare: true,
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
}

/// Splits the common options from the front of `args`; returns the rest (the command and its
/// arguments). Options end at the first word that is not one, or after `--`.
pub fn parse_common(args: &[String]) -> Result<(Common, Vec<String>), Failure> {
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

/// The lines of a batch file (`-` for stdin): each one a command, split on white space; blank
/// lines and `#` comments skipped. Returns (line number, words).
pub fn read_batch(path: &str) -> Result<Vec<(usize, Vec<String>)>, Failure> {
    use std::io::Read;
    let mut text = String::new();
    let res = if path == "-" {
        std::io::stdin().read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_string(&mut text))
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

/// The sentence for a kernel refusal that is about permission.
pub fn permission_reason(e: &Error) -> Option<String> {
    if (e.is(libc::EPERM) || e.is(libc::EACCES)) && !libnet_sys::caps::has_net_admin() {
        return Some(format!(
            "needs CAP_NET_ADMIN (run as root or grant the capability): {}",
            e.reason()
        ));
    }
    None
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
