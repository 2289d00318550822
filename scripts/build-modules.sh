#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build what runs in the VM, into $OUT_DIR (never into the repo):
#   module/ssif_bmc.ko        our driver
#   module-kunit/ssif_bmc.ko  our driver with its KUnit suite
#   link/ssif_link.ko         the software SMBus link (test only)
#   ssif-bmc-<soc>.dtb        <soc>-evb + the ssif-bmc node, for each of $SOCS
# (the user-space tools: scripts/build-tools.sh)
. "$(dirname "$0")/lib.sh"

KB=$(kbuild_dir)
SRC=$(ksrc_dir)
OUT="$OUT_DIR"
mkdir -p "$OUT/module" "$OUT/module-kunit" "$OUT/link"

stage "modules: ssif_bmc.ko, ssif_bmc.ko (KUnit), ssif_link.ko"
mk() { make -s -C "$KB" ARCH=$ARCH CROSS_COMPILE=$CROSS_COMPILE CONFIG_SSIF_BMC_RUST=m "$@" modules; }
mk M="$REPO" MO="$OUT/module"
mk M="$REPO" MO="$OUT/module-kunit" KUNIT=1
mk M="$REPO/tests/vm/ssif_link" MO="$OUT/link"

for soc in $SOCS; do
	stage "dtb: dts/aspeed-$soc-evb-ssif.dts"
	build_dtb "$soc" "$SRC" "$KB/scripts/dtc/dtc" "$(soc_dtb "$soc")"
done
