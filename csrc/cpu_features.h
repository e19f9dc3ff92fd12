#ifndef VX_CPU_FEATURES_H
#define VX_CPU_FEATURES_H

#include <stdbool.h>

/* The instruction-set extensions that vexil's own vector paths choose
 * between at run time. Code that uses one is compiled for it with a target
 * attribute and called only when vx_cpu_has() says so; everything has a
 * portable fallback. */
typedef enum vx_cpu_feature {
    VX_CPU_SSE42,  /* the crc32 instruction: CRC-32C */
    VX_CPU_PCLMUL, /* carry-less multiply: CRC-64 folding */
    VX_CPU_FEATURE_COUNT
} vx_cpu_feature;

/* True when this CPU has f. Always false off x86-64 or outside GCC/Clang.
 * Thread-safe: the first answer is cached, and threads racing to compute it
 * store the same value. */
bool vx_cpu_has(vx_cpu_feature f);

#endif
