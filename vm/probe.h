/*
 * probe.h - the event stream: every step of the path, one event each.
 *
 * Each event carries a sequence number, the layer, a kind, the name of the
 * Linux (6.x) or glibc (2.36) function it models, the call depth and up to
 * EV_MAX_FIELDS named numeric fields (DESIGN.md, Events). Calls and returns are
 * events too, so a consumer can rebuild the call stack at any point; the probe
 * also keeps that stack itself (probe->stack) for the steppers.
 *
 * Hot, uneventful work (a TLB hit, a byte stored) is counted in struct
 * probe_counters, not emitted. Emitting with no sink costs one counter
 * increment, inline: no call, no field array (debug builds also keep the
 * stack, to check every return against its call).
 *
 * Usage, with fields as {"name", value} pairs:
 *   probe_call(p, LAYER_KERNEL, "do_anonymous_page", {"addr", va});
 *   EV(p, LAYER_KERNEL, EV_PTE_SET, "set_pte_at", NULL, {"addr", va}, {"pte", pte});
 *   probe_ret(p, LAYER_KERNEL, "do_anonymous_page", {"ret", 0});
 */
#ifndef VM_PROBE_H
#define VM_PROBE_H

#include <stdint.h>
#include <stdio.h>

enum ev_layer {
	LAYER_USER,   /* the simulated program's statement */
	LAYER_LIBC,   /* glibc-like user-space library */
	LAYER_KERNEL, /* the simulated kernel */
	LAYER_MMU,    /* the machine: TLB, page walk, faults raised */
	LAYER__COUNT
};

enum ev_kind {
	EV_STMT,        /* a statement of the script starts: {"line"} */
	EV_CALL,        /* a modelled function is entered */
	EV_RET,         /* ... and returns: {"ret"} usually */
	EV_SYSCALL,     /* user -> kernel transition: {"nr"}, args */
	EV_SYSRET,      /* kernel -> user: {"ret"} */
	EV_FAULT,       /* the CPU raised #PF or #GP: {"addr", "error"} */
	EV_TLB_MISS,    /* {"addr"} */
	EV_WALK,        /* one level of the page walk: {"level", "index", "entry"} */
	EV_TLB_FILL,    /* {"vpn", "pfn"} */
	EV_TLB_FLUSH,   /* {"addr"} single page (invlpg) or {"all"} */
	EV_PTE_SET,     /* {"addr", "old", "new"} (any level: "level") */
	EV_PTE_CLEAR,   /* {"addr", "old"} */
	EV_AD_SET,      /* the CPU set Accessed/Dirty in a PTE: {"addr","old","new"} */
	EV_FRAME_ALLOC, /* {"pfn", "order"} a block left the buddy allocator */
	EV_FRAME_FREE,  /* {"pfn", "order"} a block came back */
	EV_BUDDY_SPLIT, /* {"pfn", "order"}: upper half put on free_area[order] */
	EV_BUDDY_MERGE, /* {"pfn", "buddy", "order"}: merged into order+1 */
	EV_ZERO_FRAME,  /* clear_page: {"pfn"} */
	EV_VMA,         /* a VMA was created/changed/removed: {"start","end","flags"} */
	EV_BRK,         /* mm->brk changed: {"old", "new"} */
	EV_SIGNAL,      /* fatal signal: {"signo","code","addr"}, text = reason */
	EV_HEAP,        /* allocator state change: {"chunk","size",...}, text = what */
	EV_NOTE,        /* anything else worth a stop; text says what */
	EV__COUNT
};

#define EV_MAX_FIELDS 8
#define PROBE_MAX_DEPTH 64

struct ev_field {
	const char *key; /* static string */
	uint64_t val;
};

struct event {
	uint64_t seq;     /* 0, 1, 2, ... in emission order */
	uint8_t layer;    /* enum ev_layer */
	uint8_t kind;     /* enum ev_kind */
	uint16_t depth;   /* call depth when emitted (a CALL has the caller's) */
	const char *fn;   /* modelled function, static string */
	const char *text; /* optional static or probe-owned text, else NULL */
	uint8_t nf;
	struct ev_field f[EV_MAX_FIELDS];
};

/* Counted, not emitted: the hot paths. */
struct probe_counters {
	/* CPU accesses (any size; ranges count once per page) made by its slow
	   path: cpu_loads() and cpu_stores() (vm/cpu.h) add its inline path's */
	uint64_t slow_loads, slow_stores;
	uint64_t walks;         /* hardware page walks (TLB misses and D-bit updates) */
	uint64_t page_faults;   /* #PF raised by the CPU (TLB hits/misses: struct tlb) */
};

typedef void (*probe_sink_t)(void *ctx, const struct event *ev);

struct probe {
	/*
	 * Where the stream is, as three counters: the sequence number of the
	 * next event is calls + rets + others, the call depth calls - rets
	 * (probe_seq, probe_depth). With no sink every event is one increment
	 * of one of them, and on the fault path (some sixty events) a single
	 * counter made one chain of sixty read-modify-writes through memory,
	 * each waiting for the one before: three chains run side by side.
	 */
	uint64_t calls;  /* EV_CALL events so far */
	uint64_t rets;   /* EV_RET events so far (returns and unwinds) */
	uint64_t others; /* every other event */
	/*
	 * fn names of the open calls, stack[0] outermost. Kept while a sink
	 * listens (the steppers read it while paused in their sink) and, in
	 * debug builds, always, so that every return is checked against its
	 * call. A release build with no sink does not write it: entries below
	 * the depth at which a sink was attached read "?".
	 */
	const char *stack[PROBE_MAX_DEPTH];
	uint8_t stack_layer[PROBE_MAX_DEPTH];
	probe_sink_t sink; /* called for every event, may be NULL */
	void *sink_ctx;
	struct probe_counters c;
	struct probe_text *texts; /* event texts built at run time (probe_keep_text) */
};

