//! natctl's steps on nf_tables: each command is one transaction, built against the ruleset
//! generation it read (`NFNL_BATCH_GENID`), so a concurrent commit makes the kernel refuse it
//! (`ERESTART`) and it is rebuilt from a fresh read, rather than two natctl runs both making
//! the table, or both adding the same rule.

use super::nft::{self as enc, Found, FAMILY, TABLE};
use super::Rule;
use crate::error::{Error, Result};
use crate::netlink::nft::{self, NETLINK_NETFILTER};
use crate::netlink::{Msg, NlSocket};
use crate::trace::{Access, Trace};

/// How many times a transaction is rebuilt after another writer committed first.
const RETRIES: usize = 200;

/// natctl's table as read: the generation it was read at, and its rules.
pub struct State {
    pub genid: u32,
    pub exists: bool,
    pub rules: Vec<Found>,
}

impl State {
    /// The kernel rules (own and helpers) of a spec.
    pub fn of(&self, spec: &str) -> impl Iterator<Item = &Found> {
        let spec = spec.to_string();
        self.rules
            .iter()
            .filter(move |f| f.spec.as_deref() == Some(spec.as_str()))
    }
}

/// One natctl rule as `list` shows it: its id (the handle of its first kernel rule), its
/// spec, and the counters of its own kernel rules summed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub id: u64,
    pub rule: Rule,
    pub spec: String,
    pub packets: u64,
    pub bytes: u64,
}

/// A change to make: add a rule, or delete one by spec or by id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Add(Rule),
    Del(Rule),
    DelId(u64),
}

pub struct Nat {
    nl: NlSocket,
}

impl Nat {
    pub fn new(trace: Trace) -> Result<Nat> {
        Ok(Nat {
            nl: NlSocket::open(NETLINK_NETFILTER, trace)?,
        })
    }

    pub fn trace(&self) -> Trace {
        self.nl.trace
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
        let genid = self.genid()?;
        // A rule dump of a table that is not there is merely empty; the table itself says.
        let table = self.nl.transact(
            nft::get_table(FAMILY, TABLE),
            TABLE,
            Access::Read,
            &mut |_| Ok(()),
        );
        match table {
            Err(e) if e.is(libc::ENOENT) => {
                return Ok(State {
                    genid,
                    exists: false,
                    rules: Vec::new(),
                })
            }
            other => other?,
        }
        let rules = self.nl.dump(
            || nft::dump_rules(FAMILY, TABLE),
            TABLE,
            Vec::new,
            |v: &mut Vec<Found>, m| {
                v.push(enc::parse_rule(m)?);
                Ok(())
            },
        );
        Ok(State {
            genid,
            exists: true,
            rules: rules?,
        })
    }

    /// Makes `changes` in one transaction; `objects[i]` names change i in errors (a batch
    /// file's line). Every change is checked against the table first: adding a rule that is
    /// there, or deleting one that is not, is an error and nothing is sent.
    pub fn apply(&mut self, changes: &[(Change, String)]) -> Result<()> {
        for _ in 0..RETRIES {
            let st = self.read()?;
            let msgs = plan(&st, changes)?;
            if msgs.is_empty() {
                return Ok(());
            }
            match self.nl.batch(msgs, Some(st.genid)) {
                Err(e) if e.is(libc::ERESTART) => continue,
                // The acks were lost, the commit maybe not: the table says which.
                Err(e) if e.is(libc::ENOBUFS) => {
                    let now = self.read()?;
                    return if settled(&now, changes) {
                        Ok(())
                    } else {
                        Err(e)
                    };
                }
                other => return other,
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
                l.id = l.id.min(f.handle);
                continue;
            }
            // A comment that no longer parses is someone's hand edit; it is shown as found.
            let Ok(rule) = Rule::from_spec(spec) else {
                continue;
            };
            out.push(Listed {
                id: f.handle,
                rule,
                spec: spec.clone(),
                packets: f.packets,
                bytes: f.bytes,
            });
        }
        out.sort_by_key(|l| l.id);
        Ok(out)
    }

    /// Removes natctl's table, whether or not it is there; no other table is touched.
    pub fn flush(&mut self) -> Result<()> {
        self.nl.batch(enc::flush(), None)
    }
}

/// The spec a change is about, resolving a delete by id.
fn spec_of(st: &State, c: &Change) -> Result<String> {
    match c {
        Change::Add(r) | Change::Del(r) => Ok(r.spec()),
        Change::DelId(id) => st
            .rules
            .iter()
            .find(|f| f.handle == *id && !f.helper)
            .and_then(|f| f.spec.clone())
            .ok_or_else(|| Error::errno("NFT_MSG_DELRULE", format!("id {id}"), libc::ENOENT)),
    }
}

/// The messages for `changes` against `st`, checked in order (a batch may delete a rule and
/// add it again).
fn plan(st: &State, changes: &[(Change, String)]) -> Result<Vec<(Msg, String)>> {
    // Each message with the spec of the rule it adds, so a later line of the same batch that
    // deletes that rule takes its messages back out.
    let mut msgs: Vec<(Msg, String, Option<String>)> = Vec::new();
    if !st.exists && changes.iter().any(|(c, _)| matches!(c, Change::Add(_))) {
        msgs.extend(enc::setup().into_iter().map(|(m, o)| (m, o, None)));
    }
    let mut present: Vec<String> = st.rules.iter().filter_map(|f| f.spec.clone()).collect();
    for (c, object) in changes {
        let spec = spec_of(st, c).map_err(|e| Error {
            object: object.clone(),
            ..e
        })?;
        let here = present.contains(&spec);
        match c {
            Change::Add(r) => {
                if here {
                    return Err(Error::errno(
                        "NFT_MSG_NEWRULE",
                        object.clone(),
                        libc::EEXIST,
                    ));
                }
                msgs.extend(
                    enc::add(r, object)
                        .into_iter()
                        .map(|(m, o)| (m, o, Some(spec.clone()))),
                );
                present.push(spec);
            }
            Change::Del(_) | Change::DelId(_) => {
                if !here {
                    return Err(Error::errno(
                        "NFT_MSG_DELRULE",
                        object.clone(),
                        libc::ENOENT,
                    ));
                }
                let queued = msgs.len();
                msgs.retain(|(_, _, s)| s.as_deref() != Some(spec.as_str()));
                if msgs.len() == queued {
                    for f in st.of(&spec) {
                        let m = nft::del_rule(FAMILY, TABLE, &f.chain, f.handle);
                        msgs.push((m, object.clone(), None));
                    }
                }
                present.retain(|s| s != &spec);
            }
        }
    }
    Ok(msgs.into_iter().map(|(m, o, _)| (m, o)).collect())
}

/// Whether the table shows every change made (after lost acks).
fn settled(st: &State, changes: &[(Change, String)]) -> bool {
    changes.iter().all(|(c, _)| match c {
        Change::Add(r) => st.of(&r.spec()).next().is_some(),
        Change::Del(r) => st.of(&r.spec()).next().is_none(),
        Change::DelId(id) => st.rules.iter().all(|f| f.handle != *id),
    })
}
