#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# kunit.sh [SOC...]: KUnit the way kernel developers run it. The kernel's own
# tools/testing/kunit/kunit.py configures and builds a kernel from a minimal
# config (tests/kunit/.kunitconfig + tests/kunit/in-tree.kunitconfig + the
# platform of the qemu_config), with our driver built in through the in-tree
# wiring, boots it under QEMU on each SoC's EVB (default: every SoC of the
# suite) and prints its own summary. One build directory serves both SoCs: the
# two qemu_configs share their kconfig, so the second run rebuilds nothing.
# Exits non-zero if kunit.py fails, or if our suite or the kernel's Rust suites
# did not run.
S="$(cd "$(dirname "$0")/../../scripts" && pwd)"
. "$S/lib.sh"
KSRC=$(ksrc_dir)
[ -f "$KSRC/.unpacked" ] || die "kernel source missing: run scripts/fetch-kernel.sh"
bash "$S/wire-in-tree.sh" "$KSRC" >/dev/null
BUILD="$CACHE/kunit-build-aspeed"
rc=0
for soc in ${*:-$SOCS}; do
	stage "kunit.py: $(soc_machine "$soc") (build dir $BUILD)"
	t0=$(date +%s)
	krc=0
	rm -f "$BUILD/test.log"
	python3 "$KSRC/tools/testing/kunit/kunit.py" run --build_dir="$BUILD" \
		--kunitconfig="$REPO/tests/kunit" --kunitconfig="$REPO/tests/kunit/in-tree.kunitconfig" \
		--qemu_config="$REPO/tests/kunit/qemu_configs/$soc.py" \
		--cross_compile="$CROSS_COMPILE" --jobs="$(nproc)" --timeout=600 || krc=$?
	# kunit.py fails on a failed or crashed case, but not on a suite that never ran.
	if [ -f "$BUILD/test.log" ]; then
		python3 "$S/ktap.py" "$BUILD/test.log" --require ssif_bmc_rust --require rust_kernel_fmt |
			sed -n 's/^kunit: /kunit.py check: /p' || krc=1
	else
		krc=1
	fi
	echo "kunit.py: -M $(soc_machine "$soc"): $([ $krc = 0 ] && echo ok || echo FAILED) in $(($(date +%s) - t0)) s"
	[ $krc = 0 ] || rc=1
done
exit $rc
