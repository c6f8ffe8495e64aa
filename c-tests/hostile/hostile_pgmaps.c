// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hostile operations on pgmaps: memremap_pages() and its devm_ form over
 * drawn configurations (with injected allocation failures), the unmaps
 * (plain, devm_, a device's devres released), the kill, and memory changed
 * behind the library's back.
 */
#include "hostile.h"

/* ---- map ---- */

void op_map(void)
{
	struct span spans[MAXR];
	struct pg *pg = random_pg();
	int warns, dev = chance(25) ? (int)below(NDEV) : -1;
	bool inject = chance(4);
	unsigned long inj;
	long want, err;
	void *ret;

	if (chance(2))
		pg = NULL;
	if (pg && !registered(pg)) {
		int nr;

		if (in_devres(pg))
			return;	/* a stale devres entry still names it */
		switch (below(20)) {
		case 0:
			nr = chance(50) ? 0 : -1;
			break;
		case 1 ... 5:
			nr = 2 + below(MAXR - 1);
			break;
		default:
			nr = 1;
		}
		if (chance(40))
			pg_realloc(pg, max(nr, 1), chance(30));
		else if (chance(25))
			fill_garbage(pg->map, sizeof(struct dev_pagemap));
		gen_config(pg, min(nr, pg->cap));
	}
	want = predict_map(pg, &warns, spans);
	note("%smemremap_pages(pg%d %s) nr %d type %u shift %lu flags %#x: "
	     "want %ld/%d%s", dev >= 0 ? "devm_" : "", pg_index(pg),
	     pg ? (registered(pg) ? "mapped" : "unmapped") : "NULL",
	     pg ? pg->map->nr_range : 0, pg ? pg->map->type : 0,
	     pg ? pg->map->vmemmap_shift : 0, pg ? pg->map->flags : 0,
	     want, warns, inject ? " (alloc fails)" : "");
	fig.maps_tried++;
	inj = memremap_kmalloc_injected();
	if (inject)
		memremap_kmalloc_fail_nth(1);
	if (dev >= 0) {
		call(F_devm_memremap_pages);
		ret = devm_memremap_pages(&devs[dev], pg ? pg->map : NULL);
	} else {
		call(F_memremap_pages);
		ret = memremap_pages(pg ? pg->map : NULL, 0);
	}
	memremap_fail_none();
	err = IS_ERR(ret) ? PTR_ERR(ret) : 0;
	CHECK(ret != NULL);
	if (inject && !want) {
		/* The failure was injected where the pgmap's ref is set up. */
		CHECK(err == -ENOMEM);
		CHECK(memremap_kmalloc_injected() == inj + 1);
		CHECK(warned() == (unsigned long)warns);
		fig.kmalloc_injected++;
		stats[cur].quiet++;
		CHECK(!memremap_pgmap_is_mapped(pg->map));
		return;
	}
	CHECK(memremap_kmalloc_injected() == inj);
	CHECK(err == want);
	CHECK(warned() == (unsigned long)warns);
	if (err == -EINVAL && !warns)
		stats[cur].quiet++;	/* an empty range, as Linux */
	else if (err || warns)
		stats[cur].bad++;
	else
		stats[cur].valid++;
	if (err) {
		if (pg)
			check_pg(pg);
		return;
	}
	adopt(pg, spans);
	fig.maps_ok++;
	fig.types[pg->type <= MEMORY_DEVICE_PCI_P2PDMA ? pg->type : 0]++;
	fig.compound += pg->shift > 0;
	fig.big_folio += pg->shift > 9;
	fig.altmap += pg->spans[0].first != pg->spans[0].start;
	fig.multi += pg->nr > 1;
	fig.huge += pg->total >= 1UL << 30;
	fig.devm += dev >= 0;
	fig.with_page_free += pg->page_free;
	if (dev >= 0)
		devres[ndevres++] = (struct devres){ dev, pg };
	check_pg(pg);
}

/* ---- unmap, kill, scramble ---- */

/* Release every reference held on @pg, with valid calls. */
void drain(struct pg *pg)
{
	int i;

	for (i = 0; i < nheld && !failed;) {
		struct held *h = &held[i];

		if (h->pg != pg) {
			i++;
			continue;
		}
		if (h->locked) {
			call(F_unlock_page);
			unlock_page(&h->folio->page);
			VALID();
			h->locked = false;
		}
		call(F_folio_put);
		folio_put(h->folio);
		VALID();
		drop_ref(h);	/* moves another entry into slot i */
	}
	while (pg->devpins && !failed) {
		call(F_put_dev_pagemap);
		put_dev_pagemap(pg->map);
		VALID();
		pg->devpins--;
	}
	while (pg->extra && !failed) {
		call(F_percpu_ref_put);
		percpu_ref_put(&pg->map->ref);
		VALID();
		pg->extra--;
	}
	check_pg(pg);
}

/*
 * May memunmap_pages(@pg) give up now? Give-ups are kept few (each one
 * leaves a pgmap registered for good); otherwise @pg is drained first
 * and the step skipped.
 */
static bool can_abandon(struct pg *pg)
{
	if (!registered(pg) || pg->state == PG_ABANDONED || !pg_refs(pg))
		return true;
	if (nabandoned() < max_abandon && chance(50))
		return true;
	drain(pg);
	return false;
}

/* Forget devres entry @i: its pgmap is unmapped. */
static void devres_forget(int i)
{
	memmove(&devres[i], &devres[i + 1],
		(ndevres - i - 1) * sizeof(devres[0]));
	ndevres--;
}

/*
 * devres_release_all() of device @dev (NDEV: a device that has none):
 * every pgmap it mapped with devm_memremap_pages() is unmapped, each
 * give-up with a WARN.
 */
void release_devres(int dev)
{
	int i, w = 0;

	call(F_devres_release_all);
	devres_release_all(dev < NDEV ? &devs[dev] : &stranger);
	for (i = ndevres - 1; i >= 0; i--) {
		if (devres[i].dev != dev)
			continue;
		w += unmap_effect(devres[i].pg);
		devres_forget(i);
	}
	if (w)
		BAD_N(w);
	else
		VALID();
}

void op_unmap(void)
{
	struct target t;
	struct pg *pg;
	int w, i, dev;

	switch (below(10)) {
	case 0 ... 6:
		t = pick_target();
		if (t.pg && !can_abandon(t.pg))
			return;
		note("memunmap_pages(pg%d %s) refs %ld", pg_index(t.pg),
		     tname(&t), t.pg ? pg_refs(t.pg) : 0);
		call(F_memunmap_pages);
		memunmap_pages(t.p);
		w = t.pg ? unmap_effect(t.pg) : 1;
		VALID_IF(!w);
		if (t.pg)
			check_pg(t.pg);
		break;
	case 7 ... 8:
		dev = below(NDEV);
		pg = NULL;
		if (ndevres && chance(70)) {
			i = below(ndevres);
			dev = devres[i].dev;
			pg = devres[i].pg;
		} else {
			pg = random_pg();
		}
		if (!can_abandon(pg))
			return;
		note("devm_memunmap_pages(dev%d, pg%d %s)", dev, pg_index(pg),
		     tname(&(struct target){ pg->map, pg }));
		for (i = 0; i < ndevres; i++)
			if (devres[i].dev == dev && devres[i].pg == pg)
				break;
		call(F_devm_memunmap_pages);
		devm_memunmap_pages(&devs[dev], pg->map);
		if (i == ndevres) {
			BAD();		/* not mapped by devm for dev */
		} else {
			devres_forget(i);
			VALID_IF(!unmap_effect(pg));
		}
		check_pg(pg);
		break;
	default:
		dev = below(NDEV + 1);
		for (i = 0; i < ndevres; i++)
			if (devres[i].dev == dev && !can_abandon(devres[i].pg))
				return;
		note("devres_release_all(dev%d)", dev);
		release_devres(dev);
		break;
	}
}

void op_kill(void)
{
	struct target t = pick_target();

	note("percpu_ref_kill(pg%d %s)", pg_index(t.pg), tname(&t));
	call(F_percpu_ref_kill);
	percpu_ref_kill(t.p ? &t.p->ref : NULL);
	if (t.pg && t.pg->state == PG_LIVE) {
		VALID();
		t.pg->state = PG_KILLED;
	} else {
		BAD();	/* killed twice, or not a live ref */
	}
	if (t.pg)
		check_pg(t.pg);
}

/* Give an unmapped pgmap new memory, or garbage, behind the library. */
void op_scramble(void)
{
	struct pg *pg = random_pg();

	if (registered(pg) || in_devres(pg))
		return;
	note("scramble pg%d %s", pg_index(pg),
	     tname(&(struct target){ pg->map, pg }));
	if (chance(50)) {
		int cap = 1 + below(MAXR);

		pg_realloc(pg, cap, chance(50));
	}
	else
		fill_garbage(pg->map, sizeof(struct dev_pagemap));
	pg->state = PG_FREE;
	check_pg(pg);
}

/*
 * A stray complete() of a mapped pgmap's done (repro 6): the completion
 * is the library's, but C can reach it. Nothing changes; a later
 * memunmap_pages() still waits for every reference (the model's
 * unmap_effect() says what it must do).
 */
void op_stray_complete(void)
{
	struct pg *pg = random_registered();

	if (!pg)
		return;
	note("stray complete(&pg%d->done), refs %ld", pg_index(pg),
	     pg_refs(pg));
	call(F_complete);
	complete(&pg->map->done);
	VALID();
	pg->stray = true;
	check_pg(pg);
}
