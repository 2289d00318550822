#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# kunit.sh [SOC...]: KUnit the way kernel developers run it, on the kernel tree our
# patch series makes. The kernel's own tools/testing/kunit/kunit.py configures and
# builds, with W=1, the tree scripts/patches.sh (make patches) left with the series
# applied by `git am`, our driver built in with its suite (tests/kunit/.kunitconfig +
# tests/kunit/in-tree.kunitconfig + the platform of the qemu_config); boots it under
# QEMU on each SoC's EVB (default: every SoC of the suite) and prints its own summary.
#
# The base of its kunitconfig is the test kernel's .config (scripts/build-kernel.sh),
# less the symbols in-tree.kunitconfig sets, so the suites run under the test kernel's
# lockdep and debug options. Its build directory is its own, in the cache: the first
# build is a whole kernel, later ones rebuild what the series changed. Our driver's
# objects are removed first, so that every run compiles it and shows its warnings.
# One build directory serves both SoCs: the combined ARMv6K + ARMv7 kernel boots on
# both, so the second run rebuilds nothing.
# Exits non-zero if kunit.py fails, if our suite or the kernel's Rust suites did not
# run, or if the W=1 build warned about a file the series adds or changes.
S="$(cd "$(dirname "$0")/../../scripts" && pwd)"
. "$S/lib.sh"
ver=$(cat "$(ksrc_dir)/.debian-version" 2>/dev/null) || die "kernel source missing: run scripts/fetch-kernel.sh"
TREE="$CACHE/patches/linux-$ver"
am=$(git -C "$TREE" rev-parse -q --verify am-check 2>/dev/null) &&
	[ "$(git -C "$TREE" rev-parse HEAD)" = "$am" ] || die "no patched tree in $TREE: run make patches"
BUILD="$CACHE/patches/kunit-build"
# The files the series adds or changes, as the build names them in a warning.
changed=$(git -C "$TREE" diff --name-only base am-check | paste -sd'|')
base=()
KB=$(kbuild_dir)
if [ -f "$KB/.config" ]; then
	# A symbol in two kunitconfigs must have one value, so drop the ones the
	# in-tree fragment sets from the test kernel's config.
	mkdir -p "$BUILD.base"
	syms=$(sed -n 's/^\(# \)\?\(CONFIG_[A-Za-z0-9_]*\)[= ].*/\2/p' "$REPO/tests/kunit/in-tree.kunitconfig" | paste -sd'|')
	grep -Ev "^(# )?($syms)[= ]" "$KB/.config" > "$BUILD.base/.kunitconfig"
	base=(--kunitconfig="$BUILD.base")
fi
mkdir -p "$BUILD"
rm -rf "$BUILD/drivers/char/ipmi/ssif_bmc_rust"
rc=0
for soc in ${*:-$SOCS}; do
	stage "kunit.py: $(soc_machine "$soc") (tree $TREE at am-check, build dir $BUILD, W=1)"
	t0=$(date +%s)
	krc=0
	rm -f "$BUILD/test.log"
	python3 "$TREE/tools/testing/kunit/kunit.py" run --build_dir="$BUILD" "${base[@]}" \
		--kunitconfig="$REPO/tests/kunit" --kunitconfig="$REPO/tests/kunit/in-tree.kunitconfig" \
		--qemu_config="$REPO/tests/kunit/qemu_configs/$soc.py" --make_options=W=1 \
		--cross_compile="$CROSS_COMPILE" --jobs="$(nproc)" --timeout=600 2>&1 | tee "$BUILD/kunit.py.log"
	krc=${PIPESTATUS[0]}
	# kunit.py prints the build's warnings; any that names a file of the series is new. Not
	# W=1's "tracked but ignored" lines (scripts/misc-check): Debian's top-level .gitignore
	# ends with `/*` (for its packaging repository), which ignores every file of the tree.
	grep -v ': warning: ignored by one of the .gitignore files$' "$BUILD/kunit.py.log" >"$BUILD/warnings.log"
	warned=$(grep -E -A3 -i 'warning' "$BUILD/warnings.log" | grep -E -B3 "($changed)" || true)
	if [ -n "$warned" ]; then
		echo "kunit.py check: W=1 build: warnings in the series' files:"
		printf '%s\n' "$warned" | sed 's/^/  /'
		krc=1
	else
		echo "kunit.py check: W=1 build: no warning in the series' files ($(grep -c -i 'warning' "$BUILD/warnings.log") warning lines elsewhere)"
	fi
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
