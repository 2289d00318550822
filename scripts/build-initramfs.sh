#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Pack the VM's initramfs: Debian armel busybox + ipmitool (+ libraries), our
# tools and modules, upstream's C ssif_bmc.ko, OpenBMC's ssifbridged (prebuilt,
# from ../shared/ssifbridged beside the checkout) and the system bus it needs, the
# /init of tests/vm. The scenario to run is chosen at boot (kernel command line
# ssif.scenario=...).
. "$(dirname "$0")/lib.sh"

# OpenBMC's ssifbridged and its libsdbusplus.so.1, unmodified third-party binaries for
# armel (their README says where they come from), never part of the repo.
SSIFBRIDGED_DIR="$REPO/../shared/ssifbridged"
for f in ssifbridged libsdbusplus.so.1; do
	[ -f "$SSIFBRIDGED_DIR/$f" ] ||
		die "$SSIFBRIDGED_DIR/$f is missing: the prebuilt ssifbridged (shared/ssifbridged/ beside the checkout) is needed for the bmcsim and demo scenarios"
done

OUT="$OUT_DIR"
ROOT="$OUT/initramfs"
KB=$(kbuild_dir)
stage "initramfs: assembling"
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,dev,proc,sys,tmp,run,root,lib/modules/ssif,etc}
cp -a "$CACHE/armel-root/." "$ROOT/"
rm -rf "$ROOT/usr/share/doc" "$ROOT/usr/share/man" "$ROOT/usr/share/locale" "$ROOT/.debs" "$ROOT"/.pkgs-*
# ipmitool parses IANA's enterprise registry (4.7 MB, 62,000 entries) on every start, to
# name manufacturers: under emulation that is 2 of the 2.3 s an `ipmitool raw` takes, and
# the suites run over 200 of them. Keep its header and first ten entries (0, "Reserved",
# is the manufacturer ipmi_sim and ssif-responder report), so the parser and its output
# are the same for every ID the tests use.
PEN="$ROOT/usr/share/misc/enterprise-numbers.txt"
[ -f "$PEN" ] || die "ipmitool's $PEN is missing"
awk '$0 == "10" { exit } { print }' "$PEN" > "$PEN.new" && mv "$PEN.new" "$PEN"
grep -qx '  Reserved' "$PEN" || die "could not cut $PEN"
cp "$OUT"/tools/* "$ROOT/sbin/"
cp "$SSIFBRIDGED_DIR/ssifbridged" "$ROOT/usr/sbin/"
cp "$SSIFBRIDGED_DIR/libsdbusplus.so.1" "$ROOT/usr/lib/arm-linux-gnueabi/"
# The system bus's configuration (ours), and the one user dbus-daemon's policy names.
mkdir -p "$ROOT/etc/ssif-vm"
cp "$REPO/tests/vm/dbus/system.conf" "$ROOT/etc/ssif-vm/dbus-system.conf"
echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOT/etc/passwd"
echo 'root:x:0:' >"$ROOT/etc/group"
# The BMC simulator's configuration (ipmi_sim runs in the VM; tests/vm/ipmi-sim).
bash "$REPO/tests/vm/ipmi-sim/build.sh" "$ROOT/ipmi-sim"
cp "$OUT/module/ssif_bmc.ko" "$ROOT/lib/modules/ssif/ssif_bmc_rs.ko"
cp "$OUT/module-kunit/ssif_bmc.ko" "$ROOT/lib/modules/ssif/ssif_bmc_rs_kunit.ko"
cp "$KB/drivers/char/ipmi/ssif_bmc.ko" "$ROOT/lib/modules/ssif/ssif_bmc_c.ko"
cp "$OUT/link/ssif_link.ko" "$ROOT/lib/modules/ssif/"
cp "$REPO/tests/vm/init.sh" "$ROOT/init"
cp -r "$REPO/tests/vm/scenarios" "$ROOT/scenarios"
chmod +x "$ROOT/init" "$ROOT"/scenarios/*.sh
(cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -1 > "$OUT/initramfs.cpio.gz")
stage "initramfs: $(du -h "$OUT/initramfs.cpio.gz" | cut -f1)"
