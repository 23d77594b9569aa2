/*
 * script_names.c - the words of the scenario language (script.h): the
 * statement table script_stmt_defs (a new statement is a row here, a case
 * in session_exec.c or session.c, a section in docs/reference.md), the
 * names of built-ins, views, resources, advice and mallopt parameters, the
 * signals and si_codes `expect signal` takes (as strsignal and siginfo.h
 * spell them), and the lookups by name of each.
 */
#include "script_internal.h"

#include <string.h>

#include "../../kernel_sim/sysctl.h"
#include "../../kernel_sim/task.h"
#include "commands.h"
#include "expr.h"

#define SCRIPT_SI_TKILL (-6) /* si_code of a signal sent by tkill/tgkill */

/* The statement table: one row per statement, indexed by enum stmt_op. */
const struct stmt_def script_stmt_defs[ST__COUNT] = {
    [ST_ASSIGN] = {"assign", ST_ASSIGN, SHAPE_ASSIGN, 1, 1, RET_VALUE, false, "NAME = EXPR"},
    [ST_EXPECT] = {"expect", ST_EXPECT, SHAPE_EXPECT, 2, 2, RET_NONE, false, "expect EXPR OP EXPR"},
    [ST_SHOW] = {"show", ST_SHOW, SHAPE_SHOW, 0, 2, RET_NONE, false,
                 "show maps|buddyinfo|meminfo|status|heap|pagetable ADDR|tlb|zoneinfo|vmstat|"
                 "swaps|oom_score|dmesg|arenas|smaps_rollup|ps"},
    [ST_SBRK] = {"sbrk", ST_SBRK, SHAPE_EXPRS, 1, 1, RET_ADDR, true, "sbrk INCREMENT"},
    [ST_BRK] = {"brk", ST_BRK, SHAPE_EXPRS, 1, 1, RET_STATUS, true, "brk ADDR"},
    [ST_MMAP] = {"mmap", ST_MMAP, SHAPE_MMAP, 1, 1, RET_ADDR, true, "mmap LEN [rw|r|none|...]"},
    [ST_MUNMAP] = {"munmap", ST_MUNMAP, SHAPE_EXPRS, 2, 2, RET_STATUS, true, "munmap ADDR LEN"},
    [ST_MPROTECT] = {"mprotect", ST_MPROTECT, SHAPE_EXPRS_KW, 2, 2, RET_STATUS, true,
                     "mprotect ADDR LEN rw|r|none|..."},
    [ST_MADVISE] = {"madvise", ST_MADVISE, SHAPE_EXPRS_KW, 2, 2, RET_STATUS, true,
                    "madvise ADDR LEN dontneed|free|normal|willneed"},
    [ST_MREMAP] = {"mremap", ST_MREMAP, SHAPE_EXPRS_KW, 3, 3, RET_ADDR, true,
                   "mremap ADDR OLDLEN NEWLEN [maymove]"},
    [ST_STORE] = {"store", ST_STORE, SHAPE_EXPRS, 3, 4, RET_NONE, true, "store P OFF BYTE [COUNT]"},
    [ST_LOAD] = {"load", ST_LOAD, SHAPE_EXPRS, 2, 3, RET_VALUE, true, "load P OFF [SIZE]"},
    [ST_TOUCH] = {"touch", ST_TOUCH, SHAPE_EXPRS, 3, 3, RET_NONE, true, "touch P OFF LEN"},
    [ST_READ] = {"read", ST_READ, SHAPE_EXPRS, 3, 3, RET_NONE, true, "read P OFF LEN"},
    [ST_SETRLIMIT] = {"setrlimit", ST_SETRLIMIT, SHAPE_SETRLIMIT, 1, 2, RET_STATUS, true,
                      "setrlimit data|stack|as|cpu SOFT [HARD]"},
    [ST_MALLOC] = {"malloc", ST_MALLOC, SHAPE_EXPRS, 1, 1, RET_ADDR, true, "malloc N"},
    [ST_CALLOC] = {"calloc", ST_CALLOC, SHAPE_EXPRS, 2, 2, RET_ADDR, true, "calloc NMEMB SIZE"},
    [ST_REALLOC] = {"realloc", ST_REALLOC, SHAPE_EXPRS, 2, 2, RET_ADDR, true, "realloc P N"},
    [ST_FREE] = {"free", ST_FREE, SHAPE_EXPRS, 1, 1, RET_NONE, true, "free P"},
    [ST_MEMALIGN] = {"posix_memalign", ST_MEMALIGN, SHAPE_EXPRS, 2, 2, RET_ADDR, true,
                     "posix_memalign ALIGN N"},
    [ST_USABLE] = {"usable", ST_USABLE, SHAPE_EXPRS, 1, 1, RET_VALUE, true, "usable P"},
    [ST_FOR] = {"for", ST_FOR, SHAPE_FOR, 2, 3, RET_NONE, false, "for I = A to B [step S] ... end"},
    [ST_IN] = {"in", ST_IN, SHAPE_BLOCK, 1, 1, RET_NONE, false, "in ID ... end"},
    [ST_END] = {"end", ST_END, SHAPE_END, 0, 0, RET_NONE, false, "end"},
    [ST_EXPECT_SIGNAL] = {"expect signal", ST_EXPECT_SIGNAL, SHAPE_SUBFORM, 0, 0, RET_NONE, false,
                          "expect signal SIGNAME [CODE]"},
    [ST_EXPECT_STDERR] = {"expect stderr", ST_EXPECT_STDERR, SHAPE_SUBFORM, 0, 0, RET_NONE, false,
                          "expect stderr \"TEXT\""},
    [ST_SYSCTL] = {"sysctl", ST_SYSCTL, SHAPE_SYSCTL, 1, 1, RET_STATUS, false,
                   "sysctl vm.NAME=VALUE"},
    [ST_SWAPON] = {"swapon", ST_SWAPON, SHAPE_EXPRS, 1, 1, RET_STATUS, true, "swapon SIZE"},
    [ST_SWAPOFF] = {"swapoff", ST_SWAPOFF, SHAPE_EXPRS, 0, 0, RET_STATUS, true, "swapoff"},
    [ST_OOMADJ] = {"oom_score_adj", ST_OOMADJ, SHAPE_EXPRS, 1, 1, RET_STATUS, false,
                   "oom_score_adj N"},
    [ST_MALLOPT] = {"mallopt", ST_MALLOPT, SHAPE_MALLOPT, 1, 1, RET_VALUE, true,
                    "mallopt arena_max|mmap_threshold|trim_threshold|top_pad|mxfast|perturb|"
                    "mmap_max|arena_test|check_action VALUE"},
    [ST_MALLOC_TRIM] = {"malloc_trim", ST_MALLOC_TRIM, SHAPE_EXPRS, 0, 1, RET_VALUE, true,
                        "malloc_trim [PAD]"},
    [ST_MALLOC_STATS] = {"malloc_stats", ST_MALLOC_STATS, SHAPE_EXPRS, 0, 0, RET_NONE, true,
                         "malloc_stats"},
    [ST_MALLOC_INFO] = {"malloc_info", ST_MALLOC_INFO, SHAPE_EXPRS, 0, 0, RET_NONE, true,
                        "malloc_info"},
    [ST_FORK] = {"fork", ST_FORK, SHAPE_EXPRS, 0, 0, RET_VALUE, true, "fork"},
    [ST_EXIT] = {"exit", ST_EXIT, SHAPE_EXPRS, 0, 1, RET_NONE, true, "exit [STATUS]"},
    [ST_WAIT] = {"wait", ST_WAIT, SHAPE_EXPRS, 0, 1, RET_VALUE, true, "wait [PID]"},
    [ST_THREAD] = {"thread", ST_THREAD, SHAPE_EXPRS, 0, 0, RET_VALUE, true, "thread"},
    [ST_JOIN] = {"join", ST_JOIN, SHAPE_EXPRS, 1, 1, RET_STATUS, true, "join TID"},
};

