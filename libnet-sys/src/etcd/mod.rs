//! An etcd v3 client over etcd's JSON gateway (`POST /v3/...`), hand-written on std: HTTP/1.1
//! ([`http`]), a strict JSON reader ([`json`]), base64 ([`b64`]), and the three services the
//! overlay uses: [`kv`] (range, put, delete, txn, compaction), [`lease`] and [`watch`].
//!
//! Several members can be given; a transport error or an unavailable member (HTTP 503, gRPC
//! `Unavailable`) moves the request to the next one, an answer of the 4xx kind does not (it
//! would be the same everywhere). Every request carries `Grpc-Metadata-Hasleader: true`, so a
//! member cut off from its cluster refuses instead of answering from a stale copy.
//! `--explain` shows each request and answer with keys and values decoded. With the `tls`
//! feature, `https://` members are spoken to over TLS ([`tls`]).

pub mod b64;
pub mod http;
pub mod json;
pub mod kv;
pub mod lease;
pub mod tls;
pub mod watch;

use crate::error::Cause;
use crate::trace::{Access, Trace};
use crate::{Error, Result};
use json::Value;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The client gRPC metadata that makes a member without a leader refuse (etcd's `hasleader`).
pub const HASLEADER: (&str, &str) = ("Grpc-Metadata-Hasleader", "true");
/// gRPC's `Unavailable` status code, which the gateway passes on for a member that cannot serve.
const GRPC_UNAVAILABLE: i64 = 14;

pub struct Client {
    endpoints: Vec<SocketAddr>,
    tls: Option<tls::Tls>,
    /// The member that answered last: requests start there.
    current: AtomicUsize,
    pub trace: Trace,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
}

impl Clone for Client {
    fn clone(&self) -> Client {
        Client {
            endpoints: self.endpoints.clone(),
            tls: self.tls.clone(),
            current: AtomicUsize::new(self.current.load(Ordering::Relaxed)),
            trace: self.trace,
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
        }
    }
}

/// Parses `http://192.0.2.1:2379,192.0.2.2:2379` (the scheme and the port may be left out),
/// and whether the list said `https://` (`Some(true)`), `http://` or neither (`None`); one
/// list has one scheme. Names are refused: they would need a resolver (see [`http`]).
pub fn parse_endpoints(list: &str) -> Result<(Vec<SocketAddr>, Option<bool>)> {
    let mut out = Vec::new();
    let mut https = None;
    for url in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (scheme, hostport) = match url.split_once("://") {
            Some(("http", rest)) => (Some(false), rest),
            Some(("https", rest)) => (Some(true), rest),
            Some((other, _)) => {
                return Err(Error::invalid(
                    url,
                    format!("not an etcd endpoint: the scheme is http or https, not '{other}'"),
                ))
            }
            None => (None, url),
        };
        if scheme.is_some() {
            if https.is_some_and(|h| Some(h) != scheme) {
                return Err(Error::invalid(
                    url,
                    "one list of members mixes http and https",
                ));
            }
            https = scheme;
        }
        let hostport = hostport.trim_end_matches('/');
        let addr = hostport
            .parse::<SocketAddr>()
            .or_else(|_| {
                hostport
                    .parse::<std::net::IpAddr>()
                    .map(|ip| SocketAddr::new(ip, 2379))
            })
            .or_else(|_| {
                hostport
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::Ipv6Addr>()
                    .map(|ip| SocketAddr::new(ip.into(), 2379))
            })
            .map_err(|_| {
                Error::invalid(
                    url,
                    "not an etcd endpoint: give http://ADDRESS:PORT with a numeric address",
                )
            })?;
        out.push(addr);
    }
    if out.is_empty() {
        return Err(Error::invalid("--etcd", "no etcd endpoint given"));
    }
    Ok((out, https))
}

impl Client {
    /// A client of `endpoints`, over TLS when `tls` is given ([`tls::choose`]).
    pub fn new(endpoints: Vec<SocketAddr>, tls: Option<tls::Tls>, trace: Trace) -> Client {
        Client {
            endpoints,
            tls,
            current: AtomicUsize::new(0),
            trace,
            connect_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(5),
        }
    }

    pub fn endpoints(&self) -> &[SocketAddr] {
        &self.endpoints
    }

