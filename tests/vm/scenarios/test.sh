# SPDX-License-Identifier: GPL-2.0
# The VM part of the test suite. Output is parsed by scripts/run-tests-vm.sh.
. /scenarios/lib.sh
clear_boot_leaks

echo "== phase: kunit (module with its KUnit suite; the DT device probes too)"
insmod $MOD/ssif_bmc_rs_kunit.ko
check dt_probe_creates_misc_device wait_for /dev/ipmi-ssif-host
check dt_device_bound_on_aspeed_bus4 test -e /sys/bus/i2c/drivers/ipmi-ssif-host/4-1010
check i2c_driver_named_as_upstream sh -c "[ -d /sys/bus/i2c/drivers/ipmi-ssif-host ] && [ ! -e /sys/bus/i2c/drivers/ssif_bmc ]"
check misc_device_mode_0600 sh -c '[ "$(stat -c %a /dev/ipmi-ssif-host)" = 600 ]'
check misc_device_parent_is_the_i2c_device sh -c '[ "$(basename "$(readlink /sys/class/misc/ipmi-ssif-host/device)")" = 4-1010 ]'
check dt_timeout_ms_property_sets_the_deadline sh -c '[ "$(cat /sys/class/misc/ipmi-ssif-host/response_timeout_ms)" = 750 ]'
check second_open_is_ebusy sh -c 'exec 3<>/dev/ipmi-ssif-host; ! sh -c "exec 4<>/dev/ipmi-ssif-host" 2>/dev/null'
check rmmod_kunit_module rmmod ssif_bmc
insmod $MOD/ssif_bmc_rs.ko response_timeout_ms=0
# The DT node's timeout-ms wins over the module parameter; a device without one refuses it.
check dt_timeout_ms_wins_over_a_bad_module_parameter sh -c '
	[ -e /sys/bus/i2c/drivers/ipmi-ssif-host/4-1010 ] &&
	[ "$(cat /sys/class/misc/ipmi-ssif-host/response_timeout_ms)" = 750 ]'
echo ipmi-ssif-host 0x1011 > /sys/bus/i2c/devices/i2c-4/new_device
check bad_timeout_param_fails_probe sh -c '
	dmesg | grep -q "4-1011: response_timeout_ms=0 is out of range" &&
	[ ! -e /sys/bus/i2c/drivers/ipmi-ssif-host/4-1011 ] && [ ! -e /dev/ipmi-ssif-host-4-1011 ]'
echo 0x1011 > /sys/bus/i2c/devices/i2c-4/delete_device
rmmod ssif_bmc 2>/dev/null

echo "== phase: bus-level tests through the software link"
insmod $MOD/ssif_bmc_rs.ko
wait_for /dev/ipmi-ssif-host
echo 4-1010 > /sys/bus/i2c/drivers/ipmi-ssif-host/unbind
check dt_device_unbinds sh -c '[ ! -e /dev/ipmi-ssif-host ]'
link_up
# The device tree's ssif-bmc node keeps the default name, bound or not.
check link_device_named_after_its_i2c_device sh -c '
	[ "$SSIF_DEVICE" = /dev/ipmi-ssif-host-'$BMC_BUS'-1010 ] && [ -c "$SSIF_DEVICE" ] && [ ! -e /dev/ipmi-ssif-host ]'
echo 4-1010 > /sys/bus/i2c/drivers/ipmi-ssif-host/bind
check dt_device_gets_the_default_name wait_for /dev/ipmi-ssif-host
check each_misc_device_names_its_i2c_device sh -c '
	[ "$(basename "$(readlink /sys/class/misc/ipmi-ssif-host/device)")" = 4-1010 ] &&
	[ "$(basename "$(readlink $SSIF_MISC/device)")" = '$BMC_BUS'-1010 ]'
