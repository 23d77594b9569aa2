/*
 * exit.c - process exit and wait: kernel/exit.c (do_exit, exit_mm,
 * exit_notify, forget_original_parent, do_wait, wait_task_zombie,
 * release_task), kernel/fork.c (mmput) and mm/mmap.c (exit_mmap ->
 * unmap_vmas -> unmap_page_range -> zap_pte_range, free_pgtables,
 * unlink_anon_vmas).
 *
 * A frame is freed only when its last mapping goes: a page the exiting
 * process still shared with its parent or child after fork just loses one
 * reference, and the other side's next write to it reuses it in place
 * (do_wp_page sees a reference count of 1).
 *
 * The model has one CPU and runs a task only when the script says so, so a
 * wait that would sleep cannot: wait4 then returns -EAGAIN (a caller with
 * WNOHANG gets 0, as from Linux), and the caller decides (the script
 * reports that the wait would never end).
 */
#include "exit.h"

#include <stdlib.h>

#include "../vm/hostmem.h"
#include "../vm/pagetable.h"
#include "../vm/panic.h"
#include "pgtable.h"
#include "rmap.h"
#include "switch.h"
#include "syscall.h"
#include "syscalls.h"

#define K LAYER_KERNEL

static void exit_mmap(struct kernel *k, struct mm_struct *mm)
{
	probe_call(&k->probe, K, "exit_mmap", {"pgd", mm->pgd});
	probe_call(&k->probe, K, "unmap_vmas", {"vmas", mm->nr_vmas});
	for (size_t i = 0; i < mm->nr_vmas; i++)
		zap_page_range(k, mm, mm->vmas[i].vm_start, mm->vmas[i].vm_end);
	probe_ret(&k->probe, K, "unmap_vmas");
	free_pgtables(k, mm, 0, USER_VA_END);
	unlink_anon_vmas(k, mm);
	/* The CPU leaves the tables before they are freed (the exiting task
	   runs on as a lazy TLB user of init_mm in Linux). */
	switch_mm_drop(k, mm);
	pgd_free_all(k, mm);
	while (mm->nr_vmas)
		vma_remove(mm, &mm->vmas[mm->nr_vmas - 1]);
	probe_ret(&k->probe, K, "exit_mmap");
}

void mmput(struct kernel *k, struct mm_struct *mm)
{
	probe_call(&k->probe, K, "mmput", {"mm_users", (uint64_t)mm->mm_users});
	if (mm->mm_users <= 0)
		panic("mm_users %d", mm->mm_users);
	if (--mm->mm_users == 0) {
		exit_mmap(k, mm);
		mm_destroy(mm);
		hostmem_free(mm);
	}
	probe_ret(&k->probe, K, "mmput");
}

/*
 * mm_release: a thread that asked for it (CLONE_CHILD_CLEARTID) has its
 * tid word zeroed, and whoever waits on that futex woken: pthread_join
 * learns so that the thread is gone. Only while another task still uses
 * the mm (an exiting process has no one to tell). The word is in the
 * thread's struct pthread, a page the program has written: present, and
 * written through the CPU in kernel mode (put_user), in the mm loaded now
 * (the exiting task's, when it is the current one).
 */
static void mm_release(struct kernel *k, struct task *t, struct mm_struct *mm)
{
	bool user = k->cpu.user;

	if (!t->clear_child_tid || mm->mm_users <= 1)
		return;
	probe_call(&k->probe, K, "mm_release", {"clear_child_tid", t->clear_child_tid});
	if (k->loaded_mm == mm) {
		k->cpu.user = false;
		if (cpu_store(&k->cpu, t->clear_child_tid, 4, 0) < 0)
			panic("mm_release: clear_child_tid %#llx faulted",
			      (unsigned long long)t->clear_child_tid);
		k->cpu.user = user;
		probe_call(&k->probe, K, "futex_wake", {"uaddr", t->clear_child_tid});
		probe_ret(&k->probe, K, "futex_wake", {"ret", 0});
	}
	t->clear_child_tid = 0;
	probe_ret(&k->probe, K, "mm_release");
}

/* exit_mm: the task lets go of its address space. */
static void exit_mm(struct kernel *k, struct task *t)
{
	struct mm_struct *mm = t->mm;

	probe_call(&k->probe, K, "exit_mm", {"pid", (uint64_t)t->pid});
	if (mm) {
		mm_release(k, t, mm);
		if (mm->rss_stat[MM_ANONPAGES] > mm->hiwater_rss)
			mm->hiwater_rss = mm->rss_stat[MM_ANONPAGES];
		/* setmax_mm_hiwater_rss(&tsk->signal->maxrss, mm): the peak
		   outlives the mm (getrusage's ru_maxrss) */
		if (mm->hiwater_rss > t->maxrss)
			t->maxrss = mm->hiwater_rss;
		t->mm = NULL;
		mmput(k, mm);
	}
	probe_ret(&k->probe, K, "exit_mm");
}

