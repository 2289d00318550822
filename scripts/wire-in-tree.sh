#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# wire-in-tree.sh [KSRC]: make this repository part of a kernel source tree
# (default: the cached one) for built-in and KUnit builds: a link
# drivers/char/ipmi/ssif_bmc_rust -> this repo, its Kconfig sourced from
# drivers/char/ipmi/Kconfig and its directory added to the Makefile.
# Idempotent. Then enable CONFIG_SSIF_BMC_RUST (y or m) and, for KUnit,
# CONFIG_SSIF_BMC_RUST_KUNIT_TEST; disable CONFIG_SSIF_IPMI_BMC.
. "$(dirname "$0")/lib.sh"

KSRC=${1:-$(ksrc_dir)}
dir="$KSRC/drivers/char/ipmi"
[ -f "$dir/Kconfig" ] || die "$KSRC is not a kernel source tree"
ln -sfn "$REPO" "$dir/ssif_bmc_rust"
grep -q 'ssif_bmc_rust/Kconfig' "$dir/Kconfig" ||
	sed -i '/^endif # IPMI_HANDLER/i source "drivers/char/ipmi/ssif_bmc_rust/Kconfig"\n' "$dir/Kconfig"
grep -q 'ssif_bmc_rust/' "$dir/Makefile" ||
	echo 'obj-$(CONFIG_SSIF_BMC_RUST) += ssif_bmc_rust/' >> "$dir/Makefile"
grep -q 'ssif_bmc_rust/Kconfig' "$dir/Kconfig" || die "could not add the Kconfig source line"
echo "wired: $dir/ssif_bmc_rust -> $REPO"
