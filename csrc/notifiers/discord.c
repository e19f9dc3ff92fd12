/* GOFF's Discord notifier (notifier/discordnotifier): one embed per changed
 * flag, sorted by title bytewise as GOFF sorts them (so updated, deleted,
 * created), and GOFF's cut: more than 10 embeds become 9 and a "lots of
 * updates" embed.
 *
 * Where GOFF sends what Discord refuses, vexil keeps Discord's documented
 * limits: 25 fields an embed (24 and a note past that), 256 characters a
 * title or field name, 1024 a field value, 6000 for all embeds together
 * (fields past that are summed up in one field). Characters are counted as
 * UTF-16 code units, as Discord counts them. */
#include "notifiers/chat.h"
#include "notifiers/diff_lines.h"
#include "notifiers/notifiers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COLOR_DELETED 15158332
#define COLOR_UPDATED 16753920
#define COLOR_ADDED 32768
#define MAX_EMBEDS 10
#define MAX_FIELDS 25
#define MAX_TITLE 256
#define MAX_NAME 256
#define MAX_VALUE 1024
#define MAX_TOTAL 6000
#define TOO_MANY "Wow, lots of updates!\nToo many to fit here. \xf0\x9f\x98\x94\n\nCheck the logs for the full list."

typedef struct embed {
    char *title;
    int color;
    const vx_flag_change *change;   /* updated flags: the fields */
} embed;

static int embed_cmp(const void *x, const void *y)
{
    return strcmp(((const embed *)x)->title, ((const embed *)y)->title);
}

/* A cut string's JSON; returns the units it counts. */
static size_t put_cut(vx_buf *b, const char *s, size_t max)
{
    vx_buf cut;
    vx_buf_init(&cut);
    vx_text_put_cut(&cut, s, max);
    const char *t = cut.data ? cut.data : "";
    vx_chat_json_string(b, t);
    size_t units = vx_text_units(t, strlen(t));
    if (cut.failed)
        b->failed = true;
    vx_buf_free(&cut);
    return units;
}

static size_t units_of(const char *s, size_t max)
{
    size_t u = vx_text_units(s, strlen(s));
    return u < max ? u : max;
}

/* A field; returns its units. */
static size_t put_field(vx_buf *b, bool first, const char *name, const char *value, bool in_line)
{
    if (!first)
        vx_buf_putc(b, ',');
    vx_buf_puts(b, "{\"name\":");
    size_t used = put_cut(b, name, MAX_NAME);
    vx_buf_puts(b, ",\"value\":");
    used += put_cut(b, value, MAX_VALUE);
    vx_buf_printf(b, ",\"inline\":%s}", in_line ? "true" : "false");
    return used;
}

/* The fields of an updated flag within *budget units. GOFF omits "fields"
 * when there are none. */
static void put_fields(vx_buf *b, const vx_flag_change *c, size_t *budget)
{
    if (!c || c->n_lines == 0)
        return;
    vx_buf_puts(b, ",\"fields\":[");
    for (size_t i = 0; i < c->n_lines; i++) {
        const vx_diff_line *l = &c->lines[i];
        size_t cost = units_of(l->path, MAX_NAME) + units_of(l->text, MAX_VALUE);
        bool last_slot = i == MAX_FIELDS - 1 && c->n_lines > MAX_FIELDS;
        if (last_slot || cost > *budget) {
            char more[96];
            snprintf(more, sizeof more, "%zu more changes not shown (see the log)", c->n_lines - i);
            size_t used = put_field(b, i == 0, "\xe2\x80\xa6", more, false);
            *budget = used < *budget ? *budget - used : 0;
            break;
        }
        size_t used = put_field(b, i == 0, l->path, l->text, vx_diff_line_short(l));
        *budget = used < *budget ? *budget - used : 0;
    }
    vx_buf_putc(b, ']');
}

