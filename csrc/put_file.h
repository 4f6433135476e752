/* The file a PUT sends (put_file.c): opened and checked before any
 * traffic, read and hashed block by block, checked again at its end. No
 * Lua and no libcurl here: put.c hands it to libcurl, put_ring.c reads it
 * ahead in a thread. */
#ifndef ION_PUT_FILE_H
#define ION_PUT_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/evp.h>

#include "hidden.h"

/* S3 takes at most 5 GiB in a single PUT. The Lua layer checks before, but
 * the file may grow between its check and our fstat. */
#define ION_MAX_PUT_SIZE ((int64_t)5 * 1024 * 1024 * 1024)

/* Why a read failed: none, the file changed (its size or mtime), read(2)
 * failed (an errno with it), a digest failed. */
enum { ION_RF_NONE, ION_RF_CHANGED, ION_RF_READ, ION_RF_HASH };

/* What ion_put_file_open refuses besides an errno. */
enum { ION_PUT_NOT_FILE = -1, ION_PUT_TOO_BIG = -2 };

typedef struct {
    int fd;                /* -1 once closed */
    int64_t size;          /* from fstat before any traffic: the Content-Length */
    struct timespec mtime; /* also from that fstat: a rewrite moves it */
    int64_t read;          /* bytes read and hashed since the last rewind */
    EVP_MD_CTX *md;        /* NULL when md5 = false */
    EVP_MD_CTX *sha;       /* sha256 = true (receipts): hashed in the same pass */
} ion_put_file;

/* Opens path (f->fd -1 before): 0, an errno, ION_PUT_NOT_FILE (what it is
 * in *mode) or ION_PUT_TOO_BIG. The digests are the caller's to set. */
ION_HIDDEN int ion_put_file_open(ion_put_file *f, const char *path, mode_t *mode);
/* "a directory", "a FIFO", ...: a file ion_put_file_open refused */
ION_HIDDEN const char *ion_file_kind(mode_t m);
/* Reads the next bytes, at most want and never past the announced size,
 * into buf and hashes them; the read that reaches the end checks the file
 * once more. Returns the bytes read, with *fail (and *err for ION_RF_READ)
 * set on failure. */
ION_HIDDEN size_t ion_put_file_read(ion_put_file *f, char *buf, size_t want, int *fail, int *err);
/* Whether the file's size or mtime moved since it was opened. */
ION_HIDDEN int ion_put_file_changed(const ion_put_file *f);
/* Back to byte 0 with fresh digests: 0, or -1. */
ION_HIDDEN int ion_put_file_rewind(ion_put_file *f);
/* Closes the descriptor (the digests stay); ion_put_file_free frees them too. */
ION_HIDDEN void ion_put_file_close(ion_put_file *f);
ION_HIDDEN void ion_put_file_free(ion_put_file *f);

#endif
