"""Jobs: the extension's save (POST /api/v1/jobs/process), the dashboard's
POST /api/v1/jobs with Idempotency-Key, the list with its filters, sorting and
cursor pages, one job's GET/PATCH/DELETE, refused input that changes nothing,
and users that cannot see each other's jobs (CONTRACT §1.1, §1.2 D1-D5,
§3.1; proto/openapi.yaml)."""

import asyncio
import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

import proto
from conftest import ISO_MS_Z, assert_error, new_user, poll
from wsutil import Poster, connect, replay, run, user_id
from dbutil import psql, reactions_done, settled

REACTION_TIMEOUT_S = 60.0

DESCRIPTION_HTML = (
    "<div class=\"show-more\"><h2>About the job</h2>"
    "<p>Build <b>fast</b> C&amp;C++ services&nbsp;on libuv.</p>"
    "<ul><li>PostgreSQL</li><li>Redis</li></ul>"
    "<script>window.track('view')</script><style>p{color:red}</style></div>")


def ext_body(n, **over):
    """What the extension's content script posts for a LinkedIn posting."""
    body = {
        "jobTitle": f"Senior C Engineer {n}",
        "company": "Acme Robotics",
        "location": "Berlin, Germany (Hybrid)",
        "jobDescription": DESCRIPTION_HTML,
        "jobUrl": f"https://www.linkedin.com/jobs/view/37900{n:05d}/",
        "salary": "$120k\u2013150k a year",
        "source": "linkedin",
    }
    body.update(over)
    return body


def job_body(**over):
    """What the dashboard's Add Job modal posts."""
    body = {"company": "Globex", "job_title": "Backend Developer",
            "job_description": "Services in C on PostgreSQL.", "source": "manual"}
    body.update(over)
    return body



def own(events):
    """The events of the jobs and applications channels (not the follow-ups
    the reactions schedule)."""
    return [e for e in events if e["channel"] in ("jobs", "applications")]


def total(server, token, query=""):
    r = server.get(f"/api/v1/jobs{query}", token=token)
    assert r.status == 200, r
    return int(r.header("x-total-count"))


def create(server, token, **over):
    r = server.post("/api/v1/jobs", body=job_body(**over), token=token)
    assert r.status == 201, r
    return r.body


def move(server, token, job_id, status):
    r = server.post(f"/api/v1/ats/jobs/{job_id}/status", body={"status": status}, token=token)
    assert r.status == 200, r
    reactions_done(server, token)
    return r.body


def checked(answers, method, path):
    """Answers received on other threads, checked against proto/ on this
    one (proto.check's schema resolver is not thread-safe)."""
    for r in answers:
        proto.check(method, path, r.status, r.header("content-type", ""), r.body)
    return answers


def fields(job):
    """A job without company_id, which the research reaction sets a moment
    after the save, so that two reads of an unchanged job compare equal."""
    return {k: v for k, v in job.items() if k != "company_id"}


def get_job(server, token, job_id):
    r = server.get(f"/api/v1/jobs/{job_id}", token=token)
    assert r.status == 200, r
    return fields(r.body)


def check_job_times(job):
    for key in ("created_at", "updated_at"):
        assert ISO_MS_Z.match(job[key]), job
    for key in ("applied_date", "application_deadline", "posted_date"):
        assert job.get(key) is None or ISO_MS_Z.match(job[key]), job


# ---------------------------------------------------------------- the extension


def test_extension_save_announce_and_dedup(server, user):
    """The save answers what the extension reads, a subscribed socket gets
    job.created, and the same posting saved again (tracking parameters,
    fragment, host case, trailing slash) is the same job with no event: the
    next event's seq follows job.created's directly."""
    body = ext_body(1)
    variants = [
        "https://www.linkedin.com/jobs/view/3790000001",
        "https://WWW.LinkedIn.COM/jobs/view/3790000001/?utm_source=google&utm_medium=cpc",
        "https://www.linkedin.com/jobs/view/3790000001/?trk=public_jobs_topcard&refId=abc#about",
        "https://www.linkedin.com:443/jobs/view/3790000001//#top",
    ]

    async def go():
        async with connect(server.port, token=user.token, channels="jobs") as ws:
            r = await asyncio.to_thread(server.post, "/api/v1/jobs/process", body,
                                        token=user.token)
            assert r.status == 201, r
            job = r.body
            assert job["success"] is True, job
            assert job["jobTitle"] == "Senior C Engineer 1" == job["job_title"], job
            assert job["company"] == "Acme Robotics", job
            assert job["matchScore"] == 0, job
            assert isinstance(job["message"], str) and job["message"], job
            assert job["jobId"] == job["job_id"], job
            assert job["job_id"].startswith("linkedin_"), job
            assert job["status"] == "saved", job
            assert job["source"] == "linkedin", job
            assert job["location"] == "Berlin, Germany (Hybrid)", job
            # The URL shown is the canonical one (the dedup key).
            assert job["job_url"] == "https://www.linkedin.com/jobs/view/3790000001", job
            assert (job["salary_min"], job["salary_max"], job["salary_period"]) == \
                (120000, 150000, "year"), job
            assert job["salary_currency"] == "USD", job
            assert job["salary_text"] == "$120k\u2013150k a year", job
            text = job["job_description"]
            assert "<" not in text and ">" not in text, text
            assert "Build fast C&C++ services" in text and "on libuv." in text, text
            assert "PostgreSQL" in text and "Redis" in text and "About the job" in text, text
            assert "track" not in text and "color" not in text, text
            check_job_times(job)

            ev = await ws.event()
            assert (ev["type"], ev["channel"]) == ("job.created", "jobs"), ev
            data = ev["data"]
            assert data["job_id"] == job["id"], ev
            assert (data["company"], data["job_title"], data["source"]) == \
                ("Acme Robotics", "Senior C Engineer 1", "linkedin"), ev
            assert data["location"] == "Berlin, Germany (Hybrid)", ev

            for url in variants:
                again = await asyncio.to_thread(
                    server.post, "/api/v1/jobs/process",
                    ext_body(1, jobUrl=url, jobTitle="Retitled", salary=None), token=user.token)
                assert again.status == 200, (url, again)
                assert again.body["id"] == job["id"], (url, again.body)
                assert again.body["jobId"] == job["jobId"], (url, again.body)
                # The job already saved, unchanged.
                assert again.body["job_title"] == again.body["jobTitle"] == "Senior C Engineer 1"
                assert again.body["salary_min"] == 120000, again.body

            r = await asyncio.to_thread(server.request, "PATCH", f"/api/v1/jobs/{job['id']}",
                                        body={"notes": "after the duplicates"}, token=user.token)
            assert r.status == 200, r
            nxt = await ws.event()
            assert nxt["type"] == "job.updated", nxt
            assert nxt["seq"] == ev["seq"] + 1, (ev["seq"], nxt)
            assert await ws.sync() == []
        return job

    job = run(go())
    assert total(server, user.token) == 1
    events = replay(server.port, user.token)
    assert [e["type"] for e in events] == ["job.created", "job.updated"], events
    assert events[0]["data"]["job_id"] == job["id"], events


