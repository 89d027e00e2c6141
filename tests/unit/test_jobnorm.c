#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hirewire/jobnorm.h"

#include "testutil.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* A fixed-seed generator so that the randomized tests repeat exactly. */
static uint32_t rng_state = 2463534242u;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* ---- UTF-8 ---- */

static void test_utf8_examples(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len;
        bool valid;
        size_t chars;
    } cases[] = {
        {"", 0, true, 0},
        {"abc", 3, true, 3},
        {"a\0b", 3, true, 3},
        {"h\xc3\xa9llo \xe2\x82\xac", 10, true, 7},
        {"\xf0\x9d\x84\x9e", 4, true, 1}, /* U+1D11E */
        {"\xf4\x8f\xbf\xbf", 4, true, 1}, /* U+10FFFF */
        {"\xef\xbf\xbf\xed\x9f\xbf\xee\x80\x80", 9, true, 3},
        {"\xc0\x80", 2, false, 2}, /* overlong NUL */
        {"\xc1\xbf", 2, false, 2},
        {"\xe0\x80\x80", 3, false, 3},
        {"\xe0\x9f\xbf", 3, false, 3}, /* overlong U+07FF */
        {"\xed\xa0\x80", 3, false, 3}, /* surrogate */
        {"\xed\xbf\xbf", 3, false, 3},
        {"\xf0\x8f\xbf\xbf", 4, false, 4}, /* overlong U+FFFF */
        {"\xf4\x90\x80\x80", 4, false, 4}, /* U+110000 */
        {"\xf5\x80\x80\x80", 4, false, 4},
        {"\xff", 1, false, 1},
        {"\x80", 1, false, 1},
        {"\xe2\x82", 2, false, 1}, /* truncated: one maximal subpart */
        {"\342\202a", 3, false, 2},
        {"\xf0\x9f\x98", 3, false, 1},
        {"a\xc3", 2, false, 2},
        {"\xc3\xa9\xc3", 3, false, 2},
    };
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        if (jobnorm_utf8_valid(cases[i].s, cases[i].len) != cases[i].valid)
            fail_msg("case %zu: valid != %d", i, cases[i].valid);
        if (jobnorm_utf8_chars(cases[i].s, cases[i].len) != cases[i].chars)
            fail_msg("case %zu: chars %zu, want %zu", i,
                     jobnorm_utf8_chars(cases[i].s, cases[i].len), cases[i].chars);
    }
    assert_true(jobnorm_utf8_valid(NULL, 0));
    assert_int_equal(jobnorm_utf8_chars(NULL, 0), 0);
}

/* Every sequence of one to three bytes, and every four-byte sequence over the
 * lead bytes that matter with all second bytes, against the reference. */
static void test_utf8_exhaustive(void **state)
{
    (void)state;
    unsigned char b[4];
    for (unsigned x = 0; x < 0x1000000; x++) {
        b[0] = (unsigned char)(x >> 16), b[1] = (unsigned char)(x >> 8), b[2] = (unsigned char)x;
        size_t len = b[0] < 0xC0 ? 1 : b[0] < 0xE0 ? 2 : 3;
        if ((len == 1 && (x & 0xFFFF)) || (len == 2 && (x & 0xFF)))
            continue;
        if (jobnorm_utf8_valid((char *)b, len) != ref_utf8_valid(b, len))
            fail_msg("%02x %02x %02x", b[0], b[1], b[2]);
    }
    for (unsigned lead = 0xF0; lead <= 0xF8; lead++) {
        for (unsigned x = 0; x < 0x10000; x++) {
            unsigned char q[4] = {(unsigned char)lead, (unsigned char)(x >> 8), (unsigned char)x,
                                  (unsigned char)(0x80 + (x % 0x41))};
            if (jobnorm_utf8_valid((char *)q, 4) != ref_utf8_valid(q, 4))
                fail_msg("%02x %02x %02x %02x", q[0], q[1], q[2], q[3]);
        }
    }
}

/* ---- URL ---- */

static void expect_url(const char *in, const char *want)
{
    char out[1024];
    int rc = jobnorm_url_canon(in, out, sizeof(out));
    if (rc != 0 || strcmp(out, want) != 0)
        fail_msg("url_canon(\"%s\") = %d \"%s\"; want \"%s\"", in, rc, out, want);
    /* Canonical forms are fixed points. */
    char again[1024];
    rc = jobnorm_url_canon(out, again, sizeof(again));
    if (rc != 0 || strcmp(again, out) != 0)
        fail_msg("url_canon(\"%s\") = %d \"%s\": not a fixed point", out, rc, again);
}

