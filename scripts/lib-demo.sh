# shellcheck shell=bash
# lib-demo.sh: what the worked scripts share. Sourced by two-namespaces.sh, bridge-net.sh,
# docker-bridge.sh, docker-modes.sh, teardown.sh and demo.sh; never run by itself.
#
# A script built on it defines `usage` (ending with np_common_help), and np_own_option and
# np_check_options when it takes options of its own; then:
#   np_begin NAME "$@"           parses the options every script takes (--sandbox --host
#                                --here --explain --keep --help) beside its own; finds the
#                                programs; enters the sandbox (a re-exec) or warns about
#                                --host; makes the run dir and the record of what the run
#                                makes; sets the cleanup trap
#   np_run CMD...                prints "+ CMD" as a person would type it, then runs it
#                                (--explain added to our programs); a failure ends the run
#   np_netns / np_bridge / ...   one step that makes something, recorded for teardown
#   np_prove_*                   a proof with real traffic: "proof ok: ..." or
#                                "proof FAILED: ..."
#   np_finish                    the count of proofs; exit 1 when any failed
#
# Every thing a run makes is a line of $NP_RUN/made (kind, then names), written when it
# has been made; np_undo reads it backwards and removes exactly those things. teardown.sh
# does the same for a run kept with --keep.

NP_PROGRAMS="brctl vethctl ifctl nsexec ipfwd natctl neighctl vxlanctl fdbctl"
NP_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NP_REPO=$(dirname "$NP_LIB_DIR")
NP_MODE=sandbox
NP_EXPLAIN=0
NP_KEEP=0
NP_FAILED=0
NP_PASSED=0
NP_NAME=${NP_NAME:-$(basename "$0" .sh)}
NP_RUN_ROOT=/run/netplumb-scripts

np_say() { printf '%s\n' "$*"; }
np_die() {
    printf '%s: %s\n' "$NP_NAME" "$*" >&2
    exit 1
}
np_usage_error() {
    printf '%s: %s (see --help)\n' "$NP_NAME" "$*" >&2
    exit 2
}

# The help text of the options every script takes.
np_common_help() {
    cat <<'EOF'
Where it runs (one of):
  --sandbox   the default: re-runs itself inside a throwaway sandbox, `unshare --net
              --mount` (as root) or `unshare --user --map-root-user --net --mount`, with
              its own /run, /run/netns, /sys and /etc/netns; this machine's network is
              not touched, and everything goes when the script ends
  --host      WARNING: for real, in this machine's own network namespace: bridges,
              namespaces, routes, forwarding and NAT rules on the host itself
  --here      in the namespaces it is started in, which must be a sandbox already
              (a test's); refused in the host's network namespace
Other options:
  --explain   pass --explain to every netplumb program: each kernel request, decoded,
              on stderr
  --keep      leave what the run made in place (recorded in
              /run/netplumb-scripts/NAME/made); scripts/teardown.sh removes it
  -h, --help  this text
Programs: from $NETPLUMB_BIN (a directory) if set, else the repository's
target/release, else PATH. Exit status: 0 every proof held, 1 a step or a proof
failed, 2 usage.
EOF
}

# Takes one of the common options: returns 0 when $1 was one (a flag; shift 1).
np_option() {
    case $1 in
    --sandbox) NP_MODE=sandbox ;;
    --host) NP_MODE=host ;;
    --here) NP_MODE=here ;;
    --explain) NP_EXPLAIN=1 ;;
    --keep) NP_KEEP=1 ;;
    *) return 1 ;;
    esac
}

