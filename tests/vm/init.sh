#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
# /init of the test VM: mount, run the scenario named by ssif.scenario= on the
# kernel command line, report its exit code, power off.
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
/bin/busybox --install -s /bin
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t debugfs none /sys/kernel/debug
# tracefs where it lives since 4.1 (the automount under debugfs is gone without FTRACE).
mount -t tracefs none /sys/kernel/tracing
mkdir -p /dev/pts /tmp
scenario=$(sed -n 's/.*ssif\.scenario=\([a-z0-9_-]*\).*/\1/p' /proc/cmdline)
echo "ssif-vm: scenario ${scenario:-none} starts"
# Which CPU the user space runs on (armv6l on the AST2500, armv7l on the AST2600).
echo "ssif-vm: uname -m $(uname -m), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)"
if [ -f "/scenarios/$scenario.sh" ]; then
	sh "/scenarios/$scenario.sh"
	rc=$?
else
	echo "ssif-vm: no scenario '$scenario'"
	rc=2
fi
echo "ssif-vm: scenario $scenario rc=$rc"
sync
reboot -f
