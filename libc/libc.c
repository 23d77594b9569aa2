/*
 * libc.c - the user-space library of the simulated process: glibc 2.36's
 * system-call wrappers (misc/sbrk.c, sysdeps/unix/sysv/linux/brk.c,
 * sysdeps/unix/sysv/linux/mmap64.c, munmap), the malloc family's public
 * entry points (__libc_malloc, __libc_free, __libc_calloc, __libc_realloc,
 * __posix_memalign, __malloc_usable_size) dispatching to a policy,
 * malloc_printerr, the loads and stores allocator code makes, and the CPU
 * time its loops take (libc_step).
 *
 * Everything here runs "in" the simulated process: memory is reached only
 * through the CPU (vm/cpu.h) and the kernel only through its syscalls, and
 * the timer tick that charges CPU time (account_user_time).
 */
#include "libc.h"
#include "pthread.h"

#include <stdlib.h>
#include <string.h>

#include "../kernel_sim/syscalls.h"
#include "../vm/pagetable.h"
#include "../vm/panic.h"

static struct probe *lc_probe(struct libc *lc)
{
	return &lc->k->probe;
}

void libc_init(struct libc *lc, struct kernel *k, const struct malloc_ops *ops)
{
	vaddr_t bss_start, bss_end;

	if (!k->current)
		panic("no current task to bind to");
	if (!ops)
		panic("no malloc policy");
	memset(lc, 0, sizeof(*lc));
	lc->k = k;
	lc->cpu = &k->cpu;
	lc->ops = ops;
	lc->task = k->current;
	sim_program_image(k, &bss_start, &bss_end);
	lc->static_base = (bss_start + 15) & ~(vaddr_t)15;
	lc->static_end = bss_end;
	lc->static_next = lc->static_base;
	if (lc->static_base > lc->static_end)
		panic("empty bss [%#llx, %#llx)", (unsigned long long)bss_start,
		      (unsigned long long)bss_end);
	/* Host-side setup only: the policy first touches memory in its first malloc. */
	if (ops->init)
		ops->init(lc);
	lc->data = libc_static_alloc(lc, LD_SIZEOF);
	lc->main_thread.tid = k->current->pid;
	lc->main_thread.task = k->current;
	lc->main_thread.tls = lc->data + LD_MAIN_TLS;
	lc->threads = lc->self = &lc->main_thread;
	lc->stacksize = libc_pthread_default_stacksize(k->current);
}

void libc_set_self(struct libc *lc, struct libc_thread *t)
{
	if (t == lc->self)
		return;
	lc->self->errno_ = lc->errno_;
	lc->errno_ = t->errno_;
	lc->self = t;
}

void libc_fini(struct libc *lc)
{
	if (lc->ops && lc->ops->fini)
		lc->ops->fini(lc);
	libc_threads_release(lc);
}

vaddr_t libc_static_alloc(struct libc *lc, uint64_t n)
{
	vaddr_t p = lc->static_next;
	uint64_t sz = (n + 15) & ~(uint64_t)15;

	/* The program image is fixed at link time: running out is a build bug. */
	if (sz < n || sz > lc->static_end - p)
		panic("bss exhausted: %llu bytes wanted, %llu left", (unsigned long long)n,
		      (unsigned long long)(lc->static_end - p));
	lc->static_next = p + sz;
	return p;
}

/* ---- system-call wrappers ------------------------------------------------ */

/* __brk (sysdeps/unix/sysv/linux/brk.c): 0, or -1 with errno ENOMEM when the
   kernel's answer is below the request. A refused shrink returns the old,
   higher break, so it looks like success: glibc's quirk, kept. */
int libc_brk(struct libc *lc, vaddr_t addr)
{
	struct probe *p = lc_probe(lc);
	int ret = 0;

	probe_call(p, LAYER_LIBC, "__brk", {"addr", addr});
	lc->st.brk_calls++;
	lc->curbrk = sys_brk(lc->k, addr);
	if (!lc->start_brk)
		lc->start_brk = lc->curbrk;
	if (lc->curbrk < addr) {
		lc->errno_ = SIM_ENOMEM;
		ret = -1;
	}
	probe_ret(p, LAYER_LIBC, "__brk", {"ret", (uint64_t)(int64_t)ret}, {"curbrk", lc->curbrk});
	return ret;
}

