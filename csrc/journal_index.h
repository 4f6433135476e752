/* The resume journal's index: its table and scan (journal_index.c), its
 * compaction (journal_compact.c). Plain C over a file descriptor, no Lua:
 * lua_journal.c gives it to Lua as core.journal_index. */
#ifndef ION_JOURNAL_INDEX_H
#define ION_JOURNAL_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hidden.h"

#define JI_MAX_LINE (1 << 20) /* a longer line is damage: skipped */
#define JI_CHUNK (2 * JI_MAX_LINE)
#define JI_WINDOW 65536 /* lines read back: see ion_ji_read_line */
#define JI_REG (1ULL << 62)
#define JI_DOUBT (1ULL << 61)
#define JI_OFF (~(JI_REG | JI_DOUBT))

typedef struct {
    uint64_t h;        /* 0: empty */
    uint64_t first;    /* offset of the key's first record | JI_REG | JI_DOUBT */
    uint64_t put, att; /* offset + 1 of the latest such record; 0: none */
} ji_slot;

/* Keys lately proven to own their slot, by hash: a record of the same key a
 * few lines on is told apart from a colliding key without a read back
 * (trusted only while no two keys share a hash: ix->collided). */
#define JI_SEEN 256
#define JI_SEEN_KEY 248
typedef struct {
    uint64_t h;
    size_t len;
    char key[JI_SEEN_KEY];
} ji_seen;

/* One line a compaction keeps: its offset (the old one, then the new one)
 * and its slot's index << JM_SHIFT | what the line is (journal_compact.c). */
typedef struct {
    uint64_t off, slot;
} ji_move;

typedef struct {
    int fd; /* a dup of the journal's descriptor; -1 once closed */
    ji_slot *slots;
    size_t cap, used;
    uint64_t seed, mask; /* mask: all ones, or a few bits (specs force collisions) */
    int64_t lines, records, skipped;
    /* collided: two keys met on one hash (each keeps a slot of its own) */
    int collided, unterminated;
    char *buf, *chunk; /* a line read back; the scan's window */
    size_t bufcap;
    ji_seen *seen; /* JI_SEEN of them */
    char *win;     /* the read-back window (ion_ji_read_line): wlen bytes at wbase */
    uint64_t wbase;
    size_t wlen;
    ji_move *moves; /* a compaction written, not yet adopted; else NULL */
    size_t nmoves;
    int next_fd;        /* a dup of the compacted file's descriptor; -1: none */
    int64_t next_lines; /* the lines written to it */
} ji_index;

ION_HIDDEN uint64_t ion_ji_hash(const ji_index *ix, const char *k, size_t n);
ION_HIDDEN ji_slot *ion_ji_probe(const ji_index *ix, uint64_t h, size_t *i);
ION_HIDDEN ji_slot *ion_ji_slot(ji_index *ix, uint64_t h, const char *k, size_t n);
ION_HIDDEN int ion_ji_grow(ji_index *ix);
ION_HIDDEN long ion_ji_read_line(ji_index *ix, uint64_t off);
ION_HIDDEN int ion_ji_same_key(ji_index *ix, uint64_t h, uint64_t off, const char *k, size_t n);
ION_HIDDEN int ion_ji_line_has_key(ji_index *ix, uint64_t h, const char *p, size_t n, const char *k,
                                   size_t kn);
ION_HIDDEN int ion_ji_apply(ji_index *ix, const char *k, size_t kn, const char *e, size_t en,
                            uint64_t off);
ION_HIDDEN int ion_ji_scan(ji_index *ix);
/* journal_compact.c: every key's minimal records to dst, in file order; 0
 * or an errno. The index keeps the lines' new offsets until ion_ji_adopt
 * (after the rename) points it at dst, or ion_ji_drop forgets them. */
ION_HIDDEN int ion_ji_compact(ji_index *ix, FILE *dst);
ION_HIDDEN void ion_ji_adopt(ji_index *ix);
ION_HIDDEN void ion_ji_drop(ji_index *ix);

#endif
