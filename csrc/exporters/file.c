/* GOFF's file exporter: each batch appended to output_dir/<rendered name>,
 * as JSON lines or CSV lines rendered through a template. */
#include "events.h"
#include "exporters/exporters.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FLUSH_AT ((size_t)1 << 20)

typedef struct file_exporter {
    char *dir;
    char *format;          /* lower-cased, used in the file name */
    bool csv;
    vx_template *name_tmpl;
    vx_template *csv_tmpl;
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
    free(f->format);
    vx_template_free(f->name_tmpl);
    vx_template_free(f->csv_tmpl);
    vx_buf_free(&f->buf);
    free(f);
}

/* GOFF falls back to its default when a template does not parse. */
static vx_template *template_or_default(const char *text, const char *dflt)
{
    vx_template *t = NULL;
    if (!text || !*text || vx_template_new(text, &t, NULL) != VX_OK)
        vx_template_new(dflt, &t, NULL);
    return t;
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

static int open_target(const file_exporter *f, vx_buf *path)
{
    char host[256] = "";
    char ts[24];
    if (gethostname(host, sizeof host - 1) != 0)
        host[0] = '\0';
    host[sizeof host - 1] = '\0';
    snprintf(ts, sizeof ts, "%lld", (long long)time(NULL));
    vx_buf name;
    vx_buf_init(&name);
    vx_template_render_filename(f->name_tmpl, &name, host, ts, f->format);
    if (name.failed) {
        vx_buf_free(&name);
        errno = ENOMEM;
        return -1;
    }
    sanitize_name(&name);
    vx_buf_puts(path, f->dir);
    vx_buf_putc(path, '/');
    vx_buf_append(path, name.data, name.len);
    vx_buf_free(&name);
    if (path->failed) {
        errno = ENOMEM;
        return -1;
    }
    return open(path->data, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
}

static bool write_all(int fd, vx_buf *b)
{
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = write(fd, b->data + off, b->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        off += (size_t)n;
    }
    vx_buf_clear(b);
    return true;
}

static bool write_events(file_exporter *f, int fd, const vx_batch *batch)
{
    vx_buf *b = &f->buf;
    vx_buf_clear(b);
    size_t n = vx_batch_count(batch);
    for (size_t i = 0; i < n; i++) {
        const vx_event *ev = vx_batch_event(batch, i);
        if (f->csv) {
            vx_template_render_event(f->csv_tmpl, b, ev);
        } else {
            vx_event_write_json(b, ev);
            vx_buf_putc(b, '\n');
        }
        if (b->failed) {
            errno = ENOMEM;
            return false;
        }
        if (b->len >= FLUSH_AT && !write_all(fd, b))
            return false;
    }
    return write_all(fd, b);
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
    vx_buf path;
    vx_buf_init(&path);
    int fd = open_target(f, &path);
    if (fd < 0) {
        set_err(err, VX_EIO, "file exporter: cannot open %s: %s",
                path.failed ? "file" : path.data, strerror(errno));
        vx_buf_free(&path);
        return VX_EIO;
    }
    bool ok = write_events(f, fd, batch);
    int werr = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        werr = errno;
    }
    if (!ok)
        set_err(err, VX_EIO, "file exporter: error while writing %s: %s", path.data,
                strerror(werr));
    vx_buf_free(&path);
    vx_buf_clear(&f->buf);
    return ok ? VX_OK : VX_EIO;
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

static char *lower_format(const char *format)
{
    char *s = strdup(format && *format ? format : "json");
    for (char *p = s; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return s;
}

static vx_status file_setup(file_exporter *f, const vx_file_exporter_config *c, vx_error *err)
{
    f->dir = trimmed_dir(c ? c->output_dir : NULL);
    f->format = lower_format(c ? c->format : NULL);
    if (!f->dir || !f->format)
        return VX_ENOMEM;
    if (strcmp(f->format, "parquet") == 0) {
        set_err(err, VX_EINVAL, "file exporter: format %s is not supported%s", f->format, "");
        return VX_EINVAL;
    }
    /* As GOFF: any format other than csv writes JSON lines. */
    f->csv = strcmp(f->format, "csv") == 0;
    f->name_tmpl = template_or_default(c ? c->filename_template : NULL,
                                       VX_FILENAME_TEMPLATE_DEFAULT);
    /* Unlike the file name (GOFF falls back there, and so do we), a CSV
     * template that does not parse is an error: silently writing other
     * columns than asked for would corrupt the user's files. Checked in every
     * format, so a typo shows at once, not when the format changes. */
    const char *csv = c && c->csv_template && *c->csv_template ? c->csv_template : NULL;
    if (csv) {
        vx_error terr = {0};
        vx_status st = vx_template_new(csv, &f->csv_tmpl, &terr);
        if (st == VX_EPARSE) {
            set_err(err, VX_EPARSE, "file exporter: invalid csv_template: %.200s%s", terr.message, "");
            return VX_EPARSE;
        }
        if (st != VX_OK)
            return VX_ENOMEM;
    } else {
        f->csv_tmpl = template_or_default(NULL, VX_CSV_TEMPLATE_DEFAULT);
    }
    return f->name_tmpl && f->csv_tmpl ? VX_OK : VX_ENOMEM;
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
    if (o->status != VX_OK)
        return false;
    vx_error err = {0};
    vx_status st = vx_file_exporter_new(&c, ops, user_data, &err);
    return st == VX_OK || vx_opts_fail(o, st, NULL, "%s", err.message);
}
