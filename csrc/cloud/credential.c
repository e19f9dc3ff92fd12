/* Expiring credentials shared by the cloud providers: see credential.h. */
#include "cloud/credential.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void vx_cred_clear(vx_cred *c)
{
    for (int i = 0; i < VX_CRED_FIELDS; i++) {
        if (c->field[i]) {
            OPENSSL_cleanse(c->field[i], strlen(c->field[i]));
            free(c->field[i]);
        }
        c->field[i] = NULL;
    }
    c->expires_at = 0;
}

bool vx_cred_copy(vx_cred *dst, const vx_cred *src)
{
    vx_cred_clear(dst);
    for (int i = 0; i < VX_CRED_FIELDS; i++) {
        if (src->field[i] && !(dst->field[i] = strdup(src->field[i]))) {
            vx_cred_clear(dst);
            return false;
        }
    }
    dst->expires_at = src->expires_at;
    return true;
}

int64_t vx_cred_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vx_cred_cache_init(vx_cred_cache *c, vx_cred_fetch_fn fetch, void *user_data,
                        int64_t margin_ms)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->fetch = fetch;
    c->user_data = user_data;
    c->margin_ms = margin_ms > 0 ? margin_ms : 5 * 60 * 1000;
}

void vx_cred_cache_destroy(vx_cred_cache *c)
{
    vx_cred_clear(&c->current);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}

static bool fresh(const vx_cred_cache *c)
{
    return c->have && (c->current.expires_at == 0 ||
                       c->current.expires_at - c->margin_ms > vx_cred_now_ms());
}

vx_status vx_cred_cache_get(vx_cred_cache *c, vx_cred *out, vx_error *err)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&c->mu);
    while (!fresh(c) && c->fetching)
        pthread_cond_wait(&c->cv, &c->mu);
    if (fresh(c)) {
        bool ok = vx_cred_copy(out, &c->current);
        pthread_mutex_unlock(&c->mu);
        return ok ? VX_OK : VX_ENOMEM;
    }
    c->fetching = true;
    pthread_mutex_unlock(&c->mu);
    vx_cred got = {0};
    vx_status st = c->fetch(c->user_data, &got, err);
    pthread_mutex_lock(&c->mu);
    c->fetching = false;
    if (st == VX_OK) {
        vx_cred_clear(&c->current);
        c->current = got;
        c->have = true;
        if (!vx_cred_copy(out, &c->current))
            st = VX_ENOMEM;
    } else {
        vx_cred_clear(&got);
    }
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return st;
}

void vx_cred_cache_invalidate(vx_cred_cache *c)
{
    pthread_mutex_lock(&c->mu);
    c->have = false;
    vx_cred_clear(&c->current);
    pthread_mutex_unlock(&c->mu);
}

void vx_cred_cache_after_fork_child(vx_cred_cache *c)
{
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->fetching = false;
}
