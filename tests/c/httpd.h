/* A tiny multi-threaded HTTP/1.1 server on 127.0.0.1 for tests: one thread
 * per connection, keep-alive, Content-Length bodies. Every request is
 * recorded (method, path, raw headers, body); the answer is scripted: the
 * first `fail_first` requests get `fail_status`, requests wait `delay_ms`
 * first, and while `hang` is set they get no answer at all until it is
 * cleared or the server stops. Otherwise the answer is 200 "ok", or what the
 * optional `handler` says (called with the lock held; the body is copied).
 * Change the script under httpd_lock(). */
#ifndef VX_TEST_HTTPD_H
#define VX_TEST_HTTPD_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct httpd_request {
    char method[16];
    char path[256];
    char *headers;      /* raw header block, "Name: value\r\n" lines */
    char *body;         /* NUL-terminated */
    size_t body_len;
    int status;         /* what the server answered (0: no answer) */
} httpd_request;

/* What a handler answers: status, body and extra header lines. */
typedef struct httpd_reply {
    int status;
    const char *body;
    size_t body_len;
    char headers[512];  /* "Name: value\r\n" lines */
} httpd_reply;

typedef void (*httpd_handler)(void *ud, const httpd_request *req, httpd_reply *out);

typedef struct httpd {
    int fd;
    int port;
    pthread_t acceptor;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    /* script */
    int fail_first;
    int fail_status;
    int delay_ms;
    bool hang;
    httpd_handler handler;
    void *handler_ud;
    /* record */
    httpd_request *reqs;
    size_t n_reqs, cap_reqs;
    size_t answered;
    pthread_t *conns;
    size_t n_conns, cap_conns;
} httpd;

typedef struct httpd_conn {
    httpd *h;
    int fd;
} httpd_conn;

static inline void httpd_lock(httpd *h) { pthread_mutex_lock(&h->mu); }
static inline void httpd_unlock(httpd *h)
{
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static inline bool httpd_stopping(httpd *h)
{
    pthread_mutex_lock(&h->mu);
    bool s = h->stopping;
    pthread_mutex_unlock(&h->mu);
    return s;
}

/* Reads into buf until `want` bytes or the header end; -1 on close/stop. */
static inline ssize_t httpd_read_some(httpd *h, int fd, char *buf, size_t cap)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 50);
        if (httpd_stopping(h))
            return -1;
        if (r <= 0)
            continue;
        ssize_t n = recv(fd, buf, cap, 0);
        if (n < 0 && errno == EINTR)
            continue;
        return n > 0 ? n : -1;
    }
}

static inline bool httpd_send_all(int fd, const char *s, size_t len)
{
    while (len) {
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        s += n;
        len -= (size_t)n;
    }
    return true;
}

static inline const char *httpd_find_header(const char *headers, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *l = headers; l && *l;) {
        const char *end = strstr(l, "\r\n");
        if (!end)
            break;
        if ((size_t)(end - l) > nl && strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (*v == ' ')
                v++;
            *len = (size_t)(end - v);
            return v;
        }
        l = end + 2;
    }
    return NULL;
}

/* The value of header `name` in request i (copied to out), "" when absent. */
static inline const char *httpd_header(const httpd_request *r, const char *name, char *out, size_t cap)
{
    size_t len = 0;
    const char *v = httpd_find_header(r->headers, name, &len);
    if (!v)
        len = 0;
    if (len >= cap)
        len = cap - 1;
    memcpy(out, v ? v : "", len);
    out[len] = '\0';
    return out;
}

/* Decides the answer for the request just recorded (index idx), waiting out
 * delays and hangs. Returns 0 when the server is stopping. */
static inline int httpd_answer_for(httpd *h, size_t idx)
{
    pthread_mutex_lock(&h->mu);
    int delay = h->delay_ms;
    int status = (int)idx < h->fail_first ? h->fail_status : 200;
    while (h->hang && !h->stopping)
        pthread_cond_wait(&h->cv, &h->mu);
    bool stop = h->stopping;
    pthread_mutex_unlock(&h->mu);
    if (stop)
        return 0;
    for (int waited = 0; waited < delay; waited += 10) {
        if (httpd_stopping(h))
            return 0;
        usleep(10000);
    }
    return status;
}

static inline size_t httpd_record(httpd *h, const char *head, size_t head_len, char *body, size_t blen)
{
    httpd_request r;
    memset(&r, 0, sizeof r);
    sscanf(head, "%15s %255s", r.method, r.path);
    const char *hs = strstr(head, "\r\n");
    r.headers = strndup(hs ? hs + 2 : "", hs ? head_len - (size_t)(hs + 2 - head) : 0);
    r.body = body;
    r.body_len = blen;
    pthread_mutex_lock(&h->mu);
    if (h->n_reqs == h->cap_reqs) {
        h->cap_reqs = h->cap_reqs ? h->cap_reqs * 2 : 16;
        h->reqs = realloc(h->reqs, h->cap_reqs * sizeof(*h->reqs));
    }
    size_t idx = h->n_reqs++;
    h->reqs[idx] = r;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    return idx;
}

