//! The command-line layer: one module per program, and what they share. Each program's
//! `main(args)` returns its exit status, so the thin mains and the multicall binary call the
//! same code.

pub mod brctl;
pub mod cli;
pub mod fdbctl;
pub mod ifctl;
pub mod ipfwd;
pub mod natctl;
pub mod neighctl;
pub mod nsexec;
#[cfg(feature = "overlay")]
pub mod overlayctl;
pub mod vethctl;
pub mod vxlanctl;

use std::ffi::{c_char, c_int, CStr};

/// A program's entry point: its arguments without argv[0], its exit status back.
pub type Main = fn(Vec<String>) -> i32;

/// The programs the multicall binary holds, by the name it is called as.
pub const PROGRAMS: &[(&str, Main)] = &[
    ("brctl", brctl::main),
    ("vethctl", vethctl::main),
    ("ifctl", ifctl::main),
    ("nsexec", nsexec::main),
    ("ipfwd", ipfwd::main),
    ("natctl", natctl::main),
    ("neighctl", neighctl::main),
    ("vxlanctl", vxlanctl::main),
    #[cfg(feature = "overlay")]
    ("overlayctl", overlayctl::main),
    ("fdbctl", fdbctl::main),
];

/// What every binary's C `main` does: run the program on its arguments, flush stdout (there is
/// no Rust runtime teardown to do it), return the status.
///
/// The binaries start at C `main` (`#![no_main]`), not through Rust's runtime setup: that setup
/// (stack-guard discovery reading /proc/self/maps, SIGSEGV/SIGBUS handlers on an alternate stack,
/// SIGPIPE ignored) measured ~100 µs of a ~700 µs run, and the programs need none of it. SIGPIPE
/// keeps its default, as for C tools: `vethctl show | head -1` ends quietly. What of it they do
/// need, [`start`] does.
pub fn run(prog: &str, program: Main, args: Result<Vec<String>, String>) -> i32 {
    let status = match args {
        Ok(a) => program(a),
        Err(why) => {
            cli::say(&format!("{prog}: {why}"));
            cli::EXIT_USAGE
        }
    };
    let _ = std::io::Write::flush(&mut std::io::stdout());
    status
}

/// What every binary does first: fds 0, 1 and 2 that were closed are opened on /dev/null (as
/// Rust's runtime setup would), so that no socket or file the program opens becomes its stdin,
/// stdout or stderr (`natctl -b - <&-` would read its own netlink socket; `vethctl show >&-`
/// would write its table into it). Then the arguments after argv[0] (see [`c_argv`]), as UTF-8. One that is not
/// UTF-8 is refused whole: replacing its bytes would name a different interface (`a\xff` is not
/// `a\u{fffd}`).
pub fn start(argv: &[&[u8]]) -> Result<Vec<String>, String> {
    for fd in 0..3 {
        // SAFETY: F_GETFD only asks whether fd is open.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            // SAFETY: a valid C string; open returns the lowest free fd, which is this one.
            let got = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
            if got != fd {
                return Err("fds 0-2 closed and /dev/null cannot be opened in their place".into());
            }
        }
    }
    argv.iter()
        .skip(1)
        .enumerate()
        .map(|(i, a)| {
            String::from_utf8(a.to_vec()).map_err(|_| {
                format!(
                    "argument {} ({}) is not UTF-8; names and values must be",
                    i + 1,
                    String::from_utf8_lossy(a)
                )
            })
        })
        .collect()
}

/// The multicall binary called as itself: `netplumb PROGRAM ARGS...`.
pub fn multicall(mut args: Vec<String>) -> i32 {
    let names: Vec<&str> = PROGRAMS.iter().map(|(n, _)| *n).collect();
    let usage = format!(
        "usage: netplumb PROGRAM [ARGS...]   (programs: {})\n       \
         or a link to netplumb named as the program; see netplumb(7)\n",
        names.join(", ")
    );
    if args.is_empty() {
        cli::say_text(&usage);
        return cli::EXIT_USAGE;
    }
    let first = args.remove(0);
    let shown = match first.as_str() {
        "-h" | "--help" => usage,
        "-V" | "--version" => format!("netplumb {}\n", env!("CARGO_PKG_VERSION")),
        _ => match PROGRAMS.iter().find(|(n, _)| *n == first) {
            Some((_, main)) => return main(args),
            None => {
                cli::say(&format!("netplumb: unknown program '{first}'"));
                cli::say_text(&usage);
                return cli::EXIT_USAGE;
            }
        },
    };
    match cli::print(&shown) {
        Ok(()) => cli::EXIT_OK,
        Err(f) => {
            cli::say(&f.line("netplumb"));
            f.status
        }
    }
}

/// argv as C `main` received it, argv[0] included. It is taken from `main`'s own arguments, not
/// `std::env::args_os()`: without Rust's runtime setup that is empty on musl (glibc alone hands
/// argc and argv to initialisers, where the standard library picks them up).
///
/// # Safety
/// `argv` holds `argc` pointers to NUL-terminated strings that stay valid and unchanged for the
/// rest of the process: what the C runtime passes to `main`.
pub unsafe fn c_argv(argc: c_int, argv: *const *const c_char) -> Vec<&'static [u8]> {
    (0..usize::try_from(argc).unwrap_or(0))
        // SAFETY: i < argc, so argv[i] is one of the strings the caller vouches for.
        .map(|i| unsafe { CStr::from_ptr(*argv.add(i)) }.to_bytes())
        .collect()
}

/// Defines the C `main` a binary starts at: `c_main!("brctl", netplumb::brctl::main)` for one
/// program, `c_main!(start)` with `start(&argv)` for the multicall. The one place where the
/// arguments C `main` receives are read.
#[macro_export]
macro_rules! c_main {
    ($name:literal, $program:path) => {
        $crate::c_main!(|argv: &[&[u8]]| $crate::run($name, $program, $crate::start(argv)));
    };
    ($start:expr) => {
        // unsafe: calling it with anything but C `main`'s arguments would read wild pointers.
        #[no_mangle]
        pub unsafe extern "C" fn main(
            argc: ::core::ffi::c_int,
            argv: *const *const ::core::ffi::c_char,
        ) -> ::core::ffi::c_int {
            // SAFETY: this is C `main`, called once by the C runtime's start-up (glibc's or
            // musl's __libc_start_main) with argc and the argv the kernel laid out: argc
            // NUL-terminated strings that live as long as the process, and nothing here writes
            // to them.
            let argv = unsafe { $crate::c_argv(argc, argv) };
            $start(&argv)
        }
    };
}
