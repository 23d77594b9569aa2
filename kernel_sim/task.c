/*
 * task.c - simulated processes: creation with the standard x86-64 layout
 * (fs/binfmt_elf.c load_elf_binary, fs/exec.c setup_arg_pages,
 * mm/util.c arch_pick_mmap_layout / mmap_base, arch_randomize_brk),
 * running one (task_run), its death by a fatal signal (kernel/signal.c
 * force_sig_fault / force_fatal_sig, arch/x86/mm/fault.c show_signal_msg,
 * mm/oom_kill.c __oom_kill_process, RLIMIT_CPU's check_rlimit in
 * kernel/time/posix-cpu-timers.c) and its exit (mm/mmap.c exit_mmap).
 *
 * The program image is a tiny position-independent executable as gcc and GNU
 * ld build it (task.h, The program image): five pages, its data and bss (where
 * libc keeps its allocator roots) in the last one, then the heap. Without ASLR
 * the addresses are those of a real PIE run under `setarch -R`: the image at
 * 0x555555554000, the heap at 0x555555559000, the stack ending at
 * 0x7ffffffff000.
 */
#include <stdlib.h>
#include <string.h>

#include "../vm/hostmem.h"
#include "../vm/pagetable.h"
#include "../vm/panic.h"
#include "exit.h"
#include "fork.h"
#include "pgtable.h"
#include "switch.h"
#include "syscall.h"
#include "syscalls.h"
#include "task.h"

#define ELF_ET_DYN_BASE  0x555555554000ULL /* PAGE_ALIGN_DOWN(TASK_SIZE / 3 * 2) */
#define STACK_TOP        USER_VA_END
#define STACK_INIT_BYTES 0x21000ULL     /* 128 KiB stack_expand + the argument page */
#define STACK_ARGS_BYTES 0xc50ULL       /* argv, envp, auxv strings above start_stack */
#define MMAP_GAP_MIN     (128ULL << 20) /* mm/util.c MIN_GAP */
#define MMAP_GAP_MAX     (STACK_TOP / 6 * 5)

/* Randomization ranges of x86-64 (in pages unless said otherwise). */
#define MMAP_RND_PAGES  (1ULL << 28)  /* mmap_rnd_bits = 28: the ELF base, mmap_base */
#define STACK_RND_PAGES 0x400000ULL   /* STACK_RND_MASK + 1: 16 GiB */
/* arch_randomize_brk for a 64-bit task: randomize_page(brk, SZ_1G). Linux
   6.9 raised it from 32 MiB (kept for 32-bit tasks); this host's heaps start
   anywhere up to 1 GiB past the image. */
#define BRK_RND_BYTES (1ULL << 30)

static const char *const SIGNAL_FN_SEGV = "force_sig_fault";
static const char *const SIGNAL_FN_OOM = "__oom_kill_process";
static const char *const SIGNAL_FN_OTHER = "force_fatal_sig";
static const char *const REASON_CPU_SOFT = "CPU time limit exceeded";
static const char *const REASON_CPU_HARD = "CPU time limit exceeded (hard limit)";

/* xorshift64 (Marsaglia): the kernel's get_random_long, deterministic per seed. */
static uint64_t kernel_random(struct kernel *k)
{
	uint64_t x = k->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	k->rng = x;
	return x;
}

/* A page-aligned random offset below pages pages (0 without ASLR). */
static uint64_t random_pages(struct kernel *k, uint64_t pages)
{
	if (!k->opts.aslr)
		return 0;
	return (kernel_random(k) % pages) << PAGE_SHIFT;
}

static void emit_vma(struct kernel *k, const char *fn, const struct vm_area_struct *v)
{
	EV(&k->probe, LAYER_KERNEL, EV_VMA, fn, NULL, {"start", v->vm_start}, {"end", v->vm_end},
	   {"flags", v->vm_flags});
}

