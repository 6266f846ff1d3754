//! The rule model in legacy xtables (`--via iptables`): natctl's own chains, jumped to from
//! the built-in ones, as Docker's DOCKER chains are.
//!
//! ```text
//! nat     PREROUTING  -m addrtype --dst-type LOCAL -j NATCTL   (first)
//!         OUTPUT      -m addrtype --dst-type LOCAL -j NATCTL   (first; IPv6: ! -d ::1/128)
//!         POSTROUTING -j NATCTL-POSTROUTING                    (last)
//!         NATCTL              [-d H] [-i I] -p P --dport N -j DNAT --to-destination D:M
//!         NATCTL-POSTROUTING  -s S [[!] -o O] -j MASQUERADE | SNAT --to-source A
//! filter  FORWARD     -j NATCTL-FORWARD                        (first)
//!         NATCTL-FORWARD      -i A -o B -j DROP
//!                             -i I ! -o I -j NATCTL-ISOLATION
//!         NATCTL-ISOLATION    -o I -j DROP                     (each bridge I of the set)
//! ```
//!
//! IPv6 rules go in the same chains of ip6tables' tables (the `ip6t_entry` ABI), isolation in
//! both. The positions follow the nf_tables path's priorities: published ports and isolation before
//! the standard chains' rules, source NAT after them. Every entry carries the same comment as
//! on the nf_tables path. A command is a read-modify-write of each table it touches, under
//! `/run/xtables.lock`; two tables are two replaces, and when the second fails the first is
//! put back.

use super::change::{walk, Change, Listed, Opts, Step, RETRIES};
use super::spec::{tag, untag, BASE_TAG};
use super::{Action, Family, Lowered, Out, Place, Rule};
use crate::error::{Error, Result};
use crate::trace::Trace;
use crate::xtables::rule::{self as xr, IpMatch};
use crate::xtables::{Abi, Entry, Table, Target, Xtables, VERDICT_DROP};
use std::collections::HashSet;

pub const PUBLISH: &str = "NATCTL";
pub const POSTROUTING: &str = "NATCTL-POSTROUTING";
pub const FORWARD: &str = "NATCTL-FORWARD";
pub const ISOLATION: &str = "NATCTL-ISOLATION";

/// natctl's chains by table, in the order `list` reads them.
const TABLES: [(&str, &[&str]); 2] = [
    ("nat", &[PUBLISH, POSTROUTING]),
    ("filter", &[FORWARD, ISOLATION]),
];

fn place(p: Place) -> (&'static str, &'static str) {
    match p {
        Place::Publish => ("nat", PUBLISH),
        Place::Postrouting => ("nat", POSTROUTING),
        Place::Forward => ("filter", FORWARD),
        Place::Isolation => ("filter", ISOLATION),
    }
}

/// The jumps into natctl's chains in `table`: (built-in chain, first?, target chain, matches).
fn jumps(table: &str) -> Vec<(&'static str, bool, &'static str, Vec<u8>)> {
    match table {
        "nat" => vec![
            ("PREROUTING", true, PUBLISH, xr::dst_type_local()),
            ("OUTPUT", true, PUBLISH, xr::dst_type_local()),
            ("POSTROUTING", false, POSTROUTING, Vec::new()),
        ],
        _ => vec![("FORWARD", true, FORWARD, Vec::new())],
    }
}

/// The ABI of a family: iptables' or ip6tables'.
fn abi(f: Family) -> Abi {
    match f {
        Family::V4 => Abi::V4,
        Family::V6 => Abi::V6,
    }
}

