/* The Lua binding of sessions (session.c): core.session() and its methods,
 * and the one-shot core.request/put/download, each a session of its own. */
#include <math.h>
#include <string.h>

#include "internal.h"

/* limit_rate's ceiling (about 1 PB/s): any real cap is far below. */
#define ION_MAX_RATE 1e15

static int xfer_gc(lua_State *L)
{
    ion_xfer *x = luaL_checkudata(L, 1, ION_XFER_MT);
    ion_session_detach(x); /* only at lua_close, when finalizers run in any order */
    luaL_unref(L, LUA_REGISTRYINDEX, x->self_ref);
    x->self_ref = LUA_NOREF;
    ion_xfer_release(L, x);
    ion_xfer_cleanup(x);
    x->state = ION_GONE;
    return 0;
}

static ion_session *check_open(lua_State *L, int i)
{
    ion_session *s = luaL_checkudata(L, i, ION_SESSION_MT);
    if (s->closed)
        luaL_error(L, "session is closed");
    if (s->driving)
        luaL_error(L, "session is busy: not callable from its own callbacks");
    return s;
}

static ion_kind check_kind(lua_State *L, int i)
{
    static const char *const kinds[] = {"request", "put", "download", NULL};
    return (ion_kind)luaL_checkoption(L, i, NULL, kinds);
}

/* A transfer refused while being configured: what it opened (a file, a
 * .part) is closed now, not at the next garbage collection. */
static int refuse(lua_State *L, ion_xfer *x, int r)
{
    ion_xfer_release(L, x);
    ion_xfer_cleanup(x);
    x->state = ION_GONE;
    return r;
}

/* Adds a transfer described by the table at req and runs it to completion.
 * The session is at index si. */
static int blocking(lua_State *L, ion_session *s, ion_kind kind, int req)
{
    int xi, r;
    ion_xfer *x = ion_xfer_new(L, kind);
    xi = lua_gettop(L);
    if ((r = ion_xfer_configure(L, x, req)) != 0 || (r = ion_session_attach(L, s, x, xi)) != 0)
        return refuse(L, x, r);
    ion_session_drive(L, s, x, HUGE_VAL);
    if (!ion_session_collect(L, x)) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    return 1;
}

int ion_oneshot(lua_State *L, ion_kind kind)
{
    ion_session *s;
    int n;
    luaL_checktype(L, 1, LUA_TTABLE);
    s = ion_session_push(L);
    n = blocking(L, s, kind, 1);
    ion_session_close(L, s); /* its connection is not reused by anyone */
    return n;
}

int ion_session_new(lua_State *L)
{
    static const char *const keys[] = {"max_host_connections", "max_total_connections",
                                       "limit_rate", NULL};
    double host = 0, total = 0, rate = 0;
    ion_session *s;
    CURLMcode mc = CURLM_OK;
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        ion_check_keys(L, 1, "session", keys);
        ion_opt_number(L, 1, "max_host_connections", &host);
        ion_opt_number(L, 1, "max_total_connections", &total);
        if (!(host >= 0 && host <= 1e6 && total >= 0 && total <= 1e6)) /* NaN fails too */
            return ion_fail(L, "bad_input", "connection limits must be between 0 and 1e6");
        if (ion_opt_number(L, 1, "limit_rate", &rate) && !(rate >= 1 && rate <= ION_MAX_RATE))
            return ion_fail(L, "bad_input", "limit_rate must be bytes per second from 1 to %g",
                            ION_MAX_RATE);
    }
    s = ion_session_push(L);
    s->rate = rate;
    s->rate_at = ion_now();
    if (host > 0)
        mc = curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)host);
    if (mc == CURLM_OK && total > 0)
        mc = curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)total);
    if (mc != CURLM_OK)
        return luaL_error(L, "curl_multi_setopt: %s", curl_multi_strerror(mc));
    return 1;
}

static int s_request(lua_State *L)
{
    return blocking(L, check_open(L, 1), ION_KIND_REQUEST, 2);
}

static int s_put(lua_State *L)
{
    return blocking(L, check_open(L, 1), ION_KIND_PUT, 2);
}

static int s_download(lua_State *L)
{
    return blocking(L, check_open(L, 1), ION_KIND_DOWNLOAD, 2);
}

static int s_add(lua_State *L)
{
    ion_session *s = check_open(L, 1);
    ion_kind kind = check_kind(L, 2);
    ion_xfer *x;
    int r, xi;
    luaL_checktype(L, 3, LUA_TTABLE);
    x = ion_xfer_new(L, kind);
    xi = lua_gettop(L);
    if ((r = ion_xfer_configure(L, x, 3)) != 0 || (r = ion_session_attach(L, s, x, xi)) != 0)
        return refuse(L, x, r);
    lua_pushinteger(L, x->id);
    return 1;
}

