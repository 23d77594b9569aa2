/*
 * options.c - the simulation options of run, step, quiz and view (options.h):
 * one parser, one set of messages, each a usage error of the command.
 */
#include "options.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../../libc/glibc_malloc.h"
#include "../../libc/libc.h"
#include "../../vm/panic.h"
#include "commands.h"
#include "plugin.h"
#include "plugin_guard.h"

/* The options --cpus and --tunable, shared by run, step, view and replay
   (declared in session.h, beside struct session_opts). */
int session_opt_cpus(struct session_opts *o, const char *arg, char *err, size_t n)
{
	uint64_t v;

	if (parse_size(arg, &v) < 0 || v == 0 || v > KERNEL_MAX_CPUS) {
		snprintf(err, n, "--cpus: '%s' is not a number of CPUs from 1 to %u", arg,
		         KERNEL_MAX_CPUS);
		return -1;
	}
	o->kopts.nr_cpus = (unsigned)v;
	return 0;
}

int session_opt_tunable(struct session_opts *o, const char *arg, char *err, size_t n)
{
	int k = snprintf(err, n, "--tunable: ");

	if (k < 0 || (size_t)k >= n)
		panic("session_opt_tunable: a buffer of %zu bytes", n);
	return glibc_tunables_parse(o->tunables, &o->nr_tunables, LIBC_MAX_TUNABLES, arg,
	                            err + k, n - (size_t)k);
}

/* usage_error's message, as sim_option reports it: -1. */
static int opt_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int opt_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vusage_error(cmd, fmt, ap);
	va_end(ap);
	return -1;
}

const char sim_options_help[] = SIM_HELP_MALLOC SIM_HELP_MACHINE SIM_HELP_COLOR;

const char *sim_policy_names(char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = 0;
	for (const struct malloc_ops *const *p = malloc_policies; *p && len < n; p++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s",
		                        p == malloc_policies ? "" : ", ", (*p)->name);
	return buf;
}

int sim_option(const char *cmd, int c, char *arg, struct session_opts *o, bool *color)
{
	uint64_t v, w;
	char *comma, names[128];

	switch (c) {
	case SIM_OPT_MALLOC:
		if (plugin_is_path(arg)) {
			/* A plugin: keep the simulated addresses unmapped in the host,
			   now that executing again is harmless (plugin_guard.h). */
			plugin_guard_layout(true);
		} else if (!malloc_policy(arg)) {
			return opt_usage(cmd,
			                 "--malloc: unknown malloc policy '%s' (%s, or a plugin: "
			                 "./mm.so)",
			                 arg, sim_policy_names(names, sizeof(names)));
		}
		o->policy = arg;
		return 1;
	case SIM_OPT_CPUS:
	case SIM_OPT_TUNABLE: {
		char err[512];

		if ((c == SIM_OPT_CPUS ? session_opt_cpus : session_opt_tunable)(o, arg, err,
		                                                                 sizeof(err)) < 0)
			return opt_usage(cmd, "%s", err);
		return 1;
	}
	case SIM_OPT_PHYS:
	case SIM_OPT_SWAP: {
		struct kernel_opts k = o->kopts;
		char why[160];

		if (parse_size(arg, &v) < 0 || (v == 0 && c == SIM_OPT_PHYS))
			return opt_usage(cmd, "%s: bad size '%s'",
			                 c == SIM_OPT_PHYS ? "--phys" : "--swap", arg);
		*(c == SIM_OPT_PHYS ? &k.phys_bytes : &k.swap_bytes) = v;
		if (kernel_opts_problem(&k, why, sizeof(why)))
			return opt_usage(cmd, "%s %s: %s", c == SIM_OPT_PHYS ? "--phys" : "--swap",
			                 arg, why);
		o->kopts = k;
		return 1;
	}
	case SIM_OPT_SEED:
		if (parse_size(arg, &v) < 0)
			return opt_usage(cmd, "--seed: bad number '%s'", arg);
		o->kopts.seed = v;
		o->kopts.aslr = true;
		return 1;
	case SIM_OPT_NOZERO:
		o->kopts.zero_page = false;
		return 1;
	case SIM_OPT_PCID:
		o->kopts.pcid = true;
		return 1;
	case SIM_OPT_TLB: {
		char buf[64];

		snprintf(buf, sizeof(buf), "%s", arg);
		comma = strchr(buf, ',');
		w = o->kopts.tlb_ways;
		if (comma) {
			*comma = 0;
			if (parse_size(comma + 1, &w) < 0 || w == 0 || w > 1024)
				return opt_usage(cmd, "--tlb: bad associativity in '%s'", arg);
		}
		if (parse_size(buf, &v) < 0 || v == 0 || v > 65536 || v % w ||
		    ((v / w) & (v / w - 1)))
			return opt_usage(cmd,
			                 "--tlb: '%s' is not ENTRIES[,WAYS] with ENTRIES/WAYS a "
			                 "power of two",
			                 arg);
		o->kopts.tlb_entries = (unsigned)v;
		o->kopts.tlb_ways = (unsigned)w;
		return 1;
	}
	case SIM_OPT_COLOR:
	case SIM_OPT_NOCOLOR:
		if (color)
			*color = c == SIM_OPT_COLOR;
		return 1;
	default:
		return 0;
	}
}

const char *sim_script_arg(const char *cmd, int argc, char **argv, int optind)
{
	if (optind >= argc) {
		usage_error(cmd, "no script given");
		return NULL;
	}
	if (optind + 1 < argc) {
		usage_error(cmd, "one script at a time ('%s' is extra)", argv[optind + 1]);
		return NULL;
	}
	return argv[optind];
}
