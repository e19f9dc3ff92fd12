/* The pubsub exporter from C, on Google's own fake (pstest, through
 * tests/servers/cli.py): what it published is pulled back with Google's
 * Python client (tests/servers/pubsub_client.py, in pstest's venv). Every
 * event once with GOFF's payload and the emitter attribute, in requests of
 * at most 1000 messages; ordering keys in order after an outage; oversized
 * messages dropped and counted (pstest's own 4 MiB gRPC limit, a server
 * refusing large messages with INVALID_ARGUMENT, the request limit option)
 * while the rest arrive; a missing topic named clearly; credentials sent
 * as a bearer token over cleartext HTTP/2 and over TLS with ALPN, to a
 * gateway that checks it; the server stopped and started again; close()
 * while the server hangs. */
#include "exporters/exporters.h"
#include "google_token.h"
#include "servers.h"
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

static test_server ps;            /* shared by the tests that leave it running */
static char tmpdir[256];

/* ---- the Python client ------------------------------------------------------------ */

/* Runs the client with `args` (ids and hosts only: no quoting needed) and
 * returns its output as a parsed document (NULL on failure). */
static vx_doc *client(const test_server *s, const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s %s", test_server_get(s, "python"),
             test_server_get(s, "client"), args);
    FILE *f = popen(cmd, "r");
    if (!f)
        return NULL;
    vx_buf out;
    vx_buf_init(&out);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        vx_buf_append(&out, chunk, n);
    int rc = pclose(f);
    vx_doc *d = vx_doc_new();
    if (rc != 0 || vx_doc_parse_json(d, out.data ? out.data : "", out.len, NULL) != VX_OK) {
        fprintf(stderr, "client %s failed (%d): %.300s\n", args, rc, out.data ? out.data : "");
        vx_doc_free(d);
        d = NULL;
    }
    vx_buf_free(&out);
    return d;
}

static void setup_topic(const test_server *s, const char *host, const char *project,
                        const char *topic, bool ordering)
{
    char args[256];
    snprintf(args, sizeof args, "setup %s %s %s%s", host, project, topic,
             ordering ? " --ordering" : "");
    vx_doc_free(client(s, args));
}

/* Pulls until `n` messages came or `idle` seconds passed without one. */
static vx_doc *pull(const test_server *s, const char *host, const char *project,
                    const char *topic, int n, int idle)
{
    char args[256];
    snprintf(args, sizeof args, "pull %s %s %s %d %d", host, project, topic, n, idle);
    return client(s, args);
}

static const char *msg_data(const vx_value *m)
{
    return vx_value_get_string(vx_value_get(m, "data"), NULL);
}

/* ---- logs ---------------------------------------------------------------------- */

typedef struct logbook {
    pthread_mutex_t mu;
    vx_buf text;
} logbook;

static logbook lb = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void on_log(void *ud, vx_log_level level, const char *msg)
{
    (void)ud;
    (void)level;
    pthread_mutex_lock(&lb.mu);
    vx_buf_puts(&lb.text, msg);
    vx_buf_putc(&lb.text, '\n');
    pthread_mutex_unlock(&lb.mu);
}

static bool logged(const char *needle)
{
    pthread_mutex_lock(&lb.mu);
    bool found = lb.text.data && strstr(lb.text.data, needle);
    pthread_mutex_unlock(&lb.mu);
    return found;
}

static void log_reset(void)
{
    pthread_mutex_lock(&lb.mu);
    vx_buf_clear(&lb.text);
    pthread_mutex_unlock(&lb.mu);
}

/* The sizes of the Publish requests logged since log_reset(). */
static int published(int *sizes, int cap)
{
    pthread_mutex_lock(&lb.mu);
    int n = 0;
    for (const char *p = lb.text.data; p && (p = strstr(p, "published ")); p++)
        if (n < cap)
            sizes[n++] = atoi(p + 10);
    pthread_mutex_unlock(&lb.mu);
    return n;
}

/* ---- engines ------------------------------------------------------------------- */

static char *big_flags;

/* color (a short string), and flags whose value is a string of 10 KB,
 * 100 KB and 5 MiB. */
