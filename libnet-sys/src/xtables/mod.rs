//! The legacy xtables ABI (iptables-legacy, ip6tables-legacy): a table is read whole with
//! `getsockopt` and replaced whole with `setsockopt` on a raw IPv4 (IPv6) socket. There are no handles and no
//! transactions: a writer reads the blob, edits it, sends it back with the number of entries it
//! read (the kernel's only check: a mismatch is `EAGAIN`), then puts the old counters back.
//! `/run/xtables.lock` is what keeps cooperating writers from losing each other's updates.
//!
//! Layouts from linux/netfilter_ipv4/ip_tables.h, linux/netfilter_ipv6/ip6_tables.h and
//! linux/netfilter/x_tables.h (x86_64 and every other 64-bit target: `struct ipt_entry` is 112
//! bytes, `struct ip6t_entry` 168; `ipt_replace` and `ip6t_replace` 96, `ipt_getinfo` and
//! `ip6t_getinfo` 84). The two ABIs differ only in the entry's fixed IP part ([`Abi`]), the
//! socket and its level, and the file that lists a namespace's tables.

pub mod rule;

use crate::caps::Cap;
use crate::error::{last_errno, Error, Result};
use crate::netlink::msg::{as_bytes, from_bytes, Pod};
use crate::trace::{Access, Trace};
use std::fmt::Write as _;
use std::mem::{offset_of, size_of};
use std::os::fd::{AsRawFd, OwnedFd};

// linux/netfilter_ipv4/ip_tables.h: IPT_BASE_CTL 64 (ip6_tables.h: IP6T_* are the same).
const IPT_SO_SET_REPLACE: i32 = 64;
const IPT_SO_SET_ADD_COUNTERS: i32 = 65;
const IPT_SO_GET_INFO: i32 = 64;
const IPT_SO_GET_ENTRIES: i32 = 65;

// linux/netfilter/x_tables.h
const XT_TABLE_MAXNAMELEN: usize = 32;
const XT_EXTENSION_MAXNAMELEN: usize = 29;
const XT_FUNCTION_MAXNAMELEN: usize = 30;
/// `struct xt_entry_match` / `xt_entry_target` header: u16 size, `name[29]`, u8 revision.
pub const XT_HEADER: usize = 32;
/// `XT_RETURN` = -NF_REPEAT - 1; the other standard verdicts are -NF_x - 1.
pub const XT_RETURN: i32 = -5;
pub const VERDICT_DROP: i32 = -(libc::NF_DROP) - 1;
pub const VERDICT_ACCEPT: i32 = -(libc::NF_ACCEPT) - 1;

/// `struct ipt_ip`, the fixed match of every IPv4 entry: addresses and masks, interfaces and
/// masks, then protocol and flags.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct IptIp {
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub smsk: [u8; 4],
    pub dmsk: [u8; 4],
    pub iniface: [u8; 16],
    pub outiface: [u8; 16],
    pub iniface_mask: [u8; 16],
    pub outiface_mask: [u8; 16],
    pub proto: u16,
    pub flags: u8,
    pub invflags: u8,
}

/// `struct ip6t_ip6`, IPv6's: the same with 16-byte addresses and a `tos` byte, padded to 4
/// (its `in6_addr`s are 4-aligned).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Ip6tIp6 {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub smsk: [u8; 16],
    pub dmsk: [u8; 16],
    pub iniface: [u8; 16],
    pub outiface: [u8; 16],
    pub iniface_mask: [u8; 16],
    pub outiface_mask: [u8; 16],
    pub proto: u16,
    pub tos: u8,
    pub flags: u8,
    pub invflags: u8,
    pub _pad: [u8; 3],
}

/// `struct ipt_entry` without its matches and target (`elems[]`).
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct IptEntry {
    ip: IptIp,
    nfcache: u32,
    target_offset: u16,
    next_offset: u16,
    comefrom: u32,
    counters: [u64; 2],
}

/// `struct ip6t_entry` without its matches and target.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Ip6tEntry {
    ipv6: Ip6tIp6,
    nfcache: u32,
    target_offset: u16,
    next_offset: u16,
    comefrom: u32,
    _pad: u32,
    counters: [u64; 2],
}

/// `struct xt_entry_match` / `xt_entry_target`, the user side of the union: the header of
/// every match and target record.
#[repr(C)]
#[derive(Clone, Copy)]
struct XtRecord {
    size: u16,
    name: [u8; XT_EXTENSION_MAXNAMELEN],
    revision: u8,
}

/// `struct ipt_getinfo` (`ip6t_getinfo`, the same): the table's name in, its layout out.
#[repr(C)]
#[derive(Clone, Copy)]
struct IptGetinfo {
    name: [u8; XT_TABLE_MAXNAMELEN],
    valid_hooks: u32,
    hook_entry: [u32; 5],
    underflow: [u32; 5],
    num_entries: u32,
    size: u32,
}

/// `struct ipt_get_entries` before its `entrytable[]` (8-aligned, hence the padding).
#[repr(C)]
#[derive(Clone, Copy)]
struct IptGetEntries {
    name: [u8; XT_TABLE_MAXNAMELEN],
    size: u32,
    _pad: u32,
}

/// `struct ipt_replace` before its `entries[]`; `counters` is a user pointer where the kernel
/// writes the old counters.
#[repr(C)]
#[derive(Clone, Copy)]
struct IptReplace {
    name: [u8; XT_TABLE_MAXNAMELEN],
    valid_hooks: u32,
    num_entries: u32,
    size: u32,
    hook_entry: [u32; 5],
    underflow: [u32; 5],
    num_counters: u32,
    counters: u64,
}

