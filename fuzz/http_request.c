/* libFuzzer target: the status server's request parser (ion_http_parse) over
 * any bytes, with a small cap so that its refusal (431) is exercised too. The
 * spans it reports lie inside the buffer and hold what the parser promises. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "../csrc/http_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t max = 512;
    ion_http_request req;
    int rc = ion_http_parse(buf, size, max, &req);
    assert(rc == ION_HTTP_OK || rc == ION_HTTP_INCOMPLETE || rc == ION_HTTP_BAD ||
           rc == ION_HTTP_TOO_LARGE);
    if (rc == ION_HTTP_INCOMPLETE)
        assert(size < max);
    if (rc != ION_HTTP_OK)
        return 0;
    assert(req.end <= size && req.end <= max && req.end >= 2 && buf[req.end - 1] == '\n');
    assert(req.method.len > 0 && req.method.off + req.method.len <= req.end);
    for (size_t i = 0; i < req.method.len; i++)
        assert(buf[req.method.off + i] >= 'A' && buf[req.method.off + i] <= 'Z');
    assert(req.target.len > 0 && req.target.off + req.target.len <= req.end);
    assert(buf[req.target.off] == '/');
    for (size_t i = 0; i < req.target.len; i++)
        assert((unsigned char)buf[req.target.off + i] > 0x20 &&
               (unsigned char)buf[req.target.off + i] < 0x7f);
    assert(req.authorization.off + req.authorization.len <= req.end);
    if (req.authorization.len > 0) {
        assert(memchr(buf + req.authorization.off, '\n', req.authorization.len) == NULL);
        assert(buf[req.authorization.off] != ' ' && buf[req.authorization.off] != '\t');
    }
    return 0;
}
