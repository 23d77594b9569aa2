/*
 * view_app.h - the SDL viewer's entry point, callable without SDL's headers.
 *
 * demos/view/view.c defines cmd_view (demos/cli/commands.h) and calls view_main, so
 * that the file that makes the subcommand live needs no SDL flags; the viewer
 * itself (demos/view/view_app.c and the other view_*.c) is compiled with them.
 */
#ifndef DEMOS_VIEW_APP_H
#define DEMOS_VIEW_APP_H

/* `aftermalloc view ARGS`: argv[0] is "view". Returns the exit status. */
int view_main(int argc, char **argv);

#endif
