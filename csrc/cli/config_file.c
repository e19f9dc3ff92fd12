/* The command's GOFF configuration files: `vexil eval --config-file FILE`
 * sets the engine up as the file says (retrievers, polling settings,
 * exporters, notifiers) before evaluating; `vexil lint --config-file FILE`
 * checks the file, every kind's keys, and every flag file its retrievers
 * point to. Warnings (ignored server keys, unknown keys) go to stderr. */
#include "cli.h"

#include "live.h"
#include "engine.h"
#include "retrievers/retriever.h"

#include <stdio.h>
#include <string.h>

void cli_print_config_file_usage(void)
{
    fputs("  vexil eval --config-file FILE [--flagset NAME] --flag KEY|--all [eval options]\n"
          "  vexil lint --config-file FILE [--flagset NAME]\n"
          "             FILE is a GO Feature Flag configuration (goff-proxy.yaml; YAML,\n"
          "             JSON or TOML by extension): its retrievers, pollingInterval,\n"
          "             exporters and notifiers set the engine up; GOFF's environment\n"
          "             overrides apply (RETRIEVERS_0_PATH=...).\n",
          stdout);
}

static int read_file(const char *path, const char *flagset, vx_config_file **cf)
{
    vx_config_file_options o;
    vx_config_file_options_init(&o);
    o.flagset = flagset;
    vx_error err = {0};
    vx_status st = vx_config_file_read(path, &o, cf, &err);
    if (st != VX_OK) {
        cli_print_load_error(path, st, &err);
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* As the relay proxy logs: info too (the log exporter's lines, GOFF's
 * "flag added" lines), on stderr, so stdout keeps only the results. */
static void log_info_to_stderr(void *user_data, vx_log_level level, const char *message)
{
    (void)user_data;
    const char *name = level >= VX_LOG_ERROR ? "error" : level >= VX_LOG_WARN ? "warning" : "info";
    fprintf(stderr, "vexil: %s: %s\n", name, message);
}

int cli_setup_config_file(vx_engine *e, const char *path, const char *flagset)
{
    vx_engine_set_logger(e, VX_LOG_INFO, log_info_to_stderr, NULL);
    vx_config_file *cf = NULL;
    int rc = read_file(path, flagset, &cf);
    if (rc != CLI_OK)
        return rc;
    vx_error err = {0};
    /* Its messages reach the engine's logger (stderr) as it is applied. */
    vx_status st = vx_config_file_apply(cf, e, &err);
    if (st == VX_OK) {
        vx_refresh_options ro;
        vx_config_file_refresh_options(cf, &ro);
        st = vx_engine_start(e, &ro, &err);
    }
    vx_config_file_free(cf);
    if (st != VX_OK) {
        /* Messages name key paths and retrievers, never URLs or secrets. */
        fprintf(stderr, "vexil: %s: %s\n", path, err.message);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static void log_to_stderr(void *user_data, vx_log_level level, const char *message)
{
    (void)user_data;
    fprintf(stderr, "vexil: %s: %s\n", level >= VX_LOG_ERROR ? "error" : "warning", message);
}

/* Fetches retriever i once and prints its invalid flags; CLI_INVALID when
 * there are some, CLI_USAGE when it cannot be fetched or parsed. */
static int lint_retriever(vx_retriever *r, size_t i)
{
    char who[64];
    vx_retriever_describe(r, i, who, sizeof who);
    vx_error err = {0};
    bool changed = false;
    vx_status st = vx_retriever_fetch(r, i, vx_live_now_ms() + 30000, NULL, &changed, &err);
    vx_config *cfg = NULL;
    if (st == VX_OK) {
        vx_config_source src = vx_retriever_source(r);
        st = vx_config_parse(src.data, src.len, src.format, &cfg, &err);
        if (st != VX_OK && err.line > 0) {
            fprintf(stderr, "vexil: %s:%d:%d: %s\n", who, err.line, err.column, err.message);
            return CLI_USAGE;
        }
    }
    if (st != VX_OK) {
        /* A fetch error already names the retriever. */
        fprintf(stderr, "vexil: %s%s%s\n", strncmp(err.message, who, strlen(who)) ? who : "",
                strncmp(err.message, who, strlen(who)) ? ": " : "", err.message);
        return CLI_USAGE;
    }
    size_t n = vx_config_invalid_count(cfg);
    for (size_t k = 0; k < n; k++)
        printf("%s: %s: %s\n", who, vx_config_invalid_key(cfg, k), vx_config_invalid_reason(cfg, k));
    vx_config_free(cfg);
    return n ? CLI_INVALID : CLI_OK;
}

int cli_lint_config_file(const char *path, const char *flagset)
{
    vx_config_file *cf = NULL;
    int rc = read_file(path, flagset, &cf);
    if (rc != CLI_OK)
        return rc;
    vx_engine *e = NULL;
    if (vx_engine_new(&e) != VX_OK) {
        vx_config_file_free(cf);
        fputs("vexil: out of memory\n", stderr);
        return CLI_USAGE;
    }
    /* The file's warnings, and the kinds' own, go to stderr as it is applied. */
    vx_error err = {0};
    vx_engine_set_logger(e, VX_LOG_WARN, log_to_stderr, NULL);
    vx_status st = vx_config_file_apply(cf, e, &err);
    vx_config_file_free(cf);
    if (st != VX_OK) {
        fprintf(stderr, "vexil: %s: %s\n", path, err.message);
        vx_engine_free(e);
        return CLI_USAGE;
    }
    vx_live *l = vx_engine_live(e);
    for (size_t i = 0; i < l->nr && rc != CLI_USAGE; i++) {
        int r = lint_retriever(l->rs[i], i);
        if (r != CLI_OK)
            rc = r;
    }
    vx_engine_close(e, 0);
    vx_engine_free(e);
    return rc;
}
