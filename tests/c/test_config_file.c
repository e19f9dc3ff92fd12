/* GOFF configuration files: every key from YAML, JSON and TOML; GOFF's own
 * relay-proxy samples (tests/data/config, rewritten) giving the engine they
 * describe; errors naming their key path; GOFF's environment overrides; and
 * a whole engine from a file (file retriever, file exporter, webhook
 * notifier) that loads, reloads, exports and notifies. */
#include "config_file/config_file.h"
#include "engine.h"
#include "httpd.h"
#include "live.h"
#include "test.h"
#include "vexil.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_text[32768];

static void capture_log(void *ud, vx_log_level level, const char *msg)
{
    (void)ud;
    pthread_mutex_lock(&log_mu);
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof log_text - n, "%d %s\n", (int)level, msg);
    pthread_mutex_unlock(&log_mu);
}

static bool logged(const char *needle)
{
    pthread_mutex_lock(&log_mu);
    bool found = strstr(log_text, needle) != NULL;
    pthread_mutex_unlock(&log_mu);
    return found;
}

static vx_config_file *parse(const char *text, const char *format, vx_error *err)
{
    vx_config_file_options o;
    vx_config_file_options_init(&o);
    o.format = format;
    o.flags = VX_CONFIG_FILE_NO_ENV;
    vx_config_file *cf = NULL;
    memset(err, 0, sizeof *err);
    vx_config_file_parse(text, strlen(text), &o, &cf, err);
    return cf;
}

static vx_config_file *read_data(const char *name, unsigned flags, const char *flagset,
                                 vx_error *err)
{
    char path[256];
    snprintf(path, sizeof path, "tests/data/config/%s", name);
    vx_config_file_options o;
    vx_config_file_options_init(&o);
    o.flags = flags;
    o.flagset = flagset;
    vx_config_file *cf = NULL;
    memset(err, 0, sizeof *err);
    vx_config_file_read(path, &o, &cf, err);
    return cf;
}

/* "retriever:http retrievers[0]..." : the entries as "<path>=<kind>" joined by spaces. */
static const char *entries(const vx_config_file *cf)
{
    static char out[1024];
    out[0] = '\0';
    for (size_t i = 0; cf && i < cf->n_entries; i++) {
        size_t n = strlen(out);
        snprintf(out + n, sizeof out - n, "%s%s=%s", i ? " " : "", cf->entries[i].path,
                 cf->entries[i].kind);
    }
    return out;
}

static bool has_message(const vx_config_file *cf, const char *needle)
{
    for (size_t i = 0; i < vx_config_file_message_count(cf); i++)
        if (strstr(vx_config_file_message(cf, i, NULL), needle))
            return true;
    return false;
}

/* ---- every key, three formats ------------------------------------------------- */

static const char *ALL_YAML =
    "retriever: {kind: file, path: /tmp/a.yaml}\n"
    "retrievers:\n  - {kind: http, url: 'http://127.0.0.1:9/b.json', timeout: 2000}\n"
    "  - kind: github\n    repositorySlug: acme/flags\n    path: flags.yaml\n"
    "pollingInterval: 5000\nenablePollingJitter: true\nfileFormat: json\n"
    "startWithRetrieverError: true\nenvironment: production\n"
    "evaluationContextEnrichment: {region: eu, tier: 2}\n"
    "persistentFlagConfigurationFile: /tmp/vexil-persist.yaml\n"
    "exporter: {kind: log}\n"
    "exporters:\n  - {kind: file, outputDir: /tmp/x, flushInterval: 1000, maxEventInMemory: 10,"
    " eventType: tracking}\n  - {kind: webhook, endpointUrl: 'http://127.0.0.1:9/e'}\n"
    "notifiers:\n  - {kind: webhook, endpointUrl: 'http://127.0.0.1:9/n'}\n"
    "  - {kind: slack, webhookUrl: 'https://hooks.slack.com/services/T/B/X'}\n"
    "disableNotifierOnInit: true\n";

