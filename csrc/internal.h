/* Declarations shared by the files of ion.upload.core that speak Lua: the
 * transfers and sessions (libcurl), the error and option helpers, and each
 * binding's open_lib. The parts below them that need no Lua have headers
 * of their own (parse.h, clock.h, journal_index.h, ...). */
#ifndef ION_INTERNAL_H
#define ION_INTERNAL_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "clock.h"
#include "compat.h"
#include "hidden.h"
#include "md5.h"
#include "parse.h"

#define ION_VERSION "0.1.0"

#define ION_SESSION_MT "ion.upload.core.session"
#define ION_XFER_MT "ion.upload.core.transfer"

typedef enum { ION_KIND_REQUEST, ION_KIND_PUT, ION_KIND_DOWNLOAD } ion_kind;

/* Transfer life: NEW (being configured), ACTIVE (in the multi handle), DONE
 * (finished, result waiting to be collected), GONE (collected or closed). */
typedef enum { ION_NEW, ION_ACTIVE, ION_DONE, ION_GONE } ion_state;

typedef struct ion_session ion_session;
typedef struct ion_put ion_put;

/* One of libcurl's sockets and what it waits for on it (session.c). */
struct ion_sock {
    curl_socket_t fd;
    int what; /* CURL_POLL_IN, _OUT or _INOUT */
};

typedef struct ion_xfer {
    ion_kind kind;
    ion_state state;
    CURL *easy;
    struct curl_slist *headers;
    ion_session *sess; /* owner while ACTIVE or DONE */
    struct ion_xfer *prev, *next;
    lua_Integer id;
    int self_ref, cb_ref, body_ref; /* registry references, LUA_NOREF if unused */

    char *what; /* "PUT http://host/path?…" for messages: never a query string */
    char errbuf[CURL_ERROR_SIZE];
    CURLcode result;
    long status;

    /* A failure found by one of our callbacks wins over libcurl's code,
     * which then only says "aborted by callback". */
    const char *fail_code;
    char *fail_msg;

    ion_buf body;
    size_t max_response;
    const char *send_data; /* a no_resend request's body, pinned by body_ref */
    size_t send_len, send_pos;
    ion_buf hdrs; /* raw header lines of the last response */
    size_t hdr_lines;

    /* progress and stall detection */
    curl_off_t cb_now, cb_total; /* arguments of the next Lua call */
    int cb_total_known;
    curl_off_t reported; /* last `sent` given to on_progress, -1 none */
    double reported_at;
    double stall_timeout; /* 0 = none */
    curl_off_t moved;     /* bytes up + down seen by the stall check */
    double moved_at;

    /* put */
    ion_put *put;
    int paused; /* its read callback paused it: waiting for the reader thread */

    /* the body's digests and size, for the result of a PUT or download */
    unsigned char digest[16];
    int have_digest;
    unsigned char sha_digest[32]; /* sha256 = true */
    int have_sha;
    curl_off_t written; /* a download's bytes taken, a PUT's handed to libcurl */

    /* download */
    int out_fd;
    char *out_path, *part_path;
    EVP_MD_CTX *md;
    int have_expected_md5;
    unsigned char expected_md5[16];
    curl_off_t expected_size; /* the caller's, -1 when not given */
    EVP_MD_CTX *sha;          /* sha256 = true: beside the MD5; NULL otherwise */

    /* the session's limit_rate (rate.c): bytes this transfer may still move,
     * and whether its callback paused it for want of them */
    double credit;
    int rate_paused;
} ion_xfer;

struct ion_session {
    CURLM *multi;
    lua_State *L; /* the state driving curl right now, or NULL */
    int driving, closed;
    ion_xfer *active;                /* in the multi handle */
    ion_xfer *done_head, *done_tail; /* finished, not yet collected */
    int n_active, n_done;
    lua_Integer next_id;
    /* A pipe the PUT reader threads write a byte to when a paused transfer
     * may go on: drive() polls its read end beside libcurl's sockets, and
     * fds() hands it to a host loop, so a host that sleeps in poll() wakes
     * as soon as the bytes are there. Non-blocking both ends; -1 when closed. */
    int wake_r, wake_w;
    /* libcurl's sockets and what it waits for on each, as its socket
     * callback tells them (session.c): what fds() gives a host loop and
     * what drive() polls, with no bound on the descriptors' numbers (as
     * select() would have). pfds: drive()'s poll set, the wake pipe last. */
    struct ion_sock *socks;
    size_t nsocks, capsocks;
    struct pollfd *pfds;
    size_t cappfds;
    /* limit_rate: bytes per second for all PUTs and downloads together (0:
     * none), and when the tokens were last handed out (rate.c) */
    double rate, rate_at;
    double rate_block; /* the least credit a capped transfer moves at once */
};

/* options.c: reading the option tables of transfers and sessions */
ION_HIDDEN int ion_opt_number(lua_State *L, int t, const char *k, double *out);
ION_HIDDEN const char *ion_opt_string(lua_State *L, int t, const char *k, size_t *len);
ION_HIDDEN int ion_opt_boolean(lua_State *L, int t, const char *k, int dflt);
ION_HIDDEN void ion_check_keys(lua_State *L, int t, const char *what, const char *const *allowed);

/* errors.c */
ION_HIDDEN int ion_push_error(lua_State *L, const char *code, const char *msg, int curl_code,
                              long status);
