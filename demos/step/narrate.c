/*
 * narrate.c - the event sentences (see narrate.h): what a step did, built
 * from its kind and fields, followed by its function's or statement's row
 * of narrate_table.c; the view a step is best shown with; the names of
 * tasks and page-fault error codes; and wrapping text for the terminal.
 */
#include "narrate.h"

#include <inttypes.h>
#include <string.h>

#include "../../vm/pagetable.h"

const char *narrate_task(int tid, int tgid, int main_pid, char *buf, size_t n)
{
	if (tid == main_pid || tid <= 0)
		snprintf(buf, n, "%s", "");
	else if (tid != tgid)
		snprintf(buf, n, "t%d", tid);
	else
		snprintf(buf, n, "pid %d", tid);
	return buf;
}

const char *narrate_pf_error(unsigned error, char *buf, size_t n)
{
	snprintf(buf, n, "%s, %s mode, %s%s",
	         error & 0x2    ? "write"
	         : error & 0x10 ? "fetch"
	                        : "read",
	         error & 0x4 ? "user" : "kernel",
	         error & 0x1 ? "the page is present but forbids it" : "the page is not present",
	         error & 0x8 ? ", reserved bit set" : "");
	return buf;
}

static const char *level_name(uint64_t level)
{
	return level >= 1 && level <= 4 ? pt_level_name((int)level) : "?";
}

static const char *order_blocks(uint64_t order, char *buf, size_t n)
{
	uint64_t pages = order < 63 ? 1ULL << order : 0;

	snprintf(buf, n, "%" PRIu64 " page%s", pages, pages == 1 ? "" : "s");
	return buf;
}

