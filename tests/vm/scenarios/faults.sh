# SPDX-License-Identifier: GPL-2.0
# Fault campaign: every class N times against our driver and upstream's C
# driver, each fault followed by a clean transaction. Prints per class/driver:
#   faults: driver=<d> class=<c> iterations=<n> recovered=<n> wedged=<n> splats=<n> lost=<n>
# N is ssif.n= on the kernel command line (default 1000); ssif.nslow= for the
# two classes that wait out a response deadline, 0.6 s per iteration: both drivers run with
# upstream's fixed 500 ms deadline (default N).
# ssif.drivers=rust,c and ssif.classes=name,name restrict the run (default: all).
. /scenarios/lib.sh
clear_boot_leaks
N=$(sed -n 's/.*ssif\.n=\([0-9]*\).*/\1/p' /proc/cmdline); N=${N:-1000}
NSLOW=$(sed -n 's/.*ssif\.nslow=\([0-9]*\).*/\1/p' /proc/cmdline); NSLOW=${NSLOW:-$N}
DRIVERS=$(sed -n 's/.*ssif\.drivers=\([a-z,]*\).*/\1/p' /proc/cmdline | tr , ' ')
CLASSES=$(sed -n 's/.*ssif\.classes=\([a-z0-9_,]*\).*/\1/p' /proc/cmdline)
# wanted CLASS: whether the class is in ssif.classes (or none was given).
wanted() { case ",${CLASSES:-$1}," in *",$1,"*) return 0 ;; esac; return 1; }
# Reports in the log (SPLAT_PATTERN, lib.sh), plus what the kernel records itself and a
# wrapped log cannot lose: each taint flag set (but O, our out-of-tree modules) and lockdep
# switched off. Classes report the difference.
splats() {
	sp_taint=$(($(cat /proc/sys/kernel/tainted) & ~4096)) sp_bits=0
	while [ $sp_taint -gt 0 ]; do
		sp_bits=$((sp_bits + (sp_taint & 1))) sp_taint=$((sp_taint >> 1))
	done
	grep -q 'debug_locks: *0' /proc/lockdep_stats 2>/dev/null && sp_bits=$((sp_bits + 1))
	echo $(($(dmesg | grep -cE "$SPLAT_PATTERN") + sp_bits))
}
RESP="--retry-ms 10 --slow-cmd 30:02"

load_link
BMC_BUS=$(bus_of ssif-link-bmc)
HOST_BUS=$(bus_of ssif-link-host)
echo ipmi-ssif-host 0x1010 > /sys/bus/i2c/devices/i2c-$BMC_BUS/new_device

# One clean Get Device ID through the bus tool: prints recovered/wedged/lost and the
# transaction's time in ms. A lost one is shown on the console at once, with our
# driver's count of requests its response deadline dropped (upstream's has none).
clean() {
	out=$(ssif-vmtest faults "$HOST_BUS" none 1 2>/tmp/mismatch.last)
	cat /tmp/mismatch.last >>/tmp/mismatch.log
	case $out in
	*recovered=1*) echo recovered ;;
	*lost=1*)
		echo lost
		timeouts=
		[ -n "$(counters_file "$BMC_BUS")" ] && timeouts=$(counter "$BMC_BUS" timeouts)
		echo "faults-lost: driver=$drv class=$sc_class iteration=$sc_i timeouts=$timeouts $(head -c 200 /tmp/mismatch.last)" >&2
		;;
	*) echo wedged ;;
	esac
	echo "${out##*slowest_ms=}"
}

report() { # driver class iterations recovered wedged lost splats_before
	echo "faults: driver=$1 class=$2 iterations=$3 recovered=$4 wedged=$5 splats=$(($(splats) - $7)) lost=$6"
}

