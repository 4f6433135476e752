/* MD5 (and SHA-256, when asked) through OpenSSL's EVP interface, and
 * digests as lower-case hex. */
#include "md5.h"

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

/* SHA-256 for receipts and verify: only made when a caller asks for it. */
EVP_MD_CTX *ion_sha256_new(void)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (md == NULL)
        return NULL;
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return NULL;
    }
    return md;
}

/* Finishes a SHA-256 into out (32 bytes): 1, or 0 when OpenSSL fails. */
int ion_sha256_final(EVP_MD_CTX *md, unsigned char out[32])
{
    unsigned int n = 0;
    return EVP_DigestFinal_ex(md, out, &n) == 1 && n == 32;
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
