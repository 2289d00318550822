# SPDX-License-Identifier: GPL-2.0
"""What the two kunit.py QEMU configurations share (ast2600.py, ast2500.py).

Not a --qemu_config by itself. One kernel serves both SoCs, as the test kernel
does: ARMv6K + ARMv7 with MACH_ASPEED_G5 and G6. The kconfig text is the same in
both files, so kunit.py reuses one build directory for both without rebuilding.
"""
import argparse
import os
import sys

from qemu_config import QemuArchParams

# The platform, its console and a way out. kunit.py shuts the kernel down with
# kunit_shutdown=reboot; the Aspeed watchdog (selected by ARCH_ASPEED) restarts the
# machine and -no-reboot turns that into QEMU's exit. Both EVBs' consoles are UART5
# (ttyS4), so the 8250 driver needs at least five ports. Our suite's options (the
# in-tree driver) are in tests/kunit/in-tree.kunitconfig, not here. SMP as on the
# AST2600 and in the test kernel (with SMP_ON_UP it boots on the AST2500 too).
KCONFIG = '''
CONFIG_SMP=y
CONFIG_ARCH_MULTI_V6=y
CONFIG_ARCH_MULTI_V7=y
CONFIG_ARCH_ASPEED=y
CONFIG_MACH_ASPEED_G5=y
CONFIG_MACH_ASPEED_G6=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_SERIAL_OF_PLATFORM=y
CONFIG_SERIAL_8250_NR_UARTS=6
CONFIG_SERIAL_8250_RUNTIME_UARTS=6
CONFIG_ASPEED_WATCHDOG=y
CONFIG_RUST=y
'''


# On this minimal kernel the 8250 driver never binds UART5 (no ttyS4 console) before
# kunit.py's reboot; the cause is not known yet. Its early console on the same UART (at
# the same address on both SoCs) prints everything, KTAP included, from the start.
EARLYCON = 'earlycon=uart8250,mmio32,0x1e784000'


def _build_dir():
    """The --build_dir kunit.py was given (kunit.py's own default otherwise).

    The EVBs have no device tree of their own in QEMU, and a qemu_config is not
    told where the kernel is built, so read it from kunit.py's command line. The
    path is taken as kunit.py takes it: relative to the kernel tree, where
    kunit.py runs QEMU.
    """
    default = os.path.join(os.environ['KBUILD_OUTPUT'], '.kunit') if 'KBUILD_OUTPUT' in os.environ else '.kunit'
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument('--build_dir', default=default)
    return parser.parse_known_args(sys.argv[1:])[0].build_dir


def evb(soc):
    """The kunit.py parameters for SOC's EVB (soc: 'ast2600' or 'ast2500')."""
    dtb = os.path.join(_build_dir(), 'arch/arm/boot/dts/aspeed', f'aspeed-{soc}-evb.dtb')
    return QemuArchParams(linux_arch='arm',
                          kconfig=KCONFIG,
                          qemu_arch='arm',
                          kernel_path='arch/arm/boot/zImage',
                          kernel_command_line='console=ttyS4,115200n8 ' + EARLYCON,
                          extra_qemu_params=['-machine', f'{soc}-evb', '-dtb', dtb])
