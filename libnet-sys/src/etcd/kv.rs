//! The KV service: range (one key, a prefix, at a revision), put (under a lease), delete,
//! txn (compare, then one list of operations or the other) and compaction.

use super::json::{quote, Value};
use super::{b64, bytes, Client};
use crate::error::Cause;
use crate::{Error, Result};

/// One key as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Kv {
    pub key: Vec<u8>,
    pub value: Vec<u8>,
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    /// 0: no lease.
    pub lease: i64,
}

/// What a range read: the keys, and the store's revision they were read at.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Range {
    pub revision: i64,
    pub kvs: Vec<Kv>,
    /// More keys matched than the limit let through.
    pub more: bool,
}

fn bad(what: &'static str) -> Error {
    Error {
        step: "etcd answer".into(),
        object: String::new(),
        cause: Cause::Malformed(what.into()),
    }
}

/// The end of the range that holds every key starting with `prefix` (etcd's `WithPrefix`).
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    // Every byte 0xff (or empty): to the end of the keyspace.
    vec![0]
}

impl Kv {
    pub fn parse(v: &Value) -> Result<Kv> {
        let key = bytes(v.get("key")).ok_or_else(|| bad("a key that is not base64"))?;
        if key.is_empty() {
            return Err(bad("a key-value without a key"));
        }
        let int = |f| {
            v.get(f)
                .int()
                .ok_or_else(|| bad("a revision that is not an int64"))
        };
        Ok(Kv {
            key,
            value: bytes(v.get("value")).ok_or_else(|| bad("a value that is not base64"))?,
            create_revision: int("create_revision")?,
            mod_revision: int("mod_revision")?,
            version: int("version")?,
            lease: int("lease")?,
        })
    }
}

/// The store's revision in an answer's header.
pub fn header_revision(v: &Value) -> Result<i64> {
    v.get("header")
        .get("revision")
        .int()
        .ok_or_else(|| bad("a header revision that is not an int64"))
}

impl Range {
    pub fn parse(v: &Value) -> Result<Range> {
        let kvs = v
            .get("kvs")
            .items()
            .ok_or_else(|| bad("kvs that are not a list"))?;
        Ok(Range {
            revision: header_revision(v)?,
            kvs: kvs.iter().map(Kv::parse).collect::<Result<_>>()?,
            more: v
                .get("more")
                .flag()
                .ok_or_else(|| bad("more that is not a bool"))?,
        })
    }
}

/// A comparison of a txn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compare {
    /// The key does not exist (create_revision == 0): create-if-absent.
    Absent(Vec<u8>),
    /// The key was last changed at this revision (compare-and-swap).
    ModRevision(Vec<u8>, i64),
    /// The key holds exactly this value.
    Value(Vec<u8>, Vec<u8>),
}

/// An operation of a txn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Put {
        key: Vec<u8>,
        value: Vec<u8>,
        lease: i64,
    },
    /// Deletes `key`, or `[key, range_end)` when a range end is given.
    Delete {
        key: Vec<u8>,
        range_end: Option<Vec<u8>>,
    },
    Get {
        key: Vec<u8>,
        range_end: Option<Vec<u8>>,
    },
}

/// What a txn answered: which branch ran, at which revision, and the ranges its Gets read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TxnResult {
    pub succeeded: bool,
    pub revision: i64,
    pub ranges: Vec<Range>,
}

fn b(data: &[u8]) -> String {
    quote(&b64::encode(data))
}

fn range_fields(key: &[u8], range_end: Option<&[u8]>) -> String {
    match range_end {
        Some(end) => format!("\"key\":{},\"range_end\":{}", b(key), b(end)),
        None => format!("\"key\":{}", b(key)),
    }
}

impl Compare {
    fn json(&self) -> String {
        match self {
            Compare::Absent(k) => format!(
                "{{\"target\":\"CREATE\",\"key\":{},\"result\":\"EQUAL\",\"create_revision\":\"0\"}}",
                b(k)
            ),
            Compare::ModRevision(k, rev) => format!(
                "{{\"target\":\"MOD\",\"key\":{},\"result\":\"EQUAL\",\"mod_revision\":\"{rev}\"}}",
                b(k)
            ),
            Compare::Value(k, v) => format!(
                "{{\"target\":\"VALUE\",\"key\":{},\"result\":\"EQUAL\",\"value\":{}}}",
                b(k),
                b(v)
            ),
        }
    }
}

impl Op {
    fn json(&self) -> String {
        match self {
            Op::Put { key, value, lease } => format!(
                "{{\"request_put\":{{\"key\":{},\"value\":{},\"lease\":\"{lease}\"}}}}",
                b(key),
                b(value)
            ),
            Op::Delete { key, range_end } => format!(
                "{{\"request_delete_range\":{{{}}}}}",
                range_fields(key, range_end.as_deref())
            ),
            Op::Get { key, range_end } => format!(
                "{{\"request_range\":{{{}}}}}",
                range_fields(key, range_end.as_deref())
            ),
        }
    }
}

fn list<T>(items: &[T], json: fn(&T) -> String) -> String {
    items.iter().map(json).collect::<Vec<_>>().join(",")
}

impl Client {
    /// Reads `key`, or `[key, range_end)`, at `revision` (0: the newest).
    pub fn range(&self, key: &[u8], range_end: Option<&[u8]>, revision: i64) -> Result<Range> {
        let body = format!(
            "{{{},\"revision\":\"{revision}\"}}",
            range_fields(key, range_end)
        );
        Range::parse(&self.call("/v3/kv/range", &body)?)
    }

