/* What every AWS service vexil speaks to shares (S3 here; Kinesis, SQS and
 * STS are the same machinery): the credential chain, region and endpoint
 * resolution, requests signed with Signature V4, and the services' errors.
 *
 *   vx_aws_options o;                       // vexil's AWS keys of an exporter
 *   vx_aws_options_read(opts, &o);          // region, endpoint, profile, keys...
 *   vx_aws_client *c = vx_aws_client_new("kinesis", &o.config, &err);
 *   vx_aws_options_release(&o);             // the client copied what it needs
 *   vx_aws_request r = {.method = "POST", .path = "/", .headers = hdrs,
 *                       .body = json, .body_len = n};
 *   vx_http_response resp; vx_http_response_init(&resp);
 *   st = vx_aws_perform(c, &r, &resp, &err);           // transport errors
 *   if (st == VX_OK && resp.status >= 300)
 *       st = vx_aws_http_error(c, "kinesis PutRecords", &resp, &err);
 *
 * Secrets (the secret key, the session token, web identity and container
 * tokens) live in vx_cred strings and the client's copies only: they never
 * reach a message, a log line or a URL. Error messages from the services are
 * scrubbed of the credentials in use before they are passed on. */
#ifndef VX_CLOUD_AWS_H
#define VX_CLOUD_AWS_H

#include "cloud/credential.h"
#include "log.h"
#include "net/http.h"
#include "options.h"
#include "vexil.h"

/* The fields of an AWS vx_cred. */
enum { VX_AWS_KEY_ID = 0, VX_AWS_SECRET = 1, VX_AWS_TOKEN = 2 };

/* Settings of one AWS client; every member may be NULL / 0. Strings are
 * read during vx_aws_client_new() / vx_aws_creds_new() only. */
typedef struct vx_aws_config {
    const char *region;            /* else AWS_REGION, AWS_DEFAULT_REGION, the profile's */
    const char *endpoint;          /* else AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL,
                                      the profile's endpoint_url, AWS's own */
    const char *profile;           /* else AWS_PROFILE, else "default" */
    /* Explicit keys (key id and secret together, token optional): used
     * instead of the chain. */
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;
    int64_t timeout_ms;            /* each request (default 10000) */
    bool insecure_skip_verify;     /* TLS */
    const char *ca_file;           /* else AWS_CA_BUNDLE, the profile's ca_bundle, the
                                      system's (see vx_aws_resolve_ca_bundle) */
} vx_aws_config;

/* ---- Options: vexil's AWS keys, the same for every AWS kind -------------- */

/* region, endpoint, profile, accessKeyId, secretAccessKey, sessionToken
 * (the last three read as secrets: a string, {"fromEnv"} or {"fromFile"}),
 * timeout (ms), caFile, insecureSkipVerify. */
typedef struct vx_aws_options {
    vx_aws_config config;          /* strings borrowed from the options or the fields below */
    char *key_id, *secret, *token; /* malloc'd, wiped by release */
} vx_aws_options;

/* False with the error in `o` (nothing left to release then). */
bool vx_aws_options_read(vx_opts *o, vx_aws_options *out);
void vx_aws_options_release(vx_aws_options *a);

/* ---- Region and endpoint ------------------------------------------------- */

/* The region: `option`, AWS_REGION, AWS_DEFAULT_REGION, then `region` in the
 * profile's section of the config file. NULL when none (or out of memory). */
char *vx_aws_resolve_region(const char *option, const char *profile);

/* The endpoint of `service` ("s3", "kinesis", "sqs", "sts"), malloc'd,
 * without a trailing '/': `option`, AWS_ENDPOINT_URL_<SERVICE> (upper case),
 * AWS_ENDPOINT_URL, the profile's endpoint_url (these three skipped when
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true), else AWS's own
 * https://<service>.<region>.amazonaws.com (.amazonaws.com.cn in cn-*).
 * *custom (may be NULL) says whether it was configured. */
char *vx_aws_resolve_endpoint(const char *option, const char *service, const char *region,
                              const char *profile, bool *custom);

/* The CA bundle (PEM) that TLS requests to AWS trust, malloc'd, as the SDKs
 * choose it: `option` (caFile), AWS_CA_BUNDLE, then `ca_bundle` in the
 * profile's section of the config file. NULL: the system's bundle. Used by
 * every AWS client (S3, Kinesis, SQS) and by the STS exchange of web
 * identity and of an https container-credentials endpoint; a bundle that
 * cannot be read makes vx_aws_client_new fail. */
char *vx_aws_resolve_ca_bundle(const char *option, const char *profile);

/* The profile name in force: `option`, AWS_PROFILE, "default". Static or
 * borrowed storage. */
const char *vx_aws_profile_name(const char *option);

