/*
 * support_sim.c - the shared simulation fixture of the unit tests (see
 * support_sim.h): boot a kernel, create a task, libc_init with a policy,
 * record the probe's events, run code inside task_run and assert the
 * checkers after every operation.
 */
#include <criterion/criterion.h>

#include "tests/support_sim.h"
#include "vm/cpu.h"

void sim_record(void *ctx, const struct event *ev)
{
	struct sim_recorder *r = ctx;
	unsigned cap = r->cap ? r->cap : SIM_MAX_EVENTS;

	if (r->n < cap)
		r->ev[r->n++] = *ev;
}

/* The probe sink of struct sim: same rule as sim_record, on s->nev/s->ev. */
static void sim_record_env(void *ctx, const struct event *ev)
{
	struct sim *s = ctx;
	unsigned cap = s->cap ? s->cap : SIM_MAX_EVENTS;

	if (s->nev < cap)
		s->ev[s->nev++] = *ev;
}

void sim_kernel_check(struct kernel *k)
{
	cr_assert_eq(kernel_check(k, stderr), 0, "kernel_check failed");
}

struct task *sim_boot_ram_swap(struct kernel *k, uint64_t ram, uint64_t swap, const char *name)
{
	struct kernel_opts o;
	struct task *t;

	kernel_default_opts(&o);
	o.phys_bytes = ram;
	o.swap_bytes = swap;
	cr_assert_eq(kernel_boot(k, &o, stderr), 0);
	t = task_create(k, name);
	cr_assert_not_null(t);
	return t;
}

struct task *sim_kernel_boot(struct kernel *k, const struct kernel_opts *o,
                             struct sim_recorder *rec, const char *name)
{
	struct task *t;

	cr_assert_eq(kernel_boot(k, o, stderr), 0);
	probe_set_sink(&k->probe, sim_record, rec);
	t = task_create(k, name);
	cr_assert_not_null(t);
	sim_kernel_check(k);
	rec->n = 0;
	return t;
}

struct sim_access {
	struct kernel *k;
	vaddr_t va;
	uint64_t pages;
	bool write;
	uint64_t sum;
};

static void sim_do_access(void *arg)
{
	struct sim_access *a = arg;
	uint64_t v;

	for (uint64_t i = 0; i < a->pages; i++) {
		if (a->write) {
			cpu_store(&a->k->cpu, a->va + i * PAGE_SIZE, 1, 0x5a);
		} else {
			cpu_load(&a->k->cpu, a->va + i * PAGE_SIZE, 1, &v);
			a->sum += v;
		}
	}
}

int sim_touch_pages(struct kernel *k, struct task *t, vaddr_t va, uint64_t pages, bool write,
                    uint64_t *sum)
{
	struct sim_access a = {k, va, pages, write, 0};
	int sig = task_run(k, t, sim_do_access, &a);

	sim_kernel_check(k);
	if (sum)
		*sum = a.sum;
	return sig;
}

void sim_boot(struct sim *s, const struct sim_opts *o)
{
	struct kernel_opts ko;

	kernel_default_opts(&ko);
	if (o->phys_bytes)
		ko.phys_bytes = o->phys_bytes;
	cr_assert_eq(kernel_boot(&s->k, &ko, stderr), 0);
	s->t = task_create(&s->k, o->task);
	cr_assert_not_null(s->t);
	cr_assert_not_null(malloc_policy(o->policy), "no policy %s", o->policy);
	libc_init(&s->lc, &s->k, malloc_policy(o->policy));
	s->nev = 0;
	s->cap = o->max_events;
	if (o->record)
		probe_set_sink(&s->k.probe, sim_record_env, s);
}

void sim_teardown(struct sim *s)
{
	if (s->t && s->t->exit_jmp)
		return;
	if (s->t)
		task_destroy(&s->k, s->t);
	kernel_shutdown(&s->k);
}

void sim_check(struct libc *lc)
{
	cr_assert_eq(lc->ops->check(lc, stderr), 0, "%s check failed", lc->ops->name);
	sim_kernel_check(lc->k);
}

void sim_run(struct sim *s, void (*body)(void *))
{
	int sig = task_run(&s->k, s->t, body, &s->lc);

	cr_assert_eq(sig, 0, "process died of signal %d: %s", sig, s->t->death.reason);
	sim_check(&s->lc);
}

int sim_run_in(struct kernel *k, struct libc *lc, struct libc_thread *t, void (*fn)(void *),
               void *arg)
{
	struct libc_thread *before = lc->self, *self = t ? t : &lc->main_thread;
	int r;

	libc_set_self(lc, self);
	r = task_run(k, self->task, fn, arg);
	libc_set_self(lc, before);
	return r;
}

int sim_run_as(struct sim *s, struct libc_thread *t, void (*fn)(void *), void *arg)
{
	return sim_run_in(&s->k, &s->lc, t, fn, arg);
}

vaddr_t sim_xmalloc(struct libc *lc, uint64_t n)
{
	vaddr_t p = libc_malloc(lc, n);

	sim_check(lc);
	cr_assert_neq(p, 0, "malloc(%llu) failed", (unsigned long long)n);
	return p;
}

void sim_xfree(struct libc *lc, vaddr_t p)
{
	libc_free(lc, p);
	sim_check(lc);
}

uint64_t sim_rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

void sim_verify_live(struct libc *lc, const struct sim_live *l)
{
	cr_assert_eq(cpu_check_fill(lc->cpu, l->p, l->pat, l->n), 0,
	             "contents of %#llx (%llu bytes) changed", (unsigned long long)l->p,
	             (unsigned long long)l->n);
}

void sim_live_free(struct libc *lc, struct sim_live *l)
{
	sim_verify_live(lc, l);
	sim_xfree(lc, l->p);
	l->p = 0;
}

void sim_live_realloc(struct libc *lc, struct sim_live *l, uint64_t n)
{
	sim_verify_live(lc, l);
	l->p = libc_realloc(lc, l->p, n);
	sim_check(lc);
	cr_assert_neq(l->p, 0);
	cr_assert_eq(l->p & 15, 0);
	if (l->n > n)
		l->n = n;
	sim_verify_live(lc, l);
	libc_memset(lc, l->p, l->pat, n);
	l->n = n;
}

void sim_live_malloc(struct libc *lc, struct sim_live *l, uint64_t n, uint8_t pat)
{
	l->p = sim_xmalloc(lc, n);
	cr_assert_eq(l->p & 15, 0);
	l->n = n;
	l->pat = pat;
	libc_memset(lc, l->p, l->pat, n);
}
