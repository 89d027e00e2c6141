/* The plain text of a job description that may be HTML.
 *
 * This is not an HTML parser and builds no tree: one forward pass turns tags
 * into line breaks and drops them, so the cost is linear in the input however
 * it is nested or broken. It follows the HTML tokenizer where a simpler rule
 * would lose text or let markup through: a quote hides a '>' only inside an
 * attribute value, an unterminated comment or tag swallows the rest of the
 * input, script and style are raw text up to their own end tag, and the
 * numeric references &#128;..&#159; mean Windows-1252 characters.
 *
 * Whitespace is never written when it is met; it is remembered as "a space is
 * due" or "n newlines are due" and written only before the next visible
 * character. That gives collapsing, the two-newline cap and trimming at both
 * ends without a second pass. */
#include "hirewire/jobnorm.h"
#include "hirewire/utf8.h"
#include "jobnorm_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct tbuf {
    char *p;
    size_t len, cap; /* cap > len always: room for the final NUL */
    bool oom;
    bool started; /* visible text written: whitespace before it is dropped */
    bool space;   /* a space is due before the next visible text */
    int newlines; /* 0..2 newlines are due; they win over a due space */
    bool item;    /* "- " is due: an <li> began */
    bool html;    /* the input is HTML: its own newlines are spaces... */
    int pre;      /* ...except inside <pre> */
    bool quotes;  /* quoted attribute values may still hide a '>' */
};

static void tb_raw(struct tbuf *tb, const char *s, size_t n)
{
    if (tb->oom)
        return;
    if (tb->cap - tb->len <= n) {
        size_t cap = tb->cap;
        while (cap - tb->len <= n) {
            if (cap > SIZE_MAX / 2) {
                tb->oom = true;
                return;
            }
            cap *= 2;
        }
        char *np = realloc(tb->p, cap);
        if (!np) {
            tb->oom = true;
            return;
        }
        tb->p = np;
        tb->cap = cap;
    }
    memcpy(tb->p + tb->len, s, n);
    tb->len += n;
}

/* Visible text: first the whitespace and list marker that are due. */
static void tb_text(struct tbuf *tb, const char *s, size_t n)
{
    if (tb->started && tb->newlines > 0)
        tb_raw(tb, "\n\n", (size_t)tb->newlines);
    else if (tb->started && tb->space)
        tb_raw(tb, " ", 1);
    if (tb->item)
        tb_raw(tb, "- ", 2);
    tb->started = true;
    tb->space = tb->item = false;
    tb->newlines = 0;
    tb_raw(tb, s, n);
}

/* A block boundary: at least n newlines, however many blocks meet there. */
static void tb_break(struct tbuf *tb, int n)
{
    if (tb->newlines < n)
        tb->newlines = n;
}

/* A newline of plain text or a <br>: they add up, to the cap of two. */
static void tb_newline(struct tbuf *tb)
{
    if (tb->newlines < 2)
        tb->newlines++;
}

static bool is_space_cp(uint32_t cp)
{
    return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0xA0 || cp == 0x2002 || cp == 0x2003 ||
           cp == 0x2009;
}

/* One character of text, from the input or from a reference. Control
 * characters (C0 but whitespace, DEL, C1) are dropped: they are invisible, and
 * NUL would cut the C string short. */
static void tb_cp(struct tbuf *tb, uint32_t cp)
{
    if (cp == '\n' && (!tb->html || tb->pre > 0)) {
        tb_newline(tb);
    } else if (is_space_cp(cp)) {
        tb->space = true;
    } else if (cp >= 0x20 && !(cp >= 0x7F && cp < 0xA0)) {
        char u[4];
        tb_text(tb, u, utf8_encode(cp, u));
    }
}

/* ---- references ---- */