echo 4-1010 > /sys/bus/i2c/drivers/ipmi-ssif-host/unbind
check default_name_freed_on_unbind sh -c '[ ! -e /dev/ipmi-ssif-host ] && [ -c "$SSIF_DEVICE" ]'
TMO=$SSIF_MISC/response_timeout_ms
check timeout_attribute_defaults_to_module_parameter sh -c '[ "$(cat '$TMO')" = 500 ]'
for bad in 0 60001 4294967296 abc -5 ""; do
	check "timeout_attribute_rejects_${bad:-empty}_with_einval" sh -c '
		! echo "'$bad'" > '$TMO' 2>/tmp/tmo.err && grep -q "Invalid argument\|Numerical result" /tmp/tmo.err &&
		[ "$(cat '$TMO')" = 500 ]'
done
check timeout_attribute_accepts_250 sh -c 'echo 250 > '$TMO' && [ "$(cat '$TMO')" = 250 ]'
echo 500 > $TMO
check file_abi ssif-vmtest abi "$HOST_BUS" "$(counters_file "$BMC_BUS")"
start_responder
check link_delivers_like_i2c_aspeed link_like_aspeed "$BMC_BUS" "$HOST_BUS"
check bus_level_sequences ssif-vmtest "$HOST_BUS" "$(counters_file "$BMC_BUS")"

