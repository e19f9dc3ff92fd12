/* GOFF's JSON lines: one event's JSON and a newline per event. */
#include "events.h"
#include "formats/format.h"

/* Events written while the next ones are fetched: enough to cover the
 * memory's latency at some 50 ns per line. */
#define PREFETCH_AHEAD 8

bool vx_jsonl_write(vx_out *o, const vx_batch *batch)
{
    /* The events directly (this is the object stores' hot loop): the batch's
     * live range is events[off, count). */
    vx_event *const *ev = batch->events;
    vx_buf *b = o->buf;
    for (size_t i = batch->off; i < batch->count; i++) {
        /* An event and its strings (about 250 bytes in one piece) are
         * rarely in cache when their line is written: without asking for
         * them ahead, the first reads of each event waited for memory
         * (about 40% of the writer's time in a profile). */
        if (i + PREFETCH_AHEAD < batch->count) {
            const char *p = (const char *)ev[i + PREFETCH_AHEAD];
            __builtin_prefetch(p);
            __builtin_prefetch(p + 64);
            __builtin_prefetch(p + 128);
            __builtin_prefetch(p + 192);
        }
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
