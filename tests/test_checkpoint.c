/*
 * test_checkpoint.c - the steppers' checkpoints (demos/step/stepper.h) and the
 * arena they snapshot (vm/hostmem.h).
 *
 * The arena's allocator is tested alone (blocks of every size, reuse, big
 * blocks, realloc, maps, its checker) and its snapshots (restore brings back
 * the bytes, zero pages cost nothing, equal pages are shared). The stepper is
 * tested against a straight run: for every demo, the events seen after each
 * step back (b, B, g to an earlier event) are the straight run's, byte for
 * byte, and the end state is the same; a long loop goes back re-executing at
 * most the bound (counted, never timed), without rebuilding the session.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../demos/step/step.h"
#include "../demos/step/stepper.h"
#include "../kernel_sim/task.h"
#include "../vm/hostmem.h"
#include "tests/support_bin.h"

/* ---- the arena ------------------------------------------------------------ */

/* check(x, FILE *) returns 0, else the test fails with what it printed. */
#define assert_checks(check, x)                                                                    \
	do {                                                                                       \
		char *msg_ = NULL;                                                                 \
		size_t len_ = 0;                                                                   \
		FILE *f_ = open_memstream(&msg_, &len_);                                           \
		int r_ = check((x), f_);                                                           \
                                                                                                   \
		fclose(f_);                                                                        \
		cr_assert_eq(r_, 0, "%s", msg_);                                                   \
		free(msg_);                                                                        \
	} while (0)

static void check_arena(const struct hostmem *h)
{
	assert_checks(hostmem_check, h);
}

Test(hostmem, without_an_arena_the_calls_are_libcs)
{
	char *p = hostmem_malloc(100), *q;

	cr_assert_null(hostmem_cur);
	cr_assert_not_null(p);
	cr_assert_null(hostmem_owner(p));
	q = hostmem_realloc(p, 100000);
	cr_assert_not_null(q);
	hostmem_free(q);
	q = hostmem_map(1 << 20, false);
	cr_assert_not_null(q);
	cr_assert_eq(q[12345], 0);
	hostmem_unmap(q, 1 << 20);
}

Test(hostmem, blocks_of_every_size_are_distinct_aligned_and_reused)
{
	struct hostmem *h = hostmem_create(1ULL << 30), *prev;
	static const size_t sizes[] = {1, 15, 16, 17, 100, 500, 1000, 2000, 4000, 4080,
	                               4081, 8192, 100000, 3 << 20};
	enum { N = sizeof(sizes) / sizeof(sizes[0]), R = 20 };
	uint8_t *p[N][R];
	size_t used;

	cr_assert_not_null(h);
	prev = hostmem_enter(h);
	for (int r = 0; r < R; r++)
		for (int i = 0; i < N; i++) {
			p[i][r] = hostmem_malloc(sizes[i]);
			cr_assert_not_null(p[i][r]);
			cr_assert_eq((uintptr_t)p[i][r] % 16, 0);
			cr_assert_eq(hostmem_owner(p[i][r]), h);
			memset(p[i][r], (i * R + r) & 0xff, sizes[i]);
		}
	check_arena(h);
	/* no block overlaps another: each still holds its own byte */
	for (int r = 0; r < R; r++)
		for (int i = 0; i < N; i++)
			for (size_t b = 0; b < sizes[i]; b += 61)
				cr_assert_eq(p[i][r][b], (i * R + r) & 0xff, "size %zu copy %d", sizes[i], r);
	used = hostmem_used(h);
	/* freed blocks are reused: the same again takes no more of the arena */
	for (int r = 0; r < R; r++)
		for (int i = 0; i < N; i++)
			hostmem_free(p[i][r]);
	check_arena(h);
	for (int r = 0; r < R; r++)
		for (int i = 0; i < N; i++)
			p[i][r] = hostmem_calloc(1, sizes[i]);
	cr_assert_leq(hostmem_used(h), used);
	for (int r = 0; r < R; r++)
		for (int i = 0; i < N; i++)
			for (size_t b = 0; b < sizes[i]; b += 61)
				cr_assert_eq(p[i][r][b], 0, "calloc gives zeros (size %zu)", sizes[i]);
	for (int r = 0; r < R; r++)
		for (int i = 0; i < N; i++)
			hostmem_free(p[i][r]);
	check_arena(h);
	/* everything freed: the page runs coalesce back down to the slabs */
	cr_assert_lt(hostmem_allocated(h), 1u << 20);
	hostmem_leave(prev);
	hostmem_destroy(h);
}

