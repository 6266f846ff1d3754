//! The command-line layer: one module per program, and what they share. Each program's
//! `main(args)` returns its exit status, so the thin mains and the multicall binary call the
//! same code.

pub mod brctl;
pub mod cli;
pub mod fdbctl;
pub mod ifctl;
pub mod ipfwd;
pub mod natctl;
pub mod nsexec;
pub mod vethctl;
pub mod vxlanctl;

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
    ("vxlanctl", vxlanctl::main),
    ("fdbctl", fdbctl::main),
];

/// What every binary's C `main` does: run the program on its arguments, flush stdout (there is
/// no Rust runtime teardown to do it), return the status.
///
/// The binaries start at C `main` (`#![no_main]`), not through Rust's runtime setup: that setup
/// (stack-guard discovery reading /proc/self/maps, SIGSEGV/SIGBUS handlers on an alternate stack,
/// SIGPIPE ignored) measured ~100 µs of a ~700 µs run, and the programs need none of it. SIGPIPE
/// keeps its default, as for C tools: `vethctl show | head -1` ends quietly.
pub fn run(prog: &str, program: Main, args: Result<Vec<String>, String>) -> i32 {
    let status = match args {
        Ok(a) => program(a),
        Err(why) => {
            eprintln!("{prog}: {why}");
            cli::EXIT_USAGE
        }
    };
    let _ = std::io::Write::flush(&mut std::io::stdout());
    status
}

/// The arguments after argv[0], as UTF-8. One that is not UTF-8 is refused whole: replacing
/// its bytes would name a different interface (`a\xff` is not `a\u{fffd}`).
pub fn args() -> Result<Vec<String>, String> {
    std::env::args_os()
        .skip(1)
        .enumerate()
        .map(|(i, a)| {
            a.into_string().map_err(|a| {
                format!(
                    "argument {} ({}) is not UTF-8; names and values must be",
                    i + 1,
                    a.to_string_lossy()
                )
            })
        })
        .collect()
}
