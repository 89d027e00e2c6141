"""Follow-up automation: an application that becomes applied starts its
sequence (config/sequences.json: 3, 7 and 14 days later at 09:00 in the
user's zone), an interview adds a thank-you one day after it ends, a check-in
and reminders 1 day, 1 hour and 15 minutes before it; rescheduling moves
them, cancelling or ending the application drops them; the scheduler fires
each one once, pushed over the WebSocket; the dashboard's
GET /api/v1/followup/due, the list, one-off follow-ups and complete, snooze
and dismiss (CONTRACT §1.2 D18, §2.2; proto/openapi.yaml).

Time is moved with the test build's POST /api/v1/_test/clock instead of
sleeping; every test starts on the real clock. A "barrier" is a one-off
follow-up due at the server's now: once it has fired, the scheduler has
claimed everything that was due before it (it claims oldest first), so a
follow-up that has not fired by then never will at that time."""

import asyncio
import re
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from conftest import ISO_MS_Z, ServerFactory, assert_error, base_env, create_job, new_user, poll
from wsutil import connect, metrics, replay_async, run, user_id
from dbutil import psql, rows, wait_reacted

CHANNELS = "applications,interviews,followups"
UTC = timezone.utc
REACTION_TIMEOUT_S = 60.0
FIRE_TIMEOUT_S = 60.0
APPLIED_STEPS = [(3, "post_application_followup", "Following up on my application for {t}"),
                 (7, "check_in", "Checking in on the {t} role at {c}"),
                 (14, "final_followup", "Final follow-up: {t} application")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One node for the module; reactions an event still lacks after 1 s
    are claimed by the sweeper (the test that runs a reaction twice)."""
    factory = ServerFactory(tmp_path_factory.mktemp("server"))
    yield factory(env=base_env(HIREWIRE_REACTION_RETRY_S=1))
    factory.stop_all()


@pytest.fixture(autouse=True)
def real_clock(server, user):
    """Each test starts on the real clock, whatever the one before did."""
    set_clock(server, user.token, offset_ms=0)


# ---------------------------------------------------------------- helpers


def parse(ts):
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def wire(t):
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def set_clock(server, token, at=None, offset_ms=None, advance_ms=None):
    """Moves the server's clock so that its now is `at`, or sets or advances
    its offset; returns the server's now."""
    if at is not None:
        offset_ms = round((at.timestamp() - time.time()) * 1000)
    body = {"offset_ms": offset_ms} if offset_ms is not None else {"advance_ms": advance_ms}
    r = server.post("/api/v1/_test/clock", body=body, token=token)
    assert r.status == 200, r
    return parse(r.body["now"])


def server_now(server, token):
    return set_clock(server, token, advance_ms=0)


def at_nine(anchor, days, tz="UTC"):
    """09:00 local on the day `days` after the anchor's local date, in UTC."""
    zone = ZoneInfo(tz)
    day = anchor.astimezone(zone).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=zone).astimezone(UTC)


def replay(server, token, since=0, channels=CHANNELS):
    """The user's events after since (each checked against proto/schemas)."""
    return run(replay_async(server.port, token, since, channels))[0]


def last_seq(server, token):
    events = replay(server, token, channels="jobs," + CHANNELS)
    return events[-1]["seq"] if events else 0


def move(server, token, job_id, status):
    r = server.post(f"/api/v1/ats/jobs/{job_id}/status", body={"status": status}, token=token)
    assert r.status == 200, r
    return r.body


def applied(server, user, sequence=None, **over):
    """A job (with its own follow-up sequence when given) moved to applied,
    its reactions done: (job, uid, the application.status_changed event, the
    job's follow-ups by due time)."""
    uid = user_id(server.port, user.token)
    job = create_job(server, user.token, **over)
    if sequence:  # not settable through the API
        psql(f"UPDATE jobs SET followup_sequence = '{sequence}' WHERE id = {job['id']}")
    seq = last_seq(server, user.token)
    move(server, user.token, job["id"], "applied")
    wait_reacted(uid)
    ev = [e for e in replay(server, user.token, since=seq)
          if e["type"] == "application.status_changed"]
    assert len(ev) == 1, ev
    return job, uid, ev[0], followups(server, user.token, job_id=job["id"])


def followups(server, token, **query):
    q = "&".join(f"{k}={v}" for k, v in query.items())
    r = server.get(f"/api/v1/followups?{q}", token=token)
    assert r.status == 200, r
    assert isinstance(r.body, list), r.body
    assert int(r.header("x-total-count")) >= len(r.body), r.headers
    return r.body


def table(uid, where="true"):
    """The user's rows in followups: id -> (kind, origin, due_at, state)."""
    out = {}
    for fid, kind, origin, due, state in rows(
            f"SELECT id, kind, origin, hw_ts(due_at), state FROM followups "
            f"WHERE user_id = {uid} AND {where} ORDER BY id"):
        out[int(fid)] = (kind, origin, due, state)
    return out


def fired(uid, type_="followup.due", key="followup_id"):
    """key -> how many `type_` events the user's log holds for it."""
    return {int(k): int(n) for k, n in rows(
        f"SELECT data->>'{key}', count(*) FROM events WHERE user_id = {uid} "
        f"AND type = '{type_}' GROUP BY 1")}


def state_of(fid):
    return psql(f"SELECT state FROM followups WHERE id = {fid}")


def one_off(server, token, **body):
    r = server.post("/api/v1/followups", body=body, token=token)
    assert r.status == 201, r
    return r.body


def barrier(server, token):
    """A one-off follow-up due at the server's now, fired. The clock
    endpoint makes the scheduler look at once, so that the barrier does not
    depend on the scheduler's timer (see test_due_now_after_a_jump...)."""
    fid = one_off(server, token, subject="barrier", in_minutes=0)["id"]
    set_clock(server, token, advance_ms=0)
    poll(lambda: state_of(fid) == "due", FIRE_TIMEOUT_S, what="the barrier fired")
    return fid


def react_again(server, token, uid, seq):
    """Marks event seq unreacted and has the sweeper run its reactions
    again (as after a crash between a reaction and its mark). The event's
    commit time is left alone: it is the sequence's anchor."""
    psql(f"UPDATE events SET reacted_at = NULL WHERE user_id = {uid} AND seq = {seq}")

    def swept():
        r = server.post("/api/v1/_test/reactions", body={"sweep": True}, token=token)
        assert r.status == 200, r
        return psql(f"SELECT reacted_at IS NOT NULL FROM events WHERE user_id = {uid} "
                    f"AND seq = {seq}") == "t"
    poll(swept, REACTION_TIMEOUT_S, interval=0.3, what=f"event {seq} swept again")


