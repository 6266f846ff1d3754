//! `neighctl`: started at C `main`, without Rust's runtime setup (see `netplumb::run`).
#![no_main]

netplumb::c_main!("neighctl", netplumb::neighctl::main);
