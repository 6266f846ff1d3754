//! scripts/install.sh, run for real into a staging root (`--destdir`) under a fresh temporary
//! directory, never into the system: the layout of distribution packages (`sbin`,
//! `share/man/man8`, `man7`), the programs (or the multicall binary and its links) runnable
//! from there, the pages readable by man(1) and mandoc(1), and `--uninstall` taking away
//! exactly what was installed and leaving everything else.
//!
//! The programs come from cargo's build for the tests (the directory of
//! `CARGO_BIN_EXE_brctl`), given to the script with `--from`.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PROGRAMS: &[&str] = &[
    "brctl",
    "vethctl",
    "ifctl",
    "nsexec",
    "ipfwd",
    "natctl",
    "neighctl",
    "vxlanctl",
    "fdbctl",
    "overlayctl",
];

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install.sh")
}

/// Where cargo put the programs it built for these tests.
fn build_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_brctl"))
        .parent()
        .expect("a directory")
        .to_path_buf()
}

/// A temporary directory of this test's own, removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "netplumb-install-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn install(args: &[&str]) -> Output {
    Command::new("bash")
        .arg(script())
        .args(args)
        .env_remove("DESTDIR")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("run scripts/install.sh")
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Everything under `root`: relative path -> what it is (a directory, a link and its target,
/// a file and its mode and bytes' length and first bytes).
fn tree(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<String, String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&p).expect("metadata");
            if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&p).expect("readlink");
                into.insert(rel, format!("link -> {}", target.display()));
            } else if meta.is_dir() {
                into.insert(rel, "dir".to_string());
                walk(root, &p, into);
            } else {
                into.insert(
                    rel,
                    format!(
                        "file {:o} {} bytes",
                        meta.permissions().mode() & 0o7777,
                        meta.len()
                    ),
                );
            }
        }
    }
    let mut t = BTreeMap::new();
    walk(root, root, &mut t);
    t
}

/// Files that are nobody's business but the system's, there before the install: they must
/// be there, unchanged, after it and after the uninstall.
fn unrelated_files(destdir: &Path, prefix: &str) {
    let sbin = destdir.join(prefix.trim_start_matches('/')).join("sbin");
    std::fs::create_dir_all(&sbin).unwrap();
    std::fs::write(sbin.join("other-tool"), "#!/bin/sh\necho other\n").unwrap();
    std::fs::set_permissions(
        sbin.join("other-tool"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let man8 = destdir
        .join(prefix.trim_start_matches('/'))
        .join("share/man/man8");
    std::fs::create_dir_all(&man8).unwrap();
    std::fs::write(man8.join("other-tool.8"), ".TH OTHER 8\n").unwrap();
}

/// The pages, where distribution packages put them, readable by man(1) and clean for mandoc.
fn check_pages(root: &Path) {
    let man = root.join("share/man");
    for p in PROGRAMS {
        let page = man.join(format!("man8/{p}.8"));
        check_page(&page, &format!("{}(8)", p.to_uppercase()));
        // man finds it by name in the installed tree, as it would under /usr/local.
        let out = Command::new("man")
            .arg("-M")
            .arg(&man)
            .args(["-w", "8", p])
            .output()
            .expect("man(1) is needed (Debian package man-db)");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            page.display().to_string(),
            "man -M {} -w 8 {p}",
            man.display()
        );
    }
    check_page(&man.join("man7/netplumb.7"), "NETPLUMB(7)");
    let out = Command::new("man")
        .arg("-M")
        .arg(&man)
        .args(["-w", "netplumb"])
        .output()
        .expect("man");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        man.join("man7/netplumb.7").display().to_string(),
        "man -w netplumb finds the overview"
    );
}

