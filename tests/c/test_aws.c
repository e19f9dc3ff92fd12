/* The AWS pieces of csrc/cloud/: the credential chain (explicit keys,
 * environment, profile files, web identity against moto's STS, a loopback
 * container-credentials endpoint and a loopback IMDSv2 endpoint), region
 * and endpoint resolution, SigV4 through libcurl against moto with its
 * signature checks on (payload hash, sorted query, session token), and the
 * services' errors; S3 over HTTPS (moto-https: UNSIGNED-PAYLOAD with CRC-32C
 * checksums, the CA bundle from AWS_CA_BUNDLE / the profile, an untrusted
 * certificate). Run from the checkout's root (moto is started through
 * tests/servers/cli.py). */
#include "cloud/aws.h"
#include "cloud/crc32c.h"
#include "cloud/s3.h"
#include "cloud/xml.h"
#include "httpd.h"
#include "servers.h"
#include "test.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <sys/stat.h>

static char tmpdir[256];
static test_server moto, moto_tls;
static bool have_moto, have_moto_tls;

/* Every AWS variable a developer's shell may hold, so each test starts from
 * nothing (and IMDS is never asked for on a machine that is not EC2). */
static void clean_env(void)
{
    static const char *const vars[] = {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN",
        "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
        "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_SESSION_NAME",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_CA_BUNDLE"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    char p[300];
    snprintf(p, sizeof p, "%s/none-credentials", tmpdir);
    setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
    snprintf(p, sizeof p, "%s/none-config", tmpdir);
    setenv("AWS_CONFIG_FILE", p, 1);
}

static void write_file(const char *name, const char *text, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* ---- pieces without a server ------------------------------------------------ */

static void test_xml(void)
{
    const char *x = "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"x\"><Error><Type>Sender</Type>"
                    "<Code>Invalid&amp;Code</Code><Message>a &lt;b&gt; &#233;&#x41;"
                    "<![CDATA[<raw>]]></Message></Error><s3:UploadId>id-1</s3:UploadId>"
                    "<Empty/></ErrorResponse>";
    char out[64];
    CHECK(vx_xml_text(x, strlen(x), "Error", "Code", out, sizeof out));
    CHECK_STR(out, "Invalid&Code");
    CHECK(vx_xml_text(x, strlen(x), NULL, "Message", out, sizeof out));
    CHECK_STR(out, "a <b> \xc3\xa9" "A<raw>");
    char *id = vx_xml_text_dup(x, strlen(x), NULL, "UploadId");
    CHECK_STR(id, "id-1");
    free(id);
    CHECK(vx_xml_text(x, strlen(x), NULL, "Empty", out, sizeof out));
    CHECK_STR(out, "");
    CHECK(!vx_xml_text(x, strlen(x), "Error", "UploadId", out, sizeof out));
    CHECK(!vx_xml_text("<a><b>", 6, NULL, "b", out, sizeof out));
    CHECK(!vx_xml_text("garbage", 7, NULL, "Code", out, sizeof out));
}

static void set_body(vx_http_response *r, long status, const char *body, const char *headers)
{
    vx_http_response_init(r);
    r->status = status;
    vx_buf_puts(&r->body, body);
    if (headers)
        vx_buf_puts(&r->headers, headers);
}

static void test_error_parse(void)
{
    vx_http_response r;
    vx_aws_error_info e;
    set_body(&r, 403, "<Error><Code>SignatureDoesNotMatch</Code><Message>bad\nsig</Message>"
                      "<StringToSign>secret-ish</StringToSign></Error>", NULL);
    vx_aws_error_parse(&r, &e);
    CHECK_STR(e.code, "SignatureDoesNotMatch");
    CHECK_STR(e.message, "bad sig");  /* no control bytes reach a log line */
    vx_http_response_free(&r);
    set_body(&r, 400, "{\"__type\":\"com.amazonaws.kinesis#ResourceNotFoundException\","
                      "\"message\":\"Stream x not found\"}", NULL);
    vx_aws_error_parse(&r, &e);
    CHECK_STR(e.code, "ResourceNotFoundException");
    CHECK_STR(e.message, "Stream x not found");
    vx_http_response_free(&r);
    set_body(&r, 400, "", "x-amzn-ErrorType: ThrottlingException:http://internal/\r\n");
    vx_aws_error_parse(&r, &e);
    CHECK_STR(e.code, "ThrottlingException");
    vx_http_response_free(&r);
    set_body(&r, 404, "", NULL);
    vx_aws_error_parse(&r, &e);
    CHECK_STR(e.code, "NotFound");
    CHECK_STR(e.message, "");
    vx_http_response_free(&r);
    set_body(&r, 502, "\x01\x02 not xml", NULL);
    vx_aws_error_parse(&r, &e);
    CHECK_STR(e.code, "");

    vx_cred c = {{strdup("AKIAEXAMPLE"), strdup("s3cr3tKEYvalue"), strdup("tok")}, 0};
    char msg[128] = "key AKIAEXAMPLE secret s3cr3tKEYvalue again s3cr3tKEYvalue tok";
    vx_aws_scrub(msg, sizeof msg, &c);
    CHECK(!strstr(msg, "s3cr3tKEYvalue"));
    CHECK(!strstr(msg, "AKIAEXAMPLE"));
    CHECK(strstr(msg, "<redacted>") != NULL);
    vx_cred_clear(&c);
    vx_http_response_free(&r);
}

static void test_parse_time(void)
{
    CHECK_INT(vx_aws_parse_time("1970-01-01T00:00:10Z"), 10000);
    CHECK_INT(vx_aws_parse_time("2024-05-01T12:00:00.250Z"), 1714564800250LL);
    CHECK_INT(vx_aws_parse_time("2024-05-01T14:00:00+02:00"), 1714564800000LL);
    CHECK_INT(vx_aws_parse_time("yesterday"), -1);
    CHECK_INT(vx_aws_parse_time(NULL), -1);
}

static void test_region(void)
{
    clean_env();
    char *r = vx_aws_resolve_region(NULL, NULL);
    CHECK(r == NULL);
    char path[300];
    write_file("config", "[default]\nregion = eu-west-3\n[profile other]\nregion=ap-south-1\n"
               "endpoint_url = http://127.0.0.1:9/\n", path, sizeof path);
    setenv("AWS_CONFIG_FILE", path, 1);
    r = vx_aws_resolve_region(NULL, NULL);
    CHECK_STR(r, "eu-west-3");
    free(r);
    r = vx_aws_resolve_region(NULL, "other");
    CHECK_STR(r, "ap-south-1");
    free(r);
    setenv("AWS_PROFILE", "other", 1);
    r = vx_aws_resolve_region(NULL, NULL);
    CHECK_STR(r, "ap-south-1");
    free(r);
    setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
    r = vx_aws_resolve_region(NULL, NULL);
    CHECK_STR(r, "us-west-1");
    free(r);
    setenv("AWS_REGION", "us-west-2", 1);
    r = vx_aws_resolve_region(NULL, NULL);
    CHECK_STR(r, "us-west-2");
    free(r);
    r = vx_aws_resolve_region("sa-east-1", NULL);
    CHECK_STR(r, "sa-east-1");
    free(r);

    /* A client without any region is refused with a message saying where
     * one comes from. */
    clean_env();
    vx_error err = {0};
    vx_aws_client *c = vx_aws_client_new("s3", NULL, &err);
    CHECK(c == NULL);
    CHECK(strstr(err.message, "AWS_REGION") != NULL);
}

static void test_endpoint(void)
{
    clean_env();
    bool custom = true;
    char *e = vx_aws_resolve_endpoint(NULL, "s3", "eu-west-1", NULL, &custom);
    CHECK_STR(e, "https://s3.eu-west-1.amazonaws.com");
    CHECK(!custom);
    free(e);
    e = vx_aws_resolve_endpoint(NULL, "kinesis", "cn-north-1", NULL, NULL);
    CHECK_STR(e, "https://kinesis.cn-north-1.amazonaws.com.cn");
    free(e);
    char path[300];
    write_file("config2", "[profile p]\nendpoint_url = http://profile.example:1/\n", path,
               sizeof path);
    setenv("AWS_CONFIG_FILE", path, 1);
    e = vx_aws_resolve_endpoint(NULL, "s3", "eu-west-1", "p", &custom);
    CHECK_STR(e, "http://profile.example:1");
    CHECK(custom);
    free(e);
    setenv("AWS_ENDPOINT_URL", "http://all.example:2", 1);
    e = vx_aws_resolve_endpoint(NULL, "s3", "eu-west-1", "p", NULL);
    CHECK_STR(e, "http://all.example:2");
    free(e);
    setenv("AWS_ENDPOINT_URL_S3", "http://s3only.example:3/", 1);
    e = vx_aws_resolve_endpoint(NULL, "s3", "eu-west-1", "p", NULL);
    CHECK_STR(e, "http://s3only.example:3");
    free(e);
    e = vx_aws_resolve_endpoint(NULL, "sqs", "eu-west-1", "p", NULL);
    CHECK_STR(e, "http://all.example:2");
    free(e);
    e = vx_aws_resolve_endpoint("http://option.example:4", "s3", "eu-west-1", "p", NULL);
    CHECK_STR(e, "http://option.example:4");
    free(e);
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    e = vx_aws_resolve_endpoint(NULL, "s3", "eu-west-1", "p", &custom);
    CHECK_STR(e, "https://s3.eu-west-1.amazonaws.com");
    CHECK(!custom);
    free(e);
    clean_env();
}

static void test_env_and_profile_credentials(void)
{
    clean_env();
    vx_cred c;
    vx_error err = {0};
    CHECK_INT(vx_aws_creds_from_env(&c, &err), VX_ENOTFOUND);
    setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    setenv("AWS_SESSION_TOKEN", "envtoken", 1);
    CHECK_INT(vx_aws_creds_from_env(&c, &err), VX_OK);
    CHECK_STR(c.field[VX_AWS_KEY_ID], "AKIAENV");
    CHECK_STR(c.field[VX_AWS_SECRET], "envsecret");
    CHECK_STR(c.field[VX_AWS_TOKEN], "envtoken");
    vx_cred_clear(&c);
    clean_env();

    char cpath[300], fpath[300];
    write_file("credentials", "# comment\n[default]\naws_access_key_id = AKIADEF\n"
               "aws_secret_access_key = defsecret\n\n[dev]\naws_access_key_id=AKIADEV\n"
               "aws_secret_access_key=devsecret\naws_session_token = devtoken\n", cpath,
               sizeof cpath);
    write_file("config3", "[default]\nregion = eu-west-1\n[profile cfgonly]\n"
               "aws_access_key_id = AKIACFG\naws_secret_access_key = cfgsecret\n"
               "s3 =\n  aws_access_key_id = NESTED\n", fpath, sizeof fpath);
    setenv("AWS_SHARED_CREDENTIALS_FILE", cpath, 1);
    setenv("AWS_CONFIG_FILE", fpath, 1);
    CHECK_INT(vx_aws_creds_from_profile(NULL, &c, &err), VX_OK);
    CHECK_STR(c.field[VX_AWS_KEY_ID], "AKIADEF");
    CHECK(c.field[VX_AWS_TOKEN] == NULL);
    vx_cred_clear(&c);
    setenv("AWS_PROFILE", "dev", 1);
    CHECK_INT(vx_aws_creds_from_profile(NULL, &c, &err), VX_OK);
    CHECK_STR(c.field[VX_AWS_KEY_ID], "AKIADEV");
    CHECK_STR(c.field[VX_AWS_TOKEN], "devtoken");
    vx_cred_clear(&c);
    CHECK_INT(vx_aws_creds_from_profile("cfgonly", &c, &err), VX_OK);
    CHECK_STR(c.field[VX_AWS_KEY_ID], "AKIACFG");
    vx_cred_clear(&c);
    CHECK_INT(vx_aws_creds_from_profile("missing", &c, &err), VX_ENOTFOUND);
    CHECK(strstr(err.message, "missing") != NULL);

    /* The chain: explicit keys, then the environment, then the profile. */
    vx_aws_creds *p = vx_aws_creds_new(&(vx_aws_config){.profile = "dev"});
    CHECK_INT(vx_aws_creds_get(p, &c, &err), VX_OK);
    CHECK_STR(c.field[VX_AWS_KEY_ID], "AKIADEV");
    vx_cred_clear(&c);
    char src[64];
    vx_aws_creds_source(p, src, sizeof src);
    CHECK_STR(src, "profile dev");
    /* Static credentials are kept until refused; then the chain runs again
     * and finds what changed (here: the environment). */
    setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    CHECK_INT(vx_aws_creds_get(p, &c, &err), VX_OK);
    CHECK_STR(c.field[VX_AWS_KEY_ID], "AKIADEV");
    vx_cred_clear(&c);
    vx_aws_creds_invalidate(p);
    CHECK_INT(vx_aws_creds_get(p, &c, &err), VX_OK);
    CHECK_STR(c.field[VX_AWS_KEY_ID], "AKIAENV");
    vx_cred_clear(&c);
    vx_aws_creds_free(p);

    p = vx_aws_creds_new(&(vx_aws_config){.access_key_id = "AKIAOPT",
                                          .secret_access_key = "optsecret"});
    CHECK_INT(vx_aws_creds_get(p, &c, &err), VX_OK);
    CHECK_STR(c.field[VX_AWS_KEY_ID], "AKIAOPT");
    vx_cred_clear(&c);
    vx_aws_creds_free(p);

    /* Nothing anywhere: a message that lists what was tried. */
    clean_env();
    p = vx_aws_creds_new(NULL);
    CHECK_INT(vx_aws_creds_get(p, &c, &err), VX_ENOTFOUND);
    CHECK(strstr(err.message, "environment") != NULL);
    CHECK(strstr(err.message, "imds") != NULL);
    vx_aws_creds_free(p);
}

/* ---- the loopback container-credentials endpoint ---------------------------- */

typedef struct cred_endpoint {
    httpd h;
    int calls;
    int64_t first_expiry_ms;       /* of the first answer; later ones: +1 h */
    char auth_seen[128];
    char imds_token[64];           /* IMDS: the session token handed out */
    int token_puts;
} cred_endpoint;

static void iso(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void container_handler(void *ud, const httpd_request *r, httpd_reply *out)
{
    cred_endpoint *e = ud;
    static char body[512];
    httpd_header(r, "Authorization", e->auth_seen, sizeof e->auth_seen);
    if (strcmp(r->path, "/creds") != 0) {
        out->status = 404;
        return;
    }
    char when[40];
    iso(e->calls == 0 ? e->first_expiry_ms : vx_cred_now_ms() + 3600 * 1000, when, sizeof when);
    e->calls++;
    snprintf(body, sizeof body,
             "{\"AccessKeyId\":\"ASIACONTAINER%d\",\"SecretAccessKey\":\"csecret\","
             "\"Token\":\"ctoken\",\"Expiration\":\"%s\"}", e->calls, when);
    out->body = body;
    out->body_len = strlen(body);
}

static void test_container_credentials(void)
{
    clean_env();
    cred_endpoint e = {.first_expiry_ms = vx_cred_now_ms() + 60 * 1000};
    CHECK_INT(httpd_start(&e.h), 0);
    e.h.handler = container_handler;
    e.h.handler_ud = &e;
    char url[128], tpath[300];
    httpd_url(&e.h, "/creds", url, sizeof url);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    write_file("ctoken", "Bearer file-token\n", tpath, sizeof tpath);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tpath, 1);

    vx_aws_creds *p = vx_aws_creds_new(NULL);
    vx_cred c;
    vx_error err = {0};
    CHECK_INT(vx_aws_creds_get(p, &c, &err), VX_OK);
    CHECK_STR(c.field[VX_AWS_KEY_ID], "ASIACONTAINER1");
    CHECK_STR(c.field[VX_AWS_TOKEN], "ctoken");
    CHECK(c.expires_at / 1000 == e.first_expiry_ms / 1000);
    vx_cred_clear(&c);
    CHECK_STR(e.auth_seen, "Bearer file-token");  /* the file wins over the variable */
    /* It expires within the refresh margin (5 minutes): fetched again. */
    CHECK_INT(vx_aws_creds_get(p, &c, &err), VX_OK);
    CHECK_STR(c.field[VX_AWS_KEY_ID], "ASIACONTAINER2");
    vx_cred_clear(&c);
    /* That one holds for an hour: reused. */
    CHECK_INT(vx_aws_creds_get(p, &c, &err), VX_OK);
    CHECK_STR(c.field[VX_AWS_KEY_ID], "ASIACONTAINER2");
    vx_cred_clear(&c);
    CHECK_INT(e.calls, 2);
    char src[64];
    vx_aws_creds_source(p, src, sizeof src);
    CHECK_STR(src, "container");
    vx_aws_creds_free(p);

    /* Without the file, the variable's token; a wrong path is a 404. */
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    vx_http_client *http = vx_http_client_new();
    CHECK_INT(vx_aws_creds_from_container(http, 0, NULL, &c, &err), VX_OK);
    vx_cred_clear(&c);
    CHECK_STR(e.auth_seen, "env-token");
    httpd_url(&e.h, "/nothing", url, sizeof url);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
    CHECK_INT(vx_aws_creds_from_container(http, 0, NULL, &c, &err), VX_EHTTP);
    CHECK(strstr(err.message, "404") != NULL);
    CHECK(!strstr(err.message, "env-token"));
    /* Plain http elsewhere than loopback or the container agent: refused. */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds", 1);
    CHECK_INT(vx_aws_creds_from_container(http, 0, NULL, &c, &err), VX_EINVAL);
    vx_http_client_free(http);
    httpd_stop(&e.h);
    clean_env();
}

/* ---- the loopback IMDSv2 endpoint ------------------------------------------- */

static void imds_handler(void *ud, const httpd_request *r, httpd_reply *out)
{
    cred_endpoint *e = ud;
    static char body[512];
    char ttl[32], tok[64];
    httpd_header(r, "X-aws-ec2-metadata-token-ttl-seconds", ttl, sizeof ttl);
    httpd_header(r, "X-aws-ec2-metadata-token", tok, sizeof tok);
    if (strcmp(r->method, "PUT") == 0 && strcmp(r->path, "/latest/api/token") == 0 && ttl[0]) {
        e->token_puts++;
        snprintf(e->imds_token, sizeof e->imds_token, "imds-session-%d", e->token_puts);
        out->body = e->imds_token;
        out->body_len = strlen(e->imds_token);
        return;
    }
    if (!tok[0] || strcmp(tok, e->imds_token) != 0) {
        out->status = 401;  /* IMDSv2: no token, no answer */
        return;
    }
    if (strcmp(r->path, "/latest/meta-data/iam/security-credentials/") == 0) {
        out->body = "vexil-role\n";
        out->body_len = strlen(out->body);
    } else if (strcmp(r->path, "/latest/meta-data/iam/security-credentials/vexil-role") == 0) {
        char when[40];
        iso(vx_cred_now_ms() + 6 * 3600 * 1000, when, sizeof when);
        e->calls++;
        snprintf(body, sizeof body,
                 "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAIMDS\","
                 "\"SecretAccessKey\":\"isecret\",\"Token\":\"itoken\",\"Expiration\":\"%s\"}",
                 when);
        out->body = body;
        out->body_len = strlen(body);
    } else {
        out->status = 404;
    }
}

static void test_imds_credentials(void)
{
    clean_env();
    cred_endpoint e = {0};
    CHECK_INT(httpd_start(&e.h), 0);
    e.h.handler = imds_handler;
    e.h.handler_ud = &e;
    char url[128];
    httpd_url(&e.h, "", url, sizeof url);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
    vx_aws_creds *p = vx_aws_creds_new(NULL);
    vx_cred c;
    vx_error err = {0};
    CHECK_INT(vx_aws_creds_get(p, &c, &err), VX_OK);
    CHECK_STR(c.field[VX_AWS_KEY_ID], "ASIAIMDS");
    CHECK_STR(c.field[VX_AWS_TOKEN], "itoken");
    CHECK(c.expires_at > vx_cred_now_ms() + 5 * 3600 * 1000);
    vx_cred_clear(&c);
    CHECK_INT(e.token_puts, 1);
    CHECK_INT(e.calls, 1);
    char src[64];
    vx_aws_creds_source(p, src, sizeof src);
    CHECK_STR(src, "imds");
    vx_aws_creds_free(p);
    /* Every request carried the session token (the handler answers 401 to
     * any that did not, which would have failed the fetch). */
    for (size_t i = 1; i < e.h.n_reqs; i++)
        CHECK_INT(e.h.reqs[i].status, 200);

    /* Switched off: not asked at all. */
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    size_t before = e.h.n_reqs;
    vx_http_client *http = vx_http_client_new();
    CHECK_INT(vx_aws_creds_from_imds(http, 0, &c, &err), VX_ENOTFOUND);
    CHECK_INT(e.h.n_reqs, before);
    /* No service listening: "not here", not an error of its own. */
    httpd_stop(&e.h);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    CHECK_INT(vx_aws_creds_from_imds(http, 500, &c, &err), VX_ENOTFOUND);
    vx_http_client_free(http);
    clean_env();
}

/* ---- what is sent: a loopback server records the signed request ------------- */

static void test_request_shape(void)
{
    clean_env();
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    char url[128];
    httpd_url(&h, "", url, sizeof url);
    vx_aws_config cfg = {.region = "eu-west-1", .endpoint = url, .access_key_id = "AKIASHAPE",
                         .secret_access_key = "shape-secret-value",
                         .session_token = "shape-session-token"};
    vx_error err = {0};
    vx_aws_client *c = vx_aws_client_new("s3", &cfg, &err);
    CHECK(c != NULL);
    vx_aws_param q[] = {{"prefix", "a b/é"}, {"list-type", "2"}, {"uploads", NULL}};
    vx_aws_request r = {.method = "PUT", .path = "/bucket/a b+c/ü.json", .query = q,
                        .n_query = 3, .body = "hello", .body_len = 5};
    vx_http_response resp;
    vx_http_response_init(&resp);
    CHECK_INT(vx_aws_perform(c, &r, &resp, &err), VX_OK);
    CHECK_INT(resp.status, 200);
    vx_http_response_free(&resp);
    CHECK_INT(h.n_reqs, 1);
    const httpd_request *got = &h.reqs[0];
    CHECK_STR(got->path, "/bucket/a%20b%2Bc/%C3%BC.json?list-type=2&prefix=a%20b%2F%C3%A9&uploads=");
    char v[512];
    httpd_header(got, "x-amz-content-sha256", v, sizeof v);
    CHECK_STR(v, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    httpd_header(got, "x-amz-security-token", v, sizeof v);
    CHECK_STR(v, "shape-session-token");
    httpd_header(got, "Authorization", v, sizeof v);
    CHECK(strncmp(v, "AWS4-HMAC-SHA256 Credential=AKIASHAPE/", 38) == 0);
    CHECK(strstr(v, "/eu-west-1/s3/aws4_request") != NULL);
    CHECK(strstr(v, "x-amz-content-sha256") != NULL);
    CHECK(strstr(v, "x-amz-security-token") != NULL);
    CHECK(strstr(got->headers, "shape-secret-value") == NULL);
    vx_aws_client_free(c);

    /* Virtual-hosted addressing puts the bucket in the host name. */
    vx_s3 s;
    cfg.endpoint = NULL;  /* AWS's own */
    CHECK_INT(vx_s3_init(&s, &cfg, "my-bucket", VX_S3_STYLE_AUTO, &err), VX_OK);
    CHECK(!s.path_style);
    CHECK_STR(s.host_prefix, "my-bucket.");
    vx_s3_destroy(&s);
    CHECK_INT(vx_s3_init(&s, &cfg, "my.dotted.bucket", VX_S3_STYLE_AUTO, &err), VX_OK);
    CHECK(s.path_style);
    vx_s3_destroy(&s);
    cfg.endpoint = url;
    CHECK_INT(vx_s3_init(&s, &cfg, "my-bucket", VX_S3_STYLE_AUTO, &err), VX_OK);
    CHECK(s.path_style);
    vx_s3_destroy(&s);
    CHECK_INT(vx_s3_init(&s, &cfg, "a/b", VX_S3_STYLE_AUTO, &err), VX_EINVAL);
    httpd_stop(&h);
}

/* The bitwise definition, for checking the fast paths. */
static uint32_t crc32c_bitwise(uint32_t crc, const unsigned char *p, size_t n)
{
    uint32_t c = ~crc;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    }
    return ~c;
}

/* vx_crc32c is the definition's CRC at every length and alignment, across
 * the three-stream blocks (3 KiB) of the instruction path and when
 * continued from a previous piece. */
static void test_crc32c_lengths(void)
{
    static unsigned char data[20000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 2654435761u >> 13);
    CHECK(vx_crc32c(0, "123456789", 9) == 0xE3069283u);
    int bad = 0;
    for (size_t off = 0; off < 9; off++)
        for (size_t n = 0; n + off < sizeof data; n += n < 6200 ? 1 : 911)
            bad += vx_crc32c(0, data + off, n) != crc32c_bitwise(0, data + off, n);
    CHECK_INT(bad, 0);
    uint32_t c = vx_crc32c(0, data, 3071);
    CHECK(vx_crc32c(c, data + 3071, 9000) == crc32c_bitwise(0, data, 12071));
}

/* The tap's CRC-32Cs, fed in pieces that straddle part boundaries, are those
 * of the parts cut every part_size bytes; a body of exactly part_size bytes
 * is one part. */
static void test_crc_tap(void)
{
    static char body[1000];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (char)(i * 7 + 3);
    vx_s3_crc_tap t = {0};
    vx_s3_crc_tap_reset(&t, 300);
    for (size_t off = 0; off < sizeof body; off += 77)
        vx_s3_crc_tap_feed(&t, body + off, sizeof body - off < 77 ? sizeof body - off : 77);
    CHECK_INT(t.n, 4);
    for (size_t i = 0; i < 4; i++)
        CHECK(t.crc[i] == vx_crc32c(0, body + 300 * i, i < 3 ? 300 : 100));
    vx_s3_crc_tap_reset(&t, 500);
    vx_s3_crc_tap_feed(&t, body, 500);
    CHECK_INT(t.n, 1);
    vx_s3_crc_tap_reset(&t, 0);
    vx_s3_crc_tap_feed(&t, body, 10);
    vx_s3_crc_tap_feed(&t, body + 10, 990);
    CHECK_INT(t.n, 1);
    CHECK(t.crc[0] == vx_crc32c(0, body, sizeof body));
    /* The composite S3 keeps for a multipart object: CRC of the parts' CRCs. */
    char want[64], one[9];
    vx_s3_expected_checksum(VX_S3_CHECKSUM_CRC32C, body, sizeof body, 0, NULL, want);
    vx_crc32c_base64(vx_crc32c(0, body, sizeof body), one);
    CHECK_STR(want, one);
    vx_s3_crc_tap_reset(&t, 300);
    vx_s3_crc_tap_feed(&t, body, sizeof body);
    char from_tap[64];
    vx_s3_expected_checksum(VX_S3_CHECKSUM_CRC32C, body, sizeof body, 300, NULL, want);
    vx_s3_expected_checksum(VX_S3_CHECKSUM_CRC32C, body, sizeof body, 300, t.crc, from_tap);
    CHECK_STR(want, from_tap);
    CHECK(strlen(want) > 2 && strcmp(want + strlen(want) - 2, "-4") == 0);
    vx_s3_crc_tap_free(&t);
}

/* The tap's SHA-256s likewise: those of the parts cut every part_size bytes,
 * pieces straddling the boundaries; one for a body of exactly part_size
 * bytes, or with no part size; none for an empty body. Reused after reset. */
static void test_sha_tap(void)
{
    static char body[1000];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (char)(i * 5 + 1);
    unsigned char md[32];
    vx_s3_sha_tap t = {0};
    for (int round = 0; round < 2; round++) {
        vx_s3_sha_tap_reset(&t, 300);
        for (size_t off = 0; off < sizeof body; off += 77)
            vx_s3_sha_tap_feed(&t, body + off, sizeof body - off < 77 ? sizeof body - off : 77);
        CHECK(vx_s3_sha_tap_finish(&t));
        CHECK_INT(t.n, 4);
        for (size_t i = 0; i < 4; i++) {
            SHA256((const unsigned char *)body + 300 * i, i < 3 ? 300 : 100, md);
            CHECK(memcmp(t.sha + 32 * i, md, 32) == 0);
        }
    }
    vx_s3_sha_tap_reset(&t, 500);
    vx_s3_sha_tap_feed(&t, body, 500);
    CHECK(vx_s3_sha_tap_finish(&t));
    CHECK_INT(t.n, 1);
    SHA256((const unsigned char *)body, 500, md);
    CHECK(memcmp(t.sha, md, 32) == 0);
    vx_s3_sha_tap_reset(&t, 0);
    vx_s3_sha_tap_feed(&t, body, 10);
    vx_s3_sha_tap_feed(&t, body + 10, 990);
    CHECK(vx_s3_sha_tap_finish(&t));
    CHECK_INT(t.n, 1);
    SHA256((const unsigned char *)body, sizeof body, md);
    CHECK(memcmp(t.sha, md, 32) == 0);
    vx_s3_sha_tap_reset(&t, 300);
    CHECK(vx_s3_sha_tap_finish(&t));
    CHECK_INT(t.n, 0);
    vx_s3_sha_tap_free(&t);
    vx_s3_sha_tap_free(&t); /* twice is fine: it is zeroed */
}

/* Just enough of S3's multipart protocol for vx_s3_put_object. */
static void multipart_store(void *ud, const httpd_request *req, httpd_reply *out)
{
    (void)ud;
    out->status = 200;
    if (strcmp(req->method, "POST") == 0 && strstr(req->path, "?uploads")) {
        out->body = "<InitiateMultipartUploadResult><UploadId>up-1</UploadId>"
                    "</InitiateMultipartUploadResult>";
    } else if (strcmp(req->method, "PUT") == 0) {
        snprintf(out->headers, sizeof out->headers, "ETag: \"part\"\r\n");
    } else {
        out->body = "<CompleteMultipartUploadResult><ETag>\"all-3\"</ETag>"
                    "</CompleteMultipartUploadResult>";
    }
    out->body_len = out->body ? strlen(out->body) : 0;
}

/* A signed multipart upload given the parts' SHA-256s by the tap: each
 * UploadPart carries its own part's hash, as the payload it signs and as
 * its checksum. */
static void test_multipart_part_hashes(void)
{
    clean_env();
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    h.handler = multipart_store;
    char url[128];
    httpd_url(&h, "", url, sizeof url);
    vx_aws_config c = {.region = "us-east-1", .endpoint = url, .access_key_id = "AKIAPARTS",
                       .secret_access_key = "parts-secret"};
    vx_s3 s;
    vx_error err = {0};
    CHECK_INT(vx_s3_init(&s, &c, "b", VX_S3_STYLE_AUTO, &err), VX_OK);
    static char body[2500];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (char)('a' + i % 23);
    vx_s3_sha_tap t = {0};
    vx_s3_sha_tap_reset(&t, 1000);
    vx_s3_sha_tap_feed(&t, body, sizeof body);
    CHECK(vx_s3_sha_tap_finish(&t));
    vx_s3_put p = {.key = "parts.json", .body = body, .len = sizeof body, .part_size = 1000,
                   .checksum = VX_S3_CHECKSUM_SHA256, .sha256 = t.sha};
    vx_s3_outcome out;
    CHECK_INT(vx_s3_put_object(&s, &p, &out, &err), VX_OK);
    CHECK_INT(h.n_reqs, 5); /* create, 3 parts, complete */
    for (int i = 0; i < 3 && h.n_reqs == 5; i++) {
        const httpd_request *r = &h.reqs[1 + i];
        unsigned char md[32];
        SHA256((const unsigned char *)body + 1000 * i, i < 2 ? 1000 : 500, md);
        char hex[65], b64[45], v[256];
        for (int k = 0; k < 32; k++)
            snprintf(hex + 2 * k, 3, "%02x", md[k]);
        EVP_EncodeBlock((unsigned char *)b64, md, 32);
        CHECK_INT(r->body_len, i < 2 ? 1000 : 500);
        httpd_header(r, "x-amz-content-sha256", v, sizeof v);
        CHECK_STR(v, hex);
        httpd_header(r, "x-amz-checksum-sha256", v, sizeof v);
        CHECK_STR(v, b64);
    }
    vx_s3_sha_tap_free(&t);
    vx_s3_destroy(&s);
    httpd_stop(&h);
}

/* Which payload and checksum each endpoint and mode gets, and what goes on
 * the wire over http (a loopback server recording the headers). */
static void echo_bad_crc(void *ud, const httpd_request *req, httpd_reply *out)
{
    out->status = 200;
    snprintf(out->headers, sizeof out->headers, "x-amz-checksum-crc32c: AAAAAA==\r\n");
}

static void test_checksum_modes(void)
{
    clean_env();
    vx_aws_config tls = {.region = "us-east-1", .endpoint = "https://127.0.0.1:9",
                         .access_key_id = "AKIAMODES", .secret_access_key = "modes-secret"};
    vx_s3 s;
    vx_error err = {0};
    CHECK_INT(vx_s3_init(&s, &tls, "b", VX_S3_STYLE_AUTO, &err), VX_OK);
    CHECK_INT(vx_s3_checksum_in_force(&s, VX_S3_CHECKSUM_AUTO), VX_S3_CHECKSUM_CRC32C);
    CHECK(vx_s3_unsigned_payload(&s, VX_S3_CHECKSUM_AUTO));
    CHECK(vx_s3_unsigned_payload(&s, VX_S3_CHECKSUM_MD5));
    CHECK(!vx_s3_unsigned_payload(&s, VX_S3_CHECKSUM_SHA256));
    vx_s3_destroy(&s);

    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    char url[128];
    httpd_url(&h, "", url, sizeof url);
    vx_aws_config plain = tls;
    plain.endpoint = url;
    CHECK_INT(vx_s3_init(&s, &plain, "b", VX_S3_STYLE_AUTO, &err), VX_OK);
    CHECK_INT(vx_s3_checksum_in_force(&s, VX_S3_CHECKSUM_AUTO), VX_S3_CHECKSUM_SHA256);
    CHECK(!vx_s3_unsigned_payload(&s, VX_S3_CHECKSUM_CRC32C));  /* never over http */
    vx_s3_put p = {.key = "k.json", .body = "hello", .len = 5};
    vx_s3_outcome out;
    CHECK_INT(vx_s3_put_object(&s, &p, &out, &err), VX_OK);
    p.checksum = VX_S3_CHECKSUM_CRC32C;
    CHECK_INT(vx_s3_put_object(&s, &p, &out, &err), VX_OK);
    CHECK_INT(h.n_reqs, 2);
    char v[256], crc[9];
    httpd_header(&h.reqs[0], "x-amz-content-sha256", v, sizeof v);
    CHECK_STR(v, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    httpd_header(&h.reqs[0], "x-amz-checksum-sha256", v, sizeof v);
    CHECK_STR(v, "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=");
    httpd_header(&h.reqs[1], "x-amz-content-sha256", v, sizeof v);
    CHECK_STR(v, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    httpd_header(&h.reqs[1], "x-amz-checksum-crc32c", v, sizeof v);
    vx_crc32c_base64(vx_crc32c(0, "hello", 5), crc);
    CHECK_STR(v, crc);
    httpd_header(&h.reqs[1], "x-amz-sdk-checksum-algorithm", v, sizeof v);
    CHECK_STR(v, "CRC32C");
    /* A store that echoes another checksum than the one sent: refused. */
    h.handler = echo_bad_crc;
    CHECK_INT(vx_s3_put_object(&s, &p, &out, &err), VX_EIO);
    CHECK(strstr(err.message, "CRC-32C checksum differs") != NULL);
    vx_s3_destroy(&s);
    httpd_stop(&h);
}

/* ---- against moto, signature checks on ---------------------------------------- */

/* A client configuration for one of the test's moto servers. */
static vx_aws_config config_of(test_server *srv)
{
    return (vx_aws_config){.region = "us-east-1",
                           .endpoint = test_server_get(srv, "endpoint"),
                           .access_key_id = test_server_get(srv, "accessKeyId"),
                           .secret_access_key = test_server_get(srv, "secretAccessKey")};
}

static vx_aws_config moto_config(void)
{
    return config_of(&moto);
}

/* An engine with one s3 exporter to srv under `prefix`, extra options
 * appended (each with its leading comma), that has evaluated users
 * USER-0 to USER-2. */
static vx_engine *s3_engine(test_server *srv, const char *prefix, const char *user,
                            const char *extra)
{
    vx_engine *e = NULL;
    vx_engine_new(&e);
    static const char flags[] = "{\"f\":{\"variations\":{\"a\":1},\"defaultRule\":{\"variation\":\"a\"}}}";
    CHECK_INT(vx_engine_load(e, flags, sizeof flags - 1, VX_FORMAT_JSON, NULL), VX_OK);
    char opts[1024];
    snprintf(opts, sizeof opts,
             "{\"bucket\":\"vexil\",\"path\":\"%s\",\"endpoint\":\"%s\",\"region\":\"us-east-1\","
             "\"accessKeyId\":\"%s\",\"secretAccessKey\":\"%s\",\"flushInterval\":3600000%s}",
             prefix, test_server_get(srv, "endpoint"), test_server_get(srv, "accessKeyId"),
             test_server_get(srv, "secretAccessKey"), extra);
    vx_doc *d = vx_doc_new();
    vx_error err = {0};
    CHECK_INT(vx_doc_parse_json(d, opts, strlen(opts), &err), VX_OK);
    CHECK_INT(vx_engine_add_builtin_exporter(e, "s3", vx_doc_root(d), 0, NULL, &err), VX_OK);
    vx_doc_free(d);
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s-%d", user, i);
        vx_context *ctx = vx_context_new(name);
        vx_result r;
        vx_engine_eval_int(e, "f", ctx, 0, &r);
        vx_result_release(&r);
        vx_context_free(ctx);
    }
    return e;
}

static long s3_call(vx_s3 *s, const char *method, const char *key, const char *body,
                    vx_http_response *resp, vx_error *err)
{
    vx_aws_request r = {.method = method, .body = body, .body_len = body ? strlen(body) : 0};
    vx_http_response_init(resp);
    if (vx_s3_perform(s, key, &r, resp, err) != VX_OK)
        return -1;
    return resp->status;
}

/* The key of the one object under prefix/ (a listing that must count 1). */
static void only_object(vx_s3 *s, const char *prefix, char *key, size_t cap)
{
    char pre[80], count[16] = "";
    snprintf(pre, sizeof pre, "%s/", prefix);
    vx_aws_param q[] = {{"list-type", "2"}, {"prefix", pre}};
    vx_aws_request r = {.method = "GET", .query = q, .n_query = 2};
    vx_http_response resp;
    vx_http_response_init(&resp);
    vx_error err = {0};
    key[0] = '\0';
    CHECK_INT(vx_s3_perform(s, NULL, &r, &resp, &err), VX_OK);
    vx_xml_text(resp.body.data, resp.body.len, NULL, "KeyCount", count, sizeof count);
    vx_xml_text(resp.body.data, resp.body.len, "Contents", "Key", key, cap);
    CHECK_STR(count, "1");
    vx_http_response_free(&resp);
}

static void test_sigv4_moto(void)
{
    if (!have_moto)
        return;
    clean_env();
    vx_aws_config cfg = moto_config();
    vx_s3 s;
    vx_error err = {0};
    CHECK_INT(vx_s3_init(&s, &cfg, "vexil", VX_S3_STYLE_AUTO, &err), VX_OK);
    vx_http_response resp;
    const char *key = "sig test/../ä+b &c=d.json";
    CHECK_INT(s3_call(&s, "PUT", key, "{\"x\":1}", &resp, &err), 200);
    vx_http_response_free(&resp);
    CHECK_INT(s3_call(&s, "GET", key, NULL, &resp, &err), 200);
    CHECK_STR(resp.body.data, "{\"x\":1}");
    vx_http_response_free(&resp);
    /* A listing: query parameters, sorted and encoded as signed. */
    vx_aws_param q[] = {{"prefix", "sig test/"}, {"list-type", "2"}, {"max-keys", "5"}};
    vx_aws_request r = {.method = "GET", .query = q, .n_query = 3};
    vx_http_response_init(&resp);
    CHECK_INT(vx_s3_perform(&s, NULL, &r, &resp, &err), VX_OK);
    CHECK_INT(resp.status, 200);
    CHECK(strstr(resp.body.data, "<Key>sig test/../ä+b &amp;c=d.json</Key>") != NULL);
    vx_http_response_free(&resp);
    vx_s3_destroy(&s);

    /* The wrong secret: moto's 403, its code and message in the error, no
     * secret anywhere. */
    cfg.secret_access_key = "not-the-secret-at-all";
    CHECK_INT(vx_s3_init(&s, &cfg, "vexil", VX_S3_STYLE_AUTO, &err), VX_OK);
    CHECK_INT(s3_call(&s, "PUT", "denied.json", "{}", &resp, &err), 403);
    vx_status st = vx_aws_http_error(s.aws, "S3 PutObject", &resp, &err);
    CHECK_INT(st, VX_EHTTP);
    CHECK(strstr(err.message, "S3 PutObject: HTTP 403 SignatureDoesNotMatch: ") != NULL);
    CHECK(!strstr(err.message, "not-the-secret-at-all"));
    vx_http_response_free(&resp);
    vx_s3_destroy(&s);
}

/* POST /moto-api/reset-auth: moto refuses unsigned calls once its checks
 * are on, AssumeRoleWithWebIdentity included (AWS takes it unsigned). */
static void moto_auth_of(const test_server *m, const char *count)
{
    char url[256];
    snprintf(url, sizeof url, "%s/moto-api/reset-auth", test_server_get(m, "endpoint"));
    const char *h[] = {"Content-Type: text/plain", NULL};
    const char *ca = test_server_get(m, "ca_file");
    vx_http_request req = {.method = "POST", .url = url, .headers = h, .body = count,
                           .body_len = strlen(count), .ca_file = *ca ? ca : NULL};
    vx_http_client *http = vx_http_client_new();
    vx_http_response resp;
    vx_http_response_init(&resp);
    CHECK_INT(vx_http_perform(http, &req, &resp, NULL), VX_OK);
    CHECK_INT(resp.status, 200);
    vx_http_response_free(&resp);
    vx_http_client_free(http);
}

static void moto_auth(const char *count)
{
    moto_auth_of(&moto, count);
}

static void test_web_identity_moto(void)
{
    if (!have_moto)
        return;
    clean_env();
    char tpath[300];
    write_file("web-token", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ2ZXhpbCJ9.c2ln\n", tpath,
               sizeof tpath);
    setenv("AWS_ROLE_ARN", test_server_get(&moto, "roleArn"), 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tpath, 1);
    setenv("AWS_ROLE_SESSION_NAME", "vexil-test", 1);
    setenv("AWS_ENDPOINT_URL_STS", test_server_get(&moto, "endpoint"), 1);
    setenv("AWS_REGION", "us-east-1", 1);

    moto_auth("1000000000");
    vx_aws_creds *p = vx_aws_creds_new(NULL);
    vx_cred c;
    vx_error err = {0};
    vx_status st = vx_aws_creds_get(p, &c, &err);
    moto_auth("0");
    CHECK_INT(st, VX_OK);
    if (st != VX_OK) {
        fprintf(stderr, "web identity: %s\n", err.message);
        vx_aws_creds_free(p);
        return;
    }
    CHECK(strncmp(c.field[VX_AWS_KEY_ID], "ASIA", 4) == 0);
    CHECK(c.field[VX_AWS_TOKEN] && strlen(c.field[VX_AWS_TOKEN]) > 20);
    CHECK(c.expires_at > vx_cred_now_ms() + 30 * 60 * 1000);
    char src[64];
    vx_aws_creds_source(p, src, sizeof src);
    CHECK_STR(src, "web identity");

    /* The session credentials sign S3 requests, token included: moto checks
     * the token against the session it handed out. */
    vx_aws_config cfg = {.region = "us-east-1", .endpoint = test_server_get(&moto, "endpoint"),
                         .access_key_id = c.field[VX_AWS_KEY_ID],
                         .secret_access_key = c.field[VX_AWS_SECRET],
                         .session_token = c.field[VX_AWS_TOKEN]};
    vx_s3 s;
    CHECK_INT(vx_s3_init(&s, &cfg, "vexil", VX_S3_STYLE_AUTO, &err), VX_OK);
    vx_http_response resp;
    CHECK_INT(s3_call(&s, "PUT", "web-identity.json", "{\"via\":\"sts\"}", &resp, &err), 200);
    vx_http_response_free(&resp);
    vx_s3_destroy(&s);
    cfg.session_token = "a-token-sts-never-issued";
    CHECK_INT(vx_s3_init(&s, &cfg, "vexil", VX_S3_STYLE_AUTO, &err), VX_OK);
    CHECK(s3_call(&s, "PUT", "web-identity-bad.json", "{}", &resp, &err) >= 400);
    vx_http_response_free(&resp);
    vx_s3_destroy(&s);
    cfg.session_token = NULL;  /* the session's keys without their token */
    CHECK_INT(vx_s3_init(&s, &cfg, "vexil", VX_S3_STYLE_AUTO, &err), VX_OK);
    CHECK(s3_call(&s, "PUT", "web-identity-bad.json", "{}", &resp, &err) >= 400);
    vx_http_response_free(&resp);
    vx_s3_destroy(&s);

    /* The chain, used by a client, end to end. */
    vx_cred_clear(&c);
    vx_aws_creds_free(p);
    moto_auth("1000000000");
    vx_aws_config chain = {.region = "us-east-1", .endpoint = test_server_get(&moto, "endpoint")};
    CHECK_INT(vx_s3_init(&s, &chain, "vexil", VX_S3_STYLE_AUTO, &err), VX_OK);
    vx_cred warm;
    st = vx_aws_creds_get(vx_aws_client_creds(s.aws), &warm, &err);
    moto_auth("0");
    CHECK_INT(st, VX_OK);
    vx_cred_clear(&warm);
    CHECK_INT(s3_call(&s, "PUT", "web-identity-chain.json", "{}", &resp, &err), 200);
    vx_http_response_free(&resp);
    vx_s3_destroy(&s);

    /* STS refusing (a role that does not exist is fine for moto, so: a
     * token file that is not there). */
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
    p = vx_aws_creds_new(NULL);
    CHECK_INT(vx_aws_creds_get(p, &c, &err), VX_EIO);
    CHECK(strstr(err.message, "web identity") != NULL);
    vx_aws_creds_free(p);
    clean_env();
}

/* The s3 exporter from C: three evaluations, one object of three JSON
 * lines under GOFF's name. */
static void test_exporter_moto(void)
{
    if (!have_moto)
        return;
    clean_env();
    static const char flags[] = "{\"f\":{\"variations\":{\"a\":1},\"defaultRule\":{\"variation\":\"a\"}}}";
    char prefix[64], opts[1024];
    snprintf(prefix, sizeof prefix, "c-%d-%lld", (int)getpid(), (long long)vx_cred_now_ms());
    vx_engine *e = s3_engine(&moto, prefix, "c-user", "");
    vx_error err = {0};
    CHECK_INT(vx_engine_flush(e, 20000), VX_OK);
    char last[300];
    CHECK_INT(vx_exporter_last_error(vx_engine_exporter_at(e, 0), last, sizeof last), 0);
    vx_engine_free(e);

    /* A wrong secret: the 403, its code and message, in the stats. */
    vx_engine_new(&e);
    CHECK_INT(vx_engine_load(e, flags, sizeof flags - 1, VX_FORMAT_JSON, NULL), VX_OK);
    snprintf(opts, sizeof opts,
             "{\"bucket\":\"vexil\",\"endpoint\":\"%s\",\"region\":\"us-east-1\","
             "\"accessKeyId\":\"%s\",\"secretAccessKey\":\"wrong-secret-value\","
             "\"flushInterval\":3600000,\"retryInitial\":50}",
             test_server_get(&moto, "endpoint"), test_server_get(&moto, "accessKeyId"));
    vx_doc *d = vx_doc_new();
    CHECK_INT(vx_doc_parse_json(d, opts, strlen(opts), &err), VX_OK);
    CHECK_INT(vx_engine_add_builtin_exporter(e, "s3", vx_doc_root(d), 0, NULL, &err), VX_OK);
    vx_doc_free(d);
    vx_context *ctx = vx_context_new("denied");
    vx_result res;
    vx_engine_eval_int(e, "f", ctx, 0, &res);
    vx_result_release(&res);
    vx_context_free(ctx);
    CHECK_INT(vx_engine_flush(e, 500), VX_ETIMEDOUT);
    vx_exporter_stats st;
    vx_exporter_get_stats(vx_engine_exporter_at(e, 0), &st);
    CHECK(st.failed_attempts >= 1);
    CHECK_INT(st.pending, 1);
    CHECK(vx_exporter_last_error(vx_engine_exporter_at(e, 0), last, sizeof last) > 0);
    CHECK(strstr(last, "HTTP 403 SignatureDoesNotMatch") != NULL);
    CHECK(!strstr(last, "wrong-secret-value"));
    vx_engine_close(e, 100);
    vx_engine_free(e);

    vx_aws_config cfg = moto_config();
    vx_s3 s;
    CHECK_INT(vx_s3_init(&s, &cfg, "vexil", VX_S3_STYLE_AUTO, &err), VX_OK);
    char key[256];
    only_object(&s, prefix, key, sizeof key);
    CHECK(strncmp(key, prefix, strlen(prefix)) == 0 && key[strlen(prefix)] == '/' &&
          strstr(key, "flag-variation-") != NULL);
    vx_http_response resp;
    CHECK_INT(s3_call(&s, "GET", key, NULL, &resp, &err), 200);
    size_t lines = 0;
    for (size_t i = 0; i < resp.body.len; i++)
        lines += resp.body.data[i] == '\n';
    CHECK_INT(lines, 3);
    CHECK(strstr(resp.body.data, "\"userKey\":\"c-user-2\"") != NULL);
    vx_http_response_free(&resp);
    vx_s3_destroy(&s);
}

/* ---- against moto over HTTPS ---------------------------------------------------- */

static vx_aws_config tls_config(void)
{
    return config_of(&moto_tls);
}

/* The one object under prefix/, its body into *body, its stored CRC-32C
 * (HEAD with checksum mode) into crc. */
static void tls_object(vx_s3 *s, const char *prefix, vx_http_response *body, char *crc,
                       size_t cap)
{
    char key[256], etag[96];
    vx_error err = {0};
    only_object(s, prefix, key, sizeof key);
    CHECK_INT(s3_call(s, "GET", key, NULL, body, &err), 200);
    CHECK_INT(vx_s3_head(s, key, VX_S3_CHECKSUM_CRC32C, etag, sizeof etag, crc, cap, &err), VX_OK);
}

static void test_exporter_moto_https(void)
{
    if (!have_moto_tls)
        return;
    clean_env();
    const char *ca = test_server_get(&moto_tls, "ca_file");
    char prefix[64];
    snprintf(prefix, sizeof prefix, "tls-%d-%lld", (int)getpid(), (long long)vx_cred_now_ms());

    /* Untrusted (the system's bundle): a visible failed export, events kept. */
    vx_engine *e = s3_engine(&moto_tls, prefix, "tls-user", ",\"retryInitial\":50");
    CHECK_INT(vx_engine_flush(e, 500), VX_ETIMEDOUT);
    vx_exporter_stats st;
    vx_exporter_get_stats(vx_engine_exporter_at(e, 0), &st);
    CHECK(st.failed_attempts >= 1);
    CHECK_INT(st.pending, 3);
    CHECK_INT(st.exported, 0);
    char last[300];
    CHECK(vx_exporter_last_error(vx_engine_exporter_at(e, 0), last, sizeof last) > 0);
    CHECK(strstr(last, "SSL") != NULL || strstr(last, "certificate") != NULL);
    vx_engine_close(e, 100);
    vx_engine_free(e);

    /* AWS_CA_BUNDLE: stored, with the CRC-32C the tap took (moto keeps the
     * checksum it was sent; the signature it checked was over
     * UNSIGNED-PAYLOAD). */
    setenv("AWS_CA_BUNDLE", ca, 1);
    e = s3_engine(&moto_tls, prefix, "tls-user", ",\"retryInitial\":50");
    CHECK_INT(vx_engine_flush(e, 20000), VX_OK);
    CHECK_INT(vx_exporter_last_error(vx_engine_exporter_at(e, 0), last, sizeof last), 0);
    vx_engine_free(e);
    vx_aws_config cfg = tls_config();
    vx_s3 s;
    vx_error err = {0};
    CHECK_INT(vx_s3_init(&s, &cfg, "vexil", VX_S3_STYLE_AUTO, &err), VX_OK);
    vx_http_response body;
    char crc[64] = "", want[9];
    tls_object(&s, prefix, &body, crc, sizeof crc);
    vx_crc32c_base64(vx_crc32c(0, body.body.data, body.body.len), want);
    CHECK_STR(crc, want);
    CHECK(strstr(body.body.data, "\"userKey\":\"tls-user-2\"") != NULL);
    vx_http_response_free(&body);

    /* Multipart over https: moto computes the composite from the parts'
     * bodies, which must be what vexil computed. */
    size_t len = ((size_t)11 << 20) + 123;
    char *big = malloc(len);
    for (size_t i = 0; i < len; i++)
        big[i] = (char)('a' + i % 23);
    char key[96];
    snprintf(key, sizeof key, "%s-multipart/big.bin", prefix);
    vx_s3_put p = {.key = key, .body = big, .len = len, .part_size = VX_S3_MIN_PART,
                   .if_none_match = true};
    vx_s3_outcome out;
    CHECK_INT(vx_s3_put_object(&s, &p, &out, &err), VX_OK);
    CHECK_INT(out, VX_S3_STORED);
    char etag[96], sum[96], expect[64];
    CHECK_INT(vx_s3_head(&s, key, VX_S3_CHECKSUM_CRC32C, etag, sizeof etag, sum, sizeof sum, &err),
              VX_OK);
    vx_s3_expected_checksum(VX_S3_CHECKSUM_CRC32C, big, len, VX_S3_MIN_PART, NULL, expect);
    CHECK(strstr(expect, "-3") != NULL);
    CHECK(vx_s3_checksum_matches(expect, sum));  /* moto leaves out the "-3" */
    CHECK(!vx_s3_checksum_matches(expect, "AAAAAA=="));
    CHECK(!vx_s3_checksum_matches(expect, "AAAAAA==-3"));
    free(big);
    vx_s3_destroy(&s);
    unsetenv("AWS_CA_BUNDLE");

    /* The profile's ca_bundle, with checksum SHA256 (a signed payload over
     * https too): stored. */
    char cpath[300], text[400];
    snprintf(text, sizeof text, "[default]\nca_bundle = %s\n", ca);
    write_file("tls-config", text, cpath, sizeof cpath);
    setenv("AWS_CONFIG_FILE", cpath, 1);
    char p2[96];
    snprintf(p2, sizeof p2, "%s-profile", prefix);
    e = s3_engine(&moto_tls, p2, "tls-user", ",\"retryInitial\":50,\"checksum\":\"SHA256\"");
    CHECK_INT(vx_engine_flush(e, 20000), VX_OK);
    vx_engine_free(e);
    CHECK_INT(vx_s3_init(&s, &cfg, "vexil", VX_S3_STYLE_AUTO, &err), VX_OK);
    char listed[256];
    only_object(&s, p2, listed, sizeof listed);
    vx_s3_destroy(&s);

    /* A CA bundle that is not there: the exporter is refused at once. */
    setenv("AWS_CA_BUNDLE", "/nonexistent/ca.pem", 1);
    vx_engine_new(&e);
    char opts[256];
    snprintf(opts, sizeof opts, "{\"bucket\":\"vexil\",\"region\":\"us-east-1\",\"endpoint\":\"%s\"}",
             test_server_get(&moto_tls, "endpoint"));
    vx_doc *d = vx_doc_new();
    CHECK_INT(vx_doc_parse_json(d, opts, strlen(opts), &err), VX_OK);
    CHECK_INT(vx_engine_add_builtin_exporter(e, "s3", vx_doc_root(d), 0, NULL, &err), VX_EINVAL);
    CHECK(strstr(err.message, "AWS_CA_BUNDLE") != NULL);
    vx_doc_free(d);
    vx_engine_free(e);
    clean_env();
}

/* The CA bundle reaches the credentials' STS exchange and the other AWS
 * services' clients (SQS here), over moto's TLS. */
static void test_sts_and_sqs_over_https(void)
{
    if (!have_moto_tls)
        return;
    clean_env();
    char tpath[300];
    write_file("web-token-tls", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0bHMifQ.c2ln\n", tpath,
               sizeof tpath);
    setenv("AWS_ROLE_ARN", test_server_get(&moto_tls, "roleArn"), 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tpath, 1);
    setenv("AWS_ENDPOINT_URL_STS", test_server_get(&moto_tls, "endpoint"), 1);
    setenv("AWS_REGION", "us-east-1", 1);
    moto_auth_of(&moto_tls, "1000000000");
    vx_aws_creds *p = vx_aws_creds_new(NULL);
    vx_cred c;
    vx_error err = {0};
    /* The system's bundle does not trust the run's certificate. */
    CHECK_INT(vx_aws_creds_get(p, &c, &err), VX_EIO);
    CHECK(strstr(err.message, "web identity: STS") != NULL);
    vx_aws_creds_free(p);
    setenv("AWS_CA_BUNDLE", test_server_get(&moto_tls, "ca_file"), 1);
    p = vx_aws_creds_new(NULL);
    vx_status st = vx_aws_creds_get(p, &c, &err);
    moto_auth_of(&moto_tls, "0");
    CHECK_INT(st, VX_OK);
    if (st == VX_OK) {
        CHECK(strncmp(c.field[VX_AWS_KEY_ID], "ASIA", 4) == 0);
        vx_cred_clear(&c);
    }
    vx_aws_creds_free(p);

    vx_aws_config cfg = tls_config();
    vx_aws_client *sqs = vx_aws_client_new("sqs", &cfg, &err);
    CHECK(sqs != NULL);
    static const char *const h[] = {"X-Amz-Target: AmazonSQS.ListQueues",
                                    "Content-Type: application/x-amz-json-1.0", NULL};
    vx_aws_request r = {.method = "POST", .headers = h, .body = "{}", .body_len = 2};
    vx_http_response resp;
    vx_http_response_init(&resp);
    CHECK_INT(vx_aws_perform(sqs, &r, &resp, &err), VX_OK);
    CHECK_INT(resp.status, 200);
    vx_http_response_free(&resp);
    vx_aws_client_free(sqs);
    setenv("AWS_CA_BUNDLE", "/nonexistent/ca.pem", 1);
    CHECK(vx_aws_client_new("kinesis", &cfg, &err) == NULL);
    CHECK_INT(err.status, VX_EINVAL);
    CHECK(strstr(err.message, "/nonexistent/ca.pem") != NULL);
    clean_env();
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vexil-test-aws-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    clean_env();
    test_crc32c_lengths();
    RUN(test_xml);
    RUN(test_error_parse);
    RUN(test_parse_time);
    RUN(test_region);
    RUN(test_endpoint);
    RUN(test_env_and_profile_credentials);
    RUN(test_container_credentials);
    RUN(test_imds_credentials);
    RUN(test_request_shape);
    RUN(test_crc_tap);
    RUN(test_sha_tap);
    RUN(test_multipart_part_hashes);
    RUN(test_checksum_modes);
    have_moto = test_server_start(&moto, "moto");
    CHECK(have_moto);
    RUN(test_sigv4_moto);
    RUN(test_web_identity_moto);
    RUN(test_exporter_moto);
    if (have_moto)
        test_server_stop(&moto);
    have_moto_tls = test_server_start(&moto_tls, "moto-https");
    CHECK(have_moto_tls);
    RUN(test_exporter_moto_https);
    RUN(test_sts_and_sqs_over_https);
    if (have_moto_tls)
        test_server_stop(&moto_tls);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    TEST_MAIN_END();
}
