/*
 * gen.c - `aftermalloc gen -s SEED -n OPS`: a random workload, as OSTEP's
 * malloc.py makes them (Arpaci-Dusseau, "Operating Systems: Three Easy
 * Pieces", the free-space chapter's simulator): each operation is a free of
 * a random live block with probability --free-ratio, a realloc of one with
 * probability --realloc-ratio, else a malloc whose size comes from --sizes.
 * Written as a trace (.rep, for `replay`) or as a scenario script (.ams, for
 * `run`, `step`, `view` and `quiz`).
 *
 * The same seed and options give the same bytes on every machine: the
 * generator is splitmix64 (Steele, Lea and Flood, "Fast splittable
 * pseudorandom number generators", OOPSLA 2014), not the C library's rand,
 * and the file does not name itself. Ids of freed blocks are reused (the
 * last freed first), so a trace has no more ids than blocks live at once
 * and a script's array stays as small.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "output.h"
#include "script.h"
#include "trace.h"

enum dist_kind { DIST_UNIFORM, DIST_POW2, DIST_EXP, DIST_FIXED, DIST_CHOICE };

#define MAX_CHOICES 32
/* -n at most 100M (parse_size's M, as the option is written); the host
   keeps nothing per operation, only per id (the workload below). */
#define GEN_MAX_OPS (100ull << 20)

struct dist {
	enum dist_kind kind;
	uint64_t lo, hi; /* uniform, pow2: the range; fixed: lo */
	double mean;     /* exp */
	uint64_t choice[MAX_CHOICES];
	unsigned nr_choices;
};

struct gen_opts {
	uint64_t seed, ops;
	bool seed_given, ops_given;
	struct dist sizes;
	const char *sizes_text;
	double free_ratio, realloc_ratio;
	const char *out; /* NULL: standard output */
	bool ams;        /* the format: a script, else a trace */
	bool format_given;
};

