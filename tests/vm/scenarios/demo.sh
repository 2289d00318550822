# SPDX-License-Identifier: GPL-2.0
# The README's main command: our driver answering Linux's ipmi_ssif + ipmitool, with a
# real BMC (OpenIPMI's ipmi_sim) behind it, each answer checked against the same BMC over LAN.
. /scenarios/lib.sh
. /scenarios/lib-bmcsim.sh
SIM_TAG=demo
step() { echo; echo "demo: ---- $* ----"; }

step "1. load ssif_bmc.ko: the ssif-bmc node of the device tree probes on Aspeed I2C bus 4"
# No response_timeout_ms: the link's device below gets the default deadline, 500 ms (the
# device tree's node sets its own, timeout-ms). The simulated BMC takes 1 s to answer
# chassis status (tests/vm/ipmi-sim/chassis.sh): the driver answers it 0xC3 itself.
insmod $MOD/ssif_bmc_rs.ko
check misc_device wait_for /dev/ipmi-ssif-host
echo "demo: $(ls -l /dev/ipmi-ssif-host)"
echo "demo: bound: $(ls /sys/bus/i2c/drivers/ipmi-ssif-host | grep -- -1010) ($(cat /sys/bus/i2c/devices/4-1010/of_node/compatible))"
echo 4-1010 > /sys/bus/i2c/drivers/ipmi-ssif-host/unbind
echo "demo: unbound 4-1010; its node keeps the name /dev/ipmi-ssif-host, so another device is named after its I2C device"

step "2. wire a software SMBus link (host master <-> BMC target); a real BMC behind our driver"
# OpenIPMI's BMC simulator (tests/vm/ipmi-sim), reached two ways: behind
# the link device's misc device through OpenBMC's ssifbridged (unchanged) on a system bus, which
# calls ssif-ipmid (a stand-in for ipmid that forwards to the simulator); and over LAN.
net_up
check ipmi_sim_up sim_start first
link_up
check link_misc_device_named_after_its_i2c_device [ "$SSIF_DEVICE" = /dev/ipmi-ssif-host-$BMC_BUS-1010 ]
echo "demo: the link's device: $(ls -l $SSIF_DEVICE)"
echo "demo: response deadline of the link's device: $(cat $SSIF_MISC/response_timeout_ms) ms"
check link_device_default_deadline_500ms [ "$(cat $SSIF_MISC/response_timeout_ms)" = 500 ]
check dbus_system_bus_up bus_start
check ssif_ipmid_serving_and_connected ipmid_start
check ssifbridged_serving ssifbridged_start
echo "demo: host adapter i2c-$HOST_BUS, BMC adapter i2c-$BMC_BUS, ipmi_sim pid $SIM, dbus-daemon pid $DBUS, ssif-ipmid pid $IPMID, ssifbridged pid $SSIFBRIDGED"

step "3. bind Linux's ipmi_ssif host driver to the BMC at 0x10 (probe: device id, capabilities)"
echo ipmi_ssif 0x10 > /sys/bus/i2c/devices/i2c-$HOST_BUS/new_device
check host_ipmi0 wait_for /dev/ipmi0 100
dmesg | grep -i "ipmi_ssif\|ipmi_si\|IPMI" | tail -n 4 | sed 's/^/demo: /'

step "4. ipmitool through ipmi_ssif and the Rust driver, each answer checked against the LAN answer"
show() {
	cmd_name=$(echo "$*" | tr ' ' _)
	echo "demo: \$ ipmitool -I open $*"
	check "${cmd_name}_same_as_lan" same_answer "$cmd_name" "$@"
	sed '$d; s/^/demo:   /' /tmp/diff/$cmd_name.ssif
}
show mc info
# 1 s in the simulator, past the 500 ms deadline: the driver answers 0xC3 ("Timeout"),
# over LAN the answer comes. ssifbridged drops the simulator's late answer; every
# request after is answered.
echo "demo: \$ ipmitool -I open chassis status    (1 s in the simulator)"
check chassis_status_c3_at_500ms_via_ssif ssif_times_out chassis_status chassis status
sed 's/^/demo:   /' /tmp/diff/chassis_status.ssif
for c in "sdr list" "fru print" "sel list"; do
	show $c
done

step "5. 200-byte OEM echo round trip (multi-part write and read), served by ssif-responder"
# ipmi_sim has no echo command: the responder's OEM echo takes ssifbridged's place.
ssifbridged_stop
ipmid_stop
: > /tmp/responder.log
start_responder
wait_serving
want=$(payload 200 | tr -s ' ' | sed 's/0x//g; s/ $//')
got=$(ipmitool -I open raw 0x30 0x01 $(payload 200) 2>&1 | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
echo "demo: sent     $(echo "$want" | cut -c1-60)... (200 bytes)"
echo "demo: received $(echo "$got" | cut -c1-60)... ($(echo "$got" | wc -w) bytes)"
check echo_200_bytes_equal [ "$got" = "$want" ]

step "6. driver counters (debugfs)"
grep . "$(counters_file "$BMC_BUS")" | sed "s/^/demo:   /"
check no_kernel_splat no_splat
summary
