/* Small system helpers the Lua layer cannot write portably: stat,
 * realpath, fsync, file locks, a monotonic clock, sleep, terminal facts and
 * an interrupt flag. */
#define _DEFAULT_SOURCE /* flock() and TIOCGWINSZ are BSD, not POSIX */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "realpath.h"

/* The one piece of process-wide state besides curl_global_init: a signal
 * handler can only reach a global, and SIGINT belongs to the process, not
 * to one lua_State. */
static volatile sig_atomic_t interrupted_flag = 0;

int ion_interrupted(void)
{
    return interrupted_flag != 0;
}

static const char *type_name(mode_t m)
{
    if (S_ISREG(m))
        return "file";
    if (S_ISDIR(m))
        return "directory";
    if (S_ISFIFO(m))
        return "fifo";
    if (S_ISLNK(m))
        return "link";
    return "other";
}

/* core.stat(path [, with_realpath]) -> { type, size, mtime, readable, mode
 * [, real] } | nil, err. Symbolic links are followed (the uploader wants
 * the target; a dangling one reads as type "link"). with_realpath is the
 * engine's question for every file (engine/items.lua): it adds the file's
 * realpath as `real` (its journal key's) for a stat of its folder, and
 * leaves `readable` out: a file the journal shows attached is never read,
 * the engine asks core.readable of the others. A rerun of 100,000 files
 * skipped made six system calls a file, four of them these; now two.
 * upvalue 1: the Lua state's ion_realpath_cache. */
static int sys_stat(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int with_real = lua_toboolean(L, 2), linked = 1;
    struct stat st;
    if (with_real ? lstat(path, &st) != 0 : 0)
        return ion_fail_errno(L, "bad_input", errno, "%s", path);
    if (with_real && !S_ISLNK(st.st_mode)) {
        linked = 0;
    } else if (stat(path, &st) != 0) {
        int e = errno;
        if (e != ENOENT || lstat(path, &st) != 0)
            return ion_fail_errno(L, "bad_input", e, "%s", path);
    }
    lua_createtable(L, 0, 6);
    lua_pushstring(L, type_name(st.st_mode));
    lua_setfield(L, -2, "type");
    lua_pushinteger(L, (lua_Integer)st.st_size);
    lua_setfield(L, -2, "size");
    lua_pushnumber(L, (lua_Number)st.st_mtim.tv_sec + (lua_Number)st.st_mtim.tv_nsec / 1e9);
    lua_setfield(L, -2, "mtime");
    if (!with_real) { /* with it, the caller asks core.readable if it reads the file */
        lua_pushboolean(L, !S_ISLNK(st.st_mode) && access(path, R_OK) == 0);
        lua_setfield(L, -2, "readable");
    }
    /* the permission bits: the CLI refuses a secret file others can read */
    lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
    lua_setfield(L, -2, "mode");
    char real[PATH_MAX]; /* on the stack: lua_pushstring may raise */
    ion_realpath_cache *cache = lua_touserdata(L, lua_upvalueindex(1));
    if (with_real && S_ISREG(st.st_mode) &&
        (linked ? realpath(path, real) != NULL
                : ion_realpath_of_unlinked(cache, path, real) || realpath(path, real) != NULL)) {
        lua_pushstring(L, real);
        lua_setfield(L, -2, "real");
    }
    return 1;
}

/* upvalue 1: this Lua state's ion_realpath_cache (realpath.c) */
static int sys_realpath(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char buf[PATH_MAX]; /* on the stack: lua_pushstring may raise, a malloc'd one would leak */
    ion_realpath_cache *cache = lua_touserdata(L, lua_upvalueindex(1));
    if (!ion_realpath_cached(cache, path, buf) && realpath(path, buf) == NULL)
        return ion_fail_errno(L, "bad_input", errno, "%s", path);
    lua_pushstring(L, buf);
    return 1;
}

/* core.readable(path) -> whether this process may read the file */
static int sys_readable(lua_State *L)
{
    lua_pushboolean(L, access(luaL_checkstring(L, 1), R_OK) == 0);
    return 1;
}

static int sys_fsync(lua_State *L)
{
    FILE *f = ion_checkfile(L, 1);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        return ion_fail_errno(L, "bad_input", errno, "fsync");
    lua_pushboolean(L, 1);
    return 1;
}

static int sys_lock(lua_State *L)
{
    static const char *const modes[] = {"exclusive", "shared", "unlock", NULL};
    static const int ops[] = {LOCK_EX | LOCK_NB, LOCK_SH | LOCK_NB, LOCK_UN};
    FILE *f = ion_checkfile(L, 1);
    int op = ops[luaL_checkoption(L, 2, "exclusive", modes)];
    int rc;
    do
        rc = flock(fileno(f), op);
    while (rc != 0 && errno == EINTR);
    if (rc != 0)
        return ion_fail_errno(L, errno == EWOULDBLOCK ? "busy" : "bad_input", errno, "lock");
    lua_pushboolean(L, 1);
    return 1;
}

static int sys_now(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)ion_now());
    return 1;
}

static int sys_sleep(lua_State *L)
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
    while (nanosleep(&req, &rem) != 0 && errno == EINTR && !interrupted_flag)
        req = rem;
    return 0;
}

static int sys_isatty(lua_State *L)
{
    lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)) == 1);
    return 1;
}

