#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The whole test suite: build (or reuse) everything, style gates, uapi layout,
# host cargo tests, then one boot of each SoC (AST2600, AST2500) running the
# kernel's Rust KUnit suites, our module's KUnit suite, the bus-level tests
# through the software link, the end-to-end ipmi_ssif + ipmitool tests and the
# lifecycle tests; then kunit.py run on both SoCs (tests/kunit/kunit.sh), the real-controller
# tier (i2c-echo), the simulated BMC (ipmi_sim) and a short fault campaign.
# Exits non-zero if anything failed.
. "$(dirname "$0")/lib.sh"
S="$REPO/scripts"
failed=()
passed=0
step() {
	local name=$1
	shift
	stage "test: $name"
	if "$@"; then
		passed=$((passed + 1))
	else
		failed+=("$name")
		echo "test: $name FAILED"
	fi
}

bash "$S/prepare.sh"
KB=$(kbuild_dir)
KSRC=$(ksrc_dir)

fmt_check() {
	rustfmt --check --edition 2021 --config-path "$KSRC/.rustfmt.toml" "$REPO/ssif_bmc.rs" &&
		(cd "$REPO/protocol-tests" && cargo fmt --check) && (cd "$REPO/tools" && cargo fmt --check)
}
clippy_check() {
	local out
	out=$(make -s -C "$KB" ARCH=arm CROSS_COMPILE=arm-linux-gnueabihf- CONFIG_SSIF_BMC_RUST=m \
		M="$REPO" MO="$CACHE/out/clippy" KUNIT=1 CLIPPY=1 modules 2>&1) || { echo "$out"; return 1; }
	if echo "$out" | grep -qE '^(warning|error)'; then
		echo "$out"
		return 1
	fi
	echo "clippy: no warnings"
}
unsafe_only_in_glue() {
	local hits
	hits=$(grep -lE '\bunsafe\b' "$REPO"/*.rs | xargs -n1 basename | grep -vxE 'target.rs|chardev.rs|deadline.rs|irqlock.rs' || true)
	[ -z "$hits" ] || { echo "unsafe outside the glue files: $hits"; return 1; }
	echo "unsafe: only in target.rs, chardev.rs, deadline.rs, irqlock.rs"
}
wiring_check() {
	local o="$CACHE/out/wired-config"
	bash "$S/wire-in-tree.sh" "$KSRC" && rm -rf "$o" && mkdir -p "$o" &&
		cp "$KB/.config" "$o/.config" &&
		"$KSRC/scripts/config" --file "$o/.config" --disable SSIF_IPMI_BMC --enable SSIF_BMC_RUST \
			--enable SSIF_BMC_RUST_KUNIT_TEST &&
		make -s -C "$KSRC" O="$o" ARCH=arm CROSS_COMPILE=arm-linux-gnueabihf- olddefconfig &&
		grep -qx 'CONFIG_SSIF_BMC_RUST=y' "$o/.config" &&
		grep -qx 'CONFIG_SSIF_BMC_RUST_KUNIT_TEST=y' "$o/.config" &&
		echo "wiring: CONFIG_SSIF_BMC_RUST=y and its KUnit option resolve in the kernel tree"
}
# vm_tests SOC: the VM suite on SOC's EVB, ending with a summary line naming the machine.
vm_tests() {
	local soc=$1 log="$CACHE/out/test-console-$1.log" rc=0 t0 checks kunit
	t0=$(date +%s)
	SOC=$soc bash "$S/run-vm.sh" test "$log" 1800 || rc=$?
	console_lines "$log" | grep -E '^(check:|checks:|vmtest:|kmemleak:)' || true
	python3 "$S/ktap.py" "$log" --require ssif_bmc_rust --require rust_kernel_fmt >"$log.kunit" || rc=1
	cat "$log.kunit"
	checks=$(console_lines "$log" | sed -n 's/^checks: //p' | tail -n1)
	kunit=$(sed -n 's/^kunit: \([0-9]* passed.*\)/\1/p' "$log.kunit" | tail -n1)
	echo "vm: -M $(soc_machine "$soc"): checks ${checks:-none reported}; KUnit ${kunit:-none}; $(($(date +%s) - t0)) s; $([ $rc = 0 ] && echo ok || echo "FAILED (console log $log)")"
	return $rc
}

vm_bmcsim() {
	local soc=$1 log="$CACHE/out/bmcsim-$1-console.log" rc=0
	SOC=$soc bash "$S/run-vm.sh" bmcsim "$log" 1800 || rc=$?
	console_lines "$log" | grep -E '^(check:|checks:|bmcsim:|differs:)' || true
	[ $rc = 0 ] || echo "vm: console log in $log"
	return $rc
}

step "rustfmt (kernel .rustfmt.toml)" fmt_check
step "clippy (CLIPPY=1)" clippy_check
step "unsafe only in glue files" unsafe_only_in_glue
step "uapi layout" bash "$S/check-uapi.sh"
step "in-tree wiring" wiring_check
step "host: protocol core (cargo test)" bash -c "cd '$REPO/protocol-tests' && cargo test --tests 2>&1"
step "host: tools (cargo test)" bash -c "cd '$REPO/tools' && cargo test --tests 2>&1"
step "host: fuzz the protocol core (20 s)" bash "$S/fuzz.sh" 20
for soc in $SOCS; do
	step "vm -M $(soc_machine "$soc"): KUnit, bus-level, end-to-end, lifecycle" vm_tests "$soc"
done
# KUnit as kernel developers run it: kunit.py builds its own kernel (our driver built in)
# in the cache and boots it on each EVB.
step "kunit.py run: ${SOCS// /, } (our suite built in, the kernel's Rust suites)" bash "$REPO/tests/kunit/kunit.sh"
step "vm: real controller path (QEMU 10 i2c-echo through i2c-aspeed; ours, then upstream's)" \
	bash "$S/i2c-echo.sh"
step "vm -M $(soc_machine ast2600): a real BMC (ipmi_sim) through SSIF against LAN, both drivers" vm_bmcsim ast2600
# Every fault class of make faults, a few times each, against ours: any answer that is not the
# clean request's own, an unconfirmed injection or a splat fails it.
step "vm -M $(soc_machine ast2600): fault campaign, short (ours, every class)" \
	env DRIVERS=rust N=3 NSLOW=2 NBURST=40 FAULTS_TIMEOUT=1800 bash "$S/faults.sh"

echo
stage "test: done"
for f in "${failed[@]}"; do
	echo "failed: $f"
done
echo "steps: $passed passed, ${#failed[@]} failed"
[ ${#failed[@]} = 0 ]
