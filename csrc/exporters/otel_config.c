/* The OpenTelemetry exporter's settings: its options (GOFF's tracerName and
 * vexil's own keys) over the OpenTelemetry SDK environment variables, the
 * signal-specific OTEL_EXPORTER_OTLP_TRACES_* over the generic OTEL_EXPORTER_
 * OTLP_*, as the OTLP exporter specification orders them. Messages name the
 * key or the variable, never a value: headers carry credentials. */
#include "exporters/otel.h"

#include "formats/protobuf.h"
#include "options.h"
#include "value.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_ENDPOINT "http://localhost:4318"
#define DEFAULT_TRACER "go-feature-flag"

/* OTEL_EXPORTER_OTLP_TRACES_<name>, else OTEL_EXPORTER_OTLP_<name>; *var
 * gets the one used (for messages). NULL when neither is set. */
static const char *otlp_env(const char *name, char *var, size_t cap)
{
    snprintf(var, cap, "OTEL_EXPORTER_OTLP_TRACES_%s", name);
    const char *v = getenv(var);
    if (!v || !*v) {
        snprintf(var, cap, "OTEL_EXPORTER_OTLP_%s", name);
        v = getenv(var);
    }
    return v && *v ? v : NULL;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* ---- "key=value,key2=value2" (OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES) */

typedef struct pair {
    char *key, *value;
} pair;

typedef struct pairs {
    pair *items;
    size_t n;
} pairs;

static void pairs_free(pairs *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->items[i].key);
        if (p->items[i].value) {
            OPENSSL_cleanse(p->items[i].value, strlen(p->items[i].value));
            free(p->items[i].value);
        }
    }
    free(p->items);
    p->items = NULL;
    p->n = 0;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

/* Percent-decoded copy of [s, e); NULL on a bad escape or no memory. */
static char *decode(const char *s, const char *e)
{
    char *out = malloc((size_t)(e - s) + 1), *o = out;
    for (; out && s < e; s++) {
        if (*s != '%') {
            *o++ = *s;
            continue;
        }
        int h = s + 2 < e ? hexval((unsigned char)s[1]) : -1;
        int l = h >= 0 ? hexval((unsigned char)s[2]) : -1;
        if (l < 0 || (h == 0 && l == 0)) {
            free(out);
            return NULL;
        }
        *o++ = (char)(h * 16 + l);
        s += 2;
    }
    if (out)
        *o = '\0';
    return out;
}

/* False with a message naming the variable and the entry. */
static bool parse_pairs(vx_opts *o, const char *var, const char *text, pairs *out)
{
    size_t entry = 0;
    for (const char *s = text; *s;) {
        const char *end = s + strcspn(s, ",");
        const char *eq = memchr(s, '=', (size_t)(end - s));
        entry++;
        const char *ks = s, *ke = eq ? eq : end;
        trim(&ks, &ke);
        if (ks == end || (ks == ke && !eq)) {  /* empty entry: tolerated, as SDKs do */
            s = *end ? end + 1 : end;
            continue;
        }
        const char *vs = eq ? eq + 1 : end, *ve = end;
        trim(&vs, &ve);
        char *key = eq && ks < ke ? strndup(ks, (size_t)(ke - ks)) : NULL;
        char *value = key ? decode(vs, ve) : NULL;
        pair *grown = value ? realloc(out->items, (out->n + 1) * sizeof *grown) : NULL;
        if (!grown) {
            free(key);
            free(value);
            return vx_opts_fail(o, VX_EINVAL, NULL,
                                "%s: entry %zu is not key=value (with %%-escapes)", var, entry);
        }
        out->items = grown;
        out->items[out->n++] = (pair){key, value};
        s = *end ? end + 1 : end;
    }
    return true;
}

/* ---- endpoint --------------------------------------------------------------------- */

static bool is_http_url(const char *u)
{
    return strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0;
}