/// `struct xt_counters_info` before its `counters[]`.
#[repr(C)]
#[derive(Clone, Copy)]
struct XtCountersInfo {
    name: [u8; XT_TABLE_MAXNAMELEN],
    num_counters: u32,
    _pad: u32,
}

// Sizes and offsets as the kernel lays them out on every 64-bit target.
const _: () = assert!(size_of::<IptIp>() == 84 && offset_of!(IptIp, flags) == 82);
const _: () = assert!(size_of::<Ip6tIp6>() == 136 && offset_of!(Ip6tIp6, flags) == 131);
const _: () = assert!(size_of::<IptEntry>() == 112 && offset_of!(IptEntry, target_offset) == 88);
const _: () = assert!(offset_of!(IptEntry, counters) == 96);
const _: () = assert!(size_of::<Ip6tEntry>() == 168 && offset_of!(Ip6tEntry, counters) == 152);
const _: () = assert!(offset_of!(Ip6tEntry, target_offset) == 140);
const _: () = assert!(size_of::<XtRecord>() == XT_HEADER);
const _: () = assert!(size_of::<IptGetinfo>() == 84 && offset_of!(IptGetinfo, size) == 80);
const _: () = assert!(size_of::<IptGetEntries>() == 40);
const _: () = assert!(size_of::<IptReplace>() == 96 && offset_of!(IptReplace, counters) == 88);
const _: () = assert!(size_of::<XtCountersInfo>() == 40);

// SAFETY: each is repr(C) of integers and byte arrays with every padding byte named (the
// asserts above pin the layout), valid for any bit pattern.
unsafe impl Pod for IptEntry {}
// SAFETY: as above.
unsafe impl Pod for Ip6tEntry {}
// SAFETY: as above.
unsafe impl Pod for XtRecord {}
// SAFETY: as above.
unsafe impl Pod for IptGetinfo {}
// SAFETY: as above.
unsafe impl Pod for IptGetEntries {}
// SAFETY: as above.
unsafe impl Pod for IptReplace {}
// SAFETY: as above.
unsafe impl Pod for XtCountersInfo {}

/// `struct xt_standard_target`: header + int verdict, aligned.
const STANDARD_TARGET: usize = 40;
/// `struct xt_error_target`: header + errorname[30], aligned.
const ERROR_TARGET: usize = 64;
/// `ipt_ip.flags`: a jump that does not come back (`-g`).
pub const IPT_F_GOTO: u8 = 0x02;
/// `ip6t_ip6.flags`: the same for IPv6.
pub const IP6T_F_GOTO: u8 = 0x04;

/// Which of the two ABIs: IPv4's (`ipt_entry`, a raw IPv4 socket at `SOL_IP`, `IPT_SO_*`) or
/// IPv6's (`ip6t_entry`, a raw IPv6 socket at `SOL_IPV6`, `IP6T_SO_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abi {
    V4,
    V6,
}

impl Abi {
    /// The entry's fixed IP part: `struct ipt_ip` or `struct ip6t_ip6`.
    pub fn ip_len(self) -> usize {
        match self {
            Abi::V4 => size_of::<IptIp>(),
            Abi::V6 => size_of::<Ip6tIp6>(),
        }
    }

    /// The entry without its matches and target: `struct ipt_entry`, `struct ip6t_entry`.
    fn entry_len(self) -> usize {
        match self {
            Abi::V4 => size_of::<IptEntry>(),
            Abi::V6 => size_of::<Ip6tEntry>(),
        }
    }

    /// An entry's fixed part as read from the start of `e`: `target_offset`, `next_offset`
    /// and the counters; `None` when `e` is too short to hold it.
    fn head(self, e: &[u8]) -> Option<(usize, usize, [u64; 2])> {
        match self {
            Abi::V4 => from_bytes::<IptEntry>(e)
                .map(|h| (h.target_offset.into(), h.next_offset.into(), h.counters)),
            Abi::V6 => from_bytes::<Ip6tEntry>(e)
                .map(|h| (h.target_offset.into(), h.next_offset.into(), h.counters)),
        }
    }

    /// Appends an entry's fixed part to `blob`: its IP part (zeros where `ip` is short) and
    /// offsets; `nfcache`, `comefrom` and the counters are the kernel's to set.
    fn put_head(self, blob: &mut Vec<u8>, ip: &[u8], target_offset: u16, next_offset: u16) {
        let at = blob.len();
        match self {
            Abi::V4 => blob.extend_from_slice(as_bytes(&IptEntry {
                target_offset,
                next_offset,
                ..Default::default()
            })),
            Abi::V6 => blob.extend_from_slice(as_bytes(&Ip6tEntry {
                target_offset,
                next_offset,
                ..Default::default()
            })),
        }
        let n = ip.len().min(self.ip_len());
        blob[at..at + n].copy_from_slice(&ip[..n]);
    }

    /// Where the IP part's `flags` byte is, and its goto bit.
    fn goto(self) -> (usize, u8) {
        match self {
            Abi::V4 => (offset_of!(IptIp, flags), IPT_F_GOTO),
            Abi::V6 => (offset_of!(Ip6tIp6, flags), IP6T_F_GOTO),
        }
    }

    fn level(self) -> (i32, &'static str) {
        match self {
            Abi::V4 => (libc::SOL_IP, "SOL_IP"),
            Abi::V6 => (libc::SOL_IPV6, "SOL_IPV6"),
        }
    }

