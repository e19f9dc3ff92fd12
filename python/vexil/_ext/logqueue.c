/*
 * logqueue.c: where the core's log messages wait for Python.
 *
 * The core calls its log callback from any thread, its own included. Those
 * threads must never take the GIL (interpreter shutdown and fork make that a
 * deadlock or a crash, bindings.md §3.2), so the callback only copies the
 * message into this queue; a Python thread of the package (vexil._runtime)
 * waits in vxpy_log_wait() with the GIL released and hands the messages to
 * logging.getLogger("vexil").
 *
 * The queue is process-wide and never freed: a late message from a core
 * thread must find valid memory even during interpreter teardown. It is
 * bounded; past the bound, messages are counted and the count is reported.
 */
#include "vexil_ext.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_MAX_QUEUED 100000

typedef struct lq_item {
    struct lq_item *next;
    int level;
    size_t len;
    char text[];
} lq_item;

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_cond_t settled;   /* the log thread came back for more */
    lq_item *head, *tail;
    size_t count;
    unsigned long long dropped;
    int stop;
    int in_flight;            /* the log thread took messages it has not emitted yet */
} lq = {.mu = PTHREAD_MUTEX_INITIALIZER};

volatile int vxpy_host_exiting;

static void cv_init(void)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&lq.cv, &a);
    pthread_cond_init(&lq.settled, &a);
    pthread_condattr_destroy(&a);
}

/* The forking thread holds the lock across fork() (critical sections are a
 * few pointer moves), so the child's copy of the queue is consistent and the
 * child's copy of that thread owns the lock: it releases it, as the parent
 * does. The child starts with an empty queue (what was queued is the
 * parent's to print); the condition variable may have had waiters that do
 * not exist in the child. */
/* Registered at module exec, before vexil's own fork handlers (they come
 * with the first engine), so this prepare handler runs after theirs: a vexil
 * thread that logs while holding one of vexil's locks gets this lock before
 * the forking thread does, and no cycle forms. */
static void before_fork(void)
{
    pthread_mutex_lock(&lq.mu);
}

static void after_fork_parent(void)
{
    pthread_mutex_unlock(&lq.mu);
}

