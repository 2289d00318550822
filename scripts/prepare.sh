#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Everything both README commands need, built or taken from the cache.
. "$(dirname "$0")/lib.sh"
S="$REPO/scripts"
bash "$S/install-deps.sh" packages
# The cargo installs compile; the kernel source downloads and unpacks: side by side.
bash "$S/install-deps.sh" cargo &
cargo_pid=$!
bash "$S/fetch-kernel.sh"
wait $cargo_pid || die "install-deps.sh cargo failed"
bash "$S/build-kernel.sh"
bash "$S/fetch-userspace.sh"
bash "$S/build-modules.sh"
bash "$S/build-initramfs.sh"