int narrate_kind(const struct event *ev, char *buf, size_t n)
{
	char f1[64], f2[64];
	uint64_t addr = event_field(ev, "addr", 0);

	switch (ev->kind) {
	case EV_STMT:
		return snprintf(buf, n, "Line %" PRIu64 ": the program runs `%s`.",
		                event_field(ev, "line", 0), ev->text ? ev->text : ev->fn);
	case EV_CALL:
		return snprintf(buf, n, "%s is entered.", ev->fn);
	case EV_RET:
		if (ev->text && strcmp(ev->text, "unwound") == 0)
			return snprintf(buf, n, "%s never returns: the process is being killed.",
			                ev->fn);
		if (ev->nf && ev->f[0].key && strcmp(ev->f[0].key, "ret") == 0)
			return snprintf(buf, n, "%s returns %#" PRIx64 ".", ev->fn, ev->f[0].val);
		return snprintf(buf, n, "%s returns.", ev->fn);
	case EV_SYSCALL:
		return snprintf(buf, n,
		                "System call %" PRIu64 ": the program leaves user mode and enters "
		                "the kernel.",
		                event_field(ev, "nr", 0));
	case EV_SYSRET:
		return snprintf(buf, n, "Back to user mode; the system call returns %#" PRIx64 ".",
		                event_field(ev, "ret", 0));
	case EV_FAULT:
		if (ev->fn && strcmp(ev->fn, "#GP") == 0)
			return snprintf(buf, n, "General-protection fault at %#" PRIx64 ".", addr);
		return snprintf(
		    buf, n, "Page fault at %#" PRIx64 " (error %" PRIu64 ": %s).", addr,
		    event_field(ev, "error", 0),
		    narrate_pf_error((unsigned)event_field(ev, "error", 0), f1, sizeof(f1)));
	case EV_TLB_MISS:
		return snprintf(buf, n,
		                "TLB miss for %#" PRIx64
		                ": no usable cached translation, the MMU walks the tables.",
		                addr);
	case EV_WALK: {
		pte_t e = event_field(ev, "entry", 0);

		if (!pte_present(e))
			return snprintf(buf, n,
			                "%s entry %" PRIu64 " is empty (not present): the walk "
			                "stops, this access will fault.",
			                level_name(event_field(ev, "level", 0)),
			                event_field(ev, "index", 0));
		pte_format_flags(e, f1, sizeof(f1));
		return snprintf(
		    buf, n, "%s entry %" PRIu64 " = %#" PRIx64 " (%s): %s pfn %#" PRIx64 ".",
		    level_name(event_field(ev, "level", 0)), event_field(ev, "index", 0), e, f1,
		    event_field(ev, "level", 0) == 1 ? "the page is in frame"
		                                     : "the next table is in",
		    (uint64_t)pte_pfn(e));
	}
	case EV_TLB_FILL:
		return snprintf(buf, n, "The TLB caches page %#" PRIx64 " -> frame %#" PRIx64 ".",
		                event_field(ev, "vpn", 0), event_field(ev, "pfn", 0));
	case EV_TLB_FLUSH:
		if (event_field(ev, "all", 0))
			return snprintf(buf, n, "The whole TLB is flushed.");
		return snprintf(buf, n, "The TLB entry of %#" PRIx64 " is dropped.", addr);
	case EV_PTE_SET: {
		uint64_t level = event_field(ev, "level", 1);
		pte_t e = event_field(ev, "new", 0);

		pte_format_flags(e, f1, sizeof(f1));
		if (level > 1)
			return snprintf(buf, n,
			                "%s entry for %#" PRIx64 " set to %#" PRIx64
			                ": it points to a new table in pfn %#" PRIx64 ".",
			                level_name(level), addr, e, (uint64_t)pte_pfn(e));
		return snprintf(buf, n,
		                "PTE for %#" PRIx64 " set: %#" PRIx64 " -> %#" PRIx64
		                " (%s), frame %#" PRIx64 ".",
		                addr, event_field(ev, "old", 0), e, f1, (uint64_t)pte_pfn(e));
	}
	case EV_PTE_CLEAR:
		return snprintf(buf, n, "%s entry for %#" PRIx64 " cleared (was %#" PRIx64 ").",
		                level_name(event_field(ev, "level", 1)), addr,
		                event_field(ev, "old", 0));
	case EV_AD_SET:
		pte_format_flags(event_field(ev, "new", 0), f1, sizeof(f1));
		return snprintf(buf, n,
		                "The CPU sets Accessed/Dirty in the PTE of %#" PRIx64 ": %s.", addr,
		                f1);
	case EV_FRAME_ALLOC:
		return snprintf(buf, n,
		                "Frame %#" PRIx64 " (%s, order %" PRIu64
		                ") leaves the buddy allocator.",
		                event_field(ev, "pfn", 0),
		                order_blocks(event_field(ev, "order", 0), f2, sizeof(f2)),
		                event_field(ev, "order", 0));
	case EV_FRAME_FREE:
		return snprintf(buf, n,
		                "Frame %#" PRIx64 " (%s, order %" PRIu64
		                ") comes back to the buddy allocator.",
		                event_field(ev, "pfn", 0),
		                order_blocks(event_field(ev, "order", 0), f2, sizeof(f2)),
		                event_field(ev, "order", 0));
	case EV_BUDDY_SPLIT:
		return snprintf(buf, n,
		                "Split: the upper half at pfn %#" PRIx64
		                " goes on free_area[%" PRIu64 "].",
		                event_field(ev, "pfn", 0), event_field(ev, "order", 0));
	case EV_BUDDY_MERGE:
		return snprintf(buf, n,
		                "Merge: pfn %#" PRIx64 " and its buddy %#" PRIx64
		                " make one block of order %" PRIu64 ".",
		                event_field(ev, "pfn", 0), event_field(ev, "buddy", 0),
		                event_field(ev, "order", 0) + 1);
	case EV_ZERO_FRAME:
		return snprintf(buf, n, "Frame %#" PRIx64 " is filled with zeroes.",
		                event_field(ev, "pfn", 0));
	case EV_VMA:
		return snprintf(buf, n, "VMA %#" PRIx64 "-%#" PRIx64 " %s.",
		                event_field(ev, "start", 0), event_field(ev, "end", 0),
		                ev->text ? ev->text : "changed");
	case EV_BRK:
		return snprintf(buf, n, "mm->brk moves from %#" PRIx64 " to %#" PRIx64 ".",
		                event_field(ev, "old", 0), event_field(ev, "new", 0));
	case EV_SIGNAL:
		return snprintf(buf, n, "Fatal signal %" PRIu64 " at %#" PRIx64 ": %s.",
		                event_field(ev, "signo", 0), addr, ev->text ? ev->text : "");
	case EV_HEAP: {
		/* a chunk's event: its address and size; an arena's, a heap's or a
		   stack's: the fields it has ("arena 0x..., heap 0x..., size 0x...") */
		int len = snprintf(buf, n, "Heap: %s (", ev->text ? ev->text : "changed");

		for (unsigned i = 0; i < ev->nf && len >= 0 && (size_t)len < n; i++)
			len += snprintf(buf + len, n - (size_t)len, "%s%s %#" PRIx64, i ? ", " : "",
			                ev->f[i].key, ev->f[i].val);
		if (len >= 0 && (size_t)len < n)
			len += snprintf(buf + len, n - (size_t)len, ").");
		return len;
	}
	case EV_NOTE:
		if (ev->text)
			return snprintf(buf, n, "Note: %s.", ev->text);
		return snprintf(buf, n, "A note from %s.", ev->fn ? ev->fn : "the model");
	default:
		return snprintf(buf, n, "Event of kind %d " NARRATE_MISSING ".", ev->kind);
	}
}