# np_parse "$@": parses the arguments: the common options; -h/--help, which prints the
# script's `usage`; and the script's own, through np_own_option when the script defines one
# (it sets NP_TOOK to the number of words it took, 0 when none). Then the script's
# np_check_options when it defines one.
np_parse() {
    while [ $# -gt 0 ]; do
        NP_TOOK=0
        if np_option "$1"; then
            NP_TOOK=1
        elif [ "$1" = -h ] || [ "$1" = --help ]; then
            usage
            exit 0
        elif declare -F np_own_option >/dev/null; then
            np_own_option "$@"
        fi
        [ "$NP_TOOK" -gt 0 ] || np_usage_error "unknown argument: $1"
        shift "$NP_TOOK"
    done
    if declare -F np_check_options >/dev/null; then np_check_options; fi
}

# np_begin NAME "$@": np_parse, then np_start.
np_begin() {
    local name=$1
    shift
    np_parse "$@"
    np_start "$name" "$@"
}

# A word as a person would type it in a shell: bare when nothing in it is special.
np_quote() {
    local w out=""
    for w in "$@"; do
        if [[ $w =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then
            out+=" $w"
        else
            out+=" '${w//\'/\'\\\'\'}'"
        fi
    done
    printf '%s' "${out# }"
}

# NP_ARGV := the command with --explain after each of our programs in command position
# (also the command that `timeout N` or `nsexec exec NS` runs), when --explain was given.
np_argv() {
    NP_ARGV=()
    local -a a=("$@")
    local i=0 n=$# w ns
    while [ "$i" -lt "$n" ]; do
        w=${a[i]}
        NP_ARGV+=("$w")
        i=$((i + 1))
        if [ "$NP_EXPLAIN" = 1 ] && [[ " $NP_PROGRAMS " == *" $w "* ]]; then
            NP_ARGV+=(--explain)
        fi
        if [ "$w" = timeout ]; then # timeout DURATION CMD...
            NP_ARGV+=("${a[i]}")
            i=$((i + 1))
        elif [ "$w" = nsexec ] && [ "${a[i]:-}" = exec ]; then
            # nsexec exec {NAME | --pid PID | --new} [--user U] [--] CMD...
            NP_ARGV+=(exec)
            i=$((i + 1))
            ns=0
            while [ "$i" -lt "$n" ]; do
                w=${a[i]}
                case $w in
                --pid | --user)
                    NP_ARGV+=("$w" "${a[i + 1]}")
                    i=$((i + 2))
                    [ "$w" = --user ] || ns=1
                    ;;
                --new | --)
                    NP_ARGV+=("$w")
                    i=$((i + 1))
                    ns=1
                    [ "$w" = --new ] || break
                    ;;
                *)
                    [ "$ns" = 0 ] || break
                    NP_ARGV+=("$w")
                    i=$((i + 1))
                    ns=1
                    ;;
                esac
            done
        else
            break
        fi
    done
    NP_ARGV+=("${a[@]:i}")
}

# Prints the step, runs it; a failed step ends the script (the trap undoes what was made).
np_run() {
    np_try "$@" || np_die "step failed (exit $?): $(np_quote "${NP_ARGV[@]}")"
}

# Prints the step and runs it; returns its exit status.
np_try() {
    np_argv "$@"
    np_say "+ $(np_quote "${NP_ARGV[@]}")"
    "${NP_ARGV[@]}"
}

# Prints the step, runs it, and puts its standard output in NP_OUT (and prints it too).
np_capture() {
    np_argv "$@"
    np_say "+ $(np_quote "${NP_ARGV[@]}")"
    local rc=0
    NP_OUT=$("${NP_ARGV[@]}") || rc=$?
    [ -z "$NP_OUT" ] || np_say "$NP_OUT"
    return "$rc"
}

# The prefix that runs a command in NS: "-" is where the script runs (the host, in Docker's
# words), "pid:N" is process N's network namespace, "new" a fresh one with only loopback,
# anything else a named namespace.
np_in() {
    case $1 in
    -) NP_IN=() ;;
    new) NP_IN=(nsexec exec --new) ;;
    pid:*) NP_IN=(nsexec exec --pid "${1#pid:}") ;;
    *) NP_IN=(nsexec exec "$1") ;;
    esac
}

# ---- finding the programs and entering the sandbox ----

np_is_ours() { "$1" --version 2>/dev/null | grep -q '(netplumb)'; }

np_find_programs() {
    local dir=${NETPLUMB_BIN:-} p missing=""
    if [ -z "$dir" ] && [ -x "$NP_REPO/target/release/natctl" ]; then
        dir=$NP_REPO/target/release
    fi
    if [ -n "$dir" ]; then
        dir=$(cd "$dir" 2>/dev/null && pwd) || np_die "NETPLUMB_BIN=$NETPLUMB_BIN: no such directory"
        export PATH="$dir:$PATH"
    fi
    for p in $NP_PROGRAMS; do
        command -v "$p" >/dev/null && np_is_ours "$p" || missing+=" $p"
    done
    [ -z "$missing" ] || np_die "netplumb programs not found:$missing (in ${dir:-PATH}); build them with \`cargo build --release\` or set NETPLUMB_BIN"
    export NETPLUMB_BIN=$dir
}

