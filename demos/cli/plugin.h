/*
 * plugin.h - policies of one's own: a C file compiled with the system
 * compiler into a shared object, loaded into this process and made a
 * malloc policy (libc/memlib_host.h), guarded (plugin_guard.h).
 *
 * A plugin is either in the CS:APP shape (libc/memlib.h: mm_init, mm_malloc,
 * mm_free, mm_realloc, ...) or native (libc/policy.h: AFTERMALLOC_POLICY).
 * Its globals are the plugin's own: one instance serves one simulated
 * process at a time, so opening a file that is already open loads a private
 * copy of it (two sides of `view --compare`).
 */
#ifndef DEMOS_PLUGIN_H
#define DEMOS_PLUGIN_H

#include <stdbool.h>
#include <stdio.h>

#include "../../libc/libc.h"

struct plugin;

/* --malloc NAME names a plugin, not a built-in policy: it holds a '/' or
   ends in ".so" (./mm.so, build/lab/mm.so). */
bool plugin_is_path(const char *name);

/* Load the shared object at path. name is what reports call it (NULL: the
   file's base name). NULL after a message on err naming the file, and the
   command cmd when not NULL ("aftermalloc CMD: FILE: ..."): it cannot be
   loaded (dlerror's words), or is neither kind of plugin, or was built
   against another version of the headers, or lacks a required function. */
struct plugin *plugin_open(const char *path, const char *name, const char *cmd, FILE *err);
void plugin_close(struct plugin *p);
const struct malloc_ops *plugin_ops(const struct plugin *p);

/*
 * Compile the C file src into the shared object out with the system compiler
 * ($CC, else cc; $CFLAGS appended), against the headers this binary was
 * built with (written to a private directory). The compiler's messages go
 * to stderr as it prints them. 0, or -1 after a line on err saying the
 * compilation failed (or could not run), "aftermalloc CMD: FILE: ...".
 */
int plugin_compile(const char *cmd, const char *src, const char *out, FILE *err);

/* The public headers as this binary knows them, for plugin_compile and for
   writing them out: "policy.h" and "memlib.h"; NULL for another name. */
const char *plugin_header_text(const char *name);

#endif
