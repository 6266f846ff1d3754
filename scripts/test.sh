#!/usr/bin/env bash
# test.sh: every test, for a newcomer and for CI alike. First the tools the tests check our
# programs against (nobody here wrote them): as root on Debian, the packages that hold the
# missing ones are installed; anywhere else the missing tools and their Debian packages are
# named and the run fails (a missing oracle fails, it never skips). Then cargo test --workspace.
#   scripts/test.sh [CARGO TEST ARGS...]
#   scripts/test.sh --tools      only the tools (CI: before it records the host's state)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# tool:package, one per oracle the tests run.
oracles="brctl:bridge-utils ip:iproute2 bridge:iproute2 ss:iproute2 strace:strace
ping:iputils-ping unshare:util-linux nsenter:util-linux setpriv:util-linux prlimit:util-linux
mountpoint:util-linux mandoc:mandoc python3:python3 sysctl:procps pgrep:procps ethtool:ethtool
setcap:libcap2-bin getent:libc-bin nft:nftables iptables-legacy:iptables
iptables-legacy-save:iptables conntrack:conntrack man:man-db readelf:binutils timeout:coreutils
arp:net-tools etcd:etcd-server etcdctl:etcd-client openssl:openssl"

missing() {
    for o in $oracles; do
        command -v "${o%%:*}" >/dev/null || echo "$o"
    done
}

absent=$(missing)
if [ -n "$absent" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    # shellcheck disable=SC2086
    packages=$(for o in $absent; do echo "${o#*:}"; done | sort -u)
    echo "test.sh: installing $(echo $packages)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
    absent=$(missing)
fi
if [ -n "$absent" ]; then
    echo "test.sh: the tests need these tools (Debian package in brackets):" >&2
    for o in $absent; do echo "  ${o%%:*} (${o#*:})" >&2; done
    # shellcheck disable=SC2046
    echo "install them (apt-get install $(for o in $absent; do echo "${o#*:}"; done | sort -u | paste -sd ' ')) or run as root on Debian" >&2
    exit 1
fi

[ "${1:-}" != --tools ] || exit 0
cargo test --workspace "$@"
