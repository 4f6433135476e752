/* core.hash_file(path [, { sha256 = bool }]): the MD5 (and SHA-256) of a
 * local file, read in blocks, for `ion-upload verify` to compare a file
 * with what was recorded when it was sent. Returns { md5, sha256?, size,
 * mtime } | nil, err (bad_input; aborted after SIGINT under
 * core.catch_interrupt). The size and mtime come from the fstat before the
 * first read, and a file that changes while it is read is reported. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "signals.h"

#define HASH_BLOCK ((size_t)256 * 1024)

typedef struct {
    int fd;
    EVP_MD_CTX *md5, *sha;
    char *buf;
} hash_job;

static void job_free(hash_job *j)
{
    if (j->fd >= 0)
        close(j->fd);
    EVP_MD_CTX_free(j->md5);
    EVP_MD_CTX_free(j->sha);
    free(j->buf);
}

static int same_stat(const struct stat *a, const struct stat *b)
{
    return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Reads the whole file into the digests: NULL, or a static reason. */
static const char *hash_all(hash_job *j, int *err)
{
    for (;;) {
        ssize_t n = read(j->fd, j->buf, HASH_BLOCK);
        if (n < 0) {
            if (errno == EINTR && !ion_interrupted())
                continue;
            *err = errno;
            return NULL;
        }
        if (n == 0)
            return NULL;
        if (EVP_DigestUpdate(j->md5, j->buf, (size_t)n) != 1)
            return "MD5 computation failed";
        if (j->sha && EVP_DigestUpdate(j->sha, j->buf, (size_t)n) != 1)
            return "SHA-256 computation failed";
        if (ion_interrupted())
            return "interrupted";
    }
}

static int hash_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int want_sha = 0;
    hash_job j = {-1, NULL, NULL, NULL};
    struct stat before, after;
    unsigned char d5[16], d256[32];
    unsigned int n5 = 0;
    char hex[65];
    const char *why;
    int err = 0;

    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        want_sha = ion_opt_boolean(L, 2, "sha256", 0);
    }
    j.fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (j.fd < 0)
        return ion_fail_errno(L, "bad_input", errno, "%s", path);
    if (fstat(j.fd, &before) != 0) {
        int e = errno;
        job_free(&j);
        return ion_fail_errno(L, "bad_input", e, "%s", path);
    }
    if (!S_ISREG(before.st_mode)) {
        job_free(&j);
        return ion_fail(L, "bad_input", "%s: not a file", path);
    }
    (void)fcntl(j.fd, F_SETFL, fcntl(j.fd, F_GETFL) & ~O_NONBLOCK);
    j.md5 = ion_md5_new();
    j.sha = want_sha ? ion_sha256_new() : NULL;
    j.buf = malloc(HASH_BLOCK);
    if (j.md5 == NULL || (want_sha && j.sha == NULL) || j.buf == NULL) {
        job_free(&j);
        return ion_fail(L, "bad_input", "%s: no MD5/SHA-256 in this OpenSSL, or out of memory",
                        path);
    }
    why = hash_all(&j, &err);
    if (why == NULL && err == 0 && (fstat(j.fd, &after) != 0 || !same_stat(&before, &after)))
        why = "file changed while it was read";
    if (why == NULL && err == 0 && EVP_DigestFinal_ex(j.md5, d5, &n5) != 1)
        why = "MD5 computation failed";
    if (why == NULL && err == 0 && j.sha && !ion_sha256_final(j.sha, d256))
        why = "SHA-256 computation failed";
    job_free(&j);
    if (err != 0)
        return ion_fail_errno(L, "bad_input", err, "%s", path);
    if (why != NULL)
        return ion_fail(L, strcmp(why, "interrupted") == 0 ? "aborted" : "bad_input", "%s: %s",
                        path, why);

    lua_createtable(L, 0, 4);
    ion_hex(d5, 16, hex);
    lua_pushstring(L, hex);
    lua_setfield(L, -2, "md5");
    if (want_sha) {
        ion_hex(d256, 32, hex);
        lua_pushstring(L, hex);
        lua_setfield(L, -2, "sha256");
    }
    lua_pushinteger(L, (lua_Integer)before.st_size);
    lua_setfield(L, -2, "size");
    lua_pushnumber(L, (lua_Number)before.st_mtim.tv_sec + (lua_Number)before.st_mtim.tv_nsec / 1e9);
    lua_setfield(L, -2, "mtime");
    return 1;
}

void ion_hash_open_lib(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"hash_file", hash_file},
        {NULL, NULL},
    };
    ion_setfuncs(L, funcs);
}
