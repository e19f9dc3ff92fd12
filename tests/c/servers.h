/* The real local servers of tests/servers/ from C tests: started through
 * `python3 tests/servers/cli.py start NAME` (which installs the server into
 * the cache first if needed), described by its one JSON line, stopped by
 * closing its stdin. Run the tests from the checkout's root. */
#ifndef VX_TEST_SERVERS_H
#define VX_TEST_SERVERS_H

#include "json.h"
#include "vexil.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct test_server {
    pid_t pid;
    int to_child;        /* its stdin: closing it stops the server */
    vx_doc *info;        /* the JSON line */
} test_server;

static inline const char *test_server_str(const test_server *s, const char *key)
{
    const vx_value *v = s->info ? vx_value_get(vx_doc_root(s->info), key) : NULL;
    return v && v->type == VX_STRING ? v->u.s : "";
}

static inline long test_server_int(const test_server *s, const char *key)
{
    const vx_value *v = s->info ? vx_value_get(vx_doc_root(s->info), key) : NULL;
    return v && v->type == VX_INT ? (long)v->u.i : 0;
}

static inline const char *test_python(void)
{
    return access("out/pyvenv/bin/python", X_OK) == 0 ? "out/pyvenv/bin/python" : "python3";
}

/* False (with a message on stderr) when the server did not start. */
static inline bool test_server_start(test_server *s, const char *name)
{
    memset(s, 0, sizeof *s);
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0)
        return false;
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        const char *py = test_python();
        execlp(py, py, "tests/servers/cli.py", "start", name, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    s->pid = pid;
    s->to_child = in[1];
    char line[4096];
    size_t n = 0;
    while (n < sizeof line - 1) {
        ssize_t r = read(out[0], line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    line[n] = '\0';
    close(out[0]);
    s->info = vx_doc_new();
    if (!n || vx_json_parse(s->info, line, n, VX_JSON_PLAIN, NULL) != VX_OK) {
        fprintf(stderr, "test server %s did not start\n", name);
        return false;
    }
    return true;
}

static inline void test_server_stop(test_server *s)
{
    if (s->to_child > 0)
        close(s->to_child);
    if (s->pid > 0) {
        int status;
        waitpid(s->pid, &status, 0);
    }
    vx_doc_free(s->info);
    memset(s, 0, sizeof *s);
}

#endif
