"""Cache API backed by Redis: set/get/clear per user, TTLs, stats, health, validation."""

import pytest

from conftest import assert_error, new_user, poll

NS = "job_details"


def cset(server, token, key, value, ns=NS, ttl=None):
    body = {"namespace": ns, "key": key, "value": value}
    if ttl is not None:
        body["ttl"] = ttl
    r = server.post("/api/v1/cache/set", body=body, token=token)
    assert r.status == 200, r
    assert r.body["success"] is True, r.body
    return r.body


def cget(server, token, key, ns=NS):
    r = server.post("/api/v1/cache/get", body={"namespace": ns, "key": key}, token=token)
    assert r.status == 200, r
    assert r.body["namespace"] == ns and r.body["key"] == key, r.body
    assert isinstance(r.body["found"], bool), r.body
    return r.body


def clear(server, token, ns=NS, pattern=None):
    body = {"namespace": ns}
    if pattern is not None:
        body["pattern"] = pattern
    r = server.request("DELETE", "/api/v1/cache/clear", body=body, token=token)
    assert r.status == 200, r
    assert r.body["success"] is True and r.body["namespace"] == ns, r.body
    return r.body["keys_deleted"]


VALUES = [
    {"title": "Engineer", "salary": {"min": 100000, "max": 150000.5},
     "tags": ["c", "libuv"], "remote": True, "notes": None, "city": "Zürich 🚀"},
    [1, "two", 3.5, False, None],
    "plain string",
    42,
    0,
    None,
    False,
]


@pytest.mark.parametrize("value", VALUES, ids=[type(v).__name__ for v in VALUES])
def test_set_then_get_round_trips(server, user, value):
    cset(server, user.token, "round-trip", value)
    got = cget(server, user.token, "round-trip")
    assert got["found"] is True, got
    assert got["value"] == value, got


def test_missing_key(server, user):
    got = cget(server, user.token, "never-set")
    assert got["found"] is False and got.get("value") is None, got


def test_keys_are_private_per_user(server):
    a, b = new_user("ca"), new_user("cb")
    cset(server, a.token, "shared-name", {"owner": "a"})
    assert cget(server, b.token, "shared-name")["found"] is False
    cset(server, b.token, "shared-name", {"owner": "b"})
    assert cget(server, a.token, "shared-name")["value"] == {"owner": "a"}
    assert cget(server, b.token, "shared-name")["value"] == {"owner": "b"}
    assert clear(server, b.token) == 1
    assert cget(server, a.token, "shared-name")["value"] == {"owner": "a"}


def test_overwrite(server, user):
    cset(server, user.token, "k", 1)
    cset(server, user.token, "k", 2)
    assert cget(server, user.token, "k")["value"] == 2


def test_ttl_expires(server, user):
    cset(server, user.token, "short", "soon gone", ttl=1)
    cset(server, user.token, "long", "stays", ttl=3600)
    assert cget(server, user.token, "short")["found"] is True
    poll(lambda: cget(server, user.token, "short")["found"] is False, timeout=15,
         interval=0.25, what="a 1 s TTL to expire")
    assert cget(server, user.token, "long")["found"] is True


def test_clear_namespace_and_pattern(server):
    u = new_user("clr")
    for key in ("a1", "a2", "b1"):
        cset(server, u.token, key, key)
    cset(server, u.token, "a3", "other namespace", ns="company_research")
    assert clear(server, u.token, pattern="a*") == 2
    assert cget(server, u.token, "a1")["found"] is False
    assert cget(server, u.token, "a2")["found"] is False
    assert cget(server, u.token, "b1")["found"] is True
    assert clear(server, u.token) == 1
    assert cget(server, u.token, "b1")["found"] is False
    assert cget(server, u.token, "a3", ns="company_research")["found"] is True
    assert clear(server, u.token) == 0


def test_clear_by_post(server):
    u = new_user("clrpost")
    cset(server, u.token, "p1", 1)
    cset(server, u.token, "p2", 2)
    r = server.post("/api/v1/cache/clear", body={"namespace": NS}, token=u.token)
    assert r.status == 200, r
    assert r.body["success"] is True and r.body["keys_deleted"] == 2, r.body
    assert cget(server, u.token, "p1")["found"] is False


STATS_KEYS = ("hits", "misses", "sets", "deletes", "total_requests", "hit_rate_percent",
              "backend", "redis_available")


def stats(server, token):
    r = server.get("/api/v1/cache/stats", token=token)
    assert r.status == 200, r
    for key in STATS_KEYS:
        assert key in r.body, (key, r.body)
    return r.body


def test_stats_count_operations(server, user):
    before = stats(server, user.token)
    assert before["backend"] == "redis" and before["redis_available"] is True, before
    cset(server, user.token, "st", 1)
    cget(server, user.token, "st")
    cget(server, user.token, "st-missing")
    after = stats(server, user.token)
    assert after["sets"] == before["sets"] + 1, (before, after)
    assert after["hits"] == before["hits"] + 1, (before, after)
    assert after["misses"] == before["misses"] + 1, (before, after)
    assert after["total_requests"] > before["total_requests"], (before, after)
    assert 0 <= after["hit_rate_percent"] <= 100
    if after["hits"] + after["misses"]:
        expected = 100.0 * after["hits"] / (after["hits"] + after["misses"])
        assert abs(after["hit_rate_percent"] - expected) < 0.51, after


def test_cache_health(server, user):
    r = server.get("/api/v1/cache/health", token=user.token)
    assert r.status == 200, r
    assert r.body["status"] == "healthy", r.body
    assert r.body["redis_available"] is True and r.body["backend"] == "redis", r.body


def namespace_names(body):
    items = body.get("namespaces", body) if isinstance(body, dict) else body
    if isinstance(items, dict):
        return set(items)
    return {i["name"] if isinstance(i, dict) else i for i in items}


def test_namespaces(server, user):
    r = server.get("/api/v1/cache/namespaces", token=user.token)
    assert r.status == 200, r
    names = namespace_names(r.body)
    assert {"job_details", "company_research"} <= names, r.body


def test_unknown_namespace_422(server, user):
    r = server.post("/api/v1/cache/set", token=user.token,
                    body={"namespace": "no_such_ns", "key": "k", "value": 1})
    assert_error(r, 422, "invalid_field", field="namespace")
    r = server.post("/api/v1/cache/get", token=user.token,
                    body={"namespace": "no_such_ns", "key": "k"})
    assert_error(r, 422, "invalid_field", field="namespace")
    r = server.request("DELETE", "/api/v1/cache/clear", token=user.token,
                       body={"namespace": "no_such_ns"})
    assert_error(r, 422, "invalid_field", field="namespace")


def test_missing_key_field_names_it(server, user):
    r = server.post("/api/v1/cache/set", token=user.token, body={"namespace": NS, "value": 1})
    assert r.status in (400, 422), r
    assert r.body["error"]["field"] == "key", r.body


def test_cache_needs_auth(server):
    for method, path in (("GET", "/api/v1/cache/stats"), ("GET", "/api/v1/cache/health"),
                         ("GET", "/api/v1/cache/namespaces")):
        assert_error(server.request(method, path), 401, "unauthorized")
