# SPDX-License-Identifier: GPL-2.0
# Helpers for the VM scenarios (sourced).
MOD=/lib/modules/ssif
PASS=0
FAIL=0

# check NAME CMD...: run CMD, report "check: NAME ok|FAIL".
check() {
	name=$1
	shift
	if "$@"; then
		PASS=$((PASS + 1))
		echo "check: $name ok"
	else
		FAIL=$((FAIL + 1))
		echo "check: $name FAIL"
	fi
}

# The bus number of the adapter named $1.
bus_of() {
	for d in /sys/bus/i2c/devices/i2c-*; do
		if [ "$(cat "$d/name")" = "$1" ]; then
			echo "${d##*i2c-}"
			return 0
		fi
	done
	return 1
}

# wait_for PATH [tenths]: wait until PATH exists.
wait_for() {
	n=${2:-50}
	while [ ! -e "$1" ] && [ "$n" -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	[ -e "$1" ]
}

# What the kernel log says when something went wrong: oops, BUG, WARN, every lockdep report
# (including a non-static key and lockdep switching itself off), ODEBUG, refcount, list
# corruption, RCU and kmemleak reports.
SPLAT_PATTERN='WARNING:|BUG:|Oops|Unable to handle|Kernel panic|general protection|DEBUG_LOCKS_WARN_ON|possible recursive locking|circular locking|inconsistent lock state|possible irq lock inversion|lock held when returning|bad unlock balance|trying to register non-static key|turning off the locking correctness validator|sleeping function called from invalid context|ODEBUG|refcount_t:|list_add corruption|list_del corruption|list corruption|rcu_preempt detected stalls|rcu_sched detected stalls|self-detected stall|suspicious RCU usage|unreferenced object'

# What the kernel itself records, which a wrapped log ring cannot lose: the taint flags
# without O (4096, our out-of-tree modules), and whether lockdep is still on.
kernel_state() {
	echo "taint=$(($(cat /proc/sys/kernel/tainted) & ~4096)) debug_locks=$(awk '/debug_locks:/ { print $2 }' /proc/lockdep_stats 2>/dev/null)"
}
BOOT_STATE=$(kernel_state)

# Kernel problems since boot: the log's reports, a new taint flag (W on any WARN, D on an
# oops, ...) or lockdep switched off.
no_splat() {
	rc=0
	if dmesg | grep -E "$SPLAT_PATTERN" >/tmp/splat; then
		echo "splat:"
		cat /tmp/splat
		rc=1
	fi
	now=$(kernel_state)
	if [ "$now" != "$BOOT_STATE" ]; then
		echo "kernel state changed: at boot $BOOT_STATE, now $now"
		rc=1
	fi
	return $rc
}

# leak_filter [ERE] < kmemleak reports: prints each report; one whose backtrace matches ERE
# and has no frame in a loadable module ("func+0x../0x.. [mod]": ours, upstream's
# ssif_bmc, ssif_link) is printed behind "kmemleak-set-aside: " and does not count. Fails
# when any report counts. So a set-aside pattern can never hide what one of our modules
# leaked.
leak_filter() {
	awk -v aside="${1:-}" '
		function flush() {
			if (block == "") return
			if (aside != "" && block ~ aside && block !~ "[+]0x[0-9a-f]+/0x[0-9a-f]+ [[]")
				printf "kmemleak-set-aside: %s", block
			else { n++; printf "%s", block }
			block = ""
		}
		/^unreferenced object/ { flush() }
		{ block = block $0 "\n" }
		END { flush(); exit (n > 0) }
	'
}

# kmemleak: scan and report nothing new, but what leak_filter ERE sets aside.
no_leaks() {
	[ -e /sys/kernel/debug/kmemleak ] || return 0
	echo scan > /sys/kernel/debug/kmemleak
	sleep 1
	echo scan > /sys/kernel/debug/kmemleak
	leak_filter "${1:-}" < /sys/kernel/debug/kmemleak >/tmp/leaks
	nl_rc=$?
	head -n 120 /tmp/leaks
	return $nl_rc
}

# leak_filter_sets_aside_only ERE: leak_filter, run by this VM's awk, sets aside a report
# allocated by the built-in host stack that ERE names, and fails on the same report once a
# frame of it lies in a module, and on a report ERE does not name.
leak_filter_sets_aside_only() {
	lf_host='unreferenced object 0x81930000 (size 4096):
  comm "ssif-faults", pid 201, jiffies 4294939866
  backtrace (crc 29b6ad04):
    kmemleak_alloc+0x30/0x3c
    __kmalloc_cache_noprof+0x318/0x3e4
    ipmi_add_smi+0x90/0x6f4
    ssif_probe+0x494/0x97c'
	lf_other='unreferenced object 0x864b3a00 (size 512):
  comm "ssif-faults", pid 201, jiffies 4294940197
  backtrace (crc 807c4be9):
    kmemleak_alloc+0x30/0x3c
    __kmalloc_cache_noprof+0x318/0x3e4
    misc_register+0x58/0x15c'
	echo "$lf_host" | leak_filter "$1" >/dev/null || return 1
	echo "$lf_host [ssif_bmc_rs]" | leak_filter "$1" >/dev/null && return 1
	printf '%s\n%s\n' "$lf_host" "$lf_other" | leak_filter "$1" >/dev/null && return 1
	return 0
}

# clear_boot_leaks: forget the kmemleak reports that exist before any of our modules is
# loaded, so that no_leaks reports only what leaked after. (On the AST2500 the Aspeed I2C
# interrupt controller's probe leaks an irq domain name at boot: aspeed_i2c_ic_of_init ->
# __irq_domain_instantiate -> kasprintf.) "clear" only greys objects already reported by
# a scan, so everything allocated later, by our modules and by the tests, is still
# reported. Objects younger than kmemleak's minimum age (5 s) are not reported yet, so wait
# until the boot is older than that. The cleared reports are printed, never hidden.
clear_boot_leaks() {
	[ -e /sys/kernel/debug/kmemleak ] || return 0
	while [ "$(cut -d. -f1 /proc/uptime)" -lt 6 ]; do
		sleep 0.5
	done
	echo scan > /sys/kernel/debug/kmemleak
	sleep 1
	echo scan > /sys/kernel/debug/kmemleak
	cbl_n=$(grep -c 'unreferenced object' /sys/kernel/debug/kmemleak)
	echo "kmemleak: $cbl_n report(s) before any module is loaded, cleared"
	sed 's/^/kmemleak-boot: /' /sys/kernel/debug/kmemleak | head -n 40
	echo clear > /sys/kernel/debug/kmemleak
}

counters_file() {
	ls /sys/kernel/debug/ssif_bmc-"$1"-0010/counters 2>/dev/null
}

counter() {
	awk -v k="$2" '$1 == k { print $2 }' "$(counters_file "$1")"
}

# The bytes 1..N as ipmitool raw arguments.
payload() {
	i=0
	while [ $i -lt "$1" ]; do
		printf '0x%02x ' $(((i * 7 + 3) % 256))
		i=$((i + 1))
	done
}

# load_link [params]: insmod the software link, with the ssif_link.<param>=<value>
# options of the kernel command line (as modprobe would pass them), then [params].
load_link() {
	insmod $MOD/ssif_link.ko $(tr ' ' '\n' </proc/cmdline | sed -n 's/^ssif_link\.//p') "$@"
}

# link_like_aspeed BMC_BUS HOST_BUS: one Get Device ID with and without PEC through the
# link (driver and responder up), traced at the i2c_slave tracepoint. The link must
# behave as i2c-aspeed: every event in hard IRQ context, two STOPs after the NAKed
# last byte of a read, and, with a bus clock, at least 9 bit times between bytes.
link_like_aspeed() {
	ll_t=/sys/kernel/tracing
	: > $ll_t/trace
	echo 1 > $ll_t/events/i2c_slave/enable
	ssif-vmtest clean "$2" >/dev/null
	echo 0 > $ll_t/events/i2c_slave/enable
	grep "i2c_slave: i2c-$1 " $ll_t/trace >/tmp/link.trace
	ll_khz=$(cat /sys/module/ssif_link/parameters/bus_khz)
	awk -v khz="$ll_khz" '
		# TASK-PID [CPU] FLAGS TIME: i2c_slave: i2c-N a=.. ret=.. EVENT [..]
		{
			n++
			if (substr($3, 3, 1) !~ /[hH]/) soft++
			t = $4 + 0
			ev = $0; sub(/.*ret=-?[0-9]+ +/, "", ev); sub(/ .*/, "", ev)
			if (ev == "WR_RCV" && prev == "WR_RCV" && (gap == "" || t - pt < gap)) gap = t - pt
			if (ev == "STOP" && prev == "STOP" && pprev == "RD_PRO") twice++
			pprev = prev; prev = ev; pt = t
		}
		END {
			want = khz ? 9 / (khz * 1000) : 0
			printf "link-trace: events=%d outside_hardirq=%d stop_twice_after_read=%d min_byte_gap_us=%.1f want_us>=%.1f\n",
				n, soft, twice, gap * 1e6, want * 1e6
			exit !(n > 0 && !soft && twice > 0 && gap >= want * 0.999)
		}' /tmp/link.trace
}

# misc_of I2CDEV: waits (up to 5 s) until the I2C device (e.g. 5-1010) has its misc device,
# then prints its name. Ours names it by a rule of its own (README, Kconfig): the device of
# the device tree's ssif-bmc node is ipmi-ssif-host, the others ipmi-ssif-host-<bus>-<address>
# while that node exists.
misc_of() {
	mo_n=0
	while [ -z "$(ls /sys/bus/i2c/devices/$1/misc 2>/dev/null)" ] && [ $mo_n -lt 250 ]; do
		sleep 0.02
		mo_n=$((mo_n + 1))
	done
	mo=$(ls /sys/bus/i2c/devices/$1/misc 2>/dev/null | head -n1)
	[ -n "$mo" ] && wait_for /dev/$mo && echo "$mo"
}

# use_device I2CDEV: the misc device of that I2C device becomes the one the tools open
# (SSIF_DEVICE, read by ssif-responder, ssif-vmtest and ssif-bridge; ssifbridged_start
# passes it with -d); SSIF_MISC is its /sys/class/misc directory.
use_device() {
	ud=$(misc_of "$1") || return 1
	export SSIF_DEVICE=/dev/$ud SSIF_MISC=/sys/class/misc/$ud
}

# Bring our driver up on the software link with the responder serving it.
# Sets HOST_BUS and BMC_BUS, and SSIF_DEVICE to the link device's misc device.
link_up() {
	load_link || return 1
	echo "link: $(cd /sys/module/ssif_link/parameters && for p in hardirq bus_khz garbage links; do printf '%s=%s ' $p "$(cat $p)"; done)"
	BMC_BUS=$(bus_of ssif-link-bmc) && HOST_BUS=$(bus_of ssif-link-host) || return 1
	echo ipmi-ssif-host 0x1010 > /sys/bus/i2c/devices/i2c-$BMC_BUS/new_device
	use_device $BMC_BUS-1010
}

# Which ssif_bmc is loaded: rust, c or none. Both modules are named ssif_bmc and both
# I2C drivers ipmi-ssif-host; only ours has a module parameter. A Rust module's parameters
# are not in sysfs (module! gives them permission 0), but their section is.
loaded_driver() {
	if [ ! -d /sys/module/ssif_bmc ]; then
		echo none
	elif [ -e /sys/module/ssif_bmc/sections/__param ]; then
		echo rust
	elif [ -d /sys/bus/i2c/drivers/ipmi-ssif-host ]; then
		echo c
	else
		echo unknown
	fi
}

# load_driver rust|c [params]: insmod the driver and check that it is the one loaded.
load_driver() {
	ld_drv=$1
	shift
	case $ld_drv in rust) ld_ko=ssif_bmc_rs.ko ;; c) ld_ko=ssif_bmc_c.ko ;; esac
	insmod $MOD/$ld_ko "$@" && [ "$(loaded_driver)" = "$ld_drv" ] && wait_for /dev/ipmi-ssif-host
}

# wait_serving: wait (up to 5 s) until a responder started after /tmp/responder.log was
# emptied has the device open.
wait_serving() {
	ws_n=0
	while ! grep -q serving /tmp/responder.log && [ $ws_n -lt 250 ]; do
		sleep 0.02
		ws_n=$((ws_n + 1))
	done
}

start_responder() {
	ssif-responder -v "$@" 2>>/tmp/responder.log &
	RESPONDER=$!
}

summary() {
	echo "checks: $PASS passed, $FAIL failed"
	[ "$FAIL" = 0 ] && [ "$PASS" -gt 0 ]
}
