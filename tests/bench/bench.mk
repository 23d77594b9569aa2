# tests/bench/bench.mk - `make bench` (DESIGN.md, Benchmarks), included by the
# top-level Makefile.
#
#   make bench          build optimised, run every figure (the timed ones in 5
#                       passes, medians; BENCH_ARGS=--passes=N for more), print
#                       the table and write $(BENCH_DIR)/results.json
#   run_bench --report F.json...   the table of earlier runs again (the
#                       runs docs/performance.md shows are docs/bench/*.json)
#   make bench-scale    the slower sweeps of docs/performance.md: every policy on
#                       needle.rep (seed under a time budget), replay time vs
#                       trace length
#   make bench-profile  a demand-zero fault's instructions, phase by phase
#                       (callgrind; tests/bench/fault_profile.sh), into
#                       $(BENCH_DIR)/fault-profile.json; `run_bench --profile
#                       F.json...` prints such profiles side by side
#   make bench-zero     whether work beside a page's zeroing costs time
#                       (tests/bench/zero_overlap.c: the host alone)
#
# The model is compiled again, with -O2 -DNDEBUG whatever CONF says, into
# $(BENCH_DIR)/obj: a debug build in $(BUILD) and the bench build never share
# an object. Each figure is one small program (tests/bench/bench_*.c); the
# runner (tests/bench/run_bench.c) runs them, each in its own process, and
# gathers their JSON.

BENCH_DIR ?= build/bench
BENCH_TRACE ?= demos/traces/cmu/needle.rep
BENCH_TRACE_PATH = $(BENCH_TRACE)
BENCH_ARGS ?=
# plugin_vs_builtin_ratio: the seed plugin against the built-in seed on these
# (seed's slow traces, realloc and binary2, left out: the ratio is the same).
BENCH_LAB_TRACES ?= $(patsubst %,demos/traces/malloclab/%-bal.rep,amptjp cccp cp-decl expr random \
	random2 coalescing)

# best_vs_glibc_util_min: best against glibc on every trace of these folders.
BENCH_UTIL_TRACES ?= demos/traces/real demos/traces/malloclab demos/traces/cmu

BENCH_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP -g \
	-D_GNU_SOURCE -I. -O2 -DNDEBUG

# The model, and of the front ends only what replay_run needs.
BENCH_LIB_SRC := $(wildcard vm/*.c kernel_sim/*.c libc/*.c) demos/cli/replay.c demos/cli/trace.c \
	demos/cli/util.c demos/cli/options.c demos/cli/plugin.c demos/cli/plugin_guard.c \
	demos/cli/sandbox.c
BENCH_LIB_OBJ := $(BENCH_LIB_SRC:%.c=$(BENCH_DIR)/obj/%.o)
BENCH_PROGS := tlb copy fault buddy replay host_replay rss frame policies swap lab scale threads util fork
BENCH_BINS := $(BENCH_PROGS:%=$(BENCH_DIR)/bench_%)
BENCH_RUNNER := $(BENCH_DIR)/run_bench

.PHONY: bench bench-build bench-scale bench-profile bench-zero

bench: bench-build
	$(BENCH_RUNNER) --dir $(BENCH_DIR) --trace $(BENCH_TRACE_PATH) \
	  --lab-traces "$(BENCH_LAB_TRACES)" --record-lib $(abspath $(RECORD_LIB)) \
	  --util-traces "$(BENCH_UTIL_TRACES)" \
	  --out $(BENCH_DIR)/results.json $(BENCH_ARGS)

bench-scale: bench-build
	$(BENCH_RUNNER) --dir $(BENCH_DIR) --trace $(BENCH_TRACE_PATH) --scale \
	  --out $(BENCH_DIR)/scale.json $(BENCH_ARGS)

# valgrind is installed by its own check (tests/fuzz/fuzz.mk), as for make
# valgrind: the build, the tests and the demo do not need it.
bench-profile: $(BENCH_DIR)/bench_fault $(BENCH_RUNNER) | $(VALGRIND_DEPS_STAMP)
	tests/bench/fault_profile.sh $(BENCH_DIR) $(BENCH_DIR)/fault-profile.json
	$(BENCH_RUNNER) --profile $(BENCH_DIR)/fault-profile.json

bench-build: $(BENCH_BINS) $(BENCH_DIR)/bench_workloads $(BENCH_RUNNER) $(BENCH_DIR)/zero_overlap

# Whether work beside a page's zeroing costs time (docs/performance.md,
# "clear_page in parts"): the host alone, no model.
bench-zero: $(BENCH_DIR)/zero_overlap
	$(BENCH_DIR)/zero_overlap

$(BENCH_DIR)/zero_overlap: $(BENCH_DIR)/obj/tests/bench/zero_overlap.o
	$(CC) -o $@ $^ $(PKG_LIBS)

# docs/performance.md prints its runs' tables with `run_bench --report`
# (docs/bench/*.json): the doc test runs it, so the suite builds the runner
# (one small file, no model).
test docs: $(BENCH_RUNNER)

$(BENCH_DIR)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) $(PKG_CFLAGS) -c $< -o $@

# The host replayer links nothing of the model but the trace reader (and
# util.c, whose display_name its messages use).
$(BENCH_DIR)/bench_host_replay: $(BENCH_DIR)/obj/tests/bench/bench_host_replay.o \
		$(BENCH_DIR)/obj/demos/cli/trace.o $(BENCH_DIR)/obj/demos/cli/util.o
	$(CC) -o $@ $^ $(PKG_LIBS)

# gen and record as the command runs them, -O2 (tests/bench/bench_workloads.c);
# record preloads the build's librecord.so, made -O2 whatever CONF says.
# record.c's hash tables end through host_oom (vm/panic.c, which uses vm/hostmem.c).
BENCH_WORKLOADS_OBJ := $(patsubst %.c,$(BENCH_DIR)/obj/%.o,tests/bench/bench_workloads.c \
	demos/cli/gen.c demos/record/record.c demos/cli/trace.c demos/cli/util.c demos/cli/output.c \
	vm/panic.c vm/hostmem.c)
$(BENCH_DIR)/bench_workloads: $(BENCH_WORKLOADS_OBJ) $(RECORD_LIB)
	$(CC) -o $@ $(BENCH_WORKLOADS_OBJ) $(PKG_LIBS) -lm

$(BENCH_DIR)/run_bench: $(BENCH_DIR)/obj/tests/bench/run_bench.o
	$(CC) -o $@ $^ $(PKG_LIBS) -lm

$(BENCH_DIR)/bench_%: $(BENCH_DIR)/obj/tests/bench/bench_%.o $(BENCH_LIB_OBJ) libc/policy.syms
	$(CC) $(EXPORT_LDFLAGS) -o $@ $(filter %.o,$^) $(PKG_LIBS) -lm

-include $(wildcard $(BENCH_DIR)/obj/*/*.d $(BENCH_DIR)/obj/*/*/*.d)

# The programs' objects are intermediate files: keep them (no rebuild each time).
.PRECIOUS: $(BENCH_DIR)/obj/%.o
