// SPDX-License-Identifier: GPL-2.0
/*
 * iffq.h compiled as C11 (-std=c11 -pedantic -Werror) and driven from C.
 * Called from the GoogleTest suite as iffq_c11_smoke().
 */
#include <stdalign.h>
#include <stdlib.h>

#include "pspat/iffq.h"

int iffq_c11_smoke(void);

static void count_item(void *item, void *arg)
{
	(void)item;
	++*(unsigned long *)arg;
}

int iffq_c11_smoke(void)
{
	static int items[100];
	unsigned long entries = 64, line = 64, n = 0, i;
	size_t sz = iffq_size(entries, line);
	struct iffq *q;
	int ret = 0;

	if (!sz || iffq_size(48, 64) != 0)
		return 1;
	/* aligned_alloc wants a multiple of the alignment. */
	q = aligned_alloc(line, (sz + line - 1) / line * line);
	if (!q)
		return 2;
	if (iffq_init(q, entries, line))
		ret = 3;
	for (i = 0; !ret && i < 56; i++)
		if (iffq_insert(q, &items[i]))
			ret = 4;
	if (!ret && iffq_insert(q, &items[56]) != -ENOBUFS)
		ret = 5;
	if (!ret && iffq_extract(q) != &items[0])
		ret = 6;
	if (!ret && (iffq_drain(q, count_item, &n) != 55 || n != 55))
		ret = 7;
	if (!ret && !iffq_empty(q))
		ret = 8;
	free(q);
	return ret;
}