/// The entry of one kernel rule in the tables of family `f`, tagged `comment`.
pub fn encode(l: &Lowered, f: Family, comment: &str) -> Result<Entry> {
    let oif = match &l.oif {
        Out::Any => None,
        Out::Is(i) => Some((i.as_str(), false)),
        Out::IsNot(i) => Some((i.as_str(), true)),
    };
    let ip = IpMatch {
        abi: abi(f),
        src: l.src.map(|s| (s.addr, s.prefix)),
        dst: l.dst.map(|d| (d, f.bits())),
        not_dst: false,
        iniface: l.iif.as_ref().map(|i| i.as_str()),
        outiface: oif,
        proto: l.l4.map_or(0, |(p, _)| p.number()),
    };
    let mut m = Vec::new();
    if let Some((p, ports)) = l.l4 {
        m.extend(xr::dport(p.number(), ports.first, ports.last));
    }
    m.extend(xr::comment(comment)?);
    let target = match l.action {
        Action::Masquerade => xr::masquerade(abi(f)),
        Action::Snat(a) => xr::snat(a),
        Action::Dnat(a, p) => xr::dnat(a, p),
        Action::Drop => Target::Verdict(VERDICT_DROP),
        Action::Isolation => Target::Jump(ISOLATION.to_string()),
    };
    Ok(xr::entry(&ip, m, target))
}

/// A table read, as read and as natctl changes it.
struct Held {
    family: Family,
    read: Table,
    table: Table,
    changed: bool,
}

pub struct XtNat {
    /// The IPv4 ABI's socket, and the IPv6 one's (none when the kernel has no IPv6).
    xt: Xtables,
    xt6: Option<Xtables>,
    /// Told when the xtables lock is held by someone else for a while.
    waiting: fn(&str),
}

impl XtNat {
    pub fn new(trace: Trace, waiting: fn(&str)) -> Result<XtNat> {
        Ok(XtNat {
            xt: Xtables::open(trace, Abi::V4)?,
            xt6: Xtables::open(trace, Abi::V6).ok(),
            waiting,
        })
    }

    fn xt(&self, f: Family) -> Result<&Xtables> {
        match f {
            Family::V4 => Ok(&self.xt),
            Family::V6 => self.xt6.as_ref().ok_or_else(|| {
                Error::state("ip6tables", "this kernel has no IPv6 (no raw IPv6 socket)")
            }),
        }
    }

    /// natctl's tables that this namespace has, read, IPv4's then IPv6's; with `create`, the
    /// named ones too.
    fn read(&self, create: &[(Family, &str)]) -> Result<Vec<Held>> {
        let mut v = Vec::new();
        for f in [Family::V4, Family::V6] {
            let wanted = create.iter().any(|(c, _)| *c == f);
            let Ok(xt) = self.xt(f) else {
                if wanted {
                    self.xt(f)?;
                }
                continue;
            };
            let have = match xt.tables() {
                Ok(have) => have,
                // In a user namespace the list stays the initial root's (mode 0440), while the
                // tables themselves are the namespace's: read all of natctl's, which makes any
                // this namespace lacked, as iptables -L does.
                Err(e) if e.is(libc::EACCES) => TABLES.iter().map(|(n, _)| n.to_string()).collect(),
                Err(e) => return Err(e),
            };
            for (name, _) in TABLES {
                if have.iter().any(|t| t == name) || create.contains(&(f, name)) {
                    let read = xt.read(name)?;
                    v.push(Held {
                        family: f,
                        table: read.clone(),
                        read,
                        changed: false,
                    });
                }
            }
        }
        Ok(v)
    }

    /// Makes `changes` with one replace per table touched, under the xtables lock.
    pub fn apply(&mut self, changes: &[(Change, String)], opts: &Opts) -> Result<Vec<String>> {
        let _lock = self.xt.lock(&self.waiting)?;
        for _ in 0..RETRIES {
            match self.try_apply(changes, opts) {
                // A writer that ignores the lock replaced a table after we read it.
                Err(e) if e.is(libc::EAGAIN) => continue,
                other => return other,
            }
        }
        Err(Error::state(
            "iptables",
            "other writers kept changing the tables; try again",
        ))
    }

