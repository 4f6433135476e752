/* The parsers of untrusted bytes (parse.h): no Lua, libcurl or OpenSSL
 * here, so fuzz/ can drive them on their own. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

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

int ion_headers_add(ion_buf *b, const char *line, size_t len, size_t cap)
{
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0)
        b->len = 0;
    if (b->len + len > cap)
        return ION_HDR_TOO_BIG;
    return ion_buf_append(b, line, len) ? ION_HDR_OK : ION_HDR_NOMEM;
}

/* Calls f for each "name: value" line of the captured headers, with the
 * value trimmed. Stops early when f returns nonzero. */
void ion_each_header(const char *data, size_t len, ion_header_fn f, void *ud)
{
    const char *p = data, *end;
    if (data == NULL) /* no header at all yet: NULL + 0 would be undefined */
        return;
    end = data + len;
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

int ion_find_header_in(const char *data, size_t len, const char *name, char *out, size_t outsz)
{
    struct find_ctx c = {name, out, outsz, 0};
    if (outsz == 0)
        return 0;
    ion_each_header(data, len, find_one, &c);
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

/* "PUT https://host/key?…": a presigned URL's query string is a credential,
 * and user:password in the authority would be one too. */
char *ion_redact_url(const char *method, const char *url)
{
    size_t ml = strlen(method), ul = strlen(url);
    char *out = malloc(ml + ul + 8);
    const char *p = url, *auth_end;
    char *o;
    if (out == NULL)
        return NULL;
    memcpy(out, method, ml);
    o = out + ml;
    *o++ = ' ';
    auth_end = strstr(url, "://");
    /* A scheme only when "://" comes before any '/', '?' or '#': otherwise
     * "x?X-Amz-Signature=…://" would be copied whole as its "scheme". */
    if (auth_end && strcspn(url, "/?#") > (size_t)(auth_end - url)) {
        size_t sl = (size_t)(auth_end - url) + 3, al, i;
        memcpy(o, url, sl);
        o += sl;
        p = url + sl;
        /* userinfo ends at the authority's last '@' (a user or password
         * may hold another one) */
        al = strcspn(p, "/?#");
        for (i = al; i > 0; i--)
            if (p[i - 1] == '@') {
                p += i;
                break;
            }
    }
    while (*p && *p != '?' && *p != '#')
        *o++ = *p++;
    if (*p == '?') {
        memcpy(o, "?\xe2\x80\xa6", 4);
        o += 4;
    }
    *o = '\0';
    return out;
}
