/*
 * test_probe.c - the event stream: sequence numbers, fields, the call stack
 * kept by calls and returns, unwinding, names and the one-line format.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <string.h>

#include "vm/probe.h"

#define MAX_EVENTS 128

static struct probe P;
static struct event got[MAX_EVENTS];
static unsigned ngot;

static void record(void *ctx, const struct event *ev)
{
	cr_assert_eq(ctx, &ngot);
	cr_assert_lt(ngot, MAX_EVENTS);
	got[ngot++] = *ev;
}

static void setup(void)
{
	probe_init(&P);
	ngot = 0;
}

TestSuite(probe, .init = setup);

Test(probe, without_a_sink_emitting_only_numbers_events)
{
	cr_assert_eq(EV(&P, LAYER_KERNEL, EV_NOTE, "x", NULL, {"a", 1}), 0);
	cr_assert_eq(EV(&P, LAYER_KERNEL, EV_NOTE, "x", NULL, {"a", 1}), 1);
	probe_call(&P, LAYER_KERNEL, "f", {"addr", 5});
	cr_assert_eq(probe_depth(&P), 1, "the depth is kept without a sink too");
	probe_ret(&P, LAYER_KERNEL, "f", {"ret", 0});
	cr_assert_eq(probe_depth(&P), 0);
	cr_assert_eq(probe_seq(&P), 4);
}

Test(probe, sink_receives_every_field_in_order)
{
	probe_set_sink(&P, record, &ngot);
	EV(&P, LAYER_KERNEL, EV_PTE_SET, "set_pte_at", "why", {"addr", 0x1000}, {"old", 0},
	   {"new", 0x5067});
	cr_assert_eq(ngot, 1);
	cr_assert_eq(got[0].seq, 0);
	cr_assert_eq(got[0].layer, LAYER_KERNEL);
	cr_assert_eq(got[0].kind, EV_PTE_SET);
	cr_assert_str_eq(got[0].fn, "set_pte_at");
	cr_assert_str_eq(got[0].text, "why");
	cr_assert_eq(got[0].nf, 3);
	cr_assert_str_eq(got[0].f[0].key, "addr");
	cr_assert_eq(got[0].f[2].val, 0x5067);
	cr_assert_eq(event_field(&got[0], "new", 0), 0x5067);
	cr_assert_eq(event_field(&got[0], "missing", 42), 42);
}

Test(probe, calls_nest_and_returns_have_the_callers_depth)
{
	probe_set_sink(&P, record, &ngot);
	probe_call(&P, LAYER_LIBC, "malloc", {"bytes", 100});
	probe_call(&P, LAYER_LIBC, "sysmalloc", {"nb", 112});
	EV(&P, LAYER_LIBC, EV_NOTE, "sysmalloc", "inside");
	probe_ret(&P, LAYER_LIBC, "sysmalloc", {"ret", 0});
	probe_ret(&P, LAYER_LIBC, "malloc", {"ret", 0x4000});
	cr_assert_eq(ngot, 5);
	cr_assert_eq(got[0].kind, EV_CALL);
	cr_assert_eq(got[0].depth, 0);
	cr_assert_eq(got[1].depth, 1);
	cr_assert_eq(got[2].depth, 2);
	cr_assert_eq(got[2].nf, 0);
	cr_assert_eq(got[3].kind, EV_RET);
	cr_assert_eq(got[3].depth, 1);
	cr_assert_eq(got[4].depth, 0);
	cr_assert_eq(event_field(&got[4], "ret", 0), 0x4000);
	cr_assert_eq(probe_depth(&P), 0);
}

/*
 * The stack and the checks on it hold in every build while a sink listens
 * (the steppers). With no sink only debug builds keep them (the tests' build;
 * the tests below that need none say so).
 */
Test(probe, stack_names_the_open_calls)
{
	probe_set_sink(&P, record, &ngot);
	probe_call(&P, LAYER_KERNEL, "exc_page_fault", {"addr", 1});
	probe_call(&P, LAYER_KERNEL, "handle_mm_fault", {"addr", 1});
	cr_assert_eq(probe_depth(&P), 2);
	cr_assert_str_eq(P.stack[0], "exc_page_fault");
	cr_assert_str_eq(P.stack[1], "handle_mm_fault");
	cr_assert_eq(P.stack_layer[1], LAYER_KERNEL);
}

Test(probe, return_from_a_call_that_is_not_innermost_panics, .signal = SIGABRT)
{
	probe_set_sink(&P, record, &ngot);
	probe_call(&P, LAYER_KERNEL, "outer", {"a", 0});
	probe_call(&P, LAYER_KERNEL, "inner", {"a", 0});
	probe_ret(&P, LAYER_KERNEL, "outer", {"ret", 0});
}

