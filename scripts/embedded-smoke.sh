#!/usr/bin/env bash
# embedded-smoke.sh: the embedded builds tried as an image would use them (CI runs it).
#
#   musl     the static x86_64 multicall with a link per program on PATH, as busybox is
#            installed: every program's --version and --help, then the worked scripts
#            two-namespaces.sh and bridge-net.sh on those links (real ping and TCP, each in
#            its sandbox)
#   aarch64  the aarch64 multicall under qemu-aarch64-static: every program's --version and
#            --help, then scripts/qemu-user.sh, which runs each program and --via path under
#            emulation in a sandbox and checks the measured table of what works
#   both     installed into an empty image root (scripts/install.sh --multicall --from DIR
#            --prefix /usr --destdir ROOT), every program run from inside it (chroot; for
#            aarch64 with qemu-aarch64-static copied in): the image needs nothing else
#
# The programs are the multicall's own list (its --help), not a list kept here.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_ROOT=${CARGO_TARGET_DIR:-$SRC/target}
MUSL=
AARCH64=

usage() {
    cat <<'EOF'
Usage: scripts/embedded-smoke.sh [--musl DIR] [--aarch64 DIR]

Tries the embedded multicall builds (scripts/build-multicall.sh --musl, --target aarch64):
DIR holds netplumb (defaults: target/multicall-musl, target/multicall-aarch64). With
neither option, both. Needs root or unprivileged user namespaces (the scripts make their
own sandboxes), and qemu-aarch64-static (Debian: qemu-user-static) for aarch64.
Exit status: 0 all held, 1 something failed, 2 usage error.
EOF
}

while [ $# -gt 0 ]; do
    case $1 in
    --musl | --aarch64)
        [ $# -ge 2 ] || { echo "embedded-smoke.sh: $1 needs a directory" >&2; exit 2; }
        if [ "$1" = --musl ]; then MUSL=$2; else AARCH64=$2; fi
        shift 2
        ;;
    -h | --help) usage && exit 0 ;;
    *)
        echo "embedded-smoke.sh: unknown argument '$1' (see --help)" >&2
        exit 2
        ;;
    esac
done
if [ -z "$MUSL$AARCH64" ]; then
    MUSL=$TARGET_ROOT/multicall-musl
    AARCH64=$TARGET_ROOT/multicall-aarch64
fi

die() {
    echo "embedded-smoke.sh: $*" >&2
    exit 1
}

TMP=$(mktemp -d /tmp/netplumb-embedded.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# The programs a multicall holds, from its usage line "(programs: a, b, c)"; RUN is how to
# run it (a qemu in front for another architecture).
programs() {
    local help
    help=$("$@" --help 2>&1) || die "$* --help failed: $(head -1 <<<"$help")"
    sed -n 's/.*(programs: \([^)]*\)).*/\1/p' <<<"$help" | tr -d ','
}

# every_program RUN_DIR PREFIX...: each program's --version names netplumb, its --help says
# how to use it; run as PREFIX... RUN_DIR/PROGRAM (the link's name is the program).
every_program() {
    local dir=$1 p
    shift
    for p in $PROGS; do
        "$@" "$dir/$p" --version 2>&1 | grep -q "^$p (netplumb)" || die "$p --version does not name netplumb: $("$@" "$dir/$p" --version 2>&1 | head -1)"
        "$@" "$dir/$p" --help 2>&1 | grep -qi "usage: *$p" || die "$p --help does not say its usage: $("$@" "$dir/$p" --help 2>&1 | head -1)"
        "$@" "$dir/$p" --no-such-option >/dev/null 2>&1 && die "$p accepted --no-such-option"
    done
    echo "ok: --version, --help and a bad option of each of: $PROGS"
}

# in_image DIR [QEMU]: installs DIR's multicall into an empty root as an image build would,
# then runs each program's link from inside that root.
in_image() {
    local root=$TMP/image-$(basename "$1") p qemu=()
    "$SRC/scripts/install.sh" --multicall --from "$1" --prefix /usr --destdir "$root" >/dev/null ||
        die "install.sh --multicall --from $1 failed"
    if [ -n "${2:-}" ]; then
        cp "$2" "$root/qemu" && qemu=(/qemu)
    fi
    local chroot=(chroot)
    [ "$(id -u)" = 0 ] || chroot=(unshare --user --map-root-user chroot)
    for p in $PROGS; do
        "${chroot[@]}" "$root" "${qemu[@]}" "/usr/sbin/$p" --version | grep -q "^$p (netplumb)" ||
            die "$p does not run from inside the image root"
    done
    echo "ok: installed into an empty image root, each program runs from inside it (chroot)"
}

if [ -n "$MUSL" ]; then
    echo "== musl: $MUSL/netplumb"
    [ -x "$MUSL/netplumb" ] || die "no $MUSL/netplumb: scripts/build-multicall.sh --musl first"
    case $(file -b "$MUSL/netplumb") in
    *x86-64*"statically linked"*) ;;
    *) die "$MUSL/netplumb is not a static x86-64 binary: $(file -b "$MUSL/netplumb")" ;;
    esac
    PROGS=$(programs "$MUSL/netplumb") || exit 1
    [ -n "$PROGS" ] || die "$MUSL/netplumb --help names no programs"
    mkdir "$TMP/musl"
    cp "$MUSL/netplumb" "$TMP/musl/"
    for p in $PROGS; do ln -s netplumb "$TMP/musl/$p"; done
    every_program "$TMP/musl"
    in_image "$MUSL"
    for s in two-namespaces bridge-net; do
        echo "== musl: scripts/$s.sh with the musl links on PATH"
        NETPLUMB_BIN=$TMP/musl "$SRC/scripts/$s.sh" || die "$s.sh failed with the musl build"
    done
fi

if [ -n "$AARCH64" ]; then
    echo "== aarch64: $AARCH64/netplumb under qemu-aarch64-static"
    [ -x "$AARCH64/netplumb" ] || die "no $AARCH64/netplumb: scripts/build-multicall.sh --target aarch64 first"
    QEMU=$(command -v qemu-aarch64-static) || die "no qemu-aarch64-static (Debian: qemu-user-static)"
    case $(file -b "$AARCH64/netplumb") in
    *"ARM aarch64"*"statically linked"*) ;;
    *) die "$AARCH64/netplumb is not a static aarch64 binary: $(file -b "$AARCH64/netplumb")" ;;
    esac
    PROGS=$(programs "$QEMU" "$AARCH64/netplumb") || exit 1
    [ -n "$PROGS" ] || die "$AARCH64/netplumb --help under qemu names no programs"
    # arm/: the binary and its links; bin/: a native wrapper per program that runs the link
    # under qemu (no binfmt_misc needed), so scripts and `nsexec exec` find them on PATH.
    mkdir -p "$TMP/aarch64/arm" "$TMP/aarch64/bin"
    cp "$AARCH64/netplumb" "$TMP/aarch64/arm/"
    for p in $PROGS; do
        ln -s netplumb "$TMP/aarch64/arm/$p"
        printf '#!/bin/sh\nexec %s %s "$@"\n' "$QEMU" "$TMP/aarch64/arm/$p" >"$TMP/aarch64/bin/$p"
        chmod 755 "$TMP/aarch64/bin/$p"
    done
    every_program "$TMP/aarch64/arm" "$QEMU"
    in_image "$AARCH64" "$QEMU"
    NETPLUMB_BIN=$TMP/aarch64/bin "$SRC/scripts/qemu-user.sh" || die "qemu-user.sh: the aarch64 build under emulation is not as measured"
fi
echo "embedded-smoke: all held"
