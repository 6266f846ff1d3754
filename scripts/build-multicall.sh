#!/usr/bin/env bash
# build-multicall.sh: the multicall binary `netplumb` (every program) small, for embedded
# installs: linked against the system's libc.so.6 and nothing else, with the standard library
# rebuilt for size. The single programs are not touched: `cargo build --release` keeps making
# them static (see .cargo/config.toml), and this build has a target directory of its own.
#
# Where the bytes go (x86_64, measured; README, Sizes): the release multicall is static glibc,
# about 1.5 MB. Linked dynamically it is about 810 KB and needs libgcc_s.so.1 as well, because
# the prebuilt standard library keeps its panic machinery: the default panic hook prints
# backtraces, and with it come the unwinder and a DWARF symbolizer (gimli, addr2line,
# miniz_oxide, rustc-demangle: about 170 KB of code, plus unwind tables), reachable from any
# panic whatever `panic = "abort"` says. Stable Rust cannot leave them out. Rebuilding the
# standard library (-Z build-std, nightly, the rust-src component) with panics that abort at
# once (-C panic=immediate-abort, or the panic_immediate_abort feature of older nightlies)
# drops all of it and libgcc_s with it; without unwind tables, which nothing then reads, the
# binary is about 450 KB and needs libc.so.6 alone.
#
# A panic in this binary then ends it with SIGILL and no message. netplumb's rule is that no
# input makes any program panic; the single programs, built the ordinary way, still say where
# a panic happened.
#
# --musl and --target aarch64 build the same binary fully static against musl, for embedded
# images (Alpine, OpenWrt, buildroot): x86_64-unknown-linux-musl, or aarch64-unknown-linux-musl
# run on x86_64 under qemu-aarch64-static. Both link with Debian's pieces: the cross gcc for
# the architecture (x86_64-linux-gnu-gcc, aarch64-linux-gnu-gcc) with musl's gcc specs, which
# is what musl-tools' musl-gcc does, and musl's crt objects and libc.a from musl-dev
# (musl-dev:arm64 through dpkg's multiarch for aarch64). No rustup target is needed: the
# standard library is rebuilt from rust-src. The libc crate links libc.a itself; the unwind
# crate asks for a static libunwind.a, which nothing here calls (panics abort at once), so an
# empty one stands in for it. Relocation model static: `file` says "statically linked", not
# static-pie, and musl's specs have no self-relocating start for static-pie anyway.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLCHAIN=${NIGHTLY:-nightly}
OUT=
STABLE=0
KIND=glibc

usage() {
    cat <<'EOF'
Usage: scripts/build-multicall.sh [--out DIR] [--stable | --musl | --target aarch64]

Builds the multicall binary netplumb, linked only against libc.so.6, with the standard
library rebuilt for size (a nightly toolchain with rust-src: rustup toolchain install
nightly --component rust-src; NIGHTLY=nightly-YYYY-MM-DD picks another), and puts it in
DIR/netplumb (default: target/multicall/netplumb; CARGO_TARGET_DIR moves target/).
Checks that it needs no other library, and prints its size.

  --stable    build with the stable toolchain instead: linked against libc.so.6 and
              libgcc_s.so.1, about 810 KB (the standard library's panic machinery stays)
  --musl      fully static for x86_64-unknown-linux-musl, in target/multicall-musl/
              (Debian: musl-tools)
  --target aarch64
              fully static for aarch64-unknown-linux-musl, in target/multicall-aarch64/
              (Debian: gcc-aarch64-linux-gnu, and musl-dev:arm64 after
              dpkg --add-architecture arm64); runs on x86_64 under qemu-aarch64-static
  --out DIR   where to put netplumb
  -h, --help  this text

Then: scripts/install.sh --multicall (which takes target/multicall/netplumb).
EOF
}

while [ $# -gt 0 ]; do
    case $1 in
    --out)
        [ $# -ge 2 ] || { echo "build-multicall.sh: --out needs a value" >&2; exit 2; }
        OUT=$2
        shift 2
        ;;
    --out=*) OUT=${1#*=} && shift ;;
    --stable) STABLE=1 && shift ;;
    --musl) KIND=musl && shift ;;
    --target)
        [ $# -ge 2 ] || { echo "build-multicall.sh: --target needs a value" >&2; exit 2; }
        case $2 in
        aarch64) KIND=aarch64 ;;
        *) echo "build-multicall.sh: --target $2: only aarch64 (x86_64 is --musl)" >&2; exit 2 ;;
        esac
        shift 2
        ;;
    -h | --help) usage && exit 0 ;;
    *)
        echo "build-multicall.sh: unknown argument '$1' (see --help)" >&2
        exit 2
        ;;
    esac
done

die() {
    echo "build-multicall.sh: $*" >&2
    exit 1
}

[ $STABLE = 0 ] || [ $KIND = glibc ] || { echo "build-multicall.sh: --stable is for the glibc build only" >&2; exit 2; }

TARGET_ROOT=${CARGO_TARGET_DIR:-$SRC/target}
dir=multicall
[ $KIND = glibc ] || dir=multicall-$KIND
OUT=${OUT:-$TARGET_ROOT/$dir}
# Its own target directory: other flags than the release build's, and another compiler, so
# that neither build undoes the other's artifacts.
export CARGO_TARGET_DIR=$TARGET_ROOT/$dir
cd "$SRC"

