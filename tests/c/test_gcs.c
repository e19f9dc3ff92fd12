/* The googleStorage exporter and retriever from C: the --export gs:// form
 * and option errors, then end to end against fake-gcs-server (started
 * through tests/servers/cli.py) with a service-account key whose token_uri
 * is a loopback token endpoint that verifies the RS256 JWT: events uploaded
 * with the token (in one multipart request, then streamed while written),
 * read back; a flag file retrieved. And net/http's bodies written while they
 * are sent (vx_http_upload_*) against the same server. */
#include "exporters/exporters.h"
#include "google_token.h"
#include "httpd.h"
#include "net/http.h"
#include "test.h"

#include <signal.h>
#include <sys/wait.h>

static char tmpdir[256];

/* ---- fake-gcs-server through tests/servers/cli.py ---------------------------- */

typedef struct gcs_server {
    pid_t pid;
    int stdin_fd;        /* closing it stops the server */
    int port;
    char endpoint[64];
} gcs_server;

static bool gcs_start(gcs_server *g)
{
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0)
        return false;
    const char *py = access("out/pyvenv/bin/python", X_OK) == 0 ? "out/pyvenv/bin/python" : "python3";
    g->pid = fork();
    if (g->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execlp(py, py, "tests/servers/cli.py", "start", "fake-gcs", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    g->stdin_fd = in[1];
    char line[1024];
    size_t n = 0;
    while (n + 1 < sizeof line) {
        ssize_t r = read(out[0], line + n, 1);
        if (r <= 0)
            break;
        if (line[n++] == '\n')
            break;
    }
    line[n] = '\0';
    close(out[0]);
    const char *p = strstr(line, "\"port\": ");
    g->port = p ? atoi(p + 8) : 0;
    snprintf(g->endpoint, sizeof g->endpoint, "http://127.0.0.1:%d", g->port);
    return g->port > 0;
}

static void gcs_stop(gcs_server *g)
{
    close(g->stdin_fd);
    int st;
    waitpid(g->pid, &st, 0);
}

static long http_call_max(const char *method, const char *url, const char *ctype,
                          const char *body, vx_buf *out, size_t max)
{
    vx_http_client *c = vx_http_client_new();
    char h[128];
    snprintf(h, sizeof h, "Content-Type: %s", ctype ? ctype : "application/json");
    const char *headers[] = {h, NULL};
    vx_http_request req = {.method = method, .url = url, .headers = headers, .body = body,
                           .body_len = body ? strlen(body) : 0, .max_response_bytes = max};
    vx_http_response resp;
    vx_http_response_init(&resp);
    long status = vx_http_perform(c, &req, &resp, NULL) == VX_OK ? resp.status : 0;
    if (out) {
        vx_buf_clear(out);
        vx_buf_append(out, resp.body.data, resp.body.len);
    }
    vx_http_response_free(&resp);
    vx_http_client_free(c);
    return status;
}

static long http_call(const char *method, const char *url, const char *ctype, const char *body,
                      vx_buf *out)
{
    return http_call_max(method, url, ctype, body, out, 1 << 20);
}

static vx_status add_exporter(vx_engine *e, const char *json, vx_error *err)
{
    vx_doc *d = vx_doc_new();
    vx_status st = vx_doc_parse_json(d, json, strlen(json), err);
    if (st == VX_OK)
        st = vx_engine_add_builtin_exporter(e, "googleStorage", vx_doc_root(d), 0, NULL, err);
    vx_doc_free(d);
    return st;
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_export_url(void)
{
    vx_doc *d = vx_doc_new();
    const char *kind = NULL;
    vx_error err = {0};
    CHECK_INT(vx_exporter_url_parse("gs://my-bucket/events/daily?format=parquet&"
                                    "parquetCompressionCodec=ZSTD", d, &kind, &err), VX_OK);
    CHECK_STR(kind, "googleStorage");
    const vx_value *r = vx_doc_root(d);
    CHECK_STR(vx_value_get_string(vx_value_get(r, "bucket"), NULL), "my-bucket");
    CHECK_STR(vx_value_get_string(vx_value_get(r, "path"), NULL), "events/daily");
    CHECK_STR(vx_value_get_string(vx_value_get(r, "format"), NULL), "parquet");
    vx_doc_free(d);
}

static void test_option_errors(void)
{
    vx_engine *e;
    vx_engine_new(&e);
    vx_error err = {0};
    unsetenv("STORAGE_EMULATOR_HOST");
    CHECK_INT(add_exporter(e, "{}", &err), VX_EINVAL);
    CHECK(strstr(err.message, "bucket") != NULL);
    CHECK_INT(add_exporter(e, "{\"bucket\":\"b-1\",\"resumableChunkSize\":1000000}", &err),
              VX_EINVAL);
    CHECK(strstr(err.message, "resumableChunkSize") != NULL);
    CHECK_INT(add_exporter(e, "{\"bucket\":\"b-1\",\"withoutAuthentication\":true,"
                              "\"credentialsFile\":\"/k.json\"}", &err), VX_EINVAL);
    CHECK(strstr(err.message, "withoutAuthentication") != NULL);
    CHECK_INT(add_exporter(e, "{\"bucket\":\"b-1\",\"endpoint\":\"ftp://x\","
                              "\"withoutAuthentication\":true}", &err), VX_EINVAL);
    CHECK(strstr(err.message, "endpoint") != NULL);
    CHECK_INT(add_exporter(e, "{\"bucket\":\"b-1\",\"credentialsJson\":"
                              "{\"fromEnv\":\"VX_NO_SUCH_VAR\"}}", &err), VX_EINVAL);
    CHECK_INT(add_exporter(e, "{\"bucket\":\"b-1\",\"bukcet\":\"x\",\"withoutAuthentication\":true}",
                           &err), VX_EINVAL);
    CHECK(strstr(err.message, "did you mean") != NULL);
    CHECK_INT(vx_engine_exporter_count(e), 0);
    vx_engine_free(e);
}

static void test_end_to_end_with_a_service_account(void)
{
    gcs_server g;
    if (!gcs_start(&g)) {
        fprintf(stderr, "test_gcs: fake-gcs-server did not start\n");
        CHECK(false);
        return;
    }
    unsetenv("STORAGE_EMULATOR_HOST");
    unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
    char url[256];
    snprintf(url, sizeof url, "%s/storage/v1/b", g.endpoint);
    CHECK_INT(http_call("POST", url, NULL, "{\"name\":\"c-bucket\"}", NULL), 200);

    EVP_PKEY *key = new_rsa();
    token_server ts;
    token_server_start(&ts, key);
    char keyfile[300];
    snprintf(keyfile, sizeof keyfile, "%s/sa.json", tmpdir);
    write_service_account(keyfile, key, ts.token_uri);

    vx_engine *e;
    vx_engine_new(&e);
    const char *flags = "{\"f\":{\"variations\":{\"a\":\"x\"},\"defaultRule\":{\"variation\":\"a\"}}}";
    vx_error err = {0};
    CHECK_INT(vx_engine_load(e, flags, strlen(flags), VX_FORMAT_JSON, &err), VX_OK);
    char opts[700];
    snprintf(opts, sizeof opts,
             "{\"bucket\":\"c-bucket\",\"endpoint\":\"%s\",\"credentialsFile\":\"%s\","
             "\"path\":\"c/./x/../events/\",\"flushInterval\":3600000}", g.endpoint, keyfile);
    CHECK_INT(add_exporter(e, opts, &err), VX_OK);
    vx_context *ctx = vx_context_new("user-1");
    for (int i = 0; i < 10; i++) {
        vx_result r;
        vx_engine_eval_string(e, "f", ctx, "d", &r);
        vx_result_release(&r);
    }
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    CHECK_INT(tokens_of(&ts), 1);
    CHECK_STR(ts.last_problem, "");
    vx_context_free(ctx);
    vx_engine_free(e);

    /* Read back: one object under GOFF's path.Clean name. */
    vx_buf body;
    vx_buf_init(&body);
    snprintf(url, sizeof url, "%s/storage/v1/b/c-bucket/o", g.endpoint);
    CHECK_INT(http_call("GET", url, NULL, NULL, &body), 200);
    char host[128] = "";
    gethostname(host, sizeof host - 1);
    char prefix[256];
    snprintf(prefix, sizeof prefix, "\"name\":\"c/events/flag-variation-%s-", host);
    CHECK(body.data && strstr(body.data, prefix) != NULL);
    if (!body.data || !strstr(body.data, prefix))
        fprintf(stderr, "listing: %.600s\n", body.data ? body.data : "");
    const char *n = body.data ? strstr(body.data, "\"name\":\"") : NULL;
    char name[256] = "";
    if (n)
        sscanf(n + 8, "%255[^\"]", name);
    vx_buf enc;
    vx_buf_init(&enc);
    vx_percent_append(&enc, name, strlen(name));
    snprintf(url, sizeof url, "%s/storage/v1/b/c-bucket/o/%s?alt=media", g.endpoint, enc.data);
    CHECK_INT(http_call("GET", url, NULL, NULL, &body), 200);
    int lines = 0;
    for (size_t i = 0; i < body.len; i++)
        lines += body.data[i] == '\n';
    CHECK_INT(lines, 10);
    CHECK(strstr(body.data, "{\"kind\":\"feature\",\"contextKind\":\"user\",\"userKey\":\"user-1\"") ==
          body.data);

    /* A batch past resumableThreshold, streamed while it is written: the
     * session and the PUT carry the cached token. The names of the next
     * seconds are taken, so the stream is refused at its end (412) and the
     * next name gets the file in chunks. */
    time_t now = time(NULL);
    for (time_t t = now; t < now + 4; t++) {
        char theirs[512];
        snprintf(theirs, sizeof theirs, "%s/upload/storage/v1/b/c-bucket/o?uploadType=media&"
                 "name=big%%2Fflag-variation-%s-%lld.json", g.endpoint, host, (long long)t);
        CHECK_INT(http_call("POST", theirs, "text/plain", "theirs", NULL), 200);
    }
    vx_engine_new(&e);
    CHECK_INT(vx_engine_load(e, flags, strlen(flags), VX_FORMAT_JSON, &err), VX_OK);
    snprintf(opts, sizeof opts,
             "{\"bucket\":\"c-bucket\",\"endpoint\":\"%s\",\"credentialsFile\":\"%s\","
             "\"path\":\"big\",\"resumableThreshold\":4096,\"resumableChunkSize\":262144,"
             "\"flushInterval\":3600000,\"maxEventInMemory\":10000}", g.endpoint, keyfile);
    CHECK_INT(add_exporter(e, opts, &err), VX_OK);
    for (int i = 0; i < 3000; i++) {
        char user[32];
        snprintf(user, sizeof user, "user-%d", i);
        vx_context *c = vx_context_new(user);
        vx_result r;
        vx_engine_eval_string(e, "f", c, "d", &r);
        vx_result_release(&r);
        vx_context_free(c);
    }
    CHECK_INT(vx_engine_flush(e, 20000), VX_OK);
    CHECK_INT(tokens_of(&ts), 2); /* a new engine: a new token, used for both requests */
    vx_engine_free(e);
    snprintf(url, sizeof url, "%s/storage/v1/b/c-bucket/o?prefix=big%%2F", g.endpoint);
    CHECK_INT(http_call("GET", url, NULL, NULL, &body), 200);
    n = body.data ? strstr(body.data, "-1.json\"") : NULL; /* ours: the next name */
    name[0] = '\0';
    while (n && n > body.data && n[-1] != '"')
        n--;
    if (n)
        sscanf(n, "%255[^\"]", name);
    CHECK(strncmp(name, "big/flag-variation-", 19) == 0);
    vx_buf_clear(&enc);
    vx_percent_append(&enc, name, strlen(name));
    snprintf(url, sizeof url, "%s/storage/v1/b/c-bucket/o/%s?alt=media", g.endpoint, enc.data);
    CHECK_INT(http_call_max("GET", url, NULL, NULL, &body, 8 << 20), 200);
    lines = 0;
    for (size_t i = 0; i < body.len; i++)
        lines += body.data[i] == '\n';
    CHECK_INT(lines, 3000);
    CHECK(body.data && strstr(body.data, "\"userKey\":\"user-2999\"") != NULL);

    /* The retriever, with the same key (read-only scope) and the same server. */
    snprintf(url, sizeof url, "%s/upload/storage/v1/b/c-bucket/o?uploadType=media&name=flags.json",
             g.endpoint);
    CHECK_INT(http_call("POST", url, NULL,
                        "{\"g\":{\"variations\":{\"a\":\"from-gcs\"},\"defaultRule\":{\"variation\":\"a\"}}}",
                        NULL), 200);
    httpd_lock(&ts.h);
    snprintf(ts.scope, sizeof ts.scope, "%s", VX_GOOGLE_SCOPE_STORAGE_RO);
    httpd_unlock(&ts.h);
    vx_engine_new(&e);
    snprintf(opts, sizeof opts, "{\"bucket\":\"c-bucket\",\"object\":\"flags.json\","
             "\"endpoint\":\"%s\",\"credentialsFile\":\"%s\"}", g.endpoint, keyfile);
    vx_doc *d = vx_doc_new();
    vx_doc_parse_json(d, opts, strlen(opts), &err);
    CHECK_INT(vx_engine_add_builtin_retriever(e, "googleStorage", vx_doc_root(d), 0, &err), VX_OK);
    vx_doc_free(d);
    vx_refresh_options ro;
    vx_refresh_options_init(&ro);
    ro.poll_interval_ms = 0;
    CHECK_INT(vx_engine_start(e, &ro, &err), VX_OK);
    ctx = vx_context_new("u");
    vx_result r;
    CHECK_INT(vx_engine_eval_string(e, "g", ctx, "d", &r), VX_OK);
    CHECK_STR(r.value ? vx_value_get_string(r.value, NULL) : NULL, "from-gcs");
    vx_result_release(&r);
    CHECK_INT(vx_engine_refresh(e, &err), VX_OK);
    CHECK_INT(tokens_of(&ts), 3); /* one per scope: the retriever's token is cached */
    vx_context_free(ctx);
    vx_engine_free(e);

    /* The command: --export gs://bucket/path?format=csv, the emulator by
     * STORAGE_EMULATOR_HOST (no credentials). */
    const char *cli = getenv("VX_CLI");
    if (cli) {
        char flagfile[300], cmd[1024];
        snprintf(flagfile, sizeof flagfile, "%s/flags.json", tmpdir);
        write_file(flagfile, flags);
        snprintf(cmd, sizeof cmd,
                 "STORAGE_EMULATOR_HOST=127.0.0.1:%d %s eval --config %s --flag f "
                 "--context '{\"targetingKey\":\"cli-user\"}' "
                 "--export 'gs://c-bucket/from/cli?format=csv' > /dev/null", g.port, cli, flagfile);
        CHECK_INT(system(cmd), 0);
        snprintf(url, sizeof url, "%s/storage/v1/b/c-bucket/o?prefix=from%%2Fcli%%2F", g.endpoint);
        CHECK_INT(http_call("GET", url, NULL, NULL, &body), 200);
        CHECK(body.data && strstr(body.data, "\"contentType\":\"text/csv\"") != NULL);
        n = body.data ? strstr(body.data, "\"name\":\"") : NULL;
        name[0] = '\0';
        if (n)
            sscanf(n + 8, "%255[^\"]", name);
        CHECK(strncmp(name, "from/cli/flag-variation-", 24) == 0);
        vx_buf_clear(&enc);
        vx_percent_append(&enc, name, strlen(name));
        snprintf(url, sizeof url, "%s/storage/v1/b/c-bucket/o/%s?alt=media", g.endpoint, enc.data);
        CHECK_INT(http_call("GET", url, NULL, NULL, &body), 200);
        CHECK(body.data && strncmp(body.data, "feature;user;cli-user;", 22) == 0);
    }

    vx_buf_free(&body);
    vx_buf_free(&enc);
    httpd_stop(&ts.h);
    EVP_PKEY_free(key);
    gcs_stop(&g);
}

/* ---- bodies written while they are sent ------------------------------------------ */

static vx_status upload_start(vx_http_client *c, const char *url, vx_http_response *resp,
                              vx_http_cancel *cancel, vx_http_upload **up)
{
    const char *headers[] = {"Content-Type: text/plain", NULL};
    vx_http_request req = {.method = "POST", .url = url, .headers = headers,
                           .max_response_bytes = 1 << 20, .cancel = cancel,
                           .timeout_ms = 20000};
    vx_http_response_init(resp);
    return vx_http_upload_start(c, url ? &req : NULL, resp, up, NULL);
}

static void test_streamed_http_upload(const gcs_server *g)
{
    char url[256];
    snprintf(url, sizeof url, "%s/storage/v1/b", g->endpoint);
    CHECK_INT(http_call("POST", url, NULL, "{\"name\":\"up-bucket\"}", NULL), 200);
    vx_http_client *c = vx_http_client_new();
    char *big = malloc(1 << 20);
    for (size_t i = 0; i < (1 << 20); i++)
        big[i] = (char)('a' + i % 26);

    /* Pieces of every size, one body of unknown length: what arrives is what
     * was written. */
    snprintf(url, sizeof url, "%s/upload/storage/v1/b/up-bucket/o?uploadType=media&name=a.txt",
             g->endpoint);
    vx_http_response resp;
    vx_http_upload *up = NULL;
    CHECK_INT(upload_start(c, url, &resp, NULL, &up), VX_OK);
    CHECK_INT(vx_http_upload_write(up, "hello ", 6, NULL), VX_OK);
    CHECK_INT(vx_http_upload_write(up, "", 0, NULL), VX_OK);
    for (int i = 0; i < 5; i++)
        CHECK_INT(vx_http_upload_write(up, big, 1 << 20, NULL), VX_OK);
    CHECK_INT(vx_http_upload_write(up, "end", 3, NULL), VX_OK);
    CHECK(!vx_http_upload_answered(up));
    CHECK_INT((long)vx_http_upload_written(up), 6 + 5 * (1 << 20) + 3);
    CHECK_INT(vx_http_upload_finish(up, NULL), VX_OK);
    CHECK_INT(resp.status, 200);
    CHECK(resp.body.data && strstr(resp.body.data, "\"size\":\"5242889\"") != NULL);
    vx_http_response_free(&resp);
    vx_buf body;
    vx_buf_init(&body);
    snprintf(url, sizeof url, "%s/storage/v1/b/up-bucket/o/a.txt?alt=media", g->endpoint);
    CHECK_INT(http_call_max("GET", url, NULL, NULL, &body, 8 << 20), 200);
    CHECK_INT((long)body.len, 6 + 5 * (1 << 20) + 3);
    CHECK(body.len > 9 && memcmp(body.data, "hello abc", 9) == 0 &&
          memcmp(body.data + body.len - 4, "vend", 4) == 0);

    /* A request the server refuses: its answer, however far the body got. */
    snprintf(url, sizeof url, "%s/upload/storage/v1/b/no-bucket/o?uploadType=media&name=b.txt",
             g->endpoint);
    CHECK_INT(upload_start(c, url, &resp, NULL, &up), VX_OK);
    vx_status st = VX_OK;
    for (int i = 0; i < 16 && st == VX_OK && !vx_http_upload_answered(up); i++)
        st = vx_http_upload_write(up, big, 1 << 20, NULL);
    st = vx_http_upload_finish(up, NULL);
    CHECK(st == VX_EIO || (st == VX_OK && resp.status == 404));
    vx_http_response_free(&resp);

    /* Abandoned in the middle: nothing is stored, and the client serves the
     * next request on a new connection. */
    snprintf(url, sizeof url, "%s/upload/storage/v1/b/up-bucket/o?uploadType=media&name=c.txt",
             g->endpoint);
    CHECK_INT(upload_start(c, url, &resp, NULL, &up), VX_OK);
    CHECK_INT(vx_http_upload_write(up, big, 1 << 20, NULL), VX_OK);
    vx_http_upload_abort(up);
    vx_http_upload_abort(NULL);
    vx_http_response_free(&resp);
    snprintf(url, sizeof url, "%s/storage/v1/b/up-bucket/o/c.txt", g->endpoint);
    CHECK_INT(http_call("GET", url, NULL, NULL, NULL), 404);
    vx_http_request get = {.url = url, .max_response_bytes = 4096};
    vx_http_response_init(&resp);
    CHECK_INT(vx_http_perform(c, &get, &resp, NULL), VX_OK);
    CHECK_INT(resp.status, 404);
    vx_http_response_free(&resp);

    /* Cancelled (engine close): the next write stops at once. */
    vx_http_cancel *cancel = vx_http_cancel_new();
    snprintf(url, sizeof url, "%s/upload/storage/v1/b/up-bucket/o?uploadType=media&name=d.txt",
             g->endpoint);
    CHECK_INT(upload_start(c, url, &resp, cancel, &up), VX_OK);
    vx_http_cancel_fire(cancel);
    vx_error err = {0};
    CHECK_INT(vx_http_upload_write(up, big, 1 << 20, &err), VX_ECLOSED);
    CHECK(vx_http_upload_answered(up));
    CHECK_INT(vx_http_upload_finish(up, NULL), VX_ECLOSED);
    vx_http_response_free(&resp);
    /* Refused at once when already cancelled, and for a URL that is not http(s). */
    CHECK_INT(upload_start(c, url, &resp, cancel, &up), VX_ECLOSED);
    CHECK(up == NULL);
    vx_http_response_free(&resp);
    CHECK_INT(upload_start(c, "ftp://127.0.0.1/x", &resp, NULL, &up), VX_EINVAL);
    vx_http_response_free(&resp);
    vx_http_cancel_free(cancel);

    /* A refused connection fails at the start. */
    CHECK_INT(upload_start(c, "http://127.0.0.1:1/x", &resp, NULL, &up), VX_EIO);
    CHECK(up == NULL);
    vx_http_response_free(&resp);

    vx_buf_free(&body);
    free(big);
    vx_http_client_free(c);
}

static void test_streamed_uploads(void)
{
    gcs_server g;
    if (!gcs_start(&g)) {
        fprintf(stderr, "test_gcs: fake-gcs-server did not start\n");
        CHECK(false);
        return;
    }
    test_streamed_http_upload(&g);
    gcs_stop(&g);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vexil-gcs-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    RUN(test_export_url);
    RUN(test_option_errors);
    RUN(test_end_to_end_with_a_service_account);
    RUN(test_streamed_uploads);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    TEST_MAIN_END();
}
