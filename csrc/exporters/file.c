/* GOFF's file exporter: each batch written to output_dir/<name> in the
 * batch format (formats/). JSON lines and CSV are appended to GOFF's name,
 * as GOFF does; a Parquet file cannot be appended to, so each batch creates a
 * new one (O_EXCL) under a name made unique by formats/naming.h. */
#include "events.h"
#include "exporters/exporters.h"
#include "formats/format.h"
#include "formats/naming.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FLUSH_AT ((size_t)1 << 20)
/* Names tried for one Parquet file before giving up (each taken by another
 * writer in the meantime). */
#define MAX_NAME_TRIES 1000

typedef struct file_exporter {
    char *dir;
    vx_batch_format format;
    vx_namer namer;
    vx_buf buf;            /* reused: one export at a time per exporter */
} file_exporter;

static void set_err(vx_error *err, vx_status st, const char *fmt, const char *a, const char *b)
{
    if (!err)
        return;
    err->status = st;
    err->line = err->column = 0;
    snprintf(err->message, sizeof err->message, fmt, a, b);
}

static void file_destroy(void *ud)
{
    file_exporter *f = ud;
    if (!f)
        return;
    free(f->dir);
    vx_batch_format_destroy(&f->format);
    vx_namer_destroy(&f->namer);
    vx_buf_free(&f->buf);
    free(f);
}

/* mkdir -p with mode 0755. */
static int make_dirs(const char *dir)
{
    char path[4096];
    size_t len = strlen(dir);
    if (len >= sizeof path)
        return ENAMETOOLONG;
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return errno;
        path[i] = c;
    }
    struct stat st;
    if (stat(dir, &st) != 0)
        return errno;
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

/* No template value may lead outside the directory. */
static void sanitize_name(vx_buf *name)
{
    for (size_t i = 0; i < name->len; i++)
        if (name->data[i] == '/' || name->data[i] == '\0')
            name->data[i] = '_';
    if (name->len == 0)
        vx_buf_putc(name, '_');
    else if (strcmp(name->data, ".") == 0 || strcmp(name->data, "..") == 0)
        memset(name->data, '_', name->len);
}

static int open_path(const file_exporter *f, const vx_buf *name, vx_buf *path, int flags)
{
    vx_buf_clear(path);
    vx_buf_puts(path, f->dir);
    vx_buf_putc(path, '/');
    vx_buf_append(path, name->data, name->len);
    if (name->failed || path->failed) {
        errno = ENOMEM;
        return -1;
    }
    return open(path->data, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | flags, 0644);
}

static int open_append(file_exporter *f, vx_buf *path)
{
    vx_buf name;
    vx_buf_init(&name);
    vx_namer_render(&f->namer, (int64_t)time(NULL), &name);
    sanitize_name(&name);
    int fd = open_path(f, &name, path, O_APPEND);
    vx_buf_free(&name);
    return fd;
}

/* A new file: the namer's next name, and the one after while another writer
 * holds it. */
static int open_new(file_exporter *f, vx_buf *path)
{
    vx_buf name;
    vx_buf_init(&name);
    int fd = -1;
    bool named = vx_namer_next(&f->namer, (int64_t)time(NULL), &name);
    for (int i = 0; named && i < MAX_NAME_TRIES; i++) {
        sanitize_name(&name);
        fd = open_path(f, &name, path, O_EXCL);
        if (fd >= 0 || errno != EEXIST)
            break;
        named = vx_namer_taken(&f->namer, &name);
    }
    if (!named)
        errno = ENOMEM;
    vx_buf_free(&name);
    return fd;
}

static vx_status write_all(void *ud, const char *data, size_t len, vx_error *err)
{
    int fd = *(const int *)ud;
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            set_err(err, VX_EIO, "%s%s", strerror(n < 0 ? errno : EIO), "");
            return VX_EIO;
        }
        off += (size_t)n;
    }
    return VX_OK;
}

