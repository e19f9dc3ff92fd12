/* The `vexil` command: shared helpers of its subcommands. Users' scripts call
 * it, so its options, output and exit codes are a stable interface:
 *   0  success (lint: every flag valid)
 *   1  lint: some flags are invalid
 *   2  usage error, or a configuration that cannot be read or parsed */
#ifndef VX_CLI_H
#define VX_CLI_H

#include "vexil.h"

#include <stdbool.h>

#define CLI_OK 0
#define CLI_INVALID 1
#define CLI_USAGE 2

/* Matches "--name VALUE" and "--name=VALUE" at argv[*i]; advances *i past the
 * value. Returns false when argv[*i] is not that option; sets *missing when
 * the value is absent. */
bool cli_opt_value(int argc, char **argv, int *i, const char *name, const char **value,
                   bool *missing);

/* Prints "vexil: <message>" on stderr and returns CLI_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses "json" / "yaml" (NULL: auto). False on anything else. */
bool cli_parse_format(const char *s, vx_format *out);

/* Prints a parse or load error for `path` on stderr. */
void cli_print_load_error(const char *path, vx_status st, const vx_error *err);

/* A repeatable option's values (borrowed from argv). */
#define CLI_MAX_REPEAT 32
typedef struct cli_list {
    const char *items[CLI_MAX_REPEAT + 1];
    size_t n;
} cli_list;

/* Matches a repeatable "--name VALUE" into `list`; CLI_USAGE on a missing
 * value or too many. *matched says whether argv[*i] was that option. */
int cli_opt_repeat(int argc, char **argv, int *i, const char *name, cli_list *list,
                   bool *matched);

/* Adds the --exporter, --export and --retriever options' exporters and
 * retrievers (builtins.c). */
int cli_add_builtins(vx_engine *e, const cli_list *exporters, const cli_list *urls,
                     const cli_list *retrievers);

/* GOFF configuration files (config_file.c): sets `e` up as the file says
 * and starts it; lints the file and the flag files it points to. */
int cli_setup_config_file(vx_engine *e, const char *path, const char *flagset);
int cli_lint_config_file(const char *path, const char *flagset);
void cli_print_config_file_usage(void);

/* "--help" or "-h": every subcommand answers them with the usage, exit 0. */
bool cli_is_help(const char *arg);

int cli_eval(int argc, char **argv);
int cli_lint(int argc, char **argv);
void cli_print_usage(void);

#endif
