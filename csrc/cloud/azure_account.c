/* The account, the endpoint and the credential of an Azure Storage kind, read
 * from its options and the environment in the order azure.h gives. */
#include "cloud/azure.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum cred_choice {
    CHOOSE_DEFAULT, CHOOSE_SHARED_KEY, CHOOSE_SAS, CHOOSE_CLIENT_SECRET, CHOOSE_WORKLOAD,
    CHOOSE_MANAGED, CHOOSE_ANONYMOUS
} cred_choice;

static const char *const choices[] = {"default", "sharedKey", "sas", "clientSecret",
                                      "workloadIdentity", "managedIdentity", "anonymous", NULL};

/* What the options say (strings borrowed from them, secrets owned). */
typedef struct settings {
    const char *account, *service_url, *tenant, *client_id, *token_file, *authority;
    char *key, *sas, *connstr, *client_secret;
    int choice;
} settings;

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static void settings_release(settings *s)
{
    wipe_free(s->key);
    wipe_free(s->sas);
    wipe_free(s->connstr);
    wipe_free(s->client_secret);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

void vx_az_account_destroy(vx_az_account *a)
{
    if (!a)
        return;
    free(a->name);
    free(a->origin);
    free(a->base_path);
    if (a->key) {
        OPENSSL_cleanse(a->key, a->key_len);
        free(a->key);
    }
    wipe_free(a->sas);
    vx_az_entra_free(a->entra);
    free(a->ca_file);
    vx_http_client_free(a->http);
    memset(a, 0, sizeof *a);
}

static bool is_loopback(const char *origin)
{
    const char *h = strstr(origin, "://");
    h = h ? h + 3 : origin;
    return strncmp(h, "127.", 4) == 0 || strncasecmp(h, "localhost", 9) == 0 ||
           strncmp(h, "[::1]", 5) == 0;
}

/* Splits "scheme://host[:port][/path][?query]" into the account's origin and
 * base path; a query is a SAS (kept when no other SAS is given). */
static bool set_endpoint(vx_opts *o, vx_az_account *a, const char *key, const char *url,
                         char **sas)
{
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return vx_opts_fail(o, VX_EINVAL, key, "must start with http:// or https://");
    const char *host = strstr(url, "://") + 3;
    size_t host_len = strcspn(host, "/?#");
    if (!host_len)
        return vx_opts_fail(o, VX_EINVAL, key, "has no host");
    const char *path = host + host_len;
    size_t path_len = strcspn(path, "?#");
    while (path_len && path[path_len - 1] == '/')
        path_len--;
    a->origin = strndup(url, (size_t)(host + host_len - url));
    a->base_path = strndup(path, path_len);
    const char *q = path[strcspn(path, "?#")] == '?' ? path + strcspn(path, "?#") + 1 : NULL;
    if (q && *q && !*sas)
        *sas = strndup(q, strcspn(q, "#"));
    if (!a->origin || !a->base_path || (q && *q && !*sas))
        return vx_opts_fail(o, VX_ENOMEM, key, "out of memory");
    return true;
}

/* The account an endpoint names: "acct" of acct.blob.core.windows.net, or
 * the first path segment of a path-style (emulator) endpoint. */
static char *account_of(const vx_az_account *a)
{
    const char *path = a->base_path;
    if (*path == '/' && path[1])
        return strndup(path + 1, strcspn(path + 1, "/"));
    const char *host = strstr(a->origin, "://") + 3;
    const char *dot = strchr(host, '.');
    return dot && strncmp(dot, ".blob.", 6) == 0 ? strndup(host, (size_t)(dot - host)) : NULL;
}

static bool take_key(vx_opts *o, vx_az_account *a, const char *key_name, const char *key)
{
    a->key = vx_az_base64_decode(key, &a->key_len);
    if (!a->key || !a->key_len)
        return vx_opts_fail(o, VX_EINVAL, key_name, "is not a base64 account key");
    a->auth = VX_AZ_AUTH_SHARED_KEY;
    return true;
}

static bool take_sas(vx_opts *o, vx_az_account *a, const char *key_name, const char *sas)
{
    if (*sas == '?')
        sas++;
    if (!*sas || strpbrk(sas, " \r\n#"))
        return vx_opts_fail(o, VX_EINVAL, key_name, "is not a SAS query string");
    if (!(a->sas = strdup(sas)))
        return vx_opts_fail(o, VX_ENOMEM, key_name, "out of memory");
    a->auth = VX_AZ_AUTH_SAS;
    return true;
}

static bool valid_tenant(const char *t)
{
    if (!t || !*t)
        return false;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9') ||
              *t == '-' || *t == '.'))
            return false;
    return true;
}