static const char *ALL_JSON =
    "{\"retriever\":{\"kind\":\"file\",\"path\":\"/tmp/a.yaml\"},"
    "\"retrievers\":[{\"kind\":\"http\",\"url\":\"http://127.0.0.1:9/b.json\",\"timeout\":2000},"
    "{\"kind\":\"github\",\"repositorySlug\":\"acme/flags\",\"path\":\"flags.yaml\"}],"
    "\"pollingInterval\":5000,\"enablePollingJitter\":true,\"fileFormat\":\"json\","
    "\"startWithRetrieverError\":true,\"environment\":\"production\","
    "\"evaluationContextEnrichment\":{\"region\":\"eu\",\"tier\":2},"
    "\"persistentFlagConfigurationFile\":\"/tmp/vexil-persist.yaml\",\"exporter\":{\"kind\":\"log\"},"
    "\"exporters\":[{\"kind\":\"file\",\"outputDir\":\"/tmp/x\",\"flushInterval\":1000,"
    "\"maxEventInMemory\":10,\"eventType\":\"tracking\"},"
    "{\"kind\":\"webhook\",\"endpointUrl\":\"http://127.0.0.1:9/e\"}],"
    "\"notifiers\":[{\"kind\":\"webhook\",\"endpointUrl\":\"http://127.0.0.1:9/n\"},"
    "{\"kind\":\"slack\",\"webhookUrl\":\"https://hooks.slack.com/services/T/B/X\"}],"
    "\"disableNotifierOnInit\":true}";

static const char *ALL_TOML =
    "pollingInterval = 5000\nenablePollingJitter = true\nfileFormat = 'json'\n"
    "startWithRetrieverError = true\nenvironment = \"production\"\n"
    "persistentFlagConfigurationFile = \"/tmp/vexil-persist.yaml\"\ndisableNotifierOnInit = true\n"
    "evaluationContextEnrichment = { region = \"eu\", tier = 2 }\n"
    "[retriever]\nkind = \"file\"\npath = \"/tmp/a.yaml\"\n"
    "[[retrievers]]\nkind = \"http\"\nurl = \"http://127.0.0.1:9/b.json\"\ntimeout = 2000\n"
    "[[retrievers]]\nkind = \"github\"\nrepositorySlug = \"acme/flags\"\npath = \"flags.yaml\"\n"
    "[exporter]\nkind = \"log\"\n"
    "[[exporters]]\nkind = \"file\"\noutputDir = \"/tmp/x\"\nflushInterval = 1000\n"
    "maxEventInMemory = 10\neventType = \"tracking\"\n"
    "[[exporters]]\nkind = \"webhook\"\nendpointUrl = \"http://127.0.0.1:9/e\"\n"
    "[[notifiers]]\nkind = \"webhook\"\nendpointUrl = \"http://127.0.0.1:9/n\"\n"
    "[[notifiers]]\nkind = \"slack\"\nwebhookUrl = \"https://hooks.slack.com/services/T/B/X\"\n";

static void check_all_keys(const char *text, const char *format)
{
    vx_error err;
    vx_config_file *cf = parse(text, format, &err);
    CHECK(cf != NULL);
    if (!cf) {
        fprintf(stderr, "%s: %s\n", format, err.message);
        return;
    }
    CHECK_STR(entries(cf), "retriever=file retrievers[0]=http retrievers[1]=github exporter=log "
                           "exporters[0]=file exporters[1]=webhook notifiers[0]=webhook "
                           "notifiers[1]=slack");
    vx_refresh_options ro;
    vx_config_file_refresh_options(cf, &ro);
    CHECK_INT(ro.poll_interval_ms, 5000);
    CHECK(ro.jitter);
    CHECK(ro.start_with_error);
    CHECK(!ro.notify_on_start);
    CHECK_STR(ro.persistent_file, "/tmp/vexil-persist.yaml");
    CHECK_STR(cf->file_format, "json");
    CHECK_STR(cf->environment, "production");
    CHECK_INT(vx_value_get_int(vx_value_get(cf->enrichment, "tier")), 2);
    CHECK_INT(vx_config_file_message_count(cf), 0);
    /* The engine it describes. */
    vx_engine *e = NULL;
    vx_engine_new(&e);
    CHECK_INT(vx_config_file_apply(cf, e, &err), VX_OK);
    if (err.message[0])
        fprintf(stderr, "%s: %s\n", format, err.message);
    CHECK_INT(vx_engine_exporter_count(e), 3);
    CHECK_INT(vx_engine_live(e)->nr, 3);
    vx_exporter_stats s;
    vx_exporter_get_stats(vx_engine_exporter_at(e, 1), &s);
    /* environment and enrichment reach evaluations. */
    const char *flags = "f:\n  variations: {a: A, b: B}\n  targeting:\n"
                        "    - query: env eq \"production\" and region eq \"eu\"\n      variation: b\n"
                        "  defaultRule: {variation: a}\n";
    vx_engine_load(e, flags, strlen(flags), VX_FORMAT_YAML, NULL);
    vx_result r;
    vx_engine_eval_string(e, "f", NULL, "", &r);
    CHECK_STR(r.variant, "b");
    vx_result_release(&r);
    vx_engine_free(e);
    vx_config_file_free(cf);
}

