//! Leases: grant, one keepalive (the gateway's keepalive is a stream; one request, one answer),
//! time-to-live, revoke. A lease that is gone answers a keepalive with no `TTL` at all (proto3
//! leaves the zero out), which reads as `None` here.

use super::json::Value;
use super::kv::header_revision;
use super::Client;
use crate::error::Cause;
use crate::{Error, Result};
use std::io::BufRead;

fn bad(what: &'static str) -> Error {
    Error {
        step: "etcd lease answer".into(),
        object: String::new(),
        cause: Cause::Malformed(what.into()),
    }
}

/// The TTL of a keepalive answer's `result`: `None` when the lease is gone.
pub fn parse_keepalive(v: &Value) -> Result<Option<i64>> {
    let r = v.get("result");
    if r.is_null() {
        let e = v.get("error");
        let msg = e.get("message").str().unwrap_or("no result");
        return Err(Error {
            step: "POST /v3/lease/keepalive".into(),
            object: String::new(),
            cause: Cause::State(msg.to_string().into()),
        });
    }
    header_revision(r)?;
    match r.get("TTL").int() {
        Some(0) => Ok(None),
        Some(ttl) => Ok(Some(ttl)),
        None => Err(bad("a TTL that is not an int64")),
    }
}

impl Client {
    /// A new lease of `ttl` seconds; returns its ID and the TTL granted.
    pub fn grant(&self, ttl: i64) -> Result<(i64, i64)> {
        let v = self.call(
            "/v3/lease/grant",
            &format!("{{\"TTL\":\"{ttl}\",\"ID\":\"0\"}}"),
        )?;
        if let Some(msg) = v.get("error").str().filter(|s| !s.is_empty()) {
            return Err(Error {
                step: "POST /v3/lease/grant".into(),
                object: String::new(),
                cause: Cause::State(msg.to_string().into()),
            });
        }
        let id = v
            .get("ID")
            .int()
            .filter(|&i| i != 0)
            .ok_or_else(|| bad("a lease without an ID"))?;
        let ttl = v
            .get("TTL")
            .int()
            .ok_or_else(|| bad("a TTL that is not an int64"))?;
        Ok((id, ttl))
    }

    /// Renews `id` once; `Some(ttl)` while it lives, `None` once it has expired or was revoked.
    pub fn keepalive(&self, id: i64) -> Result<Option<i64>> {
        let (addr, mut lines) = self.stream(
            "/v3/lease/keepalive",
            &format!("{{\"ID\":\"{id}\"}}"),
            Some(self.read_timeout),
        )?;
        let mut line = Vec::new();
        lines
            .read_until(b'\n', &mut line)
            .map_err(|e| super::http::io_error("receive", addr, &e))?;
        let v = super::json::parse(&line).ok_or_else(|| {
            super::malformed("/v3/lease/keepalive", addr, "an answer that is not JSON")
        })?;
        self.trace.detail(
            crate::trace::Access::Read,
            &format!("= {}", super::describe(&v)),
        );
        parse_keepalive(&v)
    }

    /// The seconds `id` has left, `None` when it is gone.
    pub fn time_to_live(&self, id: i64) -> Result<Option<i64>> {
        let v = self.call("/v3/lease/timetolive", &format!("{{\"ID\":\"{id}\"}}"))?;
        match v.get("TTL").int() {
            Some(ttl) if ttl > 0 => Ok(Some(ttl)),
            Some(_) => Ok(None),
            None => Err(bad("a TTL that is not an int64")),
        }
    }

    /// Ends `id` now: every key under it is deleted. A lease already gone is not an error.
    pub fn revoke(&self, id: i64) -> Result<()> {
        match self.call("/v3/lease/revoke", &format!("{{\"ID\":\"{id}\"}}")) {
            Err(e) if e.reason().contains("lease not found") => Ok(()),
            r => r.map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::json::parse;
    use super::*;

    #[test]
    fn keepalive_answers() {
        let live = parse(
            br#"{"result":{"header":{"revision":"4"},"ID":"7587869960823473412","TTL":"5"}}"#,
        )
        .unwrap();
        assert_eq!(parse_keepalive(&live).unwrap(), Some(5));
        // etcd 3.4.23 for an expired lease: the TTL is left out.
        let gone =
            parse(br#"{"result":{"header":{"revision":"4"},"ID":"7587869960823473412"}}"#).unwrap();
        assert_eq!(parse_keepalive(&gone).unwrap(), None);
        let err =
            parse(br#"{"error":{"grpc_code":14,"message":"etcdserver: no leader"}}"#).unwrap();
        assert!(parse_keepalive(&err)
            .unwrap_err()
            .to_string()
            .contains("no leader"));
    }
}
