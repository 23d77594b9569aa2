/*
 * quiz.c - `aftermalloc quiz SCRIPT.ams [--answers]`: before each statement
 * that runs simulated code, ask what will happen (how many page faults, what
 * sbrk returns, which buddy order is taken, TLB hit or miss, whether malloc
 * or free makes a brk/mmap/munmap system call), read the answer, then show
 * the truth and the reason, and a score at the end.
 *
 * The truth is known before asking because the simulation is deterministic:
 * an oracle session runs each statement first, one statement ahead of the
 * session the questions are asked about, with a sink recording what
 * happened; the second session then runs the same statement and must agree
 * (a disagreement is a simulator bug: panic). The reasons come from the
 * narration table (demos/step/narrate_table.c).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../vm/panic.h"
#include "../cli/commands.h"
#include "narrate.h"
#include "step.h"

/* What the oracle saw during one statement. */
struct truth {
	bool brk, mmap, munmap; /* system calls made */
	int buddy_order;        /* order of the first block __rmqueue_smallest took, or -1 */
	int rq_order;           /* order asked of that call (while one is open) */
	int rq_splits;          /* expand's halves during it */
	bool rq_open;
	int tlb;              /* first translation: -1 none yet, 0 hit, 1 miss */
	const char *fault_fn; /* the handler that served the first fault */
	bool fault_write;     /* do_anonymous_page's write flag */
};

static void truth_reset(struct truth *t)
{
	memset(t, 0, sizeof(*t));
	t->buddy_order = -1;
	t->tlb = -1;
}

static bool is(const struct event *ev, const char *fn)
{
	return ev->fn && strcmp(ev->fn, fn) == 0;
}

static void truth_sink(void *ctx, const struct event *ev)
{
	static const char *const handlers[] = {"do_anonymous_page", "do_wp_page",
	                                       "bad_area_nosemaphore", "bad_area_access_error",
	                                       "pagefault_out_of_memory"};
	struct truth *t = ctx;

	switch (ev->kind) {
	case EV_STMT:
		truth_reset(t);
		break;
	case EV_CALL:
		if (is(ev, "__x64_sys_brk"))
			t->brk = true;
		else if (is(ev, "__x64_sys_mmap"))
			t->mmap = true;
		else if (is(ev, "__x64_sys_munmap"))
			t->munmap = true;
		else if (is(ev, "__rmqueue_smallest") && t->buddy_order < 0) {
			t->rq_open = true;
			t->rq_order = (int)event_field(ev, "order", 0);
			t->rq_splits = 0;
		}
		for (size_t i = 0; !t->fault_fn && i < sizeof(handlers) / sizeof(handlers[0]); i++)
			if (is(ev, handlers[i])) {
				t->fault_fn = handlers[i];
				t->fault_write = event_field(ev, "write", 1) != 0;
			}
		break;
	case EV_BUDDY_SPLIT:
		if (t->rq_open)
			t->rq_splits++;
		break;
	case EV_RET:
		if (t->rq_open && is(ev, "__rmqueue_smallest")) {
			t->rq_open = false;
			if (event_field(ev, "ret", PFN_NONE) != PFN_NONE)
				t->buddy_order = t->rq_order + t->rq_splits;
		}
		break;
	case EV_TLB_MISS:
		if (t->tlb < 0)
			t->tlb = 1;
		break;
	case EV_FAULT:
		/* A fault with no miss before it: the TLB had the page, read-only. */
		if (t->tlb < 0)
			t->tlb = 0;
		break;
	default:
		break;
	}
}

/* ---- questions -------------------------------------------------------- */

enum qkind { Q_FAULTS, Q_SBRK, Q_SYSCALL, Q_TLB, Q_ORDER };

struct quiz {
	const struct script *sc;
	struct session *s; /* at the statement asked about */
	struct session *o; /* the oracle: one statement ahead */
	struct truth t;
	bool answers; /* --answers: print the answers, read nothing */
	bool tty, eof;
	unsigned asked, right, qno;
};

/* Read one answer line; false at EOF (the rest is shown, not scored). */
static bool read_answer(struct quiz *q, char *buf, size_t n)
{
	size_t l;

	if (q->eof)
		return false;
	fputs("  > ", stdout);
	fflush(stdout);
	if (!fgets(buf, (int)n, stdin)) {
		q->eof = true;
		fputs("(end of input: the remaining answers are shown, not scored)\n", stdout);
		return false;
	}
	l = strcspn(buf, "\r\n");
	buf[l] = 0;
	if (!q->tty)
		printf("%s\n", buf);
	return true;
}

