"""Interviews and the calendar: scheduling (the dashboard's datetime-local and
full ISO times, its system_design and coding types) moves an applied job to
interview_scheduled, the orchestrator announces the calendar entry, the
upcoming list is what the dashboard maps over, rescheduling bumps the
iCalendar SEQUENCE under a stable UID, an outcome completes the interview,
cancelling keeps it as STATUS:CANCELLED; the feed is read back with a small
RFC 5545 parser, by token and by its secret URL (CONTRACT §1.2 D16-D17, §3.3;
proto/openapi.yaml)."""

import re
from datetime import datetime, timedelta, timezone

import pytest

from conftest import ISO_MS_Z, assert_error, new_user
from wsutil import replay, user_id
from dbutil import last_seq, own, psql, reactions_done, settled


def at(days, hours=0, minutes=0):
    """A whole minute some time from now, UTC."""
    t = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    return t + timedelta(days=days, hours=hours, minutes=minutes)


def local(t):
    """The browser's datetime-local value."""
    return t.strftime("%Y-%m-%dT%H:%M")


def wire(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def ics_time(t):
    return t.strftime("%Y%m%dT%H%M%SZ")


def create_job(server, token, status=None, **over):
    body = {"company": "Initech, Inc.", "job_title": "C Programmer",
            "job_description": "TPS reports in C", "job_url": None}
    body.update(over)
    body = {k: v for k, v in body.items() if v is not None}
    r = server.post("/api/v1/jobs", body=body, token=token)
    assert r.status == 201, r
    for s in status or ():
        m = server.post(f"/api/v1/ats/jobs/{r.body['id']}/status", body={"status": s},
                        token=token)
        assert m.status == 200, m
        reactions_done(server, token)
    return r.body


def job_status(server, token, job_id):
    r = server.get(f"/api/v1/jobs/{job_id}", token=token)
    assert r.status == 200, r
    return r.body["status"]


def schedule(server, token, **body):
    r = server.post("/api/v1/ats/interviews", body=body, token=token)
    assert r.status == 201, r
    reactions_done(server, token)
    return r.body


# ---------------------------------------------------------------- iCalendar


def unfold(text):
    """RFC 5545 §3.1: CRLF line ends; a line starting with a space or tab
    continues the previous one."""
    assert text.endswith("\r\n"), text[-40:]
    out = []
    for line in text.split("\r\n")[:-1]:
        assert "\n" not in line and "\r" not in line, line
        if line[:1] in (" ", "\t"):
            assert out, line
            out[-1] += line[1:]
        else:
            out.append(line)
    return out


def split_property(line):
    """NAME;PARAM=V;...:VALUE -> (NAME, {PARAM: V}, VALUE); quoted parameter
    values may hold ':' and ';'."""
    i, n, quoted = 0, len(line), False
    while i < n:
        c = line[i]
        if c == '"':
            quoted = not quoted
        elif c == ":" and not quoted:
            break
        i += 1
    assert i < n, f"no value in {line!r}"
    head, value = line[:i], line[i + 1:]
    parts, cur, quoted = [], "", False
    for c in head:
        if c == '"':
            quoted = not quoted
        if c == ";" and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += c
    parts.append(cur)
    params = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        params[k.upper()] = v.strip('"')
    return parts[0].upper(), params, value


def unescape(value):
    out, i = "", 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out += "\n" if nxt in "nN" else nxt
            i += 2
        else:
            out += c
            i += 1
    return out


class Component:
    def __init__(self, name):
        self.name = name
        self.props = []  # (name, params, raw value)
        self.children = []

    def all(self, name):
        return [p for p in self.props if p[0] == name]

    def one(self, name):
        got = self.all(name)
        assert len(got) == 1, f"{self.name}: {len(got)} {name}: {got}"
        return got[0]

    def value(self, name):
        return self.one(name)[2]

    def text(self, name):
        return unescape(self.value(name))

    def sub(self, name):
        return [c for c in self.children if c.name == name]


def parse_ics(text):
    stack, root = [], None
    for line in unfold(text):
        name, params, value = split_property(line)
        if name == "BEGIN":
            c = Component(value.upper())
            if stack:
                stack[-1].children.append(c)
            else:
                assert root is None, "a second top-level component"
                root = c
            stack.append(c)
        elif name == "END":
            assert stack and stack[-1].name == value.upper(), (line, [s.name for s in stack])
            stack.pop()
        else:
            assert stack, f"property outside a component: {line!r}"
            stack[-1].props.append((name, params, value))
    assert root is not None and not stack, "unbalanced BEGIN/END"
    assert root.name == "VCALENDAR", root.name
    assert root.value("VERSION") == "2.0"
    assert root.value("PRODID")
    return root


DUR = re.compile(r"^([+-])?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def duration_s(value):
    """-P1D, -PT24H, -PT1440M, -P0DT1H ... as seconds."""
    m = DUR.match(value)
    assert m and value not in ("P", "-P", "+P") and not value.endswith("T"), value
    sign, w, d, h, mi, s = m.groups()
    secs = (int(w or 0) * 7 * 86400 + int(d or 0) * 86400 + int(h or 0) * 3600
            + int(mi or 0) * 60 + int(s or 0))
    return -secs if sign == "-" else secs


def utc(value):
    assert re.fullmatch(r"\d{8}T\d{6}Z", value), f"not a UTC time: {value!r}"
    return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)


def feed(server, token):
    r = server.get("/api/v1/calendar.ics", token=token)
    assert r.status == 200, r
    assert r.header("content-type", "").startswith("text/calendar"), r.headers
    return r.body, parse_ics(r.body)


def vevents(cal):
    """The interviews' entries by UID (the feed also carries follow-ups);
    one per interview."""
    uids = [e.value("UID") for e in cal.sub("VEVENT") if e.value("UID").startswith("interview-")]
    assert len(uids) == len(set(uids)), uids
    return {e.value("UID"): e for e in cal.sub("VEVENT")
            if e.value("UID").startswith("interview-")}


def check_vevent(ev, iv, summary, start, minutes, email=None, name=None):
    assert ev.value("UID") == f"interview-{iv['id']}@hirewire" == iv["calendar_event_id"], ev.props
    assert ev.text("SUMMARY") == summary, ev.text("SUMMARY")
    assert utc(ev.value("DTSTART")) == start, ev.value("DTSTART")
    assert utc(ev.value("DTEND")) == start + timedelta(minutes=minutes), ev.value("DTEND")
    utc(ev.value("DTSTAMP"))
    assert int(ev.value("SEQUENCE")) == iv["sequence"], (ev.value("SEQUENCE"), iv["sequence"])
    desc = ev.text("DESCRIPTION")
    assert f"Position: {iv['job_title']}" in desc and f"Company: {iv['company']}" in desc, desc
    if email:
        _, params, value = ev.one("ATTENDEE")
        assert value.lower() == f"mailto:{email}", value
        if name:
            assert params.get("CN") == name, params
    else:
        assert ev.all("ATTENDEE") == [], ev.props


def check_alarms(ev):
    alarms = ev.sub("VALARM")
    assert len(alarms) == 3, [a.props for a in alarms]
    leads = sorted(duration_s(a.value("TRIGGER")) for a in alarms)
    assert leads == [-86400, -3600, -900], [a.value("TRIGGER") for a in alarms]
    for a in alarms:
        assert a.value("ACTION") in ("DISPLAY", "AUDIO", "EMAIL"), a.props
        if a.value("ACTION") == "DISPLAY":
            assert a.text("DESCRIPTION"), a.props
        assert a.one("TRIGGER")[1].get("RELATED", "START") == "START", a.props


def test_ics_parser_self_check():
    """The parser above, on a text with folding, escapes and quoted params."""
    text = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
            "UID:x@y\r\nSUMMARY:Technical Interview: C\\, C++ at A\\;B \r\n \\nend\r\n"
            "ATTENDEE;CN=\"Scully, Dana\";ROLE=REQ-PARTICIPANT:mailto:d@e.x\r\n"
            "BEGIN:VALARM\r\nTRIGGER:-PT24H\r\nACTION:DISPLAY\r\nEND:VALARM\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n")
    cal = parse_ics(text)
    ev = cal.sub("VEVENT")[0]
    assert ev.text("SUMMARY") == "Technical Interview: C, C++ at A;B \nend"
    assert ev.one("ATTENDEE")[1]["CN"] == "Scully, Dana"
    assert duration_s(ev.sub("VALARM")[0].value("TRIGGER")) == -86400
    assert [duration_s(v) for v in ("-P1D", "-PT1H", "-PT15M", "-P0DT0H15M0S", "P1W")] == \
        [-86400, -3600, -900, -900, 604800]


