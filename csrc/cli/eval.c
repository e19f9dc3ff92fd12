/* `vexil eval`: evaluate one flag, every flag (--all) or a from-env flag, and
 * print the result as one JSON object per line, in GOFF's field spelling. */
#include "cli.h"

#include "json.h"
#include "value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct eval_opts {
    const char *config, *url, *format, *flag, *type, *def, *context;
    const char *environment, *enrichment, *export_dir, *export_format, *timeout;
    const char *config_file, *flagset;
    cli_list headers, exporters, exports, retrievers;
    bool all, env, export_log, insecure, help;
} eval_opts;

/* The options that may repeat. */
static int take_repeated(int argc, char **argv, int *i, eval_opts *o, bool *matched)
{
    const struct {
        const char *name;
        cli_list *list;
    } repeated[] = {{"--header", &o->headers}, {"--exporter", &o->exporters},
                    {"--export", &o->exports}, {"--retriever", &o->retrievers}};
    for (size_t k = 0; k < sizeof repeated / sizeof repeated[0]; k++) {
        int rc = cli_opt_repeat(argc, argv, i, repeated[k].name, repeated[k].list, matched);
        if (rc != CLI_OK || *matched)
            return rc;
    }
    return CLI_OK;
}

static int check_headers(const cli_list *headers)
{
    for (size_t i = 0; i < headers->n; i++) {
        const char *v = headers->items[i];
        if (!strchr(v, ':') || v[0] == ':' || strpbrk(v, "\r\n"))
            return cli_usage_error("--header must be \"Name: value\"");
    }
    return CLI_OK;
}

static int parse_args(int argc, char **argv, eval_opts *o)
{
    static const struct {
        const char *name;
        size_t offset;
    } valued[] = {
        {"--config", offsetof(eval_opts, config)},
        {"--url", offsetof(eval_opts, url)},
        {"--timeout", offsetof(eval_opts, timeout)},
        {"--format", offsetof(eval_opts, format)},
        {"--flag", offsetof(eval_opts, flag)},
        {"--type", offsetof(eval_opts, type)},
        {"--default", offsetof(eval_opts, def)},
        {"--context", offsetof(eval_opts, context)},
        {"--environment", offsetof(eval_opts, environment)},
        {"--enrichment", offsetof(eval_opts, enrichment)},
        {"--export-file", offsetof(eval_opts, export_dir)},
        {"--export-format", offsetof(eval_opts, export_format)},
        {"--config-file", offsetof(eval_opts, config_file)},
        {"--flagset", offsetof(eval_opts, flagset)},
    };
    for (int i = 0; i < argc; i++) {
        bool matched = false, missing = false;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0] && !matched; k++) {
            const char **slot = (const char **)(void *)((char *)o + valued[k].offset);
            matched = cli_opt_value(argc, argv, &i, valued[k].name, slot, &missing);
            if (missing)
                return cli_usage_error("%s needs a value", valued[k].name);
        }
        if (matched)
            continue;
        int rc = take_repeated(argc, argv, &i, o, &matched);
        if (rc != CLI_OK || matched) {
            if (rc != CLI_OK)
                return rc;
            continue;
        }
        if (strcmp(argv[i], "--all") == 0)
            o->all = true;
        else if (strcmp(argv[i], "--env") == 0)
            o->env = true;
        else if (strcmp(argv[i], "--export-log") == 0)
            o->export_log = true;
        else if (strcmp(argv[i], "--insecure") == 0)
            o->insecure = true;
        else if (cli_is_help(argv[i]))
            o->help = true;
        else
            return cli_usage_error("unknown eval option \"%s\"", argv[i]);
    }
    return CLI_OK;
}

static int check_args(const eval_opts *o)
{
    bool retrieving = o->retrievers.n > 0 || o->config_file;
    if (o->config_file && (o->config || o->url || o->retrievers.n || o->env))
        return cli_usage_error("--config-file takes neither --config, --url, --retriever nor --env");
    if (o->flagset && !o->config_file)
        return cli_usage_error("--flagset goes with --config-file");
    if (o->env && (o->config || o->url || retrieving || o->all))
        return cli_usage_error("--env takes neither --config, --url, --retriever nor --all");
    if ((o->config != NULL) + (o->url != NULL) + retrieving > 1)
        return cli_usage_error("--config, --url and --retriever exclude each other");
    if (!o->env && !o->config && !o->url && !retrieving)
        return cli_usage_error("eval needs --config FILE, --url URL, --retriever JSON or --env");
    if (!o->url && (o->headers.n || o->insecure))
        return cli_usage_error("--header and --insecure go with --url");
    if (!o->url && !retrieving && o->timeout)
        return cli_usage_error("--timeout goes with --url or --retriever");
    if (o->all && o->flag)
        return cli_usage_error("--all and --flag exclude each other");
    if (!o->all && !o->flag)
        return cli_usage_error("eval needs --flag KEY or --all");
    if (o->export_format && !o->export_dir)
        return cli_usage_error("--export-format needs --export-file");
    if (o->export_format && strcmp(o->export_format, "json") && strcmp(o->export_format, "csv") &&
        strcmp(o->export_format, "parquet"))
        return cli_usage_error("unknown export format \"%s\" (json, csv or parquet)",
                               o->export_format);
    return check_headers(&o->headers);
}

