/* The `vexil` command, driven as users' scripts drive it (the binary named by
 * VX_CLI): output, exit codes, lint, from-env, exports, and the golden
 * differential test against GOFF's own results stored in
 * tests/c/data/golden/cases.txt (see tests/c/data/regen.sh). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "httpd.h"
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *cli;
static const char *golden_dir = "tests/c/data/golden";

typedef struct run_result {
    char *out;
    char *err;
    int rc;
} run_result;

static char *slurp_fd(int fd)
{
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    for (;;) {
        if (n + 1 == cap)
            b = realloc(b, cap *= 2);
        ssize_t r = read(fd, b + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    b[n] = '\0';
    return b;
}

/* Runs the CLI with argv (NULL-terminated, argv[0] ignored) and, when `env`
 * is set, NAME=VALUE pairs added to the environment. */
static run_result run_env(char *const argv[], const char *const env[])
{
    int out[2], err[2];
    run_result r = {0};
    if (pipe(out) || pipe(err))
        abort();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], 1);
        dup2(err[1], 2);
        close(out[0]);
        close(err[0]);
        for (size_t i = 0; env && env[i]; i += 2)
            setenv(env[i], env[i + 1], 1);
        execv(cli, argv);
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    /* stderr is small; read stdout fully first. */
    r.out = slurp_fd(out[0]);
    r.err = slurp_fd(err[0]);
    close(out[0]);
    close(err[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

static run_result run(char *const argv[])
{
    return run_env(argv, NULL);
}

static void run_free(run_result *r)
{
    free(r->out);
    free(r->err);
}

static char *data_path(const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", golden_dir, name) < 0)
        abort();
    return p;
}

/* ---- Command basics ----------------------------------------------------- */

static void test_help_version(void)
{
    run_result r = run((char *[]){"vexil", "--help", NULL});
    CHECK_INT(r.rc, 0);
    CHECK(strstr(r.out, "vexil eval") != NULL);
    run_free(&r);
    r = run((char *[]){"vexil", "--version", NULL});
    CHECK_INT(r.rc, 0);
    CHECK_STR(r.out, "vexil 0.1.0\n");
    run_free(&r);
    /* Each subcommand answers --help and -h with the usage, exit 0. */
    char *helps[][6] = {{"vexil", "eval", "--help", NULL},
                        {"vexil", "lint", "--help", NULL},
                        {"vexil", "eval", "--config", "x.yaml", "-h"},
                        {"vexil", "lint", "-h", NULL}};
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        r = run(helps[i]);
        CHECK_INT(r.rc, 0);
        CHECK(strstr(r.out, "vexil eval --config FILE") != NULL);
        CHECK_STR(r.err, "");
        run_free(&r);
    }
}

/* Messages name the file, show one position, and explain GOFF's query text. */
static void test_error_messages(void)
{
    run_result r = run((char *[]){"vexil", "lint", "/nonexistent/flags.yaml", NULL});
    CHECK_INT(r.rc, 2);
    CHECK_STR(r.err, "vexil: cannot open /nonexistent/flags.yaml: No such file or directory\n");
    run_free(&r);
    const char *bad = "/tmp/vx_cli_yaml_pos.yaml";
    FILE *f = fopen(bad, "w");
    fputs("a:\n  b: 1\n c: 2\n", f);
    fclose(f);
    r = run((char *[]){"vexil", "lint", (char *)bad, NULL});
    CHECK_INT(r.rc, 2);
    CHECK_STR(r.err, "vexil: /tmp/vx_cli_yaml_pos.yaml:3:2: did not find expected key\n");
    run_free(&r);
    f = fopen(bad, "w");
    fputs("f:\n  variations: {a: true, b: false}\n  targeting:\n"
          "    - name: staff\n      query: email eq\n      variation: a\n"
          "  defaultRule: {variation: b}\n", f);
    fclose(f);
    r = run((char *[]){"vexil", "lint", (char *)bad, NULL});
    CHECK_INT(r.rc, 1);
    /* GOFF's reason first, as scripts match it; then what and where. */
    CHECK(strncmp(r.out, "f: invalid query: \"runtime error: invalid memory address or nil "
                         "pointer dereference\" (targeting rule 1 (\"staff\"), query \"email eq\": "
                         "incomplete or not parseable", 150) == 0);
    run_free(&r);
    unlink(bad);
}

static void test_usage_errors(void)
{
    char *cases[][6] = {
        {"vexil", NULL},
        {"vexil", "frobnicate", NULL},
        {"vexil", "eval", NULL},
        {"vexil", "eval", "--config", NULL},
        {"vexil", "eval", "--config", "x.json", NULL},
        {"vexil", "eval", "--config", "x.json", "--bogus", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_result r = run(cases[i]);
        CHECK_INT(r.rc, 2);
        CHECK(strstr(r.err, "vexil: ") != NULL);
        CHECK_STR(r.out, "");
        run_free(&r);
    }
    char *f = data_path("basic.json");
    char *more[][8] = {
        {"vexil", "eval", "--config", f, "--flag", "x", "--all", NULL},
        {"vexil", "eval", "--config", f, "--flag", "x", "--type", "double"},
        {"vexil", "eval", "--config", f, "--flag", "x", "--context", "[1]"},
        {"vexil", "eval", "--config", f, "--flag", "x", "--default", "{bad"},
        {"vexil", "eval", "--config", f, "--flag", "x", "--format", "toml"},
        {"vexil", "eval", "--env", "--config", f, "--flag", "x", NULL},
        {"vexil", "lint", NULL},
        {"vexil", "lint", f, "--format", "xml", NULL},
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        char *argv[10] = {0};
        memcpy(argv, more[i], sizeof more[i]);
        run_result r = run(argv);
        CHECK_INT(r.rc, 2);
        CHECK_STR(r.out, "");
        run_free(&r);
    }
    free(f);
}

static void test_eval_output(void)
{
    char *f = data_path("basic.json");
    run_result r = run((char *[]){"vexil", "eval", "--config", f, "--flag", "targeted", "--context",
                                  "{\"targetingKey\":\"u\",\"plan\":\"vip\"}", NULL});
    CHECK_INT(r.rc, 0);
    CHECK_STR(r.out,
              "{\"key\":\"targeted\",\"value\":\"a\",\"variant\":\"A\",\"reason\":\"TARGETING_MATCH\","
              "\"errorCode\":\"\",\"errorMessage\":\"\",\"version\":\"1.2.0\",\"metadata\":"
              "{\"description\":\"demo\",\"evaluatedRuleName\":\"vip\"},\"trackEvents\":true,"
              "\"cacheable\":true}\n");
    run_free(&r);
    /* --option=value, --type, --default, FLAG_NOT_FOUND. */
    r = run((char *[]){"vexil", "eval", "--config=" "tests/c/data/golden/basic.json", "--flag=nope",
                       "--type=string", "--default=\"d<>\"", NULL});
    CHECK_INT(r.rc, 0);
    CHECK_STR(r.out,
              "{\"key\":\"nope\",\"value\":\"d\\u003c\\u003e\",\"variant\":\"SdkDefault\",\"reason\":"
              "\"ERROR\",\"errorCode\":\"FLAG_NOT_FOUND\",\"errorMessage\":\"flag [nope] does not "
              "exists\",\"version\":\"\",\"metadata\":null,\"trackEvents\":true,\"cacheable\":false}\n");
    run_free(&r);
    /* --all prints one line per valid flag. */
    r = run((char *[]){"vexil", "eval", "--config", f, "--all", NULL});
    CHECK_INT(r.rc, 0);
    int lines = 0;
    for (char *p = r.out; *p; p++)
        lines += *p == '\n';
    CHECK_INT(lines, 27);
    run_free(&r);
    /* --format forces the parser whatever the extension. */
    r = run((char *[]){"vexil", "eval", "--config", f, "--format", "yaml", "--flag", "bool-static",
                       NULL});
    CHECK_INT(r.rc, 0); /* JSON is YAML */
    run_free(&r);
    free(f);
}

static void test_environment_enrichment(void)
{
    const char *path = "/tmp/vx_cli_env.yaml";
    FILE *fp = fopen(path, "w");
    fputs("f:\n  variations: {a: A, b: B}\n  targeting:\n"
          "    - query: '{\"==\": [{\"var\": \"env\"}, \"prod\"]}'\n      variation: a\n"
          "  defaultRule: {variation: b}\n",
          fp);
    fclose(fp);
    run_result r = run((char *[]){"vexil", "eval", "--config", (char *)path, "--flag", "f",
                                  "--environment", "prod", NULL});
    CHECK(strstr(r.out, "\"value\":\"A\"") != NULL);
    run_free(&r);
    r = run((char *[]){"vexil", "eval", "--config", (char *)path, "--flag", "f", "--enrichment",
                       "{\"env\":\"prod\"}", "--context", "{\"env\":\"dev\"}", NULL});
    CHECK(strstr(r.out, "\"value\":\"A\"") != NULL);
    run_free(&r);
    unlink(path);
}

/* ---- Lint ----------------------------------------------------------------- */

static void test_lint_codes(void)
{
    const char *good = "/tmp/vx_cli_good.json", *bad = "/tmp/vx_cli_bad.yaml";
    FILE *fp = fopen(good, "w");
    fputs("{\"f\": {\"variations\": {\"a\": 1}, \"defaultRule\": {\"variation\": \"a\"}}}", fp);
    fclose(fp);
    fp = fopen(bad, "w");
    fputs("f:\n  variations: {a: 1}\n  defaultRule: [unclosed\n", fp);
    fclose(fp);
    run_result r = run((char *[]){"vexil", "lint", (char *)good, NULL});
    CHECK_INT(r.rc, 0);
    CHECK_STR(r.out, "");
    run_free(&r);
    char *inv = data_path("invalid.json");
    r = run((char *[]){"vexil", "lint", inv, NULL});
    CHECK_INT(r.rc, 1);
    CHECK(strstr(r.out, "mixed-types: all variations should have the same type\n") != NULL);
    CHECK(strstr(r.out, "\nok:") == NULL);
    run_free(&r);
    free(inv);
    r = run((char *[]){"vexil", "lint", (char *)bad, NULL});
    CHECK_INT(r.rc, 2);
    CHECK(strstr(r.err, "/tmp/vx_cli_bad.yaml:") != NULL);
    CHECK(strstr(r.err, ":3:") != NULL || strstr(r.err, ":4:") != NULL);
    run_free(&r);
    r = run((char *[]){"vexil", "lint", "/tmp/does-not-exist.json", NULL});
    CHECK_INT(r.rc, 2);
    run_free(&r);
    fp = fopen(good, "w");
    fputs("{\"f\": {\"variations\": {\"a\": 1},\n \"defaultRule\": {\"variation\": \"a\"},}}", fp);
    fclose(fp);
    r = run((char *[]){"vexil", "lint", (char *)good, NULL});
    CHECK_INT(r.rc, 2);
    CHECK(strstr(r.err, "vx_cli_good.json:2:") != NULL);
    run_free(&r);
    unlink(good);
    unlink(bad);
}

/* ---- From-env: the tutorial's worked example ------------------------------ */

static const char *const yellow_env[] = {
    "AM_I_YELLOW",
    "{\"defaultVariant\":\"not-yellow\",\"variant\":["
    "{\"criteria\":[{\"key\":\"color\",\"value\":\"yellow\"}],\"targetingKey\":\"user\","
    "\"value\":true,\"name\":\"yellow-with-targeting\"},"
    "{\"criteria\":[{\"key\":\"color\",\"value\":\"yellow\"}],\"targetingKey\":\"\","
    "\"value\":true,\"name\":\"yellow\"},"
    "{\"criteria\":[{\"key\":\"color\",\"value\":\"not yellow\"}],\"targetingKey\":\"\","
    "\"value\":false,\"name\":\"not-yellow\"}]}",
    NULL,
};

static void test_from_env_example(void)
{
    run_result r = run_env((char *[]){"vexil", "eval", "--env", "--flag", "AM_I_YELLOW", "--type",
                                      "bool", "--default", "false", "--context",
                                      "{\"color\":\"yellow\"}", NULL},
                           yellow_env);
    CHECK_INT(r.rc, 0);
    CHECK(strstr(r.out, "\"value\":true,\"variant\":\"yellow\",\"reason\":\"TARGETING_MATCH\"") != NULL);
    run_free(&r);
    r = run_env((char *[]){"vexil", "eval", "--env", "--flag", "AM_I_YELLOW", "--type", "bool",
                           "--default", "false", "--context",
                           "{\"targetingKey\":\"user\",\"color\":\"yellow\"}", NULL},
                yellow_env);
    CHECK(strstr(r.out, "\"value\":true,\"variant\":\"yellow-with-targeting\",\"reason\":"
                        "\"TARGETING_MATCH\"") != NULL);
    run_free(&r);
    r = run_env((char *[]){"vexil", "eval", "--env", "--flag", "AM_I_YELLOW", "--type", "string",
                           "--default", "\"i am a default value\"", "--context",
                           "{\"color\":\"not yellow\"}", NULL},
                yellow_env);
    CHECK(strstr(r.out, "\"value\":\"i am a default value\"") != NULL);
    CHECK(strstr(r.out, "\"reason\":\"ERROR\",\"errorCode\":\"TYPE_MISMATCH\"") != NULL);
    run_free(&r);
    r = run((char *[]){"vexil", "eval", "--env", "--flag", "VX_SURELY_UNSET_FLAG", NULL});
    CHECK(strstr(r.out, "\"errorCode\":\"FLAG_NOT_FOUND\"") != NULL);
    run_free(&r);
}

/* ---- Exports -------------------------------------------------------------- */

static void test_export_file(void)
{
    char dir[] = "/tmp/vx_cli_export_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char *f = data_path("basic.json");
    run_result r = run((char *[]){"vexil", "eval", "--config", f, "--all", "--context",
                                  "{\"targetingKey\":\"u1\"}", "--export-file", dir, NULL});
    CHECK_INT(r.rc, 0);
    run_free(&r);
    /* One JSON line per evaluation whose trackEvents is true. */
    DIR *d = opendir(dir);
    struct dirent *de;
    int files = 0, lines = 0;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        files++;
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
            abort();
        int fd = open(p, O_RDONLY);
        char *text = slurp_fd(fd);
        close(fd);
        for (char *q = text; *q; q++)
            lines += *q == '\n';
        CHECK(strstr(text, "\"kind\":\"feature\"") != NULL);
        CHECK(strstr(text, "\"userKey\":\"u1\"") != NULL);
        free(text);
        unlink(p);
        free(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    CHECK_INT(files, 1);
    CHECK_INT(lines, 25); /* 27 valid flags, two with trackEvents false */
    free(f);
    r = run((char *[]){"vexil", "eval", "--config", "tests/c/data/golden/basic.json", "--flag",
                       "bool-static", "--context", "{\"targetingKey\":\"u2\"}", "--export-log", NULL});
    CHECK_INT(r.rc, 0);
    CHECK(strstr(r.err, "user=\"u2\", flag=\"bool-static\", value=\"true\"") != NULL);
    run_free(&r);
    /* Parquet: one file, named GOFF's way with the .parquet extension. */
    char pdir[] = "/tmp/vx_cli_parquet_XXXXXX";
    CHECK(mkdtemp(pdir) != NULL);
    f = data_path("basic.json");
    r = run((char *[]){"vexil", "eval", "--config", f, "--all", "--context",
                       "{\"targetingKey\":\"u1\"}", "--export-file", pdir, "--export-format",
                       "parquet", NULL});
    CHECK_INT(r.rc, 0);
    run_free(&r);
    free(f);
    d = opendir(pdir);
    files = 0;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        files++;
        CHECK(strncmp(de->d_name, "flag-variation-", 15) == 0);
        CHECK(strstr(de->d_name, ".parquet") == de->d_name + strlen(de->d_name) - 8);
        char *p = NULL;
        if (asprintf(&p, "%s/%s", pdir, de->d_name) < 0)
            abort();
        int fd = open(p, O_RDONLY);
        char *text = slurp_fd(fd);
        close(fd);
        CHECK(strncmp(text, "PAR1", 4) == 0);
        free(text);
        unlink(p);
        free(p);
    }
    if (d)
        closedir(d);
    rmdir(pdir);
    CHECK_INT(files, 1);
    r = run((char *[]){"vexil", "eval", "--config", "tests/c/data/golden/basic.json", "--flag",
                       "bool-static", "--export-file", pdir, "--export-format", "avro", NULL});
    CHECK(r.rc != 0);
    CHECK(strstr(r.err, "json, csv or parquet") != NULL);
    run_free(&r);
}

/* ---- Golden differential test ------------------------------------------- */

/* Lines where vexil differs from GOFF on purpose: "FILE TYPE FLAG" in
 * differences.txt (each with its reason there). */
typedef struct diffs {
    char **keys;
    size_t n;
} diffs;

static diffs load_diffs(void)
{
    diffs d = {0};
    char *path = data_path("differences.txt");
    FILE *fp = fopen(path, "r");
    free(path);
    char line[1024];
    while (fp && fgets(line, sizeof line, fp)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char file[256], type[32], flag[256];
        if (sscanf(line, "%255s %31s %255s", file, type, flag) != 3)
            continue;
        d.keys = realloc(d.keys, (d.n + 1) * sizeof *d.keys);
        if (asprintf(&d.keys[d.n++], "%s %s %s", file, type, flag) < 0)
            abort();
    }
    if (fp)
        fclose(fp);
    return d;
}

static bool is_difference(const diffs *d, const char *file, const char *type, const char *line)
{
    const char *k = strstr(line, "{\"key\":\"");
    if (!k)
        return false;
    k += 8;
    const char *e = strchr(k, '"');
    char want[600];
    snprintf(want, sizeof want, "%s %s %.*s", file, type, (int)(e - k), k);
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->keys[i], want) == 0)
            return true;
    return false;
}