# ---------------------------------------------------------------- scheduling


def test_schedule_moves_applied_job_and_announces(server, user):
    job = create_job(server, user.token, status=["applied"])
    jid = job["id"]
    seq = last_seq(server, user.token)
    start = at(3, hours=2)
    iv = schedule(server, user.token, job_id=jid, interview_type="system_design",
                  scheduled_date=local(start), duration_minutes=90, location="Room 4, HQ",
                  meeting_link="https://meet.example.com/abc-defg",
                  interviewer_name="Dana Scully", interviewer_email="dana@initech.example",
                  notes="Bring diagrams")
    assert (iv["job_id"], iv["job_title"], iv["company"], iv["interview_type"]) == \
        (jid, "C Programmer", "Initech, Inc.", "system_design"), iv
    assert iv["scheduled_date"] == wire(start), iv
    assert iv["end_date"] == wire(start + timedelta(minutes=90)), iv
    assert (iv["duration_minutes"], iv["location"], iv["meeting_link"]) == \
        (90, "Room 4, HQ", "https://meet.example.com/abc-defg"), iv
    assert (iv["interviewer_name"], iv["interviewer_email"], iv["notes"]) == \
        ("Dana Scully", "dana@initech.example", "Bring diagrams"), iv
    assert (iv["status"], iv["outcome"], iv["sequence"]) == ("scheduled", "pending", 0), iv
    assert iv["is_virtual"] is True, iv  # it has a meeting link
    assert iv["calendar_event_id"] == f"interview-{iv['id']}@hirewire", iv
    assert job_status(server, user.token, jid) == "interview_scheduled"

    events = own(replay(server.port, user.token, since=seq))
    committed = [e for e in events if not e["type"].startswith("calendar.")]
    assert [e["type"] for e in committed] == ["interview.scheduled",
                                              "application.status_changed"], events
    data = committed[0]["data"]
    assert (data["interview_id"], data["job_id"], data["company"], data["job_title"],
            data["interview_type"], data["scheduled_date"], data["duration_minutes"]) == \
        (iv["id"], jid, "Initech, Inc.", "C Programmer", "system_design", wire(start), 90), data
    assert committed[0]["channel"] == "interviews", committed[0]
    moved = committed[1]["data"]
    assert (moved["old_status"], moved["new_status"]) == ("applied", "interview_scheduled"), moved

    events = settled(server, user.token)
    cal = [e for e in events if e["type"].startswith("calendar.")]
    assert [e["type"] for e in cal] == ["calendar.event_created"], cal
    c = cal[0]["data"]
    assert (c["calendar_event_id"], c["interview_id"], c["job_id"], c["kind"]) == \
        (iv["calendar_event_id"], iv["id"], jid, "interview"), c
    assert c["title"] == "System Design Interview: C Programmer at Initech, Inc.", c
    assert (c["start"], c["end"]) == (wire(start), wire(start + timedelta(minutes=90))), c
    assert cal[0]["seq"] > committed[1]["seq"], (cal, committed)

    # The timeline records it.
    t = server.get(f"/api/v1/ats/jobs/{jid}/timeline", token=user.token).body
    assert t["events"][0]["event_type"] == "interview_scheduled", t["events"]
    assert (t["events"][0]["old_status"], t["events"][0]["new_status"]) == \
        ("applied", "interview_scheduled"), t["events"][0]
    assert [i["id"] for i in t["interviews"]] == [iv["id"]], t["interviews"]

    # Another interview once the job is interviewing: the job keeps its status.
    server.post(f"/api/v1/ats/jobs/{jid}/status", body={"status": "interviewing"},
                token=user.token)
    seq = last_seq(server, user.token)
    later = at(20, hours=5)
    iv2 = schedule(server, user.token, job_id=jid, interview_type="coding",
                   scheduled_date=later.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                   interviewer_names="Fox Mulder")
    assert iv2["scheduled_date"] == wire(later) and iv2["duration_minutes"] == 60, iv2
    assert iv2["interviewer_name"] == "Fox Mulder", iv2
    assert job_status(server, user.token, jid) == "interviewing"
    events = settled(server, user.token)
    after = [e["type"] for e in own(events) if e["seq"] > seq]
    assert after == ["interview.scheduled", "calendar.event_created"], after
    # A saved job is not moved either.
    saved = create_job(server, user.token)
    schedule(server, user.token, job_id=saved["id"], interview_type="phone_screen",
             scheduled_date=wire(at(2)))
    assert job_status(server, user.token, saved["id"]) == "saved"


