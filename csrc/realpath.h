/* core.realpath's folder cache (realpath.c): one per Lua state. No Lua here. */
#ifndef ION_REALPATH_H
#define ION_REALPATH_H

#include <limits.h>
#include <sys/types.h>

#include "hidden.h"

typedef struct {
    int valid;
    dev_t dev;
    ino_t ino;
    char dir[PATH_MAX];  /* the folder as given */
    char real[PATH_MAX]; /* its realpath */
} ion_realpath_cache;
/* 1 and out (PATH_MAX bytes) = path's realpath; 0: call realpath(3) */
ION_HIDDEN int ion_realpath_cached(ion_realpath_cache *c, const char *path, char *out);
/* the same for a path that lstat just found is no symbolic link */
ION_HIDDEN int ion_realpath_of_unlinked(ion_realpath_cache *c, const char *path, char *out);

#endif
