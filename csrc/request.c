/* What every transfer shares (the userdata, common options, progress,
 * outcome) and the request with an in-memory body. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define ION_DEFAULT_MAX_RESPONSE ((size_t)8 * 1024 * 1024)
#define ION_DEFAULT_CONNECT_TIMEOUT 10.0
#define ION_DEFAULT_STALL_TIMEOUT 60.0
/* on_progress is called when bytes moved, but at most this often, except
 * for the call that reports completion. */
#define ION_PROGRESS_INTERVAL 0.05
/* Timeouts are handed to libcurl in milliseconds as a long: capped so that
 * even a 32-bit long holds them (11.6 days), and so that NaN or infinity
 * never reach a cast (undefined behaviour in C). */
#define ION_MAX_SECONDS 1e6
/* max_response is a size_t: any sane cap is far below this. */
#define ION_MAX_RESPONSE_CAP 1e15

ion_xfer *ion_xfer_new(lua_State *L, ion_kind kind)
{
    ion_xfer *x = ion_newuserdata(L, sizeof *x);
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->state = ION_NEW;
    x->self_ref = x->cb_ref = x->body_ref = LUA_NOREF;
    x->out_fd = -1;
    x->expected_size = -1;
    x->reported = -1;
    ion_setmetatable(L, ION_XFER_MT);
    x->easy = curl_easy_init();
    if (x->easy == NULL)
        luaL_error(L, "curl_easy_init failed");
    return x;
}

void ion_xfer_cleanup(ion_xfer *x)
{
    if (x->kind == ION_KIND_PUT)
        ion_put_free(x);
    else if (x->kind == ION_KIND_DOWNLOAD)
        ion_download_free(x);
    if (x->easy) {
        curl_easy_cleanup(x->easy);
        x->easy = NULL;
    }
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    ion_buf_free(&x->body);
    ion_buf_free(&x->hdrs);
    free(x->what);
    x->what = NULL;
    free(x->fail_msg);
    x->fail_msg = NULL;
}

void ion_xfer_release(lua_State *L, ion_xfer *x)
{
    luaL_unref(L, LUA_REGISTRYINDEX, x->cb_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, x->body_ref);
    x->cb_ref = x->body_ref = LUA_NOREF;
}

/* ---- progress: a Lua call from inside libcurl, fully protected ---- */

static int progress_trampoline(lua_State *L)
{
    ion_xfer *x = lua_touserdata(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, x->cb_ref);
    lua_pushinteger(L, (lua_Integer)x->cb_now);
    if (x->cb_total_known)
        lua_pushinteger(L, (lua_Integer)x->cb_total);
    else
        lua_pushnil(L);
    lua_call(L, 2, 1);
    if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1))
        ion_xfer_set_failure(x, "aborted", "%s: on_progress asked to stop", x->what);
    return 0;
}

/* Returns nonzero when the transfer must stop. Runs inside libcurl
 * callbacks: nothing here may raise, so the Lua work happens in
 * progress_trampoline under a protected call. */
static int progress_call(ion_xfer *x, curl_off_t now, curl_off_t total, int known)
{
    lua_State *L;
    double t;
    int top, rc;
    if (x->fail_code)
        return 1;
    if (x->cb_ref == LUA_NOREF || x->sess == NULL || (L = x->sess->L) == NULL)
        return 0; /* no state to run on (e.g. inside curl_multi_remove_handle) */
    if (now == x->reported)
        return 0;
    t = ion_now();
    if (!(known && now == total) && x->reported >= 0 && t - x->reported_at < ION_PROGRESS_INTERVAL)
        return 0;
    x->cb_now = now;
    x->cb_total = total;
    x->cb_total_known = known;
    x->reported = now;
    x->reported_at = t;
    top = lua_gettop(L);
    rc = ion_cpcall(L, progress_trampoline, x);
    if (rc != 0) {
        if (lua_type(L, -1) == LUA_TSTRING)
            ion_xfer_set_failure(x, "aborted", "%s", lua_tostring(L, -1));
        else
            ion_xfer_set_failure(x, "aborted", "on_progress raised a %s value",
                                 lua_typename(L, lua_type(L, -1)));
    }
    lua_settop(L, top);
    return x->fail_code ? 1 : 0;
}

