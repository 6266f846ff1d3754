//! natctl's steps on nf_tables: each command is one transaction, built against the ruleset
//! generation it read (`NFNL_BATCH_GENID`), so a concurrent commit makes the kernel refuse it
//! (`ERESTART`) and it is rebuilt from a fresh read, rather than two natctl runs both making
//! the table, or both adding the same rule.

use super::change::{walk, Change, Listed, Opts, Step, RETRIES};
use super::nft::{self as enc, nfproto, Found, FAMILIES, TABLE};
use super::xt::XtNat;
use super::{Family, Proto, Rule};
use crate::error::{Error, Result};
use crate::netlink::ctnetlink;
use crate::netlink::nfnetlink::NETFILTER;
use crate::netlink::nft;
use crate::netlink::{Msg, NlSocket};
use crate::trace::{Access, Trace};
use crate::xtables::{Abi, Target, Xtables, VERDICT_DROP};

/// natctl's tables as read: the generation it was read at, which of the two tables exist
/// (IPv4's, IPv6's), and their rules.
pub struct State {
    pub genid: u32,
    pub exists: [bool; 2],
    /// Whether `rules` were read (an add of anything but a publish reads only the tables).
    pub read_rules: bool,
    pub rules: Vec<Found>,
}

impl State {
    pub fn has(&self, f: Family) -> bool {
        self.exists[f as usize]
    }

    /// The kernel rules (own and helpers) of a spec.
    pub fn of(&self, spec: &str) -> impl Iterator<Item = &Found> {
        let spec = spec.to_string();
        self.rules
            .iter()
            .filter(move |f| f.spec.as_deref() == Some(spec.as_str()))
    }
}

/// natctl's steps on the path chosen.
pub enum Nat {
    Nft(NftNat),
    Xt(XtNat),
}

impl Nat {
    /// nf_tables, or with `iptables` the legacy xtables path (`waiting` is told when another
    /// program holds the xtables lock for a while).
    pub fn open(iptables: bool, trace: Trace, waiting: fn(&str)) -> Result<Nat> {
        Ok(if iptables {
            Nat::Xt(XtNat::new(trace, waiting)?)
        } else {
            Nat::Nft(NftNat::new(trace)?)
        })
    }

    /// Makes `changes` in one transaction; returns notes on what needed doing no more
    /// (a publish already there, a delete with `--if-exists` of what is gone).
    pub fn apply(&mut self, changes: &[(Change, String)], opts: &Opts) -> Result<Vec<String>> {
        match self {
            Nat::Nft(n) => n.apply(changes, opts),
            Nat::Xt(x) => x.apply(changes, opts),
        }
    }

    pub fn list(&mut self) -> Result<Vec<Listed>> {
        match self {
            Nat::Nft(n) => n.list(),
            Nat::Xt(x) => x.list(),
        }
    }

    pub fn flush(&mut self) -> Result<()> {
        match self {
            Nat::Nft(n) => n.flush(),
            Nat::Xt(x) => x.flush(),
        }
    }
}

pub struct NftNat {
    nl: NlSocket,
}

impl NftNat {
    pub fn new(trace: Trace) -> Result<NftNat> {
        Ok(NftNat {
            nl: NlSocket::open(&NETFILTER, trace)?,
        })
    }

    fn genid(&mut self) -> Result<u32> {
        let mut id = 0;
        self.nl
            .transact(nft::get_gen(), "", Access::Read, &mut |m| {
                for a in crate::netlink::attrs(m.payload.get(4..).unwrap_or(&[])) {
                    let a = a?;
                    if a.ty == nft::NFTA_GEN_ID {
                        id = a.be32()?;
                    }
                }
                Ok(())
            })?;
        Ok(id)
    }

    /// The generation, then natctl's rules (none, and `exists` false, without its table).
    pub fn read(&mut self) -> Result<State> {
        self.read_with(Reading::All)
    }

    /// As `read`, with as many rules as `what` needs.
    fn read_with(&mut self, what: Reading) -> Result<State> {
        let genid = self.genid()?;
        let mut st = State {
            genid,
            exists: [false; 2],
            read_rules: what == Reading::All,
            rules: Vec::new(),
        };
        for f in FAMILIES {
            let name = enc::table_name(f);
            // A rule dump of a table that is not there is merely empty; the table itself says.
            let table = self.nl.transact(
                nft::get_table(nfproto(f), TABLE),
                &name,
                Access::Read,
                &mut |_| Ok(()),
            );
            match table {
                Err(e) if e.is(libc::ENOENT) => continue,
                other => other?,
            }
            st.exists[f as usize] = true;
            if what != Reading::Tables {
                let chain = (what == Reading::Publishes).then_some(enc::PUBLISH);
                let found = self.nl.dump(
                    || nft::dump_rules(nfproto(f), TABLE, chain),
                    &name,
                    Vec::new,
                    |v: &mut Vec<Found>, m| {
                        v.push(enc::parse_rule(m)?);
                        Ok(())
                    },
                )?;
                st.rules.extend(found);
            }
        }
        Ok(st)
    }

