/* Batch format benchmarks: the time to encode a GOFF-sized flush (100000
 * feature events, each with a 36-character user key and two metadata
 * entries from the engine) as JSON lines, CSV and Parquet with each codec,
 * in memory (no I/O); then JSON lines of the same events with the context's
 * exporterMetadata merged over the engine's, and with no metadata at all (as
 * the object-store benchmarks' events). Build with -O2. */
#include "events.h"
#include "formats/format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EVENTS 100000
#define ROUNDS 10

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static vx_member meta_members[2];
static vx_event_settings settings;

/* The events' metadata: the engine's, the context's over it, none. */
enum { META_ENGINE, META_CONTEXT, META_NONE };

static vx_doc *ctx_meta;

static vx_event *make_event(size_t i, int meta)
{
    char user[40];
    snprintf(user, sizeof user, "%08x-20d8-40cc-8500-fee99b569345", (unsigned)(i * 2654435761u));
    vx_context *ctx = vx_context_new(user);
    vx_context_set_bool(ctx, "anonymous", i % 3 == 0);
    vx_attrs a;
    vx_attrs_init(&a, ctx, meta == META_CONTEXT ? vx_doc_root(ctx_meta) : NULL);
    vx_value v = vx_make_string(i % 2 ? "variant-b" : "variant-a", 9);
    vx_feature_record r = {.flag_key = "new-checkout-flow", .variation = i % 2 ? "B" : "A",
                           .value = &v, .failed = false, .version = "12"};
    vx_event *ev = vx_event_new_feature(&r, &a, meta == META_NONE ? NULL : &settings,
                                        1700000000 + (int64_t)(i / 1000));
    vx_context_free(ctx);
    return ev;
}

static void bench(const vx_batch *b, const char *format, const char *codec, const char *label)
{
    vx_batch_format f;
    vx_error err = {0};
    if (vx_batch_format_init(&f, format, NULL, codec, &err) != VX_OK) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
    vx_buf out;
    vx_buf_init(&out);
    double best = 1e9;
    size_t bytes = 0;
    for (int r = 0; r < ROUNDS; r++) {
        vx_buf_clear(&out);
        double t0 = now_s();
        if (vx_batch_format_write(&f, b, &out, &err) != VX_OK) {
            fprintf(stderr, "%s\n", err.message);
            exit(1);
        }
        double t = now_s() - t0;
        best = t < best ? t : best;
        bytes = out.len;
    }
    printf("%-8s %-16s %7.2f M events/s  %8.1f ns/event  %9zu bytes (%5.1f B/event)\n", format,
           codec ? codec : label, EVENTS / best / 1e6, best / EVENTS * 1e9, bytes,
           (double)bytes / EVENTS);
    vx_buf_free(&out);
    vx_batch_format_destroy(&f);
}

int main(int argc, char **argv)
{
    meta_members[0] = (vx_member){.key = "env", .key_len = 3, .value = vx_make_string("prod", 4)};
    meta_members[1] = (vx_member){.key = "region", .key_len = 6,
                                  .value = vx_make_string("eu-west-1", 9)};
    settings.source = "SERVER";
    settings.source_len = 6;
    settings.metadata = (vx_value){.type = VX_OBJECT, .len = 2};
    settings.metadata.u.members = meta_members;
    for (size_t i = 0; i < 2; i++)
        meta_members[i].key_hash = vx_key_hash(meta_members[i].key, meta_members[i].key_len);
    /* As the engine makes its settings: their JSON written once. */
    vx_arena_init(&settings.arena);
    if (!vx_event_settings_seal(&settings))
        return 1;
    ctx_meta = vx_doc_new();
    const char *cm = "{\"gofeatureflag\":{\"exporterMetadata\":{\"env\":\"canary\",\"team\":\"checkout\"}}}";
    if (vx_doc_parse_json(ctx_meta, cm, strlen(cm), NULL) != VX_OK)
        return 1;
    vx_batch b[3];
    for (int m = 0; m < 3; m++) {
        b[m] = (vx_batch){.type = VX_EVENT_FEATURE};
        if (!vx_batch_reserve(&b[m], EVENTS))
            return 1;
        for (size_t i = 0; i < EVENTS; i++)
            b[m].events[b[m].count++] = make_event(i, m);
    }
    /* `bench_formats parquet SNAPPY` runs one case (for callgrind); the JSON
     * lines of the other two batches are `json context` and `json none`. */
    if (argc == 3) {
        int m = strcmp(argv[2], "context") == 0 ? META_CONTEXT
                : strcmp(argv[2], "none") == 0  ? META_NONE
                                                : META_ENGINE;
        bench(&b[m], argv[1], m == META_ENGINE && *argv[2] ? argv[2] : NULL, argv[2]);
    } else {
        printf("bench_formats: %d feature events per batch, best of %d\n", EVENTS, ROUNDS);
        bench(&b[META_ENGINE], "json", NULL, "");
        bench(&b[META_CONTEXT], "json", NULL, "ctx metadata");
        bench(&b[META_NONE], "json", NULL, "no metadata");
        bench(&b[META_ENGINE], "csv", NULL, "");
        const char *codecs[] = {"UNCOMPRESSED", "SNAPPY", "ZSTD", "GZIP"};
        for (size_t i = 0; i < sizeof codecs / sizeof *codecs; i++)
            bench(&b[META_ENGINE], "parquet", codecs[i], "");
    }
    for (int m = 0; m < 3; m++) {
        for (size_t i = 0; i < b[m].count; i++)
            vx_event_free(b[m].events[i]);
        free(b[m].events);
    }
    vx_doc_free(ctx_meta);
    return 0;
}
