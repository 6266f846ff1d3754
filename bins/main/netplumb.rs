//! The multicall binary: `netplumb brctl show`, or a link named `brctl` pointing here. Started
//! at C `main`, without Rust's runtime setup (see `netplumb::run`).
#![no_main]

use netplumb::PROGRAMS;

netplumb::c_main!(called_as);

/// By the name it is called as (a link named `brctl`), else as `netplumb PROGRAM ARGS...`.
fn called_as(argv: &[&[u8]]) -> i32 {
    let args = netplumb::start(argv);
    let argv0 = argv.first().copied().unwrap_or_default();
    let called = argv0.rsplit(|&b| b == b'/').next().unwrap_or_default();
    match PROGRAMS.iter().find(|(n, _)| n.as_bytes() == called) {
        Some((name, main)) => netplumb::run(name, *main, args),
        None => netplumb::run("netplumb", netplumb::multicall, args),
    }
}