static void expect_url_err(const char *in, int want)
{
    char out[256];
    memset(out, 'x', sizeof(out));
    int rc = jobnorm_url_canon(in, out, sizeof(out));
    if (rc != want || out[0] != '\0')
        fail_msg("url_canon(\"%s\") = %d \"%.20s\"; want %d", in ? in : "(null)", rc, out, want);
}

static void test_url_scheme_host_port(void **state)
{
    (void)state;
    expect_url("https://www.LinkedIn.com:443/jobs/view/123/?trk=abc&utm_source=x#frag",
               "https://www.linkedin.com/jobs/view/123");
    expect_url("HTTP://Example.COM", "http://example.com/");
    expect_url("hTTpS://EXAMPLE.com/Path/CASE", "https://example.com/Path/CASE");
    expect_url("http://example.com:80/a", "http://example.com/a");
    expect_url("https://example.com:80/a", "https://example.com:80/a");
    expect_url("http://example.com:443/", "http://example.com:443/");
    expect_url("https://example.com:0443/x", "https://example.com/x");
    expect_url("https://example.com:8443", "https://example.com:8443/");
    expect_url("https://example.com:", "https://example.com/");
    expect_url("https://example.com:65535/", "https://example.com:65535/");
    expect_url("https://user:secret@Example.com/x", "https://example.com/x");
    expect_url("https://a@b@example.com/", "https://example.com/");
    expect_url("https://[2001:DB8::1]:8080/a/", "https://[2001:db8::1]:8080/a");
    expect_url("http://127.0.0.1:8000/jobs", "http://127.0.0.1:8000/jobs");
    expect_url("https://jobs.example_corp.com/", "https://jobs.example_corp.com/");
    expect_url("https://example.com?x=1", "https://example.com/?x=1");
    expect_url("https://example.com#frag", "https://example.com/");
}

static void test_url_path(void **state)
{
    (void)state;
    expect_url("https://example.com/a/b/", "https://example.com/a/b");
    expect_url("https://example.com/a//", "https://example.com/a");
    expect_url("https://example.com/", "https://example.com/");
    expect_url("https://example.com//", "https://example.com/");
    expect_url("https://example.com/caf%c3%a9", "https://example.com/caf%C3%A9");
    expect_url("https://example.com/%2f/x", "https://example.com/%2F/x");
    expect_url("https://example.com/50%", "https://example.com/50%");
    expect_url("https://example.com/a%zz%4", "https://example.com/a%zz%4");
    expect_url("https://example.com/café", "https://example.com/caf%C3%A9");
    expect_url("https://example.com/a|b{c}\"d\"", "https://example.com/a%7Cb%7Bc%7D%22d%22");
    expect_url("https://example.com/a/./b/../c", "https://example.com/a/./b/../c");
    expect_url("https://example.com/jobs/view/senior-c-dev-at-acme-123/",
               "https://example.com/jobs/view/senior-c-dev-at-acme-123");
}

static void test_url_query(void **state)
{
    (void)state;
    expect_url("https://example.com/s?b=2&a=1", "https://example.com/s?a=1&b=2");
    /* Stable: repeated names keep their order. */
    expect_url("https://example.com/s?b=2&a=3&a=1", "https://example.com/s?a=3&a=1&b=2");
    expect_url("https://example.com/s?ab=1&a=2&aa", "https://example.com/s?a=2&aa&ab=1");
    expect_url("https://example.com/s?", "https://example.com/s");
    expect_url("https://example.com/s/?&&", "https://example.com/s");
    expect_url("https://example.com/s?utm_source=x&UTM_Medium=y", "https://example.com/s");
    expect_url("https://example.com/s?id=5&gclid=1&fbclid=2&msclkid=3&mc_cid=4&mc_eid=5"
               "&_hsenc=6&_hsmkt=7&igshid=8&utm_campaign=9",
               "https://example.com/s?id=5");
    expect_url("https://example.com/s?a=&b", "https://example.com/s?a=&b");
    expect_url("https://example.com/s?q=c%2b%2b&x=%e2", "https://example.com/s?q=c%2B%2B&x=%E2");
    expect_url("https://example.com/s?utm=keep&utm_=drop", "https://example.com/s?utm=keep");
    /* The boards' short tracking names are ordinary parameters elsewhere. */
    expect_url("https://example.com/jobs?from=home&t=5&s=3&trk=1",
               "https://example.com/jobs?from=home&s=3&t=5&trk=1");
}

