/* The monotonic clock, and seconds as milliseconds (clock.h). */
#include <math.h>
#include <time.h>

#include "clock.h"

double ion_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long ion_ms(double seconds, long max_ms)
{
    double ms;
    if (!(seconds > 0)) /* NaN too */
        return 0;
    ms = ceil(seconds * 1000); /* infinity stays infinity: max_ms */
    return ms < (double)max_ms ? (long)ms : max_ms;
}