static int xferinfo_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    ion_xfer *x = ud;
    if (x->kind == ION_KIND_PUT) {
        /* libcurl reports "0 of 0" before it has taken the body's size: not
         * "all sent". A zero-byte body is still reported once, at finish. */
        if (ultotal == 0 && ulnow == 0)
            return x->fail_code ? 1 : 0;
        return progress_call(x, ulnow, ultotal, 1);
    }
    return progress_call(x, dlnow, dltotal, dltotal > 0);
}

/* ---- configuration ---- */

static const char *const request_keys[] = {
    "url",       "headers",      "connect_timeout", "timeout", "stall_timeout",
    "ca_file",   "max_response", "on_progress",     "method",  "body",
    "no_resend", "proxy",        "no_proxy",        NULL,
};
static const char *const put_keys[] = {
    "url",     "headers",      "connect_timeout", "timeout", "stall_timeout",
    "ca_file", "max_response", "on_progress",     "path",    "content_type",
    "md5",     "proxy",        "no_proxy",        "sha256",  NULL,
};
static const char *const download_keys[] = {
    "url",     "headers",      "connect_timeout", "timeout", "stall_timeout",
    "ca_file", "max_response", "on_progress",     "path",    "md5",
    "proxy",   "no_proxy",     "expect_md5",      "size",    "sha256",
    "discard", NULL,
};

