/* The AWS credential chain (see aws.h for the order) over the shared
 * expiring-credential cache of credential.h. */
#include "cloud/aws.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct vx_aws_creds {
    vx_cred_cache cache;
    vx_aws_config cfg;             /* strings owned (copies) */
    vx_http_client *http;          /* used by the one fetch in flight */
    pthread_mutex_t mu;            /* guards source */
    char source[48];
    pid_t pid;                     /* the process the cache's state belongs to */
};

static char *dup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static void wipe_free(const char *s)
{
    if (s) {
        OPENSSL_cleanse((char *)s, strlen(s));
        free((char *)s);
    }
}

static void set_err(vx_error *err, vx_status st, const char *fmt, const char *a)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, fmt, a);
}

/* Fills out from three strings (copied); false when out of memory. */
static bool fill(vx_cred *out, const char *id, const char *secret, const char *token,
                 int64_t expires_at)
{
    memset(out, 0, sizeof *out);
    out->field[VX_AWS_KEY_ID] = strdup(id);
    out->field[VX_AWS_SECRET] = strdup(secret);
    if (token && *token)
        out->field[VX_AWS_TOKEN] = strdup(token);
    out->expires_at = expires_at;
    if (!out->field[VX_AWS_KEY_ID] || !out->field[VX_AWS_SECRET] ||
        (token && *token && !out->field[VX_AWS_TOKEN])) {
        vx_cred_clear(out);
        return false;
    }
    return true;
}

vx_status vx_aws_creds_from_env(vx_cred *out, vx_error *err)
{
    memset(out, 0, sizeof *out);
    const char *id = getenv("AWS_ACCESS_KEY_ID");
    const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
    if (!secret || !*secret)
        secret = getenv("AWS_SECRET_KEY");  /* the older name the SDKs still read */
    if (!id || !*id || !secret || !*secret) {
        set_err(err, VX_ENOTFOUND, "%s", "not set");
        return VX_ENOTFOUND;
    }
    if (!fill(out, id, secret, getenv("AWS_SESSION_TOKEN"), 0)) {
        set_err(err, VX_ENOMEM, "%s", "out of memory");
        return VX_ENOMEM;
    }
    return VX_OK;
}

vx_status vx_aws_creds_from_profile(const char *profile, vx_cred *out, vx_error *err)
{
    memset(out, 0, sizeof *out);
    const char *name = vx_aws_profile_name(profile);
    vx_status st = VX_ENOTFOUND;
    /* The credentials file first, then the config file, as the SDKs do. */
    for (int f = 0; f < 2 && st == VX_ENOTFOUND; f++) {
        char *id = vx_aws_profile_get(name, f == 0, "aws_access_key_id");
        char *secret = vx_aws_profile_get(name, f == 0, "aws_secret_access_key");
        char *token = vx_aws_profile_get(name, f == 0, "aws_session_token");
        if (id && secret)
            st = fill(out, id, secret, token, 0) ? VX_OK : VX_ENOMEM;
        wipe_free(id);
        wipe_free(secret);
        wipe_free(token);
    }
    if (st == VX_ENOTFOUND)
        set_err(err, st, "no keys for profile %.60s", name);
    else if (st == VX_ENOMEM)
        set_err(err, st, "%s", "out of memory");
    return st;
}

int64_t vx_aws_parse_time(const char *s)
{
    if (!s)
        return -1;
    struct tm tm = {0};
    int n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const char *p = s + n;
    int64_t ms = 0;
    if (*p == '.') {
        int64_t scale = 100;
        for (p++; *p >= '0' && *p <= '9'; p++) {
            ms += (*p - '0') * scale;
            scale /= 10;
        }
    }
    int64_t offset = 0;
    if (*p == '+' || *p == '-') {
        int hh = 0, mm = 0;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) < 1)
            return -1;
        offset = (hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
    } else if (*p != 'Z' && *p != 'z' && *p != '\0') {
        return -1;
    }
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    return ((int64_t)t - offset) * 1000 + ms;
}

/* Web identity from the environment, or from the profile (role_arn +
 * web_identity_token_file in the config file). */
static vx_status from_web_identity(vx_aws_creds *p, vx_cred *out, vx_error *err)
{
    const char *arn = getenv("AWS_ROLE_ARN");
    const char *file = getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    if (arn && *arn && file && *file)
        return vx_aws_creds_from_web_identity(p->http, &p->cfg, arn, file,
                                              getenv("AWS_ROLE_SESSION_NAME"), out, err);
    char *parn = vx_aws_profile_get(p->cfg.profile, false, "role_arn");
    char *pfile = vx_aws_profile_get(p->cfg.profile, false, "web_identity_token_file");
    char *pname = vx_aws_profile_get(p->cfg.profile, false, "role_session_name");
    vx_status st = VX_ENOTFOUND;
    if (parn && pfile)
        st = vx_aws_creds_from_web_identity(p->http, &p->cfg, parn, pfile, pname, out, err);
    else
        set_err(err, st, "%s", "not set");
    free(parn);
    free(pfile);
    free(pname);
    return st;
}

static void set_source(vx_aws_creds *p, const char *what, const char *detail)
{
    pthread_mutex_lock(&p->mu);
    snprintf(p->source, sizeof p->source, "%s%s%.32s", what, detail ? " " : "",
             detail ? detail : "");
    pthread_mutex_unlock(&p->mu);
}

