# rt: `make <board>_defconfig && make` builds build/<board>/rt (static,
# stripped, for the board's CPU) and build/<board>/mkimage (for this host).
# `make help` lists the rest.

.DEFAULT_GOAL := all
VERSION := 0.1.0
PY := /usr/bin/python3
RT_CACHE ?= $(HOME)/.cache/rt
export RT_CACHE
# Shared test vectors (JSONTestSuite, Wycheproof) beside the checkout.
RT_TESTDATA ?= $(abspath $(CURDIR)/../shared/testdata)
export RT_TESTDATA

BOARDS := $(patsubst boards/%/board.mk,%,$(wildcard boards/*/board.mk))
# The current board is the last one given to <board>_defconfig.
BOARD ?= $(shell cat build/.board 2>/dev/null || echo qemu-armv7)
ifeq ($(filter $(BOARD),$(BOARDS)),)
$(error unknown board '$(BOARD)'; boards: $(BOARDS))
endif
export BOARD
O ?= build/$(BOARD)
CONFIG := $(O)/.config
KCONF := KCONFIG_CONFIG=$(CONFIG) BOARD=$(BOARD) $(PY) -m

include boards/$(BOARD)/board.mk

# `make V=1` shows the commands.
Q := $(if $(V),,@)
GIT_REV := $(shell git rev-parse --short=12 HEAD 2>/dev/null)

# --- configuration ---------------------------------------------------------

NOCONFIG_GOALS := help print-board demo setup clean distclean %_defconfig
ifneq ($(filter-out $(NOCONFIG_GOALS),$(or $(MAKECMDGOALS),all)),)
-include $(CONFIG)
endif

%_defconfig:
	@test -f boards/$*/board.mk || { echo "no board '$*'; boards: $(BOARDS)" >&2; exit 1; }
	@mkdir -p build/$*
	@KCONFIG_CONFIG=build/$*/.config BOARD=$* $(PY) -m defconfig --kconfig Kconfig boards/$*/defconfig >/dev/null
	@echo $* > build/.board
	@echo "configured build/$*/.config for board $*"

# A build dir without a configuration starts from the board's defconfig, or
# with DEFCONFIG=allno from everything optional off.
DEFCONFIG ?= boards/$(BOARD)/defconfig
$(CONFIG): Kconfig $(filter-out allno,$(DEFCONFIG))
	@mkdir -p $(O)
	@if [ -f $@ ]; then $(KCONF) olddefconfig Kconfig >/dev/null; \
	 elif [ "$(DEFCONFIG)" = allno ]; then $(KCONF) allnoconfig Kconfig >/dev/null; \
	 else $(KCONF) defconfig --kconfig Kconfig $(DEFCONFIG) >/dev/null; fi
	@touch $@

menuconfig: | $(CONFIG)
	$(KCONF) menuconfig Kconfig
olddefconfig: | $(CONFIG)
	$(KCONF) olddefconfig Kconfig
savedefconfig: | $(CONFIG)
	$(KCONF) savedefconfig --kconfig Kconfig --out $(O)/defconfig
	@echo "wrote $(O)/defconfig (copy it to boards/$(BOARD)/defconfig to keep it)"
# Everything optional off: the smallest rt (what `make sizes` starts from).
allnoconfig:
	@mkdir -p $(O)
	@$(KCONF) allnoconfig Kconfig >/dev/null

$(O)/config.h: $(CONFIG)
	@$(KCONF) genconfig --header-path $@.tmp Kconfig
	@{ cat $@.tmp; \
	   echo '#define RT_VERSION "$(VERSION)"'; \
	   echo '#define RT_GIT_REV "$(GIT_REV)"'; \
	   echo '#define RT_ARCH "$(ARCH)"'; } > $@.new && rm -f $@.tmp
	@cmp -s $@.new $@ && rm -f $@.new || mv $@.new $@

# --- toolchain -------------------------------------------------------------

SYSROOT := $(RT_CACHE)/$(ARCH)
HOSTROOT := $(RT_CACHE)/x86_64
UNITROOT := $(RT_CACHE)/host
CC_T := $(SYSROOT)/bin/cc
CC_H := $(HOSTROOT)/bin/cc
STRIP_T := $(TRIPLE)-strip

ifeq ($(CONFIG_DEBUG),y)
OPT := -O0 -g
STRIP_CMD := cp
else
OPT := -Os
STRIP_CMD := $(STRIP_T) --strip-all -R .comment -R .note.gnu.build-id
endif
WERROR ?= -Werror
WARN := -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wvla -Wformat=2 -Wno-format-nonliteral
BASE_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -ffunction-sections -fdata-sections \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fno-ident \
	-fstack-protector-strong -MMD -MP
CFLAGS_T := $(BASE_CFLAGS) $(OPT) $(BOARD_CFLAGS) -I$(O) -Irt
LDFLAGS_T := -static -Wl,--gc-sections -Wl,-z,noexecstack -Wl,--build-id=none $(BOARD_LDFLAGS)

# Dependencies are built once per architecture into $(RT_CACHE).
$(sort $(SYSROOT) $(HOSTROOT) $(UNITROOT)):
	@mkdir -p $@
$(addsuffix /.complete,$(sort $(SYSROOT) $(HOSTROOT) $(UNITROOT))): boards/deps.sh
	@sh boards/deps.sh $(notdir $(patsubst %/,%,$(dir $@)))

# --- what goes into rt and mkimage ----------------------------------------

# Modules every build has; features add theirs below.
rt-y := main.o cli.o err.o io.o path.o json.o ctl.o logring.o lifecycle.o container.o supervise.o serve.o client.o cli_run.o cli_container.o cli_volume.o cli_reload.o incoming.o conf.o sandbox.o ns.o mount.o caps.o user.o
rt-y += tar.o sha256.o store.o manifest.o image.o image_store.o unpack.o archive.o cli_image.o cli_info.o
rt-$(CONFIG_SIGNATURES) += trust.o cli_trust.o sign.o b64.o
rt-$(CONFIG_NET_BRIDGE) += net.o netconf.o netlink.o nft.o tbuf.o cli_network.o
rt-$(CONFIG_PUBLISH) += proxy.o
rt-$(CONFIG_CGROUPS) += cgroup.o
rt-$(CONFIG_TTY) += pty.o
rt-$(CONFIG_HEALTHCHECK) += health.o supervise_health.o
rt-$(CONFIG_INIT) += init.o
rt-$(CONFIG_PULL) += registry.o http.o cli_pull.o
rt-$(CONFIG_TLS) += tls.o
rt-$(CONFIG_UPDATE) += update.o cli_update.o
LIBS-y := -lbearssl
LIBS-$(CONFIG_SIGNATURES) += -lbearssl
LIBS-$(CONFIG_TLS) += -lbearssl
LIBS-$(CONFIG_GZIP) += -lz

# Public keys compiled in (CONFIG_TRUST_KEYS), as a header for cli_trust.c.
TRUST_KEY_FILES := $(strip $(patsubst "%",%,$(CONFIG_TRUST_KEYS)))
$(O)/trust_keys.h: $(CONFIG) $(TRUST_KEY_FILES) boards/embed-keys.sh
	@sh boards/embed-keys.sh $@ $(TRUST_KEY_FILES)
$(O)/obj/rt/cli_trust.o build/unit/obj/cli_trust.o build/fuzz/obj/cli_trust.o: $(O)/trust_keys.h

# Modules mkimage shares with rt (never including config.h).
mkimage-rt := err.o io.o path.o json.o tar.o sha256.o sign.o b64.o trust.o conf.o
mkimage-y := main.o keygen.o build.o layer.o layout.o jcopy.o sigs.o inspect.o flash.o cpio.o

RT_OBJS := $(addprefix $(O)/obj/rt/,$(rt-y))
MK_OBJS := $(addprefix $(O)/obj/host/mkimage/,$(mkimage-y)) $(addprefix $(O)/obj/host/rt/,$(mkimage-rt))

all: $(O)/rt $(O)/mkimage
rt: $(O)/rt
mkimage: $(O)/mkimage

$(O)/obj/rt/%.o: rt/%.c $(O)/config.h | $(SYSROOT)/.complete
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC_T) $(CFLAGS_T) -c -o $@ $<

$(O)/rt: $(RT_OBJS) | $(SYSROOT)/.complete
	$(Q)$(CC_T) $(CFLAGS_T) $(LDFLAGS_T) -o $@.unstripped $(RT_OBJS) $(sort $(LIBS-y))
	$(Q)$(STRIP_CMD) $@.unstripped $(if $(filter cp,$(STRIP_CMD)),,-o) $@
	@ls -l $@ | awk '{ print "  rt for $(BOARD): " $$5 " bytes" }'

CFLAGS_H := $(BASE_CFLAGS) -Os -I$(O) -Irt -Imkimage
$(O)/obj/host/%.o: %.c $(O)/config.h | $(HOSTROOT)/.complete
	@mkdir -p $(@D)
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(CC_H) $(CFLAGS_H) -c -o $@ $<

$(O)/mkimage: $(MK_OBJS) | $(HOSTROOT)/.complete
	$(Q)$(CC_H) $(CFLAGS_H) -static -Wl,--gc-sections -s -o $@ $(MK_OBJS) -lbearssl -lz

-include $(RT_OBJS:.o=.d) $(MK_OBJS:.o=.d)

# --- tests -----------------------------------------------------------------

# Unit tests: native glibc build with sanitizers, every module but main.c,
# against the current configuration (`make test` uses x86_64's).
UNIT := build/unit
# In a git checkout, only committed-or-added files: work in progress in the
# tree does not break everyone's test run.
TRACKED = $(or $(shell git ls-files $(1) 2>/dev/null),$(wildcard $(1)))
UNIT_SRCS := $(filter-out rt/main.c,$(call TRACKED,rt/*.c))
UNIT_OBJS := $(patsubst rt/%.c,$(UNIT)/obj/%.o,$(UNIT_SRCS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(UNIT)/%,$(call TRACKED,tests/unit/test_*.c))
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -g -O1 $(SAN) -I$(O) -Irt \
	-I$(UNITROOT)/include -MMD -MP

$(UNIT)/obj/%.o: rt/%.c $(O)/config.h | $(UNITROOT)/.complete
	@mkdir -p $(@D)
	@$(if $(Q),echo "  UNITCC  $@")
	$(Q)gcc $(UNIT_CFLAGS) -c -o $@ $<
$(UNIT)/librt.a: $(UNIT_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^
$(UNIT)/test_%: tests/unit/test_%.c tests/unit/tap.h $(UNIT)/librt.a
	@$(if $(Q),echo "  UNITLD  $@")
	$(Q)gcc $(UNIT_CFLAGS) -o $@ $< $(UNIT)/librt.a -L$(UNITROOT)/lib -lbearssl -lz
-include $(UNIT_OBJS:.o=.d)

unit: $(UNIT_TESTS)

# Fuzzing: libFuzzer with clang, ASan and UBSan, one target per parser in
# tests/fuzz/fuzz_<name>.c, seeds made by tests/fuzz/seeds.py.
FUZZ := build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_OBJS := $(patsubst rt/%.c,$(FUZZ)/obj/%.o,$(UNIT_SRCS))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ)/%,$(call TRACKED,tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE -g -O1 $(SAN) -I$(O) -Irt -I$(UNITROOT)/include -MMD -MP

$(FUZZ)/obj/%.o: rt/%.c $(O)/config.h | $(UNITROOT)/.complete
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $@")
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(FUZZ)/librt.a: $(FUZZ_OBJS)
	@rm -f $@
	$(Q)ar rcs $@ $^
$(FUZZ)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ)/librt.a
	@$(if $(Q),echo "  FUZZLD  $@")
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ)/librt.a \
		-L$(UNITROOT)/lib -lbearssl -lz
$(FUZZ)/seeds: tests/fuzz/seeds.py
	@rm -rf $@ && $(PY) tests/fuzz/seeds.py $@
-include $(FUZZ_OBJS:.o=.d)

fuzz-build: $(FUZZ_BINS) $(FUZZ)/seeds

# Each target for FUZZ_SECONDS, growing its corpus in build/fuzz/corpus;
# a crash leaves its input in build/fuzz/crashes and fails the run.
fuzz: fuzz-build
	@mkdir -p $(FUZZ)/crashes
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); \
	   mkdir -p $(FUZZ)/corpus/$$n $(FUZZ)/seeds/$$n; \
	   echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
	   $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(FUZZ)/crashes/$$n- \
	      $(FUZZ)/corpus/$$n $(FUZZ)/seeds/$$n > $(FUZZ)/$$n.log 2>&1; rc=$$?; \
	   grep -E '^(stat::number_of_executed_units|==|SUMMARY)' $(FUZZ)/$$n.log; \
	   test $$rc = 0 || exit 1; done; \
	 ! ls $(FUZZ)/crashes/* >/dev/null 2>&1 || { echo "fuzz: crashes in $(FUZZ)/crashes" >&2; exit 1; }

# Boards whose rt the test suite runs (the foreign ones under qemu-user).
TEST_BOARDS := x86_64 qemu-armv7 qemu-mipsel qemu-aarch64

test: setup-check
	@for b in $(TEST_BOARDS); do \
	   $(MAKE) --no-print-directory BOARD=$$b O=build/$$b all || exit 1; done
	@$(MAKE) --no-print-directory BOARD=x86_64 O=build/x86_64-min DEFCONFIG=allno all
	@mkdir -p build/x86_64-keys
	@test -f build/x86_64-keys/test.pub || build/x86_64/mkimage keygen -o build/x86_64-keys/test >/dev/null
	@echo 'CONFIG_TRUST_KEYS="build/x86_64-keys/test.pub"' > build/x86_64-keys/defconfig
	@$(MAKE) --no-print-directory BOARD=x86_64 O=build/x86_64-keys \
		DEFCONFIG=build/x86_64-keys/defconfig rt
	@mkdir -p build/x86_64-keep && echo 'CONFIG_KEEP_BLOBS=y' > build/x86_64-keep/defconfig
	@$(MAKE) --no-print-directory BOARD=x86_64 O=build/x86_64-keep \
		DEFCONFIG=build/x86_64-keep/defconfig rt
	@$(MAKE) --no-print-directory BOARD=x86_64 unit fuzz-build
	@prove --timer --exec '' $(UNIT_TESTS) $(call TRACKED,tests/integration/*.t) $(call TRACKED,tests/hostile/*.t) $(call TRACKED,tests/boards/*.t) tests/fuzz/regress.t

# --- setup, sizes, lint ------------------------------------------------------

setup:
	@sh boards/setup.sh
setup-check:
	@sh boards/setup.sh --quiet

sizes:
	@sh boards/sizes.sh

bench: ; @sh tests/bench/run.sh

LINT_SRCS = $(call TRACKED,rt/*.c) $(call TRACKED,mkimage/*.c)
lint: $(O)/config.h
	cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability \
		--inline-suppr -D__linux__ -D__CPPCHECK__ -I$(O) -Irt $(LINT_SRCS)
	clang-tidy --quiet $(LINT_SRCS) -- -std=gnu11 -D_GNU_SOURCE \
		-I$(O) -Irt -Imkimage -I$(UNITROOT)/include

clean:
	rm -rf build
distclean: clean
	rm -rf $(RT_CACHE)

# Build the demo firmware for a QEMU board and boot it (BOARD=qemu-armv7 by
# default; qemu-mipsel and qemu-aarch64 work the same).
DEMO_BOARD := $(if $(filter qemu-%,$(BOARD)),$(BOARD),qemu-armv7)
demo: setup-check
	@sh boards/demo.sh run $(DEMO_BOARD)

# The board's description for scripts: `eval "$(make -s print-board)"`.
print-board:
	@printf "%s='%s'\n" BOARD '$(BOARD)' ARCH '$(ARCH)' GUEST_ARCH '$(GUEST_ARCH)' \
		GUEST_KERNEL '$(GUEST_KERNEL)' GUEST_MODULES '$(GUEST_MODULES)' \
		QEMU_SYSTEM '$(QEMU_SYSTEM)' QEMU_CONSOLE '$(QEMU_CONSOLE)' \
		QEMU_DISK '$(QEMU_DISK)' QEMU_DATA_DEV '$(QEMU_DATA_DEV)' \
		QEMU_NET '$(QEMU_NET)' PLATFORM '$(PLATFORM)'

help:
	@echo "make <board>_defconfig  choose a board ($(BOARDS))"
	@echo "make menuconfig         change features of the current board ($(BOARD))"
	@echo "make olddefconfig | savedefconfig | allnoconfig"
	@echo "make                    build/$(BOARD)/rt and build/$(BOARD)/mkimage"
	@echo "make demo               boot the demo firmware of a QEMU board (BOARD=qemu-armv7)"
	@echo "make test               unit, integration and qemu-user tests (runs make setup)"
	@echo "make sizes              size of rt per board and of each feature"
	@echo "make lint               cppcheck and clang-tidy"
	@echo "make setup              install the Debian packages the build and tests need"

.PHONY: all rt mkimage menuconfig olddefconfig savedefconfig allnoconfig unit test \
	setup setup-check sizes lint clean distclean help fuzz fuzz-build demo bench
