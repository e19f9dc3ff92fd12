#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void vx_logger_init(vx_logger *l)
{
    pthread_mutex_init(&l->lock, NULL);
    l->fn = NULL;
    l->user_data = NULL;
    l->min_level = VX_LOG_OFF;
    l->refs = 0;
}

void vx_logger_destroy(vx_logger *l)
{
    pthread_mutex_destroy(&l->lock);
}

vx_logger *vx_logger_new(void)
{
    vx_logger *l = malloc(sizeof *l);
    if (l) {
        vx_logger_init(l);
        l->refs = 1;
    }
    return l;
}

vx_logger *vx_logger_ref(vx_logger *l)
{
    if (l)
        __atomic_add_fetch(&l->refs, 1, __ATOMIC_RELAXED);
    return l;
}

void vx_logger_unref(vx_logger *l)
{
    if (l && __atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        vx_logger_destroy(l);
        free(l);
    }
}

void vx_logger_set(vx_logger *l, vx_log_level min_level, vx_log_fn fn, void *user_data)
{
    pthread_mutex_lock(&l->lock);
    l->fn = fn;
    l->user_data = user_data;
    __atomic_store_n(&l->min_level, fn ? (int)min_level : VX_LOG_OFF, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&l->lock);
}

bool vx_logger_enabled(const vx_logger *l, vx_log_level level)
{
    return (int)level >= __atomic_load_n(&l->min_level, __ATOMIC_RELAXED) && level < VX_LOG_OFF;
}

void vx_logf(vx_logger *l, vx_log_level level, const char *fmt, ...)
{
    if (!l || !vx_logger_enabled(l, level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&l->lock);
    if (l->fn && (int)level >= l->min_level)
        l->fn(l->user_data, level, msg);
    pthread_mutex_unlock(&l->lock);
}

/* The lock is not taken in the fork's prepare handler (it is held while the
 * user's callback runs, which fork must not wait for), so a thread that does
 * not exist in the child may have held it: it can only be made anew. */
void vx_logger_after_fork_child(vx_logger *l)
{
    pthread_mutex_init(&l->lock, NULL);
}