/* ---- randomness ------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), without modulo bias (Lemire's multiply-shift). */
static uint64_t below(uint64_t *s, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)splitmix64(s) * n;
	uint64_t l = (uint64_t)m;

	if (l < n) {
		uint64_t t = -n % n;

		while (l < t) {
			m = (unsigned __int128)splitmix64(s) * n;
			l = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

/* Uniform in [0, 1): 53 random bits. */
static double unit(uint64_t *s)
{
	return (double)(splitmix64(s) >> 11) * 0x1.0p-53;
}

static uint64_t draw_size(uint64_t *s, const struct dist *d)
{
	switch (d->kind) {
	case DIST_UNIFORM:
		return d->lo + below(s, d->hi - d->lo + 1);
	case DIST_POW2: {
		unsigned a = 63 - (unsigned)__builtin_clzll(d->lo);
		unsigned b = 63 - (unsigned)__builtin_clzll(d->hi);

		return 1ull << (a + below(s, b - a + 1));
	}
	case DIST_EXP: {
		/* inverse transform; 1 - u is in (0, 1] */
		double x = -d->mean * log(1.0 - unit(s));

		return x < 1 ? 1 : x > (double)(1ull << 40) ? 1ull << 40 : (uint64_t)ceil(x);
	}
	case DIST_FIXED:
		return d->lo;
	case DIST_CHOICE:
		return d->choice[below(s, d->nr_choices)];
	}
	return 1;
}

/* ---- options ---------------------------------------------------------------------- */

/* A size of a distribution: K/M/G allowed, at least 1, at most 1 TiB. */
static bool dist_size(const char *s, size_t len, uint64_t *v)
{
	char buf[32];

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = 0;
	return parse_size(buf, v) == 0 && *v >= 1 && *v <= (1ull << 40);
}

/* "uniform:MIN-MAX", "pow2:MIN-MAX", "exp:MEAN", "fixed:N", "choice:A,B,...". */
static int parse_dist(const char *text, struct dist *d)
{
	const char *colon = strchr(text, ':'), *arg, *dash;
	size_t klen;

	memset(d, 0, sizeof(*d));
	if (!colon)
		goto bad;
	klen = (size_t)(colon - text);
	arg = colon + 1;
	if (klen == 7 && strncmp(text, "uniform", 7) == 0) {
		d->kind = DIST_UNIFORM;
	} else if (klen == 4 && strncmp(text, "pow2", 4) == 0) {
		d->kind = DIST_POW2;
	} else if (klen == 3 && strncmp(text, "exp", 3) == 0) {
		d->kind = DIST_EXP;
		if (!dist_size(arg, strlen(arg), &d->lo))
			goto bad;
		d->mean = (double)d->lo;
		return 0;
	} else if (klen == 5 && strncmp(text, "fixed", 5) == 0) {
		d->kind = DIST_FIXED;
		if (!dist_size(arg, strlen(arg), &d->lo))
			goto bad;
		return 0;
	} else if (klen == 6 && strncmp(text, "choice", 6) == 0) {
		d->kind = DIST_CHOICE;
		while (*arg) {
			const char *comma = strchr(arg, ',');
			size_t l = comma ? (size_t)(comma - arg) : strlen(arg);

			if (d->nr_choices == MAX_CHOICES ||
			    !dist_size(arg, l, &d->choice[d->nr_choices++]))
				goto bad;
			arg += l + (comma != NULL);
			if (comma && !*arg)
				goto bad;
		}
		if (!d->nr_choices)
			goto bad;
		return 0;
	} else {
		goto bad;
	}
	dash = strchr(arg, '-');
	if (!dash || !dist_size(arg, (size_t)(dash - arg), &d->lo) ||
	    !dist_size(dash + 1, strlen(dash + 1), &d->hi) || d->lo > d->hi)
		goto bad;
	if (d->kind == DIST_POW2 && ((d->lo & (d->lo - 1)) || (d->hi & (d->hi - 1))))
		return usage_error("gen", "--sizes: '%s': pow2's MIN and MAX must be powers of two",
		                   text);
	return 0;
bad:
	return usage_error("gen",
	                   "--sizes: '%s' is not uniform:MIN-MAX, pow2:MIN-MAX (powers of two), "
	                   "exp:MEAN, fixed:N or choice:A,B,... (sizes 1 to 1024G, K/M/G allowed)",
	                   text);
}

static int parse_ratio(const char *name, const char *text, double *r)
{
	char *end;

	errno = 0;
	*r = strtod(text, &end);
	if (errno || end == text || *end || !(*r >= 0 && *r <= 1))
		return usage_error("gen", "%s: '%s' is not a number from 0 to 1", name, text);
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: aftermalloc gen -s SEED -n OPS [--sizes DIST] [--free-ratio R]\n"
	      "                       [--realloc-ratio R] [-o FILE.rep|FILE.ams]\n"
	      "\n"
	      "Write a random workload, as OSTEP's malloc.py makes them: each operation\n"
	      "frees a random live block (probability --free-ratio), reallocates one\n"
	      "(--realloc-ratio), or else mallocs a block of a size drawn from DIST. The\n"
	      "same seed and options give the same file, on any machine.\n"
	      "\n"
	      "  -s, --seed SEED       the generator's seed\n"
	      "  -n, --ops OPS         how many operations (at most 100M)\n"
	      "      --sizes DIST      uniform:MIN-MAX (default uniform:1-4096),\n"
	      "                        pow2:MIN-MAX (a power of two, exponents uniform),\n"
	      "                        exp:MEAN, fixed:N, choice:A,B,...; sizes take K/M/G\n"
	      "      --free-ratio R    probability of a free (default 0.45)\n"
	      "      --realloc-ratio R probability of a realloc (default 0.1)\n"
	      "  -o, --output FILE     FILE.rep, a trace for `replay` (the default, on\n"
	      "                        standard output), or FILE.ams, a script with p[ID]\n"
	      "      --format rep|ams  the format whatever the file is called\n"
	      "\n"
	      "Exit status: 0, 2 bad usage or a file that cannot be written.\n",
	      f);
}

static int parse_args(int argc, char **argv, struct gen_opts *o, bool *help)
{
	enum { OPT_SIZES = 256, OPT_FREE, OPT_REALLOC, OPT_FORMAT };
	static const struct option longopts[] = {
	    {"seed", required_argument, NULL, 's'},
	    {"ops", required_argument, NULL, 'n'},
	    {"sizes", required_argument, NULL, OPT_SIZES},
	    {"free-ratio", required_argument, NULL, OPT_FREE},
	    {"realloc-ratio", required_argument, NULL, OPT_REALLOC},
	    {"output", required_argument, NULL, 'o'},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"help", no_argument, NULL, 'h'},
	    {0, 0, 0, 0},
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:n:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &o->seed) < 0)
				return usage_error("gen", "-s: bad seed '%s'", optarg);
			o->seed_given = true;
			break;
		case 'n':
			if (parse_size(optarg, &o->ops) < 0 || o->ops > GEN_MAX_OPS)
				return usage_error(
				    "gen", "-n: bad number of operations '%s' (0 to 100M)", optarg);
			o->ops_given = true;
			break;
		case OPT_SIZES:
			if (parse_dist(optarg, &o->sizes))
				return EXIT_BAD_INPUT;
			o->sizes_text = optarg;
			break;
		case OPT_FREE:
			if (parse_ratio("--free-ratio", optarg, &o->free_ratio))
				return EXIT_BAD_INPUT;
			break;
		case OPT_REALLOC:
			if (parse_ratio("--realloc-ratio", optarg, &o->realloc_ratio))
				return EXIT_BAD_INPUT;
			break;
		case 'o':
			o->out = strcmp(optarg, "-") == 0 ? NULL : optarg;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "rep") != 0 && strcmp(optarg, "ams") != 0)
				return usage_error("gen", "--format: '%s' is not rep or ams",
				                   optarg);
			o->ams = strcmp(optarg, "ams") == 0;
			o->format_given = true;
			break;
		case 'h':
			*help = true;
			return 0;
		case ':':
			return usage_error("gen", "option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("gen", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("gen", "unexpected argument '%s'", argv[optind]);
	if (!o->seed_given || !o->ops_given)
		return usage_error("gen", "-s SEED and -n OPS are both needed");
	if (o->free_ratio + o->realloc_ratio > 1)
		return usage_error("gen", "--free-ratio and --realloc-ratio add up to more than 1");
	if (o->out && !o->format_given) {
		size_t l = strlen(o->out);

		if (l > 4 && strcmp(o->out + l - 4, ".ams") == 0)
			o->ams = true;
		else if (!(l > 4 && strcmp(o->out + l - 4, ".rep") == 0))
			return usage_error(
			    "gen", "%s: name the file .rep or .ams (or give --format)", o->out);
	}
	return 0;
}

