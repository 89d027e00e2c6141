/* Normalising job postings: UTF-8 checks and the URL dedup key. Salary text
 * is in jobnorm_salary.c, HTML descriptions in jobnorm_html.c.
 *
 * Everything in this module reads input that a browser extension scraped from
 * a job board or a user pasted, so each scanner moves forward only and bounds
 * its look-ahead: hostile input costs linear time and never reads out of
 * bounds. */
#include "hirewire/jobnorm.h"
#include "hirewire/utf8.h"
#include "jobnorm_internal.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* ---- UTF-8 ---- */

bool jobnorm_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < len;) {
        int32_t cp;
        i += utf8_decode(u + i, len - i, &cp);
        if (cp < 0)
            return false;
    }
    return true;
}

size_t jobnorm_utf8_chars(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        int32_t cp;
        i += utf8_decode(u + i, len - i, &cp);
    }
    return n;
}

/* ---- URL ---- */

/* Output that counts past its end, so one check at the end tells whether
 * everything fitted; nothing is written at or beyond p[n - 1]. */
struct wbuf {
    char *p;
    size_t n, len;
};

static void w_put(struct wbuf *w, const char *s, size_t len)
{
    if (w->len < w->n && len < w->n - w->len)
        memcpy(w->p + w->len, s, len);
    w->len += len;
}

static void w_byte(struct wbuf *w, char c)
{
    w_put(w, &c, 1);
}

/* The canonical form of the URL byte at s[i]: "%xx" keeps its place with
 * upper-case hex ("%2f" and "%2F" are the same URL); bytes a URL cannot carry
 * raw are percent-encoded the way browsers send them. A '%' without two hex
 * digits is left alone: rewriting it could merge two URLs a server tells
 * apart. Writes 1 or 3 bytes to out; returns the input bytes consumed. */
static size_t url_byte(const char *s, size_t len, size_t i, char out[3], size_t *nout)
{
    static const char hex[] = "0123456789ABCDEF";
    unsigned char c = (unsigned char)s[i];
    *nout = 3;
    out[0] = '%';
    if (c == '%' && len - i > 2 && jobnorm__hex(s[i + 1]) >= 0 && jobnorm__hex(s[i + 2]) >= 0) {
        out[1] = hex[jobnorm__hex(s[i + 1])];
        out[2] = hex[jobnorm__hex(s[i + 2])];
        return 3;
    }
    if (c >= 0x80 || strchr("\"<>\\^`{|}", c)) {
        out[1] = hex[c >> 4];
        out[2] = hex[c & 15];
        return 1;
    }
    out[0] = (char)c;
    *nout = 1;
    return 1;
}

/* Copies a path, query or fragment in canonical form. */
static void w_url_bytes(struct wbuf *w, const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        char b[3];
        size_t nb;
        i += url_byte(s, len, i, b, &nb);
        w_put(w, b, nb);
    }
}

enum { SITE_ANY = 0, SITE_LINKEDIN = 1, SITE_INDEED = 2, SITE_GLASSDOOR = 4 };

/* Query parameters that say how the visitor arrived, not which posting it is.
 * A site's row applies when a label of the host is the site's name
 * (www.indeed.com, uk.indeed.com, indeed.co.uk), because the boards use short
 * generic names ("t", "s", "from") that other sites may use for content.
 * Kept on purpose: LinkedIn's currentJobId (the posting on search pages),
 * Indeed's jk and vjk, Glassdoor's jl and jobListingId, Greenhouse's gh_jid.
 * Names are separated by spaces and compare case-insensitively; a trailing
 * '*' matches a prefix. */
static const struct {
    unsigned site;
    const char *names;
} tracking_params[] = {
    {SITE_ANY, "utm_* gclid gclsrc dclid gbraid wbraid fbclid msclkid yclid twclid ttclid "
               "li_fat_id igshid mc_cid mc_eid _hsenc _hsmkt mkt_tok _ga _gl gh_src srsltid"},
    {SITE_LINKEDIN, "trk trkInfo trackingId refId lipi lici originalSubdomain midToken midSig "
                    "trkEmail eBP recommendedFlavor position pageNum alternateChannel"},
    {SITE_INDEED, "from tk vjs advn adid ad sjdu acatk pub camk xkcb xpse xfps fccid jsa"},
    {SITE_GLASSDOOR, "src t ao cs s pos guid ea vt cb jrtk cpc uido ctt srs"},
};

