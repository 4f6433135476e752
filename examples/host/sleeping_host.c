/* A host loop that sleeps: it has no tick of its own and waits in poll() on
 * the descriptors and the timeout its script hands it, stepping only when
 * woken. With --spin it steps again at once instead (a busy loop, which
 * uses a whole core: the yardstick the sleeping loop is measured against).
 * With --timer-ms N the host has a timer of its own besides (a repeating
 * N ms deadline on the monotonic clock, the stand-in for the host's own
 * work): poll() waits at most until it is due, and the host reports how late
 * it fired (bench/hosts.sh).
 *
 *   sleeping_host [--spin] [--timer-ms N] SCRIPT [ARGS...]
 *
 * SCRIPT (examples/host/sleeping_host.lua) is called with ARGS and returns
 * { fds = function() -> readable, writable (arrays of descriptors),
 *   timeout = function() -> seconds | nil (nil: no timer, wait on the fds),
 *   step = function() -> done, finish = function() -> ok }.
 * Prints wall and CPU seconds, steps and wake-ups; exits 0 when finish()
 * returned true. */
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#ifndef LUA_OK
#define LUA_OK 0
#endif
#if LUA_VERSION_NUM < 502
#define lua_rawlen lua_objlen
#endif

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int traceback(lua_State *L)
{
#if LUA_VERSION_NUM >= 502
    luaL_traceback(L, L, lua_tostring(L, 1), 1);
#endif
    return 1; /* 5.1 has no luaL_traceback: the message alone */
}

/* Calls the field `name` of the table at index t, leaving nres results.
 * Returns 0, or prints the error and returns -1. */
static int call_field(lua_State *L, int t, const char *name, int nres)
{
    int base;
    lua_pushcfunction(L, traceback);
    base = lua_gettop(L);
    lua_getfield(L, t, name);
    if (lua_pcall(L, 0, nres, base) != LUA_OK) {
        fprintf(stderr, "sleeping_host: %s: %s\n", name, lua_tostring(L, -1));
        lua_settop(L, base - 1);
        return -1;
    }
    lua_remove(L, base);
    return 0;
}

/* Appends the descriptors of the array at index i, watched for `events`. */
static int add_fds(lua_State *L, int i, short events, struct pollfd **pf, int *n, int *cap)
{
    int len = lua_istable(L, i) ? (int)lua_rawlen(L, i) : 0;
    for (int k = 1; k <= len; k++) {
        if (*n == *cap) {
            int ncap = *cap ? *cap * 2 : 16;
            struct pollfd *np = realloc(*pf, (size_t)ncap * sizeof *np);
            if (np == NULL)
                return -1;
            *pf = np;
            *cap = ncap;
        }
        lua_rawgeti(L, i, k);
        (*pf)[*n].fd = (int)lua_tointeger(L, -1);
        (*pf)[*n].events = events;
        (*pf)[*n].revents = 0;
        (*n)++;
        lua_pop(L, 1);
    }
    return 0;
}

/* The host's own repeating timer (--timer-ms): its next deadline, period
 * and the worst lateness seen. */
static double timer_due, timer_period, timer_max_late;
static long timer_fired;

/* Fires the timer when due (records lateness; the next deadline is a period
 * after this firing). */
static void run_timer(void)
{
    double t = now();
    if (timer_period <= 0 || t < timer_due)
        return;
    if (t - timer_due > timer_max_late)
        timer_max_late = t - timer_due;
    timer_fired++;
    timer_due = t + timer_period;
}

/* Waits as the script says: on its descriptors, at most its timeout (and
 * at most until the host's own timer is due).
 * Returns 0, or -1 when there is nothing to wait on (it would sleep forever). */
static int wait_for_work(lua_State *L, int app, struct pollfd **pf, int *cap)
{
    int n = 0, ms = -1;
    if (call_field(L, app, "fds", 2) != 0)
        return -1;
    if (add_fds(L, -2, POLLIN, pf, &n, cap) != 0 || add_fds(L, -1, POLLOUT, pf, &n, cap) != 0)
        return -1;
    lua_pop(L, 2);
    if (call_field(L, app, "timeout", 1) != 0)
        return -1;
    if (lua_isnumber(L, -1)) {
        double t = ceil(lua_tonumber(L, -1) * 1000);
        ms = !(t > 0) ? 0 : t > INT_MAX ? INT_MAX : (int)t; /* NaN: don't wait */
    }
    lua_pop(L, 1);
    if (timer_period > 0) {
        double left = ceil((timer_due - now()) * 1000);
        int tms = left > 0 ? (int)left : 0;
        if (ms < 0 || tms < ms)
            ms = tms;
    }
    if (n == 0 && ms < 0) {
        fprintf(stderr, "sleeping_host: no descriptor and no timeout: nothing would wake us\n");
        return -1;
    }
    (void)poll(*pf, (nfds_t)n, ms); /* EINTR or an error: step anyway */
    return 0;
}

int main(int argc, char **argv)
{
    lua_State *L;
    struct pollfd *pf = NULL;
    int cap = 0, app, spin = 0, done = 0, ok = 0, arg = 1;
    long steps = 0, waits = 0;
    double t0, c0;

    if (argc > arg && strcmp(argv[arg], "--spin") == 0) {
        spin = 1;
        arg++;
    }
    if (argc > arg + 1 && strcmp(argv[arg], "--timer-ms") == 0) {
        timer_period = atof(argv[arg + 1]) / 1000;
        arg += 2;
    }
    if (argc <= arg) {
        fprintf(stderr, "usage: sleeping_host [--spin] [--timer-ms N] SCRIPT [ARGS...]\n");
        return 2;
    }
    L = luaL_newstate();
    if (L == NULL)
        return 1;
    luaL_openlibs(L);
    lua_pushcfunction(L, traceback);
    if (luaL_loadfile(L, argv[arg]) != LUA_OK) {
        fprintf(stderr, "sleeping_host: %s\n", lua_tostring(L, -1));
        return 1;
    }
    for (int i = arg + 1; i < argc; i++)
        lua_pushstring(L, argv[i]);
    if (lua_pcall(L, argc - arg - 1, 1, 1) != LUA_OK || !lua_istable(L, -1)) {
        fprintf(stderr, "sleeping_host: %s: %s\n", argv[arg],
                lua_isstring(L, -1) ? lua_tostring(L, -1) : "did not return a table");
        return 1;
    }
    app = lua_gettop(L);

    t0 = now();
    c0 = cpu_seconds();
    timer_due = t0 + timer_period;
    while (!done) {
        if (!spin) {
            if (wait_for_work(L, app, &pf, &cap) != 0)
                break;
            waits++;
        }
        run_timer();
        if (call_field(L, app, "step", 1) != 0)
            break;
        done = lua_toboolean(L, -1);
        lua_pop(L, 1);
        steps++;
    }
    printf("sleeping_host (%s): %.3f s wall, %.3f s CPU, %ld steps, %ld waits\n",
           spin ? "spin" : "poll", now() - t0, cpu_seconds() - c0, steps, waits);
    if (timer_period > 0)
        printf("sleeping_host: timer of %.0f ms: %ld firings, lateness max %.1f ms\n",
               timer_period * 1e3, timer_fired, timer_max_late * 1e3);
    if (done && call_field(L, app, "finish", 1) == 0) {
        ok = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    free(pf);
    lua_close(L);
    return ok ? 0 : 1;
}
