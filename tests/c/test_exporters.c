/* The file and log exporters: GOFF's bytes, file names, append mode, modes,
 * path traversal, write errors, and both through the pipeline. */
#include "engine.h"
#include "events.h"
#include "pipeline.h"
#include "test.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char tmp_root[256];

static vx_event *goff_event(const char *user, int64_t ts, const char *value, const char *version)
{
    vx_context *ctx = vx_context_new(user);
    vx_context_set_bool(ctx, "anonymous", true);
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    vx_value v = vx_make_string(value, strlen(value));
    vx_feature_record r = {.flag_key = "random-key", .variation = "Default", .value = &v,
                           .version = version};
    vx_event *ev = vx_event_new_feature(&r, &a, NULL, ts);
    vx_context_free(ctx);
    return ev;
}

static void goff_batch(vx_batch *b)
{
    memset(b, 0, sizeof *b);
    vx_batch_reserve(b, 2);
    b->events[0] = goff_event("ABCD", 1617970547, "YO", "");
    b->events[1] = goff_event("EFGH", 1617970701, "YO2", "127");
    b->count = 2;
}

static void batch_free(vx_batch *b)
{
    for (size_t i = 0; i < b->count; i++)
        vx_event_free(b->events[i]);
    free(b->events);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    s[fread(s, 1, (size_t)n, f)] = '\0';
    fclose(f);
    return s;
}

/* The single regular file in dir (its name in name), or NULL. */
static char *only_file(const char *dir, char *name, size_t cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    struct dirent *de;
    int n = 0;
    char path[1024] = "";
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' && (de->d_name[1] == '\0' || (de->d_name[1] == '.' && !de->d_name[2])))
            continue;
        n++;
        snprintf(name, cap, "%s", de->d_name);
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    }
    closedir(d);
    return n == 1 ? slurp(path) : NULL;
}

static void sub(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmp_root, name);
}

static const char GOFF_JSON[] =
    "{\"kind\":\"feature\",\"contextKind\":\"anonymousUser\",\"userKey\":\"ABCD\",\"creationDate\":"
    "1617970547,\"key\":\"random-key\",\"variation\":\"Default\",\"value\":\"YO\",\"default\":false,"
    "\"version\":\"\",\"source\":\"SERVER\"}\n"
    "{\"kind\":\"feature\",\"contextKind\":\"anonymousUser\",\"userKey\":\"EFGH\",\"creationDate\":"
    "1617970701,\"key\":\"random-key\",\"variation\":\"Default\",\"value\":\"YO2\",\"default\":false,"
    "\"version\":\"127\",\"source\":\"SERVER\"}\n";

static vx_status export_with(const vx_file_exporter_config *c, const vx_batch *b, vx_error *err)
{
    vx_exporter_ops ops;
    void *ud = NULL;
    vx_status st = vx_file_exporter_new(c, &ops, &ud, err);
    if (st != VX_OK)
        return st;
    st = ops.export_batch(ud, b, err);
    ops.destroy(ud);
    return st;
}

