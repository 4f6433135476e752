/* What a response leaves with us: its header lines captured raw from
 * libcurl and handed to Lua (the parsing itself is in parse.c), and a
 * buffered body, capped. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Bigger than any sane response's headers; a server sending more is broken
 * or hostile, and we would rather fail than grow without bound. */
#define ION_MAX_HEADER_BYTES ((size_t)256 * 1024)

/* libcurl passes every header line of every response (an interim 1xx
 * included); a status line starts a new response, so only the last one's
 * headers are kept. */
size_t ion_header_cb(char *p, size_t size, size_t n, void *ud)
{
    ion_xfer *x = ud;
    size_t len = size * n;
    int rc = ion_headers_add(&x->hdrs, p, len, ION_MAX_HEADER_BYTES);
    if (rc == ION_HDR_TOO_BIG) {
        ion_xfer_set_failure(x, "protocol", "%s: response headers larger than %zu bytes", x->what,
                             ION_MAX_HEADER_BYTES);
        return 0;
    }
    if (rc == ION_HDR_NOMEM) {
        ion_xfer_set_failure(x, "network", "%s: out of memory", x->what);
        return 0;
    }
    return len;
}

static int push_one(const char *name, size_t nl, const char *value, size_t vl, void *ud)
{
    lua_State *L = ud;
    char lname[256];
    size_t i;
    if (nl >= sizeof lname)
        return 0;
    for (i = 0; i < nl; i++)
        lname[i] = (char)tolower((unsigned char)name[i]);
    lua_pushlstring(L, lname, nl);
    lua_pushvalue(L, -1);
    lua_rawget(L, -3);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushlstring(L, value, vl);
    } else { /* a repeated header: joined as HTTP allows */
        lua_pushliteral(L, ", ");
        lua_pushlstring(L, value, vl);
        lua_concat(L, 3);
    }
    lua_rawset(L, -3);
    return 0;
}

void ion_push_headers(lua_State *L, const ion_xfer *x)
{
    lua_newtable(L);
    ion_each_header(x->hdrs.data, x->hdrs.len, push_one, L);
}

int ion_find_header(const ion_xfer *x, const char *name, char *out, size_t outsz)
{
    return ion_find_header_in(x->hdrs.data, x->hdrs.len, name, out, outsz);
}

size_t ion_body_cb(char *p, size_t size, size_t n, void *ud)
{
    ion_xfer *x = ud;
    size_t len = size * n;
    if (x->body.len + len > x->max_response) {
        ion_xfer_set_failure(x, "protocol", "%s: response body larger than %zu bytes", x->what,
                             x->max_response);
        return 0;
    }
    if (!ion_buf_append(&x->body, p, len)) {
        ion_xfer_set_failure(x, "network", "%s: out of memory", x->what);
        return 0;
    }
    return len;
}
