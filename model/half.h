/* half: IEEE binary16 (round to nearest even), the storage of fp16 checkpoints and of the
   generation step's weights (halfstep.c). */
#ifndef RLCHAT_HALF_H
#define RLCHAT_HALF_H

#include <stddef.h>
#include <stdint.h>

uint16_t float_to_half(float f);
float half_to_float(uint16_t h);
/* dst[i] = float_to_half(src[i]), vectorized where the CPU converts in hardware (F16C). */
void floats_to_halves(uint16_t *dst, const float *src, size_t n);
/* dst[i] = the i-th of n little-endian halves at src (any alignment), widened in
   hardware (F16C) where the CPU can. */
void halves_to_floats(float *dst, const void *src, size_t n);

#endif
