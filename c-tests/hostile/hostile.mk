# SPDX-License-Identifier: GPL-2.0-only
# The reliability passes (c-tests/hostile/), included by the top Makefile.
#
# make check                   runs hostile (200,000 fixed-seed steps) and
#                              stress with the other KTAP suites
# make check SANITIZE=address,undefined [CC=clang]
#                              the same under the sanitizers
# make check-valgrind          every C suite (SUITES) built without
#                              sanitizers, run under valgrind
# make hostile SEED=n COUNT=n  a long campaign (default: a fresh seed, a
#                              million steps); a failure prints the seed
#                              and the step to replay
# make stress ROUNDS=n         a long concurrency run (default 2,000 rounds)
# make hostile-repro           the library defects found, one case each,
#                              under valgrind (they run in every suite pass
#                              too: the defects are fixed)

HOSTILE_DIR := c-tests/hostile
HOSTILE_OUT := $(BUILD)/hostile
HOSTILE_BIN := $(HOSTILE_OUT)/hostile $(HOSTILE_OUT)/stress $(HOSTILE_OUT)/repro
SEED        ?=
COUNT       ?= 1000000
ROUNDS      ?= 2000

SUITES += $(HOSTILE_BIN)

VALGRIND       ?= valgrind
VALGRIND_FLAGS := --error-exitcode=1 --leak-check=full \
		  --errors-for-leak-kinds=definite \
		  --show-leak-kinds=definite -q
# Smaller runs under valgrind, which serialises threads and is ~50x slower.
VALGRIND_ENV   := HOSTILE_COUNT=50000 STRESS_ROUNDS=10

.PHONY: check-valgrind hostile stress hostile-repro

$(HOSTILE_OUT)/%: $(HOSTILE_DIR)/%.c $(C_HDRS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CWARN) -o $@ $< $(LIB) $(LDLIBS)

# The campaign is one program of several parts (hostile.h lists them): the
# driver (hostile.c), the model, the draws, the operations.
HOSTILE_PARTS := $(addprefix $(HOSTILE_DIR)/,hostile.c hostile_model.c \
		 hostile_pick.c hostile_pgmaps.c hostile_folios.c \
		 hostile_lookups.c hostile_pages.c hostile_refs.c \
		 hostile_misc.c)

$(HOSTILE_OUT)/hostile: $(HOSTILE_PARTS) $(HOSTILE_DIR)/hostile.h \
		$(C_HDRS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CWARN) -o $@ $(HOSTILE_PARTS) $(LIB) $(LDLIBS)

check-valgrind: $(SUITES)
	@if [ -n "$(SANITIZE)" ]; then \
		echo "check-valgrind: unsanitized builds only" >&2; exit 1; fi
	@command -v $(VALGRIND) >/dev/null || { \
		echo "check-valgrind: no $(VALGRIND)" >&2; exit 1; }
	@$(VALGRIND_ENV) sh $(HOSTILE_DIR)/valgrind.sh "$(VALGRIND) \
		$(VALGRIND_FLAGS)" $(SUITES)

hostile: $(HOSTILE_OUT)/hostile
	@seed=$(SEED); [ -n "$$seed" ] || \
		seed=$$(od -An -N8 -tu8 /dev/urandom | tr -d ' '); \
	echo "# hostile: seed $$seed, $(COUNT) steps"; \
	$< $$seed $(COUNT)

stress: $(HOSTILE_OUT)/stress
	$< $(ROUNDS)

# The library defects these passes found, one case each, asserting the
# fixed behaviour (docs/RELIABILITY.md); also part of SUITES.
hostile-repro: $(HOSTILE_OUT)/repro
	@sh $(HOSTILE_DIR)/valgrind.sh "$(VALGRIND) $(VALGRIND_FLAGS)" $<
