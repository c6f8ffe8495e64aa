/* SPDX-License-Identifier: GPL-2.0-only */
/* Bitmaps: arrays of unsigned long, allocated with kmalloc(). */
#ifndef __LINUX_BITMAP_H
#define __LINUX_BITMAP_H

#include <linux/bitops.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/types.h>

/* The bits of the last word that belong to an @nbits-bit bitmap. */
#define BITMAP_FIRST_WORD_MASK(start) (~0UL << ((start) & (BITS_PER_LONG - 1)))
#define BITMAP_LAST_WORD_MASK(nbits) (~0UL >> (-(nbits) & (BITS_PER_LONG - 1)))

/* Macros, so the allocation is recorded at the caller's line. */
#define bitmap_alloc(nbits, flags) \
	((unsigned long *)kmalloc_array(BITS_TO_LONGS(nbits), \
					sizeof(unsigned long), (flags)))
#define bitmap_zalloc(nbits, flags) \
	((unsigned long *)kcalloc(BITS_TO_LONGS(nbits), \
				  sizeof(unsigned long), (flags)))

static inline void bitmap_free(const unsigned long *bitmap)
{
	kfree(bitmap);
}

static inline void bitmap_zero(unsigned long *dst, unsigned int nbits)
{
	memset(dst, 0, BITS_TO_LONGS(nbits) * sizeof(unsigned long));
}

static inline void bitmap_fill(unsigned long *dst, unsigned int nbits)
{
	memset(dst, 0xff, BITS_TO_LONGS(nbits) * sizeof(unsigned long));
}

/* Set bits [@start, @start + @nbits). Not atomic. */
static inline void bitmap_set(unsigned long *map, unsigned int start,
			      unsigned int nbits)
{
	while (nbits--)
		__set_bit(start++, map);
}

/* Clear bits [@start, @start + @nbits). Not atomic. */
static inline void bitmap_clear(unsigned long *map, unsigned int start,
				unsigned int nbits)
{
	while (nbits--)
		__clear_bit(start++, map);
}

/* Number of set bits among the first @nbits. */
static inline unsigned int bitmap_weight(const unsigned long *src,
					 unsigned int nbits)
{
	unsigned int i, w = 0;

	for (i = 0; i < nbits / BITS_PER_LONG; i++)
		w += hweight_long(src[i]);
	if (nbits % BITS_PER_LONG)
		w += hweight_long(src[i] & BITMAP_LAST_WORD_MASK(nbits));
	return w;
}

static inline bool bitmap_empty(const unsigned long *src, unsigned int nbits)
{
	return find_first_bit(src, nbits) == nbits;
}

static inline bool bitmap_full(const unsigned long *src, unsigned int nbits)
{
	return find_first_zero_bit(src, nbits) == nbits;
}

#endif /* __LINUX_BITMAP_H */