def test_extension_through_capability_url(server, user):
    """The unchanged extension only knows a base URL: /u/TOKEN/... works with
    no header, from the job board's page (a preflighted cross-origin POST),
    and the job is the user's."""
    origin = {"Origin": "https://www.indeed.com"}
    pre = server.request("OPTIONS", f"/u/{user.token}/api/v1/jobs/process",
                         headers={**origin, "Access-Control-Request-Method": "POST",
                                  "Access-Control-Request-Headers": "content-type"})
    assert 200 <= pre.status < 300, pre
    assert pre.header("access-control-allow-origin") == origin["Origin"], pre.headers
    url = "https://www.indeed.com/viewjob?jk=5e1f0c2d3b4a&from=serp&tk=1h2"
    r = server.post(f"/u/{user.token}/api/v1/jobs/process", headers=origin,
                    body=ext_body(2, salary=None, source="indeed", jobUrl=url))
    assert r.status == 201, r
    assert r.header("access-control-allow-origin") == origin["Origin"], r.headers
    assert (r.body["salary_min"], r.body["salary_max"]) == (None, None), r.body
    assert r.body["job_id"].startswith("indeed_"), r.body
    got = server.get(f"/api/v1/jobs/{r.body['id']}", token=user.token)
    assert got.status == 200 and got.body["id"] == r.body["id"], got
    # Indeed's jk names the posting; its tracking parameters do not.
    again = server.post(f"/u/{user.token}/api/v1/jobs/process/",
                        body=ext_body(2, jobUrl="https://www.indeed.com/viewjob?jk=5e1f0c2d3b4a"))
    assert again.status == 200 and again.body["id"] == r.body["id"], again
    other = server.post(f"/u/{user.token}/api/v1/jobs/process",
                        body=ext_body(2, jobUrl="https://www.indeed.com/viewjob?jk=ffff0c2d3b4a"))
    assert other.status == 201 and other.body["id"] != r.body["id"], other


def test_extension_refusals(server, user):
    poster = Poster(server.port, user.token)
    try:
        before = poster.post("note.added", "jobs", {})
        body = ext_body(3)
        del body["jobUrl"]
        r = server.post("/api/v1/jobs/process", body=body, token=user.token)
        err = assert_error(r, 422, "invalid_field")
        assert err["field"] in ("jobUrl", "job_url"), err
        r = server.post("/api/v1/jobs/process", body=ext_body(3, jobUrl="ftp://example.com/j/1"),
                        token=user.token)
        err = assert_error(r, 422, "invalid_field")
        assert err["field"] in ("jobUrl", "job_url"), err
        body = ext_body(3)
        del body["jobTitle"]
        r = server.post("/api/v1/jobs/process", body=body, token=user.token)
        err = assert_error(r, 422, "invalid_field")
        assert err["field"] in ("jobTitle", "job_title"), err
        r = server.post("/api/v1/jobs/process", body=ext_body(3), token=None)
        assert_error(r, 401, "unauthorized")
        assert poster.post("note.added", "jobs", {}) == before + 1
        assert total(server, user.token) == 0
    finally:
        poster.close()


# ---------------------------------------------------------------- the dashboard


