#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetch QEMU 10 (qemu-system-arm from bookworm-backports) for the real-controller
# tier (Debian 12's QEMU 7.2 has no i2c-echo device) and the deterministic benchmark
# (7.2 cannot run two vCPUs under -icount). The package is downloaded through the
# machine's Debian mirror with private apt lists (the system apt configuration is
# untouched) and unpacked into $CACHE/qemu10, not installed, so
# the system's qemu-system-arm stays what every other step runs. Prints nothing
# but progress; scripts/i2c-echo.sh and the deterministic view of scripts/bench.sh
# run it through run-vm.sh.
. "$(dirname "$0")/lib.sh"

QEMU_VERSION=${SSIF_QEMU10_VERSION:-1:10.0.2+ds-2+deb13u1~bpo12+1}
ROOT="$CACHE/qemu10"
stamp="$ROOT/.version-$(echo "$QEMU_VERSION" | sha256sum | cut -c1-8)"
if [ -f "$stamp" ]; then
	stage "qemu 10: cached ($QEMU_VERSION)"
	exit 0
fi

uri=$(debian_mirror)
APTDIR="$CACHE/apt-qemu10"
mkdir -p "$APTDIR/lists/partial" "$APTDIR/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm-backports main" \
	> "$APTDIR/sources.list"
aptopts=(-o APT::Sandbox::User=root -o Dir::Etc::sourcelist="$APTDIR/sources.list"
	-o Dir::Etc::sourceparts=/nonexistent -o Dir::State::Lists="$APTDIR/lists"
	-o Dir::Cache::archives="$APTDIR/archives" -o Dir::State::status=/var/lib/dpkg/status
	-o APT::Get::List-Cleanup=0)

stage "qemu 10: apt-get update (private lists, bookworm-backports)"
apt-get "${aptopts[@]}" update -qq

# The emulator and the data package its -L directory comes from (firmware, keymaps).
pkgs=(qemu-system-arm qemu-system-data)
stage "qemu 10: apt-get download ${pkgs[*]} ($QEMU_VERSION)"
cd "$APTDIR/archives"
rm -f ./*.deb
for p in "${pkgs[@]}"; do
	apt-get "${aptopts[@]}" download -qq "$p=$QEMU_VERSION"
done
tmp="$CACHE/qemu10.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
for deb in ./*.deb; do
	dpkg-deb -x "$deb" "$tmp"
done
# No module packages: when this QEMU loads a module it also searches the system
# QEMU's module directory (another build, refused or fatal: `-device help` aborts),
# but a -nographic boot of the Aspeed machines with i2c-echo loads none.
missing=$(ldd "$tmp/usr/bin/qemu-system-arm" | grep 'not found' || true)
[ -z "$missing" ] || { rm -rf "$tmp"; die "qemu 10 needs libraries this machine lacks: $missing"; }
rm -rf "$ROOT"
mv "$tmp" "$ROOT"
touch "$stamp"
stage "qemu 10: $("$ROOT/usr/bin/qemu-system-arm" --version | head -n1)"