/* A key of a profile in the shared files, malloc'd, NULL when absent:
 * `credentials` true reads the credentials file (AWS_SHARED_CREDENTIALS_FILE,
 * ~/.aws/credentials; sections [name]), false the config file
 * (AWS_CONFIG_FILE, ~/.aws/config; sections [profile name], and [default]). */
char *vx_aws_profile_get(const char *profile, bool credentials, const char *key);

/* ---- Credentials: the chain, in the AWS SDKs' order ----------------------
 *
 *  1. explicit keys of the configuration;
 *  2. AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
 *  3. the profile's aws_access_key_id / aws_secret_access_key /
 *     aws_session_token in the credentials file, then in the config file;
 *     a profile with role_arn + web_identity_token_file is a web identity;
 *  4. web identity: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (and
 *     AWS_ROLE_SESSION_NAME), exchanged at STS (AssumeRoleWithWebIdentity,
 *     endpoint resolved as for service "sts");
 *  5. container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI, or
 *     http://169.254.170.2 + AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, with
 *     the Authorization token of AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
 *     AWS_CONTAINER_AUTHORIZATION_TOKEN;
 *  6. IMDSv2 (token PUT, then the role's credentials) at
 *     AWS_EC2_METADATA_SERVICE_ENDPOINT (default http://169.254.169.254),
 *     unless AWS_EC2_METADATA_DISABLED=true.
 *
 * The chain is walked again each time credentials are needed anew: at first
 * use, shortly before temporary ones expire, and after the service refused
 * them (vx_aws_creds_invalidate), so a fixed credentials file, profile or
 * environment is picked up without a restart. Temporary credentials are
 * refreshed 5 minutes before they expire. Thread-safe. */
typedef struct vx_aws_creds vx_aws_creds;

/* NULL when out of memory. The configuration is copied. */
vx_aws_creds *vx_aws_creds_new(const vx_aws_config *c);
void vx_aws_creds_free(vx_aws_creds *p);
/* A copy (the caller clears it) of credentials valid for at least the
 * margin. VX_ENOTFOUND when no source has any (the message lists what was
 * tried and why each failed); a source's failure otherwise (an STS, container
 * or IMDS endpoint that answered an error: VX_EHTTP, or VX_EIO...). */
vx_status vx_aws_creds_get(vx_aws_creds *p, vx_cred *out, vx_error *err);
/* The service refused the credentials: the next get walks the chain again. */
void vx_aws_creds_invalidate(vx_aws_creds *p);
/* Where the credentials in use came from ("environment", "profile default",
 * "web identity", "container", "imds", "options"), copied into out. */
void vx_aws_creds_source(vx_aws_creds *p, char *out, size_t cap);
void vx_aws_creds_after_fork_child(vx_aws_creds *p);

/* The sources one by one (the chain calls these; tests too). Each returns
 * VX_OK with *out filled (zeroed on entry); VX_ENOTFOUND when it is not
 * configured (no such variables, no such profile or keys); its error when it
 * is configured but fails. `http` is a client of the caller's (one thread at
 * a time); `timeout_ms` bounds each request (<= 0: 1000 for IMDS, 5000 for
 * the container endpoint); `ca_file` (may be NULL) is the CA bundle of an
 * https container endpoint (the chain gives it vx_aws_resolve_ca_bundle's). */
vx_status vx_aws_creds_from_env(vx_cred *out, vx_error *err);
vx_status vx_aws_creds_from_profile(const char *profile, vx_cred *out, vx_error *err);
vx_status vx_aws_creds_from_web_identity(vx_http_client *http, const vx_aws_config *c,
                                         const char *role_arn, const char *token_file,
                                         const char *session_name, vx_cred *out,
                                         vx_error *err);
vx_status vx_aws_creds_from_container(vx_http_client *http, int64_t timeout_ms,
                                      const char *ca_file, vx_cred *out, vx_error *err);
vx_status vx_aws_creds_from_imds(vx_http_client *http, int64_t timeout_ms, vx_cred *out,
                                 vx_error *err);

/* ISO 8601 / RFC 3339 UTC time ("2024-05-01T12:00:00Z", fractions and
 * offsets allowed) to Unix ms; -1 when it does not parse. */
int64_t vx_aws_parse_time(const char *s);

/* ---- Signed requests ------------------------------------------------------ */

/* One client per exporter or retriever: its region, endpoint, credentials
 * and connection cache. Use it from one thread at a time (the credentials
 * inside are thread-safe). */
typedef struct vx_aws_client vx_aws_client;

/* `service` is the signing name and endpoint prefix ("s3", "kinesis",
 * "sqs", "sts"). NULL with *err when the region cannot be resolved
 * (VX_EINVAL, "region is required: ...") or the endpoint is not an http(s)
 * URL, or out of memory. */
