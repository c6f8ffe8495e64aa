# SPDX-License-Identifier: GPL-2.0-only
#
# make              the library (target/release/libmemremap.a, optimised
#                   fully) and its header
# make report       the main job: run the suites, print the KTAP report
# make check        everything: header drift, lints, cargo tests, C tests
#                   (KTAP, checked by c-tests/ktap_check.py), two at a time
#                   (CHECK_JOBS=n to change)
# make check SANITIZE=address,undefined   C tests under sanitizers
# make bench        benchmarks against the seed's C reference
# make install PREFIX=/usr/local
# make clean

CARGO    ?= cargo
CC       ?= gcc
PYTHON   ?= python3
CHECK_JOBS ?= 2
PREFIX   ?= /usr/local
SANITIZE ?=

# The library the test programs link (every suite, `make check`, `make
# report`, the sanitizer and valgrind passes, the fuzz replay): the dev
# profile (Cargo.toml: opt-level 1, debug assertions and overflow checks
# on), the profile the cargo tests build in, so a cold
# `make check` builds the dependencies for the tests and for this library
# in one profile, and no release library. `make`, `make bench` and `make
# install` build and use the release library (LIB_RELEASE).
LIB      := target/debug/libmemremap.a
LIB_RELEASE := target/release/libmemremap.a
ABI      := include/memremap/abi.h
# Every build of the library also writes the header cbindgen makes of it
# here: one value of MEMREMAP_ABI_HEADER for every cargo run of this
# Makefile (the tests and clippy in target/debug share the library's
# build-script run, so a second value would rerun build.rs and rebuild
# the library at every switch). Every run writes the same file; cargo's
# lock on target/debug keeps two from running at once.
ABI_GEN  := target/abi.h
export MEMREMAP_ABI_HEADER := $(CURDIR)/$(ABI_GEN)
LIB_BUILD := $(CARGO) build --lib --locked
comma    := ,
# One build tree per sanitizer set and compiler (gcc's has no suffix).
BUILD    := build$(if $(SANITIZE),-$(subst $(comma),-,$(SANITIZE)))$(if \
	    $(filter-out gcc cc,$(notdir $(CC))),-$(notdir $(CC)))

# Our own C: every warning we can have, as errors.
CWARN    := -Wall -Wextra -Werror
# Files that carry the patch's lines: kbuild's default set (no
# sign-compare), since those lines must not change to please a compiler.
KWARN    := -Wall -Wno-sign-compare -Werror
# With clang, kbuild's -Wno-gnu: drivers embed struct dev_pagemap, whose
# ranges[] is a flexible array, in their own structs (a GNU extension).
ifneq ($(findstring clang,$(CC)),)
CWARN    += -Wno-gnu
KWARN    += -Wno-gnu
endif
CSTD     := -std=gnu11 -g -O1 -fno-strict-aliasing -Iinclude -Ic-tests
ifneq ($(SANITIZE),)
CSTD     += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
LDLIBS   := -lpthread -lm -ldl -lrt -lutil

# Every Rust file under src/, however deep (src/ffi/ and the like).
RUST_SRC := $(shell find src -name "*.rs") Cargo.toml Cargo.lock build.rs \
	    cbindgen.toml
