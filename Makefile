# aftermalloc - top-level Makefile.
#
#   make            build build/aftermalloc (installs missing Debian packages first)
#   make test       the whole Criterion suite (+ the scenario library)
#   make golden     rewrite tests/golden/ (what test_golden.c pins) from this build
#   make docs       rewrite the outputs quoted in README.md and docs/ from this build
#   make demo       build and run the main demo (viewer with a display, stepper without)
#   make bench      benchmarks, optimised build, table + build/bench/results.json
#   make install    PREFIX=/usr/local DESTDIR= (install-dev: the plugin headers alone)
#   make clean
#   CONF=debug|release (default debug)   SANITIZE=address,undefined
#
# Out-of-tree build in build/ (build/san-... for sanitizer builds), automatic
# header dependencies, -Wall -Wextra -Werror.

CONF ?= debug
SANITIZE ?=
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc

ifeq ($(SANITIZE),)
BUILD ?= build
else
BUILD ?= build/san
endif

# Debian packages the build, the tests and the demo need (pkg-config name or file -> package).
DEB_PACKAGES := pkg-config libcriterion-dev uthash-dev libsdl2-dev libsdl2-ttf-dev \
	libsdl2-image-dev libcjson-dev fonts-dejavu-core xvfb xauth xdotool strace \
	python3 sqlite3

PKGS := libcjson
SDL_PKGS := sdl2 SDL2_ttf SDL2_image

CFLAGS_COMMON := -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP -g \
	-D_GNU_SOURCE -I.
ifeq ($(CONF),release)
CFLAGS_COMMON += -O2 -DNDEBUG
else ifeq ($(CONF),debug)
CFLAGS_COMMON += -O1 -DAM_DEBUG=1
else
$(error CONF must be debug or release)
endif
ifneq ($(SANITIZE),)
CFLAGS_COMMON += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
SDL_CFLAGS = $(shell pkg-config --cflags $(SDL_PKGS) 2>/dev/null)
SDL_LIBS = $(shell pkg-config --libs $(SDL_PKGS) 2>/dev/null)
CRIT_CFLAGS = $(shell pkg-config --cflags criterion 2>/dev/null)
CRIT_LIBS = $(shell pkg-config --libs criterion 2>/dev/null)

# The model, and the front ends, a room each under demos/: cli/ (the command,
# the script language, replay), step/ (stepping, narration, quiz, exports) and
# view/ (the SDL viewer). The viewer's files alone see SDL.
MODEL_SRC := $(wildcard vm/*.c kernel_sim/*.c libc/*.c)
# The rooms that draw with SDL: the viewer, and the charts of replay --plot.
VIEW_SRC := $(wildcard demos/view/*.c demos/plot/*.c)
# demos/record/preload.c is not part of the binary: it is librecord.so, the
# LD_PRELOAD library `aftermalloc record` puts into real programs.
PRELOAD_SRC := demos/record/preload.c
FRONT_SRC := $(filter-out demos/cli/main.c $(PRELOAD_SRC),\
	$(wildcard demos/cli/*.c demos/step/*.c demos/record/*.c))
LIB_SRC := $(MODEL_SRC) $(FRONT_SRC)
TEST_SRC := $(wildcard tests/test_*.c tests/support_*.c)
HOST_PROBES := $(patsubst tests/host/%.c,$(BUILD)/host/%,$(wildcard tests/host/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
VIEW_OBJ := $(VIEW_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/demos/cli/main.o
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)

BIN := $(BUILD)/aftermalloc
# Beside the binary as installed: PREFIX/bin/aftermalloc, PREFIX/lib/aftermalloc/.
RECORD_LIB := $(BUILD)/lib/aftermalloc/librecord.so
UNIT := $(BUILD)/tests/unit
DEPS_STAMP := build/.deps-ok

.PHONY: all deps test golden docs demo bench install install-dev clean check-sdl format fuzz valgrind screenshots

all: $(BIN) $(RECORD_LIB)

# ---- dependencies: install from Debian's packages what is missing ----------
deps: $(DEPS_STAMP)
# $(call am_install_missing,PACKAGES): apt-get install those not installed
# (sudo when not root). Also used by tests/fuzz/fuzz.mk.
define am_install_missing
	@missing=""; \
	for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing missing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing || exit 1; \
	fi
endef

$(DEPS_STAMP): Makefile
	$(call am_install_missing,$(DEB_PACKAGES))
	@mkdir -p $(@D) && touch $@

# ---- build -----------------------------------------------------------------
$(VIEW_OBJ): $(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_COMMON) $(PKG_CFLAGS) $(SDL_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_COMMON) $(PKG_CFLAGS) $(CRIT_CFLAGS) $(SDL_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_COMMON) $(PKG_CFLAGS) $(CFLAGS) -c $< -o $@

# Plugins (policies of one's own, demos/cli/plugin.c) link against the policy
# interface the binary exports: libc/policy.syms.
EXPORT_LDFLAGS := -Wl,--dynamic-list=libc/policy.syms

$(BIN): $(MAIN_OBJ) $(LIB_OBJ) $(VIEW_OBJ) libc/policy.syms | check-sdl
	$(CC) $(LDFLAGS) $(EXPORT_LDFLAGS) -o $@ $(filter %.o,$^) $(PKG_LIBS) $(SDL_LIBS) -lm

# The preload library runs inside real programs: optimised whatever CONF is,
# and never sanitized (a sanitizer runtime cannot be preloaded after the
# program's own libc). Only glibc's own entry points, so no -ldl.
$(RECORD_LIB): $(PRELOAD_SRC) demos/record/record_log.h | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE \
	  -fPIC -shared -fvisibility=hidden -o $@ $(PRELOAD_SRC)

$(UNIT): $(TEST_OBJ) $(LIB_OBJ) $(VIEW_OBJ) libc/policy.syms
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) $(EXPORT_LDFLAGS) -o $@ $(filter %.o,$^) $(PKG_LIBS) $(SDL_LIBS) $(CRIT_LIBS) -lm

# Real C programs run on the host kernel and glibc: the oracle for fidelity tests.
# They link the trace reader (with util.c, the names it shows) and nothing else of the project;
# what they share is in header-only tests/host/*.h, listed to rebuild them.
$(BUILD)/host/%: tests/host/%.c $(wildcard demos/cli/trace.c demos/cli/util.c tests/host/*.h) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O1 -fno-builtin -Wl,-z,now -Wall -Wextra -Werror -D_GNU_SOURCE -I. -o $@ $(filter %.c,$^)

# Nothing outside the viewer (demos/view/) and the charts (demos/plot/) may
# include SDL.
check-sdl:
	@bad=$$(grep -lE '#[[:space:]]*include[[:space:]]*[<"]SDL' $$(ls vm/*.[ch] kernel_sim/*.[ch] libc/*.[ch] demos/*/*.[ch] 2>/dev/null | grep -v '^demos/view/' | grep -v '^demos/plot/') 2>/dev/null); \
	if [ -n "$$bad" ]; then echo "SDL included outside the viewer and the charts: $$bad" >&2; exit 1; fi

