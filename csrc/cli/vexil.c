/* `vexil`: evaluate GOFF flag files and lint them from the shell. */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cli_print_usage(void)
{
    fputs("usage:\n"
          "  vexil eval --config FILE [--format json|yaml] --flag KEY [--type TYPE]\n"
          "             [--default JSON] [--context JSON] [--environment NAME]\n"
          "             [--enrichment JSON] [--export-file DIR [--export-format json|csv|parquet]]\n"
          "             [--export-log] [--export URL]... [--exporter JSON]...\n"
          "  vexil eval --config FILE --all [same options, no --flag]\n"
          "  vexil eval --url URL [--header \"Name: value\"]... [--insecure]\n"
          "             [--timeout SECONDS] [same options as --config]\n"
          "  vexil eval --retriever JSON... [--timeout SECONDS] [same options as --config]\n"
          "  vexil eval --env --flag KEY [--type TYPE] [--default JSON] [--context JSON]\n"
          "  vexil lint FILE [--format json|yaml]\n",
          stdout);
    cli_print_config_file_usage();
    fputs("  vexil --help | --version\n"
          "\n"
          "TYPE is bool, string, int, float, object or any (default any). --default is\n"
          "JSON (default null), --context a JSON object (default {}), whose targetingKey\n"
          "is the targeting key. eval prints one JSON object per evaluation:\n"
          "  {\"key\",\"value\",\"variant\",\"reason\",\"errorCode\",\"errorMessage\",\"version\",\n"
          "   \"metadata\",\"trackEvents\",\"cacheable\"}\n"
          "--env reads the flag from the environment variable named after it.\n"
          "--url fetches the configuration once over HTTP(S) (format from the URL's\n"
          "extension or the content); --timeout defaults to 10 seconds; --insecure\n"
          "skips TLS certificate verification.\n"
          "--retriever, --exporter: a built-in kind and its GOFF keys, as JSON\n"
          "({\"kind\":\"file\",\"path\":\"flags.yaml\"}); retrievers merge in order.\n"
          "--export: an exporter as a URL (file:///dir?format=csv,\n"
          "s3://bucket/path?format=parquet, otlp+http://collector:4318,\n"
          "kinesis://stream-name, sqs://queue-name?accountId=123456789012); each\n"
          "may repeat.\n"
          "lint prints \"<flag>: <reason>\" per invalid flag.\n"
          "\n"
          "exit status: 0 ok; 1 lint found invalid flags; 2 usage error or a\n"
          "configuration that cannot be read or parsed.\n",
          stdout);
}

bool cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vexil: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n(see vexil --help)\n", stderr);
    va_end(ap);
    return CLI_USAGE;
}

bool cli_opt_value(int argc, char **argv, int *i, const char *name, const char **value,
                   bool *missing)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return false;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return true;
    }
    if (arg[n] != '\0')
        return false;
    if (*i + 1 >= argc) {
        *missing = true;
        return true;
    }
    *value = argv[++*i];
    return true;
}

int cli_opt_repeat(int argc, char **argv, int *i, const char *name, cli_list *list,
                   bool *matched)
{
    const char *v = NULL;
    bool missing = false;
    *matched = cli_opt_value(argc, argv, i, name, &v, &missing);
    if (!*matched)
        return CLI_OK;
    if (missing)
        return cli_usage_error("%s needs a value", name);
    if (list->n == CLI_MAX_REPEAT)
        return cli_usage_error("at most %d %s options", CLI_MAX_REPEAT, name);
    list->items[list->n++] = v;
    return CLI_OK;
}

bool cli_parse_format(const char *s, vx_format *out)
{
    if (!s)
        *out = VX_FORMAT_AUTO;
    else if (strcmp(s, "json") == 0)
        *out = VX_FORMAT_JSON;
    else if (strcmp(s, "yaml") == 0 || strcmp(s, "yml") == 0)
        *out = VX_FORMAT_YAML;
    else if (strcmp(s, "toml") == 0)
        *out = VX_FORMAT_TOML;
    else
        return false;
    return true;
}

void cli_print_load_error(const char *path, vx_status st, const vx_error *err)
{
    char text[512];
    fprintf(stderr, "vexil: %s\n", vx_error_describe(err, path, text, sizeof text));
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("missing command");
    const char *cmd = argv[1];
    if (cli_is_help(cmd) || strcmp(cmd, "help") == 0) {
        cli_print_usage();
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("vexil %s\n", vx_version());
        return CLI_OK;
    }
    if (strcmp(cmd, "eval") == 0)
        return cli_eval(argc - 2, argv + 2);
    if (strcmp(cmd, "lint") == 0)
        return cli_lint(argc - 2, argv + 2);
    return cli_usage_error("unknown command \"%s\"", cmd);
}
