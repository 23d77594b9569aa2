/*
 * options.h - the simulation options every command that runs a script takes
 * (run, step, quiz, view): --malloc, --phys, --swap, --seed, --no-zero-page,
 * --tlb, --pcid, --cpus, --tunable, and --color for those that print to a terminal. One parser, so that
 * every command accepts and refuses the same values with the same words.
 */
#ifndef DEMOS_CLI_OPTIONS_H
#define DEMOS_CLI_OPTIONS_H

#include <getopt.h>
#include <stdbool.h>

#include "session.h"

enum {
	SIM_OPT_MALLOC = 0x1000,
	SIM_OPT_PHYS,
	SIM_OPT_SEED,
	SIM_OPT_NOZERO,
	SIM_OPT_TLB,
	SIM_OPT_COLOR,
	SIM_OPT_NOCOLOR,
	SIM_OPT_SWAP,
	SIM_OPT_CPUS,
	SIM_OPT_TUNABLE,
	SIM_OPT_PCID,
};

/* Rows for a getopt_long table (no terminating zero row). */
#define SIM_LONG_OPTIONS                                                                           \
	{"malloc", required_argument, NULL, SIM_OPT_MALLOC},                                       \
	    {"phys", required_argument, NULL, SIM_OPT_PHYS},                                       \
	    {"seed", required_argument, NULL, SIM_OPT_SEED},                                       \
	    {"no-zero-page", no_argument, NULL, SIM_OPT_NOZERO},                                   \
	    {"tlb", required_argument, NULL, SIM_OPT_TLB},                                         \
	    {"pcid", no_argument, NULL, SIM_OPT_PCID},                                             \
	    {"swap", required_argument, NULL, SIM_OPT_SWAP},                                       \
	    {"cpus", required_argument, NULL, SIM_OPT_CPUS},                                       \
	    {"tunable", required_argument, NULL, SIM_OPT_TUNABLE},                                 \
	    {"color", no_argument, NULL, SIM_OPT_COLOR},                                           \
	{                                                                                          \
		"no-color", no_argument, NULL, SIM_OPT_NOCOLOR                                     \
	}

/*
 * The options' help lines, in three parts, so that a command that says more
 * about one of them (run's --malloc all) keeps the others' lines as they are.
 */
#define SIM_HELP_MALLOC                                                                      \
	"  --malloc POLICY     seed, firstfit, nextfit, bestfit, glibc, best (default: the\n"  \
	"                      script's `policy` line, else glibc), or ./mm.so: a plugin,\n"   \
	"                      your own allocator (aftermalloc lab -o mm.so)\n"
#define SIM_HELP_MACHINE                                                                     \
	"  --phys SIZE         simulated RAM (default 64M); sizes take K/M/G and 0x\n"          \
	"  --swap SIZE         a swap area of SIZE at boot (40K to 64G; default none)\n"        \
	"  --seed N            randomize the layout (ASLR) from N\n"                            \
	"  --no-zero-page      a read fault allocates a frame (as on kernels booted with\n"     \
	"                      the zero page off); default: map the shared zero page\n"        \
	"  --tlb N[,WAYS]      TLB entries and associativity (default 64,4)\n"                  \
	"  --pcid              the TLB tags entries by address space (PCID): a context\n"       \
	"                      switch keeps them; default: it flushes them\n"                   \
	"  --cpus N            CPUs the machine reports online (default 1): glibc allows\n"     \
	"                      8 arenas per CPU\n"                                              \
	"  --tunable T=V[:...] a glibc.malloc tunable, as GLIBC_TUNABLES sets it\n"             \
	"                      (glibc.malloc.arena_max=2; repeatable)\n"
#define SIM_HELP_COLOR                                                                       \
	"  --color, --no-color colour (default: only when standard output is a terminal)\n"
/* All of them, in that order. */
extern const char sim_options_help[];

/*
 * Apply one getopt_long result (c, optarg) of SIM_LONG_OPTIONS to o and
 * *color (NULL: a command without colour). 1 when applied, 0 when c is not
 * one of them, -1 after a usage error "aftermalloc CMD: ..." on stderr (an
 * unknown policy, a size the machine cannot boot with, ...).
 */
int sim_option(const char *cmd, int c, char *arg, struct session_opts *o, bool *color);

/* "seed, firstfit, nextfit, ..." into buf: the policies --malloc takes. */
const char *sim_policy_names(char *buf, size_t n);

/*
 * The one SCRIPT argument left in argv[optind..argc) of command cmd: its
 * path, or NULL after the usage error ("no script given", "one script at a
 * time").
 */
const char *sim_script_arg(const char *cmd, int argc, char **argv, int optind);

#endif
