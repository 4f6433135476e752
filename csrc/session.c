/* Sessions: one curl multi handle whose connection cache every transfer
 * added to it shares, and the loop that drives it. The blocking functions,
 * step() and the one-shot core.request/put/download all drive transfers
 * through here (their Lua face: lua_session.c).
 *
 * Ownership: a transfer is a userdata (so a raise while it is configured
 * leaks nothing: its __gc frees it). While in a session, the session holds a
 * registry reference to it, released when its result is collected or the
 * session closes. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "selfpipe.h"
#include "signals.h"

/* The longest the loop sleeps in poll() before checking the interrupt flag
 * and the stall timers itself. */
#define ION_POLL_SLICE 0.2

static void list_remove(ion_xfer **head, ion_xfer **tail, ion_xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        *head = x->next;
    if (x->next)
        x->next->prev = x->prev;
    else if (tail)
        *tail = x->prev;
    x->prev = x->next = NULL;
}

/* Takes x out of whichever list of its session it is in. */
void ion_session_detach(ion_xfer *x)
{
    ion_session *s = x->sess;
    if (s == NULL)
        return;
    if (x->state == ION_ACTIVE) {
        /* Only fails for a handle not in this multi, which cannot be. */
        (void)curl_multi_remove_handle(s->multi, x->easy);
        list_remove(&s->active, NULL, x);
        s->n_active--;
    } else if (x->state == ION_DONE) {
        list_remove(&s->done_head, &s->done_tail, x);
        s->n_done--;
    }
    x->sess = NULL;
}

/* libcurl is done with x: move it to the done queue. */
static void complete(lua_State *L, ion_session *s, ion_xfer *x)
{
    (void)curl_multi_remove_handle(s->multi, x->easy);
    list_remove(&s->active, NULL, x);
    s->n_active--;
    x->state = ION_DONE;
    ion_xfer_finish(L, x);
    x->prev = s->done_tail;
    x->next = NULL;
    if (s->done_tail)
        s->done_tail->next = x;
    else
        s->done_head = x;
    s->done_tail = x;
    s->n_done++;
}

static void read_completions(lua_State *L, ion_session *s)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
        ion_xfer *x = NULL;
        if (m->msg != CURLMSG_DONE)
            continue;
        if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x) != CURLE_OK || !x)
            continue;
        x->result = m->data.result;
        complete(L, s, x);
    }
}

/* Our own stall timer: libcurl's LOW_SPEED_* averages over several seconds
 * and only takes whole seconds. */
static void check_stalls(lua_State *L, ion_session *s, double now)
{
    ion_xfer *x = s->active, *next;
    for (; x; x = next) {
        curl_off_t up = 0, down = 0, moved;
        next = x->next;
        if (x->stall_timeout <= 0)
            continue;
        if (x->rate_paused) { /* held back by limit_rate, not stalled: the clock starts again */
            x->moved_at = now;
            continue;
        }
        if (curl_easy_getinfo(x->easy, CURLINFO_SIZE_UPLOAD_T, &up) != CURLE_OK ||
            curl_easy_getinfo(x->easy, CURLINFO_SIZE_DOWNLOAD_T, &down) != CURLE_OK)
            continue;
        moved = up + down;
        if (moved != x->moved || x->moved_at == 0) {
            x->moved = moved;
            x->moved_at = now;
        } else if (now - x->moved_at >= x->stall_timeout) {
            ion_xfer_set_failure(x, "timeout", "%s: no data moved for %g s (stall_timeout)",
                                 x->what, x->stall_timeout);
            x->result = CURLE_OPERATION_TIMEDOUT;
            complete(L, s, x);
        }
    }
}

static double min_stall(const ion_session *s)
{
    double m = ION_POLL_SLICE;
    for (const ion_xfer *x = s->active; x; x = x->next)
        if (x->stall_timeout > 0 && x->stall_timeout / 4 < m)
            m = x->stall_timeout / 4;
    return m;
}

/* Is a paused PUT ready to go on (its reader filled a slot)? */
int ion_session_ready(const ion_session *s)
{
    for (ion_xfer *x = s->active; x; x = x->next)
        if (x->paused && ion_put_ready(x))
            return 1;
    return 0;
}

/* PUTs that paused for want of bytes go on once the reader has some. */
static void resume_ready(ion_session *s)
{
    for (ion_xfer *x = s->active; x; x = x->next)
        if (x->paused && ion_put_ready(x)) {
            x->paused = 0;
            (void)curl_easy_pause(x->easy, CURLPAUSE_CONT);
        }
}

