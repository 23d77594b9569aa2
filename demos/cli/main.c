/*
 * main.c - the `aftermalloc` command: dispatch to a subcommand (DESIGN.md,
 * The command). Each subcommand parses its own options with getopt_long and
 * returns the exit status (demos/cli/commands.h).
 *
 * A subcommand whose file is not part of this build (the terminal stepper,
 * demos/step/step.c, and the SDL viewer, demos/view/view.c, come later) is declared
 * weak: its table row stays and says "not available in this build" with exit
 * status 2 until the file is linked, and then it works with no change here.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "output.h"

#pragma weak cmd_step
#pragma weak cmd_view

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;
	const char *what;
	bool results_on_stdout; /* try stdout before running (output_init) */
};

static const struct command commands[] = {
    {"run", cmd_run,
     "SCRIPT.ams [--json] [--malloc POLICY] [--phys SIZE] [--seed N]\n"
     "                [--events FILE.jsonl] [--perfetto FILE.json] [--no-zero-page]",
     "run a scenario script and tell what each statement did", true},
    {"step", cmd_step, "SCRIPT.ams", "terminal stepper: one event, statement or fault at a time", true},
    {"view", cmd_view,
     "SCRIPT.ams [--compare POLICY,POLICY]\n"
     "                [--screenshot FILE.png --at N [--size WxH]]",
     "SDL viewer", false},
    {"quiz", cmd_quiz, "SCRIPT.ams [--answers]",
     "guess what each statement will do (faults, sbrk, brk/mmap, TLB, buddy order)", true},
    {"replay", cmd_replay,
     "TRACE.rep... [--malloc POLICY|all|./mm.so] [--phys SIZE]\n"
     "                [--json] [--no-check]",
     "replay a malloc-lab trace through a policy, checking every block", true},
    {"record", cmd_record, "[-o FILE.rep] [--plain] -- CMD [ARGS...]",
     "run a real program and record its malloc calls as a trace", false},
    {"gen", cmd_gen, "-s SEED -n OPS [--sizes DIST] [-o FILE.rep|FILE.ams]",
     "write a random workload (OSTEP's malloc.py): a trace or a script", false},
    {"lab", cmd_lab,
     "MM.c [TRACE.rep...] [-t DIR] [-o FILE.so] [--json]\n"
     "                [--timeout SECS] [--check-heap] [--phys SIZE] [-V]",
     "your own allocator (the CS:APP mm_malloc...) in the simulation: mdriver's\n"
     "      report, and its page faults, frames, brk/mmap calls and TLB misses", true},
};

#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fputs("aftermalloc - what happens after malloc? Run it and watch: libc, the kernel's\n"
	      "brk and page-fault paths, the buddy allocator and the MMU, event by event.\n\n"
	      "usage:\n",
	      f);
	for (size_t i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  aftermalloc %s %s\n      %s%s\n", commands[i].name, commands[i].args,
		        commands[i].what, commands[i].fn ? "" : " (not available in this build)");
	fputs("  aftermalloc --help | COMMAND --help\n\n"
	      "Start with:  aftermalloc run demos/seed-walk.ams\n"
	      "Exit status: 0 success; 1 the simulated program was killed, an expect failed or\n"
	      "a replay was invalid; 2 bad usage or malformed input.\n",
	      f);
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;
	int rc;

	if (!name) {
		output_init("aftermalloc", false);
		usage(stderr);
		return EXIT_BAD_INPUT;
	}
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		output_init("aftermalloc", true);
		usage(stdout);
		output_flush();
		return 0;
	}
	for (size_t i = 0; i < NR_COMMANDS; i++) {
		if (strcmp(name, commands[i].name) != 0)
			continue;
		output_init(name, commands[i].results_on_stdout);
		if (!commands[i].fn) {
			fprintf(stderr,
			        "aftermalloc: '%s' is not available in this build "
			        "(try: aftermalloc run %s)\n",
			        name, argc > 2 && argv[2][0] != '-' ? argv[2] : "SCRIPT.ams");
			return EXIT_BAD_INPUT;
		}
		/* The subcommand sees its own name as argv[0]. Whatever it printed
		   is flushed before its status is: a write that fails now still
		   fails the command (output.h). */
		rc = commands[i].fn(argc - 1, argv + 1);
		output_flush();
		return rc;
	}
	output_init("aftermalloc", false);
	fprintf(stderr, "aftermalloc: unknown command '%s'\nTry 'aftermalloc --help'.\n", name);
	return EXIT_BAD_INPUT;
}
