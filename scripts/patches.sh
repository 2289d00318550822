#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make patches: the driver as a `git format-patch` series against Debian's
# linux-source-7.3, checked as a maintainer would before taking it:
#   1/2 dt-bindings: the timeout-ms property in ipmi/ssif-bmc.yaml;
#   2/2 the driver in drivers/char/ipmi/ssif_bmc_rust/ with its Kconfig and Makefile lines,
#       Documentation/ABI for its response_timeout_ms attribute, and a MAINTAINERS entry.
# Then: the series applies with `git am` to the pristine tree; scripts/checkpatch.pl
# --strict on each patch (0 errors); `make dt_binding_check` for the binding and our two
# EVB device trees validated against it (dtschema from PyPI, in a venv in the cache).
# The series is written to $CACHE/out/patches. Exits non-zero if a check failed.
# PATCH_FROM="Name <address>" sets the author and Signed-off-by (default: the author of
# this repository's last commit).
. "$(dirname "$0")/lib.sh"

# make test has installed the packages and fetched the kernel source already.
if [ -z "${SSIF_NO_PREPARE:-}" ]; then
	bash "$REPO/scripts/install-deps.sh" packages
	bash "$REPO/scripts/fetch-kernel.sh"
fi
ver=$(cat "$(ksrc_dir)/.debian-version")
deb=$(ls "$CACHE"/apt/archives/linux-source-"$KVER"_*.deb)
TREE="$CACHE/patches/linux-$ver"
OUT="$CACHE/out/patches"
VENV="$CACHE/patches/venv"
from=${PATCH_FROM:-$(git -C "$REPO" log -1 --format='%an <%ae>')}
name=${from% <*}
email=${from##*<}
email=${email%>}
g() {
	git -C "$TREE" -c user.name="$name" -c user.email="$email" "$@"
}

# The pristine tree as a git repository, once per kernel version: the cached source tree is
# not pristine (scripts/wire-in-tree.sh wires this repository into it).
if [ ! -f "$TREE/.git/ssif-base" ]; then
	stage "patches: git tree of the pristine linux-source-$KVER (once)"
	rm -rf "$TREE" "$TREE.tmp"
	mkdir -p "$TREE.tmp"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/linux-source-$KVER.tar.xz" |
		tar -xJ -C "$TREE.tmp"
	mv "$TREE.tmp/linux-source-$KVER" "$TREE"
	rmdir "$TREE.tmp"
	g init -q
	# -f: Debian's top-level .gitignore ignores everything but debian/.
	g add -Af
	g commit -qm "Debian linux-source-$KVER $ver"
	g tag -f base >/dev/null
	touch "$TREE/.git/ssif-base"
fi

# dtschema and yamllint for the binding checks, ply and GitPython for checkpatch's spdxcheck.py.
if [ ! -f "$VENV/.ssif-pkgs-2" ]; then
	stage "patches: dtschema, yamllint, ply, GitPython from PyPI (venv in the cache)"
	python3 -m venv "$VENV"
	"$VENV/bin/pip" install -q dtschema yamllint ply GitPython
	touch "$VENV/.ssif-pkgs-2"
fi

stage "patches: writing the series"
g checkout -qf -B series base
g clean -qfdx
ipmi="$TREE/drivers/char/ipmi"

# 1/2: the binding.
python3 - "$TREE/Documentation/devicetree/bindings/ipmi/ssif-bmc.yaml" <<'EOF'
import sys
p = sys.argv[1]
s = open(p).read()
old = "  reg:\n    maxItems: 1\n"
new = old + """
  timeout-ms:
    description:
      Time the BMC's user space has to answer a request. A request left
      unanswered for longer is answered with completion code 0xC3 (timeout)
      and the next request is accepted.
    minimum: 1
    maximum: 60000
    default: 500
"""
assert s.count(old) == 1
open(p, "w").write(s.replace(old, new))
EOF
g commit -qas -F - <<'EOF'
dt-bindings: ipmi: ssif-bmc: Add timeout-ms

The BMC's user space may be slower to answer some requests than the host
waits for. Describe the time after which the SSIF BMC driver answers an
unanswered request itself, with completion code 0xC3, so that one slow
request does not hold off every later one.
EOF

# 2/2: the driver, its ABI documentation and MAINTAINERS entry.
mkdir -p "$ipmi/ssif_bmc_rust"
cp "$REPO"/{ssif_bmc,protocol,state,target,chardev,kunit}.rs "$ipmi/ssif_bmc_rust/"
cat >"$ipmi/ssif_bmc_rust/Makefile" <<'EOF'
# SPDX-License-Identifier: GPL-2.0
obj-$(CONFIG_SSIF_BMC_RUST) += ssif_bmc.o
EOF
# Our Kconfig's entries, without its header comment, after the C driver's.
entries=$(sed '1,/^$/d' "$REPO/Kconfig")
python3 - "$ipmi/Kconfig" "$entries" <<'EOF'
import sys
p, entries = sys.argv[1], sys.argv[2]
s = open(p).read()
anchor = "\nconfig IPMB_DEVICE_INTERFACE\n"
assert s.count(anchor) == 1
open(p, "w").write(s.replace(anchor, "\n" + entries + "\n" + anchor))
EOF
sed -i 's|^obj-$(CONFIG_SSIF_IPMI_BMC) += ssif_bmc.o$|&\nobj-$(CONFIG_SSIF_BMC_RUST) += ssif_bmc_rust/|' "$ipmi/Makefile"
grep -q ssif_bmc_rust/ "$ipmi/Makefile" || die "no place for the Makefile line"
cat >"$TREE/Documentation/ABI/testing/sysfs-class-misc-ipmi-ssif-host" <<EOF
What:		/sys/class/misc/ipmi-ssif-host*/response_timeout_ms
Date:		December 2026
KernelVersion:	7.4
Contact:	$from
Description:
		(RW) The time, in milliseconds, that user space has to
		answer a request read from this SSIF BMC device. A request
		left unanswered for longer is answered with completion code
		0xC3 (timeout), and the host may send the next one.
		Defaults to the device-tree property timeout-ms, or else the
		module parameter response_timeout_ms (500). Accepts 1 to
		60000; anything else fails with -EINVAL and leaves the value
		unchanged. A new value applies from the next request on.
EOF
python3 - "$TREE/MAINTAINERS" "$from" <<'EOF'
import re, sys
p, who = sys.argv[1], sys.argv[2]
s = open(p).read()
entry = f"""SSIF IPMI BMC DRIVER (RUST)
M:	{who}
L:	openipmi-developer@lists.sourceforge.net (moderated for non-subscribers)
L:	rust-for-linux@vger.kernel.org
S:	Maintained
F:	Documentation/ABI/testing/sysfs-class-misc-ipmi-ssif-host
F:	drivers/char/ipmi/ssif_bmc_rust/

"""
# Entries are in alphabetical order: insert before the first heading that sorts after ours.
heads = [(m.start(), m.group(1)) for m in re.finditer(r"^([A-Z0-9][^\n]*)\n[A-Z]:\t", s, re.M)]
pos = next(i for i, h in heads if h > "SSIF IPMI BMC DRIVER (RUST)" and i > s.index("\nMaintainers List\n"))
open(p, "w").write(s[:pos] + entry + s[pos:])
EOF
g add -Af
g commit -qs -F - <<'EOF'
ipmi: ssif_bmc: Add a Rust driver for the BMC side of SSIF

The BMC's half of the IPMI SMBus System Interface, in Rust: an I2C target
that runs the SSIF state machine in the bus driver's interrupt callback,
under an IRQ-safe spinlock, and hands each request to user space through
/dev/ipmi-ssif-host with the ABI of <linux/ipmi_ssif_bmc.h>, so that
OpenBMC's ssifbridged runs on it unchanged.

Against the C driver: unbinding with the device open or a reader asleep
is safe (the state is reference-counted, sleepers get -ENODEV); the bus
callback is registered only once everything it uses exists; a part is
bounded to 32 bytes and MIDDLE or END without START is dropped; a
response the host did not finish reading can be read again (retry
command 0x0A); nothing is logged from the interrupt callback; the response
deadline is configurable (device-tree property timeout-ms, module
parameter and sysfs attribute response_timeout_ms), after which the host
reads completion code 0xC3; each bound device has its own misc device; and
a write() answers the request read most recently, by netfn and command,
so that a late answer is never taken for a newer request's.
EOF

rm -rf "$OUT"
g format-patch -q -o "$OUT" base..series
ls "$OUT"

rc=0
stage "patches: git am on the pristine tree"
g checkout -qf -B am-check base
if g am -q "$OUT"/*.patch && [ -z "$(g diff series am-check)" ]; then
	echo "patches: the series applies with git am and gives the series' tree"
else
	echo "patches: FAILED: the series does not apply with git am"
	g am --abort 2>/dev/null
	rc=1
fi

stage "patches: scripts/checkpatch.pl --strict"
for p in "$OUT"/*.patch; do
	res=$(cd "$TREE" && PATH="$VENV/bin:$PATH" perl scripts/checkpatch.pl --strict --showfile "$p" 2>&1) || true
	total=$(printf '%s\n' "$res" | sed -n 's/^total: //p')
	echo "checkpatch: ${p##*/}: ${total:-no total line}"
	printf '%s\n' "$res" | { grep -A1 -E '(^|: )(ERROR|WARNING|CHECK):|Traceback|Error' || true; } | sed 's/^/  /'
	case $total in "0 errors,"*) ;; *) rc=1 ;; esac
	! printf '%s\n' "$res" | grep -q Traceback || rc=1
