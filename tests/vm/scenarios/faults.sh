# SPDX-License-Identifier: GPL-2.0
# Fault campaign against one driver (ssif.drivers=rust or c; this boot is its own, so
# lockdep is on when the campaign starts): every class of ssif-faults (tools/src/bin/
# ssif-faults), each fault followed by a clean transaction whose answer is traced to its
# request. Prints one `faults:` line per class (see ssif-faults).
# ssif.n= (default 1000), ssif.nslow= for the classes that wait out a response deadline or
# restart something (default N), ssif.nburst= (default 2000), ssif.classes=a,b (default all).
# Both drivers run with upstream's fixed 500 ms response deadline.
. /scenarios/lib.sh
clear_boot_leaks
arg() { sed -n "s/.*ssif\.$1=\([a-z0-9_,]*\).*/\1/p" /proc/cmdline; }
N=$(arg n) NSLOW=$(arg nslow) NBURST=$(arg nburst) CLASSES=$(arg classes)
DRIVERS=$(arg drivers | tr , ' ')
export SPLAT_PATTERN

load_link
BMC_BUS=$(bus_of ssif-link-bmc)
HOST_BUS=$(bus_of ssif-link-host)
echo ipmi-ssif-host 0x1010 > /sys/bus/i2c/devices/i2c-$BMC_BUS/new_device

for drv in ${DRIVERS:-rust}; do
	case $drv in
	rust) PARAMS=response_timeout_ms=500 ;;
	c) PARAMS= ;;
	esac
	check faults_${drv}_loaded load_driver $drv $PARAMS
	check faults_${drv}_campaign ssif-faults --driver $drv --host-bus "$HOST_BUS" --bmc-bus "$BMC_BUS" \
		--timeout-ms 500 ${N:+--n $N} ${NSLOW:+--nslow $NSLOW} ${NBURST:+--nburst $NBURST} \
		${CLASSES:+--classes $CLASSES}
	check faults_${drv}_unloaded rmmod ssif_bmc
done
# The host's IPMI stack (ipmi_msghandler under ipmi_ssif, built in; the ipmi_ssif class
# unbinds ipmi_ssif with ipmitool's message pending and its file open) has left kmemleak
# reports: its interface (ipmi_add_smi), its user (ipmi_create_user) and the pending
# request's messages (ipmi_alloc_recv_msg, ipmi_alloc_smi_msg from i_ipmi_request). That
# is the host side, not the BMC driver under test: they are printed and set aside (never
# when a frame lies in a module), everything else must be clean.
HOST_STACK='ipmi_add_smi|ipmi_create_user|ipmi_alloc_recv_msg|ipmi_alloc_smi_msg|i_ipmi_request'
check leak_filter_sets_aside_only_the_host_stack leak_filter_sets_aside_only "$HOST_STACK"
check no_leaks_after_campaign no_leaks "$HOST_STACK"
summary