static void make_flags(void)
{
    vx_buf b;
    vx_buf_init(&b);
    vx_buf_puts(&b, "{\"color\":{\"variations\":{\"red\":\"#f00\"},\"defaultRule\":"
                    "{\"variation\":\"red\"}}");
    const struct { const char *name; size_t size; } big[] = {
        {"big10k", 10 * 1000}, {"big100k", 100 * 1000}, {"big5m", 5 * 1024 * 1024}};
    for (size_t i = 0; i < 3; i++) {
        vx_buf_printf(&b, ",\"%s\":{\"variations\":{\"v\":\"", big[i].name);
        for (size_t k = 0; k < big[i].size; k++)
            vx_buf_putc(&b, 'x');
        vx_buf_puts(&b, "\"},\"defaultRule\":{\"variation\":\"v\"}}");
    }
    vx_buf_putc(&b, '}');
    big_flags = b.data;
}

static vx_engine *new_engine(void)
{
    vx_engine *e = NULL;
    vx_error err = {0};
    vx_engine_new(&e);
    vx_engine_set_logger(e, VX_LOG_DEBUG, on_log, NULL);
    CHECK_INT(vx_engine_load(e, big_flags, strlen(big_flags), VX_FORMAT_JSON, &err), VX_OK);
    return e;
}

static vx_status add(vx_engine *e, const char *json, vx_exporter **x, vx_error *err)
{
    vx_doc *d = vx_doc_new();
    vx_status st = vx_doc_parse_json(d, json, strlen(json), err);
    if (st == VX_OK)
        st = vx_engine_add_builtin_exporter(e, "pubsub", vx_doc_root(d), 0, x, err);
    vx_doc_free(d);
    return st;
}

static void eval(vx_engine *e, const char *flag, const char *user)
{
    vx_context *c = vx_context_new(user);
    vx_result r;
    vx_engine_eval_string(e, flag, c, "dflt", &r);
    vx_result_release(&r);
    vx_context_free(c);
}

static vx_exporter_stats stats(vx_exporter *x)
{
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    return s;
}

static void last_error(vx_exporter *x, char *out, size_t cap)
{
    vx_exporter_last_error(x, out, cap);
}

/* ---- tests that need no server ---------------------------------------------------- */

static void test_url(void)
{
    vx_doc *d = vx_doc_new();
    const char *kind = NULL;
    vx_error err = {0};
    CHECK_INT(vx_exporter_url_parse("pubsub://my-project/flag-events?enableMessageOrdering=true",
                                    d, &kind, &err), VX_OK);
    CHECK_STR(kind, "pubsub");
    const vx_value *r = vx_doc_root(d);
    CHECK_STR(vx_value_get_string(vx_value_get(r, "projectID"), NULL), "my-project");
    CHECK_STR(vx_value_get_string(vx_value_get(r, "topic"), NULL), "flag-events");
    CHECK_STR(vx_value_get_string(vx_value_get(r, "enableMessageOrdering"), NULL), "true");
    vx_doc_free(d);
}

static void expect_error(const char *json, const char *needle)
{
    vx_engine *e = new_engine();
    vx_error err = {0};
    CHECK(add(e, json, NULL, &err) != VX_OK);
    if (!strstr(err.message, needle)) {
        fprintf(stderr, "for %s: message \"%s\" lacks \"%s\"\n", json, err.message, needle);
        CHECK(false);
    }
    vx_engine_free(e);
}

static void test_options(void)
{
    unsetenv("PUBSUB_EMULATOR_HOST");
    expect_error("{\"projectID\":\"p\"}", "topic: required");
    expect_error("{\"projectID\":\"p\",\"topic\":\"ab\"}", "topic: must be a Pub/Sub topic id");
    expect_error("{\"projectID\":\"p\",\"topic\":\"goog-events\"}", "topic: must be");
    expect_error("{\"projectID\":\"p\",\"topic\":\"events/x\"}", "topic: must be");
    expect_error("{\"topic\":\"projects/p/subscriptions/s\",\"withoutAuthentication\":true}",
                 "topic: a full name must read projects/PROJECT/topics/TOPIC");
    expect_error("{\"topic\":\"events\",\"withoutAuthentication\":true}",
                 "projectID: required for kind pubsub");
    expect_error("{\"projectID\":\"a/b\",\"topic\":\"events\",\"withoutAuthentication\":true}",
                 "projectID: is not a Google Cloud project id");
    expect_error("{\"projectID\":\"p\",\"topic\":\"events\",\"maxMessagesPerRequest\":1001}",
                 "maxMessagesPerRequest");
    expect_error("{\"projectID\":\"p\",\"topic\":\"events\",\"maxRequestBytes\":10000001}",
                 "maxRequestBytes");
    expect_error("{\"projectID\":\"p\",\"topic\":\"events\",\"endpoint\":\"ftp://x\","
                 "\"withoutAuthentication\":true}", "endpoint: must start with http://");
    expect_error("{\"projectID\":\"p\",\"topic\":\"events\",\"withoutAuthentication\":true,"
                 "\"credentialsFile\":\"/x\"}", "withoutAuthentication");
    expect_error("{\"projectID\":\"p\",\"topic\":\"events\",\"withoutAuthentication\":true,"
                 "\"orderingKeys\":true}", "orderingKeys");
    /* A full name needs no projectID. */
    vx_engine *e = new_engine();
    vx_error err = {0};
    CHECK_INT(add(e, "{\"topic\":\"projects/p-1/topics/events\",\"withoutAuthentication\":true}",
                  NULL, &err), VX_OK);
    vx_engine_free(e);
}

