/* The split of `--shard K/N` (lua/ion/upload/shard.lua): which of N shards
 * a key (a path relative to the folder walked) falls in. Both functions are
 * published algorithms, so that another tool can reproduce a shard:
 * FNV-1a 64 of the key's bytes, then Lamping and Veach's jump consistent
 * hash of that into N buckets. No Lua here: lua_shard.c is its Lua face. */
#ifndef ION_SHARD_H
#define ION_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "hidden.h"

/* FNV-1a, 64 bits: offset basis 14695981039346656037, prime 1099511628211. */
ION_HIDDEN uint64_t ion_fnv1a64(const char *k, size_t n);

/* The bucket of `key` among n (n >= 1): 0 .. n-1. */
ION_HIDDEN int32_t ion_jump_bucket(uint64_t key, int32_t n);

#endif
