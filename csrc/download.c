/* A download streamed to `path .. ".part"`, hashed on the way, renamed onto
 * `path` only after a complete 2xx response whose size and MD5 are the ones
 * expected: a failed or refused download leaves nothing behind, and the file
 * that was at `path` before stays. With `discard = true` instead of a path
 * the bytes are only hashed (ion-upload verify): nothing is written. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static int is_2xx(long s)
{
    return s >= 200 && s < 300;
}

/* The caller's size, else the Content-Length, else -1 (no limit). */
static curl_off_t expected_size(ion_xfer *x)
{
    curl_off_t cl = -1;
    if (x->expected_size >= 0)
        return x->expected_size;
    if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl >= 0)
        return cl;
    return -1;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 32 hex digits into 16 bytes; 0 when s is anything else. */
static int parse_md5(const char *s, size_t len, unsigned char out[16])
{
    if (len != 32)
        return 0;
    for (size_t i = 0; i < 16; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return 0;
        out[i] = (unsigned char)(hi * 16 + lo);
    }
    return 1;
}

/* A fresh file: O_EXCL never opens what is there (a symbolic link planted
 * at the name included), so a leftover .part is unlinked first: unlink
 * removes a link itself, never its target. */
static int open_part(const char *part)
{
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
    int fd = open(part, flags, 0666);
    if (fd < 0 && errno == EEXIST && (unlink(part) == 0 || errno == ENOENT))
        fd = open(part, flags, 0666);
    return fd;
}

