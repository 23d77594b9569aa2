/*
 * pthread.c - glibc 2.36's thread creation, end and join, as far as memory
 * goes (see pthread.h): allocate_stack with its guard page and the stack
 * cache (get_cached_stack, queue_stack, __nptl_free_stacks), the struct
 * pthread and static TLS at the top of the stack, _dl_allocate_tls's DTV
 * (a calloc in the creating thread's arena), create_thread's clone3, and
 * at the end start_thread's __libc_thread_freeres and advise_stack_range,
 * then pthread_join's __nptl_free_tcb. The stack cache's list, which glibc
 * links through each cached struct pthread, is kept host-side: its links
 * would sit on the stacks' top pages, resident anyway.
 */
#include "pthread.h"

#include <stdlib.h>
#include <string.h>

#include "../kernel_sim/syscalls.h"
#include "../vm/hostmem.h"
#include "glibc_malloc.h"

/* A stack in glibc's cache: its struct pthread and mapping (host-side). */
struct cached_stack {
	vaddr_t pd, stackblock, dtv;
	uint64_t size, guardsize;
	bool reclaimed;            /* a thread's of the parent, put here by fork: its
	                              tid still to clear (libc_pthread_reclaim_stacks) */
	struct cached_stack *next; /* newest first, as list_add puts them */
};

static struct probe *pr(struct libc *lc)
{
	return &lc->k->probe;
}

uint64_t libc_pthread_default_stacksize(const struct task *t)
{
	uint64_t cur = t->rlim[SIM_RLIMIT_STACK].cur;
	uint64_t min = PAGE_SIZE + PTHREAD_STATIC_TLS + 2048;

	if (cur == SIM_RLIM_INFINITY)
		cur = PTHREAD_STACK_DEFAULT;
	else if (cur < PTHREAD_STACK_MIN)
		cur = PTHREAD_STACK_MIN;
	if (cur < min)
		cur = min;
	return PAGE_ALIGN(cur);
}

/* get_cached_stack: the smallest cached stack of at least size bytes, not
   more than 4 times too large; removed from the cache. */
static struct cached_stack *get_cached_stack(struct libc *lc, uint64_t size)
{
	struct cached_stack **pp, **best = NULL;

	for (pp = (struct cached_stack **)&lc->stack_cache; *pp; pp = &(*pp)->next) {
		if ((*pp)->size >= size) {
			if ((*pp)->size == size) {
				best = pp;
				break;
			}
			if (!best || (*best)->size > (*pp)->size)
				best = pp;
		}
	}
	if (!best || (*best)->size > 4 * size) {
		return NULL;
	} else {
		struct cached_stack *c = *best;

		*best = c->next;
		lc->stack_cache_size -= c->size;
		return c;
	}
}

/* The struct pthread's fields a new thread starts with: stores into the
   stack's top page (the first of them faults it in). */
static void init_pd(struct libc *lc, vaddr_t pd, vaddr_t mem, uint64_t size, uint64_t guard)
{
	libc_st64(lc, pd + PD_TCB, pd);
	libc_st64(lc, pd + PD_SELF, pd);
	libc_st32(lc, pd + PD_MULTIPLE_THREADS, 1);
	libc_st64(lc, pd + PD_STACKBLOCK, mem);
	libc_st64(lc, pd + PD_STACKBLOCK_SIZE, size);
	libc_st64(lc, pd + PD_GUARDSIZE, guard);
}

/* _dl_allocate_tls_init: the static TLS block afresh (libc's .tdata copied,
   its .tbss, where malloc's __thread variables are, zeroed). */
static void init_tls(struct libc *lc, vaddr_t pd)
{
	libc_memset(lc, pd - LIBC_TLS_SIZE, 0, LIBC_TLS_SIZE);
}

/*
 * allocate_stack: a cached stack, or a new mapping of the stack size plus
 * a guard page, all PROT_NONE, then all but the guard (its low end) made
 * read-write; the struct pthread at its top, the DTV (calloc in this
 * thread's arena), the static TLS initialized. 0 or an errno.
 */