static const struct {
    const char *name;
    uint16_t cp;
} html_entities[] = {
    {"amp", '&'},      {"lt", '<'},       {"gt", '>'},       {"quot", '"'},      {"apos", '\''},
    {"nbsp", 0xA0},    {"mdash", 0x2014}, {"ndash", 0x2013}, {"hellip", 0x2026}, {"rsquo", 0x2019},
    {"lsquo", 0x2018}, {"rdquo", 0x201D}, {"ldquo", 0x201C}, {"bull", 0x2022},   {"middot", 0xB7},
    {"copy", 0xA9},    {"reg", 0xAE},     {"trade", 0x2122}, {"euro", 0x20AC},   {"pound", 0xA3},
    {"laquo", 0xAB},   {"raquo", 0xBB},   {"deg", 0xB0},     {"times", 0xD7},    {"cent", 0xA2},
    {"yen", 0xA5},     {"sect", 0xA7},    {"ensp", 0x2002},  {"emsp", 0x2003},   {"thinsp", 0x2009},
};

/* &#128;..&#159; as Windows-1252, which is what pages that wrote them meant;
 * 0 where 1252 has no character (the C1 control stays, and is dropped). */
static const uint16_t cp1252[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

/* "&#1234;" or "&#x4D2;" at s[i] ("&#" already checked); at most eight
 * digits. Returns the index after ';', 0 if malformed. */
static size_t numeric_ref(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
    size_t j = i + 2;
    bool hex = j < len && (s[j] | 0x20) == 'x';
    size_t start = j += hex;
    uint32_t v = 0;
    for (; j < len && j - start < 8; j++) {
        int d = hex ? jobnorm__hex(s[j]) : jobnorm__digit(s[j]) ? s[j] - '0' : -1;
        if (d < 0)
            break;
        v = v * (hex ? 16 : 10) + (uint32_t)d;
    }
    if (j == start || j >= len || s[j] != ';')
        return 0;
    if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        v = 0xFFFD;
    else if (v >= 0x80 && v <= 0x9F && cp1252[v - 0x80])
        v = cp1252[v - 0x80];
    *cp = v;
    return j + 1;
}

/* "&name;" at s[i]. Returns the index after ';', 0 if unknown or malformed. */
static size_t named_ref(const unsigned char *s, size_t len, size_t i, uint32_t *cp)
{
    size_t j = i + 1;
    while (j < len && j - i <= 8 && (jobnorm__alpha(s[j]) || jobnorm__digit(s[j])))
        j++;
    if (j == i + 1 || j >= len || s[j] != ';')
        return 0;
    for (size_t k = 0; k < JOBNORM_COUNT_OF(html_entities); k++) {
        const char *name = html_entities[k].name;
        if (strlen(name) == j - i - 1 && memcmp(name, s + i + 1, j - i - 1) == 0) {
            *cp = html_entities[k].cp;
            return j + 1;
        }
    }
    return 0;
}

/* At s[i] == '&': a reference, or else a literal '&' ("AT&T", "&nosuch;"). */
static size_t html_ref(struct tbuf *tb, const unsigned char *s, size_t len, size_t i)
{
    uint32_t cp = 0;
    size_t next =
        i + 1 < len && s[i + 1] == '#' ? numeric_ref(s, len, i, &cp) : named_ref(s, len, i, &cp);
    if (next == 0) {
        tb_text(tb, "&", 1);
        return i + 1;
    }
    tb_cp(tb, cp);
    return next;
}

/* ---- tags ---- */

enum { BRK_LINE = 1, BRK_PARA = 2, BRK_ADD, BRK_SPACE };

static const struct {
    const char *name;
    int brk;
} html_blocks[] = {
    {"br", BRK_ADD},          {"p", BRK_PARA},       {"h1", BRK_PARA},     {"h2", BRK_PARA},
    {"h3", BRK_PARA},         {"h4", BRK_PARA},      {"h5", BRK_PARA},     {"h6", BRK_PARA},
    {"blockquote", BRK_PARA}, {"div", BRK_LINE},     {"li", BRK_LINE},     {"tr", BRK_LINE},
    {"ul", BRK_LINE},         {"ol", BRK_LINE},      {"dl", BRK_LINE},     {"dt", BRK_LINE},
    {"dd", BRK_LINE},         {"table", BRK_LINE},   {"hr", BRK_LINE},     {"pre", BRK_LINE},
    {"section", BRK_LINE},    {"article", BRK_LINE}, {"header", BRK_LINE}, {"footer", BRK_LINE},
    {"main", BRK_LINE},       {"nav", BRK_LINE},     {"aside", BRK_LINE},  {"figure", BRK_LINE},
    {"form", BRK_LINE},       {"address", BRK_LINE}, {"center", BRK_LINE}, {"td", BRK_SPACE},
    {"th", BRK_SPACE},
};

/* Elements whose content is not text. */
static const char *const html_raw[] = {"script", "style", "template"};

static void tag_effect(struct tbuf *tb, const char *name, bool end_tag)
{
    if (strcmp(name, "pre") == 0)
        tb->pre += end_tag ? -(tb->pre > 0) : 1;
    for (size_t i = 0; i < JOBNORM_COUNT_OF(html_blocks); i++) {
        if (strcmp(name, html_blocks[i].name) != 0)
            continue;
        if (html_blocks[i].brk == BRK_ADD)
            tb_newline(tb);
        else if (html_blocks[i].brk == BRK_SPACE)
            tb->space = true;
        else
            tb_break(tb, html_blocks[i].brk);
        /* An item's marker waits for its text, so "<li></li>" leaves none. */
        if (strcmp(name, "li") == 0)
            tb->item = !end_tag;
        return;
    }
}

/* The tag name at s[i], lower-cased into name; "" when longer than 15 bytes
 * (no tag we act on is). Returns the index after it. */
static size_t tag_name(const unsigned char *s, size_t len, size_t i, char name[16])
{
    size_t n = 0;
    for (; i < len && (jobnorm__alpha(s[i]) || jobnorm__digit(s[i])); i++, n++)
        if (n < 15)
            name[n] = (char)jobnorm__lower(s[i]);
    name[n < 16 ? n : 0] = '\0';
    return i;
}

/* The index of the '>' closing a tag whose attributes start at i, or len. A
 * quote opens a value only right after '=' and may hide a '>'. A value that
 * runs to the end of the input is taken as unquoted instead (the tag ends at
 * the first '>'), or the rest of the page would vanish. From then on quotes
 * are ignored: with input like '<b c=">"=<b c=">"=...<b c=">"="' every tag
 * would otherwise rescan to the end, quadratic time. */
static size_t tag_end(struct tbuf *tb, const unsigned char *s, size_t len, size_t i)
{
    if (tb->quotes) {
        unsigned char q = 0, last = 0;
        for (size_t j = i; j < len; j++) {
            unsigned char c = s[j];
            if (q) {
                if (c == q)
                    q = 0, last = c;
            } else if (c == '>') {
                return j;
            } else if ((c == '"' || c == '\'') && last == '=') {
                q = c;
            } else if (!is_space_cp(c)) {
                last = c;
            }
        }
        if (!q)
            return len;
        tb->quotes = false;
    }
    const unsigned char *gt = memchr(s + i, '>', len - i);
    return gt ? (size_t)(gt - s) : len;
}

/* Skips raw text from i to past its end tag "</name...>"; len if none. */
static size_t raw_text_end(struct tbuf *tb, const unsigned char *s, size_t len, size_t i,
                           const char *name)
{
    size_t nl = strlen(name);
    for (;;) {
        const unsigned char *lt = memchr(s + i, '<', len - i);
        if (!lt)
            return len;
        size_t j = (size_t)(lt - s);
        if (len - j >= nl + 2 && s[j + 1] == '/' &&
            strncasecmp((const char *)s + j + 2, name, nl) == 0 &&
            (len - j == nl + 2 ||
             !(jobnorm__alpha(s[j + 2 + nl]) || jobnorm__digit(s[j + 2 + nl])))) {
            size_t e = tag_end(tb, s, len, j + 2 + nl);
            return e < len ? e + 1 : len;
        }
        i = j + 1;
    }
}

/* At s[i] == '<' in HTML: a comment, declaration, start or end tag is
 * consumed; a '<' that starts none of them ("a < b", "<3") is text. */
static size_t html_tag(struct tbuf *tb, const unsigned char *s, size_t len, size_t i)
{
    size_t rest = len - i;
    if (rest >= 4 && memcmp(s + i, "<!--", 4) == 0) {
        /* From the "--" of the opening, so "<!-->" and "<!--->" end at once. */
        const unsigned char *e = memmem(s + i + 2, rest - 2, "-->", 3);
        return e ? (size_t)(e - s) + 3 : len;
    }
    if (rest >= 2 && (s[i + 1] == '!' || s[i + 1] == '?')) {
        const unsigned char *gt = memchr(s + i, '>', rest);
        return gt ? (size_t)(gt - s) + 1 : len;
    }
    bool end_tag = rest >= 3 && s[i + 1] == '/' && jobnorm__alpha(s[i + 2]);
    if (!end_tag && !(rest >= 2 && jobnorm__alpha(s[i + 1]))) {
        tb_text(tb, "<", 1);
        return i + 1;
    }
    char name[16];
    size_t e = tag_end(tb, s, len, tag_name(s, len, i + 1 + end_tag, name));
    if (e == len)
        return len;
    tag_effect(tb, name, end_tag);
    for (size_t k = 0; !end_tag && k < JOBNORM_COUNT_OF(html_raw); k++)
        if (strcmp(name, html_raw[k]) == 0)
            return raw_text_end(tb, s, len, e + 1, name);
    return e + 1;
}

/* HTML when some '<' opens a tag, a comment or a declaration and a '>' follows
 * it; a later '<' cannot find a '>' the first one missed, so one look-up
 * suffices. */
static bool looks_like_html(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] != '<')
            continue;
        unsigned char c = s[i + 1];
        if (jobnorm__alpha(c) || c == '!' || (c == '/' && i + 2 < len && jobnorm__alpha(s[i + 2])))
            return memchr(s + i, '>', len - i) != NULL;
    }
    return false;
}