static void test_every_key_three_formats(void)
{
    check_all_keys(ALL_YAML, "yaml");
    check_all_keys(ALL_JSON, "json");
    check_all_keys(ALL_TOML, "toml");
}

static void test_defaults(void)
{
    vx_error err;
    vx_config_file *cf = parse("retriever: {kind: file, path: f.yaml}\n", NULL, &err);
    vx_refresh_options ro;
    vx_config_file_refresh_options(cf, &ro);
    CHECK_INT(ro.poll_interval_ms, 60000);
    CHECK(!ro.jitter);
    CHECK(!ro.start_with_error);
    CHECK(ro.notify_on_start); /* disableNotifierOnInit is false by default, as in GOFF */
    CHECK(ro.persistent_file == NULL);
    CHECK(cf->file_format == NULL);
    vx_config_file_free(cf);
    /* GOFF's adjustPollingInterval: 0 is the default, under a second is a second. */
    cf = parse("pollingInterval: 0\nretriever: {kind: file, path: f.yaml}\n", NULL, &err);
    vx_config_file_refresh_options(cf, &ro);
    CHECK_INT(ro.poll_interval_ms, 60000);
    vx_config_file_free(cf);
    cf = parse("pollingInterval: 10\nretriever: {kind: file, path: f.yaml}\n", NULL, &err);
    vx_config_file_refresh_options(cf, &ro);
    CHECK_INT(ro.poll_interval_ms, 1000);
    vx_config_file_free(cf);
}

/* ---- GOFF's samples ---------------------------------------------------------------- */

static void test_goff_samples(void)
{
    vx_error err;
    const char *same[] = {"relay-http-log.yaml", "relay-http-log.json", "relay-http-log.toml"};
    for (size_t i = 0; i < 3; i++) {
        vx_config_file *cf = read_data(same[i], VX_CONFIG_FILE_NO_ENV, NULL, &err);
        CHECK(cf != NULL);
        if (!cf) {
            fprintf(stderr, "%s: %s\n", same[i], err.message);
            continue;
        }
        CHECK_STR(entries(cf), "retriever=http exporter=log");
        vx_refresh_options ro;
        vx_config_file_refresh_options(cf, &ro);
        CHECK_INT(ro.poll_interval_ms, 1000);
        CHECK(has_message(cf, "(settings of GOFF's relay-proxy server, which vexil does not run)"));
        vx_engine *e = NULL;
        vx_engine_new(&e);
        CHECK_INT(vx_config_file_apply(cf, e, &err), VX_OK);
        CHECK_INT(vx_engine_exporter_count(e), 1);
        vx_engine_free(e);
        vx_config_file_free(cf);
    }
    vx_config_file *cf = read_data("relay-http-log.yaml", VX_CONFIG_FILE_NO_ENV, NULL, &err);
    CHECK(has_message(cf, "relay-http-log.yaml: ignored: server, authorizedKeys, loglevel, swagger ("));
    vx_config_file_free(cf);
    cf = read_data("relay-http-log.json", VX_CONFIG_FILE_NO_ENV, NULL, &err);
    CHECK(has_message(cf, "ignored: server, enableSwagger, apiKeys, logLevel, debug ("));
    vx_config_file_free(cf);

    cf = read_data("notifier-legacy-list.yaml", VX_CONFIG_FILE_NO_ENV, NULL, &err);
    CHECK_STR(entries(cf), "retriever=http exporter=log notifier[0]=discord");
    vx_config_file_free(cf);
    cf = read_data("notifier-legacy-object.yaml", VX_CONFIG_FILE_NO_ENV, NULL, &err);
    CHECK_STR(entries(cf), "retriever=http exporter=log notifier=slack");
    vx_config_file_free(cf);
    cf = read_data("exporter-and-exporters.yaml", VX_CONFIG_FILE_NO_ENV, NULL, &err);
    CHECK_STR(entries(cf), "retriever=http exporter=log exporters[0]=webhook exporters[1]=file");
    vx_engine *e = NULL;
    vx_engine_new(&e);
    CHECK_INT(vx_config_file_apply(cf, e, &err), VX_OK);
    CHECK_INT(vx_engine_exporter_count(e), 3);
    vx_engine_free(e);
    vx_config_file_free(cf);

    /* The file retriever's headers are not its keys: a warning with the path. */
    cf = read_data("retrievers-and-notifiers.yaml", VX_CONFIG_FILE_NO_ENV, NULL, &err);
    CHECK_STR(entries(cf), "retrievers[0]=http retrievers[1]=file exporter=log notifiers[0]=webhook");
    vx_engine_new(&e);
    log_text[0] = '\0';
    vx_engine_set_logger(e, VX_LOG_WARN, capture_log, NULL);
    CHECK_INT(vx_config_file_apply(cf, e, &err), VX_OK);
    CHECK(logged("unknown key retrievers[1].headers, ignored"));
    CHECK(logged("ignored: server, logLevel ("));
    vx_engine_free(e);
    vx_config_file_free(cf);

    /* Kafka: made when vexil has the kind, else refused by name. */
    cf = read_data("kafka-exporters.yaml", VX_CONFIG_FILE_NO_ENV, NULL, &err);
    bool has_kafka = false;
    for (size_t i = 0; vx_builtin_exporter_kind(i); i++)
        has_kafka = has_kafka || !strcmp(vx_builtin_exporter_kind(i), "kafka");
    if (has_kafka)
        CHECK_STR(entries(cf), "retrievers[0]=http exporters[0]=kafka");
    else
        CHECK_STR(err.message, "exporters[0].kind: GOFF's exporter kind \"kafka\" is not available in vexil");
    vx_config_file_free(cf);

    /* Nothing but defaults: no retriever. */
    cf = read_data("empty.yaml", VX_CONFIG_FILE_NO_ENV, NULL, &err);
    CHECK(cf == NULL);
    CHECK_STR(err.message, "retriever: no retriever in the configuration (set retriever or retrievers)");
}

