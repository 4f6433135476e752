/* The journal index's table and its scan of the file (see lua_journal.c): an
 * open-addressed table of 32-byte slots, filled by one forward read of the
 * journal through a window, lines checked by jline.c. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal_index.h"
#include "keyhash.h"
#include "parse.h"

uint64_t ion_ji_hash(const ji_index *ix, const char *k, size_t n)
{
    uint64_t h = ion_keyhash(ix->seed, k, n) & ix->mask;
    return h ? h : 1; /* 0 marks an empty slot */
}

/* From slot *i on, the next slot of hash h or the empty slot that ends the
 * probe; *i moves past it. Slots of other keys with the same hash stay in
 * the probe (a key is never given another's slot: see ion_ji_slot). */
ji_slot *ion_ji_probe(const ji_index *ix, uint64_t h, size_t *i)
{
    ji_slot *s;
    while ((s = &ix->slots[*i])->h != 0 && s->h != h)
        *i = (*i + 1) & (ix->cap - 1);
    *i = (*i + 1) & (ix->cap - 1);
    return s;
}

/* The slot of key k (hash h), or the empty slot where it would go; NULL
 * when a slot's key could not be read back. A slot of the same hash whose
 * first record has another key is passed by (ix->collided). */
ji_slot *ion_ji_slot(ji_index *ix, uint64_t h, const char *k, size_t n)
{
    size_t i = (size_t)h & (ix->cap - 1);
    for (;;) {
        ji_slot *s = ion_ji_probe(ix, h, &i);
        if (s->h == 0)
            return s;
        int same = ion_ji_same_key(ix, h, s->first & JI_OFF, k, n);
        if (same)
            return same > 0 ? s : NULL;
        ix->collided = 1;
    }
}

int ion_ji_grow(ji_index *ix)
{
    size_t cap = ix->cap ? ix->cap * 2 : 1024;
    ji_slot *old = ix->slots, *s = calloc(cap, sizeof *s);
    size_t oldcap = ix->cap;
    if (!s)
        return 0;
    ix->slots = s, ix->cap = cap;
    for (size_t i = 0; i < oldcap; i++) {
        size_t j = (size_t)old[i].h & (cap - 1);
        while (old[i].h && s[j].h) /* the first empty slot: keys of one hash all keep theirs */
            j = (j + 1) & (cap - 1);
        if (old[i].h)
            s[j] = old[i];
    }
    free(old);
    return 1;
}

static int reserve(ji_index *ix, size_t n)
{
    if (n <= ix->bufcap)
        return 1;
    char *b = realloc(ix->buf, n);
    if (!b)
        return 0;
    ix->buf = b, ix->bufcap = n;
    return 1;
}

/* The line at `off` from the read-back window, copied to ix->buf (callers
 * unescape keys in place there): its length, or -1 when the window does
 * not hold all of it. The journal is append-only, so bytes once read stay
 * true (compaction's new file resets the window: ion_ji_adopt). */
static long from_window(ji_index *ix, uint64_t off)
{
    if (off < ix->wbase || off >= ix->wbase + ix->wlen)
        return -1;
    const char *p = ix->win + (off - ix->wbase);
    const char *nl = memchr(p, '\n', ix->wlen - (size_t)(off - ix->wbase));
    if (!nl || !reserve(ix, (size_t)(nl - p) + 1))
        return -1;
    memcpy(ix->buf, p, (size_t)(nl - p));
    return (long)(nl - p);
}

/* The line at `off` (without its newline) into ix->buf: its length, or -1
 * (unreadable, or longer than JI_MAX_LINE). Read through a window of up to
 * JI_WINDOW bytes first: a rerun asks for lines in about file order, one
 * read for a couple of hundred of them, not one each (on this VM a system
 * call costs more than the rest of a lookup). */
