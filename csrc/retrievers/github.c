/* GOFF's GitHub retriever (retriever/githubretriever): the contents API,
 * GET {baseUrl}/repos/{slug}/contents/{path}?ref={branch} with
 * Accept: application/vnd.github.raw, X-GitHub-Api-Version: 2022-11-28 and
 * Authorization: Bearer <token>; baseUrl is https://api.github.com, or
 * https://HOST/api/v3 for GitHub Enterprise. The deprecated githubToken key
 * is read when token is absent. See git.h for what vexil adds. */
#include "retrievers/git.h"

static void github_url(vx_buf *url, const char *base, const char *slug, const char *path,
                       const char *branch)
{
    vx_url_base(url, base);
    vx_buf_puts(url, "/repos/");
    vx_url_path_escape(url, slug);
    vx_buf_puts(url, "/contents/");
    vx_url_path_escape(url, path);
    vx_buf_puts(url, "?ref=");
    vx_url_query_escape(url, branch);
}

static const vx_source_ops github_ops = {.kind = "github", .fetch = vx_git_fetch, .free = vx_git_free};

static const char *const token_keys[] = {"token", "githubToken", NULL};
static const char *const headers[] = {"Accept: application/vnd.github.raw",
                                      "X-GitHub-Api-Version: 2022-11-28", NULL};

static const vx_git_kind github = {
    .name = "github", .ops = &github_ops, .default_base = "https://api.github.com",
    .token_keys = token_keys, .token_header = "Authorization: Bearer ", .headers = headers,
    .remaining_header = "X-RateLimit-Remaining", .reset_header = "X-RateLimit-Reset",
    .build_url = github_url,
};

void *vx_github_source_make(vx_opts *o, vx_logger *log, vx_format *format,
                            const vx_source_ops **ops)
{
    (void)log;
    return vx_git_source_make(o, &github, format, ops);
}
