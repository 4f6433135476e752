/* The signals the core catches (signals.h). */
#include <signal.h>
#include <string.h>

#include "selfpipe.h"
#include "signals.h"

/* Process-wide state, besides curl_global_init the only: a signal handler
 * can only reach a global, and a signal belongs to the process, not to one
 * lua_State. */
static volatile sig_atomic_t interrupted_flag = 0;
static volatile sig_atomic_t hangup_flag = 0;

/* Each handler pokes it and core.poll waits on it too: a signal that lands
 * after a loop looked at its flags but before its poll() began would
 * otherwise not wake that poll, so the loop could not sleep longer than it
 * can afford to be late; with the pipe, an idle watcher sleeps until
 * something is due. */
static int signal_pipe[2] = {-1, -1};

static int open_signal_pipe(void)
{
    int p[2];
    if (signal_pipe[0] >= 0)
        return 0;
    if (ion_selfpipe_open(p) != 0)
        return -1;
    signal_pipe[0] = p[0];
    signal_pipe[1] = p[1];
    return 0;
}

/* sig's action: fn (or SIG_DFL) with flags, `mask` blocked while fn runs
 * (NULL: none but sig). Async-signal-safe: a handler resets with it. */
static int set_action(int sig, void (*fn)(int), int flags, const sigset_t *mask)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    if (mask)
        sa.sa_mask = *mask;
    else
        sigemptyset(&sa.sa_mask);
    sa.sa_flags = flags;
    return sigaction(sig, &sa, NULL);
}

static void poke(void)
{
    if (signal_pipe[1] >= 0)
        ion_selfpipe_poke(signal_pipe[1]);
}

/* The first SIGINT or SIGTERM sets the flag and puts both back to their
 * default action, so that a second one, of either kind (SIGINT after
 * SIGTERM too), ends the process at once: the graceful stop is asked for
 * once. */
static void on_interrupt(int sig)
{
    (void)sig;
    interrupted_flag = 1;
    (void)set_action(SIGINT, SIG_DFL, 0, NULL);
    (void)set_action(SIGTERM, SIG_DFL, 0, NULL);
    poke();
}

/* No SA_RESTART, so a blocking poll wakes up. Both signals are blocked
 * while the handler runs: the second one is then delivered after the reset
 * above, to the default action. */
const char *ion_catch_interrupt(void)
{
    sigset_t both;
    if (open_signal_pipe() != 0)
        return "pipe";
    sigemptyset(&both);
    sigaddset(&both, SIGINT);
    sigaddset(&both, SIGTERM);
    if (set_action(SIGINT, on_interrupt, 0, &both) != 0 ||
        set_action(SIGTERM, on_interrupt, 0, &both) != 0)
        return "sigaction";
    return NULL;
}

int ion_interrupted(void)
{
    return interrupted_flag != 0;
}

/* SIGHUP asks a long-running watcher to reload its rules: a flag, as for
 * SIGINT, that core.hangup() reads and clears. */
static void on_hangup(int sig)
{
    (void)sig;
    hangup_flag = 1;
    poke();
}

const char *ion_catch_hangup(void)
{
    if (open_signal_pipe() != 0)
        return "pipe";
    /* SA_RESTART: a reload can wait for the next turn of the loop */
    if (set_action(SIGHUP, on_hangup, SA_RESTART, NULL) != 0)
        return "sigaction";
    return NULL;
}

int ion_hangup_taken(void)
{
    int was = hangup_flag != 0;
    hangup_flag = 0;
    return was;
}

int ion_signal_fd(void)
{
    return signal_pipe[0];
}

void ion_signal_drain(void)
{
    if (signal_pipe[0] >= 0)
        ion_selfpipe_drain(signal_pipe[0]);
}
