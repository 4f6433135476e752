/* The monotonic clock, and seconds as the milliseconds poll() and libcurl
 * take. No Lua here. */
#ifndef ION_CLOCK_H
#define ION_CLOCK_H

#include "hidden.h"

/* Seconds since an arbitrary point, never going back. */
ION_HIDDEN double ion_now(void);

/* Seconds as whole milliseconds, rounded up, at most max_ms; 0 for none,
 * a negative time or NaN. Up, so that a positive time never becomes 0
 * (to poll() a busy loop, to libcurl "no timeout at all") and no wait ends
 * before its time. */
ION_HIDDEN long ion_ms(double seconds, long max_ms);

#endif
