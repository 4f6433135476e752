/* The Lua binding of the signals the core catches (signals.h), and of the
 * waits a caught signal cuts short: core.poll and core.sleep. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <time.h>

#include "internal.h"
#include "signals.h"

static int catch_result(lua_State *L, const char *failed)
{
    if (failed)
        return ion_fail_errno(L, "bad_input", errno, "%s", failed);
    lua_pushboolean(L, 1);
    return 1;
}

static int sig_catch_interrupt(lua_State *L)
{
    return catch_result(L, ion_catch_interrupt());
}

static int sig_interrupted(lua_State *L)
{
    lua_pushboolean(L, ion_interrupted());
    return 1;
}

static int sig_catch_hangup(lua_State *L)
{
    return catch_result(L, ion_catch_hangup());
}

/* true once per SIGHUP received (several before a call count as one) */
static int sig_hangup(lua_State *L)
{
    lua_pushboolean(L, ion_hangup_taken());
    return 1;
}

/* Sleeps `seconds`; a caught SIGINT or SIGTERM ends it early. */
static int sig_sleep(lua_State *L)
{
    double s = luaL_checknumber(L, 1);
    struct timespec req, rem;
    luaL_argcheck(L, s == s, 1, "a number of seconds, not NaN");
    if (s <= 0)
        return 0;
    if (s > 1e9) /* about 31 years; beyond, the cast to time_t is undefined */
        s = 1e9;
    req.tv_sec = (time_t)s;
    req.tv_nsec = (long)((s - (double)req.tv_sec) * 1e9);
    while (nanosleep(&req, &rem) != 0 && errno == EINTR && !ion_interrupted())
        req = rem;
    return 0;
}

/* Copies the descriptors of the array at index t into p with `events`. */
static size_t fill_pollfds(lua_State *L, int t, struct pollfd *p, short events)
{
    size_t i, n = ion_rawlen(L, t);
    for (i = 0; i < n; i++) {
        lua_Integer fd;
        lua_rawgeti(L, t, (int)i + 1);
        if (!lua_isnumber(L, -1))
            luaL_error(L, "poll: descriptor %d is not a number", (int)i + 1);
        fd = lua_tointeger(L, -1);
        lua_pop(L, 1);
        if (fd < 0 || fd > INT_MAX)
            luaL_error(L, "poll: descriptor %d is out of range", (int)i + 1);
        p[i].fd = (int)fd;
        p[i].events = events;
        p[i].revents = 0;
    }
    return n;
}

/* core.poll(readable, writable, seconds) -> n: one poll() on the
 * descriptors (arrays of integers, as job:fds() gives them) until one is
 * ready or `seconds` pass (math.huge: no limit). A signal ends it early
 * (EINTR is 0, not an error), so a blocking loop sees core.interrupted()
 * at once; the interrupt flag itself does not end it, so a loop that goes
 * on after a stop signal sleeps as it should. n: the descriptors ready. */
static int sig_poll(lua_State *L)
{
    size_t nr, nw, n;
    double s = luaL_checknumber(L, 3);
    int ms, rc, sfd = ion_signal_fd();
    struct pollfd *p;
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_argcheck(L, s == s, 3, "a number of seconds, not NaN");
    nr = ion_rawlen(L, 1);
    nw = ion_rawlen(L, 2);
    luaL_argcheck(L, nr + nw <= 65536, 1, "too many descriptors");
    p = ion_newuserdata(L, (nr + nw + 1) * sizeof *p);
    n = fill_pollfds(L, 1, p, POLLIN);
    n += fill_pollfds(L, 2, p + n, POLLOUT);
    if (sfd >= 0) { /* a caught signal ends the wait, even one already in */
        p[n].fd = sfd;
        p[n].events = POLLIN;
        p[n].revents = 0;
        n++;
    }
    /* 23 days and more (math.huge too): until a descriptor or a signal */
    ms = s >= 2e6 ? -1 : (int)ion_ms(s, INT_MAX);
    rc = poll(p, (nfds_t)n, ms);
    if (rc < 0 && errno != EINTR)
        return ion_fail_errno(L, "bad_input", errno, "poll");
    if (rc > 0 && sfd >= 0 && p[n - 1].revents) {
        ion_signal_drain();
        rc--; /* the caller's descriptors only */
    }
    lua_pushinteger(L, rc < 0 ? 0 : rc);
    return 1;
}

void ion_signals_open_lib(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"catch_interrupt", sig_catch_interrupt},
        {"interrupted", sig_interrupted},
        {"catch_hangup", sig_catch_hangup},
        {"hangup", sig_hangup},
        {"sleep", sig_sleep},
        {"poll", sig_poll},
        {NULL, NULL},
    };
    ion_setfuncs(L, funcs);
}
