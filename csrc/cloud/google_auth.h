/* Google credentials for any Google API (Cloud Storage, Pub/Sub...): OAuth
 * 2.0 access tokens found as Google's Application Default Credentials find
 * them, in this order:
 *
 *   1. what the caller names: a key file (credentials_file) or its JSON text
 *      (credentials_json), or no credentials at all (anonymous: emulators,
 *      public buckets);
 *   2. GOOGLE_APPLICATION_CREDENTIALS: the path of a key file;
 *   3. gcloud's well-known file, $CLOUDSDK_CONFIG or ~/.config/gcloud
 *      /application_default_credentials.json (`gcloud auth
 *      application-default login`);
 *   4. the metadata server of GCE, GKE, Cloud Run... (GCE_METADATA_HOST, else
 *      metadata.google.internal), asked with Metadata-Flavor: Google.
 *
 * A key file is a service account's ("type": "service_account": a JWT signed
 * RS256 with its private key, exchanged at its token_uri) or a user's
 * ("authorized_user": a refresh token exchanged at token_uri, by default
 * https://oauth2.googleapis.com/token). Other types are refused at creation
 * with a message that names them. A key file is read again at every token
 * fetch, so a replaced (rotated or corrected) file is picked up without a
 * restart.
 *
 * Tokens are cached (cloud/credential.h) until 225 s before they expire (as
 * Google's own auth libraries do), fetched by whichever thread needs one
 * first; the one fetch is shared by concurrent callers. A failed fetch is not
 * cached. Keys, refresh tokens, client secrets and access tokens never reach
 * a message, a log line or stats; the buffers that held them are wiped.
 *
 * Emulators turn authentication off by their own variable
 * (STORAGE_EMULATOR_HOST, PUBSUB_EMULATOR_HOST): the service that reads it
 * passes anonymous=true (see vx_google_emulator_url). */
#ifndef VX_CLOUD_GOOGLE_AUTH_H
#define VX_CLOUD_GOOGLE_AUTH_H

#include "log.h"
#include "options.h"
#include "vexil.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VX_GOOGLE_SCOPE_CLOUD_PLATFORM "https://www.googleapis.com/auth/cloud-platform"
#define VX_GOOGLE_SCOPE_STORAGE_RW "https://www.googleapis.com/auth/devstorage.read_write"
#define VX_GOOGLE_SCOPE_STORAGE_RO "https://www.googleapis.com/auth/devstorage.read_only"
#define VX_GOOGLE_SCOPE_PUBSUB "https://www.googleapis.com/auth/pubsub"
#define VX_GOOGLE_TOKEN_URI "https://oauth2.googleapis.com/token"
/* Cached tokens are replaced this long before they expire. */
#define VX_GOOGLE_TOKEN_MARGIN_MS (225 * 1000)

typedef enum vx_google_cred_type {
    VX_GOOGLE_ANONYMOUS = 0,       /* no Authorization header */
    VX_GOOGLE_SERVICE_ACCOUNT = 1, /* key file: JWT exchanged at token_uri */
    VX_GOOGLE_AUTHORIZED_USER = 2, /* key file: refresh token */
    VX_GOOGLE_METADATA = 3         /* the metadata server */
} vx_google_cred_type;

typedef struct vx_google_auth_config {
    const char *scope;             /* OAuth scopes, space-separated; NULL: cloud-platform */
    const char *credentials_file;  /* a key file instead of the search (borrowed) */
    const char *credentials_json;  /* a key file's text instead (a secret; copied) */
    bool anonymous;                /* no credentials */
    int64_t timeout_ms;            /* each token request; <= 0: 10000 */
    vx_logger *log;                /* says once which credentials were found; may be NULL */
} vx_google_auth_config;

typedef struct vx_google_auth vx_google_auth;

/* Finds the credentials (reading and checking a key file, without network).
 * VX_EINVAL / VX_EIO with a message naming where they came from
 * ("GOOGLE_APPLICATION_CREDENTIALS: ...") when a key file cannot be read or
 * is not one vexil can use. When nothing is found the metadata server is
 * chosen; whether it answers shows at the first token fetch. */
vx_status vx_google_auth_new(const vx_google_auth_config *config, vx_google_auth **out,
                             vx_error *err);
void vx_google_auth_free(vx_google_auth *a);

vx_google_cred_type vx_google_auth_type(const vx_google_auth *a);
/* What was found, for messages: "service account key file from
 * GOOGLE_APPLICATION_CREDENTIALS", "the metadata server", "no credentials".
 * Static or owned by a; never a secret. */
const char *vx_google_auth_describe(const vx_google_auth *a);
/* The key file's project_id (service accounts) or quota_project_id, NULL
 * when it has none (Pub/Sub's default project). Owned by a. */
const char *vx_google_auth_project(const vx_google_auth *a);

/* Header lines for one request: "Authorization: Bearer <token>" and, when
 * the credentials name a quota project, "x-goog-user-project: <id>". Both
 * NULL when anonymous. Fetches a token when the cached one is near expiry;
 * a refused or failed fetch is VX_EHTTP / VX_EIO / VX_ETIMEDOUT with the
 * token endpoint's error code and description ("token endpoint answered
 * 400 invalid_grant: Invalid JWT Signature."). Thread-safe. */
typedef struct vx_google_headers {
    char *line[2];                 /* malloc'd, NULL when absent; the first holds the token */
} vx_google_headers;

vx_status vx_google_auth_headers(vx_google_auth *a, vx_google_headers *out, vx_error *err);
/* Wipes and frees the lines. */
void vx_google_headers_clear(vx_google_headers *h);
/* The service refused the token (401): forget it, the next call fetches one. */
void vx_google_auth_refused(vx_google_auth *a);
/* For the fork child of a process that used a. Done for every live one by a
 * pthread_atfork handler already; calling it again is harmless. */
void vx_google_auth_after_fork_child(vx_google_auth *a);

/* Reads vexil's credential keys shared by every Google kind into c:
 * credentialsFile (a path), credentialsJson (a secret: the text, or
 * {"fromEnv": NAME} / {"fromFile": path}), withoutAuthentication (bool).
 * *json receives the malloc'd secret (or NULL), which the caller wipes and
 * frees after vx_google_auth_new. False with the error in o. */
bool vx_google_auth_read_options(vx_opts *o, vx_google_auth_config *c, char **json);

/* The base URL an emulator variable names ("127.0.0.1:4443" or
 * "http://127.0.0.1:4443/" -> "http://127.0.0.1:4443"), false when the
 * variable is unset or empty (or the URL does not fit in cap). */
bool vx_google_emulator_url(const char *env_name, char *out, size_t cap);

/* A Google error body as one line for messages and stats: the JSON API's
 * {"error":{"code":403,"status":"PERMISSION_DENIED","message":...,
 * "errors":[{"reason":"forbidden"}]}} as "PERMISSION_DENIED: message", OAuth's
 * {"error":"invalid_grant","error_description":...} as "invalid_grant:
 * description", other text as its first line (control characters dropped),
 * all cut to fit cap. "" when the body is empty. */
void vx_google_error_text(const char *body, size_t len, char *out, size_t cap);

#endif