def test_dashboard_create(server, user):
    # job_url is optional; the entry status is saved.
    a = create(server, user.token)
    assert a["job_url"] is None and a["status"] == "saved", a
    assert a["source"] == "manual" and a["company"] == "Globex", a
    assert a["salary_min"] is None and a["match_score"] is None, a
    check_job_times(a)
    # Without a URL there is nothing to dedup on: a second entry is a second job.
    b = create(server, user.token)
    assert b["id"] != a["id"], (a, b)
    c = create(server, user.token, company="Initech", job_title="C Programmer",
               job_url="https://careers.initech.example/jobs/42", location="Austin, TX",
               salary_min=90000, salary_max=110000, source="referral")
    assert (c["salary_min"], c["salary_max"], c["source"], c["location"]) == \
        (90000, 110000, "referral", "Austin, TX"), c
    # The same URL again is the job already saved; the trailing-slash path too.
    r = server.post("/api/v1/jobs/", token=user.token,
                    body=job_body(company="Initech", job_title="Other",
                                  job_url="https://CAREERS.initech.example/jobs/42/"))
    assert r.status == 200 and r.body["id"] == c["id"], r
    assert r.body["job_title"] == "C Programmer", r.body
    # title is the models' alias of job_title
    r = server.post("/api/v1/jobs", body={"company": "Hooli", "title": "SRE"}, token=user.token)
    assert r.status == 201 and r.body["job_title"] == "SRE", r
    got = server.get(f"/api/v1/jobs/{c['id']}", token=user.token)
    assert got.status == 200 and fields(got.body) == fields(c), (got.body, c)
    assert total(server, user.token) == 4
    events = replay(server.port, user.token)
    assert [e["type"] for e in events] == ["job.created"] * 4, events
    assert [e["data"]["job_id"] for e in events] == [a["id"], b["id"], c["id"], r.body["id"]]


def test_dashboard_unknown_key_refused(server, user):
    r = server.post("/api/v1/jobs", body=job_body(salary_range="100-120k"), token=user.token)
    err = assert_error(r, 422, "invalid_field", "salary_range")
    assert "salary_range" in err["message"], err
    assert total(server, user.token) == 0


def test_lengths_count_characters(server, user):
    """Limits are in characters, not bytes: 300 two-byte characters fit."""
    r = server.post("/api/v1/jobs", body=job_body(job_title="\u00e9" * 300,
                                                  company="\u6771\u4eac" * 100), token=user.token)
    assert r.status == 201 and r.body["job_title"] == "\u00e9" * 300, r
    r = server.post("/api/v1/jobs", body=job_body(job_title="\u00e9" * 301), token=user.token)
    err = assert_error(r, 422, "invalid_field", "job_title")
    assert "301" in err["message"] and "300" in err["message"], err


def test_concurrent_saves_of_one_posting(server, user):
    """Ten saves of the same posting at once: one job, one 201, one
    job.created; the others answer the same job with 200."""
    url = "https://www.linkedin.com/jobs/view/3790099999/"
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(
            lambda i: server.post("/api/v1/jobs/process", token=user.token, check_proto=False,
                                  body=ext_body(9, jobUrl=f"{url}?trk=feed_{i}")), range(10)))
    checked(answers, "POST", "/api/v1/jobs/process")
    assert sorted(r.status for r in answers) == [200] * 9 + [201], \
        [(r.status, r.body) for r in answers]
    assert len({r.body["id"] for r in answers}) == 1, answers
    assert total(server, user.token) == 1
    events = replay(server.port, user.token)
    assert [e["type"] for e in events] == ["job.created"], events


def test_idempotency_key(server, user):
    """The same key and body twice: one job, the same answer, marked as a
    replay. The same key with another body: 422 on the header."""
    headers = {"Idempotency-Key": "add-job-7f3a9c"}
    body = job_body(company="Umbrella", job_title="Data Engineer")  # no URL: no dedup
    first = server.post("/api/v1/jobs", body=body, token=user.token, headers=headers)
    assert first.status == 201, first
    assert first.header("idempotent-replayed") is None, first.headers
    second = server.post("/api/v1/jobs", body=body, token=user.token, headers=headers)
    assert second.status == first.status, second
    assert second.body == first.body, (first.body, second.body)
    assert second.header("idempotent-replayed") == "true", second.headers
    assert total(server, user.token) == 1

    other = server.post("/api/v1/jobs", body=job_body(company="Umbrella", job_title="ML Engineer"),
                        token=user.token, headers=headers)
    assert_error(other, 422, "invalid_field", "idempotency-key")
    bad = server.post("/api/v1/jobs", body=body, token=user.token,
                      headers={"Idempotency-Key": "k" * 201})
    assert_error(bad, 422, "invalid_field", "idempotency-key")
    assert total(server, user.token) == 1

    # Another key is another request.
    third = server.post("/api/v1/jobs", body=body, token=user.token,
                        headers={"Idempotency-Key": "add-job-7f3a9d"})
    assert third.status == 201 and third.body["id"] != first.body["id"], third
    # Keys belong to their user.
    stranger = new_user("idem")
    theirs = server.post("/api/v1/jobs", body=body, token=stranger.token, headers=headers)
    assert theirs.status == 201 and theirs.body["id"] != first.body["id"], theirs
    assert theirs.header("idempotent-replayed") is None, theirs.headers
    events = replay(server.port, user.token)
    assert [(e["type"], e["data"]["job_id"]) for e in events] == \
        [("job.created", first.body["id"]), ("job.created", third.body["id"])], events


def test_idempotency_key_concurrent(server, user):
    """The same request with the same key ten times at once: one job; each
    answer is the job (first or replayed) or 409 while the first runs."""
    headers = {"Idempotency-Key": "concurrent-5b1e"}
    body = job_body(company="Pied Piper", job_title="Compression Engineer")
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda i: server.post("/api/v1/jobs", body=body, headers=headers,
                                                      token=user.token, check_proto=False),
                                range(10)))
    checked(answers, "POST", "/api/v1/jobs")
    created = [r for r in answers if r.status == 201]
    assert created, [(r.status, r.body) for r in answers]
    assert len({r.body["id"] for r in created}) == 1, created
    assert sum(r.header("idempotent-replayed") is None for r in created) == 1, created
    for r in answers:
        if r.status != 201:
            assert_error(r, 409, "conflict", "idempotency-key")
    assert total(server, user.token) == 1
    again = server.post("/api/v1/jobs", body=body, headers=headers, token=user.token)
    assert again.status == 201 and again.header("idempotent-replayed") == "true", again
    assert again.body == created[0].body