Test(hostmem, realloc_keeps_the_bytes_and_the_owner)
{
	struct hostmem *h = hostmem_create(1ULL << 30), *prev;
	uint32_t *a = NULL, *libc_block = malloc(64);
	size_t n = 0;

	cr_assert_not_null(h);
	prev = hostmem_enter(h);
	for (size_t cap = 1; cap <= 1 << 20; cap *= 2) {
		a = hostmem_realloc(a, cap * sizeof(*a));
		cr_assert_not_null(a);
		for (; n < cap; n++)
			a[n] = (uint32_t)(n * 2654435761u);
		if (cap % 64 == 0)
			check_arena(h);
	}
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(a[i], (uint32_t)(i * 2654435761u), "element %zu", i);
	cr_assert_eq(hostmem_owner(a), h);
	/* a libc block freed and grown with the arena entered stays libc's */
	libc_block = hostmem_realloc(libc_block, 100000);
	cr_assert_null(hostmem_owner(libc_block));
	hostmem_free(libc_block);
	hostmem_free(a);
	/* maps: page aligned, zero, given back */
	uint8_t *m = hostmem_map(10 << 20, true);

	cr_assert_not_null(m);
	cr_assert_eq((uintptr_t)m % 4096, 0);
	cr_assert_eq(m[5 << 20], 0);
	m[5 << 20] = 7;
	hostmem_unmap(m, 10 << 20);
	m = hostmem_map(10 << 20, false);
	cr_assert_eq(m[5 << 20], 0, "a map given back and taken again is zero");
	hostmem_unmap(m, 10 << 20);
	check_arena(h);
	/* more than the reservation: NULL, not a crash */
	cr_assert_null(hostmem_malloc(2ULL << 30));
	cr_assert_null(hostmem_map(2ULL << 30, false));
	hostmem_leave(prev);
	hostmem_destroy(h);
}

Test(hostmem, the_checker_finds_a_broken_free_list)
{
	struct hostmem *h = hostmem_create(1ULL << 28), *prev;
	char *a, *b, *msg = NULL;
	size_t len = 0;
	FILE *f;

	prev = hostmem_enter(h);
	a = hostmem_malloc(40);
	b = hostmem_malloc(40);
	hostmem_free(a);
	check_arena(h);
	memset(a - 16, 0x55, 16); /* the free block's header, overwritten */
	f = open_memstream(&msg, &len);
	cr_assert_eq(hostmem_check(h, f), -1);
	fclose(f);
	cr_assert_not_null(strstr(msg, "free list"), "%s", msg);
	free(msg);
	hostmem_leave(prev);
	(void)b;
	hostmem_destroy(h);
}

