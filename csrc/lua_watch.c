/* The Lua binding of the hot folder's watch (watch_tree.h): core.watcher(dir,
 * opts), a change feed over Linux inotify. Elsewhere core.watcher answers
 * nil, err "unsupported" and the caller polls instead. */
#define _DEFAULT_SOURCE /* realpath() is XSI, not POSIX base */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "signals.h"
#include "watch_tree.h"

#define ION_WATCHER_MT "ion.upload.core.watcher"

#ifdef __linux__

#include <limits.h>
#include <poll.h>
#include <sys/stat.h>

#define DEFAULT_MAX_WATCHES 100000

static void push_error(lua_State *L, const char *code, const char *message, const char *hint)
{
    ion_push_error(L, code, message, 0, 0);
    if (hint) {
        lua_pushstring(L, hint);
        lua_setfield(L, -2, "hint");
    }
}

static ion_watcher *check_open(lua_State *L)
{
    ion_watcher *w = luaL_checkudata(L, 1, ION_WATCHER_MT);
    if (w->closed)
        luaL_error(L, "watcher is closed");
    return w;
}

static int w_fd(lua_State *L)
{
    lua_pushinteger(L, check_open(L)->fd);
    return 1;
}

/* Never blocks: the events of now, in the order they happened, or {}. */
static int w_read(lua_State *L)
{
    ion_watcher *w = check_open(L);
    size_t i;
    int e = ion_watch_drain(w);
    if (e != 0 && w->nq == 0)
        return ion_fail_errno(L, "bad_input", e, NULL);
    lua_createtable(L, (int)w->nq, 0);
    for (i = 0; i < w->nq; i++) {
        const ion_watch_event *ev = &w->q[i];
        lua_createtable(L, 0, 3);
        lua_pushstring(L, ev->kind);
        lua_setfield(L, -2, "kind");
        lua_pushstring(L, ev->path ? ev->path : "");
        lua_setfield(L, -2, "path");
        if (ev->code) {
            push_error(L, ev->code, ev->message, ev->hint);
            lua_setfield(L, -2, "err");
        }
        lua_rawseti(L, -2, (int)i + 1);
    }
    ion_watch_clear(w);
    return 1;
}

/* Waits until events are queued or `seconds` pass (or an interrupt):
 * true when read() has something. For --once loops and specs. One poll()
 * for the whole wait: a signal ends it (EINTR), so nothing needs to wake
 * up on a timer to look at the interrupt flag. */
static int w_wait(lua_State *L)
{
    ion_watcher *w = check_open(L);
    double seconds = luaL_optnumber(L, 2, 0);
    double deadline = ion_now() + (seconds > 0 ? seconds : 0);
    for (;;) {
        struct pollfd p = {w->fd, POLLIN, 0};
        double left = deadline - ion_now();
        int ms = (int)ion_ms(left, 2000000000);
        int rc;
        if (w->nq > 0) {
            lua_pushboolean(L, 1);
            return 1;
        }
        rc = poll(&p, 1, ms);
        if (rc > 0 || (rc < 0 && errno != EINTR)) {
            lua_pushboolean(L, rc > 0);
            return 1;
        }
        if (left <= 0 || ion_interrupted()) {
            lua_pushboolean(L, 0);
            return 1;
        }
    }
}

static int w_watches(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)check_open(L)->ndirs);
    return 1;
}

static int w_close(lua_State *L)
{
    ion_watch_close(luaL_checkudata(L, 1, ION_WATCHER_MT));
    return 0;
}

static int w_tostring(lua_State *L)
{
    ion_watcher *w = luaL_checkudata(L, 1, ION_WATCHER_MT);
    lua_pushfstring(L, "%s (%p%s)", ION_WATCHER_MT, (void *)w, w->closed ? ", closed" : "");
    return 1;
}

static void ensure_metatable(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"fd", w_fd},           {"read", w_read},   {"wait", w_wait},
        {"watches", w_watches}, {"close", w_close}, {NULL, NULL},
    };
    ion_new_class(L, ION_WATCHER_MT, methods, w_close, w_tostring, 1);
}

static int watcher_new(lua_State *L)
{
    static const char *const keys[] = {"max_watches", NULL};
    const char *dir = luaL_checkstring(L, 1);
    double max = DEFAULT_MAX_WATCHES;
    char real[PATH_MAX];
    struct stat st;
    ion_watcher *w;
    ion_watch_failure f;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        ion_check_keys(L, 2, "watcher", keys);
        ion_opt_number(L, 2, "max_watches", &max);
        if (!(max >= 1 && max <= 1e7))
            return ion_fail(L, "bad_input", "max_watches must be between 1 and 1e7");
    }
    /* Absolute and without links: a later chdir or a swapped link does not
     * move what is watched. */
    if (realpath(dir, real) == NULL || stat(real, &st) != 0)
        return ion_fail_errno(L, "bad_input", errno, "%s", dir);
    if (!S_ISDIR(st.st_mode))
        return ion_fail(L, "bad_input", "%s: not a directory", dir);
    ensure_metatable(L);
    w = ion_newuserdata(L, sizeof *w);
    memset(w, 0, sizeof *w);
    w->fd = -1;
    ion_setmetatable(L, ION_WATCHER_MT);
    if (ion_watch_start(w, real, (size_t)max, &f) != 0) {
        ion_watch_close(w);
        lua_pushnil(L);
        push_error(L, f.code, f.message, f.hint);
        return 2;
    }
    return 1;
}

#else /* no inotify */

static int watcher_new(lua_State *L)
{
    int n;
    (void)luaL_checkstring(L, 1);
    n = ion_fail(L, "unsupported", "no inotify on this system: poll the folder instead");
    lua_pushliteral(L, "poll the folder (scan it every few seconds) instead");
    lua_setfield(L, -2, "hint");
    return n;
}

#endif

/* Sets core.watcher in the module table on top of the stack. */
void ion_watch_open_lib(lua_State *L)
{
    lua_pushcfunction(L, watcher_new);
    lua_setfield(L, -2, "watcher");
}
