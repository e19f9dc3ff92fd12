/* Azure Blob Storage, shared by the azureBlobStorage exporter and retriever:
 * which account and endpoint, which credential, and one authorised request.
 *
 * Credentials, in the order they are chosen (the first that applies wins;
 * "credential" forces one):
 *   1. connectionString (a secret: string, fromEnv, fromFile): its
 *      AccountKey, SharedAccessSignature, BlobEndpoint...; or
 *      UseDevelopmentStorage=true (Azurite's well-known account);
 *   2. accountKey: SharedKey, HMAC-SHA256 over the canonicalized request;
 *   3. sasToken: a shared access signature, sent as the query;
 *   4. clientSecret (with tenantId, clientId): an Entra ID client secret;
 *   5. federatedTokenFile (with tenantId, clientId): workload identity;
 *   6. the AZURE_STORAGE_CONNECTION_STRING variable, when its account is
 *      accountName (or no accountName is given);
 *   7. as the Azure SDKs' DefaultAzureCredential: AZURE_TENANT_ID +
 *      AZURE_CLIENT_ID + AZURE_CLIENT_SECRET (environment), then
 *      AZURE_FEDERATED_TOKEN_FILE (workload identity), then managed identity
 *      (App Service's IDENTITY_ENDPOINT + IDENTITY_HEADER, else the instance
 *      metadata service, at AZURE_POD_IDENTITY_AUTHORITY_HOST when set).
 * Entra ID tokens are cached (cloud/credential.h) and fetched again five
 * minutes before they expire, or at once after the service refused one.
 *
 * No key, signature, SAS or token ever reaches a message: errors name the
 * operation, the HTTP status and the service's own error code and message
 * (the x-ms-error-code header, the <Code> and <Message> of the XML body),
 * with any secret of the request cut out. */
#ifndef VX_CLOUD_AZURE_H
#define VX_CLOUD_AZURE_H

#include "buf.h"
#include "cloud/credential.h"
#include "net/http.h"
#include "options.h"
#include "vexil.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The service version every request states: supported by Azure and by
 * Azurite 3.35, and new enough for bearer tokens and Content-MD5 on blocks. */
#define VX_AZ_API_VERSION "2021-12-02"
/* Azurite's documented development account (UseDevelopmentStorage=true). */
#define VX_AZ_DEV_ACCOUNT "devstoreaccount1"
#define VX_AZ_DEV_BLOB_ENDPOINT "http://127.0.0.1:10000/devstoreaccount1"

typedef enum vx_az_auth {
    VX_AZ_AUTH_SHARED_KEY,
    VX_AZ_AUTH_SAS,
    VX_AZ_AUTH_BEARER,
    VX_AZ_AUTH_ANONYMOUS          /* public containers (only when asked for) */
} vx_az_auth;

/* ---- connection strings (azure_connstr.c) --------------------------------- */

/* What a connection string says; malloc'd strings or NULL. */
typedef struct vx_az_connstr {
    char *account_name;
    char *account_key;            /* secret */
    char *sas;                    /* secret, without a leading '?' */
    char *blob_endpoint;          /* BlobEndpoint, or built from protocol + suffix */
} vx_az_connstr;

/* Parses "Key=value;Key=value" (keys case-insensitive, values may hold '=').
 * UseDevelopmentStorage=true gives the development account, its key and
 * DevelopmentStorageProxyUri or 127.0.0.1:10000. VX_EINVAL with a message
 * naming the missing part (never a value; no prefix: the caller names the
 * key) when the string is not usable. */
vx_status vx_az_connstr_parse(const char *s, vx_az_connstr *out, vx_error *err);
void vx_az_connstr_clear(vx_az_connstr *c);

/* ---- SharedKey (azure_sharedkey.c) --------------------------------------- */

/* The pieces of a request SharedKey signs. headers are "Name: value" lines;
 * the standard ones (Content-Type, Content-MD5, If-None-Match, Range...) and
 * every x-ms-* one are taken from them. `path` is the encoded URL path as
 * sent ("/devstoreaccount1/c/b" path-style, "/c/b" otherwise); query holds
 * name, value pairs (unencoded), NULL-terminated. */
typedef struct vx_az_signed {
    const char *method;
    const char *account;
    const char *path;
    const char *const *query;
    const char *const *headers;
    size_t content_length;
} vx_az_signed;

/* Appends Azure's string-to-sign for r to out. */
void vx_az_string_to_sign(const vx_az_signed *r, vx_buf *out);
/* "SharedKey account:base64(HMAC-SHA256(key, string-to-sign))" into out. */
vx_status vx_az_sharedkey_header(const vx_az_signed *r, const unsigned char *key,
                                 size_t key_len, char *out, size_t cap);

/* base64 of len bytes into out (NUL-terminated); false when it does not fit. */
bool vx_az_base64(const void *data, size_t len, char *out, size_t cap);
/* Decodes base64 (padding required) into a malloc'd buffer; NULL when not
 * base64. */
unsigned char *vx_az_base64_decode(const char *s, size_t *len);
/* RFC 1123 date in GMT ("Tue, 02 Jan 2024 03:04:05 GMT"), locale-free. */
void vx_az_http_date(int64_t unix_seconds, char out[32]);
/* Appends s percent-encoded (RFC 3986 unreserved bytes kept, and '/' when
 * keep_slash). */