static void test_url_boards(void **state)
{
    (void)state;
    expect_url("https://www.indeed.com/viewjob?jk=abc123&from=serp&vjs=3&tk=1h2&advn=99",
               "https://www.indeed.com/viewjob?jk=abc123");
    expect_url("https://uk.indeed.com/viewjob?from=x&jk=1", "https://uk.indeed.com/viewjob?jk=1");
    expect_url("https://www.indeed.co.uk/viewjob?jk=1&tk=x&fccid=9",
               "https://www.indeed.co.uk/viewjob?jk=1");
    expect_url("https://www.indeed.com/jobs?q=c&vjk=77&from=searchOnHP",
               "https://www.indeed.com/jobs?q=c&vjk=77");
    expect_url("https://www.glassdoor.com/job-listing/eng-acme-JV_IC1147401_KO0,8.htm?jl=1009"
               "&pos=101&ao=1136043&s=58&guid=0000&src=GD_JOB_AD&t=SR&vt=w&cs=1_7&cb=1"
               "&jobListingId=1009&jrtk=5-yul1",
               "https://www.glassdoor.com/job-listing/eng-acme-JV_IC1147401_KO0,8.htm"
               "?jl=1009&jobListingId=1009");
    expect_url("https://www.glassdoor.co.uk/Job/x.htm?jl=5&src=a",
               "https://www.glassdoor.co.uk/Job/x.htm?jl=5");
    expect_url("https://www.linkedin.com/jobs/search/?currentJobId=3791&trk=x&refId=y"
               "&trackingId=z&lipi=w&originalSubdomain=uk&position=1&pageNum=0",
               "https://www.linkedin.com/jobs/search?currentJobId=3791");
    expect_url("https://boards.greenhouse.io/acme/jobs/1?gh_src=abc&gh_jid=1",
               "https://boards.greenhouse.io/acme/jobs/1?gh_jid=1");
}

static void test_url_fragment_routes(void **state)
{
    (void)state;
    expect_url("https://careers.example.com/#/jobs/123", "https://careers.example.com/#/jobs/123");
    expect_url("https://careers.example.com/?utm_x=1#!/job/1",
               "https://careers.example.com/#!/job/1");
    expect_url("https://example.com/p#section", "https://example.com/p");
    expect_url("https://example.com/p#", "https://example.com/p");
    expect_url("https://example.com/p?a=1#x?b=2", "https://example.com/p?a=1");
}

static void test_url_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "ftp://example.com/",
        "//example.com/",
        "example.com/jobs",
        "https:/example.com",
        "https://",
        "https:///path",
        "https://?q=1",
        "https://exa mple.com/",
        "https://example.com/a b",
        " https://example.com/",
        "https://example.com/ ",
        "https://example.com/\t",
        "https://example.com/\x7f",
        "https://example.com/\n",
        "https://ex%41mple.com/",
        "https://example..com/",
        "https://.example.com/",
        "https://example.com:99999/",
        "https://example.com:65536/",
        "https://example.com:0/",
        "https://example.com:8a/",
        "https://example.com:-1/",
        "https://example.com:80:80/",
        "https://user@/",
        "https://[::1/",
        "https://[zz::]/",
        "https://[]/",
        "https://[1234]/",
        "https://[::1]x/",
        "https://example.com/\xff",
        "https://example.com/\xc3",
        "https://exämple.com/",
        "javascript:alert(1)",
        "mailto:x@example.com",
        "httpx://example.com/",
    };
    for (size_t i = 0; i < COUNT_OF(bad); i++)
        expect_url_err(bad[i], -EINVAL);
    expect_url_err(NULL, -EINVAL);
    assert_int_equal(jobnorm_url_canon("https://example.com/", NULL, 10), -EINVAL);
}

