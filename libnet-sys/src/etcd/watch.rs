//! Watches: `POST /v3/watch` with a `create_request`, answered by a chunked stream of JSON
//! messages, one a line. The first says `created`; then come events (all the events of one
//! revision in one message), progress notifications (no events: the store is at least at this
//! revision), and at most one cancellation (`canceled`, with `compact_revision` when the start
//! revision was compacted away: the caller must read everything again).

use super::json::{self, Value};
use super::kv::{header_revision, Kv};
use super::{http, Client};
use crate::error::Cause;
use crate::trace::Access;
use crate::{Error, Result};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Put,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: EventKind,
    /// The key as it is after the event (a delete's has only the key and mod_revision).
    pub kv: Kv,
    /// The key before the event, when the watch asked for it.
    pub prev: Option<Kv>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchMsg {
    Created {
        revision: i64,
    },
    Events {
        revision: i64,
        events: Vec<Event>,
    },
    /// Nothing happened up to `revision`.
    Progress {
        revision: i64,
    },
    /// The watch is over; `compact_revision` > 0 when its start had been compacted.
    Canceled {
        compact_revision: i64,
        reason: String,
    },
}

fn bad(what: &'static str) -> Error {
    Error {
        step: "etcd watch message".into(),
        object: String::new(),
        cause: Cause::Malformed(what.into()),
    }
}

/// Decodes one message of the stream.
pub fn parse_msg(line: &[u8]) -> Result<WatchMsg> {
    let v = json::parse(line).ok_or_else(|| bad("not JSON"))?;
    let r = v.get("result");
    if r.is_null() {
        let msg = v
            .get("error")
            .get("message")
            .str()
            .unwrap_or("neither result nor error");
        return Err(Error {
            step: "POST /v3/watch".into(),
            object: String::new(),
            cause: Cause::State(msg.to_string().into()),
        });
    }
    let flag = |f| {
        r.get(f)
            .flag()
            .ok_or_else(|| bad("a flag that is not a bool"))
    };
    let revision = header_revision(r)?;
    if flag("canceled")? {
        return Ok(WatchMsg::Canceled {
            compact_revision: r
                .get("compact_revision")
                .int()
                .ok_or_else(|| bad("a compact_revision that is not an int64"))?,
            reason: r.get("cancel_reason").str().unwrap_or("").to_string(),
        });
    }
    if flag("created")? {
        return Ok(WatchMsg::Created { revision });
    }
    let raw = r
        .get("events")
        .items()
        .ok_or_else(|| bad("events that are not a list"))?;
    if raw.is_empty() {
        return Ok(WatchMsg::Progress { revision });
    }
    let mut events = Vec::with_capacity(raw.len());
    for e in raw {
        let kind = match e.get("type") {
            Value::Null => EventKind::Put,
            Value::Str(s) if s == "PUT" => EventKind::Put,
            Value::Str(s) if s == "DELETE" => EventKind::Delete,
            _ => return Err(bad("an event type that is neither PUT nor DELETE")),
        };
        let prev = match e.get("prev_kv") {
            Value::Null => None,
            p => Some(Kv::parse(p)?),
        };
        events.push(Event {
            kind,
            kv: Kv::parse(e.get("kv"))?,
            prev,
        });
    }
    Ok(WatchMsg::Events { revision, events })
}

/// An open watch stream on one member.
pub struct Watch {
    pub addr: SocketAddr,
    lines: http::Lines,
    trace: crate::Trace,
}

impl Watch {
    /// The next message; an error when the stream ends, breaks, stalls past the read timeout,
    /// or carries an error (the caller reconnects from its last revision + 1).
    pub fn next_msg(&mut self) -> Result<WatchMsg> {
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = self
                .lines
                .read_until(b'\n', &mut line)
                .map_err(|e| http::io_error("receive watch", self.addr, &e))?;
            if n == 0 {
                return Err(Error::errno(
                    "receive watch",
                    self.addr.to_string(),
                    libc::ECONNRESET,
                ));
            }
            if line.iter().any(|c| !c.is_ascii_whitespace()) {
                break;
            }
        }
        self.trace.request(
            Access::Read,
            format_args!(
                "watch {} {}",
                self.addr,
                super::describe_text(line.trim_ascii())
            ),
        );
        // The member that sent it, which a message cannot say.
        parse_msg(&line).map_err(|e| Error {
            object: format!("etcd {}", self.addr),
            ..e
        })
    }
}

