"""Redis goes away under a running server and comes back; and a server run
without Redis at all. The cache keeps working from memory meanwhile."""

from conftest import base_env, new_user, poll, services

RECOVERY_S = 20.0


def integrations(srv):
    r = srv.get("/api/v1/integrations/health")
    assert r.status == 200, r
    return r.body


def cache_roundtrip(srv, token, key, value):
    r = srv.post("/api/v1/cache/set", token=token,
                 body={"namespace": "job_details", "key": key, "value": value})
    assert r.status == 200 and r.body["success"] is True, r
    r = srv.post("/api/v1/cache/get", token=token, body={"namespace": "job_details", "key": key})
    assert r.status == 200, r
    assert r.body["found"] is True and r.body["value"] == value, r.body


def test_redis_down_and_back(start_server):
    srv = start_server()
    u = new_user("redis")
    b = integrations(srv)
    assert b["status"] == "healthy" and b["checks"]["redis"]["status"] == "up", b
    cache_roundtrip(srv, u.token, "before", {"n": 1})

    services("redis-stop")
    try:
        b = poll(lambda: (lambda x: x if x["status"] == "degraded" else None)(integrations(srv)),
                 timeout=RECOVERY_S, interval=0.2, what="degraded with Redis down")
        assert b["checks"]["redis"]["status"] == "down", b
        assert b["checks"]["redis"]["connected"] is False, b
        assert b["checks"]["database"]["status"] == "up", b

        h = srv.get("/health")
        assert h.status == 200, h
        assert h.body["status"] == "degraded" and h.body["redis"]["connected"] is False, h.body

        cache_roundtrip(srv, u.token, "during", [1, 2, 3])
        s = srv.get("/api/v1/cache/stats", token=u.token)
        assert s.status == 200, s
        assert s.body["backend"] == "memory" and s.body["redis_available"] is False, s.body
        c = srv.get("/api/v1/cache/health", token=u.token)
        assert c.status == 200, c
        assert c.body["status"] == "degraded", c.body
        assert c.body["backend"] == "memory" and c.body["redis_available"] is False, c.body

        assert srv.get("/api/v1/me", token=u.token).status == 200
        assert srv.proc.poll() is None, "hirewire exited while Redis was down"
    finally:
        services("redis-start")

    b = poll(lambda: (lambda x: x if x["status"] == "healthy" else None)(integrations(srv)),
             timeout=RECOVERY_S, interval=0.2, what="healthy after Redis came back")
    assert b["checks"]["redis"]["status"] == "up" and b["checks"]["redis"]["connected"] is True
    c = srv.get("/api/v1/cache/health", token=u.token)
    assert c.body["status"] == "healthy" and c.body["backend"] == "redis", c.body
    cache_roundtrip(srv, u.token, "after", "back")
    srv.stop_clean()


def test_without_redis(start_server):
    srv = start_server(env=base_env(HIREWIRE_REDIS_HOST=""))
    u = new_user("noredis")
    b = integrations(srv)
    assert b["status"] == "degraded", b
    assert b["checks"]["redis"]["status"] == "disabled", b
    assert b["checks"]["redis"]["connected"] is False, b
    assert b["checks"]["database"]["status"] == "up", b
    cache_roundtrip(srv, u.token, "mem", {"ok": True})
    s = srv.get("/api/v1/cache/stats", token=u.token).body
    assert s["backend"] == "memory" and s["redis_available"] is False, s
    srv.stop_clean()
