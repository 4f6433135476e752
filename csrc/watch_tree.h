/* A hot folder's watch over Linux inotify (watch_tree.c): a watch on every
 * folder of the tree, the table from watch descriptors to paths, and the
 * queue of what happened. No Lua here: lua_watch.c is its Lua face,
 * core.watcher. Linux only; elsewhere core.watcher answers "unsupported". */
#ifndef ION_WATCH_TREE_H
#define ION_WATCH_TREE_H

#ifdef __linux__

#include <limits.h>
#include <stddef.h>

#include "hidden.h"

typedef struct {
    int wd;
    char *rel; /* "" for the root, "a/b" below it */
} ion_watch_dir;

typedef struct {
    const char *kind; /* "file", "dir", "overflow", "gone", "error" */
    char *path;
    const char *code; /* errors only */
    char *message;
    const char *hint;
} ion_watch_event;

typedef struct {
    int fd; /* the inotify descriptor, -1 once closed */
    int closed, gone;
    char *root;
    ion_watch_dir *dirs; /* sorted by wd: the kernel hands out increasing wds */
    size_t ndirs, capdirs, max_watches;
    ion_watch_event *q;
    size_t nq, capq;
} ion_watcher;

/* Why a watch could not be added, as a code and message; hint may be NULL. */
typedef struct {
    const char *code, *hint;
    int err; /* errno, -1 for our own cap */
    char message[PATH_MAX + 200];
} ion_watch_failure;

/* Watches root (absolute, without links) and every folder below, into w
 * (zeroed, fd -1). 0, or -1 with f set: root itself could not be watched,
 * or a limit was reached. A subfolder that could not be watched for another
 * reason is queued as an "error" event. */
ION_HIDDEN int ion_watch_start(ion_watcher *w, const char *root, size_t max_watches,
                               ion_watch_failure *f);
/* Moves what inotify has into w->q (at most about 4096 events a call; the
 * rest waits in the kernel). Never blocks. 0, or an errno. */
ION_HIDDEN int ion_watch_drain(ion_watcher *w);
/* Empties w->q (the events have been read). */
ION_HIDDEN void ion_watch_clear(ion_watcher *w);
/* Closes the descriptor (every watch goes with it) and frees the rest. */
ION_HIDDEN void ion_watch_close(ion_watcher *w);

#endif
#endif
