#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# fuzz.sh [SECONDS]: cargo fuzz over arbitrary event sequences into the protocol
# core (protocol-tests/fuzz/fuzz_targets/events.rs), invariants asserted, debug
# assertions (overflow checks) on. Prints `fuzz: execs=<n> crashes=<n>`.
# The test suite runs it for 20 s; for a long run: bash scripts/fuzz.sh 3600
. "$(dirname "$0")/lib.sh"
secs=${1:-20}
command -v cargo-fuzz >/dev/null || die "cargo-fuzz missing (scripts/install-deps.sh)"
mkdir -p "$CACHE/out/fuzz-corpus"
cd "$REPO/protocol-tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none --debug-assertions --target-dir "$CACHE/out/fuzz-target" \
	events "$CACHE/out/fuzz-corpus" -- \
	-max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1
rc=$?
set -e
execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n1)
shopt -s nullglob
found=(fuzz/artifacts/events/crash-*)
crashes=${#found[@]}
[ $rc = 0 ] || { tail -n 30 "$log"; [ "$crashes" -gt 0 ] || crashes=1; }
echo "fuzz: execs=${execs:-0} crashes=$crashes"
[ "$crashes" = 0 ] && [ "${execs:-0}" -gt 0 ]
