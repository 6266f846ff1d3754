//! The man pages against the programs: every command, keyword and option a program's `--help`
//! lists is in its man page (the options in OPTIONS, the commands in COMMANDS), every `--via`
//! path the program accepts is documented, every kernel call `--help` names is in the page,
//! every page has the sections a complete page has and is clean under `mandoc -Tlint`, and
//! netplumb(7) exists, lints clean and names every program and every path it takes.
//!
//! `--help` is parsed by its layout (bins/*.rs, `USAGE`): a line that does not start with a
//! tab and ends with `:` opens a section (`commands:`, `forwarding (...):`, `options (before
//! the command):`, `kernel calls ...:`); in a command section a line with one tab and then a
//! word starts a command's synopsis, which runs to the next tab (brctl's argument column,
//! which starts with `<`, `[` or `{`, belongs to it), a line with a tab and spaces continues
//! it, and a line with two tabs or more is description, except when it starts with `[` (a
//! grammar, as ipfwd's ROUTE). In a synopsis, lowercase words are literal (the command, then
//! keywords such as `peer`, `via`, `tcp`), UPPERCASE words and `<...>` are placeholders, and
//! words starting with `-` are options.

use std::collections::BTreeSet;
use std::process::Command;

const PROGRAMS: &[(&str, &str)] = &[
    ("brctl", env!("CARGO_BIN_EXE_brctl")),
    ("vethctl", env!("CARGO_BIN_EXE_vethctl")),
    ("ifctl", env!("CARGO_BIN_EXE_ifctl")),
    ("nsexec", env!("CARGO_BIN_EXE_nsexec")),
    ("ipfwd", env!("CARGO_BIN_EXE_ipfwd")),
    ("natctl", env!("CARGO_BIN_EXE_natctl")),
    ("neighctl", env!("CARGO_BIN_EXE_neighctl")),
    ("vxlanctl", env!("CARGO_BIN_EXE_vxlanctl")),
    ("fdbctl", env!("CARGO_BIN_EXE_fdbctl")),
    ("overlayctl", env!("CARGO_BIN_EXE_overlayctl")),
];
const NETPLUMB: &str = env!("CARGO_BIN_EXE_netplumb");

/// The sections every program's page has (issue 7).
const SECTIONS: &[&str] = &[
    "NAME",
    "SYNOPSIS",
    "DESCRIPTION",
    "COMMANDS",
    "OPTIONS",
    "EXIT STATUS",
    "FILES",
    "EXAMPLES",
    "SEE ALSO",
];

// ---------------------------------------------------------------------------------------------
// --help

