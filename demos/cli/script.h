/*
 * script.h - scenario scripts (.ams): lexer and parser into statements
 * (DESIGN.md, Scenario scripts).
 *
 * A script is parsed whole before anything runs, so a malformed one is
 * reported ("FILE:LINE: message") without any simulation having happened.
 * Parsing resolves every variable to an index: a variable must be assigned on
 * an earlier line than the one that reads it. Nothing here simulates; running
 * a statement is demos/cli/session*.c's job.
 *
 * Statements are described by a table (script_stmt_defs, script_names.c) so
 * that a new one is a table row, a case in session_exec.c (or session.c, for
 * one that runs no code) and a section in docs/reference.md.
 *
 * Blocks: a statement that opens a block (`for`, `in`) ends its line and is
 * closed by `end` on a line of its own; blocks nest. The parser pairs them
 * (stmt.peer) so that running a script is a program counter moving over
 * sc->stmts: forward by one, from an `end` back to the first statement of
 * its loop, from a `for` that is not entered past its `end`.
 * Expressions are compiled to postfix code (demos/cli/expr.h).
 */
#ifndef DEMOS_SCRIPT_H
#define DEMOS_SCRIPT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum stmt_op {
	ST_ASSIGN,    /* NAME = EXPR */
	ST_EXPECT,    /* expect EXPR OP EXPR */
	ST_SHOW,      /* show VIEW [ADDR] */
	ST_SBRK,      /* sbrk INC -> old break or -1 */
	ST_BRK,       /* brk ADDR -> 0 or -1 (glibc's wrapper) */
	ST_MMAP,      /* mmap LEN [PROT] -> address or -1 */
	ST_MUNMAP,    /* munmap ADDR LEN -> 0 or -1 */
	ST_MPROTECT,  /* mprotect ADDR LEN PROT -> 0 or -1 */
	ST_MADVISE,   /* madvise ADDR LEN ADVICE -> 0 or -1 */
	ST_MREMAP,    /* mremap ADDR OLDLEN NEWLEN [maymove] -> address or -1 */
	ST_STORE,     /* store P OFF BYTE [COUNT] */
	ST_LOAD,      /* load P OFF [SIZE] -> value */
	ST_TOUCH,     /* touch P OFF LEN: write one byte into every page */
	ST_READ,      /* read P OFF LEN: read one byte from every page */
	ST_SETRLIMIT, /* setrlimit RES SOFT [HARD] -> 0 or -1 */
	ST_MALLOC,    /* malloc N -> pointer or 0 */
	ST_CALLOC,    /* calloc NMEMB SIZE -> pointer or 0 */
	ST_REALLOC,   /* realloc P N -> pointer or 0 */
	ST_FREE,      /* free P */
	ST_MEMALIGN,  /* posix_memalign ALIGN N -> pointer or 0 */
	ST_USABLE,    /* usable P -> malloc_usable_size(P) */
	ST_FOR,       /* for I = A to B [step S]: opens a counted loop */
	ST_IN,        /* in ID: opens a block run as task ID */
	ST_END,       /* end: closes the innermost open block */
	ST_EXPECT_SIGNAL, /* expect signal SIGNAME [CODE]: the program must die so */
	ST_EXPECT_STDERR, /* expect stderr "text": the program must write it to fd 2 */
	ST_SYSCTL,    /* sysctl vm.NAME[=]VALUE -> 0 or -1 (errno) */
	ST_SWAPON,    /* swapon SIZE -> 0 or -1 (errno) */
	ST_SWAPOFF,   /* swapoff -> 0 or -1 (errno) */
	ST_OOMADJ,    /* oom_score_adj N -> 0 or -1 (errno) */
	ST_MALLOPT,   /* mallopt PARAM VALUE -> 1 or 0 (glibc) */
	ST_MALLOC_TRIM, /* malloc_trim [PAD] -> 1 or 0 (glibc) */
	ST_MALLOC_STATS, /* malloc_stats: its lines as output (glibc) */
	ST_MALLOC_INFO,  /* malloc_info: its XML as output (glibc) */
	ST_FORK,      /* fork -> the child's pid, or -1 (errno) */
	ST_EXIT,      /* exit [STATUS]: the task statements run in exits */
	ST_WAIT,      /* wait [PID] -> the reaped child's exit status, or -1 (errno) */
	ST_THREAD,    /* thread -> the new thread's tid, or -1 (errno EAGAIN) */
	ST_JOIN,      /* join TID: the thread ends and is joined -> 0 or -1 (errno) */
	ST__COUNT
};

