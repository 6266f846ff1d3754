#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for TIME seconds each (default 60), niced, inside a
# throwaway network and mount namespace, and prints the executions per target. Seeds: the
# golden netlink messages (tests/golden/*.hex) for the decoders, each program's commands for
# the argument parsers. Exits 1 on the first target that crashes (its input is kept under
# fuzz/artifacts/TARGET/). Needs nightly and cargo-fuzz (`cargo install cargo-fuzz`).
#   scripts/fuzz.sh [TIME] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export PATH="$HOME/.cargo/bin:$PATH"
time=${1:-60}
shift || true
targets=${*:-"rtnetlink nftables ctnetlink explain xtables procfs words argv etcd"}

command -v cargo-fuzz >/dev/null || { echo "fuzz.sh: cargo-fuzz is missing: cargo install cargo-fuzz" >&2; exit 1; }
rustup toolchain list | grep -q '^nightly' || { echo "fuzz.sh: the nightly toolchain is missing: rustup toolchain install nightly" >&2; exit 1; }

# Seeds (rebuilt each run, beside what earlier runs found).
for t in rtnetlink nftables ctnetlink explain; do
    mkdir -p "corpus/$t"
    for f in ../tests/golden/*.hex; do
        grep -v '^#' "$f" | tr -d ' \n' | python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read()))' \
            >"corpus/$t/golden-$(basename "$f" .hex)"
    done
done
mkdir -p corpus/procfs corpus/words corpus/argv corpus/xtables corpus/etcd
# etcd 3.4.23's answers, as the gateway sends them.
printf '{"result":{"header":{"revision":"20"},"canceled":true,"compact_revision":"15"}}' >corpus/etcd/cancel
printf 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2d\r\n{"result":{"header":{"revision":"4"},"TTL":"5"}}\r\n0\r\n\r\n' >corpus/etcd/keepalive
printf 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\neth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n' >corpus/procfs/route
printf '20010db8000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000400 00000001 00000000 00000001     eth0\n' >corpus/procfs/ipv6_route
printf 'Inter-|   Receive\n face |bytes\n    lo: 0 0 0\n  eth0: 1 2 3\n' >corpus/procfs/dev
grep -v '^#' ../tests/golden/proc_net_arp.txt >corpus/procfs/arp
printf 'masquerade\0192.0.2.0/24\0--out\0eth0' >corpus/words/masquerade
printf 'publish\0tcp\00080\0192.0.2.2:80' >corpus/words/publish
# One seed per program and command: the program's index in PROGRAMS, then its words.
i=0
for p in $(sed -n '/^pub const PROGRAMS/,/^];/s/^ *("\([a-z0-9]*\)", .*/\1/p' ../bins/lib.rs); do
    # shellcheck disable=SC2046
    for cmd in $(sed -n 's/^\\t\([a-z][a-z-]*\).*/\1/p' "../bins/$p.rs" | sort -u); do
        printf "\\$(printf %03o $i)%s\0x\0y" "$cmd" >"corpus/argv/$p-$cmd"
    done
    printf "\\$(printf %03o $i)--help" >"corpus/argv/$p-help"
    i=$((i + 1))
done

# The fuzzer runs in namespaces of its own: whatever it reaches, the host's network is not it.
sandbox="unshare --net --mount --propagation private"
[ "$(id -u)" = 0 ] || sandbox="unshare --user --map-root-user --net --mount --propagation private"

# LeakSanitizer's check at exit forks, which argv's filter refuses; leaks are not what is sought.
export ASAN_OPTIONS=detect_leaks=0
nice -n 19 cargo +nightly fuzz build -O >/dev/null
total=0
for t in $targets; do
    log=$(mktemp)
    # -close_fd_mask=3: the programs' own stdout/stderr go nowhere (argv prints every error).
    if ! nice -n 19 $sandbox cargo +nightly fuzz run -O "$t" "corpus/$t" -- \
        -max_total_time="$time" -close_fd_mask=3 -rss_limit_mb=2048 -timeout=10 >"$log" 2>&1; then
        tail -40 "$log" >&2
        echo "fuzz.sh: $t: crash (input under fuzz/artifacts/$t/)" >&2
        exit 1
    fi
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
    rm -f "$log"
    echo "fuzz.sh: $t: ${runs:-0} executions in ${time}s, no crash"
    total=$((total + ${runs:-0}))
done
echo "fuzz.sh: $total executions in all"
