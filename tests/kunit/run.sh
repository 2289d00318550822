#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# KUnit only, under QEMU SOC-evb (SOC=ast2600, the default, or ast2500; what
# kunit.py --qemu_config does, on the test kernel; tests/kunit/kunit.sh runs kunit.py
# for this target): builds what is missing, boots with the built dtb, loads the
# KUnit build of the module, parses the KTAP of the boot-time Rust suites and
# of ours, prints `kunit: N passed, N failed, N skipped`. Exits non-zero on a
# failure, a crash or timeout of the guest, or when no test ran.
S="$(cd "$(dirname "$0")/../../scripts" && pwd)"
. "$S/lib.sh"
bash "$S/prepare.sh"
log="$CACHE/out/kunit-console-$SOC.log"
rc=0
bash "$S/run-vm.sh" kunit "$log" 300 || rc=$?
python3 "$S/ktap.py" "$log" --require ssif_bmc_rust --require rust_kernel_fmt || rc=1
exit $rc