/* How a statement's argument list is shaped (beyond plain expressions). */
enum stmt_shape {
	SHAPE_EXPRS,     /* min..max expressions */
	SHAPE_MMAP,      /* EXPR [PROT] */
	SHAPE_EXPRS_KW,  /* min_args expressions, then a keyword (mprotect, madvise, mremap) */
	SHAPE_SETRLIMIT, /* RESOURCE EXPR [EXPR] */
	SHAPE_SHOW,      /* VIEW [EXPR]: pagetable takes an address */
	SHAPE_EXPECT,    /* EXPR OP EXPR */
	SHAPE_ASSIGN,    /* NAME = ... (never looked up by name) */
	SHAPE_FOR,       /* NAME = EXPR to EXPR [step EXPR] */
	SHAPE_BLOCK,     /* one expression, then a block (in ID) */
	SHAPE_END,       /* nothing */
	SHAPE_SUBFORM,   /* a form of another keyword (expect signal/stderr): never
	                    looked up by name */
	SHAPE_SYSCTL,    /* vm.NAME [=] EXPR */
	SHAPE_MALLOPT,   /* PARAM EXPR */
};

/* How a statement's result reads best. */
enum ret_fmt {
	RET_NONE,   /* no result: cannot be kept in a variable */
	RET_ADDR,   /* an address: hex; -1 stays -1 (sbrk, mmap failures) */
	RET_STATUS, /* 0 or -1 */
	RET_VALUE,  /* a number: decimal, hex when large */
};

struct stmt_def {
	const char *name; /* keyword in scripts, "op" in JSON */
	enum stmt_op op;
	enum stmt_shape shape;
	unsigned min_args, max_args; /* expressions, for SHAPE_EXPRS */
	enum ret_fmt ret;
	bool runs_code; /* runs simulated code (sets the `faults` built-in) */
	const char *usage;
};

/* Indexed by enum stmt_op. */
extern const struct stmt_def script_stmt_defs[ST__COUNT];

/* madvise's advice keywords, indexed by enum advice; and mremap's flag. */
enum advice { ADV_NORMAL, ADV_WILLNEED, ADV_DONTNEED, ADV_FREE, ADV__COUNT };
extern const char *const script_advice_names[ADV__COUNT];

/* Built-ins: values read from the simulation when an expression is evaluated.
   The vm* ones are /proc/PID/status's lines, in kB as it prints them. */
enum builtin {
	BI_FAULTS,
	BI_RSS,
	BI_MEMFREE,
	BI_BRK,
	BI_INFINITY,
	BI_ERRNO,  /* the simulated errno of the task statements run in */
	BI_PID,    /* that task's pid */
	BI_VMAS,   /* its number of VMAs (lines of /proc/PID/maps) */
	BI_VMSIZE, /* VmSize */
	BI_VMDATA, /* VmData */
	BI_VMPTE,  /* VmPTE */
	BI_VMSTK,  /* VmStk */
	BI_MAJFAULTS, /* major faults (reads from swap) of the most recent statement */
	BI_SWAPENTS,  /* the program's pages in swap now (VmSwap in pages) */
	BI_SWAPFREE,  /* free swap slots now */
	/* mallinfo2()'s fields (glibc; 0 for other policies), read without
	   running the program */
	BI_MI_ARENA,
	BI_MI_ORDBLKS,
	BI_MI_SMBLKS,
	BI_MI_HBLKS,
	BI_MI_HBLKHD,
	BI_MI_USMBLKS,
	BI_MI_FSMBLKS,
	BI_MI_UORDBLKS,
	BI_MI_FORDBLKS,
	BI_MI_KEEPCOST,
	BI__COUNT
};
extern const char *const script_builtin_names[BI__COUNT];

/*
 * Expression code, postfix: each term pushes a value or combines the values
 * on top of the evaluation stack (demos/cli/expr.c).
 */
