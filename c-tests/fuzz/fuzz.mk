# SPDX-License-Identifier: GPL-2.0-only
# Coverage-guided fuzzing with libFuzzer (c-tests/fuzz/), included by the
# top Makefile.
#
# make fuzz-targets            the targets api, callers, differential,
#                              generations, with
#                              clang -fsanitize=fuzzer,address,undefined,
#                              in build-fuzz/ (FUZZ_CC=clang-NN to choose)
# make fuzz-run SECONDS=n JOBS=n
#                              each target n seconds on n processes
#                              (libFuzzer's -jobs/-workers), from its
#                              committed corpus; prints execs/s, cov:, ft:
#                              and corpus size per target; fails on a
#                              crash, a leak or a failed check (an
#                              unexpected WARN is one)
# make fuzz-merge              minimise the committed corpora (-merge=1)
#                              with what the last fuzz-run found
# make check-fuzz-regress      the regression inputs and the corpora,
#                              replayed through the targets' entry points
#                              built with $(CC) and a plain main (no clang
#                              needed); part of `make check`
#
# The C is instrumented by clang; the Rust library too (rustc's sancov
# passes, as cargo-fuzz does), into its own target/fuzz tree, so that the
# fuzzer sees the library's branches. FUZZ_RUST_COV=0 links the ordinary
# library instead. ASan covers the C; the Rust side is not ASan-built
# (that needs a nightly rustc).

FUZZ_DIR     := c-tests/fuzz
FUZZ_OUT     := build-fuzz
FUZZ_CC      ?= clang
FUZZ_TARGETS := api callers differential generations
SECONDS      ?= 60
JOBS         ?= 1
FUZZ_RUST_COV ?= 1
OBJCOPY      ?= objcopy

# The regression inputs replay in `make check`.
CHECK_EXTRA  += check-fuzz-regress

FUZZ_TRIPLE  := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
FUZZ_RUSTFLAGS := -Cpasses=sancov-module \
	-Cllvm-args=-sanitizer-coverage-level=4 \
	-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
	-Cllvm-args=-sanitizer-coverage-pc-table \
	-Cllvm-args=-sanitizer-coverage-trace-compares
ifeq ($(FUZZ_RUST_COV),1)
FUZZ_LIB     := target/fuzz/$(FUZZ_TRIPLE)/release/libmemremap.a
else
FUZZ_LIB     := $(LIB)
endif

FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all \
		-fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -fno-strict-aliasing -Iinclude -Ic-tests \
		$(FUZZ_SAN) -fsanitize=fuzzer-no-link \
		-DCALLERS_SANITIZE='"address,undefined"'
FUZZ_WARN    := -Wall -Wextra -Werror -Wno-gnu
# The patch's lines (callers, reference): kbuild's warnings; clang also
# flags the unused static inlines they carry.
FUZZ_KWARN   := -Wall -Wno-sign-compare -Werror -Wno-gnu -Wno-unused-function

FUZZ_HOSTILE  := $(addprefix c-tests/hostile/,hostile_model.c hostile_pick.c \
		hostile_pgmaps.c hostile_folios.c hostile_lookups.c \
		hostile_pages.c hostile_refs.c hostile_misc.c)
