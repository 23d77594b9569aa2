#!/bin/sh
# screenshots.sh - regenerate the viewer's pictures in docs/img/ (`make screenshots`).
#
# Each picture is `aftermalloc view SCRIPT --screenshot FILE --at N`, drawn
# without a display. The event numbers are not written here: they are found
# in the script's event stream (`aftermalloc run SCRIPT --events FILE`, one
# JSON object a line with seq, kind, fn), so the pictures follow the model
# when it changes.
#
# usage: demos/screenshots.sh [BIN] [OUTDIR]   (defaults: build/aftermalloc, docs/img)
set -eu

BIN=${1:-build/aftermalloc}
OUT=${2:-docs/img}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

[ -x "$BIN" ] || { echo "screenshots.sh: no binary at $BIN (run make first)" >&2; exit 2; }
mkdir -p "$OUT"

# events SCRIPT: write the script's events to $TMP/ev.jsonl
events() {
	"$BIN" run "$1" --events "$TMP/ev.jsonl" >/dev/null 2>&1 || true
	[ -s "$TMP/ev.jsonl" ] || { echo "screenshots.sh: no events from $1" >&2; exit 1; }
}

# seq of a JSON line on standard input
seq_of() {
	sed -n 's/^{"seq":\([0-9]*\),.*/\1/p' | head -n 1
}

# first_after LINE_PATTERN AFTER_PATTERN: seq of the first line matching
# LINE_PATTERN that comes after the first line matching AFTER_PATTERN
first_after() {
	awk -v pat="$1" -v after="$2" '
		!seen && index($0, after) { seen = 1; next }
		seen && index($0, pat) { print; exit }' "$TMP/ev.jsonl" | seq_of
}

shot() { # NAME SCRIPT SEQ [options...]
	name=$1 script=$2 seq=$3
	shift 3
	[ -n "$seq" ] || { echo "screenshots.sh: no event found for $name" >&2; exit 1; }
	"$BIN" view "$script" --screenshot "$OUT/$name.png" --at "$seq" "$@"
	echo "$OUT/$name.png: $(basename "$script") at event $seq"
}

# 1. The first touch of a new heap page: the page fault in the middle of
#    do_anonymous_page, when the buddy allocator has just handed out the frame.
S="$ROOT/demos/first-touch.ams"
events "$S"
N=$(first_after '"kind":"frame_alloc"' '"kind":"call","fn":"do_anonymous_page"')
shot fault-do_anonymous_page "$S" "$N"

# 2. The fault itself: the CPU found no present PTE (the walk stops at the PT).
N=$(grep '"kind":"fault"' "$TMP/ev.jsonl" | seq_of)
shot fault-raised "$S" "$N"

# 3. A buddy split: a block bigger than one page is halved, the upper halves
#    going down the free lists (the first split of an order-2 or bigger block).
S="$ROOT/demos/buddy.ams"
events "$S"
N=$(grep '"kind":"buddy_split"' "$TMP/ev.jsonl" | grep -v '"order":[01][,}]' | seq_of)
[ -n "$N" ] || N=$(grep '"kind":"buddy_split"' "$TMP/ev.jsonl" | seq_of)
shot buddy-split "$S" "$N"

# 4. malloc's first sbrk: mm->brk moves, no frame is taken.
S="$ROOT/demos/seed-walk.ams"
events "$S"
N=$(grep '"kind":"brk"' "$TMP/ev.jsonl" | seq_of)
shot brk-moves "$S" "$N"

# 5. Two policies side by side on the same script, at its last statement.
N=$(grep '"kind":"stmt"' "$TMP/ev.jsonl" | tail -n 1 | seq_of)
shot compare-seed-glibc "$S" "$N" --compare seed,glibc

# 5b. Threads: t1's first malloc made an arena in a 64 MiB heap of its own;
#    the heap panel follows t1's arena (the statement after that malloc).
S="$ROOT/demos/glibc-threads.ams"
events "$S"
N=$(grep '"kind":"stmt"' "$TMP/ev.jsonl" | grep '"text":"expect vmsize == v0 + 8196 + 65536"' | seq_of)
shot threads-arena "$S" "$N"

# 6. A replay's course under every policy: footprint, RSS and page faults
#    against the operation (replay --plot, the picture of docs/reference.md).
"$BIN" replay "$ROOT/demos/traces/malloclab/binary2-bal.rep" --malloc all --no-check \
	--plot "$OUT/replay-binary2.png" >/dev/null
echo "$OUT/replay-binary2.png: replay --plot of binary2-bal.rep"
# 6b. The same where the policies' footprints lie orders of magnitude apart
#    (seed's 1.4 GiB against about 1 MiB): the panels turn logarithmic.
"$BIN" replay "$ROOT/demos/traces/malloclab/realloc-bal.rep" --malloc all --no-check \
	--plot "$OUT/replay-realloc.png" >/dev/null
echo "$OUT/replay-realloc.png: replay --plot of realloc-bal.rep (log scale)"

# 7. A policy of one's own: the textbook's implicit free list as a plugin
#    (demos/lab/mm-implicit.c, docs/lab-implicit.md), its heap drawn from its
#    mm_walk after two frees, one of them coalesced with the free tail.
"$BIN" lab "$ROOT/demos/lab/mm-implicit.c" "$ROOT/demos/traces/malloclab/short1-bal.rep" \
	-o "$TMP/mm-implicit.so" >/dev/null
printf 'p = malloc 100\nq = malloc 5000\nr = malloc 300\nfree p\nfree r\n' >"$TMP/heap.ams"
"$BIN" run "$TMP/heap.ams" --malloc "$TMP/mm-implicit.so" --events "$TMP/ev.jsonl" >/dev/null
N=$(grep '"kind":"ret","fn":"free"' "$TMP/ev.jsonl" | tail -n 1 | seq_of)
shot lab-implicit-heap "$TMP/heap.ams" "$N" --malloc "$TMP/mm-implicit.so"
