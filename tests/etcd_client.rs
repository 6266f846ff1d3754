//! libnet-sys's etcd client against a real 3-member etcd cluster (tests/common/etcd.rs), with
//! `etcdctl` as the oracle: what the client writes etcdctl reads, and the other way round.

mod common;

use common::etcd::{wait_for, Cluster};
use common::Jv;
use libnet_sys::etcd::kv::{Compare, Op};
use libnet_sys::etcd::watch::{EventKind, WatchMsg, WatchSpec};
use libnet_sys::etcd::{parse_endpoints, Client};
use libnet_sys::Trace;
use std::time::Duration;

fn client(c: &Cluster) -> Client {
    Client::new(
        parse_endpoints(&c.endpoints()).unwrap().0,
        None,
        Trace::quiet("test"),
    )
}

#[test]
fn kv_txn_and_leases_agree_with_etcdctl() {
    let c = Cluster::new();
    let cl = client(&c);
    // put, then get and a prefix range, read back both ways.
    let rev = c.in_net(|| cl.put(b"/t/a", b"one", 0).unwrap());
    assert_eq!(c.etcdctl("get /t/a --print-value-only").trim(), "one");
    c.etcdctl("put /t/b two");
    let r = c.in_net(|| cl.get_prefix(b"/t/").unwrap());
    assert_eq!(r.kvs.len(), 2);
    assert_eq!(
        (&r.kvs[0].key[..], &r.kvs[0].value[..]),
        (&b"/t/a"[..], &b"one"[..])
    );
    assert_eq!(r.kvs[0].create_revision, rev);
    let j = Jv::parse(&c.etcdctl("get /t/b -w json"));
    assert_eq!(j.s("header.revision"), r.revision.to_string());
    assert_eq!(j.s("kvs.0.mod_revision"), r.kvs[1].mod_revision.to_string());

    // A create-if-absent txn: the first wins, the second is refused and reads what is there.
    let create = |v: &'static [u8]| {
        cl.txn(
            &[Compare::Absent(b"/t/ip".to_vec())],
            &[Op::Put {
                key: b"/t/ip".to_vec(),
                value: v.to_vec(),
                lease: 0,
            }],
            &[Op::Get {
                key: b"/t/ip".to_vec(),
                range_end: None,
            }],
        )
        .unwrap()
    };
    let first = c.in_net(|| create(b"first"));
    assert!(first.succeeded && first.ranges.is_empty());
    let second = c.in_net(|| create(b"second"));
    assert!(!second.succeeded);
    assert_eq!(second.ranges[0].kvs[0].value, b"first");
    assert_eq!(c.etcdctl("get /t/ip --print-value-only").trim(), "first");

    // A lease: its ID (beyond 2^53 as etcd makes them) round-trips exactly through etcdctl.
    let (id, ttl) = c.in_net(|| cl.grant(30).unwrap());
    assert_eq!(ttl, 30);
    c.in_net(|| cl.put(b"/t/leased", b"x", id).unwrap());
    let j = Jv::parse(&c.etcdctl("get /t/leased -w json"));
    assert_eq!(j.s("kvs.0.lease"), id.to_string());
    let listed = c.etcdctl("lease list");
    assert!(listed.contains(&format!("{id:x}")), "{listed}");
    assert!(c
        .in_net(|| cl.keepalive(id).unwrap())
        .is_some_and(|t| t > 0));
    // Revoked: the key goes with it, and a keepalive says the lease is gone (TTL absent).
    c.in_net(|| cl.revoke(id).unwrap());
    assert_eq!(c.etcdctl("get /t/leased --print-value-only").trim(), "");
    assert_eq!(c.in_net(|| cl.keepalive(id).unwrap()), None);
    assert_eq!(c.in_net(|| cl.time_to_live(id).unwrap()), None);
    // Expiry: a 2 s lease with no keepalive; its key disappears on its own.
    let (short, _) = c.in_net(|| cl.grant(2).unwrap());
    c.in_net(|| cl.put(b"/t/expiring", b"x", short).unwrap());
    assert!(wait_for(Duration::from_secs(30), || c
        .etcdctl("get /t/expiring --print-value-only")
        .trim()
        .is_empty()));
    assert_eq!(c.in_net(|| cl.keepalive(short).unwrap()), None);

    // delete, and a 4xx-class refusal is one clear error, not a hop to another member.
    let (_, n) = c.in_net(|| cl.delete(b"/t/", Some(b"/t0")).unwrap());
    assert_eq!(n, 3);
    assert_eq!(c.etcdctl("get /t/ --prefix --keys-only").trim(), "");
    let e = c.in_net(|| cl.call("/v3/kv/nonexistent", "{}").unwrap_err());
    assert!(e.to_string().contains("(HTTP 404)"), "{e}");
}

