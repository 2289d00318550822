# SPDX-License-Identifier: GPL-2.0
# Side-by-side benchmark in one boot: our driver and upstream's C ssif_bmc,
# alternating, on the same software link with the same responder. Booted with
# the plain EVB device tree so that the link device is the only SSIF device.
# Prints `benchrun: driver=<rust|c> workload=<w> round=<r> tps=.. p99_us=..`.
. /scenarios/lib.sh
SECS=$(sed -n 's/.*ssif\.secs=\([0-9]*\).*/\1/p' /proc/cmdline)
SECS=${SECS:-10}
insmod $MOD/ssif_link.ko
BMC_BUS=$(bus_of ssif-link-bmc)
HOST_BUS=$(bus_of ssif-link-host)
echo ipmi-ssif-host 0x1010 > /sys/bus/i2c/devices/i2c-$BMC_BUS/new_device
opens=0
: > /tmp/responder.log
start_responder
for round in 1 2 3; do
	for drv in rust c; do
		case $drv in rust) ko=ssif_bmc_rs.ko ;; c) ko=ssif_bmc_c.ko ;; esac
		insmod $MOD/$ko
		check "bench_${drv}_round${round}_bound" wait_for /dev/ipmi-ssif-host
		# Let the responder reopen the new device.
		opens=$((opens + 1))
		n=0
		while [ "$(grep -c 'serving' /tmp/responder.log)" -lt $opens ] && [ $n -lt 50 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		for w in get_device_id_pec multipart_250; do
			line=$(ssif-vmtest bench "$HOST_BUS" $w "$SECS")
			echo "benchrun: driver=$drv workload=$w round=$round $line"
		done
		rmmod ssif_bmc
	done
done
check no_kernel_splat no_splat
summary
