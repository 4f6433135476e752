/* The Lua binding of the shard split (shard.h): core.shard_bucket(key, n)
 * -> 0 .. n-1, and core.fnv1a64(key) -> its 16 hex digits (for the docs'
 * test vectors and for tools that reproduce a shard). */
#include <stdio.h>

#include "internal.h"
#include "shard.h"

/* The most shards a split may have; shard.lua says why. */
#define SHARD_MAX 4096

static int shard_bucket(lua_State *L)
{
    size_t len;
    const char *k = luaL_checklstring(L, 1, &len);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_argcheck(L, n >= 1 && n <= SHARD_MAX, 2, "shard count out of range");
    lua_pushinteger(L, (lua_Integer)ion_jump_bucket(ion_fnv1a64(k, len), (int32_t)n));
    return 1;
}

static int fnv1a64(lua_State *L)
{
    size_t len;
    const char *k = luaL_checklstring(L, 1, &len);
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)ion_fnv1a64(k, len));
    lua_pushstring(L, hex);
    return 1;
}

void ion_shard_open_lib(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"shard_bucket", shard_bucket},
        {"fnv1a64", fnv1a64},
        {NULL, NULL},
    };
    ion_setfuncs(L, funcs);
}