/* ---- on pstest ----------------------------------------------------------------------- */

static const char *host(void)
{
    return test_server_get(&ps, "emulator_host");
}

static void test_publish_and_pull(void)
{
    setenv("PUBSUB_EMULATOR_HOST", host(), 1);
    setup_topic(&ps, host(), "proj", "events-all", false);
    vx_engine *e = new_engine();
    vx_exporter *x = NULL;
    vx_error err = {0};
    CHECK_INT(add(e, "{\"projectID\":\"proj\",\"topic\":\"events-all\"}", &x, &err), VX_OK);
    log_reset();
    enum { N = 2500 };
    char user[32];
    for (int i = 0; i < N; i++) {
        snprintf(user, sizeof user, "user-%04d", i);
        eval(e, "color", user);
    }
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    vx_exporter_stats s = stats(x);
    CHECK_INT(s.exported, N);
    CHECK_INT(s.dropped, 0);
    CHECK_INT(s.failed_attempts, 0);
    int sizes[64], total = 0;
    int requests = published(sizes, 64);
    CHECK(requests >= 3);
    for (int i = 0; i < requests && i < 64; i++) {
        CHECK(sizes[i] >= 1 && sizes[i] <= 1000);
        total += sizes[i];
    }
    CHECK_INT(total, N);
    vx_engine_close(e, 5000);
    vx_engine_free(e);

    vx_doc *d = pull(&ps, host(), "proj", "events-all", N, 10);
    const vx_value *list = d ? vx_doc_root(d) : NULL;
    CHECK_INT(vx_value_count(list), N);
    static bool seen[N];
    memset(seen, 0, sizeof seen);
    int dup = 0, bad = 0;
    for (size_t i = 0; list && i < vx_value_count(list); i++) {
        const vx_value *m = vx_value_at(list, i);
        const char *data = msg_data(m);
        const vx_value *attrs = vx_value_get(m, "attributes");
        int u = -1;
        long long date = 0;
        char expect[512];
        const char *p = data ? strstr(data, "\"creationDate\":") : NULL;
        if (p)
            date = strtoll(p + 15, NULL, 10);
        if (data && sscanf(data, "{\"kind\":\"feature\",\"contextKind\":\"user\",\"userKey\":"
                                 "\"user-%d\"", &u) == 1 && u >= 0 && u < N) {
            snprintf(expect, sizeof expect,
                     "{\"kind\":\"feature\",\"contextKind\":\"user\",\"userKey\":\"user-%04d\","
                     "\"creationDate\":%lld,\"key\":\"color\",\"variation\":\"red\","
                     "\"value\":\"#f00\",\"default\":false,\"version\":\"\",\"source\":"
                     "\"SERVER\"}", u, date);
            if (strcmp(data, expect) != 0)
                bad++;
            dup += seen[u];
            seen[u] = true;
        } else {
            bad++;
        }
        if (vx_value_count(attrs) != 1 ||
            strcmp(vx_value_get_string(vx_value_get(attrs, "emitter"), NULL), "GO Feature Flag"))
            bad++;
        if (strcmp(vx_value_get_string(vx_value_get(m, "ordering_key"), NULL), "") != 0)
            bad++;
    }
    CHECK_INT(dup, 0);
    CHECK_INT(bad, 0);
    vx_doc_free(d);
}

