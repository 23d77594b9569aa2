/*
 * session_exec.c - the statements that run code in the simulated program:
 * one C library or system call each (malloc, sbrk, mmap, fork, wait,
 * pthread_create...), loads and stores through the MMU, run by session_step
 * inside task_run so that a fatal signal unwinds from here. `thread` and
 * `join` also run the new or joined thread's own steps, in its task.
 */
#include "session_internal.h"

#include <string.h>

#include "../../kernel_sim/oom.h"
#include "../../kernel_sim/syscalls.h"
#include "../../libc/glibc_malloc.h"
#include "../../libc/process.h"
#include "../../libc/pthread.h"
#include "../../vm/panic.h"

/* wait's status as the script gets it: the exit status, or 128 + the signal
   number for a child killed by a signal (as a shell's $?). */
static int64_t wait_value(int status)
{
	return (status & 0x7f) ? 128 + (status & 0x7f) : (status >> 8) & 0xff;
}

/* ---- statements ------------------------------------------------------ */

/* A kernel result (0 or -errno) as the C library returns it: 0, or -1 and errno. */
static int64_t status_errno(struct libc *lc, int r)
{
	if (r >= 0)
		return 0;
	lc->errno_ = -r;
	return -1;
}

/* The PROT_ bits of mmap's and mprotect's keyword (rw, r-x, ...). */
static int prot_of(int kw)
{
	return (kw & SCRIPT_PROT_R ? SIM_PROT_READ : 0) |
	       (kw & SCRIPT_PROT_W ? SIM_PROT_WRITE : 0) | (kw & SCRIPT_PROT_X ? SIM_PROT_EXEC : 0);
}

static const int rlimit_of[RES__COUNT] = {
    [RES_DATA] = SIM_RLIMIT_DATA,
    [RES_STACK] = SIM_RLIMIT_STACK,
    [RES_AS] = SIM_RLIMIT_AS,
    [RES_CPU] = SIM_RLIMIT_CPU,
};

/*
 * P + OFF of store, load, touch and read: address arithmetic is unsigned
 * and wraps at 2^64 as the CPU's does (docs/reference.md, Values and
 * expressions), so 0x7fffffffffffffff + 1 is 0x8000000000000000, a
 * non-canonical address the program faults on, not an overflow of the host.
 */
vaddr_t session_user_addr(int64_t p, int64_t off)
{
	return (vaddr_t)((uint64_t)p + (uint64_t)off);
}

/* load: 1 to 8 bytes, little-endian, through the MMU. */
static int64_t user_load(struct cpu *cpu, vaddr_t va, uint64_t size)
{
	uint64_t v = 0;
	uint8_t b[8];

	if (size == 0)
		return 0;
	if (size > 8)
		size = 8;
	if (size == 1 || size == 2 || size == 4 || size == 8) {
		cpu_load(cpu, va, (unsigned)size, &v);
		return (int64_t)v;
	}
	memset(b, 0, sizeof(b));
	cpu_read(cpu, va, b, size);
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return (int64_t)v;
}

/* One byte in every page of [va, va + len): the first at va. */
static void user_touch(struct cpu *cpu, vaddr_t va, uint64_t len, bool write)
{
	uint64_t v;

	/* One byte in every page of [va, va+len), counted by bytes left so that a
	   range reaching the top of the address space (va = MAP_FAILED) still
	   touches its first page and faults there. */
	while (len) {
		uint64_t step = PAGE_SIZE - (va & (PAGE_SIZE - 1));

		if (write)
			cpu_store(cpu, va, 1, 0);
		else
			cpu_load(cpu, va, 1, &v);
		if (step >= len)
			break;
		len -= step;
		va += step;
	}
}

