//! nsexec installed as the README says (file capabilities, run by a user who is not root) and
//! the hostile surroundings of issue 16: what a user names is opened with the user's rights,
//! what nsexec makes is root's, no symlink swapped in mid-run is followed. Each test runs in a
//! sandbox of its own; the user is nobody (`setpriv`), the nsexec a copy under the sandbox's
//! /run with the README's capabilities.

mod common;
use common::*;

/// The README's recipe, on a copy of nsexec at /run/nsexec-fc.
const RECIPE: &str = "cap_sys_admin,cap_dac_override,cap_net_admin,cap_chown+ep";

const NOBODY: &str = "setpriv --reuid 65534 --regid 65534 --clear-groups";

/// A copy of nsexec with `caps` at /run/nsexec-fc; the command line that runs it as nobody.
fn nsexec_with_caps(sb: &Sandbox, caps: &str) -> String {
    sb.ok(&format!(
        "cp \"$NSEXEC\" /run/nsexec-fc && setcap {caps} /run/nsexec-fc"
    ));
    format!("{NOBODY} /run/nsexec-fc")
}

#[test]
fn batch_file_is_opened_with_the_users_own_rights() {
    let sb = Sandbox::new();
    let fc = nsexec_with_caps(&sb, RECIPE);
    sb.ok(
        "printf 'root-only-secret-line\\n' > /run/secret && chmod 600 /run/secret
           printf 'list\\n' > /run/mine && chmod 644 /run/mine",
    );
    let o = sb.sh(&format!("{fc} -b /run/secret"));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(!err.contains("root-only-secret"), "leaked: {err}");
    assert!(
        err.contains("/run/secret") && err.contains("Permission denied"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // A file the user can read runs, and capabilities are back for its lines.
    sb.ok("ip netns add a");
    let o = sb.sh(&format!("{fc} -b /run/mine"));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("a "), "{}", text(&o.stdout));
    sb.ok("printf 'add b\\n' > /run/mine");
    let o = sb.sh(&format!("{fc} -b /run/mine"));
    // add in root's /run/netns works with the capabilities restored after the open.
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(sb.ok("ip netns list").contains('b'));
}