static void test_file_json_default_name(void)
{
    char dir[512], name[256], host[256] = "", expect[512];
    sub(dir, sizeof dir, "json/nested/dir///");
    vx_batch b;
    goff_batch(&b);
    vx_file_exporter_config c = {.output_dir = dir};
    int64_t before = (int64_t)time(NULL);
    CHECK_INT(export_with(&c, &b, NULL), VX_OK);
    sub(dir, sizeof dir, "json/nested/dir");
    char *text = only_file(dir, name, sizeof name);
    CHECK_STR(text, GOFF_JSON);
    free(text);
    gethostname(host, sizeof host);
    snprintf(expect, sizeof expect, "flag-variation-%s-", host);
    CHECK(strncmp(name, expect, strlen(expect)) == 0);
    long long ts = atoll(name + strlen(expect));
    CHECK(ts >= before && ts <= before + 5);
    CHECK(strcmp(name + strlen(name) - 5, ".json") == 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct stat st;
    stat(path, &st);
    CHECK_INT(st.st_mode & 0777, 0644);
    stat(dir, &st);
    CHECK_INT(st.st_mode & 0777, 0755);
    batch_free(&b);
}

static void test_file_csv_and_append(void)
{
    char dir[512], name[256];
    sub(dir, sizeof dir, "csv");
    vx_batch b;
    goff_batch(&b);
    vx_file_exporter_config c = {.output_dir = dir, .format = "CSV", .filename_template = "out.{{ .Format}}"};
    CHECK_INT(export_with(&c, &b, NULL), VX_OK);
    CHECK_INT(export_with(&c, &b, NULL), VX_OK); /* appends */
    char *text = only_file(dir, name, sizeof name);
    CHECK_STR(name, "out.csv");
    CHECK_STR(text, "feature;anonymousUser;ABCD;1617970547;random-key;Default;YO;false;SERVER\n"
                    "feature;anonymousUser;EFGH;1617970701;random-key;Default;YO2;false;SERVER\n"
                    "feature;anonymousUser;ABCD;1617970547;random-key;Default;YO;false;SERVER\n"
                    "feature;anonymousUser;EFGH;1617970701;random-key;Default;YO2;false;SERVER\n");
    free(text);
    sub(dir, sizeof dir, "csv2");
    vx_file_exporter_config c2 = {.output_dir = dir, .format = "csv",
                                  .csv_template = "{{ .Kind}};{{ .ContextKind}}\n",
                                  .filename_template = "{{ .Broken"};
    CHECK_INT(export_with(&c2, &b, NULL), VX_OK);
    text = only_file(dir, name, sizeof name);
    CHECK_STR(text, "feature;anonymousUser\nfeature;anonymousUser\n");
    CHECK(strncmp(name, "flag-variation-", 15) == 0); /* bad template: GOFF's default */
    free(text);
    vx_error err;
    memset(&err, 0, sizeof err);
    /* A codec vexil does not write is an error naming GOFF's key, whatever
     * the format. */
    vx_file_exporter_config c3 = {.output_dir = dir, .format = "json",
                                  .parquet_compression_codec = "LZO"};
    vx_exporter_ops ops;
    void *ud = (void *)1;
    CHECK_INT(vx_file_exporter_new(&c3, &ops, &ud, &err), VX_EINVAL);
    CHECK(ud == NULL);
    CHECK(strstr(err.message, "file exporter: invalid parquetCompressionCodec \"LZO\"") ==
          err.message);
    CHECK_INT(vx_file_exporter_new(NULL, NULL, &ud, NULL), VX_EINVAL);
    /* A malformed csv_template is an error (in any format), with the
     * template's own message; the file name template keeps GOFF's fallback. */
    const char *bad_csv[] = {"{{ .Kind", "{{}}", "{{ .Kind}}{{"};
    for (size_t i = 0; i < sizeof bad_csv / sizeof *bad_csv; i++) {
        for (int csv = 0; csv < 2; csv++) {
            memset(&err, 0, sizeof err);
            ud = (void *)1;
            vx_file_exporter_config c4 = {.output_dir = dir, .format = csv ? "csv" : "json",
                                          .csv_template = bad_csv[i]};
            CHECK_INT(vx_file_exporter_new(&c4, &ops, &ud, &err), VX_EPARSE);
            CHECK(ud == NULL);
            CHECK_INT(err.status, VX_EPARSE);
            CHECK(strstr(err.message, "file exporter: invalid csvTemplate: ") == err.message);
            CHECK(strlen(err.message) > strlen("file exporter: invalid csvTemplate: "));
        }
    }
    vx_file_exporter_config c5 = {.output_dir = dir, .format = "csv", .csv_template = ""};
    CHECK_INT(vx_file_exporter_new(&c5, &ops, &ud, NULL), VX_OK); /* "": the default */
    ops.destroy(ud);
    batch_free(&b);
}

static void test_file_traversal(void)
{
    const char *names[] = {"../escape1", "..", ".", "/etc/escape2", "a/../../escape3",
                           "{{ .Format}}/../../escape4", "", "x\x01y"};
    vx_batch b;
    goff_batch(&b);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char dir[512], name[256];
        snprintf(name, sizeof name, "trav%zu", i);
        sub(dir, sizeof dir, name);
        vx_file_exporter_config c = {.output_dir = dir, .filename_template = names[i]};
        CHECK_INT(export_with(&c, &b, NULL), VX_OK);
        char *text = only_file(dir, name, sizeof name);
        CHECK(text != NULL); /* inside the directory, nowhere else */
        CHECK(strchr(name, '/') == NULL);
        free(text);
    }
    char p[512];
    sub(p, sizeof p, "escape1");
    CHECK(access(p, F_OK) != 0);
    CHECK(access("/etc/escape2", F_OK) != 0);
    batch_free(&b);
}

