/* The GitHub, GitLab and Bitbucket retrievers against a loopback server that
 * answers as those services do: the exact requests GOFF makes (method,
 * path, query, headers), conditional requests answered with 304, rate-limit
 * headers (no request while exhausted, GOFF's Bitbucket header bug fixed),
 * 429 with Retry-After, service errors, and a token that never reaches a
 * message or a log line. */
#include "httpd.h"
#include "test.h"
#include "vexil.h"

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_text[32768];

static void capture_log(void *ud, vx_log_level level, const char *msg)
{
    (void)ud;
    pthread_mutex_lock(&log_mu);
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof log_text - n, "%d %s\n", (int)level, msg);
    pthread_mutex_unlock(&log_mu);
}

static const char *FLAGS_V1 = "test-flag:\n  variations: {on: true, off: false}\n  defaultRule: {variation: on}\n";
static const char *FLAGS_V2 = "test-flag:\n  variations: {on: true, off: false}\n  defaultRule: {variation: off}\n";

/* A git host: serves `doc` at `path` (query included) with an ETag, answers
 * If-None-Match with 304, adds `extra` headers to every answer; `mode`
 * scripts the next answers. */
typedef struct githost {
    httpd h;
    char path[256];
    const char *doc;
    int version;
    char extra[256];
    int mode;          /* 0 normal, 1 answer 429 + Retry-After once, 2 404 with a JSON message */
    int ok200, not_modified;
} githost;

static void githost_handler(void *ud, const httpd_request *r, httpd_reply *out)
{
    githost *g = ud;
    snprintf(out->headers, sizeof out->headers, "%s", g->extra);
    if (g->mode == 1) {
        g->mode = 0;
        out->status = 429;
        size_t n = strlen(out->headers);
        snprintf(out->headers + n, sizeof out->headers - n, "Retry-After: 3600\r\n");
        out->body = "{\"message\":\"You have exceeded a secondary rate limit.\"}";
        out->body_len = strlen(out->body);
        return;
    }
    if (g->mode == 2 || strcmp(r->path, g->path) != 0) {
        out->status = 404;
        out->body = "{\"message\":\"Not Found\",\"documentation_url\":\"https://docs.github.com\"}";
        out->body_len = strlen(out->body);
        return;
    }
    char inm[64], etag[32];
    snprintf(etag, sizeof etag, "\"v%d\"", g->version);
    httpd_header(r, "If-None-Match", inm, sizeof inm);
    size_t n = strlen(out->headers);
    snprintf(out->headers + n, sizeof out->headers - n, "ETag: %s\r\n", etag);
    if (strcmp(inm, etag) == 0) {
        out->status = 304;
        g->not_modified++;
        return;
    }
    g->ok200++;
    out->body = g->doc;
    out->body_len = strlen(g->doc);
}

static void githost_start(githost *g, const char *path)
{
    memset(g, 0, sizeof *g);
    httpd_start(&g->h);
    snprintf(g->path, sizeof g->path, "%s", path);
    g->doc = FLAGS_V1;
    g->version = 1;
    g->h.handler = githost_handler;
    g->h.handler_ud = g;
}

static void githost_set(githost *g, const char *doc, const char *extra)
{
    httpd_lock(&g->h);
    if (doc) {
        g->doc = doc;
        g->version++;
    }
    if (extra)
        snprintf(g->extra, sizeof g->extra, "%s", extra);
    httpd_unlock(&g->h);
}

static vx_engine *engine_for(const char *kind, githost *g, const char *fmt, const char *a)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_set_logger(e, VX_LOG_DEBUG, capture_log, NULL);
    char base[128], opts[1024];
    httpd_url(&g->h, "", base, sizeof base);
    snprintf(opts, sizeof opts, fmt, base, a);
    vx_doc *d = vx_doc_new();
    vx_doc_parse_json(d, opts, strlen(opts), NULL);
    vx_error err = {0};
    CHECK_INT(vx_engine_add_builtin_retriever(e, kind, vx_doc_root(d), 0, &err), VX_OK);
    if (err.message[0])
        fprintf(stderr, "%s\n", err.message);
    vx_doc_free(d);
    vx_refresh_options ro;
    vx_refresh_options_init(&ro);
    ro.poll_interval_ms = 0;
    CHECK_INT(vx_engine_start(e, &ro, &err), VX_OK);
    return e;
}