fn check_page(page: &Path, title: &str) {
    let meta = std::fs::metadata(page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o644,
        "{} is mode 644",
        page.display()
    );
    let out = Command::new("man")
        .arg("-l")
        .arg(page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .output()
        .expect("man(1) is needed (Debian package man-db)");
    let text = ok(&out, &format!("man -l {}", page.display()));
    assert!(
        text.starts_with(title) && text.contains("NAME") && text.contains("SEE ALSO"),
        "man -l {} renders it: {:?}",
        page.display(),
        text.lines().take(3).collect::<Vec<_>>()
    );
    let lint = Command::new("mandoc")
        .arg("-Tlint")
        .arg(page)
        .output()
        .expect("mandoc is needed (Debian package mandoc)");
    assert!(
        lint.status.success() && lint.stdout.is_empty() && lint.stderr.is_empty(),
        "mandoc -Tlint {}: {}",
        page.display(),
        String::from_utf8_lossy(&lint.stderr)
    );
}

fn version_of(bin: &Path) -> String {
    let out = Command::new(bin)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    ok(&out, &format!("{} --version", bin.display()))
}

fn help_of(bin: &Path) -> String {
    let out = Command::new(bin)
        .arg("--help")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    ok(&out, &format!("{} --help", bin.display()))
}

#[test]
fn the_programs_install_as_packages_lay_them_out_and_uninstall_leaves_nothing_of_them() {
    let s = Scratch::new("programs");
    let destdir = s.0.join("stage");
    unrelated_files(&destdir, "/usr/local");
    let before = tree(&destdir);
    let d = destdir.to_str().unwrap();
    let from = build_dir();
    ok(
        &install(&["--destdir", d, "--from", from.to_str().unwrap()]),
        "install",
    );

    let root = destdir.join("usr/local");
    for p in PROGRAMS {
        let bin = root.join("sbin").join(p);
        let meta = std::fs::symlink_metadata(&bin).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert!(meta.is_file(), "sbin/{p} is a program of its own");
        assert_eq!(meta.permissions().mode() & 0o777, 0o755, "sbin/{p} is 755");
        assert_eq!(
            std::fs::read(&bin).unwrap(),
            std::fs::read(from.join(p)).unwrap(),
            "sbin/{p} is the built {p}"
        );
        assert!(
            version_of(&bin).starts_with(&format!("{p} (netplumb) ")),
            "installed {p} runs"
        );
    }
    assert!(
        !root.join("sbin/netplumb").exists(),
        "no multicall binary without --multicall"
    );
    check_pages(&root);
    let manifest = std::fs::read_to_string(root.join("share/netplumb/manifest"))
        .expect("the install records what it installed");
    for p in PROGRAMS {
        assert!(manifest.contains(&format!("\t/usr/local/sbin/{p}\t")));
        assert!(manifest.contains(&format!("\t/usr/local/share/man/man8/{p}.8\t")));
    }
    // The unrelated files are untouched, and nothing else was added but ours.
    let after = tree(&destdir);
    for (path, what) in &before {
        assert_eq!(after.get(path), Some(what), "{path} is as it was");
    }
    let added: Vec<&String> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    for a in &added {
        assert!(
            a.starts_with("usr/local/sbin/")
                || a.starts_with("usr/local/share/man/man")
                || a.starts_with("usr/local/share/netplumb"),
            "the install made {a}"
        );
    }
    assert_eq!(
        added.len(),
        2 * PROGRAMS.len() + 1 + 1 + 1 + 1,
        "added: {added:?}"
    );

    ok(&install(&["--uninstall", "--destdir", d]), "uninstall");
    assert_eq!(
        tree(&destdir),
        before,
        "after --uninstall the staging root is as it was before the install"
    );
    // A second uninstall has nothing to remove, and says so.
    let again = install(&["--uninstall", "--destdir", d]);
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("no manifest"));
}

#[test]
fn the_multicall_binary_installs_with_a_link_per_program_that_dispatches_by_name() {
    let s = Scratch::new("multicall");
    let destdir = s.0.join("stage");
    unrelated_files(&destdir, "/opt/np");
    let before = tree(&destdir);
    let d = destdir.to_str().unwrap();
    let from = build_dir();
    ok(
        &install(&[
            "--multicall",
            "--prefix",
            "/opt/np",
            "--destdir",
            d,
            "--from",
            from.to_str().unwrap(),
        ]),
        "install --multicall",
    );
    let root = destdir.join("opt/np");
    let multi = root.join("sbin/netplumb");
    assert_eq!(
        std::fs::read(&multi).unwrap(),
        std::fs::read(from.join("netplumb")).unwrap(),
        "sbin/netplumb is the built multicall binary"
    );
    for p in PROGRAMS {
        let link = root.join("sbin").join(p);
        let meta = std::fs::symlink_metadata(&link).unwrap();
        assert!(meta.file_type().is_symlink(), "sbin/{p} is a link");
        assert_eq!(
            std::fs::read_link(&link).unwrap(),
            PathBuf::from("netplumb"),
            "sbin/{p} points at netplumb beside it"
        );
        // Called by the link's name, the multicall binary is that program.
        assert!(
            version_of(&link).starts_with(&format!("{p} (netplumb) ")),
            "sbin/{p} --version"
        );
        assert_eq!(
            help_of(&link),
            help_of(&from.join(p)),
            "sbin/{p} --help is {p}'s"
        );
    }
    check_pages(&root);

    ok(
        &install(&["--uninstall", "--prefix", "/opt/np", "--destdir", d]),
        "uninstall",
    );
    assert_eq!(
        tree(&destdir),
        before,
        "--uninstall leaves what was there before"
    );
}