/* A number as users write it: decimal, 0x hex, K/M/G, or a minus sign. */
static bool parse_answer_num(const char *a, int64_t *v)
{
	uint64_t u;
	bool neg = false;
	char buf[64];
	size_t l;

	while (isspace((unsigned char)*a))
		a++;
	snprintf(buf, sizeof(buf), "%s", a);
	l = strlen(buf);
	while (l && isspace((unsigned char)buf[l - 1]))
		buf[--l] = 0;
	if (buf[0] == '-') {
		neg = true;
		memmove(buf, buf + 1, l);
	}
	if (parse_size(buf, &u) < 0)
		return false;
	*v = neg ? -(int64_t)u : (int64_t)u;
	return true;
}

/* The system calls named in an answer: bit 0 brk, 1 mmap, 2 munmap; -1 unreadable. */
static int parse_answer_calls(const char *a)
{
	int set = 0;
	bool said = false;

	while (*a) {
		char w[16];
		size_t l = 0;

		while (*a && !isalpha((unsigned char)*a))
			a++;
		while (isalpha((unsigned char)*a)) {
			if (l < sizeof(w) - 1)
				w[l++] = (char)tolower((unsigned char)*a);
			a++;
		}
		w[l] = 0;
		if (!l)
			break;
		said = true;
		if (strcmp(w, "brk") == 0 || strcmp(w, "sbrk") == 0)
			set |= 1;
		else if (strcmp(w, "mmap") == 0)
			set |= 2;
		else if (strcmp(w, "munmap") == 0)
			set |= 4;
		else if (strcmp(w, "none") && strcmp(w, "neither") && strcmp(w, "no") &&
		         strcmp(w, "nothing") && strcmp(w, "or") && strcmp(w, "and") &&
		         strcmp(w, "both"))
			return -1;
	}
	return said ? set : -1;
}

static const char *calls_str(int set, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s%s%s%s", set & 1 ? "brk" : "", set & 1 && set & 6 ? " and " : "",
	         set & 2 ? "mmap" : "", set & 2 && set & 4 ? " and " : "", set & 4 ? "munmap" : "",
	         set ? "" : "none");
	return buf;
}

/* Ask one question: its text, the truth as shown, and a checker of answers. */
static void ask(struct quiz *q, const char *question, const char *truth, const char *reason,
                bool (*check)(const char *answer, const void *ctx), const void *ctx)
{
	char answer[128];

	char line[320];

	q->qno++;
	snprintf(line, sizeof(line), "Q%u. %s", q->qno, question);
	narrate_wrap_hanging(stdout, line, 2, 6, 80);
	if (q->answers) {
		printf("      answer: %s\n", truth);
		narrate_wrap(stdout, reason, 6, 80);
		return;
	}
	if (!read_answer(q, answer, sizeof(answer))) {
		printf("      answer: %s\n", truth);
		narrate_wrap(stdout, reason, 6, 80);
		return;
	}
	q->asked++;
	if (check(answer, ctx)) {
		q->right++;
		printf("      right: %s\n", truth);
	} else {
		printf("      %s: %s\n", answer[0] ? "no, it is" : "(no answer) it is", truth);
	}
	narrate_wrap(stdout, reason, 6, 80);
}

static bool check_num(const char *a, const void *ctx)
{
	int64_t v;

	return parse_answer_num(a, &v) && v == *(const int64_t *)ctx;
}

/* "2", "order 2", "o2" */
static bool check_order(const char *a, const void *ctx)
{
	while (*a && !isdigit((unsigned char)*a))
		a++;
	return check_num(a, ctx);
}

static bool check_calls(const char *a, const void *ctx)
{
	return parse_answer_calls(a) == *(const int *)ctx;
}

static bool check_tlb(const char *a, const void *ctx)
{
	int miss = *(const int *)ctx;

	while (isspace((unsigned char)*a))
		a++;
	return (tolower((unsigned char)*a) == 'm') == (miss == 1) &&
	       (tolower((unsigned char)*a) == 'm' || tolower((unsigned char)*a) == 'h');
}

