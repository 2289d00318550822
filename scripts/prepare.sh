#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Everything both README commands need, built or taken from the cache.
. "$(dirname "$0")/lib.sh"
S="$REPO/scripts"
bash "$S/install-deps.sh" packages
# bindgen-cli compiles while the kernel source downloads and unpacks (the kernel's build
# needs both); the armel user space and QEMU 10 download meanwhile. Nothing else compiles
# beside the kernel: in a clean root, cargo-fuzz and the tools building at nice 10 beside it
# slowed it by a fifth (its objects up to ipc/ took 571 s against 480 s alone) and
# bindgen-cli's install from 201 s to 268 s. The background jobs' output goes to a log
# each, printed when they are waited for.
mkdir -p "$OUT_DIR"
# Each job in a process group of its own (job control), so that a failure here ends them
# whole.
set -m
bash "$S/install-deps.sh" bindgen &
cargo_pid=$!
(bash "$S/fetch-userspace.sh" && bash "$S/fetch-qemu.sh") >"$OUT_DIR/prepare-fetch.log" 2>&1 &
fetch_pid=$!
set +m
trap 'kill -- -$cargo_pid -$fetch_pid 2>/dev/null' EXIT
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
bash "$S/install-deps.sh" cargo-fuzz
bash "$S/build-tools.sh"
wait_job $fetch_pid "$OUT_DIR/prepare-fetch.log" "the armel user space or QEMU 10"
trap - EXIT
bash "$S/build-initramfs.sh"