/* One PT_LOAD segment's pages of the image (elf_map), and its VMA event. */
static void elf_map(struct kernel *k, struct mm_struct *mm, vaddr_t load_bias, uint64_t from,
                    uint64_t to, unsigned long prot, int kind)
{
	unsigned long flags = prot | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

	/* A private writable mapping is charged to the commit (VM_ACCOUNT); the
	   RELRO pages were mapped so and keep the flag when ld.so mprotects them. */
	if (kind == VMA_DATA || from == ELF_RELRO_PAGE)
		flags |= VM_ACCOUNT;
	emit_vma(k, "elf_map", vma_insert(mm, load_bias + from, load_bias + to, flags, kind));
}

/* The layout of a freshly exec'd program (load_elf_binary, setup_arg_pages). */
static void load_elf_binary(struct kernel *k, struct task *t)
{
	struct mm_struct *mm = t->mm;
	vaddr_t load_bias = ELF_ET_DYN_BASE + random_pages(k, MMAP_RND_PAGES);
	vaddr_t stack_top = STACK_TOP - random_pages(k, STACK_RND_PAGES);
	uint64_t mmap_rnd = random_pages(k, MMAP_RND_PAGES);
	uint64_t brk_rnd = random_pages(k, BRK_RND_BYTES >> PAGE_SHIFT);
	uint64_t gap;
	struct vm_area_struct *v;

	/* load_elf_binary's start_code/end_code come from the executable
	   segment, start_data/end_data from the last one (p_vaddr, + p_filesz). */
	mm->start_code = load_bias + ELF_TEXT_VADDR;
	mm->end_code = load_bias + ELF_TEXT_END;
	mm->start_data = load_bias + ELF_DATA_VADDR;
	mm->end_data = load_bias + ELF_DATA_END;
	elf_map(k, mm, load_bias, 0, ELF_TEXT_PAGE, VM_READ, VMA_RODATA);
	elf_map(k, mm, load_bias, ELF_TEXT_PAGE, ELF_RODATA_PAGE, VM_READ | VM_EXEC, VMA_TEXT);
	elf_map(k, mm, load_bias, ELF_RODATA_PAGE, ELF_RELRO_PAGE, VM_READ, VMA_RODATA);
	elf_map(k, mm, load_bias, ELF_RELRO_PAGE, ELF_RW_PAGE, VM_READ, VMA_RODATA);
	elf_map(k, mm, load_bias, ELF_RW_PAGE, ELF_IMAGE_END, VM_READ | VM_WRITE, VMA_DATA);
	/* The heap starts right after the image; no heap VMA until brk grows. */
	mm->start_brk = mm->brk = load_bias + ELF_IMAGE_END + brk_rnd;

	v = vma_insert(mm, stack_top - STACK_INIT_BYTES, stack_top,
	               VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_GROWSDOWN |
	                   VM_ACCOUNT,
	               VMA_STACK);
	emit_vma(k, "setup_arg_pages", v);
	mm->start_stack = stack_top - STACK_ARGS_BYTES;

	/* mmap_base: below the stack, leaving the stack rlimit plus the guard gap
	   (plus the stack's random range under ASLR), at least 128 MiB. */
	gap = t->rlim[SIM_RLIMIT_STACK].cur + (STACK_GUARD_GAP_PAGES << PAGE_SHIFT);
	if (k->opts.aslr)
		gap += STACK_RND_PAGES << PAGE_SHIFT;
	if (gap < MMAP_GAP_MIN)
		gap = MMAP_GAP_MIN;
	if (gap > MMAP_GAP_MAX)
		gap = MMAP_GAP_MAX;
	mm->mmap_base = PAGE_ALIGN_DOWN(STACK_TOP - gap - mmap_rnd);

	t->ip = load_bias + ELF_MAIN_VADDR;
	t->sp = mm->start_stack - 0x1d0;
}

/*
 * What execve and the C runtime write before main: the loader fills .data,
 * _start's startup code clears .bss (here: writes every page of the writable
 * segment), and the kernel writes argv/envp on the top stack page. These
 * faults count, as they do in a real process's min_flt. The RELRO page stays
 * untouched: a real ld.so writes its relocations there before it mprotects
 * the page read-only; the model runs no dynamic loader.
 */
