/*
 * probe.c - the event stream and the modelled call stack.
 *
 * Every step of the path is one struct event handed to the sink (the stepper,
 * the viewer, the exporters, the tests). Without a sink an event costs one
 * counter increment (probe.h): the hot paths of the machine count instead of
 * emitting (struct probe_counters).
 */
#include "probe.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hostmem.h"
#include "panic.h"

/* A text kept until probe_fini (probe.h, texts). */
struct probe_text {
	struct probe_text *next;
	char s[];
};

void probe_init(struct probe *p)
{
	memset(p, 0, sizeof(*p));
}

void probe_fini(struct probe *p)
{
	while (p->texts) {
		struct probe_text *t = p->texts;

		p->texts = t->next;
		hostmem_free(t);
	}
}

const char *probe_keep_text(struct probe *p, const char *s)
{
	size_t n = strlen(s);
	struct probe_text *t = hostmem_malloc(sizeof(*t) + n + 1);

	if (!t)
		host_oom("an event's text");
	memcpy(t->s, s, n + 1);
	t->next = p->texts;
	p->texts = t;
	return t->s;
}

/* What the stack holds for calls opened before a sink was attached (release builds). */
static const char probe_unknown_fn[] = "?";

void probe_set_sink(struct probe *p, probe_sink_t sink, void *ctx)
{
#ifdef NDEBUG
	/* The stack was not kept without a sink: name what is open unknown. */
	if (sink && !p->sink)
		for (unsigned i = 0; i < probe_depth(p) && i < PROBE_MAX_DEPTH; i++) {
			p->stack[i] = probe_unknown_fn;
			p->stack_layer[i] = LAYER_KERNEL;
		}
#endif
	p->sink = sink;
	p->sink_ctx = ctx;
}

/* Build the event and hand it to the sink. */
static void deliver(struct probe *p, uint64_t seq, unsigned depth, int layer, int kind,
                    const char *fn, const char *text, const struct ev_field *f, unsigned nf)
{
	struct event ev;

	if (nf > EV_MAX_FIELDS)
		panic("%s: %u fields, at most %d", fn ? fn : "?", nf, EV_MAX_FIELDS);
	ev.seq = seq;
	ev.layer = (uint8_t)layer;
	ev.kind = (uint8_t)kind;
	ev.depth = (uint16_t)depth;
	ev.fn = fn;
	ev.text = text;
	ev.nf = (uint8_t)nf;
	if (nf)
		memcpy(ev.f, f, nf * sizeof(*f));
	p->sink(p->sink_ctx, &ev);
}

/* While the sink runs, the event is counted: probe_seq is already the next one. */
uint64_t probe_deliver(struct probe *p, int layer, int kind, const char *fn, const char *text,
                       const struct ev_field *f, unsigned nf)
{
	uint64_t seq = probe_count(p);

	if (p->sink)
		deliver(p, seq, probe_depth(p), layer, kind, fn, text, f, nf);
	return seq;
}

void probe_call_f(struct probe *p, int layer, const char *fn, const struct ev_field *f, unsigned nf)
{
	unsigned d = probe_depth(p);

	if (d >= PROBE_MAX_DEPTH)
		panic("call stack overflow entering %s (depth %u)", fn, d);
	if (p->sink) {
		/* The sink sees the caller's depth, fn not yet pushed (the steppers
		   rely on it), and, as for any event, the next sequence number
		   already taken: the call counts as an other event until it returns. */
		uint64_t seq = probe_count(p);

		deliver(p, seq, d, layer, EV_CALL, fn, NULL, f, nf);
		p->others--;
	}
	p->stack[d] = fn;
	p->stack_layer[d] = (uint8_t)layer;
	p->calls++;
}