def test_idempotency_key_left_by_a_crash(server, user):
    """A key taken by a request that never finished (its node died between
    taking the key and saving): a retry is told it is in progress, and once
    the key is a minute old the retry takes it over and saves."""
    uid = user_id(server.port, user.token)
    text = json.dumps(job_body(company="Hooli", job_title="Crash Survivor"))
    digest = hashlib.sha256(b"/api/v1/jobs\0" + text.encode()).hexdigest()
    headers = {"Idempotency-Key": "crashed-7c2a", "Content-Type": "application/json"}
    psql(f"INSERT INTO idempotency_keys (user_id, key, request_hash) "
         f"VALUES ({uid}, 'crashed-7c2a', '{digest}')")
    r = server.post("/api/v1/jobs", body=text, headers=headers, token=user.token)
    assert_error(r, 409, "conflict", "idempotency-key")
    assert total(server, user.token) == 0
    psql(f"UPDATE idempotency_keys SET created_at = now() - interval '2 minutes' "
         f"WHERE user_id = {uid} AND key = 'crashed-7c2a'")
    r = server.post("/api/v1/jobs", body=text, headers=headers, token=user.token)
    assert r.status == 201 and r.header("idempotent-replayed") is None, r
    again = server.post("/api/v1/jobs", body=text, headers=headers, token=user.token)
    assert again.status == 201 and again.header("idempotent-replayed") == "true", again
    assert again.body == r.body and total(server, user.token) == 1


# ---------------------------------------------------------------- the list

LIST_JOBS = [
    # company, title, source, score, description, status
    ("Acme Robotics", "Systems Engineer", "linkedin", 91, "Kubernetes and libuv", "saved"),
    ("Globex", "Backend Developer", "indeed", 75, "PostgreSQL at scale", "applied"),
    ("Initech", "C Programmer", "glassdoor", 60, "TPS reports", "saved"),
    ("acme labs", "SRE", "linkedin", None, "on-call for kubernetes clusters", "screening"),
    ("Umbrella", "Data Engineer", "manual", 85, "Spark", "saved"),
    ("Hooli", "Platform Engineer", "referral", 40, "Nucleus", "applied"),
    ("Vandelay", "Importer", "indeed", 99, "Latex", "saved"),
]


@pytest.fixture(scope="module")
def listed(server):
    """A user with the seven jobs above, created in order; their ids."""
    u = new_user("list")
    ids = []
    for i, (company, title, source, score, desc, status) in enumerate(LIST_JOBS):
        job = create(server, u.token, company=company, job_title=title, source=source,
                     match_score=score, job_description=desc,
                     job_url=f"https://jobs.example.com/{i}")
        if status in ("applied", "screening"):
            move(server, u.token, job["id"], "applied")
        if status == "screening":
            move(server, u.token, job["id"], "technical_assessment")
        ids.append(job["id"])
    return u, ids


def ids_of(server, token, query):
    r = server.get(f"/api/v1/jobs{query}", token=token)
    assert r.status == 200, r
    assert isinstance(r.body, list), r.body
    assert int(r.header("x-total-count")) >= len(r.body), r.headers
    return [j["id"] for j in r.body]


def pick(ids, *idx):
    return {ids[i] for i in idx}


@pytest.mark.parametrize("query,want", [
    ("?status=applied", (1, 5)),
    ("?status_filter=applied", (1, 5)),
    ("?status_filter=saved,screening", (0, 2, 3, 4, 6)),
    ("?status=discovered", (0, 2, 4, 6)),
    ("?status=technical_assessment", (3,)),
    ("?status=offer_received", ()),
    ("?company=acme", (0, 3)),
    ("?company=ACME%20lab", (3,)),
    ("?min_score=80", (0, 4, 6)),
    ("?min_score=75", (0, 1, 4, 6)),
    ("?source=indeed", (1, 6)),
    ("?search=kubernetes", (0, 3)),
    ("?search=Engineer", (0, 4, 5)),
    ("?status=applied&source=indeed", (1,)),
    ("?status_filter=saved&min_score=80&source=indeed", (6,)),
])
def test_list_filters(server, listed, query, want):
    u, ids = listed
    r = server.get(f"/api/v1/jobs{query}", token=u.token)
    assert r.status == 200, r
    assert isinstance(r.body, list), r.body
    assert {j["id"] for j in r.body} == pick(ids, *want), (query, [j["company"] for j in r.body])
    assert int(r.header("x-total-count")) == len(want), r.headers
    assert r.header("link") is None, r.headers


def test_list_sorting(server, listed):
    u, ids = listed
    r = server.get("/api/v1/jobs", token=u.token)
    assert r.status == 200 and r.header("x-total-count") == "7", r
    assert [j["id"] for j in r.body] == ids[::-1]  # newest first
    by_company = [ids[i] for i in (3, 0, 1, 5, 2, 4, 6)]
    assert ids_of(server, u.token, "?sort=company") == by_company
    assert ids_of(server, u.token, "?sort=-company") == by_company[::-1]
    assert ids_of(server, u.token, "?sort=company&order=desc") == by_company[::-1]
    assert ids_of(server, u.token, "?sort=created_at&order=asc") == ids
    assert ids_of(server, u.token, "?sort=match_score") == [ids[i] for i in (6, 0, 4, 1, 2, 5, 3)]
    # The trailing-slash form answers the same.
    assert ids_of(server, u.token, "/?sort=company") == by_company


