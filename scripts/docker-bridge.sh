#!/usr/bin/env bash
# docker-bridge.sh: Docker's default bridge network, rebuilt by hand one kernel step at a
# time, and proven with real traffic: container to container, container to the outside
# (masqueraded), and the outside to a published port.
set -uo pipefail
# shellcheck source=scripts/lib-demo.sh
. "$(dirname "$0")/lib-demo.sh"

CONTAINERS=2
SUBNET=172.17.0.0/16
WAN_HOST=203.0.113.1 # the host's address on the outside (its "eth0")
WAN_PEER=203.0.113.2 # somewhere outside: the namespace wan
IPV6=0               # --ipv6: dual-stack, as dockerd --ipv6 --fixed-cidr-v6
SUBNET6=fd00:17::/64
WAN_HOST6=2001:db8:ff::1
WAN_PEER6=2001:db8:ff::2

usage() {
    cat <<'USAGE'
Usage: scripts/docker-bridge.sh [--containers N] [--subnet CIDR] [--ipv6]
                                [--sandbox | --host | --here] [--explain] [--keep]

What `docker run` sets up on Docker's default network, step by step:
  - a bridge docker0 with the subnet's first address, the containers' gateway;
  - N containers c1..cN (default 2), each a namespace with eth0 on a veth pair whose other
    end (veth-c1, ...) is a port of docker0, the next addresses of the subnet, and a
    default route via docker0's address;
  - IPv4 forwarding on (ipfwd on), and the subnet masqueraded on its way out
    (natctl masquerade add SUBNET --not-out docker0: Docker's MASQUERADE rule);
  - port 8080 of the host published to port 80 of c1 (natctl publish add: docker run -p);
  - the outside world: a namespace wan (203.0.113.2) on a veth pair whose end wan0 is the
    host's outside interface (203.0.113.1).
Proofs: the containers ping each other and their gateway; c1 connects to a TCP server in
wan, which sees the host's address 203.0.113.1 (masquerade); a client in wan connects to
203.0.113.1:8080, and the server in c1 sees the client's own address 203.0.113.2.

  --containers N   how many containers, 2 to 200 (default 2)
  --subnet CIDR    the bridge's subnet, a prefix of /8 to /29 (default 172.17.0.0/16);
                   not overlapping 203.0.113.0/24
  --ipv6           dual-stack, as dockerd --ipv6 --fixed-cidr-v6 fd00:17::/64: docker0 also
                   has fd00:17::1/64, container i fd00:17::(i+1) with a default route via
                   it, wan 2001:db8:ff::2 behind the host's 2001:db8:ff::1; IPv6 forwarding,
                   masquerade and the published port too (natctl's table ip6 natctl), and
                   every proof again over IPv6

USAGE
    np_common_help
}

np_own_option() {
    case $1 in
    --containers | --subnet)
        [ $# -ge 2 ] || np_usage_error "$1 needs a value"
        NP_TOOK=2
        if [ "$1" = --containers ]; then CONTAINERS=$2; else SUBNET=$2; fi
        ;;
    --ipv6)
        NP_TOOK=1
        IPV6=1
        ;;
    esac
}

ip2int() {
    local IFS=.
    # shellcheck disable=SC2086 # split on the dots
    set -- $1
    echo $((($1 << 24) + ($2 << 16) + ($3 << 8) + $4))
}
int2ip() { echo "$(($1 >> 24 & 255)).$(($1 >> 16 & 255)).$(($1 >> 8 & 255)).$(($1 & 255))"; }

# The checks of the two options (before anything is made); sets PREFIX and NET, the subnet's
# first address as a number.
np_check_options() {
    if ! [[ $CONTAINERS =~ ^[0-9]{1,3}$ ]] || ((CONTAINERS < 2 || CONTAINERS > 200)); then
        np_usage_error "--containers: a number from 2 to 200 (container to container needs two), not '$CONTAINERS'"
    fi
    local re='^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})/([0-9]{1,2})$' o
    [[ $SUBNET =~ $re ]] || np_usage_error "--subnet: an IPv4 CIDR like 172.17.0.0/16, not '$SUBNET'"
    for o in 1 2 3 4; do
        [ "${BASH_REMATCH[o]}" -le 255 ] || np_usage_error "--subnet: '$SUBNET' is not an IPv4 address"
    done
    PREFIX=${BASH_REMATCH[5]}
    ((PREFIX >= 8 && PREFIX <= 29)) || np_usage_error "--subnet: a prefix from /8 to /29, not /$PREFIX"
    local mask=$(((0xffffffff << (32 - PREFIX)) & 0xffffffff))
    NET=$(($(ip2int "${SUBNET%/*}") & mask))
    [ $((NET + 1 + CONTAINERS)) -lt $((NET + (1 << (32 - PREFIX)) - 1)) ] ||
        np_usage_error "--subnet: $SUBNET has no room for a gateway and $CONTAINERS containers"
    local short=$((PREFIX < 24 ? PREFIX : 24))
    local smask=$(((0xffffffff << (32 - short)) & 0xffffffff))
    [ $((NET & smask)) != $(($(ip2int "$WAN_HOST") & smask)) ] ||
        np_usage_error "--subnet: $SUBNET overlaps the outside network 203.0.113.0/24"
    SUBNET=$(int2ip "$NET")/$PREFIX
}

np_begin docker-bridge "$@"

GATEWAY=$(int2ip $((NET + 1)))
addr() { int2ip $((NET + 1 + $1)); } # container i's address
GATEWAY6=${SUBNET6%::*}::1
addr6() { printf '%s::%x' "${SUBNET6%::*}" $((1 + $1)); } # container i's IPv6 address

np_say "# the outside world: a namespace wan, reached through the host's interface wan0"
np_wan "$WAN_HOST/24" "$WAN_PEER/24"
if ((IPV6)); then
    np_run ifctl addr add wan0 "$WAN_HOST6/64"
    np_run nsexec exec wan ifctl addr add eth0 "$WAN_PEER6/64"
fi
np_say "# docker0: the bridge every container is plugged into; its address is their gateway"
np_bridge docker0 "$GATEWAY/$PREFIX"
((IPV6)) && np_run ifctl addr add docker0 "$GATEWAY6/64"
for ((i = 1; i <= CONTAINERS; i++)); do
    np_say "# container c$i: a namespace, eth0 on a veth pair to docker0, an address, a default route"
    np_container "c$i" "veth-c$i" docker0 "$(addr "$i")/$PREFIX" "$GATEWAY"
    if ((IPV6)); then
        np_run nsexec exec "c$i" ifctl addr add eth0 "$(addr6 "$i")/64"
        np_run nsexec exec "c$i" ipfwd route add -6 default via "$GATEWAY6"
    fi
done
np_say "# the host routes for its containers: IPv4 forwarding on"
np_forward_on
if ((IPV6)); then
    np_say "# and IPv6 forwarding"
    np_forward6_on
fi
np_say "# the way out: what leaves the subnet by any interface but docker0 takes the host's address"
np_nat masquerade add "$SUBNET" --not-out docker0
((IPV6)) && np_nat masquerade add "$SUBNET6" --not-out docker0
np_say "# the way in: docker run -p 8080:80 (port 8080 of the host goes to port 80 of c1)"
np_nat publish add 8080 "$(addr 1):80"
((IPV6)) && np_nat publish add 8080 "[$(addr6 1)]:80"
np_run natctl list
if ((IPV6)); then
    np_say "# IPv6 addresses are usable once duplicate address detection is done (about a second)"
    for ns in - wan $(seq -f 'c%g' 1 "$CONTAINERS"); do np_wait_dad "$ns"; done
fi

np_say "# proofs: container to container, across docker0"
for ((i = 2; i <= CONTAINERS; i++)); do
    np_prove_ping "c1 reaches c$i ($(addr "$i"))" c1 "$(addr "$i")"
done
np_prove_ping "c$CONTAINERS reaches c1 ($(addr 1))" "c$CONTAINERS" "$(addr 1)"
np_prove_ping "c1 reaches its gateway, docker0 ($GATEWAY)" c1 "$GATEWAY"
np_say "# proof: container to the outside; wan must see the host's address, not the container's"
np_server wan wan 9000
np_prove_tcp "c1 connects to wan ($WAN_PEER:9000), masqueraded" c1 "$WAN_PEER" 9000 "wan sees $WAN_HOST"
np_say "# proof: the outside to the published port; c1 must see the client's own address"
np_server c1 c1 80
np_prove_tcp "wan connects to the host's published port ($WAN_HOST:8080), served by c1" wan "$WAN_HOST" 8080 "c1 sees $WAN_PEER"
if ((IPV6)); then
    np_say "# the same proofs over IPv6"
    np_prove_ping "IPv6: c1 reaches c2 ($(addr6 2))" c1 "$(addr6 2)"
    np_prove_ping "IPv6: c2 reaches c1 ($(addr6 1))" c2 "$(addr6 1)"
    np_prove_ping "IPv6: c1 reaches its gateway, docker0 ($GATEWAY6)" c1 "$GATEWAY6"
    np_server wan wan 9000 6
    np_prove_tcp "IPv6: c1 connects to wan ([$WAN_PEER6]:9000), masqueraded" c1 "$WAN_PEER6" 9000 "wan sees $WAN_HOST6"
    np_server c1 c1 80 6
    np_prove_tcp "IPv6: wan connects to the host's published port ([$WAN_HOST6]:8080), served by c1" wan "$WAN_HOST6" 8080 "c1 sees $WAN_PEER6"
fi
np_run natctl list
np_finish
