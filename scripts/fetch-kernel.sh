#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetch Debian's linux-source-7.3 through the mirror the machine's apt sources
# already name, verify it against apt's signed index, unpack it into the cache.
# The system apt configuration is left untouched: we use private lists.
. "$(dirname "$0")/lib.sh"

SRC=$(ksrc_dir)
if [ -f "$SRC/.unpacked" ]; then
	stage "kernel source: cached ($(cat "$SRC/.debian-version"))"
	exit 0
fi

stage "kernel source: locating the Debian mirror"
uri=$(debian_mirror)
echo "mirror: $uri"

APTDIR="$CACHE/apt"
mkdir -p "$APTDIR/lists/partial" "$APTDIR/archives/partial"
cat > "$APTDIR/sources.list" <<SRCS
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie-backports main
SRCS
aptopts=(-o APT::Sandbox::User=root -o Dir::Etc::sourcelist="$APTDIR/sources.list" -o Dir::Etc::sourceparts=/nonexistent
	-o Dir::State::Lists="$APTDIR/lists" -o Dir::Cache::archives="$APTDIR/archives"
	-o Dir::State::status=/var/lib/dpkg/status -o APT::Get::List-Cleanup=0)

stage "kernel source: apt-get update (private lists, trixie-backports)"
apt-get "${aptopts[@]}" update -qq

stage "kernel source: apt-get download linux-source-$KVER"
cd "$APTDIR/archives"
rm -f linux-source-"$KVER"_*.deb
apt-get "${aptopts[@]}" download -qq "linux-source-$KVER"
deb=$(ls linux-source-"$KVER"_*.deb)
# apt already checked it against the signed index; check again explicitly so
# a stray file can never be taken for the real package.
want=$(apt-cache "${aptopts[@]}" show "linux-source-$KVER" | awk '/^SHA256:/{print $2; exit}')
have=$(sha256sum "$deb" | awk '{print $1}')
[ "$want" = "$have" ] || die "checksum mismatch for $deb"
version=$(dpkg-deb -f "$deb" Version)
echo "verified $deb ($version, sha256 $have)"

stage "kernel source: unpacking"
tmp="$CACHE/unpack.$$"
rm -rf "$tmp" "$SRC"
mkdir -p "$tmp"
dpkg-deb -x "$deb" "$tmp"
tar -C "$tmp" -xf "$tmp/usr/src/linux-source-$KVER.tar.xz"
mv "$tmp/linux-source-$KVER" "$SRC"
rm -rf "$tmp"
echo "$version" > "$SRC/.debian-version"
touch "$SRC/.unpacked"
stage "kernel source: ready in $SRC"
