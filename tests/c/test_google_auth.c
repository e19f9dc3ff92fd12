/* cloud/google_auth and its pieces: the service-account JWT flow against a
 * loopback token endpoint (a real HTTP server in this test) that verifies
 * the RS256 signature with the key's public half and checks every claim;
 * the authorized-user refresh; gcloud's well-known file; the metadata
 * server; token caching and refresh; refused credentials (the message says
 * why, never a secret) and a corrected key file picked up; Google error
 * text; CRC-32C, base64 and percent-encoding. */
#include "cloud/crc32c.h"
#include "cloud/encoding.h"
#include "cloud/google_auth.h"
#include "cloud/jwt.h"
#include "google_token.h"
#include "httpd.h"
#include "json.h"
#include "test.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char tmpdir[256];

static vx_status bearer(vx_google_auth *a, char *out, size_t cap, vx_error *err)
{
    vx_google_headers h;
    vx_status st = vx_google_auth_headers(a, &h, err);
    snprintf(out, cap, "%s", st == VX_OK && h.line[0] ? h.line[0] : "");
    vx_google_headers_clear(&h);
    return st;
}

static void clear_adc_env(void)
{
    unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
    unsetenv("CLOUDSDK_CONFIG");
    unsetenv("GCE_METADATA_HOST");
    setenv("HOME", tmpdir, 1); /* no gcloud file there */
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_service_account_jwt(void)
{
    clear_adc_env();
    EVP_PKEY *key = new_rsa();
    token_server s;
    token_server_start(&s, key);
    char path[300];
    snprintf(path, sizeof path, "%s/sa.json", tmpdir);
    write_service_account(path, key, s.token_uri);
    setenv("GOOGLE_APPLICATION_CREDENTIALS", path, 1);

    vx_google_auth_config c = {.scope = VX_GOOGLE_SCOPE_STORAGE_RW};
    vx_google_auth *a = NULL;
    vx_error err = {0};
    CHECK_INT(vx_google_auth_new(&c, &a, &err), VX_OK);
    CHECK_INT(vx_google_auth_type(a), VX_GOOGLE_SERVICE_ACCOUNT);
    CHECK_STR(vx_google_auth_project(a), "vexil-test");
    CHECK(strstr(vx_google_auth_describe(a), "GOOGLE_APPLICATION_CREDENTIALS") != NULL);
    char line[256];
    CHECK_INT(bearer(a, line, sizeof line, &err), VX_OK);
    CHECK_STR(line, "Authorization: Bearer ya29.token-1");
    CHECK_STR(s.last_problem, "");
    /* Cached: a second request asks the endpoint nothing. */
    CHECK_INT(bearer(a, line, sizeof line, &err), VX_OK);
    CHECK_STR(line, "Authorization: Bearer ya29.token-1");
    CHECK_INT(tokens_of(&s), 1);
    /* The service refused it (401): the next request gets a new one. */
    vx_google_auth_refused(a);
    CHECK_INT(bearer(a, line, sizeof line, &err), VX_OK);
    CHECK_STR(line, "Authorization: Bearer ya29.token-2");
    vx_google_auth_free(a);
    unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
    httpd_stop(&s.h);
    EVP_PKEY_free(key);
}

static void test_tokens_refreshed_near_expiry(void)
{
    clear_adc_env();
    EVP_PKEY *key = new_rsa();
    token_server s;
    token_server_start(&s, key);
    s.expires_in = 200; /* inside the 225 s margin: never good enough to keep */
    char path[300];
    snprintf(path, sizeof path, "%s/sa-short.json", tmpdir);
    write_service_account(path, key, s.token_uri);
    vx_google_auth_config c = {.scope = VX_GOOGLE_SCOPE_STORAGE_RW, .credentials_file = path};
    vx_google_auth *a = NULL;
    vx_error err = {0};
    CHECK_INT(vx_google_auth_new(&c, &a, &err), VX_OK);
    char line[256];
    CHECK_INT(bearer(a, line, sizeof line, &err), VX_OK);
    CHECK_STR(line, "Authorization: Bearer ya29.token-1");
    CHECK_INT(bearer(a, line, sizeof line, &err), VX_OK);
    CHECK_STR(line, "Authorization: Bearer ya29.token-2");
    /* A longer-lived one is kept. */
    httpd_lock(&s.h);
    s.expires_in = 3600;
    httpd_unlock(&s.h);
    CHECK_INT(bearer(a, line, sizeof line, &err), VX_OK);
    CHECK_INT(bearer(a, line, sizeof line, &err), VX_OK);
    CHECK_STR(line, "Authorization: Bearer ya29.token-3");
    CHECK_INT(tokens_of(&s), 3);
    vx_google_auth_free(a);
    httpd_stop(&s.h);
    EVP_PKEY_free(key);
}

static void test_wrong_key_refused_then_fixed(void)
{
    clear_adc_env();
    EVP_PKEY *right = new_rsa(), *wrong = new_rsa();
    token_server s;
    token_server_start(&s, right);
    char path[300];
    snprintf(path, sizeof path, "%s/sa-wrong.json", tmpdir);
    write_service_account(path, wrong, s.token_uri);
    vx_google_auth_config c = {.scope = VX_GOOGLE_SCOPE_STORAGE_RW, .credentials_file = path};
    vx_google_auth *a = NULL;
    vx_error err = {0};
    CHECK_INT(vx_google_auth_new(&c, &a, &err), VX_OK);
    char line[256];
    CHECK_INT(bearer(a, line, sizeof line, &err), VX_EHTTP);
    CHECK_STR(s.last_problem, "signature");
    CHECK(strstr(err.message, "400") != NULL);
    CHECK(strstr(err.message, "invalid_grant: Invalid JWT: signature") != NULL);
    CHECK(strstr(err.message, "PRIVATE") == NULL && strstr(err.message, "eyJ") == NULL);
    /* Not cached: the same answer again, then the corrected file is read. */
    CHECK_INT(bearer(a, line, sizeof line, &err), VX_EHTTP);
    CHECK_INT(s.refused, 2);
    write_service_account(path, right, s.token_uri);
    CHECK_INT(bearer(a, line, sizeof line, &err), VX_OK);
    CHECK_STR(line, "Authorization: Bearer ya29.token-1");
    vx_google_auth_free(a);
    httpd_stop(&s.h);
    EVP_PKEY_free(right);
    EVP_PKEY_free(wrong);
}

static void test_scope_and_audience_checked(void)
{
    clear_adc_env();
    EVP_PKEY *key = new_rsa();
    token_server s;
    token_server_start(&s, key);
    char path[300];
    snprintf(path, sizeof path, "%s/sa-scope.json", tmpdir);
    write_service_account(path, key, s.token_uri);
    /* The endpoint expects the storage scope: asking for Pub/Sub's is refused. */
    vx_google_auth_config c = {.scope = VX_GOOGLE_SCOPE_PUBSUB, .credentials_file = path};
    vx_google_auth *a = NULL;
    vx_error err = {0};
    CHECK_INT(vx_google_auth_new(&c, &a, &err), VX_OK);
    char line[256];
    CHECK_INT(bearer(a, line, sizeof line, &err), VX_EHTTP);
    CHECK_STR(s.last_problem, "scope");
    vx_google_auth_free(a);
    httpd_stop(&s.h);
    EVP_PKEY_free(key);
}

static void test_authorized_user_and_gcloud_file(void)
{
    clear_adc_env();
    token_server s;
    token_server_start(&s, NULL);
    char dir[300], path[350], text[512];
    snprintf(dir, sizeof dir, "%s/gcloud", tmpdir);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/application_default_credentials.json", dir);
    snprintf(text, sizeof text,
             "{\"type\":\"authorized_user\",\"client_id\":\"cid.apps.googleusercontent.com\","
             "\"client_secret\":\"s3cr3t&=\",\"refresh_token\":\"1//refresh-tok\","
             "\"quota_project_id\":\"billing-proj\",\"token_uri\":\"%s\"}", s.token_uri);
    write_file(path, text);
    setenv("CLOUDSDK_CONFIG", dir, 1);
    vx_google_auth *a = NULL;
    vx_error err = {0};
    vx_google_auth_config c = {0};
    CHECK_INT(vx_google_auth_new(&c, &a, &err), VX_OK);
    CHECK_INT(vx_google_auth_type(a), VX_GOOGLE_AUTHORIZED_USER);
    CHECK(strstr(vx_google_auth_describe(a), "gcloud") != NULL);
    vx_google_headers h;
    CHECK_INT(vx_google_auth_headers(a, &h, &err), VX_OK);
    CHECK_STR(h.line[0], "Authorization: Bearer ya29.token-1");
    CHECK_STR(h.line[1], "x-goog-user-project: billing-proj");
    vx_google_headers_clear(&h);
    CHECK(h.line[0] == NULL);
    vx_google_auth_free(a);

    /* A wrong refresh token: refused, and the message holds no secret. */
    snprintf(text, sizeof text,
             "{\"type\":\"authorized_user\",\"client_id\":\"cid.apps.googleusercontent.com\","
             "\"client_secret\":\"s3cr3t&=\",\"refresh_token\":\"1//revoked\","
             "\"token_uri\":\"%s\"}", s.token_uri);
    write_file(path, text);
    CHECK_INT(vx_google_auth_new(&c, &a, &err), VX_OK);
    CHECK_INT(vx_google_auth_headers(a, &h, &err), VX_EHTTP);
    CHECK(strstr(err.message, "invalid_grant") != NULL);
    CHECK(strstr(err.message, "revoked") == NULL && strstr(err.message, "s3cr3t") == NULL);
    vx_google_auth_free(a);
    unsetenv("CLOUDSDK_CONFIG");
    httpd_stop(&s.h);
}

/* ---- the metadata server ------------------------------------------------------------------- */

typedef struct meta_server {
    httpd h;
    int tokens;
    char path[256];
    char body[256];
} meta_server;

static void meta_handler(void *ud, const httpd_request *r, httpd_reply *out)
{
    meta_server *m = ud;
    char flavor[32];
    httpd_header(r, "Metadata-Flavor", flavor, sizeof flavor);
    snprintf(m->path, sizeof m->path, "%s", r->path);
    if (strcmp(flavor, "Google") != 0 ||
        strncmp(r->path, "/computeMetadata/v1/instance/service-accounts/default/token", 59) != 0) {
        out->status = 403;
        return;
    }
    m->tokens++;
    snprintf(m->body, sizeof m->body,
             "{\"access_token\":\"ya29.meta-%d\",\"expires_in\":3599,\"token_type\":\"Bearer\"}",
             m->tokens);
    out->body = m->body;
    out->body_len = strlen(m->body);
    snprintf(out->headers, sizeof out->headers, "Metadata-Flavor: Google\r\n");
}

static void test_metadata_server(void)
{
    clear_adc_env();
    meta_server m;
    memset(&m, 0, sizeof m);
    httpd_start(&m.h);
    m.h.handler = meta_handler;
    m.h.handler_ud = &m;
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%d", m.h.port);
    setenv("GCE_METADATA_HOST", host, 1);
    vx_google_auth_config c = {.scope = VX_GOOGLE_SCOPE_STORAGE_RO " " VX_GOOGLE_SCOPE_PUBSUB};
    vx_google_auth *a = NULL;
    vx_error err = {0};
    CHECK_INT(vx_google_auth_new(&c, &a, &err), VX_OK);
    CHECK_INT(vx_google_auth_type(a), VX_GOOGLE_METADATA);
    char line[256];
    CHECK_INT(bearer(a, line, sizeof line, &err), VX_OK);
    CHECK_STR(line, "Authorization: Bearer ya29.meta-1");
    CHECK(strstr(m.path, "?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdevstorage.read_only,"
                         "https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fpubsub") != NULL);
    CHECK_INT(bearer(a, line, sizeof line, &err), VX_OK);
    CHECK_INT(m.tokens, 1);
    vx_google_auth_free(a);
    httpd_stop(&m.h);

    /* Nothing answers: a message that says where it looked. */
    setenv("GCE_METADATA_HOST", "127.0.0.1:1", 1);
    CHECK_INT(vx_google_auth_new(&c, &a, &err), VX_OK);
    CHECK(bearer(a, line, sizeof line, &err) != VX_OK);
    CHECK(strstr(err.message, "no Google credentials") != NULL);
    CHECK(strstr(err.message, "metadata server") != NULL);
    vx_google_auth_free(a);
    unsetenv("GCE_METADATA_HOST");
}

static void test_bad_key_files(void)
{
    clear_adc_env();
    vx_google_auth *a = NULL;
    vx_error err = {0};
    vx_google_auth_config c = {.credentials_json = "{\"type\":\"external_account\"}"};
    CHECK_INT(vx_google_auth_new(&c, &a, &err), VX_EINVAL);
    CHECK(strstr(err.message, "external_account") != NULL && strstr(err.message, "not supported"));
    c = (vx_google_auth_config){.credentials_json = "{\"type\":\"service_account\","
                                                    "\"client_email\":\"x@y\"}"};
    CHECK_INT(vx_google_auth_new(&c, &a, &err), VX_EINVAL);
    CHECK(strstr(err.message, "private_key") != NULL);
    c = (vx_google_auth_config){.credentials_json = "not json"};
    CHECK_INT(vx_google_auth_new(&c, &a, &err), VX_EPARSE);
    c = (vx_google_auth_config){.credentials_file = "/nonexistent/key.json"};
    CHECK_INT(vx_google_auth_new(&c, &a, &err), VX_EIO);
    CHECK(strstr(err.message, "credentialsFile: cannot read") != NULL);
    setenv("GOOGLE_APPLICATION_CREDENTIALS", "/nonexistent/adc.json", 1);
    c = (vx_google_auth_config){0};
    CHECK_INT(vx_google_auth_new(&c, &a, &err), VX_EIO);
    CHECK(strstr(err.message, "GOOGLE_APPLICATION_CREDENTIALS") != NULL);
    unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
    /* A private key that is not a key: refused when signing, without echoing it. */
    c = (vx_google_auth_config){.credentials_json =
        "{\"type\":\"service_account\",\"client_email\":\"x@y\",\"private_key\":\"SECRETSTUFF\","
        "\"token_uri\":\"http://127.0.0.1:1/token\"}"};
    CHECK_INT(vx_google_auth_new(&c, &a, &err), VX_OK);
    char line[64];
    CHECK_INT(bearer(a, line, sizeof line, &err), VX_EINVAL);
    CHECK(strstr(err.message, "SECRETSTUFF") == NULL);
    vx_google_auth_free(a);
    /* Anonymous: no header at all. */
    c = (vx_google_auth_config){.anonymous = true};
    CHECK_INT(vx_google_auth_new(&c, &a, &err), VX_OK);
    vx_google_headers h;
    CHECK_INT(vx_google_auth_headers(a, &h, &err), VX_OK);
    CHECK(h.line[0] == NULL && h.line[1] == NULL);
    vx_google_auth_free(a);
}

static void test_error_text_and_emulator(void)
{
    char out[200];
    const char *api = "{\"error\":{\"code\":403,\"message\":\"sa@p.iam does not have "
                      "storage.objects.create access.\",\"errors\":[{\"reason\":\"forbidden\"}],"
                      "\"status\":\"PERMISSION_DENIED\"}}";
    vx_google_error_text(api, strlen(api), out, sizeof out);
    CHECK_STR(out, "PERMISSION_DENIED: sa@p.iam does not have storage.objects.create access.");
    const char *fake = "{\"error\":{\"code\":404,\"message\":\"Not Found\",\"errors\":"
                       "[{\"domain\":\"global\",\"reason\":\"notFound\"}]}}";
    vx_google_error_text(fake, strlen(fake), out, sizeof out);
    CHECK_STR(out, "notFound: Not Found");
    const char *oauth = "{\"error\":\"invalid_grant\",\"error_description\":\"Bad\\nthing\"}";
    vx_google_error_text(oauth, strlen(oauth), out, sizeof out);
    CHECK_STR(out, "invalid_grant: Bad");
    vx_google_error_text("Not Found\nmore", 14, out, sizeof out);
    CHECK_STR(out, "Not Found");
    vx_google_error_text("", 0, out, sizeof out);
    CHECK_STR(out, "");
    vx_google_error_text(api, strlen(api), out, 12);
    CHECK_STR(out, "PERMISSION_");

    char url[128];
    setenv("VX_TEST_EMU", "127.0.0.1:4443", 1);
    CHECK(vx_google_emulator_url("VX_TEST_EMU", url, sizeof url));
    CHECK_STR(url, "http://127.0.0.1:4443");
    setenv("VX_TEST_EMU", "https://emu.example:9000/", 1);
    CHECK(vx_google_emulator_url("VX_TEST_EMU", url, sizeof url));
    CHECK_STR(url, "https://emu.example:9000");
    setenv("VX_TEST_EMU", "", 1);
    CHECK(!vx_google_emulator_url("VX_TEST_EMU", url, sizeof url));
    unsetenv("VX_TEST_EMU");
}

static void test_encodings(void)
{
    CHECK_INT(vx_crc32c(0, "123456789", 9), 0xE3069283u);
    CHECK_INT(vx_crc32c(vx_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
    CHECK_INT(vx_crc32c(0, "", 0), 0);
    char b64[9];
    vx_crc32c_base64(vx_crc32c(0, "hello", 5), b64);
    CHECK_STR(b64, "mnG7TA=="); /* what fake-gcs-server and GCS answer for "hello" */
    /* Long, unaligned input: the same as byte-by-byte continuation. */
    char big[10007];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 131 + 7);
    uint32_t whole = vx_crc32c(0, big + 1, sizeof big - 1), parts = 0;
    for (size_t i = 1; i < sizeof big; i += 333)
        parts = vx_crc32c(parts, big + i, i + 333 <= sizeof big ? 333 : sizeof big - i);
    CHECK_INT(whole, parts);

    vx_buf b;
    vx_buf_init(&b);
    vx_base64_append(&b, "hi?", 3, false);
    vx_buf_putc(&b, ' ');
    vx_base64_append(&b, "hi?>", 4, true);
    vx_buf_putc(&b, ' ');
    vx_percent_append(&b, "a/b c~é", 8);
    CHECK_STR(b.data, "aGk/ aGk_Pg a%2Fb%20c~%C3%A9");
    uint8_t dec[8];
    CHECK_INT(vx_base64_decode("aGk_Pg", 6, dec, sizeof dec), 4);
    CHECK(memcmp(dec, "hi?>", 4) == 0);
    CHECK_INT(vx_base64_decode("a", 1, dec, sizeof dec), -1);
    CHECK_INT(vx_base64_decode("aGk*", 4, dec, sizeof dec), -1);
    vx_buf_free(&b);
}

/* A fork while a parent's thread is fetching a token: the child fetches its
 * own instead of waiting forever for the parent's. */
typedef struct fetch_arg {
    vx_google_auth *a;
    vx_status st;
} fetch_arg;

static void *fetch_main(void *p)
{
    fetch_arg *f = p;
    char line[256];
    f->st = bearer(f->a, line, sizeof line, NULL);
    return NULL;
}

static void test_fork_during_a_fetch(void)
{
    clear_adc_env();
    EVP_PKEY *key = new_rsa();
    token_server s;
    token_server_start(&s, key);
    s.h.delay_ms = 500;
    char path[300];
    snprintf(path, sizeof path, "%s/sa-fork.json", tmpdir);
    write_service_account(path, key, s.token_uri);
    vx_google_auth_config c = {.scope = VX_GOOGLE_SCOPE_STORAGE_RW, .credentials_file = path};
    vx_google_auth *a = NULL;
    CHECK_INT(vx_google_auth_new(&c, &a, NULL), VX_OK);
    fetch_arg f = {a, VX_EIO};
    pthread_t t;
    pthread_create(&t, NULL, fetch_main, &f);
    usleep(150000); /* the fetch is waiting for the slow endpoint */
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(10);
        char line[256];
        vx_status st = bearer(a, line, sizeof line, NULL);
        _exit(st == VX_OK && strncmp(line, "Authorization: Bearer ya29.token-", 33) == 0 ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    pthread_join(t, NULL);
    CHECK_INT(f.st, VX_OK);
    vx_google_auth_free(a);
    httpd_stop(&s.h);
    EVP_PKEY_free(key);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vexil-google-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    RUN(test_encodings);
    RUN(test_error_text_and_emulator);
    RUN(test_bad_key_files);
    RUN(test_service_account_jwt);
    RUN(test_tokens_refreshed_near_expiry);
    RUN(test_wrong_key_refused_then_fixed);
    RUN(test_scope_and_audience_checked);
    RUN(test_authorized_user_and_gcloud_file);
    RUN(test_metadata_server);
    RUN(test_fork_during_a_fetch);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    TEST_MAIN_END();
}
