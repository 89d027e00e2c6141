"""POST /api/v1/events: validation per proto/openapi.yaml, the 202 body, no
seq taken by a refused event, and the event on the socket with its seq."""

import pytest

from conftest import assert_error
from wsutil import Poster, connect, job_created, run

# (body, status, code, field): every refusal and what it must say.
REFUSED = [
    ({"type": "Job.Created", "channel": "jobs", "data": {}}, 422, "invalid_field", "type"),
    ({"type": "jobcreated", "channel": "jobs", "data": {}}, 422, "invalid_field", "type"),
    ({"type": "job.", "channel": "jobs", "data": {}}, 422, "invalid_field", "type"),
    ({"type": ".created", "channel": "jobs", "data": {}}, 422, "invalid_field", "type"),
    ({"type": "job.created2", "channel": "jobs", "data": {}}, 422, "invalid_field", "type"),
    ({"type": "job-x.created", "channel": "jobs", "data": {}}, 422, "invalid_field", "type"),
    ({"type": "a" * 32 + "." + "b" * 32, "channel": "jobs", "data": {}},
     422, "invalid_field", "type"),  # 65 bytes
    ({"type": "", "channel": "jobs", "data": {}}, 422, "invalid_field", "type"),
    ({"type": 5, "channel": "jobs", "data": {}}, 422, "invalid_field", "type"),
    ({"type": "system.notification", "channel": "system",
      "data": {"message": "m", "severity": "info"}}, 422, "invalid_field", "type"),
    ({"type": "system.custom", "channel": "system", "data": {}}, 422, "invalid_field", "type"),
    ({"type": "note.added", "channel": "nope", "data": {}}, 422, "invalid_field", "channel"),
    ({"type": "note.added", "channel": "Jobs", "data": {}}, 422, "invalid_field", "channel"),
    ({"type": "note.added", "channel": "", "data": {}}, 422, "invalid_field", "channel"),
    ({"type": "note.added", "channel": 3, "data": {}}, 422, "invalid_field", "channel"),
    ({"type": "job.created", "channel": "skills", "data": job_created(1)},
     422, "invalid_field", "channel"),
    ({"type": "skill_gap.completed", "channel": "jobs", "data": {}},
     422, "invalid_field", "channel"),
    ({"type": "note.added", "channel": "jobs", "data": [1, 2]}, 422, "invalid_field", "data"),
    ({"type": "note.added", "channel": "jobs", "data": "text"}, 422, "invalid_field", "data"),
    ({"type": "note.added", "channel": "jobs", "data": None}, 422, "invalid_field", "data"),
    ({"type": "note.added", "channel": "jobs", "data": 7}, 422, "invalid_field", "data"),
    ({"type": "note.added", "channel": "jobs", "data": {}, "extra": 1},
     422, "invalid_field", "extra"),
    ({"type": "note.added", "channel": "jobs", "data": {}, "seq": 99},
     422, "invalid_field", "seq"),
    ({"channel": "jobs", "data": {}}, 422, "invalid_field", "type"),
    ({"type": "note.added", "data": {}}, 422, "invalid_field", "channel"),
    ({"type": "note.added", "channel": "jobs"}, 422, "invalid_field", "data"),
    ({}, 422, "invalid_field", "type"),
    # data over 64 KiB (its compact JSON is 65537 bytes)
    ({"type": "note.added", "channel": "jobs", "data": {"s": "x" * 65529}},
     413, "payload_too_large", "data"),
    ([{"type": "note.added", "channel": "jobs", "data": {}}], 400, "bad_request", None),
    ("nope", 400, "invalid_json", None),
    ('{"type": "note.added", "channel": "jobs", "data": {}', 400, "invalid_json", None),
]


@pytest.mark.parametrize("body,status,code,field", REFUSED,
                         ids=[f"{i}-{r[2]}-{r[3]}" for i, r in enumerate(REFUSED)])
