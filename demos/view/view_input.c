/*
 * view_input.c - the viewer's keys and mouse (see view_session.h): SDL's
 * key events mapped to the stepper's key strings (parsed by
 * stepper_parse_key, as `aftermalloc step` does), the command line's
 * editing, the selector keys p/P and a/A, clicks and the wheel.
 */
#include <string.h>

#include "view_session.h"

/* ---- the keys ------------------------------------------------------------------ */

/* SDL's key event as the stepper's key string; NULL when it is not one. */
static const char *key_string(const SDL_KeyboardEvent *k, char buf[4])
{
	SDL_Keycode c = k->keysym.sym;

	if (c == SDLK_RETURN || c == SDLK_KP_ENTER || c == SDLK_RIGHT)
		return "";
	if (c == SDLK_LEFT)
		return "b";
	if (c >= 'a' && c <= 'z') {
		buf[0] = (char)((k->keysym.mod & KMOD_SHIFT) ? c - 'a' + 'A' : c);
		buf[1] = '\0';
		return buf;
	}
	return NULL;
}

static void open_prompt(struct view_app *a, const char *prompt)
{
	a->typing = true;
	snprintf(a->prompt, sizeof(a->prompt), "%s", prompt);
	a->input[0] = '\0';
	SDL_StartTextInput();
}

void view_handle_key(struct view_app *a, const SDL_KeyboardEvent *k)
{
	SDL_Keycode c = k->keysym.sym;
	char buf[4];
	const char *ks;

	if (a->typing) {
		size_t n = strlen(a->input);

		if (c == SDLK_RETURN || c == SDLK_KP_ENTER) {
			view_submit_input(a);
		} else if (c == SDLK_ESCAPE) {
			a->typing = false;
			SDL_StopTextInput();
		} else if (c == SDLK_BACKSPACE && n) {
			while (n > 0 && (a->input[n - 1] & 0xc0) == 0x80)
				n--;
			a->input[n ? n - 1 : 0] = '\0';
		}
		return;
	}
	if (c == SDLK_ESCAPE) {
		a->npop = 0;
		return;
	}
	if (c == SDLK_SEMICOLON && (k->keysym.mod & KMOD_SHIFT)) {
		open_prompt(a, "> ");
		return;
	}
	if (c == SDLK_COLON || c == SDLK_SLASH || c == SDLK_TAB) {
		open_prompt(a, "> ");
		return;
	}
	if (c == SDLK_g && !(k->keysym.mod & KMOD_SHIFT)) {
		open_prompt(a, "g ");
		return;
	}
	if (c == SDLK_PAGEUP || c == SDLK_PAGEDOWN) {
		for (int s = 0; s < a->nsides; s++)
			a->g.log_scroll[s] += c == SDLK_PAGEUP ? 10 : -10;
		return;
	}
	if (c == SDLK_p) {
		view_cycle_process(a, (k->keysym.mod & KMOD_SHIFT) != 0);
		return;
	}
	if (c == SDLK_a) {
		view_cycle_arena(a, (k->keysym.mod & KMOD_SHIFT) != 0);
		return;
	}
	if (c == SDLK_l) { /* the script panel: its room goes to the others */
		a->script = !a->script;
		view_layout(&a->L, a->L.w, a->L.h, a->nsides, a->script);
		a->npop = 0;
		view_msg(a, false, "script panel %s", a->script ? "shown" : "hidden (l shows it)");
		return;
	}
	ks = key_string(k, buf);
	if (ks)
		view_do_key(a, ks);
}

void view_handle_click(struct view_app *a, int x, int y)
{
	const struct view_hit *h;

	if (a->npop) {
		a->npop = 0;
		return;
	}
	if (view_rect_contains(&a->L.cmd, x, y)) {
		open_prompt(a, "> ");
		return;
	}
	h = view_hit_at(&a->g, x, y);
	if (h)
		view_details(a, h, x, y);
}

void view_handle_wheel(struct view_app *a, int dy)
{
	int x, y;

	SDL_GetMouseState(&x, &y);
	for (int s = 0; s < a->nsides; s++)
		if (view_rect_contains(&a->L.panel[s][VP_LOG], x, y))
			a->g.log_scroll[s] += dy * 3;
}
