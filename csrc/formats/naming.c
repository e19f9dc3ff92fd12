#include "formats/naming.h"
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

vx_status vx_namer_init(vx_namer *n, const char *filename_template, const char *format,
                        vx_error *err)
{
    memset(n, 0, sizeof(*n));
    if (!filename_template || !*filename_template ||
        vx_template_new(filename_template, &n->tmpl, NULL) != VX_OK)
        vx_template_new(VX_FILENAME_TEMPLATE_DEFAULT, &n->tmpl, NULL);
    n->format = strdup(format ? format : "json");
    if (n->tmpl && n->format)
        return VX_OK;
    vx_namer_destroy(n);
    if (err) {
        err->status = VX_ENOMEM;
        err->line = err->column = 0;
        snprintf(err->message, sizeof err->message, "out of memory");
    }
    return VX_ENOMEM;
}

void vx_namer_destroy(vx_namer *n)
{
    if (!n)
        return;
    vx_template_free(n->tmpl);
    free(n->format);
    for (size_t i = 0; i < n->n_recent; i++)
        free(n->recent[i].base);
    memset(n, 0, sizeof(*n));
}

bool vx_namer_render(const vx_namer *n, int64_t now, vx_buf *name)
{
    char host[256] = "";
    char ts[24];
    if (gethostname(host, sizeof host - 1) != 0)
        host[0] = '\0';
    host[sizeof host - 1] = '\0';
    snprintf(ts, sizeof ts, "%lld", (long long)now);
    vx_buf_clear(name);
    vx_template_render_filename(n->tmpl, name, host, ts, n->format);
    vx_buf_putc(name, '\0');  /* a valid (empty) string even when nothing rendered */
    name->len--;
    return !name->failed;
}

bool vx_namer_with_counter(const char *base, uint64_t counter, vx_buf *name)
{
    const char *file = strrchr(base, '/');
    file = file ? file + 1 : base;
    const char *dot = strrchr(file, '.');
    size_t cut = dot && dot != file ? (size_t)(dot - base) : strlen(base);
    vx_buf_clear(name);
    vx_buf_append(name, base, cut);
    vx_buf_printf(name, "-%llu", (unsigned long long)counter);
    vx_buf_puts(name, base + cut);
    return !name->failed;
}

static vx_namer_entry *find(vx_namer *n, const char *base)
{
    for (size_t i = 0; i < n->n_recent; i++)
        if (strcmp(n->recent[i].base, base) == 0) {
            n->last = i;
            return &n->recent[i];
        }
    return NULL;
}

static vx_namer_entry *add(vx_namer *n, const char *base)
{
    char *copy = strdup(base);
    if (!copy)
        return NULL;
    size_t slot = n->insert_at;
    n->insert_at = (slot + 1) % VX_NAMER_RECENT;
    if (n->n_recent < VX_NAMER_RECENT)
        n->n_recent++;
    else
        free(n->recent[slot].base);
    n->recent[slot] = (vx_namer_entry){.base = copy, .next = 1};
    n->last = slot;
    return &n->recent[slot];
}

bool vx_namer_next(vx_namer *n, int64_t now, vx_buf *name)
{
    if (!vx_namer_render(n, now, name))
        return false;
    vx_namer_entry *e = find(n, name->data);
    if (!e) {
        n->have_last = add(n, name->data) != NULL;
        return n->have_last;
    }
    n->have_last = true;
    char *base = e->base;
    return vx_namer_with_counter(base, e->next++, name);
}

bool vx_namer_taken(vx_namer *n, vx_buf *name)
{
    if (!n->have_last)
        return false;
    vx_namer_entry *e = &n->recent[n->last];
    return vx_namer_with_counter(e->base, e->next++, name);
}