static void test_flagsets(void)
{
    vx_error err;
    vx_config_file *cf = read_data("flagsets.yaml", VX_CONFIG_FILE_NO_ENV, NULL, &err);
    CHECK(cf == NULL);
    CHECK_STR(err.message, "flagsets: the file defines flag sets (\"flagset-1\", \"flagset-2\"); "
                           "choose one (the flagset option)");
    cf = read_data("flagsets.yaml", VX_CONFIG_FILE_NO_ENV, "flagset-2", &err);
    CHECK_STR(entries(cf), "flagsets[1].retrievers[0]=http");
    vx_refresh_options ro;
    vx_config_file_refresh_options(cf, &ro);
    CHECK_INT(ro.poll_interval_ms, 2000);
    vx_config_file_free(cf);
    cf = read_data("flagsets.yaml", VX_CONFIG_FILE_NO_ENV, "0", &err);
    CHECK_STR(entries(cf), "flagsets[0].retrievers[0]=http");
    vx_config_file_free(cf);
    cf = read_data("flagsets.yaml", VX_CONFIG_FILE_NO_ENV, "flagset-3", &err);
    CHECK(cf == NULL);
    CHECK_STR(err.message, "flagsets: no flag set named \"flagset-3\"");
    /* Errors inside a flag set name their path. */
    cf = read_data("flagset-env.yaml", VX_CONFIG_FILE_NO_ENV, "flagset1", &err);
    CHECK(cf == NULL);
    CHECK_STR(err.message, "flagsets[0].retrievers[0].kind: unknown retriever kind tochange");
}

/* ---- errors name their key path ------------------------------------------------------ */

