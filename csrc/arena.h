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
    size_t min_chunk;       /* size of the first chunk (0: VX_ARENA_MIN_CHUNK) */
} vx_arena;

#define VX_ARENA_MIN_CHUNK 4096u

void vx_arena_init(vx_arena *a);
/* An arena whose first chunk is `min_chunk` bytes: small objects that are
 * created by the million (contexts) start small and grow geometrically. */
void vx_arena_init_small(vx_arena *a, size_t min_chunk);
/* Returns zeroed memory aligned to 16 bytes, or NULL when out of memory. */
void *vx_arena_alloc(vx_arena *a, size_t size);
/* The same, not zeroed: for hot paths that write every field they read. */
void *vx_arena_alloc_raw(vx_arena *a, size_t size);
/* Copies len bytes and appends a NUL. Strings are packed (no alignment). */
char *vx_arena_strndup(vx_arena *a, const char *s, size_t len);
/* Empties the arena for reuse. Chunks are kept while they add up to at most
 * VX_ARENA_KEEP bytes (so a context reused for similar calls stops calling
 * malloc), the rest are freed. */
void vx_arena_reset(vx_arena *a);
void vx_arena_free(vx_arena *a);

#define VX_ARENA_KEEP ((size_t)64 << 10)

#endif
