/* Compaction of the resume journal (journal_compact.lua drives it): per
 * key, the one line resuming needs is copied as it is, in file order (its
 * latest "attached" record, or else its latest "put"), and its flags follow
 * it, or stand alone when nothing is copied (with a "stale" record if no
 * flag either: the key stays known).
 *
 * Why from the slots rather than a second scan of the file: the index
 * already knows every kept line's offset, so the copy sorts those offsets
 * and reads forward (through ion_ji_read_line's window), parsing only the
 * few lines whose key a flag needs; and
 * it notes each line's new offset, so that the index can point at the new
 * file (ion_ji_adopt) without scanning it again. On a journal of 1,000,000
 * files and 5.6 M lines the second scan and the scan of the new file took
 * 7 s of the open's 12 (bench/journal_open.md). */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal_index.h"
#include "parse.h"

enum {
    JM_PUT = 1,    /* the key's latest "put" line, copied (it has no "attached") */
    JM_ATT = 2,    /* its latest "attached" line, copied */
    JM_KEY = 3,    /* its first record, read only for the key (nothing copied) */
    JM_KIND = 3,   /* the bits above */
    JM_REG = 16,   /* the key's flags, copied from its slot so that the */
    JM_DOUBT = 32, /* copy never reads the table (a cache miss a key) */
    JM_SHIFT = 6,  /* the slot's index sits above these bits */
};

/* Sorts the moves by offset: LSD radix, 16 bits a pass (two passes up to
 * 4 GiB of journal); a comparison sort of 2 M moves took 0.35 s here. */
static int sort_by_offset(ji_move *m, size_t n)
{
    ji_move *tmp = malloc((n ? n : 1) * sizeof *tmp);
    size_t *count = malloc(65536 * sizeof *count);
    uint64_t max = 0;
    if (!tmp || !count)
        return free(tmp), free(count), ENOMEM;
    for (size_t i = 0; i < n; i++)
        max = m[i].off > max ? m[i].off : max;
    for (unsigned shift = 0; shift < 64 && (shift == 0 || max >> shift); shift += 16) {
        memset(count, 0, 65536 * sizeof *count);
        for (size_t i = 0; i < n; i++)
            count[(m[i].off >> shift) & 0xFFFF]++;
        for (size_t d = 0, at = 0; d < 65536; d++) {
            size_t c = count[d];
            count[d] = at, at += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[(m[i].off >> shift) & 0xFFFF]++] = m[i];
        memcpy(m, tmp, n * sizeof *m);
    }
    free(tmp), free(count);
    return 0;
}

/* The moves of every key, sorted by their offset in the old file. */
static int plan(ji_index *ix)
{
    ji_move *m = malloc((ix->used + 1) * sizeof *m);
    size_t n = 0;
    if (!m)
        return ENOMEM;
    for (size_t i = 0; i < ix->cap; i++) {
        const ji_slot *s = &ix->slots[i];
        if (!s->h)
            continue;
        uint64_t at = (uint64_t)i << JM_SHIFT | ((s->first & JI_REG) ? JM_REG : 0) |
                      ((s->first & JI_DOUBT) ? JM_DOUBT : 0);
        /* an attached file needs only its attachment to be skipped: its
         * put record (the bytes' s3Key and ETag) is not kept */
        m[n].off = (s->att ? s->att : s->put ? s->put : (s->first & JI_OFF) + 1) - 1;
        m[n++].slot = at | (s->att ? JM_ATT : s->put ? JM_PUT : JM_KEY);
    }
    ix->moves = m, ix->nmoves = n;
    return sort_by_offset(m, n);
}

/* The flag records that follow the key's line (p, n): how many, or -1. */
static int write_flags(uint64_t bits, const char *p, size_t n, FILE *dst, uint64_t *pos)
{
    ion_jline jl;
    int nothing_copied = (bits & JM_KIND) == JM_KEY;
    const char *what[2] = {(bits & JM_REG) ? "registering" : NULL,
                           (bits & JM_DOUBT) ? "in_doubt" : NULL};
    int count = 0;
    if (!what[0] && !what[1]) {
        if (!nothing_copied)
            return 0;
        what[0] = "stale";
    }
    if (!ion_jline_parse(p, n, &jl))
        return errno = 0, -1;
    for (int i = 0; i < 2; i++) {
        if (!what[i])
            continue;
        int w = fprintf(dst, "{\"v\":1,\"k\":%.*s,\"e\":\"%s\"}\n", (int)jl.k_len, jl.k, what[i]);
        if (w < 0)
            return -1;
        *pos += (uint64_t)w, count++;
    }
    return count;
}

/* Copies the planned lines to dst; each move's off becomes its new one. */
static int copy(ji_index *ix, FILE *dst, uint64_t *lines)
{
    uint64_t pos = 0;
    for (size_t i = 0; i < ix->nmoves; i++) {
        ji_move *m = &ix->moves[i];
        errno = 0;
        long len = ion_ji_read_line(ix, m->off); /* in order: the read-back window serves */
        if (len < 0)
            return errno ? errno : EIO;
        const char *p = ix->buf;
        size_t n = (size_t)len;
        m->off = pos;
        if ((m->slot & JM_KIND) != JM_KEY) {
            if (fwrite(p, 1, n, dst) != n || fputc('\n', dst) == EOF)
                return errno ? errno : EIO;
            pos += n + 1, ++*lines;
        }
        int flags = write_flags(m->slot, p, n, dst, &pos);
        if (flags < 0)
            return errno ? errno : EIO;
        *lines += (uint64_t)flags;
    }
    return 0;
}

int ion_ji_compact(ji_index *ix, FILE *dst)
{
    int e;
    ion_ji_drop(ix);
    uint64_t lines = 0;
    if ((e = plan(ix)) == 0 && (e = copy(ix, dst, &lines)) == 0 &&
        (ix->next_fd = dup(fileno(dst))) < 0)
        e = errno;
    if (e)
        ion_ji_drop(ix);
    ix->next_lines = (int64_t)lines;
    return e;
}

/* The index now describes the compacted file: new offsets, its descriptor. */
void ion_ji_adopt(ji_index *ix)
{
    for (size_t i = 0; i < ix->nmoves; i++) {
        const ji_move *m = &ix->moves[i];
        ji_slot *s = &ix->slots[m->slot >> JM_SHIFT];
        if ((m->slot & JM_KIND) == JM_PUT)
            s->put = m->off + 1;
        else if ((m->slot & JM_KIND) == JM_ATT)
            s->att = m->off + 1, s->put = 0;
        s->first = m->off | (s->first & ~JI_OFF);
    }
    close(ix->fd);
    ix->fd = ix->next_fd, ix->next_fd = -1;
    ix->wlen = 0; /* the window held the old file's bytes */
    ix->lines = ix->records = ix->next_lines;
    ix->skipped = 0, ix->unterminated = 0;
    free(ix->moves), ix->moves = NULL, ix->nmoves = 0;
}

void ion_ji_drop(ji_index *ix)
{
    if (ix->next_fd >= 0)
        close(ix->next_fd);
    ix->next_fd = -1;
    free(ix->moves), ix->moves = NULL, ix->nmoves = 0;
}
