/* Region and endpoint resolution, and the AWS keys every AWS kind reads. */
#include "cloud/aws.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

char *vx_aws_resolve_region(const char *option, const char *profile)
{
    const char *r = option && *option ? option : NULL;
    if (!r)
        r = env_nonempty("AWS_REGION");
    if (!r)
        r = env_nonempty("AWS_DEFAULT_REGION");
    if (r)
        return strdup(r);
    return vx_aws_profile_get(profile, false, "region");
}

static char *without_trailing_slash(const char *s)
{
    size_t n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        n--;
    return strndup(s, n);
}

char *vx_aws_resolve_endpoint(const char *option, const char *service, const char *region,
                              const char *profile, bool *custom)
{
    if (custom)
        *custom = true;
    if (option && *option)
        return without_trailing_slash(option);
    const char *ignore = getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    if (!ignore || strcasecmp(ignore, "true") != 0) {
        char name[64] = "AWS_ENDPOINT_URL_";
        size_t at = strlen(name);
        for (const char *p = service; *p && at < sizeof name - 1; p++)
            name[at++] = *p == '-' || *p == ' ' ? '_'
                         : (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
        name[at] = '\0';
        const char *e = env_nonempty(name);
        if (!e)
            e = env_nonempty("AWS_ENDPOINT_URL");
        if (e)
            return without_trailing_slash(e);
        char *p = vx_aws_profile_get(profile, false, "endpoint_url");
        if (p) {
            char *out = without_trailing_slash(p);
            free(p);
            return out;
        }
    }
    if (custom)
        *custom = false;
    const char *suffix = region && strncmp(region, "cn-", 3) == 0 ? "amazonaws.com.cn"
                                                                    : "amazonaws.com";
    char url[256];
    snprintf(url, sizeof url, "https://%s.%s.%s", service, region ? region : "us-east-1", suffix);
    return strdup(url);
}

char *vx_aws_resolve_ca_bundle(const char *option, const char *profile)
{
    const char *v = option && *option ? option : env_nonempty("AWS_CA_BUNDLE");
    if (v)
        return strdup(v);
    return vx_aws_profile_get(profile, false, "ca_bundle");
}

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void vx_aws_options_release(vx_aws_options *a)
{
    if (!a)
        return;
    wipe_free(a->key_id);
    wipe_free(a->secret);
    wipe_free(a->token);
    memset(a, 0, sizeof *a);
}

bool vx_aws_options_read(vx_opts *o, vx_aws_options *a)
{
    memset(a, 0, sizeof *a);
    vx_aws_config *c = &a->config;
    vx_opts_string(o, "region", false, &c->region);
    vx_opts_string(o, "endpoint", false, &c->endpoint);
    vx_opts_string(o, "profile", false, &c->profile);
    vx_opts_secret(o, "accessKeyId", false, &a->key_id);
    vx_opts_secret(o, "secretAccessKey", false, &a->secret);
    vx_opts_secret(o, "sessionToken", false, &a->token);
    /* An empty key is no key: bindings pass "" for "not given" too. */
    char **fields[] = {&a->key_id, &a->secret, &a->token};
    for (size_t i = 0; i < 3; i++)
        if (*fields[i] && !**fields[i]) {
            free(*fields[i]);
            *fields[i] = NULL;
        }
    vx_opts_int(o, "timeout", 1, INT32_MAX, &c->timeout_ms);
    vx_opts_string(o, "caFile", false, &c->ca_file);
    vx_opts_bool(o, "insecureSkipVerify", &c->insecure_skip_verify);
    if (o->status == VX_OK && (!a->key_id != !a->secret))
        vx_opts_fail(o, VX_EINVAL, a->key_id ? "secretAccessKey" : "accessKeyId",
                     "accessKeyId and secretAccessKey go together");
    if (o->status == VX_OK && a->token && !a->key_id)
        vx_opts_fail(o, VX_EINVAL, "sessionToken", "needs accessKeyId and secretAccessKey");
    if (o->status == VX_OK && c->endpoint && *c->endpoint &&
        strncasecmp(c->endpoint, "http://", 7) != 0 && strncasecmp(c->endpoint, "https://", 8) != 0)
        vx_opts_fail(o, VX_EINVAL, "endpoint", "must start with http:// or https://");
    if (o->status != VX_OK) {
        vx_aws_options_release(a);
        return false;
    }
    c->access_key_id = a->key_id;
    c->secret_access_key = a->secret;
    c->session_token = a->token;
    return true;
}