static int allocate_stack(struct libc *lc, struct libc_thread *t)
{
	uint64_t guard = PAGE_SIZE, size = lc->stacksize + guard;
	struct cached_stack *c;
	vaddr_t mem, pd, dtv;

	probe_call(pr(lc), LAYER_LIBC, "allocate_stack", {"size", size});
	c = get_cached_stack(lc, size);
	if (c) {
		mem = c->stackblock;
		size = c->size;
		pd = c->pd;
		dtv = c->dtv;
		hostmem_free(c);
		/* the DTV is kept and cleared; the TLS set up afresh */
		libc_memset(lc, dtv + 16, 0, (PTHREAD_DTV_ENTRIES - 1) * 16ULL);
		init_tls(lc, pd);
		EV(pr(lc), LAYER_LIBC, EV_HEAP, "allocate_stack", "stack reused from the cache",
		   {"stack", mem}, {"size", size});
	} else {
		mem = libc_mmap(lc, 0, size, SIM_PROT_NONE,
		                SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS | SIM_MAP_STACK);
		if (mem == LIBC_MAP_FAILED) {
			probe_ret(pr(lc), LAYER_LIBC, "allocate_stack", {"ret", SIM_ENOMEM});
			return lc->errno_;
		}
		pd = (mem + size - PTHREAD_TCB_SIZE) & ~63ULL;
		if (libc_mprotect(lc, mem + guard, size - guard,
		                  SIM_PROT_READ | SIM_PROT_WRITE) != 0) {
			int e = lc->errno_;

			libc_munmap(lc, mem, size);
			probe_ret(pr(lc), LAYER_LIBC, "allocate_stack", {"ret", (uint64_t)e});
			return e;
		}
		init_pd(lc, pd, mem, size, guard);
		/* _dl_allocate_tls -> allocate_dtv: calloc in the creating thread */
		dtv = libc_calloc(lc, PTHREAD_DTV_ENTRIES, 16);
		if (!dtv) {
			libc_munmap(lc, mem, size);
			probe_ret(pr(lc), LAYER_LIBC, "allocate_stack", {"ret", SIM_ENOMEM});
			return SIM_ENOMEM;
		}
		libc_st64(lc, dtv, PTHREAD_DTV_ENTRIES - 2); /* dtv[0].counter: dtv_length */
		libc_st64(lc, pd + PD_DTV, dtv + 16);
		init_tls(lc, pd);
		EV(pr(lc), LAYER_LIBC, EV_HEAP, "allocate_stack", "new stack with a guard page",
		   {"stack", mem}, {"size", size});
	}
	t->pd = pd;
	t->tls = pd - LIBC_TLS_SIZE;
	t->stackblock = mem;
	t->stackblock_size = size;
	t->guardsize = guard;
	t->dtv = dtv;
	probe_ret(pr(lc), LAYER_LIBC, "allocate_stack", {"ret", 0}, {"pd", pd});
	return 0;
}

/* __nptl_free_stacks: unmap the oldest cached stacks (their DTVs freed)
   until the cache holds at most limit bytes. */
static void free_stacks(struct libc *lc, uint64_t limit)
{
	while (lc->stack_cache && lc->stack_cache_size > limit) {
		struct cached_stack **pp = (struct cached_stack **)&lc->stack_cache, *c;

		while ((*pp)->next)
			pp = &(*pp)->next;
		c = *pp;
		*pp = NULL;
		lc->stack_cache_size -= c->size;
		libc_free(lc, c->dtv - 16); /* _dl_deallocate_tls */
		EV(pr(lc), LAYER_LIBC, EV_HEAP, "__nptl_free_stacks", "cached stack unmapped",
		   {"stack", c->stackblock}, {"size", c->size});
		libc_munmap(lc, c->stackblock, c->size);
		hostmem_free(c);
	}
}

