"""The application pipeline: status moves through the transition table
(aliases, refusals that list the valid next statuses and change nothing),
the timeline at both paths, statistics, the applications board, notes,
offers with negotiation and decisions, and the learning signal the
orchestrator records for each status event (CONTRACT Decisions, §1.2 D12-D15,
§3.2, §3.4; DESIGN §1)."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

import proto
from conftest import ISO_MS_Z, assert_error, new_user, poll
from conftest import create_job as create
from wsutil import replay, user_id
from dbutil import last_seq, own, psql, reactions_done, settled

REACTION_TIMEOUT_S = 60.0


def job_of(server, token, job_id):
    r = server.get(f"/api/v1/jobs/{job_id}", token=token)
    assert r.status == 200, r
    return {k: v for k, v in r.body.items() if k != "company_id"}


def status(server, token, job_id, to, notes=None, path_suffix=""):
    body = {"status": to}
    if notes is not None:
        body["notes"] = notes
    return server.post(f"/api/v1/ats/jobs/{job_id}/status{path_suffix}", body=body, token=token)


def moved(server, token, job_id, to, notes=None):
    r = status(server, token, job_id, to, notes)
    assert r.status == 200, r
    reactions_done(server, token)
    return r.body


# ---------------------------------------------------------------- status moves


def test_moves_aliases_and_events(server, user):
    job = create(server, user.token)
    jid = job["id"]
    assert job["applied_date"] is None
    r = moved(server, user.token, jid, "applied", notes="Sent through a referral")
    assert r == {"success": True, "job_id": jid, "old_status": "saved", "new_status": "applied",
                 "message": "Status updated from saved to applied"}, r
    applied = job_of(server, user.token, jid)
    assert applied["status"] == "applied" and ISO_MS_Z.match(applied["applied_date"]), applied

    # The dashboard's words, answered with the canonical names.
    r = moved(server, user.token, jid, "technical_assessment")
    assert (r["old_status"], r["new_status"]) == ("applied", "screening"), r
    r = moved(server, user.token, jid, "interviewing")
    assert (r["old_status"], r["new_status"]) == ("screening", "interviewing"), r
    r = moved(server, user.token, jid, "offer_received")
    r = server.post(f"/api/v1/ats/jobs/{jid}/status/", body={"status": "accepted"},
                    token=user.token)
    assert r.status == 200 and r.body["new_status"] == "offer_accepted", r
    final = job_of(server, user.token, jid)
    assert final["status"] == "offer_accepted", final
    assert final["applied_date"] == applied["applied_date"], final

    events = settled(server, user.token)
    moves = [e for e in events if e["type"] == "application.status_changed"]
    assert [(e["data"]["old_status"], e["data"]["new_status"]) for e in moves] == [
        ("saved", "applied"), ("applied", "screening"), ("screening", "interviewing"),
        ("interviewing", "offer_received"), ("offer_received", "offer_accepted")], moves
    for e in moves:
        assert e["channel"] == "applications", e
        assert (e["data"]["job_id"], e["data"]["company"], e["data"]["job_title"]) == \
            (jid, "Globex", "Backend Developer"), e
    assert moves[0]["data"]["notes"] == "Sent through a referral", moves[0]
    assert [e["seq"] for e in events] == list(range(events[0]["seq"],
                                                    events[0]["seq"] + len(events)))

    # Both timeline paths: newest first, with the status changes and notes.
    for path in (f"/api/v1/ats/jobs/{jid}/timeline", f"/api/v1/applications/{jid}/timeline",
                 f"/api/v1/applications/{jid}/timeline/"):
        t = server.get(path, token=user.token)
        assert t.status == 200, t
        body = t.body
        assert (body["job_id"], body["company"], body["job_title"], body["current_status"]) == \
            (jid, "Globex", "Backend Developer", "offer_accepted"), body
        changes = [(e["old_status"], e["new_status"]) for e in body["events"]
                   if e["event_type"] == "status_change"]
        assert changes == [(o, n) for o, n in reversed(
            [(e["data"]["old_status"], e["data"]["new_status"]) for e in moves])], changes
        assert body["events"][-1]["event_type"] == "created", body["events"]
        first_move = [e for e in body["events"] if e["event_type"] == "status_change"][-1]
        assert first_move["notes"] == "Sent through a referral", first_move
        ids = [e["id"] for e in body["events"]]
        assert ids == sorted(ids, reverse=True), ids
        times = [e["created_at"] for e in body["events"]]
        assert times == sorted(times, reverse=True), times
        assert all(ISO_MS_Z.match(x) for x in times), times
        assert body["interviews"] == [] and body["offers"] == [] and body["notes"] == []


@pytest.mark.parametrize("setup,to,valid", [
    ([], "offer_accepted", ["analyzing", "applied", "withdrawn", "archived"]),
    ([], "interviewing", ["analyzing", "applied", "withdrawn", "archived"]),
    ([], "discovered", ["analyzing", "applied", "withdrawn", "archived"]),
    (["applied"], "applied", ["screening", "interview_scheduled", "interviewing", "rejected",
                              "withdrawn"]),
    (["applied"], "saved", ["screening", "interview_scheduled", "interviewing", "rejected",
                            "withdrawn"]),
    (["applied", "rejected"], "declined", ["archived"]),
    (["archived"], "applied", []),
])
def test_refused_move_changes_nothing(server, user, setup, to, valid):
    job = create(server, user.token)
    for s in setup:
        moved(server, user.token, job["id"], s)
    before = job_of(server, user.token, job["id"])
    seq = last_seq(server, user.token)
    r = status(server, user.token, job["id"], to, notes="should not stick")
    err = assert_error(r, 409, "conflict", "status")
    msg = err["message"]
    assert msg.startswith(f"Invalid status transition from {before['status']} to "), msg
    listed = re.search(r"Valid transitions: \[(.*)\]$", msg)
    assert listed, msg
    got = [x.strip() for x in listed.group(1).split(",") if x.strip()]
    assert sorted(got) == sorted(valid), msg
    assert job_of(server, user.token, job["id"]) == before
    assert replay(server.port, user.token, since=seq) == []
    t = server.get(f"/api/v1/ats/jobs/{job['id']}/timeline", token=user.token)
    assert all(e["notes"] != "should not stick" for e in t.body["events"]), t.body


@pytest.mark.parametrize("body,field", [
    ({"status": "hired"}, "status"),
    ({"status": "Applied"}, "status"),
    ({"status": ""}, "status"),
    ({"status": 5}, "status"),
    ({}, "status"),
    ({"status": "applied", "note": "typo"}, "note"),
    ({"status": "applied", "notes": "x" * 5001}, "notes"),
])
def test_bad_status_body(server, user, body, field):
    job = create(server, user.token)
    seq = last_seq(server, user.token)
    r = server.post(f"/api/v1/ats/jobs/{job['id']}/status", body=body, token=user.token)
    assert_error(r, 422, "invalid_field", field)
    assert job_of(server, user.token, job["id"])["status"] == "saved"
    assert replay(server.port, user.token, since=seq) == []


def test_concurrent_moves_one_wins(server, user):
    """The same move ten times at once: one succeeds, nine find the job
    already there (409); one history row, one event, one learning signal."""
    job = create(server, user.token)
    uid = user_id(server.port, user.token)
    seq = last_seq(server, user.token)
    path = f"/api/v1/ats/jobs/{job['id']}/status"
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda i: server.post(path, body={"status": "applied"},
                                                      token=user.token, check_proto=False),
                                range(10)))
    for r in answers:  # on this thread: proto's schema resolver is not thread-safe
        proto.check("POST", path, r.status, r.header("content-type", ""), r.body)
    assert sorted(r.status for r in answers) == [200] + [409] * 9, \
        [(r.status, r.body) for r in answers]
    for r in answers:
        if r.status == 409:
            assert_error(r, 409, "conflict", "status")
    events = own(replay(server.port, user.token, since=seq))
    assert [e["type"] for e in events] == ["application.status_changed"], events
    t = server.get(f"/api/v1/ats/jobs/{job['id']}/timeline", token=user.token).body
    assert [e["event_type"] for e in t["events"]] == ["status_change", "created"], t["events"]
    want = [(events[0]["seq"], job["id"], "application", 1, "applied")]
    poll(lambda: signals(uid) == want, REACTION_TIMEOUT_S, what="one learning signal")


def test_next_request_never_collides_with_reactions(start_server):
    """A status change starts reactions (learning signal, follow-ups) that
    write for the same job and user while the client sends its next request
    at once: every request succeeds, no statement deadlocks, and every event
    is reacted to."""
    srv = start_server()
    users = [new_user("race") for _ in range(3)]
    when = "2031-01-10T10:00:00Z"

    def lane(u):
        # proto.check's schema resolver is not thread-safe: the answers are
        # checked afterwards, on this thread.
        out = []

        def post(path, body):
            r = srv.post(path, body=body, token=u.token, check_proto=False)
            out.append((path, r))
            return r
        for i in range(10):
            job = post("/api/v1/jobs", {"company": f"Race {i}", "job_title": "Engineer"}).body
            post(f"/api/v1/ats/jobs/{job['id']}/status", {"status": "applied"})
            post("/api/v1/ats/interviews", {"job_id": job["id"], "interview_type": "phone_screen",
                                            "scheduled_date": when})
            for to in ("interviewing", "offer_received", "withdrawn"):
                post(f"/api/v1/ats/jobs/{job['id']}/status", {"status": to})
        return out

    with ThreadPoolExecutor(len(users)) as pool:
        results = [x for lane_out in pool.map(lane, users) for x in lane_out]
    failed = [(path, r.status, r.body) for path, r in results if r.status not in (200, 201)]
    assert not failed, failed
    for path, r in results:
        proto.check("POST", path, r.status, r.header("content-type", ""), r.body)
    for u in users:
        uid = user_id(srv.port, u.token)
        poll(lambda: unreacted(uid) == 0, REACTION_TIMEOUT_S, what="every event reacted")
    log = srv.stderr()
    assert "40P01" not in log and "deadlock" not in log, \
        [line for line in log.splitlines() if "40P01" in line or "deadlock" in line][:3]


def test_status_of_missing_job(server, user):
    for jid in ("999999999", "abc", "0"):
        r = status(server, user.token, jid, "applied")
        assert_error(r, 404, "not_found")
        assert_error(server.get(f"/api/v1/ats/jobs/{jid}/timeline", token=user.token),
                     404, "not_found")
        assert_error(server.get(f"/api/v1/applications/{jid}/timeline", token=user.token),
                     404, "not_found")


# ---------------------------------------------------------------- statistics


def stats(server, token):
    r = server.get("/api/v1/ats/statistics", token=token)
    assert r.status == 200, r
    return r.body


def test_statistics(server, user):
    s = stats(server, user.token)
    assert s == {"total_jobs": 0, "total_applications": 0, "by_status": {},
                 "interviews_scheduled": 0, "interviews_completed": 0, "offers_received": 0,
                 "offers_accepted": 0, "success_rate": None,
                 "average_time_to_interview_days": None,
                 "average_time_to_offer_days": None}, s

    a = create(server, user.token, company="Initech")
    b = create(server, user.token, company="Hooli")
    c = create(server, user.token, company="Umbrella")
    moved(server, user.token, b["id"], "applied")
    moved(server, user.token, c["id"], "applied")
    iv = server.post("/api/v1/ats/interviews", token=user.token, body={
        "job_id": b["id"], "interview_type": "technical",
        "scheduled_date": "2030-03-01T10:00:00Z"})
    assert iv.status == 201, iv
    reactions_done(server, user.token)
    s = stats(server, user.token)
    assert (s["total_jobs"], s["total_applications"]) == (3, 3), s
    assert s["by_status"] == {"saved": 1, "applied": 1, "interview_scheduled": 1}, s
    assert (s["interviews_scheduled"], s["interviews_completed"]) == (1, 0), s
    assert s["success_rate"] is None, s
    assert s["average_time_to_interview_days"] is not None, s
    assert 0 <= s["average_time_to_interview_days"] < 1, s

    r = server.request("PUT", f"/api/v1/ats/interviews/{iv.body['id']}", token=user.token,
                       body={"outcome": "passed"})
    assert r.status == 200, r
    moved(server, user.token, b["id"], "interviewing")
    offer = server.post("/api/v1/ats/offers", token=user.token,
                        body={"job_id": b["id"], "salary": 150000})
    assert offer.status == 201, offer
    r = server.post(f"/api/v1/ats/offers/{offer.body['id']}/accept", token=user.token)
    assert r.status == 200, r
    moved(server, user.token, c["id"], "rejected")

    s = stats(server, user.token)
    assert s["by_status"] == {"saved": 1, "offer_accepted": 1, "rejected": 1}, s
    assert (s["interviews_scheduled"], s["interviews_completed"]) == (0, 1), s
    assert (s["offers_received"], s["offers_accepted"]) == (1, 1), s
    # one accepted offer over two applications that ended
    assert s["success_rate"] == 50.0, s
    assert 0 <= s["average_time_to_offer_days"] < 1, s
    assert a["id"] not in (b["id"], c["id"])
    assert stats(server, new_user("stats").token)["total_jobs"] == 0


# ---------------------------------------------------------------- applications


def test_applications_board(server, user):
    r = server.get("/api/v1/ats/applications", token=user.token)
    assert r.status == 200 and r.body["applications"] == [], r
    a = create(server, user.token, company="Initech", match_score=72)
    b = create(server, user.token, company="Hooli")
    c = create(server, user.token, company="Umbrella")
    moved(server, user.token, b["id"], "applied")
    moved(server, user.token, c["id"], "applied")
    moved(server, user.token, c["id"], "screening")
    iv = server.post("/api/v1/ats/interviews", token=user.token, body={
        "job_id": b["id"], "interview_type": "phone_screen",
        "scheduled_date": "2031-05-04T09:30:00Z"})
    assert iv.status == 201, iv

    def board(query=""):
        r = server.get(f"/api/v1/ats/applications{query}", token=user.token)
        assert r.status == 200, r
        assert set(r.body) >= {"applications"}, r.body
        assert r.body.get("total", len(r.body["applications"])) == len(r.body["applications"])
        return r.body["applications"]

    everything = board()
    assert sorted(x["id"] for x in everything) == sorted([a["id"], b["id"], c["id"]])
    for q in ("?status=undefined", "?status=", "?status=all", "/"):
        assert sorted(x["id"] for x in board(q)) == sorted(x["id"] for x in everything), q
    by_id = {x["id"]: x for x in everything}
    row = by_id[a["id"]]
    assert (row["job_title"], row["company"], row["status"], row["match_score"]) == \
        ("Backend Developer", "Initech", "saved", 72), row
    assert row["applied_date"] is None and ISO_MS_Z.match(row["last_updated"]), row
    row = by_id[b["id"]]
    assert row["status"] == "interview_scheduled" and ISO_MS_Z.match(row["applied_date"]), row
    assert row["next_step"] and "2031-05-04" in row["next_step"], row
    assert by_id[c["id"]]["next_step"] is None, by_id[c["id"]]

    assert [x["id"] for x in board("?status=screening")] == [c["id"]]
    assert [x["id"] for x in board("?status=technical_assessment")] == [c["id"]]
    assert [x["id"] for x in board("?status=discovered")] == [a["id"]]
    assert board("?status=offer_received") == []
    assert_error(server.get("/api/v1/ats/applications?status=hired", token=user.token),
                 422, "invalid_field", "status")
    stranger = new_user("board")
    r = server.get("/api/v1/ats/applications", token=stranger.token)
    assert r.status == 200 and r.body["applications"] == [], r


# ---------------------------------------------------------------- notes


def test_notes(server, user):
    job = create(server, user.token)
    jid = job["id"]
    seq = last_seq(server, user.token)
    r = server.post("/api/v1/ats/notes", token=user.token, body={
        "job_id": jid, "note_type": "preparation", "title": "Research",
        "content": "Read their engineering blog.\nAsk about on-call.", "is_important": True})
    assert r.status == 201, r
    note = r.body
    assert (note["job_id"], note["note_type"], note["title"], note["is_important"]) == \
        (jid, "preparation", "Research", True), note
    assert note["content"] == "Read their engineering blog.\nAsk about on-call.", note
    comm = server.post("/api/v1/ats/notes/", token=user.token, body={
        "job_id": jid, "content": "Recruiter called back", "is_communication": True,
        "communication_direction": "inbound", "communication_method": "phone",
        "contact_person": "Dana"})
    assert comm.status == 201 and comm.body["note_type"] == "general", comm

    notes = server.get(f"/api/v1/ats/jobs/{jid}/notes", token=user.token)
    assert notes.status == 200, notes
    assert [n["id"] for n in notes.body] == [comm.body["id"], note["id"]], notes.body

    r = server.request("PUT", f"/api/v1/ats/notes/{note['id']}", token=user.token,
                       body={"content": "Read the blog; ask about on-call.",
                             "follow_up_completed": True})
    assert r.status == 200, r
    assert r.body["content"] == "Read the blog; ask about on-call." and \
        r.body["follow_up_completed"] is True and r.body["title"] == "Research", r.body
    r = server.request("PATCH", f"/api/v1/ats/notes/{note['id']}/", token=user.token,
                       body={"title": "Company research"})
    assert r.status == 200 and r.body["title"] == "Company research", r

    t = server.get(f"/api/v1/applications/{jid}/timeline", token=user.token).body
    kinds = [e["event_type"] for e in t["events"]]
    assert kinds[:2] == ["communication", "note_added"] and kinds[-1] == "created", kinds
    added = t["events"][1]
    assert added["notes"] == "Research" and added["metadata"]["note_id"] == note["id"], added
    assert [n["id"] for n in t["notes"]] == [comm.body["id"], note["id"]], t["notes"]

    r = server.request("DELETE", f"/api/v1/ats/notes/{comm.body['id']}", token=user.token)
    assert r.status == 204, r
    assert_error(server.request("DELETE", f"/api/v1/ats/notes/{comm.body['id']}",
                                token=user.token), 404, "not_found")
    assert [n["id"] for n in server.get(f"/api/v1/ats/jobs/{jid}/notes",
                                        token=user.token).body] == [note["id"]]
    events = replay(server.port, user.token, since=seq)
    assert [e["type"] for e in events] == ["application.updated"] * 5, events
    assert all(e["data"]["job_id"] == jid for e in events), events

    # Refusals
    for body, status_, field in [
        ({"job_id": jid}, 422, "content"),
        ({"job_id": jid, "content": "   "}, 422, "content"),
        ({"content": "x"}, 422, "job_id"),
        ({"job_id": "one", "content": "x"}, 422, "job_id"),
        ({"job_id": jid, "content": "x", "mood": "great"}, 422, "mood"),
        ({"job_id": jid, "content": "x", "follow_up_date": "tomorrow"}, 422, "follow_up_date"),
    ]:
        assert_error(server.post("/api/v1/ats/notes", token=user.token, body=body),
                     status_, "invalid_field", field)
    assert_error(server.post("/api/v1/ats/notes", token=user.token,
                             body={"job_id": 999999999, "content": "x"}), 404, "not_found")
    assert_error(server.request("PUT", f"/api/v1/ats/notes/{note['id']}", token=user.token,
                                body={}), 422, "invalid_field")
    assert_error(server.request("PUT", "/api/v1/ats/notes/999999999", token=user.token,
                                body={"content": "x"}), 404, "not_found")
    assert_error(server.get("/api/v1/ats/jobs/999999999/notes", token=user.token),
                 404, "not_found")
    # Another user's note and job are not found.
    other = new_user("notes")
    assert_error(server.request("PUT", f"/api/v1/ats/notes/{note['id']}", token=other.token,
                                body={"content": "mine"}), 404, "not_found")
    assert_error(server.request("DELETE", f"/api/v1/ats/notes/{note['id']}", token=other.token),
                 404, "not_found")
    assert_error(server.post("/api/v1/ats/notes", token=other.token,
                             body={"job_id": jid, "content": "mine"}), 404, "not_found")
    assert_error(server.get(f"/api/v1/ats/jobs/{jid}/notes", token=other.token),
                 404, "not_found")
    assert len(server.get(f"/api/v1/ats/jobs/{jid}/notes", token=user.token).body) == 1


def test_note_created_with_its_follow_up_done(server, user):
    """Every field a new note accepts is kept, follow_up_completed too."""
    job = create(server, user.token)
    r = server.post("/api/v1/ats/notes", token=user.token, body={
        "job_id": job["id"], "content": "Sent the thank-you note",
        "requires_follow_up": True, "follow_up_completed": True})
    assert r.status == 201, r
    assert (r.body["requires_follow_up"], r.body["follow_up_completed"]) == (True, True), r.body
    r = server.post("/api/v1/ats/notes", token=user.token,
                    body={"job_id": job["id"], "content": "Nothing to follow"})
    assert r.status == 201 and r.body["follow_up_completed"] is False, r.body


@pytest.mark.parametrize("body", [{"content": ""}, {"content": None}, {"note_type": None},
                                  {"follow_up_completed": None}])
def test_note_update_refusal_names_the_field(server, user, body):
    """A note's content cannot be emptied and its flags cannot be null: the
    refusal names the field, like every other validation error."""
    job = create(server, user.token)
    note = server.post("/api/v1/ats/notes", token=user.token,
                       body={"job_id": job["id"], "content": "Keep me"}).body
    key = next(iter(body))
    r = server.request("PUT", f"/api/v1/ats/notes/{note['id']}", token=user.token, body=body)
    err = assert_error(r, 422, "invalid_field", key)
    assert key in err["message"], err
    assert server.get(f"/api/v1/ats/jobs/{job['id']}/notes", token=user.token).body == [note]


# ---------------------------------------------------------------- offers


def to_interviewing(server, token, **over):
    job = create(server, token, **over)
    moved(server, token, job["id"], "applied")
    moved(server, token, job["id"], "interviewing")
    return job


def test_offer_negotiate_accept(server, user):
    job = to_interviewing(server, user.token, company="Initech", job_title="C Programmer")
    jid = job["id"]
    seq = last_seq(server, user.token)
    r = server.post("/api/v1/ats/offers", token=user.token, body={
        "job_id": jid, "base_salary": 150000, "currency": "USD", "bonus": 10000,
        "equity": "0.1% over 4 years", "notes": "Verbal offer from Dana",
        "benefits_summary": "Health, dental", "vacation_days": 30,
        "response_deadline": "2030-04-01T17:00:00Z"})
    assert r.status == 201, r
    offer = r.body
    oid = offer["id"]
    assert (offer["job_id"], offer["salary"], offer["base_salary"], offer["bonus"]) == \
        (jid, 150000, 150000, 10000), offer
    assert (offer["status"], offer["currency"], offer["equity"]) == \
        ("pending_review", "USD", "0.1% over 4 years"), offer
    assert offer["negotiation_notes"] == "Verbal offer from Dana", offer
    assert offer["response_deadline"] == "2030-04-01T17:00:00.000Z", offer
    assert offer["counter_offers"] == [], offer
    assert job_of(server, user.token, jid)["status"] == "offer_received"
    events = own(replay(server.port, user.token, since=seq))
    assert [e["type"] for e in events] == ["offer.received", "application.status_changed"], events
    assert events[0]["data"]["offer_id"] == oid and events[0]["data"]["salary"] == 150000
    assert (events[1]["data"]["old_status"], events[1]["data"]["new_status"]) == \
        ("interviewing", "offer_received"), events[1]

    r = server.request("PUT", f"/api/v1/ats/offers/{oid}", token=user.token,
                       body={"bonus": 15000})
    assert r.status == 200 and r.body["bonus"] == 15000 and r.body["salary"] == 150000, r
    r = server.request("PATCH", f"/api/v1/ats/offers/{oid}/", token=user.token,
                       body={"negotiation_notes": "Asked for 170k"})
    assert r.status == 200 and r.body["negotiation_notes"] == "Asked for 170k", r

    r = server.post(f"/api/v1/ats/offers/{oid}/negotiate", token=user.token, body={
        "counter_salary": 170000, "counter_notes": "Market rate for the role"})
    assert r.status == 200, r
    assert r.body["status"] == "negotiating" and len(r.body["counter_offers"]) == 1, r.body
    r = server.post(f"/api/v1/ats/offers/{oid}/negotiate", token=user.token, body={
        "counter_salary": 160000, "counter_bonus": 20000, "counter_equity": "0.15%",
        "counter_notes": "Meet in the middle"})
    assert r.status == 200, r
    counters = r.body["counter_offers"]
    assert len(counters) == 2, counters
    assert (counters[0]["salary"], counters[0]["notes"]) == (170000, "Market rate for the role")
    assert (counters[1]["salary"], counters[1]["bonus"], counters[1]["equity"],
            counters[1]["notes"]) == (160000, 20000, "0.15%", "Meet in the middle"), counters
    assert all(ISO_MS_Z.match(c["timestamp"]) for c in counters), counters
    listed = server.get(f"/api/v1/ats/jobs/{jid}/offers", token=user.token)
    assert listed.status == 200 and len(listed.body) == 1, listed
    assert listed.body[0]["counter_offers"] == counters, listed.body
    assert_error(server.post(f"/api/v1/ats/offers/{oid}/negotiate", token=user.token,
                             body={"counter_salary": 1}), 422, "invalid_field", "counter_notes")

    seq = last_seq(server, user.token)
    r = server.post(f"/api/v1/ats/offers/{oid}/accept", token=user.token,
                    body={"notes": "Signed"})
    assert r.status == 200, r
    assert r.body["status"] == "accepted" and ISO_MS_Z.match(r.body["decision_date"]), r.body
    assert r.body["decision_notes"] == "Signed", r.body
    assert len(r.body["counter_offers"]) == 2, r.body
    assert job_of(server, user.token, jid)["status"] == "offer_accepted"
    events = own(replay(server.port, user.token, since=seq))
    assert [e["type"] for e in events] == ["offer.updated", "application.status_changed"], events
    assert (events[1]["data"]["old_status"], events[1]["data"]["new_status"]) == \
        ("offer_received", "offer_accepted"), events[1]

    t = server.get(f"/api/v1/ats/jobs/{jid}/timeline", token=user.token).body
    kinds = [e["event_type"] for e in t["events"]]
    assert kinds.count("offer_negotiation") == 2 and "offer_received" in kinds, kinds
    assert "offer_decision" in kinds, kinds
    assert [o["id"] for o in t["offers"]] == [oid], t["offers"]
    # A second decision is refused: the job has moved on.
    r = server.post(f"/api/v1/ats/offers/{oid}/reject", token=user.token)
    assert_error(r, 409, "conflict", "status")


def test_offer_decision_refused_then_allowed(server, user):
    """An offer recorded for an application that is not interviewing leaves
    the job where it is; accepting it is refused (409) and changes nothing;
    once the job reaches offer_received, rejecting it works."""
    job = create(server, user.token)
    jid = job["id"]
    moved(server, user.token, jid, "applied")
    r = server.post("/api/v1/ats/offers", token=user.token, body={"job_id": jid, "salary": 90000,
                                                                 "offer_status": "pending_review"})
    assert r.status == 201, r
    offer = r.body
    assert job_of(server, user.token, jid)["status"] == "applied"
    seq = last_seq(server, user.token)
    for action in ("accept", "reject"):
        r = server.post(f"/api/v1/ats/offers/{offer['id']}/{action}", token=user.token)
        err = assert_error(r, 409, "conflict", "status")
        assert "applied" in err["message"] and "Valid transitions" in err["message"], err
    r = server.request("PUT", f"/api/v1/ats/offers/{offer['id']}", token=user.token,
                       body={"status": "accepted"})
    assert_error(r, 409, "conflict", "status")
    assert replay(server.port, user.token, since=seq) == []
    assert job_of(server, user.token, jid)["status"] == "applied"
    listed = server.get(f"/api/v1/ats/jobs/{jid}/offers", token=user.token).body
    assert [(o["id"], o["status"], o["decision_date"]) for o in listed] == \
        [(offer["id"], "pending_review", None)], listed

    moved(server, user.token, jid, "interviewing")
    moved(server, user.token, jid, "offer_received")
    r = server.post(f"/api/v1/ats/offers/{offer['id']}/reject", token=user.token,
                    body={"reason": "Too far to commute"})
    assert r.status == 200, r
    assert r.body["status"] == "rejected" and r.body["rejection_reason"] == "Too far to commute"
    assert job_of(server, user.token, jid)["status"] == "offer_rejected"


def test_decided_offer_stays_decided(server, user):
    """Once accepted (the job is offer_accepted), an offer cannot be
    negotiated again or put back under review: 409, nothing changes."""
    job = to_interviewing(server, user.token)
    offer = server.post("/api/v1/ats/offers", token=user.token,
                        body={"job_id": job["id"], "salary": 120000}).body
    accepted = server.post(f"/api/v1/ats/offers/{offer['id']}/accept", token=user.token)
    assert accepted.status == 200 and accepted.body["status"] == "accepted", accepted
    seq = last_seq(server, user.token)
    for method, path, body in [
        ("POST", f"/api/v1/ats/offers/{offer['id']}/negotiate", {"counter_notes": "More?"}),
        ("PUT", f"/api/v1/ats/offers/{offer['id']}", {"status": "pending_review"}),
        ("PUT", f"/api/v1/ats/offers/{offer['id']}", {"status": "negotiating"}),
    ]:
        r = server.request(method, path, body=body, token=user.token)
        assert r.status in (409, 422), r
        assert_error(r, r.status, {409: "conflict", 422: "invalid_field"}[r.status])
    listed = server.get(f"/api/v1/ats/jobs/{job['id']}/offers", token=user.token).body
    assert (listed[0]["status"], listed[0]["counter_offers"]) == ("accepted", []), listed
    assert job_of(server, user.token, job["id"])["status"] == "offer_accepted"
    assert replay(server.port, user.token, since=seq) == []


def test_offer_recorded_as_accepted_is_consistent(server, user):
    """An offer recorded already accepted either is refused, or is a decided
    offer like one accepted later: decision date set and the job at
    offer_accepted."""
    job = to_interviewing(server, user.token)
    r = server.post("/api/v1/ats/offers", token=user.token,
                    body={"job_id": job["id"], "salary": 120000, "offer_status": "accepted"})
    if r.status == 201:
        assert r.body["status"] == "accepted" and r.body["decision_date"], r.body
        assert job_of(server, user.token, job["id"])["status"] == "offer_accepted"
    else:
        assert_error(r, 422, "invalid_field")
        assert job_of(server, user.token, job["id"])["status"] == "interviewing"


def test_rejected_offer_stays_rejected_but_notes_may_change(server, user):
    """A rejected offer is decided too: no new status, no counter-offer; its
    notes may still be corrected."""
    job = to_interviewing(server, user.token)
    offer = server.post("/api/v1/ats/offers", token=user.token,
                        body={"job_id": job["id"], "salary": 90000}).body
    r = server.post(f"/api/v1/ats/offers/{offer['id']}/reject", token=user.token,
                    body={"reason": "Commute"})
    assert r.status == 200 and r.body["status"] == "rejected", r
    seq = last_seq(server, user.token)
    for method, path, body in [
        ("POST", f"/api/v1/ats/offers/{offer['id']}/negotiate",
         {"counter_salary": 100000, "counter_notes": "Would 100k change it?"}),
        ("POST", f"/api/v1/ats/offers/{offer['id']}/accept", None),
        ("POST", f"/api/v1/ats/offers/{offer['id']}/reject", None),
        ("PUT", f"/api/v1/ats/offers/{offer['id']}", {"status": "expired"}),
        ("PATCH", f"/api/v1/ats/offers/{offer['id']}", {"status": "rejected", "salary": 1}),
    ]:
        err = assert_error(server.request(method, path, body=body, token=user.token),
                           409, "conflict", "status")
        assert "already rejected" in err["message"], err
    assert replay(server.port, user.token, since=seq) == []
    listed = server.get(f"/api/v1/ats/jobs/{job['id']}/offers", token=user.token).body
    assert (listed[0]["status"], listed[0]["salary"], listed[0]["counter_offers"]) == \
        ("rejected", 90000, []), listed
    r = server.request("PUT", f"/api/v1/ats/offers/{offer['id']}", token=user.token,
                       body={"decision_notes": "Would have been a long commute"})
    assert r.status == 200 and r.body["status"] == "rejected", r
    assert r.body["decision_notes"] == "Would have been a long commute", r.body
    assert job_of(server, user.token, job["id"])["status"] == "offer_rejected"


@pytest.mark.parametrize("decision,job_status", [("accepted", "offer_accepted"),
                                                 ("rejected", "offer_rejected")])
def test_offer_recorded_decided_is_recorded_then_decided(server, user, decision, job_status):
    """Recording a decided offer for an interviewing application is
    recording it and then deciding it: two moves through the transition
    table, with their history rows and events."""
    job = to_interviewing(server, user.token)
    jid = job["id"]
    seq = last_seq(server, user.token)
    r = server.post("/api/v1/ats/offers", token=user.token, body={
        "job_id": jid, "salary": 120000, "status": decision, "decision_notes": "Talked it over",
        "rejection_reason": "Pay" if decision == "rejected" else None})
    assert r.status == 201, r
    offer = r.body
    assert offer["status"] == decision and ISO_MS_Z.match(offer["decision_date"]), offer
    assert offer["decision_notes"] == "Talked it over", offer
    assert job_of(server, user.token, jid)["status"] == job_status
    events = own(replay(server.port, user.token, since=seq))
    assert [e["type"] for e in events] == ["offer.received", "application.status_changed",
                                           "offer.updated", "application.status_changed"], events
    assert [(e["data"]["old_status"], e["data"]["new_status"]) for e in events
            if e["type"] == "application.status_changed"] == \
        [("interviewing", "offer_received"), ("offer_received", job_status)], events
    assert events[2]["data"]["status"] == decision and "status" in events[2]["data"]["changed"]
    t = server.get(f"/api/v1/ats/jobs/{jid}/timeline", token=user.token).body
    moves = sorted((e["event_type"], e["old_status"], e["new_status"]) for e in t["events"]
                   if e["event_type"] in ("offer_received", "offer_decision"))
    assert moves == [("offer_decision", "offer_received", job_status),
                     ("offer_received", "interviewing", "offer_received")], t["events"]
    # Decided once, decided for good.
    assert_error(server.post(f"/api/v1/ats/offers/{offer['id']}/negotiate", token=user.token,
                             body={"counter_notes": "More?"}), 409, "conflict", "status")


def test_offer_recorded_decided_for_a_job_at_offer_received(server, user):
    """A second offer recorded as accepted while the job is at
    offer_received decides the job in one move."""
    job = to_interviewing(server, user.token)
    jid = job["id"]
    first = server.post("/api/v1/ats/offers", token=user.token,
                        body={"job_id": jid, "salary": 100000}).body
    assert job_of(server, user.token, jid)["status"] == "offer_received"
    seq = last_seq(server, user.token)
    r = server.post("/api/v1/ats/offers", token=user.token,
                    body={"job_id": jid, "salary": 110000, "offer_status": "accepted"})
    assert r.status == 201 and r.body["status"] == "accepted", r
    events = own(replay(server.port, user.token, since=seq))
    assert [e["type"] for e in events] == ["offer.received", "offer.updated",
                                           "application.status_changed"], events
    assert (events[2]["data"]["old_status"], events[2]["data"]["new_status"]) == \
        ("offer_received", "offer_accepted"), events[2]
    listed = server.get(f"/api/v1/ats/jobs/{jid}/offers", token=user.token).body
    assert sorted((o["id"], o["status"]) for o in listed) == \
        [(first["id"], "pending_review"), (r.body["id"], "accepted")], listed


def test_offer_recorded_decided_refused_when_the_job_cannot_get_there(server, user):
    """An applied job cannot reach offer_accepted: the decided offer is
    refused (409) and nothing is recorded; an undecided one still is."""
    job = create(server, user.token)
    jid = job["id"]
    moved(server, user.token, jid, "applied")
    seq = last_seq(server, user.token)
    for decision in ("accepted", "rejected"):
        r = server.post("/api/v1/ats/offers", token=user.token,
                        body={"job_id": jid, "salary": 1000, "status": decision})
        err = assert_error(r, 409, "conflict", "status")
        assert "applied" in err["message"], err
    assert replay(server.port, user.token, since=seq) == []
    assert server.get(f"/api/v1/ats/jobs/{jid}/offers", token=user.token).body == []
    assert job_of(server, user.token, jid)["status"] == "applied"
    r = server.post("/api/v1/ats/offers", token=user.token,
                    body={"job_id": jid, "salary": 1000, "status": "negotiating"})
    assert r.status == 201 and r.body["decision_date"] is None, r
    assert job_of(server, user.token, jid)["status"] == "applied"


def test_offer_update_applies_what_it_accepts(server, user):
    """Every field PUT accepts is saved (or refused naming it): nothing is
    answered 200 and dropped."""
    job = to_interviewing(server, user.token)
    offer = server.post("/api/v1/ats/offers", token=user.token,
                        body={"job_id": job["id"], "salary": 100000}).body
    changes = {"currency": "EUR", "salary_period": "monthly", "sign_on_bonus": 5000,
               "start_date": "2030-06-01T09:00:00Z",
               "offer_expiration_date": "2030-05-01T17:00:00Z",
               "decision_notes": "Thinking", "rejection_reason": "n/a",
               "response_deadline": "2030-04-15T17:00:00Z"}
    want = {"currency": "EUR", "salary_period": "monthly", "sign_on_bonus": 5000,
            "start_date": "2030-06-01T09:00:00.000Z",
            "offer_expiration_date": "2030-05-01T17:00:00.000Z",
            "decision_notes": "Thinking", "rejection_reason": "n/a",
            "response_deadline": "2030-04-15T17:00:00.000Z"}
    for key, value in changes.items():
        r = server.request("PUT", f"/api/v1/ats/offers/{offer['id']}", token=user.token,
                           body={key: value})
        if r.status == 200:
            assert r.body[key] == want[key], (key, r.body)
            listed = server.get(f"/api/v1/ats/jobs/{job['id']}/offers", token=user.token).body
            assert listed[0][key] == want[key], (key, listed)
        else:
            assert_error(r, 422, "invalid_field", key)


def test_offer_and_note_dates_in_the_users_zone(server, user):
    """Dates and times without a zone are the user's wall-clock time, on an
    offer (create and PUT) as on a note's follow_up_date."""
    uid = user_id(server.port, user.token)
    psql(f"UPDATE users SET timezone = 'Europe/Berlin' WHERE id = {uid}")
    job = to_interviewing(server, user.token)
    r = server.post("/api/v1/ats/offers", token=user.token, body={
        "job_id": job["id"], "salary": 100000, "response_deadline": "2030-04-01T17:00",
        "offer_expiration_date": "2030-04-15T17:00:00Z"})
    assert r.status == 201, r
    offer = r.body
    assert (offer["response_deadline"], offer["offer_expiration_date"]) == \
        ("2030-04-01T15:00:00.000Z", "2030-04-15T17:00:00.000Z"), offer
    r = server.request("PUT", f"/api/v1/ats/offers/{offer['id']}", token=user.token,
                       body={"start_date": "2030-06-01"})
    assert r.status == 200 and r.body["start_date"] == "2030-05-31T22:00:00.000Z", r
    r = server.post("/api/v1/ats/notes", token=user.token, body={
        "job_id": job["id"], "content": "Call Dana back", "requires_follow_up": True,
        "follow_up_date": "2030-01-10T09:00"})
    assert r.status == 201 and r.body["follow_up_date"] == "2030-01-10T08:00:00.000Z", r
    assert_error(server.request("PUT", f"/api/v1/ats/offers/{offer['id']}", token=user.token,
                                body={"start_date": "1899-12-31"}), 422, "invalid_field",
                 "start_date")
    listed = server.get(f"/api/v1/ats/jobs/{job['id']}/offers", token=user.token).body
    assert listed[0]["start_date"] == "2030-05-31T22:00:00.000Z", listed


