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
} vx_logger;

void vx_logger_init(vx_logger *l);
void vx_logger_destroy(vx_logger *l);
void vx_logger_set(vx_logger *l, vx_log_level min_level, vx_log_fn fn, void *user_data);
/* True when a message at `level` would be delivered: test before formatting. */
bool vx_logger_enabled(const vx_logger *l, vx_log_level level);
void vx_logf(vx_logger *l, vx_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* For the fork child: the lock may have been held by a thread that is gone. */
void vx_logger_after_fork_child(vx_logger *l);

#endif