enum term_op {
	OP_NUM,     /* push val */
	OP_VAR,     /* push variable val */
	OP_BUILTIN, /* push built-in val (enum builtin) */
	OP_ELEM,    /* pop an index, push element of array variable val */
	OP_NEG,     /* unary minus */
	OP_MUL,
	OP_DIV, /* signed, truncating as C's; 0 divisor: an error at run time */
	OP_MOD, /* signed, the sign of the dividend as C's */
	OP_ADD,
	OP_SUB,
	OP_SHL, /* counts of 64 or more give 0 */
	OP_SHR, /* logical (unsigned) */
	OP_AND,
	OP_XOR,
	OP_OR,
	OP_ALIGNED, /* aligned(X, N): 1 when X is a multiple of N, else 0 */
	OP__COUNT
};

struct term {
	uint32_t op;  /* enum term_op */
	uint64_t val; /* the number, the variable's index or the enum builtin */
};

/* Postfix code: sc->terms[first .. first + n). */
struct expr {
	uint32_t first, n;
	const char *text; /* source text, for expect's message (script-owned) */
};

/* Array variables: elements 0 .. SCRIPT_ARRAY_MAX - 1. */
#define SCRIPT_ARRAY_MAX (1u << 20)
/* A script file is at most this long (a longer one, /dev/zero or `yes`
   on standard input, stops with "FILE:LINE: ..." where the limit fell):
   room for the longest script gen writes (SCRIPT_ARRAY_MAX operations). */
#define SCRIPT_MAX_BYTES (64u << 20)
/* ... and holds at most this many statements (each costs a few hundred
   bytes parsed: this bounds the host memory a script takes, whatever its
   lines' length). */
#define SCRIPT_MAX_STMTS (2u << 20)
/* Blocks nest at most this deep. */
#define SCRIPT_MAX_DEPTH 32

enum cmp_op { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };
extern const char *const script_cmp_names[]; /* "==", "!=", ... */

enum show_view {
	VIEW_MAPS,
	VIEW_BUDDYINFO,
	VIEW_MEMINFO,
	VIEW_STATUS,
	VIEW_HEAP,
	VIEW_PAGETABLE,
	VIEW_TLB,
	VIEW_ZONEINFO,
	VIEW_VMSTAT,
	VIEW_SWAPS,
	VIEW_OOM_SCORE,
	VIEW_DMESG,
	VIEW_ARENAS,
	VIEW_SMAPS_ROLLUP,
	VIEW_PS,
	VIEW__COUNT
};
/* Views of one process: an optional PID after the view (after the address
   for pagetable); without it, the task statements run in. */
bool script_view_takes_pid(int view);
extern const char *const script_view_names[VIEW__COUNT];

enum rlimit_res { RES_DATA, RES_STACK, RES_AS, RES_CPU, RES__COUNT };

/* mallopt's parameters, without their M_ (malloc.h): indexed by
   enum mallopt_param; script_mallopt_values[] are malloc.h's numbers. */
enum mallopt_param {
	MO_MXFAST,
	MO_TRIM_THRESHOLD,
	MO_TOP_PAD,
	MO_MMAP_THRESHOLD,
	MO_MMAP_MAX,
	MO_CHECK_ACTION,
	MO_PERTURB,
	MO_ARENA_TEST,
	MO_ARENA_MAX,
	MO__COUNT
};
extern const char *const script_mallopt_names[MO__COUNT];
extern const int script_mallopt_values[MO__COUNT];
extern const char *const script_resource_names[RES__COUNT];

/* mmap protection keyword: "rw" (default), "r", "w", "x", combinations, "none". */
#define SCRIPT_PROT_R 0x1
#define SCRIPT_PROT_W 0x2
#define SCRIPT_PROT_X 0x4

#define STMT_MAX_ARGS 4

struct stmt {
	enum stmt_op op;
	int line;
	int dest;               /* variable assigned (index), or -1; ST_FOR: the loop's */
	struct expr dest_index; /* dest[INDEX] = ...: the index (n == 0: a plain variable) */
	unsigned nargs;
	struct expr args[STMT_MAX_ARGS]; /* ST_ASSIGN: args[0]; ST_EXPECT: lhs, rhs;
	                                    ST_FOR: from, to[, step]; ST_IN: the id */
	int kw;          /* view, resource or prot (-1: none given); ST_EXPECT_SIGNAL: signo */
	int code;        /* ST_EXPECT_SIGNAL: si_code, or -1 for any */
	enum cmp_op cmp; /* ST_EXPECT */
	size_t peer;     /* ST_FOR, ST_IN: index of its `end`; ST_END: of its opener */
	int depth;       /* blocks open around the statement (0 at the top) */
	int block;       /* ST_FOR, ST_IN: number of the block (0 .. nr_blocks - 1) */
	const char *str; /* ST_EXPECT_STDERR: the text (escapes resolved) */
	const char *text; /* the statement as written, comment and blanks stripped */
};