def test_offer_refusals(server, user):
    job = to_interviewing(server, user.token)
    jid = job["id"]
    seq = last_seq(server, user.token)
    for body, field in [
        ({"salary": 100000}, "job_id"),
        ({"job_id": jid, "salary": -1}, "salary"),
        ({"job_id": jid, "base_salary": "a lot"}, "base_salary"),
        ({"job_id": jid, "status": "maybe"}, "status"),
        ({"job_id": jid, "start_date": "soon"}, "start_date"),
        ({"job_id": jid, "stock_options": 5}, "stock_options"),
    ]:
        assert_error(server.post("/api/v1/ats/offers", token=user.token, body=body),
                     422, "invalid_field", field)
    assert_error(server.post("/api/v1/ats/offers", token=user.token,
                             body={"job_id": 999999999, "salary": 1}), 404, "not_found")
    assert replay(server.port, user.token, since=seq) == []
    assert job_of(server, user.token, jid)["status"] == "interviewing"
    offer = server.post("/api/v1/ats/offers", token=user.token, body={"job_id": jid}).body
    assert offer["salary"] is None, offer  # the original answered 500 here
    other = new_user("offers")
    for method, path, body in [
        ("PUT", f"/api/v1/ats/offers/{offer['id']}", {"bonus": 1}),
        ("POST", f"/api/v1/ats/offers/{offer['id']}/negotiate", {"counter_notes": "x"}),
        ("POST", f"/api/v1/ats/offers/{offer['id']}/accept", None),
        ("POST", f"/api/v1/ats/offers/{offer['id']}/reject", None),
        ("GET", f"/api/v1/ats/jobs/{jid}/offers", None),
        ("POST", "/api/v1/ats/offers", {"job_id": jid, "salary": 1}),
    ]:
        assert_error(server.request(method, path, body=body, token=other.token), 404, "not_found")
    assert_error(server.request("PUT", "/api/v1/ats/offers/999999999", token=user.token,
                                body={"bonus": 1}), 404, "not_found")
    assert_error(server.request("PUT", f"/api/v1/ats/offers/{offer['id']}", token=user.token,
                                body={}), 422, "invalid_field")