static void crt_start(void *arg)
{
	struct kernel *k = arg;
	struct mm_struct *mm = k->current->mm;
	const struct vm_area_struct *rw = vma_lookup(mm, mm->end_data - 1);

	probe_call(&k->probe, LAYER_LIBC, "__libc_start_main");
	for (vaddr_t va = rw->vm_start; va < rw->vm_end; va += PAGE_SIZE)
		cpu_store(&k->cpu, va, 1, 0);
	cpu_store(&k->cpu, PAGE_ALIGN_DOWN(mm->start_stack), 8, 0);
	probe_ret(&k->probe, LAYER_LIBC, "__libc_start_main");
}

struct task *task_create(struct kernel *k, const char *comm)
{
	struct task *t = hostmem_calloc(1, sizeof(*t));

	if (!t)
		host_oom("a task");
	t->pid = t->tgid = k->next_pid++;
	t->group_leader = t;
	snprintf(t->comm, sizeof(t->comm), "%s", comm ? comm : "a.out");
	t->rlim[SIM_RLIMIT_DATA] = (struct sim_rlimit){SIM_RLIM_INFINITY, SIM_RLIM_INFINITY};
	t->rlim[SIM_RLIMIT_AS] = (struct sim_rlimit){SIM_RLIM_INFINITY, SIM_RLIM_INFINITY};
	t->rlim[SIM_RLIMIT_STACK] = (struct sim_rlimit){8ULL << 20, SIM_RLIM_INFINITY};
	t->rlim[SIM_RLIMIT_CPU] =
	    (struct sim_rlimit){SIM_RLIMIT_CPU_DEFAULT, SIM_RLIMIT_CPU_CEILING};
	t->mm = mm_alloc();
	t->mm->ctx_id = ++k->next_ctx_id;
	t->mm->tlb_gen = 1;

	probe_call(&k->probe, LAYER_KERNEL, "load_elf_binary", {"pid", (uint64_t)t->pid});
	if (!pgd_alloc(k, t->mm)) {
		probe_ret(&k->probe, LAYER_KERNEL, "load_elf_binary",
		          {"ret", (uint64_t)-SIM_ENOMEM});
		mm_destroy(t->mm);
		hostmem_free(t->mm);
		hostmem_free(t);
		return NULL;
	}
	t->next_task = k->tasks;
	k->tasks = t;
	k->nr_tasks++;
	load_elf_binary(k, t);
	activate_mm(k, t->mm);
	k->current = t;
	probe_ret(&k->probe, LAYER_KERNEL, "load_elf_binary", {"ret", 0});

	if (task_run(k, t, crt_start, k) != 0) {
		task_destroy(k, t);
		return NULL;
	}
	return t;
}

void task_destroy(struct kernel *k, struct task *t)
{
	struct task **pp;

	if (t->exit_jmp)
		panic("task %d destroyed while it runs", t->pid);
	if (t->mm) {
		struct mm_struct *mm = t->mm;

		t->mm = NULL;
		mmput(k, mm);
	}
	if (t->real_parent) {
		for (pp = &t->real_parent->children; *pp && *pp != t; pp = &(*pp)->sibling)
			;
		if (*pp)
			*pp = t->sibling;
	}
	__unhash_process(k, t);
	hostmem_free(t);
}

void __unhash_process(struct kernel *k, struct task *t)
{
	struct task **pp;

	for (struct task *c = t->children; c; c = c->sibling)
		c->real_parent = NULL;
	for (pp = &k->tasks; *pp && *pp != t; pp = &(*pp)->next_task)
		;
	if (!*pp)
		panic("task %d is not on the task list", t->pid);
	*pp = t->next_task;
	k->nr_tasks--;
	if (k->current == t)
		k->current = NULL;
}

void task_destroy_group(struct kernel *k, struct task *t)
{
	struct task *o = k->tasks, *next;

	for (; o; o = next) {
		next = o->next_task;
		if (o != t && o->tgid == t->tgid)
			task_destroy(k, o);
	}
	task_destroy(k, t);
}

