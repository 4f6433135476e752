/* The status server's request parser (http_request.h). One pass to find the
 * blank line, one over the lines before it: no backtracking. */
#include "http_request.h"

#include <string.h>

/* RFC 9110's tchar: the characters of a header name. */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* The offset just past the blank line that ends the headers, or 0. */
static size_t find_end(const char *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* The end of the line starting at p (its '\n' or CRLF excluded), and where
 * the next begins. The caller knows a '\n' comes before `end`. */
static size_t line_end(const char *buf, size_t p, size_t end, size_t *next)
{
    const char *nl = memchr(buf + p, '\n', end - p);
    size_t e = (size_t)(nl - buf);
    *next = e + 1;
    if (e > p && buf[e - 1] == '\r')
        e--;
    return e;
}

static int parse_request_line(const char *buf, size_t p, size_t e, ion_http_request *req)
{
    size_t i = p;
    while (i < e && buf[i] >= 'A' && buf[i] <= 'Z')
        i++;
    if (i == p || i >= e || buf[i] != ' ')
        return ION_HTTP_BAD;
    req->method.off = p;
    req->method.len = i - p;
    size_t t = ++i;
    while (i < e && (unsigned char)buf[i] > 0x20 && (unsigned char)buf[i] < 0x7f)
        i++;
    if (i == t || buf[t] != '/' || i >= e || buf[i] != ' ')
        return ION_HTTP_BAD;
    req->target.off = t;
    req->target.len = i - t;
    i++;
    if (e - i != 8 || memcmp(buf + i, "HTTP/1.", 7) != 0 || buf[i + 7] < '0' || buf[i + 7] > '9')
        return ION_HTTP_BAD;
    return ION_HTTP_OK;
}

static int parse_header(const char *buf, size_t p, size_t e, ion_http_request *req)
{
    size_t i = p;
    while (i < e && is_tchar((unsigned char)buf[i]))
        i++;
    if (i == p || i >= e || buf[i] != ':') /* also a folded line: it starts with a space */
        return ION_HTTP_BAD;
    size_t name_len = i - p, v = i + 1;
    for (size_t k = v; k < e; k++) {
        unsigned char c = (unsigned char)buf[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return ION_HTTP_BAD;
    }
    while (v < e && (buf[v] == ' ' || buf[v] == '\t'))
        v++;
    size_t ve = e;
    while (ve > v && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'))
        ve--;
    if (name_len == 13) {
        static const char want[] = "authorization";
        size_t k = 0;
        while (k < 13 && (buf[p + k] | 0x20) == want[k])
            k++;
        if (k == 13) {
            if (req->authorization.len > 0) /* twice: which would count? */
                return ION_HTTP_BAD;
            req->authorization.off = v;
            req->authorization.len = ve - v;
        }
    }
    return ION_HTTP_OK;
}

int ion_http_parse(const char *buf, size_t len, size_t max, ion_http_request *req)
{
    memset(req, 0, sizeof *req);
    size_t end = find_end(buf, len < max ? len : max);
    if (end == 0)
        return len >= max ? ION_HTTP_TOO_LARGE : ION_HTTP_INCOMPLETE;
    size_t next, e = line_end(buf, 0, end, &next);
    if (parse_request_line(buf, 0, e, req) != ION_HTTP_OK)
        return ION_HTTP_BAD;
    for (size_t p = next; p < end;) {
        e = line_end(buf, p, end, &next);
        if (e == p) /* the blank line */
            break;
        if (parse_header(buf, p, e, req) != ION_HTTP_OK)
            return ION_HTTP_BAD;
        p = next;
    }
    req->end = end;
    return ION_HTTP_OK;
}
