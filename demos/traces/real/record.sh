#!/bin/sh
# record.sh [AFTERMALLOC] - record again the traces of this folder from the
# programs Debian ships (README.md says what each one is). A developer's
# action: the traces are committed, and nothing in `make test` runs this.
#
# AFTERMALLOC is the aftermalloc binary (default: build/aftermalloc, from the
# top of the repository). The inputs are written by inputs.py into a
# temporary folder; the workloads (json_workload.py, wordfreq.pl,
# workload.tcl, report.awk) are files of this folder.
#
# The same packages give the same traces, byte for byte: address space
# randomization is off for the programs (setarch -R: glibc's and the
# programs' own hash tables hash pointers), Python's and Perl's string
# hashing are seeded with 0, and the locale is C.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
am=${1:-build/aftermalloc}
case $am in /*) ;; *) am=$(pwd)/$am ;; esac
[ -x "$am" ] || { echo "record.sh: $am: no aftermalloc binary (make it first)" >&2; exit 2; }
for p in python3 sqlite3 perl cppcheck mawk jq bc sort tclsh setarch; do
	command -v $p > /dev/null || { echo "record.sh: $p is missing (apt-get install it)" >&2; exit 2; }
done
cc1=$(gcc -print-prog-name=cc1)
[ -x "$cc1" ] || { echo "record.sh: no cc1 (apt-get install gcc)" >&2; exit 2; }

# The programs run in a folder whose name has always the same length, with
# the inputs and the workloads in it, named relative to it, and with nothing
# in their environment but what is set below: a program copies its
# arguments, its environment and its paths into blocks of their sizes.
in=$(mktemp -d /tmp/aftermalloc-record.XXXXXX)
trap 'rm -rf "$in"' EXIT
/usr/bin/python3 "$here/inputs.py" "$in"
cp "$here/json_workload.py" "$here/wordfreq.pl" "$here/workload.tcl" "$here/report.awk" "$in"
# aftermalloc and its LD_PRELOAD library are copied into the folder too: the
# library's path is in every program's environment (LD_PRELOAD), so its
# length must not depend on where the repository is.
lib=$(dirname "$am")/lib/aftermalloc/librecord.so
[ -f "$lib" ] || lib=$(dirname "$am")/../lib/aftermalloc/librecord.so
[ -f "$lib" ] || { echo "record.sh: no librecord.so beside $am (make it first)" >&2; exit 2; }
mkdir -p "$in/am/lib/aftermalloc"
cp "$am" "$in/am/aftermalloc"
cp "$lib" "$in/am/lib/aftermalloc/librecord.so"
am=$in/am/aftermalloc
cd "$in"

# rec NAME CMD...: the trace NAME.rep of CMD, its stdout thrown away.
rec() {
	name=$1
	shift
	env -i PATH=/usr/bin:/bin LC_ALL=C PYTHONMALLOC=malloc PYTHONHASHSEED=0 \
		PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 setarch "$(uname -m)" -R "$am" record -o "$here/$name.rep" -- "$@" > /dev/null
}

rec python3 /usr/bin/python3 -S json_workload.py
rec sqlite3 sqlite3 :memory: < workload.sql
rec perl perl wordfreq.pl < text.txt
rec cc1 "$cc1" -quiet -imultiarch "$(gcc -print-multiarch)" -O2 program.c -o /dev/null
rec cppcheck cppcheck -q check.c
rec awk mawk -f report.awk sales.csv
rec jq jq -c 'map(select(.score > 2000)) | group_by(.where.x) |
	map({x: .[0].where.x, n: length, names: map(.name)})' data.json
echo 'scale=280; 4*a(1)' | rec bc bc -l
rec sort sort -k2 text.txt
rec tclsh tclsh workload.tcl

# The versions the traces came from (README.md lists them).
dpkg-query -W -f '${Package} ${Version}\n' python3.11-minimal libpython3.11-stdlib sqlite3 \
	libsqlite3-0 perl-base cpp-12 cppcheck mawk jq libjq1 bc coreutils tcl8.6 libtcl8.6 libc6 \
	libc6-dev
