# SPDX-License-Identifier: GPL-2.0-only
# The API generation suites (c-tests/generations/), included by the top
# Makefile: generations.c built once per generation, each program a suite,
# and differential.c once per generation, linked with that generation's C
# reference (c-tests/reference/gen/gen_<generation>.c; 7.0 shares 6.19's).
#
# <mode>:<expected MEMREMAP_GEN_*>:<MEMREMAP_LINUX>[:rc]
GEN_DIR   := c-tests/generations
GEN_OUT   := $(BUILD)/generations
GEN_MODES := 6_1:MEMREMAP_GEN_6_1:KERNEL_VERSION(6,1,0) \
	     6_15:MEMREMAP_GEN_6_15:KERNEL_VERSION(6,15,0) \
	     6_19_rc:MEMREMAP_GEN_6_19_RC:KERNEL_VERSION(6,19,0):rc \
	     6_19:MEMREMAP_GEN_6_19:KERNEL_VERSION(6,19,0) \
	     7_0:MEMREMAP_GEN_6_19:0x070000

gen_field = $(word $(2),$(subst :, ,$(1)))
gen_flags = -DGEN_SUITE='"generations_$(call gen_field,$(1),1)"' \
	    -DGEN_EXPECT=$(call gen_field,$(1),2) \
	    -DMEMREMAP_LINUX='$(call gen_field,$(1),3)' \
	    $(if $(call gen_field,$(1),4),-DMEMREMAP_LINUX_RC=1)

gen_ref   = c-tests/reference/gen/gen_$(patsubst 7_0,6_19,$(call gen_field,$(1),1)).c
GEN_REF_HDRS := $(wildcard c-tests/reference/gen/*.h)

SUITES += $(foreach m,$(GEN_MODES),$(GEN_OUT)/gen_$(call gen_field,$(m),1) \
	  $(GEN_OUT)/diff_$(call gen_field,$(m),1))

define gen_program
$(GEN_OUT)/gen_$(call gen_field,$(1),1): $(GEN_DIR)/generations.c $(C_HDRS) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CSTD) $$(CWARN) $(call gen_flags,$(1)) -o $$@ $$< $$(LIB) $$(LDLIBS)

$(GEN_OUT)/diff_$(call gen_field,$(1),1): $(GEN_DIR)/differential.c \
		$(call gen_ref,$(1)) $(GEN_REF_HDRS) $(C_HDRS) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CSTD) $$(CWARN) $(call gen_flags,$(1)) -o $$@ $$< \
		$(call gen_ref,$(1)) $$(LIB) $$(LDLIBS)
endef
$(foreach m,$(GEN_MODES),$(eval $(call gen_program,$(m))))

# The driver-shaped callers of each generation (callers/), one program per
# generation: gen_callers_<generation>; GEN_NAME is the generation as the
# compatibility matrix names it (6_19_rc -> 6.19-rc, 7_0 -> 7.0).
GEN_CALLERS_DIR  := $(GEN_DIR)/callers
GEN_CALLERS_SRCS := $(wildcard $(GEN_CALLERS_DIR)/*.c $(GEN_CALLERS_DIR)/*.h)
gen_name = $(subst _,.,$(patsubst %_rc,%-rc,$(call gen_field,$(1),1)))

SUITES += $(foreach m,$(GEN_MODES),\
	  $(GEN_OUT)/gen_callers_$(call gen_field,$(m),1))

define gen_callers_program
$(GEN_OUT)/gen_callers_$(call gen_field,$(1),1): $(GEN_CALLERS_SRCS) \
		$(C_HDRS) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CSTD) $$(CWARN) $(call gen_flags,$(1)) \
		-DGEN_CALLERS_SUITE='"gen_callers_$(call gen_field,$(1),1)"' \
		-DGEN_NAME='"$(call gen_name,$(1))"' \
		-o $$@ $(GEN_CALLERS_DIR)/callers.c $$(LIB) $$(LDLIBS)
endef
$(foreach m,$(GEN_MODES),$(eval $(call gen_callers_program,$(m))))

# The negative compile test: another generation's names do not compile.
CHECK_EXTRA += check-generations-negative
.PHONY: check-generations-negative
check-generations-negative:
	@sh $(GEN_DIR)/negative.sh $(CC)

# The compatibility matrix of the callers (matrix.sh), as top-level KTAP
# diagnostics before the report's "# Totals:" line, so the report stays
# one KTAP document: `make report-matrix` is `make report` with it.
.PHONY: report-matrix check-generations-matrix
report-matrix: $(SUITES)
	@sh c-tests/run.sh -o $(BUILD)/report.ktap $(SUITES) >/dev/null; \
	s=$$?; sh $(GEN_DIR)/matrix.sh --insert $(BUILD)/report.ktap; \
	exit $$s

# check-c's report with the matrix inserted is still valid KTAP, and has
# the matrix; the matrix printed.
CHECK_EXTRA += check-generations-matrix
check-generations-matrix: check-c
	@sh $(GEN_DIR)/matrix.sh --insert $(BUILD)/check-c.ktap \
		>$(BUILD)/check-c-matrix.ktap
	@$(PYTHON) c-tests/ktap_check.py --totals $(BUILD)/check-c-matrix.ktap
	@grep -q '^# Compatibility matrix: ' $(BUILD)/check-c-matrix.ktap
	@sed -n '/^# Compatibility matrix: /,/^# Totals: /p' \
		$(BUILD)/check-c-matrix.ktap | sed '$$d'
