#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Prints the cached kernel build directory (the default KDIR), or with --out the
# directory for the other build products.
. "$(dirname "$0")/lib.sh"
if [ "${1:-}" = --out ]; then
	echo "$CACHE/out"
else
	kbuild_dir
fi