typedef struct golden_case {
    char *fields[7];
    size_t nfields;
    char *expected; /* lines */
} golden_case;

static int golden_checked, golden_excluded;

static void compare_lines(const diffs *d, const golden_case *c, const char *actual,
                          const char *type)
{
    const char *e = c->expected, *a = actual;
    while (*e || *a) {
        const char *ee = strchr(e, '\n'), *ae = strchr(a, '\n');
        size_t el = ee ? (size_t)(ee - e) : strlen(e), al = ae ? (size_t)(ae - a) : strlen(a);
        char *eline = strndup(e, el), *aline = strndup(a, al);
        golden_checked++;
        if (strcmp(eline, aline) != 0) {
            if (is_difference(d, c->fields[1], type, eline)) {
                golden_excluded++;
            } else {
                vx_test_failures++;
                fprintf(stderr, "golden %s %s %s %s:\n  expected %s\n  actual   %s\n",
                        c->fields[0], c->fields[1], type, c->nfields > 4 ? c->fields[4] : "",
                        eline, aline);
            }
        }
        free(eline);
        free(aline);
        e += el + (ee != NULL);
        a += al + (ae != NULL);
        if (!ee && !ae)
            break;
    }
}

static void run_case(const diffs *d, golden_case *c)
{
    char *path = data_path(c->fields[1]);
    char *argv[16] = {"vexil"};
    int n = 1;
    const char *type = "lint";
    if (strcmp(c->fields[0], "@lint") == 0) {
        argv[n++] = "lint";
        argv[n++] = path;
    } else {
        type = c->fields[2];
        char *a[] = {"eval", "--config", path, "--type", c->fields[2], "--default", c->fields[3],
                     "--context", c->fields[4]};
        for (size_t i = 0; i < 9; i++)
            argv[n++] = a[i];
        if (strcmp(c->fields[0], "@flag") == 0) {
            argv[n++] = "--flag";
            argv[n++] = c->fields[5];
        } else {
            argv[n++] = "--all";
        }
    }
    argv[n] = NULL;
    run_result r = run(argv);
    vx_test_checks++;
    if (strcmp(c->fields[0], "@lint") != 0 && r.rc != 0) {
        vx_test_failures++;
        fprintf(stderr, "golden %s %s: exit %d: %s\n", c->fields[0], c->fields[1], r.rc, r.err);
    }
    compare_lines(d, c, r.out, type);
    run_free(&r);
    free(path);
}