void ion_session_cancel(lua_State *L, ion_session *s, ion_xfer *x, const char *why)
{
    ion_xfer_set_failure(x, "aborted", "%s: %s", x->what, why);
    complete(L, s, x);
}

/* ---- libcurl's sockets ---- */

/* CURLMOPT_SOCKETFUNCTION: libcurl tells what it now waits for on fd. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *ud, void *socketp)
{
    ion_session *s = ud;
    size_t i = 0;
    (void)easy;
    (void)socketp;
    while (i < s->nsocks && s->socks[i].fd != fd)
        i++;
    if (what == CURL_POLL_REMOVE) {
        if (i < s->nsocks)
            s->socks[i] = s->socks[--s->nsocks];
        return 0;
    }
    if (i == s->nsocks) {
        if (s->nsocks == s->capsocks) {
            size_t cap = s->capsocks ? s->capsocks * 2 : 8;
            struct ion_sock *n = realloc(s->socks, cap * sizeof *n);
            if (n == NULL)
                return -1;
            s->socks = n;
            s->capsocks = cap;
        }
        s->socks[s->nsocks++].fd = fd;
    }
    s->socks[i].what = what;
    return 0;
}

/* Waits up to ms for one of libcurl's sockets or the wake pipe (a signal
 * ends it early): s->pfds then holds what is ready. Returns the sockets
 * polled, or -1 out of memory. */
static long wait_sockets(ion_session *s, int ms)
{
    size_t n = s->nsocks, i;
    struct pollfd *p;
    if (n + 1 > s->cappfds) {
        p = realloc(s->pfds, (n + 1) * sizeof *p);
        if (p == NULL)
            return -1;
        s->pfds = p;
        s->cappfds = n + 1;
    }
    p = s->pfds;
    for (i = 0; i < n; i++) {
        p[i].fd = (int)s->socks[i].fd;
        p[i].events = (short)(((s->socks[i].what & CURL_POLL_IN) ? POLLIN : 0) |
                              ((s->socks[i].what & CURL_POLL_OUT) ? POLLOUT : 0));
        p[i].revents = 0;
    }
    p[n].fd = s->wake_r;
    p[n].events = POLLIN;
    p[n].revents = 0;
    if (poll(p, (nfds_t)n + 1, ms) < 0) /* EINTR: nothing ready */
        for (i = 0; i < n; i++)
            p[i].revents = 0;
    return (long)n;
}

/* libcurl acts on the n sockets of s->pfds found ready, then on its timers
 * (a transfer just added or resumed is due at once). The callbacks it runs
 * change s->socks, not s->pfds. */
