/* The CA bundle fallback: libcurl's compiled-in bundle when it exists, else
 * the first system bundle that does (a wheel's libcurl on another distro). */
#include "test.h"

#include "net/ca_bundle.h"

#include <unistd.h>

static void test_pick(void)
{
    char dir[] = "/tmp/vx_ca_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char there[64], missing[64], other[64];
    snprintf(there, sizeof there, "%s/bundle.pem", dir);
    snprintf(missing, sizeof missing, "%s/nope.pem", dir);
    snprintf(other, sizeof other, "%s/other.pem", dir);
    FILE *f = fopen(there, "w");
    fputs("-----BEGIN CERTIFICATE-----\n", f);
    fclose(f);
    const char *const candidates[] = {missing, there, NULL};
    /* The compiled-in bundle exists, or there is none: libcurl's choice stands. */
    CHECK(vx_ca_bundle_pick(there, candidates) == NULL);
    CHECK(vx_ca_bundle_pick(NULL, candidates) == NULL);
    /* It is missing: the first system bundle that exists. */
    CHECK_STR(vx_ca_bundle_pick(other, candidates), there);
    const char *const none[] = {missing, NULL};
    CHECK(vx_ca_bundle_pick(other, none) == NULL);
    unlink(there);
    rmdir(dir);
}

static void test_fallback_here(void)
{
    /* On the build machine libcurl's own bundle is in place: no override. */
    const char *fb = vx_ca_bundle_fallback();
    CHECK(fb == NULL || access(fb, R_OK) == 0);
    CHECK(vx_ca_bundle_fallback() == fb);
}

int main(void)
{
    RUN(test_pick);
    RUN(test_fallback_here);
    TEST_MAIN_END();
}
