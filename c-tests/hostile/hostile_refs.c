// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hostile percpu_ref calls: on the pgmaps' own refs (through every kind of
 * pgmap argument) and on standalone refs, initialised, dead, exited or
 * garbage.
 */
#include "hostile.h"

/* ---- percpu_ref: the pgmaps' own and standalone ones ---- */

void op_pgref(void)
{
	struct target t = pick_target();
	struct pg *pg = t.pg;
	struct percpu_ref *r = t.p ? &t.p->ref : NULL;
	bool reg = registered(pg), live = pg && pg->state == PG_LIVE;
	bool got, inject;

	if (!r)
		return;
	note("percpu_ref op on pg%d %s (refs %ld)", pg_index(pg), tname(&t),
	     pg ? pg_refs(pg) : 0);
	switch (below(8)) {
	case 7:
		if (!reg)
			return;
		/* The ref of a mapped pgmap is not set up again. */
		call(F_percpu_ref_init);
		CHECK(percpu_ref_init(r, NULL, 0, GFP_KERNEL) == -EBUSY);
		BAD();
		fig.repro[3]++;
		break;
	case 0:
		inject = live && chance(20);
		if (inject)
			memremap_percpu_tryget_fail_nth(1);
		call(F_percpu_ref_tryget);
		got = percpu_ref_tryget(r);
		memremap_fail_none();
		if (!reg) {
			CHECK(!got);
			BAD();
		} else if (inject) {
			CHECK(!got);
			QUIET();
			fig.tryget_injected++;
		} else {
			/* A dying ref still has its count if not zero. */
			CHECK(got == (live || pg_refs(pg) > 0));
			VALID();
			pg->extra += got;
		}
		break;
	case 1:
		call(F_percpu_ref_tryget_live);
		got = percpu_ref_tryget_live(r);
		CHECK(got == live);
		VALID_IF(reg);
		if (got)
			pg->extra++;
		break;
	case 2:
		/*
		 * A get after the release WARNs and counts, and the put that
		 * follows WARNs too: the standalone refs check that.
		 */
		if (reg && !live && !pg_refs(pg))
			return;
		call(F_percpu_ref_get);
		percpu_ref_get(r);
		if (reg) {
			VALID();
			pg->extra++;
		} else {
			BAD();
		}
		break;
	case 3:
		if (reg && !pg->extra)
			return;
		call(F_percpu_ref_put);
		percpu_ref_put(r);
		if (reg) {
			VALID();
			pg->extra--;
		} else {
			BAD();
		}
		break;
	case 4:
		call(F_percpu_ref_is_dying);
		got = percpu_ref_is_dying(r);
		CHECK(got == (reg && !live));
		VALID_IF(reg);
		break;
	case 5:
		call(F_percpu_ref_is_zero);
		got = percpu_ref_is_zero(r);
		CHECK(got == (reg && !live && !pg_refs(pg)));
		VALID_IF(reg);
		break;
	default:
		/* memunmap_pages() exits a pgmap's ref, nobody else. */
		call(F_percpu_ref_exit);
		percpu_ref_exit(r);
		if (reg)
			BAD();
		else
			QUIET();
	}
	if (pg)
		check_pg(pg);
}