    /// A socket option's name in this ABI's header: `IPT_SO_...` or `IP6T_SO_...`.
    fn opt(self, v4_name: &'static str) -> &'static str {
        match (self, v4_name) {
            (Abi::V4, n) => n,
            (Abi::V6, "IPT_SO_GET_INFO") => "IP6T_SO_GET_INFO",
            (Abi::V6, "IPT_SO_GET_ENTRIES") => "IP6T_SO_GET_ENTRIES",
            (Abi::V6, "IPT_SO_SET_REPLACE") => "IP6T_SO_SET_REPLACE",
            (Abi::V6, _) => "IP6T_SO_SET_ADD_COUNTERS",
        }
    }

    /// The file that lists the tables a namespace has instantiated.
    fn names_file(self) -> &'static str {
        match self {
            Abi::V4 => "/proc/net/ip_tables_names",
            Abi::V6 => "/proc/net/ip6_tables_names",
        }
    }
}

/// The hooks, by index (`NF_INET_*`), as iptables names their built-in chains.
pub const HOOKS: [&str; 5] = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"];

/// `XT_ALIGN`: every match, target and entry is 8-aligned.
pub const fn align(n: usize) -> usize {
    (n + 7) & !7
}

/// A NUL-padded name field.
fn name_at(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn put_name(b: &mut [u8], name: &str) {
    let n = name.len().min(b.len().saturating_sub(1));
    b[..n].copy_from_slice(&name.as_bytes()[..n]);
}

/// A table's name as the `name[XT_TABLE_MAXNAMELEN]` field of a request.
fn table_field(name: &str) -> [u8; XT_TABLE_MAXNAMELEN] {
    let mut b = [0u8; XT_TABLE_MAXNAMELEN];
    put_name(&mut b, name);
    b
}

/// The extension name of a match or target record (empty for a standard target, and for
/// bytes too short to be a record).
fn record_name(r: &[u8]) -> String {
    from_bytes::<XtRecord>(r)
        .map(|h| name_at(&h.name))
        .unwrap_or_default()
}

/// The chain an ERROR target names (a user chain's head), or `None` for any other target.
fn error_name(e: &Entry) -> Option<String> {
    match &e.target {
        Target::Ext(t) if record_name(t) == "ERROR" => {
            Some(t.get(XT_HEADER..).map(name_at).unwrap_or_default())
        }
        _ => None,
    }
}

/// A match or target record: header (size, name, revision) and data, padded.
pub fn record(name: &str, revision: u8, data: &[u8]) -> Vec<u8> {
    let size = align(XT_HEADER + data.len());
    let mut h = XtRecord {
        size: size as u16,
        name: [0; XT_EXTENSION_MAXNAMELEN],
        revision,
    };
    put_name(&mut h.name, name);
    let mut v = as_bytes(&h).to_vec();
    v.extend_from_slice(data);
    v.resize(size, 0);
    v
}

/// The records of a matches blob: (name, revision, data).
pub fn records(mut b: &[u8]) -> impl Iterator<Item = (String, u8, &[u8])> {
    std::iter::from_fn(move || {
        let h = from_bytes::<XtRecord>(b)?;
        let size = (h.size as usize).clamp(XT_HEADER, b.len());
        let (r, rest) = b.split_at(size);
        b = rest;
        Some((name_at(&h.name), h.revision, &r[XT_HEADER..]))
    })
}

/// What an entry does after its matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A standard verdict: ACCEPT, DROP, RETURN, QUEUE (the negative ones).
    Verdict(i32),
    /// A jump (or, with `IPT_F_GOTO`, a goto) to a user chain, by name.
    Jump(String),
    /// No target: on to the next entry.
    Fallthrough,
    /// An extension target (MASQUERADE, DNAT, ...), verbatim.
    Ext(Vec<u8>),
}

impl Target {
    fn size(&self) -> usize {
        match self {
            Target::Ext(b) => b.len(),
            _ => STANDARD_TARGET,
        }
    }
}

/// One entry: the fixed `ipt_ip` (`ip6t_ip6`) match and the matches verbatim (an empty `ip` is
/// all zeros), its target, its counters as read, and where it was in the table read (to carry
/// its counters over a replace).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub ip: Vec<u8>,
    pub matches: Vec<u8>,
    pub target: Target,
    pub counters: [u64; 2],
    pub origin: Option<usize>,
}

impl Entry {
    fn size(&self, abi: Abi) -> usize {
        abi.entry_len() + self.matches.len() + self.target.size()
    }

    /// An unconditional entry with a standard verdict (a policy, a chain's RETURN).
    pub fn verdict(v: i32) -> Entry {
        Entry {
            ip: Vec::new(),
            matches: Vec::new(),
            target: Target::Verdict(v),
            counters: [0; 2],
            origin: None,
        }
    }

    /// The text of its `comment` match, if it has one.
    pub fn comment(&self) -> Option<String> {
        records(&self.matches)
            .find(|(n, _, _)| n == "comment")
            .map(|(_, _, d)| name_at(d))
    }

    /// The target's name as iptables prints it.
    pub fn target_name(&self) -> String {
        match &self.target {
            Target::Verdict(XT_RETURN) => "RETURN".into(),
            Target::Verdict(VERDICT_ACCEPT) => "ACCEPT".into(),
            Target::Verdict(VERDICT_DROP) => "DROP".into(),
            Target::Verdict(v) => format!("verdict {v}"),
            Target::Jump(c) => c.clone(),
            Target::Fallthrough => "(none)".into(),
            Target::Ext(b) => record_name(b),
        }
    }
}

