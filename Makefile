# segd - network microsegmentation enforcer.
#
#   make          build build/segd, build/segctl and the BPF objects
#   make demo     install what is missing, build, run the demo node
#   make check    install what is missing, build, run every test
#   make bench    build and run tools/bench
#   make install  PREFIX=/usr/local DESTDIR= CNI_BIN_DIR=/opt/cni/bin
#                 SYSCONFDIR=/etc SYSTEMD_UNIT_DIR=$(PREFIX)/lib/systemd/system
#
# Package checks run first (tools/install-deps.sh), so every variable that
# asks pkg-config is recursive (=) and only expanded once they are there.

BUILD    ?= build
CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= bpftool
PREFIX   ?= /usr/local
DESTDIR  ?=
# where container runtimes look for CNI plugins (kubelet's default)
CNI_BIN_DIR ?= /opt/cni/bin
SYSCONFDIR  ?= /etc
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
BASH_COMPLETION_DIR ?= $(PREFIX)/share/bash-completion/completions

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

PKGS      = libbpf libxdp libmnl yaml-0.1 libevent
# core/ links only these: no libbpf, libxdp or libevent
CORE_PKGS = libmnl yaml-0.1
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude
# every object lists the headers it read in a .d beside it (make -include's them)
DEPFLAGS  = -MMD -MP
LDLIBS    = $(shell pkg-config --libs $(PKGS)) -lelf -lz
CORE_LDLIBS = $(shell pkg-config --libs $(CORE_PKGS))
TEST_LIBS = -lcriterion

BPF_CFLAGS = -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	     -Iinclude -Ibpf/lib -I$(BUILD)

