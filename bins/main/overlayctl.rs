//! `overlayctl`: started at C `main`, without Rust's runtime setup (see `netplumb::run`).
#![no_main]

netplumb::c_main!("overlayctl", netplumb::overlayctl::main);
