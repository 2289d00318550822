#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build what runs in the VM, into $OUT_DIR (never into the repo):
#   module/ssif_bmc.ko        our driver
#   module-kunit/ssif_bmc.ko  our driver with its KUnit suite
#   link/ssif_link.ko         the software SMBus link (test only)
#   ssif-bmc-<soc>.dtb        <soc>-evb + the ssif-bmc node, for each of $SOCS
#   tools/                    ssif-responder, ssif-vmtest, ssif-bridge, ssif-faults, ssif-ipmid (static ARMv6)
. "$(dirname "$0")/lib.sh"

KB=$(kbuild_dir)
SRC=$(ksrc_dir)
OUT="$OUT_DIR"
mkdir -p "$OUT/module" "$OUT/module-kunit" "$OUT/link" "$OUT/tools"

stage "modules: ssif_bmc.ko, ssif_bmc.ko (KUnit), ssif_link.ko"
mk() { make -s -C "$KB" ARCH=$ARCH CROSS_COMPILE=$CROSS_COMPILE CONFIG_SSIF_BMC_RUST=m "$@" modules; }
mk M="$REPO" MO="$OUT/module"
mk M="$REPO" MO="$OUT/module-kunit" KUNIT=1
mk M="$REPO/tests/vm/ssif_link" MO="$OUT/link"

for soc in $SOCS; do
	stage "dtb: dts/aspeed-$soc-evb-ssif.dts"
	cpp -nostdinc -undef -x assembler-with-cpp -D__DTS__ \
		-I "$SRC/arch/arm/boot/dts/aspeed" -I "$SRC/scripts/dtc/include-prefixes" -I "$SRC/include" \
		"$REPO/dts/aspeed-$soc-evb-ssif.dts" |
		"$KB/scripts/dtc/dtc" -q -I dts -O dtb -o "$(soc_dtb "$soc")" -
done

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
