/* What the chat notifiers (slack.c, discord.c, teams.c) share: GOFF's
 * "webhookUrl" key (a secret: the URL is the credential, so it never
 * appears in a message or a log line), vexil's HTTP options, and the POST
 * with the service's answer judged for the hub's retries: 2xx delivered;
 * 429, 408 and 5xx (and transport errors) retried, after Retry-After when
 * the service sends one; any other status permanent. A failure's message
 * holds the status and an excerpt of the service's answer. */
#ifndef VX_NOTIFIERS_CHAT_H
#define VX_NOTIFIERS_CHAT_H

#include "buf.h"
#include "net/http.h"
#include "options.h"
#include "vexil.h"

typedef struct vx_chat {
    const char *what;            /* "slack notifier": for messages */
    char *url;
    const char *content_type;    /* the Content-Type header line */
    int64_t timeout_ms;
    bool insecure;
    char *ca_file;
    vx_http_client *http;
    vx_buf body;                 /* the request body, built by the notifier */
} vx_chat;

/* Reads the URL from the first of `url_keys` present (GOFF's current key
 * first, deprecated spellings after), "timeout" (ms, default
 * `default_timeout_ms`), "insecureSkipVerify" and "caFile". NULL with the
 * error recorded in `o`. */
vx_chat *vx_chat_new(vx_opts *o, const char *what, const char *const *url_keys,
                     const char *content_type, int64_t default_timeout_ms);
/* Shaped as a notifier's destroy callback. */
void vx_chat_free(void *chat);
/* POSTs c->body and clears it. */
vx_status vx_chat_post(vx_chat *c, vx_error *err);

/* Appends `s` as a JSON string (Go's escaping). */
void vx_chat_json_string(vx_buf *b, const char *s);

#endif
