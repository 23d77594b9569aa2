/*
 * zero_loop.h - the loop of clear_page (phys.c), also timed alone by
 * tests/bench/zero_overlap.c. x86-64: include <immintrin.h> first.
 */
#ifndef VM_ZERO_LOOP_H
#define VM_ZERO_LOOP_H

/* Sixteen aligned stores of the vector type vec_t a turn, over the n bytes
   at p (a multiple of 16 vectors): 8 turns a page with AVX2, so the loop's
   own instructions (an add, a compare and a branch a turn) are few beside
   the stores, whose speed is the page's (169 instructions a page; 244 with
   four stores a turn). */
#define ZERO_WITH(vec_t, p, n)                                                                     \
	do {                                                                                       \
		const vec_t z_ = {0};                                                              \
		for (unsigned i_ = 0; i_ < (n); i_ += 16 * sizeof(vec_t)) {                        \
			vec_t *v_ = (vec_t *)((p) + i_);                                           \
			v_[0] = z_, v_[1] = z_, v_[2] = z_, v_[3] = z_;                            \
			v_[4] = z_, v_[5] = z_, v_[6] = z_, v_[7] = z_;                            \
			v_[8] = z_, v_[9] = z_, v_[10] = z_, v_[11] = z_;                          \
			v_[12] = z_, v_[13] = z_, v_[14] = z_, v_[15] = z_;                        \
		}                                                                                  \
	} while (0)

#endif
