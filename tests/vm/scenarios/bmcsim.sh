# SPDX-License-Identifier: GPL-2.0
# A real BMC behind the driver, checked against itself: OpenIPMI's ipmi_sim runs in the VM
# with the configuration of tests/vm/ipmi-sim. Our driver, at its default 500 ms response
# deadline, is served by OpenBMC's real ssifbridged (unchanged), which calls ssif-ipmid on
# a system bus, which forwards to ipmi_sim; then by ssif-bridge with ssifbridged's policy.
# Upstream's driver is served by ssif-bridge --policy sync (every request answered once, in
# order), as before. Linux's ipmi_ssif reaches the BMC through the software link and the
# driver, and ipmitool asks the same questions through SSIF (-I open) and over LAN
# (-I lanplus on 127.0.0.1). Each answer must be the same, line for line; changes made
# through one door must be seen through the other. ipmi_sim takes 1 s to answer chassis
# status and control: at 500 ms the driver answers those with 0xC3, and every request after
# must be answered right. Then, for ours behind ssifbridged, ipmi_sim is killed and
# restarted under a loop of "sdr list" through SSIF.
. /scenarios/lib.sh
. /scenarios/lib-bmcsim.sh
t0=$(date +%s)

net_up
check bmcsim_loopback_up sh -c 'ip addr show lo 2>/dev/null | grep -q "inet 127.0.0.1" || ifconfig lo | grep -q 127.0.0.1'
check bmcsim_ipmi_sim_up sim_start first
echo "bmcsim: ipmi_sim up after $(($(date +%s) - t0)) s"
insmod $MOD/ssif_link.ko
BMC_BUS=$(bus_of ssif-link-bmc)
HOST_BUS=$(bus_of ssif-link-host)

# The commands compared, as NAME:ARGS (ARGS split on spaces).
READS="mc_info:mc#info sdr_list:sdr#list sdr_elist:sdr#elist sensor_list:sensor#list
fru_print:fru#print sel_info:sel#info sel_list:sel#list chassis_status:chassis#status
watchdog_get:mc#watchdog#get
raw_get_watchdog_timer:raw#0x06#0x25
raw_get_device_id:raw#0x06#0x01
raw_get_channel_info_15:raw#0x06#0x42#0x0f
raw_get_sdr_repository_info:raw#0x0a#0x20
raw_get_sel_info:raw#0x0a#0x40
raw_read_fru_33_bytes:raw#0x0a#0x11#0x00#0x00#0x00#33
raw_get_chassis_status:raw#0x00#0x01"
# The reads of a short run: one fast command, and the slow ones with what follows them.
SHORT_READS="mc_info:mc#info chassis_status:chassis#status raw_get_chassis_status:raw#0x00#0x01"
ERRORS="raw_invalid_command:raw#0x06#0x99 raw_fru_read_too_long:raw#0x0a#0x11#0x00#0x00#0x00#64"

# ipmi_sim answers Get Watchdog Timer with 6 data bytes, not the 8 of the spec: the
# present countdown is missing, and ipmitool prints whatever its response buffer held
# there, which differs between its LAN and open interfaces. That line alone is masked
# for "mc watchdog get"; the raw answer (raw_get_watchdog_timer) is compared unmasked.
WATCHDOG_MASK='s/^Present Countdown: .*/Present Countdown: (masked: not in the answer)/'

# compare_all DRIVER PREFIX [READS]: every command of READS (default $READS) through SSIF
# against LAN; check names are bmcsim_PREFIX_<name>.
compare_all() {
	ca_drv=$1
	ca_pre=$2
	for ca in ${3:-$READS}; do
		case $ca in watchdog_get:*) SA_MASK=$WATCHDOG_MASK ;; *) SA_MASK= ;; esac
		ca_name=${ca%%:*}
		ca_args=$(echo "${ca#*:}" | tr '#' ' ')
		case $ca_drv:$ca_name in
		c:chassis_status | c:raw_get_chassis_status)
			# 1 s to answer (chassis.sh): past upstream's fixed deadline.
			check "bmcsim_${ca_pre}_${ca_name}_lost_at_500ms" ssif_loses_answer "${ca_pre}_${ca_name}" $ca_args
			check "bmcsim_${ca_pre}_${ca_name}_back_in_step" resync
			continue
			;;
		rust:chassis_status | rust:raw_get_chassis_status)
			# 1 s to answer: past our default deadline too. The driver answers 0xC3; the
			# request right after, and every one after that, must get its own answer.
			check "bmcsim_${ca_pre}_${ca_name}_c3_at_500ms_next_answered" slow_then_next "${ca_pre}_${ca_name}" $ca_args
			for ca_next in sdr_list:sdr#list sel_list:sel#list fru_print:fru#print; do
				check "bmcsim_${ca_pre}_after_${ca_name}_${ca_next%%:*}" same_answer "${ca_pre}_after_${ca_name}_${ca_next%%:*}" $(echo "${ca_next#*:}" | tr '#' ' ')
			done
			continue
			;;
		esac
		check "bmcsim_${ca_pre}_${ca_name}" same_answer "${ca_pre}_${ca_name}" $ca_args
		SA_MASK=
	done
}

