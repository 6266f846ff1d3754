#!/usr/bin/env bash
# docker-modes.sh: each of Docker's network modes built by hand (bridge, host, none,
# container, user-defined networks with isolation, `docker network connect` and `--link`
# names), each proven with real traffic.
set -uo pipefail
# shellcheck source=scripts/lib-demo.sh
. "$(dirname "$0")/lib-demo.sh"

usage() {
    cat <<'USAGE'
Usage: scripts/docker-modes.sh [--sandbox | --host | --here] [--explain] [--keep]

Docker's network modes, by hand, on one host whose outside interface wan0 (203.0.113.1)
leads to a namespace wan (203.0.113.2):
  bridge      docker0 (172.17.0.1/16) with containers c1 and c2, forwarding and masquerade:
              c1 reaches c2 and the outside
  host        no namespace at all: a server run as is, on the host, is reached from wan
              at the host's own address
  none        `nsexec exec --new`: a namespace with loopback up and nothing else
  container   a second process joins c1's namespace by c1's PID (`nsexec exec --pid`):
              its server is reached at c1's address
  user-defined networks
              br-net1 (172.18.0.0/16, container a1) and br-net2 (172.19.0.0/16, b1): the
              host routes between them until both join natctl's isolated set; then a1 is
              connected to net2 with a second veth (eth1) as `docker network connect` does,
              and resolves b1 by name through its namespace's hosts file (`--link`)

USAGE
    np_common_help
}

np_begin docker-modes "$@"

np_say "# the host's way out: a namespace wan plays the outside world, behind wan0"
np_wan 203.0.113.1/24 203.0.113.2/24
np_forward_on

np_say "## bridge mode (docker run, the default): docker0, and a namespace and a veth pair per container"
np_bridge docker0 172.17.0.1/16
np_container c1 veth-c1 docker0 172.17.0.2/16 172.17.0.1
np_container c2 veth-c2 docker0 172.17.0.3/16 172.17.0.1
np_nat masquerade add 172.17.0.0/16 --not-out docker0
np_prove_ping "bridge: c1 reaches c2 across docker0" c1 172.17.0.3
np_prove_ping "bridge: c1 reaches the outside (wan, 203.0.113.2), masqueraded" c1 203.0.113.2

np_say "## host mode (docker run --network host): no namespace; the process uses the host's network"
np_run ifctl show docker0
np_server host - 8000
np_prove_tcp "host: wan reaches a server run on the host itself, at the host's address" wan 203.0.113.1 8000 "host sees 203.0.113.2"

np_say "## none mode (docker run --network none): a namespace with loopback up and nothing else"
np_capture nsexec exec --new ifctl show
[ "$(grep -c '^[0-9]*: ' <<<"$NP_OUT")" = 1 ] && grep -q '^1: lo: <UP' <<<"$NP_OUT"
np_proof $? "none: the namespace has one interface, lo, up"
np_prove_ping "none: its loopback answers" new 127.0.0.1
np_prove_no_ping "none: nothing else is reachable (not even docker0's 172.17.0.1)" new 172.17.0.1

np_say "## container mode (docker run --network container:c1): a second process in c1's namespace"
np_say "# the first container's process, started in c1 by name"
np_sleeper c1
np_capture nsexec identify "$NP_PID"
np_say "# a second process joins that namespace by the first one's PID"
np_run nsexec exec --pid "$NP_PID" ifctl show eth0
np_server c1-too "pid:$NP_PID" 8001
np_prove_tcp "container: c2 reaches the second process's server at c1's address" c2 172.17.0.2 8001 "c1-too sees 172.17.0.3"

np_say "## user-defined networks (docker network create net1, net2): a bridge each"
np_bridge br-net1 172.18.0.1/16
np_bridge br-net2 172.19.0.1/16
np_container a1 veth-a1 br-net1 172.18.0.2/16 172.18.0.1
np_container b1 veth-b1 br-net2 172.19.0.2/16 172.19.0.1
np_prove_ping "networks: before isolation, the host routes a1 to b1 (172.19.0.2)" a1 172.19.0.2
np_say "# Docker keeps its networks apart: each bridge joins the isolated set (one rule each);"
np_say "# what enters from one bridge of the set may not leave by another"
np_nat isolate add br-net1
np_nat isolate add br-net2
np_prove_no_ping "networks: isolated, a1 no longer reaches b1 through the host" a1 172.19.0.2
np_prove_no_ping "networks: isolated, b1 no longer reaches a1 through the host" b1 172.18.0.2
np_say "# docker network connect net2 a1: a second veth pair, eth1 in a1, a port of br-net2"
np_veth veth-a1-net2 a1 eth1 172.19.0.3/16 br-net2
np_prove_ping "connect: a1, now on net2 too, reaches b1 directly across br-net2" a1 172.19.0.2
np_say "# --link b1: a1 resolves b1 by name, a line of a1's hosts file (nsexec exec binds it over /etc/hosts)"
np_hosts_add a1 172.19.0.2 b1
np_run nsexec hosts a1 show
np_capture nsexec exec a1 getent hosts b1
[[ $NP_OUT =~ ^172\.19\.0\.2[[:space:]]+b1$ ]]
np_proof $? "link: in a1, b1 resolves to 172.19.0.2"
np_prove_ping "link: a1 reaches b1 by name" a1 b1
np_finish
