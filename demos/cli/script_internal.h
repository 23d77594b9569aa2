/*
 * script_internal.h - what the files of the script parser share, and no one
 * else (the rest uses script.h): script.c reads and checks the text and
 * parses it line by line, script_stmt.c parses one line, script_names.c
 * holds the language's words and their lookups.
 */
#ifndef SCRIPT_INTERNAL_H
#define SCRIPT_INTERNAL_H

#include "../../vm/uthash_host.h"
#include "expr.h"
#include "script.h"

struct script_var {
	char *name;
	int idx;
	UT_hash_handle hh;
};

/*
 * Parse one line (its comment already cut) at p->line into the next
 * statement of p->sc, or nothing (a blank line); 0, or -1 after a
 * "FILE:LINE: message" on p->err.
 */
int script_parse_line(struct parser *p, const char *code);

/* A copy of s[0 .. n) and a NUL in sc's chunks, freed with sc (script_free);
   NULL when the host is out of memory. */
char *script_strndup(struct script *sc, const char *s, size_t n);

/* Free what statement st owns (its expect stderr text; the others are in
   the script's chunks); st itself is its script's. */
void script_stmt_release(struct stmt *st);

#endif
