#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Everything both README commands need, built or taken from the cache.
. "$(dirname "$0")/lib.sh"
S="$REPO/scripts"
bash "$S/install-deps.sh"
bash "$S/fetch-kernel.sh"
bash "$S/build-kernel.sh"
bash "$S/fetch-userspace.sh"
bash "$S/build-modules.sh"
bash "$S/build-initramfs.sh"