# ---- test ------------------------------------------------------------------
test: $(BIN) $(RECORD_LIB) $(UNIT) $(HOST_PROBES)
	AM_BIN=$(abspath $(BIN)) AM_HOST=$(abspath $(BUILD)/host) AM_ROOT=$(CURDIR) \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	  $(UNIT) --jobs=$$(nproc) $(TEST_ARGS)

# The outputs tests/test_golden.c pins, written again from this build: for a
# change that means to change behaviour (commit tests/golden/ with it).
golden: $(BIN) $(UNIT)
	@mkdir -p tests/golden
	AM_BIN=$(abspath $(BIN)) AM_ROOT=$(CURDIR) AM_GOLDEN_UPDATE=1 \
	  $(UNIT) --jobs=$$(nproc) --filter 'golden/*'

# Every ```console block of README.md and docs/*.md is run by make test
# (tests/test_docs.c); this rewrites in place the outputs that differ, from
# this build: review `git diff README.md docs/` and commit.
docs: $(BIN) $(RECORD_LIB) $(UNIT) $(HOST_PROBES)
	AM_BIN=$(abspath $(BIN)) AM_HOST=$(abspath $(BUILD)/host) AM_ROOT=$(CURDIR) AM_DOCS_UPDATE=1 \
	  $(UNIT) --filter 'docs/every_console_block*'

# ---- demo ------------------------------------------------------------------
DEMO_SCRIPT := demos/seed-walk.ams
demo: $(BIN)
	@if [ -n "$$DISPLAY" ] && $(BIN) view --help >/dev/null 2>&1; then \
	  $(BIN) view $(DEMO_SCRIPT); \
	elif [ -t 0 ]; then \
	  $(BIN) step $(DEMO_SCRIPT); \
	else \
	  $(BIN) run $(DEMO_SCRIPT); \
	fi

# The pictures of docs/: the viewer drawn headless at events it finds itself.
screenshots: $(BIN)
	demos/screenshots.sh $(BIN) docs/img

# ---- install / clean -------------------------------------------------------
# The command and librecord.so beside it (record finds it there), and for
# policies of one's own (plugins) the public headers and a pkg-config file:
# cc -shared -fPIC $(pkg-config --cflags aftermalloc) mm.c
install: $(BIN) $(RECORD_LIB) install-dev
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/aftermalloc
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/aftermalloc
	install -m 755 $(RECORD_LIB) $(DESTDIR)$(PREFIX)/lib/aftermalloc/

PUBLIC_HEADERS := libc/policy.h libc/memlib.h
install-dev:
	install -d $(DESTDIR)$(PREFIX)/include/aftermalloc $(DESTDIR)$(PREFIX)/share/pkgconfig
	install -m 644 $(PUBLIC_HEADERS) $(DESTDIR)$(PREFIX)/include/aftermalloc/
	sed -e 's|@PREFIX@|$(PREFIX)|' libc/aftermalloc.pc.in \
	  > $(DESTDIR)$(PREFIX)/share/pkgconfig/aftermalloc.pc

clean:
	rm -rf build

format:
	clang-format -i $$(ls vm/*.[ch] kernel_sim/*.[ch] libc/*.[ch] demos/*/*.[ch] tests/*.[ch] tests/*/*.[ch] 2>/dev/null)

# Benchmarks (make bench) and fuzzing/valgrind (make fuzz, make valgrind) live
# beside their sources (fuzz.mk first: bench.mk's bench-profile uses its
# valgrind install check).
-include tests/fuzz/fuzz.mk
-include tests/bench/bench.mk

-include $(LIB_OBJ:.o=.d) $(VIEW_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