static const char *variant(vx_engine *e)
{
    static char v[32];
    vx_result r;
    vx_engine_eval_bool(e, "test-flag", NULL, false, &r);
    snprintf(v, sizeof v, "%s", r.variant);
    vx_result_release(&r);
    return v;
}

static void header_is(const httpd_request *r, const char *name, const char *want)
{
    char v[256];
    httpd_header(r, name, v, sizeof v);
    CHECK_STR(v, want);
}

static void test_github_requests(void)
{
    githost g;
    githost_start(&g, "/api/v3/repos/acme/flags/contents/config/flags.goff.yaml?ref=release%2F1.2");
    log_text[0] = '\0';
    vx_engine *e = engine_for("github", &g,
                              "{\"repositorySlug\":\"acme/flags\",\"path\":\"/config/flags.goff.yaml\","
                              "\"branch\":\"release/1.2\",\"token\":\"ghp_SECRET123\",\"baseUrl\":\"%s/api/v3/\"%s}",
                              "");
    CHECK_STR(variant(e), "on");
    httpd_request *r = &g.h.reqs[0];
    CHECK_STR(r->method, "GET");
    CHECK_STR(r->path, "/api/v3/repos/acme/flags/contents/config/flags.goff.yaml?ref=release%2F1.2");
    header_is(r, "Accept", "application/vnd.github.raw");
    header_is(r, "X-GitHub-Api-Version", "2022-11-28");
    header_is(r, "Authorization", "Bearer ghp_SECRET123");
    header_is(r, "If-None-Match", "");
    /* Unchanged: a conditional request, answered 304. */
    vx_error err = {0};
    CHECK_INT(vx_engine_refresh(e, &err), VX_OK);
    header_is(&g.h.reqs[1], "If-None-Match", "\"v1\"");
    CHECK_INT(g.not_modified, 1);
    vx_refresh_stats s;
    vx_engine_get_refresh_stats(e, &s);
    CHECK_INT(s.unchanged, 1);
    /* Changed: the new document. */
    githost_set(&g, FLAGS_V2, NULL);
    CHECK_INT(vx_engine_refresh(e, &err), VX_OK);
    CHECK_STR(variant(e), "off");
    CHECK_INT(g.ok200, 2);
    CHECK(strstr(log_text, "SECRET123") == NULL);
    vx_engine_free(e);
    httpd_stop(&g.h);
}

/* GitHub's primary limit: once X-RateLimit-Remaining says 0, nothing is
 * requested before X-RateLimit-Reset; the refresh fails saying so and the
 * last good flags stay. */
static void test_github_rate_limit(void)
{
    githost g;
    githost_start(&g, "/repos/acme/flags/contents/flags.yaml?ref=main");
    vx_engine *e = engine_for("github", &g, "{\"repositorySlug\":\"acme/flags\",\"path\":\"flags.yaml\","
                                             "\"baseUrl\":\"%s\"%s}", "");
    CHECK_INT(g.h.n_reqs, 1);
    header_is(&g.h.reqs[0], "Authorization", "");
    char extra[128];
    snprintf(extra, sizeof extra, "X-RateLimit-Limit: 60\r\nX-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: %lld\r\n",
             (long long)time(NULL) + 3600);
    githost_set(&g, FLAGS_V2, extra);
    vx_error err = {0};
    CHECK_INT(vx_engine_refresh(e, &err), VX_OK); /* the last allowed request */
    CHECK_STR(variant(e), "off");
    CHECK_INT(g.h.n_reqs, 2);
    githost_set(&g, FLAGS_V1, NULL);
    CHECK_INT(vx_engine_refresh(e, &err), VX_ELIMIT);
    CHECK_INT(g.h.n_reqs, 2); /* no request made */
    CHECK(strncmp(err.message, "retriever 1 (github): github rate limit exhausted: no request before ", 69) == 0);
    CHECK(strstr(err.message, "(in 3600 s)") || strstr(err.message, "(in 3599 s)"));
    CHECK_STR(variant(e), "off");
    vx_engine_free(e);
    httpd_stop(&g.h);
}

