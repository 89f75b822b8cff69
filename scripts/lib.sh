# shellcheck shell=bash
# Shared settings for ripmi's scripts: versions, cache paths, logging.
# Sourced, never run.

RIPMI_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUST_VERSION=1.95.0
RUST_SRC_DEB_VERSION=1.95.0+dfsg1-2~bpo13+1
KERNEL_SERIES=7.3
LLVM_SUFFIX=-19
BINDGEN_VERSION=0.73.2
RIPMI_CACHE=${RIPMI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ripmi}

export RUSTUP_TOOLCHAIN=$RUST_VERSION
export LIBCLANG_PATH=/usr/lib/llvm${LLVM_SUFFIX}/lib
export PATH="$HOME/.cargo/bin:/usr/sbin:/sbin:$PATH"

log() { printf '\033[1m[%s]\033[0m %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '\033[1;31m[%s] error:\033[0m %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# The extracted kernel source tree (set up by scripts/setup).
kernel_src_dir() {
	echo "$RIPMI_CACHE/src/linux-source-$KERNEL_SERIES"
}
