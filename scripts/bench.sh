#!/bin/bash
# scripts/bench.sh: netplumb's brctl side by side with bridge-utils' brctl and iproute2's ip, in one
# run, with ratios and a PASS/MISS summary against the targets of issue 2.
#
#   scripts/bench.sh                 # ~3-4 minutes on 2 cores; everything inside throwaway namespaces
#   RUNS=20 N=500 scripts/bench.sh   # lighter
#
# What it measures (method and peer figures: ../shared/reference/perf-baseline.md):
#   1. sizes: file and stripped bytes, text, shared libraries (ldd) of our brctl and netplumb,
#      /sbin/brctl and /bin/ip
#   2. one-shot commands, each table interleaved run by run by spawnbench (posix_spawn -> wait4,
#      output to /dev/null): addbr+delbr, addif+delif (one veth made once), show on an idle
#      namespace holding one bridge with one port; medians and ours/bridge-utils, ours/ip
#   3. `brctl show` at N bridges with 2 veth ports each (03-listing.sh's topology, made with
#      `ip -batch`): median wall time, peak RSS (/usr/bin/time), syscalls (strace, if present), and
#      a byte-for-byte cmp of our output (every --via path) against bridge-utils'
#   4. batch: N bridges made by `brctl -b FILE` vs the raw ioctl loop (nlbulk ioctl-addbr) vs
#      `ip -batch`, REPS runs each, order alternating, every run from the same empty namespace
#   5. vethctl and ifctl (issue 3): one-shot `vethctl add`+`del` vs `ip link add/del type veth`,
#      `ifctl up`/`down` and `addr add`/`del` (both --via paths) vs `ip link set`/`ip addr`, and
#      `vethctl del` of DELN pairs in one process vs `ip link del` of each pair, one by one
#   6. nsexec (issue 4): `nsexec add`+`del` vs `ip netns add`+`del`, and `nsexec exec NAME true`
#      vs `nsenter --net=/run/netns/NAME true` vs `ip netns exec NAME true`
#   7. ipfwd: one-shot `ipfwd on`/`off` vs `sysctl -w net.ipv4.ip_forward=1`/`=0` and
#      `ipfwd set IF route_localnet on`/`off` vs `sysctl -w net.ipv4.conf.IF.route_localnet=1`/`=0`
#      (on and off alternate for both tools, so every timed run really writes), `ipfwd route add`
#      +`del` of 203.0.113.0/24 via a gateway (both --via paths) vs `ip route add`+`del`, and
#      peak RSS of `ipfwd route show` vs `ip route show`; all in the scratch namespace's own
#      /proc/sys/net and routing table
#   8. natctl (issue 6), in the scratch namespace's own nf_tables and legacy xtables state:
#      one-shot `natctl publish add PORT 10.88.0.2:80` (+ del) vs `nft add rule ip t publish tcp dport PORT
#      dnat to 10.88.0.2:80` (+ delete by handle; table ip t is nft's own, laid out like natctl's) vs
#      `iptables-legacy -t nat -A NATCTLBENCH ... -j DNAT` (+ -D), with each table already holding 0, 100,
#      500, 1000, 10000 publishes (NAT_SIZES; for nft and iptables-legacy a publish is 1 DNAT + 3 helper
#      masquerade rules; natctl keeps Docker's usual publish as map elements), flushed and refilled for every size; NATN (10000) publishes as one `natctl -b FILE`
#      vs one `nft -f FILE` of the same rules; and the xtables path, `natctl --via iptables`, vs iptables-legacy
#      (one-shot and growth) and vs `iptables-legacy-restore --noflush` of NATN (rows say "not built yet"
#      while `natctl --via iptables list` fails)
#   9. embedded builds (issue 18; not in the default PARTS: PARTS="1 9"): stripped sizes of the
#      glibc, musl and aarch64 multicalls (scripts/build-multicall.sh, --musl, --target aarch64,
#      built first) beside busybox-static's whole binary and bridge-utils' brctl; start-up of the
#      musl multicall against the glibc one, called as brctl through a link: `--version`, and
#      `brctl show` on an idle namespace (one bridge, one port), beside the static release
#      brctl, bridge-utils, and `busybox true` (Debian's busybox brctl has no show), interleaved
#      in one table
#   10. the overlay's kernel steps (issue 13), on a VXLAN device tvx over a veth toa: one-shot
#      `vxlanctl add`+`del` vs `ip link add/del type vxlan`, `fdbctl add`+`del` vs `bridge fdb
#      add/del ... self`, `neighctl add`+`del` (both --via paths) vs `ip neigh add/del` and net-tools'
#      `arp -s`/`arp -d`; and OVN FDB and OVN neighbour entries made and deleted with one `-b FILE`
#      vs `bridge -batch` / `ip -batch` of the same lines (rows say "not built" for a program missing)
#   11. overlayctl (issue 14), three hosts (namespaces) on one machine with a 3-member etcd: convergence
#      (an endpoint's key written on one host -> its FDB and neighbour entries on every other host, timed by
#      `ip -ts monitor neigh`) of our agent beside a shell agent (`etcdctl watch` piped into bridge/ip),
#      OV_BURST endpoints written in bursts until every host holds them, a full resync by `overlayctl sync`,
#      and the agent's peak RSS (needs etcd, etcdctl, python3)
#
# Deleting bridges is what makes this slow: ~16 ms per bridge whatever does it (a per-bridge RCU
# barrier), ~16 s per 1000, and it cannot be overlapped (parallel group deletes take as long).
# Leaving it to an asynchronous netns teardown is worse: on this kernel cleanup_net holds RTNL for
# the whole teardown, so every rtnetlink/bridge ioctl on the machine (the next measurement, other
# people's tests) stalls for up to N x 16 ms.  So the script deletes its bridges itself with one
# group RTM_DELLINK (nlbulk nl-delgroup), which does not block RTNL users elsewhere, between batch
# runs and before exit (also on error or ^C), and the scratch namespace dies empty.
#
# Knobs (env):
#   RUNS       runs of the add/del pair tables, part 8's included (40; each bridge delete costs ~30 ms of
#              RCU wait, each nf_tables rule delete ~16 ms)
#   RUNS_SHOW  runs of the idle `show` table and of the cheap one-shot tables of parts 5, 6, 7 (200)
#   RUNS_BIG   runs of the `show` table at N bridges, and of part 8's batch tables (10)
#   N          bridges for the listing and batch parts (1000; even)
#   REPS       batch creation runs per method, order alternating (3); each costs ~N x 16 ms to undo
#   EXTRA      extra batch rounds allowed when runs were disturbed by other load (1)
#   DELN       pairs for the multi-delete comparison (200); the one-by-one side costs ~17 ms a pair
#   PARTS      which parts to run (default "1 2 3 4 5 6 7 8 10 11"; e.g. PARTS="1 5" for vethctl/ifctl alone;
#              part 1, sizes, always runs)
#   NAT_SIZES  part 8: publishes already in the table for the growth tables ("0 100 500 1000 10000")
#   NATN       part 8: publishes in the batch files (10000)
#   OVN        part 10: FDB and neighbour entries in the batch files (1000)
#   OV_REG     part 11: registrations timed for convergence, half ours, half the shell agent's (400)
#   OV_BURST, OV_BURST_SIZE, OV_GAP_MS   part 11: endpoints written in bursts (1000), per burst (100), and
#              the pause between bursts and between the convergence registrations (30 ms)
#   BATCH_VIA_NETLINK=1   also time `brctl --via netlink -b FILE` in the batch part (+REPS x N x 16 ms)
#   BIN        directory holding our brctl and netplumb (default: build target/release with cargo)
#   SHARED_BENCH  the shared C helpers (default: <project>/../shared/bench); built into a temp copy
#              when that directory is read-only
#   PEER_BRCTL, PEER_IP, PEER_SYSCTL   the peers (/sbin/brctl, /bin/ip, /sbin/sysctl of procps)
#   PEER_NFT, PEER_IPT, PEER_IPT_RESTORE   part 8's peers (/usr/sbin/nft, /usr/sbin/iptables-legacy,
#              /usr/sbin/iptables-legacy-restore)
#
# SAFETY: nothing here may touch the host's network namespace.  The script re-executes itself inside
# `unshare --net --mount --propagation private`, mounts a fresh sysfs on /sys and a tmpfs on /run,
# and refuses to go on (before mounting anything) unless it is provably in a new network and mount
# namespace: not the caller's, not PID 1's, not init_net.  Every link it makes lives in that
# namespace and is deleted by the script before it exits.
set -u
export LC_ALL=C

die() { echo "bench.sh: $*" >&2; exit 1; }

# ---------------------------------------------------------------- scratch namespaces first
# PID 1's namespaces may be unreadable (no CAP_SYS_PTRACE over it: readlink fails and prints
# nothing), so every check fails closed: the outer invocation records its own namespaces, and the
# inner one must see different ones, differ from PID 1's when that is readable, and not be
# init_net (whose nsfs inode is the fixed PROC_NET_INIT_INO, 0xEFFFFFF9, on current kernels).
INIT_NET_INO=net:[4026531833]
if [ "${NETPLUMB_BENCH_INNER:-}" != 1 ]; then
    command -v unshare >/dev/null || die "missing tool: unshare (Debian package util-linux)"
    [ "$(id -u)" = 0 ] || die "needs root (it makes bridges, inside its own network namespace)"
    outer_net=$(readlink /proc/self/ns/net) && [ -n "$outer_net" ] || die "cannot read /proc/self/ns/net"
    outer_mnt=$(readlink /proc/self/ns/mnt) && [ -n "$outer_mnt" ] || die "cannot read /proc/self/ns/mnt"
    exec env NETPLUMB_BENCH_INNER=1 NETPLUMB_BENCH_OUTER_NET="$outer_net" NETPLUMB_BENCH_OUTER_MNT="$outer_mnt" \
        unshare --net --mount --propagation private bash "$0" "$@"
fi
refuse() { die "refusing to run: $* (run it as plain scripts/bench.sh; it makes its own namespaces)"; }
self_net=$(readlink /proc/self/ns/net 2>/dev/null); self_mnt=$(readlink /proc/self/ns/mnt 2>/dev/null)
pid1_net=$(readlink /proc/1/ns/net 2>/dev/null)
[ -n "$self_net" ] && [ -n "$self_mnt" ] || refuse "cannot read this process's namespaces"
[ -n "${NETPLUMB_BENCH_OUTER_NET:-}" ] && [ -n "${NETPLUMB_BENCH_OUTER_MNT:-}" ] || refuse "the outer namespaces are unknown"
[ "$self_net" != "$NETPLUMB_BENCH_OUTER_NET" ] || refuse "still in the caller's network namespace"
[ "$self_mnt" != "$NETPLUMB_BENCH_OUTER_MNT" ] || refuse "still in the caller's mount namespace"
[ -z "$pid1_net" ] || [ "$self_net" != "$pid1_net" ] || refuse "still in PID 1's network namespace"
[ "$self_net" != "$INIT_NET_INO" ] || refuse "in the initial network namespace"
mount -t sysfs sysfs /sys || die "cannot mount a fresh sysfs on /sys"
mount -t tmpfs tmpfs /run || die "cannot mount a tmpfs on /run"
mkdir -p /run/netns
SCRATCH_NS=$(readlink /proc/self/ns/net)

# ---------------------------------------------------------------- knobs, paths, tools
RUNS=${RUNS:-40}
RUNS_SHOW=${RUNS_SHOW:-200}
RUNS_BIG=${RUNS_BIG:-10}
N=${N:-1000}
REPS=${REPS:-3}
DELN=${DELN:-200}
PARTS=" ${PARTS:-1 2 3 4 5 6 7 8 10 11} "
part() { [ "${PARTS#* $1 }" != "$PARTS" ]; }
[ $((N % 2)) = 0 ] && [ "$N" -ge 2 ] || die "N must be even and >= 2 (bridges are paired two by two)"

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED_BENCH=${SHARED_BENCH:-$ROOT/../shared/bench}
PEER_BRCTL=${PEER_BRCTL:-/sbin/brctl}
PEER_IP=${PEER_IP:-/bin/ip}
PEER_SYSCTL=${PEER_SYSCTL:-/sbin/sysctl}
PEER_NFT=${PEER_NFT:-/usr/sbin/nft}
PEER_IPT=${PEER_IPT:-/usr/sbin/iptables-legacy}
PEER_IPT_RESTORE=${PEER_IPT_RESTORE:-/usr/sbin/iptables-legacy-restore}
NAT_SIZES=${NAT_SIZES:-0 100 500 1000 10000}
NATN=${NATN:-10000}
OVN=${OVN:-1000}
OV_REG=${OV_REG:-400}
OV_BURST=${OV_BURST:-1000}
OV_BURST_SIZE=${OV_BURST_SIZE:-100}
OV_GAP_MS=${OV_GAP_MS:-30}
PEER_BRIDGE=${PEER_BRIDGE:-/sbin/bridge}
PEER_ARP=${PEER_ARP:-/usr/sbin/arp}

