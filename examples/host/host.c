/* A program with its own event loop that embeds Lua and uploads a large file
 * without freezing: the loop ticks every 10 ms (absolute deadlines on the
 * monotonic clock) and each tick gives the upload one bounded step.
 *
 *   host SCRIPT [ARGS...]
 *
 * SCRIPT (examples/host/host.lua) is called with ARGS and returns a table
 * { tick = function() -> done, finish = function() -> ok }. The host prints
 * how late its ticks ran and exits 0 when the script's finish() returned
 * true and no tick was late by more than 50 ms. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#define TICK_NS 10000000L /* 10 ms */
#define LATE_LIMIT 0.050  /* seconds */

static double seconds(const struct timespec *t)
{
    return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static void add_ns(struct timespec *t, long ns)
{
    t->tv_nsec += ns;
    while (t->tv_nsec >= 1000000000L) {
        t->tv_nsec -= 1000000000L;
        t->tv_sec++;
    }
}

static int traceback(lua_State *L)
{
    luaL_traceback(L, L, lua_tostring(L, 1), 1);
    return 1;
}

/* Calls the field `name` of the table at index t; leaves its first result.
 * Returns 0, or prints the error and returns -1. */
static int call_field(lua_State *L, int t, const char *name)
{
    int base;
    lua_pushcfunction(L, traceback);
    base = lua_gettop(L);
    lua_getfield(L, t, name);
    if (lua_pcall(L, 0, 1, base) != LUA_OK) {
        fprintf(stderr, "host: %s: %s\n", name, lua_tostring(L, -1));
        lua_settop(L, base - 1);
        return -1;
    }
    lua_remove(L, base);
    return 0;
}

int main(int argc, char **argv)
{
    lua_State *L;
    struct timespec next, t0, tend;
    double late, max_late = 0, sum_late = 0, max_tick = 0;
    long ticks = 0, late_ticks = 0;
    int ok = 0, app, done = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: host SCRIPT [ARGS...]\n");
        return 2;
    }
    L = luaL_newstate();
    if (L == NULL)
        return 1;
    luaL_openlibs(L);
    lua_pushcfunction(L, traceback);
    if (luaL_loadfile(L, argv[1]) != LUA_OK) {
        fprintf(stderr, "host: %s\n", lua_tostring(L, -1));
        return 1;
    }
    for (int i = 2; i < argc; i++)
        lua_pushstring(L, argv[i]);
    if (lua_pcall(L, argc - 2, 1, 1) != LUA_OK || !lua_istable(L, -1)) {
        fprintf(stderr, "host: %s: %s\n", argv[1],
                lua_isstring(L, -1) ? lua_tostring(L, -1) : "did not return { tick =, finish = }");
        return 1;
    }
    app = lua_gettop(L);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    next = t0;
    while (!done) {
        struct timespec a, b;
        add_ns(&next, TICK_NS);
        /* EINTR: just go round; the deadline is absolute */
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) != 0) {
        }
        clock_gettime(CLOCK_MONOTONIC, &a);
        late = seconds(&a) - seconds(&next);
        ticks++;
        sum_late += late;
        if (late > max_late)
            max_late = late;
        if (late > LATE_LIMIT)
            late_ticks++;
        /* the host's own work would go here; then the upload's turn */
        if (call_field(L, app, "tick") != 0)
            break;
        done = lua_toboolean(L, -1);
        lua_pop(L, 1);
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (seconds(&b) - seconds(&a) > max_tick)
            max_tick = seconds(&b) - seconds(&a);
    }
    clock_gettime(CLOCK_MONOTONIC, &tend);
    if (done && call_field(L, app, "finish") == 0) {
        ok = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    printf("host: %ld ticks of 10 ms in %.2f s; lateness max %.1f ms, mean %.2f ms; "
           "longest tick %.1f ms; ticks late by more than 50 ms: %ld\n",
           ticks, seconds(&tend) - seconds(&t0), max_late * 1e3,
           ticks ? sum_late / (double)ticks * 1e3 : 0.0, max_tick * 1e3, late_ticks);
    lua_close(L);
    return ok && late_ticks == 0 ? 0 : 1;
}
