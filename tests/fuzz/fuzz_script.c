/*
 * fuzz_script.c - libFuzzer harness: fuzz_script_one (tests/fuzz/fuzz_decode.h) on
 * each input; a finding of the checkers is a crash (abort), as is anything
 * the sanitizers catch. Built and run by `make fuzz` (tests/fuzz/fuzz.mk).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_script_one(data, size, stderr))
		abort();
	return 0;
}
