/* The Lua binding of the journal index (journal_index.h), with
 * core.fsync_dir and core.same_file. core.journal_index(fh): the resume
 * journal's index, built by reading the file once without decoding it into
 * Lua values. Per key it keeps 32 bytes in an open-addressed table (a 64-bit
 * hash of the key, the offsets of its first record, of its latest "put" and
 * "attached" records, and two flags); the Lua side reads those lines back
 * (idx:line) when it needs them. Keys themselves are not kept: a key whose
 * hash meets another key's is told apart by reading the other's first
 * record back and gets a slot of its own (the index then says `collided`),
 * never a wrong state. The index's fold (ion_ji_apply) is the only one. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "journal_index.h"
#include "keyhash.h"

#define JI_MT "ion.upload.core.journal_index"

static ji_index *check_index(lua_State *L)
{
    ji_index *ix = luaL_checkudata(L, 1, JI_MT);
    if (ix->fd < 0)
        luaL_error(L, "journal index is closed");
    return ix;
}

static int ji_close(lua_State *L)
{
    ji_index *ix = luaL_checkudata(L, 1, JI_MT);
    if (ix->fd >= 0)
        close(ix->fd);
    ix->fd = -1;
    ion_ji_drop(ix);
    free(ix->slots), free(ix->buf), free(ix->chunk), free(ix->seen), free(ix->win);
    ix->slots = NULL, ix->buf = ix->chunk = ix->win = NULL, ix->seen = NULL;
    ix->cap = ix->used = ix->bufcap = ix->wlen = 0;
    return 0;
}

/* A fold that failed: out of memory raises, an unreadable key -> nil, err. */
static int fail_apply(lua_State *L, int e)
{
    if (e == ENOMEM)
        return luaL_error(L, "journal: out of memory");
    return ion_fail_errno(L, "bad_input", e, "journal");
}

/* core.journal_index(fh [, hash_bits]) -> index | nil, err. hash_bits
 * (1..63) weakens the hash: specs use it to make keys collide. */
static int journal_index(lua_State *L)
{
    FILE *f = ion_checkfile(L, 1);
    lua_Integer bits = luaL_optinteger(L, 2, 64);
    luaL_argcheck(L, bits >= 1 && bits <= 64, 2, "hash bits out of 1..64");
    ji_index *ix = ion_newuserdata(L, sizeof *ix);
    memset(ix, 0, sizeof *ix);
    ix->fd = ix->next_fd = -1;
    ion_setmetatable(L, JI_MT);
    ix->mask = bits == 64 ? ~0ULL : (1ULL << bits) - 1;
    ix->seed = ion_keyhash_seed(ix);
    if (fflush(f) != 0 || (ix->fd = dup(fileno(f))) < 0)
        return ion_fail_errno(L, "bad_input", errno, "journal");
    if (!ion_ji_grow(ix) || !(ix->chunk = malloc(JI_CHUNK)) ||
        !(ix->seen = calloc(JI_SEEN, sizeof *ix->seen)))
        return luaL_error(L, "journal: out of memory");
    int e = ion_ji_scan(ix);
    free(ix->chunk), ix->chunk = NULL;
    return e ? fail_apply(L, e) : 1;
}

static int ji_stats(lua_State *L)
{
    ji_index *ix = check_index(L);
    /* records no later one supersedes (a key's latest put and attached, its
     * flags): more than half superseded calls for compaction. A compacted
     * journal holds these less an attached file's put (ion_ji_adopt). */
    lua_Integer live = 0;
    for (size_t i = 0; i < ix->cap; i++) {
        const ji_slot *s = &ix->slots[i];
        if (s->h) {
            int n = (s->put != 0) + (s->att != 0) + !!(s->first & JI_REG) + !!(s->first & JI_DOUBT);
            live += n ? n : 1;
        }
    }
    lua_createtable(L, 0, 9);
#define SET_INT(name, v) (lua_pushinteger(L, (lua_Integer)(v)), lua_setfield(L, -2, name))
    SET_INT("lines", ix->lines);
    SET_INT("records", ix->records);
    SET_INT("skipped", ix->skipped);
    SET_INT("keys", ix->used);
    SET_INT("live", live);
    SET_INT("bytes", sizeof *ix + ix->cap * sizeof(ji_slot) + ix->bufcap +
                         JI_SEEN * sizeof(ji_seen) + (ix->win ? JI_WINDOW : 0));
#undef SET_INT
    lua_pushboolean(L, ix->unterminated);
    lua_setfield(L, -2, "unterminated");
    lua_pushboolean(L, ix->collided);
    lua_setfield(L, -2, "collided");
    return 1;
}

static void push_off(lua_State *L, uint64_t off1)
{
    if (off1)
        lua_pushinteger(L, (lua_Integer)(off1 - 1));
    else
        lua_pushboolean(L, 0);
}

/* idx:get(key) -> nil | put_offset|false, attached_offset|false, registering, in_doubt */
static int ji_get(lua_State *L)
{
    ji_index *ix = check_index(L);
    size_t n;
    const char *k = luaL_checklstring(L, 2, &n);
    uint64_t h = ion_ji_hash(ix, k, n);
    const ji_slot *s = ion_ji_slot(ix, h, k, n);
    if (!s || s->h == 0) {
        lua_pushnil(L);
        return 1;
    }
    push_off(L, s->put);
    push_off(L, s->att);
    lua_pushboolean(L, (s->first & JI_REG) != 0);
    lua_pushboolean(L, (s->first & JI_DOUBT) != 0);
    return 4;
}

/* idx:attached(key) -> its "attached" line, registering, in_doubt | nil
 * (an unknown key, whatever keys share its hash) | false (the rest: ask
 * idx:get). A rerun's question for
 * every file: one read, the key checked on the line that is read anyway
 * (idx:get checks it on the key's first record, one read more). A slot of
 * the same hash and another key (its line's) is passed by, as ion_ji_slot does. */
