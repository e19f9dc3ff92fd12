#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct vx_arena_chunk {
    vx_arena_chunk *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

#define ARENA_MIN_CHUNK 4096u
#define ARENA_MAX_CHUNK (1u << 20)

void vx_arena_init(vx_arena *a)
{
    a->head = NULL;
    a->first = NULL;
    a->total = 0;
}

static vx_arena_chunk *chunk_new(vx_arena *a, size_t need)
{
    /* Chunks grow with the arena so big documents make few mallocs. */
    size_t size = a->total < ARENA_MIN_CHUNK ? ARENA_MIN_CHUNK : a->total;
    if (size > ARENA_MAX_CHUNK)
        size = ARENA_MAX_CHUNK;
    if (size < need)
        size = need;
    if (size > SIZE_MAX - sizeof(vx_arena_chunk))
        return NULL;
    vx_arena_chunk *c = malloc(sizeof(*c) + size);
    if (!c)
        return NULL;
    c->size = size;
    c->used = 0;
    c->next = NULL;
    a->total += size;
    return c;
}

void *vx_arena_alloc(vx_arena *a, size_t size)
{
    if (size > SIZE_MAX - 15)
        return NULL;
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    vx_arena_chunk *c = a->head;
    if (!c || c->size - c->used < size) {
        vx_arena_chunk *n = chunk_new(a, size);
        if (!n)
            return NULL;
        if (c)
            c->next = n;
        else
            a->first = n;
        a->head = c = n;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *vx_arena_strndup(vx_arena *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = vx_arena_alloc(a, len + 1);
    if (!p)
        return NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void vx_arena_reset(vx_arena *a)
{
    if (!a->first)
        return;
    vx_arena_chunk *c = a->first->next;
    while (c) {
        vx_arena_chunk *n = c->next;
        a->total -= c->size;
        free(c);
        c = n;
    }
    a->first->next = NULL;
    a->first->used = 0;
    a->head = a->first;
}

void vx_arena_free(vx_arena *a)
{
    vx_arena_chunk *c = a->first;
    while (c) {
        vx_arena_chunk *n = c->next;
        free(c);
        c = n;
    }
    vx_arena_init(a);
}