static CURLMcode act(ion_session *s, long n)
{
    int running;
    CURLMcode mc;
    for (long i = 0; i < n; i++) {
        short r = s->pfds[i].revents;
        int ev = 0;
        if (r == 0)
            continue;
        if (r & (POLLIN | POLLHUP | POLLERR))
            ev |= CURL_CSELECT_IN;
        if (r & (POLLOUT | POLLERR))
            ev |= CURL_CSELECT_OUT;
        if (r & POLLERR)
            ev |= CURL_CSELECT_ERR;
        mc = curl_multi_socket_action(s->multi, s->pfds[i].fd, ev, &running);
        if (mc != CURLM_OK)
            return mc;
    }
    return curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

/* ---- driving ---- */

/* Drives the session until `target` completes (or, without a target, until
 * something completes), `timeout` passes, nothing is left, or an interrupt.
 * Lua callbacks run on L, set for the duration only. */
void ion_session_drive(lua_State *L, ion_session *s, ion_xfer *target, double timeout)
{
    double deadline = ion_now() + timeout;
    double wait = 0; /* the first pass only looks: a host may have polled */
    CURLMcode mc = CURLM_OK;
    luaL_checkstack(L, 8, "ion.upload.core"); /* room for callbacks: they must not raise */
    s->L = L;
    s->driving = 1;
    for (;;) {
        long curl_ms = -1, n = wait_sockets(s, (int)ion_ms(wait, INT_MAX));
        double now;
        if (n < 0) {
            mc = CURLM_OUT_OF_MEMORY;
            break;
        }
        /* before resume_ready looks: a byte written after stays for the
         * next poll, and no wake-up is lost */
        ion_selfpipe_drain(s->wake_r);
        ion_rate_refill(s, ion_now());
        resume_ready(s);
        ion_rate_resume(s);
        mc = act(s, n);
        if (mc != CURLM_OK)
            break;
        read_completions(L, s);
        now = ion_now();
        check_stalls(L, s, now);
        if (target ? target->state != ION_ACTIVE : s->n_done > 0)
            break;
        if (s->n_active == 0 || ion_interrupted() || now >= deadline)
            break;
        wait = deadline - now;
        if (wait > min_stall(s))
            wait = min_stall(s);
        if (wait > ion_rate_wait(s, now)) /* a transfer paused by limit_rate */
            wait = ion_rate_wait(s, now);
        if (curl_multi_timeout(s->multi, &curl_ms) == CURLM_OK && curl_ms >= 0 &&
            wait > (double)curl_ms / 1000) /* libcurl's own timers */
            wait = (double)curl_ms / 1000;
    }
    if (target && target->state == ION_ACTIVE && ion_interrupted())
        ion_session_cancel(L, s, target, "interrupted");
    s->L = NULL;
    s->driving = 0;
    if (mc != CURLM_OK)
        luaL_error(L, "curl multi: %s", curl_multi_strerror(mc));
}

int ion_session_attach(lua_State *L, ion_session *s, ion_xfer *x, int xi)
{
    CURLMcode mc;
    lua_pushvalue(L, xi);
    x->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    mc = curl_multi_add_handle(s->multi, x->easy);
    if (mc != CURLM_OK) {
        luaL_unref(L, LUA_REGISTRYINDEX, x->self_ref);
        x->self_ref = LUA_NOREF;
        return ion_fail(L, "network", "%s: curl_multi_add_handle: %s", x->what,
                        curl_multi_strerror(mc));
    }
    x->sess = s;
    x->state = ION_ACTIVE;
    x->id = ++s->next_id;
    x->moved_at = ion_now();
    x->next = s->active;
    x->prev = NULL;
    if (s->active)
        s->active->prev = x;
    s->active = x;
    s->n_active++;
    return 0;
}

/* Pushes x's result (returns 1) or error (returns 0) and lets x go. */
int ion_session_collect(lua_State *L, ion_xfer *x)
{
    int ok = ion_xfer_push_outcome(L, x);
    ion_session_detach(x);
    luaL_unref(L, LUA_REGISTRYINDEX, x->self_ref);
    x->self_ref = LUA_NOREF;
    ion_xfer_cleanup(x); /* free libcurl's handle now rather than at the next GC */
    x->state = ION_GONE;
    return ok;
}

void ion_session_close(lua_State *L, ion_session *s)
{
    ion_xfer *lists[2];
    if (s->closed)
        return;
    s->closed = 1;
    lists[0] = s->active;
    lists[1] = s->done_head;
    for (int i = 0; i < 2; i++) {
        ion_xfer *x = lists[i], *next;
        for (; x; x = next) {
            next = x->next;
            ion_session_detach(x);
            ion_xfer_release(L, x);
            luaL_unref(L, LUA_REGISTRYINDEX, x->self_ref);
            x->self_ref = LUA_NOREF;
            ion_xfer_cleanup(x);
            x->state = ION_GONE;
        }
    }
    if (s->multi) {
        (void)curl_multi_cleanup(s->multi); /* its socket callbacks come first */
        s->multi = NULL;
    }
    free(s->socks);
    free(s->pfds);
    s->socks = NULL;
    s->pfds = NULL;
    s->nsocks = s->capsocks = s->cappfds = 0;
    /* after the transfers: their reader threads, which write here, are joined */
    if (s->wake_r >= 0)
        close(s->wake_r);
    if (s->wake_w >= 0)
        close(s->wake_w);
    s->wake_r = s->wake_w = -1;
}

/* A new session, pushed: its multi handle tells its sockets to on_socket,
 * and its wake pipe is open. Raises when libcurl or the system refuses. */
ion_session *ion_session_push(lua_State *L)
{
    int p[2];
    ion_session *s = ion_newuserdata(L, sizeof *s);
    memset(s, 0, sizeof *s);
    s->wake_r = s->wake_w = -1;
    ion_setmetatable(L, ION_SESSION_MT);
    s->multi = curl_multi_init();
    if (s->multi == NULL)
        luaL_error(L, "curl_multi_init failed");
    if (curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
        curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s) != CURLM_OK)
        luaL_error(L, "curl_multi_setopt: socket callback refused");
    if (ion_selfpipe_open(p) != 0)
        luaL_error(L, "session: pipe: %s", strerror(errno));
    s->wake_r = p[0];
    s->wake_w = p[1];
    return s;
}
