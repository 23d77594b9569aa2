/*
 * script.h - scenario scripts (.ams): lexer and parser into statements
 * (DESIGN.md, Scenario scripts).
 *
 * A script is parsed whole before anything runs, so a malformed one is
 * reported ("FILE:LINE: message") without any simulation having happened.
 * Parsing resolves every variable to an index: a variable must be assigned on
 * an earlier line than the one that reads it. Nothing here simulates; running
 * a statement is demos/cli/session.c's job.
 *
 * Statements are described by a table (script_stmt_defs) so that a new one is
 * a table row, a case in session.c and a line of documentation.
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
	ST__COUNT
};

/* How a statement's argument list is shaped (beyond plain expressions). */
enum stmt_shape {
	SHAPE_EXPRS,     /* min..max expressions */
	SHAPE_MMAP,      /* EXPR [PROT] */
	SHAPE_SETRLIMIT, /* RESOURCE EXPR [EXPR] */
	SHAPE_SHOW,      /* VIEW [EXPR]: pagetable takes an address */
	SHAPE_EXPECT,    /* EXPR OP EXPR */
	SHAPE_ASSIGN,    /* NAME = ... (never looked up by name) */
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

enum builtin { BI_FAULTS, BI_RSS, BI_MEMFREE, BI_BRK, BI_INFINITY, BI__COUNT };
extern const char *const script_builtin_names[BI__COUNT];

enum term_kind { TERM_NUM, TERM_VAR, TERM_BUILTIN };

struct term {
	int neg;      /* subtracted */
	int kind;     /* enum term_kind */
	uint64_t val; /* the number, the variable's index or the enum builtin */
};

/* A sum of terms: sc->terms[first .. first + n). */
struct expr {
	uint32_t first, n;
	const char *text; /* source text, for expect's message (script-owned) */
};

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
	VIEW__COUNT
};
extern const char *const script_view_names[VIEW__COUNT];

enum rlimit_res { RES_DATA, RES_STACK, RES_AS, RES_CPU, RES__COUNT };
extern const char *const script_resource_names[RES__COUNT];

/* mmap protection keyword: "rw" (default), "r", "w", "x", combinations, "none". */
#define SCRIPT_PROT_R 0x1
#define SCRIPT_PROT_W 0x2
#define SCRIPT_PROT_X 0x4

#define STMT_MAX_ARGS 4

struct stmt {
	enum stmt_op op;
	int line;
	int dest; /* variable assigned (index), or -1 */
	unsigned nargs;
	struct expr args[STMT_MAX_ARGS]; /* ST_ASSIGN: args[0]; ST_EXPECT: lhs, rhs */
	int kw;                          /* view, resource or prot (-1: none given) */
	enum cmp_op cmp;                 /* ST_EXPECT */
	const char *text;                /* the statement as written, comment and blanks stripped */
};

struct script_var; /* uthash entry, private to script.c */

struct script {
	char *path;   /* as given, for messages */
	char **lines; /* the source, one string a line (no newline) */
	int nr_lines;
	struct stmt *stmts;
	size_t nr_stmts;
	struct term *terms;
	size_t nr_terms, cap_terms;
	char **var_names; /* index -> name */
	int nr_vars;
	struct script_var *var_hash;
	/* Directives (must come before the first statement). */
	char *policy; /* `policy NAME`, or NULL */
	int policy_line;
};

/*
 * Parse text (a whole script) named path (used in messages). 0 and *out, or
 * -1 after printing "PATH:LINE: message" to err; nothing is allocated then.
 */
int script_parse(const char *path, const char *text, struct script **out, FILE *err);
/* Read and parse the file at path ("-": standard input). As script_parse; a
   file that cannot be read is reported as "PATH: strerror". */
int script_load(const char *path, struct script **out, FILE *err);
void script_free(struct script *sc);

/* Index of variable name, or -1. */
int script_var_index(const struct script *sc, const char *name);
/* Keyword lookups: index or -1. */
int script_view_lookup(const char *name);
int script_stmt_lookup(const char *name); /* enum stmt_op, or -1 */

/* Render an mmap protection as "rw", "r", "none", ... into buf (>= 5 bytes). */
const char *script_prot_str(int prot, char *buf);

/* Statements' internal consistency (indices in range, arity per table).
   Returns #broken, reports the first to err. */
int script_check(const struct script *sc, FILE *err);
/* One statement a line, parsed form (for debugging and tests). */
void script_dump(const struct script *sc, FILE *out);

#endif
