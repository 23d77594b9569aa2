/*
 * view_tlb.c - the viewer's counters and TLB panel (see view_panel.h): the
 * fault, TLB, RSS, free-frame and system-call counts, and (unless two
 * sides share the window) every valid TLB entry by set and way, those the
 * statement filled highlighted.
 */
#include "view_panel.h"

void view_draw_tlb(struct view_gfx *g, const struct view_rect *p, struct view_side_info *si,
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
			      "%2u %" PRIx64 "\xe2\x86\x92%" PRIx64 " %c%c%c", s,
			      tlb_key_vpn(e->vpn), e->pfn, e->perm & TLB_W ? 'W' : '-',
			      e->perm & TLB_U ? 'U' : '-', e->perm & TLB_D ? 'D' : '-');
			k++;
		}
	if (k > ncol * rows)
		textf(g, VF_SMALL, b.x + b.w - 12 * g->font[VF_SMALL].adv, b.y + b.h - sh, COL_DIM,
		      "+%d more", k - ncol * rows);
	chip(g, b.x, b.y + b.h - sh, COL_ACTIVE, "filled by this statement", false);
}
