/*
 * events_out.h - the event stream as JSON lines (`run --events FILE.jsonl`,
 * DESIGN.md, The command): one object a line, keys in a fixed order
 *   {"seq":N,"layer":"kernel","kind":"call","fn":"do_anonymous_page","depth":D,
 *    FIELD:VALUE,...,"text":"..."}
 * written through cJSON, so the same events give byte-identical files.
 * `run` attaches the writer once the process exists, so the file starts with
 * the first statement's EV_STMT (seq is the probe's: boot came before it).
 *
 * Field values are 64-bit integers written exactly (not through a double):
 * unsigned, except values in [-4096, -1] as signed numbers, which is how a
 * negative return (-1, -ENOMEM) reads. A field whose key collides with one of
 * the fixed keys is written as "f_KEY". "text" appears only when the event
 * has one.
 */
#ifndef DEMOS_EVENTS_OUT_H
#define DEMOS_EVENTS_OUT_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "../../vm/probe.h"

struct events_out {
	FILE *f;        /* borrowed */
	uint64_t lines; /* events written */
	bool failed;    /* a write or an allocation failed: the file is incomplete */
};

void events_out_init(struct events_out *eo, FILE *f);
/* probe_sink_t: write ev as one line. */
void events_out_sink(void *ctx, const struct event *ev);
/* The object of one event (the caller deletes it), NULL when out of memory. */
cJSON *events_out_json(const struct event *ev);
/* An exact 64-bit integer as a cJSON raw number, by the rule above (signed:
   as int64 whatever its value). NULL when out of memory. */
cJSON *events_out_number(uint64_t v, bool is_signed);

#endif
