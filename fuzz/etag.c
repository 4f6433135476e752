/* libFuzzer target: ETag normalisation (W/ prefix, quotes, blanks) into
 * buffers of several sizes, and the header name/value checks that keep CR,
 * LF and NUL out of what the core sends. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../csrc/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t sizes[] = {1, 2, 33, 256};
    char *in = malloc(size + 1);
    if (in == NULL)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char *out = malloc(sizes[i]);
        size_t n;
        if (out == NULL)
            break;
        n = ion_etag_normalise(in, out, sizes[i]);
        assert(n < sizes[i] && n == strlen(out));
        /* never longer than its input, whatever the room */
        assert(n <= size);
        free(out);
    }
    if (ion_header_value_ok((const char *)data, size))
        assert(memchr(data, '\r', size) == NULL && memchr(data, '\n', size) == NULL &&
               memchr(data, '\0', size) == NULL);
    if (ion_header_name_ok((const char *)data, size))
        assert(size > 0 && memchr(data, ':', size) == NULL && memchr(data, ' ', size) == NULL);
    free(in);
    return 0;
}
