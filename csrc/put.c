/* The streaming PUT: a file read from disk as libcurl sends it, hashed on
 * the way, never held whole in memory and never sent chunked.
 *
 * With MD5 on and a file bigger than one slot, a reader thread reads ahead
 * into a small ring of buffers and hashes them while libcurl sends the
 * previous ones: on two cores hashing and sending overlap, so the PUT takes
 * about as long as the slower of the two instead of their sum. Otherwise the
 * read callback reads (and hashes) straight into libcurl's buffer. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS is not in POSIX 2008 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "selfpipe.h"

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

#define ION_RING_SLOTS 4
/* S3 takes at most 5 GiB in a single PUT. The Lua layer checks before, but
 * the file may grow between its check and our fstat. */
#define ION_MAX_PUT_SIZE ((curl_off_t)5 * 1024 * 1024 * 1024)
#ifndef ION_SLOT_SIZE
#define ION_SLOT_SIZE ((size_t)512 * 1024)
#endif
/* libcurl's default is 64 KiB; bigger buffers mean fewer read callbacks
 * and send() calls per byte (see bench/put_1gib.sh for the measurements). */
#ifndef ION_UPLOAD_BUFFER
#define ION_UPLOAD_BUFFER ((size_t)512 * 1024)
#endif
#define ION_MIN_UPLOAD_BUFFER ((size_t)16 * 1024) /* libcurl's floor */

enum { RF_NONE, RF_CHANGED, RF_READ, RF_HASH };

struct ion_put {
    int fd;
    curl_off_t size;       /* from fstat before any traffic: the Content-Length */
    struct timespec mtime; /* also from that fstat: a rewrite moves it */
    curl_off_t handed;     /* bytes given to libcurl since the last rewind */
    EVP_MD_CTX *md;        /* NULL when md5 = false */
    EVP_MD_CTX *sha;       /* sha256 = true (receipts): hashed in the same pass */
    const char *path_for_msg;

    /* read-ahead ring, used when `threaded` */
    int threaded, sync_ready, thread_on;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv_full, cv_free;
    char *arena; /* the ring: mapped by ring_map, NULL when none */
    size_t slot_len[ION_RING_SLOTS];
    int slot_full[ION_RING_SLOTS];
    unsigned rd, wr;
    size_t rd_off;
    int stop, rfail, rerrno;
    curl_off_t rtotal; /* bytes read by the reader thread */
    /* Inside a session the read callback never waits for the reader: it
     * pauses the transfer, and the reader writes to the session's wake pipe
     * when a slot is full (so a step returns on time however slow the disk
     * or the MD5, and a host sleeping on fds() wakes up). */
    int want_wake;
    int wake_fd;
};

static int same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* The file must still be the size we announced, and unwritten (a rewrite in
 * place keeps the size but moves mtime), once it has been read. Not ctime:
 * a rename, chmod or unlink while it is sent leaves the bytes as they were. */
static int file_changed(const ion_put *p)
{
    struct stat st;
    if (fstat(p->fd, &st) != 0)
        return 1;
    return (curl_off_t)st.st_size != p->size || !same_time(st.st_mtim, p->mtime);
}

/* Reads up to want bytes; returns the count or sets *fail. Never reads past
 * the announced size, so a file that grows is noticed by file_changed. */
static size_t read_exact(ion_put *p, char *buf, size_t want, int *fail, int *err)
{
    size_t got = 0;
    while (got < want) {
        ssize_t n = read(p->fd, buf + got, want - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *fail = RF_READ;
            *err = errno;
            break;
        }
        if (n == 0) { /* shorter than its size: truncated while we read it */
            *fail = RF_CHANGED;
            break;
        }
        got += (size_t)n;
    }
    return got;
}