/* __sbrk (misc/sbrk.c): the old break, or (vaddr_t)-1 with errno ENOMEM. */
vaddr_t libc_sbrk(struct libc *lc, int64_t inc)
{
	struct probe *p = lc_probe(lc);
	vaddr_t oldbrk, ret;

	probe_call(p, LAYER_LIBC, "__sbrk", {"increment", (uint64_t)inc});
	/* The first call learns the break (glibc does it at startup). */
	if (lc->curbrk == 0 && libc_brk(lc, 0) < 0) {
		ret = (vaddr_t)-1;
		goto out;
	}
	oldbrk = lc->curbrk;
	if (inc == 0) {
		ret = oldbrk;
		goto out;
	}
	if ((inc > 0 && oldbrk + (uint64_t)inc < oldbrk) || (inc < 0 && oldbrk < -(uint64_t)inc)) {
		lc->errno_ = SIM_ENOMEM;
		ret = (vaddr_t)-1;
		goto out;
	}
	if (libc_brk(lc, oldbrk + (uint64_t)inc) < 0) {
		ret = (vaddr_t)-1;
		goto out;
	}
	ret = oldbrk;
out:
	probe_ret(p, LAYER_LIBC, "__sbrk", {"ret", ret});
	return ret;
}

/* __mmap: the kernel's -errno becomes errno and MAP_FAILED. Mappings made
   inside the malloc family are the allocator's: counted in st.mmapped_bytes
   by whole pages, as mallinfo2's hblkhd counts them. */
vaddr_t libc_mmap(struct libc *lc, vaddr_t addr, uint64_t len, int prot, int flags)
{
	struct probe *p = lc_probe(lc);
	int64_t r;
	vaddr_t ret;

	probe_call(p, LAYER_LIBC, "__mmap", {"addr", addr}, {"len", len}, {"prot", (uint64_t)prot},
	           {"flags", (uint64_t)flags});
	lc->st.mmap_calls++;
	r = sys_mmap(lc->k, addr, len, prot, flags, -1, 0);
	if (r < 0) {
		lc->errno_ = (int)-r;
		ret = LIBC_MAP_FAILED;
	} else {
		ret = (vaddr_t)r;
		if (lc->in_malloc && !lc->uncounted) {
			lc->st.mmapped_bytes += PAGE_ALIGN(len);
			if (lc->st.mmapped_bytes > lc->st.max_mmapped_bytes)
				lc->st.max_mmapped_bytes = lc->st.mmapped_bytes;
		}
	}
	probe_ret(p, LAYER_LIBC, "__mmap", {"ret", ret});
	return ret;
}

int libc_munmap(struct libc *lc, vaddr_t addr, uint64_t len)
{
	struct probe *p = lc_probe(lc);
	int64_t r;
	int ret = 0;

	probe_call(p, LAYER_LIBC, "__munmap", {"addr", addr}, {"len", len});
	lc->st.munmap_calls++;
	r = sys_munmap(lc->k, addr, len);
	if (r < 0) {
		lc->errno_ = (int)-r;
		ret = -1;
	} else if (lc->in_malloc && !lc->uncounted) {
		uint64_t n = PAGE_ALIGN(len);

		if (n > lc->st.mmapped_bytes)
			panic("allocator unmapped %llu bytes, has %llu mapped",
			      (unsigned long long)n, (unsigned long long)lc->st.mmapped_bytes);
		lc->st.mmapped_bytes -= n;
	}
	probe_ret(p, LAYER_LIBC, "__munmap", {"ret", (uint64_t)(int64_t)ret});
	return ret;
}

/* A system call with glibc's convention: 0, or -1 and errno. */
static int sys_status(struct libc *lc, int64_t r)
{
	if (r < 0) {
		lc->errno_ = (int)-r;
		return -1;
	}
	return 0;
}

int libc_mprotect(struct libc *lc, vaddr_t addr, uint64_t len, int prot)
{
	struct probe *p = lc_probe(lc);
	int ret;

	probe_call(p, LAYER_LIBC, "__mprotect", {"addr", addr}, {"len", len},
	           {"prot", (uint64_t)prot});
	ret = sys_status(lc, sys_mprotect(lc->k, addr, len, prot));
	probe_ret(p, LAYER_LIBC, "__mprotect", {"ret", (uint64_t)(int64_t)ret});
	return ret;
}