# --no-default-features: without overlayctl (the `overlay` feature), about 170 KB that the
# embedded multicall's 600 KB cap has no room for.
# RUSTFLAGS replaces .cargo/config.toml's flags (+crt-static) for this build only.
flags=(-C target-feature=-crt-static)
if [ $STABLE = 1 ]; then
    export RUSTFLAGS="${flags[*]}"
    cargo build --release --bin netplumb --no-default-features
    built=$CARGO_TARGET_DIR/release/netplumb
    allowed="libc.so.6 libgcc_s.so.1"
else
    command -v rustup >/dev/null || die "needs rustup and a nightly toolchain (or --stable)"
    cargo "+$TOOLCHAIN" --version >/dev/null 2>&1 ||
        die "no $TOOLCHAIN toolchain: rustup toolchain install $TOOLCHAIN --component rust-src (or --stable)"
    sysroot=$(rustc "+$TOOLCHAIN" --print sysroot)
    [ -d "$sysroot/lib/rustlib/src/rust/library" ] ||
        die "the $TOOLCHAIN toolchain has no rust-src: rustup component add rust-src --toolchain $TOOLCHAIN"
    host=$(rustc "+$TOOLCHAIN" -vV | sed -n 's/^host: //p')
    case $KIND in
    glibc)
        case $host in
        *-linux-gnu*) ;;
        *) die "host $host: this build is for glibc Linux (a libc.so.6 to link against)" ;;
        esac
        target=$host
        allowed="libc.so.6"
        ;;
    *)
        arch=x86_64
        [ $KIND = musl ] || arch=$KIND
        target=$arch-unknown-linux-musl
        gcc=$arch-linux-gnu-gcc
        specs=/usr/lib/$arch-linux-musl/musl-gcc.specs
        command -v "$gcc" >/dev/null || die "no $gcc (Debian: apt-get install gcc-${arch//_/-}-linux-gnu)"
        [ -f "$specs" ] && [ -f "/usr/lib/$arch-linux-musl/libc.a" ] || case $arch in
        x86_64) die "no musl in /usr/lib/$arch-linux-musl (Debian: apt-get install musl-tools)" ;;
        *) die "no musl in /usr/lib/$arch-linux-musl (Debian: dpkg --add-architecture arm64; apt-get update; apt-get install musl-dev:arm64)" ;;
        esac
        mkdir -p "$CARGO_TARGET_DIR/stub"
        [ -f "$CARGO_TARGET_DIR/stub/libunwind.a" ] || ar crs "$CARGO_TARGET_DIR/stub/libunwind.a"
        flags=(-C target-feature=+crt-static -C relocation-model=static -C "linker=$gcc"
            -C "link-arg=-specs=$specs" -C link-self-contained=no -L "native=$CARGO_TARGET_DIR/stub")
        ;;
    esac
    std_features=(-Z build-std-features=optimize_for_size)
    if rustc "+$TOOLCHAIN" -Zunstable-options -Cpanic=immediate-abort --print cfg >/dev/null 2>&1; then
        flags+=(-Zunstable-options -Cpanic=immediate-abort)
    else
        # Nightlies before -C panic=immediate-abort: the standard library feature.
        std_features=(-Z build-std-features=panic_immediate_abort,optimize_for_size)
    fi
    # Nothing unwinds: no unwind tables (about 75 KB). Nothing prints a panic's location:
    # without the file names and lines (about 20 KB); the standard library's smaller
    # variants where it has two (about 20 KB).
    flags+=(-C force-unwind-tables=no -Z location-detail=none)
    export RUSTFLAGS="${flags[*]}"
    cargo "+$TOOLCHAIN" build --release --bin netplumb --no-default-features --target "$target" \
        -Z build-std=std,panic_abort "${std_features[@]}"
    built=$CARGO_TARGET_DIR/$target/release/netplumb
fi

[ -f "$built" ] || die "cargo built no $built"
if [ $KIND != glibc ]; then
    # Static through and through: no interpreter, no library, and the architecture asked for.
    ! readelf -l "$built" | grep -q INTERP || die "$built asks for an interpreter (dynamic loader)"
    [ -z "$(readelf -d "$built" 2>/dev/null | grep NEEDED)" ] || die "$built needs a shared library"
    desc=$(file -b "$built")
    case $desc in
    *"statically linked"*) ;;
    *) die "$built: file says '$desc', not statically linked" ;;
    esac
    mkdir -p "$OUT"
    install -m 755 "$built" "$OUT/netplumb"
    echo "$OUT/netplumb: $(stat -c %s "$OUT/netplumb") bytes, static, $target"
    exit 0
fi
needed=$(readelf -d "$built" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
for lib in $needed; do
    case " $allowed " in
    *" $lib "*) ;;
    *) die "$built needs $lib (expected only: $allowed)" ;;
    esac
done
case " $needed " in
*" libc.so.6 "*) ;;
*) die "$built is not linked against libc.so.6 (NEEDED: ${needed:-none})" ;;
esac
mkdir -p "$OUT"
install -m 755 "$built" "$OUT/netplumb"
echo "$OUT/netplumb: $(stat -c %s "$OUT/netplumb") bytes, needs ${needed% }"