np_netns_id() { readlink "/proc/$1/ns/net" 2>/dev/null; }
np_mntns_id() { readlink "/proc/$1/ns/mnt" 2>/dev/null; }

# True in the kernel's initial network namespace (its inode number is fixed:
# PROC_NET_INIT_INO) or in PID 1's, when this process may see that.
np_in_host_netns() {
    local self
    self=$(np_netns_id self)
    [ "$self" = "net:[4026531833]" ] || [ "$self" = "$(np_netns_id 1)" ]
}

np_enter_sandbox() {
    local -a un=(unshare --net --mount)
    [ "$(id -u)" = 0 ] || un=(unshare --user --map-root-user --net --mount)
    np_say "== sandbox: $(np_quote "${un[@]}"), with its own /run, /run/netns, /sys and /etc/netns; the host's network is not touched"
    _NP_SANDBOX_OF="$(np_netns_id self) $(np_mntns_id self)" exec "${un[@]}" -- bash "$NP_SCRIPT" "$@"
}

# Inside the sandbox, before anything else: check it really is a new network namespace, then
# make /run, /run/netns, /sys and /etc/netns its own.
np_sandbox_setup() {
    case " $_NP_SANDBOX_OF " in
    *" $(np_netns_id self) "* | *" $(np_mntns_id self) "*) np_die "refusing: not in a new network and mount namespace after unshare" ;;
    esac
    ! np_in_host_netns || np_die "refusing: still in the host's network namespace after unshare"
    unset _NP_SANDBOX_OF
    if ! { mount --make-rprivate / && mount -t tmpfs -o mode=0755 tmpfs /run &&
        mkdir -p /run/netns /run/.np-etc/upper /run/.np-etc/work && mount -t sysfs sysfs /sys; }; then
        np_die "cannot set up the sandbox's /run and /sys"
    fi
    # /etc is the host's: an overlay takes the writes of `nsexec hosts` (/etc/netns/NAME).
    if ! mount -t overlay overlay -o lowerdir=/etc,upperdir=/run/.np-etc/upper,workdir=/run/.np-etc/work /etc 2>/dev/null; then
        if [ -d /etc/netns ]; then
            mount -t tmpfs tmpfs /etc/netns || np_die "cannot make /etc/netns the sandbox's own"
        else
            NP_NO_ETC_NETNS=1 # /etc/netns would be made on the host's /etc: hosts steps refuse
        fi
    fi
}

# --here: refused in the host's network namespace: the kernel's initial one (its inode number
# is fixed, PROC_NET_INIT_INO), or PID 1's when this process may see it. --host: a warning.
np_check_place() {
    if [ "$NP_MODE" = here ]; then
        if np_in_host_netns; then
            np_die "refusing --here: this is the host's network namespace; use --sandbox, or --host to change this machine for real"
        fi
    elif [ "$NP_MODE" = host ]; then
        printf '%s: WARNING: --host: running for real in this machine'"'"'s own network namespace; what follows changes the host\n' "$NP_NAME" >&2
    fi
}

