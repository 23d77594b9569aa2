# tests/fuzz/fuzz.mk - `make fuzz` and `make valgrind` (included by the
# top-level Makefile).
#
#   make fuzz [FUZZ_SECONDS=60]   build the libFuzzer harnesses with clang
#                                 (-fsanitize=fuzzer,address,undefined) into
#                                 build/fuzz/ and run each for FUZZ_SECONDS
#   make fuzz-build               only build them
#   make fuzz-smoke               the same for FUZZ_SMOKE_SECONDS (15) each:
#                                 the CI-sized run .ci/run makes
#   make valgrind                 the scenario library under valgrind memcheck:
#                                 no error, no definite or indirect leak
#
# Harnesses (tests/fuzz/fuzz_NAME.c, decoding in tests/fuzz/fuzz_decode.h):
#   script  the scenario parser     corpus tests/fuzz/corpus/script/ (+ demos/*.ams)
#   trace   the trace reader        corpus tests/fuzz/corpus/trace/
#   ops     operation sequences on the kernel and every malloc policy
#                                   corpus tests/fuzz/corpus/ops/
#   run     whole scripts run by `aftermalloc run` with every output path
#                                   corpus tests/fuzz/corpus/run/ (+ the demos)
#   options command lines of run, replay, quiz, gen and step
#                                   corpus tests/fuzz/corpus/options/
# (what each does with an input: fuzz_decode.h, fuzz_cmd.h)
# libFuzzer adds what it finds to build/fuzz/corpus/NAME/ (the tree's corpus is
# only read). A crash is written to build/fuzz/crashes/NAME/ and fails the run:
# fix it, then copy the file into tests/fuzz/regress/NAME/, where
# tests/test_regress.c replays it in `make test`.
#
# Only these targets need clang and valgrind: each has its own install check
# (Debian packages), separate from the project's `deps`.

FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 15
FUZZ_CC ?= clang-14
FUZZ_BUILD ?= build/fuzz
FUZZ_NAMES := script trace ops run options
FUZZ_DEB_PACKAGES := clang-14 libclang-rt-14-dev
FUZZ_DEPS_STAMP := $(FUZZ_BUILD)/.deps-ok
VALGRIND_DEB_PACKAGES := valgrind
VALGRIND_DEPS_STAMP := $(BUILD)/.valgrind-deps-ok

# Not -Werror: clang's warnings differ from gcc's, and the fuzz build must not
# break on a warning that the project's gcc build does not have.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE -I. \
	-fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
	-DAM_DEBUG=1