/* Tracking events of five users, published while the topic is missing and
 * after it exists: each user's arrive in the order tracked, the userKey as
 * their ordering key. */
static void test_ordering_keys(void)
{
    setenv("PUBSUB_EMULATOR_HOST", host(), 1);
    vx_engine *e = new_engine();
    vx_exporter *x = NULL;
    vx_error err = {0};
    CHECK_INT(add(e, "{\"projectID\":\"proj\",\"topic\":\"events-ordered\","
                     "\"enableMessageOrdering\":true,\"eventType\":\"tracking\","
                     "\"retryInitial\":50,\"retryMax\":200,\"maxMessagesPerRequest\":7}",
                  &x, &err), VX_OK);
    enum { USERS = 5, EACH = 60 };
    char user[16], details[64];
    for (int i = 0; i < USERS * EACH; i++) {
        if (i == USERS * EACH / 2) {
            /* the first half failed (NOT_FOUND) at least once */
            CHECK_INT(vx_engine_flush(e, 300), VX_ETIMEDOUT);
            CHECK(stats(x).failed_attempts > 0);
            setup_topic(&ps, host(), "proj", "events-ordered", true);
        }
        snprintf(user, sizeof user, "u%d", i % USERS);
        snprintf(details, sizeof details, "{\"seq\":%d}", i);
        vx_doc *d = vx_doc_new();
        vx_doc_parse_json(d, details, strlen(details), NULL);
        vx_context *c = vx_context_new(user);
        vx_engine_track(e, "clicked", c, vx_doc_root(d));
        vx_context_free(c);
        vx_doc_free(d);
    }
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    CHECK_INT(stats(x).exported, USERS * EACH);
    vx_engine_close(e, 5000);
    vx_engine_free(e);

    vx_doc *d = pull(&ps, host(), "proj", "events-ordered", USERS * EACH, 10);
    const vx_value *list = d ? vx_doc_root(d) : NULL;
    CHECK_INT(vx_value_count(list), USERS * EACH);
    /* Per key: sequence numbers rising in the order the service delivered
     * them, and in the order it took them (its message ids count up in
     * arrival order). */
    long delivered[USERS], taken[USERS], taken_id[USERS];
    for (int u = 0; u < USERS; u++)
        delivered[u] = taken[u] = taken_id[u] = -1;
    int bad = 0;
    for (size_t i = 0; list && i < vx_value_count(list); i++) {
        const vx_value *m = vx_value_at(list, i);
        const char *data = msg_data(m);
        const char *key = vx_value_get_string(vx_value_get(m, "ordering_key"), NULL);
        const char *sp = data ? strstr(data, "\"seq\":") : NULL;
        int u = key && key[0] == 'u' ? atoi(key + 1) : -1;
        char expect[16];
        snprintf(expect, sizeof expect, "\"u%d\"", u);
        if (!sp || u < 0 || u >= USERS || !strstr(data, "\"kind\":\"tracking\"") ||
            !strstr(data, expect)) {
            bad++;
            continue;
        }
        long seq = atol(sp + 6);
        bad += seq % USERS != u || seq <= delivered[u];
        delivered[u] = seq;
    }
    CHECK_INT(bad, 0);
    for (int u = 0; u < USERS; u++) {
        for (;;) {
            long best_id = -1, best_seq = -1;
            for (size_t i = 0; list && i < vx_value_count(list); i++) {
                const vx_value *m = vx_value_at(list, i);
                const char *key = vx_value_get_string(vx_value_get(m, "ordering_key"), NULL);
                const char *id = vx_value_get_string(vx_value_get(m, "message_id"), NULL);
                const char *sp = strstr(msg_data(m), "\"seq\":");
                long num = id ? atol(id + 1) : -1;
                if (!key || !sp || atoi(key + 1) != u || num <= taken_id[u])
                    continue;
                if (best_id < 0 || num < best_id) {
                    best_id = num;
                    best_seq = atol(sp + 6);
                }
            }
            if (best_id < 0)
                break;
            bad += best_seq <= taken[u];
            taken_id[u] = best_id;
            taken[u] = best_seq;
        }
    }
    CHECK_INT(bad, 0);
    vx_doc_free(d);
}

/* Events too large for any request: dropped, counted, logged; the rest
 * arrive. Three limits: pstest's own (gRPC's 4 MiB request), a server
 * refusing messages of more than 64 KiB (INVALID_ARGUMENT), and
 * maxRequestBytes, checked before sending. */
