//! `NETLINK_NETFILTER` (<linux/netfilter/nfnetlink.h>): one socket protocol, several
//! subsystems; netplumb speaks conntrack ([`super::ctnetlink`]) and nf_tables
//! ([`super::nft`]) on it.

use super::ctnetlink::Conntrack;
use super::nft::{NfTables, NETLINK_NETFILTER};
use super::Protocol;

/// What a `NETLINK_NETFILTER` socket speaks: conntrack's types by their subsystem, nf_tables
/// the rest (its own and the batch markers).
pub static NETFILTER: Protocol = Protocol {
    number: NETLINK_NETFILTER,
    families: &[&Conntrack, &NfTables],
};
