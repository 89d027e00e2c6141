"""The orchestrator after a crash: a node commits events but dies before
their reactions run (the test build holds them with POST
/api/v1/_test/reactions); a fresh node's sweeper runs them, exactly once:
one company record, one learning signal per status event, one
calendar.event_created per interview, every event marked reacted. The same
with two fresh nodes racing over the leftovers (DESIGN §1: reactions are
at-least-once and idempotent, claimed with FOR UPDATE SKIP LOCKED)."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from conftest import base_env, new_user, poll
from wsutil import DEFAULT_CHANNELS, metrics, replay_async, run, user_id
from dbutil import psql, rows

CHANNELS = ",".join(DEFAULT_CHANNELS)
REACTION_TIMEOUT_S = 90.0
# Several sweep periods of the held node (HIREWIRE_REACTION_SWEEP_S=1), to
# show that nothing runs while it holds: a check that something does not
# happen can only wait.
HELD_WAIT_S = 3.0


def replay(port, token, since=0, channels=CHANNELS):
    return run(replay_async(port, token, since, channels))[0]


def node_env():
    return base_env(HIREWIRE_REACTION_RETRY_S=1, HIREWIRE_REACTION_SWEEP_S=1)


def hold(srv, token, on=True):
    r = srv.post("/api/v1/_test/reactions", body={"hold": on}, token=token)
    assert r.status == 200 and r.body == {"ok": True}, r


def when():
    t = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(days=4)
    return t.strftime("%Y-%m-%dT%H:%M")


def pipeline(srv, token, n_jobs, companies, n_interviews):
    """Saves n_jobs (companies cycled, with case and space variants), moves
    each to applied, schedules an interview on the first n_interviews;
    returns the job ids and interview ids."""
    jobs, interviews = [], []
    for i in range(n_jobs):
        name = companies[i % len(companies)]
        if i >= len(companies):
            name = "  " + name.upper().replace(" ", "   ") + " "
        r = srv.post("/api/v1/jobs/process", token=token, body={
            "jobTitle": f"Engineer {i}", "company": name, "location": "Remote",
            "jobDescription": "<p>C and PostgreSQL</p>", "source": "linkedin",
            "jobUrl": f"https://www.linkedin.com/jobs/view/41{i:08d}/"})
        assert r.status == 201, r
        jobs.append(r.body["id"])
        m = srv.post(f"/api/v1/ats/jobs/{r.body['id']}/status", token=token,
                     body={"status": "applied"})
        assert m.status == 200, m
    for jid in jobs[:n_interviews]:
        r = srv.post("/api/v1/ats/interviews", token=token, body={
            "job_id": jid, "interview_type": "technical", "scheduled_date": when(),
            "interviewer_email": "lead@example.com"})
        assert r.status == 201, r
        interviews.append(r.body["id"])
    return jobs, interviews


def state(uid):
    """What the reactions leave behind, for one user."""
    return {
        "unlinked": int(psql(f"SELECT count(*) FROM jobs WHERE user_id = {uid} "
                             f"AND company_id IS NULL")),
        "companies": sorted(r[0] for r in rows(f"SELECT name_key FROM companies "
                                                f"WHERE user_id = {uid}")),
        "signals": sorted((int(s), int(j), st) for s, j, st in rows(
            f"SELECT event_seq, job_id, status FROM learning_signals WHERE user_id = {uid}")),
        "unreacted": int(psql(f"SELECT count(*) FROM events WHERE user_id = {uid} "
                              f"AND reacted_at IS NULL")),
        "followups": sorted(tuple(r) for r in rows(
            f"SELECT origin, kind, state, hw_ms(due_at) FROM followups WHERE user_id = {uid}")),
    }


def expected_signals(events):
    return sorted((e["seq"], e["data"]["job_id"], "applied") for e in events
                  if e["type"] == "application.status_changed"
                  and e["data"]["new_status"] == "applied")


def check_held(srv, token, uid, jobs, interviews):
    """Nothing of the reactions happened on the holding node."""
    time.sleep(HELD_WAIT_S)
    s = state(uid)
    assert s["unlinked"] == len(jobs) and s["companies"] == [] and s["signals"] == [], s
    assert s["followups"] == [], s
    events = replay(srv.port, token)
    assert not [e for e in events if e["type"].startswith("calendar.")], events
    with_reactions = [e for e in events if e["type"] in (
        "job.created", "application.status_changed", "interview.scheduled")]
    assert len(with_reactions) == 2 * len(jobs) + 2 * len(interviews), \
        [e["type"] for e in events]
    unreacted = rows(f"SELECT seq, type FROM events WHERE user_id = {uid} "
                     f"AND reacted_at IS NULL ORDER BY seq")
    assert [(int(s), t) for s, t in unreacted] == \
        [(e["seq"], e["type"]) for e in with_reactions], unreacted
    for jid in jobs:
        r = srv.get(f"/api/v1/jobs/{jid}", token=token)
        assert r.status == 200 and r.body["company_id"] is None, r.body
    return events


def settle(srv, token, uid, jobs, interviews, companies, committed):
    """Waits for the reactions to be done, then checks they ran once."""
    want_signals = expected_signals(committed)
    want_companies = sorted(" ".join(c.lower().split()) for c in companies)

    def done():
        s = state(uid)
        assert s["unlinked"] == 0 and s["unreacted"] == 0 and s["signals"] == want_signals, \
            (s, want_signals)
        return s
    poll(done, REACTION_TIMEOUT_S, interval=0.2, what="the reactions of the dead node's events")
    s = state(uid)
    assert s["companies"] == want_companies, s
    assert s["signals"] == want_signals, s
    events = replay(srv.port, token)
    created = sorted(e["data"]["interview_id"] for e in events
                     if e["type"] == "calendar.event_created")
    assert created == sorted(interviews), created
    assert not [e for e in events if e["type"] == "calendar.event_updated"], events
    # The follow-up module's part: one followup.scheduled per follow-up row,
    # and every job and interview got its rows.
    scheduled = [e for e in events if e["type"] == "followup.scheduled"]
    followups = [f for f in s["followups"] if f[1] == "followup"]
    assert followups and len(scheduled) == len(followups), (scheduled, s["followups"])
    assert len({e["data"]["followup_id"] for e in scheduled}) == \
        len(scheduled), scheduled
    assert {e["data"]["job_id"] for e in scheduled} == set(jobs), scheduled
    # The events the reactions wrote come after the dead node's, with no gap.
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1)), \
        [e["seq"] for e in events]
    assert events[:len(committed)] == committed
    # Each job points at its user's one record of its company.
    links = rows(f"SELECT j.id, c.name_key FROM jobs j JOIN companies c ON c.id = j.company_id "
                 f"WHERE j.user_id = {uid} AND c.user_id = {uid} ORDER BY j.id")
    assert [int(j) for j, _ in links] == sorted(jobs), links
    for jid, key in links:
        r = srv.get(f"/api/v1/jobs/{jid}", token=token)
        assert r.status == 200 and r.body["company_id"] is not None, r.body
        assert " ".join(r.body["company"].lower().split()) == key, (r.body, key)
    return events


def test_reactions_run_once_after_a_crash(start_server):
    user = new_user("crash")
    companies = ["Acme Robotics", "Globex"]
    a = start_server(env=node_env(), args=["--node-id", "it-node-23a"])
    uid = user_id(a.port, user.token)
    hold(a, user.token)
    jobs, interviews = pipeline(a, user.token, 4, companies, 2)
    committed = check_held(a, user.token, uid, jobs, interviews)
    a.kill()  # SIGKILL: nothing is flushed, nothing is marked
    assert a.returncode == -9, a.returncode

    b = start_server(env=node_env(), args=["--node-id", "it-node-23b"])
    events = settle(b, user.token, uid, jobs, interviews, companies, committed)
    swept = metrics(b.port).get("hirewire_reactions_swept_total", 0)
    assert swept >= 2 * len(jobs) + 2 * len(interviews), swept

    # Another sweep finds nothing left to claim and changes nothing.
    before = state(uid)
    r = b.post("/api/v1/_test/reactions", body={"sweep": True}, token=user.token)
    assert r.status == 200, r
    assert state(uid) == before
    assert replay(b.port, user.token) == events
    # Reactions that ran but whose marks were lost (a crash between the two)
    # run again and change nothing: every step is keyed.
    psql(f"UPDATE events SET reacted_at = NULL, claimed_until = NULL WHERE user_id = {uid}")
    poll(lambda: state(uid)["unreacted"] == 0, REACTION_TIMEOUT_S,
         what="the reactions run again")
    assert state(uid) == before
    assert replay(b.port, user.token) == events
    # (The counter covers every user's events: other tests may have left some.)
    again = metrics(b.port).get("hirewire_reactions_swept_total", 0) - swept
    assert again >= 2 * len(jobs) + 2 * len(interviews), again

    # A later save on the live node reacts at once and joins the same company.
    r = b.post("/api/v1/jobs", token=user.token,
               body={"company": "acme robotics", "job_title": "Lead"})
    assert r.status == 201, r
    poll(lambda: b.get(f"/api/v1/jobs/{r.body['id']}", token=user.token).body["company_id"],
         REACTION_TIMEOUT_S, what="the new job linked")
    assert state(uid)["companies"] == before["companies"]


def test_two_fresh_nodes_race_over_the_leftovers(start_server):
    user = new_user("crash2")
    companies = ["Initech", "Hooli", "Umbrella Corp"]
    a = start_server(env=node_env(), args=["--node-id", "it-node-23c"])
    uid = user_id(a.port, user.token)
    hold(a, user.token)
    jobs, interviews = pipeline(a, user.token, 9, companies, 5)
    committed = check_held(a, user.token, uid, jobs, interviews)
    a.kill()
    assert a.returncode == -9, a.returncode

    # Both start at once, from two threads. A server gets SIGTERM when the
    # thread that started it ends (conftest sets PR_SET_PDEATHSIG), so the
    # pool lives until both are stopped.
    with ThreadPoolExecutor(2) as pool:
        nodes = list(pool.map(lambda name: start_server(env=node_env(), args=["--node-id", name]),
                              ["it-node-23d", "it-node-23e"]))
        try:
            settle(nodes[0], user.token, uid, jobs, interviews, companies, committed)
            swept = sum(metrics(n.port).get("hirewire_reactions_swept_total", 0) for n in nodes)
            assert swept >= 2 * len(jobs) + 2 * len(interviews), swept
            # Both nodes see the same log.
            assert replay(nodes[1].port, user.token) == replay(nodes[0].port, user.token)
        finally:
            for n in nodes:
                n.stop()
    for n in nodes:
        n.assert_clean_exit()
