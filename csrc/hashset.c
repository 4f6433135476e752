/* A set of strings kept as seeded 64-bit hashes (hashset.h). */
#include <stdlib.h>

#include "hashset.h"
#include "keyhash.h"

#define HS_EMPTY 0u
#define HS_DEAD 1u /* a removed member: lookups go on past it */

/* 0 and 1 are the table's marks. */
static uint64_t hash_of(const ion_hashset *s, const char *p, size_t n)
{
    uint64_t h = ion_keyhash(s->seed, p, n);
    return h < 2 ? h + 2 : h;
}

/* The slot of h, or the first free one on its probe path (dead or empty). */
static size_t find_slot(const ion_hashset *s, uint64_t h, int *found)
{
    size_t mask = s->cap - 1, i = (size_t)h & mask, free_at = SIZE_MAX;
    for (;;) {
        uint64_t v = s->slots[i];
        if (v == h) {
            *found = 1;
            return i;
        }
        if (v == HS_DEAD && free_at == SIZE_MAX)
            free_at = i;
        if (v == HS_EMPTY) {
            *found = 0;
            return free_at == SIZE_MAX ? i : free_at;
        }
        i = (i + 1) & mask;
    }
}

/* A table of cap slots with the live members moved in (the dead left out). */
static int rehash(ion_hashset *s, size_t cap)
{
    uint64_t *old = s->slots;
    size_t old_cap = s->cap;
    uint64_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return 0;
    s->slots = slots, s->cap = cap, s->dead = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i] >= 2) {
            int found;
            slots[find_slot(s, old[i], &found)] = old[i];
        }
    }
    free(old);
    return 1;
}

int ion_hashset_init(ion_hashset *s)
{
    s->seed = ion_keyhash_seed(s);
    s->slots = calloc(16, sizeof *s->slots);
    if (!s->slots)
        return -1;
    s->cap = 16;
    s->live = s->dead = 0;
    return 0;
}

void ion_hashset_free(ion_hashset *s)
{
    free(s->slots);
    s->slots = NULL, s->cap = 0;
}

int ion_hashset_add(ion_hashset *s, const char *p, size_t n)
{
    uint64_t h = hash_of(s, p, n);
    int found;
    size_t i;
    if ((s->live + s->dead + 1) * 4 > s->cap * 3) {
        size_t cap = (s->live + 1) * 2 > s->cap ? s->cap * 2 : s->cap; /* or only sweep the dead */
        if (!rehash(s, cap))
            return -1;
    }
    i = find_slot(s, h, &found);
    if (!found) {
        if (s->slots[i] == HS_DEAD)
            s->dead--;
        s->slots[i] = h;
        s->live++;
    }
    return !found;
}

int ion_hashset_has(const ion_hashset *s, const char *p, size_t n)
{
    int found;
    find_slot(s, hash_of(s, p, n), &found);
    return found;
}

int ion_hashset_remove(ion_hashset *s, const char *p, size_t n)
{
    int found;
    size_t i = find_slot(s, hash_of(s, p, n), &found);
    if (found) {
        s->slots[i] = HS_DEAD;
        s->live--, s->dead++;
    }
    return found;
}