ION_HIDDEN int ion_fail(lua_State *L, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
ION_HIDDEN int ion_fail_errno(lua_State *L, const char *code, int e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
ION_HIDDEN const char *ion_curl_error_code(CURLcode rc);
ION_HIDDEN void ion_xfer_set_failure(ion_xfer *x, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* a core object's metatable, registered once under `name` */
ION_HIDDEN void ion_new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                              lua_CFunction close, lua_CFunction tostring, int closable);

/* response.c: response headers to Lua (parsers: parse.h), the buffered body */
ION_HIDDEN size_t ion_header_cb(char *p, size_t size, size_t n, void *ud);
ION_HIDDEN void ion_push_headers(lua_State *L, const ion_xfer *x);
ION_HIDDEN int ion_find_header(const ion_xfer *x, const char *name, char *out, size_t outsz);
ION_HIDDEN size_t ion_body_cb(char *p, size_t size, size_t n, void *ud);

/* request.c: what every transfer shares, and the in-memory request */
ION_HIDDEN ion_xfer *ion_xfer_new(lua_State *L, ion_kind kind);
ION_HIDDEN int ion_xfer_configure(lua_State *L, ion_xfer *x, int req);
ION_HIDDEN void ion_xfer_release(lua_State *L, ion_xfer *x);
ION_HIDDEN void ion_xfer_finish(lua_State *L, ion_xfer *x);
ION_HIDDEN int ion_xfer_push_outcome(lua_State *L, ion_xfer *x);
ION_HIDDEN void ion_xfer_cleanup(ion_xfer *x);

/* put.c */
ION_HIDDEN int ion_put_configure(lua_State *L, ion_xfer *x, int req);
ION_HIDDEN void ion_put_finish(ion_xfer *x);
ION_HIDDEN void ion_put_free(ion_xfer *x);
ION_HIDDEN int ion_put_ready(ion_xfer *x);

/* download.c */
ION_HIDDEN int ion_download_configure(lua_State *L, ion_xfer *x, int req);
ION_HIDDEN void ion_download_finish(ion_xfer *x);
ION_HIDDEN void ion_download_free(ion_xfer *x);

/* session.c: the multi handle and the loop that drives its transfers */
ION_HIDDEN ion_session *ion_session_push(lua_State *L);
ION_HIDDEN int ion_session_attach(lua_State *L, ion_session *s, ion_xfer *x, int xi);
ION_HIDDEN void ion_session_drive(lua_State *L, ion_session *s, ion_xfer *target, double timeout);
ION_HIDDEN int ion_session_collect(lua_State *L, ion_xfer *x);
ION_HIDDEN void ion_session_cancel(lua_State *L, ion_session *s, ion_xfer *x, const char *why);
ION_HIDDEN void ion_session_detach(ion_xfer *x);
ION_HIDDEN int ion_session_ready(const ion_session *s);
ION_HIDDEN void ion_session_close(lua_State *L, ion_session *s);

/* lua_session.c: core.session and its methods, core.request/put/download */
ION_HIDDEN void ion_session_open_lib(lua_State *L);
ION_HIDDEN int ion_session_new(lua_State *L);
ION_HIDDEN int ion_oneshot(lua_State *L, ion_kind kind);

/* rate.c: the bandwidth cap shared by a session's PUTs and downloads */
ION_HIDDEN int ion_rate_limited(const ion_xfer *x);
ION_HIDDEN void ion_rate_refill(ion_session *s, double now);
ION_HIDDEN size_t ion_rate_allow(ion_xfer *x, size_t room);
ION_HIDDEN void ion_rate_spend(ion_xfer *x, size_t n);
ION_HIDDEN void ion_rate_resume(ion_session *s);
ION_HIDDEN double ion_rate_wait(const ion_session *s, double now);

/* The bindings (lua_*.c): each sets its functions in the module table on
 * top of the stack (core.c builds it). */
ION_HIDDEN void ion_sys_open_lib(lua_State *L);     /* stat, realpath, fsync, lock, ... */
ION_HIDDEN void ion_signals_open_lib(lua_State *L); /* catch_interrupt, hangup, sleep, poll */
ION_HIDDEN void ion_watch_open_lib(lua_State *L);   /* watcher */
ION_HIDDEN void ion_fs_open_lib(lua_State *L);      /* list_dir, fileno, read_some */
ION_HIDDEN void ion_spawn_open_lib(lua_State *L);   /* run_capture */
ION_HIDDEN void ion_hash_open_lib(lua_State *L);    /* hash_file (lua_hash_file.c) */
ION_HIDDEN void ion_hashset_open_lib(lua_State *L); /* hashset */
ION_HIDDEN void ion_journal_open_lib(lua_State *L); /* journal_index, fsync_dir, same_file */

/* Sets a libcurl option on x->easy while configuring a transfer; a refusal is
 * returned to Lua as nil, err (bad_input). Needs `L` and `x` in scope. */
#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        CURLcode rc_ = curl_easy_setopt(x->easy, opt, val);                                        \
        if (rc_ != CURLE_OK)                                                                       \
            return ion_fail(L, "bad_input", "%s: libcurl refused %s: %s", x->what, #opt,           \
                            curl_easy_strerror(rc_));                                              \
    } while (0)

#endif