static void oversized(const char *emulator, const char *topic, const char *options,
                      const char *big_flag, const char *expect_log)
{
    setenv("PUBSUB_EMULATOR_HOST", emulator, 1);
    setup_topic(&ps, emulator, "proj", topic, false);
    vx_engine *e = new_engine();
    vx_exporter *x = NULL;
    vx_error err = {0};
    char json[256];
    snprintf(json, sizeof json, "{\"projectID\":\"proj\",\"topic\":\"%s\"%s}", topic, options);
    CHECK_INT(add(e, json, &x, &err), VX_OK);
    log_reset();
    char user[32];
    for (int i = 0; i < 30; i++) {
        snprintf(user, sizeof user, "user-%d", i);
        eval(e, i == 11 ? big_flag : "color", user);
    }
    CHECK_INT(vx_engine_flush(e, 30000), VX_OK);
    vx_exporter_stats s = stats(x);
    CHECK_INT(s.exported, 29);
    CHECK_INT(s.dropped, 1);
    CHECK_INT(s.pending, 0);
    vx_engine_close(e, 5000);
    vx_engine_free(e);
    CHECK(logged("1 event dropped, refused by the service"));
    if (!logged(expect_log)) {
        fprintf(stderr, "the log lacks \"%s\":\n%s\n", expect_log, lb.text.data);
        CHECK(false);
    }
    vx_doc *d = pull(&ps, emulator, "proj", topic, 29, 5);
    const vx_value *list = d ? vx_doc_root(d) : NULL;
    CHECK_INT(vx_value_count(list), 29);
    for (size_t i = 0; list && i < vx_value_count(list); i++)
        CHECK(!strstr(msg_data(vx_value_at(list, i)), "\"user-11\""));
    vx_doc_free(d);
}

static void test_oversized(void)
{
    /* With the emulator, requests stay within gRPC's default 4 MiB. */
    oversized(host(), "events-big-grpc", "", "big5m", "over the 4194304-byte Publish request limit");
    oversized(test_server_get(&ps, "small_emulator_host"), "events-big-server", "", "big100k",
              "is over the limit of 65536 bytes");
    oversized(host(), "events-big-local", ",\"maxRequestBytes\":4096", "big10k",
              "over the 4096-byte Publish request limit");
}

/* A topic made after the first attempts: they fail NOT_FOUND, named
 * clearly, and the retry delivers. (The test pstest refuses a Publish until
 * the topic's subscription exists, so no retry lands between the two set-up
 * calls and publishes to nobody: tests/servers/pstest/main.go.) */
static void test_missing_topic(void)
{
    setenv("PUBSUB_EMULATOR_HOST", host(), 1);
    vx_engine *e = new_engine();
    vx_exporter *x = NULL;
    vx_error err = {0};
    CHECK_INT(add(e, "{\"projectID\":\"proj\",\"topic\":\"events-late\",\"retryInitial\":50,"
                     "\"retryMax\":200}", &x, &err), VX_OK);
    eval(e, "color", "a");
    eval(e, "color", "b");
    eval(e, "color", "c");
    CHECK_INT(vx_engine_flush(e, 500), VX_ETIMEDOUT);
    char msg[300];
    last_error(x, msg, sizeof msg);
    CHECK(strstr(msg, "pubsub exporter: Publish to projects/proj/topics/events-late: NOT_FOUND"));
    CHECK(strstr(msg, "the topic does not exist"));
    CHECK_INT(stats(x).pending, 3);
    CHECK_INT(stats(x).dropped, 0);
    setup_topic(&ps, host(), "proj", "events-late", false);
    CHECK_INT(vx_engine_flush(e, 20000), VX_OK);
    CHECK_INT(stats(x).exported, 3);
    last_error(x, msg, sizeof msg);
    CHECK_STR(msg, "");
    vx_engine_close(e, 5000);
    vx_engine_free(e);
    vx_doc *d = pull(&ps, host(), "proj", "events-late", 3, 5);
    CHECK_INT(vx_value_count(d ? vx_doc_root(d) : NULL), 3);
    vx_doc_free(d);
}

/* A service-account key whose token_uri is a loopback token endpoint; the
 * gateway in front of pstest lets a call through only with its token. */