# What the front end answers Get System Interface Capabilities with (ipmitool raw's data
# bytes): ssifbridged's handleGetSysIfCap (multi-part, no PEC, 255-byte messages, and a
# fifth zero byte the spec's answer does not have), or ssif-bridge's (ipmi::SSIF_CAPS:
# PEC, 254).
CAPS_ssifbridged="00 80 ff ff 00"
CAPS_bridge="00 88 fe fe"

# slow_then_next NAME CMD...: one ipmitool process sends CMD (ipmi_sim takes 1 s) through
# SSIF and, right after the driver's 0xC3 for it, Get System Interface Capabilities, which
# the front end answers itself (ipmi_sim is busy for that second: a request that reached it
# would wait too). So the second request is read and answered while the front end still
# waits for the simulator's answer to the first. CMD must fail with 0xC3 ("Timeout"), the
# second must get its answer ($CAPS_<front end>), and CMD must succeed over LAN.
slow_then_next() {
	sn_name=$1
	shift
	mkdir -p /tmp/diff
	printf '%s\nraw 0x06 0x57 0x00\n' "$*" >/tmp/diff/$sn_name.exec
	ssif exec /tmp/diff/$sn_name.exec >/tmp/diff/$sn_name.out 2>/tmp/diff/$sn_name.err
	lan "$@" >/tmp/diff/$sn_name.lan 2>&1
	sn_lan=$?
	sn_got=$(tr -s ' \n' ' ' </tmp/diff/$sn_name.out | sed 's/^ //; s/ $//')
	eval sn_want=\$CAPS_$FRONT
	echo "bmcsim: ipmitool exec {$*; raw 0x06 0x57 0x00} through SSIF: stdout '$sn_got' (want '$sn_want'), stderr '$(tr '\n' ' ' </tmp/diff/$sn_name.err)'; LAN rc=$sn_lan"
	[ "$(grep -c Timeout /tmp/diff/$sn_name.err)" = 1 ] && ! grep -q 'cmd=0x57' /tmp/diff/$sn_name.err &&
		[ "$sn_got" = "$sn_want" ] && [ $sn_lan = 0 ]
}

# resync: after upstream's driver dropped a request, the bridge's late answer is taken as
# the answer to the host's next request (SSIF-NOTES: "late answer delivered for a newer
# request"), and so on down the line. Get Device ID through SSIF until the answer is the
# LAN's again (at most 5 tries); say how many it took.
resync() {
	sleep 2
	lan raw 0x06 0x01 >/tmp/diff/resync.lan 2>&1
	rs_n=0
	while [ $rs_n -lt 5 ]; do
		rs_n=$((rs_n + 1))
		ssif raw 0x06 0x01 >/tmp/diff/resync.ssif 2>&1
		if cmp -s /tmp/diff/resync.ssif /tmp/diff/resync.lan; then
			echo "bmcsim: back in step after $rs_n Get Device ID"
			return 0
		fi
		echo "bmcsim: out of step, Get Device ID $rs_n: $(tr '\n' ' ' </tmp/diff/resync.ssif)"
	done
	return 1
}

# sel_count DOOR: the SEL's entry count, as the door (ssif or lan) reports it.
sel_count() {
	$1 sel info 2>/dev/null | sed -n 's/^Entries *: *//p'
}

power() {
	$1 chassis status 2>/dev/null | sed -n 's/^System Power *: *//p'
}

