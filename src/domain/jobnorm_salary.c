/* Reading the free-text salary of job boards ("$120k–150k a year", "£45K",
 * "€50.000–60.000 pro Jahr", "From $25 an hour").
 *
 * The text is scanned for the first amount; the words before it give the
 * bound ("From", "Up to"), what follows may be a separator and a second
 * amount, and the currency and period are looked up across the whole text.
 * Only the first amount and its range are read: what follows ("+ 10% bonus",
 * "401k") is not pay. */
#include "hirewire/jobnorm.h"
#include "jobnorm_internal.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <strings.h>

#define SALARY_MAX 1e8

/* Spaces between words and in numbers: ASCII space and tab, U+00A0 and the
 * thin spaces U+2009 and U+202F that French and Swiss postings put between
 * thousands. Returns the length, 0 if none. Reading u[1] and u[2] is safe:
 * each is read only after the previous byte proved not to be the NUL. */
static size_t space_len(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    if (u[0] == ' ' || u[0] == '\t')
        return 1;
    if (u[0] == 0xC2 && u[1] == 0xA0)
        return 2;
    return u[0] == 0xE2 && u[1] == 0x80 && (u[2] == 0x89 || u[2] == 0xAF) ? 3 : 0;
}

/* Longest first, so "US$" wins over "$" at the same place. */
static const struct {
    const char *sym, *code;
} currency_symbols[] = {
    {"US$", "USD"},      {"CA$", "CAD"},          {"AU$", "AUD"},
    {"NZ$", "NZD"},      {"HK$", "HKD"},          {"C$", "CAD"},
    {"A$", "AUD"},       {"S$", "SGD"},           {"R$", "BRL"},
    {"$", "USD"},        {"\xc2\xa3", "GBP"},     {"\xe2\x82\xac", "EUR"},
    {"\xc2\xa5", "JPY"}, {"\xe2\x82\xb9", "INR"},
};

static const char currency_codes[][4] = {
    "USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "JPY", "INR",
    "SGD", "HKD", "SEK", "NOK", "DKK", "PLN", "MXN", "BRL", "ZAR",
};

static bool is_upper(unsigned char c)
{
    return c >= 'A' && c <= 'Z';
}

/* A currency mark at p: a symbol, or an upper-case ISO code standing as a word
 * (so "CADENCE" or "usd" are not currencies). after_alpha says whether p
 * follows a letter, which rules out "C$" inside "ABC$" and codes inside words.
 * Returns its length (0 if none), with the code and whether it was a code. */
static size_t currency_at(const char *p, bool after_alpha, const char **code, bool *is_code)
{
    for (size_t i = 0; i < JOBNORM_COUNT_OF(currency_symbols); i++) {
        const char *sym = currency_symbols[i].sym;
        size_t l = strlen(sym);
        if (strncmp(p, sym, l) == 0 && !(after_alpha && jobnorm__alpha(sym[0]))) {
            *code = currency_symbols[i].code;
            *is_code = false;
            return l;
        }
    }
    if (after_alpha || !is_upper(p[0]) || !is_upper(p[1]) || !is_upper(p[2]) ||
        jobnorm__alpha(p[3]))
        return 0;
    for (size_t i = 0; i < JOBNORM_COUNT_OF(currency_codes); i++) {
        if (memcmp(p, currency_codes[i], 3) == 0) {
            *code = currency_codes[i];
            *is_code = true;
            return 3;
        }
    }
    return 0;
}

/* A code names the currency even when a "$" came first ("$120,000 CAD"). */
static void salary_currency(const char *text, char out[4])
{
    const char *sym = NULL;
    bool after_alpha = false;
    for (const char *p = text; *p;) {
        const char *code;
        bool is_code;
        size_t l = currency_at(p, after_alpha, &code, &is_code);
        if (l && is_code) {
            memcpy(out, code, 4);
            return;
        }
        if (l && !sym)
            sym = code;
        l = l ? l : 1;
        after_alpha = jobnorm__alpha(p[l - 1]);
        p += l;
    }
    if (sym)
        memcpy(out, sym, 4);
}

struct amount {
    double value;
    double mult; /* 1, 1e3 for "k", 1e6 for "M" */
};

