/*
 * view.c - `aftermalloc view`: makes the subcommand live (demos/cli/main.c
 * declares cmd_view weak). The viewer is in demos/view/view_app.c; this file
 * includes no SDL header, so it builds with or without SDL's flags.
 */
#include "../cli/commands.h"
#include "view_app.h"

int cmd_view(int argc, char **argv)
{
	return view_main(argc, argv);
}