static void test_file_write_error(void)
{
    vx_batch b;
    goff_batch(&b);
    vx_error err;
    memset(&err, 0, sizeof err);
    /* /dev/full opens fine and fails every write with ENOSPC. */
    vx_file_exporter_config c = {.output_dir = "/dev", .filename_template = "full"};
    CHECK_INT(export_with(&c, &b, &err), VX_EIO);
    CHECK(strstr(err.message, "writing") != NULL);
    char file[512];
    sub(file, sizeof file, "plainfile");
    FILE *f = fopen(file, "w");
    fclose(f);
    vx_file_exporter_config c2 = {.output_dir = file};
    memset(&err, 0, sizeof err);
    CHECK_INT(export_with(&c2, &b, &err), VX_EIO);
    CHECK(strstr(err.message, "directory") != NULL);
    batch_free(&b);

    /* Through the pipeline: a failed export keeps the events and retries. */
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_exporter_ops ops;
    void *ud;
    CHECK_INT(vx_file_exporter_new(&c, &ops, &ud, NULL), VX_OK);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.retry_initial_ms = 10;
    vx_exporter *x = NULL;
    CHECK_INT(vx_engine_add_exporter(e, &o, &ops, ud, &x), VX_OK);
    vx_context *ctx = vx_context_new("u");
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    vx_feature_record r = {.flag_key = "f", .variation = "v", .value = NULL, .version = ""};
    vx_pipeline_record_feature(vx_engine_pipeline(e), &r, &a);
    CHECK_INT(vx_engine_flush(e, 100), VX_ETIMEDOUT);
    vx_exporter_stats s;
    vx_exporter_get_stats(x, &s);
    CHECK(s.failed_attempts >= 2);
    CHECK_INT(s.pending, 1);
    vx_context_free(ctx);
    vx_engine_free(e);
}

static void test_file_through_pipeline(void)
{
    char dir[512], name[256];
    sub(dir, sizeof dir, "pipe");
    vx_engine *e = NULL;
    vx_engine_new(&e);
    vx_file_exporter_config c = {.output_dir = dir};
    vx_exporter_ops ops;
    void *ud;
    CHECK_INT(vx_file_exporter_new(&c, &ops, &ud, NULL), VX_OK);
    CHECK_INT(vx_engine_add_exporter(e, NULL, &ops, ud, NULL), VX_OK);
    vx_context *ctx = vx_context_new("user");
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    vx_value v = vx_make_float(0.1);
    vx_feature_record r = {.flag_key = "f", .variation = "v", .value = &v, .version = "2"};
    for (int i = 0; i < 1000; i++)
        vx_pipeline_record_feature(vx_engine_pipeline(e), &r, &a);
    CHECK_INT(vx_engine_flush(e, 5000), VX_OK);
    char *text = only_file(dir, name, sizeof name);
    size_t lines = 0;
    for (char *p = text; p && (p = strchr(p, '\n')); p++)
        lines++;
    CHECK_INT(lines, 1000);
    CHECK(text && strstr(text, "\"value\":0.1,") != NULL);
    free(text);
    vx_context_free(ctx);
    vx_engine_free(e);
}

typedef struct lines {
    char buf[4096];
    atomic_int n; /* written last by the exporter thread: the test polls it */
} lines;

static void sink(void *ud, const char *line, size_t len)
{
    lines *l = ud;
    size_t have = strlen(l->buf);
    snprintf(l->buf + have, sizeof l->buf - have, "%.*s|", (int)len, line);
    atomic_fetch_add_explicit(&l->n, 1, memory_order_release);
}