static bool add_embeds(embed *es, size_t *n, const vx_flag_change *cs, size_t count,
                       const char *fmt, int color, bool updated)
{
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(fmt) + strlen(cs[i].key) + 1;
        char *t = malloc(len);
        if (!t)
            return false;
        snprintf(t, len, fmt, cs[i].key);
        es[(*n)++] = (embed){t, color, updated ? &cs[i] : NULL};
    }
    return true;
}

static bool build(vx_buf *b, const vx_diff_lines *d)
{
    size_t total = vx_diff_lines_count(d), n = 0;
    embed *es = calloc(total ? total : 1, sizeof *es);
    bool ok = es &&
              add_embeds(es, &n, d->deleted, d->n_deleted, "\xe2\x9d\x8c Flag \"%s\" deleted",
                         COLOR_DELETED, false) &&
              add_embeds(es, &n, d->updated, d->n_updated,
                         "\xe2\x9c\x8f\xef\xb8\x8f Flag \"%s\" updated", COLOR_UPDATED, true) &&
              add_embeds(es, &n, d->added, d->n_added, "\xf0\x9f\x86\x95 Flag \"%s\" created",
                         COLOR_ADDED, false);
    if (ok) {
        qsort(es, n, sizeof *es, embed_cmp);
        char host[256], content[400];
        snprintf(content, sizeof content, "Changes detected in your feature flag file on: **%s**",
                 vx_text_hostname(host, sizeof host));
        vx_buf_puts(b, "{\"content\":");
        put_cut(b, content, 2000);
        vx_buf_puts(b, ",\"embeds\":[");
        size_t shown = n > MAX_EMBEDS ? MAX_EMBEDS - 1 : n;
        /* Titles first: fields share what they leave. */
        size_t titles = n > shown ? units_of(TOO_MANY, MAX_TITLE) : 0;
        for (size_t i = 0; i < shown; i++)
            titles += units_of(es[i].title, MAX_TITLE);
        /* Each flag's summary field takes at most ~50 units. */
        size_t reserve = titles + 50 * shown;
        size_t budget = reserve < MAX_TOTAL ? MAX_TOTAL - reserve : 0;
        for (size_t i = 0; i < shown; i++) {
            vx_buf_puts(b, i ? ",{\"title\":" : "{\"title\":");
            put_cut(b, es[i].title, MAX_TITLE);
            vx_buf_printf(b, ",\"color\":%d", es[i].color);
            put_fields(b, es[i].change, &budget);
            vx_buf_putc(b, '}');
        }
        if (n > shown) {
            vx_buf_puts(b, ",{\"title\":");
            vx_chat_json_string(b, TOO_MANY);
            vx_buf_printf(b, ",\"color\":%d}", COLOR_DELETED);
        }
        vx_buf_puts(b, "]}");
    }
    for (size_t i = 0; es && i < n; i++)
        free(es[i].title);
    free(es);
    return ok;
}

static vx_status discord_notify(void *ud, const vx_notification *n, vx_error *err)
{
    vx_chat *c = ud;
    if (vx_notification_get_type(n) != VX_NOTIFY_CONFIG_CHANGED || !vx_notification_diff(n))
        return VX_OK;
    vx_diff_lines d;
    bool ok = vx_diff_lines_build(n, &d);
    vx_buf_clear(&c->body);
    if (ok) {
        ok = build(&c->body, &d);
        vx_diff_lines_free(&d);
    }
    if (!ok) {
        vx_buf_clear(&c->body);
        if (err)
            snprintf(err->message, sizeof err->message, "%s: out of memory", c->what);
        return VX_ENOMEM;
    }
    return vx_chat_post(c, err);
}

bool vx_discord_notifier_make(vx_opts *o, vx_logger *log, vx_notifier_ops *ops, void **user_data)
{
    (void)log;
    static const char *const url_keys[] = {"webhookUrl", NULL};
    vx_chat *c = vx_chat_new(o, "discord notifier", url_keys, "Content-Type: application/json",
                             10000);
    if (!c)
        return false;
    ops->notify = discord_notify;
    ops->destroy = vx_chat_free;
    *user_data = c;
    return true;
}
