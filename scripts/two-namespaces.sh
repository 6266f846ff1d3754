#!/usr/bin/env bash
# two-namespaces.sh: the smallest network there is: two namespaces joined by one veth pair,
# an address at each end, and a ping each way.
set -uo pipefail
# shellcheck source=scripts/lib-demo.sh
. "$(dirname "$0")/lib-demo.sh"

usage() {
    cat <<'USAGE'
Usage: scripts/two-namespaces.sh [--sandbox | --host | --here] [--explain] [--keep]

Two network namespaces, left and right, joined by one veth pair (vl in left, vr in
right), 198.51.100.1/24 and 198.51.100.2/24 on its ends; proves it with a ping each way,
then removes it all.

USAGE
    np_common_help
}

np_begin two-namespaces "$@"

np_say "# two namespaces: each a network stack of its own, with only a loopback interface"
np_netns left
np_netns right
np_say "# one veth pair, an end born in each namespace: a cable between them"
np_run vethctl add vl peer vr --netns left --peer-netns right --up
np_say "# an address at each end"
np_run nsexec exec left ifctl addr add vl 198.51.100.1/24
np_run nsexec exec right ifctl addr add vr 198.51.100.2/24
np_run nsexec exec left ifctl show vl

np_say "# proofs"
np_prove_ping "left reaches right over the veth pair (198.51.100.2)" left 198.51.100.2
np_prove_ping "right reaches left over the veth pair (198.51.100.1)" right 198.51.100.1
np_finish
