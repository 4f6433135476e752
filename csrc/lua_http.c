/* The status server's sockets (`ion-upload watch --status`): a listener and
 * its connections, all non-blocking, for the watch's own poll() loop
 * (lua/ion/upload/status/server.lua does the routing, limits and timers).
 * A connection reads one request (at most ION_HTTP_MAX bytes up to its
 * blank line, parsed by http_request.c), then sends one response from a
 * buffer it owns, and is closed. No thread, no blocking call. */
#define _DEFAULT_SOURCE /* getaddrinfo and its flags beside _POSIX_C_SOURCE */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_request.h"
#include "internal.h"

#define LISTENER_MT "ion.upload.core.http_listener"
#define CONN_MT "ion.upload.core.http_conn"
#define ION_HTTP_MAX 8192

typedef struct {
    int fd;
    int loopback;
    int port;
} listener;

typedef struct {
    int fd;
    size_t have;
    char in[ION_HTTP_MAX];
    char *out; /* the response, owned */
    size_t out_len, out_sent;
} conn;

static int set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0
               ? -1
               : 0;
}

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return memcmp(&in6->sin6_addr, &in6addr_loopback, sizeof in6addr_loopback) == 0;
    }
    return 0;
}

static int bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port);
}

/* core.http_listen(host, port) -> listener | nil, err. host: a numeric
 * address or a name (the first address it resolves to is bound); port 0
 * picks a free one (listener:port()). */
static int http_listen(lua_State *L)
{
    const char *host = luaL_checkstring(L, 1);
    const char *port = luaL_checkstring(L, 2);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        return ion_fail(L, "bad_input", "%s:%s: %s", host, port, gai_strerror(rc));
    int fd = socket(res->ai_family, SOCK_STREAM, 0), one = 1, e = 0;
    if (fd < 0 || set_nonblocking(fd) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 64) != 0)
        e = errno;
    int loop = is_loopback(res->ai_addr);
    freeaddrinfo(res);
    if (e != 0) {
        if (fd >= 0)
            close(fd);
        return ion_fail_errno(L, "bad_input", e, "%s:%s", host, port);
    }
    listener *l = ion_newuserdata(L, sizeof *l);
    l->fd = fd;
    l->loopback = loop;
    l->port = bound_port(fd);
    ion_setmetatable(L, LISTENER_MT);
    return 1;
}

/* Argument 1, an open listener or connection of class mt (both start with
 * their fd, -1 once closed). */
static void *check_open(lua_State *L, const char *mt)
{
    int *fd = luaL_checkudata(L, 1, mt);
    if (*fd < 0)
        luaL_error(L, "%s is closed", mt);
    return fd;
}

static int push_fd(lua_State *L, const char *mt)
{
    lua_pushinteger(L, *(int *)check_open(L, mt));
    return 1;
}

static listener *check_listener(lua_State *L)
{
    return check_open(L, LISTENER_MT);
}

static int listener_fd(lua_State *L)
{
    return push_fd(L, LISTENER_MT);
}

static int listener_port(lua_State *L)
{
    lua_pushinteger(L, check_listener(L)->port);
    return 1;
}

static int listener_loopback(lua_State *L)
{
    lua_pushboolean(L, check_listener(L)->loopback);
    return 1;
}

/* listener:accept() -> conn | nil (none waiting) | nil, err */
static int listener_accept(lua_State *L)
{
    listener *l = check_listener(L);
    int fd = accept(l->fd, NULL, NULL);
    if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED)
            return 0;
        return ion_fail_errno(L, "network", errno, "accept");
    }
    if (set_nonblocking(fd) != 0) {
        close(fd);
        return ion_fail_errno(L, "network", errno, "accept");
    }
    conn *c = ion_newuserdata(L, sizeof *c);
    c->fd = fd;
    c->have = 0;
    c->out = NULL;
    c->out_len = c->out_sent = 0;
    ion_setmetatable(L, CONN_MT);
    return 1;
}

static int listener_close(lua_State *L)
{
    listener *l = luaL_checkudata(L, 1, LISTENER_MT);
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    return 0;
}

static conn *check_conn(lua_State *L)
{
    return check_open(L, CONN_MT);
}

static int conn_fd(lua_State *L)
{
    return push_fd(L, CONN_MT);
}

static void push_span(lua_State *L, const conn *c, ion_span s, const char *k)
{
    lua_pushlstring(L, c->in + s.off, s.len);
    lua_setfield(L, -2, k);
}

/* conn:recv() -> { method, target, authorization } once the request is in;
 * "more" (wait for readable), "eof" (the client closed), "bad" (400) or
 * "too_large" (431); nil, err on a socket error. */
static int conn_recv(lua_State *L)
{
    conn *c = check_conn(L);
    for (;;) {
        if (c->have < sizeof c->in) {
            ssize_t n = recv(c->fd, c->in + c->have, sizeof c->in - c->have, 0);
            if (n == 0) {
                lua_pushliteral(L, "eof");
                return 1;
            }
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK)
                    return ion_fail_errno(L, "network", errno, "recv");
            } else {
                c->have += (size_t)n;
            }
        }
        ion_http_request req;
        int rc = ion_http_parse(c->in, c->have, sizeof c->in, &req);
        if (rc == ION_HTTP_OK) {
            lua_createtable(L, 0, 3);
            push_span(L, c, req.method, "method");
            push_span(L, c, req.target, "target");
            push_span(L, c, req.authorization, "authorization");
            return 1;
        }
        if (rc == ION_HTTP_INCOMPLETE && c->have < sizeof c->in) {
            lua_pushliteral(L, "more"); /* EAGAIN, or a partial read: poll again */
            return 1;
        }
        lua_pushstring(L, rc == ION_HTTP_BAD ? "bad" : "too_large");
        return 1;
    }
}

/* conn:send(bytes): the response, copied; sent by conn:flush(). */
static int conn_send(lua_State *L)
{
    conn *c = check_conn(L);
    size_t len;
    const char *s = luaL_checklstring(L, 2, &len);
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return luaL_error(L, "out of memory");
    memcpy(copy, s, len);
    free(c->out);
    c->out = copy;
    c->out_len = len;
    c->out_sent = 0;
    return 0;
}

/* conn:flush() -> true once the response is sent, false while some is left
 * (wait for writable), nil, err when the client went away. */
static int conn_flush(lua_State *L)
{
    conn *c = check_conn(L);
    while (c->out_sent < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                lua_pushboolean(L, 0);
                return 1;
            }
            return ion_fail_errno(L, "network", errno, "send");
        }
        c->out_sent += (size_t)n;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int conn_close(lua_State *L)
{
    conn *c = luaL_checkudata(L, 1, CONN_MT);
    if (c->fd >= 0) {
        shutdown(c->fd, SHUT_RDWR);
        close(c->fd);
    }
    c->fd = -1;
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_sent = 0;
    return 0;
}

void ion_http_open_lib(lua_State *L)
{
    static const luaL_Reg lmethods[] = {
        {"fd", listener_fd},         {"port", listener_port},   {"loopback", listener_loopback},
        {"accept", listener_accept}, {"close", listener_close}, {NULL, NULL},
    };
    static const luaL_Reg cmethods[] = {
        {"fd", conn_fd},       {"recv", conn_recv},   {"send", conn_send},
        {"flush", conn_flush}, {"close", conn_close}, {NULL, NULL},
    };
    ion_new_class(L, LISTENER_MT, lmethods, listener_close, NULL, 1);
    ion_new_class(L, CONN_MT, cmethods, conn_close, NULL, 1);
    lua_pushcfunction(L, http_listen);
    lua_setfield(L, -2, "http_listen");
}
