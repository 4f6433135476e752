/* A transfer (one easy handle) and a session (one multi handle) as the
 * files of the transfer layer share them: request.c, put.c, download.c,
 * response.c, rate.c, session.c. libcurl and OpenSSL, but no Lua API: the
 * Lua state a session drives is only passed along. */
#ifndef ION_XFER_H
#define ION_XFER_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "hidden.h"
#include "parse.h"

struct lua_State;

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
    int64_t id;
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
    struct lua_State *L; /* the state driving curl right now, or NULL */
    int driving, closed;
    ion_xfer *active;                /* in the multi handle */
    ion_xfer *done_head, *done_tail; /* finished, not yet collected */
    int n_active, n_done;
    int64_t next_id;
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

#endif
