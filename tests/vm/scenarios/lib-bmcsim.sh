# SPDX-License-Identifier: GPL-2.0
# Helpers for the scenarios with a real BMC (sourced after lib.sh): OpenIPMI's ipmi_sim
# configured by /ipmi-sim (tests/vm/ipmi-sim); between it and /dev/ipmi-ssif-host either
# OpenBMC's real ssifbridged, on a system bus, calling ssif-ipmid (a D-Bus stand-in for
# ipmid that forwards to ipmi_sim), or ssif-bridge; and ipmitool reaching the same
# simulator two ways: through ipmi_ssif and our driver (-I open), and over LAN on
# loopback (-I lanplus).
SIM_STATE=/tmp/ipmi-sim-state
SIM_LOG=/tmp/ipmi_sim.log
BRIDGE_LOG=/tmp/bridge.log
DBUS_LOG=/tmp/dbus-daemon.log
IPMID_LOG=/tmp/ssif-ipmid.log
SSIFBRIDGED_LOG=/tmp/ssifbridged.log
# Where sd-bus (ssifbridged) and zbus (ssif-ipmid) find the system bus.
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket
export DBUS_STARTER_BUS_TYPE=system
export IPMI_SIM_CHASSIS=/tmp/ipmi-sim-chassis
# Chassis status and control take 1 s (see chassis.sh): longer than upstream's fixed
# 500 ms response deadline, well within the 5 s we give our driver.
export IPMI_SIM_CHASSIS_DELAY=1

# The LAN user of tests/vm/ipmi-sim/lan.conf. -C 3 (RAKP-HMAC-SHA1, HMAC-SHA1-96,
# AES-CBC-128) is the cipher suite ipmitool would pick; naming it spares the Get Channel
# Cipher Suites probe, which the simulator does not answer.
lan() {
	ipmitool -I lanplus -H 127.0.0.1 -U ssiftest -P ssif-pw-19 -C 3 "$@"
}

ssif() {
	ipmitool -I open "$@"
}

net_up() {
	ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
}

# sim_start first|again: start ipmi_sim; "first" on an empty state directory (the SDR
# repository put in place, the first-start SEL), "again" on the state it left. Waits
# until it answers over LAN. Sets SIM.
sim_start() {
	if [ "$1" = first ]; then
		rm -rf "$SIM_STATE" "$IPMI_SIM_CHASSIS"
		mkdir -p "$SIM_STATE/ipmi_sim/ssifbmc"
		cp /ipmi-sim/sdr.20.main "$SIM_STATE/ipmi_sim/ssifbmc/"
		emu=/ipmi-sim/first-start.emu
	else
		emu=/ipmi-sim/bmc.emu
	fi
	ipmi_sim -n -c /ipmi-sim/lan.conf -f $emu -s "$SIM_STATE" >>"$SIM_LOG" 2>&1 &
	SIM=$!
	ss_n=0
	while ! lan raw 0x06 0x01 >/dev/null 2>&1; do
		ss_n=$((ss_n + 1))
		if [ $ss_n -ge 60 ] || ! kill -0 $SIM 2>/dev/null; then
			echo "ipmi_sim did not come up:"
			cat "$SIM_LOG"
			return 1
		fi
		sleep 0.5
	done
}