def walk(server, token, query):
    """Follows Link rel=next from query to the last page; the ids in order
    and the pages' sizes."""
    out, sizes, seen_links = [], [], set()
    path = f"/api/v1/jobs{query}"
    for _ in range(50):
        r = server.get(path, token=token)
        assert r.status == 200, (path, r)
        out += [j["id"] for j in r.body]
        sizes.append(len(r.body))
        link = r.header("link")
        if link is None:
            return out, sizes
        m = re.fullmatch(r'<([^>]*)>; rel="next"', link)
        assert m, link
        ref = m.group(1)
        assert ref.startswith("?") and "cursor=" in ref, ref
        assert ref not in seen_links, ref
        seen_links.add(ref)
        assert r.header("x-next-cursor"), r.headers
        path = "/api/v1/jobs" + ref
    raise AssertionError(f"more than 50 pages for {query}")


@pytest.mark.parametrize("query,order", [
    ("?limit=2", (6, 5, 4, 3, 2, 1, 0)),
    ("?limit=3&sort=company", (3, 0, 1, 5, 2, 4, 6)),
    ("?limit=2&sort=-company", (6, 4, 2, 5, 1, 0, 3)),
    ("?limit=1&sort=match_score", (6, 0, 4, 1, 2, 5, 3)),
    ("?limit=2&status_filter=saved,applied", (6, 5, 4, 2, 1, 0)),
    ("?limit=7", (6, 5, 4, 3, 2, 1, 0)),
])
def test_list_pages(server, listed, query, order):
    u, ids = listed
    got, sizes = walk(server, u.token, query)
    assert got == [ids[i] for i in order], (query, got)
    limit = int(re.search(r"limit=(\d+)", query).group(1))
    assert all(s == limit for s in sizes[:-1]) and 1 <= sizes[-1] <= limit, sizes


def test_list_pages_stable_while_jobs_are_added(server):
    """A job saved between two pages neither repeats nor hides one."""
    u = new_user("pages")
    ids = [create(server, u.token, company=f"Company {i}")["id"] for i in range(5)]
    r = server.get("/api/v1/jobs?limit=2", token=u.token)
    assert [j["id"] for j in r.body] == ids[:-3:-1], r.body
    ref = re.fullmatch(r'<([^>]*)>; rel="next"', r.header("link")).group(1)
    newer = create(server, u.token, company="Company 5")["id"]
    rest, _ = walk(server, u.token, ref)
    assert [j["id"] for j in r.body] + rest == ids[::-1], rest
    assert ids_of(server, u.token, "?limit=1") == [newer]
    # skip / offset (the dashboard's) still work
    assert ids_of(server, u.token, "?skip=2&limit=3") == [ids[3], ids[2], ids[1]]
    assert ids_of(server, u.token, "?offset=5&limit=3") == [ids[0]]
    assert ids_of(server, u.token, "?skip=6") == []


def test_list_pages_keep_filters(server, user):
    """The next-page reference carries the filters, percent-encoded: text
    with spaces, '&', '+' and non-ASCII letters."""
    ids = [create(server, user.token, company=f"Z\u00fcrich & Co {i}",
                  job_description="C+C++ & SQL")["id"] for i in range(3)]
    create(server, user.token, company="Zurich Co", job_description="C+C++ & SQL")
    got, sizes = walk(server, user.token, "?limit=1&company=z%C3%BCrich%20%26%20co"
                                          "&search=C%2BC%2B%2B%20%26")
    assert got == ids[::-1] and sizes == [1, 1, 1], got


def test_list_filters_take_text_literally(server, user):
    """company and search are substrings, not LIKE patterns: '%' and '_'
    match themselves."""
    full = create(server, user.token, company="Remote_First", job_description="100% remote")
    create(server, user.token, company="Remote First", job_description="100 people, on site")
    create(server, user.token, company="Acme", job_description="hybrid")
    assert ids_of(server, user.token, "?search=100%25") == [full["id"]]
    assert ids_of(server, user.token, "?company=e_F") == [full["id"]]
    assert ids_of(server, user.token, "?company=%25") == []
    assert ids_of(server, user.token, "?company=_") == [full["id"]]


@pytest.mark.parametrize("query,status,code,field", [
    ("?limit=0", 422, "invalid_field", "limit"),
    ("?limit=201", 422, "invalid_field", "limit"),
    ("?limit=ten", 422, "invalid_field", "limit"),
    ("?skip=-1", 422, "invalid_field", "skip"),
    ("?min_score=high", 422, "invalid_field", "min_score"),
    ("?min_score=101", 422, "invalid_field", "min_score"),
    ("?sort=salary", 422, "invalid_field", "sort"),
    ("?order=up", 422, "invalid_field", "order"),
    ("?status=bogus", 422, "invalid_field", "status"),
    ("?status_filter=applied,nope", 422, "invalid_field", "status"),
    ("?cursor=zz", 400, "bad_request", "cursor"),
    ("?cursor=6162", 400, "bad_request", "cursor"),
])
def test_list_bad_params(server, listed, query, status, code, field):
    u, _ = listed
    assert_error(server.get(f"/api/v1/jobs{query}", token=u.token), status, code, field)


