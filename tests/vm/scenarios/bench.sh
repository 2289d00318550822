# SPDX-License-Identifier: GPL-2.0
# Side-by-side benchmark in one boot: our driver and upstream's C ssif_bmc,
# alternating, on the same software link with the same responder. Booted with
# the plain EVB device tree so that the link device is the only SSIF device.
# Prints `benchrun: driver=<rust|c> workload=<w> round=<r> tps=.. p99_us=..`.
. /scenarios/lib.sh
SECS=$(sed -n 's/.*ssif\.secs=\([0-9]*\).*/\1/p' /proc/cmdline)
SECS=${SECS:-10}
ROUNDS=$(sed -n 's/.*ssif\.rounds=\([0-9]*\).*/\1/p' /proc/cmdline)
ROUNDS=${ROUNDS:-4}
insmod $MOD/ssif_link.ko
BMC_BUS=$(bus_of ssif-link-bmc)
HOST_BUS=$(bus_of ssif-link-host)
echo ipmi-ssif-host 0x1010 > /sys/bus/i2c/devices/i2c-$BMC_BUS/new_device
# Per driver, workload and round: load the driver, start a responder, run the
# client, stop the responder (SIGTERM: it prints its time in read() and write()),
# unload. The module cannot be unloaded while the responder holds the file open.
: > /tmp/responder.log
round=0
while [ $round -lt "$ROUNDS" ]; do
	round=$((round + 1))
	for w in get_device_id_pec multipart_250; do
		# Which driver goes first alternates, so that neither always follows a boot or
		# the other workload.
		case $((round % 2)) in 0) order="c rust" ;; *) order="rust c" ;; esac
		for drv in $order; do
			check "bench_${drv}_${w}_round${round}_loaded" load_driver $drv
			# Not start_responder: no log line per request, which would be measured too.
			ssif-responder 2>>/tmp/responder.log &
			pid=$!
			wait_serving
			line=$(ssif-vmtest bench "$HOST_BUS" $w "$SECS")
			kill -TERM $pid
			wait $pid
			file=$(grep 'stats' /tmp/responder.log | tail -n 1 |
				sed 's/.*read_us=\([^ ]*\) write_us=\([^ ]*\).*/file_read_us=\1 file_write_us=\2/')
			: > /tmp/responder.log
			check "bench_${drv}_${w}_round${round}_unloaded" rmmod ssif_bmc
			echo "benchrun: driver=$drv workload=$w round=$round $line $file"
		done
	done
done
check no_kernel_splat no_splat
summary
