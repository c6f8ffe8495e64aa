// SPDX-License-Identifier: GPL-2.0-only
/* The buffer objects behind mocks/nouveau_drv.h (ours, not kernel code). */
#include <linux/bug.h>
#include <linux/slab.h>
#include "nouveau_drv.h"

int nouveau_bo_new(struct nouveau_cli *cli, u64 size, int align,
		   u32 domain, u32 tile_mode, u32 tile_flags,
		   struct sg_table *sg, struct dma_resv *robj,
		   struct nouveau_bo **pnvbo)
{
	struct nouveau_bo *nvbo;

	(void)align;
	(void)tile_mode;
	(void)tile_flags;
	(void)sg;
	(void)robj;
	if (WARN_ON(domain != NOUVEAU_GEM_DOMAIN_VRAM))
		return -EINVAL;
	if (size > cli->vram_left)
		return -ENOMEM;
	nvbo = kzalloc(sizeof(*nvbo), GFP_KERNEL);
	if (!nvbo)
		return -ENOMEM;
	nvbo->cli = cli;
	nvbo->size = size;
	cli->vram_left -= size;
	cli->bos_live++;
	*pnvbo = nvbo;
	return 0;
}

int nouveau_bo_pin(struct nouveau_bo *nvbo, u32 domain, bool contig)
{
	struct nouveau_cli *cli = nvbo->cli;

	(void)contig;
	if (WARN_ON(domain != NOUVEAU_GEM_DOMAIN_VRAM))
		return -EINVAL;
	if (cli->pin_fail_nth && --cli->pin_fail_nth == 0)
		return -EBUSY;
	nvbo->pin_refcnt++;
	return 0;
}

int nouveau_bo_unpin(struct nouveau_bo *nvbo)
{
	if (WARN_ON(nvbo->pin_refcnt <= 0))
		return -EINVAL;
	nvbo->pin_refcnt--;
	return 0;
}

void nouveau_bo_ref(struct nouveau_bo *ref, struct nouveau_bo **pnvbo)
{
	struct nouveau_bo *old = *pnvbo;

	/* Only the release is modelled: each bo has a single owner. */
	WARN_ON(ref);
	*pnvbo = ref;
	if (!old)
		return;
	WARN_ON(old->pin_refcnt);
	old->cli->vram_left += old->size;
	old->cli->bos_live--;
	kfree(old);
}
