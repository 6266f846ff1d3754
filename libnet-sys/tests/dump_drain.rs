//! One policy for a reply that fails part-way: the socket reads the rest of that request's
//! replies (up to its NLMSG_DONE) before returning the error, so the next request on the same
//! socket, as in `-b` mode, reads only its own answer.
//!
//! A kernel test: the body runs in a fresh network namespace, made by re-running this test
//! binary under `unshare --net` (plus `--user --map-root-user` when not root), so the host's
//! namespace is never touched.

use libnet_sys::error::Error;
use libnet_sys::ifname::IfName;
use libnet_sys::netlink::rtnl::link::{get_link, parse_link, set_flags_named, IFF_UP};
use libnet_sys::netlink::rtnl::route::dump_routes;
use libnet_sys::netlink::socket::NlSocket;
use libnet_sys::netlink::NETLINK_ROUTE;
use libnet_sys::trace::{Access, Trace};
use std::os::fd::AsRawFd;
use std::process::Command;

const INSIDE: &str = "NETPLUMB_DUMP_DRAIN_INSIDE";

#[test]
fn a_dump_that_fails_half_way_leaves_nothing_queued() {
    if std::env::var_os(INSIDE).is_some() {
        return inside();
    }
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut cmd = Command::new("unshare");
    if !root {
        cmd.args(["--user", "--map-root-user"]);
    }
    let out = cmd
        .arg("--net")
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_dump_that_fails_half_way_leaves_nothing_queued",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(INSIDE, "1")
        .output()
        .expect("unshare(1) from util-linux is needed to make a throwaway namespace");
    assert!(
        out.status.success(),
        "the test body failed in its namespace (unshare --net needs root or user namespaces):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}

fn inside() {
    let mut nl = NlSocket::open(&libnet_sys::netlink::rtnl::ROUTE, Trace::quiet("test")).unwrap();
    let lo = IfName::new("lo").unwrap();
    nl.request(set_flags_named(&lo, IFF_UP, IFF_UP), "lo")
        .unwrap();

    // The local table of a namespace with lo up holds several routes (IPv4 and IPv6): refuse
    // the second one, as a decoder refusing a malformed message would.
    let mut seen = 0;
    let err = nl
        .transact(dump_routes(0, 255), "", Access::Read, &mut |_| {
            seen += 1;
            match seen {
                2 => Err(Error::malformed("RTM_NEWROUTE", "refused by the test")),
                _ => Ok(()),
            }
        })
        .unwrap_err();
    assert!(err.to_string().contains("refused by the test"), "{err}");
    assert_eq!(seen, 2, "messages after the failure are not handed on");

    // Nothing of that dump is left on the socket.
    let mut byte = [0u8; 1];
    // SAFETY: a non-blocking peek into a 1-byte buffer we own.
    let n = unsafe {
        libc::recv(
            nl.as_raw_fd(),
            byte.as_mut_ptr().cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    assert_eq!(n, -1, "a reply of the failed dump is still queued");
    assert_eq!(
        std::io::Error::last_os_error().raw_os_error(),
        Some(libc::EAGAIN)
    );

    // The next request reads its own answer.
    let mut links = Vec::new();
    nl.transact(get_link(&lo, 0), "lo", Access::Read, &mut |m| {
        links.push(parse_link(m)?.name.map(|n| n.to_string()));
        Ok(())
    })
    .unwrap();
    assert_eq!(links, [Some("lo".to_string())]);
}
