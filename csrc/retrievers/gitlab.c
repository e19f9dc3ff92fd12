/* GOFF's GitLab retriever (retriever/gitlabretriever): the repository files
 * API, GET {baseUrl}/api/v4/projects/{slug}/repository/files/{path}/raw
 * ?ref={branch}, slug and path query-escaped as GOFF escapes them
 * ("group%2Fproject"), with PRIVATE-TOKEN: <token>; baseUrl is
 * https://gitlab.com or a self-hosted instance. GOFF ignores GitLab's rate
 * limit; vexil honours RateLimit-Remaining / RateLimit-Reset (git.h). */
#include "retrievers/git.h"

static void gitlab_url(vx_buf *url, const char *base, const char *slug, const char *path,
                       const char *branch)
{
    vx_url_base(url, base);
    vx_buf_puts(url, "/api/v4/projects/");
    vx_url_query_escape(url, slug);
    vx_buf_puts(url, "/repository/files/");
    vx_url_query_escape(url, path);
    vx_buf_puts(url, "/raw?ref=");
    vx_url_query_escape(url, branch);
}

static const vx_source_ops gitlab_ops = {.kind = "gitlab", .fetch = vx_git_fetch, .free = vx_git_free};

static const char *const token_keys[] = {"token", NULL};
static const char *const headers[] = {NULL};

static const vx_git_kind gitlab = {
    .name = "gitlab", .ops = &gitlab_ops, .default_base = "https://gitlab.com",
    .token_keys = token_keys, .token_header = "PRIVATE-TOKEN: ", .headers = headers,
    .remaining_header = "RateLimit-Remaining", .reset_header = "RateLimit-Reset",
    .build_url = gitlab_url,
};

void *vx_gitlab_source_make(vx_opts *o, vx_logger *log, vx_format *format,
                            const vx_source_ops **ops)
{
    (void)log;
    return vx_git_source_make(o, &gitlab, format, ops);
}
