/* The session's bandwidth cap, limit_rate (rate.c): one token bucket
 * shared by a session's PUTs and downloads. No Lua here. */
#ifndef ION_RATE_H
#define ION_RATE_H

#include "xfer.h"

ION_HIDDEN int ion_rate_limited(const ion_xfer *x);
ION_HIDDEN void ion_rate_refill(ion_session *s, double now);
ION_HIDDEN size_t ion_rate_allow(ion_xfer *x, size_t room);
ION_HIDDEN void ion_rate_spend(ion_xfer *x, size_t n);
ION_HIDDEN void ion_rate_resume(ion_session *s);
ION_HIDDEN double ion_rate_wait(const ion_session *s, double now);

#endif