FUZZ_HDRS    := $(C_HDRS) $(wildcard $(FUZZ_DIR)/*.h c-tests/hostile/*.h \
		c-tests/callers/*.h c-tests/callers/mocks/*.h)
FUZZ_CALLERS_FLAGS := -Ic-tests/callers -Ic-tests/callers/mocks

.PHONY: fuzz-targets fuzz-run fuzz-merge check-fuzz-regress

fuzz-targets: $(addprefix $(FUZZ_OUT)/,$(FUZZ_TARGETS))

target/fuzz/$(FUZZ_TRIPLE)/release/libmemremap.a: $(RUST_SRC)
	RUSTFLAGS="$(FUZZ_RUSTFLAGS)" CARGO_TARGET_DIR=target/fuzz \
		$(CARGO) build --release --lib --locked --target $(FUZZ_TRIPLE)
	@touch $@

# The seed's C reference and the dmirror caller, as the fuzzer builds them.
$(FUZZ_OUT)/obj/ref_after.o: c-tests/reference/after.c $(C_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_KWARN) -c -o $@ $<

$(FUZZ_OUT)/obj/%/test_hmm.o: c-tests/callers/%/test_hmm.c \
		c-tests/callers/common/test_hmm.h \
		c-tests/callers/common/test_hmm_tail.h $(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_KWARN) $(FUZZ_CALLERS_FLAGS) \
		-DCALLER_API=dmirror_$* -DCALLER_SIDE=$* -c -o $@.all $<
	$(OBJCOPY) --keep-global-symbol=dmirror_$* $@.all $@

$(FUZZ_OUT)/obj/mock_common.o: c-tests/callers/mocks/mock_common.c \
		$(FUZZ_HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_WARN) $(FUZZ_CALLERS_FLAGS) -c -o $@ $<

$(FUZZ_OUT)/api: $(FUZZ_DIR)/api.c c-tests/hostile/hostile.c $(FUZZ_HOSTILE) \
		$(FUZZ_HDRS) $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_WARN) -fsanitize=fuzzer -o $@ \
		$(FUZZ_DIR)/api.c $(FUZZ_HOSTILE) $(FUZZ_LIB) $(LDLIBS)

$(FUZZ_OUT)/differential: $(FUZZ_DIR)/differential.c \
		$(FUZZ_OUT)/obj/ref_after.o $(FUZZ_HDRS) $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_WARN) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_OUT)/obj/ref_after.o $(FUZZ_LIB) $(LDLIBS)

FUZZ_CALLER_OBJS = $(FUZZ_OUT)/obj/after/test_hmm.o \
		   $(FUZZ_OUT)/obj/before/test_hmm.o \
		   $(FUZZ_OUT)/obj/mock_common.o

$(FUZZ_OUT)/callers: $(FUZZ_DIR)/callers.c $(FUZZ_CALLER_OBJS) $(FUZZ_HDRS) \
		$(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_WARN) $(FUZZ_CALLERS_FLAGS) \
		-fsanitize=fuzzer -o $@ $< $(FUZZ_CALLER_OBJS) $(FUZZ_LIB) \
		$(LDLIBS)

# generations: the API generations' differential
# (c-tests/generations/differential.c), built once per generation with
# -DDIFF_FUZZ, each with its C reference, every global name suffixed with
# the generation. <name>:<MEMREMAP_LINUX>[:rc]; 7.0 builds as 6.19 does.
FUZZ_GENS := 6_1:KERNEL_VERSION(6,1,0) 6_15:KERNEL_VERSION(6,15,0) \
	     6_19_rc:KERNEL_VERSION(6,19,0):rc 6_19:KERNEL_VERSION(6,19,0)
fuzz_gen = $(word 1,$(subst :, ,$(1)))
fuzz_gen_flags = -DMEMREMAP_LINUX='$(word 2,$(subst :, ,$(1)))' \
	$(if $(word 3,$(subst :, ,$(1))),-DMEMREMAP_LINUX_RC=1) \
	-DGEN_SUITE='"generations_$(call fuzz_gen,$(1))"' \
	-DDIFF_FUZZ=gen_diff_$(call fuzz_gen,$(1)) \
	-Dref_folio_init=ref_folio_init_$(call fuzz_gen,$(1)) \
	-Dref_folio_put=ref_folio_put_$(call fuzz_gen,$(1))
FUZZ_GEN_DEPS := c-tests/generations/differential.c \
		 $(wildcard c-tests/reference/gen/*.h) $(FUZZ_HDRS)
FUZZ_GEN_CC   = $(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_WARN)
REPLAY_GEN_CC = $(CC) $(CSTD) $(CWARN)

# $(1): a FUZZ_GENS entry; $(2): the objects' directory; $(3): the
# variable holding the compiler and its flags.
define fuzz_gen_objs
$(2)/gen/diff_$(call fuzz_gen,$(1)).o: $(FUZZ_GEN_DEPS)
	@mkdir -p $$(dir $$@)
	$$($(3)) $(call fuzz_gen_flags,$(1)) -c -o $$@ $$<

$(2)/gen/ref_$(call fuzz_gen,$(1)).o: \
		c-tests/reference/gen/gen_$(call fuzz_gen,$(1)).c $(FUZZ_GEN_DEPS)
	@mkdir -p $$(dir $$@)
	$$($(3)) $(call fuzz_gen_flags,$(1)) -c -o $$@ $$<
endef
$(foreach g,$(FUZZ_GENS),$(eval $(call fuzz_gen_objs,$(g),$(FUZZ_OUT)/obj,FUZZ_GEN_CC)))
$(foreach g,$(FUZZ_GENS),$(eval $(call fuzz_gen_objs,$(g),$(BUILD)/fuzz-replay,REPLAY_GEN_CC)))

fuzz_gen_objs_in = $(foreach g,$(FUZZ_GENS),$(1)/gen/diff_$(call fuzz_gen,$(g)).o \
		   $(1)/gen/ref_$(call fuzz_gen,$(g)).o)

$(FUZZ_OUT)/generations: $(FUZZ_DIR)/generations.c \
		$(call fuzz_gen_objs_in,$(FUZZ_OUT)/obj) $(FUZZ_HDRS) $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_WARN) -fsanitize=fuzzer -o $@ $< \
		$(call fuzz_gen_objs_in,$(FUZZ_OUT)/obj) $(FUZZ_LIB) $(LDLIBS)

fuzz-run: fuzz-targets
	@sh $(FUZZ_DIR)/run.sh $(SECONDS) $(JOBS) $(FUZZ_OUT) $(FUZZ_TARGETS)

fuzz-merge: fuzz-targets
	@sh $(FUZZ_DIR)/merge.sh $(FUZZ_OUT) $(FUZZ_TARGETS)

# ---- the replay: the targets' entry points, $(CC), a plain main ----

REPLAY_OUT := $(BUILD)/fuzz-replay

$(REPLAY_OUT)/api: $(FUZZ_DIR)/api.c $(FUZZ_DIR)/replay.c \
		c-tests/hostile/hostile.c $(FUZZ_HOSTILE) $(FUZZ_HDRS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CWARN) -o $@ $(FUZZ_DIR)/api.c $(FUZZ_DIR)/replay.c \
		$(FUZZ_HOSTILE) $(LIB) $(LDLIBS)

$(REPLAY_OUT)/ref_after.o: c-tests/reference/after.c $(C_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(KWARN) \
		$(if $(findstring clang,$(CC)),-Wno-unused-function) -c -o $@ $<

$(REPLAY_OUT)/differential: $(FUZZ_DIR)/differential.c $(FUZZ_DIR)/replay.c \
		$(REPLAY_OUT)/ref_after.o $(FUZZ_HDRS) $(LIB)
	$(CC) $(CSTD) $(CWARN) -o $@ $(FUZZ_DIR)/differential.c \
		$(FUZZ_DIR)/replay.c $(REPLAY_OUT)/ref_after.o $(LIB) $(LDLIBS)

# The caller objects callers.mk builds for the suites, as they are.
REPLAY_CALLER_OBJS = $(CALLERS_OUT)/after/test_hmm.o \
		     $(CALLERS_OUT)/before/test_hmm.o \
		     $(CALLERS_OUT)/mocks/mock_common.o

$(REPLAY_OUT)/callers: $(FUZZ_DIR)/callers.c $(FUZZ_DIR)/replay.c \
		$(REPLAY_CALLER_OBJS) $(FUZZ_HDRS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CWARN) $(CALLERS_FLAGS) $(FUZZ_CALLERS_FLAGS) -o $@ \
		$(FUZZ_DIR)/callers.c $(FUZZ_DIR)/replay.c \
		$(REPLAY_CALLER_OBJS) $(LIB) $(LDLIBS)

$(REPLAY_OUT)/generations: $(FUZZ_DIR)/generations.c $(FUZZ_DIR)/replay.c \
		$(call fuzz_gen_objs_in,$(REPLAY_OUT)) $(FUZZ_HDRS) $(LIB)
	$(CC) $(CSTD) $(CWARN) -o $@ $(FUZZ_DIR)/generations.c \
		$(FUZZ_DIR)/replay.c $(call fuzz_gen_objs_in,$(REPLAY_OUT)) \
		$(LIB) $(LDLIBS)

REPLAY_BIN := $(addprefix $(REPLAY_OUT)/,$(FUZZ_TARGETS))

check-fuzz-regress: $(REPLAY_BIN)
	@sh $(FUZZ_DIR)/regress.sh $(REPLAY_OUT) $(FUZZ_TARGETS)