# state_changes DRIVER PREFIX
state_changes() {
	sc_drv=$1
	sc_pre=$2
	# SEL: records added through SSIF are seen over LAN, a clear over LAN through SSIF.
	before=$(sel_count lan)
	ssif sel add /ipmi-sim/sel-add.txt >/tmp/sel-add.out 2>&1
	added=$(grep -c '^0x' /ipmi-sim/sel-add.txt)
	check "bmcsim_${sc_pre}_sel_add_via_ssif_seen_via_lan" [ "$(sel_count lan)" = $((before + added)) ]
	check "bmcsim_${sc_pre}_sel_list_after_add" same_answer "${sc_pre}_sel_list_after_add" sel list
	lan sel clear >/dev/null 2>&1
	sleep 1
	check "bmcsim_${sc_pre}_sel_clear_via_lan_seen_via_ssif" [ "$(sel_count ssif)" = 0 ]
	check "bmcsim_${sc_pre}_sel_info_after_clear" same_answer "${sc_pre}_sel_info_after_clear" sel info
	# Power (the chassis_control program of lan.conf keeps it): off through SSIF, seen
	# over LAN; on over LAN. Both drivers lose the answers (1 s, past 500 ms), not the
	# commands: the power state cannot be read through SSIF.
	ssif chassis power off >/dev/null 2>&1
	check "bmcsim_${sc_pre}_power_off_via_ssif_seen_via_lan" [ "$(power lan)" = off ]
	case $sc_drv in
	rust) check "bmcsim_${sc_pre}_power_off_next_answered" same_answer "${sc_pre}_power_off_next" raw 0x06 0x01 ;;
	c) check "bmcsim_${sc_pre}_power_off_back_in_step" resync ;;
	esac
	lan chassis power on >/dev/null 2>&1
	check "bmcsim_${sc_pre}_power_on_via_lan_lost_via_ssif" [ "$(power ssif)" = "" ]
	check "bmcsim_${sc_pre}_power_on_via_lan_seen_via_lan" [ "$(power lan)" = on ]
	case $sc_drv in
	rust) check "bmcsim_${sc_pre}_power_status_next_answered" same_answer "${sc_pre}_power_status_next" raw 0x06 0x01 ;;
	c) check "bmcsim_${sc_pre}_power_status_back_in_step" resync ;;
	esac
	# Watchdog: Set Watchdog Timer through SSIF (SMS/OS, no action, 30.0 s, not started),
	# read back over LAN.
	ssif raw 0x06 0x24 0x04 0x00 0x00 0x00 0x2c 0x01 >/dev/null 2>&1
	check "bmcsim_${sc_pre}_watchdog_set_via_ssif_seen_via_lan" sh -c \
		'ipmitool -I lanplus -H 127.0.0.1 -U ssiftest -P ssif-pw-19 -C 3 mc watchdog get | grep -q "Initial Countdown: *30.0 sec"'
	SA_MASK=$WATCHDOG_MASK
	check "bmcsim_${sc_pre}_watchdog_get_after_set" same_answer "${sc_pre}_watchdog_after_set" mc watchdog get
	SA_MASK=
	# A 43-byte request (multi-part write): Write FRU Data past the FRU's used area, read
	# back over LAN.
	data=""
	i=0
	while [ $i -lt 40 ]; do
		data="$data 0x$(printf %02x $(((i * 13 + 7) % 256)))"
		i=$((i + 1))
	done
	ssif raw 0x0a 0x12 0x00 0xc8 0x00 $data >/tmp/fru-write.out 2>&1
	check "bmcsim_${sc_pre}_fru_write_multipart_via_ssif" grep -q . /tmp/fru-write.out
	check "bmcsim_${sc_pre}_fru_readback" same_answer "${sc_pre}_fru_readback" raw 0x0a 0x11 0x00 0xc8 0x00 32
}

