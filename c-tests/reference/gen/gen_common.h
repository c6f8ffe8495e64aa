/* SPDX-License-Identifier: GPL-2.0-only */
/* The C references of the API generations: what each one defines. */
#ifndef _GEN_REFERENCE_H
#define _GEN_REFERENCE_H

/*
 * Each c-tests/reference/gen/gen_<generation>.c is our own C rendering, from
 * the contract of docs/DESIGN.md §9, of that generation's mm/memremap.c
 * functions a driver reaches: zone_device_page_init() (and the compound
 * page set-up it does) and the free of a folio whose last reference goes.
 * They run on the library's memmap and percpu_ref, and write struct page
 * and struct folio through the generation's own header fields, as the
 * kernel does; c-tests/generations/differential.c compares them with the
 * library. Built against the headers of their generation only.
 */
#include <linux/atomic.h>
#include <linux/mm.h>
#include <linux/memremap.h>

/* Bring an idle folio to life (the generation's zone_device_*_init()). */
void ref_folio_init(struct folio *folio, struct dev_pagemap *pgmap,
		    unsigned int order);
/* folio_put(): the last put frees the folio as the generation does. */
void ref_folio_put(struct folio *folio);

/* Shared by the references: the raw refcount, as the kernel writes it. */
static inline void ref_set_count(struct page *page, int v)
{
	__atomic_store_n(&page->_refcount.counter, v, __ATOMIC_RELEASE);
}

static inline int ref_dec_return(struct folio *folio)
{
	return __atomic_sub_fetch(&folio->page._refcount.counter, 1,
				  __ATOMIC_ACQ_REL);
}

#endif /* _GEN_REFERENCE_H */