static void test_credentials(void)
{
    unsetenv("PUBSUB_EMULATOR_HOST");
    unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
    setup_topic(&ps, host(), "vexil-test", "events-auth", false);
    EVP_PKEY *key = new_rsa();
    token_server ts;
    token_server_start(&ts, key);
    snprintf(ts.scope, sizeof ts.scope, "%s", VX_GOOGLE_SCOPE_PUBSUB);
    snprintf(ts.token_prefix, sizeof ts.token_prefix, "%s-", test_server_get(&ps, "token"));
    char keyfile[300];
    snprintf(keyfile, sizeof keyfile, "%s/sa.json", tmpdir);
    write_service_account(keyfile, key, ts.token_uri);

    /* cleartext HTTP/2, then TLS with h2 by ALPN; the project from the key */
    const char *endpoints[2][2] = {{test_server_get(&ps, "auth_endpoint"), NULL},
                                   {test_server_get(&ps, "tls_endpoint"),
                                    test_server_get(&ps, "cert_file")}};
    for (int k = 0; k < 2; k++) {
        vx_engine *e = new_engine();
        vx_exporter *x = NULL;
        vx_error err = {0};
        char json[1024];
        snprintf(json, sizeof json, "{\"topic\":\"events-auth\",\"endpoint\":\"%s\","
                 "\"credentialsFile\":\"%s\"%s%s%s}", endpoints[k][0], keyfile,
                 endpoints[k][1] ? ",\"caFile\":\"" : "", endpoints[k][1] ? endpoints[k][1] : "",
                 endpoints[k][1] ? "\"" : "");
        CHECK_INT(add(e, json, &x, &err), VX_OK);
        for (int round = 0; round < 3; round++) {
            char user[32];
            snprintf(user, sizeof user, "auth-%d-%d", k, round);
            eval(e, "color", user);
            CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
        }
        CHECK_INT(stats(x).exported, 3);
        CHECK_INT(stats(x).failed_attempts, 0);
        vx_engine_close(e, 5000);
        vx_engine_free(e);
    }
    CHECK_INT(tokens_of(&ts), 2); /* one per engine: cached for the rest */
    vx_doc *d = pull(&ps, host(), "vexil-test", "events-auth", 6, 5);
    CHECK_INT(vx_value_count(d ? vx_doc_root(d) : NULL), 6);
    vx_doc_free(d);

    /* A token the gateway does not take: visible, a fresh token tried once,
     * the events kept. */
    snprintf(ts.token_prefix, sizeof ts.token_prefix, "ya29.wrong-");
    vx_engine *e = new_engine();
    vx_exporter *x = NULL;
    vx_error err = {0};
    char json[1024];
    snprintf(json, sizeof json, "{\"topic\":\"events-auth\",\"endpoint\":\"%s\","
             "\"credentialsFile\":\"%s\",\"retryInitial\":60000}",
             test_server_get(&ps, "auth_endpoint"), keyfile);
    CHECK_INT(add(e, json, &x, &err), VX_OK);
    int before = tokens_of(&ts);
    eval(e, "color", "refused-1");
    eval(e, "color", "refused-2");
    CHECK_INT(vx_engine_flush(e, 500), VX_ETIMEDOUT);
    char msg[300];
    last_error(x, msg, sizeof msg);
    CHECK(strstr(msg, "UNAUTHENTICATED"));
    CHECK(!strstr(msg, "ya29"));
    CHECK_INT(tokens_of(&ts) - before, 2);
    CHECK_INT(stats(x).pending, 2);
    CHECK_INT(stats(x).dropped, 0);
    vx_engine_close(e, 100);
    vx_engine_free(e);
    httpd_stop(&ts.h);
    EVP_PKEY_free(key);
    unlink(keyfile);
}

/* ---- a server of its own: stopped, started again, hanging -------------------------------- */

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* Starts the server's own argv again (same ports); its pid. */
static pid_t start_again(const test_server *s)
{
    const vx_value *argv = vx_value_get(vx_doc_root(s->info), "argv");
    size_t n = vx_value_count(argv);
    char **args = calloc(n + 1, sizeof *args);
    for (size_t i = 0; i < n; i++)
        args[i] = (char *)vx_value_get_string(vx_value_at(argv, i), NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(args[0], args);
        _exit(127);
    }
    free(args);
    for (int i = 0; i < 500 && !port_open(s->port); i++)
        usleep(20000);
    return pid;
}

