/*
 * plot.h - line charts written to a PNG file, for `replay --plot`: panels
 * of series against a shared x axis, with nice ticks, units and a legend.
 *
 * A room of its own (demos/plot/): drawn with the SDL2 software renderer,
 * text with SDL2_ttf and the file with SDL2_image, as the viewer draws, but
 * no SDL type crosses this header, so the command line calls it without
 * seeing SDL (the Makefile's check-sdl lets demos/view/ and demos/plot/
 * include SDL, nothing else).
 */
#ifndef DEMOS_PLOT_H
#define DEMOS_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum plot_unit {
	PLOT_COUNT, /* 0, 500, 1000, 1.5k ... */
	PLOT_BYTES, /* 0, 64K, 1.5M ... (powers of 1024) */
};

struct plot_series {
	const char *label; /* in the legend */
	uint32_t rgb;      /* 0xRRGGBB: drawn in exactly this colour, no blending */
	const double *x, *y;
	size_t n;
	bool thin; /* one pixel wide (a reference line), else two */
};

enum plot_scale {
	PLOT_LINEAR,   /* from 0 */
	PLOT_LOG_AUTO, /* logarithmic when the series' largest values are more than
	                  PLOT_LOG_SPAN apart (one would be a flat line at the
	                  bottom of the other's axis), else linear; the title
	                  then says "(log scale)" */
};

#define PLOT_LOG_SPAN 32.0

struct plot_panel {
	const char *title;   /* above the panel */
	enum plot_unit unit; /* of the y axis */
	enum plot_scale scale;
	const struct plot_series *series;
	size_t nr_series;
};

struct plot_spec {
	const char *title;  /* at the top of the picture */
	const char *xlabel; /* under every panel's x axis */
	int w, h;           /* pixels */
	const struct plot_panel *panels;
	size_t nr_panels;         /* at most 5: a 2-column grid, the legend in the last cell */
	const char *const *notes; /* lines under the legend (NULL-terminated), or NULL */
};

/* The colour of the background, for tests that read the picture back. */
#define PLOT_BACKGROUND 0xfbfbf8u

/* Draw spec as a PNG into f (a checked stream, demos/cli/output.h, opened
   before anything ran; name is its file's, for messages). 0, or -1 after a
   message on err (no font). Needs no display. */
int plot_png(FILE *f, const char *name, const struct plot_spec *spec, FILE *err);

#endif