void release_task(struct kernel *k, struct task *t)
{
	struct task **pp;

	probe_call(&k->probe, K, "release_task", {"pid", (uint64_t)t->pid});
	if (t->mm)
		panic("task %d released with its mm", t->pid);
	if (t->real_parent && !t->thread) {
		for (pp = &t->real_parent->children; *pp && *pp != t; pp = &(*pp)->sibling)
			;
		if (!*pp)
			panic("task %d is not its parent's child", t->pid);
		*pp = t->sibling;
	}
	if (t->thread) {
		/* __exit_signal: a thread's fault counts stay its process's
		   (/proc/PID/stat and ps sum them over the group) */
		struct task *leader = find_task_by_pid(k, t->tgid);

		if (leader && leader != t) {
			leader->sig_min_flt += t->min_flt;
			leader->sig_maj_flt += t->maj_flt;
		}
	}
	__unhash_process(k, t);
	probe_ret(&k->probe, K, "release_task");
	hostmem_free(t);
}

/* find_alive_thread: another thread of t's group that has not begun to
   exit, or NULL. */
static struct task *find_alive_thread(struct kernel *k, const struct task *t)
{
	for (struct task *o = k->tasks; o; o = o->next_task)
		if (o != t && o->tgid == t->tgid && !o->dead && !o->exit_state)
			return o;
	return NULL;
}

/*
 * forget_original_parent: t's children get a new parent. find_new_reaper
 * looks first for another live thread of t's process: a child forked by a
 * thread stays the process's child when that thread ends (a threaded
 * reparent: nobody is told, a zombie stays a zombie for its new parent,
 * the children go to the end of its list). With none, they go to init,
 * outside the model, which reaps at once those that are already zombies.
 */
static void forget_original_parent(struct kernel *k, struct task *t)
{
	struct task *reaper = find_alive_thread(k, t), *c, *next, **tail;

	if (reaper && t->children) {
		probe_call(&k->probe, K, "forget_original_parent", {"pid", (uint64_t)t->pid},
		           {"reaper", (uint64_t)reaper->pid});
		for (c = t->children; c; c = c->sibling)
			c->real_parent = reaper;
		/* list_splice_tail_init(&father->children, &reaper->children) */
		for (tail = &reaper->children; *tail; tail = &(*tail)->sibling)
			;
		*tail = t->children;
		t->children = NULL;
		probe_ret(&k->probe, K, "forget_original_parent");
		return;
	}
	for (c = t->children; c; c = next) {
		next = c->sibling;
		c->real_parent = NULL;
		c->sibling = NULL;
		c->autoreap = true;
		if (c->exit_state == EXIT_ZOMBIE)
			release_task(k, c);
	}
	t->children = NULL;
}

/*
 * exit_notify: the children get a new parent (forget_original_parent);
 * then the task becomes a zombie for its parent (do_notify_parent sends
 * SIGCHLD), or, when its parent is init, is reaped by it (EXIT_DEAD,
 * released by task_run).
 */
static void exit_notify(struct kernel *k, struct task *t)
{
	probe_call(&k->probe, K, "exit_notify", {"pid", (uint64_t)t->pid});
	forget_original_parent(k, t);
	t->dead = true;
	if (t->thread) {
		/* a thread's exit_signal is -1: nobody waits for it, it is
		   reaped at once (release_task by task_run) */
		t->exit_state = EXIT_DEAD;
	} else if (t->real_parent) {
		t->exit_state = EXIT_ZOMBIE;
		probe_call(&k->probe, K, "do_notify_parent", {"parent", (uint64_t)t->real_parent->pid},
		           {"sig", SIM_SIGCHLD});
		probe_ret(&k->probe, K, "do_notify_parent");
	} else {
		t->exit_state = t->autoreap ? EXIT_DEAD : EXIT_ZOMBIE;
	}
	probe_ret(&k->probe, K, "exit_notify");
}

void do_exit(struct kernel *k, int code)
{
	struct task *t = k->current;

	if (!t || t->dead)
		panic("do_exit without a live current task");
	probe_call(&k->probe, K, "do_exit", {"code", (uint64_t)code});
	t->exit_code = code;
	exit_mm(k, t);
	exit_notify(k, t);
	probe_ret(&k->probe, K, "do_exit");
	/* do_task_dead: the CPU goes idle until the next task runs. */
	k->current = NULL;
	if (k->opts.debug_checks && kernel_check(k, stderr))
		panic("an invariant broke in exit");
	if (t->exit_jmp)
		longjmp(*t->exit_jmp, 1);
}

void exit_signaled(struct kernel *k, struct task *t)
{
	if (!t->dead || t->exit_state || t->exit_jmp)
		panic("exit_signaled of task %d: not a killed task at rest", t->pid);
	probe_call(&k->probe, K, "do_exit", {"code", (uint64_t)t->death.signo});
	t->exit_code = t->death.signo & 0x7f;
	exit_mm(k, t);
	exit_notify(k, t);
	probe_ret(&k->probe, K, "do_exit");
	if (k->current == t)
		k->current = NULL; /* do_task_dead */
	if (t->exit_state == EXIT_DEAD)
		release_task(k, t); /* an orphan: init reaped it */
	if (k->opts.debug_checks && kernel_check(k, stderr))
		panic("an invariant broke in exit");
}