/* The reason for the number of faults the statement took. */
static void faults_reason(struct quiz *q, const struct stmt *st, char *buf, size_t n)
{
	const struct stmt_result *r = &q->o->res;
	char fn[512];

	if (r->killed) {
		narrate_fn(q->t.fault_fn ? q->t.fault_fn : "force_fatal_sig", fn, sizeof(fn));
		snprintf(buf, n, "The program dies here: %s", fn);
		return;
	}
	if (r->faults && q->t.fault_fn) {
		narrate_fn(q->t.fault_fn, fn, sizeof(fn));
		snprintf(
		    buf, n, "%s%s", fn,
		    st->op == ST_MALLOC || st->op == ST_CALLOC || st->op == ST_REALLOC ||
		            st->op == ST_MEMALIGN || st->op == ST_FREE
		        ? " Here it is the allocator's own write of a chunk header that touches "
		          "the page first."
		        : "");
		return;
	}
	switch (st->op) {
	case ST_SBRK:
	case ST_BRK:
		narrate_fn("__x64_sys_brk", fn, sizeof(fn));
		break;
	case ST_MMAP:
		narrate_fn("mmap_region", fn, sizeof(fn));
		break;
	case ST_MUNMAP:
		narrate_fn("do_vmi_align_munmap", fn, sizeof(fn));
		break;
	case ST_MALLOC:
	case ST_CALLOC:
	case ST_REALLOC:
	case ST_MEMALIGN:
	case ST_FREE:
		snprintf(fn, sizeof(fn),
		         "Every page the allocator wrote its headers into had been touched "
		         "before: it already had a frame and a PTE.");
		break;
	case ST_SETRLIMIT:
		narrate_fn("__x64_sys_setrlimit", fn, sizeof(fn));
		break;
	default:
		snprintf(fn, sizeof(fn),
		         "Every page it accessed already had a present PTE allowing the access: "
		         "it was touched before, so the MMU found its frame.");
		break;
	}
	snprintf(buf, n, "No fault. %s", fn);
}