missing=()
need() { # need TOOL PACKAGE
    if [ "${1#/}" != "$1" ]; then [ -x "$1" ] || missing+=("$1 (Debian package $2)")
    else command -v "$1" >/dev/null || missing+=("$1 (Debian package $2)"); fi
}
need "$PEER_BRCTL" bridge-utils
need "$PEER_IP" iproute2
need /usr/bin/time time
need gcc gcc
need strip binutils
need size binutils
need ldd libc-bin
need cmp diffutils
need awk gawk/mawk
need nsenter util-linux
part 7 && need "$PEER_SYSCTL" procps
part 9 && need file file
part 10 && { need "$PEER_BRIDGE" iproute2; need "$PEER_ARP" net-tools; }
part 11 && { need etcd etcd-server; need etcdctl etcd-client; need python3 python3; need "$PEER_BRIDGE" iproute2; }
part 8 && { need "$PEER_NFT" nftables; need "$PEER_IPT" iptables; need "$PEER_IPT_RESTORE" iptables; }
[ -n "${BIN:-}" ] || need cargo "cargo (or set BIN= to prebuilt binaries)"
[ -d "$SHARED_BENCH" ] || missing+=("the shared helpers at $SHARED_BENCH (set SHARED_BENCH)")
if [ ${#missing[@]} -gt 0 ]; then
    printf 'bench.sh: missing, install it first:\n' >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 1
fi
HAVE_STRACE=0; command -v strace >/dev/null && HAVE_STRACE=1

TMP=$(mktemp -d /tmp/netplumb-bench.XXXXXX) || die "mktemp failed"
H=
# del_all_links: delete every link of the scratch namespace but lo, in ONE group RTM_DELLINK (see
# the header: an asynchronous netns teardown would hold RTNL for the machine).  Group 4242.
del_all_links() {
    local names
    names=$(ls /sys/class/net | grep -vx lo)
    [ -n "$names" ] || return 0
    printf 'link set dev %s group 4242\n' $names | "$PEER_IP" -force -batch - >/dev/null 2>&1
    if [ -n "$H" ] && [ -x "$H/nlbulk" ]; then "$H/nlbulk" nl-delgroup 1 -g 4242 >/dev/null 2>&1
    else "$PEER_IP" link del group 4242 >/dev/null 2>&1; fi
}
OV_PIDS=(); OV_NETNS=()
cleanup() {
    local p n
    for p in "${OV_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${OV_PIDS[@]}"; do wait "$p" 2>/dev/null; done
    for n in "${OV_NETNS[@]}"; do "$PEER_IP" netns del "$n" 2>/dev/null; done
    if [ "$(ls /sys/class/net | wc -l)" -gt 1 ]; then
        echo "# cleanup: deleting the $(($(ls /sys/class/net | wc -l) - 1)) links left (~16 ms per bridge)" >&2
        del_all_links
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# netplumb scripts/bench.sh  $(date -u +%FT%TZ)  kernel $(uname -r)  $(nproc) cpus  netns $SCRATCH_NS"
echo "# RUNS=$RUNS RUNS_SHOW=$RUNS_SHOW RUNS_BIG=$RUNS_BIG N=$N REPS=$REPS"
echo "# peers: $("$PEER_BRCTL" -V 2>&1 | head -1), $("$PEER_IP" -V 2>&1 | head -1)$(part 7 && echo ", $("$PEER_SYSCTL" --version 2>&1 | head -1)")$(part 8 && echo ", $("$PEER_NFT" -v 2>&1 | head -1), $("$PEER_IPT" -V 2>&1 | head -1)")"

# ---------------------------------------------------------------- build
SHARED_BENCH=$(cd "$SHARED_BENCH" && pwd)
# Build in place only if the directory is really meant to be written (root passes -w even on
# r-x directories, so look at the mode bits as well); otherwise into a temp copy.
if [ -w "$SHARED_BENCH" ] && stat -c %A "$SHARED_BENCH" | grep -q '^d.w'; then
    HB=$SHARED_BENCH
else
    HB=$TMP/bench
    cp -r "$SHARED_BENCH/." "$HB/" && chmod -R u+w "$HB" || die "cannot copy $SHARED_BENCH"
fi
echo "# building the C helpers in $HB"
sh "$HB/build.sh" >"$TMP/build-c.log" 2>&1 || { cat "$TMP/build-c.log" >&2; die "$HB/build.sh failed"; }
H=$HB/bin
SB=$H/spawnbench
for t in spawnbench nlbulk lsbr; do [ -x "$H/$t" ] || die "helper $H/$t was not built"; done

if [ -n "${BIN:-}" ]; then
    BIN=$(cd "$BIN" && pwd) || die "BIN=$BIN is not a directory"
    echo "# our binaries: $BIN (BIN set, not building)"
else
    echo "# cargo build --release in $ROOT"
    (cd "$ROOT" && cargo build --release) >"$TMP/build-rs.log" 2>&1 || {
        tail -30 "$TMP/build-rs.log" >&2
        die "cargo build --release failed (set BIN= to a directory with prebuilt brctl and netplumb)"
    }
    BIN=$ROOT/target/release
fi
OURS=$BIN/brctl
NETPLUMB=$BIN/netplumb
VETHCTL=$BIN/vethctl
IFCTL=$BIN/ifctl
NSEXEC=$BIN/nsexec
IPFWD=$BIN/ipfwd
NATCTL=$BIN/natctl
NEIGHCTL=$BIN/neighctl
VXLANCTL=$BIN/vxlanctl
FDBCTL=$BIN/fdbctl
OVERLAYCTL=$BIN/overlayctl
for b in "$OURS" "$NETPLUMB" "$VETHCTL" "$IFCTL" "$NSEXEC" "$IPFWD"; do [ -x "$b" ] || die "no $b"; done
echo "# ours: $("$OURS" -V 2>&1 | head -1)"

# ---------------------------------------------------------------- helpers
# sb OUTFILE ARGS... : run spawnbench, show its table, keep it for parsing
sb() { local f=$1; shift; "$SB" "$@" >"$f" || die "spawnbench failed"; sed 's/^/  /' "$f"; }
# med FILE ROW : median wall us of the ROW-th command (1-based) of a spawnbench table
med() { awk -v r="$2" 'NR == r + 1 { print $(NF - 5) }' "$1"; }
# fails FILE : total non-zero exits in a spawnbench table
fails() { awk 'NR > 1 { s += $NF } END { print s + 0 }' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "n/a" && a + 0 <= b + 0) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "n/a" && a + 0 >= b + 0) }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# rss CMD... : median of 5 peak RSS (KiB) by /usr/bin/time
rss() { for k in 1 2 3 4 5; do /usr/bin/time -f 'RSS %M' "$@" 2>&1 >/dev/null | awk '$1 == "RSS" { print $2 }'; done | median; }
nlinks() { ls /sys/class/net | wc -l; }
WARN=()
warn() { WARN+=("$*"); echo "  !! $*"; }

# ================================================================ 1. sizes
echo
echo "## 1. sizes (stripped = a copy run through strip; libs = ldd '=>' lines, vdso/ld.so excluded)"
declare -A SZ LIBS
printf '  %-34s %10s %10s %10s  %s\n' binary file_B stripped_B text_B "shared libs"
for b in "$OURS" "$VETHCTL" "$IFCTL" "$NSEXEC" "$IPFWD" "$NETPLUMB" "$PEER_BRCTL" "$PEER_IP"; do
    f=$(readlink -f "$b")
    cp "$f" "$TMP/strip.bin" && strip "$TMP/strip.bin" 2>/dev/null
    st=$(stat -c %s "$TMP/strip.bin")
    text=$(size "$f" 2>/dev/null | awk 'NR == 2 { print $1 }')
    if ldd "$f" >/dev/null 2>&1; then
        nl=$(ldd "$f" | grep -c '=>'); names=$(ldd "$f" | awk '/=>/ { sub(/\.so.*/, "", $1); printf "%s ", $1 }')
    else nl=0; names="(static)"; fi
    SZ[$b]=$st; LIBS[$b]=$nl
    printf '  %-34s %10d %10d %10s  %d %s\n' "$b" "$(stat -c %s "$f")" "$st" "${text:-?}" "$nl" "$names"
done

# ================================================================ 2. one-shot commands
if part 2; then
echo
echo "## 2a. addbr + delbr, one process each, interleaved; $RUNS runs (delete is RCU-bound, ~30 ms for every tool)"
sb "$TMP/t-br" -n "$RUNS" -w 2 -- \
    "$PEER_BRCTL" addbr tb0 :: "$PEER_BRCTL" delbr tb0 \
    :: "$PEER_IP" link add tb0 type bridge :: "$PEER_IP" link del tb0 \
    :: "$OURS" addbr tb0 :: "$OURS" delbr tb0 \
    :: "$OURS" --via netlink addbr tb0 :: "$OURS" --via netlink delbr tb0
[ "$(fails "$TMP/t-br")" = 0 ] || warn "addbr/delbr table: $(fails "$TMP/t-br") failed runs (see fail column)"
ADD_BU=$(med "$TMP/t-br" 1); DEL_BU=$(med "$TMP/t-br" 2)
ADD_IP=$(med "$TMP/t-br" 3); DEL_IP=$(med "$TMP/t-br" 4)
ADD_US=$(med "$TMP/t-br" 5); DEL_US=$(med "$TMP/t-br" 6)
ADD_NL=$(med "$TMP/t-br" 7); DEL_NL=$(med "$TMP/t-br" 8)

echo
echo "## 2b. addif + delif of one veth end (tva) on bridge tbr0, interleaved; $RUNS runs"
"$PEER_IP" link add tbr0 type bridge && "$PEER_IP" link add tva type veth peer name tvb || die "setting up tbr0/tva failed"
sb "$TMP/t-if" -n "$RUNS" -w 2 -- \
    "$PEER_BRCTL" addif tbr0 tva :: "$PEER_BRCTL" delif tbr0 tva \
    :: "$PEER_IP" link set tva master tbr0 :: "$PEER_IP" link set tva nomaster \
    :: "$OURS" addif tbr0 tva :: "$OURS" delif tbr0 tva \
    :: "$OURS" --via netlink addif tbr0 tva :: "$OURS" --via netlink delif tbr0 tva
[ "$(fails "$TMP/t-if")" = 0 ] || warn "addif/delif table: $(fails "$TMP/t-if") failed runs (see fail column)"
AIF_BU=$(med "$TMP/t-if" 1); DIF_BU=$(med "$TMP/t-if" 2)
AIF_IP=$(med "$TMP/t-if" 3); DIF_IP=$(med "$TMP/t-if" 4)
AIF_US=$(med "$TMP/t-if" 5); DIF_US=$(med "$TMP/t-if" 6)
AIF_NL=$(med "$TMP/t-if" 7); DIF_NL=$(med "$TMP/t-if" 8)

echo
echo "## 2c. show on an idle namespace: one bridge tbr0 with one port tva (+ lo, tvb); $RUNS_SHOW runs"
"$PEER_IP" link set tva master tbr0 || die "cannot attach tva"
sb "$TMP/t-show" -n "$RUNS_SHOW" -w 10 -- \
    "$PEER_BRCTL" show :: "$PEER_IP" -br link :: "$OURS" show :: "$OURS" --via sysfs show \
    :: "$OURS" --via ioctl show :: "$H/lsbr" nl-dump :: true
[ "$(fails "$TMP/t-show")" = 0 ] || warn "idle show table: $(fails "$TMP/t-show") failed runs"
SH_BU=$(med "$TMP/t-show" 1); SH_IP=$(med "$TMP/t-show" 2); SH_US=$(med "$TMP/t-show" 3)
SH_SYS=$(med "$TMP/t-show" 4); SH_IOC=$(med "$TMP/t-show" 5); SH_C=$(med "$TMP/t-show" 6); SH_TRUE=$(med "$TMP/t-show" 7)
cmp -s <("$PEER_BRCTL" show 2>&1) <("$OURS" show 2>&1) || warn "idle show: our output differs from bridge-utils'"
echo "  peak RSS, median of 5 (KiB): bridge-utils $(rss "$PEER_BRCTL" show)  ours $(rss "$OURS" show)  ours sysfs $(rss "$OURS" --via sysfs show)  ip -br link $(rss "$PEER_IP" -br link)"
"$PEER_IP" link del tva; "$PEER_IP" link del tbr0
fi

# ================================================================ 3. show at N bridges
if part 3; then
echo
echo "## 3. show at N=$N bridges, 2 veth ports each (pair i: p<i>a on br<i>, p<i>b on br<i^1>)"
{
    for ((i = 0; i < N; i++)); do echo "link add br$i group 7 type bridge"; done
    for ((i = 0; i < N; i++)); do echo "link add p${i}a group 7 type veth peer name p${i}b group 7"; done
    for ((i = 0; i < N; i++)); do echo "link set p${i}a master br$i"; echo "link set p${i}b master br$((i ^ 1))"; done
} >/run/topo.batch
t0=$EPOCHREALTIME
"$PEER_IP" -batch /run/topo.batch >/dev/null 2>"$TMP/topo.err" || { head -5 "$TMP/topo.err" >&2; die "ip -batch topology failed"; }
t1=$EPOCHREALTIME
LINKS=$(nlinks)
echo "  topology by ip -batch: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s", b - a }'), $LINKS links, $("$PEER_BRCTL" show | wc -l) lines of brctl show"
[ "$LINKS" = $((3 * N + 1)) ] || warn "expected $((3 * N + 1)) links, found $LINKS"
sb "$TMP/t-big" -n "$RUNS_BIG" -w 2 -- \
    "$PEER_BRCTL" show :: "$OURS" show :: "$OURS" --via sysfs show :: "$OURS" --via ioctl show \
    :: "$PEER_IP" -br link :: "$H/lsbr" nl-dump
[ "$(fails "$TMP/t-big")" = 0 ] || warn "show@$N table: $(fails "$TMP/t-big") failed runs"
BIG_BU=$(med "$TMP/t-big" 1); BIG_US=$(med "$TMP/t-big" 2); BIG_SYS=$(med "$TMP/t-big" 3)
BIG_IOC=$(med "$TMP/t-big" 4); BIG_IP=$(med "$TMP/t-big" 5); BIG_C=$(med "$TMP/t-big" 6)

echo "  output vs bridge-utils (cmp of stdout+stderr and exit status):"
"$PEER_BRCTL" show >"$TMP/show.bu" 2>&1; rc_bu=$?
IDENT=yes
for via in default sysfs ioctl netlink; do
    if [ $via = default ]; then "$OURS" show >"$TMP/show.$via" 2>&1; else "$OURS" --via $via show >"$TMP/show.$via" 2>&1; fi
    rc=$?
    if cmp -s "$TMP/show.bu" "$TMP/show.$via" && [ $rc = $rc_bu ]; then r="identical"
    else r="DIFFERENT ($(cmp "$TMP/show.bu" "$TMP/show.$via" 2>&1 | head -1); exit $rc vs $rc_bu)"
        [ $via = default ] && IDENT=no; warn "show@$N --via $via: output differs from bridge-utils'"; fi
    printf '    %-8s %8d bytes  %s\n' "$via" "$(stat -c %s "$TMP/show.$via")" "$r"
done

echo "  peak RSS (median of 5, KiB) | syscalls (strace -c -f):"
declare -A BIGRSS
big_cmds=("$PEER_BRCTL show" "$OURS show" "$OURS --via sysfs show" "$OURS --via ioctl show" "$PEER_IP -br link" "$H/lsbr nl-dump")
for c in "${big_cmds[@]}"; do
    # shellcheck disable=SC2086
    r=$(rss $c); BIGRSS[$c]=$r
    s="-"
    if [ $HAVE_STRACE = 1 ]; then
        # shellcheck disable=SC2086
        strace -c -f -o "$TMP/st.txt" $c >/dev/null 2>&1; s=$(awk '$NF == "total" { print $4 }' "$TMP/st.txt")
    fi
    printf '    %-44s %7s KiB  %8s syscalls\n' "${c#"$HB"/}" "$r" "$s"
done
RSS_BU=${BIGRSS["$PEER_BRCTL show"]}; RSS_US=${BIGRSS["$OURS show"]}; RSS_SYS=${BIGRSS["$OURS --via sysfs show"]}
t0=$EPOCHREALTIME
"$H/nlbulk" nl-delgroup 1 -g 7 >/dev/null || warn "group delete of the topology failed"
t1=$EPOCHREALTIME
echo "  teardown, one group RTM_DELLINK: $(awk -v a="$t0" -v b="$t1" -v n="$N" 'BEGIN { printf "%.1f s = %.1f ms per bridge", b - a, (b - a) / n * 1e3 }'); $(nlinks) links left"
[ "$(nlinks)" = 1 ] || { warn "topology not fully deleted"; del_all_links; }
fi

