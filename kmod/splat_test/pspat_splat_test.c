// SPDX-License-Identifier: GPL-2.0
/*
 * pspat_splat_test.c - a module whose only job is to print a real kernel
 * warning (WARN_ON) when loaded, so that the selftests can prove their dmesg
 * scanner reports what the kernel itself prints. Never load it elsewhere.
 */
#include <linux/module.h>
#include <linux/bug.h>

static int __init pspat_splat_init(void)
{
	WARN(1, "pspat_splat_test: planted warning for the dmesg scanner\n");
	return 0;
}

static void __exit pspat_splat_exit(void)
{
}

module_init(pspat_splat_init);
module_exit(pspat_splat_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("sch_pspat selftest helper: prints one planted WARN");
