#!/bin/sh
# fault_profile.sh - where a demand-zero write fault's instructions go
# (docs/performance.md, fault_vs_zero_ratio): `make bench-profile`.
#
# Usage: [PROFILE_LABEL=NAME] fault_profile.sh BENCH_DIR OUT.json
# (the label names the profile's column; by default the short commit, with
# a + when the tree has changes not committed)
# Runs BENCH_DIR/bench_fault (its steady state alone, 3 timed rounds) under
# valgrind's callgrind, counting only inside touch_pages (the simulated
# process's stores, each of which faults), and writes OUT.json: the
# instructions per fault of the whole fault and of the kernel functions it
# calls that are not inlined into it (their inclusive counts over the number
# of faults: calls of store_miss, the CPU's miss path for a store (before it,
# translate_one_miss), which each store makes once; buddy_alloc's also counts
# the allocator's lines inline in fault_fast, buddy.h's; phys_zero_frame's,
# clear_page's, the zeroing loop it calls and its lines inline there,
# phys.h's; find_vma's, mm.h's there). The kernel's part is exc_trap's and fault_fast's (the
# fast path without a sink, which takes nearly all of these faults). `run_bench --profile OUT.json...` prints them.
# Instruction counts do not depend on the host's load; they do depend on the
# compiler and the code, which is what they are for: before and after a change.
set -eu
dir=$1
out=$2
cg=$(mktemp)
trap 'rm -f "$cg" "$cg.txt"' EXIT
command -v valgrind >/dev/null || { echo "fault_profile: valgrind is not installed" >&2; exit 2; }
BENCH_STEADY=1 BENCH_REPS=3 valgrind --tool=callgrind --callgrind-out-file="$cg" \
	--toggle-collect=touch_pages "$dir/bench_fault" >/dev/null 2>&1
callgrind_annotate --auto=no --threshold=100 --inclusive=yes --tree=calling "$cg" >"$cg.txt"
label=${PROFILE_LABEL:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo +)}
awk -v label="$label" '
	function num(s) { gsub(",", "", s); return s + 0 }
	{ sub(/\( *[0-9.]+%\)/, "") } # "N (P%) ..." -> "N ...", whatever the width of P
	/PROGRAM TOTALS/ { total = num($1) }
	# a function, inclusive: "N *  FILE:FN [BINARY]" (the largest of its lines:
	# those of its inlined parts, "N *  FILE:FN", are parts of it)
	$2 == "*" { fn = $3; sub(/.*:/, "", fn); if (num($1) > incl[fn]) incl[fn] = num($1) }
	# the allocator inline in the fast path (buddy_alloc_ready and
	# buddy_alloc_page_ready): the lines of buddy.h in fault_fast
	$2 == "*" && $3 ~ /buddy\.h:fault_fast$/ { inl_buddy += num($1) }
	# clear_page: phys_zero_frame or its parts inline in the fast path (the lines of
	# phys.h in fault_fast, inclusive: with the zeroing loop they call, and
	# with the check of the page-table frame in pt_set, two instructions)
	$2 == "*" && $3 ~ /phys\.h:fault_fast$/ { inl_zero += num($1) }
	# find_vma, its cache inline in the fast path: the lines of mm.h in
	# fault_fast (with linear_page_index, three instructions)
	$2 == "*" && $3 ~ /mm\.h:fault_fast$/ { inl_vma += num($1) }
	# a call of the miss path: "N >   FILE:store_miss (Kx) [BINARY]"
	$2 == ">" && $3 ~ /:(translate_one_miss|store_miss)$/ { k = $4; gsub(/[(),x]/, "", k); if (k + 0 > faults) faults = k + 0 }
	END {
		if (!faults || !total) { print "fault_profile: no fault counted" > "/dev/stderr"; exit 2 }
		printf "{\"profile\": \"fault\", \"label\": \"%s\", \"faults\": %d, \"per_fault\": {", label, faults
		printf "\"total\": %.0f", total / faults
		printf ", \"exc_trap\": %.0f", (incl["exc_trap"] + incl["fault_fast"]) / faults
		n = split("find_vma pgtable_alloc_walk buddy_alloc phys_zero_frame", f, " ")
		incl["buddy_alloc"] += inl_buddy
		incl["phys_zero_frame"] += inl_zero
		incl["find_vma"] += inl_vma
		for (i = 1; i <= n; i++)
			printf ", \"%s\": %.0f", f[i], incl[f[i]] / faults
		printf "}}\n"
	}' "$cg.txt" >"$out"
cat "$out"
