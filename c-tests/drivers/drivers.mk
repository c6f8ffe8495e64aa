# SPDX-License-Identifier: GPL-2.0-only
# Driver-shaped programs (c-tests/drivers/): device-memory drivers of our
# own, written to how the kernel's behave, each a KTAP suite. Included by
# the top Makefile (`include c-tests/drivers/drivers.mk`).

DRIVERS_DIR   := c-tests/drivers
DRIVERS_OUT   := $(BUILD)/drivers
DRIVER_TESTS  := $(patsubst $(DRIVERS_DIR)/%.c,$(DRIVERS_OUT)/%,\
		 $(wildcard $(DRIVERS_DIR)/*.c))

SUITES += $(DRIVER_TESTS)

$(DRIVERS_OUT)/%: $(DRIVERS_DIR)/%.c $(C_HDRS) \
		$(wildcard include/linux/*/*.h) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(CWARN) -o $@ $< $(LIB) $(LDLIBS)