/// What a watch follows and from where.
#[derive(Debug, Clone)]
pub struct WatchSpec<'a> {
    pub key: &'a [u8],
    pub range_end: Option<&'a [u8]>,
    /// The first revision to deliver (0: from now).
    pub start_revision: i64,
    pub prev_kv: bool,
    pub progress_notify: bool,
}

impl Client {
    /// Opens a stream on the first member that takes it, with `Grpc-Metadata-Hasleader`.
    pub(crate) fn stream(
        &self,
        path: &str,
        body: &str,
        read_timeout: Option<Duration>,
    ) -> Result<(SocketAddr, http::Lines)> {
        let mut last = None;
        for (at, addr) in self.order() {
            self.trace.request(
                Access::Read,
                format_args!(
                    "POST {}://{addr}{path} {}",
                    self.scheme(),
                    super::describe_text(body.as_bytes())
                ),
            );
            match http::post(
                addr,
                self.tls.as_ref(),
                path,
                &[super::HASLEADER],
                body,
                self.connect_timeout,
                read_timeout,
            ) {
                Ok((200, b)) => {
                    self.trace
                        .outcome(Access::Read, Ok(format_args!("200 (stream)")));
                    self.answered(at);
                    return Ok((addr, BufReader::new(b)));
                }
                Ok((status, b)) => {
                    let body = b.read_all().unwrap_or_default();
                    let (e, next) = super::refusal(path, addr, status, &body);
                    self.trace
                        .outcome(Access::Read, Ok(format_args!("{status} {}", e.reason())));
                    if !next {
                        return Err(e);
                    }
                    last = Some(e);
                }
                Err(e) => {
                    self.trace
                        .outcome(Access::Read, Err(e.os_errno().unwrap_or(libc::EPROTO)));
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::invalid("--etcd", "no etcd endpoint given")))
    }

    /// Starts a watch; `read_timeout` should be a few progress-notify intervals so that a
    /// member gone silent is noticed.
    pub fn watch(&self, spec: &WatchSpec, read_timeout: Option<Duration>) -> Result<Watch> {
        let end = spec
            .range_end
            .map(|e| format!(",\"range_end\":{}", json::quote(&super::b64::encode(e))))
            .unwrap_or_default();
        let body = format!(
            "{{\"create_request\":{{\"key\":{}{end},\"start_revision\":\"{}\",\"prev_kv\":{},\"progress_notify\":{}}}}}",
            json::quote(&super::b64::encode(spec.key)),
            spec.start_revision,
            spec.prev_kv,
            spec.progress_notify
        );
        let (addr, lines) = self.stream("/v3/watch", &body, read_timeout)?;
        Ok(Watch {
            addr,
            lines,
            trace: self.trace,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_messages_as_etcd_3_4_sends_them() {
        assert_eq!(
            parse_msg(br#"{"result":{"header":{"cluster_id":"1","member_id":"2","revision":"7","raft_term":"2"},"created":true}}"#).unwrap(),
            WatchMsg::Created { revision: 7 }
        );
        let m = parse_msg(br#"{"result":{"header":{"revision":"8"},"events":[{"kv":{"key":"L2E=","create_revision":"8","mod_revision":"8","version":"1","value":"eA=="}},{"type":"DELETE","kv":{"key":"L2I=","mod_revision":"8"},"prev_kv":{"key":"L2I=","create_revision":"3","mod_revision":"3","version":"1","value":"eQ==","lease":"7587869960823473412"}}]}}"#).unwrap();
        let WatchMsg::Events {
            revision: 8,
            events,
        } = m
        else {
            panic!("{m:?}")
        };
        assert_eq!(events[0].kind, EventKind::Put);
        assert_eq!(events[0].kv.value, b"x");
        assert_eq!(events[1].kind, EventKind::Delete);
        assert_eq!(events[1].prev.as_ref().unwrap().lease, 7587869960823473412);
        assert_eq!(
            parse_msg(br#"{"result":{"header":{"revision":"9"}}}"#).unwrap(),
            WatchMsg::Progress { revision: 9 }
        );
        assert_eq!(
            parse_msg(br#"{"result":{"header":{"revision":"20"},"canceled":true,"compact_revision":"15"}}"#).unwrap(),
            WatchMsg::Canceled { compact_revision: 15, reason: String::new() }
        );
        assert!(parse_msg(
            br#"{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader"}}"#
        )
        .is_err());
        assert!(parse_msg(br#"{"result":{"header":{"revision":"8"},"events":[{"type":"EXPIRE","kv":{"key":"L2E="}}]}}"#).is_err());
    }
}