static void *reader_main(void *ud)
{
    ion_put *p = ud;
    for (;;) {
        unsigned w;
        size_t want, got;
        int fail = RF_NONE, err = 0, last;
        char *buf;
        int wake;

        pthread_mutex_lock(&p->mu);
        while (!p->stop && p->slot_full[p->wr])
            pthread_cond_wait(&p->cv_free, &p->mu);
        if (p->stop) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        w = p->wr;
        pthread_mutex_unlock(&p->mu);

        /* the slot is ours until we mark it full */
        buf = p->arena + (size_t)w * ION_SLOT_SIZE;
        want = ION_SLOT_SIZE;
        if ((curl_off_t)want > p->size - p->rtotal)
            want = (size_t)(p->size - p->rtotal);
        got = read_exact(p, buf, want, &fail, &err);
        if (got > 0 && p->md && EVP_DigestUpdate(p->md, buf, got) != 1 && !fail)
            fail = RF_HASH;
        if (got > 0 && p->sha && EVP_DigestUpdate(p->sha, buf, got) != 1 && !fail)
            fail = RF_HASH;
        p->rtotal += (curl_off_t)got;
        last = fail || p->rtotal == p->size;
        if (!fail && last && file_changed(p))
            fail = RF_CHANGED;

        pthread_mutex_lock(&p->mu);
        p->slot_len[w] = got;
        p->slot_full[w] = 1;
        p->wr = (w + 1) % ION_RING_SLOTS;
        if (fail) {
            p->rfail = fail;
            p->rerrno = err;
        }
        pthread_cond_signal(&p->cv_full);
        wake = p->want_wake ? p->wake_fd : -1;
        p->want_wake = 0;
        pthread_mutex_unlock(&p->mu);
        /* The session's pipe outlives this thread: ion_put_free joins it
         * first. */
        if (wake >= 0)
            ion_selfpipe_poke(wake);
        if (last)
            break;
    }
    return NULL;
}

/* The ring is mapped for its PUT and unmapped at its end, never malloc'd:
 * glibc serves a 2 MiB malloc with mmap only until the first one is freed,
 * then raises its mmap threshold and serves the next ones from the heap,
 * where the freed rings stayed resident (+8 MiB over 800 PUTs, measured in
 * spec/integration/leaks_spec.lua). An unmapped ring goes back at once. */