# ================================================================ 4. batch creation
if part 4; then
echo
echo "## 4. create $N bridges in one process: our brctl -b vs raw ioctl loop vs ip -batch"
echo "   $REPS runs per method, order alternating, each from an empty namespace (untimed reset: one group delete, ~16 s per 1000)"
for ((i = 0; i < N; i++)); do echo "addbr b$i"; done >/run/ours.batch
for ((i = 0; i < N; i++)); do echo "link add b$i type bridge"; done >/run/ip.batch
METHODS=(ours raw-ioctl ip-batch)
[ "${BATCH_VIA_NETLINK:-0}" = 1 ] && METHODS+=(ours-nl)
reset_bridges() {
    "$H/nlbulk" nl-setgroup "$N" -p b -g 9 -b "$N" >/dev/null 2>&1
    "$H/nlbulk" nl-delgroup 1 -g 9 >/dev/null 2>&1
    [ "$(nlinks)" = 1 ] || { warn "reset left $(nlinks) links"; del_all_links; }
}
# warm-up: a few bridges, the first creation in a namespace is cold
"$H/nlbulk" ioctl-addbr 20 -p b >/dev/null; "$H/nlbulk" nl-setgroup 20 -p b -g 9 -b 20 >/dev/null; "$H/nlbulk" nl-delgroup 1 -g 9 >/dev/null
# Each run is timed whole by spawnbench -n 1 (posix_spawn -> wait4: wall and user+sys CPU in us).
# Undisturbed, creating bridges is CPU-bound in the kernel (wall ~ CPU).  A run whose wall time
# exceeds its CPU time by 30% (and 5 ms) sat waiting, usually for RTNL held by someone else's namespace
# teardown on this shared machine; such rounds are marked and do not count for the ours/raw
# target, and up to EXTRA (1) more rounds are run to get at least 2 clean ours/raw pairs.
EXTRA=${EXTRA:-1}
declare -A BT BC BD
printf '  %-5s %-10s %10s %10s %10s  %s\n' run method wall_us us/bridge cpu_us "exit/links"
clean_pairs=0; CLEAN_RATIOS=""
for ((r = 1; r <= REPS + EXTRA; r++)); do
    if [ $r -gt "$REPS" ] && [ $clean_pairs -ge $((REPS < 2 ? REPS : 2)) ]; then break; fi
    [ $r -gt "$REPS" ] && echo "  (extra round: only $clean_pairs undisturbed ours/raw pairs so far)"
    order=("${METHODS[@]}")
    if [ $((r % 2)) = 0 ]; then order=(); for ((k = ${#METHODS[@]} - 1; k >= 0; k--)); do order+=("${METHODS[k]}"); done; fi
    for m in "${order[@]}"; do
        case $m in
        ours)      set -- "$OURS" -b /run/ours.batch ;;
        ours-nl)   set -- "$OURS" --via netlink -b /run/ours.batch ;;
        raw-ioctl) set -- "$H/nlbulk" ioctl-addbr "$N" -p b ;;
        ip-batch)  set -- "$PEER_IP" -batch /run/ip.batch ;;
        esac
        "$SB" -n 1 -w 0 -- "$@" >"$TMP/b1" || die "spawnbench failed"
        read -r wall cpu fl < <(awk 'NR == 2 { print $(NF - 5), $(NF - 2), $NF }' "$TMP/b1")
        nl=$(nlinks)
        us=$(awk -v w="$wall" -v n="$N" 'BEGIN { printf "%.1f", w / n }')
        dist=0; awk -v w="$wall" -v c="$cpu" 'BEGIN { exit !(w - c > 0.3 * c && w - c > 5000) }' && dist=1
        printf '  %-5s %-10s %10s %10s %10s  %s/%s%s\n' "$r" "$m" "$wall" "$us" "$cpu" "$fl" "$nl" \
            "$([ $dist = 1 ] && echo "  disturbed: $(awk -v w="$wall" -v c="$cpu" 'BEGIN { printf "%.0f", (w - c) / 1000 }') ms off-CPU")"
        [ "$fl" = 0 ] && [ "$nl" = $((N + 1)) ] || warn "batch $m run $r: $fl failures, $nl links (want $((N + 1)))"
        BT[$m]="${BT[$m]:-} $us"; BC[$m]="${BC[$m]:-} $cpu"
        BT[$m.$r]=$us; BD[$m.$r]=$dist
        reset_bridges
    done
    if [ "${BD[ours.$r]}" = 0 ] && [ "${BD[raw-ioctl.$r]}" = 0 ]; then
        clean_pairs=$((clean_pairs + 1)); CLEAN_RATIOS="$CLEAN_RATIOS $(ratio "${BT[ours.$r]}" "${BT[raw-ioctl.$r]}")"
    fi
done
declare -A BM BMIN BCPU
for m in "${METHODS[@]}"; do
    BM[$m]=$(printf '%s\n' ${BT[$m]} | median)
    BMIN[$m]=$(printf '%s\n' ${BT[$m]} | sort -g | head -1)
    BCPU[$m]=$(printf '%s\n' ${BC[$m]} | median)
done
R_BATCH_CPU=$(ratio "${BCPU[ours]}" "${BCPU[raw-ioctl]}")
# ours / raw within each undisturbed round (adjacent runs, so slow drifts of the load cancel)
if [ $clean_pairs -gt 0 ]; then
    R_BATCH=$(printf '%s\n' $CLEAN_RATIOS | median); R_BATCH_HOW="median of $clean_pairs undisturbed paired rounds"
else
    R_BATCH=$R_BATCH_CPU; R_BATCH_HOW="every round disturbed: CPU-time ratio instead"
    warn "batch: every round was disturbed (waited off-CPU); the ours/raw target is judged on CPU time"
fi
printf '  us/bridge, median (min):'; for m in "${METHODS[@]}"; do printf '  %s %s (%s)' "$m" "${BM[$m]}" "${BMIN[$m]}"; done; echo
printf '  cpu us/run, median:'; for m in "${METHODS[@]}"; do printf '  %s %s' "$m" "${BCPU[$m]}"; done; echo
echo "  ours/raw: $R_BATCH ($R_BATCH_HOW); ratio of all-run medians $(ratio "${BM[ours]}" "${BM[raw-ioctl]}"); CPU $R_BATCH_CPU"
fi

# ================================================================ 5. vethctl and ifctl
if part 5; then
echo
echo "## 5a. veth pair add + del, one process each, interleaved; $RUNS runs (delete is RCU-bound, ~16 ms)"
sb "$TMP/t-veth" -n "$RUNS" -w 2 -- \
    "$PEER_IP" link add tva type veth peer name tvb :: "$PEER_IP" link del tva \
    :: "$VETHCTL" add tva peer tvb :: "$VETHCTL" del tva
[ "$(fails "$TMP/t-veth")" = 0 ] || warn "veth add/del table: $(fails "$TMP/t-veth") failed runs"
VADD_IP=$(med "$TMP/t-veth" 1); VDEL_IP=$(med "$TMP/t-veth" 2)
VADD_US=$(med "$TMP/t-veth" 3); VDEL_US=$(med "$TMP/t-veth" 4)

echo
echo "## 5b. link up + down of one veth end (tva; tvb stays down), interleaved; $RUNS_SHOW runs"
"$PEER_IP" link add tva type veth peer name tvb || die "cannot make tva/tvb"
sb "$TMP/t-up" -n "$RUNS_SHOW" -w 10 -- \
    "$PEER_IP" link set tva up :: "$PEER_IP" link set tva down \
    :: "$IFCTL" up tva :: "$IFCTL" down tva \
    :: "$IFCTL" --via ioctl up tva :: "$IFCTL" --via ioctl down tva :: true
[ "$(fails "$TMP/t-up")" = 0 ] || warn "up/down table: $(fails "$TMP/t-up") failed runs"
UP_IP=$(med "$TMP/t-up" 1); DOWN_IP=$(med "$TMP/t-up" 2)
UP_US=$(med "$TMP/t-up" 3); DOWN_US=$(med "$TMP/t-up" 4)
UP_IOC=$(med "$TMP/t-up" 5); DOWN_IOC=$(med "$TMP/t-up" 6); UP_TRUE=$(med "$TMP/t-up" 7)

echo
echo "## 5c. address add + del (198.51.100.1/24 on tva), interleaved; $RUNS_SHOW runs"
sb "$TMP/t-addr" -n "$RUNS_SHOW" -w 10 -- \
    "$PEER_IP" addr add 198.51.100.1/24 dev tva :: "$PEER_IP" addr del 198.51.100.1/24 dev tva \
    :: "$IFCTL" addr add tva 198.51.100.1/24 :: "$IFCTL" addr del tva 198.51.100.1/24 \
    :: "$IFCTL" --via ioctl addr add tva 198.51.100.1/24 :: "$IFCTL" --via ioctl addr del tva 198.51.100.1/24
[ "$(fails "$TMP/t-addr")" = 0 ] || warn "addr add/del table: $(fails "$TMP/t-addr") failed runs"
AA_IP=$(med "$TMP/t-addr" 1); AD_IP=$(med "$TMP/t-addr" 2)
AA_US=$(med "$TMP/t-addr" 3); AD_US=$(med "$TMP/t-addr" 4)
AA_IOC=$(med "$TMP/t-addr" 5); AD_IOC=$(med "$TMP/t-addr" 6)
echo "  peak RSS, median of 5 (KiB): ifctl up $(rss "$IFCTL" up tva)  ip link set up $(rss "$PEER_IP" link set tva up)  vethctl show $(rss "$VETHCTL" show)"
"$PEER_IP" link del tva

echo
echo "## 5d. delete $DELN veth pairs: one vethctl del (one group RTM_DELLINK) vs ip link del of each, one by one"
for ((i = 0; i < DELN; i++)); do echo "link add d${i}a type veth peer name d${i}b"; done >/run/veth.batch
names=$(for ((i = 0; i < DELN; i++)); do printf 'd%da ' "$i"; done)
make_pairs() { "$PEER_IP" -batch /run/veth.batch >/dev/null 2>&1 && [ "$(nlinks)" = $((2 * DELN + 1)) ] || warn "making $DELN pairs left $(nlinks) links"; }
make_pairs
t0=$EPOCHREALTIME
# shellcheck disable=SC2086
"$VETHCTL" del $names || warn "vethctl del of $DELN pairs failed"
t1=$EPOCHREALTIME
VDELN_US=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1e6 }')
[ "$(nlinks)" = 1 ] || { warn "vethctl del left $(nlinks) links"; del_all_links; }
make_pairs
t0=$EPOCHREALTIME
for n in $names; do "$PEER_IP" link del "$n" || break; done
t1=$EPOCHREALTIME
VDELN_IP=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", (b - a) * 1e6 }')
[ "$(nlinks)" = 1 ] || { warn "ip link del loop left $(nlinks) links"; del_all_links; }
echo "  vethctl del (1 process): $VDELN_US us = $(awk -v t="$VDELN_US" -v n="$DELN" 'BEGIN { printf "%.2f", t / n / 1000 }') ms/pair;  ip link del one by one: $VDELN_IP us = $(awk -v t="$VDELN_IP" -v n="$DELN" 'BEGIN { printf "%.2f", t / n / 1000 }') ms/pair"
fi

# ================================================================ 6. nsexec
if part 6; then
echo
echo "## 6a. named namespace add + del, one process each, interleaved; $RUNS runs"
sb "$TMP/t-ns" -n "$RUNS" -w 2 -- \
    "$PEER_IP" netns add tns :: "$PEER_IP" netns del tns \
    :: "$NSEXEC" add tns :: "$NSEXEC" del tns
[ "$(fails "$TMP/t-ns")" = 0 ] || warn "netns add/del table: $(fails "$TMP/t-ns") failed runs"
NSA_IP=$(med "$TMP/t-ns" 1); NSD_IP=$(med "$TMP/t-ns" 2)
NSA_US=$(med "$TMP/t-ns" 3); NSD_US=$(med "$TMP/t-ns" 4)

echo
echo "## 6b. run 'true' inside a named namespace, interleaved; $RUNS_SHOW runs"
"$NSEXEC" add tns || die "cannot make namespace tns"
TRUE=$(command -v true)
sb "$TMP/t-exec" -n "$RUNS_SHOW" -w 10 -- \
    "$NSEXEC" exec tns "$TRUE" :: nsenter --net=/run/netns/tns "$TRUE" \
    :: "$PEER_IP" netns exec tns "$TRUE" :: "$TRUE"
[ "$(fails "$TMP/t-exec")" = 0 ] || warn "exec table: $(fails "$TMP/t-exec") failed runs"
EX_US=$(med "$TMP/t-exec" 1); EX_NSENTER=$(med "$TMP/t-exec" 2); EX_IP=$(med "$TMP/t-exec" 3); EX_TRUE=$(med "$TMP/t-exec" 4)
"$NSEXEC" del tns
fi

# ================================================================ 7. ipfwd
if part 7; then
echo
echo "## 7. ipfwd: veth pair tfa/tfb (both up), 192.0.2.1/24 on tfa; routes to 203.0.113.0/24 via 192.0.2.254"
"$PEER_IP" link add tfa type veth peer name tfb && "$PEER_IP" addr add 192.0.2.1/24 dev tfa \
    && "$PEER_IP" link set tfa up && "$PEER_IP" link set tfb up || die "setting up tfa/tfb failed"
# /proc/sys/net shows the network namespace of whoever opens it.  Before writing there, check again
# that this is the scratch namespace, and that the tree is its own: it holds tfa, which exists
# nowhere else.
FWD=/proc/sys/net/ipv4/ip_forward
RLN=/proc/sys/net/ipv4/conf/tfa/route_localnet
[ "$(readlink /proc/self/ns/net)" = "$SCRATCH_NS" ] && [ "$SCRATCH_NS" != "$NETPLUMB_BENCH_OUTER_NET" ] \
    && [ -d /proc/sys/net/ipv4/conf/tfa ] || refuse "/proc/sys/net is not the scratch namespace's"
echo 0 >"$FWD" && echo 0 >"$RLN" || die "cannot write $FWD and $RLN in the scratch namespace"
# chk FILE VALUE CMD... : run CMD once, untimed; it must leave FILE at VALUE (so the alternation in
# the tables below really flips the value at every command)
chk() { local f=$1 v=$2; shift 2; "$@" >/dev/null 2>&1 && [ "$(cat "$f")" = "$v" ] || warn "7: '$*' did not leave $f at $v"; }
chk "$FWD" 1 "$IPFWD" on;  chk "$FWD" 0 "$IPFWD" off
chk "$FWD" 1 "$PEER_SYSCTL" -w net.ipv4.ip_forward=1; chk "$FWD" 0 "$PEER_SYSCTL" -w net.ipv4.ip_forward=0
chk "$RLN" 1 "$IPFWD" set tfa route_localnet on; chk "$RLN" 0 "$IPFWD" set tfa route_localnet off
chk "$RLN" 1 "$PEER_SYSCTL" -w net.ipv4.conf.tfa.route_localnet=1; chk "$RLN" 0 "$PEER_SYSCTL" -w net.ipv4.conf.tfa.route_localnet=0

echo
echo "## 7a. net.ipv4.ip_forward: ipfwd on, ipfwd off, sysctl -w =1, sysctl -w =0 in this order in every run, so"
echo "   each command flips the value (ipfwd writes only when it differs) and is timed alone; $RUNS_SHOW runs"
# floors: true (dynamic glibc) and, if built, a static glibc program that only returns (nop-static)
FLOOR=(:: true); [ -x "$H/nop-static" ] && FLOOR+=(:: "$H/nop-static")
sb "$TMP/t-fwd" -n "$RUNS_SHOW" -w 10 -- \
    "$IPFWD" on :: "$IPFWD" off \
    :: "$PEER_SYSCTL" -w net.ipv4.ip_forward=1 :: "$PEER_SYSCTL" -w net.ipv4.ip_forward=0 "${FLOOR[@]}"
