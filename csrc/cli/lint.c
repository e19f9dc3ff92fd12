/* `vexil lint FILE`: GOFF's validation of every flag, one line per invalid
 * flag, as GOFF's linter reports them. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int cli_lint(int argc, char **argv)
{
    const char *path = NULL, *format = NULL, *config_file = NULL, *flagset = NULL;
    for (int i = 0; i < argc; i++) {
        bool missing = false;
        if (cli_opt_value(argc, argv, &i, "--format", &format, &missing)) {
            if (missing)
                return cli_usage_error("--format needs a value");
        } else if (cli_opt_value(argc, argv, &i, "--config-file", &config_file, &missing)) {
            if (missing)
                return cli_usage_error("--config-file needs a value");
        } else if (cli_opt_value(argc, argv, &i, "--flagset", &flagset, &missing)) {
            if (missing)
                return cli_usage_error("--flagset needs a value");
        } else if (cli_is_help(argv[i])) {
            cli_print_usage();
            return CLI_OK;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("unknown lint option \"%s\"", argv[i]);
        } else if (path) {
            return cli_usage_error("lint takes one file");
        } else {
            path = argv[i];
        }
    }
    vx_format fmt;
    if (config_file) {
        if (path || format)
            return cli_usage_error("--config-file takes no flag file nor --format");
        return cli_lint_config_file(config_file, flagset);
    }
    if (flagset)
        return cli_usage_error("--flagset goes with --config-file");
    if (!path)
        return cli_usage_error("lint needs a file");
    if (!cli_parse_format(format, &fmt))
        return cli_usage_error("unknown format \"%s\" (json, yaml or toml)", format);
    vx_config *cfg = NULL;
    vx_error err = {0};
    vx_status st = vx_config_parse_file(path, fmt, &cfg, &err);
    if (st != VX_OK) {
        cli_print_load_error(path, st, &err);
        return CLI_USAGE;
    }
    size_t n = vx_config_invalid_count(cfg);
    for (size_t i = 0; i < n; i++) {
        const char *detail = vx_config_invalid_detail(cfg, i);
        printf("%s: %s%s%s%s\n", vx_config_invalid_key(cfg, i), vx_config_invalid_reason(cfg, i),
               detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
    }
    vx_config_free(cfg);
    return n ? CLI_INVALID : CLI_OK;
}
