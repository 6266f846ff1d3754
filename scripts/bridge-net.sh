#!/usr/bin/env bash
# bridge-net.sh: a bridge and two namespaces on it, each through a veth pair; ping and TCP
# across the bridge.
set -uo pipefail
# shellcheck source=scripts/lib-demo.sh
. "$(dirname "$0")/lib-demo.sh"

usage() {
    cat <<'USAGE'
Usage: scripts/bridge-net.sh [--sandbox | --host | --here] [--explain] [--keep]

A bridge br0 and two namespaces h1 and h2, each with eth0 on a veth pair whose other end
(veth-h1, veth-h2) is a port of br0; 10.0.0.1/24 and 10.0.0.2/24 inside. Proves it with a
ping each way and a TCP connection across the bridge, then removes it all.

USAGE
    np_common_help
}

np_begin bridge-net "$@"

np_say "# a bridge: a switch inside the kernel (no address: it only forwards frames)"
np_bridge br0
np_say "# two hosts, each a namespace with eth0 on a veth pair whose other end is a port of br0"
np_netns h1
np_veth veth-h1 h1 eth0 10.0.0.1/24 br0
np_netns h2
np_veth veth-h2 h2 eth0 10.0.0.2/24 br0
np_run brctl show br0

np_say "# proofs"
np_prove_ping "h1 reaches h2 across br0 (10.0.0.2)" h1 10.0.0.2
np_prove_ping "h2 reaches h1 across br0 (10.0.0.1)" h2 10.0.0.1
np_server h2 h2 7000
np_prove_tcp "h1 connects to h2 over TCP across br0; h2 sees h1's own address" h1 10.0.0.2 7000 "h2 sees 10.0.0.1"
np_run brctl showmacs br0
np_finish
