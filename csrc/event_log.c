#include "pipeline_impl.h"

#include <stdlib.h>
#include <string.h>

void vx_log_init(vx_event_log *log)
{
    memset(log, 0, sizeof(*log));
}

static vx_log_seg *seg_new(vx_event_log *log, uint64_t base)
{
    vx_log_seg *s = log->spare;
    if (s)
        log->spare = NULL;
    else if (!(s = malloc(sizeof(*s))))
        return NULL;
    s->next = NULL;
    s->base = base;
    return s;
}

bool vx_log_append(vx_event_log *log, vx_event *ev)
{
    vx_log_seg *t = log->tail;
    if (!t || log->head - t->base >= VX_LOG_SEG) {
        vx_log_seg *s = seg_new(log, log->head);
        if (!s)
            return false;
        if (t)
            t->next = s;
        else
            log->first = s;
        log->tail = t = s;
    }
    ev->seq = log->head;
    t->slot[log->head - t->base] = ev;
    t->carved[log->head - t->base] = ev->slab ? ev->bytes : 0;
    log->head++;
    return true;
}

vx_log_seg *vx_log_seek(vx_event_log *log, vx_log_seg **hint, uint64_t seq)
{
    vx_log_seg *s = *hint ? *hint : log->first;
    while (s && s->next && seq >= s->base + VX_LOG_SEG)
        s = s->next;
    *hint = s;
    return s;
}

uint64_t vx_log_copy(vx_log_seg *seg, uint64_t from, uint64_t to, vx_event **out,
                     vx_release_plan *plan)
{
    uint64_t bytes = 0;
    bool planned = plan && plan->ok;
    vx_slab *run = NULL; /* the plan's run being counted: k events */
    uint32_t k = 0;
    while (from < to) {
        while (from >= seg->base + VX_LOG_SEG)
            seg = seg->next;
        uint64_t end = seg->base + VX_LOG_SEG < to ? seg->base + VX_LOG_SEG : to;
        size_t at = (size_t)(from - seg->base), n = (size_t)(end - from);
        memcpy(out, &seg->slot[at], n * sizeof(*out));
        const uint32_t *carved = &seg->carved[at];
        for (size_t i = 0; i < n; i++) {
            if (!carved[i]) {
                bytes += out[i]->bytes;
                if (planned)
                    vx_plan_add_lone(plan, out[i]);
                continue;
            }
            bytes += carved[i];
            vx_slab *s = vx_slab_of(out[i]);
            if (s != run) {
                if (planned)
                    vx_plan_add_run(plan, run, k);
                run = s;
                k = 0;
            }
            k++;
        }
        out += n;
        from = end;
    }
    if (planned)
        vx_plan_add_run(plan, run, k);
    return bytes;
}

void vx_log_trim(vx_event_log *log, uint64_t min_pos)
{
    while (log->first && log->first != log->tail && log->first->base + VX_LOG_SEG <= min_pos) {
        vx_log_seg *s = log->first;
        log->first = s->next;
        if (!log->spare)
            log->spare = s;
        else
            free(s);
    }
}

void vx_log_clear(vx_event_log *log)
{
    vx_log_seg *s = log->first;
    while (s) {
        vx_log_seg *n = s->next;
        free(s);
        s = n;
    }
    free(log->spare);
    log->first = log->tail = log->spare = NULL;
}
