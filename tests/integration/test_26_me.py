"""The user's own settings: GET /api/v1/me shows the time zone (UTC by
default) and PATCH /api/v1/me {"timezone"} changes it, refusing anything that
is not a zone of the server's zone database without changing a thing. The
zone is what later times without a zone are read in (CONTRACT Decisions,
Times; proto/openapi.yaml)."""

from datetime import datetime, timezone

import pytest

from conftest import assert_error, me, new_user
from wsutil import user_id
from dbutil import psql, settled


def patch_me(server, token, body, path="/api/v1/me"):
    return server.request("PATCH", path, body=body, token=token)


def interview_at(server, token, sent):
    """scheduled_date of an interview scheduled with `sent`."""
    r = server.post("/api/v1/jobs", token=token, body={
        "company": "Initech", "job_title": "C Programmer", "job_description": "C"})
    assert r.status == 201, r
    r = server.post("/api/v1/ats/interviews", token=token, body={
        "job_id": r.body["id"], "interview_type": "technical", "scheduled_date": sent})
    assert r.status == 201, r
    return r.body["scheduled_date"]


def test_default_zone_is_utc(server, user):
    body = me(server, user.token)
    assert (body["name"], body["timezone"]) == (user.name, "UTC"), body


def test_set_the_zone_and_read_it_back(server, user):
    r = patch_me(server, user.token, {"timezone": "Europe/Berlin"})
    assert r.status == 200, r
    assert (r.body["timezone"], r.body["name"]) == ("Europe/Berlin", user.name), r.body
    assert r.body["user_id"] == user_id(server.port, user.token), r.body
    assert me(server, user.token) == r.body
    # The trailing slash and the capability URL the dashboard uses.
    r = patch_me(server, None, {"timezone": "America/New_York"},
                 path=f"/u/{user.token}/api/v1/me/")
    assert r.status == 200 and r.body["timezone"] == "America/New_York", r
    r = patch_me(server, user.token, {"timezone": "UTC"})
    assert r.status == 200 and r.body["timezone"] == "UTC", r
    # Nobody else's zone moves.
    other = new_user("me")
    patch_me(server, other.token, {"timezone": "Asia/Tokyo"})
    assert me(server, user.token)["timezone"] == "UTC"
    assert me(server, other.token)["timezone"] == "Asia/Tokyo"


@pytest.mark.parametrize("body,field", [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "europe/berlin"}, "timezone"),
    ({"timezone": " Europe/Berlin"}, "timezone"),
    ({"timezone": "Europe/Berlin/"}, "timezone"),
    ({"timezone": "../../../etc/passwd"}, "timezone"),
    ({"timezone": "/usr/share/zoneinfo/Europe/Berlin"}, "timezone"),
    ({"timezone": "posix/Europe/Berlin"}, "timezone"),
    ({"timezone": "localtime"}, "timezone"),
    ({"timezone": "Europe"}, "timezone"),
    ({"timezone": "+02:00"}, "timezone"),
    ({"timezone": "CEST"}, "timezone"),
    ({"timezone": "E" * 65}, "timezone"),
    ({"timezone": ""}, "timezone"),
    ({"timezone": None}, "timezone"),
    ({"timezone": 2}, "timezone"),
    ({"timezone": ["UTC"]}, "timezone"),
    ({"timezone": "UTC", "locale": "de_DE"}, "locale"),
    ({"name": "someone-else"}, "name"),
    ({"name": "x", "timezone": "UTC"}, "name"),
    ({}, None),
    (["UTC"], None),
    ("UTC", None),
])
def test_bad_input_changes_nothing(server, user, body, field):
    assert patch_me(server, user.token, {"timezone": "Europe/Berlin"}).status == 200
    before = (me(server, user.token), settled(server, user.token))
    if isinstance(body, str):  # not JSON at all
        r = server.request("PATCH", "/api/v1/me", body=body, token=user.token,
                           headers={"Content-Type": "application/json"})
        assert_error(r, 400, "invalid_json")
    else:
        err = assert_error(patch_me(server, user.token, body), 422, "invalid_field", field)
        if field == "timezone" and isinstance(body.get("timezone"), str) and body["timezone"]:
            assert "Europe/Berlin" in err["message"], err  # says what a zone looks like
    assert (me(server, user.token), settled(server, user.token)) == before


def test_no_body_and_no_credential(server, user):
    assert_error(server.request("PATCH", "/api/v1/me", token=user.token), 422, "invalid_field")
    assert_error(patch_me(server, None, {"timezone": "Europe/Berlin"}), 401, "unauthorized")
    assert me(server, user.token)["timezone"] == "UTC"


def test_later_zoneless_times_follow_the_zone(server, user):
    """An interview time without a zone is read in the zone set at the time
    it is sent; one sent before keeps its instant."""
    year = datetime.now(timezone.utc).year + 1
    assert interview_at(server, user.token, f"{year}-01-15T14:30") == \
        f"{year}-01-15T14:30:00.000Z"
    first = server.get("/api/v1/ats/interviews", token=user.token).body
    assert patch_me(server, user.token, {"timezone": "Europe/Berlin"}).status == 200
    assert interview_at(server, user.token, f"{year}-01-15T14:30") == \
        f"{year}-01-15T13:30:00.000Z"
    assert interview_at(server, user.token, f"{year}-07-15T14:30") == \
        f"{year}-07-15T12:30:00.000Z"
    assert patch_me(server, user.token, {"timezone": "America/Los_Angeles"}).status == 200
    assert interview_at(server, user.token, f"{year}-01-15T14:30") == \
        f"{year}-01-15T22:30:00.000Z"
    assert interview_at(server, user.token, f"{year}-07-15T14:30") == \
        f"{year}-07-15T21:30:00.000Z"
    assert interview_at(server, user.token, f"{year}-07-15T14:30:00+02:00") == \
        f"{year}-07-15T12:30:00.000Z"
    after = server.get("/api/v1/ats/interviews", token=user.token).body
    assert [i for i in after if i["id"] == first[0]["id"]] == first


def test_zone_set_over_the_api_is_the_one_psql_sees(server, user):
    """The zone is the stored one the rest of the server (follow-up
    sequences) reads."""
    uid = user_id(server.port, user.token)
    assert patch_me(server, user.token, {"timezone": "Australia/Adelaide"}).status == 200
    assert psql(f"SELECT timezone FROM users WHERE id = {uid}") == "Australia/Adelaide"
