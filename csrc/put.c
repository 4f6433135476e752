/* The streaming PUT handed to libcurl: a file read from disk as libcurl
 * sends it (put_file.c), hashed on the way, never held whole in memory and
 * never sent chunked.
 *
 * With a digest on and a file bigger than one slot, the reads go through a
 * read-ahead ring (put_ring.c): a thread reads and hashes while libcurl
 * sends, so on two cores the PUT takes about as long as the slower of the
 * two instead of their sum. Otherwise the read callback reads (and hashes)
 * straight into libcurl's buffer. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "put_file.h"
#include "put_ring.h"

/* libcurl's default is 64 KiB; bigger buffers mean fewer read callbacks
 * and send() calls per byte (see bench/put_1gib.sh for the measurements). */
#ifndef ION_UPLOAD_BUFFER
#define ION_UPLOAD_BUFFER ((size_t)512 * 1024)
#endif
#define ION_MIN_UPLOAD_BUFFER ((size_t)16 * 1024) /* libcurl's floor */

struct ion_put {
    ion_put_file file;
    ion_ring ring;     /* when `threaded` */
    int threaded;      /* reads go through the ring */
    curl_off_t handed; /* bytes given to libcurl since the last rewind */
    char *path_for_msg;
};

static size_t fail_read(ion_xfer *x, int fail, int err)
{
    if (fail == ION_RF_CHANGED)
        ion_xfer_set_failure(x, "bad_input", "%s: file changed while uploading",
                             x->put->path_for_msg);
    else if (fail == ION_RF_HASH)
        ion_xfer_set_failure(x, "aborted", "%s: hash computation failed", x->put->path_for_msg);
    else
        ion_xfer_set_failure(x, "bad_input", "%s: %s", x->put->path_for_msg, strerror(err));
    return CURL_READFUNC_ABORT;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    ion_xfer *x = ud;
    ion_put *p = x->put;
    size_t room = size * nitems, out;
    int fail = ION_RF_NONE, err = 0;

    if (x->fail_code)
        return CURL_READFUNC_ABORT;
    if (p->threaded && !p->ring.thread_on && p->file.read == 0 && ion_ring_start(&p->ring) != 0)
        p->threaded = 0; /* no thread (resources): read in this one instead */
    if (!p->threaded) {
        out = ion_put_file_read(&p->file, buf, room, &fail, &err);
    } else {
        /* In a session, pause rather than wait: the session resumes us
         * (ion_put_ready) once the reader pokes its wake pipe. */
        out = ion_ring_take(&p->ring, buf, room, x->sess ? x->sess->wake_w : -1, &fail, &err);
        if (out == ION_RING_WAIT) {
            x->paused = 1;
            return CURL_READFUNC_PAUSE;
        }
    }
    if (fail)
        return fail_read(x, fail, err);
    p->handed += (curl_off_t)out;
    return out;
}

/* Under the session's limit_rate a PUT sends no more than its credit (rate.c)
 * and pauses when it has none: the session resumes it as the bucket refills. */
static size_t capped_read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    ion_xfer *x = ud;
    size_t room = size * nitems, n;
    if (x->fail_code || !ion_rate_limited(x))
        return read_cb(buf, size, nitems, ud);
    room = ion_rate_allow(x, room);
    if (room == 0)
        return CURL_READFUNC_PAUSE;
    n = read_cb(buf, 1, room, ud);
    if (n <= room) /* not a pause or an abort code */
        ion_rate_spend(x, n);
    return n;
}

/* libcurl rewinds an upload when it must resend it (a reused connection
 * that turned out dead). Start over from byte 0 with a fresh MD5; any
 * other offset is refused, as a partial hash could not be trusted. */
static int seek_cb(void *ud, curl_off_t offset, int origin)
{
    ion_xfer *x = ud;
    ion_put *p = x->put;
    if (origin != SEEK_SET || offset != 0)
        return CURL_SEEKFUNC_CANTSEEK;
    ion_ring_stop(&p->ring);
    if (ion_put_file_rewind(&p->file) != 0)
        return CURL_SEEKFUNC_FAIL;
    p->handed = 0;
    return CURL_SEEKFUNC_OK;
}

/* No bigger than the file: libcurl mallocs this buffer for every PUT, and
 * once glibc has raised its mmap threshold a 512 KiB one comes from the heap
 * even for a file of 7 bytes (2.2 MiB of heap for 4 small PUTs at a time,
 * 0.7 MiB with buffers to size). */
static size_t upload_buffer_for(curl_off_t size)
{
    if (size >= (curl_off_t)ION_UPLOAD_BUFFER)
        return ION_UPLOAD_BUFFER;
    if (size < (curl_off_t)ION_MIN_UPLOAD_BUFFER)
        return ION_MIN_UPLOAD_BUFFER;
    return (size_t)size;
}

