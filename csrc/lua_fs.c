/* Folder listing for the CLI's folder walker: core.list_dir(path) gives the
 * entries of one folder, sorted by name (bytewise, whatever the locale),
 * with what lstat says of each. The walker (lua/ion/upload/cli/walk.lua)
 * recurses in Lua, so that it can stream. */
#define _DEFAULT_SOURCE /* DT_* and dirfd() */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define LISTING_MT "ion.upload.core.listing"

/* What a listing holds while it is read: freed by __gc if Lua raises
 * (out of memory) half way, else by listing_free before returning. */
typedef struct {
    DIR *dir;
    char **names;
    size_t n, cap;
} listing;

static void listing_free(listing *l)
{
    if (l->dir)
        closedir(l->dir);
    l->dir = NULL;
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->n = l->cap = 0;
}

static int listing_gc(lua_State *L)
{
    listing_free((listing *)luaL_checkudata(L, 1, LISTING_MT));
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "dev:ino", exact on every Lua (5.1 would round a 64-bit inode number). */
static void push_id(lua_State *L, const struct stat *st)
{
    char id[64];
    snprintf(id, sizeof id, "%llu:%llu", (unsigned long long)st->st_dev,
             (unsigned long long)st->st_ino);
    lua_pushstring(L, id);
}

static const char *kind(mode_t m)
{
    if (S_ISREG(m))
        return "file";
    if (S_ISDIR(m))
        return "dir";
    if (S_ISLNK(m))
        return "link";
    return "other";
}

static void set_stat_fields(lua_State *L, const struct stat *st, const char *prefix)
{
    char key[32];
    snprintf(key, sizeof key, "%stype", prefix);
    lua_pushstring(L, kind(st->st_mode));
    lua_setfield(L, -2, key);
    snprintf(key, sizeof key, "%ssize", prefix);
    lua_pushinteger(L, (lua_Integer)st->st_size);
    lua_setfield(L, -2, key);
    snprintf(key, sizeof key, "%smtime", prefix);
    lua_pushnumber(L, (lua_Number)st->st_mtim.tv_sec + (lua_Number)st->st_mtim.tv_nsec / 1e9);
    lua_setfield(L, -2, key);
    snprintf(key, sizeof key, "%sdev", prefix);
    lua_pushnumber(L, (lua_Number)st->st_dev);
    lua_setfield(L, -2, key);
    snprintf(key, sizeof key, "%sino", prefix);
    lua_pushnumber(L, (lua_Number)st->st_ino);
    lua_setfield(L, -2, key);
    snprintf(key, sizeof key, "%sid", prefix);
    push_id(L, st);
    lua_setfield(L, -2, key);
}

/* core.list_dir(path) -> { { name, type = "file"|"dir"|"link"|"other",
 * size, mtime, dev, ino, id [, target_type, target_size, target_id ...] } },
 * id of the folder itself | nil, err. "." and ".." are left out; an entry
 * that vanished between readdir and lstat is left out too. */
static int fs_list_dir(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    listing *l = (listing *)ion_newuserdata(L, sizeof *l);
    struct stat st;
    struct dirent *d;
    memset(l, 0, sizeof *l);
    luaL_getmetatable(L, LISTING_MT);
    lua_setmetatable(L, -2);

    l->dir = opendir(path);
    if (l->dir == NULL)
        return ion_fail_errno(L, "bad_input", errno, "%s", path);
    if (fstat(dirfd(l->dir), &st) != 0) {
        int e = errno;
        listing_free(l);
        return ion_fail_errno(L, "bad_input", e, "%s", path);
    }
    for (;;) {
        errno = 0;
        d = readdir(l->dir);
        if (d == NULL)
            break;
        if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
            continue;
        if (l->n == l->cap) {
            size_t cap = l->cap ? l->cap * 2 : 64;
            char **names = realloc(l->names, cap * sizeof *names);
            if (names == NULL)
                break;
            l->names = names;
            l->cap = cap;
        }
        l->names[l->n] = strdup(d->d_name);
        if (l->names[l->n] == NULL)
            break;
        l->n++;
    }
    if (d != NULL || errno != 0) {
        int e = d != NULL ? ENOMEM : errno;
        listing_free(l);
        return ion_fail_errno(L, "bad_input", e, "%s", path);
    }
    if (l->n > 1) /* an empty folder has no array: qsort(NULL, 0) is undefined */
        qsort(l->names, l->n, sizeof *l->names, by_name);

    lua_createtable(L, (int)l->n, 0);
    int k = 0;
    for (size_t i = 0; i < l->n; i++) {
        struct stat es, ts;
        int fd = dirfd(l->dir);
        if (fstatat(fd, l->names[i], &es, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* gone since readdir */
        lua_createtable(L, 0, 12);
        lua_pushstring(L, l->names[i]);
        lua_setfield(L, -2, "name");
        set_stat_fields(L, &es, "");
        if (S_ISLNK(es.st_mode)) {
            if (fstatat(fd, l->names[i], &ts, 0) == 0) {
                set_stat_fields(L, &ts, "target_");
            } else {
                lua_pushliteral(L, "missing"); /* a dangling link */
                lua_setfield(L, -2, "target_type");
            }
        }
        lua_rawseti(L, -2, ++k);
    }
    listing_free(l);
    push_id(L, &st);
    return 2;
}

/* core.fileno(file) -> the descriptor of a Lua file handle, to poll(). */
static int fs_fileno(lua_State *L)
{
    lua_pushinteger(L, fileno(ion_checkfile(L, 1)));
    return 1;
}

/* core.read_some(file, max) -> the bytes one read(2) gives (at most max) |
 * nil at the end of the file | nil, err. It goes past stdio's buffer (never
 * mix it with file:read on the same handle): a pipe or FIFO gives what its
 * writer has written so far, where fread would wait for `max` bytes. It
 * waits only when nothing is there: poll the descriptor first. */
static int fs_read_some(lua_State *L)
{
    FILE *f = ion_checkfile(L, 1);
    lua_Integer max = luaL_checkinteger(L, 2);
    char *p;
    ssize_t n;
    luaL_argcheck(L, max > 0 && max <= 1024 * 1024, 2, "a positive size, at most 1 MiB");
    p = ion_newuserdata(L, (size_t)max); /* collected by Lua: nothing leaks if a push raises */
    do
        n = read(fileno(f), p, (size_t)max);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return ion_fail_errno(L, "bad_input", errno, "read");
    if (n == 0) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushlstring(L, p, (size_t)n);
    return 1;
}

void ion_fs_open_lib(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"list_dir", fs_list_dir},
        {"fileno", fs_fileno},
        {"read_some", fs_read_some},
        {NULL, NULL},
    };
    if (luaL_newmetatable(L, LISTING_MT)) {
        lua_pushcfunction(L, listing_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    ion_setfuncs(L, funcs);
}
