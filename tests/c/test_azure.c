/* Azure Blob Storage from C: connection strings, SharedKey and SAS requests
 * that Azurite (which checks both signatures) accepts and a wrong key it
 * refuses, the exporter end to end (names, blocks, name clashes, refusals, a
 * hanging server), the retriever, and the Entra ID flows against loopback
 * token endpoints that check every request, ending in Azurite over HTTPS
 * accepting the bearer token. */
#include "cloud/azure.h"
#include "cloud/crc64.h"
#include "engine.h"
#include "events.h"
#include "httpd.h"
#include "pipeline.h"
#include "servers.h"
#include "test.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/wait.h>
#include <time.h>

static test_server azurite;       /* http, SharedKey and SAS */
static test_server azurite_tls;   /* https, bearer tokens too */
static const char *KEY;           /* the development account's key */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_text[32768];

static void capture_log(void *ud, vx_log_level level, const char *msg)
{
    (void)ud;
    (void)level;
    pthread_mutex_lock(&log_mu);
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof log_text - n, "%s\n", msg);
    pthread_mutex_unlock(&log_mu);
}

static bool log_has(const char *s)
{
    pthread_mutex_lock(&log_mu);
    bool yes = strstr(log_text, s) != NULL;
    pthread_mutex_unlock(&log_mu);
    return yes;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static vx_doc *json(const char *text)
{
    vx_doc *d = vx_doc_new();
    vx_error err = {0};
    if (vx_doc_parse_json(d, text, strlen(text), &err) != VX_OK)
        fprintf(stderr, "bad test JSON: %s\n%s\n", err.message, text);
    return d;
}

/* An account from options given as JSON; false with the message in err. */
static bool account(const char *opts, vx_az_account *a, vx_error *err)
{
    vx_doc *d = json(opts);
    vx_opts o;
    vx_opts_init(&o, vx_doc_root(d), "", "azureBlobStorage", 0, NULL, err);
    bool ok = vx_az_account_read(&o, 10000, a);
    vx_doc_free(d);
    return ok;
}

static bool dev_account(vx_az_account *a)
{
    char opts[1024];
    snprintf(opts, sizeof opts, "{\"accountName\":\"devstoreaccount1\",\"accountKey\":\"%s\","
             "\"serviceUrl\":\"%s\"}", KEY, test_server_get(&azurite, "endpoint"));
    vx_error err = {0};
    bool ok = account(opts, a, &err);
    if (!ok)
        fprintf(stderr, "account: %s\n", err.message);
    return ok;
}

static long request(vx_az_account *a, const char *method, const char *container,
                    const char *blob, const char *const *query, const char *const *headers,
                    const char *body, vx_http_response *resp)
{
    vx_az_request r = {.method = method, .op = method, .container = container, .blob = blob,
                       .query = query, .headers = headers, .body = body,
                       .body_len = body ? strlen(body) : 0, .max_response_bytes = 16 << 20};
    vx_error err = {0};
    vx_http_response_init(resp);
    if (vx_az_perform(a, &r, resp, &err) != VX_OK)
        fprintf(stderr, "request: %s\n", err.message);
    return resp->status;
}

static long simple(vx_az_account *a, const char *method, const char *container, const char *blob,
                   const char *const *query, const char *const *headers, const char *body)
{
    vx_http_response resp;
    long st = request(a, method, container, blob, query, headers, body, &resp);
    vx_http_response_free(&resp);
    return st;
}

static void create_container(vx_az_account *a, const char *name)
{
    const char *q[] = {"restype", "container", NULL};
    long st = simple(a, "PUT", name, NULL, q, NULL, NULL);
    CHECK(st == 201 || st == 409);
}

static long put_text(vx_az_account *a, const char *container, const char *blob, const char *text)
{
    const char *h[] = {"x-ms-blob-type: BlockBlob", "Content-Type: text/plain", NULL};
    return simple(a, "PUT", container, blob, NULL, h, text);
}

/* The blob's bytes (malloc'd), or NULL. */
static char *get_text(vx_az_account *a, const char *container, const char *blob)
{
    vx_http_response resp;
    char *out = NULL;
    if (request(a, "GET", container, blob, NULL, NULL, NULL, &resp) == 200)
        out = strndup(resp.body.data ? resp.body.data : "", resp.body.len);
    vx_http_response_free(&resp);
    return out;
}

/* The names of the container's blobs under prefix, "\n"-separated. */
static char *list_names(vx_az_account *a, const char *container, const char *prefix, int *count)
{
    const char *q[] = {"comp", "list", "prefix", prefix, "restype", "container", NULL};
    vx_http_response resp;
    request(a, "GET", container, NULL, q, NULL, NULL, &resp);
    vx_buf names;
    vx_buf_init(&names);
    *count = 0;
    for (const char *p = resp.body.data; p && (p = strstr(p, "<Name>")); ) {
        p += 6;
        const char *e = strstr(p, "</Name>");
        if (!e)
            break;
        vx_buf_append(&names, p, (size_t)(e - p));
        vx_buf_putc(&names, '\n');
        (*count)++;
    }
    vx_http_response_free(&resp);
    char *s = strdup(names.data ? names.data : "");
    vx_buf_free(&names);
    return s;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void record(vx_engine *e, const char *user)
{
    vx_context *ctx = vx_context_new(user);
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    vx_value v = vx_make_string("on", 2);
    vx_feature_record r = {.flag_key = "my-flag", .variation = "enabled", .value = &v,
                           .version = "1"};
    vx_pipeline_record_feature(vx_engine_pipeline(e), &r, &a);
    vx_context_free(ctx);
}

static vx_engine *engine_with(const char *opts, vx_exporter **x)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_set_logger(e, VX_LOG_DEBUG, capture_log, NULL);
    vx_doc *d = json(opts);
    vx_error err = {0};
    vx_status st = vx_engine_add_builtin_exporter(e, "azureBlobStorage", vx_doc_root(d), 0, x, &err);
    if (st != VX_OK)
        fprintf(stderr, "exporter: %s\n", err.message);
    CHECK_INT(st, VX_OK);
    vx_doc_free(d);
    return e;
}

/* Each of users u<from>..u<to-1> exactly once in text (JSON lines). */
static void check_users_once(const char *text, int from, int to)
{
    int bad = 0;
    for (int i = from; i < to; i++) {
        char needle[48];
        snprintf(needle, sizeof needle, "\"userKey\":\"u%d\"", i);
        bad += count_of(text, needle) != 1;
    }
    CHECK_INT(bad, 0);
}

/* ---- connection strings and signing ------------------------------------------ */

static void test_connection_strings(void)
{
    vx_az_connstr c;
    vx_error err = {0};
    CHECK_INT(vx_az_connstr_parse("DefaultEndpointsProtocol=https;AccountName=acct;"
                                  "AccountKey=a2V5PT0=;EndpointSuffix=core.windows.net", &c, &err),
              VX_OK);
    CHECK_STR(c.account_name, "acct");
    CHECK_STR(c.account_key, "a2V5PT0=");  /* a value may hold '=' */
    CHECK_STR(c.blob_endpoint, "https://acct.blob.core.windows.net");
    CHECK(c.sas == NULL);
    vx_az_connstr_clear(&c);

    CHECK_INT(vx_az_connstr_parse(" blobendpoint = http://127.0.0.1:1/devstoreaccount1/ ;"
                                  "SharedAccessSignature=?sv=2021-12-02&sig=abc%3D;", &c, &err),
              VX_OK);
    CHECK_STR(c.blob_endpoint, "http://127.0.0.1:1/devstoreaccount1");
    CHECK_STR(c.sas, "sv=2021-12-02&sig=abc%3D");
    CHECK(c.account_name == NULL && c.account_key == NULL);
    vx_az_connstr_clear(&c);

    CHECK_INT(vx_az_connstr_parse("AccountName=x;AccountKey=eA==;EndpointSuffix=core.chinacloudapi.cn;"
                                  "DefaultEndpointsProtocol=http;QueueEndpoint=http://q", &c, &err),
              VX_OK);
    CHECK_STR(c.blob_endpoint, "http://x.blob.core.chinacloudapi.cn");
    vx_az_connstr_clear(&c);

    CHECK_INT(vx_az_connstr_parse("UseDevelopmentStorage=true", &c, &err), VX_OK);
    CHECK_STR(c.account_name, "devstoreaccount1");
    CHECK_STR(c.account_key, KEY);
    CHECK_STR(c.blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");
    vx_az_connstr_clear(&c);
    CHECK_INT(vx_az_connstr_parse("UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://proxy/",
                                  &c, &err), VX_OK);
    CHECK_STR(c.blob_endpoint, "http://proxy:10000/devstoreaccount1");
    vx_az_connstr_clear(&c);

    /* Errors name what is missing, never a value. */
    CHECK_INT(vx_az_connstr_parse("AccountName=acct;EndpointSuffix=s3cr3t", &c, &err), VX_EINVAL);
    CHECK_STR(err.message, "needs AccountKey or SharedAccessSignature");
    CHECK_INT(vx_az_connstr_parse("AccountKey=s3cr3t", &c, &err), VX_EINVAL);
    CHECK(strstr(err.message, "AccountName") && !strstr(err.message, "s3cr3t"));
    CHECK_INT(vx_az_connstr_parse("DefaultEndpointsProtocol=ftp;AccountName=a;AccountKey=eA==", &c,
                                  &err), VX_EINVAL);
    CHECK_INT(vx_az_connstr_parse("", &c, &err), VX_EINVAL);
}

/* The string-to-sign of Azure's rules, byte for byte. */
static void test_string_to_sign(void)
{
    const char *headers[] = {"x-ms-version: 2021-12-02", "Content-MD5: bWQ1",
                             "X-MS-Date:  Tue, 02 Jan 2024 03:04:05 GMT ",
                             "Content-Type: text/csv", "If-None-Match: *",
                             "x-ms-blob-type: BlockBlob", "User-Agent: ignored", NULL};
    const char *query[] = {"blockid", "YQ==", "comp", "block", NULL};
    vx_az_signed s = {.method = "PUT", .account = "acct", .path = "/acct/c/a%20b.json",
                      .query = query, .headers = headers, .content_length = 11};
    vx_buf b;
    vx_buf_init(&b);
    vx_az_string_to_sign(&s, &b);
    CHECK_STR(b.data, "PUT\n\n\n11\nbWQ1\ntext/csv\n\n\n\n*\n\n\n"
                      "x-ms-blob-type:BlockBlob\nx-ms-date:Tue, 02 Jan 2024 03:04:05 GMT\n"
                      "x-ms-version:2021-12-02\n/acct/acct/c/a%20b.json\nblockid:YQ==\ncomp:block");
    vx_buf_clear(&b);
    /* A zero Content-Length is signed as nothing. */
    vx_az_signed g = {.method = "GET", .account = "acct", .path = "/c", .headers = NULL};
    vx_az_string_to_sign(&g, &b);
    CHECK_STR(b.data, "GET\n\n\n\n\n\n\n\n\n\n\n\n/acct/c");
    vx_buf_free(&b);

    char date[32];
    vx_az_http_date(1704164645, date);
    CHECK_STR(date, "Tue, 02 Jan 2024 03:04:05 GMT");
}

static void test_account_options(void)
{
    vx_az_account a;
    vx_error err = {0};
    /* GOFF's default endpoint. */
    CHECK(account("{\"accountName\":\"acct\",\"accountKey\":\"a2V5\"}", &a, &err));
    CHECK_STR(a.origin, "https://acct.blob.core.windows.net");
    CHECK_STR(a.base_path, "");
    CHECK_INT(a.auth, VX_AZ_AUTH_SHARED_KEY);
    CHECK_INT(a.key_len, 3);
    vx_az_account_destroy(&a);
    /* The account named by a path-style endpoint; a SAS in its query. */
    CHECK(account("{\"serviceUrl\":\"http://127.0.0.1:9/devstoreaccount1/?sv=1&sig=x\"}", &a, &err));
    CHECK_STR(a.name, "devstoreaccount1");
    CHECK_STR(a.base_path, "/devstoreaccount1");
    CHECK_INT(a.auth, VX_AZ_AUTH_SAS);
    CHECK_STR(a.sas, "sv=1&sig=x");
    vx_az_account_destroy(&a);
    CHECK(account("{\"connectionString\":\"UseDevelopmentStorage=true\"}", &a, &err));
    CHECK_STR(a.name, "devstoreaccount1");
    CHECK_STR(a.origin, "http://127.0.0.1:10000");
    CHECK_STR(a.source, "connectionString");
    vx_az_account_destroy(&a);
    /* Errors name the key. */
    CHECK(!account("{\"accountKey\":\"a2V5\"}", &a, &err));
    CHECK_STR(err.message, "accountName: required for kind azureBlobStorage");
    CHECK(!account("{\"accountName\":\"acct\",\"accountKey\":\"not base64!\"}", &a, &err));
    CHECK_STR(err.message, "accountKey: is not a base64 account key");
    CHECK(!account("{\"accountName\":\"acct\",\"connectionString\":\"AccountName=other;AccountKey=eA==\"}",
                   &a, &err));
    CHECK_STR(err.message, "accountName: names another account than connectionString");
    CHECK(!account("{\"accountName\":\"acct\",\"credential\":\"clientSecret\",\"tenantId\":\"t\","
                   "\"clientId\":\"c\"}", &a, &err));
    CHECK(strstr(err.message, "clientSecret: required") != NULL);
    CHECK(!account("{\"accountName\":\"acct\",\"clientSecret\":\"s\",\"tenantId\":\"t/../x\","
                   "\"clientId\":\"c\"}", &a, &err));
    CHECK(strstr(err.message, "tenantId") != NULL);
    CHECK(!account("{\"serviceUrl\":\"http://example.com/acct\",\"credential\":\"managedIdentity\"}",
                   &a, &err));
    CHECK(strstr(err.message, "serviceUrl: must be https://") != NULL);
    CHECK(!account("{\"accountName\":\"acct\",\"credential\":\"sas\"}", &a, &err));
    CHECK_STR(err.message, "sasToken: required for credential sas");
}

/* ---- Azurite: SharedKey and SAS --------------------------------------------- */

static void test_sharedkey_accepted_and_wrong_key_refused(void)
{
    vx_az_account a;
    if (!dev_account(&a))
        return;
    create_container(&a, "signing");
    CHECK_INT(put_text(&a, "signing", "dir/with space+plus.txt", "hello"), 201);
    char *got = get_text(&a, "signing", "dir/with space+plus.txt");
    CHECK_STR(got, "hello");
    free(got);
    vx_az_account_destroy(&a);

    char opts[1024];
    snprintf(opts, sizeof opts, "{\"accountName\":\"devstoreaccount1\",\"accountKey\":\"%s\","
             "\"serviceUrl\":\"%s\"}", "d3Jvbmcga2V5IHdyb25nIGtleQ==",
             test_server_get(&azurite, "endpoint"));
    vx_error err = {0};
    CHECK(account(opts, &a, &err));
    vx_http_response resp;
    vx_az_request r = {.method = "GET", .op = "Get Blob", .container = "signing",
                       .blob = "dir/with space+plus.txt"};
    vx_http_response_init(&resp);
    CHECK_INT(vx_az_perform(&a, &r, &resp, &err), VX_OK);
    CHECK_INT(resp.status, 403);
    CHECK_INT(vx_az_fail(&r, &resp, &err), VX_EHTTP);
    /* Azurite's code for a bad signature (Azure says AuthenticationFailed). */
    CHECK_STR(err.message, "Get Blob: HTTP 403 AuthorizationFailure: Server failed to "
                           "authenticate the request. (check the account key, SAS or token)");
    CHECK(strstr(err.message, "d3Jvbmcga2V5") == NULL);
    vx_http_response_free(&resp);
    vx_az_account_destroy(&a);
}

/* An account SAS, signed as Azure's docs say (versions from 2020-12-06). */
static void make_sas(const char *perms, bool tamper, char *out, size_t cap)
{
    char sts[512];
    snprintf(sts, sizeof sts, "devstoreaccount1\n%s\nb\nsco\n\n2099-01-01T00:00:00Z\n\n"
             "https,http\n2021-12-02\n\n", perms);
    size_t key_len;
    unsigned char *key = vx_az_base64_decode(KEY, &key_len);
    unsigned char mac[32];
    unsigned int mac_len = 32;
    HMAC(EVP_sha256(), key, (int)key_len, (unsigned char *)sts, strlen(sts), mac, &mac_len);
    free(key);
    if (tamper)
        mac[0] ^= 1;
    char sig[64];
    vx_az_base64(mac, 32, sig, sizeof sig);
    vx_buf enc;
    vx_buf_init(&enc);
    vx_az_url_encode(&enc, sig, false);
    snprintf(out, cap, "sv=2021-12-02&ss=b&srt=sco&sp=%s&se=2099-01-01T00%%3A00%%3A00Z"
             "&spr=https%%2Chttp&sig=%s", perms, enc.data);
    vx_buf_free(&enc);
}

static void test_sas_accepted_and_tampered_refused(void)
{
    char sas[512], opts[1024];
    make_sas("rwdlac", false, sas, sizeof sas);
    snprintf(opts, sizeof opts, "{\"serviceUrl\":\"%s\",\"sasToken\":\"?%s\"}",
             test_server_get(&azurite, "endpoint"), sas);
    vx_az_account a;
    vx_error err = {0};
    CHECK(account(opts, &a, &err));
    CHECK_INT(a.auth, VX_AZ_AUTH_SAS);
    create_container(&a, "sas");
    CHECK_INT(put_text(&a, "sas", "x.txt", "by sas"), 201);
    char *got = get_text(&a, "sas", "x.txt");
    CHECK_STR(got, "by sas");
    free(got);
    vx_az_account_destroy(&a);

    make_sas("rwdlac", true, sas, sizeof sas);
    snprintf(opts, sizeof opts, "{\"serviceUrl\":\"%s\",\"sasToken\":\"%s\"}",
             test_server_get(&azurite, "endpoint"), sas);
    CHECK(account(opts, &a, &err));
    CHECK_INT(put_text(&a, "sas", "y.txt", "refused"), 403);
    vx_az_account_destroy(&a);
}

/* ---- the exporter ---------------------------------------------------------- */

static void exporter_opts(char *out, size_t cap, const char *container, const char *extra)
{
    snprintf(out, cap, "{\"container\":\"%s\",\"accountName\":\"devstoreaccount1\","
             "\"accountKey\":\"%s\",\"serviceUrl\":\"%s\",\"flushInterval\":600000,"
             "\"retryInitial\":50,\"retryMax\":200%s%s}", container, KEY,
             test_server_get(&azurite, "endpoint"), *extra ? "," : "", extra);
}

static void test_exporter_round_trip(void)
{
    vx_az_account a;
    if (!dev_account(&a))
        return;
    create_container(&a, "events");
    char opts[2048];
    exporter_opts(opts, sizeof opts, "events", "\"path\":\"vexil/run1\"");
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(opts, &x);
    for (int i = 0; i < 100; i++) {
        char u[16];
        snprintf(u, sizeof u, "u%d", i);
        record(e, u);
    }
    CHECK_INT(vx_engine_flush(e, 20000), VX_OK);
    for (int i = 100; i < 150; i++) {
        char u[16];
        snprintf(u, sizeof u, "u%d", i);
        record(e, u);
    }
    CHECK_INT(vx_engine_flush(e, 20000), VX_OK);
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    CHECK_INT(s.exported, 150);
    CHECK_INT(s.failed_attempts, 0);
    CHECK(log_has("azureBlobStorage exporter: account devstoreaccount1, container events, "
                  "credential accountKey (SharedKey)"));
    CHECK(log_has("azureBlobStorage exporter: file uploaded: events/vexil/run1/flag-variation-"));
    CHECK(!log_has(KEY));
    vx_engine_free(e);

    /* Two blobs under the path, GOFF's names (the second one made unique
     * when both flushes fell in the same second). */
    int n = 0;
    char *names = list_names(&a, "events", "vexil/run1/", &n);
    CHECK_INT(n, 2);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char prefix[300];
    snprintf(prefix, sizeof prefix, "vexil/run1/flag-variation-%s-", host);
    CHECK(strncmp(names, prefix, strlen(prefix)) == 0);
    vx_buf all;
    vx_buf_init(&all);
    for (char *line = strtok(names, "\n"); line; line = strtok(NULL, "\n")) {
        CHECK(strstr(line, ".json") != NULL);
        char *t = get_text(&a, "events", line);
        vx_buf_puts(&all, t ? t : "");
        free(t);
    }
    check_users_once(all.data, 0, 150);
    CHECK_INT(count_of(all.data, "\n"), 150);
    CHECK(strstr(all.data, "{\"kind\":\"feature\",\"contextKind\":\"user\",\"userKey\":\"u0\","
                           "\"creationDate\":") != NULL);
    vx_buf_free(&all);
    free(names);
    vx_az_account_destroy(&a);
}

/* A file above blockSize goes up as blocks; with checksum MD5 the blob's
 * Content-MD5 is the file's, by default its vexilcrc64 metadata is the
 * file's CRC-64 (each block was sent with its own). */
static void blocks_above_threshold(const char *container, bool md5_mode)
{
    vx_az_account a;
    if (!dev_account(&a))
        return;
    create_container(&a, container);
    char opts[2048];
    exporter_opts(opts, sizeof opts, container,
                  md5_mode ? "\"blockSize\":1024,\"format\":\"csv\",\"filename\":\"big.{{ .Format}}\","
                             "\"checksum\":\"MD5\""
                           : "\"blockSize\":1024,\"format\":\"csv\",\"filename\":\"big.{{ .Format}}\"");
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(opts, &x);
    for (int i = 0; i < 300; i++) {
        char u[16];
        snprintf(u, sizeof u, "u%d", i);
        record(e, u);
    }
    CHECK_INT(vx_engine_flush(e, 20000), VX_OK);
    vx_engine_free(e);
    char *csv = get_text(&a, container, "big.csv");
    CHECK(csv != NULL);
    if (csv) {
        CHECK_INT(count_of(csv, "\n"), 300);
        CHECK(strncmp(csv, "feature;user;u0;", 16) == 0);
        CHECK_INT(count_of(csv, ";u299;"), 1);
    }
    /* Committed as blocks of 1 KiB, and the blob's checksum is its own. */
    const char *q[] = {"blocklisttype", "committed", "comp", "blocklist", NULL};
    vx_http_response resp;
    CHECK_INT(request(&a, "GET", container, "big.csv", q, NULL, NULL, &resp), 200);
    int blocks = resp.body.data ? count_of(resp.body.data, "<Block>") : 0;
    CHECK(csv && blocks >= (int)((strlen(csv) + 1023) / 1024));
    CHECK(resp.body.data && strstr(resp.body.data, "<Size>1024</Size>") != NULL);
    vx_http_response_free(&resp);
    CHECK_INT(request(&a, "HEAD", container, "big.csv", NULL, NULL, NULL, &resp), 200);
    char sum[64] = "", want[32];
    if (md5_mode) {
        vx_http_response_header(&resp, "Content-MD5", sum, sizeof sum);
        unsigned char digest[16];
        unsigned int dl = 16;
        EVP_Digest(csv ? csv : "", csv ? strlen(csv) : 0, digest, &dl, EVP_md5(), NULL);
        vx_az_base64(digest, 16, want, sizeof want);
    } else {
        vx_http_response_header(&resp, "x-ms-meta-vexilcrc64", sum, sizeof sum);
        vx_crc64_base64(vx_crc64(0, csv ? csv : "", csv ? strlen(csv) : 0), want);
    }
    CHECK_STR(sum, want);
    char type[64] = "";
    vx_http_response_header(&resp, "Content-Type", type, sizeof type);
    CHECK_STR(type, "text/csv");
    vx_http_response_free(&resp);
    free(csv);
    vx_az_account_destroy(&a);
}

static void test_exporter_blocks_above_threshold(void)
{
    blocks_above_threshold("blocks", false);
}

static void test_exporter_blocks_above_threshold_md5(void)
{
    blocks_above_threshold("blocks-md5", true);
}

static void test_exporter_never_overwrites(void)
{
    vx_az_account a;
    if (!dev_account(&a))
        return;
    create_container(&a, "taken");
    /* Another process's blob holds the name GOFF would use. */
    CHECK_INT(put_text(&a, "taken", "out/fixed.json", "theirs"), 201);
    char opts[2048];
    exporter_opts(opts, sizeof opts, "taken", "\"path\":\"out\",\"filename\":\"fixed.json\"");
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(opts, &x);
    record(e, "u0");
    record(e, "u1");
    CHECK_INT(vx_engine_flush(e, 20000), VX_OK);
    record(e, "u2");
    CHECK_INT(vx_engine_flush(e, 20000), VX_OK);
    vx_engine_free(e);
    char *theirs = get_text(&a, "taken", "out/fixed.json");
    CHECK_STR(theirs, "theirs");
    char *one = get_text(&a, "taken", "out/fixed-1.json");
    char *two = get_text(&a, "taken", "out/fixed-2.json");
    CHECK(one && two);
    if (one && two) {
        check_users_once(one, 0, 2);
        check_users_once(two, 2, 3);
    }
    free(theirs);
    free(one);
    free(two);
    vx_az_account_destroy(&a);
}

static void test_exporter_wrong_key_and_missing_container(void)
{
    char opts[2048];
    snprintf(opts, sizeof opts, "{\"container\":\"events\",\"accountName\":\"devstoreaccount1\","
             "\"accountKey\":\"d3Jvbmcga2V5IHdyb25nIGtleQ==\",\"serviceUrl\":\"%s\","
             "\"retryInitial\":50,\"retryMax\":100}", test_server_get(&azurite, "endpoint"));
    log_text[0] = '\0';
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(opts, &x);
    record(e, "u0");
    CHECK_INT(vx_engine_flush(e, 500), VX_ETIMEDOUT);
    vx_exporter_stats s;
    for (int i = 0; i < 400 && (vx_exporter_get_stats(x, &s), s.failed_attempts == 0); i++)
        usleep(50000);
    CHECK(s.failed_attempts >= 1);
    CHECK_INT(s.pending, 1);
    CHECK_INT(s.exported, 0);
    for (int i = 0; i < 400 && !log_has("AuthorizationFailure"); i++)
        usleep(50000);
    CHECK(log_has("Put Blob: HTTP 403 AuthorizationFailure: Server failed to authenticate the "
                  "request. (check the account key, SAS or token)"));
    CHECK(!log_has("d3Jvbmcga2V5"));
    vx_engine_close(e, 50); /* what fails stays failed: no need to wait */
    vx_engine_free(e);

    exporter_opts(opts, sizeof opts, "no-such-container", "");
    log_text[0] = '\0';
    e = engine_with(opts, &x);
    record(e, "u0");
    CHECK_INT(vx_engine_flush(e, 500), VX_ETIMEDOUT);
    for (int i = 0; i < 400 && !log_has("ContainerNotFound"); i++)
        usleep(50000);
    CHECK(log_has("Put Blob: HTTP 404 ContainerNotFound: The specified container does not "
                  "exist. (create it first)"));
    vx_engine_close(e, 50);
    vx_engine_free(e);

    /* Bad options are refused at once, naming the key. */
    vx_engine_new(&e);
    vx_error err = {0};
    vx_doc *d = json("{\"container\":\"Bad_Name\",\"accountName\":\"a\",\"accountKey\":\"eA==\"}");
    CHECK_INT(vx_engine_add_builtin_exporter(e, "azureBlobStorage", vx_doc_root(d), 0, NULL, &err),
              VX_EINVAL);
    CHECK(strncmp(err.message, "container: must be", 18) == 0);
    vx_doc_free(d);
    d = json("{\"container\":\"c12\",\"accountName\":\"a\",\"accountKey\":\"eA==\","
             "\"parquetCompressionCodec\":\"LZO\"}");
    CHECK_INT(vx_engine_add_builtin_exporter(e, "azureBlobStorage", vx_doc_root(d), 0, NULL, &err),
              VX_EINVAL);
    CHECK(strstr(err.message, "parquetCompressionCodec") != NULL);
    vx_doc_free(d);
    d = json("{\"container\":\"c12\",\"accountName\":\"a\",\"acountKey\":\"eA==\"}");
    CHECK_INT(vx_engine_add_builtin_exporter(e, "azureBlobStorage", vx_doc_root(d), 0, NULL, &err),
              VX_EINVAL);
    CHECK_STR(err.message, "acountKey: unknown key (did you mean accountKey?)");
    vx_doc_free(d);
    vx_engine_free(e);
}

/* A request whose answer never came may still have been written: the retry
 * finds the blob under its name with our Content-MD5 and takes it as
 * delivered, so nothing is stored twice. */
static void test_exporter_unknown_outcome_not_duplicated(void)
{
    vx_az_account a;
    if (!dev_account(&a))
        return;
    create_container(&a, "unsure");
    char opts[2048];
    snprintf(opts, sizeof opts, "{\"container\":\"unsure\",\"accountName\":\"devstoreaccount1\","
             "\"accountKey\":\"%s\",\"serviceUrl\":\"%s\",\"flushInterval\":600000,"
             "\"retryInitial\":1500,\"retryMax\":1500,\"timeout\":500}", KEY,
             test_server_get(&azurite, "endpoint"));
    log_text[0] = '\0';
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(opts, &x);
    for (int i = 0; i < 10; i++) {
        char u[16];
        snprintf(u, sizeof u, "u%d", i);
        record(e, u);
    }
    /* The server takes the request in but stalls: the exporter times out. */
    test_server_pause(&azurite);
    CHECK_INT(vx_engine_flush(e, 800), VX_ETIMEDOUT);
    /* Resumed, the server writes what it had received. */
    test_server_resume(&azurite);
    int n = 0;
    for (int i = 0; i < 100 && n == 0; i++) {
        free(list_names(&a, "unsure", "", &n));
        if (!n)
            usleep(50000);
    }
    CHECK_INT(n, 1);
    for (int i = 10; i < 15; i++) {
        char u[16];
        snprintf(u, sizeof u, "u%d", i);
        record(e, u);
    }
    /* The retry finds the first ten there, and sends only the five others. */
    CHECK_INT(vx_engine_flush(e, 20000), VX_OK);
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    CHECK_INT(s.exported, 15);
    CHECK_INT(s.failed_attempts, 1);
    CHECK(log_has("was written by an earlier attempt whose answer was lost"));
    vx_engine_free(e);
    char *names = list_names(&a, "unsure", "", &n);
    CHECK_INT(n, 2);
    vx_buf all;
    vx_buf_init(&all);
    for (char *line = strtok(names, "\n"); line; line = strtok(NULL, "\n")) {
        char *t = get_text(&a, "unsure", line);
        vx_buf_puts(&all, t ? t : "");
        free(t);
    }
    check_users_once(all.data ? all.data : "", 0, 15);
    vx_buf_free(&all);
    free(names);
    vx_az_account_destroy(&a);
}

static void test_exporter_hanging_server_close(void)
{
    char opts[2048];
    exporter_opts(opts, sizeof opts, "events", "\"timeout\":20000");
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(opts, &x);
    test_server_pause(&azurite);
    record(e, "u0");
    vx_engine_flush(e, 100); /* the export starts and hangs */
    int64_t t0 = now_ms();
    CHECK_INT(vx_engine_close(e, 300), VX_ETIMEDOUT);
    int64_t took = now_ms() - t0;
    /* Its timeout, not the request's 20 s (the bound catches a hang, not speed). */
    CHECK(took < 10000);
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    CHECK_INT(s.exported, 0);
    CHECK_INT(s.dropped, 1);
    vx_engine_free(e);
    /* The abandoned export times out and cleans up after itself. */
    usleep(1700 * 1000);
    test_server_resume(&azurite);
}

/* ---- the retriever ----------------------------------------------------------- */

static const char *FLAGS_V1 = "my-flag:\n  variations:\n    a: \"one\"\n    b: \"two\"\n"
                              "  defaultRule:\n    variation: a\n";
static const char *FLAGS_V2 = "my-flag:\n  variations:\n    a: \"one\"\n    b: \"two\"\n"
                              "  defaultRule:\n    variation: b\n";

static char *eval_string(vx_engine *e)
{
    vx_context *ctx = vx_context_new("someone");
    vx_result r = {0};
    vx_engine_eval_string(e, "my-flag", ctx, "none", &r);
    char *out = strdup(r.value ? vx_value_get_string(r.value, NULL) : "");
    vx_result_release(&r);
    vx_context_free(ctx);
    return out;
}

static void test_retriever(void)
{
    vx_az_account a;
    if (!dev_account(&a))
        return;
    create_container(&a, "flags");
    CHECK_INT(put_text(&a, "flags", "conf/flags.yaml", FLAGS_V1), 201);
    char opts[1024];
    snprintf(opts, sizeof opts, "{\"accountName\":\"devstoreaccount1\",\"container\":\"flags\","
             "\"object\":\"conf/flags.yaml\",\"accountKey\":\"%s\",\"serviceUrl\":\"%s\"}", KEY,
             test_server_get(&azurite, "endpoint"));
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_engine_set_logger(e, VX_LOG_DEBUG, capture_log, NULL);
    vx_doc *d = json(opts);
    vx_error err = {0};
    CHECK_INT(vx_engine_add_builtin_retriever(e, "azureBlobStorage", vx_doc_root(d), 0, &err),
              VX_OK);
    vx_doc_free(d);
    CHECK_INT(vx_engine_refresh(e, &err), VX_OK);
    char *v = eval_string(e);
    CHECK_STR(v, "one");
    free(v);
    CHECK_INT(vx_engine_refresh(e, &err), VX_OK);
    vx_refresh_stats rs;
    vx_engine_get_refresh_stats(e, &rs);
    CHECK_INT(rs.unchanged, 1);
    CHECK_INT(put_text(&a, "flags", "conf/flags.yaml", FLAGS_V2), 201);
    CHECK_INT(vx_engine_refresh(e, &err), VX_OK);
    v = eval_string(e);
    CHECK_STR(v, "two");
    free(v);
    /* Gone: the refresh fails with the service's code, the flags stay. */
    CHECK_INT(simple(&a, "DELETE", "flags", "conf/flags.yaml", NULL, NULL, NULL), 202);
    CHECK_INT(vx_engine_refresh(e, &err), VX_EHTTP);
    CHECK(strstr(err.message, "HTTP status 404 received: BlobNotFound") != NULL);
    v = eval_string(e);
    CHECK_STR(v, "two");
    free(v);
    vx_engine_free(e);
    vx_az_account_destroy(&a);
}

/* ---- Entra ID --------------------------------------------------------------- */

static void b64url(const char *s, vx_buf *out)
{
    char tmp[1024];
    vx_az_base64(s, strlen(s), tmp, sizeof tmp);
    for (char *p = tmp; *p && *p != '='; p++)
        vx_buf_putc(out, *p == '+' ? '-' : *p == '/' ? '_' : *p);
}

/* A token Azurite's basic OAuth check accepts (or not: `aud`). */
static char *jwt(const char *aud)
{
    int64_t now = (int64_t)time(NULL);
    char claims[512];
    snprintf(claims, sizeof claims, "{\"aud\":\"%s\",\"iss\":\"https://sts.windows.net/"
             "my-tenant/\",\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,\"oid\":\"x\"}", aud,
             (long long)now - 60, (long long)now - 60, (long long)now + 3600);
    vx_buf b;
    vx_buf_init(&b);
    b64url("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", &b);
    vx_buf_putc(&b, '.');
    b64url(claims, &b);
    vx_buf_puts(&b, ".c2lnbmF0dXJl");
    char *s = strdup(b.data);
    vx_buf_free(&b);
    return s;
}

/* The token endpoint: answers with `answer` (a JSON body), or with 401. */
typedef struct token_server {
    httpd h;
    char body[4096];
    int status;
} token_server;

static void token_handler(void *ud, const httpd_request *req, httpd_reply *out)
{
    (void)req;
    token_server *t = ud;
    out->status = t->status;
    out->body = t->body;
    out->body_len = strlen(t->body);
    snprintf(out->headers, sizeof out->headers, "Content-Type: application/json\r\n");
}

static void token_start(token_server *t, const char *aud, bool expires_on)
{
    httpd_start(&t->h);
    t->h.handler = token_handler;
    t->h.handler_ud = t;
    t->status = 200;
    char *tok = jwt(aud);
    if (expires_on)
        snprintf(t->body, sizeof t->body, "{\"access_token\":\"%s\",\"expires_on\":\"%lld\","
                 "\"resource\":\"https://storage.azure.com/\",\"token_type\":\"Bearer\"}", tok,
                 (long long)time(NULL) + 3600);
    else
        snprintf(t->body, sizeof t->body, "{\"token_type\":\"Bearer\",\"expires_in\":3599,"
                 "\"ext_expires_in\":3599,\"access_token\":\"%s\"}", tok);
    free(tok);
}

static size_t token_requests(token_server *t)
{
    httpd_lock(&t->h);
    size_t n = t->h.n_reqs;
    httpd_unlock(&t->h);
    return n;
}

/* Exports two batches to Azurite over HTTPS with the bearer credential the
 * options describe; true when both arrived. */
static bool export_with_token(const char *cred_opts, const char *container)
{
    vx_az_account a;
    char opts[4096];
    snprintf(opts, sizeof opts, "{\"accountName\":\"devstoreaccount1\",\"accountKey\":\"%s\","
             "\"serviceUrl\":\"%s\",\"caFile\":\"%s\"}", KEY,
             test_server_get(&azurite_tls, "endpoint"), test_server_get(&azurite_tls, "ca_file"));
    vx_error err = {0};
    if (!account(opts, &a, &err))
        return false;
    create_container(&a, container);
    snprintf(opts, sizeof opts, "{\"container\":\"%s\",\"serviceUrl\":\"%s\",\"caFile\":\"%s\","
             "\"flushInterval\":600000,\"retryInitial\":50,\"retryMax\":100,%s}", container,
             test_server_get(&azurite_tls, "endpoint"), test_server_get(&azurite_tls, "ca_file"),
             cred_opts);
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(opts, &x);
    record(e, "u0");
    bool ok = vx_engine_flush(e, 5000) == VX_OK;
    record(e, "u1");
    ok = ok && vx_engine_flush(e, 5000) == VX_OK;
    vx_engine_free(e);
    int n = 0;
    free(list_names(&a, container, "", &n));
    vx_az_account_destroy(&a);
    return ok && n == 2;
}

static const char *req_header(const httpd_request *r, const char *name, char *out, size_t cap)
{
    return httpd_header(r, name, out, cap);
}

static void test_entra_client_secret(void)
{
    token_server t;
    token_start(&t, "https://storage.azure.com", false);
    char cred[1024];
    snprintf(cred, sizeof cred, "\"tenantId\":\"my-tenant\",\"clientId\":\"my-app\","
             "\"clientSecret\":\"very-secret\",\"authorityHost\":\"http://127.0.0.1:%d/\"",
             t.h.port);
    log_text[0] = '\0';
    CHECK(export_with_token(cred, "entra-secret"));
    /* One exchange for both exports: the token is cached. */
    CHECK_INT(token_requests(&t), 1);
    if (token_requests(&t) >= 1) {
        httpd_request *r = &t.h.reqs[0];
        CHECK_STR(r->method, "POST");
        CHECK_STR(r->path, "/my-tenant/oauth2/v2.0/token");
        char v[128];
        CHECK_STR(req_header(r, "Content-Type", v, sizeof v), "application/x-www-form-urlencoded");
        CHECK_STR(r->body, "grant_type=client_credentials&client_id=my-app&scope=https%3A%2F%2F"
                           "storage.azure.com%2F.default&client_secret=very-secret");
    }
    CHECK(log_has("credential Entra ID client secret (clientSecret)"));
    CHECK(!log_has("very-secret"));
    httpd_stop(&t.h);
}

static void test_entra_refusals(void)
{
    /* The token endpoint refuses: its error, never the secret. */
    token_server t;
    token_start(&t, "https://storage.azure.com", false);
    t.status = 401;
    snprintf(t.body, sizeof t.body, "{\"error\":\"invalid_client\",\"error_description\":"
             "\"AADSTS7000215: Invalid client secret provided.\\r\\nTrace ID: 1\"}");
    char opts[2048];
    snprintf(opts, sizeof opts, "{\"container\":\"events\",\"serviceUrl\":\"%s\",\"caFile\":\"%s\","
             "\"tenantId\":\"my-tenant\",\"clientId\":\"my-app\",\"clientSecret\":\"very-secret\","
             "\"authorityHost\":\"http://127.0.0.1:%d\",\"retryInitial\":50,\"retryMax\":100}",
             test_server_get(&azurite_tls, "endpoint"), test_server_get(&azurite_tls, "ca_file"),
             t.h.port);
    log_text[0] = '\0';
    vx_exporter *x = NULL;
    vx_engine *e = engine_with(opts, &x);
    record(e, "u0");
    CHECK_INT(vx_engine_flush(e, 400), VX_ETIMEDOUT);
    for (int i = 0; i < 400 && !log_has("invalid_client"); i++)
        usleep(50000);
    CHECK(log_has("Put Blob: client secret: the token endpoint answered HTTP 401 invalid_client: "
                  "AADSTS7000215: Invalid client secret provided."));
    CHECK(!log_has("very-secret"));
    vx_engine_close(e, 50);
    vx_engine_free(e);
    httpd_stop(&t.h);

    /* Azurite refuses the token (another audience): it is dropped, and the
     * next attempt gets a new one, which Azurite takes. */
    token_start(&t, "https://vault.azure.net", false);
    snprintf(opts, sizeof opts, "{\"accountName\":\"devstoreaccount1\",\"accountKey\":\"%s\","
             "\"serviceUrl\":\"%s\",\"caFile\":\"%s\"}", KEY,
             test_server_get(&azurite_tls, "endpoint"), test_server_get(&azurite_tls, "ca_file"));
    vx_az_account a;
    vx_error err = {0};
    CHECK(account(opts, &a, &err));
    create_container(&a, "entra-retry");
    snprintf(opts, sizeof opts, "{\"container\":\"entra-retry\",\"serviceUrl\":\"%s\",\"caFile\":"
             "\"%s\",\"tenantId\":\"my-tenant\",\"clientId\":\"my-app\",\"clientSecret\":\"s\","
             "\"authorityHost\":\"http://127.0.0.1:%d\",\"retryInitial\":50,\"retryMax\":100}",
             test_server_get(&azurite_tls, "endpoint"), test_server_get(&azurite_tls, "ca_file"),
             t.h.port);
    log_text[0] = '\0';
    e = engine_with(opts, &x);
    record(e, "u0");
    CHECK_INT(vx_engine_flush(e, 300), VX_ETIMEDOUT);
    /* One exchange per attempt: a refused token is not kept. */
    for (int i = 0; i < 400 && token_requests(&t) < 2; i++)
        usleep(50000);
    CHECK(log_has("Put Blob: HTTP 403 AuthenticationFailed"));
    CHECK(token_requests(&t) >= 2);
    httpd_lock(&t.h);
    char *tok = jwt("https://storage.azure.com");
    snprintf(t.body, sizeof t.body, "{\"token_type\":\"Bearer\",\"expires_in\":3599,"
             "\"access_token\":\"%s\"}", tok);
    free(tok);
    httpd_unlock(&t.h);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    vx_engine_free(e);
    int n = 0;
    free(list_names(&a, "entra-retry", "", &n));
    CHECK_INT(n, 1);
    vx_az_account_destroy(&a);
    httpd_stop(&t.h);
}

static void test_entra_workload_identity(void)
{
    token_server t;
    token_start(&t, "https://storage.azure.com/", false);
    char path[] = "/tmp/vx-azure-token-XXXXXX";
    int fd = mkstemp(path);
    CHECK(write(fd, "assertion.one\n", 14) == 14);
    close(fd);
    /* From the environment, as AKS sets it up. */
    setenv("AZURE_TENANT_ID", "my-tenant", 1);
    setenv("AZURE_CLIENT_ID", "my-workload", 1);
    setenv("AZURE_FEDERATED_TOKEN_FILE", path, 1);
    char cred[512];
    snprintf(cred, sizeof cred, "\"authorityHost\":\"http://127.0.0.1:%d\"", t.h.port);
    log_text[0] = '\0';
    CHECK(export_with_token(cred, "entra-workload"));
    CHECK(log_has("credential Entra ID workload identity (AZURE_FEDERATED_TOKEN_FILE)"));
    CHECK_INT(token_requests(&t), 1);
    if (token_requests(&t) >= 1)
        CHECK_STR(t.h.reqs[0].body,
                  "grant_type=client_credentials&client_id=my-workload&scope=https%3A%2F%2F"
                  "storage.azure.com%2F.default&client_assertion_type=urn%3Aietf%3Aparams%3A"
                  "oauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=assertion.one");
    unsetenv("AZURE_TENANT_ID");
    unsetenv("AZURE_CLIENT_ID");
    unsetenv("AZURE_FEDERATED_TOKEN_FILE");
    unlink(path);
    httpd_stop(&t.h);
}

static void test_entra_managed_identity(void)
{
    /* The instance metadata service (its host moved to a loopback server). */
    token_server t;
    token_start(&t, "https://storage.azure.com", true);
    char host[64];
    snprintf(host, sizeof host, "http://127.0.0.1:%d", t.h.port);
    setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", host, 1);
    log_text[0] = '\0';
    CHECK(export_with_token("\"credential\":\"managedIdentity\",\"clientId\":\"user-assigned\"",
                            "entra-imds"));
    CHECK(log_has("credential Entra ID managed identity (AZURE_POD_IDENTITY_AUTHORITY_HOST)"));
    CHECK_INT(token_requests(&t), 1);
    if (token_requests(&t) >= 1) {
        httpd_request *r = &t.h.reqs[0];
        char v[64];
        CHECK_STR(r->method, "GET");
        CHECK_STR(r->path, "/metadata/identity/oauth2/token?api-version=2018-02-01&resource="
                           "https%3A%2F%2Fstorage.azure.com%2F&client_id=user-assigned");
        CHECK_STR(req_header(r, "Metadata", v, sizeof v), "true");
    }
    unsetenv("AZURE_POD_IDENTITY_AUTHORITY_HOST");
    httpd_stop(&t.h);

    /* App Service: its endpoint and header; chosen by the default chain. */
    token_start(&t, "https://storage.azure.com", true);
    char endpoint[96];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d/msi/token", t.h.port);
    setenv("IDENTITY_ENDPOINT", endpoint, 1);
    setenv("IDENTITY_HEADER", "header-secret", 1);
    log_text[0] = '\0';
    CHECK(export_with_token("\"accountName\":\"devstoreaccount1\"", "entra-appservice"));
    CHECK(log_has("credential Entra ID managed identity (App Service) (IDENTITY_ENDPOINT)"));
    CHECK(!log_has("header-secret"));
    if (token_requests(&t) >= 1) {
        httpd_request *r = &t.h.reqs[0];
        char v[64];
        CHECK_STR(r->path, "/msi/token?api-version=2019-08-01&resource=https%3A%2F%2F"
                           "storage.azure.com%2F");
        CHECK_STR(req_header(r, "X-IDENTITY-HEADER", v, sizeof v), "header-secret");
    }
    unsetenv("IDENTITY_ENDPOINT");
    unsetenv("IDENTITY_HEADER");
    httpd_stop(&t.h);
}

/* ---- the command ------------------------------------------------------------- */

/* Runs the command with `env` added ("NAME=value" or NULL); its exit status. */
static int run_cli(const char *env, char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        if (env)
            putenv((char *)env);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_command_export_url(void)
{
    const char *cli = getenv("VX_CLI");
    if (!cli)
        return;
    vx_az_account a;
    if (!dev_account(&a))
        return;
    create_container(&a, "cli");
    char flags[] = "/tmp/vx-azure-flags-XXXXXX";
    int fd = mkstemp(flags);
    CHECK(write(fd, FLAGS_V1, strlen(FLAGS_V1)) == (ssize_t)strlen(FLAGS_V1));
    close(fd);
    /* The credential from AZURE_STORAGE_CONNECTION_STRING, the rest in the URL. */
    char env[1024];
    snprintf(env, sizeof env, "AZURE_STORAGE_CONNECTION_STRING=%s",
             test_server_get(&azurite, "connection_string"));
    CHECK_INT(run_cli(env, (char *[]){(char *)cli, "eval", "--config", flags, "--flag", "my-flag",
                                      "--context", "{\"targetingKey\":\"cli-user\"}", "--export",
                                      "azblob://cli/runs/env?format=csv", NULL}), 0);
    /* Or all of it in the URL, the key %-encoded. */
    vx_buf url;
    vx_buf_init(&url);
    vx_buf_printf(&url, "azblob://cli/runs/url?accountName=devstoreaccount1&serviceUrl=");
    vx_az_url_encode(&url, test_server_get(&azurite, "endpoint"), false);
    vx_buf_puts(&url, "&accountKey=");
    vx_az_url_encode(&url, KEY, false);
    CHECK_INT(run_cli(NULL, (char *[]){(char *)cli, "eval", "--config", flags, "--flag", "my-flag",
                                       "--context", "{\"targetingKey\":\"cli-user\"}", "--export",
                                       url.data, NULL}), 0);
    vx_buf_free(&url);
    unlink(flags);
    int n = 0;
    char *names = list_names(&a, "cli", "runs/", &n);
    CHECK_INT(n, 2);
    for (char *line = strtok(names, "\n"); line; line = strtok(NULL, "\n")) {
        char *t = get_text(&a, "cli", line);
        bool csv = strncmp(line, "runs/env/", 9) == 0;
        CHECK(strstr(line, csv ? ".csv" : ".json") != NULL);
        CHECK(t && strstr(t, csv ? "feature;user;cli-user;" : "\"userKey\":\"cli-user\"") != NULL);
        free(t);
    }
    free(names);
    vx_az_account_destroy(&a);
}

/* CRC-64/NVME as Azure computes it (its check value; the base64 of the
 * little-endian bytes, as azure-storage-extensions gives it), the folded
 * path against a bit-at-a-time reference at every length and alignment
 * around its 64-byte steps, and continuing over pieces. */
static uint64_t crc64_bitwise(const unsigned char *p, size_t n)
{
    uint64_t c = ~0ull;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x9A6C9329AC4BC9B5ull : c >> 1;
    }
    return ~c;
}

static void test_crc64(void)
{
    CHECK(vx_crc64(0, "123456789", 9) == 0xAE8B14860A799888ull);
    CHECK(vx_crc64(0, "", 0) == 0);
    char b64[13];
    vx_crc64_base64(vx_crc64(0, "123456789", 9), b64);
    CHECK_STR(b64, "iJh5CoYUi64=");
    static unsigned char big[4096 + 8];
    uint32_t r = 12345;
    for (size_t i = 0; i < sizeof big; i++) {
        r = r * 1103515245u + 12345u;
        big[i] = (unsigned char)(r >> 16);
    }
    int bad = 0;
    for (size_t n = 0; n < 400; n++)
        for (size_t off = 0; off < 3; off++)
            bad += vx_crc64(0, big + off, n) != crc64_bitwise(big + off, n);
    CHECK_INT(bad, 0);
    uint64_t whole = vx_crc64(0, big, sizeof big), parts = 0;
    for (size_t off = 0; off < sizeof big; off += 777)
        parts = vx_crc64(parts, big + off, sizeof big - off < 777 ? sizeof big - off : 777);
    CHECK(whole == parts && whole == crc64_bitwise(big, sizeof big));
}

int main(void)
{
    RUN(test_crc64);
    RUN(test_string_to_sign);
    RUN(test_account_options);
    if (!test_server_start(&azurite, "azurite") || !test_server_start(&azurite_tls, "azurite-https")) {
        CHECK(!"Azurite started");
        TEST_MAIN_END();
    }
    KEY = test_server_get(&azurite, "key");
    RUN(test_connection_strings);
    RUN(test_sharedkey_accepted_and_wrong_key_refused);
    RUN(test_sas_accepted_and_tampered_refused);
    RUN(test_exporter_round_trip);
    RUN(test_exporter_blocks_above_threshold);
    RUN(test_exporter_blocks_above_threshold_md5);
    RUN(test_exporter_never_overwrites);
    RUN(test_exporter_wrong_key_and_missing_container);
    RUN(test_exporter_unknown_outcome_not_duplicated);
    RUN(test_exporter_hanging_server_close);
    RUN(test_retriever);
    RUN(test_entra_client_secret);
    RUN(test_entra_refusals);
    RUN(test_entra_workload_identity);
    RUN(test_entra_managed_identity);
    RUN(test_command_export_url);
    test_server_stop(&azurite);
    test_server_stop(&azurite_tls);
    TEST_MAIN_END();
}
