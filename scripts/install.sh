#!/usr/bin/env bash
# install.sh: installs netplumb's programs and man pages the way distribution packages lay
# them out, and records what it installed so that --uninstall removes exactly that.
#
#   PREFIX/sbin/{brctl,vethctl,ifctl,nsexec,ipfwd,natctl,...} the programs, or with --multicall
#   PREFIX/sbin/netplumb + those names as symlinks to it      the multicall binary
#                                   (the programs: bins/lib.rs PROGRAMS, the multicall's table)
#   PREFIX/share/man/man8/*.8, PREFIX/share/man/man7/netplumb.7
#   PREFIX/share/netplumb/manifest                            what was installed
#
# The manifest has one line per thing installed: "dir PATH" for a directory this script
# made (it did not exist before), "file PATH SHA256" for a program or page, "link PATH
# TARGET" for a symlink; PATH without DESTDIR, fields separated by tabs. --uninstall
# removes a file only while its checksum is still the one installed, a link only while it
# still points where it was made to, and a directory only when it is empty; everything else
# is left in place and named.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The programs: the multicall's table in bins/lib.rs, `("NAME", NAME::main),` a line, so that a
# new program installs without a second list to keep, and a build for another architecture
# (which cannot be run here to ask it) installs all the same.
mapfile -t PROGRAMS < <(sed -n '/^pub const PROGRAMS/,/^];/s/^ *("\([a-z0-9]*\)", .*/\1/p' "$SRC/bins/lib.rs")
[ ${#PROGRAMS[@]} -gt 0 ] || { echo "install.sh: no programs in $SRC/bins/lib.rs PROGRAMS" >&2; exit 1; }

usage() {
    cat <<'EOF'
Usage: scripts/install.sh [--prefix DIR] [--destdir DIR] [--multicall] [--from DIR] [--force]
       scripts/install.sh --uninstall [--prefix DIR] [--destdir DIR]

Installs the release programs into PREFIX/sbin and the man pages into
PREFIX/share/man/man8 and man7, and records them in PREFIX/share/netplumb/manifest.

  --prefix DIR    where to install (default /usr/local; absolute)
  --destdir DIR   a staging root prepended to every path, as for a package build
                  (default: $DESTDIR, else none)
  --multicall     install the multicall binary netplumb, and each program (brctl,
                  vethctl, ifctl, nsexec, ipfwd, natctl, ...) as a symlink to it
  --from DIR      where the built programs are (default: target/release, and for
                  --multicall target/multicall, where scripts/build-multicall.sh puts
                  the small one; target/ is $CARGO_TARGET_DIR when that is set).
                  --multicall --from target/release installs the static one,
                  --from target/multicall-musl or target/multicall-aarch64 the
                  embedded builds (scripts/build-multicall.sh --musl, --target aarch64)
  --force         replace files that a netplumb install did not put there
                  (without it, such a file stops the install before anything changes)
  --uninstall     remove what the manifest lists, and the manifest, and nothing else
  -h, --help      this text

Nothing is built: run `cargo build --release` (for --multicall, scripts/build-multicall.sh)
first, as the user who owns the tree, and install.sh as the user who may write PREFIX.
Exit status: 0 done, 1 failed, 2 usage error.
EOF
}

die() {
    echo "install.sh: $*" >&2
    exit 1
}
usage_error() {
    echo "install.sh: $*" >&2
    echo "see scripts/install.sh --help" >&2
    exit 2
}

PREFIX=/usr/local
DESTDIR=${DESTDIR:-}
MULTICALL=0
UNINSTALL=0
FORCE=0
FROM=
while [ $# -gt 0 ]; do
    case $1 in
    --prefix | --destdir | --from)
        [ $# -ge 2 ] || usage_error "$1 needs a value"
        case $1 in
        --prefix) PREFIX=$2 ;;
        --destdir) DESTDIR=$2 ;;
        --from) FROM=$2 ;;
        esac
        shift 2
        ;;
    --prefix=*) PREFIX=${1#*=} && shift ;;
    --destdir=*) DESTDIR=${1#*=} && shift ;;
    --from=*) FROM=${1#*=} && shift ;;
    --multicall) MULTICALL=1 && shift ;;
    --uninstall) UNINSTALL=1 && shift ;;
    --force) FORCE=1 && shift ;;
    -h | --help) usage && exit 0 ;;
    *) usage_error "unknown argument '$1'" ;;
    esac
done

