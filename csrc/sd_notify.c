/* systemd's notify protocol (sd_notify.h). */
#define _DEFAULT_SOURCE /* SOCK_CLOEXEC, SOCK_NONBLOCK, MSG_NOSIGNAL */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sd_notify.h"

int ion_sd_notify(const char *socket_name, const char *msg, size_t len)
{
    struct sockaddr_un sa;
    size_t n = strlen(socket_name);
    if (n < 2 || (socket_name[0] != '/' && socket_name[0] != '@') || n >= sizeof sa.sun_path)
        return EINVAL;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, socket_name, n);
    /* an abstract name starts with a NUL and has no terminating one */
    if (socket_name[0] == '@')
        sa.sun_path[0] = '\0';
    socklen_t salen =
        (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (socket_name[0] == '/'));
    /* a socket a message, as libsystemd does: nothing is held open between
     * the pings, and no descriptor leaks into a child */
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return errno;
    ssize_t r;
    do
        r = sendto(fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT, (struct sockaddr *)&sa, salen);
    while (r < 0 && errno == EINTR);
    int e = r < 0 ? errno : 0;
    close(fd);
    return e;
}

unsigned long long ion_sd_watchdog_usec(void)
{
    const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
    char *end;
    if (!usec || !*usec)
        return 0;
    if (pid && *pid) {
        errno = 0;
        unsigned long p = strtoul(pid, &end, 10);
        if (errno != 0 || *end != '\0' || p != (unsigned long)getpid())
            return 0;
    }
    errno = 0;
    unsigned long long v = strtoull(usec, &end, 10);
    if (errno != 0 || *end != '\0' || usec[0] == '-')
        return 0;
    return v;
}
