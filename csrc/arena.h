/* A chunked bump allocator: everything a configuration, a document or a
 * context builds lives in one arena and dies with it, so compiled data needs no
 * per-node frees and evaluation needs no mallocs. */
#ifndef VX_ARENA_H
#define VX_ARENA_H

#include <stddef.h>

typedef struct vx_arena_chunk vx_arena_chunk;

typedef struct vx_arena {
    vx_arena_chunk *head;   /* chunk being filled */
    vx_arena_chunk *first;  /* kept across vx_arena_reset */
    size_t total;           /* bytes obtained from malloc, for accounting */
} vx_arena;

void vx_arena_init(vx_arena *a);
/* Returns zeroed memory aligned to 16 bytes, or NULL when out of memory. */
void *vx_arena_alloc(vx_arena *a, size_t size);
/* Copies len bytes and appends a NUL. */
char *vx_arena_strndup(vx_arena *a, const char *s, size_t len);
/* Frees every chunk but the first, which is kept (emptied) for reuse. */
void vx_arena_reset(vx_arena *a);
void vx_arena_free(vx_arena *a);

#endif