# ---------------------------------------------------------------- learning signal


def signals(uid):
    rows = psql(f"SELECT event_seq, job_id, kind, weight, status FROM learning_signals "
                f"WHERE user_id = {uid} ORDER BY event_seq")
    out = []
    for line in rows.splitlines():
        seq, job, kind, weight, st = line.split("|")
        out.append((int(seq), int(job), kind, int(weight), st))
    return out


def unreacted(uid):
    return int(psql(f"SELECT count(*) FROM events WHERE user_id = {uid} AND reacted_at IS NULL"))


def test_job_saved_as_applied(server, user):
    """A job saved straight into applied (an application made elsewhere) is
    a status change like any other: applied_date, history, the event and
    its learning signal."""
    uid = user_id(server.port, user.token)
    job = create(server, user.token, company="Hooli", status="applied")
    assert job["status"] == "applied" and ISO_MS_Z.match(job["applied_date"]), job
    events = own(settled(server, user.token))
    assert [e["type"] for e in events] == ["job.created", "application.status_changed"], events
    moved_ = events[1]["data"]
    assert (moved_["job_id"], moved_["old_status"], moved_["new_status"]) == \
        (job["id"], "saved", "applied"), moved_
    assert signals(uid) == [(events[1]["seq"], job["id"], "application", 1, "applied")]
    t = server.get(f"/api/v1/ats/jobs/{job['id']}/timeline", token=user.token).body
    assert t["current_status"] == "applied", t


