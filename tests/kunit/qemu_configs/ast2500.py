# SPDX-License-Identifier: GPL-2.0
"""kunit.py --qemu_config: The AST2500 EVB (ARM1176, ARMv6K) under qemu-system-arm -M ast2500-evb.

See tests/kunit/kunit.sh and the README for the command line.
"""
import importlib.util
import os

_spec = importlib.util.spec_from_file_location('ssif_kunit_aspeed', os.path.join(os.path.dirname(__file__), '_aspeed.py'))
_aspeed = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_aspeed)

QEMU_ARCH = _aspeed.evb('ast2500')
