/* MD5 and SHA-256 through OpenSSL's EVP interface, and digests as hex
 * (md5.c). No Lua here. */
#ifndef ION_MD5_H
#define ION_MD5_H

#include <stddef.h>

#include <openssl/evp.h>

#include "hidden.h"

ION_HIDDEN EVP_MD_CTX *ion_md5_new(void);
ION_HIDDEN EVP_MD_CTX *ion_sha256_new(void);
ION_HIDDEN int ion_sha256_final(EVP_MD_CTX *md, unsigned char out[32]);
ION_HIDDEN void ion_hex(const unsigned char *d, size_t n, char *out);

#endif
