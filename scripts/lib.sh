# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the build/test scripts. Source it; do not run it.

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KVER=7.3
# Heavy build products live outside the repository.
CACHE=${SSIF_BMC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ssif-bmc-rs}
ARCH=arm
CROSS_COMPILE=arm-linux-gnueabihf-
export ARCH CROSS_COMPILE
export LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-19/lib}
export PATH="$HOME/.cargo/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive
# Host-side cargo builds (protocol tests, tools tests, ssif-cost) also go to the cache.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE/out/host-target}

mkdir -p "$CACHE"

# Which kernel to build and boot: "test", the debug configuration every test runs on, or
# "release", the same without the debug options (kconfig/release.config), for make bench.
KVARIANT=${SSIF_KVARIANT:-test}
case $KVARIANT in
test) OUT_DIR="$CACHE/out" ;;
release) OUT_DIR="$CACHE/out-release" ;;
*) echo "error: SSIF_KVARIANT must be test or release, not $KVARIANT" >&2; exit 1 ;;
esac
export SSIF_KVARIANT=$KVARIANT

# The SoC the VM emulates: ast2600 (ARMv7 Cortex-A7, the default) or ast2500 (ARMv6K
# ARM1176). One kernel, one set of modules and one initramfs serve both; only the QEMU
# machine and the device tree differ. The console is ttyS4 (UART5) on both EVBs.
SOC=${SOC:-ast2600}
case $SOC in
ast2600 | ast2500) ;;
*) echo "error: SOC must be ast2600 or ast2500, not $SOC" >&2; exit 1 ;;
esac
export SOC
# Every SoC the test suite runs on.
SOCS="ast2600 ast2500"

# soc_machine [SOC]: QEMU's machine for the SoC's evaluation board.
soc_machine() {
	echo "${1:-$SOC}-evb"
}

# soc_dtb [SOC]: the EVB's device tree with our ssif-bmc node (scripts/build-modules.sh).
soc_dtb() {
	echo "$OUT_DIR/ssif-bmc-${1:-$SOC}.dtb"
}

# build_dtb SOC KSRC DTC OUT: our dts/aspeed-SOC-evb-ssif.dts, preprocessed against the
# kernel source KSRC and compiled with that tree's dtc, to OUT.
build_dtb() {
	cpp -nostdinc -undef -x assembler-with-cpp -D__DTS__ \
		-I "$2/arch/arm/boot/dts/aspeed" -I "$2/scripts/dtc/include-prefixes" -I "$2/include" \
		"$REPO/dts/aspeed-$1-evb-ssif.dts" | "$3" -q -I dts -O dtb -o "$4" -
}

# soc_stock_dtb [SOC]: the kernel's own EVB device tree, without our node.
soc_stock_dtb() {
	echo "$(kbuild_dir)/arch/arm/boot/dts/aspeed/aspeed-${1:-$SOC}-evb.dtb"
}

_t0=${_SSIF_T0:-$(date +%s)}
export _SSIF_T0=$_t0

# stage NAME: print a progress line with the elapsed time of the whole run.
stage() {
	local now
	now=$(date +%s)
	printf '==> [%4ss] %s\n' "$((now - _t0))" "$*"
}

die() {
	echo "error: $*" >&2
	exit 1
}

# Source tree of the unpacked kernel (set by fetch-kernel.sh).
ksrc_dir() {
	echo "$CACHE/linux-source-$KVER"
}

# The config fragments merged on top of aspeed_g5_defconfig, in order (later ones win).
config_fragments() {
	echo "$REPO/kconfig/aspeed-rust.config"
	echo "$REPO/tests/kunit/.kunitconfig"
	if [ "$KVARIANT" = release ]; then
		echo "$REPO/kconfig/release.config"
	fi
}

# Hash of everything that decides the kernel configuration: the fragments' settings, not
# their comments, so that rewording a comment does not cost a kernel build.
config_key() {
	local f
	config_fragments | while IFS= read -r f; do
		sed -n 's/[[:space:]]*$//; /^CONFIG_/p; /^# CONFIG_[A-Za-z0-9_]* is not set$/p' "$f"
	done | sha256sum | cut -c1-12
}

# Build directory of the cached kernel, keyed by version and config fragment.
kbuild_dir() {
	local v
	v=$(cat "$(ksrc_dir)/.debian-version" 2>/dev/null || echo "$KVER")
	echo "$CACHE/build-$v-$(config_key)"
}

kmake() {
	make -C "$(ksrc_dir)" O="$(kbuild_dir)" ARCH=$ARCH CROSS_COMPILE=$CROSS_COMPILE \
		LLVM= -j"$(nproc)" "$@"
}

# The Debian mirror the machine's apt sources already name (never hard-coded).
debian_mirror() {
	local uri
	uri=$( { cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true; } |
		awk '/^URIs:/{print $2} /^deb /{print ($2 ~ /^\[/) ? $3 : $2}' | grep -v -- '-security' | head -n1 || true)
	[ -n "$uri" ] || die "no Debian mirror found in the apt sources"
	echo "$uri"
}

# A VM console log without timestamps and carriage returns.
console_lines() {
	sed 's/\r$//; s/^\[[ 0-9.]*\] //' "$1"
}
