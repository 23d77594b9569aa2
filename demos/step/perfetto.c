/*
 * perfetto.c - Chrome trace-event JSON writer of the event stream (see
 * perfetto.h for the mapping). Streams: each trace event is one cJSON object
 * printed compact on its own line, so a long run needs no memory beyond the
 * stack of open slices. Only the array's brackets and commas are written by
 * hand; every object, string and number goes through cJSON.
 */
#include "perfetto.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PF_PID 1
#define PF_TID 1

/* ts of event seq, and of a forced end just before it (perfetto.h). */
static uint64_t ts_of(uint64_t seq)
{
	return 2 * seq;
}

static uint64_t ts_before(uint64_t seq)
{
	return seq ? 2 * seq - 1 : 0;
}

static void put(struct perfetto *pf, cJSON *o)
{
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;

	if (!s || fputs(pf->written ? ",\n" : "\n", pf->f) == EOF || fputs(s, pf->f) == EOF)
		pf->failed = true;
	else
		pf->written++;
	free(s);
	cJSON_Delete(o);
}

/* The fields every trace event has. NULL when out of memory. */
static cJSON *new_event(const char *ph, const char *name, int layer, uint64_t ts)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL;

	ok = ok && cJSON_AddStringToObject(o, "ph", ph);
	if (ok && name)
		ok = cJSON_AddStringToObject(o, "name", name) != NULL;
	if (ok && layer >= 0)
		ok = cJSON_AddStringToObject(o, "cat", probe_layer_name(layer)) != NULL;
	ok = ok && cJSON_AddNumberToObject(o, "ts", (double)ts);
	ok = ok && cJSON_AddNumberToObject(o, "pid", PF_PID);
	ok = ok && cJSON_AddNumberToObject(o, "tid", PF_TID);
	/* An instant marks the thread's track, not the whole process. */
	if (ok && strcmp(ph, "i") == 0)
		ok = cJSON_AddStringToObject(o, "s", "t") != NULL;
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* An arg value by the rule of perfetto.h: small numbers as numbers, the rest
   as exact hex strings. */
static cJSON *arg_value(uint64_t v)
{
	int64_t s = (int64_t)v;
	char buf[24];

	if (v < 65536 || (s < 0 && s >= -4096))
		return cJSON_CreateNumber((double)s);
	snprintf(buf, sizeof(buf), "%#" PRIx64, v);
	return cJSON_CreateString(buf);
}

/* args: {"seq": N, [fn], fields..., [text]}. A field named like one of the
   fixed args gets an "f_" prefix, as in the events file. */
static bool add_args(cJSON *o, const struct event *ev, bool with_fn)
{
	cJSON *a = cJSON_AddObjectToObject(o, "args");
	bool ok = a != NULL;

	ok = ok && cJSON_AddNumberToObject(a, "seq", (double)ev->seq);
	if (ok && with_fn && ev->fn)
		ok = cJSON_AddStringToObject(a, "fn", ev->fn) != NULL;
	for (unsigned i = 0; ok && i < ev->nf && i < EV_MAX_FIELDS; i++) {
		const char *key = ev->f[i].key ? ev->f[i].key : "?";
		char buf[64];
		cJSON *v;

		if (strcmp(key, "seq") == 0 || strcmp(key, "fn") == 0 || strcmp(key, "text") == 0) {
			snprintf(buf, sizeof(buf), "f_%s", key);
			key = buf;
		}
		/* A repeated key would make a second member: JSON readers keep one. */
		if (cJSON_HasObjectItem(a, key))
			continue;
		v = arg_value(ev->f[i].val);
		ok = v && cJSON_AddItemToObject(a, key, v);
		if (!ok)
			cJSON_Delete(v);
	}
	if (ok && ev->text)
		ok = cJSON_AddStringToObject(a, "text", ev->text) != NULL;
	return ok;
}

static void emit(struct perfetto *pf, cJSON *o, const struct event *ev, bool with_fn)
{
	if (o && ev && !add_args(o, ev, with_fn)) {
		cJSON_Delete(o);
		o = NULL;
	}
	put(pf, o);
}

/* Close the innermost slice at ts; ev (the RET or SYSRET that closes it, or
   NULL for a forced end) gives the end its args. */
static void close_top(struct perfetto *pf, uint64_t ts, const struct event *ev)
{
	struct perfetto_slice *sl = &pf->stack[pf->depth - 1];

	emit(pf, new_event("E", sl->name, sl->layer, ts), ev, false);
	free(sl->owned);
	memset(sl, 0, sizeof(*sl));
	pf->depth--;
}

static void close_all(struct perfetto *pf, uint64_t ts)
{
	while (pf->depth)
		close_top(pf, ts, NULL);
}

static void open_slice(struct perfetto *pf, const struct event *ev, const char *name, bool copy)
{
	struct perfetto_slice *sl;

	if (pf->depth == PERFETTO_MAX_DEPTH) {
		/* Cannot happen with the probe's own depth limit; keep the file valid. */
		emit(pf, new_event("i", name, ev->layer, ts_of(ev->seq)), ev, true);
		return;
	}
	sl = &pf->stack[pf->depth];
	sl->owned = copy ? strdup(name) : NULL;
	if (copy && !sl->owned) {
		pf->failed = true;
		return;
	}
	sl->name = copy ? sl->owned : name;
	sl->layer = ev->layer;
	sl->kind = ev->kind;
	pf->depth++;
	emit(pf, new_event("B", sl->name, ev->layer, ts_of(ev->seq)), ev, false);
}

