/* A loopback HTTP sink for the PUT benchmark: accepts PUTs one connection
 * at a time, discards the body and answers 200. It must never be the
 * bottleneck, so the body is dropped in the kernel with recv(MSG_TRUNC),
 * which on Linux TCP discards queued bytes without copying them.
 * Prints "PORT <n>" once listening. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static long long content_length(const char *h)
{
    const char *p = h;
    while ((p = strcasestr(p, "\ncontent-length:")) != NULL) {
        p += 16;
        return atoll(p);
    }
    return 0;
}

static int send_all(int fd, const char *s)
{
    size_t n = strlen(s), off = 0;
    while (off < n) {
        ssize_t w = send(fd, s + off, n - off, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    return 0;
}

static void serve(int fd)
{
    static char buf[1 << 16];
    size_t have = 0;
    for (;;) {
        char *end;
        long long left;
        ssize_t n;
        /* headers */
        while ((end = memmem(buf, have, "\r\n\r\n", 4)) == NULL) {
            if (have == sizeof buf - 1)
                return;
            n = recv(fd, buf + have, sizeof buf - 1 - have, 0);
            if (n <= 0)
                return;
            have += (size_t)n;
        }
        buf[have] = '\0';
        *end = '\0';
        left = content_length(buf);
        if (strcasestr(buf, "\nexpect: 100-continue") && send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n"))
            return;
        {
            size_t hl = (size_t)(end + 4 - buf), extra = have - hl;
            if ((long long)extra > left)
                extra = (size_t)left; /* pipelined data: not expected here */
            left -= (long long)extra;
            have = 0;
        }
        while (left > 0) {
            size_t want = left > (1 << 30) ? (1 << 30) : (size_t)left;
            n = recv(fd, NULL, want, MSG_TRUNC);
            if (n <= 0)
                return;
            left -= n;
        }
        if (send_all(fd, "HTTP/1.1 200 OK\r\nETag: \"0\"\r\nContent-Length: 0\r\n\r\n"))
            return;
    }
}

int main(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int one = 1, big = 8 << 20;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 16) ||
        getsockname(s, (struct sockaddr *)&a, &al)) {
        perror("sink");
        return 1;
    }
    printf("PORT %d\n", ntohs(a.sin_port));
    fflush(stdout);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        serve(c);
        close(c);
    }
}
