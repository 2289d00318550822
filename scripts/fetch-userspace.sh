#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetch Debian user space for the VM (busybox-static, ipmitool, i2c-tools, ipmi_sim, a
# D-Bus system bus and the libraries of OpenBMC's prebuilt ssifbridged, with the libraries
# they link) through the machine's Debian mirror, with private apt
# lists (the system configuration is left untouched), and unpack it into
# $CACHE/armel-root. armel (ARMv5TE, soft-float ABI), not armhf: armhf is
# ARMv7 + VFPv3 and dies with "Illegal instruction" on the AST2500's ARM1176,
# while armel runs on both SoCs. Add packages to PKGS.
. "$(dirname "$0")/lib.sh"

ROOT="$CACHE/armel-root"
PKGS=(busybox-static ipmitool i2c-tools openipmi libopenipmi0 dbus libsystemd0 libstdc++6)
# ssifbridged (../shared/ssifbridged, see build-initramfs.sh) links libsdbusplus.so.1 (beside
# it), libsystemd.so.0, libstdc++.so.6, libgcc_s.so.1 and libc.so.6; it needs a system bus
# (dbus-daemon, from dbus).
# ipmi_sim (openipmi) links neither libsnmp40 (the package's SNMP tools do) nor what only
# libsnmp40 drags in: leave them out of the closure.
# libelogind0 comes in as an alternative provider of libsystemd0 (what dbus and
# libdbus-1-3 depend on); libsystemd0 itself is in PKGS.
NOT_NEEDED='libelogind0|libsnmp40|libsnmp-base|libpci3|pci.ids|libsensors5|libsensors-config|libwrap0|libnsl2|libtirpc3|libtirpc-common|libgssapi-krb5-2|libkrb5-3|libk5crypto3|libkrb5support0|libkeyutils1|libcom-err2|libudev1'

stamp="$ROOT/.pkgs-$(echo "${PKGS[*]} $NOT_NEEDED" | sha256sum | cut -c1-8)"
if [ -f "$stamp" ]; then
	stage "armel user space: cached"
	exit 0
fi

uri=$(debian_mirror)
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")

APTDIR="$CACHE/apt-armel"
mkdir -p "$APTDIR/lists/partial" "$APTDIR/archives/partial" "$APTDIR/debs"
echo "deb [arch=armel signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" > "$APTDIR/sources.list"
: > "$APTDIR/status"
aptopts=(-o APT::Sandbox::User=root -o APT::Architecture=armel -o APT::Architectures=armel
	-o Dir::Etc::sourcelist="$APTDIR/sources.list" -o Dir::Etc::sourceparts=/nonexistent
	-o Dir::State::Lists="$APTDIR/lists" -o Dir::Cache::archives="$APTDIR/archives"
	-o Dir::State::status="$APTDIR/status")

stage "armel user space: apt-get update ($suite, armel, private lists)"
apt-get "${aptopts[@]}" update -qq

# The run-time closure of the packages, without what a static initramfs never runs.
closure=$(apt-cache "${aptopts[@]}" depends --recurse --no-recommends --no-suggests \
	--no-conflicts --no-breaks --no-replaces --no-enhances "${PKGS[@]}" |
	grep -E '^[a-z0-9]' | grep -vE '^(debconf|perl|perl-base|perl-modules-5.36|usrmerge|usr-is-merged|lib[a-z-]*-perl|libperl5.36|libgdbm6|libgdbm-compat4|libdb5.3|dpkg|install-info|readline-common|lsb-base|sysvinit-utils|init-system-helpers|debianutils|libc-bin|gcc-12-base|tar|mawk|coreutils|base-files)' |
	grep -vxE "$NOT_NEEDED" | sort -u)
stage "armel user space: downloading $(echo $closure | wc -w) packages"
cd "$APTDIR/debs"
rm -f ./*.deb
# shellcheck disable=SC2086
apt-get "${aptopts[@]}" download -qq $closure
rm -rf "$ROOT"
mkdir -p "$ROOT"
for deb in ./*.deb; do
	dpkg-deb -x "$deb" "$ROOT"
done
ls ./*.deb | sed 's|^\./||' > "$ROOT/.debs"
touch "$stamp"
stage "armel user space: unpacked $(wc -l < "$ROOT/.debs") packages into $ROOT"
