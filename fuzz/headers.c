/* libFuzzer target: response header lines as libcurl hands them to the core
 * (ion_headers_add), then read back as the core reads them (ion_each_header,
 * ion_find_header_in for ETag, ion_etag_normalise). The input is split into
 * lines at '\n'; the cap is small so that its refusal is exercised too. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "../csrc/parse.h"

static int count_one(const char *name, size_t nl, const char *value, size_t vl, void *ud)
{
    size_t *n = ud;
    /* a name is never empty and never holds the colon; a value is trimmed */
    assert(nl > 0 && memchr(name, ':', nl) == NULL);
    assert(vl == 0 || (value[0] != ' ' && value[0] != '\t'));
    assert(vl == 0 || (value[vl - 1] != ' ' && value[vl - 1] != '\t'));
    (*n)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ion_buf b = {0};
    const char *p = (const char *)data, *end = p + size;
    size_t n = 0;
    char etag[256], norm[256];

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t len = eol ? (size_t)(eol - p) + 1 : (size_t)(end - p);
        int rc = ion_headers_add(&b, p, len, 4096);
        assert(b.len <= 4096);
        if (rc != ION_HDR_OK)
            break;
        p += len;
    }
    ion_each_header(b.data, b.len, count_one, &n);
    if (ion_find_header_in(b.data, b.len, "etag", etag, sizeof etag)) {
        size_t nl = ion_etag_normalise(etag, norm, sizeof norm);
        assert(nl < sizeof norm && nl == strlen(norm));
    }
    /* a tiny output buffer must hold its NUL too */
    if (ion_find_header_in(b.data, b.len, "content-type", etag, 1))
        assert(etag[0] == '\0');
    ion_buf_free(&b);
    return 0;
}
