#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# install-deps.sh [packages|bindgen|cargo-fuzz]: install what the build and the tests need;
# skip what is already present. "packages": the Debian packages and rust-src; "bindgen" and
# "cargo-fuzz": the tools built with cargo install. No argument: all three, in order.
# prepare.sh installs bindgen-cli before the kernel's build (which needs it) and cargo-fuzz
# (which only the fuzz step needs) after it.
. "$(dirname "$0")/lib.sh"

what=${1:-all}

install_packages() {
	stage "install: host packages"
	# gcc-arm-linux-gnueabihf builds the kernel; gcc-arm-linux-gnueabi and the armel glibc
	# link our user-space tools as ARMv6 code, which both the AST2500 and the AST2600 run.
	# Every cross compiler gets its own sysroot headers: without libc6-dev-armhf-cross and
	# linux-libc-dev-armhf-cross, arm-linux-gnueabihf-gcc falls back to the host's
	# /usr/include and fails on <asm/types.h> (scripts/check-uapi.sh).
	# g++: libfuzzer-sys (cargo fuzz, scripts/fuzz.sh) compiles libFuzzer's C++.
	# python3-venv: dtschema's venv; python3-dev: pylibfdt, which dtschema needs, has no
	# wheel for every Python and builds against <Python.h>; perl (not only perl-base):
	# checkpatch.pl (patches.sh).
	pkgs=(make gcc g++ flex bison bc libssl-dev libelf-dev cpio kmod xz-utils python3
	      python3-venv python3-dev perl
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
}

# cargo_install NAME BIN [ARGS...]: cargo install NAME unless BIN is on the PATH.
cargo_install() {
	local name=$1 bin=$2
	shift 2
	if command -v "$bin" >/dev/null 2>&1; then
		echo "$name present"
	else
		echo "installing: $name (cargo)"
		# Each in a build directory of its own (cargo install's default): with lib.sh's
		# CARGO_TARGET_DIR the two installs would take turns on its lock. Unoptimised:
		# on this 2-core machine bindgen-cli compiles in 37 s instead of 201 s, and
		# generates the kernel's bindings in 24 s instead of 7 s (same output); cargo-fuzz
		# in 32 s, and it only starts cargo.
		env -u CARGO_TARGET_DIR CARGO_PROFILE_RELEASE_OPT_LEVEL=0 \
			cargo install --locked --quiet "$name" "$@"
	fi
}

install_bindgen() {
	stage "install: bindgen-cli (cargo)"
	cargo_install bindgen-cli bindgen --version '^0.73' || die "cargo install bindgen-cli failed"
	stage "install: bindgen $(bindgen --version | cut -d' ' -f2)"
}

install_cargo_fuzz() {
	stage "install: cargo-fuzz (cargo)"
	cargo_install cargo-fuzz cargo-fuzz || die "cargo install cargo-fuzz failed"
}

case $what in
packages) install_packages ;;
bindgen) install_bindgen ;;
cargo-fuzz) install_cargo_fuzz ;;
all) install_packages && install_bindgen && install_cargo_fuzz ;;
*) die "usage: install-deps.sh [packages|bindgen|cargo-fuzz]" ;;
esac
