//! natctl: what Docker's bridge driver does with the firewall — masquerade for the way out,
//! published ports for the way in, isolation between bridges — as nf_tables transactions in a
//! table of natctl's own.

use crate::cli::{self, Failure, Json, EXIT_OK};
use libnet_sys::error::Cause;
use libnet_sys::ifname::IfName;
use libnet_sys::nat::change::{Change, Listed, Opts};
use libnet_sys::nat::host;
use libnet_sys::nat::ops::{self, Nat};
use libnet_sys::nat::{with_port, Family, Rule};
use libnet_sys::{Error, Trace};
use std::fmt::Write as _;
use std::net::IpAddr;

const VERSION: &str = concat!("natctl (netplumb) ", env!("CARGO_PKG_VERSION"));

const USAGE: &str = "\
Usage: natctl [options] COMMAND
commands (each one transaction: all of it happens or none):
\tmasquerade add|del SUBNET [--out IF | --not-out IF]
\t\t\t\tsource NAT to the outgoing interface's address
\t\t\t\t(Docker: -s SUBNET ! -o docker0 -j MASQUERADE)
\tsnat add|del SUBNET --to ADDR [--out IF | --not-out IF]
\t\t\t\tsource NAT to a fixed address
\tpublish add|del [HOSTIP:]PORT[-PORT] DEST:PORT[-PORT] [--proto tcp|udp] [--in IF]
\t\t\t\tconnections to the host's PORT go to DEST (Docker's -p),
\t\t\t\tfrom outside, from the host (127.0.0.1 too), from
\t\t\t\tDEST's neighbours and DEST itself (hairpin); a port
\t\t\t\tanother publish holds is refused, the same publish
\t\t\t\tagain is a note; add turns on route_localnet toward
\t\t\t\tDEST and, with br_netfilter, hairpin on DEST's bridge
\t\t\t\tport (every port while DEST is not known yet), and
\t\t\t\tsays so; del of a udp port deletes the conntrack
\t\t\t\tentries it sent to DEST
\tisolate add|del BRIDGE1 BRIDGE2\tno forwarding between the two bridges, either way
\tisolate add|del BRIDGE\t\tBRIDGE joins (leaves) the isolated set, Docker's model:
\t\t\t\twhat enters from one bridge of the set may not leave
\t\t\t\tby another (one rule per bridge, not one per pair)
\tdel ID\t\t\t\tdelete the rule list shows with this id
\t\t\t\tevery del takes --if-exists: what is gone already
\t\t\t\tis a note on stderr, exit 0
\tlist [-j]\t\t\tnatctl's rules: id, kind, match, target, packets, bytes
\tflush\t\t\t\tremove natctl's table or chains (and nothing else)
options (before the command):
\t-h, --help\t\tthis text
\t-V, --version\t\tprogram version
\t--via PATH\t\tkernel path: nftables (default) or iptables (legacy xtables)
\t--explain\t\tprint every kernel request, decoded, and the kernel's answer
\t--dry-run\t\tprint the requests that would change something; change nothing
\t-j, --json\t\tJSON output for list
\t-b, --batch FILE\tone command a line from FILE (- for stdin): ONE transaction
kernel calls:
\tnftables\tNFT_MSG_GETGEN, NFT_MSG_GETTABLE (+ NFT_MSG_GETRULE dump of table
\t\t\tip natctl unless only adding or deleting mapped publishes; list and
\t\t\tdeletes of rules: + NFT_MSG_GETSETELEM, NFT_MSG_GETOBJ dumps), then one
\t\t\tbatch: NFNL_MSG_BATCH_BEGIN (NFNL_BATCH_GENID) NFT_MSG_NEWTABLE/
\t\t\tNEWCHAIN/NEWSET (first use) NFT_MSG_NEWOBJ (the rule's key, EXCL)
\t\t\tNFT_MSG_NEWRULE... or NFT_MSG_NEWSETELEM (a publish on every address
\t\t\tand interface: an element of map publish-tcp|udp), or NFT_MSG_DELRULE...
\t\t\tor NFT_MSG_DELSETELEM, NFT_MSG_DELOBJ; NFNL_MSG_BATCH_END
\t\t\tflush: NFT_MSG_NEWTABLE + NFT_MSG_DELTABLE
\tiptables\tflock /run/xtables.lock; per table (nat, filter): getsockopt
\t\t\tIPT_SO_GET_INFO + IPT_SO_GET_ENTRIES, setsockopt IPT_SO_SET_REPLACE
\t\t\t(the whole table) + IPT_SO_SET_ADD_COUNTERS (counters carried over)
\tboth\t\tRTM_GETROUTE, /proc/sys/net/ipv4/conf/IF/route_localnet,
\t\t\tIFLA_BRPORT_MODE (publish add); IPCTNL_MSG_CT_GET + CT_DELETE
\t\t\t(udp publish del); NFT_MSG_GETCHAIN dump (drop-policy warning)
natctl changes only its own tables (ip natctl, ip6 natctl) or chains (NATCTL,
NATCTL-POSTROUTING, NATCTL-FORWARD, NATCTL-ISOLATION and the jumps to them); every rule
carries a comment \"natctl:SPEC\" (and so does every map element) by which list and del
find it. Addresses may be IPv6 (fd00:88::/64, [2001:db8::1]:8080, [fd00:88::2]:80), on
iptables through the ip6tables ABI (IP6T_SO_GET_INFO, IP6T_SO_GET_ENTRIES,
IP6T_SO_SET_REPLACE); [::1] cannot be published (the kernel never routes ::1 off the host).
";

fn usage_text() -> String {
    USAGE.to_string()
}

const SPEC: cli::Spec = cli::Spec {
    name: "natctl",
    version: VERSION,
    vias: &["nftables", "iptables"],
    usage: usage_text,
    option_commands: &[],
};

struct Ctx<'a> {
    nat: Nat,
    trace: Trace,
    json: bool,
    /// In batch mode the changes of every line, made as one transaction at the end.
    queued: Option<Vec<(Change, String)>>,
    out: std::io::StdoutLock<'a>,
}

