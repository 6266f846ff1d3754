//! A natctl transaction as both kernel paths see it: the changes asked for, checked in order
//! against the rules present (`walk`) before either path encodes a message, and what `list`
//! shows. The paths ([`super::ops`] for nf_tables, [`super::xt`] for xtables) depend on this
//! module, never on each other.

use super::Rule;
use crate::error::{Error, Result};
use crate::ifname::IfName;
use std::collections::HashSet;
use std::net::IpAddr;

/// How many times a transaction is rebuilt after another writer committed first.
pub(crate) const RETRIES: usize = 200;

/// One natctl rule as `list` shows it: its id (the handle of its first kernel rule; see
/// [`super::nft::Found::id`]), its spec, and the counters of its own kernel rules summed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub id: u64,
    pub rule: Rule,
    pub spec: String,
    pub packets: u64,
    pub bytes: u64,
}

/// A change to make: add a rule, or delete one by spec or by id; a delete's flag is
/// `--if-exists` (what is gone already is noted, not an error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Add(Rule),
    Del(Rule, bool),
    DelId(u64, bool),
}

/// What a transaction needs besides its changes: the interface each published destination is
/// routed out of (from [`super::host::prepare`]).
#[derive(Default)]
pub struct Opts {
    pub ways: Vec<(IpAddr, IfName)>,
}

impl Opts {
    /// The interface `dest` is routed out of, when it has one.
    pub fn way(&self, dest: IpAddr) -> Option<&IfName> {
        self.ways.iter().find(|(d, _)| *d == dest).map(|(_, i)| i)
    }

    /// The kernel rules of `r`.
    pub fn lower(&self, r: &Rule) -> Vec<super::Lowered> {
        let via = match r {
            Rule::Publish { dest, .. } => self.way(*dest),
            _ => None,
        };
        r.lower(via)
    }
}

/// A change once checked: add a rule (its spec with it), or delete the rule of a spec.
pub(crate) enum Step<'a> {
    Add(&'a Rule, String),
    Del(String),
}

/// What is left after [`walk`]: notes on changes that needed nothing, and the specs present
/// once every change is made.
pub(crate) struct Walked {
    pub notes: Vec<String>,
    pub present: Vec<String>,
}

/// Checks `changes` in order against the specs present, so a batch may delete a rule and add
/// it again, or delete what an earlier line added: adding a rule that is there, publishing a
/// host port another publish holds, or deleting a rule that is not there, is an error naming
/// the change's object, found before anything is sent. The same publish again is done already
/// (a note), and so is a delete of what is gone with `--if-exists`. `id` resolves a delete by
/// id. A rule `unseen` may be there without being in `present` (the read did not look): its
/// delete goes ahead, and the kernel refuses it when it is not there.
pub(crate) fn walk<'a>(
    present: Vec<String>,
    id: impl Fn(u64) -> Option<String>,
    unseen: impl Fn(&Rule) -> bool,
    changes: &'a [(Change, String)],
    mut step: impl FnMut(Step<'a>, &str) -> Result<()>,
) -> Result<Walked> {
    let mut notes = Vec::new();
    // The specs as a set, and the publishes among them read once: a batch of thousands of
    // lines checks each against these, not against every spec parsed again.
    let mut present: HashSet<String> = present.into_iter().collect();
    let mut publishes: Vec<(String, Rule)> = present
        .iter()
        .filter_map(|s| match Rule::from_spec(s) {
            Ok(r @ Rule::Publish { .. }) => Some((s.clone(), r)),
            _ => None,
        })
        .collect();
    for (c, object) in changes {
        let no_rule = || {
            Error::state(
                object.clone(),
                "there is no such natctl rule (see natctl list)",
            )
        };
        let spec = match c {
            Change::Add(r) | Change::Del(r, _) => r.spec(),
            Change::DelId(n, if_exists) => match id(*n) {
                Some(s) => s,
                None if *if_exists => {
                    notes.push(format!("no rule has id {n}: nothing deleted"));
                    continue;
                }
                None => return Err(no_rule()),
            },
        };
        let here = present.contains(&spec);
        match c {
            Change::Add(Rule::Publish { .. }) if here => {
                notes.push(format!("{spec} is there already: nothing added"));
            }
            Change::Add(r) => {
                if here {
                    return Err(Error::state(object.clone(), "this rule is already there"));
                }
                if let Some((holder, _)) = publishes.iter().find(|(_, h)| h.overlaps(r)) {
                    return Err(Error::state(
                        object.clone(),
                        format!("its host port is already published by {holder} (see natctl list)"),
                    ));
                }
                if matches!(r, Rule::Publish { .. }) {
                    publishes.push((spec.clone(), r.clone()));
                }
                present.insert(spec.clone());
                step(Step::Add(r, spec), object)?;
            }
            Change::Del(r, _) if !here && unseen(r) => step(Step::Del(spec), object)?,
            Change::Del(_, if_exists) | Change::DelId(_, if_exists) => {
                if !here {
                    if *if_exists {
                        notes.push(format!("{spec} is not there: nothing deleted"));
                        continue;
                    }
                    return Err(no_rule());
                }
                present.remove(&spec);
                publishes.retain(|(s, _)| s != &spec);
                step(Step::Del(spec), object)?;
            }
        }
    }
    Ok(Walked {
        notes,
        present: present.into_iter().collect(),
    })
}
