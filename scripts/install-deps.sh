#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install what the build and the tests need; skip what is already present.
. "$(dirname "$0")/lib.sh"

stage "install: host packages"
# gcc-arm-linux-gnueabihf builds the kernel; gcc-arm-linux-gnueabi and the armel glibc
# link our user-space tools as ARMv6 code, which both the AST2500 and the AST2600 run.
# Every cross compiler gets its own sysroot headers: without libc6-dev-armhf-cross and
# linux-libc-dev-armhf-cross, arm-linux-gnueabihf-gcc falls back to the host's
# /usr/include and fails on <asm/types.h> (scripts/check-uapi.sh).
pkgs=(make gcc flex bison bc libssl-dev libelf-dev cpio kmod xz-utils python3
      gcc-arm-linux-gnueabihf binutils-arm-linux-gnueabihf
      libc6-dev-armhf-cross linux-libc-dev-armhf-cross linux-libc-dev-armel-cross
      gcc-arm-linux-gnueabi binutils-arm-linux-gnueabi libc6-dev-armel-cross
      libclang-19-dev qemu-system-arm valgrind openipmi)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
	echo "all host packages present"
fi

stage "install: rust-src"
if ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
	echo "installing: rustup component rust-src"
	rustup component add rust-src
else
	echo "rust-src present"
fi

stage "install: bindgen-cli"
if ! command -v bindgen >/dev/null 2>&1; then
	echo "installing: bindgen-cli (cargo)"
	cargo install --locked --quiet bindgen-cli --version '^0.73'
else
	echo "bindgen present: $(bindgen --version)"
fi

stage "install: cargo-fuzz"
if ! command -v cargo-fuzz >/dev/null 2>&1; then
	echo "installing: cargo-fuzz (cargo)"
	cargo install --locked --quiet cargo-fuzz
else
	echo "cargo-fuzz present"
fi