static size_t write_cb(char *ptr, size_t size, size_t n, void *ud)
{
    ion_xfer *x = ud;
    size_t len = size * n, done = 0;
    long status = 0;
    curl_off_t limit;
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
    if (status == 206) { /* a range we never asked for: not the whole object */
        ion_xfer_set_failure(x, "protocol", "%s: answered 206 Partial Content to a plain GET",
                             x->what);
        return 0;
    }
    limit = expected_size(x);
    if (limit >= 0 && (curl_off_t)len > limit - x->written) {
        ion_xfer_set_failure(x, "protocol",
                             "%s: body longer than the %" CURL_FORMAT_CURL_OFF_T " bytes expected",
                             x->what, limit);
        return 0;
    }
    while (x->out_fd >= 0 && done < len) { /* no fd: discard = true */
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
    if (x->sha && EVP_DigestUpdate(x->sha, ptr, len) != 1) {
        ion_xfer_set_failure(x, "aborted", "%s: SHA-256 computation failed", x->what);
        return 0;
    }
    x->written += (curl_off_t)len;
    return len;
}

/* Under the session's limit_rate (rate.c) a block is taken only with credit
 * left; otherwise the transfer pauses and libcurl keeps the block for later. */
static size_t capped_write_cb(char *ptr, size_t size, size_t n, void *ud)
{
    ion_xfer *x = ud;
    size_t len = size * n, r;
    if (len > 0 && !x->fail_code && ion_rate_limited(x) && ion_rate_allow(x, len) == 0)
        return CURL_WRITEFUNC_PAUSE;
    r = write_cb(ptr, size, n, ud);
    if (r == len && ion_rate_limited(x))
        ion_rate_spend(x, len);
    return r;
}

static int configure_get(lua_State *L, ion_xfer *x)
{
    SETOPT(CURLOPT_HTTPGET, 1L);
    SETOPT(CURLOPT_WRITEFUNCTION, capped_write_cb);
    SETOPT(CURLOPT_WRITEDATA, x);
    SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    return 0;
}

int ion_download_configure(lua_State *L, ion_xfer *x, int req)
{
    size_t pl = 0, el = 0;
    const char *path = ion_opt_string(L, req, "path", &pl);
    int want_md5 = ion_opt_boolean(L, req, "md5", 1);
    int want_sha = ion_opt_boolean(L, req, "sha256", 0);
    int discard = ion_opt_boolean(L, req, "discard", 0);
    const char *expect = ion_opt_string(L, req, "expect_md5", &el);
    double size = 0;
    if (path == NULL && !discard)
        return luaL_error(L, "option 'path' is required (or discard = true)");
    if (path != NULL && discard)
        return luaL_error(L, "options 'path' and 'discard' exclude each other");
    if (expect) {
        if (!parse_md5(expect, el, x->expected_md5))
            return ion_fail(L, "bad_input", "expect_md5 must be 32 hex digits");
        if (!want_md5)
            return ion_fail(L, "bad_input", "expect_md5 needs md5 = true");
        x->have_expected_md5 = 1;
    }
    if (ion_opt_number(L, req, "size", &size)) {
        /* 2^53: every whole number below is exact in a double; NaN fails too */
        if (!(size >= 0 && size <= 9007199254740992.0 && size == floor(size)))
            return ion_fail(L, "bad_input", "size must be a whole number of bytes");
        x->expected_size = (curl_off_t)size;
    }
    if (want_md5 && (x->md = ion_md5_new()) == NULL)
        return ion_fail(L, "bad_input", "MD5 is not available in this OpenSSL; pass md5 = false");
    if (want_sha && (x->sha = ion_sha256_new()) == NULL)
        return ion_fail(L, "bad_input",
                        "SHA-256 is not available in this OpenSSL; pass sha256 = false");
    if (discard)
        return configure_get(L, x);
    if ((x->out_path = strdup(path)) == NULL || (x->part_path = malloc(pl + 6)) == NULL)
        return luaL_error(L, "out of memory");
    memcpy(x->part_path, path, pl);
    memcpy(x->part_path + pl, ".part", 6);
    /* Opened before any traffic, so an unwritable place fails first. */
    x->out_fd = open_part(x->part_path);
    if (x->out_fd < 0) {
        int e = errno;
        free(x->part_path); /* nothing of ours to remove */
        x->part_path = NULL;
        return ion_fail_errno(L, "bad_input", e, "%s.part", path);
    }
    return configure_get(L, x);
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

/* A 2xx answer that is not the whole object, or not the one expected. */
static void check_body(ion_xfer *x)
{
    char got[33], want[33];
    if (x->status == 204 || x->status == 206) {
        ion_xfer_set_failure(x, "protocol", "%s: answered %ld, not the object's bytes", x->what,
                             x->status);
        return;
    }
    if (x->expected_size >= 0 && x->written != x->expected_size) {
        ion_xfer_set_failure(x, "protocol",
                             "%s: body of %" CURL_FORMAT_CURL_OFF_T
                             " bytes, %" CURL_FORMAT_CURL_OFF_T " expected",
                             x->what, x->written, x->expected_size);
        return;
    }
    if (x->md) {
        unsigned int n = 0;
        if (EVP_DigestFinal_ex(x->md, x->digest, &n) != 1 || n != 16) {
            ion_xfer_set_failure(x, "aborted", "%s: MD5 computation failed", x->what);
            return;
        }
        x->have_digest = 1;
    }
    if (x->sha) {
        if (!ion_sha256_final(x->sha, x->sha_digest)) {
            ion_xfer_set_failure(x, "aborted", "%s: SHA-256 computation failed", x->what);
            return;
        }
        x->have_sha = 1;
    }
    if (x->have_expected_md5 && memcmp(x->digest, x->expected_md5, 16) != 0) {
        ion_hex(x->digest, 16, got);
        ion_hex(x->expected_md5, 16, want);
        ion_xfer_set_failure(x, "etag_mismatch", "%s: downloaded bytes have MD5 %s, expected %s",
                             x->what, got, want);
    }
}

void ion_download_finish(ion_xfer *x)
{
    int fd = x->out_fd;
    if (x->result == CURLE_OK && !x->fail_code && is_2xx(x->status))
        check_body(x);
    if (x->result != CURLE_OK || x->fail_code || !is_2xx(x->status)) {
        x->have_digest = 0;
        x->have_sha = 0;
        discard_part(x);
        return;
    }
    if (x->out_path == NULL) /* discard = true: hashed, nothing to keep */
        return;
    /* durable before it takes the final name; the fd is closed either way */
    x->out_fd = -1;
    if (fsync(fd) != 0) {
        int e = errno;
        close(fd);
        ion_xfer_set_failure(x, "bad_input", "%s: %s", x->part_path, strerror(e));
        discard_part(x);
        return;
    }
    if (close(fd) != 0) {
        ion_xfer_set_failure(x, "bad_input", "%s: %s", x->part_path, strerror(errno));
        discard_part(x);
        return;
    }
    if (rename(x->part_path, x->out_path) != 0) {
        ion_xfer_set_failure(x, "bad_input", "%s: %s", x->out_path, strerror(errno));
        discard_part(x);
        return;
    }
    free(x->part_path);
    x->part_path = NULL;
}

void ion_download_free(ion_xfer *x)
{
    discard_part(x);
    free(x->out_path);
    x->out_path = NULL;
    EVP_MD_CTX_free(x->md);
    x->md = NULL;
    EVP_MD_CTX_free(x->sha);
    x->sha = NULL;
}