static vx_status file_export(void *ud, const vx_batch *batch, vx_error *err)
{
    file_exporter *f = ud;
    int e = make_dirs(f->dir);
    if (e) {
        set_err(err, VX_EIO, "file exporter: failed to create output directory: %s%s",
                strerror(e), "");
        return VX_EIO;
    }
    bool fresh = f->format.kind == VX_FORMAT_PARQUET;
    vx_buf path;
    vx_buf_init(&path);
    int fd = fresh ? open_new(f, &path) : open_append(f, &path);
    if (fd < 0) {
        set_err(err, VX_EIO, "file exporter: cannot open %s: %s",
                path.failed || !path.data ? "file" : path.data, strerror(errno));
        vx_buf_free(&path);
        return VX_EIO;
    }
    vx_error werr = {0};
    vx_status st = vx_batch_format_stream(&f->format, batch, &f->buf, FLUSH_AT, write_all, &fd,
                                          &werr);
    if (close(fd) != 0 && st == VX_OK) {
        set_err(&werr, VX_EIO, "%s%s", strerror(errno), "");
        st = VX_EIO;
    }
    if (st != VX_OK) {
        /* A Parquet file cut short is unreadable: the retry writes a new one. */
        if (fresh)
            unlink(path.data);
        set_err(err, st == VX_ENOMEM ? VX_ENOMEM : VX_EIO,
                "file exporter: error while writing %.100s: %.100s", path.data, werr.message);
        st = st == VX_ENOMEM ? VX_ENOMEM : VX_EIO;
    }
    vx_buf_free(&path);
    return st;
}

static char *trimmed_dir(const char *dir)
{
    if (!dir || !*dir)
        return strdup(".");
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    return strndup(dir, len);
}

static vx_status file_setup(file_exporter *f, const vx_file_exporter_config *c, vx_error *err)
{
    f->dir = trimmed_dir(c ? c->output_dir : NULL);
    if (!f->dir)
        return VX_ENOMEM;
    vx_error ferr = {0};
    vx_status st = vx_batch_format_init(&f->format, c ? c->format : NULL,
                                        c ? c->csv_template : NULL,
                                        c ? c->parquet_compression_codec : NULL, &ferr);
    if (st != VX_OK) {
        set_err(err, st, "file exporter: %.230s%s", ferr.message, "");
        return st;
    }
    return vx_namer_init(&f->namer, c ? c->filename_template : NULL,
                         vx_batch_format_extension(&f->format), NULL);
}

vx_status vx_file_exporter_new(const vx_file_exporter_config *config, vx_exporter_ops *ops,
                               void **user_data, vx_error *err)
{
    if (!ops || !user_data)
        return VX_EINVAL;
    *user_data = NULL;
    file_exporter *f = calloc(1, sizeof(*f));
    if (!f)
        return VX_ENOMEM;
    vx_buf_init(&f->buf);
    vx_status st = file_setup(f, config, err);
    if (st != VX_OK) {
        if (st == VX_ENOMEM)
            set_err(err, st, "file exporter: %s%s", "out of memory", "");
        file_destroy(f);
        return st;
    }
    ops->export_batch = file_export;
    ops->destroy = file_destroy;
    *user_data = f;
    return VX_OK;
}

/* GOFF's keys: outputDir, format, filename, csvTemplate. */
bool vx_file_exporter_make(vx_opts *o, vx_logger *log, vx_exporter_ops *ops, void **user_data)
{
    (void)log;
    vx_file_exporter_config c = {0};
    vx_opts_string(o, "outputDir", false, &c.output_dir);
    vx_opts_string(o, "format", false, &c.format);
    vx_opts_string(o, "filename", false, &c.filename_template);
    vx_opts_string(o, "csvTemplate", false, &c.csv_template);
    vx_opts_string(o, "parquetCompressionCodec", false, &c.parquet_compression_codec);
    if (o->status != VX_OK)
        return false;
    vx_error err = {0};
    vx_status st = vx_file_exporter_new(&c, ops, user_data, &err);
    return st == VX_OK || vx_opts_fail(o, st, NULL, "%s", err.message);
}