static void test_url_lengths(void **state)
{
    (void)state;
    const char *in = "https://example.com/abc?x=1";
    const char *want = "https://example.com/abc?x=1";
    size_t wl = strlen(want);
    char out[64];
    assert_int_equal(jobnorm_url_canon(in, out, wl + 1), 0);
    assert_string_equal(out, want);
    for (size_t n = 0; n <= wl; n++) {
        memset(out, 'x', sizeof(out));
        assert_int_equal(jobnorm_url_canon(in, out, n), -ENAMETOOLONG);
        assert_true(n == 0 ? out[0] == 'x' : out[0] == '\0');
        for (size_t i = n; i < sizeof(out); i++)
            assert_int_equal(out[i], 'x');
    }

    /* Tracking parameters may make a long input short. */
    static char big[JOBNORM_URL_MAX_IN + 2];
    size_t len = (size_t)sprintf(big, "https://example.com/j?id=7");
    while (len + 12 <= JOBNORM_URL_MAX_IN)
        len += (size_t)sprintf(big + len, "&utm_a%04zu=1", len % 10000);
    assert_int_equal(jobnorm_url_canon(big, out, sizeof(out)), 0);
    assert_string_equal(out, "https://example.com/j?id=7");
    memset(big + len, 'a', JOBNORM_URL_MAX_IN + 1 - len);
    big[JOBNORM_URL_MAX_IN + 1] = '\0';
    expect_url_err(big, -ENAMETOOLONG);

    /* JOBNORM_URL_MAX_PARAMS kept parameters fit, one more does not. */
    static char many[JOBNORM_URL_MAX_IN + 1];
    static char res[JOBNORM_URL_MAX_IN + 1];
    len = (size_t)sprintf(many, "https://e.com/?");
    for (int i = 0; i < JOBNORM_URL_MAX_PARAMS; i++)
        len += (size_t)sprintf(many + len, "%sp%03d", i ? "&" : "", JOBNORM_URL_MAX_PARAMS - 1 - i);
    assert_int_equal(jobnorm_url_canon(many, res, sizeof(res)), 0);
    assert_memory_equal(res, "https://e.com/?p000&p001&p002", 29);
    sprintf(many + len, "&q");
    assert_int_equal(jobnorm_url_canon(many, res, sizeof(res)), -ENAMETOOLONG);
}

/* ---- salary ---- */

#define NA NAN
#define YR JOBNORM_YEAR
#define MO JOBNORM_MONTH
#define WK JOBNORM_WEEK
#define DY JOBNORM_DAY
#define HR JOBNORM_HOUR
#define UN JOBNORM_UNKNOWN

static const struct sal_case {
    const char *text;
    double min, max;
    const char *cur;
    enum jobnorm_period period;
} salary_cases[] = {
    {"$120k–150k a year", 120000, 150000, "USD", YR},
    {"$120,000 - $150,000 per year", 120000, 150000, "USD", YR},
    {"£45K", 45000, 45000, "GBP", UN},
    {"€50.000–60.000 pro Jahr", 50000, 60000, "EUR", YR},
    {"From $25 an hour", 25, NA, "USD", HR},
    {"Up to $90K", NA, 90000, "USD", UN},
    {"$55.50/hr", 55.5, 55.5, "USD", HR},
    {"$55.55", 55.55, 55.55, "USD", UN},
    {"$120K+", 120000, NA, "USD", UN},
    {"$100,000 — $130,000 a year", 100000, 130000, "USD", YR},
    {"$50k to $60k", 50000, 60000, "USD", UN},
    {"USD 90,000 to 110,000 annually", 90000, 110000, "USD", YR},
    {"90,000 - 110,000 CAD per year", 90000, 110000, "CAD", YR},
    {"CA$80,000–95,000", 80000, 95000, "CAD", UN},
    {"C$25/hour", 25, 25, "CAD", HR},
    {"A$120k", 120000, 120000, "AUD", UN},
    {"$120,000 CAD", 120000, 120000, "CAD", UN},
    {"CHF 120'000 - 140'000", 120000, 140000, "CHF", UN},
    {"45 000 € par an", 45000, 45000, "EUR", YR},
    {"45\u202f000 € par mois", 45000, 45000, "EUR", MO},
    {"45\u00a0000\u00a0€ par mois", 45000, 45000, "EUR", MO},
    {"€3.500 pro Monat", 3500, 3500, "EUR", MO},
    {"€3.500,50 brutto monatlich", 3500.5, 3500.5, "EUR", MO},
    {"$120-150K", 120000, 150000, "USD", UN},
    {"$1.2M", 1200000, 1200000, "USD", UN},
    {"Between $50,000 and $60,000", 50000, 60000, "USD", UN},
    {"$50,000 and benefits", 50000, 50000, "USD", UN},
    {"$40/hr, 40 hours/week", 40, 40, "USD", HR},
    {"$3,000 monthly", 3000, 3000, "USD", MO},
    {"$800 weekly", 800, 800, "USD", WK},
    {"$200 per day", 200, 200, "USD", DY},
    {"£30 - £35 per hour", 30, 35, "GBP", HR},
    {"$25/hr - $30/hr", 25, 30, "USD", HR},
    {"$60K/yr", 60000, 60000, "USD", YR},
    {"£40k p.a.", 40000, 40000, "GBP", YR},
    {"50k pa", 50000, 50000, "", YR},
    {"65000", 65000, 65000, "", UN},
    {"120000-150000", 120000, 150000, "", UN},
    {"25 - 30 per hour", 25, 30, "", HR},
    {"Starting at $22/hr", 22, NA, "USD", HR},
    {"At least $100k", 100000, NA, "USD", UN},
    {"Ab 50.000 €", 50000, NA, "EUR", UN},
    {"Bis zu 60.000 € im Jahr", NA, 60000, "EUR", YR},
    {"Max $80k", NA, 80000, "USD", UN},
    {"From $50k up to $80k", 50000, 80000, "USD", UN},
    {"De 40 000 à 50 000 € par an", 40000, 50000, "EUR", YR},
    {"$22.75 - $28.50 an hour", 22.75, 28.5, "USD", HR},
    {"$120,000.00 - $150,000.00", 120000, 150000, "USD", UN},
    {"Competitive salary + 401k, $90k base", 90000, 90000, "USD", UN},
    {"Estimated: $95K – $120K a year + 10% bonus", 95000, 120000, "USD", YR},
    {"$100M", 100000000, 100000000, "USD", UN},
    {"¥5,000,000", 5000000, 5000000, "JPY", UN},
    {"₹12,00,000 per annum", 1200000, 1200000, "INR", YR},
    {"yearly: 70.000 EUR", 70000, 70000, "EUR", YR},
};

