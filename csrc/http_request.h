/* The request line and headers of an HTTP/1.x request, as the status server
 * (lua_http.c) reads them: a pure parser over a buffer, no Lua and no I/O,
 * fuzzed (fuzz/http_request.c). Linear in the buffer's length. */
#ifndef ION_HTTP_REQUEST_H
#define ION_HTTP_REQUEST_H

#include <stddef.h>

#include "hidden.h"

/* A part of the buffer: its offset and length. */
typedef struct {
    size_t off, len;
} ion_span;

typedef struct {
    ion_span method;        /* uppercase letters */
    ion_span target;        /* origin form: starts with '/', visible ASCII */
    ion_span authorization; /* the Authorization header's value, trimmed; len 0 when absent */
    size_t end;             /* the bytes of the request line and headers, blank line included */
} ion_http_request;

enum {
    ION_HTTP_INCOMPLETE = 0, /* no blank line yet, and within max */
    ION_HTTP_OK = 1,
    ION_HTTP_BAD = -1,       /* 400 */
    ION_HTTP_TOO_LARGE = -2, /* 431: more than max bytes before the blank line */
};

/* Reads buf[0..len): ION_HTTP_OK (req filled), or one of the others. Line
 * ends are CRLF or a bare LF; a folded header line is refused. */
ION_HIDDEN int ion_http_parse(const char *buf, size_t len, size_t max, ion_http_request *req);

#endif
