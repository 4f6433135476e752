/* The signals the core catches (signals.c): SIGINT and SIGTERM as a stop
 * flag, SIGHUP as a reload flag, and a self-pipe that each handler pokes.
 * Process-wide, as signals are. No Lua here: lua_signals.c is their Lua
 * face. */
#ifndef ION_SIGNALS_H
#define ION_SIGNALS_H

#include "hidden.h"

/* NULL, or what failed ("pipe", "sigaction") with errno set. */
ION_HIDDEN const char *ion_catch_interrupt(void);
ION_HIDDEN const char *ion_catch_hangup(void);
/* whether a SIGINT or SIGTERM came since ion_catch_interrupt (never cleared) */
ION_HIDDEN int ion_interrupted(void);
/* whether a SIGHUP came since the last call (several count as one) */
ION_HIDDEN int ion_hangup_taken(void);
/* The self-pipe's read end, to poll beside other descriptors (-1 before
 * the first catch), and its drain once it has been seen readable. */
ION_HIDDEN int ion_signal_fd(void);
ION_HIDDEN void ion_signal_drain(void);

#endif