API_TESTS := $(patsubst c-tests/api/%.c,$(BUILD)/api/%,$(wildcard c-tests/api/*.c))
C_HDRS   := $(shell find include -name "*.h") $(wildcard c-tests/*.h)

# KTAP programs that `make check` and `make report` run, and further check
# targets; the fragments below add theirs.
SUITES   := $(API_TESTS)
CHECK_EXTRA :=
# The fragments define rules; `make` alone still builds the library.
# A fragment that is missing is an error, not a suite silently dropped.
.DEFAULT_GOAL := all
include c-tests/callers/callers.mk
include c-tests/reference/reference.mk
include c-tests/drivers/drivers.mk
include c-tests/generations/generations.mk
include c-tests/fuzz/fuzz.mk
# Last: check-valgrind's prerequisites are every suite the others added.
include c-tests/hostile/hostile.mk

.PHONY: all header check check-header check-headers check-cargo check-c \
	check-ktap check-loom check-lint lint-fmt lint-clippy \
	lint-clippy-reference lint-clippy-loom report bench clean install \
	check-install FORCE

all: $(LIB_RELEASE)

# Built here only (the one cargo run that makes target/debug's library:
# the tests build it as a dependency, panic=unwind, in deps/), and again
# if the header it writes is missing, before anything links the library.
$(LIB): $(RUST_SRC) $(if $(wildcard $(ABI_GEN)),,FORCE)
	$(LIB_BUILD)
	@touch $@

$(LIB_RELEASE): $(RUST_SRC)
	$(CARGO) build --release --lib --locked
	@touch $@

$(ABI_GEN): $(LIB)
	@test -f $@ || { echo "$@ not written: touch build.rs, run make" >&2; \
		exit 1; }

FORCE:

# Regenerate the committed ABI header.
# Always through cargo with the variable set: a cargo build without it (by
# hand, or another tool) leaves target/abi.h as the last build wrote it.
header:
	$(LIB_BUILD)
	cp $(ABI_GEN) $(ABI)

# The checks are independent but for those that read check-c's report;
# they run CHECK_JOBS at a time, each one's output printed whole when it
# ends, and every one runs even when another fails (-k). The longest
# start first (docs/PERFORMANCE.md, "make check time"), so that none of
# them is left to run alone at the end. The C suites' totals close the
# output, as CI reads them.
CHECKS := check-header check-headers check-lint check-cargo check-c \
	  check-ktap check-loom check-install $(CHECK_EXTRA)
CHECKS_FIRST := $(foreach c,check-c check-fuzz-regress check-differential \
		check-loom check-generations-negative check-cargo,\
		$(filter $(c),$(CHECKS)))
CHECKS := $(CHECKS_FIRST) $(filter-out $(CHECKS_FIRST),$(CHECKS))

check:
	@$(MAKE) --no-print-directory -k -j$(CHECK_JOBS) -Otarget $(CHECKS)
	@tail -n 1 $(BUILD)/check-c.ktap

check-header: $(ABI_GEN)
	@diff -u $(ABI) $(ABI_GEN) || { \
		echo "$(ABI) is stale: run 'make header' and commit it" >&2; exit 1; }

# Every header compiles alone, first, warnings as errors, in every mode
# of c-tests/check-headers.sh: one stamp per header and mode, remade when
# the header, a file it includes (gcc -MMD, in the stamp's .d) or the
# script changes; so an unchanged tree compiles nothing, and a changed
# header rechecks exactly the headers and modes that include it. One lint
# stamp per header (its first lines, 80 columns).
HDR_SCRIPT := c-tests/check-headers.sh
HDR_OUT    := build/check-headers$(if $(filter-out gcc cc,$(notdir $(CC))),-$(notdir $(CC)))
HDR_MODES  := $(shell sh $(HDR_SCRIPT) --modes)
HDR_LIST   := $(patsubst include/%,%,$(shell find include -name "*.h"))
HDR_STAMPS := $(foreach m,$(HDR_MODES),$(patsubst %,$(HDR_OUT)/$(m)/%.ok,$(HDR_LIST)))
HDR_LINTS  := $(patsubst %,$(HDR_OUT)/lint/%.ok,$(HDR_LIST))

define hdr_mode
$(HDR_OUT)/$(1)/%.ok: include/% $(HDR_SCRIPT)
	@sh $(HDR_SCRIPT) --check $(1) $$* $$@ $(CC)
endef
$(foreach m,$(HDR_MODES),$(eval $(call hdr_mode,$(m))))

$(HDR_OUT)/lint/%.ok: include/% $(HDR_SCRIPT)
	@sh $(HDR_SCRIPT) --lint $* $@

# What each check included, read only when the checks are asked for.
ifneq ($(filter check-headers,$(MAKECMDGOALS)),)
-include $(wildcard $(HDR_STAMPS:=.d))
endif

check-headers: $(HDR_STAMPS) $(HDR_LINTS)
	@echo "check-headers: all headers self-contained"

check-cargo:
	$(CARGO) test --locked

# Every interleaving of the counting core (src/counter.rs), with loom:
# the models are a package of their own (loom/, a workspace member) that
# compiles src/counter.rs against loom's atomics and depends on loom only,
# so neither the library nor its dependencies are built again for them.
# The dev profile (opt-level 1, debug assertions on): the models run in
# about the time they took optimised fully (docs/PERFORMANCE.md, "make
# check time").
LOOM_ARGS := --locked -p memremap-loom
check-loom:
	$(CARGO) test $(LOOM_ARGS) --test loom -- \
		--test-threads=1 --nocapture

# rustfmt and clippy, warnings as errors, on every configuration the
# tests build: the default, the reference feature, the loom package.
check-lint: lint-fmt lint-clippy lint-clippy-reference lint-clippy-loom

lint-fmt:
	$(CARGO) fmt --all --check

lint-clippy:
	$(CARGO) clippy --locked --all-targets -- -D warnings

lint-clippy-reference:
	$(CARGO) clippy --locked --all-targets --features reference -- \
		-D warnings

lint-clippy-loom:
	$(CARGO) clippy $(LOOM_ARGS) --all-targets -- -D warnings

$(BUILD)/api/%: c-tests/api/%.c $(C_HDRS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CWARN) -o $@ $< $(LIB) $(LDLIBS)

# One KTAP v1 document for all the suites (c-tests/run.sh), kept in
# $(BUILD)/check-c.ktap, each program's own in <program>.ktap.
check-c: $(SUITES)
	@sh c-tests/run.sh -o $(BUILD)/check-c.ktap $(SUITES)

# The KTAP grammar of all of it, by our own reader, which first shows on
# its test inputs that it rejects what it must.
check-ktap: check-c
	@$(PYTHON) c-tests/ktap_check.py --self-test c-tests/ktap-check
	@$(PYTHON) c-tests/ktap_check.py --totals $(BUILD)/check-c.ktap
	@$(PYTHON) c-tests/ktap_check.py $(SUITES:=.ktap)

# The main job: every suite's KTAP report and the totals.
report: $(SUITES)
	@sh c-tests/run.sh $(SUITES)

# Benchmarks: the library against the seed's C reference, one table.
# Both sides' C is built with the same optimising flags.
BENCH_CFLAGS := -std=gnu11 -O2 -g -fno-strict-aliasing -Iinclude -Ic-tests
$(BUILD)/bench/ref_after.o: c-tests/reference/after.c $(C_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) $(KWARN) -c -o $@ $<

$(BUILD)/bench/bench: c-tests/bench/bench.c $(BUILD)/bench/ref_after.o $(C_HDRS) \
		$(LIB_RELEASE)
	$(CC) $(BENCH_CFLAGS) $(CWARN) -o $@ $< $(BUILD)/bench/ref_after.o \
		$(LIB_RELEASE) $(LDLIBS)

# The generation rows: gen_bench.c and the C reference of its generation,
# both built under that generation's headers, one program per generation.
BENCH_GENS := 6_19:KERNEL_VERSION(6,19,0) 6_19_rc:KERNEL_VERSION(6,19,0):rc
bench_gen_flags = -DMEMREMAP_LINUX='$(word 2,$(subst :, ,$(1)))' \
	$(if $(word 3,$(subst :, ,$(1))),-DMEMREMAP_LINUX_RC=1)
define bench_gen
$(BUILD)/bench/gen_$(word 1,$(subst :, ,$(1))): c-tests/bench/gen_bench.c \
		c-tests/reference/gen/gen_$(word 1,$(subst :, ,$(1))).c \
		$(wildcard c-tests/reference/gen/*.h) $(C_HDRS) $(LIB_RELEASE)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(BENCH_CFLAGS) $$(CWARN) $(call bench_gen_flags,$(1)) -o $$@ \
		$$< c-tests/reference/gen/gen_$(word 1,$(subst :, ,$(1))).c \
		$$(LIB_RELEASE) $$(LDLIBS)
endef
$(foreach g,$(BENCH_GENS),$(eval $(call bench_gen,$(g))))
BENCH_GEN_PROGS := $(foreach g,$(BENCH_GENS),$(BUILD)/bench/gen_$(word 1,$(subst :, ,$(g))))

bench: $(BUILD)/bench/bench $(BENCH_GEN_PROGS)
	@sh c-tests/bench/run.sh $^

# INSTALL_LIB: the library installed (check-install passes the test one).
INSTALL_LIB ?= $(LIB_RELEASE)
install: $(INSTALL_LIB)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/memremap
	install -m 644 $(INSTALL_LIB) $(DESTDIR)$(PREFIX)/lib/libmemremap.a
	cp -R include/linux include/asm include/memremap $(DESTDIR)$(PREFIX)/include/memremap/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBS@|$(LDLIBS)|' memremap.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/memremap.pc

# Install into a scratch prefix and build an outside program against it
# with pkg-config, as a user would; the test library, so that `make check`
# builds no release library.
check-install: $(LIB)
	rm -rf $(BUILD)/prefix
	$(MAKE) --no-print-directory install PREFIX=$(CURDIR)/$(BUILD)/prefix \
		INSTALL_LIB=$(LIB)
	PKG_CONFIG_PATH=$(CURDIR)/$(BUILD)/prefix/lib/pkgconfig; export PKG_CONFIG_PATH; \
	$(CC) -std=gnu11 -Wall -Wextra -Werror c-tests/outside/example.c \
		$$(pkg-config --cflags --libs memremap) -o $(BUILD)/example && \
	$(BUILD)/example

clean:
	$(CARGO) clean
	rm -rf build build-*
