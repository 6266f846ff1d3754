#!/usr/bin/env bash
# teardown.sh: removes what a worked script run with --keep made, as its record lists it, and
# nothing else.
set -uo pipefail
# shellcheck source=scripts/lib-demo.sh
. "$(dirname "$0")/lib-demo.sh"

usage() {
    cat <<'USAGE'
Usage: scripts/teardown.sh [--here | --host] [--explain] [NAME...]

Removes what a run of a worked script kept (--keep) made, last made first, exactly as its
record /run/netplumb-scripts/NAME/made lists it (the namespaces, veth pairs, bridges,
natctl rules and natctl's table when the run made it, the forwarding switches when the run
turned it on, hosts-file lines and the files and directories they needed, processes the run
started, the data directories it made for them), and nothing else; then the record. NAME is
two-namespaces, bridge-net, docker-bridge, docker-modes or overlay-net; with none, every kept
run. Something already gone is passed over; a step that fails leaves the record in place.

It acts in the namespaces it is started in, where the kept run was: --here (the default)
inside a sandbox, refused in the host's network namespace; --host for a run kept with
--host. (--sandbox does not apply: a fresh sandbox holds nothing to remove.)

  --here      the default: in this sandbox; refused in the host's network namespace
  --host      WARNING: in this machine's own network namespace
  --explain   pass --explain to every netplumb program: each kernel request, decoded,
              on stderr
  -h, --help  this text
Programs: from $NETPLUMB_BIN (a directory) if set, else the repository's
target/release, else PATH. Exit status: 0 all removed (or nothing recorded), 1 an undo
step failed, 2 usage.
USAGE
}

NAMES=()
np_own_option() {
    if [[ $1 =~ ^[a-z0-9][a-z0-9-]*$ ]]; then
        NAMES+=("$1")
        NP_TOOK=1
    fi
}
np_check_options() {
    [ "$NP_MODE" != sandbox ] || np_usage_error "--sandbox does not apply: teardown acts where the kept run is (--here or --host)"
    [ "$NP_KEEP" = 0 ] || np_usage_error "--keep does not apply to teardown"
}

NP_MODE=here
np_parse "$@"
np_find_programs
np_check_place

if [ "${#NAMES[@]}" = 0 ]; then
    for made in "$NP_RUN_ROOT"/*/made; do
        [ -f "$made" ] && NAMES+=("$(basename "$(dirname "$made")")")
    done
    [ "${#NAMES[@]}" != 0 ] || {
        np_say "== teardown: no kept run recorded under $NP_RUN_ROOT"
        exit 0
    }
fi

rc=0
for name in "${NAMES[@]}"; do
    if [ ! -f "$NP_RUN_ROOT/$name/made" ]; then
        np_say "== teardown $name: nothing recorded ($NP_RUN_ROOT/$name/made is not there)"
        continue
    fi
    np_say "== teardown $name: $(grep -c . "$NP_RUN_ROOT/$name/made") things recorded in $NP_RUN_ROOT/$name/made, last first"
    np_undo "$NP_RUN_ROOT/$name" || rc=1
done
exit "$rc"
