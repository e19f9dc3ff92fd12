/* Filling a caller's vx_error (error.h). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

void vx_error_setf(vx_error *err, vx_status st, const char *fmt, ...)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
}