np_start() {
    NP_NAME=$1
    shift
    NP_SCRIPT=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
    np_find_programs
    if [ -n "${_NP_SANDBOX_OF:-}" ]; then
        np_sandbox_setup
        NP_MODE=sandboxed
    elif [ "$NP_MODE" = sandbox ]; then
        np_enter_sandbox "$@"
    fi
    np_check_place
    NP_RUN=$NP_RUN_ROOT/$NP_NAME
    [ ! -s "$NP_RUN/made" ] ||
        np_die "a kept run of $NP_NAME is recorded in $NP_RUN/made: remove it first with scripts/teardown.sh $NP_NAME"
    mkdir -p "$NP_RUN" || np_die "cannot make $NP_RUN"
    : >"$NP_RUN/made"
    np_write_peer_echo
    trap np_on_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

np_on_exit() {
    local rc=$?
    trap - EXIT
    if [ "$NP_KEEP" = 1 ]; then
        if [ "$NP_MODE" = sandboxed ]; then
            np_say "== kept (--keep), but in a sandbox: it goes, with all in it, as this script ends"
        else
            local host=""
            [ "$NP_MODE" != host ] || host=" --host"
            np_say "== kept (--keep): what this run made stays, recorded in $NP_RUN/made"
            np_say "   remove it with: scripts/teardown.sh$host $NP_NAME"
        fi
    else
        np_say "== cleanup: undoing every step, last first"
        np_undo "$NP_RUN" || rc=1
    fi
    exit "$rc"
}

np_finish() {
    np_say "== $NP_NAME: $NP_PASSED proofs held, $NP_FAILED failed"
    [ "$NP_FAILED" = 0 ] || exit 1
    exit 0
}

# ---- the record of what a run made, and its undoing ----

np_made() { printf '%s\n' "$*" >>"$NP_RUN/made"; }

np_link_exists() { ifctl show "$1" >/dev/null 2>&1; }

# Undoes one record line: KIND ARGS...
np_undo_one() {
    local kind=$1
    shift
    case $kind in
    netns) [ ! -e "/run/netns/$1" ] || np_try nsexec del "$1" ;;
    link) ! np_link_exists "$1" || np_try vethctl del "$1" ;;
    bridge) ! np_link_exists "$1" || { np_try ifctl down "$1" && np_try brctl delbr "$1"; } ;;
    forward) np_try ipfwd off ;;
    forward6) np_try ipfwd off --ipv6 ;;
    nat) np_try natctl "$1" del "${@:2}" ;;
    nattable) [ "$(natctl -j list)" != "[]" ] || np_try natctl flush ;;
    hosts) np_try nsexec hosts "$1" del "$2" ;;
    file) [ ! -e "$1" ] || np_try rm "$1" ;;
    dir) [ ! -d "$1" ] || np_try rmdir "$1" ;;
    pid)
        # Only the process this run started (the same PID with the same start time), while it
        # runs; one that ends meanwhile is no failure.
        if [ "$(np_starttime "$1")" = "$2" ] && [ "$(np_procstate "$1")" != Z ]; then
            np_try kill "$1" 2>/dev/null || [ "$(np_procstate "$1")" = "" ] || [ "$(np_procstate "$1")" = Z ]
            np_wait_gone "$1"
        fi
        ;;
    tree)
        # A directory of a program's data (etcd's, an overlayctl agent's) the run made, only
        # ever under the run dirs or overlayctl's state directory.
        case $1 in
        "$NP_RUN_ROOT"/*/* | /run/netplumb/overlay/?*) [ ! -d "$1" ] || np_try rm -r "$1" ;;
        *) np_say "refusing to remove $1: not under $NP_RUN_ROOT or /run/netplumb/overlay" >&2 && return 1 ;;
        esac
        ;;
    *) np_say "unknown record line: $kind $*" >&2 && return 1 ;;
    esac
}

# Undoes every line of RUN/made, last first; then removes the run dir's own files.
np_undo() {
    local run=$1 line fails=0
    [ -f "$run/made" ] || return 0
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        # shellcheck disable=SC2086 # a record line is words without spaces in them
        np_undo_one $line || fails=$((fails + 1))
    done < <(tac "$run/made")
    if [ "$fails" != 0 ]; then
        np_say "$fails undo steps failed; what is left is still listed in $run/made" >&2
        return 1
    fi
    rm -f "$run/made" "$run/peer-echo.py" "$run"/*.ready "$run"/*.log
    rmdir "$run" 2>/dev/null
    rmdir "$(dirname "$run")" 2>/dev/null
    return 0
}

# A process's start time and state, from /proc/PID/stat (fields 22 and 3; the name in
# field 2 has no spaces here).
np_starttime() { awk '{ print $22 }' "/proc/$1/stat" 2>/dev/null; }
np_procstate() { awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null; }

# Waits (at most 5 s) until process PID has ended (gone, or a zombie, which it then reaps when
# it is this shell's child), so what it was writing can be removed after it.
np_wait_gone() {
    local i s
    for ((i = 0; i < 100; i++)); do
        s=$(np_procstate "$1")
        [ -n "$s" ] && [ "$s" != Z ] || break
        sleep 0.05
    done
    wait "$1" 2>/dev/null || true
}

# ---- steps that make something, each recorded when made ----

# A named namespace with its loopback up (what every container starts with).
np_netns() {
    np_run nsexec add "$1" --lo-up
    np_made netns "$1"
}

# np_bridge NAME [CIDR]: a bridge, up, with an address when given (the gateway of its subnet).
np_bridge() {
    np_run brctl addbr "$1"
    np_made bridge "$1"
    [ -z "${2:-}" ] || np_run ifctl addr add "$1" "$2"
    np_run ifctl up "$1"
}

# np_veth HOSTEND NS IFNAME CIDR [BRIDGE]: a veth pair, IFNAME born inside NS with CIDR,
# HOSTEND here (on BRIDGE when given), both up.
np_veth() {
    local -a master=()
    [ -z "${5:-}" ] || master=(--master "$5")
    np_run vethctl add "$1" peer "$3" --peer-netns "$2" "${master[@]}" --up
    np_made link "$1"
    np_run nsexec exec "$2" ifctl addr add "$3" "$4"
}

# A container on a bridge, Docker's way: namespace NS, its eth0 on a veth pair whose other
# end HOSTEND is a port of BRIDGE, an address, and a default route via the bridge's address.
np_container() {
    local ns=$1 hostend=$2 bridge=$3 cidr=$4 gateway=$5
    np_netns "$ns"
    np_veth "$hostend" "$ns" eth0 "$cidr" "$bridge"
    np_run nsexec exec "$ns" ipfwd route add default via "$gateway"
}

# The way out, as a home router or Docker's host has it: namespace wan (the outside world,
# WANADDR) on a veth pair whose end wan0 here has HOSTADDR (both CIDRs).
np_wan() {
    np_netns wan
    np_run vethctl add wan0 peer eth0 --peer-netns wan --up
    np_made link wan0
    np_run ifctl addr add wan0 "$1"
    np_run nsexec exec wan ifctl addr add eth0 "$2"
}

# IPv4 forwarding on; recorded only when this step changed it.
np_forward_on() {
    np_capture ipfwd on || np_die "step failed: ipfwd on"
    case $NP_OUT in *"-> 1"*) np_made forward 0 ;; esac
}
# IPv6 forwarding (net.ipv6.conf.all.forwarding), recorded to be turned back like IPv4's.
np_forward6_on() {
    np_capture ipfwd on --ipv6 || np_die "step failed: ipfwd on --ipv6"
    case $NP_OUT in *"-> 1"*) np_made forward6 0 ;; esac
}
# Waits until no IPv6 address of namespace NS ("-": this one) is still tentative (duplicate
# address detection, about a second after an address is added): one in use before that fails.
np_wait_dad() {
    np_in "$1"
    np_wait_for "${NP_IN[@]}" python3 -c 'import sys
sys.exit(any(int(l.split()[4], 16) & 0x40 for l in open("/proc/net/if_inet6")))' ||
        np_die "IPv6 addresses in ${1/-/the host} stayed tentative (duplicate address detection)"
}

# natctl KIND add ARGS...: one rule, recorded as KIND ARGS (undone with KIND del ARGS). The
# first rule of a run whose natctl table was not there records that too, so teardown removes
# the table when it is left empty.
np_nat() {
    local kind=$1
    shift 2 # KIND add
    if ! grep -q '^nattable$' "$NP_RUN/made" && np_natctl_table_absent; then
        np_made nattable
    fi
    np_run natctl "$kind" add "$@"
    np_made nat "$kind" "$@"
}

np_natctl_table_absent() {
    if command -v nft >/dev/null; then
        ! nft list table ip natctl >/dev/null 2>&1
    else
        [ "$(natctl -j list)" = "[]" ]
    fi
}

# Before /etc/netns/NS/hosts is written (by nsexec hosts, or overlayctl's agent): refused where
# /etc is the host's, and what will be made recorded.
np_etc_netns() {
    local ns=$1
    [ -z "${NP_NO_ETC_NETNS:-}" ] ||
        np_die "the sandbox could not make /etc/netns its own (no overlayfs here), so hosts files are not written"
    if [ "$NP_MODE" = here ] && ! mountpoint -q /etc && ! mountpoint -q /etc/netns; then
        np_die "refusing to write /etc/netns/$ns/hosts: /etc here is the host's (a sandbox for --here needs an /etc or /etc/netns of its own, e.g. an overlay)"
    fi
    [ -d /etc/netns ] || np_made dir /etc/netns
    [ -d "/etc/netns/$ns" ] || np_made dir "/etc/netns/$ns"
    [ -e "/etc/netns/$ns/hosts" ] || np_made file "/etc/netns/$ns/hosts"
}

# A --link-style name: NAME resolves to IP inside NS (a line of /etc/netns/NS/hosts).
np_hosts_add() {
    local ns=$1 ip=$2 name=$3
    np_etc_netns "$ns"
    np_run nsexec hosts "$ns" add "$ip" "$name"
    np_made hosts "$ns" "$name"
}

# ---- proofs, with real traffic ----

np_proof() {
    if [ "$1" = 0 ]; then
        NP_PASSED=$((NP_PASSED + 1))
        np_say "proof ok: $2"
    else
        NP_FAILED=$((NP_FAILED + 1))
        np_say "proof FAILED: $2"
    fi
}

# np_prove_ping WHAT NS ADDR: NS reaches ADDR (one echo, answered within 2 s).
np_prove_ping() {
    np_in "$2"
    np_try "${NP_IN[@]}" ping -c1 -W2 "$3"
    np_proof $? "$1"
}

# np_prove_no_ping WHAT NS ADDR: NS does not reach ADDR (no answer within 1 s).
np_prove_no_ping() {
    np_in "$2"
    local rc=0
    np_try "${NP_IN[@]}" ping -c1 -W1 "$3" || rc=$?
    [ "$rc" != 0 ]
    np_proof $? "$1"
}

# The TCP peer-address echo the proofs use, written into the run dir: `server NAME PORT [6]`
# answers one connection with "NAME sees PEER-ADDRESS"; `client ADDR PORT`
# prints what it hears. Every use runs under `timeout`.
np_write_peer_echo() {
    cat >"$NP_RUN/peer-echo.py" <<'EOF'
import socket, sys
if sys.argv[1] == "server":
    name, port = sys.argv[2], int(sys.argv[3])
    ready = "%s/%s-%d.ready" % (sys.path[0], name, port)
    v6 = sys.argv[4:] == ["6"]
    if v6:
        ready = ready[:-len(".ready")] + "-6.ready"
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if v6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind(("::" if v6 else "0.0.0.0", port))
    s.listen(4)
    open(ready, "w").close()
    c, peer = s.accept()
    c.sendall(("%s sees %s\n" % (name, peer[0])).encode())
    c.close()
else:
    try:
        c = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=3)
        c.settimeout(3)
        print(c.recv(200).decode().strip())
    except OSError as e:
        print("no answer: %s" % e)
        sys.exit(1)
EOF
}

# np_background LOG CMD...: prints the step with its "&", starts it in the background with
# its output to LOG (a kept run's process must not hold our stdout), and records it; its
# PID in NP_PID.
np_background() {
    local log=$1
    shift
    np_argv "$@"
    np_say "+ $(np_quote "${NP_ARGV[@]}") &"
    "${NP_ARGV[@]}" </dev/null >"$log" 2>&1 &
    NP_PID=$!
    np_made pid "$NP_PID" "$(np_starttime "$NP_PID")"
}

# np_wait_for CMD...: waits until CMD succeeds, at most 5 s; returns 1 when it did not.
np_wait_for() {
    local i=0
    until "$@"; do
        i=$((i + 1))
        [ "$i" -le 100 ] || return 1
        sleep 0.05
    done
}

# np_server NAME NS PORT [6]: a peer-address echo server in NS (see np_in) on PORT (IPv6 only
# with 6), in the background for at most 20 s; returns once it listens.
np_server() {
    local name=$1 port=$3 fam=${4:-}
    local at="$NP_RUN/$name-$port${fam:+-$fam}"
    np_in "$2"
    rm -f "$at.ready"
    np_background "$at.log" timeout 20 "${NP_IN[@]}" python3 "$NP_RUN/peer-echo.py" server "$name" "$port" $fam
    if ! np_wait_for test -e "$at.ready"; then
        cat "$at.log" >&2
        np_die "the server $name did not listen on port $port within 5 s"
    fi
}

# np_prove_tcp WHAT NS ADDR PORT EXPECTED: a client in NS connects to ADDR:PORT and must hear
# exactly EXPECTED.
np_prove_tcp() {
    np_in "$2"
    np_capture timeout 10 "${NP_IN[@]}" python3 "$NP_RUN/peer-echo.py" client "$3" "$4"
    if [ "$NP_OUT" = "$5" ]; then
        np_proof 0 "$1: $5"
    else
        np_proof 1 "$1: heard \"$NP_OUT\", expected \"$5\""
    fi
}

# np_sleeper NS: a process (sleep 60) in NS, started in the background; its PID in NP_PID
# once it is in place (nsexec becomes the command, so $! is that process).
np_sleeper() {
    np_in "$1"
    np_background /dev/null "${NP_IN[@]}" sleep 60
    np_wait_for np_is_sleep "$NP_PID" || np_die "the process in $1 did not start within 5 s"
}
np_is_sleep() { [ "$(cat "/proc/$1/comm" 2>/dev/null)" = sleep ]; }
