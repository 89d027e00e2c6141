"""PostgreSQL goes away under a running server and comes back: answers stay
fast (503, never a hang), health says unhealthy, and the server recovers on
its own."""

import time

from conftest import assert_error, new_user, poll, services

# Each request must be answered well within this, PostgreSQL down or not.
FAST_S = 5.0
RECOVERY_S = 20.0


def timed(fn):
    t0 = time.monotonic()
    r = fn()
    return r, time.monotonic() - t0


def test_postgres_down_and_back(start_server):
    srv = start_server()
    u = new_user("pg")
    assert srv.get("/api/v1/me", token=u.token).status == 200

    services("pg-stop")
    try:
        def unavailable():
            r, dt = timed(lambda: srv.get("/api/v1/me", token=u.token, timeout=FAST_S * 3))
            assert dt < FAST_S, f"/api/v1/me took {dt:.1f} s with PostgreSQL down"
            assert r.status in (200, 503), r
            return r if r.status == 503 else None

        r = poll(unavailable, timeout=15, interval=0.2, what="503 with PostgreSQL down")
        assert_error(r, 503, "unavailable")

        for path in ("/api/v1/me", "/api/v1/cache/stats"):
            r, dt = timed(lambda: srv.get(path, token=u.token, timeout=FAST_S * 3))
            assert dt < FAST_S, (path, dt)
            assert_error(r, 503, "unavailable")
        r, dt = timed(lambda: srv.get(f"/u/{u.token}/api/v1/me", timeout=FAST_S * 3))
        assert dt < FAST_S
        assert_error(r, 503, "unavailable")

        r, dt = timed(lambda: srv.get("/health", timeout=FAST_S * 3))
        assert dt < FAST_S
        assert r.status == 503, r
        assert r.body["status"] == "unhealthy", r.body
        assert r.body["database"]["connected"] is False, r.body

        r, dt = timed(lambda: srv.get("/api/v1/integrations/health", timeout=FAST_S * 3))
        assert dt < FAST_S
        assert r.status == 503, r
        assert r.body["status"] == "unhealthy", r.body
        assert r.body["checks"]["database"]["status"] == "down", r.body
        assert r.body["checks"]["database"]["connected"] is False, r.body

        assert srv.get("/").status == 200
        assert srv.get("/metrics").status == 200
        assert srv.proc.poll() is None, "hirewire exited while PostgreSQL was down"
    finally:
        services("pg-start")

    def recovered():
        r = srv.get("/api/v1/me", token=u.token, timeout=FAST_S * 3)
        return r if r.status == 200 else None

    r = poll(recovered, timeout=RECOVERY_S, interval=0.2,
             what="/api/v1/me to answer 200 after PostgreSQL came back")
    assert r.body["name"] == u.name

    r = poll(lambda: (lambda h: h if h.status == 200 else None)(
        srv.get("/api/v1/integrations/health")), timeout=RECOVERY_S, what="health 200")
    assert r.body["status"] == "healthy", r.body
    assert r.body["checks"]["database"]["status"] == "up"
    assert r.body["checks"]["database"]["connected"] is True
    h = srv.get("/health")
    assert h.status == 200 and h.body["status"] == "healthy", h

    # A token made while the server was cut off works too: nothing is stale.
    v = new_user("pg-after")
    assert srv.get("/api/v1/me", token=v.token).body["name"] == v.name
    srv.stop_clean()