def test_refused_takes_no_seq(server, user, body, status, code, field):
    poster = Poster(server.port, user.token)
    try:
        before = poster.post("note.added", "jobs", {"n": 1})
        r = poster.raw(body, headers={"Content-Type": "application/json"})
        assert_error(r, status, code, field)
        after = poster.post("note.added", "jobs", {"n": 2})
        assert after == before + 1, (before, after)
    finally:
        poster.close()


def test_other_refusals(server, user):
    poster = Poster(server.port, user.token)
    try:
        before = poster.post("note.added", "jobs", {})
        r = server.post("/api/v1/events", body='{"type":"note.added","channel":"jobs","data":{}}',
                        headers={"Content-Type": "text/plain"}, token=user.token)
        assert_error(r, 415, "unsupported_media_type")
        r = server.post("/api/v1/events",
                        body={"type": "note.added", "channel": "jobs", "data": {}})
        assert_error(r, 401, "unauthorized")
        r = server.post("/api/v1/events", token="hw_" + "Z" * 43,
                        body={"type": "note.added", "channel": "jobs", "data": {}})
        assert_error(r, 401, "unauthorized")
        assert poster.post("note.added", "jobs", {}) == before + 1
    finally:
        poster.close()


def test_limits_are_inclusive(server, user):
    poster = Poster(server.port, user.token)
    try:
        t64 = "a" * 31 + "." + "b" * 32
        assert len(t64) == 64
        s1 = poster.post(t64, "research", {})
        # {"s":"xxx..."}: 8 bytes + 65528 = exactly 64 KiB.
        s2 = poster.post("note.added", "jobs", {"s": "x" * 65528})
        s3 = poster.post("a_b.c_d.e_f", "system", {"nested": {"k": [1, None, "v"]}})
        assert (s2, s3) == (s1 + 1, s1 + 2)
    finally:
        poster.close()


def test_accepted_event_reaches_the_socket(server, user):
    poster = Poster(server.port, user.token)
    cases = [
        ("job.created", "jobs", job_created(3, company="Initech")),
        ("application.status_changed", "applications",
         {"job_id": 3, "old_status": "saved", "new_status": "applied", "company": "Initech",
          "job_title": "C programmer 3"}),
        ("note.added", "interviews", {"text": "ünïcödé ✓", "n": 1.5, "ok": True}),
        ("research.started", "research", {}),
        ("maintenance.planned", "system", {"at": "02:00"}),
    ]

    async def go():
        async with connect(server.port, token=user.token, channels=",".join(
                ["jobs", "applications", "interviews", "research", "system"])) as ws:
            seqs = []
            for type_, channel, data in cases:
                r = await poster.apost(type_, channel, data)  # checks the 202 body
                seqs.append(r)
            assert seqs == list(range(seqs[0], seqs[0] + len(cases))), seqs
            for seq, (type_, channel, data) in zip(seqs, cases):
                ev = await ws.event()
                assert ev["id"] == ev["seq"] == seq, ev
                assert (ev["type"], ev["channel"], ev["data"]) == (type_, channel, data), ev
            assert await ws.sync() == []
    try:
        run(go())
    finally:
        poster.close()


def test_202_body(server, user):
    r = server.post("/api/v1/events", token=user.token,
                    body={"type": "note.added", "channel": "followups", "data": {"a": 1}})
    assert r.status == 202, r
    assert r.header("content-type", "").startswith("application/json"), r.headers
    assert r.body == {"id": r.body["seq"], "seq": r.body["seq"], "type": "note.added",
                      "channel": "followups"}, r.body
    assert isinstance(r.body["seq"], int) and r.body["seq"] >= 1
    # Through the capability URL too, with a trailing slash.
    r2 = server.post(f"/u/{user.token}/api/v1/events/",
                     body={"type": "note.added", "channel": "followups", "data": {}})
    assert r2.status == 202 and r2.body["seq"] == r.body["seq"] + 1, r2
