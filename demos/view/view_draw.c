/*
 * view_draw.c - the viewer's panels (see view_draw.h), drawn from a
 * view_model snapshot: the call path and narration, the address space on a
 * non-linear scale, the heap's chunks, the page walk of the current address,
 * the frame grid with the buddy free lists, the TLB and counters, and the
 * event log. Every colour used here appears in a legend on screen.
 *
 * The frame grid is one streaming texture per side, rebuilt only when the
 * event or the geometry changes: one texel run per cell, each cell one
 * frame or -- when there are more frames than room -- one run of frames,
 * so 1 GiB of simulated RAM (262144 frames) is still one texture copy.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../step/narrate.h"
#include "view_draw.h"

#include "../../kernel_sim/swap.h"

#define COL_PANEL     VIEW_COL_PANEL
#define COL_BORDER    0x3a3f4c
#define COL_TEXT      0xdcdce1
#define COL_DIM       0x8c919b
#define COL_TITLE     0xffffff
#define COL_ACTIVE    0xffc83c /* the level being read or filled, the current address */
#define COL_SPLIT     0x00e6e6 /* a buddy split */
#define COL_MERGE     0xffe000 /* a buddy merge */
#define COL_BAD       0xff5a5a
#define COL_OK        0x78dc8c
#define COL_BRK       0xff6b6b
#define COL_START_BRK 0xffa860
#define COL_CUR_EV    0x3a4a6a
#define COL_WMARK_MIN  0xff5a5a
#define COL_WMARK_LOW  0xffa860
#define COL_WMARK_HIGH 0x78dc8c
#define COL_INACTIVE   0x6e8cc8
#define COL_SHARED     VIEW_COL_SHARED
#define COL_ACTIVE_LRU 0x5ac86e
#define COL_SWAP       0xa06ed2

/* Layers: user, libc, kernel, mmu. */
static const uint32_t layer_col[] = {0xe6e678, 0x78c8ff, 0xff9664, 0xbe96ff};

/* Frames by kind (enum frame_kind); free frames by order below. */
static const uint32_t kind_col[FK__COUNT] = {
    [FK_FREE] = 0x3c5a96,      [FK_RESERVED] = 0x5a5a5a, [FK_KERNEL] = 0xc8783c,
    [FK_PAGETABLE] = 0xe65a5a, [FK_ANON] = 0x5ac86e,     [FK_ZERO] = 0xf0f0f0,
};
static const char *const kind_label[FK__COUNT] = {
    [FK_FREE] = "free",      [FK_RESERVED] = "reserved",
    [FK_KERNEL] = "kernel",  [FK_PAGETABLE] = "page table",
    [FK_ANON] = "user page", [FK_ZERO] = "zero page",
};

/* VMAs by kind (enum vma_kind). */
static const uint32_t vma_col[] = {0x6478b4, 0x3ca0a0, 0x2d7d87, 0x5ac86e, 0xa06ed2, 0xe69650};
static const char *const vma_name[] = {"text", "data", "rodata", "heap", "mmap", "stack"};

/* Heap chunks. */
#define COL_CH_USE  0x5ac86e
#define COL_CH_FREE 0x6e8cc8
#define COL_CH_TOP  0x6e6e78
#define COL_CH_MMAP 0xa06ed2

/* Free block of order o (0..10): light (small blocks) to dark (big ones). */
static uint32_t free_col(unsigned o, bool odd)
{
	int l = 200 - (int)o * 14;
	int r = l * 55 / 100, gr = l * 72 / 100, b = l;

	if (odd) {
		r += 9;
		gr += 9;
		b += 9;
	}
	return (uint32_t)(r << 16 | gr << 8 | (b > 255 ? 255 : b));
}

static uint32_t code_col(uint8_t c)
{
	if (FC_CODE(c) == FC_SHARED)
		return COL_SHARED;
	if (fc_is_free(c))
		return free_col(FC_CODE(c) - FC_FREE0, c & FC_ODD);
	return kind_col[FC_CODE(c) < FK__COUNT ? FC_CODE(c) : FK_RESERVED];
}

static uint32_t mix(uint32_t a, uint32_t b, double t)
{
	int r = (int)((a >> 16 & 255) * (1 - t) + (b >> 16 & 255) * t);
	int gg = (int)((a >> 8 & 255) * (1 - t) + (b >> 8 & 255) * t);
	int bb = (int)((a & 255) * (1 - t) + (b & 255) * t);

	return (uint32_t)(r << 16 | gg << 8 | bb);
}

/* ---- primitives ---------------------------------------------------------- */

static void color(struct view_gfx *g, uint32_t rgb, int alpha)
{
	SDL_SetRenderDrawBlendMode(g->r, alpha < 255 ? SDL_BLENDMODE_BLEND : SDL_BLENDMODE_NONE);
	SDL_SetRenderDrawColor(g->r, rgb >> 16 & 255, rgb >> 8 & 255, rgb & 255, (Uint8)alpha);
}

static void fill(struct view_gfx *g, int x, int y, int w, int h, uint32_t rgb)
{
	SDL_Rect r = {x, y, w, h};

	if (w <= 0 || h <= 0)
		return;
	color(g, rgb, 255);
	SDL_RenderFillRect(g->r, &r);
}

static void fill_a(struct view_gfx *g, int x, int y, int w, int h, uint32_t rgb, int a)
{
	SDL_Rect r = {x, y, w, h};

	if (w <= 0 || h <= 0)
		return;
	color(g, rgb, a);
	SDL_RenderFillRect(g->r, &r);
}

static void frame_rect(struct view_gfx *g, int x, int y, int w, int h, uint32_t rgb)
{
	SDL_Rect r = {x, y, w, h};

	color(g, rgb, 255);
	SDL_RenderDrawRect(g->r, &r);
}

static void hline(struct view_gfx *g, int x0, int x1, int y, uint32_t rgb)
{
	color(g, rgb, 255);
	SDL_RenderDrawLine(g->r, x0, y, x1, y);
}

