#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# [SOC=ast2600|ast2500] run-vm.sh SCENARIO LOG [TIMEOUT_S]: boot the SoC's EVB
# (default the AST2600's) in QEMU with the built kernel, our dtb for that SoC
# (DTB= overrides it) and initramfs, run /scenarios/SCENARIO.sh, save the
# console to LOG. Exits 0 if the guest reported the scenario's rc=0, 1 if it
# reported a failure, 124 on timeout, 3 if the guest died without a report.
# SSIF_QEMU names another qemu-system-arm binary; SSIF_QEMU_ARGS adds arguments
# (-L and -device for the i2c-echo tier, scripts/i2c-echo.sh; -icount for the
# deterministic benchmark), EXTRA_APPEND kernel command-line arguments.
. "$(dirname "$0")/lib.sh"

scenario=$1
log=$2
limit=${3:-600}
KB=$(kbuild_dir)
OUT="$OUT_DIR"
stage "vm: booting $(soc_machine), scenario '$scenario' (timeout ${limit}s, console log $log)"
# Emptied here, not only by the redirection below: that happens in the background
# child, and the loop below could otherwise find a previous run's report in it.
: >"$log"
# shellcheck disable=SC2086
"${SSIF_QEMU:-qemu-system-arm}" ${SSIF_QEMU_ARGS:-} -M "$(soc_machine)" -m 1G -nographic -no-reboot \
	-kernel "$KB/arch/arm/boot/zImage" -dtb "${DTB:-$(soc_dtb)}" -initrd "$OUT/initramfs.cpio.gz" \
	-append "console=ttyS4,115200n8 rdinit=/init panic=-1 ssif.scenario=$scenario ${EXTRA_APPEND:-}" \
	</dev/null >"$log" 2>&1 &
qemu=$!
# The guest reboots (and QEMU exits, -no-reboot) when done; stop it ourselves
# once it has reported, or when the time is up.
start=$(date +%s)
while kill -0 $qemu 2>/dev/null; do
	if grep -q "ssif-vm: scenario $scenario rc=" "$log"; then
		sleep 2
		break
	fi
	if [ $(($(date +%s) - start)) -ge "$limit" ]; then
		kill $qemu 2>/dev/null
		wait $qemu 2>/dev/null
		echo "vm: TIMEOUT after ${limit}s"
		exit 124
	fi
	sleep 0.5
done
kill $qemu 2>/dev/null || true
wait $qemu 2>/dev/null || true
rc=$(sed -n "s/.*ssif-vm: scenario $scenario rc=\([0-9]*\).*/\1/p" "$log" | tail -n1)
stage "vm: guest finished (scenario rc=${rc:-none})"
[ -n "$rc" ] || exit 3
[ "$rc" = 0 ] || exit 1
exit 0