const char *const script_builtin_names[BI__COUNT] = {
    "faults",   "rss",      "memfree",  "brk",      "infinity", "errno",     "pid",
    "vmas",     "vmsize",   "vmdata",   "vmpte",    "vmstk",    "majfaults", "swapents",
    "swapfree", "arena",    "ordblks",  "smblks",   "hblks",    "hblkhd",    "usmblks",
    "fsmblks",  "uordblks", "fordblks", "keepcost",
};
const char *const script_cmp_names[] = {"==", "!=", "<", "<=", ">", ">="};
const char *const script_view_names[VIEW__COUNT] = {
    "maps",   "buddyinfo", "meminfo",   "status", "heap",   "pagetable",    "tlb", "zoneinfo",
    "vmstat", "swaps",     "oom_score", "dmesg",  "arenas", "smaps_rollup", "ps"};

bool script_view_takes_pid(int view)
{
	return view == VIEW_MAPS || view == VIEW_STATUS || view == VIEW_PAGETABLE ||
	       view == VIEW_OOM_SCORE || view == VIEW_SMAPS_ROLLUP;
}
const char *const script_resource_names[RES__COUNT] = {"data", "stack", "as", "cpu"};
const char *const script_advice_names[ADV__COUNT] = {"normal", "willneed", "dontneed", "free"};
const char *const script_mallopt_names[MO__COUNT] = {
    "mxfast",       "trim_threshold", "top_pad",    "mmap_threshold", "mmap_max",
    "check_action", "perturb",        "arena_test", "arena_max"};