def test_list_cursor_of_another_sort_refused(server, listed):
    u, _ = listed
    r = server.get("/api/v1/jobs?limit=2&sort=company", token=u.token)
    cursor = r.header("x-next-cursor")
    assert cursor, r.headers
    assert_error(server.get(f"/api/v1/jobs?limit=2&cursor={cursor}", token=u.token),
                 400, "bad_request", "cursor")


# ---------------------------------------------------------------- one job


def test_get_patch_delete(server, user):
    job = create(server, user.token, job_url="https://jobs.example.com/one",
                 salary_min=100000, salary_max=150000)
    jid = job["id"]
    assert fields(server.get(f"/api/v1/jobs/{jid}/", token=user.token).body) == fields(job)

    r = server.request("PATCH", f"/api/v1/jobs/{jid}", token=user.token,
                       body={"location": "  Remote \n (EU) ", "notes": "Call Bob\non Monday"})
    assert r.status == 200, r
    assert r.body["location"] == "Remote (EU)" and r.body["notes"] == "Call Bob\non Monday", r.body
    assert r.body["id"] == jid and r.body["company"] == "Globex", r.body
    # PUT is the same as PATCH; keys of the job shape sent back are ignored.
    r = server.request("PUT", f"/api/v1/jobs/{jid}/", token=user.token,
                       body={"match_score": 88.5, "id": 999999, "created_at": job["created_at"]})
    assert r.status == 200 and r.body["match_score"] == 88.5 and r.body["id"] == jid, r

    # A status change goes through the transition rule.
    r = server.request("PATCH", f"/api/v1/jobs/{jid}", token=user.token,
                       body={"status": "applied"})
    assert r.status == 200 and r.body["status"] == "applied", r
    assert ISO_MS_Z.match(r.body["applied_date"]), r.body
    applied = r.body

    every = settled(server, user.token)
    assert [e["seq"] for e in every] == list(range(1, len(every) + 1)), every
    events = own(every)
    types = [e["type"] for e in events]
    assert types == ["job.created", "job.updated", "job.updated", "job.updated",
                     "application.status_changed"], types
    assert events[1]["data"]["changed"] == ["location", "notes"], events[1]
    assert events[2]["data"]["changed"] == ["match_score"], events[2]
    assert events[3]["data"]["changed"] == ["status"], events[3]
    sc = events[4]["data"]
    assert (sc["job_id"], sc["old_status"], sc["new_status"], sc["company"], sc["job_title"]) == \
        (jid, "saved", "applied", "Globex", "Backend Developer"), sc
    last = every[-1]["seq"]

    # Refused fields change nothing and write no event.
    for body, field in [({"status": "bogus"}, "status"), ({"bogus_field": 1}, "bogus_field"),
                        ({"match_score": 150}, "match_score"),
                        ({"job_url": "mailto:hr@example.com"}, "job_url"),
                        ({"company": ""}, "company"), ({"job_title": "x" * 301}, "job_title")]:
        assert_error(server.request("PATCH", f"/api/v1/jobs/{jid}", token=user.token, body=body),
                     422, "invalid_field", field)
    err = assert_error(server.request("PATCH", f"/api/v1/jobs/{jid}", token=user.token, body={}),
                       422, "invalid_field")
    assert "nothing to change" in err["message"], err
    assert get_job(server, user.token, jid) == fields(applied)
    assert replay(server.port, user.token, since=last) == []

    r = server.request("DELETE", f"/api/v1/jobs/{jid}", token=user.token)
    assert r.status == 204 and r.body == "", r
    ev = replay(server.port, user.token, since=last)
    assert [(e["type"], e["seq"]) for e in ev] == [("job.deleted", last + 1)], ev
    assert ev[0]["data"]["job_id"] == jid and ev[0]["data"]["company"] == "Globex", ev
    assert_error(server.get(f"/api/v1/jobs/{jid}", token=user.token), 404, "not_found")
    assert_error(server.request("DELETE", f"/api/v1/jobs/{jid}/", token=user.token),
                 404, "not_found")
    assert_error(server.request("PATCH", f"/api/v1/jobs/{jid}", token=user.token,
                                body={"notes": "x"}), 404, "not_found")
    assert_error(server.get("/api/v1/jobs/abc", token=user.token), 404, "not_found")
    assert_error(server.get("/api/v1/jobs/99999999999", token=user.token), 404, "not_found")
    assert total(server, user.token) == 0


def test_patch_refused_status_move(server, user):
    """A PATCH whose status move the transition table refuses answers 409
    naming the valid next statuses, and changes nothing (not even the other
    fields it carries)."""
    job = create(server, user.token)
    move(server, user.token, job["id"], "applied")
    before = get_job(server, user.token, job["id"])
    last = settled(server, user.token)[-1]["seq"]
    for body in ({"status": "offer_accepted", "notes": "too early"}, {"status": "saved"},
                 {"status": "archived"}):
        r = server.request("PATCH", f"/api/v1/jobs/{job['id']}", token=user.token, body=body)
        err = assert_error(r, 409, "conflict", "status")
        assert "applied" in err["message"] and body["status"] in err["message"], err
        for s in ("screening", "interview_scheduled", "rejected", "withdrawn"):
            assert s in err["message"], err
    assert get_job(server, user.token, job["id"]) == before
    assert replay(server.port, user.token, since=last) == []


