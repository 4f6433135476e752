/* One line of the resume journal, read without building any Lua value: a
 * single forward pass (no recursion, no backtracking) checks that the line is
 * one JSON object and picks out its top-level "v", "k" and "e". The line is
 * untrusted text: nesting is capped, every index is bounds-checked. Plain
 * C over buffers, like parse.c (fuzz/jline.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define JL_MAX_DEPTH 64

static size_t skip_ws(const char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Bytes a string scan must stop at: the quote, the backslash, controls. */
static int is_special(unsigned char c)
{
    return c == '"' || c == '\\' || c < 0x20;
}

/* Whether a word of 8 bytes may hold a special byte: the has-zero-byte test
 * on w ^ '"' and w ^ '\\', and the borrow test for bytes below 0x20. It
 * never misses one; a rare false alarm only sends the caller byte by byte.
 * Strings are most of a journal's bytes: this is most of an open's CPU. */
static int may_hold_special(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    return ((((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w)) & highs) != 0;
}

/* p[i] is the opening quote: the index after the closing one, or 0. */
static size_t scan_string(const char *p, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        uint64_t w;
        while (i + 8 <= n && (memcpy(&w, p + i, 8), !may_hold_special(w)))
            i += 8;
        while (i < n && !is_special((unsigned char)p[i]))
            i++;
        if (i >= n)
            return 0;
        unsigned char c = (unsigned char)p[i];
        if (c == '"')
            return i + 1;
        if (c < 0x20)
            return 0;
        if (++i >= n)
            return 0;
        switch (p[i]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            break;
        case 'u':
            if (i + 4 >= n || !is_hex(p[i + 1]) || !is_hex(p[i + 2]) || !is_hex(p[i + 3]) ||
                !is_hex(p[i + 4]))
                return 0;
            i += 4;
            break;
        default:
            return 0;
        }
    }
    return 0;
}

static size_t scan_digits(const char *p, size_t n, size_t i)
{
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++;
    return i;
}

/* A JSON number from p[i]: the index after it, or 0. */
static size_t scan_number(const char *p, size_t n, size_t i)
{
    size_t j;
    if (i < n && p[i] == '-')
        i++;
    if (i < n && p[i] == '0')
        i++;
    else if ((j = scan_digits(p, n, i)) > i)
        i = j;
    else
        return 0;
    if (i < n && p[i] == '.') {
        if ((j = scan_digits(p, n, i + 1)) == i + 1)
            return 0;
        i = j;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if ((j = scan_digits(p, n, i)) == i)
            return 0;
        i = j;
    }
    return i;
}

static size_t scan_literal(const char *p, size_t n, size_t i)
{
    static const char *const lits[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        size_t l = strlen(lits[k]);
        if (n - i >= l && memcmp(p + i, lits[k], l) == 0)
            return i + l;
    }
    return 0;
}

/* The number 1 as "v" (1, 1.0, 1e0 …): what the Lua side compared with. */
static int is_one(const char *p, size_t len)
{
    char buf[32];
    if (len == 1)
        return p[0] == '1';
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, p, len);
    buf[len] = '\0';
    return strtod(buf, NULL) == 1.0;
}

/* Which top-level member a value belongs to: 'v', 'k', 'e' or 0. */
static char member_of(const char *p, size_t a, size_t b)
{
    char c = p[a + 1];
    if (b - a == 3 && p[a] == '"' && p[a + 2] == '"' && (c == 'v' || c == 'k' || c == 'e'))
        return c;
    return 0;
}