static void test_restart(void)
{
    test_server own;
    if (!test_server_start(&own, "pstest")) {
        CHECK(false);
        return;
    }
    const char *h = test_server_get(&own, "emulator_host");
    setenv("PUBSUB_EMULATOR_HOST", h, 1);
    setup_topic(&own, h, "proj", "events-restart", false);
    vx_engine *e = new_engine();
    vx_exporter *x = NULL;
    vx_error err = {0};
    CHECK_INT(add(e, "{\"projectID\":\"proj\",\"topic\":\"events-restart\",\"retryInitial\":50,"
                     "\"retryMax\":200,\"timeout\":2000}", &x, &err), VX_OK);
    char user[32];
    for (int i = 0; i < 100; i++) {
        snprintf(user, sizeof user, "r-%d", i);
        eval(e, "color", user);
    }
    CHECK_INT(vx_engine_flush(e, 10000), VX_OK);
    vx_doc *before = pull(&own, h, "proj", "events-restart", 100, 5);
    CHECK_INT(vx_value_count(before ? vx_doc_root(before) : NULL), 100);

    pid_t pid = own.pid;
    kill(pid, SIGTERM);
    for (int i = 0; i < 500 && port_open(own.port); i++)
        usleep(20000);
    for (int i = 100; i < 250; i++) {
        snprintf(user, sizeof user, "r-%d", i);
        eval(e, "color", user);
    }
    CHECK_INT(vx_engine_flush(e, 400), VX_ETIMEDOUT);
    CHECK(stats(x).failed_attempts > 0);
    CHECK_INT(stats(x).pending, 150);
    pid_t again = start_again(&own);
    setup_topic(&own, h, "proj", "events-restart", false);
    CHECK_INT(vx_engine_flush(e, 20000), VX_OK);
    vx_exporter_stats s = stats(x);
    CHECK_INT(s.exported, 250);
    CHECK_INT(s.dropped, 0);
    vx_engine_close(e, 5000);
    vx_engine_free(e);
    vx_doc *after = pull(&own, h, "proj", "events-restart", 150, 5);
    CHECK_INT(vx_value_count(after ? vx_doc_root(after) : NULL), 150);
    /* every user once across both */
    static int count[250];
    memset(count, 0, sizeof count);
    vx_doc *docs[2] = {before, after};
    for (int k = 0; k < 2; k++) {
        const vx_value *list = docs[k] ? vx_doc_root(docs[k]) : NULL;
        for (size_t i = 0; list && i < vx_value_count(list); i++) {
            const char *p = strstr(msg_data(vx_value_at(list, i)), "\"userKey\":\"r-");
            int u = p ? atoi(p + 13) : -1;
            if (u >= 0 && u < 250)
                count[u]++;
        }
        vx_doc_free(docs[k]);
    }
    int wrong = 0;
    for (int i = 0; i < 250; i++)
        wrong += count[i] != 1;
    CHECK_INT(wrong, 0);

    /* A hanging server: close() gives up within its timeout, counting what
     * it could not deliver. */
    e = new_engine();
    CHECK_INT(add(e, "{\"projectID\":\"proj\",\"topic\":\"events-restart\",\"timeout\":60000}",
                  &x, &err), VX_OK);
    kill(again, SIGSTOP);
    test_wait_stopped(again);
    eval(e, "color", "hang-1");
    eval(e, "color", "hang-2");
    CHECK_INT(vx_engine_close(e, 1000), VX_ETIMEDOUT);
    CHECK_INT(stats(x).dropped, 2);
    CHECK(logged("2 events could not be delivered before close"));
    kill(again, SIGCONT);
    vx_engine_free(e);
    kill(again, SIGTERM);
    waitpid(again, NULL, 0);
    test_server_stop(&own);
}

int main(void)
{
    make_flags();
    vx_buf_init(&lb.text);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vexil-test-pubsub-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    RUN(test_url);
    RUN(test_options);
    if (!test_server_start(&ps, "pstest")) {
        fprintf(stderr, "pstest did not start\n");
        return 1;
    }
    RUN(test_publish_and_pull);
    RUN(test_ordering_keys);
    RUN(test_oversized);
    RUN(test_missing_topic);
    RUN(test_credentials);
    RUN(test_restart);
    test_server_stop(&ps);
    rmdir(tmpdir);
    free(big_flags);
    vx_buf_free(&lb.text);
    TEST_MAIN_END();
}
