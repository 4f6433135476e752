/* The file a PUT sends (put_file.h). */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "put_file.h"

int ion_put_file_open(ion_put_file *f, const char *path, mode_t *mode)
{
    struct stat st;
    int fl;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
     * below anyway. The file is checked before any traffic. */
    f->fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (f->fd < 0 || fstat(f->fd, &st) != 0)
        return errno;
    if (!S_ISREG(st.st_mode)) {
        *mode = st.st_mode;
        return ION_PUT_NOT_FILE;
    }
    fl = fcntl(f->fd, F_GETFL);
    if (fl < 0 || fcntl(f->fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
        return errno;
    f->size = (int64_t)st.st_size;
    f->mtime = st.st_mtim;
    /* The announced size is also a cap: reads never go past it, so a file
     * that grows while it is sent fails as changed. */
    if (f->size > ION_MAX_PUT_SIZE)
        return ION_PUT_TOO_BIG;
#ifdef POSIX_FADV_SEQUENTIAL
    (void)posix_fadvise(f->fd, 0, 0, POSIX_FADV_SEQUENTIAL); /* a hint; failure is harmless */
#endif
    return 0;
}

const char *ion_file_kind(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

static int same_time(struct timespec a, struct timespec b)
{
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* The file must still be the size we announced, and unwritten (a rewrite in
 * place keeps the size but moves mtime), once it has been read. Not ctime:
 * a rename, chmod or unlink while it is sent leaves the bytes as they were. */
int ion_put_file_changed(const ion_put_file *f)
{
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        return 1;
    return (int64_t)st.st_size != f->size || !same_time(st.st_mtim, f->mtime);
}

/* Reads up to want bytes; returns the count or sets *fail. */
static size_t read_exact(ion_put_file *f, char *buf, size_t want, int *fail, int *err)
{
    size_t got = 0;
    while (got < want) {
        ssize_t n = read(f->fd, buf + got, want - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *fail = ION_RF_READ;
            *err = errno;
            break;
        }
        if (n == 0) { /* shorter than its size: truncated while we read it */
            *fail = ION_RF_CHANGED;
            break;
        }
        got += (size_t)n;
    }
    return got;
}

size_t ion_put_file_read(ion_put_file *f, char *buf, size_t want, int *fail, int *err)
{
    size_t got;
    if ((int64_t)want > f->size - f->read)
        want = (size_t)(f->size - f->read);
    if (want == 0)
        return 0;
    got = read_exact(f, buf, want, fail, err);
    if (*fail)
        return got;
    if ((f->md && EVP_DigestUpdate(f->md, buf, got) != 1) ||
        (f->sha && EVP_DigestUpdate(f->sha, buf, got) != 1)) {
        *fail = ION_RF_HASH;
        return got;
    }
    f->read += (int64_t)got;
    if (f->read == f->size && ion_put_file_changed(f))
        *fail = ION_RF_CHANGED;
    return got;
}

int ion_put_file_rewind(ion_put_file *f)
{
    if (lseek(f->fd, 0, SEEK_SET) != 0)
        return -1;
    if (f->md && EVP_DigestInit_ex(f->md, EVP_md5(), NULL) != 1)
        return -1;
    if (f->sha && EVP_DigestInit_ex(f->sha, EVP_sha256(), NULL) != 1)
        return -1;
    f->read = 0;
    return 0;
}

void ion_put_file_close(ion_put_file *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

void ion_put_file_free(ion_put_file *f)
{
    ion_put_file_close(f);
    EVP_MD_CTX_free(f->md);
    EVP_MD_CTX_free(f->sha);
    f->md = f->sha = NULL;
}