# The kill/restart test: a loop of "sdr list" through SSIF while ipmi_sim is killed and,
# once the loop has seen an error, restarted. An iteration is ok when its output is the
# reference's. The loop ends after two passes in a row that began after the restart (at
# most 12 iterations): the checks look at the last two.
restart_under_load() {
	ssif sdr list >/tmp/sdr.ref 2>&1 || return 1
	: >/tmp/loop.log
	rm -f /tmp/sim.restarted
	(
		i=0 after=0
		while [ $i -lt 12 ]; do
			restarted=0
			[ -e /tmp/sim.restarted ] && restarted=1
			if timeout 30 ipmitool -I open sdr list >/tmp/sdr.out 2>&1 && cmp -s /tmp/sdr.out /tmp/sdr.ref; then
				echo "$i pass" >>/tmp/loop.log
				[ $restarted = 1 ] && after=$((after + 1))
			else
				echo "$i fail $(head -n 1 /tmp/sdr.out)" >>/tmp/loop.log
				after=0
			fi
			i=$((i + 1))
			[ $after -ge 2 ] && break
		done
		echo done >>/tmp/loop.log
	) &
	loop=$!
	# Two passes before ipmi_sim goes away (at most 120 s: the loop may never pass).
	rl_n=0
	while [ "$(grep -c '^[0-9]* pass' /tmp/loop.log)" -lt 2 ]; do
		if [ $rl_n -ge 600 ] || grep -qx done /tmp/loop.log; then
			kill $loop 2>/dev/null
			sed 's/^/bmcsim: loop (no two passes before the kill) /' /tmp/loop.log
			return 1
		fi
		sleep 0.2
		rl_n=$((rl_n + 1))
	done
	sim_stop
	echo "bmcsim: ipmi_sim killed"
	# Stay away until the loop has seen an error (a host that hangs instead never shows
	# one: after 60 s the check on errors fails), then 2 s more.
	rl_n=0
	while ! grep -q '^[0-9]* fail' /tmp/loop.log && [ $rl_n -lt 120 ]; do
		sleep 0.5
		rl_n=$((rl_n + 1))
	done
	sleep 2
	sim_start again || return 1
	: >/tmp/sim.restarted
	echo "bmcsim: ipmi_sim restarted"
	rl_n=0
	while ! grep -qx done /tmp/loop.log && [ $rl_n -lt 600 ]; do
		sleep 0.5
		rl_n=$((rl_n + 1))
	done
	kill $loop 2>/dev/null
	sed 's/^/bmcsim: loop /' /tmp/loop.log
	grep -qx done /tmp/loop.log
}

# front_start / front_stop: what serves /dev/ipmi-ssif-host ($FRONT):
#   ssifbridged  OpenBMC's ssifbridged, unchanged, calling ssif-ipmid on the system bus
#   bridge       ssif-bridge --policy ssifbridged (ssifbridged's policy, in one process)
#   sync         ssif-bridge --policy sync (every request answered once and in order)
# ipmi_sim serves one connection at a time: ssif-ipmid runs only while it is used.
front_start() {
	case $FRONT in
	ssifbridged) ipmid_start && ssifbridged_start ;;
	bridge) bridge_start --policy ssifbridged ;;
	sync) bridge_start --policy sync ;;
	esac
}

front_stop() {
	case $FRONT in
	ssifbridged)
		ssifbridged_stop
		ipmid_stop
		;;
	*) bridge_stop ;;
	esac
}

# The log of the program that talks to the simulator.
front_log() {
	case $FRONT in ssifbridged) echo "$IPMID_LOG" ;; *) echo "$BRIDGE_LOG" ;; esac
}