/// A chain: built-in (its hook, and a policy entry at the end) or user (an ERROR entry naming
/// it at the head, a RETURN at the end). Head and tail keep their counters like any entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub name: String,
    pub hook: Option<usize>,
    pub head: Option<Entry>,
    pub rules: Vec<Entry>,
    pub tail: Entry,
}

impl Chain {
    pub fn user(name: &str) -> Chain {
        let mut head = Entry::verdict(0);
        head.target = Target::Ext(error_target(name));
        Chain {
            name: name.to_string(),
            hook: None,
            head: Some(head),
            rules: Vec::new(),
            tail: Entry::verdict(XT_RETURN),
        }
    }

    fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.head
            .iter()
            .chain(self.rules.iter())
            .chain(std::iter::once(&self.tail))
    }
}

fn error_target(name: &str) -> Vec<u8> {
    let mut data = [0u8; XT_FUNCTION_MAXNAMELEN];
    put_name(&mut data, name);
    let r = record("ERROR", 0, &data);
    debug_assert_eq!(r.len(), ERROR_TARGET);
    r
}

/// A table as read: its chains in blob order, the closing ERROR entry, and how many entries
/// the kernel held (what a replace must say it replaces).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub abi: Abi,
    pub valid_hooks: u32,
    pub chains: Vec<Chain>,
    pub end: Entry,
    pub read_entries: u32,
}

