/* The core's parsers of untrusted bytes: response header lines, ETags,
 * header names and values, URLs made safe for messages. Plain C over
 * buffers, with no Lua, libcurl or OpenSSL, so the libFuzzer targets in
 * fuzz/ call them exactly as the core does. */
#ifndef ION_PARSE_H
#define ION_PARSE_H

#include <stddef.h>

#include "hidden.h"

typedef struct ion_buf {
    char *data;
    size_t len, cap;
} ion_buf;

ION_HIDDEN int ion_buf_append(ion_buf *b, const char *p, size_t n);
ION_HIDDEN void ion_buf_free(ion_buf *b);

/* One header line as libcurl hands it over, added to the lines kept in b:
 * a status line ("HTTP/...") starts a new response and drops the previous
 * one's. More than cap bytes in all is refused. */
enum { ION_HDR_OK = 0, ION_HDR_TOO_BIG, ION_HDR_NOMEM };
ION_HIDDEN int ion_headers_add(ion_buf *b, const char *line, size_t len, size_t cap);

/* Calls f for each "name: value" line of data, the value trimmed; stops
 * early when f returns nonzero. */
typedef int (*ion_header_fn)(const char *name, size_t nl, const char *value, size_t vl, void *ud);
ION_HIDDEN void ion_each_header(const char *data, size_t len, ion_header_fn f, void *ud);

/* The first header called name (any case) into out, cut to outsz - 1
 * bytes and NUL-terminated; 1 when found. */
ION_HIDDEN int ion_find_header_in(const char *data, size_t len, const char *name, char *out,
                                  size_t outsz);

ION_HIDDEN size_t ion_etag_normalise(const char *in, char *out, size_t outsz);
ION_HIDDEN int ion_header_value_ok(const char *v, size_t n);
ION_HIDDEN int ion_header_name_ok(const char *v, size_t n);
ION_HIDDEN char *ion_redact_url(const char *method, const char *url);

/* jline.c: one journal line checked as JSON, its "k" and "e" picked out
 * (k: the raw string with its quotes; e: the raw text between them) */
typedef struct {
    int ok;
    const char *k, *e;
    size_t k_len, e_len;
} ion_jline;
ION_HIDDEN int ion_jline_parse(const char *p, size_t n, ion_jline *out);
ION_HIDDEN long ion_jline_unescape(const char *s, size_t len, char *out);

#endif