def test_learning_signal_once_per_status_event(server, user):
    """applied and interviewing record an application signal, rejected a
    dismissal, screening nothing: exactly one row per status event, also
    after every event is marked reacted."""
    uid = user_id(server.port, user.token)
    a = create(server, user.token, company="Initech", location="Remote")
    b = create(server, user.token, company="Hooli")
    moved(server, user.token, a["id"], "applied")
    moved(server, user.token, a["id"], "screening")
    moved(server, user.token, a["id"], "rejected")
    moved(server, user.token, b["id"], "applied")
    moved(server, user.token, b["id"], "interviewing")
    seqs = {(e["data"]["job_id"], e["data"]["new_status"]): e["seq"]
            for e in replay(server.port, user.token)
            if e["type"] == "application.status_changed"}
    want = sorted([
        (seqs[(a["id"], "applied")], a["id"], "application", 1, "applied"),
        (seqs[(a["id"], "rejected")], a["id"], "dismissal", -1, "rejected"),
        (seqs[(b["id"], "applied")], b["id"], "application", 1, "applied"),
        (seqs[(b["id"], "interviewing")], b["id"], "application", 1, "interviewing"),
    ])
    poll(lambda: signals(uid) == want, REACTION_TIMEOUT_S, what="the learning signals")
    poll(lambda: unreacted(uid) == 0, REACTION_TIMEOUT_S, what="every event marked reacted")
    assert signals(uid) == want
    row = psql(f"SELECT company, location, job_title FROM learning_signals WHERE user_id = {uid} "
               f"AND event_seq = {seqs[(a['id'], 'applied')]}")
    assert row == "Initech|Remote|Backend Developer", row