int libc_madvise(struct libc *lc, vaddr_t addr, uint64_t len, int advice)
{
	struct probe *p = lc_probe(lc);
	int ret;

	probe_call(p, LAYER_LIBC, "__madvise", {"addr", addr}, {"len", len},
	           {"advice", (uint64_t)advice});
	ret = sys_status(lc, sys_madvise(lc->k, addr, len, advice));
	probe_ret(p, LAYER_LIBC, "__madvise", {"ret", (uint64_t)(int64_t)ret});
	return ret;
}

vaddr_t libc_mremap(struct libc *lc, vaddr_t addr, uint64_t old_len, uint64_t new_len, int flags)
{
	struct probe *p = lc_probe(lc);
	int64_t r;
	vaddr_t ret;

	probe_call(p, LAYER_LIBC, "__mremap", {"addr", addr}, {"old_len", old_len},
	           {"new_len", new_len}, {"flags", (uint64_t)flags});
	r = sys_mremap(lc->k, addr, old_len, new_len, flags, 0);
	if (r < 0) {
		lc->errno_ = (int)-r;
		ret = LIBC_MAP_FAILED;
	} else {
		ret = (vaddr_t)r;
		if (lc->in_malloc && !lc->uncounted) {
			uint64_t o = PAGE_ALIGN(old_len), n = PAGE_ALIGN(new_len);

			if (o > lc->st.mmapped_bytes)
				panic("allocator remapped %llu bytes, has %llu mapped",
				      (unsigned long long)o,
				      (unsigned long long)lc->st.mmapped_bytes);
			lc->st.mmapped_bytes = lc->st.mmapped_bytes - o + n;
			if (lc->st.mmapped_bytes > lc->st.max_mmapped_bytes)
				lc->st.max_mmapped_bytes = lc->st.mmapped_bytes;
		}
	}
	probe_ret(p, LAYER_LIBC, "__mremap", {"ret", ret});
	return ret;
}

void libc_count_mapped(struct libc *lc, int64_t delta)
{
	if (delta < 0 && (uint64_t)-delta > lc->st.mmapped_bytes)
		panic("allocator uncounted %llu bytes, has %llu mapped",
		      (unsigned long long)-delta, (unsigned long long)lc->st.mmapped_bytes);
	lc->st.mmapped_bytes += (uint64_t)delta;
	if (lc->st.mmapped_bytes > lc->st.max_mmapped_bytes)
		lc->st.max_mmapped_bytes = lc->st.mmapped_bytes;
}

int64_t libc_read_file(struct libc *lc, const char *path, char *buf, size_t n)
{
	int64_t fd = sys_openat(lc->k, path, SIM_O_RDONLY | SIM_O_CLOEXEC), r;

	if (fd < 0) {
		lc->errno_ = (int)-fd;
		return -1;
	}
	r = sys_read(lc->k, (int)fd, buf, n ? n - 1 : 0);
	if (r < 0) {
		lc->errno_ = (int)-r;
		r = -1;
	} else if (n) {
		buf[r] = '\0';
	}
	sys_close(lc->k, (int)fd);
	return r;
}

/* read_sysfs_file: comma-separated ranges "0-3,8", each counted. */
int libc_get_nprocs(struct libc *lc)
{
	char buf[64];
	const char *l = buf;
	int result = 0;

	probe_call(lc_probe(lc), LAYER_LIBC, "__get_nprocs");
	if (libc_read_file(lc, "/sys/devices/system/cpu/online", buf, sizeof(buf)) > 0) {
		do {
			char *end;
			unsigned long n = strtoul(l, &end, 10), m = n;

			if (end == l) {
				result = 0;
				break;
			}
			if (*end == '-') {
				l = end + 1;
				m = strtoul(l, &end, 10);
				if (end == l) {
					result = 0;
					break;
				}
			}
			if (m >= n)
				result += (int)(m - n + 1);
			l = end;
			if (*l == ',')
				l++;
		} while (*l && *l != '\n');
	}
	if (result == 0)
		result = 2; /* get_nprocs_fallback's last resort */
	probe_ret(lc_probe(lc), LAYER_LIBC, "__get_nprocs", {"ret", (uint64_t)result});
	return result;
}

/* ---- the malloc family ----------------------------------------------------- */

vaddr_t libc_malloc(struct libc *lc, uint64_t n)
{
	struct probe *p = lc_probe(lc);
	vaddr_t ret;

	probe_call(p, LAYER_LIBC, "malloc", {"bytes", n});
	lc->in_malloc++;
	ret = lc->ops->malloc(lc, n);
	lc->in_malloc--;
	if (!ret)
		lc->errno_ = SIM_ENOMEM;
	probe_ret(p, LAYER_LIBC, "malloc", {"ret", ret});
	return ret;
}

