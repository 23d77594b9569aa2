/*
 * probe.c - the event stream and the modelled call stack.
 *
 * Every step of the path is one struct event handed to the sink (the stepper,
 * the viewer, the exporters, the tests). Without a sink an event costs a
 * sequence number and, for calls and returns, the stack bookkeeping: the hot
 * paths of the machine count instead of emitting (struct probe_counters).
 */
#include "probe.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "panic.h"

void probe_init(struct probe *p)
{
	memset(p, 0, sizeof(*p));
}

void probe_set_sink(struct probe *p, probe_sink_t sink, void *ctx)
{
	p->sink = sink;
	p->sink_ctx = ctx;
}

uint64_t probe_deliver(struct probe *p, int layer, int kind, const char *fn, const char *text,
                       const struct ev_field *f, unsigned nf)
{
	struct event ev;

	if (!p->sink)
		return p->seq++;
	if (nf > EV_MAX_FIELDS)
		panic("%s: %u fields, at most %d", fn ? fn : "?", nf, EV_MAX_FIELDS);
	ev.seq = p->seq++;
	ev.layer = (uint8_t)layer;
	ev.kind = (uint8_t)kind;
	ev.depth = (uint16_t)p->depth;
	ev.fn = fn;
	ev.text = text;
	ev.nf = (uint8_t)nf;
	if (nf)
		memcpy(ev.f, f, nf * sizeof(*f));
	p->sink(p->sink_ctx, &ev);
	return ev.seq;
}

void probe_call_f(struct probe *p, int layer, const char *fn, const struct ev_field *f, unsigned nf)
{
	if (p->depth >= PROBE_MAX_DEPTH)
		panic("call stack overflow entering %s (depth %u)", fn, p->depth);
	probe_emit(p, layer, EV_CALL, fn, NULL, f, nf);
	p->stack[p->depth] = fn;
	p->stack_layer[p->depth] = (uint8_t)layer;
	p->depth++;
}

/* Names are static strings; equal literals of two files may differ in address. */
static bool same_name(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

void probe_ret_mismatch(struct probe *p, const char *fn)
{
	if (p->depth == 0)
		panic("%s returns but no call is open", fn);
	if (!same_name(p->stack[p->depth - 1], fn))
		panic("%s returns but the innermost open call is %s", fn, p->stack[p->depth - 1]);
}

void probe_ret_f(struct probe *p, int layer, const char *fn, const struct ev_field *f, unsigned nf)
{
	probe_ret_mismatch(p, fn);
	p->depth--;
	probe_emit(p, layer, EV_RET, fn, NULL, f, nf);
}

/*
 * An EV_RET (text "unwound", no fields) is emitted for each call left open, so
 * a consumer rebuilding the stack from events (Perfetto slices) stays in step.
 */
void probe_unwind(struct probe *p, unsigned depth)
{
	while (p->depth > depth) {
		p->depth--;
		probe_emit(p, p->stack_layer[p->depth], EV_RET, p->stack[p->depth], "unwound", NULL,
		           0);
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