/* Names are static strings; equal literals of two files may differ in address. */
static bool same_name(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

void probe_ret_mismatch(struct probe *p, const char *fn)
{
	unsigned d = probe_depth(p);

	if (d == 0)
		panic("%s returns but no call is open", fn);
	if (p->stack[d - 1] != probe_unknown_fn && !same_name(p->stack[d - 1], fn))
		panic("%s returns but the innermost open call is %s", fn, p->stack[d - 1]);
}

void probe_ret_f(struct probe *p, int layer, const char *fn, const struct ev_field *f, unsigned nf)
{
	uint64_t seq = probe_seq(p);

	probe_ret_mismatch(p, fn);
	p->rets++;
	if (p->sink)
		deliver(p, seq, probe_depth(p), layer, EV_RET, fn, NULL, f, nf);
}

/*
 * An EV_RET (text "unwound", no fields) is emitted for each call left open, so
 * a consumer rebuilding the stack from events (Perfetto slices) stays in step.
 */
void probe_unwind(struct probe *p, unsigned depth)
{
	while (probe_depth(p) > depth) {
		unsigned d = probe_depth(p) - 1;
		uint64_t seq = probe_seq(p);

		p->rets++;
		if (p->sink)
			deliver(p, seq, d, p->stack_layer[d], EV_RET, p->stack[d], "unwound", NULL, 0);
	}
}

const char *probe_layer_name(int layer)
{
	static const char *const names[LAYER__COUNT] = {
	    [LAYER_USER] = "user",
	    [LAYER_LIBC] = "libc",
	    [LAYER_KERNEL] = "kernel",
	    [LAYER_MMU] = "mmu",
	};

	return layer >= 0 && layer < LAYER__COUNT ? names[layer] : "?";
}

const char *probe_kind_name(int kind)
{
	static const char *const names[EV__COUNT] = {
	    [EV_STMT] = "stmt",
	    [EV_CALL] = "call",
	    [EV_RET] = "ret",
	    [EV_SYSCALL] = "syscall",
	    [EV_SYSRET] = "sysret",
	    [EV_FAULT] = "fault",
	    [EV_TLB_MISS] = "tlb_miss",
	    [EV_WALK] = "walk",
	    [EV_TLB_FILL] = "tlb_fill",
	    [EV_TLB_FLUSH] = "tlb_flush",
	    [EV_PTE_SET] = "pte_set",
	    [EV_PTE_CLEAR] = "pte_clear",
	    [EV_AD_SET] = "ad_set",
	    [EV_FRAME_ALLOC] = "frame_alloc",
	    [EV_FRAME_FREE] = "frame_free",
	    [EV_BUDDY_SPLIT] = "buddy_split",
	    [EV_BUDDY_MERGE] = "buddy_merge",
	    [EV_ZERO_FRAME] = "zero_frame",
	    [EV_VMA] = "vma",
	    [EV_BRK] = "brk",
	    [EV_SIGNAL] = "signal",
	    [EV_HEAP] = "heap",
	    [EV_NOTE] = "note",
	};

	return kind >= 0 && kind < EV__COUNT ? names[kind] : "?";
}

uint64_t event_field(const struct event *ev, const char *key, uint64_t def)
{
	for (unsigned i = 0; i < ev->nf && i < EV_MAX_FIELDS; i++)
		if (same_name(ev->f[i].key, key))
			return ev->f[i].val;
	return def;
}

/*
 * Small values (levels, orders, indices, -1 returns) in decimal, anything that
 * looks like an address or an entry in hex.
 */
static int format_value(char *buf, size_t len, uint64_t v)
{
	int64_t s = (int64_t)v;

	if (s >= -4096 && s < 4096)
		return snprintf(buf, len, "%" PRId64, s);
	return snprintf(buf, len, "%#" PRIx64, v);
}

void event_format(const struct event *ev, char *buf, size_t len)
{
	size_t at = 0;
	int n;

	if (!len)
		return;
	n = snprintf(buf, len, "#%" PRIu64 " %-7s %s %s", ev->seq, probe_layer_name(ev->layer),
	             probe_kind_name(ev->kind), ev->fn ? ev->fn : "-");
	for (unsigned i = 0; n >= 0 && (size_t)n < len - at && i < ev->nf && i < EV_MAX_FIELDS;
	     i++) {
		at += (size_t)n;
		n = snprintf(buf + at, len - at, " %s=", ev->f[i].key ? ev->f[i].key : "?");
		if (n < 0 || (size_t)n >= len - at)
			break;
		at += (size_t)n;
		n = format_value(buf + at, len - at, ev->f[i].val);
	}
	if (ev->text && n >= 0 && (size_t)n < len - at) {
		at += (size_t)n;
		snprintf(buf + at, len - at, " \"%s\"", ev->text);
	}
}