static void test_log_exporter(void)
{
    lines l;
    memset(&l, 0, sizeof l);
    vx_log_exporter_config c = {.write = sink, .write_user_data = &l};
    vx_exporter_ops ops;
    void *ud;
    CHECK_INT(vx_log_exporter_new(&c, &ops, &ud, NULL), VX_OK);
    vx_batch b;
    goff_batch(&b);
    CHECK_INT(ops.export_batch(ud, &b, NULL), VX_OK);
    CHECK_STR(l.buf, "[2021-04-09T12:15:47Z] user=\"ABCD\", flag=\"random-key\", value=\"YO\"|"
                     "[2021-04-09T12:18:21Z] user=\"EFGH\", flag=\"random-key\", value=\"YO2\"|");
    ops.destroy(ud);
    memset(&l, 0, sizeof l);
    c.format = "{{ .UserKey}}:{{ .Version}}";
    CHECK_INT(vx_log_exporter_new(&c, &ops, &ud, NULL), VX_OK);
    ops.export_batch(ud, &b, NULL);
    CHECK_STR(l.buf, "ABCD:|EFGH:127|");
    ops.destroy(ud);

    /* A malformed format is VX_EPARSE with the template's message, not a
     * silent switch to the default line. */
    const char *bad[] = {"{{ .UserKey", "{{ .Key }", "x {{"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        vx_log_exporter_config cb = {.format = bad[i], .write = sink, .write_user_data = &l};
        vx_error err;
        memset(&err, 0, sizeof err);
        ud = (void *)1;
        CHECK_INT(vx_log_exporter_new(&cb, &ops, &ud, &err), VX_EPARSE);
        CHECK(ud == NULL);
        CHECK_INT(err.status, VX_EPARSE);
        CHECK(strstr(err.message, "log exporter: invalid format template: ") == err.message);
        CHECK(strlen(err.message) > strlen("log exporter: invalid format template: "));
        CHECK_INT(vx_log_exporter_new(&cb, &ops, &ud, NULL), VX_EPARSE); /* err may be NULL */
    }

    /* The default sink: stderr, one line per event. */
    int pipefd[2];
    CHECK_INT(pipe(pipefd), 0);
    int saved = dup(STDERR_FILENO);
    dup2(pipefd[1], STDERR_FILENO);
    vx_log_exporter_config d = {.format = "{{ .Key}}"};
    CHECK_INT(vx_log_exporter_new(&d, &ops, &ud, NULL), VX_OK);
    ops.export_batch(ud, &b, NULL);
    ops.destroy(ud);
    dup2(saved, STDERR_FILENO);
    close(saved);
    close(pipefd[1]);
    char out[128] = "";
    ssize_t n = read(pipefd[0], out, sizeof out - 1);
    out[n > 0 ? n : 0] = '\0';
    close(pipefd[0]);
    CHECK_STR(out, "random-key\nrandom-key\n");
    batch_free(&b);

    /* Through the pipeline, synchronous like GOFF's. */
    vx_engine *e = NULL;
    vx_engine_new(&e);
    memset(&l, 0, sizeof l);
    CHECK_INT(vx_log_exporter_new(&c, &ops, &ud, NULL), VX_OK);
    vx_exporter_options o;
    vx_exporter_options_init(&o);
    o.bulk = false;
    CHECK_INT(vx_engine_add_exporter(e, &o, &ops, ud, NULL), VX_OK);
    vx_context *ctx = vx_context_new("zed");
    vx_attrs a;
    vx_attrs_init(&a, ctx, NULL);
    vx_feature_record r = {.flag_key = "f", .variation = "v", .value = NULL, .version = "9"};
    vx_pipeline_record_feature(vx_engine_pipeline(e), &r, &a);
    for (int i = 0; i < 300 && atomic_load_explicit(&l.n, memory_order_acquire) == 0; i++)
        usleep(10000);
    CHECK_STR(l.buf, "zed:9|");
    vx_context_free(ctx);
    vx_engine_free(e);
}

int main(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
    umask(022);
    snprintf(tmp_root, sizeof tmp_root, "/tmp/vx_test_exporters_XXXXXX");
    if (!mkdtemp(tmp_root))
        return 1;
    vx_global_init();
    RUN(test_file_json_default_name);
    RUN(test_file_csv_and_append);
    RUN(test_file_traversal);
    RUN(test_file_write_error);
    RUN(test_file_through_pipeline);
    RUN(test_log_exporter);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_root);
    TEST_MAIN_END();
}
