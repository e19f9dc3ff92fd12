/* GOFF's Microsoft Teams notifier (notifier/microsoftteamsnotifier, through
 * go-teams-notify's adaptivecard.NewSimpleMessage): an Adaptive Card with a
 * "GO Feature Flag" heading and one markdown text: the host line, then the
 * deleted, created and updated flags (each group sorted), each updated flag
 * with its field changes sorted by path.
 *
 * Teams takes webhooks through Workflows now (Microsoft retired the Office
 * 365 connectors): the URL is checked to be a Workflows one (Power Automate
 * / Logic Apps hosts) unless "validateUrl" is false; a legacy connector URL
 * is accepted with a warning. Teams refuses messages over 28 KB: lines past
 * that are summed up in one line. Any 2xx is success (Workflows answers
 * 202). */
#include "notifiers/chat.h"
#include "notifiers/diff_lines.h"
#include "notifiers/notifiers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Teams' limit is 28 KB for the whole message; the card around the text
 * takes about 500 bytes, and JSON escaping can grow the text a little. */
#define MAX_TEXT_BYTES 26000

static const char *const workflow_hosts[] = {"logic.azure.com", "logic.azure.net",
                                             "api.powerplatform.com", "api.powerplatform.net",
                                             "azure-api.net", "azure-api.com", NULL};
static const char *const connector_hosts[] = {"webhook.office.com", "outlook.office.com",
                                              "outlook.office365.com", NULL};

/* The host of an https URL, into out; false for anything else. */
static bool https_host(const char *url, char *out, size_t cap)
{
    if (strncasecmp(url, "https://", 8) != 0)
        return false;
    const char *h = url + 8;
    size_t n = strcspn(h, "/?#:");
    const char *at = memchr(h, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - h);
        h = at + 1;
    }
    if (n == 0 || n >= cap)
        return false;
    memcpy(out, h, n);
    out[n] = '\0';
    return true;
}

static bool host_in(const char *host, const char *const *suffixes)
{
    size_t hl = strlen(host);
    for (size_t i = 0; suffixes[i]; i++) {
        size_t sl = strlen(suffixes[i]);
        if (hl == sl && strcasecmp(host, suffixes[i]) == 0)
            return true;
        if (hl > sl && host[hl - sl - 1] == '.' && strcasecmp(host + hl - sl, suffixes[i]) == 0)
            return true;
    }
    return false;
}

typedef struct text {
    vx_buf b;
    size_t skipped;
} text;

/* Appends one line unless the text is full: then counts it as skipped. */
static void line(text *t, const char *fmt, const char *a, const char *b)
{
    char tmp[8192];
    int n = snprintf(tmp, sizeof tmp, fmt, a, b);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1;
    if (t->skipped || t->b.len + len > MAX_TEXT_BYTES) {
        t->skipped++;
        return;
    }
    vx_buf_append(&t->b, tmp, len);
}

static void build_text(text *t, const vx_diff_lines *d)
{
    char host[256];
    vx_buf_printf(&t->b, "Changes detected in your feature flag file on: **%s**",
                  vx_text_hostname(host, sizeof host));
    for (size_t i = 0; i < d->n_deleted; i++)
        line(t, "\n * \xe2\x9d\x8c Flag **%s** deleted%s", d->deleted[i].key, "");
    for (size_t i = 0; i < d->n_added; i++)
        line(t, "\n * \xf0\x9f\x86\x95 Flag **%s** created%s", d->added[i].key, "");
    for (size_t i = 0; i < d->n_updated; i++) {
        const vx_flag_change *c = &d->updated[i];
        line(t, "\n * \xe2\x9c\x8f\xef\xb8\x8f Flag **%s** updated%s", c->key, "");
        for (size_t j = 0; j < c->n_lines; j++)
            line(t, "\n   * %s: %s", c->lines[j].path, c->lines[j].text);
    }
    if (t->skipped)
        vx_buf_printf(&t->b, "\n * \xe2\x80\xa6 %zu more lines not shown (see the log)", t->skipped);
}

static void build(vx_buf *b, const char *markdown)
{
    vx_buf_puts(b, "{\"type\":\"message\",\"attachments\":[{\"contentType\":"
                   "\"application/vnd.microsoft.card.adaptive\",\"content\":{\"type\":"
                   "\"AdaptiveCard\",\"$schema\":\"http://adaptivecards.io/schemas/adaptive-card.json\","
                   "\"version\":\"1.4\",\"body\":[{\"type\":\"TextBlock\",\"text\":\"GO Feature Flag\","
                   "\"size\":\"large\",\"weight\":\"bolder\",\"style\":\"heading\",\"wrap\":true},"
                   "{\"type\":\"TextBlock\",\"text\":");
    vx_chat_json_string(b, markdown);
    vx_buf_puts(b, ",\"wrap\":true}],\"msteams\":{}}}]}");
}

static vx_status teams_notify(void *ud, const vx_notification *n, vx_error *err)
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
    text t = {0};
    vx_buf_init(&t.b);
    build_text(&t, &d);
    vx_diff_lines_free(&d);
    vx_buf_clear(&c->body);
    if (t.b.failed)
        c->body.failed = true;
    else
        build(&c->body, t.b.data);
    vx_buf_free(&t.b);
    return vx_chat_post(c, err);
}

bool vx_teams_notifier_make(vx_opts *o, vx_logger *log, vx_notifier_ops *ops, void **user_data)
{
    static const char *const url_keys[] = {"webhookUrl", NULL};
    bool validate = true;
    vx_opts_bool(o, "validateUrl", &validate);
    vx_chat *c = vx_chat_new(o, "microsoftteams notifier", url_keys,
                             "Content-Type: application/json;charset=utf-8", 5000);
    if (!c)
        return false;
    char host[256];
    bool https = https_host(c->url, host, sizeof host);
    if (validate && !(https && (host_in(host, workflow_hosts) || host_in(host, connector_hosts)))) {
        vx_chat_free(c);
        return vx_opts_fail(o, VX_EINVAL, "webhookUrl",
                            "not a Microsoft Teams Workflows URL (https://...logic.azure.com/... "
                            "or ...api.powerplatform.com/...); set validateUrl to false to allow it");
    }
    if (validate && host_in(host, connector_hosts) && log)
        vx_logf(log, VX_LOG_WARN,
                "%s%smicrosoftteams notifier: an Office 365 connector URL; Microsoft retired "
                "connectors, create a Workflows webhook instead",
                o->path, o->path[0] ? ": " : "");
    ops->notify = teams_notify;
    ops->destroy = vx_chat_free;
    *user_data = c;
    return true;
}
