#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The real-controller tier: QEMU 10's i2c-echo device writes 2-byte patterns to
# the ssif-bmc node through i2c-aspeed's slave interrupt handler
# (tests/vm/scenarios/i2c_echo.sh). One boot per driver and SoC: upstream's C
# driver can leave QEMU's Aspeed model delivering nothing more until reboot (a
# busy target), so it never shares a boot with ours.
# Usage: i2c-echo.sh [DRIVERS] (default "rust c"), on each SoC of $SOCS
# (SOCS_ECHO=ast2600 restricts it); SSIF_ECHO_FLOOD sets the number of writes
# in a row (default 2000). Needs the VM built (prepare.sh).
# Exits non-zero if a boot failed or a check failed.
. "$(dirname "$0")/lib.sh"

bash "$REPO/scripts/fetch-qemu.sh"
Q="$CACHE/qemu10"
export SSIF_QEMU="$Q/usr/bin/qemu-system-arm"
# Bus 4 is the DT's i2c4 on the AST2500 and the AST2600 alike.
export SSIF_QEMU_ARGS="-L $Q/usr/share/qemu -device i2c-echo,bus=aspeed.i2c.bus.4,address=0x42"
# The boots run side by side: the guest spends the flood waiting on the bus
# (each write through i2c-echo takes ~0.2 s of guest time, with QEMU mostly
# idle: the guest waits; why is not known).
runs=()
pids=()
for soc in ${SOCS_ECHO:-$SOCS}; do
	for drv in ${1:-rust c}; do
		SOC=$soc EXTRA_APPEND="ssif.driver=$drv ssif.flood=${SSIF_ECHO_FLOOD:-2000} ${EXTRA_APPEND:-}" \
			bash "$REPO/scripts/run-vm.sh" i2c_echo "$OUT_DIR/i2c-echo-$soc-$drv-console.log" 1800 \
			>"$OUT_DIR/i2c-echo-$soc-$drv.out" 2>&1 &
		pids+=($!)
		runs+=("$soc-$drv")
	done
done
rc=0
for i in "${!runs[@]}"; do
	r=0
	wait "${pids[$i]}" || r=$?
	run=${runs[$i]}
	log="$OUT_DIR/i2c-echo-$run-console.log"
	cat "$OUT_DIR/i2c-echo-$run.out"
	console_lines "$log" | grep -E '^(echo:|check: .*FAIL|checks:)' | sed "s/^/$run: /" || true
	if [ $r != 0 ]; then
		echo "i2c-echo: $run failed (run-vm rc=$r), console log in $log"
		rc=1
	fi
done
exit $rc