#[test]
fn watch_from_a_revision_compaction_and_member_failover() {
    let c = Cluster::new();
    let cl = client(&c);
    let spec = |start| WatchSpec {
        key: b"/w/",
        range_end: Some(b"/w0"),
        start_revision: start,
        prev_kv: true,
        progress_notify: true,
    };
    let first = c.in_net(|| cl.put(b"/w/1", b"a", 0).unwrap());
    c.etcdctl("put /w/2 b");
    c.etcdctl("del /w/1");
    // From the first revision: created, then the three events in order, each once.
    let got = c.in_net(|| {
        let mut w = cl
            .watch(&spec(first), Some(Duration::from_secs(10)))
            .unwrap();
        let mut seen = Vec::new();
        while seen.len() < 3 {
            match w.next_msg().unwrap() {
                WatchMsg::Created { .. } | WatchMsg::Progress { .. } => {}
                WatchMsg::Events { revision, events } => {
                    for e in events {
                        // The header is the store's revision when sent: at or past the event's.
                        assert!(e.kv.mod_revision <= revision);
                        seen.push((
                            e.kind,
                            String::from_utf8(e.kv.key).unwrap(),
                            e.prev.map(|p| p.value),
                        ));
                    }
                }
                m => panic!("{m:?}"),
            }
        }
        seen
    });
    assert_eq!(
        got,
        [
            (EventKind::Put, "/w/1".to_string(), None),
            (EventKind::Put, "/w/2".to_string(), None),
            (EventKind::Delete, "/w/1".to_string(), Some(b"a".to_vec())),
        ]
    );

    // Progress notifications come on an idle watch (every 2 s, the cluster's setting).
    let progressed = c.in_net(|| {
        let mut w = cl.watch(&spec(0), Some(Duration::from_secs(20))).unwrap();
        (0..3).any(|_| matches!(w.next_msg().unwrap(), WatchMsg::Progress { .. }))
    });
    assert!(progressed);

    // Compacted past the start: the watch is cancelled with the compaction's revision.
    let head = c.in_net(|| cl.put(b"/w/3", b"c", 0).unwrap());
    c.in_net(|| cl.compact(head).unwrap());
    let cancel = c.in_net(|| {
        let mut w = cl
            .watch(&spec(first), Some(Duration::from_secs(10)))
            .unwrap();
        loop {
            match w.next_msg().unwrap() {
                WatchMsg::Created { .. } => continue,
                m => return m,
            }
        }
    });
    assert!(
        matches!(cancel, WatchMsg::Canceled { compact_revision, .. } if compact_revision == head),
        "{cancel:?}"
    );

    // A member SIGKILLed under a watch: the stream breaks; the client, asked again from the
    // last revision + 1, lands on a live member and misses nothing.
    let (last, addr) = c.in_net(|| {
        let w = cl
            .watch(&spec(head + 1), Some(Duration::from_secs(10)))
            .unwrap();
        (head, w.addr)
    });
    let victim = (0..3)
        .find(|&i| addr.ip().to_string() == common::etcd::host_addr(i))
        .unwrap();
    let watched = c.in_net(|| {
        let w = cl
            .watch(&spec(last + 1), Some(Duration::from_secs(10)))
            .unwrap();
        assert_eq!(
            w.addr, addr,
            "the client starts on the member that answered last"
        );
        w
    });
    let mut w = watched;
    c.kill_member(victim);
    let others: Vec<String> = (0..3)
        .filter(|&i| i != victim)
        .map(|i| format!("http://{}:2379", common::etcd::host_addr(i)))
        .collect();
    // The two left may be electing a leader (the victim may have been it): a put then times
    // out inside etcd and may still be applied later, so wait until they answer a
    // linearizable read (what `endpoint health` asks) before the one put.
    c.sb.ok(&format!(
        "export ETCDCTL_API=3 E={}
         for i in $(seq 60); do
             etcdctl --endpoints=$E endpoint health >/dev/null 2>&1 && break; sleep 0.5
         done
         etcdctl --endpoints=$E --command-timeout=20s put /w/4 d",
        others.join(",")
    ));
    let resumed = c.in_net(move || {
        // The old stream ends (EOF, reset or timeout), never with a made-up event.
        loop {
            match w.next_msg() {
                Err(_) => break,
                Ok(WatchMsg::Created { .. } | WatchMsg::Progress { .. }) => continue,
                Ok(m) => panic!("the killed member's stream went on: {m:?}"),
            }
        }
        let mut w = cl
            .watch(&spec(last + 1), Some(Duration::from_secs(20)))
            .unwrap();
        assert_ne!(w.addr, addr);
        loop {
            if let WatchMsg::Events { events, .. } = w.next_msg().unwrap() {
                return events
                    .into_iter()
                    .map(|e| String::from_utf8(e.kv.key).unwrap())
                    .collect::<Vec<_>>();
            }
        }
    });
    assert_eq!(resumed, ["/w/4"]);
}
