/* The Lua binding of the hashset (hashset.h): core.hashset(), a set of
 * strings kept as seeded 64-bit hashes. The hot folder remembers every
 * (path, size, mtime) it has uploaded for as long as it runs
 * (lua/ion/upload/watch/candidates.lua); as Lua strings that was about 110
 * bytes a file, here it is 11-21. */
#include <string.h>

#include "hashset.h"
#include "internal.h"

#define HS_MT "ion.upload.core.hashset"

static ion_hashset *check_set(lua_State *L)
{
    return luaL_checkudata(L, 1, HS_MT);
}

/* set:add(s) -> true when s was not a member; set:has(s); set:remove(s) ->
 * true when s was a member. `op` is which of the three. */
static int member(lua_State *L, char op)
{
    ion_hashset *s = check_set(L);
    size_t n;
    const char *p = luaL_checklstring(L, 2, &n);
    int r = op == '+'   ? ion_hashset_add(s, p, n)
            : op == '?' ? ion_hashset_has(s, p, n)
                        : ion_hashset_remove(s, p, n);
    if (r < 0)
        return luaL_error(L, "hashset: out of memory");
    lua_pushboolean(L, r);
    return 1;
}

static int hs_add(lua_State *L)
{
    return member(L, '+');
}

static int hs_has(lua_State *L)
{
    return member(L, '?');
}

static int hs_remove(lua_State *L)
{
    return member(L, '-');
}

/* set:count() -> members, bytes held */
static int hs_count(lua_State *L)
{
    ion_hashset *s = check_set(L);
    lua_pushinteger(L, (lua_Integer)s->live);
    lua_pushinteger(L, (lua_Integer)(s->cap * sizeof *s->slots));
    return 2;
}

static int hs_gc(lua_State *L)
{
    ion_hashset_free(check_set(L));
    return 0;
}

static int new_hashset(lua_State *L)
{
    ion_hashset *s = ion_newuserdata(L, sizeof *s);
    memset(s, 0, sizeof *s);
    ion_setmetatable(L, HS_MT);
    if (ion_hashset_init(s) != 0)
        return luaL_error(L, "hashset: out of memory");
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
