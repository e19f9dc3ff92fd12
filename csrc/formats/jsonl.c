/* GOFF's JSON lines: one event's JSON and a newline per event. */
#include "events.h"
#include "formats/format.h"

bool vx_jsonl_write(vx_out *o, const vx_batch *batch)
{
    /* The events directly (this is the object stores' hot loop): the batch's
     * live range is events[off, count). */
    vx_event *const *ev = batch->events;
    vx_buf *b = o->buf;
    for (size_t i = batch->off; i < batch->count; i++) {
        vx_event_write_json(b, ev[i]);
        /* The event's writer leaves room for its terminating NUL. */
        if (b->len + 1 < b->cap) {
            b->data[b->len++] = '\n';
            b->data[b->len] = '\0';
        } else {
            vx_buf_putc(b, '\n');
        }
        if ((b->len >= o->flush_at && o->sink) || b->failed || o->tap || o->status != VX_OK) {
            if (!vx_out_check(o))
                return false;
        }
    }
    return true;
}