# What the harnesses reach: the model and the commands (run, replay, quiz,
# gen, step and all they use, with replay --plot's charts); not the viewer.
FUZZ_LIB_SRC := $(MODEL_SRC) $(FRONT_SRC) $(wildcard demos/plot/*.c)
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_BINS := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-smoke fuzz-deps valgrind valgrind-deps

# ---- install checks (am_install_missing is the top-level Makefile's) -----
fuzz-deps: $(FUZZ_DEPS_STAMP)
$(FUZZ_DEPS_STAMP): tests/fuzz/fuzz.mk
	$(call am_install_missing,$(FUZZ_DEB_PACKAGES))
	@mkdir -p $(@D) && touch $@

valgrind-deps: $(VALGRIND_DEPS_STAMP)
$(VALGRIND_DEPS_STAMP): tests/fuzz/fuzz.mk
	$(call am_install_missing,$(VALGRIND_DEB_PACKAGES))
	@mkdir -p $(@D) && touch $@

# ---- fuzzing ---------------------------------------------------------------
$(FUZZ_BUILD)/obj/%.o: %.c tests/fuzz/coverage-ignore.txt | $(FUZZ_DEPS_STAMP) $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link \
	  -fsanitize-coverage-ignorelist=tests/fuzz/coverage-ignore.txt -MMD -MP $(PKG_CFLAGS) $(SDL_CFLAGS) -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_decode.h tests/fuzz/fuzz_cmd.h $(FUZZ_LIB_OBJ) | $(FUZZ_DEPS_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(EXPORT_LDFLAGS) -o $@ $< $(FUZZ_LIB_OBJ) $(PKG_LIBS) $(SDL_LIBS) -lm

# The objects are made by a chain of pattern rules: without this make would
# delete them as intermediate files after each link, and rebuild them all
# on the next `make fuzz`.
.SECONDARY: $(FUZZ_LIB_OBJ)

fuzz-build: $(FUZZ_BINS)

# Each harness in turn for FUZZ_SECONDS; the table at the end gives the
# executions. The exit status is that of the first harness that failed.
# libFuzzer gets its directories as absolute paths: the options harness runs
# each command in a scratch directory (fuzz_cmd.h), and libFuzzer may write
# there meanwhile (a timeout's input, from its alarm) or read its corpus.
fuzz: $(FUZZ_BINS)
	@status=0; summary=""; \
	for n in $(FUZZ_NAMES); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$n $(FUZZ_BUILD)/crashes/$$n; \
	  if [ $$n = script ]; then cp demos/*.ams demos/crash/*.ams $(FUZZ_BUILD)/corpus/$$n/ 2>/dev/null; fi; \
	  rss=2048; [ $$n = run ] || [ $$n = options ] && rss=4096; \
	  echo "== fuzz_$$n for $(FUZZ_SECONDS) s"; \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(FUZZ_BUILD)/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -timeout=20 -rss_limit_mb=$$rss \
	    -max_len=2048 -print_final_stats=1 \
	    -artifact_prefix=$(abspath $(FUZZ_BUILD))/crashes/$$n/ \
	    $(abspath $(FUZZ_BUILD))/corpus/$$n $(abspath tests/fuzz/corpus)/$$n > $(FUZZ_BUILD)/$$n.log 2>&1; \
	  rc=$$?; \
	  execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_BUILD)/$$n.log | tail -1); \
	  cov=$$(grep -o 'cov: [0-9]*' $(FUZZ_BUILD)/$$n.log | tail -1); \
	  summary="$$summary$$(printf '%-8s %12s execs  %-12s exit %d' $$n "$${execs:-?}" "$$cov" $$rc)\n"; \
	  if [ $$rc != 0 ]; then \
	    tail -40 $(FUZZ_BUILD)/$$n.log; \
	    echo "fuzz_$$n FAILED: input in $(FUZZ_BUILD)/crashes/$$n/ (log $(FUZZ_BUILD)/$$n.log);"; \
	    echo "  reproduce: $(FUZZ_BUILD)/fuzz_$$n FILE; after the fix copy FILE to tests/fuzz/regress/$$n/"; \
	    [ $$status = 0 ] && status=$$rc; \
	  fi; \
	done; \
	echo "== fuzz summary ($(FUZZ_SECONDS) s each)"; printf "$$summary"; \
	exit $$status

# CI's smoke: every harness, briefly (the corpora in the tree seed them).
fuzz-smoke:
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

# ---- valgrind --------------------------------------------------------------
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect

# Every scenario: demos/*.ams must exit 0, demos/crash/*.ams exit 1; any
# memcheck error or leak makes valgrind exit 99 instead.
valgrind: $(BIN) | $(VALGRIND_DEPS_STAMP)
	@fail=0; n=0; \
	for f in demos/*.ams demos/crash/*.ams; do \
	  case $$f in demos/crash/*) want=1 ;; *) want=0 ;; esac; \
	  $(VALGRIND) $(BIN) run $$f > $(BUILD)/valgrind.out 2> $(BUILD)/valgrind.err; rc=$$?; \
	  n=$$((n + 1)); \
	  if [ $$rc != $$want ]; then \
	    echo "valgrind: $$f: exit $$rc, expected $$want"; cat $(BUILD)/valgrind.err; fail=$$((fail + 1)); \
	  else \
	    echo "valgrind: $$f: ok (exit $$rc)"; \
	  fi; \
	done; \
	echo "valgrind: $$((n - fail)) passed, $$fail failed"; \
	[ $$fail = 0 ]

-include $(FUZZ_LIB_OBJ:.o=.d)
