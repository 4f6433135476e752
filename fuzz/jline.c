/* libFuzzer target: a journal line checked and its "k" and "e" picked out
 * (jline.c), as the journal index reads untrusted file text: the spans it
 * gives lie inside the line, "k" is a whole string that unescapes to no
 * more bytes than it holds, in place or not. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../csrc/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size ? size : 1);
    ion_jline jl;
    if (line == NULL)
        return 0;
    memcpy(line, data, size);
    if (ion_jline_parse(line, size, &jl)) {
        assert(jl.k >= line && jl.k + jl.k_len <= line + size && jl.k_len >= 2);
        assert(jl.k[0] == '"' && jl.k[jl.k_len - 1] == '"');
        if (jl.e)
            assert(jl.e >= line && jl.e + jl.e_len <= line + size);
        char *out = malloc(jl.k_len), *in_place = malloc(jl.k_len);
        if (out && in_place) { /* the scan unescapes in place: the same bytes */
            long n = ion_jline_unescape(jl.k, jl.k_len, out);
            assert(n < (long)jl.k_len);
            memcpy(in_place, jl.k, jl.k_len);
            assert(ion_jline_unescape(in_place, jl.k_len, in_place) == n);
            assert(n < 0 || memcmp(out, in_place, (size_t)n) == 0);
        }
        free(out), free(in_place);
    }
    free(line);
    return 0;
}