Test(hostmem, a_snapshot_restores_the_bytes_stores_no_zero_page_and_shares_equal_ones)
{
	struct hostmem *h = hostmem_create(1ULL << 30), *prev;
	struct hostmem_snap *s1, *s2;
	uint8_t *ram, *small;
	size_t used1;

	prev = hostmem_enter(h);
	ram = hostmem_map(64 << 20, false); /* like simulated RAM: mostly untouched */
	small = hostmem_malloc(1000);
	memset(small, 0xab, 1000);
	for (int i = 0; i < 10; i++)
		ram[(size_t)i * 4096 * 100] = (uint8_t)(i + 1);
	ram[(size_t)20 << 20] = 0; /* touched, still zero */
	hostmem_leave(prev);
	s1 = hostmem_snap_take(h, NULL);
	cr_assert_not_null(s1);
	used1 = hostmem_used(h);
	/* 10 RAM pages, the header page, the small block's slab page: no more */
	cr_assert_leq(hostmem_snap_pages(s1), 14, "%zu pages stored", hostmem_snap_pages(s1));
	/* a second snapshot with one page changed shares all others */
	ram[4096 * 300 + 1] = 99;
	s2 = hostmem_snap_take(h, s1);
	cr_assert_eq(hostmem_snap_pages(s2), hostmem_snap_pages(s1));
	cr_assert_leq(hostmem_snaps_bytes(h), (hostmem_snap_pages(s1) + 2) * 4200,
	              "equal pages are shared: %zu bytes", hostmem_snaps_bytes(h));
	/* change everything, allocate more, then restore s1 */
	prev = hostmem_enter(h);
	memset(small, 0xcd, 1000);
	ram[4096 * 7] = 5;
	ram[(size_t)4096 * 100] = 42;
	void *more = hostmem_map(32 << 20, false);

	memset(more, 1, 32 << 20);
	hostmem_free(small);
	hostmem_leave(prev);
	hostmem_snap_restore(h, s1);
	check_arena(h);
	cr_assert_eq(hostmem_used(h), used1);
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(small[i], 0xab);
	cr_assert_eq(ram[4096 * 7], 0);
	cr_assert_eq(ram[4096 * 300 + 1], 0);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(ram[(size_t)i * 4096 * 100], i + 1);
	/* and s2 over it */
	hostmem_snap_restore(h, s2);
	cr_assert_eq(ram[4096 * 300 + 1], 99);
	check_arena(h);
	/* the restored allocator goes on: the block is live again, freeable */
	prev = hostmem_enter(h);
	hostmem_free(small);
	check_arena(h);
	hostmem_leave(prev);
	hostmem_snap_free(s1);
	hostmem_snap_free(s2);
	cr_assert_eq(hostmem_snaps_bytes(h), 0);
	hostmem_destroy(h);
}

Test(hostmem, a_memstream_holds_the_arena_while_open_and_leaves_its_buffer_in_it)
{
	struct hostmem *h = hostmem_create(1ULL << 28), *prev;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	prev = hostmem_enter(h);
	f = hostmem_open_memstream(&buf, &len);
	cr_assert_not_null(f);
	cr_assert_eq(hostmem_held(h), 1, "no snapshot while a FILE is open");
	fprintf(f, "show heap\n");
	cr_assert_eq(hostmem_close_memstream(f, &buf, &len), 0);
	cr_assert_eq(hostmem_held(h), 0);
	cr_assert_eq(hostmem_owner(buf), h, "the text moved into the arena");
	cr_assert_eq(len, 10);
	cr_assert_str_eq(buf, "show heap\n");
	hostmem_free(buf);
	check_arena(h);
	hostmem_leave(prev);
	/* without an arena: libc's buffer, nothing held */
	f = hostmem_open_memstream(&buf, &len);
	fputs("x", f);
	hostmem_close_memstream(f, &buf, &len);
	cr_assert_null(hostmem_owner(buf));
	free(buf);
	hostmem_destroy(h);
}

/* ---- the stepper against a straight run ------------------------------------ */

struct stream {
	char **ev; /* formatted, by seq - first */
	size_t n, cap;
	uint64_t first;
};

static void stream_sink(void *ctx, const struct event *ev)
{
	struct stream *s = ctx;
	char line[1024];

	if (!s->n)
		s->first = ev->seq;
	cr_assert_eq(ev->seq, s->first + s->n, "events are numbered without gaps");
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 4096;
		s->ev = realloc(s->ev, s->cap * sizeof(*s->ev));
	}
	event_format(ev, line, sizeof(line));
	s->ev[s->n++] = strdup(line);
}