static bool same(double got, double want)
{
    return isnan(want) ? isnan(got) : got == want;
}

static void test_salary_forms(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT_OF(salary_cases); i++) {
        const struct sal_case *c = &salary_cases[i];
        struct jobnorm_salary s;
        int rc = jobnorm_salary_parse(c->text, &s);
        if (rc != 0 || !same(s.min, c->min) || !same(s.max, c->max) ||
            strcmp(s.currency, c->cur) != 0 || s.period != c->period)
            fail_msg("salary(\"%s\") = %d {%.17g, %.17g, \"%s\", %d}; want {%g, %g, \"%s\", %d}",
                     c->text, rc, s.min, s.max, rc == 0 ? s.currency : "",
                     rc == 0 ? (int)s.period : -1, c->min, c->max, c->cur, (int)c->period);
    }
}

static void test_salary_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int rc;
    } cases[] = {{"Competitive", -EINVAL},
                 {"DOE", -EINVAL},
                 {"", -EINVAL},
                 {"Depends on experience", -EINVAL},
                 {"401k match", -EINVAL},
                 {"Competitive + 401(k)", -EINVAL},
                 {"10% bonus", -EINVAL},
                 {"3 positions", -EINVAL},
                 {"10 - 20", -EINVAL},
                 {"$", -EINVAL},
                 {"$150k - $120k", -ERANGE},
                 {"-$50,000", -ERANGE},
                 {"$-50,000", -ERANGE},
                 {"−50000 EUR", -ERANGE},
                 {"$0", -ERANGE},
                 {"$0 - $50k", -ERANGE},
                 {"$200,000,000", -ERANGE},
                 {"$101M", -ERANGE},
                 {"$100,000 - $1,000,000,000 per year", -ERANGE},
                 {"$99999999999999999999999999999999999999999999999999999999999999", -ERANGE}};
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        struct jobnorm_salary s;
        memset(&s, 0x5a, sizeof(s));
        int rc = jobnorm_salary_parse(cases[i].text, &s);
        if (rc != cases[i].rc)
            fail_msg("salary(\"%s\") = %d, want %d", cases[i].text, rc, cases[i].rc);
        /* Untouched on failure. */
        unsigned char *b = (unsigned char *)&s;
        for (size_t k = 0; k < sizeof(s); k++)
            assert_int_equal(b[k], 0x5a);
    }
    struct jobnorm_salary s;
    assert_int_equal(jobnorm_salary_parse(NULL, &s), -EINVAL);
    assert_int_equal(jobnorm_salary_parse("$50k", NULL), -EINVAL);
}