static int ji_attached(lua_State *L)
{
    ji_index *ix = check_index(L);
    size_t n;
    const char *k = luaL_checklstring(L, 2, &n);
    uint64_t h = ion_ji_hash(ix, k, n);
    size_t i = (size_t)h & (ix->cap - 1);
    const ji_slot *s;
    while ((s = ion_ji_probe(ix, h, &i))->h != 0) {
        long len = ion_ji_read_line(ix, s->att ? s->att - 1 : s->first & JI_OFF);
        int same = len >= 0 && ion_ji_line_has_key(ix, h, ix->buf, (size_t)len, k, n);
        if (len < 0 || (same && !s->att)) {
            lua_pushboolean(L, 0);
            return 1;
        }
        if (same) {
            lua_pushlstring(L, ix->buf, (size_t)len);
            lua_pushboolean(L, (s->first & JI_REG) != 0);
            lua_pushboolean(L, (s->first & JI_DOUBT) != 0);
            return 3;
        }
        ix->collided = 1;
    }
    lua_pushnil(L);
    return 1;
}

/* idx:apply(key, event, offset) -> true | nil, err (a key of the same hash unreadable) */
static int ji_apply(lua_State *L)
{
    ji_index *ix = check_index(L);
    size_t kn, en;
    const char *k = luaL_checklstring(L, 2, &kn);
    const char *e = luaL_checklstring(L, 3, &en);
    lua_Integer off = luaL_checkinteger(L, 4);
    luaL_argcheck(L, off >= 0, 4, "negative offset");
    int rc = ion_ji_apply(ix, k, kn, e, en, (uint64_t)off);
    if (rc)
        return fail_apply(L, rc);
    ix->records++, ix->lines++;
    lua_pushboolean(L, 1);
    return 1;
}

/* idx:line(offset) -> the line there | nil */
static int ji_line(lua_State *L)
{
    ji_index *ix = check_index(L);
    lua_Integer off = luaL_checkinteger(L, 2);
    long n = off < 0 ? -1 : ion_ji_read_line(ix, (uint64_t)off);
    if (n < 0)
        lua_pushnil(L);
    else
        lua_pushlstring(L, ix->buf, (size_t)n);
    return 1;
}

/* idx:next(i) -> the next slot's i, its first record's offset | nil */
static int ji_next(lua_State *L)
{
    ji_index *ix = check_index(L);
    lua_Integer i = luaL_optinteger(L, 2, 0);
    for (size_t j = i < 0 ? 0 : (size_t)i; j < ix->cap; j++) {
        if (ix->slots[j].h) {
            lua_pushinteger(L, (lua_Integer)j + 1);
            lua_pushinteger(L, (lua_Integer)(ix->slots[j].first & JI_OFF));
            return 2;
        }
    }
    lua_pushnil(L);
    return 1;
}

/* idx:compact(dst) -> true | nil, err: every key's minimal records to the
 * file dst (flushed, not synced: the caller syncs and renames, then calls
 * idx:adopt() or, giving up, idx:drop()). */
static int ji_compact(lua_State *L)
{
    ji_index *ix = check_index(L);
    FILE *dst = ion_checkfile(L, 2);
    int e = ion_ji_compact(ix, dst);
    if (e == 0 && fflush(dst) != 0)
        e = errno;
    if (e)
        return ion_fail_errno(L, "bad_input", e, "journal compaction");
    lua_pushboolean(L, 1);
    return 1;
}

/* idx:adopt(): the index now reads the file compact() wrote (renamed over
 * the journal by then): its offsets, its lines */
static int ji_adopt(lua_State *L)
{
    ji_index *ix = check_index(L);
    luaL_argcheck(L, ix->next_fd >= 0, 1, "no compaction to adopt");
    ion_ji_adopt(ix);
    return 0;
}

/* idx:drop(): forgets a compaction written but not adopted */
static int ji_drop(lua_State *L)
{
    ion_ji_drop(check_index(L));
    return 0;
}

static int ji_tostring(lua_State *L)
{
    ji_index *ix = luaL_checkudata(L, 1, JI_MT);
    lua_pushfstring(L, "%s (%d keys)", JI_MT, (int)ix->used);
    return 1;
}

/* core.fsync_dir(path): a rename in it made durable */
static int fsync_dir(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return ion_fail_errno(L, "bad_input", e, "fsync %s", path);
    }
    close(fd);
    lua_pushboolean(L, 1);
    return 1;
}

/* core.same_file(fh, path): whether `path` still names the file open as fh
 * (a journal compacted by another run was renamed over) */
static int same_file(lua_State *L)
{
    FILE *f = ion_checkfile(L, 1);
    const char *path = luaL_checkstring(L, 2);
    struct stat a, b;
    if (fstat(fileno(f), &a) != 0)
        return ion_fail_errno(L, "bad_input", errno, "fstat");
    lua_pushboolean(L, stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino);
    return 1;
}

void ion_journal_open_lib(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"stats", ji_stats},     {"get", ji_get},     {"apply", ji_apply},
        {"line", ji_line},       {"next", ji_next},   {"close", ji_close},
        {"compact", ji_compact}, {"adopt", ji_adopt}, {"attached", ji_attached},
        {"drop", ji_drop},       {NULL, NULL},
    };
    static const luaL_Reg funcs[] = {
        {"journal_index", journal_index},
        {"fsync_dir", fsync_dir},
        {"same_file", same_file},
        {NULL, NULL},
    };
    ion_new_class(L, JI_MT, methods, ji_close, ji_tostring, 0);
    ion_setfuncs(L, funcs);
}
