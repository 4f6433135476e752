/* systemd's notify protocol without libsystemd: one datagram a message to
 * the socket $NOTIFY_SOCKET names. No Lua here. */
#ifndef ION_SD_NOTIFY_H
#define ION_SD_NOTIFY_H

#include <stddef.h>

#include "hidden.h"

/* Sends msg (len bytes, e.g. "READY=1" or "WATCHDOG=1") to socket: a path,
 * or an abstract name written "@name". Never blocks: a receiver whose queue
 * is full costs EAGAIN, not a wait. 0, or an errno (EINVAL for a socket
 * name that is neither). */
ION_HIDDEN int ion_sd_notify(const char *socket, const char *msg, size_t len);

/* The watchdog's interval in microseconds ($WATCHDOG_USEC), when it is
 * meant for this process ($WATCHDOG_PID unset or ours); 0 otherwise. */
ION_HIDDEN unsigned long long ion_sd_watchdog_usec(void);

#endif