static void test_errors(void)
{
    struct {
        const char *text, *format, *message;
        int line;
    } cases[] = {
        {"pollingInterval: soon\nretriever: {kind: file, path: f}\n", NULL, "pollingInterval: must be an integer", 0},
        {"pollingInterval: -5\nretriever: {kind: file, path: f}\n", NULL, "pollingInterval: must be between 0 and 2147483647", 0},
        {"enablePollingJitter: maybe\nretriever: {kind: file, path: f}\n", NULL, "enablePollingJitter: must be a boolean", 0},
        {"fileFormat: xml\nretriever: {kind: file, path: f}\n", NULL, "fileFormat: must be one of yaml, json, toml", 0},
        {"evaluationContextEnrichment: [1]\nretriever: {kind: file, path: f}\n", NULL, "evaluationContextEnrichment: must be an object", 0},
        {"retriever: [1]\n", NULL, "retriever: must be an object", 0},
        {"retrievers: 5\n", NULL, "retrievers: must be a list of objects", 0},
        {"retrievers: [{path: f}]\n", NULL, "retrievers[0].kind: required", 0},
        {"retrievers: [{kind: file, path: f}, {kind: fiel, path: g}]\n", NULL,
         "retrievers[1].kind: unknown retriever kind fiel (did you mean file?)", 0},
        {"retrievers: [{kind: mongodb, uri: x}]\n", NULL,
         "retrievers[0].kind: GOFF's retriever kind \"mongodb\" is not available in vexil", 0},
        {"retriever: {kind: file, path: f}\nexporters: [{kind: log}, {kind: bigquery}]\n", NULL,
         "exporters[1].kind: GOFF's exporter kind \"bigquery\" is not available in vexil", 0},
        {"retriever: {kind: file, path: f}\nnotifiers: [{kind: pagerduty}]\n", NULL,
         "notifiers[0].kind: unknown notifier kind pagerduty", 0},
        {"[1, 2]", "json", "a configuration file must hold an object of settings", 0},
        {"retriever = {kind = \"file\"\n", "toml", "toml: line 1: an inline table must be on one line", 1},
        {"retriever:\n  kind: file\n path: x\n", NULL, "yaml: line 2: did not find expected key", 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vx_error err;
        vx_config_file *cf = parse(cases[i].text, cases[i].format, &err);
        CHECK(cf == NULL);
        CHECK_STR(err.message, cases[i].message);
        if (cases[i].line)
            CHECK_INT(err.line, cases[i].line);
        vx_config_file_free(cf);
    }
    /* The kinds' own keys are checked when applied, with the path. */
    struct {
        const char *text, *message;
    } apply_cases[] = {
        {"retriever: {kind: file, path: f}\nexporters: [{kind: log}, {kind: webhook}]\n",
         "exporters[1].endpointUrl: required for kind webhook"},
        {"retriever: {kind: file, path: f}\nnotifiers: [{kind: slack}]\n",
         "notifiers[0].webhookUrl: required for kind slack"},
        {"retrievers: [{kind: github, repositorySlug: a/b}]\n", "retrievers[0].path: required for kind github"},
        {"retriever: {kind: http, url: 'http://x', timeout: never}\n", "retriever.timeout: must be an integer"},
        {"retriever: {kind: file, path: f}\nexporter: {kind: file, flushInterval: soon}\n",
         "exporter.flushInterval: must be an integer"},
        {"retriever: {kind: file, path: f}\nnotifiers: [{kind: webhook, endpointUrl: 'http://x', "
         "secret: {fromEnv: VX_TEST_UNSET_SECRET}}]\n",
         "notifiers[0].secret: environment variable VX_TEST_UNSET_SECRET is not set"},
    };
    for (size_t i = 0; i < sizeof apply_cases / sizeof apply_cases[0]; i++) {
        vx_error err;
        vx_config_file *cf = parse(apply_cases[i].text, NULL, &err);
        CHECK(cf != NULL);
        vx_engine *e = NULL;
        vx_engine_new(&e);
        CHECK(vx_config_file_apply(cf, e, &err) != VX_OK);
        CHECK_STR(err.message, apply_cases[i].message);
        vx_engine_free(e);
        vx_config_file_free(cf);
    }
    /* Unknown top-level keys: a warning with the nearest known key. */
    vx_error err;
    vx_config_file *cf = parse("pollingIntervall: 5\nretriever: {kind: file, path: f}\n", NULL, &err);
    CHECK(has_message(cf, "unknown key pollingIntervall (did you mean pollingInterval?), ignored"));
    vx_config_file_free(cf);
    cf = parse("notifiers: [{kind: webhook, endpointUrl: 'http://x'}]\nnotifier: {kind: slack}\n"
               "retriever: {kind: file, path: f}\n", NULL, &err);
    CHECK_STR(entries(cf), "retriever=file notifiers[0]=webhook");
    CHECK(has_message(cf, "notifier ignored: notifiers is set"));
    vx_config_file_free(cf);
}

/* A secret is never part of a message: not a webhook URL, not a token,
 * not a value that failed its type check. */
static void test_secrets_stay_out(void)
{
    vx_error err;
    vx_config_file *cf = parse("retrievers: [{kind: github, repositorySlug: a/b, path: f, token: 17}]\n"
                               "notifiers: [{kind: slack, webhookUrl: 'https://hooks.slack.com/services/SECRET'}]\n",
                               NULL, &err);
    vx_engine *e = NULL;
    vx_engine_new(&e);
    log_text[0] = '\0';
    vx_engine_set_logger(e, VX_LOG_DEBUG, capture_log, NULL);
    CHECK_INT(vx_config_file_apply(cf, e, &err), VX_EINVAL);
    CHECK_STR(err.message, "retrievers[0].token: must be a string");
    CHECK(!logged("SECRET"));
    vx_engine_free(e);
    vx_config_file_free(cf);
}

/* ---- environment overrides -------------------------------------------------------------- */

static void set(const char *k, const char *v)
{
    setenv(k, v, 1);
}

static void test_env_overrides(void)
{
    /* GOFF's own case (config_test.go, validate-array-env-file.yaml). */
    set("RETRIEVERS_0_HEADERS_AUTHORIZATION", "test");
    set("RETRIEVERS_X_HEADERS_AUTHORIZATION", "test");
    set("RETRIEVERS_1_HEADERS_AUTHORIZATION", "test1");
    set("RETRIEVERS_0_HEADERS_TOKEN", "token");
    set("NOTIFIERS_0_ENDPOINTURL", "https://xxx.com/notifier");
    set("POLLINGINTERVAL", "7000");
    vx_error err;
    vx_config_file *cf = read_data("retrievers-and-notifiers.yaml", 0, NULL, &err);
    CHECK(cf != NULL);
    CHECK_STR(entries(cf), "retrievers[0]=http retrievers[1]=file exporter=log notifiers[0]=webhook");
    const vx_value *r0 = cf->entries[0].options, *r1 = cf->entries[1].options;
    CHECK_STR(vx_value_get_string(vx_value_get(vx_value_get(r0, "headers"), "authorization"), NULL), "test");
    CHECK_STR(vx_value_get_string(vx_value_get(vx_value_get(r0, "headers"), "token"), NULL), "token");
    CHECK_STR(vx_value_get_string(vx_value_get(vx_value_get(r1, "headers"), "authorization"), NULL), "test1");
    CHECK_INT(vx_value_get_int(vx_value_get(vx_value_get(r1, "headers"), "token")), 11213123);
    /* The variable replaces the file's endpointUrl (matched case-insensitively). */
    const vx_value *n0 = cf->entries[3].options;
    bool replaced = false;
    for (size_t i = 0; i < vx_value_count(n0); i++)
        if (!strcasecmp(vx_value_key_at(n0, i, NULL), "endpointUrl"))
            replaced = !strcmp(vx_value_get_string(vx_value_member_at(n0, i), NULL), "https://xxx.com/notifier");
    CHECK(replaced);
    vx_refresh_options ro;
    vx_config_file_refresh_options(cf, &ro);
    CHECK_INT(ro.poll_interval_ms, 7000);
    CHECK(has_message(cf, "environment variable RETRIEVERS_X_HEADERS_AUTHORIZATION ignored: retrievers needs an index"));
    CHECK(has_message(cf, "environment variable POLLINGINTERVAL overrides the file"));
    /* No value in a message. */
    CHECK(!has_message(cf, "xxx.com"));
    vx_config_file_free(cf);
    /* RETRIEVERS_2_...: a third entry, with no kind: an error naming it. */
    set("RETRIEVERS_2_HEADERS_X-GOFF-CUSTOM", "custom");
    cf = read_data("retrievers-and-notifiers.yaml", 0, NULL, &err);
    CHECK(cf == NULL);
    CHECK_STR(err.message, "retrievers[2].kind: required");
    unsetenv("RETRIEVERS_2_HEADERS_X-GOFF-CUSTOM");
    /* A value of the wrong type names the key path. */
    set("RETRIEVERS_0_TIMEOUT", "later");
    cf = read_data("retrievers-and-notifiers.yaml", 0, NULL, &err);
    vx_engine *e = NULL;
    vx_engine_new(&e);
    CHECK_INT(vx_config_file_apply(cf, e, &err), VX_EINVAL);
    CHECK_STR(err.message, "retrievers[0].timeout: must be an integer");
    vx_engine_free(e);
    vx_config_file_free(cf);
    unsetenv("RETRIEVERS_0_TIMEOUT");
    /* VX_CONFIG_FILE_NO_ENV: the file as written. */
    cf = read_data("retrievers-and-notifiers.yaml", VX_CONFIG_FILE_NO_ENV, NULL, &err);
    vx_config_file_refresh_options(cf, &ro);
    CHECK_INT(ro.poll_interval_ms, 1000);
    vx_config_file_free(cf);
    const char *vars[] = {"RETRIEVERS_0_HEADERS_AUTHORIZATION", "RETRIEVERS_X_HEADERS_AUTHORIZATION",
                          "RETRIEVERS_1_HEADERS_AUTHORIZATION", "RETRIEVERS_0_HEADERS_TOKEN",
                          "NOTIFIERS_0_ENDPOINTURL", "POLLINGINTERVAL"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);

    /* envVariablePrefix: only GOFF_... variables count. */
    set("GOFF_RETRIEVERS_1_PATH", "/etc/goff/flags.yaml");
    set("RETRIEVERS_1_PATH", "/wrong");
    cf = read_data("env-prefix.yaml", 0, NULL, &err);
    CHECK_STR(vx_value_get_string(vx_value_get(cf->entries[1].options, "path"), NULL), "/etc/goff/flags.yaml");
    vx_config_file_free(cf);
    unsetenv("GOFF_RETRIEVERS_1_PATH");
    unsetenv("RETRIEVERS_1_PATH");

    /* Single objects: RETRIEVER_KIND, EXPORTER_KIND... */
    set("EXPORTER_KIND", "webhook");
    set("EXPORTER_ENDPOINTURL", "http://127.0.0.1:9/events");
    set("EXPORTER_FLUSHINTERVAL", "250");
    cf = read_data("relay-http-log.yaml", 0, NULL, &err);
    CHECK_STR(entries(cf), "retriever=http exporter=webhook");
    vx_engine_new(&e);
    CHECK_INT(vx_config_file_apply(cf, e, &err), VX_OK);
    CHECK_INT(vx_engine_exporter_count(e), 1);
    vx_engine_free(e);
    vx_config_file_free(cf);
    unsetenv("EXPORTER_KIND");
    unsetenv("EXPORTER_ENDPOINTURL");
    unsetenv("EXPORTER_FLUSHINTERVAL");

    /* GOFF's flag-set case: FLAGSETS_0_..., lists inside the flag set too. */
    set("FLAGSETS_0_NAME", "xxx");
    set("FLAGSETS_0_APIKEYS", "other-api-key,default-api-key");
    set("FLAGSETS_0_FILEFORMAT", "yaml");
    set("FLAGSETS_0_POLLINGINTERVAL", "50000");
    set("FLAGSETS_0_STARTWITHRETRIEVERERROR", "true");
    set("FLAGSETS_0_NOTIFIERS_0_KIND", "webhook");
    set("FLAGSETS_0_NOTIFIERS_0_ENDPOINTURL", "http://localhost:8080/webhook");
    set("FLAGSETS_0_EXPORTERS_0_KIND", "log");
    set("FLAGSETS_0_RETRIEVERS_0_KIND", "file");
    set("FLAGSETS_0_RETRIEVERS_0_PATH", "examples/flags.yaml");
    cf = read_data("flagset-env.yaml", 0, "xxx", &err);
    CHECK(cf != NULL);
    if (!cf)
        fprintf(stderr, "%s\n", err.message);
    CHECK_STR(entries(cf), "flagsets[0].retrievers[0]=file flagsets[0].exporters[0]=log "
                           "flagsets[0].notifiers[0]=webhook");
    vx_config_file_refresh_options(cf, &ro);
    CHECK_INT(ro.poll_interval_ms, 50000);
    CHECK(ro.start_with_error);
    CHECK_STR(cf->file_format, "yaml");
    vx_config_file_free(cf);
    const char *fs[] = {"FLAGSETS_0_NAME", "FLAGSETS_0_APIKEYS", "FLAGSETS_0_FILEFORMAT",
                        "FLAGSETS_0_POLLINGINTERVAL", "FLAGSETS_0_STARTWITHRETRIEVERERROR",
                        "FLAGSETS_0_NOTIFIERS_0_KIND", "FLAGSETS_0_NOTIFIERS_0_ENDPOINTURL",
                        "FLAGSETS_0_EXPORTERS_0_KIND", "FLAGSETS_0_RETRIEVERS_0_KIND",
                        "FLAGSETS_0_RETRIEVERS_0_PATH"};
    for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
        unsetenv(fs[i]);
}

/* ---- a whole engine from a file ------------------------------------------------------------ */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static size_t count_lines(const char *dir)
{
    size_t lines = 0;
    DIR *d = opendir(dir);
    struct dirent *ent;
    while (d && (ent = readdir(d))) {
        if (ent->d_name[0] == '.')
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, ent->d_name);
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

static void test_whole_engine(void)
{
    char dir[] = "/tmp/vexil-cf-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char flags[100], out[100], conf[100];
    snprintf(flags, sizeof flags, "%s/flags.toml", dir);
    snprintf(out, sizeof out, "%s/events", dir);
    snprintf(conf, sizeof conf, "%s/goff-proxy.toml", dir);
    write_file(flags, "[banner.variations]\nblue = \"blue\"\nred = \"red\"\n[banner.defaultRule]\nvariation = \"blue\"\n");
    httpd h;
    httpd_start(&h);
    char text[4096], hook[256];
    httpd_url(&h, "/changes", hook, sizeof hook);
    snprintf(text, sizeof text,
             "pollingInterval = 1000\nfileFormat = \"toml\"\n[server]\nport = 1031\n"
             "[retriever]\nkind = \"file\"\npath = \"%s\"\n"
             "[[exporters]]\nkind = \"file\"\noutputDir = \"%s\"\nflushInterval = 60000\n"
             "[[notifiers]]\nkind = \"webhook\"\nendpointUrl = \"%s\"\nsecret = \"s3cr3t\"\n",
             flags, out, hook);
    write_file(conf, text);
    vx_config_file_options o;
    vx_config_file_options_init(&o);
    o.log = capture_log;
    o.log_level = VX_LOG_WARN;
    log_text[0] = '\0';
    vx_engine *e = NULL;
    vx_error err = {0};
    CHECK_INT(vx_engine_new_from_config_file(conf, &o, &e, &err), VX_OK);
    if (!e) {
        fprintf(stderr, "%s\n", err.message);
        httpd_stop(&h);
        return;
    }
    CHECK(logged("ignored: server ("));
    vx_result r;
    vx_engine_eval_string(e, "banner", NULL, "", &r);
    CHECK_STR(r.variant, "blue");
    vx_result_release(&r);
    /* The first load was told to the notifier ("added"), as GOFF does. */
    CHECK_INT(httpd_wait_answered(&h, 1, 5000), 1);
    CHECK(strstr(h.reqs[0].body, "\"added\":{\"banner\"") != NULL);
    CHECK(strstr(h.reqs[0].headers, "X-Hub-Signature-256: sha256=") != NULL);
    /* An edit is picked up by polling and notified. */
    write_file(flags, "[banner.variations]\nblue = \"blue\"\nred = \"red\"\n[banner.defaultRule]\nvariation = \"red\"\n");
    CHECK_INT(httpd_wait_answered(&h, 2, 10000), 2);
    CHECK(strstr(h.reqs[1].body, "\"updated\":{\"banner\"") != NULL);
    vx_engine_eval_string(e, "banner", NULL, "", &r);
    CHECK_STR(r.variant, "red");
    vx_result_release(&r);
    /* Events reach the file exporter at close. */
    vx_engine_close(e, 5000);
    CHECK_INT(count_lines(out), 2);
    vx_notify_stats ns;
    vx_engine_get_notify_stats(e, &ns);
    CHECK_INT(h.n_reqs, 2);
    CHECK(ns.delivered >= 2); /* status changes are handed to notifiers too */
    CHECK_INT(ns.failed, 0);
    vx_engine_free(e);
    httpd_stop(&h);
    /* A start that fails leaves nothing behind and says which retriever. */
    unlink(flags);
    CHECK_INT(vx_engine_new_from_config_file(conf, &o, &e, &err), VX_EIO);
    CHECK(e == NULL);
    CHECK(strncmp(err.message, "retriever 1 (file): ", 20) == 0);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    vx_global_init();
    RUN(test_every_key_three_formats);
    RUN(test_defaults);
    RUN(test_goff_samples);
    RUN(test_flagsets);
    RUN(test_errors);
    RUN(test_secrets_stay_out);
    RUN(test_env_overrides);
    RUN(test_whole_engine);
    TEST_MAIN_END();
}
