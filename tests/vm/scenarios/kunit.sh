# SPDX-License-Identifier: GPL-2.0
# KUnit only: the boot-time suites have run; load the KUnit build of the module.
. /scenarios/lib.sh
check load_kunit_module insmod $MOD/ssif_bmc_rs_kunit.ko
check rmmod_kunit_module rmmod ssif_bmc
check no_kernel_splat no_splat
summary