impl Table {
    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| c.name == name)
    }

    pub fn chain_mut(&mut self, name: &str) -> Option<&mut Chain> {
        self.chains.iter_mut().find(|c| c.name == name)
    }

    /// Adds a user chain where iptables keeps them, in name order after the built-ins (libiptc
    /// expects them sorted); no other chain moves.
    pub fn add_chain(&mut self, name: &str) {
        let at = self
            .chains
            .iter()
            .position(|c| c.hook.is_none() && c.name.as_str() > name)
            .unwrap_or(self.chains.len());
        self.chains.insert(at, Chain::user(name));
    }

    /// Every entry, in blob order: each chain's, then the closing ERROR entry.
    fn all_entries(&self) -> impl Iterator<Item = &Entry> {
        self.chains
            .iter()
            .flat_map(Chain::entries)
            .chain(std::iter::once(&self.end))
    }

    /// How many entries the blob of this table holds.
    pub fn entries(&self) -> usize {
        self.all_entries().count()
    }

    /// The table as it was before a commit that returned `old`, to commit again: every entry
    /// takes back the counters it had.
    pub fn restored(&self, old: &[[u64; 2]], now_entries: usize) -> Table {
        let mut t = self.clone();
        let back = |e: &mut Entry| {
            e.counters = e.origin.and_then(|o| old.get(o)).copied().unwrap_or([0; 2]);
            e.origin = None;
        };
        for c in &mut t.chains {
            c.head.iter_mut().for_each(back);
            c.rules.iter_mut().for_each(back);
            back(&mut c.tail);
        }
        back(&mut t.end);
        t.read_entries = now_entries as u32;
        t
    }

    /// Reads a `IPT_SO_GET_ENTRIES` blob, with the hook offsets `IPT_SO_GET_INFO` gave.
    pub fn parse(name: &str, abi: Abi, info: &Info, blob: &[u8]) -> Result<Table> {
        let bad = |why: String| Error {
            object: format!("table {name}"),
            ..Error::malformed(abi.opt("IPT_SO_GET_ENTRIES"), why)
        };
        let entry_len = abi.entry_len();
        // First pass: entries with their offsets, targets still raw.
        let mut raw: Vec<(usize, usize, Entry, Option<i32>)> = Vec::new();
        let mut off = 0;
        while off < blob.len() {
            let e = &blob[off..];
            let Some((t_off, next, counters)) = abi.head(e) else {
                return Err(bad(format!("entry at {off} is cut short")));
            };
            if t_off < entry_len || next < t_off + XT_HEADER || next > e.len() || next % 8 != 0 {
                return Err(bad(format!(
                    "entry at {off} has bad offsets {t_off}/{next}"
                )));
            }
            let t = &e[t_off..next];
            let verdict = match (record_name(t).is_empty(), t.get(XT_HEADER..XT_HEADER + 4)) {
                (true, Some(v)) => v.try_into().ok().map(i32::from_ne_bytes),
                _ => None,
            };
            raw.push((
                off,
                off + next,
                Entry {
                    ip: e[..abi.ip_len()].to_vec(),
                    matches: e[entry_len..t_off].to_vec(),
                    target: Target::Ext(t.to_vec()),
                    counters,
                    origin: Some(raw.len()),
                },
                verdict,
            ));
            off += next;
        }
        if raw.len() != info.num_entries as usize {
            return Err(bad(format!(
                "{} entries where {} said {}",
                raw.len(),
                abi.opt("IPT_SO_GET_INFO"),
                info.num_entries
            )));
        }
        // Where each user chain's rules start: the entry after its ERROR head.
        let mut starts: Vec<(usize, String)> = Vec::new();
        let mut heads: Vec<usize> = Vec::new();
        for (i, (off, _, e, _)) in raw.iter().enumerate() {
            if let Some(name) = error_name(e) {
                heads.push(*off);
                if let Some(body) = raw.get(i + 1) {
                    starts.push((body.0, name));
                }
            }
        }
        let hook_at = |off: usize| {
            (0..HOOKS.len())
                .find(|&h| info.valid_hooks & (1 << h) != 0 && info.hook_entry[h] as usize == off)
        };
        let mut chains: Vec<Chain> = Vec::new();
        let mut end = None;
        let mut open: Option<Chain> = None;
        let count = raw.len();
        for (i, (off, next, mut e, verdict)) in raw.into_iter().enumerate() {
            if let Some(v) = verdict {
                e.target = if v < 0 {
                    Target::Verdict(v)
                } else if v as usize == next && e.ip[abi.goto().0] & abi.goto().1 == 0 {
                    Target::Fallthrough
                } else {
                    match starts.iter().find(|(o, _)| *o == v as usize) {
                        Some((_, c)) => Target::Jump(c.clone()),
                        None => return Err(bad(format!("entry at {off} jumps to {v}, no chain"))),
                    }
                };
            }
            if let Some(name) = error_name(&e) {
                if let Some(c) = open.take() {
                    return Err(bad(format!("chain {} has no end", c.name)));
                }
                if i + 1 == count {
                    end = Some(e);
                    break;
                }
                open = Some(Chain {
                    name,
                    hook: None,
                    head: Some(e),
                    rules: Vec::new(),
                    tail: Entry::verdict(XT_RETURN),
                });
                continue;
            }
            let mut c = match open.take() {
                Some(c) => c,
                None => {
                    let h = hook_at(off)
                        .ok_or_else(|| bad(format!("entry at {off} is in no chain")))?;
                    Chain {
                        name: HOOKS[h].to_string(),
                        hook: Some(h),
                        head: None,
                        rules: Vec::new(),
                        tail: Entry::verdict(XT_RETURN),
                    }
                }
            };
            // A built-in chain ends at its underflow; a user chain at the entry before the
            // next ERROR head.
            let last = match c.hook {
                Some(h) => info.underflow[h] as usize == off,
                None => heads.contains(&next),
            };
            if last {
                c.tail = e;
                chains.push(c);
            } else {
                c.rules.push(e);
                open = Some(c);
            }
        }
        let end = end.ok_or_else(|| bad("no closing ERROR entry".into()))?;
        let t = Table {
            name: name.to_string(),
            abi,
            valid_hooks: info.valid_hooks,
            chains,
            end,
            read_entries: info.num_entries,
        };
        // natctl replaces what it read: a blob this model cannot write back byte for byte (a
        // standard target of another size, padding that is not zero, offsets it would lay
        // out otherwise) is refused, never rewritten into something else.
        if !t.writes_back(info, blob)? {
            return Err(bad(
                "it cannot be written back exactly as it was read; it is left alone".into(),
            ));
        }
        Ok(t)
    }

    /// Whether serializing gives `blob` back: every byte but the kernel's own (each entry's
    /// `nfcache`, `comefrom` and counters, which the kernel ignores or sets), and the same
    /// hook entries and underflows.
    fn writes_back(&self, info: &Info, blob: &[u8]) -> Result<bool> {
        let (again, hook_entry, underflow) = self.serialize()?;
        if again.len() != blob.len() {
            return Ok(false);
        }
        for h in (0..HOOKS.len()).filter(|h| info.valid_hooks & (1 << h) != 0) {
            if hook_entry[h] != info.hook_entry[h] || underflow[h] != info.underflow[h] {
                return Ok(false);
            }
        }
        let (abi, ip, entry) = (self.abi, self.abi.ip_len(), self.abi.entry_len());
        let mut off = 0;
        while off < blob.len() {
            let (Some(ha), Some(hb)) = (abi.head(&blob[off..]), abi.head(&again[off..])) else {
                return Ok(false);
            };
            let next = ha.1;
            let (Some(a), Some(b)) = (blob.get(off..off + next), again.get(off..off + next)) else {
                return Ok(false);
            };
            // ipt_ip (ip6t_ip6), then target_offset and next_offset; then the matches and the
            // target.
            if next < entry
                || a[..ip] != b[..ip]
                || ha.0 != hb.0
                || next != hb.1
                || a[entry..] != b[entry..]
            {
                return Ok(false);
            }
            off += next;
        }
        Ok(true)
    }

    /// The blob for `IPT_SO_SET_REPLACE`: entries laid out again, jumps, hook entries and
    /// underflows computed from the new offsets. Returns (blob, hook_entry, underflow).
    pub fn serialize(&self) -> Result<(Vec<u8>, [u32; 5], [u32; 5])> {
        // Offsets first: a jump can point forward.
        let mut starts: Vec<(&str, usize)> = Vec::new();
        let mut off = 0;
        let abi = self.abi;
        let size = |e: &Entry| e.size(abi);
        for c in &self.chains {
            if let Some(h) = &c.head {
                off += size(h);
            }
            starts.push((&c.name, off));
            off += c.rules.iter().map(size).sum::<usize>() + size(&c.tail);
        }
        let mut blob = Vec::with_capacity(off + size(&self.end));
        let (mut hook_entry, mut underflow) = ([0u32; 5], [0u32; 5]);
        for (c, (_, body)) in self.chains.iter().zip(&starts) {
            if let Some(h) = c.hook {
                hook_entry[h] = *body as u32;
                underflow[h] = (body + c.rules.iter().map(size).sum::<usize>()) as u32;
            }
            for e in c.entries() {
                self.put(&mut blob, e, &starts)?;
            }
        }
        self.put(&mut blob, &self.end, &starts)?;
        Ok((blob, hook_entry, underflow))
    }

    fn put(&self, blob: &mut Vec<u8>, e: &Entry, starts: &[(&str, usize)]) -> Result<()> {
        let at = blob.len();
        let t_off = self.abi.entry_len() + e.matches.len();
        let next = t_off + e.target.size();
        let (Ok(t16), Ok(n16)) = (u16::try_from(t_off), u16::try_from(next)) else {
            return Err(Error::invalid(
                format!("table {}", self.name),
                format!("an entry of {next} bytes (an xtables entry has at most 65535)"),
            ));
        };
        self.abi.put_head(blob, &e.ip, t16, n16);
        blob.extend_from_slice(&e.matches);
        let verdict = match &e.target {
            Target::Ext(t) => {
                blob.extend_from_slice(t);
                return Ok(());
            }
            Target::Verdict(v) => *v,
            Target::Fallthrough => (at + next) as i32,
            Target::Jump(c) => match starts.iter().find(|(n, _)| n == c) {
                Some((_, o)) => *o as i32,
                None => {
                    return Err(Error::state(
                        format!("table {}", self.name),
                        format!("a rule jumps to chain {c}, which is not there"),
                    ))
                }
            },
        };
        blob.extend_from_slice(&record("", 0, &verdict.to_ne_bytes()));
        Ok(())
    }

    /// The chains and their rule counts, for --explain.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        for c in &self.chains {
            let added = c.rules.iter().filter(|e| e.origin.is_none()).count();
            let _ = write!(s, "{}: {} rules", c.name, c.rules.len());
            if c.hook.is_some() {
                let _ = write!(s, ", policy {}", c.tail.target_name());
            }
            if c.head.as_ref().is_some_and(|h| h.origin.is_none()) {
                s.push_str(" (new chain)");
            }
            if added > 0 {
                let _ = write!(s, ", {added} new");
            }
            s.push('\n');
            for e in c.rules.iter().filter(|e| e.origin.is_none()) {
                let _ = writeln!(
                    s,
                    "  + -j {}{}",
                    e.target_name(),
                    e.comment()
                        .map(|c| format!(" (comment \"{c}\")"))
                        .unwrap_or_default()
                );
            }
        }
        s
    }
}

