# SPDX-License-Identifier: GPL-2.0
# Fault campaign: every class N times against our driver and upstream's C
# driver, each fault followed by a clean transaction. Prints per class/driver:
#   faults: driver=<d> class=<c> iterations=<n> recovered=<n> wedged=<n> splats=<n> lost=<n>
# N is ssif.n= on the kernel command line (default 1000); ssif.nslow= for the
# classes that wait out a response deadline (default N).
. /scenarios/lib.sh
N=$(sed -n 's/.*ssif\.n=\([0-9]*\).*/\1/p' /proc/cmdline); N=${N:-1000}
NSLOW=$(sed -n 's/.*ssif\.nslow=\([0-9]*\).*/\1/p' /proc/cmdline); NSLOW=${NSLOW:-$N}
SPLAT='WARNING:|BUG:|Oops|Unable to handle|possible recursive locking|circular locking|inconsistent lock state|sleeping function called from invalid context|ODEBUG|refcount_t:|Kernel panic|unreferenced object'
splats() { dmesg | grep -cE "$SPLAT"; }
RESP="--retry-ms 10 --slow-cmd 30:02"

insmod $MOD/ssif_link.ko
BMC_BUS=$(bus_of ssif-link-bmc)
HOST_BUS=$(bus_of ssif-link-host)
echo ipmi-ssif-host 0x1010 > /sys/bus/i2c/devices/i2c-$BMC_BUS/new_device

# One clean Get Device ID through the bus tool: prints recovered/wedged/lost.
clean() {
	out=$(ssif-vmtest faults "$HOST_BUS" none 1)
	case $out in
	*recovered=1*) echo recovered ;;
	*lost=1*) echo lost ;;
	*) echo wedged ;;
	esac
}

report() { # driver class iterations recovered wedged lost splats_before
	echo "faults: driver=$1 class=$2 iterations=$3 recovered=$4 wedged=$5 splats=$(($(splats) - $7)) lost=$6"
}

# run_shell_class driver class iterations inject-function
run_shell_class() {
	drv=$1 class=$2 n=$3 inject=$4
	before=$(splats)
	rec=0 wed=0 lost=0 i=0
	while [ $i -lt "$n" ]; do
		$inject
		case $(clean) in recovered) rec=$((rec + 1)) ;; lost) lost=$((lost + 1)) ;; *) wed=$((wed + 1)) ;; esac
		i=$((i + 1))
	done
	report "$drv" "$class" "$n" $rec $wed $lost "$before"
}

restart_responder() {
	kill -9 "$RESPONDER" 2>/dev/null
	wait "$RESPONDER" 2>/dev/null
	start_responder $RESP "$@"
}

slow_request() { # send OEM 0x30/0x02 (answered late) and do not wait for it
	ssif-vmtest faults "$HOST_BUS" slow_request 1 >/dev/null 2>&1
}

for drv in rust c; do
	case $drv in
	rust) insmod $MOD/ssif_bmc_rs.ko response_timeout_ms=100; TIMEOUT_MS=100 ;;
	c) insmod $MOD/ssif_bmc_c.ko; TIMEOUT_MS=500 ;;
	esac
	wait_for /dev/ipmi-ssif-host
	start_responder $RESP --delay-ms $((TIMEOUT_MS + 50))
	sleep 0.3
	for class in bad_pec_write truncated_write stop_mid_read restart_without_stop \
		read_nothing_pending unknown_command overlong_part multipart_over_254 \
		middle_without_start retry_0x0a_wrong_block second_open; do
		before=$(splats)
		out=$(ssif-vmtest faults "$HOST_BUS" $class "$N")
		set -- $(echo "$out" | tr '=' ' ')
		report $drv $class "$2" "$4" "$6" "$8" "$before"
	done

	# Responder too slow: the deadline drops the request; the next one must work.
	timeout_fault() { slow_request; sleep 0.$((TIMEOUT_MS / 100 + 1)); }
	run_shell_class $drv responder_too_slow "$NSLOW" timeout_fault

	# Responder killed while it holds a request; a new responder takes over.
	# The new opener gets the unanswered request again and answers it (late).
	killed_fault() { slow_request; sleep 0.02; restart_responder --delay-ms $((TIMEOUT_MS + 50)); sleep 0.$((TIMEOUT_MS / 100 + 1)); }
	run_shell_class $drv responder_killed_mid_request "$N" killed_fault

	# Unbind and rebind while the responder is blocked in poll on the open file.
	case $drv in rust) DRVDIR=/sys/bus/i2c/drivers/ssif_bmc ;; c) DRVDIR=/sys/bus/i2c/drivers/ipmi-ssif-host ;; esac
	rebind_fault() {
		echo "$BMC_BUS-1010" > $DRVDIR/unbind
		echo "$BMC_BUS-1010" > $DRVDIR/bind
		wait_for /dev/ipmi-ssif-host
		sleep 0.05
	}
	run_shell_class $drv unbind_rebind_reader_blocked "$N" rebind_fault

	# rmmod/insmod cycles (the responder reopens each time).
	reload_fault() {
		rmmod ssif_bmc
		case $drv in
		rust) insmod $MOD/ssif_bmc_rs.ko response_timeout_ms=100 ;;
		c) insmod $MOD/ssif_bmc_c.ko ;;
		esac
		wait_for /dev/ipmi-ssif-host
		sleep 0.05
	}
	run_shell_class $drv rmmod_insmod "$N" reload_fault

	kill -9 "$RESPONDER"; wait "$RESPONDER" 2>/dev/null
	rmmod ssif_bmc
done
check no_leaks_after_campaign no_leaks
summary
