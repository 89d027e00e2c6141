/* Normalising what clients send about a job posting: its URL (the dedup key),
 * the free-text salary of job boards, and a description that may be HTML.
 * Pure: no loop, no I/O, no global state; every function is safe on hostile
 * input and runs in time linear in its input. */
#ifndef HIREWIRE_JOBNORM_H
#define HIREWIRE_JOBNORM_H

#include <stdbool.h>
#include <stddef.h>

/* Whether s[0..len) is strict UTF-8: shortest forms only, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF. NUL bytes are valid UTF-8; callers
 * that store C strings reject them separately. s may be NULL when len is 0. */
bool jobnorm_utf8_valid(const char *s, size_t len);

/* The number of code points in s[0..len), for limits stated in characters.
 * Each maximal invalid sequence counts as one character (the U+FFFD it would
 * become), so the count of any byte string is defined. */
size_t jobnorm_utf8_chars(const char *s, size_t len);

/* Longest URL jobnorm_url_canon() reads, and most query parameters it keeps
 * apart; longer or busier URLs give -ENAMETOOLONG. */
#define JOBNORM_URL_MAX_IN 8192
#define JOBNORM_URL_MAX_PARAMS 256

/* Writes the canonical form of a posting URL into out (n bytes, NUL-terminated),
 * the key on which jobs are deduplicated:
 *   - only absolute http:// and https:// URLs with a host (an ASCII name, as
 *     browsers send international ones, or an [IPv6] literal); scheme and host
 *     are lower-cased, a default port (:80 for http, :443 for https) dropped;
 *   - userinfo ("user:pass@") is dropped: it never identifies a posting and a
 *     password must not end up stored as a job's URL;
 *   - the path keeps its percent-encoding with hex digits upper-cased; bytes a
 *     URL cannot hold raw (non-ASCII, "<>\"\\^`{|}") are percent-encoded; an
 *     empty path becomes "/", trailing slashes of a longer path are dropped;
 *     dot segments are left as they are (browsers have resolved them);
 *   - query: tracking parameters (the table in jobnorm.c: utm_*, gclid, ...,
 *     LinkedIn's trk/refId/trackingId, Indeed's from/tk/vjs, Glassdoor's
 *     src/t/ao/cs/s) are dropped, the others sorted by name (stable, so
 *     repeated names keep their order); an empty query is dropped;
 *   - the fragment is dropped, except a client-side route ("#/..." or "#!...")
 *     which single-page career sites use to name the posting.
 * Returns 0, -EINVAL (NULL argument, not http(s), no or bad host, bad port,
 * control characters or spaces anywhere, invalid UTF-8) or -ENAMETOOLONG (the
 * result does not fit in n bytes, the input is over JOBNORM_URL_MAX_IN bytes or
 * keeps more than JOBNORM_URL_MAX_PARAMS parameters). On failure out holds ""
 * when n > 0. A canonical URL is its own canonical form. */
int jobnorm_url_canon(const char *url, char *out, size_t n);

enum jobnorm_period {
    JOBNORM_UNKNOWN = 0,
    JOBNORM_YEAR,
    JOBNORM_MONTH,
    JOBNORM_WEEK,
    JOBNORM_DAY,
    JOBNORM_HOUR,
};

/* A salary as read from text. An absent bound is NAN (test with isnan()):
 * "From $25 an hour" has min 25 and max NAN, "Up to $90K" min NAN and max
 * 90000; a single amount ("£45K") sets both. Amounts are in the currency's
 * unit per period, not converted. currency is an ISO 4217 code ("USD") or ""
 * when the text names none. */
struct jobnorm_salary {
    double min, max;
    char currency[4];
    enum jobnorm_period period;
};

/* Parses a job board's salary text: "$120k–150k a year", "$120,000 - $150,000
 * per year", "£45K", "€50.000–60.000 pro Jahr", "USD 90,000 to 110,000",
 * "From $25 an hour", "Up to $90K", "$55.50/hr", "$120K+". Understands the
 * symbols $ £ € ¥ ₹ (and CA$, C$, A$, AU$, US$, ...), ISO codes as words (a code
 * wins over a bare "$"), k/K and M suffixes (a suffix on the upper bound only,
 * "$120-150K", applies to both), "," "." "'" and spaces as thousands
 * separators (a separator followed by exactly three digits groups thousands,
 * otherwise "." or "," is the decimal point), range words "-", en/em dash,
 * "to", "bis", "between ... and ...", and period words in English, German and
 * French ("a year", "/hr", "p.a.", "monthly", "pro Jahr", "par mois").
 * Only the first amount (and the range it starts) is read; "401k" and
 * percentages are not amounts. Returns 0 and fills *out; -EINVAL when no amount
 * can be read ("Competitive", "DOE", NULL) or all there is is a small bare
 * number ("3 positions", "10 - 20": no currency, suffix or period, under 1000);
 * -ERANGE when an amount is zero, negative or over 100 million, or min > max.
 * *out is written only on success. */
int jobnorm_salary_parse(const char *text, struct jobnorm_salary *out);

/* "year", "month", "week", "day", "hour"; NULL for JOBNORM_UNKNOWN or any
 * other value. */
const char *jobnorm_period_name(enum jobnorm_period period);

/* Plain text of a job description that may be HTML, malloc'd and
 * NUL-terminated (free() it); *out_len (if out_len is not NULL) gets its length.
 * Input is HTML when it contains a tag ('<' then a letter, '/' or '!', closed
 * by a later '>'); then tags are removed, script/style/template content is
 * dropped, br/p/div/li/h1-6/tr and other block tags give line breaks, li starts
 * a "- " item, and newlines of the source are spaces (except inside pre).
 * Otherwise the text is plain and its newlines are kept. In both: entities are
 * decoded (the common named ones, decimal and hex; an unknown or malformed one
 * is left as text, &nbsp; becomes a space), runs of spaces and tabs become one
 * space, at most two newlines follow each other, leading and trailing
 * whitespace is trimmed, invalid UTF-8 becomes U+FFFD and control characters
 * are dropped. html may be NULL when len is 0. Returns NULL only when out of
 * memory (errno ENOMEM). */
char *jobnorm_html_to_text(const char *html, size_t len, size_t *out_len);

#endif
