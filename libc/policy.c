/*
 * policy.c - the out-of-line twins of the loads and stores that libc.h
 * gives the built-in policies inline (libc_ld32, libc_st32, libc_ld64,
 * libc_st64), under the same symbol names, for plugins: a shared object
 * built against libc/policy.h calls these (libc/policy.syms exports them).
 * Each is the inline version's body, so a plugin's access costs what a
 * built-in one does plus a call.
 */
#include "libc.h"

/* The C names differ from the inline ones in libc.h; the symbols do not. */
uint64_t policy_ld64(struct libc *lc, vaddr_t va) __asm__("libc_ld64");
void policy_st64(struct libc *lc, vaddr_t va, uint64_t v) __asm__("libc_st64");
uint32_t policy_ld32(struct libc *lc, vaddr_t va) __asm__("libc_ld32");
void policy_st32(struct libc *lc, vaddr_t va, uint32_t v) __asm__("libc_st32");

uint64_t policy_ld64(struct libc *lc, vaddr_t va)
{
	uint64_t v;

	return cpu_load_fast(lc->cpu, va, 8, &v) ? v : libc_load_slow(lc, va, 8);
}

void policy_st64(struct libc *lc, vaddr_t va, uint64_t v)
{
	if (!cpu_store_fast(lc->cpu, va, 8, v))
		libc_store_slow(lc, va, 8, v);
}

uint32_t policy_ld32(struct libc *lc, vaddr_t va)
{
	uint64_t v;

	return (uint32_t)(cpu_load_fast(lc->cpu, va, 4, &v) ? v : libc_load_slow(lc, va, 4));
}

void policy_st32(struct libc *lc, vaddr_t va, uint32_t v)
{
	if (!cpu_store_fast(lc->cpu, va, 4, v))
		libc_store_slow(lc, va, 4, v);
}
