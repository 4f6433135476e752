/* A hot folder's watch over Linux inotify (watch_tree.h). Reports files
 * closed after writing (IN_CLOSE_WRITE) or moved in (IN_MOVED_TO),
 * recursively: every subfolder present at start and each new one gets a
 * watch.
 *
 * The race of a new subfolder: files can be written into it between its
 * creation and our inotify_add_watch, and no event tells of them. So the
 * watch is added first and the folder is scanned after: a file closed before
 * the watch existed is found by the scan, one closed after gets an event.
 * A file may be reported twice (by both, or while still open when the scan
 * saw it); the caller settles by size and mtime and dedups by identity. */
#define _DEFAULT_SOURCE /* DT_* and dirfd() */
#include "watch_tree.h"

#ifdef __linux__

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files and the folder structure; DONT_FOLLOW and ONLYDIR so a subfolder
 * swapped for a symbolic link after our lstat is refused, never followed. */
#define DIR_MASK                                                                                   \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF |    \
     IN_ONLYDIR | IN_DONT_FOLLOW | IN_EXCL_UNLINK)

/* Bounds what one read() holds in memory; the rest waits in the kernel. */
#define MAX_EVENTS_PER_READ 4096

#define LIMIT_HINT                                                                                 \
    "raise /proc/sys/fs/inotify/max_user_watches (sysctl fs.inotify.max_user_watches=524288), "    \
    "watch a smaller tree, or poll instead"
/* ---- the wd table ------------------------------------------------------ */

static size_t find_slot(const ion_watcher *w, int wd, int *found)
{
    size_t lo = 0, hi = w->ndirs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->dirs[mid].wd < wd)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < w->ndirs && w->dirs[lo].wd == wd;
    return lo;
}

static const char *rel_of(const ion_watcher *w, int wd)
{
    int found;
    size_t i = find_slot(w, wd, &found);
    return found ? w->dirs[i].rel : NULL;
}

/* Returns 1 when wd was new, 0 when it was known (its path updated), -1 on
 * out of memory. */
static int remember(ion_watcher *w, int wd, const char *rel)
{
    int found;
    size_t i = find_slot(w, wd, &found);
    char *copy = strdup(rel);
    if (copy == NULL)
        return -1;
    if (found) {
        int same = strcmp(w->dirs[i].rel, rel) == 0;
        free(w->dirs[i].rel);
        w->dirs[i].rel = copy;
        return same ? 0 : 1;
    }
    if (w->ndirs == w->capdirs) {
        size_t cap = w->capdirs ? w->capdirs * 2 : 16;
        ion_watch_dir *d = realloc(w->dirs, cap * sizeof *d);
        if (d == NULL) {
            free(copy);
            return -1;
        }
        w->dirs = d;
        w->capdirs = cap;
    }
    memmove(&w->dirs[i + 1], &w->dirs[i], (w->ndirs - i) * sizeof *w->dirs);
    w->dirs[i].wd = wd;
    w->dirs[i].rel = copy;
    w->ndirs++;
    return 1;
}

static void forget_at(ion_watcher *w, size_t i)
{
    free(w->dirs[i].rel);
    memmove(&w->dirs[i], &w->dirs[i + 1], (w->ndirs - i - 1) * sizeof *w->dirs);
    w->ndirs--;
}

static void forget(ion_watcher *w, int wd)
{
    int found;
    size_t i = find_slot(w, wd, &found);
    if (found)
        forget_at(w, i);
}

/* A subtree moved away: its watches go (rel itself and everything below). */
static void forget_subtree(ion_watcher *w, const char *rel)
{
    size_t n = strlen(rel), i = 0;
    while (i < w->ndirs) {
        const char *r = w->dirs[i].rel;
        if (strncmp(r, rel, n) == 0 && (r[n] == '\0' || r[n] == '/')) {
            (void)inotify_rm_watch(w->fd, w->dirs[i].wd);
            forget_at(w, i);
        } else {
            i++;
        }
    }
}

/* ---- the event queue ---------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Out of memory drops the event: the caller's next rescan finds the file. */
static void queue(ion_watcher *w, const char *kind, const char *path, const char *code,
                  const char *message, const char *hint)
{
    ion_watch_event *e;
    if (w->nq == w->capq) {
        size_t cap = w->capq ? w->capq * 2 : 32;
        ion_watch_event *q = realloc(w->q, cap * sizeof *q);
        if (q == NULL)
            return;
        w->q = q;
        w->capq = cap;
    }
    e = &w->q[w->nq];
    e->kind = kind;
    e->path = dup_or_null(path);
    e->code = code;
    e->message = dup_or_null(message);
    e->hint = hint;
    if ((path && !e->path) || (message && !e->message)) {
        free(e->path);
        free(e->message);
        return;
    }
    w->nq++;
}