static void ask_statement(struct quiz *q, const struct stmt *st)
{
	const struct stmt_result *r = &q->o->res;
	char question[256], truth[128], reason[1024], fn[512];
	bool glibc = strcmp(q->s->policy, "glibc") == 0;

	/* 1. page faults: always */
	faults_reason(q, st, reason, sizeof(reason));
	if (r->killed) {
		char b1[32], b2[32];

		snprintf(truth, sizeof(truth), "%" PRIu64 " (and the program is killed by %s, %s)",
		         r->faults, session_signal_name(q->o->task->death.signo, b1, sizeof(b1)),
		         session_sigcode_name(q->o->task->death.signo, q->o->task->death.code, b2,
		                              sizeof(b2)));
	} else {
		snprintf(truth, sizeof(truth), "%" PRIu64, r->faults);
	}
	int64_t faults = (int64_t)r->faults;

	ask(q, "How many page faults will it take?", truth, reason, check_num, &faults);

	/* 2. sbrk's result */
	if (st->op == ST_SBRK && r->has_ret) {
		int64_t ret = r->ret;

		snprintf(question, sizeof(question),
		         "What will sbrk return? (the break is %#" PRIx64 " now)",
		         (uint64_t)q->s->task->mm->brk);
		if (ret == -1)
			snprintf(truth, sizeof(truth), "-1 (the kernel refused to move the break)");
		else
			snprintf(truth, sizeof(truth), "%#" PRIx64, (uint64_t)ret);
		narrate_fn("__sbrk", reason, sizeof(reason));
		ask(q, question, truth, reason, check_num, &ret);
	}

	/* 3. the allocator's system calls */
	if (st->op == ST_MALLOC || st->op == ST_CALLOC || st->op == ST_REALLOC ||
	    st->op == ST_MEMALIGN || st->op == ST_FREE) {
		int set = (q->t.brk ? 1 : 0) | (q->t.mmap ? 2 : 0) | (q->t.munmap ? 4 : 0);
		const char *name = script_stmt_defs[st->op].name;

		snprintf(question, sizeof(question),
		         "Will %s make a system call: brk, mmap, munmap, or none?", name);
		calls_str(set, truth, sizeof(truth));
		if (set & 2)
			narrate_fn(glibc ? "sysmalloc_mmap" : "mmap_chunk", reason, sizeof(reason));
		else if (set & 4)
			narrate_fn(glibc ? "munmap_chunk" : "__x64_sys_munmap", reason,
			           sizeof(reason));
		else if (set & 1)
			narrate_fn(glibc ? (st->op == ST_FREE ? "systrim" : "sysmalloc") : "__sbrk",
			           reason, sizeof(reason));
		else
			narrate_fn(st->op == ST_FREE ? "free" : "malloc", reason, sizeof(reason));
		ask(q, question, truth, reason, check_calls, &set);
	}

	/* 4. TLB hit or miss for one address */
	if (st->op == ST_LOAD ||
	    (st->op == ST_STORE && (st->nargs < 4 || r->args[3] <= 8))) {
		/* No miss event before the first fault (or none at all): a hit,
		   which the CPU counts without an event. */
		int miss = q->t.tlb > 0;
		vaddr_t va =
		    session_user_addr(r->args[0], r->args[1]); /* as the oracle evaluated them */

		snprintf(question, sizeof(question), "The %s at %#" PRIx64 ": TLB hit or miss?",
		         st->op == ST_LOAD ? "load" : "store", (uint64_t)va);
		snprintf(truth, sizeof(truth), "%s", miss ? "miss" : "hit");
		if (miss)
			narrate_fn("page_walk", reason, sizeof(reason));
		else
			snprintf(
			    reason, sizeof(reason),
			    "The TLB still held the page's translation from an earlier access, so "
			    "no page walk was needed.%s",
			    r->faults ? " It was read-only (the zero page), so the write faults "
			                "anyway."
			              : "");
		ask(q, question, truth, reason, check_tlb, &miss);
	}

	/* 5. the buddy order, when a block is taken */
	if (q->t.buddy_order >= 0) {
		int64_t order = q->t.buddy_order;
		int at =
		    snprintf(question, sizeof(question),
		             "The kernel will take a block of order %d from the buddy allocator. "
		             "From which order's free list? (nr_free by order 0..10 now:",
		             q->t.rq_order);
		const struct buddy *b = &q->s->k.buddy;

		for (int o = 0; o < NR_PAGE_ORDERS && at < (int)sizeof(question) - 8; o++)
			at += snprintf(question + at, sizeof(question) - (size_t)at, " %" PRIu64,
			               b->free_area[o].nr_free);
		snprintf(question + at, sizeof(question) - (size_t)at, ")");
		snprintf(truth, sizeof(truth), "order %d", q->t.buddy_order);
		narrate_fn("__rmqueue_smallest", reason, sizeof(reason));
		if (order > q->t.rq_order) {
			narrate_fn("expand", fn, sizeof(fn));
			strncat(reason, " ", sizeof(reason) - strlen(reason) - 1);
			strncat(reason, fn, sizeof(reason) - strlen(reason) - 1);
		}
		ask(q, question, truth, reason, check_order, &order);
	}
}

/* ---- the command -------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: aftermalloc quiz SCRIPT.ams [--answers] [options]\n"
	        "\n"
	        "Before each statement that runs simulated code, guess what will happen: how\n"
	        "many page faults, what sbrk returns, whether malloc calls brk or mmap, TLB hit\n"
	        "or miss, which buddy order is taken. One answer a line (Enter skips); the\n"
	        "truth and the reason follow each answer, a score comes at the end.\n"
	        "\n"
	        "  --answers           print the questions with their answers (for teachers);\n"
	        "                      read nothing\n"
	        "%s"
	        "\n"
	        "Exit status: 0, 2 bad usage or a malformed script (FILE:LINE: on stderr).\n",
	        sim_options_help);
}

/* The statement's result after its line; sep leads a returned value. */
static void print_result(const struct session *s, const struct stmt *st, const char *sep)
{
	const struct stmt_result *r = &s->res;
	const struct stmt_def *d = &script_stmt_defs[st->op];

	if (st->op == ST_EXPECT)
		printf("  %s\n", r->expect_ok ? "ok" : "FAILED");
	else if (st->op == ST_FOR || (st->op == ST_END && s->sc->stmts[st->peer].op == ST_FOR))
		printf("  -> %s = %" PRId64 "%s\n",
		       s->sc->var_names[(st->op == ST_FOR ? st : &s->sc->stmts[st->peer])->dest],
		       r->loop_value,
		       r->loop_again ? "" : st->op == ST_FOR ? ", no iteration" : ", done");
	else if (r->has_ret && d->ret == RET_ADDR && r->ret != -1)
		printf("%s-> %#" PRIx64 "\n", sep, (uint64_t)r->ret);
	else if (r->has_ret)
		printf("%s-> %" PRId64 "\n", sep, r->ret);
	else
		putchar('\n');
}

