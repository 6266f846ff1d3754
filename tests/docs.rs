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
    assert!(
        readme.contains("cargo test --workspace") && ci.contains("cargo test --workspace"),
        "README and .ci/run name the same test command"
    );
}
