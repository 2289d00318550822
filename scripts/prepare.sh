#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Everything both README commands need, built or taken from the cache.
. "$(dirname "$0")/lib.sh"
S="$REPO/scripts"
bash "$S/install-deps.sh" packages
# Side by side from here: bindgen-cli compiles while the kernel source downloads and
# unpacks (the kernel's build needs both); the armel user space and QEMU 10 download;
# cargo-fuzz and the VM's tools (neither needs the kernel) compile at a lower priority, in
# whatever the kernel's build leaves of the two cores. The background jobs' output goes to a
# log each, printed when they are waited for.
mkdir -p "$OUT_DIR"
# Each job in a process group of its own (job control), so that a failure here ends them
# whole. Not a session of its own: with autogroup scheduling a new session would get an
# equal share of the CPU, whatever its nice value.
set -m
bash "$S/install-deps.sh" bindgen &
cargo_pid=$!
(bash "$S/fetch-userspace.sh" && bash "$S/fetch-qemu.sh") >"$OUT_DIR/prepare-fetch.log" 2>&1 &
fetch_pid=$!
(nice -n 10 bash "$S/install-deps.sh" cargo-fuzz && nice -n 10 bash "$S/build-tools.sh") \
	>"$OUT_DIR/prepare-tools.log" 2>&1 &
tools_pid=$!
set +m
trap 'kill -- -$cargo_pid -$fetch_pid -$tools_pid 2>/dev/null' EXIT
# wait_job PID LOG WHAT: wait for a background job, print its log, die if it failed.
wait_job() {
	local rc=0
	wait "$1" || rc=$?
	cat "$2"
	[ $rc = 0 ] || die "$3 failed (log: $2)"
}
bash "$S/fetch-kernel.sh"
wait $cargo_pid || die "install-deps.sh bindgen failed"
bash "$S/build-kernel.sh"
bash "$S/build-modules.sh"
wait_job $fetch_pid "$OUT_DIR/prepare-fetch.log" "the armel user space or QEMU 10"
wait_job $tools_pid "$OUT_DIR/prepare-tools.log" "cargo-fuzz or the tools' build"
trap - EXIT
bash "$S/build-initramfs.sh"
