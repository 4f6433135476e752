/* Response headers (captured raw, parsed after libcurl returns), ETag
 * normalisation, header validation and MD5 helpers. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Bigger than any sane response's headers; a server sending more is broken
 * or hostile, and we would rather fail than grow without bound. */
#define ION_MAX_HEADER_BYTES ((size_t)256 * 1024)

int ion_buf_append(ion_buf *b, const char *p, size_t n)
{
    if (n == 0)
        return 1;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        char *d;
        while (cap < b->len + n)
            cap *= 2;
        d = realloc(b->data, cap);
        if (d == NULL)
            return 0;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 1;
}

void ion_buf_free(ion_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* libcurl passes every header line of every response (an interim 1xx
 * included); a status line starts a new response, so only the last one's
 * headers are kept. */
size_t ion_header_cb(char *p, size_t size, size_t n, void *ud)
{
    ion_xfer *x = ud;
    size_t len = size * n;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0)
        x->hdrs.len = 0;
    if (x->hdrs.len + len > ION_MAX_HEADER_BYTES) {
        ion_xfer_set_failure(x, "protocol", "%s: response headers larger than %zu bytes", x->what,
                             ION_MAX_HEADER_BYTES);
        return 0;
    }
    if (!ion_buf_append(&x->hdrs, p, len)) {
        ion_xfer_set_failure(x, "network", "%s: out of memory", x->what);
        return 0;
    }
    return len;
}

/* Calls f for each "name: value" line of the captured headers, with the
 * value trimmed. Stops early when f returns nonzero. */
typedef int (*header_fn)(const char *name, size_t nl, const char *value, size_t vl, void *ud);

static void each_header(const ion_xfer *x, header_fn f, void *ud)
{
    const char *p = x->hdrs.data, *end = p + x->hdrs.len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line = p, *lend = eol ? eol : end, *colon;
        p = eol ? eol + 1 : end;
        while (lend > line && (lend[-1] == '\r' || lend[-1] == '\n'))
            lend--;
        colon = memchr(line, ':', (size_t)(lend - line));
        if (colon == NULL || colon == line || line[0] == ' ' || line[0] == '\t')
            continue; /* status line, blank line, or obsolete folding */
        {
            const char *v = colon + 1, *ve = lend;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if (f(line, (size_t)(colon - line), v, (size_t)(ve - v), ud))
                return;
        }
    }
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
    each_header(x, push_one, L);
}

struct find_ctx {
    const char *name;
    char *out;
    size_t outsz;
    int found;
};

static int find_one(const char *name, size_t nl, const char *value, size_t vl, void *ud)
{
    struct find_ctx *c = ud;
    size_t i;
    if (strlen(c->name) != nl)
        return 0;
    for (i = 0; i < nl; i++)
        if (tolower((unsigned char)name[i]) != tolower((unsigned char)c->name[i]))
            return 0;
    if (vl >= c->outsz)
        vl = c->outsz - 1;
    memcpy(c->out, value, vl);
    c->out[vl] = '\0';
    c->found = 1;
    return 1;
}

int ion_find_header(const ion_xfer *x, const char *name, char *out, size_t outsz)
{
    struct find_ctx c = {name, out, outsz, 0};
    each_header(x, find_one, &c);
    return c.found;
}

/* `W/"abc"`, `"abc"` and `abc` all become `abc`; returns its length. */
size_t ion_etag_normalise(const char *in, char *out, size_t outsz)
{
    size_t n;
    while (*in == ' ' || *in == '\t')
        in++;
    if ((in[0] == 'W' || in[0] == 'w') && in[1] == '/')
        in += 2;
    n = strlen(in);
    while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t'))
        n--;
    if (n >= 2 && in[0] == '"' && in[n - 1] == '"') {
        in++;
        n -= 2;
    }
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, in, n);
    out[n] = '\0';
    return n;
}

/* RFC 9110 token characters. */
int ion_header_name_ok(const char *v, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (!(isalnum(c) || strchr("!#$%&'*+-.^_`|~", c)) || c == '\0')
            return 0;
    }
    return 1;
}

/* No CR, LF or NUL: they would let a value smuggle in another header. */
int ion_header_value_ok(const char *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0')
            return 0;
    return 1;
}

EVP_MD_CTX *ion_md5_new(void)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL)
        return NULL;
    if (EVP_DigestInit_ex(md, EVP_md5(), NULL) != 1) { /* e.g. a FIPS-only OpenSSL */
        EVP_MD_CTX_free(md);
        return NULL;
    }
    return md;
}

void ion_hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}
