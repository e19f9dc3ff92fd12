/* The real local servers of tests/servers/ from C tests: started through
 * `python3 tests/servers/cli.py start NAME` (which installs the server into
 * the cache when needed), which prints one JSON line describing it and keeps
 * it running until its stdin closes. Run from the repository root, as
 * `make test-c` does. */
#ifndef VX_TEST_SERVERS_H
#define VX_TEST_SERVERS_H

#include "vexil.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct test_server {
    pid_t cli;          /* the launcher */
    int stdin_fd;       /* closing it stops the server */
    pid_t pid;          /* the server itself (its own process group) */
    int port;
    vx_doc *info;       /* the JSON line */
} test_server;

/* A string member of the server's description, or "". */
static inline const char *test_server_get(const test_server *s, const char *key)
{
    const vx_value *v = s->info ? vx_value_get(vx_doc_root(s->info), key) : NULL;
    return v ? vx_value_get_string(v, NULL) : "";
}

static inline bool test_server_start(test_server *s, const char *name)
{
    memset(s, 0, sizeof *s);
    int in[2], out[2];
    /* Close-on-exec, so a second launcher does not hold the first one's
     * stdin open (its end would never see EOF). */
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        return false;
    /* The project's venv when there is one; the launcher needs only the
     * standard library, and servers written in Python bring their own. */
    const char *py = getenv("VX_TEST_PYTHON");
    if (!py)
        py = access("out/pyvenv/bin/python", X_OK) == 0 ? "out/pyvenv/bin/python" : "python3";
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execlp(py, py, "tests/servers/cli.py", "start", name, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    s->cli = pid;
    s->stdin_fd = in[1];
    char line[8192];
    size_t n = 0;
    while (n + 1 < sizeof line) {
        ssize_t r = read(out[0], line + n, 1);
        if (r <= 0 || line[n] == '\n')
            break;
        n++;
    }
    close(out[0]);
    line[n] = '\0';
    s->info = vx_doc_new();
    if (!n || vx_doc_parse_json(s->info, line, n, NULL) != VX_OK) {
        fprintf(stderr, "test server %s did not start\n", name);
        return false;
    }
    s->port = (int)vx_value_get_int(vx_value_get(vx_doc_root(s->info), "port"));
    s->pid = (pid_t)vx_value_get_int(vx_value_get(vx_doc_root(s->info), "pid"));
    return s->port > 0;
}

/* Waits until every thread of pid is stopped: a signal takes a moment to
 * reach a busy process, which meanwhile may still answer. */
static inline void test_wait_stopped(pid_t pid)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    for (int tries = 0; tries < 1000; tries++) {
        DIR *d = opendir(dir);
        if (!d)
            return;
        bool all = true;
        struct dirent *t;
        while ((t = readdir(d))) {
            if (t->d_name[0] == '.')
                continue;
            char path[384], line[512] = "";
            snprintf(path, sizeof path, "%s/%s/stat", dir, t->d_name);
            FILE *f = fopen(path, "r");
            if (f && fgets(line, sizeof line, f)) {
                const char *paren = strrchr(line, ')');
                if (paren && paren[1] == ' ' && paren[2] != 'T' && paren[2] != 't')
                    all = false;
            }
            if (f)
                fclose(f);
        }
        closedir(d);
        if (all)
            return;
        usleep(5000);
    }
}

/* A hanging server: it keeps its connections but answers nothing. Returns
 * once it is stopped, so nothing sent after this call is answered. */
static inline void test_server_pause(test_server *s)
{
    if (s->pid > 0) {
        kill(-s->pid, SIGSTOP);
        test_wait_stopped(s->pid);
    }
}

static inline void test_server_resume(test_server *s)
{
    if (s->pid > 0)
        kill(-s->pid, SIGCONT);
}

static inline void test_server_stop(test_server *s)
{
    if (s->stdin_fd > 0) {
        test_server_resume(s);
        close(s->stdin_fd);
        int st;
        waitpid(s->cli, &st, 0);
    }
    vx_doc_free(s->info);
    memset(s, 0, sizeof *s);
}

#endif