def test_patch_salary_order_checked(server, user):
    """salary_min above salary_max is refused by PATCH as by POST, naming the
    field, whichever side the PATCH moves."""
    job = create(server, user.token, salary_min=100000, salary_max=150000)
    poster = Poster(server.port, user.token)
    try:
        before = poster.post("note.added", "jobs", {})
        for body in ({"salary_min": 200000, "salary_max": 100000}, {"salary_min": 160000},
                     {"salary_max": 90000}):
            r = server.request("PATCH", f"/api/v1/jobs/{job['id']}", token=user.token, body=body)
            err = assert_error(r, 422, "invalid_field")
            assert err["field"] in ("salary_min", "salary_max"), (body, err)
            assert "salary" in err["message"], err
        assert poster.post("note.added", "jobs", {}) == before + 1
    finally:
        poster.close()
    assert get_job(server, user.token, job["id"]) == fields(job)


@pytest.mark.parametrize("field", ["job_type", "remote_type", "job_description"])
def test_patch_null_names_the_field(server, user, field):
    """null for a field that always has a value is either taken as its
    default or refused naming the field, never a bare database error."""
    job = create(server, user.token)
    r = server.request("PATCH", f"/api/v1/jobs/{job['id']}", token=user.token,
                       body={field: None})
    if r.status == 200:
        assert isinstance(r.body[field], str), r.body
    else:
        err = assert_error(r, 422, "invalid_field", field)
        assert field in err["message"], err
        assert get_job(server, user.token, job["id"]) == fields(job)


def test_company_record_follows_a_renamed_company(server, user):
    """The research reaction links a saved job to the user's record of its
    company; after the company is corrected by PATCH, the job points at the
    record of the new name, not the old one."""
    job = create(server, user.token, company="Globex")
    uid = user_id(server.port, user.token)

    def linked_to():
        r = server.get(f"/api/v1/jobs/{job['id']}", token=user.token)
        cid = r.body["company_id"]
        return cid and psql(f"SELECT name_key FROM companies WHERE id = {cid} "
                            f"AND user_id = {uid}")
    assert poll(linked_to, REACTION_TIMEOUT_S, what="the job linked") == "globex"
    r = server.request("PATCH", f"/api/v1/jobs/{job['id']}", token=user.token,
                       body={"company": "Initech  Corp"})
    assert r.status == 200 and r.body["company"] == "Initech Corp", r
    settled(server, user.token)  # every reaction has run
    assert linked_to() == "initech corp"


def test_patch_to_a_url_of_another_job(server, user):
    a = create(server, user.token, job_url="https://jobs.example.com/a")
    b = create(server, user.token, job_url="https://jobs.example.com/b")
    r = server.request("PATCH", f"/api/v1/jobs/{b['id']}", token=user.token,
                       body={"job_url": "https://JOBS.example.com/a/?utm_campaign=x"})
    assert_error(r, 409, "conflict")
    assert get_job(server, user.token, b["id"]) == fields(b)
    assert get_job(server, user.token, a["id"]) == fields(a)


# ---------------------------------------------------------------- refused input

REFUSED = [
    # path, body, content type, status, code, field
    ("/api/v1/jobs", {"job_title": "SRE", "job_description": "x"}, None,
     422, "invalid_field", "company"),
    ("/api/v1/jobs", {"company": "Acme"}, None, 422, "invalid_field", "job_title"),
    ("/api/v1/jobs", job_body(company="   "), None, 422, "invalid_field", "company"),
    ("/api/v1/jobs", job_body(job_title="T" * 301), None, 422, "invalid_field", "job_title"),
    ("/api/v1/jobs", job_body(company="C" * 201), None, 422, "invalid_field", "company"),
    ("/api/v1/jobs", job_body(job_url="ftp://example.com/job/1"), None,
     422, "invalid_field", "job_url"),
    ("/api/v1/jobs", job_body(job_url="javascript:alert(1)"), None,
     422, "invalid_field", "job_url"),
    ("/api/v1/jobs", job_body(job_url="/jobs/1"), None, 422, "invalid_field", "job_url"),
    ("/api/v1/jobs", job_body(salary_min=200000, salary_max=100000), None,
     422, "invalid_field", "salary_min"),
    ("/api/v1/jobs", job_body(salary_min=-5), None, 422, "invalid_field", "salary_min"),
    ("/api/v1/jobs", job_body(salary_max="lots"), None, 422, "invalid_field", "salary_max"),
    ("/api/v1/jobs", job_body(match_score=150), None, 422, "invalid_field", "match_score"),
    ("/api/v1/jobs", job_body(match_score="high"), None, 422, "invalid_field", "match_score"),
    ("/api/v1/jobs", job_body(source="monster"), None, 422, "invalid_field", "source"),
    ("/api/v1/jobs", job_body(status="hired"), None, 422, "invalid_field", "status"),
    ("/api/v1/jobs", job_body(company="Acme\u0007Corp"), None, 422, "invalid_field", "company"),
    ("/api/v1/jobs", job_body(job_title="SRE\u001b[31m"), None, 422, "invalid_field", "job_title"),
    ("/api/v1/jobs", job_body(notes="ok\u0000"), None, None, None, None),
    ("/api/v1/jobs", job_body(is_active="yes"), None, 422, "invalid_field", "is_active"),
    ("/api/v1/jobs", job_body(application_deadline="next week"), None,
     422, "invalid_field", "application_deadline"),
    ("/api/v1/jobs", job_body(remote="yes"), None, 422, "invalid_field", "remote"),
    ("/api/v1/jobs", '{"company": "Acme", "job_title": "SRE"', None, 400, "invalid_json", None),
    ("/api/v1/jobs", "company=Acme&job_title=SRE", None, 400, "invalid_json", None),
    ("/api/v1/jobs", [job_body()], None, None, None, None),
    ("/api/v1/jobs", "null", None, None, None, None),
    ("/api/v1/jobs", job_body(), "text/plain", 415, "unsupported_media_type", None),
    ("/api/v1/jobs/process", ext_body(4, company=None), None, 422, "invalid_field", "company"),
    ("/api/v1/jobs/process", ext_body(4, jobUrl="https://"), None, 422, "invalid_field", None),
    ("/api/v1/jobs/process", ext_body(4, salary=["120k"]), None, 422, "invalid_field", "salary"),
    ("/api/v1/jobs/process", ext_body(4, source="monster"), None, 422, "invalid_field", "source"),
    ("/api/v1/jobs/process", [ext_body(4)], None, None, None, None),
]


