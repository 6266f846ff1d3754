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
use crate::netlink::nft::set::{self, Elem};
use crate::netlink::{Msg, NlSocket};
use crate::trace::{Access, Trace};
use crate::xtables::{Abi, Target, Xtables, VERDICT_DROP};

/// natctl's tables as read: the generation it was read at, which of the two tables exist
/// (IPv4's, IPv6's), and their rules.
pub struct State {
    pub genid: u32,
    pub exists: [bool; 2],
    /// Whether `rules` were read, and the maps' elements (an add of anything but a publish
    /// reads only the tables; an add of a mapped publish its chain of published ports).
    pub read_rules: bool,
    pub rules: Vec<Found>,
    /// Each table's `NFTA_TABLE_USE`: its chains, sets and objects (a key object per rule).
    pub uses: [u32; 2],
    /// Whether each table's chain of published ports holds the map rules, when that chain
    /// was read.
    pub mapped: Option<[bool; 2]>,
}

impl State {
    pub fn has(&self, f: Family) -> bool {
        self.exists[f as usize]
    }

    /// At least how many natctl rules a table holds, by its use count: what its chains and
    /// maps do not account for is key objects.
    fn objects(&self, f: Family) -> u32 {
        let chains = (enc::CHAINS.len() + 1) as u32;
        self.uses[f as usize].saturating_sub(chains + enc::SETS)
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
            uses: [0; 2],
            mapped: (what != Reading::Tables).then_some([false; 2]),
        };
        for f in FAMILIES {
            let name = enc::table_name(f);
            let fam = nfproto(f);
            // A rule dump of a table that is not there is merely empty; the table itself says.
            let mut uses = 0;
            let table =
                self.nl
                    .transact(nft::get_table(fam, TABLE), &name, Access::Read, &mut |m| {
                        for a in crate::netlink::attrs(m.payload.get(4..).unwrap_or(&[])) {
                            let a = a?;
                            if a.ty == nft::NFTA_TABLE_USE {
                                uses = a.be32()?;
                            }
                        }
                        Ok(())
                    });
            match table {
                Err(e) if e.is(libc::ENOENT) => continue,
                other => other?,
            }
            st.exists[f as usize] = true;
            st.uses[f as usize] = uses;
            if what == Reading::Tables {
                continue;
            }
            let chain = (what == Reading::Publishes).then_some(enc::PUBLISH);
            let found = self.nl.dump(
                || nft::dump_rules(fam, TABLE, chain),
                &name,
                Vec::new,
                |v: &mut Vec<Found>, m| {
                    v.push(enc::parse_rule(m)?);
                    Ok(())
                },
            )?;
            // The only rules of the chain of published ports that are no rule's own are the
            // map rules.
            if let Some(m) = &mut st.mapped {
                m[f as usize] = found
                    .iter()
                    .any(|r| r.chain == enc::PUBLISH && r.spec.is_none());
            }
            st.rules.extend(found);
            if what == Reading::All {
                let elements = self.elements(f)?;
                st.rules.extend(elements);
            }
        }
        Ok(st)
    }

    /// The mapped publishes of a table (none from a table an older natctl made without the
    /// maps), each with its key object's handle.
    fn elements(&mut self, f: Family) -> Result<Vec<Found>> {
        let (fam, name) = (nfproto(f), enc::table_name(f));
        let mut out = Vec::new();
        let sets = [
            enc::map_name(Proto::Tcp),
            enc::map_name(Proto::Udp),
            enc::HAIRPIN,
            enc::NEIGHBOURS,
        ];
        for map in sets {
            let found = self.nl.dump(
                || set::dump_elems(fam, TABLE, map),
                &name,
                Vec::new,
                |v: &mut Vec<Found>, m| {
                    let elems = set::parse_elems(m)?;
                    v.extend(elems.iter().filter_map(|e| enc::elem_found(f, map, e)));
                    Ok(())
                },
            );
            match found {
                Err(e) if e.is(libc::ENOENT) => {}
                other => out.extend(other?),
            }
        }
        if out.is_empty() {
            return Ok(out);
        }
        let handles = self.nl.dump(
            || set::dump_objs(fam, TABLE),
            &name,
            std::collections::HashMap::new,
            |h: &mut std::collections::HashMap<String, u64>, m| {
                let (obj, handle) = set::parse_obj(m)?;
                h.insert(obj, handle);
                Ok(())
            },
        )?;
        for e in &mut out {
            let key = enc::key(e.spec.as_deref().unwrap_or_default());
            e.handle = handles.get(&key).copied().unwrap_or(0);
        }
        Ok(out)
    }

    /// Makes `changes` in one transaction; `objects[i]` names change i in errors (a batch
    /// file's line). Every change is checked against the table first: adding a rule that is
    /// there, or deleting one that is not, is an error and nothing is sent.
    pub fn apply(&mut self, changes: &[(Change, String)], opts: &Opts) -> Result<Vec<String>> {
        let mut what = reading(changes);
        for _ in 0..RETRIES {
            let st = self.read_with(what)?;
            let (msgs, notes) = plan(&st, changes, opts)?;
            if msgs.is_empty() {
                return Ok(notes);
            }
            match self.nl.batch(msgs, Some(st.genid)) {
                Err(e) if e.is(libc::ERESTART) => continue,
                // A mapped publish the read did not see is there already (or another holds a
                // port of it), or is not there: nothing was made; read everything and decide
                // as usual.
                Err(e)
                    if what != Reading::All
                        && [libc::EEXIST, libc::ENOENT].iter().any(|&n| e.is(n)) =>
                {
                    what = Reading::All;
                    continue;
                }
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

/// How much of natctl's tables a transaction reads. What a partial read does not see, the
/// kernel checks: a key object or map element that is there already (a port another publish
/// holds), or is not there to delete, fails the transaction, which is then planned again from
/// a full read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    /// Only whether the tables are there (and their use counts): adding a masquerade, snat
    /// or isolation, whose key the kernel refuses when the rule exists; deleting mapped
    /// publishes, whose elements the kernel refuses to delete when they are not there.
    Tables,
    /// The chain of published ports too: adding mapped publishes (a host port may be held by
    /// a publish that is rules, on one address or interface; the maps refuse overlaps
    /// among themselves).
    Publishes,
    /// Every rule and element: a delete of rules needs their handles, a publish that is rules
    /// must be checked against the mapped ones.
    All,
}

fn reading(changes: &[(Change, String)]) -> Reading {
    let mapped_del = |c: &Change| matches!(c, Change::Del(r, _) if enc::mapped(r));
    let all = |c: &Change| match c {
        Change::Add(r @ Rule::Publish { .. }) => !enc::mapped(r),
        Change::Add(_) => false,
        c => !mapped_del(c),
    };
    if changes.iter().any(|(c, _)| all(c)) {
        Reading::All
    } else if changes
        .iter()
        .any(|(c, _)| matches!(c, Change::Add(Rule::Publish { .. })))
    {
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
    // Key objects added and deleted in each table, and whether a mapped publish is added.
    let (mut added, mut deleted, mut mapping) = ([0u32; 2], [0u32; 2], [false; 2]);
    let unseen = |r: &Rule| !st.read_rules && enc::mapped(r);
    let walked = walk(present, id, unseen, changes, |step, object| {
        match step {
            Step::Add(r, spec) => {
                let lowered = opts.lower(r);
                for &f in r.families() {
                    added[f as usize] += 1;
                    mapping[f as usize] |= enc::mapped(r);
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
                    for f in st.of(&spec).filter(|f| f.element.is_none()) {
                        let m = nft::del_rule(nfproto(f.family), TABLE, &f.chain, f.handle);
                        msgs.push((m, object.to_string(), None));
                        if !tables.contains(&f.family) {
                            tables.push(f.family);
                        }
                    }
                    // A mapped publish's elements: its map's, and its helpers' as read or,
                    // unread, as they would be made now.
                    if let Some(r) = Rule::from_spec(&spec).ok().filter(enc::mapped) {
                        for &f in r.families() {
                            let read: Vec<&Found> = st
                                .of(&spec)
                                .filter(|x| x.family == f && x.element.is_some())
                                .collect();
                            let helpers: Vec<(String, Vec<Elem>)> = if unseen(&r) {
                                let via = match &r {
                                    Rule::Publish { dest, .. } => opts.way(*dest),
                                    _ => None,
                                };
                                enc::helper_elems(&r, via)
                                    .into_iter()
                                    .map(|(s, e)| (s.to_string(), e))
                                    .collect()
                            } else if !read.is_empty() {
                                read.iter()
                                    .filter(|x| x.helper)
                                    .filter_map(|x| {
                                        Some((x.chain.clone(), vec![x.element.clone()?]))
                                    })
                                    .collect()
                            } else {
                                continue;
                            };
                            let mut m = enc::del_map_elems(&r, f);
                            for (set, elems) in &helpers {
                                m.extend(enc::elem_msgs(f, set, elems, false));
                            }
                            msgs.extend(m.into_iter().map(|m| (m, object.to_string(), None)));
                            if !tables.contains(&f) {
                                tables.push(f);
                            }
                        }
                    }
                    for f in tables {
                        deleted[f as usize] += 1;
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
    // Without the rules read, what else a table holds is told by its use count, which
    // counts a key object per rule (and, on the safe side, a chain or set someone added).
    let holds = |f: Family| {
        if st.read_rules {
            left.iter()
                .any(|r| r.as_ref().map_or(true, |r| r.families().contains(&f)))
        } else {
            added[f as usize] > 0 || st.objects(f) > deleted[f as usize]
        }
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
            // A table an older natctl made, without the maps, gets them with the first
            // mapped publish.
            (true, true) if mapping[f as usize] && st.mapped.is_some_and(|m| !m[f as usize]) => {
                setup.extend(enc::maps(f).into_iter().map(|(m, o)| (m, o, None)))
            }
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