vx_aws_client *vx_aws_client_new(const char *service, const vx_aws_config *c, vx_error *err);
void vx_aws_client_free(vx_aws_client *c);
const char *vx_aws_client_region(const vx_aws_client *c);
/* scheme://host[:port][/base], no trailing '/'. */
const char *vx_aws_client_endpoint(const vx_aws_client *c);
/* The endpoint was configured (not AWS's own). */
bool vx_aws_client_custom_endpoint(const vx_aws_client *c);
/* The endpoint is https: the body is protected by TLS, so an upload may go
 * with an unsigned payload (x-amz-content-sha256: UNSIGNED-PAYLOAD). */
bool vx_aws_client_tls(const vx_aws_client *c);
vx_aws_creds *vx_aws_client_creds(vx_aws_client *c);
void vx_aws_client_after_fork_child(vx_aws_client *c);

typedef struct vx_aws_param {
    const char *name;              /* raw (unencoded) */
    const char *value;             /* raw; NULL or "" for a bare name ("?uploads") */
} vx_aws_param;

typedef struct vx_aws_request {
    const char *method;            /* default "GET" */
    const char *host_prefix;       /* put before the endpoint's host: "bucket." (S3
                                      virtual-hosted addressing); NULL for none */
    const char *path;              /* raw path from '/', encoded here (each byte but
                                      A-Z a-z 0-9 - _ . ~ /); NULL is "/" */
    const vx_aws_param *query;     /* encoded and sorted here, as SigV4 wants */
    size_t n_query;
    const char *const *headers;    /* more "Name: value" lines (signed too; none may be
                                      empty); may be NULL. A PUT or POST without a
                                      Content-Type gets application/octet-stream */
    const void *body;
    size_t body_len;
    const char *payload_sha256;    /* hex SHA-256 of the body when already known, or
                                      "UNSIGNED-PAYLOAD" (https only: TLS is then what
                                      protects the body; give S3 a checksum instead) */
    size_t max_response_bytes;     /* 0: 1 MiB */
    bool fail_when_truncated;
    bool keep_headers;
    const char *if_none_match;
    int64_t timeout_ms;            /* 0: the client's */
    vx_http_cancel *cancel;        /* optional */
} vx_aws_request;

/* Signs (through libcurl's SigV4, plus x-amz-content-sha256, the sorted
 * query and x-amz-security-token) and performs the request. VX_OK whenever a
 * response arrived, whatever its status; a 401 or 403 also invalidates the
 * credentials, so the next request walks the chain again. Transport
 * failures as vx_http_perform (VX_EIO, VX_ETIMEDOUT, VX_ECLOSED...), and the
 * credentials' failure when none could be had; *err is prefixed by nothing:
 * the caller says what it was doing. */
vx_status vx_aws_perform(vx_aws_client *c, const vx_aws_request *req, vx_http_response *resp,
                         vx_error *err);

/* Up to this many requests go at once through vx_aws_perform_many. */
#define VX_AWS_MAX_PARALLEL VX_HTTP_MAX_PARALLEL

/* Signs and performs rs[0..n) at once (vx_http_perform_many), with one set
 * of credentials: sts[i], resps[i] and errs[i] (errs may be NULL) are what
 * vx_aws_perform gives for rs[i]. Returns VX_OK when every request got a
 * response, else the first failure. */
vx_status vx_aws_perform_many(vx_aws_client *c, const vx_aws_request *rs,
                              vx_http_response *resps, vx_status *sts, vx_error *errs,
                              size_t n);

/* Percent-encodes s as SigV4 wants (A-Z a-z 0-9 - _ . ~ kept; '/' kept when
 * keep_slash), appending to b. */
void vx_aws_uri_encode(vx_buf *b, const char *s, size_t len, bool keep_slash);
/* Lower-case hex SHA-256 of data. */
void vx_aws_sha256_hex(const void *data, size_t len, char out[65]);

/* ---- Errors ---------------------------------------------------------------- */

/* The service's error: S3's and the query protocol's XML (<Code>,
 * <Message>), the JSON protocol's {"__type"/"code", "message"/"Message"}
 * and the x-amzn-ErrorType header; for a body-less answer (HEAD) the code
 * is the status's name ("NotFound", "Forbidden"...). */
typedef struct vx_aws_error_info {
    char code[64];
    char message[200];
} vx_aws_error_info;

void vx_aws_error_parse(const vx_http_response *resp, vx_aws_error_info *out);

/* Fills *err with "<what>: HTTP <status> <Code>: <Message>" (the message
 * scrubbed of the client's credentials) and returns VX_EHTTP. */
vx_status vx_aws_http_error(vx_aws_client *c, const char *what, const vx_http_response *resp,
                            vx_error *err);

/* Replaces each occurrence of the credential strings of `cred` in s (in
 * place, NUL-terminated) with "<redacted>" when it fits, else with '*'s. */
void vx_aws_scrub(char *s, size_t cap, const vx_cred *cred);

#endif
