/*
 * uthash_host.h - uthash (Debian's uthash-dev), as every host table of the
 * project includes it: include this, never <uthash.h> itself.
 *
 * What it changes is what happens when the host refuses memory to a table
 * (its first buckets, or twice as many when a chain grows long). uthash's
 * own uthash_fatal is exit(-1): status 255 and not a word. Here it is
 * host_oom (vm/panic.h): "PROGRAM: out of host memory for a hash table
 * (FILE:LINE)" on stderr, the line of the HASH_ADD that asked, and exit
 * status 2, as wherever the host refuses memory (docs/reference.md, Exit
 * statuses). uthash_fatal does not return, and no atexit handler walks a
 * table: the one the failed add leaves half made is never used again.
 *
 * A file that puts its tables elsewhere (libc/glibc_check.c: in the
 * simulation's host memory) or hashes its keys its own way defines
 * uthash_malloc/uthash_free or HASH_FUNCTION before including this.
 */
#ifndef VM_UTHASH_HOST_H
#define VM_UTHASH_HOST_H

#include "panic.h"

#define uthash_fatal(msg) host_oom("a hash table")

#include <uthash.h>

#endif