static inline bool httpd_serve_one(httpd *h, int fd, char **pending, size_t *plen)
{
    char *buf = *pending;
    size_t len = *plen;
    char *end;
    while (!(end = buf ? memmem(buf, len, "\r\n\r\n", 4) : NULL)) {
        char tmp[65536];
        ssize_t n = httpd_read_some(h, fd, tmp, sizeof tmp);
        if (n < 0)
            return false;
        buf = realloc(buf, len + (size_t)n + 1);
        memcpy(buf + len, tmp, (size_t)n);
        len += (size_t)n;
        buf[len] = '\0';
        *pending = buf;
        *plen = len;
    }
    size_t head_len = (size_t)(end - buf) + 2;
    buf[head_len] = '\0';
    size_t clen_len = 0, blen = 0;
    const char *hs = strstr(buf, "\r\n");
    const char *cl = httpd_find_header(hs ? hs + 2 : "", "Content-Length", &clen_len);
    if (cl)
        blen = (size_t)strtoull(cl, NULL, 10);
    size_t have = len - head_len - 2;
    char *body = malloc(blen + 1);
    size_t got = have < blen ? have : blen;
    memcpy(body, end + 4, got);
    while (got < blen) {
        ssize_t n = httpd_read_some(h, fd, body + got, blen - got);
        if (n < 0) {
            free(body);
            return false;
        }
        got += (size_t)n;
    }
    body[blen] = '\0';
    size_t idx = httpd_record(h, buf, head_len, body, blen);
    /* Keep what follows this request for the next one. */
    size_t used = head_len + 2 + (have < blen ? have : blen);
    memmove(buf, buf + used, len - used);
    *plen = len - used;
    int status = httpd_answer_for(h, idx);
    if (status == 0)
        return false;
    httpd_reply rep;
    memset(&rep, 0, sizeof rep);
    rep.status = status;
    rep.body = "ok";
    rep.body_len = 2;
    pthread_mutex_lock(&h->mu);
    if (h->handler && status == 200)
        h->handler(h->handler_ud, &h->reqs[idx], &rep);
    char *out = malloc(rep.body_len + sizeof rep.headers + 128);
    int n = sprintf(out, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n", rep.status,
                    rep.status == 304 ? (size_t)0 : rep.body_len, rep.headers);
    if (rep.status != 304) {
        memcpy(out + n, rep.body, rep.body_len);
        n += (int)rep.body_len;
    }
    h->reqs[idx].status = rep.status;
    h->answered++;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    bool ok = httpd_send_all(fd, out, (size_t)n);
    free(out);
    return ok;
}

static inline void *httpd_conn_main(void *arg)
{
    httpd_conn *c = arg;
    char *pending = NULL;
    size_t plen = 0;
    while (httpd_serve_one(c->h, c->fd, &pending, &plen)) {
    }
    free(pending);
    close(c->fd);
    free(c);
    return NULL;
}

static inline void *httpd_accept_main(void *arg)
{
    httpd *h = arg;
    while (!httpd_stopping(h)) {
        struct pollfd p = {.fd = h->fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int fd = accept(h->fd, NULL, NULL);
        if (fd < 0)
            continue;
        httpd_conn *c = malloc(sizeof *c);
        c->h = h;
        c->fd = fd;
        pthread_mutex_lock(&h->mu);
        if (h->n_conns == h->cap_conns) {
            h->cap_conns = h->cap_conns ? h->cap_conns * 2 : 8;
            h->conns = realloc(h->conns, h->cap_conns * sizeof(*h->conns));
        }
        pthread_create(&h->conns[h->n_conns++], NULL, httpd_conn_main, c);
        pthread_mutex_unlock(&h->mu);
    }
    return NULL;
}

static inline int httpd_start(httpd *h)
{
    memset(h, 0, sizeof *h);
    h->fail_status = 500;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(h->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(h->fd, 64) != 0)
        return -1;
    socklen_t al = sizeof a;
    getsockname(h->fd, (struct sockaddr *)&a, &al);
    h->port = ntohs(a.sin_port);
    pthread_create(&h->acceptor, NULL, httpd_accept_main, h);
    return 0;
}

static inline void httpd_url(const httpd *h, const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", h->port, path);
}

/* Waits until at least n requests were answered; returns how many were. */
static inline size_t httpd_wait_answered(httpd *h, size_t n, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&h->mu);
    while (h->answered < n && pthread_cond_timedwait(&h->cv, &h->mu, &ts) == 0) {
    }
    size_t got = h->answered;
    pthread_mutex_unlock(&h->mu);
    return got;
}