int ion_jline_parse(const char *p, size_t n, ion_jline *out)
{
    char stack[JL_MAX_DEPTH];
    int depth = 0, have_v = 0;
    char member = 0;
    size_t i = skip_ws(p, n, 0);
    memset(out, 0, sizeof *out);
    if (i >= n || p[i] != '{')
        return 0;
    for (;;) { /* at a value */
        size_t start;
        i = skip_ws(p, n, i);
        if (i >= n)
            return 0;
        start = i;
        if (p[i] == '{' || p[i] == '[') {
            if (depth == JL_MAX_DEPTH)
                return 0;
            if (depth == 1 && member == 'v')
                have_v = 0;
            if (depth == 1 && member == 'k')
                out->k_len = 0, out->k = NULL;
            if (depth == 1 && member == 'e')
                out->e_len = 0, out->e = NULL;
            stack[depth++] = p[i++];
            i = skip_ws(p, n, i);
            if (i < n && p[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
                depth--, i++;
            } else if (stack[depth - 1] == '[') {
                continue;
            } else {
                goto member_name;
            }
        } else {
            if (p[i] == '"')
                i = scan_string(p, n, i);
            else if (p[i] == '-' || (p[i] >= '0' && p[i] <= '9'))
                i = scan_number(p, n, i);
            else
                i = scan_literal(p, n, i);
            if (i == 0)
                return 0;
            if (depth == 1 && member == 'v')
                have_v = p[start] != '"' && is_one(p + start, i - start);
            if (depth == 1 && member == 'k') {
                out->k = p[start] == '"' ? p + start : NULL;
                out->k_len = p[start] == '"' ? i - start : 0;
            }
            if (depth == 1 && member == 'e') {
                out->e = p[start] == '"' ? p + start + 1 : NULL;
                out->e_len = p[start] == '"' ? i - start - 2 : 0;
            }
        }
        for (;;) { /* after a value */
            if (depth == 0) {
                i = skip_ws(p, n, i);
                out->ok = i == n && have_v && out->k != NULL;
                return out->ok;
            }
            i = skip_ws(p, n, i);
            if (i >= n)
                return 0;
            if (p[i] == ',') {
                i++;
                if (stack[depth - 1] == '[')
                    break;
                goto member_name;
            }
            if (p[i] != (stack[depth - 1] == '{' ? '}' : ']'))
                return 0;
            depth--, i++;
        }
        continue;
    member_name:
        i = skip_ws(p, n, i);
        if (i >= n || p[i] != '"')
            return 0;
        start = i;
        if ((i = scan_string(p, n, i)) == 0)
            return 0;
        member = depth == 1 ? member_of(p, start, i) : 0;
        i = skip_ws(p, n, i);
        if (i >= n || p[i] != ':')
            return 0;
        i++;
    }
}

static unsigned hex4(const char *p)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

static size_t put_utf8(unsigned cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6)), o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)), o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)), o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The byte an escape other than \\u stands for (scan_string let only these
 * through). */
static char unescaped(char c)
{
    switch (c) {
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default: /* '"', '\\', '/' */
        return c;
    }
}

/* The value of a string that scan_string accepted (quotes included in
 * [s, s+len)), written to out (at least len bytes: decoding never grows a
 * string, and out may be s itself); its length, or -1 for a lone surrogate
 * (cjson refuses it too). Runs without a backslash are copied whole. */
long ion_jline_unescape(const char *s, size_t len, char *out)
{
    size_t o = 0, i = 1, end = len - 1; /* the bytes between the quotes */
    while (i < end) {
        const char *bs = memchr(s + i, '\\', end - i);
        size_t run = (bs ? (size_t)(bs - s) : end) - i;
        memmove(out + o, s + i, run);
        o += run, i += run;
        if (!bs)
            break;
        char c = s[i + 1];
        i += 2;
        if (c != 'u') {
            out[o++] = unescaped(c);
            continue;
        }
        unsigned cp = hex4(s + i);
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00) {
            if (i + 6 > end || s[i] != '\\' || s[i + 1] != 'u')
                return -1;
            unsigned lo = hex4(s + i + 2);
            if (lo < 0xDC00 || lo >= 0xE000)
                return -1;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 6;
        } else if (cp >= 0xDC00 && cp < 0xE000) {
            return -1;
        }
        o += put_utf8(cp, out + o);
    }
    return (long)o;
}
