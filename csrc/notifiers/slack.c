/* GOFF's Slack notifier (notifier/slacknotifier): an incoming-webhook
 * message with one attachment per changed flag (deleted, then updated, then
 * created; flag keys sorted within each group, where GOFF leaves Go's map
 * order), each updated flag with its field changes sorted by path.
 *
 * Slack's limits are kept, so a message is never refused for its size:
 * at most 100 attachments (past that 99 and a note, as GOFF's Discord
 * notifier does), field values cut at 2000 characters, and the whole text
 * under 40,000 characters (fields past that are summed up in one line).
 * Text is written as GOFF writes it (Go's JSON escaping, no mrkdwn
 * escaping), so a message matches GOFF's byte for byte but for the values
 * of changed fields (see diff_lines.h). */
#include "notifiers/chat.h"
#include "notifiers/diff_lines.h"
#include "notifiers/notifiers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOGO "https://raw.githubusercontent.com/thomaspoignant/go-feature-flag/main/logo_128.png"
#define FOOTER "go-feature-flag"
#define COLOR_DELETED "#FF0000"
#define COLOR_UPDATED "#FFA500"
#define COLOR_ADDED "#008000"
#define MAX_ATTACHMENTS 100
#define MAX_VALUE 2000
#define MAX_TEXT 40000
#define TOO_MANY "Wow, lots of updates!\nToo many to fit here. \xf0\x9f\x98\x94\n\nCheck the logs for the full list."

/* JSON string of s cut to `max` characters; returns the characters used. */
static size_t put_text(vx_buf *b, const char *s, size_t max)
{
    vx_buf cut;
    vx_buf_init(&cut);
    vx_text_put_cut(&cut, s, max);
    const char *text = cut.data ? cut.data : "";
    vx_chat_json_string(b, text);
    size_t units = vx_text_units(text, strlen(text));
    if (cut.failed)
        b->failed = true;
    vx_buf_free(&cut);
    return units;
}

typedef struct writer {
    vx_buf *b;
    size_t budget;      /* characters left for titles and fields */
    size_t attachments;
} writer;

static void attachment_start(writer *w, const char *color, const char *title)
{
    vx_buf *b = w->b;
    if (w->attachments++)
        vx_buf_putc(b, ',');
    vx_buf_printf(b, "{\"color\":\"%s\",\"title\":", color);
    size_t used = put_text(b, title, w->budget < 300 ? (w->budget ? w->budget : 1) : 300);
    w->budget = used < w->budget ? w->budget - used : 0;
}

static void attachment_end(vx_buf *b)
{
    vx_buf_puts(b, ",\"footer_icon\":\"" LOGO "\",\"footer\":\"" FOOTER "\"}");
}

static void field(writer *w, const char *title, const char *value, bool is_short)
{
    vx_buf *b = w->b;
    vx_buf_puts(b, "{\"title\":");
    size_t used = put_text(b, title, 300);
    vx_buf_puts(b, ",\"value\":");
    used += put_text(b, value, MAX_VALUE);
    vx_buf_printf(b, ",\"short\":%s}", is_short ? "true" : "false");
    w->budget = used < w->budget ? w->budget - used : 0;
}

static void flag_attachment(writer *w, const vx_flag_change *c, const char *color,
                            const char *fmt, bool updated)
{
    char title[600];
    snprintf(title, sizeof title, fmt, c->key);
    attachment_start(w, color, title);
    if (!updated) {
        vx_buf_puts(w->b, ",\"fields\":null");
        attachment_end(w->b);
        return;
    }
    vx_buf_puts(w->b, ",\"fields\":[");
    for (size_t i = 0; i < c->n_lines; i++) {
        const vx_diff_line *l = &c->lines[i];
        size_t cost = vx_text_units(l->path, strlen(l->path)) + vx_text_units(l->text, strlen(l->text));
        if (cost > MAX_VALUE + 300)
            cost = MAX_VALUE + 300;
        if (i)
            vx_buf_putc(w->b, ',');
        if (cost > w->budget) {
            char more[96];
            snprintf(more, sizeof more, "%zu more changes not shown (see the log)", c->n_lines - i);
            field(w, "\xe2\x80\xa6", more, false);
            break;
        }
        field(w, l->path, l->text, vx_diff_line_short(l));
    }
    vx_buf_putc(w->b, ']');
    attachment_end(w->b);
}

static void build(vx_buf *b, const vx_diff_lines *d)
{
    char host[256];
    vx_buf_puts(b, "{\"icon_url\":\"" LOGO "\",\"text\":");
    char text[400];
    snprintf(text, sizeof text, "Changes detected in your feature flag file on: *%s*",
             vx_text_hostname(host, sizeof host));
    vx_chat_json_string(b, text);
    vx_buf_puts(b, ",\"attachments\":[");
    /* Room kept for the notes that say what was left out (one per attachment at most). */
    writer w = {b, MAX_TEXT - 6000, 0};
    size_t total = vx_diff_lines_count(d);
    size_t room = total > MAX_ATTACHMENTS ? MAX_ATTACHMENTS - 1 : total;
    for (size_t i = 0; i < d->n_deleted && w.attachments < room; i++)
        flag_attachment(&w, &d->deleted[i], COLOR_DELETED, "\xe2\x9d\x8c Flag \"%s\" deleted", false);
    for (size_t i = 0; i < d->n_updated && w.attachments < room; i++)
        flag_attachment(&w, &d->updated[i], COLOR_UPDATED,
                        "\xe2\x9c\x8f\xef\xb8\x8f Flag \"%s\" updated", true);
    for (size_t i = 0; i < d->n_added && w.attachments < room; i++)
        flag_attachment(&w, &d->added[i], COLOR_ADDED, "\xf0\x9f\x86\x95 Flag \"%s\" created", false);
    if (total > room) {
        attachment_start(&w, COLOR_DELETED, TOO_MANY);
        vx_buf_puts(b, ",\"fields\":null");
        attachment_end(b);
    }
    vx_buf_puts(b, "]}");
}

static vx_status slack_notify(void *ud, const vx_notification *n, vx_error *err)
{
    vx_chat *c = ud;
    if (vx_notification_get_type(n) != VX_NOTIFY_CONFIG_CHANGED || !vx_notification_diff(n))
        return VX_OK;
    vx_diff_lines d;
    if (!vx_diff_lines_build(n, &d)) {
        if (err)
            snprintf(err->message, sizeof err->message, "%s: out of memory", c->what);
        return VX_ENOMEM;
    }
    vx_buf_clear(&c->body);
    build(&c->body, &d);
    vx_diff_lines_free(&d);
    return vx_chat_post(c, err);
}

bool vx_slack_notifier_make(vx_opts *o, vx_logger *log, vx_notifier_ops *ops, void **user_data)
{
    (void)log;
    static const char *const url_keys[] = {"webhookUrl", "slackWebhookUrl", NULL};
    vx_chat *c = vx_chat_new(o, "slack notifier", url_keys, "Content-type: application/json", 10000);
    if (!c)
        return false;
    ops->notify = slack_notify;
    ops->destroy = vx_chat_free;
    *user_data = c;
    return true;
}