struct script_var; /* uthash entry, private to the parser (script_internal.h) */

struct script {
	char *path;   /* as given, for messages; SCRIPT_STDIN_NAME for "-" */
	char **lines; /* the source, one string a line (no newline) */
	int nr_lines;
	struct stmt *stmts;
	size_t nr_stmts, cap_stmts;
	struct term *terms;
	size_t nr_terms, cap_terms;
	char **var_names; /* index -> name */
	bool *var_array;  /* index -> the variable is an array (NAME[INDEX]) */
	int nr_vars, cap_vars; /* var_names and var_array grow by doubling */
	int nr_blocks; /* `for` and `in` statements */
	struct script_var *var_hash;
	/* The strings of the lines, statements and expressions, one after
	   the other in chunks (script_strndup): a malloc'd string each cost a
	   parsed statement four allocations and their overhead. */
	struct script_chunk *chunks;
	/* Directives (must come before the first statement). */
	char *policy; /* `policy NAME`, or NULL */
	int policy_line;
};

/*
 * Parse text (a whole script) named path (used in messages). 0 and *out, or
 * -1 after printing "PATH:LINE: message" to err; nothing is allocated then.
 */
int script_parse(const char *path, const char *text, struct script **out, FILE *err);
/* Read and parse the file at path ("-": standard input) for command cmd
   ("run", ...; NULL in tests). As script_parse; a file that cannot be read is
   reported as "aftermalloc CMD: PATH: strerror" (without the prefix when cmd
   is NULL). */
int script_load(const char *cmd, const char *path, struct script **out, FILE *err);
/* The text of the file at path ("-": standard input), NUL-terminated and
   malloc'd, as script_load reads it: NULL after its message on err (a file
   that cannot be read, a NUL byte). For a front end that keeps the text. */
char *script_read_text(const char *cmd, const char *path, FILE *err);
/* The name of standard input in messages, as gcc and others print it. */
#define SCRIPT_STDIN_NAME "<stdin>"
void script_free(struct script *sc);

/* Where the comment of a source line starts (a '#' outside a string), or
   the line's length: the parser's rule, for front ends showing the source. */
size_t script_code_length(const char *line);
/* The first statement on a line >= line, by binary search (sc->stmts are
   in line order); sc->nr_stmts when none. */
size_t script_stmt_at(const struct script *sc, int line);

/* Index of variable name, or -1 (the second form: name is s[0..len)). */
int script_var_index(const struct script *sc, const char *name);
int script_var_lookup(const struct script *sc, const char *s, size_t len);
struct tok;
/* The statement keyword t spells (enum stmt_op), or -1. */
int script_stmt_lookup_tok(const struct tok *t);
/* Is statement op found by its keyword (not NAME = EXPR, not a subform)? */
bool script_stmt_is_keyword(int op);
/* Keyword lookups: index or -1. */
int script_view_lookup(const char *name);
int script_stmt_lookup(const char *name); /* enum stmt_op, or -1 */

/* Signal names of `expect signal` ("SIGSEGV" ...) and si_code names
   ("SEGV_MAPERR" ...): the number, or -1 when unknown. */
int script_signal_lookup(const char *name);
int script_sigcode_lookup(const char *name);
/* The names back: NULL when unknown (a SEGV_ code only for SIGSEGV). */
const char *script_signal_name(int signo);
const char *script_sigcode_name(int signo, int code);

/* Render an mmap protection as "rw", "r", "none", ... into buf (>= 5 bytes). */
const char *script_prot_str(int prot, char *buf);

/* Statements' internal consistency (indices in range, arity per table).
   Returns #broken, reports the first to err. */
int script_check(const struct script *sc, FILE *err);
/* One statement a line, parsed form (for debugging and tests). */
void script_dump(const struct script *sc, FILE *out);

#endif