void op_sref(void)
{
	struct sref *s = &srefs[below(NSREF)];
	bool init = s->state != SR_UNINIT, alive = s->state == SR_ALIVE;
	unsigned long n = below(4);
	unsigned long inj;
	bool got;
	int err;

	note("standalone ref %d (state %d, held %ld) ", (int)(s - srefs),
	     s->state, s->held);
	switch (below(12)) {
	case 0: {
		unsigned int flags = 0;
		bool inject = chance(15);

		if (init) {
			/* A live ref is not set up again: nothing changes. */
			call(F_percpu_ref_init);
			err = percpu_ref_init(s->r, count_release, 0,
					      GFP_KERNEL);
			CHECK(err == -EBUSY);
			BAD();
			fig.repro[3]++;
			break;
		}
		if (chance(20))
			flags |= PERCPU_REF_INIT_ATOMIC;
		if (chance(15))
			flags |= PERCPU_REF_INIT_DEAD;
		if (chance(10))
			flags |= PERCPU_REF_ALLOW_REINIT;
		s->has_release = chance(80);
		inj = memremap_kmalloc_injected();
		if (inject)
			memremap_kmalloc_fail_nth(1);
		call(F_percpu_ref_init);
		err = percpu_ref_init(s->r, s->has_release ? count_release :
					    NULL, flags, GFP_KERNEL);
		memremap_fail_none();
		if (inject) {
			CHECK(err == -ENOMEM);
			CHECK(memremap_kmalloc_injected() == inj + 1);
			QUIET();
			fig.kmalloc_injected++;
			break;
		}
		CHECK(err == 0);
		VALID();
		s->state = flags & PERCPU_REF_INIT_DEAD ? SR_DYING : SR_ALIVE;
		s->held = 0;
		s->released = false;
		break;
	}
	case 1:
		call(F_percpu_ref_exit);
		percpu_ref_exit(s->r);
		if (init)
			VALID();
		else
			QUIET();
		s->state = SR_UNINIT;
		s->held = 0;
		if (chance(30))
			fill_garbage(s->r, sizeof(*s->r));
		break;
	case 2:
		call(n == 1 ? F_percpu_ref_get : F_percpu_ref_get_many);
		if (n == 1)
			percpu_ref_get(s->r);
		else
			percpu_ref_get_many(s->r, n);
		/*
		 * A get of a ref at zero after its kill (or born dead) WARNs,
		 * and counts, as the kernel counts it.
		 */
		VALID_IF(init && (alive || s->held));
		fig.repro[7] += init && !alive && !s->held;
		if (init)
			s->held += n;
		break;
	case 3:
		call(n == 1 ? F_percpu_ref_tryget : F_percpu_ref_tryget_many);
		got = n == 1 ? percpu_ref_tryget(s->r) :
			       percpu_ref_tryget_many(s->r, n);
		if (!init) {
			CHECK(!got);
			BAD();
			break;
		}
		CHECK(got == (alive || s->held > 0));
		if (got)
			VALID();
		else
			QUIET();
		s->held += got ? n : 0;
		break;
	case 4:
		call(F_percpu_ref_tryget_live);
		got = percpu_ref_tryget_live(s->r);
		CHECK(got == alive);
		if (!init)
			BAD();
		else if (got)
			VALID();
		else
			QUIET();
		s->held += got;
		break;
	case 5:
	case 6:
		n = 1 + below(3);	/* put_many(0) at zero releases */
		if (init && (long)n > s->held) {
			if (alive)
				return;	/* a put we do not own */
			/* Below zero on a dying ref: refused. */
			call(F_percpu_ref_put_many);
			percpu_ref_put_many(s->r, n);
			BAD();
			break;
		}
		call(n == 1 ? F_percpu_ref_put : F_percpu_ref_put_many);
		if (n == 1)
			percpu_ref_put(s->r);
		else
			percpu_ref_put_many(s->r, n);
		if (!init) {
			BAD();
			break;
		}
		/* Back to zero after the release ran: WARNs, no release. */
		if (s->state == SR_DYING && s->released && s->held == (long)n)
			BAD();
		else
			VALID();
		s->held -= n;
		sref_released(s);
		break;
	case 7:
		call(F_percpu_ref_kill);
		percpu_ref_kill(s->r);
		if (!alive) {
			BAD();
			break;
		}
		VALID();
		s->state = SR_DYING;
		sref_released(s);
		break;
	case 8:
		call(F_percpu_ref_is_dying);
		got = percpu_ref_is_dying(s->r);
		CHECK(got == (s->state == SR_DYING));
		VALID_IF(init);
		break;
	case 9:
		call(F_percpu_ref_is_zero);
		got = percpu_ref_is_zero(s->r);
		CHECK(got == (s->state == SR_DYING && !s->held));
		VALID_IF(init);
		break;
	case 10:
		if (init)
			return;
		/* Uninitialised memory may hold anything. */
		fill_garbage(s->r, sizeof(*s->r));
		return;
	default:
		if (!init)
			return;
		/* Exited behind the library's back: a fresh allocation. */
		call(F_percpu_ref_exit);
		percpu_ref_exit(s->r);
		VALID();
		free(s->r);
		s->r = malloc(sizeof(*s->r));
		if (!s->r)
			abort();
		fill_garbage(s->r, sizeof(*s->r));
		s->state = SR_UNINIT;
		s->held = 0;
	}
	check_sref(s);
}
