#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make faults [N=1000] [NSLOW=N] [DRIVERS="rust c"] [CLASSES=a,b] [SOC=ast2600]: the
# fault campaign against our driver and upstream's C ssif_bmc in one boot of SOC's EVB. Prints one
# `faults:` line per class and driver (see tests/vm/scenarios/faults.sh).
# DRIVERS and CLASSES restrict the run (default: both drivers, every class).
. "$(dirname "$0")/lib.sh"
bash "$REPO/scripts/prepare.sh"
n=${N:-1000}
nslow=${NSLOW:-$n}
drivers=$(echo "${DRIVERS:-rust c}" | tr ' ' ,)
classes=${CLASSES:+ ssif.classes=$CLASSES}
log="$CACHE/out/faults-console-$SOC.log"
rc=0
DTB="$(soc_stock_dtb)" EXTRA_APPEND="ssif.n=$n ssif.nslow=$nslow ssif.drivers=$drivers$classes" \
	bash "$REPO/scripts/run-vm.sh" faults "$log" "${FAULTS_TIMEOUT:-14400}" || rc=$?
console_lines "$log" | grep -E '^(faults:|check:|checks:)' | tee "$CACHE/out/faults-$SOC.txt"
awk '/^faults: driver=rust/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	if (f["wedged"] + f["splats"] + f["lost"] > 0) bad++ }
	END { print "faults: machine='"$(soc_machine)"' rust classes with wedged/splats/lost > 0: " bad + 0 }' "$CACHE/out/faults-$SOC.txt"
exit $rc