/* The innermost open slice opened by kind and named fn, or -1. */
static int find_open(const struct perfetto *pf, int kind, const char *fn)
{
	for (int i = (int)pf->depth - 1; i >= 0; i--) {
		const struct perfetto_slice *sl = &pf->stack[i];

		if (sl->kind == kind && fn && strcmp(sl->name, fn) == 0)
			return i;
		/* A statement bounds the search: a return never closes one. */
		if (sl->kind == EV_STMT)
			return -1;
	}
	return -1;
}

/* A RET/SYSRET: close its slice, and any slice opened inside it that was
   left open (by force, just before). With no matching slice (a return the
   writer never saw called), the event becomes an instant. */
static void close_matching(struct perfetto *pf, const struct event *ev, int open_kind)
{
	int i = find_open(pf, open_kind, ev->fn);

	if (i < 0) {
		emit(pf, new_event("i", probe_kind_name(ev->kind), ev->layer, ts_of(ev->seq)), ev,
		     true);
		return;
	}
	while ((int)pf->depth > i + 1)
		close_top(pf, ts_before(ev->seq), NULL);
	close_top(pf, ts_of(ev->seq), ev);
}

static void put_meta(struct perfetto *pf, const char *what, const char *name)
{
	cJSON *o = new_event("M", what, -1, 0);
	cJSON *a = o ? cJSON_AddObjectToObject(o, "args") : NULL;

	if (!a || !cJSON_AddStringToObject(a, "name", name ? name : "?")) {
		cJSON_Delete(o);
		o = NULL;
	}
	put(pf, o);
}

int perfetto_begin(struct perfetto *pf, FILE *f, const char *process_name, const char *thread_name)
{
	memset(pf, 0, sizeof(*pf));
	pf->f = f;
	if (fputs("{\"traceEvents\":[", f) == EOF)
		pf->failed = true;
	put_meta(pf, "process_name", process_name);
	put_meta(pf, "thread_name", thread_name);
	return pf->failed ? -1 : 0;
}

void perfetto_sink(void *ctx, const struct event *ev)
{
	struct perfetto *pf = ctx;

	pf->seen = true;
	pf->last_seq = ev->seq;
	switch (ev->kind) {
	case EV_STMT:
		close_all(pf, ts_before(ev->seq));
		open_slice(pf, ev, ev->text ? ev->text : (ev->fn ? ev->fn : "statement"), true);
		break;
	case EV_CALL:
		open_slice(pf, ev, ev->fn ? ev->fn : "?", false);
		break;
	case EV_SYSCALL:
		open_slice(pf, ev, ev->fn ? ev->fn : "syscall", false);
		break;
	case EV_RET:
		close_matching(pf, ev, EV_CALL);
		break;
	case EV_SYSRET:
		close_matching(pf, ev, EV_SYSCALL);
		break;
	default:
		emit(pf, new_event("i", probe_kind_name(ev->kind), ev->layer, ts_of(ev->seq)), ev,
		     true);
		break;
	}
}

int perfetto_end(struct perfetto *pf, cJSON *other_data)
{
	char *s = NULL;

	close_all(pf, pf->seen ? ts_of(pf->last_seq) + 1 : 0);
	if (fputs("\n]", pf->f) == EOF)
		pf->failed = true;
	if (other_data) {
		s = cJSON_PrintUnformatted(other_data);
		if (!s || fputs(",\"otherData\":", pf->f) == EOF || fputs(s, pf->f) == EOF)
			pf->failed = true;
		free(s);
		cJSON_Delete(other_data);
	}
	if (fputs("}\n", pf->f) == EOF)
		pf->failed = true;
	return pf->failed ? -1 : 0;
}

int perfetto_check(const struct perfetto *pf, FILE *err)
{
	int bad = 0;

	if (pf->depth > PERFETTO_MAX_DEPTH) {
		fprintf(err, "perfetto: depth %u beyond %d\n", pf->depth, PERFETTO_MAX_DEPTH);
		return 1;
	}
	for (unsigned i = 0; i < pf->depth; i++) {
		const struct perfetto_slice *sl = &pf->stack[i];
		const char *why = NULL;

		if (!sl->name)
			why = "unnamed slice";
		else if (sl->owned && sl->name != sl->owned)
			why = "owned name not in use";
		else if (sl->kind == EV_STMT && i != 0)
			why = "a statement slice not outermost";
		else if (sl->kind != EV_STMT && sl->kind != EV_CALL && sl->kind != EV_SYSCALL)
			why = "slice opened by an event that opens none";
		if (why) {
			if (!bad)
				fprintf(err, "perfetto: slice %u (%s): %s\n", i,
				        sl->name ? sl->name : "?", why);
			bad++;
		}
	}
	return bad;
}

void perfetto_dump(const struct perfetto *pf, FILE *out)
{
	fprintf(out, "perfetto: %" PRIu64 " trace events, %u open slice%s%s\n", pf->written,
	        pf->depth, pf->depth == 1 ? "" : "s", pf->failed ? ", FAILED" : "");
	for (unsigned i = 0; i < pf->depth; i++)
		fprintf(out, "  %*s%s [%s]\n", 2 * (int)i, "", pf->stack[i].name,
		        probe_layer_name(pf->stack[i].layer));
}
