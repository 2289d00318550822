# SPDX-License-Identifier: GPL-2.0
# Side-by-side benchmark in one boot: our driver and upstream's C ssif_bmc,
# alternating, on the same software link with the same responder. Booted with
# the plain EVB device tree so that the link device is the only SSIF device.
# Prints `benchrun: driver=<rust|c> workload=<w> round=<r> tps=.. p99_us=..`, and per round
# and driver `fileopsrun: driver=.. round=.. workload=.. read_us=.. write_us=..`: the file
# operations timed alone, with no responder and nothing concurrent (`ssif-vmtest fileops`).
# With ssif.icount=1 on the command line, the deterministic benchmark instead (below).
. /scenarios/lib.sh
SECS=$(sed -n 's/.*ssif\.secs=\([0-9]*\).*/\1/p' /proc/cmdline)
SECS=${SECS:-10}
ROUNDS=$(sed -n 's/.*ssif\.rounds=\([0-9]*\).*/\1/p' /proc/cmdline)
ROUNDS=${ROUNDS:-4}
FILEOPS=500
load_link
BMC_BUS=$(bus_of ssif-link-bmc)
HOST_BUS=$(bus_of ssif-link-host)
echo ipmi-ssif-host 0x1010 > /sys/bus/i2c/devices/i2c-$BMC_BUS/new_device

# The deterministic benchmark (ssif.icount=1: QEMU runs with -icount shift=0,sleep=off, so
# the guest's clock counts instructions). Everything runs on CPU 0 (taskset 1), CPU 1 stays
# idle: a timed window then holds only CPU 0's instructions (QEMU runs the vCPUs in turn on
# one clock, so anything CPU 1 ran inside a window would count in it). Per
# round, workload and driver, for a fixed number of transactions: the file operations and
# the callbacks of a request and its response with one process playing both sides
# (`ssif-vmtest icount-ops`), then whole transactions with the responder answering
# (`ssif-vmtest txn`), with the link's bus timing off and again at 100 kHz. Prints
# `calibrate:` once and per measurement
# `icountrun: driver=<d> workload=<w> round=<r> ops: ... txn: ... txn100: k100_...`.
# The responder runs under SCHED_FIFO: woken by the request's STOP, it runs before the
# client (a normal task on the same CPU) returns from its write, and has answered before the
# client's first read of 0x03. Without that, whether the first read came before the answer
# was a scheduling race on one CPU, with NAKed polls (each ~400 callback instructions and a
# 50 us sleep of the client) in a number that changed from boot to boot. On real hardware
# the host is another machine and polls later than the BMC answers.
icount_bench() {
	taskset 1 ssif-vmtest calibrate
	check calibrated [ $? = 0 ]
	round=0
	while [ $round -lt "$ROUNDS" ]; do
		round=$((round + 1))
		for w in get_device_id_pec multipart_250; do
			case $((round % 2)) in 0) order="c rust" ;; *) order="rust c" ;; esac
			for drv in $order; do
				check "icount_${drv}_${w}_round${round}_loaded" load_driver $drv
				echo 0 >/sys/module/ssif_link/parameters/bus_khz
				ops=$(taskset 1 ssif-vmtest icount-ops "$HOST_BUS" $w "$TXNS")
				check "icount_${drv}_${w}_round${round}_ops" [ $? = 0 ]
				: > /tmp/responder.log
				taskset 1 ssif-responder --fifo 50 2>>/tmp/responder.log &
				pid=$!
				wait_serving
				txn=$(taskset 1 ssif-vmtest txn "$HOST_BUS" $w "$TXNS")
				check "icount_${drv}_${w}_round${round}_txn" [ $? = 0 ]
				echo 100 >/sys/module/ssif_link/parameters/bus_khz
				txn100=$(taskset 1 ssif-vmtest txn "$HOST_BUS" $w "$TXNS")
				check "icount_${drv}_${w}_round${round}_txn_100khz" [ $? = 0 ]
				txn100=$(echo "$txn100" | sed 's/^txn: /txn100: /; s/ txn_/ k100_txn_/g; s/ naks=/ k100_naks=/')
				echo 0 >/sys/module/ssif_link/parameters/bus_khz
				kill -TERM $pid
				wait $pid
				check "icount_${drv}_${w}_round${round}_unloaded" rmmod ssif_bmc
				echo "icountrun: driver=$drv workload=$w round=$round $ops $txn $txn100"
			done
		done
	done
}
if grep -q 'ssif\.icount=1' /proc/cmdline; then
	TXNS=$(sed -n 's/.*ssif\.txns=\([0-9]*\).*/\1/p' /proc/cmdline)
	TXNS=${TXNS:-100}
	icount_bench
	check no_kernel_splat no_splat
	summary
	exit
fi
# Per driver, workload and round: load the driver, start a responder, run the
# client, stop the responder (SIGTERM: it prints its time in read() and write()),
# unload. The module cannot be unloaded while the responder holds the file open.
# The client (the host's side) runs on CPU 0 and the responder (the BMC's user
# space) on CPU 1, as on real hardware where they are different machines: where the
# scheduler put them changed from run to run and was a large part of the noise.
# Measurement starts 3 s after the load: the first seconds after an insmod are
# slower, for both drivers, by a varying amount.
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
			# --stamps: per request, when the responder woke, read and answered, on the
			# clock the client reads too, to split the wait phase on the responder's side.
			taskset 2 ssif-responder --stamps /tmp/stamps 2>>/tmp/responder.log &
			pid=$!
			wait_serving
			sleep 3
			line=$(SSIF_STAMPS=/tmp/stamps taskset 1 ssif-vmtest bench "$HOST_BUS" $w "$SECS")
			kill -TERM $pid
			wait $pid
			file=$(grep 'stats' /tmp/responder.log | tail -n 1 |
				sed 's/.*read_us=\([^ ]*\) write_us=\([^ ]*\).*/file_read_us=\1 file_write_us=\2/')
			: > /tmp/responder.log
			check "bench_${drv}_${w}_round${round}_unloaded" rmmod ssif_bmc
			echo "benchrun: driver=$drv workload=$w round=$round $line $file"
		done
	done
	for drv in $order; do
		check "fileops_${drv}_round${round}_loaded" load_driver $drv
		sleep 3
		taskset 1 ssif-vmtest fileops "$HOST_BUS" "$FILEOPS" >/tmp/fileops.out
		check "fileops_${drv}_round${round}" [ $? = 0 ]
		sed "s/^fileops: /fileopsrun: driver=$drv round=$round /" /tmp/fileops.out
		check "fileops_${drv}_round${round}_unloaded" rmmod ssif_bmc
	done
done
# How long waking a task on an idle CPU takes, by how long it was idle, with no driver
# involved: under QEMU on a virtual machine it tends to grow with the idle time.
ssif-vmtest wakeup 100 300 700 1000 1700
check no_kernel_splat no_splat
summary
