/* What the git-host retrievers (github.c, gitlab.c, bitbucket.c) share:
 * GOFF's keys ("repositorySlug" and "path" required, "branch" default
 * "main", "token" a secret, "baseUrl", "timeout" in ms) plus vexil's TLS
 * and size options; ".." in a slug or path refused, as GOFF refuses it;
 * the GET with GOFF's headers, made conditional (If-None-Match /
 * If-Modified-Since: an unchanged file costs a 304, which GitHub does not
 * count against its rate limit); and the rate limit honoured: once the
 * host says none are left (its remaining-requests header at 0) or asks to
 * wait (429 / 403 with Retry-After), no request is made before the reset
 * time, and the refresh fails with VX_ELIMIT saying until when.
 *
 * The token goes into one request header and nowhere else: never into a
 * message, a log line or the URL. Messages name neither the URL nor the
 * slug (the shared part names the retriever by position). */
#ifndef VX_RETRIEVERS_GIT_H
#define VX_RETRIEVERS_GIT_H

#include "buf.h"
#include "retrievers/retriever.h"

typedef struct vx_git_kind {
    const char *name;                  /* "github" */
    const vx_source_ops *ops;          /* the kind's ops, whose fetch/free are vx_git_* */
    const char *default_base;          /* "https://api.github.com" */
    const char *const *token_keys;     /* GOFF's key first, deprecated spellings after */
    const char *token_header;          /* "Authorization: Bearer " */
    const char *const *headers;        /* fixed request headers, NULL-terminated */
    const char *remaining_header;      /* "X-RateLimit-Remaining" */
    const char *reset_header;          /* "X-RateLimit-Reset": Unix seconds */
    /* The request URL for the (checked) settings. */
    void (*build_url)(vx_buf *url, const char *base, const char *slug, const char *path,
                      const char *branch);
} vx_git_kind;

/* Reads the keys and makes the source (NULL with the error recorded in o). */
void *vx_git_source_make(vx_opts *o, const vx_git_kind *kind, vx_format *format,
                         const vx_source_ops **ops);
vx_status vx_git_fetch(void *impl, const vx_fetch_request *req, vx_fetch_result *out,
                       vx_error *err);
void vx_git_free(void *impl);

/* ---- URL pieces, escaped as Go's net/url escapes them ---------------------- */

/* url.QueryEscape: all but A-Z a-z 0-9 - _ . ~ escaped, space as '+'. */
void vx_url_query_escape(vx_buf *b, const char *s);
/* A path's segments as URL.EscapedPath() writes them, joined by '/'; empty
 * and "." segments dropped (Go's path.Join cleaning). */
void vx_url_path_escape(vx_buf *b, const char *path);
/* The base URL without its trailing slashes. */
void vx_url_base(vx_buf *b, const char *base);

#endif