void vx_az_url_encode(vx_buf *b, const char *s, bool keep_slash);

/* ---- Entra ID tokens (azure_entra.c) ------------------------------------- */

typedef enum vx_az_entra_kind {
    VX_AZ_ENTRA_CLIENT_SECRET,
    VX_AZ_ENTRA_WORKLOAD_IDENTITY,   /* a client assertion read from a file each time */
    VX_AZ_ENTRA_MANAGED_IDENTITY,    /* the instance metadata service */
    VX_AZ_ENTRA_APP_SERVICE          /* App Service / Functions managed identity */
} vx_az_entra_kind;

typedef struct vx_az_entra_settings {
    vx_az_entra_kind kind;
    const char *tenant_id;
    const char *client_id;           /* managed identity: a user-assigned one, or NULL */
    const char *client_secret;       /* secret */
    const char *token_file;          /* workload identity */
    const char *authority;           /* https://login.microsoftonline.com */
    const char *endpoint;            /* IMDS host, or App Service's IDENTITY_ENDPOINT */
    const char *identity_header;     /* App Service's IDENTITY_HEADER: secret */
    int64_t timeout_ms;
    const char *ca_file;             /* for the token endpoint's TLS */
    bool insecure_skip_verify;
} vx_az_entra_settings;

typedef struct vx_az_entra vx_az_entra;

/* Copies the settings. NULL when out of memory. */
vx_az_entra *vx_az_entra_new(const vx_az_entra_settings *s);
void vx_az_entra_free(vx_az_entra *e);
/* A bearer token valid for five minutes at least (field[0] of *out, which the
 * caller clears), from the cache or fetched now. Errors say which source
 * failed and how (the endpoint's error code and description). */
vx_status vx_az_entra_token(vx_az_entra *e, vx_cred *out, vx_error *err);
/* The service refused the token: the next request fetches a new one. */
void vx_az_entra_invalidate(vx_az_entra *e);
/* "client secret", "workload identity", "managed identity"... for the log. */
const char *vx_az_entra_name(const vx_az_entra *e);

/* ---- the account and its requests (azure_account.c, azure_request.c) ------ */

typedef struct vx_az_account {
    char *name;
    char *origin;                 /* "https://acct.blob.core.windows.net" */
    char *base_path;              /* "" or "/devstoreaccount1" (path-style endpoints) */
    vx_az_auth auth;
    unsigned char *key;           /* SharedKey: the decoded account key */
    size_t key_len;
    char *sas;                    /* SAS: the token without '?' */
    vx_az_entra *entra;           /* bearer */
    char source[96];              /* where the credential came from, for the log */
    int64_t timeout_ms;
    char *ca_file;
    bool insecure_skip_verify;
    vx_http_client *http;
} vx_az_account;

/* Reads the account keys every Azure kind shares (accountName, accountKey,
 * serviceUrl, sasToken, connectionString, credential, tenantId, clientId,
 * clientSecret, federatedTokenFile, authorityHost, timeout, caFile,
 * insecureSkipVerify) and picks the credential as the header says. False
 * with the error recorded in `o` (a key path, never a value); the account
 * then holds nothing to free (freeing it is still fine). */
bool vx_az_account_read(vx_opts *o, int64_t default_timeout_ms, vx_az_account *a);
void vx_az_account_destroy(vx_az_account *a);

typedef struct vx_az_request {
    const char *method;           /* GET, HEAD, PUT, DELETE */
    const char *op;               /* "Put Blob", "Get Blob": for messages */
    const char *container;        /* NULL: the account itself */
    const char *blob;             /* unencoded name, or NULL: the container */
    const char *const *query;     /* name, value pairs sorted by name, NULL-terminated */
    const char *const *headers;   /* "Name: value" lines, may be NULL */
    const void *body;
    size_t body_len;
    size_t max_response_bytes;    /* 0: 64 KiB, enough for an error body */
    bool fail_when_truncated;
    vx_http_cancel *cancel;
    int64_t timeout_ms;           /* 0: the account's */
} vx_az_request;

/* Sends the request, authorised, and waits for the answer. VX_OK when a
 * response arrived, whatever its status (the caller judges it; vx_az_fail
 * words a refusal); the transport's status otherwise (VX_ETIMEDOUT, VX_EIO,
 * VX_ECLOSED), with "<op>: " before its message. A 401 or 403 answer to a
 * bearer token forgets the token. */
vx_status vx_az_perform(vx_az_account *a, const vx_az_request *r, vx_http_response *resp,
                        vx_error *err);

/* The service's error of a response: the x-ms-error-code header or the XML
 * body's <Code>, and the first line of its <Message> (either may be "").
 * Needs a response made by vx_az_perform (headers kept). */
void vx_az_error(const vx_http_response *resp, char *code, size_t code_cap, char *message,
                 size_t message_cap);
/* Fills *err with "<op>: HTTP <status> <code>: <message>" (plus a hint for
 * the common causes) and returns VX_EHTTP. */
vx_status vx_az_fail(const vx_az_request *r, const vx_http_response *resp, vx_error *err);

#endif
