/* The persisted copy of the last good configuration (GOFF's
 * PersistentFlagConfigurationFile), read back at start-up when the first
 * retrieval fails.
 *
 * It is YAML, one flag per line in flow style ("key": {...}), because YAML
 * can say everything the merged documents said: a YAML scalar is written with
 * its source text (so `version: 1.10` stays "1.10"), floats always look like
 * floats, and JSON strings are valid YAML double-quoted strings. A flag that
 * came from JSON reads back the same except that Go's float64 view of its
 * integral numbers becomes an int (only Go-style %v printing of numbers of a
 * million or more tells them apart). It is written to a temporary file that
 * replaces the old one, so a crash never leaves half a file. */
#include "json.h"
#include "live.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void emit(vx_buf *b, const vx_value *v, const vx_doc *doc, int depth);

static void emit_float(vx_buf *b, double f)
{
    if (isnan(f)) {
        vx_buf_puts(b, ".nan");
        return;
    }
    if (isinf(f)) {
        vx_buf_puts(b, f < 0 ? "-.inf" : ".inf");
        return;
    }
    char num[32];
    size_t n = vx_format_float_json(f, num);
    vx_buf_append(b, num, n);
    /* "1" would read back as an int. */
    if (!memchr(num, '.', n) && !memchr(num, 'e', n))
        vx_buf_puts(b, ".0");
}

static void emit_scalar(vx_buf *b, const vx_value *v, const vx_doc *doc)
{
    const char *raw = v->flags & VX_VF_RAW ? vx_doc_raw_text(doc, v) : NULL;
    if (raw) {
        vx_buf_puts(b, raw);
        return;
    }
    switch (v->type) {
    case VX_BOOL:
        vx_buf_puts(b, v->u.b ? "true" : "false");
        return;
    case VX_INT:
        vx_buf_put_i64(b, v->u.i);
        return;
    case VX_FLOAT:
        emit_float(b, v->u.f);
        return;
    case VX_STRING:
        /* A YAML timestamp goes back plain, as written, so it reads back as one. */
        if (v->flags & VX_VF_YAML_TIME)
            vx_buf_puts(b, vx_yaml_time_source(v));
        else
            vx_json_write_string(b, v->u.s, v->len);
        return;
    default:
        vx_buf_puts(b, "null");
    }
}

static void emit(vx_buf *b, const vx_value *v, const vx_doc *doc, int depth)
{
    if (depth > VX_JSON_MAX_WRITE_DEPTH) {
        b->failed = true;
        return;
    }
    if (v->type == VX_ARRAY) {
        vx_buf_putc(b, '[');
        for (uint32_t i = 0; i < v->len; i++) {
            if (i)
                vx_buf_puts(b, ", ");
            emit(b, &v->u.items[i], doc, depth + 1);
        }
        vx_buf_putc(b, ']');
    } else if (v->type == VX_OBJECT) {
        vx_buf_putc(b, '{');
        for (uint32_t i = 0; i < v->len; i++) {
            const vx_member *m = &v->u.members[i];
            if (i)
                vx_buf_puts(b, ", ");
            vx_json_write_string(b, m->key, m->key_len);
            vx_buf_puts(b, ": ");
            emit(b, &m->value, doc, depth + 1);
        }
        vx_buf_putc(b, '}');
    } else {
        emit_scalar(b, v, doc);
    }
}

/* 0600 as GOFF: the flags may say more about the business than it wants. */
static bool write_all(const char *path, const vx_buf *b)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    bool ok = fwrite(b->data, 1, b->len, f) == b->len;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    return fclose(f) == 0 && ok;
}

vx_status vx_persist_write(const vx_config *c, const char *path, vx_error *err)
{
    vx_buf b;
    vx_buf_init(&b);
    vx_buf_puts(&b, "# The last good flag configuration, written by vexil.\n");
    for (size_t i = 0; i < c->nflags; i++) {
        const vx_flag *f = &c->flags[i];
        vx_json_write_string(&b, f->key, f->key_len);
        vx_buf_puts(&b, ": ");
        emit(&b, f->definition, c->docs[f->doc_index], 0);
        vx_buf_putc(&b, '\n');
    }
    if (c->nflags == 0)
        vx_buf_puts(&b, "{}\n");
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    vx_status st = b.failed || !tmp ? VX_ENOMEM : VX_OK;
    if (st == VX_OK) {
        snprintf(tmp, n, "%s.tmp-%ld", path, (long)getpid());
        if (!write_all(tmp, &b) || rename(tmp, path) != 0) {
            st = VX_EIO;
            if (err) {
                err->status = st;
                snprintf(err->message, sizeof err->message, "%s", strerror(errno));
            }
            unlink(tmp);
        }
    } else if (err) {
        err->status = st;
        snprintf(err->message, sizeof err->message, "out of memory");
    }
    free(tmp);
    vx_buf_free(&b);
    return st;
}
