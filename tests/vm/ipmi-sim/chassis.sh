#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# ipmi_sim's chassis_control program: "<prog> get power" prints "power:<0|1>",
# "<prog> set power <0|1>" stores it. The state lives next to ipmi_sim's own state
# (IPMI_SIM_CHASSIS, default /tmp/ipmi-sim-chassis), so it survives a restart of ipmi_sim.
# IPMI_SIM_CHASSIS_DELAY (seconds) makes every call that slow, like a BMC whose power
# control goes through a slower stack: the tests use it to tell a fixed 500 ms response
# deadline from a configurable one.
f=${IPMI_SIM_CHASSIS:-/tmp/ipmi-sim-chassis}
sleep "${IPMI_SIM_CHASSIS_DELAY:-0}"
op=$1
shift
while [ $# -gt 0 ]; do
	case $op:$1 in
	get:power) echo "power:$(cat "$f" 2>/dev/null || echo 1)" ;;
	set:power) echo "$2" | tr -d '"' > "$f"; shift ;;
	get:*) ;;
	esac
	shift
done
exit 0