static void test_period_names(void **state)
{
    (void)state;
    assert_string_equal(jobnorm_period_name(JOBNORM_YEAR), "year");
    assert_string_equal(jobnorm_period_name(JOBNORM_MONTH), "month");
    assert_string_equal(jobnorm_period_name(JOBNORM_WEEK), "week");
    assert_string_equal(jobnorm_period_name(JOBNORM_DAY), "day");
    assert_string_equal(jobnorm_period_name(JOBNORM_HOUR), "hour");
    assert_null(jobnorm_period_name(JOBNORM_UNKNOWN));
    assert_null(jobnorm_period_name((enum jobnorm_period)99));
}

/* ---- HTML ---- */

static void expect_text_n(const char *in, size_t len, const char *want)
{
    size_t out_len = 12345;
    char *out = jobnorm_html_to_text(in, len, &out_len);
    assert_non_null(out);
    if (strcmp(out, want) != 0 || out_len != strlen(want))
        fail_msg("html_to_text(\"%.*s\") = \"%s\" (%zu); want \"%s\"", (int)len, in, out, out_len,
                 want);
    free(out);
}

static void expect_text(const char *in, const char *want)
{
    expect_text_n(in, strlen(in), want);
}

static void test_html_plain(void **state)
{
    (void)state;
    expect_text("Hello   world", "Hello world");
    expect_text("  a\t\tb  ", "a b");
    expect_text("a\n\n\n\nb", "a\n\nb");
    expect_text("a \n b", "a\nb");
    expect_text("a\r\nb\rc", "a\nb\nc");
    expect_text("\n\n  Senior C developer\n- C11\n- libuv\n\n",
                "Senior C developer\n- C11\n- libuv");
    expect_text("x < y && a > b", "x < y && a > b");
    expect_text("AT&T, Tom &amp; Jerry", "AT&T, Tom & Jerry");
    expect_text("salary <50k", "salary <50k");
    expect_text("text <b", "text <b");
    expect_text("", "");
    expect_text_n(NULL, 0, "");
}

static void test_html_blocks(void **state)
{
    (void)state;
    expect_text("<p>Hello</p><p>World</p>", "Hello\n\nWorld");
    expect_text("<b>bold</b> text, <span>in</span>line", "bold text, inline");
    expect_text("a<br>b<br/>c<BR />d", "a\nb\nc\nd");
    expect_text("a<br><br><br><br>b", "a\n\nb");
    expect_text("<ul><li>One</li><li>Two</li></ul>", "- One\n- Two");
    expect_text("<ul>\n  <li>One</li>\n  <li>Two</li>\n</ul>", "- One\n- Two");
    expect_text("<li></li><li> x </li><LI>y", "- x\n- y");
    expect_text("<h1>Title</h1>Body<h2>Next</h2>", "Title\n\nBody\n\nNext");
    expect_text("<div>a</div><div>b</div>", "a\nb");
    expect_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc");
    expect_text("<p>line one\nline two</p>", "line one line two");
    expect_text("<p>Hi</p>\n\n\n<p>There</p>", "Hi\n\nThere");
    expect_text("<pre>a\n  b\n\n\n\nc</pre>after\nthis", "a\nb\n\nc\nafter this");
    expect_text("<p>  </p>\n<p> x </p>  <br>", "x");
    expect_text("<div><p>Nested <em>deep <strong>text</strong></em></p></div>", "Nested deep text");
}

static void test_html_raw_and_comments(void **state)
{
    (void)state;
    expect_text("a<script>var x = '<p>'; if (a<b) {}</script>b", "ab");
    expect_text("<style>p{color:red}</style>Text", "Text");
    expect_text("<SCRIPT type=x>alert(1)</SCRIPT >after", "after");
    expect_text("<p>x</p><script>never closed", "x");
    expect_text("<script>a</scripty>b</script>c", "c");
    expect_text("<template><p>t</p></template>shown", "shown");
    expect_text("a<!-- <p>hidden</p> -->b", "ab");
    expect_text("a<!-->b", "ab");
    expect_text("a<!--->b", "ab");
    expect_text("<p>a</p><!-- unterminated <p>b</p>", "a");
    expect_text("<!DOCTYPE html><html><head><title>T</title></head><body>x</body></html>", "Tx");
    expect_text("<?xml version=\"1.0\"?><p>x</p>", "x");
}