Test(probe, return_with_no_open_call_panics, .signal = SIGABRT)
{
	probe_set_sink(&P, record, &ngot);
	probe_ret(&P, LAYER_KERNEL, "f", {"ret", 0});
}

#ifndef NDEBUG
/* Debug builds check every return, sink or not: the model's own calls. */
Test(probe, without_a_sink_debug_builds_check_returns_too, .signal = SIGABRT)
{
	probe_call(&P, LAYER_KERNEL, "outer", {"a", 0});
	probe_call(&P, LAYER_KERNEL, "inner", {"a", 0});
	probe_ret(&P, LAYER_KERNEL, "outer", {"ret", 0});
}
#endif

Test(probe, return_matches_names_by_content)
{
	char name[] = "do_brk_flags"; /* another copy of the literal */

	probe_call(&P, LAYER_KERNEL, "do_brk_flags", {"a", 0});
	probe_ret(&P, LAYER_KERNEL, name, {"ret", 0});
	cr_assert_eq(probe_depth(&P), 0);
}

Test(probe, unwind_closes_open_calls_with_returns)
{
	probe_set_sink(&P, record, &ngot);
	probe_call(&P, LAYER_USER, "main", {"a", 0});
	probe_call(&P, LAYER_LIBC, "free", {"p", 8});
	probe_call(&P, LAYER_LIBC, "malloc_printerr", {"a", 0});
	ngot = 0;
	probe_unwind(&P, 1);
	cr_assert_eq(probe_depth(&P), 1);
	cr_assert_eq(ngot, 2);
	cr_assert_str_eq(got[0].fn, "malloc_printerr");
	cr_assert_eq(got[0].kind, EV_RET);
	cr_assert_eq(got[0].depth, 2);
	cr_assert_str_eq(got[1].fn, "free");
	cr_assert_eq(got[1].layer, LAYER_LIBC);
	cr_assert_eq(got[1].depth, 1);
	probe_unwind(&P, 5); /* already shallower: nothing */
	cr_assert_eq(ngot, 2);
	probe_ret(&P, LAYER_USER, "main", {"ret", 0});
	cr_assert_eq(probe_depth(&P), 0);
}

Test(probe, call_stack_overflow_panics, .signal = SIGABRT)
{
	probe_set_sink(&P, record, &ngot);
	for (int i = 0; i <= PROBE_MAX_DEPTH; i++)
		probe_call(&P, LAYER_KERNEL, "recurse", {"i", (uint64_t)i});
}

Test(probe, layer_and_kind_names)
{
	cr_assert_str_eq(probe_layer_name(LAYER_USER), "user");
	cr_assert_str_eq(probe_layer_name(LAYER_LIBC), "libc");
	cr_assert_str_eq(probe_layer_name(LAYER_KERNEL), "kernel");
	cr_assert_str_eq(probe_layer_name(LAYER_MMU), "mmu");
	cr_assert_str_eq(probe_layer_name(LAYER__COUNT), "?");
	cr_assert_str_eq(probe_kind_name(EV_CALL), "call");
	cr_assert_str_eq(probe_kind_name(EV_RET), "ret");
	cr_assert_str_eq(probe_kind_name(EV_FAULT), "fault");
	cr_assert_str_eq(probe_kind_name(EV_TLB_MISS), "tlb_miss");
	cr_assert_str_eq(probe_kind_name(EV_NOTE), "note");
	for (int k = 0; k < EV__COUNT; k++)
		cr_assert_str_neq(probe_kind_name(k), "?", "kind %d has no name", k);
	cr_assert_str_eq(probe_kind_name(-1), "?");
}

Test(probe, format_is_one_readable_line)
{
	char buf[160];

	probe_set_sink(&P, record, &ngot);
	for (int i = 0; i < 12; i++)
		EV(&P, LAYER_USER, EV_NOTE, "pad", NULL, {"i", (uint64_t)i});
	probe_call(&P, LAYER_KERNEL, "do_anonymous_page", {"addr", 0x555555559000}, {"order", 0});
	event_format(&got[12], buf, sizeof(buf));
	cr_assert_str_eq(buf, "#12 kernel  call do_anonymous_page addr=0x555555559000 order=0");
	EV(&P, LAYER_KERNEL, EV_RET, "x", "unwound", {"ret", (uint64_t)-1});
	event_format(&got[13], buf, sizeof(buf));
	cr_assert_str_eq(buf, "#13 kernel  ret x ret=-1 \"unwound\"");
	event_format(&got[12], buf, 10); /* truncated, still terminated */
	cr_assert_eq(strlen(buf), 9);
}

