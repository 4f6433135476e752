/* A PUT's read-ahead ring (put_ring.h). */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS is not in POSIX 2008 */
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

#include "put_ring.h"
#include "selfpipe.h"

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

int ion_ring_init(ion_ring *r, ion_put_file *f)
{
    memset(r, 0, sizeof *r);
    r->file = f;
    r->wake_fd = -1;
    if (pthread_mutex_init(&r->mu, NULL) != 0)
        return -1;
    if (pthread_cond_init(&r->cv_full, NULL) != 0) {
        pthread_mutex_destroy(&r->mu);
        return -1;
    }
    if (pthread_cond_init(&r->cv_free, NULL) != 0) {
        pthread_cond_destroy(&r->cv_full);
        pthread_mutex_destroy(&r->mu);
        return -1;
    }
    r->sync_ready = 1;
    return 0;
}

static void *reader_main(void *ud)
{
    ion_ring *r = ud;
    ion_put_file *f = r->file;
    for (;;) {
        unsigned w;
        size_t got;
        int fail = ION_RF_NONE, err = 0, last, wake;

        pthread_mutex_lock(&r->mu);
        while (!r->stop && r->slot_full[r->wr])
            pthread_cond_wait(&r->cv_free, &r->mu);
        if (r->stop) {
            pthread_mutex_unlock(&r->mu);
            break;
        }
        w = r->wr;
        pthread_mutex_unlock(&r->mu);

        /* the slot is ours until we mark it full */
        got =
            ion_put_file_read(f, r->arena + (size_t)w * ION_SLOT_SIZE, ION_SLOT_SIZE, &fail, &err);
        last = fail || f->read == f->size;

        pthread_mutex_lock(&r->mu);
        r->slot_len[w] = got;
        r->slot_full[w] = 1;
        r->wr = (w + 1) % ION_RING_SLOTS;
        if (fail) {
            r->rfail = fail;
            r->rerrno = err;
        }
        pthread_cond_signal(&r->cv_full);
        wake = r->want_wake ? r->wake_fd : -1;
        r->want_wake = 0;
        pthread_mutex_unlock(&r->mu);
        /* The session's pipe outlives this thread: the PUT's end joins it
         * first. */
        if (wake >= 0)
            ion_selfpipe_poke(wake);
        if (last)
            break;
    }
    return NULL;
}

/* The slots are mapped for their PUT and unmapped at its end, never
 * malloc'd: glibc serves a 2 MiB malloc with mmap only until the first one
 * is freed, then raises its mmap threshold and serves the next ones from
 * the heap, where the freed rings stayed resident (+8 MiB over 800 PUTs,
 * measured in spec/integration/leaks_spec.lua). An unmapped ring goes back
 * at once. */
int ion_ring_start(ion_ring *r)
{
    sigset_t all, old;
    int rc;
    void *m = mmap(NULL, (size_t)ION_RING_SLOTS * ION_SLOT_SIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return -1;
    r->arena = m;
    /* Signals (SIGINT for core.catch_interrupt) belong to the Lua thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&r->thread, NULL, reader_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        ion_ring_stop(r);
        return -1;
    }
    r->thread_on = 1;
    return 0;
}

void ion_ring_stop(ion_ring *r)
{
    if (r->thread_on) {
        pthread_mutex_lock(&r->mu);
        r->stop = 1;
        pthread_cond_broadcast(&r->cv_free);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->thread, NULL);
        r->thread_on = 0;
    }
    if (r->arena != NULL)
        (void)munmap(r->arena, (size_t)ION_RING_SLOTS * ION_SLOT_SIZE);
    r->arena = NULL;
    memset(r->slot_full, 0, sizeof r->slot_full);
    r->rd = r->wr = 0;
    r->rd_off = 0;
    r->taken = 0;
    r->stop = r->rfail = r->rerrno = 0;
    r->want_wake = 0;
}

void ion_ring_free(ion_ring *r)
{
    ion_ring_stop(r);
    if (r->sync_ready) {
        pthread_cond_destroy(&r->cv_free);
        pthread_cond_destroy(&r->cv_full);
        pthread_mutex_destroy(&r->mu);
        r->sync_ready = 0;
    }
}

size_t ion_ring_take(ion_ring *r, char *buf, size_t room, int wake_fd, int *fail, int *err)
{
    size_t out = 0;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        size_t n;
        unsigned rd = r->rd;
        if (r->rfail) {
            *fail = r->rfail;
            *err = r->rerrno;
            break;
        }
        if (out == room || r->taken + (int64_t)out >= r->file->size)
            break;
        if (!r->slot_full[rd]) {
            if (out > 0) /* send what we have rather than wait */
                break;
            if (wake_fd >= 0) {
                r->want_wake = 1;
                r->wake_fd = wake_fd;
                pthread_mutex_unlock(&r->mu);
                return ION_RING_WAIT;
            }
            pthread_cond_wait(&r->cv_full, &r->mu);
            continue;
        }
        pthread_mutex_unlock(&r->mu);
        /* a full slot belongs to this thread until it is marked free */
        n = r->slot_len[rd] - r->rd_off;
        if (n > room - out)
            n = room - out;
        memcpy(buf + out, r->arena + (size_t)rd * ION_SLOT_SIZE + r->rd_off, n);
        out += n;
        r->rd_off += n;
        pthread_mutex_lock(&r->mu);
        if (r->rd_off == r->slot_len[rd]) {
            r->slot_full[rd] = 0;
            r->rd = (rd + 1) % ION_RING_SLOTS;
            r->rd_off = 0;
            pthread_cond_signal(&r->cv_free);
        }
    }
    pthread_mutex_unlock(&r->mu);
    r->taken += (int64_t)out;
    return out;
}

int ion_ring_ready(ion_ring *r)
{
    int ready;
    if (!r->thread_on)
        return 1;
    pthread_mutex_lock(&r->mu);
    ready = r->slot_full[r->rd] || r->rfail;
    pthread_mutex_unlock(&r->mu);
    return ready;
}