static int textf(struct view_gfx *g, int font, int x, int y, uint32_t rgb, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static int textf(struct view_gfx *g, int font, int x, int y, uint32_t rgb, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return view_text(g, font, x, y, rgb, buf);
}

static void add_hit(struct view_gfx *g, int side, int kind, int x, int y, int w, int h, uint64_t a,
                    uint64_t b)
{
	if (g->nr_hits == VIEW_MAX_HITS)
		return;
	g->hits[g->nr_hits++] = (struct view_hit){{x, y, w, h}, kind, side, a, b};
}

const struct view_hit *view_hit_at(const struct view_gfx *g, int x, int y)
{
	for (int i = g->nr_hits; i-- > 0;)
		if (view_rect_contains(&g->hits[i].r, x, y))
			return &g->hits[i];
	return NULL;
}

/* A legend chip: a square of colour and its label. Returns the x after it. */
static int chip(struct view_gfx *g, int x, int y, uint32_t rgb, const char *label, bool outline)
{
	int s = g->font[VF_SMALL].h - 4;

	if (outline) {
		fill(g, x, y + 2, s, s, COL_PANEL);
		frame_rect(g, x, y + 2, s, s, rgb);
		frame_rect(g, x + 1, y + 3, s - 2, s - 2, rgb);
	} else {
		fill(g, x, y + 2, s, s, rgb);
	}
	return x + s + 4 + view_text(g, VF_SMALL, x + s + 4, y, COL_DIM, label) + 10;
}

static struct view_rect panel(struct view_gfx *g, const struct view_rect *p, const char *title,
                              const char *sub)
{
	int fp = g->font_px;

	fill(g, p->x + 2, p->y + 2, p->w - 4, p->h - 4, COL_PANEL);
	frame_rect(g, p->x + 2, p->y + 2, p->w - 4, p->h - 4, COL_BORDER);
	int w = view_text(g, VF_BOLD, p->x + 8, p->y + 5, COL_TITLE, title);

	if (sub)
		view_text_clip(g, VF_SMALL, p->x + 16 + w, p->y + 6, p->w - 28 - w, COL_DIM, sub);
	(void)fp;
	return view_panel_body(p, g->font_px);
}

static void fmt_bytes(char *buf, size_t n, uint64_t b)
{
	if (b >= (1ULL << 40) && !(b & ((1ULL << 30) - 1)))
		snprintf(buf, n, "%" PRIu64 " GiB", b >> 30);
	else if (b >= (1ULL << 40))
		snprintf(buf, n, "%.1f TiB", (double)b / (double)(1ULL << 40));
	else if (b >= (1ULL << 30))
		snprintf(buf, n, "%.1f GiB", (double)b / (double)(1ULL << 30));
	else if (b >= (1ULL << 20))
		snprintf(buf, n, "%.1f MiB", (double)b / (double)(1ULL << 20));
	else if (b >= 1024)
		snprintf(buf, n, "%.1f KiB", (double)b / 1024.0);
	else
		snprintf(buf, n, "%" PRIu64 " B", b);
}

/* ---- narration ----------------------------------------------------------- */

/* Draw s over at most nl lines of width w, breaking at spaces; the first
   sentence bold-white, the rest plain. */
static void text_wrap(struct view_gfx *g, int x, int y, int w, int nl, int lh, const char *s)
{
	int adv = g->font[VF_NORMAL].adv, cols = adv ? w / adv : 0;
	const char *dot = strstr(s, ". ");
	size_t bold_end = dot ? (size_t)(dot - s) + 1 : strlen(s);
	size_t off = 0, len = strlen(s);
	char line[512];

	for (int l = 0; l < nl && off < len && cols > 0; l++) {
		size_t take = len - off;

		if ((int)take > cols) {
			take = (size_t)cols;
			while (take > 0 && s[off + take] != ' ')
				take--;
			if (take == 0)
				take = (size_t)cols;
			if (l == nl - 1)
				take = (size_t)cols; /* the last line is cut with an ellipsis */
		}
		if (take >= sizeof(line))
			take = sizeof(line) - 1;
		int xx = x;

		if (off < bold_end) {
			size_t nb = bold_end - off < take ? bold_end - off : take;

			memcpy(line, s + off, nb);
			line[nb] = '\0';
			xx += view_text(g, VF_BOLD, xx, y, COL_TITLE, line);
			memcpy(line, s + off + nb, take - nb);
			line[take - nb] = '\0';
		} else {
			memcpy(line, s + off, take);
			line[take] = '\0';
		}
		if (l == nl - 1 && off + take < len)
			view_text_clip(g, VF_NORMAL, xx, y, x + w - xx, COL_TEXT,
			               s + off + (xx - x) / adv);
		else
			view_text(g, VF_NORMAL, xx, y, COL_TEXT, line);
		off += take;
		while (off < len && s[off] == ' ')
			off++;
		y += lh;
	}
}

void view_narration(const struct view_model *m, char *buf, size_t n)
{
	const struct event *ev = &m->cur;
	const char *layer = probe_layer_name(ev->layer);
	const char *fn = ev->fn ? ev->fn : "?";

	if (!m->valid) {
		snprintf(buf, n,
		         "Nothing has run yet: the machine is booted and the program "
		         "loaded. Press s (or Enter) for the first event, n for the first "
		         "statement.");
		return;
	}
	if (narrate_event(ev, buf, n) > 0)
		return;
	switch (ev->kind) {
	case EV_STMT:
		snprintf(buf, n, "The program starts line %d: %s", m->stmt_line,
		         m->stmt_text ? m->stmt_text : "");
		break;
	case EV_CALL:
		snprintf(buf, n, "%s (%s) is called.", fn, layer);
		break;
	case EV_RET:
		snprintf(buf, n, "%s (%s) returns %#" PRIx64 ".", fn, layer,
		         event_field(ev, "ret", 0));
		break;
	case EV_SYSCALL:
		snprintf(buf, n, "System call %" PRIu64 ": the CPU enters the kernel.",
		         event_field(ev, "nr", 0));
		break;
	case EV_SYSRET:
		snprintf(buf, n, "Back to user space with %#" PRIx64 ".",
		         event_field(ev, "ret", 0));
		break;
	case EV_FAULT:
		snprintf(buf, n,
		         "Page fault at %#" PRIx64 " (error %#" PRIx64 " = %s%s%s): the CPU "
		         "traps into the kernel.",
		         event_field(ev, "addr", 0), event_field(ev, "error", 0),
		         event_field(ev, "error", 0) & 1 ? "protection" : "not present",
		         event_field(ev, "error", 0) & 2 ? ", write" : ", read",
		         event_field(ev, "error", 0) & 4 ? ", user" : "");
		break;
	case EV_TLB_MISS:
		snprintf(buf, n, "TLB miss for %#" PRIx64 ": the MMU walks the page tables.",
		         event_field(ev, "addr", 0));
		break;
	case EV_WALK: {
		int lv = (int)event_field(ev, "level", 1);

		snprintf(buf, n, "Walk: %s[%" PRIu64 "] = %#" PRIx64 "%s", pt_level_name(lv),
		         event_field(ev, "index", 0), event_field(ev, "entry", 0),
		         event_field(ev, "entry", 0) & PTE_P ? "" : " -- not present");
		break;
	}
	case EV_TLB_FILL:
		snprintf(buf, n, "The TLB caches page %#" PRIx64 " -> frame %#" PRIx64 ".",
		         event_field(ev, "vpn", 0), event_field(ev, "pfn", 0));
		break;
	case EV_PTE_SET:
		snprintf(buf, n, "%s: the %s entry for %#" PRIx64 " becomes %#" PRIx64 ".", fn,
		         pt_level_name((int)event_field(ev, "level", 1)),
		         event_field(ev, "addr", 0), event_field(ev, "new", 0));
		break;
	case EV_FRAME_ALLOC:
		snprintf(buf, n,
		         "The buddy allocator hands out frame %#" PRIx64 " (order %" PRIu64 ").",
		         event_field(ev, "pfn", 0), event_field(ev, "order", 0));
		break;
	case EV_FRAME_FREE:
		snprintf(buf, n,
		         "Frame %#" PRIx64 " (order %" PRIu64 ") goes back to the buddy allocator.",
		         event_field(ev, "pfn", 0), event_field(ev, "order", 0));
		break;
	case EV_BUDDY_SPLIT:
		snprintf(buf, n,
		         "Split: the upper half, frames from %#" PRIx64
		         ", goes on free_area[%" PRIu64 "].",
		         event_field(ev, "pfn", 0), event_field(ev, "order", 0));
		break;
	case EV_BUDDY_MERGE:
		snprintf(buf, n,
		         "Merge: %#" PRIx64 " and its buddy %#" PRIx64 " form an order-%" PRIu64
		         " block.",
		         event_field(ev, "pfn", 0), event_field(ev, "buddy", 0),
		         event_field(ev, "order", 0) + 1);
		break;
	case EV_ZERO_FRAME:
		snprintf(buf, n, "clear_page: frame %#" PRIx64 " is filled with zeros.",
		         event_field(ev, "pfn", 0));
		break;
	case EV_BRK:
		snprintf(buf, n, "mm->brk moves from %#" PRIx64 " to %#" PRIx64 ".",
		         event_field(ev, "old", 0), event_field(ev, "new", 0));
		break;
	case EV_VMA:
		snprintf(buf, n, "VMA %#" PRIx64 "-%#" PRIx64 ": %s", event_field(ev, "start", 0),
		         event_field(ev, "end", 0), ev->text ? ev->text : "changed");
		break;
	default:
		snprintf(buf, n, "%s (%s): %s%s%s", fn, layer, probe_kind_name(ev->kind),
		         ev->text ? " -- " : "", ev->text ? ev->text : "");
		break;
	}
}

/* ---- the call path --------------------------------------------------------- */

static void draw_path(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si)
{
	struct view_model *m = si->m;
	int fp = g->font_px, lh = fp + 5, x, y = p->y + 6;
	int right = p->x + p->w - 10;
	char buf[512];

	fill(g, p->x + 2, p->y + 2, p->w - 4, p->h - 4, COL_PANEL);
	frame_rect(g, p->x + 2, p->y + 2, p->w - 4, p->h - 4, COL_BORDER);
	x = p->x + 10;
	if (si->title)
		x += textf(g, VF_BOLD, x, y, COL_ACTIVE, "[%s] ", si->title);
	if (m->task_label[0]) /* the task the CPU runs */
		x += textf(g, VF_BOLD, x, y, COL_TITLE, "%s  ", m->task_label);
	if (m->stmt_text) {
		x += textf(g, VF_BOLD, x, y, layer_col[LAYER_USER], "line %d", m->stmt_line);
		if (m->stmt_task[0]) /* run in a thread or another process (`in`) */
			x += textf(g, VF_BOLD, x, y, COL_ACTIVE, " in %s", m->stmt_task);
		x += textf(g, VF_BOLD, x, y, layer_col[LAYER_USER], ": %s", m->stmt_text);
		if (m->stmt_loops[0])
			x += textf(g, VF_SMALL, x, y + 1, COL_DIM, "   (%s)", m->stmt_loops);
	} else if (m->finished) {
		x += view_text(g, VF_BOLD, x, y, m->dead ? COL_BAD : COL_OK,
		               m->dead ? "the program was killed" : "the program has ended");
	} else {
		x += view_text(g, VF_BOLD, x, y, COL_DIM, "before the first statement");
	}
	/* Open calls, outermost first; the middle is elided when too long. */
	int aw = g->font[VF_NORMAL].adv, total = 0, first = 0;

	for (unsigned i = 0; i < m->depth; i++)
		total += (int)(strlen(m->path[i]) + 3) * aw;
	while (first < (int)m->depth - 1 && x + total + 4 * aw > right) {
		total -= (int)(strlen(m->path[first]) + 3) * aw;
		first++;
	}
	if (first > 0) {
		x += view_text(g, VF_NORMAL, x, y, COL_DIM, " \xe2\x86\x92 \xe2\x80\xa6");
	}
	for (unsigned i = (unsigned)first; i < m->depth; i++) {
		uint32_t c = layer_col[m->path_layer[i] < LAYER__COUNT ? m->path_layer[i] : 0];
		bool last = i + 1 == m->depth;

		x += view_text(g, VF_NORMAL, x, y, COL_DIM, " \xe2\x86\x92 ");
		if (last) {
			int w = view_text_width(g, VF_BOLD, m->path[i]);

			fill_a(g, x - 2, y - 1, w + 4, fp + 4, c, 50);
			frame_rect(g, x - 2, y - 1, w + 4, fp + 4, c);
		}
		x += view_text_clip(g, last ? VF_BOLD : VF_NORMAL, x, y, right - x, c, m->path[i]);
	}
	/* Narration (two lines, wrapped at words), then the event itself. */
	y += lh + 2;
	view_narration(m, buf, sizeof(buf));
	text_wrap(g, p->x + 10, y, p->w - 20, 2, lh, buf);
	y += 2 * lh;
	if (m->dead && m->death[0]) {
		view_text_clip(g, VF_NORMAL, p->x + 10, y, p->w - 20, COL_BAD, m->death);
	} else if (m->valid) {
		event_format(&m->cur, buf, sizeof(buf));
		x = p->x + 10 + textf(g, VF_SMALL, p->x + 10, y + 1, COL_DIM, "event ");
		view_text_clip(g, VF_SMALL, x, y + 1, p->w - 30 - (x - p->x),
		               layer_col[m->cur.layer % 4], buf);
	}
	y += lh;
	x = p->x + 10;
	x += textf(g, VF_SMALL, x, y, COL_DIM, "statement %zu of %zu   malloc policy %s   ",
	           m->stmt_idx < m->nr_stmts ? m->stmt_idx + 1 : m->nr_stmts, m->nr_stmts,
	           m->policy ? m->policy : "?");
	for (int l = 0; l < LAYER__COUNT; l++)
		x = chip(g, x, y, layer_col[l], probe_layer_name(l), false);
}

/* ---- the address space ------------------------------------------------------ */

struct vas_item {
	int vma; /* index, or -1 for a gap, -2 for the empty heap */
	vaddr_t lo, hi;
	double weight;
	int y, h;
};

/*
 * One address space in b: its VMAs top (high addresses) to bottom, on a
 * non-linear scale, the break in the heap, the current address when
 * with_addr. hb: the HIT_VMA's b (0 the selected process, 1 the other).
 */
static void draw_space(struct view_gfx *g, struct view_rect b, const struct view_model *m,
                       const struct vm_area_struct *vmas, size_t nr_vmas, vaddr_t start_brk,
                       vaddr_t brk, bool with_addr, int side, int hb)
{
	struct vas_item it[2 * VM_MAX_VMAS + 2];
	int n = 0, sh = g->font[VF_SMALL].h, lh = g->font_px + 2;
	bool have_heap = false, narrow = b.w < 200;
	double wsum = 0;

	for (size_t i = 0; i < nr_vmas; i++)
		have_heap |= vmas[i].kind == VMA_HEAP;
	/* Top (high addresses) to bottom. */
	for (int i = (int)nr_vmas - 1; i >= 0; i--) {
		const struct vm_area_struct *v = &vmas[i];
		uint64_t pages = (v->vm_end - v->vm_start) >> PAGE_SHIFT;
		double w = 2.0 + log2((double)(pages ? pages : 1)) * 0.35;

		if (v->kind == VMA_HEAP)
			w += 2.5; /* room for the brk marks */
		it[n++] = (struct vas_item){i, v->vm_start, v->vm_end, w, 0, 0};
		if (i > 0) {
			const struct vm_area_struct *lo = &vmas[i - 1];

			if (!have_heap && lo->kind == VMA_DATA && start_brk >= lo->vm_end)
				it[n++] = (struct vas_item){-2, start_brk, brk, 3.0, 0, 0};
			if (v->vm_start > lo->vm_end)
				it[n++] = (struct vas_item){-1, lo->vm_end, v->vm_start, 1.1, 0, 0};
		}
	}
	for (int i = 0; i < n; i++)
		wsum += it[i].weight;
	int avail = b.h, y = b.y;

	for (int i = 0; i < n; i++) {
		it[i].h = (int)(avail * it[i].weight / wsum);
		it[i].y = y;
		y += it[i].h;
	}
	int bx = b.x + 14, bw = b.w * 30 / 100, lx = bx + bw + 8, lw = b.x + b.w - lx;
	char s1[96], s2[32];

	if (bw > 90)
		bw = 90, lx = bx + bw + 8, lw = b.x + b.w - lx;
	for (int i = 0; i < n; i++) {
		struct vas_item *v = &it[i];

		if (v->vma == -1) {
			int cy = v->y + v->h / 2;

			for (int x = bx; x < bx + bw; x += 6)
				hline(g, x, x + 3, cy, COL_DIM);
			fmt_bytes(s1, sizeof(s1), v->hi - v->lo);
			snprintf(s1 + strlen(s1), sizeof(s1) - strlen(s1), "%s",
			         narrow ? "" : " unmapped");
			textf(g, VF_SMALL, lx, cy - sh / 2, COL_DIM, "\xe2\x89\x88 %s", s1);
			continue;
		}
		if (v->vma == -2) {
			hline(g, bx, bx + bw, v->y + v->h - 2, COL_BRK);
			view_text_clip(g, VF_SMALL, lx, v->y, lw, vma_col[VMA_HEAP], "heap: empty");
			view_text_clip(g, VF_SMALL, lx, v->y + sh, lw, COL_BRK, "start_brk = brk");
			snprintf(s1, sizeof(s1), "%#" PRIx64, brk);
			view_text_clip(g, VF_SMALL, lx, v->y + 2 * sh, lw, COL_BRK, s1);
			continue;
		}
		const struct vm_area_struct *a = &vmas[v->vma];
		uint32_t c = vma_col[a->kind >= 0 && a->kind <= VMA_STACK ? a->kind : VMA_ANON];
		const char *name = vma_name[a->kind <= VMA_STACK ? a->kind : 4];
		char arena_name[16];

		/* a mapping inside a glibc heap reservation: its arena's */
		for (unsigned i = 1; hb == 0 && i < m->nr_arenas; i++)
			for (unsigned j = 0; j < m->arenas[i].nr_heaps; j++) {
				const struct vm_heap *h = &m->arenas[i].heaps[j];

				if (a->vm_start >= h->start && a->vm_end <= h->start + h->reserved) {
					snprintf(arena_name, sizeof(arena_name), "arena %u",
					         m->arenas[i].nr);
					name = arena_name;
				}
			}
		int hh = v->h - 2 > 1 ? v->h - 2 : 1;

		fill(g, bx, v->y + 1, bw, hh, c);
		frame_rect(g, bx, v->y + 1, bw, hh, mix(c, 0xffffff, 0.4));
		add_hit(g, side, HIT_VMA, bx, v->y, b.x + b.w - bx, v->h, (uint64_t)v->vma,
		        (uint64_t)hb);
		fmt_bytes(s2, sizeof(s2), a->vm_end - a->vm_start);
		int ly = v->y + 1;

		if (v->h >= sh && narrow) {
			/* name, then size and rights, each clipped to the column */
			view_text_clip(g, VF_BOLD, lx, ly, lw, c, name);
			ly += lh;
			if (v->h >= sh + lh) {
				snprintf(s1, sizeof(s1), "%s %c%c%c", s2,
				         a->vm_flags & VM_READ ? 'r' : '-',
				         a->vm_flags & VM_WRITE ? 'w' : '-',
				         a->vm_flags & VM_EXEC ? 'x' : '-');
				view_text_clip(g, VF_SMALL, lx, ly, lw, COL_TEXT, s1);
				ly += sh;
			}
		} else if (v->h >= sh) {
			textf(g, VF_BOLD, lx, ly, c, "%s", name);
			textf(g, VF_SMALL, lx + (strlen(name) > 6 ? 8 : 7) * g->font[VF_BOLD].adv,
			      ly + 1, COL_TEXT,
			      "%s %c%c%c", s2, a->vm_flags & VM_READ ? 'r' : '-',
			      a->vm_flags & VM_WRITE ? 'w' : '-',
			      a->vm_flags & VM_EXEC ? 'x' : '-');
			ly += lh;
			if (v->h >= sh + lh) {
				snprintf(s1, sizeof(s1), "%" PRIx64 "-%" PRIx64, a->vm_start,
				         a->vm_end);
				view_text_clip(g, VF_SMALL, lx, ly, lw, COL_DIM, s1);
				ly += sh;
			}
		}
		/* The break inside the heap VMA, proportionally. */
		if (a->kind == VMA_HEAP) {
			double span = (double)(a->vm_end - a->vm_start);
			int yb = v->y + 1 + hh - (int)(hh * (double)(brk - a->vm_start) / span);
			int ys = v->y + 1 + hh -
			         (int)(hh * ((double)start_brk - (double)a->vm_start) / span);

			if (yb < v->y + 1)
				yb = v->y + 1;
			if (ys > v->y + hh)
				ys = v->y + hh;
			fill(g, bx - 6, yb - 1, bw + 12, 3, COL_BRK);
			fill(g, bx - 6, ys - 1, bw + 12, 2, COL_START_BRK);
			if (ly + 2 * sh <= v->y + v->h) {
				snprintf(s1, sizeof(s1), "brk %#" PRIx64, brk);
				view_text_clip(g, VF_SMALL, lx, ly, lw, COL_BRK, s1);
				snprintf(s1, sizeof(s1), "start_brk %#" PRIx64, start_brk);
				view_text_clip(g, VF_SMALL, lx, ly + sh, lw, COL_START_BRK, s1);
			}
		}
		/* The current address. */
		if (with_addr && m->have_addr && m->addr >= a->vm_start && m->addr < a->vm_end) {
			double f =
			    (double)(m->addr - a->vm_start) / (double)(a->vm_end - a->vm_start);
			int ya = v->y + 1 + hh - (int)(hh * f) - sh / 2;

			if (ya > v->y + v->h - sh)
				ya = v->y + v->h - sh;
			if (ya < v->y)
				ya = v->y;
			view_text(g, VF_SMALL, bx - 12, ya, COL_ACTIVE, "\xe2\x96\xb8");
		}
	}
}

/*
 * The process selector, one line: every task by pid, the one shown boxed,
 * the running one marked, zombies dim. Each is a HIT_TASK (a click selects
 * it). Returns the height used.
 */
static int draw_selector(struct view_gfx *g, const struct view_rect *b, const struct view_model *m,
                         int side)
{
	int sh = g->font[VF_SMALL].h, x = b->x + 2, y = b->y;
	char lab[32];

	x += view_text(g, VF_SMALL, x, y, COL_DIM, "process ");
	for (size_t i = 0; i < m->nr_tasks; i++) {
		const struct vm_task *t = &m->tasks[i];
		bool sel = t->pid == m->sel_pid;
		uint32_t c = !t->has_mm ? COL_DIM : sel ? COL_TITLE : COL_TEXT;
		int w;

		snprintf(lab, sizeof(lab), "%s%s%d%s", t->current ? "\xe2\x96\xb8" : "",
		         t->pid != t->tgid ? "t" : "", t->pid, t->state == 'Z' ? "Z" : "");
		w = view_text_width(g, VF_SMALL, lab) + 8;
		if (x + w > b->x + b->w)
			break;
		if (sel)
			frame_rect(g, x, y - 1, w, sh + 2, COL_ACTIVE);
		view_text(g, VF_SMALL, x + 4, y, c, lab);
		add_hit(g, side, HIT_TASK, x, y - 1, w, sh + 2, (uint64_t)t->pid, 0);
		x += w + 2;
	}
	return sh + 4;
}

static void draw_vas(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                     int side)
{
	struct view_model *m = si->m;
	struct view_rect b = panel(g, p, "virtual address space", "not to scale");
	int sh = g->font[VF_SMALL].h;

	if (m->nr_tasks > 1) {
		int used = draw_selector(g, &b, m, side);

		b.y += used;
		b.h -= used;
	}
	b.h -= sh + 4; /* the legend */
	if (m->other.pid) {
		/* Both address spaces side by side: the selected one, the other. */
		struct view_rect l = b, r = b;
		char t[48];

		l.w = b.w / 2 - 2;
		r.x = b.x + b.w / 2 + 2;
		r.w = b.w - b.w / 2 - 2;
		snprintf(t, sizeof(t), "pid %d rss %" PRIu64, m->sel_pid, m->rss);
		view_text_clip(g, VF_SMALL, l.x + 2, l.y, l.w - 4, COL_TITLE, t);
		snprintf(t, sizeof(t), "pid %d %s rss %" PRIu64, m->other.pid,
		         m->other.pid < m->sel_pid ? "parent" : "child", m->other.rss);
		view_text_clip(g, VF_SMALL, r.x + 2, r.y, r.w - 4, COL_TEXT, t);
		for (int yy = b.y; yy < b.y + b.h; yy += 4)
			fill(g, b.x + b.w / 2, yy, 1, 2, COL_BORDER);
		l.y += sh + 2;
		l.h -= sh + 2;
		r.y += sh + 2;
		r.h -= sh + 2;
		draw_space(g, l, m, m->vmas, m->nr_vmas, m->start_brk, m->brk, true, side, 0);
		draw_space(g, r, m, m->other.vmas, m->other.nr_vmas, m->other.start_brk,
		           m->other.brk, true, side, 1);
	} else {
		draw_space(g, b, m, m->vmas, m->nr_vmas, m->start_brk, m->brk, true, side, 0);
	}
	/* Legend */
	int x = b.x, ly = b.y + b.h + 4;

	x = chip(g, x, ly, COL_BRK, "brk", false);
	x = chip(g, x, ly, COL_START_BRK, "start_brk", false);
	textf(g, VF_SMALL, x, ly, COL_ACTIVE, "\xe2\x96\xb8 address");
}

/* ---- the heap ----------------------------------------------------------------- */

#define COL_HEAP_RW   VIEW_COL_HEAP_RW
#define COL_HEAP_NONE VIEW_COL_HEAP_NONE

/*
 * glibc's arenas (when the program has more than one): the selector, one
 * line (every arena by number, the one shown boxed, the followed thread's
 * marked), the shown arena's figures and threads, and for a non-main arena
 * each of its heaps (the newest three): the HEAP_MAX_SIZE reservation as a
 * bar, its read-write part (from the VMAs) and the PROT_NONE rest, not to
 * scale. Returns the height used.
 */
static int draw_arenas(struct view_gfx *g, const struct view_rect *b, const struct view_model *m,
                       int side)
{
	const struct vm_arena *a = &m->arenas[m->sel_arena];
	int sh = g->font[VF_SMALL].h, x = b->x, y = b->y, right = b->x + b->w;
	char lab[160], s1[32], s2[32];

	x += view_text(g, VF_SMALL, x, y, COL_DIM, "arena ");
	for (unsigned i = 0; i < m->nr_arenas; i++) {
		bool sel = i == m->sel_arena;
		int w;

		snprintf(lab, sizeof(lab), "%s%s", (int)i == m->cur_arena ? "\xe2\x96\xb8" : "",
		         i == 0 ? "main" : "");
		if (i)
			snprintf(lab + strlen(lab), sizeof(lab) - strlen(lab), "%u", m->arenas[i].nr);
		w = view_text_width(g, VF_SMALL, lab) + 8;
		if (x + w > right)
			break;
		if (sel)
			frame_rect(g, x, y - 1, w, sh + 2, COL_ACTIVE);
		view_text(g, VF_SMALL, x + 4, y, sel ? COL_TITLE : COL_TEXT, lab);
		add_hit(g, side, HIT_ARENA, x, y - 1, w, sh + 2, i, 0);
		x += w + 2;
	}
	if (m->nr_arenas_total > m->nr_arenas)
		x += textf(g, VF_SMALL, x + 4, y, COL_DIM, "+%u", m->nr_arenas_total - m->nr_arenas) + 4;
	if (m->cur_arena < 0)
		snprintf(lab, sizeof(lab), "(tid %d: no arena yet)  a: next", m->arena_tid);
	else
		snprintf(lab, sizeof(lab), "\xe2\x96\xb8 tid %d's arena    a: next  A: follow",
		         m->arena_tid);
	view_text_clip(g, VF_SMALL, x + 10, y, right - x - 10, COL_DIM, lab);
	y += sh + 3;

	/* its figures and its threads */
	fmt_bytes(s1, sizeof(s1), a->system_mem);
	x = b->x + textf(g, VF_SMALL, b->x, y, COL_TITLE, "%s%.0u", a->nr ? "arena " : "main_arena",
	                 a->nr);
	x += textf(g, VF_SMALL, x, y, COL_DIM, " at %#" PRIx64 "  system_mem ", a->av);
	x += view_text(g, VF_SMALL, x, y, COL_TEXT, s1);
	lab[0] = '\0';
	for (unsigned i = 0; i < a->nr_tids; i++)
		snprintf(lab + strlen(lab), sizeof(lab) - strlen(lab), "%s%d", i ? ", " : "",
		         a->tids[i]);
	if (a->nr_tids)
		x += view_text(g, VF_SMALL, x, y, COL_DIM, "  attached: tid ");
	else
		x += view_text(g, VF_SMALL, x, y, COL_DIM,
		               a->on_free_list ? "  no thread (free_list)" : "  no thread");
	view_text_clip(g, VF_SMALL, x, y, right - x, COL_TEXT, lab);
	y += sh + 3;
	if (!a->nr_heaps)
		return y - b->y;

	/* its heaps, newest first (at most three bars): the reservation,
	   read-write then PROT_NONE */
	int bw = b->w, bh = sh + 2;
	unsigned nh = a->nr_heaps < 3 ? a->nr_heaps : 3;

	for (unsigned k = 0; k < nh; k++) {
		const struct vm_heap *h = &a->heaps[k];
		double frac =
		    h->reserved ? (double)(h->rw_end - h->start) / (double)h->reserved : 0;
		int rw = (int)(bw * (frac > 0.3 ? frac : 0.3));
		bool last = k + 1 == nh && a->nr_heaps_total > nh;

		if (rw > bw - bw / 4)
			rw = bw - bw / 4; /* room for the PROT_NONE label */
		fmt_bytes(s1, sizeof(s1), h->rw_end - h->start);
		fmt_bytes(s2, sizeof(s2), h->none_end - h->rw_end);
		fill(g, b->x, y, rw, bh, COL_HEAP_RW);
		fill(g, b->x + rw, y, bw - rw, bh, COL_HEAP_NONE);
		for (int xx = b->x + rw + 4; xx < b->x + bw; xx += 8) /* hatched: no access */
			fill(g, xx, y + 1, 1, bh - 2, mix(COL_HEAP_NONE, 0, 0.35));
		frame_rect(g, b->x, y, bw, bh, mix(COL_HEAP_NONE, 0xffffff, 0.3));
		snprintf(lab, sizeof(lab), "rw %s", s1);
		view_text_clip(g, VF_SMALL, b->x + 3, y + 1, rw - 6, 0x101010, lab);
		fmt_bytes(s1, sizeof(s1), h->reserved);
		snprintf(lab, sizeof(lab), "PROT_NONE %s of the %s heap at %#" PRIx64 "%s", s2, s1,
		         h->start, last ? "; older heaps not shown" : "");
		view_text_clip(g, VF_SMALL, b->x + rw + 4, y + 1, bw - rw - 8, COL_TEXT, lab);
		y += bh + 2;
	}
	return y + 1 - b->y;
}

static void draw_heap(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                      int side)
{
	struct view_model *m = si->m;
	char sub[96], s1[48];
	int sh = g->font[VF_SMALL].h, n = 0;
	size_t nmm = 0;

	for (size_t i = 0; i < m->nr_chunks; i++)
		m->chunks[i].mmapped ? nmm++ : (void)0;
	snprintf(sub, sizeof(sub), "%s: %zu chunk%s%s", m->policy ? m->policy : "?",
	         m->nr_chunks_total, m->nr_chunks_total == 1 ? "" : "s",
	         nmm ? " (some mmapped)" : "");
	if (m->nr_arenas > 1)
		snprintf(sub + strlen(sub), sizeof(sub) - strlen(sub), " in %s of pid %d",
		         m->sel_arena ? "this arena" : "main_arena", m->sel_pid);
	struct view_rect b = panel(g, p, "heap", sub);
	const struct vm_arena *ar = m->nr_arenas > 1 ? &m->arenas[m->sel_arena] : NULL;

	if (ar) {
		int used = draw_arenas(g, &b, m, side);

		b.y += used;
		b.h -= used;
	}
	int strip_y = b.y + 2, strip_h = 2 * g->font_px + 6;
	int maxn = b.w / 7;
	double wsum = 0;

	for (size_t i = 0; i < m->nr_chunks && n < maxn; i++)
		if (!m->chunks[i].mmapped) {
			wsum += 1.0 + log2(1.0 + (double)m->chunks[i].size / 32.0);
			n++;
		}
	if (!n) {
		view_text_clip(g, VF_NORMAL, b.x, strip_y + 4, b.w, COL_DIM,
		               m->brk == m->start_brk ? "no heap yet: brk == start_brk"
		                                      : "no malloc chunk yet: malloc has not set "
		                                        "up its heap (sbrk alone makes none)");
	}
	int x = b.x, drawn = 0;
	const struct vm_chunk *hl = NULL;

	for (size_t i = 0; i < m->nr_chunks && drawn < n; i++) {
		const struct vm_chunk *c = &m->chunks[i];

		if (c->mmapped)
			continue;
		double wt = 1.0 + log2(1.0 + (double)c->size / 32.0);
		int w = drawn == n - 1 ? b.x + b.w - x : (int)(b.w * wt / wsum);
		uint32_t col = c->top ? COL_CH_TOP : c->in_use ? COL_CH_USE : COL_CH_FREE;
		uint64_t hdr = c->user > c->chunk ? c->user - c->chunk : 16;
		int hw = w / 5 > 10 ? 10 : w / 5;

		(void)hdr;
		if (hw < 2)
			hw = 2;
		fill(g, x, strip_y, w - 1, strip_h, col);
		fill(g, x, strip_y, hw, strip_h, mix(col, 0, 0.5));
		if (m->heap_touched &&
		    (m->heap_touched == c->chunk || m->heap_touched == c->user)) {
			hl = c;
			frame_rect(g, x - 1, strip_y - 1, w + 1, strip_h + 2, COL_ACTIVE);
			frame_rect(g, x, strip_y, w - 1, strip_h, COL_ACTIVE);
		}
		fmt_bytes(s1, sizeof(s1), c->size);
		if (w - hw - 4 > view_text_width(g, VF_SMALL, s1))
			view_text(g, VF_SMALL, x + hw + 3, strip_y + 2, 0x101010, s1);
		if (w - hw - 4 > view_text_width(g, VF_SMALL, c->where))
			view_text(g, VF_SMALL, x + hw + 3, strip_y + 2 + sh, 0x202020, c->where);
		add_hit(g, side, HIT_CHUNK, x, strip_y, w, strip_h, i, 0);
		x += w;
		drawn++;
	}
	int y = strip_y + strip_h + 3;

	if (n) {
		const struct vm_chunk *f = NULL, *l = NULL;

		for (size_t i = 0; i < m->nr_chunks; i++)
			if (!m->chunks[i].mmapped) {
				f = f ? f : &m->chunks[i];
				l = &m->chunks[i];
			}
		int lw = textf(g, VF_SMALL, b.x, y, COL_DIM, "%#" PRIx64, f->chunk), rw;
		char more[48];

		if (ar && ar->nr_heaps) /* the end of the newest heap's used part */
			snprintf(s1, sizeof(s1), "heap end %#" PRIx64,
			         ar->heaps[0].start + ar->heaps[0].size);
		else
			snprintf(s1, sizeof(s1), "brk %#" PRIx64, m->brk);
		rw = view_text_width(g, VF_SMALL, s1);
		view_text(g, VF_SMALL, b.x + b.w - rw, y, ar && ar->nr_heaps ? COL_DIM : COL_BRK, s1);
		if (m->nr_chunks_total > (size_t)drawn + nmm) {
			snprintf(more, sizeof(more), "+%zu more chunks",
			         m->nr_chunks_total - (size_t)drawn - nmm);
			if (view_text_width(g, VF_SMALL, more) + 24 < b.w - lw - rw)
				view_text(g, VF_SMALL,
				          b.x + lw + (b.w - lw - rw - view_text_width(g, VF_SMALL, more)) / 2,
				          y, COL_DIM, more);
		}
		(void)l;
		y += sh + 2;
	}
	if (hl) {
		textf(g, VF_SMALL, b.x, y, COL_ACTIVE,
		      "just changed: chunk %#" PRIx64 ", %" PRIu64 " bytes, %s", hl->chunk,
		      hl->size, hl->in_use ? "in use" : hl->where);
		y += sh + 2;
	}
	if (nmm && y + sh <= b.y + b.h - sh) {
		int xm = b.x + view_text(g, VF_SMALL, b.x, y, COL_DIM, "mmapped: ");

		for (size_t i = 0; i < m->nr_chunks; i++) {
			const struct vm_chunk *c = &m->chunks[i];

			if (!c->mmapped)
				continue;
			fmt_bytes(s1, sizeof(s1), c->size);
			int w = view_text_width(g, VF_SMALL, s1) + 8;

			if (xm + w > b.x + b.w)
				break;
			fill(g, xm, y, w - 2, sh, COL_CH_MMAP);
			view_text(g, VF_SMALL, xm + 3, y, 0x101010, s1);
			add_hit(g, side, HIT_CHUNK, xm, y, w, sh, i, 0);
			xm += w;
		}
	}
	int lx = b.x, ly = b.y + b.h - sh;

	lx = chip(g, lx, ly, COL_CH_USE, "in use", false);
	lx = chip(g, lx, ly, COL_CH_FREE, "free", false);
	lx = chip(g, lx, ly, COL_CH_TOP, "top", false);
	if (ar && ar->nr_heaps) {
		lx = chip(g, lx, ly, COL_HEAP_RW, "rw", false);
		lx = chip(g, lx, ly, COL_HEAP_NONE, "PROT_NONE", false);
	} else {
		lx = chip(g, lx, ly, mix(COL_CH_USE, 0, 0.5), "header", false);
	}
	if (nmm)
		lx = chip(g, lx, ly, COL_CH_MMAP, "mmapped", false);
	chip(g, lx, ly, COL_ACTIVE, "just changed", true);
}

/* ---- the page walk --------------------------------------------------------------- */

static const uint32_t level_col[5] = {0x5ac86e, 0xe6b450, 0xd27878, 0x78a0e6, 0xb48cdc};

static void draw_walk(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                      int side)
{
	struct view_model *m = si->m;
	char sub[96], fl[64];
	int fp = g->font_px, lh = fp + 6, sh = g->font[VF_SMALL].h;

	snprintf(sub, sizeof(sub), "of %s", m->addr_why ? m->addr_why : "-");
	struct view_rect b = panel(g, p, "page walk", sub);
	int y = b.y, x;

	if (!m->have_addr) {
		view_text(g, VF_NORMAL, b.x, y, COL_DIM, "no address yet");
		return;
	}
	textf(g, VF_BOLD, b.x, y, COL_ACTIVE, "va %#018" PRIx64, m->addr);
	y += lh;
	/* The address bits, split as the MMU reads them. */
	static const char *const nm[5] = {"PML4", "PDPT", "PD", "PT", "offset"};
	int bits[5] = {9, 9, 9, 9, 12}, wtot = b.w - 2;

	x = b.x;
	for (int i = 0; i < 5; i++) {
		int lvl = 4 - i; /* 4..1, then 0 for the offset */
		int w = i == 4 ? b.x + wtot - x : wtot * bits[i] / 48;
		unsigned val = i < 4 ? pt_index(m->addr, lvl) : (unsigned)(m->addr & 0xfff);
		uint32_t c = level_col[lvl];
		bool act = m->active_level == lvl;

		fill_a(g, x, y, w - 2, 2 * sh + 4, c, act ? 150 : 60);
		frame_rect(g, x, y, w - 2, 2 * sh + 4, act ? COL_ACTIVE : c);
		textf(g, VF_SMALL, x + 3, y + 1, COL_TEXT, "%s", nm[i]);
		textf(g, VF_SMALL, x + 3, y + 1 + sh, COL_TITLE, i < 4 ? "%u" : "%#x", val);
		x += w;
	}
	y += 2 * sh + 8;
	/* One row per level read. */
	int cx[6] = {b.x,
	             b.x + 6 * g->font[VF_SMALL].adv,
	             b.x + 17 * g->font[VF_SMALL].adv,
	             b.x + 24 * g->font[VF_SMALL].adv,
	             b.x + 43 * g->font[VF_SMALL].adv,
	             0};

	textf(g, VF_SMALL, cx[0], y, COL_DIM, "level");
	textf(g, VF_SMALL, cx[1], y, COL_DIM, "table");
	textf(g, VF_SMALL, cx[2], y, COL_DIM, "index");
	textf(g, VF_SMALL, cx[3], y, COL_DIM, "entry");
	textf(g, VF_SMALL, cx[4], y, COL_DIM, "bits");
	y += sh + 2;
	for (int lvl = 4; lvl >= 1; lvl--) {
		int i = 4 - lvl;
		bool read = i < m->walk.depth;
		bool act = m->active_level == lvl;
		pte_t e = read ? m->walk.entry[i] : 0;

		if (act) {
			fill_a(g, b.x - 3, y - 2, b.w + 4, lh, COL_ACTIVE,
			       60 + (int)(80 * (1 - g->anim)));
			frame_rect(g, b.x - 3, y - 2, b.w + 4, lh, COL_ACTIVE);
		}
		textf(g, VF_BOLD, cx[0], y, level_col[lvl], "%s", pt_level_name(lvl));
		if (!read) {
			textf(g, VF_SMALL, cx[1], y + 1, COL_DIM, "-- not reached: no table yet");
			y += lh;
			continue;
		}
		add_hit(g, side, HIT_PTE, b.x, y - 2, b.w, lh, (uint64_t)lvl, e);
		textf(g, VF_SMALL, cx[1], y + 1, COL_TEXT, "pfn %#" PRIx64, m->walk.table[i]);
		textf(g, VF_SMALL, cx[2], y + 1, COL_TEXT, "[%u]", m->walk.index[i]);
		textf(g, VF_SMALL, cx[3], y + 1, pte_present(e) ? COL_TEXT : COL_BAD,
		      "%#018" PRIx64, e);
		/* Flag chips: lit when set. */
		static const struct {
			pte_t bit;
			const char *n;
		} fb[] = {{PTE_P, "P"}, {PTE_RW, "RW"}, {PTE_US, "US"},
		          {PTE_A, "A"}, {PTE_D, "D"},   {PTE_NX, "NX"}};
		int fx = cx[4];

		for (size_t k = 0; k < sizeof(fb) / sizeof(fb[0]); k++) {
			int w = view_text_width(g, VF_SMALL, fb[k].n) + 4;
			bool on = e & fb[k].bit;

			if (fx + w > b.x + b.w)
				break;
			if (on)
				fill(g, fx, y, w, sh, level_col[lvl]);
			else
				frame_rect(g, fx, y, w, sh, COL_BORDER);
			view_text(g, VF_SMALL, fx + 2, y, on ? 0x101010 : COL_DIM, fb[k].n);
			fx += w + 2;
		}
		y += lh;
	}
	/* The frame at the end. */
	bool act = m->active_level == 0;

	if (act) {
		fill_a(g, b.x - 3, y - 2, b.w + 4, lh, COL_ACTIVE, 80);
		frame_rect(g, b.x - 3, y - 2, b.w + 4, lh, COL_ACTIVE);
	}
	if (m->leaf && pte_present(m->leaf)) {
		pte_format_flags(m->leaf, fl, sizeof(fl));
		textf(g, VF_BOLD, cx[0], y, level_col[0], "frame");
		textf(g, VF_SMALL, cx[1], y + 1, COL_TEXT,
		      "pfn %#" PRIx64 " = paddr %#" PRIx64 " + offset %#" PRIx64, pte_pfn(m->leaf),
		      pfn_to_paddr(pte_pfn(m->leaf)), m->addr & 0xfff);
	} else if (is_swap_pte(m->walk.entry[PT_LEVELS - 1]) && m->walk.depth == PT_LEVELS) {
		pte_t e = m->walk.entry[PT_LEVELS - 1];

		textf(g, VF_BOLD, cx[0], y, COL_SWAP, "swap");
		textf(g, VF_SMALL, cx[1], y + 1, COL_SWAP,
		      "swap entry: type %u, offset %" PRIu64 " (inverted): a major fault",
		      pte_swp_type(e), pte_swp_offset(e));
	} else {
		textf(g, VF_BOLD, cx[0], y, COL_BAD, "frame");
		textf(g, VF_SMALL, cx[1], y + 1, COL_BAD,
		      "none: the entry is not present, an access raises #PF");
	}
	y += lh;
	if (y + sh <= b.y + b.h) {
		int lx = b.x;

		lx = chip(g, lx, b.y + b.h - sh, COL_ACTIVE, "level being read or filled", true);
		chip(g, lx, b.y + b.h - sh, level_col[1], "bit set", false);
	}
}

/* ---- counters and TLB ------------------------------------------------------------- */

static void draw_tlb(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                     bool compact)
{
	struct view_model *m = si->m;
	char sub[64], v[8][64];
	int sh = g->font[VF_SMALL].h, y;
	unsigned valid = 0;

	for (unsigned i = 0; i < m->tlb_sets * m->tlb_ways; i++)
		valid += m->tlb[i].vpn != TLB_VPN_NONE;
	snprintf(sub, sizeof(sub), "TLB %u/%u entries valid", valid, m->tlb_sets * m->tlb_ways);
	struct view_rect b = panel(g, p, compact ? "counters" : "counters and TLB", sub);
	const char *lab[8] = {"page faults", "TLB hits",    "TLB misses",     "RSS pages",
	                      "free frames", "page tables", "brk/mmap calls", "event"};

	snprintf(v[0], 64, "%" PRIu64 " (stmt: %" PRIu64 ")", m->faults, m->stmt_faults);
	snprintf(v[1], 64, "%" PRIu64, m->tlb_hits);
	snprintf(v[2], 64, "%" PRIu64, m->tlb_misses);
	snprintf(v[3], 64, "%" PRIu64 " (%" PRIu64 " KiB)", m->rss, m->rss * 4);
	snprintf(v[4], 64, "%" PRIu64 " of %" PRIu64, m->free_pages, m->managed);
	snprintf(v[5], 64, "%" PRIu64, m->pt_pages);
	snprintf(v[6], 64, "%" PRIu64 " / %" PRIu64, m->brk_calls, m->mmap_calls);
	snprintf(v[7], 64, "#%" PRIu64, m->seq);
	int lw = 15 * g->font[VF_SMALL].adv,
	    ncol = b.w / 2 >= lw + 11 * g->font[VF_SMALL].adv ? 2 : 1;
	int colw = b.w / ncol;

	y = b.y;
	for (int i = 0; i < 8; i++) {
		int x = b.x + (i % ncol) * colw, yy = y + (i / ncol) * (sh + 3);

		if (yy + sh > b.y + b.h)
			break;

		view_text(g, VF_SMALL, x, yy, COL_DIM, lab[i]);
		view_text_clip(g, VF_SMALL, x + lw, yy, colw - lw - 4, COL_TITLE, v[i]);
	}
	y += (8 / ncol) * (sh + 3) + 4;
	if (compact)
		return;
	hline(g, b.x, b.x + b.w, y, COL_BORDER);
	y += 4;
	textf(g, VF_SMALL, b.x, y, COL_DIM, "TLB: %u sets x %u ways, vpn \xe2\x86\x92 pfn, W U D",
	      m->tlb_sets, m->tlb_ways);
	y += sh + 2;
	int cw = 25 * g->font[VF_SMALL].adv, rows = (b.y + b.h - sh - 2 - y) / (sh + 1);
	int k = 0;

	ncol = b.w / cw;
	if (ncol < 1)
		ncol = 1;
	for (unsigned s = 0; s < m->tlb_sets; s++)
		for (unsigned w = 0; w < m->tlb_ways; w++) {
			const struct tlb_entry *e = &m->tlb[s * m->tlb_ways + w];
			bool filled = tlb_key_vpn(e->vpn) == m->fill_vpn &&
			              (e->vpn & ~TLB_VPN_MASK) == m->tlb_tag;

			if (e->vpn == TLB_VPN_NONE)
				continue;
			if (k >= ncol * rows) {
				k++;
				continue;
			}
			int x = b.x + (k / rows) * cw, yy = y + (k % rows) * (sh + 1);

			if (filled)
				fill_a(g, x - 2, yy, cw - 4, sh, COL_ACTIVE, 90);
			textf(g, VF_SMALL, x, yy, filled ? COL_TITLE : COL_TEXT,
			      "%2u %" PRIx64 "\xe2\x86\x92%" PRIx64 " %c%c%c", s, tlb_key_vpn(e->vpn), e->pfn,
			      e->perm & TLB_W ? 'W' : '-', e->perm & TLB_U ? 'U' : '-',
			      e->perm & TLB_D ? 'D' : '-');
			k++;
		}
	if (k > ncol * rows)
		textf(g, VF_SMALL, b.x + b.w - 12 * g->font[VF_SMALL].adv, b.y + b.h - sh, COL_DIM,
		      "+%d more", k - ncol * rows);
	chip(g, b.x, b.y + b.h - sh, COL_ACTIVE, "filled by this statement", false);
}

/* ---- physical memory ---------------------------------------------------------------- */

/*
 * Cell geometry for n frames in r: the column count whose cells (cw x ch,
 * not necessarily square) are biggest, at least 2 px on each side; when even
 * 2 x 2 cells do not fit, several frames a cell (fpc), one run per cell.
 */
static void grid_geometry(struct view_grid *gr, const struct view_rect *r, uint64_t n)
{
	int best = -1;

	gr->r = *r;
	gr->nr_frames = n;
	gr->fpc = 1;
	gr->cw = gr->ch = 0;
	for (int cols = 1; cols <= r->w / 2; cols++) {
		uint64_t rows = (n + (uint64_t)cols - 1) / (uint64_t)cols;
		int cw = r->w / cols, ch;

		if (rows > (uint64_t)r->h / 2)
			continue;
		ch = (int)((uint64_t)r->h / rows);
		if (ch > 3 * cw)
			ch = 3 * cw; /* keep cells from turning into bars */
		/* Biggest cells first, then the widest grid (equal cells tie). */
		int score = (cw < ch ? cw : ch) * 1000000 + cw * ch * 10000 + cols * cw;

		if (score > best) {
			best = score;
			gr->cols = cols;
			gr->rows = (int)rows;
			gr->cw = cw;
			gr->ch = ch;
		}
	}
	if (best >= 0)
		return;
	gr->cw = gr->ch = 2;
	gr->cols = r->w / 2 > 0 ? r->w / 2 : 1;
	uint64_t cells = (uint64_t)gr->cols * (uint64_t)(r->h / 2 > 0 ? r->h / 2 : 1);

	gr->fpc = (n + cells - 1) / cells;
	gr->rows =
	    (int)(((n + gr->fpc - 1) / gr->fpc + (uint64_t)gr->cols - 1) / (uint64_t)gr->cols);
}

/* Where cell number cell is drawn (x, y relative to the grid). */
static void cell_xy(const struct view_grid *gr, uint64_t cell, int *x, int *y)
{
	*x = (int)(cell % (uint64_t)gr->cols) * gr->cw;
	*y = (int)(cell / (uint64_t)gr->cols) * gr->ch;
}

/* The colour of a cell: a run of frames. Used frames win over free ones
   (one user page among 15 free frames must show); among free frames the
   biggest order wins. */
static uint32_t cell_col(const struct view_model *m, uint64_t first, uint64_t cnt)
{
	unsigned used[FK__COUNT] = {0};
	uint8_t best_free = 0;
	bool any_used = false, any_shared = false;

	if (cnt == 1)
		return code_col(m->fcode[first]);
	for (uint64_t i = first; i < first + cnt && i < m->nr_frames; i++) {
		uint8_t c = m->fcode[i];

		if (FC_CODE(c) == FC_SHARED) {
			any_shared = true; /* one shared frame among many must show */
		} else if (fc_is_free(c)) {
			if (FC_CODE(c) >= FC_CODE(best_free))
				best_free = c;
		} else {
			used[FC_CODE(c) < FK__COUNT ? FC_CODE(c) : FK_RESERVED]++;
			any_used = true;
		}
	}
	if (any_shared)
		return COL_SHARED;
	if (!any_used)
		return code_col(best_free & ~FC_ODD); /* no block shading across runs */
	int k = FK_RESERVED;

	for (int i = 1; i < FK__COUNT; i++)
		if (used[i] > used[k] || (used[i] == used[k] && i == FK_ANON))
			k = i;
	return kind_col[k];
}

static void build_grid(struct view_gfx *g, int side, const struct view_model *m)
{
	struct view_grid *gr = &g->grid[side];
	int gx = gr->cw >= 4 ? 1 : 0, gy = gr->ch >= 4 ? 1 : 0;
	int tw = gr->cols * gr->cw, th = gr->rows * gr->ch;

	if (tw <= 0 || th <= 0)
		return;
	if (!gr->tex || gr->tw != tw || gr->th != th) {
		if (gr->tex)
			SDL_DestroyTexture(gr->tex);
		gr->tex = SDL_CreateTexture(g->r, SDL_PIXELFORMAT_ARGB8888,
		                            SDL_TEXTUREACCESS_STREAMING, tw, th);
		gr->tw = tw;
		gr->th = th;
	}
	if ((size_t)tw * (size_t)th > gr->pix_cap) {
		free(gr->pix);
		gr->pix_cap = (size_t)tw * (size_t)th;
		gr->pix = malloc(gr->pix_cap * sizeof(*gr->pix));
		if (!gr->pix) {
			gr->pix_cap = 0;
			return;
		}
	}
	uint32_t bg = 0xff000000 | COL_PANEL;

	for (size_t i = 0; i < (size_t)tw * (size_t)th; i++)
		gr->pix[i] = bg;
	uint64_t ncells = (m->nr_frames + gr->fpc - 1) / gr->fpc;

	for (uint64_t cell = 0; cell < ncells; cell++) {
		uint32_t col = 0xff000000 | cell_col(m, cell * gr->fpc, gr->fpc);
		int cx, cy;

		cell_xy(gr, cell, &cx, &cy);
		/* a shared frame: stripes of its colour over a user page's */
		bool stripes = (col & 0xffffff) == COL_SHARED;

		for (int yy = cy; yy < cy + gr->ch - gy; yy++)
			for (int xx = cx; xx < cx + gr->cw - gx; xx++)
				gr->pix[(size_t)yy * (size_t)tw + (size_t)xx] =
				    stripes && (xx + yy) % 4 >= 2 ? 0xff000000 | kind_col[FK_ANON]
				                                  : col;
	}
	if (gr->tex)
		SDL_UpdateTexture(gr->tex, NULL, gr->pix, tw * (int)sizeof(uint32_t));
	gr->built_seq = m->seq;
	gr->built_w = gr->r.w;
	gr->built_h = gr->r.h;
	gr->built_for = m;
}

/* Outline the cells of frames [pfn, pfn + cnt), row by row. */
static void outline_frames(struct view_gfx *g, const struct view_grid *gr, uint64_t pfn,
                           uint64_t cnt, uint32_t rgb, int thick)
{
	uint64_t c0 = pfn / gr->fpc, c1 = (pfn + cnt - 1) / gr->fpc;

	while (c0 <= c1) {
		uint64_t row = c0 / (uint64_t)gr->cols;
		uint64_t end = (row + 1) * (uint64_t)gr->cols - 1;
		int x, y;

		if (end > c1)
			end = c1;
		cell_xy(gr, c0, &x, &y);
		x += gr->r.x;
		y += gr->r.y;
		int w = (int)(end - c0 + 1) * gr->cw;

		for (int t = 0; t < thick; t++)
			frame_rect(g, x - 1 - t, y - 1 - t, w + 1 + 2 * t, gr->ch + 1 + 2 * t, rgb);
		c0 = end + 1;
	}
}

/*
 * 64 frames magnified: those around the frame just taken (or the block of
 * the buddy operation, or of the event's pfn), each a cell big enough to
 * see a split's two halves, with pfn ticks every 8 frames.
 */
static void draw_zoom(struct view_gfx *g, const struct view_rect *z, const struct view_model *m)
{
	int sh = g->font[VF_SMALL].h, n = 64, cw = z->w / n;
	uint64_t focus = 0;
	char lab[64];

	if (m->bop_now && (m->bop == VB_SPLIT || m->bop == VB_MERGE))
		focus = m->bop_pfn;
	else if (m->taken_pfn != PFN_NONE)
		focus = m->taken_pfn;
	else if (m->bop != VB_NONE)
		focus = m->bop_pfn;
	else
		focus = event_field(&m->cur, "pfn", 0);
	uint64_t start = focus / (uint64_t)n * (uint64_t)n;

	if (cw < 2 || !m->nr_frames)
		return;
	for (int i = 0; i < n && start + (uint64_t)i < m->nr_frames; i++) {
		uint64_t pfn = start + (uint64_t)i;
		int x = z->x + i * cw, y = z->y;

		fill(g, x, y, cw - 1, sh, code_col(m->fcode[pfn]));
		if (FC_CODE(m->fcode[pfn]) == FC_SHARED) /* the grid's stripes */
			for (int d = 2; d < cw - 1 + sh; d += 4)
				for (int yy = 0; yy < sh; yy++)
					for (int t = 0; t < 2; t++)
						if (d + t - yy >= 0 && d + t - yy < cw - 1)
							fill(g, x + d + t - yy, y + yy, 1, 1,
							     kind_col[FK_ANON]);
		if (m->taken_pfn != PFN_NONE && pfn >= m->taken_pfn &&
		    pfn < m->taken_pfn + (1ULL << m->taken_order))
			fill(g, x, y, cw - 1, sh, VIEW_COL_TAKEN);
		if (i % 8 == 0) {
			hline(g, x, x, y + sh, COL_DIM);
			snprintf(lab, sizeof(lab), "%#" PRIx64, pfn);
			view_text(g, VF_SMALL, x, y + sh + 1, COL_DIM, lab);
		}
	}
	if (m->bop == VB_SPLIT || m->bop == VB_MERGE) {
		uint64_t o = m->bop == VB_MERGE ? m->bop_order + 1 : m->bop_order;
		uint64_t pfn = m->bop == VB_MERGE ? m->bop_pfn & ~((1ULL << o) - 1) : m->bop_pfn;
		uint64_t cnt = 1ULL << o;

		if (pfn < start + (uint64_t)n && pfn + cnt > start) {
			uint64_t a = pfn > start ? pfn - start : 0, b = pfn + cnt - start;

			if (b > (uint64_t)n)
				b = (uint64_t)n;
			uint32_t c = m->bop == VB_SPLIT ? COL_SPLIT : COL_MERGE;

			frame_rect(g, z->x + (int)a * cw - 1, z->y - 1, (int)(b - a) * cw + 1,
			           sh + 2, c);
			frame_rect(g, z->x + (int)a * cw - 2, z->y - 2, (int)(b - a) * cw + 3,
			           sh + 4, c);
		}
	}
}

static void draw_phys(struct view_gfx *g, const struct view_layout *L, int side,
                      struct view_side_info *si)
{
	struct view_model *m = si->m;
	struct view_grid *gr = &g->grid[side];
	char sub[128], s1[32];

	grid_geometry(gr, &L->phys_grid[side], m->nr_frames);
	fmt_bytes(s1, sizeof(s1), m->nr_frames * PAGE_SIZE);
	if (gr->fpc == 1)
		snprintf(sub, sizeof(sub), "%s = %" PRIu64 " frames, 1 cell = 1 frame", s1,
		         m->nr_frames);
	else
		snprintf(sub, sizeof(sub), "%s = %" PRIu64 " frames, 1 cell = %" PRIu64 " frames",
		         s1, m->nr_frames, gr->fpc);
	if (m->nr_shared) {
		size_t l = strlen(sub);

		snprintf(sub + l, sizeof(sub) - l, "; %" PRIu64 " shared", m->nr_shared);
	}
	panel(g, &L->panel[side][VP_PHYS], "physical memory", sub);
	if (gr->built_seq != m->seq || gr->built_w != gr->r.w || gr->built_h != gr->r.h ||
	    gr->built_for != m || !gr->tex)
		build_grid(g, side, m);
	if (gr->tex) {
		SDL_Rect dst = {gr->r.x, gr->r.y, gr->tw, gr->th};

		SDL_RenderCopy(g->r, gr->tex, NULL, &dst);
	}
	add_hit(g, side, HIT_FRAMES, gr->r.x, gr->r.y, gr->tw, gr->th, 0, 0);
	/* The buddy operation of the statement, then the frame just taken. */
	if (m->bop == VB_SPLIT || m->bop == VB_MERGE) {
		uint64_t o = m->bop == VB_MERGE ? m->bop_order + 1 : m->bop_order;
		uint64_t pfn = m->bop == VB_MERGE ? m->bop_pfn & ~((1ULL << o) - 1) : m->bop_pfn;

		outline_frames(g, gr, pfn, 1ULL << o, m->bop == VB_SPLIT ? COL_SPLIT : COL_MERGE,
		               2);
	}
	if (m->taken_pfn != PFN_NONE && m->taken_pfn < m->nr_frames) {
		uint64_t cnt = 1ULL << m->taken_order;
		uint64_t c0 = m->taken_pfn / gr->fpc, c1 = (m->taken_pfn + cnt - 1) / gr->fpc;
		int grow = (int)(6 * (1 - g->anim)), x = 0, y = 0;

		for (uint64_t cell = c0; cell <= c1; cell++) {
			cell_xy(gr, cell, &x, &y);
			x += gr->r.x;
			y += gr->r.y;
			fill(g, x, y, gr->cw - (gr->cw >= 4), gr->ch - (gr->ch >= 4),
			     VIEW_COL_TAKEN);
		}
		/* A ring and a label, so that one frame among thousands is found. */
		cell_xy(gr, c0, &x, &y);
		x += gr->r.x;
		y += gr->r.y;
		frame_rect(g, x - 4 - grow, y - 4 - grow, gr->cw + 8 + 2 * grow,
		           gr->ch + 8 + 2 * grow, VIEW_COL_TAKEN);
		{
			char lab[48];
			int lw, lx, ly;

			snprintf(lab, sizeof(lab), "pfn %#" PRIx64 " taken", m->taken_pfn);
			lw = view_text_width(g, VF_SMALL, lab) + 6;
			lx = x + gr->cw + 8;
			ly = y - g->font[VF_SMALL].h - 2;
			if (lx + lw > gr->r.x + gr->r.w)
				lx = x - lw - 8;
			if (ly < gr->r.y)
				ly = y + gr->ch + 6;
			fill(g, lx, ly, lw, g->font[VF_SMALL].h, 0x101216);
			view_text(g, VF_SMALL, lx + 3, ly, VIEW_COL_TAKEN, lab);
		}
		outline_frames(g, gr, m->taken_pfn, cnt, VIEW_COL_TAKEN, 2 + grow);
	}
	draw_zoom(g, &L->phys_zoom[side], m);
	/* Legend: three lines under the grid. */
	int sh = g->font[VF_SMALL].h, y = L->phys_zoom[side].y + L->phys_zoom[side].h + 4,
	    x = gr->r.x;
	int rw = g->font[VF_SMALL].adv;

	x += view_text(g, VF_SMALL, x, y, COL_DIM, "above: 64 frames magnified.  free, by order: ");
	for (unsigned o = 0; o <= MAX_PAGE_ORDER; o++) {
		fill(g, x, y + 1, 2 * rw, sh - 2, free_col(o, false));
		if (o == 0 || o == MAX_PAGE_ORDER || o == 5)
			textf(g, VF_SMALL, x + (o == 10 ? 0 : rw / 2), y, 0x101010, "%u", o);
		x += 2 * rw + 1;
	}
	y += sh + 2;
	x = gr->r.x;
	for (int k = FK_RESERVED; k < FK__COUNT; k++)
		x = chip(g, x, y, kind_col[k], kind_label[k], false);
	y += sh + 2;
	x = gr->r.x;
	x = chip(g, x, y, VIEW_COL_TAKEN, "frame just taken", false);
	x = chip(g, x, y, COL_SPLIT, "split", true);
	x = chip(g, x, y, COL_MERGE, "merge", true);
	if (m->nr_tasks > 1 || m->nr_shared) {
		int cs = sh - 4;

		chip(g, x, y, COL_SHARED, "mapped by 2+ (fork: COW)", false);
		for (int d = 2; d < 2 * cs; d += 4) /* the grid's stripes */
			for (int t = 0; t < 2; t++)
				for (int i = 0; i < cs; i++)
					if (d + t - i >= 0 && d + t - i < cs)
						fill(g, x + d + t - i, y + 2 + i, 1, 1,
						     kind_col[FK_ANON]);
	}
}

/* ---- buddy free lists ----------------------------------------------------------------- */


/* A bar of w pixels at (x, y): frac of it filled with rgb over a dim track. */
static void bar(struct view_gfx *g, int x, int y, int w, int h, double frac, uint32_t rgb)
{
	fill(g, x, y, w, h, COL_BORDER);
	if (frac > 1)
		frac = 1;
	if (frac > 0)
		fill(g, x, y, (int)(w * frac + 0.5) ? (int)(w * frac + 0.5) : 1, h, rgb);
}

/*
 * The memory-pressure rows under the buddy lists: free pages against the
 * zone's min/low/high watermarks, the inactive and active LRU lists, the
 * swap area's slots, and the latest page that moved between RAM and swap.
 */
static void draw_pressure(struct view_gfx *g, int x, int y, int w, int rh,
                          const struct view_model *m)
{
	int adv = g->font[VF_SMALL].adv, lw = 9 * adv, bw = w / 3, bh = rh - 6;
	uint64_t scale = m->wmark[2] * 2 > m->free_pages ? m->wmark[2] * 2 : m->free_pages;
	static const uint32_t wcol[3] = {COL_WMARK_MIN, COL_WMARK_LOW, COL_WMARK_HIGH};
	static const char *const wname[3] = {"min", "low", "high"};
	uint64_t lru = m->lru_inactive + m->lru_active;
	int tx;

	hline(g, x, x + w, y - 2, COL_BORDER);
	/* free vs watermarks: the bar runs to twice the high mark */
	view_text(g, VF_SMALL, x, y, COL_DIM, "free");
	bar(g, x + lw, y + 3, bw, bh, scale ? (double)m->free_pages / (double)scale : 0,
	    m->free_pages <= m->wmark[0]   ? COL_WMARK_MIN
	    : m->free_pages <= m->wmark[1] ? COL_WMARK_LOW
	                                   : COL_TEXT);
	tx = x + lw + bw + adv;
	for (int i = 0; i < 3; i++) {
		int mx = x + lw + (scale ? (int)((double)bw * (double)m->wmark[i] / (double)scale) : 0);

		fill(g, mx, y + 1, 2, bh + 4, wcol[i]);
		tx += textf(g, VF_SMALL, tx, y, wcol[i], "%s %" PRIu64 " ", wname[i], m->wmark[i]);
	}
	textf(g, VF_SMALL, tx, y, COL_TEXT, "free %" PRIu64, m->free_pages);
	y += rh;
	/* the LRU lists */
	view_text(g, VF_SMALL, x, y, COL_DIM, "LRU anon");
	bar(g, x + lw, y + 3, bw, bh, lru ? (double)m->lru_inactive / (double)lru : 0, COL_INACTIVE);
	textf(g, VF_SMALL, x + lw + bw + adv, y, COL_TEXT, "inactive %" PRIu64 "  active %" PRIu64,
	      m->lru_inactive, m->lru_active);
	y += rh;
	/* the swap area */
	view_text(g, VF_SMALL, x, y, COL_DIM, "swap");
	if (m->swap_total) {
		bar(g, x + lw, y + 3, bw, bh, (double)m->swap_used / (double)m->swap_total, COL_SWAP);
		textf(g, VF_SMALL, x + lw + bw + adv, y, COL_TEXT,
		      "%" PRIu64 "/%" PRIu64 " slots  out %" PRIu64 " in %" PRIu64, m->swap_used,
		      m->swap_total, m->pswpout, m->pswpin);
	} else {
		textf(g, VF_SMALL, x + lw, y, COL_DIM, "none: anonymous pages cannot be reclaimed%s",
		      m->oom_kills ? "; the OOM killer ran" : "");
	}
	y += rh;
	/* which frame went where */
	tx = textf(g, VF_SMALL, x, y, COL_DIM, "kswapd ran %" PRIu64 "x, reclaimed %" PRIu64 "  ",
	           m->kswapd_runs, m->reclaimed);
	if (m->moved)
		textf(g, VF_SMALL, x + tx, y, COL_SWAP,
		      m->moved_out ? "#%" PRIu64 " frame pfn %#" PRIx64 " \xe2\x86\x92 swap slot %" PRIu64
		                   : "#%" PRIu64 " swap slot %" PRIu64 " \xe2\x86\x92 frame pfn %#" PRIx64,
		      m->moved_seq, m->moved_out ? m->moved_pfn : m->moved_slot,
		      m->moved_out ? m->moved_slot : m->moved_pfn);
}

static void draw_buddy(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                       int side)
{
	struct view_model *m = si->m;
	int sh = g->font[VF_SMALL].h, rh = sh + 1, adv = g->font[VF_SMALL].adv;
	struct view_rect b = panel(g, p, "buddy free lists", "free_area[order].nr_free");
	/* Under memory pressure, the bottom rows show the watermarks, the LRU
	   lists and the swap area (draw_pressure). */
	int prows = m->pressure ? 4 : 0;
	int avail = (b.h - sh - 2 - prows * rh) / rh, ncol;

	if (avail < 1)
		avail = 1;
	ncol = ((int)m->nr_orders + avail - 1) / avail;
	if (ncol > 3)
		ncol = 3;
	int per = ((int)m->nr_orders + ncol - 1) / ncol, colw = b.w / ncol;
	char s1[32];

	for (unsigned o = 0; o < m->nr_orders; o++) {
		int x = b.x + (int)(o / (unsigned)per) * colw,
		    y = b.y + (int)(o % (unsigned)per) * rh;
		bool touched = m->order_touched & (1u << o);
		bool now = m->bop_now && (m->bop == VB_SPLIT || m->bop == VB_MERGE) &&
		           (o == m->bop_order || (m->bop == VB_MERGE && o == m->bop_order + 1));

		if (now) {
			uint32_t c = m->bop == VB_MERGE ? COL_MERGE : COL_SPLIT;

			fill_a(g, x - 2, y, colw - 2, rh, c, 70 + (int)(100 * (1 - g->anim)));
			frame_rect(g, x - 2, y, colw - 2, rh, c);
		} else if (touched) {
			fill_a(g, x - 2, y, colw - 2, rh, COL_ACTIVE, 35);
		}
		fmt_bytes(s1, sizeof(s1), PAGE_SIZE << o);
		add_hit(g, side, HIT_ORDER, x, y, colw, rh, o, 0);
		int w =
		    textf(g, VF_SMALL, x, y, COL_TEXT, "%2u %-8s %5" PRIu64, o, s1, m->nr_free[o]);
		int bx = x + w + adv, maxb = x + colw - bx - 6;
		uint64_t nb = m->nr_free[o];
		int bs = sh - 4, step = bs + 2;

		for (uint64_t i = 0; i < nb && (int)i * step + bs < maxb; i++)
			fill(g, bx + (int)i * step, y + 2, bs, bs, free_col(o, i & 1));
		if (nb && (int)nb * step + bs >= maxb && maxb > 3 * adv)
			view_text(g, VF_SMALL, x + colw - 3 * adv - 4, y, COL_DIM, "\xe2\x80\xa6");
	}
	int y = b.y + b.h - sh;

	if (prows)
		draw_pressure(g, b.x, y - prows * rh - 2, b.w, rh, m);
	if (m->bop_now && m->bop == VB_SPLIT)
		textf(g, VF_SMALL, b.x, y, COL_SPLIT,
		      "expand: upper half (pfn %#" PRIx64 ") goes on free_area[%u]", m->bop_pfn,
		      m->bop_order);
	else if (m->bop_now && m->bop == VB_MERGE)
		textf(g, VF_SMALL, b.x, y, COL_MERGE,
		      "merge: pfn %#" PRIx64 " + buddy into order %u", m->bop_pfn,
		      m->bop_order + 1);
	else {
		int x = chip(g, b.x, y, COL_SPLIT, "split now", false);

		x = chip(g, x, y, COL_MERGE, "merge now", false);
		chip(g, x, y, mix(COL_PANEL, COL_ACTIVE, 0.3), "changed in this statement", false);
	}
}

/* ---- event log ---------------------------------------------------------------------------- */

static void draw_log(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
                     int side)
{
	struct stepper *st = si->st;
	int sh = g->font[VF_SMALL].h, rh = sh + 1;
	struct view_rect b = panel(g, p, "event log", "wheel scrolls, click goes there");
	int rows = b.h / rh, scroll = g->log_scroll[side];
	char buf[256];

	if (scroll > (int)st->log_len - rows)
		scroll = (int)st->log_len - rows;
	if (scroll < 0)
		scroll = 0;
	g->log_scroll[side] = scroll;
	/* Oldest at the top, the current event at the bottom (unless scrolled). */
	for (int r = 0; r < rows; r++) {
		size_t i = (size_t)(scroll + rows - 1 - r);
		const struct event *ev = stepper_log(st, i);
		int y = b.y + r * rh;

		if (!ev)
			continue;
		if (i == 0 && st->have_cur) {
			fill(g, b.x - 3, y, b.w + 4, rh, COL_CUR_EV);
		}
		event_format(ev, buf, sizeof(buf));
		int ind = ev->depth < 12 ? ev->depth : 12, tw = 0;

		if (ev->kind == EV_STMT) { /* the task it ran in, at the right */
			char who[16];

			view_model_log_task(st, i, who, sizeof(who));
			if (who[0]) {
				tw = view_text_width(g, VF_SMALL, who) + 6;
				fill(g, b.x + b.w - tw, y, tw, rh - 1, mix(COL_PANEL, COL_ACTIVE, 0.25));
				view_text(g, VF_SMALL, b.x + b.w - tw + 3, y, COL_ACTIVE, who);
			}
		}
		view_text_clip(g, VF_SMALL, b.x + ind * 4, y, b.w - ind * 4 - tw,
		               layer_col[ev->layer % 4], buf);
		add_hit(g, side, HIT_EVENT, b.x, y, b.w, rh, ev->seq, 0);
	}
}

void view_draw_side(struct view_gfx *g, const struct view_layout *L, int side,
                    struct view_side_info *si)
{
	const struct view_rect *P = L->panel[side];

	draw_path(g, &P[VP_PATH], si);
	draw_vas(g, &P[VP_VAS], si, side);
	draw_heap(g, &P[VP_HEAP], si, side);
	draw_walk(g, &P[VP_WALK], si, side);
	draw_tlb(g, &P[VP_TLB], si, L->nsides > 1);
	draw_phys(g, L, side, si);
	draw_buddy(g, &P[VP_BUDDY], si, side);
	draw_log(g, &P[VP_LOG], si, side);
}

void view_draw_cmdline(struct view_gfx *g, const struct view_layout *L, const char *prompt,
                       const char *input, const char *msg, bool msg_bad)
{
	const struct view_rect *r = &L->cmd;
	int y = r->y + (r->h - g->font[VF_NORMAL].h) / 2, x = r->x + 10;

	fill(g, r->x, r->y, r->w, r->h, 0x101216);
	hline(g, r->x, r->x + r->w, r->y, COL_BORDER);
	if (prompt) {
		x += view_text(g, VF_BOLD, x, y, COL_ACTIVE, prompt);
		x += view_text(g, VF_NORMAL, x, y, COL_TITLE, input);
		fill(g, x + 1, y, 2, g->font[VF_NORMAL].h, COL_ACTIVE);
		x += 12;
		view_text_clip(g, VF_SMALL, x, y + 1, r->x + r->w - x - 10, COL_DIM,
		               "Enter runs it, Esc cancels");
		return;
	}
	if (msg && *msg) {
		x += view_text_clip(g, VF_NORMAL, x, y, r->w * 55 / 100, msg_bad ? COL_BAD : COL_OK,
		                    msg) +
		     16;
	}
	view_text_clip(g, VF_SMALL, x, y + 1, r->x + r->w - x - 10, COL_DIM,
	               "s/Enter step  n statement  f fault  y syscall  o return  c COW  "
	               "t switch  b/B back  g N go to  p process  a arena  : type a statement  "
	               "click for details  q quit");
}

void view_draw_popup(struct view_gfx *g, const struct view_layout *L, int x, int y,
                     const char *const *lines, int n)
{
	int w = 0, lh = g->font[VF_NORMAL].h + 2;

	for (int i = 0; i < n; i++) {
		int lw = view_text_width(g, i ? VF_NORMAL : VF_BOLD, lines[i]);

		w = lw > w ? lw : w;
	}
	w += 20;
	int h = n * lh + 12;

	x += 12;
	if (x + w > L->w)
		x = L->w - w - 4;
	if (y + h > L->h)
		y = L->h - h - 4;
	if (x < 0)
		x = 0;
	if (y < 0)
		y = 0;
	fill_a(g, x + 4, y + 4, w, h, 0x000000, 120);
	fill(g, x, y, w, h, 0x2c3140);
	frame_rect(g, x, y, w, h, COL_ACTIVE);
	for (int i = 0; i < n; i++)
		view_text(g, i ? VF_NORMAL : VF_BOLD, x + 10, y + 6 + i * lh,
		          i ? COL_TEXT : COL_ACTIVE, lines[i]);
}

pfn_t view_grid_pfn(const struct view_gfx *g, int s, int x, int y)
{
	const struct view_grid *gr = &g->grid[s];
	int cx, cy;
	uint64_t cell;

	if (!gr->cw || !gr->ch || x < gr->r.x || y < gr->r.y)
		return PFN_NONE;
	cx = (x - gr->r.x) / gr->cw;
	cy = (y - gr->r.y) / gr->ch;
	if (cx >= gr->cols || cy >= gr->rows)
		return PFN_NONE;
	cell = (uint64_t)cy * (uint64_t)gr->cols + (uint64_t)cx;
	if (cell * gr->fpc >= gr->nr_frames)
		return PFN_NONE;
	return cell * gr->fpc;
}