/// What a program's `--help` lists.
#[derive(Debug, Default)]
struct Help {
    /// Command phrases: `addbr`, `addr add`, `route show`, `on`, `off`, `masquerade`.
    commands: BTreeSet<String>,
    /// Literal words of the synopses after the command: `peer`, `via`, `tcp`, `add`.
    keywords: BTreeSet<String>,
    /// Options of the commands, in synopses and descriptions: `--netns`, `-4`, `--proto`.
    command_options: BTreeSet<String>,
    /// The options section: `-h`, `--help`, `--via`, `-b`, `--batch`.
    options: BTreeSet<String>,
    /// The description of `--via` in the options section.
    via_text: String,
    /// Kernel identifiers of the kernel-calls section: `SIOCBRADDBR`, `RTM_NEWLINK`, `IFLA_BR_`.
    kernel: BTreeSet<String>,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Section {
    Preamble,
    Commands,
    Options,
    Kernel,
}

/// `--netns`, `-4`, `-j`: a dash, then letters, digits and dashes.
fn is_option(w: &str) -> bool {
    let body = w.trim_start_matches('-');
    let dashes = w.len() - body.len();
    (dashes == 1 || dashes == 2)
        && body
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && body.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// `peer`, `route_localnet`, `add`: lowercase, as typed.
fn is_literal(w: &str) -> bool {
    w.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && w.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// A word of a synopsis without the brackets and punctuation around it.
fn bare(w: &str) -> &str {
    w.trim_matches(|c: char| "[]{}(),;:.'\"".contains(c))
}

/// The words of a synopsis: split at blanks and at `|` (alternatives), placeholders in `<>`
/// dropped.
fn synopsis_words(s: &str) -> Vec<String> {
    s.split_whitespace()
        .filter(|w| !w.starts_with('<') && !w.trim_start_matches('[').starts_with('<'))
        .flat_map(|w| w.split('|'))
        .map(bare)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The long options named in prose: `--up brings both ends up`.
fn long_options_in(text: &str, into: &mut BTreeSet<String>) {
    for w in text.split(|c: char| c.is_whitespace() || c == '|' || c == '/' || c == '=') {
        let w = bare(w);
        if w.starts_with("--") && is_option(w) {
            into.insert(w.to_string());
        }
    }
}

/// The choices a description spells out: `rp_filter off|strict|loose` has the keywords `off`,
/// `strict` and `loose`.
fn choices_in(text: &str, into: &mut BTreeSet<String>) {
    for w in text.split_whitespace().filter(|w| w.contains('|')) {
        let alts: Vec<&str> = w.split('|').map(bare).collect();
        if alts.iter().all(|a| is_literal(a)) {
            into.extend(alts.iter().map(|a| a.to_string()));
        }
    }
}

/// `SIOCBRADDBR`, `RTM_NEWLINK`, `IFLA_BR_*` (as `IFLA_BR_`), `PORT_LIST` of
/// `BRCTL_GET_BRIDGE_INFO/PORT_LIST`: all capitals, with an underscore or starting with SIOC.
fn kernel_ids_in(text: &str, into: &mut BTreeSet<String>) {
    for w in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '*')) {
        let w = w.trim_end_matches('*');
        let capitals = w.len() >= 4
            && w.starts_with(|c: char| c.is_ascii_uppercase())
            && w.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if capitals && (w.contains('_') || w.starts_with("SIOC")) {
            into.insert(w.to_string());
        }
    }
}

impl Help {
    /// One command's synopsis: its command phrase (when `new`), keywords and options.
    fn synopsis(&mut self, text: &str, new: bool) {
        let words = synopsis_words(text);
        let mut i = 0;
        if new {
            // The first word, and the literal words after it up to the first placeholder,
            // option or alternative, are the command: `addr add`, `route show`, `hosts`.
            let first: Vec<&str> = text
                .split_whitespace()
                .next()
                .unwrap_or("")
                .split('|')
                .collect();
            if first.len() > 1 {
                // `on|off [--ipv4]`: each alternative is a command.
                for alt in &first {
                    if is_literal(bare(alt)) {
                        self.commands.insert(bare(alt).to_string());
                    }
                }
                i = first.len();
            } else {
                let mut phrase = Vec::new();
                for w in text.split_whitespace() {
                    if w.contains('|') || !is_literal(w) {
                        break;
                    }
                    phrase.push(w);
                }
                if !phrase.is_empty() {
                    self.commands.insert(phrase.join(" "));
                    i = phrase.len();
                }
            }
        }
        for w in &words[i.min(words.len())..] {
            if is_option(w) {
                self.command_options.insert(w.clone());
            } else if is_literal(w) {
                self.keywords.insert(w.clone());
            }
        }
    }
}

fn parse_help(text: &str) -> Help {
    let mut h = Help::default();
    let mut section = Section::Preamble;
    // Whether the last options-section entry was --via (its description continues).
    let mut in_via = false;
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if !line.starts_with('\t') {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("usage:") {
                section = Section::Preamble;
            } else if line.trim_end().ends_with(':') {
                section = if lower.starts_with("options") {
                    Section::Options
                } else if lower.starts_with("kernel calls") {
                    Section::Kernel
                } else {
                    Section::Commands
                };
            } else if section == Section::Kernel {
                kernel_ids_in(line, &mut h.kernel);
            } else {
                // Prose between the sections: the options it names are options of the
                // commands (`--up brings both ends up`).
                long_options_in(line, &mut h.command_options);
            }
            in_via = false;
            continue;
        }
        let body = &line[1..];
        match section {
            Section::Kernel => kernel_ids_in(body, &mut h.kernel),
            Section::Preamble => long_options_in(body, &mut h.command_options),
            Section::Commands => {
                if body.starts_with('\t') {
                    let d = body.trim_start();
                    if d.starts_with('[') {
                        h.synopsis(d.split('\t').next().unwrap_or(""), false);
                    } else {
                        long_options_in(d, &mut h.command_options);
                        choices_in(d, &mut h.keywords);
                    }
                } else if body.starts_with(' ') {
                    let mut cols = body.trim_start().splitn(2, '\t');
                    h.synopsis(cols.next().unwrap_or(""), false);
                    long_options_in(cols.next().unwrap_or(""), &mut h.command_options);
                } else {
                    let cols: Vec<&str> =
                        body.split('\t').filter(|c| !c.trim().is_empty()).collect();
                    let mut syn = cols.first().copied().unwrap_or("").trim().to_string();
                    let mut rest = 1;
                    while rest < cols.len() && cols[rest].trim_start().starts_with(['<', '[', '{'])
                    {
                        syn.push(' ');
                        syn.push_str(cols[rest].trim());
                        rest += 1;
                    }
                    h.synopsis(&syn, true);
                    for d in &cols[rest.min(cols.len())..] {
                        long_options_in(d, &mut h.command_options);
                        choices_in(d, &mut h.keywords);
                    }
                }
            }
            Section::Options => {
                if body.starts_with(['\t', ' ']) {
                    let d = body.trim_start();
                    if in_via {
                        h.via_text.push(' ');
                        h.via_text.push_str(d);
                    }
                    long_options_in(d, &mut h.command_options);
                } else {
                    let mut cols = body.splitn(2, '\t');
                    let names = cols.next().unwrap_or("");
                    let desc = cols.next().unwrap_or("").trim();
                    in_via = false;
                    for w in names.split([',', ' ']).map(bare) {
                        if is_option(w) {
                            h.options.insert(w.to_string());
                            in_via |= w == "--via";
                        }
                    }
                    if in_via {
                        h.via_text.push_str(desc);
                    }
                    long_options_in(desc, &mut h.command_options);
                }
            }
        }
    }
    // An option of the options section is not also a command's.
    let common = h.options.clone();
    h.command_options.retain(|o| !common.contains(o));
    h
}

fn run(bin: &str, args: &[&str]) -> std::process::Output {
    Command::new(bin)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{bin}: {e}"))
}

fn help_text(bin: &str) -> String {
    let out = run(bin, &["--help"]);
    assert!(out.status.success(), "{bin} --help exits {:?}", out.status);
    assert!(out.stderr.is_empty(), "{bin} --help writes to stderr");
    String::from_utf8(out.stdout).expect("--help is UTF-8")
}

/// The `--via` paths a program accepts, as it says itself when given one it does not: nothing
/// is sent (the path is checked before any socket is opened, and the command does not exist).
fn accepted_vias(prog: &str, bin: &str) -> Vec<String> {
    let out = run(bin, &["--via", "no-such-path", "no-such-command"]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{prog} --via no-such-path: {err}"
    );
    if err.contains("--via does not apply") {
        return Vec::new();
    }
    let list = err
        .split("expected ")
        .nth(1)
        .unwrap_or_else(|| panic!("{prog}: no list of paths in {err:?}"));
    let list = list.lines().next().unwrap_or("");
    let vias: Vec<String> = list
        .split([' ', ','])
        .filter(|w| !w.is_empty() && *w != "or")
        .map(str::to_string)
        .collect();
    assert!(!vias.is_empty(), "{prog}: no paths in {err:?}");
    vias
}

// ---------------------------------------------------------------------------------------------
// man pages

fn man_path(page: &str) -> String {
    format!("{}/man/{page}", env!("CARGO_MANIFEST_DIR"))
}

/// A page as text, by section: macros dropped (their arguments kept, quotes removed), font
/// and character escapes resolved, blanks collapsed.
struct Page {
    sections: Vec<(String, String)>,
    roff: String,
}

fn unescape(line: &str) -> String {
    let mut s = line.to_string();
    for (from, to) in [
        ("\\-", "-"),
        ("\\fB", ""),
        ("\\fI", ""),
        ("\\fR", ""),
        ("\\fP", ""),
        ("\\(aq", "'"),
        ("\\(dq", "\""),
        ("\\(lq", "\""),
        ("\\(rq", "\""),
        ("\\(em", "-"),
        ("\\(en", "-"),
        ("\\(bu", "*"),
        ("\\&", ""),
        ("\\ ", " "),
        ("\\c", ""),
        ("\\|", ""),
        ("\\e", "\\"),
    ] {
        s = s.replace(from, to);
    }
    s
}

impl Page {
    fn read(page: &str) -> Page {
        let path = man_path(page);
        let roff = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut sections: Vec<(String, String)> = Vec::new();
        let mut text = String::new();
        let mut name = String::from("(before .SH)");
        for line in roff.lines() {
            if line.starts_with(".\\\"") || line.starts_with("'\\\"") {
                continue;
            }
            if let Some(h) = line.strip_prefix(".SH ") {
                sections.push((name, std::mem::take(&mut text)));
                name = h.trim().trim_matches('"').to_string();
                continue;
            }
            let words = if line.starts_with('.') {
                // `.BR \-h ", " \-\-help`: the arguments, quotes removed.
                match line.split_once(char::is_whitespace) {
                    Some((_, args)) => args.replace('"', " "),
                    None => String::new(),
                }
            } else {
                line.to_string()
            };
            text.push(' ');
            text.push_str(&unescape(&words));
        }
        sections.push((name, text));
        let sections = sections
            .into_iter()
            .map(|(n, t)| (n, t.split_whitespace().collect::<Vec<_>>().join(" ")))
            .collect();
        Page { sections, roff }
    }

