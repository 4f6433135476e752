/* The option tables every transfer and session is described by: typed
 * reads of one field, and the check that no unknown field is there. A wrong
 * type or an unknown key is misuse and raises; a bad value is the caller's
 * to refuse (bad_input). */
#include <string.h>

#include "internal.h"

int ion_opt_number(lua_State *L, int t, const char *k, double *out)
{
    int ok = 0;
    lua_getfield(L, t, k);
    if (lua_type(L, -1) == LUA_TNUMBER) {
        *out = (double)lua_tonumber(L, -1);
        ok = 1;
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "option '%s' must be a number, got %s", k, luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return ok;
}

/* The string stays valid while the table at t is on the stack. */
const char *ion_opt_string(lua_State *L, int t, const char *k, size_t *len)
{
    const char *s = NULL;
    lua_getfield(L, t, k);
    if (lua_type(L, -1) == LUA_TSTRING)
        s = lua_tolstring(L, -1, len);
    else if (!lua_isnil(L, -1))
        luaL_error(L, "option '%s' must be a string, got %s", k, luaL_typename(L, -1));
    lua_pop(L, 1);
    return s;
}

int ion_opt_boolean(lua_State *L, int t, const char *k, int dflt)
{
    int v = dflt;
    lua_getfield(L, t, k);
    if (lua_type(L, -1) == LUA_TBOOLEAN)
        v = lua_toboolean(L, -1);
    else if (!lua_isnil(L, -1))
        luaL_error(L, "option '%s' must be a boolean, got %s", k, luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

/* An unknown option is a misuse (usually a typo) and raises. */
void ion_check_keys(lua_State *L, int t, const char *what, const char *const *allowed)
{
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        int found = 0;
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *k = lua_tostring(L, -1);
            for (const char *const *a = allowed; *a; a++)
                if (strcmp(*a, k) == 0) {
                    found = 1;
                    break;
                }
            if (!found)
                luaL_error(L, "unknown option '%s' for %s", k, what);
        } else {
            luaL_error(L, "%s options must have string keys", what);
        }
    }
}
