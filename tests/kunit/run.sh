#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# [SOC=ast2600|ast2500] run.sh: KUnit only, on the test kernel, under QEMU's
# EVB of SOC (default the AST2600's): builds what is missing, boots with our
# dtb, loads the KUnit build of the module, parses the KTAP of the boot-time
# Rust suites and of ours, prints `kunit: N passed, N failed, N skipped`. Exits
# non-zero on a failure, a crash or timeout of the guest, or when no test ran.
# (tests/kunit/kunit.sh runs the kernel's kunit.py instead, on its own kernel.)
S="$(cd "$(dirname "$0")/../../scripts" && pwd)"
. "$S/lib.sh"
bash "$S/prepare.sh"
log="$CACHE/out/kunit-console-$SOC.log"
rc=0
bash "$S/run-vm.sh" kunit "$log" 300 || rc=$?
python3 "$S/ktap.py" "$log" --require ssif_bmc_rust --require rust_kernel_fmt || rc=1
exit $rc