/* An Entra ID source of kind k, its settings from the options or else the
 * environment. */
static bool take_entra(vx_opts *o, vx_az_account *a, const settings *s, vx_az_entra_kind k)
{
    vx_az_entra_settings es = {
        .kind = k, .tenant_id = s->tenant ? s->tenant : env("AZURE_TENANT_ID"),
        .client_id = s->client_id ? s->client_id : env("AZURE_CLIENT_ID"),
        .client_secret = s->client_secret ? s->client_secret : env("AZURE_CLIENT_SECRET"),
        .token_file = s->token_file ? s->token_file : env("AZURE_FEDERATED_TOKEN_FILE"),
        .authority = s->authority ? s->authority : env("AZURE_AUTHORITY_HOST"),
        .timeout_ms = a->timeout_ms, .ca_file = a->ca_file,
        .insecure_skip_verify = a->insecure_skip_verify,
    };
    const char *what = "";
    if (k == VX_AZ_ENTRA_CLIENT_SECRET || k == VX_AZ_ENTRA_WORKLOAD_IDENTITY) {
        if (!valid_tenant(es.tenant_id))
            return vx_opts_fail(o, VX_EINVAL, "tenantId",
                                "required (or AZURE_TENANT_ID): a tenant id or domain");
        if (!es.client_id)
            return vx_opts_fail(o, VX_EINVAL, "clientId", "required (or AZURE_CLIENT_ID)");
        if (k == VX_AZ_ENTRA_CLIENT_SECRET && !es.client_secret)
            return vx_opts_fail(o, VX_EINVAL, "clientSecret", "required (or AZURE_CLIENT_SECRET)");
        if (k == VX_AZ_ENTRA_WORKLOAD_IDENTITY && !es.token_file)
            return vx_opts_fail(o, VX_EINVAL, "federatedTokenFile",
                                "required (or AZURE_FEDERATED_TOKEN_FILE)");
        if (es.authority && strncasecmp(es.authority, "https://", 8) != 0 &&
            !(strncasecmp(es.authority, "http://", 7) == 0 && is_loopback(es.authority)))
            return vx_opts_fail(o, VX_EINVAL, "authorityHost", "must be an https:// URL");
        what = k == VX_AZ_ENTRA_CLIENT_SECRET
                   ? (s->client_secret ? "clientSecret" : "AZURE_CLIENT_SECRET")
                   : (s->token_file ? "federatedTokenFile" : "AZURE_FEDERATED_TOKEN_FILE");
    } else if (env("IDENTITY_ENDPOINT") && env("IDENTITY_HEADER")) {
        k = es.kind = VX_AZ_ENTRA_APP_SERVICE;
        es.endpoint = env("IDENTITY_ENDPOINT");
        es.identity_header = env("IDENTITY_HEADER");
        what = "IDENTITY_ENDPOINT";
    } else {
        es.endpoint = env("AZURE_POD_IDENTITY_AUTHORITY_HOST");
        what = es.endpoint ? "AZURE_POD_IDENTITY_AUTHORITY_HOST" : "instance metadata service";
    }
    if (!(a->entra = vx_az_entra_new(&es)))
        return vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    a->auth = VX_AZ_AUTH_BEARER;
    snprintf(a->source, sizeof a->source, "Entra ID %s (%s)", vx_az_entra_name(a->entra), what);
    return true;
}

