#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The whole test suite of our driver: build (or reuse) everything, style gates, uapi
# layout, host cargo tests, kunit.py on both SoCs, then the VM boots two at a time: on each
# SoC the VM suite (the kernel's Rust KUnit suites, our module's KUnit suite, the bus-level
# tests through the software link, the end-to-end ipmi_ssif + ipmitool tests and the
# lifecycle tests) and the real-controller tier (i2c-echo, ours); on the AST2600 the
# simulated BMC behind the real ssifbridged and a short fault campaign.
# What only measures upstream's C driver is in `make compare` (scripts/compare.sh).
# Ends with a table of every step's time and result; exits non-zero if anything failed.
. "$(dirname "$0")/lib.sh"
S="$REPO/scripts"
# One record per step: "<seconds> <ok|FAILED> <name>", in the order the steps ended.
RECORDS=$(mktemp)
LANES=$(mktemp -d)
trap 'rm -rf "$RECORDS" "$LANES"' EXIT

step() {
	local name=$1 t0 r=ok
	shift
	stage "test: $name"
	t0=$(date +%s)
	"$@" || r=FAILED
	[ $r = ok ] || echo "test: $name FAILED"
	echo "$(($(date +%s) - t0)) $r $name" >>"$RECORDS"
}

# lanes: the steps lane_step listed, two at a time (SSIF_LANES=serial: one at a time,
# to measure what side by side saves). Two workers each take the next step of the list
# whenever theirs has ended, so the two finish about together whatever each step takes on
# the day; each worker's output goes to a file of its own, printed whole once both have
# ended (the steps still record into RECORDS).
LANE_NAMES=() LANE_CMDS=()
lane_step() {
	LANE_NAMES+=("$1")
	LANE_CMDS+=("$2")
}
# next_lane_step: the index of the next step nobody has taken, or nothing when none is left.
next_lane_step() {
	local n
	{
		flock 9
		n=$(cat "$LANES/next" 2>/dev/null || echo 0)
		echo $((n + 1)) >"$LANES/next"
	} 9>>"$LANES/lock"
	[ "$n" -lt ${#LANE_NAMES[@]} ] && echo "$n"
}
lane_worker() {
	local i
	while i=$(next_lane_step); do
		# The command is one function and its words (lane_step's second argument).
		# shellcheck disable=SC2086
		step "${LANE_NAMES[$i]}" ${LANE_CMDS[$i]}
	done
}
lanes() {
	local pids=() w t0 before workers=2
	[ "${SSIF_LANES:-}" != serial ] || workers=1
	t0=$(date +%s)
	before=$(wc -l <"$RECORDS")
	rm -f "$LANES/next"
	for w in $(seq 1 $workers); do
		lane_worker >"$LANES/worker$w.out" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}" || true
	# A step no worker recorded (a worker died, flock failed) is a failure too.
	local i
	for i in "${!LANE_NAMES[@]}"; do
		tail -n +$((before + 1)) "$RECORDS" | cut -d' ' -f3- | grep -qxF "${LANE_NAMES[$i]}" ||
			echo "0 FAILED ${LANE_NAMES[$i]} (no result recorded)" >>"$RECORDS"
	done
	for w in $(seq 1 $workers); do
		echo "==== lane $w ===="
		cat "$LANES/worker$w.out"
	done
	# Whether side by side paid: the lanes' wall clock against their steps one after another.
	echo "lanes: $workers worker(s) took $(($(date +%s) - t0)) s; their steps add up to" \
		"$(tail -n +$((before + 1)) "$RECORDS" | awk '{ s += $1 } END { print s + 0 }') s"
}

step "prepare: installs, kernel, user space, modules, initramfs, QEMU 10" \
	bash "$S/prepare.sh"
if [ "$(cut -d' ' -f2 "$RECORDS")" != ok ]; then
	echo "steps: 0 passed, 1 failed"
	exit 1
fi
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
	hits=$(grep -lE '\bunsafe\b' "$REPO"/*.rs | xargs -n1 basename | grep -vxE 'target.rs|chardev.rs' || true)
	[ -z "$hits" ] || { echo "unsafe outside the glue files: $hits"; return 1; }
	echo "unsafe: only in target.rs, chardev.rs"
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

# The real-controller tier on one SoC, ours only: a few hundred writes in a row are enough
# to see a counter drift; make compare floods 2000 and runs upstream's beside it.
echo_tier() {
	SOCS_ECHO=$1 SSIF_ECHO_FLOOD=${SSIF_ECHO_FLOOD:-300} bash "$S/i2c-echo.sh" rust
}

step "rustfmt (kernel .rustfmt.toml)" fmt_check
step "clippy (CLIPPY=1)" clippy_check
step "unsafe only in glue files" unsafe_only_in_glue
step "uapi layout" bash "$S/check-uapi.sh"
step "in-tree wiring" wiring_check
step "patch series: git am, checkpatch --strict, dt_binding_check, dtbs_check" env SSIF_NO_PREPARE=1 bash "$S/patches.sh"
step "host: protocol core (cargo test)" bash -c "cd '$REPO/protocol-tests' && cargo test --tests 2>&1"
step "host: tools (cargo test)" bash -c "cd '$REPO/tools' && cargo test --tests 2>&1"
step "host: fuzz the protocol core (20 s)" bash "$S/fuzz.sh" 20
# KUnit as kernel developers run it, on the tree the patch series made above: kunit.py
# builds it with W=1, the test kernel's configuration and our driver built in
# (docs/commands.md), and boots it on each EVB. Alone: its build takes both cores, and the
# lanes below are timing-sensitive (500 ms deadlines).
step "kunit.py run on the patched tree, W=1: ${SOCS// /, } (our suite built in, the kernel's Rust suites)" bash "$REPO/tests/kunit/kunit.sh"

# The VM boots, two at a time: the guests spend much of their time waiting on the bus or
# the deadline, so two side by side finish sooner than one after the other. Longest first
# (warm, 2026-12-03: 473, 331, 325, 296, 162 and 117 s), so that no long one starts last.
campaign_short() {
	# Every fault class of make faults, a few times each, against ours: any answer that is
	# not the clean request's own, an unconfirmed injection or a splat fails it.
	env DRIVERS=rust N=3 NSLOW=2 NBURST=40 FAULTS_TIMEOUT=1800 SSIF_NO_PREPARE=1 bash "$S/faults.sh"
}
lane_step "vm -M ast2600-evb: a real BMC (ipmi_sim) behind ssifbridged, through SSIF against LAN" \
	"vm_bmcsim ast2600"
lane_step "vm -M ast2600-evb: KUnit, bus-level, end-to-end, lifecycle" "vm_tests ast2600"
lane_step "vm -M ast2600-evb: real controller path (QEMU 10 i2c-echo through i2c-aspeed, ours)" \
	"echo_tier ast2600"
lane_step "vm -M ast2500-evb: KUnit, bus-level, end-to-end, lifecycle" "vm_tests ast2500"
lane_step "vm -M ast2500-evb: real controller path (QEMU 10 i2c-echo through i2c-aspeed, ours)" \
	"echo_tier ast2500"
lane_step "vm -M ast2600-evb: fault campaign, short (ours, every class)" campaign_short
lanes

echo
stage "test: done"
echo "test: time per step"
printf '%8s  %-6s  %s\n' seconds result step
while read -r secs result name; do
	printf '%8s  %-6s  %s\n' "$secs" "$result" "$name"
done <"$RECORDS"
echo "test: wall clock $(($(date +%s) - _t0)) s"
passed=$(awk '$2 == "ok"' "$RECORDS" | wc -l)
failed=$(awk '$2 != "ok"' "$RECORDS" | wc -l)
awk '$2 != "ok" { $1 = $2 = ""; sub(/^ +/, ""); print "failed: " $0 }' "$RECORDS"
echo "steps: $passed passed, $failed failed"
[ "$failed" = 0 ]
