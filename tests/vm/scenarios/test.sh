# SPDX-License-Identifier: GPL-2.0
# The VM part of the test suite. Output is parsed by scripts/run-tests-vm.sh.
. /scenarios/lib.sh

echo "== phase: kunit (module with its KUnit suite; the DT device probes too)"
insmod $MOD/ssif_bmc_rs_kunit.ko
check dt_probe_creates_misc_device wait_for /dev/ipmi-ssif-host
check dt_device_bound_on_aspeed_bus4 test -e /sys/bus/i2c/drivers/ssif_bmc/4-1010
check misc_device_mode_0600 sh -c '[ "$(stat -c %a /dev/ipmi-ssif-host)" = 600 ]'
check second_open_is_ebusy sh -c 'exec 3<>/dev/ipmi-ssif-host; ! sh -c "exec 4<>/dev/ipmi-ssif-host" 2>/dev/null'
check rmmod_kunit_module rmmod ssif_bmc
check bad_timeout_param_fails_probe sh -c '
	insmod '$MOD'/ssif_bmc_rs.ko response_timeout_ms=0
	dmesg | grep -q "response_timeout_ms=0 is out of range" && [ ! -e /dev/ipmi-ssif-host ]'
rmmod ssif_bmc 2>/dev/null

echo "== phase: bus-level tests through the software link"
insmod $MOD/ssif_bmc_rs.ko
wait_for /dev/ipmi-ssif-host
echo 4-1010 > /sys/bus/i2c/drivers/ssif_bmc/unbind
check dt_device_unbinds sh -c '[ ! -e /dev/ipmi-ssif-host ]'
link_up
check link_device_probes_by_i2c_id test -e /dev/ipmi-ssif-host
check second_device_refused_with_dev_err sh -c '
	echo 4-1010 > /sys/bus/i2c/drivers/ssif_bmc/bind 2>/dev/null
	dmesg | grep -q "cannot register /dev/ipmi-ssif-host" && [ ! -e /sys/bus/i2c/drivers/ssif_bmc/4-1010 ]'
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

echo "== phase: lifecycle"
echo 0x10 > /sys/bus/i2c/devices/i2c-$HOST_BUS/delete_device
check host_driver_deleted sh -c "[ ! -e /sys/bus/i2c/devices/$HOST_BUS-0010 ]"
# The responder sleeps in poll(): unbinding wakes it with EPOLLHUP|EPOLLERR.
: > /tmp/responder.log
echo "$BMC_BUS-1010" > /sys/bus/i2c/drivers/ssif_bmc/unbind
sleep 0.5
check poller_woken_by_unbind_with_hup grep -q "device gone" /tmp/responder.log
echo "$BMC_BUS-1010" > /sys/bus/i2c/drivers/ssif_bmc/bind
wait_for /dev/ipmi-ssif-host
sleep 0.5
check responder_reopens_after_rebind sh -c 'grep -c "serving /dev/ipmi-ssif-host" /tmp/responder.log | grep -q 1'
check served_after_rebind ssif-vmtest "$HOST_BUS" "$(counters_file "$BMC_BUS")"
kill $RESPONDER; wait $RESPONDER 2>/dev/null
# A reader blocked in read() when the device is unbound gets ENODEV.
(dd if=/dev/ipmi-ssif-host of=/dev/null bs=258 count=1 2>/tmp/dd.err; echo "dd rc=$?" > /tmp/dd.rc) &
sleep 0.5
echo "$BMC_BUS-1010" > /sys/bus/i2c/drivers/ssif_bmc/unbind
sleep 0.5
check blocked_reader_woken_by_unbind grep -q "dd rc=1" /tmp/dd.rc
check blocked_reader_gets_enodev grep -q "No such device" /tmp/dd.err
check unbind_removes_misc_device sh -c '[ ! -e /dev/ipmi-ssif-host ]'
echo "$BMC_BUS-1010" > /sys/bus/i2c/drivers/ssif_bmc/bind 2>/dev/null || echo ipmi-ssif-host 0x1010 > /sys/bus/i2c/devices/i2c-$BMC_BUS/new_device
check rebind_recreates_misc_device wait_for /dev/ipmi-ssif-host
# Unbind with the file open, then use the stale file descriptor.
check unbind_with_file_open sh -c '
	exec 3<>/dev/ipmi-ssif-host
	echo '$BMC_BUS'-1010 > /sys/bus/i2c/drivers/ssif_bmc/unbind
	! cat <&3 2>/dev/null'
check rmmod_after_unbind rmmod ssif_bmc
check insmod_rmmod_cycles sh -c 'for i in 1 2 3 4 5; do insmod '$MOD'/ssif_bmc_rs.ko && rmmod ssif_bmc || exit 1; done'
# links=2: a second, suffixed pair, serving a request on its own.
links_two() {
	rmmod ssif_link && load_link links=2 || return 1
	l_bmc=$(bus_of ssif-link-bmc-1) && l_host=$(bus_of ssif-link-host-1) && bus_of ssif-link-bmc >/dev/null || return 1
	insmod $MOD/ssif_bmc_rs.ko
	wait_for /dev/ipmi-ssif-host
	# The DT device probes first; the link's device is to be the one served.
	echo 4-1010 > /sys/bus/i2c/drivers/ssif_bmc/unbind
	echo ipmi-ssif-host 0x1010 > /sys/bus/i2c/devices/i2c-$l_bmc/new_device
	wait_for /dev/ipmi-ssif-host || return 1
	: > /tmp/responder.log
	start_responder
	wait_serving
	ssif-vmtest faults "$l_host" none 1 | grep -q recovered=1
	l_rc=$?
	kill $RESPONDER; wait $RESPONDER 2>/dev/null
	echo 0x1010 > /sys/bus/i2c/devices/i2c-$l_bmc/delete_device
	rmmod ssif_bmc
	return $l_rc
}
check link_second_pair_serves links_two
check no_kernel_splat no_splat
check no_kmemleak_reports no_leaks
summary