/* A secondary limit: 429 with Retry-After; the wait is obeyed. */
static void test_retry_after(void)
{
    githost g;
    githost_start(&g, "/repos/a/b/contents/f.yaml?ref=main");
    vx_engine *e = engine_for("github", &g, "{\"repositorySlug\":\"a/b\",\"path\":\"f.yaml\",\"baseUrl\":\"%s\"%s}", "");
    githost_set(&g, NULL, NULL);
    httpd_lock(&g.h);
    g.mode = 1;
    httpd_unlock(&g.h);
    vx_error err = {0};
    CHECK_INT(vx_engine_refresh(e, &err), VX_EHTTP);
    CHECK(strstr(err.message, "HTTP status 429 received: You have exceeded a secondary rate limit. (rate limited: no request for 3600 s)") != NULL);
    CHECK_INT(vx_engine_refresh(e, &err), VX_ELIMIT);
    CHECK(strstr(err.message, "github rate limit hit (Retry-After): no request before") != NULL);
    CHECK_INT(g.h.n_reqs, 2);
    vx_engine_free(e);
    httpd_stop(&g.h);
}

static void test_gitlab_requests(void)
{
    githost g;
    githost_start(&g, "/api/v4/projects/group%2Fsub%2Fproject/repository/files/flags%2Fprod.yaml/raw?ref=main");
    log_text[0] = '\0';
    vx_engine *e = engine_for("gitlab", &g,
                              "{\"repositorySlug\":\"group/sub/project\",\"path\":\"flags/prod.yaml\","
                              "\"token\":{\"fromEnv\":\"VX_TEST_GITLAB_TOKEN\"},\"baseUrl\":\"%s\"%s}", "");
    CHECK_STR(variant(e), "on");
    httpd_request *r = &g.h.reqs[0];
    CHECK_STR(r->method, "GET");
    header_is(r, "PRIVATE-TOKEN", "glpat-SECRET");
    header_is(r, "Authorization", "");
    /* GitLab's limit headers carry no X- prefix. */
    char extra[128];
    snprintf(extra, sizeof extra, "RateLimit-Remaining: 0\r\nRateLimit-Reset: %lld\r\n", (long long)time(NULL) + 60);
    githost_set(&g, FLAGS_V2, extra);
    vx_error err = {0};
    CHECK_INT(vx_engine_refresh(e, &err), VX_OK);
    CHECK_INT(vx_engine_refresh(e, &err), VX_ELIMIT);
    CHECK_INT(g.h.n_reqs, 2);
    CHECK(strstr(log_text, "SECRET") == NULL);
    CHECK(strstr(err.message, "SECRET") == NULL);
    vx_engine_free(e);
    httpd_stop(&g.h);
}

static void test_bitbucket_requests(void)
{
    githost g;
    githost_start(&g, "/2.0/repositories/workspace/repo/src/main/dir/flags.json");
    vx_engine *e = engine_for("bitbucket", &g,
                              "{\"repositorySlug\":\"workspace/repo\",\"path\":\"dir/flags.json\","
                              "\"token\":\"bb-SECRET\",\"baseUrl\":\"%s\",\"format\":\"yaml\"%s}", "");
    CHECK_STR(variant(e), "on");
    httpd_request *r = &g.h.reqs[0];
    header_is(r, "Accept", "application/json");
    header_is(r, "Authorization", "Bearer bb-SECRET");
    /* GOFF reads X-RateLimit-Limit as "remaining" and so never stops; the
     * remaining count is what says the limit ran out. */
    char extra[160];
    snprintf(extra, sizeof extra, "X-RateLimit-Limit: 1000\r\nX-RateLimit-NearLimit: true\r\n"
             "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: %lld\r\n", (long long)time(NULL) + 120);
    githost_set(&g, NULL, extra);
    vx_error err = {0};
    CHECK_INT(vx_engine_refresh(e, &err), VX_OK);
    CHECK_INT(vx_engine_refresh(e, &err), VX_ELIMIT);
    CHECK_INT(g.h.n_reqs, 2);
    vx_engine_free(e);
    httpd_stop(&g.h);
}