/* Reads "120", "120,000", "50.000", "50 000", "120'000", "55.50", "1,5",
 * "12,00,000", "120k", "1.2M". A separator followed by exactly three digits
 * (or by two and the same separator again) groups digits; spaces and
 * apostrophes do so only after a first group of at most three digits. '.' or
 * ',' followed by other digits is the decimal point, of which six digits
 * count. The mantissa is kept whole and divided once, so "55.55" is the
 * double nearest 55.55. Returns the position after the amount. */
static const char *read_amount(const char *p, struct amount *a)
{
    static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};
    double mant = 0;
    int ndec = 0;
    size_t first = 0;
    for (; jobnorm__digit(*p); p++, first++)
        mant = mant * 10 + (*p - '0');
    for (;;) {
        bool point = *p == ',' || *p == '.';
        size_t sl = point || *p == '\'' ? 1 : space_len(p);
        size_t nd = 0;
        while (sl && nd < 4 && jobnorm__digit(p[sl + nd]))
            nd++;
        /* Indian grouping puts two digits between the separators before the
         * last three: "12,00,000". */
        bool lakh = point && nd == 2 && p[3] == *p && jobnorm__digit(p[4]);
        if (lakh || (nd == 3 && (point || first <= 3))) {
            for (p += sl; nd-- > 0; p++)
                mant = mant * 10 + (*p - '0');
            continue;
        }
        if (point && nd > 0) {
            for (p++; jobnorm__digit(*p); p++)
                if (ndec < 6)
                    mant = mant * 10 + (*p - '0'), ndec++;
        }
        break;
    }
    const char *m = *p == ' ' ? p + 1 : p;
    a->mult = 1;
    if ((*m == 'k' || *m == 'K' || *m == 'M') && !jobnorm__alpha(m[1])) {
        a->mult = *m == 'M' ? 1e6 : 1e3;
        p = m + 1;
    }
    a->value = mant * a->mult / pow10[ndec];
    return p;
}

/* The first digit that starts an amount, passing over "401k"/"401(k)" (a
 * retirement plan, not pay) and percentages ("10% bonus"). */
static const char *find_amount(const char *p)
{
    while (*p) {
        if (!jobnorm__digit(*p)) {
            p++;
            continue;
        }
        const char *e = p + strspn(p, "0123456789");
        if (e - p == 3 && memcmp(p, "401", 3) == 0 &&
            ((jobnorm__lower(*e) == 'k' && !jobnorm__alpha(e[1])) ||
             strncasecmp(e, "(k)", 3) == 0)) {
            p = e;
            continue;
        }
        struct amount a;
        const char *after = read_amount(p, &a);
        const char *q = after + space_len(after);
        if (*q != '%')
            return p;
        p = q;
    }
    return NULL;
}

/* A minus sign right before the amount or its currency symbol ("-$500"). */
static bool negative_before(const char *text, const char *first)
{
    const char *q = first;
    for (size_t i = 0; i < JOBNORM_COUNT_OF(currency_symbols); i++) {
        size_t l = strlen(currency_symbols[i].sym);
        if ((size_t)(q - text) >= l && memcmp(q - l, currency_symbols[i].sym, l) == 0) {
            q -= l;
            break;
        }
    }
    if (q > text && q[-1] == '-')
        return true;
    return q - text >= 3 && memcmp(q - 3, "\xe2\x88\x92", 3) == 0;
}

/* Length of a word character at s: an ASCII letter, or a Latin-1 letter in
 * UTF-8 (C3 80..BF but for x and /), which the German and French words need. */
static size_t word_char(const char *p)
{
    const unsigned char *s = (const unsigned char *)p;
    if (jobnorm__alpha(s[0]))
        return 1;
    return s[0] == 0xC3 && s[1] >= 0x80 && s[1] <= 0xBF && s[1] != 0x97 && s[1] != 0xB7 ? 2 : 0;
}

/* The next word in [*p, end), ASCII lower-cased into w; a word too long for w
 * comes back as "" (it matches nothing). Returns false when none is left. */