[ "$(fails "$TMP/t-fwd")" = 0 ] || warn "ip_forward table: $(fails "$TMP/t-fwd") failed runs"
[ "$(cat "$FWD")" = 0 ] || warn "ip_forward table: $FWD ends at $(cat "$FWD"), not 0"
FON_US=$(med "$TMP/t-fwd" 1); FOFF_US=$(med "$TMP/t-fwd" 2)
FON_SC=$(med "$TMP/t-fwd" 3); FOFF_SC=$(med "$TMP/t-fwd" 4); F_TRUE=$(med "$TMP/t-fwd" 5)
F_NOP=$(med "$TMP/t-fwd" 6); [ -n "$F_NOP" ] || F_NOP=n/a

echo
echo "## 7b. net.ipv4.conf.tfa.route_localnet: ipfwd set on, off, sysctl -w =1, =0, alternating the same way; $RUNS_SHOW runs"
sb "$TMP/t-rln" -n "$RUNS_SHOW" -w 10 -- \
    "$IPFWD" set tfa route_localnet on :: "$IPFWD" set tfa route_localnet off \
    :: "$PEER_SYSCTL" -w net.ipv4.conf.tfa.route_localnet=1 :: "$PEER_SYSCTL" -w net.ipv4.conf.tfa.route_localnet=0
[ "$(fails "$TMP/t-rln")" = 0 ] || warn "route_localnet table: $(fails "$TMP/t-rln") failed runs"
[ "$(cat "$RLN")" = 0 ] || warn "route_localnet table: $RLN ends at $(cat "$RLN"), not 0"
RON_US=$(med "$TMP/t-rln" 1); ROFF_US=$(med "$TMP/t-rln" 2)
RON_SC=$(med "$TMP/t-rln" 3); ROFF_SC=$(med "$TMP/t-rln" 4)

echo
echo "## 7c. route add + del of 203.0.113.0/24 via 192.0.2.254, one process each, interleaved (each tool deletes"
echo "   its own route, so every add starts from a table without it); $RUNS_SHOW runs"
RT=203.0.113.0/24; GW=192.0.2.254
sb "$TMP/t-rt" -n "$RUNS_SHOW" -w 10 -- \
    "$PEER_IP" route add $RT via $GW :: "$PEER_IP" route del $RT via $GW \
    :: "$IPFWD" route add $RT via $GW :: "$IPFWD" route del $RT via $GW \
    :: "$IPFWD" --via ioctl route add $RT via $GW :: "$IPFWD" --via ioctl route del $RT via $GW
[ "$(fails "$TMP/t-rt")" = 0 ] || warn "route add/del table: $(fails "$TMP/t-rt") failed runs"
[ -z "$("$PEER_IP" route show $RT)" ] || warn "route add/del table: $RT is still in the table"
RTA_IP=$(med "$TMP/t-rt" 1); RTD_IP=$(med "$TMP/t-rt" 2)
RTA_US=$(med "$TMP/t-rt" 3); RTD_US=$(med "$TMP/t-rt" 4)
RTA_IOC=$(med "$TMP/t-rt" 5); RTD_IOC=$(med "$TMP/t-rt" 6)

# route show on the table above plus the test route: ipfwd shows IPv4 then IPv6 (here the fe80::/64
# of tfa and tfb), ip route show IPv4 alone, hence the -4 figure beside it
"$PEER_IP" route add $RT via $GW || warn "cannot add $RT for the route show figures"
RSS_RT_US=$(rss "$IPFWD" route show); RSS_RT_US4=$(rss "$IPFWD" route show -4)
RSS_RT_IOC=$(rss "$IPFWD" --via ioctl route show); RSS_RT_IP=$(rss "$PEER_IP" route show)
echo "  peak RSS, median of 5 (KiB): ipfwd route show $RSS_RT_US  route show -4 $RSS_RT_US4  --via ioctl route show $RSS_RT_IOC  ip route show $RSS_RT_IP"
"$PEER_IP" link del tfa
fi

# ================================================================ 8. natctl
if part 8; then
echo
echo "## 8. natctl: publish PORT -> 10.88.0.2:80; peers nft (its own table ip t) and iptables-legacy (chains NATCTLBENCH,"
echo "   NATCTLBENCH-POST) laid out as a rule-per-publish table (1 DNAT + 3 helper masquerades each); natctl keeps Docker's"
echo "   usual publish as an element of its map publish-tcp (helpers: 3 fixed rules); NAT_SIZES=\"$NAT_SIZES\" NATN=$NATN"
[ -x "$NATCTL" ] || die "no $NATCTL"
# Netfilter state belongs to the network namespace of whoever talks to it: check once more that this
# is the scratch namespace before making any rule (the xtables lock lives in our own tmpfs /run).
[ "$(readlink /proc/self/ns/net)" = "$SCRATCH_NS" ] && [ "$SCRATCH_NS" != "$NETPLUMB_BENCH_OUTER_NET" ] \
    || refuse "netfilter state here would not be the scratch namespace's"
DEST=10.88.0.2:80; PP=8080                 # the probe port; the tables are filled from port 10000 up
# Docker's layout: the containers' bridge nb0 with the gateway address 10.88.0.1/16.  natctl publish add
# routes DEST (RTM_GETROUTE) and turns on route_localnet on nb0, the scratch namespace's own.
"$PEER_IP" link add nb0 type bridge && "$PEER_IP" addr add 10.88.0.1/16 dev nb0 && "$PEER_IP" link set nb0 up \
    || die "setting up bridge nb0 failed"
# ok8 FILE ROW : no run of that row failed; m8 FILE ROW : its median, or n/a when a run failed (the
# time of a failed command is no figure, and n/a never passes a target); r8 A B : ratio, n/a with n/a
ok8() { awk -v r="$2" 'NR == r + 1 { f = ($NF == 0) } END { exit !f }' "$1"; }
m8() { if ok8 "$1" "$2"; then med "$1" "$2"; else echo n/a; fi; }
r8() { case "$1/$2" in *n/a*|/*|*/) echo n/a ;; *) ratio "$1" "$2" ;; esac; }
D8=/run/nat; mkdir -p "$D8" || die "cannot make $D8"
# the same S publishes for each tool (ports 10000 ..): natctl -b lines, an nft file laid out like
# natctl's table, an iptables-legacy-restore --noflush file with the same rules in two chains of its own
natctl_file() { for ((i = 0; i < $1; i++)); do echo "publish add $((10000 + i)) $DEST"; done; }
nft_file() {
    echo 'table ip t {'
    echo '  chain prerouting { type nat hook prerouting priority -101; fib daddr type local jump publish; }'
    echo '  chain output { type nat hook output priority -101; fib daddr type local jump publish; }'
    echo '  chain publish {'
    for ((i = 0; i < $1; i++)); do echo "    tcp dport $((10000 + i)) dnat to $DEST"; done
    echo '  }'
    echo '  chain postrouting { type nat hook postrouting priority 101;'
    for ((i = 0; i < $1; i++)); do
        echo "    ip saddr 127.0.0.0/8 ip daddr ${DEST%:*} tcp dport ${DEST#*:} masquerade"
        echo "    ip saddr ${DEST%:*} ip daddr ${DEST%:*} tcp dport ${DEST#*:} masquerade"
        echo "    ip daddr ${DEST%:*} iifname \"nb0\" oifname \"nb0\" tcp dport ${DEST#*:} masquerade"
    done
    echo '  }'
    echo '}'
}
ipt_file() {
    echo '*nat'; echo ':NATCTLBENCH - [0:0]'; echo ':NATCTLBENCH-POST - [0:0]'
    echo '-A PREROUTING -m addrtype --dst-type LOCAL -j NATCTLBENCH'
    echo '-A OUTPUT -m addrtype --dst-type LOCAL -j NATCTLBENCH'
    echo '-A POSTROUTING -j NATCTLBENCH-POST'
    for ((i = 0; i < $1; i++)); do echo "-A NATCTLBENCH -p tcp --dport $((10000 + i)) -j DNAT --to-destination $DEST"; done
    for ((i = 0; i < $1; i++)); do
        echo "-A NATCTLBENCH-POST -s 127.0.0.0/8 -d ${DEST%:*}/32 -p tcp --dport ${DEST#*:} -j MASQUERADE"
        echo "-A NATCTLBENCH-POST -s ${DEST%:*}/32 -d ${DEST%:*}/32 -p tcp --dport ${DEST#*:} -j MASQUERADE"
        echo "-A NATCTLBENCH-POST -d ${DEST%:*}/32 -i nb0 -o nb0 -p tcp --dport ${DEST#*:} -j MASQUERADE"
    done
    echo COMMIT
}
for s in $NAT_SIZES $NATN; do
    [ -f "$D8/natctl-$s.batch" ] && continue
    natctl_file "$s" >"$D8/natctl-$s.batch"; nft_file "$s" >"$D8/nft-$s.nft"; ipt_file "$s" >"$D8/ipt-$s.rules"
done
printf '*nat\nCOMMIT\n' >"$D8/ipt-empty.rules"     # restore without --noflush: an empty nat table
NIPT=0; "$NATCTL" --via iptables list >/dev/null 2>&1 && NIPT=1
NOT_BUILT="natctl --via iptables: not built yet"
[ $NIPT = 1 ] || echo "  $NOT_BUILT ('natctl --via iptables list' fails); its rows are left out"
# nat_reset: nothing of any tool's left: natctl's table (both paths), nft's table t, the legacy nat table
nft_reset() { printf 'table ip t\ndelete table ip t\n' | "$PEER_NFT" -f - >/dev/null 2>&1; }
nat_reset() {
    "$NATCTL" flush >/dev/null 2>&1; [ $NIPT = 1 ] && "$NATCTL" --via iptables flush >/dev/null 2>&1
    nft_reset; "$PEER_IPT_RESTORE" "$D8/ipt-empty.rules" >/dev/null 2>&1
    [ -z "$("$PEER_NFT" list ruleset 2>/dev/null)" ] || warn "8: nf_tables ruleset not empty after reset"
    [ "$("$PEER_IPT" -t nat -S 2>/dev/null | grep -c '^-A')" = 0 ] || warn "8: legacy nat table not empty after reset"
}
# counts: DNAT/masquerade rules in an nf_tables table (nftc TABLE) or in the legacy nat table (iptc)
nftc() { "$PEER_NFT" list table ip "$1" 2>/dev/null | awk '/dnat to/ { d++ } /masquerade/ { m++ } END { printf "%d/%d", d, m }'; }
iptc() { "$PEER_IPT" -t nat -S 2>/dev/null | awk '/-j DNAT/ { d++ } /-j MASQUERADE/ { m++ } END { printf "%d/%d", d, m }'; }
want() { echo "$1/$((3 * $1))"; }
# natc: natctl's publishes in its table, rules or elements of its maps (Docker's usual publish is an
# element of map publish-tcp per host port): one comment each for the one-port publishes here
natc() { "$PEER_NFT" list table ip natctl 2>/dev/null | grep -o '"natctl:publish ' | wc -l; }
# nft_next: the handle the next rule in table t gets (handles count up per table; deleting frees none),
# found by one echoed add + delete of the probe rule.  In the tables below every run adds exactly one
# rule to t, so spawnbench's run index (-b BASE, {i}) is the handle of that run's rule: delete by it.
nft_next() {
    local h
    h=$("$PEER_NFT" -a -e add rule ip t publish tcp dport $PP dnat to $DEST 2>/dev/null | sed -n 's/.*# handle \([0-9][0-9]*\)$/\1/p')
    [ -n "$h" ] && "$PEER_NFT" delete rule ip t publish handle "$h" && echo $((h + 1))
}
NAT_ADD=("$NATCTL" publish add "$PP" "$DEST"); NAT_DEL=("$NATCTL" publish del "$PP" "$DEST")
NIPT_ADD=("$NATCTL" --via iptables publish add "$PP" "$DEST"); NIPT_DEL=("$NATCTL" --via iptables publish del "$PP" "$DEST")
NFT_ADD=("$PEER_NFT" add rule ip t publish tcp dport "$PP" dnat to "$DEST"); NFT_DEL=("$PEER_NFT" delete rule ip t publish handle '{i}')
IPT_ADD=("$PEER_IPT" -t nat -A NATCTLBENCH -p tcp --dport "$PP" -j DNAT --to-destination "$DEST")
IPT_DEL=("$PEER_IPT" -t nat -D NATCTLBENCH -p tcp --dport "$PP" -j DNAT --to-destination "$DEST")
q() { "$@" >/dev/null 2>&1; }
# fill S [natctl|nipt|nft|ipt...] : that tool's table from empty to S publishes, untimed; natctl's table
# (and its --via iptables chains) made by one probe add + del even at S = 0
fill() {
    local s=$1 t; shift
    for t in "$@"; do
        case $t in
        natctl) { [ "$s" = 0 ] || q "$NATCTL" -b "$D8/natctl-$s.batch"; } && q "${NAT_ADD[@]}" && q "${NAT_DEL[@]}" \
                    && [ "$(natc)" = "$s" ] || warn "8: natctl fill to $s: table holds $(natc) publishes" ;;
        nipt)   { [ "$s" = 0 ] || q "$NATCTL" --via iptables -b "$D8/natctl-$s.batch"; } && q "${NIPT_ADD[@]}" && q "${NIPT_DEL[@]}" \
                    && [ "$(iptc)" = "$(want "$s")" ] || warn "8: natctl --via iptables fill to $s: nat table holds $(iptc)" ;;
        nft)    q "$PEER_NFT" -f "$D8/nft-$s.nft" && [ "$(nftc t)" = "$(want "$s")" ] || warn "8: nft fill to $s: table t holds $(nftc t)" ;;
        ipt)    q "$PEER_IPT_RESTORE" --noflush "$D8/ipt-$s.rules" && [ "$(iptc)" = "$(want "$s")" ] \
                    || warn "8: iptables-legacy fill to $s: nat table holds $(iptc)" ;;
        esac
    done
}