    /// How a member is named in --explain.
    fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// The members in the order a request tries them: the last one that answered first.
    fn order(&self) -> impl Iterator<Item = (usize, SocketAddr)> + '_ {
        let n = self.endpoints.len();
        let start = self.current.load(Ordering::Relaxed);
        (0..n).map(move |i| {
            let at = (start + i) % n;
            (at, self.endpoints[at])
        })
    }

    /// Starts the next request on the next member (after a member cancelled a watch for want
    /// of a leader, say).
    pub fn skip_member(&self) {
        let n = self.endpoints.len().max(1);
        let at = self.current.load(Ordering::Relaxed);
        self.current.store((at + 1) % n, Ordering::Relaxed);
    }

    fn answered(&self, at: usize) {
        self.current.store(at, Ordering::Relaxed);
    }

    /// One unary call: `POST path` with `body`, on each member in turn until one answers.
    ///
    /// When every member that answered says it has no leader (an election, after a member was
    /// lost), the round is tried again for up to `ELECTION_WAIT` (8 s): "no leader" means the
    /// request was not applied, so asking again cannot apply it twice (etcd's own client
    /// retries a write on that answer alone, by the same words).
    pub fn call(&self, path: &str, body: &str) -> Result<Value> {
        let start = std::time::Instant::now();
        let mut pause = Duration::from_millis(100);
        loop {
            let (res, leaderless) = self.round(path, body);
            match res {
                Err(_) if leaderless && start.elapsed() < ELECTION_WAIT => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                other => return other,
            }
        }
    }

    /// One try on each member in turn; also whether a member said it has no leader.
    fn round(&self, path: &str, body: &str) -> (Result<Value>, bool) {
        let mut last = None;
        let mut leaderless = false;
        for (at, addr) in self.order() {
            self.trace.request(
                Access::Read,
                format_args!(
                    "POST {}://{addr}{path} {}",
                    self.scheme(),
                    describe_text(body.as_bytes())
                ),
            );
            let answer = http::post(
                addr,
                self.tls.as_ref(),
                path,
                &[HASLEADER],
                body,
                self.connect_timeout,
                Some(self.read_timeout),
            )
            .and_then(|(status, b)| {
                let bytes = b
                    .read_all()
                    .map_err(|e| http::io_error("receive", addr, &e))?;
                Ok((status, bytes))
            });
            let (status, bytes) = match answer {
                Ok(a) => a,
                Err(e) => {
                    self.trace
                        .outcome(Access::Read, Err(e.os_errno().unwrap_or(libc::EPROTO)));
                    last = Some(e);
                    continue;
                }
            };
            match judge(path, addr, status, &bytes) {
                Ok(v) => {
                    self.trace
                        .outcome(Access::Read, Ok(format_args!("{status} {}", describe(&v))));
                    self.answered(at);
                    return (Ok(v), false);
                }
                Err((e, next)) => {
                    self.trace
                        .outcome(Access::Read, Ok(format_args!("{status} {}", e.reason())));
                    if !next {
                        return (Err(e), false);
                    }
                    leaderless |= status == 503 && no_leader(&bytes);
                    last = Some(e);
                }
            }
        }
        let e = last.unwrap_or_else(|| Error::invalid("--etcd", "no etcd endpoint given"));
        (Err(e), leaderless)
    }
}

/// How long a call waits for a cluster that has no leader to elect one (etcd's default election
/// timeout is 1 s; a loaded machine takes a few).
const ELECTION_WAIT: Duration = Duration::from_secs(8);

/// Whether a 503 body is etcd's "no leader" (`ErrNoLeader`, whose words are its identity in
/// the gateway's JSON as in etcd's own client).
fn no_leader(body: &[u8]) -> bool {
    json::parse(body).is_some_and(|v| {
        v.get("message").str().or(v.get("error").str()) == Some("etcdserver: no leader")
    })
}

/// The error of a non-200 answer from the gateway: `{"error":..., "code":N, "message":...}`.
fn refusal(path: &str, addr: SocketAddr, status: u16, body: &[u8]) -> (Error, bool) {
    let v = json::parse(body).unwrap_or(Value::Null);
    let code = v.get("code").int().unwrap_or(0);
    let msg = v
        .get("message")
        .str()
        .or(v.get("error").str())
        .map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned());
    let next = status == 503 || code == GRPC_UNAVAILABLE;
    let e = Error {
        step: format!("POST {path}").into(),
        object: format!("etcd {addr}"),
        cause: Cause::State(format!("{msg} (HTTP {status})").into()),
    };
    (e, next)
}

