/* MD5 through OpenSSL's EVP interface, and digests as lower-case hex. */
#include "internal.h"

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