case $PREFIX in
/*) ;;
*) usage_error "--prefix must be an absolute path, not '$PREFIX'" ;;
esac
for v in "$PREFIX" "$DESTDIR" "$FROM"; do
    case $v in
    *$'\t'* | *$'\n'*) usage_error "paths may not hold tabs or newlines" ;;
    esac
done
while [ "$PREFIX" != / ] && [ "${PREFIX%/}" != "$PREFIX" ]; do PREFIX=${PREFIX%/}; done
DESTDIR=${DESTDIR%/}
if [ $UNINSTALL = 1 ] && { [ $MULTICALL = 1 ] || [ -n "$FROM" ] || [ $FORCE = 1 ]; }; then
    usage_error "--uninstall takes only --prefix and --destdir (the manifest says what to remove)"
fi

base=${PREFIX%/} # "" for /
SBIN=$base/sbin
MAN8=$base/share/man/man8
MAN7=$base/share/man/man7
SHARE=$base/share/netplumb
MANIFEST=$SHARE/manifest

# A path as it is on this system: DESTDIR in front.
here() { printf '%s%s' "$DESTDIR" "$1"; }

sha() { sha256sum "$1" | cut -d' ' -f1; }

# The manifest lines of $1 (and of an install that was cut short, $1.new), "-" when none.
read_manifest() {
    local m
    for m in "$(here "$1")" "$(here "$1").new"; do
        [ -f "$m" ] && grep -v '^#' "$m"
    done
    return 0
}

# Removes what manifest lines (on stdin) list, while each is still what was installed:
# files and links first, then directories deepest first.
remove_listed() {
    local kind path data p lines kept=0
    lines=$(cat)
    while IFS=$'\t' read -r kind path data; do
        p=$(here "$path")
        case $kind in
        file)
            if [ -f "$p" ] && [ ! -L "$p" ] && [ "$(sha "$p")" = "$data" ]; then
                rm -f -- "$p" && echo "removed $p"
            elif [ -e "$p" ] || [ -L "$p" ]; then
                echo "install.sh: $p changed since it was installed; left in place" >&2
                kept=1
            fi
            ;;
        link)
            if [ -L "$p" ] && [ "$(readlink "$p")" = "$data" ]; then
                rm -f -- "$p" && echo "removed $p"
            elif [ -e "$p" ] || [ -L "$p" ]; then
                echo "install.sh: $p is no longer the link installed; left in place" >&2
                kept=1
            fi
            ;;
        esac
    done <<<"$lines"
    # Directories: deepest first; only the ones this script made, and only when empty.
    printf '%s\n' "$lines" | awk -F'\t' '$1 == "dir" { print length($2) "\t" $2 }' |
        sort -rn | cut -f2- | while IFS= read -r path; do
        p=$(here "$path")
        if [ -d "$p" ] && rmdir -- "$p" 2>/dev/null; then
            echo "removed $p/"
        fi
    done
    return $kept
}

if [ $UNINSTALL = 1 ]; then
    m=$(here "$MANIFEST")
    if [ ! -f "$m" ] && [ ! -f "$m.new" ]; then
        die "nothing to uninstall: no manifest at $m (was it installed with this --prefix and --destdir?)"
    fi
    listed=$(read_manifest "$MANIFEST")
    # The manifest goes before the directories it is in.
    rm -f -- "$m" "$m.new"
    status=0
    printf '%s\n' "$listed" | remove_listed || status=1
    [ $status = 0 ] || die "some files were changed after the install and were left in place"
    exit 0
fi

# ---- install --------------------------------------------------------------------------------

if [ -z "$FROM" ]; then
    if [ $MULTICALL = 1 ]; then
        FROM=${CARGO_TARGET_DIR:-$SRC/target}/multicall
    else
        FROM=${CARGO_TARGET_DIR:-$SRC/target}/release
    fi
fi
[ -d "$FROM" ] || die "no build at $FROM: run 'cargo build --release' (or for --multicall scripts/build-multicall.sh) first, or give --from DIR"

# What to install: "mode source destination" (mode "link" for a symlink, source its target).
plan=()
if [ $MULTICALL = 1 ]; then
    [ -f "$FROM/netplumb" ] || die "no multicall binary $FROM/netplumb: run scripts/build-multicall.sh first (or give --from target/release for the static one)"
    plan+=("755"$'\t'"$FROM/netplumb"$'\t'"$SBIN/netplumb")
    for p in "${PROGRAMS[@]}"; do
        # A program the multicall was built without (overlayctl in the embedded builds) gets
        # no link: its name is not in the binary's table. grep, not a run: the binary may be
        # another architecture's.
        grep -q "$p" "$FROM/netplumb" || continue
        plan+=("link"$'\t'"netplumb"$'\t'"$SBIN/$p")
    done
else
    for p in "${PROGRAMS[@]}"; do
        [ -f "$FROM/$p" ] || die "no program $FROM/$p: run 'cargo build --release' first (or give --from DIR)"
        plan+=("755"$'\t'"$FROM/$p"$'\t'"$SBIN/$p")
    done
fi
for p in "${PROGRAMS[@]}"; do
    [ -f "$SRC/man/$p.8" ] || die "no man page $SRC/man/$p.8"
    plan+=("644"$'\t'"$SRC/man/$p.8"$'\t'"$MAN8/$p.8")
done
[ -f "$SRC/man/netplumb.7" ] || die "no man page $SRC/man/netplumb.7"
plan+=("644"$'\t'"$SRC/man/netplumb.7"$'\t'"$MAN7/netplumb.7")

old=$(read_manifest "$MANIFEST")
# Whether $1 (a path without DESTDIR) is as an earlier install of ours left it.
ours() {
    local kind path data p
    while IFS=$'\t' read -r kind path data; do
        [ "$path" = "$1" ] || continue
        p=$(here "$path")
        case $kind in
        file) [ -f "$p" ] && [ ! -L "$p" ] && [ "$(sha "$p")" = "$data" ] && return 0 ;;
        link) [ -L "$p" ] && [ "$(readlink "$p")" = "$data" ] && return 0 ;;
        esac
    done <<<"$old"
    return 1
}

# Before anything changes: nobody else's file is in the way.
if [ $FORCE = 0 ]; then
    for entry in "${plan[@]}"; do
        dest=${entry##*$'\t'}
        p=$(here "$dest")
        if { [ -e "$p" ] || [ -L "$p" ]; } && ! ours "$dest"; then
            die "$p is there and was not installed by netplumb; remove it, or give --force to replace it"
        fi
    done
fi

# The directories, each one made here recorded (parents first) so that --uninstall can take
# it away again; and the ones an earlier install made, kept in the record.
new_dirs=()
mkdirs() {
    local d=$1 parts=() p
    while [ "$d" != / ] && [ -n "$d" ] && [ ! -d "$(here "$d")" ]; do
        parts=("$d" "${parts[@]}")
        d=$(dirname "$d")
    done
    for p in "${parts[@]}"; do
        mkdir -m 755 -- "$(here "$p")"
        new_dirs+=("$p")
    done
}
[ -z "$DESTDIR" ] || mkdir -p -- "$DESTDIR"
mkdirs "$SHARE"
m=$(here "$MANIFEST")
{
    echo "# netplumb install manifest ($(date -u +%Y-%m-%dT%H:%M:%SZ)): scripts/install.sh --uninstall removes these"
    printf '%s\n' "$old" | awk -F'\t' '$1 == "dir"'
    for d in "${new_dirs[@]}"; do printf 'dir\t%s\n' "$d"; done
} >"$m.new"
for dir in "$SBIN" "$MAN8" "$MAN7"; do
    new_dirs=()
    mkdirs "$dir"
    for d in "${new_dirs[@]}"; do printf 'dir\t%s\n' "$d" >>"$m.new"; done
done

installed=()
for entry in "${plan[@]}"; do
    IFS=$'\t' read -r mode from dest <<<"$entry"
    p=$(here "$dest")
    if [ -L "$p" ] || [ -e "$p" ]; then
        [ ! -d "$p" ] || [ -L "$p" ] || die "$p is a directory"
        rm -f -- "$p"
    fi
    if [ "$mode" = link ]; then
        ln -s -- "$from" "$p"
        printf 'link\t%s\t%s\n' "$dest" "$from" >>"$m.new"
        echo "$p -> $from"
    else
        install -m "$mode" -- "$from" "$p"
        printf 'file\t%s\t%s\n' "$dest" "$(sha "$p")" >>"$m.new"
        echo "$p"
    fi
    installed+=("$dest")
done

# What an earlier install put there and this one did not (singles after a multicall, or the
# other way round): removed, as --uninstall would.
stale=$(printf '%s\n' "$old" | awk -F'\t' '$1 == "file" || $1 == "link"' |
    while IFS=$'\t' read -r kind path data; do
        keep=0
        for d in "${installed[@]}"; do [ "$d" != "$path" ] || keep=1; done
        [ $keep = 1 ] || printf '%s\t%s\t%s\n' "$kind" "$path" "$data"
    done)
if [ -n "$stale" ]; then
    printf '%s\n' "$stale" | remove_listed || true
fi
mv -f -- "$m.new" "$m"
echo "$m: the record of this install; scripts/install.sh --uninstall${DESTDIR:+ --destdir $DESTDIR} --prefix $PREFIX removes it all"