echo
echo "## 8a. one-shot publish add + del of port $PP, one process each, interleaved; every table prepared and empty; $RUNS runs"
nat_reset; fill 0 natctl nft ipt; [ $NIPT = 1 ] && fill 0 nipt
base=$(nft_next) || die "8a: cannot find nft's next rule handle"
A8=("${NAT_ADD[@]}" :: "${NAT_DEL[@]}" :: "${NFT_ADD[@]}" :: "${NFT_DEL[@]}" :: "${IPT_ADD[@]}" :: "${IPT_DEL[@]}" :: true)
[ $NIPT = 1 ] && A8+=(:: "${NIPT_ADD[@]}" :: "${NIPT_DEL[@]}")
sb "$TMP/t-pub" -n "$RUNS" -w 2 -b "$base" -- "${A8[@]}"
[ "$(fails "$TMP/t-pub")" = 0 ] || warn "publish add/del table: $(fails "$TMP/t-pub") failed runs"
[ "$(natc)/$(nftc t)/$(iptc)" = "0/0/0/0/0" ] || warn "8a: tables not back to empty: natctl $(natc), t $(nftc t), legacy $(iptc)"
PUB_US=$(m8 "$TMP/t-pub" 1); PUBD_US=$(m8 "$TMP/t-pub" 2)
PUB_NFT=$(m8 "$TMP/t-pub" 3); PUBD_NFT=$(m8 "$TMP/t-pub" 4)
PUB_IPT=$(m8 "$TMP/t-pub" 5); PUBD_IPT=$(m8 "$TMP/t-pub" 6); PUB_TRUE=$(m8 "$TMP/t-pub" 7)
PUB_NIPT=n/a; PUBD_NIPT=n/a
[ $NIPT = 1 ] && { PUB_NIPT=$(m8 "$TMP/t-pub" 8); PUBD_NIPT=$(m8 "$TMP/t-pub" 9); }
[ $NIPT = 1 ] || echo "  $NOT_BUILT"

echo
echo "## 8b. growth: the same add + del with S publishes (S DNAT + 3S masquerade rules) already in each tool's table;"
echo "   natctl, nft and iptables-legacy interleaved (natctl's and nft's tables are separate nf_tables tables, the legacy"
echo "   nat table is xtables'); natctl --via iptables in a table of its own, the legacy table then holding only its S;"
echo "   everything flushed and refilled for every S; $RUNS runs"
# c8 FILE ROW : median user+sys CPU us of the ROW-th command, n/a if any of its runs failed (this machine
# is shared: where wall and CPU part ways, the run waited for someone else; CPU is the program's own cost)
c8() { if ok8 "$1" "$2"; then awk -v r="$2" 'NR == r + 1 { print $(NF - 2) }' "$1"; else echo n/a; fi; }
declare -A G
for s in $NAT_SIZES; do
    nat_reset; fill "$s" natctl nft ipt
    echo "  S=$s: natctl $(natc) publishes, nft t $(nftc t), iptables-legacy $(iptc) (DNAT/masquerade rules)"
    base=$(nft_next) || die "8b: cannot find nft's next rule handle"
    sb "$TMP/t-g$s" -n "$RUNS" -w 2 -b "$base" -- "${NAT_ADD[@]}" :: "${NAT_DEL[@]}" :: "${NFT_ADD[@]}" :: "${NFT_DEL[@]}" \
        :: "${IPT_ADD[@]}" :: "${IPT_DEL[@]}"
    [ "$(fails "$TMP/t-g$s")" = 0 ] || warn "growth table at $s: $(fails "$TMP/t-g$s") failed runs"
    [ "$(natc)/$(nftc t)/$(iptc)" = "$s/$(want "$s")/$(want "$s")" ] \
        || warn "8b: tables changed at $s: natctl $(natc), t $(nftc t), legacy $(iptc)"
    G[natctl.$s]=$(m8 "$TMP/t-g$s" 1); G[natctl-del.$s]=$(m8 "$TMP/t-g$s" 2)
    G[nft.$s]=$(m8 "$TMP/t-g$s" 3); G[nft-del.$s]=$(m8 "$TMP/t-g$s" 4); G[ipt.$s]=$(m8 "$TMP/t-g$s" 5)
    G[natctl-cpu.$s]=$(c8 "$TMP/t-g$s" 1); G[nft-cpu.$s]=$(c8 "$TMP/t-g$s" 3); G[ipt-cpu.$s]=$(c8 "$TMP/t-g$s" 5)
    G[nipt.$s]=n/a; G[nipt-cpu.$s]=n/a
    if [ $NIPT = 1 ]; then
        "$PEER_IPT_RESTORE" "$D8/ipt-empty.rules" >/dev/null 2>&1; fill "$s" nipt
        echo "  S=$s: natctl --via iptables $(iptc) in the legacy nat table"
        sb "$TMP/t-gi$s" -n "$RUNS" -w 2 -- "${NIPT_ADD[@]}" :: "${NIPT_DEL[@]}"
        [ "$(fails "$TMP/t-gi$s")" = 0 ] || warn "--via iptables growth table at $s: $(fails "$TMP/t-gi$s") failed runs"
        G[nipt.$s]=$(m8 "$TMP/t-gi$s" 1); G[nipt-cpu.$s]=$(c8 "$TMP/t-gi$s" 1)
    else
        echo "  S=$s: $NOT_BUILT"
    fi
done
nat_reset
echo "  one add, median wall us (median CPU us):"
printf '  %-18s %16s %16s %18s %22s\n' "publishes present" natctl nft iptables-legacy "natctl --via iptables"
for s in $NAT_SIZES; do
    printf '  %-18s %16s %16s %18s %22s\n' "$s" "${G[natctl.$s]} (${G[natctl-cpu.$s]})" "${G[nft.$s]} (${G[nft-cpu.$s]})" \
        "${G[ipt.$s]} (${G[ipt-cpu.$s]})" "$([ $NIPT = 1 ] && echo "${G[nipt.$s]} (${G[nipt-cpu.$s]})" || echo "not built yet")"
done
echo "  natctl publish del, median wall us: $(for s in $NAT_SIZES; do printf '@%s %s  ' "$s" "${G[natctl-del.$s]}"; done | sed 's/ *$//')"
S0=$(awk '{ print $1 }' <<<"$NAT_SIZES"); SMAX=$(awk '{ print $NF }' <<<"$NAT_SIZES")

echo
echo "## 8c. $NATN publishes in one process: natctl -b FILE vs nft -f FILE ($NATN dnat + $((3 * NATN)) masquerade rules and"
echo "   table t's chains, like natctl's), each run into an empty ruleset; $RUNS_BIG runs"
nat_reset
fill "$NATN" natctl; fill "$NATN" nft
echo "  one untimed load each: natctl $(natc) publishes, nft t $(nftc t) (DNAT/masquerade rules)"
nat_reset
sb "$TMP/t-nb" -n "$RUNS_BIG" -w 1 -- "$NATCTL" -b "$D8/natctl-$NATN.batch" :: "$NATCTL" flush \
    :: "$PEER_NFT" -f "$D8/nft-$NATN.nft" :: "$PEER_NFT" delete table ip t
[ "$(fails "$TMP/t-nb")" = 0 ] || warn "batch table: $(fails "$TMP/t-nb") failed runs"
NB_US=$(m8 "$TMP/t-nb" 1); NB_FLUSH=$(m8 "$TMP/t-nb" 2); NB_NFT=$(m8 "$TMP/t-nb" 3); NB_NFTDEL=$(m8 "$TMP/t-nb" 4)
nat_reset

echo
echo "## 8d. the xtables path with $NATN publishes in one process: natctl --via iptables -b FILE vs"
echo "   iptables-legacy-restore --noflush FILE (same rules, chains NATCTLBENCH*), each run into an empty nat table; $RUNS_BIG runs"
fill "$NATN" ipt; echo "  one untimed iptables-legacy-restore --noflush: $(iptc) (DNAT/masquerade rules)"
nat_reset
X8=("$PEER_IPT_RESTORE" --noflush "$D8/ipt-$NATN.rules" :: "$PEER_IPT_RESTORE" "$D8/ipt-empty.rules")
if [ $NIPT = 1 ]; then
    fill "$NATN" nipt; echo "  one untimed natctl --via iptables -b: $(iptc)"; nat_reset
    X8+=(:: "$NATCTL" --via iptables -b "$D8/natctl-$NATN.batch" :: "$NATCTL" --via iptables flush)
else
    echo "  $NOT_BUILT (iptables-legacy-restore alone)"
fi
sb "$TMP/t-xb" -n "$RUNS_BIG" -w 1 -- "${X8[@]}"
[ "$(fails "$TMP/t-xb")" = 0 ] || warn "xtables batch table: $(fails "$TMP/t-xb") failed runs"
XB_IPT=$(m8 "$TMP/t-xb" 1); XB_RESET=$(m8 "$TMP/t-xb" 2); XB_US=n/a; XB_FLUSH=n/a
[ $NIPT = 1 ] && { XB_US=$(m8 "$TMP/t-xb" 3); XB_FLUSH=$(m8 "$TMP/t-xb" 4); }
nat_reset
cp "$(readlink -f "$NATCTL")" "$TMP/strip.bin" && strip "$TMP/strip.bin" 2>/dev/null
SZ_NATCTL=$(stat -c %s "$TMP/strip.bin")
"$PEER_IP" link del nb0
fi

# ================================================================ 9. embedded builds
if part 9; then
echo
echo "## 9. embedded multicalls: sizes, and start-up called as brctl (a link); $RUNS_SHOW runs"
MC_GLIBC=$ROOT/target/multicall/netplumb
MC_MUSL=$ROOT/target/multicall-musl/netplumb
MC_ARM=$ROOT/target/multicall-aarch64/netplumb
BUSYBOX=${PEER_BUSYBOX:-/bin/busybox}
for f in "$MC_GLIBC" "$MC_MUSL" "$MC_ARM"; do
    [ -x "$f" ] || die "no $f: run scripts/build-multicall.sh (and --musl, --target aarch64) first"
done
[ -x "$BUSYBOX" ] || die "no $BUSYBOX (Debian package busybox-static)"
printf '  %-44s %10s  %s\n' binary stripped_B "file(1)"
for f in "$MC_GLIBC" "$MC_MUSL" "$MC_ARM" "$BUSYBOX" "$PEER_BRCTL"; do
    cp "$(readlink -f "$f")" "$TMP/strip.bin" && strip "$TMP/strip.bin" 2>/dev/null
    printf '  %-44s %10d  %s\n' "$f" "$(stat -c %s "$TMP/strip.bin")" "$(file -b "$f" | cut -d, -f1-2,5)"
done
mkdir -p "$TMP/mc-glibc" "$TMP/mc-musl"
ln -sf "$MC_GLIBC" "$TMP/mc-glibc/brctl"; ln -sf "$MC_MUSL" "$TMP/mc-musl/brctl"
"$PEER_IP" link add tbr0 type bridge && "$PEER_IP" link add tva type veth peer name tvb &&
    "$PEER_IP" link set tva master tbr0 || die "setting up tbr0/tva failed"
sb "$TMP/t-emb" -n "$RUNS_SHOW" -w 10 -- \
    "$TMP/mc-glibc/brctl" --version :: "$TMP/mc-musl/brctl" --version :: "$OURS" --version \
    :: "$BUSYBOX" true :: "$TMP/mc-glibc/brctl" show :: "$TMP/mc-musl/brctl" show :: "$OURS" show \
    :: "$PEER_BRCTL" show
[ "$(fails "$TMP/t-emb")" = 0 ] || warn "embedded table: $(fails "$TMP/t-emb") failed runs"
cmp -s <("$PEER_BRCTL" show 2>&1) <("$TMP/mc-musl/brctl" show 2>&1) || warn "9: the musl multicall's show differs from bridge-utils'"
EV_G=$(med "$TMP/t-emb" 1); EV_M=$(med "$TMP/t-emb" 2); EV_BB=$(med "$TMP/t-emb" 4)
ES_G=$(med "$TMP/t-emb" 5); ES_M=$(med "$TMP/t-emb" 6); ES_BU=$(med "$TMP/t-emb" 8)
echo "  musl/glibc: --version $(ratio "$EV_M" "$EV_G"), show $(ratio "$ES_M" "$ES_G"); musl --version / busybox true $(ratio "$EV_M" "$EV_BB"); musl show / bridge-utils $(ratio "$ES_M" "$ES_BU")"
echo "  peak RSS, median of 5 (KiB): show glibc multicall $(rss "$TMP/mc-glibc/brctl" show)  musl multicall $(rss "$TMP/mc-musl/brctl" show)  release brctl $(rss "$OURS" show)  bridge-utils $(rss "$PEER_BRCTL" show)  busybox true $(rss "$BUSYBOX" true)"
"$PEER_IP" link del tva; "$PEER_IP" link del tbr0
fi

# ================================================================ 10. overlay: vxlanctl, fdbctl, neighctl
if part 10; then
echo
echo "## 10. the overlay's kernel steps: veth pair toa/tob (up), 192.0.2.1/24 on toa, a VXLAN device tvx (VNI 42,"
echo "   local 192.0.2.1, on toa, up) for the FDB entries; neighbour entries on toa; OVN=$OVN"
[ -x "$NEIGHCTL" ] || die "no $NEIGHCTL"
"$PEER_IP" link add toa type veth peer name tob && "$PEER_IP" addr add 192.0.2.1/24 dev toa \
    && "$PEER_IP" link set toa up && "$PEER_IP" link set tob up \
    && "$PEER_IP" link add tvx type vxlan id 42 local 192.0.2.1 dev toa dstport 4789 nolearning \
    && "$PEER_IP" link set tvx up || die "setting up toa/tob/tvx failed"
# m9 FILE ROW : the median, or n/a when a run of that row failed (as m8); a program not built is n/a
m9() { if awk -v r="$2" 'NR == r + 1 { f = ($NF == 0) } END { exit !f }' "$1"; then med "$1" "$2"; else echo n/a; fi; }
NB9="not built yet"
V9=(); [ -x "$VXLANCTL" ] && V9=(:: "$VXLANCTL" add tvx2 id 43 local 192.0.2.1 dev toa :: "$VXLANCTL" del tvx2)
F9=(); [ -x "$FDBCTL" ] && F9=(:: "$FDBCTL" add tvx 02:00:00:00:09:01 dst 192.0.2.2 :: "$FDBCTL" del tvx 02:00:00:00:09:01)

echo
echo "## 10a. VXLAN device add + del (VNI 43 on toa), one process each, interleaved; $RUNS runs"
sb "$TMP/t-vx" -n "$RUNS" -w 2 -- \
    "$PEER_IP" link add tvx2 type vxlan id 43 local 192.0.2.1 dev toa dstport 4789 :: "$PEER_IP" link del tvx2 "${V9[@]}"