void libc_free(struct libc *lc, vaddr_t mem)
{
	struct probe *p = lc_probe(lc);

	probe_call(p, LAYER_LIBC, "free", {"mem", mem});
	/* free(NULL) does nothing (__libc_free's first test); policies may assume mem != 0. */
	if (mem) {
		lc->in_malloc++;
		lc->ops->free(lc, mem);
		lc->in_malloc--;
	}
	probe_ret(p, LAYER_LIBC, "free");
}

vaddr_t libc_calloc(struct libc *lc, uint64_t nmemb, uint64_t size)
{
	struct probe *p = lc_probe(lc);
	vaddr_t ret = 0;
	uint64_t bytes;

	probe_call(p, LAYER_LIBC, "calloc", {"nmemb", nmemb}, {"size", size});
	if (__builtin_mul_overflow(nmemb, size, &bytes)) {
		/* __libc_calloc: "bytes = n * elem_size" overflowed. */
		lc->errno_ = SIM_ENOMEM;
		goto out;
	}
	lc->in_malloc++;
	if (lc->ops->calloc) {
		ret = lc->ops->calloc(lc, nmemb, size);
	} else {
		/* Generic: clear everything (a policy that knows fresh sbrk memory
		   is already zero provides its own calloc, as glibc does). */
		ret = lc->ops->malloc(lc, bytes);
		if (ret)
			libc_memset(lc, ret, 0, bytes);
	}
	lc->in_malloc--;
	if (!ret)
		lc->errno_ = SIM_ENOMEM;
out:
	probe_ret(p, LAYER_LIBC, "calloc", {"ret", ret});
	return ret;
}

/* __libc_realloc: realloc(NULL, n) is malloc(n); realloc(p, 0) frees p and
   returns NULL (REALLOC_ZERO_BYTES_FREES); on failure p is left untouched.
   The policy sees only p != 0 and n != 0. */
vaddr_t libc_realloc(struct libc *lc, vaddr_t oldmem, uint64_t n)
{
	struct probe *p = lc_probe(lc);
	vaddr_t ret = 0;

	probe_call(p, LAYER_LIBC, "realloc", {"oldmem", oldmem}, {"bytes", n});
	lc->in_malloc++;
	if (!oldmem)
		ret = lc->ops->malloc(lc, n);
	else if (n == 0)
		lc->ops->free(lc, oldmem);
	else
		ret = lc->ops->realloc(lc, oldmem, n);
	lc->in_malloc--;
	if (!ret && !(oldmem && n == 0))
		lc->errno_ = SIM_ENOMEM;
	probe_ret(p, LAYER_LIBC, "realloc", {"ret", ret});
	return ret;
}

/* posix_memalign: 0, EINVAL (align not a power of two multiple of 8) or
   ENOMEM; errno is not set (POSIX). A policy without memalign serves only
   alignments up to its own 16. */
int libc_posix_memalign(struct libc *lc, vaddr_t *out, uint64_t align, uint64_t n)
{
	struct probe *p = lc_probe(lc);
	vaddr_t mem = 0;
	int ret = 0;

	probe_call(p, LAYER_LIBC, "posix_memalign", {"alignment", align}, {"bytes", n});
	if (align % 8 != 0 || align == 0 || (align & (align - 1)) != 0) {
		ret = SIM_EINVAL;
		goto out;
	}
	lc->in_malloc++;
	if (lc->ops->memalign)
		mem = lc->ops->memalign(lc, align, n);
	else if (align <= 16)
		mem = lc->ops->malloc(lc, n);
	lc->in_malloc--;
	if (!mem)
		ret = SIM_ENOMEM;
	else
		*out = mem;
out:
	probe_ret(p, LAYER_LIBC, "posix_memalign", {"ret", (uint64_t)ret}, {"mem", mem});
	return ret;
}

/* memalign (glibc's __libc_memalign, which aligned_alloc and valloc share):
   the policy rounds the alignment as glibc's _mid_memalign does; a policy
   without memalign serves only alignments up to its own 16 (else NULL and
   ENOMEM, as an allocator that cannot align). */
