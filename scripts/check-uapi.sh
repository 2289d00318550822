#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The user-space ABI: our copy of <linux/ipmi_ssif_bmc.h> is byte-identical to
# the kernel's, and struct ipmi_ssif_msg is 260 bytes with the payload at
# offset 4, on the target (ARM) and on the host.
. "$(dirname "$0")/lib.sh"

cmp "$REPO/include/uapi/linux/ipmi_ssif_bmc.h" "$(ksrc_dir)/include/uapi/linux/ipmi_ssif_bmc.h"
echo "uapi: include/uapi/linux/ipmi_ssif_bmc.h is byte-identical to the kernel's"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/layout.c" <<'C'
#include <stddef.h>
#include <linux/ipmi_ssif_bmc.h>
_Static_assert(sizeof(struct ipmi_ssif_msg) == 260, "struct ipmi_ssif_msg must be 260 bytes");
_Static_assert(offsetof(struct ipmi_ssif_msg, payload) == 4, "payload must be at offset 4");
_Static_assert(IPMI_SSIF_PAYLOAD_MAX == 254, "payload is 254 bytes");
C
for cc in arm-linux-gnueabihf-gcc gcc; do
	$cc -I "$REPO/include/uapi" -c "$tmp/layout.c" -o "$tmp/layout.o"
	echo "uapi: $cc: sizeof(struct ipmi_ssif_msg) == 260, payload at offset 4"
done