/* Every event of a straight run of sc, formatted. */
static struct stream straight(const struct script *sc, const struct session_opts *o)
{
	struct stream s = {0};
	struct session *ses = session_create(sc, o, stderr);

	cr_assert_not_null(ses);
	cr_assert_geq(session_add_sink(ses, stream_sink, &s), 0);
	while (!session_done(ses))
		session_step(ses);
	session_destroy(ses);
	return s;
}

static void stream_free(struct stream *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->ev[i]);
	free(s->ev);
}

/* The stop at st: the straight run's event of that number. */
static void assert_at_straight(const struct stepper *st, const struct stream *s, const char *what)
{
	char line[1024];

	cr_assert(st->have_cur);
	cr_assert(st->cur.seq >= s->first && st->cur.seq < s->first + s->n, "%s: event %" PRIu64,
	          what, st->cur.seq);
	event_format(&st->cur, line, sizeof(line));
	cr_assert_str_eq(line, s->ev[st->cur.seq - s->first], "%s: event %" PRIu64, what,
	                 st->cur.seq);
}

/* n events forward from here, each the straight run's. */
static void forward_matches(struct stepper *st, const struct stream *s, int n, const char *what)
{
	for (int i = 0; i < n && stepper_do(st, STEP_EVENT, 0); i++)
		assert_at_straight(st, s, what);
}

static void check_stepper(const struct stepper *st)
{
	assert_checks(stepper_check, st);
}

/* What the steppers show at the end, and the final figures. */
static char *end_state(struct stepper *st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct session *s = st->s;

	step_print_stop(st, f, false);
	fprintf(f, "run %" PRIu64 " expect_failed %" PRIu64 " faults %" PRIu64
	           " dead %d failed %d events %" PRIu64 " free %" PRIu64 " tasks %d\n",
	        s->nr_run, s->nr_expect_failed, s->total_faults, s->dead, s->failed,
	        session_events(s), s->k.buddy.free_pages, s->k.nr_tasks);
	for (const struct task *t = task_list_first(&s->k); t; t = task_list_next(t))
		fprintf(f, "pid %d rss %" PRIu64 "\n", t->pid,
		        t->mm ? (uint64_t)t->mm->rss_stat[MM_ANONPAGES] : 0);
	for (size_t i = 0; i < 16 && stepper_log(st, i); i++) {
		char line[1024];

		event_format(stepper_log(st, i), line, sizeof(line));
		fprintf(f, "log %s\n", line);
	}
	if (s->res.output)
		fprintf(f, "output %.*s\n", (int)s->res.output_len, s->res.output);
	fclose(f);
	return buf;
}

/* A step back: its replay within the bound, no rebuild, the stop the
   straight run's, and the events after it too. */
static void back(struct stepper *st, const struct stream *s, enum step_cmd cmd, uint64_t arg,
                 const char *what)
{
	uint64_t restores = st->restores;

	stepper_do(st, cmd, arg);
	cr_assert_eq(st->rebuilds, 0, "%s: going back rebuilt the session", what);
	cr_assert_leq(st->back_replayed, st->ckpt_every, "%s: %" PRIu64 " events replayed, bound %" PRIu64,
	              what, st->back_replayed, st->ckpt_every);
	cr_assert_geq(st->restores, restores, "%s", what);
	check_stepper(st);
	assert_at_straight(st, s, what);
	forward_matches(st, s, 40, what);
}