/* ---- the workload --------------------------------------------------------------- */

/*
 * The workload is drawn twice from the same seed: once to count its ids (the
 * trace's header and the script's first lines say how many), then again to
 * write it, an operation at a time. Nothing grows with the number of
 * operations: the host keeps 4 bytes per id, ids[] below, and a trace's
 * ids are bounded by TRACE_MAX_IDS (replay's bound), found out before the
 * file is opened.
 *
 * ids[0 .. nr_live) are the live ids, in no order; ids[nr_live .. next_id)
 * the freed ones, a stack whose top is ids[nr_live]: a free swaps its id to
 * the end of the live part and shortens it, so the id lands on top of the
 * stack; a malloc takes the top by lengthening the live part (the last
 * freed id first).
 */
struct gen {
	uint64_t s; /* the generator's state */
	int32_t *ids;
	size_t nr_live, cap;
	int32_t next_id;
};

/* The next operation into op. 0, or -1 when ids[] cannot grow (out of
   memory, or past max_ids). */
static int gen_next(const struct gen_opts *o, struct gen *g, struct trace_op *op, uint32_t max_ids)
{
	double r = g->nr_live ? unit(&g->s) : 1.0;

	memset(op, 0, sizeof(*op));
	if (r < o->free_ratio + o->realloc_ratio) {
		size_t k = below(&g->s, g->nr_live);

		op->id = g->ids[k];
		if (r < o->free_ratio) {
			op->kind = TOP_FREE;
			g->ids[k] = g->ids[--g->nr_live];
			g->ids[g->nr_live] = op->id;
		} else {
			op->kind = TOP_REALLOC;
			op->size = draw_size(&g->s, &o->sizes);
		}
		return 0;
	}
	op->kind = TOP_ALLOC;
	op->size = draw_size(&g->s, &o->sizes);
	if (g->nr_live == (size_t)g->next_id) {
		if ((uint32_t)g->next_id >= max_ids)
			return -1;
		if (g->nr_live == g->cap) {
			size_t n = g->cap ? g->cap * 2 : 1024;
			int32_t *q = realloc(g->ids, n * sizeof(*q));

			if (!q)
				return -1;
			g->ids = q;
			g->cap = n;
		}
		g->ids[g->next_id] = g->next_id;
		g->next_id++;
	}
	op->id = g->ids[g->nr_live++];
	return 0;
}

/* Back to the first draw of the seed; ids[] keeps its room. */
static void gen_start(const struct gen_opts *o, struct gen *g)
{
	g->s = o->seed;
	g->nr_live = 0;
	g->next_id = 0;
}

/* A buffer of the output, written out by hand (fprintf took most of the
   time of a million-operation script). */
struct gen_out {
	FILE *f;
	size_t n;
	bool failed;
	char buf[1 << 16];
};

static void out_flush(struct gen_out *w)
{
	if (w->n && !w->failed && fwrite(w->buf, 1, w->n, w->f) != w->n)
		w->failed = true;
	w->n = 0;
}

static void out_str(struct gen_out *w, const char *str)
{
	size_t l = strlen(str);

	memcpy(w->buf + w->n, str, l);
	w->n += l;
}

static void out_u64(struct gen_out *w, uint64_t v)
{
	char num[24], *p = num + sizeof(num);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(w->buf + w->n, p, (size_t)(num + sizeof(num) - p));
	w->n += (size_t)(num + sizeof(num) - p);
}

/*
 * The longest script gen writes is one run reads: at most SCRIPT_ARRAY_MAX
 * operations (main), one statement each, and the longest line,
 * "p[1048575] = realloc p[1048575] 1099511627776\n" (sizes up to 2^40), is
 * 46 bytes; the header is three comment lines.
 */
