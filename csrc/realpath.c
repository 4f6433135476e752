/* The realpath of many files in few folders (a back-fill's journal keys:
 * lua/ion/upload/engine/items.lua). glibc's realpath(3) readlinks every
 * component of every path: eight system calls for a file eight folders
 * deep, 800,000 for a rerun over 100,000 files. A file that is not itself
 * a symbolic link has its folder's realpath plus its name, so the folder's
 * realpath is kept with the folder's device and inode, and a path in the
 * same folder costs an lstat of the file and a stat of the folder. The stat
 * catches a folder path that now leads elsewhere (a symlink retargeted, a
 * folder replaced): another inode, so realpath again. */
#define _DEFAULT_SOURCE /* realpath() is XSI, not POSIX base */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "realpath.h"

/* The folder part of path, and whether the name after it can be joined to
 * the folder's realpath as it is (not "", ".", ".."). */
static const char *name_of(const char *path, size_t *dir_len)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return NULL; /* "name" or "/name": realpath(3) is cheap there */
    const char *name = slash + 1;
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return NULL;
    *dir_len = (size_t)(slash - path);
    return name;
}

int ion_realpath_cached(ion_realpath_cache *c, const char *path, char *out)
{
    struct stat st;
    if (lstat(path, &st) != 0 || S_ISLNK(st.st_mode))
        return 0;
    return ion_realpath_of_unlinked(c, path, out);
}

int ion_realpath_of_unlinked(ion_realpath_cache *c, const char *path, char *out)
{
    size_t dir_len = 0;
    const char *name = name_of(path, &dir_len);
    struct stat ds;
    if (!name || dir_len >= PATH_MAX)
        return 0;
    char dir[PATH_MAX];
    memcpy(dir, path, dir_len);
    dir[dir_len] = '\0';
    if (stat(dir, &ds) != 0)
        return 0;
    if (!c->valid || strcmp(c->dir, dir) != 0 || c->dev != ds.st_dev || c->ino != ds.st_ino) {
        c->valid = 0;
        if (realpath(dir, c->real) == NULL)
            return 0;
        memcpy(c->dir, dir, dir_len + 1);
        c->dev = ds.st_dev;
        c->ino = ds.st_ino;
        c->valid = 1;
    }
    size_t real_len = strlen(c->real), name_len = strlen(name);
    if (real_len + 1 + name_len >= PATH_MAX)
        return 0;
    memcpy(out, c->real, real_len);
    if (real_len > 1) /* the root's realpath is "/" already */
        out[real_len++] = '/';
    memcpy(out + real_len, name, name_len + 1);
    return 1;
}