def test_schedule_times_in_every_form(server, user):
    job = create_job(server, user.token, status=["applied"])
    base = at(5)
    for sent, want in [
        (local(base), base),
        (base.strftime("%Y-%m-%dT%H:%M:%SZ"), base),
        (base.strftime("%Y-%m-%dT%H:%M:%S.123456"), base + timedelta(microseconds=123000)),
        ((base + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00"), base),
        ((base - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M-05:00"), base),
    ]:
        iv = schedule(server, user.token, job_id=job["id"], interview_type="technical",
                      scheduled_date=sent)
        got = datetime.strptime(iv["scheduled_date"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=timezone.utc)
        assert got == want, (sent, iv["scheduled_date"])
        assert ISO_MS_Z.match(iv["scheduled_date"]), iv


def test_datetime_local_in_the_users_zone(server, user):
    """The dashboard's datetime-local value is the user's wall-clock time:
    with the user's zone set to Europe/Berlin, 14:30 in January is 13:30Z
    and 14:30 in July 12:30Z. Times with a zone are taken as they are."""
    uid = user_id(server.port, user.token)
    psql(f"UPDATE users SET timezone = 'Europe/Berlin' WHERE id = {uid}")
    me = server.get("/api/v1/me", token=user.token)
    assert me.status == 200 and me.body.get("timezone", "Europe/Berlin") == "Europe/Berlin", me
    job = create_job(server, user.token)
    year = datetime.now(timezone.utc).year + 1
    for sent, want in [(f"{year}-01-15T14:30", f"{year}-01-15T13:30:00.000Z"),
                       (f"{year}-07-15T14:30", f"{year}-07-15T12:30:00.000Z"),
                       (f"{year}-07-15T14:30:00Z", f"{year}-07-15T14:30:00.000Z"),
                       (f"{year}-07-15T14:30:00-04:00", f"{year}-07-15T18:30:00.000Z")]:
        iv = schedule(server, user.token, job_id=job["id"], interview_type="technical",
                      scheduled_date=sent)
        assert iv["scheduled_date"] == want, (sent, iv["scheduled_date"])


def test_datetime_local_across_dst_changes(server, user):
    """A wall-clock time skipped by the spring change moves forward by the
    gap; one that occurs twice in autumn is the first (summer time) one:
    the rule the follow-up sequences use too."""
    uid = user_id(server.port, user.token)
    psql(f"UPDATE users SET timezone = 'Europe/Berlin' WHERE id = {uid}")
    job = create_job(server, user.token)
    for sent, want in [("2030-03-31T01:30", "2030-03-31T00:30:00.000Z"),
                       ("2030-03-31T02:30", "2030-03-31T01:30:00.000Z"),
                       ("2030-03-31T03:30", "2030-03-31T01:30:00.000Z"),
                       ("2030-10-27T02:30", "2030-10-27T00:30:00.000Z"),
                       ("2030-10-27T03:30", "2030-10-27T02:30:00.000Z"),
                       ("2030-10-27T02:30:00+01:00", "2030-10-27T01:30:00.000Z")]:
        iv = schedule(server, user.token, job_id=job["id"], interview_type="technical",
                      scheduled_date=sent)
        assert iv["scheduled_date"] == want, (sent, iv["scheduled_date"])


def test_datetime_local_on_reschedule_and_in_lists(server, user):
    """PATCH reads a zoneless scheduled_date in the user's zone too, and so
    do the list's from and to."""
    uid = user_id(server.port, user.token)
    psql(f"UPDATE users SET timezone = 'America/New_York' WHERE id = {uid}")
    job = create_job(server, user.token)
    year = datetime.now(timezone.utc).year + 1
    iv = schedule(server, user.token, job_id=job["id"], interview_type="technical",
                  scheduled_date=f"{year}-01-15T09:00")
    assert iv["scheduled_date"] == f"{year}-01-15T14:00:00.000Z", iv
    r = server.request("PATCH", f"/api/v1/ats/interviews/{iv['id']}", token=user.token,
                       body={"scheduled_date": f"{year}-07-15T09:00"})
    assert r.status == 200 and r.body["scheduled_date"] == f"{year}-07-15T13:00:00.000Z", r

    def listed(query):
        r = server.get(f"/api/v1/ats/interviews?job_id={job['id']}&{query}", token=user.token)
        assert r.status == 200, r
        return [i["id"] for i in r.body]

    assert listed(f"from={year}-07-15T09:00&to={year}-07-15T09:00") == [iv["id"]]
    assert listed(f"from={year}-07-15T09:01") == []
    assert listed(f"to={year}-07-15T08:59") == []
    assert listed(f"from={year}-07-15T13:00:00Z&to={year}-07-15T13:00:00Z") == [iv["id"]]
    assert_error(server.get("/api/v1/ats/interviews?from=1850-01-01T00:00", token=user.token),
                 422, "invalid_field", "from")


def test_datetime_local_refusals_and_unknown_stored_zone(server, user):
    """A zoneless time the zone data cannot place is refused naming the
    field; a zone the server cannot load (stored without the API) reads
    zoneless times as UTC."""
    uid = user_id(server.port, user.token)
    psql(f"UPDATE users SET timezone = 'Europe/Berlin' WHERE id = {uid}")
    job = create_job(server, user.token, status=["applied"])
    seq = last_seq(server, user.token)
    for sent in ("1850-01-01T10:00", "2250-01-01T10:00"):
        r = server.post("/api/v1/ats/interviews", token=user.token, body={
            "job_id": job["id"], "interview_type": "technical", "scheduled_date": sent})
        err = assert_error(r, 422, "invalid_field", "scheduled_date")
        assert "1900" in err["message"], err
    assert replay(server.port, user.token, since=seq) == []
    assert job_status(server, user.token, job["id"]) == "applied"
    psql(f"UPDATE users SET timezone = 'Mars/Olympus_Mons' WHERE id = {uid}")
    iv = schedule(server, user.token, job_id=job["id"], interview_type="technical",
                  scheduled_date="2030-01-15T14:30")
    assert iv["scheduled_date"] == "2030-01-15T14:30:00.000Z", iv


@pytest.mark.parametrize("body,status,code,field", [
    ({"job_id": 0}, 422, "invalid_field", "job_id"),
    ({"job_id": None}, 422, "invalid_field", "job_id"),
    ({"job_id": "7"}, 422, "invalid_field", "job_id"),
    ({"job_id": 999999999}, 404, "not_found", None),
    ({"interview_type": "lunch"}, 422, "invalid_field", "interview_type"),
    ({"interview_type": None}, 422, "invalid_field", "interview_type"),
    ({"scheduled_date": "next tuesday"}, 422, "invalid_field", "scheduled_date"),
    ({"scheduled_date": "2026-02-30T10:00"}, 422, "invalid_field", "scheduled_date"),
    ({"scheduled_date": None}, 422, "invalid_field", "scheduled_date"),
    ({"duration_minutes": 0}, 422, "invalid_field", "duration_minutes"),
    ({"duration_minutes": 1441}, 422, "invalid_field", "duration_minutes"),
    ({"duration_minutes": 30.5}, 422, "invalid_field", "duration_minutes"),
    ({"interviewer_email": "dana at initech"}, 422, "invalid_field", "interviewer_email"),
    ({"meeting_link": "ftp://meet.example.com/x"}, 422, "invalid_field", "meeting_link"),
    ({"location": "Room\u00074"}, 422, "invalid_field", "location"),
    ({"dress_code": "casual"}, 422, "invalid_field", "dress_code"),
])
def test_schedule_refused(server, user, body, status, code, field):
    job = create_job(server, user.token, status=["applied"])
    full = {"job_id": job["id"], "interview_type": "technical", "scheduled_date": wire(at(4))}
    full.update(body)
    seq = last_seq(server, user.token)
    r = server.post("/api/v1/ats/interviews", body=full, token=user.token)
    err = assert_error(r, status, code)
    if field:
        assert err["field"] == field, err
    assert replay(server.port, user.token, since=seq) == []
    assert job_status(server, user.token, job["id"]) == "applied"
    assert server.get(f"/api/v1/ats/jobs/{job['id']}/interviews", token=user.token).body == []


def test_schedule_for_another_users_job(server, user):
    job = create_job(server, user.token, status=["applied"])
    other = new_user("iv")
    r = server.post("/api/v1/ats/interviews", token=other.token, body={
        "job_id": job["id"], "interview_type": "technical", "scheduled_date": wire(at(3))})
    assert_error(r, 404, "not_found")
    iv = schedule(server, user.token, job_id=job["id"], interview_type="technical",
                  scheduled_date=wire(at(3)))
    for method, path, body in [("GET", f"/api/v1/ats/interviews/{iv['id']}", None),
                               ("PUT", f"/api/v1/ats/interviews/{iv['id']}", {"notes": "x"}),
                               ("PATCH", f"/api/v1/ats/interviews/{iv['id']}", {"notes": "x"}),
                               ("DELETE", f"/api/v1/ats/interviews/{iv['id']}", None),
                               ("GET", f"/api/v1/ats/jobs/{job['id']}/interviews", None)]:
        assert_error(server.request(method, path, body=body, token=other.token), 404, "not_found")
    r = server.get("/api/v1/ats/interviews/upcoming?days_ahead=30", token=other.token)
    assert r.status == 200 and r.body == [], r
    _, cal = feed(server, other.token)
    assert cal.sub("VEVENT") == [] and cal.sub("VTODO") == []


# ---------------------------------------------------------------- lists


def test_upcoming_and_lists(server, user):
    job = create_job(server, user.token, status=["applied"], company="Hooli",
                     job_title="Platform Engineer")
    soon = schedule(server, user.token, job_id=job["id"], interview_type="phone_screen",
                    scheduled_date=local(at(2)), interviewer_name="Gavin", notes="Be nice")
    mid = schedule(server, user.token, job_id=job["id"], interview_type="technical",
                   scheduled_date=local(at(1, hours=3)), duration_minutes=45)
    far = schedule(server, user.token, job_id=job["id"], interview_type="final",
                   scheduled_date=local(at(25)))
    past = schedule(server, user.token, job_id=job["id"], interview_type="behavioral",
                    scheduled_date=local(at(-2)))
    gone = schedule(server, user.token, job_id=job["id"], interview_type="panel",
                    scheduled_date=local(at(3)))
    r = server.request("DELETE", f"/api/v1/ats/interviews/{gone['id']}", token=user.token)
    assert r.status == 200 and r.body["status"] == "cancelled", r

    def upcoming(query):
        r = server.get(f"/api/v1/ats/interviews/upcoming{query}", token=user.token)
        assert r.status == 200, r
        assert isinstance(r.body, list), r.body
        return r.body

    week = upcoming("?days_ahead=7")
    assert [i["id"] for i in week] == [mid["id"], soon["id"]], week
    first = week[1]
    assert (first["job_title"], first["company"], first["interviewer_name"], first["notes"],
            first["status"], first["interview_type"], first["duration_minutes"]) == \
        ("Platform Engineer", "Hooli", "Gavin", "Be nice", "scheduled", "phone_screen", 60), first
    assert "location" in first and ISO_MS_Z.match(first["scheduled_date"]), first
    assert [i["id"] for i in upcoming("?days_ahead=30")] == [mid["id"], soon["id"], far["id"]]
    assert [i["id"] for i in upcoming("")] == [mid["id"], soon["id"]]
    assert [i["id"] for i in upcoming("/?days_ahead=7")] == [mid["id"], soon["id"]]
    assert upcoming("?days_ahead=0") == []
    for bad in ("-1", "week", "99999"):
        assert_error(server.get(f"/api/v1/ats/interviews/upcoming?days_ahead={bad}",
                                token=user.token), 422, "invalid_field", "days_ahead")

    r = server.get(f"/api/v1/ats/jobs/{job['id']}/interviews", token=user.token)
    assert r.status == 200, r
    assert [i["id"] for i in r.body] == [far["id"], gone["id"], soon["id"], mid["id"], past["id"]]
    r = server.get("/api/v1/ats/interviews", token=user.token)
    assert r.status == 200, r
    assert [i["id"] for i in r.body] == [past["id"], mid["id"], soon["id"], gone["id"], far["id"]]
    r = server.get("/api/v1/ats/interviews?include_cancelled=false", token=user.token)
    assert [i["id"] for i in r.body] == [past["id"], mid["id"], soon["id"], far["id"]], r.body
    r = server.get(f"/api/v1/ats/interviews?job_id={job['id']}&from={wire(at(0))}"
                   f"&to={wire(at(10))}", token=user.token)
    assert [i["id"] for i in r.body] == [mid["id"], soon["id"], gone["id"]], r.body
    r = server.get(f"/api/v1/ats/interviews/{soon['id']}/", token=user.token)
    assert r.status == 200 and r.body["id"] == soon["id"], r
    assert_error(server.get("/api/v1/ats/interviews/999999999", token=user.token),
                 404, "not_found")
    assert_error(server.get("/api/v1/ats/interviews?from=yesterday", token=user.token),
                 422, "invalid_field", "from")


# ---------------------------------------------------------------- changes


def test_reschedule_complete_cancel_and_feed(server, user):
    job = create_job(server, user.token, status=["applied"])
    jid = job["id"]
    start = at(6, hours=1)
    iv = schedule(server, user.token, job_id=jid, interview_type="technical",
                  scheduled_date=local(start), duration_minutes=60, location="Video call",
                  interviewer_name="Scully, Dana", interviewer_email="dana@initech.example",
                  notes="System internals; bring questions")
    other_start = at(8)
    other = schedule(server, user.token, job_id=jid, interview_type="coding",
                     scheduled_date=wire(other_start))
    settled(server, user.token)

    text, cal = feed(server, user.token)
    events = vevents(cal)
    assert set(events) == {iv["calendar_event_id"], other["calendar_event_id"]}, events.keys()
    ev = events[iv["calendar_event_id"]]
    summary = "Technical Interview: C Programmer at Initech, Inc."
    check_vevent(ev, iv, summary, start, 60, "dana@initech.example", "Scully, Dana")
    assert "\\," in text, "commas in TEXT values are escaped"
    assert ev.text("LOCATION") == "Video call", ev.props
    assert "System internals; bring questions" in ev.text("DESCRIPTION"), ev.props
    assert ev.value("STATUS") == "CONFIRMED", ev.props
    check_alarms(ev)
    check_vevent(events[other["calendar_event_id"]], other,
                 "Coding Interview: C Programmer at Initech, Inc.", other_start, 60)
    check_alarms(events[other["calendar_event_id"]])

    # Reschedule: PATCH the time, PUT the length; a note alone keeps the SEQUENCE.
    seq = last_seq(server, user.token)
    moved_to = at(7, hours=4)
    r = server.request("PATCH", f"/api/v1/ats/interviews/{iv['id']}", token=user.token,
                       body={"scheduled_date": local(moved_to)})
    assert r.status == 200, r
    assert r.body["scheduled_date"] == wire(moved_to) and r.body["sequence"] == 1, r.body
    r = server.request("PUT", f"/api/v1/ats/interviews/{iv['id']}/", token=user.token,
                       body={"duration_minutes": 45})
    assert r.status == 200 and r.body["sequence"] == 2, r.body
    r = server.request("PUT", f"/api/v1/ats/interviews/{iv['id']}", token=user.token,
                       body={"notes": "Read the SQL chapter", "preparation_notes": "LeetCode"})
    assert r.status == 200 and r.body["sequence"] == 2, r.body
    assert r.body["notes"] == "Read the SQL chapter", r.body
    resched = r.body
    after = [e for e in own(settled(server, user.token)) if e["seq"] > seq]
    assert [e["type"] for e in after if not e["type"].startswith("calendar.")] == \
        ["interview.updated"] * 3, after
    updates = [e for e in after if e["type"] == "interview.updated"]
    assert updates[0]["data"]["rescheduled"] is True, updates[0]
    assert updates[0]["data"]["scheduled_date"] == wire(moved_to), updates[0]
    assert updates[2]["data"]["rescheduled"] is False, updates[2]
    cal_events = [e for e in after if e["type"].startswith("calendar.")]
    assert [e["type"] for e in cal_events] == ["calendar.event_updated"] * 2, after
    assert [e["data"]["sequence"] for e in cal_events] == [1, 2], cal_events
    assert cal_events[-1]["data"]["start"] == wire(moved_to), cal_events
    assert cal_events[-1]["data"]["end"] == wire(moved_to + timedelta(minutes=45)), cal_events

    _, cal = feed(server, user.token)
    ev = vevents(cal)[iv["calendar_event_id"]]
    check_vevent(ev, resched, summary, moved_to, 45, "dana@initech.example", "Scully, Dana")
    assert int(ev.value("SEQUENCE")) == 2
    check_alarms(ev)

    # The outcome completes it; it leaves the upcoming list.
    seq = last_seq(server, user.token)
    r = server.request("PUT", f"/api/v1/ats/interviews/{iv['id']}", token=user.token,
                       body={"outcome": "passed", "feedback": "Strong on C",
                             "performance_rating": 4})
    assert r.status == 200, r
    assert (r.body["status"], r.body["outcome"], r.body["performance_rating"]) == \
        ("completed", "passed", 4), r.body
    assert ISO_MS_Z.match(r.body["completed_at"]), r.body
    ups = server.get("/api/v1/ats/interviews/upcoming?days_ahead=30", token=user.token).body
    assert iv["id"] not in [i["id"] for i in ups], ups
    t = server.get(f"/api/v1/applications/{jid}/timeline", token=user.token).body
    assert t["events"][0]["event_type"] == "interview_completed", t["events"][0]
    assert t["events"][0]["metadata"]["outcome"] == "passed", t["events"][0]
    for bad, field in [({"outcome": "great"}, "outcome"), ({"performance_rating": 6},
                                                         "performance_rating"), ({}, None),
                       ({"job_id": jid}, "job_id")]:
        err = assert_error(server.request("PUT", f"/api/v1/ats/interviews/{iv['id']}",
                                          token=user.token, body=bad), 422, "invalid_field")
        if field:
            assert err["field"] == field, err

    # Cancelling keeps the entry as STATUS:CANCELLED with a higher SEQUENCE.
    r = server.request("DELETE", f"/api/v1/ats/interviews/{other['id']}", token=user.token)
    assert r.status == 200, r
    assert (r.body["status"], r.body["sequence"]) == ("cancelled", 1), r.body
    assert ISO_MS_Z.match(r.body["cancelled_at"]), r.body
    again = server.request("DELETE", f"/api/v1/ats/interviews/{other['id']}/", token=user.token)
    assert again.status == 200 and again.body["sequence"] == 1, again
    after = [e for e in settled(server, user.token) if e["seq"] > seq]
    types = [e["type"] for e in after]
    assert types.count("interview.cancelled") == 1, types
    assert types.count("interview.updated") == 1, types
    cancelled = [e for e in after if e["type"] == "calendar.event_updated"]
    assert [(e["data"]["interview_id"], e["data"]["status"], e["data"]["sequence"])
            for e in cancelled] == [(other["id"], "cancelled", 1)], after

    text, cal = feed(server, user.token)
    events = vevents(cal)
    assert len(events) == 2, text
    gone = events[other["calendar_event_id"]]
    assert gone.value("STATUS") == "CANCELLED", gone.props
    assert int(gone.value("SEQUENCE")) == 1, gone.props
    assert gone.sub("VALARM") == [], "a cancelled interview rings no alarm"
    assert events[iv["calendar_event_id"]].value("STATUS") == "CONFIRMED"

    # Over the whole test: one calendar.event_created per interview.
    created = [e["data"]["interview_id"] for e in settled(server, user.token)
               if e["type"] == "calendar.event_created"]
    assert sorted(created) == sorted([iv["id"], other["id"]]), created


def test_updated_event_names_fields_as_sent(server, user):
    """interview.updated's changed lists the request's field names (those of
    the interview shape), not storage names."""
    job = create_job(server, user.token, status=["applied"])
    iv = schedule(server, user.token, job_id=job["id"], interview_type="technical",
                  scheduled_date=wire(at(3)))
    seq = last_seq(server, user.token)
    r = server.request("PATCH", f"/api/v1/ats/interviews/{iv['id']}", token=user.token,
                       body={"scheduled_date": wire(at(4)), "duration_minutes": 30})
    assert r.status == 200, r
    updated = [e for e in replay(server.port, user.token, since=seq)
               if e["type"] == "interview.updated"]
    assert len(updated) == 1, updated
    assert updated[0]["data"]["changed"] == ["duration_minutes", "scheduled_date"], updated[0]


@pytest.mark.parametrize("field", ["interview_type", "scheduled_date", "duration_minutes",
                                   "outcome", "is_virtual"])
def test_update_null_names_the_field(server, user, field):
    """null for a field an interview always has is refused naming the
    field (or taken as its default), never a bare database error."""
    job = create_job(server, user.token, status=["applied"])
    iv = schedule(server, user.token, job_id=job["id"], interview_type="technical",
                  scheduled_date=wire(at(3)))
    r = server.request("PUT", f"/api/v1/ats/interviews/{iv['id']}", token=user.token,
                       body={field: None})
    if r.status == 200:
        assert r.body[field] is not None, r.body
    else:
        err = assert_error(r, 422, "invalid_field", field)
        assert field in err["message"], err
        got = server.get(f"/api/v1/ats/interviews/{iv['id']}", token=user.token).body
        assert got == iv, (got, iv)


def test_feed_folds_long_unicode_lines(server, user):
    """Lines are folded at 75 octets without splitting a character, and the
    text reads back exactly."""
    company = ("\u00dcnic\u00f8d\u00e9 Gesellschaft f\u00fcr Maschinenbau und "
               "Softwareentwicklung mbH, Zweigniederlassung M\u00fcnchen \u6771\u4eac")
    title = "Ingeni\u00f8r f\u00fcr eingebettete Systeme; C, Rust & Zig"
    job = create_job(server, user.token, status=["applied"], company=company, job_title=title)
    iv = schedule(server, user.token, job_id=job["id"], interview_type="video_screen",
                  scheduled_date=wire(at(5)), notes="Line one\nLine two, with; marks\\")
    r = server.get("/api/v1/calendar.ics", token=user.token)
    assert r.status == 200, r
    raw = r.body.encode("utf-8")
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # no character cut in two
    ev = vevents(parse_ics(r.body))[iv["calendar_event_id"]]
    assert ev.text("SUMMARY") == f"Video Screen Interview: {title} at {company}"
    assert "Line one\nLine two, with; marks\\" in ev.text("DESCRIPTION"), ev.text("DESCRIPTION")


# ---------------------------------------------------------------- the feed


def test_calendar_feed_by_secret_url(server, user):
    # The feed exists before anything is in it: an empty calendar.
    r = server.post("/api/v1/calendar/feed", token=user.token)
    assert r.status == 201, r
    first = r.body
    path = first["path"]
    assert re.fullmatch(r"/api/v1/calendar/feed/[A-Za-z0-9_-]{20,}\.ics", path), first
    assert first["url"].endswith(path) and first["url"].startswith("http"), first
    assert ISO_MS_Z.match(first["created_at"]), first
    assert user.token[3:] not in path, "the feed secret is not the API token"
    got = server.get(path)  # no credential at all
    assert got.status == 200, got
    assert got.header("content-type", "").startswith("text/calendar"), got.headers
    assert parse_ics(got.body).sub("VEVENT") == [], got.body

    job = create_job(server, user.token, status=["applied"], company="Vandelay Industries",
                     job_title="Importer")
    start = at(9)
    iv = schedule(server, user.token, job_id=job["id"], interview_type="onsite",
                  scheduled_date=local(start), interviewer_email="art@vandelay.example",
                  interviewer_name="Art Vandelay")
    settled(server, user.token)
    text, cal = feed(server, user.token)
    check_vevent(vevents(cal)[iv["calendar_event_id"]], iv,
                 "Onsite Interview: Importer at Vandelay Industries", start, 60,
                 "art@vandelay.example", "Art Vandelay")
    # The capability base URL, the way calendar apps and the extension call.
    r = server.get(f"/u/{user.token}/api/v1/calendar.ics")
    assert r.status == 200 and r.body == text, r
    assert_error(server.get("/api/v1/calendar.ics"), 401, "unauthorized")
    got = server.get(path)
    assert got.status == 200 and got.body == text, "the same calendar as with the token"

    r = server.post("/api/v1/calendar/feed/", token=user.token)
    assert r.status == 201 and r.body["path"] != path, r
    second = r.body["path"]
    assert_error(server.get(path), 404, "not_found")
    assert server.get(second).body == text
    # Another user's feed shows their calendar, not this one.
    other = new_user("feed")
    theirs = server.post("/api/v1/calendar/feed", token=other.token).body["path"]
    r = server.get(theirs)
    assert r.status == 200 and vevents(parse_ics(r.body)) == {}, r.body

    r = server.request("DELETE", "/api/v1/calendar/feed", token=user.token)
    assert r.status == 204, r
    assert_error(server.get(second), 404, "not_found")
    assert_error(server.request("DELETE", "/api/v1/calendar/feed", token=user.token),
                 404, "not_found")
    assert server.get(theirs).status == 200
    for bad in ("/api/v1/calendar/feed/x.ics", "/api/v1/calendar/feed/" + "A" * 43 + ".ics",
                "/api/v1/calendar/feed/" + second.rsplit("/", 1)[1][:-4].upper() + ".ics"):
        assert_error(server.get(bad), 404, "not_found")