static void test_html_tags_hostile(void **state)
{
    (void)state;
    expect_text("<p>a < b</p>", "a < b");
    expect_text("<p>a</p><", "a\n\n<");
    expect_text("<p>text</p> <b", "text");
    expect_text("<a title=\"x>y\" href='/'>link</a>", "link");
    expect_text("<p class=don't>x</p>", "x");
    expect_text("<a href=\"x>text</a><b>more</b>", "textmore");
    expect_text("<p>1</p><a href='x>2</a><b>3</b><i>4</i>", "1\n\n234");
    expect_text("<p>x</p></ p>y</>z", "x\n\n</ p>y</>z");
    expect_text("<averyveryverylongtagname>x</averyveryverylongtagname>", "x");
}

static void test_html_entities(void **state)
{
    (void)state;
    expect_text("&lt;b&gt; &amp; &quot;q&quot; &apos;a&apos;", "<b> & \"q\" 'a'");
    expect_text("&mdash;&ndash;&hellip;&rsquo;&lsquo;&rdquo;&ldquo;&bull;&middot;&copy;&reg;"
                "&trade;&euro;&pound;",
                "—–…’‘”“•·©®™€£");
    expect_text("&#65;&#x42;&#X43;&#0068;", "ABCD");
    expect_text("&#8212;&#x1F600;", "—😀");
    expect_text("a&#0;b&#xD800;c&#x110000;d", "a\uFFFDb\uFFFDc\uFFFDd");
    expect_text("&#150;&#146;&#129;x", "–’x");
    expect_text("&#1;x&#127;", "x");
    expect_text("a&nbsp;&nbsp;b&#160;c&#10;d", "a b c\nd");
    expect_text("<p>a&#10;b</p>", "a b");
    static const char *const literal[] = {
        "&amp",         "&unknown;", "&#;",   "&#x;",   "&#12a;", "&",
        "&#123456789;", "& amp;",    "&AMP;", "&amp x", "&#x;;",  "&verylongentityname;",
        "a&",
    };
    for (size_t i = 0; i < COUNT_OF(literal); i++)
        expect_text(literal[i], literal[i]);
}

static void test_html_bytes(void **state)
{
    (void)state;
    expect_text("a\u00A0b", "a b");
    expect_text("a\xff!", "a\uFFFD!");
    expect_text("\xe2\x82", "\uFFFD");
    expect_text("\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD");
    expect_text_n("a\001b\0c\177\302\205d", 9, "abcd");
    expect_text("café €", "café €");
}

/* Inputs built to make a careless scanner quadratic (each unit repeated to
 * 1 MiB between a prefix and a suffix). A linear pass over them costs about
 * what ordinary markup of the same size costs; a quadratic one, even at
 * memchr speed, costs seconds. The bound is relative to that baseline so a
 * slow or loaded machine does not fail it. */
static double html_secs(const char *pre, const char *unit, const char *suf, char *buf, size_t n)
{
    size_t len = strlen(pre), ul = strlen(unit), sl = strlen(suf);
    memcpy(buf, pre, len);
    for (; len + ul + sl <= n; len += ul)
        memcpy(buf + len, unit, ul);
    memcpy(buf + len, suf, sl);
    len += sl;
    clock_t t0 = clock();
    size_t out_len;
    char *out = jobnorm_html_to_text(buf, len, &out_len);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_non_null(out);
    assert_true(jobnorm_utf8_valid(out, out_len));
    free(out);
    return secs;
}

static void test_html_hostile_sizes(void **state)
{
    (void)state;
    static const char *const cases[][3] = {
        {"", "& ", ""},
        {"<p>", "& ", ""},
        {"<p>", "&#", ""},
        {"<p>", "&amp", ""},
        {"<p>", "<", ""},
        {"<p>", "<a", ""},
        {"<p>", "<a '", ""},
        {"<p>", "<a x='>", ""},
        {"<p x='>", "<br>", ""},
        {"", "<b c=\">\"=", "\""},
        {"<script>", "</scrip", ""},
        {"<script>", "<", ""},
        {"<p>", "<!-", ""},
        {"<p>", "<!", ""},
        {"<p>", "<li>", ""},
        {"<p>", "\xe2\x82", ""},
        {"<p>", "</scrip", ""},
        {"<p>", "<a href=\"", "\">"},
    };
    size_t n = 1 << 20;
    char *buf = malloc(n);
    assert_non_null(buf);
    double base = html_secs("", "<p>Senior C dev &amp; more</p>\n", "", buf, n);
    for (size_t i = 0; i < COUNT_OF(cases); i++) {
        double secs = html_secs(cases[i][0], cases[i][1], cases[i][2], buf, n);
        if (secs > 10 * base + 0.5)
            fail_msg("\"%s%s...%s\" took %.2f s (ordinary markup %.2f s)", cases[i][0], cases[i][1],
                     cases[i][2], secs, base);
    }
    free(buf);
}

