/* Process-wide state: libcurl's global initialisation and the fork handlers,
 * which walk the registry of live engines so that no engine or pipeline lock
 * is copied into a child in the middle of a critical section. */
#include "engine.h"
#include "events.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static vx_status g_status = VX_OK;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static vx_engine **g_engines;
static size_t g_count, g_cap;

static void on_prepare(void)
{
    pthread_mutex_lock(&g_mu);
    for (size_t i = 0; i < g_count; i++) {
        vx_engine_atfork_prepare(g_engines[i]);
        vx_pipeline_atfork_prepare(vx_engine_pipeline(g_engines[i]));
    }
    /* Last: it is taken under pipeline locks, never the other way round. */
    vx_event_pool_atfork_prepare();
}

static void on_parent(void)
{
    vx_event_pool_atfork_parent();
    for (size_t i = g_count; i-- > 0;) {
        vx_pipeline_atfork_parent(vx_engine_pipeline(g_engines[i]));
        vx_engine_atfork_parent(g_engines[i]);
    }
    pthread_mutex_unlock(&g_mu);
}

static void on_child(void)
{
    vx_event_pool_atfork_child();
    for (size_t i = g_count; i-- > 0;) {
        vx_pipeline_atfork_child(vx_engine_pipeline(g_engines[i]));
        vx_engine_atfork_child(g_engines[i]);
    }
    /* Taken in on_prepare by this thread, whose copy owns it here. */
    pthread_mutex_unlock(&g_mu);
}

static void global_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        g_status = VX_ENOMEM;
        return;
    }
    if (pthread_atfork(on_prepare, on_parent, on_child) != 0)
        g_status = VX_ENOMEM;
}

vx_status vx_global_init(void)
{
    pthread_once(&g_once, global_init_once);
    return g_status;
}

void vx_global_register(vx_engine *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&g_mu);
    if (g_count == g_cap) {
        size_t cap = g_cap ? g_cap * 2 : 8;
        vx_engine **n = realloc(g_engines, cap * sizeof(*n));
        if (!n) {
            /* Without a slot the engine misses the fork handlers, nothing else. */
            pthread_mutex_unlock(&g_mu);
            return;
        }
        g_engines = n;
        g_cap = cap;
    }
    g_engines[g_count++] = e;
    pthread_mutex_unlock(&g_mu);
}

void vx_global_unregister(vx_engine *e)
{
    pthread_mutex_lock(&g_mu);
    for (size_t i = 0; i < g_count; i++) {
        if (g_engines[i] == e) {
            g_engines[i] = g_engines[--g_count];
            break;
        }
    }
    if (g_count == 0) {
        free(g_engines);
        g_engines = NULL;
        g_cap = 0;
    }
    pthread_mutex_unlock(&g_mu);
}