/* A service error: the host's message, never the URL or the token. */
static void test_errors(void)
{
    githost g;
    githost_start(&g, "/nothing-matches");
    vx_engine *e = NULL;
    vx_engine_new(&e);
    char opts[512], base[128];
    httpd_url(&g.h, "", base, sizeof base);
    snprintf(opts, sizeof opts, "{\"repositorySlug\":\"acme/private-repo\",\"path\":\"flags.yaml\","
             "\"token\":\"ghp_SECRET\",\"baseUrl\":\"%s\"}", base);
    vx_doc *d = vx_doc_new();
    vx_doc_parse_json(d, opts, strlen(opts), NULL);
    vx_error err = {0};
    CHECK_INT(vx_engine_add_builtin_retriever(e, "github", vx_doc_root(d), 0, &err), VX_OK);
    vx_refresh_options ro;
    vx_refresh_options_init(&ro);
    ro.poll_interval_ms = 0;
    CHECK_INT(vx_engine_start(e, &ro, &err), VX_EHTTP);
    CHECK_STR(err.message, "retriever 1 (github): HTTP status 404 received: Not Found");
    vx_doc_free(d);
    vx_engine_free(e);
    httpd_stop(&g.h);
}

/* GOFF's keys and checks: required keys, '..' refused, the deprecated
 * githubToken, a branch defaulting to main. */
static void test_keys(void)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    struct {
        const char *kind, *opts, *message;
    } cases[] = {
        {"github", "{\"path\":\"f.yaml\"}", "repositorySlug: required for kind github"},
        {"gitlab", "{\"repositorySlug\":\"a/b\"}", "path: required for kind gitlab"},
        {"github", "{\"repositorySlug\":\"a/../b\",\"path\":\"f\"}", "repositorySlug: must not contain '..'"},
        {"bitbucket", "{\"repositorySlug\":\"a/b\",\"path\":\"../etc/passwd\"}", "path: must not contain '..'"},
        {"github", "{\"repositorySlug\":\"a/b\",\"path\":\"f\",\"baseUrl\":\"ftp://x\"}", "baseUrl: must start with http:// or https://"},
        {"github", "{\"repositorySlug\":\"a/b\",\"path\":\"f\",\"token\":5}", "token: must be a string"},
        {"gitlab", "{\"repositorySlug\":\"a/b\",\"path\":\"f\",\"branche\":\"x\"}", "branche: unknown key (did you mean branch?)"},
        {"github", "{\"repositorySlug\":\"a/b\",\"path\":\"f\",\"timeout\":\"soon\"}", "timeout: must be an integer"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vx_doc *d = vx_doc_new();
        vx_doc_parse_json(d, cases[i].opts, strlen(cases[i].opts), NULL);
        vx_error err = {0};
        CHECK_INT(vx_engine_add_builtin_retriever(e, cases[i].kind, vx_doc_root(d), 0, &err), VX_EINVAL);
        CHECK_STR(err.message, cases[i].message);
        vx_doc_free(d);
    }
    vx_engine_free(e);
    /* githubToken (deprecated) is read when token is absent. */
    githost g;
    githost_start(&g, "/repos/a/b/contents/f.yaml?ref=main");
    e = engine_for("github", &g, "{\"repositorySlug\":\"a/b\",\"path\":\"f.yaml\",\"githubToken\":\"old-tok\","
                                 "\"baseUrl\":\"%s\"%s}", "");
    header_is(&g.h.reqs[0], "Authorization", "Bearer old-tok");
    vx_engine_free(e);
    httpd_stop(&g.h);
}

int main(void)
{
    vx_global_init();
    setenv("VX_TEST_GITLAB_TOKEN", "glpat-SECRET", 1);
    RUN(test_github_requests);
    RUN(test_github_rate_limit);
    RUN(test_retry_after);
    RUN(test_gitlab_requests);
    RUN(test_bitbucket_requests);
    RUN(test_errors);
    RUN(test_keys);
    TEST_MAIN_END();
}
