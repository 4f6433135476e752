/* core.run_capture(argv, { timeout =, max_output = }): runs a program
 * without a shell (posix_spawnp, arguments as a list) and returns what it
 * wrote on stdout. For a profile's token_command: stdin is /dev/null, stderr
 * is the caller's, no descriptor of ours leaks into the child, and the child
 * is always reaped (killed first when it overstays its timeout). */
#define _GNU_SOURCE /* pipe2, posix_spawn_file_actions_addclosefrom_np */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "signals.h"

extern char **environ;

#define RUN_MT "ion.upload.core.run"
#define MAX_ARGS 256

/* Everything that must be released whatever happens, in a userdata whose
 * __gc does it if Lua raises (out of memory) on the way. */
typedef struct {
    pid_t pid; /* 0 once reaped */
    int fd;    /* read end of the child's stdout, -1 once closed */
    char *out;
    size_t len, cap;
    const char *argv[MAX_ARGS + 1];
} run_state;

static void run_release(run_state *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    if (r->pid > 0) {
        int st;
        kill(r->pid, SIGKILL);
        while (waitpid(r->pid, &st, 0) < 0 && errno == EINTR)
            ;
        r->pid = 0;
    }
    free(r->out);
    r->out = NULL;
}

static int run_gc(lua_State *L)
{
    run_release((run_state *)luaL_checkudata(L, 1, RUN_MT));
    return 0;
}

/* nil, err "argv[0]: why", once the child is gone and what r holds freed */
static int run_fail(lua_State *L, run_state *r, const char *code, const char *why)
{
    run_release(r);
    return ion_fail(L, code, "%s: %s", r->argv[0], why);
}

/* the same for a failed system call: "argv[0]: what: strerror(e)" */
static int run_fail_errno(lua_State *L, run_state *r, int e, const char *what)
{
    run_release(r);
    if (what == NULL)
        return ion_fail_errno(L, "bad_input", e, "%s", r->argv[0]);
    return ion_fail_errno(L, "bad_input", e, "%s: %s", r->argv[0], what);
}

static int ms_left(double deadline)
{
    return (int)ion_ms(deadline - ion_now(), 1000000000);
}

/* Reaps the child, waiting until the deadline: 1 reaped (status in *st),
 * 0 still running at the deadline. */
static int reap_until(run_state *r, double deadline, int *st)
{
    for (;;) {
        pid_t p = waitpid(r->pid, st, WNOHANG);
        if (p == r->pid) {
            r->pid = 0;
            return 1;
        }
        if (p < 0 && errno != EINTR) {
            r->pid = 0; /* not ours any more: nothing left to reap */
            *st = 0;
            return 1;
        }
        if (ms_left(deadline) == 0)
            return 0;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static int run_capture(lua_State *L)
{
    double timeout = 30, max_output = 64 * 1024;
    size_t n;
    int fds[2], st = 0, rc;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, defaults;

    luaL_checktype(L, 1, LUA_TTABLE);
    if (!lua_isnoneornil(L, 2)) {
        static const char *const allowed[] = {"timeout", "max_output", NULL};
        luaL_checktype(L, 2, LUA_TTABLE);
        ion_check_keys(L, 2, "run_capture", allowed);
        ion_opt_number(L, 2, "timeout", &timeout);
        ion_opt_number(L, 2, "max_output", &max_output);
    }
    if (!(timeout > 0 && timeout <= 86400))
        return luaL_error(L, "run_capture: timeout must be from 0 to 86400 seconds");
    if (!(max_output >= 1 && max_output <= 16 * 1024 * 1024))
        return luaL_error(L, "run_capture: max_output must be from 1 to 16 MiB");
    n = (size_t)ion_rawlen(L, 1);
    if (n == 0 || n > MAX_ARGS)
        return luaL_error(L, "run_capture: argv must hold 1 to %d strings", MAX_ARGS);

    run_state *r = (run_state *)ion_newuserdata(L, sizeof *r);
    memset(r, 0, sizeof *r);
    r->fd = -1;
    luaL_getmetatable(L, RUN_MT);
    lua_setmetatable(L, -2);
    /* The argument strings stay alive in argv (argument 1) for the call. */
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, 1, (int)i + 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            return luaL_error(L, "run_capture: argv[%d] must be a string", (int)i + 1);
        r->argv[i] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    r->argv[n] = NULL;
    r->cap = (size_t)max_output;
    r->out = malloc(r->cap);
    if (r->out == NULL)
        return run_fail_errno(L, r, ENOMEM, NULL);

    if (pipe2(fds, O_CLOEXEC) != 0)
        return run_fail_errno(L, r, errno, "pipe");
    r->fd = fds[0];

    /* stdin /dev/null, stdout the pipe (dup2 clears O_CLOEXEC on 1), every
     * other descriptor above 2 closed; default signal handling and mask. */
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
    posix_spawnattr_init(&attr);
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    rc = posix_spawnp(&r->pid, r->argv[0], &fa, &attr, (char *const *)r->argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    close(fds[1]);
    if (rc != 0) {
        r->pid = 0;
        return run_fail_errno(L, r, rc, "cannot run it");
    }

    double deadline = ion_now() + timeout;
    for (;;) {
        struct pollfd p = {r->fd, POLLIN, 0};
        int wait = ms_left(deadline);
        if (wait == 0)
            return run_fail(L, r, "timeout", "no answer within the timeout");
        rc = poll(&p, 1, wait);
        if (rc < 0 && errno == EINTR) {
            if (ion_interrupted())
                return run_fail(L, r, "aborted", "interrupted");
            continue;
        }
        if (rc < 0)
            return run_fail_errno(L, r, errno, "poll");
        if (rc == 0)
            continue; /* the deadline check above ends it */
        char buf[4096];
        ssize_t got = read(r->fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return run_fail_errno(L, r, errno, "read");
        if (got == 0)
            break;
        if ((size_t)got > r->cap - r->len)
            return run_fail(L, r, "too_large", "wrote more than max_output bytes");
        memcpy(r->out + r->len, buf, (size_t)got);
        r->len += (size_t)got;
    }
    close(r->fd);
    r->fd = -1;
    /* Its stdout is closed; it may still be finishing. */
    if (!reap_until(r, deadline, &st))
        return run_fail(L, r, "timeout", "did not exit within the timeout");

    lua_createtable(L, 0, 3);
    lua_pushlstring(L, r->out, r->len);
    lua_setfield(L, -2, "stdout");
    if (WIFEXITED(st)) {
        lua_pushinteger(L, WEXITSTATUS(st));
        lua_setfield(L, -2, "status");
    } else if (WIFSIGNALED(st)) {
        lua_pushinteger(L, WTERMSIG(st));
        lua_setfield(L, -2, "signal");
    }
    run_release(r);
    return 1;
}

void ion_spawn_open_lib(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"run_capture", run_capture},
        {NULL, NULL},
    };
    if (luaL_newmetatable(L, RUN_MT)) {
        lua_pushcfunction(L, run_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    ion_setfuncs(L, funcs);
}
