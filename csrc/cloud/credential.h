/* Credentials that expire (an AWS session, a Google or Entra ID access
 * token), shared by every cloud provider in this folder: fetched on first
 * use, reused until `margin_ms` before they expire, refreshed by whichever
 * thread needs them first. Exporters, retrievers and notifiers ask for a copy
 * before each request, so a token is never read while it is replaced.
 * Secrets live only in these strings: they are wiped when freed and never
 * reach a message. */
#ifndef VX_CLOUD_CREDENTIAL_H
#define VX_CLOUD_CREDENTIAL_H

#include "vexil.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define VX_CRED_FIELDS 4

/* What a provider fills: the meaning of each field is the provider's (AWS:
 * access key id, secret key, session token; Google and Entra: the bearer
 * token). Fields are malloc'd strings or NULL. */
typedef struct vx_cred {
    char *field[VX_CRED_FIELDS];
    int64_t expires_at;            /* Unix ms; 0: does not expire */
} vx_cred;

/* Frees (and wipes) the fields. */
void vx_cred_clear(vx_cred *c);
/* Copies src into dst (dst cleared first). False when out of memory. */
bool vx_cred_copy(vx_cred *dst, const vx_cred *src);

/* Fetches a fresh credential into *out (zeroed on entry). Called with no
 * lock held by the cache, from the thread that asked. */
typedef vx_status (*vx_cred_fetch_fn)(void *user_data, vx_cred *out, vx_error *err);

typedef struct vx_cred_cache {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    vx_cred current;
    bool have, fetching;
    int64_t margin_ms;             /* refresh this long before expiry (default 5 min) */
    vx_cred_fetch_fn fetch;
    void *user_data;               /* borrowed */
} vx_cred_cache;

void vx_cred_cache_init(vx_cred_cache *c, vx_cred_fetch_fn fetch, void *user_data,
                        int64_t margin_ms);
void vx_cred_cache_destroy(vx_cred_cache *c);
/* A copy of a credential valid for at least the margin (fetching one when
 * needed; concurrent callers wait for that one fetch). The caller clears
 * *out. A failed fetch is returned and not cached: the next call tries again. */
vx_status vx_cred_cache_get(vx_cred_cache *c, vx_cred *out, vx_error *err);
/* Forgets the cached credential (the service refused it: 401/403). */
void vx_cred_cache_invalidate(vx_cred_cache *c);
/* For the fork child: a thread that held the lock or was fetching is gone. */
void vx_cred_cache_after_fork_child(vx_cred_cache *c);

/* Wall-clock Unix milliseconds. */
int64_t vx_cred_now_ms(void);

#endif
