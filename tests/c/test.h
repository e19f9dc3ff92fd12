/* A minimal test harness for the C tests: each test is a function, checks
 * report file:line and keep going, main() returns non-zero on any failure. */
#ifndef VX_TEST_H
#define VX_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int vx_test_failures;
static int vx_test_checks;
static const char *vx_test_current;

#define CHECK(cond)                                                                    \
    do {                                                                               \
        vx_test_checks++;                                                              \
        if (!(cond)) {                                                                 \
            vx_test_failures++;                                                        \
            fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__,       \
                    vx_test_current, #cond);                                           \
        }                                                                              \
    } while (0)

#define CHECK_INT(actual, expected)                                                    \
    do {                                                                               \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                \
        vx_test_checks++;                                                              \
        if (a_ != e_) {                                                                \
            vx_test_failures++;                                                        \
            fprintf(stderr, "%s:%d: %s: %s == %lld, expected %lld\n", __FILE__,        \
                    __LINE__, vx_test_current, #actual, a_, e_);                       \
        }                                                                              \
    } while (0)

#define CHECK_STR(actual, expected)                                                    \
    do {                                                                               \
        const char *a_ = (actual), *e_ = (expected);                                   \
        vx_test_checks++;                                                              \
        if (!a_ || !e_ || strcmp(a_, e_) != 0) {                                       \
            vx_test_failures++;                                                        \
            fprintf(stderr, "%s:%d: %s: %s == \"%s\", expected \"%s\"\n", __FILE__,    \
                    __LINE__, vx_test_current, #actual, a_ ? a_ : "(null)",            \
                    e_ ? e_ : "(null)");                                               \
        }                                                                              \
    } while (0)

#define RUN(fn)                                                                        \
    do {                                                                               \
        vx_test_current = #fn;                                                         \
        int before_ = vx_test_failures;                                                \
        fn();                                                                          \
        if (getenv("VX_TEST_VERBOSE"))                                                 \
            fprintf(stderr, "%s %s\n", vx_test_failures == before_ ? "ok  " : "FAIL", #fn); \
    } while (0)

#define TEST_MAIN_END()                                                                \
    do {                                                                               \
        fprintf(stderr, "%s: %d checks, %d failures\n", __FILE__, vx_test_checks,      \
                vx_test_failures);                                                     \
        return vx_test_failures ? 1 : 0;                                               \
    } while (0)

#endif
