/*
 * plugin_guard.c - the host-side guard around policies of one's own (see
 * plugin_guard.h): address ranges reserved unmapped, signal handlers that
 * turn a plugin's crash into the death of the simulated process, and a
 * watchdog (ITIMER_PROF, every 100 ms of CPU) for endless loops.
 *
 * Turning a signal into a simulated death: the handler runs on its own stack
 * (sigaltstack) and may not run the simulator (events go to sinks that may
 * switch coroutines). So it records what happened and rewrites the
 * interrupted context to "call" trap_trampoline on the interrupted stack;
 * on return from the handler the thread runs the trampoline in ordinary
 * context, which writes the diagnosis to the process's stderr and calls
 * force_fatal_signal (or abandons the side call), unwinding to task_run.
 * This is safe only where the interrupted code holds nothing of ours: the
 * plugin's own code, or a C library routine it called with a simulated
 * address (memcpy). Anything else is handed to the previous disposition.
 */
#include "plugin_guard.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#include "../../kernel_sim/mm.h"
#include "../../kernel_sim/syscalls.h"
#include "../../libc/memlib_host.h"
#include "../../vm/panic.h"

#if defined(__SANITIZE_ADDRESS__)
#define GUARD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GUARD_ASAN 1
#endif
#endif

#ifdef GUARD_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
                                     size_t *size_old);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif

#define MAX_WATCHED  8
#define MAX_RANGES   4
#define TICK_USEC    100000
#define ALTSTACK     (64 * 1024)
#define SPARE_STACK  (256 * 1024)
#define REEXEC_TRIES 8
#define REEXEC_ENV   "AFTERMALLOC_GUARD_TRIES"
#define SIM_SIGILL   4
#define SIM_SIGBUS   7
#define SIM_SIGFPE   8

struct range {
	uintptr_t lo, hi;
};

struct watched {
	struct memlib *m;
	struct range text[MAX_RANGES]; /* the plugin's executable segments */
	unsigned nr_text;
	uint64_t spin_serial; /* the call the watchdog counts for */
	unsigned spin_ticks;  /* ticks of that call that found it in its own code */
};

enum trap_kind { TRAP_SIM_DEREF, TRAP_HOST_FAULT, TRAP_ABORT, TRAP_SPIN };

/* The one trap on its way from a handler to the trampoline. */
struct trap {
	struct memlib *m;
	enum trap_kind kind;
	int host_sig;
	uintptr_t addr;
	bool write;
	bool overflow; /* the plugin's stack overflowed: the trampoline runs on spare_stack */
};

/* The trampoline's stack when the plugin overflowed its own: the kill it
   runs unwinds to task_run, off this stack again. One trap at a time. */
static char spare_stack[SPARE_STACK] __attribute__((aligned(16)));

static struct {
	bool reserved[2]; /* the image and top ranges */
	struct watched w[MAX_WATCHED];
	unsigned nr;
	struct range host_text[MAX_RANGES]; /* the executable's code: the simulator */
	unsigned nr_host_text;
	bool armed;
	bool warned; /* the warning of plugin_guard_layout, once */
	struct sigaction old[32];
	void *altstack;
	unsigned spin_limit_ticks;
	struct trap trap;
} G = {.spin_limit_ticks = 50};

static const int guarded_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGPROF};
#define NR_GUARDED (sizeof(guarded_signals) / sizeof(guarded_signals[0]))

/* ---- the reserved ranges ------------------------------------------------------ */