static inline void httpd_stop(httpd *h)
{
    pthread_mutex_lock(&h->mu);
    h->stopping = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->acceptor, NULL);
    for (size_t i = 0; i < h->n_conns; i++)
        pthread_join(h->conns[i], NULL);
    close(h->fd);
    for (size_t i = 0; i < h->n_reqs; i++) {
        free(h->reqs[i].headers);
        free(h->reqs[i].body);
    }
    free(h->reqs);
    free(h->conns);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
}

/* Proof that a client sends requests together: the server holds every
 * answer until `want` new requests wait at once (or timeout_ms passed), then
 * lets them all go. A client sending one request at a time never gets past
 * the first. */
typedef struct httpd_gate {
    httpd *h;
    size_t want, base, answered;
    int timeout_ms;
    bool reached;         /* `want` requests waited at once */
    pthread_t thread;
} httpd_gate;

static inline void *httpd_gate_main(void *arg)
{
    httpd_gate *g = arg;
    for (int waited = 0; waited < g->timeout_ms; waited += 5) {
        pthread_mutex_lock(&g->h->mu);
        bool all = g->h->n_reqs - g->base >= g->want && g->h->answered == g->answered;
        pthread_mutex_unlock(&g->h->mu);
        if (all) {
            g->reached = true;
            break;
        }
        usleep(5000);
    }
    httpd_lock(g->h);
    g->h->hang = false;
    httpd_unlock(g->h);
    return NULL;
}

static inline void httpd_gate_start(httpd_gate *g, httpd *h, size_t want, int timeout_ms)
{
    httpd_lock(h);
    *g = (httpd_gate){.h = h, .want = want, .base = h->n_reqs, .answered = h->answered,
                      .timeout_ms = timeout_ms};
    h->hang = true;
    httpd_unlock(h);
    pthread_create(&g->thread, NULL, httpd_gate_main, g);
}

/* Waits for the gate to open; true when `want` requests waited at once. */
static inline bool httpd_gate_join(httpd_gate *g)
{
    pthread_join(g->thread, NULL);
    return g->reached;
}

/* ---- A flag server: documents by path, with ETags --------------------------- */

/* Serves up to 4 documents by path; each change gets a new ETag, and a
 * request whose If-None-Match names the current one gets a 304 (counted).
 * Unknown paths get a 404. Change documents with flagsrv_set(). */
typedef struct flagsrv_doc {
    char path[64];
    char *body;
    char etag[32];
} flagsrv_doc;

typedef struct flagsrv {
    httpd h;
    flagsrv_doc docs[4];
    int version;
    int ok200, not_modified;
    bool no_etag;
} flagsrv;

static inline void flagsrv_handler(void *ud, const httpd_request *r, httpd_reply *out)
{
    flagsrv *s = ud;
    for (int i = 0; i < 4; i++) {
        flagsrv_doc *d = &s->docs[i];
        if (!d->body || strcmp(d->path, r->path) != 0)
            continue;
        char inm[64];
        httpd_header(r, "If-None-Match", inm, sizeof inm);
        if (!s->no_etag && inm[0] && strcmp(inm, d->etag) == 0) {
            out->status = 304;
            s->not_modified++;
            return;
        }
        s->ok200++;
        out->body = d->body;
        out->body_len = strlen(d->body);
        if (!s->no_etag)
            snprintf(out->headers, sizeof out->headers, "ETag: %s\r\n", d->etag);
        return;
    }
    out->status = 404;
}

static inline void flagsrv_set(flagsrv *s, const char *path, const char *body)
{
    httpd_lock(&s->h);
    int slot = -1;
    for (int i = 0; i < 4 && slot < 0; i++)
        if (!s->docs[i].body || strcmp(s->docs[i].path, path) == 0)
            slot = i;
    flagsrv_doc *d = &s->docs[slot];
    free(d->body);
    snprintf(d->path, sizeof d->path, "%s", path);
    d->body = strdup(body);
    snprintf(d->etag, sizeof d->etag, "\"v%d\"", ++s->version);
    httpd_unlock(&s->h);
}

static inline int flagsrv_start(flagsrv *s)
{
    memset(s, 0, sizeof *s);
    int rc = httpd_start(&s->h);
    s->h.handler = flagsrv_handler;
    s->h.handler_ud = s;
    return rc;
}

static inline void flagsrv_stop(flagsrv *s)
{
    httpd_stop(&s->h);
    for (int i = 0; i < 4; i++)
        free(s->docs[i].body);
}

#endif
