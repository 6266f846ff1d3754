//! The README and CI agree with the programs: a section for each, and the same test command.
//! (Help against man pages: tests/manpages.rs.)

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

#[test]
fn readme_has_a_section_for_each_program_and_the_test_command() {
    let readme = std::fs::read_to_string(format!("{}/README.md", env!("CARGO_MANIFEST_DIR")))
        .expect("README.md");
    for prog in PROGRAMS {
        assert!(
            readme.contains(&format!("## {prog}")),
            "README has no section for {prog}"
        );
    }
    let ci = std::fs::read_to_string(format!("{}/.ci/run", env!("CARGO_MANIFEST_DIR")))
        .expect(".ci/run");
    // The one command: the README's block shows it, CI runs it on a line of its own, and it
    // ends in every test.
    assert!(
        readme
            .lines()
            .any(|l| l.split_whitespace().next() == Some("scripts/test.sh")),
        "README's test command is not scripts/test.sh"
    );
    assert!(
        ci.lines().any(|l| l.trim() == "scripts/test.sh"),
        ".ci/run does not run the README's test command, scripts/test.sh"
    );
    let script = std::fs::read_to_string(format!("{}/scripts/test.sh", env!("CARGO_MANIFEST_DIR")))
        .expect("scripts/test.sh");
    assert_eq!(
        script.lines().last(),
        Some(r#"cargo test --workspace "$@""#),
        "scripts/test.sh ends in every test"
    );
}