/* queue_stack: the stack into the cache, trimmed to 40 MiB. */
static void queue_stack(struct libc *lc, struct libc_thread *t)
{
	struct cached_stack *c = hostmem_calloc(1, sizeof(*c));

	if (!c)
		host_oom("a cached thread stack");
	c->pd = t->pd;
	c->stackblock = t->stackblock;
	c->size = t->stackblock_size;
	c->guardsize = t->guardsize;
	c->dtv = t->dtv;
	c->next = lc->stack_cache;
	lc->stack_cache = c;
	lc->stack_cache_size += c->size;
	if (lc->stack_cache_size > PTHREAD_STACK_CACHE_MAX)
		free_stacks(lc, PTHREAD_STACK_CACHE_MAX);
}

struct libc_thread *libc_pthread_create(struct libc *lc, int *err)
{
	struct libc_thread *t = hostmem_calloc(1, sizeof(*t));
	struct sim_clone_args args;
	int64_t tid;
	int e;

	if (!t)
		host_oom("a thread");
	probe_call(pr(lc), LAYER_LIBC, "pthread_create");
	/* __libc_single_threaded = 0: from now on malloc locks its arenas */
	libc_st32(lc, lc->data + LD_MULTIPLE_THREADS, 1);
	e = allocate_stack(lc, t);
	if (e) {
		e = e == SIM_ENOMEM ? SIM_EAGAIN : e;
		goto fail;
	}
	/* create_thread: clone3 with glibc's flags; the kernel writes the tid
	   into pd->tid (CLONE_PARENT_SETTID) and clears it when the thread
	   ends (CLONE_CHILD_CLEARTID) */
	args = (struct sim_clone_args){
	    .flags = SIM_CLONE_VM | SIM_CLONE_FS | SIM_CLONE_FILES | SIM_CLONE_SYSVSEM |
	             SIM_CLONE_SIGHAND | SIM_CLONE_THREAD | SIM_CLONE_SETTLS |
	             SIM_CLONE_PARENT_SETTID | SIM_CLONE_CHILD_CLEARTID,
	    .parent_tid = t->pd + PD_TID,
	    .child_tid = t->pd + PD_TID,
	    .stack = t->stackblock,
	    .stack_size = (t->pd - PTHREAD_STATIC_TLS) - t->stackblock,
	    .tls = t->pd,
	};
	tid = sys_clone3(lc->k, &args);
	if (tid < 0) {
		e = (int)-tid;
		/* __nptl_deallocate_stack: the stack goes to the cache */
		queue_stack(lc, t);
		goto fail;
	}
	t->tid = (int)tid;
	t->task = find_task_by_pid(lc->k, (int)tid);
	if (!t->task)
		panic("clone3 returned %lld, no such task", (long long)tid);
	t->next = lc->threads;
	lc->threads = t;
	probe_ret(pr(lc), LAYER_LIBC, "pthread_create", {"ret", 0}, {"tid", (uint64_t)tid});
	*err = 0;
	return t;
fail:
	hostmem_free(t);
	*err = e;
	probe_ret(pr(lc), LAYER_LIBC, "pthread_create", {"ret", (uint64_t)e});
	return NULL;
}

void libc_thread_start(struct libc *lc, struct libc_thread *t)
{
	vaddr_t sp = (t->pd - PTHREAD_STATIC_TLS) & ~15ULL;

	probe_call(pr(lc), LAYER_LIBC, "start_thread", {"pd", t->pd});
	/* the first frame below the static TLS: a call pushes its return address */
	libc_st64(lc, sp - 8, 0);
	probe_ret(pr(lc), LAYER_LIBC, "start_thread");
}

void libc_thread_exit(struct libc *lc)
{
	struct libc_thread *t = lc->self;
	vaddr_t sp = ((t->pd - PTHREAD_STATIC_TLS) & ~15ULL) - 8;
	uint64_t freesize = (sp - t->stackblock) & ~(PAGE_SIZE - 1);

	if (t == &lc->main_thread)
		panic("libc_thread_exit of the main thread");
	probe_call(pr(lc), LAYER_LIBC, "__libc_thread_freeres");
	lc->in_malloc++;
	if (lc->ops == &malloc_ops_glibc)
		glibc_thread_freeres(lc);
	lc->in_malloc--;
	probe_ret(pr(lc), LAYER_LIBC, "__libc_thread_freeres");
	/* advise_stack_range: the stack below the frames in use, less
	   PTHREAD_STACK_MIN, goes back */
	if (freesize > PTHREAD_STACK_MIN)
		libc_madvise(lc, t->stackblock, freesize - PTHREAD_STACK_MIN, SIM_MADV_DONTNEED);
	t->exited = true;
	sys_exit(lc->k, 0);
	panic("exit returned: libc_thread_exit not run inside task_run");
}