static bool reserve(uint64_t start, uint64_t len)
{
	void *p = mmap((void *)(uintptr_t)start, len, PROT_NONE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		return false;
	if ((uintptr_t)p != start) { /* a kernel without MAP_FIXED_NOREPLACE took it as a hint */
		munmap(p, len);
		return false;
	}
	return true;
}

/* This process again, from its own executable and arguments. Returns only
   when that cannot be done. */
static void reexec(void)
{
	static char buf[1 << 16];
	char *argv[256];
	ssize_t n = 0, r;
	int fd = open("/proc/self/cmdline", O_RDONLY), argc = 0;

	if (fd < 0)
		return;
	while ((r = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	close(fd);
	if (r < 0 || n == 0 || (size_t)n >= sizeof(buf) - 1)
		return;
	buf[n] = '\0';
	for (char *p = buf; p < buf + n && argc < 255; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	fflush(NULL);
	execv("/proc/self/exe", argv);
}

bool plugin_guard_layout(bool may_reexec)
{
	const char *tries = getenv(REEXEC_ENV);
	int n = tries ? atoi(tries) : 0;
	char num[16];

	if (!G.reserved[0])
		G.reserved[0] = reserve(GUARD_IMAGE_START, GUARD_IMAGE_BYTES);
	if (!G.reserved[1])
		G.reserved[1] = reserve(GUARD_TOP_END - GUARD_TOP_BYTES, GUARD_TOP_BYTES);
	if (G.reserved[0] && G.reserved[1]) {
		unsetenv(REEXEC_ENV);
		return true;
	}
	if (may_reexec && n < REEXEC_TRIES) {
		int pers = personality(0xffffffff);

		/* Run under `setarch -R` (or a debugger): the host layout is the
		   simulated one. Take the randomization back for ourselves. */
		if (pers != -1 && (pers & ADDR_NO_RANDOMIZE))
			personality((unsigned long)pers & ~(unsigned long)ADDR_NO_RANDOMIZE);
		snprintf(num, sizeof(num), "%d", n + 1);
		setenv(REEXEC_ENV, num, 1);
		reexec();
	}
	unsetenv(REEXEC_ENV);
	if (G.warned)
		return false;
	G.warned = true;
	fprintf(stderr,
	        "aftermalloc: warning: this process has host memory where the simulated process "
	        "has %s%s%s%s: a plugin that dereferences a simulated address there may go "
	        "unnoticed\n",
	        G.reserved[0] ? "" : "its program and heap",
	        G.reserved[0] || G.reserved[1] ? "" : ", and ",
	        G.reserved[1] ? "" : "its mappings and stack",
	        may_reexec ? " (is the host's ASLR off?)" : "");
	return false;
}

bool plugin_guard_covers(uint64_t va)
{
	return (G.reserved[0] && va >= GUARD_IMAGE_START &&
	        va - GUARD_IMAGE_START < GUARD_IMAGE_BYTES) ||
	       (G.reserved[1] && va < GUARD_TOP_END && va >= GUARD_TOP_END - GUARD_TOP_BYTES);
}

/* ---- code ranges ---------------------------------------------------------------- */

struct find_text {
	uintptr_t base; /* the object's load bias; the executable: want_main */
	bool want_main;
	struct range *out;
	unsigned *nr;
};

static int find_text_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct find_text *f = arg;
	bool is_main = info->dlpi_name == NULL || info->dlpi_name[0] == '\0';

	(void)size;
	if (f->want_main ? !is_main : info->dlpi_addr != f->base)
		return 0;
	for (unsigned i = 0; i < info->dlpi_phnum && *f->nr < MAX_RANGES; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X))
			f->out[(*f->nr)++] =
			    (struct range){info->dlpi_addr + ph->p_vaddr,
			                   info->dlpi_addr + ph->p_vaddr + ph->p_memsz};
	}
	return 1;
}

static bool in_ranges(const struct range *r, unsigned n, uintptr_t pc)
{
	for (unsigned i = 0; i < n; i++)
		if (pc >= r[i].lo && pc < r[i].hi)
			return true;
	return false;
}

static const char *sig_name(int sig)
{
	switch (sig) {
	case SIGSEGV:
		return "SIGSEGV";
	case SIGBUS:
		return "SIGBUS";
	case SIGILL:
		return "SIGILL";
	case SIGFPE:
		return "SIGFPE";
	case SIGABRT:
		return "SIGABRT";
	default:
		return "a signal";
	}
}

/* ---- the trampoline --------------------------------------------------------------- */

static void say(struct kernel *k, const char *msg)
{
	char buf[320];
	int n = snprintf(buf, sizeof(buf), "%s\n", msg);

	sys_write(k, 2, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/*
 * After a stack overflow the trampoline runs on spare_stack, and the unwind
 * to task_run starts there. AddressSanitizer clears the redzones of the
 * frames a longjmp leaves (from the stack pointer up to the top of the
 * thread's stack), but not when the stack pointer lies outside that stack:
 * the dead frames of the recursion and of the simulator below task_run
 * would stay poisoned, and the next calls there be reported as overflows.
 * So clear the overflowed stack here, as ASan would have: its bounds are
 * what ASan's fiber interface returns when told we left it, and told we
 * are back on it, ASan sees the unwind land on it.
 */
static void asan_forget_overflowed_stack(void)
{
#ifdef GUARD_ASAN
	void *fake = NULL;
	const void *bottom = NULL;
	size_t size = 0;

	__sanitizer_start_switch_fiber(&fake, spare_stack, SPARE_STACK);
	__sanitizer_finish_switch_fiber(fake, &bottom, &size);
	if (bottom && size)
		__asan_unpoison_memory_region(bottom, size);
	__sanitizer_start_switch_fiber(&fake, bottom, size);
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}

/* Runs in ordinary context, on the stack the plugin was running on (or
   on spare_stack after an overflow). */
static void __attribute__((noinline, used)) trap_trampoline(void)
{
	struct trap t = G.trap;
	struct memlib *m = t.m;
	struct kernel *k;
	char msg[300];
	const char *call = m->call ? m->call : "the plugin";
	int signo = SIM_SIGSEGV, code = SIM_SEGV_MAPERR;
	vaddr_t addr = 0;

	switch (t.kind) {
	case TRAP_SIM_DEREF:
		snprintf(msg, sizeof(msg),
		         "%s: %s dereferenced the simulated address %#lx directly (a %s): "
		         "simulated memory is read and written with mem_get/mem_put (GET/PUT)",
		         m->name, call, (unsigned long)t.addr, t.write ? "store" : "load");
		addr = t.addr;
		code = SIM_SEGV_ACCERR;
		break;
	case TRAP_HOST_FAULT:
		if (t.overflow)
			snprintf(msg, sizeof(msg),
			         "%s: %s overflowed its stack (%s at %#lx): an endless recursion?",
			         m->name, call, sig_name(t.host_sig), (unsigned long)t.addr);
		else if (t.host_sig == SIGFPE || t.host_sig == SIGILL)
			snprintf(msg, sizeof(msg), "%s: %s crashed: %s (%s) at %#lx in its code",
			         m->name, call, sig_name(t.host_sig),
			         t.host_sig == SIGFPE ? "an arithmetic error: a division by zero?"
			                              : "an illegal instruction",
			         (unsigned long)t.addr);
		else
			snprintf(msg, sizeof(msg),
			         "%s: %s crashed: %s at host address %#lx (a wild pointer?)",
			         m->name, call, sig_name(t.host_sig), (unsigned long)t.addr);
		signo = t.host_sig == SIGILL   ? SIM_SIGILL
		        : t.host_sig == SIGFPE ? SIM_SIGFPE
		        : t.host_sig == SIGBUS ? SIM_SIGBUS
		                               : SIM_SIGSEGV;
		addr = t.addr;
		break;
	case TRAP_ABORT:
		snprintf(msg, sizeof(msg), "%s: %s called abort() (a failed assert?)", m->name,
		         call);
		signo = SIM_SIGABRT;
		code = 0;
		break;
	case TRAP_SPIN:
		snprintf(msg, sizeof(msg),
		         "%s: %s ran %.1f s of CPU in its own code without returning: an endless "
		         "loop?",
		         m->name, call, G.spin_limit_ticks * (TICK_USEC / 1e6));
		signo = SIM_SIGXCPU;
		code = SIM_SI_KERNEL;
		break;
	}
	if (t.overflow)
		asan_forget_overflowed_stack();
	if (m->side)
		memlib_side_abort(m, msg);
	k = m->lc->k;
	m->call = NULL;
	m->mode = MEMLIB_IDLE;
	say(k, msg);
	force_fatal_signal(k, signo, code, addr, 0, msg);
	panic("%s: the simulated process is not running in task_run", msg);
}

/* Make the interrupted context call trap_trampoline on its own stack, or
   on spare_stack when that one overflowed. */
static void redirect(ucontext_t *uc, bool spare)
{
	greg_t *g = uc->uc_mcontext.gregs;
	uintptr_t sp = spare ? (uintptr_t)(spare_stack + SPARE_STACK) : (uintptr_t)g[REG_RSP];

	sp -= 512; /* past the red zone and whatever the code was building */
	sp &= ~(uintptr_t)15;
	sp -= 8; /* as after a call: a (never used) return address */
	*(uintptr_t *)sp = 0;
	g[REG_RSP] = (greg_t)sp;
	g[REG_RIP] = (greg_t)(uintptr_t)trap_trampoline;
}

/* ---- the handlers ------------------------------------------------------------------ */

/* The watched plugin whose call is running: the one whose code holds pc,
   else the one with a call in progress (with several, the first). */
static struct watched *running(uintptr_t pc, bool *in_text)
{
	struct watched *any = NULL;

	*in_text = false;
	for (unsigned i = 0; i < G.nr; i++) {
		struct watched *w = &G.w[i];

		if (!w->m->call)
			continue;
		if (in_ranges(w->text, w->nr_text, pc)) {
			*in_text = true;
			return w;
		}
		if (!any)
			any = w;
	}
	return any;
}

/* The call can be cut short: a side call, or an operation of a live
   process inside task_run. */
static bool can_unwind(const struct memlib *m)
{
	const struct task *t;

	if (m->side)
		return true;
	if (m->mode != MEMLIB_RUN || !m->lc || !(t = m->lc->task))
		return false;
	return !t->dead && t->exit_jmp;
}

static bool is_simulated(const struct memlib *m, uintptr_t va)
{
	if (plugin_guard_covers(va))
		return true;
	if (m->lc && m->lc->task)
		return vma_lookup((struct mm_struct *)m->lc->task->mm, va) != NULL;
	return false;
}

static void put(const char *s)
{
	ssize_t r = write(2, s, strlen(s));

	(void)r;
}

/* Hand the signal to the disposition before ours. */
static void chain(int sig)
{
	sigaction(sig, &G.old[sig], NULL);
	if (sig == SIGABRT || sig == SIGPROF)
		raise(sig); /* delivered when the handler returns */
	                    /* A fault returns and faults again, under the old disposition. */
}

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
	uintptr_t addr = (uintptr_t)si->si_addr;
	bool in_text, in_host;
	struct watched *w = running(pc, &in_text);
	struct memlib *m;
	int saved = errno;

	if (!w)
		goto out_chain;
	m = w->m;
	in_host = in_ranges(G.host_text, G.nr_host_text, pc);
	G.trap = (struct trap){.m = m, .host_sig = sig, .addr = addr};
	if (sig == SIGABRT) {
		/* abort() raised it: a call, not a fault, so whoever called it is
		   at a safe point -- unless it is the simulator's panic. */
		if ((si->si_code != SI_TKILL && si->si_code != SI_USER) || panic_in_progress())
			goto out_chain;
		G.trap.kind = TRAP_ABORT;
	} else if ((sig == SIGSEGV || sig == SIGBUS) && is_simulated(m, addr)) {
		G.trap.kind = TRAP_SIM_DEREF;
		G.trap.write = (uc->uc_mcontext.gregs[REG_ERR] & 2) != 0;
		/* Our own code never uses a simulated address as a host pointer. */
		if (in_host)
			goto out_unsafe;
	} else {
		G.trap.kind = TRAP_HOST_FAULT;
		if (!in_text)
			goto out_unsafe;
		/* A stack overflow leaves no stack for the trampoline: it runs
		   on the spare one. */
		G.trap.overflow = addr + 65536 > sp && addr < sp + 65536;
	}
	if (!can_unwind(m))
		goto out_unsafe;
	redirect(uc, G.trap.overflow);
	errno = saved;
	return;
out_unsafe:
	put("aftermalloc: ");
	put(m->name);
	put(": ");
	put(sig_name(sig));
	put(in_host ? " in the simulator's code during " : " during ");
	put(m->call ? m->call : "a plugin call");
	put(in_host ? ": the plugin may have overwritten host memory\n"
	            : ": cannot be recovered from here\n");
out_chain:
	errno = saved;
	chain(sig);
}

static void on_tick(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
	bool in_text;
	struct watched *w = running(pc, &in_text);

	(void)sig;
	(void)si;
	if (!w || !in_text)
		return; /* idle, in the simulator, in a front end paused mid-call */
	if (w->spin_serial != w->m->serial) {
		w->spin_serial = w->m->serial;
		w->spin_ticks = 0;
	}
	if (++w->spin_ticks < G.spin_limit_ticks || !can_unwind(w->m))
		return;
	G.trap = (struct trap){.m = w->m, .kind = TRAP_SPIN};
	w->spin_ticks = 0;
	redirect(uc, false);
}

/*
 * exit() called by a plugin during one of its operations. A real allocator
 * that calls exit() ends its process; here the process is the tool's (the
 * front ends cannot yet see a simulated process end inside a call), so the
 * tool ends, with the plugin's status, after saying why: in lab and replay
 * that is the trace's child process, whose end the parent reports. The
 * binary exports exit (libc/policy.syms), so that a plugin's call binds
 * here; every caller goes on to the C library's.
 */
void exit(int status)
{
	static void (*libc_exit)(int);
	uintptr_t caller = (uintptr_t)__builtin_return_address(0);

	for (unsigned i = 0; i < G.nr; i++) {
		const struct memlib *m = G.w[i].m;
		char msg[200];

		if (!m->call || !in_ranges(G.w[i].text, G.w[i].nr_text, caller))
			continue;
		snprintf(msg, sizeof(msg),
		         "aftermalloc: %s: %s called exit(%d): the plugin runs in this process, "
		         "which ends with it\n",
		         m->name, m->call, status);
		put(msg);
		break;
	}
	if (!libc_exit)
		libc_exit = (void (*)(int))dlsym(RTLD_NEXT, "exit");
	libc_exit(status);
	_exit(status);
}

static void arm(void)
{
	stack_t ss = {0};
	struct sigaction sa = {0};
	struct itimerval it = {{0, TICK_USEC}, {0, TICK_USEC}};
	unsigned nr = 0;
	struct find_text f = {.want_main = true, .out = G.host_text, .nr = &nr};

	dl_iterate_phdr(find_text_cb, &f);
	G.nr_host_text = nr;
	if (!G.altstack) {
		G.altstack = mmap(NULL, ALTSTACK, PROT_READ | PROT_WRITE,
		                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (G.altstack == MAP_FAILED)
			host_oom("the signal stack");
	}
	ss.ss_sp = G.altstack;
	ss.ss_size = ALTSTACK;
	if (sigaltstack(&ss, NULL) < 0)
		panic("sigaltstack: %s", strerror(errno));
	/* SA_RESTART: a tick must not cut a read of the stepper's keys short. */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NR_GUARDED; i++) {
		int sig = guarded_signals[i];

		sa.sa_sigaction = sig == SIGPROF ? on_tick : on_fault;
		sigaction(sig, &sa, &G.old[sig]);
	}
	setitimer(ITIMER_PROF, &it, NULL);
	G.armed = true;
}

static void disarm(void)
{
	struct itimerval off = {{0, 0}, {0, 0}};

	setitimer(ITIMER_PROF, &off, NULL);
	for (size_t i = 0; i < NR_GUARDED; i++)
		sigaction(guarded_signals[i], &G.old[guarded_signals[i]], NULL);
	G.armed = false;
}

int plugin_guard_watch(struct memlib *m, void *dl)
{
	struct watched *w;
	struct link_map *lm = NULL;
	struct find_text f;

	if (G.nr == MAX_WATCHED)
		return -1;
	w = &G.w[G.nr];
	*w = (struct watched){.m = m};
	if (dlinfo(dl, RTLD_DI_LINKMAP, &lm) == 0 && lm) {
		f = (struct find_text){.base = lm->l_addr, .out = w->text, .nr = &w->nr_text};
		dl_iterate_phdr(find_text_cb, &f);
	}
	G.nr++;
	if (!G.armed)
		arm();
	return 0;
}

void plugin_guard_unwatch(struct memlib *m)
{
	for (unsigned i = 0; i < G.nr; i++)
		if (G.w[i].m == m) {
			G.w[i] = G.w[--G.nr];
			break;
		}
	if (G.nr == 0 && G.armed)
		disarm();
}

void plugin_guard_set_spin_limit(double secs)
{
	double ticks = secs * 1e6 / TICK_USEC;

	G.spin_limit_ticks = ticks < 1 ? 1 : ticks > 1e6 ? 1000000 : (unsigned)ticks;
}