/// `struct ipt_getinfo`, the answer part.
#[derive(Clone, Copy, Debug)]
pub struct Info {
    pub valid_hooks: u32,
    pub hook_entry: [u32; 5],
    pub underflow: [u32; 5],
    pub num_entries: u32,
    pub size: u32,
}

/// The raw IPv4 (IPv6) socket the xtables calls of one ABI go through.
pub struct Xtables {
    fd: OwnedFd,
    pub abi: Abi,
    pub trace: Trace,
}

/// `/run/xtables.lock`, held (flock) for a whole read-modify-write, like iptables does, and
/// let go when dropped.
pub struct Lock {
    _held: OwnedFd,
}

impl Xtables {
    pub fn open(trace: Trace, abi: Abi) -> Result<Xtables> {
        use rustix::net::{ipproto, socket_with, AddressFamily, SocketFlags, SocketType};
        let (family, name) = match abi {
            Abi::V4 => (AddressFamily::INET, "socket(AF_INET, SOCK_RAW)"),
            Abi::V6 => (AddressFamily::INET6, "socket(AF_INET6, SOCK_RAW)"),
        };
        let fd = socket_with(
            family,
            SocketType::RAW,
            SocketFlags::CLOEXEC,
            Some(ipproto::RAW),
        )
        // A raw socket is CAP_NET_RAW's, not the network's CAP_NET_ADMIN.
        .map_err(|e| Error::os(name, "", e).needing(Cap::NetRaw))?;
        Ok(Xtables { fd, abi, trace })
    }

