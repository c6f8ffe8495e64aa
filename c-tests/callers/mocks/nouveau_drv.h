/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Mocks for drivers/gpu/drm/nouveau/nouveau_dmem.c (ours, not kernel
 * code): the drm device and its device-memory state, VRAM buffer objects
 * from a budget the tests set, NV_INFO(), and the table a caller object
 * exports to the tests.
 */
#ifndef _CALLERS_NOUVEAU_DRV_H
#define _CALLERS_NOUVEAU_DRV_H

#include <linux/types.h>
#include <linux/device.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/spinlock.h>
#include "mock_common.h"

struct nouveau_drm;
struct sg_table;
struct dma_resv;

/* A client of the GPU; here only the budget its buffer objects draw on. */
struct nouveau_cli {
	u64 vram_left;		/* bytes of VRAM left for buffer objects */
	unsigned long bos_live;	/* buffer objects not yet released */
	unsigned long pin_fail_nth;	/* fail the Nth nouveau_bo_pin() */
};

struct nouveau_bo {
	struct nouveau_cli *cli;
	u64 size;
	int pin_refcnt;
};

#define NOUVEAU_GEM_DOMAIN_VRAM	(1 << 1)

/* A VRAM buffer object of @size bytes: -ENOMEM when the budget is out. */
int nouveau_bo_new(struct nouveau_cli *cli, u64 size, int align,
		   u32 domain, u32 tile_mode, u32 tile_flags,
		   struct sg_table *sg, struct dma_resv *robj,
		   struct nouveau_bo **pnvbo);
int nouveau_bo_pin(struct nouveau_bo *nvbo, u32 domain, bool contig);
int nouveau_bo_unpin(struct nouveau_bo *nvbo);
/* Point *@pnvbo at @ref, dropping what it held (NULL releases it). */
void nouveau_bo_ref(struct nouveau_bo *ref, struct nouveau_bo **pnvbo);

/* Device memory state (defined in nouveau_dmem.c in the kernel). */
struct nouveau_dmem {
	struct nouveau_drm *drm;
	struct list_head chunks;
	struct mutex mutex;
	struct page *free_pages;
	spinlock_t lock;
};

struct nouveau_drm {
	struct nouveau_cli client;
	struct device *dev;
	struct nouveau_dmem *dmem;
};

#define NV_INFO(drm, fmt, ...) dev_dbg((drm)->dev, fmt, ##__VA_ARGS__)

/* nouveau_dmem.h */
int nouveau_dmem_init(struct nouveau_drm *drm);
void nouveau_dmem_fini(struct nouveau_drm *drm);

/* What a caller object exports (its CALLER_API). */
struct nouveau_dmem_api {
	const char *version;
	int (*init)(struct nouveau_drm *drm);
	void (*fini)(struct nouveau_drm *drm);
	struct page *(*page_alloc_locked)(struct nouveau_drm *drm);
	void (*page_free_locked)(struct nouveau_drm *drm, struct page *page);
	/* The page's chunk: its count of pages handed out, its pgmap. */
	unsigned long (*chunk_callocated)(struct page *page);
	struct dev_pagemap *(*chunk_pgmap)(struct page *page);
	unsigned long (*nr_chunks)(struct nouveau_drm *drm);
	unsigned long chunk_npages;
};

extern const struct nouveau_dmem_api nouveau_after, nouveau_before;

#endif /* _CALLERS_NOUVEAU_DRV_H */
