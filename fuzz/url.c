/* libFuzzer target: URLs made safe for messages (ion_redact_url). Whatever
 * the URL, the result never holds its query string or user:password. The
 * first byte picks the method's length, the rest is the URL. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../csrc/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"PUT", "GET", "POST", ""};
    const char *method;
    char *url, *out, *q;
    if (size == 0)
        return 0;
    method = methods[data[0] % 4];
    url = malloc(size);
    if (url == NULL)
        return 0;
    memcpy(url, data + 1, size - 1);
    url[size - 1] = '\0';
    out = ion_redact_url(method, url);
    assert(out != NULL);
    assert(strlen(out) <= strlen(method) + 1 + strlen(url) + 4);
    /* the query is replaced by "?…" (3 bytes of UTF-8), nothing after it */
    q = strchr(out, '?');
    if (q)
        assert(strcmp(q, "?\xe2\x80\xa6") == 0);
    assert(strchr(out, '#') == NULL);
    /* user:password@ in the authority of scheme://authority is dropped */
    {
        const char *u = out + strlen(method) + 1, *s = strstr(u, "://");
        if (s && strcspn(u, "/?#") > (size_t)(s - u)) {
            const char *auth = s + 3;
            size_t al = strcspn(auth, "/?#");
            assert(memchr(auth, '@', al) == NULL);
        }
    }
    free(out);
    free(url);
    return 0;
}