# run_shell_class driver class iterations inject-function
# (Shell functions share variables: these names are used nowhere else.)
run_shell_class() {
	drv=$1 sc_class=$2 sc_iters=$3 sc_inject=$4
	wanted "$sc_class" || return 0
	# Each class starts with a fresh responder, whatever the previous class left.
	restart_responder --delay-ms $((TIMEOUT_MS + 50))
	sleep 0.2
	sc_before=$(splats)
	sc_rec=0 sc_wed=0 sc_lost=0 sc_i=0 sc_ms=0
	while [ $sc_i -lt "$sc_iters" ]; do
		if ! $sc_inject; then
			# The fault could not even be applied (e.g. rmmod refused).
			sc_wed=$((sc_wed + 1)) sc_i=$((sc_i + 1))
			continue
		fi
		set -- $(clean)
		case $1 in
		recovered) sc_rec=$((sc_rec + 1)) ;;
		lost) sc_lost=$((sc_lost + 1)) ;;
		*) sc_wed=$((sc_wed + 1)) ;;
		esac
		sc_i=$((sc_i + 1))
		[ "${2:-0}" -gt $sc_ms ] 2>/dev/null && sc_ms=$2
		# Progress of the long classes on the console (a stalled run shows where).
		[ $((sc_i % 100)) = 0 ] && echo "faults-progress: driver=$drv class=$sc_class done=$sc_i recovered=$sc_rec wedged=$sc_wed lost=$sc_lost slowest_clean_ms=$sc_ms uptime=$(cut -d" " -f1 /proc/uptime)"
	done
	report "$drv" "$sc_class" "$sc_iters" $sc_rec $sc_wed $sc_lost "$sc_before"
}

restart_responder() {
	kill -9 "$RESPONDER" 2>/dev/null
	wait "$RESPONDER" 2>/dev/null
	start_responder $RESP "$@"
}

slow_request() { # send OEM 0x30/0x02 (answered late) and do not wait for it
	ssif-vmtest faults "$HOST_BUS" slow_request 1 >/dev/null 2>&1
}

# Ours first: upstream's first rmmod (no request yet) deletes a timer it never set up,
# and lockdep switches itself off for the rest of the boot.
for drv in ${DRIVERS:-rust c}; do
	case $drv in
	rust) TIMEOUT_MS=500 PARAMS=response_timeout_ms=500 ;;
	c) TIMEOUT_MS=500 PARAMS= ;;
	esac
	check faults_${drv}_loaded load_driver $drv $PARAMS
	start_responder $RESP --delay-ms $((TIMEOUT_MS + 50))
	sleep 0.3
	for class in bad_pec_write truncated_write stop_mid_read restart_without_stop \
		read_nothing_pending unknown_command overlong_part multipart_over_254 \
		middle_without_start retry_0x0a_wrong_block second_open; do
		wanted $class || continue
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
	run_shell_class $drv responder_killed_mid_request "$NSLOW" killed_fault

	# Unbind and rebind while the responder is blocked in poll on the open file.
	case $drv in rust) DRVDIR=/sys/bus/i2c/drivers/ssif_bmc ;; c) DRVDIR=/sys/bus/i2c/drivers/ipmi-ssif-host ;; esac
	rebind_fault() {
		echo "$BMC_BUS-1010" > $DRVDIR/unbind
		echo "$BMC_BUS-1010" > $DRVDIR/bind
		wait_for /dev/ipmi-ssif-host
		sleep 0.05
	}
	run_shell_class $drv unbind_rebind_reader_blocked "$N" rebind_fault

	# rmmod/insmod cycles. The kernel refuses rmmod while the file is open (the
	# module is its owner), so the responder is stopped first and a new one serves
	# the reloaded driver. A refused rmmod or insmod counts as wedged. SIGKILL, not
	# SIGTERM: the exit closes the file all the same, and a responder that missed a
	# SIGTERM would block this wait for ever (it did: a run hung here).
	reload_fault() {
		kill -9 "$RESPONDER"
		wait "$RESPONDER" 2>/dev/null
		rmmod ssif_bmc || return 1
		# The default response deadline (500 ms), as in every class: with a 100 ms one the
		# first request to a responder just started sometimes took longer, the deadline
		# dropped it (4 in 300 reloads), which is the responder_too_slow class, not a
		# reload fault.
		load_driver $drv || return 1
		: > /tmp/responder.log
		start_responder $RESP --delay-ms $((TIMEOUT_MS + 50))
		wait_serving
	}
	run_shell_class $drv rmmod_insmod "$N" reload_fault

	kill -9 "$RESPONDER"; wait "$RESPONDER" 2>/dev/null
	check faults_${drv}_unloaded rmmod ssif_bmc
done
echo "first mismatches:"; head -n 5 /tmp/mismatch.log 2>/dev/null
check no_leaks_after_campaign no_leaks
summary