# bpf/progs: the programs; bpf/lib: the header library they are made of
BPF_SRCS  := $(wildcard bpf/progs/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/progs/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/progs/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

# The include wall: core/ is built with its own rooms on the include path
# and nothing else, so a core file that includes a daemon header (or a BPF
# skeleton) does not build. The daemon sees core and its own rooms.
CORE_DIRS := $(patsubst %/,%,$(sort $(dir $(wildcard core/*/*.[ch]))))
DAEMON_DIRS := daemon $(patsubst %/,%,$(sort $(dir $(wildcard daemon/*/*.[ch]))))
CORE_INC  := $(addprefix -I,$(CORE_DIRS))
DAEMON_INC := $(CORE_INC) $(addprefix -I,$(DAEMON_DIRS)) -I$(BUILD)
CORE_SRCS := $(wildcard core/*/*.c)
CORE_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CORE_SRCS))
LIB_SRCS  := $(filter-out daemon/main.c,$(wildcard daemon/*.c daemon/*/*.c))
LIB_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
CLI_SRCS  := $(wildcard cli/*.c)
CLI_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(CLI_SRCS))
CLI_LIB_OBJS := $(filter-out $(BUILD)/cli/segctl.o,$(CLI_OBJS))
CNI_SRCS  := $(wildcard cni/*.c)
CNI_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(CNI_SRCS))
CNI_LIB_OBJS := $(filter-out $(BUILD)/cni/segd_cni.o,$(CNI_OBJS))
CNI_LIB_SRCS := $(filter-out cni/segd_cni.c,$(CNI_SRCS))

UNIT_SRCS := $(wildcard tests/unit/*.c)
BPFT_SRCS := $(filter-out %.bpf.c,$(wildcard tests/bpf/*.c))
BPFT_SKELS := $(patsubst tests/bpf/%.bpf.c,$(BUILD)/tests/%.skel.h,$(wildcard tests/bpf/*.bpf.c))
BENCH_SRCS := $(wildcard tools/bench/*.c)
BENCHES   := $(patsubst tools/bench/%.c,$(BUILD)/bench_%,$(BENCH_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS   := $(patsubst tests/fuzz/%.c,$(BUILD)/%,$(FUZZ_SRCS))

.PHONY: all deps demo check test unit bpf-test e2e conformance fuzz bench install clean
# a recipe that fails leaves no target behind (a failed `bpftool gen
# object` left an empty .bpf.o that the next run took as up to date)
.DELETE_ON_ERROR:
# BPF objects and skeletons are products, not intermediates: keep them
.SECONDARY: $(BPF_OBJS) $(SKELS) $(BUILD)/vmlinux.h $(BPFT_SKELS) $(BPFT_SKELS:.skel.h=.bpf.o)
all: $(BUILD)/segd $(BUILD)/segctl $(BUILD)/segd-cni

deps:
	@tools/install-deps.sh

$(BUILD):
	@mkdir -p $(BUILD)/daemon $(BUILD)/cli $(BUILD)/cni $(BUILD)/tests

# ---- BPF ---------------------------------------------------------------------
$(BUILD)/vmlinux.h: | $(BUILD)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/%.bpf.o: bpf/progs/%.bpf.c $(BUILD)/vmlinux.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -MF $@.d -MT $@ -c $< -o $@.tmp.o
	$(BPFTOOL) gen object $@ $@.tmp.o
	@rm -f $@.tmp.o

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# test-only BPF programs (tests/bpf/*.bpf.c), for build/test_bpf
$(BUILD)/tests/%.bpf.o: tests/bpf/%.bpf.c $(BUILD)/vmlinux.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -MF $@.d -MT $@ -c $< -o $@.tmp.o
	$(BPFTOOL) gen object $@ $@.tmp.o
	@rm -f $@.tmp.o

$(BUILD)/tests/%.skel.h: $(BUILD)/tests/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# ---- user space ------------------------------------------------------------
# Skeletons are generated headers: built before any object (order-only), after
# that the .d files say which objects read them.
$(BUILD)/%.o: %.c | $(BUILD)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

UNIT_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(UNIT_SRCS))
BPFT_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(BPFT_SRCS))
BENCH_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(BENCH_SRCS))
$(CORE_OBJS): CFLAGS += $(CORE_INC)
$(CLI_OBJS): CFLAGS += $(CORE_INC)
# the CNI plugin reuses segctl's client (cli/client.c) for the socket
$(CNI_OBJS): CFLAGS += $(CORE_INC) -Icli
$(LIB_OBJS) $(BUILD)/daemon/main.o: CFLAGS += $(DAEMON_INC)
$(UNIT_OBJS): CFLAGS += $(DAEMON_INC) -Icli -Icni -Itests
$(BPFT_OBJS): CFLAGS += $(DAEMON_INC) -Itests -I$(BUILD)/tests
$(BENCH_OBJS): CFLAGS += $(DAEMON_INC) -Itests
# skeletons are generated headers: there before any object that may read them
$(LIB_OBJS) $(BUILD)/daemon/main.o $(UNIT_OBJS) $(BENCH_OBJS): | $(SKELS)
$(BPFT_OBJS): | $(SKELS) $(BPFT_SKELS)

# archives are made afresh: a member whose source moved or went away must
# not linger in them
$(BUILD)/libsegd-core.a: $(CORE_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/libsegd.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

SEGD_LIBS := $(BUILD)/libsegd.a $(BUILD)/libsegd-core.a

$(BUILD)/segd: $(BUILD)/daemon/main.o $(SEGD_LIBS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# segctl and segd-cni link core only
$(BUILD)/segctl: $(CLI_OBJS) $(BUILD)/libsegd-core.a
	$(CC) $(CFLAGS) -o $@ $^ $(CORE_LDLIBS)

$(BUILD)/segd-cni: $(CNI_OBJS) $(BUILD)/cli/client.o $(BUILD)/libsegd-core.a
	$(CC) $(CFLAGS) -o $@ $^ $(CORE_LDLIBS)

$(BUILD)/test_unit: $(UNIT_OBJS) $(CLI_LIB_OBJS) $(CNI_LIB_OBJS) $(SEGD_LIBS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LIBS)

$(BUILD)/test_bpf: $(BPFT_OBJS) $(SEGD_LIBS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) $(TEST_LIBS)

$(BUILD)/bench_%: $(BUILD)/tools/bench/%.o $(SEGD_LIBS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer targets link the pure modules only, built again with sanitizers
# (objects under $(BUILD)/fuzz/).
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude $(CORE_INC) -Icni \
	      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_LIB_SRCS = $(CORE_SRCS) $(CNI_LIB_SRCS)
FUZZ_LIB_OBJS = $(patsubst %.c,$(BUILD)/fuzz/%.o,$(FUZZ_LIB_SRCS))
$(BUILD)/fuzz/%.o: %.c | $(BUILD)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_CFLAGS) $(DEPFLAGS) -c $< -o $@
$(BUILD)/fuzz_%: $(BUILD)/fuzz/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJS)
	$(CLANG) $(FUZZ_CFLAGS) -o $@ $^ -lyaml -lmnl

# generated dependencies (absent on a first build: then everything is built)
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- entry points ------------------------------------------------------------
demo: deps all
	tools/demo.sh

check: deps
	$(MAKE) all $(BUILD)/test_unit $(BUILD)/test_bpf $(FUZZERS) $(BENCHES)
	tests/run.sh

unit: $(BUILD)/test_unit
	$(BUILD)/test_unit

bpf-test: $(BUILD)/test_bpf
	$(BUILD)/test_bpf

e2e: all
	tests/e2e/run.sh

# upstream Kubernetes network policy and ClusterNetworkPolicy cases, real
# traffic (tests/conformance)
conformance: all
	tests/conformance/run.sh np; a=$$?; tests/conformance/run.sh cnp && exit $$a

fuzz: $(FUZZERS)
	tests/fuzz/run.sh

bench: all $(BENCHES)
	tools/bench/run.sh

# Paths baked into the units follow PREFIX; DESTDIR only stages the copy.
# An existing $(SYSCONFDIR)/segd/segd.yaml is kept.
# segd-k8s-sync goes to $(PREFIX)/bin beside segctl: operators (or a
# sidecar) run it in a pipeline after kubectl, so it belongs in PATH.
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(CNI_BIN_DIR)
	install -m 0755 $(BUILD)/segd $(DESTDIR)$(PREFIX)/sbin/segd
	install -m 0755 $(BUILD)/segctl $(DESTDIR)$(PREFIX)/bin/segctl
	install -m 0755 tools/segd-k8s-sync $(DESTDIR)$(PREFIX)/bin/segd-k8s-sync
	install -m 0755 $(BUILD)/segd-cni $(DESTDIR)$(CNI_BIN_DIR)/segd-cni
	install -d $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 0644 docs/man/segd.8 docs/man/segctl.8 docs/man/segd-cni.8 \
		docs/man/segd-k8s-sync.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 docs/man/segd-policy.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -d $(DESTDIR)$(BASH_COMPLETION_DIR)
	install -m 0644 tools/completion/segctl.bash $(DESTDIR)$(BASH_COMPLETION_DIR)/segctl
	install -d $(DESTDIR)$(PREFIX)/lib/segd $(DESTDIR)$(SYSTEMD_UNIT_DIR)
	install -m 0755 tools/fetch-feeds.sh $(DESTDIR)$(PREFIX)/lib/segd/fetch-feeds.sh
	for u in segd.service segd-feeds.service segd-feeds.timer; do \
		sed -e 's|/usr/local/|$(PREFIX)/|g' -e 's|/etc/segd/|$(SYSCONFDIR)/segd/|g' \
			tools/systemd/$$u > $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u && \
		chmod 0644 $(DESTDIR)$(SYSTEMD_UNIT_DIR)/$$u || exit 1; \
	done
	install -d $(DESTDIR)$(PREFIX)/share/doc/segd
	install -m 0644 README.md docs/*.md tools/segd.yaml.example $(DESTDIR)$(PREFIX)/share/doc/segd/
	install -d $(DESTDIR)$(SYSCONFDIR)/segd
	[ -e $(DESTDIR)$(SYSCONFDIR)/segd/segd.yaml ] || \
		install -m 0644 tools/segd.yaml.example $(DESTDIR)$(SYSCONFDIR)/segd/segd.yaml

clean:
	rm -rf $(BUILD)
