//! The programs, their man pages and README agree: every command and option that `--help`
//! lists is in the man page, and every man page is clean under `mandoc -Tlint`.

use std::process::Command;

const PROGRAMS: &[(&str, &str)] = &[
    ("brctl", env!("CARGO_BIN_EXE_brctl")),
    ("vethctl", env!("CARGO_BIN_EXE_vethctl")),
    ("ifctl", env!("CARGO_BIN_EXE_ifctl")),
    ("nsexec", env!("CARGO_BIN_EXE_nsexec")),
    ("ipfwd", env!("CARGO_BIN_EXE_ipfwd")),
    ("natctl", env!("CARGO_BIN_EXE_natctl")),
];

fn man_text(prog: &str) -> String {
    let path = format!("{}/man/{prog}.8", env!("CARGO_MANIFEST_DIR"));
    let roff = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    roff.replace("\\-", "-")
        .replace("\\fR", "")
        .replace("\\fP", "")
        .replace("\\fB", "")
        .replace("\\fI", "")
}

/// The words of `--help` that name a command (first word of a tab-indented line) or an option.
fn help_words(bin: &str) -> Vec<String> {
    let out = Command::new(bin)
        .arg("--help")
        .output()
        .expect("run --help");
    assert!(out.status.success(), "--help exits 0");
    let help = String::from_utf8(out.stdout).expect("utf-8 help");
    let mut words = Vec::new();
    for line in help.lines().filter(|l| l.starts_with('\t')) {
        // `[--netns NS]`: an option in brackets is still an option.
        for w in line
            .split(['\t', ' ', ','])
            .map(|w| w.trim_matches(['[', ']']))
            .filter(|w| !w.is_empty())
        {
            if w.starts_with('-') || words.is_empty() || line.trim_start().starts_with(w) {
                words.push(w.trim_end_matches(':').to_string());
            }
        }
    }
    words.sort();
    words.dedup();
    words.retain(|w| w.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !w.is_empty());
    words
}

#[test]
fn every_command_and_option_in_help_is_in_the_man_page() {
    for (prog, bin) in PROGRAMS {
        let man = man_text(prog);
        let words = help_words(bin);
        assert!(
            words.len() >= 15 && words.iter().any(|w| w == "--explain"),
            "{prog}: --help lists too little: {words:?}"
        );
        let missing: Vec<String> = words
            .into_iter()
            .filter(|w| !man.contains(w.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "{prog}: --help lists {missing:?}, which man/{prog}.8 does not mention"
        );
    }
}

#[test]
fn man_pages_are_clean_under_mandoc_lint() {
    for (prog, _) in PROGRAMS {
        let path = format!("{}/man/{prog}.8", env!("CARGO_MANIFEST_DIR"));
        let out = Command::new("mandoc")
            .args(["-Tlint", &path])
            .output()
            .expect("mandoc is needed (Debian package mandoc)");
        let msgs = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && msgs.trim().is_empty(),
            "mandoc -Tlint {path}:\n{msgs}"
        );
    }
}

#[test]
fn readme_has_a_section_for_each_program_and_the_test_command() {
    let readme = std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR")))
        .expect("README.md");
    for (prog, _) in PROGRAMS {
        assert!(
            readme.contains(&format!("## {prog}")),
            "README has no section for {prog}"
        );
    }
    let ci = std::fs::read_to_string(format!("{}/.ci/run", env!("CARGO_MANIFEST_DIR")))
        .expect(".ci/run");
    assert!(
        readme.contains("cargo test --workspace") && ci.contains("cargo test --workspace"),
        "README and .ci/run name the same test command"
    );
}