echo "== phase: end to end with ipmi_ssif + ipmitool"
timeouts_before=$(counter "$BMC_BUS" timeouts)
echo ipmi_ssif 0x10 > /sys/bus/i2c/devices/i2c-$HOST_BUS/new_device
check host_driver_creates_ipmi0 wait_for /dev/ipmi0 100
check host_driver_found_multipart_and_pec sh -c 'dmesg | grep -q "ipmi_ssif" && ! dmesg | grep -q "Error fetching SSIF"'
ipmitool -I open mc info > /tmp/mcinfo 2>&1
cat /tmp/mcinfo
check ipmitool_mc_info sh -c 'grep -q "Device ID *: 32" /tmp/mcinfo && grep -q "Firmware Revision *: 1.00" /tmp/mcinfo && grep -q "Product ID *: 4660" /tmp/mcinfo'
for n in 1 2 30 31 32 33 62 100 200 250; do
	want=$(payload $n | tr -s ' ' | sed 's/0x//g; s/ $//')
	got=$(ipmitool -I open raw 0x30 0x01 $(payload $n) 2>&1 | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
	check "ipmitool_echo_${n}_bytes" [ "$got" = "$want" ]
done
i=0
ok=0
while [ $i -lt 100 ]; do
	ipmitool -I open raw 0x06 0x01 >/dev/null 2>&1 && ok=$((ok + 1))
	i=$((i + 1))
done
check ipmitool_100_requests_in_a_row [ $ok = 100 ]
cat "$(counters_file "$BMC_BUS")"
requests=$(counter "$BMC_BUS" requests)
timeouts=$(counter "$BMC_BUS" timeouts)
check counters_requests_answered [ "$requests" -gt 100 ]
check counters_no_timeouts_with_ipmi_ssif [ "$timeouts" = "$timeouts_before" ]

echo "== phase: dropped requests and late answers through ipmi_ssif + ipmitool"
kill $RESPONDER; wait $RESPONDER 2>/dev/null
# Nobody serves the device: the deadline drops the request, the host reads completion code 0xC3.
ipmitool -I open raw 0x06 0x01 > /tmp/c3.out 2>&1
cat /tmp/c3.out
check unanswered_request_gets_c3_through_ipmi_ssif grep -q 'rsp=0xc3' /tmp/c3.out
# A reader that takes the request and never answers: the same.
(exec 3<>$SSIF_DEVICE; cat <&3 > /dev/null) &
reader=$!
ipmitool -I open raw 0x06 0x01 > /tmp/c3.out 2>&1
kill $reader; wait $reader 2>/dev/null
check reader_that_never_answers_gets_c3_through_ipmi_ssif grep -q 'rsp=0xc3' /tmp/c3.out
# A responder that falls behind answers late: refused before and after the next request is
# read, and never delivered for it (ssif-vmtest prints one vmtest: line per check).
check late_answer_never_delivered_for_the_next_request ssif-vmtest late-answer 500
: > /tmp/responder.log
start_responder
wait_serving
check served_after_late_answers sh -c 'ipmitool -I open raw 0x30 0x01 0x5a 2>&1 | grep -qx " *5a"'

echo "== phase: lifecycle"
echo 0x10 > /sys/bus/i2c/devices/i2c-$HOST_BUS/delete_device
check host_driver_deleted sh -c "[ ! -e /sys/bus/i2c/devices/$HOST_BUS-0010 ]"
# The responder sleeps in poll(): unbinding wakes it with EPOLLHUP|EPOLLERR.
: > /tmp/responder.log
echo "$BMC_BUS-1010" > /sys/bus/i2c/drivers/ipmi-ssif-host/unbind
sleep 0.5
check poller_woken_by_unbind_with_hup grep -q "device gone" /tmp/responder.log
echo "$BMC_BUS-1010" > /sys/bus/i2c/drivers/ipmi-ssif-host/bind
wait_for $SSIF_DEVICE
sleep 0.5
check responder_reopens_after_rebind sh -c 'grep -c "serving $SSIF_DEVICE" /tmp/responder.log | grep -q 1'
check served_after_rebind ssif-vmtest "$HOST_BUS" "$(counters_file "$BMC_BUS")"
kill $RESPONDER; wait $RESPONDER 2>/dev/null
# A reader blocked in read() when the device is unbound gets ENODEV.
(dd if=$SSIF_DEVICE of=/dev/null bs=258 count=1 2>/tmp/dd.err; echo "dd rc=$?" > /tmp/dd.rc) &
sleep 0.5
echo "$BMC_BUS-1010" > /sys/bus/i2c/drivers/ipmi-ssif-host/unbind
sleep 0.5
check blocked_reader_woken_by_unbind grep -q "dd rc=1" /tmp/dd.rc
check blocked_reader_gets_enodev grep -q "No such device" /tmp/dd.err
check unbind_removes_misc_device sh -c '[ ! -e "$SSIF_DEVICE" ]'
echo "$BMC_BUS-1010" > /sys/bus/i2c/drivers/ipmi-ssif-host/bind 2>/dev/null || echo ipmi-ssif-host 0x1010 > /sys/bus/i2c/devices/i2c-$BMC_BUS/new_device
check rebind_recreates_misc_device wait_for $SSIF_DEVICE
# Unbind with the file open, then use the stale file descriptor.
check unbind_with_file_open sh -c '
	exec 3<>"$SSIF_DEVICE"
	echo '$BMC_BUS'-1010 > /sys/bus/i2c/drivers/ipmi-ssif-host/unbind
	! cat <&3 2>/dev/null'
check rmmod_after_unbind rmmod ssif_bmc
check insmod_rmmod_cycles sh -c 'for i in 1 2 3 4 5; do insmod '$MOD'/ssif_bmc_rs.ko && rmmod ssif_bmc || exit 1; done'

echo "== phase: two SSIF devices served at once (two hosts, two links, two responders)"
rmmod ssif_link
load_link links=2
insmod $MOD/ssif_bmc_rs.ko
wait_for /dev/ipmi-ssif-host
B0=$(bus_of ssif-link-bmc) H0=$(bus_of ssif-link-host)
B1=$(bus_of ssif-link-bmc-1) H1=$(bus_of ssif-link-host-1)
echo ipmi-ssif-host 0x1010 > /sys/bus/i2c/devices/i2c-$B0/new_device
echo ipmi-ssif-host 0x1010 > /sys/bus/i2c/devices/i2c-$B1/new_device
n0=$(misc_of $B0-1010) n1=$(misc_of $B1-1010)
check link_devices_named_after_their_i2c_devices \
	test "$n0 $n1" = "ipmi-ssif-host-$B0-1010 ipmi-ssif-host-$B1-1010"
# names: each misc device and its I2C device, sorted, on one line.
names() {
	for nm in /sys/class/misc/ipmi-ssif-host*; do
		echo "${nm##*/}=$(basename "$(readlink "$nm/device")")"
	done | sort | tr '\n' ' '
}
want=$(printf '%s\n' ipmi-ssif-host=4-1010 ipmi-ssif-host-$B0-1010=$B0-1010 ipmi-ssif-host-$B1-1010=$B1-1010 |
	sort | tr '\n' ' ')
echo "misc devices: $(names)"
check three_devices_three_names test "$(names)" = "$want"
# The order that moved upstream's (and our first-come) default name to another host: unbind
# A, unbind and rebind B, rebind A. Each device must keep its name.
echo 4-1010 > /sys/bus/i2c/drivers/ipmi-ssif-host/unbind
echo $B0-1010 > /sys/bus/i2c/drivers/ipmi-ssif-host/unbind
echo $B0-1010 > /sys/bus/i2c/drivers/ipmi-ssif-host/bind
misc_of $B0-1010 >/dev/null
check rebound_device_keeps_its_name_while_the_default_is_free sh -c '
	[ ! -e /dev/ipmi-ssif-host ] && [ -c /dev/ipmi-ssif-host-'$B0'-1010 ]'
echo 4-1010 > /sys/bus/i2c/drivers/ipmi-ssif-host/bind
wait_for /dev/ipmi-ssif-host
echo "misc devices after unbind A, unbind+rebind B, rebind A: $(names)"
check names_do_not_depend_on_bind_order test "$(names)" = "$want"
: > /tmp/responder.log
ssif-responder --device /dev/ipmi-ssif-host-$B0-1010 2>>/tmp/responder.log &
R0=$!
ssif-responder --device /dev/ipmi-ssif-host-$B1-1010 2>>/tmp/responder.log &
R1=$!
# One host driver per link; each gets its own /dev/ipmiN.
ipmi_dev_for() { # i2c device of a host driver -> its /dev/ipmiN
	n=50
	while [ $n -gt 0 ]; do
		d=$(ls -d /sys/bus/i2c/devices/$1/ipmi/ipmi* 2>/dev/null | head -n1)
		[ -n "$d" ] && { echo "/dev/${d##*/}"; return 0; }
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
echo ipmi_ssif 0x10 > /sys/bus/i2c/devices/i2c-$H0/new_device
echo ipmi_ssif 0x10 > /sys/bus/i2c/devices/i2c-$H1/new_device
D0=$(ipmi_dev_for $H0-0010) D1=$(ipmi_dev_for $H1-0010)
echo "host devices: $D0 (bus $H0) $D1 (bus $H1)"
check two_host_drivers_each_have_a_device sh -c '[ -c "'$D0'" ] && [ -c "'$D1'" ] && [ "'$D0'" != "'$D1'" ]'
# echo_loop DEVICE TAG: 20 echoes of [TAG i] through DEVICE; prints how many came back right.
echo_loop() {
	el_ok=0 el_i=0
	while [ $el_i -lt 20 ]; do
		el_got=$(ipmitool -I open -d "${1#/dev/ipmi}" raw 0x30 0x01 "$2" $el_i 2>&1 | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
		[ "$el_got" = "$(printf '%02x %02x' "$2" $el_i)" ] && el_ok=$((el_ok + 1))
		el_i=$((el_i + 1))
	done
	echo $el_ok
}
echo_loop "$D0" 0x11 > /tmp/loop0 &
L0=$!
echo_loop "$D1" 0x22 > /tmp/loop1 &
L1=$!
wait $L0 $L1
echo "echoes right: $(cat /tmp/loop0) via $D0, $(cat /tmp/loop1) via $D1"
check interleaved_traffic_each_device_answers_its_own_host sh -c '[ "$(cat /tmp/loop0)" = 20 ] && [ "$(cat /tmp/loop1)" = 20 ]'
check both_devices_counted_their_requests sh -c '
	[ "$(awk "\$1 == \"requests\" { print \$2 }" /sys/kernel/debug/ssif_bmc-'$B0'-0010/counters)" -ge 20 ] &&
	[ "$(awk "\$1 == \"requests\" { print \$2 }" /sys/kernel/debug/ssif_bmc-'$B1'-0010/counters)" -ge 20 ]'
echo 0x10 > /sys/bus/i2c/devices/i2c-$H0/delete_device
echo 0x10 > /sys/bus/i2c/devices/i2c-$H1/delete_device
kill $R0 $R1; wait $R0 $R1 2>/dev/null
check rmmod_with_two_devices rmmod ssif_bmc
check no_kernel_splat no_splat
check no_kmemleak_reports no_leaks
summary