/* Random markup: the output is always valid UTF-8 without NUL, control
 * characters, doubled spaces, three newlines or edge whitespace. */
static void test_html_random(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "<",   ">",    "&",    ";",    "#",    "x",  "'", "\"", "=",  "/",
        " ",   "\n",   "\t",   "\r",   "!",    "-",  "p", "li", "br", "script",
        "amp", "nbsp", "\xc3", "\xa9", "\xff", "\0", "a", "Z",  "9",
    };
    char buf[512];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = 0, want = rng() % 200;
        while (len < want) {
            const char *p = pieces[rng() % COUNT_OF(pieces)];
            size_t pl = *p ? strlen(p) : 1;
            memcpy(buf + len, p, pl);
            len += pl;
        }
        size_t out_len;
        char *out = jobnorm_html_to_text(buf, len, &out_len);
        assert_non_null(out);
        assert_int_equal(strlen(out), out_len);
        assert_true(jobnorm_utf8_valid(out, out_len));
        for (size_t i = 0; i < out_len; i++) {
            unsigned char c = (unsigned char)out[i];
            assert_true(c >= 0x20 || c == '\n');
            assert_false(c == ' ' && (i == 0 || i + 1 == out_len || out[i + 1] == ' '));
            assert_false(c == '\n' && (i == 0 || i + 1 == out_len));
        }
        assert_null(strstr(out, "\n\n\n"));
        assert_null(strstr(out, " \n"));
        assert_null(strstr(out, "\n "));
        free(out);
    }
}

/* Random URLs and salary texts: no crash, and the promised invariants. */
static void test_random_url_salary(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "https://", "http://", "HTTPS://", "a",   "B",    ".",  ":",  "/",     "?",   "&",
        "=",        "#",       "%",        "2f",  "@",    "[",  "]",  "utm_x", "jk",  "indeed",
        "linkedin", "80",      "443",      "é",   "\xff", "$",  "€",  "k",     "-",   ",",
        "1",        "000",     " ",        "to",  "from", "up", "hr", "year",  "USD", "+",
        "–",        "'",       "50",       "401", "(k)",  "%",
    };
    char buf[256], out[512], again[512];
    for (int iter = 0; iter < 30000; iter++) {
        size_t len = 0, want = rng() % 120;
        while (len < want) {
            const char *p = pieces[rng() % COUNT_OF(pieces)];
            memcpy(buf + len, p, strlen(p));
            len += strlen(p);
        }
        buf[len] = '\0';
        if (jobnorm_url_canon(buf, out, sizeof(out)) == 0) {
            assert_int_equal(jobnorm_url_canon(out, again, sizeof(again)), 0);
            assert_string_equal(out, again);
            assert_true(strncmp(out, "http://", 7) == 0 || strncmp(out, "https://", 8) == 0);
        }
        struct jobnorm_salary s;
        if (jobnorm_salary_parse(buf, &s) == 0) {
            assert_false(isnan(s.min) && isnan(s.max));
            assert_true(isnan(s.min) || (s.min > 0 && s.min <= 1e8));
            assert_true(isnan(s.max) || (s.max > 0 && s.max <= 1e8));
            assert_true(isnan(s.min) || isnan(s.max) || s.min <= s.max);
            assert_true(strlen(s.currency) == 0 || strlen(s.currency) == 3);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_examples),
        cmocka_unit_test(test_utf8_exhaustive),
        cmocka_unit_test(test_url_scheme_host_port),
        cmocka_unit_test(test_url_path),
        cmocka_unit_test(test_url_query),
        cmocka_unit_test(test_url_boards),
        cmocka_unit_test(test_url_fragment_routes),
        cmocka_unit_test(test_url_invalid),
        cmocka_unit_test(test_url_lengths),
        cmocka_unit_test(test_salary_forms),
        cmocka_unit_test(test_salary_errors),
        cmocka_unit_test(test_period_names),
        cmocka_unit_test(test_html_plain),
        cmocka_unit_test(test_html_blocks),
        cmocka_unit_test(test_html_raw_and_comments),
        cmocka_unit_test(test_html_tags_hostile),
        cmocka_unit_test(test_html_entities),
        cmocka_unit_test(test_html_bytes),
        cmocka_unit_test(test_html_hostile_sizes),
        cmocka_unit_test(test_html_random),
        cmocka_unit_test(test_random_url_salary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