/*
 * zap_other_threads: the other live threads of t's group are killed. Each
 * would run its do_exit when it next enters the kernel; the model has one
 * CPU and runs none of them, so their exit is made here: mm_release,
 * exit_mm, and they are reaped (threads are nobody's children).
 */
void zap_other_threads(struct kernel *k, struct task *t, int code)
{
	struct task *o, *next;

	for (o = k->tasks; o; o = next) {
		next = o->next_task;
		if (o == t || o->tgid != t->tgid || o->exit_state)
			continue;
		probe_call(&k->probe, K, "zap_other_threads", {"pid", (uint64_t)o->pid});
		o->exit_code = code;
		exit_mm(k, o);
		exit_notify(k, o); /* a thread: reaped; the leader: its parent's zombie */
		probe_ret(&k->probe, K, "zap_other_threads");
		if (o->exit_state == EXIT_DEAD && !o->exit_jmp)
			release_task(k, o);
	}
}

int64_t sys_exit(struct kernel *k, int status)
{
	syscall_enter(k, SIM_NR_exit, "__x64_sys_exit", {"status", (uint64_t)status});
	do_exit(k, (status & 0xff) << 8);
	/* Reached only when task_run is not armed: close the path for the probe. */
	syscall_exit(k, "__x64_sys_exit", 0);
	return 0;
}

int64_t sys_exit_group(struct kernel *k, int status)
{
	syscall_enter(k, SIM_NR_exit_group, "__x64_sys_exit_group", {"status", (uint64_t)status});
	/* do_group_exit: the other threads go first, then the caller. */
	probe_call(&k->probe, K, "do_group_exit", {"code", (uint64_t)((status & 0xff) << 8)});
	zap_other_threads(k, k->current, (status & 0xff) << 8);
	do_exit(k, (status & 0xff) << 8);
	/* Reached only when task_run is not armed: close the path for the probe. */
	probe_ret(&k->probe, K, "do_group_exit");
	syscall_exit(k, "__x64_sys_exit_group", 0);
	return 0;
}

/* wait_task_zombie: collect the status, reap the child. */
static int64_t wait_task_zombie(struct kernel *k, struct task *c, int *status)
{
	int64_t pid = c->pid;

	probe_call(&k->probe, K, "wait_task_zombie", {"pid", (uint64_t)pid},
	           {"status", (uint64_t)c->exit_code});
	if (status)
		*status = c->exit_code;
	c->exit_state = EXIT_DEAD;
	release_task(k, c);
	probe_ret(&k->probe, K, "wait_task_zombie", {"ret", (uint64_t)pid});
	return pid;
}

/*
 * do_wait_thread for each thread of t's process, t first (do_wait without
 * __WNOTHREAD): a thread may wait for a child another thread forked. The
 * first zombie child that matches pid is reaped (its pid returned, 0 when
 * none is a zombie); *any says whether some child matched at all.
 */
static int64_t do_wait_threads(struct kernel *k, struct task *t, int pid, int *status, bool *any)
{
	struct task *th = t;

	*any = false;
	for (;;) {
		for (struct task *c = th->children; c; c = c->sibling) {
			if (pid > 0 && c->pid != pid)
				continue;
			*any = true;
			if (c->exit_state == EXIT_ZOMBIE)
				return wait_task_zombie(k, c, status);
		}
		/* while_each_thread: the next thread of the group, t's skipped */
		th = th == t ? k->tasks : th->next_task;
		while (th && (th == t || th->tgid != t->tgid))
			th = th->next_task;
		if (!th)
			return 0;
	}
}

const struct task *wait_would_block(const struct kernel *k, const struct task *t, int pid)
{
	const struct task *waiting = NULL;

	for (const struct task *th = k->tasks; th; th = th->next_task) {
		if (th->tgid != t->tgid)
			continue;
		for (const struct task *c = th->children; c; c = c->sibling) {
			if (pid > 0 && c->pid != pid)
				continue;
			if (c->exit_state == EXIT_ZOMBIE)
				return NULL;
			if (!waiting)
				waiting = c;
		}
	}
	return waiting;
}

int64_t sys_wait4(struct kernel *k, int pid, int *status, int options)
{
	struct task *t = syscall_enter(k, SIM_NR_wait4, "__x64_sys_wait4", {"pid", (uint64_t)pid},
	                               {"options", (uint64_t)options});
	bool any = false;
	int64_t ret;

	probe_call(&k->probe, K, "do_wait", {"pid", (uint64_t)pid});
	ret = do_wait_threads(k, t, pid, status, &any);
	if (!any)
		ret = -SIM_ECHILD;
	else if (ret == 0 && !(options & SIM_WNOHANG))
		ret = -SIM_EAGAIN; /* would sleep: see the file's header */
	probe_ret(&k->probe, K, "do_wait", {"ret", (uint64_t)ret});
	syscall_exit(k, "__x64_sys_wait4", ret);
	return ret;
}
