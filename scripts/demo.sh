#!/usr/bin/env bash
# demo.sh: the one command to see netplumb work on a fresh machine: builds the programs if
# needed, then rebuilds Docker's default bridge network in a throwaway sandbox
# (scripts/docker-bridge.sh), printing each step and its proof.
set -uo pipefail
# shellcheck source=scripts/lib-demo.sh
. "$(dirname "$0")/lib-demo.sh"

usage() {
    cat <<'USAGE'
Usage: scripts/demo.sh [--explain] [--containers N] [--subnet CIDR]

Builds the release programs if needed (`cargo build --release`; not when NETPLUMB_BIN
names a directory that holds them), then runs scripts/docker-bridge.sh in a throwaway
sandbox: Docker's default network, built step by step, each step printed as a command
line, then proven with real traffic (ping between containers, TCP to the outside through
masquerade, TCP from the outside to a published port), then removed. Nothing on this
machine changes. Exit status: docker-bridge.sh's (0: every proof held).

  --explain        show every kernel request our programs send (on stderr)
  --containers N   how many containers (default 2)
  --subnet CIDR    docker0's subnet (default 172.17.0.0/16)
  -h, --help       this text
USAGE
}

ARGS=()
while [ $# -gt 0 ]; do
    case $1 in
    -h | --help) usage && exit 0 ;;
    --explain) ARGS+=("$1") ;;
    --containers | --subnet)
        [ $# -ge 2 ] || np_usage_error "$1 needs a value"
        ARGS+=("$1" "$2")
        shift
        ;;
    --host | --here | --keep | --sandbox) np_usage_error "$1: the demo always runs in a throwaway sandbox (use scripts/docker-bridge.sh for more)" ;;
    *) np_usage_error "unknown argument: $1" ;;
    esac
    shift
done

np_say "== netplumb demo: Docker's default bridge network, rebuilt by hand in a throwaway sandbox"
if [ -z "${NETPLUMB_BIN:-}" ]; then
    if command -v cargo >/dev/null; then
        np_say "# the programs, built if they are not yet (or are older than their sources)"
        cd "$NP_REPO" && np_run cargo build --release --quiet
    elif [ ! -x "$NP_REPO/target/release/natctl" ]; then
        np_die "cargo is not installed and target/release holds no programs: install Rust (https://rustup.rs), or set NETPLUMB_BIN"
    fi
fi
bash "$NP_LIB_DIR/docker-bridge.sh" --sandbox "${ARGS[@]}"
rc=$?
if [ "$rc" = 0 ]; then
    np_say "== demo: every proof held; the sandbox, and all that was in it, is gone. Next: scripts/docker-modes.sh"
else
    np_say "== demo: failed (exit $rc): see the step or the proof above"
fi
exit "$rc"