vaddr_t libc_memalign(struct libc *lc, uint64_t align, uint64_t n)
{
	struct probe *p = lc_probe(lc);
	vaddr_t mem = 0;

	probe_call(p, LAYER_LIBC, "memalign", {"alignment", align}, {"bytes", n});
	lc->in_malloc++;
	if (lc->ops->memalign)
		mem = lc->ops->memalign(lc, align, n);
	else if (align <= 16)
		mem = lc->ops->malloc(lc, n);
	lc->in_malloc--;
	if (!mem)
		lc->errno_ = SIM_ENOMEM;
	probe_ret(p, LAYER_LIBC, "memalign", {"ret", mem});
	return mem;
}

uint64_t libc_malloc_usable_size(struct libc *lc, vaddr_t mem)
{
	uint64_t n = 0;

	if (mem && lc->ops->usable_size) {
		lc->in_malloc++;
		n = lc->ops->usable_size(lc, mem);
		lc->in_malloc--;
	}
	return n;
}

/* malloc_printerr (malloc/malloc.c) -> __libc_message: "MSG\n" on fd 2, then
   abort(), which raises SIGABRT. The process dies; the call never returns. */
void libc_malloc_printerr(struct libc *lc, const char *msg)
{
	char buf[256];
	size_t n = strlen(msg);

	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	memcpy(buf, msg, n);
	buf[n++] = '\n';
	probe_call(lc_probe(lc), LAYER_LIBC, "malloc_printerr");
	sys_write(lc->k, 2, buf, n);
	probe_call(lc_probe(lc), LAYER_LIBC, "abort");
	sys_tgkill_self(lc->k, SIM_SIGABRT);
	panic("SIGABRT returned (%s): not run inside task_run", msg);
}

/* ---- memory access ---------------------------------------------------------- */

/* A user-mode instruction: U/S is checked, faults go to the kernel. -1 means
   the process was killed and the kernel did not unwind: no task_run armed. */
static void lc_user(struct libc *lc)
{
	lc->cpu->user = true;
}

static void lc_fatal(const char *what, vaddr_t va)
{
	panic("%s at %#llx faulted fatally outside task_run", what, (unsigned long long)va);
}

uint64_t libc_load_slow(struct libc *lc, vaddr_t va, unsigned size)
{
	uint64_t v;

	lc_user(lc);
	if (cpu_load_slow(lc->cpu, va, size, &v) < 0)
		lc_fatal("load", va);
	return v;
}

void libc_store_slow(struct libc *lc, vaddr_t va, unsigned size, uint64_t v)
{
	lc_user(lc);
	if (cpu_store_slow(lc->cpu, va, size, v) < 0)
		lc_fatal("store", va);
}

void libc_read(struct libc *lc, void *dst, vaddr_t src, uint64_t n)
{
	if (n == 0)
		return;
	lc_user(lc);
	if (cpu_read(lc->cpu, src, dst, n) < 0)
		lc_fatal("read", src);
}

void libc_write(struct libc *lc, vaddr_t dst, const void *src, uint64_t n)
{
	if (n == 0)
		return;
	lc_user(lc);
	if (cpu_write(lc->cpu, dst, src, n) < 0)
		lc_fatal("write", dst);
}

void libc_memset(struct libc *lc, vaddr_t va, uint8_t byte, uint64_t n)
{
	if (n == 0)
		return;
	lc_user(lc);
	if (cpu_fill(lc->cpu, va, byte, n) < 0)
		lc_fatal("memset", va);
}

void libc_memcpy(struct libc *lc, vaddr_t dst, vaddr_t src, uint64_t n)
{
	if (n == 0)
		return;
	lc_user(lc);
	if (cpu_copy(lc->cpu, dst, src, n) < 0)
		lc_fatal("memcpy", dst);
}

/* One byte range inside one page, by a side-effect-free walk. */
static bool peek_bytes(struct libc *lc, vaddr_t va, uint8_t *buf, size_t n)
{
	pte_t e;

	if (!vaddr_canonical(va) || va >= USER_VA_END)
		return false;
	e = pagewalk(lc->cpu->phys, lc->cpu->cr3, va, NULL);
	if (!pte_present(e) || !(e & PTE_US) || !phys_valid_pfn(lc->cpu->phys, pte_pfn(e)))
		return false;
	phys_read(lc->cpu->phys, pfn_to_paddr(pte_pfn(e)) + (va & (PAGE_SIZE - 1)), buf, n);
	return true;
}

