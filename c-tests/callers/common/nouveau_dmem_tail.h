/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ours, not the kernel's lines, shared by both versions of
 * drivers/gpu/drm/nouveau/nouveau_dmem.c: what follows
 * nouveau_dmem_page_free_locked(), the same before and after the patch
 * (nouveau_dmem_init(), nouveau_dmem_fini() and the export section). A
 * fragment, not a header: after/nouveau_dmem.c and before/nouveau_dmem.c
 * include it once, at their end.
 */

int nouveau_dmem_init(struct nouveau_drm *drm)
{
	drm->dmem = kzalloc(sizeof(*drm->dmem), GFP_KERNEL);
	if (!drm->dmem)
		return -ENOMEM;

	drm->dmem->drm = drm;
	mutex_init(&drm->dmem->mutex);
	INIT_LIST_HEAD(&drm->dmem->chunks);
	spin_lock_init(&drm->dmem->lock);
	return 0;
}

void nouveau_dmem_fini(struct nouveau_drm *drm)
{
	struct nouveau_dmem_chunk *chunk, *tmp;

	if (drm->dmem == NULL)
		return;

	mutex_lock(&drm->dmem->mutex);
	list_for_each_entry_safe(chunk, tmp, &drm->dmem->chunks, list) {
		nouveau_bo_unpin(chunk->bo);
		nouveau_bo_ref(NULL, &chunk->bo);
		WARN_ON(chunk->callocated);
		list_del(&chunk->list);
		memunmap_pages(&chunk->pagemap);
		release_mem_region(chunk->pagemap.range.start,
				   range_len(&chunk->pagemap.range));
		kfree(chunk);
	}
	mutex_unlock(&drm->dmem->mutex);
	mutex_destroy(&drm->dmem->mutex);
	kfree(drm->dmem);
	drm->dmem = NULL;
}

/* ---- Export section (ours, not kernel code): what the tests reach. ---- */

static unsigned long nouveau_dmem_chunk_callocated(struct page *page)
{
	return nouveau_page_to_chunk(page)->callocated;
}

static struct dev_pagemap *nouveau_dmem_chunk_pgmap(struct page *page)
{
	return &nouveau_page_to_chunk(page)->pagemap;
}

static unsigned long nouveau_dmem_nr_chunks(struct nouveau_drm *drm)
{
	struct nouveau_dmem_chunk *chunk;
	unsigned long n = 0;

	mutex_lock(&drm->dmem->mutex);
	list_for_each_entry(chunk, &drm->dmem->chunks, list)
		n++;
	mutex_unlock(&drm->dmem->mutex);
	return n;
}

const struct nouveau_dmem_api CALLER_API = {
	.version = CALLER_VERSION,
	.init = nouveau_dmem_init,
	.fini = nouveau_dmem_fini,
	.page_alloc_locked = nouveau_dmem_page_alloc_locked,
	.page_free_locked = nouveau_dmem_page_free_locked,
	.chunk_callocated = nouveau_dmem_chunk_callocated,
	.chunk_pgmap = nouveau_dmem_chunk_pgmap,
	.nr_chunks = nouveau_dmem_nr_chunks,
	.chunk_npages = DMEM_CHUNK_NPAGES,
};