static void back_and_forth(const char *path, uint64_t every)
{
	struct session_opts o;
	struct script *sc;
	struct stepper *st, *ref;
	struct stream s;
	char *end1, *end2;
	uint64_t last;

	cr_assert_eq(script_load(NULL, path, &sc, stderr), 0, "%s", path);
	session_default_opts(&o);
	s = straight(sc, &o);
	cr_assert_gt(s.n, 0, "%s", path);
	last = s.first + s.n - 1;

	ref = stepper_create(sc, &o, 64, stderr);
	cr_assert_not_null(ref);
	cr_assert_not_null(ref->hm, "%s: a built-in policy runs in an arena", path);
	stepper_do(ref, STEP_END, 0);
	end1 = end_state(ref);
	stepper_destroy(ref);

	st = stepper_create(sc, &o, 64, stderr);
	cr_assert_not_null(st);
	stepper_fix_ckpt_every(st, every); /* many checkpoints in a short demo */
	/* forward in several strides, with the events checked on the way */
	forward_matches(st, &s, 30, path);
	stepper_do(st, STEP_GOTO, s.first + s.n / 3);
	assert_at_straight(st, &s, path);
	stepper_do(st, STEP_GOTO, s.first + 2 * s.n / 3);
	assert_at_straight(st, &s, path);
	check_stepper(st);
	cr_assert_gt(st->nr_ckpts, s.n > 4 * every ? 2u : 0u, "%s: checkpoints taken", path);

	back(st, &s, STEP_BACK, 0, "b");
	back(st, &s, STEP_BACK, 0, "b again");
	back(st, &s, STEP_BACK_STMT, 0, "B");
	back(st, &s, STEP_GOTO, s.first + s.n / 2, "g to an earlier event");
	back(st, &s, STEP_GOTO, s.first + s.n / 5, "g further back");
	back(st, &s, STEP_GOTO, s.first, "g to the first event");
	stepper_do(st, STEP_GOTO, s.first + 3 * s.n / 4);
	assert_at_straight(st, &s, "forward again");
	/* to the end, back from it, and to the end again */
	cr_assert_not(stepper_do(st, STEP_END, 0));
	cr_assert_eq(st->cur.seq, last, "%s", path);
	back(st, &s, STEP_BACK, 0, "b from the end");
	back(st, &s, STEP_BACK_STMT, 0, "B from the end");
	cr_assert_not(stepper_do(st, STEP_END, 0));
	end2 = end_state(st);
	cr_assert_str_eq(end2, end1, "%s: the end state after going back and forth", path);
	cr_assert_gt(st->restores, 0);
	cr_assert_eq(st->rebuilds, 0);
	check_stepper(st);
	free(end1);
	free(end2);
	stepper_destroy(st);
	stream_free(&s);
	script_free(sc);
}

Test(checkpoint, every_demo_stepped_back_and_forth_sees_the_straight_runs_events, .timeout = 240)
{
	glob_t g;
	char pat[4096];

	snprintf(pat, sizeof(pat), "%s/demos/*.ams", bin_root());
	cr_assert_eq(glob(pat, 0, NULL, &g), 0);
	snprintf(pat, sizeof(pat), "%s/demos/pressure/*.ams", bin_root());
	cr_assert_eq(glob(pat, GLOB_APPEND, NULL, &g), 0);
	cr_assert_gt(g.gl_pathc, 20);
	for (size_t i = 0; i < g.gl_pathc; i++)
		back_and_forth(g.gl_pathv[i], 64);
	globfree(&g);
}

/* A script of n loop iterations touching memory, in a temporary file. */
static char *long_script(int n)
{
	static char path[] = "/tmp/am_ckpt_XXXXXX.ams";
	char *p = strdup(path);
	int fd = mkstemps(p, 4);
	FILE *f = fdopen(fd, "w");

	cr_assert_not_null(f);
	fprintf(f, "m = mmap 4M\n"
	           "for i = 1 to %d\n"
	           "  q = malloc 100 + i %% 300\n"
	           "  store q 0 7 8\n"
	           "  touch m (i * 4096) %% 4M 1\n"
	           "  free q\n"
	           "end\n"
	           "show heap\n",
	        n);
	fclose(f);
	return p;
}

