//! The xtables parser (an `IPT_SO_GET_ENTRIES` blob and the `IPT_SO_GET_INFO` hooks it came
//! with), and its serializer: what parses must serialize back to the very bytes read (a
//! replace must write what was read: issue 16 item 12 has the parser refuse what it cannot),
//! and what that writes must parse again.
#![no_main]
use libfuzzer_sys::fuzz_target;
use libnet_sys::xtables::{Info, Table};

/// The hooks and counts, from the first 48 bytes of the input (the answer part of
/// `struct ipt_getinfo`); the rest is the blob.
fn info(head: &[u8], blob_len: usize) -> Info {
    let u = |i: usize| u32::from_ne_bytes(head[4 * i..4 * i + 4].try_into().expect("4 bytes"));
    Info {
        valid_hooks: u(0),
        hook_entry: std::array::from_fn(|i| u(1 + i)),
        underflow: std::array::from_fn(|i| u(6 + i)),
        num_entries: u(11),
        size: blob_len as u32,
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 48 {
        return;
    }
    let (head, blob) = data.split_at(48);
    let Ok(t) = Table::parse("nat", &info(head, blob.len()), blob) else {
        return;
    };
    let _ = t.summary();
    let (b1, hook_entry, underflow) = t.serialize().expect("a parsed table serializes");
    assert_eq!(b1, blob, "serialize(parse(blob)) differs from blob");
    let again = Info {
        valid_hooks: info(head, 0).valid_hooks,
        hook_entry,
        underflow,
        num_entries: t.entries() as u32,
        size: b1.len() as u32,
    };
    let t2 = Table::parse("nat", &again, &b1).expect("what we wrote parses");
    let (b2, ..) = t2.serialize().expect("and serializes again");
    assert_eq!(
        b1, b2,
        "serialize(parse(serialize(t))) differs from serialize(t)"
    );
});