    fn section(&self, name: &str) -> &str {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
            .unwrap_or("")
    }

    fn sections(&self, names: &[&str]) -> String {
        names
            .iter()
            .map(|n| self.section(n))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn all(&self) -> String {
        self.sections
            .iter()
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// `word` in `text` as a word of its own: not inside a longer name (`-b` is not in `-bx`,
/// `add` is not in `addr`).
fn has_word(text: &str, word: &str) -> bool {
    let inner = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(inner) && !after.is_some_and(inner)
    })
}

/// What of `help` the page does not have, each with where it was looked for.
fn missing_from(help: &Help, page: &Page) -> Vec<String> {
    let commands = page.section("COMMANDS");
    let documented = page.sections(&["SYNOPSIS", "COMMANDS", "OPTIONS"]);
    let options = page.section("OPTIONS");
    let all = page.all();
    let mut missing = Vec::new();
    for c in &help.commands {
        if !has_word(commands, c) {
            missing.push(format!("command '{c}' (in COMMANDS)"));
        }
    }
    for k in &help.keywords {
        if !has_word(&documented, k) {
            missing.push(format!("keyword '{k}' (in SYNOPSIS, COMMANDS or OPTIONS)"));
        }
    }
    for o in &help.command_options {
        if !has_word(&documented, o) {
            missing.push(format!("option '{o}' (in SYNOPSIS, COMMANDS or OPTIONS)"));
        }
    }
    for o in &help.options {
        if !has_word(options, o) {
            missing.push(format!("option '{o}' (in OPTIONS)"));
        }
    }
    for k in &help.kernel {
        if !all.contains(k.as_str()) {
            missing.push(format!("kernel call '{k}' (anywhere)"));
        }
    }
    missing
}

fn lint(path: &str) -> Result<(), String> {
    let out = Command::new("mandoc")
        .args(["-Tlint", path])
        .output()
        .expect("mandoc is needed (Debian package mandoc)");
    let msgs =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    if out.status.success() && msgs.trim().is_empty() {
        Ok(())
    } else {
        Err(format!("mandoc -Tlint {path}:\n{msgs}"))
    }
}

// ---------------------------------------------------------------------------------------------
// the tests

#[test]
fn every_command_keyword_and_option_of_help_is_in_the_man_page() {
    let mut failures = Vec::new();
    for (prog, bin) in PROGRAMS {
        let help = parse_help(&help_text(bin));
        // The parse itself: a program with fewer commands or options than this was misread.
        assert!(
            help.commands.len() >= 3,
            "{prog}: --help read as {} commands: {help:?}",
            help.commands.len()
        );
        for o in [
            "-h",
            "--help",
            "-V",
            "--version",
            "--explain",
            "--dry-run",
            "-j",
            "--json",
            "-b",
            "--batch",
        ] {
            assert!(
                help.options.contains(o),
                "{prog}: --help read without {o}: {help:?}"
            );
        }
        assert!(
            !help.kernel.is_empty(),
            "{prog}: --help read without kernel calls"
        );
        let page = Page::read(&format!("{prog}.8"));
        let missing = missing_from(&help, &page);
        if !missing.is_empty() {
            failures.push(format!(
                "{prog}: man/{prog}.8 lacks what --help lists:\n  {}",
                missing.join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_via_path_a_program_takes_is_in_its_help_its_man_page_and_netplumb_7() {
    let overview = Page::read("netplumb.7").all();
    let mut failures = Vec::new();
    for (prog, bin) in PROGRAMS {
        let vias = accepted_vias(prog, bin);
        let help = parse_help(&help_text(bin));
        let page = Page::read(&format!("{prog}.8"));
        if vias.is_empty() {
            // One path per step: no --via in --help, and the page says --via does not apply.
            if help.options.contains("--via") {
                failures.push(format!("{prog}: --help lists --via, which {prog} refuses"));
            }
            if !has_word(&page.all(), "--via") {
                failures.push(format!(
                    "{prog}: man/{prog}.8 does not say --via does not apply"
                ));
            }
            continue;
        }
        for v in &vias {
            if !has_word(&help.via_text, v) {
                failures.push(format!(
                    "{prog}: --help's --via does not name '{v}': {:?}",
                    help.via_text
                ));
            }
            if !has_word(page.section("OPTIONS"), v) {
                failures.push(format!(
                    "{prog}: OPTIONS of man/{prog}.8 does not name --via '{v}'"
                ));
            }
            // netplumb(7) shows it as a command line: `brctl --explain --via sysfs ...`.
            let shown = overview.match_indices(&format!("{prog} ")).any(|(at, _)| {
                let mut words = overview[at..].split_whitespace().skip(1);
                loop {
                    match words.next() {
                        Some("--via") => return words.next() == Some(v.as_str()),
                        Some(w) if w.starts_with('-') => continue,
                        _ => return false,
                    }
                }
            });
            if !shown {
                failures.push(format!(
                    "netplumb.7 has no '{prog} ... --via {v}' command line"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_man_page_is_complete_and_clean_under_mandoc_lint() {
    let mut failures = Vec::new();
    for (prog, _) in PROGRAMS {
        let page = Page::read(&format!("{prog}.8"));
        let th = page
            .roff
            .lines()
            .find(|l| l.starts_with(".TH "))
            .unwrap_or("");
        if !th.starts_with(&format!(".TH {} 8 ", prog.to_uppercase())) {
            failures.push(format!(
                "{prog}.8: .TH is {th:?}, not {} 8",
                prog.to_uppercase()
            ));
        }
        for s in SECTIONS {
            if !page
                .sections
                .iter()
                .any(|(n, t)| n == s && !t.trim().is_empty())
            {
                failures.push(format!("{prog}.8: no {s} section (or an empty one)"));
            }
        }
        if !page.section("NAME").starts_with(&format!("{prog} - ")) {
            failures.push(format!("{prog}.8: NAME is not '{prog} - ...'"));
        }
        if !has_word(page.section("SEE ALSO"), "netplumb") {
            failures.push(format!(
                "{prog}.8: SEE ALSO does not name netplumb(7), the overview"
            ));
        }
        if let Err(e) = lint(&man_path(&format!("{prog}.8"))) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn netplumb_7_exists_lints_clean_and_covers_every_program() {
    let path = man_path("netplumb.7");
    lint(&path).unwrap();
    let page = Page::read("netplumb.7");
    assert!(
        page.roff.starts_with(".TH NETPLUMB 7 "),
        "netplumb.7 starts with its .TH"
    );
    for s in [
        "NAME",
        "DESCRIPTION",
        "KERNEL PATHS",
        "EXAMPLES",
        "SEE ALSO",
    ] {
        assert!(!page.section(s).is_empty(), "netplumb.7 has no {s} section");
    }
    let steps = page
        .sections
        .iter()
        .find(|(n, _)| n.contains("STEP BY STEP"))
        .map(|(_, t)| t.clone())
        .expect("netplumb.7 has a step-by-step section");
    let see_also = page.section("SEE ALSO");
    for (prog, _) in PROGRAMS {
        assert!(
            see_also.contains(&format!("{prog} (8)")),
            "netplumb.7 SEE ALSO lacks {prog}(8)"
        );
        assert!(
            has_word(page.section("THE PROGRAMS"), prog),
            "netplumb.7 does not say what {prog} does"
        );
        assert!(
            has_word(&steps, prog),
            "netplumb.7's Docker steps never use {prog}"
        );
    }
    // Each page it points to exists, and points back.
    for (prog, _) in PROGRAMS {
        assert!(std::path::Path::new(&man_path(&format!("{prog}.8"))).exists());
    }
    // The Docker steps, in Docker's order: the bridge before its address, the namespace before
    // the veth born in it, the container's address before its route, masquerade before publish.
    let at = |s: &str| {
        steps
            .find(s)
            .unwrap_or_else(|| panic!("netplumb.7's steps lack '{s}'"))
    };
    let order = [
        "brctl addbr docker0",
        "ifctl addr add docker0",
        "ifctl up docker0",
        "ipfwd on",
        "natctl masquerade add",
        "nsexec add c1",
        "vethctl add veth-c1 peer eth0 --peer-netns c1 --master docker0",
        "nsexec exec c1 ifctl addr add eth0",
        "nsexec exec c1 ipfwd route add default via",
        "natctl publish add 8080",
    ];
    for w in order.windows(2) {
        assert!(
            at(w[0]) < at(w[1]),
            "netplumb.7: '{}' comes before '{}'",
            w[0],
            w[1]
        );
    }
}

#[test]
fn the_multicall_binary_prints_each_programs_own_help() {
    for (prog, bin) in PROGRAMS {
        let own = help_text(bin);
        let out = run(NETPLUMB, &[prog, "--help"]);
        assert!(
            out.status.success(),
            "netplumb {prog} --help: {:?}",
            out.status
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            own,
            "netplumb {prog} --help differs from {prog} --help"
        );
    }
}

// The checker itself, on the layouts of bins/*.rs and on a page with a gap.

const SAMPLE_HELP: &str = "\
Usage: prog [options] COMMAND
commands:
\taddbr     \t<bridge>\t\tadd bridge
\thairpin   \t<bridge> <port> {on|off}\tturn hairpin on/off
\tadd NAME peer PEER [--netns NS]
\t    [--peer-mac MAC] [--up]
\t\t\tmake a pair (with --up the peer comes up)
\taddr add IF CIDR [--broadcast ADDR]\tadd an address
\ton|off [--ipv4] [--iface IF]\tforwarding
\tset IF KNOB VALUE\t\tone switch: forwarding on|off,
\t\t\t\t\trp_filter off|strict|loose (IF may be all)
\t--print-sysctl\t\t\tthe lines
routes (the main table unless table T):
\troute add ROUTE\t\t\tadd a route; ROUTE is
\t\t\t\t\t[-4|-6] default|CIDR [via GW] [metric N]
\tpublish add|del [HOSTIP:]PORT[-PORT] DEST:PORT [--proto tcp|udp]
\t\t\t\t(Docker: -s SUBNET ! -o docker0 -j MASQUERADE)
\thosts NAME add IP HOSTNAME...\tadd a line
\texec --pid PID [--user UID[:GID]] [--] CMD [ARGS...]
NS is a name; --mtu sets both ends.
options (before the command):
\t-h, --help\t\tthis text
\t--via PATH\t\tkernel path: ioctl, sysfs
\t\t\t\tor netlink
\t-b, --batch FILE\tone command a line
kernel calls, by path (* = default):
\taddbr\t\tioctl* SIOCBRADDBR\tnetlink RTM_NEWLINK IFLA_BR_*
\tshow\t\tBRCTL_GET_BRIDGE_INFO/PORT_LIST, O_EXCL
";

#[test]
fn the_help_parser_reads_every_layout() {
    let h = parse_help(SAMPLE_HELP);
    let set = |v: &[&str]| {
        v.iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<String>>()
    };
    assert_eq!(
        h.commands,
        set(&[
            "addbr",
            "hairpin",
            "add",
            "addr add",
            "on",
            "off",
            "set",
            "route add",
            "publish",
            "hosts",
            "exec"
        ])
    );
    assert_eq!(
        h.keywords,
        set(&[
            "on", "off", "peer", "default", "via", "metric", "add", "del", "tcp", "udp", "strict",
            "loose"
        ])
    );
    assert_eq!(
        h.command_options,
        set(&[
            "--netns",
            "--peer-mac",
            "--up",
            "--broadcast",
            "--ipv4",
            "--iface",
            "--print-sysctl",
            "-4",
            "-6",
            "--proto",
            "--pid",
            "--user",
            "--mtu"
        ])
    );
    assert_eq!(h.options, set(&["-h", "--help", "--via", "-b", "--batch"]));
    assert_eq!(h.via_text, "kernel path: ioctl, sysfs or netlink");
    assert_eq!(
        h.kernel,
        set(&[
            "SIOCBRADDBR",
            "RTM_NEWLINK",
            "IFLA_BR_",
            "BRCTL_GET_BRIDGE_INFO",
            "PORT_LIST",
            "O_EXCL"
        ])
    );
}

#[test]
fn a_page_without_a_command_or_option_of_help_is_caught() {
    let (_, bin) = PROGRAMS[0];
    let help = parse_help(&help_text(bin));
    let mut page = Page::read("brctl.8");
    assert_eq!(
        missing_from(&help, &page),
        Vec::<String>::new(),
        "brctl.8 as it is"
    );
    // Take showmacs and --dry-run out of the page: both must be reported.
    for (_, text) in page.sections.iter_mut() {
        *text = text.replace("showmacs", "").replace("--dry-run", "");
    }
    let missing = missing_from(&help, &page);
    assert!(
        missing.iter().any(|m| m.contains("'showmacs'")),
        "a page without showmacs passes: {missing:?}"
    );
    assert!(
        missing
            .iter()
            .any(|m| m.contains("'--dry-run' (in OPTIONS)")),
        "a page without --dry-run passes: {missing:?}"
    );
}