Test(checkpoint, a_step_back_at_the_end_of_a_long_loop_replays_at_most_the_bound, .timeout = 120)
{
	struct session_opts o;
	struct script *sc;
	struct stepper *st;
	char *path = long_script(60000);
	uint64_t end, taken;

	cr_assert_eq(script_load(NULL, path, &sc, stderr), 0);
	session_default_opts(&o);
	st = stepper_create(sc, &o, 64, stderr);
	cr_assert_not_null(st);
	cr_assert_not_null(st->hm);
	cr_assert_not(stepper_do(st, STEP_END, 0));
	end = st->cur.seq;
	taken = st->ckpts_taken;
	cr_assert_gt(end, 100 * STEPPER_CKPT_EVERY, "a long run: %" PRIu64 " events", end);
	/* the caps held: the interval doubled, the count stayed under the cap */
	cr_assert_gt(st->ckpt_every, STEPPER_CKPT_EVERY);
	cr_assert_leq(st->nr_ckpts - 1, STEPPER_CKPT_MAX);
	cr_assert_lt(taken, 4 * STEPPER_CKPT_MAX, "%" PRIu64 " checkpoints taken", taken);
	check_stepper(st);

	/* e, b, b, B, g 10: each a restore and at most ckpt_every events */
	cr_assert(stepper_do(st, STEP_BACK, 0));
	cr_assert_eq(st->cur.seq, end);
	cr_assert_leq(st->back_replayed, st->ckpt_every);
	cr_assert(stepper_do(st, STEP_BACK, 0));
	cr_assert_eq(st->cur.seq, end - 1);
	cr_assert_leq(st->back_replayed, st->ckpt_every);
	cr_assert(stepper_do(st, STEP_BACK, 0));
	cr_assert_leq(st->back_replayed, st->ckpt_every);
	cr_assert(stepper_do(st, STEP_BACK_STMT, 0));
	cr_assert_leq(st->back_replayed, st->ckpt_every);
	cr_assert(stepper_do(st, STEP_GOTO, 10));
	cr_assert_leq(st->back_replayed, st->ckpt_every);
	cr_assert(stepper_do(st, STEP_GOTO, end / 2));
	cr_assert(stepper_do(st, STEP_GOTO, end / 2 - 1));
	cr_assert_leq(st->back_replayed, st->ckpt_every);
	cr_assert_eq(st->rebuilds, 0, "no step back rebuilt the session");
	cr_assert_geq(st->restores, 6);
	/* the whole back-stepping re-executed a small part of the run */
	check_stepper(st);
	stepper_destroy(st);
	script_free(sc);
	unlink(path);
	free(path);
}

Test(checkpoint, a_large_simulated_ram_makes_checkpoints_rarer_not_slower, .timeout = 120)
{
	struct session_opts o;
	struct script *sc;
	struct stepper *st;
	char *path = long_script(3000);
	uint64_t end;

	cr_assert_eq(script_load(NULL, path, &sc, stderr), 0);
	session_default_opts(&o);
	o.kopts.phys_bytes = 4ULL << 30;
	st = stepper_create(sc, &o, 64, stderr);
	cr_assert_not_null(st);
	cr_assert_not_null(st->hm);
	cr_assert_not(stepper_do(st, STEP_END, 0));
	end = st->cur.seq;
	/* a checkpoint reads the page map of 4 GiB and the per-frame tables:
	   the interval grew so that each costs a sixteenth of the events */
	cr_assert_gt(st->ckpt_every, 8 * STEPPER_CKPT_EVERY, "interval %" PRIu64, st->ckpt_every);
	cr_assert_lt(st->ckpts_taken, 8, "%" PRIu64 " checkpoints over %" PRIu64 " events",
	             st->ckpts_taken, end);
	cr_assert_leq(hostmem_snaps_bytes(st->hm), STEPPER_CKPT_BYTES);
	check_stepper(st);
	cr_assert(stepper_do(st, STEP_BACK, 0));
	cr_assert(stepper_do(st, STEP_BACK_STMT, 0));
	cr_assert_leq(st->back_replayed, st->ckpt_every);
	cr_assert_eq(st->rebuilds, 0);
	stepper_destroy(st);
	script_free(sc);
	unlink(path);
	free(path);
}