int libc_pthread_join(struct libc *lc, struct libc_thread *t)
{
	struct libc_thread **pp;

	if (t == lc->self)
		return SIM_EDEADLK;
	for (pp = &lc->threads; *pp && *pp != t; pp = &(*pp)->next)
		;
	if (!*pp || !t->exited || t == &lc->main_thread)
		return SIM_EINVAL;
	probe_call(pr(lc), LAYER_LIBC, "pthread_join", {"tid", (uint64_t)t->tid});
	/* the kernel cleared pd->tid when the thread exited: the wait is over */
	if (libc_ld32(lc, t->pd + PD_TID) != 0)
		panic("pthread_join: tid %d still set in its struct pthread", t->tid);
	*pp = t->next;
	/* __nptl_free_tcb -> __nptl_deallocate_stack -> queue_stack */
	queue_stack(lc, t);
	probe_ret(pr(lc), LAYER_LIBC, "pthread_join", {"ret", 0});
	hostmem_free(t);
	return 0;
}

struct libc_thread *libc_thread_find(struct libc *lc, int tid)
{
	for (struct libc_thread *t = lc->threads; t; t = t->next)
		if (t->tid == tid)
			return t;
	return NULL;
}

void libc_threads_release(struct libc *lc)
{
	struct libc_thread *t = lc->threads, *next;
	struct cached_stack *c = lc->stack_cache, *cn;

	for (; t; t = next) {
		next = t->next;
		if (t != &lc->main_thread)
			hostmem_free(t);
	}
	lc->threads = lc->self = &lc->main_thread;
	lc->main_thread.next = NULL;
	for (; c; c = cn) {
		cn = c->next;
		hostmem_free(c);
	}
	lc->stack_cache = NULL;
	lc->stack_cache_size = 0;
}

/* A host-side copy of a cached stack, linked to next. */
static struct cached_stack *cached_copy(const struct cached_stack *c, struct cached_stack *next)
{
	struct cached_stack *n = hostmem_malloc(sizeof(*n));

	if (!n)
		host_oom("a cached thread stack");
	*n = *c;
	n->next = next;
	return n;
}

void libc_pthread_fork_child(struct libc *child, const struct libc *parent)
{
	const struct cached_stack *c;
	struct cached_stack *head = NULL, **tail = &head;

	/* reclaim_stacks: the stacks in use by the parent's other threads
	   (stack_used, newest first) go in front of the cache (list_splice);
	   the main thread's is not one of them (a user stack: dropped), nor is
	   the forking thread's, the child's own now */
	for (const struct libc_thread *t = parent->threads; t; t = t->next) {
		struct cached_stack r;

		if (t == parent->self || t == &parent->main_thread)
			continue;
		r = (struct cached_stack){.pd = t->pd,
		                          .stackblock = t->stackblock,
		                          .dtv = t->dtv,
		                          .size = t->stackblock_size,
		                          .guardsize = t->guardsize,
		                          .reclaimed = true};
		*tail = cached_copy(&r, NULL);
		tail = &(*tail)->next;
		child->stack_cache_size += r.size;
	}
	/* then the parent's cache, the child's own copy of it */
	for (c = parent->stack_cache; c; c = c->next) {
		*tail = cached_copy(c, NULL);
		tail = &(*tail)->next;
	}
	child->stack_cache = head;
}

void libc_pthread_reclaim_stacks(struct libc *lc)
{
	for (struct cached_stack *c = lc->stack_cache; c; c = c->next)
		if (c->reclaimed) {
			/* curp->tid = 0: the stack is free */
			libc_st32(lc, c->pd + PD_TID, 0);
			c->reclaimed = false;
		}
}
