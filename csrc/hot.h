/* VX_HOT marks the functions an evaluation runs through (engine, evaluator,
 * query, context, result, the pipeline's recording). The compiler puts them
 * together in .text.hot, so the evaluation's code lies in a few pages and
 * cache sets whatever else the library holds: without it, unrelated code
 * that grew (an exporter, a checksum) moved these functions and changed an
 * evaluation's time by 5 to 10% from one build to the next. */
#ifndef VX_HOT_H
#define VX_HOT_H

#if defined(__GNUC__) || defined(__clang__)
#define VX_HOT __attribute__((hot))
#else
#define VX_HOT
#endif

#endif