# run_driver DRIVER FRONT PREFIX [short]: the comparisons with DRIVER behind FRONT, check
# names bmcsim_PREFIX_<name>. "short": SHORT_READS and the errors only.
run_driver() {
	drv=$1
	FRONT=$2
	pre=$3
	td=$(date +%s)
	# Ours at its default response deadline (500 ms, as upstream's fixed one): chassis
	# status and control take 1 s (lib-bmcsim.sh), so the driver answers them 0xC3.
	check "bmcsim_${pre}_loaded" load_driver $drv
	# The device tree's ssif-bmc node probed on bus 4: unbound, so that the C driver (one
	# misc device, always /dev/ipmi-ssif-host) can serve the link device. Ours names the link
	# device after its I2C device, ipmi-ssif-host-<bus>-1010: the node keeps the default name.
	echo 4-1010 >/sys/bus/i2c/drivers/ipmi-ssif-host/unbind
	echo ipmi-ssif-host 0x1010 >/sys/bus/i2c/devices/i2c-$BMC_BUS/new_device
	check "bmcsim_${pre}_link_device" use_device $BMC_BUS-1010
	echo "bmcsim: $pre: serving $SSIF_DEVICE"
	[ "$drv" = rust ] && check "bmcsim_${pre}_deadline_default_500ms" \
		[ "$(cat $SSIF_MISC/response_timeout_ms)" = 500 ]
	case $FRONT in ssifbridged) fname=ssifbridged ;; *) fname=bridge ;; esac
	check "bmcsim_${pre}_${fname}_serving_and_connected" front_start
	check "bmcsim_${pre}_host_ipmi0" host_up
	check "bmcsim_${pre}_host_uses_multipart" sh -c '! dmesg | grep -q "Error fetching SSIF"'
	echo "bmcsim: $pre: host up after $(($(date +%s) - td)) s"
	if [ "${4:-}" = short ]; then
		compare_all $drv $pre "$SHORT_READS"
	else
		compare_all $drv $pre
	fi
	for ca in $ERRORS; do
		check "bmcsim_${pre}_${ca%%:*}" same_error "${pre}_${ca%%:*}" $(echo "${ca#*:}" | tr '#' ' ')
	done
	echo "bmcsim: $pre: compared after $(($(date +%s) - td)) s"
	if [ "${4:-}" != short ]; then
		state_changes $drv $pre
		echo "bmcsim: $pre: state changes after $(($(date +%s) - td)) s"
	fi
	if [ "$drv" = rust ] && [ "${4:-}" != short ]; then
		check "bmcsim_${pre}_restart_loop_finished" restart_under_load
		check "bmcsim_${pre}_restart_errors_while_away" grep -q '^[0-9]* fail' /tmp/loop.log
		check "bmcsim_${pre}_restart_ok_again" sh -c 'grep -E "^[0-9]+ " /tmp/loop.log | tail -n 2 | grep -c "^[0-9]* pass" | grep -qx 2'
		check "bmcsim_${pre}_restart_reconnected" sh -c '[ "$(grep -c "connected to" '"$(front_log)"')" -ge 2 ]'
		check "bmcsim_${pre}_after_restart_sdr_list" same_answer "${pre}_after_restart_sdr_list" sdr list
		echo "bmcsim: $pre: restart test after $(($(date +%s) - td)) s"
	fi
	host_down
	front_stop
	grep -E 'stats|lost|deadline|dropped|failed|timer|matches no|not for|no reply|not connected|bad frame|control|write|took' "$(front_log)" |
		sed "s/^/bmcsim: $pre: /"
	[ "$FRONT" = ssifbridged ] && sed "s/^/bmcsim: $pre: ssifbridged: /" "$SSIFBRIDGED_LOG"
	[ "$drv" = rust ] && grep -E '^(requests|responses|timeouts) ' "$(counters_file "$BMC_BUS")" | tr '\n' ' ' |
		sed "s/^/bmcsim: $pre: driver counters: /; s/$/\n/"
	echo 0x1010 >/sys/bus/i2c/devices/i2c-$BMC_BUS/delete_device
	check "bmcsim_${pre}_unloaded" rmmod ssif_bmc
	echo "bmcsim: $pre: $(($(date +%s) - td)) s"
}

check bmcsim_dbus_system_bus_up bus_start
run_driver rust ssifbridged rust_ssifbridged
run_driver rust bridge rust_bridge_policy_ssifbridged short
check bmcsim_rust_no_kernel_splat no_splat
# Upstream's column only when asked (ssif.drivers=rust,c: make compare); make test checks ours.
case ",$(sed -n 's/.*ssif\.drivers=\([a-z,]*\).*/\1/p' /proc/cmdline)," in
*,c,*)
	# Upstream's driver, unbound from the device tree's node before any request, deletes a
	# timer it never set up (SSIF-NOTES weakness 2: an ODEBUG warning, and lockdep turns
	# itself off). That one is expected; nothing else may appear.
	dmesg_before_c=$(dmesg | wc -l)
	run_driver c sync c
	check bmcsim_c_no_splat_but_upstreams_timer sh -c '
		dmesg | tail -n +'$((dmesg_before_c + 1))' |
			grep -E "WARNING:|BUG:|Oops|Unable to handle|possible recursive locking|circular locking|inconsistent lock state|sleeping function called from invalid context|unreferenced object|ODEBUG|refcount_t:|Kernel panic" |
			grep -vE "WARNING: lib/debugobjects.c:[0-9]+ at debug_print_object|ODEBUG: assert_init not available .* object type: timer_list" |
			{ ! grep .; }'
	;;
esac
sim_stop
echo "bmcsim: total $(($(date +%s) - t0)) s"
summary
