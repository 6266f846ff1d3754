#!/usr/bin/env bash
# qemu-user.sh: which netplumb commands, by kernel path, work when the multicall binary of
# another architecture runs under qemu-user (qemu-aarch64-static): netlink sockets pass
# through, but an ioctl or a socket option reaches the kernel only when qemu translates its
# number and structure. Each row runs one command under emulation, then checks its effect
# with a native tool nobody here wrote (ip -j, bridge-utils' brctl, nft, iptables-legacy-save,
# /sys, /proc). It prints a table, the one in README (Embedded), and fails when a row does
# not do what the table says: one that worked and fails now, or one that failed and works.
set -uo pipefail
# shellcheck source=scripts/lib-demo.sh
. "$(dirname "$0")/lib-demo.sh"

usage() {
    cat <<'USAGE'
Usage: NETPLUMB_BIN=DIR scripts/qemu-user.sh

DIR holds a wrapper per program that runs it under emulation (scripts/embedded-smoke.sh
makes them: exec qemu-aarch64-static DIR/arm/PROG "$@"). Prints, per program and
--via path: works, or fails with the error seen; exit 1 when a row differs from the
measured table (README, Embedded).

USAGE
    np_common_help
}

np_begin qemu-user "$@"
# Only in its own sandbox: nothing is recorded for undoing, the sandbox takes it all away.
[ "$NP_MODE" = sandboxed ] || np_die "runs only in its sandbox (the default): it makes things and leaves them for the sandbox to take away"
for t in ip brctl nft iptables-legacy-save; do
    command -v "$t" >/dev/null || np_die "missing oracle tool: $t"
done
# bridge-utils' brctl, not ours (ours is first on PATH).
BU=$(PATH=/usr/sbin:/sbin command -v brctl)
np_is_ours "$BU" && np_die "no bridge-utils brctl in /usr/sbin or /sbin"

ROWS=0
DIFFER=0
OUT=$NP_RUN/out
ERR=$NP_RUN/err
printf '| program | --via | command | kernel call | under qemu-user |\n|---|---|---|---|---|\n' >"$NP_RUN/table"

