/*
 * policy.c - the loads and stores of the policy interface (policy.h) as
 * functions, for plugins: a shared object built against policy.h calls
 * these (libc/policy.syms exports them). The built-in policies have the 32-
 * and 64-bit ones inline (libc.h); here are their out-of-line twins, under
 * the same symbol names, and the byte and 16-bit ones only plugins use.
 * Each is the inline path of libc.h -- the CPU's fast slot, else the slow
 * path out of line -- so a plugin's access costs a built-in one's plus a
 * call.
 */
#include "libc.h"

#define POLICY_LOAD(fn, type, size)                                                                \
	type fn(struct libc *lc, vaddr_t va)                                                       \
	{                                                                                          \
		uint64_t v;                                                                        \
		return (type)(cpu_load_fast(lc->cpu, va, size, &v)                                 \
		                  ? v                                                              \
		                  : libc_load_slow(lc, va, size));                                 \
	}

#define POLICY_STORE(fn, type, size)                                                               \
	void fn(struct libc *lc, vaddr_t va, type v)                                               \
	{                                                                                          \
		if (!cpu_store_fast(lc->cpu, va, size, v))                                         \
			libc_store_slow(lc, va, size, v);                                          \
	}

/* The C names of the twins differ from libc.h's inline ones; the symbols do not. */
uint32_t policy_ld32(struct libc *lc, vaddr_t va) __asm__("libc_ld32");
void policy_st32(struct libc *lc, vaddr_t va, uint32_t v) __asm__("libc_st32");
uint64_t policy_ld64(struct libc *lc, vaddr_t va) __asm__("libc_ld64");
void policy_st64(struct libc *lc, vaddr_t va, uint64_t v) __asm__("libc_st64");

POLICY_LOAD(libc_ld8, uint8_t, 1)
POLICY_STORE(libc_st8, uint8_t, 1)
POLICY_LOAD(libc_ld16, uint16_t, 2)
POLICY_STORE(libc_st16, uint16_t, 2)
POLICY_LOAD(policy_ld32, uint32_t, 4)
POLICY_STORE(policy_st32, uint32_t, 4)
POLICY_LOAD(policy_ld64, uint64_t, 8)
POLICY_STORE(policy_st64, uint64_t, 8)