static bool parse_type(const char *s, vx_type *out)
{
    static const char *const names[] = {"any", "bool", "string", "int", "float", "object"};
    for (int i = 0; i < 6; i++) {
        if (strcmp(s ? s : "any", names[i]) == 0) {
            *out = (vx_type)i;
            return true;
        }
    }
    return false;
}

/* The SDK default as GOFF's typed API has it: a default of another type
 * stands for the type's zero value (what the typed Go call would pass). */
static const vx_value *typed_default(const vx_value *d, vx_type t)
{
    static const vx_value zero_int = {.type = VX_INT};
    static const vx_value zero_float = {.type = VX_FLOAT};
    switch (t) {
    case VX_TYPE_BOOL:
        return d->type == VX_BOOL ? d : &vx_false_value;
    case VX_TYPE_STRING:
        return d->type == VX_STRING ? d : &vx_empty_string_value;
    case VX_TYPE_INT:
        return vx_is_number(d) ? d : &zero_int;
    case VX_TYPE_FLOAT:
        return vx_is_number(d) ? d : &zero_float;
    case VX_TYPE_OBJECT:
        return d->type == VX_OBJECT || d->type == VX_ARRAY ? d : &vx_null_value;
    default:
        return d;
    }
}

static void put_str(vx_buf *b, const char *key, const char *s)
{
    vx_buf_printf(b, ",\"%s\":", key);
    vx_json_write_string(b, s ? s : "", s ? strlen(s) : 0);
}

static void print_result(const char *key, const vx_result *r)
{
    vx_buf b;
    vx_buf_init(&b);
    vx_buf_puts(&b, "{\"key\":");
    vx_json_write_string(&b, key, strlen(key));
    vx_buf_puts(&b, ",\"value\":");
    vx_json_write(&b, r->value);
    put_str(&b, "variant", r->variant);
    put_str(&b, "reason", vx_reason_name(r->reason));
    put_str(&b, "errorCode", vx_error_code_name(r->error_code));
    put_str(&b, "errorMessage", r->error_message);
    put_str(&b, "version", r->version);
    vx_buf_puts(&b, ",\"metadata\":");
    vx_json_write(&b, r->metadata ? r->metadata : &vx_null_value);
    vx_buf_printf(&b, ",\"trackEvents\":%s,\"cacheable\":%s}\n", r->track_events ? "true" : "false",
                  r->cacheable ? "true" : "false");
    if (!b.failed)
        fwrite(b.data, 1, b.len, stdout);
    vx_buf_free(&b);
}

static int add_exporters(vx_engine *e, const eval_opts *o)
{
    vx_exporter_ops ops;
    void *ud = NULL;
    vx_error err = {0};
    vx_exporter_options opts;
    if (o->export_dir) {
        vx_file_exporter_config fc = {.output_dir = o->export_dir, .format = o->export_format};
        vx_exporter_options_init(&opts);
        if (vx_file_exporter_new(&fc, &ops, &ud, &err) != VX_OK ||
            vx_engine_add_exporter(e, &opts, &ops, ud, NULL) != VX_OK)
            return cli_usage_error("cannot export to %s: %s", o->export_dir, err.message);
    }
    if (o->export_log) {
        vx_log_exporter_config lc = {0};
        vx_exporter_options_init(&opts);
        opts.bulk = false;
        if (vx_log_exporter_new(&lc, &ops, &ud, &err) != VX_OK ||
            vx_engine_add_exporter(e, &opts, &ops, ud, NULL) != VX_OK)
            return cli_usage_error("cannot export to the log: %s", err.message);
    }
    return cli_add_builtins(e, &o->exporters, &o->exports, &o->retrievers);
}

static void log_to_stderr(void *user_data, vx_log_level level, const char *message)
{
    (void)user_data;
    fprintf(stderr, "vexil: %s: %s\n", level >= VX_LOG_ERROR ? "error" : "warning", message);
}

/* One retrieval, no polling: the configuration as the sources have it now
 * (the --url retriever, or those of --retriever, already added). */