static void free_event(ion_watch_event *e)
{
    free(e->path);
    free(e->message);
    e->path = e->message = NULL;
}

void ion_watch_clear(ion_watcher *w)
{
    for (size_t i = 0; i < w->nq; i++)
        free_event(&w->q[i]);
    w->nq = 0;
}

/* ---- adding watches ----------------------------------------------------- */

/* root + "/" + rel into buf; 0 when it does not fit. */
static int full_path(const ion_watcher *w, const char *rel, char *buf, size_t size)
{
    int n =
        rel[0] ? snprintf(buf, size, "%s/%s", w->root, rel) : snprintf(buf, size, "%s", w->root);
    return n >= 0 && (size_t)n < size;
}

static int join(const char *dir, const char *name, char *buf, size_t size)
{
    int n = dir[0] ? snprintf(buf, size, "%s/%s", dir, name) : snprintf(buf, size, "%s", name);
    return n >= 0 && (size_t)n < size;
}

static void set_failure(ion_watch_failure *f, const char *rel, int e, size_t max_watches)
{
    f->err = e;
    if (e == ENOSPC) {
        f->code = "watch_limit";
        f->hint = LIMIT_HINT;
        snprintf(f->message, sizeof f->message,
                 "%s: the system's inotify watch limit is reached (fs.inotify.max_user_watches)",
                 rel[0] ? rel : ".");
    } else if (e == -1) {
        f->code = "watch_limit";
        f->hint = "raise the watcher's max_watches option, or watch a smaller tree";
        snprintf(f->message, sizeof f->message, "%s: more than %zu folders to watch (max_watches)",
                 rel[0] ? rel : ".", max_watches);
    } else {
        f->code = "bad_input";
        f->hint = NULL;
        snprintf(f->message, sizeof f->message, "%s: %s", rel[0] ? rel : ".", strerror(e));
    }
}

/* REPORT: a new folder; what is inside is queued (files as "file", folders
 * as "dir"), and a folder already watched is not walked again. REWALK: at
 * start and after an overflow; nothing is queued, every folder is walked. */
enum { REPORT, REWALK };

/* Removed or replaced (by a link, a file) before we got to it: no error. */
static int vanished(const ion_watch_failure *f)
{
    return f->err == ENOENT || f->err == ENOTDIR;
}

/* Watches the folder rel, then walks it as mode says. Returns 0, or -1 with
 * f set when rel itself could not be watched; a subfolder that cannot be
 * watched is queued as an "error" event and skipped. */
static int add_tree(ion_watcher *w, const char *rel, int mode, ion_watch_failure *f)
{
    char path[PATH_MAX], child[PATH_MAX];
    DIR *d;
    struct dirent *de;
    int wd, fresh;
    if (!full_path(w, rel, path, sizeof path)) {
        set_failure(f, rel, ENAMETOOLONG, 0);
        return -1;
    }
    if (w->ndirs >= w->max_watches) {
        set_failure(f, rel, -1, w->max_watches);
        return -1;
    }
    wd = inotify_add_watch(w->fd, path, DIR_MASK);
    if (wd < 0) {
        set_failure(f, rel, errno, 0);
        return -1;
    }
    fresh = remember(w, wd, rel);
    if (fresh < 0) {
        set_failure(f, rel, ENOMEM, 0);
        return -1;
    }
    if (fresh == 0 && mode == REPORT)
        return 0; /* already watched and scanned: events cover it since */
    if (mode == REPORT)
        queue(w, "dir", rel, NULL, NULL, NULL); /* once per folder, before its files */
    d = opendir(path);
    if (d == NULL) /* gone again, or unreadable: nothing inside to report */
        return 0;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; /* removed meanwhile */
        if (!join(rel, de->d_name, child, sizeof child)) {
            queue(w, "error", rel, "bad_input", "a name inside is too long to watch", NULL);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            ion_watch_failure sub;
            if (add_tree(w, child, mode, &sub) != 0 && !vanished(&sub))
                queue(w, "error", child, sub.code, sub.message, sub.hint);
        } else if (S_ISREG(st.st_mode) && mode == REPORT) {
            queue(w, "file", child, NULL, NULL, NULL);
        }
        /* symbolic links and special files: never followed, never reported */
    }
    closedir(d);
    return 0;
}

