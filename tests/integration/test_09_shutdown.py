"""Start-up and shutdown: SIGTERM and SIGINT stop cleanly (exit 0, no leak
report under LeakSanitizer) with and without clients connected; a second
signal exits at once; a taken port is a clear error."""

import http.client
import json
import os
import signal
import socket
import subprocess
import time

from conftest import HTTP_TIMEOUT_S, SANITIZER_MARKERS, new_user, poll, run_cli
from dbutil import psql

STOP_S = 20.0
# src/app.c DRAIN_MAX_MS: how long a graceful stop waits for requests in flight.
DRAIN_MAX_S = 10.0
# How long the test may hold a row lock; it ends it itself well before.
HOLD_S = 120


def test_sigterm_after_traffic(start_server):
    srv = start_server()
    u = new_user("stop")
    assert srv.get("/health").status == 200
    assert srv.get("/api/v1/me", token=u.token).status == 200
    assert srv.post("/api/v1/cache/set", token=u.token,
                    body={"namespace": "job_details", "key": "s", "value": 1}).status == 200
    t0 = time.monotonic()
    srv.stop_clean(signal.SIGTERM, timeout=STOP_S)
    assert time.monotonic() - t0 < STOP_S


def test_sigint(start_server):
    srv = start_server()
    assert srv.get("/").status == 200
    srv.stop_clean(signal.SIGINT, timeout=STOP_S)


def test_sigterm_with_idle_keepalive_connections(start_server):
    srv = start_server()
    conns = []
    try:
        for _ in range(5):
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=HTTP_TIMEOUT_S)
            c.request("GET", "/health")
            r = c.getresponse()
            r.read()
            assert r.status == 200
            conns.append(c)
        srv.stop_clean(signal.SIGTERM, timeout=STOP_S)
    finally:
        for c in conns:
            c.close()


def test_sigterm_with_a_request_half_sent(start_server):
    srv = start_server(args=["--http_timeout_s", "5"])
    u = new_user("half")
    body = json.dumps({"namespace": "job_details", "key": "h", "value": 1}).encode()
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=HTTP_TIMEOUT_S)
    try:
        s.sendall((f"POST /api/v1/cache/set HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   f"Authorization: Bearer {u.token}\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {len(body)}\r\n\r\n").encode() + body[:5])
        # The server has the headers: make sure it is still serving others.
        assert srv.get("/health").status == 200
        srv.stop_clean(signal.SIGTERM, timeout=STOP_S)
    finally:
        s.close()


def test_listener_is_released(start_server):
    srv = start_server()
    srv.stop_clean()
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", srv.port))


def test_second_signal_exits_at_once(start_server):
    """A request is held in flight (its token's row is locked in PostgreSQL)
    so that the first SIGTERM has something to drain, for up to DRAIN_MAX_S;
    the second one, sent once the first is being handled, must end the
    process at once with the hard-exit status (src/main.c: _exit(1))."""
    srv = start_server()
    u = new_user("hard")
    assert srv.get("/health").status == 200
    marker = f"hold-{u.name}"
    holder = subprocess.Popen(
        ["psql", os.environ["HIREWIRE_PG_CONNINFO"], "-At", "-v", "ON_ERROR_STOP=1", "-c",
         f"/* {marker} */ SELECT 1 FROM api_tokens t JOIN users u ON u.id = t.user_id "
         f"WHERE u.name = '{u.name}' FOR UPDATE OF t; SELECT pg_sleep({HOLD_S})"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    s = None
    try:
        # The row lock is taken once the holder has reached its pg_sleep.
        poll(lambda: psql(f"SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                          f"'%{marker}%' AND wait_event = 'PgSleep'") == "1",
             STOP_S, what="the token's row to be locked")
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=HTTP_TIMEOUT_S)
        s.sendall((f"GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   f"Authorization: Bearer {u.token}\r\n\r\n").encode())
        # The server's token check (it records the use) waits for the lock.
        poll(lambda: psql("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                          "AND query LIKE '%UPDATE api_tokens SET last_used_at%'") == "1",
             STOP_S, what="the request to wait for the lock")

        srv.send(signal.SIGTERM)
        poll(lambda: "send it again to exit at once" in srv.stderr(), STOP_S,
             what="the first signal to be handled")
        assert srv.proc.poll() is None, srv.stderr_tail()
        t0 = time.monotonic()
        srv.send(signal.SIGTERM)
        rc = srv.wait(timeout=STOP_S)
        took = time.monotonic() - t0
    finally:
        if s is not None:
            s.close()
        psql(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
             f"WHERE query LIKE '%{marker}%' AND pid <> pg_backend_pid()")
        try:
            holder.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()
    assert rc == 1, (rc, srv.stderr_tail())
    # Far less than the drain it cut short; generous for a loaded machine.
    assert took < DRAIN_MAX_S / 2, (took, srv.stderr_tail())
    err = srv.stderr()
    assert "second signal" in err, srv.stderr_tail()
    # No orderly stop: neither the drain's end nor the teardown ran.
    assert "still unanswered" not in err, srv.stderr_tail()
    assert 'msg="stopped"' not in err, srv.stderr_tail()
    assert "runtime error:" not in srv.stderr()
    assert "ERROR: AddressSanitizer" not in srv.stderr()


def test_port_in_use_is_a_clear_error(start_server):
    srv = start_server()
    proc = run_cli("serve", "--port", srv.port, timeout=30)
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert str(srv.port) in proc.stderr or "in use" in proc.stderr.lower(), proc.stderr
    for marker in SANITIZER_MARKERS:
        assert marker not in proc.stderr, proc.stderr
    assert srv.get("/health").status == 200
