/* Sessions: one curl multi handle whose connection cache every transfer
 * added to it shares. The blocking functions, step() and the one-shot
 * core.request/put/download all drive transfers through here.
 *
 * Ownership: a transfer is a userdata (so a raise while it is configured
 * leaks nothing: its __gc frees it). While in a session, the session holds a
 * registry reference to it, released when its result is collected or the
 * session closes. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"
#include "selfpipe.h"
#include "signals.h"

/* The longest we sleep in curl_multi_poll before checking the interrupt
 * flag and the stall timers ourselves. */
#define ION_POLL_SLICE 0.2
/* limit_rate's ceiling (about 1 PB/s): any real cap is far below. */
#define ION_MAX_RATE 1e15

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
static void detach(ion_xfer *x)
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

static int xfer_gc(lua_State *L)
{
    ion_xfer *x = luaL_checkudata(L, 1, ION_XFER_MT);
    detach(x); /* only at lua_close, when finalizers run in any order */
    luaL_unref(L, LUA_REGISTRYINDEX, x->self_ref);
    x->self_ref = LUA_NOREF;
    ion_xfer_release(L, x);
    ion_xfer_cleanup(x);
    x->state = ION_GONE;
    return 0;
}

static ion_session *check_open(lua_State *L, int i)
{
    ion_session *s = luaL_checkudata(L, i, ION_SESSION_MT);
    if (s->closed)
        luaL_error(L, "session is closed");
    if (s->driving)
        luaL_error(L, "session is busy: not callable from its own callbacks");
    return s;
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
static int any_ready(const ion_session *s)
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

static void cancel(lua_State *L, ion_session *s, ion_xfer *x, const char *why)
{
    ion_xfer_set_failure(x, "aborted", "%s: %s", x->what, why);
    complete(L, s, x);
}

/* ---- libcurl's sockets ---- */

struct ion_sock {
    curl_socket_t fd;
    int what; /* CURL_POLL_IN, _OUT or _INOUT */
};

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
static void drive(lua_State *L, ion_session *s, ion_xfer *target, double timeout)
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
        cancel(L, s, target, "interrupted");
    s->L = NULL;
    s->driving = 0;
    if (mc != CURLM_OK)
        luaL_error(L, "curl multi: %s", curl_multi_strerror(mc));
}

static int attach(lua_State *L, ion_session *s, ion_xfer *x, int xi)
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
static int collect(lua_State *L, ion_xfer *x)
{
    int ok = ion_xfer_push_outcome(L, x);
    detach(x);
    luaL_unref(L, LUA_REGISTRYINDEX, x->self_ref);
    x->self_ref = LUA_NOREF;
    ion_xfer_cleanup(x); /* free libcurl's handle now rather than at the next GC */
    x->state = ION_GONE;
    return ok;
}

static void close_session(lua_State *L, ion_session *s)
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
            detach(x);
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

static ion_kind check_kind(lua_State *L, int i)
{
    static const char *const kinds[] = {"request", "put", "download", NULL};
    return (ion_kind)luaL_checkoption(L, i, NULL, kinds);
}

/* A transfer refused while being configured: what it opened (a file, a
 * .part) is closed now, not at the next garbage collection. */
static int refuse(lua_State *L, ion_xfer *x, int r)
{
    ion_xfer_release(L, x);
    ion_xfer_cleanup(x);
    x->state = ION_GONE;
    return r;
}

/* Adds a transfer described by the table at req and runs it to completion.
 * The session is at index si. */
static int blocking(lua_State *L, ion_session *s, ion_kind kind, int req)
{
    int xi, r;
    ion_xfer *x = ion_xfer_new(L, kind);
    xi = lua_gettop(L);
    if ((r = ion_xfer_configure(L, x, req)) != 0 || (r = attach(L, s, x, xi)) != 0)
        return refuse(L, x, r);
    drive(L, s, x, HUGE_VAL);
    if (!collect(L, x)) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    return 1;
}

static ion_session *push_session(lua_State *L)
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

int ion_oneshot(lua_State *L, ion_kind kind)
{
    ion_session *s;
    int n;
    luaL_checktype(L, 1, LUA_TTABLE);
    s = push_session(L);
    n = blocking(L, s, kind, 1);
    close_session(L, s); /* its connection is not reused by anyone */
    return n;
}

int ion_session_new(lua_State *L)
{
    static const char *const keys[] = {"max_host_connections", "max_total_connections",
                                       "limit_rate", NULL};
    double host = 0, total = 0, rate = 0;
    ion_session *s;
    CURLMcode mc = CURLM_OK;
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        ion_check_keys(L, 1, "session", keys);
        ion_opt_number(L, 1, "max_host_connections", &host);
        ion_opt_number(L, 1, "max_total_connections", &total);
        if (!(host >= 0 && host <= 1e6 && total >= 0 && total <= 1e6)) /* NaN fails too */
            return ion_fail(L, "bad_input", "connection limits must be between 0 and 1e6");
        if (ion_opt_number(L, 1, "limit_rate", &rate) && !(rate >= 1 && rate <= ION_MAX_RATE))
            return ion_fail(L, "bad_input", "limit_rate must be bytes per second from 1 to %g",
                            ION_MAX_RATE);
    }
    s = push_session(L);
    s->rate = rate;
    s->rate_at = ion_now();
    if (host > 0)
        mc = curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)host);
    if (mc == CURLM_OK && total > 0)
        mc = curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)total);
    if (mc != CURLM_OK)
        return luaL_error(L, "curl_multi_setopt: %s", curl_multi_strerror(mc));
    return 1;
}

static int s_request(lua_State *L)
{
    return blocking(L, check_open(L, 1), ION_KIND_REQUEST, 2);
}