struct task *find_task_by_pid(struct kernel *k, int pid)
{
	for (struct task *t = k->tasks; t; t = t->next_task)
		if (t->pid == pid)
			return t;
	return NULL;
}

const char *task_state(const struct task *t, const struct task *running)
{
	if (t->exit_state == EXIT_ZOMBIE || (t->dead && !t->exit_state))
		return "Z (zombie)";
	if (t->exit_state == EXIT_DEAD)
		return "X (dead)";
	return t == running ? "R (running)" : "S (sleeping)";
}

int64_t sys_getpid(struct kernel *k)
{
	struct task *t = syscall_enter(k, SIM_NR_getpid, "__x64_sys_getpid");
	int64_t ret = t->tgid;

	syscall_exit(k, "__x64_sys_getpid", ret);
	return ret;
}

int task_run(struct kernel *k, struct task *t, void (*fn)(void *), void *arg)
{
	jmp_buf jb;
	jmp_buf *volatile saved_jmp = t->exit_jmp;
	volatile unsigned saved_depth = t->exit_depth;
	volatile bool saved_user = k->cpu.user;
	volatile int sig = 0;

	if (t->dead)
		return t->exit_state ? TASK_RUN_EXITED : t->death.signo;
	if (k->current != t || k->loaded_mm != t->mm)
		context_switch(k, t);
	k->cpu.ip = t->ip;
	k->cpu.sp = t->sp;
	k->cpu.user = true;
	t->exit_jmp = &jb;
	t->exit_depth = probe_depth(&k->probe);
	if (setjmp(jb) == 0) {
		if (t->ret_from_fork) { /* ret_from_fork: the new task's first run */
			t->ret_from_fork = false;
			schedule_tail(k, t);
		}
		fn(arg);
	} else {
		probe_unwind(&k->probe, t->exit_depth);
		sig = t->exit_state ? TASK_RUN_EXITED : t->death.signo;
	}
	t->exit_jmp = saved_jmp;
	t->exit_depth = saved_depth;
	t->ip = k->cpu.ip;
	t->sp = k->cpu.sp;
	k->cpu.user = saved_user;
	if (t->exit_state == EXIT_DEAD)
		release_task(k, t); /* an orphan that exited: init reaped it */
	return sig;
}

void task_kill(struct kernel *k, struct task *t, int signo, int code, vaddr_t addr,
               unsigned error, const char *reason)
{
	struct task_death *d;
	struct mm_struct *mm;
	const char *fn = SIGNAL_FN_OTHER;

	d = &t->death;
	mm = t->mm;
	t->dead = true;
	t->exit_code = signo;
	d->signo = signo;
	d->code = code;
	d->addr = addr;
	d->error = error;
	snprintf(d->reason, sizeof(d->reason), "%s", reason ? reason : "");
	if (signo == SIM_SIGSEGV && code == SIM_SI_KERNEL) {
		/* do_general_protection -> show_signal (pr_fmt "traps: ") */
		fn = SIGNAL_FN_SEGV;
		snprintf(d->report, sizeof(d->report),
		         "traps: %s[%d] general protection fault ip:%llx sp:%llx error:%x", t->comm,
		         t->pid, (unsigned long long)k->cpu.ip, (unsigned long long)k->cpu.sp,
		         error);
	} else if (signo == SIM_SIGSEGV) {
		/* show_signal_msg: "%s%s[%d]: segfault at %lx ip %px sp %px error %lx" */
		fn = SIGNAL_FN_SEGV;
		snprintf(d->report, sizeof(d->report),
		         "%s[%d]: segfault at %llx ip %016llx sp %016llx error %x", t->comm, t->pid,
		         (unsigned long long)addr, (unsigned long long)k->cpu.ip,
		         (unsigned long long)k->cpu.sp, error);
	} else if (signo == SIM_SIGKILL && reason && strcmp(reason, "out of memory") == 0) {
		fn = SIGNAL_FN_OOM;
		snprintf(d->report, sizeof(d->report),
		         "Out of memory: Killed process %d (%s) total-vm:%llukB, anon-rss:%llukB, "
		         "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:%llukB oom_score_adj:%d",
		         t->pid, t->comm, (unsigned long long)mm->total_vm << (PAGE_SHIFT - 10),
		         (unsigned long long)mm->rss_stat[MM_ANONPAGES] << (PAGE_SHIFT - 10),
		         (unsigned long long)mm->pgtables_bytes >> 10, mm->oom_score_adj);
	} else if (signo == SIM_SIGKILL && strcmp(d->reason, REASON_CPU_HARD) == 0) {
		/* check_rlimit says nothing (print_fatal_signals is off): the shell's word */
		snprintf(d->report, sizeof(d->report), "Killed");
	} else {
		/* SIGXCPU's reason is already what the shell prints (strsignal) */
		snprintf(d->report, sizeof(d->report), "%s", d->reason);
	}
	EV(&k->probe, LAYER_KERNEL, EV_SIGNAL, fn, probe_keep_text(&k->probe, d->reason),
	   {"signo", (uint64_t)signo}, {"code", (uint64_t)code}, {"addr", addr});
	/* A fatal signal kills the whole thread group (complete_signal): every
	   other thread dies with it, with the same report. */
	for (struct task *o = k->tasks; o; o = o->next_task) {
		if (o != t && o->tgid == t->tgid && !o->dead) {
			o->dead = true;
			o->exit_code = signo;
			o->death = *d;
		}
	}
}

