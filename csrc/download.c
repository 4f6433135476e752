/* A download streamed to `path .. ".part"`, hashed on the way, renamed onto
 * `path` only after a complete 2xx response: a failed or refused download
 * leaves nothing behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int is_2xx(long s)
{
    return s >= 200 && s < 300;
}

static size_t write_cb(char *ptr, size_t size, size_t n, void *ud)
{
    ion_xfer *x = ud;
    size_t len = size * n, done = 0;
    long status = 0;
    if (curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
        status = 0;
    if (!is_2xx(status)) {
        /* an error page: keep its start for the message, drop the rest */
        size_t keep = x->max_response > x->body.len ? x->max_response - x->body.len : 0;
        if (keep > len)
            keep = len;
        if (!ion_buf_append(&x->body, ptr, keep)) {
            ion_xfer_set_failure(x, "network", "%s: out of memory", x->what);
            return 0;
        }
        return len;
    }
    while (done < len) {
        ssize_t w = write(x->out_fd, ptr + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            ion_xfer_set_failure(x, "bad_input", "%s: %s", x->part_path, strerror(errno));
            return 0;
        }
        done += (size_t)w;
    }
    if (x->md && EVP_DigestUpdate(x->md, ptr, len) != 1) {
        ion_xfer_set_failure(x, "aborted", "%s: MD5 computation failed", x->what);
        return 0;
    }
    x->written += (curl_off_t)len;
    return len;
}

int ion_download_configure(lua_State *L, ion_xfer *x, int req)
{
    size_t pl = 0;
    const char *path = ion_opt_string(L, req, "path", &pl);
    int want_md5 = ion_opt_boolean(L, req, "md5", 1);
    if (path == NULL)
        return luaL_error(L, "option 'path' is required");
    if ((x->out_path = strdup(path)) == NULL || (x->part_path = malloc(pl + 6)) == NULL)
        return luaL_error(L, "out of memory");
    memcpy(x->part_path, path, pl);
    memcpy(x->part_path + pl, ".part", 6);
    if (want_md5 && (x->md = ion_md5_new()) == NULL)
        return ion_fail(L, "bad_input", "MD5 is not available in this OpenSSL; pass md5 = false");
    /* Opened before any traffic, so an unwritable place fails first. */
    x->out_fd = open(x->part_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);
    if (x->out_fd < 0) {
        int e = errno;
        free(x->part_path); /* nothing of ours to remove */
        x->part_path = NULL;
        return ion_fail(L, "bad_input", "%s.part: %s", path, strerror(e));
    }
    SETOPT(CURLOPT_HTTPGET, 1L);
    SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
    SETOPT(CURLOPT_WRITEDATA, x);
    SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    return 0;
}

static void discard_part(ion_xfer *x)
{
    if (x->out_fd >= 0) {
        close(x->out_fd);
        x->out_fd = -1;
    }
    if (x->part_path) {
        unlink(x->part_path);
        free(x->part_path);
        x->part_path = NULL;
    }
}

void ion_download_finish(ion_xfer *x)
{
    if (x->result != CURLE_OK || x->fail_code || !is_2xx(x->status)) {
        discard_part(x);
        return;
    }
    /* durable before it takes the final name */
    if (fsync(x->out_fd) != 0 || close(x->out_fd) != 0) {
        x->out_fd = -1;
        ion_xfer_set_failure(x, "bad_input", "%s: %s", x->part_path, strerror(errno));
        discard_part(x);
        return;
    }
    x->out_fd = -1;
    if (rename(x->part_path, x->out_path) != 0) {
        ion_xfer_set_failure(x, "bad_input", "%s: %s", x->out_path, strerror(errno));
        discard_part(x);
        return;
    }
    free(x->part_path);
    x->part_path = NULL;
    if (x->md) {
        unsigned int n = 0;
        if (EVP_DigestFinal_ex(x->md, x->digest, &n) == 1 && n == 16)
            x->have_digest = 1;
    }
}

void ion_download_free(ion_xfer *x)
{
    discard_part(x);
    free(x->out_path);
    x->out_path = NULL;
    EVP_MD_CTX_free(x->md);
    x->md = NULL;
}

void ion_download_push_result(lua_State *L, ion_xfer *x)
{
    char hex[33];
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, (lua_Integer)x->status);
    lua_setfield(L, -2, "status");
    if (x->have_digest) {
        ion_hex(x->digest, 16, hex);
        lua_pushstring(L, hex);
        lua_setfield(L, -2, "md5");
    }
    lua_pushinteger(L, (lua_Integer)x->written);
    lua_setfield(L, -2, "size");
    ion_push_headers(L, x);
    lua_setfield(L, -2, "headers");
    if (!is_2xx(x->status)) {
        lua_pushlstring(L, x->body.data ? x->body.data : "", x->body.len);
        lua_setfield(L, -2, "body");
    }
}
