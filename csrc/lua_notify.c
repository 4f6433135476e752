/* The Lua binding of systemd's notify protocol (sd_notify.c): what the
 * watch tells a service manager, its readiness, status and watchdog pings. */
#include "internal.h"
#include "sd_notify.h"

/* core.sd_notify(socket, message) -> true | nil, err: one datagram, never
 * a wait. The watch ignores a failure (a service manager gone is no reason
 * to stop uploading) and counts it. */
static int notify_send(lua_State *L)
{
    const char *socket_name = luaL_checkstring(L, 1);
    size_t len;
    const char *msg = luaL_checklstring(L, 2, &len);
    int e = ion_sd_notify(socket_name, msg, len);
    if (e != 0)
        return ion_fail_errno(L, "bad_input", e, "%s", socket_name);
    lua_pushboolean(L, 1);
    return 1;
}

/* core.sd_watchdog_usec() -> the watchdog's interval in microseconds, 0
 * when there is none for this process */
static int notify_watchdog_usec(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)ion_sd_watchdog_usec());
    return 1;
}

void ion_notify_open_lib(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"sd_notify", notify_send},
        {"sd_watchdog_usec", notify_watchdog_usec},
        {NULL, NULL},
    };
    ion_setfuncs(L, funcs);
}