    /// Every key under `prefix`, at one revision.
    pub fn get_prefix(&self, prefix: &[u8]) -> Result<Range> {
        self.range(prefix, Some(&prefix_end(prefix)), 0)
    }

    /// One key, if it exists.
    pub fn get(&self, key: &[u8]) -> Result<Option<Kv>> {
        Ok(self.range(key, None, 0)?.kvs.into_iter().next())
    }

    /// Puts a key (under `lease`, 0 for none); returns the revision it made.
    pub fn put(&self, key: &[u8], value: &[u8], lease: i64) -> Result<i64> {
        let body = format!(
            "{{\"key\":{},\"value\":{},\"lease\":\"{lease}\"}}",
            b(key),
            b(value)
        );
        header_revision(&self.call("/v3/kv/put", &body)?)
    }

    /// Deletes `key` or `[key, range_end)`; returns the revision and how many keys went.
    pub fn delete(&self, key: &[u8], range_end: Option<&[u8]>) -> Result<(i64, i64)> {
        let v = self.call(
            "/v3/kv/deleterange",
            &format!("{{{}}}", range_fields(key, range_end)),
        )?;
        let deleted = v
            .get("deleted")
            .int()
            .ok_or_else(|| bad("deleted that is not an int64"))?;
        Ok((header_revision(&v)?, deleted))
    }

    /// If every comparison holds, `success`, else `failure`: one revision either way.
    pub fn txn(&self, compare: &[Compare], success: &[Op], failure: &[Op]) -> Result<TxnResult> {
        let body = format!(
            "{{\"compare\":[{}],\"success\":[{}],\"failure\":[{}]}}",
            list(compare, Compare::json),
            list(success, Op::json),
            list(failure, Op::json)
        );
        let v = self.call("/v3/kv/txn", &body)?;
        let mut ranges = Vec::new();
        for r in v
            .get("responses")
            .items()
            .ok_or_else(|| bad("responses that are not a list"))?
        {
            let range = r.get("response_range");
            if !range.is_null() {
                // A range inside a txn has no header of its own: it is the txn's revision.
                let mut parsed = Range::parse(&with_header(range, v.get("header")))?;
                parsed.revision = header_revision(&v)?;
                ranges.push(parsed);
            }
        }
        Ok(TxnResult {
            succeeded: v
                .get("succeeded")
                .flag()
                .ok_or_else(|| bad("succeeded that is not a bool"))?,
            revision: header_revision(&v)?,
            ranges,
        })
    }

    /// Compacts the store's history up to `revision` (watches from before it are cancelled).
    pub fn compact(&self, revision: i64) -> Result<()> {
        self.call(
            "/v3/kv/compaction",
            &format!("{{\"revision\":\"{revision}\",\"physical\":true}}"),
        )
        .map(drop)
    }
}

fn with_header(range: &Value, header: &Value) -> Value {
    let mut members = match range {
        Value::Obj(m) => m.clone(),
        _ => Vec::new(),
    };
    members.retain(|(k, _)| k != "header");
    members.push(("header".into(), header.clone()));
    Value::Obj(members)
}

#[cfg(test)]
mod tests {
    use super::super::json::parse;
    use super::*;

    #[test]
    fn prefix_ends() {
        assert_eq!(prefix_end(b"/a/"), b"/a0");
        assert_eq!(prefix_end(b"a\xff"), b"b");
        assert_eq!(prefix_end(b"\xff"), b"\0");
    }

    #[test]
    fn range_answers_with_omitted_defaults() {
        // etcd 3.4.23's answer to a range of two keys, one without a lease.
        let v = parse(br#"{"header":{"cluster_id":"1","member_id":"2","revision":"9","raft_term":"2"},"kvs":[{"key":"L2EvMQ==","create_revision":"5","mod_revision":"5","version":"1","value":"eA=="},{"key":"L2EvMg==","create_revision":"7","mod_revision":"8","version":"2","lease":"7587869960823473412"}],"count":"2"}"#).unwrap();
        let r = Range::parse(&v).unwrap();
        assert_eq!(r.revision, 9);
        assert_eq!(r.kvs[0].key, b"/a/1");
        assert_eq!(r.kvs[0].value, b"x");
        assert_eq!(r.kvs[1].value, b"");
        assert_eq!(r.kvs[1].lease, 7587869960823473412);
        assert!(!r.more);
        // No kvs at all: an empty range.
        let v = parse(br#"{"header":{"revision":"3"}}"#).unwrap();
        assert_eq!(Range::parse(&v).unwrap().kvs, vec![]);
        for bad in [
            &br#"{"header":{"revision":"x"}}"#[..],
            br#"{"header":{"revision":"1"},"kvs":[{"value":"eA=="}]}"#,
            br#"{"header":{"revision":"1"},"kvs":[{"key":"!!"}]}"#,
            br#"{"header":{"revision":"1"},"kvs":{}}"#,
        ] {
            assert!(Range::parse(&parse(bad).unwrap()).is_err());
        }
    }

    #[test]
    fn txn_bodies_read_like_etcdctl() {
        assert_eq!(
            Compare::Absent(b"/k".to_vec()).json(),
            r#"{"target":"CREATE","key":"L2s=","result":"EQUAL","create_revision":"0"}"#
        );
        assert_eq!(
            Op::Put {
                key: b"/k".to_vec(),
                value: b"v".to_vec(),
                lease: 7587869960823473412
            }
            .json(),
            r#"{"request_put":{"key":"L2s=","value":"dg==","lease":"7587869960823473412"}}"#
        );
    }
}