pub fn main(args: Vec<String>) -> i32 {
    cli::drive(&SPEC, &args, |common, trace| {
        let iptables = common.via.as_deref() == Some("iptables");
        let nat = Nat::open(iptables, trace, |m| cli::say(&format!("natctl: {m}")))
            .map_err(|e| cli::failure(if iptables { "iptables" } else { "netlink" }, &e))?;
        Ok(Ctx {
            nat,
            trace,
            json: common.json,
            queued: common.batch.as_ref().map(|_| Vec::new()),
            out: std::io::stdout().lock(),
        })
    })
}

/// A failed change in words: the rule and what is wrong with it.
fn failure(head: &str, e: &Error) -> Failure {
    let why = match e.os_errno() {
        Some(libc::EEXIST) => "this rule is already there".to_string(),
        // What natctl found before asking the kernel (no such rule, a port already held).
        None if matches!(e.cause, Cause::State(_)) => e.reason(),
        Some(libc::ENOBUFS) => {
            "the kernel's answer was lost and the table does not show the change; run \
             natctl list to see where things stand"
                .to_string()
        }
        _ => return cli::failure(head, e),
    };
    cli::failure_because(head, e, why)
}

impl cli::Program for Ctx<'_> {
    fn run(&mut self, words: &[String]) -> Result<i32, Failure> {
        let head = words.join(" ");
        // `--if-exists` may stand anywhere in a delete: what is gone already is then a note.
        let all: Vec<&str> = words.iter().map(String::as_str).collect();
        let (if_exists, rest) = cli::take_if_exists(&all);
        let w: Vec<&str> = rest.iter().map(String::as_str).collect();
        let deletes = matches!(w.as_slice(), ["del", ..] | [_, "del", ..]);
        if if_exists && !deletes {
            return Err(Failure::usage(format!(
                "{head}: --if-exists goes with a delete (KIND del ..., del ID)"
            )));
        }
        let change = match w.as_slice() {
            ["list"] => return self.list().map(|_| EXIT_OK),
            ["list", "-j" | "--json"] => {
                self.json = true;
                return self.list().map(|_| EXIT_OK);
            }
            ["flush"] => {
                if self.queued.is_some() {
                    return Err(Failure::usage(
                        "flush cannot be part of a batch (it removes the whole table)",
                    ));
                }
                self.nat.flush().map_err(|e| failure(&head, &e))?;
                return Ok(EXIT_OK);
            }
            ["del", id] => Change::DelId(
                id.parse().map_err(|_| {
                    Failure::usage(format!("{head}: bad id '{id}' (see natctl list)"))
                })?,
                if_exists,
            ),
            [kind @ ("masquerade" | "snat" | "publish" | "isolate"), op @ ("add" | "del"), rest @ ..] =>
            {
                let rule = Rule::parse(kind, rest).map_err(|e| cli::failure(&head, &e))?;
                if *op == "add" {
                    Change::Add(rule)
                } else {
                    Change::Del(rule, if_exists)
                }
            }
            [kind @ ("masquerade" | "snat" | "publish" | "isolate"), ..] => {
                return Err(Failure::usage(format!(
                    "{head}: expected {kind} add or {kind} del; see natctl --help"
                )))
            }
            ["del", ..] => {
                return Err(Failure::usage(
                    "del: which rule? del ID (the id natctl list shows), or KIND del SPEC",
                ))
            }
            [] => return Err(Failure::usage("no command given")),
            [c, ..] => {
                return Err(Failure::usage(format!(
                    "unknown command '{c}'; see natctl --help"
                )))
            }
        };
        match &mut self.queued {
            Some(q) => q.push((change, head)),
            None => self
                .commit(&[(change, head.clone())])
                .map_err(|e| failure(&head, &e))?,
        }
        Ok(EXIT_OK)
    }

    fn finish(&mut self) -> Result<(), Failure> {
        let Some(q) = self.queued.take() else {
            return Ok(());
        };
        self.commit(&q).map_err(|e| {
            let line = if e.object.is_empty() {
                "the transaction".to_string()
            } else {
                e.object.clone()
            };
            let f = failure(&line, &e);
            Failure {
                message: format!("{} (nothing in the file was applied)", f.message),
                ..f
            }
        })
    }
}