@pytest.mark.parametrize("path,body,ctype,status,code,field", REFUSED,
                         ids=[f"{i}-{r[0].rsplit('/', 1)[1]}-{r[5] or r[4] or 'shape'}"
                              for i, r in enumerate(REFUSED)])
def test_refused_changes_nothing(server, user, path, body, ctype, status, code, field):
    poster = Poster(server.port, user.token)
    headers = {"Content-Type": ctype} if ctype else {"Content-Type": "application/json"}
    if isinstance(body, (dict, list)) and ctype:
        body = json.dumps(body)
    try:
        before = poster.post("note.added", "jobs", {})
        r = server.post(path, body=body, headers=headers, token=user.token)
        if status is None:
            # Not an object (an array, null, a NUL in text): a clear refusal
            # of the body as a whole.
            assert r.status in (400, 422), r
            err = assert_error(r, r.status, {400: "bad_request", 422: "invalid_field"}[r.status]
                               if r.body["error"]["code"] != "invalid_json" else "invalid_json")
        else:
            err = assert_error(r, status, code)
            if field is not None:
                assert err["field"] == field, (err, field)
            elif path.endswith("/process") and code == "invalid_field":
                assert err["field"] in ("jobUrl", "job_url"), err
        assert poster.post("note.added", "jobs", {}) == before + 1
    finally:
        poster.close()
    assert total(server, user.token) == 0


# ---------------------------------------------------------------- isolation


def test_other_users_job_is_not_found(server):
    owner, intruder = new_user("owner"), new_user("intruder")
    job = create(server, owner.token, job_url="https://jobs.example.com/private")
    jid = job["id"]
    seq = replay(server.port, owner.token)[-1]["seq"]
    for method, path, body in [
        ("GET", f"/api/v1/jobs/{jid}", None),
        ("PATCH", f"/api/v1/jobs/{jid}", {"notes": "mine now"}),
        ("PUT", f"/api/v1/jobs/{jid}", {"status": "applied"}),
        ("DELETE", f"/api/v1/jobs/{jid}", None),
        ("POST", f"/api/v1/ats/jobs/{jid}/status", {"status": "applied"}),
        ("GET", f"/api/v1/ats/jobs/{jid}/timeline", None),
    ]:
        r = server.request(method, path, body=body, token=intruder.token)
        assert_error(r, 404, "not_found")
    # user_id in the query is ignored; the list is the intruder's own.
    r = server.get("/api/v1/jobs?user_id=1&company=Globex", token=intruder.token)
    assert r.status == 200 and r.body == [] and r.header("x-total-count") == "0", r
    # The same URL saved by the intruder is the intruder's own job.
    theirs = server.post("/api/v1/jobs", body=job_body(job_url="https://jobs.example.com/private"),
                         token=intruder.token)
    assert theirs.status == 201 and theirs.body["id"] != jid, theirs
    assert get_job(server, owner.token, jid) == fields(job)
    assert replay(server.port, owner.token, since=seq) == []


def test_job_dates_without_a_zone_in_the_users_zone(server):
    """A deadline typed without a zone is the user's wall-clock time, on
    save and on PATCH, DST included; dates with a zone are taken as they
    are, and a user in UTC is unaffected."""
    user = new_user("jobtz")
    r = server.request("PATCH", "/api/v1/me", token=user.token,
                       body={"timezone": "America/New_York"})
    assert r.status == 200, r
    r = server.post("/api/v1/jobs", token=user.token, body=job_body(
        application_deadline="2027-01-15T17:00", posted_date="2027-01-10T09:00:00Z"))
    assert r.status == 201, r
    assert r.body["application_deadline"] == "2027-01-15T22:00:00.000Z", r.body
    assert r.body["posted_date"] == "2027-01-10T09:00:00.000Z", r.body
    r = server.request("PATCH", f"/api/v1/jobs/{r.body['id']}", token=user.token,
                       body={"application_deadline": "2027-07-15T17:00"})
    assert r.status == 200, r
    assert r.body["application_deadline"] == "2027-07-15T21:00:00.000Z", r.body
    r = server.post("/api/v1/jobs/process", token=user.token, body={
        "jobTitle": "SRE", "company": "Initech", "jobUrl": "https://example.com/tz/1",
        "application_deadline": "2027-03-01T12:00"})
    assert r.status == 201, r
    assert r.body["application_deadline"] == "2027-03-01T17:00:00.000Z", r.body
    r = server.post("/api/v1/jobs", token=user.token,
                    body=job_body(application_deadline="1850-01-01T00:00"))
    assert_error(r, 422, "invalid_field", "application_deadline")
    other = new_user("jobutc")
    r = server.post("/api/v1/jobs", token=other.token,
                    body=job_body(application_deadline="2027-01-15T17:00"))
    assert r.status == 201 and r.body["application_deadline"] == "2027-01-15T17:00:00.000Z", r
