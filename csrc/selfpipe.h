/* A self-pipe: a byte written to one end wakes a poll() on the other. The
 * caught signals (signals.c) and a session's paused PUTs (session.c) each
 * have one. No Lua here. */
#ifndef ION_SELFPIPE_H
#define ION_SELFPIPE_H

#include "hidden.h"

/* fds[0] to poll, fds[1] to poke; both non-blocking and close-on-exec.
 * 0, or -1 with errno set (nothing left open). */
ION_HIDDEN int ion_selfpipe_open(int fds[2]);
/* One byte written: async-signal-safe, errno kept. A full pipe is readable
 * already, so nothing is lost when the write fails. */
ION_HIDDEN void ion_selfpipe_poke(int wfd);
/* Reads the pipe empty. */
ION_HIDDEN void ion_selfpipe_drain(int rfd);

#endif
