/* core.hashset(): a set of strings that keeps only a 64-bit hash of each
 * member, 8 bytes a slot in an open-addressed table at most 3/4 full. The
 * hot folder remembers every (path, size, mtime) it has uploaded for as long
 * as it runs (lua/ion/upload/watch/candidates.lua); as Lua strings that was
 * about 110 bytes a file, here it is 11-21. Two strings with one hash read
 * as one member: with a seeded 64-bit hash that is about 2^-64 a lookup,
 * far below the disk's own error rate, and the seed (per set) keeps a file
 * name chosen to collide from being worked out in advance. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "keyhash.h"

#define HS_MT "ion.upload.core.hashset"
#define HS_EMPTY 0u
#define HS_DEAD 1u /* a removed member: lookups go on past it */

typedef struct {
    uint64_t *slots;
    size_t cap, live, dead;
    uint64_t seed;
} hashset;

/* 0 and 1 are the table's marks. */
static uint64_t hash_of(const hashset *s, const char *p, size_t n)
{
    uint64_t h = ion_keyhash(s->seed, p, n);
    return h < 2 ? h + 2 : h;
}

/* The slot of h, or the first free one on its probe path (dead or empty). */
static size_t find_slot(const hashset *s, uint64_t h, int *found)
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
static int rehash(hashset *s, size_t cap)
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

static hashset *check_set(lua_State *L)
{
    return luaL_checkudata(L, 1, HS_MT);
}

static uint64_t arg_hash(lua_State *L, const hashset *s)
{
    size_t n;
    const char *p = luaL_checklstring(L, 2, &n);
    return hash_of(s, p, n);
}

/* set:add(s) -> true when s was not a member */
static int hs_add(lua_State *L)
{
    hashset *s = check_set(L);
    uint64_t h = arg_hash(L, s);
    if ((s->live + s->dead + 1) * 4 > s->cap * 3) {
        size_t cap = (s->live + 1) * 2 > s->cap ? s->cap * 2 : s->cap; /* or only sweep the dead */
        if (!rehash(s, cap))
            return luaL_error(L, "hashset: out of memory");
    }
    int found;
    size_t i = find_slot(s, h, &found);
    if (!found) {
        if (s->slots[i] == HS_DEAD)
            s->dead--;
        s->slots[i] = h;
        s->live++;
    }
    lua_pushboolean(L, !found);
    return 1;
}

static int hs_has(lua_State *L)
{
    hashset *s = check_set(L);
    int found;
    find_slot(s, arg_hash(L, s), &found);
    lua_pushboolean(L, found);
    return 1;
}

/* set:remove(s) -> true when s was a member */
static int hs_remove(lua_State *L)
{
    hashset *s = check_set(L);
    int found;
    size_t i = find_slot(s, arg_hash(L, s), &found);
    if (found) {
        s->slots[i] = HS_DEAD;
        s->live--, s->dead++;
    }
    lua_pushboolean(L, found);
    return 1;
}

/* set:count() -> members, bytes held */
static int hs_count(lua_State *L)
{
    hashset *s = check_set(L);
    lua_pushinteger(L, (lua_Integer)s->live);
    lua_pushinteger(L, (lua_Integer)(s->cap * sizeof *s->slots));
    return 2;
}

static int hs_gc(lua_State *L)
{
    hashset *s = check_set(L);
    free(s->slots);
    s->slots = NULL, s->cap = 0;
    return 0;
}

static int new_hashset(lua_State *L)
{
    hashset *s = ion_newuserdata(L, sizeof *s);
    memset(s, 0, sizeof *s);
    ion_setmetatable(L, HS_MT);
    s->seed = ion_keyhash_seed(s);
    s->slots = calloc(16, sizeof *s->slots);
    if (!s->slots)
        return luaL_error(L, "hashset: out of memory");
    s->cap = 16;
    return 1;
}

void ion_hashset_open_lib(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"add", hs_add}, {"has", hs_has}, {"remove", hs_remove}, {"count", hs_count}, {NULL, NULL},
    };
    static const luaL_Reg funcs[] = {{"hashset", new_hashset}, {NULL, NULL}};
    ion_new_class(L, HS_MT, methods, hs_gc, NULL, 0);
    ion_setfuncs(L, funcs);
}
