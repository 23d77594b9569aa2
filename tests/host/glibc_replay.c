/*
 * glibc_replay.c - replay a CS:APP .rep trace on the host's real glibc 2.36
 * malloc: the oracle for the peak footprint of the simulated glibc policy.
 *
 * Usage: glibc_replay TRACE.rep
 * Prints one line:
 *   ops N peak_payload P peak_footprint F util U
 * with footprint = mallinfo2() arena + hblkhd sampled after every operation
 * (DESIGN.md, Trace replay). host_replay.h reads the trace without touching
 * this process's heap and says why that matters; no stdio before the end.
 */
#include "tests/host/host_replay.h"

int main(int argc, char **argv)
{
	const struct host_trace *t;
	uint64_t peak = 0;
	void **slot;

	if (argc != 2) {
		fprintf(stderr, "usage: glibc_replay TRACE.rep\n");
		return 2;
	}
	t = host_trace_load(argv[1]);
	if (!t || !(slot = host_slots(t)))
		return 2;
	for (uint64_t i = 0; i < t->nr_ops; i++) {
		struct mallinfo2 mi;

		host_replay_op(slot, &t->ops[i]);
		mi = mallinfo2();
		if (mi.arena + mi.hblkhd > peak)
			peak = mi.arena + mi.hblkhd;
	}
	printf("ops %lu peak_payload %lu peak_footprint %lu util %.4f\n", (unsigned long)t->nr_ops,
	       (unsigned long)t->peak_payload, (unsigned long)peak,
	       peak ? (double)t->peak_payload / (double)peak : 0.0);
	return 0;
}