    fn try_apply(&mut self, changes: &[(Change, String)], opts: &Opts) -> Result<Vec<String>> {
        let mut create: Vec<(Family, &str)> = Vec::new();
        for (c, _) in changes {
            if let Change::Add(r) = c {
                for &f in r.families() {
                    create.extend(opts.lower(r).iter().map(|l| (f, place(l.place).0)));
                }
            }
        }
        let mut held = self.read(&create)?;
        let listed = own(&held);
        let present = held
            .iter()
            .flat_map(|h| natctl_entries(&h.table))
            .map(|(_, _, spec, _)| spec)
            .collect();
        let id = |n: u64| {
            listed
                .get((n as usize).checked_sub(1)?)
                .map(|l| l.spec.clone())
        };
        // Deletes are gathered and made in one pass over the rules (a batch of thousands
        // would otherwise pass over every rule once each); a rule added again after its
        // delete has the pass made first.
        let mut gone: HashSet<String> = HashSet::new();
        let walked = walk(
            present,
            id,
            |_| false,
            changes,
            |step, _| {
                match step {
                    Step::Add(r, spec) => {
                        if gone.contains(&spec) {
                            remove(&mut held, &mut gone);
                        }
                        for (&f, l) in r
                            .families()
                            .iter()
                            .flat_map(|f| opts.lower(r).into_iter().map(move |l| (f, l)))
                        {
                            let (table, chain) = place(l.place);
                            let missing = || Error::state(format!("table {table}"), "was not read");
                            let h = held
                                .iter_mut()
                                .find(|h| h.family == f && h.table.name == table)
                                .ok_or_else(missing)?;
                            setup(&mut h.table)?;
                            // The isolation chain is made when first needed.
                            if h.table.chain(chain).is_none() {
                                h.table.add_chain(chain);
                            }
                            let e = encode(&l, f, &tag(&spec, l.helper))?;
                            let c = h.table.chain_mut(chain).ok_or_else(missing)?;
                            c.rules.push(e);
                            h.changed = true;
                        }
                    }
                    Step::Del(spec) => {
                        gone.insert(spec);
                    }
                }
                Ok(())
            },
        )?;
        remove(&mut held, &mut gone);
        // A table left with no rule of natctl's keeps none of its chains or jumps either.
        for h in &mut held {
            if natctl_entries(&h.table).is_empty() {
                h.changed |= unset(&mut h.table);
            }
            // The isolation chain goes with the last bridge of the isolated set (the jumps to
            // it are that set's own helpers, gone with them).
            let before = h.table.chains.len();
            h.table
                .chains
                .retain(|c| c.name != ISOLATION || !c.rules.is_empty());
            h.changed |= h.table.chains.len() != before;
        }
        self.commit(held).map(|_| walked.notes)
    }

