#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make compare: what measures upstream's C driver beside ours, kept out of make test (which
# checks ours only): the real-controller tier with both drivers and 2000 writes in a row on
# each SoC (scripts/i2c-echo.sh, one boot per driver and SoC, side by side), then the
# simulated BMC with both drivers in one boot (ours first, then upstream's). The checks are
# the same as when they ran in make test. Exits non-zero if any boot or check failed.
. "$(dirname "$0")/lib.sh"
S="$REPO/scripts"
bash "$S/prepare.sh"
rc=0
stage "compare: real controller path, ours and upstream's, ${SSIF_ECHO_FLOOD:-2000} writes in a row"
SSIF_ECHO_FLOOD=${SSIF_ECHO_FLOOD:-2000} bash "$S/i2c-echo.sh" "rust c" || rc=1
stage "compare: a real BMC (ipmi_sim) through SSIF against LAN, ours then upstream's"
log="$CACHE/out/bmcsim-compare-console.log"
r=0
EXTRA_APPEND="ssif.drivers=rust,c ${EXTRA_APPEND:-}" bash "$S/run-vm.sh" bmcsim "$log" 1800 || r=$?
console_lines "$log" | grep -E '^(check:|checks:|bmcsim:|differs:)' || true
[ $r = 0 ] || { echo "compare: bmcsim failed (run-vm rc=$r), console log in $log"; rc=1; }
stage "compare: $([ $rc = 0 ] && echo ok || echo FAILED)"
exit $rc
