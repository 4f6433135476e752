/* A self-pipe (selfpipe.h). */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "selfpipe.h"

int ion_selfpipe_open(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    for (int i = 0; i < 2; i++)
        if (fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK) != 0 ||
            fcntl(fds[i], F_SETFD, FD_CLOEXEC) != 0) {
            int e = errno;
            close(fds[0]);
            close(fds[1]);
            fds[0] = fds[1] = -1;
            errno = e;
            return -1;
        }
    return 0;
}

void ion_selfpipe_poke(int wfd)
{
    int saved = errno;
    ssize_t r = write(wfd, "!", 1);
    (void)r;
    errno = saved;
}

void ion_selfpipe_drain(int rfd)
{
    char buf[64];
    ssize_t n;
    do
        n = read(rfd, buf, sizeof buf);
    while (n > 0 || (n < 0 && errno == EINTR));
}