/// The match and target of a rule, in nft's words.
fn match_target(r: &Rule) -> (String, String) {
    use libnet_sys::nat::Out;
    let out = |o: &Out| match o {
        Out::Any => String::new(),
        Out::Is(i) => format!(" oifname \"{i}\""),
        Out::IsNot(i) => format!(" oifname != \"{i}\""),
    };
    match r {
        Rule::Masquerade { subnet, out: o } => (
            format!("{} saddr {subnet}{}", subnet.family().name(), out(o)),
            "masquerade".into(),
        ),
        Rule::Snat { subnet, to, out: o } => (
            format!("{} saddr {subnet}{}", subnet.family().name(), out(o)),
            format!("snat to {to}"),
        ),
        Rule::Publish {
            host,
            ports,
            dest,
            dports,
            proto,
            in_if,
        } => {
            let mut m = String::new();
            if let Some(h) = host {
                let _ = write!(m, "{} daddr {h} ", Family::of(*h).name());
            }
            if let Some(i) = in_if {
                let _ = write!(m, "iifname \"{i}\" ");
            }
            let _ = write!(m, "{} dport {ports}", proto.name());
            (m, format!("dnat to {}:{dports}", with_port(*dest)))
        }
        Rule::Isolate { a, b } => (
            format!("iifname \"{a}\" oifname \"{b}\" and back"),
            "drop".into(),
        ),
        Rule::Isolated { br } => (
            format!("iifname \"{br}\" oifname != \"{br}\" jump isolation; oifname \"{br}\""),
            "drop".into(),
        ),
    }
}

