/* The session's bandwidth cap (limit_rate): one token bucket shared by every
 * PUT and download in the session, so that four transfers under 2 MiB/s
 * move 2 MiB/s together, not 2 MiB/s each. GraphQL requests are not capped.
 *
 * Fairness: the tokens are not a pool the first transfer libcurl serves can
 * drain. Each transfer holds its own credit; the session hands the tokens that
 * accrued since the last refill out in equal shares to the transfers below
 * their cap, and what a full transfer cannot take goes to the others (water
 * filling). A transfer that waits for its disk or its server keeps at most
 * its cap; one that sends takes the rest. When the credit is gone, the read
 * (PUT) or write (download) callback pauses the transfer; the session resumes
 * it once the credit is worth a send again and sleeps in poll until then. */
#include <math.h>

#include "rate.h"

/* The bucket holds about 1/10 s of the rate (at least 64 KiB, unless the
 * rate is lower): the largest burst the whole session may send. */
#define ION_RATE_BURST_SECONDS 0.1
#define ION_RATE_MIN_DEPTH (64.0 * 1024)
/* A transfer's own cap never falls below one 16 KiB send. */
#define ION_RATE_MIN_CAP (16.0 * 1024)

int ion_rate_limited(const ion_xfer *x)
{
    return x->kind != ION_KIND_REQUEST && x->sess != NULL && x->sess->rate > 0;
}

static double depth(const ion_session *s)
{
    double d = s->rate * ION_RATE_BURST_SECONDS;
    double floor_ = s->rate < ION_RATE_MIN_DEPTH ? s->rate : ION_RATE_MIN_DEPTH;
    return d > floor_ ? d : floor_;
}

static double cap_for(const ion_session *s, int n)
{
    double d = depth(s), share = d / (n > 0 ? n : 1);
    double floor_ = d < ION_RATE_MIN_CAP ? d : ION_RATE_MIN_CAP;
    return share > floor_ ? share : floor_;
}

static int count_limited(const ion_session *s)
{
    int n = 0;
    for (const ion_xfer *x = s->active; x; x = x->next)
        if (ion_rate_limited(x))
            n++;
    return n;
}

/* Credit worth resuming for: half the cap, so that a resumed transfer sends
 * a useful block rather than a few bytes at each wake-up. */
static double resume_at(const ion_session *s, int n)
{
    return cap_for(s, n) / 2;
}

void ion_rate_refill(ion_session *s, double now)
{
    double t, cap;
    int n;
    if (s->rate <= 0)
        return;
    t = s->rate * (now - s->rate_at);
    s->rate_at = now;
    n = count_limited(s);
    s->rate_block = resume_at(s, n);
    if (!(t > 0) || n == 0) /* nobody to hand tokens to: they are lost */
        return;
    cap = cap_for(s, n);
    /* Each pass either spends t or fills one more transfer to its cap. */
    for (int pass = 0; pass < n && t > 1e-9; pass++) {
        int open = 0;
        double share;
        for (ion_xfer *x = s->active; x; x = x->next)
            if (ion_rate_limited(x) && x->credit < cap)
                open++;
        if (open == 0)
            break;
        share = t / open;
        for (ion_xfer *x = s->active; x; x = x->next) {
            double give;
            if (!ion_rate_limited(x) || x->credit >= cap)
                continue;
            give = cap - x->credit < share ? cap - x->credit : share;
            x->credit += give;
            t -= give;
        }
    }
}

/* How many of room bytes x may move now; 0 means none: x is marked paused
 * by the cap and its callback must return the pause code. A transfer moves
 * a block worth a send (room, or the resume mark) or nothing: otherwise each
 * loop of the session would dribble out the few bytes that accrued since the
 * last one, never sleeping. */
size_t ion_rate_allow(ion_xfer *x, size_t room)
{
    double block = x->sess->rate_block < (double)room ? x->sess->rate_block : (double)room;
    if (x->credit < block || x->credit < 1) {
        x->rate_paused = 1;
        return 0;
    }
    return (double)room < x->credit ? room : (size_t)x->credit;
}

/* A download takes a whole block or pauses, so its credit may go below 0:
 * the debt is paid from the next refills. */
void ion_rate_spend(ion_xfer *x, size_t n)
{
    x->credit -= (double)n;
}

void ion_rate_resume(ion_session *s)
{
    double at;
    if (s->rate <= 0)
        return;
    at = resume_at(s, count_limited(s));
    for (ion_xfer *x = s->active; x; x = x->next)
        if (x->rate_paused && x->credit >= at) {
            x->rate_paused = 0;
            (void)curl_easy_pause(x->easy, CURLPAUSE_CONT);
        }
}

/* Seconds until a transfer paused by the cap may be resumed (0: now), or
 * HUGE_VAL when none is. Reads the clock's tokens without handing them out,
 * as if the next refill split them equally among the transfers below cap. */
double ion_rate_wait(const ion_session *s, double now)
{
    double cap, at, pending, best = HUGE_VAL;
    int n, open = 0;
    if (s->rate <= 0)
        return HUGE_VAL;
    n = count_limited(s);
    cap = cap_for(s, n);
    at = cap / 2;
    for (const ion_xfer *x = s->active; x; x = x->next)
        if (ion_rate_limited(x) && x->credit < cap)
            open++;
    if (open == 0)
        open = 1;
    pending = now > s->rate_at ? s->rate * (now - s->rate_at) / open : 0;
    for (const ion_xfer *x = s->active; x; x = x->next)
        if (x->rate_paused) {
            double need = at - x->credit - pending;
            if (need < best)
                best = need;
        }
    if (best == HUGE_VAL)
        return HUGE_VAL;
    return best <= 0 ? 0 : best * open / s->rate;
}