static int scheme_ok(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

/* Names a PUT must not carry: storage refuses or misreads them, and an
 * Authorization header would hand our ION credentials to a third party. */
static int put_forbidden(const char *name)
{
    static const char *const bad[] = {"authorization",     "content-type", "content-length",
                                      "transfer-encoding", "expect",       NULL};
    for (const char *const *b = bad; *b; b++)
        if (strcasecmp(*b, name) == 0)
            return 1;
    return 0;
}

static int add_header(lua_State *L, ion_xfer *x, const char *line)
{
    struct curl_slist *n = curl_slist_append(x->headers, line);
    if (n == NULL)
        return luaL_error(L, "out of memory");
    x->headers = n;
    return 0;
}

static int configure_headers(lua_State *L, ion_xfer *x, int req)
{
    lua_getfield(L, req, "headers");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    luaL_argcheck(L, lua_istable(L, -1), 1, "option 'headers' must be a table");
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        size_t nl, vl;
        const char *name, *value;
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            return luaL_error(L, "headers must map string names to string values");
        name = lua_tolstring(L, -2, &nl);
        value = lua_tolstring(L, -1, &vl);
        if (!ion_header_name_ok(name, nl))
            return ion_fail(L, "bad_input", "%s: invalid header name", x->what);
        if (!ion_header_value_ok(value, vl))
            return ion_fail(L, "bad_input", "%s: header %s has a CR, LF or NUL in its value",
                            x->what, name);
        if (x->kind == ION_KIND_PUT && put_forbidden(name))
            return ion_fail(L, "bad_input", "%s: header %s is not allowed on a PUT to storage",
                            x->what, name);
        /* "Name;" is libcurl's way to send a header with an empty value */
        if (vl == 0)
            lua_pushfstring(L, "%s;", name);
        else
            lua_pushfstring(L, "%s: %s", name, value);
        add_header(L, x, lua_tostring(L, -1));
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    return 0;
}

/* The body of a no_resend request, handed to libcurl piece by piece. */
static size_t send_once_cb(char *p, size_t size, size_t n, void *ud)
{
    ion_xfer *x = ud;
    size_t room = size * n, left = x->send_len - x->send_pos;
    size_t len = left < room ? left : room;
    memcpy(p, x->send_data + x->send_pos, len);
    x->send_pos += len;
    return len;
}

/* libcurl rewinds a body only to send it again on a fresh connection, after
 * the reused one died with no answer. Refusing makes that a failure
 * (CURLE_SEND_FAIL_REWIND) instead of a silent second request. */
static int refuse_rewind_cb(void *ud, curl_off_t offset, int origin)
{
    (void)ud;
    (void)offset;
    (void)origin;
    return CURL_SEEKFUNC_FAIL;
}

static int configure_request(lua_State *L, ion_xfer *x, int req, const char *method)
{
    size_t bl = 0;
    const char *body = ion_opt_string(L, req, "body", &bl);
    int no_resend;
    lua_getfield(L, req, "no_resend");
    no_resend = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (body) {
        lua_getfield(L, req, "body");
        x->body_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* libcurl reads it in place */
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bl);
        if (no_resend) {
            /* A request that must never reach the server twice (a mutation):
             * the body comes from a read callback that cannot rewind, and only
             * a connection idle for under 2 s is reused, which makes libcurl's
             * "died while idle" guess rare. */
            x->send_data = body;
            x->send_len = bl;
            x->send_pos = 0;
            SETOPT(CURLOPT_POST, 1L);
            SETOPT(CURLOPT_READFUNCTION, send_once_cb);
            SETOPT(CURLOPT_READDATA, x);
            SETOPT(CURLOPT_SEEKFUNCTION, refuse_rewind_cb);
            SETOPT(CURLOPT_SEEKDATA, x);
            SETOPT(CURLOPT_MAXAGE_CONN, 2L);
        } else {
            SETOPT(CURLOPT_POSTFIELDS, body);
        }
    }
    if (strcmp(method, "GET") == 0 && !body) {
        SETOPT(CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0 && !body) {
        SETOPT(CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "POST") == 0) {
        if (!body) {
            SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
            SETOPT(CURLOPT_POSTFIELDS, "");
        }
    } else {
        SETOPT(CURLOPT_CUSTOMREQUEST, method);
    }
    SETOPT(CURLOPT_WRITEFUNCTION, ion_body_cb);
    SETOPT(CURLOPT_WRITEDATA, x);
    return 0;
}

/* Returns 0, or 2 with nil, err pushed for a bad value. Raises on misuse.
 * Everything allocated is owned by x, so a raise leaks nothing: the
 * transfer's __gc frees it. */
int ion_xfer_configure(lua_State *L, ion_xfer *x, int req)
{
    const char *url, *method, *ca_file, *proxy, *no_proxy;
    double ct = ION_DEFAULT_CONNECT_TIMEOUT, total = 0, stall = 0, maxr = 0;
    int r;

    luaL_checktype(L, req, LUA_TTABLE);
    ion_check_keys(L, req,
                   x->kind == ION_KIND_REQUEST ? "request"
                   : x->kind == ION_KIND_PUT   ? "put"
                                               : "download",
                   x->kind == ION_KIND_REQUEST ? request_keys
                   : x->kind == ION_KIND_PUT   ? put_keys
                                               : download_keys);
    url = ion_opt_string(L, req, "url", NULL);
    if (url == NULL)
        return luaL_error(L, "option 'url' is required");
    if (x->kind == ION_KIND_REQUEST) {
        size_t ml = 0;
        method = ion_opt_string(L, req, "method", &ml);
        if (method == NULL) {
            lua_getfield(L, req, "body");
            method = lua_isnil(L, -1) ? "GET" : "POST";
            ml = strlen(method);
            lua_pop(L, 1);
        }
        if (!ion_header_name_ok(method, strlen(method)) || ml != strlen(method))
            return ion_fail(L, "bad_input", "invalid HTTP method");
    } else {
        method = x->kind == ION_KIND_PUT ? "PUT" : "GET";
    }
    x->what = ion_redact_url(method, url);
    if (x->what == NULL)
        return luaL_error(L, "out of memory");
    if (!scheme_ok(url))
        return ion_fail(L, "bad_input", "%s: only http:// and https:// URLs are allowed", x->what);

    ion_opt_number(L, req, "connect_timeout", &ct);
    ion_opt_number(L, req, "timeout", &total);
    if (x->kind != ION_KIND_REQUEST)
        stall = ION_DEFAULT_STALL_TIMEOUT;
    ion_opt_number(L, req, "stall_timeout", &stall);
    /* written so that NaN fails every test */
    if (!(ct > 0 && ct <= ION_MAX_SECONDS))
        return ion_fail(L, "bad_input", "connect_timeout must be a number of seconds in (0, %g]",
                        ION_MAX_SECONDS);
    if (!(total >= 0 && total <= ION_MAX_SECONDS))
        return ion_fail(L, "bad_input", "timeout must be a number of seconds from 0 to %g",
                        ION_MAX_SECONDS);
    if (!(stall >= 0 && stall <= ION_MAX_SECONDS))
        return ion_fail(L, "bad_input", "stall_timeout must be a number of seconds from 0 to %g",
                        ION_MAX_SECONDS);
    x->stall_timeout = stall;
    x->max_response = ION_DEFAULT_MAX_RESPONSE;
    if (ion_opt_number(L, req, "max_response", &maxr)) {
        if (!(maxr >= 0 && maxr <= ION_MAX_RESPONSE_CAP))
            return ion_fail(L, "bad_input", "max_response must be a number of bytes from 0 to %g",
                            ION_MAX_RESPONSE_CAP);
        x->max_response = (size_t)maxr;
    }
    ca_file = ion_opt_string(L, req, "ca_file", NULL);
    proxy = ion_opt_string(L, req, "proxy", NULL);
    no_proxy = ion_opt_string(L, req, "no_proxy", NULL);

    SETOPT(CURLOPT_PRIVATE, (void *)x);
    SETOPT(CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    SETOPT(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_file)
        SETOPT(CURLOPT_CAINFO, ca_file);
    /* Only the proxy the caller names: "" stops libcurl from reading
     * http_proxy, https_proxy, all_proxy and no_proxy from the environment. */
    SETOPT(CURLOPT_PROXY, proxy ? proxy : "");
    SETOPT(CURLOPT_NOPROXY, no_proxy ? no_proxy : "");
    SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
    SETOPT(CURLOPT_USERAGENT, "ion-upload/" ION_VERSION);
    SETOPT(CURLOPT_HEADERFUNCTION, ion_header_cb);
    SETOPT(CURLOPT_HEADERDATA, x);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, ion_ms(ct, LONG_MAX));
    if (total > 0)
        SETOPT(CURLOPT_TIMEOUT_MS, ion_ms(total, LONG_MAX));

    lua_getfield(L, req, "on_progress");
    if (lua_isfunction(L, -1)) {
        x->cb_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        SETOPT(CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
        SETOPT(CURLOPT_XFERINFODATA, x);
        SETOPT(CURLOPT_NOPROGRESS, 0L);
    } else if (!lua_isnil(L, -1)) {
        return luaL_error(L, "option 'on_progress' must be a function");
    } else {
        lua_pop(L, 1);
    }

    if ((r = configure_headers(L, x, req)) != 0)
        return r;
    /* A 100-continue round trip only costs time (1 s when a server ignores it). */
    add_header(L, x, "Expect:");

    if (x->kind == ION_KIND_REQUEST)
        r = configure_request(L, x, req, method);
    else if (x->kind == ION_KIND_PUT)
        r = ion_put_configure(L, x, req);
    else
        r = ion_download_configure(L, x, req);
    if (r != 0)
        return r;
    SETOPT(CURLOPT_HTTPHEADER, x->headers);
    return 0;
}

/* ---- completion ---- */

/* Called once libcurl is done with x (it is out of the multi handle). */
void ion_xfer_finish(lua_State *L, ion_xfer *x)
{
    long status = 0;
    if (curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK)
        x->status = status;
    /* on_progress's last call reports completion, even when libcurl's own
     * progress updates stopped just short of it. Before the download is
     * renamed into place: a raise there still leaves nothing on disk. */
    if (x->result == CURLE_OK && !x->fail_code && x->cb_ref != LUA_NOREF) {
        curl_off_t n = 0;
        CURLINFO what = x->kind == ION_KIND_PUT ? CURLINFO_SIZE_UPLOAD_T : CURLINFO_SIZE_DOWNLOAD_T;
        if (curl_easy_getinfo(x->easy, what, &n) == CURLE_OK && n != x->reported) {
            x->reported_at = 0;
            progress_call(x, n, n, 1);
        }
    }
    if (x->kind == ION_KIND_PUT)
        ion_put_finish(x);
    else if (x->kind == ION_KIND_DOWNLOAD)
        ion_download_finish(x);
    ion_xfer_release(L, x);
}

static void push_failure(lua_State *L, ion_xfer *x)
{
    if (x->fail_code) {
        ion_push_error(L, x->fail_code, x->fail_msg, x->result != CURLE_OK ? (int)x->result : 0,
                       x->status);
    } else {
        const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result);
        if (x->result == CURLE_SEND_FAIL_REWIND && x->send_data)
            why = "the connection closed after the request was sent, with no answer "
                  "(the server may have processed it; not sent again)";
        lua_pushfstring(L, "%s: %s", x->what ? x->what : "transfer", why);
        ion_push_error(L, ion_curl_error_code(x->result), lua_tostring(L, -1), (int)x->result,
                       x->status);
        lua_remove(L, -2);
    }
}

/* The result of every kind: { status, headers, body } for a request; a PUT
 * adds etag (normalised; none when absent), md5, sha256 (when computed)
 * and size (the bytes sent); a download md5, sha256 and size (the bytes
 * taken), and keeps the body only of a non-2xx answer (its error page). */
static void push_result(lua_State *L, ion_xfer *x)
{
    char hex[65], etag[256], norm[256];
    int put = x->kind == ION_KIND_PUT, download = x->kind == ION_KIND_DOWNLOAD;
    lua_createtable(L, 0, 7);
    lua_pushinteger(L, (lua_Integer)x->status);
    lua_setfield(L, -2, "status");
    if (put && ion_find_header(x, "etag", etag, sizeof etag) &&
        ion_etag_normalise(etag, norm, sizeof norm) > 0) {
        lua_pushstring(L, norm);
        lua_setfield(L, -2, "etag");
    }
    if (x->have_digest) {
        ion_hex(x->digest, 16, hex);
        lua_pushstring(L, hex);
        lua_setfield(L, -2, "md5");
    }
    if (x->have_sha) {
        ion_hex(x->sha_digest, 32, hex);
        lua_pushstring(L, hex);
        lua_setfield(L, -2, "sha256");
    }
    if (put || download) {
        lua_pushinteger(L, (lua_Integer)x->written);
        lua_setfield(L, -2, "size");
    }
    ion_push_headers(L, x);
    lua_setfield(L, -2, "headers");
    if (!download || x->status < 200 || x->status >= 300) {
        lua_pushlstring(L, x->body.data ? x->body.data : "", x->body.len);
        lua_setfield(L, -2, "body");
    }
}

/* Pushes the result table (returns 1) or the error table (returns 0). */
int ion_xfer_push_outcome(lua_State *L, ion_xfer *x)
{
    if (x->fail_code || x->result != CURLE_OK) {
        push_failure(L, x);
        return 0;
    }
    push_result(L, x);
    return 1;
}