/* Files in dir (removed with it): how many, and whether one holds `needle`. */
static int drain_dir(const char *dir, const char *needle, bool *found)
{
    DIR *d = opendir(dir);
    int files = 0;
    for (struct dirent *de; d && (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        files++;
        char *p = NULL;
        if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
            abort();
        int fd = open(p, O_RDONLY);
        char *text = slurp_fd(fd);
        close(fd);
        *found |= strstr(text, needle) != NULL;
        free(text);
        unlink(p);
        free(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    return files;
}

/* --export otlp+http://HOST:PORT: spans POSTed to HOST:PORT/v1/traces. */
static void test_export_otlp(void)
{
    httpd h;
    CHECK_INT(httpd_start(&h), 0);
    char *url = NULL;
    if (asprintf(&url, "otlp+http://127.0.0.1:%d?tracerName=cli-test&serviceName=cli", h.port) < 0)
        abort();
    run_result r = run((char *[]){"vexil", "eval", "--retriever",
                                  "{\"kind\":\"file\",\"path\":\"tests/c/data/golden/basic.json\"}",
                                  "--flag", "bool-static", "--context",
                                  "{\"targetingKey\":\"otlp-user\"}", "--export", url, NULL});
    CHECK_INT(r.rc, 0);
    run_free(&r);
    httpd_lock(&h);
    CHECK_INT(h.n_reqs, 1);
    if (h.n_reqs == 1) {
        CHECK_STR(h.reqs[0].path, "/v1/traces");
        CHECK(memmem(h.reqs[0].body, h.reqs[0].body_len, "otlp-user", 9) != NULL);
        CHECK(memmem(h.reqs[0].body, h.reqs[0].body_len, "cli-test", 8) != NULL);
        CHECK(memmem(h.reqs[0].body, h.reqs[0].body_len, "feature_flag.evaluate", 21) != NULL);
    }
    httpd_unlock(&h);
    free(url);
    httpd_stop(&h);
}

static void test_export_builtins(void)
{
    char csv[] = "/tmp/vx_cli_csv_XXXXXX", json[] = "/tmp/vx_cli_json_XXXXXX";
    CHECK(mkdtemp(csv) && mkdtemp(json));
    char *url = NULL, *exporter = NULL;
    if (asprintf(&url, "file://%s?format=csv", csv) < 0 ||
        asprintf(&exporter, "{\"kind\":\"file\",\"outputDir\":\"%s\"}", json) < 0)
        abort();
    run_result r = run((char *[]){"vexil", "eval", "--retriever",
                                  "{\"kind\":\"file\",\"path\":\"tests/c/data/golden/basic.json\"}",
                                  "--flag", "bool-static", "--context", "{\"targetingKey\":\"u9\"}",
                                  "--export", url, "--exporter", exporter, NULL});
    CHECK_INT(r.rc, 0);
    CHECK(strstr(r.out, "\"key\":\"bool-static\"") != NULL);
    run_free(&r);
    bool found = false;
    CHECK_INT(drain_dir(csv, "feature;user;u9;", &found), 1);
    CHECK(found);
    found = false;
    CHECK_INT(drain_dir(json, "\"userKey\":\"u9\"", &found), 1);
    CHECK(found);
    free(url);
    free(exporter);

    char *f = data_path("basic.json");
    r = run((char *[]){"vexil", "eval", "--config", f, "--flag", "x", "--export", "gopher://h/x", NULL});
    CHECK_INT(r.rc, 2);
    CHECK(strstr(r.err, "--export 1: --export: unknown URL scheme") != NULL);
    run_free(&r);
    r = run((char *[]){"vexil", "eval", "--config", f, "--flag", "x", "--exporter",
                       "{\"kind\":\"fil\"}", NULL});
    CHECK_INT(r.rc, 2);
    CHECK(strstr(r.err, "--exporter 1: kind: unknown exporter kind fil (did you mean file?)") != NULL);
    run_free(&r);
    r = run((char *[]){"vexil", "eval", "--config", f, "--flag", "x", "--retriever",
                       "{\"kind\":\"file\",\"path\":\"x\"}", NULL});
    CHECK_INT(r.rc, 2);
    CHECK(strstr(r.err, "--config, --url and --retriever exclude each other") != NULL);
    run_free(&r);
    r = run((char *[]){"vexil", "eval", "--retriever", "{\"kind\":\"file\",\"pth\":\"x\"}",
                       "--flag", "x", NULL});
    CHECK_INT(r.rc, 2);
    CHECK(strstr(r.err, "--retriever 1: path: required for kind file") != NULL);
    run_free(&r);
    free(f);
}

static void test_eval_url(void)
{
    flagsrv s;
    CHECK_INT(flagsrv_start(&s), 0);
    flagsrv_set(&s, "/flags", "{\"f\":{\"variations\":{\"a\":\"remote\"},"
                              "\"defaultRule\":{\"variation\":\"a\"}}}");
    char url[128], bad[160];
    httpd_url(&s.h, "/flags", url, sizeof url);
    run_result r = run((char *[]){"vexil", "eval", "--url", url, "--header",
                                  "Authorization: Bearer tok", "--header", "X-Env: prod",
                                  "--flag", "f", "--type", "string", NULL});
    CHECK_INT(r.rc, 0);
    CHECK(strstr(r.out, "\"value\":\"remote\"") != NULL);
    run_free(&r);
    char auth[64], env[64];
    httpd_lock(&s.h);
    httpd_header(&s.h.reqs[0], "Authorization", auth, sizeof auth);
    httpd_header(&s.h.reqs[0], "X-Env", env, sizeof env);
    httpd_unlock(&s.h);
    CHECK_STR(auth, "Bearer tok");
    CHECK_STR(env, "prod");
    snprintf(bad, sizeof bad, "http://127.0.0.1:%d/missing?token=SECRET", s.h.port);
    r = run((char *[]){"vexil", "eval", "--url", bad, "--all", NULL});
    CHECK_INT(r.rc, 2);
    CHECK(strstr(r.err, "HTTP status 404") != NULL);
    CHECK(strstr(r.err, "SECRET") == NULL);
    run_free(&r);
    r = run((char *[]){"vexil", "eval", "--url", url, "--config", "x.json", "--all", NULL});
    CHECK_INT(r.rc, 2);
    run_free(&r);
    r = run((char *[]){"vexil", "eval", "--config", "x.json", "--insecure", "--all", NULL});
    CHECK_INT(r.rc, 2);
    run_free(&r);
    flagsrv_stop(&s);
}

static void test_golden(void)
{
    char *path = data_path("cases.txt");
    FILE *fp = fopen(path, "r");
    free(path);
    CHECK(fp != NULL);
    if (!fp)
        return;
    diffs d = load_diffs();
    golden_case c = {0};
    size_t cap = 0, len = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    int cases = 0;
    for (;;) {
        got = getline(&line, &lcap, fp);
        if (got < 0 || line[0] == '@') {
            if (c.nfields) {
                run_case(&d, &c);
                cases++;
                for (size_t i = 0; i < c.nfields; i++)
                    free(c.fields[i]);
                c.nfields = 0;
                len = 0;
                if (c.expected)
                    c.expected[0] = '\0';
            }
            if (got < 0)
                break;
            line[strcspn(line, "\n")] = '\0';
            for (char *tok = line, *next; tok && c.nfields < 7; tok = next) {
                next = strchr(tok, '\t');
                if (next)
                    *next++ = '\0';
                c.fields[c.nfields++] = strdup(tok);
            }
            continue;
        }
        if (len + (size_t)got + 1 > cap) {
            cap = (len + (size_t)got + 1) * 2;
            c.expected = realloc(c.expected, cap);
        }
        memcpy(c.expected + len, line, (size_t)got + 1);
        len += (size_t)got;
    }
    free(line);
    free(c.expected);
    fclose(fp);
    for (size_t i = 0; i < d.n; i++)
        free(d.keys[i]);
    free(d.keys);
    fprintf(stderr, "golden: %d cases, %d lines compared, %d deliberate differences skipped\n",
            cases, golden_checked, golden_excluded);
    CHECK(cases > 100);
}

int main(void)
{
    cli = getenv("VX_CLI");
    if (!cli || access(cli, X_OK) != 0) {
        fprintf(stderr, "test_cli: set VX_CLI to the vexil binary\n");
        return 1;
    }
    if (getenv("VX_TEST_DATA"))
        golden_dir = getenv("VX_TEST_DATA");
    RUN(test_help_version);
    RUN(test_usage_errors);
    RUN(test_error_messages);
    RUN(test_eval_output);
    RUN(test_environment_enrichment);
    RUN(test_lint_codes);
    RUN(test_from_env_example);
    RUN(test_export_file);
    RUN(test_export_builtins);
    RUN(test_export_otlp);
    RUN(test_eval_url);
    RUN(test_golden);
    TEST_MAIN_END();
}
