/*
 * host_config.c - print this machine's configuration as the fidelity tests
 * need it (host_config.h): page size, the shared zero page, THP, overcommit,
 * ASLR. tests/support_oracle.c runs it and boots the simulation to match.
 */
#include <stdlib.h>

#include "tests/host/host_config.h"

int main(void)
{
	static char out[1024];
	size_t len = 0;

	host_config_print(out, &len, sizeof(out));
	return write(1, out, len) == (ssize_t)len ? 0 : 1;
}
