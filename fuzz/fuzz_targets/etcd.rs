//! The etcd gateway's hand-written decoders: an HTTP/1.1 answer (Content-Length, chunked,
//! close), a JSON text, a watch stream message, a range answer, a keepalive answer, the
//! --explain description, and the overlay's k=v values.
#![no_main]
use libfuzzer_sys::fuzz_target;
use libnet_sys::etcd::{describe_text, http, json, kv::Range, lease, watch};
use libnet_sys::overlay;

fuzz_target!(|data: &[u8]| {
    if let Some(v) = json::parse(data) {
        let _ = Range::parse(&v);
        let _ = lease::parse_keepalive(&v);
        let _ = json::write(&v);
    }
    let _ = watch::parse_msg(data);
    let _ = describe_text(data);
    if let Ok((_, body)) = http::parse_response(data) {
        let _ = watch::parse_msg(&body);
    }
    if let Some(at) = data.iter().position(|&b| b == 0) {
        let _ = overlay::decode(&data[..at], &data[at + 1..]);
    }
});
