#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the VM's user-space tools into $OUT_DIR/tools (never into the repo): ssif-responder,
# ssif-vmtest, ssif-bridge, ssif-faults, ssif-ipmid, static ARMv6. They need no kernel.
. "$(dirname "$0")/lib.sh"

OUT="$OUT_DIR"
mkdir -p "$OUT/tools"

# arm-unknown-linux-gnueabi is ARMv6 with the soft-float ABI: Debian's armel. rustup ships
# no std for it here, so std is built from rust-src (-Zbuild-std, hence RUSTC_BOOTSTRAP).
TARGET=arm-unknown-linux-gnueabi
BINS=(ssif-responder ssif-vmtest ssif-bridge ssif-faults ssif-ipmid)
stage "tools: ${BINS[*]} ($TARGET, static)"
(cd "$REPO/tools" && RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$OUT/tools-target" cargo build -q --release \
	-Zbuild-std=std,panic_abort --target $TARGET)
rm -f "$OUT"/tools/*
for bin in "${BINS[@]}"; do
	cp "$OUT/tools-target/$TARGET/release/$bin" "$OUT/tools/"
	# One ARMv7 instruction would kill it on the AST2500 ("Illegal instruction").
	arch=$(arm-linux-gnueabi-readelf -A "$OUT/tools/$bin" | sed -n 's/^ *Tag_CPU_arch: //p')
	case $arch in
	v6 | v6K | v6KZ) ;;
	*) die "$bin is built for ${arch:-no ARM architecture}, not ARMv6" ;;
	esac
done