    /// Makes `changes` in one transaction; `objects[i]` names change i in errors (a batch
    /// file's line). Every change is checked against the table first: adding a rule that is
    /// there, or deleting one that is not, is an error and nothing is sent.
    pub fn apply(&mut self, changes: &[(Change, String)], opts: &Opts) -> Result<Vec<String>> {
        for _ in 0..RETRIES {
            let st = self.read_with(reading(changes))?;
            let (msgs, notes) = plan(&st, changes, opts)?;
            if msgs.is_empty() {
                return Ok(notes);
            }
            match self.nl.batch(msgs, Some(st.genid)) {
                Err(e) if e.is(libc::ERESTART) => continue,
                // The acks were lost, the commit maybe not: the table says which.
                Err(e) if e.is(libc::ENOBUFS) => {
                    let now = self.read()?;
                    return if settled(&now, changes) {
                        Ok(notes)
                    } else {
                        Err(e)
                    };
                }
                other => return other.map(|_| notes),
            }
        }
        Err(Error::state(
            TABLE,
            "other writers kept changing the ruleset; try again",
        ))
    }

    /// natctl's rules, in the order they were added.
    pub fn list(&mut self) -> Result<Vec<Listed>> {
        let st = self.read()?;
        let mut out: Vec<Listed> = Vec::new();
        for f in st.rules.iter().filter(|f| !f.helper) {
            let Some(spec) = &f.spec else { continue };
            if let Some(l) = out.iter_mut().find(|l| &l.spec == spec) {
                l.packets += f.packets;
                l.bytes += f.bytes;
                l.id = l.id.min(f.id());
                continue;
            }
            // A comment that no longer parses is someone's hand edit; it is shown as found.
            let Ok(rule) = Rule::from_spec(spec) else {
                continue;
            };
            out.push(Listed {
                id: f.id(),
                rule,
                spec: spec.clone(),
                packets: f.packets,
                bytes: f.bytes,
            });
        }
        out.sort_by_key(|l| l.id);
        Ok(out)
    }

    /// Removes natctl's tables, whether or not they are there; no other table is touched.
    pub fn flush(&mut self) -> Result<()> {
        self.nl.batch(enc::flush(), None)
    }
}

/// How much of natctl's tables a transaction reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// Only whether the tables are there: adding a masquerade, snat or isolation, whose key
    /// the kernel refuses when the rule exists.
    Tables,
    /// The chain of published ports too: adding publishes (a host port may be held by
    /// another), a quarter of the rules (a publish's helpers live in postrouting).
    Publishes,
    /// Every rule: a delete needs the handles.
    All,
}

fn reading(changes: &[(Change, String)]) -> Reading {
    let publish = |c: &Change| matches!(c, Change::Add(Rule::Publish { .. }));
    if changes.iter().any(|(c, _)| !matches!(c, Change::Add(_))) {
        Reading::All
    } else if changes.iter().any(|(c, _)| publish(c)) {
        Reading::Publishes
    } else {
        Reading::Tables
    }
}

/// A transaction's messages, each with the object it is about.
type Batch = Vec<(Msg, String)>;

