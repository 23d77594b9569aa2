/*
 * image_probe.c - the oracle for the simulated program image (kernel_sim/
 * task.h, The program image): a small PIE built on this machine prints how
 * the kernel and ld.so mapped it, from /proc/self/maps, as "key=value" lines:
 * the number of VMAs of its own file, then for each one its permissions and
 * the distance between its address (from the image's start) and its file
 * offset (0, or one page for the writable segment that shares a file page
 * with .rodata), then whether an anonymous bss VMA follows the image.
 * tests/test_oracle_kernel.c prints the same lines from the simulated
 * process's maps. Sizes are left out: they depend on this program's code.
 * Its bss is small (the buffer is on the stack), as the model's is.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char maps[1 << 16], self[4096], *line, *save;
	unsigned long base = 0, image_end = 0;
	int n = 0, bss = 0;
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	FILE *f = fopen("/proc/self/maps", "r");
	size_t got;

	if (len <= 0 || !f)
		return 1;
	self[len] = 0;
	got = fread(maps, 1, sizeof(maps) - 1, f);
	fclose(f);
	maps[got] = 0;
	for (line = strtok_r(maps, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long start, end, off;
		char perms[8], path[4096] = "";

		if (sscanf(line, "%lx-%lx %7s %lx %*s %*s %4095s", &start, &end, perms, &off,
		           path) < 4)
			return 1;
		if (strcmp(path, self) == 0) {
			if (n == 0)
				base = start;
			printf("image%d=%s skew=%#lx\n", n++, perms, start - base - off);
			image_end = end;
		} else if (n && start == image_end && !path[0] && strcmp(perms, "rw-p") == 0) {
			bss = 1;
		}
	}
	printf("image_vmas=%d\n", n);
	printf("anonymous_bss_after_image=%d\n", bss);
	return 0;
}
