# SPDX-License-Identifier: GPL-2.0-only
# The caller suites (c-tests/callers/), included by the top Makefile.
#
# Each caller file is built twice, as the patch leaves it (after/) and as
# it was (before/), with the kernel's default warnings, against the
# kernel-shaped headers and the driver mocks (mocks/). Each object exports
# one table, CALLER_API = <program>_<side>; objcopy makes every other
# global symbol local, so both versions link into one test program, which
# runs the same scenarios on both.
#
# The driver code of ours that is the same in both versions is in
# common/<caller file>.h and common/<caller file>_tail.h, which both
# versions include: a change to either rebuilds both objects.

CALLERS_DIR   := c-tests/callers
CALLERS_OUT   := $(BUILD)/callers
OBJCOPY       ?= objcopy
# <test program>:<caller file>
CALLERS       := kvmppc:book3s_hv_uvmem kfd:kfd_migrate nouveau:nouveau_dmem \
		 dmirror:test_hmm dax:dax_mapping
CALLERS_HDRS  := $(C_HDRS) $(wildcard $(CALLERS_DIR)/*.h $(CALLERS_DIR)/mocks/*.h)
CALLERS_MOCKS := $(patsubst $(CALLERS_DIR)/mocks/%.c,$(CALLERS_OUT)/mocks/%.o,\
		 $(wildcard $(CALLERS_DIR)/mocks/*.c))
CALLERS_FLAGS := -I$(CALLERS_DIR)/mocks -DCALLERS_SANITIZE='"$(SANITIZE)"'

caller_prog = $(word 1,$(subst :, ,$(1)))
caller_file = $(word 2,$(subst :, ,$(1)))

SUITES += $(foreach c,$(CALLERS),$(CALLERS_OUT)/test_$(call caller_prog,$(c)))

$(CALLERS_OUT)/mocks/%.o: $(CALLERS_DIR)/mocks/%.c $(CALLERS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CWARN) $(CALLERS_FLAGS) -c -o $@ $<

# The shared parts a caller file includes.
caller_common = $(wildcard $(CALLERS_DIR)/common/$(1).h \
		  $(CALLERS_DIR)/common/$(1)_tail.h)

# $(1): test program, $(2): caller file, $(3): after or before
define caller_object
$(CALLERS_OUT)/$(3)/$(2).o: $(CALLERS_DIR)/$(3)/$(2).c \
		$(call caller_common,$(2)) $(CALLERS_HDRS)
	@mkdir -p $$(dir $$@)
	$(CC) $(CSTD) $(KWARN) $(CALLERS_FLAGS) -DCALLER_API=$(1)_$(3) \
		-DCALLER_SIDE=$(3) -c -o $$@.all $$<
	$(OBJCOPY) --keep-global-symbol=$(1)_$(3) $$@.all $$@
endef

# $(1): test program, $(2): caller file
define caller_program
$(CALLERS_OUT)/test_$(1): $(CALLERS_DIR)/test_$(1).c \
		$(CALLERS_OUT)/after/$(2).o $(CALLERS_OUT)/before/$(2).o \
		$(CALLERS_MOCKS) $(CALLERS_HDRS) $(LIB)
	@mkdir -p $$(dir $$@)
	$(CC) $(CSTD) $(CWARN) $(CALLERS_FLAGS) -o $$@ $$< \
		$(CALLERS_OUT)/after/$(2).o $(CALLERS_OUT)/before/$(2).o \
		$(CALLERS_MOCKS) $(LIB) $(LDLIBS)
endef

$(foreach c,$(CALLERS),\
  $(foreach s,after before,\
    $(eval $(call caller_object,$(call caller_prog,$(c)),$(call caller_file,$(c)),$(s))))\
  $(eval $(call caller_program,$(call caller_prog,$(c)),$(call caller_file,$(c)))))