done

stage "patches: make dt_binding_check DT_SCHEMA_FILES=ipmi/ssif-bmc.yaml"
DTO="$CACHE/patches/dt-check"
mkdir -p "$DTO"
if PATH="$VENV/bin:$PATH" make -s -C "$TREE" O="$DTO" ARCH=arm dt_binding_check \
	DT_SCHEMA_FILES=ipmi/ssif-bmc.yaml >"$DTO/binding.log" 2>&1 && ! grep -q . "$DTO/binding.log"; then
	echo "dt_binding_check: ok"
else
	echo "dt_binding_check: FAILED"
	sed 's/^/  /' "$DTO/binding.log"
	rc=1
fi

stage "patches: our EVB device trees against the binding"
for soc in $SOCS; do
	dtb="$DTO/ssif-bmc-$soc.dtb"
	build_dtb "$soc" "$TREE" "$DTO/scripts/dtc/dtc" "$dtb"
	if out=$(PATH="$VENV/bin:$PATH" dt-validate -s "$DTO/Documentation/devicetree/bindings/processed-schema.json" "$dtb" 2>&1) &&
		[ -z "$out" ]; then
		echo "dtbs_check: $soc: ok"
	else
		echo "dtbs_check: $soc: FAILED"
		printf '%s\n' "$out" | sed 's/^/  /'
		rc=1
	fi
done
stage "patches: $([ $rc = 0 ] && echo ok || echo FAILED)"
exit $rc