/// The messages for `changes` against `st`, and the notes of [`walk`]. When no rule of
/// natctl's is left, the table goes in the same transaction.
fn plan(st: &State, changes: &[(Change, String)], opts: &Opts) -> Result<(Batch, Vec<String>)> {
    // Each message with the spec of the rule it adds, so a later line of the same batch that
    // deletes that rule takes its messages back out.
    let mut msgs: Vec<(Msg, String, Option<String>)> = Vec::new();
    let present = st.rules.iter().filter_map(|f| f.spec.clone()).collect();
    let id = |n: u64| {
        st.rules
            .iter()
            .find(|f| f.id() == n && !f.helper)
            .and_then(|f| f.spec.clone())
    };
    let walked = walk(present, id, changes, |step, object| {
        match step {
            Step::Add(r, spec) => {
                let lowered = opts.lower(r);
                for &f in r.families() {
                    msgs.extend(
                        enc::add(r, &lowered, f, object)
                            .into_iter()
                            .map(|(m, o)| (m, o, Some(spec.clone()))),
                    );
                }
            }
            Step::Del(spec) => {
                let queued = msgs.len();
                msgs.retain(|(_, _, s)| s.as_deref() != Some(spec.as_str()));
                if msgs.len() == queued {
                    let mut tables: Vec<Family> = Vec::new();
                    for f in st.of(&spec) {
                        let m = nft::del_rule(nfproto(f.family), TABLE, &f.chain, f.handle);
                        msgs.push((m, object.to_string(), None));
                        if !tables.contains(&f.family) {
                            tables.push(f.family);
                        }
                    }
                    for f in tables {
                        let m = nft::del_counter(nfproto(f), TABLE, &enc::key(&spec));
                        msgs.push((m, object.to_string(), None));
                    }
                }
            }
        }
        Ok(())
    })?;
    if msgs.is_empty() {
        return Ok((Vec::new(), walked.notes));
    }
    // What is left in each family: a table is made first when a rule needs it; a table that
    // holds nothing of natctl's any more goes in the same transaction (the rule deletes before
    // it are then moot, but harmless); the isolation chain goes with the last bridge of the
    // isolated set. A spec that does not parse is someone's hand edit: its tables stay.
    let left: Vec<Option<Rule>> = walked
        .present
        .iter()
        .map(|s| Rule::from_spec(s).ok())
        .collect();
    // Without the rules read (adds only), what else each table holds is not known: it holds.
    let holds = |f: Family| {
        !st.read_rules
            || left
                .iter()
                .any(|r| r.as_ref().map_or(true, |r| r.families().contains(&f)))
    };
    let needs = |f: Family| {
        left.iter()
            .any(|r| r.as_ref().map_or(true, |r| r.families().contains(&f)))
    };
    let mut setup = Vec::new();
    for f in FAMILIES {
        let name = format!("table {}", enc::table_name(f));
        match (st.has(f), holds(f)) {
            (false, _) if needs(f) => {
                setup.extend(enc::setup(f).into_iter().map(|(m, o)| (m, o, None)))
            }
            (true, false) => msgs.push((nft::del_table(nfproto(f), TABLE), name, None)),
            _ => {}
        }
        if !holds(f) {
            continue;
        }
        let isolated = left
            .iter()
            .any(|r| matches!(r, Some(Rule::Isolated { .. })));
        let had = st
            .rules
            .iter()
            .any(|r| r.family == f && r.chain == enc::ISOLATION);
        if had && !isolated {
            let m = nft::del_chain(nfproto(f), TABLE, enc::ISOLATION);
            msgs.push((m, format!("chain {}", enc::ISOLATION), None));
        }
    }
    let msgs = setup
        .into_iter()
        .chain(msgs)
        .map(|(m, o, _)| (m, o))
        .collect();
    Ok((msgs, walked.notes))
}

/// Whether the table shows every change made (after lost acks).
fn settled(st: &State, changes: &[(Change, String)]) -> bool {
    changes.iter().all(|(c, _)| match c {
        Change::Add(r) => st.of(&r.spec()).next().is_some(),
        Change::Del(r, _) => st.of(&r.spec()).next().is_none(),
        Change::DelId(id, _) => st.rules.iter().all(|f| f.id() != *id),
    })
}

/// What another firewall on the forward hook drops that natctl's rules need: another
/// nf_tables table's forward base chain with policy drop, or the legacy filter table's FORWARD
/// policy DROP. An accept ends only its own chain; a drop anywhere is final, so natctl cannot
/// override these, only tell. Best effort: what cannot be read is not reported.
pub fn forward_drops(trace: Trace) -> Vec<String> {
    let mut v = Vec::new();
    let chains = NlSocket::open(&NETFILTER, trace).and_then(|mut nl| nft::base_chains(&mut nl));
    for c in chains.unwrap_or_default() {
        let family = match c.family {
            nft::NFPROTO_IPV4 => "ip",
            nft::NFPROTO_IPV6 => "ip6",
            nft::NFPROTO_INET => "inet",
            _ => continue,
        };
        let ours = enc::family_of(c.family).is_some() && c.table == TABLE;
        if c.hooknum == nft::NF_INET_FORWARD && c.policy == Some(libc::NF_DROP as u32) && !ours {
            v.push(format!(
                "table {family} {}, chain {} (hook forward, priority {}) has policy drop",
                c.table, c.name, c.priority
            ));
        }
    }
    for (abi, tool) in [(Abi::V4, "iptables"), (Abi::V6, "ip6tables")] {
        let Ok(x) = Xtables::open(trace, abi) else {
            continue;
        };
        // Reading a table this namespace lacks would make it: look only at one it has.
        if x.tables().is_ok_and(|t| t.iter().any(|n| n == "filter")) {
            let forward = x
                .read("filter")
                .ok()
                .and_then(|t| t.chain("FORWARD").cloned());
            if forward.is_some_and(|c| c.tail.target == Target::Verdict(VERDICT_DROP)) {
                v.push(format!(
                    "{tool} (legacy) table filter, chain FORWARD has policy DROP"
                ));
            }
        }
    }
    v
}

/// After a UDP port is unpublished: deletes the conntrack entries of the flows it sent to its
/// target, which would otherwise keep going there (NAT is decided on a flow's first packet,
/// and UDP flows live as long as packets keep coming). Returns how many; nothing for other
/// rules. TCP is left alone: its connections end.
pub fn forget_flows(trace: Trace, rule: &Rule) -> Result<usize> {
    let Rule::Publish {
        host,
        ports,
        dest,
        proto: Proto::Udp,
        ..
    } = rule
    else {
        return Ok(0);
    };
    let mut nl = NlSocket::open(&NETFILTER, trace)?;
    ctnetlink::delete_flows(&mut nl, 17, *host, ports.first, ports.last, Some(*dest))
}
