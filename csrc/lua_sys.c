/* The Lua binding of small system helpers the Lua layer cannot write
 * portably: stat, realpath, fsync, file locks, mkdir, the monotonic clock,
 * terminal facts. (Signals, and the waits they cut short: lua_signals.c.) */
#define _DEFAULT_SOURCE /* flock() and TIOCGWINSZ are BSD, not POSIX */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "realpath.h"

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

void ion_sys_open_lib(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"fsync", sys_fsync},   {"readable", sys_readable},
        {"lock", sys_lock},     {"now", sys_now},
        {"isatty", sys_isatty}, {"terminal_width", sys_terminal_width},
        {"mkdir", sys_mkdir},   {NULL, NULL},
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
