// SPDX-License-Identifier: GPL-2.0
/*
 * pspat_splat_test.c - a module whose only job is to make the kernel print
 * a real complaint when loaded, so that the selftests can prove their dmesg
 * scanner reports what the kernel itself prints. Never load it elsewhere.
 *   kind=warn       (default) a WARN
 *   kind=allocfail  a page allocation failure: order-8 allocations that
 *                   neither reclaim nor stay quiet (GFP_NOWAIT without
 *                   its __GFP_NOWARN of 6.12) until one
 *                   fails, then all are freed
 */
#include <linux/module.h>
#include <linux/bug.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/string.h>

static char *kind = "warn";
module_param(kind, charp, 0444);
MODULE_PARM_DESC(kind, "warn or allocfail");

#define SPLAT_ORDER	8

static void pspat_splat_allocfail(void)
{
	struct page *page, *tmp;
	LIST_HEAD(pages);

	while ((page = alloc_pages(__GFP_KSWAPD_RECLAIM, SPLAT_ORDER)))
		list_add(&page->lru, &pages);
	list_for_each_entry_safe(page, tmp, &pages, lru) {
		list_del(&page->lru);
		__free_pages(page, SPLAT_ORDER);
	}
}

static int __init pspat_splat_init(void)
{
	if (!strcmp(kind, "allocfail"))
		pspat_splat_allocfail();
	else
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
