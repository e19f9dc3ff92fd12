/* GOFF's CSV: each event rendered through the template, no header row, no
 * quoting (GOFF's own rendering, byte for byte). */
#include "events.h"
#include "formats/format.h"

bool vx_csv_write(vx_out *o, const vx_template *t, const vx_batch *batch)
{
    size_t n = vx_batch_count(batch);
    for (size_t i = 0; i < n; i++) {
        vx_template_render_event(t, o->buf, vx_batch_event(batch, i));
        if (!vx_out_check(o))
            return false;
    }
    return true;
}