void force_fatal_signal(struct kernel *k, int signo, int code, vaddr_t addr, unsigned error,
                        const char *reason)
{
	struct task *t = k->current;

	if (!t)
		panic("signal %d with no current task", signo);
	task_kill(k, t, signo, code, addr, error, reason);
	if (t->exit_jmp)
		longjmp(*t->exit_jmp, 1);
}

/*
 * check_process_timers' RLIMIT_CPU part: the hard limit is checked first,
 * so soft == hard (`ulimit -t N` sets both) is a SIGKILL; below it, SIGXCPU.
 * Both are sent with SEND_SIG_PRIV (si_code SI_KERNEL). Linux resends
 * SIGXCPU every second to a process that handles it; the model has no
 * handlers, so the first one is fatal.
 */
bool check_rlimit_cpu(struct kernel *k)
{
	struct task *t = k->current;
	const struct sim_rlimit *rl = &t->rlim[SIM_RLIMIT_CPU];

	if (rl->cur == SIM_RLIM_INFINITY || t->utime < rl->cur)
		return true;
	if (rl->max != SIM_RLIM_INFINITY && t->utime >= rl->max)
		force_fatal_signal(k, SIM_SIGKILL, SIM_SI_KERNEL, 0, 0, REASON_CPU_HARD);
	else
		force_fatal_signal(k, SIM_SIGXCPU, SIM_SI_KERNEL, 0, 0, REASON_CPU_SOFT);
	return false;
}

bool account_user_time_to_limit(struct kernel *k)
{
	struct task *t = k->current;
	uint64_t soft = t->rlim[SIM_RLIMIT_CPU].cur;

	/* setrlimit keeps the limit finite (kernel.h): only a test that wrote
	   RLIM_INFINITY into the task could make the host spin. */
	if (soft == SIM_RLIM_INFINITY)
		panic("task %d loops forever with no RLIMIT_CPU", t->pid);
	return account_user_time(k, soft > t->utime ? soft - t->utime : 0);
}

void sim_program_image(struct kernel *k, vaddr_t *bss_start, vaddr_t *bss_end)
{
	struct mm_struct *mm;
	struct vm_area_struct *data;

	if (!k->current)
		panic("no current task");
	mm = k->current->mm;
	data = vma_lookup(mm, mm->end_data - 1);
	if (!data)
		panic("task %d has no data VMA", k->current->pid);
	*bss_start = mm->end_data;
	*bss_end = data->vm_end;
}