sim_stop() {
	kill "$SIM" 2>/dev/null
	# SIGKILL if it has not gone in 5 s: wait alone could block the scenario for good.
	ss_n=0
	# (Exited but not yet waited for is a zombie, which kill -0 still finds.)
	while [ -r "/proc/$SIM/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$SIM/status" &&
		[ $ss_n -lt 25 ]; do
		sleep 0.2
		ss_n=$((ss_n + 1))
	done
	kill -9 "$SIM" 2>/dev/null
	wait "$SIM" 2>/dev/null
}

# bridge_start [options]: ssif-bridge on $SSIF_DEVICE (lib.sh, use_device; default
# /dev/ipmi-ssif-host); waits until it serves the
# device and is connected to the simulator. Sets BRIDGE.
bridge_start() {
	: >"$BRIDGE_LOG"
	ssif-bridge "$@" 2>>"$BRIDGE_LOG" &
	BRIDGE=$!
	bs_n=0
	while ! { grep -q serving "$BRIDGE_LOG" && grep -q connected "$BRIDGE_LOG"; } && [ $bs_n -lt 250 ]; do
		sleep 0.02
		bs_n=$((bs_n + 1))
	done
	grep -q connected "$BRIDGE_LOG"
}

bridge_stop() {
	kill "$BRIDGE" 2>/dev/null
	wait "$BRIDGE" 2>/dev/null
}

# has_owner NAME: the bus name NAME is owned on the system bus.
has_owner() {
	dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner string:"$1" 2>/dev/null | grep -q 'boolean true'
}

# bus_start: the system bus (dbus-daemon with tests/vm/dbus/system.conf). Sets DBUS.
bus_start() {
	mkdir -p /run/dbus
	dbus-uuidgen --ensure=/etc/machine-id || return 1
	dbus-daemon --config-file=/etc/ssif-vm/dbus-system.conf --nofork --nopidfile \
		>>"$DBUS_LOG" 2>&1 &
	DBUS=$!
	bu_n=0
	while ! has_owner org.freedesktop.DBus && [ $bu_n -lt 100 ]; do
		sleep 0.05
		bu_n=$((bu_n + 1))
	done
	has_owner org.freedesktop.DBus || { cat "$DBUS_LOG"; return 1; }
}

# ipmid_start: ssif-ipmid on the system bus; waits until it owns
# xyz.openbmc_project.Ipmi.Host and is connected to the simulator. Sets IPMID.
ipmid_start() {
	: >"$IPMID_LOG"
	ssif-ipmid "$@" 2>>"$IPMID_LOG" &
	IPMID=$!
	is_n=0
	while ! { has_owner xyz.openbmc_project.Ipmi.Host && grep -q connected "$IPMID_LOG"; } && [ $is_n -lt 100 ]; do
		sleep 0.05
		is_n=$((is_n + 1))
	done
	has_owner xyz.openbmc_project.Ipmi.Host && grep -q connected "$IPMID_LOG" || { cat "$IPMID_LOG"; return 1; }
}

ipmid_stop() {
	kill "$IPMID" 2>/dev/null
	wait "$IPMID" 2>/dev/null
}

# ssifbridged_start: OpenBMC's ssifbridged, unchanged, on $SSIF_DEVICE (lib.sh, use_device;
# default /dev/ipmi-ssif-host, which is also ssifbridged's own default); waits until
# it owns its bus name (it has opened the device by then). It logs to journald only, so
# its log holds what the dynamic loader or a crash prints, nothing else. Sets SSIFBRIDGED.
ssifbridged_start() {
	: >"$SSIFBRIDGED_LOG"
	ssifbridged -d "${SSIF_DEVICE:-/dev/ipmi-ssif-host}" "$@" >>"$SSIFBRIDGED_LOG" 2>&1 &
	SSIFBRIDGED=$!
	sb_n=0
	while ! has_owner xyz.openbmc_project.Ipmi.Channel.ipmi_ssif && kill -0 $SSIFBRIDGED 2>/dev/null && [ $sb_n -lt 100 ]; do
		sleep 0.05
		sb_n=$((sb_n + 1))
	done
	has_owner xyz.openbmc_project.Ipmi.Channel.ipmi_ssif || { cat "$SSIFBRIDGED_LOG"; return 1; }
}

ssifbridged_stop() {
	kill "$SSIFBRIDGED" 2>/dev/null
	wait "$SSIFBRIDGED" 2>/dev/null
}

# host_up: bind ipmi_ssif to the BMC at 0x10 on the link's host adapter.
host_up() {
	echo ipmi_ssif 0x10 >/sys/bus/i2c/devices/i2c-$HOST_BUS/new_device
	wait_for /dev/ipmi0 100
}

host_down() {
	echo 0x10 >/sys/bus/i2c/devices/i2c-$HOST_BUS/delete_device
}

# same_answer NAME CMD...: run ipmitool CMD through SSIF and over LAN, keep both outputs
# (stdout and stderr, then the exit status) in /tmp/diff/NAME.{ssif,lan}, and succeed iff
# both succeeded and printed the same. Nothing is masked unless SA_MASK (a sed script)
# is set: it is applied to both outputs before they are compared, and the unmasked
# outputs stay in NAME.{ssif,lan}.raw.
# same_error NAME CMD...: the same for a command that must fail on both sides.
same_answer() {
	SA_WANT=0 same_output "$@"
}

same_error() {
	SA_WANT=1 same_output "$@"
}

same_output() {
	sa_name=$1
	shift
	mkdir -p /tmp/diff
	ssif "$@" >/tmp/diff/$sa_name.ssif 2>&1
	echo "rc=$?" >>/tmp/diff/$sa_name.ssif
	lan "$@" >/tmp/diff/$sa_name.lan 2>&1
	echo "rc=$?" >>/tmp/diff/$sa_name.lan
	if [ -n "${SA_MASK:-}" ]; then
		for sa_f in ssif lan; do
			mv /tmp/diff/$sa_name.$sa_f /tmp/diff/$sa_name.$sa_f.raw
			sed "$SA_MASK" /tmp/diff/$sa_name.$sa_f.raw >/tmp/diff/$sa_name.$sa_f
		done
	fi
	sa_rc=$(tail -n 1 /tmp/diff/$sa_name.lan)
	case $SA_WANT:$sa_rc in
	0:rc=0 | 1:rc=[1-9]*) ;;
	*)
		echo "${SIM_TAG:-bmcsim}: unexpected over LAN: ipmitool $* ($sa_rc)"
		head -n 5 /tmp/diff/$sa_name.lan | sed "s/^/${SIM_TAG:-bmcsim}:   /"
		return 1
		;;
	esac
	if cmp -s /tmp/diff/$sa_name.ssif /tmp/diff/$sa_name.lan; then
		return 0
	fi
	echo "${SIM_TAG:-bmcsim}: differs: ipmitool $* (SSIF <, LAN >)"
	diff /tmp/diff/$sa_name.ssif /tmp/diff/$sa_name.lan | head -n 20 | sed "s/^/${SIM_TAG:-bmcsim}:   /"
	return 1
}

# ssif_loses_answer NAME CMD...: the answer through SSIF is lost (upstream's driver dropped
# the request at its 500 ms deadline) while the same command over LAN succeeds.
ssif_loses_answer() {
	sl_name=$1
	shift
	mkdir -p /tmp/diff
	ssif "$@" >/tmp/diff/$sl_name.ssif 2>&1
	sl_ssif=$?
	lan "$@" >/tmp/diff/$sl_name.lan 2>&1
	sl_lan=$?
	echo "${SIM_TAG:-bmcsim}: ipmitool $*: SSIF rc=$sl_ssif ($(head -n 1 /tmp/diff/$sl_name.ssif)), LAN rc=$sl_lan"
	[ $sl_ssif != 0 ] && [ $sl_lan = 0 ]
}

# ssif_times_out NAME CMD...: ssif_loses_answer, and the answer through SSIF was the
# driver's own for a dropped request, completion code 0xC3 (ipmitool: "Timeout").
ssif_times_out() {
	ssif_loses_answer "$@" && grep -q Timeout "/tmp/diff/$1.ssif"
}
