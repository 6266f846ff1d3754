//! The multicall binary: `netplumb brctl show`, or a link named `brctl` pointing here. Started
//! at C `main`, without Rust's runtime setup (see `netplumb::run`).
#![no_main]

use netplumb::PROGRAMS;

netplumb::c_main!(multicall);

fn multicall(argv: &[&[u8]]) -> i32 {
    let argv0 = argv.first().copied().unwrap_or_default();
    let called = argv0.rsplit(|&b| b == b'/').next().unwrap_or_default();
    let mut args = match netplumb::args(argv) {
        Ok(a) => a,
        Err(why) => return netplumb::run("netplumb", |_| 2, Err(why)),
    };
    let names: Vec<&str> = PROGRAMS.iter().map(|(n, _)| *n).collect();
    let usage = format!(
        "usage: netplumb PROGRAM [ARGS...]   (programs: {})\n       \
         or a link to netplumb named as the program; see netplumb(7)",
        names.join(", ")
    );
    let by_name = PROGRAMS.iter().find(|(n, _)| n.as_bytes() == called);
    let prog = match by_name {
        Some(p) => Some(p),
        None if !args.is_empty() => {
            let first = args.remove(0);
            match first.as_str() {
                "-h" | "--help" => {
                    println!("{usage}");
                    return 0;
                }
                "-V" | "--version" => {
                    println!("netplumb {}", env!("CARGO_PKG_VERSION"));
                    return 0;
                }
                _ => PROGRAMS.iter().find(|(n, _)| *n == first),
            }
        }
        None => None,
    };
    match prog {
        Some((name, main)) => netplumb::run(name, *main, Ok(args)),
        None => {
            eprintln!("{usage}");
            2
        }
    }
}
