#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# kunit.sh [SOC...]: KUnit the way kernel developers run it. The kernel's own
# tools/testing/kunit/kunit.py configures and builds a kernel with our driver
# built in through the in-tree wiring (tests/kunit/.kunitconfig +
# tests/kunit/in-tree.kunitconfig + the platform of the qemu_config), boots it
# under QEMU on each SoC's EVB (default: every SoC of the suite) and prints its
# own summary.
#
# The base of its kunitconfig is the test kernel's .config (scripts/build-kernel.sh),
# less the symbols in-tree.kunitconfig sets, and its build directory starts as a
# copy of the test kernel's: the two kernels then differ only in our driver
# (built in, with its suite) and the upstream C driver (off), so kunit.py
# rebuilds those, the Rust crates (their cfg changes) and the link, not a second
# kernel, and the suites run under the test kernel's lockdep and debug options.
# Without a test kernel, kunit.py builds its own from the kunitconfigs alone. One
# build directory serves both SoCs: the combined ARMv6K + ARMv7 kernel boots on
# both, so the second run rebuilds nothing.
# Exits non-zero if kunit.py fails, or if our suite or the kernel's Rust suites
# did not run.
S="$(cd "$(dirname "$0")/../../scripts" && pwd)"
. "$S/lib.sh"
KSRC=$(ksrc_dir)
[ -f "$KSRC/.unpacked" ] || die "kernel source missing: run scripts/fetch-kernel.sh"
bash "$S/wire-in-tree.sh" "$KSRC" >/dev/null
KB=$(kbuild_dir)
BUILD="$KB-kunit"
base=()
if [ -f "$KB/vmlinux" ]; then
	if [ ! -f "$BUILD/.config" ]; then
		stage "kunit.py: seeding $BUILD from the test kernel's build"
		rm -rf "$BUILD" "$BUILD.tmp" && cp -a "$KB" "$BUILD.tmp" && mv "$BUILD.tmp" "$BUILD" ||
			die "could not copy $KB"
	fi
	# A symbol in two kunitconfigs must have one value, so drop the ones the
	# in-tree fragment sets from the test kernel's config.
	mkdir -p "$BUILD.base"
	syms=$(sed -n 's/^\(# \)\?\(CONFIG_[A-Za-z0-9_]*\)[= ].*/\2/p' "$REPO/tests/kunit/in-tree.kunitconfig" | paste -sd'|')
	grep -Ev "^(# )?($syms)[= ]" "$KB/.config" > "$BUILD.base/.kunitconfig"
	base=(--kunitconfig="$BUILD.base")
fi
rc=0
for soc in ${*:-$SOCS}; do
	stage "kunit.py: $(soc_machine "$soc") (build dir $BUILD)"
	t0=$(date +%s)
	krc=0
	rm -f "$BUILD/test.log"
	python3 "$KSRC/tools/testing/kunit/kunit.py" run --build_dir="$BUILD" "${base[@]}" \
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