/* A connection string's account, key or SAS and endpoint. */
static bool take_connstr(vx_opts *o, vx_az_account *a, settings *s, const char *key_name,
                         const char *text, bool force_sas)
{
    vx_az_connstr cs;
    vx_error cerr = {0};
    if (vx_az_connstr_parse(text, &cs, &cerr) != VX_OK)
        return vx_opts_fail(o, cerr.status, key_name, "%s", cerr.message);
    bool ok = true;
    if (s->account && cs.account_name && strcmp(s->account, cs.account_name) != 0)
        ok = vx_opts_fail(o, VX_EINVAL, "accountName", "names another account than %s", key_name);
    if (ok && !a->name && cs.account_name && !(a->name = strdup(cs.account_name)))
        ok = vx_opts_fail(o, VX_ENOMEM, key_name, "out of memory");
    if (ok && !a->origin && cs.blob_endpoint) {
        char *dummy = NULL;
        ok = set_endpoint(o, a, key_name, cs.blob_endpoint, &dummy);
        wipe_free(dummy);
    }
    if (ok)
        ok = cs.account_key && !force_sas ? take_key(o, a, key_name, cs.account_key)
             : cs.sas                     ? take_sas(o, a, key_name, cs.sas)
                                          : vx_opts_fail(o, VX_EINVAL, key_name, "has no %s",
                                                         force_sas ? "SharedAccessSignature"
                                                                   : "AccountKey");
    vx_az_connstr_clear(&cs);
    return ok;
}

/* Only when the variable names this account (or no account is named). */
static bool env_connstr_applies(const settings *s, const char *text)
{
    if (!s->account)
        return true;
    vx_az_connstr cs;
    if (vx_az_connstr_parse(text, &cs, NULL) != VX_OK)
        return false;
    bool same = !cs.account_name || strcmp(cs.account_name, s->account) == 0;
    vx_az_connstr_clear(&cs);
    return same;
}

static bool choose_default(vx_opts *o, vx_az_account *a, settings *s)
{
    if (s->connstr) {
        snprintf(a->source, sizeof a->source, "connectionString");
        return take_connstr(o, a, s, "connectionString", s->connstr, false);
    }
    if (s->key) {
        snprintf(a->source, sizeof a->source, "accountKey (SharedKey)");
        return take_key(o, a, "accountKey", s->key);
    }
    if (s->sas) {
        snprintf(a->source, sizeof a->source, "sasToken");
        return take_sas(o, a, "sasToken", s->sas);
    }
    if (s->client_secret)
        return take_entra(o, a, s, VX_AZ_ENTRA_CLIENT_SECRET);
    if (s->token_file)
        return take_entra(o, a, s, VX_AZ_ENTRA_WORKLOAD_IDENTITY);
    const char *ecs = env("AZURE_STORAGE_CONNECTION_STRING");
    if (ecs && env_connstr_applies(s, ecs)) {
        snprintf(a->source, sizeof a->source, "AZURE_STORAGE_CONNECTION_STRING");
        return take_connstr(o, a, s, "AZURE_STORAGE_CONNECTION_STRING", ecs, false);
    }
    bool ids = (s->tenant || env("AZURE_TENANT_ID")) && (s->client_id || env("AZURE_CLIENT_ID"));
    if (ids && env("AZURE_CLIENT_SECRET"))
        return take_entra(o, a, s, VX_AZ_ENTRA_CLIENT_SECRET);
    if (ids && env("AZURE_FEDERATED_TOKEN_FILE"))
        return take_entra(o, a, s, VX_AZ_ENTRA_WORKLOAD_IDENTITY);
    return take_entra(o, a, s, VX_AZ_ENTRA_MANAGED_IDENTITY);
}

static bool choose(vx_opts *o, vx_az_account *a, settings *s)
{
    switch (s->choice) {
    case CHOOSE_SHARED_KEY:
        snprintf(a->source, sizeof a->source, "%s (SharedKey)",
                 s->key ? "accountKey" : "connectionString");
        if (s->key)
            return take_key(o, a, "accountKey", s->key);
        if (s->connstr)
            return take_connstr(o, a, s, "connectionString", s->connstr, false);
        return vx_opts_fail(o, VX_EINVAL, "accountKey", "required for credential sharedKey");
    case CHOOSE_SAS:
        snprintf(a->source, sizeof a->source, "%s", s->sas ? "sasToken" : "connectionString");
        if (s->sas)
            return take_sas(o, a, "sasToken", s->sas);
        if (s->connstr)
            return take_connstr(o, a, s, "connectionString", s->connstr, true);
        return vx_opts_fail(o, VX_EINVAL, "sasToken", "required for credential sas");
    case CHOOSE_CLIENT_SECRET: return take_entra(o, a, s, VX_AZ_ENTRA_CLIENT_SECRET);
    case CHOOSE_WORKLOAD: return take_entra(o, a, s, VX_AZ_ENTRA_WORKLOAD_IDENTITY);
    case CHOOSE_MANAGED: return take_entra(o, a, s, VX_AZ_ENTRA_MANAGED_IDENTITY);
    case CHOOSE_ANONYMOUS:
        a->auth = VX_AZ_AUTH_ANONYMOUS;
        snprintf(a->source, sizeof a->source, "anonymous");
        return true;
    default: return choose_default(o, a, s);
    }
}