/* ---- reading events ----------------------------------------------------- */

static int is_regular(const ion_watcher *w, const char *rel)
{
    char path[PATH_MAX];
    struct stat st;
    return full_path(w, rel, path, sizeof path) && lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void root_gone(ion_watcher *w)
{
    if (!w->gone)
        queue(w, "gone", "", NULL, NULL, NULL);
    w->gone = 1;
}

static void handle(ion_watcher *w, const struct inotify_event *ev)
{
    char rel[PATH_MAX];
    const char *dir;
    if (ev->mask & IN_Q_OVERFLOW) {
        /* Folders created meanwhile may lack a watch: add what is missing
         * (known ones are kept as they are), and let the caller rescan. */
        ion_watch_failure f;
        queue(w, "overflow", "", NULL, NULL, NULL);
        if (!w->gone && add_tree(w, "", REWALK, &f) != 0)
            queue(w, "error", "", f.code, f.message, f.hint);
        return;
    }
    dir = rel_of(w, ev->wd);
    if (ev->mask & IN_IGNORED) { /* the watch is gone (rm_watch, deletion) */
        if (dir && dir[0] == '\0')
            root_gone(w);
        forget(w, ev->wd);
        return;
    }
    if (dir == NULL)
        return; /* a watch already dropped: its queued events are stale */
    if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
        if (dir[0] == '\0')
            root_gone(w);
        return; /* a subfolder: its parent's IN_MOVED_FROM or IN_IGNORED says it */
    }
    if (ev->len == 0 || !join(dir, ev->name, rel, sizeof rel))
        return;
    if (ev->mask & IN_ISDIR) {
        if (ev->mask & IN_MOVED_FROM) {
            forget_subtree(w, rel);
        } else if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
            ion_watch_failure f;
            if (add_tree(w, rel, REPORT, &f) != 0 && !vanished(&f))
                queue(w, "error", rel, f.code, f.message, f.hint);
        }
        return;
    }
    if ((ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) && is_regular(w, rel))
        queue(w, "file", rel, NULL, NULL, NULL);
}

int ion_watch_drain(ion_watcher *w)
{
    char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
    while (w->nq < MAX_EVENTS_PER_READ) {
        ssize_t n = read(w->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n <= 0)
            return n == 0 ? 0 : errno;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
            handle(w, ev);
            p += sizeof *ev + ev->len;
        }
    }
    return 0;
}

void ion_watch_close(ion_watcher *w)
{
    if (w->fd >= 0)
        close(w->fd); /* drops every watch with it */
    w->fd = -1;
    w->closed = 1;
    for (size_t i = 0; i < w->ndirs; i++)
        free(w->dirs[i].rel);
    free(w->dirs);
    w->dirs = NULL;
    w->ndirs = w->capdirs = 0;
    ion_watch_clear(w);
    free(w->q);
    w->q = NULL;
    w->capq = 0;
    free(w->root);
    w->root = NULL;
}

static void set_message(ion_watch_failure *f, const char *code, const char *hint, int err,
                        const char *message)
{
    f->code = code;
    f->hint = hint;
    f->err = err;
    snprintf(f->message, sizeof f->message, "%s", message);
}

int ion_watch_start(ion_watcher *w, const char *root, size_t max_watches, ion_watch_failure *f)
{
    w->max_watches = max_watches;
    w->root = strdup(root);
    if (w->root == NULL) {
        set_message(f, "bad_input", NULL, 0, "out of memory");
        return -1;
    }
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (w->fd < 0) {
        int e = errno;
        if (e == EMFILE)
            set_message(f, "watch_limit",
                        "raise /proc/sys/fs/inotify/max_user_instances, or poll instead", e,
                        "the system's limit of inotify instances is reached "
                        "(fs.inotify.max_user_instances)");
        else
            set_message(f, "bad_input", NULL, e, strerror(e));
        return -1;
    }
    if (add_tree(w, "", REWALK, f) != 0)
        return -1;
    /* Subfolders that could not be watched at start are told by the first
     * read; past a limit the watcher is refused as a whole. */
    for (size_t i = 0; i < w->nq; i++)
        if (w->q[i].code && strcmp(w->q[i].code, "watch_limit") == 0) {
            set_message(f, w->q[i].code, w->q[i].hint, 0, w->q[i].message);
            return -1;
        }
    return 0;
}

#endif