# row EXPECT VIA CALL CHECK -- PROG ARGS...: runs PROG ARGS (our program, emulated), then
# CHECK (a shell snippet, native; $OUT holds the command's stdout) when it exited 0.
# EXPECT is what was measured: works, or fails.
row() {
    local expect=$1 via=$2 call=$3 check=$4 got why
    shift 5
    ROWS=$((ROWS + 1))
    if "$@" >"$OUT" 2>"$ERR"; then
        if bash -c "$check" >/dev/null 2>&1; then
            got=works
            why=works
        else
            got=fails
            why="fails: exit 0 but the check failed ($check)"
        fi
    else
        got=fails
        why="fails: $(head -1 "$ERR")"
    fi
    local shown=$*
    shown=${shown#--via "$via" }
    [ "$via" != - ] || via=""
    printf '| `%s` | %s | `%s` | %s | %s |\n' "$1" "${via:-default}" "$shown" "$call" "${why//|/\\|}" >>"$NP_RUN/table"
    if [ "$got" != "$expect" ]; then
        DIFFER=$((DIFFER + 1))
        np_say "DIFFERS from the measured table (was: $expect): $* -> $why"
    fi
}

# Setup, native, so that each row stands alone: veth pairs to enslave and address, a bridge
# with a port, a named namespace, the legacy nat table instantiated in this namespace.
{
    ip link add v0a type veth peer name v0b &&
        ip link add v1a type veth peer name v1b &&
        ip link add v2a type veth peer name v2b &&
        ip link add br0 type bridge && ip link set v2a master br0 && ip link set br0 up &&
        ip link add br2 type bridge &&
        ip netns add n1 &&
        iptables-legacy -t nat -S >/dev/null
} || np_die "cannot set up the sandbox natively"

# brctl: bridges by ioctl (SIOCBR*, and SIOCDEVPRIVATE carrying BRCTL_* commands), sysfs and
# netlink.
row fails ioctl SIOCBRADDBR 'ip -d -j link show br1 | grep -q "\"info_kind\":\"bridge\""' -- brctl addbr br1
row works netlink "RTM_NEWLINK kind bridge" 'ip -d -j link show br3 | grep -q "\"info_kind\":\"bridge\""' -- brctl --via netlink addbr br3
row fails ioctl SIOCBRADDIF 'ip -j link show v0a | grep -q "\"master\":\"br0\""' -- brctl addif br0 v0a
row works netlink "RTM_NEWLINK IFLA_MASTER" 'ip -j link show v1a | grep -q "\"master\":\"br0\""' -- brctl --via netlink addif br0 v1a
row fails ioctl "SIOCGIFBR BRCTL_GET_BRIDGES" '[ "$(cat '"$OUT"')" = "$('"$BU"' show)" ]' -- brctl show
row works netlink "RTM_GETLINK dumps" '[ "$(cat '"$OUT"')" = "$('"$BU"' show)" ]' -- brctl --via netlink show
row works sysfs "/sys/class/net/*/bridge, brif/" '[ "$(cat '"$OUT"')" = "$('"$BU"' show)" ]' -- brctl --via sysfs show
row fails ioctl "SIOCDEVPRIVATE BRCTL_SET_BRIDGE_STP_STATE" '[ "$(cat /sys/class/net/br2/bridge/stp_state)" = 1 ]' -- brctl --via ioctl stp br2 on
row works netlink "RTM_NEWLINK IFLA_BR_FORWARD_DELAY" '[ "$(cat /sys/class/net/br0/bridge/forward_delay)" = 700 ]' -- brctl setfd br0 7
row works sysfs "BR/bridge/ageing_time" '[ "$(cat /sys/class/net/br0/bridge/ageing_time)" = 12300 ]' -- brctl --via sysfs setageing br0 123
row works netlink "RTM_SETLINK IFLA_BRPORT_COST" '[ "$(cat /sys/class/net/v2a/brport/path_cost)" = 42 ]' -- brctl setpathcost br0 v2a 42
row fails ioctl "SIOCDEVPRIVATE BRCTL_SET_PATH_COST" '[ "$(cat /sys/class/net/v2a/brport/path_cost)" = 43 ]' -- brctl --via ioctl setpathcost br0 v2a 43
row fails netlink "RTM_GETNEIGH AF_BRIDGE" 'grep -q "yes" '"$OUT" -- brctl showmacs br0
row fails ioctl "SIOCDEVPRIVATE BRCTL_GET_FDB_ENTRIES" 'grep -q "yes" '"$OUT" -- brctl --via ioctl showmacs br0
row works netlink "RTM_GETLINK by IFLA_MASTER" 'grep -q "^v2a " '"$OUT" -- brctl showstp br0
row fails ioctl "SIOCDEVPRIVATE BRCTL_GET_PORT_INFO" 'grep -q "^v2a " '"$OUT" -- brctl --via ioctl showstp br0
row fails ioctl SIOCBRDELIF '! ip -j link show v2a | grep -q "\"master\""' -- brctl delif br0 v2a
row fails ioctl SIOCBRDELBR '! ip link show br2' -- brctl delbr br2
ip link set br0 down || np_die "cannot take br0 down"
row works netlink RTM_DELLINK '! ip link show br0' -- brctl --via netlink delbr br0

# vethctl: netlink only; show --via ethtool is SIOCETHTOOL.
row works - "RTM_NEWLINK kind veth" 'ip -j link show va | grep -q "\"link\":\"vb\""' -- vethctl add va peer vb --up
row works netlink "RTM_GETLINK dump, RTM_GETNSID" 'grep -q "^va .*vb" '"$OUT" -- vethctl show
row fails ethtool "SIOCETHTOOL ETHTOOL_GSTATS" 'grep -q "^va .*vb" '"$OUT" -- vethctl --via ethtool show
row fails - "RTM_NEWLINK IFLA_NET_NS_FD" 'ip -n n1 link show vb' -- vethctl netns vb n1
row works - "RTM_DELLINK" '! ip link show va' -- vethctl del va

# ifctl: netlink and the ifconfig ioctls.
row works netlink "RTM_NEWLINK IFF_UP" 'ip -j link show v0b | grep -q "\"UP\""' -- ifctl up v0b
row works netlink RTM_NEWADDR 'ip -j addr show v0b | grep -q "\"local\":\"198.51.100.1\""' -- ifctl addr add v0b 198.51.100.1/24
row works netlink "RTM_NEWLINK IFLA_MTU" 'ip -j link show v0b | grep -q "\"mtu\":1400"' -- ifctl mtu v0b 1400
row works netlink "RTM_GETLINK + RTM_GETADDR" 'grep -q 198.51.100.1 '"$OUT" -- ifctl show v0b
row works netlink "RTM_NEWLINK IFLA_IFNAME" 'ip link show v0c' -- ifctl rename v0a v0c
row works ioctl SIOCSIFFLAGS 'ip -j link show v1b | grep -q "\"UP\""' -- ifctl --via ioctl up v1b
row works ioctl "SIOCSIFADDR + SIOCSIFNETMASK" 'ip -j addr show v1b | grep -q "\"local\":\"203.0.113.1\",\"prefixlen\":24"' -- ifctl --via ioctl addr add v1b 203.0.113.1/24
row works ioctl SIOCSIFMTU 'ip -j link show v1b | grep -q "\"mtu\":1300"' -- ifctl --via ioctl mtu v1b 1300
row works ioctl SIOCSIFHWADDR 'ip -j link show v2b | grep -q "02:00:00:00:00:0a"' -- ifctl --via ioctl mac v2b 02:00:00:00:00:0a
row works ioctl "SIOCGIFCONF, SIOCGIFNETMASK" 'grep -q 203.0.113.1 '"$OUT" -- ifctl --via ioctl show v1b
row fails ioctl SIOCSIFNAME 'ip link show v2c' -- ifctl --via ioctl rename v2b v2c

# ipfwd: /proc/sys, and routes by netlink or SIOCADDRT.
row works - /proc/sys/net/ipv4/ip_forward '[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ]' -- ipfwd on
row works netlink RTM_NEWROUTE 'ip -j route show 192.0.2.0/24 | grep -q 198.51.100.2' -- ipfwd route add 192.0.2.0/24 via 198.51.100.2
row works ioctl SIOCADDRT 'ip -j route show 10.9.0.0/16 | grep -q 203.0.113.2' -- ipfwd --via ioctl route add 10.9.0.0/16 via 203.0.113.2
row works ioctl SIOCDELRT '! ip route show 10.9.0.0/16 | grep -q .' -- ipfwd --via ioctl route del 10.9.0.0/16 via 203.0.113.2
row works netlink "RTM_GETROUTE" 'grep -q 192.0.2.0/24 '"$OUT" -- ipfwd route show
row works ioctl "/proc/net/route" 'grep -q 192.0.2.0/24 '"$OUT" -- ipfwd --via ioctl route show

# nsexec: mounts, unshare and setns.
row fails - "unshare(CLONE_NEWNET), mount MS_BIND" 'ip netns list | grep -q "^n2"' -- nsexec add n2
row works - RTM_GETNSID 'grep -q "^n1" '"$OUT" -- nsexec list
row fails - "setns, unshare(CLONE_NEWNS), execvp" '[ "$(cat '"$OUT"')" = "$(ip netns exec n1 readlink /proc/self/ns/net)" ]' -- nsexec exec n1 readlink /proc/self/ns/net
row works - "umount2, unlink" '! [ -e /run/netns/n1 ]' -- nsexec del n1

# natctl: nf_tables over NETLINK_NETFILTER, or legacy xtables socket options.
row fails nftables "NETLINK_NETFILTER batch" 'nft list table ip natctl | grep -q masquerade' -- natctl masquerade add 10.88.0.0/16
row fails nftables "NFT_MSG_GETTABLE, GETRULE dump" 'head -1 '"$OUT"' | grep -q "^id"' -- natctl list
row fails iptables "IPT_SO_GET_INFO, IPT_SO_SET_REPLACE" 'iptables-legacy-save -t nat | grep -q "10.88.0.0/16.*MASQUERADE"' -- natctl --via iptables masquerade add 10.88.0.0/16
row fails iptables "IPT_SO_GET_INFO, IPT_SO_GET_ENTRIES" 'head -1 '"$OUT"' | grep -q "^id"' -- natctl --via iptables list

# vxlanctl: netlink only. fdbctl: a VXLAN device's entries by netlink, a bridge's table by
# netlink, ioctl or sysfs.
{
    ip link add vx1 type vxlan id 7 dstport 4789 dev v1b &&
        ip link add br5 type bridge && ip link add v5a type veth peer name v5b &&
        ip link set v5a master br5 && ip link set br5 up && ip link set v5a up
} || np_die "cannot set up the VXLAN and bridge for vxlanctl and fdbctl"
row works - "RTM_NEWLINK kind vxlan, IFLA_VXLAN_*" 'ip -d -j link show vx0 | grep -q "\"id\":42"' -- vxlanctl add vx0 id 42 dev v1b
row works - "RTM_GETLINK dump, IFLA_INFO_DATA" 'grep -q "^vx1 " '"$OUT" -- vxlanctl show
row works - "RTM_DELLINK" '! ip link show vx1' -- vxlanctl del vx1
row fails netlink "RTM_NEWNEIGH AF_BRIDGE NTF_SELF" 'bridge fdb show dev vx0 | grep -q "dst 192.0.2.9"' -- fdbctl add vx0 00:11:22:33:44:55 dst 192.0.2.9
row fails netlink "RTM_GETNEIGH AF_BRIDGE" 'grep -q "br5\|v5a" '"$OUT" -- fdbctl show br5
row fails ioctl "SIOCDEVPRIVATE BRCTL_GET_FDB_ENTRIES" 'grep -q "v5a" '"$OUT" -- fdbctl --via ioctl show br5
row works sysfs "BR/brforward" 'grep -q "v5a" '"$OUT" -- fdbctl --via sysfs show br5

# neighctl: neighbour entries by netlink, or IPv4's ARP ioctls and /proc/net/arp.
{
    ip link add v3a type veth peer name v3b && ip addr add 192.0.2.1/24 dev v3a &&
        ip link set v3a up && ip link set v3b up &&
        ip neigh add 192.0.2.9 lladdr 02:00:00:00:00:09 dev v3a nud permanent
} || np_die "cannot set up the veth pair for neighctl"
row fails netlink "RTM_NEWNEIGH NUD_PERMANENT" 'ip neigh show dev v3a | grep -q "192.0.2.7 .*02:00:00:00:00:07 PERMANENT"' -- neighctl add v3a 192.0.2.7 02:00:00:00:00:07
row fails netlink "RTM_GETNEIGH dump" 'grep -q 192.0.2.9 '"$OUT" -- neighctl show v3a
row fails ioctl "SIOCGARP, SIOCSARP" 'ip neigh show dev v3a | grep -q "192.0.2.8 .*02:00:00:00:00:08 PERMANENT"' -- neighctl --via ioctl add v3a 192.0.2.8 02:00:00:00:00:08
row works ioctl "/proc/net/arp" 'grep -q 192.0.2.9 '"$OUT" -- neighctl --via ioctl show v3a
row works ioctl SIOCDARP '! ip neigh show dev v3a | grep -q 192.0.2.9' -- neighctl --via ioctl del v3a 192.0.2.9

np_say "== $ROWS commands under emulation; each program's kernel paths:"
cat "$NP_RUN/table"
if [ "$DIFFER" -gt 0 ]; then
    np_say "== qemu-user: $DIFFER rows differ from the measured table (README, Embedded): measure again and update both"
    exit 1
fi
np_say "== qemu-user: every row as measured"
exit 0
