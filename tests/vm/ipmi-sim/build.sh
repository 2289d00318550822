#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# build.sh DIR: put the BMC simulator's configuration into DIR (the VM's /ipmi-sim): the
# text files as they are, the FRU image made by mkfru.py and the SDR repository compiled
# by sdrcomp (Debian's openipmi, installed by scripts/install-deps.sh). The scenario copies
# sdr.20.main into ipmi_sim's state directory, <state>/ipmi_sim/ssifbmc/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
mkdir -p "$out"
cp "$here"/lan.conf "$here"/bmc.emu "$here"/first-start.emu "$here"/chassis.sh "$here"/sel-add.txt "$out/"
chmod +x "$out/chassis.sh"
python3 "$here/mkfru.py" "$out/fru.bin"
sdrcomp -o "$out/sdr.20.main" "$here/bmc.sdrs"