static unsigned host_sites(const char *host, size_t len)
{
    unsigned sites = 0;
    for (size_t i = 0; i < len;) {
        size_t l = 0;
        while (i + l < len && host[i + l] != '.')
            l++;
        if (l == 8 && strncasecmp(host + i, "linkedin", 8) == 0)
            sites |= SITE_LINKEDIN;
        else if (l == 6 && strncasecmp(host + i, "indeed", 6) == 0)
            sites |= SITE_INDEED;
        else if (l == 9 && strncasecmp(host + i, "glassdoor", 9) == 0)
            sites |= SITE_GLASSDOOR;
        i += l + 1;
    }
    return sites;
}

static bool param_is_tracking(const char *name, size_t len, unsigned sites)
{
    for (size_t i = 0; i < JOBNORM_COUNT_OF(tracking_params); i++) {
        if (tracking_params[i].site != SITE_ANY && !(tracking_params[i].site & sites))
            continue;
        for (const char *t = tracking_params[i].names; *t;) {
            size_t tl = strcspn(t, " ");
            bool prefix = t[tl - 1] == '*';
            if (prefix ? len >= tl - 1 && strncasecmp(name, t, tl - 1) == 0
                       : len == tl && strncasecmp(name, t, tl) == 0)
                return true;
            t += tl + (t[tl] == ' ');
        }
    }
    return false;
}

/* Host (a DNS name or a bracketed IPv6 literal) and port; userinfo dropped. */
static int url_authority(struct wbuf *w, const char *p, const char *end, bool https,
                         unsigned *sites)
{
    const char *at = memrchr(p, '@', (size_t)(end - p));
    if (at)
        p = at + 1;
    const char *hend = p;
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close || !memchr(p, ':', (size_t)(close - p)))
            return -EINVAL;
        for (const char *h = p + 1; h < close; h++)
            if (!(jobnorm__hex(*h) >= 0 || *h == ':' || *h == '.'))
                return -EINVAL;
        hend = close + 1;
    } else {
        for (; hend < end && *hend != ':'; hend++)
            if (!(jobnorm__alpha(*hend) || jobnorm__digit(*hend) || strchr("-._", *hend)))
                return -EINVAL;
        if (hend == p || *p == '.' || memmem(p, (size_t)(hend - p), "..", 2))
            return -EINVAL;
    }
    for (const char *h = p; h < hend; h++)
        w_byte(w, (char)jobnorm__lower(*h));
    *sites = host_sites(p, (size_t)(hend - p));
    if (hend < end && *hend != ':')
        return -EINVAL;
    if (hend == end || hend + 1 == end) /* no port, or an empty one */
        return 0;
    long port = 0;
    for (const char *d = hend + 1; d < end; d++) {
        if (!jobnorm__digit(*d) || (port = port * 10 + (*d - '0')) > 65535)
            return -EINVAL;
    }
    if (port == 0)
        return -EINVAL;
    if (port != (https ? 443 : 80)) {
        char num[8];
        int nl = 0;
        for (long v = port; v > 0; v /= 10)
            num[nl++] = (char)('0' + v % 10);
        w_byte(w, ':');
        while (nl > 0)
            w_byte(w, num[--nl]);
    }
    return 0;
}

struct qparam {
    const char *s;
    size_t len, name_len;
};

/* Walks the canonical bytes of a parameter name, so that sorting orders names
 * as they are written out and the result is a fixed point. */
struct name_iter {
    const char *s;
    size_t len, i, nb, ib;
    char b[3];
};

