# SPDX-License-Identifier: GPL-2.0
# The README's main command: our driver answering Linux's ipmi_ssif + ipmitool.
. /scenarios/lib.sh
step() { echo; echo "demo: ---- $* ----"; }

step "1. load ssif_bmc.ko: the ssif-bmc node of the device tree probes on Aspeed I2C bus 4"
insmod $MOD/ssif_bmc_rs.ko
check misc_device wait_for /dev/ipmi-ssif-host
echo "demo: $(ls -l /dev/ipmi-ssif-host)"
echo "demo: bound: $(ls /sys/bus/i2c/drivers/ssif_bmc | grep -- -1010) ($(cat /sys/bus/i2c/devices/4-1010/of_node/compatible))"
echo 4-1010 > /sys/bus/i2c/drivers/ssif_bmc/unbind

step "2. wire a software SMBus link (host master <-> BMC target) and bind our driver on it"
link_up
start_responder
check link_misc_device test -e /dev/ipmi-ssif-host
echo "demo: host adapter i2c-$HOST_BUS, BMC adapter i2c-$BMC_BUS, ssif-responder pid $RESPONDER"

step "3. bind Linux's ipmi_ssif host driver to the BMC at 0x10 (probe: device id, capabilities)"
echo ipmi_ssif 0x10 > /sys/bus/i2c/devices/i2c-$HOST_BUS/new_device
check host_ipmi0 wait_for /dev/ipmi0 100
dmesg | grep -i "ipmi_ssif\|ipmi_si\|IPMI" | tail -n 4 | sed 's/^/demo: /'

step "4. ipmitool mc info, served by the Rust driver"
ipmitool -I open mc info 2>&1 | tee /tmp/mcinfo | sed 's/^/demo: /'
check mc_info grep -q "Device ID *: 32" /tmp/mcinfo

step "5. 200-byte OEM echo round trip (multi-part write and read)"
want=$(payload 200 | tr -s ' ' | sed 's/0x//g; s/ $//')
got=$(ipmitool -I open raw 0x30 0x01 $(payload 200) 2>&1 | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
echo "demo: sent     $(echo "$want" | cut -c1-60)... (200 bytes)"
echo "demo: received $(echo "$got" | cut -c1-60)... ($(echo "$got" | wc -w) bytes)"
check echo_200_bytes_equal [ "$got" = "$want" ]

step "6. driver counters (debugfs)"
grep . "$(counters_file "$BMC_BUS")" | sed "s/^/demo:   /"
check no_kernel_splat no_splat
summary
