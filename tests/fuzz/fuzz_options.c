/*
 * fuzz_options.c - libFuzzer harness: fuzz_options_one (tests/fuzz/fuzz_cmd.h) on
 * each input; a finding is a crash (abort), as is anything the sanitizers
 * or the simulator's own checks (panic) catch. Built and run by `make fuzz`
 * (tests/fuzz/fuzz.mk).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_options_one(data, size, stderr))
		abort();
	return 0;
}