/* The chain: the first source that is configured decides (a configured
 * source that fails is the answer, as in the SDKs: falling through to IMDS
 * after a broken web identity would hide the real problem). */
static vx_status fetch(void *ud, vx_cred *out, vx_error *err)
{
    vx_aws_creds *p = ud;
    const vx_aws_config *c = &p->cfg;
    if (c->access_key_id) {
        set_source(p, "options", NULL);
        return fill(out, c->access_key_id, c->secret_access_key, c->session_token, 0)
                   ? VX_OK : VX_ENOMEM;
    }
    vx_error e = {0};
    char tried[sizeof e.message] = "";
    vx_status st = vx_aws_creds_from_env(out, &e);
    if (st == VX_OK)
        set_source(p, "environment", NULL);
    if (st == VX_ENOTFOUND) {
        snprintf(tried, sizeof tried, "environment: %.200s", e.message);
        st = vx_aws_creds_from_profile(c->profile, out, &e);
        if (st == VX_OK)
            set_source(p, "profile", vx_aws_profile_name(c->profile));
    }
    if (st == VX_ENOTFOUND) {
        snprintf(tried + strlen(tried), sizeof tried - strlen(tried), "; profile: %.200s", e.message);
        st = from_web_identity(p, out, &e);
        if (st == VX_OK)
            set_source(p, "web identity", NULL);
    }
    if (st == VX_ENOTFOUND) {
        snprintf(tried + strlen(tried), sizeof tried - strlen(tried), "; web identity: %.200s",
                 e.message);
        st = vx_aws_creds_from_container(p->http, 0, p->cfg.ca_file, out, &e);
        if (st == VX_OK)
            set_source(p, "container", NULL);
    }
    if (st == VX_ENOTFOUND) {
        snprintf(tried + strlen(tried), sizeof tried - strlen(tried), "; container: %.200s",
                 e.message);
        st = vx_aws_creds_from_imds(p->http, 0, out, &e);
        if (st == VX_OK)
            set_source(p, "imds", NULL);
    }
    if (st == VX_ENOTFOUND) {
        snprintf(tried + strlen(tried), sizeof tried - strlen(tried), "; imds: %.200s", e.message);
        set_err(err, st, "no AWS credentials found (%.220s)", tried);
    } else if (st != VX_OK && err) {
        *err = e;
    }
    return st;
}

vx_aws_creds *vx_aws_creds_new(const vx_aws_config *c)
{
    vx_aws_creds *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    vx_aws_config z = {0};
    if (!c)
        c = &z;
    p->cfg = *c;
    p->cfg.region = dup_or_null(c->region);
    p->cfg.endpoint = NULL;  /* the service's, not STS's */
    p->cfg.profile = dup_or_null(c->profile);
    p->cfg.access_key_id = dup_or_null(c->access_key_id);
    p->cfg.secret_access_key = dup_or_null(c->secret_access_key);
    p->cfg.session_token = dup_or_null(c->session_token);
    p->cfg.ca_file = vx_aws_resolve_ca_bundle(c->ca_file, c->profile);  /* STS too */
    p->http = vx_http_client_new();
    pthread_mutex_init(&p->mu, NULL);
    if (!p->http || (c->region && *c->region && !p->cfg.region) ||
        (c->profile && *c->profile && !p->cfg.profile) ||
        (c->access_key_id && *c->access_key_id &&
         (!p->cfg.access_key_id || !p->cfg.secret_access_key)) ||
        (c->ca_file && *c->ca_file && !p->cfg.ca_file)) {
        vx_aws_creds_free(p);
        return NULL;
    }
    vx_cred_cache_init(&p->cache, fetch, p, 0);
    p->pid = getpid();
    return p;
}

void vx_aws_creds_free(vx_aws_creds *p)
{
    if (!p)
        return;
    if (p->cache.fetch)
        vx_cred_cache_destroy(&p->cache);
    free((char *)p->cfg.region);
    free((char *)p->cfg.profile);
    wipe_free(p->cfg.access_key_id);
    wipe_free(p->cfg.secret_access_key);
    wipe_free(p->cfg.session_token);
    free((char *)p->cfg.ca_file);
    vx_http_client_free(p->http);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

vx_status vx_aws_creds_get(vx_aws_creds *p, vx_cred *out, vx_error *err)
{
    /* Exporters have no fork hook: a child whose parent forked during a
     * fetch would wait for it forever. */
    if (p->pid != getpid()) {
        vx_aws_creds_after_fork_child(p);
        p->pid = getpid();
    }
    return vx_cred_cache_get(&p->cache, out, err);
}

void vx_aws_creds_invalidate(vx_aws_creds *p)
{
    vx_cred_cache_invalidate(&p->cache);
}

void vx_aws_creds_source(vx_aws_creds *p, char *out, size_t cap)
{
    pthread_mutex_lock(&p->mu);
    snprintf(out, cap, "%s", p->source[0] ? p->source : "none yet");
    pthread_mutex_unlock(&p->mu);
}

void vx_aws_creds_after_fork_child(vx_aws_creds *p)
{
    if (!p)
        return;
    vx_cred_cache_after_fork_child(&p->cache);
    pthread_mutex_init(&p->mu, NULL);
    p->pid = getpid();
}
