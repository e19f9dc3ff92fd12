/* Filling a caller's vx_error: one place for what every subsystem writes. */
#ifndef VX_ERROR_H
#define VX_ERROR_H

#include "vexil.h"

/* Sets err's status and printf-style message (cut to the message buffer) and
 * clears its position; a NULL err is ignored, since every vx_error argument
 * of the API may be NULL. */
void vx_error_setf(vx_error *err, vx_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