long ion_ji_read_line(ji_index *ix, uint64_t off)
{
    long got = from_window(ix, off);
    if (got >= 0)
        return got;
    if (ix->win || (ix->win = malloc(JI_WINDOW)) != NULL) {
        /* the whole window only when reading on from the last one: a read
         * far from it (a scan checking a key's first record) takes 1 KiB */
        int onward = ix->wlen && off >= ix->wbase && off - ix->wbase < 2 * (uint64_t)JI_WINDOW;
        ssize_t r;
        while ((r = pread(ix->fd, ix->win, onward ? JI_WINDOW : 1024, (off_t)off)) < 0 &&
               errno == EINTR)
            ;
        ix->wbase = off, ix->wlen = r > 0 ? (size_t)r : 0;
        if ((got = from_window(ix, off)) >= 0)
            return got;
    }
    size_t n = 0, step = 512; /* a line over the window, or the last one unterminated */
    for (;;) {
        if (!reserve(ix, n + step + 1))
            return -1;
        ssize_t r = pread(ix->fd, ix->buf + n, step, (off_t)(off + n));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -1 : (long)n;
        char *nl = memchr(ix->buf + n, '\n', (size_t)r);
        if (nl)
            return (long)(nl - ix->buf);
        n += (size_t)r;
        if (n > JI_MAX_LINE)
            return -1;
        if (step < 65536)
            step *= 2;
    }
}

static void remember(ji_index *ix, uint64_t h, const char *k, size_t n)
{
    ji_seen *s = &ix->seen[h % JI_SEEN];
    if (n <= JI_SEEN_KEY)
        s->h = h, s->len = n, memcpy(s->key, k, n);
}

/* Whether key k (hash h) is known to own the slot of its hash: lately
 * proven (ix->seen), while no two keys share a hash (then a hash names one
 * slot). */
static int seen(const ji_index *ix, uint64_t h, const char *k, size_t n)
{
    const ji_seen *s = &ix->seen[h % JI_SEEN];
    return !ix->collided && s->h == h && s->len == n && memcmp(s->key, k, n) == 0;
}

/* Whether k (hash h) is the key of the line (p, n), which stays as it is
 * (the key is unescaped into a copy). Keys lately proven need no parse. */
int ion_ji_line_has_key(ji_index *ix, uint64_t h, const char *p, size_t n, const char *k, size_t kn)
{
    ion_jline jl;
    if (seen(ix, h, k, kn))
        return 1;
    if (!ion_jline_parse(p, n, &jl))
        return 0;
    char small[512], *key = jl.k_len <= sizeof small ? small : malloc(jl.k_len);
    long m = key ? ion_jline_unescape(jl.k, jl.k_len, key) : -1;
    int same = m == (long)kn && memcmp(key, k, kn) == 0;
    if (key != small)
        free(key);
    if (same)
        remember(ix, h, k, kn);
    return same;
}

/* Whether k (hash h) is the key of the record at `off`, its slot's first
 * (read back only when not lately proven): 1, 0, or -1 (unreadable). */
int ion_ji_same_key(ji_index *ix, uint64_t h, uint64_t off, const char *k, size_t n)
{
    long len;
    if (seen(ix, h, k, n))
        return 1;
    if ((len = ion_ji_read_line(ix, off)) < 0)
        return -1;
    return ion_ji_line_has_key(ix, h, ix->buf, (size_t)len, k, n);
}

/* apply() with the key's hash already known. The one fold of the
 * journal's records: which record wins is decided here alone. */
static int apply_hashed(ji_index *ix, uint64_t h, const char *k, size_t kn, const char *e,
                        size_t en, uint64_t off)
{
    if ((ix->used + 1) * 4 > ix->cap * 3 && !ion_ji_grow(ix))
        return ENOMEM;
    ji_slot *s = ion_ji_slot(ix, h, k, kn);
    if (!s)
        return EIO;
    if (s->h == 0) {
        s->h = h, s->first = off, s->put = s->att = 0;
        ix->used++;
        remember(ix, h, k, kn);
    }
#define IS(word) (en == sizeof(word) - 1 && memcmp(e, word, en) == 0)
    /* "shard": the journal's one record of the shard it serves
     * (journal/file.lua), kept as a put line is, so compaction copies it */
    if (IS("put") || IS("shard")) {
        s->put = off + 1;
    } else if (IS("attached")) {
        s->att = off + 1, s->first &= JI_OFF;
    } else if (IS("registering")) {
        s->first |= JI_REG;
    } else if (IS("in_doubt")) {
        s->first |= JI_DOUBT;
    } else if (IS("not_registered")) {
        s->first &= ~JI_REG;
    } else if (IS("stale")) {
        s->put = 0, s->first &= ~JI_REG;
    }
#undef IS
    return 0;
}

