#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Configure and build the AST2600 test kernel once, cache it (keyed by kernel
# version and config-fragment hash), rebuild incrementally afterwards.
. "$(dirname "$0")/lib.sh"

SRC=$(ksrc_dir)
[ -f "$SRC/.unpacked" ] || die "kernel source missing: run scripts/fetch-kernel.sh"
OUT=$(kbuild_dir)
# The tree sources our Kconfig (scripts/wire-in-tree.sh); point it at this
# checkout before every build so a moved or deleted checkout never breaks it.
bash "$REPO/scripts/wire-in-tree.sh" "$SRC" >/dev/null
mapfile -t FRAGS < <(config_fragments)
mkdir -p "$OUT"

if [ ! -f "$OUT/.config" ]; then
	stage "kernel: configuring $OUT (aspeed_g5_defconfig + ${#FRAGS[@]} fragments, $KVARIANT)"
	kmake -s aspeed_g5_defconfig
	(cd "$SRC" && ARCH=$ARCH scripts/kconfig/merge_config.sh -m -O "$OUT" "$OUT/.config" "${FRAGS[@]}" >/dev/null)
	kmake -s olddefconfig
	kmake -s rustavailable
fi

# Every symbol the fragments ask for (the last fragment that names it wins) must have
# survived olddefconfig: a dependency we missed would otherwise silently drop it.
declare -A want=()
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*) sym=${line%%=*}; val=${line#*=} ;;
	"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}; val=n ;;
	*) continue ;;
	esac
	want[$sym]=$val
done < <(cat "${FRAGS[@]}")
bad=0
for sym in "${!want[@]}"; do
	val=${want[$sym]}
	if [ "$val" = n ]; then
		grep -q "^$sym=[ym]" "$OUT/.config" && { echo "config: $sym still enabled"; bad=1; }
	else
		grep -qx "$sym=$val" "$OUT/.config" || { echo "config: $sym=$val not set"; bad=1; }
	fi
done
[ $bad = 0 ] || die "config fragment not honoured"

# Nothing to do when the last build of this directory finished with the same kernel source,
# .config, Kconfig of ours and compilers (the kernel's own make takes 30 s to find that out).
stamp=$({
	cat "$SRC/.debian-version" "$OUT/.config" "$REPO/Kconfig"
	rustc --version
	bindgen --version
	"${CROSS_COMPILE}gcc" --version
} 2>/dev/null | sha256sum | cut -c1-16)
if [ "$(cat "$OUT/.ssif-built" 2>/dev/null)" = "$stamp" ] && [ -f "$OUT/arch/arm/boot/zImage" ]; then
	stage "kernel: up to date ($OUT)"
	exit 0
fi
rm -f "$OUT/.ssif-built"
stage "kernel: building zImage modules dtbs (log: $OUT/build.log)"
start=$(date +%s)
kmake zImage modules dtbs > "$OUT/build.log" 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null; do
	sleep 30
	kill -0 $pid 2>/dev/null || break
	printf '    ... %ss, %s\n' "$(($(date +%s) - start))" \
		"$(grep -E '^\s+(CC|RUSTC|LD|AR)' "$OUT/build.log" | tail -n1 | tr -s ' ')"
done
if ! wait $pid; then
	grep -E 'error|Error' "$OUT/build.log" | head -n 30
	die "kernel build failed (see $OUT/build.log)"
fi
stage "kernel: built in $(($(date +%s) - start))s"
echo "$stamp" > "$OUT/.ssif-built"
