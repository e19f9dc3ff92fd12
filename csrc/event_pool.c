/* Recycled memory for small events. The evaluating threads allocate events
 * and the exporter threads free them; through malloc that is a cross-thread
 * free per event, which serialises both sides on the allocator's arena lock.
 * Here each thread keeps a private stack of fixed-size blocks, and blocks
 * move between threads through a global stack in chunks, one lock per chunk.
 * Under AddressSanitizer blocks go straight to malloc/free so that
 * use-after-free stays detectable. */
#include "events.h"

#include <pthread.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define VX_POOL_ENABLED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VX_POOL_ENABLED 0
#endif
#endif
#ifndef VX_POOL_ENABLED
#define VX_POOL_ENABLED 1
#endif

#define TL_MAX 512         /* a thread keeps at most this many */
#define MOVE 256           /* blocks moved per lock */
#define GLOBAL_MAX 65536   /* 16 MiB parked at most */

typedef struct block {
    struct block *next;
} block;

typedef struct tl_pool {
    block *head;
    unsigned n;
    bool registered;
} tl_pool;

static _Thread_local tl_pool tl;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static block *g_head;
static size_t g_n;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t key;

/* Moves up to `count` blocks from the thread's stack to the global one; what
 * the global stack has no room for is freed. */
static void spill(tl_pool *t, unsigned count)
{
    block *chain = NULL, *last = NULL;
    unsigned moved = 0;
    pthread_mutex_lock(&g_mu);
    while (t->head && moved < count && g_n + moved < GLOBAL_MAX) {
        block *b = t->head;
        t->head = b->next;
        b->next = chain;
        if (!chain)
            last = b;
        chain = b;
        moved++;
    }
    if (chain) {
        last->next = g_head;
        g_head = chain;
        g_n += moved;
    }
    pthread_mutex_unlock(&g_mu);
    t->n -= moved;
    while (count > moved && t->head) {
        block *b = t->head;
        t->head = b->next;
        free(b);
        t->n--;
        count--;
    }
}

static void on_thread_exit(void *arg)
{
    tl_pool *t = arg;
    spill(t, t->n);
}

static void make_key(void)
{
    pthread_key_create(&key, on_thread_exit);
}

static void refill(tl_pool *t)
{
    if (!t->registered) {
        pthread_once(&key_once, make_key);
        pthread_setspecific(key, t);
        t->registered = true;
    }
    pthread_mutex_lock(&g_mu);
    while (g_head && t->n < MOVE) {
        block *b = g_head;
        g_head = b->next;
        g_n--;
        b->next = t->head;
        t->head = b;
        t->n++;
    }
    pthread_mutex_unlock(&g_mu);
}

void *vx_event_block_get(size_t size)
{
    if (!VX_POOL_ENABLED || size > VX_EVENT_BLOCK)
        return malloc(size);
    tl_pool *t = &tl;
    if (!t->head)
        refill(t);
    block *b = t->head;
    if (!b)
        return malloc(VX_EVENT_BLOCK);
    t->head = b->next;
    t->n--;
    return b;
}

void vx_event_block_put(void *p, size_t size)
{
    if (!VX_POOL_ENABLED || size > VX_EVENT_BLOCK) {
        free(p);
        return;
    }
    tl_pool *t = &tl;
    if (!t->registered) {
        pthread_once(&key_once, make_key);
        pthread_setspecific(key, t);
        t->registered = true;
    }
    block *b = p;
    b->next = t->head;
    t->head = b;
    if (++t->n > TL_MAX)
        spill(t, MOVE);
}

void vx_event_pool_atfork_prepare(void)
{
    pthread_mutex_lock(&g_mu);
}

void vx_event_pool_atfork_parent(void)
{
    pthread_mutex_unlock(&g_mu);
}

/* The forking thread took g_mu in prepare and its copy in the child owns
 * it: unlock it, as in the parent (re-initialising a locked mutex is
 * undefined and hides the hand-over from ThreadSanitizer). */
void vx_event_pool_atfork_child(void)
{
    pthread_mutex_unlock(&g_mu);
}