    /// The tables this namespace has instantiated (`/proc/net/ip_tables_names`, or
    /// `ip6_tables_names`). Asking for any other would load and instantiate it, so readers that
    /// only look ask this first.
    pub fn tables(&self) -> Result<Vec<String>> {
        let path = self.abi.names_file();
        self.trace
            .request(Access::Read, format_args!("read {path}"));
        match std::fs::read_to_string(path) {
            Ok(s) => {
                let v: Vec<String> = s.lines().map(str::to_string).collect();
                self.trace
                    .outcome(Access::Read, Ok(format_args!("{}", v.join(" "))));
                Ok(v)
            }
            // No ip_tables module at all: no tables.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.trace.outcome(Access::Read, Err(libc::ENOENT));
                Ok(Vec::new())
            }
            Err(e) => Err(Error::errno(
                "read",
                path,
                e.raw_os_error().unwrap_or(libc::EIO),
            )),
        }
    }

    /// Takes the xtables lock, waiting as iptables does; after a second of waiting, tells
    /// `waiting` once (the library prints nothing itself).
    pub fn lock(&self, waiting: &dyn Fn(&str)) -> Result<Lock> {
        let path =
            std::env::var("XTABLES_LOCKFILE").unwrap_or_else(|_| "/run/xtables.lock".to_string());
        use rustix::fs::{flock, open, FlockOperation, Mode, OFlags};
        if path.contains('\0') {
            return Err(Error::invalid(path, "a NUL in XTABLES_LOCKFILE"));
        }
        let fd = open(
            path.as_str(),
            OFlags::RDONLY | OFlags::CREATE | OFlags::CLOEXEC,
            Mode::from(0o600),
        )
        // Root's lock file, in root's /run.
        .map_err(|e| Error::os("open", path.clone(), e).needing(Cap::DacOverride))?;
        self.trace
            .request(Access::Read, format_args!("flock {path} LOCK_EX"));
        let mut waited = 0u32;
        while let Err(e) = flock(&fd, FlockOperation::NonBlockingLockExclusive) {
            if e != rustix::io::Errno::WOULDBLOCK && e != rustix::io::Errno::INTR {
                return Err(Error::os("flock", path, e).needing(Cap::DacOverride));
            }
            if waited == 100 {
                waiting(&format!(
                    "waiting for {path}: another program is changing iptables"
                ));
            }
            waited += 1;
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        self.trace.outcome(Access::Read, Ok(format_args!("0")));
        Ok(Lock { _held: fd })
    }

    fn getsockopt(&self, opt: (i32, &'static str), buf: &mut [u8], table: &str) -> Result<()> {
        let mut len = buf.len() as libc::socklen_t;
        let (level, level_name) = self.abi.level();
        let opt = (opt.0, self.abi.opt(opt.1));
        self.trace.request(
            Access::Read,
            format_args!(
                "getsockopt {level_name} {} \"{table}\" ({} bytes)",
                opt.1,
                buf.len()
            ),
        );
        // SAFETY: buf is valid for len bytes, which the kernel reads and writes within.
        let r = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                level,
                opt.0,
                buf.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if r < 0 {
            let errno = last_errno();
            self.trace.outcome(Access::Read, Err(errno));
            return Err(Error::errno(opt.1, format!("table {table}"), errno));
        }
        Ok(())
    }

    fn setsockopt(
        &self,
        opt: (i32, &'static str),
        buf: &[u8],
        table: &str,
        shown: &str,
    ) -> Result<()> {
        let (level, level_name) = self.abi.level();
        let opt = (opt.0, self.abi.opt(opt.1));
        self.trace.request(
            Access::Write,
            format_args!(
                "setsockopt {level_name} {} \"{table}\" ({} bytes)",
                opt.1,
                buf.len()
            ),
        );
        self.trace.detail(Access::Write, shown);
        if !self.trace.sends(Access::Write) {
            self.trace.outcome(Access::Write, Ok(format_args!("0")));
            return Ok(());
        }
        // SAFETY: buf is valid for its length; the kernel only reads it (and writes through
        // the counters pointer inside a replace, which the caller keeps alive).
        let r = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                level,
                opt.0,
                buf.as_ptr().cast(),
                buf.len() as libc::socklen_t,
            )
        };
        if r < 0 {
            let errno = last_errno();
            self.trace.outcome(Access::Write, Err(errno));
            return Err(Error::errno(opt.1, format!("table {table}"), errno));
        }
        self.trace.outcome(Access::Write, Ok(format_args!("0")));
        Ok(())
    }

    fn info(&self, table: &str) -> Result<Info> {
        let mut b = as_bytes(&IptGetinfo {
            name: table_field(table),
            valid_hooks: 0,
            hook_entry: [0; 5],
            underflow: [0; 5],
            num_entries: 0,
            size: 0,
        })
        .to_vec();
        self.getsockopt((IPT_SO_GET_INFO, "IPT_SO_GET_INFO"), &mut b, table)?;
        let g = from_bytes::<IptGetinfo>(&b).ok_or_else(|| {
            Error::malformed(self.abi.opt("IPT_SO_GET_INFO"), "the answer is cut short")
        })?;
        let info = Info {
            valid_hooks: g.valid_hooks,
            hook_entry: g.hook_entry,
            underflow: g.underflow,
            num_entries: g.num_entries,
            size: g.size,
        };
        self.trace.outcome(
            Access::Read,
            Ok(format_args!(
                "valid_hooks {:#x}, {} entries, {} bytes",
                info.valid_hooks, info.num_entries, info.size
            )),
        );
        Ok(info)
    }

    /// Reads a table whole (loading and instantiating it if this namespace has not yet).
    pub fn read(&self, table: &str) -> Result<Table> {
        if table.is_empty() || table.len() >= XT_TABLE_MAXNAMELEN {
            return Err(Error::invalid(
                table.to_string(),
                "not an xtables table name",
            ));
        }
        let info = self.info(table)?;
        let head = size_of::<IptGetEntries>();
        let mut b = as_bytes(&IptGetEntries {
            name: table_field(table),
            size: info.size,
            _pad: 0,
        })
        .to_vec();
        b.resize(head + info.size as usize, 0);
        // A writer between the two calls changes the size: the kernel says EAGAIN.
        self.getsockopt((IPT_SO_GET_ENTRIES, "IPT_SO_GET_ENTRIES"), &mut b, table)?;
        let t = Table::parse(table, self.abi, &info, &b[head..])?;
        self.trace
            .outcome(Access::Read, Ok(format_args!("{} chains", t.chains.len())));
        if self.trace.shows(Access::Read) {
            self.trace.detail(Access::Read, &t.summary());
        }
        Ok(t)
    }

    /// Replaces a table whole and carries the counters over: an entry read from the kernel
    /// gets the counters its old self had at the moment of the swap, a new one gets
    /// `counters`. `EAGAIN` means the table changed since it was read.
    pub fn commit(&self, t: &Table) -> Result<Vec<[u64; 2]>> {
        let (blob, hook_entry, underflow) = t.serialize()?;
        let entries = t.entries();
        let mut old = vec![[0u64; 2]; t.read_entries as usize];
        let mut b = as_bytes(&IptReplace {
            name: table_field(&t.name),
            valid_hooks: t.valid_hooks,
            num_entries: entries as u32,
            size: blob.len() as u32,
            hook_entry,
            underflow,
            num_counters: t.read_entries,
            // Where the kernel writes the counters it held; `old` outlives the call.
            counters: old.as_mut_ptr() as u64,
        })
        .to_vec();
        b.extend_from_slice(&blob);
        let shown = if self.trace.shows(Access::Write) {
            format!(
                "{} entries, {} bytes, num_counters {} (the entries read)\n{}",
                entries,
                blob.len(),
                t.read_entries,
                t.summary()
            )
        } else {
            String::new()
        };
        self.setsockopt(
            (IPT_SO_SET_REPLACE, "IPT_SO_SET_REPLACE"),
            &b,
            &t.name,
            &shown,
        )?;
        let mut c = as_bytes(&XtCountersInfo {
            name: table_field(&t.name),
            num_counters: entries as u32,
            _pad: 0,
        })
        .to_vec();
        for e in t.all_entries() {
            let v = e.origin.and_then(|o| old.get(o)).unwrap_or(&e.counters);
            c.extend_from_slice(&v[0].to_ne_bytes());
            c.extend_from_slice(&v[1].to_ne_bytes());
        }
        // The replace stands whatever happens here: say so, rather than let it read as
        // nothing done.
        self.setsockopt(
            (IPT_SO_SET_ADD_COUNTERS, "IPT_SO_SET_ADD_COUNTERS"),
            &c,
            &t.name,
            "the old counters, entry by entry in the new layout",
        )
        .map_err(|e| Error {
            object: format!(
                "{} (the table was replaced; only its counters were not carried over)",
                e.object
            ),
            ..e
        })?;
        Ok(old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// filter as iptables lays it out: INPUT, FORWARD (a jump to a user chain), OUTPUT, the
    /// user chain, the closing ERROR entry; parsed back from its own blob.
    fn filter() -> (Table, Info, Vec<u8>) {
        let builtin = |h: usize| Chain {
            name: HOOKS[h].into(),
            hook: Some(h),
            head: None,
            rules: Vec::new(),
            tail: Entry::verdict(VERDICT_ACCEPT),
        };
        let mut fwd = builtin(2);
        let mut jump = Entry::verdict(0);
        jump.target = Target::Jump("OTHER".into());
        fwd.rules.push(jump);
        let mut end = Entry::verdict(0);
        end.target = Target::Ext(error_target("ERROR"));
        let t = Table {
            abi: Abi::V4,
            name: "filter".into(),
            valid_hooks: 0b1110,
            chains: vec![builtin(1), fwd, builtin(3), Chain::user("OTHER")],
            end,
            read_entries: 6,
        };
        let (blob, hook_entry, underflow) = t.serialize().unwrap();
        let info = Info {
            valid_hooks: t.valid_hooks,
            hook_entry,
            underflow,
            num_entries: 7,
            size: blob.len() as u32,
        };
        (t, info, blob)
    }

    #[test]
    fn a_blob_is_parsed_only_when_it_writes_back_the_same() {
        let (_, info, blob) = filter();
        let t = Table::parse("filter", Abi::V4, &info, &blob).unwrap();
        assert_eq!(t.serialize().unwrap().0, blob);
        // The kernel's own fields (comefrom, counters) may be anything.
        let mut k = blob.clone();
        k[92..112].fill(0x5a);
        assert!(Table::parse("filter", Abi::V4, &info, &k).is_ok());
        // Padding that is not zero in INPUT's policy (a standard target, 40 bytes at 112).
        let mut p = blob.clone();
        p[size_of::<IptEntry>() + XT_HEADER + 4] = 1;
        let e = Table::parse("filter", Abi::V4, &info, &p).unwrap_err();
        assert!(e.reason().contains("cannot be written back"), "{e}");
        // A standard target 8 bytes longer than its struct, the rest of the table moved on.
        const IPT_ENTRY: usize = size_of::<IptEntry>();
        let mut l = blob[..IPT_ENTRY].to_vec();
        let next = offset_of!(IptEntry, next_offset);
        l[next..next + 2]
            .copy_from_slice(&((IPT_ENTRY + STANDARD_TARGET + 8) as u16).to_ne_bytes());
        let mut t = blob[IPT_ENTRY..IPT_ENTRY + STANDARD_TARGET].to_vec();
        t[..2].copy_from_slice(&((STANDARD_TARGET + 8) as u16).to_ne_bytes());
        l.extend_from_slice(&t);
        l.extend_from_slice(&[0; 8]);
        l.extend_from_slice(&blob[IPT_ENTRY + STANDARD_TARGET..]);
        let shift = |v: u32| if v > 0 { v + 8 } else { v };
        let mut moved = info;
        moved.hook_entry = info.hook_entry.map(shift);
        moved.underflow = info.underflow.map(shift);
        moved.underflow[1] = 0;
        moved.size += 8;
        // The jump in FORWARD points 8 bytes further too.
        let j = (info.hook_entry[2] + 8) as usize + IPT_ENTRY + XT_HEADER;
        let v = u32::from_ne_bytes(l[j..j + 4].try_into().unwrap()) + 8;
        l[j..j + 4].copy_from_slice(&v.to_ne_bytes());
        let e = Table::parse("filter", Abi::V4, &moved, &l).unwrap_err();
        assert!(e.reason().contains("cannot be written back"), "{e}");
    }
}
