/* The engine's diagnostics channel: a host callback with a level filter.
 * Nothing in vexil prints; everything worth saying goes through here. */
#ifndef VX_LOG_H
#define VX_LOG_H

#include "vexil.h"

#include <pthread.h>

typedef struct vx_logger {
    pthread_mutex_t lock;   /* guards fn/user_data changes against emits */
    vx_log_fn fn;
    void *user_data;
    int min_level;          /* read without the lock as a fast filter */
    int refs;               /* vx_logger_new's: atomic */
} vx_logger;

/* A logger embedded in something else (a parser's own, say). */
void vx_logger_init(vx_logger *l);
void vx_logger_destroy(vx_logger *l);

/* The engine's logger is shared: the pipeline and the notifier hub keep a
 * reference, so a thread that close() abandoned (an exporter or notifier
 * stuck in a request) may still log after vx_engine_free(). The engine
 * silences it first (vx_logger_set(l, VX_LOG_OFF, NULL, NULL)): the user's
 * callback is never called once vx_engine_free() has returned. */
vx_logger *vx_logger_new(void);           /* NULL when out of memory */
vx_logger *vx_logger_ref(vx_logger *l);   /* returns l */
void vx_logger_unref(vx_logger *l);       /* NULL allowed */
void vx_logger_set(vx_logger *l, vx_log_level min_level, vx_log_fn fn, void *user_data);
/* True when a message at `level` would be delivered: test before formatting. */
bool vx_logger_enabled(const vx_logger *l, vx_log_level level);
void vx_logf(vx_logger *l, vx_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* For the fork child: the lock may have been held by a thread that is gone. */
void vx_logger_after_fork_child(vx_logger *l);

#endif
