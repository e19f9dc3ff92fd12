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

#define ARENA_MAX_CHUNK (1u << 20)

void vx_arena_init(vx_arena *a)
{
    vx_arena_init_small(a, VX_ARENA_MIN_CHUNK);
}

void vx_arena_init_small(vx_arena *a, size_t min_chunk)
{
    a->head = NULL;
    a->first = NULL;
    a->total = 0;
    a->min_chunk = min_chunk ? min_chunk : VX_ARENA_MIN_CHUNK;
}

static vx_arena_chunk *chunk_new(vx_arena *a, size_t need)
{
    /* Chunks grow with the arena so big documents make few mallocs. */
    size_t size = a->total < a->min_chunk ? a->min_chunk : a->total;
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

/* `size` bytes at `align` (a power of two up to 16) in the current chunk, in
 * a kept chunk after it, or in a new chunk inserted after it (kept chunks stay
 * in the list for later). */
static void *bump(vx_arena *a, size_t size, size_t align)
{
    vx_arena_chunk *c = a->head;
    if (c) {
        size_t at = (c->used + align - 1) & ~(align - 1);
        if (at <= c->size && c->size - at >= size) {
            c->used = at + size;
            return c->data + at;
        }
        vx_arena_chunk *n = c->next;
        if (n && n->used == 0 && n->size >= size) {
            a->head = n;
            n->used = size;
            return n->data;
        }
    }
    vx_arena_chunk *n = chunk_new(a, size);
    if (!n)
        return NULL;
    if (c) {
        n->next = c->next;
        c->next = n;
    } else {
        a->first = n;
    }
    a->head = n;
    n->used = size;
    return n->data;
}

void *vx_arena_alloc_raw(vx_arena *a, size_t size)
{
    if (size > SIZE_MAX - 15)
        return NULL;
    size = (size + 15) & ~(size_t)15;
    if (size == 0)
        size = 16;
    return bump(a, size, 16);
}

void *vx_arena_alloc(vx_arena *a, size_t size)
{
    void *p = vx_arena_alloc_raw(a, size);
    if (p)
        memset(p, 0, (size + 15) & ~(size_t)15);
    return p;
}

char *vx_arena_strndup(vx_arena *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = bump(a, len + 1, 1);
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
    if (!a->first->next) { /* the common case: one chunk */
        a->first->used = 0;
        a->head = a->first;
        return;
    }
    size_t kept = 0;
    vx_arena_chunk **link = &a->first;
    while (*link) {
        vx_arena_chunk *c = *link;
        if (c != a->first && kept + c->size > VX_ARENA_KEEP) {
            *link = c->next;
            a->total -= c->size;
            free(c);
            continue;
        }
        kept += c->size;
        c->used = 0;
        link = &c->next;
    }
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
    vx_arena_init_small(a, a->min_chunk);
}
