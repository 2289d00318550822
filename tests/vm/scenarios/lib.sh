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

# Kernel log problems: oops, BUG, WARN, lockdep, leaks.
no_splat() {
	if dmesg | grep -E 'WARNING:|BUG:|Oops|Unable to handle|possible recursive locking|circular locking|inconsistent lock state|sleeping function called from invalid context|unreferenced object|ODEBUG|refcount_t:|Kernel panic' >/tmp/splat; then
		echo "splat:"
		cat /tmp/splat
		return 1
	fi
	return 0
}

# kmemleak: scan and report nothing new.
no_leaks() {
	[ -e /sys/kernel/debug/kmemleak ] || return 0
	echo scan > /sys/kernel/debug/kmemleak
	sleep 1
	echo scan > /sys/kernel/debug/kmemleak
	leaks=$(grep -c 'unreferenced object' /sys/kernel/debug/kmemleak)
	if [ "$leaks" != 0 ]; then
		head -n 40 /sys/kernel/debug/kmemleak
		return 1
	fi
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

# Bring our driver up on the software link with the responder serving it.
# Sets HOST_BUS and BMC_BUS.
link_up() {
	insmod $MOD/ssif_link.ko || return 1
	BMC_BUS=$(bus_of ssif-link-bmc) && HOST_BUS=$(bus_of ssif-link-host) || return 1
	echo ipmi-ssif-host 0x1010 > /sys/bus/i2c/devices/i2c-$BMC_BUS/new_device
	wait_for /dev/ipmi-ssif-host || return 1
	return 0
}

# Which ssif_bmc is loaded: rust, c or none. Both modules are named ssif_bmc; their
# I2C drivers are not: ours is "ssif_bmc", upstream's "ipmi-ssif-host".
loaded_driver() {
	if [ ! -d /sys/module/ssif_bmc ]; then
		echo none
	elif [ -d /sys/bus/i2c/drivers/ssif_bmc ]; then
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
