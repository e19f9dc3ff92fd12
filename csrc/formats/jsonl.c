/* GOFF's JSON lines: one event's JSON and a newline per event. */
#include "events.h"
#include "formats/format.h"

bool vx_jsonl_write(vx_out *o, const vx_batch *batch)
{
    size_t n = vx_batch_count(batch);
    for (size_t i = 0; i < n; i++) {
        vx_event_write_json(o->buf, vx_batch_event(batch, i));
        vx_buf_putc(o->buf, '\n');
        if (!vx_out_check(o))
            return false;
    }
    return true;
}
