// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target "generations": the first byte picks an API generation
 * (docs/DESIGN.md §9: 6.1, 6.15, 6.19-rc or 6.19), the rest drives that
 * generation's differential. The engine is the generation suites' own,
 * c-tests/generations/differential.c, built once per generation with
 * -DDIFF_FUZZ=gen_diff_<generation> (fuzz.mk), each linked with its C
 * reference (c-tests/reference/gen/gen_<generation>.c) under names of its
 * own: a driver inits folios on its free pages (order 0, and order 9 from
 * 6.19-rc on) and frees them, through the library's pgmap and through the
 * reference's. Its draws (init or free, the order, the page) come two
 * bytes each from the input instead of its seeded generator; once the
 * input is spent every draw is 0 (a free), and at the end every folio
 * still live is freed.
 *
 * The oracle is the differential's: after every step every word of every
 * struct page of both pgmaps agrees (pointers translated), and so do the
 * pgmap pins, the free callbacks in order, and the WARNs of the step; at
 * the end both pgmaps are idle and unmap without a WARN.
 *
 * Not covered: 7.0 (the same generation as 6.19, the same build), the seed
 * (the differential target), a dying pgmap, types other than
 * DEVICE_PRIVATE, and the generations' callers (c-tests/generations/
 * callers/).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <memremap/test.h>
#include "fuzz/fuzz.h"

bool gen_diff_6_1(void);
bool gen_diff_6_15(void);
bool gen_diff_6_19_rc(void);
bool gen_diff_6_19(void);
unsigned long diff_fuzz_rand(void);
unsigned long diff_fuzz_steps(void);

/* A step draws at most three values; a longer input is cut. */
#define MAXSTEPS	256

static const struct {
	const char *name;
	bool (*run)(void);
} gens[] = {
	{ "6.1", gen_diff_6_1 },
	{ "6.15", gen_diff_6_15 },
	{ "6.19-rc", gen_diff_6_19_rc },
	{ "6.19", gen_diff_6_19 },
};

static const uint8_t *in;
static size_t left;

unsigned long diff_fuzz_rand(void)
{
	unsigned long v;

	if (left < 2) {
		left = 0;
		return 0;
	}
	v = in[0] | in[1] << 8;
	in += 2;
	left -= 2;
	return v;
}

/* Two draws a step (three with large folios): enough to spend the input. */
unsigned long diff_fuzz_steps(void)
{
	return left / 4 < MAXSTEPS ? left / 4 + 1 : MAXSTEPS;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memremap_warn_quiet(!getenv("FUZZ_WARNS"));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long live = memremap_kmalloc_live();
	unsigned int g;

	if (!size)
		return 0;
	g = data[0] % (sizeof(gens) / sizeof(gens[0]));
	in = data + 1;
	left = size - 1;
	if (!gens[g].run()) {
		fprintf(stderr, "fuzz: generations: generation %s\n",
			gens[g].name);
		fuzz_crash("the library and the reference disagree");
	}
	FUZZ_CHECK(memremap_mapped_pgmaps() == 0);
	FUZZ_CHECK(memremap_kmalloc_live() == live);
	return 0;
}
