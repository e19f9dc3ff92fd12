/* cloud/credential: one fetch for concurrent callers, reuse until the
 * margin before expiry, no caching of failures, invalidation. */
#include "cloud/credential.h"
#include "test.h"

#include <stdatomic.h>
#include <unistd.h>

typedef struct source {
    atomic_int fetches;
    int64_t lifetime_ms;
    bool fail;
} source;

static vx_status fetch(void *ud, vx_cred *out, vx_error *err)
{
    source *s = ud;
    int n = atomic_fetch_add(&s->fetches, 1) + 1;
    usleep(20000); /* slow enough for the other threads to pile up */
    if (s->fail) {
        snprintf(err->message, sizeof err->message, "refused");
        return VX_EHTTP;
    }
    char tok[32];
    snprintf(tok, sizeof tok, "token-%d", n);
    out->field[0] = strdup(tok);
    out->expires_at = s->lifetime_ms ? vx_cred_now_ms() + s->lifetime_ms : 0;
    return VX_OK;
}

static void *getter(void *arg)
{
    vx_cred_cache *c = arg;
    vx_cred cred;
    vx_error err = {0};
    if (vx_cred_cache_get(c, &cred, &err) == VX_OK && cred.field[0] &&
        strcmp(cred.field[0], "token-1") != 0)
        return (void *)1;
    vx_cred_clear(&cred);
    return NULL;
}

static void test_one_fetch_for_many_threads(void)
{
    source s = {.lifetime_ms = 3600 * 1000};
    vx_cred_cache c;
    vx_cred_cache_init(&c, fetch, &s, 0);
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, getter, &c);
    int bad = 0;
    for (int i = 0; i < 8; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += r != NULL;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(atomic_load(&s.fetches), 1);
    vx_cred_cache_destroy(&c);
}

static void test_expiry_failure_and_invalidate(void)
{
    source s = {.lifetime_ms = 1000};  /* inside the 5-minute margin: always stale */
    vx_cred_cache c;
    vx_cred_cache_init(&c, fetch, &s, 0);
    vx_cred cred;
    vx_error err = {0};
    CHECK_INT(vx_cred_cache_get(&c, &cred, &err), VX_OK);
    vx_cred_clear(&cred);
    CHECK_INT(vx_cred_cache_get(&c, &cred, &err), VX_OK);
    CHECK_STR(cred.field[0], "token-2");
    vx_cred_clear(&cred);
    s.lifetime_ms = 0;  /* never expires */
    CHECK_INT(vx_cred_cache_get(&c, &cred, &err), VX_OK);
    vx_cred_clear(&cred);
    CHECK_INT(vx_cred_cache_get(&c, &cred, &err), VX_OK);
    CHECK_STR(cred.field[0], "token-3");
    vx_cred_clear(&cred);
    vx_cred_cache_invalidate(&c);
    s.fail = true;
    CHECK_INT(vx_cred_cache_get(&c, &cred, &err), VX_EHTTP);
    CHECK_STR(err.message, "refused");
    CHECK(cred.field[0] == NULL);
    s.fail = false;
    CHECK_INT(vx_cred_cache_get(&c, &cred, &err), VX_OK);  /* the failure was not cached */
    CHECK_STR(cred.field[0], "token-5");
    vx_cred_clear(&cred);
    vx_cred_cache_destroy(&c);
}

int main(void)
{
    RUN(test_one_fetch_for_many_threads);
    RUN(test_expiry_failure_and_invalidate);
    TEST_MAIN_END();
}
