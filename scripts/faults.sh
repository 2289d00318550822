#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make faults [N=1000] [NSLOW=N] [NBURST=2000] [DRIVERS="rust c"] [CLASSES=a,b] [SOC=ast2600]:
# the fault campaign (tools/src/bin/ssif-faults) against our driver and upstream's C
# ssif_bmc, one boot of SOC's EVB per driver, side by side: each driver starts with lockdep
# on and the same classes in the same order. Prints the `faults:` lines of both and exits
# non-zero if a boot failed, a fault could not be confirmed injected (not_injected), or our
# driver did anything but recover.
# N: iterations of the fast classes; NSLOW: of those that wait out a response deadline or
# restart something (default N); NBURST: length of the random burst.
. "$(dirname "$0")/lib.sh"
# make test has prepared everything already, and another VM may be booting from the
# initramfs that prepare.sh would pack again.
[ -n "${SSIF_NO_PREPARE:-}" ] || bash "$REPO/scripts/prepare.sh"
args="ssif.n=${N:-1000} ssif.nslow=${NSLOW:-${N:-1000}} ssif.nburst=${NBURST:-2000}${CLASSES:+ ssif.classes=$CLASSES}"
pids=()
drivers=(${DRIVERS:-rust c})
for drv in "${drivers[@]}"; do
	DTB="$(soc_stock_dtb)" EXTRA_APPEND="$args ssif.drivers=$drv" \
		bash "$REPO/scripts/run-vm.sh" faults "$CACHE/out/faults-$SOC-$drv-console.log" \
		"${FAULTS_TIMEOUT:-14400}" >"$CACHE/out/faults-$SOC-$drv.out" 2>&1 &
	pids+=($!)
done
rc=0
for i in "${!drivers[@]}"; do
	drv=${drivers[$i]}
	r=0
	wait "${pids[$i]}" || r=$?
	log="$CACHE/out/faults-$SOC-$drv-console.log"
	console_lines "$log" | grep -E '^(faults|check:|checks:)' | tee "$CACHE/out/faults-$SOC-$drv.txt"
	if [ $r != 0 ]; then
		echo "faults: driver=$drv boot failed or a check failed (run-vm rc=$r), console log in $log"
		rc=1
	fi
done
exit $rc
