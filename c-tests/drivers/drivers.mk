# SPDX-License-Identifier: GPL-2.0-only
# Driver-shaped programs (c-tests/drivers/): device-memory drivers of our
# own, written to how the kernel's behave, each a KTAP suite. Included by
# the top Makefile (`include c-tests/drivers/drivers.mk`).

DRIVERS_DIR   := c-tests/drivers
DRIVERS_OUT   := $(BUILD)/drivers
DRIVER_TESTS  := $(patsubst $(DRIVERS_DIR)/%.c,$(DRIVERS_OUT)/%,\
		 $(wildcard $(DRIVERS_DIR)/*.c))

SUITES += $(DRIVER_TESTS)

# A program written against one kernel generation says so in <name>.flags
# beside it (for example -DMEMREMAP_LINUX='KERNEL_VERSION(6,1,0)'), as a
# driver's kbuild would; without one it sees the seed's headers.
driver_flags = $(shell cat $(DRIVERS_DIR)/$(1).flags 2>/dev/null)

$(DRIVERS_OUT)/%: $(DRIVERS_DIR)/%.c $(wildcard $(DRIVERS_DIR)/*.flags) \
		$(DRIVERS_DIR)/driver_test.h \
		$(C_HDRS) $(wildcard include/linux/*/*.h) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CWARN) $(call driver_flags,$*) -o $@ $< $(LIB) \
		$(LDLIBS)
