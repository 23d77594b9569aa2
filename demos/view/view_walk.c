/*
 * view_walk.c - the viewer's page-walk panel (see view_panel.h): the
 * current address split into its four 9-bit indexes and the page offset
 * as the MMU reads them (x86-64, 4 levels), one row per table read with
 * its entry and flag bits, the level being read or filled highlighted,
 * and where the walk ends: a frame, a swap entry, or a fault.
 */
#include "../../kernel_sim/swap.h"
#include "view_panel.h"

static const uint32_t level_col[5] = {0x5ac86e, 0xe6b450, 0xd27878, 0x78a0e6, 0xb48cdc};

void view_draw_walk(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
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
	int adv = g->font[VF_SMALL].adv;
	/* In a short panel (a small window) the address boxes go (the index
	   column has the same numbers), then the column heads, and the rows
	   get closer; in a narrow one the table's pfn goes (a click on a row
	   shows it) and the entry loses its 0x. */
	bool boxes = b.h >= lh + 2 * sh + 8 + sh + 2 + 5 * lh + sh;
	bool heads = boxes || b.h >= lh + sh + 2 + 5 * (sh + 4) + sh;
	bool narrow = b.w < 60 * adv;
	int rowh = boxes ? lh : sh + 4;

	textf(g, VF_BOLD, b.x, y, COL_ACTIVE, "va %#018" PRIx64, m->addr);
	y += boxes ? lh : sh + 6;
	/* The address bits, split as the MMU reads them. */
	static const char *const nm[5] = {"PML4", "PDPT", "PD", "PT", "offset"};
	int bits[5] = {9, 9, 9, 9, 12}, wtot = b.w - 2;

	x = b.x;
	for (int i = 0; i < 5 && boxes; i++) {
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
	if (boxes)
		y += 2 * sh + 8;
	/* One row per level read. */
	int cx[6] = {b.x,
	             b.x + 6 * adv,
	             b.x + (narrow ? 5 : 17) * adv,
	             b.x + (narrow ? 11 : 24) * adv,
	             b.x + (narrow ? 28 : 43) * adv,
	             0};

	if (heads) {
		textf(g, VF_SMALL, cx[0], y, COL_DIM, "level");
		if (!narrow)
			textf(g, VF_SMALL, cx[1], y, COL_DIM, "table");
		textf(g, VF_SMALL, cx[2], y, COL_DIM, "index");
		textf(g, VF_SMALL, cx[3], y, COL_DIM, "entry");
		textf(g, VF_SMALL, cx[4], y, COL_DIM, "bits");
		y += sh + 2;
	}
	for (int lvl = 4; lvl >= 1; lvl--) {
		int i = 4 - lvl;
		bool read = i < m->walk.depth;
		bool act = m->active_level == lvl;
		pte_t e = read ? m->walk.entry[i] : 0;

		if (act) {
			fill_a(g, b.x - 3, y - 2, b.w + 4, rowh, COL_ACTIVE,
			       60 + (int)(80 * (1 - g->anim)));
			frame_rect(g, b.x - 3, y - 2, b.w + 4, rowh, COL_ACTIVE);
		}
		textf(g, boxes ? VF_BOLD : VF_SMALL, cx[0], y, level_col[lvl], "%s",
		      pt_level_name(lvl));
		if (!read) {
			view_text_clip(g, VF_SMALL, cx[1], y + 1, b.x + b.w - cx[1], COL_DIM,
			               "-- not reached: no table yet");
			y += rowh;
			continue;
		}
		add_hit(g, side, HIT_PTE, b.x, y - 2, b.w, rowh, (uint64_t)lvl, e);
		if (!narrow)
			textf(g, VF_SMALL, cx[1], y + 1, COL_TEXT, "pfn %#" PRIx64,
			      m->walk.table[i]);
		textf(g, VF_SMALL, cx[2], y + 1, COL_TEXT, "[%u]", m->walk.index[i]);
		textf(g, VF_SMALL, cx[3], y + 1, pte_present(e) ? COL_TEXT : COL_BAD,
		      narrow ? "%016" PRIx64 : "%#018" PRIx64, e);
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
		y += rowh;
	}
	/* The frame at the end. */
	bool act = m->active_level == 0;
	int font = boxes ? VF_BOLD : VF_SMALL, tw = b.x + b.w - cx[1];

	if (act) {
		fill_a(g, b.x - 3, y - 2, b.w + 4, rowh, COL_ACTIVE, 80);
		frame_rect(g, b.x - 3, y - 2, b.w + 4, rowh, COL_ACTIVE);
	}
	if (m->leaf && pte_present(m->leaf)) {
		pte_format_flags(m->leaf, fl, sizeof(fl));
		textf(g, font, cx[0], y, level_col[0], "frame");
		snprintf(sub, sizeof(sub), "pfn %#" PRIx64 " = paddr %#" PRIx64 " + offset %#" PRIx64,
		         pte_pfn(m->leaf), pfn_to_paddr(pte_pfn(m->leaf)), m->addr & 0xfff);
		view_text_clip(g, VF_SMALL, cx[1], y + 1, tw, COL_TEXT, sub);
	} else if (is_swap_pte(m->walk.entry[PT_LEVELS - 1]) && m->walk.depth == PT_LEVELS) {
		pte_t e = m->walk.entry[PT_LEVELS - 1];

		textf(g, font, cx[0], y, COL_SWAP, "swap");
		snprintf(sub, sizeof(sub),
		         "swap entry: type %u, offset %" PRIu64 " (inverted): a major fault",
		         pte_swp_type(e), pte_swp_offset(e));
		view_text_clip(g, VF_SMALL, cx[1], y + 1, tw, COL_SWAP, sub);
	} else {
		textf(g, font, cx[0], y, COL_BAD, "frame");
		view_text_clip(g, VF_SMALL, cx[1], y + 1, tw, COL_BAD,
		               "none: the entry is not present, an access raises #PF");
	}
	y += rowh;
	if (y + sh <= b.y + b.h) {
		const struct legend_item it[] = {{COL_ACTIVE, "level being read or filled", true},
		                                 {level_col[1], "bit set", false}};

		legend_up(g, it, 2, b.x, b.y + b.h - sh, b.x + b.w, sh + 2,
		          (b.y + b.h - y + 2) / (sh + 2));
	}
}