void session_exec_stmt(void *arg)
{
	struct exec *x = arg;
	struct session *s = x->s;
	struct libc *lc = s->lc;
	struct cpu *cpu = &s->k.cpu;
	const struct stmt *st = x->st;
	int64_t *a = x->a;

	cpu->user = true;
	switch (st->op) {
	case ST_SBRK:
		x->ret = (int64_t)libc_sbrk(lc, a[0]);
		break;
	case ST_BRK:
		x->ret = libc_brk(lc, (vaddr_t)a[0]);
		break;
	case ST_MMAP:
		x->ret = (int64_t)libc_mmap(lc, 0, (uint64_t)a[0], prot_of(st->kw),
		                            SIM_MAP_PRIVATE | SIM_MAP_ANONYMOUS);
		break;
	case ST_MUNMAP:
		x->ret = libc_munmap(lc, (vaddr_t)a[0], (uint64_t)a[1]);
		break;
	case ST_MPROTECT:
		x->ret = libc_mprotect(lc, (vaddr_t)a[0], (uint64_t)a[1], prot_of(st->kw));
		break;
	case ST_MADVISE: {
		static const int advice[ADV__COUNT] = {SIM_MADV_NORMAL, SIM_MADV_WILLNEED,
		                                       SIM_MADV_DONTNEED, SIM_MADV_FREE};

		x->ret = libc_madvise(lc, (vaddr_t)a[0], (uint64_t)a[1], advice[st->kw]);
		break;
	}
	case ST_MREMAP:
		x->ret = (int64_t)libc_mremap(lc, (vaddr_t)a[0], (uint64_t)a[1], (uint64_t)a[2],
		                              st->kw ? SIM_MREMAP_MAYMOVE : 0);
		break;
	case ST_STORE:
		cpu_fill(cpu, session_user_addr(a[0], a[1]), (uint8_t)a[2],
		         st->nargs > 3 ? (size_t)a[3] : 1);
		break;
	case ST_LOAD:
		x->ret = user_load(cpu, session_user_addr(a[0], a[1]),
		                   st->nargs > 2 ? (uint64_t)a[2] : 8);
		break;
	case ST_TOUCH:
		user_touch(cpu, session_user_addr(a[0], a[1]), (uint64_t)a[2], true);
		break;
	case ST_READ:
		user_touch(cpu, session_user_addr(a[0], a[1]), (uint64_t)a[2], false);
		break;
	case ST_SETRLIMIT: {
		struct sim_rlimit rl;
		int res = rlimit_of[st->kw];

		/* setrlimit sets both limits; an omitted hard limit stays as it is
		   (read from the task as prlimit(1) would, without a system call). */
		rl.max = s->task->rlim[res].max;
		rl.cur = (uint64_t)a[0];
		if (st->nargs > 1)
			rl.max = (uint64_t)a[1];
		x->ret = sys_setrlimit(&s->k, res, &rl);
		/* glibc's wrapper: -1 and errno from the kernel's -errno */
		if (x->ret < 0) {
			lc->errno_ = (int)-x->ret;
			x->ret = -1;
		}
		break;
	}
	case ST_MALLOC:
		x->ret = (int64_t)libc_malloc(lc, (uint64_t)a[0]);
		break;
	case ST_CALLOC:
		x->ret = (int64_t)libc_calloc(lc, (uint64_t)a[0], (uint64_t)a[1]);
		break;
	case ST_REALLOC:
		x->ret = (int64_t)libc_realloc(lc, (vaddr_t)a[0], (uint64_t)a[1]);
		break;
	case ST_FREE:
		libc_free(lc, (vaddr_t)a[0]);
		break;
	case ST_MEMALIGN: {
		vaddr_t p = 0;

		int e = libc_posix_memalign(lc, &p, (uint64_t)a[0], (uint64_t)a[1]);

		/* posix_memalign returns its error and leaves errno alone; the
		   statement, which has no place for it, puts it in errno
		   (docs/reference.md). */
		x->ret = e == 0 ? (int64_t)p : 0;
		if (e)
			lc->errno_ = e;
		break;
	}
	case ST_USABLE:
		x->ret = (int64_t)libc_malloc_usable_size(lc, (vaddr_t)a[0]);
		break;
	case ST_SYSCTL:
		x->ret = status_errno(lc, sysctl_vm_write(&s->k, sysctl_vm_names[st->kw], a[0]));
		break;
	case ST_SWAPON:
		x->ret = status_errno(lc, (int)sys_swapon(&s->k, (uint64_t)a[0]));
		break;
	case ST_SWAPOFF:
		x->ret = status_errno(lc, (int)sys_swapoff(&s->k));
		break;
	case ST_OOMADJ:
		x->ret = status_errno(lc, oom_score_adj_write(&s->k, s->task, a[0]));
		break;
	case ST_FORK:
		x->ret = libc_fork(lc);
		break;
	case ST_EXIT:
		libc_exit(lc, st->nargs ? (int)a[0] : 0);
		break;
	case ST_WAIT: {
		int status = 0;

		x->ret = libc_waitpid(lc, st->nargs && a[0] > 0 ? (int)a[0] : -1, &status);
		if (x->ret > 0)
			x->ret = wait_value(status);
		break;
	}
	case ST_SHOW:
		/* Views read state; heap walks may load through the MMU. */
		session_show(s, st, x->view_task, a[0], x->out);
		break;
	case ST_MALLOPT:
		x->ret = glibc_mallopt(lc, script_mallopt_values[st->kw], (int)a[0]);
		break;
	case ST_MALLOC_TRIM:
		x->ret = glibc_malloc_trim(lc, st->nargs ? (uint64_t)a[0] : 0);
		break;
	case ST_MALLOC_STATS:
		glibc_malloc_stats(lc, &x->text);
		break;
	case ST_MALLOC_INFO:
		glibc_malloc_info_xml(lc, &x->text);
		break;
	case ST_THREAD: {
		int err;

		/* pthread_create returns its error; the statement, like fork,
		   returns -1 and puts it in errno (docs/reference.md) */
		x->thread = libc_pthread_create(lc, &err);
		x->ret = x->thread ? x->thread->tid : -1;
		if (!x->thread)
			lc->errno_ = err;
		break;
	}
	case ST_JOIN: {
		int err = libc_pthread_join(lc, x->thread);

		x->ret = err ? -1 : 0;
		if (err)
			lc->errno_ = err;
		break;
	}
	default:
		panic("statement '%s' does not run code", script_stmt_defs[st->op].name);
	}
}

