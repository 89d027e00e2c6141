"""Public endpoints: root, health, integrations health, metrics."""

import datetime
import re

import pytest

from conftest import ServerFactory, poll, run_cli

NODE_ID = "it-node-02"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    factory = ServerFactory(tmp_path_factory.mktemp("server"))
    yield factory(args=["--node_id", NODE_ID])
    factory.stop_all()


@pytest.mark.parametrize("path", ["/", "/?x=1"])
def test_root(server, path):
    r = server.get(path)
    assert r.status == 200, r
    assert r.header("content-type").startswith("application/json")
    assert r.body["message"] == "Job Automation System API"
    assert r.body["status"] == "running"


@pytest.mark.parametrize("path", ["/health", "/health/"])
def test_health_healthy(server, path):
    r = server.get(path)
    assert r.status == 200, r
    assert r.body["status"] == "healthy", r.body
    assert r.body["database"]["connected"] is True, r.body
    assert isinstance(r.body["database"]["status"], str)
    assert r.body["redis"]["connected"] is True, r.body
    assert isinstance(r.body["redis"]["status"], str)


@pytest.mark.parametrize("path", ["/api/v1/integrations/health",
                                  "/api/v1/integrations/health/"])
def test_integrations_health(server, path):
    r = server.get(path)
    assert r.status == 200, r
    b = r.body
    assert b["status"] == "healthy", b
    assert b["node_id"] == NODE_ID
    version = run_cli("version").stdout
    assert isinstance(b["version"], str) and b["version"] and b["version"] in version, \
        (b["version"], version)
    assert isinstance(b["uptime_s"], (int, float)) and 0 <= b["uptime_s"] < 3600

    checks = b["checks"]
    db = checks["database"]
    assert db["status"] == "up" and db["connected"] is True, db
    assert isinstance(db["latency_ms"], (int, float)) and db["latency_ms"] >= 0, db
    assert isinstance(db["pool"], dict), db
    assert checks["redis"]["status"] == "up" and checks["redis"]["connected"] is True
    ws = checks["websocket"]
    assert ws["status"] == "up" and ws["connections"] == 0, ws
    sched = checks["scheduler"]
    assert sched["status"] == "up", sched
    assert isinstance(sched["last_tick_ms_ago"], int) and sched["last_tick_ms_ago"] >= 0

    today = b["today"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", today["date"]), today
    utc_today = datetime.datetime.now(datetime.timezone.utc).date()
    assert abs((datetime.date.fromisoformat(today["date"]) - utc_today).days) <= 1, today
    for key in ("jobs_processed", "followups_scheduled", "calendar_events_created",
                "websocket_events_sent"):
        assert isinstance(today[key], int) and today[key] >= 0, (key, today)


def test_uptime_grows(server):
    first = server.get("/api/v1/integrations/health").body["uptime_s"]

    def later():
        return server.get("/api/v1/integrations/health").body["uptime_s"] > first
    poll(later, timeout=10, interval=0.2, what="uptime_s to grow")


def metric_samples(text, name):
    """Sum of the samples of a counter family in Prometheus text."""
    total = 0.0
    seen = False
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        assert m, f"not a Prometheus sample line: {line!r}"
        if m.group(1) == name:
            seen = True
            total += float(m.group(3))
    assert seen, f"no {name} samples in:\n{text[:2000]}"
    return total


def test_metrics(server):
    r = server.get("/metrics")
    assert r.status == 200, r
    ctype = r.header("content-type")
    assert ctype.startswith("text/plain") and "version=0.0.4" in ctype, ctype
    assert isinstance(r.body, str)
    assert re.search(r"^# TYPE hirewire_http_requests_total counter$", r.body, re.M), r.body[:2000]
    before = metric_samples(r.body, "hirewire_http_requests_total")
    for _ in range(3):
        assert server.get("/health").status == 200
    after = metric_samples(server.get("/metrics/").body, "hirewire_http_requests_total")
    assert after >= before + 3, (before, after)


def test_public_endpoints_need_no_token(server):
    for path in ("/", "/health", "/api/v1/integrations/health", "/metrics"):
        r = server.get(path)
        assert r.status == 200, (path, r)