static int sys_terminal_width(lua_State *L)
{
    struct winsize ws;
    if (ioctl(2, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
        return 0;
    lua_pushinteger(L, ws.ws_col);
    return 1;
}

/* The self-pipe of the signals we catch: each handler writes a byte, and
 * core.poll waits on the read end too. A signal that lands after the loop
 * looked at its flags but before poll() began would otherwise not wake that
 * poll, so the loop could not sleep longer than it can afford to be late;
 * with the pipe, an idle watcher sleeps until something is due. */
static int signal_pipe[2] = {-1, -1};

static int open_signal_pipe(void)
{
    int i;
    if (signal_pipe[0] >= 0)
        return 0;
    if (pipe(signal_pipe) != 0)
        return -1;
    for (i = 0; i < 2; i++) {
        (void)fcntl(signal_pipe[i], F_SETFL, fcntl(signal_pipe[i], F_GETFL) | O_NONBLOCK);
        (void)fcntl(signal_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    return 0;
}

/* async-signal-safe: write(2) only, errno kept for the code interrupted */
static void poke_signal_pipe(void)
{
    int saved = errno;
    if (signal_pipe[1] >= 0) {
        ssize_t r = write(signal_pipe[1], "!", 1);
        (void)r; /* full pipe: a wake is pending already */
    }
    errno = saved;
}

static void drain_signal_pipe(void)
{
    char buf[64];
    while (read(signal_pipe[0], buf, sizeof buf) > 0) {
    }
}

/* The first SIGINT or SIGTERM sets the flag and puts both back to their
 * default action, so that a second one, of either kind (SIGINT after
 * SIGTERM too), ends the process at once: the graceful stop is asked for
 * once. sigaction is async-signal-safe. */
static void on_signal(int sig)
{
    struct sigaction dfl;
    (void)sig;
    interrupted_flag = 1;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    (void)sigaction(SIGINT, &dfl, NULL);
    (void)sigaction(SIGTERM, &dfl, NULL);
    poke_signal_pipe();
}

/* No SA_RESTART, so a blocking poll wakes up. Both signals are blocked
 * while the handler runs: the second one is then delivered after the reset
 * above, to the default action. */
static int sys_catch_interrupt(lua_State *L)
{
    struct sigaction sa;
    if (open_signal_pipe() != 0)
        return ion_fail_errno(L, "bad_input", errno, "pipe");
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sa.sa_flags = 0;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return ion_fail_errno(L, "bad_input", errno, "sigaction");
    lua_pushboolean(L, 1);
    return 1;
}

static int sys_interrupted(lua_State *L)
{
    lua_pushboolean(L, interrupted_flag != 0);
    return 1;
}

/* core.mkdir(path) -> true | nil, err: one folder (mode 0777 less the
 * umask); one that exists already is fine. For --after move:DIR, which keeps
 * the relative path. */
static int sys_mkdir(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    struct stat st;
    if (mkdir(path, 0777) != 0 && !(errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
        return ion_fail_errno(L, "bad_input", errno, "%s", path);
    lua_pushboolean(L, 1);
    return 1;
}

/* SIGHUP asks a long-running watcher to reload its rules: a flag, as for
 * SIGINT, that core.hangup() reads and clears. */
static volatile sig_atomic_t hangup_flag = 0;

static void on_hangup(int sig)
{
    (void)sig;
    hangup_flag = 1;
    poke_signal_pipe();
}

static int sys_catch_hangup(lua_State *L)
{
    struct sigaction sa;
    if (open_signal_pipe() != 0)
        return ion_fail_errno(L, "bad_input", errno, "pipe");
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_hangup;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* a reload can wait for the next turn of the loop */
    if (sigaction(SIGHUP, &sa, NULL) != 0)
        return ion_fail_errno(L, "bad_input", errno, "sigaction");
    lua_pushboolean(L, 1);
    return 1;
}

/* true once per SIGHUP received (several before a call count as one) */
static int sys_hangup(lua_State *L)
{
    int was = hangup_flag != 0;
    hangup_flag = 0;
    lua_pushboolean(L, was);
    return 1;
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
static int sys_poll(lua_State *L)
{
    size_t nr, nw, n;
    double s = luaL_checknumber(L, 3);
    int ms, rc;
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
    if (signal_pipe[0] >= 0) { /* a caught signal ends the wait, even one already in */
        p[n].fd = signal_pipe[0];
        p[n].events = POLLIN;
        p[n].revents = 0;
        n++;
    }
    if (s <= 0)
        ms = 0;
    else if (s >= 2e6) /* 23 days and more (math.huge too): until a descriptor or a signal */
        ms = -1;
    else
        ms = (int)ceil(s * 1000);
    rc = poll(p, (nfds_t)n, ms);
    if (rc < 0 && errno != EINTR)
        return ion_fail_errno(L, "bad_input", errno, "poll");
    if (rc > 0 && signal_pipe[0] >= 0 && p[n - 1].fd == signal_pipe[0] && p[n - 1].revents) {
        drain_signal_pipe();
        rc--; /* the caller's descriptors only */
    }
    lua_pushinteger(L, rc < 0 ? 0 : rc);
    return 1;
}

void ion_sys_open_lib(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"fsync", sys_fsync},
        {"readable", sys_readable},
        {"lock", sys_lock},
        {"now", sys_now},
        {"sleep", sys_sleep},
        {"isatty", sys_isatty},
        {"terminal_width", sys_terminal_width},
        {"catch_interrupt", sys_catch_interrupt},
        {"interrupted", sys_interrupted},
        {"mkdir", sys_mkdir},
        {"catch_hangup", sys_catch_hangup},
        {"hangup", sys_hangup},
        {"poll", sys_poll},
        {NULL, NULL},
    };
    ion_setfuncs(L, funcs);
    ion_realpath_cache *cache = lua_newuserdata(L, sizeof *cache);
    cache->valid = 0;
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, sys_realpath, 1);
    lua_setfield(L, -3, "realpath");
    lua_pushcclosure(L, sys_stat, 1);
    lua_setfield(L, -2, "stat");
}
