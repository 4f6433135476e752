/* Lua version differences, kept in one place so that Lua 5.1 and LuaJIT
 * support only has to touch this file. Everything else uses the ion_*
 * names below. */
#ifndef ION_COMPAT_H
#define ION_COMPAT_H

#include <stdio.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h> /* LUA_FILEHANDLE */

#if LUA_VERSION_NUM >= 504
#define ION_HAVE_CLOSE 1
#define ion_newuserdata(L, sz) lua_newuserdatauv((L), (sz), 0)
#else
#define ION_HAVE_CLOSE 0
#define ion_newuserdata(L, sz) lua_newuserdata((L), (sz))
#endif

#if LUA_VERSION_NUM >= 502
#define ion_setfuncs(L, l) luaL_setfuncs((L), (l), 0)
#define ion_rawlen(L, i) lua_rawlen((L), (i))
#define ion_testudata(L, i, n) luaL_testudata((L), (i), (n))
#define ion_setmetatable(L, n) luaL_setmetatable((L), (n))
#else
#define ion_setfuncs(L, l) luaL_register((L), NULL, (l))
#define ion_rawlen(L, i) lua_objlen((L), (i))
#define ion_setmetatable(L, n) (luaL_getmetatable((L), (n)), lua_setmetatable((L), -2))
static inline void *ion_testudata(lua_State *L, int i, const char *n)
{
    void *p = lua_touserdata(L, i);
    if (p == NULL || !lua_getmetatable(L, i))
        return NULL;
    luaL_getmetatable(L, n);
    if (!lua_rawequal(L, -1, -2))
        p = NULL;
    lua_pop(L, 2);
    return p;
}
#endif

/* Calls f(ud) in protected mode with no results; returns the status and, on
 * error, leaves the error object on the stack. Used from inside libcurl
 * callbacks, so nothing here may raise: a light C function and a light
 * userdata are pushed without allocating (5.1's lua_cpcall does the same). */
#if LUA_VERSION_NUM >= 502
static inline int ion_cpcall(lua_State *L, lua_CFunction f, void *ud)
{
    lua_pushcfunction(L, f);
    lua_pushlightuserdata(L, ud);
    return lua_pcall(L, 1, 0, 0);
}
#else
#define ion_cpcall(L, f, ud) lua_cpcall((L), (f), (ud))
#endif

/* The FILE* behind an io library handle; raises if it is not one or closed. */
static inline FILE *ion_checkfile(lua_State *L, int i)
{
#if LUA_VERSION_NUM >= 502
    luaL_Stream *p = (luaL_Stream *)luaL_checkudata(L, i, LUA_FILEHANDLE);
    if (p->closef == NULL)
        luaL_error(L, "attempt to use a closed file");
    return p->f;
#else
    FILE **p = (FILE **)luaL_checkudata(L, i, LUA_FILEHANDLE);
    if (*p == NULL)
        luaL_error(L, "attempt to use a closed file");
    return *p;
#endif
}

#endif