const int script_mallopt_values[MO__COUNT] = {1, -1, -2, -3, -4, -5, -6, -7, -8};

/* ---- names --------------------------------------------------------- */

static int var_lookup(const struct script *sc, const char *s, size_t len)
{
	struct script_var *v;

	HASH_FIND(hh, sc->var_hash, s, len, v);
	return v ? v->idx : -1;
}

int script_var_lookup(const struct script *sc, const char *s, size_t len)
{
	return var_lookup(sc, s, len);
}

/* Rows that are found by their keyword (not NAME = EXPR, not the subforms). */
static bool looked_up(const struct stmt_def *d)
{
	return d->shape != SHAPE_ASSIGN && d->shape != SHAPE_SUBFORM;
}

bool script_stmt_is_keyword(int op)
{
	return looked_up(&script_stmt_defs[op]);
}

int script_stmt_lookup_tok(const struct tok *t)
{
	return t->kw ? t->kw->stmt : -1;
}

static const struct {
	const char *name;
	int signo;
} signal_names[] = {
    {"SIGABRT", SIM_SIGABRT},
    {"SIGBUS", 7},
    {"SIGKILL", SIM_SIGKILL},
    {"SIGSEGV", SIM_SIGSEGV},
    {"SIGXCPU", SIM_SIGXCPU},
    /* A plugin's own crash (demos/cli/plugin_guard.c). */
    {"SIGILL", 4},
    {"SIGFPE", 8},
};

static const struct {
	const char *name;
	int code;
} sigcode_names[] = {
    {"SEGV_MAPERR", SIM_SEGV_MAPERR},
    {"SEGV_ACCERR", SIM_SEGV_ACCERR},
    {"SI_KERNEL", SIM_SI_KERNEL},
    {"SI_TKILL", SCRIPT_SI_TKILL},
    {"SI_USER", 0},
};

int script_signal_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++)
		if (strcmp(signal_names[i].name, name) == 0)
			return signal_names[i].signo;
	return -1;
}

int script_sigcode_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(sigcode_names) / sizeof(sigcode_names[0]); i++)
		if (strcmp(sigcode_names[i].name, name) == 0)
			return sigcode_names[i].code;
	return -1;
}

const char *script_signal_name(int signo)
{
	for (size_t i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++)
		if (signal_names[i].signo == signo)
			return signal_names[i].name;
	return NULL;
}

const char *script_sigcode_name(int signo, int code)
{
	/* SEGV_* codes are SIGSEGV's; the others are any signal's. */
	for (size_t i = 0; i < sizeof(sigcode_names) / sizeof(sigcode_names[0]); i++)
		if (sigcode_names[i].code == code &&
		    (signo == SIM_SIGSEGV || strncmp(sigcode_names[i].name, "SEGV_", 5) != 0))
			return sigcode_names[i].name;
	return NULL;
}

int script_var_index(const struct script *sc, const char *name)
{
	return var_lookup(sc, name, strlen(name));
}

int script_view_lookup(const char *name)
{
	for (int i = 0; i < VIEW__COUNT; i++)
		if (strcmp(name, script_view_names[i]) == 0)
			return i;
	return -1;
}

int script_stmt_lookup(const char *name)
{
	for (int i = 0; i < ST__COUNT; i++)
		if (looked_up(&script_stmt_defs[i]) && strcmp(name, script_stmt_defs[i].name) == 0)
			return i;
	return -1;
}
