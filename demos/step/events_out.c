/*
 * events_out.c - JSON-lines writer of the event stream (see events_out.h).
 * Objects are built with cJSON and printed compact; integers go in as raw
 * decimal text because cJSON keeps numbers as doubles, which cannot hold a
 * 64-bit address or page-table entry exactly.
 */
#include "events_out.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void events_out_init(struct events_out *eo, FILE *f)
{
	memset(eo, 0, sizeof(*eo));
	eo->f = f;
}

cJSON *events_out_number(uint64_t v, bool is_signed)
{
	char buf[32];
	int64_t s = (int64_t)v;

	if (is_signed || (s < 0 && s >= -4096))
		snprintf(buf, sizeof(buf), "%" PRId64, s);
	else
		snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return cJSON_CreateRaw(buf);
}

static const char *const fixed_keys[] = {"seq", "layer", "kind", "fn", "depth", "text"};

static bool add_number(cJSON *o, const char *key, uint64_t v)
{
	cJSON *n = events_out_number(v, false);

	return n && cJSON_AddItemToObject(o, key, n);
}

cJSON *events_out_json(const struct event *ev)
{
	cJSON *o = cJSON_CreateObject();
	bool ok = o != NULL;

	ok = ok && add_number(o, "seq", ev->seq);
	ok = ok && cJSON_AddStringToObject(o, "layer", probe_layer_name(ev->layer));
	ok = ok && cJSON_AddStringToObject(o, "kind", probe_kind_name(ev->kind));
	if (ok)
		ok = ev->fn ? cJSON_AddStringToObject(o, "fn", ev->fn) != NULL
		            : cJSON_AddNullToObject(o, "fn") != NULL;
	ok = ok && add_number(o, "depth", ev->depth);
	for (unsigned i = 0; ok && i < ev->nf && i < EV_MAX_FIELDS; i++) {
		const char *key = ev->f[i].key ? ev->f[i].key : "?";
		char buf[64];

		for (size_t k = 0; k < sizeof(fixed_keys) / sizeof(fixed_keys[0]); k++)
			if (strcmp(key, fixed_keys[k]) == 0) {
				snprintf(buf, sizeof(buf), "f_%s", key);
				key = buf;
				break;
			}
		ok = add_number(o, key, ev->f[i].val);
	}
	if (ok && ev->text)
		ok = cJSON_AddStringToObject(o, "text", ev->text) != NULL;
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

void events_out_sink(void *ctx, const struct event *ev)
{
	struct events_out *eo = ctx;
	cJSON *o = events_out_json(ev);
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;

	if (!s || fputs(s, eo->f) == EOF || fputc('\n', eo->f) == EOF)
		eo->failed = true;
	else
		eo->lines++;
	free(s);
	cJSON_Delete(o);
}
