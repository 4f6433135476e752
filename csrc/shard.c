/* The shard of a key (shard.h). Not ion_keyhash (keyhash.h): that one is
 * seeded per table and may change; a shard must be the same on every
 * machine and in every version. */
#include "shard.h"

uint64_t ion_fnv1a64(const char *k, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ULL;
    return h;
}

/* Jump consistent hash (Lamping, Veach 2014, arXiv:1406.2294), as
 * published. Why not hash % n: FNV-1a's low bits follow the bytes' low
 * bits (the lowest is their parity), and a modulus by a power of two reads
 * only those; the jump reads the top bits of a 64-bit LCG step. */
int32_t ion_jump_bucket(uint64_t key, int32_t n)
{
    int64_t b = -1, j = 0;
    while (j < n) {
        b = j;
        key = key * 2862933555777941757ULL + 1;
        j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((key >> 33) + 1)));
    }
    return (int32_t)b;
}
