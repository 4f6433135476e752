/* A PUT's read-ahead ring (put_ring.c): a reader thread reads the file and
 * hashes it into a few slots while libcurl sends the ones before, so that on
 * two cores hashing and sending overlap. No Lua and no libcurl here. */
#ifndef ION_PUT_RING_H
#define ION_PUT_RING_H

#include <pthread.h>
#include <stddef.h>

#include "hidden.h"
#include "put_file.h"

#define ION_RING_SLOTS 4
#ifndef ION_SLOT_SIZE
#define ION_SLOT_SIZE ((size_t)512 * 1024)
#endif

/* ion_ring_take's answer when no slot is full and it must not wait. */
#define ION_RING_WAIT ((size_t)-1)

typedef struct {
    ion_put_file *file; /* read by the thread while it runs, by the caller after */
    int sync_ready, thread_on;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv_full, cv_free;
    char *arena; /* the slots: mapped while the thread runs, else NULL */
    size_t slot_len[ION_RING_SLOTS];
    int slot_full[ION_RING_SLOTS];
    unsigned rd, wr;
    size_t rd_off;
    int64_t taken; /* bytes the caller took out since the start */
    int stop, rfail, rerrno;
    /* Inside a session the read callback never waits for the reader: it
     * pauses the transfer, and the reader writes to the session's wake pipe
     * when a slot is full (so a step returns on time however slow the disk
     * or the MD5, and a host sleeping on fds() wakes up). */
    int want_wake;
    int wake_fd;
} ion_ring;

/* The lock and conditions: 0, or -1 (no ring: read without one). */
ION_HIDDEN int ion_ring_init(ion_ring *r, ion_put_file *f);
/* Maps the slots and starts the reader at the file's position: 0 or -1. */
ION_HIDDEN int ion_ring_start(ion_ring *r);
/* Joins the reader and unmaps the slots; the next start begins afresh. */
ION_HIDDEN void ion_ring_stop(ion_ring *r);
ION_HIDDEN void ion_ring_free(ion_ring *r);
/* Copies up to room bytes out of the full slots into buf: the count, with
 * *fail and *err set when the reader failed. With no slot full and nothing
 * copied it waits for the reader, or, given a wake_fd (>= 0), returns
 * ION_RING_WAIT at once and the reader pokes wake_fd when it fills one. */
ION_HIDDEN size_t ion_ring_take(ion_ring *r, char *buf, size_t room, int wake_fd, int *fail,
                                int *err);
/* Whether a take would find bytes (or the reader's failure) now. */
ION_HIDDEN int ion_ring_ready(ion_ring *r);

#endif