int ion_put_configure(lua_State *L, ion_xfer *x, int req)
{
    ion_put *p;
    size_t cl = 0;
    const char *path = ion_opt_string(L, req, "path", NULL);
    const char *ct = ion_opt_string(L, req, "content_type", &cl);
    int want_md5 = ion_opt_boolean(L, req, "md5", 1);
    int want_sha = ion_opt_boolean(L, req, "sha256", 0);
    struct curl_slist *h;
    mode_t mode = 0;
    int e;

    if (path == NULL)
        return luaL_error(L, "option 'path' is required");
    if (ct && !ion_header_value_ok(ct, cl))
        return ion_fail(L, "bad_input", "content_type has a CR, LF or NUL");

    p = calloc(1, sizeof *p);
    if (p == NULL)
        return luaL_error(L, "out of memory");
    p->file.fd = -1;
    x->put = p; /* owned by x from here: its __gc frees it */
    if ((p->path_for_msg = strdup(path)) == NULL)
        return luaL_error(L, "out of memory");

    e = ion_put_file_open(&p->file, path, &mode);
    if (e == ION_PUT_NOT_FILE)
        return ion_fail(L, "bad_input", "%s: %s, not a file", path, ion_file_kind(mode));
    if (e == ION_PUT_TOO_BIG)
        return ion_fail(L, "bad_input",
                        "%s: %" CURL_FORMAT_CURL_OFF_T
                        " bytes, over the 5 GiB a single PUT to storage may carry",
                        path, (curl_off_t)p->file.size);
    if (e != 0)
        return ion_fail_errno(L, "bad_input", e, "%s", path);
    if (want_md5 && (p->file.md = ion_md5_new()) == NULL)
        return ion_fail(L, "bad_input", "MD5 is not available in this OpenSSL; pass md5 = false");
    if (want_sha && (p->file.sha = ion_sha256_new()) == NULL)
        return ion_fail(L, "bad_input",
                        "SHA-256 is not available in this OpenSSL; pass sha256 = false");
    if ((p->file.md || p->file.sha) && p->file.size > (int64_t)ION_SLOT_SIZE)
        p->threaded = ion_ring_init(&p->ring, &p->file) == 0;

    /* Exactly one Content-Type, the one that was signed; none at all when
     * not given (libcurl adds none to a PUT). */
    if (ct && cl > 0)
        lua_pushfstring(L, "Content-Type: %s", ct);
    else
        lua_pushliteral(L, "Content-Type:");
    h = curl_slist_append(x->headers, lua_tostring(L, -1));
    lua_pop(L, 1);
    if (h == NULL)
        return luaL_error(L, "out of memory");
    x->headers = h;

    SETOPT(CURLOPT_UPLOAD, 1L);
    SETOPT(CURLOPT_INFILESIZE_LARGE, (curl_off_t)p->file.size); /* Content-Length: never chunked */
    SETOPT(CURLOPT_READFUNCTION, capped_read_cb);
    SETOPT(CURLOPT_READDATA, x);
    SETOPT(CURLOPT_SEEKFUNCTION, seek_cb);
    SETOPT(CURLOPT_SEEKDATA, x);
    SETOPT(CURLOPT_UPLOAD_BUFFERSIZE, (long)upload_buffer_for((curl_off_t)p->file.size));
    SETOPT(CURLOPT_WRITEFUNCTION, ion_body_cb);
    SETOPT(CURLOPT_WRITEDATA, x);
    /* Storage speaks HTTP/1.1; libcurl's HTTP/2 uploads are slower. */
    SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    return 0;
}

void ion_put_finish(ion_xfer *x)
{
    ion_put *p = x->put;
    if (p == NULL)
        return;
    ion_ring_stop(&p->ring);
    x->written = p->handed;
    /* Checked again once the answer is in: a write after the last read but
     * before the end still means the bytes sent may not be the file's. */
    if (x->result == CURLE_OK && !x->fail_code && p->file.fd >= 0 && ion_put_file_changed(&p->file))
        ion_xfer_set_failure(x, "bad_input", "%s: file changed while uploading", p->path_for_msg);
    if (p->file.md && x->result == CURLE_OK && !x->fail_code) {
        unsigned int n = 0;
        if (EVP_DigestFinal_ex(p->file.md, x->digest, &n) == 1 && n == 16)
            x->have_digest = 1;
        else
            ion_xfer_set_failure(x, "aborted", "%s: MD5 computation failed", p->path_for_msg);
    }
    if (p->file.sha && x->result == CURLE_OK && !x->fail_code) {
        if (ion_sha256_final(p->file.sha, x->sha_digest))
            x->have_sha = 1;
        else
            ion_xfer_set_failure(x, "aborted", "%s: SHA-256 computation failed", p->path_for_msg);
    }
    ion_put_file_close(&p->file);
}

/* May a PUT paused by read_cb go on: has the reader filled a slot (or
 * failed, which read_cb then reports)? */
int ion_put_ready(ion_xfer *x)
{
    return x->put == NULL || ion_ring_ready(&x->put->ring);
}

void ion_put_free(ion_xfer *x)
{
    ion_put *p = x->put;
    if (p == NULL)
        return;
    ion_ring_free(&p->ring);
    ion_put_file_free(&p->file);
    free(p->path_for_msg);
    free(p);
    x->put = NULL;
}
