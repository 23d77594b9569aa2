/*
 * glibc_replay.c - replay a CS:APP .rep trace on the host's real glibc 2.36
 * malloc: the oracle for the peak footprint of the simulated glibc policy.
 *
 * Usage: glibc_replay TRACE.rep
 * Prints one line:
 *   ops N peak_payload P peak_footprint F util U
 * with footprint = mallinfo2() arena + hblkhd sampled after every operation
 * (DESIGN.md, Trace replay), and the replay semantics of demos/trace.h
 * (`r ID 0` frees, `r` on a free id allocates, `f -1` is free(NULL)).
 *
 * The trace reader (demos/trace.c) itself calls malloc, which would leave the
 * heap grown and fragmented before the replay starts. So the reading process
 * copies the operations into a memfd and re-executes itself: the replaying
 * process starts with a pristine heap, keeps its own arrays in mmapped
 * memory (not counted by mallinfo2) and calls no stdio before it is done.
 */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "demos/trace.h"

struct rec {
	char kind;
	int32_t id;
	uint64_t size;
};

struct hdr {
	uint64_t nr_ops, nr_ids, peak_payload;
};

static int load_and_exec(const char *self, const char *path)
{
	struct trace *t;

	if (trace_load(path, &t, stderr) < 0)
		return 2;
	int fd = memfd_create("glibc_replay", 0);
	if (fd < 0) {
		perror("memfd_create");
		return 2;
	}
	struct hdr h = {t->nr_ops, t->nr_ids, trace_peak_payload(t)};
	if (write(fd, &h, sizeof(h)) != sizeof(h))
		return 2;
	for (size_t i = 0; i < t->nr_ops; i++) {
		struct rec r = {t->ops[i].kind, t->ops[i].id, t->ops[i].size};
		if (write(fd, &r, sizeof(r)) != sizeof(r))
			return 2;
	}
	trace_free(t);
	char fdarg[32];
	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	execl(self, self, "--fd", fdarg, (char *)NULL);
	perror("execl");
	return 2;
}

static uint64_t footprint(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.arena + mi.hblkhd;
}

static int replay(int fd)
{
	struct hdr h;

	if (pread(fd, &h, sizeof(h), 0) != sizeof(h))
		return 2;
	size_t len = sizeof(h) + h.nr_ops * sizeof(struct rec);
	char *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return 2;
	const struct rec *ops = (const struct rec *)(map + sizeof(h));
	void **p = mmap(NULL, (h.nr_ids + 1) * sizeof(void *), PROT_READ | PROT_WRITE,
	                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 2;
	uint64_t peak = 0;

	for (uint64_t i = 0; i < h.nr_ops; i++) {
		const struct rec *r = &ops[i];

		switch (r->kind) {
		case 'a':
			p[r->id] = malloc(r->size);
			break;
		case 'r':
			p[r->id] = realloc(p[r->id], r->size);
			break;
		case 'f':
			if (r->id >= 0) {
				free(p[r->id]);
				p[r->id] = NULL;
			} else {
				free(NULL);
			}
			break;
		}
		uint64_t f = footprint();
		if (f > peak)
			peak = f;
	}
	printf("ops %lu peak_payload %lu peak_footprint %lu util %.4f\n", (unsigned long)h.nr_ops,
	       (unsigned long)h.peak_payload, (unsigned long)peak,
	       peak ? (double)h.peak_payload / (double)peak : 0.0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--fd") == 0)
		return replay(atoi(argv[2]));
	if (argc != 2) {
		fprintf(stderr, "usage: glibc_replay TRACE.rep\n");
		return 2;
	}
	return load_and_exec("/proc/self/exe", argv[1]);
}