def schedule_interview(server, token, job_id, start, **over):
    body = {"job_id": job_id, "interview_type": "technical", "scheduled_date": wire(start),
            "duration_minutes": 45, "interviewer_name": "Dana Scully"}
    body.update(over)
    r = server.post("/api/v1/ats/interviews", body=body, token=token)
    assert r.status == 201, r
    return r.body


def update_interview(server, token, iv_id, **body):
    r = server.request("PUT", f"/api/v1/ats/interviews/{iv_id}", body=body, token=token)
    assert r.status == 200, r
    return r.body


def whole_minute(t):
    return t.replace(second=0, microsecond=0)


def at_ten(now, days):
    """10:00 UTC `days` days after now's date: far from midnight, so that a
    longer interview still ends on the same day."""
    day = (now + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


def interview_plan(iv_id, start, minutes, now=None):
    """origin -> due time of everything an interview schedules (user in UTC);
    reminders only while still ahead of now."""
    end = start + timedelta(minutes=minutes)
    plan = {f"interview:{iv_id}:post_interview:0": end + timedelta(days=1),
            f"interview:{iv_id}:post_interview:1": at_nine(end, 7)}
    for m in (1440, 60, 15):
        if now is None or start - timedelta(minutes=m) > now:
            plan[f"interview:{iv_id}:reminder:{m}"] = start - timedelta(minutes=m)
    return plan


def due_by_origin(uid, iv_id, states=("pending",)):
    st = ",".join(f"'{s}'" for s in states)
    return {origin: parse(due) for _, origin, due, _ in table(
        uid, f"interview_id = {iv_id} AND state IN ({st})").values()}


# ---------------------------------------------------------------- applied


def check_applied(server, user, job, ev, steps, tz, sequence=APPLIED_STEPS, priority="normal",
                  name="post_application"):
    anchor = parse(ev["timestamp"])
    assert len(steps) == len(sequence), steps
    for i, (f, (days, type_, subject)) in enumerate(zip(steps, sequence)):
        assert parse(f["due_date"]) == at_nine(anchor, days, tz), (i, f, anchor)
        assert f["scheduled_date"] == f["due_date"], f
        assert (f["type"], f["follow_up_type"], f["followup_type"]) == (type_, type_, type_), f
        assert (f["sequence"], f["step"], f["kind"], f["state"]) == (name, i, "followup",
                                                                     "pending"), f
        assert (f["job_id"], f["company"], f["job_title"]) == \
            (job["id"], job["company"], job["job_title"]), f
        assert f["subject"] == subject.format(t=job["job_title"], c=job["company"]), f
        assert job["company"] in f["message"] and user.name in f["message"], f
        assert (f["priority"], f["late"], f["fired_at"], f["snoozes"]) == (priority, False,
                                                                         None, 0), f
    events = [e for e in replay(server, user.token, since=ev["seq"])
              if e["type"].startswith("followup.")]
    assert [e["type"] for e in events] == ["followup.scheduled"] * len(sequence), events
    assert [e["seq"] for e in events] == list(range(ev["seq"] + 1, ev["seq"] + 1 + len(steps)))
    for e, f in zip(sorted(events, key=lambda e: e["data"]["step"]), steps):
        d = e["data"]
        assert e["channel"] == "followups", e
        assert (d["followup_id"], d["job_id"], d["followup_type"], d["scheduled_date"],
                d["due_date"], d["sequence"], d["step"], d["priority"], d["subject"],
                d["company"], d["job_title"], d["rescheduled"]) == \
            (f["id"], job["id"], f["type"], f["due_date"], f["due_date"], name, f["step"],
             priority, f["subject"], job["company"], job["job_title"], False), e
    return anchor


def test_applied_schedules_three_steps_at_nine_utc(server, user):
    job, uid, ev, steps = applied(server, user)
    anchor = check_applied(server, user, job, ev, steps, "UTC")
    for f in steps:
        assert parse(f["due_date"]).strftime("%H:%M:%S.%f") == "09:00:00.000000", f
    # Exactly the three rows, keyed by the step they come from.
    assert [(k, o, d, s) for k, o, d, s in table(uid).values()] == [
        ("followup", f"job:{job['id']}:post_application:{i}", wire(at_nine(anchor, days)),
         "pending") for i, (days, _, _) in enumerate(APPLIED_STEPS)]
    r = server.get(f"/api/v1/followups?job_id={job['id']}", token=user.token)
    assert r.header("x-total-count") == "3", r.headers


def test_applied_in_the_users_time_zone(server, user):
    """09:00 in Berlin: 08:00Z in winter (CET), 07:00Z in summer (CEST)."""
    uid = user_id(server.port, user.token)
    psql(f"UPDATE users SET timezone = 'Europe/Berlin' WHERE id = {uid}")
    job, _, ev, steps = applied(server, user, company="Initech")
    anchor = check_applied(server, user, job, ev, steps, "Europe/Berlin")
    for f, (days, _, _) in zip(steps, APPLIED_STEPS):
        due = parse(f["due_date"])
        local = due.astimezone(ZoneInfo("Europe/Berlin"))
        assert (local.hour, local.minute) == (9, 0), f
        assert due.hour == (8 if local.utcoffset() == timedelta(hours=1) else 7), f
        assert local.date() == anchor.astimezone(ZoneInfo("Europe/Berlin")).date() + \
            timedelta(days=days)


def test_applied_in_a_zone_the_server_has_not_read(server, user):
    """A zone no request of this server has used yet is read off the event
    loop while the reaction waits, then used: 09:00 in Kolkata is 03:30Z."""
    uid = user_id(server.port, user.token)
    psql(f"UPDATE users SET timezone = 'Asia/Kolkata' WHERE id = {uid}")
    job, _, ev, steps = applied(server, user, company="Hooli")
    check_applied(server, user, job, ev, steps, "Asia/Kolkata")
    for f in steps:
        assert parse(f["due_date"]).strftime("%H:%M") == "03:30", f


@pytest.mark.parametrize("name,sequence,priority", [
    ("aggressive_followup", [(2, "post_application_followup", "{t} application: {n}"),
                             (5, "check_in", "Re: {t} application"),
                             (10, "final_followup", "Last follow-up on the {t} role")], "high"),
    ("passive_followup", [(7, "post_application_followup", "Checking in on my {t} application"),
                          (21, "final_followup", "{t} application: a final note")], "low"),
])
def test_job_sequence_instead_of_the_default(server, user, name, sequence, priority):
    job, _, ev, steps = applied(server, user, sequence=name, company="Hooli")
    sequence = [(d, t, s.replace("{n}", user.name)) for d, t, s in sequence]
    check_applied(server, user, job, ev, steps, "UTC", sequence, priority, name)


def test_applied_handled_twice_schedules_nothing_twice(server, user):
    """The applied event's reactions run a second time: same rows, no new
    event."""
    job, uid, ev, steps = applied(server, user)
    before = rows(f"SELECT id, origin, hw_ts(due_at), state, hw_ts(updated_at) FROM followups "
                  f"WHERE user_id = {uid} ORDER BY id")
    seq = last_seq(server, user.token)
    swept = metrics(server.port).get("hirewire_reactions_swept_total", 0)
    react_again(server, user.token, uid, ev["seq"])
    assert metrics(server.port).get("hirewire_reactions_swept_total", 0) > swept
    assert rows(f"SELECT id, origin, hw_ts(due_at), state, hw_ts(updated_at) FROM followups "
                f"WHERE user_id = {uid} ORDER BY id") == before
    assert replay(server, user.token, since=seq, channels="jobs," + CHANNELS) == []
    assert len(followups(server, user.token, job_id=job["id"])) == 3


def test_applied_handled_twice_keeps_a_snooze(server, user):
    job, uid, ev, steps = applied(server, user)
    r = server.post(f"/api/v1/followups/{steps[0]['id']}/snooze", body={"minutes": 90},
                    token=user.token)
    assert r.status == 200, r
    snoozed = r.body["due_date"]
    seq = last_seq(server, user.token)
    react_again(server, user.token, uid, ev["seq"])
    now = followups(server, user.token, job_id=job["id"])
    assert [f["due_date"] for f in now] == [snoozed] + [f["due_date"] for f in steps[1:]], now
    assert replay(server, user.token, since=seq) == []


@pytest.mark.parametrize("end", ["rejected", "withdrawn"])
def test_ended_application_cancels_the_rest(server, user, end):
    """The first step fired, then the application ends: the two pending
    steps are cancelled (followup.cancelled each) and never fire; the one
    that fired stays due until the user acts on it."""
    job, uid, ev, steps = applied(server, user)
    set_clock(server, user.token, at=parse(steps[0]["due_date"]) + timedelta(minutes=1))
    poll(lambda: state_of(steps[0]["id"]) == "due", FIRE_TIMEOUT_S, what="the first step fired")
    seq = last_seq(server, user.token)
    move(server, user.token, job["id"], end)
    wait_reacted(uid)
    events = [e for e in replay(server, user.token, since=seq) if e["channel"] == "followups"]
    assert sorted((e["type"], e["data"]["followup_id"]) for e in events) == \
        [("followup.cancelled", f["id"]) for f in steps[1:]], events
    for e in events:
        assert (e["data"]["job_id"], e["data"]["company"]) == (job["id"], job["company"]), e
    assert [f["state"] for f in followups(server, user.token, job_id=job["id"])] == \
        ["due", "cancelled", "cancelled"]

    set_clock(server, user.token, at=parse(steps[2]["due_date"]) + timedelta(days=1))
    b = barrier(server, user.token)
    assert fired(uid) == {steps[0]["id"]: 1, b: 1}
    assert [f["state"] for f in followups(server, user.token, job_id=job["id"])] == \
        ["due", "cancelled", "cancelled"]


# ---------------------------------------------------------------- interviews


def test_interview_schedules_thank_you_and_reminders(server, user):
    job, uid, _, app_steps = applied(server, user, company="Umbrella")
    now = server_now(server, user.token)
    start = at_ten(now, 3)
    seq = last_seq(server, user.token)
    iv = schedule_interview(server, user.token, job["id"], start)
    wait_reacted(uid)
    plan = interview_plan(iv["id"], start, 45)
    assert due_by_origin(uid, iv["id"]) == plan
    # Reminders: kind reminder, not in the follow-up list.
    reminders = rows(f"SELECT step, type, priority, subject FROM followups "
                     f"WHERE interview_id = {iv['id']} AND kind = 'reminder' ORDER BY step")
    assert reminders == [["15", "technical", "high", "15 minutes"],
                         ["60", "technical", "high", "1 hour"],
                         ["1440", "technical", "high", "1 day"]], reminders
    listed = followups(server, user.token, job_id=job["id"])
    assert [f["id"] for f in listed if f["interview_id"] is None] == [f["id"] for f in app_steps]
    ivf = [f for f in listed if f["interview_id"] == iv["id"]]
    assert [(f["type"], f["sequence"], f["step"], f["priority"]) for f in ivf] == \
        [("thank_you", "post_interview", 0, "high"), ("check_in", "post_interview", 1, "normal")]
    assert ivf[0]["subject"] == "Thank you for the Backend Developer interview", ivf[0]
    assert "Dear Dana Scully" in ivf[0]["message"] and "technical" in ivf[0]["message"], ivf[0]
    events = [e for e in replay(server, user.token, since=seq) if e["channel"] == "followups"]
    assert sorted((e["type"], e["data"]["followup_id"], e["data"]["interview_id"],
                   e["data"]["due_date"], e["data"]["rescheduled"]) for e in events) == \
        [("followup.scheduled", f["id"], iv["id"], f["due_date"], False) for f in ivf], events


def test_only_reminders_still_ahead(server, user):
    job, uid, _, _ = applied(server, user)
    now = server_now(server, user.token)
    soon = whole_minute(now) + timedelta(minutes=31)
    later = whole_minute(now) + timedelta(hours=2, minutes=1)
    a = schedule_interview(server, user.token, job["id"], soon, interview_type="phone_screen")
    b = schedule_interview(server, user.token, job["id"], later, duration_minutes=60)
    wait_reacted(uid)
    assert due_by_origin(uid, a["id"]) == interview_plan(a["id"], soon, 45, now)
    assert due_by_origin(uid, b["id"]) == interview_plan(b["id"], later, 60, now)
    assert sorted(o for o in due_by_origin(uid, a["id"]) if ":reminder:" in o) == \
        [f"interview:{a['id']}:reminder:15"]
    assert sorted(o for o in due_by_origin(uid, b["id"]) if ":reminder:" in o) == \
        [f"interview:{b['id']}:reminder:15", f"interview:{b['id']}:reminder:60"]


def test_reschedule_moves_and_cancel_drops(server, user):
    job, uid, _, app_steps = applied(server, user)
    now = server_now(server, user.token)
    start = at_ten(now, 3)
    iv = schedule_interview(server, user.token, job["id"], start)
    wait_reacted(uid)
    ids = {o: fid for fid, (_, o, _, _) in table(uid, f"interview_id = {iv['id']}").items()}
    assert len(ids) == 5, ids

    # Later by a day and two hours: everything moves, the same rows.
    moved = start + timedelta(days=1, hours=2)
    seq = last_seq(server, user.token)
    update_interview(server, user.token, iv["id"], scheduled_date=wire(moved))
    wait_reacted(uid)
    assert due_by_origin(uid, iv["id"]) == interview_plan(iv["id"], moved, 45)
    assert {o: fid for fid, (_, o, _, _) in table(uid, f"interview_id = {iv['id']}").items()} \
        == ids
    events = [e for e in replay(server, user.token, since=seq) if e["channel"] == "followups"]
    plan = interview_plan(iv["id"], moved, 45)
    assert sorted((e["type"], e["data"]["followup_id"], parse(e["data"]["due_date"]),
                   e["data"]["rescheduled"]) for e in events) == [
        ("followup.scheduled", ids[o], plan[o], True)
        for o in (f"interview:{iv['id']}:post_interview:0",
                  f"interview:{iv['id']}:post_interview:1")], events

    # Longer: the thank-you (after the end) moves, the reminders and the
    # check-in (09:00 seven days on, same day) do not, and only the moved
    # one is announced.
    seq = last_seq(server, user.token)
    update_interview(server, user.token, iv["id"], duration_minutes=90)
    wait_reacted(uid)
    plan = interview_plan(iv["id"], moved, 90)
    assert due_by_origin(uid, iv["id"]) == plan
    events = [e for e in replay(server, user.token, since=seq) if e["channel"] == "followups"]
    thanks = f"interview:{iv['id']}:post_interview:0"
    assert [(e["data"]["followup_id"], parse(e["data"]["due_date"]), e["data"]["rescheduled"])
            for e in events] == [(ids[thanks], plan[thanks], True)], events

    # Notes only: nothing moves, nothing is announced.
    seq = last_seq(server, user.token)
    update_interview(server, user.token, iv["id"], notes="Bring the portfolio")
    wait_reacted(uid)
    assert due_by_origin(uid, iv["id"]) == plan
    assert [e for e in replay(server, user.token, since=seq) if e["channel"] == "followups"] == []

    # Cancelled: its follow-ups and reminders are dropped, the application's
    # own steps stay.
    seq = last_seq(server, user.token)
    r = server.request("DELETE", f"/api/v1/ats/interviews/{iv['id']}", token=user.token)
    assert r.status == 200, r
    wait_reacted(uid)
    assert due_by_origin(uid, iv["id"]) == {}
    assert sorted(due_by_origin(uid, iv["id"], ("cancelled",))) == sorted(ids)
    events = [e for e in replay(server, user.token, since=seq) if e["channel"] == "followups"]
    assert sorted((e["type"], e["data"]["followup_id"]) for e in events) == sorted(
        ("followup.cancelled", ids[o]) for o in ids if ":post_interview:" in o), events
    assert [f["state"] for f in followups(server, user.token, job_id=job["id"])
            if f["interview_id"] is None] == ["pending"] * 3

    # Past every time they had: nothing of the interview fires; the
    # application's steps do, once each.
    set_clock(server, user.token, at=max(plan.values()) + timedelta(days=8))
    b = barrier(server, user.token)
    assert fired(uid) == {**{f["id"]: 1 for f in app_steps}, b: 1}
    assert fired(uid, "interview.reminder", "interview_id") == {}


def test_reschedule_earlier_drops_reminders_now_past(server, user):
    job, uid, _, _ = applied(server, user)
    now = server_now(server, user.token)
    start = whole_minute(now) + timedelta(hours=36)
    iv = schedule_interview(server, user.token, job["id"], start)
    wait_reacted(uid)
    earlier = whole_minute(now) + timedelta(hours=20)
    update_interview(server, user.token, iv["id"], scheduled_date=wire(earlier))
    wait_reacted(uid)
    set_clock(server, user.token, at=start - timedelta(days=1) + timedelta(minutes=1))
    barrier(server, user.token)
    got = rows(f"SELECT data->>'time_until', data->>'scheduled_date' FROM events "
               f"WHERE user_id = {uid} AND type = 'interview.reminder'")
    assert got == [], f"reminders fired 8 h before an interview now at {wire(earlier)}: {got}"


def test_cancelled_then_rescheduled_interview_gets_them_back(server, user):
    job, uid, _, _ = applied(server, user)
    now = server_now(server, user.token)
    start = whole_minute(now + timedelta(days=3))
    iv = schedule_interview(server, user.token, job["id"], start)
    wait_reacted(uid)
    r = server.request("DELETE", f"/api/v1/ats/interviews/{iv['id']}", token=user.token)
    assert r.status == 200, r
    wait_reacted(uid)
    again = start + timedelta(days=1)
    body = update_interview(server, user.token, iv["id"], scheduled_date=wire(again))
    assert body["status"] == "scheduled", body
    wait_reacted(uid)
    assert due_by_origin(uid, iv["id"]) == interview_plan(iv["id"], again, 45)


# ---------------------------------------------------------------- firing, live


async def until_fired(ws, fid, timeout=FIRE_TIMEOUT_S):
    """Events up to and including the followup.due of fid."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    out = []
    while True:
        left = deadline - loop.time()
        assert left > 0, f"no followup.due for {fid} within {timeout} s; got {out}"
        msg = await ws.event(left)
        out.append(msg)
        if msg["type"] == "followup.due" and msg["data"]["followup_id"] == fid:
            return out


async def socket_barrier(ws, server, token):
    """barrier() seen on a socket subscribed to followups: the events up to
    the barrier's followup.due."""
    b = await asyncio.to_thread(one_off, server, token, subject="barrier", in_minutes=0)
    await asyncio.to_thread(set_clock, server, token, advance_ms=0)
    return b["id"], await until_fired(ws, b["id"])


def test_due_pushed_once_over_the_socket(server, user):
    job, uid, _, steps = applied(server, user, company="Initech")
    first = steps[0]
    due = parse(first["due_date"])

    async def go():
        async with connect(server.port, token=user.token, channels="followups") as ws, \
                connect(server.port, token=user.token, channels="interviews") as other:
            # Just past it: the clock endpoint's look fires it, on time.
            await asyncio.to_thread(set_clock, server, user.token, due + timedelta(seconds=1))
            got = await until_fired(ws, first["id"])
            assert [m["type"] for m in got] == ["followup.due"], got
            ev = got[0]
            d = ev["data"]
            assert ev["channel"] == "followups", ev
            assert (d["followup_id"], d["follow_up_id"], d["job_id"], d["company"],
                    d["job_title"], d["followup_type"], d["follow_up_type"], d["priority"],
                    d["subject"], d["message"], d["scheduled_date"], d["due_date"]) == \
                (first["id"], first["id"], job["id"], "Initech", job["job_title"],
                 "post_application_followup", "post_application_followup", "normal",
                 first["subject"], first["message"], first["due_date"],
                 first["due_date"]), d
            assert d["late"] is False, d
            assert -1 < d["hours_until_due"] <= 0, d
            # Another look at the same moment, and a barrier: still once.
            await asyncio.to_thread(set_clock, server, user.token, advance_ms=0)
            b, rest = await socket_barrier(ws, server, user.token)
            assert [m["type"] for m in rest] == ["followup.scheduled", "followup.due"], rest
            assert await ws.sync() == []
            assert await other.sync() == []
            return b
    b = run(go())
    assert fired(uid) == {first["id"]: 1, b: 1}
    mine = [f for f in server.get("/api/v1/followups/due", token=user.token).body
            if f["id"] == first["id"]]
    assert len(mine) == 1 and mine[0]["state"] == "due" and mine[0]["late"] is False, mine
    assert parse(mine[0]["fired_at"]) >= due, mine
    assert [f["state"] for f in followups(server, user.token, job_id=job["id"])] == \
        ["due", "pending", "pending"]


def test_timer_fires_on_time(start_server, user):
    """No clock move: the scheduler's timer fires a follow-up due in three
    seconds at its time, not late, once."""
    node = start_server()
    uid = user_id(node.port, user.token)
    due = server_now(node, user.token) + timedelta(seconds=3)

    async def go():
        async with connect(node.port, token=user.token, channels="followups") as ws:
            f = await asyncio.to_thread(one_off, node, user.token, subject="In three seconds",
                                        due_date=wire(due))
            got = await until_fired(ws, f["id"], timeout=30)
            assert [m["type"] for m in got] == ["followup.scheduled", "followup.due"], got
            assert got[1]["data"]["late"] is False, got[1]
            assert parse(got[1]["timestamp"]) >= due, got[1]
            return f["id"]
    fid = run(go())
    assert fired(uid) == {fid: 1}
    r = node.get("/api/v1/followups/due", token=user.token)
    assert [(f["id"], f["late"]) for f in r.body] == [(fid, False)], r.body
    assert parse(r.body[0]["fired_at"]) >= due, r.body


def test_due_now_after_a_jump_fires_at_once(start_server, user):
    node = start_server()
    # A warm-up follow-up fired by the node's timer: its first look is over
    # and its timer waits for the next one, a minute ahead at most.
    warm = one_off(node, user.token, subject="Warm-up",
                   due_date=wire(server_now(node, user.token) + timedelta(seconds=1)))
    poll(lambda: state_of(warm["id"]) == "due", FIRE_TIMEOUT_S, what="the warm-up fired")
    set_clock(node, user.token, advance_ms=86400 * 1000)
    f = one_off(node, user.token, subject="Right now", in_minutes=0)
    poll(lambda: state_of(f["id"]) == "due", 15, what="a follow-up due now fired within 15 s")


def test_overdue_fires_marked_late(server, user):
    job, uid, _, steps = applied(server, user)
    # Past the first two: both fire, oldest first, late; the third waits.
    set_clock(server, user.token, at=parse(steps[1]["due_date"]) + timedelta(minutes=10))
    b = barrier(server, user.token)
    assert fired(uid) == {steps[0]["id"]: 1, steps[1]["id"]: 1, b: 1}
    due = [e for e in replay(server, user.token) if e["type"] == "followup.due"]
    assert [e["data"]["followup_id"] for e in due] == [steps[0]["id"], steps[1]["id"], b]
    assert [e["data"]["late"] for e in due] == [True, True, False], due
    assert due[1]["data"]["hours_until_due"] == pytest.approx(-10 / 60, abs=0.02), due[1]
    listed = followups(server, user.token, job_id=job["id"])
    assert [(f["state"], f["late"]) for f in listed] == \
        [("due", True), ("due", True), ("pending", False)], listed


def test_interview_reminders_pushed_once(server, user):
    job, uid, _, _ = applied(server, user, company="Hooli")
    now = server_now(server, user.token)
    start = whole_minute(now + timedelta(days=3))
    iv = schedule_interview(server, user.token, job["id"], start, interview_type="system_design")
    wait_reacted(uid)

    async def go():
        async with connect(server.port, token=user.token, channels="interviews") as ws, \
                connect(server.port, token=user.token, channels="followups") as fu:
            got = []
            # 1 day before, just past it; 1 hour and 15 minutes before, 5 minutes late.
            for minutes, text, late, past in ((1440, "1 day", False, timedelta(seconds=1)),
                                              (60, "1 hour", True, timedelta(minutes=5)),
                                              (15, "15 minutes", True, timedelta(minutes=5))):
                await asyncio.to_thread(set_clock, server, user.token,
                                        start - timedelta(minutes=minutes) + past)
                ev = await ws.event(FIRE_TIMEOUT_S)
                assert ev["type"] == "interview.reminder", ev
                assert ev["channel"] == "interviews", ev
                d = ev["data"]
                assert (d["interview_id"], d["job_id"], d["company"], d["job_title"],
                        d["interview_type"], d["scheduled_date"], d["time_until"],
                        d["minutes_before"], d["late"]) == \
                    (iv["id"], job["id"], "Hooli", job["job_title"], "system_design",
                     wire(start), text, minutes, late), d
                got.append(ev)
            # At the start and after: nothing more for the interview.
            await asyncio.to_thread(set_clock, server, user.token, start + timedelta(minutes=1))
            await socket_barrier(fu, server, user.token)
            assert await ws.sync() == []
            return got
    got = run(go())
    assert [e["seq"] for e in got] == sorted(e["seq"] for e in got)
    assert fired(uid, "interview.reminder", "interview_id") == {iv["id"]: 3}
    assert psql(f"SELECT count(*) FROM followups WHERE interview_id = {iv['id']} "
                f"AND kind = 'reminder' AND state = 'due'") == "3"


# ---------------------------------------------------------------- the dashboard's list


def test_followup_due_dashboard_shape(server, user):
    job, uid, _, steps = applied(server, user, company="Globex Corp")
    # 71 hours before the first step; nothing of this user is due yet.
    now = set_clock(server, user.token, at=parse(steps[0]["due_date"]) - timedelta(hours=71))
    soon = one_off(server, user.token, subject="Call the recruiter", in_minutes=10,
                   job_id=job["id"], type="status_inquiry", priority="high")
    far = one_off(server, user.token, subject="Later", in_minutes=73 * 60)
    overdue = one_off(server, user.token, title="Overdue", due_date=wire(now - timedelta(hours=5)))
    poll(lambda: state_of(overdue["id"]) == "due", FIRE_TIMEOUT_S, what="the overdue one fired")
    assert parse(soon["due_date"]) - now < timedelta(minutes=10, seconds=5), soon
    assert overdue["subject"] == "Overdue" and far["state"] == "pending"

    def due(query):
        r = server.get(f"/api/v1/followup/due{query}", token=user.token)
        assert r.status == 200, r
        assert isinstance(r.body, list), r.body
        for f in r.body:
            assert {"id", "follow_up_type", "company", "job_title", "due_date"} <= set(f), f
            assert ISO_MS_Z.match(f["due_date"]), f
        return r.body

    body = due("?hours_ahead=72")
    assert [f["id"] for f in body] == [overdue["id"], soon["id"], steps[0]["id"]], body
    assert [(f["follow_up_type"], f["company"], f["job_title"], f["state"]) for f in body] == [
        ("reminder", None, None, "due"),
        ("status_inquiry", "Globex Corp", job["job_title"], "pending"),
        ("post_application_followup", "Globex Corp", job["job_title"], "pending")], body
    assert [f["id"] for f in due("/?hours_ahead=72")] == [f["id"] for f in body]
    assert [f["id"] for f in due("")] == [overdue["id"], soon["id"]]  # 24 hours
    assert [f["id"] for f in due("?hours_ahead=0")] == [overdue["id"]]
    for bad in ("-1", "abc", "1.5", "8785"):
        assert_error(server.get(f"/api/v1/followup/due?hours_ahead={bad}", token=user.token),
                     422, "invalid_field", "hours_ahead")
    r = server.get("/api/v1/followups/due", token=user.token)
    assert r.status == 200 and [f["id"] for f in r.body] == [overdue["id"]], r
    # Nobody else's.
    assert server.get("/api/v1/followup/due?hours_ahead=8784",
                      token=new_user("nobody").token).body == []


def test_list_filters_and_paging(server, user):
    job, uid, _, steps = applied(server, user)
    now = server_now(server, user.token)
    made = [one_off(server, user.token, subject=f"note {i}", in_minutes=10 * (i + 1))
            for i in range(4)]
    r = server.post(f"/api/v1/followups/{made[1]['id']}/dismiss", token=user.token)
    assert r.status == 200, r

    def listed(query):
        r = server.get(f"/api/v1/followups{query}", token=user.token)
        assert r.status == 200, r
        return [f["id"] for f in r.body], int(r.header("x-total-count"))

    everything = [m["id"] for m in made] + [f["id"] for f in steps]
    assert listed("") == (everything, 7)
    assert listed("?state=pending") == ([i for i in everything if i != made[1]["id"]], 6)
    assert listed("?status=dismissed") == ([made[1]["id"]], 1)
    assert listed("?state=due") == ([], 0)
    assert listed(f"?job_id={job['id']}") == ([f["id"] for f in steps], 3)
    cut = wire(now + timedelta(minutes=25))
    assert listed(f"?due_before={cut}") == ([made[0]["id"], made[1]["id"]], 2)
    assert listed(f"?due_after={cut}&due_before={steps[0]['due_date']}") == \
        ([made[2]["id"], made[3]["id"]], 2)
    assert listed("?limit=2&offset=1") == (everything[1:3], 7)
    assert listed("?limit=2&offset=6") == (everything[6:], 7)
    assert listed("?offset=7") == ([], 7)
    for query, field in (("state=bogus", "state"), ("status=Pending", "state"),
                         ("limit=0", "limit"), ("limit=501", "limit"), ("offset=-1", "offset"),
                         ("job_id=abc", "job_id"), ("due_before=tomorrow", "due_before"),
                         ("due_after=2026-13-01T00:00:00Z", "due_after")):
        assert_error(server.get(f"/api/v1/followups?{query}", token=user.token),
                     422, "invalid_field", field)


def test_calendar_feed_lists_followups(server, user):
    job = create_job(server, user.token, company="Initech", job_title="C Programmer")
    f = one_off(server, user.token, subject="Send the portfolio", in_minutes=90, job_id=job["id"],
                message="The two C projects", priority="high")
    due = parse(f["due_date"])

    def vevent():
        r = server.get("/api/v1/calendar.ics", token=user.token)
        assert r.status == 200 and r.header("content-type", "").startswith("text/calendar"), r
        text = re.sub(r"\r\n[ \t]", "", r.body)
        blocks = re.findall(r"BEGIN:VEVENT\r\n(.*?)END:VEVENT", text, re.S)
        mine = [b for b in blocks if f"UID:followup-{f['id']}@hirewire" in b]
        assert len(mine) == 1, text
        return mine[0].split("\r\n")

    lines = vevent()
    assert "SUMMARY:Follow-up: Send the portfolio (C Programmer at Initech)" in lines, lines
    assert f"DTSTART:{due.strftime('%Y%m%dT%H%M%SZ')}" in lines, lines
    assert "DESCRIPTION:The two C projects" in lines and "STATUS:CONFIRMED" in lines, lines
    assert "BEGIN:VALARM" in lines and "TRIGGER:PT0S" in lines, lines
    r = server.post(f"/api/v1/followups/{f['id']}/dismiss", token=user.token)
    assert r.status == 200, r
    lines = vevent()
    assert "STATUS:CANCELLED" in lines and "BEGIN:VALARM" not in lines, lines


# ---------------------------------------------------------------- acting on one


def test_one_off_complete(server, user):
    uid = user_id(server.port, user.token)
    job = create_job(server, user.token, company="Initech")
    now = server_now(server, user.token)
    seq = last_seq(server, user.token)
    f = one_off(server, user.token, subject="Thank Dana", in_minutes=30, job_id=job["id"],
                message="For the tour", priority="high", type="thank_you")
    assert (f["subject"], f["message"], f["priority"], f["type"], f["state"], f["job_id"],
            f["company"], f["job_title"], f["kind"], f["sequence"], f["step"]) == \
        ("Thank Dana", "For the tour", "high", "thank_you", "pending", job["id"], "Initech",
         job["job_title"], "followup", None, None), f
    assert timedelta(minutes=30) <= parse(f["due_date"]) - now < timedelta(minutes=30,
                                                                           seconds=10), f
    r = server.post(f"/api/v1/followups/{f['id']}/complete", token=user.token)
    assert r.status == 200, r
    assert (r.body["state"], r.body["due_date"]) == ("completed", f["due_date"]), r.body
    assert ISO_MS_Z.match(r.body["completed_at"]), r.body
    events = replay(server, user.token, since=seq)
    assert [e["type"] for e in events] == ["followup.scheduled", "followup.completed"], events
    assert (events[0]["data"]["followup_id"], events[0]["data"]["due_date"],
            events[0]["data"]["rescheduled"]) == (f["id"], f["due_date"], False), events[0]
    d = events[1]["data"]
    assert (d["followup_id"], d["state"], d["reason"], d["job_id"]) == \
        (f["id"], "completed", "complete", job["id"]), d
    for action, body in (("complete", None), ("snooze", {"minutes": 5}), ("dismiss", None)):
        err = assert_error(server.post(f"/api/v1/followups/{f['id']}/{action}", body=body,
                                       token=user.token), 409, "conflict", "state")
        assert "completed" in err["message"], err
    assert replay(server, user.token, since=events[-1]["seq"]) == []
    # Its time passes: done ones do not fire.
    set_clock(server, user.token, advance_ms=3600 * 1000)
    b = barrier(server, user.token)
    assert fired(uid) == {b: 1}
    assert followups(server, user.token, state="completed")[0]["id"] == f["id"]


def test_dismiss_pending_and_fired(server, user):
    uid = user_id(server.port, user.token)
    a = one_off(server, user.token, subject="Not needed", in_minutes=20)
    b = one_off(server, user.token, subject="Seen it", in_minutes=5)
    set_clock(server, user.token, advance_ms=6 * 60 * 1000)
    poll(lambda: state_of(b["id"]) == "due", FIRE_TIMEOUT_S, what="b fired")
    seq = last_seq(server, user.token)
    for f in (a, b):
        r = server.post(f"/api/v1/followups/{f['id']}/dismiss/", token=user.token)
        assert r.status == 200 and r.body["state"] == "dismissed", r
        assert r.body["completed_at"] is None, r.body
    events = replay(server, user.token, since=seq)
    assert [(e["type"], e["data"]["followup_id"], e["data"]["reason"], e["data"]["state"])
            for e in events] == [("followup.cancelled", a["id"], "dismiss", "dismissed"),
                                 ("followup.cancelled", b["id"], "dismiss", "dismissed")]
    assert_error(server.post(f"/api/v1/followups/{a['id']}/dismiss", token=user.token),
                 409, "conflict", "state")
    assert_error(server.post(f"/api/v1/followups/{b['id']}/complete", token=user.token),
                 409, "conflict", "state")
    set_clock(server, user.token, advance_ms=3600 * 1000)
    c = barrier(server, user.token)
    assert fired(uid) == {b["id"]: 1, c: 1}
    r = server.get("/api/v1/followups/due", token=user.token)
    assert [f["id"] for f in r.body] == [c], r.body


def test_snooze_fires_again_later(server, user):
    uid = user_id(server.port, user.token)
    f = one_off(server, user.token, subject="Ping Dana", in_minutes=5)
    set_clock(server, user.token, at=parse(f["due_date"]) + timedelta(seconds=1))
    poll(lambda: state_of(f["id"]) == "due", FIRE_TIMEOUT_S, what="the first firing")

    # minutes: from the server's now.
    seq = last_seq(server, user.token)
    now = server_now(server, user.token)
    r = server.post(f"/api/v1/followups/{f['id']}/snooze", body={"minutes": 30},
                    token=user.token)
    assert r.status == 200, r
    s1 = r.body
    assert (s1["state"], s1["snoozes"], s1["fired_at"], s1["late"]) == \
        ("pending", 1, None, False), s1
    assert timedelta(minutes=30) <= parse(s1["due_date"]) - now < timedelta(minutes=30,
                                                                            seconds=10), s1
    events = replay(server, user.token, since=seq)
    assert [(e["type"], e["data"]["followup_id"], e["data"]["due_date"], e["data"]["snoozes"],
             e["data"]["state"], e["data"]["reason"]) for e in events] == \
        [("followup.snoozed", f["id"], s1["due_date"], 1, "pending", "snooze")], events
    # Not before its new time ...
    set_clock(server, user.token, at=parse(s1["due_date"]) - timedelta(minutes=1))
    barrier(server, user.token)
    assert fired(uid)[f["id"]] == 1 and state_of(f["id"]) == "pending"
    # ... then again.
    set_clock(server, user.token, at=parse(s1["due_date"]) + timedelta(seconds=1))
    poll(lambda: state_of(f["id"]) == "due", FIRE_TIMEOUT_S, what="the second firing")
    assert fired(uid)[f["id"]] == 2

    # until: an exact time; a pending one can be snoozed too.
    until = whole_minute(server_now(server, user.token)) + timedelta(hours=2)
    r = server.post(f"/api/v1/followups/{f['id']}/snooze", body={"until": wire(until)},
                    token=user.token)
    assert r.status == 200 and r.body["due_date"] == wire(until) and r.body["snoozes"] == 2, r
    later = until + timedelta(hours=1)
    r = server.post(f"/api/v1/followups/{f['id']}/snooze",
                    body={"until": later.strftime("%Y-%m-%dT%H:%M:%S+00:00")}, token=user.token)
    assert r.status == 200 and r.body["due_date"] == wire(later) and r.body["snoozes"] == 3, r
    set_clock(server, user.token, at=later + timedelta(seconds=1))
    poll(lambda: state_of(f["id"]) == "due", FIRE_TIMEOUT_S, what="the third firing")
    due = [e for e in replay(server, user.token)
           if e["type"] == "followup.due" and e["data"]["followup_id"] == f["id"]]
    assert [e["data"]["due_date"] for e in due] == [f["due_date"], s1["due_date"], wire(later)]
    assert [e["data"]["late"] for e in due] == [False, False, False], due
    assert fired(uid)[f["id"]] == 3


def test_zoneless_times_in_the_users_zone(server, user):
    """due_date, snooze's until and the list's due_before / due_after
    without a zone are the user's wall-clock time (Berlin: 09:00 is 08:00Z
    in January, 07:00Z in July); with a zone they are taken as they are."""
    uid = user_id(server.port, user.token)
    psql(f"UPDATE users SET timezone = 'Europe/Berlin' WHERE id = {uid}")
    year = server_now(server, user.token).year + 1
    winter = one_off(server, user.token, subject="Winter", due_date=f"{year}-01-15T09:00")
    summer = one_off(server, user.token, subject="Summer", due_at=f"{year}-07-15T09:00:00")
    zoned = one_off(server, user.token, subject="Zoned", due_date=f"{year}-07-15T09:00:00Z")
    assert [f["due_date"] for f in (winter, summer, zoned)] == \
        [f"{year}-01-15T08:00:00.000Z", f"{year}-07-15T07:00:00.000Z",
         f"{year}-07-15T09:00:00.000Z"]
    r = server.post(f"/api/v1/followups/{winter['id']}/snooze", token=user.token,
                    body={"until": f"{year}-02-01T18:30"})
    assert r.status == 200 and r.body["due_date"] == f"{year}-02-01T17:30:00.000Z", r
    r = server.post(f"/api/v1/followups/{summer['id']}/snooze", token=user.token,
                    body={"until": f"{year}-08-01"})
    assert r.status == 200 and r.body["due_date"] == f"{year}-07-31T22:00:00.000Z", r

    def listed(query):
        return [f["id"] for f in followups(server, user.token, **query)]

    assert listed({"due_after": f"{year}-07-31T23:59", "due_before": f"{year}-08-01T00:01"}) \
        == [summer["id"]]
    assert listed({"due_after": f"{year}-07-15T09:00:00Z"}) == [zoned["id"], summer["id"]]
    assert listed({"due_after": f"{year}-07-15T11:00"}) == [zoned["id"], summer["id"]]
    assert listed({"due_after": f"{year}-07-15T11:01"}) == [summer["id"]]
    assert listed({"due_before": f"{year}-02-01T18:31"}) == [winter["id"]]
    assert listed({"due_before": f"{year}-02-01T18:30"}) == []
    # A zoneless time the zone data cannot place is refused, nothing changes.
    before = (table(uid), last_seq(server, user.token))
    assert_error(server.post("/api/v1/followups", token=user.token,
                             body={"subject": "x", "due_date": "1850-01-01T09:00"}),
                 422, "invalid_field", "due_date")
    assert_error(server.post(f"/api/v1/followups/{zoned['id']}/snooze", token=user.token,
                             body={"until": "2250-01-01T09:00"}), 422, "invalid_field", "until")
    assert_error(server.get("/api/v1/followups?due_before=1850-01-01", token=user.token),
                 422, "invalid_field", "due_before")
    assert (table(uid), last_seq(server, user.token)) == before


# ---------------------------------------------------------------- refusals


def test_bad_inputs(server, user):
    uid = user_id(server.port, user.token)
    f = one_off(server, user.token, subject="Valid", in_minutes=60)
    before = (table(uid), last_seq(server, user.token))
    now = server_now(server, user.token)
    for body, field in [
        ({"in_minutes": 5}, "subject"),
        ({"subject": "", "in_minutes": 5}, "subject"),
        ({"subject": "x" * 201, "in_minutes": 5}, "subject"),
        ({"subject": 5, "in_minutes": 5}, "subject"),
        ({"subject": "No time"}, "due_date"),
        ({"subject": "x", "due_date": "soon"}, "due_date"),
        ({"subject": "x", "in_minutes": -1}, "in_minutes"),
        ({"subject": "x", "in_minutes": "5"}, "in_minutes"),
        ({"subject": "x", "in_minutes": 5, "priority": "urgent"}, "priority"),
        ({"subject": "x", "in_minutes": 5, "job_id": "one"}, "job_id"),
        ({"subject": "x", "in_minutes": 5, "colour": "red"}, "colour"),
    ]:
        assert_error(server.post("/api/v1/followups", body=body, token=user.token),
                     422, "invalid_field", field)
    assert_error(server.post("/api/v1/followups", token=user.token,
                             body={"subject": "x", "in_minutes": 5, "job_id": 999999999}),
                 404, "not_found")
    for body, field in [
        ({"until": wire(now - timedelta(minutes=1))}, "until"),
        ({"until": wire(now - timedelta(days=400))}, "until"),
        ({"until": "tomorrow"}, "until"),
        ({}, "until"),
        ({"minutes": 0}, "minutes"),
        ({"minutes": -5}, "minutes"),
        ({"minutes": "5"}, "minutes"),
        ({"minutes": 5, "hours": 1}, "hours"),
    ]:
        assert_error(server.post(f"/api/v1/followups/{f['id']}/snooze", body=body,
                                 token=user.token), 422, "invalid_field", field)
    for action in ("complete", "snooze", "dismiss"):
        body = {"minutes": 5} if action == "snooze" else None
        for fid in ("999999999", "abc", "0"):
            assert_error(server.post(f"/api/v1/followups/{fid}/{action}", body=body,
                                     token=user.token), 404, "not_found")
    assert (table(uid), last_seq(server, user.token)) == before


def test_another_users_followup_is_not_found(server, user):
    job = create_job(server, user.token)
    f = one_off(server, user.token, subject="Mine", in_minutes=60, job_id=job["id"])
    other = new_user("followups")
    for action, body in (("complete", None), ("snooze", {"minutes": 5}),
                         ("snooze", {"until": wire(server_now(server, other.token) +
                                                   timedelta(hours=1))}),
                         ("dismiss", None)):
        assert_error(server.post(f"/api/v1/followups/{f['id']}/{action}", body=body,
                                 token=other.token), 404, "not_found")
    assert_error(server.post("/api/v1/followups", token=other.token,
                             body={"subject": "x", "in_minutes": 5, "job_id": job["id"]}),
                 404, "not_found")
    r = server.get(f"/api/v1/followups?job_id={job['id']}", token=other.token)
    assert r.status == 200 and r.body == [] and r.header("x-total-count") == "0", r
    assert server.get("/api/v1/followups", token=other.token).body == []
    mine = followups(server, user.token)
    assert [(x["id"], x["state"], x["snoozes"]) for x in mine] == [(f["id"], "pending", 0)]
    assert replay(server, other.token) == []