/* start_thread, in the new thread's task. */
static void thread_start(void *arg)
{
	struct exec *x = arg;

	libc_thread_start(x->s->lc, x->thread);
}

/* The thread's start routine returns: it ends (never returns here). */
static void thread_end(void *arg)
{
	struct exec *x = arg;

	libc_thread_exit(x->s->lc);
}

/*
 * Run step as thread th of the running task's libc, in th's task, and make
 * the running thread current again. task_run's result.
 */
static int run_as_thread(struct session *s, struct libc_thread *th, void (*step)(void *),
                         struct exec *x)
{
	struct libc_thread *self = s->lc->self;
	int sig;

	libc_set_self(s->lc, th);
	sig = task_run(&s->k, th->task, step, x);
	libc_set_self(s->lc, self);
	return sig;
}

/*
 * thread: pthread_create in the running task, then the new thread starts
 * (its first stack frame) and can be named by its tid. Returns task_run's
 * result: a signal that killed the process, or 0.
 */
int session_run_thread(struct session *s, struct exec *x)
{
	int sig = task_run(&s->k, s->task, session_exec_stmt, x);

	if (sig || !x->thread)
		return sig;
	if (session_add_task(s, x->thread->tid, x->thread->task, s->lc) < 0)
		host_oom("the session's entry of a new thread");
	return run_as_thread(s, x->thread, thread_start, x);
}

/*
 * join TID: the thread's start routine returns (it ends: its tcache and
 * arena back, its stack advised away, exit), then pthread_join in the
 * running task takes its stack into the cache. The thread is named no
 * more. A tid that is no thread of this process is an error of the script
 * (-1, failed); joining oneself is pthread_join's EDEADLK. 0 and *sig:
 * task_run's result.
 */
int session_run_join(struct session *s, struct exec *x, int *sig)
{
	struct libc_thread *th = libc_thread_find(s->lc, (int)x->a[0]);

	if (!th || !th->task || th->task->tgid != s->task->tgid)
		return session_fail(s, "'join %lld': no thread of this process has id %lld",
		                    (long long)x->a[0], (long long)x->a[0]);
	if (th == &s->lc->main_thread && th != s->lc->self)
		return session_fail(
		    s,
		    "'join %lld': %lld is the main thread, which runs to the end of the "
		    "script",
		    (long long)x->a[0], (long long)x->a[0]);
	x->thread = th;
	if (th != s->lc->self && !th->exited) {
		int tid = th->tid;

		*sig = run_as_thread(s, th, thread_end, x);
		if (*sig != TASK_RUN_EXITED)
			return 0; /* a signal killed the process on the way */
		session_drop_task(s, tid);
	}
	*sig = task_run(&s->k, s->task, session_exec_stmt, x);
	return 0;
}