int narrate_event(const struct event *ev, char *buf, size_t n)
{
	int l;
	size_t at;

	/* A call needs no sentence of its own: the function's says it all. */
	if (ev->kind == EV_CALL)
		return narrate_fn(ev->fn, buf, n);
	l = narrate_kind(ev, buf, n);

	if (l < 0)
		return l;
	at = (size_t)l < n ? (size_t)l : (n ? n - 1 : 0);
	if (ev->kind == EV_STMT) {
		const char *w = narrate_stmt(ev->fn);

		return l + snprintf(buf + at, n - at, " It %s", w ? w : NARRATE_MISSING);
	}
	l += snprintf(buf + at, n - at, " ");
	at = (size_t)l < n ? (size_t)l : (n ? n - 1 : 0);
	return l + narrate_fn(ev->fn, buf + at, n - at);
}

enum narr_view narrate_view(const struct event *ev)
{
	const struct narration *r;

	switch (ev->kind) {
	case EV_STMT:
		return NV_NONE;
	case EV_FAULT:
	case EV_TLB_MISS:
	case EV_WALK:
	case EV_TLB_FILL:
	case EV_AD_SET:
	case EV_PTE_SET:
	case EV_PTE_CLEAR:
	case EV_SIGNAL:
		return NV_WALK;
	case EV_TLB_FLUSH:
		return event_field(ev, "all", 0) ? NV_NONE : NV_WALK;
	case EV_FRAME_ALLOC:
	case EV_FRAME_FREE:
	case EV_BUDDY_SPLIT:
	case EV_BUDDY_MERGE:
	case EV_ZERO_FRAME:
		return NV_BUDDY;
	case EV_HEAP:
		return NV_HEAP;
	case EV_SYSCALL:
	case EV_SYSRET:
	case EV_BRK:
	case EV_VMA:
		return NV_MAPS;
	default:
		r = narrate_lookup(ev->fn);
		return r ? r->view : NV_NONE;
	}
}

void narrate_wrap_hanging(FILE *out, const char *text, int first, int indent, int width)
{
	int ind = first;

	while (*text) {
		int avail = width - ind > 20 ? width - ind : 20, len, cut;

		while (*text == ' ')
			text++;
		len = (int)strlen(text);
		if (!len)
			break;
		cut = len;
		if (len > avail) {
			cut = avail;
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (cut == 0) /* one long word: break it */
				cut = avail;
		}
		fprintf(out, "%*s%.*s\n", ind, "", cut, text);
		text += cut;
		ind = indent;
	}
}

void narrate_wrap(FILE *out, const char *text, int indent, int width)
{
	narrate_wrap_hanging(out, text, indent, indent, width);
}
