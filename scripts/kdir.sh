#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Prints the cached kernel build directory (the default KDIR).
. "$(dirname "$0")/lib.sh"
kbuild_dir
