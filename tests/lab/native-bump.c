/*
 * native-bump.c - a plugin written against aftermalloc/policy.h, the
 * interface of the built-in policies (struct malloc_ops), for
 * tests/test_lab.c: a bump allocator, a 16-byte header holding the block's
 * size before each payload, nothing ever reused. Its root, the number of
 * blocks, lives in the program's bss.
 */
#include <aftermalloc/policy.h>

static vaddr_t nblocks; /* a uint64_t in the bss */

static void bump_init(struct libc *lc)
{
	nblocks = libc_static_alloc(lc, 16);
}

static vaddr_t bump_malloc(struct libc *lc, uint64_t n)
{
	uint64_t size = (n + 16 + 15) & ~(uint64_t)15;
	vaddr_t p = libc_sbrk(lc, (int64_t)size);

	if (p == (vaddr_t)-1)
		return 0;
	libc_st64(lc, p, size);
	libc_st64(lc, nblocks, libc_ld64(lc, nblocks) + 1);
	return p + 16;
}

static void bump_free(struct libc *lc, vaddr_t p)
{
	(void)lc;
	(void)p;
}

static vaddr_t bump_realloc(struct libc *lc, vaddr_t p, uint64_t n)
{
	uint64_t have = libc_ld64(lc, p - 16) - 16;
	vaddr_t q = bump_malloc(lc, n);

	if (q)
		libc_memcpy(lc, q, p, have < n ? have : n);
	return q;
}

static void bump_walk(struct libc *lc, chunk_cb_t cb, void *ctx)
{
	vaddr_t p = libc_start_brk(lc), end = libc_curbrk(lc);
	uint64_t size;

	while (p && p < end && libc_peek64(lc, p, &size) && size >= 16) {
		struct chunk_info ci = {
		    .chunk = p, .size = size, .user = p + 16, .in_use = true, .where = "in use"};

		cb(ctx, &ci);
		p += size;
	}
}

static const struct malloc_ops bump_ops = {
    .name = "native-bump",
    .description = "a bump allocator written against aftermalloc/policy.h",
    .init = bump_init,
    .malloc = bump_malloc,
    .free = bump_free,
    .realloc = bump_realloc,
    .walk = bump_walk,
};

AFTERMALLOC_POLICY(bump_ops)
