#include "cpu_features.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* __builtin_cpu_supports takes a literal, hence the switch. */
static bool probe(vx_cpu_feature f)
{
    __builtin_cpu_init();
    switch (f) {
    case VX_CPU_SSE42:
        return __builtin_cpu_supports("sse4.2");
    case VX_CPU_PCLMUL:
        return __builtin_cpu_supports("pclmul");
    default:
        return false;
    }
}
#else
static bool probe(vx_cpu_feature f)
{
    (void)f;
    return false;
}
#endif

bool vx_cpu_has(vx_cpu_feature f)
{
    /* 0 unknown, 1 absent, 2 present. */
    static unsigned char known[VX_CPU_FEATURE_COUNT];
    if ((unsigned)f >= VX_CPU_FEATURE_COUNT)
        return false;
    unsigned char k = __atomic_load_n(&known[f], __ATOMIC_RELAXED);
    if (!k) {
        k = probe(f) ? 2 : 1;
        __atomic_store_n(&known[f], k, __ATOMIC_RELAXED);
    }
    return k == 2;
}