static int quiz_run(struct quiz *q)
{
	const struct script *sc = q->sc;

	printf("aftermalloc quiz %s (malloc policy %s)\n", sc->path, q->s->policy);
	if (!q->answers)
		printf("Answer each question on one line; Enter skips.\n");
	while (!session_done(q->o)) {
		const struct stmt *st = &sc->stmts[q->o->next];
		const struct stmt_def *d = &script_stmt_defs[st->op];
		int ko = session_step(q->o), ks;

		if (ko == SESSION_ERROR) {
			/* The script goes wrong here: say so, before asking anything. */
			fflush(stdout);
			fprintf(stderr, "%s\n", q->o->error);
			return EXIT_BAD_INPUT;
		}
		if (d->runs_code) {
			char loops[96];

			session_loop_context(q->o, loops, sizeof(loops));
			printf("\nline %d: %s%s%s%s\n", st->line, st->text, loops[0] ? "  (" : "",
			       loops, loops[0] ? ")" : "");
			ask_statement(q, st);
		}
		ks = session_step(q->s);
		if (ks != ko || q->s->next != q->o->next || q->s->res.faults != q->o->res.faults ||
		    q->s->res.has_ret != q->o->res.has_ret || q->s->res.ret != q->o->res.ret)
			panic("line %d ran differently twice: the simulation is not deterministic",
			      st->line);
		if (d->runs_code) {
			printf("  line %d done: %" PRIu64 " fault%s", st->line, q->s->res.faults,
			       q->s->res.faults == 1 ? "" : "s");
			print_result(q->s, st, ", ");
		} else {
			const char *out = q->s->res.output;

			printf("%sline %d: %s", q->s->nr_run > 1 ? "" : "\n", st->line, st->text);
			print_result(q->s, st, "  ");
			while (out && *out) {
				size_t l = strcspn(out, "\n");

				printf("    %.*s\n", (int)l, out);
				out += l + (out[l] == '\n');
			}
		}
		if (ks == SESSION_KILLED) {
			const struct task *t = q->s->task;

			printf("\nThe program was killed here:\n");
			session_print_death(t, stdout, "  ");
			break;
		}
	}
	if (q->answers)
		printf("\n%u questions.\n", q->qno);
	else
		printf("\nscore: %u of %u answered right (%u question%s)\n", q->right, q->asked,
		       q->qno, q->qno == 1 ? "" : "s");
	return 0;
}

int cmd_quiz(int argc, char **argv)
{
	enum { OPT_ANSWERS = 1 };
	static const struct option longopts[] = {
	    SIM_LONG_OPTIONS,
	    {"answers", no_argument, NULL, OPT_ANSWERS},
	    {"help", no_argument, NULL, 'h'},
	    {0, 0, 0, 0},
	};
	struct session_opts so;
	struct script *sc;
	struct quiz q;
	bool color = false;
	const char *path;
	int c, rc;

	memset(&q, 0, sizeof(q));
	session_default_opts(&so);
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == OPT_ANSWERS) {
			q.answers = true;
			continue;
		}
		if (c == ':')
			return usage_error("quiz", "option '%s' needs a value", argv[optind - 1]);
		rc = sim_option("quiz", c, optarg, &so, &color);
		if (rc < 0)
			return EXIT_BAD_INPUT;
		if (rc == 0)
			return usage_error("quiz", "unknown option '%s'", argv[optind - 1]);
	}
	if (!(path = sim_script_arg("quiz", argc, argv, optind)) ||
	    script_load("quiz", path, &sc, stderr) < 0)
		return EXIT_BAD_INPUT;
	q.sc = sc;
	q.tty = isatty(STDIN_FILENO);
	q.s = session_create(sc, &so, stderr);
	q.o = q.s ? session_create(sc, &so, stderr) : NULL;
	if (!q.o) {
		session_destroy(q.s);
		script_free(sc);
		return EXIT_BAD_INPUT;
	}
	truth_reset(&q.t);
	if (session_add_sink(q.o, truth_sink, &q.t) < 0)
		panic("no room for the quiz's sink");
	rc = quiz_run(&q);
	fflush(stdout);
	session_destroy(q.o);
	session_destroy(q.s);
	script_free(sc);
	return rc;
}
