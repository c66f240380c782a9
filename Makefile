# SPDX-License-Identifier: MIT
# cpprof build, in the shape of libbpf-bootstrap: an output directory,
# quiet rules (V=1 for verbose), BPF skeletons from bpftool, real header
# dependencies.
#
#   make              build build/cpprof
#   make deps         install build and test packages (root, Debian bookworm)
#   make test         unit tests, unit tests under ASan+UBSan, fuzz smoke, integration (root)
#   make bench        overhead, probe-cost, sampling, hollow-node and 10M-row report figures (root)
#   make demo         the README demo (root)
#   make fuzz         build libFuzzer targets into build/fuzz/

OUTPUT     ?= build
CLANG      ?= clang
BPFTOOL    ?= bpftool
CC         ?= gcc
ARCH       := x86
VMLINUX    := vmlinux/$(ARCH)/vmlinux.h

CFLAGS     ?= -g -O2
override CFLAGS += -Wall -Wextra -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE
# user/ is laid out by job (README: Layout); headers are included by name
USER_DIRS  := $(patsubst %/,%,$(wildcard user/*/))
INCLUDES   := -I$(OUTPUT) -Iinclude -Iuser $(addprefix -I,$(USER_DIRS))
LDLIBS     := -lbpf -ldw -lelf -lz -lsqlite3 -lcapstone -lcurl -lpthread -lm
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function \
              -I$(OUTPUT) -Iinclude -Ivmlinux/$(ARCH)

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
SKELS      := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
LIB_SRCS   := $(filter-out user/main.c,$(wildcard user/*.c user/*/*.c))
LIB_OBJS   := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(LIB_SRCS))
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(FUZZ_SRCS))

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.PHONY: all deps test unit unit-asan fuzz fuzz-smoke integration bench demo fixtures apiserver clean install

all: $(OUTPUT)/cpprof

deps:
	$(Q)tools/install_deps.sh

$(OUTPUT) $(OUTPUT)/user $(OUTPUT)/tests $(OUTPUT)/fuzz $(OUTPUT)/fuzz/user:
	$(Q)mkdir -p $@

# BPF objects and skeletons
$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(VMLINUX) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# Userspace: every module is compiled after the skeletons exist, since
# attach/collector include them.
$(OUTPUT)/user/%.o: user/%.c | $(OUTPUT)/user $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -MMD -MP -c $< -o $@

$(OUTPUT)/cpprof: $(OUTPUT)/user/main.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# Unit tests: one binary per tests/unit/test_*.c, linked with every module.
$(OUTPUT)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -Itests/unit -MMD -MP $< $(LIB_OBJS) $(LDLIBS) -o $@

unit: $(UNIT_BINS) $(OUTPUT)/cpprof fixtures
	$(Q)tests/run_unit.sh $(OUTPUT)

# The same unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
unit-asan:
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(OUTPUT)/asan \
		CFLAGS="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" \
		FIXTURES_DIR=$(abspath $(OUTPUT))/fixtures unit

# libFuzzer targets, built with clang, linked with clang-built modules.
$(OUTPUT)/fuzz/user/%.o: user/%.c | $(OUTPUT)/fuzz/user $(SKELS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer-no-link,address,undefined -std=gnu11 -D_GNU_SOURCE $(INCLUDES) -MMD -MP -c $< -o $@

FUZZ_LIB_OBJS := $(patsubst user/%.c,$(OUTPUT)/fuzz/user/%.o,$(LIB_SRCS))

$(OUTPUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJS) | $(OUTPUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -D_GNU_SOURCE $(INCLUDES) $< $(FUZZ_LIB_OBJS) $(LDLIBS) -o $@

fuzz: $(FUZZ_BINS)

fuzz-smoke: fuzz fixtures
	$(Q)tests/run_fuzz.sh $(OUTPUT) $${FUZZ_SECONDS:-20}

# Go test servers and clients, built with every Go toolchain installed.
FIXTURES_DIR ?= $(abspath $(OUTPUT))/fixtures
fixtures:
	$(Q)tests/fixtures/build.sh $(FIXTURES_DIR)

# A real Kubernetes API server (apiextensions-apiserver 1.36 from Debian
# sid's sources) for tests/integration/test_apiserver.py; incremental.
apiserver:
	$(Q)tests/apiserver/build.sh $(abspath $(OUTPUT))/apiserver

integration: $(OUTPUT)/cpprof $(OUTPUT)/hollowload fixtures apiserver
	$(Q)tests/integration/run.sh $(OUTPUT)

test:
	$(Q)tests/run_all.sh $(OUTPUT)

# Helper programs of tools/
$(OUTPUT)/probecost: tools/probecost/probecost.c $(LIB_OBJS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(INCLUDES) -MMD -MP $< $(LIB_OBJS) $(LDLIBS) -o $@

# Overhead, probe cost and CPU sampling (bench.py); hollow nodes per core and
# generator RSS (bench_hollow.py); report and diff on 10M rows (bench_report.py).
# make bench ROUNDS=2 SECS=4: a short run of bench.py (default 3 rounds of 8 s)
# bench.py ends with a soak of CPPROF_SOAK_SECS (default 300; CPPROF_SOAK_SECS=30 to try it)
ROUNDS ?= 3
SECS ?= 8
bench: $(OUTPUT)/cpprof $(OUTPUT)/probecost $(OUTPUT)/hollowload fixtures apiserver
	$(Q)python3 tools/bench.py $(OUTPUT) $(ROUNDS) $(SECS)
	$(Q)python3 tools/bench_hollow.py $(OUTPUT)
	$(Q)python3 tools/bench_report.py $(OUTPUT)

demo: $(OUTPUT)/cpprof $(OUTPUT)/hollowload fixtures
	$(Q)tools/demo.sh $(OUTPUT)

# GNU install directories: make install PREFIX=/usr DESTDIR=/tmp/pkg
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share/cpprof

install: $(OUTPUT)/cpprof
	install -D -m 0755 $(OUTPUT)/cpprof $(DESTDIR)$(BINDIR)/cpprof
	install -D -m 0644 tools/man/cpprof.8 $(DESTDIR)$(MANDIR)/man8/cpprof.8
	install -D -m 0644 tools/deploy/cpprof-daemonset.yaml $(DESTDIR)$(DATADIR)/deploy/cpprof-daemonset.yaml
	install -D -m 0644 tools/deploy/cpprof-static-pod.yaml $(DESTDIR)$(DATADIR)/deploy/cpprof-static-pod.yaml

clean:
	$(call msg,CLEAN)
	$(Q)rm -rf $(OUTPUT)

# Helper programs with their own rules (tools/hollowload/hollowload.mk, ...)
include $(wildcard tools/*/*.mk)

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/user/*.d $(OUTPUT)/user/*/*.d $(OUTPUT)/tests/*.d \
	$(OUTPUT)/fuzz/user/*.d $(OUTPUT)/fuzz/user/*/*.d)
