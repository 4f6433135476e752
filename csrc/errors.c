/* Error values: { code =, message =, curl_code =, status = } and the mapping
 * of libcurl's codes onto ours (URLs made safe for messages: parse.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int ion_push_error(lua_State *L, const char *code, const char *msg, int curl_code, long status)
{
    lua_createtable(L, 0, 4);
    lua_pushstring(L, code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, msg ? msg : code);
    lua_setfield(L, -2, "message");
    if (curl_code > 0) {
        lua_pushinteger(L, curl_code);
        lua_setfield(L, -2, "curl_code");
    }
    if (status > 0) {
        lua_pushinteger(L, (lua_Integer)status);
        lua_setfield(L, -2, "status");
    }
    return 1;
}

/* nil, { code, message = what: strerror(e), errno = e }: a failed system
 * call, as luaL_fileresult reports one. `what` is formatted by
 * lua_pushfstring (%s, %d: no length cap); without it the message is
 * strerror(e) alone. */
int ion_fail_errno(lua_State *L, const char *code, int e, const char *fmt, ...)
{
    va_list ap;
    lua_pushnil(L);
    if (fmt) {
        va_start(ap, fmt);
        lua_pushvfstring(L, fmt, ap);
        va_end(ap);
        lua_pushfstring(L, "%s: %s", lua_tostring(L, -1), strerror(e));
        lua_remove(L, -2);
    } else {
        lua_pushstring(L, strerror(e));
    }
    ion_push_error(L, code, lua_tostring(L, -1), 0, 0);
    lua_remove(L, -2);
    lua_pushinteger(L, e);
    lua_setfield(L, -2, "errno");
    return 2;
}

int ion_fail(lua_State *L, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    lua_pushnil(L);
    ion_push_error(L, code, msg, 0, 0);
    return 2;
}

const char *ion_curl_error_code(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_ABORTED_BY_CALLBACK:
        return "aborted";
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_READ_ERROR:
        return "bad_input";
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_FILESIZE_EXCEEDED:
        return "protocol";
    default:
        /* connect, resolve, send/recv, TLS, empty reply, partial file */
        return "network";
    }
}

void ion_xfer_set_failure(ion_xfer *x, const char *code, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (x->fail_code) /* the first cause is the one worth reporting */
        return;
    x->fail_code = code;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    x->fail_msg = malloc((size_t)n + 1);
    if (x->fail_msg == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(x->fail_msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
}

/* The metatable of a core object (session, watcher, journal index,
 * hashset): its methods as __index, `close` as __gc (and __close where the
 * Lua has it, when `closable`), __tostring when given, __name. */
void ion_new_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close,
                   lua_CFunction tostring, int closable)
{
    if (luaL_newmetatable(L, name)) {
        lua_newtable(L);
        ion_setfuncs(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, close);
        lua_setfield(L, -2, "__gc");
#if ION_HAVE_CLOSE
        if (closable) {
            lua_pushcfunction(L, close);
            lua_setfield(L, -2, "__close");
        }
#else
        (void)closable;
#endif
        if (tostring) {
            lua_pushcfunction(L, tostring);
            lua_setfield(L, -2, "__tostring");
        }
        lua_pushstring(L, name);
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
}