/* The generic endpoint is a base: the spec appends v1/traces to its path. */
static char *traces_url(const char *base)
{
    size_t n = strlen(base);
    char *u = malloc(n + 11);
    if (u)
        snprintf(u, n + 11, "%s%sv1/traces", base, n && base[n - 1] == '/' ? "" : "/");
    return u;
}

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static bool read_endpoint(vx_opts *o, vx_otel_config *c)
{
    const char *traces = NULL, *base = NULL;
    vx_opts_string(o, "tracesEndpoint", false, &traces);
    vx_opts_string(o, "endpoint", false, &base);
    if (o->status != VX_OK)
        return false;
    if (traces || base) {
        const char *key = traces ? "tracesEndpoint" : "endpoint";
        if (!is_http_url(traces ? traces : base))
            return vx_opts_fail(o, VX_EINVAL, key, "must be an http:// or https:// URL");
    } else if ((traces = env_nonempty("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))) {
        if (!is_http_url(traces))
            return vx_opts_fail(o, VX_EINVAL, NULL, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: must "
                                                    "be an http:// or https:// URL");
    } else if ((base = env_nonempty("OTEL_EXPORTER_OTLP_ENDPOINT"))) {
        if (!is_http_url(base))
            return vx_opts_fail(o, VX_EINVAL, NULL, "OTEL_EXPORTER_OTLP_ENDPOINT: must be an "
                                                    "http:// or https:// URL");
    } else {
        base = DEFAULT_ENDPOINT;
    }
    c->url = traces ? strdup(traces) : traces_url(base);
    return c->url || vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
}

/* ---- headers ---------------------------------------------------------------------- */

static bool reserved_header(const char *name, size_t n)
{
    static const char *const names[] = {"Content-Type", "Content-Encoding", "Content-Length"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && strncasecmp(names[i], name, n) == 0)
            return true;
    return false;
}

static bool push_line(vx_otel_config *c, const char *line)
{
    char **h = realloc(c->headers, (c->n_headers + 2) * sizeof *h);
    if (!h)
        return false;
    c->headers = h;
    if (!(h[c->n_headers] = strdup(line)))
        return false;
    h[++c->n_headers] = NULL;
    return true;
}

static bool add_header(vx_otel_config *c, const char *name, size_t nlen, const char *value)
{
    if (reserved_header(name, nlen))
        return true;
    /* A later source replaces an earlier one's header of the same name. */
    for (size_t i = 0; i < c->n_headers; i++) {
        if (strncasecmp(c->headers[i], name, nlen) == 0 && c->headers[i][nlen] == ':') {
            OPENSSL_cleanse(c->headers[i], strlen(c->headers[i]));
            free(c->headers[i]);
            c->headers[i] = c->headers[--c->n_headers];
            c->headers[c->n_headers] = NULL;
            break;
        }
    }
    char **h = realloc(c->headers, (c->n_headers + 2) * sizeof *h);
    if (!h)
        return false;
    c->headers = h;
    size_t len = nlen + 2 + strlen(value) + 1;
    if (!(h[c->n_headers] = malloc(len)))
        return false;
    snprintf(h[c->n_headers], len, "%.*s: %s", (int)nlen, name, value);
    h[++c->n_headers] = NULL;
    return true;
}

static bool header_text_ok(const char *s)
{
    return !strpbrk(s, "\r\n");
}

static bool read_headers(vx_opts *o, vx_otel_config *c)
{
    char var[64];
    const char *env = otlp_env("HEADERS", var, sizeof var);
    pairs p = {0};
    bool ok = !env || parse_pairs(o, var, env, &p);
    for (size_t i = 0; ok && i < p.n; i++) {
        if (!header_text_ok(p.items[i].key) || !header_text_ok(p.items[i].value) ||
            strchr(p.items[i].key, ':')) {
            ok = vx_opts_fail(o, VX_EINVAL, NULL, "%s: entry %zu is not a valid header", var,
                              i + 1);
            break;
        }
        if (!add_header(c, p.items[i].key, strlen(p.items[i].key), p.items[i].value))
            ok = vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    }
    pairs_free(&p);
    char **lines = NULL;
    if (ok && vx_opts_headers(o, "headers", &lines)) {
        for (size_t i = 0; lines && lines[i] && ok; i++) {
            const char *colon = strchr(lines[i], ':');
            const char *v = colon + 1;
            while (*v == ' ')
                v++;
            if (!add_header(c, lines[i], (size_t)(colon - lines[i]), v))
                ok = vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
        }
    }
    vx_opts_free_list(lines);
    if (!ok || o->status != VX_OK)
        return false;
    /* Set by vexil whatever the others say (add_header skips these names). */
    bool added = push_line(c, "Content-Type: application/x-protobuf") &&
                 (!c->gzip || push_line(c, "Content-Encoding: gzip"));
    return added || vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
}

/* ---- the resource ----------------------------------------------------------------- */

static bool resource_value_ok(const vx_value *v)
{
    return v->type == VX_STRING || v->type == VX_BOOL || v->type == VX_INT ||
           v->type == VX_FLOAT;
}

/* service.name first, then the variable's attributes the option does not
 * set, then the option's. */
static bool read_resource(vx_opts *o, vx_otel_config *c)
{
    const char *service = NULL;
    vx_opts_string(o, "serviceName", false, &service);
    const vx_value *attrs = vx_opts_value(o, "resourceAttributes");
    if (attrs && attrs->type != VX_OBJECT)
        return vx_opts_fail(o, VX_EINVAL, "resourceAttributes", "must be an object");
    for (uint32_t i = 0; attrs && i < attrs->len; i++)
        if (!resource_value_ok(&attrs->u.members[i].value))
            return vx_opts_fail(o, VX_EINVAL, "resourceAttributes",
                                "values must be strings, numbers or booleans");
    pairs p = {0};
    const char *env = getenv("OTEL_RESOURCE_ATTRIBUTES");
    if (o->status != VX_OK ||
        (env && *env && !parse_pairs(o, "OTEL_RESOURCE_ATTRIBUTES", env, &p)))
        return false;
    const char *env_service = getenv("OTEL_SERVICE_NAME");
    const vx_value *opt_service = attrs ? vx_object_get(attrs, "service.name", 12) : NULL;
    vx_value sv;
    if (service)
        sv = vx_make_string(service, strlen(service));
    else if (opt_service)
        sv = *opt_service;
    else if (env_service && *env_service)
        sv = vx_make_string(env_service, strlen(env_service));
    else
        sv = vx_make_string("unknown_service", 15);
    for (size_t i = 0; !service && !opt_service && !(env_service && *env_service) && i < p.n; i++)
        if (strcmp(p.items[i].key, "service.name") == 0)
            sv = vx_make_string(p.items[i].value, strlen(p.items[i].value));
    vx_buf *b = &c->resource;
    vx_otel_put_kv(b, 1, "service.name", 12, &sv);
    for (size_t i = 0; i < p.n; i++) {
        const char *k = p.items[i].key;
        if (strcmp(k, "service.name") == 0 || (attrs && vx_object_get(attrs, k, strlen(k))))
            continue;
        vx_value v = vx_make_string(p.items[i].value, strlen(p.items[i].value));
        vx_otel_put_kv(b, 1, k, strlen(k), &v);
    }
    for (uint32_t i = 0; attrs && i < attrs->len; i++) {
        const vx_member *m = &attrs->u.members[i];
        if (!(m->key_len == 12 && memcmp(m->key, "service.name", 12) == 0))
            vx_otel_put_kv(b, 1, m->key, m->key_len, &m->value);
    }
    pairs_free(&p);
    return !b->failed || vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
}

/* ---- numbers, enums and TLS --------------------------------------------------------- */

/* A positive integer variable; false (error recorded) when it is not one. */
static bool env_ms(vx_opts *o, const char *var, const char *text, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v <= 0 || v > INT32_MAX)
        return vx_opts_fail(o, VX_EINVAL, NULL, "%s: must be a positive number of milliseconds",
                            var);
    *out = v;
    return true;
}

static bool read_transport(vx_opts *o, vx_logger *log, vx_otel_config *c)
{
    char var[64];
    const char *env;
    c->timeout_ms = 10000;
    if ((env = otlp_env("TIMEOUT", var, sizeof var)) && !env_ms(o, var, env, &c->timeout_ms))
        return false;
    vx_opts_int(o, "timeout", 1, INT32_MAX, &c->timeout_ms);

    static const char *const codecs[] = {"none", "gzip", NULL};
    int codec = 0;
    if ((env = otlp_env("COMPRESSION", var, sizeof var))) {
        if (strcasecmp(env, "gzip") != 0 && strcasecmp(env, "none") != 0)
            return vx_opts_fail(o, VX_EINVAL, NULL, "%s: must be gzip or none", var);
        codec = strcasecmp(env, "gzip") == 0;
    }
    vx_opts_enum(o, "compression", codecs, &codec);
    c->gzip = codec == 1;

    static const char *const protocols[] = {"http/protobuf", NULL};
    int protocol = 0;
    vx_opts_enum(o, "protocol", protocols, &protocol);
    if (!vx_opts_has(o, "protocol") && (env = otlp_env("PROTOCOL", var, sizeof var)) &&
        strcmp(env, "http/protobuf") != 0)
        vx_logf(log, VX_LOG_WARN,
                "opentelemetry exporter: %s asks for %.40s; vexil sends http/protobuf to %s",
                var, env, "the traces endpoint");

    const char *ca = otlp_env("CERTIFICATE", var, sizeof var);
    const char *cert = otlp_env("CLIENT_CERTIFICATE", var, sizeof var);
    const char *key = otlp_env("CLIENT_KEY", var, sizeof var);
    vx_opts_string(o, "caFile", false, &ca);
    vx_opts_string(o, "clientCertFile", false, &cert);
    vx_opts_string(o, "clientKeyFile", false, &key);
    vx_opts_bool(o, "insecureSkipVerify", &c->insecure_skip_verify);
    if (o->status != VX_OK)
        return false;
    if ((ca && !(c->ca_file = strdup(ca))) || (cert && !(c->client_cert_file = strdup(cert))) ||
        (key && !(c->client_key_file = strdup(key))))
        return vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    return true;
}

static const char *const samplers[] = {
    "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio",
    "always_on", "always_off", "traceidratio", NULL};

static bool ratio_of(const char *text, double *out)
{
    char *end;
    double r = strtod(text, &end);
    if (end == text || *end || !(r >= 0 && r <= 1))
        return false;
    *out = r;
    return true;
}

/* OTEL_TRACES_SAMPLER's names; an unknown or bad variable is the SDK's
 * business too, so it only warns; the option's own keys fail. */
static bool read_sampler(vx_opts *o, vx_logger *log, vx_otel_config *c)
{
    int which = 0;
    double ratio = 1.0;
    const char *env = getenv("OTEL_TRACES_SAMPLER");
    if (env && *env) {
        int i = 0;
        while (samplers[i] && strcasecmp(samplers[i], env) != 0)
            i++;
        if (samplers[i])
            which = i;
        else
            vx_logf(log, VX_LOG_WARN, "opentelemetry exporter: OTEL_TRACES_SAMPLER %.40s is not "
                                      "one vexil knows; using parentbased_always_on", env);
    }
    const char *arg = getenv("OTEL_TRACES_SAMPLER_ARG");
    if (arg && *arg && !ratio_of(arg, &ratio))
        vx_logf(log, VX_LOG_WARN, "opentelemetry exporter: OTEL_TRACES_SAMPLER_ARG is not a "
                                  "ratio in [0, 1]; using 1.0");
    vx_opts_enum(o, "sampler", samplers, &which);
    const vx_value *a = vx_opts_value(o, "samplerArg");
    if (a) {
        double r = a->type == VX_FLOAT ? a->u.f : a->type == VX_INT ? (double)a->u.i : -1;
        if (!(r >= 0 && r <= 1))
            return vx_opts_fail(o, VX_EINVAL, "samplerArg", "must be a ratio in [0, 1]");
        ratio = r;
    }
    c->parent_based = which < 3;
    int root = which % 3;
    c->root_sampler = root == 0 ? VX_OTEL_ALWAYS_ON : root == 1 ? VX_OTEL_ALWAYS_OFF
                                                                : VX_OTEL_RATIO;
    /* As OpenTelemetry's TraceIdRatioBased: the trace id's low 63 bits
     * against ratio * 2^63. */
    if (c->root_sampler == VX_OTEL_RATIO) {
        if (ratio >= 1)
            c->root_sampler = VX_OTEL_ALWAYS_ON;
        else
            c->ratio_bound = (uint64_t)(ratio * 9223372036854775808.0);
    }
    return o->status == VX_OK;
}

/* ---- all of it --------------------------------------------------------------------- */

static bool read_span_keys(vx_opts *o, vx_otel_config *c)
{
    const char *tracer = DEFAULT_TRACER, *provider = "vexil";
    vx_opts_string(o, "tracerName", false, &tracer);
    vx_opts_string(o, "providerName", false, &provider);
    if (o->status == VX_OK && !*tracer)
        tracer = DEFAULT_TRACER;  /* GOFF: "" means the default */
    c->evaluation_event = true;
    vx_opts_bool(o, "evaluationEvent", &c->evaluation_event);
    vx_opts_bool(o, "resultValue", &c->result_value);
    int64_t spans = 512, bytes = 4 << 20;
    vx_opts_int(o, "maxSpansPerRequest", 1, 100000, &spans);
    vx_opts_int(o, "maxRequestBytes", 1024, 1 << 30, &bytes);
    c->max_spans = (size_t)spans;
    c->max_bytes = (size_t)bytes;
    if (o->status != VX_OK)
        return false;
    if (!(c->tracer_name = strdup(tracer)) || !(c->provider_name = strdup(provider)))
        return vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
    vx_pb_put_string(&c->scope, 1, c->tracer_name, strlen(c->tracer_name));
    return !c->scope.failed || vx_opts_fail(o, VX_ENOMEM, NULL, "out of memory");
}

bool vx_otel_config_read(vx_opts *o, vx_logger *log, vx_otel_config *c)
{
    memset(c, 0, sizeof *c);
    vx_buf_init(&c->resource);
    vx_buf_init(&c->scope);
    bool ok = read_span_keys(o, c) && read_endpoint(o, c) && read_transport(o, log, c) &&
              read_headers(o, c) && read_resource(o, c) && read_sampler(o, log, c);
    if (!ok)
        vx_otel_config_free(c);
    return ok;
}

void vx_otel_config_free(vx_otel_config *c)
{
    free(c->url);
    for (size_t i = 0; i < c->n_headers; i++) {
        OPENSSL_cleanse(c->headers[i], strlen(c->headers[i]));
        free(c->headers[i]);
    }
    free(c->headers);
    free(c->tracer_name);
    free(c->provider_name);
    free(c->ca_file);
    free(c->client_cert_file);
    free(c->client_key_file);
    vx_buf_free(&c->resource);
    vx_buf_free(&c->scope);
    memset(c, 0, sizeof *c);
}