static int fetch(vx_engine *e, const eval_opts *o, vx_format fmt)
{
    char *end = NULL;
    double secs = o->timeout ? strtod(o->timeout, &end) : 10.0;
    if (o->timeout && (end == o->timeout || *end || !(secs > 0) || secs > 86400))
        return cli_usage_error("--timeout must be a number of seconds");
    vx_error err = {0};
    vx_status st = VX_OK;
    if (o->url) {
        vx_http_retriever_config hc = {
            .url = o->url, .headers = o->headers.n ? o->headers.items : NULL,
            .insecure_skip_verify = o->insecure, .format = fmt,
            .timeout_ms = (int64_t)(secs * 1000),
        };
        st = vx_engine_add_http_retriever(e, &hc, &err);
    }
    vx_refresh_options ro;
    vx_refresh_options_init(&ro);
    ro.poll_interval_ms = 0;
    ro.start_timeout_ms = (int64_t)(secs * 1000);
    if (st == VX_OK)
        st = vx_engine_start(e, &ro, &err);
    if (st != VX_OK) {
        /* The message never holds the URL: it may carry credentials. */
        fprintf(stderr, "vexil: cannot load the configuration from the %s: %s\n",
                o->url ? "URL" : "retrievers", err.message);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int setup_engine(vx_engine *e, const eval_opts *o)
{
    vx_format fmt;
    vx_engine_set_logger(e, VX_LOG_WARN, log_to_stderr, NULL);
    if (!cli_parse_format(o->format, &fmt))
        return cli_usage_error("unknown format \"%s\" (json, yaml or toml)", o->format);
    if (o->environment)
        vx_engine_set_environment(e, o->environment);
    if (o->enrichment) {
        vx_doc *d = vx_doc_new();
        vx_error err = {0};
        const vx_value *root;
        if (!d || vx_doc_parse_json(d, o->enrichment, strlen(o->enrichment), &err) != VX_OK ||
            (root = vx_doc_root(d))->type != VX_OBJECT) {
            vx_doc_free(d);
            return cli_usage_error("--enrichment must be a JSON object");
        }
        vx_engine_set_enrichment(e, root);
        vx_doc_free(d);
    }
    int rc = add_exporters(e, o);
    if (rc != CLI_OK)
        return rc;
    if (o->env)
        return vx_engine_use_env(e) == VX_OK ? CLI_OK : CLI_USAGE;
    if (o->config_file)
        return cli_setup_config_file(e, o->config_file, o->flagset);
    if (o->url || o->retrievers.n)
        return fetch(e, o, fmt);
    vx_error err = {0};
    vx_status st = vx_engine_load_file(e, o->config, fmt, &err);
    if (st != VX_OK) {
        cli_print_load_error(o->config, st, &err);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static void eval_one(vx_engine *e, const char *key, vx_type t, vx_context *ctx,
                     const vx_value *def)
{
    vx_result r;
    vx_engine_eval(e, key, t, ctx, def, &r);
    print_result(key, &r);
    vx_result_release(&r);
}

static void eval_all(vx_engine *e, vx_type t, vx_context *ctx, const vx_value *def)
{
    vx_config *cfg = vx_engine_get_config(e);
    for (size_t i = 0; i < vx_config_flag_count(cfg); i++)
        eval_one(e, vx_config_flag_key(cfg, i), t, ctx, def);
    vx_config_free(cfg);
}

static int run(vx_engine *e, const eval_opts *o, vx_type t)
{
    int rc = setup_engine(e, o);
    if (rc != CLI_OK)
        return rc;
    vx_doc *defdoc = vx_doc_new();
    vx_context *ctx = NULL;
    vx_error err = {0};
    const char *def = o->def ? o->def : "null";
    const char *ctxs = o->context ? o->context : "{}";
    if (!defdoc || vx_doc_parse_json(defdoc, def, strlen(def), &err) != VX_OK)
        rc = cli_usage_error("--default is not JSON: %s", err.message);
    else if (vx_context_parse_json(ctxs, strlen(ctxs), &ctx, &err) != VX_OK)
        rc = cli_usage_error("--context must be a JSON object: %s", err.message);
    if (rc == CLI_OK) {
        const vx_value *d = typed_default(vx_doc_root(defdoc), t);
        if (o->all)
            eval_all(e, t, ctx, d);
        else
            eval_one(e, o->flag, t, ctx, d);
    }
    vx_context_free(ctx);
    vx_doc_free(defdoc);
    return rc;
}

int cli_eval(int argc, char **argv)
{
    eval_opts o = {0};
    vx_type t;
    int rc = parse_args(argc, argv, &o);
    if (rc == CLI_OK && o.help) {
        cli_print_usage();
        return CLI_OK;
    }
    if (rc == CLI_OK)
        rc = check_args(&o);
    if (rc != CLI_OK)
        return rc;
    if (!parse_type(o.type, &t))
        return cli_usage_error("unknown type \"%s\"", o.type);
    vx_engine *e = NULL;
    if (vx_engine_new(&e) != VX_OK) {
        fputs("vexil: out of memory\n", stderr);
        return CLI_USAGE;
    }
    rc = run(e, &o, t);
    fflush(stdout);
    /* Closing delivers the events of the evaluations to the exporters. */
    vx_engine_close(e, 10000);
    vx_engine_free(e);
    return rc;
}