bool libc_peek(struct libc *lc, vaddr_t va, void *buf, uint64_t n)
{
	uint8_t *b = buf;

	if (lc->cpu->cr3 == PFN_NONE)
		return false;
	while (n) {
		uint64_t len = PAGE_SIZE - (va & (PAGE_SIZE - 1));

		if (len > n)
			len = n;
		if (va + len < va || !peek_bytes(lc, va, b, len))
			return false;
		va += len;
		b += len;
		n -= len;
	}
	return true;
}

bool libc_peek_cached(struct libc *lc, struct libc_peek_cache *c, vaddr_t va, void *buf, uint64_t n)
{
	uint8_t *b = buf;

	while (n) {
		uint64_t len = PAGE_SIZE - (va & (PAGE_SIZE - 1));

		if (len > n)
			len = n;
		if (!c->valid || c->vpn != va >> PAGE_SHIFT) {
			pte_t e;

			if (lc->cpu->cr3 == PFN_NONE || !vaddr_canonical(va) || va >= USER_VA_END)
				return false;
			e = pagewalk(lc->cpu->phys, lc->cpu->cr3, va, NULL);
			if (!pte_present(e) || !(e & PTE_US) ||
			    !phys_valid_pfn(lc->cpu->phys, pte_pfn(e)))
				return false;
			c->vpn = va >> PAGE_SHIFT;
			c->pfn = pte_pfn(e);
			c->valid = true;
		}
		phys_read(lc->cpu->phys, pfn_to_paddr(c->pfn) + (va & (PAGE_SIZE - 1)), b, len);
		va += len;
		b += len;
		n -= len;
	}
	return true;
}

void libc_peek_in(struct libc *lc, pfn_t pgd, void (*fn)(struct libc *lc, void *ctx), void *ctx)
{
	/* libc_peek walks lc->cpu->cr3 alone (no TLB, no event, no CPU
	   state but that root): the root is lent for the reader's reads. */
	pfn_t loaded = lc->cpu->cr3;

	lc->cpu->cr3 = pgd;
	fn(lc, ctx);
	lc->cpu->cr3 = loaded;
}

bool libc_peek64(struct libc *lc, vaddr_t va, uint64_t *v)
{
	uint8_t b[8];

	if (!libc_peek(lc, va, b, 8))
		return false;
	memcpy(v, b, 8); /* the host is little-endian, like x86-64 */
	return true;
}

/* ---- what the policy interface reads of the library -------------------------- */

vaddr_t libc_curbrk(const struct libc *lc)
{
	return lc->curbrk;
}

vaddr_t libc_start_brk(const struct libc *lc)
{
	return lc->start_brk;
}

int libc_errno(const struct libc *lc)
{
	return lc->errno_;
}

void *libc_policy_data(const struct libc *lc)
{
	return lc->priv;
}

void libc_set_policy_data(struct libc *lc, void *data)
{
	lc->priv = data;
}

/* ---- CPU time --------------------------------------------------------------- */

/* The walk begins, reaches the soft limit, or is watched (one call a step). */
void libc_walk_slow(struct libc *lc, struct libc_walk *w, vaddr_t pos)
{
	const struct task *t = lc->k->current;
	uint64_t soft = t->rlim[SIM_RLIMIT_CPU].cur;

	if (!account_user_time(lc->k, 0)) /* at the soft limit: the kernel's check */
		panic("killed for CPU time outside task_run");
	if (w->until == 0)
		w->start = t->utime - 1;
	if (t->utime - w->start < LIBC_WALK_QUIET) {
		w->until = w->start + LIBC_WALK_QUIET < soft ? w->start + LIBC_WALK_QUIET : soft;
		return;
	}
	if (w->power == 0) {
		w->saved = pos;
		w->power = 1;
	} else if (pos == w->saved) {
		account_user_time_to_limit(lc->k);
		panic("endless loop at %#llx outlived RLIMIT_CPU: not run inside task_run",
		      (unsigned long long)pos);
	} else if (++w->lam == w->power) {
		w->saved = pos;
		w->power *= 2;
		w->lam = 0;
	}
	w->until = t->utime + 1;
}

uint64_t libc_footprint(struct libc *lc)
{
	const struct mm_struct *mm = lc->task->mm;

	/* A statistic, read host-side like mallinfo2: what the heap spans now
	   plus what the allocator has mapped. */
	return (mm->brk - mm->start_brk) + lc->st.mmapped_bytes;
}
