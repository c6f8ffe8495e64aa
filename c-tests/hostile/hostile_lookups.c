// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hostile translations and lookups: pfn_to_pgmap_offset(),
 * pgmap_offset_to_pfn(), pgmap_pfn_valid(), get_dev_pagemap() with and
 * without a cached pgmap, put_dev_pagemap().
 */
#include "hostile.h"

void op_translate(void)
{
	struct target t = pick_target();
	struct pg *pg = t.pg;
	bool live = pg && pg->state == PG_LIVE;
	unsigned long pfn, off, r;
	bool v;

	switch (below(3)) {
	case 0:
		pfn = pick_pfn();
		note("pfn_to_pgmap_offset(pg%d %s, %#lx)", pg_index(pg),
		     tname(&t), pfn);
		call(F_pfn_to_pgmap_offset);
		r = pfn_to_pgmap_offset(t.p, pfn);
		CHECK(r == (live ? pg_pfn_to_off(pg, pfn) : -1UL));
		VALID_IF(live);
		break;
	case 1:
		off = pick_offset(pg);
		note("pgmap_offset_to_pfn(pg%d %s, %#lx)", pg_index(pg),
		     tname(&t), off);
		call(F_pgmap_offset_to_pfn);
		r = pgmap_offset_to_pfn(t.p, off);
		CHECK(r == (live ? pg_off_to_pfn(pg, off) : -1UL));
		VALID_IF(live);
		break;
	default:
		pfn = pick_pfn();
		note("pgmap_pfn_valid(pg%d %s, %#lx)", pg_index(pg),
		     tname(&t), pfn);
		call(F_pgmap_pfn_valid);
		v = pgmap_pfn_valid(t.p, pfn);
		CHECK(v == (registered(pg) && pg_usable(pg, pfn)));
		VALID_IF(registered(pg));
	}
}

void op_get_dev_pagemap(void)
{
	unsigned long pfn = pick_pfn();
	struct target cached = { NULL, NULL };
	struct dev_pagemap *got, *want = NULL;
	struct pg *pg, *owner;
	bool bad = false;

	if (chance(30) && (pg = random_pinned())) {
		cached = (struct target){ pg->map, pg };
		if (chance(50))
			pfn = pfn_within(&pg->spans[0]);
	} else if (chance(20)) {
		cached = pick_target();
		if (registered(cached.pg))	/* we hold no pin on it */
			cached = (struct target){ NULL, NULL };
	}
	note("get_dev_pagemap(%#lx, pg%d %s)", pfn, pg_index(cached.pg),
	     tname(&cached));
	call(F_get_dev_pagemap);
	got = get_dev_pagemap(pfn, cached.p);
	if (cached.p) {
		pg = cached.pg;
		if (registered(pg) &&
		    pfn >= pg->map->range.start >> PAGE_SHIFT &&
		    pfn <= pg->map->range.end >> PAGE_SHIFT) {
			want = pg->map;		/* its pin is reused */
			goto out;
		}
		if (registered(pg))
			pg->devpins--;		/* its pin is dropped */
		else
			bad = true;		/* not a pgmap: WARN */
	}
	owner = owner_of(pfn);
	if (owner && owner->state == PG_LIVE) {
		want = owner->map;
		owner->devpins++;
	}
out:
	CHECK(got == want);
	VALID_IF(!bad);
	if (cached.pg)
		check_pg(cached.pg);
	if (got)
		check_pg(pg_of_map(got));
}

void op_put_dev_pagemap(void)
{
	struct pg *pg = random_pinned();
	struct target t;

	if (pg && chance(60)) {
		note("put_dev_pagemap(pinned pg%d)", pg_index(pg));
		call(F_put_dev_pagemap);
		put_dev_pagemap(pg->map);
		VALID();
		pg->devpins--;
		check_pg(pg);
		return;
	}
	t = pick_target();
	if (registered(t.pg) && (t.pg->state == PG_LIVE || pg_refs(t.pg)))
		return;	/* a put we do not own: nobody can tell */
	note("put_dev_pagemap(pg%d %s)", pg_index(t.pg), tname(&t));
	call(F_put_dev_pagemap);
	put_dev_pagemap(t.p);
	if (!t.p)
		VALID();	/* NULL is fine, as in the kernel */
	else
		BAD();		/* not mapped, or its count is 0 */
	if (t.pg)
		check_pg(t.pg);
}
