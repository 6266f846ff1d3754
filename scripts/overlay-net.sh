#!/usr/bin/env bash
# overlay-net.sh: a multi-host overlay network by hand, Docker's classic overlay with etcd as
# the store, one kernel step at a time: node1 defines the network in etcd, every node finds it
# there and makes the same network on its own host (a bridge, a VXLAN device, flooding entries
# toward the other hosts), a container on each host registers its address and MAC in etcd,
# and each host programs the others' containers into its kernel (FDB and neighbour entries),
# so the containers reach each other across the hosts and ARP never crosses the underlay.
set -uo pipefail
# shellcheck source=scripts/lib-demo.sh
. "$(dirname "$0")/lib-demo.sh"

HOSTS=2
AGENT=0
NET=ov1
VNI=4097
SUBNET=10.20.0.0/24
UNDERLAY_MTU=1500
PREFIX=/netplumb/v1

usage() {
    cat <<'USAGE'
Usage: scripts/overlay-net.sh [--hosts N] [--agent] [--sandbox | --host | --here] [--explain] [--keep]

The overlay network of a container runtime across hosts, by hand (Docker's classic overlay
driver kept its networks and endpoints in a key-value store; here it is etcd):
  - hosts h1..hN (default 2) are network namespaces, each with eth0 on an underlay bridge ul
    (192.0.2.0/24, MTU 1500), and an etcd member on its underlay address (one cluster of N,
    Debian's etcd 3.4, started and stopped by this script, its data in a temporary
    directory; nothing listens outside the sandbox's underlay);
  - node1 defines network ov1 (VNI 4097, subnet 10.20.0.0/24) with etcdctl put;
  - every host registers itself (its VTEP address), finds ov1 with etcdctl get and makes the
    same network on its own host: a bridge ov1, a VXLAN device vx-ov1 (nolearning proxy,
    on eth0, MTU derived from it) enslaved to it, and a flooding entry (00:00:00:00:00:00)
    toward every other host it finds in etcd;
  - a container cN on each host (a namespace, eth0 on a veth pair into ov1 at the overlay's
    MTU, an address from the subnet, a MAC derived from it as Docker does), registered in
    etcd;
  - each host reads the others' endpoints from etcd and programs them: an FDB entry (the
    container's MAC is behind that host's VTEP) and a neighbour entry (its address is at
    that MAC), on the ioctl path on h1 and the netlink path on the others.
Proofs: the containers ping each other across the hosts; a ping with don't-fragment at the
overlay's MTU passes and one byte more fails; the traffic crossed the underlay as VXLAN
(UDP 4789, counted on the receiving host's eth0), and no ARP request crossed it inside VXLAN
(the VXLAN devices answered every ARP request from their neighbour entries).

With --agent, the same story driven by overlayctl instead of by hand: node1 creates ov1 with
`overlayctl net create` (VNI and subnet in one etcd transaction); an agent, `overlayctl watch`,
runs on every host (registers the host under a lease, makes the network there, bridge ob-ov1 and
VXLAN device ov-ov1, and programs every other host's containers from the store); each container
is made with `overlayctl ep add ov1 cN --name cN` (address reserved in etcd, veth, MAC, MTU,
route). Proofs as above, and also: every container reaches every other by name (the agents keep
/etc/netns/cN/hosts), and `overlayctl status` on every host finds its kernel equal to the store.

  --hosts N   how many hosts, 2 or 3 (default 2)
  --agent     drive it with overlayctl and its agent (see above)

USAGE
    np_common_help
}

np_own_option() {
    if [ "$1" = --hosts ]; then
        [ $# -ge 2 ] || np_usage_error "--hosts needs a value"
        HOSTS=$2
        NP_TOOK=2
    elif [ "$1" = --agent ]; then
        AGENT=1
        NP_TOOK=1
    fi
}

np_check_options() {
    [[ $HOSTS =~ ^[23]$ ]] || np_usage_error "--hosts: 2 or 3, not '$HOSTS'"
    command -v etcd >/dev/null && command -v etcdctl >/dev/null ||
        np_die "etcd and etcdctl are needed (Debian: apt-get install etcd-server etcd-client)"
    command -v nft >/dev/null || np_die "nft is needed for the proofs' counters (Debian: apt-get install nftables)"
    [ "$AGENT" = 0 ] || NP_PROGRAMS+=" overlayctl"
}

np_begin overlay-net "$@"

vtep() { echo "192.0.2.$1"; }
caddr() { echo "10.20.0.$(($1 + 1))"; }
# Docker's container MAC: 02:42 and the four bytes of the address.
cmac() { printf '02:42:0a:14:00:%02x' "$(($1 + 1))"; }
etcdctl_in() { np_in "h$1"; ETCDCTL=("${NP_IN[@]}" etcdctl --endpoints "http://$(vtep "$1"):2379"); }

# Stops the agents, then the etcd members this run started, by PID, and waits for them to go:
# on every exit path (a sandbox lives on while a process holds it, so --keep in a sandbox stops
# them too).
AGENT_PIDS=()
ETCD_PIDS=()
stop_pids() {
    local p
    for p in "$@"; do kill "$p" 2>/dev/null; done
    for p in "$@"; do np_wait_gone "$p"; done
}
ov_on_exit() {
    local rc=$?
    [ "$NP_KEEP" = 1 ] && [ "$NP_MODE" != sandboxed ] || { stop_pids "${AGENT_PIDS[@]}" && stop_pids "${ETCD_PIDS[@]}"; }
    (exit "$rc") # np_on_exit exits with the status the script ended with
    np_on_exit
}
trap ov_on_exit EXIT

np_say "# the underlay: a bridge ul joining the hosts' eth0 (192.0.2.0/24, MTU $UNDERLAY_MTU)"
np_bridge ul
for ((h = 1; h <= HOSTS; h++)); do
    np_say "# host h$h: a namespace with eth0 on the underlay at $(vtep "$h")"
    np_netns "h$h"
    np_run vethctl add "ul$h" peer eth0 --peer-netns "h$h" --master ul --mtu "$UNDERLAY_MTU" --up
    np_made link "ul$h"
    np_run nsexec exec "h$h" ifctl addr add eth0 "$(vtep "$h")/24"
done

np_say "# the store: an etcd member on each host's underlay address, one cluster"
ETCD_DATA=$(mktemp -d "$NP_RUN/etcd.XXXXXX") || np_die "cannot make a directory for etcd's data"
np_made tree "$ETCD_DATA"
CLUSTER=""
for ((h = 1; h <= HOSTS; h++)); do CLUSTER+="${CLUSTER:+,}h$h=http://$(vtep "$h"):2380"; done
for ((h = 1; h <= HOSTS; h++)); do
    np_background "$NP_RUN/etcd-h$h.log" nsexec exec "h$h" etcd --name "h$h" \
        --data-dir "$ETCD_DATA/h$h" \
        --listen-client-urls "http://$(vtep "$h"):2379" --advertise-client-urls "http://$(vtep "$h"):2379" \
        --listen-peer-urls "http://$(vtep "$h"):2380" --initial-advertise-peer-urls "http://$(vtep "$h"):2380" \
        --initial-cluster "$CLUSTER" --initial-cluster-state new --initial-cluster-token overlay-net
    ETCD_PIDS+=("$NP_PID")
done
etcd_healthy() { "${ETCDCTL[@]}" endpoint health --cluster >/dev/null 2>&1; }
etcdctl_in 1
for ((i = 0; i < 300; i++)); do etcd_healthy && break; sleep 0.1; done
etcd_healthy || { cat "$NP_RUN"/etcd-h*.log >&2; np_die "the etcd cluster did not become healthy within 30 s"; }
np_run "${ETCDCTL[@]}" endpoint health --cluster

OVERLAY_MTU=$((UNDERLAY_MTU - 50))
CADDR=()
# The story by hand: etcdctl for the store, vxlanctl/fdbctl/neighctl for the kernel.
by_hand() {
    local h vni other via key value ip mac at
    np_say "# node1 defines the network: its VNI and subnet, in etcd"
    np_run "${ETCDCTL[@]}" put "$PREFIX/networks/$NET" "vni=$VNI subnet=$SUBNET"

    for ((h = 1; h <= HOSTS; h++)); do
        etcdctl_in "$h"
        np_say "# host h$h registers itself: its VTEP, the address other hosts send its VXLAN traffic to"
        np_run "${ETCDCTL[@]}" put "$PREFIX/hosts/h$h" "vtep=$(vtep "$h") underlay_mtu=$UNDERLAY_MTU"
    done
    for ((h = 1; h <= HOSTS; h++)); do
        etcdctl_in "$h"
        np_say "# host h$h finds network $NET in etcd and makes the same network here"
        np_capture "${ETCDCTL[@]}" get --print-value-only "$PREFIX/networks/$NET" || np_die "h$h: no network $NET in etcd"
        vni=$(sed -n 's/.*vni=\([0-9]*\).*/\1/p' <<<"$NP_OUT")
        [ "$vni" = "$VNI" ] || np_die "h$h read VNI '$vni' for $NET from etcd, expected $VNI"
        np_in "h$h"
        np_run "${NP_IN[@]}" brctl addbr "$NET"
        np_run "${NP_IN[@]}" ifctl up "$NET"
        np_say "# its VXLAN device: VNI $vni from etcd, answering ARP itself (proxy), learning nothing;"
        np_say "# on eth0, so its MTU is eth0's less the 50 bytes of VXLAN over IPv4: $OVERLAY_MTU"
        np_run "${NP_IN[@]}" vxlanctl add "vx-$NET" id "$vni" local "$(vtep "$h")" dev eth0 nolearning proxy --master "$NET" --up
        np_say "# flooding (broadcast, unknown unicast) toward every other host etcd knows"
        np_capture "${ETCDCTL[@]}" get --prefix --print-value-only "$PREFIX/hosts/" || np_die "h$h: cannot read the hosts from etcd"
        for other in $(sed -n 's/.*vtep=\([0-9.]*\).*/\1/p' <<<"$NP_OUT"); do
            [ "$other" = "$(vtep "$h")" ] || np_run "${NP_IN[@]}" fdbctl append "vx-$NET" 00:00:00:00:00:00 dst "$other"
        done
    done

    for ((h = 1; h <= HOSTS; h++)); do
        etcdctl_in "$h"
        np_say "# container c$h on h$h: eth0 on a veth pair into $NET at the overlay's MTU, registered in etcd"
        np_netns "c$h"
        np_run nsexec exec "h$h" vethctl add "veth-c$h" peer eth0 --peer-netns "c$h" --master "$NET" \
            --mtu "$OVERLAY_MTU" --peer-mac "$(cmac "$h")" --up
        np_run nsexec exec "c$h" ifctl addr add eth0 "$(caddr "$h")/24"
        np_run "${ETCDCTL[@]}" put "$PREFIX/networks/$NET/endpoints/$(caddr "$h")" "mac=$(cmac "$h") vtep=$(vtep "$h") host=h$h"
    done

    for ((h = 1; h <= HOSTS; h++)); do
        etcdctl_in "$h"
        via=netlink
        [ "$h" != 1 ] || via=ioctl
        np_say "# host h$h reads the endpoints from etcd and programs the other hosts' containers"
        np_say "# (neighbour entries on the $via path here), so its VXLAN device answers their ARP itself"
        np_capture "${ETCDCTL[@]}" get --prefix "$PREFIX/networks/$NET/endpoints/" || np_die "h$h: cannot read the endpoints"
        np_in "h$h"
        while read -r key && read -r value; do
            ip=${key##*/}
            mac=$(sed -n 's/.*mac=\([0-9a-f:]*\).*/\1/p' <<<"$value")
            at=$(sed -n 's/.*vtep=\([0-9.]*\).*/\1/p' <<<"$value")
            [ "$at" != "$(vtep "$h")" ] || continue
            np_run "${NP_IN[@]}" fdbctl add "vx-$NET" "$mac" dst "$at"
            np_run "${NP_IN[@]}" neighctl --via "$via" add "vx-$NET" "$ip" "$mac"
        done <<<"$NP_OUT"
    done
    for ((h = 1; h <= HOSTS; h++)); do CADDR[h]=$(caddr "$h"); done
}

# The etcd members for host H's overlayctl, its own first (it goes to the next one on a
# transport error or an unavailable member).
members() {
    local o out="http://$(vtep "$1"):2379"
    for ((o = 1; o <= HOSTS; o++)); do [ "$o" = "$1" ] || out+=",http://$(vtep "$o"):2379"; done
    echo "$out"
}
overlayctl_in() { OV=(nsexec exec "h$1" overlayctl --etcd "$(members "$1")" --host "h$1"); }
kernel_equals_store() { "${OV[@]}" status >/dev/null 2>&1; }

# The same story driven by overlayctl: the store written by net create and ep add, every
# host's kernel by its agent.
by_agent() {
    local h i log
    overlayctl_in 1
    np_say "# node1 defines the network: its key and its VNI's key, in one etcd transaction"
    np_run "${OV[@]}" net create "$NET" --vni "$VNI" --subnet "$SUBNET"
    for ((h = 1; h <= HOSTS; h++)); do
        overlayctl_in "$h"
        np_say "# host h$h's agent: registers h$h (its VTEP) under a lease, makes every network of the store here"
        np_say "# (bridge ob-$NET, VXLAN device ov-$NET, flooding toward every other host), then follows the store"
        log=$NP_RUN/agent-h$h.log
        [ -d /run/netplumb ] || np_made dir /run/netplumb
        [ -d /run/netplumb/overlay ] || np_made dir /run/netplumb/overlay
        np_made tree "/run/netplumb/overlay/h$h" # its state: the last revision applied, its endpoints
        np_background "$log" "${OV[@]}" watch
        AGENT_PIDS+=("$NP_PID")
        np_say "h$h's agent is PID $NP_PID (its output in $log)"
        for ((i = 0; i < 300; i++)); do grep -q "synced at revision" "$log" && break; sleep 0.1; done
        grep -q "synced at revision" "$log" || { cat "$log" >&2; np_die "the agent on h$h did not sync within 30 s"; }
        np_say "$(grep "synced at revision" "$log" | head -1)"
    done
    for ((h = 1; h <= HOSTS; h++)); do
        overlayctl_in "$h"
        np_say "# container c$h on h$h: its address reserved in etcd under h$h's lease, eth0 a veth into ob-$NET"
        np_say "# (named ov-$NET inside, the MAC 02:42 and the address, the overlay's MTU), its name c$h known to"
        np_say "# every container of $NET through /etc/netns/NS/hosts, which the agents keep"
        np_netns "c$h"
        np_etc_netns "c$h"
        np_capture "${OV[@]}" ep add "$NET" "c$h" --name "c$h" || np_die "ep add on h$h failed"
        CADDR[h]=${NP_OUT%% *}
    done
    for ((h = 1; h <= HOSTS; h++)); do
        overlayctl_in "$h"
        np_wait_for kernel_equals_store || np_say "h$h: its kernel is not yet equal to the store after 5 s"
    done
}

if [ "$AGENT" = 1 ]; then by_agent; else by_hand; fi

np_say "# counters for the proofs, on each host's eth0: VXLAN packets in (UDP 4789), and VXLAN"
np_say "# packets whose inner frame is an ARP request or reply (ethertype 0x0806 after the"
np_say "# 8-byte VXLAN header and 12 bytes of MACs)"
for ((h = 1; h <= HOSTS; h++)); do
    np_in "h$h"
    np_run "${NP_IN[@]}" nft add table netdev overlayproof
    np_run "${NP_IN[@]}" nft add chain netdev overlayproof in "{ type filter hook ingress device eth0 priority 0; }"
    np_run "${NP_IN[@]}" nft add rule netdev overlayproof in udp dport 4789 counter
    np_run "${NP_IN[@]}" nft add rule netdev overlayproof in udp dport 4789 @ih,160,16 0x0806 counter
done
# counts H: "VXLAN-PACKETS ARP-IN-VXLAN" seen on hH's eth0.
counts() { nsexec exec "h$1" nft list table netdev overlayproof | awk '/counter/ { printf "%s ", $(NF - 2) }'; }

np_say "# proofs: the containers reach each other across the hosts"
for ((a = 1; a <= HOSTS; a++)); do
    for ((b = 1; b <= HOSTS; b++)); do
        [ "$a" != "$b" ] || continue
        # The first packets of a fresh overlay may go before every port forwards: one retry.
        nsexec exec "c$a" ping -c1 -W2 "${CADDR[b]}" >/dev/null 2>&1 || true
        np_prove_ping "c$a on h$a reaches c$b on h$b (${CADDR[b]})" "c$a" "${CADDR[b]}"
        [ "$AGENT" = 0 ] || np_prove_ping "c$a on h$a reaches c$b by its name" "c$a" "c$b"
    done
done
np_say "# proof: the overlay's MTU is $OVERLAY_MTU: a $OVERLAY_MTU-byte packet that may not be fragmented"
np_say "# passes (ICMP payload $((OVERLAY_MTU - 28))), one byte more does not"
np_try nsexec exec c1 ping -c1 -W2 -M do -s $((OVERLAY_MTU - 28)) "${CADDR[2]}"
np_proof $? "c1 reaches c2 with $OVERLAY_MTU-byte packets, don't-fragment set"
rc=0
np_try nsexec exec c1 ping -c1 -W2 -M do -s $((OVERLAY_MTU - 27)) "${CADDR[2]}" || rc=$?
[ "$rc" != 0 ]
np_proof $? "a $((OVERLAY_MTU + 1))-byte packet with don't-fragment set does not pass"
np_say "# proof: the traffic went over the underlay as VXLAN, and no ARP inside it"
before=$(counts 2)
np_try nsexec exec c1 ping -c 5 -i 0.2 -W2 "${CADDR[2]}" >/dev/null
after=$(counts 2)
np_say "h2 eth0, before: ${before}after: $after (VXLAN packets, ARP inside VXLAN)"
read -r v0 _ <<<"$before"
read -r v1 a1 <<<"$after"
[ "$((v1 - v0))" -ge 5 ]
np_proof $? "h2 received c1's pings as VXLAN on UDP 4789 ($((v1 - v0)) packets)"
arp=0
for ((h = 1; h <= HOSTS; h++)); do
    read -r _ a <<<"$(counts "$h")"
    np_say "h$h eth0: $a ARP frames inside VXLAN"
    arp=$((arp + a))
done
[ "$arp" = 0 ]
np_proof $? "no ARP request crossed the underlay (the VXLAN devices answered every one)"
if [ "$AGENT" = 1 ]; then
    np_say "# proof: each host's kernel equals the store (overlayctl status: store vs kernel, exit 1 on a difference)"
    for ((h = 1; h <= HOSTS; h++)); do
        overlayctl_in "$h"
        np_try "${OV[@]}" status
        np_proof $? "h$h: overlayctl status finds the kernel equal to the store"
    done
fi
np_finish