/// The programs a multicall binary holds, from its usage line "(programs: a, b, c)".
fn programs_of(multicall: &Path) -> Vec<String> {
    let help = help_of(multicall);
    let list = help
        .split_once("(programs: ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(list, _)| list)
        .unwrap_or_else(|| panic!("no program list in netplumb --help: {help}"));
    list.split(", ").map(str::to_string).collect()
}

#[test]
fn an_embedded_image_gets_one_binary_and_a_link_per_program_and_runs_from_its_own_root() {
    // A build directory other than target's, as scripts/build-multicall.sh --musl or
    // --target aarch64 makes (install.sh never runs what it installs, so the test build's
    // static multicall stands in for either), staged busybox-style into an image root.
    let s = Scratch::new("image");
    let build = s.0.join("multicall-musl");
    std::fs::create_dir(&build).unwrap();
    std::fs::copy(build_dir().join("netplumb"), build.join("netplumb")).unwrap();
    let image = s.0.join("image");
    let d = image.to_str().unwrap();
    ok(
        &install(&[
            "--multicall",
            "--from",
            build.to_str().unwrap(),
            "--prefix",
            "/usr",
            "--destdir",
            d,
        ]),
        "install --multicall --from multicall-musl into an image",
    );
    // Every program of the multicall's own table gets its link, and nothing else is a file
    // in sbin but the one binary.
    let programs = programs_of(&build.join("netplumb"));
    let mut want: Vec<String> = programs.iter().map(|p| format!("usr/sbin/{p}")).collect();
    want.push("usr/sbin/netplumb".to_string());
    want.sort();
    let sbin: Vec<String> = tree(&image)
        .into_keys()
        .filter(|k| k.starts_with("usr/sbin/"))
        .collect();
    assert_eq!(
        sbin, want,
        "the image's sbin: the binary and a link per program"
    );
    // Run from inside the image (chroot): the binary needs nothing the image lacks.
    // SAFETY: geteuid has no preconditions.
    let chroot: Vec<&str> = if unsafe { libc::geteuid() } == 0 {
        vec!["chroot"]
    } else {
        vec!["unshare", "--user", "--map-root-user", "chroot"]
    };
    for p in &programs {
        let link = image.join("usr/sbin").join(p);
        assert_eq!(
            std::fs::read_link(&link).unwrap(),
            PathBuf::from("netplumb")
        );
        let out = Command::new(chroot[0])
            .args(&chroot[1..])
            .arg(d)
            .arg(format!("/usr/sbin/{p}"))
            .arg("--version")
            .output()
            .expect("run chroot");
        let version = ok(&out, &format!("chroot IMAGE /usr/sbin/{p} --version"));
        assert!(
            version.starts_with(&format!("{p} (netplumb) ")),
            "{p} in the image: {version}"
        );
    }
}

#[test]
fn a_file_the_install_did_not_make_is_never_replaced_or_removed_without_force() {
    let s = Scratch::new("foreign");
    let destdir = s.0.join("stage");
    let sbin = destdir.join("usr/sbin");
    std::fs::create_dir_all(&sbin).unwrap();
    // bridge-utils' brctl, say.
    std::fs::write(sbin.join("brctl"), "bridge-utils\n").unwrap();
    let before = tree(&destdir);
    let d = destdir.to_str().unwrap();
    let from = build_dir();
    let f = from.to_str().unwrap();

    let out = install(&["--prefix", "/usr", "--destdir", d, "--from", f]);
    assert_eq!(out.status.code(), Some(1), "refused");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("brctl") && err.contains("--force"),
        "the refusal names the file and --force: {err}"
    );
    assert_eq!(tree(&destdir), before, "a refused install changes nothing");

    // Installed over it with --force, it is the install's: uninstall takes it.
    ok(
        &install(&["--prefix", "/usr", "--destdir", d, "--from", f, "--force"]),
        "install --force",
    );
    assert!(version_of(&sbin.join("brctl")).starts_with("brctl (netplumb)"));
    // The singles, then the multicall over them: the singles become links, and the
    // multicall's uninstall leaves no single behind.
    ok(
        &install(&[
            "--prefix",
            "/usr",
            "--destdir",
            d,
            "--from",
            f,
            "--multicall",
        ]),
        "install --multicall over the singles",
    );
    for p in PROGRAMS {
        assert!(std::fs::symlink_metadata(sbin.join(p))
            .unwrap()
            .file_type()
            .is_symlink());
    }
    // A page changed after the install is left in place by --uninstall, which says so.
    let page = destdir.join("usr/share/man/man8/ipfwd.8");
    std::fs::write(&page, ".TH LOCAL 8\n").unwrap();
    let out = install(&["--uninstall", "--prefix", "/usr", "--destdir", d]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ipfwd.8 changed since it was installed"));
    assert_eq!(std::fs::read_to_string(&page).unwrap(), ".TH LOCAL 8\n");
    let left: Vec<String> = tree(&destdir)
        .into_iter()
        .filter(|(_, what)| what != "dir")
        .map(|(p, _)| p)
        .collect();
    assert_eq!(
        left,
        vec!["usr/share/man/man8/ipfwd.8".to_string()],
        "only the changed page is left"
    );
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    let out = install(&["--help"]);
    let text = ok(&out, "install.sh --help");
    assert!(
        text.contains("--destdir") && text.contains("--uninstall") && text.contains("--multicall")
    );
    for bad in [
        vec!["--bogus"],
        vec!["--prefix"],
        vec!["--prefix", "relative/dir"],
        vec!["--uninstall", "--multicall"],
    ] {
        let out = install(&bad);
        assert_eq!(out.status.code(), Some(2), "install.sh {bad:?}");
    }
    // Without a build to install, it fails and says what to run; nothing is made.
    let s = Scratch::new("nobuild");
    let destdir = s.0.join("stage");
    let empty = s.0.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = install(&[
        "--destdir",
        destdir.to_str().unwrap(),
        "--from",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cargo build --release"));
    assert!(!destdir.exists(), "nothing made");
}