/* The sequence number the next event will get (0, 1, 2, ...). */
static inline uint64_t probe_seq(const struct probe *p)
{
	return p->calls + p->rets + p->others;
}

/* Calls open now. */
static inline unsigned probe_depth(const struct probe *p)
{
	return (unsigned)(p->calls - p->rets);
}

void probe_init(struct probe *p);
/* Free what probe_keep_text kept. The probe may be initialised again. */
void probe_fini(struct probe *p);
/* A copy of s that lives until probe_fini: the text of an event built at run
   time (a death's reason), which consumers may keep as long as the stream. */
const char *probe_keep_text(struct probe *p, const char *s);
void probe_set_sink(struct probe *p, probe_sink_t sink, void *ctx);

/*
 * An event other than a call or a return, with no sink: counted. Returns
 * its sequence number (computed only where a caller uses it).
 */
static inline uint64_t probe_count(struct probe *p)
{
	uint64_t seq = probe_seq(p);

	p->others++;
	return seq;
}

/* probe_emit with a sink: build the event and hand it over. */
uint64_t probe_deliver(struct probe *p, int layer, int kind, const char *fn,
		       const char *text, const struct ev_field *f, unsigned nf);

/*
 * Emit one event (not a call or a return: probe_call_f, probe_ret_f); nf
 * fields from f. Returns its sequence number. Inline so that, with no sink,
 * it costs one increment.
 */
static inline uint64_t probe_emit(struct probe *p, int layer, int kind, const char *fn,
				  const char *text, const struct ev_field *f, unsigned nf)
{
	if (!p->sink)
		return probe_count(p);
	return probe_deliver(p, layer, kind, fn, text, f, nf);
}
/* Emit EV_CALL at the current depth, then push fn. */
void probe_call_f(struct probe *p, int layer, const char *fn,
		  const struct ev_field *f, unsigned nf);
/* Pop fn (panics when it is not the innermost open call), then emit EV_RET. */
void probe_ret_f(struct probe *p, int layer, const char *fn,
		 const struct ev_field *f, unsigned nf);
/* What probe_ret_f panics with; returns when fn is the innermost call after
   all (an equal name at another address). */
void probe_ret_mismatch(struct probe *p, const char *fn);

/*
 * probe_call_f and probe_ret_f with no sink, inline: the fault path makes
 * some thirty calls and returns, and in a release build each costs one
 * increment, not a function call that builds its field array.
 */
static inline void probe_push(struct probe *p, int layer, const char *fn)
{
#ifndef NDEBUG
	unsigned d = probe_depth(p);

	if (__builtin_expect(d >= PROBE_MAX_DEPTH, 0))
		probe_call_f(p, layer, fn, NULL, 0); /* panics */
	p->stack[d] = fn;
	p->stack_layer[d] = (uint8_t)layer;
#else
	(void)layer;
	(void)fn;
#endif
	p->calls++;
}

/*
 * The check that fn is the innermost open call is an assertion on the
 * simulator's own code: debug builds (the tests) make it on every return,
 * release builds only with a sink (probe_ret_f).
 */
static inline void probe_pop(struct probe *p, const char *fn)
{
#ifndef NDEBUG
	unsigned d = probe_depth(p);

	/* Names are static strings: the same literal is almost always the same
	   address, so the pointer compare settles it; strcmp only when not. */
	if (__builtin_expect(d == 0 || p->stack[d - 1] != fn, 0))
		probe_ret_mismatch(p, fn);
#else
	(void)fn;
#endif
	p->rets++;
}
/* Unwind every open call down to depth (a fatal signal leaves calls open). */
void probe_unwind(struct probe *p, unsigned depth);

const char *probe_layer_name(int layer); /* "user", "libc", "kernel", "mmu" */
const char *probe_kind_name(int kind);   /* "call", "ret", "fault", ... */
/* The value of field key, or def when the event has none. */
uint64_t event_field(const struct event *ev, const char *key, uint64_t def);
/* One line, human-readable: "#12 kernel  call do_anonymous_page addr=0x..." */
void event_format(const struct event *ev, char *buf, size_t len);

#define EV_FIELDS_(...) ((const struct ev_field[]){{0, 0}, __VA_ARGS__} + 1)
#define EV_NF_(...) \
	(sizeof((const struct ev_field[]){{0, 0}, __VA_ARGS__}) / sizeof(struct ev_field) - 1)

/*
 * The macros test for a sink before they build the field array: the compiler
 * does not sink the stores of a compound literal into the one branch that
 * reads it, so an event with no sink would still cost a store per field (the
 * page walk emits one per level). Hence field expressions are evaluated only
 * when a sink listens: they must have no side effects. p is evaluated twice.
 */
#define EV(p, layer, kind, fn, text, ...)                                                    \
	((p)->sink ? probe_deliver((p), (layer), (kind), (fn), (text), EV_FIELDS_(__VA_ARGS__), \
				   EV_NF_(__VA_ARGS__))                                     \
		   : probe_count(p))
#define probe_call(p, layer, fn, ...)                                                       \
	((p)->sink ? probe_call_f((p), (layer), (fn), EV_FIELDS_(__VA_ARGS__),              \
				  EV_NF_(__VA_ARGS__))                                      \
		   : probe_push((p), (layer), (fn)))
#define probe_ret(p, layer, fn, ...)                                                        \
	((p)->sink ? probe_ret_f((p), (layer), (fn), EV_FIELDS_(__VA_ARGS__),               \
				 EV_NF_(__VA_ARGS__))                                       \
		   : probe_pop((p), (fn)))

#endif