static bool next_word(const char **p, const char *end, char w[16])
{
    const char *s = *p;
    while (s < end && !word_char(s))
        s++;
    if (s >= end) {
        *p = end;
        return false;
    }
    size_t n = 0;
    for (size_t l; s < end && (l = word_char(s)) > 0; s += l)
        for (size_t i = 0; i < l; i++, n++)
            if (n < 15)
                w[n] = (char)jobnorm__lower((unsigned char)s[i]);
    w[n < 16 ? n : 0] = '\0';
    *p = s;
    return true;
}

/* Period words; prev, when set, must be the word before ("p.a.", "par an":
 * on its own "an" is English, as in "an hour"). */
static const struct {
    const char *prev, *word;
    enum jobnorm_period period;
} period_words[] = {
    {NULL, "year", JOBNORM_YEAR},    {NULL, "yearly", JOBNORM_YEAR},
    {NULL, "yr", JOBNORM_YEAR},      {NULL, "annum", JOBNORM_YEAR},
    {NULL, "annual", JOBNORM_YEAR},  {NULL, "annually", JOBNORM_YEAR},
    {NULL, "pa", JOBNORM_YEAR},      {"p", "a", JOBNORM_YEAR},
    {NULL, "jahr", JOBNORM_YEAR},    {NULL, "j\xc3\xa4hrlich", JOBNORM_YEAR},
    {"par", "an", JOBNORM_YEAR},     {NULL, "annuel", JOBNORM_YEAR},
    {NULL, "month", JOBNORM_MONTH},  {NULL, "monthly", JOBNORM_MONTH},
    {NULL, "mo", JOBNORM_MONTH},     {NULL, "mth", JOBNORM_MONTH},
    {NULL, "monat", JOBNORM_MONTH},  {NULL, "monatlich", JOBNORM_MONTH},
    {NULL, "mois", JOBNORM_MONTH},   {NULL, "mensuel", JOBNORM_MONTH},
    {NULL, "week", JOBNORM_WEEK},    {NULL, "weekly", JOBNORM_WEEK},
    {NULL, "wk", JOBNORM_WEEK},      {NULL, "woche", JOBNORM_WEEK},
    {NULL, "semaine", JOBNORM_WEEK}, {NULL, "day", JOBNORM_DAY},
    {NULL, "daily", JOBNORM_DAY},    {NULL, "tag", JOBNORM_DAY},
    {NULL, "jour", JOBNORM_DAY},     {NULL, "hour", JOBNORM_HOUR},
    {NULL, "hourly", JOBNORM_HOUR},  {NULL, "hr", JOBNORM_HOUR},
    {NULL, "h", JOBNORM_HOUR},       {NULL, "stunde", JOBNORM_HOUR},
    {NULL, "std", JOBNORM_HOUR},     {NULL, "heure", JOBNORM_HOUR},
};

static enum jobnorm_period period_in(const char *p, const char *end)
{
    char prev[16] = "", w[16];
    while (next_word(&p, end, w)) {
        for (size_t i = 0; i < JOBNORM_COUNT_OF(period_words); i++)
            if (strcmp(w, period_words[i].word) == 0 &&
                (!period_words[i].prev || strcmp(prev, period_words[i].prev) == 0))
                return period_words[i].period;
        memcpy(prev, w, sizeof(prev));
    }
    return JOBNORM_UNKNOWN;
}

static bool word_in(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(w, *list) == 0)
            return true;
    return false;
}

enum { BOUND_BOTH, BOUND_MIN, BOUND_MAX };

/* What the words before the first amount say: "From", "Starting at", "At
 * least", "ab" give a lower bound, "Up to", "Max", "bis" an upper one; the
 * word nearest the amount wins. "Between" lets "and" join a range. */
static int salary_prefix(const char *text, const char *first, bool *between)
{
    static const char *const min_words[] = {"from",  "starting", "starts", "min",        "minimum",
                                            "least", "ab",       "partir", "d\xc3\xa8s", NULL};
    static const char *const max_words[] = {"max", "maximum", "under", "below",
                                            "bis", "jusqu",   NULL};
    static const char *const between_words[] = {"between", "zwischen", "entre", NULL};
    int bound = BOUND_BOTH;
    char prev[16] = "", w[16];
    while (next_word(&text, first, w)) {
        if (word_in(w, min_words))
            bound = BOUND_MIN;
        else if (word_in(w, max_words) || (strcmp(prev, "up") == 0 && strcmp(w, "to") == 0))
            bound = BOUND_MAX;
        else if (word_in(w, between_words))
            *between = true;
        memcpy(prev, w, sizeof(prev));
    }
    return bound;
}