static int s_put(lua_State *L)
{
    return blocking(L, check_open(L, 1), ION_KIND_PUT, 2);
}

static int s_download(lua_State *L)
{
    return blocking(L, check_open(L, 1), ION_KIND_DOWNLOAD, 2);
}

static int s_add(lua_State *L)
{
    ion_session *s = check_open(L, 1);
    ion_kind kind = check_kind(L, 2);
    ion_xfer *x;
    int r, xi;
    luaL_checktype(L, 3, LUA_TTABLE);
    x = ion_xfer_new(L, kind);
    xi = lua_gettop(L);
    if ((r = ion_xfer_configure(L, x, 3)) != 0 || (r = attach(L, s, x, xi)) != 0)
        return refuse(L, x, r);
    lua_pushinteger(L, x->id);
    return 1;
}

static int s_step(lua_State *L)
{
    ion_session *s = check_open(L, 1);
    double timeout = luaL_optnumber(L, 2, 0);
    int i = 0;
    luaL_argcheck(L, timeout == timeout, 2, "a number of seconds, not NaN");
    if (timeout < 0)
        timeout = 0;
    drive(L, s, NULL, timeout);
    lua_createtable(L, s->n_done, 0);
    while (s->done_head) {
        ion_xfer *x = s->done_head;
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, x->id);
        lua_setfield(L, -2, "id");
        if (collect(L, x))
            lua_setfield(L, -2, "res");
        else
            lua_setfield(L, -2, "err");
        lua_rawseti(L, -2, ++i);
    }
    return 1;
}

static int s_cancel(lua_State *L)
{
    ion_session *s = check_open(L, 1);
    lua_Integer id = luaL_checkinteger(L, 2);
    for (ion_xfer *x = s->active; x; x = x->next)
        if (x->id == id) {
            s->L = L; /* for the refs released on completion */
            cancel(L, s, x, "cancelled");
            s->L = NULL;
            lua_pushboolean(L, 1);
            return 1;
        }
    lua_pushboolean(L, 0);
    return 1;
}

/* Transfers not yet returned by step(): running, or finished and queued. */
static int s_pending(lua_State *L)
{
    ion_session *s = luaL_checkudata(L, 1, ION_SESSION_MT);
    lua_pushinteger(L, s->closed ? 0 : s->n_active + s->n_done);
    return 1;
}

/* Seconds a host loop may wait before the next step (curl_multi_timeout);
 * 0 when a result is already queued or a paused PUT can go on, the time
 * until the next refill when limit_rate paused a transfer, nil when libcurl
 * has no timer set. */
static int s_timeout(lua_State *L)
{
    ion_session *s = check_open(L, 1);
    long ms = -1;
    double rate_wait;
    CURLMcode mc;
    if (s->n_done > 0 || any_ready(s)) {
        lua_pushnumber(L, 0);
        return 1;
    }
    mc = curl_multi_timeout(s->multi, &ms);
    if (mc != CURLM_OK)
        return luaL_error(L, "curl multi: %s", curl_multi_strerror(mc));
    rate_wait = ion_rate_wait(s, ion_now());
    if (rate_wait < HUGE_VAL && (ms < 0 || rate_wait < (double)ms / 1000))
        lua_pushnumber(L, rate_wait);
    else if (ms < 0)
        lua_pushnil(L);
    else
        lua_pushnumber(L, (lua_Number)ms / 1000);
    return 1;
}

/* The sockets libcurl waits on for `what` (CURL_POLL_IN or _OUT), as an array. */
static void push_socks(lua_State *L, const ion_session *s, int what)
{
    int n = 0;
    lua_createtable(L, (int)s->nsocks, 0);
    for (size_t i = 0; i < s->nsocks; i++)
        if (s->socks[i].what & what) {
            lua_pushinteger(L, (lua_Integer)s->socks[i].fd);
            lua_rawseti(L, -2, ++n);
        }
}

/* The descriptors a host loop can wait on before the next step: two arrays,
 * to watch for reading and for writing. libcurl's sockets as its socket
 * callback named them (any number, unlike curl_multi_fdset's, which stop
 * at FD_SETSIZE), and the session's wake pipe last among the readable
 * ones: it becomes readable when a paused PUT can go on, which no socket
 * would say. */
static int s_fds(lua_State *L)
{
    ion_session *s = check_open(L, 1);
    push_socks(L, s, CURL_POLL_IN);
    lua_pushinteger(L, s->wake_r);
    lua_rawseti(L, -2, (int)ion_rawlen(L, -2) + 1);
    push_socks(L, s, CURL_POLL_OUT);
    return 2;
}

static int s_close(lua_State *L)
{
    ion_session *s = luaL_checkudata(L, 1, ION_SESSION_MT);
    if (s->driving)
        return luaL_error(L, "session is busy: not closable from its own callbacks");
    close_session(L, s);
    return 0;
}

static int s_tostring(lua_State *L)
{
    ion_session *s = luaL_checkudata(L, 1, ION_SESSION_MT);
    lua_pushfstring(L, "%s (%p%s)", ION_SESSION_MT, (void *)s, s->closed ? ", closed" : "");
    return 1;
}

void ion_session_open_lib(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"request", s_request}, {"put", s_put},         {"download", s_download},
        {"add", s_add},         {"step", s_step},       {"cancel", s_cancel},
        {"pending", s_pending}, {"timeout", s_timeout}, {"fds", s_fds},
        {"close", s_close},     {NULL, NULL},
    };
    ion_new_class(L, ION_SESSION_MT, methods, s_close, s_tostring, 1);
    if (luaL_newmetatable(L, ION_XFER_MT)) {
        lua_pushcfunction(L, xfer_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushliteral(L, ION_XFER_MT);
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
}
