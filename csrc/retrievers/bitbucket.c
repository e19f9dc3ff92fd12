/* GOFF's Bitbucket retriever (retriever/bitbucketretriever): GET
 * {baseUrl}/2.0/repositories/{slug}/src/{branch}/{path} with Accept:
 * application/json and Authorization: Bearer <token> (a repository or
 * workspace access token); baseUrl is https://api.bitbucket.org. GOFF reads
 * X-RateLimit-Limit as the remaining count (so it never sees the limit
 * run out); vexil reads X-RateLimit-Remaining (git.h). */
#include "retrievers/git.h"

static void bitbucket_url(vx_buf *url, const char *base, const char *slug, const char *path,
                          const char *branch)
{
    vx_url_base(url, base);
    vx_buf_puts(url, "/2.0/repositories/");
    vx_url_path_escape(url, slug);
    vx_buf_puts(url, "/src/");
    vx_url_path_escape(url, branch);
    vx_buf_putc(url, '/');
    vx_url_path_escape(url, path);
}

static const vx_source_ops bitbucket_ops = {.kind = "bitbucket", .fetch = vx_git_fetch,
                                            .free = vx_git_free};

static const char *const token_keys[] = {"token", NULL};
static const char *const headers[] = {"Accept: application/json", NULL};

static const vx_git_kind bitbucket = {
    .name = "bitbucket", .ops = &bitbucket_ops, .default_base = "https://api.bitbucket.org",
    .token_keys = token_keys, .token_header = "Authorization: Bearer ", .headers = headers,
    .remaining_header = "X-RateLimit-Remaining", .reset_header = "X-RateLimit-Reset",
    .build_url = bitbucket_url,
};

void *vx_bitbucket_source_make(vx_opts *o, vx_logger *log, vx_format *format,
                               const vx_source_ops **ops)
{
    (void)log;
    return vx_git_source_make(o, &bitbucket, format, ops);
}
