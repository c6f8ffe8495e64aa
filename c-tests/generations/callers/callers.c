// SPDX-License-Identifier: GPL-2.0-only
/*
 * The callers of every API generation (docs/DESIGN.md §9): driver-shaped
 * code of our own, one source per driver in this directory, written to
 * the API of the generation the program is built for (generations.mk
 * builds it once per generation: gen_callers_<generation>). Each driver
 * sets up its pgmap as the driver does, hands pages or folios out of its
 * own allocator, frees them back through its free callback, reuses them
 * and tears down. Where the generation's contract makes the driver
 * misbehave, the case asserts exactly what happens and states it in a
 * "# FINDING <driver> <generation>: ..." line, which
 * c-tests/generations/matrix.sh collects into the compatibility matrix.
 */
#include "gen_callers.h"

#include "kvmppc_uvmem.c"
#include "kfd_migrate.c"
#include "nouveau_dmem.c"
#include "test_hmm.c"
#include "drm_pagemap.c"
#include "dax.c"

KTAP_MAIN(GEN_CALLERS_SUITE,
	  KVMPPC_CASES,
	  KFD_CASES,
	  NOUVEAU_CASES,
	  DMIRROR_CASES,
	  DRM_PAGEMAP_CASES
	  DAX_CASES)