    /// Replaces each changed table; when one fails, the ones before it are put back.
    fn commit(&self, held: Vec<Held>) -> Result<()> {
        let mut done: Vec<(Family, Table, Vec<[u64; 2]>, usize)> = Vec::new();
        for h in held.into_iter().filter(|h| h.changed) {
            match self.xt(h.family)?.commit(&h.table) {
                Ok(old) => done.push((h.family, h.read, old, h.table.entries())),
                Err(e) => {
                    for (f, t, old, now) in done.into_iter().rev() {
                        if let Err(back) = self.xt(f)?.commit(&t.restored(&old, now)) {
                            return Err(Error {
                                object: format!(
                                    "{}; table {} could not be put back either ({})",
                                    e.object,
                                    t.name,
                                    back.reason()
                                ),
                                ..e
                            });
                        }
                    }
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// natctl's rules, numbered in the order of its chains (nat, then filter; IPv4's tables,
    /// then IPv6's).
    pub fn list(&mut self) -> Result<Vec<Listed>> {
        Ok(own(&self.read(&[])?))
    }

    /// Removes natctl's chains and the jumps to them, and nothing else; a table this namespace
    /// does not have is not made.
    pub fn flush(&mut self) -> Result<()> {
        let _lock = self.xt.lock(&self.waiting)?;
        let mut held = self.read(&[])?;
        for h in &mut held {
            h.changed = unset(&mut h.table);
        }
        self.commit(held)
    }
}

/// Removes natctl's chains in `t` and the jumps to them; whether there were any.
fn unset(t: &mut Table) -> bool {
    let before = t.chains.len();
    t.chains
        .retain(|c| !TABLES.iter().any(|(_, cs)| cs.contains(&c.name.as_str())));
    for c in t.chains.iter_mut().filter(|c| c.hook.is_some()) {
        c.rules.retain(|e| e.comment().as_deref() != Some(BASE_TAG));
    }
    t.chains.len() != before
}

/// Makes natctl's chains in `t` and the jumps to them, where they are missing.
fn setup(t: &mut Table) -> Result<()> {
    let (table, abi) = (t.name.clone(), t.abi);
    for (builtin, first, chain, matches) in jumps(&table) {
        if t.chain(chain).is_none() {
            t.add_chain(chain);
        }
        let b = t.chain_mut(builtin).ok_or_else(|| {
            Error::state(
                format!("table {table}"),
                format!("has no built-in chain {builtin}"),
            )
        })?;
        let jumps_here = |e: &Entry| e.target == Target::Jump(chain.to_string());
        if !b.rules.iter().any(jumps_here) {
            let mut m = matches;
            m.extend(xr::comment(BASE_TAG)?);
            // ::1 is never routed off the host (no route_localnet for IPv6): a DNAT of it could
            // not leave, so IPv6's OUTPUT leaves it alone and its clients are refused at once.
            let ip = if abi == Abi::V6 && builtin == "OUTPUT" {
                IpMatch {
                    dst: Some((std::net::Ipv6Addr::LOCALHOST.into(), 128)),
                    not_dst: true,
                    ..IpMatch::any(abi)
                }
            } else {
                IpMatch::any(abi)
            };
            let e = xr::entry(&ip, m, Target::Jump(chain.to_string()));
            if first {
                b.rules.insert(0, e);
            } else {
                b.rules.push(e);
            }
        }
    }
    Ok(())
}

/// natctl's tagged entries in its chains of `t`: (chain, counters, spec, helper).
fn natctl_entries(t: &Table) -> Vec<(String, [u64; 2], String, bool)> {
    let mut v = Vec::new();
    for (_, chains) in TABLES {
        for c in chains.iter().filter_map(|n| t.chain(n)) {
            for e in &c.rules {
                if let Some((spec, helper)) = e.comment().as_deref().and_then(untag) {
                    v.push((c.name.clone(), e.counters, spec.to_string(), helper));
                }
            }
        }
    }
    v
}

/// natctl's own rules, ids counted from 1 in chain order; counters summed per rule.
fn own(held: &[Held]) -> Vec<Listed> {
    let mut out: Vec<Listed> = Vec::new();
    for h in held {
        for (_, [packets, bytes], spec, helper) in natctl_entries(&h.table) {
            if helper {
                continue;
            }
            if let Some(l) = out.iter_mut().find(|l| l.spec == spec) {
                l.packets += packets;
                l.bytes += bytes;
                continue;
            }
            // A comment that no longer parses is someone's hand edit; it is not natctl's.
            let Ok(rule) = Rule::from_spec(&spec) else {
                continue;
            };
            out.push(Listed {
                id: out.len() as u64 + 1,
                rule,
                spec,
                packets,
                bytes,
            });
        }
    }
    out
}

/// Removes from `held` the kernel rules of every spec in `gone`, in one pass; empties `gone`.
fn remove(held: &mut [Held], gone: &mut HashSet<String>) {
    if gone.is_empty() {
        return;
    }
    for h in held {
        for c in &mut h.table.chains {
            let before = c.rules.len();
            c.rules.retain(|e| {
                !e.comment()
                    .is_some_and(|c| untag(&c).is_some_and(|(s, _)| gone.contains(s)))
            });
            h.changed |= c.rules.len() != before;
        }
    }
    gone.clear();
}