_Static_assert(SCRIPT_ARRAY_MAX <= SCRIPT_MAX_STMTS, "gen's scripts must fit run's statements");
_Static_assert((uint64_t)SCRIPT_ARRAY_MAX * 46 + 4096 <= SCRIPT_MAX_BYTES,
               "gen's scripts must fit run's bytes");

/* The script form of op: p[ID] = malloc N, p[ID] = realloc p[ID] N, free p[ID]. */
static void out_ams_op(struct gen_out *w, const struct trace_op *op)
{
	if (op->kind == TOP_FREE) {
		out_str(w, "free p[");
		out_u64(w, (uint64_t)op->id);
		out_str(w, "]\n");
		return;
	}
	out_str(w, "p[");
	out_u64(w, (uint64_t)op->id);
	if (op->kind == TOP_REALLOC) {
		out_str(w, "] = realloc p[");
		out_u64(w, (uint64_t)op->id);
		out_str(w, "] ");
	} else {
		out_str(w, "] = malloc ");
	}
	out_u64(w, op->size);
	out_str(w, "\n");
}

/* Write the workload of g (counted: nr_ids) to f. 0, or -1 with errno set. */
static int gen_write(FILE *f, const struct gen_opts *o, struct gen *g, uint32_t nr_ids)
{
	static struct gen_out w; /* 64 KiB: not on the stack */
	struct trace_op op;

	memset(&w, 0, offsetof(struct gen_out, buf));
	w.f = f;
	if (o->ams)
		fprintf(
		    f,
		    "# aftermalloc gen -s %llu -n %llu --sizes %s --free-ratio %g --realloc-ratio "
		    "%g\n"
		    "# A random workload (OSTEP's malloc.py): the same options, the same file.\n"
		    "# p[ID] is block ID; %u ids, freed ones reused.\n",
		    (unsigned long long)o->seed, (unsigned long long)o->ops, o->sizes_text,
		    o->free_ratio, o->realloc_ratio, nr_ids);
	else
		fprintf(f, "0\n%u\n%llu\n1\n", nr_ids, (unsigned long long)o->ops);
	for (uint64_t i = 0; i < o->ops && !w.failed; i++) {
		if (gen_next(o, g, &op, nr_ids) < 0) { /* not after counting: ids[] has room */
			errno = ENOMEM;
			return -1;
		}
		if (w.n > sizeof(w.buf) - TRACE_LINE_MAX - 16)
			out_flush(&w);
		if (o->ams)
			out_ams_op(&w, &op);
		else
			w.n += trace_op_line(w.buf + w.n, &op, true);
	}
	out_flush(&w);
	return !w.failed && fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

int cmd_gen(int argc, char **argv)
{
	struct gen_opts o = {
	    .free_ratio = 0.45, .realloc_ratio = 0.1, .sizes_text = "uniform:1-4096"};
	uint32_t max_ids = TRACE_MAX_IDS, nr_ids;
	struct gen g = {0};
	struct trace_op op;
	bool help = false;
	FILE *f;
	int rc;

	parse_dist(o.sizes_text, &o.sizes);
	rc = parse_args(argc, argv, &o, &help);
	if (help) {
		usage(stdout);
		return 0;
	}
	if (rc)
		return rc;
	if (o.ams && o.ops > SCRIPT_ARRAY_MAX)
		return usage_error("gen",
		                   "a script holds at most %u operations here (ids index an array)",
		                   SCRIPT_ARRAY_MAX);
	/* First pass: count the ids, before any file is made. */
	gen_start(&o, &g);
	for (uint64_t i = 0; i < o.ops; i++) {
		if (gen_next(&o, &g, &op, max_ids) == 0)
			continue;
		if ((uint32_t)g.next_id >= max_ids)
			rc = usage_error("gen",
			                 "more than %u blocks live at once by operation %llu: more "
			                 "than a trace holds (give a larger --free-ratio or fewer "
			                 "operations)",
			                 max_ids, (unsigned long long)i + 1);
		else
			fprintf(stderr, "aftermalloc gen: out of memory\n"), rc = EXIT_BAD_INPUT;
		goto out;
	}
	f = o.out ? output_open(o.out, false) : stdout;
	if (!f) {
		rc = EXIT_BAD_INPUT;
		goto out;
	}
	nr_ids = (uint32_t)g.next_id;
	gen_start(&o, &g);
	/* A failed write ends the command in the stream (output.h). */
	rc = gen_write(f, &o, &g, nr_ids);
	output_close(f);
	if (rc < 0)
		rc = cmd_error("gen", "%s: %s", o.out ? o.out : "standard output", strerror(errno));
out:
	free(g.ids);
	return rc;
}