static int ring_map(ion_put *p)
{
    void *m;
    if (p->arena != NULL)
        return 0;
    m = mmap(NULL, (size_t)ION_RING_SLOTS * ION_SLOT_SIZE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    p->arena = m;
    return 0;
}

static void ring_unmap(ion_put *p)
{
    if (p->arena == NULL)
        return;
    (void)munmap(p->arena, (size_t)ION_RING_SLOTS * ION_SLOT_SIZE);
    p->arena = NULL;
}

static int start_reader(ion_put *p)
{
    sigset_t all, old;
    int rc;
    if (ring_map(p) != 0)
        return -1;
    /* Signals (SIGINT for core.catch_interrupt) belong to the Lua thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&p->thread, NULL, reader_main, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return -1;
    p->thread_on = 1;
    return 0;
}

static void stop_reader(ion_put *p)
{
    if (!p->thread_on)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv_free);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    p->thread_on = 0;
}

static size_t fail_read(ion_xfer *x, int fail, int err)
{
    if (fail == RF_CHANGED)
        ion_xfer_set_failure(x, "bad_input", "%s: file changed while uploading",
                             x->put->path_for_msg);
    else if (fail == RF_HASH)
        ion_xfer_set_failure(x, "aborted", "%s: hash computation failed", x->put->path_for_msg);
    else
        ion_xfer_set_failure(x, "bad_input", "%s: %s", x->put->path_for_msg, strerror(err));
    return CURL_READFUNC_ABORT;
}

static size_t read_direct(ion_xfer *x, char *buf, size_t room)
{
    ion_put *p = x->put;
    int fail = RF_NONE, err = 0;
    size_t got;
    if ((curl_off_t)room > p->size - p->handed)
        room = (size_t)(p->size - p->handed);
    if (room == 0)
        return 0;
    got = read_exact(p, buf, room, &fail, &err);
    if (fail)
        return fail_read(x, fail, err);
    if (p->md && EVP_DigestUpdate(p->md, buf, got) != 1)
        return fail_read(x, RF_HASH, 0);
    if (p->sha && EVP_DigestUpdate(p->sha, buf, got) != 1)
        return fail_read(x, RF_HASH, 0);
    p->handed += (curl_off_t)got;
    if (p->handed == p->size && file_changed(p))
        return fail_read(x, RF_CHANGED, 0);
    return got;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
    ion_xfer *x = ud;
    ion_put *p = x->put;
    size_t room = size * nitems, out = 0;
    int fail = RF_NONE, err = 0;

    if (x->fail_code)
        return CURL_READFUNC_ABORT;
    if (p->threaded && !p->thread_on && p->rtotal == 0 && start_reader(p) != 0)
        p->threaded = 0; /* no thread (resources): read in this one instead */
    if (!p->threaded)
        return read_direct(x, buf, room);

    pthread_mutex_lock(&p->mu);
    for (;;) {
        size_t n;
        unsigned rd = p->rd;
        if (p->rfail) {
            fail = p->rfail;
            err = p->rerrno;
            break;
        }
        if (out == room || p->handed + (curl_off_t)out >= p->size)
            break;
        if (!p->slot_full[rd]) {
            if (out > 0) /* send what we have rather than wait */
                break;
            if (x->sess) { /* pause; the session resumes us (ion_put_ready) */
                p->want_wake = 1;
                p->wake_fd = x->sess->wake_w;
                pthread_mutex_unlock(&p->mu);
                x->paused = 1;
                return CURL_READFUNC_PAUSE;
            }
            pthread_cond_wait(&p->cv_full, &p->mu);
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        /* a full slot belongs to this thread until it is marked free */
        n = p->slot_len[rd] - p->rd_off;
        if (n > room - out)
            n = room - out;
        memcpy(buf + out, p->arena + (size_t)rd * ION_SLOT_SIZE + p->rd_off, n);
        out += n;
        p->rd_off += n;
        pthread_mutex_lock(&p->mu);
        if (p->rd_off == p->slot_len[rd]) {
            p->slot_full[rd] = 0;
            p->rd = (rd + 1) % ION_RING_SLOTS;
            p->rd_off = 0;
            pthread_cond_signal(&p->cv_free);
        }
    }
    pthread_mutex_unlock(&p->mu);
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
    stop_reader(p);
    if (lseek(p->fd, 0, SEEK_SET) != 0)
        return CURL_SEEKFUNC_FAIL;
    if (p->md && EVP_DigestInit_ex(p->md, EVP_md5(), NULL) != 1)
        return CURL_SEEKFUNC_FAIL;
    if (p->sha && EVP_DigestInit_ex(p->sha, EVP_sha256(), NULL) != 1)
        return CURL_SEEKFUNC_FAIL;
    memset(p->slot_full, 0, sizeof p->slot_full);
    p->rd = p->wr = 0;
    p->rd_off = 0;
    p->stop = p->rfail = p->rerrno = 0;
    p->rtotal = p->handed = 0;
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

static const char *file_kind(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

int ion_put_configure(lua_State *L, ion_xfer *x, int req)
{
    ion_put *p;
    struct stat st;
    size_t cl = 0;
    const char *path = ion_opt_string(L, req, "path", NULL);
    const char *ct = ion_opt_string(L, req, "content_type", &cl);
    int want_md5 = ion_opt_boolean(L, req, "md5", 1);
    int want_sha = ion_opt_boolean(L, req, "sha256", 0);
    struct curl_slist *h;
    int fl;

    if (path == NULL)
        return luaL_error(L, "option 'path' is required");
    if (ct && !ion_header_value_ok(ct, cl))
        return ion_fail(L, "bad_input", "content_type has a CR, LF or NUL");

    p = calloc(1, sizeof *p);
    if (p == NULL)
        return luaL_error(L, "out of memory");
    p->fd = -1;
    p->wake_fd = -1;
    x->put = p; /* owned by x from here: its __gc frees it */
    if ((p->path_for_msg = strdup(path)) == NULL)
        return luaL_error(L, "out of memory");

    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
     * below anyway. The file is checked before any traffic. */
    p->fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (p->fd < 0)
        return ion_fail_errno(L, "bad_input", errno, "%s", path);
    if (fstat(p->fd, &st) != 0)
        return ion_fail_errno(L, "bad_input", errno, "%s", path);
    if (!S_ISREG(st.st_mode))
        return ion_fail(L, "bad_input", "%s: %s, not a file", path, file_kind(st.st_mode));
    fl = fcntl(p->fd, F_GETFL);
    if (fl < 0 || fcntl(p->fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
        return ion_fail_errno(L, "bad_input", errno, "%s", path);
    p->size = (curl_off_t)st.st_size;
    p->mtime = st.st_mtim;
    /* The announced size is also a cap: read_exact never reads past it, so a
     * file that grows while it is sent fails as changed. */
    if (p->size > ION_MAX_PUT_SIZE)
        return ion_fail(L, "bad_input",
                        "%s: %" CURL_FORMAT_CURL_OFF_T
                        " bytes, over the 5 GiB a single PUT to storage may carry",
                        path, p->size);
#ifdef POSIX_FADV_SEQUENTIAL
    (void)posix_fadvise(p->fd, 0, 0, POSIX_FADV_SEQUENTIAL); /* a hint; failure is harmless */
#endif

    if (want_md5 && (p->md = ion_md5_new()) == NULL)
        return ion_fail(L, "bad_input", "MD5 is not available in this OpenSSL; pass md5 = false");
    if (want_sha && (p->sha = ion_sha256_new()) == NULL)
        return ion_fail(L, "bad_input",
                        "SHA-256 is not available in this OpenSSL; pass sha256 = false");
    if ((p->md || p->sha) && p->size > (curl_off_t)ION_SLOT_SIZE) {
        if (pthread_mutex_init(&p->mu, NULL) == 0) {
            if (pthread_cond_init(&p->cv_full, NULL) == 0) {
                if (pthread_cond_init(&p->cv_free, NULL) == 0) {
                    p->sync_ready = 1;
                    p->threaded = 1;
                } else {
                    pthread_cond_destroy(&p->cv_full);
                    pthread_mutex_destroy(&p->mu);
                }
            } else {
                pthread_mutex_destroy(&p->mu);
            }
        }
    }

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
    SETOPT(CURLOPT_INFILESIZE_LARGE, p->size); /* Content-Length: never chunked */
    SETOPT(CURLOPT_READFUNCTION, capped_read_cb);
    SETOPT(CURLOPT_READDATA, x);
    SETOPT(CURLOPT_SEEKFUNCTION, seek_cb);
    SETOPT(CURLOPT_SEEKDATA, x);
    SETOPT(CURLOPT_UPLOAD_BUFFERSIZE, (long)upload_buffer_for(p->size));
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
    stop_reader(p);
    x->written = p->handed;
    /* Checked again once the answer is in: a write after the last read but
     * before the end still means the bytes sent may not be the file's. */
    if (x->result == CURLE_OK && !x->fail_code && p->fd >= 0 && file_changed(p))
        ion_xfer_set_failure(x, "bad_input", "%s: file changed while uploading", p->path_for_msg);
    if (p->md && x->result == CURLE_OK && !x->fail_code) {
        unsigned int n = 0;
        if (EVP_DigestFinal_ex(p->md, x->digest, &n) == 1 && n == 16)
            x->have_digest = 1;
        else
            ion_xfer_set_failure(x, "aborted", "%s: MD5 computation failed", p->path_for_msg);
    }
    if (p->sha && x->result == CURLE_OK && !x->fail_code) {
        if (ion_sha256_final(p->sha, x->sha_digest))
            x->have_sha = 1;
        else
            ion_xfer_set_failure(x, "aborted", "%s: SHA-256 computation failed", p->path_for_msg);
    }
    if (p->fd >= 0) {
        close(p->fd);
        p->fd = -1;
    }
    ring_unmap(p);
}

/* May a PUT paused by read_cb go on: has the reader filled a slot (or
 * failed, which read_cb then reports)? */
int ion_put_ready(ion_xfer *x)
{
    ion_put *p = x->put;
    int ready;
    if (p == NULL || !p->thread_on)
        return 1;
    pthread_mutex_lock(&p->mu);
    ready = p->slot_full[p->rd] || p->rfail;
    pthread_mutex_unlock(&p->mu);
    return ready;
}

void ion_put_free(ion_xfer *x)
{
    ion_put *p = x->put;
    if (p == NULL)
        return;
    stop_reader(p);
    if (p->fd >= 0)
        close(p->fd);
    ring_unmap(p);
    EVP_MD_CTX_free(p->md);
    EVP_MD_CTX_free(p->sha);
    if (p->sync_ready) {
        pthread_cond_destroy(&p->cv_free);
        pthread_cond_destroy(&p->cv_full);
        pthread_mutex_destroy(&p->mu);
    }
    free((char *)p->path_for_msg);
    free(p);
    x->put = NULL;
}