static int name_iter_next(struct name_iter *it)
{
    if (it->ib == it->nb) {
        if (it->i == it->len)
            return -1;
        it->i += url_byte(it->s, it->len, it->i, it->b, &it->nb);
        it->ib = 0;
    }
    return (unsigned char)it->b[it->ib++];
}

static int qparam_cmp(const struct qparam *a, const struct qparam *b)
{
    struct name_iter ia = {a->s, a->name_len, 0, 0, 0, {0}};
    struct name_iter ib = {b->s, b->name_len, 0, 0, 0, {0}};
    for (;;) {
        int ca = name_iter_next(&ia), cb = name_iter_next(&ib);
        if (ca != cb || ca < 0)
            return ca - cb;
    }
}

/* Drops tracking parameters and empty pieces ("a=1&&b=2"), then writes the
 * rest sorted by name. Insertion sort is stable and, with at most
 * JOBNORM_URL_MAX_PARAMS entries, bounded. */
static int url_query(struct wbuf *w, const char *q, const char *end, unsigned sites)
{
    struct qparam kept[JOBNORM_URL_MAX_PARAMS];
    size_t nkept = 0;
    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        if (!amp)
            amp = end;
        struct qparam prm = {q, (size_t)(amp - q), 0};
        const char *eq = memchr(q, '=', prm.len);
        prm.name_len = eq ? (size_t)(eq - q) : prm.len;
        if (prm.len > 0 && !param_is_tracking(q, prm.name_len, sites)) {
            if (nkept == JOBNORM_URL_MAX_PARAMS)
                return -ENAMETOOLONG;
            size_t i = nkept++;
            for (; i > 0 && qparam_cmp(&kept[i - 1], &prm) > 0; i--)
                kept[i] = kept[i - 1];
            kept[i] = prm;
        }
        q = amp + 1;
    }
    for (size_t i = 0; i < nkept; i++) {
        w_byte(w, i == 0 ? '?' : '&');
        w_url_bytes(w, kept[i].s, kept[i].len);
    }
    return 0;
}

static int url_canon(const char *url, struct wbuf *w)
{
    size_t len = strnlen(url, JOBNORM_URL_MAX_IN + 1);
    if (len > JOBNORM_URL_MAX_IN)
        return -ENAMETOOLONG;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7F)
            return -EINVAL;
    if (!jobnorm_utf8_valid(url, len))
        return -EINVAL;

    bool https = strncasecmp(url, "https://", 8) == 0;
    if (!https && strncasecmp(url, "http://", 7) != 0)
        return -EINVAL;
    w_put(w, https ? "https://" : "http://", https ? 8 : 7);

    const char *p = url + (https ? 8 : 7);
    const char *auth_end = p + strcspn(p, "/?#");
    unsigned sites = 0;
    int rc = url_authority(w, p, auth_end, https, &sites);
    if (rc < 0)
        return rc;

    /* Trailing slashes of a non-root path name the same resource on the
     * boards; an empty path is the root. */
    const char *path_end = auth_end + strcspn(auth_end, "?#");
    const char *trim = path_end;
    while (trim - auth_end > 1 && trim[-1] == '/')
        trim--;
    if (trim == auth_end)
        w_byte(w, '/');
    else
        w_url_bytes(w, auth_end, (size_t)(trim - auth_end));

    const char *frag = path_end;
    if (*path_end == '?') {
        frag = path_end + 1 + strcspn(path_end + 1, "#");
        if ((rc = url_query(w, path_end + 1, frag, sites)) < 0)
            return rc;
    }
    if (*frag == '#' && (frag[1] == '/' || frag[1] == '!'))
        w_url_bytes(w, frag, strlen(frag));
    return w->len < w->n ? 0 : -ENAMETOOLONG;
}

int jobnorm_url_canon(const char *url, char *out, size_t n)
{
    if (!out)
        return -EINVAL;
    struct wbuf w = {out, n, 0};
    int rc = url ? url_canon(url, &w) : -EINVAL;
    if (rc == 0)
        out[w.len] = '\0';
    else if (n > 0)
        out[0] = '\0';
    return rc;
}