VXA_IP=$(m9 "$TMP/t-vx" 1); VXD_IP=$(m9 "$TMP/t-vx" 2); VXA_US=n/a; VXD_US=n/a
[ ${#V9[@]} -gt 0 ] && { VXA_US=$(m9 "$TMP/t-vx" 3); VXD_US=$(m9 "$TMP/t-vx" 4); }

echo
echo "## 10b. FDB entry add + del on tvx (02:00:00:00:09:01 dst 192.0.2.2), interleaved; $RUNS_SHOW runs"
sb "$TMP/t-fdb" -n "$RUNS_SHOW" -w 10 -- \
    "$PEER_BRIDGE" fdb add 02:00:00:00:09:01 dev tvx dst 192.0.2.2 self permanent \
    :: "$PEER_BRIDGE" fdb del 02:00:00:00:09:01 dev tvx self "${F9[@]}"
FA_BR=$(m9 "$TMP/t-fdb" 1); FD_BR=$(m9 "$TMP/t-fdb" 2); FA_US=n/a; FD_US=n/a
[ ${#F9[@]} -gt 0 ] && { FA_US=$(m9 "$TMP/t-fdb" 3); FD_US=$(m9 "$TMP/t-fdb" 4); }

echo
echo "## 10c. neighbour entry add + del on toa (198.51.100.7 at 02:00:00:00:09:07), interleaved; $RUNS_SHOW runs"
NM=02:00:00:00:09:07
sb "$TMP/t-nb" -n "$RUNS_SHOW" -w 10 -- \
    "$PEER_IP" neigh add 198.51.100.7 lladdr $NM dev toa nud permanent :: "$PEER_IP" neigh del 198.51.100.7 dev toa \
    :: "$NEIGHCTL" add toa 198.51.100.7 $NM :: "$NEIGHCTL" del toa 198.51.100.7 \
    :: "$NEIGHCTL" --via ioctl add toa 198.51.100.7 $NM :: "$NEIGHCTL" --via ioctl del toa 198.51.100.7 \
    :: "$PEER_ARP" -i toa -s 198.51.100.7 $NM :: "$PEER_ARP" -i toa -d 198.51.100.7
NA_IP=$(m9 "$TMP/t-nb" 1); ND_IP=$(m9 "$TMP/t-nb" 2); NA_US=$(m9 "$TMP/t-nb" 3); ND_US=$(m9 "$TMP/t-nb" 4)
NA_IOC=$(m9 "$TMP/t-nb" 5); ND_IOC=$(m9 "$TMP/t-nb" 6); NA_ARP=$(m9 "$TMP/t-nb" 7); ND_ARP=$(m9 "$TMP/t-nb" 8)
[ -z "$("$PEER_IP" neigh show 198.51.100.7 dev toa)" ] || warn "10c: 198.51.100.7 is still on toa"

echo
echo "## 10d. $OVN FDB entries on tvx and $OVN neighbour entries on toa, each made and deleted by one process with"
echo "   the same lines as the peer's batch; $RUNS_BIG runs, interleaved"
D9=/run/ov; mkdir -p "$D9" || die "cannot make $D9"
mac9() { printf '02:00:%02x:%02x:%02x:%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
ip9() { echo "10.$(($1 >> 16 & 255)).$(($1 >> 8 & 255)).$(($1 & 255 | 1))"; }
for ((i = 0; i < OVN; i++)); do
    m=$(mac9 "$i"); a=$(ip9 $((i * 2)))
    echo "fdb add $m dev tvx dst 192.0.2.$((i % 250 + 2)) self permanent" >&3
    echo "fdb del $m dev tvx self" >&4
    echo "add tvx $m dst 192.0.2.$((i % 250 + 2))" >&5
    echo "del tvx $m" >&6
    echo "neigh add $a lladdr $m dev toa nud permanent" >&7
    echo "neigh del $a dev toa" >&8
    echo "add toa $a $m" >&9
    echo "del toa $a" >&10
done 3>"$D9/br.add" 4>"$D9/br.del" 5>"$D9/fdb.add" 6>"$D9/fdb.del" 7>"$D9/ip.add" 8>"$D9/ip.del" 9>"$D9/nb.add" 10>"$D9/nb.del"
FB9=(); [ -x "$FDBCTL" ] && FB9=(:: "$FDBCTL" -b "$D9/fdb.add" :: "$FDBCTL" -b "$D9/fdb.del")
sb "$TMP/t-fb" -n "$RUNS_BIG" -w 1 -- \
    "$PEER_BRIDGE" -batch "$D9/br.add" :: "$PEER_BRIDGE" -batch "$D9/br.del" "${FB9[@]}"
FB_BR=$(m9 "$TMP/t-fb" 1); FBD_BR=$(m9 "$TMP/t-fb" 2); FB_US=n/a; FBD_US=n/a
[ ${#FB9[@]} -gt 0 ] && { FB_US=$(m9 "$TMP/t-fb" 3); FBD_US=$(m9 "$TMP/t-fb" 4); }
sb "$TMP/t-nbb" -n "$RUNS_BIG" -w 1 -- \
    "$PEER_IP" -batch "$D9/ip.add" :: "$PEER_IP" -batch "$D9/ip.del" \
    :: "$NEIGHCTL" -b "$D9/nb.add" :: "$NEIGHCTL" -b "$D9/nb.del" \
    :: "$NEIGHCTL" --via ioctl -b "$D9/nb.add" :: "$NEIGHCTL" --via ioctl -b "$D9/nb.del"
NB_IP=$(m9 "$TMP/t-nbb" 1); NBD_IP=$(m9 "$TMP/t-nbb" 2); NB9_US=$(m9 "$TMP/t-nbb" 3); NBD9_US=$(m9 "$TMP/t-nbb" 4)
NB9_IOC=$(m9 "$TMP/t-nbb" 5); NBD9_IOC=$(m9 "$TMP/t-nbb" 6)
[ -z "$("$PEER_IP" neigh show dev toa)" ] || warn "10d: neighbour entries are left on toa"
"$PEER_IP" link del tvx; "$PEER_IP" link del toa
cp "$(readlink -f "$NEIGHCTL")" "$TMP/strip.bin" && strip "$TMP/strip.bin" 2>/dev/null
SZ_NEIGHCTL=$(stat -c %s "$TMP/strip.bin")
fi


# ================================================================ 11. overlayctl
if part 11; then
echo
echo "## 11. overlayctl (issue 14): three hosts b1..b3 (namespaces on an underlay bridge ul11, 192.0.2.0/24) and a"
echo "   3-member etcd, a member on each; on each host our agent (overlayctl watch) and beside it the shell agent a"
echo "   person would write (etcdctl watch piped into bridge and ip, on a VXLAN device sx-ovb of its own, watching"
echo "   its own prefix).  Endpoints are registered as \`ep add\` registers them, by a PUT of the endpoint's key"
echo "   (etcd's JSON gateway, one keep-alive connection from the underlay; vtep 192.0.2.9, a fourth host), ours"
echo "   and the shell's alternating; a host has an endpoint when its FDB entry and its neighbour entry are both"
echo "   in its kernel (timed by \`ip -ts monitor neigh\` on every host).  OV_REG=$OV_REG registrations $OV_GAP_MS ms"
echo "   apart, then OV_BURST=$OV_BURST endpoints in bursts of $OV_BURST_SIZE, then full resyncs"
[ -x "$OVERLAYCTL" ] || die "no $OVERLAYCTL"
D11=/run/ov11
mkdir -p "$D11" || die "cannot make $D11"
ETCD_URLS=http://192.0.2.1:2379,http://192.0.2.2:2379,http://192.0.2.3:2379
EP_PREFIX=/netplumb/v1/endpoints/ovb/
SH_PREFIX=/bench/shell/ep/
# The registrations, and the reading of the monitors' timestamps.
cat >"$D11/ov11.py" <<'PY'
import base64, datetime, http.client, json, sys, time

def b64(s):
    return base64.b64encode(s.encode()).decode()

def write(member, first, count, gap_ms, burst, prefixes):
    """Registers endpoints FIRST.. (COUNT), the keys' prefixes taken in turn, a pause of GAP_MS
    after every BURST of them; prints "PREFIX ADDR MAC SENT ANSWERED" (epoch seconds) each."""
    c = http.client.HTTPConnection(member, timeout=10)
    prefixes = prefixes.split(",")
    for n in range(count):
        i = first + n
        ip = "10.64.%d.%d" % (i // 250, i % 250 + 1)
        mac = "02:42:0a:40:%02x:%02x" % (i // 250, i % 250 + 1)
        prefix = prefixes[n % len(prefixes)]
        body = json.dumps({"key": b64(prefix + ip),
                           "value": b64("mac=%s vtep=192.0.2.9 host=bench ns=bench" % mac)})
        t0 = time.time()
        c.request("POST", "/v3/kv/put", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        answer = r.read()
        t1 = time.time()
        if r.status != 200:
            sys.exit("put %s%s: HTTP %d %s" % (prefix, ip, r.status, answer[:200]))
        print(prefix, ip, mac, "%.6f" % t0, "%.6f" % t1)
        if (n + 1) % burst == 0:
            time.sleep(gap_ms / 1000)

def pct(v, p):
    return v[max(0, -(-len(v) * p // 100) - 1)] if v else float("nan")

def converge(writes, devs, mons):
    """For each device (PREFIX=DEV), the ms from each registration's PUT to the moment the last
    host had both entries: "DEV n missing p50 p99 max put_p50"."""
    first = {}  # (host, dev, mac, kind) -> the first time the monitor saw it
    for h, f in enumerate(mons):
        for line in open(f):
            w = line.split()
            if len(w) < 4 or not w[0].startswith("[") or w[1] == "Deleted" or "dev" not in w or "lladdr" not in w:
                continue
            t = datetime.datetime.strptime(w[0][1:-1], "%Y-%m-%dT%H:%M:%S.%f").timestamp()
            kind = "neigh" if w[1].startswith("10.64.") else "fdb"
            first.setdefault((h, w[w.index("dev") + 1], w[w.index("lladdr") + 1], kind), t)
    dev_of = dict(d.split("=") for d in devs)
    rows = {}
    for line in open(writes):
        prefix, _, mac, t0, t1 = line.split()
        dev = dev_of[prefix]
        ts = [first.get((h, dev, mac, k)) for h in range(len(mons)) for k in ("fdb", "neigh")]
        r = rows.setdefault(dev, ([], [], [0]))
        r[1].append((float(t1) - float(t0)) * 1000)
        if None in ts:
            r[2][0] += 1
        else:
            r[0].append((max(ts) - float(t0)) * 1000)
    for dev, (ms, put, missing) in sorted(rows.items()):
        ms.sort()
        put.sort()
        print("%s %d %d %.1f %.1f %.1f %.1f" % (dev, len(ms), missing[0], pct(ms, 50), pct(ms, 99),
                                               ms[-1] if ms else float("nan"), pct(put, 50)))

if sys.argv[1] == "write":
    write(sys.argv[2], *map(int, sys.argv[3:7]), sys.argv[7])
else:
    converge(sys.argv[2], sys.argv[3].split(","), sys.argv[4:])
PY
# The shell agent: DEV MEMBER PREFIX.  Its watcher is ended by PID when it is told to stop.
cat >"$D11/shell-agent.sh" <<'SH'
dev=$1
exec 3< <(exec etcdctl --endpoints "$2" watch --prefix "$3")
watcher=$!
trap 'kill "$watcher"; exit 0' TERM
declare -A macs
while read -r op <&3 && read -r key <&3; do
    ip=${key##*/}
    if [ "$op" = PUT ]; then
        read -r value <&3
        mac= vtep=
        for w in $value; do case $w in mac=*) mac=${w#mac=} ;; vtep=*) vtep=${w#vtep=} ;; esac; done
        bridge fdb replace "$mac" dev "$dev" dst "$vtep" self permanent
        ip neigh replace "$ip" lladdr "$mac" dev "$dev" nud permanent
        macs[$ip]=$mac
    elif [ -n "${macs[$ip]:-}" ]; then
        bridge fdb del "${macs[$ip]}" dev "$dev" self
        ip neigh del "$ip" dev "$dev"
        unset "macs[$ip]"
    fi
done
SH
# bg LOG CMD...: CMD in the background, its PID in BG and in OV_PIDS (ended by cleanup)
bg() { local log=$1; shift; "$@" </dev/null >"$log" 2>&1 & BG=$!; OV_PIDS+=("$BG"); }
# stop PID: ends one of our processes and waits for it
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
# waitfor SECONDS CMD...: polls CMD every 50 ms
waitfor() { local i n=$(($1 * 20)); shift; for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.05; done; return 1; }
synced() { grep -q "synced at revision" "$1"; }
# count H DEV: our endpoints' FDB entries plus neighbour entries on DEV in bH
count() { echo $(($("$PEER_BRIDGE" -n "b$1" fdb show dev "$2" | grep -c 02:42:0a:40) + $("$PEER_IP" -n "b$1" neigh show dev "$2" | grep -c 02:42:0a:40))); }
all_have() { local h; for h in 1 2 3; do [ "$(count "$h" "$1")" = "$2" ] || return 1; done; }
ovctl() { local h=$1; shift; "$PEER_IP" netns exec "b$h" "$OVERLAYCTL" --etcd "$ETCD_URLS" --host "b$h" "$@"; }

"$PEER_IP" link add ul11 type bridge && "$PEER_IP" link set ul11 up && "$PEER_IP" addr add 192.0.2.254/24 dev ul11 ||
    die "11: cannot make the underlay"
CLUSTER=b1=http://192.0.2.1:2380,b2=http://192.0.2.2:2380,b3=http://192.0.2.3:2380
for h in 1 2 3; do
    "$PEER_IP" netns add "b$h" || die "11: cannot make namespace b$h"
    OV_NETNS+=("b$h")
    "$PEER_IP" link add "u$h" type veth peer name eth0 netns "b$h" && "$PEER_IP" link set "u$h" master ul11 up &&
        "$PEER_IP" -n "b$h" addr add "192.0.2.$h/24" dev eth0 && "$PEER_IP" -n "b$h" link set eth0 up &&
        "$PEER_IP" -n "b$h" link set lo up || die "11: cannot wire b$h"
    bg "$D11/etcd-b$h.log" "$PEER_IP" netns exec "b$h" etcd --name "b$h" --data-dir "$D11/etcd-b$h" \
        --listen-client-urls "http://192.0.2.$h:2379" --advertise-client-urls "http://192.0.2.$h:2379" \
        --listen-peer-urls "http://192.0.2.$h:2380" --initial-advertise-peer-urls "http://192.0.2.$h:2380" \
        --initial-cluster "$CLUSTER" --initial-cluster-state new --initial-cluster-token bench11
done
waitfor 30 etcdctl --endpoints "$ETCD_URLS" endpoint health >/dev/null 2>&1 ||
    { tail -n 5 "$D11"/etcd-b*.log >&2; die "11: the etcd cluster did not become healthy within 30 s"; }
ovctl 1 net create ovb --vni 4242 --subnet 10.64.0.0/16 >/dev/null || die "11: net create failed"
declare -A AGENT SHELL_AGENT MON
for h in 1 2 3; do
    bg "$D11/agent-b$h.log" "$PEER_IP" netns exec "b$h" "$OVERLAYCTL" --etcd "$ETCD_URLS" --host "b$h" watch
    AGENT[$h]=$BG
    waitfor 30 synced "$D11/agent-b$h.log" || { cat "$D11/agent-b$h.log" >&2; die "11: the agent on b$h did not sync"; }
    waitfor 10 "$PEER_IP" -n "b$h" link show ov-ovb >/dev/null 2>&1 || die "11: b$h's agent made no ov-ovb"
    "$PEER_IP" -n "b$h" link add sx-ovb type vxlan id 4243 local "192.0.2.$h" dev eth0 dstport 4789 nolearning &&
        "$PEER_IP" -n "b$h" link set sx-ovb up || die "11: cannot make b$h's sx-ovb"
    bg "$D11/shell-b$h.log" "$PEER_IP" netns exec "b$h" bash "$D11/shell-agent.sh" sx-ovb "http://192.0.2.$h:2379" "$SH_PREFIX"
    SHELL_AGENT[$h]=$BG
    bg "$D11/mon-b$h" "$PEER_IP" -n "b$h" -ts monitor neigh; MON[$h]=$BG
done
sleep 1 # the shell agents' etcdctl watches and the monitors are listening

echo
echo "## 11a. convergence: $OV_REG registrations, ours and the shell's in turn, $OV_GAP_MS ms apart"
python3 "$D11/ov11.py" write 192.0.2.1:2379 0 "$OV_REG" "$OV_GAP_MS" 1 "$EP_PREFIX,$SH_PREFIX" >"$D11/w-conv" ||
    die "11a: the registrations failed"
sleep 2 # the slowest agent's last entries
for h in 1 2 3; do stop "${MON[$h]}"; done
python3 "$D11/ov11.py" converge "$D11/w-conv" "$EP_PREFIX=ov-ovb,$SH_PREFIX=sx-ovb" "$D11"/mon-b1 "$D11"/mon-b2 "$D11"/mon-b3 >"$D11/conv" ||
    die "11a: reading the monitors failed"
printf '  %-8s %6s %8s %8s %8s %8s %12s\n' device n missing p50_ms p99_ms max_ms put_p50_ms
awk '{ printf "  %-8s %6s %8s %8s %8s %8s %12s\n", $1, $2, $3, $4, $5, $6, $7 }' "$D11/conv"
read -r _ CV_N CV_MISS CV_P50 CV_P99 CV_MAX CV_PUT < <(grep '^ov-ovb ' "$D11/conv")
read -r _ SV_N SV_MISS SV_P50 SV_P99 SV_MAX _ < <(grep '^sx-ovb ' "$D11/conv")
[ "${CV_MISS:-x}" = 0 ] || warn "11a: ${CV_MISS:-all} of our registrations never reached every host"
[ "${SV_MISS:-x}" = 0 ] || warn "11a: ${SV_MISS:-all} of the shell agent's registrations never reached every host"
for h in 1 2 3; do stop "${SHELL_AGENT[$h]}"; done
OV_HELD=$((OV_REG - OV_REG / 2))

echo
echo "## 11b. $OV_BURST endpoints in bursts of $OV_BURST_SIZE ($OV_GAP_MS ms between bursts), ours alone; then the"
echo "   time from the last PUT's answer until every host holds every entry (polled, ~20 ms a round)"
python3 "$D11/ov11.py" write 192.0.2.1:2379 "$OV_REG" "$OV_BURST" "$OV_GAP_MS" "$OV_BURST_SIZE" "$EP_PREFIX" >"$D11/w-burst" ||
    die "11b: the registrations failed"
OV_HELD=$((OV_HELD + OV_BURST))
last=$(awk 'END { print $5 }' "$D11/w-burst")
BURST_MS=n/a
if waitfor 30 all_have ov-ovb $((2 * OV_HELD)); then
    BURST_MS=$(awk -v a="$EPOCHREALTIME" -v b="$last" 'BEGIN { printf "%.0f", (a - b) * 1000 }')
else
    warn "11b: not every host holds the $OV_HELD endpoints after 30 s: $(for h in 1 2 3; do printf 'b%s %s ' "$h" "$(count "$h" ov-ovb)"; done)"
fi
BURST_WRITE_MS=$(awk 'NR == 1 { a = $4 } END { printf "%.0f", ($5 - a) * 1000 }' "$D11/w-burst")
echo "  writes took $BURST_WRITE_MS ms; every host held all $OV_HELD endpoints (2 entries each) $BURST_MS ms after the last"
AGENT_RSS=$(awk '/^VmHWM/ { print $2 }' "/proc/${AGENT[1]}/status")
echo "  agent on b1, peak RSS (VmHWM) holding $OV_HELD endpoints: $AGENT_RSS KiB"

echo
echo "## 11c. full resync of $OV_HELD endpoints on b3: its agent stopped, its network's devices deleted, then"
echo "   \`overlayctl sync\` (network, flooding and every endpoint's two entries); $RUNS_BIG runs; then a sync"
echo "   with nothing to do"
stop "${AGENT[3]}"
: >"$D11/resync"
for ((r = 0; r < RUNS_BIG; r++)); do
    "$PEER_IP" -n b3 link del ov-ovb && "$PEER_IP" -n b3 link del ob-ovb || die "11c: cannot delete b3's devices"
    t0=$EPOCHREALTIME
    ovctl 3 sync >/dev/null || die "11c: sync failed"
    awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.1f\n", (a - b) * 1000 }' >>"$D11/resync"
    [ "$(count 3 ov-ovb)" = $((2 * OV_HELD)) ] || warn "11c: after sync b3 holds $(count 3 ov-ovb) entries, not $((2 * OV_HELD))"
done
RESYNC_MS=$(median <"$D11/resync")
t0=$EPOCHREALTIME; ovctl 3 sync >/dev/null || die "11c: the second sync failed"
NOOP_MS=$(awk -v a="$EPOCHREALTIME" -v b="$t0" 'BEGIN { printf "%.1f", (a - b) * 1000 }')
SYNC_RSS=$(/usr/bin/time -f 'RSS %M' "$PEER_IP" netns exec b3 "$OVERLAYCTL" --etcd "$ETCD_URLS" --host b3 sync 2>&1 >/dev/null | awk '$1 == "RSS" { print $2 }')
echo "  resync median $RESYNC_MS ms (runs: $(tr '\n' ' ' <"$D11/resync")); nothing to do: $NOOP_MS ms; peak RSS of a sync $SYNC_RSS KiB"
for h in 1 2; do stop "${AGENT[$h]}"; done
for p in "${OV_PIDS[@]}"; do stop "$p"; done
OV_PIDS=()
for h in 1 2 3; do "$PEER_IP" link del "u$h"; done
for n in "${OV_NETNS[@]}"; do "$PEER_IP" netns del "$n"; done
OV_NETNS=()
"$PEER_IP" link del ul11
fi

# ================================================================ summary
if part 2; then
R_ADD_BU=$(ratio "$ADD_US" "$ADD_BU"); R_ADD_IP=$(ratio "$ADD_US" "$ADD_IP")
R_AIF_BU=$(ratio "$AIF_US" "$AIF_BU"); R_AIF_IP=$(ratio "$AIF_US" "$AIF_IP")
R_SH_BU=$(ratio "$SH_US" "$SH_BU");    R_SH_IP=$(ratio "$SH_US" "$SH_IP")
fi
part 3 && { SPEEDUP=$(ratio "$BIG_BU" "$BIG_US"); SPEEDUP_SYS=$(ratio "$BIG_BU" "$BIG_SYS"); }
pm() { if "$@"; then echo PASS; else echo MISS; fi; }
# pmle VALUE LIMIT : PASS, or MISS with how far over the limit (a few % is this machine's noise)
pmle() {
    if le "$1" "$2"; then echo PASS
    else awk -v a="$1" -v b="$2" 'BEGIN { if (a == "n/a" || a == "") print "MISS"; else printf "MISS (+%.0f%% over)\n", (a / b - 1) * 100 }'; fi
}
row() { printf '%-30s %10s %10s %10s %8s %8s  %-16s %s\n' "$@"; }

echo
echo "## summary  (medians; ratio = ours / peer, below 1 is faster; bu = bridge-utils $PEER_BRCTL, ip = $PEER_IP)"
row "measure" "ours" "bu" "ip" "ours/bu" "ours/ip" "target" "result"
if part 2; then
row "addbr, one process (us)" "$ADD_US" "$ADD_BU" "$ADD_IP" "$R_ADD_BU" "$R_ADD_IP" "ours/bu <= 1.00" "$(pmle "$R_ADD_BU" 1.00)"
row "  addbr --via netlink (us)" "$ADD_NL" "" "" "$(ratio "$ADD_NL" "$ADD_BU")" "$(ratio "$ADD_NL" "$ADD_IP")" "-" "info"
row "addif, one process (us)" "$AIF_US" "$AIF_BU" "$AIF_IP" "$R_AIF_BU" "$R_AIF_IP" "ours/bu <= 1.00" "$(pmle "$R_AIF_BU" 1.00)"
row "  addif --via netlink (us)" "$AIF_NL" "" "" "$(ratio "$AIF_NL" "$AIF_BU")" "$(ratio "$AIF_NL" "$AIF_IP")" "-" "info"
row "show, idle, 1 bridge (us)" "$SH_US" "$SH_BU" "$SH_IP" "$R_SH_BU" "$R_SH_IP" "ours/bu <= 1.00" "$(pmle "$R_SH_BU" 1.00)"
row "  show --via sysfs/ioctl (us)" "$SH_SYS/$SH_IOC" "" "" "$(ratio "$SH_SYS" "$SH_BU")" "" "-" "info (true: $SH_TRUE, C dump: $SH_C)"
row "delbr (us, RCU-bound)" "$DEL_US" "$DEL_BU" "$DEL_IP" "$(ratio "$DEL_US" "$DEL_BU")" "$(ratio "$DEL_US" "$DEL_IP")" "-" "info (netlink: $DEL_NL)"
row "delif (us)" "$DIF_US" "$DIF_BU" "$DIF_IP" "$(ratio "$DIF_US" "$DIF_BU")" "$(ratio "$DIF_US" "$DIF_IP")" "-" "info (netlink: $DIF_NL)"
fi
if part 3; then
row "show @$N bridges (us)" "$BIG_US" "$BIG_BU" "$BIG_IP" "$(ratio "$BIG_US" "$BIG_BU")" "$(ratio "$BIG_US" "$BIG_IP")" "bu/ours >= 8" "$(pm ge "$SPEEDUP" 8) (${SPEEDUP}x faster)"
row "  show @$N --via sysfs (us)" "$BIG_SYS" "" "" "$(ratio "$BIG_SYS" "$BIG_BU")" "" "-" "info (${SPEEDUP_SYS}x; --via ioctl $BIG_IOC = $(ratio "$BIG_BU" "$BIG_IOC")x; C dump floor $BIG_C = $(ratio "$BIG_BU" "$BIG_C")x)"
row "peak RSS show @$N (KiB)" "$RSS_US" "$RSS_BU" "${BIGRSS["$PEER_IP -br link"]}" "$(ratio "$RSS_US" "$RSS_BU")" "" "ours < 2048" "$(pmle "$RSS_US" 2047)"
row "  peak RSS --via sysfs (KiB)" "$RSS_SYS" "" "" "" "" "-" "info"
row "show @$N bytes == bu's" "$IDENT" "" "" "" "" "identical" "$([ "$IDENT" = yes ] && echo PASS || echo MISS)"
fi
if part 4; then
row "batch $N addbr (us/bridge)" "${BM[ours]}" "raw ${BM[raw-ioctl]}" "${BM[ip-batch]}" "" "$(ratio "${BM[ours]}" "${BM[ip-batch]}")" "ours/raw <= 1.10" "$(pmle "$R_BATCH" 1.10) (ours/raw $R_BATCH: $R_BATCH_HOW)"
row "  batch, best run (us/bridge)" "${BMIN[ours]}" "raw ${BMIN[raw-ioctl]}" "${BMIN[ip-batch]}" "" "$(ratio "${BMIN[ours]}" "${BMIN[ip-batch]}")" "-" "info (ours/raw $(ratio "${BMIN[ours]}" "${BMIN[raw-ioctl]}"); CPU ours/raw $R_BATCH_CPU)"
[ -n "${BM[ours-nl]:-}" ] && row "  batch --via netlink" "${BM[ours-nl]}" "" "" "" "$(ratio "${BM[ours-nl]}" "${BM[ip-batch]}")" "-" "info (ours-nl/raw $(ratio "${BM[ours-nl]}" "${BM[raw-ioctl]}"))"
fi
if part 5; then
R_VADD=$(ratio "$VADD_US" "$VADD_IP"); R_UP=$(ratio "$UP_US" "$UP_IP"); R_AA=$(ratio "$AA_US" "$AA_IP")
R_VDELN=$(ratio "$VDELN_IP" "$VDELN_US")
row "vethctl add (us)" "$VADD_US" "" "$VADD_IP" "" "$R_VADD" "ours/ip <= 0.60" "$(pmle "$R_VADD" 0.60)"
row "  vethctl del, 1 pair (us)" "$VDEL_US" "" "$VDEL_IP" "" "$(ratio "$VDEL_US" "$VDEL_IP")" "-" "info (RCU-bound)"
row "ifctl up (us)" "$UP_US" "" "$UP_IP" "" "$R_UP" "ours/ip <= 0.60" "$(pmle "$R_UP" 0.60)"
row "  ifctl up --via ioctl (us)" "$UP_IOC" "" "" "" "$(ratio "$UP_IOC" "$UP_IP")" "-" "info (true: $UP_TRUE)"
row "  ifctl down (us)" "$DOWN_US" "" "$DOWN_IP" "" "$(ratio "$DOWN_US" "$DOWN_IP")" "-" "info (ioctl: $DOWN_IOC)"
row "ifctl addr add (us)" "$AA_US" "" "$AA_IP" "" "$R_AA" "ours/ip <= 0.60" "$(pmle "$R_AA" 0.60)"
row "  addr add --via ioctl (us)" "$AA_IOC" "" "" "" "$(ratio "$AA_IOC" "$AA_IP")" "-" "info"
row "  addr del (us)" "$AD_US" "" "$AD_IP" "" "$(ratio "$AD_US" "$AD_IP")" "-" "info (ioctl: $AD_IOC)"
row "del $DELN pairs (us)" "$VDELN_US" "" "$VDELN_IP" "" "$(ratio "$VDELN_US" "$VDELN_IP")" "ip/ours >= 20" "$(pm ge "$R_VDELN" 20) (${R_VDELN}x faster)"
row "stripped bytes vethctl/ifctl" "${SZ[$VETHCTL]}/${SZ[$IFCTL]}" "" "${SZ[$PEER_IP]}" "" "" "-" "info"
fi
if part 6; then
R_NSA=$(ratio "$NSA_US" "$NSA_IP"); R_NSD=$(ratio "$NSD_US" "$NSD_IP"); R_EX=$(ratio "$EX_US" "$EX_NSENTER")
row "nsexec add (us)" "$NSA_US" "" "$NSA_IP" "" "$R_NSA" "ours/ip <= 1.00" "$(pmle "$R_NSA" 1.00)"
row "nsexec del (us)" "$NSD_US" "" "$NSD_IP" "" "$R_NSD" "ours/ip <= 1.00" "$(pmle "$R_NSD" 1.00)"
row "nsexec exec NAME true (us)" "$EX_US" "" "$EX_IP" "" "$(ratio "$EX_US" "$EX_IP")" "ours/nsenter <= 1.00" "$(pmle "$R_EX" 1.00) (nsenter $EX_NSENTER, ours/nsenter $R_EX; true alone $EX_TRUE)"
row "stripped bytes nsexec" "${SZ[$NSEXEC]}" "" "" "" "" "-" "info"
fi
if part 7; then
# the forwarding rows' peer is procps sysctl: its figure and ours/sysctl are in the result column
sc() { local r; r=$(ratio "$1" "$2"); echo "$(pmle "$r" 0.60) (sysctl -w $2, ours/sysctl $r)"; }
row "ipfwd on (us)" "$FON_US" "" "" "" "" "ours/sysctl <= 0.60" "$(sc "$FON_US" "$FON_SC")"
row "  ipfwd off (us)" "$FOFF_US" "" "" "" "" "ours/sysctl <= 0.60" "$(sc "$FOFF_US" "$FOFF_SC")"
row "  process floor (us)" "$F_NOP" "" "" "" "" "-" "info (static glibc nop = $(ratio "$F_NOP" "$FON_SC") x sysctl -w; true $F_TRUE)"
row "set route_localnet on (us)" "$RON_US" "" "" "" "" "ours/sysctl <= 0.60" "$(sc "$RON_US" "$RON_SC")"
row "  set route_localnet off (us)" "$ROFF_US" "" "" "" "" "ours/sysctl <= 0.60" "$(sc "$ROFF_US" "$ROFF_SC")"
R_RTA=$(ratio "$RTA_US" "$RTA_IP"); R_RTD=$(ratio "$RTD_US" "$RTD_IP")
R_RTA_IOC=$(ratio "$RTA_IOC" "$RTA_IP"); R_RTD_IOC=$(ratio "$RTD_IOC" "$RTD_IP")
row "ipfwd route add (us)" "$RTA_US" "" "$RTA_IP" "" "$R_RTA" "ours/ip <= 0.60" "$(pmle "$R_RTA" 0.60)"
row "  route add --via ioctl (us)" "$RTA_IOC" "" "$RTA_IP" "" "$R_RTA_IOC" "ours/ip <= 0.60" "$(pmle "$R_RTA_IOC" 0.60)"
row "  ipfwd route del (us)" "$RTD_US" "" "$RTD_IP" "" "$R_RTD" "ours/ip <= 0.60" "$(pmle "$R_RTD" 0.60)"
row "  route del --via ioctl (us)" "$RTD_IOC" "" "$RTD_IP" "" "$R_RTD_IOC" "ours/ip <= 0.60" "$(pmle "$R_RTD_IOC" 0.60)"
row "peak RSS route show (KiB)" "$RSS_RT_US" "" "$RSS_RT_IP" "" "$(ratio "$RSS_RT_US" "$RSS_RT_IP")" "-" "info (route show -4 $RSS_RT_US4, --via ioctl $RSS_RT_IOC)"
row "stripped bytes ipfwd" "${SZ[$IPFWD]}" "" "${SZ[$PEER_IP]}" "" "" "-" "info"
fi
if part 8; then
# the peers' figures and ours/peer are in the result column, as in part 7
R_PUB=$(r8 "$PUB_US" "$PUB_NFT")
row "natctl publish add (us)" "$PUB_US" "" "" "" "" "ours/nft <= 0.60" "$(pmle "$R_PUB" 0.60) (nft add rule $PUB_NFT, ours/nft $R_PUB; iptables-legacy -A $PUB_IPT)"
row "  natctl publish del (us)" "$PUBD_US" "" "" "" "" "-" "info (nft delete rule $PUBD_NFT, ours/nft $(r8 "$PUBD_US" "$PUBD_NFT"); iptables-legacy -D $PUBD_IPT; true $PUB_TRUE)"
for s in $NAT_SIZES; do
    row "  add @$s publishes (us)" "${G[natctl.$s]}" "" "" "" "" "-" "info (nft ${G[nft.$s]}, ours/nft $(r8 "${G[natctl.$s]}" "${G[nft.$s]}"); iptables-legacy ${G[ipt.$s]})"
done
R_FLAT=$(r8 "${G[natctl.$SMAX]}" "${G[natctl.$S0]}")
row "add growth @$SMAX/@$S0 (x)" "$R_FLAT" "" "" "" "" "ours <= 1.25 (flat)" "$(pmle "$R_FLAT" 1.25) (nft $(r8 "${G[nft.$SMAX]}" "${G[nft.$S0]}"), iptables-legacy $(r8 "${G[ipt.$SMAX]}" "${G[ipt.$S0]}"); CPU: ours $(r8 "${G[natctl-cpu.$SMAX]}" "${G[natctl-cpu.$S0]}"), nft $(r8 "${G[nft-cpu.$SMAX]}" "${G[nft-cpu.$S0]}"), iptables-legacy $(r8 "${G[ipt-cpu.$SMAX]}" "${G[ipt-cpu.$S0]}"))"
# issue 15's goals at the largest size: add and del each flat (<= 1.3x their own cost on an empty
# table) and <= 0.5x nft's rule add / delete by handle at the same size; the batch <= 0.5x nft -f
R_DFLAT=$(r8 "${G[natctl-del.$SMAX]}" "${G[natctl-del.$S0]}")
R_ADDN=$(r8 "${G[natctl.$SMAX]}" "${G[nft.$SMAX]}"); R_DELN=$(r8 "${G[natctl-del.$SMAX]}" "${G[nft-del.$SMAX]}")
row "add @$SMAX/@$S0, issue 15 (x)" "$R_FLAT" "" "" "" "" "ours <= 1.30 (flat)" "$(pmle "$R_FLAT" 1.30)"
row "del @$SMAX/@$S0, issue 15 (x)" "$R_DFLAT" "" "" "" "" "ours <= 1.30 (flat)" "$(pmle "$R_DFLAT" 1.30) (del ${G[natctl-del.$S0]} -> ${G[natctl-del.$SMAX]} us)"
row "add @$SMAX ours/nft (x)" "$R_ADDN" "" "" "" "" "ours/nft <= 0.50" "$(pmle "$R_ADDN" 0.50) (nft add rule ${G[nft.$SMAX]} us)"
row "del @$SMAX ours/nft (x)" "$R_DELN" "" "" "" "" "ours/nft <= 0.50" "$(pmle "$R_DELN" 0.50) (nft delete rule handle ${G[nft-del.$SMAX]} us)"
R_NB=$(r8 "$NB_US" "$NB_NFT")
row "batch $NATN ours/nft-f, issue 15" "$R_NB" "" "" "" "" "ours/nft-f <= 0.50" "$(pmle "$R_NB" 0.50)"
row "batch $NATN publishes -b (us)" "$NB_US" "" "" "" "" "ours/nft-f <= 1.00" "$(pmle "$R_NB" 1.00) (nft -f $NB_NFT, ours/nft-f $R_NB)"
row "  natctl flush @$NATN (us)" "$NB_FLUSH" "" "" "" "" "-" "info (nft delete table $NB_NFTDEL)"
if [ $NIPT = 1 ]; then
    R_XPUB=$(r8 "$PUB_NIPT" "$PUB_IPT"); R_XB=$(r8 "$XB_US" "$XB_IPT")
    row "--via iptables publish add (us)" "$PUB_NIPT" "" "" "" "" "ours/ipt <= 1.00" "$(pmle "$R_XPUB" 1.00) (iptables-legacy -A $PUB_IPT, ours/ipt $R_XPUB)"
    row "  --via iptables del (us)" "$PUBD_NIPT" "" "" "" "" "-" "info (iptables-legacy -D $PUBD_IPT)"
    row "  --via iptables growth @$SMAX/@$S0" "$(r8 "${G[nipt.$SMAX]}" "${G[nipt.$S0]}")" "" "" "" "" "-" "info (CPU $(r8 "${G[nipt-cpu.$SMAX]}" "${G[nipt-cpu.$S0]}"); iptables-legacy $(r8 "${G[ipt.$SMAX]}" "${G[ipt.$S0]}"), CPU $(r8 "${G[ipt-cpu.$SMAX]}" "${G[ipt-cpu.$S0]}"))"
    for s in $NAT_SIZES; do
        row "  --via iptables @$s (us)" "${G[nipt.$s]}" "" "" "" "" "-" "info (iptables-legacy ${G[ipt.$s]}, ours/ipt $(r8 "${G[nipt.$s]}" "${G[ipt.$s]}"))"
    done
    row "--via iptables -b $NATN (us)" "$XB_US" "" "" "" "" "ours/restore <= 1.00" "$(pmle "$R_XB" 1.00) (iptables-legacy-restore --noflush $XB_IPT, ours/restore $R_XB)"
    row "  --via iptables flush @$NATN (us)" "$XB_FLUSH" "" "" "" "" "-" "info (iptables-legacy-restore of an empty nat table $XB_RESET)"
else
    row "--via iptables publish add (us)" "n/a" "" "" "" "" "ours/ipt <= 1.00" "$NOT_BUILT (iptables-legacy -A $PUB_IPT)"
    row "  --via iptables growth (us)" "n/a" "" "" "" "" "-" "$NOT_BUILT (iptables-legacy $(for s in $NAT_SIZES; do printf '@%s %s ' "$s" "${G[ipt.$s]}"; done | sed 's/ $//'))"
    row "--via iptables -b $NATN (us)" "n/a" "" "" "" "" "ours/restore <= 1.00" "$NOT_BUILT (iptables-legacy-restore --noflush $XB_IPT; of an empty nat table $XB_RESET)"
fi
row "stripped bytes natctl" "$SZ_NATCTL" "" "" "" "" "-" "info"
fi
if part 10; then
# ratios against iproute2's ip/bridge; net-tools' arp and the other path beside them in the result column
r9() { case "$1/$2" in *n/a*|/*|*/) echo n/a ;; *) ratio "$1" "$2" ;; esac; }
pm9() { local r; r=$(r9 "$1" "$2"); if [ "$r" = n/a ]; then echo "n/a: $NB9, or a run failed (see its table)"; else pmle "$r" "$3"; fi; }
row "vxlanctl add (us)" "$VXA_US" "" "$VXA_IP" "" "$(r9 "$VXA_US" "$VXA_IP")" "ours/ip <= 0.60" "$(pm9 "$VXA_US" "$VXA_IP" 0.60)"
row "  vxlanctl del (us)" "$VXD_US" "" "$VXD_IP" "" "$(r9 "$VXD_US" "$VXD_IP")" "ours/ip <= 0.60" "$(pm9 "$VXD_US" "$VXD_IP" 0.60)"
row "fdbctl add (us)" "$FA_US" "" "$FA_BR" "" "$(r9 "$FA_US" "$FA_BR")" "ours/bridge <= 0.60" "$(pm9 "$FA_US" "$FA_BR" 0.60) (bridge fdb add $FA_BR)"
row "  fdbctl del (us)" "$FD_US" "" "$FD_BR" "" "$(r9 "$FD_US" "$FD_BR")" "ours/bridge <= 0.60" "$(pm9 "$FD_US" "$FD_BR" 0.60) (bridge fdb del $FD_BR)"
row "neighctl add (us)" "$NA_US" "" "$NA_IP" "" "$(r9 "$NA_US" "$NA_IP")" "ours/ip <= 0.60" "$(pm9 "$NA_US" "$NA_IP" 0.60) (arp -s $NA_ARP, ours/arp $(r9 "$NA_US" "$NA_ARP"))"
row "  neighctl add --via ioctl (us)" "$NA_IOC" "" "$NA_IP" "" "$(r9 "$NA_IOC" "$NA_IP")" "ours/ip <= 0.60" "$(pm9 "$NA_IOC" "$NA_IP" 0.60) (ours/arp -s $(r9 "$NA_IOC" "$NA_ARP"))"
row "  neighctl del (us)" "$ND_US" "" "$ND_IP" "" "$(r9 "$ND_US" "$ND_IP")" "ours/ip <= 0.60" "$(pm9 "$ND_US" "$ND_IP" 0.60) (arp -d $ND_ARP)"
row "  neighctl del --via ioctl (us)" "$ND_IOC" "" "$ND_IP" "" "$(r9 "$ND_IOC" "$ND_IP")" "ours/ip <= 0.60" "$(pm9 "$ND_IOC" "$ND_IP" 0.60) (ours/arp -d $(r9 "$ND_IOC" "$ND_ARP"))"
row "fdbctl -b $OVN add (us)" "$FB_US" "" "$FB_BR" "" "$(r9 "$FB_US" "$FB_BR")" "ours/batch <= 1.00" "$(pm9 "$FB_US" "$FB_BR" 1.00) (bridge -batch $FB_BR)"
row "  fdbctl -b $OVN del (us)" "$FBD_US" "" "$FBD_BR" "" "$(r9 "$FBD_US" "$FBD_BR")" "ours/batch <= 1.00" "$(pm9 "$FBD_US" "$FBD_BR" 1.00) (bridge -batch $FBD_BR)"
row "neighctl -b $OVN add (us)" "$NB9_US" "" "$NB_IP" "" "$(r9 "$NB9_US" "$NB_IP")" "ours/batch <= 1.00" "$(pm9 "$NB9_US" "$NB_IP" 1.00) (ip -batch $NB_IP)"
row "  -b $OVN add --via ioctl (us)" "$NB9_IOC" "" "$NB_IP" "" "$(r9 "$NB9_IOC" "$NB_IP")" "ours/batch <= 1.00" "$(pm9 "$NB9_IOC" "$NB_IP" 1.00)"
row "  neighctl -b $OVN del (us)" "$NBD9_US" "" "$NBD_IP" "" "$(r9 "$NBD9_US" "$NBD_IP")" "ours/batch <= 1.00" "$(pm9 "$NBD9_US" "$NBD_IP" 1.00) (--via ioctl $NBD9_IOC, ours/ip $(r9 "$NBD9_IOC" "$NBD_IP"))"
row "stripped bytes neighctl" "$SZ_NEIGHCTL" "" "" "" "" "-" "info"
fi
if part 11; then
row "overlay converge p50 (ms)" "$CV_P50" "" "" "" "" "<= 10" "$(pmle "$CV_P50" 10) (n=$CV_N; shell agent $SV_P50, ours/shell $(ratio "$CV_P50" "$SV_P50"); PUT answered $CV_PUT)"
row "  converge p99 (ms)" "$CV_P99" "" "" "" "" "<= 100" "$(pmle "$CV_P99" 100) (max $CV_MAX; shell agent p99 $SV_P99, max $SV_MAX)"
row "  burst: all $OV_HELD in (ms)" "$BURST_MS" "" "" "" "" "<= 1000" "$(pmle "$BURST_MS" 1000) (after the last write; writes took $BURST_WRITE_MS)"
row "  full resync $OV_HELD (ms)" "$RESYNC_MS" "" "" "" "" "<= 500" "$(pmle "$RESYNC_MS" 500) (nothing to do: $NOOP_MS)"
row "  agent peak RSS (KiB)" "$AGENT_RSS" "" "" "" "" "<= 4096" "$(pmle "$AGENT_RSS" 4096) (a sync: $SYNC_RSS)"
fi
row "stripped bytes brctl" "${SZ[$OURS]}" "${SZ[$PEER_BRCTL]}" "${SZ[$PEER_IP]}" "" "" "-" "info (netplumb ${SZ[$NETPLUMB]})"
row "shared libs (ldd)" "${LIBS[$OURS]}" "${LIBS[$PEER_BRCTL]}" "${LIBS[$PEER_IP]}" "" "" "-" "info (netplumb ${LIBS[$NETPLUMB]})"
if [ ${#WARN[@]} -gt 0 ]; then echo; echo "warnings:"; printf '  %s\n' "${WARN[@]}"; fi
echo "# total $(awk -v s="$SECONDS" 'BEGIN { printf "%d min %02d s", s / 60, s % 60 }')"