char *jobnorm_html_to_text(const char *html, size_t len, size_t *out_len)
{
    const unsigned char *s = (const unsigned char *)html;
    if (!s)
        len = 0;
    /* Text is rarely longer than its source; start there and grow. */
    struct tbuf tb = {.cap = (len < (1u << 20) ? len : (1u << 20)) + 64, .quotes = true};
    if (out_len)
        *out_len = 0;
    if (!(tb.p = malloc(tb.cap))) {
        errno = ENOMEM;
        return NULL;
    }
    tb.html = looks_like_html(s, len);

    for (size_t i = 0; i < len && !tb.oom;) {
        unsigned char c = s[i];
        if (c == '<' && tb.html) {
            i = html_tag(&tb, s, len, i);
        } else if (c == '&') {
            i = html_ref(&tb, s, len, i);
        } else if (c == '\r') { /* "\r\n" and a lone "\r" are one newline */
            tb_cp(&tb, '\n');
            i += i + 1 < len && s[i + 1] == '\n' ? 2 : 1;
        } else {
            int32_t cp;
            i += utf8_decode(s + i, len - i, &cp);
            tb_cp(&tb, cp < 0 ? 0xFFFD : (uint32_t)cp);
        }
    }
    if (tb.oom) {
        free(tb.p);
        errno = ENOMEM;
        return NULL;
    }
    tb.p[tb.len] = '\0';
    if (out_len)
        *out_len = tb.len;
    return tb.p;
}
