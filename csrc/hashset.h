/* A set of strings that keeps only a seeded 64-bit hash of each member
 * (hashset.c): 8 bytes a slot in an open-addressed table at most 3/4 full.
 * Two strings with one hash read as one member: with a seeded 64-bit hash
 * that is about 2^-64 a lookup, far below the disk's own error rate, and
 * the seed (per set) keeps a name chosen to collide from being worked out
 * in advance. No Lua here: lua_hashset.c is its Lua face, core.hashset. */
#ifndef ION_HASHSET_H
#define ION_HASHSET_H

#include <stddef.h>
#include <stdint.h>

#include "hidden.h"

typedef struct {
    uint64_t *slots;
    size_t cap, live, dead;
    uint64_t seed;
} ion_hashset;

/* An empty set seeded from its own address: 0, or -1 out of memory. */
ION_HIDDEN int ion_hashset_init(ion_hashset *s);
ION_HIDDEN void ion_hashset_free(ion_hashset *s);
/* 1 when p was not a member (it is now), 0 when it was; -1 out of memory. */
ION_HIDDEN int ion_hashset_add(ion_hashset *s, const char *p, size_t n);
ION_HIDDEN int ion_hashset_has(const ion_hashset *s, const char *p, size_t n);
/* 1 when p was a member (it is not now), else 0. */
ION_HIDDEN int ion_hashset_remove(ion_hashset *s, const char *p, size_t n);

#endif
