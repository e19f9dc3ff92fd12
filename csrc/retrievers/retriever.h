/* What a flag source implements. retrievers/retriever.c owns everything the
 * sources share: the committed document of the last good refresh, the
 * pending one of the refresh in progress, the "same bytes: unchanged" rule,
 * deadlines and messages. A source only fetches: one file per kind (file.c,
 * http.c, s3.c...), each registered by name in registry.c.
 *
 * A source's messages name the retriever by position and kind ("retriever 2
 * (s3)"), never by URL, bucket key, header or token: any of those may carry
 * a credential. */
#ifndef VX_RETRIEVERS_RETRIEVER_H
#define VX_RETRIEVERS_RETRIEVER_H

#include "flag.h"
#include "live.h"
#include "log.h"
#include "net/http.h"
#include "options.h"
#include "vexil.h"

/* What the shared part hands a fetch. */
typedef struct vx_fetch_request {
    int64_t timeout_ms;          /* what is left before the refresh's deadline (> 0) */
    vx_http_cancel *cancel;      /* fired when the engine closes */
    /* Validators of the committed document ("" when none): a source that can
     * ask "changed since?" sends them and answers not_modified. */
    const char *etag;
    const char *last_modified;
    bool has_document;           /* a committed document exists (else a 304 is an error) */
} vx_fetch_request;

typedef struct vx_fetch_result {
    bool not_modified;           /* the committed document still holds */
    char *data;                  /* else: the document (malloc'd, taken over) */
    size_t len;
    char etag[256];              /* validators that came with it ("" when none) */
    char last_modified[128];
} vx_fetch_result;

typedef struct vx_source_ops {
    const char *kind;            /* "file", "http", "s3"... for messages */
    /* Fetches the document. On failure, err->message says why (no retriever
     * position: the shared part adds it). */
    vx_status (*fetch)(void *impl, const vx_fetch_request *req, vx_fetch_result *out,
                       vx_error *err);
    void (*free)(void *impl);
    /* Optional: a refresh was in flight in the parent; forget (leak) what it held. */
    void (*after_fork_child)(void *impl);
} vx_source_ops;

/* Wraps a source (ops borrowed: static storage; impl taken over, freed on
 * failure too). `format` is VX_FORMAT_AUTO to guess from the content. */
vx_retriever *vx_retriever_new(const vx_source_ops *ops, void *impl, vx_format format);

/* Adds a retriever to the engine (taken over, freed on failure). */
vx_status vx_engine_add_retriever_object(vx_engine *engine, vx_retriever *r);

/* The shared judgement of an HTTP answer to a conditional GET, for every
 * source that speaks HTTP (http, object stores, git hosts): 304 with a
 * committed document is not_modified; a 2xx takes the body (up to the
 * response limit) and the validators; anything else is VX_EHTTP with the
 * status and `detail` (may be NULL: the service's error code, say) in *err. */
vx_status vx_fetch_take_http(const vx_fetch_request *req, vx_http_response *resp,
                             const char *detail, vx_fetch_result *out, vx_error *err);

/* The format a URL's or object key's path names (query and fragment ignored). */
vx_format vx_format_for_url(const char *url);

/* The registry (registry.c): a kind made from GOFF-keyed options. make()
 * reads the kind's keys from `o` (the registry reads "kind" and "format")
 * and returns the source, or NULL with the error recorded in `o`. *format
 * comes in as the "format" key says (VX_FORMAT_AUTO when absent); a source
 * refines AUTO from what it reads (a path's or object key's extension). */
typedef void *(*vx_source_make_fn)(vx_opts *o, vx_logger *log, vx_format *format,
                                   const vx_source_ops **ops);

typedef struct vx_retriever_kind {
    const char *name;            /* GOFF's kind: "file", "http", "s3"... */
    vx_source_make_fn make;
} vx_retriever_kind;

/* The kind named `name` (case-insensitive), or NULL. */
const vx_retriever_kind *vx_retriever_kind_find(const char *name);

/* Each kind's constructor, defined in its own file. */
void *vx_file_source_make(vx_opts *o, vx_logger *log, vx_format *format,
                          const vx_source_ops **ops);
void *vx_http_source_make(vx_opts *o, vx_logger *log, vx_format *format,
                          const vx_source_ops **ops);
void *vx_s3_source_make(vx_opts *o, vx_logger *log, vx_format *format,
                        const vx_source_ops **ops);
void *vx_github_source_make(vx_opts *o, vx_logger *log, vx_format *format,
                            const vx_source_ops **ops);
void *vx_gitlab_source_make(vx_opts *o, vx_logger *log, vx_format *format,
                            const vx_source_ops **ops);
void *vx_bitbucket_source_make(vx_opts *o, vx_logger *log, vx_format *format,
                               const vx_source_ops **ops);
void *vx_gcs_source_make(vx_opts *o, vx_logger *log, vx_format *format,
                         const vx_source_ops **ops);
void *vx_azblob_source_make(vx_opts *o, vx_logger *log, vx_format *format,
                            const vx_source_ops **ops);

#endif