Test(probe, a_sink_does_not_change_the_numbering)
{
	struct probe q;

	probe_init(&q);
	probe_set_sink(&P, record, &ngot);
	for (int i = 0; i < 5; i++) {
		EV(&P, LAYER_MMU, EV_TLB_MISS, "page_walk", NULL, {"addr", (uint64_t)i});
		EV(&q, LAYER_MMU, EV_TLB_MISS, "page_walk", NULL, {"addr", (uint64_t)i});
	}
	cr_assert_eq(probe_seq(&P), probe_seq(&q));
	cr_assert_eq(got[4].seq, 4);
	probe_set_sink(&P, NULL, NULL);
	cr_assert_eq(EV(&P, LAYER_MMU, EV_NOTE, "x", NULL, {"a", 0}), 5);
	cr_assert_eq(ngot, 5);
}

/* What a sink sees of the probe itself while it handles each kind of event. */
static uint64_t seen_seq[MAX_EVENTS];
static unsigned seen_depth[MAX_EVENTS];

static void record_state(void *ctx, const struct event *ev)
{
	seen_seq[ngot] = probe_seq(&P);
	seen_depth[ngot] = probe_depth(&P);
	record(ctx, ev);
}

Test(probe, during_a_call_the_sink_sees_the_caller_and_the_next_number)
{
	probe_set_sink(&P, record_state, &ngot);
	probe_call(&P, LAYER_KERNEL, "f");
	EV(&P, LAYER_KERNEL, EV_NOTE, "f", NULL, {"a", 1});
	probe_ret(&P, LAYER_KERNEL, "f");
	cr_assert_eq(ngot, 3);
	/* the call: f not pushed yet (the steppers show the caller), number taken */
	cr_assert_eq(seen_depth[0], 0);
	cr_assert_eq(seen_seq[0], got[0].seq + 1);
	cr_assert_eq(seen_depth[1], 1);
	cr_assert_eq(seen_seq[1], got[1].seq + 1);
	/* the return: already popped */
	cr_assert_eq(seen_depth[2], 0);
	cr_assert_eq(seen_seq[2], got[2].seq + 1);
	cr_assert_eq(probe_seq(&P), 3);
	cr_assert_eq(probe_depth(&P), 0);
}

Test(probe, sink_or_none_the_same_numbers_and_depths)
{
	struct probe q;
	unsigned depth_q[MAX_EVENTS];
	uint64_t seq_q[MAX_EVENTS];
	unsigned n = 0;

	probe_init(&q);
	probe_set_sink(&P, record, &ngot);
	/* the same nest of calls, events and an unwind on both probes */
	for (int round = 0; round < 3; round++) {
		struct probe *ps[2] = {&P, &q};

		for (int i = 0; i < 2; i++) {
			struct probe *p = ps[i];

			probe_call(p, LAYER_KERNEL, "a");
			probe_call(p, LAYER_KERNEL, "b");
			EV(p, LAYER_MMU, EV_TLB_MISS, "page_walk", NULL, {"addr", 1});
			probe_ret(p, LAYER_KERNEL, "b");
			probe_call(p, LAYER_KERNEL, "c");
			probe_unwind(p, 0);
			if (i == 1) {
				seq_q[n] = probe_seq(p);
				depth_q[n++] = probe_depth(p);
			}
		}
		cr_assert_eq(probe_seq(&P), seq_q[n - 1]);
		cr_assert_eq(probe_depth(&P), depth_q[n - 1]);
	}
	cr_assert_eq(ngot, 3 * 7, "3 rounds of 7 events");
	for (unsigned i = 0; i < ngot; i++)
		cr_assert_eq(got[i].seq, i);
	cr_assert_eq(got[6].kind, EV_RET, "the unwind of a");
	cr_assert_eq(got[6].depth, 0);
	cr_assert_str_eq(got[6].fn, "a");
}

#ifdef NDEBUG
/* Release builds keep no stack without a sink: what was open reads "?". */
Test(probe, a_sink_attached_inside_calls_sees_them_unnamed)
{
	probe_call(&P, LAYER_KERNEL, "exc_page_fault");
	probe_call(&P, LAYER_KERNEL, "handle_mm_fault");
	probe_set_sink(&P, record, &ngot);
	cr_assert_eq(probe_depth(&P), 2);
	cr_assert_str_eq(P.stack[0], "?");
	cr_assert_str_eq(P.stack[1], "?");
	probe_ret(&P, LAYER_KERNEL, "handle_mm_fault"); /* no panic: unknown names match */
	cr_assert_eq(ngot, 1);
	cr_assert_str_eq(got[0].fn, "handle_mm_fault");
	cr_assert_eq(got[0].depth, 1);
}
#endif
