#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Instructions the protocol core executes per bus byte, counted by callgrind
# (instructions, not time: repeatable on any load). Prints one line a workload:
#   cost: workload=<name> instructions_per_byte=<n>
. "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || die "valgrind missing (scripts/install-deps.sh)"
cd "$REPO/protocol-tests"
cargo build -q --release --bin ssif-cost
bin="$CARGO_TARGET_DIR/release/ssif-cost"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for w in get_device_id_pec multipart_250; do
	out=$(valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$w" \
		--toggle-collect='*run_workload*' "$bin" "$w" 2>/dev/null)
	bytes=${out#bytes=}; bytes=${bytes%% *}
	runs=${out##*runs=}
	total=$(awk '/^(summary|totals):/ {print $2; exit}' "$tmp/cg.$w")
	echo "cost: workload=$w instructions_per_byte=$((total / (bytes * runs))) (instructions=$total bus_bytes=$((bytes * runs)))"
done