static void after_fork_child(void)
{
    lq_item *all = lq.head;
    lq.head = lq.tail = NULL;
    lq.count = 0;
    lq.dropped = 0;
    lq.stop = 0;
    lq.in_flight = 0;
    cv_init();
    pthread_mutex_unlock(&lq.mu);
    while (all) {
        lq_item *next = all->next;
        free(all);
        all = next;
    }
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
    cv_init();
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

void vxpy_log_init(void)
{
    pthread_once(&once, init_once);
}

void vxpy_log_callback(void *user_data, vx_log_level level, const char *message)
{
    (void)user_data;
    size_t len = strlen(message);
    lq_item *it = malloc(sizeof(*it) + len + 1);
    pthread_mutex_lock(&lq.mu);
    if (!it || lq.count >= LOG_MAX_QUEUED) {
        lq.dropped++;
        pthread_mutex_unlock(&lq.mu);
        free(it);
        return;
    }
    it->next = NULL;
    it->level = (int)level;
    it->len = len;
    memcpy(it->text, message, len + 1);
    if (lq.tail)
        lq.tail->next = it;
    else
        lq.head = it;
    lq.tail = it;
    lq.count++;
    pthread_cond_signal(&lq.cv);
    pthread_mutex_unlock(&lq.mu);
}

static void deadline_in(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Takes everything queued, waiting up to ms (0: just look). The log
 * thread's takes are `tracked`: between one and its next call, what it took
 * is in flight (vxpy_log_settle waits for it). */
static lq_item *take(int64_t ms, bool tracked, unsigned long long *dropped, int *stopped)
{
    struct timespec ts;
    deadline_in(&ts, ms);
    pthread_mutex_lock(&lq.mu);
    if (tracked && lq.in_flight) {
        lq.in_flight = 0;
        pthread_cond_broadcast(&lq.settled);
    }
    while (!lq.head && !lq.stop && ms > 0)
        if (pthread_cond_timedwait(&lq.cv, &lq.mu, &ts) == ETIMEDOUT)
            break;
    lq_item *all = lq.head;
    lq.head = lq.tail = NULL;
    lq.count = 0;
    *dropped = lq.dropped;
    lq.dropped = 0;
    *stopped = lq.stop;
    if (tracked && (all || *dropped))
        lq.in_flight = 1;
    pthread_mutex_unlock(&lq.mu);
    return all;
}

static const int py_levels[] = {10, 20, 30, 40, 50};

static PyObject *as_list(lq_item *all, unsigned long long dropped)
{
    PyObject *list = PyList_New(0);
    for (lq_item *it = all, *next; it; it = next) {
        next = it->next;
        if (list) {
            PyObject *t = Py_BuildValue("(iN)", py_levels[it->level < 0 || it->level > 4 ? 3 : it->level],
                                        vxpy_str(it->text, (Py_ssize_t)it->len));
            if (!t || PyList_Append(list, t) < 0)
                Py_CLEAR(list);
            Py_XDECREF(t);
        }
        free(it);
    }
    if (list && dropped) {
        PyObject *t = Py_BuildValue("(iN)", 30, PyUnicode_FromFormat(
            "%llu log messages were dropped (the queue was full)", dropped));
        if (!t || PyList_Append(list, t) < 0)
            Py_CLEAR(list);
        Py_XDECREF(t);
    }
    return list;
}

static PyObject *wait_as(PyObject *arg, bool tracked)
{
    int64_t ms;
    if (vxpy_timeout_ms(arg, &ms) < 0)
        return NULL;
    if (ms < 0)
        ms = 3600 * 1000;
    unsigned long long dropped;
    int stopped;
    lq_item *all;
    Py_BEGIN_ALLOW_THREADS
    all = take(ms, tracked, &dropped, &stopped);
    Py_END_ALLOW_THREADS
    if (!all && !dropped && stopped)
        Py_RETURN_NONE;
    return as_list(all, dropped);
}

/* The log thread's wait (vexil._runtime._log_loop). */
PyObject *vxpy_log_wait(PyObject *module, PyObject *arg)
{
    return wait_as(arg, true);
}

/* What is queued now, for another thread to emit (0 waits nothing). */
PyObject *vxpy_log_take(PyObject *module, PyObject *arg)
{
    return wait_as(arg, false);
}

/* Waits up to the timeout until the queue is empty and the log thread has
 * emitted what it took, so a message the core logged before this call has
 * reached logging when it returns True. */
PyObject *vxpy_log_settle(PyObject *module, PyObject *arg)
{
    int64_t ms;
    if (vxpy_timeout_ms(arg, &ms) < 0)
        return NULL;
    if (ms < 0)
        ms = 3600 * 1000;
    bool settled;
    Py_BEGIN_ALLOW_THREADS
    struct timespec ts;
    deadline_in(&ts, ms);
    pthread_mutex_lock(&lq.mu);
    while ((lq.head || lq.dropped || lq.in_flight) && !lq.stop)
        if (pthread_cond_timedwait(&lq.settled, &lq.mu, &ts) == ETIMEDOUT)
            break;
    settled = !lq.head && !lq.dropped && !lq.in_flight;
    pthread_mutex_unlock(&lq.mu);
    Py_END_ALLOW_THREADS
    return PyBool_FromLong(settled);
}

PyObject *vxpy_log_stop(PyObject *module, PyObject *unused)
{
    pthread_mutex_lock(&lq.mu);
    lq.stop = 1;
    pthread_cond_broadcast(&lq.cv);
    pthread_mutex_unlock(&lq.mu);
    Py_RETURN_NONE;
}

PyObject *vxpy_log_restart(PyObject *module, PyObject *unused)
{
    pthread_mutex_lock(&lq.mu);
    lq.stop = 0;
    pthread_mutex_unlock(&lq.mu);
    Py_RETURN_NONE;
}