/* Folds one record into its key's slot: 0, or an errno (ENOMEM, or a key
 * of the same hash unreadable). */
int ion_ji_apply(ji_index *ix, const char *k, size_t kn, const char *e, size_t en, uint64_t off)
{
    return apply_hashed(ix, ion_ji_hash(ix, k, kn), k, kn, e, en, off);
}

/* Records parsed but not yet applied, their slots prefetched meanwhile: at
 * a million keys the table is tens of MiB, nearly every record's slot
 * misses the cache, and waiting out those misses one line at a time was a
 * fifth of a scan. They are applied in file order, before the window moves
 * (their keys point into it). */
#define JI_AHEAD 8
typedef struct {
    struct {
        const char *k, *e;
        size_t kn, en;
        uint64_t off, h;
    } rec[JI_AHEAD];
    int head, count;
} ji_ahead;

static int apply_oldest(ji_index *ix, ji_ahead *a)
{
    int i = a->head;
    a->head = (a->head + 1) % JI_AHEAD, a->count--;
    return apply_hashed(ix, a->rec[i].h, a->rec[i].k, a->rec[i].kn, a->rec[i].e, a->rec[i].en,
                        a->rec[i].off);
}

static int apply_all(ji_index *ix, ji_ahead *a)
{
    int e = 0;
    while (a->count && (e = apply_oldest(ix, a)) == 0)
        ;
    return e;
}

/* One line of the scan (no newline; NULL for an over-long one): 0, or an
 * errno. A record's key is unescaped in place: the window is ours. */
static int scan_line(ji_index *ix, ji_ahead *a, char *p, size_t n, uint64_t off)
{
    ion_jline jl;
    long kn;
    if (p && n == 0)
        return 0;
    ix->lines++;
    if (!p || n > JI_MAX_LINE || !ion_jline_parse(p, n, &jl) ||
        (kn = ion_jline_unescape(jl.k, jl.k_len, (char *)jl.k)) < 0) {
        ix->skipped++;
        return 0;
    }
    ix->records++;
    int e = a->count == JI_AHEAD ? apply_oldest(ix, a) : 0;
    if (e)
        return e;
    int i = (a->head + a->count++) % JI_AHEAD;
    uint64_t h = ion_ji_hash(ix, jl.k, (size_t)kn);
    a->rec[i].k = jl.k, a->rec[i].kn = (size_t)kn, a->rec[i].off = off, a->rec[i].h = h;
    a->rec[i].e = jl.e ? jl.e : "", a->rec[i].en = jl.e_len;
#ifdef __GNUC__
    __builtin_prefetch(&ix->slots[h & (ix->cap - 1)]);
#endif
    return 0;
}

/* Reads every line of the file into scan_line, through a window of
 * JI_CHUNK bytes (ix->chunk); 0, or an errno. */
int ion_ji_scan(ji_index *ix)
{
    ji_ahead a = {.head = 0, .count = 0};
    uint64_t base = 0; /* file offset of chunk[0] */
    size_t have = 0, start = 0;
    int discarding = 0; /* inside a line longer than JI_MAX_LINE */
    int e;
    for (;;) {
        ssize_t r = pread(ix->fd, ix->chunk + have, JI_CHUNK - have, (off_t)(base + have));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno;
        have += (size_t)r;
        for (;;) {
            char *nl = memchr(ix->chunk + start, '\n', have - start);
            if (!nl)
                break;
            size_t end = (size_t)(nl - ix->chunk);
            if (discarding)
                discarding = 0;
            else if ((e = scan_line(ix, &a, ix->chunk + start, end - start, base + start)) != 0)
                return e;
            start = end + 1;
        }
        if (r == 0) { /* the end: a last line without its newline */
            ix->unterminated = discarding || have > start;
            if (!discarding && have > start &&
                (e = scan_line(ix, &a, ix->chunk + start, have - start, base + start)) != 0)
                return e;
            return apply_all(ix, &a);
        }
        if (have - start > JI_MAX_LINE) {
            if (!discarding && (e = scan_line(ix, &a, NULL, 0, base + start)) != 0)
                return e;
            discarding = 1, start = have;
        }
        if ((e = apply_all(ix, &a)) != 0)
            return e;
        memmove(ix->chunk, ix->chunk + start, have - start);
        base += start, have -= start, start = 0;
    }
}
