/*
 * support_sim.h - the simulation fixture the unit tests share: a booted
 * kernel (kernel_boot), one task (task_create), optionally the simulated
 * libc with a malloc policy (libc_init), every event recorded, and the
 * checkers (kernel_check, the policy's check) asserted after each step.
 * Test-only code: it asserts with Criterion and never returns on failure.
 */
#ifndef TESTS_SUPPORT_SIM_H
#define TESTS_SUPPORT_SIM_H

#include "kernel_sim/kernel.h"
#include "libc/libc.h"

#define SIM_MAX_EVENTS 16384

/* Events seen by the probe sink, in order; at most cap (SIM_MAX_EVENTS if 0). */
struct sim_recorder {
	unsigned n;
	unsigned cap;
	struct event ev[SIM_MAX_EVENTS];
};

/* probe sink: appends ev to the struct sim_recorder ctx while it has room. */
void sim_record(void *ctx, const struct event *ev);

/* kernel_check(k) must find nothing broken. */
void sim_kernel_check(struct kernel *k);

/* kernel_boot(k, o) with rec as the probe's sink, then task_create(name);
   asserts both and kernel_check, then empties rec. Returns the task. */
struct task *sim_kernel_boot(struct kernel *k, const struct kernel_opts *o,
                             struct sim_recorder *rec, const char *name);

/* Boot k with ram bytes of RAM and swap bytes of swap (0: none), no sink,
   and create the task name (asserts both). Returns the task. */
struct task *sim_boot_ram_swap(struct kernel *k, uint64_t ram, uint64_t swap, const char *name);

/* As t, one byte into (write: the byte 0x5a) or from each of pages pages at
   va, then kernel_check; the bytes read are added up in *sum (if not NULL).
   Returns the signal that killed t, or 0. */
int sim_touch_pages(struct kernel *k, struct task *t, vaddr_t va, uint64_t pages, bool write,
                    uint64_t *sum);

/* A booted kernel, one task, its libc; nev/ev as in struct sim_recorder. */
struct sim {
	struct kernel k;
	struct task *t;
	struct libc lc;
	unsigned nev;
	unsigned cap;
	struct event ev[SIM_MAX_EVENTS];
};

struct sim_opts {
	uint64_t phys_bytes; /* 0: kernel_default_opts' */
	const char *task;    /* task name */
	const char *policy;  /* malloc_policy() name; it must exist */
	unsigned max_events; /* events recorded at most (0: SIM_MAX_EVENTS) */
	bool record;         /* install the recording probe sink */
};

/* Boot s from o: kernel, task, libc_init; asserts each step. */
void sim_boot(struct sim *s, const struct sim_opts *o);

/* Undo sim_boot. A failed assertion inside task_run leaves the task running
   (exit_jmp set): then everything is left to the exit of the test's process. */
void sim_teardown(struct sim *s);

/* The policy's checker and kernel_check must both find nothing broken. */
void sim_check(struct libc *lc);

/* Run body(&s->lc) as the process; it must not die; then sim_check. */
void sim_run(struct sim *s, void (*body)(void *));

/* Run fn(arg) as thread t of lc (NULL: its main thread) in its task of k;
   task_run's result. The thread current before is lc's current one again
   after. For a libc of its own (a forked child's) too. */
int sim_run_in(struct kernel *k, struct libc *lc, struct libc_thread *t, void (*fn)(void *),
               void *arg);
/* sim_run_in with s's kernel and libc. */
int sim_run_as(struct sim *s, struct libc_thread *t, void (*fn)(void *), void *arg);

/* malloc(n) then sim_check; the result must not be 0. */
vaddr_t sim_xmalloc(struct libc *lc, uint64_t n);

/* free(p) then sim_check. */
void sim_xfree(struct libc *lc, vaddr_t p);

/* A live block of the random-sequence tests: n bytes at p, all set to pat. */
struct sim_live {
	vaddr_t p;
	uint64_t n;
	uint8_t pat;
};

/* xorshift64: the next of the tests' reproducible pseudo-random numbers. */
uint64_t sim_rng_next(uint64_t *s);

/* Every byte of l must still hold l->pat. */
void sim_verify_live(struct libc *lc, const struct sim_live *l);

/* Check l's contents, free it (sim_xfree) and forget it. */
void sim_live_free(struct libc *lc, struct sim_live *l);

/* realloc l to n bytes (16-aligned, checked): the old contents must survive
   up to the smaller size; then all n bytes are set to l->pat. */
void sim_live_realloc(struct libc *lc, struct sim_live *l, uint64_t n);

/* malloc n bytes into l (sim_xmalloc, 16-aligned), all set to pat. */
void sim_live_malloc(struct libc *lc, struct sim_live *l, uint64_t n, uint8_t pat);

#endif /* TESTS_SUPPORT_SIM_H */
