//! The multicall binary: `netplumb brctl show`, or a link named `brctl` pointing here. Started
//! at C `main`, without Rust's runtime setup (see `netplumb::run`).
#![no_main]

use netplumb::PROGRAMS;

#[no_mangle]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let args = netplumb::start();
    let argv0 = std::env::args_os().next().unwrap_or_default();
    let called = std::path::Path::new(&argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match PROGRAMS.iter().find(|(n, _)| *n == called) {
        Some((name, main)) => netplumb::run(name, *main, args),
        None => netplumb::run("netplumb", netplumb::multicall, args),
    }
}
