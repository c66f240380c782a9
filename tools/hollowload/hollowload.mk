# SPDX-License-Identifier: MIT
# hollowload: the hollow-node load generator (tools/hollowload/README.md).
# Included by the top Makefile; uses its OUTPUT, CC, CFLAGS, CLANG, Q, msg.
# Objects go to $(OUTPUT)/hl/ since $(OUTPUT)/hollowload is the program.

HL_SRCS      := $(wildcard tools/hollowload/*.c)
HL_LIB_SRCS  := $(filter-out tools/hollowload/hollowload.c,$(HL_SRCS))
HL_OBJS      := $(patsubst tools/hollowload/%.c,$(OUTPUT)/hl/%.o,$(HL_SRCS))
HL_LIB_OBJS  := $(patsubst tools/hollowload/%.c,$(OUTPUT)/hl/%.o,$(HL_LIB_SRCS))
HL_LDLIBS    := -lcurl -lm
HL_TEST_SRCS := $(wildcard tests/hollowload/test_*.c)
HL_TEST_BINS := $(patsubst tests/hollowload/%.c,$(OUTPUT)/tests/%,$(HL_TEST_SRCS))
HL_FUZZ_SRCS := $(wildcard tests/hollowload/fuzz_*.c)
HL_FUZZ_BINS := $(patsubst tests/hollowload/%.c,$(OUTPUT)/fuzz/%,$(HL_FUZZ_SRCS))
HL_FUZZ_OBJS := $(patsubst tools/hollowload/%.c,$(OUTPUT)/fuzz/hl/%.o,$(HL_LIB_SRCS))
HL_FUZZ_FLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Itools/hollowload

.PHONY: install-hollowload

all: $(OUTPUT)/hollowload
unit: $(HL_TEST_BINS)
fuzz: $(HL_FUZZ_BINS)
install: install-hollowload

$(OUTPUT)/hl $(OUTPUT)/fuzz/hl:
	$(Q)mkdir -p $@

$(OUTPUT)/hl/%.o: tools/hollowload/%.c | $(OUTPUT)/hl
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itools/hollowload -MMD -MP -c $< -o $@

$(OUTPUT)/hollowload: $(HL_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(HL_LDLIBS) -o $@

# Unit tests: tests/hollowload/test_*.c with the modules (not main)
$(HL_TEST_BINS): $(OUTPUT)/tests/%: tests/hollowload/%.c $(HL_LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itools/hollowload -Itests/unit -MMD -MP $< $(HL_LIB_OBJS) $(HL_LDLIBS) -o $@

# libFuzzer targets of the parsers of outside data
$(OUTPUT)/fuzz/hl/%.o: tools/hollowload/%.c | $(OUTPUT)/fuzz/hl
	$(call msg,CC-FUZZ,$@)
	$(Q)$(CLANG) $(HL_FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c $< -o $@

$(HL_FUZZ_BINS): $(OUTPUT)/fuzz/%: tests/hollowload/%.c $(HL_FUZZ_OBJS) | $(OUTPUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(HL_FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined $< $(HL_FUZZ_OBJS) $(HL_LDLIBS) -o $@

install-hollowload: $(OUTPUT)/hollowload
	install -D -m 0755 $(OUTPUT)/hollowload $(DESTDIR)$(BINDIR)/hollowload
	install -D -m 0644 tools/man/hollowload.1 $(DESTDIR)$(MANDIR)/man1/hollowload.1

-include $(wildcard $(OUTPUT)/hl/*.d $(OUTPUT)/fuzz/hl/*.d)
