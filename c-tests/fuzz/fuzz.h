/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the fuzz targets share: the libFuzzer entry points, and how a
 * target reports a failed check. A failure prints what failed, then aborts,
 * which libFuzzer reports as a crash and keeps the input of (crash-<sha1>).
 * The replay program (replay.c) calls the same entry points without
 * libFuzzer, for the regression inputs under `make check`.
 */
#ifndef _FUZZ_H
#define _FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline __attribute__((noreturn)) void fuzz_crash(const char *what)
{
	fflush(stdout);
	fprintf(stderr, "fuzz: check failed (%s): aborting\n", what);
	abort();
}

/* A check of a target: on failure, say where, and crash. */
#define FUZZ_CHECK(cond)						\
	do {								\
		if (!(cond))						\
			fuzz_crash(__FILE__ ": " #cond);		\
	} while (0)

#endif /* _FUZZ_H */
