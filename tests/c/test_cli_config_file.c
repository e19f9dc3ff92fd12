/* `vexil eval --config-file` and `vexil lint --config-file`, driven as a
 * shell drives them (the binary named by VX_CLI): a GOFF configuration with
 * a file retriever, a file exporter and a webhook notifier to a loopback
 * listener; lint of the file and of every flag file it points to; errors
 * naming key paths; environment overrides; exit codes. */
#include "httpd.h"
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *cli;

typedef struct run_result {
    char *out, *err;
    int rc;
} run_result;

static char *slurp(int fd)
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

/* argv[0] is ignored; env: NAME, VALUE pairs, NULL-terminated. */
static run_result run(char *const argv[], const char *const env[])
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
    r.out = slurp(out[0]);
    r.err = slurp(err[0]);
    close(out[0]);
    close(err[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

static void done(run_result *r)
{
    free(r->out);
    free(r->err);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static char dir[] = "/tmp/vexil-clicf-XXXXXX";
static char path_flags[128], path_conf[128], path_events[128];

static size_t event_lines(void)
{
    size_t lines = 0;
    DIR *d = opendir(path_events);
    struct dirent *ent;
    while (d && (ent = readdir(d))) {
        if (ent->d_name[0] == '.')
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", path_events, ent->d_name);
        FILE *f = fopen(p, "r");
        int c;
        while (f && (c = fgetc(f)) != EOF)
            lines += c == '\n';
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return lines;
}

static void test_eval_config_file(void)
{
    httpd h;
    httpd_start(&h);
    char hook[128], conf[1024];
    httpd_url(&h, "/goff-changes", hook, sizeof hook);
    write_file(path_flags, "banner:\n  variations: {blue: blue, red: red}\n"
                           "  targeting:\n    - query: email ew \"@example.com\"\n      variation: red\n"
                           "  defaultRule: {variation: blue}\n");
    snprintf(conf, sizeof conf,
             "# GOFF relay-proxy style\nlisten: 1031\nlogLevel: info\npollingInterval: 60000\n"
             "retriever:\n  kind: file\n  path: %s\n"
             "exporters:\n  - kind: file\n    outputDir: %s\n"
             "notifiers:\n  - kind: webhook\n    endpointUrl: %s\n",
             path_flags, path_events, hook);
    write_file(path_conf, conf);
    char *argv[] = {"vexil", "eval", "--config-file", path_conf, "--flag", "banner", "--context",
                    "{\"targetingKey\":\"ada\",\"email\":\"ada@example.com\"}", NULL};
    run_result r = run(argv, NULL);
    CHECK_INT(r.rc, 0);
    CHECK(strstr(r.out, "\"key\":\"banner\",\"value\":\"red\",\"variant\":\"red\",\"reason\":\"TARGETING_MATCH\"") != NULL);
    CHECK(strstr(r.err, "vexil: warning: ") != NULL && strstr(r.err, "ignored: listen, logLevel (") != NULL);
    CHECK_INT(event_lines(), 1);
    /* disableNotifierOnInit is false by default: the start is notified, as in GOFF. */
    CHECK_INT(httpd_wait_answered(&h, 1, 5000), 1);
    CHECK(strstr(h.reqs[0].body, "\"added\":{\"banner\"") != NULL);
    done(&r);
    /* --all, and a GOFF environment override of the retriever's path. */
    char other[160];
    snprintf(other, sizeof other, "%s/other.json", dir);
    write_file(other, "{\"other\":{\"variations\":{\"a\":1},\"defaultRule\":{\"variation\":\"a\"}}}");
    char *argv2[] = {"vexil", "eval", "--config-file", path_conf, "--all", NULL};
    const char *env[] = {"RETRIEVER_PATH", other, "NOTIFIERS_0_ENDPOINTURL", hook, NULL};
    r = run(argv2, env);
    CHECK_INT(r.rc, 0);
    CHECK(strstr(r.out, "\"key\":\"other\",\"value\":1") != NULL);
    CHECK(strstr(r.out, "banner") == NULL);
    done(&r);
    httpd_stop(&h);
}

static void test_lint_config_file(void)
{
    char bad_flags[160], conf[1024];
    snprintf(bad_flags, sizeof bad_flags, "%s/bad.yaml", dir);
    write_file(bad_flags, "broken:\n  variations: {a: 1}\n  defaultRule: {variation: nope}\n"
                          "fine:\n  variations: {a: 1}\n  defaultRule: {variation: a}\n");
    snprintf(conf, sizeof conf,
             "retrievers:\n  - kind: file\n    path: %s\n  - kind: file\n    path: %s\n"
             "exporter:\n  kind: log\n  logFormatt: x\n",
             path_flags, bad_flags);
    write_file(path_conf, conf);
    char *argv[] = {"vexil", "lint", "--config-file", path_conf, NULL};
    run_result r = run(argv, NULL);
    CHECK_INT(r.rc, 1);
    CHECK(strstr(r.out, "retriever 2 (file): broken: ") != NULL);
    CHECK(strstr(r.out, "fine") == NULL);
    CHECK(strstr(r.err, "unknown key exporter.logFormatt (did you mean logFormat?), ignored") != NULL);
    done(&r);
    /* Clean flags: 0. */
    snprintf(conf, sizeof conf, "retriever:\n  kind: file\n  path: %s\n", path_flags);
    write_file(path_conf, conf);
    r = run(argv, NULL);
    CHECK_INT(r.rc, 0);
    CHECK_STR(r.out, "");
    done(&r);
    /* A missing flag file: 2, naming the retriever. */
    snprintf(conf, sizeof conf, "retriever:\n  kind: file\n  path: %s/missing.yaml\n", dir);
    write_file(path_conf, conf);
    r = run(argv, NULL);
    CHECK_INT(r.rc, 2);
    CHECK(strstr(r.err, "vexil: retriever 1 (file): ") != NULL);
    done(&r);
    /* Key paths in errors, for the file and for a kind's keys. */
    write_file(path_conf, "retriever:\n  kind: file\n  path: x\nexporters:\n  - kind: log\n  - kind: webhook\n");
    r = run(argv, NULL);
    CHECK_INT(r.rc, 2);
    CHECK(strstr(r.err, ": exporters[1].endpointUrl: required for kind webhook") != NULL);
    done(&r);
    write_file(path_conf, "retrievers:\n  - kind: postgresql\n    uri: postgres://u:SECRET@h/db\n");
    r = run(argv, NULL);
    CHECK_INT(r.rc, 2);
    CHECK(strstr(r.err, "retrievers[0].kind: GOFF's retriever kind \"postgresql\" is not available in vexil") != NULL);
    CHECK(strstr(r.err, "SECRET") == NULL);
    done(&r);
    /* A TOML syntax error: file:line:column. */
    char toml[160];
    snprintf(toml, sizeof toml, "%s/goff-proxy.toml", dir);
    write_file(toml, "[retriever]\nkind = \"file\"\npath = \n");
    char *argv3[] = {"vexil", "lint", "--config-file", toml, NULL};
    r = run(argv3, NULL);
    CHECK_INT(r.rc, 2);
    CHECK(strstr(r.err, "goff-proxy.toml:3:8: toml: line 3: expected a value") != NULL);
    done(&r);
}

static void test_usage(void)
{
    char *a[] = {"vexil", "eval", "--config-file", path_conf, "--config", "x.yaml", "--all", NULL};
    run_result r = run(a, NULL);
    CHECK_INT(r.rc, 2);
    CHECK(strstr(r.err, "--config-file takes neither --config") != NULL);
    done(&r);
    char *b[] = {"vexil", "lint", "--flagset", "x", "flags.yaml", NULL};
    r = run(b, NULL);
    CHECK_INT(r.rc, 2);
    CHECK(strstr(r.err, "--flagset goes with --config-file") != NULL);
    done(&r);
    char *c[] = {"vexil", "--help", NULL};
    r = run(c, NULL);
    CHECK(strstr(r.out, "vexil lint --config-file FILE [--flagset NAME]") != NULL);
    done(&r);
}

int main(void)
{
    cli = getenv("VX_CLI");
    if (!cli)
        cli = "out/vexil";
    if (!mkdtemp(dir))
        return 1;
    snprintf(path_flags, sizeof path_flags, "%s/flags.yaml", dir);
    snprintf(path_conf, sizeof path_conf, "%s/goff-proxy.yaml", dir);
    snprintf(path_events, sizeof path_events, "%s/events", dir);
    RUN(test_eval_config_file);
    RUN(test_lint_config_file);
    RUN(test_usage);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    TEST_MAIN_END();
}
