//! `ifctl`: started at C `main`, without Rust's runtime setup (see `netplumb::run`).
#![no_main]

#[no_mangle]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    netplumb::run("ifctl", netplumb::ifctl::main, netplumb::start())
}
