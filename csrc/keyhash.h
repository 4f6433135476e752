/* The seeded 64-bit hash of the core's open-addressed tables of strings
 * (the journal index's keys, core.hashset's members). Inline: the journal
 * index hashes every record of a journal of millions of lines. No Lua here. */
#ifndef ION_KEYHASH_H
#define ION_KEYHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* A word at a time (keys are long paths), then a finalizer that lets every
 * bit of the string move every bit of the hash. */
static inline uint64_t ion_keyhash(uint64_t seed, const char *k, size_t n)
{
    uint64_t h = 1469598103934665603ULL ^ seed ^ n;
    for (; n >= 8; k += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, k, 8);
        h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 29;
    }
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
    h ^= h >> 31, h *= 0x7fb5d329728ea185ULL, h ^= h >> 27, h *= 0x81dadef4bc2dd44dULL,
        h ^= h >> 33;
    return h;
}

/* A table's own seed, from the time and its address: keys chosen to
 * collide cannot be worked out in advance. */
static inline uint64_t ion_keyhash_seed(const void *table)
{
    return (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)table;
}

#endif