/// An answer read whole: its JSON, or the error and whether the next member should be asked.
fn judge(
    path: &str,
    addr: SocketAddr,
    status: u16,
    body: &[u8],
) -> std::result::Result<Value, (Error, bool)> {
    if status != 200 {
        return Err(refusal(path, addr, status, body));
    }
    json::parse(body).ok_or_else(|| (malformed(path, addr, "an answer that is not JSON"), true))
}

pub(crate) fn malformed(path: &str, addr: SocketAddr, why: &'static str) -> Error {
    Error {
        step: format!("POST {path}").into(),
        object: format!("etcd {addr}"),
        cause: Cause::Malformed(why.into()),
    }
}

/// The bytes of a base64 field (`key`, `value`), `None` when absent-but-required is not
/// possible to tell: proto3 leaves an empty value out, so absent is empty.
pub(crate) fn bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::Null => Some(Vec::new()),
        Value::Str(s) => b64::decode(s),
        _ => None,
    }
}

/// A message as --explain shows it: JSON with every base64 field (`key`, `range_end`, `value`)
/// written as its text.
pub fn describe(v: &Value) -> String {
    let mut out = String::new();
    json::write_into(&mut out, v, &|name, x, out| {
        let (true, Some(s)) = (
            matches!(name, "key" | "range_end" | "value" | "prev_value"),
            x.str(),
        ) else {
            return false;
        };
        match b64::decode(s).map(String::from_utf8) {
            Some(Ok(text)) => out.push_str(&json::quote(&text)),
            _ => out.push_str(&json::quote(&format!("base64:{s}"))),
        }
        true
    });
    out
}

/// [`describe`] of a message's text, or the text itself when it is not JSON.
pub fn describe_text(text: &[u8]) -> String {
    match json::parse(text) {
        Some(v) => describe(&v),
        None => String::from_utf8_lossy(text).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_numeric() {
        let (eps, https) =
            parse_endpoints("http://192.0.2.1:2379, 192.0.2.2,http://[2001:db8::1]:23/").unwrap();
        assert_eq!(https, Some(false));
        assert_eq!(
            eps.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            ["192.0.2.1:2379", "192.0.2.2:2379", "[2001:db8::1]:23"]
        );
        assert!(parse_endpoints("http://etcd.example:2379").is_err());
        assert!(parse_endpoints("").is_err());
        assert_eq!(parse_endpoints("https://192.0.2.1").unwrap().1, Some(true));
        assert_eq!(parse_endpoints("192.0.2.1").unwrap().1, None);
        for bad in ["https://192.0.2.1,http://192.0.2.2", "ftp://192.0.2.1"] {
            assert!(parse_endpoints(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn explain_decodes_keys_and_values() {
        let v = json::parse(
            br#"{"key":"L2EvYg==","range_end":"L2Ev","kvs":[{"value":"/w=="}],"n":"1"}"#,
        )
        .unwrap();
        assert_eq!(
            describe(&v),
            r#"{"key":"/a/b","range_end":"/a/","kvs":[{"value":"base64:/w=="}],"n":"1"}"#
        );
    }

    #[test]
    fn only_unavailable_members_are_skipped() {
        let a: SocketAddr = "192.0.2.1:2379".parse().unwrap();
        let (e, next) = refusal(
            "/v3/lease/keepalive",
            a,
            404,
            br#"{"error":"etcdserver: requested lease not found","code":5}"#,
        );
        assert!(!next);
        assert_eq!(
            e.to_string(),
            "etcd 192.0.2.1:2379: etcdserver: requested lease not found (HTTP 404)"
        );
        assert!(refusal("/v3/kv/range", a, 503, b"").1);
        // Only the leader's absence is waited out.
        assert!(no_leader(
            br#"{"error":"etcdserver: no leader","code":14,"message":"etcdserver: no leader"}"#
        ));
        assert!(!no_leader(
            br#"{"message":"etcdserver: request timed out","code":14}"#
        ));
        assert!(!no_leader(b"no leader"));
        assert!(
            refusal(
                "/v3/kv/range",
                a,
                500,
                br#"{"code":14,"message":"etcdserver: no leader"}"#
            )
            .1
        );
    }
}