static void drop_empty(char **secret)
{
    if (*secret && !**secret) {
        free(*secret);
        *secret = NULL;
    }
}

static void read_settings(vx_opts *o, settings *s, vx_az_account *a, int64_t default_timeout)
{
    int64_t timeout = default_timeout;
    vx_opts_string(o, "accountName", false, &s->account);
    vx_opts_secret(o, "accountKey", false, &s->key);
    vx_opts_string(o, "serviceUrl", false, &s->service_url);
    vx_opts_secret(o, "sasToken", false, &s->sas);
    vx_opts_secret(o, "connectionString", false, &s->connstr);
    vx_opts_enum(o, "credential", choices, &s->choice);
    vx_opts_string(o, "tenantId", false, &s->tenant);
    vx_opts_string(o, "clientId", false, &s->client_id);
    vx_opts_secret(o, "clientSecret", false, &s->client_secret);
    vx_opts_string(o, "federatedTokenFile", false, &s->token_file);
    vx_opts_string(o, "authorityHost", false, &s->authority);
    vx_opts_int(o, "timeout", 1, INT32_MAX, &timeout);
    const char *ca = NULL;
    vx_opts_string(o, "caFile", false, &ca);
    vx_opts_bool(o, "insecureSkipVerify", &a->insecure_skip_verify);
    a->timeout_ms = timeout;
    if (ca && *ca && !(a->ca_file = strdup(ca)))
        vx_opts_fail(o, VX_ENOMEM, "caFile", "out of memory");
    /* Empty strings are absent, as GOFF's empty AccountKey means "none". */
    if (s->account && !*s->account)
        s->account = NULL;
    if (s->service_url && !*s->service_url)
        s->service_url = NULL;
    drop_empty(&s->key);
    drop_empty(&s->sas);
    drop_empty(&s->connstr);
    drop_empty(&s->client_secret);
}

static bool finish_endpoint(vx_opts *o, vx_az_account *a)
{
    if (!a->origin) {
        if (!a->name)
            return vx_opts_fail(o, VX_EINVAL, "accountName", "required for kind %s", o->kind);
        char url[300];
        snprintf(url, sizeof url, "https://%.200s.blob.core.windows.net", a->name);
        char *none = NULL;
        if (!set_endpoint(o, a, "accountName", url, &none))
            return false;
    }
    if (!a->name && !(a->name = account_of(a)))
        return vx_opts_fail(o, VX_EINVAL, "accountName", "required for kind %s", o->kind);
    for (const char *p = a->name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return vx_opts_fail(o, VX_EINVAL, "accountName",
                                "must be lower-case letters and digits");
    if (a->auth == VX_AZ_AUTH_BEARER && strncasecmp(a->origin, "https://", 8) != 0 &&
        !is_loopback(a->origin))
        return vx_opts_fail(o, VX_EINVAL, "serviceUrl",
                            "must be https:// for Entra ID tokens (Azure refuses them over http)");
    if (!(a->http = vx_http_client_new()))
        return vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    return true;
}

bool vx_az_account_read(vx_opts *o, int64_t default_timeout_ms, vx_az_account *a)
{
    memset(a, 0, sizeof *a);
    settings s = {0};
    read_settings(o, &s, a, default_timeout_ms);
    if (o->status == VX_OK && s.account && !(a->name = strdup(s.account)))
        vx_opts_fail(o, VX_ENOMEM, "accountName", "out of memory");
    /* serviceUrl wins over a connection string's endpoint; its query is a SAS. */
    if (o->status == VX_OK && s.service_url)
        set_endpoint(o, a, "serviceUrl", s.service_url, &s.sas);
    if (o->status == VX_OK)
        choose(o, a, &s);
    if (o->status == VX_OK)
        finish_endpoint(o, a);
    settings_release(&s);
    if (o->status != VX_OK) {
        vx_az_account_destroy(a);
        return false;
    }
    return true;
}