impl Ctx<'_> {
    /// Makes the changes, then turns on what the published ports need of the host; when that
    /// cannot be done, takes the changes back.
    fn commit(&mut self, changes: &[(Change, String)]) -> Result<(), Error> {
        let mut dests: Vec<IpAddr> = changes
            .iter()
            .filter_map(|(c, _)| match c {
                Change::Add(Rule::Publish { dest, .. }) => Some(*dest),
                _ => None,
            })
            .collect();
        // A batch of many ports to one container prepares it once.
        dests.sort();
        dests.dedup();
        // The rules deleted, to forget their flows after: a delete by id is looked up first.
        let listed = if changes.iter().any(|(c, _)| matches!(c, Change::DelId(..))) {
            self.nat.list()?
        } else {
            Vec::new()
        };
        let deleted: Vec<Rule> = changes
            .iter()
            .filter_map(|(c, _)| match c {
                Change::Del(r, _) => Some(r.clone()),
                Change::DelId(id, _) => listed.iter().find(|l| l.id == *id).map(|l| l.rule.clone()),
                Change::Add(_) => None,
            })
            .collect();
        let isolated: Vec<&IfName> = changes
            .iter()
            .filter_map(|(c, _)| match c {
                Change::Add(Rule::Isolate { a, b }) => Some(vec![a, b]),
                Change::Add(Rule::Isolated { br }) => Some(vec![br]),
                _ => None,
            })
            .flatten()
            .collect();
        host::check_isolated(self.trace, &isolated)?;
        // Where each destination is routed: a publish's neighbour helper names that interface
        // (a deleted one's too: the count of publishes behind that interface goes down).
        let mut routed = dests.clone();
        routed.extend(deleted.iter().filter_map(|r| match r {
            Rule::Publish { dest, .. } => Some(*dest),
            _ => None,
        }));
        routed.sort();
        routed.dedup();
        let opts = Opts {
            ways: host::ways(self.trace, &routed)?,
        };
        // Rules first, then the switches they need: a run killed in between leaves rules
        // without their switches (127.0.0.1 and hairpin not working yet), never route_localnet
        // or hairpin on with no rule (route_localnet on a bridge alone is CVE-2020-8558's
        // exposure). When the switches cannot be turned on, the rules are taken back.
        let notes = self.nat.apply(changes, &opts)?;
        for n in &notes {
            cli::say(&format!("natctl: note: {n}"));
        }
        // A publish that was there already, or a delete of what was gone, changed nothing: it
        // is neither taken back nor has flows to forget.
        let noted = |r: &Rule| notes.iter().any(|n| n.starts_with(&r.spec()));
        let deleted: Vec<Rule> = deleted.into_iter().filter(|r| !noted(r)).collect();
        let host = match host::prepare(self.trace, &dests) {
            Ok(h) => h,
            Err(e) => {
                let back: Vec<(Change, String)> = changes
                    .iter()
                    .filter_map(|(c, line)| match c {
                        Change::Add(r) if !noted(r) => {
                            Some((Change::Del(r.clone(), false), line.clone()))
                        }
                        _ => None,
                    })
                    .chain(deleted.iter().map(|r| (Change::Add(r.clone()), r.spec())))
                    .collect();
                if let Err(b) = self.nat.apply(&back, &opts) {
                    cli::say(&format!(
                        "natctl: could not take the rules back: {}",
                        b.reason()
                    ));
                }
                return Err(e);
            }
        };
        for r in &deleted {
            match ops::forget_flows(self.trace, r) {
                Ok(0) => {}
                Ok(n) => cli::say(&format!("natctl: {}removed {n} conntrack entries of {} (flows it sent)",
                    if self.trace.dry_run { "would have " } else { "" },
                    r.spec())),
                Err(e) => cli::say(&format!(
                    "natctl: warning: {}: the rule is gone, but its old flows stay in conntrack: {}",
                    r.spec(),
                    e.reason()
                )),
            }
        }
        let done = if self.trace.dry_run { "would " } else { "" };
        for n in &host.notes {
            cli::say(&format!("natctl: {done}{n}"));
        }
        for h in &host.hints {
            cli::say(&format!("natctl: note: {h}"));
        }
        let forwards = changes.iter().any(|(c, _)| {
            matches!(
                c,
                Change::Add(Rule::Masquerade { .. } | Rule::Snat { .. } | Rule::Publish { .. })
            )
        });
        if forwards {
            for w in ops::forward_drops(self.trace) {
                cli::say(&format!(
                    "natctl: warning: {w}: forwarded traffic of published ports and masqueraded \
                     subnets is dropped there unless a rule of that chain accepts it (natctl's \
                     rules cannot override a drop in another table)"
                ));
            }
        }
        Ok(())
    }

    fn list(&mut self) -> Result<(), Failure> {
        let rules = self.nat.list().map_err(|e| failure("list", &e))?;
        let text = if self.json {
            list_json(&rules)
        } else {
            let mut rows =
                vec![["id", "kind", "match", "target", "packets", "bytes"].map(String::from)];
            for l in &rules {
                let (m, t) = match_target(&l.rule);
                rows.push([
                    l.id.to_string(),
                    l.rule.kind().to_string(),
                    m,
                    t,
                    l.packets.to_string(),
                    l.bytes.to_string(),
                ]);
            }
            cli::table(&rows)
        };
        cli::emit(&mut self.out, &text)
    }
}

fn list_json(rules: &[Listed]) -> String {
    let mut j = Json::new();
    j.array(|j| {
        for l in rules {
            let (m, t) = match_target(&l.rule);
            j.object(|j| {
                j.key("id").raw(l.id);
                j.key("kind").str(l.rule.kind());
                j.key("spec").str(&l.spec);
                j.key("match").str(&m);
                j.key("target").str(&t);
                j.key("packets").raw(l.packets);
                j.key("bytes").raw(l.bytes);
            });
        }
    });
    j.out.push('\n');
    j.out
}
