# SPDX-License-Identifier: GPL-2.0-only
# The seed's C reference (c-tests/reference/) against the library: the
# differential tests in tests/differential/, included by the top Makefile.
#
# make check-differential   the fixed-seed campaign (10,000 scenarios), the
#                           sanity test and one test per finding
#                           (docs/FINDINGS.md); part of `make check`
# make fuzz SEED=n COUNT=n  a long campaign (default: a fresh seed, a
#                           million scenarios); a failure prints the seed
#                           and the shrunk scenario, SEED= replays it

# In the dev profile, opt-level 1 with debug assertions and overflow
# checks (Cargo.toml): the campaign runs four times faster than
# unoptimised, and shares its dependencies with check-cargo's build.
DIFF_TEST := $(CARGO) test --locked --features reference --test differential
SEED      ?=
COUNT     ?= 1000000

.PHONY: check-differential fuzz

CHECK_EXTRA += check-differential

check-differential:
	$(DIFF_TEST)

# The long campaign: optimised fully, debug assertions and overflow checks
# kept on (it checks what check-differential checks), in a target
# directory of its own so it rebuilds nothing of the other builds'.
fuzz:
	DIFF_SEED=$(SEED) DIFF_CASES=$(COUNT) CARGO_TARGET_DIR=target/fuzz \
		CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true \
		CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true \
		$(CARGO) test --locked --release --features reference \
		--test differential -- --ignored --exact fuzz --nocapture