/* Spaces, currency marks and a unit ("/hr") around the range separator. */
static const char *skip_filler(const char *p)
{
    for (;;) {
        const char *code;
        bool is_code;
        size_t l = space_len(p);
        if (!l)
            l = currency_at(p, false, &code, &is_code);
        if (!l && *p == '/')
            for (l = 1; jobnorm__alpha(p[l]);)
                l++;
        if (!l)
            return p;
        p += l;
    }
}

static size_t word_at(const char *p, const char *w)
{
    size_t l = strlen(w);
    return strncasecmp(p, w, l) == 0 && !word_char(p + l) ? l : 0;
}

/* After the first amount: a dash or a range word, then the second amount.
 * Returns where the second amount starts, NULL if there is no range. */
static const char *range_next(const char *p, bool between)
{
    static const char *const dashes[] = {
        "-", "~", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x92", "\xe2\x88\x92"};
    p = skip_filler(p);
    size_t l = 0;
    for (size_t i = 0; i < JOBNORM_COUNT_OF(dashes) && !l; i++)
        if (strncmp(p, dashes[i], strlen(dashes[i])) == 0)
            l = strlen(dashes[i]);
    if (!l && (l = word_at(p, "up")) > 0) {
        p = skip_filler(p + l);
        l = word_at(p, "to");
    } else if (!l) {
        l = word_at(p, "to") + word_at(p, "bis") + word_at(p, "\xc3\xa0");
        if (!l && between)
            l = word_at(p, "and") + word_at(p, "und") + word_at(p, "et");
    }
    if (!l)
        return NULL;
    p = skip_filler(p + l);
    return jobnorm__digit(*p) ? p : NULL;
}

static bool amount_ok(double v)
{
    return isnan(v) || (v > 0 && v <= SALARY_MAX);
}

int jobnorm_salary_parse(const char *text, struct jobnorm_salary *out)
{
    const char *first = text && out ? find_amount(text) : NULL;
    if (!first)
        return -EINVAL;

    struct jobnorm_salary s = {NAN, NAN, "", JOBNORM_UNKNOWN};
    bool between = false;
    int bound = salary_prefix(text, first, &between);
    struct amount a, b = {0, 1};
    const char *p = read_amount(first, &a);
    const char *second = range_next(p, between);
    if (second) {
        read_amount(second, &b);
        /* "$120-150K": the suffix of the upper bound is meant for both. */
        if (a.mult == 1 && b.mult > 1 && a.value < 1000 && a.value * b.mult <= b.value)
            a.value *= b.mult, a.mult = b.mult;
        s.min = a.value;
        s.max = b.value;
    } else if (*p == '+' || bound == BOUND_MIN) {
        s.min = a.value;
    } else if (bound == BOUND_MAX) {
        s.max = a.value;
    } else {
        s.min = s.max = a.value;
    }
    salary_currency(text, s.currency);
    s.period = period_in(first, first + strlen(first));
    if (s.period == JOBNORM_UNKNOWN)
        s.period = period_in(text, first);

    if (negative_before(text, first))
        return -ERANGE;
    /* A bare small number ("3", "10 - 20") says nothing about pay. */
    if (!s.currency[0] && s.period == JOBNORM_UNKNOWN && a.mult == 1 && b.mult == 1 &&
        a.value < 1000 && b.value < 1000)
        return -EINVAL;
    if (!amount_ok(s.min) || !amount_ok(s.max) || s.min > s.max)
        return -ERANGE;
    *out = s;
    return 0;
}

const char *jobnorm_period_name(enum jobnorm_period period)
{
    switch (period) {
    case JOBNORM_YEAR:
        return "year";
    case JOBNORM_MONTH:
        return "month";
    case JOBNORM_WEEK:
        return "week";
    case JOBNORM_DAY:
        return "day";
    case JOBNORM_HOUR:
        return "hour";
    default:
        return NULL;
    }
}