static int s_step(lua_State *L)
{
    ion_session *s = check_open(L, 1);
    double timeout = luaL_optnumber(L, 2, 0);
    int i = 0;
    luaL_argcheck(L, timeout == timeout, 2, "a number of seconds, not NaN");
    if (timeout < 0)
        timeout = 0;
    ion_session_drive(L, s, NULL, timeout);
    lua_createtable(L, s->n_done, 0);
    while (s->done_head) {
        ion_xfer *x = s->done_head;
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, x->id);
        lua_setfield(L, -2, "id");
        if (ion_session_collect(L, x))
            lua_setfield(L, -2, "res");
        else
            lua_setfield(L, -2, "err");
        lua_rawseti(L, -2, ++i);
    }
    return 1;
}

static int s_cancel(lua_State *L)
{
    ion_session *s = check_open(L, 1);
    lua_Integer id = luaL_checkinteger(L, 2);
    for (ion_xfer *x = s->active; x; x = x->next)
        if (x->id == id) {
            s->L = L; /* for the refs released on completion */
            ion_session_cancel(L, s, x, "cancelled");
            s->L = NULL;
            lua_pushboolean(L, 1);
            return 1;
        }
    lua_pushboolean(L, 0);
    return 1;
}

/* Transfers not yet returned by step(): running, or finished and queued. */
static int s_pending(lua_State *L)
{
    ion_session *s = luaL_checkudata(L, 1, ION_SESSION_MT);
    lua_pushinteger(L, s->closed ? 0 : s->n_active + s->n_done);
    return 1;
}

/* Seconds a host loop may wait before the next step (curl_multi_timeout);
 * 0 when a result is already queued or a paused PUT can go on, the time
 * until the next refill when limit_rate paused a transfer, nil when libcurl
 * has no timer set. */
static int s_timeout(lua_State *L)
{
    ion_session *s = check_open(L, 1);
    long ms = -1;
    double rate_wait;
    CURLMcode mc;
    if (s->n_done > 0 || ion_session_ready(s)) {
        lua_pushnumber(L, 0);
        return 1;
    }
    mc = curl_multi_timeout(s->multi, &ms);
    if (mc != CURLM_OK)
        return luaL_error(L, "curl multi: %s", curl_multi_strerror(mc));
    rate_wait = ion_rate_wait(s, ion_now());
    if (rate_wait < HUGE_VAL && (ms < 0 || rate_wait < (double)ms / 1000))
        lua_pushnumber(L, rate_wait);
    else if (ms < 0)
        lua_pushnil(L);
    else
        lua_pushnumber(L, (lua_Number)ms / 1000);
    return 1;
}

/* The sockets libcurl waits on for `what` (CURL_POLL_IN or _OUT), as an array. */
static void push_socks(lua_State *L, const ion_session *s, int what)
{
    int n = 0;
    lua_createtable(L, (int)s->nsocks, 0);
    for (size_t i = 0; i < s->nsocks; i++)
        if (s->socks[i].what & what) {
            lua_pushinteger(L, (lua_Integer)s->socks[i].fd);
            lua_rawseti(L, -2, ++n);
        }
}

/* The descriptors a host loop can wait on before the next step: two arrays,
 * to watch for reading and for writing. libcurl's sockets as its socket
 * callback named them (any number, unlike curl_multi_fdset's, which stop
 * at FD_SETSIZE), and the session's wake pipe last among the readable
 * ones: it becomes readable when a paused PUT can go on, which no socket
 * would say. */
static int s_fds(lua_State *L)
{
    ion_session *s = check_open(L, 1);
    push_socks(L, s, CURL_POLL_IN);
    lua_pushinteger(L, s->wake_r);
    lua_rawseti(L, -2, (int)ion_rawlen(L, -2) + 1);
    push_socks(L, s, CURL_POLL_OUT);
    return 2;
}

static int s_close(lua_State *L)
{
    ion_session *s = luaL_checkudata(L, 1, ION_SESSION_MT);
    if (s->driving)
        return luaL_error(L, "session is busy: not closable from its own callbacks");
    ion_session_close(L, s);
    return 0;
}

static int s_tostring(lua_State *L)
{
    ion_session *s = luaL_checkudata(L, 1, ION_SESSION_MT);
    lua_pushfstring(L, "%s (%p%s)", ION_SESSION_MT, (void *)s, s->closed ? ", closed" : "");
    return 1;
}

void ion_session_open_lib(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"request", s_request}, {"put", s_put},         {"download", s_download},
        {"add", s_add},         {"step", s_step},       {"cancel", s_cancel},
        {"pending", s_pending}, {"timeout", s_timeout}, {"fds", s_fds},
        {"close", s_close},     {NULL, NULL},
    };
    ion_new_class(L, ION_SESSION_MT, methods, s_close, s_tostring, 1);
    if (luaL_newmetatable(L, ION_XFER_MT)) {
        lua_pushcfunction(L, xfer_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushliteral(L, ION_XFER_MT);
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
}
