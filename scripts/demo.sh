#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The main job: build what is missing, boot the EVB of SOC (ast2600, the
# default, or ast2500: make demo SOC=ast2500) in QEMU and show our driver
# serving Linux's ipmi_ssif and ipmitool. Exits 0 only if every step in the
# guest succeeded.
. "$(dirname "$0")/lib.sh"
bash "$REPO/scripts/prepare.sh"
log="$CACHE/out/demo-console-$SOC.log"
rc=0
bash "$REPO/scripts/run-vm.sh" demo "$log" 300 || rc=$?
echo
echo "---------------- transcript (full console: $log) ----------------"
console_lines "$log" | grep -E '^(demo:|check:|checks:)|ssif_bmc|ipmi-ssif-host' |
	grep -vE 'dyndbg|KTAP' || true
echo "-----------------------------------------------------------------"
if [ $rc = 0 ]; then
	echo "demo: every step succeeded on -M $(soc_machine)"
else
	echo "demo: FAILED on -M $(soc_machine) (vm status $rc)"
fi
exit $rc
